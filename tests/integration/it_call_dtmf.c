/*
 * it_call_dtmf: DTMF (RFC 4733 telephone-event) crosses sipwarden and is counted without
 * its digits. swpeer calls from the trunk side offering telephone-event and sends three
 * key presses (each two updates and three end packets with one timestamp); swpeer answers
 * as the agent. The telephone-event format must be negotiated end to end (the caller only
 * sends when sipwarden's answer has it; the agent only takes it as DTMF when sipwarden's
 * offer has it), the events must arrive re-keyed and intact (SRTP on both legs), and
 * call.end must count three events into the trunk leg and three out of the agent leg,
 * none the other way, and carry no digit. The same holds for an agent calling out (its
 * key presses count into the agent leg and out of the trunk leg).
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 30000

static json_int_t
dtmf_of(json_t *end, const char *leg, const char *dir)
{
	json_t *d = json_object_get(
	        json_object_get(json_object_get(json_object_get(end, "legs"), leg), dir),
	        "dtmf_events");
	ck_assert_msg(json_is_integer(d), "no %s.%s.dtmf_events", leg, dir);
	return json_integer_value(d);
}

START_TEST(dtmf_is_negotiated_relayed_and_counted_without_digits)
{
	static char tel[1 << 20];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo",   "--calls", "1", "--timeout",
	                            "40",     "--dtmf", "0",       NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "2", "--dtmf", "3", NULL};
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
	/* sent only because sipwarden's answer to the trunk kept telephone-event */
	ck_assert_int_eq(itest_num(caller, "dtmf_sent"), 3);
	/* taken as DTMF only because sipwarden's offer to the agent had it; SRTP-verified */
	ck_assert_int_eq(itest_num(agent, "dtmf_received"), 3);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "bad"), 0);
	ck_assert_int_ge(itest_num(caller, "ok"), 80); /* the audio around it still echoes */

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(dtmf_of(end, "trunk", "in"), 3);
	ck_assert_int_eq(dtmf_of(end, "agent", "out"), 3);
	ck_assert_int_eq(dtmf_of(end, "trunk", "out"), 0);
	ck_assert_int_eq(dtmf_of(end, "agent", "in"), 0);
	/* counts only: no field of the record names a key */
	char *dump = json_dumps(end, JSON_COMPACT);
	ck_assert_msg(strstr(dump, "digit") == NULL && strstr(dump, "\"event_code") == NULL,
	              "call.end: %s", dump);
	free(dump);
	json_decref(end);
	json_decref(caller);
	json_decref(agent);
	close(tfd);
	itest_stop(&t);
}
END_TEST

START_TEST(dtmf_from_an_agent_calling_out_is_counted_on_its_legs)
{
	static char tel[1 << 20];
	struct itest t;
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	uint16_t tport = itest_port();
	json_t *caller, *carrier, *end;
	pid_t cp;
	int tfd;

	/* the trunk's target is a carrier on 127.0.0.1 (its certificate names that IP) */
	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	cp = itest_carrier(&t, tport,
	                   (const char *const[]){"--mode", "echo", "--calls", "1", "--timeout",
	                                         "40", "--dtmf", "0", NULL});
	/* the agent calls out (as itest_agent_calls(), with --dtmf) */
	ck_assert_int_eq(
	        itest_wait_child(
	                itest_agent_call_spawn(&t, "caller.json", "+15550001",
	                                       (const char *const[]){"--calls", "1", "--duration",
	                                                             "2", "--dtmf", "2", NULL}),
	                T_CALL_MS),
	        0);
	ck_assert_int_eq(itest_wait_child(cp, 10000), 0);

	caller = itest_result(&t, "caller.json");
	carrier = itest_result(&t, "carrier.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_eq(itest_num(caller, "dtmf_sent"), 2);
	ck_assert_int_eq(itest_num(carrier, "dtmf_received"), 2);
	ck_assert_int_eq(itest_num(carrier, "bad"), 0);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	end = itest_event(tel, "call.end");
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(dtmf_of(end, "agent", "in"), 2);
	ck_assert_int_eq(dtmf_of(end, "trunk", "out"), 2);
	ck_assert_int_eq(dtmf_of(end, "agent", "out"), 0);
	ck_assert_int_eq(dtmf_of(end, "trunk", "in"), 0);
	json_decref(end);
	json_decref(caller);
	json_decref(carrier);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_dtmf");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, dtmf_is_negotiated_relayed_and_counted_without_digits);
	tcase_add_test(tc, dtmf_from_an_agent_calling_out_is_counted_on_its_legs);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
