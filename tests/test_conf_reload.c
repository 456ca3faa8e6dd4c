/*
 * test_conf_reload: every config key has a reload decision (conf_reload.h), a restart key
 * can be compared, and conf_reload_diff() names exactly what only a restart applies: a
 * restart key that changed, a [trunk]/[agent] section added, removed or moved. Keys that a
 * reload applies (limits, timeouts, weights, trunk sources) never refuse one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_reload.h"
#include "tmpdir.h"

static char files[1024]; /* tests/conf/files */
static char tmpdir[256];
static unsigned n; /* files written in tmpdir: c0.conf .. */

static void
setup(void)
{
	const char *td = getenv("SW_TESTDATA");
	char p[1200];

	ck_assert_msg(td != NULL, "SW_TESTDATA not set");
	snprintf(files, sizeof(files), "%s/conf/files", td);
	snprintf(p, sizeof(p), "%s/key.pem", files);
	ck_assert_int_eq(chmod(p, 0600), 0);
	if (tmpdir[0] == '\0')
		ck_assert_ptr_nonnull(tmpdir_mkdtemp(tmpdir, sizeof(tmpdir), "sw-conf-reload"));
}

static void
teardown(void)
{
	char p[1100];

	for (unsigned i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/c%u.conf", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* A config: the base below with `extra` lines appended to it (sections after the base's);
 * `media` replaces the [media] body and `agents` the agent sections when not NULL. */
static struct conf *
load(const char *media, const char *agents, const char *extra)
{
	char path[1100], err[CONF_ERR_MAX];
	struct conf *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c%u.conf", tmpdir, n++);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
	        "[tls]\nlisten = 127.0.0.1:5061\ncertificate = %s/cert.pem\n"
	        "private_key = %s/key.pem\nca_file = %s/ca.pem\n\n",
	        files, files, files);
	fprintf(f, "[media]\n%s\n", media != NULL ? media : "address = 127.0.0.1\nworkers = 2\n");
	fprintf(f, "[trunk t1]\nsource = 192.0.2.0/24\n\n");
	fprintf(f, "%s\n",
	        agents != NULL ? agents
	                       : "[agent a1]\naddress = 127.0.0.1:5071\n\n"
	                         "[agent a2]\naddress = 127.0.0.1:5073\n");
	fprintf(f, "%s", extra != NULL ? extra : "");
	ck_assert_int_eq(fclose(f), 0);
	c = conf_load(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

struct each {
	size_t n, restart, undecided, uncomparable;
	char bad[512];
};

static void
each_cb(const char *sect, const char *key, enum conf_reload rule, bool comparable, void *arg)
{
	struct each *e = arg;
	size_t used = strlen(e->bad);

	e->n++;
	if (rule == CONF_RELOAD_UNSET) {
		e->undecided++;
		snprintf(e->bad + used, sizeof(e->bad) - used, " [%s] %s: no decision", sect, key);
	} else if (rule == CONF_RELOAD_RESTART) {
		e->restart++;
		if (!comparable) {
			e->uncomparable++;
			snprintf(e->bad + used, sizeof(e->bad) - used, " [%s] %s: not comparable",
			         sect, key);
		}
	}
	ck_assert_int_eq(conf_reload_rule(sect, key), rule);
}

static void
count_cb(const char *sect, const char *key, void *arg)
{
	(*(size_t *)arg)++;
}

START_TEST(every_key_has_a_reload_decision_and_restart_keys_compare)
{
	struct each e = {0};
	size_t all = 0;

	ck_assert_uint_eq(conf_reload_each(each_cb, &e), e.n);
	conf_keys_each(count_cb, &all);
	ck_assert_uint_eq(e.n, all);
	ck_assert_msg(e.undecided == 0 && e.uncomparable == 0, "%s", e.bad);
	ck_assert_uint_ge(e.restart, 10);
	/* spot checks of the table */
	ck_assert_int_eq(conf_reload_rule("media", "address"), CONF_RELOAD_RESTART);
	ck_assert_int_eq(conf_reload_rule("tls", "listen"), CONF_RELOAD_RESTART);
	ck_assert_int_eq(conf_reload_rule("limits", "max_calls"), CONF_RELOAD_LIVE);
	ck_assert_int_eq(conf_reload_rule("agent", "weight"), CONF_RELOAD_LIVE);
	ck_assert_int_eq(conf_reload_rule("media", "no_such_key"), CONF_RELOAD_UNSET);
}
END_TEST

START_TEST(same_file_differs_in_nothing)
{
	struct conf *a = load(NULL, NULL, NULL), *b = load(NULL, NULL, NULL);
	struct conf_diff d;

	ck_assert_uint_eq(conf_reload_diff(a, b, &d), 0);
	ck_assert(!d.more);
	conf_unref(a);
	conf_unref(b);
}
END_TEST

START_TEST(live_keys_never_refuse_a_reload)
{
	struct conf *a = load(NULL, NULL, NULL);
	struct conf *b = load("address = 127.0.0.1\nworkers = 2\nadvertise = 192.0.2.9\n"
	                      "max_call_duration = 2h\n",
	                      "[agent a1]\naddress = 127.0.0.1:6000\nweight = 7\n\n"
	                      "[agent a2]\naddress = 127.0.0.1:5073\n",
	                      "[limits]\nmax_calls = 7\n\n[pool]\npolicy = round_robin\n"
	                      "probe_failures = 5\n\n[general]\nlog_level = debug\n");
	struct conf_diff d;
	char buf[512];

	ck_assert_msg(conf_reload_diff(a, b, &d) == 0, "%s",
	              conf_reload_diff_str(&d, buf, sizeof(buf)));
	conf_unref(a);
	conf_unref(b);
}
END_TEST

START_TEST(restart_keys_are_named_in_table_order)
{
	struct conf *a = load(NULL, NULL, NULL);
	struct conf *b = load("address = 127.0.0.2\nworkers = 3\nio = epoll\n", NULL,
	                      "[telemetry]\nsocket = /tmp/x.sock\n\n[pool]\nprobe_interval = 0\n");
	struct conf_diff d;
	char buf[512];

	ck_assert_uint_eq(conf_reload_diff(a, b, &d), 5);
	ck_assert_str_eq(conf_reload_diff_str(&d, buf, sizeof(buf)),
	                 "[media] address, [media] workers, [media] io, [telemetry] socket, "
	                 "[pool] probe_interval");
	conf_unref(b);
	/* back to the first file: nothing */
	b = load(NULL, NULL, NULL);
	ck_assert_uint_eq(conf_reload_diff(b, a, &d), 0);
	conf_unref(a);
	conf_unref(b);
}
END_TEST

START_TEST(agents_added_removed_or_moved_are_named)
{
	struct conf *a = load(NULL, NULL, NULL);
	struct conf *more = load(NULL,
	                         "[agent a1]\naddress = 127.0.0.1:5071\n\n"
	                         "[agent a2]\naddress = 127.0.0.1:5073\n\n"
	                         "[agent a3]\naddress = 127.0.0.1:5075\n",
	                         NULL);
	struct conf *fewer = load(NULL, "[agent a2]\naddress = 127.0.0.1:5073\n", NULL);
	struct conf *moved = load(NULL,
	                          "[agent a2]\naddress = 127.0.0.1:5073\n\n"
	                          "[agent a1]\naddress = 127.0.0.1:5071\n",
	                          "[trunk t2]\nsource = 198.51.100.0/24\n");
	struct conf_diff d;
	char buf[512];

	ck_assert_uint_eq(conf_reload_diff(a, more, &d), 1);
	ck_assert_str_eq(d.key[0], "[agent a3] added");
	ck_assert_uint_eq(conf_reload_diff(a, fewer, &d), 1);
	ck_assert_str_eq(d.key[0], "[agent a1] removed");
	ck_assert_uint_eq(conf_reload_diff(a, moved, &d), 3);
	ck_assert_str_eq(conf_reload_diff_str(&d, buf, sizeof(buf)),
	                 "[trunk t2] added, [agent a2] moved, [agent a1] moved");
	conf_unref(a);
	conf_unref(more);
	conf_unref(fewer);
	conf_unref(moved);
}
END_TEST

/* More differences than the list holds: the first ones, then "...". */
START_TEST(diff_list_is_bounded)
{
	struct conf *a = load(NULL, "[agent n0]\naddress = 127.0.0.1:6000\n", NULL);
	char agents[4096] = "", buf[4096];
	struct conf_diff d;
	struct conf *b;

	for (int i = 0; i < CONF_DIFF_MAX + 4; i++) {
		size_t used = strlen(agents);
		snprintf(agents + used, sizeof(agents) - used,
		         "[agent n%d]\naddress = 127.0.0.1:%d\n\n", i, 6000 + 2 * i);
	}
	b = load(NULL, agents, NULL);
	ck_assert_uint_eq(conf_reload_diff(a, b, &d), CONF_DIFF_MAX);
	ck_assert(d.more);
	conf_reload_diff_str(&d, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "[agent n1] added, [agent n2] added", 34) == 0, "%s", buf);
	ck_assert_str_eq(buf + strlen(buf) - 5, ", ...");
	conf_unref(a);
	conf_unref(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf_reload");
	TCase *tc = tcase_create("diff");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_key_has_a_reload_decision_and_restart_keys_compare);
	tcase_add_test(tc, same_file_differs_in_nothing);
	tcase_add_test(tc, live_keys_never_refuse_a_reload);
	tcase_add_test(tc, restart_keys_are_named_in_table_order);
	tcase_add_test(tc, agents_added_removed_or_moved_are_named);
	tcase_add_test(tc, diff_list_is_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
