/*
 * it_hostile_flood: admission control per source address ([admission], defaults only, so
 * the same config runs against a daemon without it). The trunk is 127.0.0.1/32 (its
 * calls come from there too); strangers connect from other 127.0.0.x addresses. A
 * stranger holds at most 32 connections and strangers together leave a quarter of
 * max_connections to trunks and agents, so a connection flood never locks the trunk out
 * (it still places a call); a stranger that sends no complete request
 * within 2 s is closed (CRLF keep-alives do not count); a stranger over its request
 * budget is banned (security.source_banned) and its next connection is closed at
 * accept; a known scanner (User-Agent) or an OPTIONS/REGISTER sweep from a stranger
 * gets one 403, then silence and a ban. The trunk itself is never banned: over its own
 * (higher) budget its new requests get 503 with Retry-After. The limits follow a reload.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "itest.h"

#define TRUNK     "127.0.0.1"
#define STRANGER  "127.0.0.77"
#define STRANGER2 "127.0.0.78"

/* max_connections 64 (the harness default), trunk = 127.0.0.1 only. */
static void
start(struct itest *t)
{
	struct itest_opts o = {.trunk_source = TRUNK "/32", .handshake_timeout = "10s"};

	itest_start(t, &o);
}

/* A request `method` with an optional User-Agent; returns out. */
static char *
request_ua(char *out, size_t cap, const char *method, const char *callid, unsigned cseq,
           const char *ua)
{
	char ual[128] = "";

	if (ua != NULL)
		snprintf(ual, sizeof(ual), "User-Agent: %s\r\n", ua);
	snprintf(out, cap,
	         "%s sip:sipwarden@127.0.0.1 SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s%u\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:scan@127.0.0.1>;tag=s%u\r\n"
	         "To: <sip:100@127.0.0.1>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: %u %s\r\n"
	         "%s"
	         "Content-Length: 0\r\n\r\n",
	         method, callid, cseq, cseq, callid, cseq, method, ual);
	return out;
}

/* The status of the answer to one request on c (-1: none within timeout_ms, 0: closed). */
static int
ask(struct itest_conn *c, const char *req, int timeout_ms)
{
	char resp[8192];
	int n;

	if (itest_send_str(c, req) != 0)
		return 0;
	n = itest_recv_msg(c, resp, sizeof(resp), timeout_ms);
	return n > 0 ? itest_status(resp) : n;
}

/* The trunk can connect over TLS and gets 200 to OPTIONS. */
static void
assert_trunk_served(const struct itest *t, const char *why)
{
	struct itest_conn *c = itest_tls_connect_from(t, TRUNK, 0, 0, NULL);
	char req[1024];

	ck_assert_msg(c != NULL, "trunk TLS connection failed (%s)", why);
	ck_assert_int_eq(ask(c, itest_options(req, sizeof(req), "trunk-ok", 1), 5000), 200);
	itest_conn_free(c);
}

/* A TLS connection from `src` is closed at accept (no handshake). */
static void
assert_refused(const struct itest *t, const char *src)
{
	struct itest_conn *c = itest_tls_connect_from(t, src, 0, 0, NULL);

	ck_assert_msg(c == NULL, "a connection from banned %s completed its handshake", src);
}

/* The trunk connects over TLS (it was not banned). */
static void
assert_trunk_connects(const struct itest *t)
{
	struct itest_conn *c = itest_tls_connect_from(t, TRUNK, 0, 0, NULL);

	ck_assert_msg(c != NULL, "the trunk was refused");
	itest_conn_free(c);
}

/*
 * Of the n connections in c[], how many the daemon closed within `ms` (each is checked
 * once: a closed one is not read again).
 */
static int
count_closed(struct itest_conn **c, int n, int ms, int want)
{
	int64_t end = itest_now_ms() + ms;
	bool closed[128] = {false};
	int count = 0;

	ck_assert_int_le(n, 128);
	while (count < want && itest_now_ms() < end) {
		struct pollfd p[128];
		int np = 0, map[128];

		for (int i = 0; i < n; i++)
			if (!closed[i]) {
				p[np].fd = c[i]->fd;
				p[np].events = POLLIN;
				map[np++] = i;
			}
		if (poll(p, (nfds_t)np, 50) <= 0)
			continue;
		for (int k = 0; k < np; k++) {
			char b[64];
			ssize_t r;
			if (p[k].revents == 0)
				continue;
			r = recv(p[k].fd, b, sizeof(b), 0);
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				closed[map[k]] = true;
				count++;
			}
		}
	}
	return count;
}

/* The first security.source_banned line of the telemetry stream fd (within 5 s). */
static json_t *
wait_ban(int fd, char *buf, size_t cap)
{
	itest_telemetry_read(fd, buf, cap, "security.source_banned", 5000);
	return itest_event(buf, "security.source_banned");
}

static void
assert_ban(json_t *ev, const char *source, const char *reason, json_int_t ms)
{
	ck_assert_msg(ev != NULL, "no security.source_banned event");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "source")), source);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), reason);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "duration_ms")), ms);
	json_decref(ev);
}

/* The control socket's stats: admission.<key>. */
static json_int_t
admission_stat(const struct itest *t, const char *key)
{
	return itest_stat(t, "admission", key);
}

START_TEST(stranger_connection_flood_leaves_room_for_the_trunk)
{
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "1", NULL};
	struct itest_conn *a[40], *b[40], *tc[8];
	struct itest t;
	int closed_a, closed_b;
	json_t *call;
	pid_t ap, cp;

	start(&t);
	ap = itest_agent(&t, agent_args);
	/* 80 idle TCP connections from two strangers, more than max_connections (64). */
	for (int i = 0; i < 40; i++) {
		a[i] = itest_tcp_connect_from(&t, STRANGER);
		ck_assert_ptr_nonnull(a[i]);
	}
	for (int i = 0; i < 40; i++) {
		b[i] = itest_tcp_connect_from(&t, STRANGER2);
		ck_assert_ptr_nonnull(b[i]);
	}
	/* The trunk still gets in, several times over, and places a call. */
	assert_trunk_served(&t, "strangers hold their whole share");
	cp = itest_caller_spawn(&t, "caller.json", call_args);
	for (int i = 0; i < 8; i++) {
		tc[i] = itest_tls_connect_from(&t, TRUNK, 0, 0, NULL);
		ck_assert_msg(tc[i] != NULL, "trunk connection %d refused", i);
	}
	/* 32 per stranger, 48 (64 less the quarter reserved) for all strangers together. */
	closed_a = count_closed(a, 40, 1000, 8);
	closed_b = count_closed(b, 40, 1000, 24);
	ck_assert_int_eq(closed_a, 8);
	ck_assert_int_eq(closed_b, 24);
	ck_assert_int_eq(admission_stat(&t, "refused_source"), 8);
	ck_assert_int_eq(admission_stat(&t, "refused_strangers"), 24);
	itest_check_exit(&t, itest_wait_child(cp, 30000), "caller.json");
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	call = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(call, "code"), 200);
	ck_assert_int_eq(itest_num(call, "bad"), 0);
	json_decref(call);
	for (int i = 0; i < 40; i++) {
		itest_conn_free(a[i]);
		itest_conn_free(b[i]);
	}
	for (int i = 0; i < 8; i++)
		itest_conn_free(tc[i]);
	assert_trunk_served(&t, "after the flood");
	itest_stop(&t);
}
END_TEST

START_TEST(stranger_silent_past_the_first_request_deadline_is_closed)
{
	struct itest_conn *s, *ok, *tr;
	char req[1024], resp[4096];
	struct itest t;
	int64_t t0, closed_at = -1;

	start(&t);
	t0 = itest_now_ms();
	s = itest_tls_connect_from(&t, STRANGER, 0, 0, NULL);
	ok = itest_tls_connect_from(&t, STRANGER2, 0, 0, NULL);
	tr = itest_tls_connect_from(&t, TRUNK, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(ok);
	ck_assert_ptr_nonnull(tr);
	/* The second stranger sends a complete request in time: it may stay. */
	ck_assert_int_eq(ask(ok, itest_request(req, sizeof(req), "BYE", "in-time", 1), 3000), 481);
	/* The first only sends CRLF keep-alives (answered, but they are not a request). */
	while (itest_now_ms() - t0 < 6000) {
		int r;
		if (itest_send_str(s, "\r\n\r\n") != 0) {
			closed_at = itest_now_ms();
			break;
		}
		if ((r = itest_recv_msg(s, resp, sizeof(resp), 300)) == 0) {
			closed_at = itest_now_ms();
			break;
		}
		ck_assert_int_lt(r, 1); /* never a SIP message */
		(void)itest_send_str(tr, "\r\n\r\n");
	}
	ck_assert_msg(closed_at > 0, "stranger sending only keep-alives still open after 6 s");
	ck_assert_msg(closed_at - t0 >= 1500 && closed_at - t0 <= 4000,
	              "closed %lld ms after connecting, want about 2000",
	              (long long)(closed_at - t0));
	/* The trunk, idle as long, and the stranger that asked in time are still served. */
	ck_assert_int_eq(ask(tr, itest_options(req, sizeof(req), "trunk-idle", 2), 3000), 200);
	ck_assert_int_eq(ask(ok, itest_request(req, sizeof(req), "BYE", "in-time", 2), 3000), 481);
	ck_assert_int_eq(admission_stat(&t, "first_request_timeout"), 1);
	itest_conn_free(s);
	itest_conn_free(ok);
	itest_conn_free(tr);
	itest_stop(&t);
}
END_TEST

START_TEST(stranger_over_its_request_budget_is_banned_and_refused_at_accept)
{
	static char tel[65536] = "";
	struct itest_conn *s, *other;
	char req[512];
	struct itest t;
	int answered = 0, fd, r = 0;
	int64_t t0;

	start(&t);
	fd = itest_telemetry_connect(&t);
	s = itest_tls_connect_from(&t, STRANGER, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	/* Requests as fast as they are answered: the budget is 40 at once, then 20 a second
	 * (a few more while this loop runs). The one over budget is not answered. */
	t0 = itest_now_ms();
	for (unsigned i = 1; i <= 100; i++) {
		r = ask(s, itest_request(req, sizeof(req), "BYE", "budget", i), 3000);
		if (r != 481)
			break;
		answered++;
	}
	ck_assert_msg(r == 0, "the flooding stranger was not disconnected (last answer %d)", r);
	ck_assert_msg(answered >= 40 && answered <= 40 + (itest_now_ms() - t0) / 50 + 1,
	              "%d requests answered in %lld ms", answered,
	              (long long)(itest_now_ms() - t0));
	itest_conn_free(s);
	assert_ban(wait_ban(fd, tel, sizeof(tel)), STRANGER, "request_rate", 60000);
	assert_refused(&t, STRANGER);
	/* The ban is the stranger's alone. */
	other = itest_tls_connect_from(&t, STRANGER2, 0, 0, NULL);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(ask(other, itest_request(req, sizeof(req), "BYE", "other", 1), 3000), 481);
	itest_conn_free(other);
	assert_trunk_served(&t, "after a ban");
	ck_assert_int_eq(admission_stat(&t, "bans"), 1);
	ck_assert_int_ge(admission_stat(&t, "refused_banned"), 1);
	close(fd);
	itest_stop(&t);
}
END_TEST

START_TEST(scanner_gets_one_403_then_silence_and_a_ban)
{
	static char tel[65536] = "";
	struct itest_conn *s, *tr;
	char req[1024], seen[4096] = "";
	struct itest t;
	json_t *ev;
	int fd;

	start(&t);
	fd = itest_telemetry_connect(&t);
	/* A known scanner's User-Agent (any case) from a stranger. */
	s = itest_tls_connect_from(&t, STRANGER, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(
	        ask(s, request_ua(req, sizeof(req), "OPTIONS", "scan1", 1, "Friendly-Scanner"),
	            3000),
	        403);
	(void)itest_send_str(
	        s, request_ua(req, sizeof(req), "OPTIONS", "scan1", 2, "friendly-scanner"));
	ck_assert_int_eq(itest_wait_closed(s, 3000, seen, sizeof(seen)), 0);
	ck_assert_msg(strstr(seen, "SIP/2.0") == NULL, "answered after the first 403: %s", seen);
	itest_conn_free(s);
	assert_ban(wait_ban(fd, tel, sizeof(tel)), STRANGER, "scanner", 3600000);
	assert_refused(&t, STRANGER);

	/* A REGISTER sweep from another stranger, no User-Agent at all. */
	tel[0] = '\0';
	s = itest_tls_connect_from(&t, STRANGER2, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(ask(s, request_ua(req, sizeof(req), "REGISTER", "sweep1", 1, NULL), 3000),
	                 403);
	ck_assert_int_eq(itest_wait_closed(s, 3000, NULL, 0), 0);
	itest_conn_free(s);
	ev = wait_ban(fd, tel, sizeof(tel));
	assert_ban(ev, STRANGER2, "sweep", 3600000);
	assert_refused(&t, STRANGER2);

	/* The trunk is never banned, whatever its User-Agent says. */
	tr = itest_tls_connect_from(&t, TRUNK, 0, 0, NULL);
	ck_assert_ptr_nonnull(tr);
	ck_assert_int_eq(
	        ask(tr, request_ua(req, sizeof(req), "OPTIONS", "t1", 1, "sipvicious"), 3000), 200);
	ck_assert_int_eq(
	        ask(tr, request_ua(req, sizeof(req), "OPTIONS", "t1", 2, "sipvicious"), 3000), 200);
	itest_conn_free(tr);
	assert_trunk_served(&t, "after scanner bans");
	ck_assert_int_eq(admission_stat(&t, "bans"), 2);
	close(fd);
	itest_stop(&t);
}
END_TEST

START_TEST(trunk_over_its_budget_gets_503_and_is_never_banned)
{
	struct itest_opts o = {.trunk_source = TRUNK "/32",
	                       .extra = "[admission]\nknown_request_rate = 1\n"
	                                "known_request_burst = 5\n"};
	static char tel[65536] = "";
	struct itest_conn *c;
	char req[1024], resp[4096], val[64];
	struct itest t;
	json_t *ev;
	int fd, ok = 0, shed = 0;

	itest_start(&t, &o);
	fd = itest_telemetry_connect(&t);
	c = itest_tls_connect_from(&t, TRUNK, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);
	for (unsigned i = 1; i <= 10; i++) {
		ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "shed", i)), 0);
		ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 3000), 0);
		if (itest_status(resp) == 200)
			ok++;
		else {
			ck_assert_int_eq(itest_status(resp), 503);
			ck_assert_ptr_nonnull(itest_header(resp, "Retry-After", val, sizeof(val)));
			shed++;
		}
	}
	ck_assert_int_ge(ok, 5);
	ck_assert_int_le(ok, 7);
	/* What ends work still passes; the trunk is not banned and connects again. */
	ck_assert_int_eq(ask(c, itest_request(req, sizeof(req), "BYE", "shed-bye", 1), 3000), 481);
	itest_conn_free(c);
	assert_trunk_connects(&t);
	itest_telemetry_read(fd, tel, sizeof(tel), "security.flood", 5000);
	ev = itest_event(tel, "security.flood");
	ck_assert_msg(ev != NULL, "no security.flood event");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "source")), TRUNK);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "requests");
	json_decref(ev);
	ck_assert_ptr_null(strstr(tel, "security.source_banned"));
	ck_assert_int_eq(admission_stat(&t, "shed"), shed);
	ck_assert_int_eq(admission_stat(&t, "bans"), 0);
	close(fd);
	itest_stop(&t);
}
END_TEST

/* A TLS connection from `src` presenting DIR/agent.crt as client certificate. */
static struct itest_conn *
connect_as_agent(const struct itest *t, const char *src)
{
	struct itest_conn *c = itest_tcp_connect_from(t, src);
	int64_t end = itest_now_ms() + 5000;
	char crt[256], key[256];
	int r;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(c->ctx = SSL_CTX_new(TLS_client_method()));
	ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(
	                         c->ctx, itest_path(t, "agent.crt", crt, sizeof(crt))),
	                 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c->ctx,
	                                             itest_path(t, "agent.key", key, sizeof(key)),
	                                             SSL_FILETYPE_PEM),
	                 1);
	ck_assert_ptr_nonnull(c->ssl = SSL_new(c->ctx));
	SSL_set_fd(c->ssl, c->fd);
	while ((r = SSL_connect(c->ssl)) != 1) {
		int e = SSL_get_error(c->ssl, r);
		struct pollfd p = {.fd = c->fd,
		                   .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
		ck_assert_msg(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE,
		              "agent handshake failed");
		ck_assert_int_gt(poll(&p, 1, (int)(end - itest_now_ms())), 0);
	}
	return c;
}

START_TEST(agent_with_pinned_certificate_from_an_unlisted_address_is_not_a_stranger)
{
	struct itest_opts o = {.trunk_source = TRUNK "/32", .agent_pin = true};
	struct itest_conn *c;
	char req[1024];
	struct itest t;

	itest_start(&t, &o);
	/* Its address is not the configured one: the pinned certificate identifies it. */
	c = connect_as_agent(&t, STRANGER);
	usleep(2500 * 1000); /* past first_request_timeout */
	ck_assert_int_eq(ask(c, itest_options(req, sizeof(req), "agent-keepalive", 1), 3000), 200);
	ck_assert_int_eq(ask(c, itest_options(req, sizeof(req), "agent-keepalive", 2), 3000), 200);
	itest_conn_free(c);
	ck_assert_int_eq(admission_stat(&t, "bans"), 0);
	ck_assert_int_eq(admission_stat(&t, "first_request_timeout"), 0);
	itest_stop(&t);
}
END_TEST

START_TEST(admission_limits_follow_a_reload)
{
	struct itest_opts o = {.trunk_source = TRUNK "/32",
	                       .handshake_timeout = "10s",
	                       .extra = "[admission]\nunknown_max_connections = 2\n"
	                                "first_request_timeout = 10s\n"};
	struct itest_conn *c[3];
	struct itest t;

	start(&t);
	o.trunk_source = TRUNK "/32";
	itest_write_conf(&t, &o);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	for (int i = 0; i < 3; i++) {
		c[i] = itest_tcp_connect_from(&t, STRANGER);
		ck_assert_ptr_nonnull(c[i]);
	}
	ck_assert_int_eq(count_closed(c, 3, 1000, 1), 1);
	ck_assert_int_eq(admission_stat(&t, "refused_source"), 1);
	for (int i = 0; i < 3; i++)
		itest_conn_free(c[i]);
	assert_trunk_served(&t, "after reload");
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_hostile_flood");
	TCase *tc = tcase_create("admission");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stranger_connection_flood_leaves_room_for_the_trunk);
	tcase_add_test(tc, stranger_silent_past_the_first_request_deadline_is_closed);
	tcase_add_test(tc, stranger_over_its_request_budget_is_banned_and_refused_at_accept);
	tcase_add_test(tc, scanner_gets_one_403_then_silence_and_a_ban);
	tcase_add_test(tc, trunk_over_its_budget_gets_503_and_is_never_banned);
	tcase_add_test(tc,
	               agent_with_pinned_certificate_from_an_unlisted_address_is_not_a_stranger);
	tcase_add_test(tc, admission_limits_follow_a_reload);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
