/*
 * sip.c: swpeer's SIP transport: TLS connections (libevent bufferevent_openssl), stream
 * framing (lib/sipframe), parsing with libosip2, and helpers to write responses.
 *
 * A listener accepts TLS connections (callee); sip_connect() opens one (caller, one
 * connection per call, or --connections shared ones). lib/sipframe finds message boundaries
 * (Content-Length, limits, keep-alives); each whole message is parsed with osip_message_parse() and
 * handed to call.c; a connection that breaks framing or sends garbage is closed. CRLFCRLF
 * keep-alives are answered with CRLF. Not responsible for dialogs or SDP (call.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "redact.h"
#include "sip_rand.h"
#include "swpeer.h"

/* Random lowercase hex token of len-1 characters. */
void
sip_random_token(char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[64];
	size_t n = len - 1 > sizeof(r) ? sizeof(r) : len - 1;

	if (sip_rand_bytes(r, n) != 0)
		RAND_bytes(r, (int)n); /* the pool's refill failed: let OpenSSL try again */
	for (size_t i = 0; i < n; i++)
		buf[i] = hex[r[i] & 15];
	buf[n] = '\0';
}

const char *
sip_reason(int code)
{
	switch (code) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 603:
		return "Decline";
	default:
		return code < 300 ? "OK" : "Error";
	}
}

/* Value of the first header `name` osip keeps in its generic list (e.g. Warning); or NULL. */
char *
sip_header_value(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue;
}

const char *
sip_to_tag(const osip_message_t *m)
{
	osip_generic_param_t *t = NULL;

	if (!m->to || osip_to_get_tag(m->to, &t) != 0 || !t)
		return NULL;
	return t->gvalue;
}

const char *
sip_from_tag(const osip_message_t *m)
{
	osip_generic_param_t *t = NULL;

	if (!m->from || osip_from_get_tag(m->from, &t) != 0 || !t)
		return NULL;
	return t->gvalue;
}

/* Print a SIP message on stderr with a=crypto keys masked (lib/redact). */
static void
trace(const char *dir, const char *msg, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, msg, len);
	redact_str(copy, len);
	fprintf(stderr, "swpeer: %s %.*s\n", dir, (int)len, copy);
	OPENSSL_cleanse(copy, len);
	free(copy);
}

/* Queue bytes on the connection. 0 or -ENOTCONN/-ENOMEM. */
int
sip_send(struct sipconn *c, const char *buf, size_t len)
{
	if (!c || !c->bev)
		return -ENOTCONN;
	if (c->peer->o->verbose)
		trace(">>>", buf, len);
	capture_write("SIP", '>', c->num, buf, len);
	return bufferevent_write(c->bev, buf, len) == 0 ? 0 : -ENOMEM;
}

/* Append "Name: value\r\n" for a header osip can print; ignores absent headers. */
static void
add_hdr(struct evbuffer *b, const char *name, char *val)
{
	if (val) {
		evbuffer_add_printf(b, "%s: %s\r\n", name, val);
		osip_free(val);
	}
}

/*
 * Write a response to `req` on `c`: Via, From, To (with `to_tag` added when the request's
 * To had none), Call-ID and CSeq copied from the request, then `extra` (complete header
 * lines with CRLF, may be NULL) and an optional body of type `ctype`. 0 or -errno.
 */
int
sip_respond(struct sipconn *c, const osip_message_t *req, int code, const char *reason,
            const char *to_tag, const char *extra, const char *ctype, const char *body)
{
	struct evbuffer *b = evbuffer_new();
	char *s = NULL;
	size_t blen = body ? strlen(body) : 0;
	int rc;

	if (!b)
		return -ENOMEM;
	evbuffer_add_printf(b, "SIP/2.0 %d %s\r\n", code, reason ? reason : sip_reason(code));
	for (int i = 0; i < osip_list_size(&req->vias); i++) {
		osip_via_t *v = osip_list_get(&req->vias, i);

		s = NULL;
		if (osip_via_to_str(v, &s) == 0)
			add_hdr(b, "Via", s);
	}
	s = NULL;
	if (req->from && osip_from_to_str(req->from, &s) == 0)
		add_hdr(b, "From", s);
	s = NULL;
	if (req->to && osip_to_to_str(req->to, &s) == 0) {
		if (to_tag && !sip_to_tag(req) && code > 100)
			evbuffer_add_printf(b, "To: %s;tag=%s\r\n", s, to_tag);
		else
			evbuffer_add_printf(b, "To: %s\r\n", s);
		osip_free(s);
	}
	s = NULL;
	if (req->call_id && osip_call_id_to_str(req->call_id, &s) == 0)
		add_hdr(b, "Call-ID", s);
	s = NULL;
	if (req->cseq && osip_cseq_to_str(req->cseq, &s) == 0)
		add_hdr(b, "CSeq", s);
	/* a dialog-creating answer to an INVITE carries its Record-Route (RFC 3261 s12.1.1) */
	for (int i = 0; code > 100 && code < 300 && MSG_IS_INVITE(req) && !sip_to_tag(req) &&
	                i < osip_list_size(&req->record_routes);
	     i++) {
		s = NULL;
		if (osip_record_route_to_str(osip_list_get(&req->record_routes, i), &s) == 0)
			add_hdr(b, "Record-Route", s);
	}
	evbuffer_add_printf(b, "Server: %s\r\n", SWPEER_UA);
	if (extra)
		evbuffer_add(b, extra, strlen(extra));
	if (body && ctype)
		evbuffer_add_printf(b, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(b, "Content-Length: %zu\r\n\r\n", blen);
	if (blen)
		evbuffer_add(b, body, blen);
	{
		size_t n = evbuffer_get_length(b);
		char *flat = (char *)evbuffer_pullup(b, (ssize_t)n);

		rc = sip_send(c, flat, n);
	}
	evbuffer_free(b);
	return rc;
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_free(struct sipconn *c);

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sipconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		size_t have = evbuffer_get_length(in), total = 0;
		enum sipframe_kind kind;
		const char *why = NULL;
		unsigned char *data;
		osip_message_t *m = NULL;

		if (have == 0)
			return;
		data = evbuffer_pullup(in, (ssize_t)have);
		if (sipframe_scan(&c->frame, (const char *)data, have, &kind, &total, &why) < 0) {
			fprintf(stderr, "swpeer: SIP framing: %s, closing connection\n", why);
			goto bad;
		}
		if (kind == SIPFRAME_NEED_MORE)
			return;
		if (kind != SIPFRAME_MESSAGE) {
			evbuffer_drain(in, total);
			if (kind == SIPFRAME_PING)
				bufferevent_write(bev, "\r\n", 2);
			continue;
		}
		if (c->peer->o->verbose)
			trace("<<<", (const char *)data, total);
		capture_write("SIP", '<', c->num, data, total);
		if (osip_message_init(&m) != 0)
			goto bad;
		if (osip_message_parse(m, (const char *)data, total) != 0 || !m->call_id ||
		    !m->cseq || !m->from || !m->to) {
			osip_message_free(m);
			fprintf(stderr, "swpeer: unparsable SIP message, closing connection\n");
			goto bad;
		}
		evbuffer_drain(in, total);
		c->in_cb = true;
		call_on_message(c, m);
		c->in_cb = false;
		osip_message_free(m);
		if (c->dead) {
			conn_free(c);
			return;
		}
	}
bad:
	sipconn_close(c);
}

static void
fill_local(struct sipconn *c)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(bufferevent_getfd(c->bev), (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET) {
		inet_ntop(AF_INET, &sa.sin_addr, c->local_ip, sizeof(c->local_ip));
		c->local_port = ntohs(sa.sin_port);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sipconn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->up = true;
		fill_local(c);
		if (c->owner)
			call_conn_ready(c->owner);
		else if (c->shared)
			call_shared_conn_up(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		int serr = EVUTIL_SOCKET_ERROR();
		bool tls_err = false;
		unsigned long e;

		while ((e = bufferevent_get_openssl_error(bev)) != 0) {
			char buf[256];

			ERR_error_string_n(e, buf, sizeof(buf));
			if (ERR_GET_LIB(e) != 0 && (c->owner || c->shared || c->peer->o->verbose))
				fprintf(stderr, "swpeer: TLS: %s\n", buf);
			tls_err |= ERR_GET_LIB(e) != 0;
		}
		if (!tls_err && (what & BEV_EVENT_ERROR) && serr &&
		    (c->owner || c->shared || c->peer->o->verbose))
			fprintf(stderr, "swpeer: connection: %s\n",
			        evutil_socket_error_to_string(serr));
		sipconn_close(c);
	}
}

static const struct sipframe_limits limits = {
        .max_message = SIP_MAX_MESSAGE,
        .max_headers = 100,
        .max_line = 8192,
};

static struct sipconn *
conn_new(struct peer *p, struct bufferevent *bev, struct call *owner)
{
	static unsigned nconns;
	struct sipconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->num = ++nconns;
	c->peer = p;
	c->bev = bev;
	c->owner = owner;
	sipframe_init(&c->frame, &limits);
	bufferevent_setcb(bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&p->conns, c, entry);
	return c;
}

static void
conn_free(struct sipconn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->closing = true;
	if (c->shared && c->peer->shared[c->slot] == c)
		c->peer->shared[c->slot] = NULL;
	call_conn_closed(c);
	LIST_REMOVE(c, entry);
	if (ssl)
		SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
	bufferevent_free(c->bev);
	c->bev = NULL;
	free(c);
}

/*
 * Close and free a connection now (or at the end of its read callback when called from
 * inside it); the calls on it are told (call_conn_closed) first. Safe to call twice.
 */
void
sipconn_close(struct sipconn *c)
{
	if (!c || c->closing)
		return;
	if (c->in_cb) {
		c->dead = true;
		return;
	}
	conn_free(c);
}

static void
conn_drained_cb(struct bufferevent *bev, void *arg)
{
	sipconn_close(arg);
}

/* Close once everything queued (an ACK, a BYE response) has been written. */
void
sipconn_close_later(struct sipconn *c)
{
	if (!c || c->closing || c->dead)
		return;
	c->owner = NULL;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		sipconn_close(c);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, conn_drained_cb, conn_event_cb, c);
}

/* SIP messages go out back to back: no waiting for the peer's delayed ACK (Nagle). */
static void
nodelay(evutil_socket_t fd)
{
	int on = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct peer *p = arg;
	SSL *ssl = SSL_new(p->ssl);
	struct bufferevent *bev;
	struct sipconn *c;

	if (!ssl) {
		evutil_closesocket(fd);
		return;
	}
	nodelay(fd);
	bev = bufferevent_openssl_socket_new(p->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	c = conn_new(p, bev, NULL);
	if (!c) {
		bufferevent_free(bev);
		return;
	}
	c->up = true;
	fill_local(c);
}

/* Listen for TLS on host:port (IPv4). 0 or -errno. */
int
sip_listen(struct peer *p, const char *host, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	p->listener = evconnlistener_new_bind(p->base, accept_cb, p,
	                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
	                                      (struct sockaddr *)&sa, sizeof(sa));
	return p->listener ? 0 : -errno;
}

/*
 * Open a TLS connection to host:port for `owner`; call_conn_ready(owner) runs when the
 * handshake completes. The server certificate is checked against --ca and the IP we
 * connect to, or the name given by --tls-name (also sent as SNI), unless --insecure. Returns the
 * connection (owned by the peer) or NULL.
 */
struct sipconn *
sip_connect(struct peer *p, const char *host, uint16_t port, struct call *owner)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct bufferevent *bev;
	struct sipconn *c;
	SSL *ssl;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return NULL;
	ssl = SSL_new(p->ssl);
	if (!ssl)
		return NULL;
	if (p->o->tls_name) {
		if (SSL_set1_host(ssl, p->o->tls_name) != 1 ||
		    SSL_set_tlsext_host_name(ssl, p->o->tls_name) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	} else if (!p->o->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	bev = bufferevent_openssl_socket_new(p->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	c = conn_new(p, bev, owner);
	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		LIST_REMOVE(c, entry);
		bufferevent_free(bev);
		free(c);
		return NULL;
	}
	nodelay(bufferevent_getfd(bev));
	return c;
}

/*
 * --connections: the shared connection in slot `idx` (< --connections), opened now when
 * there is none (calls on it wait for its handshake: call_shared_conn_up()). NULL when it
 * cannot be opened.
 */
struct sipconn *
sip_shared_conn(struct peer *p, unsigned idx)
{
	struct sipconn *c = p->shared[idx];

	if (c && !c->closing && !c->dead)
		return c;
	c = sip_connect(p, p->o->to_host, p->o->to_port, NULL);
	if (!c)
		return NULL;
	c->shared = true;
	c->slot = idx;
	p->shared[idx] = c;
	return c;
}
