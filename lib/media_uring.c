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
media_uring_new(struct media_uring **out, int cmd_efd, struct media_relay *r,
                struct media_worker *w)
{
	(void)out, (void)cmd_efd, (void)r, (void)w;
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

void
media_uring_counts(const struct media_uring *u, struct media_io_counts *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
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
#include <sys/resource.h>
#include <sys/socket.h>

#include <liburing.h>
#include <openssl/crypto.h>

#define URING_NBUF     2048 /* provided buffers per worker (a power of two): media_uring.h */
#define URING_NAME_LEN 32   /* >= sizeof(struct sockaddr_in6); keeps the payload 16-aligned */
/* the recvmsg header, the source, the largest packet relayed and its SRTP trailer, in
 * cache lines; a larger datagram arrives truncated (MSG_TRUNC) or too long, and is dropped */
#define URING_BUF_LEN                                                                              \
	((sizeof(struct io_uring_recvmsg_out) + URING_NAME_LEN + MEDIA_PKT_MAX +                   \
	  SRTP_LEG_TRAILER_MAX + 63) /                                                             \
	 64 * 64)
#define URING_SQ        1024
#define URING_CQ        8192
#define URING_BGID      0
#define URING_FIXED_MAX 32768u /* registered-file slots at most (8 octets each in the kernel) */

/* user_data tags (low 3 bits) */
#define UD_RECV         0u     /* | struct media_sock * | its leg's io_gen << 48 */
#define UD_SEND         1u     /* | bid << 3 */
#define UD_CMD          2u
#define UD_CANCEL       3u
#define UD_FILES        4u /* | fd << 3: a registration that failed (success posts nothing) */
#define UD_TAG(x)       ((unsigned)((x)&7u))
#define UD_PTR_MASK     0x0000fffffffffff8ull /* user-space pointers fit in 48 bits */

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
	struct media_worker *w;       /* deleted calls go back through it (media_worker_retire) */
	struct io_uring_buf_ring *br; /* URING_NBUF entries, page-aligned */
	uint8_t *bufs;                /* URING_NBUF * URING_BUF_LEN */
	bool br_registered;
	unsigned br_added;  /* buffers given back since the last advance */
	struct msghdr rmsg; /* the receive layout: URING_NAME_LEN of name, no control */
	struct uring_slot *slot;
	struct media_call *dying; /* deleted calls the kernel still holds, through hnext */
	unsigned long long rearms, enters;
	/* what this kernel allows, found at start (media_uring_new) */
	bool sendto;     /* IORING_OP_SEND with a destination: no msghdr to copy per send */
	bool reg_ring;   /* the ring's fd is registered: io_uring_enter skips its fget */
	uint8_t *fixed;  /* fixed[fd]: socket fd is registered file `fd`; NULL: no table */
	unsigned nfixed; /* slots in the table (and in fixed[]) */
	int none;        /* -1: what an unregistration writes into a slot (read at submit) */
	struct media_io_counts n; /* rearms apart */
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

/* Is socket `fd` registered file `fd`? */
static bool
is_fixed(const struct media_uring *u, int fd)
{
	return u->fixed != NULL && (unsigned)fd < u->nfixed && u->fixed[fd];
}

/*
 * Register socket `s` as file `s->fd` (the table is indexed by fd number, so the sockets of
 * every call find their slot without a map), by a request queued just before its receive
 * and linked to it: no system call of its own, and the receive starts only once the slot
 * holds the socket. The kernel reads s->fd when it submits the request, in the next
 * io_uring_enter. A socket past the table is named by fd as before; one the kernel
 * refuses (UD_FILES completion) is unmarked and its receive, cancelled by the failed link,
 * re-armed by fd (on_recv). 0, or -EBUSY with nothing queued.
 */
static int
fixed_add(struct media_uring *u, struct media_sock *s)
{
	int fd = s->fd;
	if (u->fixed == NULL || fd < 0 || (unsigned)fd >= u->nfixed || u->fixed[fd])
		return 0;
	if (io_uring_sq_space_left(&u->ring) < 2) { /* the receive must follow in one batch */
		buf_flush(u);
		(void)io_uring_submit(&u->ring);
		u->enters++;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_files_update(sqe, &s->fd, 1, fd);
	sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, (uint64_t)fd << 3 | UD_FILES);
	u->fixed[fd] = 1;
	return 0;
}

/*
 * Unregister socket `fd` before it is closed, because the table holds its own reference
 * to the socket (the port would stay bound) and a reused fd number must not reach the old
 * socket: queued (no system call of its own); the caller submits it (settle) before the
 * fd is closed. Requests already submitted keep what they resolved.
 */
static void
fixed_del(struct media_uring *u, int fd)
{
	if (!is_fixed(u, fd))
		return;
	u->fixed[fd] = 0;
	struct io_uring_sqe *sqe = sqe_get(u);
	if (sqe == NULL) { /* not even after a submit: the system call, as before */
		(void)io_uring_register_files_update(&u->ring, (unsigned)fd, &u->none, 1);
		u->enters++;
		return;
	}
	io_uring_prep_files_update(sqe, &u->none, 1, fd);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
}

/* The SQE's target: registered file `fd` when it is one, else fd `fd`. */
static void
sqe_target(struct media_uring *u, struct io_uring_sqe *sqe, int fd)
{
	if (is_fixed(u, fd)) {
		sqe->flags |= IOSQE_FIXED_FILE;
		u->n.ops_fixed++;
	} else {
		u->n.ops_plain++;
	}
}

static int
arm_recv(struct media_uring *u, struct media_sock *s)
{
	if (fixed_add(u, s) != 0)
		return -EBUSY;
	struct io_uring_sqe *sqe = sqe_get(u);
	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &u->rmsg, 0);
	sqe_target(u, sqe, s->fd);
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

/*
 * Does this kernel take a destination address on IORING_OP_SEND (Linux 6.1)? One datagram
 * to a socket of our own on loopback says; -EINVAL from an older kernel says no. Any other
 * failure (no loopback) says no too: sendmsg works everywhere.
 */
static bool
probe_sendto(struct media_uring *u)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct io_uring_cqe *cqe;
	bool ok = false;
	uint8_t one = 0;

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe != NULL) {
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&a, &alen) == 0) {
			io_uring_prep_send(sqe, fd, &one, 1, MSG_DONTWAIT);
			sqe->addr2 = (uint64_t)(uintptr_t)&a;
			sqe->addr_len = (uint16_t)alen;
		} else {
			io_uring_prep_nop(sqe); /* not to be left half made */
		}
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
		if (io_uring_submit_and_wait(&u->ring, 1) >= 0 &&
		    io_uring_peek_cqe(&u->ring, &cqe) == 0) {
			ok = cqe->res == 1;
			io_uring_cqe_seen(&u->ring, cqe);
		}
	}
	close(fd);
	return ok;
}

/*
 * SW_MEDIA_URING_OFF: a comma-separated list of what not to use even where the kernel
 * has it ("sendto", "fixed", "regring"), for benchmarks and for tests of the
 * fallbacks; unset in production.
 */
static bool
knob_off(const char *what)
{
	const char *p = getenv("SW_MEDIA_URING_OFF");
	size_t n = strlen(what);
	while (p != NULL && *p != '\0') {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, what, n) == 0)
			return true;
		p += k;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The table of registered files: one slot per possible fd number, up to URING_FIXED_MAX. */
static void
fixed_init(struct media_uring *u)
{
	struct rlimit rl;
	if (knob_off("fixed") || getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	unsigned n = rl.rlim_cur < URING_FIXED_MAX ? (unsigned)rl.rlim_cur : URING_FIXED_MAX;
	if (n == 0 || (u->fixed = calloc(n, 1)) == NULL)
		return;
	if (io_uring_register_files_sparse(&u->ring, n) != 0) {
		free(u->fixed); /* not this kernel (5.19) or RLIMIT_NOFILE: fds as before */
		u->fixed = NULL;
		return;
	}
	u->nfixed = n;
}

int
media_uring_new(struct media_uring **out, int cmd_efd, struct media_relay *r,
                struct media_worker *w)
{
	struct io_uring_params p;
	int err;

	struct media_uring *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->cmd_efd = cmd_efd;
	u->relay = r;
	u->w = w;
	_Static_assert(URING_NAME_LEN >= sizeof(struct sockaddr_in6), "room for an IPv6 source");
	u->rmsg.msg_namelen = URING_NAME_LEN;
	u->none = -1;
	u->slot = calloc(URING_NBUF, sizeof(*u->slot));
	u->bufs = calloc(URING_NBUF, URING_BUF_LEN);
	if (u->slot == NULL || u->bufs == NULL ||
	    posix_memalign((void **)&u->br, 4096, URING_NBUF * sizeof(struct io_uring_buf)) != 0) {
		u->br = NULL;
		err = -ENOMEM;
		goto fail;
	}
	/* every page of the buffers faulted in now, at start: the packet path never takes a
	 * page fault on a buffer's first use, and the 3.4 MiB show in the worker's start, not
	 * spread over the first calls' (bench_memory counted ~2 KiB per live call of them) */
	for (size_t off = 0; off < (size_t)URING_NBUF * URING_BUF_LEN; off += 4096)
		((volatile uint8_t *)u->bufs)[off] = 0;
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
	/* the rest only makes it cheaper: each is used where the kernel has it */
	u->sendto = !knob_off("sendto") && probe_sendto(u);
	u->reg_ring = !knob_off("regring") && io_uring_register_ring_fd(&u->ring) == 1;
	fixed_init(u);
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
	free(u->fixed);
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
	media_worker_retire(u->w, c);
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

/*
 * Close socket `fd` of a deleted call: by a request queued after its receive's cancel and
 * its unregistration (no system call of its own), done in the settle that follows; by
 * close(2) if the ring has no room even after a submit.
 */
static void
close_queued(struct media_uring *u, int fd)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	if (sqe == NULL) {
		close(fd);
		return;
	}
	io_uring_prep_close(sqe, fd);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
}

void
media_uring_del_call(struct media_uring *u, struct media_call *c)
{
	c->io_dying = true;
	if (c->io_refs == 0) {
		/* no request left, but its sockets may still be registered files */
		bool any = false;
		for (int i = 0; i < MEDIA_LEGS; i++) {
			for (int k = 0; k < 2 && c->leg[i] != NULL; k++) {
				any |= is_fixed(u, c->leg[i]->sock[k].fd);
				fixed_del(u, c->leg[i]->sock[k].fd);
			}
		}
		if (any)
			settle(u);
		media_worker_retire(u->w, c);
		return;
	}
	c->hnext = u->dying;
	u->dying = c;
	/* in order: the receives' cancels, the unregistrations, the closes; all submitted by
	 * one io_uring_enter, which also runs the cancelled receives' completions, so the
	 * kernel holds no socket of the call any more when it returns: the ports are free,
	 * as on the epoll path; the memory waits for the last completion */
	for (int i = 0; i < MEDIA_LEGS; i++)
		cancel_recvs(u, c->leg[i]);
	for (int i = 0; i < MEDIA_LEGS; i++) {
		for (int k = 0; k < 2 && c->leg[i] != NULL; k++) {
			if (c->leg[i]->sock[k].fd >= 0) {
				fixed_del(u, c->leg[i]->sock[k].fd);
				close_queued(u, c->leg[i]->sock[k].fd);
			}
			c->leg[i]->sock[k].fd = -1;
		}
	}
	settle(u);
}

void
media_uring_leg_release(struct media_uring *u, struct media_call *c, int leg)
{
	cancel_recvs(u, c->leg[leg]);
	for (int k = 0; k < 2 && c->leg[leg] != NULL; k++)
		fixed_del(u, c->leg[leg]->sock[k].fd);
	settle(u);
	/* the caller closes them next (media_call_leg_c_clear/_add) */
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

/*
 * The send of `pkt` (in buffer slot `sl`, to sl->dst) on socket `fd`. A full socket
 * buffer fails it at once, as sendmmsg with MSG_DONTWAIT does: counted, never waited for;
 * so it completes within the io_uring_enter that submits it.
 */
static void
prep_send(struct media_uring *u, struct io_uring_sqe *sqe, struct uring_slot *sl, int fd,
          uint8_t *pkt, size_t len, socklen_t dst_len)
{
	if (u->sendto) {
		/* sendto: the kernel copies the address only (liburing 2.3 has no
		 * io_uring_prep_sendto: its two fields are set here) */
		io_uring_prep_send(sqe, fd, pkt, len, MSG_DONTWAIT);
		sqe->addr2 = (uint64_t)(uintptr_t)&sl->dst;
		sqe->addr_len = (uint16_t)dst_len;
		u->n.sends_sendto++;
	} else {
		sl->iov = (struct iovec){.iov_base = pkt, .iov_len = len};
		sl->msg = (struct msghdr){.msg_name = &sl->dst,
		                          .msg_namelen = dst_len,
		                          .msg_iov = &sl->iov,
		                          .msg_iovlen = 1};
		io_uring_prep_sendmsg(sqe, fd, &sl->msg, MSG_DONTWAIT);
		u->n.sends_msg++;
	}
	sqe_target(u, sqe, fd);
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
					sl->leg = out.leg;
					prep_send(u, sqe, sl, out.fd, pkt, len, out.dst_len);
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
	/* the multishot receive ended: out of buffers (-ENOBUFS), cancelled, or an error; a
	 * live socket's receive is cancelled only when its registration failed (fixed_add) */
	bool again = cqe->res != -ECANCELED || !is_fixed(u, s->fd);
	if (!c->io_dying && !stale && again && arm_recv(u, s) == 0) {
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
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
	                               .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};

	buf_flush(u);
	/* with the ring's fd registered, liburing enters by its index (no fget of the ring) */
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
		case UD_FILES: /* the registration failed: the socket is named by fd */
			if (cqe->res < 0 && (unsigned)(ud >> 3) < u->nfixed)
				u->fixed[ud >> 3] = 0;
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

void
media_uring_counts(const struct media_uring *u, struct media_io_counts *out)
{
	*out = u->n;
	out->rearms = u->rearms;
}

unsigned long long
media_uring_syscalls(const struct media_uring *u)
{
	return u->enters;
}

#endif
