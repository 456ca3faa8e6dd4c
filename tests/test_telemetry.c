/*
 * test_telemetry.c: the telemetry stream: schema, fan-out, backpressure, redaction,
 * socket modes, counters and the MOS estimate. Uses a private event_base and sockets in
 * a temporary directory. One Check suite in two files: this one has the fixture and
 * helpers (test_telemetry.h), the stream, its sockets and counters, and the suite;
 * test_telemetry_schema.c the events and their schema.
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

#include "telemetry.h"
#include "usock.h"
#include "test_telemetry.h"
#include "tmpdir.h"

char dir[64];
char path[128];
struct event_base *base;

void
setup(void)
{
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(dir, sizeof(dir), "sw-tel"));
	snprintf(path, sizeof(path), "%s/telemetry.sock", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
}

void
teardown(void)
{
	event_base_free(base);
	unlink(path);
	rmdir(dir);
}

struct telemetry *
start(unsigned mode, unsigned queue)
{
	char err[256] = "";
	struct telemetry *t = telemetry_new(base, path, mode, NULL, queue, err, sizeof(err));

	ck_assert_msg(t != NULL, "telemetry_new: %s", err);
	return t;
}

int
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

char *
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

json_t *
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

int
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
	tl.in = (struct telemetry_dir){1500, 258000, 15, 3.5, 0, {2, 1, 0, 7, 4, 3, 5}, 16, false};
	tl.out = (struct telemetry_dir){1490, 256280, -1, 0, 0, {0, 0, 0, 0, 0, 0, 0}, 2, true};
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

/* A string longer than the redaction's stack copy (256 bytes) is masked the same way. */
START_TEST(telemetry_masks_sdes_inline_key_in_a_long_string)
{
	static const char key[] = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	char detail[1200], *line;

	r->fd = subscribe(t);
	memset(detail, 'x', 900);
	snprintf(detail + 900, sizeof(detail) - 900,
	         " a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20", key);
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_OFFER_REFUSED, "c2", NULL,
	                                    "no_tls_for_sdes", detail, 488),
	                 0);
	line = read_line(r, 2000);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strstr(line, key));
	ck_assert_ptr_null(strstr(line, "WVNfX19z"));
	ck_assert_ptr_nonnull(strstr(line, "inline:****"));
	ck_assert_ptr_nonnull(strstr(line, "xxxxxxxxxxxxxxxx"));
	free(line);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* An event of exactly TELEMETRY_MAX_EVENT bytes with its newline goes out whole; one
 * byte more is refused with -EMSGSIZE, never cut. */
START_TEST(telemetry_event_size_limit_is_exact)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	size_t first, fill;
	char *detail = malloc(TELEMETRY_MAX_EVENT + 1), *line;

	ck_assert_ptr_nonnull(detail);
	r->fd = subscribe(t);
	strcpy(detail, "x");
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_INPUT_REFUSED, "c3", NULL,
	                                    "from_user_invalid", detail, 400),
	                 0);
	line = read_line(r, 2000);
	ck_assert_ptr_nonnull(line);
	first = strlen(line); /* with its newline, for a 1-byte detail */
	free(line);
	fill = 1 + TELEMETRY_MAX_EVENT - first;
	memset(detail, 'x', fill);
	detail[fill] = '\0';
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_INPUT_REFUSED, "c3", NULL,
	                                    "from_user_invalid", detail, 400),
	                 0);
	line = read_line(r, 2000);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(strlen(line), TELEMETRY_MAX_EVENT);
	ck_assert_int_eq(line[TELEMETRY_MAX_EVENT - 1], '\n');
	free(line);
	detail[fill] = 'x';
	detail[fill + 1] = '\0';
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_INPUT_REFUSED, "c3", NULL,
	                                    "from_user_invalid", detail, 400),
	                 -EMSGSIZE);
	free(detail);
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* With nobody subscribed an event is checked and counted but never serialised: an
 * invalid one is still refused, and the size limit (a limit on delivery) does not apply. */
START_TEST(telemetry_without_subscribers_checks_and_counts_but_does_not_serialise)
{
	struct telemetry *t = start(0660, 0);
	struct telemetry_stats st;
	char *detail = malloc(TELEMETRY_MAX_EVENT + 2);

	ck_assert_ptr_nonnull(detail);
	memset(detail, 'x', TELEMETRY_MAX_EVENT + 1);
	detail[TELEMETRY_MAX_EVENT + 1] = '\0';
	ck_assert_int_eq(telemetry_security(t, TELEMETRY_SEC_INPUT_REFUSED, "c4", NULL,
	                                    "from_user_invalid", detail, 400),
	                 0);
	ck_assert_int_eq(
	        telemetry_emit(t, json_pack("{s:s,s:i}", "event", "call.start", "bogus", 1)),
	        -EINVAL);
	telemetry_stats(t, &st);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_uint_eq(st.invalid, 1);
	free(detail);
	telemetry_free(t);
}
END_TEST

/* ms since the epoch of a "YYYY-MM-DDTHH:MM:SS.mmmZ" stamp */
static long long
ts_ms(const char *ts)
{
	struct tm tm = {0};

	ck_assert_ptr_nonnull(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm));
	return (long long)timegm(&tm) * 1000 + atoi(ts + 20);
}

/* The stamp's date and time are formatted once a second and reused: each event still
 * carries the time it was emitted, to the millisecond, across second boundaries. */
START_TEST(telemetry_ts_is_the_emit_time_to_the_millisecond)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));

	r->fd = subscribe(t);
	for (int i = 0; i < 12; i++) {
		struct timespec a, b;
		json_t *ev;
		long long at;

		clock_gettime(CLOCK_REALTIME, &a);
		ck_assert_int_eq(telemetry_daemon_start(t), 0);
		clock_gettime(CLOCK_REALTIME, &b);
		ev = read_event(r);
		at = ts_ms(json_string_value(json_object_get(ev, "ts")));
		ck_assert_int_ge(at, (long long)a.tv_sec * 1000 + a.tv_nsec / 1000000);
		ck_assert_int_le(at, (long long)b.tv_sec * 1000 + b.tv_nsec / 1000000);
		json_decref(ev);
		usleep(97000); /* 12 x 97 ms: at least one second boundary crossed */
	}
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
	/* trunk + agent legs each had in.drops = {2,1,0,7,4,3,5} */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(c, "drops"), "auth")),
	                 4);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "drops"), "unknown_source")),
	        14);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "drops"), "ssrc_limit")), 8);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "drops"), "malformed")), 6);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(c, "drops"), "other")),
	                 10);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "tls_handshakes"), "failed")),
	        1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(c, "tls_handshakes"), "ok")), 1);
	json_decref(c);
	telemetry_free(t);
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

static Suite *
telemetry_suite(void)
{
	Suite *s = suite_create("telemetry");
	TCase *tc = tcase_create("core");

	suite_add_tcase(s, telemetry_schema_tcase());
	suite_add_tcase(s, telemetry_unbuilt_tcase());
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, telemetry_two_subscribers_get_the_same_bytes);
	tcase_add_test(tc, telemetry_slow_subscriber_is_bounded_then_told_how_many_it_missed);
	tcase_add_test(tc, telemetry_masks_card_number_caller);
	tcase_add_test(tc, telemetry_masks_sdes_inline_key_in_any_string);
	tcase_add_test(tc, telemetry_masks_sdes_inline_key_in_a_long_string);
	tcase_add_test(tc, telemetry_event_size_limit_is_exact);
	tcase_add_test(tc, telemetry_without_subscribers_checks_and_counts_but_does_not_serialise);
	tcase_add_test(tc, telemetry_ts_is_the_emit_time_to_the_millisecond);
	tcase_add_test(tc, telemetry_socket_has_configured_mode);
	tcase_add_test(tc, telemetry_socket_group_is_set_and_unknown_group_named);
	tcase_add_test(tc, telemetry_replaces_stale_socket_but_not_a_live_server);
	tcase_add_test(tc, telemetry_subscriber_eof_is_closed_and_input_ignored);
	tcase_add_test(tc, telemetry_free_delivers_what_was_queued_then_closes);
	tcase_add_test(tc, telemetry_counters_follow_events);
	tcase_add_test(tc, telemetry_vanished_subscriber_is_closed_without_sigpipe);
	tcase_add_test(tc, telemetry_interim_timer_ticks_when_set_and_stops_at_zero);
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
