/*
 * it_rtcp_mux: rtcp-mux is the same on both sides of each leg. The trunk offers
 * a=rtcp-mux, the agent answers without it (swpeer --no-rtcp-mux: RTCP on port + 1).
 * Whatever sipwarden's answer to the trunk says, the relay must expect the trunk's RTCP
 * where that answer told the trunk to send it: the trunk's RTCP reaches the agent, the
 * agent's reaches the trunk, and nothing from the trunk is dropped as coming from an
 * unknown source.
 */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "itest.h"

#define T_CALL_MS 30000

START_TEST(trunk_rtcp_crosses_when_only_the_trunk_has_rtcp_mux)
{
	static char tel[1 << 20];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo",        "--calls",       "1", "--timeout",
	                            "40",     "--rtcp-sdes", "--no-rtcp-mux", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "3", "--rtcp-sdes", NULL};
	json_t *caller, *agent, *end, *drops;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	pid_t ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	/* about one SR+SDES a second from each side, all of them relayed */
	ck_assert_int_ge(itest_num(agent, "rtcp"), 2);
	ck_assert_int_ge(itest_num(caller, "rtcp"), 2);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(end);
	drops = json_object_get(
	        json_object_get(json_object_get(json_object_get(end, "legs"), "trunk"), "in"),
	        "drops");
	ck_assert_ptr_nonnull(drops);
	ck_assert_int_eq(json_integer_value(json_object_get(drops, "unknown_source")), 0);
	json_decref(end);
	json_decref(caller);
	json_decref(agent);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rtcp_mux");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, trunk_rtcp_crosses_when_only_the_trunk_has_rtcp_mux);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
