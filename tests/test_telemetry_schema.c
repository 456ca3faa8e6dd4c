/*
 * test_telemetry_schema.c: part of the telemetry unit test (test_telemetry.c has the
 * fixture and the suite): what the events say. Every event validates against the schema
 * when read back, call.end's legs and directions, the validator's refusals, the MOS
 * estimate, timestamps and call IDs, and the README's examples.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "telemetry.h"
#include "test_telemetry.h"

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
	/* every packet a leg dropped has its reason: malformed, and anything else */
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(in, "drops"), "malformed")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(in, "drops"), "other")),
	                 5);
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
	tl.in = (struct telemetry_dir){0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0, 0}, 0, false};
	tl.out = (struct telemetry_dir){0, 0, -1, 0, 0, {0, 0, 0, 0, 0, 0, 0}, 0, true};
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

TCase *
telemetry_schema_tcase(void)
{
	TCase *tc = tcase_create("schema");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, telemetry_every_emitted_event_validates_when_read_back);
	tcase_add_test(tc, telemetry_instance_name_is_stamped_on_every_event);
	tcase_add_test(tc, telemetry_call_end_carries_legs_mos_and_posture);
	tcase_add_test(tc, telemetry_transfer_refused_escapes_and_bounds_the_requested_uri);
	tcase_add_test(tc, telemetry_direction_without_packets_says_null);
	tcase_add_test(tc, telemetry_out_direction_comes_from_receiver_reports);
	tcase_add_test(tc, telemetry_validate_refuses_bad_events);
	tcase_add_test(tc, telemetry_emit_refuses_invalid_event_and_sends_nothing);
	tcase_add_test(tc, telemetry_mos_follows_the_simplified_e_model);
	tcase_add_test(tc, telemetry_timestamps_are_rfc3339_utc_millis);
	tcase_add_test(tc, telemetry_call_ids_are_random_hex);
	tcase_add_test(tc, telemetry_readme_examples_validate);
	return tc;
}
