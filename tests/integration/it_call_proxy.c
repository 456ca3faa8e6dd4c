/*
 * it_call_proxy: calls through the project's record-routing test proxy
 * (itest_proxy.c), on the trunk side and in front of the agent (issue 10, item 0).
 *
 * The proxy Record-Routes each INVITE and answers 404 to any request inside a dialog
 * that does not carry its Route, as Kamailio's loose_route() does; its log tells which
 * side sent what. Through it: a call with hold and resume (re-INVITEs) and a BYE from
 * the trunk; a BYE from the agent (sipwarden's BYE on the trunk leg follows the route
 * set); a CANCEL; a proxy that sends each request inside a dialog on a new connection
 * from another address of the trunk (accepted), and from an address outside the trunk's
 * sources (403, security.peer_unknown dialog_from_other_peer, the call goes on). With
 * the proxy in front of the agent, sipwarden's ACKs, relayed re-INVITEs and BYE carry the
 * route the agent's 200 recorded.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"
#include "itest_proxy.h"

#define T_CALL_MS 20000

static char tel[1 << 20];
static char proxy_ip[32];
static char proxy_to[96];

static void
assert_pass(json_t *r, const char *who)
{
	char *d = json_dumps(r, JSON_COMPACT);
	bool pass = strcmp(itest_str(r, "result"), "pass") == 0;

	ck_assert_msg(pass, "%s: %s", who, d);
	free(d);
}

/* A proxy on the trunk side: callers reach sipwarden through it. */
static pid_t
trunk_proxy(const struct itest *t, const char *dialog_src)
{
	struct itest_proxy p = {.listen_ip = proxy_ip,
	                        .listen_port = itest_port(),
	                        .cert = "server",
	                        .up_ip = t->ip,
	                        .up_port = t->port,
	                        .dialog_src = dialog_src};
	pid_t pid;

	snprintf(proxy_ip, sizeof(proxy_ip), "127.%u.%u.%u", (unsigned)(getpid() % 200) + 20,
	         (unsigned)(itest_now_ms() % 250), 7u);
	p.listen_ip = proxy_ip;
	pid = itest_proxy_start(t, &p);
	snprintf(proxy_to, sizeof(proxy_to), "sip:agent@%s:%u", proxy_ip, p.listen_port);
	return pid;
}

/* The call.end event in the telemetry read so far (asserts there is one). */
static json_t *
call_end(int tfd)
{
	json_t *end;

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 8000);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	return end;
}

START_TEST(call_with_reinvites_and_bye_from_the_trunk_through_a_proxy)
{
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {
	        "--to",       proxy_to, "--hold-after", "1",  "--hold-for", "0.5",
	        "--duration", "3",      "--timeout",    "15", NULL};
	json_t *caller, *agent, *end;
	pid_t ap, pp;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	pp = trunk_proxy(&t, NULL);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	ck_assert_int_eq(itest_num(caller, "reinvites"), 2);
	ck_assert_int_eq(itest_num(agent, "reinvites"), 2);
	/* every request inside the dialog, both ways, carried the proxy's Route */
	ck_assert_int_eq(itest_proxy_count(&t, "NOROUTE"), 0);
	ck_assert_int_eq(itest_proxy_count(&t, "down> INVITE "), 3);
	ck_assert_int_eq(itest_proxy_count(&t, "down> ACK "), 3);
	ck_assert_int_eq(itest_proxy_count(&t, "down> BYE "), 1);
	ck_assert_int_eq(itest_proxy_count(&t, "up> SIP/2.0 200"), 4); /* 3 INVITEs, BYE */
	end = call_end(tfd);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_kill_child(pp);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(bye_from_the_agent_reaches_the_trunk_through_its_proxy)
{
	struct itest t;
	const char *agent_args[] = {"--bye-after", "1", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--to", proxy_to, "--duration", "6", "--timeout", "15", NULL};
	json_t *caller, *end;
	pid_t ap, pp;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	pp = trunk_proxy(&t, NULL);
	ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	ck_assert_str_eq(itest_str(caller, "ended_by"), "remote");
	ck_assert_int_eq(itest_proxy_count(&t, "NOROUTE"), 0);
	ck_assert_int_eq(itest_proxy_count(&t, "up> BYE "), 1);
	end = call_end(tfd);
	ck_assert_str_eq(itest_str(end, "ended_by"), "agent");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(end);
	json_decref(caller);
	itest_kill_child(pp);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(cancel_through_a_proxy_reaches_the_ringing_agent)
{
	struct itest t;
	const char *agent_args[] = {"--ring-ms", "8000", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--to",      proxy_to,   "--cancel-after",
	                           "600",       "--expect", "487",
	                           "--timeout", "10",       NULL};
	json_t *caller, *agent, *end;
	pid_t ap, pp;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	pp = trunk_proxy(&t, NULL);
	ap = itest_agent(&t, agent_args);
	itest_check_exit(&t, itest_caller(&t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 487);
	ck_assert_int_eq(itest_num(agent, "code"), 487);
	ck_assert_int_eq(itest_proxy_count(&t, "down> CANCEL "), 1);
	/* the 180 sipwarden sent carried the Record-Route: nothing else went wrong */
	ck_assert_int_eq(itest_proxy_count(&t, "up> SIP/2.0 180"), 1);
	end = call_end(tfd);
	ck_assert_str_eq(itest_str(end, "outcome"), "cancelled");
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_kill_child(pp);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(requests_on_another_connection_from_the_trunk_are_accepted)
{
	struct itest t;
	char src[32];
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--to", proxy_to,     "--hold-after", "1",         "--hold-for",
	                           "0.5",  "--duration", "2.5",          "--timeout", "15",
	                           NULL};
	json_t *caller, *end;
	pid_t ap, pp;
	int tfd;

	/* re-INVITEs, ACKs and the BYE each arrive on a new connection from another
	 * address inside the trunk's source (127.0.0.0/8) */
	snprintf(src, sizeof(src), "127.%u.%u.9", (unsigned)(getpid() % 200) + 20,
	         (unsigned)(itest_now_ms() % 250));
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	pp = trunk_proxy(&t, src);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	assert_pass(caller, "caller");
	ck_assert_int_eq(itest_num(caller, "reinvites"), 2);
	/* the ACKs on their new connections stopped sipwarden's 2xx at once: one 200 to
	 * each INVITE and one to the BYE, no copies */
	ck_assert_int_eq(itest_proxy_count(&t, "up> SIP/2.0 200"), 4);
	ck_assert_int_eq(itest_proxy_count(&t, "NOROUTE"), 0);
	end = call_end(tfd);
	ck_assert_msg(strstr(tel, "\"security.") == NULL, "security event: %s", tel);
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	ck_assert_str_eq(itest_str(end, "reason"), "bye");
	json_decref(end);
	json_decref(caller);
	itest_kill_child(pp);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(requests_in_a_dialog_from_outside_the_trunk_sources_get_403)
{
	struct itest t;
	/* the proxy's own connection comes from 127.0.0.1; its requests inside the dialog
	 * from 127.0.0.2, which is not the trunk's */
	struct itest_opts o = {.trunk_source = "127.0.0.1/32"};
	const char *agent_args[] = {"--mode", "echo",      "--calls", "1", "--bye-after",
	                            "2.5",    "--timeout", "20",      NULL};
	const char *call_args[] = {"--to", proxy_to, "--duration", "1", "--timeout", "15", NULL};
	json_t *end;
	pid_t ap, pp;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	pp = trunk_proxy(&t, "127.0.0.2");
	ap = itest_agent(&t, agent_args);
	/* the caller's BYE after 1 s is refused; the agent ends the call at 2.5 s */
	itest_caller(&t, "caller.json", call_args, T_CALL_MS);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	ck_assert_int_ge(itest_proxy_count(&t, "up> SIP/2.0 403"), 1);
	end = call_end(tfd);
	ck_assert_msg(itest_count_events(tel, "security.peer_unknown", "dialog_from_other_peer") >=
	                      1,
	              "telemetry: %s", tel);
	ck_assert_str_eq(itest_str(end, "ended_by"), "agent");
	json_decref(end);
	itest_kill_child(pp);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(a_proxy_in_front_of_the_agent_gets_routed_ack_and_bye)
{
	struct itest t;
	struct itest_opts o = {0};
	char agents[256];
	struct itest_proxy p = {.cert = "agent"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--hold-after", "0.5", "--hold-for", "0.3", "--duration", "2",
	                           "--timeout",    "15",  NULL};
	json_t *caller, *agent, *end;
	pid_t ap, pp;
	int tfd;

	snprintf(proxy_ip, sizeof(proxy_ip), "127.%u.%u.8", (unsigned)(getpid() % 200) + 20,
	         (unsigned)(itest_now_ms() % 250));
	p.listen_ip = proxy_ip;
	p.listen_port = itest_port();
	snprintf(agents, sizeof(agents),
	         "[agent itest]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n",
	         proxy_ip, p.listen_port);
	o.agents = agents;
	itest_start(&t, &o);
	p.up_ip = t.agent_ip;
	p.up_port = t.agent_port;
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	pp = itest_proxy_start(&t, &p);
	ck_assert_int_ge(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	assert_pass(caller, "caller");
	assert_pass(agent, "agent");
	/* sipwarden's ACKs, the re-INVITEs and the BYE it relayed from the trunk followed
	 * the route set */
	ck_assert_int_eq(itest_num(agent, "reinvites"), 2);
	ck_assert_int_eq(itest_proxy_count(&t, "NOROUTE"), 0);
	ck_assert_int_eq(itest_proxy_count(&t, "down> INVITE "), 3);
	ck_assert_int_eq(itest_proxy_count(&t, "down> ACK "), 3);
	ck_assert_int_eq(itest_proxy_count(&t, "down> BYE "), 1);
	end = call_end(tfd);
	ck_assert_str_eq(itest_str(end, "ended_by"), "trunk");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	itest_kill_child(pp);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_proxy");
	TCase *tc = tcase_create("proxy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, call_with_reinvites_and_bye_from_the_trunk_through_a_proxy);
	tcase_add_test(tc, bye_from_the_agent_reaches_the_trunk_through_its_proxy);
	tcase_add_test(tc, cancel_through_a_proxy_reaches_the_ringing_agent);
	tcase_add_test(tc, requests_on_another_connection_from_the_trunk_are_accepted);
	tcase_add_test(tc, requests_in_a_dialog_from_outside_the_trunk_sources_get_403);
	tcase_add_test(tc, a_proxy_in_front_of_the_agent_gets_routed_ack_and_bye);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
