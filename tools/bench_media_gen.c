/*
 * bench_media_gen: the load side of bench_media; see bench_media_gen.h for who owns what.
 *
 * A level's packets are protected before the timed run, into one arena laid out in send
 * order ([packet k][direction][call]), so that the generator does nothing per packet but
 * point an iovec at it and call sendmmsg on a 2 ms schedule: what it offers is then limited
 * by the kernel's send path, not by crypto. Each call sends at its own phase in the 20 ms
 * period (a tenth of the calls every tick). The sinks never decrypt: SSRC and sequence
 * number travel in clear, and they match a packet to its send time by them, with the
 * kernel's receive timestamp. Every relay of a level gets the same packets (each relay has
 * fresh receive sessions, so no replay window sees them twice).
 */
#include "bench_media_gen.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SLOT    192    /* arena slot: 172 + 10 (HMAC-SHA1-80 tag), rounded up */
#define BATCH   64     /* sendmmsg / recvmmsg batch */
#define HIST_US 200000 /* latency histogram: 1 us buckets up to 200 ms */
#define TICK_NS 2000000u
#define TICKS   10 /* ticks per 20 ms packet period */

uint64_t
bench_media_gen_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
bench_media_gen_thread_cpu_ns(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sockaddr_storage
bench_media_gen_addr(const struct bench_media_gen *g, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in s;
	memset(&ss, 0, sizeof(ss));
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr = g->lo;
	s.sin_port = htons(port);
	memcpy(&ss, &s, sizeof(s)); /* typed copy: no punned stores into the storage */
	return ss;
}

int
bench_media_gen_udp_bind(const struct bench_media_gen *g, uint16_t port,
                         struct sockaddr_storage *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 4 << 20, on = 1;
	struct sockaddr_storage ss = bench_media_gen_addr(g, port);
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

srtp_t
bench_media_gen_srtp(const struct srtp_keys *k, bool outbound)
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
	OPENSSL_cleanse(m, sizeof(m));
	return s;
}

unsigned
bench_media_gen_tids(pid_t *out, unsigned max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	unsigned n = 0;
	while (d != NULL && (de = readdir(d)) != NULL && n < max)
		if (de->d_name[0] != '.')
			out[n++] = (pid_t)atoi(de->d_name);
	if (d != NULL)
		closedir(d);
	return n;
}

int
bench_media_gen_pin(pid_t tid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((unsigned)cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) == 0 ? 0 : -errno;
}

void
bench_media_gen_affinity(pid_t tid, char *buf, size_t len)
{
	cpu_set_t set;
	size_t o = 0;
	buf[0] = '\0';
	if (sched_getaffinity(tid, sizeof(set), &set) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && o + 8 < len; c++)
		if (CPU_ISSET((unsigned)c, &set))
			o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? "," : "", c);
}

int
bench_media_gen_init(struct bench_media_gen *g, unsigned nsock, int cpu, size_t arena_cap)
{
	uint32_t r;
	memset(g, 0, sizeof(*g));
	g->nsock = nsock == 0 || nsock > BENCH_MEDIA_MAXSOCK ? 16 : nsock;
	g->cpu = cpu;
	g->arena_cap = arena_cap;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	g->lo.s_addr = htonl(0x7f000000u | (1 + r % 250) << 16 | (1 + (r >> 8) % 250) << 8 |
	                     (2 + (r >> 16) % 250));
	if ((g->hist = calloc(HIST_US, sizeof(uint32_t))) == NULL)
		return -ENOMEM;
	for (unsigned s = 0; s < g->nsock; s++) {
		g->sock_a[s] = bench_media_gen_udp_bind(g, 0, &g->addr_a[s]);
		g->sock_b[s] = bench_media_gen_udp_bind(g, 0, &g->addr_b[s]);
	}
	return 0;
}

void
bench_media_gen_fini(struct bench_media_gen *g)
{
	for (unsigned s = 0; s < g->nsock; s++) {
		close(g->sock_a[s]);
		close(g->sock_b[s]);
	}
	free(g->hist);
	g->hist = NULL;
}

static uint8_t *
slot(const struct bench_media_gen *g, unsigned k, unsigned d, unsigned i)
{
	return g->arena + (((size_t)k * 2 + d) * g->ncalls + i) * SLOT;
}

int
bench_media_gen_level(struct bench_media_gen *g, unsigned ncalls, unsigned secs)
{
	size_t per_stream = (size_t)BENCH_MEDIA_PPS * (secs ? secs : 1);
	size_t stream_max = g->arena_cap / ((size_t)ncalls * 2 * SLOT);
	g->capped = per_stream > stream_max;
	if (g->capped)
		per_stream = stream_max - stream_max % BENCH_MEDIA_PPS; /* whole seconds */
	if (per_stream < BENCH_MEDIA_PPS)
		return -ENOMEM; /* not even a second fits */
	g->ncalls = ncalls;
	g->per_stream = (unsigned)per_stream;
	g->calls = calloc(ncalls, sizeof(*g->calls));
	g->arena = malloc(per_stream * 2 * ncalls * SLOT);
	if (g->calls == NULL || g->arena == NULL) {
		free(g->calls);
		free(g->arena);
		g->calls = NULL, g->arena = NULL;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ncalls; i++) {
		struct bench_media_call *c = &g->calls[i];
		for (int k = 0; k < 4; k++) {
			c->k[k].suite = SUITE_AES_CM_128_HMAC_SHA1_80;
			RAND_bytes(c->k[k].key, 16);
			RAND_bytes(c->k[k].salt, 14);
		}
		getrandom(c->seq0, sizeof(c->seq0), 0);
		for (unsigned d = 0; d < 2; d++) {
			srtp_t s = bench_media_gen_srtp(&c->k[d * 2], true);
			uint32_t ssrc = i << 1 | d;
			c->seq0[d] &= 0x7fff;
			for (unsigned k = 0; k < g->per_stream; k++) {
				uint8_t *b = slot(g, k, d, i);
				uint16_t seq = (uint16_t)(c->seq0[d] + 1 + k);
				uint32_t ts = seq * 160u;
				int len = BENCH_MEDIA_PKT_LEN;
				memset(b, 0xd5, BENCH_MEDIA_PKT_LEN);
				b[0] = 0x80;
				b[1] = 0;
				b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
				b[4] = (uint8_t)(ts >> 24), b[5] = (uint8_t)(ts >> 16);
				b[6] = (uint8_t)(ts >> 8), b[7] = (uint8_t)ts;
				b[8] = (uint8_t)(ssrc >> 24), b[9] = (uint8_t)(ssrc >> 16);
				b[10] = (uint8_t)(ssrc >> 8), b[11] = (uint8_t)ssrc;
				if (srtp_protect(s, b, &len) != srtp_err_status_ok || len > SLOT) {
					fprintf(stderr, "bench_media: srtp_protect failed\n");
					exit(1);
				}
				g->pkt_len = len;
			}
			srtp_dealloc(s);
		}
	}
	return 0;
}

void
bench_media_gen_level_end(struct bench_media_gen *g)
{
	for (unsigned i = 0; i < g->ncalls; i++)
		OPENSSL_cleanse(g->calls[i].k, sizeof(g->calls[i].k));
	free(g->calls);
	free(g->arena);
	g->calls = NULL, g->arena = NULL;
	g->ncalls = 0;
}

/* ---- generator: only sendmmsg, on a 2 ms schedule ---- */

struct gen_batch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst[BATCH];
	uint64_t *stamp[BATCH]; /* where each packet's send time goes */
	unsigned n;
};

static void
gen_flush(struct bench_media_gen *g, int fd, struct gen_batch *b)
{
	uint64_t t = bench_media_gen_now_ns();
	for (unsigned j = 0; j < b->n; j++)
		*b->stamp[j] = t;
	for (unsigned off = 0; off < b->n;) {
		int r = sendmmsg(fd, b->msg + off, b->n - off, 0);
		if (r <= 0) { /* the kernel refused the rest: lost, and counted apart */
			atomic_fetch_add_explicit(&g->send_fail, b->n - off, memory_order_relaxed);
			break;
		}
		off += (unsigned)r;
	}
	atomic_fetch_add_explicit(&g->sent_total, b->n, memory_order_relaxed);
	b->n = 0;
}

static void *
gen_main(void *arg)
{
	struct bench_media_gen *g = arg;
	static struct gen_batch batch[2][BENCH_MEDIA_MAXSOCK];
	unsigned ticks = g->per_stream * TICKS;
	uint64_t start = mono_ns(), lag = 0;
	struct timespec next;

	for (unsigned tick = 0; tick < ticks; tick++) {
		uint64_t due = start + (uint64_t)tick * TICK_NS, now = mono_ns();
		if (now < due) {
			next.tv_sec = (time_t)(due / 1000000000u);
			next.tv_nsec = (long)(due % 1000000000u);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		} else if (now - due > lag) {
			lag = now - due;
		}
		unsigned k = tick / TICKS, ph = tick % TICKS;
		unsigned lo_i = (unsigned)((uint64_t)ph * g->ncalls / TICKS);
		unsigned hi_i = (unsigned)((uint64_t)(ph + 1) * g->ncalls / TICKS);
		for (unsigned d = 0; d < 2; d++) {
			const int *socks = d == 0 ? g->sock_a : g->sock_b;
			for (unsigned i = lo_i; i < hi_i; i++) {
				struct bench_media_call *c = &g->calls[i];
				unsigned s = i % g->nsock;
				struct gen_batch *b = &batch[d][s];
				unsigned n = b->n++;
				uint16_t seq = (uint16_t)(c->seq0[d] + 1 + k);
				b->dst[n] =
				        (struct sockaddr_in){.sin_family = AF_INET,
				                             .sin_addr = g->lo,
				                             .sin_port = htons(c->relay_port[d])};
				b->iov[n] = (struct iovec){.iov_base = slot(g, k, d, i),
				                           .iov_len = (size_t)g->pkt_len};
				b->msg[n].msg_hdr =
				        (struct msghdr){.msg_name = &b->dst[n],
				                        .msg_namelen = sizeof(b->dst[n]),
				                        .msg_iov = &b->iov[n],
				                        .msg_iovlen = 1};
				b->stamp[n] = &c->sent_at[d][seq % BENCH_MEDIA_SLOTS];
				if (b->n == BATCH)
					gen_flush(g, socks[s], b);
			}
			for (unsigned s = 0; s < g->nsock; s++)
				if (batch[d][s].n > 0)
					gen_flush(g, socks[s], &batch[d][s]);
		}
	}
	g->gen_end_ns = bench_media_gen_now_ns();
	g->gen_lag_ns = lag;
	g->gen_cpu_ns = bench_media_gen_thread_cpu_ns(pthread_self());
	return NULL;
}

/* ---- sinks: every peer socket, kernel receive timestamps ---- */

static void
sink_one(struct bench_media_gen *g, const uint8_t *b, unsigned len, struct msghdr *h)
{
	if (len < 12)
		return;
	uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
	uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
	unsigned ci = ssrc >> 1, d = ssrc & 1;
	if (ci >= g->ncalls)
		return;
	uint64_t rx = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			rx = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	if (rx == 0)
		rx = bench_media_gen_now_ns();
	if (rx > g->last_rx_ns)
		g->last_rx_ns = rx;
	uint64_t tx = g->calls[ci].sent_at[d][seq % BENCH_MEDIA_SLOTS];
	uint64_t us = rx > tx ? (rx - tx) / 1000 : 0;
	if (us < HIST_US)
		g->hist[us]++;
	else
		g->hist_over++;
	atomic_fetch_add_explicit(&g->recv_total, 1, memory_order_relaxed);
}

static void *
sink_main(void *arg)
{
	struct bench_media_gen *g = arg;
	int ep = epoll_create1(0);
	static uint8_t bufs[BATCH][2048];
	static char cbuf[BATCH][128];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event evs[BENCH_MEDIA_MAXSOCK * 2];
	for (unsigned s = 0; s < g->nsock; s++) {
		struct epoll_event ea = {.events = EPOLLIN, .data.fd = g->sock_a[s]};
		struct epoll_event eb = {.events = EPOLLIN, .data.fd = g->sock_b[s]};
		epoll_ctl(ep, EPOLL_CTL_ADD, g->sock_a[s], &ea);
		epoll_ctl(ep, EPOLL_CTL_ADD, g->sock_b[s], &eb);
	}
	while (!atomic_load(&g->sink_stop)) {
		int n = epoll_wait(ep, evs, BENCH_MEDIA_MAXSOCK * 2, 50);
		for (int e = 0; e < n; e++) {
			for (;;) {
				for (int i = 0; i < BATCH; i++) {
					iov[i] = (struct iovec){.iov_base = bufs[i],
					                        .iov_len = sizeof(bufs[i])};
					m[i].msg_hdr =
					        (struct msghdr){.msg_iov = &iov[i],
					                        .msg_iovlen = 1,
					                        .msg_control = cbuf[i],
					                        .msg_controllen = sizeof(cbuf[i])};
				}
				int r = recvmmsg(evs[e].data.fd, m, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				for (int i = 0; i < r; i++)
					sink_one(g, bufs[i], m[i].msg_len, &m[i].msg_hdr);
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
pct(const struct bench_media_gen *g, double p, uint64_t total)
{
	uint64_t want = (uint64_t)(p * (double)total), acc = 0;
	for (unsigned i = 0; i < HIST_US; i++) {
		acc += g->hist[i];
		if (acc > want)
			return i / 1000.0;
	}
	return HIST_US / 1000.0;
}

static void
spawn(pthread_t *t, void *(*fn)(void *), struct bench_media_gen *g)
{
	pthread_attr_t at;
	pthread_attr_init(&at);
	if (g->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((unsigned)g->cpu, &set);
		pthread_attr_setaffinity_np(&at, sizeof(set), &set);
	}
	if (pthread_create(t, &at, fn, g) != 0) {
		fprintf(stderr, "bench_media: pthread_create failed\n");
		exit(1);
	}
	pthread_attr_destroy(&at);
}

void
bench_media_gen_run(struct bench_media_gen *g, uint64_t (*cpu)(void *), void *cpu_arg,
                    struct bench_media_result *r)
{
	pthread_t gt, st;
	uint8_t junk[2048];
	/* stragglers of the previous run must not count in this one */
	for (unsigned k = 0; k < g->nsock; k++) {
		while (recv(g->sock_a[k], junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		while (recv(g->sock_b[k], junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
	memset(g->hist, 0, sizeof(uint32_t) * HIST_US);
	memset(r, 0, sizeof(*r));
	g->hist_over = 0;
	g->last_rx_ns = 0;
	atomic_store(&g->sent_total, 0);
	atomic_store(&g->recv_total, 0);
	atomic_store(&g->send_fail, 0);
	atomic_store(&g->sink_stop, false);
	spawn(&st, sink_main, g);
	uint64_t rb0, sb0, rb1, sb1;
	udp_errors(&rb0, &sb0);
	uint64_t cpu0 = cpu(cpu_arg), t0 = bench_media_gen_now_ns();
	spawn(&gt, gen_main, g);
	pthread_join(gt, NULL);
	/* rates over the schedule's length, or the generator's run if it fell behind */
	uint64_t sched = (uint64_t)g->per_stream * TICKS * TICK_NS, ran = g->gen_end_ns - t0;
	uint64_t span = ran > sched ? ran : sched;
	r->gen_cpu = (double)g->gen_cpu_ns / (double)ran;
	r->gen_lag_ms = (double)g->gen_lag_ns / 1e6;
	r->secs = (double)span / 1e9;
	/* drain: until nothing arrived for 300 ms (at most 5 s), so that late is not lost */
	uint64_t last = atomic_load(&g->recv_total);
	for (int quiet = 0, waited = 0; quiet < 3 && waited < 50; waited++) {
		usleep(100000);
		uint64_t now = atomic_load(&g->recv_total);
		quiet = now == last ? quiet + 1 : 0;
		last = now;
	}
	uint64_t cpu1 = cpu(cpu_arg), t1 = bench_media_gen_now_ns();
	udp_errors(&rb1, &sb1);
	r->udp_rcvbuf_err = rb1 - rb0;
	r->udp_sndbuf_err = sb1 - sb0;
	r->sink_cpu = (double)bench_media_gen_thread_cpu_ns(st) / (double)(t1 - t0);
	atomic_store(&g->sink_stop, true);
	pthread_join(st, NULL);
	r->sent = atomic_load(&g->sent_total);
	r->recv = atomic_load(&g->recv_total);
	r->send_fail = atomic_load(&g->send_fail);
	/* delivered: until the last packet came back (a relay that queued delivers late) */
	uint64_t until = g->last_rx_ns > t0 ? g->last_rx_ns - t0 : 0;
	r->pps = (double)r->recv / ((double)(until > span ? until : span) / 1e9);
	r->offered = (double)r->sent / r->secs;
	r->loss_pct = r->sent ? 100.0 * ((double)r->sent - (double)r->recv) / (double)r->sent : 0;
	r->p50_ms = pct(g, 0.50, r->recv);
	r->p99_ms = pct(g, 0.99, r->recv);
	r->ns_pkt = r->recv ? (double)(cpu1 - cpu0) / (double)r->recv : 0;
}
