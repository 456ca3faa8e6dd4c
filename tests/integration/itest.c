/*
 * itest.c: start/stop the real daemon for a test and talk to it over TLS.
 *
 * Responsible for temporary state (directory, certificates, config, notify socket),
 * the daemon process (bounded waits, kill -9 and cleanup at exit, also when an
 * assertion fails) and a small TLS client. Not a test by itself.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/rand.h>

#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  10000

static struct itest *cleanup_target;

#define MAX_CHILDREN 128
static pid_t children[MAX_CHILDREN];

/*
 * The daemon's notify datagrams are read by a thread as they come and queued here, so
 * that the daemon never waits for the test (a Unix datagram socket holds 10 unread
 * messages; sd_notify() blocks on the 11th, and a test busy for a minute would stall the
 * daemon's loop). itest_notify_recv() takes them in order, as from the socket.
 */
static struct {
	pthread_t thr;
	bool running;
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char **msg; /* queue: msg[head..n) are unread */
	size_t head, n, cap;
} nq = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1};

static void *
notify_reader(void *arg)
{
	char buf[1024];

	(void)arg;
	for (;;) {
		struct pollfd p = {.fd = nq.fd, .events = POLLIN};
		ssize_t n;
		char *m;

		pthread_mutex_lock(&nq.mu);
		if (!nq.running) {
			pthread_mutex_unlock(&nq.mu);
			return NULL;
		}
		pthread_mutex_unlock(&nq.mu);
		if (poll(&p, 1, 50) <= 0 || (n = recv(nq.fd, buf, sizeof(buf) - 1, 0)) <= 0)
			continue;
		buf[n] = '\0';
		if ((m = strdup(buf)) == NULL)
			continue;
		pthread_mutex_lock(&nq.mu);
		if (nq.n == nq.cap) {
			size_t cap = nq.cap ? 2 * nq.cap : 64;
			char **v = realloc(nq.msg, cap * sizeof(*v));
			if (v == NULL) {
				free(m);
				pthread_mutex_unlock(&nq.mu);
				continue;
			}
			nq.msg = v;
			nq.cap = cap;
		}
		nq.msg[nq.n++] = m;
		pthread_cond_broadcast(&nq.cv);
		pthread_mutex_unlock(&nq.mu);
	}
}

static void
notify_reader_start(int fd)
{
	nq.fd = fd;
	nq.running = true;
	ck_assert_int_eq(pthread_create(&nq.thr, NULL, notify_reader, NULL), 0);
}

static void
notify_reader_stop(void)
{
	pthread_mutex_lock(&nq.mu);
	if (!nq.running) {
		pthread_mutex_unlock(&nq.mu);
		return;
	}
	nq.running = false;
	pthread_mutex_unlock(&nq.mu);
	pthread_join(nq.thr, NULL);
	for (size_t i = nq.head; i < nq.n; i++)
		free(nq.msg[i]);
	free(nq.msg);
	nq.msg = NULL;
	nq.head = nq.n = nq.cap = 0;
	nq.fd = -1;
}

int64_t
itest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
itest_cleanup(void)
{
	struct itest *t = cleanup_target;

	for (size_t i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
	if (t == NULL)
		return;
	cleanup_target = NULL;
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	notify_reader_stop();
	if (t->notify_fd >= 0)
		close(t->notify_fd);
	if (t->dir[0] != '\0')
		nftw(t->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned
rnd(unsigned lo, unsigned hi)
{
	unsigned v;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (unsigned)getpid() ^ (unsigned)time(NULL);
	return lo + v % (hi - lo + 1);
}

static void
run_mkcerts(const char *dir)
{
	const char *mk = getenv("SW_MKCERTS");
	pid_t pid;
	int st;

	ck_assert_msg(mk != NULL, "SW_MKCERTS not set");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(mk, mk, dir, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mkcerts failed");
}

void
itest_write_conf(struct itest *t, const struct itest_opts *o)
{
	static const struct itest_opts defaults;
	/* a rewrite keeps the media ports: they are bound at start (a reload refuses a move) */
	unsigned pmin = t->media_port_min != 0 ? t->media_port_min : rnd(20000, 50000) & ~1u;
	unsigned mms;
	FILE *f;

	if (o == NULL)
		o = &defaults;
	mms = o->max_message_size ? o->max_message_size : 8192;
	f = fopen(t->conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[general]\nlog_level = debug\n%s\n", o->general_extra ? o->general_extra : "");
	fprintf(f, "[tls]\nlisten = %s:%u\n", t->ip, t->port);
	fprintf(f,
	        "certificate = %s/server.crt\nprivate_key = %s/server.key\nca_file = %s/ca.crt\n",
	        t->dir, t->dir, t->dir);
	if (o->min_version != NULL)
		fprintf(f, "min_version = %s\n", o->min_version);
	fprintf(f, "handshake_timeout = %s\n",
	        o->handshake_timeout != NULL ? o->handshake_timeout : "2s");
	fprintf(f, "idle_timeout = %s\n", o->idle_timeout != NULL ? o->idle_timeout : "30s");
	fprintf(f, "max_connections = %u\n\n", o->max_connections ? o->max_connections : 64);
	fprintf(f, "[sip]\nmax_message_size = %u\nmax_headers = %u\nmax_line_length = %u\n%s\n",
	        mms, o->max_headers ? o->max_headers : 64,
	        o->max_line_length ? o->max_line_length : (mms < 4096 ? mms : 4096),
	        o->sip_extra ? o->sip_extra : "");
	t->media_port_min = (uint16_t)pmin;
	t->media_port_max = (uint16_t)(pmin + (o->media_ports ? o->media_ports : 1000) - 1);
	fprintf(f, "[media]\naddress = %s\nport_min = %u\nport_max = %u\nworkers = 1\n%s\n", t->ip,
	        pmin, t->media_port_max, o->media_extra ? o->media_extra : "");
	fprintf(f, "[telemetry]\nsocket = %s\ncontrol_socket = %s\n%s\n", t->tel_path, t->ctl_path,
	        o->telemetry_extra ? o->telemetry_extra : "");
	fprintf(f, "[trunk itest]\nsource = %s\n%s\n",
	        o->trunk_source ? o->trunk_source : "127.0.0.0/8",
	        o->trunk_extra ? o->trunk_extra : "");
	if (o->agents != NULL)
		fprintf(f, "%s\n", o->agents);
	else
		fprintf(f,
		        "[agent itest]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n",
		        t->agent_ip, t->agent_port);
	if (o->agents == NULL && o->agent_pin) {
		char path[256], fp[65];
		itest_cert_sha256(itest_path(t, "agent.crt", path, sizeof(path)), fp);
		fprintf(f, "fingerprint = %s\n", fp);
	}
	fprintf(f, "\n");
	if (o->extra != NULL)
		fprintf(f, "%s\n", o->extra);
	ck_assert_int_eq(fclose(f), 0);
}

bool
itest_wait_notify(struct itest *t, const char *what, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	char buf[1024];

	for (;;) {
		int64_t left = end - itest_now_ms();

		if (left <= 0)
			return false;
		if (itest_notify_recv(t, buf, sizeof(buf), left > 100 ? 100 : (int)left) > 0 &&
		    strstr(buf, what) != NULL)
			return true;
		if (t->pid > 0 && strcmp(what, "READY=1") == 0 && !itest_alive(t))
			return false;
	}
}

void
itest_start(struct itest *t, const struct itest_opts *o)
{
	static const struct itest_opts defaults;
	const char *daemon;
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char notify_path[256], wd[32];

	if (o == NULL)
		o = &defaults;
	daemon = getenv(o->test_hooks ? "SW_DAEMON_HOOKS" : "SW_DAEMON");
	signal(SIGPIPE, SIG_IGN); /* the daemon closing on us must not kill the test */
	memset(t, 0, sizeof(*t));
	t->notify_fd = -1;
	ck_assert_msg(daemon != NULL, "%s not set",
	              o->test_hooks ? "SW_DAEMON_HOOKS" : "SW_DAEMON");
	snprintf(t->dir, sizeof(t->dir), "%s/sw-itest-XXXXXX", tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	cleanup_target = t;
	{
		static bool registered;
		if (!registered)
			atexit(itest_cleanup);
		registered = true;
	}
	run_mkcerts(t->dir);
	snprintf(t->ip, sizeof(t->ip), "127.%u.%u.%u", rnd(1, 254), rnd(0, 255), rnd(1, 254));
	t->port = (uint16_t)rnd(20000, 60000);
	snprintf(t->agent_ip, sizeof(t->agent_ip), "127.%u.%u.%u", rnd(1, 254), rnd(0, 255),
	         rnd(1, 254));
	t->agent_port = itest_port();
	snprintf(t->tel_path, sizeof(t->tel_path), "%s/tel.sock", t->dir);
	snprintf(t->ctl_path, sizeof(t->ctl_path), "%s/ctl.sock", t->dir);
	snprintf(t->conf_path, sizeof(t->conf_path), "%s/sipwarden.conf", t->dir);
	itest_write_conf(t, o);

	snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", t->dir);
	ck_assert_uint_lt(strlen(notify_path), sizeof(sun.sun_path));
	strcpy(sun.sun_path, notify_path);
	t->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(t->notify_fd, 0);
	ck_assert_int_eq(bind(t->notify_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);

	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (o->log_file) {
			char log[256];
			int fd;
			snprintf(log, sizeof(log), "%s/daemon.log", t->dir);
			fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
				_exit(126);
			if (o->journal) {
				struct stat st;
				char js[64];
				if (fstat(fd, &st) != 0)
					_exit(126);
				snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
				         (unsigned long long)st.st_ino);
				setenv("JOURNAL_STREAM", js, 1);
			}
		}
		if (o->nofile != 0) {
			struct rlimit rl = {o->nofile, o->nofile_hard ? o->nofile_hard : o->nofile};
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				_exit(125);
		}
		setenv("NOTIFY_SOCKET", notify_path, 1);
		if (o->watchdog_usec != 0) {
			snprintf(wd, sizeof(wd), "%lu", o->watchdog_usec);
			setenv("WATCHDOG_USEC", wd, 1);
		}
		execl(daemon, daemon, "-c", t->conf_path, (char *)NULL);
		_exit(127);
	}
	notify_reader_stop(); /* one daemon at a time per test process */
	notify_reader_start(t->notify_fd);
	ck_assert_msg(itest_wait_notify(t, "READY=1", READY_TIMEOUT_MS),
	              "daemon did not send READY=1 within %d ms", READY_TIMEOUT_MS);
}

bool
itest_alive(struct itest *t)
{
	int st;

	if (t->pid <= 0)
		return false;
	return waitpid(t->pid, &st, WNOHANG) == 0;
}

void
itest_stop(struct itest *t)
{
	ck_assert_int_gt(t->pid, 0);
	ck_assert_int_eq(kill(t->pid, SIGTERM), 0);
	itest_wait_exit(t, STOP_TIMEOUT_MS);
}

int
itest_notify_recv(struct itest *t, char *buf, size_t cap, int timeout_ms)
{
	struct timespec until;
	char *m = NULL;
	size_t len;

	if (cap == 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&nq.mu);
	while (nq.head == nq.n && pthread_cond_timedwait(&nq.cv, &nq.mu, &until) == 0)
		;
	if (nq.head < nq.n)
		m = nq.msg[nq.head++];
	pthread_mutex_unlock(&nq.mu);
	if (m == NULL)
		return -1;
	len = strlen(m) < cap - 1 ? strlen(m) : cap - 1;
	memcpy(buf, m, len);
	buf[len] = '\0';
	free(m);
	if (strstr(buf, "STOPPING=1") != NULL)
		t->saw_stopping = true;
	return (int)len;
}

void
itest_wait_exit(struct itest *t, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	int st = 0;
	pid_t r = 0;
	bool stopping;

	ck_assert_int_gt(t->pid, 0);
	while (itest_now_ms() < end && (r = waitpid(t->pid, &st, WNOHANG)) == 0)
		usleep(10000);
	if (r != t->pid) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
		ck_abort_msg("daemon did not exit within %d ms of SIGTERM", timeout_ms);
	}
	t->pid = 0;
	stopping = t->saw_stopping || itest_wait_notify(t, "STOPPING=1", 100);
	ck_assert_msg(WIFEXITED(st), "daemon died of signal %d", WTERMSIG(st));
	ck_assert_msg(WEXITSTATUS(st) == 0, "daemon exit status %d", WEXITSTATUS(st));
	ck_assert_msg(stopping, "daemon did not send STOPPING=1");
	itest_cleanup();
}

/* A TCP connection to the daemon, from source address `src` (NULL: the kernel's pick). */
static int
connect_fd(const struct itest *t, const char *src)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(t->port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (src != NULL) {
		struct sockaddr_in from = {.sin_family = AF_INET};
		if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0) {
			close(fd);
			return -1;
		}
	}
	inet_pton(AF_INET, t->ip, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

struct itest_conn *
itest_tcp_connect(const struct itest *t)
{
	return itest_tcp_connect_from(t, NULL);
}

struct itest_conn *
itest_tcp_connect_from(const struct itest *t, const char *src)
{
	struct itest_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->fd = connect_fd(t, src)) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Wait for fd readiness per the SSL error; false on timeout or hard error. */
static bool
ssl_wait(struct itest_conn *c, int ret, int64_t end)
{
	int e = SSL_get_error(c->ssl, ret);
	struct pollfd p = {.fd = c->fd};
	int64_t left = end - itest_now_ms();

	if (e == SSL_ERROR_WANT_READ)
		p.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		p.events = POLLOUT;
	else
		return false;
	if (left <= 0)
		return false;
	return poll(&p, 1, (int)left) > 0;
}

struct itest_conn *
itest_tls_connect(const struct itest *t, int min, int max, unsigned long *ssl_err)
{
	return itest_tls_connect_from(t, NULL, min, max, ssl_err);
}

struct itest_conn *
itest_tls_connect_from(const struct itest *t, const char *src, int min, int max,
                       unsigned long *ssl_err)
{
	struct itest_conn *c = itest_tcp_connect_from(t, src);
	int64_t end = itest_now_ms() + 5000;
	char ca[256];
	int r;

	if (ssl_err != NULL)
		*ssl_err = 0;
	if (c == NULL)
		return NULL;
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL)
		goto fail;
	if (min != 0 && min < TLS1_2_VERSION) {
		SSL_CTX_set_security_level(c->ctx, 0);
		SSL_CTX_set_cipher_list(c->ctx, "DEFAULT:@SECLEVEL=0");
	}
	if (min != 0)
		SSL_CTX_set_min_proto_version(c->ctx, min);
	if (max != 0)
		SSL_CTX_set_max_proto_version(c->ctx, max);
	snprintf(ca, sizeof(ca), "%s/ca.crt", t->dir);
	if (SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if ((c->ssl = SSL_new(c->ctx)) == NULL)
		goto fail;
	SSL_set_fd(c->ssl, c->fd);
	while ((r = SSL_connect(c->ssl)) != 1) {
		if (!ssl_wait(c, r, end))
			goto fail;
	}
	return c;
fail:
	if (ssl_err != NULL)
		*ssl_err = ERR_peek_error();
	ERR_clear_error();
	itest_conn_free(c);
	return NULL;
}

void
itest_conn_free(struct itest_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int
itest_send(struct itest_conn *c, const void *buf, size_t len)
{
	int64_t end = itest_now_ms() + 5000;
	const char *p = buf;

	while (len > 0) {
		int n;

		if (c->ssl != NULL) {
			n = SSL_write(c->ssl, p, (int)len);
			if (n <= 0) {
				if (!ssl_wait(c, n, end))
					return -1;
				continue;
			}
		} else {
			n = (int)send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0) {
				struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
				if (errno != EAGAIN || poll(&pf, 1, 1000) <= 0)
					return -1;
				continue;
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
itest_send_str(struct itest_conn *c, const char *s)
{
	return itest_send(c, s, strlen(s));
}

/* Read more bytes into c->buf. >0 bytes, 0 closed, -1 timeout. */
static int
read_some(struct itest_conn *c, int64_t end)
{
	for (;;) {
		size_t room = sizeof(c->buf) - c->len;
		int n;

		if (room == 0)
			return -1;
		if (c->ssl != NULL) {
			n = SSL_read(c->ssl, c->buf + c->len, (int)room);
			if (n > 0) {
				c->len += (size_t)n;
				return n;
			}
			int e = SSL_get_error(c->ssl, n);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				ERR_clear_error();
				return 0; /* close_notify, reset or TLS alert: closed */
			}
			if (!ssl_wait(c, n, end))
				return itest_now_ms() >= end ? -1 : 0;
		} else {
			ssize_t r = recv(c->fd, c->buf + c->len, room, 0);
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			int64_t left;

			if (r > 0) {
				c->len += (size_t)r;
				return (int)r;
			}
			if (r == 0 || errno != EAGAIN)
				return 0;
			left = end - itest_now_ms();
			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				return -1;
		}
	}
}

/* Length of the first complete message in c->buf, or 0. */
static size_t
complete_len(const struct itest_conn *c)
{
	const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	size_t hlen, cl = 0;
	const char *p;

	if (end == NULL)
		return 0;
	hlen = (size_t)(end - c->buf) + 4;
	for (p = c->buf; p < end; p = memchr(p, '\n', (size_t)(end - p)) + 1) {
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			cl = strtoul(p + 15, NULL, 10);
		else if (strncasecmp(p, "l:", 2) == 0)
			cl = strtoul(p + 2, NULL, 10);
		if (memchr(p, '\n', (size_t)(end - p)) == NULL)
			break;
	}
	return c->len >= hlen + cl ? hlen + cl : 0;
}

int
itest_recv_msg(struct itest_conn *c, char *out, size_t cap, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	size_t n;

	/* Skip keep-alive CRLFs. */
	for (;;) {
		while (c->len >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n') {
			memmove(c->buf, c->buf + 2, c->len - 2);
			c->len -= 2;
		}
		if ((n = complete_len(c)) > 0)
			break;
		int r = read_some(c, end);
		if (r <= 0)
			return r;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, c->buf, n);
	out[n] = '\0';
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	return (int)n;
}

int
itest_wait_closed(struct itest_conn *c, int timeout_ms, char *seen, size_t seen_cap)
{
	int64_t end = itest_now_ms() + timeout_ms;
	int r;

	do {
		r = read_some(c, end);
		if (seen != NULL && seen_cap > 0) {
			size_t n = c->len < seen_cap - 1 ? c->len : seen_cap - 1;
			size_t have = strlen(seen);
			if (have + n >= seen_cap)
				n = seen_cap - 1 - have;
			memcpy(seen + have, c->buf, n);
			seen[have + n] = '\0';
		}
		c->len = 0;
	} while (r > 0);
	return r == 0 ? 0 : -1;
}

char *
itest_request(char *out, size_t cap, const char *method, const char *callid, unsigned cseq)
{
	snprintf(out, cap,
	         "%s sip:sipwarden@127.0.0.1 SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s%u\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:itest@127.0.0.1>;tag=itest%u\r\n"
	         "To: <sip:sipwarden@127.0.0.1>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: %u %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         method, callid, cseq, cseq, callid, cseq, method);
	return out;
}

char *
itest_options(char *out, size_t cap, const char *callid, unsigned cseq)
{
	return itest_request(out, cap, "OPTIONS", callid, cseq);
}

int
itest_status(const char *msg)
{
	int code;

	if (msg == NULL || strncmp(msg, "SIP/2.0 ", 8) != 0)
		return -1;
	if (sscanf(msg + 8, "%3d", &code) != 1)
		return -1;
	return code;
}

const char *
itest_header(const char *msg, const char *name, char *val, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = msg, *end = strstr(msg, "\r\n\r\n");

	if (end == NULL)
		end = msg + strlen(msg);
	while (p != NULL && p < end) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			eol = end;
		if (strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == ':') {
				size_t n;
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				n = (size_t)(eol - v);
				if (n >= cap)
					n = cap - 1;
				memcpy(val, v, n);
				val[n] = '\0';
				return val;
			}
		}
		p = eol + 2;
	}
	return NULL;
}

char *
itest_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

uint16_t
itest_port(void)
{
	return (uint16_t)(rnd(20000, 60000) & ~1u);
}

char *
itest_path(const struct itest *t, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", t->dir, name);
	return buf;
}

static void
child_forget(pid_t pid)
{
	for (size_t i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

pid_t
itest_spawn(const char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid;
	size_t slot;

	for (slot = 0; slot < MAX_CHILDREN && children[slot] > 0; slot++)
		;
	ck_assert_msg(slot < MAX_CHILDREN, "too many children");
	static bool registered;

	signal(SIGPIPE, SIG_IGN);
	if (!registered)
		atexit(itest_cleanup);
	registered = true;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int out =
		        open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err =
		        open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	children[slot] = pid;
	return pid;
}

int
itest_wait_child(pid_t pid, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	int st = 0;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && itest_now_ms() < end)
		usleep(10000);
	if (r != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		child_forget(pid);
		return -1;
	}
	child_forget(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
itest_kill_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (itest_wait_child(pid, 2000) < 0)
		child_forget(pid);
}

int
itest_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

json_int_t
itest_stat(const struct itest *t, const char *group, const char *key)
{
	char *reply = itest_control(t, "{\"cmd\":\"stats\"}", 3000);
	json_t *j, *v;
	json_int_t n;

	ck_assert_ptr_nonnull(reply);
	j = json_loads(reply, 0, NULL);
	ck_assert_msg(j != NULL, "stats reply is not JSON: %s", reply);
	v = json_object_get(json_object_get(j, group), key);
	ck_assert_msg(json_is_integer(v), "stats has no %s.%s: %s", group, key, reply);
	n = json_integer_value(v);
	json_decref(j);
	free(reply);
	return n;
}

bool
itest_file_has(const struct itest *t, const char *name, const char *needle)
{
	char path[256];
	size_t len;
	char *data = itest_read_file(itest_path(t, name, path, sizeof(path)), &len);
	bool found = data != NULL && strstr(data, needle) != NULL;

	free(data);
	return found;
}

int
itest_agent_calls(const struct itest *t, const char *out, const char *dial, int timeout_ms)
{
	char to[128], ca[256], cert[256], key[256], outp[256], errp[272];
	const char *argv[] = {getenv("SW_PEER"), "call",      "--to",       to,   "--ca",   ca,
	                      "--tls-name",      "localhost", "--cert",     cert, "--key",  key,
	                      "--calls",         "1",         "--duration", "2",  "--json", NULL};

	snprintf(to, sizeof(to), "sip:%s@%s:%u", dial, t->ip, t->port);
	itest_path(t, "ca.crt", ca, sizeof(ca));
	itest_path(t, "agent.crt", cert, sizeof(cert));
	itest_path(t, "agent.key", key, sizeof(key));
	itest_path(t, out, outp, sizeof(outp));
	snprintf(errp, sizeof(errp), "%s.log", outp);
	return itest_wait_child(itest_spawn(argv, outp, errp), timeout_ms);
}

void
itest_wait_calls(const struct itest *t, int count, const char *also, int timeout_ms)
{
	char want[32], *reply = NULL;
	int64_t end = itest_now_ms() + timeout_ms;
	bool ok = false;

	snprintf(want, sizeof(want), "\"count\":%d", count);
	while (!ok && itest_now_ms() < end) {
		free(reply);
		reply = itest_control(t, "{\"cmd\":\"calls\"}", 2000);
		ok = reply != NULL && strstr(reply, want) != NULL &&
		     (also == NULL || strstr(reply, also) != NULL);
		if (!ok)
			usleep(20000);
	}
	ck_assert_msg(ok, "wanted %d call(s) %s: %s", count, also ? also : "",
	              reply ? reply : "(no reply)");
	free(reply);
}

int
itest_final_response(struct itest_conn *c, char *out, size_t cap, const char *method)
{
	for (;;) {
		char cseq[64];
		int code;

		ck_assert_msg(itest_recv_msg(c, out, cap, 10000) > 0, "no final response to %s",
		              method);
		code = itest_status(out);
		if (code < 200 || itest_header(out, "CSeq", cseq, sizeof(cseq)) == NULL ||
		    strstr(cseq, method) == NULL)
			continue;
		return code;
	}
}
