/*
 * it_reload: SIGHUP re-reads the config. A broken file is refused and the daemon keeps
 * serving with the old one; a good file is swapped in and applies to new connections
 * (here: max_connections drops from 64 to 1).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static void
assert_options_ok(struct itest_conn *c, const char *callid)
{
	char req[1024], resp[8192];

	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), callid, 1)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 5000), 0);
	ck_assert_int_eq(itest_status(resp), 200);
}

START_TEST(bad_config_is_refused_good_config_applies_to_new_connections)
{
	struct itest_opts one = {.max_connections = 1};
	struct itest t;
	struct itest_conn *a, *b;
	FILE *f;

	itest_start(&t, NULL);
	/* A broken file: refused, old config kept. */
	f = fopen(t.conf_path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "no_such_key = 1\n");
	fclose(f);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	ck_assert(itest_alive(&t));
	a = itest_tls_connect(&t, 0, 0, NULL);
	b = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	assert_options_ok(a, "bad-a");
	assert_options_ok(b, "bad-b");
	itest_conn_free(a);
	itest_conn_free(b);

	/* A good file with max_connections = 1: the second connection is refused. */
	itest_write_conf(&t, &one);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	a = NULL;
	for (int i = 0; i < 50 && a == NULL; i++) /* the closes above may still be in flight */
		a = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(a);
	assert_options_ok(a, "good-a");
	b = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_null(b);
	itest_conn_free(a);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_reload");
	TCase *tc = tcase_create("reload");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_config_is_refused_good_config_applies_to_new_connections);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
