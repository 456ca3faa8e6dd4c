/*
 * itest.c: start/stop the real daemon for a test (its connections: itest_conn.c).
 *
 * Responsible for temporary state (directory, certificates, config, notify socket),
 * the daemon process (bounded waits, kill -9 and cleanup at exit, also when an
 * assertion fails), child processes (peers) and the daemon's files. Not a test by itself.
 */
#include "itest.h"
#include "monotime.h"
#include "testnet.h"
#include "tmpdir.h"
#include "tmpdir_suite.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
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
	return monotime_ms(); /* the daemon's clock (lib/monotime.h), under the harness's name */
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
		tmpdir_rm_tree(t->dir);
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
	/* SW_MEDIA_IO=uring|epoll runs the media workers on that path ([media] io) */
	const char *io = getenv("SW_MEDIA_IO");
	if (io == NULL || (strcmp(io, "uring") != 0 && strcmp(io, "epoll") != 0))
		io = "auto";
	fprintf(f,
	        "[media]\naddress = %s\nport_min = %u\nport_max = %u\nworkers = 1\nio = %s\n%s\n",
	        t->ip, pmin, t->media_port_max, io, o->media_extra ? o->media_extra : "");
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
	/* the loop-lag check sheds by how late this box runs the daemon (under ASan, beside
	 * other tests): a functional test must not depend on that, so it is off here and
	 * covered by test_b2bua_overload and tools/bench_cps */
	fprintf(f, "\n[limits]\nmax_loop_lag = 0\n%s\n", o->limits_extra ? o->limits_extra : "");
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
itest_prepare(struct itest *t, const struct itest_opts *o)
{
	memset(t, 0, sizeof(*t));
	t->notify_fd = -1;
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(t->dir, sizeof(t->dir), "sw-itest"));
	cleanup_target = t;
	{
		static bool registered;
		if (!registered)
			atexit(itest_cleanup);
		registered = true;
	}
	run_mkcerts(t->dir);
	testnet_loopback(t->ip, sizeof(t->ip));
	t->port = (uint16_t)rnd(20000, 60000);
	testnet_loopback(t->agent_ip, sizeof(t->agent_ip));
	t->agent_port = itest_port();
	snprintf(t->tel_path, sizeof(t->tel_path), "%s/tel.sock", t->dir);
	snprintf(t->ctl_path, sizeof(t->ctl_path), "%s/ctl.sock", t->dir);
	snprintf(t->conf_path, sizeof(t->conf_path), "%s/sipwarden.conf", t->dir);
	itest_write_conf(t, o);
}

void
itest_start(struct itest *t, const struct itest_opts *o)
{
	static const struct itest_opts defaults;
	const char *daemon;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char notify_path[256], wd[32];

	if (o == NULL)
		o = &defaults;
	daemon = getenv(o->test_hooks ? "SW_DAEMON_HOOKS" : "SW_DAEMON");
	signal(SIGPIPE, SIG_IGN); /* the daemon closing on us must not kill the test */
	ck_assert_msg(daemon != NULL, "%s not set",
	              o->test_hooks ? "SW_DAEMON_HOOKS" : "SW_DAEMON");
	itest_prepare(t, o);

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

/*
 * Below the kernel's ephemeral range: connect() takes its local ports from that range,
 * so a peer told to listen on 127.0.0.1 at a port inside it could find the port taken by
 * some other test's connection and never listen (seen: it_call_dtmf's carrier, "nothing
 * listens on 127.0.0.1:54906", in a fresh-clone CI run).
 */
uint16_t
itest_port(void)
{
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	if (lo < 12000 || lo > 65535) /* no room below it: take the old range */
		return (uint16_t)(rnd(20000, 60000) & ~1u);
	return (uint16_t)(rnd(10000, lo - 2) & ~1u);
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
	/* A failed assertion ends the forked test with _exit(): no atexit() cleanup there.
	 * Every test of the run makes its directory (keys included) under the run's, which
	 * the runner removes whatever became of them. */
	return tmpdir_suite_run(s);
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
	return itest_wait_child(
	        itest_agent_call_spawn(
	                t, out, dial,
	                (const char *const[]){"--calls", "1", "--duration", "2", NULL}),
	        timeout_ms);
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
