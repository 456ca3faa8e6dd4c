/*
 * test_redact.c: secrets masking (lib/redact.c).
 *
 * Each mask is proven on the text it must hide, and each non-mask on text that looks
 * close but must stay (short numbers, Luhn-invalid runs, IP addresses, CSeq, ...).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

/* Redact a copy of `in` and compare with `want`; returns the masked count. */
static size_t
redact_expect(const char *in, const char *want)
{
	size_t len = strlen(in);
	char *buf = strdup(in);
	size_t n;

	ck_assert_ptr_nonnull(buf);
	n = redact_str(buf, len);
	ck_assert_msg(strcmp(buf, want) == 0, "redact(\"%s\")\n  got  \"%s\"\n  want \"%s\"", in,
	              buf, want);
	free(buf);
	return n;
}

START_TEST(redact_masks_sdes_inline_key)
{
	ck_assert_uint_eq(
	        redact_expect("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                      "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
	                      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                      "inline:****************************************|2^20|1:32"),
	        40);
	/* Up to ';' (several keys), whitespace, CRLF or end; any case of "inline:". */
	redact_expect("INLINE:abc;inline:def ghi", "INLINE:***;inline:*** ghi");
	redact_expect("x inLine:QUJD\r\nnext", "x inLine:****\r\nnext");
	redact_expect("inline:QUJDREVG", "inline:********");
	redact_expect("inline:", "inline:");
}
END_TEST

START_TEST(redact_masks_inline_key_in_buffer_without_nul)
{
	char buf[] = {'i', 'n', 'l', 'i', 'n', 'e', ':', 'A', 'B', 'C', 'D', 'E'};
	/* Only the first 10 bytes are ours: the mask must stop there. */
	ck_assert_uint_eq(redact_str(buf, 10), 3);
	ck_assert_int_eq(memcmp(buf, "inline:***DE", 12), 0);
}
END_TEST

START_TEST(redact_masks_authorization_values)
{
	redact_expect("Authorization: Digest username=\"bob\", response=\"6629fae4\"",
	              "Authorization: ******************************************");
	redact_expect("proxy-authorization:Basic QWxhZGRpbjpvcGVu",
	              "proxy-authorization:**********************");
	redact_expect("AUTHORIZATION  :  x", "AUTHORIZATION  :  *");
	/* In the middle of a multi-line message, CRLF and the next header kept. */
	redact_expect("INVITE sip:a@b SIP/2.0\r\nVia: x\r\nAuthorization: Digest nonce=1\r\n"
	              "CSeq: 1 INVITE\r\n",
	              "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nAuthorization: **************\r\n"
	              "CSeq: 1 INVITE\r\n");
	/* A folded value is masked with its continuation lines. */
	redact_expect("Authorization: Digest u=1,\r\n  r=2\r\nTo: t\n",
	              "Authorization: ***********\r\n  ***\r\nTo: t\n");
	/* Inside a log line too. */
	redact_expect("bad request: Proxy-Authorization: secret", "bad request: "
	                                                          "Proxy-Authorization: ******");
}
END_TEST

START_TEST(redact_keeps_other_auth_related_text)
{
	redact_expect("WWW-Authenticate: Digest realm=\"x\"",
	              "WWW-Authenticate: Digest realm=\"x\"");
	redact_expect("missing Authorization header", "missing Authorization header");
	redact_expect("Reauthorization: 1", "Reauthorization: 1");
}
END_TEST

START_TEST(redact_masks_card_numbers)
{
	redact_expect("card 4111111111111111 ok", "card **************** ok");
	redact_expect("4111 1111 1111 1111", "**** **** **** ****");
	redact_expect("4111-1111-1111-1111.", "****-****-****-****.");
	redact_expect("amex 378282246310005", "amex ***************"); /* 15 digits */
	redact_expect("(4222222222222)", "(*************)");           /* 13 digits */
	redact_expect("6011 0009 9013 9424 ", "**** **** **** **** ");
	redact_expect("dtmf=5555555555554444#", "dtmf=****************#");
	/* A card next to an unrelated number in the same grouped run still goes. */
	redact_expect("port 5060 4111111111111111", "port 5060 ****************");
	/* 19 digits. */
	redact_expect("6304000000000000000", "*******************");
}
END_TEST

START_TEST(redact_keeps_numbers_that_are_not_cards)
{
	/* 12 digits, even though Luhn-valid. */
	ck_assert(redact_is_card_number("411111111117", 12) == false);
	redact_expect("id 411111111117", "id 411111111117");
	/* Luhn-invalid 16 digits. */
	redact_expect("4111111111111112", "4111111111111112");
	redact_expect("4111 1111 1111 1112", "4111 1111 1111 1112");
	/* Part of a longer digit run: 20 digits holding a valid 16-digit prefix. */
	redact_expect("41111111111111110000", "41111111111111110000");
	/* ...but a 17-digit run that itself passes Luhn is a candidate of its own. */
	redact_expect("04111111111111111", "*****************");
	/* Double separators break a run. */
	redact_expect("4111  1111  1111  1111", "4111  1111  1111  1111");
	/* Addresses, SIP numbers. */
	redact_expect("c=IN IP4 192.168.100.101", "c=IN IP4 192.168.100.101");
	redact_expect("m=audio 49170 RTP/SAVP 0 8 101", "m=audio 49170 RTP/SAVP 0 8 101");
	redact_expect("CSeq: 4294967295 INVITE", "CSeq: 4294967295 INVITE");
	redact_expect("2001:db8::1 [::1]:5061", "2001:db8::1 [::1]:5061");
	redact_expect("2026-11-28 04:06:43", "2026-11-28 04:06:43");
	redact_expect("ts=1764302803123", "ts=1764302803123");
}
END_TEST

/*
 * sipwarden's own identifiers (call ids, tags, branches: hex) may hold a Luhn-valid run
 * of 13-19 digits; masking it made a log line no longer match its telemetry. A digit run
 * that touches a letter is part of a longer token, not a card number.
 */
START_TEST(redact_keeps_digit_runs_inside_identifiers)
{
	/* 32-hex call id with a Luhn-valid 16-digit run inside */
	redact_expect("call 7d1e4111111111111111c0d2f4b8e9a1: bye",
	              "call 7d1e4111111111111111c0d2f4b8e9a1: bye");
	/* ...at its start, at its end, and a branch whose hex part is all digits */
	redact_expect("4111111111111111abcdef0123456789", "4111111111111111abcdef0123456789");
	redact_expect("id=abcdef01234567894111111111111111", "id=abcdef01234567894111111111111111");
	redact_expect("branch=z9hG4bK4111111111111111;rport",
	              "branch=z9hG4bK4111111111111111;rport");
	redact_expect("Call-ID: 4111111111111111B@10.0.0.1", "Call-ID: 4111111111111111B@10.0.0.1");
	/* a grouped card whose first group touches a letter keeps that group only */
	redact_expect("ab4111 4111 1111 1111 1111", "ab4111 **** **** **** ****");
	/* cards standing alone or grouped by separators still go */
	redact_expect("sip:4111111111111111@10.0.0.1", "sip:****************@10.0.0.1");
	redact_expect("to=4111-1111-1111-1111;", "to=****-****-****-****;");
	redact_expect("call 7d1e 4111111111111111 c0d2", "call 7d1e **************** c0d2");
}
END_TEST

START_TEST(redact_is_card_number_checks_digits_and_luhn)
{
	ck_assert(redact_is_card_number("4111111111111111", 16));
	ck_assert(redact_is_card_number("4111 1111-1111 1111", 19));
	ck_assert(!redact_is_card_number("4111111111111112", 16));
	ck_assert(!redact_is_card_number("4111x111111111111", 17));
	ck_assert(!redact_is_card_number("41111111111111111111", 20));
	ck_assert(!redact_is_card_number("", 0));
	/* Only the given length counts. */
	ck_assert(!redact_is_card_number("4111111111111111", 15));
}
END_TEST

START_TEST(redact_returns_masked_count_and_keeps_length)
{
	char s[] = "inline:abcd card 4111111111111111 Authorization: x\r\n";
	size_t len = strlen(s);

	ck_assert_uint_eq(redact_str(s, len), 4 + 16 + 1);
	ck_assert_uint_eq(strlen(s), len);
	ck_assert_uint_eq(redact_str(s, len), 0); /* nothing left to mask */
	ck_assert_uint_eq(redact_str(NULL, 0), 0);
}
END_TEST

START_TEST(redact_handles_pathological_input)
{
	size_t n = 20000;
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (i % 2) ? ' ' : '7';
	s[n] = 0;
	redact_str(s, n); /* bounded work: must not take long nor overrun */
	for (size_t i = 0; i < n; i++)
		ck_assert(s[i] == ' ' || s[i] == '7' || s[i] == '*');
	free(s);
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, redact_masks_sdes_inline_key);
	tcase_add_test(tc, redact_masks_inline_key_in_buffer_without_nul);
	tcase_add_test(tc, redact_masks_authorization_values);
	tcase_add_test(tc, redact_keeps_other_auth_related_text);
	tcase_add_test(tc, redact_masks_card_numbers);
	tcase_add_test(tc, redact_keeps_numbers_that_are_not_cards);
	tcase_add_test(tc, redact_keeps_digit_runs_inside_identifiers);
	tcase_add_test(tc, redact_is_card_number_checks_digits_and_luhn);
	tcase_add_test(tc, redact_returns_masked_count_and_keeps_length);
	tcase_add_test(tc, redact_handles_pathological_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(redact_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
