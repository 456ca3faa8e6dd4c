/*
 * test_sip_rand.c: the token pool hands out bytes that differ from draw to draw, also
 * across a fork (a child never repeats what its parent hands out next), and requests
 * larger than the pool.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sip_rand.h"

START_TEST(sip_rand_draws_differ)
{
	unsigned char a[16], b[16];

	ck_assert_int_eq(sip_rand_bytes(a, sizeof(a)), 0);
	ck_assert_int_eq(sip_rand_bytes(b, sizeof(b)), 0);
	ck_assert_mem_ne(a, b, sizeof(a));
	/* across a refill too */
	for (int i = 0; i < 2 * SIP_RAND_POOL / (int)sizeof(a); i++) {
		memcpy(a, b, sizeof(a));
		ck_assert_int_eq(sip_rand_bytes(b, sizeof(b)), 0);
		ck_assert_mem_ne(a, b, sizeof(a));
	}
}
END_TEST

START_TEST(sip_rand_forked_child_does_not_repeat_the_parent)
{
	unsigned char first[16], parent[16], child[16];
	int p[2];
	pid_t pid;
	int status;

	ck_assert_int_eq(sip_rand_bytes(first, sizeof(first)), 0); /* the pool is full now */
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		if (sip_rand_bytes(child, sizeof(child)) != 0 ||
		    write(p[1], child, sizeof(child)) != (ssize_t)sizeof(child))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], child, sizeof(child)), (ssize_t)sizeof(child));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(sip_rand_bytes(parent, sizeof(parent)), 0);
	ck_assert_mem_ne(parent, child, sizeof(parent));
}
END_TEST

START_TEST(sip_rand_serves_requests_larger_than_the_pool)
{
	unsigned char *a = calloc(1, 4 * SIP_RAND_POOL), zero[64] = {0};

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(sip_rand_bytes(a, 4 * SIP_RAND_POOL), 0);
	/* 64 zero bytes at the end: what an unfilled buffer would show */
	ck_assert_mem_ne(a + 4 * SIP_RAND_POOL - sizeof(zero), zero, sizeof(zero));
	free(a);
}
END_TEST

static Suite *
sip_rand_suite(void)
{
	Suite *s = suite_create("sip_rand");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sip_rand_draws_differ);
	tcase_add_test(tc, sip_rand_forked_child_does_not_repeat_the_parent);
	tcase_add_test(tc, sip_rand_serves_requests_larger_than_the_pool);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sip_rand_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
