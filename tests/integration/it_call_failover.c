/*
 * it_call_failover: a call finds a working agent. An agent that answers 503, one that
 * never answers within agent_timeout, and one where nothing listens are each passed over
 * for the next agent, which takes the call with intact media; when every agent fails the
 * trunk gets 503 with Retry-After.
 */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"
#include "testnet.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* Wait until ip:port accepts TCP connections (bounded). */
static void
wait_listening(const char *ip, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	ck_assert_int_eq(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return;
		usleep(10000);
	}
	ck_abort_msg("agent at %s:%u does not listen", ip, port);
}

/* Start `swpeer answer` at ip:port; its JSON goes to DIR/<name>.json. */
static pid_t
spawn_agent(const struct itest *t, const char *name, const char *ip, uint16_t port,
            const char *const extra[])
{
	const char *peer = getenv("SW_PEER");
	char listen[64], cert[256], key[256], out[256], err[256], file[64];
	const char *argv[64] = {0};
	size_t n = 0;
	pid_t pid;

	ck_assert_msg(peer != NULL, "SW_PEER not set");
	snprintf(listen, sizeof(listen), "%s:%u", ip, port);
	itest_path(t, "agent.crt", cert, sizeof(cert));
	itest_path(t, "agent.key", key, sizeof(key));
	snprintf(file, sizeof(file), "%s.json", name);
	itest_path(t, file, out, sizeof(out));
	snprintf(file, sizeof(file), "%s.log", name);
	itest_path(t, file, err, sizeof(err));
	argv[n++] = peer;
	argv[n++] = "answer";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--cert";
	argv[n++] = cert;
	argv[n++] = "--key";
	argv[n++] = key;
	argv[n++] = "--json";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	pid = itest_spawn(argv, out, err);
	wait_listening(ip, port);
	return pid;
}

/* Two agents, a1 (tried first: least busy, ties in configuration order) then a2. */
struct pair {
	struct itest t;
	char ip[32];
	uint16_t port[2];
	char conf[512];
	int tfd;
};

static void
pair_start(struct pair *p, const char *sip_extra)
{
	struct itest_opts o = {.sip_extra = sip_extra, .extra = "[pool]\nprobe_interval = 0\n"};

	testnet_loopback(p->ip, sizeof(p->ip));
	p->port[0] = itest_port();
	do
		p->port[1] = itest_port();
	while (p->port[1] == p->port[0]);
	snprintf(p->conf, sizeof(p->conf),
	         "[agent a1]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n\n"
	         "[agent a2]\naddress = %s:%u\nserver_name = agent.test\nverify = yes\n",
	         p->ip, p->port[0], p->ip, p->port[1]);
	o.agents = p->conf;
	itest_start(&p->t, &o);
	p->tfd = itest_telemetry_connect(&p->t);
}

static void
pair_stop(struct pair *p)
{
	itest_assert_no_calls(&p->t);
	close(p->tfd);
	itest_stop(&p->t);
}

/* The call lands on a2 with intact media; returns the caller's setup time. */
static json_int_t
assert_answered_by_a2(struct pair *p)
{
	json_t *caller = itest_result(&p->t, "caller.json"), *a2 = itest_result(&p->t, "a2.json");
	json_t *ans;
	json_int_t setup;

	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "sent"), 40);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(a2, "code"), 200);
	ck_assert_int_ge(itest_num(a2, "ok"), itest_num(caller, "sent") - 2);
	setup = itest_num(caller, "setup_ms");

	tel[0] = '\0';
	itest_telemetry_read(p->tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ans = itest_event(tel, "call.answer");
	ck_assert_msg(ans != NULL, "no call.answer: %s", tel);
	ck_assert_str_eq(itest_str(ans, "agent"), "a2");
	json_decref(ans);
	json_t *end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	ck_assert_str_eq(itest_str(end, "agent"), "a2");
	json_decref(end);
	json_decref(a2);
	json_decref(caller);
	return setup;
}

START_TEST(agent_answering_503_is_passed_over_for_the_next_one)
{
	struct pair p;
	const char *a1_args[] = {"--mode", "reject=503", "--calls", "1", "--timeout", "20", NULL};
	const char *a2_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--duration", "1", NULL};
	pid_t a1, a2;

	pair_start(&p, NULL);
	a1 = spawn_agent(&p.t, "a1", p.ip, p.port[0], a1_args);
	a2 = spawn_agent(&p.t, "a2", p.ip, p.port[1], a2_args);
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	itest_check_exit(&p.t, itest_wait_child(a2, 10000), "a2.json");
	ck_assert_int_ge(itest_wait_child(a1, 10000), 0);
	json_t *r1 = itest_result(&p.t, "a1.json");
	ck_assert_int_eq(itest_num(r1, "code"), 503);
	json_decref(r1);
	assert_answered_by_a2(&p);
	pair_stop(&p);
}
END_TEST

START_TEST(agent_not_answering_within_agent_timeout_is_passed_over)
{
	struct pair p;
	const char *a1_args[] = {"--mode", "noanswer", "--calls", "1", "--timeout", "20", NULL};
	const char *a2_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--duration", "1", NULL};
	json_int_t setup;
	pid_t a1, a2;

	pair_start(&p, "agent_timeout = 1s\n");
	a1 = spawn_agent(&p.t, "a1", p.ip, p.port[0], a1_args);
	a2 = spawn_agent(&p.t, "a2", p.ip, p.port[1], a2_args);
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	itest_check_exit(&p.t, itest_wait_child(a2, 10000), "a2.json");
	/* a1 rang until sipwarden gave up on it with a CANCEL */
	ck_assert_int_ge(itest_wait_child(a1, 10000), 0);
	json_t *r1 = itest_result(&p.t, "a1.json");
	ck_assert_int_eq(itest_num(r1, "code"), 487);
	json_decref(r1);
	setup = assert_answered_by_a2(&p);
	ck_assert_int_ge(setup, 900);
	ck_assert_int_lt(setup, 3000);
	pair_stop(&p);
}
END_TEST

START_TEST(agent_where_nothing_listens_is_skipped)
{
	struct pair p;
	const char *a2_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--duration", "1", NULL};
	json_int_t setup;
	pid_t a2;

	pair_start(&p, NULL); /* nothing is started at a1's address */
	a2 = spawn_agent(&p.t, "a2", p.ip, p.port[1], a2_args);
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	itest_check_exit(&p.t, itest_wait_child(a2, 10000), "a2.json");
	setup = assert_answered_by_a2(&p);
	ck_assert_int_lt(setup, 2000);
	pair_stop(&p);
}
END_TEST

START_TEST(all_agents_failing_gives_503_with_retry_after)
{
	struct pair p;
	const char *a_args[] = {"--mode", "reject=503", "--calls", "1", "--timeout", "20", NULL};
	const char *call_args[] = {"--expect", "503", "--verbose", "--timeout", "10", NULL};
	char path[256], retry[32];
	size_t len;
	pid_t a1, a2;

	pair_start(&p, NULL);
	a1 = spawn_agent(&p.t, "a1", p.ip, p.port[0], a_args);
	a2 = spawn_agent(&p.t, "a2", p.ip, p.port[1], a_args);
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	ck_assert_int_ge(itest_wait_child(a1, 10000), 0);
	ck_assert_int_ge(itest_wait_child(a2, 10000), 0);
	json_t *caller = itest_result(&p.t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 503);
	ck_assert_msg(strncmp(itest_str(caller, "warning"), "399 ", 4) == 0, "warning: %s",
	              itest_str(caller, "warning"));
	json_decref(caller);
	/* both agents were asked */
	json_t *r1 = itest_result(&p.t, "a1.json"), *r2 = itest_result(&p.t, "a2.json");
	ck_assert_int_eq(itest_num(r1, "code"), 503);
	ck_assert_int_eq(itest_num(r2, "code"), 503);
	json_decref(r1);
	json_decref(r2);
	/* the 503 the caller saw (its --verbose log) carries a Retry-After */
	char *log = itest_read_file(itest_path(&p.t, "caller.json.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	char *st = strstr(log, "SIP/2.0 503");
	ck_assert_msg(st != NULL, "no 503 in the caller's log");
	char *ra = strcasestr(st, "\nRetry-After:");
	ck_assert_msg(ra != NULL, "503 without Retry-After: %s", st);
	ck_assert_int_eq(sscanf(ra, "\nRetry-After: %31[0-9]", retry), 1);
	ck_assert_int_gt(atoi(retry), 0);
	free(log);

	tel[0] = '\0';
	itest_telemetry_read(p.tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(strstr(tel, "\"call.answer\"") == NULL, "answered: %s", tel);
	json_t *end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "failed");
	ck_assert_str_eq(itest_str(end, "reason"), "no_agent");
	ck_assert_int_eq(itest_num(end, "sip_code"), 503);
	json_decref(end);
	pair_stop(&p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_failover");
	TCase *tc = tcase_create("failover");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, agent_answering_503_is_passed_over_for_the_next_one);
	tcase_add_test(tc, agent_not_answering_within_agent_timeout_is_passed_over);
	tcase_add_test(tc, agent_where_nothing_listens_is_skipped);
	tcase_add_test(tc, all_agents_failing_gives_503_with_retry_after);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
