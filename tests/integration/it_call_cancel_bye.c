/*
 * it_call_cancel_bye: how a call ends, end to end. A CANCEL from the trunk before the
 * agent answers reaches the agent (which answers 487), the trunk gets 487 and the record
 * says "cancelled"; a BYE from the agent ends an answered call on the trunk side too and
 * the record says the agent ended it.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* The trunk cancels while the agent rings (agent_args choose how it rings). */
static void
cancel_while_ringing(const char *const agent_args[])
{
	struct itest t;
	const char *call_args[] = {"--cancel-after", "600", "--expect", "487",
	                           "--timeout",      "10",  NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;
	int64_t t0;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	t0 = itest_now_ms();
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	ck_assert_int_lt(itest_now_ms() - t0, 5000);
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 487);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	/* the CANCEL crossed sipwarden: the agent's INVITE ended with 487, no media */
	ck_assert_int_eq(itest_num(agent, "code"), 487);
	ck_assert_int_eq(itest_num(agent, "received"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"call.answer\"") == NULL, "answered: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "cancelled");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_int_eq(itest_num(end, "sip_code"), 487);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}

START_TEST(cancel_before_answer_reaches_the_ringing_agent_and_trunk_gets_487)
{
	const char *agent_args[] = {"--ring-ms", "8000", "--calls", "1", "--timeout", "20", NULL};
	cancel_while_ringing(agent_args);
}
END_TEST

START_TEST(cancel_reaches_an_agent_that_never_answers)
{
	const char *agent_args[] = {"--mode", "noanswer", "--calls", "1", "--timeout", "20", NULL};
	cancel_while_ringing(agent_args);
}
END_TEST

START_TEST(bye_from_agent_ends_the_call_on_the_trunk_side)
{
	struct itest t;
	const char *agent_args[] = {"--bye-after", "1", "--calls", "1", "--timeout", "20", NULL};
	/* the caller would talk for 6 s: the agent's BYE after 1 s must end it first */
	const char *call_args[] = {"--duration", "6", "--timeout", "15", NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;
	int64_t t0;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	t0 = itest_now_ms();
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	ck_assert_int_lt(itest_now_ms() - t0, 4500);
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(agent, "ended_by"), "local");
	/* about 1 s of audio went through intact before the end */
	ck_assert_int_ge(itest_num(caller, "ok"), 30);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	char *a = strstr(tel, "\"call.answer\""), *e = strstr(tel, "\"call.end\"");
	ck_assert_msg(a != NULL && e != NULL && a < e, "telemetry: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "agent");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_cancel_bye");
	TCase *tc = tcase_create("cancel_bye");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cancel_before_answer_reaches_the_ringing_agent_and_trunk_gets_487);
	tcase_add_test(tc, cancel_reaches_an_agent_that_never_answers);
	tcase_add_test(tc, bye_from_agent_ends_the_call_on_the_trunk_side);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
