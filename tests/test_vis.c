/*
 * test_vis.c: vis_encode() escapes what a terminal acts on (C0, DEL, C1, bidi
 * overrides, bytes that are not UTF-8) and leaves printable text, UTF-8 included, alone.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vis.h"

static char out[VIS_MAX(256)];

static const char *
enc(const char *s, enum vis_style style)
{
	ck_assert_uint_le(strlen(s), 256);
	ck_assert_uint_eq(vis_encode(out, s, strlen(s), style), strlen(out));
	return out;
}

START_TEST(vis_leaves_printable_text_and_utf8_alone)
{
	ck_assert_str_eq(enc("alice <sip:a@b.example>;tag=1", VIS_C),
	                 "alice <sip:a@b.example>;tag=1");
	ck_assert_str_eq(enc("Jos\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x93\x9e", VIS_C),
	                 "Jos\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x93\x9e");
	ck_assert_str_eq(enc("", VIS_C), "");
	ck_assert_str_eq(enc("a\\b \"q\"", VIS_JSON), "a\\b \"q\"");
}
END_TEST

START_TEST(vis_escapes_escape_sequences_and_c0_controls)
{
	ck_assert_str_eq(enc("\x1b[2J\x1b]0;pwned\x07", VIS_C), "\\x1b[2J\\x1b]0;pwned\\x07");
	ck_assert_str_eq(enc("a\nb\rc\td\x01\x1f", VIS_C), "a\\nb\\rc\\td\\x01\\x1f");
	ck_assert_str_eq(enc("\x7f", VIS_C), "\\x7f");
	/* a backslash is doubled, so "\x1b" typed by a peer is not mistaken for ESC */
	ck_assert_str_eq(enc("\\x1b", VIS_C), "\\\\x1b");
}
END_TEST

START_TEST(vis_escapes_c1_controls_and_bidi_overrides)
{
	/* U+009B (CSI) and U+0085 as UTF-8 */
	ck_assert_str_eq(enc("\xc2\x9b"
	                     "1m\xc2\x85",
	                     VIS_C),
	                 "\\xc2\\x9b1m\\xc2\\x85");
	/* U+00A0 (no-break space) is the first character after C1: kept */
	ck_assert_str_eq(enc("\xc2\xa0", VIS_C), "\xc2\xa0");
	/* RIGHT-TO-LEFT OVERRIDE U+202E and FIRST STRONG ISOLATE U+2068 */
	ck_assert_str_eq(enc("a\xe2\x80\xae"
	                     "b\xe2\x81\xa8",
	                     VIS_C),
	                 "a\\xe2\\x80\\xaeb\\xe2\\x81\\xa8");
	ck_assert_str_eq(enc("\xe2\x80\xa9", VIS_C), "\xe2\x80\xa9"); /* U+2029: not bidi */
}
END_TEST

START_TEST(vis_escapes_bytes_that_are_not_utf8)
{
	/* raw 8-bit C1 CSI, a stray continuation byte, an overlong '/', a surrogate,
	 * a sequence cut short at the end */
	ck_assert_str_eq(enc("\x9b"
	                     "1m",
	                     VIS_C),
	                 "\\x9b1m");
	ck_assert_str_eq(enc("\x80", VIS_C), "\\x80");
	ck_assert_str_eq(enc("\xc0\xaf", VIS_C), "\\xc0\\xaf");
	ck_assert_str_eq(enc("\xed\xa0\x80", VIS_C), "\\xed\\xa0\\x80");
	ck_assert_str_eq(enc("ok\xe2\x80", VIS_C), "ok\\xe2\\x80");
	ck_assert_str_eq(enc("\xf5\x80\x80\x80", VIS_C), "\\xf5\\x80\\x80\\x80");
}
END_TEST

START_TEST(vis_json_style_keeps_a_json_document_valid_and_equal)
{
	/* DEL, C1 and bidi may stand raw in a JSON string; escaped they decode the same */
	const char *doc = "{\"from\":\"bob\\u001b[2J\x7f\xc2\x9b\xe2\x80\xae\xc3\xa9\"}";
	json_t *a = json_loads(doc, 0, NULL), *b;

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(enc(doc, VIS_JSON),
	                 "{\"from\":\"bob\\u001b[2J\\u007f\\u009b\\u202e\xc3\xa9\"}");
	b = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(b);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	/* white space between tokens stays; CR would move the cursor: escaped */
	ck_assert_str_eq(enc("{\n\t\"a\": 1\r}\x1b", VIS_JSON), "{\n\t\"a\": 1\\u000d}\\u001b");
}
END_TEST

START_TEST(vis_worst_case_fits_vis_max)
{
	char src[256], *d;

	memset(src, 0x80, sizeof(src) - 1); /* every byte invalid: 6 bytes each in JSON */
	src[sizeof(src) - 1] = '\0';
	ck_assert_uint_eq(vis_encode(out, src, 255, VIS_JSON), 6 * 255);
	memset(src, 0x1b, sizeof(src) - 1);
	ck_assert_uint_eq(vis_encode(out, src, 255, VIS_C), 4 * 255);
	d = vis_dup(src, VIS_C);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d, out);
	free(d);
}
END_TEST

static Suite *
vis_suite(void)
{
	Suite *s = suite_create("vis");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vis_leaves_printable_text_and_utf8_alone);
	tcase_add_test(tc, vis_escapes_escape_sequences_and_c0_controls);
	tcase_add_test(tc, vis_escapes_c1_controls_and_bidi_overrides);
	tcase_add_test(tc, vis_escapes_bytes_that_are_not_utf8);
	tcase_add_test(tc, vis_json_style_keeps_a_json_document_valid_and_equal);
	tcase_add_test(tc, vis_worst_case_fits_vis_max);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(vis_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
