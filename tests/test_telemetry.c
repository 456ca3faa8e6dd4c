/*
 * test_telemetry.c: the telemetry stream: schema, fan-out, backpressure, redaction,
 * socket modes, counters and the MOS estimate. Uses a private event_base and sockets in
 * a temporary directory.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_out.h"
#include "telemetry.h"
#include "usock.h"

static char dir[64];
static char path[128];
static struct event_base *base;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sw-tel-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/telemetry.sock", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
}

static void
teardown(void)
{
	event_base_free(base);
	unlink(path);
	rmdir(dir);
}

static struct telemetry *
start(unsigned mode, unsigned queue)
{
	char err[256] = "";
	struct telemetry *t = telemetry_new(base, path, mode, NULL, queue, err, sizeof(err));

	ck_assert_msg(t != NULL, "telemetry_new: %s", err);
	return t;
}

/* Connect a subscriber and let the server accept it. */
static int
subscribe(struct telemetry *t)
{
	struct telemetry_stats st, st2;
	int fd = usock_connect(path);

	ck_assert_int_ge(fd, 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	telemetry_stats(t, &st);
	for (int i = 0; i < 1000; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		telemetry_stats(t, &st2);
		if (st2.subscribers > st.subscribers)
			return fd;
		usleep(1000);
	}
	ck_abort_msg("subscriber not accepted");
	return -1;
}

/* Line reader on a non-blocking fd that keeps the server's loop turning. */
struct reader {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static char *
read_line(struct reader *r, int timeout_ms)
{
	for (int i = 0; i <= timeout_ms; i++) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - r->buf) + 1;
			char *line = strndup(r->buf, n);
			memmove(r->buf, r->buf + n, r->len - n);
			r->len -= n;
			return line;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			i--;
			continue;
		}
		if (n == 0 || i == timeout_ms)
			return NULL;
		struct pollfd p = {r->fd, POLLIN, 0};
		poll(&p, 1, 1);
	}
	return NULL;
}

static json_t *
read_event(struct reader *r)
{
	char *line = read_line(r, 2000);
	json_error_t e;
	json_t *j;

	ck_assert_msg(line != NULL, "no event line");
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	j = json_loads(line, 0, &e);
	ck_assert_msg(j != NULL, "bad JSON: %s", line);
	free(line);
	return j;
}

static void
sin_make(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

#define EMIT(expr)                                                                                 \
	do {                                                                                       \
		ck_assert_int_eq((expr), 0);                                                       \
		n++;                                                                               \
	} while (0)

/* Emit one of every event the builders can make. Returns how many. */
static int
emit_all(struct telemetry *t)
{
	static const uint8_t fp[32] = {0xab, 0xcd, 1, 2, 3};
	struct sockaddr_in src, agent, latched;
	struct telemetry_leg tl, al, hl;
	int n = 0;

	sin_make(&src, "192.0.2.10", 5061);
	sin_make(&agent, "127.0.0.1", 5071);
	sin_make(&latched, "192.0.2.10", 31000);
	memset(&tl, 0, sizeof(tl));
	tl.suite = "AES_CM_128_HMAC_SHA1_80";
	tl.latched = (struct sockaddr *)&latched;
	tl.first_packet_ms = 40;
	tl.signalling = (struct telemetry_tls){"TLSv1.3", "TLS_AES_256_GCM_SHA384", fp,
	                                       (struct sockaddr *)&src};
	tl.in = (struct telemetry_dir){1500, 258000, 15, 3.5, 0, {2, 1, 0, 7, 4}, 16, false};
	tl.out = (struct telemetry_dir){1490, 256280, -1, 0, 0, {0, 0, 0, 0, 0}, 2, true};
	al = tl;
	al.suite = "AEAD_AES_256_GCM";
	al.latched = NULL;
	al.first_packet_ms = -1;
	al.signalling.peer_sha256 = NULL;
	al.signalling.peer = (struct sockaddr *)&agent;
	hl = al; /* the person a bridge transfer called: no media counted here */
	memset(&hl.in, 0, sizeof(hl.in));
	memset(&hl.out, 0, sizeof(hl.out));
	hl.in.lost = hl.out.lost = -1;

	EMIT(telemetry_daemon_start(t));
	EMIT(telemetry_config_loaded(t, "/etc/sipwarden/sipwarden.conf", fp));
	EMIT(telemetry_call_start(t, "c1", "pbx", "1001", "2000", &tl.signalling));
	EMIT(telemetry_call_answer(t, "c1", "agent-1", 180, tl.suite, al.suite));
	EMIT(telemetry_call_interim(t, "c1", 10000, &tl, &al));
	EMIT(telemetry_call_interim(t, "c1", 10000, &tl, NULL));
	/* after a bridge transfer: legs.human too (call_end_dir() checks one without) */
	struct telemetry_call_end e = {"c1",  "completed", "trunk", "bye", 200,
	                               30000, "agent-1",   &tl,     &al,   &hl};
	EMIT(telemetry_call_end(t, &e));
	EMIT(telemetry_security(t, TELEMETRY_SEC_OFFER_REFUSED, NULL, (struct sockaddr *)&src,
	                        "no_srtp", "RTP/AVP", 488));
	EMIT(telemetry_security(t, TELEMETRY_SEC_TLS_HANDSHAKE_FAILED, NULL,
	                        (struct sockaddr *)&src, "handshake", NULL, 0));
	EMIT(telemetry_security(t, TELEMETRY_SEC_PEER_UNKNOWN, NULL, (struct sockaddr *)&src,
	                        "source_not_allowed", NULL, 0));
	EMIT(telemetry_security(t, TELEMETRY_SEC_DOWNGRADE_REFUSED, "c1", (struct sockaddr *)&src,
	                        "plain_rtp", NULL, 488));
	EMIT(telemetry_security(t, TELEMETRY_SEC_LIMIT_REACHED, NULL, NULL, "max_calls", NULL,
	                        503));
	EMIT(telemetry_security(t, TELEMETRY_SEC_INPUT_REFUSED, NULL, (struct sockaddr *)&src,
	                        "from_user_invalid", "From user part is not valid", 400));
	EMIT(telemetry_flood(t, "192.0.2.66", "connections", "32 connections open"));
	EMIT(telemetry_source_banned(t, "2001:db8:1:2::/64", "scanner", 3600000));
	EMIT(telemetry_security(t, TELEMETRY_SEC_CLUSTER_DEGRADED, NULL, NULL, "store_unreachable",
	                        "connection lost", 0));
	{
		struct telemetry_transfer x = {"c1",          "agent-1", "sales", "refer",
		                               "transferred", 200,       6120};
		EMIT(telemetry_call_transfer(t, &x));
		EMIT(telemetry_transfer_refused(t, "c1", (struct sockaddr *)&src, "agent-1",
		                                "not_allowed", "<sip:+19005550100@x.example>",
		                                403));
	}
	EMIT(telemetry_agent(t, "agent-1", true, (struct sockaddr *)&agent, NULL));
	EMIT(telemetry_agent(t, "agent-1", false, (struct sockaddr *)&agent, "options_timeout"));
	EMIT(telemetry_daemon_stop(t, "signal"));
	{
		const char *keys[] = {"[media] address", "[agent b] added"};
		EMIT(telemetry_config_refused(t, "/etc/sipwarden/sipwarden.conf", "restart_needed",
		                              "[media] address, [agent b] added", keys, 2));
		EMIT(telemetry_config_refused(t, "/etc/sipwarden/sipwarden.conf", "invalid",
		                              "sipwarden.conf:3: unknown key", NULL, 0));
	}
	return n;
}

/* [cluster]: with an instance name set, every event carries it, and still validates. */
START_TEST(telemetry_instance_name_is_stamped_on_every_event)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	json_t *ev;

	r->fd = subscribe(t);
	ck_assert_int_eq(telemetry_daemon_start(t), 0);
	ck_assert_int_eq(telemetry_set_instance(t, "sbc-a"), 0);
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_LIMIT_REACHED, NULL, NULL, "max_calls",
	                                    NULL, 503),
	                 0);
	ev = read_event(r);
	ck_assert_ptr_null(json_object_get(ev, "instance"));
	json_decref(ev);
	ev = read_event(r);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "instance")), "sbc-a");
	ck_assert_int_eq(telemetry_validate(ev, NULL, 0), 0);
	json_decref(ev);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_every_emitted_event_validates_when_read_back)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	const char *const *names = telemetry_event_names();
	bool seen[32] = {false};
	int n;

	r->fd = subscribe(t);
	n = emit_all(t);
	for (int i = 0; i < n; i++) {
		char err[256];
		json_t *ev = read_event(r);
		const char *name = json_string_value(json_object_get(ev, "event"));
		ck_assert_msg(telemetry_validate(ev, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "v")), 1);
		for (int k = 0; names[k] != NULL; k++)
			if (strcmp(names[k], name) == 0)
				seen[k] = true;
		json_decref(ev);
	}
	/* Every schema event except telemetry.dropped (its own test) was produced. */
	for (int k = 0; names[k] != NULL; k++)
		ck_assert_msg(seen[k] || strcmp(names[k], "telemetry.dropped") == 0,
		              "no builder produced %s", names[k]);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* security.transfer_refused carries the agent's Refer-To escaped for terminals and cut to
 * TELEMETRY_REQUESTED_MAX bytes: an escape sequence or a line break never arrives raw. */
START_TEST(telemetry_transfer_refused_escapes_and_bounds_the_requested_uri)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	char req[1200];
	const char *got;
	json_t *ev;

	memset(req, 'a', sizeof(req) - 1);
	req[sizeof(req) - 1] = '\0';
	{
		static const char head[] = "\x1b]0;owned\x07<sip:x\r\nX-Evil: 1@y>";
		memcpy(req, head, sizeof(head) - 1);
	}
	r->fd = subscribe(t);
	ck_assert_int_eq(
	        telemetry_transfer_refused(t, "c1", NULL, NULL, "refer_to_invalid", req, 400), 0);
	ev = read_event(r);
	got = json_string_value(json_object_get(ev, "requested"));
	ck_assert_ptr_nonnull(got);
	for (const char *p = got; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte in %s", got);
	ck_assert_ptr_nonnull(strstr(got, "\\x1b]0;owned"));
	ck_assert_ptr_nonnull(strstr(got, "\\r\\nX-Evil"));
	ck_assert_uint_le(strlen(got), 256 + 3 * 6);
	ck_assert(json_is_null(json_object_get(ev, "agent")));
	json_decref(ev);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_call_end_carries_legs_mos_and_posture)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	json_t *ev = NULL, *in;

	r->fd = subscribe(t);
	emit_all(t);
	for (int i = 0; i < 7; i++) {
		json_decref(ev);
		ev = read_event(r);
	}
	ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "call.end");
	in = json_object_get(json_object_get(json_object_get(ev, "legs"), "trunk"), "in");
	ck_assert_int_eq(json_integer_value(json_object_get(in, "packets")), 1500);
	ck_assert_double_eq_tol(json_real_value(json_object_get(in, "loss")), 15.0 / 1515, 1e-5);
	ck_assert(json_real_value(json_object_get(in, "mos")) > 3.5);
	ck_assert(json_real_value(json_object_get(in, "mos")) < 4.4);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(in, "drops"), "unknown_source")),
	        7);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(in, "drops"), "ssrc_limit")), 4);
	/* DTMF: how many key presses per direction, never which keys */
	ck_assert_int_eq(json_integer_value(json_object_get(in, "dtmf_events")), 16);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(json_object_get(json_object_get(ev, "legs"), "trunk"),
	                                "out"),
	                "dtmf_events")),
	        2);
	{
		struct rtp_stats rs;
		struct telemetry_dir d;
		rtp_stats_init(&rs, 0);
		rs.dtmf.events = 5;
		telemetry_dir_from_rx(&rs, &d);
		ck_assert_uint_eq(d.dtmf_events, 5);
		telemetry_dir_from_tx(&rs, &d);
		ck_assert_uint_eq(d.dtmf_events, 5);
	}
	ck_assert(json_is_null(json_object_get(
	        json_object_get(json_object_get(json_object_get(ev, "legs"), "trunk"), "out"),
	        "mos")));
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(json_object_get(ev, "legs"), "trunk"),
	                                "signalling"),
	                "peer_cert_sha256")),
	        "abcd010203000000000000000000000000000000000000000000000000000000");
	json_decref(ev);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* The direction object `dir` ("in"/"out") of the trunk leg of a call.end built from tl. */
static json_t *
call_end_dir(struct telemetry *t, struct reader *r, const struct telemetry_leg *tl,
             const char *which)
{
	struct telemetry_call_end e = {"c1", "timeout", "sipwarden", "media_timeout",
	                               200,  30000,     "agent-1",   tl,
	                               NULL, NULL};
	json_t *ev, *d;

	ck_assert_int_eq(telemetry_call_end(t, &e), 0);
	ev = read_event(r);
	ck_assert_msg(telemetry_validate(ev, NULL, 0) == 0, "call.end does not validate");
	d = json_object_get(json_object_get(json_object_get(ev, "legs"), "trunk"), which);
	json_incref(d);
	json_decref(ev);
	return d;
}

/*
 * A dead-air call (the agent answered and sent nothing) must not look perfect: a
 * direction without packets has lost, loss, jitter_ms and mos null, not 0, 0 and 4.4.
 */
START_TEST(telemetry_direction_without_packets_says_null)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	struct telemetry_leg tl;
	struct rtp_stats rx;
	json_t *in;

	r->fd = subscribe(t);
	memset(&tl, 0, sizeof(tl));
	tl.first_packet_ms = -1;
	/* what the daemon passed for a received direction without packets */
	tl.in = (struct telemetry_dir){0, 0, 0, 0, 0, {0, 0, 0, 0, 0}, 0, false};
	tl.out = (struct telemetry_dir){0, 0, -1, 0, 0, {0, 0, 0, 0, 0}, 0, true};
	in = call_end_dir(t, r, &tl, "in");
	ck_assert_int_eq(json_integer_value(json_object_get(in, "packets")), 0);
	ck_assert_msg(json_is_null(json_object_get(in, "mos")), "mos of a silent direction: %f",
	              json_real_value(json_object_get(in, "mos")));
	ck_assert(json_is_null(json_object_get(in, "loss")));
	ck_assert(json_is_null(json_object_get(in, "jitter_ms")));
	ck_assert(json_is_null(json_object_get(in, "lost")));
	json_decref(in);

	/* and from the relay's counters: a fresh receive direction is unknown too */
	rtp_stats_init(&rx, 0);
	telemetry_dir_from_rx(&rx, &tl.in);
	ck_assert_int_lt(tl.in.lost, 0);
	in = call_end_dir(t, r, &tl, "in");
	ck_assert(json_is_null(json_object_get(in, "mos")));
	json_decref(in);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* The "out" direction says what the peer's receiver reports say, RTT included. */
START_TEST(telemetry_out_direction_comes_from_receiver_reports)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	struct telemetry_leg tl;
	struct rtp_stats tx;
	struct rtcp_report rb = {0};
	json_t *out;

	r->fd = subscribe(t);
	memset(&tl, 0, sizeof(tl));
	tl.first_packet_ms = -1;
	rtp_stats_init(&tx, 8000);
	for (int i = 0; i < 1000; i++)
		rtp_stats_sent(&tx, 77, 172, 1);
	/* sent, but no report yet: unknown */
	telemetry_dir_from_tx(&tx, &tl.out);
	out = call_end_dir(t, r, &tl, "out");
	ck_assert_int_eq(json_integer_value(json_object_get(out, "packets")), 1000);
	ck_assert(json_is_null(json_object_get(out, "loss")));
	ck_assert(json_is_null(json_object_get(out, "mos")));
	ck_assert(json_is_null(json_object_get(out, "rtt_ms")));
	json_decref(out);

	rb.ssrc = 77;
	rb.lost = 20;
	rb.jitter = 240; /* 30 ms */
	rb.lsr = 0x00010000;
	rb.dlsr = 0;
	rtp_stats_sr_sent(&tx, 0x00010000, 1000000000ull);
	ck_assert_int_eq(rtp_stats_report(&tx, &rb, 1400000000ull), 0); /* 400 ms RTT */
	telemetry_dir_from_tx(&tx, &tl.out);
	out = call_end_dir(t, r, &tl, "out");
	ck_assert_int_eq(json_integer_value(json_object_get(out, "lost")), 20);
	ck_assert_double_eq_tol(json_real_value(json_object_get(out, "loss")), 0.02, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_object_get(out, "jitter_ms")), 30.0, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_object_get(out, "rtt_ms")), 400.0, 1e-9);
	/* MOS uses that RTT: lower than with the same loss and jitter and no delay */
	ck_assert_double_eq_tol(json_real_value(json_object_get(out, "mos")),
	                        telemetry_mos(0.02, 30.0, 400.0, TELEMETRY_CODEC_G711), 0.005);
	ck_assert(json_real_value(json_object_get(out, "mos")) <
	          telemetry_mos(0.02, 30.0, 0, TELEMETRY_CODEC_G711) - 0.1);
	json_decref(out);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_validate_refuses_bad_events)
{
	char ts[JSON_OUT_TS_LEN], err[256];
	json_t *ok, *bad;

	json_out_timestamp(ts, NULL);
	ok = json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "ts", ts, "event", "daemon.stop", "reason",
	               "x");
	ck_assert_int_eq(telemetry_validate(ok, err, sizeof(err)), 0);

	bad = json_deep_copy(ok);
	json_object_del(bad, "reason");
	ck_assert_int_eq(telemetry_validate(bad, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "reason"));
	json_decref(bad);

	bad = json_deep_copy(ok);
	json_object_set_new(bad, "reason", json_integer(3));
	ck_assert_int_eq(telemetry_validate(bad, err, sizeof(err)), -EINVAL);
	json_decref(bad);

	bad = json_deep_copy(ok);
	json_object_set_new(bad, "srtp_key", json_string("x"));
	ck_assert_int_eq(telemetry_validate(bad, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown field"));
	json_decref(bad);

	bad = json_deep_copy(ok);
	json_object_set_new(bad, "event", json_string("daemon.exploded"));
	ck_assert_int_eq(telemetry_validate(bad, err, sizeof(err)), -EINVAL);
	json_decref(bad);

	bad = json_deep_copy(ok);
	json_object_set_new(bad, "ts", json_string("2026-11-28 04:00:00"));
	ck_assert_int_eq(telemetry_validate(bad, NULL, 0), -EINVAL);
	json_decref(bad);

	bad = json_deep_copy(ok);
	json_object_set_new(bad, "v", json_integer(2));
	ck_assert_int_eq(telemetry_validate(bad, NULL, 0), -EINVAL);
	json_decref(bad);
	json_decref(ok);

	/* A ban says how long it lasts. */
	ok = json_pack("{s:i,s:s,s:s,s:n,s:s,s:s,s:i}", "v", 1, "ts", ts, "event",
	               "security.source_banned", "call", "source", "192.0.2.66", "reason",
	               "scanner", "duration_ms", 60000);
	ck_assert_int_eq(telemetry_validate(ok, err, sizeof(err)), 0);
	bad = json_deep_copy(ok);
	json_object_del(bad, "duration_ms");
	ck_assert_int_eq(telemetry_validate(bad, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "duration_ms"));
	json_decref(bad);
	json_decref(ok);
}
END_TEST

START_TEST(telemetry_emit_refuses_invalid_event_and_sends_nothing)
{
	struct telemetry *t = start(0660, 0);
	struct telemetry_stats st;
	struct reader *r = calloc(1, sizeof(*r));
	json_t *ev;

	r->fd = subscribe(t);
	ck_assert_int_eq(telemetry_emit(t, json_pack("{s:s}", "event", "call.start")), -EINVAL);
	ck_assert_int_eq(telemetry_emit(t, json_pack("{s:s,s:s}", "event", "nope", "x", "y")),
	                 -EINVAL);
	ck_assert_int_eq(telemetry_emit(t, NULL), -ENOMEM);
	ck_assert_int_eq(telemetry_daemon_stop(t, "test"), 0);
	ev = read_event(r);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "daemon.stop");
	json_decref(ev);
	telemetry_stats(t, &st);
	ck_assert_uint_eq(st.invalid, 2);
	ck_assert_uint_eq(st.events, 1);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_two_subscribers_get_the_same_bytes)
{
	struct telemetry *t = start(0660, 0);
	struct reader *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	int n;

	a->fd = subscribe(t);
	b->fd = subscribe(t);
	n = emit_all(t);
	for (int i = 0; i < n; i++) {
		char *la = read_line(a, 2000), *lb = read_line(b, 2000);
		ck_assert_ptr_nonnull(la);
		ck_assert_ptr_nonnull(lb);
		ck_assert_str_eq(la, lb);
		free(la);
		free(lb);
	}
	close(a->fd);
	close(b->fd);
	free(a);
	free(b);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_slow_subscriber_is_bounded_then_told_how_many_it_missed)
{
	enum { N = 20000, LIMIT = 256 };
	struct telemetry *t = start(0660, LIMIT);
	struct reader *slow = calloc(1, sizeof(*slow)), *fast = calloc(1, sizeof(*fast));
	struct telemetry_stats st;
	size_t max_queue = 0;
	int ok = 0, got = 0, fast_got = 0;
	json_int_t missed = -1;
	char *line;

	slow->fd = subscribe(t);
	fast->fd = subscribe(t);
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "c%d", i);
		ok += telemetry_emit(
		              t, json_pack("{s:s,s:s}", "event", "daemon.stop", "reason", id)) == 0;
		if (i % 50 == 0) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			/* The fast subscriber keeps up. */
			while ((line = read_line(fast, 0)) != NULL) {
				fast_got++;
				free(line);
			}
		}
		telemetry_stats(t, &st);
		if (st.queued_max > max_queue)
			max_queue = st.queued_max;
	}
	/* Every emit returned at once although one subscriber read nothing. */
	ck_assert_int_eq(ok, N);
	ck_assert_uint_le(max_queue, LIMIT);
	ck_assert_uint_eq(max_queue, LIMIT); /* it did fill up */
	telemetry_stats(t, &st);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_lt(st.dropped, N);
	while ((line = read_line(fast, 200)) != NULL) {
		fast_got++;
		free(line);
		if (fast_got == N)
			break;
	}
	ck_assert_int_eq(fast_got, N); /* the slow one did not cost the fast one anything */

	/* Now the slow one reads: a run of events, then exactly one telemetry.dropped. */
	while ((line = read_line(slow, 2000)) != NULL) {
		json_t *ev = json_loads(line, 0, NULL);
		const char *name = json_string_value(json_object_get(ev, "event"));
		ck_assert_int_eq(telemetry_validate(ev, NULL, 0), 0);
		free(line);
		if (strcmp(name, "telemetry.dropped") == 0) {
			missed = json_integer_value(json_object_get(ev, "count"));
			json_decref(ev);
			break;
		}
		got++;
		json_decref(ev);
	}
	ck_assert_int_eq(missed, (json_int_t)st.dropped);
	ck_assert_int_eq(got + missed, N);
	/* After the gap marker the stream resumes. */
	ck_assert_int_eq(telemetry_daemon_stop(t, "after"), 0);
	line = read_line(slow, 2000);
	ck_assert_ptr_nonnull(strstr(line, "\"after\""));
	free(line);
	close(slow->fd);
	close(fast->fd);
	free(slow);
	free(fast);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_masks_card_number_caller)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	char *line;

	r->fd = subscribe(t);
	ck_assert_int_eq(telemetry_call_start(t, "c9", "pbx", "4111111111111111", "2000", NULL), 0);
	line = read_line(r, 2000);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strstr(line, "4111111111111111"));
	ck_assert_ptr_null(strstr(line, "41111111"));
	ck_assert_ptr_nonnull(strstr(line, "\"from\":\"****************\""));
	ck_assert_ptr_nonnull(strstr(line, "\"to\":\"2000\"")); /* ordinary numbers stay */
	free(line);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_masks_sdes_inline_key_in_any_string)
{
	static const char key[] = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	char detail[160], *line;

	r->fd = subscribe(t);
	snprintf(detail, sizeof(detail), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20", key);
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_OFFER_REFUSED, "c2", NULL,
	                                    "no_tls_for_sdes", detail, 488),
	                 0);
	line = read_line(r, 2000);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strstr(line, key));
	ck_assert_ptr_null(strstr(line, "WVNfX19z"));
	ck_assert_ptr_nonnull(strstr(line, "inline:****"));
	free(line);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_socket_has_configured_mode)
{
	struct stat st;
	struct telemetry *t = start(0660, 0);

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	telemetry_free(t);
	ck_assert_int_eq(stat(path, &st), -1); /* removed at free */
	t = start(0600, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_socket_group_is_set_and_unknown_group_named)
{
	char err[256] = "";
	struct group *gr = getgrgid(getegid());
	struct telemetry *t;
	struct stat st;

	ck_assert_ptr_nonnull(gr);
	t = telemetry_new(base, path, 0660, gr->gr_name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_gid, gr->gr_gid);
	telemetry_free(t);
	t = telemetry_new(base, path, 0660, "no-such-group-sw", 0, err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err, "no-such-group-sw"));
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(telemetry_replaces_stale_socket_but_not_a_live_server)
{
	char err[256] = "";
	struct telemetry *t, *t2;
	int fd;
	struct stat st;

	/* A socket file nobody listens on (a crashed daemon) is replaced. */
	fd = usock_listen(path, 0600, NULL, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	close(fd);
	t = start(0660, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	/* A live one is not stolen. */
	t2 = telemetry_new(base, path, 0660, NULL, 0, err, sizeof(err));
	ck_assert_ptr_null(t2);
	ck_assert_ptr_nonnull(strstr(err, "listening"));
	telemetry_free(t);
	/* A regular file is never removed. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_ptr_null(telemetry_new(base, path, 0660, NULL, 0, err, sizeof(err)));
	ck_assert_int_eq(access(path, F_OK), 0);
	unlink(path);
}
END_TEST

START_TEST(telemetry_subscriber_eof_is_closed_and_input_ignored)
{
	struct telemetry *t = start(0660, 0);
	struct telemetry_stats st;
	int fd = subscribe(t);

	ck_assert_int_eq(write(fd, "{\"cmd\":\"stats\"}\n", 16), 16);
	event_base_loop(base, EVLOOP_NONBLOCK);
	telemetry_stats(t, &st);
	ck_assert_uint_eq(st.subscribers, 1);
	close(fd);
	for (int i = 0; i < 1000 && st.subscribers > 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		telemetry_stats(t, &st);
		usleep(1000);
	}
	ck_assert_uint_eq(st.subscribers, 0);
	ck_assert_int_eq(telemetry_daemon_stop(t, "x"), 0); /* emitting with nobody is fine */
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_free_delivers_what_was_queued_then_closes)
{
	struct telemetry *t = start(0660, 0);
	struct reader r = {0};
	json_t *ev;

	r.fd = subscribe(t);
	/* emitted with no loop turn afterwards, as the daemon does on its way out */
	ck_assert_int_eq(telemetry_daemon_stop(t, "signal"), 0);
	telemetry_free(t);
	ev = read_event(&r);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "daemon.stop");
	json_decref(ev);
	ck_assert_ptr_null(read_line(&r, 1000)); /* then EOF */
	close(r.fd);
}
END_TEST

START_TEST(telemetry_counters_follow_events)
{
	struct telemetry *t = telemetry_new(base, NULL, 0, NULL, 0, NULL, 0);
	json_t *c;

	ck_assert_ptr_nonnull(t);
	emit_all(t);
	ck_assert_int_eq(telemetry_call_start(t, "c2", "pbx", "1", "2", NULL), 0);
	telemetry_tls_handshake_ok(t);
	c = telemetry_counters(t);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "calls"), "current")), 1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(json_object_get(c, "calls"), "by_outcome"), "completed")),
	        1);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(c, "refusals"), "offer_refused"),
	                         "no_srtp")),
	                 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(c, "refusals"), "source_banned"),
	                         "scanner")),
	                 1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(json_object_get(c, "refusals"), "flood"), "connections")),
	        1);
	/* trunk + agent legs each had in.drops = {2,1,0,7,4} */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(c, "drops"), "auth")),
	                 4);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "drops"), "unknown_source")),
	        14);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "drops"), "ssrc_limit")), 8);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "tls_handshakes"), "failed")),
	        1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "tls_handshakes"), "ok")), 1);
	json_decref(c);
	telemetry_free(t);
}
END_TEST

START_TEST(telemetry_mos_follows_the_simplified_e_model)
{
	double m0 = telemetry_mos(0, 0, 0, TELEMETRY_CODEC_G711);
	double prev = m0;

	ck_assert_double_eq_tol(m0, 4.40, 0.02);
	ck_assert(telemetry_mos(0.05, 0, 0, TELEMETRY_CODEC_G711) < m0 - 0.3);
	/* Without concealment, 5% loss hurts more. */
	ck_assert(telemetry_mos(0.05, 0, 0, TELEMETRY_CODEC_G711_NOPLC) <
	          telemetry_mos(0.05, 0, 0, TELEMETRY_CODEC_G711));
	for (int i = 1; i <= 100; i++) {
		double m = telemetry_mos(i / 100.0, 0, 0, TELEMETRY_CODEC_G711);
		ck_assert(m < prev);
		ck_assert(m >= 1.0);
		prev = m;
	}
	prev = m0;
	for (int j = 10; j <= 400; j += 10) {
		double m = telemetry_mos(0.01, j, 0, TELEMETRY_CODEC_G711);
		ck_assert(m <= prev);
		ck_assert(m < prev || j == 10 || m == 1.0);
		prev = m;
	}
	ck_assert(telemetry_mos(0, 0, 600, TELEMETRY_CODEC_G711) < 3.6);
	ck_assert_double_eq(telemetry_mos(1.0, 1000, 2000, TELEMETRY_CODEC_G711), 1.0);
}
END_TEST

START_TEST(telemetry_timestamps_are_rfc3339_utc_millis)
{
	struct timespec ts = {1795838803, 123456789}; /* 2026-11-28T04:06:43.123Z */
	char buf[JSON_OUT_TS_LEN];

	ck_assert_str_eq(json_out_timestamp(buf, &ts), "2026-11-28T04:06:43.123Z");
	ck_assert(json_out_is_timestamp(buf));
	ck_assert(!json_out_is_timestamp("2026-11-28T04:06:43Z"));
	ck_assert(!json_out_is_timestamp("2026-11-28T04:06:43.123+01:00"));
}
END_TEST

START_TEST(telemetry_call_ids_are_random_hex)
{
	char a[TELEMETRY_CALL_ID_LEN], b[TELEMETRY_CALL_ID_LEN];

	telemetry_call_id(a);
	telemetry_call_id(b);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(telemetry_vanished_subscriber_is_closed_without_sigpipe)
{
	struct telemetry *t = start(0660, 4096);
	struct telemetry_stats st;
	int fd = subscribe(t);

	/* Fill its socket and queue, then hang up with everything unread. */
	for (int i = 0; i < 4000; i++) {
		ck_assert_int_eq(telemetry_daemon_stop(t, "filler"), 0);
		if (i % 100 == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	close(fd);
	telemetry_stats(t, &st);
	for (int i = 0; i < 2000 && st.subscribers > 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK); /* SIGPIPE here would kill the test */
		telemetry_stats(t, &st);
		usleep(500);
	}
	ck_assert_uint_eq(st.subscribers, 0);
	ck_assert_uint_eq(st.disconnected, 1);
	telemetry_free(t);
}
END_TEST

static void
count_tick(void *arg)
{
	(*(int *)arg)++;
}

START_TEST(telemetry_interim_timer_ticks_when_set_and_stops_at_zero)
{
	struct telemetry *t = telemetry_new(base, NULL, 0, NULL, 0, NULL, 0);
	struct timeval wait = {1, 300000};
	int ticks = 0;

	ck_assert_int_eq(telemetry_set_interim(t, 1, count_tick, &ticks), 0);
	event_base_loopexit(base, &wait);
	event_base_dispatch(base);
	ck_assert_int_eq(ticks, 1);
	ck_assert_int_eq(telemetry_set_interim(t, 0, count_tick, &ticks), 0);
	event_base_loopexit(base, &wait);
	event_base_dispatch(base);
	ck_assert_int_eq(ticks, 1);
	telemetry_free(t);
}
END_TEST

/* The README's examples are part of the schema's documentation: each must validate. */
START_TEST(telemetry_readme_examples_validate)
{
	const char *src = getenv("SW_SRCDIR");
	char fname[512], *text, *p, *end;
	const char *const *names = telemetry_event_names();
	bool seen[32] = {false};
	int examples = 0;
	FILE *f;
	long n;

	ck_assert_ptr_nonnull(src);
	snprintf(fname, sizeof(fname), "%s/README.md", src);
	ck_assert_ptr_nonnull(f = fopen(fname, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p = strstr(text, "\n## Telemetry\n");
	ck_assert_ptr_nonnull(p);
	end = strstr(p + 1, "\n## ");
	if (end != NULL)
		*end = '\0';
	while ((p = strstr(p, "```json\n")) != NULL) {
		char err[256];
		char *close_ = strstr(p + 8, "\n```");
		json_error_t je;
		json_t *ev;

		ck_assert_ptr_nonnull(close_);
		*close_ = '\0';
		ev = json_loads(p + 8, 0, &je);
		ck_assert_msg(ev != NULL, "README example is not JSON: %s", je.text);
		ck_assert_msg(telemetry_validate(ev, err, sizeof(err)) == 0, "README: %s", err);
		for (int k = 0; names[k] != NULL; k++)
			if (strcmp(names[k], json_string_value(json_object_get(ev, "event"))) == 0)
				seen[k] = true;
		json_decref(ev);
		examples++;
		p = close_ + 1;
	}
	for (int k = 0; names[k] != NULL; k++)
		ck_assert_msg(seen[k], "README has no example of %s", names[k]);
	ck_assert_int_ge(examples, 15);
	free(text);
}
END_TEST

static Suite *
telemetry_suite(void)
{
	Suite *s = suite_create("telemetry");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, telemetry_every_emitted_event_validates_when_read_back);
	tcase_add_test(tc, telemetry_instance_name_is_stamped_on_every_event);
	tcase_add_test(tc, telemetry_call_end_carries_legs_mos_and_posture);
	tcase_add_test(tc, telemetry_transfer_refused_escapes_and_bounds_the_requested_uri);
	tcase_add_test(tc, telemetry_direction_without_packets_says_null);
	tcase_add_test(tc, telemetry_out_direction_comes_from_receiver_reports);
	tcase_add_test(tc, telemetry_validate_refuses_bad_events);
	tcase_add_test(tc, telemetry_emit_refuses_invalid_event_and_sends_nothing);
	tcase_add_test(tc, telemetry_two_subscribers_get_the_same_bytes);
	tcase_add_test(tc, telemetry_slow_subscriber_is_bounded_then_told_how_many_it_missed);
	tcase_add_test(tc, telemetry_masks_card_number_caller);
	tcase_add_test(tc, telemetry_masks_sdes_inline_key_in_any_string);
	tcase_add_test(tc, telemetry_socket_has_configured_mode);
	tcase_add_test(tc, telemetry_socket_group_is_set_and_unknown_group_named);
	tcase_add_test(tc, telemetry_replaces_stale_socket_but_not_a_live_server);
	tcase_add_test(tc, telemetry_subscriber_eof_is_closed_and_input_ignored);
	tcase_add_test(tc, telemetry_free_delivers_what_was_queued_then_closes);
	tcase_add_test(tc, telemetry_counters_follow_events);
	tcase_add_test(tc, telemetry_mos_follows_the_simplified_e_model);
	tcase_add_test(tc, telemetry_timestamps_are_rfc3339_utc_millis);
	tcase_add_test(tc, telemetry_call_ids_are_random_hex);
	tcase_add_test(tc, telemetry_vanished_subscriber_is_closed_without_sigpipe);
	tcase_add_test(tc, telemetry_interim_timer_ticks_when_set_and_stops_at_zero);
	tcase_add_test(tc, telemetry_readme_examples_validate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(telemetry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
