/*
 * itest_conn.c: the integration tests' own SIP client connections to the daemon: TCP and
 * TLS connects (from a chosen source address), sending, reading whole SIP messages
 * (Content-Length framing), and small request/header helpers. Split from itest.c, which
 * keeps the daemon's process and temporary state. Not a SIP stack: tests write the
 * messages they send and check what comes back.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

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
