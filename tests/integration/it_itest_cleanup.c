/*
 * it_itest_cleanup: the harness leaves nothing behind when a test fails. A failed Check
 * assertion ends the forked test with _exit(), so the harness's atexit() cleanup does not
 * run there: the daemon and peers die with it (PR_SET_PDEATHSIG), but the test's
 * directory, with its CA and server keys, stayed in TMPDIR. itest_run() makes the
 * directory every test of the run works in and removes it after the run.
 *
 * This program runs a suite whose one test starts the daemon and then fails on purpose,
 * with TMPDIR pointing at a directory of its own, and passes when that suite failed and
 * left the directory empty.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "tmpdir.h"

START_TEST(a_test_that_fails_after_starting_the_daemon)
{
	struct itest t;

	itest_start(&t, NULL);
	ck_abort_msg("failing on purpose (it_itest_cleanup): %s must not outlive the run", t.dir);
}
END_TEST

int
main(void)
{
	char dir[256], left[1024] = "";
	Suite *s = suite_create("itest_cleanup");
	TCase *tc = tcase_create("cleanup");
	int nleft;
	int rc;

	if (tmpdir_mkdtemp(dir, sizeof(dir), "sw-itest-self") == NULL) {
		fprintf(stderr, "it_itest_cleanup: cannot make a directory under %s\n",
		        tmpdir_path());
		return EXIT_FAILURE;
	}
	setenv("TMPDIR", dir, 1);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_test_that_fails_after_starting_the_daemon);
	suite_add_tcase(s, tc);
	rc = itest_run(s);
	nleft = tmpdir_list(dir, left, sizeof(left));
	tmpdir_rm_tree(dir);
	if (rc != EXIT_FAILURE) {
		fprintf(stderr, "it_itest_cleanup: the test meant to fail did not\n");
		return EXIT_FAILURE;
	}
	if (nleft != 0) {
		fprintf(stderr, "it_itest_cleanup: the failed test left %d entries in TMPDIR:%s\n",
		        nleft, left);
		return EXIT_FAILURE;
	}
	printf("it_itest_cleanup: the failed test left TMPDIR empty\n");
	return EXIT_SUCCESS;
}
