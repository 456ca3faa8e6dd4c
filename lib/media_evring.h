/*
 * media_evring.h: a media worker's queue of events to the control side (media.h events).
 *
 * One producer (the worker thread) and one consumer (whoever drains, one thread at a
 * time); no locks. Most events are small (first packet, latched, idle, error), but the
 * two that carry a call's statistics (MEDIA_EV_SNAPSHOT, MEDIA_EV_CALL_DELETED) are about
 * 2 KB, so the queue keeps small entries and the statistics in a second, shorter ring
 * (a quarter of the length): a worker's queue of 4,096 events costs 2.7 MB instead of
 * the 8.7 MB of 4,096 whole struct media_event (and that memory becomes resident as the
 * ring wraps, whatever the load). An event that finds either ring full is lost and
 * counted. Not responsible for waking the consumer beyond writing the eventfd it is given.
 */
#ifndef SW_MEDIA_EVRING_H
#define SW_MEDIA_EVRING_H

#include <stdbool.h>
#include <stdint.h>

#include "media.h"

struct media_evring;

/*
 * A queue of `len` events (a power of two, at least 4) of which len / 4 may carry
 * statistics; `efd` (not owned) gets one write per media_evring_flush() that follows
 * committed events (the worker flushes once at the end of each round, so a round's
 * events cost one system call and one wake-up of the consumer, not one each). 0 or
 * -EINVAL/-ENOMEM; the ring is freed (and wiped) with media_evring_free().
 */
int media_evring_new(struct media_evring **out, unsigned len, int efd);
void media_evring_free(struct media_evring *r);

/*
 * Producer: an event to fill (zeroed), or NULL when the queue (or, for `with_stats`, the
 * statistics ring) is full; the event is then counted as lost. Fill it, including
 * .stats when `with_stats`, then media_evring_commit(). One reservation at a time.
 */
struct media_event *media_evring_reserve(struct media_evring *r, bool with_stats);
void media_evring_commit(struct media_evring *r);
/* Producer: wake the consumer (one write to `efd`) if events were committed since the
 * last flush. */
void media_evring_flush(struct media_evring *r);

/* Consumer: cb for every waiting event, in order; the event is valid during the call
 * only (.stats only for the two event types that carry statistics). Returns how many. */
int media_evring_drain(struct media_evring *r, media_event_cb cb, void *arg);

/* Events lost because a ring was full (since start). Any thread. */
uint64_t media_evring_lost(const struct media_evring *r);

/* Bytes the rings take (tests and tools). */
size_t media_evring_bytes(const struct media_evring *r);

#endif
