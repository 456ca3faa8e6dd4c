/*
 * test_sha256.c: sha256_digest() gives FIPS 180-2's SHA-256 (the empty message, one block,
 * two blocks), and threads whose first digest races the one-time fetch all get it.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "sha256.h"

static void
check_vector(const char *msg, const char *hex)
{
	uint8_t md[SHA256_LEN];
	char out[2 * SHA256_LEN + 1];

	ck_assert_int_eq(sha256_digest(msg, strlen(msg), md), 0);
	ck_assert_str_eq(json_out_hex(out, md, sizeof(md)), hex);
}

START_TEST(sha256_matches_the_fips_vectors)
{
	check_vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

#define NTHREADS 8

static void *
digest_abc(void *arg)
{
	uint8_t *md = arg;

	return (void *)(intptr_t)sha256_digest("abc", 3, md);
}

START_TEST(sha256_first_use_from_many_threads_at_once)
{
	pthread_t t[NTHREADS];
	uint8_t md[NTHREADS][SHA256_LEN];
	char out[2 * SHA256_LEN + 1];

	/* a fresh process (Check forks each test): no digest was made in it yet */
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, digest_abc, md[i]), 0);
	for (int i = 0; i < NTHREADS; i++) {
		void *rc;
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_int_eq((int)(intptr_t)rc, 0);
		ck_assert_str_eq(
		        json_out_hex(out, md[i], SHA256_LEN),
		        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}
}
END_TEST

static Suite *
sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sha256_matches_the_fips_vectors);
	tcase_add_test(tc, sha256_first_use_from_many_threads_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sha256_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
