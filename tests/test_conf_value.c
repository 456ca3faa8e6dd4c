/*
 * test_conf_value.c: part of the conf unit test (test_conf.c has the fixture and the
 * suite): the value parsers (lib/conf_value.c) accept the documented forms only,
 * fingerprints, socket addresses, and the trunk and CIDR matching.
 */
#include <check.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_value.h"
#include "test_conf.h"

START_TEST(conf_value_parsers_accept_documented_forms_only)
{
	unsigned long long ms;
	unsigned long u;
	bool b;

	ck_assert_int_eq(conf_value_duration_ms("300ms", &ms), 0);
	ck_assert_uint_eq(ms, 300);
	ck_assert_int_eq(conf_value_duration_ms("5s", &ms), 0);
	ck_assert_uint_eq(ms, 5000);
	ck_assert_int_eq(conf_value_duration_ms("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(conf_value_duration_ms("1h", &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(conf_value_duration_ms("7", &ms), 0);
	ck_assert_uint_eq(ms, 7000);
	ck_assert_int_lt(conf_value_duration_ms("", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("s", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("5 s", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("-5s", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("1.5s", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("5d", &ms), 0);
	ck_assert_int_lt(conf_value_duration_ms("99999999999s", &ms), 0);

	ck_assert_int_eq(conf_value_size("64k", &u), 0);
	ck_assert_uint_eq(u, 65536);
	ck_assert_int_eq(conf_value_size("1000", &u), 0);
	ck_assert_uint_eq(u, 1000);
	ck_assert_int_lt(conf_value_size("k", &u), 0);
	ck_assert_int_lt(conf_value_size("1M", &u), 0);
	ck_assert_int_lt(conf_value_size("4194304k", &u), 0);

	ck_assert_int_eq(conf_value_uint("4294967295", &u), 0);
	ck_assert_int_lt(conf_value_uint("4294967296", &u), 0);
	ck_assert_int_lt(conf_value_uint("+1", &u), 0);
	ck_assert_int_lt(conf_value_uint("0x10", &u), 0);
	ck_assert_int_lt(conf_value_uint("1 ", &u), 0);

	ck_assert_int_eq(conf_value_mode("0660", &u), 0);
	ck_assert_uint_eq(u, 0660);
	ck_assert_int_lt(conf_value_mode("0680", &u), 0);
	ck_assert_int_lt(conf_value_mode("00660", &u), 0);

	static const char *const yes[] = {"yes", "YES", "true", "on", "1"};
	static const char *const no[] = {"no", "False", "off", "0"};
	for (size_t i = 0; i < 5; i++) {
		b = false;
		ck_assert_int_eq(conf_value_bool(yes[i], &b), 0);
		ck_assert(b);
	}
	for (size_t i = 0; i < 4; i++) {
		b = true;
		ck_assert_int_eq(conf_value_bool(no[i], &b), 0);
		ck_assert(!b);
	}
	ck_assert_int_lt(conf_value_bool("y", &b), 0);
	ck_assert_int_lt(conf_value_bool("2", &b), 0);
}
END_TEST

START_TEST(conf_fingerprint_with_or_without_colons)
{
	uint8_t a[32], b[32];

	ck_assert_int_eq(conf_value_fingerprint("3A:F5:8B:54:1C:0E:2E:86:DA:72:91:3C:7A:1E:57:0F:"
	                                        "CE:D9:16:4B:43:63:B4:E6:A6:91:47:5E:D1:0B:6C:3E",
	                                        a),
	                 0);
	ck_assert_int_eq(conf_value_fingerprint("3af58b541c0e2e86da72913c7a1e570fced9164b4363b4e6"
	                                        "a691475ed10b6c3e",
	                                        b),
	                 0);
	ck_assert_mem_eq(a, b, 32);
	/* Too short, too long, stray colon, non-hex. */
	ck_assert_int_lt(conf_value_fingerprint("3af58b", a), 0);
	ck_assert_int_lt(conf_value_fingerprint("3af58b541c0e2e86da72913c7a1e570fced9164b4363b4e6"
	                                        "a691475ed10b6c3e00",
	                                        a),
	                 0);
	ck_assert_int_lt(conf_value_fingerprint("3A:F58B:54:1C:0E:2E:86:DA:72:91:3C:7A:1E:57:0F:"
	                                        "CE:D9:16:4B:43:63:B4:E6:A6:91:47:5E:D1:0B:6C:3E",
	                                        a),
	                 0);
	ck_assert_int_lt(conf_value_fingerprint("zzf58b541c0e2e86da72913c7a1e570fced9164b4363b4e6"
	                                        "a691475ed10b6c3e",
	                                        a),
	                 0);
	ck_assert_int_lt(conf_value_fingerprint("3A:F5:8B:54:1C:0E:2E:86:DA:72:91:3C:7A:1E:57:0F:"
	                                        "CE:D9:16:4B:43:63:B4:E6:A6:91:47:5E:D1:0B:6C:3E:",
	                                        a),
	                 0);
}
END_TEST

START_TEST(conf_sockaddr_parse_and_print)
{
	struct conf_sockaddr a;
	char buf[64];

	ck_assert_int_eq(conf_sockaddr_parse("192.0.2.1:5061", 0, &a), 0);
	ck_assert_str_eq(conf_sockaddr_str(&a, buf, sizeof(buf)), "192.0.2.1:5061");
	ck_assert_int_eq(conf_sockaddr_parse("192.0.2.1", 5061, &a), 0);
	ck_assert_str_eq(conf_sockaddr_str(&a, buf, sizeof(buf)), "192.0.2.1:5061");
	ck_assert_int_eq(conf_sockaddr_parse("[2001:db8::1]:5062", 0, &a), 0);
	ck_assert_str_eq(conf_sockaddr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5062");
	ck_assert_int_eq(conf_sockaddr_parse("2001:db8::1", 5061, &a), 0);
	ck_assert_str_eq(conf_sockaddr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5061");
	ck_assert_int_eq(conf_sockaddr_parse("[::1]", 7, &a), 0);
	ck_assert_str_eq(conf_sockaddr_str(&a, buf, sizeof(buf)), "[::1]:7");
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in6));
	static const char *const bad[] = {"",
	                                  "example.com:5061",
	                                  "192.0.2.1:",
	                                  "192.0.2.1:0",
	                                  "192.0.2.1:65536",
	                                  "192.0.2.1:50x",
	                                  "[192.0.2.1]:5061",
	                                  "[::1",
	                                  "[::1]5061",
	                                  "256.0.0.1",
	                                  "192.0.2.1:-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conf_sockaddr_parse(bad[i], 5061, &a) < 0, "accepted '%s'", bad[i]);
}
END_TEST

static struct sockaddr_storage
sa_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

START_TEST(conf_trunk_by_source_matches_allow_list_only)
{
	char err[CONF_ERR_MAX] = "";
	struct conf *c = load_fixture("good-full.conf", err, sizeof(err));
	struct sockaddr_storage ss;

	ck_assert_msg(c != NULL, "%s", err);
	ss = sa_of("192.0.2.77");
	ck_assert_str_eq(conf_trunk_by_source(c, (struct sockaddr *)&ss)->name, "carrier");
	ss = sa_of("198.51.100.1");
	ck_assert_str_eq(conf_trunk_by_source(c, (struct sockaddr *)&ss)->name, "carrier");
	ss = sa_of("2001:db8:ffff::9");
	ck_assert_str_eq(conf_trunk_by_source(c, (struct sockaddr *)&ss)->name, "carrier");
	ss = sa_of("10.1.200.3");
	ck_assert_str_eq(conf_trunk_by_source(c, (struct sockaddr *)&ss)->name, "pbx");
	/* IPv4-mapped IPv6 (a dual-stack socket) is the IPv4 address. */
	ss = sa_of("::ffff:10.1.0.1");
	ck_assert_str_eq(conf_trunk_by_source(c, (struct sockaddr *)&ss)->name, "pbx");
	/* Outside every list. */
	static const char *const others[] = {"192.0.3.1",   "198.51.100.2", "10.2.0.1",
	                                     "2001:db9::1", "127.0.0.1",    "::ffff:192.0.3.1"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ss = sa_of(others[i]);
		ck_assert_msg(conf_trunk_by_source(c, (struct sockaddr *)&ss) == NULL, "%s matched",
		              others[i]);
	}
	conf_unref(c);
}
END_TEST

START_TEST(conf_cidr_match_edges)
{
	struct conf_cidr *list;
	size_t n;
	char why[256];
	struct sockaddr_storage ss;

	ck_assert_int_eq(conf_value_cidrs("0.0.0.0/0, ::/0", &list, &n, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, 2);
	ss = sa_of("203.0.113.9");
	ck_assert(conf_cidr_match(&list[0], (struct sockaddr *)&ss));
	ck_assert(!conf_cidr_match(&list[1], (struct sockaddr *)&ss));
	free(list);
	ck_assert_int_eq(conf_value_cidrs("192.0.2.128/25", &list, &n, why, sizeof(why)), 0);
	ss = sa_of("192.0.2.127");
	ck_assert(!conf_cidr_match(&list[0], (struct sockaddr *)&ss));
	ss = sa_of("192.0.2.128");
	ck_assert(conf_cidr_match(&list[0], (struct sockaddr *)&ss));
	free(list);
	ck_assert_int_lt(conf_value_cidrs("", &list, &n, why, sizeof(why)), 0);
	ck_assert_int_lt(conf_value_cidrs("192.0.2.0/24,", &list, &n, why, sizeof(why)), 0);
	ck_assert_int_lt(conf_value_cidrs("example.com", &list, &n, why, sizeof(why)), 0);
}
END_TEST

TCase *
conf_value_tcase(void)
{
	TCase *tc = tcase_create("value");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, conf_value_parsers_accept_documented_forms_only);
	tcase_add_test(tc, conf_fingerprint_with_or_without_colons);
	tcase_add_test(tc, conf_sockaddr_parse_and_print);
	tcase_add_test(tc, conf_trunk_by_source_matches_allow_list_only);
	tcase_add_test(tc, conf_cidr_match_edges);
	return tc;
}
