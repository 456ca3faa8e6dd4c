/*
 * admit.h: admission control per source address.
 *
 * Keeps a bounded table of the source addresses that connect to sipwarden and, per
 * source: its open connections, a token bucket of requests, and a ban (until when and
 * why). Sources are classed when a connection is accepted: a trunk (inside a trunk's
 * `source` CIDRs), an agent (the IP of an agent's configured address) or unknown (a
 * stranger). Only strangers are capped per source, share a bounded part of the
 * connections, and are banned; trunks and agents have their own, higher request budget
 * and are never locked out by strangers. IPv6 strangers are keyed by their /64 (one
 * subscriber's allocation), so an attacker cannot dodge the per-source limits by
 * rotating addresses inside it.
 *
 * Pure logic: no event base, no clock, no I/O. The caller passes the time (monotonic
 * milliseconds), so tests are deterministic; the daemon (daemon/sip_admit.c) applies the
 * verdicts to connections and emits the telemetry. Not thread-safe (signalling thread).
 *
 * Memory is bounded: the table holds at most `max_sources` entries. A source with open
 * connections keeps its entry; when the table is full the entry idle the longest goes
 * (also a banned one: an attacker able to evict bans has that many addresses anyway).
 * Lookups hash the address with a random key (universal multiply-shift), so chain
 * lengths do not depend on which addresses the attacker picks.
 */
#ifndef SW_ADMIT_H
#define SW_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"

enum admit_class {
	ADMIT_UNKNOWN = 0, /* a stranger */
	ADMIT_TRUNK,       /* inside a configured trunk's source CIDRs */
	ADMIT_AGENT,       /* the address of a configured agent */
	ADMIT_NCLASS
};

/* What the table enforces (from [admission] and [tls] max_connections). */
struct admit_limits {
	unsigned per_source;          /* concurrent connections of one stranger; 0: no cap */
	unsigned strangers;           /* concurrent connections of all strangers together */
	unsigned rate[ADMIT_NCLASS];  /* requests per second refilled; 0: no budget */
	unsigned burst[ADMIT_NCLASS]; /* bucket size (requests) */
	unsigned ban_ms;              /* how long a stranger over its budget is banned */
	unsigned report_ms;           /* at most one flood report per source per this */
};

enum admit_verdict {
	ADMIT_OK = 0,
	ADMIT_UNTRACKED,      /* accepted, but the table had no room: do not admit_release() */
	ADMIT_BANNED,         /* the stranger is banned: refuse / drop */
	ADMIT_SOURCE_FULL,    /* the stranger has per_source connections open */
	ADMIT_STRANGERS_FULL, /* strangers together hold their whole share */
	ADMIT_TABLE_FULL,     /* no room to track another stranger */
	ADMIT_OVER_BUDGET,    /* a trunk or agent over its request budget: shed this request */
	ADMIT_BAN_NOW,        /* a stranger just exhausted its budget: it is banned from now */
};

struct admit;

/* Counters of the table (for the control socket's stats). */
struct admit_stats {
	size_t sources; /* entries in the table */
	size_t banned;  /* strangers banned right now */
	uint64_t evicted;
};

/*
 * A new table for at most `max_sources` sources (>= 1), hashing with a key derived from
 * `seed` (use random bytes outside tests). Returns 0 and *out, or -ENOMEM/-EINVAL
 * (*out untouched). Owner: the caller; free with admit_free().
 */
int admit_new(struct admit **out, size_t max_sources, const struct admit_limits *lim,
              uint64_t seed);
void admit_free(struct admit *a);
/* Apply new limits (config reload). Open connections and bans are kept. */
void admit_set_limits(struct admit *a, const struct admit_limits *lim);

/* The class of a connection from `sa` under config `c`. */
enum admit_class admit_classify(const struct conf *c, const struct sockaddr *sa);
/* The class a peer certificate (SHA-256 `fp`) proves: ADMIT_AGENT when it is an agent's
 * pinned `fingerprint` (an agent calling out from an address not configured), else
 * ADMIT_UNKNOWN. */
enum admit_class admit_classify_cert(const struct conf *c, const uint8_t fp[32]);
const char *admit_class_name(enum admit_class cls);

/*
 * A connection from `sa` (class `cls`) was accepted at `now`. Returns ADMIT_OK (counted:
 * call admit_release() when it closes), ADMIT_UNTRACKED (trunk/agent, accepted but not
 * counted), or a refusal: ADMIT_BANNED, ADMIT_SOURCE_FULL, ADMIT_STRANGERS_FULL,
 * ADMIT_TABLE_FULL. *report (may be NULL) is set when the refusal should be reported
 * (security.flood): at most once per source per report_ms.
 */
enum admit_verdict admit_accept(struct admit *a, const struct sockaddr *sa, enum admit_class cls,
                                uint64_t now, bool *report);
/* A connection counted by admit_accept() closed. */
void admit_release(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now);

/*
 * Charge one message from `sa` against its budget. Returns ADMIT_OK, ADMIT_BANNED (a
 * banned stranger), ADMIT_BAN_NOW (a stranger just ran out: banned for ban_ms, reason
 * "request_rate") or ADMIT_OVER_BUDGET (a trunk/agent out of budget; never banned).
 * *report as for admit_accept() (for ADMIT_OVER_BUDGET).
 */
enum admit_verdict admit_request(struct admit *a, const struct sockaddr *sa, enum admit_class cls,
                                 uint64_t now, bool *report);

/*
 * Ban the stranger `sa` for `ms` from `now` with `reason` (a static string, e.g.
 * "scanner"). Returns 0, or -EPERM for a trunk or agent (never banned), -ENOMEM when the
 * table has no room. A ban in force is not shortened.
 */
int admit_ban(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now,
              unsigned ms, const char *reason);
/* Whether `sa` is banned at `now`; *reason and *until (may be NULL) describe the ban. */
bool admit_banned(const struct admit *a, const struct sockaddr *sa, enum admit_class cls,
                  uint64_t now, const char **reason, uint64_t *until);

/* Connections `sa` (class `cls`) holds open, as counted. */
unsigned admit_open(const struct admit *a, const struct sockaddr *sa, enum admit_class cls);

/* Whether `x` and `y` are the same source for class `cls` (IPv6 strangers: same /64). */
bool admit_same_source(const struct sockaddr *x, const struct sockaddr *y, enum admit_class cls);
/* The source as text: "192.0.2.1", "2001:db8::1", a stranger's "2001:db8:1:2::/64". */
const char *admit_source_str(const struct sockaddr *sa, enum admit_class cls, char *buf,
                             size_t len);

/* Whether a User-Agent value names a known SIP scanner (friendly-scanner, sipvicious,
 * sipcli, sip-scan, VaxSIPUserAgent, pplsip; any case). NULL: false. */
bool admit_scanner_ua(const char *ua);

void admit_get_stats(const struct admit *a, uint64_t now, struct admit_stats *out);

#endif
