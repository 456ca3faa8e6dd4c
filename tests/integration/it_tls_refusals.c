/*
 * it_tls_refusals: the listener refuses what is not TLS >= 1.2: a TLS 1.1-only client
 * fails the handshake with a protocol-version alert, a plain TCP client sending SIP gets
 * no SIP answer and is closed, and a client that connects and says nothing is closed
 * once the handshake timeout passes, one that stalls mid-message once the idle timeout
 * passes, and connections over max_connections are closed at once. With min_version
 * 1.2, a TLS 1.2 client offering only CBC suites fails the handshake while ECDHE with
 * AES-GCM or ChaCha20-Poly1305 succeeds. The daemon keeps
 * serving afterwards.
 */
#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "itest.h"

static void
assert_still_serves(struct itest *t)
{
	struct itest_conn *c = itest_tls_connect(t, 0, 0, NULL);
	char req[1024], resp[8192];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "still", 1)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 5000), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	itest_conn_free(c);
}

START_TEST(tls11_only_client_fails_handshake)
{
	struct itest_opts o = {.min_version = "1.2"};
	struct itest t;
	struct itest_conn *c;
	unsigned long err = 0;

	itest_start(&t, &o);
	c = itest_tls_connect(&t, TLS1_VERSION, TLS1_1_VERSION, &err);
	ck_assert_ptr_null(c);
	/* The server said "protocol version", i.e. it refused on version, not by accident. */
	ck_assert_msg(ERR_GET_REASON(err) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
	              "unexpected handshake error %s", ERR_reason_error_string(err));
	/* A TLS 1.2 client is fine with min_version = 1.2. */
	c = itest_tls_connect(&t, TLS1_2_VERSION, TLS1_2_VERSION, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(SSL_version(c->ssl), TLS1_2_VERSION);
	itest_conn_free(c);
	assert_still_serves(&t);
	itest_stop(&t);
}
END_TEST

/* A TLS 1.2 handshake offering only `cipher`: 0 when it completed, else the first
 * OpenSSL error (the server's alert). */
static unsigned long
tls12_handshake_with(struct itest *t, const char *cipher)
{
	struct itest_conn *c = itest_tcp_connect(t);
	int64_t end = itest_now_ms() + 5000;
	unsigned long err = 0;
	int r;

	ck_assert_ptr_nonnull(c);
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(c->ctx);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(c->ctx, TLS1_2_VERSION), 1);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(c->ctx, cipher), 1);
	c->ssl = SSL_new(c->ctx);
	ck_assert_ptr_nonnull(c->ssl);
	SSL_set_fd(c->ssl, c->fd);
	while ((r = SSL_connect(c->ssl)) != 1) {
		int e = SSL_get_error(c->ssl, r);
		struct pollfd pf = {.fd = c->fd,
		                    .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};

		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    itest_now_ms() > end) {
			err = ERR_peek_error();
			if (err == 0)
				err = (unsigned long)-1;
			break;
		}
		poll(&pf, 1, 100);
	}
	if (err == 0)
		ck_assert_str_eq(SSL_get_cipher_name(c->ssl), cipher);
	ERR_clear_error();
	itest_conn_free(c);
	return err;
}

/* The test certificates are ECDSA: the ECDHE-ECDSA suites are the ones that apply. */
START_TEST(tls12_client_offering_only_cbc_suites_fails_handshake)
{
	struct itest_opts o = {.min_version = "1.2"};
	struct itest t;
	unsigned long err;

	itest_start(&t, &o);
	err = tls12_handshake_with(&t, "ECDHE-ECDSA-AES128-SHA");
	ck_assert_msg(err != 0, "CBC-SHA1 suite accepted with min_version = 1.2");
	ck_assert_msg(ERR_GET_REASON(err) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
	              "unexpected handshake error %s", ERR_reason_error_string(err));
	ck_assert_uint_ne(tls12_handshake_with(&t, "ECDHE-ECDSA-AES256-SHA384"), 0);
	/* ECDHE with AES-GCM or ChaCha20-Poly1305 is what TLS 1.2 clients get */
	ck_assert_uint_eq(tls12_handshake_with(&t, "ECDHE-ECDSA-AES128-GCM-SHA256"), 0);
	ck_assert_uint_eq(tls12_handshake_with(&t, "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
	assert_still_serves(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(tls12_client_refused_by_default_13_floor)
{
	struct itest t;
	struct itest_conn *c;
	unsigned long err = 0;

	itest_start(&t, NULL);
	c = itest_tls_connect(&t, TLS1_2_VERSION, TLS1_2_VERSION, &err);
	ck_assert_ptr_null(c);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(SSL_version(c->ssl), TLS1_3_VERSION);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(plain_tcp_options_gets_no_sip_answer_and_is_closed)
{
	struct itest t;
	struct itest_conn *c;
	char req[1024], seen[4096] = "";

	itest_start(&t, NULL);
	c = itest_tcp_connect(&t);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "plain", 1)), 0);
	ck_assert_int_eq(itest_wait_closed(c, 5000, seen, sizeof(seen)), 0);
	ck_assert_ptr_null(strstr(seen, "SIP/2.0"));
	itest_conn_free(c);
	assert_still_serves(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(silent_client_closed_after_handshake_timeout)
{
	struct itest_opts o = {.handshake_timeout = "500ms"};
	struct itest t;
	struct itest_conn *c;
	int64_t start, took;

	itest_start(&t, &o);
	c = itest_tcp_connect(&t);
	ck_assert_ptr_nonnull(c);
	start = itest_now_ms();
	ck_assert_int_eq(itest_wait_closed(c, 5000, NULL, 0), 0);
	took = itest_now_ms() - start;
	ck_assert_int_ge(took, 400);
	ck_assert_int_le(took, 3000);
	itest_conn_free(c);
	assert_still_serves(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(peer_stalled_mid_message_closed_after_idle_timeout)
{
	struct itest_opts o = {.idle_timeout = "1s"};
	struct itest t;
	struct itest_conn *c;
	char req[1024];
	int64_t start, took;

	itest_start(&t, &o);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_options(req, sizeof(req), "stall", 1);
	req[strlen(req) / 2] = '\0'; /* half a request, then silence */
	start = itest_now_ms();
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_wait_closed(c, 5000, NULL, 0), 0);
	took = itest_now_ms() - start;
	ck_assert_int_ge(took, 800);
	ck_assert_int_le(took, 3500);
	itest_conn_free(c);
	assert_still_serves(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(connections_over_max_connections_are_refused)
{
	struct itest_opts o = {.max_connections = 2};
	struct itest t;
	struct itest_conn *a, *b, *c;
	char req[1024], resp[8192];

	itest_start(&t, &o);
	a = itest_tls_connect(&t, 0, 0, NULL);
	b = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	/* The third is accepted by the kernel and closed by the daemon at once. */
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_null(c);
	/* The two admitted connections work. */
	ck_assert_int_eq(itest_send_str(b, itest_options(req, sizeof(req), "cap-b", 1)), 0);
	ck_assert_int_gt(itest_recv_msg(b, resp, sizeof(resp), 5000), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	/* Once one closes, there is room again. */
	itest_conn_free(a);
	for (int i = 0; i < 50 && c == NULL; i++) {
		usleep(20000);
		c = itest_tls_connect(&t, 0, 0, NULL);
	}
	ck_assert_ptr_nonnull(c);
	itest_conn_free(b);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_tls_refusals");
	TCase *tc = tcase_create("refusals");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tls11_only_client_fails_handshake);
	tcase_add_test(tc, tls12_client_refused_by_default_13_floor);
	tcase_add_test(tc, tls12_client_offering_only_cbc_suites_fails_handshake);
	tcase_add_test(tc, plain_tcp_options_gets_no_sip_answer_and_is_closed);
	tcase_add_test(tc, silent_client_closed_after_handshake_timeout);
	tcase_add_test(tc, peer_stalled_mid_message_closed_after_idle_timeout);
	tcase_add_test(tc, connections_over_max_connections_are_refused);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
