/*
 * tmpdir_suite.h: run a Check suite in a directory of its own (tests/tmpdir_suite.c).
 */
#ifndef SW_TESTS_TMPDIR_SUITE_H
#define SW_TESTS_TMPDIR_SUITE_H

#include <check.h>

/* Run suite s (Check, forking) with TMPDIR set to a new directory under the current one,
 * removed after the run: a failed assertion ends a forked test with _exit(), so no cleanup
 * of the test's own runs; this one does, for every test of the run. Returns the process exit
 * status: EXIT_SUCCESS when every test passed. */
int tmpdir_suite_run(Suite *s);

#endif
