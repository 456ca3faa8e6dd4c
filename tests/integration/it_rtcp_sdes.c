/*
 * it_rtcp_sdes: RTCP SDES does not cross sipwarden. swpeer on both sides sends an SR with
 * an SDES naming its host and software (CNAME swpeer@<ip>, NAME, TOOL) every second. Each
 * side must receive RTCP whose SDES is one CNAME only, of RFC 7022's 16 characters, that
 * is not the other side's and not the one the other side was given (one per leg).
 */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "itest.h"

#define T_CALL_MS 30000

START_TEST(rtcp_sdes_reaches_each_side_as_one_cname_of_sipwardens)
{
	struct itest t;
	const char *agent_args[] = {"--mode",    "echo", "--calls",     "1",
	                            "--timeout", "40",   "--rtcp-sdes", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "3", "--rtcp-sdes", NULL};

	itest_start(&t, NULL);
	pid_t ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	json_t *caller = itest_result(&t, "caller.json");
	json_t *agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_eq(itest_num(agent, "code"), 200);

	json_t *side[2] = {caller, agent};
	for (int i = 0; i < 2; i++) {
		/* about one SR+SDES a second from the other side, all of them relayed */
		ck_assert_int_ge(itest_num(side[i], "rtcp"), 2);
		ck_assert_int_ge(itest_num(side[i], "sdes_items"), 2);
		ck_assert_int_eq(itest_num(side[i], "sdes_foreign"), 0); /* no NAME, no TOOL */
		const char *cname = itest_str(side[i], "sdes_cname");
		ck_assert_uint_eq(strlen(cname), 16);
		ck_assert_msg(strncmp(cname, "swpeer@", 7) != 0, "peer CNAME crossed: %s", cname);
	}
	ck_assert_str_ne(itest_str(caller, "sdes_cname"), itest_str(agent, "sdes_cname"));
	json_decref(caller);
	json_decref(agent);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rtcp_sdes");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, rtcp_sdes_reaches_each_side_as_one_cname_of_sipwardens);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
