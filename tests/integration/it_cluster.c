/*
 * it_cluster: two sipwarden instances on different 127.x addresses sharing one Redis
 * ([cluster]). They share a trunk limit of 2 (the third call on either gets 503 with
 * Retry-After), and the registry lists both instances' calls; a source banned on one is
 * refused by the other within a second; Redis killed and restarted mid-run: new calls get
 * 503 (on_store_failure = refuse) or are admitted on the instance's share (local, with
 * security.cluster_degraded), calls in progress complete, and the counts converge once
 * Redis is back; an instance killed with SIGKILL has its calls released after the
 * heartbeat TTL; a CANCEL while the INVITE waits for Redis ends it with 487; a reload may
 * not change [cluster]; two processes under one instance name are told. Each test starts
 * its own redis-server on a loopback port in a temp dir (no persistence) and kills it at
 * the end.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"
#include "testnet.h"
#include "tmpdir.h"

#define T_CALL_MS 30000
#define TTL       "3s"
#define TTL_MS    3000

/* ---- a private redis-server ---------------------------------------------------------- */

static pid_t redis_pid;
static char redis_dir[128];
static uint16_t redis_port;
static char redis_ip[16]; /* a 127.a.b.c of its own (testnet.h), not another test's */

static void
redis_kill(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
}

static void
redis_cleanup(void)
{
	redis_kill();
	if (redis_dir[0] != '\0') {
		tmpdir_rm_tree(redis_dir);
		redis_dir[0] = '\0';
	}
}

/* Start (or restart on the same port) redis-server; wait until it answers PING. A first
 * start whose server exits at once (its random port taken by another test running in
 * parallel) moves to another port; a slow box gets 20 s, and a failure shows redis.log. */
static void
redis_start(void)
{
	char port[16], cmd[512];
	bool first = redis_dir[0] == '\0';

	if (first) {
		ck_assert_ptr_nonnull(tmpdir_mkdtemp(redis_dir, sizeof(redis_dir), "sw-redis"));
		atexit(redis_cleanup);
		testnet_loopback(redis_ip, sizeof(redis_ip));
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		if (first)
			redis_port = itest_port();
		snprintf(port, sizeof(port), "%u", redis_port);
		redis_pid = fork();
		ck_assert_int_ge(redis_pid, 0);
		if (redis_pid == 0) {
			/* dies with the test's process, also when the runner is gone and Check
			 * no longer kills the test's process group */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			signal(SIGTERM, SIG_DFL);
			if (chdir(redis_dir) != 0)
				_exit(127);
			execlp("redis-server", "redis-server", "--port", port, "--bind", redis_ip,
			       "--save", "", "--appendonly", "no", "--logfile", "redis.log",
			       (char *)NULL);
			_exit(127);
		}
		snprintf(cmd, sizeof(cmd), "redis-cli -h %s -p %u ping >/dev/null 2>&1", redis_ip,
		         redis_port);
		for (int i = 0; i < 800; i++) {
			if (system(cmd) == 0)
				return;
			if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
				redis_pid = 0; /* it exited: the port is taken */
				break;
			}
			usleep(25000);
		}
		if (redis_pid != 0 || !first)
			break;
	}
	snprintf(cmd, sizeof(cmd), "tail -5 '%s/redis.log' >&2", redis_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "no redis.log\n");
	ck_abort_msg("redis-server did not answer on %s:%u", redis_ip, redis_port);
}

/* ---- two daemons --------------------------------------------------------------------- */

static char extra_buf[2][512];
static bool log_to_file; /* start_instance(): the daemon's log to DIR/daemon.log */

/* Daemon `name` with [cluster] on our Redis; `trunk_extra` for its trunk. */
static void
start_instance(struct itest *t, int i, const char *name, const char *failure,
               const char *trunk_extra, const char *trunk_source)
{
	struct itest_opts o = {
	        .trunk_extra = trunk_extra, .trunk_source = trunk_source, .log_file = log_to_file};

	snprintf(extra_buf[i], sizeof(extra_buf[i]),
	         "[cluster]\nredis = %s:%u\ninstance = %s\nprefix = it\n"
	         "heartbeat_ttl = " TTL "\ntimeout = 500ms\non_store_failure = %s\n",
	         redis_ip, redis_port, name, failure);
	o.extra = extra_buf[i];
	itest_start(t, &o);
}

/*
 * Stop the instance started first: the harness follows one daemon's notify socket (the
 * last one started), so this one is stopped and checked here.
 */
static void
stop_first(struct itest *t)
{
	int st = 0;
	pid_t r = 0;
	char cmd[192];

	ck_assert_int_eq(kill(t->pid, SIGTERM), 0);
	for (int i = 0; i < 1000 && (r = waitpid(t->pid, &st, WNOHANG)) == 0; i++)
		usleep(10000);
	if (r != t->pid)
		kill(t->pid, SIGKILL);
	ck_assert_msg(r == t->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "first instance did not exit cleanly");
	t->pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->dir);
}

/* Wait until the control socket of t reports `count` answered calls. */
static void
wait_answered(const struct itest *t, int count, int timeout_ms)
{
	itest_wait_calls(t, count, "\"answered\"", timeout_ms);
}

/* The "cluster" control reply of t once its view is fresh (a new reference). */
static json_t *
cluster_view(const struct itest *t)
{
	json_t *j = NULL;

	for (int i = 0; i < 50; i++) {
		char *r = itest_control(t, "{\"cmd\":\"cluster\"}", 2000);
		json_decref(j);
		j = r != NULL ? json_loads(r, 0, NULL) : NULL;
		free(r);
		if (j != NULL && json_is_integer(json_object_get(j, "age_ms")) &&
		    json_integer_value(json_object_get(j, "age_ms")) < 500)
			return j;
		usleep(100000);
	}
	ck_abort_msg("no fresh cluster view");
	return NULL;
}

static void
assert_calls(const struct itest *t, const char *name, size_t n, int code)
{
	json_t *arr = itest_results(t, name), *c;
	size_t i;

	ck_assert_msg(json_array_size(arr) == n, "%s: %zu calls, want %zu", name,
	              json_array_size(arr), n);
	json_array_foreach(arr, i, c)
	        ck_assert_int_eq(json_integer_value(json_object_get(c, "code")), code);
	json_decref(arr);
}

/* Poll t's control socket until `pred` holds for its cluster reply. */
static bool
wait_cluster(const struct itest *t, bool (*pred)(json_t *j), int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;

	while (itest_now_ms() < end) {
		char *r = itest_control(t, "{\"cmd\":\"cluster\"}", 2000);
		json_t *j = r != NULL ? json_loads(r, 0, NULL) : NULL;
		bool ok = j != NULL && pred(j);
		free(r);
		json_decref(j);
		if (ok)
			return true;
		usleep(100000);
	}
	return false;
}

static bool
store_ok(json_t *j)
{
	return json_is_true(json_object_get(j, "store_ok"));
}

static bool
store_down(json_t *j)
{
	return json_is_false(json_object_get(j, "store_ok"));
}

/* The view lists sbc-a with no call and sbc-b with one. */
static bool
counts_converged(json_t *j)
{
	json_t *inst = json_object_get(json_object_get(j, "view"), "instances"), *x;
	size_t i, ok = 0;

	json_array_foreach(inst, i, x)
	{
		const char *n = json_string_value(json_object_get(x, "instance"));
		json_int_t want = n != NULL && strcmp(n, "sbc-b") == 0 ? 1 : 0;
		if (json_integer_value(json_object_get(x, "calls")) == want)
			ok++;
	}
	return json_array_size(inst) == 2 && ok == 2;
}

/* The view lists one instance with no call counted. */
static bool
no_calls_counted(json_t *j)
{
	json_t *inst = json_object_get(json_object_get(j, "view"), "instances");

	return json_array_size(inst) == 1 &&
	       json_integer_value(json_object_get(json_array_get(inst, 0), "calls")) == 0;
}

static bool
one_instance(json_t *j)
{
	return json_integer_value(json_object_get(j, "instances_alive")) == 1;
}

START_TEST(two_instances_share_a_trunk_limit_and_list_each_others_calls)
{
	static char tel[1 << 20];
	struct itest a, b;
	const char *agent_args[] = {"--mode", "echo", "--calls", "2", "--timeout", "60", NULL};
	const char *longcall[] = {"--calls", "1", "--duration", "5", NULL};
	const char *refused[] = {"--calls", "1", "--expect", "503", "--verbose", NULL};
	const char *later[] = {"--calls", "1", "--duration", "0.5", NULL};
	char cmd[512], out[256];
	pid_t aa, ab, ca, cb;
	json_t *v, *calls;
	int tfd;

	redis_start();
	start_instance(&a, 0, "sbc-a", "refuse", "max_calls = 2\n", NULL);
	start_instance(&b, 1, "sbc-b", "refuse", "max_calls = 2\n", NULL);
	tfd = itest_telemetry_connect(&a);
	aa = itest_agent(&a, agent_args);
	ab = itest_agent(&b, agent_args);
	ca = itest_caller_spawn(&a, "long.json", longcall);
	wait_answered(&a, 1, 10000);
	cb = itest_caller_spawn(&b, "long.json", longcall);
	wait_answered(&b, 1, 10000);

	/* the trunk holds 2 calls, one on each instance: the third is refused on either */
	ck_assert_int_eq(itest_caller(&a, "third.json", refused, T_CALL_MS), 0);
	assert_calls(&a, "third.json", 1, 503);
	ck_assert_msg(itest_file_has(&a, "third.json.log", "Retry-After:"),
	              "503 without Retry-After");
	ck_assert_int_eq(itest_caller(&b, "third.json", refused, T_CALL_MS), 0);
	assert_calls(&b, "third.json", 1, 503);

	/* the registry lists both instances' calls, whichever instance is asked */
	v = cluster_view(&b);
	calls = json_object_get(json_object_get(v, "view"), "calls");
	ck_assert_uint_eq(json_array_size(calls), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(v, "view"), "instances")),
	                  2);
	json_decref(v);
	snprintf(cmd, sizeof(cmd), "%s -c %s --cluster calls > %s/ctl.out 2>&1",
	         getenv("SW_SIPWARDENCTL"), a.ctl_path, a.dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(out, sizeof(out), "%s/ctl.out", a.dir);
	ck_assert_msg(itest_file_has(&a, "ctl.out", "sbc-a") &&
	                      itest_file_has(&a, "ctl.out", "sbc-b") &&
	                      itest_file_has(&a, "ctl.out", "2 call(s) on 2 instance(s)"),
	              "sipwardenctl --cluster calls: %s", itest_read_file(out, NULL));

	snprintf(cmd, sizeof(cmd), "%s -c %s --cluster stats > %s/ctl.out 2>&1",
	         getenv("SW_SIPWARDENCTL"), b.ctl_path, a.dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(itest_file_has(&a, "ctl.out", "sbc-a") &&
	                      itest_file_has(&a, "ctl.out", "itest=1") &&
	                      itest_file_has(&a, "ctl.out", "store_ok=true"),
	              "sipwardenctl --cluster stats: %s", itest_read_file(out, NULL));

	/* the calls in progress were not disturbed; once they ended, a call goes through */
	ck_assert_int_eq(itest_wait_child(ca, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(cb, T_CALL_MS), 0);
	assert_calls(&a, "long.json", 1, 200);
	assert_calls(&b, "long.json", 1, 200);
	itest_wait_no_calls(&a, 5000);
	itest_wait_no_calls(&b, 5000);
	ck_assert_int_eq(itest_caller(&b, "later.json", later, T_CALL_MS), 0);
	assert_calls(&b, "later.json", 1, 200);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "security.limit_reached", 5000);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "trunk_max_calls") == 1,
	              "telemetry: %.3000s", tel);
	ck_assert_msg(strstr(tel, "\"instance\":\"sbc-a\"") != NULL, "no instance in: %.3000s",
	              tel);
	close(tfd);
	itest_kill_child(aa);
	itest_kill_child(ab);
	stop_first(&a);
	itest_stop(&b);
	redis_cleanup();
}
END_TEST

#define TRUNK    "127.0.0.1"
#define STRANGER "127.0.0.79"

START_TEST(a_source_banned_on_one_instance_is_refused_by_the_other)
{
	struct itest a, b;
	struct itest_conn *s;
	char req[1024], resp[4096];
	int64_t t0;
	bool refused = false;

	redis_start();
	start_instance(&a, 0, "sbc-a", "local", NULL, TRUNK "/32");
	start_instance(&b, 1, "sbc-b", "local", NULL, TRUNK "/32");
	ck_assert(wait_cluster(&a, store_ok, 5000));
	ck_assert(wait_cluster(&b, store_ok, 5000));

	/* before: b serves the stranger (a TLS handshake completes) */
	s = itest_tls_connect_from(&b, STRANGER, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	itest_conn_free(s);

	/* an OPTIONS sweep on a: one 403 and a ban */
	s = itest_tls_connect_from(&a, STRANGER, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(itest_send_str(s, itest_options(req, sizeof(req), "sweep1", 1)), 0);
	ck_assert_int_gt(itest_recv_msg(s, resp, sizeof(resp), 3000), 0);
	ck_assert_int_eq(itest_status(resp), 403);
	itest_conn_free(s);
	t0 = itest_now_ms();

	/* b refuses it at accept within a second */
	while (!refused && itest_now_ms() - t0 < 1000) {
		s = itest_tls_connect_from(&b, STRANGER, 0, 0, NULL);
		refused = s == NULL;
		itest_conn_free(s);
		if (!refused)
			usleep(50000);
	}
	ck_assert_msg(refused, "b still serves a source a banned");
	ck_assert_int_ge(itest_stat(&b, "admission", "bans_remote"), 1);
	/* the trunk is untouched on both */
	s = itest_tls_connect_from(&b, TRUNK, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	itest_conn_free(s);
	stop_first(&a);
	itest_stop(&b);
	redis_cleanup();
}
END_TEST

START_TEST(redis_down_refuse_gives_503_local_admits_and_both_converge_when_it_returns)
{
	static char tel[1 << 20];
	struct itest a, b;
	const char *agent_args[] = {"--mode", "echo", "--calls", "4", "--timeout", "60", NULL};
	const char *longcall[] = {"--calls", "1", "--duration", "4", NULL};
	const char *refused[] = {"--calls", "1", "--expect", "503", NULL};
	const char *shortcall[] = {"--calls", "1", "--duration", "0.5", NULL};
	pid_t ab, aa, cb;
	int tfd;

	redis_start();
	start_instance(&a, 0, "sbc-a", "refuse", "max_calls = 4\n", NULL);
	start_instance(&b, 1, "sbc-b", "local", "max_calls = 4\n", NULL);
	tfd = itest_telemetry_connect(&b);
	aa = itest_agent(&a, agent_args);
	ab = itest_agent(&b, agent_args);
	ck_assert(wait_cluster(&a, store_ok, 5000));
	ck_assert(wait_cluster(&b, store_ok, 5000));

	/* a call in progress on b when Redis goes */
	cb = itest_caller_spawn(&b, "long.json", longcall);
	wait_answered(&b, 1, 10000);
	redis_kill();
	ck_assert(wait_cluster(&a, store_down, 5000));
	ck_assert(wait_cluster(&b, store_down, 5000));

	/* refuse: 503; local: admitted on b's share (4 / 2 instances = 2, it holds 1) */
	ck_assert_int_eq(itest_caller(&a, "down.json", refused, T_CALL_MS), 0);
	assert_calls(&a, "down.json", 1, 503);
	{
		char log[256];
		int rc = itest_caller(&b, "down.json", shortcall, T_CALL_MS);
		itest_path(&b, "down.json.log", log, sizeof(log));
		ck_assert_msg(rc == 0, "local share: %s", itest_read_file(log, NULL));
	}
	assert_calls(&b, "down.json", 1, 200);

	/* the call in progress was never touched */
	ck_assert_int_eq(itest_wait_child(cb, T_CALL_MS), 0);
	assert_calls(&b, "long.json", 1, 200);

	/* Redis back (empty): both reconnect, republish, and take calls again */
	redis_start();
	ck_assert(wait_cluster(&a, store_ok, 15000));
	ck_assert(wait_cluster(&b, store_ok, 15000));
	cb = itest_caller_spawn(&b, "after.json", longcall);
	wait_answered(&b, 1, 10000);
	ck_assert_int_eq(itest_caller(&a, "after.json", shortcall, T_CALL_MS), 0);
	assert_calls(&a, "after.json", 1, 200);

	/* the counts converge: b's one call in progress, a's none */
	ck_assert_msg(wait_cluster(&a, counts_converged, 5000), "counts did not converge");
	ck_assert_int_eq(itest_wait_child(cb, T_CALL_MS), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 1000);
	/* once for the outage (a slow answer on a loaded box may add a store_timeout) */
	ck_assert_msg(itest_count_events(tel, "security.cluster_degraded", "store_unreachable") ==
	                      1,
	              "telemetry: %.3000s", tel);
	ck_assert_msg(strstr(tel, "\"instance\":\"sbc-b\"") != NULL, "no instance: %.3000s", tel);
	close(tfd);
	itest_kill_child(aa);
	itest_kill_child(ab);
	stop_first(&a);
	itest_stop(&b);
	redis_cleanup();
}
END_TEST

START_TEST(an_instance_killed_with_sigkill_has_its_calls_released_after_the_heartbeat_ttl)
{
	struct itest a, b;
	const char *agent_args[] = {"--mode", "echo", "--calls", "2", "--timeout", "60", NULL};
	const char *longcall[] = {"--calls", "1", "--duration", "30", NULL};
	const char *refused[] = {"--calls", "1", "--expect", "503", NULL};
	const char *shortcall[] = {"--calls", "1", "--duration", "0.5", NULL};
	pid_t aa, ab, ca;
	int64_t t_kill;
	char cmd[192];

	redis_start();
	start_instance(&a, 0, "sbc-a", "refuse", "max_calls = 1\n", NULL);
	start_instance(&b, 1, "sbc-b", "refuse", "max_calls = 1\n", NULL);
	aa = itest_agent(&a, agent_args);
	ab = itest_agent(&b, agent_args);
	ck_assert(wait_cluster(&b, store_ok, 5000));
	ca = itest_caller_spawn(&a, "long.json", longcall);
	wait_answered(&a, 1, 10000);
	ck_assert_int_eq(itest_caller(&b, "full.json", refused, T_CALL_MS), 0);
	assert_calls(&b, "full.json", 1, 503);

	/* a dies without a word: its call stays counted until its heartbeat expires */
	ck_assert_int_eq(kill(a.pid, SIGKILL), 0);
	waitpid(a.pid, NULL, 0);
	t_kill = itest_now_ms();
	a.pid = 0;
	itest_kill_child(ca);
	itest_kill_child(aa);
	ck_assert(wait_cluster(&b, one_instance, 3 * TTL_MS));
	ck_assert_msg(itest_now_ms() - t_kill >= TTL_MS / 3,
	              "released %lld ms after the kill, before the heartbeat could expire",
	              (long long)(itest_now_ms() - t_kill));
	ck_assert_int_eq(itest_caller(&b, "after.json", shortcall, T_CALL_MS), 0);
	assert_calls(&b, "after.json", 1, 200);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", a.dir);
	itest_kill_child(ab);
	itest_stop(&b);
	redis_cleanup();
}
END_TEST

/* An INVITE from the trunk (127.0.0.1) with an SRTP offer, and its CANCEL. */
static void
send_invite_or_cancel(const struct itest *t, struct itest_conn *c, const char *method)
{
	static const char sdp[] = "v=0\r\n"
	                          "o=itest 1 1 IN IP4 127.0.0.1\r\n"
	                          "s=-\r\n"
	                          "c=IN IP4 127.0.0.1\r\n"
	                          "t=0 0\r\n"
	                          "m=audio 40000 RTP/SAVP 0\r\n"
	                          "a=rtpmap:0 PCMU/8000\r\n"
	                          "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                          "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\r\n"
	                          "a=sendrecv\r\n";
	bool inv = strcmp(method, "INVITE") == 0;
	char req[4096];

	snprintf(req, sizeof(req),
	         "%s sip:agent@%s:%u SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKheld1\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:caller@127.0.0.1>;tag=held1\r\n"
	         "To: <sip:agent@%s>\r\n"
	         "Call-ID: held-call-1\r\n"
	         "CSeq: 1 %s\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "%s"
	         "Content-Length: %zu\r\n\r\n%s",
	         method, t->ip, t->port, t->ip, method,
	         inv ? "Content-Type: application/sdp\r\n" : "", inv ? strlen(sdp) : 0,
	         inv ? sdp : "");
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

START_TEST(a_cancel_while_the_invite_waits_for_redis_ends_it_with_487)
{
	struct itest a;
	struct itest_conn *c;
	char msg[8192];
	int st, got200 = 0, got487 = 0;

	redis_start();
	start_instance(&a, 0, "sbc-a", "local", NULL, "127.0.0.1/32");
	ck_assert(wait_cluster(&a, store_ok, 5000));
	c = itest_tls_connect_from(&a, "127.0.0.1", 0, 0, NULL);
	ck_assert_ptr_nonnull(c);

	/* Redis stops answering: the INVITE is held for [cluster] timeout (500 ms) */
	ck_assert_int_eq(kill(redis_pid, SIGSTOP), 0);
	send_invite_or_cancel(&a, c, "INVITE");
	usleep(100000);
	send_invite_or_cancel(&a, c, "CANCEL");
	for (int i = 0; i < 2 && itest_recv_msg(c, msg, sizeof(msg), 3000) > 0; i++) {
		char cseq[64] = "";
		st = itest_status(msg);
		itest_header(msg, "CSeq", cseq, sizeof(cseq));
		if (st == 200 && strstr(cseq, "CANCEL") != NULL)
			got200++;
		else if (st == 487 && strstr(cseq, "INVITE") != NULL)
			got487++;
		else
			ck_abort_msg("unexpected answer: %.300s", msg);
	}
	ck_assert_int_eq(got200, 1);
	ck_assert_int_eq(got487, 1);
	itest_assert_no_calls(&a);

	/* Redis answers again: the late grant is given back, the count is 0 */
	ck_assert_int_eq(kill(redis_pid, SIGCONT), 0);
	ck_assert(wait_cluster(&a, store_ok, 5000));
	ck_assert_msg(wait_cluster(&a, no_calls_counted, 5000), "a held call is still counted");
	itest_conn_free(c);
	itest_stop(&a);
	redis_cleanup();
}
END_TEST

/* [cluster] cannot change on reload: the reload is refused and the instance keeps its
 * name and store. */
START_TEST(a_reload_that_changes_the_cluster_section_is_refused)
{
	struct itest a;
	struct itest_opts o = {0};
	char extra[512], *r;

	redis_start();
	log_to_file = true;
	start_instance(&a, 0, "sbc-a", "local", NULL, NULL);
	log_to_file = false;
	ck_assert(wait_cluster(&a, store_ok, 5000));
	snprintf(extra, sizeof(extra), "[cluster]\nredis = %s:%u\ninstance = sbc-z\nprefix = it\n",
	         redis_ip, redis_port);
	o.extra = extra;
	o.log_file = true;
	itest_write_conf(&a, &o);
	ck_assert_int_eq(kill(a.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&a, "READY=1", 5000));
	r = itest_control(&a, "{\"cmd\":\"cluster\"}", 2000);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strstr(r, "\"instance\":\"sbc-a\"") != NULL, "after reload: %.500s", r);
	free(r);
	ck_assert_msg(itest_file_has(&a, "daemon.log",
	                             "reload refused, keeping current config: [cluster] instance"),
	              "reload not refused");
	itest_stop(&a);
	redis_cleanup();
}
END_TEST

/* Two processes under one instance name would count each other's calls as their own:
 * each is told in its log (and counted) once the heartbeat shows it twice in a row. */
START_TEST(two_processes_with_one_instance_name_are_told)
{
	struct itest a, b;
	int64_t end;
	bool told = false;

	redis_start();
	log_to_file = true;
	start_instance(&a, 0, "twin", "local", NULL, NULL);
	log_to_file = false;
	ck_assert(wait_cluster(&a, store_ok, 5000));
	ck_assert(!itest_file_has(&a, "daemon.log", "another process heartbeats"));
	start_instance(&b, 1, "twin", "local", NULL, NULL);
	end = itest_now_ms() + 4 * TTL_MS;
	while (!told && itest_now_ms() < end) {
		told = itest_file_has(&a, "daemon.log",
		                      "another process heartbeats as instance twin");
		if (!told)
			usleep(100000);
	}
	ck_assert_msg(told, "no warning about the twin");
	stop_first(&a);
	itest_stop(&b);
	redis_cleanup();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("cluster");
	int only;

	if (system("command -v redis-server >/dev/null && command -v redis-cli >/dev/null") != 0) {
		fprintf(stderr, "SKIP: redis-server not installed (tools/deps)\n");
		return 77;
	}
	tcase_set_timeout(tc, 150);
	/* IT_CLUSTER_ONLY=N runs test N alone (1..7), for debugging */
	only = getenv("IT_CLUSTER_ONLY") != NULL ? atoi(getenv("IT_CLUSTER_ONLY")) : 0;
	if (only == 0 || only == 1)
		tcase_add_test(tc, two_instances_share_a_trunk_limit_and_list_each_others_calls);
	if (only == 0 || only == 2)
		tcase_add_test(tc, a_source_banned_on_one_instance_is_refused_by_the_other);
	if (only == 0 || only == 3)
		tcase_add_test(
		        tc,
		        redis_down_refuse_gives_503_local_admits_and_both_converge_when_it_returns);
	if (only == 0 || only == 4)
		tcase_add_test(
		        tc,
		        an_instance_killed_with_sigkill_has_its_calls_released_after_the_heartbeat_ttl);
	if (only == 0 || only == 5)
		tcase_add_test(tc, a_cancel_while_the_invite_waits_for_redis_ends_it_with_487);
	if (only == 0 || only == 6)
		tcase_add_test(tc, a_reload_that_changes_the_cluster_section_is_refused);
	if (only == 0 || only == 7)
		tcase_add_test(tc, two_processes_with_one_instance_name_are_told);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
