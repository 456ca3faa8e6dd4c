/*
 * test_telemetry_unbuilt.c: part of the telemetry unit test (test_telemetry.c has the
 * fixture and the suite): a call event nobody subscribed to is counted without being
 * built, and counts exactly as the built event does; a subscriber still gets every
 * record complete.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "telemetry.h"
#include "test_telemetry.h"

/* Allocations jansson made while counting was on. */
static unsigned long json_allocs;

static void *
counting_malloc(size_t n)
{
	json_allocs++;
	return malloc(n);
}

/* A call's three legs as the B2BUA fills them, with loss, jitter, RTT and drops. */
struct call_fixture {
	struct sockaddr_in src, agent, latched;
	struct telemetry_leg tl, al, hl;
	struct telemetry_call_end e;
};

static void
call_fixture(struct call_fixture *c, unsigned seed)
{
	static const uint8_t fp[32] = {0xab, 0xcd, 1, 2, 3};

	memset(c, 0, sizeof(*c));
	c->src.sin_family = c->agent.sin_family = c->latched.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", &c->src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &c->agent.sin_addr);
	inet_pton(AF_INET, "192.0.2.10", &c->latched.sin_addr);
	c->src.sin_port = htons(5061);
	c->agent.sin_port = htons(5071);
	c->latched.sin_port = htons((uint16_t)(31000 + seed));
	c->tl.suite = "AES_CM_128_HMAC_SHA1_80";
	c->tl.latched = (struct sockaddr *)&c->latched;
	c->tl.first_packet_ms = 40 + seed;
	c->tl.signalling = (struct telemetry_tls){"TLSv1.3", "TLS_AES_256_GCM_SHA384", fp,
	                                          (struct sockaddr *)&c->src};
	c->tl.in = (struct telemetry_dir){
	        1500 + seed, 258000, 15 * seed, 3.5 + seed, 0, {2, 1, 0, 7, 4, 3, seed}, 16, false};
	c->tl.out = (struct telemetry_dir){1490,        256280,      seed % 3 ? (int64_t)seed : -1,
	                                   1.25 * seed, 12.5 * seed, {seed, 0, 0, 0, 0, 0, 0},
	                                   2,           true};
	c->al = c->tl;
	c->al.suite = "AEAD_AES_256_GCM";
	c->al.latched = NULL;
	c->al.first_packet_ms = -1;
	c->al.signalling.peer_sha256 = NULL;
	c->al.signalling.peer = (struct sockaddr *)&c->agent;
	c->al.in.packets = seed % 2 ? 0 : 700; /* dead air on every other call */
	c->hl = c->al;
	c->hl.in.drops.auth = 9;
	c->e = (struct telemetry_call_end){"c1",
	                                   seed % 2 ? "completed" : "cancelled",
	                                   "trunk",
	                                   "bye",
	                                   200,
	                                   30000 + seed,
	                                   "agent-1",
	                                   &c->tl,
	                                   seed % 4 == 3 ? NULL : &c->al,
	                                   seed % 3 == 0 ? &c->hl : NULL};
}

/* The call events of one call; returns how many. */
static int
emit_call(struct telemetry *t, struct call_fixture *c, unsigned seed)
{
	ck_assert_int_eq(telemetry_call_start(t, "c1", "pbx", "1001", "2000", &c->tl.signalling),
	                 0);
	ck_assert_int_eq(telemetry_call_answer(t, "c1", "agent-1", 180 + 97 * seed, c->tl.suite,
	                                       c->al.suite),
	                 0);
	ck_assert_int_eq(telemetry_call_interim(t, "c1", 10000, &c->tl, c->e.agent_leg), 0);
	ck_assert_int_eq(telemetry_call_end(t, &c->e), 0);
	return 4;
}

/*
 * With nobody subscribed, call.start, call.answer, call.interim and call.end build no
 * JSON at all (nothing would read it) and still count; once someone subscribes the
 * records arrive whole.
 */
START_TEST(telemetry_call_events_without_subscriber_build_no_json)
{
	struct telemetry *t = start(0660, 0);
	struct reader *r = calloc(1, sizeof(*r));
	struct telemetry_stats st;
	struct call_fixture c;
	json_t *cnt, *ev, *legs;

	call_fixture(&c, 3);
	emit_call(t, &c, 3); /* the counters make their first "completed" entry */
	json_allocs = 0;
	json_set_alloc_funcs(counting_malloc, free);
	emit_call(t, &c, 3);
	json_set_alloc_funcs(malloc, free);
	ck_assert_msg(json_allocs == 0, "%lu JSON allocations for 4 events nobody reads",
	              json_allocs);
	telemetry_stats(t, &st);
	ck_assert_uint_eq(st.events, 8);
	cnt = telemetry_counters(t);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(cnt, "calls"), "started")), 2);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(cnt, "calls"), "current")), 0);
	/* twice: trunk in 2, out 3, human in 9, out 3 (no agent leg on this call) */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(cnt, "drops"), "auth")),
	                 34);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(
	                json_object_get(json_object_get(cnt, "calls"), "by_outcome"), "completed")),
	        2);
	json_decref(cnt);
	ck_assert_uint_eq(telemetry_metrics(t)->setup.count, 2);

	r->fd = subscribe(t);
	emit_call(t, &c, 3);
	for (int i = 0; i < 4; i++) {
		char err[256];
		ev = read_event(r);
		ck_assert_msg(telemetry_validate(ev, err, sizeof(err)) == 0, "%s", err);
		if (i < 3) {
			json_decref(ev);
			continue;
		}
		ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "call.end");
		legs = json_object_get(ev, "legs");
		ck_assert(json_is_object(json_object_get(legs, "trunk")));
		ck_assert(json_is_null(json_object_get(legs, "agent")));
		ck_assert(json_is_object(json_object_get(legs, "human")));
		ck_assert(json_is_real(json_object_get(
		        json_object_get(json_object_get(legs, "trunk"), "in"), "mos")));
		json_decref(ev);
	}
	close(r->fd);
	free(r);
	telemetry_free(t);
}
END_TEST

/* The counters and metrics a scrape shows, without what differs between two servers
 * (start time, uptime, subscribers). */
static char *
scrape(struct telemetry *t)
{
	struct metrics_snapshot snap = {0};
	json_t *cnt = telemetry_counters(t);
	char *js, *text, *both;
	size_t n;

	json_object_del(cnt, "since");
	json_object_del(cnt, "uptime_s");
	json_object_del(json_object_get(cnt, "telemetry"), "subscribers");
	snap.calls = telemetry_metrics(t);
	snap.open_fds = snap.max_fds = snap.rss_bytes = -1;
	text = metrics_format(&snap, NULL);
	js = json_dumps(cnt, JSON_SORT_KEYS);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(js);
	n = strlen(text) + strlen(js) + 2;
	both = malloc(n);
	ck_assert_ptr_nonnull(both);
	snprintf(both, n, "%s\n%s", js, text);
	free(js);
	free(text);
	json_decref(cnt);
	return both;
}

/* Fail on the first line where `a` and `b` differ (whole texts are too long for Check). */
static void
same_text(const char *a, const char *b)
{
	size_t i = 0, line = 0;

	for (; a[i] != '\0' && a[i] == b[i]; i++) {
		if (a[i] == '\n')
			line = i + 1;
	}
	ck_assert_msg(a[i] == b[i], "built and unbuilt differ: \"%.120s\" vs \"%.120s\"", a + line,
	              b + line);
}

/*
 * The same calls through a server with a subscriber (built, validated, delivered) and one
 * without (counted unbuilt): the same counters, histograms and media totals, to the
 * last digit. Events that cannot validate (a NULL call id) or may not build (a
 * non-ASCII name) are refused or built on both alike.
 */
START_TEST(telemetry_unbuilt_call_events_count_as_built_ones)
{
	struct telemetry *with = start(0660, 4096);
	struct telemetry *without = telemetry_new(base, NULL, 0, NULL, 0, NULL, 0);
	struct telemetry_stats sw, so;
	char *a, *b;
	int fd = subscribe(with);

	ck_assert_ptr_nonnull(without);
	for (unsigned seed = 0; seed < 12; seed++) {
		struct call_fixture c;
		call_fixture(&c, seed);
		emit_call(with, &c, seed);
		emit_call(without, &c, seed);
	}
	for (int k = 0; k < 2; k++) {
		struct telemetry *t = k ? without : with;
		struct call_fixture c;
		call_fixture(&c, 5);
		c.e.call = NULL;
		ck_assert_int_eq(telemetry_call_end(t, &c.e), -EINVAL);
		ck_assert_int_eq(telemetry_call_answer(t, "c1", "agent-1", -1, NULL, NULL),
		                 -EINVAL);
		call_fixture(&c, 6);
		c.e.agent = "agent-\xc3\xa9";
		ck_assert_int_eq(telemetry_call_end(t, &c.e), 0);
	}
	telemetry_stats(with, &sw);
	telemetry_stats(without, &so);
	ck_assert_uint_eq(sw.events, so.events);
	ck_assert_uint_eq(sw.invalid, so.invalid);
	ck_assert_uint_eq(sw.invalid, 2);
	a = scrape(with);
	b = scrape(without);
	same_text(a, b);
	free(a);
	free(b);
	close(fd);
	telemetry_free(with);
	telemetry_free(without);
}
END_TEST

TCase *
telemetry_unbuilt_tcase(void)
{
	TCase *tc = tcase_create("unbuilt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, telemetry_call_events_without_subscriber_build_no_json);
	tcase_add_test(tc, telemetry_unbuilt_call_events_count_as_built_ones);
	return tc;
}
