/*
 * it_call_outbound: an agent places a call toward a trunk. The agent is recognised by
 * the client certificate pinned in its [agent] section; the call goes to the trunk's
 * target, a carrier played by swpeer (echo). Media must come back intact with four
 * different keys, the record must name trunk and agent, and without a trunk target the
 * agent's INVITE gets 404.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 30000

START_TEST(agent_with_pinned_certificate_calls_out_through_the_trunk_target)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	uint16_t tport = itest_port();
	json_t *caller, *carrier, *start, *end;
	pid_t cp;
	int tfd;

	/* the trunk's target is a carrier on 127.0.0.1 (its certificate names that IP) */
	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(
	        &t, tport,
	        (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout", "40", NULL});

	ck_assert_int_eq(itest_agent_calls(&t, "caller.json", "+15550001", T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(cp, 10000), 0);
	caller = itest_result(&t, "caller.json");
	carrier = itest_result(&t, "carrier.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "sent"), 80);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(carrier, "auth_fail"), 0);
	const char *k[4] = {
	        itest_str(caller, "local_key_hash"), itest_str(caller, "remote_key_hash"),
	        itest_str(carrier, "remote_key_hash"), itest_str(carrier, "local_key_hash")};
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			ck_assert_msg(strcmp(k[i], k[j]) != 0, "keys %d and %d are the same", i, j);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	start = itest_event(tel, "call.start");
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(start);
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(json_string_value(json_object_get(start, "trunk")), "itest");
	ck_assert_str_eq(json_string_value(json_object_get(start, "to")), "+15550001");
	ck_assert_str_eq(json_string_value(json_object_get(end, "agent")), "itest");
	ck_assert_str_eq(json_string_value(json_object_get(end, "outcome")), "completed");
	/* the agent hung up: in an outbound call that is leg A */
	ck_assert_str_eq(json_string_value(json_object_get(end, "ended_by")), "agent");
	json_decref(caller);
	json_decref(carrier);
	json_decref(start);
	json_decref(end);
	itest_stop(&t);
}
END_TEST

START_TEST(agent_call_without_a_trunk_target_gets_404)
{
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	json_t *caller;

	itest_start(&t, &o);
	ck_assert_int_eq(itest_agent_calls(&t, "caller.json", "+15550001", T_CALL_MS), 1);
	caller = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 404);
	json_decref(caller);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_outbound");
	TCase *tc = tcase_create("outbound");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, agent_with_pinned_certificate_calls_out_through_the_trunk_target);
	tcase_add_test(tc, agent_call_without_a_trunk_target_gets_404);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
