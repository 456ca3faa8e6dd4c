/*
 * it_drain: a box is taken out of service without dropping calls. `sipwardenctl drain`
 * makes new INVITEs get 503 with Retry-After (and a security.limit_reached event, reason
 * "draining") and out-of-dialog OPTIONS get 503, so that load balancers steer away, while
 * the call in progress keeps its media intact to its end; `sipwardenctl undrain` takes
 * calls again. systemd's STATUS= says which, with the number of calls. On SIGTERM with
 * [general] drain_timeout the daemon drains too: it exits 0 as soon as the last call has
 * ended, or ends what is left with BYE (reason "shutdown") when the time is up; a second
 * SIGTERM ends calls at once. An agent calling out is refused the same way.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 40000

static const char *const agent_args[] = {"--mode", "echo", "--timeout", "60", "--verbose", NULL};

/* Run `sipwardenctl -c CTL args...`; its exit status. stdout goes to DIR/<out>. */
static int
ctl(const struct itest *t, const char *out, const char *a1, const char *a2, const char *a3)
{
	const char *bin = getenv("SW_SIPWARDENCTL");
	const char *argv[] = {bin, "-c", t->ctl_path, a1, a2, a3, NULL};
	char path[256];

	ck_assert_msg(bin != NULL, "SW_SIPWARDENCTL not set");
	return itest_wait_child(itest_spawn(argv, itest_path(t, out, path, sizeof(path)), NULL),
	                        10000);
}

/* The one call result in DIR/name: `code`, pass (for 200: media verified to the end). */
static json_t *
assert_result(const struct itest *t, const char *name, int code)
{
	json_t *r = itest_result(t, name);

	ck_assert_msg(itest_num(r, "code") == code, "%s: code %lld, want %d", name,
	              (long long)itest_num(r, "code"), code);
	ck_assert_msg(strcmp(itest_str(r, "result"), "pass") == 0, "%s: %s", name,
	              json_string_value(json_object_get(r, "why")));
	return r;
}

START_TEST(drain_refuses_new_calls_and_options_keeps_the_call_in_progress_and_undrain_resumes)
{
	static char tel[1 << 20];
	struct itest t;
	const char *first[] = {"--calls", "1", "--duration", "5", NULL};
	const char *invite[] = {"--calls", "2", "--expect", "503", "--verbose", NULL};
	const char *options[] = {"--options", "--expect", "503", "--verbose", NULL};
	const char *options_ok[] = {"--options", "--expect", "200", NULL};
	const char *after[] = {"--calls", "1", "--duration", "1", NULL};
	json_t *r, *end;
	pid_t ap, cp;
	char *reply;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "first.json", first);
	itest_wait_calls(&t, 1, "\"answered\"", 10000);

	ck_assert_int_eq(ctl(&t, "drain.out", "drain", NULL, NULL), 0);
	ck_assert_msg(itest_file_has(&t, "drain.out", "draining"), "sipwardenctl drain output");
	ck_assert_msg(itest_wait_notify(&t, "STATUS=draining, 1 call left", 3000),
	              "no STATUS=draining, 1 call left");

	/* new calls are refused at once, with Retry-After, not taken on */
	itest_check_exit(&t, itest_caller(&t, "invite.json", invite, T_CALL_MS), "invite.json");
	ck_assert_msg(itest_file_has(&t, "invite.json.log", "Retry-After:"),
	              "503 without Retry-After");
	ck_assert_msg(!itest_file_has(&t, "invite.json.log", "100 Trying"),
	              "a refused INVITE must not be taken on (100 Trying)");
	/* load balancers' OPTIONS probes see the box out of service */
	itest_check_exit(&t, itest_caller(&t, "options.json", options, T_CALL_MS), "options.json");
	ck_assert_msg(itest_file_has(&t, "options.json.log", "Retry-After:"),
	              "OPTIONS 503 without Retry-After");

	/* the call in progress goes on to its own end with every packet intact */
	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	r = assert_result(&t, "first.json", 200);
	ck_assert_str_eq(itest_str(r, "ended_by"), "local");
	ck_assert_int_gt(itest_num(r, "ok"), 150); /* 5 s of 20 ms packets */
	json_decref(r);
	ck_assert_msg(itest_wait_notify(&t, "STATUS=draining, 0 calls left", 3000),
	              "no STATUS=draining, 0 calls left");
	ck_assert(itest_alive(&t)); /* a drain by hand does not stop the daemon */

	reply = itest_control(&t, "{\"cmd\":\"stats\"}", 2000);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strstr(reply, "\"draining\":2") != NULL, "stats: %s", reply);
	ck_assert_msg(strstr(reply, "\"draining\":true") != NULL, "stats: %s", reply);
	free(reply);

	/* back in service */
	ck_assert_int_eq(ctl(&t, "undrain.out", "undrain", NULL, NULL), 0);
	ck_assert_msg(itest_wait_notify(&t, "STATUS=running", 3000), "no STATUS=running");
	itest_check_exit(&t, itest_caller(&t, "options_ok.json", options_ok, T_CALL_MS),
	                 "options_ok.json");
	reply = itest_control(&t, "{\"cmd\":\"stats\"}", 2000);
	ck_assert_msg(reply != NULL && strstr(reply, "\"draining\":false") != NULL, "stats: %s",
	              reply ? reply : "(no reply)");
	free(reply);
	itest_check_exit(&t, itest_caller(&t, "after.json", after, T_CALL_MS), "after.json");
	json_decref(assert_result(&t, "after.json", 200));
	itest_kill_child(ap);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 1000);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "draining") == 2,
	              "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "call.start", NULL) == 2, "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "call.end", "bye") == 2, "telemetry: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "completed");
	json_decref(end);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(drain_timeout_by_hand_ends_the_call_with_bye_and_keeps_refusing)
{
	static char tel[1 << 20];
	struct itest t;
	const char *longcall[] = {"--calls", "1", "--duration", "30", "--verbose", NULL};
	const char *invite[] = {"--calls", "1", "--expect", "503", NULL};
	const char *bad[] = {"drain", "--timeout", NULL};
	json_t *r, *end;
	int64_t t0, took;
	pid_t ap, cp;
	char *reply;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "long.json", longcall);
	itest_wait_calls(&t, 1, "\"answered\"", 10000);

	/* a timeout that is not a duration is refused by the daemon, nothing changes */
	reply = itest_control(&t, "{\"cmd\":\"drain\",\"timeout\":\"2 days\"}", 2000);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strstr(reply, "\"error\"") != NULL, "drain: %s", reply);
	free(reply);
	ck_assert_int_ne(ctl(&t, "bad.out", bad[0], bad[1], NULL), 0);

	t0 = itest_now_ms();
	ck_assert_int_eq(ctl(&t, "drain.out", "drain", "--timeout", "2s"), 0);
	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	took = itest_now_ms() - t0;
	ck_assert_msg(took >= 1800 && took < 6000, "the call ended %lld ms after drain",
	              (long long)took);
	r = assert_result(&t, "long.json", 200);
	ck_assert_str_eq(itest_str(r, "ended_by"), "remote"); /* sipwarden's BYE */
	json_decref(r);
	ck_assert_msg(itest_file_has(&t, "long.json.log", "<<< BYE sip:"), "caller: no BYE");
	ck_assert_msg(itest_file_has(&t, "agent.log", "<<< BYE sip:"), "agent: no BYE");

	/* still draining after the timeout: the box stays out of service until undrain */
	itest_check_exit(&t, itest_caller(&t, "invite.json", invite, T_CALL_MS), "invite.json");
	itest_kill_child(ap);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "shutdown");
	ck_assert_str_eq(json_string_value(json_object_get(end, "ended_by")), "sipwarden");
	json_decref(end);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(sigterm_with_drain_timeout_ends_the_long_call_with_bye_after_it_and_exits_0)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.general_extra = "drain_timeout = 2s\n"};
	const char *longcall[] = {"--calls", "1", "--duration", "30", "--verbose", NULL};
	const char *invite[] = {"--calls", "1", "--expect", "503", NULL};
	json_t *r, *end;
	int64_t t0, took;
	pid_t ap, cp;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "long.json", longcall);
	itest_wait_calls(&t, 1, "\"answered\"", 10000);

	t0 = itest_now_ms();
	ck_assert_int_eq(kill(t.pid, SIGTERM), 0);
	ck_assert_msg(itest_wait_notify(&t, "STOPPING=1", 2000), "no STOPPING=1");
	ck_assert_msg(itest_wait_notify(&t, "draining, 1 call left", 2000),
	              "no STATUS with the call left");
	/* while it drains, new calls are refused */
	itest_check_exit(&t, itest_caller(&t, "invite.json", invite, T_CALL_MS), "invite.json");
	ck_assert(itest_alive(&t));

	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	took = itest_now_ms() - t0;
	ck_assert_msg(took >= 1800 && took < 6000, "the call ended %lld ms after SIGTERM",
	              (long long)took);
	r = assert_result(&t, "long.json", 200);
	ck_assert_str_eq(itest_str(r, "ended_by"), "remote");
	json_decref(r);
	ck_assert_msg(itest_file_has(&t, "long.json.log", "<<< BYE sip:"), "caller: no BYE");
	ck_assert_msg(itest_file_has(&t, "agent.log", "<<< BYE sip:"), "agent: no BYE");

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "shutdown");
	json_decref(end);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "draining") == 1,
	              "telemetry: %s", tel);
	itest_wait_exit(&t, 5000); /* exit status 0 */
	itest_kill_child(ap);
	close(tfd);
}
END_TEST

START_TEST(sigterm_with_drain_timeout_exits_when_the_last_call_ends)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.general_extra = "drain_timeout = 60s\n"};
	const char *call[] = {"--calls", "1", "--duration", "3", NULL};
	json_t *r, *end;
	int64_t t0;
	pid_t ap, cp;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "call.json", call);
	itest_wait_calls(&t, 1, "\"answered\"", 10000);

	t0 = itest_now_ms();
	ck_assert_int_eq(kill(t.pid, SIGTERM), 0);
	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	r = assert_result(&t, "call.json", 200);
	ck_assert_str_eq(itest_str(r, "ended_by"), "local"); /* the caller hung up itself */
	json_decref(r);
	itest_wait_exit(&t, 5000); /* long before the 60 s */
	ck_assert_int_lt(itest_now_ms() - t0, 10000);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 2000);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "bye");
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "completed");
	json_decref(end);
	itest_kill_child(ap);
	close(tfd);
}
END_TEST

START_TEST(a_second_sigterm_ends_the_calls_at_once)
{
	struct itest t;
	struct itest_opts o = {.general_extra = "drain_timeout = 60s\n"};
	const char *longcall[] = {"--calls", "1", "--duration", "30", "--verbose", NULL};
	int64_t t0;
	pid_t ap, cp;

	itest_start(&t, &o);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "long.json", longcall);
	itest_wait_calls(&t, 1, "\"answered\"", 10000);
	usleep(1000 * 1000); /* some media first: a call ended before any is a failed call */

	ck_assert_int_eq(kill(t.pid, SIGTERM), 0);
	ck_assert_msg(itest_wait_notify(&t, "draining, 1 call left", 2000),
	              "no STATUS with the call left");
	t0 = itest_now_ms();
	ck_assert_int_eq(kill(t.pid, SIGTERM), 0);
	itest_check_exit(&t, itest_wait_child(cp, T_CALL_MS), "long.json");
	ck_assert_int_lt(itest_now_ms() - t0, 3000);
	ck_assert_msg(itest_file_has(&t, "long.json.log", "<<< BYE sip:"), "caller: no BYE");
	itest_wait_exit(&t, 5000);
	itest_kill_child(ap);
}
END_TEST

/* Signals that keep coming while sipwarden is already stopping (an impatient operator,
 * systemd's stop plus a script's) never kill it: it finishes its shutdown and exits 0.
 * SIGTERM every millisecond until it is gone, so one lands after the loop has ended
 * (freeing libevent's signal events brings back the default action, which killed it:
 * status 143 under ASan, whose exit takes long enough). */
START_TEST(sigterms_during_shutdown_never_kill_it)
{
	struct itest t;
	siginfo_t si = {0};
	int64_t end;
	int sent = 0;

	itest_start(&t, NULL);
	end = itest_now_ms() + 10000;
	/* until it has exited (not reaped yet: itest_wait_exit checks how) */
	while (itest_now_ms() < end &&
	       waitid(P_PID, (id_t)t.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == 0) {
		kill(t.pid, SIGTERM);
		sent++;
		usleep(1000);
	}
	ck_assert_msg(si.si_pid == t.pid, "daemon did not exit within 10 s of %d SIGTERMs", sent);
	itest_wait_exit(&t, 1000); /* exit status 0, not killed by a signal */
}
END_TEST

START_TEST(an_agent_calling_out_is_refused_while_draining)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64], *reply;
	json_t *r;
	int tfd;

	/* nobody listens at the target: only the drain may answer */
	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", itest_port());
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	reply = itest_control(&t, "{\"cmd\":\"drain\"}", 2000);
	ck_assert_msg(reply != NULL && strstr(reply, "\"draining\":true") != NULL, "drain: %s",
	              reply ? reply : "(no reply)");
	free(reply);
	ck_assert_int_ne(itest_agent_calls(&t, "out.json", "+15550001", T_CALL_MS), 0);
	r = itest_result(&t, "out.json");
	ck_assert_int_eq(itest_num(r, "code"), 503);
	json_decref(r);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"security.limit_reached\"", 3000);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "draining") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "call.start", NULL) == 0, "telemetry: %s", tel);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_drain");
	TCase *tc = tcase_create("drain");

	tcase_set_timeout(tc, 120);
	tcase_add_test(
	        tc,
	        drain_refuses_new_calls_and_options_keeps_the_call_in_progress_and_undrain_resumes);
	tcase_add_test(tc, drain_timeout_by_hand_ends_the_call_with_bye_and_keeps_refusing);
	tcase_add_test(tc,
	               sigterm_with_drain_timeout_ends_the_long_call_with_bye_after_it_and_exits_0);
	tcase_add_test(tc, sigterm_with_drain_timeout_exits_when_the_last_call_ends);
	tcase_add_test(tc, a_second_sigterm_ends_the_calls_at_once);
	tcase_add_test(tc, an_agent_calling_out_is_refused_while_draining);
	tcase_add_test(tc, sigterms_during_shutdown_never_kill_it);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
