/* Unit tests for lib/pool.c: agent selection policies and health transitions. */
#include <check.h>
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
		int a = pool_pick(p, 0);
		ck_assert_int_ge(a, 0);
		count[a]++;
	}
	ck_assert_uint_eq(count[0], 100);
	ck_assert_uint_eq(count[1], 200);
	ck_assert_uint_eq(count[2], 100);
	pool_free(p);
}
END_TEST

START_TEST(pool_least_busy_prefers_idle_agent)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	pool_call_start(p, 0);
	pool_call_start(p, 1);
	ck_assert_int_eq(pool_pick(p, 0), 2);
	pool_call_start(p, 2);
	pool_call_start(p, 2);
	pool_call_end(p, 0);
	ck_assert_int_eq(pool_pick(p, 0), 0);
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
	ck_assert_int_eq(pool_pick(p, 0), 1);
	pool_free(p);
}
END_TEST

START_TEST(pool_skips_tried_and_down_agents)
{
	setup3(AGENT_ROUND_ROBIN, 1, 1, 1);
	struct pool *p = pool_new(&cf);
	ck_assert_int_eq(pool_report(p, 1, false), 0);  /* one failure: still up */
	ck_assert_int_eq(pool_report(p, 1, false), -1); /* second: down */
	for (int i = 0; i < 10; i++)
		ck_assert_int_ne(pool_pick(p, 0), 1);
	/* a0 tried: only a2 is left; then nobody */
	ck_assert_int_eq(pool_pick(p, 1u << 0), 2);
	ck_assert_int_eq(pool_pick(p, (1u << 0) | (1u << 2)), -1);
	ck_assert_int_eq(pool_report(p, 1, true), 1); /* back up */
	ck_assert_int_eq(pool_pick(p, (1u << 0) | (1u << 2)), 1);
	pool_free(p);
}
END_TEST

START_TEST(pool_all_down_gives_no_agent)
{
	setup3(AGENT_LEAST_BUSY, 1, 1, 1);
	cf.pool.probe_failures = 1;
	struct pool *p = pool_new(&cf);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pool_report(p, i, false), -1);
	ck_assert_int_eq(pool_pick(p, 0), -1);
	struct pool_agent_info info;
	ck_assert(pool_agent(p, 2, &info));
	ck_assert(!info.up);
	ck_assert_str_eq(info.name, "a2");
	ck_assert(!pool_agent(p, 3, &info));
	pool_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, pool_round_robin_follows_weights);
	tcase_add_test(tc, pool_least_busy_prefers_idle_agent);
	tcase_add_test(tc, pool_least_busy_scales_by_weight);
	tcase_add_test(tc, pool_skips_tried_and_down_agents);
	tcase_add_test(tc, pool_all_down_gives_no_agent);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
