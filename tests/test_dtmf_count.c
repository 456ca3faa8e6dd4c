/*
 * test_dtmf_count.c: RFC 4733 events counted once each, from crafted RTP packets: the
 * packets of one event share a timestamp, the end packet (E bit) is sent three times, and
 * only the negotiated telephone-event payload type counts.
 */
#include <check.h>
#include <string.h>

#include "dtmf_count.h"

#define PT_TE   101
#define PT_PCMU 0

/* An RTP packet with a 4-byte RFC 4733 payload: event, E bit, duration. */
static size_t
pkt(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t event, bool end,
    uint16_t duration)
{
	memset(p, 0, 16);
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	p[12] = event;
	p[13] = (uint8_t)((end ? 0x80 : 0) | 10);
	p[14] = (uint8_t)(duration >> 8);
	p[15] = (uint8_t)duration;
	return 16;
}

/* One event as a sender sends it: `updates` packets, then the end packet three times. */
static unsigned
send_event(struct dtmf_count *d, uint16_t *seq, uint32_t ts, uint8_t event, int updates)
{
	uint8_t p[16];
	unsigned started = 0;
	for (int i = 0; i < updates; i++)
		started += dtmf_count_rtp(
		        d, p,
		        pkt(p, PT_TE, (*seq)++, ts, 7, event, false, (uint16_t)(160 * (i + 1))));
	for (int i = 0; i < 3; i++)
		started += dtmf_count_rtp(d, p,
		                          pkt(p, PT_TE, (*seq)++, ts, 7, event, true,
		                              (uint16_t)(160 * (updates + 1))));
	return started;
}

START_TEST(one_event_counts_once)
{
	struct dtmf_count d = {0};
	uint16_t seq = 100;

	dtmf_count_set_pt(&d, true, PT_TE);
	ck_assert_uint_eq(send_event(&d, &seq, 16000, 5, 6), 1);
	ck_assert_uint_eq(d.events, 1);
}
END_TEST

START_TEST(end_retransmissions_count_once)
{
	struct dtmf_count d = {0};
	uint16_t seq = 1;

	dtmf_count_set_pt(&d, true, PT_TE);
	/* an event of end packets only (the start was lost), then a late end packet again */
	ck_assert_uint_eq(send_event(&d, &seq, 4000, 9, 0), 1);
	uint8_t p[16];
	ck_assert(!dtmf_count_rtp(&d, p, pkt(p, PT_TE, seq++, 4000, 7, 9, true, 160)));
	ck_assert_uint_eq(d.events, 1);
}
END_TEST

START_TEST(two_events_count_two)
{
	struct dtmf_count d = {0};
	uint16_t seq = 1;
	uint8_t p[16];

	dtmf_count_set_pt(&d, true, PT_TE);
	ck_assert_uint_eq(send_event(&d, &seq, 8000, 1, 3), 1);
	ck_assert_uint_eq(send_event(&d, &seq, 9600, 1, 3), 1); /* same key again: new event */
	ck_assert_uint_eq(d.events, 2);
	/* a reordered late packet of the first event is not a third */
	ck_assert(!dtmf_count_rtp(&d, p, pkt(p, PT_TE, 2, 8000, 7, 1, true, 640)));
	/* another source's event with the same timestamp is its own */
	ck_assert(dtmf_count_rtp(&d, p, pkt(p, PT_TE, 1, 9600, 8, 3, false, 160)));
	ck_assert_uint_eq(d.events, 3);

	/* timestamps wrap */
	struct dtmf_count w = {0};
	dtmf_count_set_pt(&w, true, PT_TE);
	ck_assert_uint_eq(send_event(&w, &seq, 0xffffff00u, 2, 1), 1);
	ck_assert_uint_eq(send_event(&w, &seq, 0x100, 3, 1), 1);
	ck_assert(!dtmf_count_rtp(&w, p, pkt(p, PT_TE, 9, 0xffffff00u, 7, 2, true, 320)));
	ck_assert_uint_eq(w.events, 2);
}
END_TEST

START_TEST(other_payload_types_not_counted)
{
	struct dtmf_count d = {0};
	uint16_t seq = 1;
	uint8_t p[16];

	/* nothing negotiated: even packets that look like telephone-events do not count */
	ck_assert_uint_eq(send_event(&d, &seq, 800, 4, 2), 0);
	dtmf_count_set_pt(&d, true, 96); /* negotiated on another payload type than 101 */
	ck_assert_uint_eq(send_event(&d, &seq, 1600, 4, 2), 0);
	for (uint32_t ts = 0; ts < 1600; ts += 160) /* audio */
		ck_assert(!dtmf_count_rtp(&d, p, pkt(p, PT_PCMU, seq++, ts, 7, 0, false, 0)));
	ck_assert_uint_eq(d.events, 0);
	/* the marker bit is not part of the payload type */
	pkt(p, 96, seq++, 3200, 7, 4, false, 160);
	p[1] |= 0x80;
	ck_assert(dtmf_count_rtp(&d, p, 16));
	/* short or not version 2 */
	pkt(p, 96, seq++, 4800, 7, 4, false, 160);
	ck_assert(!dtmf_count_rtp(&d, p, 11));
	p[0] = 0x40;
	ck_assert(!dtmf_count_rtp(&d, p, 16));
	ck_assert(!dtmf_count_rtp(&d, NULL, 16));
	/* switched off */
	dtmf_count_set_pt(&d, false, 0);
	pkt(p, 96, seq++, 6400, 7, 4, false, 160);
	ck_assert(!dtmf_count_rtp(&d, p, 16));
	ck_assert_uint_eq(d.events, 1);
}
END_TEST

static Suite *
dtmf_count_suite(void)
{
	Suite *s = suite_create("dtmf_count");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, one_event_counts_once);
	tcase_add_test(tc, end_retransmissions_count_once);
	tcase_add_test(tc, two_events_count_two);
	tcase_add_test(tc, other_payload_types_not_counted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dtmf_count_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
