/*
 * itest_proxy.c: a record-routing TLS proxy for the integration tests (see
 * itest_proxy.h). One process, blocking OpenSSL under poll(2); messages are edited as
 * text, which is fine for a test peer that only ever sees sipwarden and swpeer.
 */
#include "itest_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#define PX_MAX_CONNS 16
#define PX_BUF       65536

struct pconn {
	int fd;
	SSL *ssl;
	bool down; /* accepted (else opened by us) */
	char buf[PX_BUF];
	size_t len;
};

struct px {
	const struct itest_proxy *o;
	SSL_CTX *sctx, *cctx;
	int lfd;
	struct pconn *c[PX_MAX_CONNS];
	int down;     /* the connection toward the down side (last accepted), -1 */
	int up;       /* the main connection up, -1 */
	int req_from; /* where the last request relayed down came from (its answer goes back) */
	char uri[96]; /* our Record-Route / Route URI, without "<>" */
	FILE *log;
};

static void
px_log(struct px *x, const char *dir, const char *msg)
{
	fprintf(x->log, "%s %.*s\n", dir, (int)strcspn(msg, "\r\n"), msg);
	fflush(x->log);
}

static int
px_add(struct px *x, int fd, SSL *ssl, bool down)
{
	for (int i = 0; i < PX_MAX_CONNS; i++) {
		if (x->c[i] == NULL) {
			x->c[i] = calloc(1, sizeof(*x->c[i]));
			if (x->c[i] == NULL)
				_exit(3);
			x->c[i]->fd = fd;
			x->c[i]->ssl = ssl;
			x->c[i]->down = down;
			return i;
		}
	}
	_exit(4);
}

static void
px_close(struct px *x, int i)
{
	SSL_free(x->c[i]->ssl);
	close(x->c[i]->fd);
	free(x->c[i]);
	x->c[i] = NULL;
	if (x->down == i)
		x->down = -1;
	if (x->up == i)
		x->up = -1;
}

/* A TLS connection up, from `src` (NULL: any). Index, or -1. */
static int
px_connect_up(struct px *x, const char *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(x->o->up_port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	SSL *ssl;

	inet_pton(AF_INET, x->o->up_ip, &sa.sin_addr);
	if (src != NULL) {
		struct sockaddr_in la = {.sin_family = AF_INET};
		inet_pton(AF_INET, src, &la.sin_addr);
		if (bind(fd, (struct sockaddr *)&la, sizeof(la)) != 0)
			return close(fd), -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return close(fd), -1;
	ssl = SSL_new(x->cctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return -1;
	}
	return px_add(x, fd, ssl, false);
}

static void
px_send(struct px *x, int i, const char *msg, size_t len, const char *tag)
{
	if (i < 0 || x->c[i] == NULL) {
		px_log(x, "DROP(no connection)", msg);
		return;
	}
	px_log(x, tag, msg);
	if (SSL_write(x->c[i]->ssl, msg, (int)len) != (int)len)
		px_log(x, "DROP(write failed)", msg);
}

/* The start of header line `name` (exact, case-insensitive, "Route" is not
 * "Record-Route") in the header block of msg, or NULL. */
static char *
hdr_line(char *msg, const char *name)
{
	size_t n = strlen(name);
	char *end = strstr(msg, "\r\n\r\n");

	for (char *p = strstr(msg, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
			return p + 2;
	return NULL;
}

/* The value of the first header `name` into out (trimmed, up to the line end). */
static bool
hdr_value(char *msg, const char *name, char *out, size_t cap)
{
	char *l = hdr_line(msg, name), *v;
	size_t n;

	if (l == NULL)
		return false;
	v = l + strlen(name) + 1;
	while (*v == ' ')
		v++;
	n = strcspn(v, "\r\n");
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
	return true;
}

/* Remove [p, q) from the NUL-terminated msg of length *len. */
static void
cut(char *msg, size_t *len, char *p, char *q)
{
	memmove(p, q, *len - (size_t)(q - msg) + 1);
	*len -= (size_t)(q - p);
}

/* Insert `s` at p. */
static void
insert(char *msg, size_t *len, size_t cap, char *p, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > cap)
		_exit(5);
	memmove(p + n, p, *len - (size_t)(p - msg) + 1);
	memcpy(p, s, n);
	*len += n;
}

/* Drop our own top Route value. True when it was ours. */
static bool
pop_route(struct px *x, char *msg, size_t *len)
{
	char *l = hdr_line(msg, "Route"), *v, *eol, *comma;

	if (l == NULL)
		return false;
	v = l + 6;
	while (*v == ' ')
		v++;
	eol = strstr(v, "\r\n");
	if (strncmp(v, "<", 1) != 0 || strncmp(v + 1, x->uri, strlen(x->uri)) != 0 ||
	    v[1 + strlen(x->uri)] != '>')
		return false;
	comma = memchr(v, ',', (size_t)(eol - v));
	if (comma != NULL) {
		comma++;
		while (*comma == ' ')
			comma++;
		cut(msg, len, v, comma); /* the next value moves up */
	} else {
		cut(msg, len, l, eol + 2);
	}
	return true;
}

/* A 404 to request msg from the down/up side `i`: its Via, From, To, Call-ID, CSeq. */
static void
px_refuse(struct px *x, int i, char *msg)
{
	static char out[8192];
	char via[1024], from[512], to[512], cid[256], cseq[64];

	if (!hdr_value(msg, "Via", via, sizeof(via)) ||
	    !hdr_value(msg, "From", from, sizeof(from)) || !hdr_value(msg, "To", to, sizeof(to)) ||
	    !hdr_value(msg, "Call-ID", cid, sizeof(cid)) ||
	    !hdr_value(msg, "CSeq", cseq, sizeof(cseq)))
		return;
	snprintf(out, sizeof(out),
	         "SIP/2.0 404 Not Here (no Route)\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
	         via, from, to, cid, cseq);
	if (strncmp(msg, "ACK ", 4) != 0)
		px_send(x, i, out, strlen(out), "404>");
}

static void
px_message(struct px *x, int from, char *msg, size_t len, size_t cap)
{
	bool down = x->c[from]->down;
	char to[512], via[1024], line[1200];
	char *eol = strstr(msg, "\r\n");
	int dst;

	if (strncmp(msg, "SIP/2.0 ", 8) == 0) {
		/* a response: our Via off, back the way the request came */
		char *v = hdr_line(msg, "Via");
		if (v != NULL)
			cut(msg, &len, v, strstr(v, "\r\n") + 2);
		dst = down ? x->req_from : x->down;
		px_send(x, dst, msg, len, down ? "down>" : "up>");
		return;
	}
	bool in_dialog = hdr_value(msg, "To", to, sizeof(to)) && strstr(to, "tag=") != NULL;
	bool is_ack = strncmp(msg, "ACK ", 4) == 0, is_cancel = strncmp(msg, "CANCEL ", 7) == 0;

	if (in_dialog && !pop_route(x, msg, &len) && !is_cancel) {
		char m[32];
		snprintf(m, sizeof(m), "NOROUTE %.*s", (int)strcspn(msg, " "), msg);
		px_log(x, m, msg);
		if (!is_ack) {
			px_refuse(x, from, msg);
			return;
		}
		/* an ACK for a non-2xx is hop-by-hop and carries no Route: relay it */
	}
	if (!in_dialog && strncmp(msg, "INVITE ", 7) == 0) {
		snprintf(line, sizeof(line), "Record-Route: <%s>\r\n", x->uri);
		insert(msg, &len, cap, eol + 2, line);
	}
	/* our Via on top, its branch derived from the one below (stateless: a CANCEL gets
	 * the branch its INVITE got) */
	if (!hdr_value(msg, "Via", via, sizeof(via)))
		return;
	char *br = strstr(via, "branch=");
	snprintf(line, sizeof(line), "Via: SIP/2.0/TLS %s:%u;branch=z9hG4bKpx%.*s\r\n",
	         x->o->listen_ip, x->o->listen_port, br ? (int)strcspn(br + 7, ";,") : 1,
	         br ? br + 7 : "0");
	insert(msg, &len, cap, eol + 2, line);
	if (down) {
		if (in_dialog && x->o->dialog_src != NULL)
			dst = px_connect_up(x, x->o->dialog_src);
		else {
			if (x->up < 0)
				x->up = px_connect_up(x, "127.0.0.1");
			dst = x->up;
		}
	} else {
		x->req_from = from;
		dst = x->down;
	}
	px_send(x, dst, msg, len, down ? "down>" : "up>");
}

/* Complete messages in c's buffer, one by one. */
static void
px_drain(struct px *x, int i)
{
	static char msg[PX_BUF + 4096];
	struct pconn *c = x->c[i];

	for (;;) {
		while (c->len >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n') {
			memmove(c->buf, c->buf + 2, c->len - 2);
			c->len -= 2;
		}
		c->buf[c->len] = '\0';
		char *hend = strstr(c->buf, "\r\n\r\n"), cl[32];
		size_t hlen, blen = 0, n;
		if (hend == NULL)
			return;
		hlen = (size_t)(hend - c->buf) + 4;
		memcpy(msg, c->buf, hlen);
		msg[hlen] = '\0';
		if (hdr_value(msg, "Content-Length", cl, sizeof(cl)) ||
		    hdr_value(msg, "l", cl, sizeof(cl)))
			blen = strtoul(cl, NULL, 10);
		if (c->len < hlen + blen)
			return;
		n = hlen + blen;
		memcpy(msg, c->buf, n);
		msg[n] = '\0';
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
		px_message(x, i, msg, n, sizeof(msg));
		if (x->c[i] == NULL)
			return;
	}
}

static void
px_read(struct px *x, int i)
{
	struct pconn *c = x->c[i];

	do {
		int r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - 1 - c->len));
		if (r <= 0) {
			px_close(x, i);
			return;
		}
		c->len += (size_t)r;
		px_drain(x, i);
		if ((c = x->c[i]) == NULL)
			return;
	} while (SSL_pending(c->ssl) > 0);
}

static void
px_accept(struct px *x)
{
	int fd = accept(x->lfd, NULL, NULL), one = 1;
	SSL *ssl;

	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(x->sctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return;
	}
	x->down = px_add(x, fd, ssl, true);
}

static void
px_run(const struct itest *t, const struct itest_proxy *o)
{
	struct px x = {.o = o, .down = -1, .up = -1, .req_from = -1};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o->listen_port)};
	char crt[256], key[256], name[64], path[256];
	int one = 1;

	snprintf(x.uri, sizeof(x.uri), "sip:%s:%u;transport=tls;lr", o->listen_ip, o->listen_port);
	x.log = fopen(itest_path(t, "proxy.log", path, sizeof(path)), "a");
	snprintf(name, sizeof(name), "%s.crt", o->cert);
	itest_path(t, name, crt, sizeof(crt));
	snprintf(name, sizeof(name), "%s.key", o->cert);
	itest_path(t, name, key, sizeof(key));
	x.sctx = SSL_CTX_new(TLS_server_method());
	x.cctx = SSL_CTX_new(TLS_client_method());
	if (x.log == NULL || x.sctx == NULL || x.cctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(x.sctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(x.sctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(2);
	/* up: the trunk's certificate as client certificate (sipwarden may want one) */
	itest_path(t, "trunk.crt", crt, sizeof(crt));
	itest_path(t, "trunk.key", key, sizeof(key));
	SSL_CTX_use_certificate_chain_file(x.cctx, crt);
	SSL_CTX_use_PrivateKey_file(x.cctx, key, SSL_FILETYPE_PEM);
	x.lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(x.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, o->listen_ip, &sa.sin_addr);
	if (bind(x.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(x.lfd, 16) != 0)
		_exit(2);
	for (;;) {
		struct pollfd pfd[PX_MAX_CONNS + 1];
		int map[PX_MAX_CONNS + 1], n = 0;

		pfd[n] = (struct pollfd){.fd = x.lfd, .events = POLLIN};
		map[n++] = -1;
		for (int i = 0; i < PX_MAX_CONNS; i++)
			if (x.c[i] != NULL) {
				pfd[n] = (struct pollfd){.fd = x.c[i]->fd, .events = POLLIN};
				map[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			_exit(6);
		for (int k = 0; k < n; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (map[k] < 0)
				px_accept(&x);
			else if (x.c[map[k]] != NULL)
				px_read(&x, map[k]);
		}
	}
}

pid_t
itest_proxy_start(const struct itest *t, const struct itest_proxy *p)
{
	pid_t pid;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->listen_port)};

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		px_run(t, p);
		_exit(0);
	}
	inet_pton(AF_INET, p->listen_ip, &sa.sin_addr);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return pid;
		usleep(10000);
	}
	ck_abort_msg("the proxy does not listen");
	return pid;
}

int
itest_proxy_count(const struct itest *t, const char *needle)
{
	char path[256], line[2048];
	FILE *f = fopen(itest_path(t, "proxy.log", path, sizeof(path)), "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}
