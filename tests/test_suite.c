/*
 * test_suite.c: the suite table (lengths from RFC 4568 s6.2, RFC 6188, RFC 7714), lookup
 * by name, and the life cycle of struct srtp_keys (fresh, concatenated, wiped).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

START_TEST(suite_table_has_rfc_lengths)
{
	static const struct {
		enum srtp_suite s;
		unsigned key, salt, rtp_tag, rtcp_tag;
		bool usable;
	} want[] = {
	        {SUITE_AES_CM_128_HMAC_SHA1_80, 16, 14, 10, 10, true},
	        {SUITE_AES_CM_128_HMAC_SHA1_32, 16, 14, 4, 10, true},
	        {SUITE_AES_256_CM_HMAC_SHA1_80, 32, 14, 10, 10, true},
	        {SUITE_AES_256_CM_HMAC_SHA1_32, 32, 14, 4, 10, true},
	        {SUITE_AEAD_AES_128_GCM, 16, 12, 16, 16, true},
	        {SUITE_AEAD_AES_256_GCM, 32, 12, 16, 16, true},
	        {SUITE_F8_128_HMAC_SHA1_80, 16, 14, 10, 10, false},
	        {SUITE_AES_192_CM_HMAC_SHA1_80, 24, 14, 10, 10, false},
	        {SUITE_AES_192_CM_HMAC_SHA1_32, 24, 14, 4, 10, false},
	};
	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), SUITE_COUNT - 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct suite_info *si = suite_info(want[i].s);
		ck_assert_ptr_nonnull(si);
		ck_assert_int_eq(si->id, want[i].s);
		ck_assert_uint_eq(si->key_len, want[i].key);
		ck_assert_uint_eq(si->salt_len, want[i].salt);
		ck_assert_uint_eq(si->rtp_tag_len, want[i].rtp_tag);
		ck_assert_uint_eq(si->rtcp_tag_len, want[i].rtcp_tag);
		ck_assert(si->usable == want[i].usable);
		ck_assert_uint_le(si->key_len, SUITE_MAX_KEY_LEN);
		ck_assert_uint_le(si->salt_len, SUITE_MAX_SALT_LEN);
	}
}
END_TEST

START_TEST(suite_info_refuses_none_and_out_of_range)
{
	ck_assert_ptr_null(suite_info(SUITE_NONE));
	ck_assert_ptr_null(suite_info(SUITE_COUNT));
	ck_assert_ptr_null(suite_info((enum srtp_suite) - 1));
}
END_TEST

START_TEST(suite_by_name_is_case_insensitive_and_exact)
{
	ck_assert_int_eq(suite_by_name("AES_CM_128_HMAC_SHA1_80", 23),
	                 SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_int_eq(suite_by_name("aes_cm_128_hmac_sha1_32", 23),
	                 SUITE_AES_CM_128_HMAC_SHA1_32);
	ck_assert_int_eq(suite_by_name("aead_AES_256_gcm", 16), SUITE_AEAD_AES_256_GCM);
	/* length bounds the comparison: trailing bytes are not read */
	ck_assert_int_eq(suite_by_name("AEAD_AES_128_GCM_8", 16), SUITE_AEAD_AES_128_GCM);
	ck_assert_int_eq(suite_by_name("AEAD_AES_128_GCM_8", 18), SUITE_NONE);
	ck_assert_int_eq(suite_by_name("AES_CM_128_HMAC_SHA1", 20), SUITE_NONE);
	ck_assert_int_eq(suite_by_name("AES_CM_256_HMAC_SHA1_80", 23), SUITE_NONE);
	ck_assert_int_eq(suite_by_name("", 0), SUITE_NONE);
	ck_assert_int_eq(suite_by_name(NULL, 5), SUITE_NONE);
	for (unsigned i = 1; i < SUITE_COUNT; i++) {
		const struct suite_info *si = suite_info((enum srtp_suite)i);
		ck_assert_int_eq(suite_by_name(si->name, strlen(si->name)), (enum srtp_suite)i);
	}
}
END_TEST

START_TEST(srtp_keys_generate_gives_fresh_keys_each_call)
{
	struct srtp_keys a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(srtp_keys_generate(&a, SUITE_AEAD_AES_256_GCM), 0);
	ck_assert_int_eq(srtp_keys_generate(&b, SUITE_AEAD_AES_256_GCM), 0);
	ck_assert_int_eq(a.suite, SUITE_AEAD_AES_256_GCM);
	ck_assert(!all_zero(a.key, 32));
	ck_assert(!all_zero(a.salt, 12));
	ck_assert(memcmp(a.key, b.key, 32) != 0);
	ck_assert(memcmp(a.salt, b.salt, 12) != 0);
	/* bytes beyond the suite's lengths stay zero */
	ck_assert(all_zero(a.salt + 12, SUITE_MAX_SALT_LEN - 12));
	srtp_keys_wipe(&a);
	srtp_keys_wipe(&b);
}
END_TEST

START_TEST(srtp_keys_generate_keeps_tag_and_zeroes_unused_tail)
{
	struct srtp_keys k;

	memset(&k, 0xAA, sizeof(k));
	k.tag = 7;
	k.mki_len = 0;
	ck_assert_int_eq(srtp_keys_generate(&k, SUITE_AES_CM_128_HMAC_SHA1_80), 0);
	ck_assert_uint_eq(k.tag, 7);
	ck_assert(all_zero(k.key + 16, SUITE_MAX_KEY_LEN - 16));
	srtp_keys_wipe(&k);
}
END_TEST

START_TEST(srtp_keys_generate_refuses_unknown_suite)
{
	struct srtp_keys k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(srtp_keys_generate(&k, SUITE_NONE), -EINVAL);
	ck_assert_int_eq(srtp_keys_generate(&k, SUITE_COUNT), -EINVAL);
	ck_assert_int_eq(srtp_keys_generate(NULL, SUITE_AEAD_AES_128_GCM), -EINVAL);
}
END_TEST

START_TEST(srtp_keys_generate_n_gives_each_key_its_own_bytes_and_keeps_tags)
{
	static const enum srtp_suite which[] = {SUITE_AES_256_CM_HMAC_SHA1_80,
	                                        SUITE_AES_CM_128_HMAC_SHA1_80,
	                                        SUITE_AEAD_AES_128_GCM};
	struct srtp_keys k[3];

	memset(k, 0xAA, sizeof(k));
	for (int i = 0; i < 3; i++) {
		k[i].tag = (uint32_t)(10 + i);
		k[i].mki_len = 0;
	}
	ck_assert_int_eq(srtp_keys_generate_n(k, which, 3), 0);
	for (int i = 0; i < 3; i++) {
		const struct suite_info *si = suite_info(which[i]);

		ck_assert_int_eq(k[i].suite, which[i]);
		ck_assert_uint_eq(k[i].tag, 10 + i);
		ck_assert(!all_zero(k[i].key, si->key_len));
		ck_assert(all_zero(k[i].key + si->key_len, SUITE_MAX_KEY_LEN - si->key_len));
		ck_assert(all_zero(k[i].salt + si->salt_len, SUITE_MAX_SALT_LEN - si->salt_len));
	}
	/* no key starts where another's bytes were: key 1 is not a slice of key 0 or its salt */
	ck_assert_int_ne(memcmp(k[0].key, k[1].key, 16), 0);
	ck_assert_int_ne(memcmp(k[0].key + 16, k[1].key, 16), 0);
	ck_assert_int_ne(memcmp(k[1].key, k[2].key, 16), 0);
	ck_assert_int_ne(memcmp(k[1].salt, k[2].salt, 12), 0);
	for (int i = 0; i < 3; i++)
		srtp_keys_wipe(&k[i]);
}
END_TEST

START_TEST(srtp_keys_generate_n_refuses_an_unknown_suite_and_wipes_all)
{
	static const enum srtp_suite which[] = {SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_NONE};
	struct srtp_keys k[2];

	memset(k, 0xAA, sizeof(k));
	ck_assert_int_eq(srtp_keys_generate_n(k, which, 2), -EINVAL);
	for (int i = 0; i < 2; i++) {
		ck_assert(all_zero(k[i].key, sizeof(k[i].key)));
		ck_assert(all_zero(k[i].salt, sizeof(k[i].salt)));
		ck_assert_int_eq(k[i].suite, SUITE_NONE);
	}
	ck_assert_int_eq(srtp_keys_generate_n(k, which, 0), -EINVAL);
	ck_assert_int_eq(srtp_keys_generate_n(NULL, which, 1), -EINVAL);
}
END_TEST

START_TEST(srtp_keys_wipe_zeroes_everything)
{
	struct srtp_keys k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(srtp_keys_generate(&k, SUITE_AES_256_CM_HMAC_SHA1_80), 0);
	k.mki[0] = 1;
	k.mki_len = 4;
	k.tag = 3;
	ck_assert(!all_zero(k.key, sizeof(k.key)));
	srtp_keys_wipe(&k);
	ck_assert(all_zero(k.key, sizeof(k.key)));
	ck_assert(all_zero(k.salt, sizeof(k.salt)));
	ck_assert(all_zero(k.mki, sizeof(k.mki)));
	ck_assert_uint_eq(k.mki_len, 0);
	ck_assert_int_eq(k.suite, SUITE_NONE);
	srtp_keys_wipe(NULL);
}
END_TEST

START_TEST(srtp_keys_concat_puts_salt_after_key)
{
	struct srtp_keys k;
	uint8_t out[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN];

	memset(&k, 0, sizeof(k));
	k.suite = SUITE_AEAD_AES_128_GCM;
	for (int i = 0; i < 16; i++)
		k.key[i] = (uint8_t)i;
	for (int i = 0; i < 12; i++)
		k.salt[i] = (uint8_t)(0x80 + i);
	memset(out, 0xEE, sizeof(out));
	ck_assert_uint_eq(srtp_keys_concat(&k, out), 28);
	ck_assert_mem_eq(out, k.key, 16);
	ck_assert_mem_eq(out + 16, k.salt, 12);
	ck_assert_uint_eq(out[28], 0xEE);
	k.suite = SUITE_NONE;
	ck_assert_uint_eq(srtp_keys_concat(&k, out), 0);
	srtp_keys_wipe(&k);
}
END_TEST

static Suite *
suite_suite(void)
{
	Suite *s = suite_create("suite");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, suite_table_has_rfc_lengths);
	tcase_add_test(tc, srtp_keys_generate_n_gives_each_key_its_own_bytes_and_keeps_tags);
	tcase_add_test(tc, srtp_keys_generate_n_refuses_an_unknown_suite_and_wipes_all);
	tcase_add_test(tc, suite_info_refuses_none_and_out_of_range);
	tcase_add_test(tc, suite_by_name_is_case_insensitive_and_exact);
	tcase_add_test(tc, srtp_keys_generate_gives_fresh_keys_each_call);
	tcase_add_test(tc, srtp_keys_generate_keeps_tag_and_zeroes_unused_tail);
	tcase_add_test(tc, srtp_keys_generate_refuses_unknown_suite);
	tcase_add_test(tc, srtp_keys_wipe_zeroes_everything);
	tcase_add_test(tc, srtp_keys_concat_puts_salt_after_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
