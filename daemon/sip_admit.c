/*
 * sip_admit.c: admission control on the SIP listener (lib/admit.h applied to connections).
 *
 * Responsible for classing each accepted connection (trunk, agent, unknown), refusing it
 * at accept (before any TLS work) when its source is banned or over its connection
 * limits, closing a stranger that sends no complete request within
 * [admission] first_request_timeout, charging every framed message against its source's
 * request budget, refusing known scanners and OPTIONS/REGISTER sweeps from strangers
 * (one 403, then silence and a ban), and the security.flood / security.source_banned
 * events and counters that go with it. Not responsible for the table itself (lib/admit.c)
 * or for connections' life cycle (sip_server.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "log.h"
#include "sip_server_int.h"
#include "sip_util.h"
#include "telemetry.h"

#define REPORT_MS 10000 /* at most one security.flood per source per 10 s */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
limits_from_conf(const struct conf *c, struct admit_limits *l)
{
	const struct conf_admission *a = &c->admission;

	memset(l, 0, sizeof(*l));
	l->per_source = a->unknown_max_connections;
	l->strangers = c->tls.max_connections - a->reserved_connections; /* checked by conf */
	l->rate[ADMIT_UNKNOWN] = a->unknown_request_rate;
	l->burst[ADMIT_UNKNOWN] = a->unknown_request_burst;
	l->rate[ADMIT_TRUNK] = l->rate[ADMIT_AGENT] = a->known_request_rate;
	l->burst[ADMIT_TRUNK] = l->burst[ADMIT_AGENT] = a->known_request_burst;
	l->ban_ms = a->ban_time_ms;
	l->report_ms = REPORT_MS;
}

int
sip_admit_init(struct sip_server *s)
{
	struct admit_limits l;
	uint64_t seed;

	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		return -EIO;
	limits_from_conf(s->conf, &l);
	return admit_new(&s->admit, s->conf->admission.max_sources, &l, seed);
}

void
sip_admit_reload(struct sip_server *s)
{
	struct admit_limits l;

	limits_from_conf(s->conf, &l);
	admit_set_limits(s->admit, &l);
}

static void
report_flood(struct sip_server *s, const struct sockaddr *sa, enum admit_class cls,
             const char *reason, const char *detail)
{
	char src[INET6_ADDRSTRLEN + 8];

	admit_source_str(sa, cls, src, sizeof(src));
	log_info("source %s: %s (%s)", src, detail, reason);
	telemetry_flood(s->tel, src, reason, detail);
}

bool
sip_admit_accept(struct sip_server *s, const struct sockaddr *sa, enum admit_class *cls,
                 bool *tracked)
{
	bool report = false;
	enum admit_verdict v;

	*cls = admit_classify(s->conf, sa);
	v = admit_accept(s->admit, sa, *cls, now_ms(), &report);
	*tracked = v == ADMIT_OK;
	switch (v) {
	case ADMIT_OK:
	case ADMIT_UNTRACKED:
		return true;
	case ADMIT_BANNED:
		s->stats.refused_banned++;
		break;
	case ADMIT_SOURCE_FULL:
		s->stats.refused_source++;
		if (report)
			report_flood(s, sa, *cls, "connections",
			             "connections per unknown source reached");
		break;
	case ADMIT_STRANGERS_FULL:
		s->stats.refused_strangers++;
		if (report)
			report_flood(s, sa, *cls, "unknown_connections",
			             "connections of all unknown sources reached");
		break;
	default:
		s->stats.refused_table++;
		if (report)
			report_flood(s, sa, *cls, "sources", "too many unknown sources to track");
		break;
	}
	return false;
}

void
sip_admit_release(struct sip_server *s, const struct sockaddr *sa, enum admit_class cls,
                  bool tracked)
{
	if (tracked)
		admit_release(s->admit, sa, cls, now_ms());
}

static void
first_request_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->identified || c->closing)
		return;
	c->srv->stats.first_request_timeout++; /* counted exactly, logged at debug: a flood */
	log_debug("conn %llu %s: no request from an unknown source within %u ms, closing",
	          (unsigned long long)c->info.id, c->info.peer_str,
	          c->conf->admission.first_request_timeout_ms);
	sip_conn_close_now(c);
}

int
sip_admit_conn_start(struct sip_conn *c)
{
	unsigned ms = c->conf->admission.first_request_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (c->info.outbound || c->cls != ADMIT_UNKNOWN)
		return 0;
	if ((c->first_req = evtimer_new(c->srv->base, first_request_cb, c)) == NULL ||
	    evtimer_add(c->first_req, &tv) != 0)
		return -ENOMEM;
	return 0;
}

void
sip_admit_handshake(struct sip_conn *c)
{
	struct sip_server *s = c->srv;
	const struct sockaddr *sa = (const struct sockaddr *)&c->info.peer;

	if (c->info.outbound || c->cls != ADMIT_UNKNOWN || !c->info.tls.has_peer_cert ||
	    admit_classify_cert(c->conf, c->info.tls.peer_fp) != ADMIT_AGENT)
		return;
	sip_admit_release(s, sa, c->cls, c->admitted);
	c->cls = ADMIT_AGENT;
	c->admitted = admit_accept(s->admit, sa, ADMIT_AGENT, now_ms(), NULL) == ADMIT_OK;
	if (c->first_req != NULL)
		evtimer_del(c->first_req);
	log_debug("conn %llu %s: agent by its pinned certificate", (unsigned long long)c->info.id,
	          c->info.peer_str);
}

/* Close every inbound connection from the (unknown) source `sa`, after its output. */
static void
close_source(struct sip_server *s, const struct sockaddr *sa)
{
	size_t n = 0, cap = s->stats.open;
	uint64_t *ids = calloc(cap > 0 ? cap : 1, sizeof(*ids));
	struct sip_conn *o;

	if (ids == NULL)
		return;
	TAILQ_FOREACH(o, &s->conns, entry)
	{
		if (n < cap && !o->info.outbound && o->cls == ADMIT_UNKNOWN &&
		    admit_same_source((const struct sockaddr *)&o->info.peer, sa, ADMIT_UNKNOWN))
			ids[n++] = o->info.id;
	}
	/* By id: closing one may run hooks that close others. */
	for (size_t i = 0; i < n; i++)
		if ((o = sip_conn_find(s, ids[i])) != NULL)
			sip_conn_close_after_flush(o);
	free(ids);
}

/* c's source was banned for `ms` (reason): count, report, close its connections. */
static void
banned(struct sip_server *s, struct sip_conn *c, const char *reason, unsigned ms)
{
	char src[INET6_ADDRSTRLEN + 8];

	admit_source_str((const struct sockaddr *)&c->info.peer, ADMIT_UNKNOWN, src, sizeof(src));
	s->stats.bans++;
	log_info("source %s banned for %u ms (%s)", src, ms, reason);
	telemetry_source_banned(s->tel, src, reason, ms);
	if (s->ban_hook != NULL)
		s->ban_hook(s->ban_arg, src, ms, reason);
	close_source(s, (const struct sockaddr *)&c->info.peer);
}

void
sip_server_set_ban_hook(struct sip_server *s,
                        void (*hook)(void *arg, const char *source, unsigned ms,
                                     const char *reason),
                        void *arg)
{
	s->ban_hook = hook;
	s->ban_arg = arg;
}

int
sip_server_ban(struct sip_server *s, const struct sockaddr *sa, unsigned ms, const char *reason)
{
	/* admit keeps the reason as a static string: only the reasons it gives itself */
	static const char *const known[] = {"request_rate", "scanner", "sweep"};
	const char *why = "cluster";
	char src[INET6_ADDRSTRLEN + 8];
	int rc;

	if (admit_classify(s->conf, sa) != ADMIT_UNKNOWN)
		return -EPERM;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(reason, known[i]) == 0)
			why = known[i];
	if ((rc = admit_ban(s->admit, sa, ADMIT_UNKNOWN, now_ms(), ms, why)) != 0)
		return rc;
	s->stats.bans_remote++;
	admit_source_str(sa, ADMIT_UNKNOWN, src, sizeof(src));
	log_info("source %s banned for %u ms (%s, by another instance)", src, ms, why);
	close_source(s, sa);
	return 0;
}

bool
sip_admit_message(struct sip_conn *c)
{
	struct sip_server *s = c->srv;
	const struct sockaddr *sa = (const struct sockaddr *)&c->info.peer;
	bool report = false;

	c->shed = false;
	if (c->info.outbound)
		return true;
	switch (admit_request(s->admit, sa, c->cls, now_ms(), &report)) {
	case ADMIT_OK:
		return true;
	case ADMIT_OVER_BUDGET:
		c->shed = true;
		if (report)
			report_flood(s, sa, c->cls, "requests", "request budget exhausted");
		return true;
	case ADMIT_BAN_NOW:
		banned(s, c, "request_rate", c->conf->admission.ban_time_ms);
		return false;
	default: /* banned already: a connection left over */
		sip_conn_close_now(c);
		return false;
	}
}

bool
sip_admit_request(struct sip_server *s, struct sip_conn *c, const osip_message_t *req)
{
	static const char *const retry[] = {"Retry-After: 1", NULL};
	const char *m = req->sip_method, *reason;

	if (c->info.outbound)
		return false;
	if (c->cls != ADMIT_UNKNOWN) {
		/* Over budget: new work is refused, what ends work still goes through. */
		if (!c->shed || strcmp(m, "BYE") == 0 || strcmp(m, "CANCEL") == 0)
			return false;
		s->stats.shed++;
		sip_server_reply(s, c->info.id, req, 503, NULL, retry);
		return true;
	}
	if (!c->identified) {
		c->identified = true;
		if (c->first_req != NULL)
			evtimer_del(c->first_req);
	}
	if (admit_scanner_ua(sip_util_header(req, "user-agent")))
		reason = "scanner";
	else if (strcmp(m, "OPTIONS") == 0 || strcmp(m, "REGISTER") == 0)
		reason = "sweep";
	else
		return false;
	s->stats.scanners++;
	sip_server_reply(s, c->info.id, req, 403, NULL, NULL);
	admit_ban(s->admit, (const struct sockaddr *)&c->info.peer, ADMIT_UNKNOWN, now_ms(),
	          c->conf->admission.scanner_ban_time_ms, reason);
	banned(s, c, reason, c->conf->admission.scanner_ban_time_ms);
	return true;
}
