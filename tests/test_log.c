/*
 * test_log.c: every log line passes through redaction (lib/log.c + lib/redact.c).
 *
 * Captures lines with log_set_sink() and checks that SDES keys, card numbers and
 * Authorization values never come out, while the rest of the line does.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct capture {
	char line[4096];
	enum log_level level;
	int calls;
};

static void
capture_sink(enum log_level level, const char *line, void *arg)
{
	struct capture *c = arg;

	c->level = level;
	c->calls++;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static struct capture cap;

static void
setup(void)
{
	memset(&cap, 0, sizeof(cap));
	log_setlevel(LOG_LVL_DEBUG);
	log_set_sink(capture_sink, &cap);
}

static void
teardown(void)
{
	log_set_sink(NULL, NULL);
}

START_TEST(log_line_masks_inline_key_and_card_number)
{
	log_info("offer a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20 from caller %s",
	         "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "4111 1111 1111 1111");
	ck_assert_int_eq(cap.calls, 1);
	ck_assert_int_eq(cap.level, LOG_LVL_INFO);
	ck_assert_str_eq(cap.line, "offer a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                           "inline:****************************************|2^20 from "
	                           "caller **** **** **** ****");
	ck_assert_ptr_null(strstr(cap.line, "PS1uQ"));
	ck_assert_ptr_null(strstr(cap.line, "4111"));
}
END_TEST

START_TEST(log_line_masks_authorization_at_every_level)
{
	void (*fns[])(const char *, ...) = {log_error, log_warnx, log_info, log_debug};

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		cap.calls = 0;
		fns[i]("dropped request\r\nAuthorization: Digest response=\"%s\"\r\n", "6629fae4");
		ck_assert_int_eq(cap.calls, 1);
		ck_assert_ptr_null(strstr(cap.line, "6629fae4"));
		ck_assert_ptr_nonnull(strstr(cap.line, "Authorization: *"));
		ck_assert_ptr_nonnull(strstr(cap.line, "dropped request"));
	}
}
END_TEST

START_TEST(log_warn_appends_strerror_and_still_redacts)
{
	errno = ECONNRESET;
	log_warn("peer inline:%s", "QUJDREVGR0hJSktM");
	/* The mask runs to the next ';', '|' or space, so it takes the ':' too. */
	ck_assert_str_eq(cap.line, "peer inline:***************** Connection reset by peer");
}
END_TEST

START_TEST(log_line_keeps_ordinary_numbers)
{
	log_info("call from 192.0.2.10:5061 CSeq 102 INVITE port 30000 id 411111111117");
	ck_assert_str_eq(cap.line, "call from 192.0.2.10:5061 CSeq 102 INVITE port 30000 id "
	                           "411111111117");
}
END_TEST

START_TEST(log_below_level_is_not_emitted)
{
	log_setlevel(LOG_LVL_WARN);
	log_info("quiet inline:%s", "QUJD");
	ck_assert_int_eq(cap.calls, 0);
	log_warnx("loud");
	ck_assert_int_eq(cap.calls, 1);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_line_masks_inline_key_and_card_number);
	tcase_add_test(tc, log_line_masks_authorization_at_every_level);
	tcase_add_test(tc, log_warn_appends_strerror_and_still_redacts);
	tcase_add_test(tc, log_line_keeps_ordinary_numbers);
	tcase_add_test(tc, log_below_level_is_not_emitted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
