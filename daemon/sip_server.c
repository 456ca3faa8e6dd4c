/*
 * sip_server.c: SIP over TLS: listener, connection lifecycle and framing.
 *
 * Responsible for accepting and owning TLS connections (ids, timeouts, caps, bounded
 * buffering) and cutting their byte streams into framed messages, which it hands to
 * daemon/sip_dispatch.c; admission per source is applied through daemon/sip_admit.c.
 * Not responsible for TLS policy (lib/tls.c), what a message means (sip_dispatch.c) or
 * anything that needs state across messages (transactions, dialogs, calls: the B2BUA,
 * via hooks).
 */
#include "sip_server.h"
#include "sip_server_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "log.h"
#include "sip_util.h"
#include "sipframe.h"

#define MSGS_PER_WAKEUP  64   /* messages handled per read callback before yielding */
#define FLUSH_TIMEOUT_MS 2000 /* how long a closing connection may take to flush */

static void conn_destroy(struct sip_conn *c, bool notify);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

struct sip_conn *
sip_conn_find(const struct sip_server *s, uint64_t id)
{
	struct sip_conn *c;

	for (c = s->buckets[id % CONN_BUCKETS]; c != NULL; c = c->hnext)
		if (c->info.id == id)
			return c;
	return NULL;
}

static void
conn_unlink(struct sip_conn *c)
{
	struct sip_conn **pp = &c->srv->buckets[c->info.id % CONN_BUCKETS];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	c->srv->stats.open--;
	if (!c->info.outbound)
		c->srv->inbound--;
}

/* Log what OpenSSL queued for this connection at debug level and clear it. */
static void
conn_log_ssl_errors(struct sip_conn *c, const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("conn %llu %s: %s: %s", (unsigned long long)c->info.id, c->info.peer_str,
		          what, buf);
	}
	ERR_clear_error();
}

static void
conn_destroy(struct sip_conn *c, bool notify)
{
	struct sip_server *s = c->srv;
	uint64_t id = c->info.id;

	conn_unlink(c);
	sip_admit_release(s, (const struct sockaddr *)&c->info.peer, c->cls, c->admitted);
	if (c->handshaken && !c->broken) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL)
			(void)SSL_shutdown(ssl); /* best effort close_notify */
	}
	ERR_clear_error();
	bufferevent_free(c->bev);
	event_free(c->hs_timer);
	event_free(c->resume);
	if (c->first_req != NULL)
		event_free(c->first_req);
	conf_unref(c->conf);
	log_debug("conn %llu %s closed", (unsigned long long)id, c->info.peer_str);
	free(c);
	if (notify && s->hooks.closed_cb != NULL)
		s->hooks.closed_cb(s->hooks.arg, id);
}

/* Close now, or as soon as the callback running for this connection returns. */
void
sip_conn_close_now(struct sip_conn *c)
{
	if (c->depth > 0) {
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	conn_destroy(c, true);
}

static void
conn_enter(struct sip_conn *c)
{
	c->depth++;
}

/* Leave a callback; returns true when the connection was destroyed. */
static bool
conn_leave(struct sip_conn *c)
{
	if (--c->depth == 0 && c->closing) {
		conn_destroy(c, true);
		return true;
	}
	return false;
}

static void
conn_flush_write_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;

	(void)bev;
	conn_enter(c);
	c->closing = true;
	conn_leave(c);
}

/* Stop reading, write what is queued (bounded by FLUSH_TIMEOUT_MS), then close. */
void
sip_conn_close_after_flush(struct sip_conn *c)
{
	struct timeval tv = {FLUSH_TIMEOUT_MS / 1000, (FLUSH_TIMEOUT_MS % 1000) * 1000};

	if (c->closing || c->flushing)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		sip_conn_close_now(c);
		return;
	}
	c->flushing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_setcb(c->bev, NULL, conn_flush_write_cb, conn_event_cb, c);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

int
sip_conn_queue(struct sip_conn *c, const char *buf, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->closing || c->flushing)
		return -ENOTCONN;
	if (evbuffer_get_length(out) + len > c->out_limit) {
		log_warnx("conn %llu %s: peer does not read, closing",
		          (unsigned long long)c->info.id, c->info.peer_str);
		sip_conn_close_now(c);
		return -ENOBUFS;
	}
	if (bufferevent_write(c->bev, buf, len) != 0)
		return -ENOMEM;
	return 0;
}

int
sip_server_send_raw(struct sip_server *s, uint64_t conn, const char *buf, size_t len)
{
	struct sip_conn *c = sip_conn_find(s, conn);

	if (c == NULL || (!c->handshaken && !c->info.outbound))
		return -ENOTCONN;
	return sip_conn_queue(c, buf, len);
}

int
sip_server_send(struct sip_server *s, uint64_t conn, osip_message_t *msg)
{
	char *text;
	size_t len;
	int rc;

	if (sip_conn_find(s, conn) == NULL)
		return -ENOTCONN;
	if ((rc = sip_util_serialize(msg, &text, &len)) != 0)
		return rc;
	rc = sip_server_send_raw(s, conn, text, len);
	osip_free(text);
	return rc;
}

int
sip_server_reply(struct sip_server *s, uint64_t conn, const osip_message_t *req, int status,
                 const char *reason, const char *const *headers)
{
	osip_message_t *resp;
	int rc;

	if ((rc = sip_util_response_new(&resp, req, status, reason, NULL)) != 0)
		return rc;
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		const char *colon = strchr(headers[i], ':');
		char name[64];
		size_t n;

		if (colon == NULL || (n = (size_t)(colon - headers[i])) >= sizeof(name))
			continue;
		memcpy(name, headers[i], n);
		name[n] = '\0';
		colon++;
		while (*colon == ' ')
			colon++;
		if ((rc = sip_util_add_header(resp, name, colon)) != 0)
			goto out;
	}
	rc = sip_server_send(s, conn, resp);
out:
	osip_message_free(resp);
	return rc;
}

const struct sip_conn_info *
sip_server_conn_info(const struct sip_server *s, uint64_t conn)
{
	const struct sip_conn *c = sip_conn_find(s, conn);

	return c != NULL && !c->closing ? &c->info : NULL;
}

void
sip_server_conn_close(struct sip_server *s, uint64_t conn)
{
	struct sip_conn *c = sip_conn_find(s, conn);

	if (c != NULL)
		sip_conn_close_after_flush(c);
}

void
sip_server_get_stats(const struct sip_server *s, struct sip_server_stats *out)
{
	struct admit_stats as;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	admit_get_stats(s->admit, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, &as);
	*out = s->stats;
	out->sources = as.sources;
	out->sources_banned = as.banned;
}

size_t
sip_server_open_conns(const struct sip_server *s)
{
	return s->stats.open;
}

void
sip_server_set_telemetry(struct sip_server *s, struct telemetry *tel)
{
	s->tel = tel;
}

void
sip_server_set_hooks(struct sip_server *s, const struct sip_server_hooks *hooks)
{
	if (hooks != NULL)
		s->hooks = *hooks;
	else
		memset(&s->hooks, 0, sizeof(s->hooks));
}

/* Handle every complete message in the input, at most MSGS_PER_WAKEUP per call. */
static void
conn_drain(struct sip_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t window = c->frame.lim.max_message + 8;

	for (int n = 0; n < MSGS_PER_WAKEUP; n++) {
		size_t len = evbuffer_get_length(in), consume = 0;
		enum sipframe_kind kind = SIPFRAME_NEED_MORE;
		const char *why = NULL;
		const char *buf;
		int rc;

		if (len == 0 || c->closing || c->flushing)
			return;
		if (len > window)
			len = window;
		if ((buf = (const char *)evbuffer_pullup(in, (ssize_t)len)) == NULL) {
			sip_conn_close_now(c);
			return;
		}
		rc = sipframe_scan(&c->frame, buf, len, &kind, &consume, &why);
		if (rc < 0) {
			sip_dispatch_framing_error(c, buf, len, why != NULL ? why : "bad framing");
			return;
		}
		switch (kind) {
		case SIPFRAME_NEED_MORE:
			return;
		case SIPFRAME_PING:
			(void)sip_conn_queue(c, "\r\n", 2);
			break;
		case SIPFRAME_PONG:
			break;
		case SIPFRAME_MESSAGE:
			if (sip_admit_message(c))
				sip_dispatch_message(c->srv, c, buf, consume);
			break;
		}
		if (consume == 0) {
			sip_conn_close_now(c); /* a scanner that does not advance would spin */
			return;
		}
		evbuffer_drain(in, consume);
	}
	/* Bounded work per wake-up: come back for the rest without waiting on the fd. */
	if (evbuffer_get_length(in) > 0 && !c->closing && !c->flushing)
		event_active(c->resume, EV_TIMEOUT, 0);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;

	(void)bev;
	conn_enter(c);
	conn_drain(c);
	conn_leave(c);
}

static void
conn_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;

	(void)fd;
	(void)what;
	conn_enter(c);
	conn_drain(c);
	conn_leave(c);
}

static void
conn_hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->handshaken)
		return;
	c->srv->stats.handshake_timeout++;
	log_refusal((const struct sockaddr *)&c->info.peer, "tls_handshake_timeout",
	            "conn %llu %s: TLS handshake timeout, closing", (unsigned long long)c->info.id,
	            c->info.peer_str);
	if (c->srv->hooks.tls_cb != NULL)
		c->srv->hooks.tls_cb(c->srv->hooks.arg, c->info.id, false, "timeout");
	sip_conn_close_now(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sip_conn *c = arg;

	conn_enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		struct timeval tv = {c->conf->tls.idle_timeout_ms / 1000,
		                     (c->conf->tls.idle_timeout_ms % 1000) * 1000};
		char fp[100] = "none";

		c->handshaken = true;
		evtimer_del(c->hs_timer);
		tls_info_get(bufferevent_openssl_get_ssl(bev), &c->info.tls);
		sip_admit_handshake(c);
		if (c->info.tls.has_peer_cert)
			tls_fp_str(c->info.tls.peer_fp, fp, sizeof(fp));
		log_debug("conn %llu %s: %s %s, peer certificate %s%s",
		          (unsigned long long)c->info.id, c->info.peer_str,
		          c->info.tls.version_name, c->info.tls.cipher, fp,
		          c->info.tls.peer_verified ? " (verified)" : "");
		bufferevent_set_timeouts(bev, &tv, &tv);
		if (c->srv->hooks.tls_cb != NULL)
			c->srv->hooks.tls_cb(c->srv->hooks.arg, c->info.id, true, NULL);
		/* Messages may have arrived with the handshake's last flight. */
		conn_drain(c);
	} else if ((what & BEV_EVENT_TIMEOUT) && !c->flushing && (what & BEV_EVENT_READING) &&
	           evbuffer_get_length(bufferevent_get_input(bev)) == 0 &&
	           c->srv->hooks.busy_cb != NULL &&
	           c->srv->hooks.busy_cb(c->srv->hooks.arg, c->info.id)) {
		/* quiet between messages on a connection a call uses (a peer stalled inside a
		 * message is still closed); the timeout disabled reading: turn it back on,
		 * which restarts the timer */
		bufferevent_enable(bev, EV_READ);
	} else if ((what & BEV_EVENT_TIMEOUT) && c->flushing) {
		log_debug("conn %llu %s: flush timeout", (unsigned long long)c->info.id,
		          c->info.peer_str);
		sip_conn_close_now(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		c->srv->stats.idle_timeout++;
		log_info("conn %llu %s: idle timeout, closing", (unsigned long long)c->info.id,
		         c->info.peer_str);
		/* what a hook queued in this loop turn (the BYE of a call that just ended,
		 * after the idle timer and the call's timer fired together) still goes out */
		sip_conn_close_after_flush(c);
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		c->broken = true;
		if (!c->handshaken) {
			c->srv->stats.handshake_failed++;
			log_refusal((const struct sockaddr *)&c->info.peer, "tls_handshake_failed",
			            "conn %llu %s: TLS handshake failed",
			            (unsigned long long)c->info.id, c->info.peer_str);
			if (c->srv->hooks.tls_cb != NULL)
				c->srv->hooks.tls_cb(c->srv->hooks.arg, c->info.id, false,
				                     (what & BEV_EVENT_EOF) ? "eof" : "handshake");
		}
		conn_log_ssl_errors(c, (what & BEV_EVENT_EOF) ? "eof" : "error");
		sip_conn_close_now(c);
	}
	conn_leave(c);
}

/*
 * A connection object around fd (or -1 for an outbound one not yet connected) and ssl,
 * or around `adopt` (sip_server_adopt), registered under a fresh id. Takes ownership of
 * fd and ssl or of adopt, also on failure.
 */
static struct sip_conn *
conn_new(struct sip_server *s, evutil_socket_t fd, SSL *ssl, const struct sockaddr *sa,
         socklen_t salen, bool outbound, struct bufferevent *adopt)
{
	struct sip_conn *c;
	struct sipframe_limits lim;
	struct timeval hs;
	char host[INET6_ADDRSTRLEN] = "?";

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		if (adopt != NULL)
			bufferevent_free(adopt);
		SSL_free(ssl);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c->srv = s;
	c->info.id = ++s->next_id;
	c->info.outbound = outbound;
	memcpy(&c->info.peer, sa,
	       (size_t)salen < sizeof(c->info.peer) ? (size_t)salen : sizeof(c->info.peer));
	c->info.peer_len = salen;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(c->info.peer_str, sizeof(c->info.peer_str), "%s:%u", host,
		         ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(c->info.peer_str, sizeof(c->info.peer_str), "[%s]:%u", host,
		         ntohs(in6->sin6_port));
	}
	c->conf = conf_ref(s->conf);
	lim.max_message = c->conf->sip.max_message_size;
	lim.max_headers = c->conf->sip.max_headers;
	lim.max_line = c->conf->sip.max_line_length;
	sipframe_init(&c->frame, &lim);
	c->out_limit = 4 * (size_t)lim.max_message + 65536;
	c->bev = adopt != NULL ? adopt
	                       : bufferevent_openssl_socket_new(
	                                 s->base, fd, ssl,
	                                 outbound ? BUFFEREVENT_SSL_CONNECTING
	                                          : BUFFEREVENT_SSL_ACCEPTING,
	                                 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	c->hs_timer = evtimer_new(s->base, conn_hs_timeout_cb, c);
	c->resume = event_new(s->base, -1, 0, conn_resume_cb, c);
	if (c->bev == NULL || c->hs_timer == NULL || c->resume == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else {
			SSL_free(ssl);
			if (fd >= 0)
				close(fd);
		}
		if (c->hs_timer != NULL)
			event_free(c->hs_timer);
		if (c->resume != NULL)
			event_free(c->resume);
		conf_unref(c->conf);
		free(c);
		return NULL;
	}
	c->hnext = s->buckets[c->info.id % CONN_BUCKETS];
	s->buckets[c->info.id % CONN_BUCKETS] = c;
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->stats.open++;
	if (!outbound)
		s->inbound++;
	/* Stop reading while a partial message fills the window; we drain whole ones. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)lim.max_message + 8192);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	hs.tv_sec = c->conf->tls.handshake_timeout_ms / 1000;
	hs.tv_usec = (c->conf->tls.handshake_timeout_ms % 1000) * 1000;
	evtimer_add(c->hs_timer, &hs);
	return c;
}

/*
 * SIP messages are small and often written back to back (100 Trying, then 180): with
 * Nagle's algorithm the second waits for the peer's delayed ACK, about 40 ms. Off.
 */
static void
conn_nodelay(evutil_socket_t fd)
{
	int on = 1;

	if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
		log_debug("TCP_NODELAY: %s", strerror(errno));
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                 void *arg)
{
	struct sip_server *s = arg;
	enum admit_class cls;
	struct sip_conn *c;
	bool tracked;
	SSL *ssl;

	(void)l;
	if (s->inbound >= s->conf->tls.max_connections) {
		s->stats.refused_cap++;
		log_debug("connection refused: %zu open, max_connections reached", s->inbound);
		close(fd);
		return;
	}
	/* Before any TLS work: a banned or over-limit source costs one accept() and close(). */
	if (!sip_admit_accept(s, sa, &cls, &tracked)) {
		close(fd);
		return;
	}
	conn_nodelay(fd);
	if ((ssl = SSL_new(s->ctx)) == NULL ||
	    (c = conn_new(s, fd, ssl, sa, (socklen_t)salen, false, NULL)) == NULL) {
		if (ssl == NULL)
			close(fd);
		sip_admit_release(s, sa, cls, tracked);
		return;
	}
	c->cls = cls;
	c->admitted = tracked;
	if (sip_admit_conn_start(c) != 0) {
		conn_destroy(c, false);
		return;
	}
	s->stats.accepted++;
	log_debug("conn %llu %s accepted", (unsigned long long)c->info.id, c->info.peer_str);
}

int
sip_server_connect(struct sip_server *s, const struct sockaddr *sa, socklen_t salen, SSL_CTX *ctx,
                   const char *server_name, uint64_t *id)
{
	struct sip_conn *c;
	SSL *ssl;

	if (salen > (socklen_t)sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (s->connect_hook != NULL)
		return s->connect_hook(s->connect_arg, sa, salen, id);
	if ((ssl = tls_client_ssl_new(ctx, server_name)) == NULL)
		return -ENOMEM;
	if ((c = conn_new(s, -1, ssl, sa, salen, true, NULL)) == NULL)
		return -ENOMEM;
	if (bufferevent_socket_connect(c->bev, sa, (int)salen) != 0) {
		int e = errno != 0 ? errno : ECONNREFUSED;
		conn_destroy(c, false);
		return -e;
	}
	conn_nodelay(bufferevent_getfd(c->bev));
	log_debug("conn %llu %s connecting", (unsigned long long)c->info.id, c->info.peer_str);
	*id = c->info.id;
	return 0;
}

static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	log_warn("accept");
}

int
sip_server_new(struct sip_server **out, struct event_base *base, struct conf *conf, SSL_CTX *ctx,
               const struct sip_server_hooks *hooks)
{
	struct sip_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->base = base;
	TAILQ_INIT(&s->conns);
	s->listener = evconnlistener_new_bind(
	        base, server_accept_cb, s,
	        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
	        (const struct sockaddr *)&conf->tls.listen.ss, (int)conf->tls.listen.len);
	if (s->listener == NULL) {
		int e = errno != 0 ? errno : EADDRNOTAVAIL;
		free(s);
		return -e;
	}
	evconnlistener_set_error_cb(s->listener, server_accept_error_cb);
	s->conf = conf_ref(conf);
	if (sip_admit_init(s) != 0) {
		evconnlistener_free(s->listener);
		conf_unref(s->conf);
		free(s);
		return -ENOMEM;
	}
	SSL_CTX_up_ref(ctx);
	s->ctx = ctx;
	sip_server_set_hooks(s, hooks);
	*out = s;
	return 0;
}

int
sip_server_reload(struct sip_server *s, struct conf *conf, SSL_CTX *ctx)
{
	if (conf->tls.listen.len != s->conf->tls.listen.len ||
	    memcmp(&conf->tls.listen.ss, &s->conf->tls.listen.ss, conf->tls.listen.len) != 0)
		return -EBUSY;
	conf_ref(conf);
	conf_unref(s->conf);
	s->conf = conf;
	sip_admit_reload(s);
	SSL_CTX_up_ref(ctx);
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	return 0;
}

void
sip_server_free(struct sip_server *s)
{
	struct sip_conn *c;

	if (s == NULL)
		return;
	evconnlistener_free(s->listener);
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_destroy(c, false);
	admit_free(s->admit);
	SSL_CTX_free(s->ctx);
	conf_unref(s->conf);
	free(s);
}

/* ---- a replaceable network, for the fuzzing harness ------------------------------- */

int
sip_server_adopt(struct sip_server *s, struct bufferevent *bev, const struct sockaddr *sa,
                 socklen_t salen, bool outbound, const struct tls_info *tls, uint64_t *id)
{
	struct timeval tv = {s->conf->tls.idle_timeout_ms / 1000,
	                     (s->conf->tls.idle_timeout_ms % 1000) * 1000};
	enum admit_class cls = ADMIT_UNKNOWN;
	bool tracked = false;
	struct sip_conn *c;

	if (salen > (socklen_t)sizeof(struct sockaddr_storage)) {
		bufferevent_free(bev);
		return -EINVAL;
	}
	/* an adopted inbound stream is admitted like an accepted one */
	if (!outbound && !sip_admit_accept(s, sa, &cls, &tracked)) {
		bufferevent_free(bev);
		return -ECONNREFUSED;
	}
	if ((c = conn_new(s, -1, NULL, sa, salen, outbound, bev)) == NULL) {
		sip_admit_release(s, sa, cls, tracked);
		return -ENOMEM;
	}
	c->cls = cls;
	c->admitted = tracked;
	/* as if the handshake had just finished with this posture */
	c->handshaken = true;
	c->broken = true; /* no SSL to close_notify */
	evtimer_del(c->hs_timer);
	c->info.tls = *tls;
	if (sip_admit_conn_start(c) != 0) {
		conn_destroy(c, false);
		return -ENOMEM;
	}
	sip_admit_handshake(c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	*id = c->info.id;
	if (s->hooks.tls_cb != NULL)
		s->hooks.tls_cb(s->hooks.arg, c->info.id, true, NULL);
	return 0;
}

void
sip_server_set_connect_hook(struct sip_server *s,
                            int (*fn)(void *arg, const struct sockaddr *sa, socklen_t salen,
                                      uint64_t *id),
                            void *arg)
{
	s->connect_hook = fn;
	s->connect_arg = arg;
}
