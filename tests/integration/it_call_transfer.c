/*
 * it_call_transfer: hand-off to a human (REFER from the agent, issue 10 item 1), end to
 * end with swpeer on both sides. In refer mode an allowed Refer-To becomes sipwarden's own
 * REFER on the trunk leg carrying the configured target, the trunk's NOTIFYs reach the
 * agent, and a successful transfer ends both legs (call.transfer, call.end "transferred").
 * Everything else is refused and the caller stays with the agent: a URI not on the
 * allow-list (403, security.transfer_refused), a trunk with transfer off (403, the
 * default), a trunk that declines the REFER (the agent hears of it in a NOTIFY), and
 * Refer-To values that try to smuggle headers or line breaks (403/400, nothing copied).
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000
#define MATCH     ITEST_XFER_MATCH
#define TARGET    ITEST_XFER_TARGET

static char tel[1 << 20];

/* The daemon with the trunk's transfer `mode` (NULL: not configured). */
static void
start(struct itest *t, const char *mode)
{
	itest_start_transfer(t, mode, 0, false);
}

/* One call: the agent REFERs to `refer_to`, the caller answers REFERs per `accept`
 * (NULL: 603) and hangs up after `dur` seconds unless sipwarden ends the call first. */
static void
one_call(struct itest *t, const char *refer_to, const char *accept, const char *dur,
         json_t **caller, json_t **agent)
{
	const char *call_args[] = {
	        "--duration", dur, "--timeout", "15", accept ? "--accept-refer" : NULL,
	        accept,       NULL};

	itest_refer_call(t, refer_to, "20", call_args, T_CALL_MS, caller, agent);
}

/* The agent's REFER was refused with `code` and nothing reached the trunk; the call
 * went on for its whole duration and the trunk ended it. */
static void
assert_refused(struct itest *t, int tfd, int code, const char *reason, json_t *caller,
               json_t *agent)
{
	json_t *sec, *end;

	ck_assert_int_eq(itest_num(agent, "refer_code"), code);
	ck_assert_int_eq(itest_num(caller, "refers"), 0);
	ck_assert_int_eq(itest_num(agent, "notifies"), 0);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_str_eq(itest_str(agent, "result"), "pass");
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	sec = itest_event(tel, "security.transfer_refused");
	end = itest_event(tel, "call.end");
	ck_assert_msg(sec != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(sec, "reason"), reason);
	ck_assert_int_eq(itest_num(sec, "sip_code"), code);
	ck_assert_str_eq(itest_str(sec, "agent"), "itest");
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_msg(strstr(tel, "\"call.transfer\"") == NULL, "telemetry: %s", tel);
	json_decref(sec);
	json_decref(end);
}

START_TEST(allowed_transfer_in_refer_mode_reaches_the_trunk_and_ends_the_call)
{
	struct itest t;
	json_t *caller, *agent, *xfer, *end;
	int tfd;

	start(&t, "refer");
	tfd = itest_telemetry_connect(&t);
	one_call(&t, MATCH, "200", "6", &caller, &agent);
	/* the trunk got sipwarden's REFER with the configured target, not the agent's URI */
	ck_assert_int_eq(itest_num(caller, "refers"), 1);
	ck_assert_str_eq(itest_str(caller, "refer_to"), "<" TARGET ">");
	/* the agent: 202, the trunk's progress relayed, then BYE from sipwarden */
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_ge(itest_num(agent, "notifies"), 2);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 200);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(caller, "ended_by"), "remote");
	ck_assert_int_lt(itest_num(caller, "setup_ms"), 6000);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "agent"), "itest");
	ck_assert_str_eq(itest_str(xfer, "target"), "sales");
	ck_assert_str_eq(itest_str(xfer, "mode"), "refer");
	ck_assert_str_eq(itest_str(xfer, "outcome"), "transferred");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 200);
	ck_assert_int_ge(itest_num(xfer, "answer_ms"), 0);
	ck_assert_str_eq(itest_str(end, "reason"), "transferred");
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_msg(strstr(tel, "\"security.") == NULL, "telemetry: %s", tel);
	json_decref(xfer);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(uri_not_on_the_allow_list_gets_403_and_the_call_goes_on)
{
	struct itest t;
	json_t *caller, *agent;
	int tfd;

	start(&t, "refer");
	tfd = itest_telemetry_connect(&t);
	one_call(&t, "<sip:+19005550100@premium.example>", "200", "3", &caller, &agent);
	assert_refused(&t, tfd, 403, "not_allowed", caller, agent);
	ck_assert_ptr_nonnull(strstr(tel, "+19005550100@premium.example"));
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(transfer_off_by_default_gets_403)
{
	struct itest t;
	json_t *caller, *agent;
	int tfd;

	start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	one_call(&t, MATCH, "200", "3", &caller, &agent);
	assert_refused(&t, tfd, 403, "transfer_off", caller, agent);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(trunk_declining_the_refer_leaves_the_caller_with_the_agent)
{
	struct itest t;
	json_t *caller, *agent, *xfer, *end;
	int tfd;

	start(&t, "refer");
	tfd = itest_telemetry_connect(&t);
	one_call(&t, MATCH, NULL, "3", &caller, &agent);
	ck_assert_int_eq(itest_num(caller, "refers"), 1);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 603);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_str_eq(itest_str(agent, "result"), "pass");
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "refused");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 603);
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(xfer);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(refer_to_injection_attempts_are_refused_with_nothing_copied)
{
	static const struct {
		const char *refer_to;
		int code;
		const char *reason;
	} cases[] = {
	        {"<sip:sales@agents.invalid?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>", 403,
	         "embedded_headers"},
	        {"<sip:sales%0D%0AX-Evil:%201@agents.invalid>", 400, "refer_to_invalid"},
	        {"<tel:+1555%0D%0A>", 400, "refer_to_invalid"},
	        {"<sip:sales@agents.invalid>, <sip:x@y.invalid>", 400, "refer_to_invalid"},
	        {NULL, 400, "refer_to_too_long"},
	};
	struct itest t;
	char longuri[1000];

	snprintf(longuri, sizeof(longuri), "<sip:%0900d@agents.invalid>", 0);
	start(&t, "refer");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *caller, *agent;
		int tfd = itest_telemetry_connect(&t);
		one_call(&t, cases[i].refer_to ? cases[i].refer_to : longuri, "200", "2", &caller,
		         &agent);
		assert_refused(&t, tfd, cases[i].code, cases[i].reason, caller, agent);
		json_decref(agent);
		json_decref(caller);
		itest_wait_no_calls(&t, 3000);
		close(tfd);
	}
	itest_stop(&t);
}
END_TEST

/* The trunk accepts the REFER but never reports a final status, and hangs up: the
 * attempt is still recorded (call.transfer "ended"), the agent was told of the progress,
 * and the call ends as an ordinary BYE from the trunk. */
START_TEST(call_ending_during_a_transfer_records_it_as_ended)
{
	struct itest t;
	json_t *caller, *agent, *xfer, *end;
	int tfd;

	start(&t, "refer");
	tfd = itest_telemetry_connect(&t);
	one_call(&t, MATCH, "180", "3", &caller, &agent);
	ck_assert_int_eq(itest_num(caller, "refers"), 1);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 180);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "ended");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 0);
	ck_assert(json_is_null(json_object_get(xfer, "answer_ms")));
	ck_assert_msg(strstr(tel, "\"call.transfer\"") < strstr(tel, "\"call.end\""), "%s", tel);
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(xfer);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

/* A transfer is the agent's to ask for: a REFER from the trunk gets 405 and nothing
 * reaches the agent, even for a URI on the allow-list. */
START_TEST(refer_from_the_trunk_gets_405)
{
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--duration", "2", "--timeout", "15", "--refer", MATCH, NULL};
	json_t *caller, *agent;
	pid_t ap;

	start(&t, "refer");
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "refer_code"), 405);
	ck_assert_int_eq(itest_num(agent, "refers"), 0);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}
END_TEST

/* REFER and NOTIFY outside any call keep the answer they had before transfers existed:
 * 405 with Allow (no standalone REFER, no subscriptions). */
START_TEST(refer_and_notify_outside_a_call_get_405)
{
	static const char *const methods[] = {"REFER", "NOTIFY"};
	struct itest t;
	struct itest_conn *c;
	char req[1024], resp[4096], allow[256];

	start(&t, "refer");
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	for (unsigned i = 0; i < 2; i++) {
		itest_request(req, sizeof(req), methods[i], "xfer-none", i + 1);
		ck_assert_int_eq(itest_send_str(c, req), 0);
		ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 5000), 0);
		ck_assert_int_eq(itest_status(resp), 405);
		ck_assert_ptr_nonnull(itest_header(resp, "Allow", allow, sizeof(allow)));
		ck_assert_ptr_null(strstr(allow, "REFER"));
	}
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* An agent that called out (leg A) hands its callee on the trunk (leg B) over too. */
START_TEST(agent_calling_out_transfers_through_the_trunk)
{
	struct itest t;
	uint16_t tport = itest_port();
	json_t *agent, *carrier, *xfer, *end;
	pid_t cp;
	int tfd;

	itest_start_transfer(&t, "refer", tport, true);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(&t, tport,
	                   (const char *const[]){"--calls", "1", "--timeout", "20",
	                                         "--accept-refer", "200", NULL});
	const char *const aargv[] = {"--duration", "6", "--refer", MATCH, NULL};
	ck_assert_int_ge(
	        itest_wait_child(itest_agent_call_spawn(&t, "agent.json", "+15550001", aargv),
	                         T_CALL_MS),
	        0);
	ck_assert_int_ge(itest_wait_child(cp, 10000), 0);
	agent = itest_result(&t, "agent.json");
	carrier = itest_result(&t, "carrier.json");
	ck_assert_int_eq(itest_num(carrier, "refers"), 1);
	ck_assert_str_eq(itest_str(carrier, "refer_to"), "<" TARGET ">");
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 200);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(carrier, "ended_by"), "remote");

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "transferred");
	ck_assert_str_eq(itest_str(xfer, "agent"), "itest");
	ck_assert_str_eq(itest_str(end, "reason"), "transferred");
	json_decref(xfer);
	json_decref(end);
	json_decref(agent);
	json_decref(carrier);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_transfer");
	TCase *tc = tcase_create("transfer");
	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, transfer_off_by_default_gets_403);
	tcase_add_test(tc, allowed_transfer_in_refer_mode_reaches_the_trunk_and_ends_the_call);
	tcase_add_test(tc, uri_not_on_the_allow_list_gets_403_and_the_call_goes_on);
	tcase_add_test(tc, trunk_declining_the_refer_leaves_the_caller_with_the_agent);
	tcase_add_test(tc, refer_to_injection_attempts_are_refused_with_nothing_copied);
	tcase_add_test(tc, agent_calling_out_transfers_through_the_trunk);
	tcase_add_test(tc, refer_and_notify_outside_a_call_get_405);
	tcase_add_test(tc, refer_from_the_trunk_gets_405);
	tcase_add_test(tc, call_ending_during_a_transfer_records_it_as_ended);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
