/*
 * test_media_events.c: the media engine's events, snapshots and call life on loopback
 * (test_media.h): the event queue's cost, snapshots while packets flow, idle legs, a
 * bridge's third leg (added, paired, replaced and dropped while packets flow), deleting a
 * call while packets flow.
 */
#include "test_media.h"

/* A worker's event queue is allocated whole at start and becomes resident as it wraps,
 * whatever the load: 4,096 whole events (2 KB of statistics each) were 8.7 MB a worker.
 * On the io_uring path the worker also has its receive buffers (2,048 x 1,728 octets,
 * 20 ms of 100,000 packets/s, and their send state): 4 MiB more at most. (Under ASan
 * mallinfo2() sees nothing.) */
START_TEST(media_event_queue_of_4096_costs_under_4_mb_per_worker)
{
	struct media_engine_conf c;
	struct media_engine *e = NULL;
	struct mallinfo2 before, after;
	size_t used;

	memset(&c, 0, sizeof(c));
	c.workers = 1;
	c.local = sa4(lo, 0);
	c.port_min = range_lo;
	c.port_max = (uint16_t)(range_lo + 9);
	c.event_queue_len = 4096;
	c.io = test_io;
	before = mallinfo2();
	ck_assert_int_eq(media_engine_new(&e, &c), 0);
	after = mallinfo2();
	used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
	size_t limit = (4u << 20) + (media_engine_io(e) == MEDIA_IO_URING ? (4u << 20) : 0);
	ck_assert_msg(used < limit, "an engine with one worker (%s) allocated %zu bytes",
	              media_io_name(media_engine_io(e)), used);
	media_engine_free(e);
}
END_TEST

/* Resident pages of this process (/proc/self/statm's second field). */
static long
resident_pages(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res;
}

/* The io_uring worker's receive buffers (3.4 MiB) are resident once the engine has
 * started: no page fault on a buffer's first use in the packet path, and the memory
 * shows at start instead of as the first calls'. (Fresh pages from calloc are not
 * resident; pages glibc reuses may already be, so only the first case can fail.) */
START_TEST(media_uring_buffers_are_resident_from_the_start)
{
	struct media_engine_conf c;
	struct media_engine *e = NULL;
	long page = sysconf(_SC_PAGESIZE), before, grew;

	memset(&c, 0, sizeof(c));
	c.workers = 1;
	c.local = sa4(lo, 0);
	c.port_min = range_lo;
	c.port_max = (uint16_t)(range_lo + 9);
	c.io = test_io;
	before = resident_pages();
	ck_assert_int_eq(media_engine_new(&e, &c), 0);
	grew = (resident_pages() - before) * page;
	if (media_engine_io(e) == MEDIA_IO_URING)
		ck_assert_msg(grew >= 3l << 20,
		              "an io_uring worker started with %ld bytes more resident", grew);
	media_engine_free(e);
}
END_TEST

START_TEST(media_snapshot_while_flowing)
{
	struct peer a, b;
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint64_t prev = 0;
	unsigned got = 0;
	for (int i = 0; i < 10; i++) {
		for (int k = 0; k < 10; k++)
			peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
		struct media_call_stats st;
		sync_engine(&st); /* taken while packets are still queued or in flight */
		ck_assert_uint_ge(st.leg[MEDIA_LEG_A].rx.packets, prev);
		prev = st.leg[MEDIA_LEG_A].rx.packets;
		got += drain_count(b.fd, 20);
	}
	got += drain_count(b.fd, 200);
	ck_assert_uint_eq(got, 100);
	struct media_call_stats st;
	sync_engine(&st);
	const struct rtp_stats *rx = &st.leg[MEDIA_LEG_A].rx;
	ck_assert_uint_eq(rx->packets, 100);
	ck_assert_uint_eq(rx->bytes, 100 * 182);
	ck_assert_uint_eq(rtp_stats_expected(rx), 99); /* first packet is probation */
	ck_assert_int_eq(rtp_stats_lost(rx), 0);
	ck_assert_uint_gt(rx->first_ns, 0);
	ck_assert_uint_ge(rx->last_ns, rx->first_ns);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 100);

	/* the asynchronous form, as the signalling loop uses it */
	struct evlog lg;
	memset(&lg, 0, sizeof(lg));
	ck_assert_int_eq(media_call_snapshot(eng, cid, 77), 0);
	for (int i = 0; i < 20 && lg.snapshot == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.snapshot, 1);
	ck_assert_uint_eq(lg.cookie, 77);
	ck_assert_uint_eq(lg.last.leg[MEDIA_LEG_A].rx.packets, 100);

	/* delete: final stats, then the call is gone */
	ck_assert_int_eq(media_call_delete(eng, cid), 0);
	for (int i = 0; i < 20 && lg.deleted == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.deleted, 1);
	ck_assert_uint_eq(lg.last.leg[MEDIA_LEG_B].tx.packets, 100);
	struct media_call_stats gone;
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid, &gone, 2000), -ENOENT);
	ck_assert_int_eq(media_call_snapshot_wait(eng, cid + (1 << 20), &gone, 100), -ENOENT);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* A bridge transfer: leg C gets its own ports and keys, A is paired with it, and B (the
 * agent) is left relaying nothing; A's keys and session are untouched by the move. */
START_TEST(media_moves_a_leg_to_a_new_third_leg_with_its_own_keys)
{
	struct peer a, b, h;
	uint16_t pc[2];
	struct media_call_stats st;

	peer_new(&a, true);
	peer_new(&b, true);
	peer_new(&h, true);
	h.seq = 65450; /* the first leg C's sequence numbers roll over */
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x11);
	expect_rtp(&b, s, 0x11, &a);

	ck_assert_int_eq(media_leg_add(eng, cid, pc), 0);
	ck_assert_uint_eq(pc[0] % 2, 0);
	ck_assert_uint_eq(pc[1], pc[0] + 1);
	ck_assert_uint_ne(pc[0], ports[MEDIA_LEG_A][0]);
	ck_assert_uint_ne(pc[0], ports[MEDIA_LEG_B][0]);
	/* not yet paired: the new leg relays nothing, A still goes to B */
	configure(MEDIA_LEG_C, &h, false, false);
	sync_engine(NULL);
	s = peer_send(&h, pc[0], 0x22);
	ck_assert_uint_eq(drain_count(a.fd, 200), 0);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x12);
	expect_rtp(&b, s, 0x12, &a);

	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_A), -EINVAL);
	sync_engine(NULL);
	for (int i = 0; i < 10; i++) {
		s = peer_send(&a, ports[MEDIA_LEG_A][0], (uint8_t)i);
		expect_rtp(&h, s, (uint8_t)i, &a); /* the human decrypts with its own keys */
		s = peer_send(&h, pc[0], (uint8_t)(0x40 + i));
		expect_rtp(&a, s, (uint8_t)(0x40 + i), &h); /* A's keys did not change */
	}
	/* the agent's leg relays nothing any more, and what it sends is counted */
	s = peer_send(&b, ports[MEDIA_LEG_B][0], 0x33);
	ck_assert_uint_eq(drain_count(a.fd, 200), 0);
	ck_assert_uint_eq(drain_count(b.fd, 10), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].rx.packets, 10);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].tx.packets, 10);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, pc[0]);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].tx.packets, 2);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_B].rx.drops[RTP_DROP_OTHER], 1);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_A].rx.packets, 12);

	/* dropping leg C leaves A without a partner until paired again (here: with B) */
	ck_assert_int_eq(media_leg_drop(eng, cid), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_B), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, 0);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x44);
	expect_rtp(&b, s, 0x44, &a);
	peer_free(&a);
	peer_free(&b);
	peer_free(&h);
}
END_TEST

START_TEST(media_reports_idle_legs)
{
	struct peer a, b;
	struct evlog lg;
	memset(&lg, 0, sizeof(lg));
	media_engine_free(eng);
	engine_up(1, 200);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
	peer_new(&a, true);
	peer_new(&b, true);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	for (int i = 0; i < 40 && lg.idle < 2; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.idle, 2); /* both legs, once */
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
	expect_rtp(&b, s, 0x01, &a);
	for (int i = 0; i < 10 && lg.active == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.active, 1);
	ck_assert_uint_eq(lg.first, 1);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* Delete a call with packets queued on its sockets and in flight: the worker lets go of
 * it (on the io_uring path only once the kernel has), its ports become free again, and
 * the next call relays. Under ASan this is the use-after-free check of the deferred free. */
START_TEST(media_deletes_a_call_while_packets_flow)
{
	struct peer a, b;
	struct evlog lg;
	uint16_t old[2][2];

	peer_new(&a, true);
	peer_new(&b, true);
	a.seq = b.seq = 65400; /* the first call's sequence numbers roll over */
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	memcpy(old, ports, sizeof(old));
	for (int i = 0; i < 300; i++) {
		peer_send(&a, ports[MEDIA_LEG_A][0], 0x01);
		peer_send(&b, ports[MEDIA_LEG_B][0], 0x02);
	}
	ck_assert_int_eq(media_call_delete(eng, cid), 0);
	memset(&lg, 0, sizeof(lg));
	for (int i = 0; i < 20 && lg.deleted == 0; i++)
		pump(&lg, 100);
	ck_assert_uint_eq(lg.deleted, 1);
	/* the four ports are closed once nothing names them any more: within 2 s */
	bool freed = false;
	for (int t = 0; t < 200 && !freed; t++) {
		freed = true;
		for (int l = 0; l < 2 && freed; l++) {
			for (int k = 0; k < 2 && freed; k++) {
				int fd = socket(AF_INET, SOCK_DGRAM, 0);
				struct sockaddr_storage ss = sa4(lo, old[l][k]);
				freed = bind(fd, (struct sockaddr *)&ss,
				             sizeof(struct sockaddr_in)) == 0;
				close(fd);
			}
		}
		if (!freed)
			poll(NULL, 0, 10);
	}
	ck_assert_msg(freed, "a deleted call's ports are still bound after 2 s");
	/* the next call's peers start afresh: new keys and sequence numbers (a peer that kept
	 * its SRTP session would carry a rollover counter of 1 into the new call's fresh
	 * session whenever its 300 packets crossed sequence number 65535) */
	peer_free(&a);
	peer_free(&b);
	peer_new(&a, true);
	peer_new(&b, true);
	ck_assert_int_eq(media_call_new(eng, &cid, ports), 0);
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	sync_engine(NULL);
	uint16_t s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x33);
	expect_rtp(&b, s, 0x33, &a);
	peer_free(&a);
	peer_free(&b);
}
END_TEST

/* Leg C replaced and then dropped while its old sockets still have packets queued: the
 * old sockets' packets are never relayed (on the io_uring path their late completions are
 * recognised as stale), their ports come free, and the new leg C relays. */
START_TEST(media_replaces_and_drops_leg_c_while_packets_flow)
{
	struct peer a, b, h;
	uint16_t pc[2], pc2[2];
	struct media_call_stats st;

	peer_new(&a, true);
	peer_new(&b, true);
	peer_new(&h, true);
	h.seq = 65450; /* the first leg C's sequence numbers roll over */
	configure(MEDIA_LEG_A, &a, false, false);
	configure(MEDIA_LEG_B, &b, false, false);
	ck_assert_int_eq(media_leg_add(eng, cid, pc), 0);
	configure(MEDIA_LEG_C, &h, false, false);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	sync_engine(NULL);
	uint16_t s = peer_send(&h, pc[0], 0x21);
	expect_rtp(&a, s, 0x21, &h);
	for (int i = 0; i < 200; i++)
		peer_send(&h, pc[0], 0x22);
	/* a new leg C at once: the old one's sockets go with packets still on them. Its peer
	 * is new too (a new leg gets new keys: a peer keeping its SRTP session would carry
	 * its rollover counter into the new leg's fresh session) */
	ck_assert_int_eq(media_leg_add(eng, cid, pc2), 0);
	peer_free(&h);
	peer_new(&h, true);
	configure(MEDIA_LEG_C, &h, false, false);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_C), 0);
	sync_engine(NULL);
	drain_count(a.fd, 100); /* what the old leg relayed before it went */
	ck_assert_msg(ports_free_within_2s(pc, 2), "the replaced leg C's ports are still bound");
	s = peer_send(&h, pc2[0], 0x23);
	expect_rtp(&a, s, 0x23, &h);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, pc2[0]);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].rx.packets, 1);

	for (int i = 0; i < 200; i++)
		peer_send(&h, pc2[0], 0x24);
	ck_assert_int_eq(media_leg_drop(eng, cid), 0);
	ck_assert_int_eq(media_call_pair(eng, cid, MEDIA_LEG_A, MEDIA_LEG_B), 0);
	sync_engine(&st);
	ck_assert_uint_eq(st.leg[MEDIA_LEG_C].local_rtp_port, 0);
	ck_assert_msg(ports_free_within_2s(pc2, 2), "the dropped leg C's ports are still bound");
	drain_count(a.fd, 100);
	s = peer_send(&a, ports[MEDIA_LEG_A][0], 0x25);
	expect_rtp(&b, s, 0x25, &a);
	peer_free(&a);
	peer_free(&b);
	peer_free(&h);
}
END_TEST

void
test_media_events_add(TCase *tc)
{
	tcase_add_test(tc, media_event_queue_of_4096_costs_under_4_mb_per_worker);
	tcase_add_test(tc, media_uring_buffers_are_resident_from_the_start);
	tcase_add_test(tc, media_snapshot_while_flowing);
	tcase_add_test(tc, media_reports_idle_legs);
	tcase_add_test(tc, media_moves_a_leg_to_a_new_third_leg_with_its_own_keys);
	tcase_add_test(tc, media_deletes_a_call_while_packets_flow);
	tcase_add_test(tc, media_replaces_and_drops_leg_c_while_packets_flow);
}
