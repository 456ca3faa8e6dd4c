/*
 * it_hostile_tls: an agent is who its certificate says, not just anyone the CA signed.
 * [tls] ca_file also signs trunks' client certificates, so a certificate that merely
 * chains to it must not receive an agent leg's SDES keys: the agent's certificate must
 * name `server_name`, or when that is unset the IP of the agent's `address`. A peer
 * presenting a CA-signed certificate for another host (tools/mkcerts stranger.crt,
 * stranger.test / 127.0.0.2) at an agent's address fails the handshake, is passed over
 * for the next agent, and leaves a security event; the genuine agent takes the call.
 * Trunks called out to are held to the IP of their target the same way.
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

#define T_CALL_MS 20000

static char tel[1 << 20];

/* Wait until 127.0.0.1:port accepts TCP connections (bounded). */
static void
wait_listening(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return;
		usleep(10000);
	}
	ck_abort_msg("agent at 127.0.0.1:%u does not listen", port);
}

/* `swpeer answer` at 127.0.0.1:port with DIR/<cert>.crt; JSON to DIR/<name>.json. */
static pid_t
spawn_agent(const struct itest *t, const char *name, uint16_t port, const char *cert)
{
	const char *peer = getenv("SW_PEER");
	char listen[64], crt[256], key[256], out[256], err[256], file[64];
	const char *argv[] = {peer, "answer", "--listen", listen, "--cert",    crt,  "--key",
	                      key,  "--json", "--calls",  "1",    "--timeout", "15", NULL};
	pid_t pid;

	ck_assert_msg(peer != NULL, "SW_PEER not set");
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(file, sizeof(file), "%s.crt", cert);
	itest_path(t, file, crt, sizeof(crt));
	snprintf(file, sizeof(file), "%s.key", cert);
	itest_path(t, file, key, sizeof(key));
	snprintf(file, sizeof(file), "%s.json", name);
	itest_path(t, file, out, sizeof(out));
	snprintf(file, sizeof(file), "%s.log", name);
	itest_path(t, file, err, sizeof(err));
	pid = itest_spawn(argv, out, err);
	wait_listening(port);
	return pid;
}

/* Two agents on 127.0.0.1, a1 tried first (least busy, ties in configuration order);
 * `a1_extra` / `a2_extra` are more lines for their sections (server_name). */
struct pair {
	struct itest t;
	uint16_t port[2];
	char conf[512];
	int tfd;
};

static void
pair_start(struct pair *p, const char *a1_extra, const char *a2_extra)
{
	struct itest_opts o = {.extra = "[pool]\nprobe_interval = 0\n"};

	p->port[0] = itest_port();
	do
		p->port[1] = itest_port();
	while (p->port[1] == p->port[0]);
	snprintf(p->conf, sizeof(p->conf),
	         "[agent a1]\naddress = 127.0.0.1:%u\nverify = yes\n%s\n"
	         "[agent a2]\naddress = 127.0.0.1:%u\nverify = yes\n%s",
	         p->port[0], a1_extra, p->port[1], a2_extra);
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

/* The agent `name` was never given a call (no INVITE reached it). */
static void
assert_no_call_reached(struct pair *p, const char *name, pid_t pid)
{
	char file[64];
	json_t *r;

	itest_kill_child(pid);
	snprintf(file, sizeof(file), "%s.json", name);
	r = itest_results(&p->t, file);
	ck_assert_msg(json_array_size(r) == 0, "%s was given a call", name);
	json_decref(r);
}

/* A refused handshake toward an agent is a security event naming the agent's address. */
static void
assert_refused_handshakes(const char *lines, int n)
{
	json_t *ev = itest_event(lines, "security.tls_handshake_failed");

	ck_assert_msg(ev != NULL, "no security.tls_handshake_failed: %s", lines);
	ck_assert_ptr_nonnull(strstr(itest_str(ev, "source"), "127.0.0.1"));
	ck_assert_str_eq(itest_str(ev, "detail"), "outbound connection");
	json_decref(ev);
	ck_assert_int_eq(itest_count_events(lines, "security.tls_handshake_failed", NULL), n);
}

START_TEST(agent_certificate_for_another_ip_is_refused_and_passed_over)
{
	struct pair p;
	const char *call_args[] = {"--duration", "1", NULL};
	json_t *caller, *ans;
	pid_t a1, a2;

	/* no server_name: each certificate must carry its agent's IP, 127.0.0.1 */
	pair_start(&p, "", "");
	a1 = spawn_agent(&p.t, "a1", p.port[0], "stranger");
	a2 = spawn_agent(&p.t, "a2", p.port[1], "agent");
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	itest_check_exit(&p.t, itest_wait_child(a2, 10000), "a2.json");
	caller = itest_result(&p.t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	json_decref(caller);
	assert_no_call_reached(&p, "a1", a1);

	tel[0] = '\0';
	itest_telemetry_read(p.tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ans = itest_event(tel, "call.answer");
	ck_assert_msg(ans != NULL, "no call.answer: %s", tel);
	ck_assert_str_eq(itest_str(ans, "agent"), "a2");
	json_decref(ans);
	assert_refused_handshakes(tel, 1);
	pair_stop(&p);
}
END_TEST

START_TEST(no_agent_with_a_matching_certificate_means_503)
{
	struct pair p;
	const char *call_args[] = {"--expect", "503", "--timeout", "15", NULL};
	json_t *caller;
	pid_t a1, a2;

	/* a1 by its IP, a2 by name: neither is in stranger.crt (stranger.test, 127.0.0.2),
	 * although the CA that signed it is [tls] ca_file */
	pair_start(&p, "", "server_name = agent.test\n");
	a1 = spawn_agent(&p.t, "a1", p.port[0], "stranger");
	a2 = spawn_agent(&p.t, "a2", p.port[1], "stranger");
	itest_check_exit(&p.t, itest_caller(&p.t, "caller.json", call_args, T_CALL_MS),
	                 "caller.json");
	caller = itest_result(&p.t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 503);
	json_decref(caller);
	assert_no_call_reached(&p, "a1", a1);
	assert_no_call_reached(&p, "a2", a2);

	tel[0] = '\0';
	itest_telemetry_read(p.tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_int_eq(itest_count_events(tel, "call.answer", NULL), 0);
	assert_refused_handshakes(tel, 2);
	pair_stop(&p);
}
END_TEST

/* The same rule toward a trunk called out to: its certificate must carry the target's IP.
 * An agent (pinned client certificate) calls out; the carrier at the trunk's target,
 * 127.0.0.1, presents stranger.crt (127.0.0.2): no INVITE reaches it. */
START_TEST(trunk_target_certificate_for_another_ip_is_refused)
{
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64], listen[64], cert[256], key[256], out[256], err[256];
	uint16_t tport = itest_port();
	json_t *caller;
	pid_t cp;
	int tfd, rc;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", tport);
	const char *carrier[] = {
	        getenv("SW_PEER"), "answer",
	        "--listen",        listen,
	        "--cert",          itest_path(&t, "stranger.crt", cert, sizeof(cert)),
	        "--key",           itest_path(&t, "stranger.key", key, sizeof(key)),
	        "--calls",         "1",
	        "--timeout",       "30",
	        "--json",          NULL};
	cp = itest_spawn(carrier, itest_path(&t, "carrier.json", out, sizeof(out)),
	                 itest_path(&t, "carrier.log", err, sizeof(err)));
	wait_listening(tport);

	/* the agent: swpeer presenting agent.crt (pinned), dialling out */
	const char *const agent[] = {"--duration", "1", "--timeout", "20", NULL};
	rc = itest_wait_child(itest_agent_call_spawn(&t, "caller.json", "+15550001", agent),
	                      T_CALL_MS + 5000);
	ck_assert_int_eq(rc, 1);
	caller = itest_result(&t, "caller.json");
	ck_assert_int_ge(itest_num(caller, "code"), 500);
	json_decref(caller);
	itest_kill_child(cp);
	json_t *r = itest_results(&t, "carrier.json");
	ck_assert_msg(json_array_size(r) == 0, "the carrier was given a call");
	json_decref(r);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	assert_refused_handshakes(tel, 1);
	close(tfd);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_hostile_tls");
	TCase *tc = tcase_create("agents");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, agent_certificate_for_another_ip_is_refused_and_passed_over);
	tcase_add_test(tc, no_agent_with_a_matching_certificate_means_503);
	tcase_add_test(tc, trunk_target_certificate_for_another_ip_is_refused);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
