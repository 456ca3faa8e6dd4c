/*
 * media_uring.c: a media worker's io_uring path (media_uring.h says what and why).
 *
 * Buffers: URING_NBUF buffers of URING_BUF_LEN octets, registered as provided-buffer
 * group 0. A multishot recvmsg lays each datagram out as struct io_uring_recvmsg_out, the
 * source address (URING_NAME_LEN) and the payload; the payload is relayed in place, so
 * the trailer room SRTP needs is the rest of the buffer. A buffer is owned by the kernel
 * while it sits in the ring, by the worker from its receive completion until its send
 * completes (or it is dropped), then goes back. Requests are told apart by the low bits of
 * their user_data: a receive carries its struct media_sock (8-aligned), a send its buffer
 * id. Deleted calls wait on `dying` until no request names them. Not responsible for the
 * per-packet decision (media_relay.c) or commands (media_worker.c).
 */
#include "media_uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtp_stats.h"

#ifndef SW_HAVE_URING

int
media_uring_new(struct media_uring **out, int cmd_efd, struct media_relay *r)
{
	(void)out, (void)cmd_efd, (void)r;
	return -ENOTSUP;
}

void
media_uring_free(struct media_uring *u)
{
	(void)u;
}

int
media_uring_add_call(struct media_uring *u, struct media_call *c)
{
	(void)u, (void)c;
	return -ENOTSUP;
}

void
media_uring_del_call(struct media_uring *u, struct media_call *c)
{
	(void)u;
	media_call_free(c);
}

void
media_uring_leg_release(struct media_uring *u, struct media_call *c, int leg)
{
	(void)u, (void)c, (void)leg;
}

void
media_uring_leg_arm(struct media_uring *u, struct media_call *c, int leg)
{
	(void)u, (void)c, (void)leg;
}

int
media_uring_run(struct media_uring *u, unsigned timeout_ms, bool *cmds)
{
	(void)u, (void)timeout_ms, (void)cmds;
	return -ENOTSUP;
}

unsigned long long
media_uring_rearms(const struct media_uring *u)
{
	(void)u;
	return 0;
}

unsigned long long
media_uring_syscalls(const struct media_uring *u)
{
	(void)u;
	return 0;
}

#else

#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <liburing.h>
#include <openssl/crypto.h>

#define URING_NBUF     512 /* provided buffers per worker (a power of two) */
#define URING_BUF_LEN  (MEDIA_PKT_BUF + 64)
#define URING_NAME_LEN 32 /* >= sizeof(struct sockaddr_in6); keeps the payload 16-aligned */
#define URING_SQ       1024
#define URING_CQ       8192
#define URING_BGID     0

/* user_data tags (low 3 bits) */
#define UD_RECV        0u /* | struct media_sock * | its leg's io_gen << 48 */
#define UD_SEND        1u /* | bid << 3 */
#define UD_CMD         2u
#define UD_CANCEL      3u
#define UD_TAG(x)      ((unsigned)((x)&7u))
#define UD_PTR_MASK    0x0000fffffffffff8ull /* user-space pointers fit in 48 bits */

/* A buffer's send, valid from its queueing to its completion. */
struct uring_slot {
	struct msghdr msg;
	struct iovec iov;
	union media_addr dst;
	struct media_leg *leg; /* the leg it leaves on; its call holds a reference for us */
};

/*
 * struct media_uring: one worker's ring and buffers. Owner: the worker; only its thread
 * uses it; freed by media_uring_free().
 */
struct media_uring {
	struct io_uring ring;
	bool ring_ok;
	int cmd_efd;
	struct media_relay *relay;
	struct io_uring_buf_ring *br; /* URING_NBUF entries, page-aligned */
	uint8_t *bufs;                /* URING_NBUF * URING_BUF_LEN */
	bool br_registered;
	unsigned br_added;  /* buffers given back since the last advance */
	struct msghdr rmsg; /* the receive layout: URING_NAME_LEN of name, no control */
	struct uring_slot *slot;
	struct media_call *dying; /* deleted calls the kernel still holds, through hnext */
	unsigned long long rearms, enters;
};

static uint8_t *
buf_of(struct media_uring *u, unsigned bid)
{
	return u->bufs + (size_t)bid * URING_BUF_LEN;
}

static void
buf_put(struct media_uring *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, buf_of(u, bid), URING_BUF_LEN, (unsigned short)bid,
	                      io_uring_buf_ring_mask(URING_NBUF), (int)u->br_added++);
}

static void
buf_flush(struct media_uring *u)
{
	if (u->br_added > 0) {
		io_uring_buf_ring_advance(u->br, (int)u->br_added);
		u->br_added = 0;
	}
}

/* An SQE, submitting what is queued when the SQ is full; NULL only if that fails too. */
static struct io_uring_sqe *
sqe_get(struct media_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL) {
		buf_flush(u);
		(void)io_uring_submit(&u->ring);
		u->enters++;
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* A receive's user_data: its socket, and the generation of the leg's sockets. */
static uint64_t
recv_ud(const struct media_sock *s)
{
	const struct media_call *c = s->leg->call;
	return (uint64_t)(uintptr_t)s | (uint64_t)c->io_gen[s->leg->id] << 48 | UD_RECV;
}

static int
arm_recv(struct media_uring *u, struct media_sock *s)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &u->rmsg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_BGID;
	io_uring_sqe_set_data64(sqe, recv_ud(s));
	return 0;
}

static int
arm_cmd(struct media_uring *u)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, u->cmd_efd, POLLIN);
	io_uring_sqe_set_data64(sqe, UD_CMD);
	return 0;
}

int
media_uring_new(struct media_uring **out, int cmd_efd, struct media_relay *r)
{
	struct io_uring_params p;
	int err;

	struct media_uring *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->cmd_efd = cmd_efd;
	u->relay = r;
	_Static_assert(URING_NAME_LEN >= sizeof(struct sockaddr_in6), "room for an IPv6 source");
	u->rmsg.msg_namelen = URING_NAME_LEN;
	u->slot = calloc(URING_NBUF, sizeof(*u->slot));
	u->bufs = calloc(URING_NBUF, URING_BUF_LEN);
	if (u->slot == NULL || u->bufs == NULL ||
	    posix_memalign((void **)&u->br, 4096, URING_NBUF * sizeof(struct io_uring_buf)) != 0) {
		u->br = NULL;
		err = -ENOMEM;
		goto fail;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
	          IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = URING_CQ;
	if ((err = io_uring_queue_init_params(URING_SQ, &u->ring, &p)) != 0)
		goto fail;
	u->ring_ok = true;
	if (!(p.features & IORING_FEAT_EXT_ARG)) { /* one enter for submit + timed wait */
		err = -ENOTSUP;
		goto fail;
	}
	struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)u->br,
	                               .ring_entries = URING_NBUF,
	                               .bgid = URING_BGID};
	io_uring_buf_ring_init(u->br);
	if ((err = io_uring_register_buf_ring(&u->ring, &reg, 0)) != 0)
		goto fail;
	u->br_registered = true;
	for (unsigned i = 0; i < URING_NBUF; i++)
		buf_put(u, i);
	buf_flush(u);
	if ((err = arm_cmd(u)) != 0)
		goto fail;
	*out = u;
	return 0;
fail:
	media_uring_free(u);
	return err;
}

void
media_uring_free(struct media_uring *u)
{
	if (u == NULL)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring); /* cancels every request; the kernel lets go */
	while (u->dying != NULL) {
		struct media_call *next = u->dying->hnext;
		media_call_free(u->dying);
		u->dying = next;
	}
	if (u->bufs != NULL)
		OPENSSL_cleanse(u->bufs, (size_t)URING_NBUF * URING_BUF_LEN);
	free(u->bufs);
	free(u->br);
	free(u->slot);
	free(u);
}

int
media_uring_add_call(struct media_uring *u, struct media_call *c)
{
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			int rc = arm_recv(u, &c->leg[i]->sock[k]);
			if (rc != 0) {
				/* the ones armed stay counted; the caller deletes the call */
				return rc;
			}
			c->io_refs++;
		}
	}
	return 0;
}

/* A request naming `c` completed for good: free a deleted call once none is left. */
static void
call_unref(struct media_uring *u, struct media_call *c)
{
	if (--c->io_refs > 0 || !c->io_dying)
		return;
	struct media_call **pp = &u->dying;
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	media_call_free(c);
}

/*
 * Submit what is queued and run the kernel's pending completions now. Sends name their
 * socket by fd number, so they must have left before a socket is closed (the number may
 * be reused at once); and a cancelled receive lets go of its socket only once its
 * completion has run (DEFER_TASKRUN runs it in io_uring_enter). The completions are
 * handled in the next round.
 */
static void
settle(struct media_uring *u)
{
	buf_flush(u);
	(void)io_uring_submit_and_get_events(&u->ring);
	u->enters++;
}

/* Cancel the receives on leg `l`'s sockets (those that have one), queued after every
 * send already queued. */
static void
cancel_recvs(struct media_uring *u, struct media_leg *l)
{
	for (int k = 0; k < 2 && l != NULL; k++) {
		if (l->sock[k].fd < 0)
			continue;
		struct io_uring_sqe *sqe = sqe_get(u);
		if (sqe == NULL)
			continue; /* the ring's exit cancels it at the latest */
		io_uring_prep_cancel64(sqe, recv_ud(&l->sock[k]), 0);
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
	}
}

void
media_uring_del_call(struct media_uring *u, struct media_call *c)
{
	c->io_dying = true;
	if (c->io_refs == 0) {
		media_call_free(c);
		return;
	}
	c->hnext = u->dying;
	u->dying = c;
	for (int i = 0; i < MEDIA_LEGS; i++)
		cancel_recvs(u, c->leg[i]);
	settle(u);
	/* the kernel holds no socket of the call any more: the ports are free as soon as the
	 * fds close, as on the epoll path; the memory waits for the last completion */
	for (int i = 0; i < MEDIA_LEGS; i++) {
		for (int k = 0; k < 2 && c->leg[i] != NULL; k++) {
			if (c->leg[i]->sock[k].fd >= 0)
				close(c->leg[i]->sock[k].fd);
			c->leg[i]->sock[k].fd = -1;
		}
	}
}

void
media_uring_leg_release(struct media_uring *u, struct media_call *c, int leg)
{
	cancel_recvs(u, c->leg[leg]);
	settle(u);
	c->io_gen[leg]++;
}

void
media_uring_leg_arm(struct media_uring *u, struct media_call *c, int leg)
{
	for (int k = 0; k < 2 && c->leg[leg] != NULL; k++) {
		struct media_sock *s = &c->leg[leg]->sock[k];
		if (s->fd >= 0 && arm_recv(u, s) == 0)
			c->io_refs++;
	}
}

/* One multishot receive completion on socket `s`. */
static void
on_recv(struct media_uring *u, uint64_t ud, const struct io_uring_cqe *cqe, uint64_t mono,
        uint64_t wall)
{
	struct media_sock *s = (struct media_sock *)(uintptr_t)(ud & UD_PTR_MASK);
	struct media_call *c = s->leg->call;
	/* the leg lost these sockets since (leg C dropped or replaced): nothing to relay */
	bool stale = (uint16_t)(ud >> 48) != c->io_gen[s->leg->id];

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *b = buf_of(u, bid);
		struct io_uring_recvmsg_out *o =
		        cqe->res > 0 ? io_uring_recvmsg_validate(b, cqe->res, &u->rmsg) : NULL;
		bool sent = false;

		if (c->io_dying || stale) {
			/* deleted (or the socket dropped) while the packet was on its way */
		} else if (o == NULL || (o->flags & MSG_TRUNC) ||
		           io_uring_recvmsg_payload_length(o, cqe->res, &u->rmsg) > MEDIA_PKT_MAX) {
			rtp_stats_drop(&s->leg->rx_stats, RTP_DROP_MALFORMED);
		} else {
			struct sockaddr_storage src;
			struct media_relay_out out;
			uint8_t *pkt = io_uring_recvmsg_payload(o, &u->rmsg);
			size_t len = io_uring_recvmsg_payload_length(o, cqe->res, &u->rmsg);
			size_t cap = (size_t)(b + URING_BUF_LEN - pkt);

			memset(&src, 0, sizeof(src));
			memcpy(&src, io_uring_recvmsg_name(o),
			       o->namelen < URING_NAME_LEN ? o->namelen : URING_NAME_LEN);
			if (media_relay_packet(u->relay, s, pkt, &len, cap, &src, mono, wall,
			                       &out)) {
				struct uring_slot *sl = &u->slot[bid];
				struct io_uring_sqe *sqe = sqe_get(u);
				if (sqe == NULL) {
					rtp_stats_drop(&out.leg->tx_stats, RTP_DROP_OTHER);
				} else {
					sl->dst = *out.dst;
					sl->iov = (struct iovec){.iov_base = pkt, .iov_len = len};
					sl->msg = (struct msghdr){.msg_name = &sl->dst,
					                          .msg_namelen = out.dst_len,
					                          .msg_iov = &sl->iov,
					                          .msg_iovlen = 1};
					sl->leg = out.leg;
					/* a full socket buffer fails the send at once, as sendmmsg
					 * with MSG_DONTWAIT does: counted, never waited for */
					io_uring_prep_sendmsg(sqe, out.fd, &sl->msg, MSG_DONTWAIT);
					io_uring_sqe_set_data64(sqe, (uint64_t)bid << 3 | UD_SEND);
					c->io_refs++;
					sent = true;
				}
			}
		}
		if (!sent)
			buf_put(u, bid);
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	/* the multishot receive ended: out of buffers (-ENOBUFS), cancelled, or an error */
	if (!c->io_dying && !stale && cqe->res != -ECANCELED && arm_recv(u, s) == 0) {
		if (cqe->res == -ENOBUFS)
			u->rearms++;
		return;
	}
	call_unref(u, c);
}

static void
on_send(struct media_uring *u, unsigned bid, int res)
{
	struct uring_slot *sl = &u->slot[bid];
	struct media_call *c = sl->leg->call;

	if (res < 0)
		rtp_stats_drop(&sl->leg->tx_stats, RTP_DROP_OTHER);
	sl->leg = NULL;
	buf_put(u, bid);
	call_unref(u, c);
}

int
media_uring_run(struct media_uring *u, unsigned timeout_ms, bool *cmds)
{
	struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
	                               .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	buf_flush(u);
	int rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
	u->enters++;
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		return rc;

	uint64_t mono = media_relay_now_ns(CLOCK_MONOTONIC),
	         wall = media_relay_now_ns(CLOCK_REALTIME);
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		switch (UD_TAG(ud)) {
		case UD_RECV:
			on_recv(u, ud, cqe, mono, wall);
			break;
		case UD_SEND:
			on_send(u, (unsigned)(ud >> 3), cqe->res);
			break;
		case UD_CMD:
			*cmds = true;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				(void)arm_cmd(u);
			break;
		default: /* UD_CANCEL: its target's own completion does the work */
			break;
		}
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return 0;
}

unsigned long long
media_uring_rearms(const struct media_uring *u)
{
	return u->rearms;
}

unsigned long long
media_uring_syscalls(const struct media_uring *u)
{
	return u->enters;
}

#endif
