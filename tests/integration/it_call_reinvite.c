/*
 * it_call_reinvite: re-INVITEs inside an answered call, end to end. A hold and a resume
 * from the trunk cross sipwarden to the agent (both 200) and the audio flows again after
 * the resume; a re-INVITE that would drop SRTP is refused with 488 and a
 * security.downgrade_refused event, never reaches the agent, and the call goes on with
 * its keys.
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

/* A peer's call met its own expectations (the whole result line on failure). */
static void
assert_pass(json_t *r, const char *who)
{
	char *d = json_dumps(r, JSON_COMPACT);
	bool pass = strcmp(itest_str(r, "result"), "pass") == 0;

	ck_assert_msg(pass, "%s: %s", who, d);
	free(d);
}

/*
 * A call from the trunk held and resumed by re-INVITE; `seq`: both peers' first RTP
 * sequence number (NULL: random).
 */
static void
hold_and_resume(const char *seq)
{
	struct itest t;
	const char *agent_args[] = {
	        "--mode", "echo", "--calls", "1", "--timeout", "20", seq ? "--rtp-seq" : NULL,
	        seq,      NULL};
	const char *call_args[] = {"--hold-after",
	                           "1",
	                           "--hold-for",
	                           "0.5",
	                           "--duration",
	                           "3",
	                           "--timeout",
	                           "15",
	                           seq ? "--rtp-seq" : NULL,
	                           seq,
	                           NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	/* hold and resume both got 200, and the agent answered both */
	ck_assert_int_eq(itest_num(caller, "reinvites"), 2);
	ck_assert_int_eq(itest_num(caller, "reinvite_code"), 200);
	ck_assert_int_eq(itest_num(agent, "reinvites"), 2);
	/* 1 s before the hold and 0.5 s of hold give at most ~75 packets back: more means
	 * the echo came back after the resume, through the re-keyed agent leg */
	ck_assert_int_ge(itest_num(caller, "sent"), 130);
	ck_assert_int_ge(itest_num(caller, "ok"), 110);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "bad"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"security.") == NULL, "security event: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}

START_TEST(hold_and_resume_cross_to_the_agent_and_audio_resumes)
{
	hold_and_resume(NULL);
}
END_TEST

/*
 * Both peers' sequence numbers roll over (65500 + 36 packets) before the hold: the
 * re-INVITEs keep their keys, so every SRTP session keeps its rollover counter (RFC 3711
 * s3.3.1) and the audio after the resume still authenticates on both legs.
 */
START_TEST(hold_and_resume_after_the_sequence_rolls_over_keep_the_rollover_counter)
{
	hold_and_resume("65500");
}
END_TEST

START_TEST(reinvite_dropping_srtp_is_refused_and_the_call_keeps_its_keys)
{
	struct itest t;
	const char *agent_args[] = {"--mode",    "echo", "--calls",   "1",
	                            "--timeout", "20",   "--verbose", NULL};
	const char *call_args[] = {"--hold-after", "1",          "--reinvite-offer",
	                           "avp",          "--duration", "3",
	                           "--timeout",    "15",         NULL};
	json_t *caller, *agent, *start, *sec, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_eq(itest_num(caller, "reinvite_code"), 488);
	ck_assert_int_eq(itest_num(caller, "reinvites"), 0);
	/* the refused offer never reached the agent: it saw one INVITE only */
	ck_assert_int_eq(itest_num(agent, "reinvites"), 0);
	{
		char path[256];
		size_t len;
		char *log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
		int invites = 0;
		ck_assert_ptr_nonnull(log);
		for (char *p = strstr(log, "<<< INVITE "); p != NULL;
		     p = strstr(p + 1, "<<< INVITE "))
			invites++;
		free(log);
		ck_assert_int_eq(invites, 1);
	}
	/* the call went on, SRTP, intact, for its whole 3 s */
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_msg(strncmp(itest_str(caller, "suite"), "AE", 2) == 0, "suite %s",
	              itest_str(caller, "suite"));
	ck_assert_int_ge(itest_num(caller, "sent"), 130);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	start = itest_event(tel, "call.start");
	sec = itest_event(tel, "security.downgrade_refused");
	end = itest_event(tel, "call.end");
	ck_assert_msg(start && sec && end, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(sec, "call"), itest_str(start, "call"));
	ck_assert_int_eq(itest_num(sec, "sip_code"), 488);
	ck_assert_msg(strstr(tel, "\"security.downgrade_refused\"") < strstr(tel, "\"call.end\""),
	              "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(start);
	json_decref(sec);
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
	Suite *s = suite_create("call_reinvite");
	TCase *tc = tcase_create("reinvite");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hold_and_resume_cross_to_the_agent_and_audio_resumes);
	tcase_add_test(tc, hold_and_resume_after_the_sequence_rolls_over_keep_the_rollover_counter);
	tcase_add_test(tc, reinvite_dropping_srtp_is_refused_and_the_call_keeps_its_keys);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
