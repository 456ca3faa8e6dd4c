/*
 * it_tls_options: over TLS the daemon answers like a UAS without calls: OPTIONS gets
 * 200 (same Call-ID and CSeq, a To tag, Allow), pipelined requests each get an answer,
 * INVITE gets 503 with Retry-After and an unknown method 501 with Allow.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define T_MS 5000

START_TEST(options_gets_200_with_same_callid_cseq_and_to_tag)
{
	struct itest t;
	struct itest_conn *c;
	char req[1024], resp[8192], v[256];

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "opt-1@itest", 41)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), "opt-1@itest");
	ck_assert_str_eq(itest_header(resp, "CSeq", v, sizeof(v)), "41 OPTIONS");
	ck_assert_ptr_nonnull(itest_header(resp, "To", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, ";tag="));
	ck_assert_ptr_nonnull(itest_header(resp, "From", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "tag=itest41"));
	ck_assert_ptr_nonnull(itest_header(resp, "Via", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "branch=z9hG4bKopt-1@itest41"));
	ck_assert_ptr_nonnull(itest_header(resp, "Allow", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "OPTIONS"));
	ck_assert_ptr_nonnull(strstr(v, "INVITE"));
	ck_assert_ptr_nonnull(itest_header(resp, "Accept", v, sizeof(v)));
	ck_assert_str_eq(v, "application/sdp");
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(two_pipelined_options_in_one_write_get_two_200)
{
	struct itest t;
	struct itest_conn *c;
	char req[2048], resp[8192], v[256];
	size_t n;

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_options(req, sizeof(req), "pipe-a", 1);
	n = strlen(req);
	itest_options(req + n, sizeof(req) - n, "pipe-b", 2);
	ck_assert_int_eq(itest_send_str(c, req), 0); /* one SSL_write, one TLS record */
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), "pipe-a");
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), "pipe-b");
	ck_assert_str_eq(itest_header(resp, "CSeq", v, sizeof(v)), "2 OPTIONS");
	/* Stop with the connection still open: clean exit (and no leak under ASan). */
	itest_stop(&t);
	itest_conn_free(c);
}
END_TEST

START_TEST(hundred_pipelined_options_in_one_write_all_answered_in_order)
{
	/* More than the server handles per wake-up (64): the rest must not sit in its buffer. */
	struct itest t;
	struct itest_conn *c;
	char *req, resp[8192], v[256], id[32];
	size_t n = 0;

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	/* Compact requests, so that all 100 fit in one TLS record (16 KiB). */
	ck_assert_ptr_nonnull(req = malloc(16384));
	for (unsigned i = 0; i < 100; i++) {
		n += (size_t)snprintf(req + n, 16384 - n,
		                      "OPTIONS sip:a@b SIP/2.0\r\n"
		                      "v: SIP/2.0/TLS h;branch=z9hG4bKp%u\r\n"
		                      "Max-Forwards: 70\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\n"
		                      "i: p%u\r\nCSeq: %u OPTIONS\r\nl: 0\r\n\r\n",
		                      i, i, i + 1);
	}
	ck_assert_uint_lt(n, 16384);
	ck_assert_int_eq(itest_send(c, req, n), 0);
	free(req);
	for (unsigned i = 0; i < 100; i++) {
		ck_assert_msg(itest_recv_msg(c, resp, sizeof(resp), 5000) > 0, "answer %u missing",
		              i);
		ck_assert_int_eq(itest_status(resp), 200);
		snprintf(id, sizeof(id), "p%u", i);
		ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), id);
	}
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(invite_without_offer_is_a_late_offer_not_a_488)
{
	struct itest t;
	struct itest_conn *c;
	char req[1024], resp[8192], v[256];

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	snprintf(req, sizeof(req),
	         "INVITE sip:agent@127.0.0.1 SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKinv1\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:itest@127.0.0.1>;tag=itest7\r\n"
	         "To: <sip:agent@127.0.0.1>\r\n"
	         "Call-ID: inv-1\r\n"
	         "CSeq: 7 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Content-Length: 0\r\n\r\n");
	ck_assert_int_eq(itest_send_str(c, req), 0);
	/* no SDP is a late offer (it_call_late_offer): the call is taken, and with no agent
	 * listening it ends 503, not 488 (with no 100 Trying before it when that comes
	 * within 100 ms: it_call_trying) */
	ck_assert_int_eq(itest_final_response(c, resp, sizeof(resp), "INVITE"), 503);
	ck_assert_str_eq(itest_header(resp, "CSeq", v, sizeof(v)), "7 INVITE");
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(unknown_method_gets_501_with_allow_and_register_405)
{
	struct itest t;
	struct itest_conn *c;
	char req[1024], resp[8192], v[256];

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, itest_request(req, sizeof(req), "FROBNICATE", "x-1", 3)),
	                 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 501);
	ck_assert_ptr_nonnull(itest_header(resp, "Allow", v, sizeof(v)));
	ck_assert_ptr_null(strstr(v, "FROBNICATE"));
	ck_assert_int_eq(itest_send_str(c, itest_request(req, sizeof(req), "REGISTER", "r-1", 4)),
	                 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 405);
	ck_assert_ptr_nonnull(itest_header(resp, "Allow", v, sizeof(v)));
	/* BYE outside a dialog: 481; ACK: no answer, so the next reply is the OPTIONS one. */
	ck_assert_int_eq(itest_send_str(c, itest_request(req, sizeof(req), "BYE", "b-1", 5)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 481);
	ck_assert_int_eq(itest_send_str(c, itest_request(req, sizeof(req), "ACK", "a-1", 6)), 0);
	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "o-after-ack", 8)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), T_MS), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), "o-after-ack");
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_tls_options");
	TCase *tc = tcase_create("options");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, options_gets_200_with_same_callid_cseq_and_to_tag);
	tcase_add_test(tc, two_pipelined_options_in_one_write_get_two_200);
	tcase_add_test(tc, hundred_pipelined_options_in_one_write_all_answered_in_order);
	tcase_add_test(tc, invite_without_offer_is_a_late_offer_not_a_488);
	tcase_add_test(tc, unknown_method_gets_501_with_allow_and_register_405);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
