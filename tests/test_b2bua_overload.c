/*
 * Unit tests for daemon/b2bua_overload.c: which overload a new INVITE is refused for.
 * A signalling loop that keeps running late is seen as lag; calls in set-up,
 * media port pairs and file descriptors are compared with their bounds. The file is
 * compiled in; the SIP server is stubbed (its open connection count is set here).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b2bua_int.h"
#include "sip_server.h"

static size_t stub_open_conns;
static unsigned stub_stats_calls; /* full statistics asked for (they scan the admission table) */

void
sip_server_get_stats(const struct sip_server *s, struct sip_server_stats *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
	out->open = stub_open_conns;
	stub_stats_calls++;
}

size_t
sip_server_open_conns(const struct sip_server *s)
{
	(void)s;
	return stub_open_conns;
}

const struct sip_conn_info *
sip_server_conn_info(const struct sip_server *s, uint64_t conn)
{
	(void)s;
	(void)conn;
	return NULL;
}

int
b2bua_reply(struct b2bua *b, uint64_t conn, const osip_message_t *req, int code, const char *to_tag,
            const char *warning, const char *sdp)
{
	(void)b;
	(void)conn;
	(void)req;
	(void)code;
	(void)to_tag;
	(void)warning;
	(void)sdp;
	return 0;
}

struct fixture {
	struct conf conf;
	struct b2bua b;
};

static void
setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->conf.media.port_min = 30000;
	f->conf.media.port_max = 30999; /* 500 pairs */
	f->conf.limits.max_setup_calls = 200;
	f->conf.limits.max_loop_lag_ms = 100;
	f->conf.limits.fd_reserve = 64;
	f->b.conf = &f->conf;
	f->b.base = event_base_new();
	ck_assert_ptr_nonnull(f->b.base);
	stub_open_conns = 0;
	ck_assert_int_eq(overload_start(&f->b), 0);
	f->b.ovl.fd_limit = 100000;
}

static void
teardown(struct fixture *f)
{
	overload_stop(&f->b);
	event_base_free(f->b.base);
}

START_TEST(overload_check_admits_an_idle_daemon)
{
	struct fixture f;

	setup(&f);
	ck_assert_ptr_null(overload_check(&f.b));
	teardown(&f);
}
END_TEST

/* Hold the loop up for `ms` (as work would), then let it run its overdue tick. */
static void
hold_loop(struct fixture *f, unsigned ms)
{
	usleep(ms * 1000);
	ck_assert_int_eq(event_base_loop(f->b.base, EVLOOP_ONCE), 0);
}

START_TEST(overload_check_sees_a_loop_that_stays_late_as_lag)
{
	struct fixture f;

	setup(&f);
	/* each tick runs at least 390 ms late (never early, whatever the machine's load);
	 * the standing lag is the least of the last three ticks' */
	for (int i = 0; i < 3; i++)
		hold_loop(&f, 400);
	ck_assert_uint_ge(f.b.ovl.lag_ms, 390);
	ck_assert_str_eq(overload_check(&f.b), "overload_loop_lag");
	/* with the check off the same lag admits */
	f.conf.limits.max_loop_lag_ms = 0;
	ck_assert_ptr_null(overload_check(&f.b));
	teardown(&f);
}
END_TEST

/* Count the calls of `n` new ones that overload_check() admits. */
static unsigned
admitted(struct fixture *f, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *why = overload_check(&f->b);

		if (why == NULL)
			ok++;
		else
			ck_assert_str_eq(why, "overload_loop_lag");
	}
	return ok;
}

/* The share admitted follows the standing lag: cut by 30 % a tick over the bound, back
 * by 2 points a tick under it; exact counts, since the share is drawn as credit. */
START_TEST(overload_lag_sample_admits_a_share_that_follows_the_standing_lag)
{
	struct fixture f;

	setup(&f);
	overload_stop(&f.b); /* samples are fed by hand below */
	f.conf.limits.max_loop_lag_ms = 10;
	/* one or two late ticks are a burst, not a queue: all admitted */
	overload_lag_sample(&f.b.ovl, 20, 10);
	overload_lag_sample(&f.b.ovl, 20, 10);
	ck_assert_uint_eq(f.b.ovl.lag_ms, 0);
	ck_assert_uint_eq(admitted(&f, 100), 100);
	/* the third in a row is a standing queue of 20 ms: 70 % */
	overload_lag_sample(&f.b.ovl, 25, 10);
	ck_assert_uint_eq(f.b.ovl.lag_ms, 20);
	ck_assert_uint_eq(admitted(&f, 100), 70);
	overload_lag_sample(&f.b.ovl, 30, 10); /* 49 % */
	ck_assert_uint_eq(admitted(&f, 100), 49);
	/* a lag at the bound is not over it: back up by 2 points a tick */
	for (int i = 0; i < 3; i++)
		overload_lag_sample(&f.b.ovl, 10, 10);
	ck_assert_uint_eq(f.b.ovl.admit_milli, 550);
	/* never below 2 %: a few calls still probe whether the loop keeps up */
	for (int i = 0; i < 40; i++)
		overload_lag_sample(&f.b.ovl, 500, 10);
	ck_assert_uint_eq(admitted(&f, 1000), 20);
	/* on time again: from 2 % to all in 49 ticks (0.49 s) */
	for (int i = 0; i < 48; i++)
		overload_lag_sample(&f.b.ovl, 0, 10);
	ck_assert_uint_lt(admitted(&f, 100), 100);
	overload_lag_sample(&f.b.ovl, 0, 10);
	ck_assert_uint_eq(admitted(&f, 100), 100);
	/* as `stats` shows it */
	overload_lag_sample(&f.b.ovl, 40, 10);
	overload_lag_sample(&f.b.ovl, 40, 10);
	overload_lag_sample(&f.b.ovl, 40, 10);
	json_t *j = b2bua_overload_json(&f.b);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "loop_lag_ms")), 40);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "admit_pct")), 70);
	json_decref(j);
	event_base_free(f.b.base);
}
END_TEST

/*
 * A loop that stays ~25 ms behind (every iteration holds it up that long, as a queue of
 * INVITEs would) is overloaded at a 10 ms bound: requests wait that long to be read. The
 * lag measured can only be larger than what the holds force (usleep never returns early),
 * so this holds on a loaded machine too.
 */
START_TEST(overload_check_sees_a_standing_queue_of_tens_of_ms)
{
	struct fixture f;

	setup(&f);
	f.conf.limits.max_loop_lag_ms = 10;
	for (int i = 0; i < 30; i++) /* 750 ms or more: several windows */
		hold_loop(&f, 25);
	ck_assert_uint_ge(f.b.ovl.lag_ms, 15);
	ck_assert_str_eq(overload_check(&f.b), "overload_loop_lag");
	teardown(&f);
}
END_TEST

/* One long iteration (a burst of handshakes) between iterations on time is no queue. */
START_TEST(overload_check_does_not_shed_for_one_burst)
{
	struct fixture f;

	setup(&f);
	f.conf.limits.max_loop_lag_ms = 50;
	for (int i = 0; i < 30; i++) {
		hold_loop(&f, i == 12 ? 90 : 0);
		ck_assert_ptr_null(overload_check(&f.b));
	}
	teardown(&f);
}
END_TEST

START_TEST(overload_check_bounds_the_calls_in_setup)
{
	struct fixture f;

	setup(&f);
	f.conf.limits.max_setup_calls = 3;
	f.b.nlive = 10;
	f.b.nanswered = 8; /* two in set-up */
	ck_assert_ptr_null(overload_check(&f.b));
	f.b.nanswered = 7; /* three */
	ck_assert_str_eq(overload_check(&f.b), "overload_setup");
	teardown(&f);
}
END_TEST

START_TEST(overload_check_sheds_while_media_workers_are_busy)
{
	struct fixture f;

	/* two workers that used 0.9 s of CPU in 1 s: 45 % busy on average */
	ck_assert_uint_eq(overload_load_pct(900000000u, 1000, 2), 45);
	ck_assert_uint_eq(overload_load_pct(3000000000u, 1000, 2), 100); /* clamped */
	ck_assert_uint_eq(overload_load_pct(5000000u, 0, 1), 0);         /* no time passed */
	ck_assert_uint_eq(overload_load_pct(5000000u, 1000, 0), 0);      /* no workers */
	setup(&f);
	f.conf.limits.max_media_load = 90;
	f.b.ovl.media_load = 89;
	ck_assert_ptr_null(overload_check(&f.b));
	f.b.ovl.media_load = 90;
	ck_assert_str_eq(overload_check(&f.b), "overload_media");
	f.conf.limits.max_media_load = 0; /* off */
	f.b.ovl.media_load = 100;
	ck_assert_ptr_null(overload_check(&f.b));
	teardown(&f);
}
END_TEST

START_TEST(overload_check_needs_two_free_port_pairs)
{
	struct fixture f;

	setup(&f);
	overload_stop(&f.b);
	f.conf.media.port_max = 30003; /* two pairs: one call */
	ck_assert_int_eq(overload_start(&f.b), 0);
	f.b.ovl.fd_limit = 100000;
	ck_assert_uint_eq(f.b.ovl.port_pairs, 2);
	ck_assert_ptr_null(overload_check(&f.b));
	f.b.nmedia = 1;
	ck_assert_str_eq(overload_check(&f.b), "overload_ports");
	teardown(&f);
}
END_TEST

START_TEST(overload_check_keeps_the_fd_reserve)
{
	struct fixture f;
	unsigned used;

	setup(&f);
	stub_open_conns = 10;
	f.b.nmedia = 5;
	used = f.b.ovl.fd_base + 10 + 4 * 5;
	/* exactly one call's four sockets left above the reserve: admitted */
	f.b.ovl.fd_limit = used + 64 + 4;
	ck_assert_ptr_null(overload_check(&f.b));
	/* one fewer: the call would take from the reserve */
	f.b.ovl.fd_limit = used + 64 + 3;
	ck_assert_str_eq(overload_check(&f.b), "overload_fds");
	teardown(&f);
}
END_TEST

/* overload_check() runs for every INVITE: it must not cost a walk of the admission table
 * (sip_server_get_stats() counts banned sources over all [admission] max_sources slots). */
START_TEST(overload_check_does_not_walk_the_admission_table)
{
	struct fixture f;

	setup(&f);
	stub_stats_calls = 0;
	ck_assert_ptr_null(overload_check(&f.b));
	ck_assert_uint_eq(stub_stats_calls, 0);
	teardown(&f);
}
END_TEST

static Suite *
overload_suite(void)
{
	Suite *s = suite_create("b2bua_overload");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, overload_check_admits_an_idle_daemon);
	tcase_add_test(tc, overload_check_does_not_walk_the_admission_table);
	tcase_add_test(tc, overload_check_sees_a_loop_that_stays_late_as_lag);
	tcase_add_test(tc, overload_check_sees_a_standing_queue_of_tens_of_ms);
	tcase_add_test(tc, overload_lag_sample_admits_a_share_that_follows_the_standing_lag);
	tcase_add_test(tc, overload_check_does_not_shed_for_one_burst);
	tcase_add_test(tc, overload_check_bounds_the_calls_in_setup);
	tcase_add_test(tc, overload_check_sheds_while_media_workers_are_busy);
	tcase_add_test(tc, overload_check_needs_two_free_port_pairs);
	tcase_add_test(tc, overload_check_keeps_the_fd_reserve);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(overload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
