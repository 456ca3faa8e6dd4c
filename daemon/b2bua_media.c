/*
 * b2bua_media.c: what ties a call to the media relay and to its record: the SDP policy
 * of each leg, the relay's legs (addresses, rtcp-mux, keys), media events (final stats,
 * inactivity, first packet), the periodic call.interim, and the call's description for
 * telemetry and the control socket.
 */
#include "b2bua_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

struct sdp_policy
leg_policy(const struct call *c, int legi)
{
	const struct call_leg *l = &c->leg[legi];
	struct sdp_policy p = {c->conf->media.suites, c->conf->media.nsuites, true, false};

	/* plain RTP only on a trunk leg the config marks legacy; the agent leg is SRTP */
	if (l->trunk && l->peer >= 0 && !l->human)
		p.legacy_rtp = c->conf->trunks[l->peer].legacy_rtp;
	return p;
}

bool
leg_is_plain(const struct call *c, int legi)
{
	return c->leg[legi].trunk && c->leg[legi].remote_sdp != NULL && !c->leg[legi].verdict.srtp;
}

bool
leg_crypto_pad(const struct call *c, int legi)
{
	const struct call_leg *l = &c->leg[legi];

	if (l->peer < 0)
		return true;
	return l->trunk ? c->conf->trunks[l->peer].crypto_pad : c->conf->agents[l->peer].crypto_pad;
}

const char *
media_advertise(const struct call *c)
{
	return c->b->media_addr;
}

const char *
suite_name_of(const struct srtp_keys *k, bool plain)
{
	const struct suite_info *si;

	if (plain)
		return "RTP";
	si = suite_info(k->suite);
	return si ? si->name : NULL;
}

/* Remember the peer's accepted answer on leg `legi` and our key the answer chose. */
void
leg_set_answer(struct call *c, int legi, struct sdp_desc *answer, const struct sdp_verdict *v,
               bool final)
{
	struct call_leg *l = &c->leg[legi];

	sdp_desc_free(l->remote_sdp);
	l->remote_sdp = answer;
	l->verdict = sdp_choice_of(v);
	leg_answer_key(l, v, final);
}

int
media_setup_call(struct call *c)
{
	int rc = media_call_new(c->b->media, &c->media_id, c->ports);

	if (rc != 0)
		log_warnx("call %s: no media ports: %s", c->id, strerror(-rc));
	else {
		c->b->nmedia++; /* until call_free(): ports and fds held (overload admission) */
		call_media_index(c);
	}
	return rc;
}

static void
sdp_addr_to_sockaddr(const struct sdp_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a->bytes, 4);
		in->sin_port = htons(port);
	} else if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a->bytes, 16);
		in6->sin6_port = htons(port);
	}
}

/*
 * The telephone-event payload type (RFC 4733) in the leg's SDP, if any: its packets are
 * relayed and re-keyed like audio, and counted per direction (never their digits).
 */
static bool
telephone_event_pt(const struct sdp_stream *m, uint8_t *pt)
{
	static const char te[] = "telephone-event/";

	for (size_t i = 0; i < m->nformats; i++) {
		const char *map = m->formats[i].rtpmap;
		if (map != NULL && strncasecmp(map, te, sizeof(te) - 1) == 0) {
			*pt = m->formats[i].pt;
			return true;
		}
	}
	return false;
}

/* Configure the relay's leg `legi` from what that leg negotiated. */
int
media_apply_leg(struct call *c, int legi)
{
	struct call_leg *l = &c->leg[legi];
	const struct sdp_stream *m;
	struct media_leg_conf mc;
	int rc;

	if (l->remote_sdp == NULL || l->verdict.media < 0 ||
	    (size_t)l->verdict.media >= l->remote_sdp->nmedia)
		return -EINVAL;
	m = &l->remote_sdp->media[l->verdict.media];
	memset(&mc, 0, sizeof(mc));
	sdp_addr_to_sockaddr(&m->conn, m->port, &mc.remote_rtp);
	mc.remote_rtcp.ss_family = AF_UNSPEC;
	mc.rtcp_mux = m->rtcp_mux;
	mc.plain_rtp = !l->verdict.srtp;
	if (l->verdict.srtp) {
		const struct srtp_keys *rx = sdp_desc_key(l->remote_sdp, &l->verdict);
		if (rx == NULL)
			return -EINVAL;
		mc.rx = *rx;
		mc.tx = l->tx;
	}
	/* the answers and offers built from this SDP are out by now: the call keeps its
	 * key, not its a=crypto lines (824 bytes each) */
	if (!l->remote_sdp->key_kept)
		sdp_desc_keep_key(l->remote_sdp, &l->verdict);
	mc.clock_rate = 8000;
	mc.has_dtmf_pt = telephone_event_pt(m, &mc.dtmf_pt);
	rc = media_leg_update(c->b->media, c->media_id, call_mleg(c, legi), &mc);
	srtp_keys_wipe(&mc.rx);
	srtp_keys_wipe(&mc.tx);
	if (rc != 0)
		log_warnx("call %s: media leg %d: %s", c->id, legi, strerror(-rc));
	else
		l->media_ready = true;
	return rc;
}

void
leg_telemetry(const struct call *c, int legi, struct telemetry_leg *out, char *suite_buf,
              size_t suite_len)
{
	leg_telemetry_of(c, &c->leg[legi], call_mleg(c, legi), out, suite_buf, suite_len);
}

void
leg_telemetry_of(const struct call *c, const struct call_leg *l, enum media_leg_id ml,
                 struct telemetry_leg *out, char *suite_buf, size_t suite_len)
{
	const struct media_leg_stats *ms = c->stats != NULL ? &c->stats->leg[ml] : NULL;
	const char *suite = NULL;

	memset(out, 0, sizeof(*out));
	if (l->remote_sdp != NULL)
		suite = l->verdict.srtp ? suite_name_of(&l->tx, false) : "RTP";
	if (suite != NULL && l->verdict.srtp && l->tx.suite == SUITE_NONE)
		suite = suite_info(l->verdict.suite) ? suite_info(l->verdict.suite)->name : NULL;
	snprintf(suite_buf, suite_len, "%s", suite ? suite : "");
	out->suite = suite ? suite_buf : NULL;
	/* where accepted media comes from: the latched source, or the signalled address
	 * once authenticated packets arrived from it */
	out->latched = ms != NULL && (ms->latched || ms->rx.packets > 0)
	                       ? (const struct sockaddr *)&ms->peer_rtp
	                       : NULL;
	out->first_packet_ms = l->first_packet_ms;
	out->signalling.version = l->tls_version;
	out->signalling.cipher = l->tls_cipher;
	out->signalling.peer_sha256 = l->has_peer_cert ? l->peer_sha256 : NULL;
	out->signalling.peer =
	        l->peer_addr.sa.sa_family != 0 ? (const struct sockaddr *)&l->peer_addr : NULL;
	if (ms != NULL) {
		telemetry_dir_from_rx(&ms->rx, &out->in);
		telemetry_dir_from_tx(&ms->tx, &out->out);
		out->in.rtt_ms = out->out.rtt_ms; /* one round trip per leg, for both MOS */
	} else {
		out->in.lost = out->out.lost = -1;
	}
}

/* Keep `st` as the call's latest media stats (allocated with the first; without memory
 * the call keeps what it had, and reports no media stats if it had none). */
static void
call_keep_stats(struct call *c, const struct media_call_stats *st)
{
	if (c->stats == NULL && (c->stats = malloc(sizeof(*c->stats))) == NULL) {
		log_warn("call %s: no memory for its media stats", c->id);
		return;
	}
	*c->stats = *st;
}

static void
on_media_event(const struct media_event *ev, void *arg)
{
	struct b2bua *b = arg;
	struct call *c = call_by_media(b, ev->call_id);
	int legi = -1;

	if (c == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (call_mleg(c, i) == ev->leg)
			legi = i;
	if (legi < 0 && ev->type != MEDIA_EV_CALL_DELETED && ev->type != MEDIA_EV_SNAPSHOT)
		return; /* a leg no call leg uses: a bridge's while it rings, or the one it left */
	switch (ev->type) {
	case MEDIA_EV_CALL_DELETED:
		call_keep_stats(c, &ev->stats);
		if (c->state == CALL_ENDED)
			call_finish(c);
		break;
	case MEDIA_EV_SNAPSHOT:
		call_keep_stats(c, &ev->stats);
		if (ev->cookie == 1 && c->state == CALL_ANSWERED) {
			struct telemetry_leg legs[2];
			char s0[40], s1[40];
			leg_telemetry(c, call_trunk_leg(c), &legs[0], s0, sizeof(s0));
			leg_telemetry(c, 1 - call_trunk_leg(c), &legs[1], s1, sizeof(s1));
			telemetry_call_interim(b->tel, c->id, ms_since(&c->t_answer), &legs[0],
			                       &legs[1]);
		}
		break;
	case MEDIA_EV_FIRST_PACKET:
		if (c->leg[legi].first_packet_ms < 0 && c->t_answer.tv_sec != 0)
			c->leg[legi].first_packet_ms = ms_since(&c->t_answer);
		else if (c->leg[legi].first_packet_ms < 0)
			c->leg[legi].first_packet_ms = 0; /* early media */
		break;
	case MEDIA_EV_IDLE:
		if (c->state == CALL_ANSWERED && c->conf->media.inactivity_timeout_s > 0 &&
		    ev->idle_s >= c->conf->media.inactivity_timeout_s) {
			log_info("call %s: no authenticated media for %u s on leg %d", c->id,
			         ev->idle_s, legi);
			call_end(c, "timeout", "sipwarden", "media_timeout", 0);
		}
		break;
	default:
		break;
	}
}

void
b2bua_media_cb(evutil_socket_t fd, short what, void *arg)
{
	struct b2bua *b = arg;

	media_engine_drain_events(b->media, on_media_event, b);
}

void
interim_tick(void *arg)
{
	struct b2bua *b = arg;

	for (struct call *c = b->calls; c != NULL; c = c->next)
		if (c->state == CALL_ANSWERED)
			media_call_snapshot(b->media, c->media_id, 1);
}

/* ---- JSON for the control socket ----------------------------------------------- */

static const char *state_names[] = {"routing", "early", "answered", "ended"};

/*
 * Received-direction quality of leg `legi`: loss fraction, jitter (ms), MOS (with the
 * leg's RTT when its peer reported one). False when nothing was received: then the
 * control socket says null, like telemetry, rather than a perfect 0 % and 4.4.
 */
static bool
leg_quality(const struct call *c, int legi, double *loss, double *jitter, double *mos)
{
	double rtt = 0;
	int64_t ignore;
	double ignore_j;

	*loss = *jitter = *mos = 0;
	if (c->stats == NULL || c->stats->leg[call_mleg(c, legi)].rx.packets == 0)
		return false;
	const struct rtp_stats *rx = &c->stats->leg[call_mleg(c, legi)].rx;
	uint64_t expected = rtp_stats_expected(rx);
	int64_t lost = rtp_stats_lost(rx);
	(void)rtp_stats_reported(&c->stats->leg[call_mleg(c, legi)].tx, &ignore, &ignore_j, &rtt);
	*loss = expected > 0 && lost > 0 ? (double)lost / (double)expected : 0;
	*jitter = rtp_stats_jitter_ms(rx);
	*mos = telemetry_mos(*loss, *jitter, rtt, TELEMETRY_CODEC_G711);
	return true;
}

static json_t *
num_or_null(bool known, double v)
{
	return known ? json_real(v) : json_null();
}

static json_t *
leg_json(const struct call *c, int legi)
{
	struct telemetry_leg t;
	char suite[40], addr[INET6_ADDRSTRLEN + 8] = "";
	double loss, jitter, mos;

	leg_telemetry(c, legi, &t, suite, sizeof(suite));
	bool known = leg_quality(c, legi, &loss, &jitter, &mos);
	if (t.latched != NULL) {
		struct conf_sockaddr sa;
		memcpy(&sa.ss, t.latched, sizeof(sa.ss));
		sa.len = sizeof(sa.ss);
		conf_sockaddr_str(&sa, addr, sizeof(addr));
	}
	return json_pack(
	        "{s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
	        "suite", t.suite, "tls", t.signalling.version, "latched", addr[0] ? addr : NULL,
	        "packets_in", (json_int_t)t.in.packets, "packets_out", (json_int_t)t.out.packets,
	        "bytes_in", (json_int_t)t.in.bytes, "lost_in",
	        (json_int_t)(t.in.lost > 0 ? t.in.lost : 0), "loss", num_or_null(known, loss),
	        "jitter_ms", num_or_null(known, jitter), "mos", num_or_null(known, mos),
	        "drops_auth", (json_int_t)t.in.drops.auth, "drops_replay",
	        (json_int_t)t.in.drops.replay, "drops_plaintext", (json_int_t)t.in.drops.plaintext,
	        "drops_unknown_source", (json_int_t)t.in.drops.unknown_source, "drops_ssrc_limit",
	        (json_int_t)t.in.drops.ssrc_limit);
}

/* The summary of one call as the control socket's `calls` lists it (README). */
static json_t *
call_summary(const struct call *c)
{
	const char *trunk = c->trunk >= 0 ? c->conf->trunks[c->trunk].name : NULL;
	const char *agent = c->agent >= 0 ? c->conf->agents[c->agent].name : NULL;
	struct telemetry_leg t0, t1;
	char s0[40], s1[40];
	double l0, j0, m0, l1, j1, m1;

	int tl = call_trunk_leg(c);

	leg_telemetry(c, tl, &t0, s0, sizeof(s0));
	leg_telemetry(c, 1 - tl, &t1, s1, sizeof(s1));
	bool k0 = leg_quality(c, tl, &l0, &j0, &m0);
	bool k1 = leg_quality(c, 1 - tl, &l1, &j1, &m1);
	/* the worst received direction of those that received anything */
	if (!k0) {
		l0 = l1;
		j0 = j1;
		m0 = m1;
	} else if (!k1) {
		l1 = l0;
		j1 = j0;
		m1 = m0;
	}
	return json_pack(
	        "{s:s, s:s, s:s?, s:s?, s:I, s:{s:s?, s:s?}, s:o, s:o, s:o}", "call", c->id,
	        "state", state_names[c->state], "trunk", trunk, "agent", agent, "duration_ms",
	        (json_int_t)(c->t_answer.tv_sec ? ms_since(&c->t_answer) : 0), "suites", "trunk",
	        t0.suite, "agent", t1.suite, "loss", num_or_null(k0 || k1, l0 > l1 ? l0 : l1),
	        "jitter_ms", num_or_null(k0 || k1, j0 > j1 ? j0 : j1), "mos",
	        num_or_null(k0 || k1, m0 < m1 ? m0 : m1));
}

json_t *
call_json(const struct call *c)
{
	json_t *o = call_summary(c);

	if (o != NULL)
		json_object_set_new(o, "legs",
		                    json_pack("{s:o, s:o}", "trunk", leg_json(c, call_trunk_leg(c)),
		                              "agent", leg_json(c, 1 - call_trunk_leg(c))));
	return o;
}

json_t *
b2bua_calls_json(struct b2bua *b)
{
	json_t *arr = json_array();

	for (struct call *c = b->calls; c != NULL; c = c->next) {
		json_array_append_new(arr, call_summary(c));
		if (c->state == CALL_ANSWERED)
			media_call_snapshot(b->media, c->media_id, 0); /* fresher next time */
	}
	return json_pack("{s:o, s:i}", "calls", arr, "count", (int)b->ncalls);
}

json_t *
b2bua_call_json(struct b2bua *b, const char *id)
{
	struct call *c = id ? call_by_id(b, id) : NULL;

	if (c == NULL)
		return json_pack("{s:s}", "error", "no such call");
	if (c->state == CALL_ANSWERED)
		media_call_snapshot(b->media, c->media_id, 0);
	return json_pack("{s:o}", "call", call_json(c));
}

json_t *
b2bua_agents_json(struct b2bua *b)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < b->nagents; i++) {
		struct pool_agent_info ai;
		char addr[INET6_ADDRSTRLEN + 8];
		if (!pool_agent(b->pool, (int)i, &ai))
			continue;
		conf_sockaddr_str(&b->conf->agents[i].address, addr, sizeof(addr));
		/* README: name, address, up, calls (in progress); and more */
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:i, s:i, s:I, s:i}", "name",
		                                     ai.name, "address", addr, "up", ai.up, "calls",
		                                     (int)ai.active, "weight", (int)ai.weight,
		                                     "calls_total", (json_int_t)ai.calls,
		                                     "failures", (int)ai.failures));
	}
	return json_pack("{s:o}", "agents", arr);
}
