/*
 * b2bua_prack.c: reliable provisional responses (RFC 3262) on both legs of a call.
 *
 * Leg A (sipwarden is the UAS of its INVITE): when that INVITE has `Require: 100rel`,
 * the 180/183 sipwarden sends toward it carry `Require: 100rel` and an `RSeq` (random
 * start below 2^20, +1 each), and each goes out again after T1, then at doubling
 * intervals (RFC 3262 s3; T1 = [sip] transaction_timeout / 64, as b2bua_2xx.c), until a
 * PRACK whose `RAck: RSeq CSeq INVITE` names it; after 64 x T1 without one the INVITE is
 * answered 500 and the call ends (call.end reason "no_prack"). A merely `Supported`
 * 100rel is not used: the trunk did not ask, and on TLS a provisional is as reliable
 * as its connection, so sipwarden does not add a PRACK round trip and a way for the
 * call to fail. One unacknowledged reliable provisional at a time: while one is out, a
 * later 18x carrying SDP (the early-media answer) the outstanding one did not carry
 * waits for the PRACK; others are dropped (the trunk has its ringing already). The 2xx
 * waits for the PRACK when the outstanding provisional carried SDP (RFC 3262 s3 forbids
 * sending it before); otherwise it goes out at once and the provisional stops. A PRACK
 * is answered 200 (again for a copy), 481 when it names no reliable provisional of ours,
 * 400 when its RAck is not three fields of strict 32-bit integers and a token. A body in
 * a PRACK is ignored (sipwarden never offers in a provisional).
 *
 * Leg B (sipwarden is the UAC): a 1xx with `Require: 100rel` and a valid RSeq is PRACKed
 * in its dialog (RAck from our own numbers); a copy (the same RSeq) or one out of order
 * is neither PRACKed nor relayed (RFC 3262 s4). The provisional crosses to leg A as any
 * other does (reliably when leg A asks for that). `100rel` is in the Supported of the
 * INVITEs sipwarden sends with an offer (not of offerless ones: a reliable 18x could
 * then carry an offer, which the PRACK would have to answer, and sipwarden does not) and
 * of its OPTIONS answers (b2bua_agent.c, b2bua.c).
 *
 * The door (prack_require_refuse): an INVITE opening a call (or a re-INVITE, UPDATE or
 * INFO in one) whose Require names an option-tag other than 100rel and timer gets 420 with
 * Unsupported listing those tags (RFC 3261 s8.2.2.3), or 400 when the list would exceed what
 * sipwarden writes back.
 *
 * Owner of struct prack (c->prack): its call; freed by prack_free() from call_free().
 * Not responsible for which provisional is sent when (b2bua_agent.c) or the 2xx
 * retransmissions (b2bua_2xx.c).
 */
#include "b2bua_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "log.h"
#include "monotime.h"
#include "sip_util.h"

#define PRACK_RACK_MAX 64 /* "4294967295 4294967295 INVITE" and some room */

/*
 * struct prack: RFC 3262 state of one call.
 * Owner: struct call (c->prack); freed only by prack_free().
 */
struct prack {
	struct call *c;
	/* leg A: our reliable provisionals */
	osip_message_t *out; /* awaiting its PRACK (sent again as is), or NULL */
	bool out_sdp;        /* `out` carries our SDP answer */
	uint32_t rseq;       /* RSeq of the last one sent, 0: none yet */
	int queued;          /* a 183 with SDP waiting for the PRACK of `out`, 0: none */
	bool owe_2xx;        /* the 2xx waits for the PRACK of `out` */
	unsigned interval_ms;
	int64_t deadline_ms; /* monotonic: 64 x T1 after the first copy of `out` */
	unsigned sent;
	struct event *ev;
	/* leg B: the agent's (or, calling out, the trunk's) reliable provisionals */
	uint32_t b_rseq; /* the last one PRACKed, valid when b_seen */
	bool b_seen;
	char *b_dialog; /* "Call-ID tag" of the dialog b_rseq belongs to (failover: new) */
};

static unsigned
t1_ms(const struct call *c)
{
	unsigned t1 = c->conf->sip.transaction_timeout_ms / 64;

	return t1 > 0 ? t1 : 1;
}

/* Whether an option-tag list header `name` of `m` names `tag` (each header may be a
 * comma list; the gate let only option-tag lists into Require). */
static bool
prack_has_tag(const osip_message_t *m, const char *name, const char *tag)
{
	osip_header_t *h = NULL;
	size_t n = strlen(tag);

	for (int pos = 0; (pos = osip_message_header_get_byname(m, name, pos, &h)) >= 0; pos++) {
		const char *p = h != NULL ? h->hvalue : NULL;

		while (p != NULL && *p != '\0') {
			size_t len;

			p += strspn(p, " \t,");
			len = strcspn(p, " \t,");
			if (len == n && strncasecmp(p, tag, n) == 0)
				return true;
			p += len;
		}
	}
	return false;
}

/* ---- the door: Require of an INVITE opening a call ------------------------------------ */

/* The option-tags sipwarden supports in an INVITE's Require (RFC 3262, RFC 4028). */
static const char *const prack_supported[] = {"100rel", "timer", NULL};

bool
prack_require_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
	const struct sockaddr *src = ci != NULL ? (const struct sockaddr *)&ci->peer : NULL;
	osip_message_t *resp = NULL;
	char *tags = NULL;
	char detail[SIP_UTIL_UNSUPPORTED_LEN + 32];
	int rc = sip_util_unsupported(req, prack_supported, &tags);

	if (rc == 0 && tags == NULL)
		return false;
	if (rc == 0) {
		/* RFC 3261 s8.2.2.3: 420 listing what we do not support; the tags passed the
		 * token grammar and the bounds of sip_util_unsupported() */
		snprintf(detail, sizeof(detail), "unsupported: %s", tags);
		if (b2bua_response(b, req, 420, NULL, NULL, NULL, &resp) == 0) {
			sip_util_add_header(resp, "Unsupported", tags);
			b2bua_send(b, conn, resp);
			osip_message_free(resp);
		}
		free(tags);
		telemetry_security(b->tel, TELEMETRY_SEC_INPUT_REFUSED, NULL, src,
		                   "unsupported_extension", detail, 420);
		log_refusal(src, "unsupported_extension", "%s from %s refused with 420: %s",
		            req->sip_method, ci != NULL ? ci->peer_str : "?", detail);
		return true;
	}
	/* more tags than an Unsupported we would write (or a list the gate should have
	 * refused): refused whole rather than answered with a cut list */
	b2bua_reply(b, conn, req, 400, NULL, "too many option-tags in Require", NULL);
	telemetry_security(b->tel, TELEMETRY_SEC_INPUT_REFUSED, NULL, src, "require_too_long",
	                   "too many option-tags in Require", 400);
	log_refusal(src, "require_too_long", "%s from %s refused with 400: Require too long",
	            req->sip_method, ci != NULL ? ci->peer_str : "?");
	return true;
}

static struct prack *
prack_get(struct call *c)
{
	if (c->prack == NULL && (c->prack = calloc(1, sizeof(*c->prack))) != NULL)
		c->prack->c = c;
	return c->prack;
}

/* Stop sending `out` (PRACKed, superseded by a final response, or the call ended). */
static void
prack_out_clear(struct prack *p)
{
	if (p->ev != NULL)
		evtimer_del(p->ev);
	osip_message_free(p->out);
	p->out = NULL;
	p->out_sdp = false;
}

void
prack_free(struct call *c)
{
	struct prack *p = c->prack;

	if (p == NULL)
		return;
	prack_out_clear(p);
	if (p->ev != NULL)
		event_free(p->ev);
	free(p->b_dialog);
	free(p);
	c->prack = NULL;
}

static void
prack_arm(struct prack *p, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(p->ev, &tv);
}

static void
prack_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prack *p = arg;
	struct call *c = p->c;
	int64_t left = p->deadline_ms - monotime_ms();

	(void)fd;
	(void)what;
	if (p->out == NULL)
		return;
	if (c->state == CALL_ENDED || (c->a_final_sent && !p->owe_2xx)) {
		prack_out_clear(p); /* a final response went out: no more provisionals */
		return;
	}
	if (left <= 0) {
		log_info(
		        "call %s: no PRACK for the reliable %d on leg A after %u copies, ending it",
		        c->id, p->out->status_code, p->sent);
		prack_out_clear(p);
		p->queued = 0;
		if (p->owe_2xx) {
			p->owe_2xx = false;
			c->a_final_sent = false; /* the held 2xx never went out: a 5xx does */
		}
		c->end_warning = "no PRACK for a reliable provisional response";
		call_end(c, "failed", "sipwarden", "no_prack", 500);
		return;
	}
	if (c->leg[0].conn != 0 && b2bua_send(c->b, c->leg[0].conn, p->out) == 0)
		p->sent++;
	p->interval_ms *= 2; /* RFC 3262 s3: doubling, no T2 cap */
	prack_arm(p, left < p->interval_ms ? (unsigned)left : p->interval_ms);
}

/* Send `code` (our `sdp` or none) reliably to leg A's INVITE. 0 or a negative errno. */
static int
prack_send_reliable(struct call *c, struct prack *p, int code, const char *sdp)
{
	struct b2bua *b = c->b;
	osip_message_t *resp = NULL;
	char rseq[12];
	int rc;

	if (p->ev == NULL && (p->ev = evtimer_new(b->base, prack_timer_cb, p)) == NULL)
		return -ENOMEM;
	if (p->rseq == 0) {
		uint32_t r = 0;
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return -EIO;
		p->rseq = (r & 0xfffff) + 1; /* RFC 3262 s3: 1 .. 2^31 - 1; room to count up */
	} else {
		p->rseq++;
	}
	if ((rc = b2bua_response(b, c->a_invite, code, c->leg[0].dlg->local_tag, NULL, sdp,
	                         &resp)) != 0)
		return rc;
	snprintf(rseq, sizeof(rseq), "%u", p->rseq);
	if ((rc = sip_util_add_header(resp, "Require", "100rel")) != 0 ||
	    (rc = sip_util_add_header(resp, "RSeq", rseq)) != 0) {
		osip_message_free(resp);
		return rc;
	}
	rc = b2bua_send(b, c->leg[0].conn, resp);
	p->out = resp;
	p->out_sdp = sdp != NULL;
	p->sent = 1;
	p->interval_ms = t1_ms(c);
	p->deadline_ms = monotime_ms() + (int64_t)64 * p->interval_ms;
	prack_arm(p, p->interval_ms);
	return rc;
}

int
prack_provisional(struct call *c, int code, const char *sdp)
{
	struct prack *p;

	if (c->a_invite == NULL || c->leg[0].dlg == NULL ||
	    !prack_has_tag(c->a_invite, "require", "100rel"))
		return b2bua_reply(c->b, c->leg[0].conn, c->a_invite, code,
		                   c->leg[0].dlg ? c->leg[0].dlg->local_tag : NULL, NULL, sdp);
	if ((p = prack_get(c)) == NULL)
		return -ENOMEM;
	if (p->out != NULL) {
		/* one unacknowledged at a time: the early-media answer waits, ringing does not */
		if (sdp != NULL && !p->out_sdp)
			p->queued = code;
		return 0;
	}
	return prack_send_reliable(c, p, code, sdp);
}

int
prack_final_2xx(struct call *c)
{
	struct prack *p = c->prack;

	if (p != NULL && p->out != NULL && p->out_sdp) {
		p->owe_2xx = true; /* RFC 3262 s3: not before the SDP's PRACK */
		return 0;
	}
	if (p != NULL) {
		p->queued = 0;
		prack_out_clear(p); /* superseded; a late PRACK for it still gets 200 */
	}
	return ok2xx_reply(c, 0, c->a_invite, 200, c->a_answer);
}

/* One field of an RAck value at *pp into buf[cap] (refused, not cut, when longer). */
static bool
prack_field(const char **pp, char *buf, size_t cap)
{
	const char *p = *pp + strspn(*pp, " \t");
	size_t len = strcspn(p, " \t");

	if (len == 0 || len >= cap)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	*pp = p + len;
	return true;
}

/* RAck = response-num LWS CSeq-num LWS Method (RFC 3262 s7.2), strictly. 0 or -EINVAL. */
static int
prack_rack_parse(const char *v, uint32_t *rseq, uint32_t *cseq, char *method, size_t mcap)
{
	char a[PRACK_RACK_MAX], b[PRACK_RACK_MAX];

	if (v == NULL || strlen(v) >= PRACK_RACK_MAX || !prack_field(&v, a, sizeof(a)) ||
	    !prack_field(&v, b, sizeof(b)) || !prack_field(&v, method, mcap) ||
	    v[strspn(v, " \t")] != '\0')
		return -EINVAL;
	if (!sip_util_decimal(a, UINT32_MAX) || !sip_util_decimal(b, UINT32_MAX) ||
	    !sip_util_is_token(method))
		return -EINVAL;
	*rseq = (uint32_t)strtoul(a, NULL, 10);
	*cseq = (uint32_t)strtoul(b, NULL, 10);
	return 0;
}

void
prack_request(struct call *c, int legi, uint64_t conn, const osip_message_t *req)
{
	struct b2bua *b = c->b;
	struct prack *p = c->prack;
	const char *tag = c->leg[legi].dlg->local_tag;
	osip_header_t *h = NULL;
	uint32_t rseq, cseq;
	char method[PRACK_RACK_MAX];
	bool again;
	int first = osip_message_header_get_byname(req, "rack", 0, &h);

	if ((first >= 0 && osip_message_header_get_byname(req, "rack", first + 1, &h) >= 0) ||
	    prack_rack_parse(sip_util_header(req, "rack"), &rseq, &cseq, method, sizeof(method)) !=
	            0) {
		b2bua_reply(b, conn, req, 400, tag, "malformed RAck", NULL);
		return;
	}
	/* only leg A's INVITE is ours to answer; its CSeq passed the gate (a decimal) */
	if (legi != 0 || p == NULL || p->rseq == 0 || rseq != p->rseq ||
	    strcmp(method, "INVITE") != 0 || c->a_invite == NULL ||
	    cseq != (uint32_t)strtoul(c->a_invite->cseq->number, NULL, 10)) {
		b2bua_reply(b, conn, req, 481, tag, "no such reliable provisional response", NULL);
		return;
	}
	again = p->out == NULL;
	prack_out_clear(p);
	b2bua_reply(b, conn, req, 200, tag, NULL, NULL);
	if (again || c->state == CALL_ENDED)
		return;
	log_debug("call %s: PRACK for RSeq %u after %u copies", c->id, rseq, p->sent);
	if (p->owe_2xx) {
		p->owe_2xx = false;
		ok2xx_reply(c, 0, c->a_invite, 200, c->a_answer);
	} else if (p->queued != 0 && !c->a_final_sent && c->a_answer != NULL) {
		int code = p->queued;
		p->queued = 0;
		prack_send_reliable(c, p, code, c->a_answer);
	}
}

bool
prack_agent_provisional(struct call *c, const osip_message_t *resp)
{
	struct call_leg *l = &c->leg[1];
	struct prack *p;
	osip_message_t *pr = NULL;
	const char *v;
	char rack[32];
	uint32_t rseq;
	size_t cid_len;

	if (!prack_has_tag(resp, "require", "100rel"))
		return true; /* an ordinary provisional */
	v = sip_util_header(resp, "rseq");
	if (v == NULL || !sip_util_decimal(v, UINT32_MAX) || (rseq = strtoul(v, NULL, 10)) == 0 ||
	    l->dlg == NULL || l->dlg->remote_tag == NULL || l->conn == 0) {
		log_debug("call %s: reliable %d without a usable RSeq or To tag ignored", c->id,
		          resp->status_code);
		return false;
	}
	if (c->b_invite != NULL && osip_list_size(&c->b_invite->bodies) == 0 &&
	    osip_list_size(&resp->bodies) > 0) {
		/* an offer in a reliable 18x to our offerless INVITE (which did not say 100rel):
		 * its PRACK would have to carry the answer; not acknowledged, not relayed */
		log_info("call %s: reliable %d with an offer to an offerless INVITE ignored", c->id,
		         resp->status_code);
		return false;
	}
	cid_len = strlen(l->dlg->call_id);
	if ((p = prack_get(c)) == NULL)
		return true;
	/* "Call-ID tag": neither a Call-ID word nor a tag holds a space */
	if (p->b_dialog == NULL || strncmp(p->b_dialog, l->dlg->call_id, cid_len) != 0 ||
	    p->b_dialog[cid_len] != ' ' ||
	    strcmp(p->b_dialog + cid_len + 1, l->dlg->remote_tag) != 0) {
		/* the first reliable one in this dialog (a new agent after failover) */
		size_t tag_len = strlen(l->dlg->remote_tag);
		char *d = malloc(cid_len + 1 + tag_len + 1);
		if (d == NULL)
			return true;
		memcpy(d, l->dlg->call_id, cid_len);
		d[cid_len] = ' ';
		memcpy(d + cid_len + 1, l->dlg->remote_tag, tag_len + 1);
		free(p->b_dialog);
		p->b_dialog = d;
		p->b_seen = false;
	}
	if (p->b_seen && rseq != p->b_rseq + 1)
		return false; /* a copy (its PRACK is on its way) or out of order */
	snprintf(rack, sizeof(rack), "%u %u INVITE", rseq, l->dlg->invite_cseq);
	if (sip_dialog_request(l->dlg, "PRACK", c->b->sentby, &pr) != 0 ||
	    sip_util_add_header(pr, "RAck", rack) != 0) {
		osip_message_free(pr);
		return true;
	}
	b2bua_send(c->b, l->conn, pr);
	osip_message_free(pr);
	p->b_seen = true;
	p->b_rseq = rseq;
	return true;
}
