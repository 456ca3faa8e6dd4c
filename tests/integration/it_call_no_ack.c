/*
 * it_call_no_ack: sipwarden's 2xx to an INVITE is retransmitted until the ACK comes (RFC
 * 3261 s13.3.1.4, on TLS too), from T1 = transaction_timeout / 64 doubling up to T2 = 8 x T1;
 * without an ACK within 64 x T1 (transaction_timeout) the call ends with BYE on both legs
 * and call.end reason no_ack (issue 10, item 0). The test is the trunk and writes its own
 * INVITE; transaction_timeout = 2s makes T1 31 ms and T2 250 ms. The same holds for the
 * 200 sipwarden sends to an agent calling out through a trunk.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define MSG_CAP 16384

static char tel[1 << 20];

/* Read until a request or a response arrives that is not a 200 to the INVITE; counts the
 * 200s (and when the first came) on the way. Returns what ended the wait in msg. */
static void
count_200s(struct itest_conn *c, char *msg, int *n200, int64_t *first, int timeout_ms)
{
	char cseq[64];

	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, timeout_ms) > 0, "nothing more came");
		if (itest_status(msg) == 200 && itest_header(msg, "CSeq", cseq, sizeof(cseq)) &&
		    strstr(cseq, "INVITE") != NULL) {
			if ((*n200)++ == 0)
				*first = itest_now_ms();
			continue;
		}
		if (itest_status(msg) > 0 && itest_status(msg) < 200)
			continue;
		return;
	}
}

START_TEST(a_200_without_ack_is_retransmitted_then_the_call_ends_no_ack)
{
	static char msg[MSG_CAP], resp[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 2s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], via[256], from[256], to[256], callid[128], cseq[64];
	struct itest t;
	struct itest_conn *c;
	int n200 = 0, tfd;
	int64_t first = 0, waited;
	pid_t ap;
	json_t *ev;

	snprintf(cid, sizeof(cid), "noack%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "", NULL, 0);
	/* never ACK: the 200 comes again and again, then sipwarden's BYE */
	count_200s(c, msg, &n200, &first, 5000);
	waited = itest_now_ms() - first;
	ck_assert_msg(strncmp(msg, "BYE ", 4) == 0, "not a BYE: %.60s", msg);
	/* 31, 62, 125, 250, 250, ... ms: about 10 copies in 2 s; at least 5 however the
	 * loop is scheduled */
	ck_assert_msg(n200 >= 5, "the 200 came %d times", n200);
	ck_assert_msg(waited >= 1800 && waited < 4000, "BYE %lld ms after the 200",
	              (long long)waited);
	ck_assert_ptr_nonnull(itest_header(msg, "Via", via, sizeof(via)));
	ck_assert_ptr_nonnull(itest_header(msg, "From", from, sizeof(from)));
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, sizeof(to)));
	ck_assert_ptr_nonnull(itest_header(msg, "Call-ID", callid, sizeof(callid)));
	ck_assert_ptr_nonnull(itest_header(msg, "CSeq", cseq, sizeof(cseq)));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         via, from, to, callid, cseq);
	ck_assert_int_eq(itest_send_str(c, resp), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ev = itest_event(tel, "call.end");
	ck_assert_msg(ev != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(ev, "reason"), "no_ack");
	ck_assert_str_eq(itest_str(ev, "ended_by"), "sipwarden");
	json_decref(ev);
	/* the agent got its BYE too */
	itest_kill_child(ap);
	ev = itest_result(&t, "agent.json");
	ck_assert_str_eq(itest_str(ev, "ended_by"), "remote");
	json_decref(ev);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(the_ack_stops_the_retransmissions_and_the_call_goes_on)
{
	static char msg[MSG_CAP], req[MSG_CAP];
	struct itest_opts o = {.sip_extra = "transaction_timeout = 2s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], to[512], contact[512], cseq[64];
	struct itest t;
	struct itest_conn *c;
	int n200 = 0, r;
	pid_t ap;

	snprintf(cid, sizeof(cid), "ack%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "", NULL, 0);
	/* wait for the 200 to come twice (the retransmission), then ACK */
	while (n200 < 2) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 5000) > 0, "the 200 came %d times",
		              n200);
		if (itest_status(msg) == 200)
			n200++;
	}
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, sizeof(to)));
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", contact, sizeof(contact)));
	contact[strcspn(contact, ">")] = '\0';
	snprintf(req, sizeof(req),
	         "ACK %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKack%s\r\n"
	         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	         contact + 1, cid, to, cid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	/* one copy may have crossed our ACK; after that nothing for 3 s (past 64 x T1) */
	for (int extra = 0;; extra++) {
		r = itest_recv_msg(c, msg, MSG_CAP, 3000);
		if (r < 0)
			break;
		ck_assert_msg(r > 0 && extra == 0 && itest_status(msg) == 200 &&
		                      itest_header(msg, "CSeq", cseq, sizeof(cseq)) &&
		                      strstr(cseq, "INVITE") != NULL,
		              "after the ACK: %.80s", msg);
	}
	itest_wait_calls(&t, 1, NULL, 1000); /* still up */
	itest_kill_child(ap);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(an_agent_calling_out_that_never_acks_gets_the_200_again_then_bye)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.agent_pin = true, .sip_extra = "transaction_timeout = 2s\n"};
	char trunk_extra[64], cid[64];
	uint16_t tport = itest_port();
	struct itest t;
	struct itest_conn *c;
	int n200 = 0, tfd;
	int64_t first = 0;
	pid_t cp;
	json_t *ev;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	snprintf(cid, sizeof(cid), "out%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(
	        &t, tport,
	        (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "20", NULL});
	c = itest_tls_connect_as(&t, "agent");
	itest_send_invite(&t, c, cid, "", NULL, 0);
	count_200s(c, msg, &n200, &first, 5000);
	ck_assert_msg(strncmp(msg, "BYE ", 4) == 0, "not a BYE: %.60s", msg);
	ck_assert_msg(n200 >= 5, "the 200 came %d times", n200);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ev = itest_event(tel, "call.end");
	ck_assert_msg(ev != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(ev, "reason"), "no_ack");
	json_decref(ev);
	/* the carrier (leg B) got its BYE (its call fails: this agent sent no media) */
	ck_assert_int_ge(itest_wait_child(cp, 10000), 0);
	ev = itest_result(&t, "carrier.json");
	ck_assert_str_eq(itest_str(ev, "ended_by"), "remote");
	json_decref(ev);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_no_ack");
	TCase *tc = tcase_create("no_ack");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_200_without_ack_is_retransmitted_then_the_call_ends_no_ack);
	tcase_add_test(tc, the_ack_stops_the_retransmissions_and_the_call_goes_on);
	tcase_add_test(tc, an_agent_calling_out_that_never_acks_gets_the_200_again_then_bye);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
