/*
 * it_call_limits: who may place calls and how many. The global [limits] max_calls and a
 * trunk's max_calls refuse the call past the limit with 503 and Retry-After (and a
 * security.limit_reached event naming the limit) while the calls in progress complete
 * untouched; a caller whose address is outside every trunk's source gets 403
 * (security.peer_unknown); a trunk with a pinned certificate fingerprint takes calls only
 * from a client presenting that certificate.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "itest.h"

#define T_CALL_MS 30000

/* Assert file `name` holds `n` calls, each with final code `code` and result pass. */
static void
assert_calls(const struct itest *t, const char *name, size_t n, int code)
{
	json_t *arr = itest_results(t, name), *c;
	size_t i;

	ck_assert_msg(json_array_size(arr) == n, "%s: %zu calls, want %zu", name,
	              json_array_size(arr), n);
	json_array_foreach(arr, i, c)
	{
		ck_assert_int_eq(json_integer_value(json_object_get(c, "code")), code);
		ck_assert_str_eq(json_string_value(json_object_get(c, "result")), "pass");
	}
	json_decref(arr);
}

/* Wait until the control socket reports `count` calls, all answered (count 0: none). */
static void
wait_calls(const struct itest *t, int count, int timeout_ms)
{
	char want[32], *reply = NULL;
	int64_t end = itest_now_ms() + timeout_ms;
	bool ok = false;

	snprintf(want, sizeof(want), "\"count\":%d", count);
	while (!ok && itest_now_ms() < end) {
		free(reply);
		reply = itest_control(t, "{\"cmd\":\"calls\"}", 2000);
		if (reply != NULL && strstr(reply, want) != NULL) {
			int answered = 0;
			for (char *p = reply; (p = strstr(p, "\"answered\"")) != NULL; p++)
				answered++;
			ok = answered == count;
		}
		if (!ok)
			usleep(50000);
	}
	ck_assert_msg(ok, "wanted %d answered calls: %s", count, reply ? reply : "(no reply)");
	free(reply);
}

START_TEST(global_max_calls_refuses_the_third_call_with_503_and_keeps_the_first_two)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.limits_extra = "max_calls = 2\n"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "3", "--timeout", "40", NULL};
	const char *two[] = {"--calls", "2", "--concurrent", "2", "--duration", "4", NULL};
	const char *third[] = {"--calls", "1", "--expect", "503", "--verbose", NULL};
	const char *later[] = {"--calls", "1", "--duration", "0.5", NULL};
	pid_t ap, cp;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "two.json", two);
	wait_calls(&t, 2, 10000);

	/* two calls up: the third is refused before any agent is asked */
	ck_assert_int_eq(itest_caller(&t, "third.json", third, T_CALL_MS), 0);
	assert_calls(&t, "third.json", 1, 503);
	ck_assert_msg(itest_file_has(&t, "third.json.log", "Retry-After:"),
	              "503 without Retry-After");

	/* the two calls in progress were not disturbed: full media, normal end */
	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	assert_calls(&t, "two.json", 2, 200);

	/* the limit counts calls in progress only: once they ended, a call goes through */
	wait_calls(&t, 0, 5000);
	ck_assert_int_eq(itest_caller(&t, "later.json", later, T_CALL_MS), 0);
	assert_calls(&t, "later.json", 1, 200);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 1000);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "max_calls") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "call.end", "bye") == 3, "telemetry: %s", tel);
	ck_assert_int_eq(itest_count_events(tel, "call.start", NULL), 3);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(trunk_max_calls_refuses_the_second_call_of_that_trunk_with_503)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.trunk_extra = "max_calls = 1\n"};
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	const char *one[] = {"--calls", "1", "--duration", "3", NULL};
	const char *second[] = {"--calls", "1", "--expect", "503", "--verbose", NULL};
	pid_t ap, cp;
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "one.json", one);
	wait_calls(&t, 1, 10000);

	ck_assert_int_eq(itest_caller(&t, "second.json", second, T_CALL_MS), 0);
	assert_calls(&t, "second.json", 1, 503);
	ck_assert_msg(itest_file_has(&t, "second.json.log", "Retry-After:"),
	              "503 without Retry-After");

	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	assert_calls(&t, "one.json", 1, 200);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "trunk_max_calls") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(itest_count_events(tel, "security.limit_reached", "max_calls") == 0,
	              "telemetry: %s", tel);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(caller_outside_every_trunk_source_gets_403_and_peer_unknown)
{
	static char tel[1 << 20];
	struct itest t;
	/* swpeer connects from 127.0.0.1 (the loopback route's source), never this one */
	struct itest_opts o = {.trunk_source = "127.255.255.254/32"};
	const char *call[] = {"--calls", "1", "--expect", "403", NULL};
	int tfd;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ck_assert_int_eq(itest_caller(&t, "refused.json", call, T_CALL_MS), 0);
	assert_calls(&t, "refused.json", 1, 403);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "security.peer_unknown", 5000);
	ck_assert_msg(itest_count_events(tel, "security.peer_unknown", "source_not_allowed") == 1,
	              "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "\"127.0.0.1") != NULL, "event without the source: %s", tel);
	ck_assert_int_eq(itest_count_events(tel, "call.start", NULL), 0);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(pinned_trunk_fingerprint_admits_only_that_client_certificate)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {0};
	char fp[128], extra[200], tcrt[256], tkey[256], acrt[256], akey[256];
	const char *agent_args[] = {"--mode", "echo", "--calls", "2", "--timeout", "60", NULL};
	const char *plain_ok[] = {"--calls", "1", "--duration", "0.5", NULL};
	const char *no_cert[] = {"--calls", "1", "--expect", "403", NULL};
	const char *trunk_cert[] = {"--calls", "1",     "--duration", "0.5", "--cert",
	                            tcrt,      "--key", tkey,         NULL};
	const char *agent_cert[] = {"--calls", "1",     "--expect", "403", "--cert",
	                            acrt,      "--key", akey,       NULL};
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	itest_path(&t, "trunk.crt", tcrt, sizeof(tcrt));
	itest_path(&t, "trunk.key", tkey, sizeof(tkey));
	itest_path(&t, "agent.crt", acrt, sizeof(acrt));
	itest_path(&t, "agent.key", akey, sizeof(akey));
	ap = itest_agent(&t, agent_args);

	/* without a pin, a client without a certificate is a trunk like any other */
	ck_assert_int_eq(itest_caller(&t, "before.json", plain_ok, T_CALL_MS), 0);
	assert_calls(&t, "before.json", 1, 200);

	/* the certificates exist only once the harness made them: pin by reload, as an
	 * operator would */
	itest_cert_sha256(tcrt, fp);
	snprintf(extra, sizeof(extra), "fingerprint = %s\n", fp);
	o.trunk_extra = extra;
	itest_write_conf(&t, &o);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));

	ck_assert_int_eq(itest_caller(&t, "trunk.json", trunk_cert, T_CALL_MS), 0);
	assert_calls(&t, "trunk.json", 1, 200);
	ck_assert_int_eq(itest_caller(&t, "nocert.json", no_cert, T_CALL_MS), 0);
	assert_calls(&t, "nocert.json", 1, 403);
	/* signed by the same CA, but not the pinned certificate */
	ck_assert_int_eq(itest_caller(&t, "agentcert.json", agent_cert, T_CALL_MS), 0);
	assert_calls(&t, "agentcert.json", 1, 403);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 1000);
	ck_assert_msg(itest_count_events(tel, "security.peer_unknown", "fingerprint_mismatch") == 2,
	              "telemetry: %s", tel);
	ck_assert_int_eq(itest_count_events(tel, "call.start", NULL), 2);
	ck_assert_int_eq(itest_count_events(tel, "call.end", "bye"), 2);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_limits");
	TCase *tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc,
	               global_max_calls_refuses_the_third_call_with_503_and_keeps_the_first_two);
	tcase_add_test(tc, trunk_max_calls_refuses_the_second_call_of_that_trunk_with_503);
	tcase_add_test(tc, caller_outside_every_trunk_source_gets_403_and_peer_unknown);
	tcase_add_test(tc, pinned_trunk_fingerprint_admits_only_that_client_certificate);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
