/*
 * pool.h: which agent takes the next call.
 *
 * Keeps, per configured agent, its health (from OPTIONS probes and call failures) and
 * its number of active calls, and picks an agent for a new call by the configured
 * policy: smooth weighted round-robin, or least busy relative to weight. Pure logic: it
 * sends no probes and opens no connections (the daemon does, and reports results here),
 * and reads no clock (the caller passes the time).
 *
 * Only the agent's own faults are to be reported as failures (its transport, timeouts,
 * 5xx): a request the daemon could not build is nobody's failure here. When probes are
 * off ([pool] probe_interval = 0) nothing else would bring a down agent back, so a down
 * agent is offered one new call after POOL_RETRY_FIRST_MS, then after twice that while
 * the retries keep failing, up to POOL_RETRY_MAX_MS; a success brings it up.
 */
#ifndef SW_POOL_H
#define SW_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct pool;

#define POOL_RETRY_FIRST_MS 30000  /* first retry of a down agent, probes off */
#define POOL_RETRY_MAX_MS   300000 /* the backoff doubles up to this */

/* Agent state as reported by pool_agent(). */
struct pool_agent_info {
	const char *name;
	bool up;
	unsigned active; /* calls in progress on this agent */
	unsigned weight;
	unsigned failures; /* consecutive failed probes or INVITEs */
	uint64_t calls;    /* calls routed to it since start */
};

/* New pool for the agents of `c` (all start up). NULL on allocation failure. The pool
 * copies what it needs; `c` may be freed afterwards. */
struct pool *pool_new(const struct conf *c);
/* A reload: take [pool] policy, probe_failures and the agents' weights from `c`, whose
 * agents are those of pool_new()'s config in the same order (conf_reload.h refuses any
 * other). Health, calls in progress and counters stay. */
void pool_reconf(struct pool *p, const struct conf *c);
void pool_free(struct pool *p);
size_t pool_size(const struct pool *p);

/*
 * Pick an agent for a new call among agents that are up and not in `tried` (bit i set =
 * agent i already tried for this call). With probes off, a down agent whose retry time
 * has come (at `now_ms`, any monotonic clock in ms) is picked first, once per backoff
 * period. Returns the agent index, or -1 if none is left. Does not count the call:
 * call pool_call_start() when the INVITE goes out.
 */
int pool_pick(struct pool *p, uint64_t tried, int64_t now_ms);

void pool_call_start(struct pool *p, int idx);
void pool_call_end(struct pool *p, int idx);

/*
 * Report a probe or INVITE outcome for agent `idx` at `now_ms`. After `probe_failures`
 * consecutive failures the agent goes down; one success brings it up. A failed retry
 * (probes off) doubles the backoff. Returns +1 if the agent just came up, -1 if it just
 * went down, 0 otherwise (the caller emits agent.up/agent.down).
 */
int pool_report(struct pool *p, int idx, bool ok, int64_t now_ms);

/*
 * Is `err` (a negative errno from opening the connection to an agent or sending it a
 * request) the agent's fault, to be reported with pool_report(.., false, ..)? Only
 * transport failures are: refused, unreachable, reset, timed out, gone (-ENOTCONN), or
 * a peer that does not read (-ENOBUFS). Anything else (-EINVAL, -ENOMEM, -E2BIG: the
 * message could not be built) happened on our side, would happen with any agent, and
 * must not take agents out of the pool.
 */
bool pool_is_agent_fault(int err);

/* Snapshot of agent `idx`; false if out of range. */
bool pool_agent(const struct pool *p, int idx, struct pool_agent_info *out);

#endif
