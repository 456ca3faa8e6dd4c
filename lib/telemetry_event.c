/*
 * telemetry_event.c: the typed event builders. They turn the daemon's C structs into
 * events of the schema in telemetry_schema.c (telemetry_validate() checks them there)
 * and count what nobody subscribes to without building it. Also the MOS estimate and
 * call id generation. Not responsible for delivery (telemetry.c).
 */
#include "telemetry.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "metrics.h"
#include "sip_rand.h"
#include "telemetry_int.h"
#include "vis.h"

void
telemetry_call_id(char out[TELEMETRY_CALL_ID_LEN])
{
	unsigned char r[16];

	if (sip_rand_bytes(r, sizeof(r)) != 0) {
		/* The RNG failing is not a reason to lose a call's record; ids need only be
		 * unique, not secret. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memset(r, 0, sizeof(r));
		memcpy(r, &ts, sizeof(ts) < sizeof(r) ? sizeof(ts) : sizeof(r));
	}
	json_out_hex(out, r, sizeof(r));
}

double
telemetry_mos(double loss_fraction, double jitter_ms, double rtt_ms, enum telemetry_codec codec)
{
	double ie = 0.0, bpl = codec == TELEMETRY_CODEC_G711_NOPLC ? 4.3 : 25.1;
	double ppl, d, id, ie_eff, r, mos;

	if (!(loss_fraction > 0.0)) /* also NaN */
		loss_fraction = 0.0;
	if (loss_fraction > 1.0)
		loss_fraction = 1.0;
	if (!(jitter_ms > 0.0))
		jitter_ms = 0.0;
	if (!(rtt_ms > 0.0))
		rtt_ms = 0.0;
	ppl = loss_fraction * 100.0;
	d = rtt_ms / 2.0 + 2.0 * jitter_ms + 20.0;
	id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
	ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
	r = 93.2 - id - ie_eff;
	if (r <= 0.0)
		return 1.0;
	if (r >= 100.0)
		return 4.5;
	mos = 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
	return mos < 1.0 ? 1.0 : mos;
}

/* ---- builders ---------------------------------------------------------------- */

/* "192.0.2.1:5061" / "[2001:db8::1]:5061" as a JSON string, or JSON null. */
static json_t *
addr_json(const struct sockaddr *sa)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV], buf[NI_MAXHOST + NI_MAXSERV + 4];
	socklen_t len;

	if (sa == NULL)
		return json_null();
	len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return json_null();
	snprintf(buf, sizeof(buf), sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
	return json_string(buf);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
tls_json(const struct telemetry_tls *tls)
{
	char fp[65];

	if (tls == NULL)
		return json_pack("{s:n,s:n,s:n,s:n}", "tls", "cipher", "peer_cert_sha256", "peer");
	return json_pack("{s:o,s:o,s:o,s:o}", "tls", str_or_null(tls->version), "cipher",
	                 str_or_null(tls->cipher), "peer_cert_sha256",
	                 tls->peer_sha256 ? json_string(json_out_hex(fp, tls->peer_sha256, 32))
	                                  : json_null(),
	                 "peer", addr_json(tls->peer));
}

static void
dir_drops(const struct rtp_stats *s, struct telemetry_dir *d)
{
	d->packets = s->packets;
	d->bytes = s->bytes;
	d->drops.auth = s->drops[RTP_DROP_AUTH];
	d->drops.replay = s->drops[RTP_DROP_REPLAY];
	d->drops.plaintext = s->drops[RTP_DROP_PLAINTEXT];
	d->drops.unknown_source = s->drops[RTP_DROP_UNKNOWN_SOURCE];
	d->drops.ssrc_limit = s->drops[RTP_DROP_SSRC_LIMIT];
	d->drops.malformed = s->drops[RTP_DROP_MALFORMED];
	d->drops.other = s->drops[RTP_DROP_OTHER];
	d->dtmf_events = s->dtmf.events;
}

void
telemetry_dir_from_rx(const struct rtp_stats *rx, struct telemetry_dir *d)
{
	memset(d, 0, sizeof(*d));
	dir_drops(rx, d);
	d->lost = rx->packets > 0 ? rtp_stats_lost(rx) : -1;
	d->jitter_ms = rx->packets > 0 ? rtp_stats_jitter_ms(rx) : 0;
}

void
telemetry_dir_from_tx(const struct rtp_stats *tx, struct telemetry_dir *d)
{
	memset(d, 0, sizeof(*d));
	dir_drops(tx, d);
	d->sent = true;
	if (tx->packets == 0 || !rtp_stats_reported(tx, &d->lost, &d->jitter_ms, &d->rtt_ms))
		d->lost = -1;
}

/*
 * The figures a direction's record carries, rounded as the record has them: loss,
 * jitter and MOS (measured false: null, nothing to measure without packets), and the
 * RTT in ms (0: null). Both the built record and the counters of an unbuilt one
 * (metrics) take them from here.
 */
static double
dir_figures(const struct telemetry_dir *d, struct metrics_dir *m)
{
	double rtt = isfinite(d->rtt_ms) && d->rtt_ms > 0 ? d->rtt_ms : 0.0;

	m->packets = d->packets;
	m->bytes = d->bytes;
	/* without packets there is nothing to measure: null, not a perfect 0 % and 4.4 */
	m->measured = !(d->lost < 0 || d->packets == 0);
	m->loss = m->jitter_ms = m->mos = 0.0;
	if (m->measured) {
		double jit = isfinite(d->jitter_ms) && d->jitter_ms > 0 ? d->jitter_ms : 0.0;
		uint64_t expected = d->sent ? d->packets : d->packets + (uint64_t)d->lost;
		double f = expected ? (double)d->lost / (double)expected : 0.0;
		if (f > 1.0)
			f = 1.0;
		m->loss = round(f * 1e6) / 1e6;
		m->jitter_ms = round(jit * 1000.0) / 1000.0;
		m->mos = round(telemetry_mos(f, jit, rtt, TELEMETRY_CODEC_G711) * 100.0) / 100.0;
	}
	return rtt > 0 ? round(rtt * 1000.0) / 1000.0 : 0.0;
}

static json_t *
dir_json(const struct telemetry_dir *d)
{
	struct metrics_dir m;
	double rtt = dir_figures(d, &m);

	return json_pack(
	        "{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I}", "packets",
	        (json_int_t)d->packets, "bytes", (json_int_t)d->bytes, "lost",
	        m.measured ? json_integer(d->lost) : json_null(), "loss",
	        m.measured ? json_real(m.loss) : json_null(), "jitter_ms",
	        m.measured ? json_real(m.jitter_ms) : json_null(), "mos",
	        m.measured ? json_real(m.mos) : json_null(), "rtt_ms",
	        rtt > 0 ? json_real(rtt) : json_null(), "drops", "auth", (json_int_t)d->drops.auth,
	        "replay", (json_int_t)d->drops.replay, "plaintext", (json_int_t)d->drops.plaintext,
	        "unknown_source", (json_int_t)d->drops.unknown_source, "ssrc_limit",
	        (json_int_t)d->drops.ssrc_limit, "malformed", (json_int_t)d->drops.malformed,
	        "other", (json_int_t)d->drops.other, "dtmf_events", (json_int_t)d->dtmf_events);
}

static json_t *
leg_json(const struct telemetry_leg *l)
{
	if (l == NULL)
		return json_null();
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "suite", str_or_null(l->suite), "latched",
	                 addr_json(l->latched), "first_packet_ms",
	                 l->first_packet_ms >= 0 ? json_integer(l->first_packet_ms) : json_null(),
	                 "signalling", tls_json(&l->signalling), "in", dir_json(&l->in), "out",
	                 dir_json(&l->out));
}

/* ---- call events nobody reads: counted, not built (telemetry_int.h) ----------- */

/* A string the builders surely turn into a JSON string (or null): ASCII is valid UTF-8.
 * Anything else takes the built path, whose checks decide as they always did. */
static bool
plain(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return false;
	}
	return true;
}

/* A counter that stays a non-negative JSON integer (the schema refuses a negative one). */
static bool
fits(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX;
}

static bool
dir_plain(const struct telemetry_dir *d)
{
	const struct telemetry_drops *x = &d->drops;

	return fits(d->packets) && fits(d->bytes) && fits(d->dtmf_events) && fits(x->auth) &&
	       fits(x->replay) && fits(x->plaintext) && fits(x->unknown_source) &&
	       fits(x->ssrc_limit) && fits(x->malformed) && fits(x->other);
}

/* A leg leg_json() surely builds into a valid object (NULL: null, where that is allowed). */
static bool
leg_plain(const struct telemetry_leg *l)
{
	return l == NULL ||
	       (plain(l->suite) && plain(l->signalling.version) && plain(l->signalling.cipher) &&
	        dir_plain(&l->in) && dir_plain(&l->out));
}

/*
 * Whether a call event goes unbuilt: nobody would read it, and `valid`, the builder's
 * check that the event it would build passes telemetry_validate(). An event that may not
 * pass is built, so that validation refuses and counts it exactly as before.
 */
static bool
unbuilt(const struct telemetry *t, bool valid)
{
	return t != NULL && valid && !telemetry_delivers(t);
}

static void
drops_add(struct telemetry_drops *sum, const struct telemetry_dir *d)
{
	sum->auth += d->drops.auth;
	sum->replay += d->drops.replay;
	sum->plaintext += d->drops.plaintext;
	sum->unknown_source += d->drops.unknown_source;
	sum->ssrc_limit += d->drops.ssrc_limit;
	sum->malformed += d->drops.malformed;
	sum->other += d->drops.other;
}

/* What a call.end's leg adds to the counters and (trunk and agent legs) the metrics. */
static void
leg_account(struct telemetry *t, int leg, const struct telemetry_leg *l,
            struct telemetry_drops *sum)
{
	struct metrics_dir m;

	if (l == NULL)
		return;
	drops_add(sum, &l->in);
	drops_add(sum, &l->out);
	if (leg >= METRICS_LEGS)
		return;
	dir_figures(&l->in, &m);
	metrics_calls_observe_dir(telemetry_metrics_acc(t), leg, METRICS_DIR_IN, &m);
	dir_figures(&l->out, &m);
	metrics_calls_observe_dir(telemetry_metrics_acc(t), leg, METRICS_DIR_OUT, &m);
}

int
telemetry_daemon_start(struct telemetry *t)
{
	return telemetry_emit(t, json_pack("{s:s,s:s,s:I}", "event", "daemon.start", "version",
	                                   SW_VERSION, "pid", (json_int_t)getpid()));
}

int
telemetry_daemon_stop(struct telemetry *t, const char *reason)
{
	return telemetry_emit(t, json_pack("{s:s,s:s}", "event", "daemon.stop", "reason",
	                                   reason ? reason : "stop"));
}

int
telemetry_config_loaded(struct telemetry *t, const char *path, const uint8_t sha256[32])
{
	char hex[65];

	return telemetry_emit(t,
	                      json_pack("{s:s,s:s,s:s}", "event", "config.loaded", "path",
	                                path ? path : "", "sha256", json_out_hex(hex, sha256, 32)));
}

int
telemetry_config_refused(struct telemetry *t, const char *path, const char *reason,
                         const char *detail, const char *const *keys, size_t nkeys)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < nkeys; i++)
		json_array_append_new(arr, json_string(keys[i]));
	return telemetry_emit(t, json_pack("{s:s,s:s,s:s,s:s,s:o}", "event", "config.refused",
	                                   "path", path ? path : "", "reason", reason, "detail",
	                                   detail ? detail : "", "keys", arr));
}

int
telemetry_call_start(struct telemetry *t, const char *call, const char *trunk,
                     const char *from_user, const char *to_user,
                     const struct telemetry_tls *trunk_signalling)
{
	if (unbuilt(t, call != NULL && trunk != NULL && plain(call) && plain(trunk) &&
	                       plain(from_user) && plain(to_user) &&
	                       (trunk_signalling == NULL || (plain(trunk_signalling->version) &&
	                                                     plain(trunk_signalling->cipher))))) {
		telemetry_count_unbuilt(t, "call.start", NULL, NULL);
		return 0;
	}
	return telemetry_emit(t, json_pack("{s:s,s:s?,s:s?,s:o,s:o,s:o}", "event", "call.start",
	                                   "call", call, "trunk", trunk, "from",
	                                   str_or_null(from_user), "to", str_or_null(to_user),
	                                   "signalling", tls_json(trunk_signalling)));
}

int
telemetry_call_answer(struct telemetry *t, const char *call, const char *agent, int64_t setup_ms,
                      const char *trunk_suite, const char *agent_suite)
{
	if (unbuilt(t, call != NULL && agent != NULL && setup_ms >= 0 && plain(call) &&
	                       plain(agent) && plain(trunk_suite) && plain(agent_suite))) {
		metrics_calls_observe_setup(telemetry_metrics_acc(t), setup_ms);
		telemetry_count_unbuilt(t, "call.answer", NULL, NULL);
		return 0;
	}
	return telemetry_emit(
	        t, json_pack("{s:s,s:s?,s:s?,s:I,s:{s:o,s:o}}", "event", "call.answer", "call",
	                     call, "agent", agent, "setup_ms", (json_int_t)setup_ms, "suites",
	                     "trunk", str_or_null(trunk_suite), "agent", str_or_null(agent_suite)));
}

int
telemetry_call_interim(struct telemetry *t, const char *call, int64_t duration_ms,
                       const struct telemetry_leg *trunk_leg, const struct telemetry_leg *agent_leg)
{
	if (unbuilt(t, call != NULL && plain(call) && duration_ms >= 0 && trunk_leg != NULL &&
	                       leg_plain(trunk_leg) && leg_plain(agent_leg))) {
		telemetry_count_unbuilt(t, "call.interim", NULL, NULL); /* counts nothing else */
		return 0;
	}
	return telemetry_emit(t, json_pack("{s:s,s:s?,s:I,s:{s:o,s:o}}", "event", "call.interim",
	                                   "call", call, "duration_ms", (json_int_t)duration_ms,
	                                   "legs", "trunk", leg_json(trunk_leg), "agent",
	                                   leg_json(agent_leg)));
}

int
telemetry_call_end(struct telemetry *t, const struct telemetry_call_end *e)
{
	json_t *ev;

	if (unbuilt(t, e->call != NULL && e->outcome != NULL && e->ended_by != NULL &&
	                       e->reason != NULL && plain(e->call) && plain(e->outcome) &&
	                       plain(e->ended_by) && plain(e->reason) && plain(e->agent) &&
	                       e->sip_code >= 0 && e->duration_ms >= 0 && e->trunk_leg != NULL &&
	                       leg_plain(e->trunk_leg) && leg_plain(e->agent_leg) &&
	                       leg_plain(e->human_leg))) {
		struct telemetry_drops sum = {0};
		leg_account(t, METRICS_LEG_TRUNK, e->trunk_leg, &sum);
		leg_account(t, METRICS_LEG_AGENT, e->agent_leg, &sum);
		leg_account(t, METRICS_LEGS, e->human_leg, &sum); /* drops only */
		telemetry_count_unbuilt(t, "call.end", e->outcome, &sum);
		return 0;
	}
	ev = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:i,s:I,s:o,s:{s:o,s:o}}", "event", "call.end",
	               "call", e->call, "outcome", e->outcome, "ended_by", e->ended_by, "reason",
	               e->reason, "sip_code", e->sip_code, "duration_ms",
	               (json_int_t)e->duration_ms, "agent", str_or_null(e->agent), "legs", "trunk",
	               leg_json(e->trunk_leg), "agent", leg_json(e->agent_leg));

	if (ev != NULL && e->human_leg != NULL)
		json_object_set_new(json_object_get(ev, "legs"), "human", leg_json(e->human_leg));
	return telemetry_emit(t, ev);
}

int
telemetry_security(struct telemetry *t, enum telemetry_security kind, const char *call,
                   const struct sockaddr *source, const char *reason, const char *detail,
                   int sip_code)
{
	static const char *names[] = {
	        [TELEMETRY_SEC_OFFER_REFUSED] = "security.offer_refused",
	        [TELEMETRY_SEC_TLS_HANDSHAKE_FAILED] = "security.tls_handshake_failed",
	        [TELEMETRY_SEC_PEER_UNKNOWN] = "security.peer_unknown",
	        [TELEMETRY_SEC_DOWNGRADE_REFUSED] = "security.downgrade_refused",
	        [TELEMETRY_SEC_LIMIT_REACHED] = "security.limit_reached",
	        [TELEMETRY_SEC_INPUT_REFUSED] = "security.input_refused",
	        [TELEMETRY_SEC_CLUSTER_DEGRADED] = "security.cluster_degraded",
	};
	json_t *ev;

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0])) {
		return -EINVAL;
	}
	ev = json_pack("{s:s,s:o,s:o,s:s?}", "event", names[kind], "call", str_or_null(call),
	               "source", addr_json(source), "reason", reason);
	if (ev != NULL && detail != NULL)
		json_object_set_new(ev, "detail", json_string(detail));
	if (ev != NULL &&
	    (kind == TELEMETRY_SEC_OFFER_REFUSED || kind == TELEMETRY_SEC_DOWNGRADE_REFUSED ||
	     kind == TELEMETRY_SEC_INPUT_REFUSED))
		json_object_set_new(ev, "sip_code", json_integer(sip_code));
	return telemetry_emit(t, ev);
}

int
telemetry_flood(struct telemetry *t, const char *source, const char *reason, const char *detail)
{
	json_t *ev = json_pack("{s:s,s:n,s:s?,s:s?}", "event", "security.flood", "call", "source",
	                       source, "reason", reason);

	if (ev != NULL && detail != NULL)
		json_object_set_new(ev, "detail", json_string(detail));
	return telemetry_emit(t, ev);
}

int
telemetry_source_banned(struct telemetry *t, const char *source, const char *reason,
                        uint64_t duration_ms)
{
	return telemetry_emit(t,
	                      json_pack("{s:s,s:n,s:s?,s:s?,s:I}", "event",
	                                "security.source_banned", "call", "source", source,
	                                "reason", reason, "duration_ms", (json_int_t)duration_ms));
}

int
telemetry_agent(struct telemetry *t, const char *agent, bool up, const struct sockaddr *address,
                const char *reason)
{
	return telemetry_emit(
	        t, json_pack("{s:s,s:s?,s:o,s:o}", "event", up ? "agent.up" : "agent.down", "agent",
	                     agent, "address", addr_json(address), "reason", str_or_null(reason)));
}

int
telemetry_call_transfer(struct telemetry *t, const struct telemetry_transfer *x)
{
	json_t *ev = json_pack(
	        "{s:s,s:s?,s:o,s:o,s:s?,s:s?,s:i,s:o}", "event", "call.transfer", "call", x->call,
	        "agent", str_or_null(x->agent), "target", str_or_null(x->target), "mode", x->mode,
	        "outcome", x->outcome, "sip_code", x->sip_code, "answer_ms",
	        x->answer_ms >= 0 ? json_integer((json_int_t)x->answer_ms) : json_null());

	return telemetry_emit(t, ev);
}

int
telemetry_transfer_refused(struct telemetry *t, const char *call, const struct sockaddr *source,
                           const char *agent, const char *reason, const char *requested,
                           int sip_code)
{
	char buf[VIS_MAX(TELEMETRY_REQUESTED_MAX)];
	size_t n = requested != NULL ? strlen(requested) : 0;
	json_t *ev;

	/* peer text: escaped for terminals, and bounded (a record, not a message) */
	if (requested != NULL)
		vis_encode(buf, requested,
		           n < TELEMETRY_REQUESTED_MAX ? n : TELEMETRY_REQUESTED_MAX, VIS_C);
	ev = json_pack("{s:s,s:o,s:o,s:s?,s:i,s:o,s:o}", "event", "security.transfer_refused",
	               "call", str_or_null(call), "source", addr_json(source), "reason", reason,
	               "sip_code", sip_code, "agent", str_or_null(agent), "requested",
	               requested != NULL ? json_string(buf) : json_null());
	return telemetry_emit(t, ev);
}
