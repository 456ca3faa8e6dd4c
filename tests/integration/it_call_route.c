/*
 * it_call_route: a trunk behind record-routing proxies (issue 10, item 0). The test is
 * the trunk's proxy: it sends its own INVITEs over TLS with Record-Route headers.
 *
 * The 180 and the 200 sipwarden sends copy the INVITE's Record-Route, in order (RFC
 * 3261 s12.1.1), and the BYE sipwarden sends on that leg carries them as Route headers.
 * A Record-Route outside the grammar, more than eight of them, or a strict router (no
 * ";lr") gets 400 with a Warning and a security.input_refused event, and no agent sees
 * the call.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define MSG_CAP 16384

static char tel[1 << 20];

/* Record-Route or Route lines of `msg` ("Name: value" each, in order) into out. */
static void
route_lines(const char *msg, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *p = msg; (p = strstr(p, "\r\n")) != NULL; p += 2) {
		const char *line = p + 2, *end = strstr(line, "\r\n");
		if (end == NULL || end == line)
			break;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':')
			snprintf(out + strlen(out), cap - strlen(out), "%.*s|",
			         (int)(end - line - nl - 1), line + nl + 1);
	}
}

START_TEST(responses_echo_the_record_route_and_our_bye_follows_it)
{
	static char msg[MSG_CAP], req[MSG_CAP];
	const char *agent_args[] = {"--mode", "echo",      "--ring-ms", "100", "--bye-after",
	                            "0.8",    "--timeout", "30",        NULL};
	const char *rr =
	        "Record-Route: <sip:edge1.trunk.test;lr>, <sip:127.0.0.1:5099;transport=tls;lr>\r\n"
	        "Record-Route: <sip:edge3.trunk.test;lr;ftag=rt1>\r\n";
	const char *want = " <sip:edge1.trunk.test;lr>| <sip:127.0.0.1:5099;transport=tls;lr>| "
	                   "<sip:edge3.trunk.test;lr;ftag=rt1>|";
	char cid[64], got[2048], to[512], contact[512];
	bool saw180 = false;
	struct itest t;
	struct itest_conn *c;
	int code;
	pid_t ap;

	snprintf(cid, sizeof(cid), "rr%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, rr, NULL, 0);
	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0,
		              "no answer to the INVITE");
		code = itest_status(msg);
		if (code == 100)
			continue;
		route_lines(msg, "Record-Route", got, sizeof(got));
		ck_assert_msg(strcmp(got, want) == 0, "%d without the INVITE's Record-Route: %s",
		              code, got);
		if (code == 180) {
			saw180 = true;
			continue;
		}
		break;
	}
	ck_assert_int_eq(code, 200);
	ck_assert(saw180);

	/* ACK through the route set, then sipwarden ends the call: its BYE carries it */
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, sizeof(to)));
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", contact, sizeof(contact)));
	contact[strcspn(contact, ">")] = '\0';
	snprintf(req, sizeof(req),
	         "ACK %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKack%s\r\n"
	         "Max-Forwards: 70\r\nRoute: <sip:edge1.trunk.test;lr>\r\n"
	         "From: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\nCall-ID: %s\r\n"
	         "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	         contact + 1, cid, to, cid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	/* the agent hangs up after 0.8 s: sipwarden's BYE on this leg */
	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0, "no BYE from sipwarden");
		if (strncmp(msg, "BYE ", 4) == 0)
			break;
	}
	route_lines(msg, "Route", got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "BYE without the route set: %s", got);
	ck_assert_msg(strncmp(msg, "BYE sip:itest@127.0.0.1:5099;transport=tls SIP/2.0", 50) == 0,
	              "BYE not to our Contact: %.80s", msg);
	itest_kill_child(ap);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(a_record_route_sipwarden_cannot_follow_is_refused_with_400)
{
	static char msg[MSG_CAP];
	static const struct {
		const char *rr, *reason;
	} bad[] = {
	        {"Record-Route: <sip:edge 1.trunk.test;lr>\r\n", "record_route_invalid"},
	        {"Record-Route: <sip:edge1.trunk.test;lr>;x=\"open\r\n", "record_route_invalid"},
	        {"Record-Route: <sip:edge1.trunk.test;maddr=10.0.0.9>, <sip:e2.test;lr>\r\n",
	         "record_route_strict"},
	        {"Record-Route: <sip:r1.test;lr>, <sip:r2.test;lr>, <sip:r3.test;lr>\r\n"
	         "Record-Route: <sip:r4.test;lr>, <sip:r5.test;lr>, <sip:r6.test;lr>\r\n"
	         "Record-Route: <sip:r7.test;lr>, <sip:r8.test;lr>, <sip:r9.test;lr>\r\n",
	         "record_route_too_many"},
	};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], warn[256];
	struct itest t;
	struct itest_conn *c;
	int tfd;
	pid_t ap;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cid, sizeof(cid), "bad%zu-%u@127.0.0.1", i, (unsigned)getpid());
		itest_send_invite(&t, c, cid, bad[i].rr, NULL, 0);
		ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 400);
		ck_assert_msg(itest_header(msg, "Warning", warn, sizeof(warn)) != NULL &&
		                      strstr(warn, "Record-Route") != NULL,
		              "no Warning naming the Record-Route: %s", msg);
		ck_assert_msg(strstr(msg, "\r\nRecord-Route:") == NULL,
		              "the refused Record-Route was echoed: %s", msg);
	}
	itest_kill_child(ap);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "record_route_too_many", 3000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(itest_count_events(tel, "security.input_refused", bad[i].reason) >= 1,
		              "no event %s: %s", bad[i].reason, tel);
	/* the agent never saw any of them */
	ck_assert(!itest_file_has(&t, "agent.json", "\"code\""));
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_route");
	TCase *tc = tcase_create("route");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, responses_echo_the_record_route_and_our_bye_follows_it);
	tcase_add_test(tc, a_record_route_sipwarden_cannot_follow_is_refused_with_400);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
