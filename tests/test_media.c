/*
 * test_media.c: the media engine on loopback with real UDP sockets on a random 127.x.y.z
 * and a random port range. Peers are plain sockets that run their own SRTP with
 * srtp_leg. Covers: independent keys per leg (B decrypts with the relay's key for B and
 * not with A's), SRTCP both ways, rtcp-mux, RTP -> SRTP, RTP Bleed (a spoofer gets nothing
 * and redirects nothing), replay and flipped-tag drops by reason, 1,000 bad packets that
 * do not end a call, latching only after authentication and only once, hold, snapshots
 * while flowing, port allocation, events, oversized datagrams, deleting a call while
 * packets flow. SW_MEDIA_IO=epoll|uring forces the workers' I/O path (tests/meson.build
 * runs this file once per path; "uring" exits 77 when io_uring is unavailable).
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <openssl/rand.h>

#include "media.h"
#include "monotime.h"
#include "rtcp.h"
#include "srtp_leg.h"

#define BUFSZ 2048

static struct in_addr lo;     /* the random 127.x.y.z of this test */
static enum media_io test_io; /* SW_MEDIA_IO, or MEDIA_IO_AUTO */
static uint16_t range_lo;

static uint32_t
rnd(void)
{
	uint32_t r;
	ck_assert_int_eq(getrandom(&r, sizeof(r), 0), (ssize_t)sizeof(r));
	return r;
}

static void
pick_loopback(void)
{
	uint32_t r = rnd();
	lo.s_addr = htonl(0x7f000000u | (1 + r % 250) << 16 | (1 + (r >> 8) % 250) << 8 |
	                  (2 + (r >> 16) % 250));
	range_lo = (uint16_t)(20000 + 2 * (rnd() % 15000));
}

static struct sockaddr_storage
sa4(struct in_addr a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in s;
	memset(&ss, 0, sizeof(ss));
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr = a;
	s.sin_port = htons(port);
	memcpy(&ss, &s, sizeof(s)); /* typed copy: no punned stores into the storage */
	return ss;
}

/* a UDP socket on lo with an ephemeral port */
static int
udp(struct sockaddr_storage *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_storage ss = sa4(lo, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	socklen_t l = sizeof(*bound);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)bound, &l), 0);
	return fd;
}

static void
mkkeys(struct srtp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	ck_assert_int_eq(RAND_bytes(k->key, 16), 1);
	ck_assert_int_eq(RAND_bytes(k->salt, 14), 1);
}

/* A test peer: its socket(s), the keys it sends with, the relay's keys toward it. */
struct peer {
	int fd, fd_rtcp;
	struct sockaddr_storage addr, addr_rtcp;
	struct srtp_keys send_keys, recv_keys;
	struct srtp_leg *tx, *rx;
	uint16_t seq;
	uint32_t ssrc;
};

static void
peer_new(struct peer *p, bool srtp)
{
	memset(p, 0, sizeof(*p));
	p->fd = udp(&p->addr);
	p->fd_rtcp = udp(&p->addr_rtcp);
	p->ssrc = rnd();
	p->seq = (uint16_t)rnd();
	if (srtp) {
		mkkeys(&p->send_keys);
		mkkeys(&p->recv_keys);
		ck_assert_int_eq(srtp_leg_new(&p->tx, &p->send_keys, SRTP_LEG_OUTBOUND), 0);
		ck_assert_int_eq(srtp_leg_new(&p->rx, &p->recv_keys, SRTP_LEG_INBOUND), 0);
	}
}

static void
peer_free(struct peer *p)
{
	close(p->fd);
	close(p->fd_rtcp);
	srtp_leg_free(p->tx);
	srtp_leg_free(p->rx);
	memset(&p->send_keys, 0, sizeof(p->send_keys));
	memset(&p->recv_keys, 0, sizeof(p->recv_keys));
}

static size_t
mkrtp(const struct peer *p, uint8_t *b, uint16_t seq, uint8_t fill)
{
	memset(b, 0, BUFSZ);
	b[0] = 0x80;
	b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
	uint32_t ts = seq * 160u;
	b[4] = (uint8_t)(ts >> 24), b[5] = (uint8_t)(ts >> 16), b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(p->ssrc >> 24), b[9] = (uint8_t)(p->ssrc >> 16);
	b[10] = (uint8_t)(p->ssrc >> 8), b[11] = (uint8_t)p->ssrc;
	memset(b + 12, fill, 160);
	return 172;
}

static size_t
mkrtcp(const struct peer *p, uint8_t *b)
{
	memset(b, 0, BUFSZ);
	b[0] = 0x80;
	b[1] = 200;
	b[3] = 6;
	b[4] = (uint8_t)(p->ssrc >> 24), b[5] = (uint8_t)(p->ssrc >> 16);
	b[6] = (uint8_t)(p->ssrc >> 8), b[7] = (uint8_t)p->ssrc;
	for (int i = 8; i < 28; i++)
		b[i] = (uint8_t)(0xa0 + i);
	return 28;
}

static void
sendto_port(int fd, const uint8_t *b, size_t len, uint16_t port)
{
	struct sockaddr_storage to = sa4(lo, port);
	ck_assert_int_eq(sendto(fd, b, len, 0, (struct sockaddr *)&to, sizeof(struct sockaddr_in)),
	                 (ssize_t)len);
}

/* Send one RTP packet from p (SRTP unless p->tx is NULL) to the relay port; returns seq. */
static uint16_t
peer_send(struct peer *p, uint16_t port, uint8_t fill)
{
	uint8_t b[BUFSZ];
	uint16_t seq = ++p->seq;
	size_t len = mkrtp(p, b, seq, fill);
	if (p->tx != NULL)
		ck_assert_int_eq(srtp_leg_protect(p->tx, b, &len, sizeof(b)), 0);
	sendto_port(p->fd, b, len, port);
	return seq;
}

/* Receive one datagram within timeout_ms; returns its length or -1. */
static ssize_t
recv_to(int fd, uint8_t *b, int timeout_ms)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	if (poll(&pf, 1, timeout_ms) != 1)
		return -1;
	return recv(fd, b, BUFSZ, 0);
}

static unsigned
drain_count(int fd, int timeout_ms)
{
	uint8_t b[BUFSZ];
	unsigned n = 0;
	while (recv_to(fd, b, timeout_ms) >= 0)
		n++;
	return n;
}

/* ---- engine fixture ---- */

static struct media_engine *eng;
static uint64_t cid;
static uint16_t ports[2][2];

static void
engine_up(unsigned idle_s, uint16_t width)
{
	struct media_engine_conf c;
	memset(&c, 0, sizeof(c));
	pick_loopback();
	c.workers = 1;
	c.local = sa4(lo, 0);
	c.port_min = range_lo;
	c.port_max = (uint16_t)(range_lo + width - 1);
	c.idle_notice_s = idle_s;
	c.io = test_io;
	ck_assert_int_eq(media_engine_new(&eng, &c), 0);
}

static void
setup(void)
{
	ck_assert_int_eq(media_global_init(), 0);
	engine_up(0, 200);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
}

static void
teardown(void)
{
	media_engine_free(eng);
	eng = NULL;
}

/* the worker applies commands in order: a snapshot reply means earlier ones are done */
static void
sync_engine(struct media_call_stats *st)
{
	struct media_call_stats tmp;
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid, st ? st : &tmp, 2000), 0);
}

static void
configure(enum media_leg_id leg, const struct peer *p, bool mux, bool plain)
{
	struct media_leg_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.remote_rtp = p->addr;
	lc.remote_rtcp = p->addr_rtcp;
	lc.rtcp_mux = mux;
	lc.plain_rtp = plain;
	if (!plain) {
		lc.rx = p->send_keys; /* the peer's a=crypto: what it sends with */
		lc.tx = p->recv_keys; /* ours toward this peer */
	}
	ck_assert_int_eq(media_leg_update(eng, cid, leg, &lc), 0);
	memset(&lc, 0, sizeof(lc));
}

/* Expect one RTP packet at `to`, decrypting with to->rx (if any), with seq and fill. */
static void
expect_rtp(struct peer *to, uint16_t seq, uint8_t fill, const struct peer *from)
{
	uint8_t b[BUFSZ], copy[BUFSZ];
	ssize_t n = recv_to(to->fd, b, 2000);
	ck_assert_int_gt(n, 0);
	size_t len = (size_t)n;
	memcpy(copy, b, len);
	if (to->rx != NULL) {
		/* never the sender's key: re-encrypted, not passed through */
		if (from != NULL && from->tx != NULL) {
			struct srtp_leg *wrong;
			size_t l2 = len;
			ck_assert_int_eq(srtp_leg_new(&wrong, &from->send_keys, SRTP_LEG_INBOUND),
			                 0);
			ck_assert_int_eq(srtp_leg_unprotect(wrong, copy, &l2), -EBADMSG);
			srtp_leg_free(wrong);
		}
		ck_assert_int_eq(srtp_leg_unprotect(to->rx, b, &len), 0);
	}
	ck_assert_uint_eq(len, 172);
	ck_assert_uint_eq((uint16_t)(b[2] << 8 | b[3]), seq);
	for (int i = 12; i < 172; i++)
		ck_assert_uint_eq(b[i], fill);
}

START_TEST(media_relays_srtp_both_ways_with_independent_keys)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	for (int i = 0; i < 20; i++) {
		uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], (uint8_t)i);
		expect_rtp(&b, s, (uint8_t)i, &a);
		s = peer_send(&b, ports[MEDIA_LEG_B][0], (uint8_t)(0x80 + i));
		expect_rtp(&a, s, (uint8_t)(0x80 + i), &b);
	}
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 20);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 20);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.packets, 20);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].tx.packets, 20);
	ck_assert_int_eq(rtp_stats_lost(&st.leg[MEDIA_LEG_A].rx), 0);
	ck_assert_uint_eq(rtp_stats_drops_total(&st.leg[MEDIA_LEG_A].rx), 0);
	ck_assert(!st.leg[MEDIA_LEG_A].latched);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

static void
srtcp_roundtrip(struct peer *from, struct peer *to, uint16_t relay_port, int to_fd)
{
	uint8_t b[BUFSZ], orig[BUFSZ];
	size_t len = mkrtcp(from, b);
	memcpy(orig, b, len);
	ck_assert_int_eq(srtp_leg_protect_rtcp(from->tx, b, &len, sizeof(b)), 0);
	sendto_port(relay_port == ports[MEDIA_LEG_A][1] || relay_port == ports[MEDIA_LEG_B][1]
	                    ? from->fd_rtcp
	                    : from->fd,
	            b, len, relay_port);
	ssize_t n = recv_to(to_fd, b, 2000);
	ck_assert_int_gt(n, 0);
	len = (size_t)n;
	ck_assert_int_eq(srtp_leg_unprotect_rtcp(to->rx, b, &len), 0);
	ck_assert_uint_eq(len, 28);
	ck_assert_mem_eq(b, orig, 28);
}

START_TEST(media_relays_srtcp_both_ways)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	srtcp_roundtrip(&a, &b, ports[MEDIA_LEG_A][1], b.fd_rtcp);
	srtcp_roundtrip(&b, &a, ports[MEDIA_LEG_B][1], a.fd_rtcp);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.rtcp_packets, 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.rtcp_packets, 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 0);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/*
 * An RTCP compound as a peer's stack sends it: an SR, then SDES naming its host and
 * software (CNAME, NAME, TOOL). `bad` gives the TOOL item a length past the packet.
 */
static size_t
mkrtcp_sdes(const struct peer *p, uint8_t *b, const char *cname, bool bad)
{
	static const char name[] = "Agent Seven", tool[] = "voicebot/3.2 (linux)";
	size_t n = mkrtcp(p, b), start = n;
	b[n++] = 0x81;
	b[n++] = RTCP_SDES;
	n += 2;                  /* length, below */
	memcpy(b + n, b + 4, 4); /* the sender's SSRC */
	n += 4;
	const char *text[] = {cname, name, tool};
	for (int i = 0; i < 3; i++) {
		b[n++] = (uint8_t)(i == 0   ? RTCP_SDES_CNAME
		                   : i == 1 ? RTCP_SDES_NAME
		                            : RTCP_SDES_TOOL);
		b[n++] = (uint8_t)strlen(text[i]) + (bad && i == 2 ? 100 : 0);
		memcpy(b + n, text[i], strlen(text[i]));
		n += strlen(text[i]);
	}
	do
		b[n++] = 0;
	while ((n - start) % 4 != 0);
	b[start + 3] = (uint8_t)((n - start) / 4 - 1);
	return n;
}

struct sdes_seen {
	unsigned items, cnames;
	uint8_t cname[RTCP_CNAME_LEN];
};

static int
sdes_seen_cb(const struct rtcp_sdes_item *it, void *arg)
{
	struct sdes_seen *s = arg;
	s->items++;
	if (it->type == RTCP_SDES_CNAME && it->len == RTCP_CNAME_LEN) {
		s->cnames++;
		memcpy(s->cname, it->data, RTCP_CNAME_LEN);
	}
	return 0;
}

/* Send mkrtcp_sdes() from `from` to relay_port; read what arrives at to->fd_rtcp. */
static void
sdes_through(struct peer *from, uint16_t relay_port, struct peer *to, const char *cname,
             struct sdes_seen *seen)
{
	uint8_t b[BUFSZ], orig[BUFSZ];
	size_t len = mkrtcp_sdes(from, b, cname, false);
	memcpy(orig, b, len);
	ck_assert_int_eq(srtp_leg_protect_rtcp(from->tx, b, &len, sizeof(b)), 0);
	sendto_port(from->fd_rtcp, b, len, relay_port);
	ssize_t n = recv_to(to->fd_rtcp, b, 2000);
	ck_assert_int_gt(n, 0);
	len = (size_t)n;
	ck_assert_int_eq(srtp_leg_unprotect_rtcp(to->rx, b, &len), 0);
	ck_assert_int_eq(rtcp_check(b, len), 0);
	ck_assert_mem_eq(b, orig, 28); /* the SR crosses unchanged */
	struct rtcp_pkt p;
	size_t off = 28;
	memset(seen, 0, sizeof(*seen));
	ck_assert_int_eq(rtcp_next(b, len, &off, &p), 1);
	ck_assert_uint_eq(p.type, RTCP_SDES);
	ck_assert_int_eq(rtcp_sdes_walk(&p, sdes_seen_cb, seen), 0);
	ck_assert_uint_eq(off, len);
}

START_TEST(media_rewrites_rtcp_sdes_to_one_cname_per_leg)
{
	static const char caller[] = "caller@pbx.example.com", agent[] = "ai@gpu-node-17.internal";
	struct peer a, b;
	struct sdes_seen at_b, at_b2, at_a;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	/* the agent sees one item, a CNAME that is not the caller's, and the same one again */
	sdes_through(&a, ports[MEDIA_LEG_A][1], &b, caller, &at_b);
	ck_assert_uint_eq(at_b.items, 1);
	ck_assert_uint_eq(at_b.cnames, 1);
	sdes_through(&a, ports[MEDIA_LEG_A][1], &b, caller, &at_b2);
	ck_assert_uint_eq(at_b2.items, 1);
	ck_assert_mem_eq(at_b.cname, at_b2.cname, RTCP_CNAME_LEN);
	/* the caller sees neither the agent's host nor its software, and another CNAME */
	sdes_through(&b, ports[MEDIA_LEG_B][1], &a, agent, &at_a);
	ck_assert_uint_eq(at_a.items, 1);
	ck_assert_uint_eq(at_a.cnames, 1);
	ck_assert(memcmp(at_a.cname, at_b.cname, RTCP_CNAME_LEN) != 0);
	/* an authenticated but malformed compound is dropped, not relayed */
	uint8_t pkt[BUFSZ];
	size_t len = mkrtcp_sdes(&a, pkt, caller, true);
	ck_assert_int_eq(srtp_leg_protect_rtcp(a.tx, pkt, &len, sizeof(pkt)), 0);
	sendto_port(a.fd_rtcp, pkt, len, ports[MEDIA_LEG_A][1]);
	ck_assert_uint_eq(drain_count(b.fd_rtcp, 300), 0);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_MALFORMED], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.rtcp_packets, 2);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.rtcp_packets, 1);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_relays_rtcp_mux_on_the_rtp_port)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, true, false);  /* A muxes */
	configure(MEDIA_LEG_B, &b, false, false); /* B does not */
	sync_engine(NULL);
	/* A's SRTCP arrives on A's RTP port and leaves toward B's RTCP address */
	srtcp_roundtrip(&a, &b, ports[MEDIA_LEG_A][0], b.fd_rtcp);
	/* B's SRTCP on B's RTCP port goes to A's RTP address (mux) */
	srtcp_roundtrip(&b, &a, ports[MEDIA_LEG_B][1], a.fd);
	/* RTP still flows next to it */
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x33);
	expect_rtp(&b, s, 0x33, &a);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_rekeys_legacy_rtp_to_srtp)
{
	struct peer a, b, stranger;
	peer_new(&a, false); /* legacy PBX: plain RTP */
	peer_new(&b, true);
	peer_new(&stranger, false);
	configure(MEDIA_LEG_A, &a, false, true);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x11);
	expect_rtp(&b, s, 0x11, NULL); /* SRTP toward the agent */
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x22);
	expect_rtp(&a, s, 0x22, NULL); /* plain toward the PBX */
	/* plain RTP from anyone but the signalled address is dropped, never latched */
	peer_send(&stranger, ports[MEDIA_LEG_A][0], 0x44);
	ck_assert_uint_eq(drain_count(b.fd, 300), 0);
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x23);
	expect_rtp(&a, s, 0x23, NULL);
	ck_assert_uint_eq(drain_count(stranger.fd, 100), 0);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_UNKNOWN_SOURCE], 1);
	ck_assert(!st.leg[MEDIA_LEG_A].latched);
	ck_assert(st.leg[MEDIA_LEG_A].plain_rtp);
	peer_free(&a);
	peer_free(&b);
	peer_free(&stranger);
}
END_TEST

START_TEST(media_rtp_bleed_spoofer_gets_nothing_and_redirects_nothing)
{
	struct peer a, b, spoof;
	uint8_t junk[BUFSZ];
	peer_new(&a, true);
	peer_new(&b, true);
	peer_new(&spoof, false);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	unsigned got_a = 0, got_b = 0;
	for (int round = 0; round < 20; round++) {
		/* spray every relay port with plain RTP and with junk "SRTP" */
		for (int l = 0; l < 2; l++) {
			for (int k = 0; k < 2; k++) {
				peer_send(&spoof, ports[l][k], 0x55);
				size_t len = mkrtp(&spoof, junk, (uint16_t)(spoof.seq + 1), 0);
				ck_assert_int_eq(RAND_bytes(junk + 12, 170), 1);
				len += 10;
				sendto_port(spoof.fd, junk, len, ports[l][k]);
				sendto_port(spoof.fd_rtcp, junk, len, ports[l][k]);
			}
		}
		uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
		expect_rtp(&b, s, 0x01, &a);
		got_b++;
		s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x02);
		expect_rtp(&a, s, 0x02, &b);
		got_a++;
	}
	ck_assert_uint_eq(got_a, 20);
	ck_assert_uint_eq(got_b, 20);
	ck_assert_uint_eq(drain_count(spoof.fd, 200), 0);
	ck_assert_uint_eq(drain_count(spoof.fd_rtcp, 50), 0);
	ck_assert_uint_eq(drain_count(a.fd, 50), 0); /* nothing extra either */
	ck_assert_uint_eq(drain_count(b.fd, 50), 0);
	struct media_call_stats st;
	sync_engine(&st);
	for (int l = 0; l < 2; l++) {
		ck_assert(!st.leg[l].latched);
		ck_assert_uint_ge(st.leg[l].rx.drops[RTP_DROP_UNKNOWN_SOURCE], 20 * 6);
		ck_assert_uint_eq(st.leg[l].rx.packets, 20);
	}
	const struct sockaddr_in *pa = (const void *)&st.leg[MEDIA_LEG_A].peer_rtp;
	const struct sockaddr_in *ra = (const void *)&a.addr;
	ck_assert_uint_eq(pa->sin_port, ra->sin_port);
	peer_free(&a);
	peer_free(&b);
	peer_free(&spoof);
}
END_TEST

START_TEST(media_drops_replay_and_flipped_tag_by_reason_and_goes_on)
{
	struct peer a, b;
	uint8_t p1[BUFSZ], p2[BUFSZ];
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s1 = ++a.seq;
	size_t l1 = mkrtp(&a, p1, s1, 0x61);
	ck_assert_int_eq(srtp_leg_protect(a.tx, p1, &l1, sizeof(p1)), 0);
	sendto_port(a.fd, p1, l1, ports[MEDIA_LEG_A][0]);
	expect_rtp(&b, s1, 0x61, &a);
	sendto_port(a.fd, p1, l1, ports[MEDIA_LEG_A][0]); /* replay */
	uint16_t s2 = ++a.seq;
	size_t l2 = mkrtp(&a, p2, s2, 0x62);
	ck_assert_int_eq(srtp_leg_protect(a.tx, p2, &l2, sizeof(p2)), 0);
	p2[l2 - 1] ^= 0x04; /* one tag bit */
	sendto_port(a.fd, p2, l2, ports[MEDIA_LEG_A][0]);
	uint16_t s3 = peer_send(&a, ports[MEDIA_LEG_A][0], 0x63);
	expect_rtp(&b, s3, 0x63, &a); /* the replay and the forgery never arrive */
	ck_assert_uint_eq(drain_count(b.fd, 100), 0);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_REPLAY], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_AUTH], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 2);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_counts_plain_rtp_on_srtp_leg_as_plaintext)
{
	struct peer a, b, a_plain;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	/* the signalled peer sends plain RTP (no keys in use) */
	a_plain = a;
	a_plain.tx = NULL;
	a_plain.ssrc = a.ssrc + 1;
	for (int i = 0; i < 5; i++)
		peer_send(&a_plain, ports[MEDIA_LEG_A][0], 0x70);
	ck_assert_uint_eq(drain_count(b.fd, 200), 0);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_PLAINTEXT], 5);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 0);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_bounds_ssrcs_per_leg_and_counts_the_rest)
{
	struct peer a, b;
	uint8_t pkt[BUFSZ];
	peer_new(&a, false); /* legacy PBX: whoever can spoof its address picks the SSRCs */
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, true);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	/* 100 plain packets from the legacy side, each from a new SSRC */
	for (uint32_t i = 0; i < 100; i++) {
		a.ssrc = 0x1000 + i;
		peer_send(&a, ports[MEDIA_LEG_A][0], 0x10);
	}
	ck_assert_uint_eq(drain_count(b.fd, 300), SRTP_LEG_MAX_SSRCS);
	/* 100 genuine SRTP packets from the agent side, each from a new SSRC */
	for (uint32_t i = 0; i < 100; i++) {
		struct srtp_leg *tx;
		b.ssrc = 0x2000 + i;
		size_t len = mkrtp(&b, pkt, 1, 0x20);
		ck_assert_int_eq(srtp_leg_new(&tx, &b.send_keys, SRTP_LEG_OUTBOUND), 0);
		ck_assert_int_eq(srtp_leg_protect(tx, pkt, &len, sizeof(pkt)), 0);
		srtp_leg_free(tx);
		sendto_port(b.fd, pkt, len, ports[MEDIA_LEG_B][0]);
	}
	ck_assert_uint_eq(drain_count(a.fd, 300), SRTP_LEG_MAX_SSRCS);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.drops[RTP_DROP_SSRC_LIMIT],
	                  100 - SRTP_LEG_MAX_SSRCS);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.drops[RTP_DROP_SSRC_LIMIT],
	                  100 - SRTP_LEG_MAX_SSRCS);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.packets, SRTP_LEG_MAX_SSRCS);
	/* the most recent admitted SSRC still flows */
	a.ssrc = 0x1000 + SRTP_LEG_MAX_SSRCS - 1;
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x11);
	expect_rtp(&b, s, 0x11, NULL);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_survives_a_thousand_bad_packets)
{
	struct peer a, b;
	uint8_t p[BUFSZ];
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
	expect_rtp(&b, s, 0x01, &a);
	struct media_call_stats st;
	for (int i = 0; i < 1000; i++) {
		size_t len = mkrtp(&a, p, ++a.seq, 0x02);
		ck_assert_int_eq(srtp_leg_protect(a.tx, p, &len, sizeof(p)), 0);
		p[len - 3] ^= 0x10;
		sendto_port(a.fd, p, len, ports[MEDIA_LEG_A][0]);
		if (i % 50 == 49) {
			/* 50 packets fit any socket buffer: wait until the relay has seen them
			 * all before sending more, however slow the machine is today (a fixed
			 * pause lost 44 of 1,000 to a full buffer on a loaded box) */
			int64_t until = monotime_ms() + 5000;
			do
				sync_engine(&st);
			while (st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_AUTH] < (uint64_t)i + 1 &&
			       monotime_ms() < until && usleep(1000) == 0);
			ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_AUTH], i + 1);
		}
	}
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x03);
	expect_rtp(&b, s, 0x03, &a);
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x04);
	expect_rtp(&a, s, 0x04, &b);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_AUTH], 1000);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 2);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

struct evlog {
	unsigned latched, first, idle, active, deleted, snapshot, error;
	struct sockaddr_storage latched_addr;
	uint64_t cookie;
	struct media_call_stats last;
};

static void
ev_cb(const struct media_event *ev, void *arg)
{
	struct evlog *lg = arg;
	switch (ev->type) {
	case MEDIA_EV_LATCHED:
		lg->latched++;
		lg->latched_addr = ev->addr;
		break;
	case MEDIA_EV_FIRST_PACKET:
		lg->first++;
		break;
	case MEDIA_EV_IDLE:
		lg->idle++;
		break;
	case MEDIA_EV_ACTIVE:
		lg->active++;
		break;
	case MEDIA_EV_CALL_DELETED:
		lg->deleted++;
		lg->last = ev->stats;
		break;
	case MEDIA_EV_SNAPSHOT:
		lg->snapshot++;
		lg->cookie = ev->cookie;
		lg->last = ev->stats;
		break;
	case MEDIA_EV_ERROR:
		lg->error++;
		break;
	}
}

/* drain events, waiting on the event fd up to timeout_ms for at least one */
static void
pump(struct evlog *lg, int timeout_ms)
{
	struct pollfd pf = {.fd = media_engine_event_fd(eng), .events = POLLIN};
	if (poll(&pf, 1, timeout_ms) == 1)
		media_engine_drain_events(eng, ev_cb, lg);
}

START_TEST(media_latches_only_after_authenticated_packet_and_only_once)
{
	struct peer signalled, real, third, b;
	struct evlog lg;
	memset(&lg, 0, sizeof(lg));
	peer_new(&signalled, true); /* the address the SDP named (e.g. a private one) */
	peer_new(&real, true);
	peer_new(&b, true);
	peer_new(&third, false);
	real.send_keys = signalled.send_keys; /* the real peer holds the leg's keys */
	real.recv_keys = signalled.recv_keys;
	srtp_leg_free(real.tx);
	srtp_leg_free(real.rx);
	ck_assert_int_eq(srtp_leg_new(&real.tx, &real.send_keys, SRTP_LEG_OUTBOUND), 0);
	ck_assert_int_eq(srtp_leg_new(&real.rx, &real.recv_keys, SRTP_LEG_INBOUND), 0);
	configure(MEDIA_LEG_A, &signalled, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);

	/* before any packet: B's media goes to the signalled address */
	uint16_t s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x10);
	expect_rtp(&signalled, s, 0x10, &b);
	/* unauthenticated packets from the real source do not latch */
	struct peer fake = real;
	fake.tx = NULL;
	for (int i = 0; i < 3; i++)
		peer_send(&fake, ports[MEDIA_LEG_A][0], 0x20);
	ck_assert_uint_eq(drain_count(b.fd, 200), 0);
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x11);
	expect_rtp(&signalled, s, 0x11, &b);
	ck_assert_uint_eq(drain_count(real.fd, 50), 0);

	/* an authenticated packet from the real source latches */
	real.seq = fake.seq;
	s = peer_send(&real, ports[MEDIA_LEG_A][0], 0x30);
	expect_rtp(&b, s, 0x30, &real);
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x12);
	expect_rtp(&real, s, 0x12, &b);
	ck_assert_uint_eq(drain_count(signalled.fd, 50), 0);
	pump(&lg, 1000);
	ck_assert_uint_eq(lg.latched, 1);
	ck_assert_uint_eq(((struct sockaddr_in *)&lg.latched_addr)->sin_port,
	                  ((struct sockaddr_in *)&real.addr)->sin_port);

	/* once: even an authenticated packet from a third source is refused now, and so is
	 * the signalled address */
	struct peer third_auth = real;
	third_auth.fd = third.fd;
	third_auth.seq = (uint16_t)(real.seq + 5);
	peer_send(&third_auth, ports[MEDIA_LEG_A][0], 0x40);
	signalled.seq = (uint16_t)(real.seq + 10);
	peer_send(&signalled, ports[MEDIA_LEG_A][0], 0x41);
	ck_assert_uint_eq(drain_count(b.fd, 200), 0);
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x13);
	expect_rtp(&real, s, 0x13, &b);
	ck_assert_uint_eq(drain_count(third.fd, 50), 0);

	struct media_call_stats st;
	sync_engine(&st);
	ck_assert(st.leg[MEDIA_LEG_A].latched);
	ck_assert(st.leg[MEDIA_LEG_A].rx.latched);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_UNKNOWN_SOURCE], 5);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 1);
	pump(&lg, 100);
	ck_assert_uint_eq(lg.latched, 1);
	ck_assert_uint_ge(lg.first, 2); /* A (after latching) and B */
	real.fd = -1;                   /* owned by third */
	real.fd = dup(third.fd);
	peer_free(&real);
	peer_free(&signalled);
	peer_free(&b);
	peer_free(&third);
}
END_TEST

START_TEST(media_hold_sends_nothing)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	struct media_leg_conf lc;
	memset(&lc, 0, sizeof(lc));
	struct in_addr any = {.s_addr = htonl(INADDR_ANY)};
	lc.remote_rtp = sa4(any, 0);
	lc.rx = b.send_keys;
	lc.tx = b.recv_keys;
	ck_assert_int_eq(media_leg_update(eng, cid, MEDIA_LEG_B, &lc), 0);
	sync_engine(NULL);
	for (int i = 0; i < 5; i++)
		peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
	ck_assert_uint_eq(drain_count(b.fd, 200), 0);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 5);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 0);
	/* resume: B's real address */
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x02);
	expect_rtp(&b, s, 0x02, &a);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* A worker's event queue is allocated whole at start and becomes resident as it wraps,
 * whatever the load: 4,096 whole events (2 KB of statistics each) were 8.7 MB a worker.
 * On the io_uring path the worker also has its receive buffers (512 x 2,112 octets and
 * their send state): 1.25 MiB more at most. (Under ASan mallinfo2() sees nothing.) */
START_TEST(media_event_queue_of_4096_costs_under_4_mb_per_worker)
{
	struct media_engine_conf c;
	struct media_engine *e = NULL;
	struct mallinfo2 before, after;
	size_t used;

	memset(&c, 0, sizeof(c));
	c.workers = 1;
	c.local = sa4(lo, 0);
	c.port_min = range_lo;
	c.port_max = (uint16_t)(range_lo + 9);
	c.event_queue_len = 4096;
	c.io = test_io;
	before = mallinfo2();
	ck_assert_int_eq(media_engine_new(&e, &c), 0);
	after = mallinfo2();
	used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
	size_t limit = (4u << 20) + (media_engine_io(e) == MEDIA_IO_URING ? (5u << 18) : 0);
	ck_assert_msg(used < limit, "an engine with one worker (%s) allocated %zu bytes",
	              media_io_name(media_engine_io(e)), used);
	media_engine_free(e);
}
END_TEST

START_TEST(media_snapshot_while_flowing)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint64_t prev = 0;
	unsigned got = 0;
	for (int i = 0; i < 10; i++) {
		for (int k = 0; k < 10; k++)
			peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
		struct media_call_stats st;
		sync_engine(&st); /* taken while packets are still queued or in flight */
		ck_assert_uint_ge(st.leg[MEDIA_LEG_A].rx.packets, prev);
		prev = st.leg[MEDIA_LEG_A].rx.packets;
		got += drain_count(b.fd, 20);
	}
	got += drain_count(b.fd, 200);
	ck_assert_uint_eq(got, 100);
	struct media_call_stats st;
	sync_engine(&st);
	const struct rtp_stats *rx = &st.leg[MEDIA_LEG_A].rx;
	ck_assert_uint_eq(rx->packets, 100);
	ck_assert_uint_eq(rx->bytes, 100 * 182);
	ck_assert_uint_eq(rtp_stats_expected(rx), 99); /* first packet is probation */
	ck_assert_int_eq(rtp_stats_lost(rx), 0);
	ck_assert_uint_gt(rx->first_ns, 0);
	ck_assert_uint_ge(rx->last_ns, rx->first_ns);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 100);

	/* the asynchronous form, as the signalling loop uses it */
	struct evlog lg;
	memset(&lg, 0, sizeof(lg));
	ck_assert_int_eq(media_call_snapshot(eng, cid, 77), 0);
	for (int i = 0; i < 20 && lg.snapshot == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.snapshot, 1);
	ck_assert_uint_eq(lg.cookie, 77);
	ck_assert_uint_eq(lg.last.leg[MEDIA_LEG_A].rx.packets, 100);

	/* delete: final stats, then the call is gone */
	ck_assert_int_eq(media_call_delete(eng, cid), 0);
	for (int i = 0; i < 20 && lg.deleted == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.deleted, 1);
	ck_assert_uint_eq(lg.last.leg[MEDIA_LEG_B].tx.packets, 100);
	struct media_call_stats gone;
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid, &gone, 2000), -ENOENT);
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid + (1 << 20), &gone, 100), -ENOENT);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* A bridge transfer: leg C gets its own ports and keys, A is paired with it, and B (the
 * agent) is left relaying nothing; A's keys and session are untouched by the move. */
START_TEST(media_moves_a_leg_to_a_new_third_leg_with_its_own_keys)
{
	struct peer a, b, h;
	uint16_t pc[2];
	struct media_call_stats st;

	peer_new(&a, true);
	peer_new(&b, true);
	peer_new(&h, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x11);
	expect_rtp(&b, s, 0x11, &a);

	ck_assert_int_eq(media_leg_add(eng, cid, pc), 0);
	ck_assert_uint_eq(pc[0] % 2, 0);
	ck_assert_uint_eq(pc[1], pc[0] + 1);
	ck_assert_uint_ne(pc[0], ports[MEDIA_LEG_A][0]);
	ck_assert_uint_ne(pc[0], ports[MEDIA_LEG_B][0]);
	/* not yet paired: the new leg relays nothing, A still goes to B */
	configure(MEDIA_LEG_C, &h, false, false);
	sync_engine(NULL);
	s = peer_send(&h, pc[0], 0x22);
	ck_assert_uint_eq(drain_count(a.fd, 200), 0);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x12);
	expect_rtp(&b, s, 0x12, &a);

	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_A), -EINVAL);
	sync_engine(NULL);
	for (int i = 0; i < 10; i++) {
		s = peer_send(&a, ports[MEDIA_LEG_A][0], (uint8_t)i);
		expect_rtp(&h, s, (uint8_t)i, &a); /* the human decrypts with its own keys */
		s = peer_send(&h, pc[0], (uint8_t)(0x40 + i));
		expect_rtp(&a, s, (uint8_t)(0x40 + i), &h); /* A's keys did not change */
	}
	/* the agent's leg relays nothing any more, and what it sends is counted */
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x33);
	ck_assert_uint_eq(drain_count(a.fd, 200), 0);
	ck_assert_uint_eq(drain_count(b.fd, 10), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].rx.packets, 10);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].tx.packets, 10);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, pc[0]);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 2);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.drops[RTP_DROP_OTHER], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 12);

	/* dropping leg C leaves A without a partner until paired again (here: with B) */
	ck_assert_int_eq(media_leg_drop(eng, cid), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_B), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, 0);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x44);
	expect_rtp(&b, s, 0x44, &a);
	peer_free(&a);
	peer_free(&b);
	peer_free(&h);
}
END_TEST

START_TEST(media_reports_idle_legs)
{
	struct peer a, b;
	struct evlog lg;
	memset(&lg, 0, sizeof(lg));
	media_engine_free(eng);
	engine_up(1, 200);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	for (int i = 0; i < 40 && lg.idle < 2; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.idle, 2); /* both legs, once */
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
	expect_rtp(&b, s, 0x01, &a);
	for (int i = 0; i < 10 && lg.active == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.active, 1);
	ck_assert_uint_eq(lg.first, 1);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

START_TEST(media_allocates_even_odd_ports_in_range_and_reports_exhaustion)
{
	media_engine_free(eng);
	engine_up(0, 8); /* 4 pairs: two calls */
	uint16_t p1[2][2], p2[2][2], p3[2][2];
	uint64_t c1, c2, c3;
	ck_assert_int_eq(media_call_new(eng, &c1, p1), 0);
	ck_assert_int_eq(media_call_new(eng, &c2, p2), 0);
	ck_assert_int_eq(media_call_new(eng, &c3, p3), -EADDRINUSE);
	unsigned seen = 0;
	for (int l = 0; l < 2; l++) {
		ck_assert_uint_eq(p1[l][0] % 2, 0);
		ck_assert_uint_eq(p1[l][1], p1[l][0] + 1);
		ck_assert_uint_ge(p1[l][0], range_lo);
		ck_assert_uint_le(p1[l][1], range_lo + 7);
		ck_assert_uint_eq(p2[l][0] % 2, 0);
		seen |= 1u << ((p1[l][0] - range_lo) / 2);
		seen |= 1u << ((p2[l][0] - range_lo) / 2);
	}
	ck_assert_uint_eq(seen, 0xf); /* all four pairs, none twice */
	/* bound to the configured address only, not 0.0.0.0: another loopback address can
	 * take the same port */
	struct in_addr other = {.s_addr = htonl(ntohl(lo.s_addr) ^ 1)};
	int ofd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage oss = sa4(other, p1[0][0]);
	ck_assert_int_eq(bind(ofd, (struct sockaddr *)&oss, sizeof(struct sockaddr_in)), 0);
	close(ofd);
	ck_assert_uint_ne(c1, c2);
	/* deleting frees the ports again */
	ck_assert_int_eq(media_call_delete(eng, c1), 0);
	struct media_call_stats st;
	ck_assert_int_eq(media_call_snapshot_wait(eng, c2, &st, 2000), 0);
	ck_assert_int_eq(media_call_new(eng, &c3, p3), 0);
	/* bad keys fail synchronously */
	struct media_leg_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.remote_rtp = sa4(lo, 4000);
	ck_assert_int_eq(media_leg_update(eng, c3, MEDIA_LEG_A, &lc), -EINVAL);
	ck_assert_int_eq(media_leg_update(eng, 12345 << 8, MEDIA_LEG_A, &lc), -ENOENT);
	lc.plain_rtp = true;
	ck_assert_int_eq(media_leg_update(eng, c3, MEDIA_LEG_A, &lc), 0);
}
END_TEST

START_TEST(media_skips_ports_in_use)
{
	media_engine_free(eng);
	engine_up(0, 4); /* 2 pairs */
	/* occupy the first pair's RTCP port from outside */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage ss = sa4(lo, (uint16_t)(range_lo + 1));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	uint16_t p[2][2];
	uint64_t c;
	ck_assert_int_eq(media_call_new(eng, &c, p), -EADDRINUSE); /* needs two pairs */
	close(fd);
	ck_assert_int_eq(media_call_new(eng, &c, p), 0);
}
END_TEST

START_TEST(media_engine_runs_the_io_path_asked_for)
{
	enum media_io io = media_engine_io(eng);

	ck_assert(io == MEDIA_IO_URING || io == MEDIA_IO_EPOLL);
	if (test_io != MEDIA_IO_AUTO)
		ck_assert_int_eq(io, test_io);
	ck_assert_str_eq(media_io_name(io), io == MEDIA_IO_URING ? "uring" : "epoll");
}
END_TEST

/* A datagram past MEDIA_PKT_MAX (1500) is dropped as malformed on either path (the epoll
 * path reads it truncated, the io_uring path's buffer would hold it whole); the call goes on. */
START_TEST(media_drops_an_oversized_datagram_as_malformed)
{
	struct peer a, b;
	uint8_t big[1600];

	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	memset(big, 0, sizeof(big));
	big[0] = 0x80;
	sendto_port(a.fd, big, sizeof(big), ports[MEDIA_LEG_A][0]);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x42);
	expect_rtp(&b, s, 0x42, &a);
	struct media_call_stats st;
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.drops[RTP_DROP_MALFORMED], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 1);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* Delete a call with packets queued on its sockets and in flight: the worker lets go of
 * it (on the io_uring path only once the kernel has), its ports become free again, and
 * the next call relays. Under ASan this is the use-after-free check of the deferred free. */
START_TEST(media_deletes_a_call_while_packets_flow)
{
	struct peer a, b;
	struct evlog lg;
	uint16_t old[2][2];

	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	memcpy(old, ports, sizeof(old));
	for (int i = 0; i < 300; i++) {
		peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
		peer_send(&b, ports[MEDIA_LEG_B][0], 0x02);
	}
	ck_assert_int_eq(media_call_delete(eng, cid), 0);
	memset(&lg, 0, sizeof(lg));
	for (int i = 0; i < 20 && lg.deleted == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.deleted, 1);
	/* the four ports are closed once nothing names them any more: within 2 s */
	bool freed = false;
	for (int t = 0; t < 200 && !freed; t++) {
		freed = true;
		for (int l = 0; l < 2 && freed; l++) {
			for (int k = 0; k < 2 && freed; k++) {
				int fd = socket(AF_INET, SOCK_DGRAM, 0);
				struct sockaddr_storage ss = sa4(lo, old[l][k]);
				freed = bind(fd, (struct sockaddr *)&ss,
				             sizeof(struct sockaddr_in)) == 0;
				close(fd);
			}
		}
		if (!freed)
			poll(NULL, 0, 10);
	}
	ck_assert_msg(freed, "a deleted call's ports are still bound after 2 s");
	drain_count(a.fd, 50);
	drain_count(b.fd, 50);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x33);
	expect_rtp(&b, s, 0x33, &a);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* Is every port of `p` free to bind again (within 2 s)? */
static bool
ports_free_within_2s(const uint16_t *p, int n)
{
	for (int t = 0; t < 200; t++) {
		bool freed = true;
		for (int k = 0; k < n && freed; k++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);
			struct sockaddr_storage ss = sa4(lo, p[k]);
			freed = bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) == 0;
			close(fd);
		}
		if (freed)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

/* Leg C replaced and then dropped while its old sockets still have packets queued: the
 * old sockets' packets are never relayed (on the io_uring path their late completions are
 * recognised as stale), their ports come free, and the new leg C relays. */
START_TEST(media_replaces_and_drops_leg_c_while_packets_flow)
{
	struct peer a, b, h;
	uint16_t pc[2], pc2[2];
	struct media_call_stats st;

	peer_new(&a, true);
	peer_new(&b, true);
	peer_new(&h, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	ck_assert_int_eq(media_leg_add(eng, cid, pc), 0);
	configure(MEDIA_LEG_C, &h, false, false);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	sync_engine(NULL);
	uint16_t s = peer_send(&h, pc[0], 0x21);
	expect_rtp(&a, s, 0x21, &h);
	for (int i = 0; i < 200; i++)
		peer_send(&h, pc[0], 0x22);
	/* a new leg C at once: the old one's sockets go with packets still on them */
	ck_assert_int_eq(media_leg_add(eng, cid, pc2), 0);
	configure(MEDIA_LEG_C, &h, false, false);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	sync_engine(NULL);
	drain_count(a.fd, 100); /* what the old leg relayed before it went */
	ck_assert_msg(ports_free_within_2s(pc, 2), "the replaced leg C's ports are still bound");
	s = peer_send(&h, pc2[0], 0x23);
	expect_rtp(&a, s, 0x23, &h);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, pc2[0]);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].rx.packets, 1);

	for (int i = 0; i < 200; i++)
		peer_send(&h, pc2[0], 0x24);
	ck_assert_int_eq(media_leg_drop(eng, cid), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_B), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, 0);
	ck_assert_msg(ports_free_within_2s(pc2, 2), "the dropped leg C's ports are still bound");
	drain_count(a.fd, 100);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x25);
	expect_rtp(&b, s, 0x25, &a);
	peer_free(&a);
	peer_free(&b);
	peer_free(&h);
}
END_TEST

/* Where the kernel refuses io_uring (here: a seccomp filter answering io_uring_setup with
 * EPERM, as container runtimes do), io = uring refuses to start with the kernel's error
 * and io = auto runs on epoll. In a child: the filter cannot be taken off again. */
START_TEST(media_io_auto_falls_back_to_epoll_where_io_uring_is_refused)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		struct sock_filter f[] = {
		        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(10);
		struct media_engine_conf c;
		struct media_engine *e = NULL;
		memset(&c, 0, sizeof(c));
		c.workers = 2;
		c.local = sa4(lo, 0);
		c.port_min = (uint16_t)(range_lo + 200);
		c.port_max = (uint16_t)(range_lo + 209);
		c.io = MEDIA_IO_URING;
		int rc = media_engine_new(&e, &c);
		if (rc != -EPERM && rc != -ENOTSUP) /* -ENOTSUP: built without liburing */
			_exit(11);
		c.io = MEDIA_IO_AUTO;
		if (media_engine_new(&e, &c) != 0)
			_exit(12);
		if (media_engine_io(e) != MEDIA_IO_EPOLL)
			_exit(13);
		media_engine_free(e);
		_exit(0);
	}
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "child: status %d (10 seccomp, 11 uring not refused, 12 auto failed, 13 "
	              "auto not on epoll)",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

static Suite *
media_suite(void)
{
	Suite *s = suite_create("media");
	TCase *tc = tcase_create("loopback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, media_relays_srtp_both_ways_with_independent_keys);
	tcase_add_test(tc, media_event_queue_of_4096_costs_under_4_mb_per_worker);
	tcase_add_test(tc, media_relays_srtcp_both_ways);
	tcase_add_test(tc, media_relays_rtcp_mux_on_the_rtp_port);
	tcase_add_test(tc, media_rewrites_rtcp_sdes_to_one_cname_per_leg);
	tcase_add_test(tc, media_rekeys_legacy_rtp_to_srtp);
	tcase_add_test(tc, media_rtp_bleed_spoofer_gets_nothing_and_redirects_nothing);
	tcase_add_test(tc, media_drops_replay_and_flipped_tag_by_reason_and_goes_on);
	tcase_add_test(tc, media_counts_plain_rtp_on_srtp_leg_as_plaintext);
	tcase_add_test(tc, media_survives_a_thousand_bad_packets);
	tcase_add_test(tc, media_bounds_ssrcs_per_leg_and_counts_the_rest);
	tcase_add_test(tc, media_latches_only_after_authenticated_packet_and_only_once);
	tcase_add_test(tc, media_hold_sends_nothing);
	tcase_add_test(tc, media_snapshot_while_flowing);
	tcase_add_test(tc, media_reports_idle_legs);
	tcase_add_test(tc, media_moves_a_leg_to_a_new_third_leg_with_its_own_keys);
	tcase_add_test(tc, media_allocates_even_odd_ports_in_range_and_reports_exhaustion);
	tcase_add_test(tc, media_skips_ports_in_use);
	tcase_add_test(tc, media_engine_runs_the_io_path_asked_for);
	tcase_add_test(tc, media_drops_an_oversized_datagram_as_malformed);
	tcase_add_test(tc, media_deletes_a_call_while_packets_flow);
	tcase_add_test(tc, media_io_auto_falls_back_to_epoll_where_io_uring_is_refused);
	tcase_add_test(tc, media_replaces_and_drops_leg_c_while_packets_flow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *io = getenv("SW_MEDIA_IO");

	if (io != NULL && strcmp(io, "uring") == 0)
		test_io = MEDIA_IO_URING;
	else if (io != NULL && strcmp(io, "epoll") == 0)
		test_io = MEDIA_IO_EPOLL;
	if (test_io == MEDIA_IO_URING) {
		/* skip, not fail, where this build or kernel has no io_uring */
		struct media_engine_conf c;
		struct media_engine *e = NULL;
		int rc;
		uint32_t r = 0;
		memset(&c, 0, sizeof(c));
		(void)!getrandom(&r, sizeof(r), 0); /* no ck_assert outside a test */
		c.workers = 1;
		c.local = sa4((struct in_addr){htonl(INADDR_LOOPBACK)}, 0);
		c.port_min = (uint16_t)(20000 + 2 * (r % 15000));
		c.port_max = (uint16_t)(c.port_min + 9);
		c.io = MEDIA_IO_URING;
		if ((rc = media_engine_new(&e, &c)) != 0) {
			fprintf(stderr, "test_media: io_uring unavailable (%s): skipped\n",
			        strerror(-rc));
			return 77;
		}
		media_engine_free(e);
	}
	SRunner *sr = srunner_create(media_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
