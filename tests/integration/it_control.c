/*
 * it_control: the control socket and sipwardenctl against a live call.
 *
 * While a call runs (swpeer caller -> sipwarden -> swpeer echo agent), `calls` lists
 * exactly it (trunk and agent names, state answered, suites), `call <id>` answers with
 * per-leg packet counts that move, `agents` shows the agent up, `stats` counts one
 * current call; sipwardenctl prints the same call for `calls` and `show ID`. After the
 * call the table is empty and `stats` counts it as completed. The telemetry and control
 * sockets carry the configured file modes.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_S "8" /* long enough for every check below, also under the sanitizers */

/* One control request; the reply object. `error_ok`: a {"error"} reply is fine. */
static json_t *
control_reply(const struct itest *t, const char *req, bool error_ok)
{
	char *reply = itest_control(t, req, 3000);
	json_t *j;

	ck_assert_msg(reply != NULL, "no reply to %s", req);
	j = json_loads(reply, 0, NULL);
	ck_assert_msg(json_is_object(j), "reply to %s is not an object: %s", req, reply);
	ck_assert_msg(error_ok || json_object_get(j, "error") == NULL, "%s: %s", req, reply);
	free(reply);
	return j;
}

static json_t *
control(const struct itest *t, const char *req)
{
	return control_reply(t, req, false);
}

static const json_t *
at(const json_t *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, strtoul(k, NULL, 10))
		                     : json_object_get(o, k);
	return o;
}

static json_int_t
num_at(const json_t *o, const char *path)
{
	const json_t *v = at(o, path);
	char *d = json_dumps(o, JSON_COMPACT);

	ck_assert_msg(json_is_integer(v), "%s is not an integer in %s", path, d);
	free(d);
	return json_integer_value(v);
}

static const char *
str_at(const json_t *o, const char *path)
{
	const json_t *v = at(o, path);
	char *d = json_dumps(o, JSON_COMPACT);

	ck_assert_msg(json_is_string(v), "%s is not a string in %s", path, d);
	free(d);
	return json_string_value(v);
}

/* Run sipwardenctl with args; returns its stdout (malloc'd), asserts exit status 0. */
static char *
ctl_tool(const struct itest *t, const char *const args[])
{
	const char *ctl = getenv("SW_SIPWARDENCTL");
	const char *argv[16] = {0};
	char out[256];
	size_t n = 0, len;
	char *text;

	ck_assert_msg(ctl != NULL, "SW_SIPWARDENCTL not set");
	argv[n++] = ctl;
	argv[n++] = "--control";
	argv[n++] = t->ctl_path;
	argv[n++] = "--no-color";
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	itest_path(t, "ctl.out", out, sizeof(out));
	ck_assert_int_eq(itest_wait_child(itest_spawn(argv, out, NULL), 10000), 0);
	text = itest_read_file(out, &len);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* The caller runs in the background: itest_caller() would wait for it. */
static pid_t
start_caller(const struct itest *t)
{
	static char to[96], ca[256], out[256];
	const char *argv[] = {
	        getenv("SW_PEER"), "call",   "--to",    to,  "--ca",       ca,       "--tls-name",
	        "localhost",       "--json", "--calls", "1", "--duration", T_CALL_S, NULL};

	ck_assert_ptr_nonnull(argv[0]);
	snprintf(to, sizeof(to), "sip:agent@%s:%u", t->ip, t->port);
	itest_path(t, "ca.crt", ca, sizeof(ca));
	itest_path(t, "caller.json", out, sizeof(out));
	return itest_spawn(argv, out, NULL);
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg(S_ISSOCK(st.st_mode), "%s is not a socket", path);
	ck_assert_msg((st.st_mode & 07777) == want, "%s has mode %04o, want %04o", path,
	              (unsigned)(st.st_mode & 07777), (unsigned)want);
}

START_TEST(control_and_sipwardenctl_describe_a_live_call_and_count_it_after)
{
	struct itest t;
	struct itest_opts o = {.telemetry_extra = "socket_mode = 0640\ncontrol_mode = 0600\n"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	json_t *j = NULL, *c;
	char id[64], req[160];
	pid_t ap, cp;

	itest_start(&t, &o);
	assert_mode(t.tel_path, 0640);
	assert_mode(t.ctl_path, 0600);
	ap = itest_agent(&t, agent_args);
	cp = start_caller(&t);

	/* wait until the call is answered and both legs have counted packets */
	int64_t end = itest_now_ms() + 5000;
	for (;;) {
		json_decref(j);
		j = control(&t, "{\"cmd\":\"calls\"}");
		if (num_at(j, "count") == 1 && strcmp(str_at(j, "calls.0.state"), "answered") == 0)
			break;
		ck_assert_msg(itest_now_ms() < end, "no answered call listed: %s",
		              json_dumps(j, JSON_COMPACT));
		usleep(50000);
	}
	ck_assert_int_eq(json_array_size(at(j, "calls")), 1);
	snprintf(id, sizeof(id), "%s", str_at(j, "calls.0.call"));
	ck_assert_uint_eq(strlen(id), 32);
	ck_assert_str_eq(str_at(j, "calls.0.trunk"), "itest");
	ck_assert_str_eq(str_at(j, "calls.0.agent"), "itest");
	ck_assert_str_eq(str_at(j, "calls.0.suites.trunk"), "AES_CM_128_HMAC_SHA1_80");
	ck_assert_str_eq(str_at(j, "calls.0.suites.agent"), "AES_CM_128_HMAC_SHA1_80");
	json_decref(j);

	/* call <id>: per-leg stats that grow while media flows */
	snprintf(req, sizeof(req), "{\"cmd\":\"call\",\"id\":\"%s\"}", id);
	json_int_t first = -1;
	end = itest_now_ms() + 5000;
	for (j = NULL;;) {
		json_decref(j);
		j = control(&t, req);
		c = json_object_get(j, "call");
		ck_assert_msg(json_is_object(c), "call reply: %s", json_dumps(j, JSON_COMPACT));
		json_int_t p = num_at(c, "legs.trunk.packets_in");
		if (p > 0 && first < 0)
			first = p;
		else if (first > 0 && p > first && num_at(c, "legs.agent.packets_in") > 0)
			break;
		ck_assert_msg(itest_now_ms() < end, "per-leg packets do not grow: %s",
		              json_dumps(j, JSON_COMPACT));
		usleep(100000);
	}
	ck_assert_str_eq(str_at(c, "call"), id);
	ck_assert_str_eq(str_at(c, "state"), "answered");
	ck_assert_str_eq(str_at(c, "legs.trunk.suite"), "AES_CM_128_HMAC_SHA1_80");
	ck_assert_str_eq(str_at(c, "legs.agent.suite"), "AES_CM_128_HMAC_SHA1_80");
	ck_assert_int_gt(num_at(c, "legs.trunk.packets_out"), 0);
	ck_assert_int_gt(num_at(c, "legs.agent.packets_out"), 0);
	ck_assert_int_eq(num_at(c, "legs.trunk.drops_auth"), 0);
	ck_assert_int_eq(num_at(c, "legs.agent.drops_auth"), 0);
	ck_assert_msg(strncmp(str_at(c, "legs.agent.latched"), t.agent_ip, strlen(t.agent_ip)) == 0,
	              "agent leg latched %s", str_at(c, "legs.agent.latched"));
	json_decref(j);
	j = control_reply(&t, "{\"cmd\":\"call\",\"id\":\"00000000000000000000000000000000\"}",
	                  true);
	ck_assert_str_eq(str_at(j, "error"), "no such call");
	json_decref(j);

	/* agents, stats */
	j = control(&t, "{\"cmd\":\"agents\"}");
	ck_assert_int_eq(json_array_size(at(j, "agents")), 1);
	ck_assert_str_eq(str_at(j, "agents.0.name"), "itest");
	ck_assert_msg(json_is_true(at(j, "agents.0.up")), "agent not up");
	ck_assert_int_eq(num_at(j, "agents.0.calls"), 1);
	json_decref(j);
	j = control(&t, "{\"cmd\":\"stats\"}");
	ck_assert_int_eq(num_at(j, "calls.current"), 1);
	ck_assert_int_eq(num_at(j, "calls.started"), 1);
	/* the media workers' I/O path: the one SW_MEDIA_IO asked for, else either */
	const char *io = getenv("SW_MEDIA_IO");
	ck_assert_msg(strcmp(str_at(j, "media.io"), "uring") == 0 ||
	                      strcmp(str_at(j, "media.io"), "epoll") == 0,
	              "stats media.io: %s", str_at(j, "media.io"));
	if (io != NULL && (strcmp(io, "uring") == 0 || strcmp(io, "epoll") == 0))
		ck_assert_str_eq(str_at(j, "media.io"), io);
	ck_assert_int_eq(num_at(j, "media.workers"), 1);
	json_decref(j);

	/* sipwardenctl: the table row and `show` for that id */
	const char *calls_args[] = {"calls", NULL};
	char *text = ctl_tool(&t, calls_args);
	ck_assert_msg(strstr(text, id) != NULL && strstr(text, "answered") != NULL &&
	                      strstr(text, "itest") != NULL &&
	                      strstr(text, "AES128/80/AES128/80") != NULL,
	              "sipwardenctl calls:\n%s", text);
	free(text);
	const char *show_args[] = {"show", id, NULL};
	text = ctl_tool(&t, show_args);
	json_t *shown = json_loads(text, 0, NULL);
	ck_assert_msg(shown != NULL, "sipwardenctl show: %s", text);
	ck_assert_str_eq(str_at(shown, "call.call"), id);
	ck_assert_str_eq(str_at(shown, "call.state"), "answered");
	ck_assert_int_gt(num_at(shown, "call.legs.trunk.packets_in"), 0);
	json_decref(shown);
	free(text);

	/* after the call: nothing current, one completed */
	ck_assert_int_eq(itest_wait_child(cp, 30000), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	end = itest_now_ms() + 5000;
	for (j = NULL;;) {
		json_decref(j);
		j = control(&t, "{\"cmd\":\"calls\"}");
		if (num_at(j, "count") == 0)
			break;
		ck_assert_msg(itest_now_ms() < end, "call still listed: %s",
		              json_dumps(j, JSON_COMPACT));
		usleep(50000);
	}
	ck_assert_int_eq(json_array_size(at(j, "calls")), 0);
	json_decref(j);
	j = control(&t, "{\"cmd\":\"stats\"}");
	ck_assert_int_eq(num_at(j, "calls.current"), 0);
	ck_assert_int_eq(num_at(j, "calls.started"), 1);
	ck_assert_int_eq(num_at(j, "calls.by_outcome.completed"), 1);
	json_decref(j);
	j = control_reply(&t, req, true);
	ck_assert_str_eq(str_at(j, "error"), "no such call");
	json_decref(j);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("control");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, control_and_sipwardenctl_describe_a_live_call_and_count_it_after);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
