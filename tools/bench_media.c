/*
 * bench_media: the media relay in-process on loopback, next to a minimal reference relay.
 *
 * For each level (simulated calls), a generator sends G.711-sized RTP (172 octets, 50
 * packets/s per direction per call) protected with AES_CM_128_HMAC_SHA1_80 on the fly, to
 * leg A and leg B of every call; sinks take the relayed packets with kernel receive
 * timestamps and match them to their send time by SSRC and sequence number (both travel
 * in clear), so they never decrypt. The same load then runs through a reference relay
 * (recvmmsg -> srtp_unprotect -> srtp_protect -> sendmmsg, nothing else) on its own
 * sockets. Printed per level and relay: delivered packets/s, loss, added latency p50/p99
 * (send call to kernel receive, through the relay and loopback twice), and relay CPU
 * ns/packet from the relay threads' CLOCK_THREAD_CPUTIME. The engine runs on each of its
 * I/O paths (io_uring and epoll, media.h) with 1 and with 2 workers, next to the
 * reference, level by level; a relay that lost more than LOSS_FREE_PCT at a level is not
 * run at higher ones. The summary gives each relay's highest loss-free rate, its ratio to
 * the reference's, and p99 at 1,000 calls (100,000 packets/s). A tool, not a test.
 *
 *   bench_media [-d seconds] [-l 500,1000,...] [-w 1,2] [-n] [-s sockets]
 *     -n: libsrtp's own (NSS) crypto instead of the OpenSSL plug-in
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "media.h"
#include "srtp_leg.h"
#include <srtp2/srtp.h>

#define PKT_LEN       172
#define PPS           50
#define SLOTS         256
#define MAXSOCK       64
#define BATCH         32
#define HIST_US       200000 /* latency histogram: 1 us buckets up to 200 ms */
#define MAX_CALLS     4096
#define LOSS_FREE_PCT 0.01 /* "loss-free": at most this share lost (late stragglers) */
#define MAX_KINDS     9

struct bcall {
	srtp_t gen[2];         /* generator: dir 0 = A sends (KA), dir 1 = B sends (KB) */
	struct srtp_keys k[4]; /* KA, KRA (relay->A), KB, KRB (relay->B) */
	uint16_t seq[2];
	uint64_t sent_at[2][SLOTS]; /* by seq */
	uint16_t relay_port[2];     /* where dir d is sent to: leg A RTP / leg B RTP */
};

static struct bcall *calls;
static unsigned ncalls, nsock = 16;
static int sock_a[MAXSOCK], sock_b[MAXSOCK]; /* peer sockets (senders and sinks) */
static struct sockaddr_storage addr_a[MAXSOCK], addr_b[MAXSOCK];
static struct in_addr lo;
static atomic_bool gen_stop, sink_stop;
static atomic_ullong sent_total, recv_total;
static uint32_t *hist;
static uint64_t hist_over;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
thread_cpu_ns(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct sockaddr_storage
sa4(uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in s;
	memset(&ss, 0, sizeof(ss));
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr = lo;
	s.sin_port = htons(port);
	memcpy(&ss, &s, sizeof(s)); /* typed copy: no punned stores into the storage */
	return ss;
}

static int
udp_bind(uint16_t port, struct sockaddr_storage *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 4 << 20, on = 1;
	struct sockaddr_storage ss = sa4(port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) != 0) {
		perror("bench_media: socket/bind");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (bound != NULL) {
		socklen_t l = sizeof(*bound);
		getsockname(fd, (struct sockaddr *)bound, &l);
	}
	return fd;
}

static void
mkkeys(struct srtp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	RAND_bytes(k->key, 16);
	RAND_bytes(k->salt, 14);
}

static srtp_t
mk_srtp(const struct srtp_keys *k, bool outbound)
{
	srtp_policy_t p;
	uint8_t m[30];
	srtp_t s;
	memset(&p, 0, sizeof(p));
	srtp_crypto_policy_set_rtp_default(&p.rtp);
	srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	memcpy(m, k->key, 16);
	memcpy(m + 16, k->salt, 14);
	p.key = m;
	p.window_size = 128;
	if (srtp_create(&s, &p) != srtp_err_status_ok) {
		fprintf(stderr, "bench_media: srtp_create failed\n");
		exit(1);
	}
	return s;
}

/* ---- generator: paced, 2 ms ticks, each call at its own phase in the 20 ms period ---- */

static void *
gen_main(void *arg)
{
	(void)arg;
	static uint8_t bufs[MAXSOCK][BATCH][256];
	static struct mmsghdr msgs[MAXSOCK][BATCH];
	static struct iovec iovs[MAXSOCK][BATCH];
	static struct sockaddr_storage dsts[MAXSOCK][BATCH];
	unsigned cnt[2][MAXSOCK];
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	unsigned tick = 0;

	while (!atomic_load(&gen_stop)) {
		unsigned lo_i = (unsigned)((uint64_t)(tick % 10) * ncalls / 10);
		unsigned hi_i = (unsigned)((uint64_t)(tick % 10 + 1) * ncalls / 10);
		for (int d = 0; d < 2; d++) {
			memset(cnt[d], 0, sizeof(cnt[d]));
		}
		for (int d = 0; d < 2; d++) {
			int *socks = d == 0 ? sock_a : sock_b;
			for (unsigned i = lo_i; i < hi_i; i++) {
				struct bcall *c = &calls[i];
				unsigned s = i % nsock;
				if (cnt[d][s] == BATCH) {
					sendmmsg(socks[s], msgs[s], BATCH, 0);
					cnt[d][s] = 0;
				}
				unsigned n = cnt[d][s]++;
				uint8_t *b = bufs[s][n];
				uint16_t seq = ++c->seq[d];
				uint32_t ts = seq * 160u, ssrc = i << 1 | (uint32_t)d;
				memset(b, 0xd5, PKT_LEN);
				b[0] = 0x80;
				b[1] = 0;
				b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
				b[4] = (uint8_t)(ts >> 24), b[5] = (uint8_t)(ts >> 16);
				b[6] = (uint8_t)(ts >> 8), b[7] = (uint8_t)ts;
				b[8] = (uint8_t)(ssrc >> 24), b[9] = (uint8_t)(ssrc >> 16);
				b[10] = (uint8_t)(ssrc >> 8), b[11] = (uint8_t)ssrc;
				int len = PKT_LEN;
				srtp_protect(c->gen[d], b, &len);
				dsts[s][n] = sa4(c->relay_port[d]);
				iovs[s][n] = (struct iovec){.iov_base = b, .iov_len = (size_t)len};
				msgs[s][n].msg_hdr =
				        (struct msghdr){.msg_name = &dsts[s][n],
				                        .msg_namelen = sizeof(struct sockaddr_in),
				                        .msg_iov = &iovs[s][n],
				                        .msg_iovlen = 1};
				c->sent_at[d][seq % SLOTS] = now_ns();
				atomic_fetch_add_explicit(&sent_total, 1, memory_order_relaxed);
			}
			for (unsigned s = 0; s < nsock; s++)
				if (cnt[d][s] > 0)
					sendmmsg(socks[s], msgs[s], cnt[d][s], 0);
		}
		tick++;
		next.tv_nsec += 2000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

/* ---- sinks: every peer socket, kernel receive timestamps ---- */

static void *
sink_main(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	static uint8_t bufs[BATCH][2048];
	static char cbuf[BATCH][128];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (unsigned s = 0; s < nsock; s++) {
		struct epoll_event ea = {.events = EPOLLIN, .data.fd = sock_a[s]};
		struct epoll_event eb = {.events = EPOLLIN, .data.fd = sock_b[s]};
		epoll_ctl(ep, EPOLL_CTL_ADD, sock_a[s], &ea);
		epoll_ctl(ep, EPOLL_CTL_ADD, sock_b[s], &eb);
	}
	struct epoll_event evs[MAXSOCK * 2];
	while (!atomic_load(&sink_stop)) {
		int n = epoll_wait(ep, evs, MAXSOCK * 2, 50);
		for (int e = 0; e < n; e++) {
			for (;;) {
				for (int i = 0; i < BATCH; i++) {
					iov[i] = (struct iovec){.iov_base = bufs[i],
					                        .iov_len = 2048};
					m[i].msg_hdr =
					        (struct msghdr){.msg_iov = &iov[i],
					                        .msg_iovlen = 1,
					                        .msg_control = cbuf[i],
					                        .msg_controllen = sizeof(cbuf[i])};
				}
				int r = recvmmsg(evs[e].data.fd, m, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				for (int i = 0; i < r; i++) {
					const uint8_t *b = bufs[i];
					if (m[i].msg_len < 12)
						continue;
					uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
					uint32_t ssrc = (uint32_t)b[8] << 24 |
					                (uint32_t)b[9] << 16 |
					                (uint32_t)b[10] << 8 | b[11];
					unsigned ci = ssrc >> 1, d = ssrc & 1;
					if (ci >= ncalls)
						continue;
					uint64_t rx = 0;
					for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m[i].msg_hdr);
					     cm != NULL; cm = CMSG_NXTHDR(&m[i].msg_hdr, cm))
						if (cm->cmsg_level == SOL_SOCKET &&
						    cm->cmsg_type == SCM_TIMESTAMPNS) {
							struct timespec ts;
							memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
							rx = (uint64_t)ts.tv_sec * 1000000000u +
							     (uint64_t)ts.tv_nsec;
						}
					if (rx == 0)
						rx = now_ns();
					uint64_t tx = calls[ci].sent_at[d][seq % SLOTS];
					uint64_t us = rx > tx ? (rx - tx) / 1000 : 0;
					if (us < HIST_US)
						hist[us]++;
					else
						hist_over++;
					atomic_fetch_add_explicit(&recv_total, 1,
					                          memory_order_relaxed);
				}
			}
		}
	}
	close(ep);
	return NULL;
}

/* The kernel's UDP receive-buffer and send-buffer errors (system-wide: /proc/net/snmp). */
static void
udp_errors(uint64_t *rcvbuf, uint64_t *sndbuf)
{
	char line[512];
	unsigned long long v[6];
	int seen = 0; /* the second "Udp: " line holds the values */
	FILE *f = fopen("/proc/net/snmp", "r");
	*rcvbuf = *sndbuf = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Udp: ", 5) == 0 && ++seen == 2 &&
		    sscanf(line + 5, "%llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		           &v[4], &v[5]) == 6)
			*rcvbuf = v[4], *sndbuf = v[5];
	if (f != NULL)
		fclose(f);
}

static double
pct(double p, uint64_t total)
{
	uint64_t want = (uint64_t)(p * (double)total), acc = 0;
	for (unsigned i = 0; i < HIST_US; i++) {
		acc += hist[i];
		if (acc > want)
			return i / 1000.0;
	}
	return HIST_US / 1000.0;
}

struct result {
	double pps, loss_pct, p50_ms, p99_ms, ns_pkt, gen_cpu, sink_cpu, offered;
	double sys_pkt; /* the engine's I/O system calls per delivered packet; < 0: not counted */
	uint64_t sent, recv;
	uint64_t udp_rcvbuf_err, udp_sndbuf_err; /* during the run, system-wide */
};

/* run the load for `secs` against whatever relay listens on calls[].relay_port */
static void
run_load(unsigned secs, uint64_t (*cpu)(void *), void *cpu_arg, struct result *r)
{
	pthread_t g, s;
	uint8_t junk[2048];
	/* stragglers of the previous run must not count in this one */
	for (unsigned k = 0; k < nsock; k++) {
		while (recv(sock_a[k], junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		while (recv(sock_b[k], junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
	memset(hist, 0, sizeof(uint32_t) * HIST_US);
	hist_over = 0;
	atomic_store(&sent_total, 0);
	atomic_store(&recv_total, 0);
	atomic_store(&gen_stop, false);
	atomic_store(&sink_stop, false);
	pthread_create(&s, NULL, sink_main, NULL);
	uint64_t rb0, sb0, rb1, sb1;
	udp_errors(&rb0, &sb0);
	uint64_t cpu0 = cpu(cpu_arg), t0 = now_ns();
	pthread_create(&g, NULL, gen_main, NULL);
	sleep(secs);
	uint64_t tg = now_ns();
	r->gen_cpu = (double)thread_cpu_ns(g) / (double)(tg - t0);
	atomic_store(&gen_stop, true);
	pthread_join(g, NULL);
	/* drain: until nothing arrived for 300 ms (at most 5 s), so that late is not lost */
	uint64_t last = atomic_load(&recv_total);
	for (int quiet = 0, waited = 0; quiet < 3 && waited < 50; waited++) {
		usleep(100000);
		uint64_t now = atomic_load(&recv_total);
		quiet = now == last ? quiet + 1 : 0;
		last = now;
	}
	uint64_t cpu1 = cpu(cpu_arg), t1 = now_ns();
	udp_errors(&rb1, &sb1);
	r->udp_rcvbuf_err = rb1 - rb0;
	r->udp_sndbuf_err = sb1 - sb0;
	r->sink_cpu = (double)thread_cpu_ns(s) / (double)(t1 - t0);
	atomic_store(&sink_stop, true);
	pthread_join(s, NULL);
	r->sent = atomic_load(&sent_total);
	r->recv = atomic_load(&recv_total);
	/* rates over the generator's run; the drain only collects stragglers */
	r->pps = (double)r->recv / ((double)(tg - t0) / 1e9);
	r->offered = (double)r->sent / ((double)(tg - t0) / 1e9);
	r->loss_pct = r->sent ? 100.0 * ((double)r->sent - (double)r->recv) / (double)r->sent : 0;
	r->p50_ms = pct(0.50, r->recv);
	r->p99_ms = pct(0.99, r->recv);
	r->ns_pkt = r->recv ? (double)(cpu1 - cpu0) / (double)r->recv : 0;
}

/* ---- the engine under test ---- */

static uint64_t
engine_cpu(void *arg)
{
	uint64_t ns = 0;
	for (unsigned i = 0; i < media_engine_workers(arg); i++)
		ns += media_engine_worker_cpu_ns(arg, i);
	return ns;
}

/* 0, or the engine's refusal (an I/O path this build or kernel does not have) */
static int
run_engine(unsigned secs, uint16_t pmin, enum media_io io, unsigned workers, struct result *r)
{
	struct media_engine_conf ec;
	struct media_engine *e;
	int err;
	memset(&ec, 0, sizeof(ec));
	ec.workers = workers;
	ec.io = io;
	ec.local = sa4(0);
	ec.port_min = pmin;
	ec.port_max = (uint16_t)(pmin + ncalls * 4 + 400);
	if ((err = media_engine_new(&e, &ec)) != 0)
		return err;
	uint64_t *ids = calloc(ncalls, sizeof(*ids));
	for (unsigned i = 0; i < ncalls; i++) {
		uint16_t ports[2][2];
		int rc = media_call_new(e, &ids[i], ports);
		if (rc != 0) {
			fprintf(stderr, "bench_media: media_call_new: %s\n", strerror(-rc));
			exit(1);
		}
		struct media_leg_conf lc;
		for (int l = 0; l < 2; l++) {
			memset(&lc, 0, sizeof(lc));
			lc.remote_rtp = l == 0 ? addr_a[i % nsock] : addr_b[i % nsock];
			lc.rx = calls[i].k[l * 2];
			lc.tx = calls[i].k[l * 2 + 1];
			if ((rc = media_leg_update(e, ids[i], (enum media_leg_id)l, &lc)) != 0) {
				fprintf(stderr, "bench_media: media_leg_update: %s\n",
				        strerror(-rc));
				exit(1);
			}
			calls[i].relay_port[l] = ports[l][0];
		}
	}
	struct media_call_stats st;
	media_call_snapshot_wait(e, ids[ncalls - 1], &st, 5000);
	uint64_t sys0 = 0, sys1 = 0;
	for (unsigned i = 0; i < workers; i++)
		sys0 += media_engine_worker_syscalls(e, i);
	run_load(secs, engine_cpu, e, r);
	for (unsigned i = 0; i < workers; i++)
		sys1 += media_engine_worker_syscalls(e, i);
	r->sys_pkt = r->recv ? (double)(sys1 - sys0) / (double)r->recv : 0;
	/* every call: what the engine took in and sent, next to what the sinks got */
	uint64_t drops = 0, in = 0, out = 0;
	for (unsigned i = 0; i < ncalls; i++) {
		if (media_call_snapshot_wait(e, ids[i], &st, 5000) != 0)
			continue;
		for (int l = 0; l < 2; l++) {
			drops += rtp_stats_drops_total(&st.leg[l].rx) +
			         rtp_stats_drops_total(&st.leg[l].tx);
			in += st.leg[l].rx.packets;
			out += st.leg[l].tx.packets;
		}
	}
	if (drops || in != r->sent || out != r->recv)
		printf("  (engine: %" PRIu64 " packets in, %" PRIu64 " out, %" PRIu64
		       " dropped; generator sent %" PRIu64 ", sinks got %" PRIu64 ")\n",
		       in, out, drops, r->sent, r->recv);
	media_engine_free(e);
	free(ids);
	return 0;
}

/* ---- the reference relay ---- */

struct ref_dir {
	int fd_in, fd_out;
	srtp_t rx, tx;
	struct sockaddr_storage dst;
};

static struct ref_dir *refs;
static atomic_bool ref_stop;
static pthread_t ref_thr;

static void *
ref_main(void *arg)
{
	int ep = *(int *)arg;
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr rm[BATCH], sm[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct epoll_event evs[64];
	while (!atomic_load(&ref_stop)) {
		int n = epoll_wait(ep, evs, 64, 50);
		for (int e = 0; e < n; e++) {
			struct ref_dir *d = evs[e].data.ptr;
			for (int i = 0; i < BATCH; i++) {
				riov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = 1500};
				rm[i].msg_hdr =
				        (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
			}
			int r = recvmmsg(d->fd_in, rm, BATCH, MSG_DONTWAIT, NULL);
			int k = 0;
			for (int i = 0; i < r; i++) {
				int len = (int)rm[i].msg_len;
				if (srtp_unprotect(d->rx, bufs[i], &len) != srtp_err_status_ok)
					continue;
				if (srtp_protect(d->tx, bufs[i], &len) != srtp_err_status_ok)
					continue;
				siov[k] =
				        (struct iovec){.iov_base = bufs[i], .iov_len = (size_t)len};
				sm[k].msg_hdr =
				        (struct msghdr){.msg_name = &d->dst,
				                        .msg_namelen = sizeof(struct sockaddr_in),
				                        .msg_iov = &siov[k],
				                        .msg_iovlen = 1};
				k++;
			}
			if (k > 0)
				sendmmsg(d->fd_out, sm, (unsigned)k, 0);
		}
	}
	return NULL;
}

static uint64_t
ref_cpu(void *arg)
{
	(void)arg;
	return thread_cpu_ns(ref_thr);
}

static void
run_reference(unsigned secs, struct result *r)
{
	int ep = epoll_create1(0);
	refs = calloc((size_t)ncalls * 2, sizeof(*refs));
	for (unsigned i = 0; i < ncalls; i++) {
		struct sockaddr_storage ba, bb;
		int fa = udp_bind(0, &ba);
		int fb = udp_bind(0, &bb);
		/* dir 0: A -> relay(fa) -> B from fb; dir 1: B -> relay(fb) -> A from fa */
		refs[2 * i] = (struct ref_dir){.fd_in = fa,
		                               .fd_out = fb,
		                               .rx = mk_srtp(&calls[i].k[0], false),
		                               .tx = mk_srtp(&calls[i].k[3], true),
		                               .dst = addr_b[i % nsock]};
		refs[2 * i + 1] = (struct ref_dir){.fd_in = fb,
		                                   .fd_out = fa,
		                                   .rx = mk_srtp(&calls[i].k[2], false),
		                                   .tx = mk_srtp(&calls[i].k[1], true),
		                                   .dst = addr_a[i % nsock]};
		calls[i].relay_port[0] = ntohs(((struct sockaddr_in *)&ba)->sin_port);
		calls[i].relay_port[1] = ntohs(((struct sockaddr_in *)&bb)->sin_port);
		for (int d = 0; d < 2; d++) {
			struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &refs[2 * i + d]};
			epoll_ctl(ep, EPOLL_CTL_ADD, refs[2 * i + d].fd_in, &ee);
		}
	}
	atomic_store(&ref_stop, false);
	pthread_create(&ref_thr, NULL, ref_main, &ep);
	run_load(secs, ref_cpu, NULL, r);
	atomic_store(&ref_stop, true);
	pthread_join(ref_thr, NULL);
	for (unsigned i = 0; i < ncalls * 2; i++) {
		if (i % 2 == 0)
			close(refs[i].fd_in), close(refs[i].fd_out);
		srtp_dealloc(refs[i].rx);
		srtp_dealloc(refs[i].tx);
	}
	free(refs);
	close(ep);
}

static void
print_row(const char *name, unsigned n, const struct result *r)
{
	char sys[16] = "-";
	if (r->sys_pkt >= 0)
		snprintf(sys, sizeof(sys), "%.3f", r->sys_pkt);
	printf("%6u %-12s %9.0f %8.3f%% %8.3f %8.3f %7.0f %8s   (offered %.0f of %u pps, generator "
	       "%.0f%% CPU, sink %.0f%% CPU",
	       n, name, r->pps, r->loss_pct, r->p50_ms, r->p99_ms, r->ns_pkt, sys, r->offered,
	       n * PPS * 2, 100 * r->gen_cpu, 100 * r->sink_cpu);
	if (r->udp_rcvbuf_err || r->udp_sndbuf_err)
		printf("; UDP buffer errors: %" PRIu64 " receive, %" PRIu64 " send",
		       r->udp_rcvbuf_err, r->udp_sndbuf_err);
	printf(")\n");
}

/* One relay under test: the engine on an I/O path with n workers, or the reference. */
struct kind {
	char name[16];
	bool reference;
	enum media_io io;
	unsigned workers;
	bool failed, skipped; /* lost too much at a level / cannot run here */
	double best_pps;      /* highest loss-free delivered rate */
	unsigned best_calls;
	double p99_100k, loss_100k; /* at 1,000 calls; p99 < 0: not measured */
	double ns_pkt;              /* relay CPU per packet at the highest level it ran */
	unsigned ns_calls;
};

static void
fresh_generator(void)
{
	/* fresh generator sessions: every relay starts with new replay windows */
	for (unsigned i = 0; i < ncalls; i++) {
		for (int d = 0; d < 2; d++) {
			srtp_dealloc(calls[i].gen[d]);
			calls[i].gen[d] = mk_srtp(&calls[i].k[d * 2], true);
		}
	}
}

static double
load_avg(void)
{
	double l[1] = {0};
	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

int
main(int argc, char **argv)
{
	unsigned secs = 5, levels[16] = {500, 1000, 1500, 2000, 2500, 3000, 4000}, nlevels = 7;
	unsigned workers[4] = {1, 2}, nwork = 2;
	bool want_uring = true, want_epoll = true;
	bool nss = false;
	int opt;

	while ((opt = getopt(argc, argv, "d:l:nr:w:s:")) != -1) {
		switch (opt) {
		case 'd':
			secs = (unsigned)atoi(optarg);
			break;
		case 'l':
			nlevels = 0;
			for (char *t = strtok(optarg, ","); t != NULL && nlevels < 16;
			     t = strtok(NULL, ","))
				levels[nlevels++] = (unsigned)atoi(t);
			break;
		case 'n':
			nss = true;
			break;
		case 'r': /* engine paths to run: uring, epoll or both (the reference always runs)
		           */
			want_uring = strstr(optarg, "uring") != NULL;
			want_epoll = strstr(optarg, "epoll") != NULL;
			break;
		case 'w':
			nwork = 0;
			for (char *t = strtok(optarg, ","); t != NULL && nwork < 3;
			     t = strtok(NULL, ","))
				if (atoi(t) > 0)
					workers[nwork++] = (unsigned)atoi(t);
			break;
		case 's':
			nsock = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_media [-d secs] [-l n,n,...] [-w n,n] [-r "
			                "uring,epoll] "
			                "[-n] [-s sockets]\n");
			return 2;
		}
	}
	if (nsock == 0 || nsock > MAXSOCK)
		nsock = 16;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (media_global_init_crypto(!nss) != 0) {
		fprintf(stderr, "bench_media: media_global_init failed\n");
		return 1;
	}
	uint32_t r;
	getrandom(&r, sizeof(r), 0);
	lo.s_addr = htonl(0x7f000000u | (1 + r % 250) << 16 | (1 + (r >> 8) % 250) << 8 |
	                  (2 + (r >> 16) % 250));
	uint16_t pbase = (uint16_t)(20000 + 2 * ((r >> 24) % 2000));
	hist = calloc(HIST_US, sizeof(uint32_t));
	for (unsigned s = 0; s < nsock; s++) {
		sock_a[s] = udp_bind(0, &addr_a[s]);
		sock_b[s] = udp_bind(0, &addr_b[s]);
	}
	struct kind kinds[MAX_KINDS];
	unsigned nk = 0;
	memset(kinds, 0, sizeof(kinds));
	for (unsigned wi = 0; wi < nwork && nk + 3 <= MAX_KINDS; wi++) {
		for (int p = 0; p < 2; p++) {
			if ((p == 0 && !want_uring) || (p == 1 && !want_epoll))
				continue;
			struct kind *k = &kinds[nk++];
			k->io = p == 0 ? MEDIA_IO_URING : MEDIA_IO_EPOLL;
			k->workers = workers[wi];
			snprintf(k->name, sizeof(k->name), "%s %uw", media_io_name(k->io),
			         k->workers);
		}
	}
	kinds[nk].reference = true;
	snprintf(kinds[nk++].name, sizeof(kinds[0].name), "reference");
	for (unsigned i = 0; i < nk; i++)
		kinds[i].p99_100k = -1;

	printf("bench_media: %s crypto, %u s per level, %d pps/direction/call, %d-octet RTP, "
	       "AES_CM_128_HMAC_SHA1_80 both legs, %u peer sockets per side, %s, %ld CPUs, load "
	       "average %.2f at start\n",
	       media_global_openssl() ? "OpenSSL plug-in" : "libsrtp default (NSS)", secs, PPS,
	       PKT_LEN, nsock, inet_ntoa(lo), sysconf(_SC_NPROCESSORS_ONLN), load_avg());
	printf("%6s %-12s %9s %9s %8s %8s %7s %8s\n", "calls", "relay", "pps", "loss", "p50 ms",
	       "p99 ms", "ns/pkt", "sys/pkt");
	for (unsigned li = 0; li < nlevels; li++) {
		ncalls = levels[li];
		if (ncalls == 0 || ncalls > MAX_CALLS)
			continue;
		bool any = false;
		for (unsigned i = 0; i < nk; i++)
			any |= !kinds[i].failed && !kinds[i].skipped;
		if (!any)
			break;
		calls = calloc(ncalls, sizeof(*calls));
		for (unsigned i = 0; i < ncalls; i++) {
			for (int k = 0; k < 4; k++)
				mkkeys(&calls[i].k[k]);
			calls[i].gen[0] = mk_srtp(&calls[i].k[0], true);
			calls[i].gen[1] = mk_srtp(&calls[i].k[2], true);
			getrandom(calls[i].seq, sizeof(calls[i].seq), 0);
			calls[i].seq[0] &= 0x7fff;
			calls[i].seq[1] &= 0x7fff;
		}
		for (unsigned i = 0; i < nk; i++) {
			struct kind *k = &kinds[i];
			struct result res;
			if (k->failed || k->skipped)
				continue;
			fresh_generator();
			if (k->reference) {
				run_reference(secs, &res);
				res.sys_pkt = -1;
			} else {
				int err = run_engine(secs, pbase, k->io, k->workers, &res);
				if (err != 0) {
					printf("%6u %-12s unavailable here: %s\n", ncalls, k->name,
					       strerror(-err));
					k->skipped = true;
					continue;
				}
			}
			print_row(k->name, ncalls, &res);
			if (res.loss_pct > LOSS_FREE_PCT) {
				k->failed = true;
			} else if (res.pps > k->best_pps) {
				k->best_pps = res.pps;
				k->best_calls = ncalls;
			}
			if (res.ns_pkt > 0 && (k->ns_pkt == 0 || ncalls >= k->ns_calls)) {
				k->ns_pkt = res.ns_pkt; /* at the highest level it ran */
				k->ns_calls = ncalls;
			}
			if (ncalls == 1000) {
				k->p99_100k = res.p99_ms;
				k->loss_100k = res.loss_pct;
			}
			fflush(stdout);
		}
		printf("       (load average %.2f)\n", load_avg());
		for (unsigned i = 0; i < ncalls; i++) {
			srtp_dealloc(calls[i].gen[0]);
			srtp_dealloc(calls[i].gen[1]);
			for (int k = 0; k < 4; k++)
				OPENSSL_cleanse(&calls[i].k[k], sizeof(calls[i].k[k]));
		}
		free(calls);
	}
	const struct kind *ref = &kinds[nk - 1];
	printf("\nsummary (loss-free: at most %.2f%% lost; a relay that never lost more than that "
	       "was limited by the levels run or by the box, not by itself)\n",
	       LOSS_FREE_PCT);
	printf("%-12s %14s %8s %12s %14s %12s %22s\n", "relay", "loss-free pps", "(calls)",
	       "x reference", "CPU ns/pkt", "1e9/ns (x)", "p99 ms at 100k pps");
	for (unsigned i = 0; i < nk; i++) {
		const struct kind *k = &kinds[i];
		if (k->skipped) {
			printf("%-12s unavailable here\n", k->name);
			continue;
		}
		char p99[32] = "not run";
		if (k->p99_100k >= 0)
			snprintf(p99, sizeof(p99), "%.3f (loss %.3f%%)", k->p99_100k, k->loss_100k);
		char cap[32];
		snprintf(cap, sizeof(cap), "%.0fk (%.2f)", k->ns_pkt > 0 ? 1e6 / k->ns_pkt : 0,
		         k->ns_pkt > 0 && ref->ns_pkt > 0 ? ref->ns_pkt / k->ns_pkt : 0);
		printf("%-12s %14.0f %8u %12.2f %14.0f %12s %22s%s\n", k->name, k->best_pps,
		       k->best_calls, ref->best_pps > 0 ? k->best_pps / ref->best_pps : 0,
		       k->ns_pkt, cap, p99, k->failed ? "" : "  (never lost: ceiling not reached)");
	}
	for (unsigned s = 0; s < nsock; s++) {
		close(sock_a[s]);
		close(sock_b[s]);
	}
	free(hist);
	return 0;
}
