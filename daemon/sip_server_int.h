/*
 * sip_server_int.h: what daemon/sip_server.c (connections) and daemon/sip_dispatch.c
 * (what to do with a framed message) share. Not for use outside daemon/.
 */
#ifndef SW_SIP_SERVER_INT_H
#define SW_SIP_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "admit.h"
#include "sip_server.h"
#include "sipframe.h"

#define CONN_BUCKETS 1024

/*
 * struct sip_conn: one TLS connection.
 * Owner: its struct sip_server; freed only by conn_destroy(). Others hold its id.
 */
struct sip_conn {
	struct sip_server *srv;
	struct sip_conn_info info;
	struct bufferevent *bev; /* owns the SSL and the fd */
	struct event *hs_timer;  /* handshake deadline */
	struct event *resume;    /* continue draining after MSGS_PER_WAKEUP */
	struct event *first_req; /* unknown source: deadline for a first request, or NULL */
	struct conf *conf;       /* reference: limits this connection started with */
	struct sipframe frame;
	size_t out_limit; /* bytes queued for the peer before we give up */
	bool handshaken;
	bool closing;           /* destroy as soon as no callback is running */
	bool flushing;          /* closing after the output drains */
	bool broken;            /* EOF or error seen: no close_notify */
	int depth;              /* callbacks of this connection on the stack */
	enum admit_class cls;   /* inbound: what its source was classed as at accept */
	bool admitted;          /* counted in the admission table (release at close) */
	bool identified;        /* sent a complete, valid request */
	bool shed;              /* the message being handled is over its source's budget */
	struct sip_conn *hnext; /* id hash chain */
	TAILQ_ENTRY(sip_conn) entry;
};

struct sip_server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct conf *conf; /* reference */
	SSL_CTX *ctx;      /* reference, for new connections */
	struct sip_server_hooks hooks;
	struct admit *admit;   /* per-source admission (sip_admit.c) */
	struct telemetry *tel; /* reference or NULL: security.flood / source_banned */
	uint64_t next_id;
	size_t inbound; /* accepted connections open (max_connections caps these) */
	struct sip_server_stats stats;
	/* sip_server_set_connect_hook(): outbound connections from a harness, not TCP */
	int (*connect_hook)(void *arg, const struct sockaddr *sa, socklen_t salen, uint64_t *id);
	void *connect_arg;
	/* sip_server_set_ban_hook(): bans decided here go to the other instances */
	void (*ban_hook)(void *arg, const char *source, unsigned ms, const char *reason);
	void *ban_arg;
	TAILQ_HEAD(, sip_conn) conns;
	struct sip_conn *buckets[CONN_BUCKETS];
};

/* The live connection with this id, or NULL (also for ids never handed out). */
struct sip_conn *sip_conn_find(const struct sip_server *s, uint64_t id);
/* Queue bytes for the peer; -ENOTCONN when closing, -ENOBUFS (and close) over the limit. */
int sip_conn_queue(struct sip_conn *c, const char *buf, size_t len);
/* Close now, or as soon as the callback running for this connection returns. */
void sip_conn_close_now(struct sip_conn *c);
/* Stop reading, flush what is queued (bounded), then close. */
void sip_conn_close_after_flush(struct sip_conn *c);

/*
 * A replaceable network (STYLE.md "Event loop"), for tests/fuzz: adopt `bev` (any
 * connected bufferevent, e.g. one end of a bufferevent_pair; taken over, also on failure)
 * as a connection whose handshake just finished with posture `tls`; and route
 * sip_server_connect() to `fn`, which is expected to adopt a stream of its own and return
 * its id. Returns 0 and the id, or a negative errno (-ECONNREFUSED: admission control
 * refused an inbound stream's source, as it would at accept).
 */
int sip_server_adopt(struct sip_server *s, struct bufferevent *bev, const struct sockaddr *sa,
                     socklen_t salen, bool outbound, const struct tls_info *tls, uint64_t *id);
void sip_server_set_connect_hook(struct sip_server *s,
                                 int (*fn)(void *arg, const struct sockaddr *sa, socklen_t salen,
                                           uint64_t *id),
                                 void *arg);

/* ---- admission control per source (sip_admit.c) ---- */
/* Make s->admit from s->conf. 0 or a negative errno. */
int sip_admit_init(struct sip_server *s);
/* s->conf changed: apply its [admission] limits. */
void sip_admit_reload(struct sip_server *s);
/* A connection from sa is being accepted: class it (*cls) and decide. false: refuse it
 * (counted, reported). *tracked: call sip_admit_release() when it closes. */
bool sip_admit_accept(struct sip_server *s, const struct sockaddr *sa, enum admit_class *cls,
                      bool *tracked);
void sip_admit_release(struct sip_server *s, const struct sockaddr *sa, enum admit_class cls,
                       bool tracked);
/* Arm the first-request deadline of a new connection from an unknown source. */
int sip_admit_conn_start(struct sip_conn *c);
/* c finished its TLS handshake: a stranger presenting an agent's pinned certificate is
 * an agent from now on (counted as one, no first-request deadline). */
void sip_admit_handshake(struct sip_conn *c);
/* Charge one framed message of c to its source. false: do not handle it (c is closing). */
bool sip_admit_message(struct sip_conn *c);
/* A parsed, valid request on c: true when admission answered or dropped it (a scanner,
 * a sweep, or shed over budget); the caller then frees it and does nothing else. */
bool sip_admit_request(struct sip_server *s, struct sip_conn *c, const osip_message_t *req);

/* One framed message buf[0..len) from c: parse, validate, hooks, default answers. */
void sip_dispatch_message(struct sip_server *s, struct sip_conn *c, const char *buf, size_t len);
/* c broke stream framing (why): a 400 if the header block is whole, then close. */
void sip_dispatch_framing_error(struct sip_conn *c, const char *buf, size_t len, const char *why);

#endif
