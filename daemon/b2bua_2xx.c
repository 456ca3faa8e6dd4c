/*
 * b2bua_2xx.c: the 2xx responses sipwarden sends to INVITEs, until their ACK (RFC 3261
 * s13.3.1.4). The UAS core, not the transaction, keeps a 2xx alive, on every transport:
 * the 200 goes out again after T1, then at doubling intervals up to T2, until an ACK
 * for it arrives in the dialog; after 64 x T1 without one the call is ended with BYE on
 * both legs (call.end reason "no_ack"). T1 is [sip] transaction_timeout / 64 and T2 is
 * 8 x T1: 500 ms and 4 s with the default 32 s, RFC 3261's values, since 64 x T1 is the
 * transaction timeout by definition. One 2xx per leg at a time (the initial INVITE's, or
 * a relayed re-INVITE's). One timer per pending 2xx does both jobs, so no two timers
 * race. Not responsible for which INVITE gets a 2xx (b2bua_agent.c, b2bua_relay.c).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "log.h"
#include "monotime.h"

/*
 * struct ok2xx: a 2xx to an INVITE sent on one leg, waiting for its ACK.
 * Owner: its call (c->ok2xx[legi]); freed by ok2xx_stop() / ok2xx_stop_all().
 */
struct ok2xx {
	struct call *c;
	int legi;
	osip_message_t *resp; /* what went out; sent again as is */
	char cseq[12];        /* of the INVITE: the ACK carries it */
	unsigned interval_ms; /* until the next copy */
	int64_t deadline_ms;  /* monotonic: 64 x T1 after the first copy */
	unsigned sent;
	struct event *ev;
};

static unsigned
t1_ms(const struct call *c)
{
	unsigned t1 = c->conf->sip.transaction_timeout_ms / 64;

	return t1 > 0 ? t1 : 1;
}

static void
ok2xx_free(struct ok2xx *k)
{
	osip_body_t *body = NULL;

	if (k == NULL)
		return;
	if (k->ev != NULL)
		event_free(k->ev);
	if (k->resp != NULL) {
		/* the SDP holds our key for this leg: wiped, as the call's own copy is */
		if (osip_message_get_body(k->resp, 0, &body) >= 0 && body != NULL &&
		    body->body != NULL)
			OPENSSL_cleanse(body->body, body->length);
		if (k->resp->message != NULL) /* libosip2's cached serialisation */
			OPENSSL_cleanse(k->resp->message, k->resp->message_length);
		osip_message_free(k->resp);
	}
	free(k);
}

static void
ok2xx_stop(struct call *c, int legi)
{
	ok2xx_free(c->ok2xx[legi]);
	c->ok2xx[legi] = NULL;
}

void
ok2xx_stop_all(struct call *c)
{
	ok2xx_stop(c, 0);
	ok2xx_stop(c, 1);
}

static void
arm(struct ok2xx *k, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(k->ev, &tv);
}

static void
ok2xx_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ok2xx *k = arg;
	struct call *c = k->c;
	int64_t now = monotime_ms(), left = k->deadline_ms - now;
	unsigned t2 = 8 * t1_ms(c);

	if (left <= 0) {
		log_info("call %s: no ACK for the 2xx on leg %c after %u copies, ending it", c->id,
		         k->legi == 0 ? 'A' : 'B', k->sent);
		ok2xx_stop(c, k->legi); /* frees k */
		call_end(c, "failed", "sipwarden", "no_ack", 0);
		return;
	}
	if (c->leg[k->legi].conn != 0 && b2bua_send(c->b, c->leg[k->legi].conn, k->resp) == 0)
		k->sent++;
	k->interval_ms = k->interval_ms * 2 < t2 ? k->interval_ms * 2 : t2;
	arm(k, left < k->interval_ms ? (unsigned)left : k->interval_ms);
}

int
ok2xx_reply(struct call *c, int legi, const osip_message_t *req, int code, const char *sdp)
{
	struct b2bua *b = c->b;
	struct call_leg *l = &c->leg[legi];
	struct ok2xx *k;
	int rc;

	if (req->cseq == NULL || req->cseq->number == NULL ||
	    strlen(req->cseq->number) >= sizeof(k->cseq))
		return -EINVAL; /* the gate let no such CSeq in */
	ok2xx_stop(c, legi);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -ENOMEM;
	k->c = c;
	k->legi = legi;
	strcpy(k->cseq, req->cseq->number);
	k->interval_ms = t1_ms(c);
	if ((rc = b2bua_response(b, req, code, l->dlg->local_tag, NULL, sdp, &k->resp)) != 0) {
		ok2xx_free(k);
		return rc;
	}
	stimer_2xx(c, legi, req, k->resp, sdp); /* Session-Expires (b2bua_timer.c) */
	rc = b2bua_send(b, l->conn, k->resp);
	k->sent = 1;
	k->deadline_ms = monotime_ms() + (int64_t)64 * k->interval_ms;
	if ((k->ev = evtimer_new(b->base, ok2xx_timer_cb, k)) == NULL) {
		ok2xx_free(k); /* sent once, as before: the ACK will simply not be awaited */
		return rc;
	}
	c->ok2xx[legi] = k;
	arm(k, k->interval_ms);
	return rc;
}

bool
ok2xx_ack(struct call *c, int legi, const osip_message_t *ack)
{
	struct ok2xx *k = c->ok2xx[legi];

	if (k == NULL || ack->cseq == NULL || ack->cseq->number == NULL ||
	    strcmp(ack->cseq->number, k->cseq) != 0)
		return false;
	log_debug("call %s: ACK for the 2xx on leg %c after %u copies", c->id,
	          legi == 0 ? 'A' : 'B', k->sent);
	/* leg A's INVITE got its 200 and the ACK (not a relayed re-INVITE's) */
	if (legi == 0 && c->a_final_sent && c->a_invite != NULL && c->a_invite->cseq != NULL &&
	    strcmp(c->a_invite->cseq->number, k->cseq) == 0)
		call_a_acked(c);
	ok2xx_stop(c, legi);
	return true;
}

void
ok2xx_ack_again(struct call *c, int legi, const osip_message_t *resp)
{
	struct call_leg *l = &c->leg[legi];
	osip_message_t *ack = NULL;
	char *end;
	unsigned long n;

	/* RFC 3261 s13.2.2.4: every 2xx to our INVITE gets an ACK, copies too */
	if (resp->status_code < 200 || resp->status_code >= 300 || l->dlg == NULL ||
	    !l->dlg->confirmed || !l->dlg->uac || l->conn == 0)
		return;
	n = strtoul(resp->cseq->number, &end, 10);
	if (*end != '\0' || n != l->dlg->invite_cseq)
		return;
	if (sip_dialog_request(l->dlg, "ACK", c->b->sentby, &ack) == 0)
		b2bua_send(c->b, l->conn, ack);
	osip_message_free(ack);
}
