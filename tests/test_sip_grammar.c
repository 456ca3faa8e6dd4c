/* Unit tests for lib/sip_grammar.c: what may be copied from a peer into a message. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sip_grammar.h"

START_TEST(sip_grammar_user_accepts_what_libosip2_re_escapes)
{
	ck_assert_int_eq(sip_grammar_user("alice", SIP_GRAMMAR_USER_MAX), 0);
	ck_assert_int_eq(sip_grammar_user("+1-555-0100;isub=12", SIP_GRAMMAR_USER_MAX), 0);
	/* decoded from %20, %23, %25, %40: written escaped again */
	ck_assert_int_eq(sip_grammar_user("alice smith#1%@x", SIP_GRAMMAR_USER_MAX), 0);
	ck_assert_int_eq(sip_grammar_user("jos\xc3\xa9", SIP_GRAMMAR_USER_MAX), 0);
}
END_TEST

START_TEST(sip_grammar_user_refuses_control_characters)
{
	/* what libosip2 makes of bob%0D%0AX-Inj%3A%20pwned */
	ck_assert_int_eq(sip_grammar_user("bob\r\nX-Inj: pwned", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("bob\n", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("a\tb", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("a\x7f", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("\x1b[2J", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user(NULL, SIP_GRAMMAR_USER_MAX), -EINVAL);
}
END_TEST

START_TEST(sip_grammar_user_refuses_bytes_that_are_not_utf8)
{
	ck_assert_int_eq(sip_grammar_user("a\xff", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("a\xc3", SIP_GRAMMAR_USER_MAX), -EINVAL); /* cut */
	ck_assert_int_eq(sip_grammar_user("\xc0\xaf", SIP_GRAMMAR_USER_MAX),
	                 -EINVAL); /* overlong */
	ck_assert_int_eq(sip_grammar_user("\xed\xa0\x80", SIP_GRAMMAR_USER_MAX),
	                 -EINVAL); /* D800 */
	ck_assert_int_eq(sip_grammar_user("\xf4\x90\x80\x80", SIP_GRAMMAR_USER_MAX), -EINVAL);
	ck_assert_int_eq(sip_grammar_user("\xf0\x9f\x93\x9e", SIP_GRAMMAR_USER_MAX), 0);
}
END_TEST

START_TEST(sip_grammar_user_longer_than_the_limit_is_refused_not_cut)
{
	char u[SIP_GRAMMAR_USER_MAX + 2];

	memset(u, 'b', sizeof(u) - 1);
	u[sizeof(u) - 1] = '\0';
	ck_assert_int_eq(sip_grammar_user(u, SIP_GRAMMAR_USER_MAX), -E2BIG);
	u[SIP_GRAMMAR_USER_MAX] = '\0';
	ck_assert_int_eq(sip_grammar_user(u, SIP_GRAMMAR_USER_MAX), 0);
	ck_assert_int_eq(sip_grammar_user("abc", 2), -E2BIG);
}
END_TEST

START_TEST(sip_grammar_phone_follows_rfc3966)
{
	ck_assert_int_eq(sip_grammar_phone("+1-555-0100", 32), 0);
	ck_assert_int_eq(sip_grammar_phone("+44(20)7946.0000", 32), 0);
	ck_assert_int_eq(sip_grammar_phone("*67#1234", 32), 0);
	ck_assert_int_eq(sip_grammar_phone("7042;phone-context=example.com", 64), 0);
	ck_assert_int_eq(sip_grammar_phone("+15550100;isub=12;ext=9", 64), 0);
	ck_assert_int_eq(sip_grammar_phone("+", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("--", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("+1555*", 32), -EINVAL); /* * is local-only */
	ck_assert_int_eq(sip_grammar_phone("alice", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("1 555", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("1555\r\n", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("1555;", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("1555;ext=", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("1555;a b", 32), -EINVAL);
	ck_assert_int_eq(sip_grammar_phone("+15550100", 4), -E2BIG);
}
END_TEST

START_TEST(sip_grammar_display_name_refuses_what_would_end_the_value)
{
	ck_assert_int_eq(sip_grammar_display_name(NULL), 0);
	ck_assert_int_eq(sip_grammar_display_name(""), 0);
	ck_assert_int_eq(sip_grammar_display_name("Bob Smith"), 0);
	ck_assert_int_eq(sip_grammar_display_name("Sales (2nd)"), 0);
	ck_assert_int_eq(sip_grammar_display_name("\"A \\\"quoted\\\" name\""), 0);
	ck_assert_int_eq(sip_grammar_display_name("\"Jos\xc3\xa9\""), 0);
	ck_assert_int_eq(sip_grammar_display_name("\"tab\there\""), 0);
	/* a folded line: libosip2 keeps the CRLF inside the quotes */
	ck_assert_int_eq(sip_grammar_display_name("\"a\r\n b\""), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("a\nb"), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("\"open"), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("\"a\"b\""), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("\"a\\\""), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("a <b"), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("a\"b"), -EINVAL);
	ck_assert_int_eq(sip_grammar_display_name("\"\xff\""), -EINVAL);
}
END_TEST

START_TEST(sip_grammar_header_value_refuses_line_breaks)
{
	ck_assert_int_eq(sip_grammar_header_value("queue=sales; prio=2", 64), 0);
	ck_assert_int_eq(sip_grammar_header_value("", 64), 0);
	ck_assert_int_eq(sip_grammar_header_value("a\tb", 64), 0);
	ck_assert_int_eq(sip_grammar_header_value("a\r\n b", 64), -EINVAL);
	ck_assert_int_eq(sip_grammar_header_value("a\r\nX-Inj: 1", 64), -EINVAL);
	ck_assert_int_eq(sip_grammar_header_value("a\x01", 64), -EINVAL);
	ck_assert_int_eq(sip_grammar_header_value("abcdef", 5), -E2BIG);
	ck_assert_int_eq(sip_grammar_header_value(NULL, 5), -EINVAL);
}
END_TEST

START_TEST(uri_takes_sip_uris_and_refuses_what_libosip2_took_leniently)
{
	static const char *const good[] = {"sip:alice@10.0.0.1:5061;transport=tls",
	                                   "sips:[2001:db8::1]:5061;lr",
	                                   "sip:+15551234;isub=1@pbx.example.com",
	                                   "sip:rr1.trunk.test;lr",
	                                   "SIP:a%20b@h?subject=x",
	                                   "sip:h.example:5"};
	static const char *const bad[] = {"sip:[alicContact: .1]:40000;transport=tls",
	                                  "sip:a@b@c",
	                                  "sip:a@",
	                                  "sip:",
	                                  "http://h/",
	                                  "sip:a@h:123456",
	                                  "sip:a@h:",
	                                  "sip:a@[]",
	                                  "sip:a@[zz::1]",
	                                  "sip:a@h\r\nX: y",
	                                  "sip:a@h>",
	                                  "sip:a@h\"",
	                                  "sip:a@h_x"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(sip_grammar_uri(good[i], SIP_GRAMMAR_URI_MAX) == 0, "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sip_grammar_uri(bad[i], SIP_GRAMMAR_URI_MAX) == -EINVAL, "%s",
		              bad[i]);
	ck_assert_int_eq(sip_grammar_uri("sip:a@h", 5), -E2BIG);
	ck_assert_int_eq(sip_grammar_uri(NULL, 5), -EINVAL);
}
END_TEST

START_TEST(route_takes_name_addrs_with_params_and_refuses_the_rest)
{
	static const char *const good[] = {
	        "<sip:p1.trunk.test;lr>",
	        "<sip:10.0.0.1:5061;transport=tls;lr>;ftag=abc",
	        "\"Edge\" <sip:[2001:db8::1]:5061;lr>",
	        "<sip:p1.test;lr> ; x-a = \"quoted ; value\" ;b=10.0.0.1:5",
	};
	static const char *const bad[] = {
	        "sip:p1.trunk.test;lr",             /* no name-addr */
	        "<sip:p1 .trunk.test;lr>",          /* URI grammar */
	        "<sip:p1.test;lr>\r\nX-Inj: pwned", /* a line break */
	        "<sip:p1.test;lr> junk",            /* not a parameter */
	        "<sip:p1.test;lr>;=x",              /* no parameter name */
	        "<sip:p1.test;lr>;a=\"open",        /* unterminated quote */
	        "<sip:p1.test;lr>;a=",              /* no value */
	        "Ed\"ge <sip:p1.test;lr>",          /* quote in an unquoted name */
	        "<http://p1.test/>",                /* not a SIP URI */
	        "<sip:p1.test;lr",                  /* no ">" */
	        NULL,
	};
	char big[SIP_GRAMMAR_URI_MAX + 64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(sip_grammar_route(good[i], SIP_GRAMMAR_URI_MAX) == 0, "refused: %s",
		              good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sip_grammar_route(bad[i], SIP_GRAMMAR_URI_MAX) == -EINVAL,
		              "accepted: %s", bad[i] ? bad[i] : "NULL");
	/* longer than the limit: refused, never cut */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "<sip:", 5);
	memcpy(big + sizeof(big) - 5, ";lr>", 4);
	ck_assert_int_eq(sip_grammar_route(big, SIP_GRAMMAR_URI_MAX), -E2BIG);
	ck_assert_int_eq(sip_grammar_route(big, sizeof(big)), -E2BIG); /* the URI inside */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sip_grammar");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, sip_grammar_user_accepts_what_libosip2_re_escapes);
	tcase_add_test(tc, sip_grammar_user_refuses_control_characters);
	tcase_add_test(tc, sip_grammar_user_refuses_bytes_that_are_not_utf8);
	tcase_add_test(tc, sip_grammar_user_longer_than_the_limit_is_refused_not_cut);
	tcase_add_test(tc, sip_grammar_phone_follows_rfc3966);
	tcase_add_test(tc, sip_grammar_display_name_refuses_what_would_end_the_value);
	tcase_add_test(tc, sip_grammar_header_value_refuses_line_breaks);
	tcase_add_test(tc, uri_takes_sip_uris_and_refuses_what_libosip2_took_leniently);
	tcase_add_test(tc, route_takes_name_addrs_with_params_and_refuses_the_rest);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
