/*
 * it_sched: [general] signalling_boost. With it, the daemon's signalling thread runs that
 * many nice steps above its media workers, which keep the process's nice value; without
 * the right to raise a thread's priority (CAP_SYS_NICE, RLIMIT_NICE) the daemon refuses
 * to start and names the key, instead of running without what the operator asked for.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "itest.h"

/* The nice value of thread `tid` of `pid` (/proc/PID/task/TID/stat field 19). */
static int
thread_nice(pid_t pid, const char *tid)
{
	char path[96], line[1024], *p;
	FILE *f;
	int nice;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	/* field 2 (the name) may hold spaces: fields 3- follow the last ')' */
	p = strrchr(line, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 1,
	                        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
	                        "%*d %d",
	                        &nice),
	                 1);
	return nice;
}

/* Our own nice value: the daemon inherits it. */
static int
own_nice(void)
{
	errno = 0;
	int n = getpriority(PRIO_PROCESS, 0);
	ck_assert_msg(!(n == -1 && errno != 0), "getpriority: %s", strerror(errno));
	return n;
}

START_TEST(signalling_thread_runs_boost_steps_above_the_media_workers)
{
	struct itest_opts o = {.general_extra = "signalling_boost = 3\n", .log_file = true};
	struct itest t;
	int base = own_nice(), want = base - 3 < -20 ? -20 : base - 3;
	unsigned workers = 0;
	char main_tid[16], log_line[96];
	struct dirent *e;
	DIR *d;

	if (geteuid() != 0)
		return; /* raising a priority needs root here; the refusal is tested below */
	itest_start(&t, &o);
	snprintf(main_tid, sizeof(main_tid), "%d", (int)t.pid);
	ck_assert_int_eq(thread_nice(t.pid, main_tid), want);
	snprintf(log_line, sizeof(log_line), "signalling thread at nice %d, %d step(s) above", want,
	         base - want);
	ck_assert_msg(itest_file_has(&t, "daemon.log", log_line), "no '%s' in the log", log_line);
	/* every other thread (the media workers) kept the process's nice value */
	snprintf(log_line, sizeof(log_line), "/proc/%d/task", (int)t.pid);
	d = opendir(log_line);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, main_tid) == 0)
			continue;
		ck_assert_msg(thread_nice(t.pid, e->d_name) == base, "thread %s at nice %d, not %d",
		              e->d_name, thread_nice(t.pid, e->d_name), base);
		workers++;
	}
	closedir(d);
	ck_assert_uint_ge(workers, 1);
	itest_stop(&t);
}
END_TEST

START_TEST(without_the_right_to_raise_it_the_daemon_refuses_to_start)
{
	struct itest_opts o = {.general_extra = "signalling_boost = 3\n"};
	static struct itest t; /* itest_prepare()'s directory is removed at exit */
	char out[256], err[256], *text;
	size_t len;
	int rc;

	itest_prepare(&t, &o); /* this daemon must not start: we start it by hand */
	itest_path(&t, "refused.out", out, sizeof(out));
	itest_path(&t, "refused.err", err, sizeof(err));
	if (geteuid() == 0) {
		/* root may raise priorities: take CAP_SYS_NICE away from the daemon */
		const char *argv[] = {"/usr/bin/setpriv",
		                      "--bounding-set",
		                      "-sys_nice",
		                      getenv("SW_DAEMON"),
		                      "-c",
		                      t.conf_path,
		                      NULL};
		rc = itest_wait_child(itest_spawn(argv, out, err), 10000);
	} else {
		const char *argv[] = {getenv("SW_DAEMON"), "-c", t.conf_path, NULL};
		rc = itest_wait_child(itest_spawn(argv, out, err), 10000);
	}
	text = itest_read_file(err, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(rc == 1, "exit status %d, stderr: %s", rc, text);
	ck_assert_msg(strstr(text, "[general] signalling_boost = 3: cannot raise the signalling "
	                           "thread") != NULL &&
	                      strstr(text, "CAP_SYS_NICE") != NULL,
	              "stderr: %s", text);
	free(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_sched");
	TCase *tc = tcase_create("sched");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signalling_thread_runs_boost_steps_above_the_media_workers);
	tcase_add_test(tc, without_the_right_to_raise_it_the_daemon_refuses_to_start);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
