/* Unit tests for lib/strmap.c: the intrusive string index and its keyed hash. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

struct item {
	char key[32];
	struct strmap_node node;
};

/* SipHash-2-4 reference vectors: key 00..0f, message 00..len-1 (from the paper). */
START_TEST(strmap_siphash_matches_the_reference_vectors)
{
	uint8_t k[16], msg[64];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(strmap_siphash(k, msg, 0), 0x726fdb47dd0e0e31ULL);
	ck_assert_uint_eq(strmap_siphash(k, msg, 1), 0x74f839c593dc67fdULL);
	ck_assert_uint_eq(strmap_siphash(k, msg, 8), 0x93f5f5799a932462ULL);
	ck_assert_uint_eq(strmap_siphash(k, msg, 63), 0x958a324ceb064572ULL);
}
END_TEST

START_TEST(strmap_finds_adds_and_deletes_among_10000_keys)
{
	struct strmap *m = NULL;
	struct item *it = calloc(10000, sizeof(*it));
	size_t nb, longest;

	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(strmap_new(&m), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(it[i].key, sizeof(it[i].key), "call-%d@host", i);
		strmap_add(m, &it[i].node, it[i].key, strlen(it[i].key), &it[i]);
	}
	ck_assert_uint_eq(strmap_count(m), 10000);
	for (int i = 0; i < 10000; i++) {
		struct strmap_node *n = strmap_find(m, it[i].key, strlen(it[i].key));
		ck_assert_ptr_nonnull(n);
		ck_assert_ptr_eq(n->value, &it[i]);
		ck_assert_ptr_null(strmap_find_next(n));
	}
	ck_assert_ptr_null(strmap_find(m, "call-10000@host", 15));
	ck_assert_ptr_null(strmap_find(m, "call-1@hos", 10)); /* a prefix is not a key */
	/* the array grew with the content: buckets stay short */
	strmap_shape(m, &nb, &longest);
	ck_assert_uint_ge(nb, 8192);
	ck_assert_uint_le(longest, 12);

	for (int i = 0; i < 10000; i += 2)
		strmap_del(&it[i].node);
	strmap_del(&it[0].node); /* twice: harmless */
	ck_assert_uint_eq(strmap_count(m), 5000);
	ck_assert_ptr_null(strmap_find(m, it[0].key, strlen(it[0].key)));
	ck_assert_ptr_eq(strmap_find(m, it[1].key, strlen(it[1].key))->value, &it[1]);
	strmap_free(m);
	/* nodes left in a freed map are unlinked, deleting them again is harmless */
	ck_assert_ptr_null(it[1].node.pprev);
	strmap_del(&it[1].node);
	free(it);
}
END_TEST

START_TEST(strmap_keeps_nodes_sharing_a_key_newest_first_across_growth)
{
	struct strmap *m = NULL;
	struct item same[3] = {0}, other[200] = {0};
	struct strmap_node *n;

	ck_assert_int_eq(strmap_new(&m), 0);
	for (int i = 0; i < 3; i++) {
		strcpy(same[i].key, "dup@host");
		strmap_add(m, &same[i].node, same[i].key, 8, &same[i]);
	}
	for (int i = 0; i < 200; i++) { /* forces the bucket array to grow */
		snprintf(other[i].key, sizeof(other[i].key), "o%d", i);
		strmap_add(m, &other[i].node, other[i].key, strlen(other[i].key), &other[i]);
	}
	n = strmap_find(m, "dup@host", 8);
	ck_assert_ptr_eq(n->value, &same[2]);
	n = strmap_find_next(n);
	ck_assert_ptr_eq(n->value, &same[1]);
	n = strmap_find_next(n);
	ck_assert_ptr_eq(n->value, &same[0]);
	ck_assert_ptr_null(strmap_find_next(n));

	/* deleting the middle one keeps the others */
	strmap_del(&same[1].node);
	n = strmap_find(m, "dup@host", 8);
	ck_assert_ptr_eq(n->value, &same[2]);
	ck_assert_ptr_eq(strmap_find_next(n)->value, &same[0]);
	/* re-adding a node moves it, it is not linked twice */
	strmap_add(m, &same[0].node, same[0].key, 8, &same[0]);
	ck_assert_uint_eq(strmap_count(m), 202);
	ck_assert_ptr_eq(strmap_find(m, "dup@host", 8)->value, &same[0]);
	strmap_free(m);
}
END_TEST

START_TEST(strmap_free_of_null_is_harmless)
{
	strmap_free(NULL);
}
END_TEST

static Suite *
strmap_suite(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, strmap_siphash_matches_the_reference_vectors);
	tcase_add_test(tc, strmap_finds_adds_and_deletes_among_10000_keys);
	tcase_add_test(tc, strmap_keeps_nodes_sharing_a_key_newest_first_across_growth);
	tcase_add_test(tc, strmap_free_of_null_is_harmless);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(strmap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
