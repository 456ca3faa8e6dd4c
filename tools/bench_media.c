/*
 * bench_media: the media relay in-process on loopback, next to a minimal reference relay.
 *
 * For each level (simulated calls), a generator sends G.711-sized RTP (172 octets, 50
 * packets/s per direction per call, AES_CM_128_HMAC_SHA1_80) to leg A and leg B of every
 * call; sinks take the relayed packets with kernel receive timestamps and match them to
 * their send time by SSRC and sequence number (both travel in clear), so they never
 * decrypt. Every packet of a level is protected before its timed runs, so the generator
 * only sends (bench_media_gen.c). The same load then runs through a reference relay
 * (recvmmsg -> srtp_unprotect -> srtp_protect -> sendmmsg, nothing else) on its own
 * sockets. Printed per level and relay: delivered packets/s, loss, added latency p50/p99
 * (send call to kernel receive, through the relay and loopback twice), relay CPU
 * ns/packet from the relay threads' CLOCK_THREAD_CPUTIME, the relay's system calls per
 * packet (the engine's own count; the reference's epoll_wait, recvmmsg and sendmmsg),
 * the kernel's share of the relay threads' CPU (their system over user + system ticks),
 * and what the generator offered
 * next to the nominal rate (a warning below 97 %: such a row measures the generator). The
 * engine runs on each of its I/O paths (io_uring and epoll, media.h) with 1 and with 2
 * workers, next to the reference, level by level; a relay that lost more than
 * LOSS_FREE_PCT at a level is not run at higher ones. The summary gives each relay's
 * highest loss-free rate, its ratio to the reference's, and p99 at 1,000 calls (100,000
 * packets/s), then each relay's kernel and user-space nanoseconds per packet and the
 * bound that the kernel's part puts on an engine's ratio to the reference (what it would
 * be if the engine's own code took no time). Before each io_uring row, what its workers
 * submitted in the run: requests
 * on registered files and by fd, sends with an address and by sendmsg, receives re-armed
 * after the buffer ring ran dry (media.h: media_engine_worker_io_counts). A tool, not a
 * test.
 *
 * Pinning (-c R,G; default 0,1 on a box of 2 or more CPUs; -c - for none): engine worker i
 * and the reference relay's thread on CPU R+i, the generator, the sinks and main() on
 * CPU G. With 1 worker "one core" then means one core for the relay; with 2 workers on a
 * 2-CPU box worker 1 shares CPU G with the load, which the output says.
 *
 *   bench_media [-d seconds] [-l 500,1000,...] [-w 1,2] [-r uring,epoll[,noref]] [-n]
 *               [-s sockets]
 *               [-c R,G|-] [-m arena MiB]
 *     -n: libsrtp's own (NSS) crypto instead of the OpenSSL plug-in
 *     -m: memory for a level's pre-protected packets (default 1024 MiB: 3,000 calls x 2
 *         directions x 50 pps x 10 s x 192 octets = 549 MiB fit); a level that does not fit
 *         runs for fewer seconds, and says so
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "bench_media_gen.h"
#include "media.h"

#define BATCH         32
#define MAX_CALLS     4096
#define LOSS_FREE_PCT 0.01 /* "loss-free": at most this share lost (late stragglers) */
#define OFFERED_MIN   0.97 /* below this share of nominal, a row measures the generator */
#define MAX_KINDS     9
#define MAX_TIDS      256

static struct bench_media_gen gen;
static int relay_cpu = -1, load_cpu = -1; /* < 0: no pinning */
static long ncpu;

/* "CPU 0", "CPUs 0,1", or "unpinned" for what a relay's threads were given */
static void
pin_text(const pid_t *tids, unsigned n, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "%s", n > 1 ? "CPUs " : "CPU ");
	for (unsigned i = 0; i < n && o + 20 < len; i++) {
		char one[16]; /* "0,1,..." of a small box; longer is cut */
		bench_media_gen_affinity(tids[i], one, sizeof(one));
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "|" : "", one);
	}
}

static uint64_t
engine_cpu(void *arg)
{
	uint64_t ns = 0;
	for (unsigned i = 0; i < media_engine_workers(arg); i++)
		ns += media_engine_worker_cpu_ns(arg, i);
	return ns;
}

/*
 * The user and system clock ticks (/proc/self/task/ID/stat fields 14 and 15) of threads
 * `tids`, summed: how a relay's CPU splits between its own code and the kernel's
 * (sockets, UDP, loopback delivery, io_uring). Ticks are 10 ms: a level of a few
 * seconds at full load has some hundreds. 0, or -1 if a thread's stat cannot be read.
 */
static int
tids_ticks(const pid_t *tids, unsigned n, uint64_t *user, uint64_t *sys)
{
	*user = *sys = 0;
	for (unsigned i = 0; i < n; i++) {
		char path[64], line[1024];
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tids[i]);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return -1;
		char *ok = fgets(line, sizeof(line), f);
		fclose(f);
		/* field 2 (the name) may hold spaces and parentheses: 3- follow the last ")" */
		char *p = ok != NULL ? strrchr(line, ')') : NULL;
		unsigned long long ut, st;
		if (p == NULL ||
		    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		           &st) != 2)
			return -1;
		*user += ut;
		*sys += st;
	}
	return 0;
}

/* The kernel's share of threads `tids` between two tids_ticks() samples; -1: unknown. */
static double
kern_share(int rc0, uint64_t u0, uint64_t s0, const pid_t *tids, unsigned n)
{
	uint64_t u1, s1;
	if (rc0 != 0 || tids_ticks(tids, n, &u1, &s1) != 0 || u1 + s1 <= u0 + s0)
		return -1;
	return (double)(s1 - s0) / (double)(u1 + s1 - u0 - s0);
}

/* 0, or the engine's refusal (an I/O path this build or kernel does not have) */
static int
run_engine(uint16_t pmin, enum media_io io, unsigned workers, struct bench_media_result *r,
           char *pin, size_t pinlen)
{
	struct bench_media_call *calls = gen.calls;
	unsigned ncalls = gen.ncalls, nsock = gen.nsock;
	pid_t before[MAX_TIDS], after[MAX_TIDS], wt[MAX_TIDS];
	unsigned nb, na, nw = 0;
	struct media_engine_conf ec;
	struct media_engine *e;
	int err;
	memset(&ec, 0, sizeof(ec));
	ec.workers = workers;
	ec.io = io;
	ec.local = bench_media_gen_addr(&gen, 0);
	ec.port_min = pmin;
	/* twice the ports needed: the previous run's sockets may still be bound for a while
	 * (io_uring releases its files after the ring is gone), and the engine skips them */
	ec.port_max = (uint16_t)(pmin + ncalls * 8 + 400);
	nb = bench_media_gen_tids(before, MAX_TIDS);
	if ((err = media_engine_new(&e, &ec)) != 0)
		return err;
	/* the workers are the threads media_engine_new() started: pin them by id */
	na = bench_media_gen_tids(after, MAX_TIDS);
	for (unsigned i = 0; i < na; i++) {
		bool old = false;
		for (unsigned j = 0; j < nb; j++)
			old |= after[i] == before[j];
		if (!old)
			wt[nw++] = after[i];
	}
	unsigned yielding = 0;
	for (unsigned i = 0; i < nw && relay_cpu >= 0; i++) {
		int cpu = (int)((unsigned)relay_cpu + i) % (int)ncpu;
		bench_media_gen_pin(wt[i], cpu);
		/* a worker on the load's CPU yields to it (nice +10 within this process), so
		 * that the generator still offers the rate: it gets what the load leaves */
		if (cpu == load_cpu &&
		    setpriority(PRIO_PROCESS, (id_t)wt[i], getpriority(PRIO_PROCESS, 0) + 10) == 0)
			yielding++;
	}
	pin_text(wt, nw, pin, pinlen);
	if (yielding > 0) {
		size_t o = strlen(pin);
		snprintf(pin + o, pinlen - o, ", %u at nice +10 on the load's CPU", yielding);
	}
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
			lc.remote_rtp = l == 0 ? gen.addr_a[i % nsock] : gen.addr_b[i % nsock];
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
	struct media_io_counts c0[MAX_TIDS], c1;
	for (unsigned i = 0; i < workers; i++) {
		sys0 += media_engine_worker_syscalls(e, i);
		(void)media_engine_worker_io_counts(e, i, &c0[i]);
	}
	uint64_t ut0, st0;
	int trc = tids_ticks(wt, nw, &ut0, &st0);
	bench_media_gen_run(&gen, engine_cpu, e, r);
	r->kern_share = kern_share(trc, ut0, st0, wt, nw);
	uint64_t fixed = 0, plain = 0, sendto = 0, sendmsg = 0, rearms = 0;
	for (unsigned i = 0; i < workers; i++) {
		sys1 += media_engine_worker_syscalls(e, i);
		(void)media_engine_worker_io_counts(e, i, &c1);
		fixed += c1.ops_fixed - c0[i].ops_fixed;
		plain += c1.ops_plain - c0[i].ops_plain;
		sendto += c1.sends_sendto - c0[i].sends_sendto;
		sendmsg += c1.sends_msg - c0[i].sends_msg;
		rearms += c1.rearms - c0[i].rearms;
	}
	r->sys_pkt = r->recv ? (double)(sys1 - sys0) / (double)r->recv : 0;
	if (io == MEDIA_IO_URING)
		printf("  (io_uring: %" PRIu64 " ops on registered files, %" PRIu64
		       " by fd; %" PRIu64 " sends with an address, %" PRIu64 " by sendmsg; %" PRIu64
		       " receives re-armed)\n",
		       fixed, plain, sendto, sendmsg, rearms);
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
	usleep(500000); /* let the kernel finish tearing down before the next run is timed */
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
static atomic_ullong ref_syscalls; /* epoll_wait, recvmmsg and sendmmsg calls */
static pthread_t ref_thr;
static _Atomic pid_t ref_tid;

static void *
ref_main(void *arg)
{
	int ep = *(int *)arg;
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr rm[BATCH], sm[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct epoll_event evs[64];
	atomic_store(&ref_tid, (pid_t)syscall(SYS_gettid));
	while (!atomic_load(&ref_stop)) {
		int n = epoll_wait(ep, evs, 64, 50);
		unsigned long long calls = 1;
		for (int e = 0; e < n; e++) {
			struct ref_dir *d = evs[e].data.ptr;
			for (int i = 0; i < BATCH; i++) {
				riov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = 1500};
				rm[i].msg_hdr =
				        (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
			}
			int r = recvmmsg(d->fd_in, rm, BATCH, MSG_DONTWAIT, NULL);
			calls++;
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
				sendmmsg(d->fd_out, sm, (unsigned)k, 0), calls++;
		}
		atomic_fetch_add_explicit(&ref_syscalls, calls, memory_order_relaxed);
	}
	return NULL;
}

static uint64_t
ref_cpu(void *arg)
{
	(void)arg;
	return bench_media_gen_thread_cpu_ns(ref_thr);
}

static void
run_reference(struct bench_media_result *r, char *pin, size_t pinlen)
{
	struct bench_media_call *calls = gen.calls;
	unsigned ncalls = gen.ncalls, nsock = gen.nsock;
	int ep = epoll_create1(0);
	pthread_attr_t at;
	refs = calloc((size_t)ncalls * 2, sizeof(*refs));
	for (unsigned i = 0; i < ncalls; i++) {
		struct sockaddr_storage ba, bb;
		int fa = bench_media_gen_udp_bind(&gen, 0, &ba);
		int fb = bench_media_gen_udp_bind(&gen, 0, &bb);
		/* dir 0: A -> relay(fa) -> B from fb; dir 1: B -> relay(fb) -> A from fa */
		refs[2 * i] = (struct ref_dir){.fd_in = fa,
		                               .fd_out = fb,
		                               .rx = bench_media_gen_srtp(&calls[i].k[0], false),
		                               .tx = bench_media_gen_srtp(&calls[i].k[3], true),
		                               .dst = gen.addr_b[i % nsock]};
		refs[2 * i + 1] =
		        (struct ref_dir){.fd_in = fb,
		                         .fd_out = fa,
		                         .rx = bench_media_gen_srtp(&calls[i].k[2], false),
		                         .tx = bench_media_gen_srtp(&calls[i].k[1], true),
		                         .dst = gen.addr_a[i % nsock]};
		calls[i].relay_port[0] = ntohs(((struct sockaddr_in *)&ba)->sin_port);
		calls[i].relay_port[1] = ntohs(((struct sockaddr_in *)&bb)->sin_port);
		for (int d = 0; d < 2; d++) {
			struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &refs[2 * i + d]};
			epoll_ctl(ep, EPOLL_CTL_ADD, refs[2 * i + d].fd_in, &ee);
		}
	}
	atomic_store(&ref_stop, false);
	atomic_store(&ref_tid, 0);
	pthread_attr_init(&at);
	if (relay_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((unsigned)relay_cpu, &set);
		pthread_attr_setaffinity_np(&at, sizeof(set), &set);
	}
	pthread_create(&ref_thr, &at, ref_main, &ep);
	pthread_attr_destroy(&at);
	/* the thread's id, for the read-back of its affinity */
	pid_t tid;
	while ((tid = atomic_load(&ref_tid)) == 0)
		sched_yield();
	pin_text(&tid, 1, pin, pinlen);
	uint64_t ut0, st0;
	int trc = tids_ticks(&tid, 1, &ut0, &st0);
	unsigned long long sys0 = atomic_load(&ref_syscalls);
	bench_media_gen_run(&gen, ref_cpu, NULL, r);
	r->kern_share = kern_share(trc, ut0, st0, &tid, 1);
	r->sys_pkt = r->recv ? (double)(atomic_load(&ref_syscalls) - sys0) / (double)r->recv : 0;
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
print_row(const char *name, unsigned n, const struct bench_media_result *r)
{
	char sys[16] = "-", kern[16] = "-";
	unsigned nominal = n * BENCH_MEDIA_PPS * 2;
	if (r->sys_pkt >= 0)
		snprintf(sys, sizeof(sys), "%.3f", r->sys_pkt);
	if (r->kern_share >= 0)
		snprintf(kern, sizeof(kern), "%.0f%%", 100 * r->kern_share);
	printf("%6u %-12s %9.0f %8.3f%% %8.3f %8.3f %7.0f %8s %6s   (offered %.0f of %u pps in "
	       "%.1f s, generator %.0f%% CPU, late by up to %.1f ms, sink %.0f%% CPU",
	       n, name, r->pps, r->loss_pct, r->p50_ms, r->p99_ms, r->ns_pkt, sys, kern, r->offered,
	       nominal, r->secs, 100 * r->gen_cpu, r->gen_lag_ms, 100 * r->sink_cpu);
	if (r->udp_rcvbuf_err || r->udp_sndbuf_err)
		printf("; UDP buffer errors: %" PRIu64 " receive, %" PRIu64 " send",
		       r->udp_rcvbuf_err, r->udp_sndbuf_err);
	if (r->send_fail)
		printf("; %" PRIu64 " refused by sendmmsg", r->send_fail);
	printf(")\n");
	if (r->offered < OFFERED_MIN * nominal)
		printf("       WARNING: the generator offered %.1f%% of the nominal rate: this row "
		       "is limited by the generator, not by the relay\n",
		       100.0 * r->offered / nominal);
}

/* One relay under test: the engine on an I/O path with n workers, or the reference. */
struct kind {
	char name[16];
	bool reference;
	enum media_io io;
	unsigned workers;
	bool failed, skipped; /* lost too much at a level / cannot run here */
	double best_pps;      /* highest loss-free delivered rate, kept up with the offer */
	double peak_pps;      /* highest delivered rate at any level */
	unsigned best_calls;
	bool best_genlim;           /* the generator offered < OFFERED_MIN there */
	double p99_100k, loss_100k; /* at 1,000 calls; p99 < 0: not measured */
	double ns_pkt;              /* relay CPU per packet at the highest level it ran */
	double kern_share;          /* the kernel's share of it there; < 0: unknown */
	unsigned ns_calls;
	char pin[96]; /* where its threads were allowed to run (read back) */
};

/* With the scheduler's autogroups, nice(1) ranks threads within a session only: say so. */
static void
autogroup_note(void)
{
	char on[8] = "", ag[64] = "";
	FILE *f = fopen("/proc/sys/kernel/sched_autogroup_enabled", "r");
	if (f != NULL) {
		if (fgets(on, sizeof(on), f) == NULL)
			on[0] = '\0';
		fclose(f);
	}
	if (on[0] != '1' || (f = fopen("/proc/self/autogroup", "r")) == NULL)
		return;
	if (fgets(ag, sizeof(ag), f) == NULL)
		ag[0] = '\0';
	fclose(f);
	ag[strcspn(ag, "\n")] = '\0';
	printf("scheduler: autogroups on, this process in %s%s\n", ag,
	       strstr(ag, "nice 0") != NULL
	               ? " (other sessions get an equal share whatever nice(1) says; for a busy "
	                 "box: setsid sh -c 'echo -10 > /proc/self/autogroup; exec nice -n -10 "
	                 "bench_media ...')"
	               : "");
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
	unsigned workers[4] = {1, 2}, nwork = 2, nsock = 16;
	bool want_uring = true, want_epoll = true, want_ref = true;
	bool nss = false;
	size_t arena_mib = 1024;
	int opt, gen_cpu = -1;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu >= 2)
		relay_cpu = 0, gen_cpu = 1;
	while ((opt = getopt(argc, argv, "c:d:l:m:nr:w:s:")) != -1) {
		switch (opt) {
		case 'c':
			relay_cpu = gen_cpu = -1;
			if (sscanf(optarg, "%d,%d", &relay_cpu, &gen_cpu) != 2 || relay_cpu < 0 ||
			    gen_cpu < 0 || relay_cpu >= ncpu || gen_cpu >= ncpu)
				relay_cpu = gen_cpu = -1; /* "-" or anything else: no pinning */
			break;
		case 'd':
			secs = (unsigned)atoi(optarg);
			break;
		case 'l':
			nlevels = 0;
			for (char *t = strtok(optarg, ","); t != NULL && nlevels < 16;
			     t = strtok(NULL, ","))
				levels[nlevels++] = (unsigned)atoi(t);
			break;
		case 'm':
			arena_mib = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			nss = true;
			break;
		case 'r': /* engine paths to run: uring, epoll or both; "noref": without the
		           * reference (A/B runs of the engine alone) */
			want_uring = strstr(optarg, "uring") != NULL;
			want_epoll = strstr(optarg, "epoll") != NULL;
			want_ref = strstr(optarg, "noref") == NULL;
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
			                "uring,epoll] [-n] [-s sockets] [-c relay_cpu,gen_cpu|-] "
			                "[-m arena_MiB]\n");
			return 2;
		}
	}
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (media_global_init_crypto(!nss) != 0) {
		fprintf(stderr, "bench_media: media_global_init failed\n");
		return 1;
	}
	/* main() joins the load's CPU: it only sets up and waits during a run */
	if (gen_cpu >= 0 && bench_media_gen_pin(0, gen_cpu) != 0)
		relay_cpu = gen_cpu = -1;
	load_cpu = gen_cpu;
	if (bench_media_gen_init(&gen, nsock, gen_cpu, arena_mib << 20) != 0) {
		fprintf(stderr, "bench_media: cannot set up the peer sockets\n");
		return 1;
	}
	/* engine ports from here: below the ephemeral range (32768-) at the usual levels */
	uint16_t pbase = (uint16_t)(10000 + 2 * (ntohl(gen.lo.s_addr) % 1000));
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
	if (want_ref) {
		kinds[nk].reference = true;
		snprintf(kinds[nk++].name, sizeof(kinds[0].name), "reference");
	}
	for (unsigned i = 0; i < nk; i++)
		kinds[i].p99_100k = -1, kinds[i].kern_share = -1;

	printf("bench_media: %s crypto, %u s per level, %d pps/direction/call, %d-octet RTP, "
	       "AES_CM_128_HMAC_SHA1_80 both legs, packets protected before each run, %u peer "
	       "sockets per side, %s, %ld CPUs, load average %.2f at start\n",
	       media_global_openssl() ? "OpenSSL plug-in" : "libsrtp default (NSS)", secs,
	       BENCH_MEDIA_PPS, BENCH_MEDIA_PKT_LEN, gen.nsock, inet_ntoa(gen.lo), ncpu,
	       load_avg());
	autogroup_note();
	if (relay_cpu >= 0)
		printf("pinning: relay worker i (or the reference's thread) on CPU %d+i, generator "
		       "and sinks on CPU %d%s\n",
		       relay_cpu, gen_cpu,
		       ncpu <= 2 ? "; with 2 workers on this box worker 1 shares that CPU with "
		                   "the load (at nice +10, so the load is served first), so a "
		                   "2-worker row is the box's figure: one relay core plus what the "
		                   "load leaves of the other, not 2 relay cores"
		                 : "");
	else
		printf("pinning: none (-c -, or fewer than 2 CPUs): the relay shares its CPUs with "
		       "the load\n");
	printf("%6s %-12s %9s %9s %8s %8s %7s %8s %6s\n", "calls", "relay", "pps", "loss", "p50 ms",
	       "p99 ms", "ns/pkt", "sys/pkt", "kern");
	for (unsigned li = 0; li < nlevels; li++) {
		unsigned ncalls = levels[li];
		if (ncalls == 0 || ncalls > MAX_CALLS)
			continue;
		bool any = false;
		for (unsigned i = 0; i < nk; i++)
			any |= !kinds[i].failed && !kinds[i].skipped;
		if (!any)
			break;
		if (bench_media_gen_level(&gen, ncalls, secs) != 0) {
			printf("%6u calls: no memory for the packets (-m %zu MiB)\n", ncalls,
			       arena_mib);
			break;
		}
		if (gen.capped)
			printf("       (%u calls: -m %zu MiB holds %u s of packets, not %u s: this "
			       "level runs %u s)\n",
			       ncalls, arena_mib, gen.per_stream / BENCH_MEDIA_PPS, secs,
			       gen.per_stream / BENCH_MEDIA_PPS);
		for (unsigned i = 0; i < nk; i++) {
			struct kind *k = &kinds[i];
			struct bench_media_result res;
			char pin[96];
			if (k->failed || k->skipped)
				continue;
			if (k->reference) {
				run_reference(&res, pin, sizeof(pin));
			} else {
				int err = run_engine(pbase, k->io, k->workers, &res, pin,
				                     sizeof(pin));
				if (err != 0) {
					printf("%6u %-12s unavailable here: %s\n", ncalls, k->name,
					       strerror(-err));
					k->skipped = true;
					continue;
				}
			}
			print_row(k->name, ncalls, &res);
			if (strcmp(pin, k->pin) != 0) {
				printf("       (%s: relay threads on %s)\n", k->name, pin);
				snprintf(k->pin, sizeof(k->pin), "%s", pin);
			}
			bool genlim = res.offered < OFFERED_MIN * ncalls * BENCH_MEDIA_PPS * 2;
			bool behind = res.pps < OFFERED_MIN * res.offered;
			if (res.pps > k->peak_pps)
				k->peak_pps = res.pps;
			if (behind)
				printf("       (%s fell behind: delivered %.1f%% of what was "
				       "offered in "
				       "the time; its limit is reached)\n",
				       k->name, 100.0 * res.pps / res.offered);
			if (res.loss_pct > LOSS_FREE_PCT || behind) {
				k->failed = true;
			} else if (res.pps > k->best_pps) {
				k->best_pps = res.pps;
				k->best_calls = ncalls;
				k->best_genlim = genlim;
			}
			if (res.ns_pkt > 0 && (k->ns_pkt == 0 || ncalls >= k->ns_calls)) {
				k->ns_pkt = res.ns_pkt; /* at the highest level it ran */
				k->kern_share = res.kern_share;
				k->ns_calls = ncalls;
			}
			if (ncalls == 1000) {
				k->p99_100k = res.p99_ms;
				k->loss_100k = res.loss_pct;
			}
			fflush(stdout);
		}
		printf("       (load average %.2f)\n", load_avg());
		bench_media_gen_level_end(&gen);
	}
	const struct kind *ref = &kinds[nk - 1];
	printf("\nsummary (loss-free: at most %.2f%% lost and delivered at >= %.0f%% of the "
	       "offered "
	       "rate; a relay that never failed that was limited by the levels run or by the "
	       "box, not by itself; peak: the most it delivered at any level)\n",
	       LOSS_FREE_PCT, 100 * OFFERED_MIN);
	printf("%-12s %14s %8s %12s %10s %14s %12s %22s\n", "relay", "loss-free pps", "(calls)",
	       "x reference", "peak pps", "CPU ns/pkt", "1e9/ns (x)", "p99 ms at 100k pps");
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
		printf("%-12s %14.0f %8u %12.2f %10.0f %14.0f %12s %22s%s%s\n", k->name,
		       k->best_pps, k->best_calls,
		       ref->best_pps > 0 ? k->best_pps / ref->best_pps : 0, k->peak_pps, k->ns_pkt,
		       cap, p99, k->failed ? "" : "  (never lost: ceiling not reached)",
		       k->best_genlim ? "  (generator-limited there)" : "");
	}
	/*
	 * What no change to a relay's own code can beat: the kernel's part of its packet, the
	 * same socket work for every relay here (receive, UDP send, loopback delivery to the
	 * sinks). A relay whose user-space part were free would still cost that.
	 */
	printf("\nkernel share (the relay threads' system time, /proc/self/task/*/stat, at the "
	       "highest level each ran; kernel ns/pkt = CPU ns/pkt x share; bound: the reference's "
	       "CPU ns/pkt over this relay's kernel ns/pkt, its ratio if its own code took no time)"
	       "\n");
	for (unsigned i = 0; i < nk; i++) {
		const struct kind *k = &kinds[i];
		if (k->skipped || k->ns_pkt <= 0 || k->kern_share < 0)
			continue;
		double kns = k->ns_pkt * k->kern_share;
		printf("%-12s %5.0f ns/pkt at %u calls: %2.0f%% in the kernel = %5.0f ns, %5.0f ns "
		       "in user space",
		       k->name, k->ns_pkt, k->ns_calls, 100 * k->kern_share, kns, k->ns_pkt - kns);
		if (!k->reference && ref->reference && ref->ns_pkt > 0 && kns > 0)
			printf("; bound %.2fx the reference", ref->ns_pkt / kns);
		printf("\n");
	}
	bench_media_gen_fini(&gen);
	return 0;
}
