/*
 * media_worker.c: a media worker thread and the packet path.
 *
 * Each worker owns its calls outright: their sockets, SRTP sessions and counters. It waits
 * in epoll on its sockets and its command eventfd, reads packets in batches (recvmmsg),
 * decides per packet (source, authentication, latching), rewrites RTCP for the other leg
 * (rtcp.h: SDES down to that leg's CNAME), re-protects in place and sends in
 * batches (sendmmsg). The packet path takes no lock, allocates nothing (libsrtp allocates
 * once per new authenticated SSRC, at most SRTP_LEG_MAX_SSRCS per session) and never
 * logs. Commands from the control side are taken from a short mutex-protected list only
 * when the eventfd fires. Events go back through media_evring.h. Not responsible
 * for binding ports or building SRTP sessions (media.c does that before handing a call
 * over).
 */
#include "media_worker.h"
#include "media_evring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <openssl/crypto.h>

#define BATCH        32
#define PKT_BUF      2048 /* MTU-sized packet plus SRTP trailer room */
#define PKT_MAX      1500
#define READS_PER_FD 8 /* batches per socket per wake-up, so one flood cannot starve */
#define HASH_BUCKETS 4096
#define EPOLL_EVENTS 64

struct media_worker {
	unsigned idx;
	pthread_t thr;
	bool thr_started;
	int epfd, cmd_efd, ev_efd;
	unsigned idle_notice_s;

	pthread_mutex_t cmd_mu;
	struct media_cmd *cmd_head, *cmd_tail;
	struct media_cmd stop_cmd;

	struct media_evring *evr; /* events to the control side (media_evring.h) */
	atomic_ullong tick_ms;    /* last time round the loop (CLOCK_MONOTONIC ms), for liveness */

	struct media_call *buckets[HASH_BUCKETS];
	bool stop;

	/* packet path scratch, allocated once */
	uint8_t (*buf)[PKT_BUF];
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage src[BATCH], dst[BATCH];
	int sfd[BATCH];
	unsigned nsend;
	uint8_t rtcp_out[PKT_BUF]; /* rtcp_rewrite() writes here, then back over the packet */
};

/* ---- small helpers ---- */

static uint64_t
now_ns(clockid_t clk)
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

static bool
sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		struct sockaddr_in x, y;
		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		struct sockaddr_in6 x, y;
		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		return x.sin6_port == y.sin6_port &&
		       memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
	}
	return false;
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

/* ---- events (producer side: media_evring.h) ---- */

static struct media_event *
ev_reserve(struct media_worker *w, bool with_stats)
{
	return media_evring_reserve(w->evr, with_stats);
}

static void
ev_commit(struct media_worker *w)
{
	media_evring_commit(w->evr);
}

static void
post_leg_event(struct media_worker *w, struct media_leg *l, enum media_event_type type,
               const struct sockaddr_storage *addr)
{
	struct media_event *ev = ev_reserve(w, false);
	if (ev == NULL)
		return;
	ev->type = type;
	ev->call_id = l->call->id;
	ev->leg = l->id;
	ev->idle_s = w->idle_notice_s;
	if (addr != NULL)
		ev->addr = *addr;
	ev_commit(w);
}

/* ---- calls ---- */

static unsigned
hash_id(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 52) % HASH_BUCKETS;
}

static struct media_call *
call_find(struct media_worker *w, uint64_t id)
{
	for (struct media_call *c = w->buckets[hash_id(id)]; c != NULL; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void
call_unlink(struct media_worker *w, struct media_call *c)
{
	struct media_call **pp = &w->buckets[hash_id(c->id)];
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	for (int i = 0; i < MEDIA_LEGS; i++)
		for (int k = 0; k < 2; k++)
			if (c->leg[i].sock[k].fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->leg[i].sock[k].fd, NULL);
}

static int
call_add(struct media_worker *w, struct media_call *c)
{
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			struct media_sock *s = &c->leg[i].sock[k];
			struct epoll_event ee = {.events = EPOLLIN, .data.ptr = s};
			s->leg = &c->leg[i];
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ee) != 0) {
				int err = -errno;
				call_unlink(w, c);
				return err;
			}
		}
		c->leg[i].call = c;
	}
	c->leg[MEDIA_LEG_C].call = c;
	unsigned b = hash_id(c->id);
	c->hnext = w->buckets[b];
	w->buckets[b] = c;
	return 0;
}

static void
peer_set(struct media_peer *p, const struct sockaddr_storage *addr)
{
	bool same = sa_equal(&p->signalled, addr);
	p->signalled = *addr;
	p->hold = sa_is_hold(addr);
	if (!same || !p->latched) {
		p->latched = false;
		p->cur = *addr;
		p->cur_len = sa_len(addr);
	}
}

static void
leg_apply_update(struct media_worker *w, struct media_leg *l, struct media_cmd *cmd)
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
		l->last_rx_mono = now_ns(CLOCK_MONOTONIC);
	}
	(void)w;
}

static void
handle_cmd(struct media_worker *w, struct media_cmd *cmd)
{
	struct media_call *c = NULL;
	struct media_event *ev;

	if (cmd->type != CMD_ADD && cmd->type != CMD_STOP)
		c = call_find(w, cmd->call_id);

	switch (cmd->type) {
	case CMD_STOP:
		w->stop = true;
		return; /* the stop command is embedded in the worker, not freed */
#ifdef SW_TEST_HOOKS
	case CMD_TEST_STALL: {
		struct timespec ts = {(time_t)(cmd->cookie / 1000),
		                      (long)(cmd->cookie % 1000) * 1000000};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		media_cmd_free(cmd);
		return;
	}
#endif
	case CMD_ADD:
		if (call_add(w, cmd->call) == 0)
			cmd->call = NULL; /* owned by the worker now */
		break;
	case CMD_UPDATE:
		if (c != NULL)
			leg_apply_update(w, &c->leg[cmd->leg], cmd);
		break;
	case CMD_LEG_ADD:
		if (c != NULL)
			(void)media_call_leg_c_add(c, w->epfd, cmd); /* failed: no sockets */
		break;
	case CMD_LEG_DROP:
		if (c != NULL)
			media_call_leg_c_clear(c, w->epfd);
		break;
	case CMD_PAIR:
		if (c != NULL)
			media_call_pair_legs(c, cmd->leg, cmd->leg2);
		break;
	case CMD_DELETE:
		if (c == NULL)
			break;
		call_unlink(w, c);
		if ((ev = ev_reserve(w, true)) != NULL) {
			ev->type = MEDIA_EV_CALL_DELETED;
			ev->call_id = c->id;
			ev->cookie = cmd->cookie;
			media_call_fill_stats(c, &ev->stats);
			ev_commit(w);
		}
		media_call_free(c);
		break;
	case CMD_SNAPSHOT:
		if (c != NULL && (ev = ev_reserve(w, true)) != NULL) {
			ev->type = MEDIA_EV_SNAPSHOT;
			ev->call_id = c->id;
			ev->cookie = cmd->cookie;
			media_call_fill_stats(c, &ev->stats);
			ev_commit(w);
		}
		break;
	case CMD_SNAPSHOT_WAIT:
		media_snap_wait_finish(cmd->wait, c != NULL ? 0 : -ENOENT, c);
		media_snap_wait_put(cmd->wait);
		cmd->wait = NULL;
		break;
	}
	if (c == NULL && cmd->type != CMD_ADD && cmd->type != CMD_SNAPSHOT_WAIT &&
	    (ev = ev_reserve(w, false)) != NULL) {
		ev->type = MEDIA_EV_ERROR;
		ev->call_id = cmd->call_id;
		ev->cookie = cmd->cookie;
		ev->error = -ENOENT;
		ev_commit(w);
	}
	media_cmd_free(cmd);
}

static void
drain_cmds(struct media_worker *w)
{
	uint64_t v;
	(void)!read(w->cmd_efd, &v, sizeof(v));
	pthread_mutex_lock(&w->cmd_mu);
	struct media_cmd *list = w->cmd_head;
	w->cmd_head = w->cmd_tail = NULL;
	pthread_mutex_unlock(&w->cmd_mu);
	while (list != NULL) {
		struct media_cmd *next = list->next;
		handle_cmd(w, list);
		list = next;
	}
}

void
media_worker_post(struct media_worker *w, struct media_cmd *cmd)
{
	uint64_t one = 1;
	cmd->next = NULL;
	pthread_mutex_lock(&w->cmd_mu);
	if (w->cmd_tail != NULL)
		w->cmd_tail->next = cmd;
	else
		w->cmd_head = cmd;
	w->cmd_tail = cmd;
	pthread_mutex_unlock(&w->cmd_mu);
	(void)!write(w->cmd_efd, &one, sizeof(one));
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

/* Flush the queued sends: consecutive messages for the same socket go in one sendmmsg. */
static void
flush_sends(struct media_worker *w, struct media_leg *const *tx_leg)
{
	unsigned i = 0;
	while (i < w->nsend) {
		unsigned j = i + 1;
		while (j < w->nsend && w->sfd[j] == w->sfd[i])
			j++;
		unsigned off = i;
		while (off < j) {
			int n = sendmmsg(w->sfd[i], &w->smsg[off], j - off, MSG_DONTWAIT);
			if (n <= 0) {
				/* full socket buffer or unreachable: drop the message, move on */
				rtp_stats_drop(&tx_leg[off]->tx_stats, RTP_DROP_OTHER);
				off++;
			} else {
				off += (unsigned)n;
			}
		}
		i = j;
	}
	w->nsend = 0;
}

/* One received packet in buf[0..len) from src on socket s. May queue one send. */
static void
relay_packet(struct media_worker *w, struct media_sock *s, unsigned bi, size_t len, uint64_t mono,
             uint64_t wall, struct media_leg **tx_leg)
{
	uint8_t *pkt = w->buf[bi];
	const struct sockaddr_storage *src = &w->src[bi];
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
		return;
	}
	if (!l->configured || l->pair < 0) { /* not set up, or moved away from */
		rtp_stats_drop(rs, RTP_DROP_OTHER);
		return;
	}
	m = &l->call->leg[l->pair];
	/* with rtcp-mux everything arrives on and goes to the RTP port */
	struct media_peer *p = &l->peer[(s->rtcp && !l->mux) ? 1 : 0];
	if (s->rtcp && l->mux) {
		rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
		return;
	}
	bool expected = sa_equal(src, p->latched ? &p->cur : &p->signalled);

	if (l->plain) {
		if (!expected) {
			rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
			return;
		}
	} else {
		if (p->latched && !expected) {
			rtp_stats_drop(rs, RTP_DROP_UNKNOWN_SOURCE);
			return;
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
			return;
		}
		if (!rtcp)
			ssrc_remember(l, ssrc);
		if (!expected && !p->hold) {
			/* authenticated packet from a new source: latch, once */
			p->cur = *src;
			p->cur_len = sa_len(src);
			p->latched = true;
			if (s->rtcp == false) {
				rs->latched = true;
				rs->latched_addr = *src;
			}
			post_leg_event(w, l, MEDIA_EV_LATCHED, src);
		}
	}

	if (rtcp) {
		/* SDES and BYE text name the sender's host and software (rtcp.h) */
		size_t n;
		rc = rtcp_rewrite(pkt, len, w->rtcp_out, PKT_BUF - SRTP_LEG_TRAILER_MAX, &n,
		                  m->cname, RTCP_CNAME_LEN);
		if (rc != 0) {
			rtp_stats_drop(rs, rc == -EBADMSG ? RTP_DROP_MALFORMED : RTP_DROP_OTHER);
			return;
		}
		memcpy(pkt, w->rtcp_out, n);
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
		post_leg_event(w, l, MEDIA_EV_FIRST_PACKET, src);
	}
	if (l->idle) {
		l->idle = false;
		post_leg_event(w, l, MEDIA_EV_ACTIVE, NULL);
	}

	/* toward the other leg */
	struct media_peer *mp = &m->peer[(rtcp && !m->mux) ? 1 : 0];
	struct rtp_stats *ts = &m->tx_stats;
	if (!m->configured || mp->hold) {
		rtp_stats_drop(ts, RTP_DROP_OTHER);
		return;
	}
	if (!m->plain) {
		rc = rtcp ? srtp_leg_protect_rtcp(m->tx, pkt, &len, PKT_BUF)
		          : srtp_leg_protect(m->tx, pkt, &len, PKT_BUF);
		if (rc != 0) {
			rtp_stats_drop(ts, rc == -EALREADY ? RTP_DROP_REPLAY
			                   : rc == -EDQUOT ? RTP_DROP_SSRC_LIMIT
			                                   : RTP_DROP_OTHER);
			return;
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

	unsigned n = w->nsend++;
	w->dst[n] = mp->cur;
	w->siov[n].iov_base = pkt;
	w->siov[n].iov_len = len;
	w->smsg[n].msg_hdr = (struct msghdr){
	        .msg_name = &w->dst[n],
	        .msg_namelen = mp->cur_len,
	        .msg_iov = &w->siov[n],
	        .msg_iovlen = 1,
	};
	w->sfd[n] = m->sock[(rtcp && !m->mux) ? 1 : 0].fd;
	tx_leg[n] = m;
}

static void
read_socket(struct media_worker *w, struct media_sock *s)
{
	struct media_leg *tx_leg[BATCH];

	for (int round = 0; round < READS_PER_FD; round++) {
		for (unsigned i = 0; i < BATCH; i++) {
			w->riov[i].iov_base = w->buf[i];
			w->riov[i].iov_len = PKT_MAX;
			w->rmsg[i].msg_hdr = (struct msghdr){
			        .msg_name = &w->src[i],
			        .msg_namelen = sizeof(w->src[i]),
			        .msg_iov = &w->riov[i],
			        .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(s->fd, w->rmsg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		uint64_t mono = now_ns(CLOCK_MONOTONIC), wall = now_ns(CLOCK_REALTIME);
		for (int i = 0; i < n; i++) {
			if (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				rtp_stats_drop(&s->leg->rx_stats, RTP_DROP_MALFORMED);
				continue;
			}
			relay_packet(w, s, (unsigned)i, w->rmsg[i].msg_len, mono, wall, tx_leg);
		}
		flush_sends(w, tx_leg);
		if (n < BATCH)
			return;
	}
}

static void
check_idle(struct media_worker *w, uint64_t mono)
{
	uint64_t limit = (uint64_t)w->idle_notice_s * 1000000000u;

	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		for (struct media_call *c = w->buckets[b]; c != NULL; c = c->hnext) {
			for (int i = 0; i < MEDIA_LEGS; i++) {
				struct media_leg *l = &c->leg[i];
				if (l->configured && l->pair >= 0 && !l->idle &&
				    mono - l->last_rx_mono >= limit) {
					l->idle = true;
					post_leg_event(w, l, MEDIA_EV_IDLE, NULL);
				}
			}
		}
	}
}

static void *
worker_main(void *arg)
{
	struct media_worker *w = arg;
	struct epoll_event evs[EPOLL_EVENTS];
	uint64_t next_idle = now_ns(CLOCK_MONOTONIC) + 1000000000u;

	while (!w->stop) {
		int n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, 250);
		bool cmds = false;

		/* liveness for the watchdog (media_engine_workers_alive): one relaxed store
		 * per wake-up, which is at most 250 ms apart unless the loop is stuck */
		atomic_store_explicit(&w->tick_ms, now_ns(CLOCK_MONOTONIC) / 1000000u,
		                      memory_order_relaxed);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				cmds = true;
			else
				read_socket(w, evs[i].data.ptr);
		}
		/* commands after sockets: a delete must not free a socket still in evs[] */
		if (cmds)
			drain_cmds(w);
		if (w->idle_notice_s > 0) {
			uint64_t mono = now_ns(CLOCK_MONOTONIC);
			if (mono >= next_idle) {
				check_idle(w, mono);
				next_idle = mono + 1000000000u;
			}
		}
	}
	return NULL;
}

/* ---- lifecycle ---- */

int
media_worker_new(struct media_worker **out, unsigned idx, int ev_efd, unsigned ring_len,
                 unsigned idle_notice_s)
{
	struct media_worker *w = calloc(1, sizeof(*w));
	int err;

	if (w == NULL)
		return -ENOMEM;
	w->idx = idx;
	w->ev_efd = ev_efd;
	w->idle_notice_s = idle_notice_s;
	w->epfd = w->cmd_efd = -1;
	w->stop_cmd.type = CMD_STOP;
	pthread_mutex_init(&w->cmd_mu, NULL);
	if ((err = media_evring_new(&w->evr, ring_len, ev_efd)) != 0)
		goto fail;
	w->buf = calloc(BATCH, PKT_BUF);
	if (w->buf == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (w->cmd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		err = -errno;
		goto fail;
	}
	struct epoll_event ee = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_efd, &ee) != 0) {
		err = -errno;
		goto fail;
	}
	atomic_store(&w->tick_ms, now_ns(CLOCK_MONOTONIC) / 1000000u);
	if ((err = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		err = -err;
		goto fail;
	}
	w->thr_started = true;
	*out = w;
	return 0;
fail:
	media_worker_free(w);
	return err;
}

void
media_worker_free(struct media_worker *w)
{
	if (w == NULL)
		return;
	if (w->thr_started) {
		media_worker_post(w, &w->stop_cmd);
		pthread_join(w->thr, NULL);
	}
	/* commands queued after the stop, then every call still owned */
	struct media_cmd *list = w->cmd_head;
	while (list != NULL) {
		struct media_cmd *next = list->next;
		if (list != &w->stop_cmd)
			media_cmd_free(list);
		list = next;
	}
	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		struct media_call *c = w->buckets[b];
		while (c != NULL) {
			struct media_call *next = c->hnext;
			media_call_free(c);
			c = next;
		}
	}
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->cmd_efd >= 0)
		close(w->cmd_efd);
	pthread_mutex_destroy(&w->cmd_mu);
	media_evring_free(w->evr);
	if (w->buf != NULL)
		OPENSSL_cleanse(w->buf, (size_t)BATCH * PKT_BUF);
	free(w->buf);
	free(w);
}

int
media_worker_drain(struct media_worker *w, media_event_cb cb, void *arg)
{
	return media_evring_drain(w->evr, cb, arg);
}

uint64_t
media_worker_events_lost(const struct media_worker *w)
{
	return media_evring_lost(w->evr);
}

uint64_t
media_worker_cpu_ns(const struct media_worker *w)
{
	clockid_t cid;
	struct timespec ts;

	if (!w->thr_started || pthread_getcpuclockid(w->thr, &cid) != 0 ||
	    clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
media_worker_tick_ms(const struct media_worker *w)
{
	return atomic_load_explicit(&((struct media_worker *)w)->tick_ms, memory_order_relaxed);
}
