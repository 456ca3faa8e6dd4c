/*
 * media_worker.h: the media engine's internals shared by media.c (control side) and
 * media_worker.c (worker threads). Not a public API: the B2BUA uses media.h.
 *
 * A struct media_call is built on the control side (sockets bound, ports known), then
 * posted to its worker in a command; from then on only that worker touches it. Commands
 * travel through a mutex-protected list plus an eventfd; events come back through a
 * single-producer/single-consumer ring per worker plus the engine's eventfd.
 */
#ifndef SW_MEDIA_WORKER_H
#define SW_MEDIA_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "media.h"
#include "rtcp.h"
#include "rtp_stats.h"
#include "srtp_leg.h"

#define MEDIA_AUTH_SSRCS 4 /* SSRCs remembered per leg as authenticated */

struct media_leg;
struct media_cmd;

/* One bound UDP socket of a leg. Owner: its leg. */
struct media_sock {
	int fd;
	uint16_t port;
	bool rtcp; /* the odd (RTCP) port */
	struct media_leg *leg;
};

/*
 * An IPv4 or IPv6 socket address as a leg keeps it: 28 octets, where a sockaddr_storage
 * takes 128 (a call keeps four per leg). Any other family is kept as AF_UNSPEC-like
 * garbage that matches nothing (media_relay.c copies only what fits).
 */
union media_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Where one kind of traffic (RTP, or RTCP without mux) of a leg goes and comes from. */
struct media_peer {
	union media_addr signalled; /* from SDP */
	union media_addr cur;       /* destination now: signalled or latched */
	socklen_t cur_len;
	bool hold; /* 0.0.0.0 or port 0: send nothing */
	bool latched;
};

/*
 * struct media_leg: one side of a call's media.
 * Owner: struct media_call; freed only by media_call_free(). SRTP sessions (and with them
 * the keys) are freed and wiped there.
 */
struct media_leg {
	struct media_call *call;
	enum media_leg_id id;
	struct media_sock sock[2]; /* [0] RTP (even), [1] RTCP (odd); fd -1: none */
	int pair;                  /* the leg it relays to (enum media_leg_id), -1: none */
	struct media_peer peer[2]; /* [0] RTP, [1] RTCP (unused with rtcp-mux) */
	bool configured, plain, mux;
	struct srtp_leg *rx, *tx; /* NULL on a plain (legacy RTP) leg */
	struct rtp_stats rx_stats, tx_stats;
	uint32_t auth_ssrc[MEDIA_AUTH_SSRCS];
	unsigned n_auth_ssrc;
	uint8_t cname[RTCP_CNAME_LEN]; /* the only SDES item RTCP sent on this leg carries */
	bool seen_first, idle;
	uint64_t last_rx_mono; /* last accepted packet, or when configured */
};

/*
 * struct media_call: two legs, three after a media_leg_add(). Owner: the control side until posted
 * with CMD_ADD, then its worker, which frees it with media_call_free() on delete or shutdown.
 * Legs A and B are held inline (leg_ab); leg C, which most calls never have, is allocated
 * by the control side with the first CMD_LEG_ADD and kept, at the same address, until the
 * call is freed (a stale io_uring completion may still name it).
 */
struct media_call {
	uint64_t id;
	struct media_call *hnext;
	struct media_leg *leg[MEDIA_LEGS]; /* [A], [B]: &leg_ab[]; [C]: NULL until added */
	struct media_leg leg_ab[2];
	/* io_uring path only (media_uring.c): requests the kernel still holds for this call
	 * (armed receives, sends in flight); a deleted call is freed when they reach 0 */
	unsigned io_refs;
	bool io_dying;
	uint16_t io_gen[MEDIA_LEGS]; /* bumped when a leg's sockets go: older receives are stale */
};

/* Close the sockets, free the SRTP sessions (wiping keys), free the call. NULL is fine. */
void media_call_free(struct media_call *c);

/* Make `l` leg `id` of `c`, with no sockets, no partner and zero statistics. */
void media_leg_init(struct media_leg *l, struct media_call *c, enum media_leg_id id);

/* A blocking snapshot's rendezvous; shared by the waiter and the worker (refcounted). */
struct media_snap_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int refs;
	bool done;
	int rc;
	struct media_call_stats stats;
};

/* Drop one reference to `sw`; frees it on the last. */
void media_snap_wait_put(struct media_snap_wait *sw);

/* Hand the waiter its result (`rc`, and `c`'s statistics unless NULL) and wake it. */
void media_snap_wait_finish(struct media_snap_wait *sw, int rc, const struct media_call *c);

/* A snapshot of `c`'s statistics (media_call.c). Called by the call's owner only. */
void media_call_fill_stats(const struct media_call *c, struct media_call_stats *st);

/* media_call.c, for the worker that owns `c` (its epoll set `epfd`, -1 on the io_uring
 * path, which arms and cancels the sockets' receives itself): leg C takes the sockets of
 * a CMD_LEG_ADD `cmd` (0, or a negative errno and no sockets), or loses its sockets, keys
 * and statistics; legs `x` and `y` relay to each other, their former partners to no one. */
int media_call_leg_c_add(struct media_call *c, int epfd, struct media_cmd *cmd);
void media_call_leg_c_clear(struct media_call *c, int epfd);
void media_call_pair_legs(struct media_call *c, int x, int y);

enum media_cmd_type {
	CMD_ADD,
	CMD_UPDATE,
	CMD_DELETE,
	CMD_SNAPSHOT,
	CMD_SNAPSHOT_WAIT,
	CMD_STOP,
	CMD_LEG_ADD,  /* leg C gets the sockets in `add` */
	CMD_LEG_DROP, /* leg C closes its sockets */
	CMD_PAIR,     /* legs `leg` and `leg2` relay to each other */
#ifdef SW_TEST_HOOKS
	CMD_TEST_STALL, /* test builds only: the worker sleeps `cookie` ms (a stuck worker) */
#endif
};

/* A control-side request. Owner: the control side until posted, then the worker. */
struct media_cmd {
	struct media_cmd *next;
	enum media_cmd_type type;
	uint64_t call_id;
	uint64_t cookie;
	enum media_leg_id leg, leg2;
	struct media_call *call; /* CMD_ADD */
	struct {
		bool bound; /* the fds below are open and owned by the command */
		struct media_sock sock[2];
		uint8_t cname[RTCP_CNAME_LEN];
		struct media_leg *leg; /* leg C's memory, for a call that has none yet */
	} add;                         /* CMD_LEG_ADD */
	struct {
		struct sockaddr_storage rtp, rtcp;
		bool mux, plain;
		uint32_t clock_rate;
		bool has_dtmf_pt;
		uint8_t dtmf_pt;
		struct srtp_leg *rx, *tx; /* NULL on a plain leg */
	} upd;                            /* CMD_UPDATE */
	struct media_snap_wait *wait;     /* CMD_SNAPSHOT_WAIT (holds one reference) */
};

/* Free a command and what it owns (call, SRTP sessions, wait reference). */
void media_cmd_free(struct media_cmd *cmd);

struct media_worker;

/*
 * Start worker `idx`: its thread, command eventfd and its I/O path `io` (MEDIA_IO_URING
 * or MEDIA_IO_EPOLL; the io_uring ring is set up by the thread, and this waits for it).
 * Events are posted to a ring of `ring_len` and signalled on `ev_efd` (not owned).
 * Returns 0 or negative errno (for io_uring: -ENOTSUP or the kernel's refusal).
 */
int media_worker_new(struct media_worker **out, unsigned idx, int ev_efd, unsigned ring_len,
                     unsigned idle_notice_s, enum media_io io);

/* Stop the thread, free every call it owns (wiping keys) and every queued command. */
void media_worker_free(struct media_worker *w);

/* Queue `cmd` (ownership passes to the worker) and wake the worker. */
void media_worker_post(struct media_worker *w, struct media_cmd *cmd);

/* Deliver waiting events to cb; returns how many. Consumer side of the ring; the thread
 * that posts commands, which also frees here what the worker handed back. */
int media_worker_drain(struct media_worker *w, media_event_cb cb, void *arg);

uint64_t media_worker_events_lost(const struct media_worker *w);
uint64_t media_worker_cpu_ns(const struct media_worker *w);
/* I/O system calls the worker made (epoll_wait, recvmmsg, sendmmsg; io_uring_enter), as
 * of its last round. Any thread. */
uint64_t media_worker_syscalls(const struct media_worker *w);
/* The io_uring path's counts as of the worker's last round (zero on epoll), and the
 * hand-back counts (both paths). Any thread. */
void media_worker_io_counts(const struct media_worker *w, struct media_io_counts *out);
/*
 * Worker thread: call `c` is done with (no request names it, its sockets are closed here):
 * it goes back to the thread that posts commands, which frees it (media_worker_post,
 * media_worker_drain), so the worker never frees into that thread's malloc arena under
 * its lock.
 */
void media_worker_retire(struct media_worker *w, struct media_call *c);
/* CLOCK_MONOTONIC milliseconds when the worker last went round its loop (it does at
 * least every 250 ms while it is not stuck); set at start. Any thread. */
uint64_t media_worker_tick_ms(const struct media_worker *w);

#endif
