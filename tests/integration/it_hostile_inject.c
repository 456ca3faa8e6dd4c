/*
 * it_hostile_inject: what a trunk writes into From, To and the Request-URI never becomes
 * a header of its own at the agent, never overflows the agent leg, and never costs the
 * pool an agent (issue 8, items 2 and 3).
 *
 * The test is the trunk: it sends its own INVITEs over TLS. A From user part that
 * un-escapes to CRLF + "X-Inj: pwned" gets 400 and a security.input_refused event and
 * never reaches the agent, while a user part that merely needs escaping reaches it
 * re-escaped (seen in the agent's --verbose log). Oversized user parts (245 bytes, in
 * From and in the Request-URI) get 400 / 414 and leave the agent in the pool even with
 * probes off: a normal call afterwards is answered. A From with an 1,100-byte display
 * name makes a call that the agent ends with BYE, which reaches the trunk intact. An
 * agent calling out meets the same door: a 200-digit number gets 414. A passed X- header
 * carrying a terminal escape sequence gets 400; a clean one crosses.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define MSG_CAP   16384
#define T_CALL_MS 20000

static char tel[1 << 20];

/* Send an INVITE for request-URI user `ruser` with header value `from` (must carry a
 * tag), To user `to_user` (NULL: "agent"), Call-ID `callid` and `extra` header lines
 * (each ending in CRLF, or NULL). */
static void
send_invite_x(const struct itest *t, struct itest_conn *c, const char *ruser, const char *from,
              const char *to_user, const char *callid, const char *extra)
{
	static char req[MSG_CAP];
	char sdp[1024];

	itest_sdes_offer(sdp, sizeof(sdp));
	snprintf(req, sizeof(req),
	         "INVITE sip:%s@%s:%u SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: %s\r\n"
	         "To: <sip:%s@%s>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 1 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "%s"
	         "Content-Type: application/sdp\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         ruser, t->ip, t->port, callid, from, to_user ? to_user : "agent", t->ip, callid,
	         extra ? extra : "", strlen(sdp), sdp);
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

static void
send_invite(const struct itest *t, struct itest_conn *c, const char *ruser, const char *from,
            const char *callid)
{
	send_invite_x(t, c, ruser, from, NULL, callid, NULL);
}

/* After a 200 in `msg` to our INVITE: ACK it; `ruri` and `to` (with sipwarden's tag)
 * receive what an in-dialog request of ours needs. */
static void
ack_200(struct itest_conn *c, const char *msg, const char *from, const char *callid, char *ruri,
        size_t rcap, char *to, size_t tcap)
{
	static char req[MSG_CAP];
	char contact[512];

	ck_assert_ptr_nonnull(itest_header(msg, "Contact", contact, sizeof(contact)));
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, tcap));
	contact[strcspn(contact, ">")] = '\0';
	snprintf(ruri, rcap, "%s", contact[0] == '<' ? contact + 1 : contact);
	snprintf(req, sizeof(req),
	         "ACK %s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKack%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: %s\r\n"
	         "To: %s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 1 ACK\r\n"
	         "Content-Length: 0\r\n\r\n",
	         ruri, callid, from, to, callid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

/* BYE from the trunk in an answered call; asserts its 200. */
static void
bye(struct itest_conn *c, const char *ruri, const char *from, const char *to, const char *callid)
{
	static char req[MSG_CAP], msg[MSG_CAP];

	snprintf(req, sizeof(req),
	         "BYE %s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKbye%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: %s\r\n"
	         "To: %s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 2 BYE\r\n"
	         "Content-Length: 0\r\n\r\n",
	         ruri, callid, from, to, callid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "BYE"), 200);
}

/* `n` copies of `ch` (static buffer, n < 2048). */
static const char *
run_of(char ch, size_t n)
{
	static char buf[2048];

	ck_assert_uint_lt(n, sizeof(buf));
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(crlf_escaped_in_the_from_user_part_never_becomes_a_header_at_the_agent)
{
	static char msg[MSG_CAP];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--verbose", "--timeout", "30", NULL};
	const char *inj = "<sip:bob%0D%0AX-Inj%3A%20pwned%0D%0AX-Pad%3A%20@127.0.0.1>;tag=inj1";
	const char *ok = "<sip:alice%20smith%231@127.0.0.1>;tag=ok1";
	char ruri[512], to[512], path[256], cid[2][64];
	struct itest_conn *c;
	int tfd, inj_code;
	size_t len;
	pid_t ap;

	snprintf(cid[0], sizeof(cid[0]), "inj%u@127.0.0.1", (unsigned)getpid());
	snprintf(cid[1], sizeof(cid[1]), "ok%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);

	send_invite(&t, c, "agent", inj, cid[0]);
	inj_code = itest_final_response(c, msg, MSG_CAP, "INVITE");

	/* a user part that only needs escaping is a valid caller: it crosses, re-escaped */
	send_invite(&t, c, "agent", ok, cid[1]);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 200);
	ack_200(c, msg, ok, cid[1], ruri, sizeof(ruri), to, sizeof(to));
	bye(c, ruri, ok, to, cid[1]);
	itest_kill_child(ap);

	char *log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	const char *x = strstr(log, "\nX-Inj:");
	ck_assert_msg(x == NULL, "an X-Inj header reached the agent: %.12s", x ? x + 1 : "");
	ck_assert_msg(strstr(log, "\nP-Asserted-Identity: <sip:alice%20smith%231@") != NULL,
	              "the escaped caller did not reach the agent re-escaped");
	free(log);
	ck_assert_int_eq(inj_code, 400);
	itest_wait_no_calls(&t, 5000);
	itest_conn_free(c);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.input_refused\"", 3000);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "from_user_invalid") == 1,
	              "telemetry: %s", tel);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(oversized_user_parts_get_4xx_and_leave_the_agent_in_the_pool)
{
	static char msg[MSG_CAP], from[4096];
	struct itest t;
	struct itest_opts o = {.extra = "[pool]\nprobe_interval = 0\n"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "30", NULL};
	const char *call_args[] = {"--duration", "1", NULL};
	char cid[64];
	struct itest_conn *c;
	int code[2], tfd;
	pid_t ap;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);

	/* 245 bytes of From user part, then 245 of Request-URI user part */
	snprintf(from, sizeof(from), "<sip:%s@127.0.0.1>;tag=long1", run_of('b', 245));
	snprintf(cid, sizeof(cid), "long1-%u@127.0.0.1", (unsigned)getpid());
	send_invite(&t, c, "agent", from, cid);
	code[0] = itest_final_response(c, msg, MSG_CAP, "INVITE");
	snprintf(cid, sizeof(cid), "long2-%u@127.0.0.1", (unsigned)getpid());
	send_invite(&t, c, run_of('7', 245), "<sip:1000@127.0.0.1>;tag=long2", cid);
	code[1] = itest_final_response(c, msg, MSG_CAP, "INVITE");
	itest_conn_free(c);

	/* the agent is still in the pool: a normal call is answered */
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	ck_assert_int_eq(code[0], 400);
	ck_assert_int_eq(code[1], 414);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(itest_count_events(tel, "agent.down", NULL) == 0, "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "from_user_too_long") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "ruri_user_too_long") == 1,
	              "telemetry: %s", tel);
	itest_wait_no_calls(&t, 5000);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(long_display_name_call_is_ended_by_the_agent_with_bye_at_the_trunk)
{
	static char msg[MSG_CAP], from[4096], resp[MSG_CAP];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo",      "--bye-after", "1", "--calls",
	                            "1",      "--timeout", "30",          NULL};
	char ruri[512], to[512], cid[64], via[512], cseq[64], bto[4096], bfrom[512];
	struct itest_conn *c;
	bool got_bye = false;
	int tfd;
	pid_t ap;

	snprintf(from, sizeof(from), "\"%s\" <sip:1000@127.0.0.1>;tag=dn1", run_of('D', 1100));
	snprintf(cid, sizeof(cid), "dn%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	send_invite(&t, c, "agent", from, cid);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 200);
	ack_200(c, msg, from, cid, ruri, sizeof(ruri), to, sizeof(to));

	/* the agent hangs up after a second: its BYE must cross to us */
	for (int64_t end = itest_now_ms() + 8000; !got_bye && itest_now_ms() < end;) {
		if (itest_recv_msg(c, msg, MSG_CAP, (int)(end - itest_now_ms())) <= 0)
			break;
		got_bye = strncmp(msg, "BYE ", 4) == 0;
	}
	ck_assert_msg(got_bye, "no BYE reached the trunk");
	ck_assert_ptr_nonnull(itest_header(msg, "To", bto, sizeof(bto)));
	ck_assert_ptr_nonnull(itest_header(msg, "From", bfrom, sizeof(bfrom)));
	ck_assert_msg(strstr(bto, run_of('D', 1100)) != NULL && strstr(bto, "tag=dn1") != NULL,
	              "BYE To: %s", bto);
	ck_assert_ptr_nonnull(itest_header(msg, "Via", via, sizeof(via)));
	ck_assert_ptr_nonnull(itest_header(msg, "CSeq", cseq, sizeof(cseq)));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         via, bfrom, bto, cid, cseq);
	ck_assert_int_eq(itest_send_str(c, resp), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	json_t *end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "ended_by"), "agent");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(end);
	itest_wait_no_calls(&t, 5000);
	itest_conn_free(c);
	itest_kill_child(ap); /* it counts our call as failed: we sent no media */
	close(tfd);
	itest_stop(&t);
}
END_TEST

/* The same door for an agent calling out: its dialled number crosses to the trunk. */
START_TEST(agent_calling_out_with_an_oversized_number_gets_414)
{
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	uint16_t tport = itest_port();
	int tfd;
	pid_t cp;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(
	        &t, tport,
	        (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "20", NULL});

	/* 200 digits: more than the 128 bytes a user part may have */
	const char *const argv[] = {"--expect", "414", "--timeout", "10", NULL};
	itest_check_exit(
	        &t,
	        itest_wait_child(itest_agent_call_spawn(&t, "caller.json", run_of('7', 200), argv),
	                         T_CALL_MS),
	        "caller.json");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.input_refused\"", 3000);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "ruri_user_too_long") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "\"call.start\"") == NULL, "a call was started: %s", tel);
	itest_kill_child(cp);
	close(tfd);
	itest_stop(&t);
}
END_TEST

/* A trunk's pass_headers cross only as text without control characters. */
START_TEST(passed_header_with_a_control_character_is_refused)
{
	static char msg[MSG_CAP];
	struct itest t;
	struct itest_opts o = {.trunk_extra = "pass_headers = X-Ctx\n"};
	const char *agent_args[] = {"--mode", "echo", "--verbose", "--timeout", "30", NULL};
	const char *from[2] = {"<sip:1000@127.0.0.1>;tag=ctl1", "<sip:1000@127.0.0.1>;tag=ctl2"};
	char ruri[512], to[512], path[256], cid[2][64];
	struct itest_conn *c;
	int tfd, code;
	size_t len;
	pid_t ap;

	snprintf(cid[0], sizeof(cid[0]), "ctl%u@127.0.0.1", (unsigned)getpid());
	snprintf(cid[1], sizeof(cid[1]), "ctlok%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	/* a terminal escape sequence for whoever looks at the agent's logs */
	send_invite_x(&t, c, "agent", from[0], NULL, cid[0], "X-Ctx: a\x1b]0;pwned\x07b\r\n");
	code = itest_final_response(c, msg, MSG_CAP, "INVITE");
	send_invite_x(&t, c, "agent", from[1], NULL, cid[1], "X-Ctx: sales-42\r\n");
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 200);
	ack_200(c, msg, from[1], cid[1], ruri, sizeof(ruri), to, sizeof(to));
	bye(c, ruri, from[1], to, cid[1]);
	itest_kill_child(ap);

	char *log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "pwned") == NULL, "the escape sequence reached the agent");
	ck_assert_msg(strstr(log, "\nX-Ctx: sales-42\r\n") != NULL, "a clean X-Ctx did not cross");
	free(log);
	ck_assert_int_eq(code, 400);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.input_refused\"", 3000);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "pass_header_invalid") == 1,
	              "telemetry: %s", tel);
	itest_wait_no_calls(&t, 5000);
	itest_conn_free(c);
	close(tfd);
	itest_stop(&t);
}
END_TEST

/*
 * The To user part is checked even when the Request-URI carries the dialled user: it is
 * the callee in the call's record (call.start "to"), and bytes that are not UTF-8 there
 * (here escaped, libosip2 un-escapes them) would leave the call without its call.start.
 */
START_TEST(to_user_part_that_is_not_utf8_is_refused_with_the_request_uri_dialled)
{
	static char msg[MSG_CAP];
	struct itest t;
	char cid[64];
	struct itest_conn *c;
	int tfd, code;

	snprintf(cid, sizeof(cid), "tou%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	send_invite_x(&t, c, "agent", "<sip:1000@127.0.0.1>;tag=tou1", "%C3%28", cid, NULL);
	code = itest_final_response(c, msg, MSG_CAP, "INVITE");
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.input_refused\"", 3000);
	ck_assert_msg(code == 400, "INVITE with a To user that is not UTF-8 answered %d", code);
	ck_assert_msg(itest_count_events(tel, "security.input_refused", "to_user_invalid") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "\"call.start\"") == NULL, "a call was started: %s", tel);
	itest_wait_no_calls(&t, 5000);
	itest_conn_free(c);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hostile_inject");
	TCase *tc = tcase_create("inject");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crlf_escaped_in_the_from_user_part_never_becomes_a_header_at_the_agent);
	tcase_add_test(tc, oversized_user_parts_get_4xx_and_leave_the_agent_in_the_pool);
	tcase_add_test(tc, long_display_name_call_is_ended_by_the_agent_with_bye_at_the_trunk);
	tcase_add_test(tc, agent_calling_out_with_an_oversized_number_gets_414);
	tcase_add_test(tc, passed_header_with_a_control_character_is_refused);
	tcase_add_test(tc, to_user_part_that_is_not_utf8_is_refused_with_the_request_uri_dialled);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
