/*
 * test_media_util.c: the helpers and fixture test_media.h declares, shared by the media
 * engine's loopback tests. Not a test file of its own.
 */
#include "test_media.h"

struct in_addr lo;     /* the random 127.x.y.z of this test */
enum media_io test_io; /* SW_MEDIA_IO, or MEDIA_IO_AUTO */
uint16_t range_lo;

uint32_t
rnd(void)
{
	uint32_t r;
	ck_assert_int_eq(getrandom(&r, sizeof(r), 0), (ssize_t)sizeof(r));
	return r;
}

void
pick_loopback(void)
{
	uint32_t r = rnd();
	lo.s_addr = htonl(0x7f000000u | (1 + r % 250) << 16 | (1 + (r >> 8) % 250) << 8 |
	                  (2 + (r >> 16) % 250));
	range_lo = (uint16_t)(20000 + 2 * (rnd() % 15000));
}

struct sockaddr_storage
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
int
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

void
mkkeys(struct srtp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	ck_assert_int_eq(RAND_bytes(k->key, 16), 1);
	ck_assert_int_eq(RAND_bytes(k->salt, 14), 1);
}

void
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

void
peer_free(struct peer *p)
{
	close(p->fd);
	close(p->fd_rtcp);
	srtp_leg_free(p->tx);
	srtp_leg_free(p->rx);
	memset(&p->send_keys, 0, sizeof(p->send_keys));
	memset(&p->recv_keys, 0, sizeof(p->recv_keys));
}

size_t
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

size_t
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

void
sendto_port(int fd, const uint8_t *b, size_t len, uint16_t port)
{
	struct sockaddr_storage to = sa4(lo, port);
	ck_assert_int_eq(sendto(fd, b, len, 0, (struct sockaddr *)&to, sizeof(struct sockaddr_in)),
	                 (ssize_t)len);
}

/* Send one RTP packet from p (SRTP unless p->tx is NULL) to the relay port; returns seq. */
uint16_t
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
ssize_t
recv_to(int fd, uint8_t *b, int timeout_ms)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	if (poll(&pf, 1, timeout_ms) != 1)
		return -1;
	return recv(fd, b, BUFSZ, 0);
}

unsigned
drain_count(int fd, int timeout_ms)
{
	uint8_t b[BUFSZ];
	unsigned n = 0;
	while (recv_to(fd, b, timeout_ms) >= 0)
		n++;
	return n;
}

/* ---- engine fixture ---- */

struct media_engine *eng;
uint64_t cid;
uint16_t ports[2][2];

void
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

void
setup(void)
{
	ck_assert_int_eq(media_global_init(), 0);
	engine_up(0, 200);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
}

void
teardown(void)
{
	media_engine_free(eng);
	eng = NULL;
}

/* the worker applies commands in order: a snapshot reply means earlier ones are done */
void
sync_engine(struct media_call_stats *st)
{
	struct media_call_stats tmp;
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid, st ? st : &tmp, 2000), 0);
}

void
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
void
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

void
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
void
pump(struct evlog *lg, int timeout_ms)
{
	struct pollfd pf = {.fd = media_engine_event_fd(eng), .events = POLLIN};
	if (poll(&pf, 1, timeout_ms) == 1)
		media_engine_drain_events(eng, ev_cb, lg);
}

/* Is every port of `p` free to bind again (within 2 s)? */
bool
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
