/*
 * media_worker.c: a media worker thread, its commands and its epoll loop.
 *
 * Each worker owns its calls outright: their sockets, SRTP sessions and counters. It waits
 * in epoll on its sockets and its command eventfd, reads packets in batches (recvmmsg),
 * hands each to media_relay_packet() (media_relay.h: source, authentication, latching,
 * RTCP rewrite, re-protect in place) and sends in batches (sendmmsg). The packet path
 * takes no lock, allocates nothing (libsrtp allocates once per new authenticated SSRC,
 * at most SRTP_LEG_MAX_SSRCS per session) and never logs. Commands from the control side
 * are taken from a short mutex-protected list only when the eventfd fires. Events go back
 * through media_evring.h. Not responsible for binding ports or building SRTP sessions
 * (media.c does that before handing a call over).
 */
#include "media_worker.h"
#include "media_evring.h"
#include "media_relay.h"
#include "media_uring.h"
#include "srtp_ossl.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <openssl/crypto.h>

#define BATCH        32
#define READS_PER_FD 8 /* batches per socket per wake-up, so one flood cannot starve */
#define HASH_BUCKETS 4096
#define EPOLL_EVENTS 64

struct media_worker {
	unsigned idx;
	pthread_t thr;
	bool thr_started;
	int epfd, cmd_efd, ev_efd;
	unsigned idle_notice_s;
	enum media_io io;      /* MEDIA_IO_EPOLL or MEDIA_IO_URING */
	struct media_uring *u; /* MEDIA_IO_URING: made and used by the worker thread */
	sem_t started;         /* the thread has set its I/O path up (start_rc) */
	int start_rc;

	pthread_mutex_t cmd_mu;
	struct media_cmd *cmd_head, *cmd_tail;
	struct media_cmd stop_cmd;

	struct media_evring *evr; /* events to the control side (media_evring.h) */
	atomic_ullong tick_ms;    /* last time round the loop (CLOCK_MONOTONIC ms), for liveness */
	uint64_t nsys;            /* I/O system calls so far (worker thread only) ... */
	atomic_ullong nsys_pub;   /* ... published once per round, for tools */
	atomic_ullong io_pub[5];  /* the io_uring path's counts, published likewise */
	atomic_ullong frees;      /* calls and commands freed by the worker thread (none) */
	atomic_ullong reaped;     /* deleted calls freed by the posting thread (reap) */
	/* done with by the worker, freed by the poster (media_worker_retire, reap) */
	_Atomic(struct media_call *) dead_calls;
	_Atomic(struct media_cmd *) dead_cmds;

	struct media_call *buckets[HASH_BUCKETS];
	bool stop;

	/* packet path scratch, allocated once */
	uint8_t (*buf)[MEDIA_PKT_BUF];
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage src[BATCH];
	union media_addr dst[BATCH];
	int sfd[BATCH];
	unsigned nsend;
	struct media_relay relay; /* the packet path's decisions (media_relay.h) */
};

/* ---- events (producer side: media_evring.h) ---- */

static struct media_event *
ev_reserve(struct media_worker *w, bool with_stats)
{
	return media_evring_reserve(w->evr, with_stats);
}

static void
ev_commit(struct media_worker *w)
{
	media_evring_commit(w->evr);
}

/* ---- calls ---- */

static unsigned
hash_id(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 52) % HASH_BUCKETS;
}

static struct media_call *
call_find(struct media_worker *w, uint64_t id)
{
	for (struct media_call *c = w->buckets[hash_id(id)]; c != NULL; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void
call_unlink(struct media_worker *w, struct media_call *c)
{
	struct media_call **pp = &w->buckets[hash_id(c->id)];
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	if (w->io != MEDIA_IO_EPOLL)
		return; /* io_uring: media_uring_del_call() cancels the receives */
	for (int i = 0; i < MEDIA_LEGS; i++)
		for (int k = 0; k < 2 && c->leg[i] != NULL; k++)
			if (c->leg[i]->sock[k].fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->leg[i]->sock[k].fd, NULL);
}

static int
call_add(struct media_worker *w, struct media_call *c)
{
	if (w->io == MEDIA_IO_URING) {
		int rc = media_uring_add_call(w->u, c);
		if (rc != 0)
			return rc;
		unsigned b = hash_id(c->id);
		c->hnext = w->buckets[b];
		w->buckets[b] = c;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			struct media_sock *s = &c->leg[i]->sock[k];
			struct epoll_event ee = {.events = EPOLLIN, .data.ptr = s};
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ee) != 0) {
				int err = -errno;
				call_unlink(w, c);
				return err;
			}
		}
	}
	unsigned b = hash_id(c->id);
	c->hnext = w->buckets[b];
	w->buckets[b] = c;
	return 0;
}

/* A command is done with: back to the poster, which frees it (media_worker_post). */
static void
retire_cmd(struct media_worker *w, struct media_cmd *cmd)
{
	struct media_cmd *top = atomic_load_explicit(&w->dead_cmds, memory_order_relaxed);
	do
		cmd->next = top;
	while (!atomic_compare_exchange_weak_explicit(&w->dead_cmds, &top, cmd,
	                                              memory_order_release, memory_order_relaxed));
}

static void
handle_cmd(struct media_worker *w, struct media_cmd *cmd)
{
	struct media_call *c = NULL;
	struct media_event *ev;

	if (cmd->type != CMD_ADD && cmd->type != CMD_STOP)
		c = call_find(w, cmd->call_id);

	switch (cmd->type) {
	case CMD_STOP:
		w->stop = true;
		return; /* the stop command is embedded in the worker, not freed */
#ifdef SW_TEST_HOOKS
	case CMD_TEST_STALL: {
		struct timespec ts = {(time_t)(cmd->cookie / 1000),
		                      (long)(cmd->cookie % 1000) * 1000000};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		atomic_fetch_add_explicit(&w->frees, 1, memory_order_relaxed);
		media_cmd_free(cmd); /* the one free left on a worker: a test's */
		return;
	}
#endif
	case CMD_ADD:
		if (call_add(w, cmd->call) == 0) {
			cmd->call = NULL; /* owned by the worker now */
		} else if (w->io == MEDIA_IO_URING) {
			/* receives it armed may name it: freed once the kernel lets go */
			media_uring_del_call(w->u, cmd->call);
			cmd->call = NULL;
		}
		break;
	case CMD_UPDATE:
		if (c != NULL && c->leg[cmd->leg] != NULL) /* leg C: once added */
			media_relay_leg_update(c->leg[cmd->leg], cmd);
		break;
	case CMD_LEG_ADD:
		if (c != NULL && w->io == MEDIA_IO_URING) {
			media_uring_leg_release(w->u, c, MEDIA_LEG_C);
			if (media_call_leg_c_add(c, -1, cmd) == 0)
				media_uring_leg_arm(w->u, c, MEDIA_LEG_C);
		} else if (c != NULL) {
			(void)media_call_leg_c_add(c, w->epfd, cmd); /* failed: no sockets */
		}
		break;
	case CMD_LEG_DROP:
		if (c != NULL && w->io == MEDIA_IO_URING) {
			media_uring_leg_release(w->u, c, MEDIA_LEG_C);
			/* stale completions still find their leg (and call): cleared, the leg
			 * keeps its address and its sockets' leg pointers */
			media_call_leg_c_clear(c, -1);
		} else if (c != NULL) {
			media_call_leg_c_clear(c, w->epfd);
		}
		break;
	case CMD_PAIR:
		if (c != NULL)
			media_call_pair_legs(c, cmd->leg, cmd->leg2);
		break;
	case CMD_DELETE:
		if (c == NULL)
			break;
		call_unlink(w, c);
		if ((ev = ev_reserve(w, true)) != NULL) {
			ev->type = MEDIA_EV_CALL_DELETED;
			ev->call_id = c->id;
			ev->cookie = cmd->cookie;
			media_call_fill_stats(c, &ev->stats);
			ev_commit(w);
		}
		if (w->io == MEDIA_IO_URING)
			media_uring_del_call(w->u, c);
		else
			media_worker_retire(w, c);
		break;
	case CMD_SNAPSHOT:
		if (c != NULL && (ev = ev_reserve(w, true)) != NULL) {
			ev->type = MEDIA_EV_SNAPSHOT;
			ev->call_id = c->id;
			ev->cookie = cmd->cookie;
			media_call_fill_stats(c, &ev->stats);
			ev_commit(w);
		}
		break;
	case CMD_SNAPSHOT_WAIT:
		media_snap_wait_finish(cmd->wait, c != NULL ? 0 : -ENOENT, c);
		media_snap_wait_put(cmd->wait);
		cmd->wait = NULL;
		break;
	}
	if (c == NULL && cmd->type != CMD_ADD && cmd->type != CMD_SNAPSHOT_WAIT &&
	    (ev = ev_reserve(w, false)) != NULL) {
		ev->type = MEDIA_EV_ERROR;
		ev->call_id = cmd->call_id;
		ev->cookie = cmd->cookie;
		ev->error = -ENOENT;
		ev_commit(w);
	}
	retire_cmd(w, cmd);
}

void
media_worker_retire(struct media_worker *w, struct media_call *c)
{
	for (int i = 0; i < MEDIA_LEGS; i++) {
		for (int k = 0; k < 2 && c->leg[i] != NULL; k++) {
			if (c->leg[i]->sock[k].fd >= 0) /* the ports are free now, as before */
				close(c->leg[i]->sock[k].fd);
			c->leg[i]->sock[k].fd = -1;
		}
	}
	srtp_ossl_thread_forget(); /* no key of its sessions stays in this thread's contexts */
	struct media_call *top = atomic_load_explicit(&w->dead_calls, memory_order_relaxed);
	do
		c->hnext = top;
	while (!atomic_compare_exchange_weak_explicit(&w->dead_calls, &top, c, memory_order_release,
	                                              memory_order_relaxed));
}

/* Poster's side: free what the worker handed back (into this thread's own arena). */
static void
reap(struct media_worker *w)
{
	struct media_call *c = atomic_exchange_explicit(&w->dead_calls, NULL, memory_order_acquire);
	while (c != NULL) {
		struct media_call *next = c->hnext;
		media_call_free(c);
		atomic_fetch_add_explicit(&w->reaped, 1, memory_order_relaxed);
		c = next;
	}
	struct media_cmd *m = atomic_exchange_explicit(&w->dead_cmds, NULL, memory_order_acquire);
	while (m != NULL) {
		struct media_cmd *next = m->next;
		media_cmd_free(m);
		m = next;
	}
}

static void
drain_cmds(struct media_worker *w)
{
	uint64_t v;
	(void)!read(w->cmd_efd, &v, sizeof(v));
	pthread_mutex_lock(&w->cmd_mu);
	struct media_cmd *list = w->cmd_head;
	w->cmd_head = w->cmd_tail = NULL;
	pthread_mutex_unlock(&w->cmd_mu);
	while (list != NULL) {
		struct media_cmd *next = list->next;
		handle_cmd(w, list);
		list = next;
	}
}

void
media_worker_post(struct media_worker *w, struct media_cmd *cmd)
{
	uint64_t one = 1;
	reap(w);
	cmd->next = NULL;
	pthread_mutex_lock(&w->cmd_mu);
	if (w->cmd_tail != NULL)
		w->cmd_tail->next = cmd;
	else
		w->cmd_head = cmd;
	w->cmd_tail = cmd;
	pthread_mutex_unlock(&w->cmd_mu);
	(void)!write(w->cmd_efd, &one, sizeof(one));
}

/* ---- packet path ---- */

/* Flush the queued sends: consecutive messages for the same socket go in one sendmmsg. */
static void
flush_sends(struct media_worker *w, struct media_leg *const *tx_leg)
{
	unsigned i = 0;
	while (i < w->nsend) {
		unsigned j = i + 1;
		while (j < w->nsend && w->sfd[j] == w->sfd[i])
			j++;
		unsigned off = i;
		while (off < j) {
			int n = sendmmsg(w->sfd[i], &w->smsg[off], j - off, MSG_DONTWAIT);
			w->nsys++;
			if (n <= 0) {
				/* full socket buffer or unreachable: drop the message, move on */
				rtp_stats_drop(&tx_leg[off]->tx_stats, RTP_DROP_OTHER);
				off++;
			} else {
				off += (unsigned)n;
			}
		}
		i = j;
	}
	w->nsend = 0;
}

static void
read_socket(struct media_worker *w, struct media_sock *s)
{
	struct media_leg *tx_leg[BATCH];

	for (int round = 0; round < READS_PER_FD; round++) {
		for (unsigned i = 0; i < BATCH; i++) {
			w->riov[i].iov_base = w->buf[i];
			w->riov[i].iov_len = MEDIA_PKT_MAX;
			w->rmsg[i].msg_hdr = (struct msghdr){
			        .msg_name = &w->src[i],
			        .msg_namelen = sizeof(w->src[i]),
			        .msg_iov = &w->riov[i],
			        .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(s->fd, w->rmsg, BATCH, MSG_DONTWAIT, NULL);
		w->nsys++;
		if (n <= 0)
			return;
		uint64_t mono = media_relay_now_ns(CLOCK_MONOTONIC),
		         wall = media_relay_now_ns(CLOCK_REALTIME);
		for (int i = 0; i < n; i++) {
			if (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				rtp_stats_drop(&s->leg->rx_stats, RTP_DROP_MALFORMED);
				continue;
			}
			size_t len = w->rmsg[i].msg_len;
			struct media_relay_out out;
			if (!media_relay_packet(&w->relay, s, w->buf[i], &len, MEDIA_PKT_BUF,
			                        &w->src[i], mono, wall, &out))
				continue;
			unsigned k = w->nsend++;
			w->dst[k] = *out.dst;
			w->siov[k].iov_base = w->buf[i];
			w->siov[k].iov_len = len;
			w->smsg[k].msg_hdr = (struct msghdr){
			        .msg_name = &w->dst[k],
			        .msg_namelen = out.dst_len,
			        .msg_iov = &w->siov[k],
			        .msg_iovlen = 1,
			};
			w->sfd[k] = out.fd;
			tx_leg[k] = out.leg;
		}
		flush_sends(w, tx_leg);
		if (n < BATCH)
			return;
	}
}

static void
check_idle(struct media_worker *w, uint64_t mono)
{
	uint64_t limit = (uint64_t)w->idle_notice_s * 1000000000u;

	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		for (struct media_call *c = w->buckets[b]; c != NULL; c = c->hnext) {
			for (int i = 0; i < MEDIA_LEGS; i++) {
				struct media_leg *l = c->leg[i];
				if (l != NULL && l->configured && l->pair >= 0 && !l->idle &&
				    mono - l->last_rx_mono >= limit) {
					l->idle = true;
					media_relay_event(&w->relay, l, MEDIA_EV_IDLE, NULL);
				}
			}
		}
	}
}

/* Once per round of either loop: liveness, then commands, then idle legs. */
static void
worker_round_end(struct media_worker *w, bool cmds, uint64_t *next_idle)
{
	/* liveness for the watchdog (media_engine_workers_alive): one relaxed store per
	 * wake-up, which is at most 250 ms apart unless the loop is stuck */
	atomic_store_explicit(&w->tick_ms, media_relay_now_ns(CLOCK_MONOTONIC) / 1000000u,
	                      memory_order_relaxed);
	atomic_store_explicit(&w->nsys_pub, w->u != NULL ? media_uring_syscalls(w->u) : w->nsys,
	                      memory_order_relaxed);
	if (w->u != NULL) {
		struct media_io_counts n;
		media_uring_counts(w->u, &n);
		const uint64_t v[5] = {n.ops_fixed, n.ops_plain, n.sends_sendto, n.sends_msg,
		                       n.rearms};
		for (int i = 0; i < 5; i++)
			atomic_store_explicit(&w->io_pub[i], v[i], memory_order_relaxed);
	}
	/* commands after sockets: a delete must not free a socket still in this round */
	if (cmds)
		drain_cmds(w);
	if (w->idle_notice_s > 0) {
		uint64_t mono = media_relay_now_ns(CLOCK_MONOTONIC);
		if (mono >= *next_idle) {
			check_idle(w, mono);
			*next_idle = mono + 1000000000u;
		}
	}
	/* the round's events (packets, commands, idle checks): one wake-up for all */
	media_evring_flush(w->evr);
}

static void
epoll_loop(struct media_worker *w)
{
	struct epoll_event evs[EPOLL_EVENTS];
	uint64_t next_idle = media_relay_now_ns(CLOCK_MONOTONIC) + 1000000000u;

	while (!w->stop) {
		int n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, 250);
		w->nsys++;
		bool cmds = false;

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				cmds = true;
			else
				read_socket(w, evs[i].data.ptr);
		}
		worker_round_end(w, cmds, &next_idle);
	}
}

static void
uring_loop(struct media_worker *w)
{
	uint64_t next_idle = media_relay_now_ns(CLOCK_MONOTONIC) + 1000000000u;

	while (!w->stop) {
		bool cmds = false;
		if (media_uring_run(w->u, 250, &cmds) != 0)
			cmds = true; /* the ring failed: at least keep taking commands */
		worker_round_end(w, cmds, &next_idle);
	}
}

static void *
worker_main(void *arg)
{
	struct media_worker *w = arg;

	/* AES-ICM computes on per-thread contexts: made now, not by the first packet */
	w->start_rc = srtp_ossl_thread_init();
	/* the ring is single-issuer: the thread that submits makes it */
	if (w->start_rc == 0 && w->io == MEDIA_IO_URING)
		w->start_rc = media_uring_new(&w->u, w->cmd_efd, &w->relay, w);
	sem_post(&w->started);
	if (w->start_rc != 0)
		return NULL;
	if (w->io == MEDIA_IO_URING)
		uring_loop(w);
	else
		epoll_loop(w);
	return NULL;
}

/* ---- lifecycle ---- */

int
media_worker_new(struct media_worker **out, unsigned idx, int ev_efd, unsigned ring_len,
                 unsigned idle_notice_s, enum media_io io)
{
	struct media_worker *w = calloc(1, sizeof(*w));
	int err;

	if (w == NULL)
		return -ENOMEM;
	w->idx = idx;
	w->ev_efd = ev_efd;
	w->idle_notice_s = idle_notice_s;
	w->epfd = w->cmd_efd = -1;
	w->io = io == MEDIA_IO_URING ? MEDIA_IO_URING : MEDIA_IO_EPOLL;
	w->stop_cmd.type = CMD_STOP;
	pthread_mutex_init(&w->cmd_mu, NULL);
	sem_init(&w->started, 0, 0);
	if ((err = media_evring_new(&w->evr, ring_len, ev_efd)) != 0)
		goto fail;
	w->relay.evr = w->evr;
	w->relay.idle_notice_s = idle_notice_s;
	if ((w->cmd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		err = -errno;
		goto fail;
	}
	if (w->io == MEDIA_IO_EPOLL) {
		/* the io_uring path has its own buffers (media_uring.c) */
		w->buf = calloc(BATCH, MEDIA_PKT_BUF);
		if (w->buf == NULL) {
			err = -ENOMEM;
			goto fail;
		}
		if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			err = -errno;
			goto fail;
		}
		struct epoll_event ee = {.events = EPOLLIN, .data.ptr = NULL};
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_efd, &ee) != 0) {
			err = -errno;
			goto fail;
		}
	}
	atomic_store(&w->tick_ms, media_relay_now_ns(CLOCK_MONOTONIC) / 1000000u);
	if ((err = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		err = -err;
		goto fail;
	}
	w->thr_started = true;
	while (sem_wait(&w->started) != 0 && errno == EINTR)
		;
	if ((err = w->start_rc) != 0)
		goto fail; /* the thread has returned; media_worker_free() joins it */
	*out = w;
	return 0;
fail:
	media_worker_free(w);
	return err;
}

void
media_worker_free(struct media_worker *w)
{
	if (w == NULL)
		return;
	if (w->thr_started) {
		media_worker_post(w, &w->stop_cmd);
		pthread_join(w->thr, NULL);
	}
	/* commands queued after the stop, then every call still owned */
	struct media_cmd *list = w->cmd_head;
	while (list != NULL) {
		struct media_cmd *next = list->next;
		if (list != &w->stop_cmd)
			media_cmd_free(list);
		list = next;
	}
	reap(w); /* what the worker handed back: it has stopped */
	/* the ring first: its exit cancels every request, and frees the deleted calls the
	 * kernel still held; then every call still owned */
	media_uring_free(w->u);
	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		struct media_call *c = w->buckets[b];
		while (c != NULL) {
			struct media_call *next = c->hnext;
			media_call_free(c);
			c = next;
		}
	}
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->cmd_efd >= 0)
		close(w->cmd_efd);
	pthread_mutex_destroy(&w->cmd_mu);
	sem_destroy(&w->started);
	media_evring_free(w->evr);
	if (w->buf != NULL)
		OPENSSL_cleanse(w->buf, (size_t)BATCH * MEDIA_PKT_BUF);
	free(w->buf);
	free(w);
}

int
media_worker_drain(struct media_worker *w, media_event_cb cb, void *arg)
{
	/* the thread that posts also drains: a deleted call is freed here (its sessions'
	 * keys wiped) once the worker let go of it, not only when a command is next posted.
	 * Its CALL_DELETED event is flushed after the round that retired it (in the same
	 * round on epoll, and on io_uring when the delete's settle ends its requests), so a
	 * drain follows the retire; a call retired in a later round waits for the next. */
	reap(w);
	return media_evring_drain(w->evr, cb, arg);
}

uint64_t
media_worker_events_lost(const struct media_worker *w)
{
	return media_evring_lost(w->evr);
}

uint64_t
media_worker_cpu_ns(const struct media_worker *w)
{
	clockid_t cid;
	struct timespec ts;

	if (!w->thr_started || pthread_getcpuclockid(w->thr, &cid) != 0 ||
	    clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
media_worker_syscalls(const struct media_worker *w)
{
	return atomic_load_explicit(&((struct media_worker *)w)->nsys_pub, memory_order_relaxed);
}

void
media_worker_io_counts(const struct media_worker *w, struct media_io_counts *out)
{
	atomic_ullong *p = ((struct media_worker *)w)->io_pub;
	out->ops_fixed = atomic_load_explicit(&p[0], memory_order_relaxed);
	out->ops_plain = atomic_load_explicit(&p[1], memory_order_relaxed);
	out->sends_sendto = atomic_load_explicit(&p[2], memory_order_relaxed);
	out->sends_msg = atomic_load_explicit(&p[3], memory_order_relaxed);
	out->rearms = atomic_load_explicit(&p[4], memory_order_relaxed);
	out->worker_frees =
	        atomic_load_explicit(&((struct media_worker *)w)->frees, memory_order_relaxed);
	out->calls_reaped =
	        atomic_load_explicit(&((struct media_worker *)w)->reaped, memory_order_relaxed);
}

uint64_t
media_worker_tick_ms(const struct media_worker *w)
{
	return atomic_load_explicit(&((struct media_worker *)w)->tick_ms, memory_order_relaxed);
}
