/*
 * it_call_hostname: with [sip] hostname set, what sipwarden writes about itself names the
 * host, not the listen address: the INVITE to the agent carries Via sent-by and Contact
 * hostname:listen-port, and so does the Contact of the 200 OK to the trunk. The listen IP
 * appears in neither (it is topology the peers need not learn). Without hostname the
 * listen address stays the default.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define T_CALL_MS 20000

/*
 * The first message swpeer logged with --verbose as received ("swpeer: <<< ...") whose
 * start line begins with `start` and whose CSeq names `method`, copied into out.
 */
static bool
logged_msg(const char *log, const char *start, const char *method, char *out, size_t cap)
{
	const char *p = log;
	char tag[128], cseq[128];

	snprintf(tag, sizeof(tag), "swpeer: <<< %s", start);
	while ((p = strstr(p, tag)) != NULL) {
		const char *msg = p + strlen("swpeer: <<< ");
		const char *end = strstr(msg, "\nswpeer: ");
		size_t n = end != NULL ? (size_t)(end - msg) : strlen(msg);

		if (n >= cap)
			n = cap - 1;
		memcpy(out, msg, n);
		out[n] = '\0';
		if (itest_header(out, "CSeq", cseq, sizeof(cseq)) != NULL && strstr(cseq, method))
			return true;
		p = msg;
	}
	return false;
}

/* Run one call (agent and caller with --verbose); their logs into *agent_log and *caller_log. */
static void
one_call(struct itest *t, char **agent_log, char **caller_log)
{
	const char *agent_args[] = {"--calls", "1", "--timeout", "15", "--verbose", NULL};
	const char *call_args[] = {"--duration", "1", "--verbose", NULL};
	char path[256];
	size_t len;
	pid_t agent;

	agent = itest_agent(t, agent_args);
	itest_check_exit(t, itest_caller(t, "caller.json", call_args, T_CALL_MS), "caller.json");
	itest_check_exit(t, itest_wait_child(agent, 10000), "agent.json");
	*agent_log = itest_read_file(itest_path(t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(*agent_log);
	*caller_log = itest_read_file(itest_path(t, "caller.json.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(*caller_log);
}

START_TEST(via_and_contact_carry_the_configured_hostname)
{
	struct itest_opts o = {.sip_extra = "hostname = sbc.test\n"};
	struct itest t;
	char *alog, *clog, msg[16384], val[512], want[128];

	itest_start(&t, &o);
	one_call(&t, &alog, &clog);

	/* the INVITE that reached the agent */
	ck_assert_msg(logged_msg(alog, "INVITE ", "INVITE", msg, sizeof(msg)), "%s", alog);
	ck_assert_ptr_nonnull(itest_header(msg, "Via", val, sizeof(val)));
	snprintf(want, sizeof(want), "SIP/2.0/TLS sbc.test:%u;", t.port);
	ck_assert_msg(strncmp(val, want, strlen(want)) == 0, "Via: %s", val);
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", val, sizeof(val)));
	snprintf(want, sizeof(want), "<sip:sipwarden@sbc.test:%u;transport=tls>", t.port);
	ck_assert_str_eq(val, want);

	/* the 200 OK that reached the trunk */
	ck_assert_msg(logged_msg(clog, "SIP/2.0 200", "INVITE", msg, sizeof(msg)), "%s", clog);
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", val, sizeof(val)));
	ck_assert_str_eq(val, want);
	free(alog);
	free(clog);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}
END_TEST

START_TEST(via_and_contact_default_to_the_listen_address)
{
	struct itest t;
	char *alog, *clog, msg[16384], val[512], want[128];

	itest_start(&t, NULL);
	one_call(&t, &alog, &clog);
	ck_assert_msg(logged_msg(alog, "INVITE ", "INVITE", msg, sizeof(msg)), "%s", alog);
	ck_assert_ptr_nonnull(itest_header(msg, "Via", val, sizeof(val)));
	snprintf(want, sizeof(want), "SIP/2.0/TLS %s:%u;", t.ip, t.port);
	ck_assert_msg(strncmp(val, want, strlen(want)) == 0, "Via: %s", val);
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", val, sizeof(val)));
	snprintf(want, sizeof(want), "<sip:sipwarden@%s:%u;transport=tls>", t.ip, t.port);
	ck_assert_str_eq(val, want);
	free(alog);
	free(clog);
	itest_assert_no_calls(&t);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_hostname");
	TCase *tc = tcase_create("identity");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, via_and_contact_carry_the_configured_hostname);
	tcase_add_test(tc, via_and_contact_default_to_the_listen_address);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
