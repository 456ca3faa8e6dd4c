/*
 * it_hostile_gate: what a hostile TLS peer sends is checked before the daemon acts on
 * it. A response without CSeq (or otherwise malformed) is dropped and the daemon goes
 * on serving; an OPTIONS whose 15,000 header fields are separated by bare LFs is
 * refused by framing (400, close) instead of being parsed for most of a second; a 200
 * forged for the INVITE sipwarden sent to the agent, from another connection, is
 * discarded (with a security.peer_unknown "forged_response" event) and the call goes
 * on with the real agent's answer and intact media; the agent's own answers to the
 * health probes are still taken.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 20000

static char tel[1 << 20];

/* On connection c, an OPTIONS answered 200: everything sent before it was processed. */
static void
assert_options_answered(struct itest_conn *c, const char *callid)
{
	char req[1024], resp[8192];

	ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), callid, 1)), 0);
	ck_assert_msg(itest_recv_msg(c, resp, sizeof(resp), 5000) > 0,
	              "%s: no answer to the OPTIONS (daemon dead?)", callid);
	ck_assert_int_eq(itest_status(resp), 200);
}

START_TEST(malformed_responses_are_dropped_and_the_daemon_keeps_serving)
{
	static const char *const bad[] = {
	        /* issue 8 item 1: no CSeq at all (was SIGSEGV in agent_probe_response) */
	        "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n",
	        /* a CSeq method that is not a token */
	        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKa1\r\n"
	        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
	        "CSeq: 1 OPT IONS\r\nContent-Length: 0\r\n\r\n",
	        /* no Via, no branch */
	        "SIP/2.0 180 Ringing\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
	        "Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1\r\n"
	        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
	        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	};
	struct itest t;
	char cid[32];

	itest_start(&t, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct itest_conn *c = itest_tls_connect(&t, 0, 0, NULL);

		ck_assert_msg(c != NULL, "case %zu: cannot connect (daemon dead?)", i);
		ck_assert_int_eq(itest_send_str(c, bad[i]), 0);
		/* pipelined behind it on the same connection: answered only if the daemon
		 * survived the response (no answer ever comes back to a response) */
		snprintf(cid, sizeof(cid), "after-bad-%zu", i);
		assert_options_answered(c, cid);
		ck_assert_msg(itest_alive(&t), "daemon died after case %zu", i);
		itest_conn_free(c);
	}
	itest_stop(&t);
}
END_TEST

START_TEST(lf_separated_header_flood_is_refused_by_framing_quickly)
{
	struct itest_opts o = {.max_message_size = 65536};
	struct itest t;
	struct itest_conn *c, *other;
	char req[1024], seen[8192] = "", *msg;
	size_t n, cap = 65536;
	int64_t t0, dt;
	int r;

	itest_start(&t, &o);
	/* An OPTIONS with 15,000 "a:b" header fields separated by bare LFs (libosip2 splits
	 * on those), a CRLF every 300 fields so that the CRLF lines stay under max_headers
	 * (64) and max_line_length (4096): about 60 KB, under max_message_size. */
	ck_assert_ptr_nonnull(msg = malloc(cap));
	itest_options(req, sizeof(req), "lf-flood", 1);
	n = (size_t)(strstr(req, "Content-Length: 0") - req);
	memcpy(msg, req, n);
	for (int i = 0; i < 15000; i++) {
		memcpy(msg + n, "a:b", 3);
		n += 3;
		if (i % 300 == 299) /* the last one too */
			msg[n++] = '\r';
		msg[n++] = '\n';
	}
	n += (size_t)snprintf(msg + n, cap - n, "Content-Length: 0\r\n\r\n");
	ck_assert_uint_lt(n, cap);
	other = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(other);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	t0 = itest_now_ms();
	/* the daemon may close before it has read everything: the send may then fail */
	(void)itest_send(c, msg, n);
	r = itest_recv_msg(c, seen, sizeof(seen), 5000);
	dt = itest_now_ms() - t0;
	fprintf(stderr, "lf flood (%zu bytes, 15000 fields): %s %d after %lld ms\n", n,
	        r > 0 ? "answer" : "closed, no answer", r > 0 ? itest_status(seen) : 0,
	        (long long)dt);
	ck_assert_msg(r >= 0, "neither an answer nor a close within 5 s");
	/* More fields than max_headers (64): never 200; a 400 when the daemon had the whole
	 * header block when it gave up, else just the close. */
	ck_assert_msg(r == 0 || itest_status(seen) == 400, "answered: %.100s", seen);
	ck_assert_msg(itest_wait_closed(c, 5000, NULL, 0) == 0, "connection not closed within 5 s");
	itest_conn_free(c);
	free(msg);
	/* the other connection is served as before */
	assert_options_answered(other, "lf-other");
	itest_conn_free(other);
	itest_stop(&t);
}
END_TEST

/* The INVITE the agent received (from its --verbose log), or NULL while there is none. */
static char *
agent_invite(const struct itest *t)
{
	char path[256], *log, *p, *copy;
	size_t len;

	if ((log = itest_read_file(itest_path(t, "agent.log", path, sizeof(path)), &len)) == NULL)
		return NULL;
	if ((p = strstr(log, "<<< INVITE ")) == NULL || strstr(p, "\r\n\r\n") == NULL ||
	    strstr(p, "a=crypto:") == NULL) {
		free(log);
		return NULL;
	}
	copy = strdup(p + 4);
	free(log);
	return copy;
}

/* A header value of the INVITE (asserted present and unredacted). */
static const char *
hdr(const char *msg, const char *name, char *buf, size_t cap)
{
	ck_assert_msg(itest_header(msg, name, buf, cap) != NULL, "INVITE without %s", name);
	ck_assert_msg(strchr(buf, '*') == NULL, "%s redacted in the agent's log: %s", name, buf);
	return buf;
}

/*
 * A 200 for the INVITE `inv` as a forger would send it: the INVITE's own Via (its
 * branch replaced by `branch` when not NULL), a To tag, a Contact and an SDP answer
 * with the forger's address and key for the first AES_CM_128_HMAC_SHA1_80 offered.
 */
static void
forge_200(const char *inv, const char *branch, char *out, size_t cap)
{
	char via[512], from[512], to[512], cid[256], cseq[64], mline[256], tag[16];
	const char *m = strstr(inv, "\nm=audio "), *cr, *sp;
	char sdp[1024];
	int sdplen;

	hdr(inv, "Via", via, sizeof(via));
	hdr(inv, "From", from, sizeof(from));
	hdr(inv, "To", to, sizeof(to));
	hdr(inv, "Call-ID", cid, sizeof(cid));
	hdr(inv, "CSeq", cseq, sizeof(cseq));
	if (branch != NULL) {
		char *b = strstr(via, "branch=");
		ck_assert_ptr_nonnull(b);
		snprintf(b, sizeof(via) - (size_t)(b - via), "branch=%s", branch);
	}
	/* "m=audio PORT PROTO FMTS": the forger's port, the offer's formats */
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(sp = strchr(m + 9, ' '));
	ck_assert_ptr_nonnull(cr = strchr(sp, '\r'));
	snprintf(mline, sizeof(mline), "m=audio 40000%.*s", (int)(cr - sp), sp);
	{
		const char *a = strstr(inv, " AES_CM_128_HMAC_SHA1_80 "), *s = a;
		ck_assert_ptr_nonnull(a);
		while (s > inv && s[-1] != ':')
			s--;
		snprintf(tag, sizeof(tag), "%.*s", (int)(a - s), s);
	}
	sdplen = snprintf(sdp, sizeof(sdp),
	                  "v=0\r\no=forger 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	                  "t=0 0\r\n%s\r\na=crypto:%s AES_CM_128_HMAC_SHA1_80 "
	                  "inline:Zm9yZ2VkIGtleSBmb3IgYSBsaXZlIGNhbGwgISEh\r\n",
	                  mline, tag);
	snprintf(out, cap,
	         "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=forger1\r\nCall-ID: %s\r\n"
	         "CSeq: %s\r\nContact: <sip:forger@127.0.0.1:5999;transport=tls>\r\n"
	         "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
	         via, from, to, cid, cseq, sdplen, sdp);
}

START_TEST(forged_200_for_the_agent_invite_from_another_connection_is_ignored)
{
	struct itest t;
	/* the agent rings 2.5 s: the forgeries arrive while the INVITE is pending */
	const char *agent_args[] = {"--ring-ms", "2500", "--calls",   "1",
	                            "--timeout", "20",   "--verbose", NULL};
	const char *call_args[] = {"--duration", "2", "--timeout", "15", NULL};
	char forged[4096], path[256];
	struct itest_conn *f;
	json_t *caller, *agent, *end;
	char *inv = NULL, *log;
	pid_t ap, cp;
	size_t len;
	int tfd;

	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "caller.json", call_args);
	for (int i = 0; i < 1000 && (inv = agent_invite(&t)) == NULL; i++)
		usleep(10000);
	ck_assert_msg(inv != NULL, "the agent never got the INVITE");

	/* A second TLS client (an allowed source, not the agent) forges the agent's 200:
	 * once with the INVITE's real branch (only the connection is wrong), once with a
	 * branch of its own. */
	ck_assert_ptr_nonnull(f = itest_tls_connect(&t, 0, 0, NULL));
	forge_200(inv, NULL, forged, sizeof(forged));
	ck_assert_int_eq(itest_send_str(f, forged), 0);
	forge_200(inv, "z9hG4bKforged0123456789", forged, sizeof(forged));
	ck_assert_int_eq(itest_send_str(f, forged), 0);
	assert_options_answered(f, "forger-done");
	free(inv);
	/* The forgeries were processed before the real answer: else this proves nothing. */
	log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len);
	ck_assert_ptr_nonnull(log);
	for (char *p = strstr(log, ">>> SIP/2.0 200 "); p != NULL;
	     p = strstr(p + 1, ">>> SIP/2.0 200 ")) {
		char *next = strstr(p + 1, "swpeer: "), *cseq = strstr(p, " INVITE\r\n");
		/* a 200 to a probe OPTIONS is fine; one to the INVITE is too early */
		ck_assert_msg(cseq == NULL || (next != NULL && cseq > next),
		              "the agent answered before the forgeries were processed");
	}
	free(log);

	itest_check_exit(&t, itest_wait_child(cp, T_CALL_MS), "caller.json");
	itest_check_exit(&t, itest_wait_child(ap, 10000), "agent.json");
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_str_eq(itest_str(caller, "result"), "pass");
	ck_assert_str_eq(itest_str(agent, "result"), "pass");
	/* the media went to the real agent and came back intact */
	ck_assert_int_ge(itest_num(caller, "sent"), 80);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_ge(itest_num(agent, "ok"), itest_num(caller, "sent") - 2);

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	ck_assert_int_eq(itest_count_events(tel, "security.peer_unknown", "forged_response"), 2);
	end = itest_event(tel, "call.end");
	ck_assert_msg(end != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(end, "outcome"), "completed");
	json_decref(end);
	json_decref(agent);
	json_decref(caller);
	ck_assert(itest_alive(&t));
	itest_conn_free(f);
	itest_assert_no_calls(&t);
	close(tfd);
	itest_stop(&t);
}
END_TEST

/* How many times `needle` occurs in the agent's log. */
static int
agent_log_count(const struct itest *t, const char *needle)
{
	char path[256], *log;
	size_t len;
	int n = 0;

	if ((log = itest_read_file(itest_path(t, "agent.log", path, sizeof(path)), &len)) == NULL)
		return 0;
	for (char *p = strstr(log, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	free(log);
	return n;
}

/* The positive side of response matching: the agent's own answers to the health probes
 * (its connection, our branch) are taken; a probe whose answer were not matched would
 * count as failed at the next tick and, with probe_failures = 1, mark the agent down. */
START_TEST(probe_answers_from_the_agent_keep_it_up)
{
	struct itest_opts o = {.extra = "[pool]\nprobe_interval = 500ms\nprobe_failures = 1\n"};
	const char *agent_args[] = {"--timeout", "20", "--verbose", NULL};
	struct itest t;
	json_t *j, *a;
	char *reply;
	pid_t ap;
	int tfd, i;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	/* four probes sent: the first three were answered (or timed out) by the fourth */
	for (i = 0; i < 1000 && agent_log_count(&t, "<<< OPTIONS ") < 4; i++)
		usleep(10000);
	ck_assert_int_ge(agent_log_count(&t, "<<< OPTIONS "), 4);
	ck_assert_int_ge(agent_log_count(&t, ">>> SIP/2.0 200 "), 3);
	ck_assert_ptr_nonnull(reply = itest_control(&t, "{\"cmd\":\"agents\"}", 3000));
	ck_assert_ptr_nonnull(j = json_loads(reply, 0, NULL));
	a = json_array_get(json_object_get(j, "agents"), 0);
	ck_assert_msg(json_is_true(json_object_get(a, "up")), "agent down: %s", reply);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "failures")), 0);
	json_decref(j);
	free(reply);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), NULL, 200);
	ck_assert_int_eq(itest_count_events(tel, "agent.down", NULL), 0);
	ck_assert_int_eq(itest_count_events(tel, "security.peer_unknown", "forged_response"), 0);
	itest_kill_child(ap);
	close(tfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_hostile_gate");
	TCase *tc = tcase_create("gate");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, malformed_responses_are_dropped_and_the_daemon_keeps_serving);
	tcase_add_test(tc, lf_separated_header_flood_is_refused_by_framing_quickly);
	tcase_add_test(tc, forged_200_for_the_agent_invite_from_another_connection_is_ignored);
	tcase_add_test(tc, probe_answers_from_the_agent_keep_it_up);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
