/*
 * cluster_int.h: what daemon/cluster.c (connections, heartbeat, admission) and
 * daemon/cluster_view.c (the view for the control socket, bans in and out) share. Not a
 * public interface: see cluster.h.
 */
#ifndef SW_CLUSTER_INT_H
#define SW_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <jansson.h>

#include "cluster.h"
#include "cluster_proto.h"
#include "conf.h"

#define VIEW_STALE_MS   1000 /* a view older than this is refreshed when asked for */
#define VIEW_INTEREST_S 30   /* after a request, views are refreshed with heartbeats */

/*
 * struct held: an INVITE waiting for the admit script's answer.
 * Owner: struct cluster's list until the reply arrives (hiredis always calls back, with a
 * NULL reply when the connection goes). `decided`: the timeout or a failure already gave
 * the verdict; a late grant is then released again.
 */
struct held {
	struct held *next, *prev;
	struct cluster *cl;
	uint64_t conn;
	void *token;
	char trunk[CONF_NAME_MAX];
	unsigned local_all, local_trunk, gmax, tmax;
	struct event *timer;
	bool decided;
};

struct cluster {
	struct event_base *base;
	struct conf *conf; /* reference */
	const struct conf_cluster *k;
	struct telemetry *tel;
	struct cluster_hooks hooks;
	struct cluster_wire *wire; /* cluster_wire.c's, owned (freed by cluster_free) */
	redisAsyncContext *cmd, *sub;
	bool cmd_up;           /* connected and answered a heartbeat */
	bool hb_waiting;       /* a heartbeat reply is outstanding */
	bool degraded;         /* reported security.cluster_degraded, not yet restored */
	bool closing;          /* cluster_free(): callbacks only clean up */
	unsigned live;         /* instances alive at the last heartbeat (>= 1) */
	unsigned backoff_ms;   /* next reconnect delay */
	struct event *hb;      /* heartbeat period */
	struct event *retry;   /* reconnect */
	struct event *changed; /* coalesced republish */
	struct held *held;
	unsigned nheld;
	json_t *view;        /* last VIEW, or NULL */
	int64_t view_ms;     /* when it arrived (monotonic) */
	int64_t interest_ms; /* last time someone asked for it */
	bool view_waiting;
	/* counters for the control socket */
	uint64_t admitted, refused, local_admitted, local_refused, store_refused, timeouts, errors;
	uint64_t reconnects, bans_sent, bans_received, clashes;
	char nonce[17];       /* this process's heartbeat value (random hex) */
	bool clash_last;      /* the last heartbeat found another process's value */
	int64_t clash_log_ms; /* last warning about a twin */
};

/* EVAL script `s` with argv (lens NULL: strlen) on the command connection. 0, or
 * -ENOTCONN / -EIO (no callback will come). */
int cluster_eval(struct cluster *cl, enum cluster_script s, redisCallbackFn *fn, void *priv,
                 int argc, const char **argv, const size_t *lens);
/* A reply nobody needs (AUTH, release, ban). */
void cluster_ignore_cb(redisAsyncContext *ac, void *r, void *priv);

/* cluster_view.c: ask for a fresh view; the stored bans in force (reply of
 * CLUSTER_SCRIPT_BANS); a message on the ban channel. */
void cluster_view_send(struct cluster *cl);
void cluster_bans_cb(redisAsyncContext *ac, void *reply, void *priv);
void cluster_sub_cb(redisAsyncContext *ac, void *reply, void *priv);

#endif
