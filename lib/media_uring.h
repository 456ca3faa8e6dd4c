/*
 * media_uring.h: a media worker's io_uring path (liburing), the alternative to its epoll
 * loop (media_worker.c).
 *
 * Every socket of the worker's calls has one multishot receive (IORING_OP_RECVMSG with
 * IORING_RECV_MULTISHOT) drawing from one provided-buffer ring per worker; each received
 * packet is decided on, unprotected and re-protected in its buffer (media_relay.h) and
 * its send is queued as an SQE that names the same buffer; the buffer goes back to the
 * ring when the send completes. One io_uring_enter per round submits every queued send
 * (and re-armed receive) of all sockets and waits for the next completions. The ring is
 * created with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (Linux 6.1), so
 * a kernel that accepts it also has multishot receive (6.0) and buffer rings (5.19).
 * Buffers and the per-buffer send state are allocated when the ring is made; the packet
 * path allocates nothing and takes no lock. 2,048 buffers of 1,728 octets (3.4 MiB a
 * worker) hold 20 ms of 100,000 packets/s: a worker that was preempted or fell behind
 * finds buffers for what queued meanwhile. A ring that runs dry ends every multishot
 * receive that finds it empty, each must be armed again, and that costs the most when
 * the worker is already behind (512 buffers: a starved worker re-armed about once per
 * packet and relayed 75-80 % of its load; 2,048: no re-arm, 87-92 %).
 *
 * Where the kernel has them (found once at start, each with its fallback): the sockets are
 * registered files, indexed by fd number (IOSQE_FIXED_FILE: no fget/fput per receive or
 * send; registered when armed, unregistered before close); sends are IORING_OP_SEND with
 * the destination in the SQE (a probe datagram to ourselves at start; else SENDMSG); the
 * ring's own fd is registered (no fget per io_uring_enter). Sockets are never connected:
 * latching needs them open to any source. SW_MEDIA_URING_OFF turns each off for tests
 * and A/B benchmarks.
 *
 * Only the worker thread calls these (the ring is single-issuer). Not responsible for the
 * call table, commands or events (media_worker.c) nor for the per-packet decision
 * (media_relay.c).
 */
#ifndef SW_MEDIA_URING_H
#define SW_MEDIA_URING_H

#include <stdbool.h>

#include "media_relay.h"
#include "media_worker.h"

struct media_uring;

/*
 * Make the ring, its buffers and a multishot poll on `cmd_efd` (not owned). `r` (not
 * owned) decides on packets. Returns 0, -ENOTSUP (built without liburing), -ENOMEM, or
 * the kernel's refusal (-EPERM: io_uring disabled; -EINVAL: too old; -ENOSYS).
 */
int media_uring_new(struct media_uring **out, int cmd_efd, struct media_relay *r,
                    struct media_worker *w);

/* Tear the ring down, then free every deleted call the kernel still held. NULL is fine. */
void media_uring_free(struct media_uring *u);

/* Arm receives on the call's four sockets (submitted with the next round). 0 or -EBUSY. */
int media_uring_add_call(struct media_uring *u, struct media_call *c);

/*
 * Leg `leg` of `c` is about to lose its sockets (media_call_leg_c_clear/_add): cancel
 * their receives; completions still on their way are recognised as stale and only give
 * back their buffers. The leg's socket structs keep pointing at the leg.
 */
void media_uring_leg_release(struct media_uring *u, struct media_call *c, int leg);

/* Arm receives on leg `leg`'s sockets (those with an fd). */
void media_uring_leg_arm(struct media_uring *u, struct media_call *c, int leg);

/*
 * The call was unlinked: cancel its receives; it is freed (media_call_free()) once the
 * kernel has completed every request that names it. Ownership passes here.
 */
void media_uring_del_call(struct media_uring *u, struct media_call *c);

/*
 * One round: submit what is queued, wait up to `timeout_ms` for a completion, relay every
 * packet that arrived and queue its send. *cmds is set when the command eventfd fired.
 * Returns 0 or a negative errno from io_uring_enter other than a timeout or EINTR.
 */
int media_uring_run(struct media_uring *u, unsigned timeout_ms, bool *cmds);

/* What the packet path submitted since start (media.h's struct media_io_counts). */
void media_uring_counts(const struct media_uring *u, struct media_io_counts *out);

/* io_uring_enter calls made so far (one per round, more when the SQ filled up). */
unsigned long long media_uring_syscalls(const struct media_uring *u);

#endif
