/*
 * tmpdir.h: where tests make their files, and how they get rid of them.
 *
 * Every test makes its files under $TMPDIR. Run by meson, a unit or integration test's
 * TMPDIR is a directory of its own that tests/tmpdir_run removes when the test binary
 * ends, however it ends (in an integration test, itest_run() adds a run directory under
 * it: tmpdir_suite.h). Nothing here needs Check: tests/tmpdir_run uses it too.
 */
#ifndef SW_TESTS_TMPDIR_H
#define SW_TESTS_TMPDIR_H

#include <stddef.h>
#include <sys/types.h>

/* $TMPDIR, or /tmp when it is unset or empty. */
const char *tmpdir_path(void);

/* mkdtemp() of "<tmpdir_path()>/<name>-XXXXXX" into buf; returns buf, or NULL when the
 * name does not fit or mkdtemp() fails (errno set). */
char *tmpdir_mkdtemp(char *buf, size_t size, const char *name);

/* mkstemp() of "<tmpdir_path()>/<name>-XXXXXX" into buf; returns the fd or -1. */
int tmpdir_mkstemp(char *buf, size_t size, const char *name);

/* The names in dir (not . and ..) into buf, each after a space, cut to fit; returns how
 * many there are, or -1 when dir cannot be read. */
int tmpdir_list(const char *dir, char *buf, size_t size);

/* Remove dir and everything under it (no symlink is followed). */
void tmpdir_rm_tree(const char *dir);

/* The pids of the calling process's children, at most max of them into pids; returns how
 * many it has (possibly more than max), or -1 if the kernel cannot tell
 * (/proc/PID/task/TID/children). */
int tmpdir_children(pid_t *pids, int max);

#endif
