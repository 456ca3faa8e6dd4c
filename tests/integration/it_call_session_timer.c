/*
 * it_call_session_timer: session timers (RFC 4028, issue 10 item 4). The test is the trunk
 * and writes its own SIP; swpeer is the agent. An INVITE asking for less than [sip]
 * min_session_expires gets 422 with Min-SE; a trunk that asks for nothing gets
 * sipwarden's default interval with sipwarden as the refresher, refreshed by UPDATE
 * without SDP (or, when the trunk's Allow lacks UPDATE, by a re-INVITE carrying the very
 * SDP of the 200: no new key); a refresh answered 481 ends the call (refresh_failed); a
 * trunk that is the refresher and stops refreshing has its call ended at SE - min(32,
 * SE/3) (session_expired), an UPDATE without SDP from it is a valid refresh. With swpeer on
 * both sides, refreshes by re-INVITE leave the media flowing with no failed packet.
 * A relayed UPDATE with SDP gets Session-Expires in its 2xx and keeps our key; a carrier's
 * 422 on an agent's call out is retried once with its Min-SE (the test is the carrier).
 * min_session_expires is lowered to 2 s for the test (the RFC's and default floor is 90 s).
 * Each timing check measures one timer from the message that armed it, with generous
 * bounds.
 */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define MSG_CAP 16384

static char tel[1 << 20];

/* Wait for the final response to the INVITE into msg; returns its status. */
static int
invite_final(struct itest_conn *c, char *msg)
{
	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, 8000) > 0, "no final response");
		if (itest_status(msg) >= 200)
			return itest_status(msg);
	}
}

/* A request in our dialog (To is the 200's To with its tag). */
static void
send_in_dialog(struct itest_conn *c, const char *method, unsigned cseq, const char *callid,
               const char *to, const char *contact, const char *extra)
{
	static char req[MSG_CAP];

	snprintf(req, sizeof(req),
	         "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s%u\r\n"
	         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: %u %s\r\n%sContent-Length: 0\r\n\r\n",
	         method, contact, method, cseq, to, callid, cseq, method, extra);
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

/* ACK the 200 in msg; fills to/contact for later requests. */
static void
ack_200(struct itest_conn *c, const char *msg, const char *callid, char *to, size_t tocap,
        char *contact, size_t ccap)
{
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, tocap));
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", contact, ccap));
	memmove(contact, contact + 1, strlen(contact)); /* <uri> -> uri */
	contact[strcspn(contact, ">")] = '\0';
	send_in_dialog(c, "ACK", 1, callid, to, contact, "");
}

/* Answer the request in msg with `code`, extra header lines and an optional SDP body. */
static void
respond(struct itest_conn *c, const char *msg, int code, const char *extra, const char *sdp)
{
	static char resp[MSG_CAP];
	char via[256], from[256], to[256], callid[128], cseq[64];

	ck_assert_ptr_nonnull(itest_header(msg, "Via", via, sizeof(via)));
	ck_assert_ptr_nonnull(itest_header(msg, "From", from, sizeof(from)));
	ck_assert_ptr_nonnull(itest_header(msg, "To", to, sizeof(to)));
	ck_assert_ptr_nonnull(itest_header(msg, "Call-ID", callid, sizeof(callid)));
	ck_assert_ptr_nonnull(itest_header(msg, "CSeq", cseq, sizeof(cseq)));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n%s%s"
	         "Content-Length: %zu\r\n\r\n%s",
	         code, via, from, to, callid, cseq, extra,
	         sdp != NULL ? "Content-Type: application/sdp\r\n" : "",
	         sdp != NULL ? strlen(sdp) : 0, sdp != NULL ? sdp : "");
	ck_assert_int_eq(itest_send_str(c, resp), 0);
}

/* The next request from sipwarden (responses and copies of the 200 skipped). */
static void
next_request(struct itest_conn *c, char *msg, int timeout_ms)
{
	for (;;) {
		ck_assert_msg(itest_recv_msg(c, msg, MSG_CAP, timeout_ms) > 0, "no request came");
		if (itest_status(msg) <= 0)
			return;
	}
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* call.end's reason and ended_by, from telemetry fd `tfd`. */
static void
assert_end(int tfd, const char *reason)
{
	json_t *ev;

	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 8000);
	ev = itest_event(tel, "call.end");
	ck_assert_msg(ev != NULL, "no call.end: %s", tel);
	ck_assert_str_eq(itest_str(ev, "reason"), reason);
	json_decref(ev);
}

START_TEST(a_session_expires_below_the_minimum_gets_422_with_min_se)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.sip_extra = "min_session_expires = 10s\n"};
	char cid[64], sdp[1024], minse[32];
	struct itest t;
	struct itest_conn *c;

	snprintf(cid, sizeof(cid), "se422%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Supported: timer\r\nSession-Expires: 5;refresher=uac\r\n",
	                  sdp, sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 422);
	ck_assert_ptr_nonnull(itest_header(msg, "Min-SE", minse, sizeof(minse)));
	ck_assert_str_eq(minse, "10");
	/* hostile or broken values are refused, never guessed at */
	{
		const char *bad[] = {"Session-Expires: abc\r\n", "Session-Expires: 0\r\n",
		                     "Session-Expires: 1800;refresher=proxy\r\n",
		                     "Session-Expires: 99999999999\r\n", NULL};
		for (int i = 0; bad[i] != NULL; i++) {
			char bcid[80];
			snprintf(bcid, sizeof(bcid), "bad%d-%s", i, cid);
			itest_send_invite(&t, c, bcid, bad[i], sdp, sizeof(sdp));
			ck_assert_msg(invite_final(c, msg) == 400, "%s: %.40s", bad[i], msg);
		}
	}
	itest_assert_no_calls(&t);
	/* OPTIONS outside a call (the server's answer) list timer in Supported */
	{
		static char req[MSG_CAP];
		char v[128];
		ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "opt1@x", 1)),
		                 0);
		ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "OPTIONS"), 200);
		ck_assert_msg(itest_header(msg, "Supported", v, sizeof(v)) && strstr(v, "timer"),
		              "OPTIONS 200 without Supported: timer: %s", msg);
	}
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* A trunk that asked for nothing (its Allow lists UPDATE): the 200 imposes the default
 * with sipwarden as refresher, UPDATEs without SDP refresh it; a 481 to one ends it. */
START_TEST(a_trunk_that_asks_nothing_is_refreshed_with_update_and_a_481_ends_the_call)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.sip_extra = "min_session_expires = 2s\nsession_expires = 4s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], sdp[1024], to[512], contact[512], se[64], cseq[64];
	struct itest t;
	struct itest_conn *c;
	int64_t t200, t1, t2;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "seupd%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n", sdp,
	                  sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	t200 = itest_now_ms();
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "4;refresher=uas");
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	/* the first refresh: an UPDATE without SDP about SE/2 = 2 s after the 200 */
	next_request(c, msg, 6000);
	t1 = itest_now_ms() - t200;
	ck_assert_msg(strncmp(msg, "UPDATE ", 7) == 0, "not an UPDATE: %.60s", msg);
	ck_assert_msg(t1 >= 1500 && t1 < 3800, "UPDATE %lld ms after the 200", (long long)t1);
	ck_assert_msg(strstr(msg, "m=audio") == NULL, "the refresh carries an SDP");
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "4;refresher=uac");
	ck_assert_ptr_nonnull(itest_header(msg, "CSeq", cseq, sizeof(cseq)));
	respond(c, msg, 200, "Session-Expires: 4;refresher=uac\r\nRequire: timer\r\n", NULL);
	t1 = itest_now_ms();

	/* the second refresh, 2 s after the first was answered: this one gets 481 */
	next_request(c, msg, 6000);
	t2 = itest_now_ms() - t1;
	ck_assert_msg(strncmp(msg, "UPDATE ", 7) == 0, "not an UPDATE: %.60s", msg);
	ck_assert_msg(t2 >= 1500 && t2 < 3800, "UPDATE %lld ms after the last refresh",
	              (long long)t2);
	respond(c, msg, 481, "", NULL);
	/* the call ends at once: BYE on this leg, and on the agent's */
	next_request(c, msg, 3000);
	ck_assert_msg(strncmp(msg, "BYE ", 4) == 0, "not a BYE: %.60s", msg);
	respond(c, msg, 200, "", NULL);
	assert_end(tfd, "refresh_failed");
	itest_kill_child(ap);
	{
		json_t *ev = itest_result(&t, "agent.json");
		ck_assert_str_eq(itest_str(ev, "ended_by"), "remote");
		json_decref(ev);
	}
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* A trunk whose Allow lacks UPDATE is refreshed by re-INVITE with the very SDP of the 200
 * (same o= version, same key): never re-keyed. */
START_TEST(without_update_the_refresh_is_a_reinvite_with_the_same_sdp_and_key)
{
	static char msg[MSG_CAP], first_sdp[4096];
	struct itest_opts o = {.sip_extra = "min_session_expires = 2s\nsession_expires = 4s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], sdp[1024], to[512], contact[512];
	const char *body;
	struct itest t;
	struct itest_conn *c;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "seinv%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Allow: INVITE, ACK, BYE, CANCEL\r\n", sdp, sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	ck_assert_ptr_nonnull(body = strstr(msg, "\r\n\r\n"));
	snprintf(first_sdp, sizeof(first_sdp), "%s", body + 4);
	ck_assert_ptr_nonnull(strstr(first_sdp, "a=crypto:"));
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	for (int i = 0; i < 2; i++) {
		next_request(c, msg, 6000);
		ck_assert_msg(strncmp(msg, "INVITE ", 7) == 0, "refresh %d: not a re-INVITE: %.60s",
		              i, msg);
		ck_assert_ptr_nonnull(body = strstr(msg, "\r\n\r\n"));
		ck_assert_msg(strcmp(body + 4, first_sdp) == 0,
		              "refresh %d: the SDP changed:\n%s\nwas\n%s", i, body + 4, first_sdp);
		respond(c, msg, 200, "", sdp); /* ours unchanged too */
		/* the ACK */
		next_request(c, msg, 3000);
		ck_assert_msg(strncmp(msg, "ACK ", 4) == 0, "not an ACK: %.60s", msg);
	}
	send_in_dialog(c, "BYE", 2, cid, to, contact, "");
	ck_assert_int_eq(invite_final(c, msg), 200);
	assert_end(tfd, "bye");
	itest_kill_child(ap);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* The trunk is the refresher (refresher=uac): its UPDATE without SDP is a refresh answered
 * 200 with Session-Expires; then it goes silent and the call ends SE - min(32, SE/3) =
 * 6 - 2 = 4 s after that refresh, with BYE on both legs. */
START_TEST(a_trunk_that_stops_refreshing_has_its_call_ended_session_expired)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.sip_extra = "min_session_expires = 2s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	char cid[64], sdp[1024], to[512], contact[512], se[64], req[32];
	struct itest t;
	struct itest_conn *c;
	int64_t t0, waited;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "seexp%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Supported: timer\r\nSession-Expires: 6;refresher=uac\r\n",
	                  sdp, sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "6;refresher=uac");
	ck_assert_ptr_nonnull(itest_header(msg, "Require", req, sizeof(req)));
	ck_assert_str_eq(req, "timer");
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	send_in_dialog(c, "UPDATE", 2, cid, to, contact,
	               "Supported: timer\r\nSession-Expires: 6;refresher=uac\r\n");
	ck_assert_int_eq(invite_final(c, msg), 200);
	t0 = itest_now_ms();
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "6;refresher=uac");
	ck_assert_msg(strstr(msg, "m=audio") == NULL, "an SDP in the 200 to the UPDATE");

	next_request(c, msg, 10000);
	waited = itest_now_ms() - t0;
	ck_assert_msg(strncmp(msg, "BYE ", 4) == 0, "not a BYE: %.60s", msg);
	ck_assert_msg(waited >= 3500 && waited < 6000, "BYE %lld ms after the refresh",
	              (long long)waited);
	respond(c, msg, 200, "", NULL);
	assert_end(tfd, "session_expired");
	itest_kill_child(ap);
	{
		json_t *ev = itest_result(&t, "agent.json");
		ck_assert_str_eq(itest_str(ev, "ended_by"), "remote");
		json_decref(ev);
	}
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* swpeer on both sides asks for no timers and allows no UPDATE: sipwarden refreshes each
 * leg by re-INVITE every 2 s; the media keeps flowing with no failed packet. */
START_TEST(reinvite_refreshes_on_both_legs_keep_the_media_flowing)
{
	struct itest_opts o = {.sip_extra = "min_session_expires = 2s\nsession_expires = 4s\n"};
	const char *agent_args[] = {"--mode",    "echo", "--calls",   "1",
	                            "--timeout", "40",   "--verbose", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "7", "--verbose", NULL};
	json_t *caller, *agent;
	struct itest t;
	char path[256];
	size_t len;
	char *log;
	int tfd;
	pid_t ap;

	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, 30000), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	ck_assert_int_ge(itest_num(caller, "sent"), 250);
	ck_assert_int_ge(itest_num(caller, "ok"), itest_num(caller, "sent") - 2);
	ck_assert_int_eq(itest_num(caller, "auth_fail"), 0);
	ck_assert_int_eq(itest_num(agent, "auth_fail"), 0);
	ck_assert_int_ge(itest_num(agent, "ok"), itest_num(caller, "sent") - 2);
	json_decref(caller);
	json_decref(agent);
	/* each peer got sipwarden's re-INVITE refreshes: the first INVITE and at least two
	 * more for the agent, at least two for the caller (7 s, one each 2 s) */
	ck_assert_ptr_nonnull(
	        log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len));
	ck_assert_int_ge(count(log, "<<< INVITE sip:"), 3);
	/* sipwarden's INVITE to the agent asked for timers itself */
	ck_assert_ptr_nonnull(strstr(log, "Session-Expires: 4\r\n"));
	ck_assert_ptr_nonnull(strstr(log, "Supported: timer\r\n"));
	ck_assert_ptr_nonnull(strstr(log, "Min-SE: 2\r\n"));
	free(log);
	ck_assert_ptr_nonnull(
	        log = itest_read_file(itest_path(&t, "caller.json.log", path, sizeof(path)), &len));
	ck_assert_int_ge(count(log, "<<< INVITE sip:"), 2);
	free(log);
	assert_end(tfd, "bye");
	close(tfd);
	itest_stop(&t);
}
END_TEST

/* The trunk refreshes with a re-INVITE whose SDP is unchanged (same o= version, RFC 3264
 * s8) and with an UPDATE without SDP: both are answered on the trunk's leg, the re-INVITE
 * with the SDP and key of the first 200, and neither reaches the agent. */
START_TEST(a_trunk_refresh_is_answered_on_its_leg_without_a_new_key)
{
	static char msg[MSG_CAP], req[MSG_CAP], first_sdp[4096];
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", "--verbose", NULL};
	char cid[64], sdp[1024], to[512], contact[512], path[256], se[64];
	const char *body;
	struct itest t;
	struct itest_conn *c;
	size_t len;
	char *log;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "serx%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Supported: timer\r\nSession-Expires: 1800\r\n", sdp,
	                  sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	ck_assert_ptr_nonnull(body = strstr(msg, "\r\n\r\n"));
	snprintf(first_sdp, sizeof(first_sdp), "%s", body + 4);
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	snprintf(req, sizeof(req),
	         "INVITE %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKre2\r\n"
	         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: 2 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\n"
	         "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
	         contact, to, cid, strlen(sdp), sdp);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(invite_final(c, msg), 200);
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "1800;refresher=uac");
	ck_assert_ptr_nonnull(body = strstr(msg, "\r\n\r\n"));
	ck_assert_msg(strcmp(body + 4, first_sdp) == 0, "a new SDP:\n%s\nwas\n%s", body + 4,
	              first_sdp);
	send_in_dialog(c, "ACK", 2, cid, to, contact, "");
	send_in_dialog(c, "UPDATE", 3, cid, to, contact, "Session-Expires: 1800;refresher=uac\r\n");
	ck_assert_int_eq(invite_final(c, msg), 200);
	ck_assert_msg(strstr(msg, "m=audio") == NULL, "an SDP in the 200 to the UPDATE");
	send_in_dialog(c, "BYE", 4, cid, to, contact, "");
	ck_assert_int_eq(invite_final(c, msg), 200);
	assert_end(tfd, "bye");
	itest_kill_child(ap);
	ck_assert_ptr_nonnull(
	        log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len));
	ck_assert_int_eq(count(log, "<<< INVITE sip:"), 1);
	ck_assert_int_eq(count(log, "<<< UPDATE sip:"), 0);
	free(log);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* The a=crypto line of an SDP message (its key included) into out. */
static void
crypto_line(const char *msg, char *out, size_t cap)
{
	const char *p = strstr(msg, "a=crypto:");

	ck_assert_msg(p != NULL, "no a=crypto: %s", msg);
	snprintf(out, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
}

/* The trunk sends an UPDATE with a new SDP version but its key unchanged (RFC 4028 s7.4: a
 * refresh may carry an offer): it crosses to the agent; the 2xx carries Session-Expires
 * as the 2xx to a refresh re-INVITE does, and our answer keeps the key of the first 200. */
START_TEST(a_relayed_update_with_sdp_gets_session_expires_and_keeps_our_key)
{
	static char msg[MSG_CAP], req[MSG_CAP], sdp2[1024];
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", "--verbose", NULL};
	char cid[64], sdp[1024], to[512], contact[512], path[256], se[64], req_h[32];
	char first_crypto[256], crypto[256];
	struct itest t;
	struct itest_conn *c;
	size_t len;
	char *log, *o;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "seupdsdp%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, NULL);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Supported: timer\r\nSession-Expires: 1800\r\n", sdp,
	                  sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	crypto_line(msg, first_crypto, sizeof(first_crypto));
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	/* the same SDP, one version later */
	snprintf(sdp2, sizeof(sdp2), "%s", sdp);
	ck_assert_ptr_nonnull(o = strstr(sdp2, "o=itest 1 1 "));
	o[10] = '2';
	snprintf(req, sizeof(req),
	         "UPDATE %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKupd2\r\n"
	         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
	         "Call-ID: %s\r\nCSeq: 2 UPDATE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\n"
	         "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
	         contact, to, cid, strlen(sdp2), sdp2);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "UPDATE"), 200);
	ck_assert_msg(itest_header(msg, "Session-Expires", se, sizeof(se)) != NULL,
	              "no Session-Expires in the 2xx to the UPDATE: %s", msg);
	ck_assert_str_eq(se, "1800;refresher=uac");
	ck_assert_ptr_nonnull(itest_header(msg, "Require", req_h, sizeof(req_h)));
	ck_assert_str_eq(req_h, "timer");
	crypto_line(msg, crypto, sizeof(crypto));
	ck_assert_msg(strcmp(crypto, first_crypto) == 0, "our key changed: %s, was %s", crypto,
	              first_crypto);

	send_in_dialog(c, "BYE", 3, cid, to, contact, "");
	ck_assert_int_eq(invite_final(c, msg), 200);
	assert_end(tfd, "bye");
	itest_kill_child(ap);
	ck_assert_ptr_nonnull(
	        log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len));
	ck_assert_int_eq(count(log, "<<< UPDATE sip:"), 1);
	free(log);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

START_TEST(an_agent_calling_out_below_the_minimum_gets_422_too)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.agent_pin = true,
	                       .sip_extra = "min_session_expires = 10s\n",
	                       .trunk_extra = "target = 127.0.0.1:9\n"};
	char cid[64], sdp[1024], minse[32];
	struct itest t;
	struct itest_conn *c;

	snprintf(cid, sizeof(cid), "seout%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	c = itest_tls_connect_as(&t, "agent");
	itest_send_invite(&t, c, cid, "Session-Expires: 9\r\n", sdp, sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 422);
	ck_assert_ptr_nonnull(itest_header(msg, "Min-SE", minse, sizeof(minse)));
	ck_assert_str_eq(minse, "10");
	itest_assert_no_calls(&t);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* Glare (RFC 3261 s14.2, RFC 3311 s5.2): while sipwarden's refresh re-INVITE (an offer)
 * waits for the trunk's answer, the trunk's own re-INVITE and its UPDATE with SDP get
 * 491 and cross to nobody; the refresh then completes and the call goes on. */
START_TEST(a_reoffer_crossing_our_refresh_reinvite_gets_491)
{
	static char msg[MSG_CAP], req[MSG_CAP], ours[MSG_CAP];
	struct itest_opts o = {.sip_extra = "min_session_expires = 2s\nsession_expires = 4s\n"};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", "--verbose", NULL};
	const char *methods[] = {"INVITE", "UPDATE"};
	char cid[64], sdp[1024], to[512], contact[512], path[256];
	struct itest t;
	struct itest_conn *c;
	size_t len;
	char *log;
	int tfd;
	pid_t ap;

	snprintf(cid, sizeof(cid), "seglare%u@127.0.0.1", (unsigned)getpid());
	itest_start(&t, &o);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	itest_send_invite(&t, c, cid, "Allow: INVITE, ACK, BYE, CANCEL\r\n", sdp, sizeof(sdp));
	ck_assert_int_eq(invite_final(c, msg), 200);
	ack_200(c, msg, cid, to, sizeof(to), contact, sizeof(contact));

	/* sipwarden's refresh, left unanswered for now */
	next_request(c, ours, 6000);
	ck_assert_msg(strncmp(ours, "INVITE ", 7) == 0, "not a re-INVITE: %.60s", ours);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(req, sizeof(req),
		         "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKgl%u\r\n"
		         "Max-Forwards: 70\r\nFrom: <sip:+15550100@127.0.0.1>;tag=rt1\r\nTo: %s\r\n"
		         "Call-ID: %s\r\nCSeq: %u %s\r\n"
		         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
		         "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		         methods[i], contact, i, to, cid, 2 + i, methods[i], strlen(sdp), sdp);
		ck_assert_int_eq(itest_send_str(c, req), 0);
		ck_assert_msg(itest_final_response(c, msg, MSG_CAP, methods[i]) == 491,
		              "%s crossing our refresh: %.60s", methods[i], msg);
		if (i == 0)
			send_in_dialog(c, "ACK", 2, cid, to, contact, "");
	}
	/* the refresh completes */
	respond(c, ours, 200, "", sdp);
	next_request(c, msg, 3000);
	ck_assert_msg(strncmp(msg, "ACK ", 4) == 0, "not an ACK: %.60s", msg);
	send_in_dialog(c, "BYE", 4, cid, to, contact, "");
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "BYE"), 200);
	assert_end(tfd, "bye");
	itest_kill_child(ap);
	/* neither crossed to the agent */
	ck_assert_ptr_nonnull(
	        log = itest_read_file(itest_path(&t, "agent.log", path, sizeof(path)), &len));
	ck_assert_int_eq(count(log, "<<< UPDATE sip:"), 0);
	free(log);
	close(tfd);
	itest_conn_free(c);
	itest_stop(&t);
}
END_TEST

/* A carrier the test plays itself: a TLS listener on 127.0.0.1:port with the trunk's
 * certificate (as itest_carrier()'s swpeer), returning its listening socket. */
static int
carrier_listen(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* sipwarden's connection to the carrier (within 10 s), TLS accepted. */
static struct itest_conn *
carrier_accept(const struct itest *t, int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct itest_conn *c = calloc(1, sizeof(*c));
	char crt[256], key[256];

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(poll(&p, 1, 10000) == 1, "sipwarden did not call the carrier");
	ck_assert_int_ge(c->fd = accept(lfd, NULL, NULL), 0);
	ck_assert_ptr_nonnull(c->ctx = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(
	                         c->ctx, itest_path(t, "trunk.crt", crt, sizeof(crt))),
	                 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c->ctx,
	                                             itest_path(t, "trunk.key", key, sizeof(key)),
	                                             SSL_FILETYPE_PEM),
	                 1);
	ck_assert_ptr_nonnull(c->ssl = SSL_new(c->ctx));
	SSL_set_fd(c->ssl, c->fd);
	ck_assert_int_eq(SSL_accept(c->ssl), 1);
	return c;
}

/* RFC 4028 s7.4 (bis): a carrier answering an agent's call out 422 with a Min-SE above
 * what sipwarden asked for gets the INVITE once more, asking for that Min-SE; a second
 * 422 is final (the agent hears it). */
START_TEST(a_trunks_422_on_a_call_out_is_retried_once_with_its_min_se)
{
	static char msg[MSG_CAP];
	struct itest_opts o = {.agent_pin = true};
	char trunk_extra[64];
	char se[64], minse[64], via1[256], via2[256];
	uint16_t tport = itest_port();
	struct itest t;
	struct itest_conn *k;
	json_t *r;
	int lfd;
	pid_t ap;

	snprintf(trunk_extra, sizeof(trunk_extra), "target = 127.0.0.1:%u\n", tport);
	o.trunk_extra = trunk_extra;
	itest_start(&t, &o);
	lfd = carrier_listen(tport);
	ap = itest_agent_call_spawn(&t, "caller.json", "+15550001",
	                            (const char *const[]){"--calls", "1", "--expect", "422", NULL});
	k = carrier_accept(&t, lfd);

	/* the first INVITE asks for the default (1800 s); 422: at least 3600 */
	next_request(k, msg, 10000);
	ck_assert_msg(strncmp(msg, "INVITE ", 7) == 0, "not an INVITE: %.60s", msg);
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "1800");
	ck_assert_ptr_nonnull(itest_header(msg, "Via", via1, sizeof(via1)));
	respond(k, msg, 422, "Min-SE: 3600\r\n", NULL);
	next_request(k, msg, 5000);
	ck_assert_msg(strncmp(msg, "ACK ", 4) == 0, "not an ACK: %.60s", msg);

	/* once more, asking for that */
	next_request(k, msg, 5000);
	ck_assert_msg(strncmp(msg, "INVITE ", 7) == 0, "the INVITE did not come again: %.60s", msg);
	ck_assert_ptr_nonnull(itest_header(msg, "Session-Expires", se, sizeof(se)));
	ck_assert_str_eq(se, "3600");
	ck_assert_ptr_nonnull(itest_header(msg, "Min-SE", minse, sizeof(minse)));
	ck_assert_str_eq(minse, "3600");
	ck_assert_ptr_nonnull(itest_header(msg, "Via", via2, sizeof(via2)));
	ck_assert_str_ne(via1, via2); /* a new transaction */
	/* a second 422 is not retried: the agent hears it */
	respond(k, msg, 422, "Min-SE: 7200\r\n", NULL);
	next_request(k, msg, 5000);
	ck_assert_msg(strncmp(msg, "ACK ", 4) == 0, "not an ACK: %.60s", msg);
	itest_check_exit(&t, itest_wait_child(ap, 10000), "caller.json.log");
	r = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(r, "code"), 422);
	json_decref(r);
	itest_assert_no_calls(&t);
	itest_conn_free(k);
	close(lfd);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_call_session_timer");
	TCase *tc = tcase_create("session_timer");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_session_expires_below_the_minimum_gets_422_with_min_se);
	tcase_add_test(tc,
	               a_trunk_that_asks_nothing_is_refreshed_with_update_and_a_481_ends_the_call);
	tcase_add_test(tc, without_update_the_refresh_is_a_reinvite_with_the_same_sdp_and_key);
	tcase_add_test(tc, a_trunk_that_stops_refreshing_has_its_call_ended_session_expired);
	tcase_add_test(tc, reinvite_refreshes_on_both_legs_keep_the_media_flowing);
	tcase_add_test(tc, an_agent_calling_out_below_the_minimum_gets_422_too);
	tcase_add_test(tc, a_trunk_refresh_is_answered_on_its_leg_without_a_new_key);
	tcase_add_test(tc, a_relayed_update_with_sdp_gets_session_expires_and_keeps_our_key);
	tcase_add_test(tc, a_trunks_422_on_a_call_out_is_retried_once_with_its_min_se);
	tcase_add_test(tc, a_reoffer_crossing_our_refresh_reinvite_gets_491);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
