/*
 * media_relay.c: the per-packet decision and per-leg state of the media path.
 *
 * Decides per packet (source, authentication, latching), rewrites RTCP for the other leg
 * (rtcp.h: SDES down to that leg's CNAME) and re-protects in place; the caller reads and
 * sends. Also applies leg updates from the control side and fills statistics. Nothing
 * here allocates (libsrtp allocates once per new authenticated SSRC, at most
 * SRTP_LEG_MAX_SSRCS per session), logs or locks. Not responsible for I/O, the call table
 * or commands (media_worker.c, media_uring.c).
 */
#include "media_relay.h"
#include "media_evring.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

/* ---- addresses ---- */

uint64_t
media_relay_now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* A packet's source `a` against a leg's address `b`. */
static bool
sa_equal(const struct sockaddr_storage *a, const union media_addr *b)
{
	if (a->ss_family != b->sa.sa_family)
		return false;
	if (a->ss_family == AF_INET) {
		struct sockaddr_in x;
		memcpy(&x, a, sizeof(x));
		return x.sin_port == b->in.sin_port && x.sin_addr.s_addr == b->in.sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		struct sockaddr_in6 x;
		memcpy(&x, a, sizeof(x));
		return x.sin6_port == b->in6.sin6_port &&
		       memcmp(&x.sin6_addr, &b->in6.sin6_addr, sizeof(x.sin6_addr)) == 0;
	}
	return false;
}

/* `ss` as a leg keeps it: IPv4 and IPv6 whole, any other family as zeroes (no family). */
static void
sa_keep(union media_addr *out, const struct sockaddr_storage *ss)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		memcpy(out, ss, sa_len(ss));
}

/* 0.0.0.0 / :: / port 0 / no family: the peer is on hold (or not known) */
static bool
sa_is_hold(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in s;
		memcpy(&s, ss, sizeof(s));
		return s.sin_port == 0 || s.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 s;
		memcpy(&s, ss, sizeof(s));
		return s.sin6_port == 0 || memcmp(&s.sin6_addr, &in6addr_any, 16) == 0;
	}
	return true;
}

/* ---- events ---- */

void
media_relay_event(struct media_relay *r, struct media_leg *l, enum media_event_type type,
                  const struct sockaddr_storage *addr)
{
	struct media_event *ev = media_evring_reserve(r->evr, false);
	if (ev == NULL)
		return;
	ev->type = type;
	ev->call_id = l->call->id;
	ev->leg = l->id;
	ev->idle_s = r->idle_notice_s;
	if (addr != NULL)
		ev->addr = *addr;
	media_evring_commit(r->evr);
}

/* ---- leg updates ---- */

static void
peer_set(struct media_peer *p, const struct sockaddr_storage *addr)
{
	bool same = sa_equal(addr, &p->signalled);
	sa_keep(&p->signalled, addr);
	p->hold = sa_is_hold(addr);
	if (!same || !p->latched) {
		p->latched = false;
		p->cur = p->signalled;
		p->cur_len = sa_len(addr);
	}
}

void
media_relay_leg_update(struct media_leg *l, struct media_cmd *cmd)
{
	struct sockaddr_storage rtcp = cmd->upd.rtcp;

	if (rtcp.ss_family == AF_UNSPEC) {
		/* RTCP on the RTP port + 1 (RFC 3550 s11), via typed copies */
		rtcp = cmd->upd.rtp;
		if (rtcp.ss_family == AF_INET) {
			struct sockaddr_in in;
			memcpy(&in, &rtcp, sizeof(in));
			if (in.sin_port != 0)
				in.sin_port = htons((uint16_t)(ntohs(in.sin_port) + 1));
			memcpy(&rtcp, &in, sizeof(in));
		} else if (rtcp.ss_family == AF_INET6) {
			struct sockaddr_in6 in6;
			memcpy(&in6, &rtcp, sizeof(in6));
			if (in6.sin6_port != 0)
				in6.sin6_port = htons((uint16_t)(ntohs(in6.sin6_port) + 1));
			memcpy(&rtcp, &in6, sizeof(in6));
		}
	}
	peer_set(&l->peer[0], &cmd->upd.rtp);
	peer_set(&l->peer[1], &rtcp);
	l->mux = cmd->upd.mux;
	if (l->plain != cmd->upd.plain)
		l->n_auth_ssrc = 0;
	l->plain = cmd->upd.plain;
	/* unchanged keys keep their session: rollover counter and replay window survive */
	if (srtp_leg_same_keys(l->rx, cmd->upd.rx)) {
		srtp_leg_free(cmd->upd.rx);
	} else {
		srtp_leg_free(l->rx);
		l->rx = cmd->upd.rx;
		l->n_auth_ssrc = 0;
	}
	cmd->upd.rx = NULL;
	if (srtp_leg_same_keys(l->tx, cmd->upd.tx)) {
		srtp_leg_free(cmd->upd.tx);
	} else {
		srtp_leg_free(l->tx);
		l->tx = cmd->upd.tx;
	}
	cmd->upd.tx = NULL;
	rtp_stats_set_clock_rate(&l->rx_stats, cmd->upd.clock_rate);
	rtp_stats_set_clock_rate(&l->tx_stats, cmd->upd.clock_rate);
	dtmf_count_set_pt(&l->rx_stats.dtmf, cmd->upd.has_dtmf_pt, cmd->upd.dtmf_pt);
	dtmf_count_set_pt(&l->tx_stats.dtmf, cmd->upd.has_dtmf_pt, cmd->upd.dtmf_pt);
	if (!l->configured) {
		l->configured = true;
		l->last_rx_mono = media_relay_now_ns(CLOCK_MONOTONIC);
	}
}

/* ---- packet path ---- */

static bool
ssrc_known(const struct media_leg *l, uint32_t ssrc)
{
	for (unsigned i = 0; i < l->n_auth_ssrc; i++)
		if (l->auth_ssrc[i] == ssrc)
			return true;
	return false;
}

static void
ssrc_remember(struct media_leg *l, uint32_t ssrc)
{
	if (ssrc_known(l, ssrc))
		return;
	if (l->n_auth_ssrc < MEDIA_AUTH_SSRCS) {
		l->auth_ssrc[l->n_auth_ssrc++] = ssrc;
	} else {
		memmove(l->auth_ssrc, l->auth_ssrc + 1, sizeof(uint32_t) * (MEDIA_AUTH_SSRCS - 1));
		l->auth_ssrc[MEDIA_AUTH_SSRCS - 1] = ssrc;
	}
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool
media_relay_packet(struct media_relay *r, struct media_sock *s, uint8_t *pkt, size_t *lenp,
                   size_t cap, const struct sockaddr_storage *src, uint64_t mono, uint64_t wall,
                   struct media_relay_out *out)
{
	size_t len = *lenp;
	struct media_leg *l = s->leg;
	struct media_leg *m;
	struct rtp_stats *rs = &l->rx_stats;
	bool have_sr = false;
	uint32_t sr_mid = 0;
	int rc;

	size_t wire = len;
	bool rtcp = s->rtcp;
	if (!rtcp && l->mux && len >= 2 && (pkt[1] & 0x7f) >= 64 && (pkt[1] & 0x7f) <= 95)
		rtcp = true; /* RFC 5761 s4 */
	if (len < (rtcp ? 8u : 12u) || (pkt[0] >> 6) != 2) {
		rtp_stats_drop(rs, RTP_DROP_MALFORMED);
		return false;
	}
	if (!l->configured || l->pair < 0) { /* not set up, or moved away from */
		rtp_stats_drop(rs, RTP_DROP_OTHER);
		return false;
	}
	m = l->call->leg[l->pair];
	/* with rtcp-mux everything arrives on and goes to the RTP port */
	struct media_peer *p = &l->peer[(s->rtcp && !l->mux) ? 1 : 0];
	if (s->rtcp && l->mux) {
		rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
		return false;
	}
	bool expected = sa_equal(src, p->latched ? &p->cur : &p->signalled);

	if (l->plain) {
		if (!expected) {
			rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
			return false;
		}
	} else {
		if (p->latched && !expected) {
			rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
			return false;
		}
		uint32_t ssrc = rtcp ? rd32(pkt + 4) : rd32(pkt + 8);
		rc = rtcp ? srtp_leg_unprotect_rtcp(l->rx, pkt, &len)
		          : srtp_leg_unprotect(l->rx, pkt, &len);
		if (rc != 0) {
			enum rtp_drop why = RTP_DROP_OTHER;
			if (!expected)
				why = RTP_DROP_UNKNOWN_SOURCE;
			else if (rc == -EALREADY)
				why = RTP_DROP_REPLAY;
			else if (rc == -EDQUOT)
				why = RTP_DROP_SSRC_LIMIT;
			else if (rc == -EBADMSG)
				why = ssrc_known(l, ssrc) ? RTP_DROP_AUTH : RTP_DROP_PLAINTEXT;
			else if (rc == -EINVAL)
				why = RTP_DROP_MALFORMED;
			rtp_stats_drop(rs, why);
			return false;
		}
		if (!rtcp)
			ssrc_remember(l, ssrc);
		if (!expected && !p->hold) {
			/* authenticated packet from a new source: latch, once */
			sa_keep(&p->cur, src);
			p->cur_len = sa_len(src);
			p->latched = true;
			if (s->rtcp == false)
				rs->latched = true;
			media_relay_event(r, l, MEDIA_EV_LATCHED, src);
		}
	}

	if (rtcp) {
		/* SDES and BYE text name the sender's host and software (rtcp.h) */
		size_t n, room = cap < sizeof(r->rtcp_out) ? cap : sizeof(r->rtcp_out);
		/* what comes back over the packet must leave the SRTCP trailer's room in `cap` */
		rc = rtcp_rewrite(pkt, len, r->rtcp_out, room - SRTP_LEG_TRAILER_MAX, &n, m->cname,
		                  RTCP_CNAME_LEN);
		if (rc != 0) {
			rtp_stats_drop(rs, rc == -EBADMSG ? RTP_DROP_MALFORMED : RTP_DROP_OTHER);
			return false;
		}
		memcpy(pkt, r->rtcp_out, n);
		len = n;
		rtp_stats_rtcp(rs, wire, wall);
		have_sr = rtp_stats_take_rtcp(&l->tx_stats, pkt, len, mono, &sr_mid);
	} else {
		rtp_stats_rtp(rs, pkt, len, wire, mono, wall);
		(void)dtmf_count_rtp(&rs->dtmf, pkt, len);
	}
	l->last_rx_mono = mono;
	if (!l->seen_first) {
		l->seen_first = true;
		media_relay_event(r, l, MEDIA_EV_FIRST_PACKET, src);
	}
	if (l->idle) {
		l->idle = false;
		media_relay_event(r, l, MEDIA_EV_ACTIVE, NULL);
	}

	/* toward the other leg */
	struct media_peer *mp = &m->peer[(rtcp && !m->mux) ? 1 : 0];
	struct rtp_stats *ts = &m->tx_stats;
	if (!m->configured || mp->hold) {
		rtp_stats_drop(ts, RTP_DROP_OTHER);
		return false;
	}
	if (!m->plain) {
		rc = rtcp ? srtp_leg_protect_rtcp(m->tx, pkt, &len, cap)
		          : srtp_leg_protect(m->tx, pkt, &len, cap);
		if (rc != 0) {
			rtp_stats_drop(ts, rc == -EALREADY ? RTP_DROP_REPLAY
			                   : rc == -EDQUOT ? RTP_DROP_SSRC_LIMIT
			                                   : RTP_DROP_OTHER);
			return false;
		}
	}
	if (rtcp)
		rtp_stats_rtcp(ts, len, wall);
	else {
		rtp_stats_sent(ts, rd32(pkt + 8), len, wall);
		(void)dtmf_count_rtp(&ts->dtmf, pkt, len); /* the header is in clear */
	}
	if (have_sr)
		rtp_stats_sr_sent(ts, sr_mid, mono); /* the peer's LSR will name it (RTT) */

	*lenp = len;
	out->fd = m->sock[(rtcp && !m->mux) ? 1 : 0].fd;
	out->dst = &mp->cur;
	out->dst_len = mp->cur_len;
	out->leg = m;
	return true;
}
