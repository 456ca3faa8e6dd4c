/*
 * it_watchdog: under systemd's watchdog (WATCHDOG_USEC in the environment, as
 * WatchdogSec= gives it), the daemon sends WATCHDOG=1 at half the interval, but only
 * while every media worker goes round its loop: a worker that is stuck stops the pings,
 * so that systemd restarts the daemon, and the pings come back with the worker. The
 * stuck worker is made on purpose with the test build of the daemon ($SW_DAEMON_HOOKS,
 * compiled with -DSW_TEST_HOOKS: a "test_stall" control command that the installed
 * daemon does not have). Without WATCHDOG_USEC no WATCHDOG=1 is sent at all.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define WD_USEC  2000000 /* pings every 1 s; a worker silent for 1 s is stuck */
#define STALL_MS 5000

/* Collect WATCHDOG=1 arrival times (ms since t0) for `ms`; returns how many (<= cap).
 * Notes a STATUS naming a stuck worker in *stuck_seen when not NULL. */
static size_t
pings(struct itest *t, int64_t t0, int ms, int64_t *at, size_t cap, bool *stuck_seen)
{
	int64_t end = itest_now_ms() + ms;
	char buf[512];
	size_t n = 0;

	for (;;) {
		int64_t left = end - itest_now_ms();
		if (left <= 0 || itest_notify_recv(t, buf, sizeof(buf), (int)left) < 0)
			break;
		if (strstr(buf, "WATCHDOG=1") != NULL && n < cap)
			at[n++] = itest_now_ms() - t0;
		if (stuck_seen != NULL && strstr(buf, "media worker 0") != NULL)
			*stuck_seen = true;
	}
	return n;
}

START_TEST(watchdog_pings_stop_while_a_media_worker_is_stuck_and_resume_after)
{
	struct itest t;
	struct itest_opts o = {.watchdog_usec = WD_USEC, .test_hooks = true};
	int64_t at[64], t0, gap = 0, last;
	bool stuck = false;
	size_t n;
	char *reply;

	itest_start(&t, &o);
	/* healthy: pings about every second */
	t0 = itest_now_ms();
	n = pings(&t, t0, 3500, at, 64, NULL);
	ck_assert_msg(n >= 2, "%zu WATCHDOG=1 in 3.5 s", n);
	last = at[n - 1];

	/* worker 0 sleeps for 5 s inside its loop */
	reply = itest_control(&t, "{\"cmd\":\"test_stall\",\"worker\":0,\"ms\":5000}", 2000);
	ck_assert_msg(reply != NULL && strstr(reply, "error") == NULL, "test_stall: %s",
	              reply ? reply : "(no reply)");
	free(reply);
	n = pings(&t, t0, STALL_MS + 3000, at, 64, &stuck);
	ck_assert_msg(n >= 1, "no WATCHDOG=1 after the worker came back");
	for (size_t i = 0; i < n; i++) {
		if (at[i] - last > gap)
			gap = at[i] - last;
		last = at[i];
	}
	/* systemd would have restarted it: no ping for longer than WATCHDOG_USEC */
	ck_assert_msg(gap > WD_USEC / 1000, "longest gap between pings %lld ms", (long long)gap);
	ck_assert_msg(stuck, "no STATUS naming media worker 0");
	itest_stop(&t);
}
END_TEST

START_TEST(watchdog_pings_with_a_call_in_progress_on_the_installed_daemon)
{
	struct itest t;
	struct itest_opts o = {.watchdog_usec = WD_USEC};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	const char *call[] = {"--calls", "1", "--duration", "3", NULL};
	int64_t at[64], t0;
	size_t n;
	pid_t ap, cp;
	char *reply;

	itest_start(&t, &o);
	/* the installed daemon has no stall hook */
	reply = itest_control(&t, "{\"cmd\":\"test_stall\",\"worker\":0,\"ms\":5000}", 2000);
	ck_assert_msg(reply != NULL && strstr(reply, "error") != NULL, "test_stall: %s",
	              reply ? reply : "(no reply)");
	free(reply);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "call.json", call);
	t0 = itest_now_ms();
	n = pings(&t, t0, 3000, at, 64, NULL);
	ck_assert_msg(n >= 2, "%zu WATCHDOG=1 in 3 s", n);
	ck_assert_int_eq(itest_wait_child(cp, 30000), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	itest_stop(&t);
}
END_TEST

START_TEST(no_watchdog_pings_without_watchdog_usec)
{
	struct itest t;
	int64_t at[8];

	itest_start(&t, NULL);
	ck_assert_uint_eq(pings(&t, itest_now_ms(), 2500, at, 8, NULL), 0);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_watchdog");
	TCase *tc = tcase_create("watchdog");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, watchdog_pings_stop_while_a_media_worker_is_stuck_and_resume_after);
	tcase_add_test(tc, watchdog_pings_with_a_call_in_progress_on_the_installed_daemon);
	tcase_add_test(tc, no_watchdog_pings_without_watchdog_usec);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
