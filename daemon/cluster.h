/*
 * cluster.h: several sipwarden instances sharing limits, bans and the call registry
 * through Redis ([cluster], sipwarden.conf(5)).
 *
 * Responsible for the two Redis connections (commands; ban channel) on the signalling
 * event base through hiredis's libevent adapter, so the loop never blocks: the heartbeat
 * that republishes this instance's counts and registry, the asynchronous admission of a
 * new call against the shared limits (bounded by [cluster] timeout), releasing a call,
 * publishing and receiving bans, reconnecting with backoff, and deciding what a store
 * failure means (on_store_failure). Not responsible for the local limits, the calls
 * themselves (b2bua*.c) or the admission table (lib/admit.c); the scripts and reply
 * readers are lib/cluster_proto.c.
 */
#ifndef SW_CLUSTER_H
#define SW_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

struct event_base;
struct conf;
struct telemetry;
struct cluster;

/* What the cluster asks of the rest of the daemon. `arg` is cluster_hooks.arg. */
struct cluster_hooks {
	/*
	 * The verdict on an INVITE held by cluster_admit() (its `trunk`): `refusal` NULL to admit
	 * it, else a reason token ("max_calls", "trunk_max_calls", "cluster_unavailable",
	 * "shutting_down"). `in_store`: the call is counted in Redis (call
	 * cluster_release() when it ends); false for an admission on the local share.
	 */
	void (*admit_done)(void *arg, uint64_t conn, void *token, const char *trunk,
	                   const char *refusal, bool in_store);
	/* This instance's calls now: {"calls":[{call, state, trunk, agent, duration_ms}]},
	 * as b2bua_calls_json() gives them (new reference). */
	json_t *(*calls)(void *arg);
	/* Another instance banned `sa` (a stranger) for `ms` with `reason`. */
	void (*ban)(void *arg, const struct sockaddr *sa, unsigned ms, const char *reason,
	            const char *from);
	void *arg;
};

/*
 * Start clustering as `conf` ([cluster]) says: connect (without waiting), heartbeat,
 * subscribe to bans. Returns 0 and *out, or a negative errno (*out untouched).
 * Owner: the caller; cluster_free() closes the connections and answers every held INVITE
 * with the refusal "shutting_down". Keeps a reference to `conf`.
 */
int cluster_new(struct cluster **out, struct event_base *base, struct conf *conf,
                struct telemetry *tel, const struct cluster_hooks *hooks);
void cluster_free(struct cluster *cl);

/*
 * cluster_wire.c: cluster_new() with the hooks going to the B2BUA `b` and the SIP server
 * `sip`, which are told of the cluster (held INVITEs, bans both ways). cluster_stop()
 * unhooks them and frees the cluster (before the B2BUA and the server go).
 */
struct b2bua;
struct sip_server;
int cluster_start(struct cluster **out, struct event_base *base, struct conf *conf,
                  struct telemetry *tel, struct b2bua *b, struct sip_server *sip);
void cluster_stop(struct cluster *cl);

/*
 * Ask whether a new call of `trunk` (name) may start, against `gmax` calls in all and
 * `tmax` of the trunk (0: none) across the instances. `local_all` and `local_trunk` are
 * this instance's calls now (for the local share when Redis is out). The verdict comes
 * through hooks.admit_done(conn, token) - possibly before this returns (Redis known to
 * be out). Returns 0, or -ENOMEM (no verdict will come).
 */
int cluster_admit(struct cluster *cl, uint64_t conn, void *token, const char *trunk, unsigned gmax,
                  unsigned tmax, unsigned local_all, unsigned local_trunk);

/*
 * A CANCEL arrived on `conn` for an INVITE this cluster may hold: `match(token, arg)`
 * tells which. cluster_holds() says whether one is held; cluster_cancel_held() gives it
 * the verdict "cancelled" at once (hooks.admit_done runs before it returns); a grant that
 * comes later from Redis is given back.
 */
bool cluster_holds(struct cluster *cl, uint64_t conn, bool (*match)(void *token, void *arg),
                   void *arg);
void cluster_cancel_held(struct cluster *cl, uint64_t conn, bool (*match)(void *token, void *arg),
                         void *arg);

/* A call admitted with in_store ended: uncount it in Redis (best effort; the next
 * heartbeat republishes the truth anyway). */
void cluster_release(struct cluster *cl, const char *trunk);

/* The registry or counts changed: republish soon (coalesced), not only at the next
 * heartbeat. */
void cluster_changed(struct cluster *cl);

/* This instance banned the stranger `source` (as lib/admit.h prints it) for `ms`:
 * publish it to the other instances. */
void cluster_ban(struct cluster *cl, const char *source, unsigned ms, const char *reason);

/*
 * The cluster as the control socket shows it ("cluster" command): this instance, the
 * store's state and counters, and the last view of every instance's calls with its age
 * ({"view":{...}|null, "age_ms":N}); asking refreshes the view in the background, so a
 * client asks again for a fresh one (sipwardenctl does). New reference.
 */
json_t *cluster_json(struct cluster *cl);
/* The same without the view, and without asking Redis for one (for "stats", /metrics). */
json_t *cluster_stats_json(const struct cluster *cl);

/* Whether the store is usable now (connected, last answer in time). */
bool cluster_store_ok(const struct cluster *cl);

#endif
