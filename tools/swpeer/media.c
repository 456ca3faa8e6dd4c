/*
 * media.c: swpeer's RTP/SRTP endpoint and the verifiable audio pattern.
 *
 * One UDP socket per call on an even port (RTP and RTCP multiplexed), a 20 ms timer that
 * sends the pattern, and a receive path that decrypts with libsrtp2 and checks every
 * packet against the pattern generator. A pattern payload (160 bytes, PT 0) starts with
 * a 12-byte header — 'S', direction ('C' caller, 'A' callee), pattern id, 0, call number
 * and packet index (both big-endian) — followed by 148 bytes that are a pure function of
 * those, so the receiver can regenerate and compare the payload exactly. Media is sent
 * only to the address and port of the remote SDP; packets are accepted from any source
 * (a relay may answer from elsewhere) but only if they authenticate. Not responsible for
 * SDP or for choosing keys (call.c, keys.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "rtcp.h"
#include "sip_rand.h"
#include "swpeer.h"

#define RTP_HDR 12
#define PKT_MAX MEDIA_PKT_MAX
_Static_assert((PATTERN_PAYLOAD - RTP_HDR) % 4 == 0, "pattern_fill writes 4 bytes a step");

/* Deterministic body for (dir, call, index, pattern). */
static void
pattern_fill(uint8_t *p, uint8_t dir, uint32_t call, uint32_t index, enum pattern_id pat)
{
	/* a 1 kHz tone in G.711 mu-law, 8 samples per period */
	static const uint8_t tone[8] = {0xff, 0x97, 0x8d, 0x97, 0xff, 0x17, 0x0d, 0x17};
	uint32_t x = (call * 2654435761u) ^ (index * 40503u) ^ ((uint32_t)dir << 24) ^ 0x9e3779b9u;

	p[0] = 'S';
	p[1] = dir;
	p[2] = (uint8_t)pat;
	p[3] = 0;
	p[4] = call >> 24, p[5] = call >> 16, p[6] = call >> 8, p[7] = call;
	p[8] = index >> 24, p[9] = index >> 16, p[10] = index >> 8, p[11] = index;
	/* one loop per pattern, not a test per byte (this runs for every packet sent and
	 * every packet verified) */
	if (pat == PATTERN_TONE) {
		for (int i = 12; i < PATTERN_PAYLOAD; i++)
			p[i] = tone[(index * PATTERN_PAYLOAD + (uint32_t)i) & 7];
		return;
	}
	/* four bytes per xorshift32 step (148 = 37 * 4): a quarter of the steps of one byte
	 * per step, for a body that is no less a pure function of the header */
	for (int i = 12; i < PATTERN_PAYLOAD; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x, p[i + 1] = (uint8_t)(x >> 8);
		p[i + 2] = (uint8_t)(x >> 16), p[i + 3] = (uint8_t)(x >> 24);
	}
}

/* Bind a UDP socket on ip and an even port in [lo, hi]. 0 or -errno. */
int
media_open(struct media *m, const char *ip, uint16_t lo, uint16_t hi, int seq)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	unsigned span = (unsigned)(hi - lo) / 2 + 1;
	uint32_t r;

	m->fd = -1;
	m->rtcp_fd = -1;
	m->rtcp_mux = true;
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	snprintf(m->ip, sizeof(m->ip), "%s", ip);
	m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return -errno;
	sip_rand_bytes(&r, sizeof(r));
	for (unsigned i = 0; i < 200; i++) {
		uint16_t port = (uint16_t)(((lo + 1) & ~1u) + 2 * ((r + i * 7919u) % span));

		if (port > hi)
			continue;
		sa.sin_port = htons(port);
		if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			uint8_t rnd[sizeof(m->ssrc) + sizeof(m->seq) + sizeof(m->ts)];

			m->port = port;
			sip_rand_bytes(rnd, sizeof(rnd));
			memcpy(&m->ssrc, rnd, sizeof(m->ssrc));
			memcpy(&m->seq, rnd + sizeof(m->ssrc), sizeof(m->seq));
			if (seq >= 0)
				m->seq = (uint16_t)seq;
			memcpy(&m->ts, rnd + sizeof(m->ssrc) + sizeof(m->seq), sizeof(m->ts));
			m->may_send = true;
			return 0;
		}
	}
	close(m->fd);
	m->fd = -1;
	return -EADDRINUSE;
}

/*
 * What the SDP exchange decided about rtcp-mux: without it, RTCP is sent from and
 * received on our port + 1 (bound here) and goes to the peer's port + 1. 0 or -errno.
 */
int
media_set_rtcp_mux(struct media *m, bool mux)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(m->port + 1)};

	m->rtcp_mux = mux;
	if (mux || m->rtcp_fd >= 0)
		return 0;
	if (inet_pton(AF_INET, m->ip, &sa.sin_addr) != 1)
		return -EINVAL;
	m->rtcp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->rtcp_fd < 0)
		return -errno;
	if (bind(m->rtcp_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int rc = -errno;
		close(m->rtcp_fd);
		m->rtcp_fd = -1;
		return rc;
	}
	return 0;
}

static int
srtp_session(srtp_t *s, const struct srtp_keys *k, srtp_ssrc_type_t type)
{
	srtp_policy_t pol;
	uint8_t keybuf[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN];
	int rc = keys_policy(&pol, k, keybuf, type);

	if (rc == 0 && srtp_create(s, &pol) != srtp_err_status_ok)
		rc = -EPROTO;
	OPENSSL_cleanse(keybuf, sizeof(keybuf));
	return rc;
}

/*
 * Switch the endpoint to SRTP with our `local` (outbound) and the peer's `remote` (inbound)
 * keys; copies them (wiped by media_close). A direction whose key is unchanged keeps its
 * session, and so its rollover counter and replay window (RFC 3711 s3.3.1: an answer
 * that repeats the keys continues the streams); a changed key gets a new session. 0 or
 * -errno.
 */
int
media_set_srtp(struct media *m, const struct srtp_keys *local, const struct srtp_keys *remote)
{
	bool keep_tx = m->tx != NULL && keys_same(&m->lkey, local);
	bool keep_rx = m->rx != NULL && keys_same(&m->rkey, remote);
	srtp_t tx = NULL, rx = NULL;
	int rc;

	if (!keep_tx && (rc = srtp_session(&tx, local, ssrc_any_outbound)) < 0)
		return rc;
	if (!keep_rx && (rc = srtp_session(&rx, remote, ssrc_any_inbound)) < 0) {
		if (tx)
			srtp_dealloc(tx);
		return rc;
	}
	if (!keep_tx) {
		if (m->tx)
			srtp_dealloc(m->tx);
		m->tx = tx;
	}
	if (!keep_rx) {
		if (m->rx_prev)
			srtp_dealloc(m->rx_prev);
		m->rx_prev = NULL;
		if (m->rx) {
			/* the peer re-keyed: its packets under the old key are still valid briefly
			 */
			m->rekeys++;
			m->rx_prev = m->rx;
			clock_gettime(CLOCK_MONOTONIC, &m->rx_prev_until);
			m->rx_prev_until.tv_sec += REKEY_GRACE_MS / 1000;
		}
		m->rx = rx;
	}
	m->srtp = true;
	m->lkey = *local;
	m->rkey = *remote;
	keys_hash(local, m->lhash);
	keys_hash(remote, m->rhash);
	media_expect_rekey(m, false); /* retry what arrived early under the new key */
	return 0;
}

int
media_set_remote(struct media *m, const char *ip, uint16_t port)
{
	memset(&m->remote, 0, sizeof(m->remote));
	m->remote.sin_family = AF_INET;
	m->remote.sin_port = htons(port);
	if (port == 0 || inet_pton(AF_INET, ip, &m->remote.sin_addr) != 1)
		return -EINVAL;
	m->has_remote = true;
	return 0;
}

/* Protect (if SRTP) and send an RTP packet of `len` bytes built in buf. */
static void
send_rtp(struct media *m, uint8_t *buf, int len)
{
	capture_write("RTP", '>', 0, buf, (size_t)len);
	if (m->srtp && srtp_protect(m->tx, buf, &len) != srtp_err_status_ok) {
		m->st.other_err++;
		return;
	}
	if (m->tamper && (m->st.sent + 1) % m->tamper == 0)
		buf[len - 1] ^= 0x01; /* --tamper: flip a bit of the auth tag (or payload) */
	if (sendto(m->fd, buf, (size_t)len, 0, (struct sockaddr *)&m->remote, sizeof(m->remote)) ==
	    len)
		m->st.sent++;
	else
		m->st.other_err++;
}

static void
rtp_header(struct media *m, uint8_t *b)
{
	b[0] = 0x80;
	b[1] = 0; /* PT 0, PCMU */
	b[2] = m->seq >> 8, b[3] = m->seq;
	b[4] = m->ts >> 24, b[5] = m->ts >> 16, b[6] = m->ts >> 8, b[7] = m->ts;
	b[8] = m->ssrc >> 24, b[9] = m->ssrc >> 16, b[10] = m->ssrc >> 8, b[11] = m->ssrc;
	m->seq++;
	m->ts += PATTERN_PAYLOAD;
}

/* --dtmf: the telephone-event payload type both SDPs had; < 0: none (send none, and
 * packets of that type are not DTMF) */
void
media_set_dtmf(struct media *m, int pt)
{
	m->dtmf_on = pt >= 0 && pt < 128;
	m->dtmf_pt = m->dtmf_on ? (uint8_t)pt : 0;
}

/*
 * --dtmf: one RFC 4733 event (key `event`, 0..15) as a phone sends it: two updates and
 * the end packet three times, all with the timestamp of the event's start.
 */
static void
send_dtmf(struct media *m, uint8_t event)
{
	uint8_t b[PKT_MAX];
	uint32_t ts = m->ts;

	for (int i = 0; i < 5; i++) {
		uint16_t dur = (uint16_t)(PATTERN_PAYLOAD * (i < 2 ? i + 1 : 3));
		rtp_header(m, b);
		m->ts = ts; /* rtp_header() advanced it: every packet of the event keeps it */
		b[1] = (uint8_t)((i == 0 ? 0x80 : 0) | m->dtmf_pt); /* marker on the first */
		b[RTP_HDR] = event;
		b[RTP_HDR + 1] = (uint8_t)((i >= 2 ? 0x80 : 0) | 10); /* E bit, volume -10 dBm0 */
		b[RTP_HDR + 2] = (uint8_t)(dur >> 8), b[RTP_HDR + 3] = (uint8_t)dur;
		send_rtp(m, b, RTP_HDR + 4);
	}
	m->st.dtmf_sent++;
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * --rtcp-sdes: an SR and an SDES naming this host and tool, as a softphone sends them.
 * The SR has the wall clock as its NTP time and, once media arrived, one report block
 * about it (no loss or jitter measured: 0; LSR/DLSR from the last SR received, so the
 * receiver of this report can compute the round trip).
 */
static void
send_rtcp_sdes(struct media *m)
{
	uint8_t b[PKT_MAX];
	char cname[96];
	const char *text[3] = {cname, "swpeer test peer", "swpeer/" SW_VERSION};
	static const uint8_t type[3] = {RTCP_SDES_CNAME, RTCP_SDES_NAME, RTCP_SDES_TOOL};
	int blocks = m->have_rx_ssrc ? 1 : 0, sr_len = 28 + 24 * blocks, n = sr_len;
	struct timespec now;

	snprintf(cname, sizeof(cname), "swpeer@%s", m->ip);
	memset(b, 0, (size_t)sr_len + 4); /* the SR and the SDES header */
	b[0] = (uint8_t)(0x80 | blocks), b[1] = RTCP_SR, b[3] = (uint8_t)(sr_len / 4 - 1);
	put32(b + 4, m->ssrc);
	clock_gettime(CLOCK_REALTIME, &now);
	put32(b + 8, (uint32_t)now.tv_sec + 2208988800u); /* NTP era 0 */
	put32(b + 12, (uint32_t)(((uint64_t)now.tv_nsec << 32) / 1000000000u));
	if (blocks) {
		put32(b + 28, m->rx_ssrc);
		if (m->lsr != 0) {
			struct timespec mono;
			clock_gettime(CLOCK_MONOTONIC, &mono);
			int64_t ns = (int64_t)(mono.tv_sec - m->lsr_at.tv_sec) * 1000000000 +
			             (mono.tv_nsec - m->lsr_at.tv_nsec);
			put32(b + 44, m->lsr);
			put32(b + 48, ns > 0 ? (uint32_t)(((uint64_t)ns << 16) / 1000000000u) : 0);
		}
	}
	b[n++] = 0x81, b[n++] = RTCP_SDES, n += 2;
	memcpy(b + n, b + 4, 4);
	n += 4;
	for (int i = 0; i < 3; i++) {
		size_t l = strlen(text[i]);
		b[n++] = type[i];
		b[n++] = (uint8_t)l;
		memcpy(b + n, text[i], l);
		n += (int)l;
	}
	do
		b[n++] = 0;
	while (n % 4 != 0);
	b[sr_len + 3] = (uint8_t)((n - sr_len) / 4 - 1);
	capture_write("RTCP", '>', 0, b, (size_t)n);
	if (m->srtp && srtp_protect_rtcp(m->tx, b, &n) != srtp_err_status_ok) {
		m->st.other_err++;
		return;
	}
	if (!m->rtcp_mux && m->rtcp_fd >= 0) {
		struct sockaddr_in to = m->remote;
		to.sin_port = htons(ntohs(to.sin_port) + 1);
		(void)!sendto(m->rtcp_fd, b, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to));
		return;
	}
	(void)!sendto(m->fd, b, (size_t)n, 0, (struct sockaddr *)&m->remote, sizeof(m->remote));
}

/* --rtcp-sdes: count the SDES items of a received RTCP compound, keep the CNAME. */
static int
sdes_item_cb(const struct rtcp_sdes_item *it, void *arg)
{
	struct media *m = arg;

	m->st.sdes_items++;
	if (it->type != RTCP_SDES_CNAME) {
		m->st.sdes_foreign++;
		return 0;
	}
	size_t i = 0;
	for (; i < it->len && i + 1 < sizeof(m->st.sdes_cname); i++)
		m->st.sdes_cname[i] =
		        it->data[i] >= 0x20 && it->data[i] < 0x7f ? (char)it->data[i] : '?';
	m->st.sdes_cname[i] = '\0';
	return 0;
}

static void
inspect_rtcp(struct media *m, const uint8_t *buf, int len)
{
	uint8_t copy[PKT_MAX];
	struct rtcp_pkt p;
	size_t off = 0;

	memcpy(copy, buf, (size_t)len); /* len <= PKT_MAX: our receive buffers */
	if (m->srtp && srtp_unprotect_rtcp(m->rx, copy, &len) != srtp_err_status_ok)
		return;
	if (rtcp_check(copy, (size_t)len) != 0)
		return;
	while (rtcp_next(copy, (size_t)len, &off, &p) == 1) {
		if (p.type == RTCP_SDES)
			(void)rtcp_sdes_walk(&p, sdes_item_cb, m);
		if (p.type == RTCP_SR && rtcp_sr_ntp_mid(&p, &m->lsr) == 0)
			clock_gettime(CLOCK_MONOTONIC, &m->lsr_at);
	}
}

/* Bit `i` of a growing bitmap: its value, or -1 when it cannot grow that far. */
static int
bit_get(uint8_t **map, size_t *nbits, uint32_t i)
{
	if (i >= *nbits) {
		size_t nb = *nbits ? *nbits : 4096;
		uint8_t *n;

		while (nb <= i)
			nb *= 2;
		if (nb > (1u << 24) || !(n = realloc(*map, nb / 8)))
			return -1;
		memset(n + *nbits / 8, 0, (nb - *nbits) / 8);
		*map = n;
		*nbits = nb;
	}
	return ((*map)[i / 8] >> (i % 8)) & 1;
}

static bool
bit_test(const uint8_t *map, size_t nbits, uint32_t i)
{
	return i < nbits && ((map[i / 8] >> (i % 8)) & 1);
}

static void
media_tx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct media *m = arg;
	uint8_t buf[PKT_MAX];

	if (!m->sending || !m->may_send || !m->has_remote || m->muted)
		return;
	rtp_header(m, buf);
	pattern_fill(buf + RTP_HDR, m->tx_dir, m->tx_call, m->tx_index, m->tx_pattern);
	m->tx_index++;
	if (m->expect_back && bit_get(&m->want, &m->want_bits, m->tx_index - 1) == 0) {
		m->want[(m->tx_index - 1) / 8] |= (uint8_t)(1u << ((m->tx_index - 1) % 8));
		m->st.sent_expect_back++;
	}
	send_rtp(m, buf, RTP_HDR + PATTERN_PAYLOAD);
	if (m->dtmf_on && m->dtmf_left > 0 && m->tx_index % 25 == 10) {
		m->dtmf_left--;
		send_dtmf(m, (uint8_t)(m->dtmf_left % 10));
	}
	if (m->rtcp_sdes && m->tx_index % 50 == 1)
		send_rtcp_sdes(m);
}

static void
mark_seen(struct media *m, uint32_t index)
{
	int was = bit_get(&m->seen, &m->seen_bits, index);

	if (was < 0)
		return;
	if (was) {
		m->st.dup++;
		return;
	}
	m->seen[index / 8] |= (uint8_t)(1u << (index % 8));
	m->st.ok++;
	if (!m->rx_any || index > m->rx_max_index)
		m->rx_max_index = index;
	m->rx_any = true;
}

/* Check a decrypted payload against the pattern; true if it is exactly right. */
static bool
verify(struct media *m, const uint8_t *p, size_t len)
{
	uint8_t want[PATTERN_PAYLOAD];
	uint32_t call, index;

	if (len != PATTERN_PAYLOAD || p[0] != 'S' || (p[2] != PATTERN_SEQ && p[2] != PATTERN_TONE))
		return false;
	if (m->rx_dir && p[1] != m->rx_dir)
		return false;
	call = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	index = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	if (m->rx_call && call != m->rx_call)
		return false;
	pattern_fill(want, p[1], call, index, (enum pattern_id)p[2]);
	if (memcmp(want, p, PATTERN_PAYLOAD) != 0)
		return false;
	/* echo of our own pattern: it cannot come back before we sent it */
	if (m->rx_dir == m->tx_dir && index >= m->tx_index)
		return false;
	if (!m->rx_call)
		m->rx_call = call;
	mark_seen(m, index);
	return true;
}

static void
handle_packet(struct media *m, uint8_t *buf, int len)
{
	int hl;

	if (len < RTP_HDR || (buf[0] >> 6) != 2) {
		m->st.bad++;
		return;
	}
	if (buf[1] >= 192 && buf[1] <= 223) { /* RTCP on the muxed port: not verified */
		m->st.rtcp++;
		if (m->rtcp_sdes)
			inspect_rtcp(m, buf, len);
		return;
	}
	m->st.recv++;
	if (m->srtp) {
		uint8_t copy[PKT_MAX];
		int clen = len;
		srtp_err_status_t st;

		if (m->rx_prev && ms_since(&m->rx_prev_until) >= 0) {
			srtp_dealloc(m->rx_prev);
			m->rx_prev = NULL;
		}
		if (m->rx_prev || m->rekey_pending) /* len <= PKT_MAX: our receive buffers */
			memcpy(copy, buf, (size_t)len);
		st = srtp_unprotect(m->rx, buf, &len);
		if (st == srtp_err_status_auth_fail && m->rx_prev) {
			memcpy(buf, copy, (size_t)clen);
			len = clen;
			st = srtp_unprotect(m->rx_prev, buf, &len);
		}
		if (st == srtp_err_status_auth_fail && m->rekey_pending && m->nheld < REKEY_HELD) {
			memcpy(m->held[m->nheld], copy, (size_t)clen);
			m->held_len[m->nheld++] = clen;
			m->st.recv--; /* counted when retried */
			return;
		}
		switch (st) {
		case srtp_err_status_ok:
			break;
		case srtp_err_status_auth_fail:
			m->st.auth_fail++;
			return;
		case srtp_err_status_replay_fail:
		case srtp_err_status_replay_old:
			m->st.replay++;
			return;
		default:
			m->st.other_err++;
			return;
		}
	}
	hl = RTP_HDR + 4 * (buf[0] & 0x0f);
	if (buf[0] & 0x10) {
		if (len < hl + 4) {
			m->st.bad++;
			return;
		}
		hl += 4 + 4 * ((buf[hl + 2] << 8) | buf[hl + 3]);
	}
	if (m->dtmf_on && (buf[1] & 0x7f) == m->dtmf_pt && len >= hl + 4) {
		/* an RFC 4733 event: its packets share one timestamp */
		uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
		              (uint32_t)buf[6] << 8 | buf[7];
		if (!m->have_dtmf_rx || ts != m->dtmf_rx_ts)
			m->st.dtmf_recv++;
		m->have_dtmf_rx = true;
		m->dtmf_rx_ts = ts;
		return;
	}
	if (len < hl || (buf[1] & 0x7f) != 0 || !verify(m, buf + hl, (size_t)(len - hl))) {
		m->st.bad++;
		return;
	}
	m->have_rx_ssrc = true;
	m->rx_ssrc =
	        (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
	if (m->echo && m->may_send && m->has_remote && !m->muted) {
		uint8_t out[PKT_MAX];

		rtp_header(m, out);
		memcpy(out + RTP_HDR, buf + hl, PATTERN_PAYLOAD);
		send_rtp(m, out, RTP_HDR + PATTERN_PAYLOAD);
		if (m->rtcp_sdes && m->st.sent % 50 == 1)
			send_rtcp_sdes(m); /* an echoing callee runs no pattern timer */
	}
}

/*
 * One recv() per readiness: at one packet per 20 ms per socket there is nearly always
 * exactly one queued, and the socket is level-triggered, so a second one makes the next
 * loop pass report it again. recvmmsg() of a burst costs more for that one packet (it
 * copies the message headers in and tries the queue a second time), and a recv() loop
 * pays a second system call for the EAGAIN that ends it.
 */
static void
media_rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct media *m = arg;
	static uint8_t buf[PKT_MAX];
	/* longer than PKT_MAX: cut there, it then fails the checks */
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n >= 0)
		handle_packet(m, buf, (int)n);
}

/*
 * Start receiving (and echoing, per flags). The 20 ms pattern timer runs from the first
 * media_send_pattern(m, true) on: an echoing callee sends only what it receives and has
 * none (it would fire 50 times a second per call for nothing). 0 or -ENOMEM.
 */
int
media_start(struct media *m, struct event_base *base)
{
	if (!m->rx_ev) {
		/* every call's 20 ms timer has the same period: libevent keeps such timers in
		 * one queue (O(1) to re-arm and to delete) instead of its heap (O(log calls)) */
		m->tx_tv = (struct timeval){0, PATTERN_PTIME_MS * 1000};
		m->tx_period = event_base_init_common_timeout(base, &m->tx_tv);
		if (m->tx_period == NULL)
			m->tx_period = &m->tx_tv;
		m->rx_ev = event_new(base, m->fd, EV_READ | EV_PERSIST, media_rx_cb, m);
		m->tx_ev = event_new(base, -1, EV_PERSIST, media_tx_cb, m);
		if (!m->rx_ev || !m->tx_ev)
			return -ENOMEM;
		event_add(m->rx_ev, NULL);
		if (m->sending)
			event_add(m->tx_ev, m->tx_period);
	}
	if (m->rtcp_fd >= 0 && !m->rtcp_ev) {
		/* RTCP on port + 1 (no rtcp-mux): handle_packet() tells it by its type */
		m->rtcp_ev = event_new(base, m->rtcp_fd, EV_READ | EV_PERSIST, media_rx_cb, m);
		if (!m->rtcp_ev)
			return -ENOMEM;
		event_add(m->rtcp_ev, NULL);
	}
	return 0;
}

/*
 * We sent an offer that may re-key the peer (pending) or its answer was handled (not
 * pending): packets failing authentication meanwhile are held, and on the answer retried
 * once with the current keys (those failing again count as authentication failures).
 */
void
media_expect_rekey(struct media *m, bool pending)
{
	unsigned n = m->nheld;

	m->rekey_pending = pending;
	if (pending)
		return;
	m->nheld = 0;
	for (unsigned i = 0; i < n; i++)
		handle_packet(m, m->held[i], m->held_len[i]);
	OPENSSL_cleanse(m->held, sizeof(m->held));
}

/* Turn the pattern sender on or off: on starts the timer (after media_start) if it does
 * not run yet, off leaves it running in its 20 ms rhythm, sending nothing. */
void
media_send_pattern(struct media *m, bool on)
{
	m->sending = on;
	if (on && m->tx_ev && !event_pending(m->tx_ev, EV_TIMEOUT, NULL))
		event_add(m->tx_ev, m->tx_period);
}

/*
 * Caller, going on hold: the last `n` packets sent and not echoed yet may meet the
 * peer after it stopped sending (the hold reached it first, over the other path), so
 * they are no longer expected back.
 */
void
media_unwant_recent(struct media *m, unsigned n)
{
	for (uint32_t i = m->tx_index > n ? m->tx_index - n : 0; i < m->tx_index; i++) {
		if (bit_test(m->want, m->want_bits, i) && !bit_test(m->seen, m->seen_bits, i)) {
			m->want[i / 8] &= (uint8_t) ~(1u << (i % 8));
			m->st.sent_expect_back--;
		}
	}
}

/* Echo: count the expected indexes never seen, and name where the first ones were. */
static void
echo_missing(struct media *m)
{
	size_t at = 0;
	unsigned ranges = 0;

	m->st.missing = 0;
	for (uint32_t i = 0; i < m->tx_index; i++) {
		if (!bit_test(m->want, m->want_bits, i) || bit_test(m->seen, m->seen_bits, i))
			continue;
		m->st.missing++;
		if (i > 0 && bit_test(m->want, m->want_bits, i - 1) &&
		    !bit_test(m->seen, m->seen_bits, i - 1))
			continue; /* inside a range already named */
		if (ranges++ < 4 && at + 12 < sizeof(m->st.missing_at)) {
			int k = snprintf(m->st.missing_at + at, sizeof(m->st.missing_at) - at,
			                 "%s%u", at ? "," : "", i);
			at += k > 0 ? (size_t)k : 0;
		}
	}
}

/* Work out packets missing from what was verified; call once before reporting. */
void
media_finalize_stats(struct media *m)
{
	uint64_t expect;

	if (m->rx_dir && m->rx_dir == m->tx_dir) { /* echo of our own pattern */
		echo_missing(m);
		return;
	}
	expect = m->rx_any ? (uint64_t)m->rx_max_index + 1 : 0;
	m->st.missing = expect > m->st.ok ? expect - m->st.ok : 0;
}

/* Free events, SRTP sessions and the socket; wipe keys. Safe on a zeroed struct. */
void
media_close(struct media *m)
{
	if (m->rx_ev)
		event_free(m->rx_ev);
	if (m->tx_ev)
		event_free(m->tx_ev);
	if (m->rtcp_ev)
		event_free(m->rtcp_ev);
	m->rx_ev = m->tx_ev = m->rtcp_ev = NULL;
	if (m->rtcp_fd >= 0)
		close(m->rtcp_fd);
	m->rtcp_fd = -1;
	if (m->tx)
		srtp_dealloc(m->tx);
	if (m->rx)
		srtp_dealloc(m->rx);
	if (m->rx_prev)
		srtp_dealloc(m->rx_prev);
	m->tx = m->rx = m->rx_prev = NULL;
	m->nheld = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->seen);
	m->seen = NULL;
	m->seen_bits = 0;
	free(m->want);
	m->want = NULL;
	m->want_bits = 0;
	keys_wipe(&m->lkey);
	keys_wipe(&m->rkey);
}
