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
	struct conf *conf;       /* reference: limits this connection started with */
	struct sipframe frame;
	size_t out_limit; /* bytes queued for the peer before we give up */
	bool handshaken;
	bool closing;           /* destroy as soon as no callback is running */
	bool flushing;          /* closing after the output drains */
	bool broken;            /* EOF or error seen: no close_notify */
	int depth;              /* callbacks of this connection on the stack */
	struct sip_conn *hnext; /* id hash chain */
	TAILQ_ENTRY(sip_conn) entry;
};

struct sip_server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct conf *conf; /* reference */
	SSL_CTX *ctx;      /* reference, for new connections */
	struct sip_server_hooks hooks;
	uint64_t next_id;
	size_t inbound; /* accepted connections open (max_connections caps these) */
	struct sip_server_stats stats;
	/* sip_server_set_connect_hook(): outbound connections from a harness, not TCP */
	int (*connect_hook)(void *arg, const struct sockaddr *sa, socklen_t salen, uint64_t *id);
	void *connect_arg;
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
 * its id. Returns 0 and the id, or a negative errno.
 */
int sip_server_adopt(struct sip_server *s, struct bufferevent *bev, const struct sockaddr *sa,
                     socklen_t salen, bool outbound, const struct tls_info *tls, uint64_t *id);
void sip_server_set_connect_hook(struct sip_server *s,
                                 int (*fn)(void *arg, const struct sockaddr *sa, socklen_t salen,
                                           uint64_t *id),
                                 void *arg);

/* One framed message buf[0..len) from c: parse, validate, hooks, default answers. */
void sip_dispatch_message(struct sip_server *s, struct sip_conn *c, const char *buf, size_t len);
/* c broke stream framing (why): a 400 if the header block is whole, then close. */
void sip_dispatch_framing_error(struct sip_conn *c, const char *buf, size_t len, const char *why);

#endif
