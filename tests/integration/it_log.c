/*
 * it_log: the daemon's log as an operator meets it. Under systemd (JOURNAL_STREAM names
 * stderr) every line starts with its priority ("<6>", "<4>") and carries no timestamp of
 * ours; `sipwardenctl loglevel` shows and changes the level at run time; 20 INVITEs from
 * a source outside every trunk give 20 telemetry events but one log line, and one summary
 * line when the 10 s window ends.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define MSG_CAP 65536

/* Run sipwardenctl with args; its exit status, stdout+stderr in DIR/ctl.out -> out. */
static int
ctl(const struct itest *t, const char *const args[], char *out, size_t cap)
{
	const char *argv[12] = {getenv("SW_SIPWARDENCTL"), "--control", t->ctl_path, "--no-color"};
	char path[256], *text;
	size_t n = 4, len;
	int rc;

	ck_assert_msg(argv[0] != NULL, "SW_SIPWARDENCTL not set");
	for (size_t i = 0; args[i] != NULL && n < 11; i++)
		argv[n++] = args[i];
	itest_path(t, "ctl.out", path, sizeof(path));
	rc = itest_wait_child(itest_spawn(argv, path, path), 10000);
	text = itest_read_file(path, &len);
	ck_assert_ptr_nonnull(text);
	snprintf(out, cap, "%s", text);
	free(text);
	return rc;
}

/* Occurrences of `needle` in DIR/daemon.log. */
static int
log_count(const struct itest *t, const char *needle)
{
	char path[256], *text, *p;
	size_t len;
	int n = 0;

	text = itest_read_file(itest_path(t, "daemon.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(text);
	for (p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Wait up to timeout_ms for `needle` in DIR/daemon.log. */
static bool
log_wait(const struct itest *t, const char *needle, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;

	while (!itest_file_has(t, "daemon.log", needle)) {
		if (itest_now_ms() > end)
			return false;
		usleep(50 * 1000);
	}
	return true;
}

/* A plain TCP connection that sends garbage: its TLS handshake fails (logged at info). */
static void
failed_handshake(const struct itest *t, const char *src)
{
	struct itest_conn *c = itest_tcp_connect_from(t, src);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(itest_send_str(c, "OPTIONS sip:x SIP/2.0\r\n\r\n"), 0);
	ck_assert_int_eq(itest_wait_closed(c, 5000, NULL, 0), 0);
	itest_conn_free(c);
}

START_TEST(loglevel_is_shown_and_changed_with_sipwardenctl)
{
	struct itest_opts o = {.log_file = true};
	const char *show[] = {"loglevel", NULL}, *warn[] = {"loglevel", "warn", NULL};
	const char *info[] = {"loglevel", "info", NULL}, *bad[] = {"loglevel", "loud", NULL};
	char out[1024], *reply;
	struct itest t;

	itest_start(&t, &o);
	ck_assert_int_eq(ctl(&t, show, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "log level debug\n"); /* the harness's [general] log_level */
	ck_assert_int_eq(ctl(&t, warn, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "log level warn (was debug)\n");
	ck_assert(log_wait(&t, "log level warn (was debug), set on the control socket", 3000));

	/* at warn, a failed handshake (info) is not logged ... */
	failed_handshake(&t, "127.0.0.5");
	reply = itest_control(&t, "{\"cmd\":\"loglevel\"}", 3000); /* the daemon is past it */
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "{\"level\":\"warn\"}");
	free(reply);
	ck_assert_int_eq(log_count(&t, "127.0.0.5"), 0);
	/* ... at info it is */
	ck_assert_int_eq(ctl(&t, info, out, sizeof(out)), 0);
	failed_handshake(&t, "127.0.0.6");
	ck_assert(log_wait(&t, "127.0.0.6", 3000));
	ck_assert(log_wait(&t, "TLS handshake failed", 3000));

	/* a level that is not one: exit 1, the level stays */
	ck_assert_int_eq(ctl(&t, bad, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "expected error, warn, info or debug") != NULL, "%s", out);
	ck_assert_int_eq(ctl(&t, show, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "log level info\n");
	itest_stop(&t);
}
END_TEST

START_TEST(journal_lines_carry_the_priority_and_no_timestamp)
{
	struct itest_opts o = {.log_file = true, .journal = true};
	const char *warn[] = {"loglevel", "warn", NULL};
	char out[1024];
	struct itest t;

	itest_start(&t, &o);
	ck_assert(log_wait(&t, "\n<6>sipwarden " SW_VERSION " listening on", 3000) ||
	          log_wait(&t, "<6>sipwarden " SW_VERSION " listening on", 10));
	ck_assert_int_eq(ctl(&t, warn, out, sizeof(out)), 0);
	ck_assert(log_wait(&t, "\n<4>log level warn (was debug)", 3000));
	ck_assert_int_eq(log_count(&t, "Z sipwarden info: "), 0);
	ck_assert_int_eq(log_count(&t, "Z sipwarden warn: "), 0);
	itest_stop(&t);
}
END_TEST

START_TEST(refusals_from_one_source_are_logged_once_then_summarised)
{
	static char tel[1 << 20];
	struct itest_opts o = {.log_file = true, .trunk_source = "127.255.255.254/32"};
	char req[2048], msg[MSG_CAP], id[64];
	struct itest_conn *c;
	struct itest t;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	c = itest_tls_connect_from(&t, "127.0.0.7", 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	for (unsigned i = 1; i <= 20; i++) {
		snprintf(id, sizeof(id), "it-log-%u", i);
		ck_assert_int_eq(
		        itest_send_str(c, itest_request(req, sizeof(req), "INVITE", id, i)), 0);
		ck_assert_int_eq(itest_final_response(c, msg, sizeof(msg), "INVITE"), 403);
	}
	itest_conn_free(c);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 1000);
	/* telemetry is exact ... */
	ck_assert_msg(itest_count_events(tel, "security.peer_unknown", "source_not_allowed") == 20,
	              "telemetry: %s", tel);
	/* ... the log says it once, then sums up the window */
	ck_assert_int_eq(log_count(&t, "INVITE from 127.0.0.7:"), 1);
	ck_assert_msg(log_wait(&t,
	                       "source 127.0.0.7: 19 more refusals in the last 10s "
	                       "(source_not_allowed 19)",
	                       15000),
	              "no summary line");
	ck_assert_int_eq(log_count(&t, "INVITE from 127.0.0.7:"), 1);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_log");
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, loglevel_is_shown_and_changed_with_sipwardenctl);
	tcase_add_test(tc, journal_lines_carry_the_priority_and_no_timestamp);
	tcase_add_test(tc, refusals_from_one_source_are_logged_once_then_summarised);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
