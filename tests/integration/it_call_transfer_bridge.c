/*
 * it_call_transfer_bridge: hand-off to a human in bridge mode (issue 10 item 1), end to
 * end with swpeer on every side: the trunk's caller, the agent (echo, REFERs 0.5 s after
 * answer) and a carrier at the trunk's target playing the person called. An allowed
 * REFER makes sipwarden call the configured target itself (TLS, SRTP, keys of its own,
 * the caller's identity); on answer the caller's media moves to that call (both ends
 * verify every packet with their own keys), the agent gets NOTIFY 200 and BYE, and
 * call.end records the human leg. A busy human leaves the caller with the agent (media
 * still flowing, NOTIFY 486 to the agent); a URI not on the allow-list gets 403 and calls
 * nobody; the caller hanging up while the human rings cancels that call; a human
 * answering without SRTP is hung up on (security.offer_refused) and the caller stays;
 * nobody at the trunk's target fails at once; an agent calling out bridges its callee.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 25000
#define MATCH     ITEST_XFER_MATCH
#define TARGET    ITEST_XFER_TARGET

static char tel[1 << 20];

/*
 * Each case's set-up: the daemon with the trunk in bridge mode (telemetry connected into
 * *tfd), a carrier playing the person called at the trunk's target, run with
 * `carrier_args` (NULL: nobody listens there), and one call: the agent REFERs to
 * `refer_to`, the caller talks for `dur` seconds. Returns the carrier's pid (0: none).
 */
static pid_t
bridge_call(struct itest *t, int *tfd, const char *const carrier_args[], const char *refer_to,
            const char *dur, json_t **caller, json_t **agent)
{
	const char *call_args[] = {"--duration", dur, "--timeout", "20", NULL};
	uint16_t tport = itest_port();
	pid_t cp = 0;

	itest_start_transfer(t, "bridge", tport, false);
	*tfd = itest_telemetry_connect(t);
	if (carrier_args != NULL)
		cp = itest_carrier(t, tport, carrier_args);
	itest_refer_call(t, refer_to, "25", call_args, T_CALL_MS, caller, agent);
	return cp;
}

/* The human's call result, once the carrier `cp` has exited. */
static json_t *
human_result(struct itest *t, pid_t cp)
{
	ck_assert_int_ge(itest_wait_child(cp, 10000), 0);
	return itest_result(t, "carrier.json");
}

/* The telemetry stream up to call.end, into tel. */
static void
read_to_call_end(int tfd)
{
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
}

/* Each case's end: the results dropped, no call left, the daemon stopped. */
static void
finish(struct itest *t, int tfd, json_t *caller, json_t *agent)
{
	json_decref(agent);
	json_decref(caller);
	itest_assert_no_calls(t);
	close(tfd);
	itest_stop(t);
}

static bool
file_has(const struct itest *t, const char *name, const char *what)
{
	char path[256], buf[65536];
	FILE *f = fopen(itest_path(t, name, path, sizeof(path)), "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

START_TEST(answered_bridge_moves_the_caller_to_the_human_and_hangs_up_on_the_agent)
{
	struct itest t;
	json_t *caller, *agent, *human, *xfer, *end, *legs;
	pid_t cp;
	int tfd;

	cp = bridge_call(&t, &tfd,
	                 (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "30",
	                                       "--verbose",
	                                       /* it joins the caller's stream mid-way: the
	                                          packets the agent had count as missing */
	                                       "--max-loss", "40",
	                                       /* and tries to transfer the caller on */
	                                       "--refer", MATCH, NULL},
	                 MATCH, "6", &caller, &agent);
	human = human_result(&t, cp);

	/* the agent: 202, NOTIFY 100 then 200, then sipwarden's BYE */
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_ge(itest_num(agent, "notifies"), 2);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 200);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	/* the human answered sipwarden's own call and verified what came with its keys */
	ck_assert_int_eq(itest_num(human, "code"), 200);
	ck_assert_int_ge(itest_num(human, "received"), 100);
	ck_assert_int_ge(itest_num(human, "ok"), itest_num(human, "received") - 2);
	ck_assert_int_eq(itest_num(human, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(human, "bad"), 0);
	ck_assert_str_eq(itest_str(human, "ended_by"), "remote");
	ck_assert_int_eq(itest_num(human, "refer_code"), 405); /* a transfer is the agent's */
	{
		char *dump = json_dumps(human, 0);
		ck_assert_msg(strcmp(itest_str(human, "result"), "pass") == 0, "human: %s", dump);
		free(dump);
	}
	/* the caller's pattern came back intact all along: from the agent, then the human;
	 * the agent stopped receiving at the move */
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "sent"), 250);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 6);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	ck_assert_int_lt(itest_num(agent, "received"), itest_num(caller, "sent") - 100);
	/* every leg its own keys: the human's are neither the caller's nor the agent's */
	{
		const char *k[6] = {
		        itest_str(caller, "local_key_hash"), itest_str(caller, "remote_key_hash"),
		        itest_str(agent, "local_key_hash"),  itest_str(agent, "remote_key_hash"),
		        itest_str(human, "local_key_hash"),  itest_str(human, "remote_key_hash")};
		for (int i = 0; i < 6; i++)
			for (int j = i + 1; j < 6; j++)
				ck_assert_msg(strcmp(k[i], k[j]) != 0,
				              "keys %d and %d are the same", i, j);
	}
	/* the INVITE the human got: the configured target, the caller's identity */
	ck_assert_msg(file_has(&t, "carrier.log", "INVITE " TARGET), "no INVITE to the target");
	ck_assert_msg(file_has(&t, "carrier.log", "From: <sip:swpeer-"), "caller not presented");

	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "mode"), "bridge");
	ck_assert_str_eq(itest_str(xfer, "target"), "sales");
	ck_assert_str_eq(itest_str(xfer, "agent"), "itest");
	ck_assert_str_eq(itest_str(xfer, "outcome"), "transferred");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 200);
	ck_assert_int_ge(itest_num(xfer, "answer_ms"), 0);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	legs = json_object_get(end, "legs");
	ck_assert_msg(json_is_object(json_object_get(legs, "human")), "telemetry: %s", tel);
	ck_assert_msg(json_is_string(json_object_get(json_object_get(legs, "human"), "suite")),
	              "telemetry: %s", tel);
	ck_assert_msg(json_is_object(json_object_get(legs, "agent")), "telemetry: %s", tel);
	/* nothing refused or forged (the agent, gone after its BYE, fails health probes) */
	ck_assert_msg(strstr(tel, "\"security.offer_refused\"") == NULL &&
	                      strstr(tel, "\"security.peer_unknown\"") == NULL,
	              "telemetry: %s", tel);
	json_decref(xfer);
	json_decref(end);
	json_decref(human);
	finish(&t, tfd, caller, agent);
}
END_TEST

START_TEST(busy_human_leaves_the_caller_with_the_agent)
{
	struct itest t;
	json_t *caller, *agent, *human, *xfer, *end;
	pid_t cp;
	int tfd;

	cp = bridge_call(&t, &tfd,
	                 (const char *const[]){"--mode", "reject=486", "--calls", "1", "--timeout",
	                                       "30", NULL},
	                 MATCH, "4", &caller, &agent);
	human = human_result(&t, cp);

	ck_assert_int_eq(itest_num(human, "code"), 486);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 486);
	/* the caller stayed with the agent: its media kept coming back, both talked to the
	 * end, and the caller's BYE reached the agent */
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_ge(itest_num(agent, "received"), itest_num(caller, "sent") - 2);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_str_eq(itest_str(agent, "result"), "pass");

	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "mode"), "bridge");
	ck_assert_str_eq(itest_str(xfer, "outcome"), "refused");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 486);
	ck_assert(json_is_null(json_object_get(xfer, "answer_ms")));
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	ck_assert_str_eq(itest_str(end, "agent"), "itest");
	json_decref(xfer);
	json_decref(end);
	json_decref(human);
	finish(&t, tfd, caller, agent);
}
END_TEST

/* Negative: a Refer-To that is not on the allow-list gets 403 in bridge mode too, and
 * sipwarden calls nobody (the carrier sees no INVITE). */
START_TEST(uri_not_on_the_allow_list_gets_403_and_calls_nobody)
{
	struct itest t;
	json_t *caller, *agent, *sec;
	pid_t cp;
	int tfd;

	cp = bridge_call(&t, &tfd,
	                 (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "6",
	                                       "--verbose", NULL},
	                 "<sip:+19005550100@premium.example>", "3", &caller, &agent);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 403);
	ck_assert_int_eq(itest_num(agent, "notifies"), 0);
	{
		char *dump = json_dumps(caller, 0);
		ck_assert_msg(strcmp(itest_str(caller, "result"), "pass") == 0, "caller: %s", dump);
		free(dump);
	}
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	read_to_call_end(tfd);
	sec = itest_event(tel, "security.transfer_refused");
	ck_assert_msg(sec != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(sec, "reason"), "not_allowed");
	ck_assert_msg(strstr(tel, "\"call.transfer\"") == NULL, "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "\"human\"") == NULL, "telemetry: %s", tel);
	itest_kill_child(cp);
	ck_assert_msg(!file_has(&t, "carrier.log", "INVITE "), "the carrier was called");
	json_decref(sec);
	finish(&t, tfd, caller, agent);
}
END_TEST

/* The caller hangs up while the human's phone rings: that call is cancelled, the
 * attempt recorded as "ended", and the call ends as an ordinary BYE from the trunk. */
START_TEST(caller_hanging_up_while_the_human_rings_cancels_the_bridge_call)
{
	struct itest t;
	json_t *caller, *agent, *human, *xfer, *end;
	pid_t cp;
	int tfd;

	cp = bridge_call(&t, &tfd,
	                 (const char *const[]){"--mode", "noanswer", "--calls", "1", "--timeout",
	                                       "30", NULL},
	                 MATCH, "3", &caller, &agent);
	human = human_result(&t, cp);
	ck_assert_int_eq(itest_num(human, "code"), 487);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "ended");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(xfer);
	json_decref(end);
	json_decref(human);
	finish(&t, tfd, caller, agent);
}
END_TEST

/* Negative: the human answers without SRTP (plain RTP/AVP): the answer is policed like
 * any other, so that call gets ACK and BYE, security.offer_refused, the agent NOTIFY 488,
 * and the caller stays with the agent with its media untouched. */
START_TEST(human_answering_without_srtp_is_hung_up_on_and_the_caller_stays)
{
	struct itest t;
	json_t *caller, *agent, *human, *xfer, *sec;
	pid_t cp;
	int tfd;

	cp = bridge_call(&t, &tfd,
	                 (const char *const[]){"--mode", "answer-plain", "--calls", "1",
	                                       "--timeout", "30", NULL},
	                 MATCH, "4", &caller, &agent);
	human = human_result(&t, cp);
	ck_assert_str_eq(itest_str(human, "ended_by"), "remote");
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 488);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	sec = itest_event(tel, "security.offer_refused");
	ck_assert_msg(xfer != NULL && sec != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "failed");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 488);
	ck_assert_int_eq(itest_num(sec, "sip_code"), 488);
	json_decref(sec);
	json_decref(xfer);
	json_decref(human);
	finish(&t, tfd, caller, agent);
}
END_TEST

/* Nobody listens at the trunk's target: the connection fails at once, the agent hears
 * 503 while the call goes on (not after [sip] transaction_timeout), the caller stays. */
START_TEST(unreachable_trunk_target_leaves_the_caller_with_the_agent)
{
	struct itest t;
	json_t *caller, *agent, *xfer;
	int tfd;

	bridge_call(&t, &tfd, NULL, MATCH, "3", &caller, &agent); /* no carrier there */
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 503);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "local");
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	ck_assert_msg(xfer != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "outcome"), "failed");
	ck_assert_int_eq(itest_num(xfer, "sip_code"), 503);
	json_decref(xfer);
	finish(&t, tfd, caller, agent);
}
END_TEST

/* An agent that called out (leg A) hands its callee (leg B, on the trunk) to a person
 * reached through the same trunk: the callee's media moves, the agent is hung up on, and
 * the person called sees the callee's number. The carrier plays both (two calls), silent
 * so that no media loops between them once they are bridged. */
START_TEST(agent_calling_out_bridges_its_callee_to_a_human)
{
	struct itest t;
	uint16_t tport = itest_port();
	json_t *agent, *calls, *callee, *human, *xfer, *end;
	pid_t cp;
	int tfd;

	itest_start_transfer(&t, "bridge", tport, true);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(&t, tport,
	                   (const char *const[]){"--mode", "silent", "--calls", "2", "--timeout",
	                                         "30", "--bye-after", "4", "--verbose", NULL});
	const char *const aargv[] = {"--duration", "8", "--peer-media", "none", "--refer",
	                             MATCH,        NULL};
	ck_assert_int_ge(
	        itest_wait_child(itest_agent_call_spawn(&t, "agent.json", "+15550001", aargv),
	                         T_CALL_MS),
	        0);
	ck_assert_int_ge(itest_wait_child(cp, 15000), 0);
	agent = itest_result(&t, "agent.json");
	calls = itest_results(&t, "carrier.json");
	ck_assert_uint_eq(json_array_size(calls), 2);
	callee = json_array_get(calls, 0);
	human = json_array_get(calls, 1);
	ck_assert_int_eq(itest_num(agent, "refer_code"), 202);
	ck_assert_int_eq(itest_num(agent, "notify_code"), 200);
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_int_eq(itest_num(callee, "code"), 200);
	ck_assert_int_eq(itest_num(human, "code"), 200);
	/* the callee hung up (--bye-after) while talking to the human: the human got BYE */
	ck_assert_str_eq(itest_str(callee, "ended_by"), "local");
	ck_assert_str_eq(itest_str(human, "ended_by"), "remote");
	ck_assert_str_ne(itest_str(human, "remote_key_hash"), itest_str(callee, "remote_key_hash"));
	ck_assert_msg(file_has(&t, "carrier.log", "From: <sip:+15550001@"),
	              "the callee's number was not presented");

	read_to_call_end(tfd);
	xfer = itest_event(tel, "call.transfer");
	end = itest_event(tel, "call.end");
	ck_assert_msg(xfer != NULL && end != NULL, "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(xfer, "mode"), "bridge");
	ck_assert_str_eq(itest_str(xfer, "outcome"), "transferred");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_msg(json_is_object(json_object_get(json_object_get(end, "legs"), "human")),
	              "telemetry: %s", tel);
	json_decref(xfer);
	json_decref(end);
	json_decref(calls);
	json_decref(agent);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_transfer_bridge");
	TCase *tc = tcase_create("bridge");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, answered_bridge_moves_the_caller_to_the_human_and_hangs_up_on_the_agent);
	tcase_add_test(tc, busy_human_leaves_the_caller_with_the_agent);
	tcase_add_test(tc, uri_not_on_the_allow_list_gets_403_and_calls_nobody);
	tcase_add_test(tc, caller_hanging_up_while_the_human_rings_cancels_the_bridge_call);
	tcase_add_test(tc, human_answering_without_srtp_is_hung_up_on_and_the_caller_stays);
	tcase_add_test(tc, unreachable_trunk_target_leaves_the_caller_with_the_agent);
	tcase_add_test(tc, agent_calling_out_bridges_its_callee_to_a_human);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
