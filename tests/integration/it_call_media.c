/*
 * it_call_media: a real call crosses sipwarden. swpeer places it from the trunk side
 * and swpeer answers as the agent, echoing every packet re-encrypted with its own key.
 * The audio pattern must come back intact (four SRTP operations in each direction:
 * caller -> sipwarden -> agent -> sipwarden -> caller), the four keys involved must all
 * differ (no key crosses a leg), the relay must count no plaintext and no failed packet,
 * and the call must leave a complete record and an empty call table.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 30000

START_TEST(call_audio_arrives_intact_both_ways_with_independent_keys_per_leg)
{
	static char tel[1 << 20];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "2", NULL};
	json_t *caller, *agent, *end;
	pid_t ap;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);

	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_eq(itest_num(agent, "code"), 200);
	/* ~100 packets in 2 s; every one the caller got back is its own pattern, intact */
	ck_assert_int_ge(itest_num(caller, "sent"), 80);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "bad"), 0);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_ge(itest_num(agent, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);

	/* Four keys: the trunk's, sipwarden's on the trunk leg, sipwarden's on the agent
	 * leg, the agent's. All different: nothing was copied across legs. */
	const char *k[4] = {
	        itest_str(caller, "local_key_hash"), itest_str(caller, "remote_key_hash"),
	        itest_str(agent, "remote_key_hash"), itest_str(agent, "local_key_hash")};
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			ck_assert_msg(strcmp(k[i], k[j]) != 0, "keys %d and %d are the same (%s)",
			              i, j, k[i]);

	/* the record: call.start, call.answer, call.end in that order */
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	char *s = strstr(tel, "\"call.start\""), *a = strstr(tel, "\"call.answer\""),
	     *e = strstr(tel, "\"call.end\"");
	ck_assert_msg(s && a && e && s < a && a < e, "telemetry: %s", tel);
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "completed");
	ck_assert_str_eq(json_string_value(json_object_get(end, "ended_by")), "trunk");
	/* the relay's own counters: no plaintext, no failed authentication, on both legs */
	char *dump = json_dumps(end, JSON_COMPACT);
	ck_assert_msg(strstr(dump, "\"plaintext\":0") != NULL, "call.end: %s", dump);
	ck_assert_msg(strstr(dump, "\"plaintext\":1") == NULL, "call.end: %s", dump);
	free(dump);

	/* nothing left in the call table */
	char *reply = NULL;
	for (int i = 0; i < 50; i++) {
		free(reply);
		reply = itest_control(&t, "{\"cmd\":\"calls\"}", 2000);
		if (reply != NULL && strstr(reply, "\"count\":0") != NULL)
			break;
		usleep(50000);
	}
	ck_assert_msg(reply != NULL && strstr(reply, "\"count\":0") != NULL, "calls: %s", reply);
	free(reply);
	json_decref(caller);
	json_decref(agent);
	json_decref(end);
	itest_stop(&t);
}
END_TEST

START_TEST(early_media_183_carries_sipwardens_sdp_and_the_call_completes)
{
	struct itest t;
	const char *agent_args[] = {"--mode",  "echo", "--early-media", "--ring-ms", "300",
	                            "--calls", "1",    "--timeout",     "40",        NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "2", "--verbose", NULL};
	char path[256], want[64];
	json_t *caller;
	size_t len;
	char *log;

	itest_start(&t, NULL);
	pid_t ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);

	/* the trunk saw a 183 with an SDP of sipwarden's (its media address, a key) */
	log = itest_read_file(itest_path(&t, "caller.json.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	char *p183 = strstr(log, "SIP/2.0 183");
	ck_assert_msg(p183 != NULL, "no 183 reached the trunk");
	char *p200 = strstr(p183, "SIP/2.0 200");
	if (p200 != NULL)
		*p200 = '\0';
	snprintf(want, sizeof(want), "c=IN IP4 %s", t.ip);
	ck_assert_msg(strstr(p183, "m=audio") != NULL, "183 without SDP");
	ck_assert_msg(strstr(p183, want) != NULL, "183 SDP does not point at sipwarden");
	ck_assert_msg(strstr(p183, t.agent_ip) == NULL, "the agent's address leaked in the 183");
	ck_assert_msg(strstr(p183, "a=crypto:") != NULL, "183 SDP without a=crypto");
	free(log);
	json_decref(caller);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_media");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, call_audio_arrives_intact_both_ways_with_independent_keys_per_leg);
	tcase_add_test(tc, early_media_183_carries_sipwardens_sdp_and_the_call_completes);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
