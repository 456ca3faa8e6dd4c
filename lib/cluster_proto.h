/*
 * cluster_proto.h: what sipwarden instances store in Redis and how its answers are read
 * ([cluster], daemon/cluster.c).
 *
 * Responsible for the Lua scripts that keep the shared state consistent (each runs
 * atomically inside Redis), the layout of the keys they touch, and the strict reading of
 * their replies and of the ban messages other instances publish. Pure: no I/O, no clock,
 * no event base, so every reply shape can be unit-tested. Not responsible for the
 * connection, timers or what the daemon does with a verdict (daemon/cluster.c).
 *
 * Keys, all under the configured prefix P and instance name I:
 *   P:instances      set of instance names that ever sent a heartbeat
 *   P:hb:I           heartbeat: the nonce of the process sending it, TTL heartbeat_ttl
 *   P:count:I        hash: "all" -> I's live calls, "t:TRUNK" -> I's calls of TRUNK
 *   P:reg:I          hash: call id -> JSON {id, instance, trunk, agent, state, start}, TTL
 *   P:bans           sorted set: "SOURCE REASON" scored by its expiry (Redis TIME, ms)
 *   P:bans (channel) "INSTANCE MS REASON SOURCE" for each new ban
 * An instance whose heartbeat expired is dropped from P:instances, and its counts and
 * registry deleted, by the next script that walks the set: its calls stop counting.
 */
#ifndef SW_CLUSTER_PROTO_H
#define SW_CLUSTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

enum cluster_script {
	CLUSTER_SCRIPT_HEARTBEAT, /* P I TTL NONCE N (FIELD COUNT)*N (CALLID JSON)*
	                             -> {live instances, clash} */
	CLUSTER_SCRIPT_ADMIT,     /* P I TRUNK GMAX TMAX -> {granted, reason, all, trunk} */
	CLUSTER_SCRIPT_RELEASE,   /* P I TRUNK -> 1 */
	CLUSTER_SCRIPT_BAN,       /* P I SOURCE MS REASON -> 1 (stores and publishes) */
	CLUSTER_SCRIPT_BANS,      /* P -> {SOURCE REASON, remaining ms}* */
	CLUSTER_SCRIPT_VIEW,      /* P -> {{INSTANCE, {FIELD, COUNT}*, {JSON}*}}* */
	CLUSTER_SCRIPT_COUNT
};

/* The Lua text of a script (static). */
const char *cluster_proto_script(enum cluster_script s);

/* The outcome of CLUSTER_SCRIPT_ADMIT. */
struct cluster_admit_result {
	bool granted;
	const char *reason; /* refused: "max_calls" or "trunk_max_calls" (static) */
	long long all;      /* calls of all instances, this one included when granted */
	long long trunk;    /* calls of the trunk on all instances */
};

/*
 * Read an ADMIT reply. Returns 0, -EPROTO for an error reply or any other shape (a
 * store failure for the caller), -EINVAL for a NULL reply (disconnected).
 */
int cluster_proto_admit_reply(const redisReply *r, struct cluster_admit_result *out);

/* The outcome of CLUSTER_SCRIPT_HEARTBEAT. */
struct cluster_heartbeat {
	unsigned live; /* instances alive, this one included (>= 1) */
	bool clash;    /* the heartbeat held another process's nonce: two processes use
	                  this instance name (or this one restarted within the TTL) */
};

/* Read a HEARTBEAT reply. 0, -EPROTO (another shape), -EINVAL (no reply). */
int cluster_proto_heartbeat_reply(const redisReply *r, struct cluster_heartbeat *out);

/*
 * One instance's share of a limit while Redis cannot be asked: `limit` divided by the
 * instances last seen alive (at least 1), rounded up, at least 1. limit 0: 0 (no limit).
 */
unsigned cluster_proto_share(unsigned limit, unsigned instances);

/* A ban, as published or stored. Strings point into the caller's buffer. */
struct cluster_ban {
	const char *instance; /* who banned (NULL for a stored ban) */
	const char *source;   /* an IP address, or an IPv6 "/64" prefix as admit prints it */
	const char *reason;   /* snake_case token */
	unsigned long ms;     /* remaining duration */
};

#define CLUSTER_BAN_MAX_MS (7ul * 24 * 3600 * 1000)

/*
 * Parse a published ban "INSTANCE MS REASON SOURCE" in place (`buf` is modified: spaces
 * become NULs). Every part is checked: an instance name, 1..CLUSTER_BAN_MAX_MS, a
 * snake_case reason of at most 32 bytes, a source that parses as an address (with "/64"
 * for IPv6). Returns 0 or -EINVAL.
 */
int cluster_proto_ban_parse(char *buf, struct cluster_ban *out);
/* The same for a stored member "SOURCE REASON" with its remaining `ms` (instance NULL). */
int cluster_proto_ban_member_parse(char *buf, unsigned long ms, struct cluster_ban *out);
/* The address of a ban's source (the /64 prefix for "...::/64"), port 0. 0 or -EINVAL. */
int cluster_proto_ban_addr(const char *source, struct sockaddr_storage *ss);

/*
 * Read a VIEW reply into {"instances":[{"instance","calls","trunks":{..},"registered"}],
 * "calls":[...registry entries...]} (new reference), or NULL for a malformed reply.
 * Registry entries that are not JSON objects are skipped.
 */
json_t *cluster_proto_view(const redisReply *r);

#endif
