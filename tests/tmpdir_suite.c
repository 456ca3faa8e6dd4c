/*
 * tmpdir_suite.c: a Check run in a directory of its own (tmpdir_suite.h). Used by the
 * integration harness (itest_run()) and test_tmpdir_run; apart from tmpdir.c so that
 * tests/tmpdir_run, which has no Check, does not need it.
 */
#include "tmpdir_suite.h"

#include <stdio.h>
#include <stdlib.h>

#include "tmpdir.h"

int
tmpdir_suite_run(Suite *s)
{
	char run_dir[256];
	SRunner *sr;
	int failed;

	if (tmpdir_mkdtemp(run_dir, sizeof(run_dir), "sw-run") == NULL) {
		fprintf(stderr, "cannot make a run directory under %s\n", tmpdir_path());
		return EXIT_FAILURE;
	}
	setenv("TMPDIR", run_dir, 1);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tmpdir_rm_tree(run_dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
