/*
 * it_call_trying: when sipwarden sends 100 Trying to a trunk's INVITE (issue 12, item 2).
 * RFC 3261 s17.2.1 lets a server transaction leave the 100 out when its TU answers within
 * 200 ms: sipwarden sends it only when nothing else went to the trunk within 100 ms.
 *
 * An agent that rings and answers at once: the trunk's first response is its 180, no
 * 100 before it (a box so slow that the 180 takes over 100 ms may send the 100 first,
 * but never before the delay). An agent that accepts the TCP connection and never speaks TLS: the
 * 100 comes after the delay (not before it), long before the agent timeout's final response.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "itest.h"

#define MSG_CAP 16384

START_TEST(a_quick_answer_goes_out_without_a_100_trying_before_it)
{
	static char msg[MSG_CAP];
	const char *agent_args[] = {"--mode",    "echo", "--bye-after", "0.3",
	                            "--timeout", "20",   NULL};
	char cid[64];
	struct itest t;
	struct itest_conn *c;
	int64_t t0, dt;
	pid_t ap;

	snprintf(cid, sizeof(cid), "try%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	t0 = itest_now_ms();
	itest_send_invite(&t, c, cid, "", NULL, 0);
	ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0, "no answer to the INVITE");
	dt = itest_now_ms() - t0;
	/* the agent rings (180) and answers at once, so the trunk's first response is one of
	 * those; only a box too slow to get them out within the delay may send a 100 first,
	 * and then never before the delay */
	if (itest_status(msg) == 100) {
		ck_assert_msg(dt >= 90, "a 100 Trying %lld ms after the INVITE, before the delay",
		              (long long)dt);
		fprintf(stderr, "note: the agent's answer took over 100 ms here (%lld ms)\n",
		        (long long)dt);
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0,
		              "no answer after the 100");
	}
	ck_assert_msg(itest_status(msg) == 180 || itest_status(msg) == 200,
	              "response %d, not the agent's 180 or 200", itest_status(msg));
	itest_conn_free(c);
	itest_kill_child(ap);
	itest_stop(&t);
}
END_TEST

START_TEST(a_slow_agent_gets_the_trunk_a_100_trying_after_the_delay)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.sip_extra = "agent_timeout = 3s\n"};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char cid[64];
	struct itest t;
	struct itest_conn *c;
	int64_t t0, dt;
	int lfd, one = 1;

	snprintf(cid, sizeof(cid), "tryslow%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	/* the agent: TCP connections complete in the kernel's backlog, TLS never starts */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons(t.agent_port);
	ck_assert_int_eq(inet_pton(AF_INET, t.agent_ip, &sin.sin_addr), 1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);

	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	t0 = itest_now_ms();
	itest_send_invite(&t, c, cid, "", NULL, 0);
	ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0, "no response to the INVITE");
	dt = itest_now_ms() - t0;
	ck_assert_msg(itest_status(msg) == 100, "first response %d, not 100", itest_status(msg));
	ck_assert_msg(dt >= 90, "the 100 came after %lld ms, before the delay", (long long)dt);
	ck_assert_msg(dt < 2000, "the 100 came after %lld ms", (long long)dt);
	/* then the agent timeout's final response, once */
	ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 10000) > 0, "no final response");
	ck_assert_int_ge(itest_status(msg), 400);
	itest_conn_free(c);
	close(lfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("call_trying");
	TCase *tc = tcase_create("trying");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_quick_answer_goes_out_without_a_100_trying_before_it);
	tcase_add_test(tc, a_slow_agent_gets_the_trunk_a_100_trying_after_the_delay);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
