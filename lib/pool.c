/*
 * pool.c: agent selection and health bookkeeping (see pool.h). Not thread-safe: used
 * only by the signalling thread.
 */
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pool_entry {
	char name[CONF_NAME_MAX];
	unsigned weight;
	bool up;
	unsigned active;
	unsigned failures;
	uint64_t calls;
	long current; /* smooth weighted round-robin state */
	/* probes off: when a down agent may take a call again, and the next wait */
	int64_t retry_at;
	unsigned backoff_ms;
	bool retrying; /* pool_pick() handed it out as a retry; no outcome yet */
};

struct pool {
	enum agent_policy policy;
	bool retry; /* no probes: down agents are retried after a backoff */
	unsigned max_failures;
	size_t n;
	struct pool_entry *e;
};

struct pool *
pool_new(const struct conf *c)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->n = c->nagents;
	p->e = calloc(p->n ? p->n : 1, sizeof(*p->e));
	if (p->e == NULL) {
		free(p);
		return NULL;
	}
	p->policy = c->pool.policy;
	p->max_failures = c->pool.probe_failures ? c->pool.probe_failures : 1;
	p->retry = c->pool.probe_interval_ms == 0;
	for (size_t i = 0; i < p->n; i++) {
		snprintf(p->e[i].name, sizeof(p->e[i].name), "%s", c->agents[i].name);
		p->e[i].weight = c->agents[i].weight ? c->agents[i].weight : 1;
		p->e[i].up = true;
	}
	return p;
}

void
pool_reconf(struct pool *p, const struct conf *c)
{
	p->policy = c->pool.policy;
	p->max_failures = c->pool.probe_failures ? c->pool.probe_failures : 1;
	for (size_t i = 0; i < p->n && i < c->nagents; i++)
		p->e[i].weight = c->agents[i].weight ? c->agents[i].weight : 1;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	free(p->e);
	free(p);
}

size_t
pool_size(const struct pool *p)
{
	return p->n;
}

static bool
untried(size_t i, uint64_t tried)
{
	return i >= 64 || (tried & (UINT64_C(1) << i)) == 0;
}

static bool
eligible(const struct pool *p, size_t i, uint64_t tried)
{
	return p->e[i].up && untried(i, tried);
}

/* Probes off: the first down agent whose retry is due; it is handed out once per
 * backoff period (the next retry time is set now, whatever the call makes of it). */
static int
pick_retry(struct pool *p, uint64_t tried, int64_t now)
{
	for (size_t i = 0; p->retry && i < p->n; i++) {
		struct pool_entry *e = &p->e[i];
		if (e->up || !untried(i, tried) || now < e->retry_at)
			continue;
		e->retry_at = now + e->backoff_ms;
		e->retrying = true;
		return (int)i;
	}
	return -1;
}

/* nginx-style smooth weighted round-robin over the eligible agents. */
static int
pick_round_robin(struct pool *p, uint64_t tried)
{
	long total = 0;
	int best = -1;

	for (size_t i = 0; i < p->n; i++) {
		if (!eligible(p, i, tried))
			continue;
		p->e[i].current += p->e[i].weight;
		total += p->e[i].weight;
		if (best < 0 || p->e[i].current > p->e[best].current)
			best = (int)i;
	}
	if (best >= 0)
		p->e[best].current -= total;
	return best;
}

/* Fewest active calls per unit of weight; ties go to the one with fewer calls so far. */
static int
pick_least_busy(struct pool *p, uint64_t tried)
{
	int best = -1;

	for (size_t i = 0; i < p->n; i++) {
		if (!eligible(p, i, tried))
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		const struct pool_entry *a = &p->e[i], *b = &p->e[best];
		/* a.active/a.weight < b.active/b.weight, without division */
		uint64_t la = (uint64_t)a->active * b->weight, lb = (uint64_t)b->active * a->weight;
		if (la < lb || (la == lb && a->calls < b->calls))
			best = (int)i;
	}
	return best;
}

int
pool_pick(struct pool *p, uint64_t tried, int64_t now_ms)
{
	int i = pick_retry(p, tried, now_ms);

	if (i >= 0)
		return i;
	return p->policy == AGENT_ROUND_ROBIN ? pick_round_robin(p, tried)
	                                      : pick_least_busy(p, tried);
}

void
pool_call_start(struct pool *p, int idx)
{
	if (idx < 0 || (size_t)idx >= p->n)
		return;
	p->e[idx].active++;
	p->e[idx].calls++;
}

void
pool_call_end(struct pool *p, int idx)
{
	if (idx < 0 || (size_t)idx >= p->n || p->e[idx].active == 0)
		return;
	p->e[idx].active--;
}

int
pool_report(struct pool *p, int idx, bool ok, int64_t now_ms)
{
	struct pool_entry *e;

	if (idx < 0 || (size_t)idx >= p->n)
		return 0;
	e = &p->e[idx];
	if (ok) {
		e->failures = 0;
		e->retrying = false;
		if (!e->up) {
			e->up = true;
			return 1;
		}
		return 0;
	}
	if (e->failures < UINT32_MAX)
		e->failures++;
	if (e->up && e->failures >= p->max_failures) {
		e->up = false;
		e->backoff_ms = POOL_RETRY_FIRST_MS;
		e->retry_at = now_ms + e->backoff_ms;
		e->retrying = false;
		return -1;
	}
	if (!e->up && e->retrying) {
		/* the retry failed too: wait twice as long (a failure of a call that was
		 * already under way when the agent went down does not count) */
		e->retrying = false;
		e->backoff_ms = e->backoff_ms >= POOL_RETRY_MAX_MS / 2 ? POOL_RETRY_MAX_MS
		                                                       : e->backoff_ms * 2;
		e->retry_at = now_ms + e->backoff_ms;
	}
	return 0;
}

bool
pool_is_agent_fault(int err)
{
	switch (-err) {
	case ENOTCONN:
	case ENOBUFS:
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
		return true;
	default:
		return false;
	}
}

bool
pool_agent(const struct pool *p, int idx, struct pool_agent_info *out)
{
	if (idx < 0 || (size_t)idx >= p->n)
		return false;
	out->name = p->e[idx].name;
	out->up = p->e[idx].up;
	out->active = p->e[idx].active;
	out->weight = p->e[idx].weight;
	out->failures = p->e[idx].failures;
	out->calls = p->e[idx].calls;
	return true;
}
