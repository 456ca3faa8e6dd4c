/*
 * it_call_reinvite: re-INVITEs inside an answered call, end to end. A hold and a resume
 * from the trunk cross sipwarden to the agent (both 200) and the audio flows again after
 * the resume; a re-INVITE that would drop SRTP is refused with 488 and a
 * security.downgrade_refused event, never reaches the agent, and the call goes on with
 * its keys.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* All JSON objects with key "code" in file `name` of the test dir, as an array. */
static json_t *
calls_in(const struct itest *t, const char *name)
{
	char path[256];
	size_t len;
	char *data = itest_read_file(itest_path(t, name, path, sizeof(path)), &len);
	json_t *all = json_array();

	if (data == NULL)
		return all;
	for (char *line = strtok(data, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (j != NULL && json_object_get(j, "code") != NULL)
			json_array_append_new(all, j);
		else
			json_decref(j);
	}
	free(data);
	return all;
}

/* The first call result in file `name`; asserts there is one. */
static json_t *
first_call(const struct itest *t, const char *name)
{
	json_t *all = calls_in(t, name), *c = json_array_get(all, 0);

	ck_assert_msg(c != NULL, "no call result in %s", name);
	json_incref(c);
	json_decref(all);
	return c;
}

static json_int_t
num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

static const char *
str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(json_is_string(v), "%s is not a string", k);
	return json_string_value(v);
}

/* The first telemetry line with `event`, parsed, or NULL. */
static json_t *
event_of(const char *lines, const char *event)
{
	char *copy = strdup(lines);
	json_t *found = NULL;

	for (char *line = strtok(copy, "\n"); line != NULL && found == NULL;
	     line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (j != NULL && json_is_string(json_object_get(j, "event")) &&
		    strcmp(json_string_value(json_object_get(j, "event")), event) == 0)
			found = j;
		else
			json_decref(j);
	}
	free(copy);
	return found;
}

/* A peer's call met its own expectations (the whole result line on failure). */
static void
assert_pass(json_t *r, const char *who)
{
	char *d = json_dumps(r, JSON_COMPACT);
	bool pass = strcmp(str(r, "result"), "pass") == 0;

	ck_assert_msg(pass, "%s: %s", who, d);
	free(d);
}

/* The call table empties (bounded). */
static void
assert_no_calls_left(const struct itest *t)
{
	char *reply = NULL;

	for (int i = 0; i < 50; i++) {
		free(reply);
		reply = itest_control(t, "{\"cmd\":\"calls\"}", 2000);
		if (reply != NULL && strstr(reply, "\"count\":0") != NULL)
			break;
		usleep(50000);
	}
	ck_assert_msg(reply != NULL && strstr(reply, "\"count\":0") != NULL, "calls: %s", reply);
	free(reply);
}

START_TEST(hold_and_resume_cross_to_the_agent_and_audio_resumes)
{
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--hold-after", "1",  "--hold-for", "0.5", "--duration", "3",
	                           "--timeout",    "15", NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = first_call(&t, "caller.json");
	agent = first_call(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	ck_assert_int_eq(num(caller, "code"), 200);
	ck_assert_str_eq(str(caller, "result"), "pass");
	/* hold and resume both got 200, and the agent answered both */
	ck_assert_int_eq(num(caller, "reinvites"), 2);
	ck_assert_int_eq(num(caller, "reinvite_code"), 200);
	ck_assert_int_eq(num(agent, "reinvites"), 2);
	/* 1 s before the hold and 0.5 s of hold give at most ~75 packets back: more means
	 * the echo came back after the resume, through the re-keyed agent leg */
	ck_assert_int_ge(num(caller, "sent"), 130);
	ck_assert_int_ge(num(caller, "ok"), 110);
	ck_assert_int_eq(num(caller, "bad"), 0);
	ck_assert_int_eq(num(caller, "auth_fail"), 0);
	ck_assert_int_eq(num(agent, "auth_fail"), 0);
	ck_assert_int_eq(num(agent, "bad"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"security.") == NULL, "security event: %s", tel);
	end = event_of(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(str(end, "outcome"), "completed");
	ck_assert_str_eq(str(end, "ended_by"), "trunk");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	assert_no_calls_left(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(reinvite_dropping_srtp_is_refused_and_the_call_keeps_its_keys)
{
	struct itest t;
	const char *agent_args[] = {"--mode",    "echo", "--calls",   "1",
	                            "--timeout", "20",   "--verbose", NULL};
	const char *call_args[] = {"--hold-after", "1",          "--reinvite-offer",
	                           "avp",          "--duration", "3",
	                           "--timeout",    "15",         NULL};
	json_t *caller, *agent, *start, *sec, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = first_call(&t, "caller.json");
	agent = first_call(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	ck_assert_int_eq(num(caller, "code"), 200);
	ck_assert_int_eq(num(caller, "reinvite_code"), 488);
	ck_assert_int_eq(num(caller, "reinvites"), 0);
	/* the refused offer never reached the agent: it saw one INVITE only */
	ck_assert_int_eq(num(agent, "reinvites"), 0);
	{
		char path[256];
		size_t len;
		char *log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
		int invites = 0;
		ck_assert_ptr_nonnull(log);
		for (char *p = strstr(log, "<<< INVITE "); p != NULL;
		     p = strstr(p + 1, "<<< INVITE "))
			invites++;
		free(log);
		ck_assert_int_eq(invites, 1);
	}
	/* the call went on, SRTP, intact, for its whole 3 s */
	ck_assert_str_eq(str(caller, "result"), "pass");
	ck_assert_msg(strncmp(str(caller, "suite"), "AE", 2) == 0, "suite %s",
	              str(caller, "suite"));
	ck_assert_int_ge(num(caller, "sent"), 130);
	ck_assert_int_ge(num(caller, "ok"), num(caller, "sent") - 2);
	ck_assert_int_eq(num(caller, "bad"), 0);
	ck_assert_int_eq(num(caller, "auth_fail"), 0);
	ck_assert_int_eq(num(agent, "auth_fail"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	start = event_of(tel, "call.start");
	sec = event_of(tel, "security.downgrade_refused");
	end = event_of(tel, "call.end");
	ck_assert_msg(start && sec && end, "telemetry: %s", tel);
	ck_assert_str_eq(str(sec, "call"), str(start, "call"));
	ck_assert_int_eq(num(sec, "sip_code"), 488);
	ck_assert_msg(strstr(tel, "\"security.downgrade_refused\"") < strstr(tel, "\"call.end\""),
	              "telemetry: %s", tel);
	ck_assert_str_eq(str(end, "outcome"), "completed");
	ck_assert_str_eq(str(end, "ended_by"), "trunk");
	json_decref(start);
	json_decref(sec);
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	assert_no_calls_left(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_reinvite");
	TCase *tc = tcase_create("reinvite");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hold_and_resume_cross_to_the_agent_and_audio_resumes);
	tcase_add_test(tc, reinvite_dropping_srtp_is_refused_and_the_call_keeps_its_keys);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
