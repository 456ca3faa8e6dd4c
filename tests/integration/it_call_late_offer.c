/*
 * it_call_late_offer: INVITEs and re-INVITEs without SDP (late offer, RFC 3261 s13.2.1).
 * swpeer on both sides: the caller sends no offer, the agent gets an INVITE without one
 * and offers in its 200, the caller gets sipwarden's own offer in the 200 and answers in
 * the ACK, and the agent gets sipwarden's answer in the ACK. Media must cross both ways
 * intact on four different keys. An unacceptable answer in the ACK (plain RTP, or none)
 * ends the call with a BYE on both legs and security.offer_refused. The same for an
 * agent calling out, and for an offerless re-INVITE in a running call.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 30000

/* The four key hashes of a call seen by its two swpeers all differ: keys never left
 * their leg (caller's and agent's own keys, and what each got from sipwarden). */
static void
assert_four_keys(json_t *caller, json_t *agent)
{
	const char *k[4] = {
	        itest_str(caller, "local_key_hash"), itest_str(caller, "remote_key_hash"),
	        itest_str(agent, "remote_key_hash"), itest_str(agent, "local_key_hash")};

	for (int i = 0; i < 4; i++) {
		ck_assert_str_ne(k[i], "-");
		for (int j = i + 1; j < 4; j++)
			ck_assert_msg(strcmp(k[i], k[j]) != 0, "keys %d and %d are the same", i, j);
	}
}

static void
assert_media_both_ways(json_t *caller, json_t *agent)
{
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_str_eq(itest_str(agent, "result"), "pass");
	ck_assert_int_ge(itest_num(caller, "sent"), 80);
	/* echo: what the caller sent came back through the agent, decrypted and checked */
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_ge(itest_num(agent, "ok"), 80);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);
}

START_TEST(offerless_invite_from_trunk_gets_our_offer_and_media_flows_on_fresh_keys)
{
	static char tel[1 << 20];
	struct itest t;
	json_t *caller, *agent, *ans, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, (const char *const[]){"--mode", "echo", "--calls", "1", NULL});
	int rc = itest_caller(&t, "caller.json",
	                      (const char *const[]){"--offer", "none", "--duration", "2", NULL},
	                      T_CALL_MS);
	itest_check_exit(&t, rc, "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_media_both_ways(caller, agent);
	assert_four_keys(caller, agent);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ans = itest_event(tel, "call.answer");
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(ans);
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "completed");
	ck_assert_int_eq(itest_count_events(tel, "security.offer_refused", NULL), 0);
	json_decref(ans);
	json_decref(end);
	json_decref(caller);
	json_decref(agent);
	itest_stop(&t);
}
END_TEST

/* The caller answers our offer in its ACK with `ack_answer` (avp, none): refused. */
static void
refused_answer_in_ack(const char *ack_answer, const char *reason)
{
	static char tel[1 << 20];
	struct itest t;
	json_t *caller, *agent, *ev, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, (const char *const[]){"--mode", "echo", "--calls", "1", NULL});
	/* the caller does not hang up itself: only sipwarden's BYE ends its call */
	int rc = itest_caller(&t, "caller.json",
	                      (const char *const[]){"--offer", "none", "--ack-answer", ack_answer,
	                                            "--duration", "20", "--timeout", "15", NULL},
	                      T_CALL_MS);
	itest_check_exit(&t, rc, "caller.json");
	itest_wait_child(ap, 10000);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "ended_by"), "remote");
	/* the agent got its ACK (without an answer: nothing acceptable to relay), then BYE */
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_str_eq(itest_str(agent, "why"), "ACK without an answer to our offer");
	ck_assert_int_eq(itest_num(agent, "ok"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ev = itest_event(tel, "security.offer_refused");
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), reason);
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "refused");
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "offer_refused");
	ck_assert_str_eq(json_string_value(json_object_get(end, "ended_by")), "sipwarden");
	ck_assert_ptr_null(itest_event(tel, "call.answer"));
	json_decref(ev);
	json_decref(end);
	json_decref(caller);
	json_decref(agent);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}

START_TEST(plain_rtp_answer_in_ack_ends_the_call_with_bye_on_both_legs)
{
	refused_answer_in_ack("avp", "no_srtp");
}
END_TEST

START_TEST(ack_without_answer_ends_the_call_with_bye_on_both_legs)
{
	refused_answer_in_ack("none", "no_answer");
}
END_TEST

START_TEST(plain_rtp_offer_in_the_agents_200_is_refused_with_488_and_bye)
{
	static char tel[1 << 20];
	struct itest t;
	json_t *caller, *agent, *ev;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, (const char *const[]){"--mode", "answer-plain", "--calls", "1", NULL});
	int rc = itest_caller(&t, "caller.json",
	                      (const char *const[]){"--offer", "none", "--expect", "488", NULL},
	                      T_CALL_MS);
	itest_check_exit(&t, rc, "caller.json");
	itest_wait_child(ap, 10000);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 488);
	/* the agent's 2xx got its ACK (no answer to a refused offer), then a BYE */
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	ck_assert_int_eq(itest_num(agent, "ok"), 0);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ev = itest_event(tel, "security.offer_refused");
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "no_srtp");
	ck_assert_ptr_null(itest_event(tel, "call.answer"));
	json_decref(ev);
	json_decref(caller);
	json_decref(agent);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(no_ack_to_our_offer_ends_the_call_with_bye_on_both_legs)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.sip_extra = "transaction_timeout = 1s\n"};
	struct itest_conn *c;
	char req[1024], msg[8192], v[256];
	json_t *agent, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, (const char *const[]){"--mode", "echo", "--calls", "1", NULL});
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	snprintf(req, sizeof(req),
	         "INVITE sip:agent@127.0.0.1 SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKlate1\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:itest@127.0.0.1>;tag=itest1\r\n"
	         "To: <sip:agent@127.0.0.1>\r\n"
	         "Call-ID: late-noack\r\n"
	         "CSeq: 1 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Content-Length: 0\r\n\r\n");
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, sizeof(msg), "INVITE"), 200);
	/* sipwarden's own offer, SRTP with its keys */
	ck_assert_ptr_nonnull(strstr(msg, "RTP/SAVP"));
	ck_assert_ptr_nonnull(strstr(msg, "a=crypto:1 "));
	/* no ACK: the 200 comes again (RFC 3261 s13.3.1.4), and within the transaction
	 * timeout (1 s here) a BYE comes */
	int64_t t0 = itest_now_ms();
	int copies = 0;
	for (;;) {
		ck_assert_int_gt(itest_recv_msg(c, msg, sizeof(msg), 5000), 0);
		if (strncmp(msg, "SIP/2.0 200 ", 12) != 0)
			break;
		copies++;
	}
	ck_assert_msg(strncmp(msg, "BYE ", 4) == 0, "expected a BYE: %.80s", msg);
	ck_assert_int_ge(copies, 1);
	ck_assert_int_le(itest_now_ms() - t0, 4000);
	ck_assert_str_eq(itest_header(msg, "Call-ID", v, sizeof(v)), "late-noack");
	itest_wait_child(ap, 10000);
	agent = itest_result(&t, "agent.json");
	/* the agent got its ACK (without an answer), then a BYE */
	ck_assert_str_eq(itest_str(agent, "ended_by"), "remote");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "no_ack");
	json_decref(end);
	json_decref(agent);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(offerless_invite_from_agent_calling_out)
{
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	uint16_t tport = itest_port();
	json_t *caller, *carrier;
	pid_t cp;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	cp = itest_carrier(
	        &t, tport,
	        (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "40", NULL});
	const char *const cargv[] = {"--offer", "none", "--duration", "2", NULL};
	int rc = itest_wait_child(itest_agent_call_spawn(&t, "caller.json", "+15550001", cargv),
	                          T_CALL_MS);
	itest_check_exit(&t, rc, "caller.json");
	itest_check_exit(&t, itest_wait_child(cp, 10000), "carrier.json");
	caller = itest_result(&t, "caller.json");
	carrier = itest_result(&t, "carrier.json");
	assert_media_both_ways(caller, carrier);
	assert_four_keys(caller, carrier);
	json_decref(caller);
	json_decref(carrier);
	itest_stop(&t);
}
END_TEST

START_TEST(offerless_reinvite_rekeys_both_legs_and_media_goes_on)
{
	struct itest t;
	json_t *caller, *agent;
	pid_t ap;

	itest_start(&t, NULL);
	ap = itest_agent(&t, (const char *const[]){"--mode", "echo", "--calls", "1", NULL});
	int rc = itest_caller(&t, "caller.json",
	                      (const char *const[]){"--duration", "3", "--hold-after", "1",
	                                            "--reinvite-offer", "none", NULL},
	                      T_CALL_MS);
	itest_check_exit(&t, rc, "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_media_both_ways(caller, agent);
	/* the re-INVITE went through (2xx on both legs) and the call kept its media */
	ck_assert_int_eq(itest_num(caller, "reinvite_code"), 200);
	ck_assert_int_eq(itest_num(caller, "reinvites"), 1);
	ck_assert_int_eq(itest_num(agent, "reinvites"), 1);
	ck_assert_int_ge(itest_num(caller, "sent"), 130);
	assert_four_keys(caller, agent);
	json_decref(caller);
	json_decref(agent);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_late_offer");
	TCase *tc = tcase_create("late_offer");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc,
	               offerless_invite_from_trunk_gets_our_offer_and_media_flows_on_fresh_keys);
	tcase_add_test(tc, plain_rtp_answer_in_ack_ends_the_call_with_bye_on_both_legs);
	tcase_add_test(tc, ack_without_answer_ends_the_call_with_bye_on_both_legs);
	tcase_add_test(tc, plain_rtp_offer_in_the_agents_200_is_refused_with_488_and_bye);
	tcase_add_test(tc, no_ack_to_our_offer_ends_the_call_with_bye_on_both_legs);
	tcase_add_test(tc, offerless_invite_from_agent_calling_out);
	tcase_add_test(tc, offerless_reinvite_rekeys_both_legs_and_media_goes_on);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
