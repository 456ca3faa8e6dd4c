/*
 * test_sdp.c: the SDP side of the B2BUA (lib/sdp.h): parsing, offer/answer policy,
 * building the other leg's SDP, hold detection and downgrade refusal.
 * Fixtures: tests/data/sdp/ (real-world-looking offers, CRLF).
 * One Check suite in three files: this one has the shared helpers (test_sdp.h), hold and
 * re-INVITE and the suite; test_sdp_parse.c parsing and offer policy; test_sdp_build.c
 * building offers and answers.
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"
#include "test_sdp.h"

const enum srtp_suite pref_default[] = {SUITE_AES_CM_128_HMAC_SHA1_80,
                                        SUITE_AES_CM_128_HMAC_SHA1_32};
const enum srtp_suite pref_256_first[] = {SUITE_AES_256_CM_HMAC_SHA1_80,
                                          SUITE_AES_CM_128_HMAC_SHA1_80};
const enum srtp_suite pref_gcm[] = {SUITE_AEAD_AES_128_GCM, SUITE_AES_CM_128_HMAC_SHA1_80,
                                    SUITE_AES_CM_128_HMAC_SHA1_32};

char *
load(const char *name, size_t *len)
{
	const char *dir = getenv("SW_TESTDATA");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/data/sdp/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct sdp_desc *
parse_file(const char *name)
{
	struct sdp_desc *d = NULL;
	const char *why = NULL;
	size_t len;
	char *body = load(name, &len);
	int rc = sdp_parse(&d, body, len, &why);

	ck_assert_msg(rc == 0, "%s: %s", name, why ? why : "?");
	free(body);
	return d;
}

struct sdp_desc *
parse_str(const char *s)
{
	struct sdp_desc *d = NULL;
	const char *why = NULL;
	int rc = sdp_parse(&d, s, strlen(s), &why);

	ck_assert_msg(rc == 0, "parse: %s", why ? why : "?");
	return d;
}

/* The quoted Warning text must be safe: printable, no quote, no backslash, not empty. */
void
assert_warning_text_safe(const struct sdp_verdict *v)
{
	const char *s;

	ck_assert_int_gt((int)strlen(v->text), 0);
	for (s = v->text; *s; s++)
		ck_assert(*s >= ' ' && *s <= '~' && *s != '"' && *s != '\\');
}

/* ---- hold and re-INVITE ------------------------------------------------------------- */

static struct sdp_desc *
offer_with(const char *caddr, const char *dirline)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
	         "m=audio 4000 RTP/SAVP 0\r\n%s"
	         "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n",
	         caddr, dirline);
	return parse_str(buf);
}

START_TEST(sdp_hold_and_resume_detected)
{
	static const struct {
		const char *addr, *dir;
		bool hold;
		enum sdp_dir eff;
	} cases[] = {
	        {"192.0.2.1", "", false, SDP_DIR_SENDRECV},
	        {"192.0.2.1", "a=sendrecv\r\n", false, SDP_DIR_SENDRECV},
	        {"192.0.2.1", "a=sendonly\r\n", true, SDP_DIR_SENDONLY},
	        {"192.0.2.1", "a=inactive\r\n", true, SDP_DIR_INACTIVE},
	        {"192.0.2.1", "a=recvonly\r\n", false, SDP_DIR_RECVONLY},
	        {"0.0.0.0", "", true, SDP_DIR_SENDONLY},
	        {"0.0.0.0", "a=recvonly\r\n", true, SDP_DIR_INACTIVE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sdp_desc *d = offer_with(cases[i].addr, cases[i].dir);

		ck_assert_msg(sdp_stream_is_hold(&d->media[0]) == cases[i].hold, "case %zu", i);
		ck_assert_int_eq(sdp_stream_dir(&d->media[0]), cases[i].eff);
		sdp_desc_free(d);
	}
}
END_TEST

START_TEST(sdp_session_level_direction_applies_to_media)
{
	struct sdp_desc *d = parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	                               "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=inactive\r\n"
	                               "m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n"
	                               "a=sendrecv\r\n");

	ck_assert(sdp_stream_is_hold(&d->media[0]));
	ck_assert(!sdp_stream_is_hold(&d->media[1]));
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_downgrade_on_reinvite_refused)
{
	struct sdp_policy pol = POLICY(pref_256_first, true, true);
	struct sdp_verdict old = {
	        .reason = SDP_OK, .srtp = true, .suite = SUITE_AES_256_CM_HMAC_SHA1_80, .tag = 1};
	struct sdp_verdict neu = old, why;
	static const enum srtp_suite pref_32[] = {SUITE_AES_CM_128_HMAC_SHA1_80,
	                                          SUITE_AES_CM_128_HMAC_SHA1_32};
	struct sdp_policy pol32 = POLICY(pref_32, true, false);

	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), 0);

	neu.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), -EPERM);
	ck_assert_int_eq(why.reason, SDP_R_DOWNGRADE);
	ck_assert_str_eq(sdp_reason_name(why.reason), "downgrade");
	assert_warning_text_safe(&why);

	/* upgrade is fine */
	ck_assert_int_eq(sdp_check_downgrade(&neu, &old, &pol, &why), 0);

	neu.srtp = false;
	neu.suite = SUITE_NONE;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why.text, "plain RTP"));

	/* a shorter tag is weaker even if both suites are configured and in order */
	old.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	neu.srtp = true;
	neu.suite = SUITE_AES_CM_128_HMAC_SHA1_32;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol32, &why), -EPERM);
	/* plain to plain (legacy) and plain to SRTP are not downgrades */
	old.srtp = false;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), 0);
}
END_TEST

START_TEST(sdp_reinvite_from_real_offers_detects_weaker_suite)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *first = parse_file("asterisk_savp_two_crypto.sdp");
	struct sdp_desc *second = offer_with("192.0.2.1", "");
	struct sdp_desc *third;
	struct sdp_verdict v1, v2, v3;

	ck_assert_int_eq(sdp_check_offer(first, &pol, &v1), 0);
	ck_assert_int_eq(sdp_check_offer(second, &pol, &v2), 0);
	ck_assert_int_eq(sdp_check_downgrade(&v1, &v2, &pol, &v2), 0);
	third = parse_str("v=0\r\no=- 1 3 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                  "t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
	                  "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_B "\r\n");
	ck_assert_int_eq(sdp_check_offer(third, &pol, &v3), 0);
	ck_assert_int_eq(sdp_check_downgrade(&v1, &v3, &pol, &v3), -EPERM);
	ck_assert_int_eq(v3.reason, SDP_R_DOWNGRADE);
	sdp_desc_free(first);
	sdp_desc_free(second);
	sdp_desc_free(third);
}
END_TEST

/* ---- what a call keeps of an accepted SDP (issue 12: memory per live call) ---- */

/* An offer as a trunk sends it: three formats, two a=crypto lines. */
static const char kept_offer[] = "v=0\r\n"
                                 "o=pbx 1733387000 1733387000 IN IP4 10.0.0.1\r\n"
                                 "s=call\r\n"
                                 "c=IN IP4 10.0.0.1\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 40000 RTP/SAVP 0 8 101\r\n"
                                 "a=rtpmap:0 PCMU/8000\r\n"
                                 "a=rtpmap:8 PCMA/8000\r\n"
                                 "a=rtpmap:101 telephone-event/8000\r\n"
                                 "a=fmtp:101 0-16\r\n"
                                 "a=ptime:20\r\n"
                                 "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_A "\r\n"
                                 "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n"
                                 "a=sendrecv\r\n";

/* The SDP a call keeps costs at most this many heap bytes (glibc's chunk overhead
 * included): with its two a=crypto lines (824 bytes each, room for four keys with MKIs)
 * it took 2,512. */
#define KEPT_SDP_BUDGET 1024

START_TEST(a_kept_sdp_holds_only_the_chosen_key_and_fits_its_budget)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_origin o = {1, 1};
	struct sdp_local loc = {&o, "192.0.2.1", 41000, false};
	struct sdp_verdict v, v2;
	struct sdp_choice ch;
	struct srtp_keys chosen, ours;
	const struct srtp_keys *k;
	struct sdp_desc *d;
	char *text = NULL;
	size_t before;

	sdp_desc_free(parse_str(kept_offer)); /* first-use allocations outside the measure */
	before = mallinfo2().uordblks;
	d = parse_str(kept_offer);
	ck_assert_int_eq(sdp_check_offer(d, &pol, &v), 0);
	ck_assert_uint_eq(v.tag, 2); /* our preference: the 80-bit tag */
	ch = sdp_choice_of(&v);
	ck_assert_ptr_nonnull(k = sdp_desc_key(d, &ch));
	chosen = *k;
	ck_assert_int_eq(sdp_desc_keep_key(d, &ch), 0);
	size_t kept = mallinfo2().uordblks - before;
	ck_assert_msg(kept <= KEPT_SDP_BUDGET, "the kept SDP takes %zu heap bytes", kept);
	for (size_t i = 0; i < d->nmedia; i++)
		ck_assert_ptr_null(d->media[i].crypto);

	/* the key the check chose is still there */
	ck_assert_ptr_nonnull(k = sdp_desc_key(d, &ch));
	ck_assert_int_eq(k->suite, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_uint_eq(k->tag, 2);
	ck_assert_mem_eq(k->key, chosen.key, sizeof(chosen.key));
	ck_assert_mem_eq(k->salt, chosen.salt, sizeof(chosen.salt));
	/* an answer to it is still built (formats, our key with its tag), from the verdict
	 * the call keeps (its choice) */
	v2 = sdp_choice_verdict(&ch);
	ck_assert_int_eq(sdp_build_answer(&text, &loc, d, &v2, NULL, &ours), 0);
	ck_assert_ptr_nonnull(strstr(text, "m=audio 41000 RTP/SAVP 0 8 101\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
	/* once more, or a policy check of what has no a=crypto left: refused */
	ck_assert_int_eq(sdp_desc_keep_key(d, &ch), -EINVAL);
	ck_assert_int_eq(sdp_check_offer(d, &pol, &v2), -EINVAL);
	sdp_text_free(text);
	srtp_keys_wipe(&ours);
	srtp_keys_wipe(&chosen);
	sdp_desc_free(d);
}
END_TEST

static Suite *
sdp_suite(void)
{
	Suite *s = suite_create("sdp");
	TCase *h = tcase_create("hold_reinvite");

	suite_add_tcase(s, sdp_parse_tcase());
	suite_add_tcase(s, sdp_offer_tcase());
	suite_add_tcase(s, sdp_build_tcase());

	tcase_add_test(h, sdp_hold_and_resume_detected);
	tcase_add_test(h, sdp_session_level_direction_applies_to_media);
	tcase_add_test(h, sdp_downgrade_on_reinvite_refused);
	tcase_add_test(h, sdp_reinvite_from_real_offers_detects_weaker_suite);
	suite_add_tcase(s, h);
	h = tcase_create("kept");
	tcase_add_test(h, a_kept_sdp_holds_only_the_chosen_key_and_fits_its_budget);
	suite_add_tcase(s, h);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sdp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
