/* Unit tests for lib/pool.c: agent selection policies and health transitions. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

static struct conf_agent agents[3];
static struct conf cf;

static void
setup3(enum agent_policy pol, unsigned w0, unsigned w1, unsigned w2)
{
	memset(&cf, 0, sizeof(cf));
	memset(agents, 0, sizeof(agents));
	strcpy(agents[0].name, "a0");
	strcpy(agents[1].name, "a1");
	strcpy(agents[2].name, "a2");
	agents[0].weight = w0;
	agents[1].weight = w1;
	agents[2].weight = w2;
	cf.agents = agents;
	cf.nagents = 3;
	cf.pool.policy = pol;
	cf.pool.probe_failures = 2;
}

START_TEST(pool_round_robin_follows_weights)
{
	setup3(AGENT_ROUND_ROBIN, 1, 2, 1);
	struct pool *p = pool_new(&cf);
	unsigned count[3] = {0};
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 400; i++) {
		int a = pool_pick(p, 0, 0);
		ck_assert_int_ge(a, 0);
		count[a]++;
	}
	ck_assert_uint_eq(count[0], 100);
	ck_assert_uint_eq(count[1], 200);
	ck_assert_uint_eq(count[2], 100);
	pool_free(p);
}
END_TEST

/* A reload: new weights, policy and probe_failures apply; calls in progress stay counted. */
START_TEST(pool_reconf_applies_weights_and_policy_keeps_calls)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	struct pool_agent_info info;
	unsigned count[3] = {0};

	pool_call_start(p, 1);
	setup3(AGENT_ROUND_ROBIN, 1, 0, 3); /* weight 0 counts as 1 */
	cf.pool.probe_failures = 1;
	pool_reconf(p, &cf);
	ck_assert(pool_agent(p, 2, &info));
	ck_assert_uint_eq(info.weight, 3);
	ck_assert(pool_agent(p, 1, &info));
	ck_assert_uint_eq(info.active, 1);
	for (int i = 0; i < 500; i++)
		count[pool_pick(p, 0, 0)]++;
	ck_assert_uint_eq(count[0], 100);
	ck_assert_uint_eq(count[1], 100);
	ck_assert_uint_eq(count[2], 300);
	ck_assert_int_eq(pool_report(p, 0, false, 0), -1); /* down after one failure now */
	pool_free(p);
}
END_TEST

START_TEST(pool_least_busy_prefers_idle_agent)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	pool_call_start(p, 0);
	pool_call_start(p, 1);
	ck_assert_int_eq(pool_pick(p, 0, 0), 2);
	pool_call_start(p, 2);
	pool_call_start(p, 2);
	pool_call_end(p, 0);
	ck_assert_int_eq(pool_pick(p, 0, 0), 0);
	pool_free(p);
}
END_TEST

START_TEST(pool_least_busy_scales_by_weight)
{
	setup3(AGENT_LEAST_BUSY, 1, 4, 1);
	struct pool *p = pool_new(&cf);
	/* a1 has weight 4: with 3 calls it is still less loaded than a0/a2 with 1 each */
	pool_call_start(p, 0);
	pool_call_start(p, 2);
	for (int i = 0; i < 3; i++)
		pool_call_start(p, 1);
	ck_assert_int_eq(pool_pick(p, 0, 0), 1);
	pool_free(p);
}
END_TEST

START_TEST(pool_skips_tried_and_down_agents)
{
	setup3(AGENT_ROUND_ROBIN, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	ck_assert_int_eq(pool_report(p, 1, false, 0), 0);  /* one failure: still up */
	ck_assert_int_eq(pool_report(p, 1, false, 0), -1); /* second: down */
	for (int i = 0; i < 10; i++)
		ck_assert_int_ne(pool_pick(p, 0, 0), 1);
	/* a0 tried: only a2 is left; then nobody */
	ck_assert_int_eq(pool_pick(p, 1u << 0, 0), 2);
	ck_assert_int_eq(pool_pick(p, (1u << 0) | (1u << 2), 0), -1);
	ck_assert_int_eq(pool_report(p, 1, true, 0), 1); /* back up */
	ck_assert_int_eq(pool_pick(p, (1u << 0) | (1u << 2), 0), 1);
	pool_free(p);
}
END_TEST

START_TEST(pool_all_down_gives_no_agent)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	cf.pool.probe_failures = 1;
	struct pool *p = pool_new(&cf);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pool_report(p, i, false, 0), -1);
	ck_assert_int_eq(pool_pick(p, 0, 0), -1);
	struct pool_agent_info info;
	ck_assert(pool_agent(p, 2, &info));
	ck_assert(!info.up);
	ck_assert_str_eq(info.name, "a2");
	ck_assert(!pool_agent(p, 3, &info));
	pool_free(p);
}
END_TEST

/* Probes off: a down agent gets one call after 30 s, then after 60 s, ... */
START_TEST(pool_down_agent_is_retried_after_a_doubling_backoff_when_probes_are_off)
{
	setup3(AGENT_ROUND_ROBIN, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	int64_t t0 = 1000000;

	pool_report(p, 1, false, t0);
	ck_assert_int_eq(pool_report(p, 1, false, t0), -1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_ne(pool_pick(p, 0, t0 + POOL_RETRY_FIRST_MS - 1), 1);
	/* due: handed out once, first, then not again within the period */
	ck_assert_int_eq(pool_pick(p, 0, t0 + POOL_RETRY_FIRST_MS), 1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_ne(pool_pick(p, 0, t0 + POOL_RETRY_FIRST_MS + 1), 1);
	/* the retry fails: the next one waits twice as long */
	int64_t t1 = t0 + POOL_RETRY_FIRST_MS + 500;
	ck_assert_int_eq(pool_report(p, 1, false, t1), 0);
	ck_assert_int_ne(pool_pick(p, 0, t1 + 2 * POOL_RETRY_FIRST_MS - 1), 1);
	ck_assert_int_eq(pool_pick(p, 0, t1 + 2 * POOL_RETRY_FIRST_MS), 1);
	/* this one answers: the agent is up and in the rotation */
	ck_assert_int_eq(pool_report(p, 1, true, t1 + 2 * POOL_RETRY_FIRST_MS + 100), 1);
	int seen = 0;
	for (int i = 0; i < 6; i++)
		seen += pool_pick(p, 0, t1 + 2 * POOL_RETRY_FIRST_MS + 200) == 1;
	ck_assert_int_eq(seen, 2);
	pool_free(p);
}
END_TEST

START_TEST(pool_retry_backoff_stops_growing_at_five_minutes)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	cf.pool.probe_failures = 1;
	struct pool *p = pool_new(&cf);
	int64_t now = 0, wait = POOL_RETRY_FIRST_MS;

	ck_assert_int_eq(pool_report(p, 0, false, now), -1);
	for (int round = 0; round < 8; round++) {
		ck_assert_int_ne(pool_pick(p, 0, now + wait - 1), 0);
		now += wait;
		ck_assert_int_eq(pool_pick(p, 0, now), 0);
		pool_report(p, 0, false, now);
		wait = wait * 2 > POOL_RETRY_MAX_MS ? POOL_RETRY_MAX_MS : wait * 2;
	}
	ck_assert_int_eq(wait, POOL_RETRY_MAX_MS);
	ck_assert_int_ne(pool_pick(p, 0, now + POOL_RETRY_MAX_MS - 1), 0);
	ck_assert_int_eq(pool_pick(p, 0, now + POOL_RETRY_MAX_MS), 0);
	pool_free(p);
}
END_TEST

/* A failure reported for a call that was under way when the agent went down is not a
 * failed retry: the backoff stays. */
START_TEST(pool_late_failure_of_a_down_agent_does_not_grow_the_backoff)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	cf.pool.probe_failures = 1;
	struct pool *p = pool_new(&cf);

	ck_assert_int_eq(pool_report(p, 2, false, 0), -1);
	ck_assert_int_eq(pool_report(p, 2, false, 10000), 0);
	ck_assert_int_eq(pool_pick(p, 0, POOL_RETRY_FIRST_MS), 2);
	pool_free(p);
}
END_TEST

START_TEST(pool_with_probes_on_leaves_down_agents_to_the_probes)
{
	setup3(AGENT_ROUND_ROBIN, 1, 1, 1);
	cf.pool.probe_interval_ms = 5000;
	cf.pool.probe_failures = 1;
	struct pool *p = pool_new(&cf);

	ck_assert_int_eq(pool_report(p, 0, false, 0), -1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_ne(pool_pick(p, 0, 3600000), 0);
	ck_assert_int_eq(pool_report(p, 0, true, 3600000), 1); /* a probe answered */
	pool_free(p);
}
END_TEST

/* Issue 8: a local build error was counted as connection_failed against each agent. */
START_TEST(pool_only_transport_errors_are_the_agents_fault)
{
	ck_assert(pool_is_agent_fault(-ENOTCONN));
	ck_assert(pool_is_agent_fault(-ECONNREFUSED));
	ck_assert(pool_is_agent_fault(-ENOBUFS));
	ck_assert(pool_is_agent_fault(-ETIMEDOUT));
	ck_assert(pool_is_agent_fault(-EHOSTUNREACH));
	ck_assert(!pool_is_agent_fault(-EINVAL));
	ck_assert(!pool_is_agent_fault(-ENOMEM));
	ck_assert(!pool_is_agent_fault(-E2BIG));
	ck_assert(!pool_is_agent_fault(-EPROTO));
	ck_assert(!pool_is_agent_fault(0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, pool_round_robin_follows_weights);
	tcase_add_test(tc, pool_reconf_applies_weights_and_policy_keeps_calls);
	tcase_add_test(tc, pool_least_busy_prefers_idle_agent);
	tcase_add_test(tc, pool_least_busy_scales_by_weight);
	tcase_add_test(tc, pool_skips_tried_and_down_agents);
	tcase_add_test(tc, pool_all_down_gives_no_agent);
	tcase_add_test(tc, pool_down_agent_is_retried_after_a_doubling_backoff_when_probes_are_off);
	tcase_add_test(tc, pool_retry_backoff_stops_growing_at_five_minutes);
	tcase_add_test(tc, pool_late_failure_of_a_down_agent_does_not_grow_the_backoff);
	tcase_add_test(tc, pool_with_probes_on_leaves_down_agents_to_the_probes);
	tcase_add_test(tc, pool_only_transport_errors_are_the_agents_fault);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
