/*
 * test_log.c: every log line passes through redaction (lib/log.c + lib/redact.c); lines
 * have the journal's priority prefix under systemd and a timestamp elsewhere; repeated
 * refusals from one source are summarised in bounded memory.
 *
 * Captures lines with log_set_sink() and checks that SDES keys, card numbers and
 * Authorization values never come out, while the rest of the line does.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tmpdir.h"

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

/* Every line, '\n'-separated, for the refusal summaries. */
static char all[65536];
static int nall;

static void
all_sink(enum log_level level, const char *line, void *arg)
{
	size_t used = strlen(all);

	snprintf(all + used, sizeof(all) - used, "%s\n", line);
	nall++;
}

static struct sockaddr_in
v4(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return sin;
}

#define SA(x) ((const struct sockaddr *)&(x))

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

START_TEST(log_journal_line_has_priority_prefix_and_no_time)
{
	static const struct {
		enum log_level lvl;
		const char *want;
	} t[] = {{LOG_LVL_ERROR, "<3>m\n"},
	         {LOG_LVL_WARN, "<4>m\n"},
	         {LOG_LVL_INFO, "<6>m\n"},
	         {LOG_LVL_DEBUG, "<7>m\n"}};
	struct timespec now = {1795839379, 145000000}; /* 2026-11-28T04:16:19.145Z */
	char buf[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_uint_eq(
		        log_format_line(buf, sizeof(buf), true, "sipwarden", t[i].lvl, "m", &now),
		        strlen(t[i].want));
		ck_assert_str_eq(buf, t[i].want);
	}
	log_format_line(buf, sizeof(buf), false, "sipwarden", LOG_LVL_WARN, "m", &now);
	ck_assert_str_eq(buf, "2026-11-28T04:16:19.145Z sipwarden warn: m\n");
}
END_TEST

/* A peer's CR/LF cannot start a line of its own: no forged "<3>" or timestamp. */
START_TEST(log_line_is_one_line_and_truncates_safely)
{
	struct timespec now = {0, 0};
	char buf[32];

	log_format_line(buf, sizeof(buf), true, "sw", LOG_LVL_INFO, "a\r\n<3>forged\nb", &now);
	ck_assert_str_eq(buf, "<6>a  <3>forged b\n");
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(
	        log_format_line(buf, 12, true, "sw", LOG_LVL_INFO, "0123456789abcdef", &now), 11);
	ck_assert_str_eq(buf, "<6>0123456\n");
	ck_assert_int_eq(buf[13], 'x');
}
END_TEST

/* JOURNAL_STREAM is "DEV:INODE" of the journal's stream: it must name this very fd. */
START_TEST(log_journal_stream_must_name_the_fd)
{
	char path[256], env[64];
	int fd = tmpdir_mkstemp(path, sizeof(path), "sw-test-log");
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	ck_assert(log_journal_stream(env, fd));
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	ck_assert(!log_journal_stream(env, fd));
	snprintf(env, sizeof(env), "%llu:%llux", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	ck_assert(!log_journal_stream(env, fd));
	ck_assert(!log_journal_stream(NULL, fd));
	ck_assert(!log_journal_stream("", fd));
	close(fd);
	unlink(path);
}
END_TEST

/* First refusal from a source logged; the rest of its window in one line, by reason. */
START_TEST(log_refusals_from_one_source_are_summarised)
{
	struct sockaddr_in a1 = v4("192.0.2.7", 5061), a2 = v4("192.0.2.7", 40000);
	struct sockaddr_in b = v4("198.51.100.1", 5061);

	log_set_sink(all_sink, NULL);
	log_refusal_reset();
	all[0] = '\0';
	nall = 0;
	log_refusal_at(1000, SA(a1), "source_not_allowed", "INVITE from %s refused", "A");
	for (int i = 0; i < 40; i++) /* another port is the same source */
		log_refusal_at(1001 + i, i % 2 ? SA(a1) : SA(a2), "source_not_allowed", "x");
	log_refusal_at(2000, SA(a1), "max_calls", "x");
	log_refusal_at(2000, SA(b), "no_srtp", "INVITE from %s refused", "B");
	ck_assert_int_eq(nall, 2);
	ck_assert_str_eq(all, "INVITE from A refused\nINVITE from B refused\n");
	log_refusal_flush_at(10999); /* A's window has not ended */
	ck_assert_int_eq(nall, 2);
	log_refusal_flush_at(11000);
	ck_assert_int_eq(nall, 3);
	ck_assert_ptr_nonnull(strstr(all, "\nsource 192.0.2.7: 41 more refusals in the last 10s "
	                                  "(source_not_allowed 40, max_calls 1)\n"));
	log_refusal_flush_at(12000); /* B had only its first: no summary */
	ck_assert_int_eq(nall, 3);
	/* a new window: the next refusal from A is logged again */
	log_refusal_at(12001, SA(a1), "max_calls", "again from %s", "A");
	ck_assert_int_eq(nall, 4);
	ck_assert_ptr_nonnull(strstr(all, "again from A\n"));
	log_refusal_reset();
}
END_TEST

/* Many sources: at most LOG_SUM_SOURCES are followed; the others share one summary. More
 * reasons than LOG_SUM_REASONS are "other". */
START_TEST(log_refusal_table_is_bounded)
{
	char ip[32];

	log_set_sink(all_sink, NULL);
	log_refusal_reset();
	all[0] = '\0';
	nall = 0;
	for (int i = 0; i < 1000; i++) {
		struct sockaddr_in sa;

		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250 + 1);
		sa = v4(ip, 1);
		log_refusal_at(100, SA(sa),
		               i % 6 == 0   ? "r0"
		               : i % 6 == 1 ? "r1"
		               : i % 6 == 2 ? "r2"
		               : i % 6 == 3 ? "r3"
		               : i % 6 == 4 ? "r4"
		                            : "r5",
		               "first from %s", ip);
	}
	ck_assert_int_eq(nall, LOG_SUM_SOURCES);
	log_refusal_flush_at(10100);
	ck_assert_int_eq(nall, LOG_SUM_SOURCES + 1);
	ck_assert_msg(strstr(all, "sources not followed (table full): 936 more refusals in the "
	                          "last 10s (") != NULL,
	              "%s", all + strlen(all) - 200);
	ck_assert_ptr_nonnull(strstr(all, ", other "));
	log_refusal_reset();
}
END_TEST

START_TEST(log_refusals_below_info_are_neither_logged_nor_counted)
{
	struct sockaddr_in a = v4("192.0.2.9", 1);

	log_set_sink(all_sink, NULL);
	log_refusal_reset();
	all[0] = '\0';
	nall = 0;
	log_setlevel(LOG_LVL_WARN);
	log_refusal_at(0, SA(a), "r", "x");
	log_refusal_at(1, SA(a), "r", "x");
	log_setlevel(LOG_LVL_INFO);
	log_refusal_flush_at(20000);
	ck_assert_int_eq(nall, 0);
	log_refusal_at(20001, SA(a), "r", "shown");
	ck_assert_str_eq(all, "shown\n");
	log_refusal_reset();
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
	tcase_add_test(tc, log_journal_line_has_priority_prefix_and_no_time);
	tcase_add_test(tc, log_line_is_one_line_and_truncates_safely);
	tcase_add_test(tc, log_journal_stream_must_name_the_fd);
	tcase_add_test(tc, log_refusals_from_one_source_are_summarised);
	tcase_add_test(tc, log_refusal_table_is_bounded);
	tcase_add_test(tc, log_refusals_below_info_are_neither_logged_nor_counted);
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
