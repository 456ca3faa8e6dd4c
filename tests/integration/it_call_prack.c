/*
 * it_call_prack: reliable provisional responses (RFC 3262, issue 10 item 3). The test is
 * the trunk and writes its own INVITE with `Require: 100rel`: sipwarden's 180 carries
 * Require: 100rel and an RSeq, comes again from T1 = transaction_timeout / 64 doubling
 * until a PRACK with the matching RAck, which is answered 200 (a wrong RAck 481, a
 * malformed one 400); without a PRACK within 64 x T1 the INVITE is answered 5xx and
 * call.end says no_prack. transaction_timeout = 2s makes T1 31 ms. The agent side: an
 * agent (swpeer --reliable) sending a reliable 183 with SDP is PRACKed by sipwarden and
 * the call completes with early media; swpeer --100rel as the trunk PRACKs sipwarden's.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define MSG_CAP   16384
#define T_CALL_MS 30000

static char tel[1 << 20];

/* A request `method` (CSeq `cseq`) in the dialog a response `resp` (our To tag, its
 * Contact) made, with `extra` header lines (ending in CRLF). */
static void
send_in_dialog(struct itest_conn *c, const char *resp, const char *callid, const char *method,
               unsigned cseq, const char *extra)
{
	static char req[MSG_CAP];
	char to[512], contact[512];

	ck_assert_ptr_nonnull(itest_header(resp, "To", to, sizeof(to)));
	ck_assert_ptr_nonnull(itest_header(resp, "Contact", contact, sizeof(contact)));
	contact[strcspn(contact, ">")] = '\0';
	snprintf(req, sizeof(req),
	         "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s%u\r\n"
	         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: %u %s\r\n%sContent-Length: 0\r\n\r\n",
	         method, contact + 1, method, cseq, to, callid, cseq, method, extra);
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

/* Read until the first 180; checks that it is reliable and returns its RSeq. */
static unsigned long
first_reliable_180(struct itest_conn *c, char *msg)
{
	char v[64], *end;
	unsigned long rseq;

	do
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 5000) > 0, "no 180");
	while (itest_status(msg) == 100);
	ck_assert_msg(itest_status(msg) == 180, "not a 180: %.60s", msg);
	ck_assert_msg(itest_header(msg, "Require", v, sizeof(v)) != NULL &&
	                      strstr(v, "100rel") != NULL,
	              "180 without Require: 100rel: %s", msg);
	ck_assert_msg(itest_header(msg, "RSeq", v, sizeof(v)) != NULL, "180 without RSeq: %s", msg);
	rseq = strtoul(v, &end, 10);
	ck_assert_msg(*end == '\0' && rseq >= 1 && rseq < (1ul << 31), "RSeq %s", v);
	return rseq;
}

/* PRACK with RAck `rack` (NULL: none) as request `cseq`; the status of its answer. */
static int
prack(struct itest_conn *c, const char *resp180, const char *cid, unsigned cseq, const char *rack)
{
	static char msg[MSG_CAP];
	char extra[256] = "";

	if (rack != NULL)
		snprintf(extra, sizeof(extra), "RAck: %s\r\n", rack);
	send_in_dialog(c, resp180, cid, "PRACK", cseq, extra);
	return itest_final_response(c, msg, sizeof(msg), "PRACK");
}

/* After the PRACKs: the 200 to the INVITE (no copy of the 180 once the PRACK was
 * answered), ACK, BYE from the trunk. */
static void
answer_ack_bye(struct itest_conn *c, const char *cid, unsigned bye_cseq)
{
	static char msg[MSG_CAP];
	char cseq[64];

	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0, "no 200 to the INVITE");
		ck_assert_msg(itest_status(msg) != 180, "a 180 after its PRACK was answered");
		if (itest_status(msg) == 200 && itest_header(msg, "CSeq", cseq, sizeof(cseq)) &&
		    strstr(cseq, "INVITE") != NULL)
			break;
	}
	send_in_dialog(c, msg, cid, "ACK", 1, "");
	send_in_dialog(c, msg, cid, "BYE", bye_cseq, "");
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "BYE"), 200);
}

START_TEST(a_trunk_requiring_100rel_gets_a_reliable_180_until_its_prack)
{
	static char msg[MSG_CAP], r180[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 2s\n"};
	const char *agent_args[] = {"--mode", "echo", "--ring-ms", "1500", "--timeout", "30", NULL};
	char cid[64], rack[64], v[64];
	struct itest t;
	struct itest_conn *c;
	unsigned long rseq;
	int copies = 1, tfd;
	pid_t ap;
	json_t *ev;

	snprintf(cid, sizeof(cid), "prack%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Require: 100rel\r\nSupported: timer\r\n", NULL, 0);
	rseq = first_reliable_180(c, r180);
	/* 31, 62, 125 ms: the same 180 (same RSeq) comes again while no PRACK does */
	while (copies < 3) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 1000) > 0, "the 180 came %d times",
		              copies);
		ck_assert_int_eq(itest_status(msg), 180);
		ck_assert_ptr_nonnull(itest_header(msg, "RSeq", v, sizeof(v)));
		ck_assert_uint_eq(strtoul(v, NULL, 10), rseq);
		copies++;
	}
	snprintf(rack, sizeof(rack), "%lu 1 INVITE", rseq);
	ck_assert_int_eq(prack(c, r180, cid, 2, rack), 200);
	answer_ack_bye(c, cid, 3);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_int_eq(itest_count_events(tel, "call.answer", NULL), 1);
	ev = itest_event(tel, "call.end");
	ck_assert_msg(ev != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(ev, "reason"), "bye");
	ck_assert_str_eq(itest_str(ev, "ended_by"), "trunk");
	json_decref(ev);
	itest_kill_child(ap);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(no_prack_within_64_t1_answers_the_invite_5xx)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 2s\n"};
	const char *agent_args[] = {"--mode",    "echo", "--ring-ms", "20000",
	                            "--timeout", "30",   NULL};
	char cid[64], cseq[64];
	struct itest t;
	struct itest_conn *c;
	int64_t first, waited;
	int copies = 1, code, tfd;
	pid_t ap;
	json_t *ev;

	snprintf(cid, sizeof(cid), "noprack%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Require: 100rel\r\n", NULL, 0);
	first_reliable_180(c, msg);
	first = itest_now_ms();
	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 5000) > 0, "no final response");
		code = itest_status(msg);
		if (code == 180) {
			copies++;
			continue;
		}
		if (code >= 200 && itest_header(msg, "CSeq", cseq, sizeof(cseq)) &&
		    strstr(cseq, "INVITE") != NULL)
			break;
	}
	waited = itest_now_ms() - first;
	ck_assert_msg(code >= 500 && code < 600, "the INVITE got %d", code);
	ck_assert_msg(copies >= 5, "the 180 came %d times", copies);
	ck_assert_msg(waited >= 1800 && waited < 4000, "%d %lld ms after the 180", code,
	              (long long)waited);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ev = itest_event(tel, "call.end");
	ck_assert_msg(ev != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(ev, "reason"), "no_prack");
	ck_assert_str_eq(itest_str(ev, "ended_by"), "sipwarden");
	json_decref(ev);
	itest_kill_child(ap);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(a_prack_with_a_wrong_or_malformed_rack_is_refused)
{
	static char r180[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 4s\n"};
	const char *agent_args[] = {"--mode", "echo", "--ring-ms", "1500", "--timeout", "30", NULL};
	char cid[64], rack[64];
	struct itest t;
	struct itest_conn *c;
	unsigned long rseq;
	unsigned n = 2;
	pid_t ap;

	snprintf(cid, sizeof(cid), "badrack%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Supported: 100rel\r\nRequire: 100rel\r\n", NULL, 0);
	rseq = first_reliable_180(c, r180);
	/* not the RSeq, not the INVITE's CSeq, not INVITE: no such provisional (481) */
	snprintf(rack, sizeof(rack), "%lu 1 INVITE", rseq + 1);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 481);
	snprintf(rack, sizeof(rack), "%lu 7 INVITE", rseq);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 481);
	snprintf(rack, sizeof(rack), "%lu 1 BYE", rseq);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 481);
	/* not three fields, not strict 32-bit integers, missing: 400 */
	ck_assert_int_eq(prack(c, r180, cid, n++, NULL), 400);
	ck_assert_int_eq(prack(c, r180, cid, n++, "1 INVITE"), 400);
	ck_assert_int_eq(prack(c, r180, cid, n++, "x1 1 INVITE"), 400);
	ck_assert_int_eq(prack(c, r180, cid, n++, "+1 1 INVITE"), 400);
	ck_assert_int_eq(prack(c, r180, cid, n++, "99999999999999999999 1 INVITE"), 400);
	ck_assert_int_eq(prack(c, r180, cid, n++, "4294967296 1 INVITE"), 400);
	snprintf(rack, sizeof(rack), "%lu 1 INVITE extra", rseq);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 400);
	/* none of these stopped the 180; the right one does, and again is still 200 */
	snprintf(rack, sizeof(rack), "%lu 1 INVITE", rseq);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 200);
	ck_assert_int_eq(prack(c, r180, cid, n++, rack), 200);
	answer_ack_bye(c, cid, n++);
	itest_kill_child(ap);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(prack_outside_a_call_is_481_and_options_say_100rel)
{
	static char msg[MSG_CAP], req[MSG_CAP];
	char v[128];
	struct itest t;
	struct itest_conn *c;

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "opt1@x", 1)), 0);
	ck_assert_int_eq(itest_final_response(c, msg, sizeof(msg), "OPTIONS"), 200);
	ck_assert_msg(itest_header(msg, "Supported", v, sizeof(v)) && strstr(v, "100rel"),
	              "OPTIONS 200 without Supported: 100rel: %s", msg);
	ck_assert_msg(itest_header(msg, "Allow", v, sizeof(v)) && strstr(v, "PRACK"),
	              "OPTIONS 200 without PRACK in Allow: %s", msg);
	itest_request(req, sizeof(req), "PRACK", "nocall@x", 2);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, sizeof(msg), "PRACK"), 481);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(reliable_183_with_early_media_from_the_agent_to_a_trunk_requiring_100rel)
{
	struct itest t;
	const char *agent_args[] = {"--mode",    "echo", "--early-media", "--reliable",
	                            "--ring-ms", "300",  "--calls",       "1",
	                            "--timeout", "40",   "--verbose",     NULL};
	const char *call_args[] = {"--calls",  "1",         "--duration", "2",
	                           "--100rel", "--verbose", NULL};
	char path[256];
	json_t *caller;
	size_t len;
	char *log, *p183;

	itest_start(&t, NULL);
	pid_t ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	json_decref(caller);
	caller = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	json_decref(caller);

	/* the trunk got a reliable 183 with sipwarden's SDP and PRACKed it (the swpeer
	 * agent answers 200 only once its own 183 was PRACKed: sipwarden did) */
	log = itest_read_file(itest_path(&t, "caller.json.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	p183 = strstr(log, "SIP/2.0 183");
	ck_assert_msg(p183 != NULL, "no 183 reached the trunk");
	ck_assert_msg(strstr(p183, "RSeq:") != NULL, "the 183 is not reliable");
	ck_assert_msg(strstr(p183, "m=audio") != NULL, "183 without SDP");
	ck_assert_msg(strstr(log, "PRACK sip:") != NULL, "the trunk sent no PRACK");
	free(log);
	log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "PRACK sip:") != NULL, "sipwarden did not PRACK the agent");
	ck_assert_msg(strstr(log, "Supported: 100rel") != NULL, "the INVITE to the agent "
	                                                        "does not say 100rel");
	free(log);
	itest_stop(&t);
}
END_TEST

START_TEST(the_200_waits_for_the_prack_of_a_reliable_183_with_sdp)
{
	static char msg[MSG_CAP], r183[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 8s\n"};
	/* the agent answers 100 ms after its (unreliable) 183 with SDP */
	const char *agent_args[] = {
	        "--mode", "echo", "--early-media", "--ring-ms", "100", "--timeout", "30", NULL};
	char cid[64], rack[64], v[64];
	struct itest t;
	struct itest_conn *c;
	int64_t until;
	int r;
	pid_t ap;

	snprintf(cid, sizeof(cid), "held%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Require: 100rel\r\n", NULL, 0);
	do
		ck_assert_msg(itest_recv_msg(c, r183, MSG_CAP, 5000) > 0, "no 183");
	while (itest_status(r183) == 100);
	ck_assert_int_eq(itest_status(r183), 183);
	ck_assert_ptr_nonnull(itest_header(r183, "RSeq", v, sizeof(v)));
	ck_assert_msg(strstr(r183, "m=audio") != NULL, "the 183 carries no SDP");
	/* RFC 3262 s3: no 2xx while that 183 is unacknowledged (the agent has answered
	 * 100 ms after it; T1 is 125 ms, so copies of the 183 come meanwhile) */
	until = itest_now_ms() + 800;
	while ((r = itest_recv_msg(c, msg, MSG_CAP, (int)(until - itest_now_ms()))) > 0 &&
	       itest_now_ms() < until)
		ck_assert_msg(itest_status(msg) == 183, "before the PRACK: %.60s", msg);
	snprintf(rack, sizeof(rack), "%lu 1 INVITE", strtoul(v, NULL, 10));
	ck_assert_int_eq(prack(c, r183, cid, 2, rack), 200);
	answer_ack_bye(c, cid, 3);
	itest_kill_child(ap);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(an_agent_calling_out_requiring_100rel_to_a_reliable_carrier)
{
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	char path[256];
	uint16_t tport = itest_port();
	struct itest t;
	json_t *r;
	size_t len;
	char *log;
	pid_t cp;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	cp = itest_carrier(&t, tport,
	                   (const char *const[]){"--mode", "echo", "--early-media", "--reliable",
	                                         "--ring-ms", "200", "--calls", "1", "--timeout",
	                                         "30", "--verbose", NULL});
	const char *const aargv[] = {"--calls",  "1",         "--duration", "2",
	                             "--100rel", "--verbose", NULL};
	itest_check_exit(
	        &t,
	        itest_wait_child(itest_agent_call_spawn(&t, "caller.json", "+15550001", aargv),
	                         T_CALL_MS),
	        "caller.json.log");
	ck_assert_int_ge(itest_wait_child(cp, 10000), 0);
	r = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(r, "code"), 200);
	ck_assert_int_eq(itest_num(r, "auth_fail"), 0);
	ck_assert_int_ge(itest_num(r, "ok"), itest_num(r, "sent") - 2);
	json_decref(r);
	/* the agent (leg A) got a reliable 183 and PRACKed it; sipwarden PRACKed the
	 * carrier's (leg B), which answered only after that */
	log = itest_read_file(itest_path(&t, "caller.json.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "RSeq:") != NULL, "the agent got no reliable provisional");
	ck_assert_msg(strstr(log, "PRACK sip:") != NULL, "the agent sent no PRACK");
	free(log);
	ck_assert_msg(itest_file_has(&t, "carrier.log", "PRACK sip:"),
	              "sipwarden did not PRACK the carrier");
	itest_stop(&t);
}
END_TEST

/* RFC 3261 s8.2.2.3: an INVITE requiring an extension sipwarden lacks gets 420 listing
 * exactly those option-tags (not 100rel or timer), no call, and security.input_refused;
 * from a trunk and from an agent calling out. A list longer than sipwarden would write
 * back is refused whole (400), never cut. Require: 100rel, timer still makes a call. */
START_TEST(an_invite_requiring_an_unknown_extension_gets_420_with_unsupported)
{
	static char msg[MSG_CAP], r180[MSG_CAP], many[4096];
	struct itest_opts o = {.agent_pin = true, .trunk_extra = "target = 127.0.0.1:9\n"};
	const char *agent_args[] = {"--mode", "echo", "--ring-ms", "300", "--timeout", "30", NULL};
	char cid[64], v[256], rack[64];
	struct itest t;
	struct itest_conn *c, *ac;
	unsigned long rseq;
	json_t *ev;
	pid_t ap;
	int tfd;

	snprintf(cid, sizeof(cid), "ext%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Require: 100rel, Timer\r\nRequire: foo,bar ,foo\r\n", NULL,
	                  0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 420);
	ck_assert_msg(itest_header(msg, "Unsupported", v, sizeof(v)) != NULL, "no Unsupported: %s",
	              msg);
	ck_assert_str_eq(v, "foo, bar");

	/* more unknown tags than an Unsupported sipwarden writes: 400, nothing cut */
	snprintf(many, sizeof(many), "Require: ");
	for (int i = 0; i < 40; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sext%d", i ? "," : "",
		         i);
	strcat(many, "\r\n");
	itest_send_invite(&t, c, "ext-many@127.0.0.1", many, NULL, 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 400);
	ck_assert_msg(strstr(msg, "Unsupported") == NULL, "a cut Unsupported list: %s", msg);

	/* an agent calling out */
	ac = itest_tls_connect_as(&t, "agent");
	itest_send_invite(&t, ac, "ext-out@127.0.0.1", "Require: precondition\r\n", NULL, 0);
	ck_assert_int_eq(itest_final_response(ac, msg, MSG_CAP, "INVITE"), 420);
	ck_assert_ptr_nonnull(itest_header(msg, "Unsupported", v, sizeof(v)));
	ck_assert_str_eq(v, "precondition");
	itest_conn_free(ac);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "precondition", 5000);
	ck_assert_int_eq(itest_count_events(tel, "security.input_refused", "unsupported_extension"),
	                 2);
	ck_assert_int_eq(itest_count_events(tel, "security.input_refused", "require_too_long"), 1);
	ck_assert_int_eq(itest_count_events(tel, "call.start", NULL), 0);
	ev = itest_event(tel, "security.input_refused");
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(itest_num(ev, "sip_code"), 420);
	json_decref(ev);
	itest_assert_no_calls(&t);

	/* outside a call nothing is supported: every Require header's tags are listed */
	{
		static char req[MSG_CAP];
		itest_options(req, sizeof(req), "ext-opt@127.0.0.1", 1);
		char *mf = strstr(req, "Max-Forwards:");
		ck_assert_ptr_nonnull(mf);
		const char *rq = "Require: foo\r\nRequire: bar,baz\r\n";
		memmove(mf + strlen(rq), mf, strlen(mf) + 1);
		memcpy(mf, rq, strlen(rq));
		ck_assert_int_eq(itest_send_str(c, req), 0);
		ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "OPTIONS"), 420);
		ck_assert_ptr_nonnull(itest_header(msg, "Unsupported", v, sizeof(v)));
		ck_assert_str_eq(v, "foo, bar, baz");
	}

	/* what sipwarden supports still makes a call */
	ap = itest_agent(&t, agent_args);
	snprintf(cid, sizeof(cid), "extok%u@127.0.0.1", (unsigned)getpid());
	itest_send_invite(&t, c, cid,
	                  "Require: 100rel, timer\r\nSupported: timer\r\n"
	                  "Session-Expires: 1800;refresher=uac\r\n",
	                  NULL, 0);
	rseq = first_reliable_180(c, r180);
	snprintf(rack, sizeof(rack), "%lu 1 INVITE", rseq);
	ck_assert_int_eq(prack(c, r180, cid, 2, rack), 200);
	/* in the call: a re-INVITE requiring an unknown extension gets 420 too, the call
	 * goes on (the BYE below is answered) */
	{
		static char ok[MSG_CAP];
		for (;;) {
			ck_assert_msg(itest_recv_msg(c, ok, MSG_CAP, 10000) > 0, "no 200");
			if (itest_status(ok) == 200)
				break;
		}
		send_in_dialog(c, ok, cid, "ACK", 1, "");
		send_in_dialog(c, ok, cid, "INVITE", 3, "Require: timer, foo\r\n");
		ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 420);
		ck_assert_ptr_nonnull(itest_header(msg, "Unsupported", v, sizeof(v)));
		ck_assert_str_eq(v, "foo");
		send_in_dialog(c, ok, cid, "ACK", 3, "");
		send_in_dialog(c, ok, cid, "BYE", 4, "");
		ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "BYE"), 200);
	}
	itest_kill_child(ap);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_prack");
	TCase *tc = tcase_create("prack");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_trunk_requiring_100rel_gets_a_reliable_180_until_its_prack);
	tcase_add_test(tc, no_prack_within_64_t1_answers_the_invite_5xx);
	tcase_add_test(tc, a_prack_with_a_wrong_or_malformed_rack_is_refused);
	tcase_add_test(tc, prack_outside_a_call_is_481_and_options_say_100rel);
	tcase_add_test(tc,
	               reliable_183_with_early_media_from_the_agent_to_a_trunk_requiring_100rel);
	tcase_add_test(tc, the_200_waits_for_the_prack_of_a_reliable_183_with_sdp);
	tcase_add_test(tc, an_agent_calling_out_requiring_100rel_to_a_reliable_carrier);
	tcase_add_test(tc, an_invite_requiring_an_unknown_extension_gets_420_with_unsupported);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
