/*
 * test_media_alive.c: the media engine's liveness report (media_engine_workers_alive),
 * which the daemon's systemd watchdog relies on. Built with lib/media.c and
 * lib/media_worker.c compiled in with -DSW_TEST_HOOKS, so that a worker can be stalled
 * on purpose (media_engine_test_stall); the installed daemon has no such hook.
 * Covers: idle workers keep ticking (their epoll timeout), a stalled worker is named
 * and the others are not, a worker that comes back is alive again.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "media.h"

static struct media_engine *eng;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	int64_t start = now_ms();

	while (now_ms() - start < timeout_ms) {
		if (media_engine_workers_alive(eng, max_age, stale) == want)
			return now_ms() - start;
		usleep(5000);
	}
	return -1;
}

START_TEST(media_idle_workers_stay_alive)
{
	int64_t end = now_ms() + 1500;
	unsigned stale = 99;

	/* no calls, no commands: only the 250 ms epoll timeout wakes them */
	while (now_ms() < end) {
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
