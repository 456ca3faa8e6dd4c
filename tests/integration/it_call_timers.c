/*
 * it_call_timers: sipwarden ends answered calls on its own. When one side (agent or
 * trunk) stops sending authenticated media for [media] inactivity_timeout, and when a
 * call reaches max_call_duration, both legs get a BYE from sipwarden (neither peer hangs
 * up), and the record says why (media_timeout, max_duration) and when. The 60 s call
 * outlives the harness's 30 s [tls] idle_timeout with no SIP traffic on either leg: the
 * connections of a call in progress must stay open, or the BYE could not be sent.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

/* swpeer --verbose log DIR/<name>: did that peer receive / send a BYE? */
static void
assert_bye(const struct itest *t, const char *name, bool received, bool sent)
{
	char path[256];
	size_t len;
	char *log = itest_read_file(itest_path(t, name, path, sizeof(path)), &len);

	ck_assert_msg(log != NULL, "no %s", name);
	ck_assert_msg((strstr(log, "<<< BYE sip:") != NULL) == received, "%s: BYE %sreceived", name,
	              received ? "not " : "");
	ck_assert_msg((strstr(log, ">>> BYE sip:") != NULL) == sent, "%s: BYE %ssent", name,
	              sent ? "not " : "");
	free(log);
}

/* Assert a caller or callee result: 200, pass (the pattern intact up to the end). */
static void
assert_pass(const struct itest *t, const char *name)
{
	json_t *r = itest_result(t, name);

	ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 200);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "result")), "pass") == 0,
	              "%s: %s", name, json_string_value(json_object_get(r, "why")));
	ck_assert_int_gt(json_integer_value(json_object_get(r, "ok")), 20);
	json_decref(r);
}

/* Read telemetry until call.end; check ended_by/reason/outcome; return duration_ms. */
static json_int_t
call_end(int tfd, const char *reason, const char *outcome, int timeout_ms)
{
	static char tel[1 << 20];
	json_t *end;
	json_int_t d;

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", timeout_ms);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(json_string_value(json_object_get(end, "ended_by")), "sipwarden");
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), reason);
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), outcome);
	ck_assert_int_eq(json_integer_value(json_object_get(end, "sip_code")), 200);
	d = json_integer_value(json_object_get(end, "duration_ms"));
	json_decref(end);
	return d;
}

/*
 * Run one call (agent and caller with these arguments, the caller given caller_ms) on a
 * daemon started with `o`, and check that sipwarden ended it: call.end with `reason` and
 * `outcome`, a duration in [lo_ms, hi_ms], a BYE received (none sent) on both legs, both
 * peers' results pass. Returns the milliseconds the caller ran.
 */
static int64_t
call_ended_by_sipwarden(const struct itest_opts *o, const char *const agent_args[],
                        const char *const call_args[], int caller_ms, const char *reason,
                        const char *outcome, json_int_t lo_ms, json_int_t hi_ms)
{
	struct itest t;
	json_int_t d;
	int64_t t0, ran;
	pid_t ap;
	int tfd;

	itest_start(&t, o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	t0 = itest_now_ms();
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, caller_ms), 0);
	ran = itest_now_ms() - t0;
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);

	d = call_end(tfd, reason, outcome, 5000);
	ck_assert_msg(d >= lo_ms && d <= hi_ms, "call lasted %lld ms", (long long)d);
	assert_bye(&t, "caller.json.log", true, false);
	assert_bye(&t, "agent.log", true, false);
	assert_pass(&t, "caller.json");
	assert_pass(&t, "agent.json");
	close(tfd);
	itest_stop(&t);
	return ran;
}

START_TEST(silent_agent_leg_ends_the_call_with_bye_on_both_legs_after_inactivity_timeout)
{
	struct itest_opts o = {.media_extra = "inactivity_timeout = 2s\n"};
	/* the agent plays its pattern for 1 s after the ACK, then goes silent; the caller
	 * keeps sending and would hang up only after 20 s */
	const char *agent_args[] = {"--mode",    "pattern", "--media-stop-after", "1",
	                            "--calls",   "1",       "--timeout",          "40",
	                            "--verbose", NULL};
	const char *call_args[] = {"--calls",      "1",       "--duration", "20",
	                           "--peer-media", "pattern", "--verbose",  NULL};
	/* 1 s of media, then 2 s of silence, noticed on the media engine's 1 s tick */
	ck_assert_int_lt(call_ended_by_sipwarden(&o, agent_args, call_args, 15000, "media_timeout",
	                                         "timeout", 2800, 5500),
	                 10000);
}
END_TEST

START_TEST(silent_trunk_leg_ends_the_call_with_bye_on_both_legs_after_inactivity_timeout)
{
	struct itest_opts o = {.media_extra = "inactivity_timeout = 2s\n"};
	/* now the caller goes silent after 1 s while the agent keeps playing */
	const char *agent_args[] = {"--mode",    "pattern", "--calls",   "1",
	                            "--timeout", "40",      "--verbose", NULL};
	const char *call_args[] = {"--calls",      "1",       "--duration",         "20",
	                           "--peer-media", "pattern", "--media-stop-after", "1",
	                           "--verbose",    NULL};
	call_ended_by_sipwarden(&o, agent_args, call_args, 10000, "media_timeout", "timeout", 2800,
	                        5500);
}
END_TEST

START_TEST(call_reaching_max_call_duration_is_ended_with_bye_on_both_legs)
{
	/* 1m is the smallest max_call_duration the config accepts */
	struct itest_opts o = {.media_extra = "max_call_duration = 1m\n"};
	const char *agent_args[] = {"--mode",    "echo", "--calls",   "1",
	                            "--timeout", "100",  "--verbose", NULL};
	const char *call_args[] = {"--calls",   "1",   "--duration", "80",
	                           "--timeout", "100", "--verbose",  NULL};
	call_ended_by_sipwarden(&o, agent_args, call_args, 75000, "max_duration", "completed",
	                        59900, 61500);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_timers");
	TCase *tc = tcase_create("timers");
	tcase_set_timeout(tc, 150);
	tcase_add_test(
	        tc, silent_agent_leg_ends_the_call_with_bye_on_both_legs_after_inactivity_timeout);
	tcase_add_test(
	        tc, silent_trunk_leg_ends_the_call_with_bye_on_both_legs_after_inactivity_timeout);
	tcase_add_test(tc, call_reaching_max_call_duration_is_ended_with_bye_on_both_legs);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
