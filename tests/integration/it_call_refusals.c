/*
 * it_call_refusals: what sipwarden refuses at call set-up, end to end. A plain RTP/AVP
 * offer or a weak SRTP offer from a trunk that is not legacy gets 488 with a Warning
 * naming the reason and a security.offer_refused event, and never reaches an agent; an
 * agent that answers with plain RTP gets ACK and BYE while the trunk gets 488; a trunk
 * marked legacy_rtp may send plain RTP, and the agent leg still runs SRTP.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* A 488 with `Warning: 399 host "text"`; returns the caller's result (owned). */
static json_t *
assert_488_with_warning(const struct itest *t, const char *out)
{
	json_t *caller = itest_result(t, out);
	const char *w;

	ck_assert_int_eq(itest_num(caller, "code"), 488);
	w = itest_str(caller, "warning");
	ck_assert_msg(strncmp(w, "399 ", 4) == 0, "warning: %s", w);
	ck_assert_msg(strchr(w, '"') != NULL && w[strlen(w) - 1] == '"' &&
	                      strchr(w, '"') < w + strlen(w) - 2,
	              "warning without a quoted text: %s", w);
	return caller;
}

/* Telemetry holds one security.offer_refused with sip_code 488 and returns its reason
 * (static copy); `want`, when not NULL, is the reason expected; `warning`, when not
 * NULL, is the Warning the trunk got, whose text must be the event's detail. */
static const char *
assert_offer_refused(const char *want, const char *warning)
{
	static char reason[64];
	json_t *sec = itest_event(tel, "security.offer_refused");

	ck_assert_msg(sec != NULL, "no security.offer_refused in: %s", tel);
	ck_assert_int_eq(itest_num(sec, "sip_code"), 488);
	snprintf(reason, sizeof(reason), "%s", itest_str(sec, "reason"));
	if (want != NULL)
		ck_assert_str_eq(reason, want);
	if (warning != NULL) {
		/* the Warning's quoted text is the refusal the security event records */
		const char *q = strchr(warning, '"');
		const char *detail = itest_str(sec, "detail");
		ck_assert_ptr_nonnull(q);
		ck_assert_msg(strncmp(q + 1, detail, strlen(detail)) == 0 &&
		                      q[1 + strlen(detail)] == '"',
		              "Warning %s does not carry the reason %s", warning, detail);
	}
	json_decref(sec);
	return reason;
}

/* The trunk offer itself is refused: no call is created, no agent is asked. */
static void
trunk_offer_refused(const char *offer, const char *want_reason, const char *want_reason2)
{
	struct itest t;
	const char *agent_args[] = {"--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--offer", offer, "--expect", "488", "--timeout", "10", NULL};
	json_t *caller;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	caller = assert_488_with_warning(&t, "caller.json");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.offer_refused\"", 5000);
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 300); /* anything after it */
	const char *reason = assert_offer_refused(NULL, itest_str(caller, "warning"));
	ck_assert_msg(strcmp(reason, want_reason) == 0 ||
	                      (want_reason2 != NULL && strcmp(reason, want_reason2) == 0),
	              "reason %s", reason);
	ck_assert_msg(strstr(tel, "\"call.start\"") == NULL, "a call was created: %s", tel);
	ck_assert_msg(strstr(tel, "\"call.answer\"") == NULL, "a call was answered: %s", tel);
	itest_kill_child(ap);
	json_t *agent_calls = itest_results(&t, "agent.json");
	ck_assert_msg(json_array_size(agent_calls) == 0, "the agent got a call");
	json_decref(agent_calls);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}

START_TEST(plain_rtp_offer_from_trunk_gets_488_and_security_event_without_call)
{
	trunk_offer_refused("avp", "no_srtp", NULL);
}
END_TEST

START_TEST(weak_srtp_offer_from_trunk_gets_488_and_security_event_without_call)
{
	/* session parameters switching protection off, and F8: weak or not enabled */
	trunk_offer_refused("savp-weak", "weak_suite", "no_acceptable_suite");
}
END_TEST

START_TEST(agent_answering_plain_rtp_gets_ack_and_bye_and_trunk_gets_488)
{
	struct itest t;
	const char *agent_args[] = {"--mode",    "answer-plain", "--calls",   "1",
	                            "--timeout", "20",           "--verbose", NULL};
	char path[256];
	size_t len;
	char *log;
	const char *call_args[] = {"--expect", "488", "--timeout", "10", NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	/* the agent's only call ends (it exits after --calls 1): it got ACK and BYE */
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = assert_488_with_warning(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	/* it answered (plain), then sipwarden acknowledged and hung up at once */
	log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	char *ack = strstr(log, "<<< ACK "), *bye = strstr(log, "<<< BYE ");
	ck_assert_msg(ack != NULL && bye != NULL && ack < bye, "agent saw no ACK then BYE");
	free(log);
	ck_assert_int_eq(itest_num(agent, "code"), 200);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(agent, "suite"), "plain");

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_str_eq(assert_offer_refused(NULL, NULL), "no_srtp");
	ck_assert_msg(strstr(tel, "\"call.answer\"") == NULL, "a call was answered: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "refused");
	ck_assert_int_eq(itest_num(end, "sip_code"), 488);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(legacy_trunk_plain_rtp_is_bridged_to_srtp_on_the_agent_leg)
{
	struct itest t;
	struct itest_opts o = {.trunk_extra = "legacy_rtp = yes\n"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--offer", "avp", "--duration", "2", NULL};
	json_t *caller, *agent, *ans;
	pid_t ap;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "suite"), "plain");
	ck_assert_int_ge(itest_num(caller, "sent"), 80);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	/* the agent leg is SRTP all the same, and authenticated every packet */
	ck_assert_msg(strncmp(itest_str(agent, "suite"), "AES", 3) == 0 ||
	                      strncmp(itest_str(agent, "suite"), "AEAD", 4) == 0,
	              "agent suite: %s", itest_str(agent, "suite"));
	ck_assert_int_ge(itest_num(agent, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"security.offer_refused\"") == NULL, "telemetry: %s", tel);
	ans = itest_event(tel, "call.answer");
	ck_assert_msg(ans != NULL, "no call.answer: %s", tel);
	json_t *suites = json_object_get(ans, "suites");
	ck_assert_msg(json_is_string(json_object_get(suites, "agent")), "telemetry: %s", tel);
	ck_assert_msg(strncmp(json_string_value(json_object_get(suites, "agent")), "AE", 2) == 0,
	              "telemetry: %s", tel);
	json_decref(ans);
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
	Suite *s = suite_create("call_refusals");
	TCase *tc = tcase_create("refusals");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, plain_rtp_offer_from_trunk_gets_488_and_security_event_without_call);
	tcase_add_test(tc, weak_srtp_offer_from_trunk_gets_488_and_security_event_without_call);
	tcase_add_test(tc, agent_answering_plain_rtp_gets_ack_and_bye_and_trunk_gets_488);
	tcase_add_test(tc, legacy_trunk_plain_rtp_is_bridged_to_srtp_on_the_agent_leg);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
