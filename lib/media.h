/*
 * media.h: the media plane's control-side API (the SRTP relay engine).
 *
 * A media engine runs N worker threads. Each call has two legs (MEDIA_LEG_A, MEDIA_LEG_B,
 * e.g. trunk and agent); each leg owns a local UDP port pair (even RTP, odd RTCP) taken
 * at random from the configured range when the call is created, so the ports are known at
 * once. Every packet received on one leg is authenticated and decrypted with that leg's
 * rx keys and re-encrypted with the other leg's tx keys (a legacy RTP leg is plain on its
 * own side), then sent from the other leg's socket to that leg's peer. A leg sends to its
 * signalled address until a packet that passed SRTP authentication arrives from another
 * source; it latches to that source once and then accepts nothing from elsewhere.
 * Everything else is dropped and counted, never acted on. RTCP is rewritten on the way
 * (rtcp.h): SDES carries only a random CNAME made for the leg it leaves on, BYE no
 * reason, APP is dropped, a malformed compound is dropped. Each SRTP session keeps at
 * most SRTP_LEG_MAX_STREAMS SSRCs and admits at most SRTP_LEG_MAX_SSRCS (srtp_leg.h).
 *
 * Threads: all functions here are called from the control side (one signalling thread,
 * or any thread: commands are queued under a short lock). They never wait for a worker,
 * except the *_wait() conveniences meant for tests and tools. Results and notices come
 * back as events through media_engine_event_fd() / media_engine_drain_events(), which
 * must be called from one thread at a time.
 *
 * Not responsible for SDP or SDES (sdp.h, sdes.h) nor for the timeout policy: the engine
 * reports idle legs, the B2BUA decides.
 *
 * Usage from the signalling loop (libevent):
 *
 *	media_engine_new(&eng, &conf);                       // once, after media_global_init()
 *	event_new(base, media_engine_event_fd(eng), EV_READ | EV_PERSIST, media_events_cb, b2b);
 *	// media_events_cb: media_engine_drain_events(eng, on_media_event, b2b);
 *
 *	media_call_new(eng, &id, ports);   // INVITE from the trunk: ports[LEG_A], ports[LEG_B]
 *	// offer to the agent with ports[MEDIA_LEG_B] and fresh keys KB_tx; when it answers:
 *	lc.remote_rtp = agent c=/m=; lc.rx = agent's a=crypto key; lc.tx = KB_tx;
 *	media_leg_update(eng, id, MEDIA_LEG_B, &lc);
 *	// answer the trunk with ports[MEDIA_LEG_A] and fresh keys KA_tx:
 *	lc.remote_rtp = trunk c=/m=; lc.rx = trunk's a=crypto key; lc.tx = KA_tx;
 *	media_leg_update(eng, id, MEDIA_LEG_A, &lc);
 *	srtp_keys_wipe(&lc.rx); srtp_keys_wipe(&lc.tx);     // the engine keeps its own copies
 *	...
 *	media_call_snapshot(eng, id, cookie);                // interim telemetry
 *	media_call_delete(eng, id);                          // BYE: final stats as an event
 */
#ifndef SW_MEDIA_H
#define SW_MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtp_stats.h"
#include "suite.h"

/*
 * A call's legs: A and B from the start, relaying to each other; C only after
 * media_leg_add() (a bridge transfer's new leg), relaying nothing until media_call_pair()
 * makes it the partner of A or B. Each leg relays only to its partner; the leg left
 * without one keeps its sockets and statistics but relays nothing (its packets are
 * dropped and counted as "other") and reports no idleness.
 */
enum media_leg_id { MEDIA_LEG_A = 0, MEDIA_LEG_B = 1, MEDIA_LEG_C = 2 };
#define MEDIA_LEGS 3

/*
 * How the workers wait for and move packets. MEDIA_IO_URING: io_uring (media_uring.h),
 * multishot receive into a ring of provided buffers and sends submitted in batches, one
 * io_uring_enter per batch for all of a worker's sockets. MEDIA_IO_EPOLL: epoll with
 * recvmmsg/sendmmsg per socket, the portable path. MEDIA_IO_AUTO: io_uring when this
 * build has it and the kernel accepts the ring, else epoll.
 */
enum media_io { MEDIA_IO_AUTO = 0, MEDIA_IO_URING, MEDIA_IO_EPOLL };

/* Engine configuration, copied by media_engine_new(). */
struct media_engine_conf {
	unsigned workers;              /* 0: one per online CPU */
	struct sockaddr_storage local; /* address to bind legs to (port ignored) */
	uint16_t port_min, port_max;   /* inclusive range for RTP/RTCP pairs */
	unsigned idle_notice_s;        /* MEDIA_EV_IDLE after this many seconds without
	                                  accepted packets on a leg; 0: never */
	unsigned event_queue_len;      /* per worker; 0: 4096 */
	enum media_io io;              /* 0: MEDIA_IO_AUTO */
};

/*
 * Remote side and keys of one leg, as negotiated in SDP. Copied (and the copy wiped) by
 * media_leg_update(); the caller keeps and wipes its own keys.
 */
struct media_leg_conf {
	struct sockaddr_storage remote_rtp;  /* signalled address; 0.0.0.0 or port 0: hold */
	struct sockaddr_storage remote_rtcp; /* AF_UNSPEC: remote_rtp port + 1 */
	bool rtcp_mux;                       /* RTCP on the RTP port (RFC 5761) */
	bool plain_rtp;                      /* legacy RTP peer: no SRTP on this leg */
	struct srtp_keys rx;                 /* the peer's a=crypto: we unprotect with it */
	struct srtp_keys tx;                 /* ours for this leg: we protect with it */
	uint32_t clock_rate;                 /* payload clock for jitter; 0: 8000 */
	bool has_dtmf_pt;                    /* the leg negotiated telephone-event (RFC 4733) */
	uint8_t dtmf_pt;                     /* its payload type: such packets are counted */
};

/* One leg in a snapshot. Plain data. */
struct media_leg_stats {
	struct rtp_stats rx; /* from the peer to us (loss, jitter, drops) */
	struct rtp_stats tx; /* from us to the peer */
	uint16_t local_rtp_port, local_rtcp_port;
	struct sockaddr_storage peer_rtp; /* where RTP goes now (signalled or latched) */
	bool configured, plain_rtp, rtcp_mux, latched;
};

struct media_call_stats {
	uint64_t call_id;
	struct media_leg_stats leg[MEDIA_LEGS]; /* [MEDIA_LEG_C] zero until it is added */
};

enum media_event_type {
	MEDIA_EV_SNAPSHOT = 1, /* reply to media_call_snapshot(): .stats, .cookie */
	MEDIA_EV_FIRST_PACKET, /* first accepted packet on .leg (authenticated, or legacy) */
	MEDIA_EV_LATCHED,      /* .leg latched to .addr after an authenticated packet */
	MEDIA_EV_IDLE,         /* .leg accepted nothing for .idle_s seconds (once per lull) */
	MEDIA_EV_ACTIVE,       /* .leg accepted a packet again after MEDIA_EV_IDLE */
	MEDIA_EV_CALL_DELETED, /* after media_call_delete(): final .stats */
	MEDIA_EV_ERROR,        /* a queued command failed: .error, .cookie */
};

struct media_event {
	enum media_event_type type;
	uint64_t call_id;
	enum media_leg_id leg;
	uint64_t cookie;
	int error;
	unsigned idle_s;
	struct sockaddr_storage addr;
	struct media_call_stats stats;
};

struct media_engine;

/*
 * Process-wide set-up: srtp_init() once, and the OpenSSL crypto plug-in when it is built
 * in. Safe to call more than once and from several threads. Returns 0 or -EPROTO.
 */
int media_global_init(void);

/*
 * The same, choosing whether to install the OpenSSL plug-in (benchmarks compare both).
 * Only the first of media_global_init*() in a process decides.
 */
int media_global_init_crypto(bool openssl);

/* True when libsrtp computes with the OpenSSL plug-in (srtp_ossl.h). */
bool media_global_openssl(void);

/*
 * Start an engine with its worker threads. Returns 0 and sets *out, or -EINVAL (bad
 * range/address), -ENOMEM, or a negative errno from thread/eventfd creation; with
 * MEDIA_IO_URING, -ENOTSUP when this build has no io_uring or the kernel's error when it
 * refuses the ring (-EPERM, -ENOSYS, -EINVAL). Owner: the caller, stopped and freed with
 * media_engine_free().
 */
int media_engine_new(struct media_engine **out, const struct media_engine_conf *conf);

/* Stop the workers, close every call's sockets and wipe every key. NULL is fine. */
void media_engine_free(struct media_engine *e);

/*
 * Create a call: binds two UDP port pairs (legs A and B) and hands them to a worker.
 * Returns 0 with *call_id and the local ports filled (ports[leg][0] RTP, [1] RTCP), or
 * -EADDRINUSE when the range is exhausted, -ENOMEM, other negative errno. The legs relay
 * nothing until both are configured with media_leg_update().
 */
int media_call_new(struct media_engine *e, uint64_t *call_id, uint16_t ports[2][2]);

/*
 * Configure or re-configure one leg (remote address, keys, rtcp-mux, legacy RTP). The
 * SRTP sessions are built here, so bad keys fail synchronously (-EINVAL, -ENOTSUP);
 * a leg whose keys did not change keeps its sessions (rollover and replay state). A
 * changed signalled address drops the latch. Returns 0 once queued, -ENOENT for an id
 * this engine never issued, -ENOMEM.
 */
int media_leg_update(struct media_engine *e, uint64_t call_id, enum media_leg_id leg,
                     const struct media_leg_conf *conf);

/*
 * Give the call a third leg (MEDIA_LEG_C) with a fresh local port pair, bound now:
 * ports[0] RTP, ports[1] RTCP. It relays nothing until configured (media_leg_update) and
 * paired (media_call_pair). A call that has a leg C already gets a new one (the old one's
 * sockets closed, keys wiped, statistics reset). Returns 0 once queued, -ENOENT,
 * -EADDRINUSE (range exhausted), -ENOMEM.
 */
int media_leg_add(struct media_engine *e, uint64_t call_id, uint16_t ports[2]);

/*
 * Close leg C's sockets and wipe its keys (a bridge that was not answered); its
 * statistics read zero afterwards. Returns 0 once queued, -ENOENT.
 */
int media_leg_drop(struct media_engine *e, uint64_t call_id);

/*
 * Make legs `x` and `y` (different) relay to each other from the next packet on. The
 * legs they relayed to before are left without a partner. Applied by the call's worker
 * between two batches of packets, after every command queued before it: configure the
 * new leg first. Returns 0 once queued, -EINVAL, -ENOENT, -ENOMEM.
 */
int media_call_pair(struct media_engine *e, uint64_t call_id, enum media_leg_id x,
                    enum media_leg_id y);

/* Delete a call: the worker closes its sockets, wipes its keys and posts
 * MEDIA_EV_CALL_DELETED with the final stats. Returns 0 once queued. */
int media_call_delete(struct media_engine *e, uint64_t call_id);

/* Ask for a snapshot; it arrives as MEDIA_EV_SNAPSHOT carrying `cookie`. */
int media_call_snapshot(struct media_engine *e, uint64_t call_id, uint64_t cookie);

/*
 * Blocking convenience for tests and tools: snapshot a call, waiting at most timeout_ms.
 * Returns 0, -ENOENT (no such call), -ETIMEDOUT. Never call it from the signalling loop.
 */
int media_call_snapshot_wait(struct media_engine *e, uint64_t call_id, struct media_call_stats *out,
                             int timeout_ms);

/* Readable when events are waiting (an eventfd). Owned by the engine. */
int media_engine_event_fd(const struct media_engine *e);

/*
 * Call cb for every waiting event, in order per worker. The event is only valid during the
 * call. Returns the number of events delivered. One thread at a time.
 */
typedef void (*media_event_cb)(const struct media_event *ev, void *arg);
int media_engine_drain_events(struct media_engine *e, media_event_cb cb, void *arg);

/* Events lost because a worker's event queue was full (since start). */
uint64_t media_engine_events_lost(const struct media_engine *e);

/* The I/O path the workers run (never MEDIA_IO_AUTO), and its name: "uring" or "epoll". */
enum media_io media_engine_io(const struct media_engine *e);
const char *media_io_name(enum media_io io);

/* Number of workers, and CPU time a worker thread has used so far (ns), or 0. */
unsigned media_engine_workers(const struct media_engine *e);
uint64_t media_engine_worker_cpu_ns(const struct media_engine *e, unsigned worker);
/* I/O system calls a worker made so far (epoll_wait, recvmmsg, sendmmsg; io_uring_enter),
 * as of its last time round its loop; 0 for an index out of range (tools divide it by
 * packets). */
uint64_t media_engine_worker_syscalls(const struct media_engine *e, unsigned worker);

/* What a worker's io_uring path submitted since start, as of its last round (all 0 on
 * the epoll path): lib/media_uring.c says what each costs. */
struct media_io_counts {
	uint64_t ops_fixed;    /* receives and sends naming a registered file */
	uint64_t ops_plain;    /* ... naming an fd (an fget and fput each) */
	uint64_t sends_sendto; /* IORING_OP_SEND with the destination address */
	uint64_t sends_msg;    /* IORING_OP_SENDMSG (a msghdr and iovec copied in) */
	uint64_t rearms;       /* receives re-armed after the buffer ring ran dry */
	uint64_t worker_frees; /* calls, commands the worker freed itself: 0 (media_worker.h) */
	uint64_t calls_reaped; /* deleted calls freed by the posting thread, from the worker */
};
/* 0, or -EINVAL for an index out of range. */
int media_engine_worker_io_counts(const struct media_engine *e, unsigned worker,
                                  struct media_io_counts *out);

/*
 * Liveness, for a watchdog: a worker goes round its loop at least every 250 ms unless it
 * is stuck. Milliseconds since worker `worker` last did (0 for an index out of range),
 * and true when every worker did within `max_age_ms`; when not, *stale (may be NULL)
 * gets the first worker that did not. Any thread.
 */
uint64_t media_engine_worker_tick_age_ms(const struct media_engine *e, unsigned worker);
bool media_engine_workers_alive(const struct media_engine *e, unsigned max_age_ms, unsigned *stale);

#ifdef SW_TEST_HOOKS
/* Test builds only (never in the installed daemon): make worker `worker` sleep `ms`
 * milliseconds inside its loop, as a stuck worker would. 0, -EINVAL or -ENOMEM. */
int media_engine_test_stall(struct media_engine *e, unsigned worker, unsigned ms);
#endif

#endif
