/*
 * test_media_alive.c: the media engine's liveness report (media_engine_workers_alive),
 * which the daemon's systemd watchdog relies on. Built with lib/media.c and
 * lib/media_worker.c compiled in with -DSW_TEST_HOOKS, so that a worker can be stalled
 * on purpose (media_engine_test_stall); the installed daemon has no such hook.
 * Covers: idle workers keep ticking (their epoll timeout), a stalled worker is named
 * and the others are not, a worker that comes back is alive again; and on the io_uring
 * path, the packets that queued up during a stall find receive buffers afterwards.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "media.h"
#include "monotime.h"

static struct media_engine *eng;

static void
setup(void)
{
	struct media_engine_conf c;
	struct sockaddr_in sin = {.sin_family = AF_INET};

	memset(&c, 0, sizeof(c));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	memcpy(&c.local, &sin, sizeof(sin));
	c.workers = 3;
	c.port_min = 40000;
	c.port_max = 40099;
	ck_assert_int_eq(media_global_init(), 0);
	ck_assert_int_eq(media_engine_new(&eng, &c), 0);
}

static void
teardown(void)
{
	media_engine_free(eng);
	eng = NULL;
}

/* Wait (bounded) until media_engine_workers_alive(max_age) is `want`; its time or -1. */
static int64_t
wait_alive(unsigned max_age, bool want, unsigned *stale, int timeout_ms)
{
	int64_t start = monotime_ms();

	while (monotime_ms() - start < timeout_ms) {
		if (media_engine_workers_alive(eng, max_age, stale) == want)
			return monotime_ms() - start;
		usleep(5000);
	}
	return -1;
}

START_TEST(media_idle_workers_stay_alive)
{
	int64_t end = monotime_ms() + 1500;
	unsigned stale = 99;

	/* no calls, no commands: only the 250 ms epoll timeout wakes them */
	while (monotime_ms() < end) {
		ck_assert_msg(media_engine_workers_alive(eng, 1000, &stale),
		              "worker %u did not tick for %llu ms", stale,
		              (unsigned long long)media_engine_worker_tick_age_ms(eng, stale));
		usleep(50000);
	}
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_le(media_engine_worker_tick_age_ms(eng, i), 1000);
	ck_assert_uint_eq(stale, 99); /* untouched while all are alive */
}
END_TEST

START_TEST(media_stalled_worker_is_named_and_recovers)
{
	unsigned stale = 99;
	int64_t t;

	ck_assert(media_engine_workers_alive(eng, 1000, NULL));
	ck_assert_int_eq(media_engine_test_stall(eng, 1, 2500), 0);
	t = wait_alive(500, false, &stale, 2400);
	ck_assert_msg(t >= 0, "a worker stalled for 2.5 s still counts as alive");
	ck_assert_uint_eq(stale, 1);
	/* the others go on ticking */
	ck_assert_uint_le(media_engine_worker_tick_age_ms(eng, 0), 500);
	ck_assert_uint_le(media_engine_worker_tick_age_ms(eng, 2), 500);
	ck_assert_uint_gt(media_engine_worker_tick_age_ms(eng, 1), 500);
	/* back after the stall */
	ck_assert_msg(wait_alive(500, true, NULL, 5000) >= 0, "worker 1 did not come back");
	ck_assert_int_eq(media_engine_test_stall(eng, 3, 10), -EINVAL);
	ck_assert_uint_eq(media_engine_worker_tick_age_ms(eng, 3), 0);
}
END_TEST

/* A UDP socket on 127.0.0.1, any port, with room for `rcvbuf` octets queued. */
static int
udp_lo(struct sockaddr_storage *ss, int rcvbuf)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	return fd;
}

#define STALL_CALLS 8
#define STALL_PKTS  150 /* per call: 1,200 queued while the worker is stuck */

/*
 * The io_uring worker stalls (as a preempted or overloaded one does) while 1,200 packets
 * queue up on eight calls' sockets; once back, it relays them all, and its provided-buffer
 * ring held them without running dry (a dry ring ends every multishot receive that finds
 * it empty, and each must be armed again: with 512 buffers this was 700-1,000 re-arms and
 * a worker that fell further behind). Plain RTP both ways, so no keys are needed.
 */
START_TEST(media_uring_ring_holds_what_queued_during_a_stall)
{
	struct media_engine_conf c;
	struct media_engine *e = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_storage pa, pb;
	uint64_t ids[STALL_CALLS];
	uint16_t ports[STALL_CALLS][2][2];

	memset(&c, 0, sizeof(c));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	memcpy(&c.local, &sin, sizeof(sin));
	c.workers = 1;
	c.io = MEDIA_IO_URING;
	c.port_min = 40100;
	c.port_max = 40199;
	ck_assert_int_eq(media_global_init(), 0);
	int rc = media_engine_new(&e, &c);
	if (rc == -ENOTSUP || rc == -EPERM || rc == -EINVAL || rc == -ENOSYS)
		return; /* no io_uring here: nothing to hold */
	ck_assert_int_eq(rc, 0);
	int fa = udp_lo(&pa, 1 << 20), fb = udp_lo(&pb, 4 << 20);
	for (int i = 0; i < STALL_CALLS; i++) {
		ck_assert_int_eq(media_call_new(e, &ids[i], ports[i]), 0);
		for (int l = 0; l < 2; l++) {
			struct media_leg_conf lc;
			memset(&lc, 0, sizeof(lc));
			lc.remote_rtp = l == 0 ? pa : pb;
			lc.plain_rtp = true;
			ck_assert_int_eq(media_leg_update(e, ids[i], (enum media_leg_id)l, &lc), 0);
		}
	}
	struct media_call_stats st;
	ck_assert_int_eq(media_call_snapshot_wait(e, ids[STALL_CALLS - 1], &st, 5000), 0);
	struct media_io_counts n0, n1;
	ck_assert_int_eq(media_engine_worker_io_counts(e, 0, &n0), 0);

	/* the worker is stuck (its tick ages) before the first packet leaves */
	ck_assert_int_eq(media_engine_test_stall(e, 0, 1500), 0);
	int64_t t0 = monotime_ms();
	while (media_engine_worker_tick_age_ms(e, 0) < 100 && monotime_ms() - t0 < 1000)
		usleep(5000);
	ck_assert_uint_ge(media_engine_worker_tick_age_ms(e, 0), 100);
	uint8_t pkt[172];
	memset(pkt, 0x5a, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 0;
	for (int k = 0; k < STALL_PKTS; k++) {
		for (int i = 0; i < STALL_CALLS; i++) {
			struct sockaddr_in to = sin;
			to.sin_port = htons(ports[i][0][0]);
			pkt[2] = (uint8_t)(k >> 8), pkt[3] = (uint8_t)k;
			pkt[7] = (uint8_t)k;
			pkt[11] = (uint8_t)(i + 1); /* one SSRC per call */
			ck_assert_int_eq(
			        sendto(fa, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)),
			        (ssize_t)sizeof(pkt));
		}
	}
	ck_assert_msg(media_engine_worker_tick_age_ms(e, 0) >= 100, "the stall ended too early");

	/* back: every packet taken in and sent on (bounded wait) */
	uint64_t in = 0, out = 0;
	for (int tries = 0; tries < 100 && out < STALL_CALLS * STALL_PKTS; tries++) {
		in = out = 0;
		for (int i = 0; i < STALL_CALLS; i++) {
			ck_assert_int_eq(media_call_snapshot_wait(e, ids[i], &st, 5000), 0);
			in += st.leg[MEDIA_LEG_A].rx.packets;
			out += st.leg[MEDIA_LEG_B].tx.packets;
		}
		if (out < STALL_CALLS * STALL_PKTS)
			usleep(20000);
	}
	ck_assert_uint_eq(in, STALL_CALLS * STALL_PKTS);
	ck_assert_uint_eq(out, STALL_CALLS * STALL_PKTS);
	ck_assert_int_eq(media_engine_worker_io_counts(e, 0, &n1), 0);
	ck_assert_msg(n1.rearms == n0.rearms, "the buffer ring ran dry: %llu receives re-armed",
	              (unsigned long long)(n1.rearms - n0.rearms));
	close(fa);
	close(fb);
	media_engine_free(e);
}
END_TEST

static Suite *
media_alive_suite(void)
{
	Suite *s = suite_create("media_alive");
	TCase *tc = tcase_create("workers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, media_idle_workers_stay_alive);
	tcase_add_test(tc, media_stalled_worker_is_named_and_recovers);
	suite_add_tcase(s, tc);
	tc = tcase_create("uring");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, media_uring_ring_holds_what_queued_during_a_stall);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(media_alive_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
