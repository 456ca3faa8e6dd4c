/*
 * bench_media_gen: the load side of bench_media (tools/bench_media.c).
 *
 * Owns the peer sockets (senders and sinks), a level's simulated calls and their keys, the
 * arena of packets protected before the timed run (so the generator only paces and
 * sends), the generator and sink threads, the latency histogram, and the helpers that pin
 * threads to a CPU. bench_media.c owns the relays (the engine and the reference relay),
 * the levels and what is printed. One struct bench_media_gen per process, owned by main().
 */
#ifndef SW_BENCH_MEDIA_GEN_H
#define SW_BENCH_MEDIA_GEN_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "srtp_leg.h"
#include <srtp2/srtp.h>

#define BENCH_MEDIA_PKT_LEN 172 /* RTP header + 160 octets of G.711 */
#define BENCH_MEDIA_PPS     50  /* per direction per call */
#define BENCH_MEDIA_MAXSOCK 64
#define BENCH_MEDIA_SLOTS   256 /* send times kept per stream, by sequence number */

/* One simulated call. Owner: struct bench_media_gen (calls[]); keys wiped at level end. */
struct bench_media_call {
	struct srtp_keys k[4];  /* KA (A sends), KRA (relay->A), KB (B sends), KRB (relay->B) */
	uint16_t seq0[2];       /* first sequence number - 1, per direction */
	uint16_t relay_port[2]; /* where dir d is sent to: leg A RTP / leg B RTP (the relay sets it)
	                         */
	uint64_t sent_at[2][BENCH_MEDIA_SLOTS]; /* by seq */
};

struct bench_media_result {
	/* pps: delivered, over the generator's run or until the last delivery if later */
	double pps, loss_pct, p50_ms, p99_ms, ns_pkt, gen_cpu, sink_cpu, offered;
	double sys_pkt; /* the engine's I/O system calls per delivered packet; < 0: not counted */
	double kern_share; /* the relay threads' CPU spent in the kernel (0-1); < 0: unknown */
	double gen_lag_ms;              /* how late the generator's most late tick started */
	double secs;                    /* the generator's run */
	uint64_t sent, recv, send_fail; /* send_fail: refused by sendmmsg (in sent, lost) */
	uint64_t udp_rcvbuf_err, udp_sndbuf_err; /* during the run, system-wide */
};

struct bench_media_gen {
	unsigned nsock; /* peer sockets per side; call i uses socket i % nsock */
	int sock_a[BENCH_MEDIA_MAXSOCK], sock_b[BENCH_MEDIA_MAXSOCK];
	struct sockaddr_storage addr_a[BENCH_MEDIA_MAXSOCK], addr_b[BENCH_MEDIA_MAXSOCK];
	struct in_addr lo; /* a random 127/8 address for every socket of the run */
	int cpu;           /* generator and sinks run here; < 0: not pinned */
	size_t arena_cap;  /* octets the pre-protected packets may take */
	/* the level: set by bench_media_gen_level(), freed by bench_media_gen_level_end() */
	struct bench_media_call *calls;
	unsigned ncalls;
	unsigned per_stream; /* packets per stream in the arena: PPS x the level's seconds */
	bool capped;         /* per_stream was cut to arena_cap */
	uint8_t *arena;      /* [packet k][direction][call] slots of SLOT octets */
	int pkt_len;         /* protected length (all packets alike) */
	/* the run */
	atomic_bool sink_stop;
	atomic_ullong sent_total, recv_total, send_fail;
	uint64_t gen_cpu_ns, gen_lag_ns, gen_end_ns;
	uint32_t *hist; /* added latency, 1 us buckets */
	uint64_t hist_over;
	uint64_t last_rx_ns; /* when the sinks got the latest packet (CLOCK_REALTIME) */
};

/* Sockets, the loopback address, the histogram. 0 or -errno. */
int bench_media_gen_init(struct bench_media_gen *g, unsigned nsock, int cpu, size_t arena_cap);
void bench_media_gen_fini(struct bench_media_gen *g);

/* A level: ncalls calls with fresh keys, every packet of `secs` seconds protected now (fewer
 * if arena_cap does not hold them: g->capped, g->per_stream). 0 or -ENOMEM. */
int bench_media_gen_level(struct bench_media_gen *g, unsigned ncalls, unsigned secs);
void bench_media_gen_level_end(struct bench_media_gen *g);

/* Send the level's packets on schedule to calls[].relay_port and time what comes back. */
void bench_media_gen_run(struct bench_media_gen *g, uint64_t (*cpu)(void *), void *cpu_arg,
                         struct bench_media_result *r);

/* helpers shared with the relays */
struct sockaddr_storage bench_media_gen_addr(const struct bench_media_gen *g, uint16_t port);
int bench_media_gen_udp_bind(const struct bench_media_gen *g, uint16_t port,
                             struct sockaddr_storage *bound);
srtp_t bench_media_gen_srtp(const struct srtp_keys *k, bool outbound);
uint64_t bench_media_gen_now_ns(void);
uint64_t bench_media_gen_thread_cpu_ns(pthread_t t);
/* the process's threads (ids from /proc/self/task), at most max; their number */
unsigned bench_media_gen_tids(pid_t *out, unsigned max);
/* pin a thread (by id) to one CPU; 0 or -errno */
int bench_media_gen_pin(pid_t tid, int cpu);
/* the CPU a thread may run on, as "0" or "0-1" style text */
void bench_media_gen_affinity(pid_t tid, char *buf, size_t len);

#endif
