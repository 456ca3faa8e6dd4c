/*
 * Unit tests for lib/media_evring.c: a media worker's event queue. Events come out in
 * the order they went in, statistics only with the events that carry them and intact; a
 * full queue or a full statistics ring loses the new event (counted) and recovers once
 * drained. Single-threaded here: the ordering across threads is the atomics' job.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "media_evring.h"

#define NEV 64

struct got {
	unsigned n;
	struct media_event ev[NEV];
};

static void
collect(const struct media_event *ev, void *arg)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->n, NEV);
	g->ev[g->n++] = *ev;
}

static int efd = -1;

static struct media_evring *
ring_new(unsigned len)
{
	struct media_evring *r = NULL;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(media_evring_new(&r, len, efd), 0);
	return r;
}

static void
ring_free(struct media_evring *r)
{
	media_evring_free(r);
	close(efd);
}

/* Post one event: stats events carry `id` in their packet counter. */
static bool
post(struct media_evring *r, enum media_event_type type, uint64_t id)
{
	bool stats = type == MEDIA_EV_SNAPSHOT || type == MEDIA_EV_CALL_DELETED;
	struct media_event *ev = media_evring_reserve(r, stats);

	if (ev == NULL)
		return false;
	ev->type = type;
	ev->call_id = id;
	ev->cookie = id * 10;
	ev->leg = MEDIA_LEG_B;
	if (stats) {
		ev->stats.call_id = id;
		ev->stats.leg[MEDIA_LEG_A].rx.packets = id * 100;
	}
	media_evring_commit(r);
	return true;
}

START_TEST(evring_keeps_order_and_each_events_statistics)
{
	struct media_evring *r = ring_new(16);
	static const enum media_event_type seq[] = {
	        MEDIA_EV_FIRST_PACKET, MEDIA_EV_SNAPSHOT,     MEDIA_EV_LATCHED,
	        MEDIA_EV_CALL_DELETED, MEDIA_EV_FIRST_PACKET, MEDIA_EV_CALL_DELETED,
	};
	struct got g = {0};
	uint64_t n;

	for (unsigned i = 0; i < 6; i++)
		ck_assert(post(r, seq[i], i + 1));
	/* commits wake nobody: the worker's round ends with one flush, one write */
	ck_assert_int_eq(read(efd, &n, sizeof(n)), -1);
	media_evring_flush(r);
	ck_assert_int_eq(read(efd, &n, sizeof(n)), (int)sizeof(n));
	ck_assert_uint_eq(n, 1);
	media_evring_flush(r); /* nothing committed since: no write */
	ck_assert_int_eq(read(efd, &n, sizeof(n)), -1);
	ck_assert_int_eq(media_evring_drain(r, collect, &g), 6);
	for (unsigned i = 0; i < 6; i++) {
		const struct media_event *ev = &g.ev[i];
		bool stats = seq[i] == MEDIA_EV_SNAPSHOT || seq[i] == MEDIA_EV_CALL_DELETED;

		ck_assert_int_eq(ev->type, seq[i]);
		ck_assert_uint_eq(ev->call_id, i + 1);
		ck_assert_uint_eq(ev->cookie, (i + 1) * 10);
		ck_assert_int_eq(ev->leg, MEDIA_LEG_B);
		ck_assert_uint_eq(ev->stats.call_id, stats ? i + 1 : 0);
		ck_assert_uint_eq(ev->stats.leg[MEDIA_LEG_A].rx.packets, stats ? (i + 1) * 100 : 0);
	}
	ck_assert_int_eq(media_evring_drain(r, collect, &g), 0);
	ck_assert_uint_eq(media_evring_lost(r), 0);
	ring_free(r);
}
END_TEST

START_TEST(evring_full_statistics_ring_loses_the_event_and_recovers)
{
	struct media_evring *r = ring_new(16); /* 4 statistics slots */
	struct got g = {0};

	for (unsigned i = 0; i < 4; i++)
		ck_assert(post(r, MEDIA_EV_CALL_DELETED, i + 1));
	ck_assert(!post(r, MEDIA_EV_CALL_DELETED, 5)); /* no statistics slot left */
	ck_assert(post(r, MEDIA_EV_IDLE, 6));          /* small events still go */
	ck_assert_uint_eq(media_evring_lost(r), 1);
	ck_assert_int_eq(media_evring_drain(r, collect, &g), 5);
	ck_assert_uint_eq(g.ev[3].stats.call_id, 4);
	ck_assert_int_eq(g.ev[4].type, MEDIA_EV_IDLE);
	/* drained: the statistics ring has room again, and wraps correctly */
	for (unsigned round = 0; round < 5; round++) {
		g.n = 0;
		for (unsigned i = 0; i < 4; i++)
			ck_assert(post(r, MEDIA_EV_SNAPSHOT, 100 + round * 4 + i));
		ck_assert_int_eq(media_evring_drain(r, collect, &g), 4);
		for (unsigned i = 0; i < 4; i++)
			ck_assert_uint_eq(g.ev[i].stats.call_id, 100 + round * 4 + i);
	}
	ring_free(r);
}
END_TEST

START_TEST(evring_full_queue_loses_the_event)
{
	struct media_evring *r = ring_new(8);
	struct got g = {0};

	for (unsigned i = 0; i < 8; i++)
		ck_assert(post(r, MEDIA_EV_FIRST_PACKET, i + 1));
	ck_assert(!post(r, MEDIA_EV_FIRST_PACKET, 9));
	ck_assert_uint_eq(media_evring_lost(r), 1);
	ck_assert_int_eq(media_evring_drain(r, collect, &g), 8);
	ck_assert_uint_eq(g.ev[7].call_id, 8);
	ring_free(r);
}
END_TEST

START_TEST(evring_refuses_lengths_that_are_not_powers_of_two)
{
	struct media_evring *r = NULL;

	ck_assert_int_eq(media_evring_new(&r, 12, -1), -EINVAL);
	ck_assert_int_eq(media_evring_new(&r, 2, -1), -EINVAL);
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *
evring_suite(void)
{
	Suite *s = suite_create("media_evring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, evring_keeps_order_and_each_events_statistics);
	tcase_add_test(tc, evring_full_statistics_ring_loses_the_event_and_recovers);
	tcase_add_test(tc, evring_full_queue_loses_the_event);
	tcase_add_test(tc, evring_refuses_lengths_that_are_not_powers_of_two);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(evring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
