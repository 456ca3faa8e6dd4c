/*
 * test_media.c: the media engine's loopback tests as one Check suite, and main(). The
 * engine runs on loopback with real UDP sockets on a random 127.x.y.z and a random port
 * range; peers are plain sockets that run their own SRTP with srtp_leg (test_media.h).
 * The cases live by role in test_media_relay.c (what is relayed and what is dropped),
 * test_media_events.c (events, snapshots, leg C, deleting calls) and test_media_ports.c
 * (ports and I/O paths); test_media_budget.c holds the media state of a call to its size.
 * SW_MEDIA_IO=epoll|uring forces the workers' I/O path (tests/meson.build runs this executable once
 * per path; "uring" exits 77 when io_uring is unavailable).
 */
#include "test_media.h"

static Suite *
media_suite(void)
{
	Suite *s = suite_create("media");
	TCase *tc = tcase_create("loopback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	test_media_relay_add(tc);
	test_media_events_add(tc);
	test_media_ports_add(tc);
	test_media_budget_add(tc);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *io = getenv("SW_MEDIA_IO");

	if (io != NULL && strcmp(io, "uring") == 0)
		test_io = MEDIA_IO_URING;
	else if (io != NULL && strcmp(io, "epoll") == 0)
		test_io = MEDIA_IO_EPOLL;
	if (test_io == MEDIA_IO_URING) {
		/* skip, not fail, where this build or kernel has no io_uring */
		struct media_engine_conf c;
		struct media_engine *e = NULL;
		int rc;
		uint32_t r = 0;
		memset(&c, 0, sizeof(c));
		(void)!getrandom(&r, sizeof(r), 0); /* no ck_assert outside a test */
		c.workers = 1;
		c.local = sa4((struct in_addr){htonl(INADDR_LOOPBACK)}, 0);
		c.port_min = (uint16_t)(20000 + 2 * (r % 15000));
		c.port_max = (uint16_t)(c.port_min + 9);
		c.io = MEDIA_IO_URING;
		if ((rc = media_engine_new(&e, &c)) != 0) {
			fprintf(stderr, "test_media: io_uring unavailable (%s): skipped\n",
			        strerror(-rc));
			return 77;
		}
		media_engine_free(e);
	}
	SRunner *sr = srunner_create(media_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
