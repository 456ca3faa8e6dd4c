/* Unit tests for lib/admit.c: per-source caps, budgets, bans, eviction, classification. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"

static const struct admit_limits lim = {
        .per_source = 3,
        .strangers = 5,
        .rate = {20, 1000, 1000},
        .burst = {4, 2000, 2000},
        .ban_ms = 60000,
        .report_ms = 10000,
};

static struct sockaddr_storage
addr(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct admit *
mk(size_t n)
{
	struct admit *a = NULL;

	ck_assert_int_eq(admit_new(&a, n, &lim, 42), 0);
	ck_assert_ptr_nonnull(a);
	return a;
}

START_TEST(admit_caps_connections_of_one_stranger)
{
	struct admit *a = mk(64);
	struct sockaddr_storage x = addr("192.0.2.1", 1000), y = addr("192.0.2.2", 1000);
	bool rep = false;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, &rep), ADMIT_SOURCE_FULL);
	ck_assert(rep);
	/* reported once per report_ms, refused every time */
	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 1, &rep), ADMIT_SOURCE_FULL);
	ck_assert(!rep);
	ck_assert_int_eq(admit_open(a, SA(x), ADMIT_UNKNOWN), 3);
	/* another stranger is not affected; a closed connection frees a place */
	ck_assert_int_eq(admit_accept(a, SA(y), ADMIT_UNKNOWN, 2, NULL), ADMIT_OK);
	admit_release(a, SA(x), ADMIT_UNKNOWN, 3);
	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 4, NULL), ADMIT_OK);
	admit_free(a);
}
END_TEST

START_TEST(admit_strangers_share_never_takes_the_trunks_place)
{
	struct admit *a = mk(64);
	char ip[32];

	/* 5 connections for all strangers together, from 5 different sources */
	for (int i = 0; i < 5; i++) {
		struct sockaddr_storage x;
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		x = addr(ip, 5060);
		ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	}
	struct sockaddr_storage s6 = addr("198.51.100.6", 1), t = addr("10.0.0.1", 1);
	ck_assert_int_eq(admit_accept(a, SA(s6), ADMIT_UNKNOWN, 0, NULL), ADMIT_STRANGERS_FULL);
	/* trunks and agents are not capped here at all */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(admit_accept(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(t), ADMIT_AGENT, 0, NULL), ADMIT_OK);
	admit_free(a);
}
END_TEST

START_TEST(admit_stranger_over_budget_is_banned_for_ban_ms)
{
	struct admit *a = mk(64);
	struct sockaddr_storage x = addr("192.0.2.9", 1), y = addr("192.0.2.10", 1);
	const char *why = NULL;
	uint64_t until = 0;

	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 1000, NULL), ADMIT_OK);
	for (int i = 0; i < 4; i++) /* the burst */
		ck_assert_int_eq(admit_request(a, SA(x), ADMIT_UNKNOWN, 1000, NULL), ADMIT_OK);
	/* 20/s: one more after 50 ms, not before */
	ck_assert_int_eq(admit_request(a, SA(x), ADMIT_UNKNOWN, 1050, NULL), ADMIT_OK);
	ck_assert(!admit_banned(a, SA(x), ADMIT_UNKNOWN, 1050, NULL, NULL));
	ck_assert_int_eq(admit_request(a, SA(x), ADMIT_UNKNOWN, 1060, NULL), ADMIT_BAN_NOW);
	ck_assert(admit_banned(a, SA(x), ADMIT_UNKNOWN, 1060, &why, &until));
	ck_assert_str_eq(why, "request_rate");
	ck_assert_uint_eq(until, 61060);
	ck_assert_int_eq(admit_request(a, SA(x), ADMIT_UNKNOWN, 2000, NULL), ADMIT_BANNED);
	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 2000, NULL), ADMIT_BANNED);
	/* other sources are unaffected; the ban ends */
	ck_assert_int_eq(admit_accept(a, SA(y), ADMIT_UNKNOWN, 2000, NULL), ADMIT_OK);
	ck_assert(!admit_banned(a, SA(x), ADMIT_UNKNOWN, 61060, NULL, NULL));
	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 61060, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_request(a, SA(x), ADMIT_UNKNOWN, 61060, NULL), ADMIT_OK);
	admit_free(a);
}
END_TEST

START_TEST(admit_trunk_over_budget_is_shed_never_banned)
{
	struct admit *a = mk(64);
	struct sockaddr_storage t = addr("10.0.0.1", 1);
	bool rep = false;

	ck_assert_int_eq(admit_accept(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_OK);
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(admit_request(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_request(a, SA(t), ADMIT_TRUNK, 0, &rep), ADMIT_OVER_BUDGET);
	ck_assert(rep);
	ck_assert_int_eq(admit_request(a, SA(t), ADMIT_TRUNK, 0, &rep), ADMIT_OVER_BUDGET);
	ck_assert(!rep);
	ck_assert_int_eq(admit_ban(a, SA(t), ADMIT_TRUNK, 0, 1000, "scanner"), -EPERM);
	ck_assert(!admit_banned(a, SA(t), ADMIT_TRUNK, 0, NULL, NULL));
	ck_assert_int_eq(admit_accept(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_OK);
	/* 1000/s: one ms later one more */
	ck_assert_int_eq(admit_request(a, SA(t), ADMIT_TRUNK, 1, NULL), ADMIT_OK);
	admit_free(a);
}
END_TEST

START_TEST(admit_no_budget_when_rate_is_zero)
{
	struct admit_limits l = lim;
	struct admit *a = NULL;
	struct sockaddr_storage t = addr("10.0.0.1", 1);

	l.rate[ADMIT_TRUNK] = 0;
	ck_assert_int_eq(admit_new(&a, 8, &l, 1), 0);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(admit_request(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_OK);
	admit_free(a);
}
END_TEST

START_TEST(admit_ban_is_not_shortened_and_names_its_reason)
{
	struct admit *a = mk(64);
	struct sockaddr_storage x = addr("192.0.2.7", 1);
	const char *why;
	uint64_t until;

	ck_assert_int_eq(admit_ban(a, SA(x), ADMIT_UNKNOWN, 100, 3600000, "scanner"), 0);
	ck_assert_int_eq(admit_ban(a, SA(x), ADMIT_UNKNOWN, 200, 1000, "sweep"), 0);
	ck_assert(admit_banned(a, SA(x), ADMIT_UNKNOWN, 5000, &why, &until));
	ck_assert_str_eq(why, "scanner");
	ck_assert_uint_eq(until, 3600100);
	admit_free(a);
}
END_TEST

START_TEST(admit_ipv6_strangers_count_per_slash64)
{
	struct admit *a = mk(64);
	struct sockaddr_storage x1 = addr("2001:db8:1:2::1", 1),
	                        x2 = addr("2001:db8:1:2:ffff::9", 1),
	                        x3 = addr("2001:db8:1:2:abcd::", 1), y = addr("2001:db8:1:3::1", 1);
	char buf[64];

	ck_assert_int_eq(admit_accept(a, SA(x1), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(x2), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(x3), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(x1), ADMIT_UNKNOWN, 0, NULL), ADMIT_SOURCE_FULL);
	ck_assert_int_eq(admit_accept(a, SA(y), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert(admit_same_source(SA(x1), SA(x2), ADMIT_UNKNOWN));
	ck_assert(!admit_same_source(SA(x1), SA(x2), ADMIT_TRUNK));
	ck_assert(!admit_same_source(SA(x1), SA(y), ADMIT_UNKNOWN));
	ck_assert_str_eq(admit_source_str(SA(x2), ADMIT_UNKNOWN, buf, sizeof(buf)),
	                 "2001:db8:1:2::/64");
	ck_assert_str_eq(admit_source_str(SA(x2), ADMIT_TRUNK, buf, sizeof(buf)),
	                 "2001:db8:1:2:ffff::9");
	admit_free(a);
}
END_TEST

START_TEST(admit_ipv4_mapped_is_the_ipv4_source)
{
	struct admit *a = mk(64);
	struct sockaddr_storage m = addr("::ffff:192.0.2.5", 7), v4 = addr("192.0.2.5", 8);
	char buf[64];

	ck_assert(admit_same_source(SA(m), SA(v4), ADMIT_UNKNOWN));
	ck_assert_int_eq(admit_ban(a, SA(m), ADMIT_UNKNOWN, 0, 1000, "scanner"), 0);
	ck_assert(admit_banned(a, SA(v4), ADMIT_UNKNOWN, 10, NULL, NULL));
	ck_assert_str_eq(admit_source_str(SA(m), ADMIT_UNKNOWN, buf, sizeof(buf)), "192.0.2.5");
	admit_free(a);
}
END_TEST

START_TEST(admit_table_is_bounded_and_evicts_the_longest_idle)
{
	struct admit *a = mk(4);
	struct sockaddr_storage s[6];
	struct admit_stats st;
	char ip[32];

	for (int i = 0; i < 6; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		s[i] = addr(ip, 1);
	}
	/* s0 holds a connection (pinned); s1..s3 are banned, then idle */
	ck_assert_int_eq(admit_accept(a, SA(s[0]), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	for (int i = 1; i < 4; i++)
		ck_assert_int_eq(admit_ban(a, SA(s[i]), ADMIT_UNKNOWN, (uint64_t)i, 60000, "x"), 0);
	admit_get_stats(a, 10, &st);
	ck_assert_uint_eq(st.sources, 4);
	ck_assert_uint_eq(st.banned, 3);
	/* s1 was touched again: s2 is now the longest idle */
	ck_assert_int_eq(admit_accept(a, SA(s[1]), ADMIT_UNKNOWN, 20, NULL), ADMIT_BANNED);
	ck_assert_int_eq(admit_ban(a, SA(s[4]), ADMIT_UNKNOWN, 30, 60000, "x"), 0);
	ck_assert(!admit_banned(a, SA(s[2]), ADMIT_UNKNOWN, 40, NULL, NULL));
	ck_assert(admit_banned(a, SA(s[1]), ADMIT_UNKNOWN, 40, NULL, NULL));
	ck_assert(admit_banned(a, SA(s[3]), ADMIT_UNKNOWN, 40, NULL, NULL));
	admit_get_stats(a, 40, &st);
	ck_assert_uint_eq(st.sources, 4);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert_uint_eq(admit_open(a, SA(s[0]), ADMIT_UNKNOWN), 1);
	admit_free(a);
}
END_TEST

START_TEST(admit_full_table_refuses_strangers_and_accepts_trunks)
{
	struct admit *a = mk(2);
	struct sockaddr_storage x = addr("192.0.2.1", 1), y = addr("192.0.2.2", 1),
	                        z = addr("192.0.2.3", 1), t = addr("10.0.0.1", 1);

	ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(y), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
	ck_assert_int_eq(admit_accept(a, SA(z), ADMIT_UNKNOWN, 0, NULL), ADMIT_TABLE_FULL);
	ck_assert_int_eq(admit_accept(a, SA(t), ADMIT_TRUNK, 0, NULL), ADMIT_UNTRACKED);
	admit_release(a, SA(t), ADMIT_TRUNK, 0); /* harmless */
	admit_release(a, SA(y), ADMIT_UNKNOWN, 1);
	ck_assert_int_eq(admit_accept(a, SA(z), ADMIT_UNKNOWN, 2, NULL), ADMIT_OK);
	ck_assert_uint_eq(admit_open(a, SA(x), ADMIT_UNKNOWN), 1);
	admit_free(a);
}
END_TEST

START_TEST(admit_flood_reports_are_limited_overall)
{
	struct admit_limits l = lim;
	struct admit *a = NULL;
	int reports = 0;
	char ip[32];

	l.per_source = 1;
	l.strangers = 100000;
	ck_assert_int_eq(admit_new(&a, 4096, &l, 7), 0);
	/* 1000 sources each refused at the same instant: at most the burst is reported */
	for (int i = 0; i < 1000; i++) {
		struct sockaddr_storage x;
		bool rep = false;
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		x = addr(ip, 1);
		ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, NULL), ADMIT_OK);
		ck_assert_int_eq(admit_accept(a, SA(x), ADMIT_UNKNOWN, 0, &rep), ADMIT_SOURCE_FULL);
		reports += rep;
	}
	ck_assert_int_eq(reports, 100);
	admit_free(a);
}
END_TEST

START_TEST(admit_classifies_trunks_agents_and_strangers)
{
	struct conf_cidr cidr = {.family = AF_INET, .addr = {10, 1, 0, 0}, .prefix = 16};
	struct conf_trunk tr = {.name = "pbx", .sources = &cidr, .nsources = 1};
	struct conf_agent ag = {.name = "a1"};
	struct conf c = {.trunks = &tr, .ntrunks = 1, .agents = &ag, .nagents = 1};
	struct sockaddr_storage t = addr("10.1.2.3", 5061), g = addr("192.0.2.50", 40000),
	                        u = addr("192.0.2.51", 5061);

	ck_assert_int_eq(conf_sockaddr_parse("192.0.2.50:5071", 5061, &ag.address), 0);
	ck_assert_int_eq(admit_classify(&c, SA(t)), ADMIT_TRUNK);
	ck_assert_int_eq(admit_classify(&c, SA(g)), ADMIT_AGENT); /* any port */
	ck_assert_int_eq(admit_classify(&c, SA(u)), ADMIT_UNKNOWN);
	ck_assert_str_eq(admit_class_name(ADMIT_AGENT), "agent");
}
END_TEST

START_TEST(admit_pinned_agent_certificate_makes_an_agent)
{
	struct conf_agent ag[2] = {{.name = "a1"}, {.name = "a2"}};
	struct conf c = {.agents = ag, .nagents = 2};
	uint8_t fp[32], other[32];

	memset(fp, 0xab, sizeof(fp));
	memset(other, 0xcd, sizeof(other));
	/* no pin at all: a certificate proves nothing */
	ck_assert_int_eq(admit_classify_cert(&c, fp), ADMIT_UNKNOWN);
	ag[1].fingerprint.set = true;
	memcpy(ag[1].fingerprint.sha256, fp, 32);
	ck_assert_int_eq(admit_classify_cert(&c, fp), ADMIT_AGENT);
	ck_assert_int_eq(admit_classify_cert(&c, other), ADMIT_UNKNOWN);
}
END_TEST

START_TEST(admit_knows_scanner_user_agents_in_any_case)
{
	ck_assert(admit_scanner_ua("friendly-scanner"));
	ck_assert(admit_scanner_ua("Friendly-Scanner 1.0"));
	ck_assert(admit_scanner_ua("SIPVicious/0.3.4"));
	ck_assert(admit_scanner_ua("x sipcli/v1.8"));
	ck_assert(admit_scanner_ua("sip-scan"));
	ck_assert(admit_scanner_ua("VaxSIPUserAgent/3.1"));
	ck_assert(admit_scanner_ua("PPLSIP"));
	ck_assert(!admit_scanner_ua("Asterisk PBX 20.1"));
	ck_assert(!admit_scanner_ua("sip"));
	ck_assert(!admit_scanner_ua(""));
	ck_assert(!admit_scanner_ua(NULL));
}
END_TEST

START_TEST(admit_new_refuses_an_empty_table)
{
	struct admit *a = (struct admit *)&lim;

	ck_assert_int_eq(admit_new(&a, 0, &lim, 1), -EINVAL);
	ck_assert_ptr_eq(a, (struct admit *)&lim);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("admit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, admit_caps_connections_of_one_stranger);
	tcase_add_test(tc, admit_strangers_share_never_takes_the_trunks_place);
	tcase_add_test(tc, admit_stranger_over_budget_is_banned_for_ban_ms);
	tcase_add_test(tc, admit_trunk_over_budget_is_shed_never_banned);
	tcase_add_test(tc, admit_no_budget_when_rate_is_zero);
	tcase_add_test(tc, admit_ban_is_not_shortened_and_names_its_reason);
	tcase_add_test(tc, admit_ipv6_strangers_count_per_slash64);
	tcase_add_test(tc, admit_ipv4_mapped_is_the_ipv4_source);
	tcase_add_test(tc, admit_table_is_bounded_and_evicts_the_longest_idle);
	tcase_add_test(tc, admit_full_table_refuses_strangers_and_accepts_trunks);
	tcase_add_test(tc, admit_flood_reports_are_limited_overall);
	tcase_add_test(tc, admit_classifies_trunks_agents_and_strangers);
	tcase_add_test(tc, admit_pinned_agent_certificate_makes_an_agent);
	tcase_add_test(tc, admit_knows_scanner_user_agents_in_any_case);
	tcase_add_test(tc, admit_new_refuses_an_empty_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
