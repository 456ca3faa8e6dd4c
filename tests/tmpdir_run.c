/*
 * tmpdir_run: run one test binary (argv[1..]) in a TMPDIR of its own and leave nothing
 * behind, however the test ends. meson runs every unit and integration test through it
 * (tests/meson.build, tests/integration/meson.build).
 *
 * Check runs each test in a forked child, and a failed assertion ends that child with
 * _exit(): the test's own cleanup and atexit() handlers never run, and whatever it made
 * stayed (17 empty sw-tel-* directories in /tmp from failed test_telemetry runs). So the
 * cleanup lives here, outside the test: make "${TMPDIR:-/tmp}/sw-unit-XXXXXX", export it
 * as TMPDIR (tests make their files there: tmpdir.h), run the test, then remove the
 * directory and exit with the test's status (128 + N when signal N ended it).
 *
 * Processes: this program is the children's subreaper (PR_SET_CHILD_SUBREAPER), so a
 * process a test started and left running is reparented here when its parent ends; once
 * the test has ended, each such process is killed (SIGKILL), reaped, named on stderr, and
 * the run fails.
 *
 * A timeout: meson sends SIGTERM to the process group, waits 0.5 s for this program, then
 * sends SIGKILL. On SIGTERM/SIGINT/SIGHUP this program passes the signal on to the test,
 * gives it KILL_AFTER_MS to end, kills it, and cleans up within meson's half second.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tmpdir.h"

#define KILL_AFTER_MS 200
#define MAX_LEFT      64
#define SETTLE_MS     50

static volatile sig_atomic_t got_signal;

static void
signal_cb(int sig)
{
	got_signal = sig;
}

/*
 * Whether process pid is still running on its own: not a zombie, and not already on its way
 * out with a SIGKILL pending (a PR_SET_PDEATHSIG child of the test, sent when its parent
 * ended). Its name into comm.
 */
static bool
running(pid_t pid, char *comm, size_t size)
{
	char path[64], line[256];
	bool run = true;
	FILE *f;

	snprintf(comm, size, "?");
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long mask;

		if (strncmp(line, "Name:\t", 6) == 0) {
			size_t len = strcspn(line + 6, "\n");

			len = len < size ? len : size - 1;
			memcpy(comm, line + 6, len);
			comm[len] = '\0';
		} else if (strncmp(line, "State:\t", 7) == 0 && line[7] == 'Z') {
			run = false;
		} else if ((strncmp(line, "SigPnd:\t", 8) == 0 ||
		            strncmp(line, "ShdPnd:\t", 8) == 0) &&
		           sscanf(line + 8, "%llx", &mask) == 1 &&
		           (mask & (1ULL << (SIGKILL - 1))) != 0) {
			run = false;
		}
	}
	fclose(f);
	return run;
}

/* Kill and reap what the test left running; returns how many were still running. */
static int
kill_leftovers(void)
{
	pid_t pids[MAX_LEFT];
	int total = 0, n;

	while ((n = tmpdir_children(pids, MAX_LEFT)) > 0) {
		for (int i = 0; i < n && i < MAX_LEFT; i++) {
			char comm[64];
			bool run = running(pids[i], comm, sizeof(comm));

			kill(pids[i], SIGKILL);
			if (waitpid(pids[i], NULL, 0) != pids[i] || !run)
				continue;
			fprintf(stderr,
			        "tmpdir_run: killed pid %ld (%s), left running by the test\n",
			        (long)pids[i], comm);
			total++;
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the rest of what was reparented here */
		;
	return total;
}

/* Wait for the test; after a signal, pass it on and bound the wait. Returns its status. */
static int
wait_test(pid_t pid)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int st = 0, waited_ms = 0, passed_on = 0;
	pid_t r;

	for (;;) {
		if (got_signal != 0 && passed_on == 0) {
			passed_on = got_signal;
			kill(pid, passed_on);
		}
		r = waitpid(pid, &st, passed_on != 0 ? WNOHANG : 0);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (passed_on != 0) {
			if (waited_ms >= KILL_AFTER_MS)
				kill(pid, SIGKILL);
			nanosleep(&tick, NULL);
			waited_ms += 10;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = signal_cb};
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	char dir[512];
	int st, rc, left;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: tmpdir_run TEST [ARG...]\n");
		return 2;
	}
	if (tmpdir_mkdtemp(dir, sizeof(dir), "sw-unit") == NULL) {
		fprintf(stderr, "tmpdir_run: cannot make a directory under %s: %s\n", tmpdir_path(),
		        strerror(errno));
		return 1;
	}
	setenv("TMPDIR", dir, 1);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		fprintf(stderr, "tmpdir_run: no subreaper (%s): left processes go unseen\n",
		        strerror(errno));
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		execv(argv[1], argv + 1);
		fprintf(stderr, "tmpdir_run: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	st = pid > 0 ? wait_test(pid) : -1;
	if (got_signal != 0) {
		/* Check's runner passes SIGTERM on to its test and ends without waiting for
		 * it: give the test's processes a moment to end or be reparented here */
		struct timespec settle = {0, SETTLE_MS * 1000 * 1000};

		while (nanosleep(&settle, &settle) != 0 && errno == EINTR)
			;
	}
	left = kill_leftovers();
	tmpdir_rm_tree(dir);
	if (pid < 0 || st < 0)
		rc = 1;
	else if (WIFEXITED(st))
		rc = WEXITSTATUS(st);
	else
		rc = 128 + WTERMSIG(st);
	if (left > 0 && (rc == 0 || rc == 77)) {
		fprintf(stderr, "tmpdir_run: the test left %d process(es) running\n", left);
		rc = 1;
	}
	return rc;
}
