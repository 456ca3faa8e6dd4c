/*
 * media_evring.c: a media worker's event queue (see media_evring.h): small entries in one
 * single-producer/single-consumer ring, the statistics of SNAPSHOT and CALL_DELETED
 * events in a second one, consumed in the same order. The producer fills a whole
 * struct media_event of its own and commit() packs it; the consumer unpacks into one of
 * its own before calling back. Not responsible for what the events mean (media_worker.c).
 */
#include "media_evring.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* One queued event without its statistics. */
struct evslot {
	enum media_event_type type;
	enum media_leg_id leg;
	int error;
	unsigned idle_s;
	uint64_t call_id, cookie;
	struct sockaddr_storage addr;
	bool stats; /* the next entry of the statistics ring is this event's */
};

/*
 * struct media_evring: the two rings and each side's scratch event.
 * Owner: its media worker; freed by media_evring_free().
 */
struct media_evring {
	int efd;
	struct evslot *slot;
	unsigned len;
	atomic_uint head, tail; /* consumer, producer */
	struct media_call_stats *stats;
	unsigned stats_len;
	atomic_uint stats_head, stats_tail;
	atomic_ullong lost;
	bool res_stats;          /* producer: the reservation carries statistics */
	bool unsignalled;        /* producer: committed since the last flush */
	struct media_event prod; /* producer: the event being filled */
	struct media_event cons; /* consumer: the event handed to the callback */
};

int
media_evring_new(struct media_evring **out, unsigned len, int efd)
{
	struct media_evring *r;

	if (len < 4 || (len & (len - 1)) != 0)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->efd = efd;
	r->len = len;
	r->stats_len = len / 4;
	r->slot = calloc(len, sizeof(*r->slot));
	r->stats = calloc(r->stats_len, sizeof(*r->stats));
	if (r->slot == NULL || r->stats == NULL) {
		media_evring_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void
media_evring_free(struct media_evring *r)
{
	if (r == NULL)
		return;
	if (r->slot != NULL)
		OPENSSL_cleanse(r->slot, sizeof(*r->slot) * r->len);
	if (r->stats != NULL)
		OPENSSL_cleanse(r->stats, sizeof(*r->stats) * r->stats_len);
	free(r->slot);
	free(r->stats);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

struct media_event *
media_evring_reserve(struct media_evring *r, bool with_stats)
{
	unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (t - h >= r->len)
		goto full;
	if (with_stats) {
		unsigned st = atomic_load_explicit(&r->stats_tail, memory_order_relaxed);
		unsigned sh = atomic_load_explicit(&r->stats_head, memory_order_acquire);

		if (st - sh >= r->stats_len)
			goto full;
	}
	r->res_stats = with_stats;
	memset(&r->prod, 0, sizeof(r->prod));
	return &r->prod;
full:
	atomic_fetch_add_explicit(&r->lost, 1, memory_order_relaxed);
	return NULL;
}

void
media_evring_commit(struct media_evring *r)
{
	unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct evslot *s = &r->slot[t % r->len];
	const struct media_event *ev = &r->prod;

	s->type = ev->type;
	s->leg = ev->leg;
	s->error = ev->error;
	s->idle_s = ev->idle_s;
	s->call_id = ev->call_id;
	s->cookie = ev->cookie;
	s->addr = ev->addr;
	s->stats = r->res_stats;
	if (r->res_stats) {
		unsigned st = atomic_load_explicit(&r->stats_tail, memory_order_relaxed);

		r->stats[st % r->stats_len] = ev->stats;
		atomic_store_explicit(&r->stats_tail, st + 1, memory_order_release);
	}
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	r->unsignalled = true;
}

void
media_evring_flush(struct media_evring *r)
{
	uint64_t one = 1;

	if (!r->unsignalled)
		return;
	r->unsignalled = false;
	(void)!write(r->efd, &one, sizeof(one));
}

int
media_evring_drain(struct media_evring *r, media_event_cb cb, void *arg)
{
	unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
	struct media_event *ev = &r->cons;
	int n = 0;

	while (h != t) {
		const struct evslot *s = &r->slot[h % r->len];
		unsigned sh = atomic_load_explicit(&r->stats_head, memory_order_relaxed);

		memset(ev, 0, sizeof(*ev));
		ev->type = s->type;
		ev->leg = s->leg;
		ev->error = s->error;
		ev->idle_s = s->idle_s;
		ev->call_id = s->call_id;
		ev->cookie = s->cookie;
		ev->addr = s->addr;
		if (s->stats)
			ev->stats = r->stats[sh % r->stats_len];
		cb(ev, arg);
		if (s->stats)
			atomic_store_explicit(&r->stats_head, sh + 1, memory_order_release);
		h++;
		n++;
		atomic_store_explicit(&r->head, h, memory_order_release);
	}
	return n;
}

uint64_t
media_evring_lost(const struct media_evring *r)
{
	return atomic_load_explicit(&((struct media_evring *)r)->lost, memory_order_relaxed);
}

size_t
media_evring_bytes(const struct media_evring *r)
{
	return sizeof(*r) + sizeof(*r->slot) * r->len + sizeof(*r->stats) * r->stats_len;
}
