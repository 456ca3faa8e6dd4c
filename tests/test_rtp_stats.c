/*
 * test_rtp_stats.c: loss and jitter on crafted sequences, against values computed by hand
 * from RFC 3550 A.1 (probation of 2: the first packet of a source is not counted for
 * loss, base_seq is the second), A.3 and A.8.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "rtp_stats.h"

#define NS_PER_UNIT_8K 125000ull /* 1 s / 8000 */

static uint64_t mono;

static void
feed(struct rtp_stats *s, uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t at_ns)
{
	uint8_t h[12] = {0x80,
	                 0,
	                 (uint8_t)(seq >> 8),
	                 (uint8_t)seq,
	                 (uint8_t)(ts >> 24),
	                 (uint8_t)(ts >> 16),
	                 (uint8_t)(ts >> 8),
	                 (uint8_t)ts,
	                 (uint8_t)(ssrc >> 24),
	                 (uint8_t)(ssrc >> 16),
	                 (uint8_t)(ssrc >> 8),
	                 (uint8_t)ssrc};
	ck_assert_int_eq(rtp_stats_rtp(s, h, sizeof(h), 182, at_ns, 1000 + at_ns), 0);
}

/* seq with ts = seq * 160 arriving exactly on time (20 ms spacing): no jitter */
static void
feed_seq(struct rtp_stats *s, uint16_t seq)
{
	feed(s, seq, (uint32_t)seq * 160u, 42, 5000000000ull + (uint64_t)seq * 20000000ull);
}

START_TEST(rtp_stats_counts_in_order_stream_without_loss)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	ck_assert_uint_eq(s.clock_rate, 8000);
	for (uint16_t q = 100; q <= 109; q++)
		feed_seq(&s, q);
	ck_assert_uint_eq(s.packets, 10);
	ck_assert_uint_eq(s.bytes, 1820);
	ck_assert_uint_eq(s.base_seq, 101);
	ck_assert_uint_eq(rtp_stats_expected(&s), 9);
	ck_assert_int_eq(rtp_stats_lost(&s), 0);
	ck_assert(s.jitter == 0.0);
	ck_assert_uint_eq(s.first_ns, 1000 + 5000000000ull + 100 * 20000000ull);
	ck_assert_uint_eq(s.last_ns, 1000 + 5000000000ull + 109 * 20000000ull);
}
END_TEST

START_TEST(rtp_stats_counts_lost_packets_from_gaps)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	for (uint16_t q = 100; q <= 109; q++)
		if (q != 105 && q != 106)
			feed_seq(&s, q);
	ck_assert_uint_eq(s.packets, 8);
	ck_assert_uint_eq(rtp_stats_expected(&s), 9); /* 101..109 */
	ck_assert_int_eq(rtp_stats_lost(&s), 2);
}
END_TEST

START_TEST(rtp_stats_reordering_is_not_loss)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	uint16_t order[] = {100, 101, 102, 104, 103, 105};
	for (unsigned i = 0; i < 6; i++)
		feed_seq(&s, order[i]);
	ck_assert_uint_eq(rtp_stats_expected(&s), 5);
	ck_assert_int_eq(rtp_stats_lost(&s), 0);
	ck_assert_uint_eq(s.max_seq, 105);
}
END_TEST

START_TEST(rtp_stats_extends_sequence_across_wrap)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	uint16_t order[] = {65533, 65534, 65535, 0, 2}; /* 1 lost after the wrap */
	for (unsigned i = 0; i < 5; i++)
		feed(&s, order[i], i * 160u, 7, 1000000000ull + i * 20000000ull);
	ck_assert_uint_eq(s.cycles, 65536);
	ck_assert_uint_eq(rtp_stats_ext_max(&s), 65538);
	ck_assert_uint_eq(rtp_stats_expected(&s), 5); /* 65534 .. 65538 */
	ck_assert_int_eq(rtp_stats_lost(&s), 1);
}
END_TEST

START_TEST(rtp_stats_duplicates_make_loss_negative)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	uint16_t order[] = {100, 101, 102, 102, 103};
	for (unsigned i = 0; i < 5; i++)
		feed_seq(&s, order[i]);
	ck_assert_uint_eq(rtp_stats_expected(&s), 3);
	ck_assert_int_eq(rtp_stats_lost(&s), -1);
	ck_assert_uint_eq(s.packets, 5);
}
END_TEST

START_TEST(rtp_stats_restarts_after_two_sequential_packets_far_away)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	for (uint16_t q = 100; q <= 104; q++)
		feed_seq(&s, q);
	/* a single stray far packet is ignored for loss */
	feed_seq(&s, 40000);
	feed_seq(&s, 105);
	ck_assert_uint_eq(rtp_stats_expected(&s), 5);
	ck_assert_int_eq(rtp_stats_lost(&s), 0);
	ck_assert_uint_eq(s.max_seq, 105);
	/* two sequential far packets: the source restarted; loss stays cumulative */
	feed_seq(&s, 20000);
	feed_seq(&s, 20001);
	feed_seq(&s, 20003);
	ck_assert_uint_eq(s.base_seq, 20001);
	ck_assert_uint_eq(rtp_stats_expected(&s), 5 + 3);
	ck_assert_int_eq(rtp_stats_lost(&s), 1);
	ck_assert_uint_eq(s.packets, 10);
}
END_TEST

START_TEST(rtp_stats_new_ssrc_keeps_earlier_counts)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	for (uint16_t q = 10; q <= 14; q++) /* counted 11..14: expected 4 */
		if (q != 12)
			feed_seq(&s, q);
	for (uint16_t q = 500; q <= 503; q++) /* new SSRC: counted 501..503 */
		feed(&s, q, q * 160u, 99, 9000000000ull + q * 20000000ull);
	ck_assert_uint_eq(s.ssrc, 99);
	ck_assert_uint_eq(rtp_stats_expected(&s), 4 + 3);
	ck_assert_int_eq(rtp_stats_lost(&s), 1);
}
END_TEST

START_TEST(rtp_stats_computes_interarrival_jitter)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 8000);
	uint64_t t0 = 3000000000ull;
	feed(&s, 1, 160, 1, t0);
	feed(&s, 2, 320, 1, t0 + 160 * NS_PER_UNIT_8K);
	ck_assert(s.jitter == 0.0);
	/* 10 ms late: D = 80 units, J = 80/16 = 5 */
	feed(&s, 3, 480, 1, t0 + 400 * NS_PER_UNIT_8K);
	ck_assert_double_eq_tol(s.jitter, 5.0, 1e-9);
	/* back on time: |D| = 80, J = 5 + (80 - 5)/16 = 9.6875 */
	feed(&s, 4, 640, 1, t0 + 480 * NS_PER_UNIT_8K);
	ck_assert_double_eq_tol(s.jitter, 9.6875, 1e-9);
	ck_assert_double_eq_tol(rtp_stats_jitter_ms(&s), 9.6875 / 8.0, 1e-9);
}
END_TEST

START_TEST(rtp_stats_jitter_follows_the_clock_rate)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 8000);
	rtp_stats_set_clock_rate(&s, 48000);
	uint64_t t0 = 7000000000ull;
	feed(&s, 1, 960, 1, t0);
	feed(&s, 2, 1920, 1, t0 + 20000000ull);
	feed(&s, 3, 2880, 1, t0 + 50000000ull); /* 10 ms late = 480 units at 48 kHz */
	ck_assert_double_eq_tol(s.jitter, 30.0, 1e-9);
	ck_assert_double_eq_tol(rtp_stats_jitter_ms(&s), 0.625, 1e-9);
}
END_TEST

START_TEST(rtp_stats_counts_drops_by_reason)
{
	struct rtp_stats s;
	rtp_stats_init(&s, 0);
	rtp_stats_drop(&s, RTP_DROP_AUTH);
	rtp_stats_drop(&s, RTP_DROP_REPLAY);
	rtp_stats_drop(&s, RTP_DROP_REPLAY);
	rtp_stats_drop(&s, (enum rtp_drop)99);
	ck_assert_uint_eq(s.drops[RTP_DROP_AUTH], 1);
	ck_assert_uint_eq(s.drops[RTP_DROP_REPLAY], 2);
	ck_assert_uint_eq(s.drops[RTP_DROP_OTHER], 1);
	ck_assert_uint_eq(rtp_stats_drops_total(&s), 4);
	ck_assert_uint_eq(s.packets, 0);
	ck_assert_str_eq(rtp_drop_name(RTP_DROP_UNKNOWN_SOURCE), "unknown_source");
	ck_assert_str_eq(rtp_drop_name(RTP_DROP_PLAINTEXT), "plaintext");
	ck_assert_str_eq(rtp_drop_name(RTP_DROP_COUNT), "?");
	/* a header that is not RTP v2 counts bytes only */
	uint8_t bad[12] = {0x40};
	ck_assert_int_eq(rtp_stats_rtp(&s, bad, sizeof(bad), 12, 1, 1), -22);
	ck_assert_uint_eq(s.packets, 1);
	ck_assert(!s.have_ssrc);
}
END_TEST

/*
 * The sending direction takes the peer's report blocks about the SSRC it sends, and the
 * RTT from LSR/DLSR against the time the SR named by LSR was relayed to the peer.
 */
START_TEST(rtp_stats_takes_receiver_reports_and_round_trip_time)
{
	struct rtp_stats s;
	struct rtcp_report rb = {0};
	int64_t lost;
	double jit, rtt;
	const uint64_t t0 = 7000000000ull;

	rtp_stats_init(&s, 8000);
	ck_assert(!rtp_stats_reported(&s, &lost, &jit, &rtt));
	rb.ssrc = 0x5eed;
	rb.lost = 12;
	rb.jitter = 80; /* 10 ms at 8 kHz */
	/* nothing sent yet: a report is about someone else */
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0), -ENOENT);
	rtp_stats_sent(&s, 0x5eed, 182, 1);
	rb.ssrc = 0x1111;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0), -ENOENT);
	ck_assert(!rtp_stats_reported(&s, &lost, &jit, &rtt));

	/* about our SSRC, no SR received by the peer yet (LSR 0): loss and jitter, no RTT */
	rb.ssrc = 0x5eed;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0), 0);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_int_eq(lost, 12);
	ck_assert_double_eq_tol(jit, 10.0, 1e-9);
	ck_assert_double_eq(rtt, 0.0);

	/* SRs relayed at t0 and t0 + 1 s; the peer answers the second after holding it
	 * 0.25 s (DLSR 16384/65536) and its RR arrives 0.31 s after we sent the SR: 60 ms */
	rtp_stats_sr_sent(&s, 0xaaaa0000, t0);
	rtp_stats_sr_sent(&s, 0xbbbb0000, t0 + 1000000000ull);
	rb.lsr = 0xbbbb0000;
	rb.dlsr = 16384;
	rb.lost = -3; /* duplicates: no negative loss */
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0 + 1310000000ull), 0);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_int_eq(lost, 0);
	ck_assert_double_eq_tol(rtt, 60.0, 1e-6);

	/* an LSR we never relayed, or a DLSR longer than the time since: RTT kept */
	rb.lsr = 0xcccc0000;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0 + 2000000000ull), 0);
	rb.lsr = 0xaaaa0000;
	rb.dlsr = 65536u * 5;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0 + 2000000000ull), 0);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_double_eq_tol(rtt, 60.0, 1e-6);

	/* the ring keeps the last RTP_STATS_SR_RING SRs: the oldest is forgotten */
	for (unsigned i = 0; i < RTP_STATS_SR_RING; i++)
		rtp_stats_sr_sent(&s, 0xd0000000u + i, t0 + 3000000000ull);
	rb.lsr = 0xbbbb0000;
	rb.dlsr = 0;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0 + 4000000000ull), 0);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_double_eq_tol(rtt, 60.0, 1e-6);
	rb.lsr = 0xd0000000u;
	ck_assert_int_eq(rtp_stats_report(&s, &rb, t0 + 3020000000ull), 0);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_double_eq_tol(rtt, 20.0, 1e-6);
}
END_TEST

/* A compound SR (with a block about someone else) + RR (about us) as the worker sees it. */
START_TEST(rtp_stats_takes_report_blocks_from_a_compound)
{
	static const uint8_t pkt[] = {
	        /* SR, 1 block: SSRC, NTP 0x0000abcd.12340000, RTP ts, counts */
	        0x81, 200, 0, 12, 0, 0, 0, 1, 0x00, 0x00, 0xab, 0xcd, 0x12, 0x34, 0, 0, 0, 0, 0, 0,
	        0, 0, 0, 0, 0, 0, 0, 0,
	        /* block about 0x99 (not what we send) */
	        0, 0, 0, 0x99, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	        /* RR, 1 block about 0x5eed: 7 lost, jitter 16, LSR 0xabcd1234, DLSR 0 */
	        0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0x5e, 0xed, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 16,
	        0xab, 0xcd, 0x12, 0x34, 0, 0, 0, 0};
	struct rtp_stats s;
	uint32_t mid = 0;
	int64_t lost;
	double jit, rtt;

	ck_assert_int_eq(rtcp_check(pkt, sizeof(pkt)), 0);
	rtp_stats_init(&s, 8000);
	rtp_stats_sent(&s, 0x5eed, 172, 1);
	rtp_stats_sr_sent(&s, 0xabcd1234, 1000000000ull);
	ck_assert(rtp_stats_take_rtcp(&s, pkt, sizeof(pkt), 1005000000ull, &mid));
	ck_assert_uint_eq(mid, 0xabcd1234);
	ck_assert(rtp_stats_reported(&s, &lost, &jit, &rtt));
	ck_assert_int_eq(lost, 7);
	ck_assert_double_eq_tol(jit, 2.0, 1e-9);
	ck_assert_double_eq_tol(rtt, 5.0, 1e-9);
	ck_assert_uint_eq(s.reports, 1); /* the block about 0x99 was not taken */
	/* an RR alone: no SR */
	ck_assert(!rtp_stats_take_rtcp(&s, pkt + 52, sizeof(pkt) - 52, 1005000000ull, &mid));
}
END_TEST

static Suite *
rtp_stats_suite(void)
{
	Suite *s = suite_create("rtp_stats");
	TCase *tc = tcase_create("core");
	(void)mono;
	tcase_add_test(tc, rtp_stats_counts_in_order_stream_without_loss);
	tcase_add_test(tc, rtp_stats_counts_lost_packets_from_gaps);
	tcase_add_test(tc, rtp_stats_reordering_is_not_loss);
	tcase_add_test(tc, rtp_stats_extends_sequence_across_wrap);
	tcase_add_test(tc, rtp_stats_duplicates_make_loss_negative);
	tcase_add_test(tc, rtp_stats_restarts_after_two_sequential_packets_far_away);
	tcase_add_test(tc, rtp_stats_new_ssrc_keeps_earlier_counts);
	tcase_add_test(tc, rtp_stats_computes_interarrival_jitter);
	tcase_add_test(tc, rtp_stats_jitter_follows_the_clock_rate);
	tcase_add_test(tc, rtp_stats_counts_drops_by_reason);
	tcase_add_test(tc, rtp_stats_takes_receiver_reports_and_round_trip_time);
	tcase_add_test(tc, rtp_stats_takes_report_blocks_from_a_compound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rtp_stats_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
