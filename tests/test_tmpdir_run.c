/*
 * test_tmpdir_run: a unit test leaves nothing behind, however it ends (tests/tmpdir_run).
 *
 * This binary is both sides. Run with SW_TMPDIR_SELF=<how> it is a unit test that
 * misbehaves: its one test makes a directory the normal way (tmpdir_mkdtemp()), puts a
 * file in it, starts a process that ignores SIGTERM and never ends, and then fails an
 * assertion ("fail"), crashes the runner itself (CK_FORK=no, abort(): "crash") or hangs
 * until meson's timeout sends SIGTERM to its process group ("term").
 *
 * Run without it, it runs that unit test the way meson runs unit tests (the command in
 * argv[1..], then this binary) once per way of ending, each time with a TMPDIR of its
 * own, and asserts that the run failed, that the TMPDIR is empty afterwards, and that no
 * process of the test is still running (orphans are reparented here: subreaper).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"
#include "tmpdir.h"
#include "tmpdir_suite.h"

#define WAIT_MS 10000

static const char *const hows[] = {"fail", "crash", "term"};
static char **run_cmd; /* argv[1..] of the driver */
static char self[4096];

/* ---- the unit test that misbehaves --------------------------------------------------- */

START_TEST(a_test_that_leaves_a_directory_and_a_process)
{
	const char *how = getenv("SW_TMPDIR_SELF");
	char dir[512], file[600];
	int fd;

	ck_assert_ptr_nonnull(tmpdir_mkdtemp(dir, sizeof(dir), "sw-self"));
	snprintf(file, sizeof(file), "%s/ready", dir);
	if (fork() == 0) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	if (strcmp(how, "crash") == 0)
		abort();
	if (strcmp(how, "term") == 0)
		for (;;)
			pause();
	ck_abort_msg("failing on purpose (test_tmpdir_run): %s must not outlive the run", dir);
}
END_TEST

static int
misbehave(void)
{
	Suite *s = suite_create("tmpdir_self");
	TCase *tc = tcase_create("self");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_test_that_leaves_a_directory_and_a_process);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- the driver ---------------------------------------------------------------------- */

static int
ready_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	return strcmp(path + ftw->base, "ready") == 0;
}

START_TEST(a_unit_test_leaves_its_tmpdir_empty_and_no_process_running)
{
	const char *how = hows[_i];
	char dir[512], left[1024];
	pid_t pid, r = 0, kids[16];
	int64_t end;
	int st = 0, n, nkids;
	size_t argc = 0;
	char *argv[16];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(dir, sizeof(dir), how));
	for (size_t i = 0; run_cmd[i] != NULL && argc < 14; i++)
		argv[argc++] = run_cmd[i];
	argv[argc++] = self;
	argv[argc] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};

		setpgid(0, 0); /* as meson starts a test: its own process group */
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGTERM, SIG_DFL);
		setenv("TMPDIR", dir, 1);
		setenv("SW_TMPDIR_SELF", how, 1);
		if (strcmp(how, "crash") == 0)
			setenv("CK_FORK", "no", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	end = monotime_ms() + WAIT_MS;
	if (strcmp(how, "term") == 0) {
		/* meson's timeout: SIGTERM to the group once the test is under way */
		while (nftw(dir, ready_cb, 16, FTW_PHYS) != 1 && monotime_ms() < end)
			usleep(10000);
		ck_assert_msg(monotime_ms() < end, "the test did not get under way");
		kill(-pid, SIGTERM);
		end = monotime_ms() + 500; /* then meson waits 0.5 s and sends SIGKILL */
	}
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && monotime_ms() < end)
		usleep(10000);
	if (r != pid) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	nkids = tmpdir_children(kids, 16);
	for (int i = 0; i < nkids && i < 16; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	n = tmpdir_list(dir, left, sizeof(left));
	tmpdir_rm_tree(dir);
	ck_assert_msg(r == pid, "%s: the run did not end within %d ms", how,
	              strcmp(how, "term") == 0 ? 500 : WAIT_MS);
	ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 0), "%s: the run passed", how);
	ck_assert_msg(n == 0 && nkids == 0,
	              "%s: the test left %d entries in TMPDIR (%s ) and %d process(es) running",
	              how, n, left, nkids);
}
END_TEST

int
main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	ssize_t len;

	if (getenv("SW_TMPDIR_SELF") != NULL)
		return misbehave();
	(void)argc;
	run_cmd = argv + 1;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return EXIT_FAILURE;
	self[len] = '\0';
	s = suite_create("tmpdir_run");
	tc = tcase_create("tmpdir_run");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, a_unit_test_leaves_its_tmpdir_empty_and_no_process_running, 0,
	                    (int)(sizeof(hows) / sizeof(hows[0])));
	suite_add_tcase(s, tc);
	/* the driver's own assertions end its tests with _exit(): their directories go
	 * under the run's, removed after the run */
	return tmpdir_suite_run(s);
}
