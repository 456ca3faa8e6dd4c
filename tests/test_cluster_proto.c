/*
 * test_cluster_proto: the Redis side of [cluster] (lib/cluster_proto.c). Reply readers and
 * ban messages are checked against hand-built replies, hostile shapes included; the Lua
 * scripts run against a private redis-server (started here on a loopback port in a temp
 * dir, no persistence, killed at the end; the test is skipped without redis-server).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster_proto.h"
#include "testnet.h"
#include "tmpdir.h"

/* ---- replies built by hand --------------------------------------------------------- */

static redisReply *
r_int(long long v)
{
	redisReply *r = calloc(1, sizeof(*r));
	r->type = REDIS_REPLY_INTEGER;
	r->integer = v;
	return r;
}

static redisReply *
r_str(const char *s)
{
	redisReply *r = calloc(1, sizeof(*r));
	r->type = REDIS_REPLY_STRING;
	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

static redisReply *
r_arr(size_t n, ...)
{
	redisReply *r = calloc(1, sizeof(*r));
	va_list ap;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

START_TEST(admit_reply_reads_grant_and_refusals_and_rejects_other_shapes)
{
	struct cluster_admit_result res;
	redisReply *r;

	r = r_arr(4, r_int(1), r_str("ok"), r_int(3), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), 0);
	ck_assert(res.granted);
	ck_assert_int_eq(res.all, 3);
	ck_assert_int_eq(res.trunk, 2);
	freeReplyObject(r);

	r = r_arr(4, r_int(0), r_str("trunk_max_calls"), r_int(3), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), 0);
	ck_assert(!res.granted);
	ck_assert_str_eq(res.reason, "trunk_max_calls");
	freeReplyObject(r);

	/* a reason the script never gives, a grant with a refusal's word, short arrays,
	 * negative counts, an error reply, no reply at all */
	r = r_arr(4, r_int(0), r_str("because"), r_int(3), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	r = r_arr(4, r_int(1), r_str("max_calls"), r_int(3), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	r = r_arr(3, r_int(1), r_str("ok"), r_int(3));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	r = r_arr(4, r_int(1), r_str("ok"), r_int(-1), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	r = r_arr(4, r_int(1), r_int(7), r_int(1), r_int(2));
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	r = r_str("NOSCRIPT");
	r->type = REDIS_REPLY_ERROR;
	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), -EPROTO);
	freeReplyObject(r);
	ck_assert_int_eq(cluster_proto_admit_reply(NULL, &res), -EINVAL);
}
END_TEST

START_TEST(share_divides_a_limit_among_the_instances_rounding_up)
{
	ck_assert_uint_eq(cluster_proto_share(10, 3), 4);
	ck_assert_uint_eq(cluster_proto_share(10, 2), 5);
	ck_assert_uint_eq(cluster_proto_share(1, 5), 1);
	ck_assert_uint_eq(cluster_proto_share(7, 0), 7);
	ck_assert_uint_eq(cluster_proto_share(0, 3), 0);
}
END_TEST

START_TEST(ban_messages_are_parsed_strictly)
{
	struct cluster_ban b;
	struct sockaddr_storage ss;
	char buf[200];

	snprintf(buf, sizeof(buf), "sbc-a 60000 request_rate 192.0.2.7");
	ck_assert_int_eq(cluster_proto_ban_parse(buf, &b), 0);
	ck_assert_str_eq(b.instance, "sbc-a");
	ck_assert_uint_eq(b.ms, 60000);
	ck_assert_str_eq(b.reason, "request_rate");
	ck_assert_str_eq(b.source, "192.0.2.7");
	snprintf(buf, sizeof(buf), "b 1000 scanner 2001:db8:1:2::/64");
	ck_assert_int_eq(cluster_proto_ban_parse(buf, &b), 0);
	ck_assert_int_eq(cluster_proto_ban_addr(b.source, &ss), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);

	static const char *const bad[] = {
	        "",
	        "a 1000 scanner",                           /* no source */
	        "a 1000 scanner 192.0.2.7 extra",           /* too many parts */
	        "a  1000 scanner 192.0.2.7",                /* empty part */
	        "a 0 scanner 192.0.2.7",                    /* no duration */
	        "a 604800001 scanner 192.0.2.7",            /* past a week */
	        "a -5 scanner 192.0.2.7",                   /* negative */
	        "a 99999999999999999999 scanner 192.0.2.7", /* overflow */
	        "a 1000 Scanner 192.0.2.7",                 /* not snake_case */
	        "a 1000 scanner\r\nX 192.0.2.7",            /* control bytes */
	        "a 1000 scanner example.com",               /* not an address */
	        "a 1000 scanner 192.0.2.7/64",              /* /64 of IPv4 */
	        "a:b 1000 scanner 192.0.2.7",               /* instance name */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		ck_assert_msg(cluster_proto_ban_parse(buf, &b) == -EINVAL, "accepted '%s'", bad[i]);
	}
	snprintf(buf, sizeof(buf), "192.0.2.9 sweep");
	ck_assert_int_eq(cluster_proto_ban_member_parse(buf, 500, &b), 0);
	ck_assert_ptr_null(b.instance);
	ck_assert_str_eq(b.source, "192.0.2.9");
	snprintf(buf, sizeof(buf), "192.0.2.9");
	ck_assert_int_eq(cluster_proto_ban_member_parse(buf, 500, &b), -EINVAL);
}
END_TEST

START_TEST(view_reply_is_read_and_bad_entries_skipped)
{
	redisReply *r =
	        r_arr(1, r_arr(3, r_str("a"),
	                       r_arr(4, r_str("all"), r_str("2"), r_str("t:pbx"), r_str("2")),
	                       r_arr(3, r_str("{\"id\":\"x1\",\"instance\":\"a\"}"),
	                             r_str("not json"), r_str("[1]"))));
	json_t *v = cluster_proto_view(r), *inst;

	ck_assert_ptr_nonnull(v);
	inst = json_array_get(json_object_get(v, "instances"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(inst, "instance")), "a");
	ck_assert_int_eq(json_integer_value(json_object_get(inst, "calls")), 2);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(inst, "trunks"), "pbx")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(v, "calls")), 1);
	json_decref(v);
	freeReplyObject(r);
	r = r_arr(1, r_arr(2, r_str("a"), r_int(1)));
	ck_assert_ptr_null(cluster_proto_view(r));
	freeReplyObject(r);
}
END_TEST

/* ---- the scripts against a real redis-server ----------------------------------------- */

static pid_t redis_pid;
static char redis_dir[64];
static int redis_port;
static char redis_ip[16]; /* a 127.a.b.c of its own (testnet.h) */

static void
redis_stop(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	if (redis_dir[0] != '\0') {
		tmpdir_rm_tree(redis_dir);
		redis_dir[0] = '\0';
	}
}

/* A redis-server of our own on a loopback address of its own, or NULL (skip). */
static redisContext *
redis_start(void)
{
	char port[16];
	redisContext *c = NULL;

	if (access("/usr/bin/redis-server", X_OK) != 0)
		return NULL;
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(redis_dir, sizeof(redis_dir), "sw-redis"));
	testnet_loopback(redis_ip, sizeof(redis_ip));
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	redis_port = 20000 + rand() % 20000;
	snprintf(port, sizeof(port), "%d", redis_port);
	atexit(redis_stop); /* also when an assertion ends the test's process */
	redis_pid = fork();
	ck_assert_int_ge(redis_pid, 0);
	if (redis_pid == 0) {
		/* dies with the test's process: a failed assertion _exit()s it, no atexit() */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGTERM, SIG_DFL);
		if (chdir(redis_dir) != 0)
			_exit(127);
		execl("/usr/bin/redis-server", "redis-server", "--port", port, "--bind", redis_ip,
		      "--save", "", "--appendonly", "no", "--logfile", "redis.log", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && c == NULL; i++) {
		struct timeval tv = {1, 0};
		usleep(20000);
		c = redisConnectWithTimeout(redis_ip, redis_port, tv);
		if (c != NULL && c->err) {
			redisFree(c);
			c = NULL;
		}
	}
	ck_assert_msg(c != NULL, "redis-server did not start on %s:%d", redis_ip, redis_port);
	return c;
}

static redisReply *
run(redisContext *c, enum cluster_script s, int argc, const char **argv)
{
	const char *av[64];
	redisReply *r;

	ck_assert_int_lt(argc + 3, 64);
	av[0] = "EVAL";
	av[1] = cluster_proto_script(s);
	av[2] = "0";
	for (int i = 0; i < argc; i++)
		av[3 + i] = argv[i];
	r = redisCommandArgv(c, argc + 3, av, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "script %d: %s", s, r->str);
	return r;
}

/* A heartbeat of `inst` (process `nonce`) with its counts and one registry entry; returns
 * whether it reported a clash (another process heartbeating under the same name). */
static bool
heartbeat_n(redisContext *c, const char *inst, const char *nonce, const char *ttl, const char *all,
            const char *trunk)
{
	const char *av[] = {
	        "p", inst, ttl, nonce, "2", "all", all, "t:pbx", trunk, "c1", "{\"id\":\"c1\"}"};
	redisReply *r = run(c, CLUSTER_SCRIPT_HEARTBEAT, 11, av);
	struct cluster_heartbeat hb;

	ck_assert_int_eq(cluster_proto_heartbeat_reply(r, &hb), 0);
	ck_assert_int_ge(hb.live, 1);
	freeReplyObject(r);
	return hb.clash;
}

static void
heartbeat(redisContext *c, const char *inst, const char *ttl, const char *all, const char *trunk)
{
	heartbeat_n(c, inst, inst, ttl, all, trunk);
}

static bool
admit(redisContext *c, const char *inst, const char *gmax, const char *tmax, const char **why)
{
	const char *av[] = {"p", inst, "pbx", gmax, tmax};
	redisReply *r = run(c, CLUSTER_SCRIPT_ADMIT, 5, av);
	struct cluster_admit_result res;

	ck_assert_int_eq(cluster_proto_admit_reply(r, &res), 0);
	freeReplyObject(r);
	*why = res.reason;
	return res.granted;
}

START_TEST(scripts_share_a_trunk_limit_and_release_a_silent_instance)
{
	redisContext *c = redis_start();
	const char *why = NULL;
	redisReply *r;
	json_t *v;

	if (c == NULL) {
		fprintf(stderr, "SKIP: no redis-server\n");
		return;
	}
	heartbeat(c, "a", "60000", "0", "0");
	heartbeat(c, "b", "300", "0", "0");
	/* trunk limit 3 across a and b */
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(admit(c, "b", "100", "3", &why));
	ck_assert(admit(c, "b", "100", "3", &why));
	ck_assert(!admit(c, "a", "100", "3", &why));
	ck_assert_str_eq(why, "trunk_max_calls");
	ck_assert(!admit(c, "b", "2", "0", &why));
	ck_assert_str_eq(why, "max_calls");

	/* a releases its call: one place free */
	{
		const char *av[] = {"p", "a", "pbx"};
		freeReplyObject(run(c, CLUSTER_SCRIPT_RELEASE, 3, av));
		freeReplyObject(run(c, CLUSTER_SCRIPT_RELEASE, 3, av)); /* never below 0 */
	}
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(!admit(c, "a", "100", "3", &why));

	/* the view lists both instances and their registry */
	{
		const char *av[] = {"p"};
		r = run(c, CLUSTER_SCRIPT_VIEW, 1, av);
		v = cluster_proto_view(r);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(json_array_size(json_object_get(v, "instances")), 2);
		ck_assert_uint_eq(json_array_size(json_object_get(v, "calls")), 2);
		json_decref(v);
		freeReplyObject(r);
	}

	/* b stops heartbeating (TTL 300 ms): its two calls stop counting */
	usleep(450000);
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(!admit(c, "a", "100", "3", &why));

	/* a heartbeat republishes the truth: a has 1 call after all */
	heartbeat(c, "a", "60000", "1", "1");
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(admit(c, "a", "100", "3", &why));
	ck_assert(!admit(c, "a", "100", "3", &why));
	redisFree(c);
	redis_stop();
}
END_TEST

START_TEST(heartbeat_reports_two_processes_under_one_instance_name)
{
	redisContext *c = redis_start();

	if (c == NULL) {
		fprintf(stderr, "SKIP: no redis-server\n");
		return;
	}
	ck_assert(!heartbeat_n(c, "a", "n1", "60000", "0", "0")); /* first */
	ck_assert(!heartbeat_n(c, "a", "n1", "60000", "0", "0")); /* itself again */
	ck_assert(heartbeat_n(c, "a", "n2", "60000", "0", "0"));  /* someone else */
	ck_assert(heartbeat_n(c, "a", "n1", "60000", "0", "0"));
	redisFree(c);
	redis_stop();
}
END_TEST

START_TEST(heartbeat_reply_is_read_strictly)
{
	struct cluster_heartbeat hb;
	redisReply *r = r_arr(2, r_int(3), r_int(1));

	ck_assert_int_eq(cluster_proto_heartbeat_reply(r, &hb), 0);
	ck_assert_uint_eq(hb.live, 3);
	ck_assert(hb.clash);
	freeReplyObject(r);
	r = r_arr(2, r_int(0), r_int(0)); /* we are alive at least */
	ck_assert_int_eq(cluster_proto_heartbeat_reply(r, &hb), -EPROTO);
	freeReplyObject(r);
	r = r_int(2);
	ck_assert_int_eq(cluster_proto_heartbeat_reply(r, &hb), -EPROTO);
	freeReplyObject(r);
	ck_assert_int_eq(cluster_proto_heartbeat_reply(NULL, &hb), -EINVAL);
}
END_TEST

START_TEST(scripts_store_publish_and_list_bans)
{
	redisContext *c = redis_start(), *sub;
	struct timeval tv = {2, 0};
	redisReply *r;
	struct cluster_ban b;

	if (c == NULL) {
		fprintf(stderr, "SKIP: no redis-server\n");
		return;
	}
	sub = redisConnectWithTimeout(redis_ip, redis_port, tv);
	ck_assert(sub != NULL && !sub->err);
	redisSetTimeout(sub, tv);
	r = redisCommand(sub, "SUBSCRIBE p:bans");
	freeReplyObject(r);
	{
		const char *av[] = {"p", "a", "192.0.2.7", "60000", "scanner"};
		freeReplyObject(run(c, CLUSTER_SCRIPT_BAN, 5, av));
	}
	ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
	ck_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
	ck_assert_int_eq(cluster_proto_ban_parse(r->element[2]->str, &b), 0);
	ck_assert_str_eq(b.instance, "a");
	ck_assert_str_eq(b.source, "192.0.2.7");
	ck_assert_uint_eq(b.ms, 60000);
	freeReplyObject(r);
	redisFree(sub);

	{
		const char *av[] = {"p"};
		char *end;
		r = run(c, CLUSTER_SCRIPT_BANS, 1, av);
		ck_assert_uint_eq(r->elements, 2);
		ck_assert_str_eq(r->element[0]->str, "192.0.2.7 scanner");
		unsigned long ms = strtoul(r->element[1]->str, &end, 10);
		ck_assert(ms > 59000 && ms <= 60000);
		freeReplyObject(r);
	}
	redisFree(c);
	redis_stop();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cluster_proto");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, admit_reply_reads_grant_and_refusals_and_rejects_other_shapes);
	tcase_add_test(tc, share_divides_a_limit_among_the_instances_rounding_up);
	tcase_add_test(tc, ban_messages_are_parsed_strictly);
	tcase_add_test(tc, view_reply_is_read_and_bad_entries_skipped);
	tcase_add_test(tc, scripts_share_a_trunk_limit_and_release_a_silent_instance);
	tcase_add_test(tc, scripts_store_publish_and_list_bans);
	tcase_add_test(tc, heartbeat_reports_two_processes_under_one_instance_name);
	tcase_add_test(tc, heartbeat_reply_is_read_strictly);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
