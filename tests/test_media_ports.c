/*
 * test_media_ports.c: the media engine's ports and I/O paths on loopback (test_media.h):
 * even/odd port pairs in range and exhaustion, ports in use skipped, the I/O path asked
 * for, and io_uring refused by the kernel falling back to epoll.
 */
#include "test_media.h"

START_TEST(media_allocates_even_odd_ports_in_range_and_reports_exhaustion)
{
	media_engine_free(eng);
	engine_up(0, 8); /* 4 pairs: two calls */
	uint16_t p1[2][2], p2[2][2], p3[2][2];
	uint64_t c1, c2, c3;
	ck_assert_int_eq(media_call_new(eng, &c1, p1), 0);
	ck_assert_int_eq(media_call_new(eng, &c2, p2), 0);
	ck_assert_int_eq(media_call_new(eng, &c3, p3), -EADDRINUSE);
	unsigned seen = 0;
	for (int l = 0; l < 2; l++) {
		ck_assert_uint_eq(p1[l][0] % 2, 0);
		ck_assert_uint_eq(p1[l][1], p1[l][0] + 1);
		ck_assert_uint_ge(p1[l][0], range_lo);
		ck_assert_uint_le(p1[l][1], range_lo + 7);
		ck_assert_uint_eq(p2[l][0] % 2, 0);
		seen |= 1u << ((p1[l][0] - range_lo) / 2);
		seen |= 1u << ((p2[l][0] - range_lo) / 2);
	}
	ck_assert_uint_eq(seen, 0xf); /* all four pairs, none twice */
	/* bound to the configured address only, not 0.0.0.0: another loopback address can
	 * take the same port */
	struct in_addr other = {.s_addr = htonl(ntohl(lo.s_addr) ^ 1)};
	int ofd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage oss = sa4(other, p1[0][0]);
	ck_assert_int_eq(bind(ofd, (struct sockaddr *)&oss, sizeof(struct sockaddr_in)), 0);
	close(ofd);
	ck_assert_uint_ne(c1, c2);
	/* deleting frees the ports again */
	ck_assert_int_eq(media_call_delete(eng, c1), 0);
	struct media_call_stats st;
	ck_assert_int_eq(media_call_snapshot_wait(eng, c2, &st, 2000), 0);
	ck_assert_int_eq(media_call_new(eng, &c3, p3), 0);
	/* bad keys fail synchronously */
	struct media_leg_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.remote_rtp = sa4(lo, 4000);
	ck_assert_int_eq(media_leg_update(eng, c3, MEDIA_LEG_A, &lc), -EINVAL);
	ck_assert_int_eq(media_leg_update(eng, 12345 << 8, MEDIA_LEG_A, &lc), -ENOENT);
	lc.plain_rtp = true;
	ck_assert_int_eq(media_leg_update(eng, c3, MEDIA_LEG_A, &lc), 0);
}
END_TEST

START_TEST(media_skips_ports_in_use)
{
	media_engine_free(eng);
	engine_up(0, 4); /* 2 pairs */
	/* occupy the first pair's RTCP port from outside */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage ss = sa4(lo, (uint16_t)(range_lo + 1));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	uint16_t p[2][2];
	uint64_t c;
	ck_assert_int_eq(media_call_new(eng, &c, p), -EADDRINUSE); /* needs two pairs */
	close(fd);
	ck_assert_int_eq(media_call_new(eng, &c, p), 0);
}
END_TEST

START_TEST(media_engine_runs_the_io_path_asked_for)
{
	enum media_io io = media_engine_io(eng);

	ck_assert(io == MEDIA_IO_URING || io == MEDIA_IO_EPOLL);
	if (test_io != MEDIA_IO_AUTO)
		ck_assert_int_eq(io, test_io);
	ck_assert_str_eq(media_io_name(io), io == MEDIA_IO_URING ? "uring" : "epoll");
}
END_TEST

/* Where the kernel refuses io_uring (here: a seccomp filter answering io_uring_setup with
 * EPERM, as container runtimes do), io = uring refuses to start with the kernel's error
 * and io = auto runs on epoll. In a child: the filter cannot be taken off again. */
START_TEST(media_io_auto_falls_back_to_epoll_where_io_uring_is_refused)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		struct sock_filter f[] = {
		        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(10);
		struct media_engine_conf c;
		struct media_engine *e = NULL;
		memset(&c, 0, sizeof(c));
		c.workers = 2;
		c.local = sa4(lo, 0);
		c.port_min = (uint16_t)(range_lo + 200);
		c.port_max = (uint16_t)(range_lo + 209);
		c.io = MEDIA_IO_URING;
		int rc = media_engine_new(&e, &c);
		if (rc != -EPERM && rc != -ENOTSUP) /* -ENOTSUP: built without liburing */
			_exit(11);
		c.io = MEDIA_IO_AUTO;
		if (media_engine_new(&e, &c) != 0)
			_exit(12);
		if (media_engine_io(e) != MEDIA_IO_EPOLL)
			_exit(13);
		media_engine_free(e);
		_exit(0);
	}
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "child: status %d (10 seccomp, 11 uring not refused, 12 auto failed, 13 "
	              "auto not on epoll)",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

void
test_media_ports_add(TCase *tc)
{
	tcase_add_test(tc, media_allocates_even_odd_ports_in_range_and_reports_exhaustion);
	tcase_add_test(tc, media_skips_ports_in_use);
	tcase_add_test(tc, media_engine_runs_the_io_path_asked_for);
	tcase_add_test(tc, media_io_auto_falls_back_to_epoll_where_io_uring_is_refused);
}
