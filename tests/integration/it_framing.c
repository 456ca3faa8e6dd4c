/*
 * it_framing: a connection that breaks SIP stream framing is closed (after at most a
 * 400) while other connections keep working: an oversized message, too many header
 * fields, a negative Content-Length.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

/* Send `msg` on a fresh connection and assert the daemon answers 400 and closes it. */
static void
assert_closed_after(struct itest *t, const char *msg)
{
	struct itest_conn *c = itest_tls_connect(t, 0, 0, NULL);
	char seen[8192] = "";

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, msg), 0);
	ck_assert_msg(itest_wait_closed(c, 5000, seen, sizeof(seen)) == 0,
	              "connection not closed within 5 s");
	/* The header block arrived whole, so the daemon could address a 400 first. */
	ck_assert_int_eq(itest_status(seen), 400);
	ck_assert_ptr_null(strstr(seen, "SIP/2.0 200"));
	itest_conn_free(c);
}

START_TEST(oversized_message_closes_that_connection_only)
{
	struct itest_opts o = {.max_message_size = 2048};
	struct itest t;
	struct itest_conn *other;
	char req[1024], resp[8192], v[128], *big;
	size_t n;

	itest_start(&t, &o);
	other = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(other);
	/* Headers announce a 3000-byte body: more than max_message_size in total. */
	big = malloc(8192);
	ck_assert_ptr_nonnull(big);
	itest_options(req, sizeof(req), "big", 1);
	n = (size_t)(strstr(req, "Content-Length: 0") - req);
	memcpy(big, req, n);
	n += (size_t)sprintf(big + n, "Content-Type: text/plain\r\nContent-Length: 3000\r\n\r\n");
	memset(big + n, 'x', 3000);
	big[n + 3000] = '\0';
	assert_closed_after(&t, big);
	free(big);
	/* The other connection, open the whole time, is still served. */
	ck_assert_int_eq(itest_send_str(other, itest_options(req, sizeof(req), "other", 2)), 0);
	ck_assert_int_gt(itest_recv_msg(other, resp, sizeof(resp), 5000), 0);
	ck_assert_int_eq(itest_status(resp), 200);
	ck_assert_str_eq(itest_header(resp, "Call-ID", v, sizeof(v)), "other");
	itest_conn_free(other);
	itest_stop(&t);
}
END_TEST

START_TEST(too_many_headers_closes_connection)
{
	struct itest_opts o = {.max_headers = 16};
	struct itest t;
	char req[1024], msg[8192];
	size_t n;

	itest_start(&t, &o);
	itest_options(req, sizeof(req), "hdrs", 1);
	n = (size_t)(strstr(req, "Content-Length: 0") - req);
	memcpy(msg, req, n);
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(msg + n, "X-Pad-%d: %d\r\n", i, i);
	strcpy(msg + n, "Content-Length: 0\r\n\r\n");
	assert_closed_after(&t, msg);
	itest_stop(&t);
}
END_TEST

START_TEST(negative_content_length_closes_connection)
{
	struct itest t;
	char req[1024], msg[2048];
	size_t n;

	itest_start(&t, NULL);
	itest_options(req, sizeof(req), "neg", 1);
	n = (size_t)(strstr(req, "Content-Length: 0") - req);
	memcpy(msg, req, n);
	strcpy(msg + n, "Content-Length: -5\r\n\r\nhello");
	assert_closed_after(&t, msg);
	ck_assert(itest_alive(&t));
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_framing");
	TCase *tc = tcase_create("framing");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, oversized_message_closes_that_connection_only);
	tcase_add_test(tc, too_many_headers_closes_connection);
	tcase_add_test(tc, negative_content_length_closes_connection);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
