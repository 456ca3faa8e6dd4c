/*
 * b2bua.h: calls across sipwarden. Each call is two SIP dialogs: leg A, where the caller
 * (a trunk) sent us an INVITE, and leg B, where we send a new INVITE to an agent of the
 * pool. Identifiers, SDP and keys are new on each leg; only allow-listed headers cross.
 *
 * The B2BUA sits on the SIP server's hooks (sip_server.h) and on the media engine
 * (media.h): it enforces the SRTP policy on both offers and answers (sdp.h), sets up the
 * relay with independent keys per leg, fails over between agents, probes agents with
 * OPTIONS, enforces call limits and timers, and reports to telemetry. It owns its calls
 * and frees them; the SIP server owns connections, which the B2BUA names by id only.
 */
#ifndef SW_B2BUA_H
#define SW_B2BUA_H

#include <jansson.h>

#include "conf.h"
#include "media.h"
#include "sip_server.h"
#include "telemetry.h"

struct b2bua;

/*
 * Start the B2BUA on `base` over `sip` (installs its hooks) and `media` (watches its event
 * fd), building one client TLS context per agent (its client certificate, or [tls]
 * client_certificate; verification per `verify`). `tel` may be NULL. Returns 0 and *out,
 * or a negative errno with a message in `err`.
 */
int b2bua_new(struct b2bua **out, struct event_base *base, struct conf *conf,
              struct sip_server *sip, struct media_engine *media, struct telemetry *tel, char *err,
              size_t errlen);

/* New calls use `conf` from now on; calls in progress keep theirs. Returns 0, or a
 * negative errno with `err` set and nothing changed (e.g. a client certificate that does
 * not load, or trunk/agent lists of another shape, which need a restart). */
int b2bua_reload(struct b2bua *b, struct conf *conf, char *err, size_t errlen);

/* End every call (BYE/CANCEL/503 on both legs, reason "shutdown") and stop taking new
 * ones. Returns the number of calls that were ended. */
unsigned b2bua_shutdown(struct b2bua *b);

/* The same ending of every call in progress, without the stop: what happens when a
 * drain's timeout passes. Returns the number of calls that were ended. */
unsigned b2bua_end_calls(struct b2bua *b);

/*
 * Drain (on) or back in service (off). While draining, a new INVITE (from a trunk or an
 * agent calling out) gets 503 with Retry-After and a security.limit_reached event with
 * reason "draining", an OPTIONS outside a call gets 503 (so that load balancers probing
 * with OPTIONS steer away), and calls in progress go on. The daemon (main.c) decides
 * when to drain and when calls in progress are ended (b2bua_end_calls()).
 */
void b2bua_set_draining(struct b2bua *b, bool on);

/*
 * [cluster]: hold each new INVITE from a trunk, once it passed every local check, until
 * `cl` (daemon/cluster.h; NULL: off) admits it against the shared limits. Not owned.
 * b2bua_cluster_done() is the cluster's admit_done hook (arg: the b2bua).
 */
struct cluster;
void b2bua_set_cluster(struct b2bua *b, struct cluster *cl);
void b2bua_cluster_done(void *arg, uint64_t conn, void *token, const char *trunk,
                        const char *refusal, bool in_store);

/* Free everything (calls still present are ended without signalling). */
void b2bua_free(struct b2bua *b);

/* Number of calls in the table. */
unsigned b2bua_calls(const struct b2bua *b);

/* Control socket replies: {"calls":[...]}, one call, {"agents":[...]}. New objects. */
json_t *b2bua_calls_json(struct b2bua *b);
json_t *b2bua_call_json(struct b2bua *b, const char *id);
json_t *b2bua_agents_json(struct b2bua *b);
/* `stats` → "overload": what admission of new calls sees now (b2bua_overload.c):
 * {"loop_lag_ms","admit_pct","media_load_pct","in_setup","shed"}. A new object. */
json_t *b2bua_overload_json(const struct b2bua *b);

#endif
