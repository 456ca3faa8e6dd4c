/*
 * admit.c: the per-source admission table (see admit.h).
 *
 * Responsible for the table (hash, eviction of the longest idle entry), the per-source
 * connection counts and caps, the token buckets, bans and the rate limit on reports.
 * Not responsible for what happens to a refused connection or request, for the clock or
 * for telemetry: daemon/sip_admit.c does those.
 */
#include "admit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <openssl/crypto.h>

#define MILLI             1000u /* a bucket counts thousandths of a request */
#define REPORTS_PER_S     20u   /* flood reports, all sources together */
#define REPORTS_BURST     100u
#define ADMIT_MAX_SOURCES (1u << 24)

/* The identity of a source: address family, class, address (IPv6 stranger: /64). */
struct key {
	uint8_t family; /* 4 or 6 */
	uint8_t cls;
	uint8_t addr[16];
};

/*
 * struct src: one source. Owner: its struct admit (slots[]); reused after eviction.
 * While conns == 0 it sits on the idle list, oldest first.
 */
struct src {
	struct key key;
	bool used;
	bool reported_once;
	unsigned conns;
	uint64_t tokens; /* thousandths of a request */
	uint64_t stamp;  /* last refill (ms) */
	uint64_t ban_until;
	const char *ban_reason;
	uint64_t reported; /* last flood report (ms) */
	struct src *hnext;
	TAILQ_ENTRY(src) idle;
};

TAILQ_HEAD(src_list, src);

struct admit {
	struct admit_limits lim;
	uint64_t hk[6]; /* hash key */
	unsigned bits;  /* log2 of the bucket count */
	struct src **buckets;
	struct src *slots;
	size_t cap, nused;
	struct src *free; /* unused slots, chained by hnext */
	struct src_list idle;
	unsigned open[ADMIT_NCLASS];
	uint64_t rep_tokens, rep_stamp; /* global report limiter */
	uint64_t evicted;
};

/* splitmix64: expands the seed into the hash key. */
static uint64_t
mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The key of `sa` for class `cls`; -1 for anything but an IP address. IPv4-mapped IPv6
 * addresses are IPv4. */
static int
make_key(const struct sockaddr *sa, enum admit_class cls, struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->cls = (uint8_t)cls;
	if (sa->sa_family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		k->family = 4;
		memcpy(k->addr, a6->s6_addr + 12, 4);
		return 0;
	}
	k->family = 6;
	memcpy(k->addr, a6->s6_addr, cls == ADMIT_UNKNOWN ? 8 : 16);
	return 0;
}

/* Vector multiply-shift (Dietzfelbinger): universal for a random key. */
static size_t
bucket_of(const struct admit *a, const struct key *k)
{
	uint64_t h = a->hk[5];

	for (int i = 0; i < 4; i++) {
		uint32_t w;
		memcpy(&w, k->addr + 4 * i, 4);
		h += a->hk[i] * w;
	}
	h += a->hk[4] * (uint64_t)((unsigned)k->family << 8 | k->cls);
	return (size_t)(h >> (64 - a->bits));
}

static struct src *
lookup(const struct admit *a, const struct key *k)
{
	for (struct src *s = a->buckets[bucket_of(a, k)]; s != NULL; s = s->hnext)
		if (memcmp(&s->key, k, sizeof(*k)) == 0)
			return s;
	return NULL;
}

static void
unhash(struct admit *a, struct src *s)
{
	struct src **pp = &a->buckets[bucket_of(a, &s->key)];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp == s)
		*pp = s->hnext;
}

/* The entry of `k`, made (with a full bucket) when missing; NULL when the table is full
 * of sources with open connections. */
static struct src *
get(struct admit *a, const struct key *k, uint64_t now)
{
	struct src *s = lookup(a, k);
	size_t b;

	if (s != NULL)
		return s;
	if ((s = a->free) != NULL) {
		a->free = s->hnext;
		a->nused++;
	} else if ((s = TAILQ_FIRST(&a->idle)) != NULL) {
		TAILQ_REMOVE(&a->idle, s, idle);
		unhash(a, s);
		a->evicted++;
	} else
		return NULL;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->key = *k;
	s->tokens = (uint64_t)a->lim.burst[k->cls] * MILLI;
	s->stamp = now;
	b = bucket_of(a, k);
	s->hnext = a->buckets[b];
	a->buckets[b] = s;
	TAILQ_INSERT_TAIL(&a->idle, s, idle);
	return s;
}

/* Mark an idle entry as just used (it is evicted last). */
static void
touch(struct admit *a, struct src *s)
{
	if (s->conns == 0) {
		TAILQ_REMOVE(&a->idle, s, idle);
		TAILQ_INSERT_TAIL(&a->idle, s, idle);
	}
}

static bool
is_banned(const struct src *s, uint64_t now)
{
	return s->ban_until > now;
}

/* Refill s's bucket up to `now`. */
static void
refill(const struct admit *a, struct src *s, uint64_t now)
{
	uint64_t cap = (uint64_t)a->lim.burst[s->key.cls] * MILLI;
	uint64_t rate = a->lim.rate[s->key.cls]; /* per second = thousandths per ms */

	if (now > s->stamp) {
		uint64_t dt = now - s->stamp;
		if (rate == 0 || dt >= cap / rate + 1)
			s->tokens = cap;
		else
			s->tokens += dt * rate;
	}
	s->stamp = now;
	if (s->tokens > cap)
		s->tokens = cap;
}

/* Whether a refusal of s should be reported now (per source, then all together). */
static bool
report_due(struct admit *a, struct src *s, uint64_t now)
{
	if (s != NULL && s->reported_once && now - s->reported < a->lim.report_ms)
		return false;
	if (now > a->rep_stamp) {
		uint64_t dt = now - a->rep_stamp;
		a->rep_tokens += dt * REPORTS_PER_S;
		if (a->rep_tokens > (uint64_t)REPORTS_BURST * MILLI)
			a->rep_tokens = (uint64_t)REPORTS_BURST * MILLI;
	}
	a->rep_stamp = now;
	if (a->rep_tokens < MILLI)
		return false;
	a->rep_tokens -= MILLI;
	if (s != NULL) {
		s->reported_once = true;
		s->reported = now;
	}
	return true;
}

int
admit_new(struct admit **out, size_t max_sources, const struct admit_limits *lim, uint64_t seed)
{
	struct admit *a;
	size_t nb = 1;
	unsigned bits = 0;

	if (max_sources == 0 || max_sources > ADMIT_MAX_SOURCES)
		return -EINVAL;
	while (nb < max_sources) {
		nb <<= 1;
		bits++;
	}
	if (bits == 0) {
		nb = 2;
		bits = 1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->buckets = calloc(nb, sizeof(*a->buckets));
	a->slots = calloc(max_sources, sizeof(*a->slots));
	if (a->buckets == NULL || a->slots == NULL) {
		admit_free(a);
		return -ENOMEM;
	}
	a->bits = bits;
	a->cap = max_sources;
	for (size_t i = max_sources; i-- > 0;) {
		a->slots[i].hnext = a->free;
		a->free = &a->slots[i];
	}
	TAILQ_INIT(&a->idle);
	for (int i = 0; i < 6; i++)
		a->hk[i] = mix(&seed);
	a->rep_tokens = (uint64_t)REPORTS_BURST * MILLI;
	a->lim = *lim;
	*out = a;
	return 0;
}

void
admit_free(struct admit *a)
{
	if (a == NULL)
		return;
	free(a->buckets);
	free(a->slots);
	free(a);
}

void
admit_set_limits(struct admit *a, const struct admit_limits *lim)
{
	a->lim = *lim;
}

/* Same IP address, ports aside (IPv4-mapped IPv6 counts as IPv4). */
static bool
same_ip(const struct sockaddr *x, const struct sockaddr *y)
{
	struct key kx, ky;

	return make_key(x, ADMIT_TRUNK, &kx) == 0 && make_key(y, ADMIT_TRUNK, &ky) == 0 &&
	       memcmp(&kx, &ky, sizeof(kx)) == 0;
}

enum admit_class
admit_classify(const struct conf *c, const struct sockaddr *sa)
{
	if (conf_trunk_by_source(c, sa) != NULL)
		return ADMIT_TRUNK;
	for (size_t i = 0; i < c->nagents; i++)
		if (same_ip((const struct sockaddr *)&c->agents[i].address.ss, sa))
			return ADMIT_AGENT;
	return ADMIT_UNKNOWN;
}

enum admit_class
admit_classify_cert(const struct conf *c, const uint8_t fp[32])
{
	for (size_t i = 0; i < c->nagents; i++)
		if (c->agents[i].fingerprint.set &&
		    CRYPTO_memcmp(c->agents[i].fingerprint.sha256, fp, 32) == 0)
			return ADMIT_AGENT;
	return ADMIT_UNKNOWN;
}

const char *
admit_class_name(enum admit_class cls)
{
	static const char *const names[] = {"unknown", "trunk", "agent"};

	return (unsigned)cls < ADMIT_NCLASS ? names[cls] : "?";
}

enum admit_verdict
admit_accept(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now,
             bool *report)
{
	bool rep = false;
	enum admit_verdict v;
	struct key k;
	struct src *s;

	if (make_key(sa, cls, &k) != 0) {
		v = ADMIT_UNTRACKED;
		goto out;
	}
	if ((s = get(a, &k, now)) == NULL) {
		v = cls == ADMIT_UNKNOWN ? ADMIT_TABLE_FULL : ADMIT_UNTRACKED;
		rep = v == ADMIT_TABLE_FULL && report_due(a, NULL, now);
		goto out;
	}
	if (cls == ADMIT_UNKNOWN) {
		touch(a, s);
		if (is_banned(s, now)) {
			v = ADMIT_BANNED; /* reported once, when it was banned */
			goto out;
		}
		v = ADMIT_OK;
		if (a->lim.per_source != 0 && s->conns >= a->lim.per_source)
			v = ADMIT_SOURCE_FULL;
		else if (a->open[ADMIT_UNKNOWN] >= a->lim.strangers)
			v = ADMIT_STRANGERS_FULL;
		if (v != ADMIT_OK) {
			rep = report_due(a, s, now);
			goto out;
		}
	}
	if (s->conns++ == 0)
		TAILQ_REMOVE(&a->idle, s, idle);
	a->open[cls]++;
	v = ADMIT_OK;
out:
	if (report != NULL)
		*report = rep;
	return v;
}

void
admit_release(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now)
{
	struct key k;
	struct src *s;

	(void)now;
	if (make_key(sa, cls, &k) != 0 || (s = lookup(a, &k)) == NULL || s->conns == 0)
		return;
	if (a->open[cls] > 0)
		a->open[cls]--;
	if (--s->conns == 0)
		TAILQ_INSERT_TAIL(&a->idle, s, idle);
}

enum admit_verdict
admit_request(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now,
              bool *report)
{
	struct key k;
	struct src *s;

	if (report != NULL)
		*report = false;
	if (make_key(sa, cls, &k) != 0 || (s = get(a, &k, now)) == NULL)
		return ADMIT_OK;
	touch(a, s);
	if (cls == ADMIT_UNKNOWN && is_banned(s, now))
		return ADMIT_BANNED;
	if (a->lim.rate[cls] == 0)
		return ADMIT_OK;
	refill(a, s, now);
	if (s->tokens >= MILLI) {
		s->tokens -= MILLI;
		return ADMIT_OK;
	}
	if (cls == ADMIT_UNKNOWN) {
		s->ban_until = now + a->lim.ban_ms;
		s->ban_reason = "request_rate";
		return ADMIT_BAN_NOW;
	}
	if (report != NULL)
		*report = report_due(a, s, now);
	return ADMIT_OVER_BUDGET;
}

int
admit_ban(struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now,
          unsigned ms, const char *reason)
{
	struct key k;
	struct src *s;

	if (cls != ADMIT_UNKNOWN)
		return -EPERM;
	if (make_key(sa, cls, &k) != 0)
		return -EINVAL;
	if ((s = get(a, &k, now)) == NULL)
		return -ENOMEM;
	touch(a, s);
	if (is_banned(s, now) && s->ban_until >= now + ms)
		return 0;
	s->ban_until = now + ms;
	s->ban_reason = reason;
	return 0;
}

bool
admit_banned(const struct admit *a, const struct sockaddr *sa, enum admit_class cls, uint64_t now,
             const char **reason, uint64_t *until)
{
	struct key k;
	const struct src *s;

	if (cls != ADMIT_UNKNOWN || make_key(sa, cls, &k) != 0 || (s = lookup(a, &k)) == NULL ||
	    !is_banned(s, now))
		return false;
	if (reason != NULL)
		*reason = s->ban_reason;
	if (until != NULL)
		*until = s->ban_until;
	return true;
}

unsigned
admit_open(const struct admit *a, const struct sockaddr *sa, enum admit_class cls)
{
	struct key k;
	const struct src *s;

	if (make_key(sa, cls, &k) != 0 || (s = lookup(a, &k)) == NULL)
		return 0;
	return s->conns;
}

bool
admit_same_source(const struct sockaddr *x, const struct sockaddr *y, enum admit_class cls)
{
	struct key kx, ky;

	return make_key(x, cls, &kx) == 0 && make_key(y, cls, &ky) == 0 &&
	       memcmp(&kx, &ky, sizeof(kx)) == 0;
}

const char *
admit_source_str(const struct sockaddr *sa, enum admit_class cls, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	struct key k;

	if (make_key(sa, cls, &k) != 0 ||
	    inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.addr, host, sizeof(host)) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%s%s", host, k.family == 6 && cls == ADMIT_UNKNOWN ? "/64" : "");
	return buf;
}

bool
admit_scanner_ua(const char *ua)
{
	static const char *const scanners[] = {
	        "friendly-scanner", "sipvicious", "sipcli", "sip-scan",
	        "vaxsipuseragent",  "pplsip",     NULL};

	if (ua == NULL)
		return false;
	for (const char *p = ua; *p != '\0'; p++)
		for (size_t i = 0; scanners[i] != NULL; i++)
			if (strncasecmp(p, scanners[i], strlen(scanners[i])) == 0)
				return true;
	return false;
}

void
admit_get_stats(const struct admit *a, uint64_t now, struct admit_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->sources = a->nused;
	out->evicted = a->evicted;
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i].used && is_banned(&a->slots[i], now))
			out->banned++;
}
