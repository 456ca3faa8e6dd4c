/*
 * it_reload: SIGHUP re-reads the config. A broken file is refused and the daemon keeps
 * serving with the old one; a good file is swapped in and applies to new connections
 * (here: max_connections drops from 64 to 1). A file that changes a key that only takes
 * effect at start (an agent more, [media] address, the telemetry socket, ...) is refused
 * naming the key, and nothing of it applies; `sipwardenctl reload` does the same as
 * SIGHUP and says which.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

/* Rewrite the config replacing the first `from` with `to` (asserts `from` is there). */
static void
conf_replace(const struct itest *t, const char *from, const char *to)
{
	size_t len;
	char *text = itest_read_file(t->conf_path, &len), *at;
	FILE *f;

	ck_assert_ptr_nonnull(text);
	at = strstr(text, from);
	ck_assert_msg(at != NULL, "'%s' not in the config", from);
	f = fopen(t->conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	ck_assert_int_eq(fclose(f), 0);
	free(text);
}

/* SIGHUP and wait for the daemon to say it is ready again. */
static void
sighup(struct itest *t)
{
	ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(t, "READY=1", 5000));
	ck_assert(itest_alive(t));
}

static void
assert_options_ok(struct itest_conn *c, const char *callid)
{
	char req[1024], resp[8192];

	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), callid, 1)), 0);
	ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 5000), 0);
	ck_assert_int_eq(itest_status(resp), 200);
}

START_TEST(bad_config_is_refused_good_config_applies_to_new_connections)
{
	struct itest_opts one = {.max_connections = 1};
	struct itest t;
	struct itest_conn *a, *b;
	FILE *f;

	itest_start(&t, NULL);
	/* A broken file: refused, old config kept. */
	f = fopen(t.conf_path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "no_such_key = 1\n");
	fclose(f);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	ck_assert(itest_alive(&t));
	a = itest_tls_connect(&t, 0, 0, NULL);
	b = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	assert_options_ok(a, "bad-a");
	assert_options_ok(b, "bad-b");
	itest_conn_free(a);
	itest_conn_free(b);

	/* A good file with max_connections = 1: the second connection is refused. */
	itest_write_conf(&t, &one);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	a = NULL;
	for (int i = 0; i < 50 && a == NULL; i++) /* the closes above may still be in flight */
		a = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(a);
	assert_options_ok(a, "good-a");
	b = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_null(b);
	itest_conn_free(a);
	itest_stop(&t);
}
END_TEST

/* Two TLS connections both get 200 to OPTIONS (max_connections is not 1). */
static void
assert_two_connections(struct itest *t, const char *tag)
{
	struct itest_conn *a = itest_tls_connect(t, 0, 0, NULL), *b;
	char id[64];

	ck_assert_ptr_nonnull(a);
	b = itest_tls_connect(t, 0, 0, NULL);
	ck_assert_msg(b != NULL, "%s: the second connection was refused", tag);
	snprintf(id, sizeof(id), "%s-a", tag);
	assert_options_ok(a, id);
	snprintf(id, sizeof(id), "%s-b", tag);
	assert_options_ok(b, id);
	itest_conn_free(a);
	itest_conn_free(b);
}

/*
 * One more agent cannot be added by a reload (the pool, its counters and connections are
 * sized at start): the reload is refused naming the section, and nothing else of the new
 * file applies either. Before, the SIP server took the new file (max_connections = 1
 * here) while the calls kept the old agents, and the log said "configuration reloaded".
 */
START_TEST(reload_adding_an_agent_is_refused_and_nothing_of_it_applies)
{
	struct itest_opts start = {.log_file = true};
	struct itest_opts more = {.log_file = true, .max_connections = 1};
	char agents[512];
	struct itest t;

	itest_start(&t, &start);
	snprintf(agents, sizeof(agents),
	         "[agent itest]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n\n"
	         "[agent second]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n",
	         t.agent_ip, t.agent_port, t.agent_ip, t.agent_port + 2);
	more.agents = agents;
	itest_write_conf(&t, &more);
	sighup(&t);
	assert_two_connections(&t, "after-refused");
	ck_assert(itest_file_has(&t, "daemon.log", "reload refused, keeping current config"));
	ck_assert(itest_file_has(&t, "daemon.log", "[agent second] added"));
	ck_assert(!itest_file_has(&t, "daemon.log", "configuration reloaded"));
	itest_stop(&t);
}
END_TEST

/*
 * [media] address, workers and the telemetry socket are bound at start. A reload that
 * changes them is refused by name (before: applied silently, with the SDP advertising
 * the new media address while the sockets stayed bound to the old one); the telemetry
 * socket reports the refusal (config.refused, with the keys).
 */
START_TEST(reload_moving_media_or_sockets_is_refused_by_key_name)
{
	struct itest_opts o = {.log_file = true};
	char from[256], to[256], lines[8192];
	struct itest t;
	json_t *ev;
	int tel;

	itest_start(&t, &o);
	tel = itest_telemetry_connect(&t);
	snprintf(from, sizeof(from), "[media]\naddress = %s\n", t.ip);
	conf_replace(&t, from, "[media]\naddress = 127.0.0.1\n");
	sighup(&t);
	ck_assert(itest_file_has(&t, "daemon.log",
	                         "reload refused, keeping current config: [media] address"));
	ck_assert(!itest_file_has(&t, "daemon.log", "configuration reloaded"));

	/* two at once: both named, in table order */
	conf_replace(&t, "workers = 1\n", "workers = 2\n");
	snprintf(from, sizeof(from), "socket = %s\n", t.tel_path);
	snprintf(to, sizeof(to), "socket = %s/other.sock\n", t.dir);
	conf_replace(&t, from, to);
	snprintf(from, sizeof(from), "[media]\naddress = 127.0.0.1\n");
	snprintf(to, sizeof(to), "[media]\naddress = %s\n", t.ip);
	conf_replace(&t, from, to);
	sighup(&t);
	ck_assert(itest_file_has(&t, "daemon.log",
	                         "[media] workers, [telemetry] socket (applied only at start"));
	ck_assert(!itest_file_has(&t, "daemon.log", "configuration reloaded"));
	itest_telemetry_read(tel, lines, sizeof(lines), "[telemetry] socket", 3000);
	ev = itest_event(lines, "config.refused");
	ck_assert_msg(ev != NULL, "no config.refused in: %s", lines);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ev, "keys"), 0)),
	                 "[media] address");
	json_decref(ev);
	close(tel);
	itest_stop(&t);
}
END_TEST

/*
 * At start the soft RLIMIT_NOFILE is raised to the hard limit, and a limit below what
 * max_calls (4 media sockets each) and max_connections may need is warned about.
 */
START_TEST(start_raises_the_open_file_limit_and_warns_when_it_is_short)
{
	struct itest_opts o = {.log_file = true, .nofile = 256, .nofile_hard = 600};
	struct itest t;

	itest_start(&t, &o);
	ck_assert(itest_file_has(&t, "daemon.log", "open files: limit 600 (was 256)"));
	/* 4 x 1000 calls + 64 connections (+ reserve) do not fit in 600 */
	ck_assert(itest_file_has(&t, "daemon.log",
	                         "open files: limit 600 is below what max_calls and "
	                         "max_connections may need"));
	itest_stop(&t);
}
END_TEST

static char t_ctl[192];

/* `sipwardenctl reload`: ok when the file applies, else exit 1 naming the keys. */
START_TEST(sipwardenctl_reload_says_ok_or_names_the_keys)
{
	struct itest_opts o = {.log_file = true};
	const char *ctl = getenv("SW_SIPWARDENCTL");
	const char *argv[] = {ctl, "--control", t_ctl, "reload", NULL};
	char out[256], *reply;
	struct itest t;
	size_t len;
	char *text;

	ck_assert_msg(ctl != NULL, "SW_SIPWARDENCTL not set");
	itest_start(&t, &o);
	snprintf(t_ctl, sizeof(t_ctl), "%s", t.ctl_path);
	itest_path(&t, "ctl.out", out, sizeof(out));

	reply = itest_control(&t, "{\"cmd\":\"reload\"}", 5000);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strstr(reply, "\"reloaded\":true") != NULL, "%s", reply);
	free(reply);
	ck_assert_int_eq(itest_wait_child(itest_spawn(argv, out, NULL), 10000), 0);
	text = itest_read_file(out, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "reloaded") != NULL, "%s", text);
	free(text);

	conf_replace(&t, "workers = 1\n", "workers = 3\n");
	reply = itest_control(&t, "{\"cmd\":\"reload\"}", 5000);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strstr(reply, "\"keys\":[\"[media] workers\"]") != NULL, "%s", reply);
	free(reply);
	ck_assert_int_eq(itest_wait_child(itest_spawn(argv, NULL, out), 10000), 1);
	text = itest_read_file(out, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "[media] workers") != NULL, "%s", text);
	free(text);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_reload");
	TCase *tc = tcase_create("reload");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_config_is_refused_good_config_applies_to_new_connections);
	tcase_add_test(tc, reload_adding_an_agent_is_refused_and_nothing_of_it_applies);
	tcase_add_test(tc, reload_moving_media_or_sockets_is_refused_by_key_name);
	tcase_add_test(tc, sipwardenctl_reload_says_ok_or_names_the_keys);
	tcase_add_test(tc, start_raises_the_open_file_limit_and_warns_when_it_is_short);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
