/*
 * b2bua_trying.c: the 100 Trying to a trunk's INVITE. RFC 3261 s17.2.1 lets a server
 * transaction leave it out when its TU answers (provisional or final) within 200 ms; an
 * agent that answers at once would otherwise cost every call one more TLS record, write
 * and parse on both sides for nothing (over TLS a 100 only tells the caller that the
 * INVITE arrived; there are no retransmissions to stop). So a new call from a trunk joins
 * a FIFO and gets its 100 only if, TRYING_DELAY_MS later, it still has sent nothing on
 * leg A (still routing, no final). All calls wait the same delay, so the queue is in
 * deadline order: one timer for the head, O(1) per call, no allocation. (A call that
 * [cluster] held before it was taken on joins behind calls that came after it: its 100
 * may go out that much later, never earlier.)
 * Owns the queue (struct b2bua's `trying`, struct call's `trying_*`); not responsible for
 * what else is sent on leg A (b2bua.c, b2bua_agent.c, b2bua_prack.c).
 */
#include "b2bua_int.h"

#include <errno.h>

#include "monotime.h"

/* when c's 100 Trying is due: TRYING_DELAY_MS after its INVITE came (monotonic ms) */
static int64_t
due_ms(const struct call *c)
{
	return (int64_t)c->t_invite.tv_sec * 1000 + c->t_invite.tv_nsec / 1000000 + TRYING_DELAY_MS;
}

static void
arm(struct b2bua *b, int64_t now)
{
	struct call *c = TAILQ_FIRST(&b->trying);
	int64_t ms;

	if (c == NULL || b->trying_ev == NULL)
		return;
	ms = due_ms(c) > now ? due_ms(c) - now : 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(b->trying_ev, &tv);
}

static void
trying_cb(evutil_socket_t fd, short what, void *arg)
{
	struct b2bua *b = arg;
	int64_t now = monotime_ms();
	struct call *c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&b->trying)) != NULL && due_ms(c) <= now) {
		TAILQ_REMOVE(&b->trying, c, trying_entry);
		c->trying_queued = false;
		if (c->state == CALL_ROUTING && !c->a_final_sent && c->a_invite != NULL)
			b2bua_reply(b, c->leg[0].conn, c->a_invite, 100, NULL, NULL, NULL);
	}
	arm(b, now);
}

int
trying_start(struct b2bua *b)
{
	TAILQ_INIT(&b->trying);
	b->trying_ev = evtimer_new(b->base, trying_cb, b);
	return b->trying_ev != NULL ? 0 : -ENOMEM;
}

void
trying_stop(struct b2bua *b)
{
	struct call *c;

	if (b->trying_ev == NULL)
		return;
	while ((c = TAILQ_FIRST(&b->trying)) != NULL) {
		TAILQ_REMOVE(&b->trying, c, trying_entry);
		c->trying_queued = false;
	}
	event_free(b->trying_ev);
	b->trying_ev = NULL;
}

void
trying_queue(struct call *c)
{
	struct b2bua *b = c->b;
	int64_t now = monotime_ms();
	bool first = TAILQ_EMPTY(&b->trying);

	if (c->trying_queued || b->trying_ev == NULL)
		return;
	TAILQ_INSERT_TAIL(&b->trying, c, trying_entry);
	c->trying_queued = true;
	if (first)
		arm(b, now);
}

void
trying_forget(struct call *c)
{
	if (!c->trying_queued)
		return;
	TAILQ_REMOVE(&c->b->trying, c, trying_entry);
	c->trying_queued = false;
	/* the timer may fire for a head that is gone: it finds nothing due and re-arms */
}
