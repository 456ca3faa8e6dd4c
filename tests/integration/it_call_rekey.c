/*
 * it_call_rekey: re-offers relayed between the legs re-key only where a side changed its
 * crypto (issue 10 item 4, RFC 4028 refreshes, RFC 4568 s7.1.4). swpeer on both sides: a
 * trunk's hold and resume by re-INVITE, and an UPDATE carrying its SDP, keep the trunk's
 * key (new o= version, same a=crypto) and cross to the agent; sipwarden keeps its own key
 * on both legs, so neither peer sees a new key (swpeer counts `rekeys`) and the media
 * flows with no failed packet. A re-offer with a new key still gets new keys on both
 * legs.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* One call with the caller's re-offer options `call_args`; checks the media and the
 * telemetry, returns the results (new references). */
static void
run_call(struct itest *t, const char *const call_args[], int nre, json_t **caller, json_t **agent)
{
	const char *agent_args[] = {"--mode",    "echo", "--calls",   "1",
	                            "--timeout", "20",   "--verbose", NULL};
	json_t *end;
	pid_t ap;
	int tfd;

	tfd = itest_telemetry_connect(t);
	ap = itest_agent(t, agent_args);
	itest_check_exit(t, itest_caller(t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json.log");
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	*caller = itest_result(t, "caller.json");
	*agent = itest_result(t, "agent.json");
	ck_assert_int_eq(itest_num(*caller, "code"), 200);
	ck_assert_str_eq(itest_str(*caller, "result"), "pass");
	ck_assert_str_eq(itest_str(*agent, "result"), "pass");
	ck_assert_int_eq(itest_num(*caller, "reinvite_code"), 200);
	ck_assert_int_eq(itest_num(*caller, "reinvites"), nre);
	/* the re-offers crossed to the agent */
	ck_assert_int_eq(itest_num(*agent, "reinvites"), nre);
	/* 3 s of media (~150 packets), echoed back intact through both legs, before and
	 * after: a hold of 0.5 s stops the echo for ~25 packets, so all but 40 of what the
	 * caller sent come back. Against what it sent, not against a count of 20 ms ticks:
	 * a starved box loses ticks (swpeer's timer does not catch up), not echoes. */
	ck_assert_int_ge(itest_num(*caller, "sent"), 100);
	ck_assert_int_ge(itest_num(*caller, "ok"), itest_num(*caller, "sent") - 40);
	ck_assert_int_eq(itest_num(*caller, "bad"), 0);
	ck_assert_int_eq(itest_num(*caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(*agent, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(*agent, "bad"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"security.") == NULL, "security event: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	json_decref(end);
	close(tfd);
	itest_assert_no_calls(t);
}

/* Each case: the daemon, one call with `call_args` (nre re-offers), then the keys each
 * peer saw change (`rekeys` on both legs) and, unless NULL, `agent_log` in the agent's
 * log. */
static void
rekey_case(const char *const call_args[], int nre, int rekeys, const char *agent_log)
{
	struct itest t;
	json_t *caller, *agent;
	char path[256];
	size_t len;
	char *log;

	itest_start(&t, NULL);
	run_call(&t, call_args, nre, &caller, &agent);
	ck_assert_int_eq(itest_num(agent, "rekeys"), rekeys);
	ck_assert_int_eq(itest_num(caller, "rekeys"), rekeys);
	if (agent_log != NULL) {
		ck_assert_ptr_nonnull(
		        log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)),
		                              &len));
		ck_assert_ptr_nonnull(strstr(log, agent_log));
		free(log);
	}
	json_decref(caller);
	json_decref(agent);
	itest_stop(&t);
}

START_TEST(a_hold_and_resume_keeping_the_trunks_key_rekey_neither_leg)
{
	const char *call_args[] = {"--hold-after", "1",  "--hold-for", "0.5", "--duration", "3",
	                           "--timeout",    "15", "--verbose",  NULL};

	/* the agent's key from sipwarden and the caller's from sipwarden never changed */
	rekey_case(call_args, 2, 0, NULL);
}
END_TEST

START_TEST(an_update_with_sdp_keeping_the_trunks_key_rekeys_neither_leg)
{
	const char *call_args[] = {"--hold-after", "1", "--reinvite-offer", "update",
	                           "--duration",   "3", "--timeout",        "15",
	                           "--verbose",    NULL};

	rekey_case(call_args, 1, 0, "<<< UPDATE sip:"); /* it crossed as an UPDATE */
}
END_TEST

/* An offerless re-INVITE (some PBXes refresh that way): the agent offers its current key
 * in its 200, so sipwarden offers the trunk the key it runs with and answers the agent
 * with its own current key in the ACK: no new key on either leg. */
START_TEST(an_offerless_reinvite_keeps_the_keys_on_both_legs)
{
	const char *call_args[] = {"--hold-after", "1", "--reinvite-offer", "none",
	                           "--duration",   "3", "--timeout",        "15",
	                           "--verbose",    NULL};

	rekey_case(call_args, 1, 0, NULL);
}
END_TEST

START_TEST(a_reoffer_with_a_new_key_gets_new_keys_on_both_legs)
{
	const char *call_args[] = {"--hold-after", "1", "--reinvite-offer", "rekey",
	                           "--duration",   "3", "--timeout",        "15",
	                           "--verbose",    NULL};

	rekey_case(call_args, 1, 1, NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_rekey");
	TCase *tc = tcase_create("rekey");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_hold_and_resume_keeping_the_trunks_key_rekey_neither_leg);
	tcase_add_test(tc, an_update_with_sdp_keeping_the_trunks_key_rekeys_neither_leg);
	tcase_add_test(tc, a_reoffer_with_a_new_key_gets_new_keys_on_both_legs);
	tcase_add_test(tc, an_offerless_reinvite_keeps_the_keys_on_both_legs);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
