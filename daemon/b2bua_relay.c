/*
 * b2bua_relay.c: requests inside an established call that cross from one leg to the
 * other (re-INVITE, UPDATE, INFO) and their answers. A re-offer is judged like a first
 * offer and, in addition, must not weaken the protection the call runs with; the other
 * leg gets a new offer with fresh keys of its own, and its answer sets both legs' media
 * anew. One relayed request per call at a time (491 otherwise).
 *
 * Re-keying follows the offering side (RFC 4568 s7.1.4): a re-offer that keeps the crypto
 * its leg runs with (the same a=crypto suite, tag and key; or plain RTP again on a legacy
 * leg) is a refresh, a hold or a media change, not a new key, so sipwarden keeps its own
 * keys too: the other leg is offered the one key it runs with, and the answer on the
 * offering leg carries the key that leg already has. The media sessions then stay as
 * they are (rollover counters, replay windows). A re-offer with a new key or suite gets
 * fresh keys on both legs, as does one whose other leg runs a suite the current config
 * no longer lists (the policy demands a change).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "log.h"

static void
pend_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	if (c->pend.req != NULL) {
		int legi = c->pend.from;
		b2bua_reply(c->b, c->leg[legi].conn, c->pend.req, 408, c->leg[legi].dlg->local_tag,
		            NULL, NULL);
		pend_clear(c);
	}
}

/* Does offer `d` (verdict `v`) keep the crypto leg `l` runs with: plain RTP again, or
 * the same a=crypto (suite, tag, master key, salt, MKI)? Keys compared in constant time. */
static bool
same_crypto(const struct call_leg *l, const struct sdp_desc *d, const struct sdp_verdict *v)
{
	const struct srtp_keys *a, *n;
	const struct suite_info *si;
	struct sdp_choice vc = sdp_choice_of(v);

	if (l->remote_sdp == NULL || l->verdict.media < 0 ||
	    (size_t)l->verdict.media >= l->remote_sdp->nmedia || v->media < 0 ||
	    (size_t)v->media >= d->nmedia)
		return false;
	if (!l->verdict.srtp || !v->srtp)
		return !l->verdict.srtp && !v->srtp;
	/* the running one: what the call kept of its SDP (sdp_desc_keep_key()) */
	if ((a = sdp_desc_key(l->remote_sdp, &l->verdict)) == NULL ||
	    (n = sdp_desc_key(d, &vc)) == NULL)
		return false;
	if ((si = suite_info(a->suite)) == NULL || a->suite != n->suite ||
	    l->verdict.tag != v->tag || a->mki_len != n->mki_len || a->mki_len > sizeof(a->mki))
		return false;
	return CRYPTO_memcmp(a->key, n->key, si->key_len) == 0 &&
	       CRYPTO_memcmp(a->salt, n->salt, si->salt_len) == 0 &&
	       CRYPTO_memcmp(a->mki, n->mki, a->mki_len) == 0;
}

/* May leg `legi` go on with the key sipwarden sends on it: SRTP with a suite the current
 * config still lists (a reload may have dropped it), or a plain legacy leg (no key)? */
static bool
key_may_stay(const struct call *c, int legi)
{
	const struct call_leg *l = &c->leg[legi];

	if (leg_is_plain(c, legi))
		return true;
	if (!l->verdict.srtp || l->tx.suite == SUITE_NONE || l->tx.tag == 0)
		return false;
	for (size_t i = 0; i < c->conf->media.nsuites; i++)
		if (c->conf->media.suites[i] == l->tx.suite)
			return true;
	return false;
}

bool
relay_keeps_keys(const struct call *c, int legi, const struct sdp_desc *offer,
                 const struct sdp_verdict *v)
{
	return same_crypto(&c->leg[legi], offer, v) && key_may_stay(c, 1 - legi);
}

/* Relay a request received on leg `legi` (re-INVITE, UPDATE, INFO) to the other leg. */
void
relay_request(struct call *c, int legi, osip_message_t *req)
{
	struct b2bua *b = c->b;
	struct call_leg *in = &c->leg[legi], *out = &c->leg[1 - legi];
	bool offer_method = MSG_IS_INVITE(req) || MSG_IS_UPDATE(req);
	osip_message_t *fwd = NULL;
	osip_body_t *body = NULL;
	struct sdp_desc *offer = NULL;
	struct sdp_verdict v = {0};
	char *sdp = NULL;
	const char *why = NULL;
	bool keep = false;

	if (c->pend.req != NULL || c->late != NULL || c->state != CALL_ANSWERED ||
	    out->dlg == NULL || !out->dlg->confirmed ||
	    (offer_method && stimer_glare(c, 1 - legi))) {
		/* one offer at a time: our refresh re-INVITE on the other leg (b2bua_timer.c)
		 * would meet this one there (glare) */
		bool glare = MSG_IS_INVITE(req) || (offer_method && stimer_glare(c, 1 - legi));
		b2bua_reply(b, in->conn, req, glare ? 491 : 500, in->dlg->local_tag, NULL, NULL);
		osip_message_free(req);
		return;
	}
	osip_message_get_body(req, 0, &body);
	if (offer_method) {
		struct sdp_policy pol = leg_policy(c, legi);
		struct sdp_verdict dv;
		if ((body == NULL || body->body == NULL) && MSG_IS_INVITE(req))
			goto relay; /* no offer: the 2xx brings one (b2bua_late.c) */
		if (body == NULL || body->body == NULL) {
			b2bua_reply(b, in->conn, req, 488, in->dlg->local_tag,
			            "an UPDATE without an SDP offer is not supported", NULL);
			osip_message_free(req);
			return;
		}
		if (sdp_parse(&offer, body->body, body->length, &why) != 0) {
			b2bua_reply(b, in->conn, req, 488, in->dlg->local_tag, why, NULL);
			telemetry_security(b->tel, TELEMETRY_SEC_OFFER_REFUSED, c->id,
			                   (struct sockaddr *)&in->peer_addr, "malformed_sdp", why,
			                   488);
			osip_message_free(req);
			return;
		}
		if (sdp_check_offer(offer, &pol, &v) != 0) {
			b2bua_reply(b, in->conn, req, 488, in->dlg->local_tag, v.text, NULL);
			telemetry_security(b->tel, TELEMETRY_SEC_DOWNGRADE_REFUSED, c->id,
			                   (struct sockaddr *)&in->peer_addr,
			                   sdp_reason_name(v.reason), v.text, 488);
			log_info("call %s: re-offer refused (%s), call keeps its protection", c->id,
			         v.text);
			sdp_desc_free(offer);
			osip_message_free(req);
			return;
		}
		struct sdp_verdict cur = sdp_choice_verdict(&in->verdict);
		if (sdp_check_downgrade(&cur, &v, &pol, &dv) != 0) {
			b2bua_reply(b, in->conn, req, 488, in->dlg->local_tag, dv.text, NULL);
			telemetry_security(b->tel, TELEMETRY_SEC_DOWNGRADE_REFUSED, c->id,
			                   (struct sockaddr *)&in->peer_addr, "downgrade", dv.text,
			                   488);
			log_info("call %s: downgrade refused (%s)", c->id, dv.text);
			sdp_desc_free(offer);
			osip_message_free(req);
			return;
		}
	}
relay:
	if (sip_dialog_request(out->dlg, req->sip_method, b->sentby, &fwd) != 0)
		goto fail;
	if (offer != NULL) {
		struct sdp_local l = {&out->origin, media_advertise(c), c->ports[1 - legi][0],
		                      leg_crypto_pad(c, 1 - legi)};
		out->origin.version++;
		keep = relay_keeps_keys(c, legi, offer, &v);
		size_t ns = leg_is_plain(c, 1 - legi) ? 0 : b->conf->media.nsuites;
		if (leg_offer_room(out, keep && !leg_is_plain(c, 1 - legi) ? 1 : ns) != 0)
			goto fail;
		if (keep && !leg_is_plain(c, 1 - legi)) {
			/* the offering side kept its key: the other leg is offered the one key
			 * it runs with (the answer can only choose it: no new key) */
			out->offered[0] = out->tx;
			out->noffered = 1;
			if (sdp_build_reoffer(&sdp, &l, offer, &v, out->offered, 1) != 0)
				goto fail;
		} else if (sdp_build_offer(&sdp, &l, offer, &v, b->conf->media.suites, ns,
		                           out->offered, ns, &out->noffered) != 0) {
			goto fail;
		}
		log_debug("call %s: re-offer from leg %c %s", c->id, legi == 0 ? 'A' : 'B',
		          keep ? "keeps its key: keys stay" : "changes its crypto: new keys");
		osip_message_set_content_type(fwd, "application/sdp");
		osip_message_set_body(fwd, sdp, strlen(sdp));
		sdp_text_free(sdp);
	} else if (body != NULL && body->body != NULL && req->content_type != NULL &&
	           req->content_type->type != NULL && req->content_type->subtype != NULL &&
	           strcasecmp(req->content_type->type, "application") == 0 &&
	           (strcasecmp(req->content_type->subtype, "dtmf-relay") == 0 ||
	            strcasecmp(req->content_type->subtype, "dtmf") == 0)) {
		/* our own text for the type, never the peer's (it matched one of these) */
		osip_message_set_content_type(fwd,
		                              strcasecmp(req->content_type->subtype, "dtmf") == 0
		                                      ? "application/dtmf"
		                                      : "application/dtmf-relay");
		osip_message_set_body(fwd, body->body, body->length);
	}
	if (b2bua_send(b, out->conn, fwd) != 0)
		goto fail;
	c->pend.req = req;
	c->pend.from = legi;
	c->pend.sent = fwd;
	c->pend.conn = out->conn;
	c->pend.offer = offer;
	c->pend.verdict = sdp_choice_of(&v);
	c->pend.keep = keep;
	if (c->pend_timer == NULL)
		c->pend_timer = evtimer_new(b->base, pend_timeout_cb, c);
	if (c->pend_timer != NULL) {
		struct timeval tv = {c->conf->sip.transaction_timeout_ms / 1000,
		                     (c->conf->sip.transaction_timeout_ms % 1000) * 1000};
		evtimer_add(c->pend_timer, &tv);
	}
	return;
fail:
	osip_message_free(fwd);
	sdp_desc_free(offer);
	b2bua_reply(b, in->conn, req, 500, in->dlg->local_tag, NULL, NULL);
	osip_message_free(req);
}

/*
 * A response to the relayed request (on_response checked that it came on c->pend.conn
 * with the top Via branch, Call-ID and CSeq of c->pend.sent): answer the original on the
 * other leg.
 */
void
relay_response(struct call *c, osip_message_t *resp)
{
	struct b2bua *b = c->b;
	int legi = c->pend.from;
	struct call_leg *in = &c->leg[legi], *out = &c->leg[1 - legi];
	int code = resp->status_code;
	char *sdp = NULL;

	if (code < 200)
		return;
	if (MSG_IS_RESPONSE_FOR(resp, "INVITE") && code < 300 && c->pend.offer == NULL) {
		b2bua_late_reinvite_2xx(c, resp); /* an offerless re-INVITE: the offer is here */
		return;
	}
	if (MSG_IS_RESPONSE_FOR(resp, "INVITE")) {
		osip_message_t *ack = NULL;
		if (code < 300)
			sip_dialog_request(out->dlg, "ACK", b->sentby, &ack);
		else
			sip_dialog_ack_non2xx(c->pend.sent, resp, &ack);
		if (ack != NULL) {
			b2bua_send(b, out->conn, ack);
			osip_message_free(ack);
		}
	}
	if (code >= 300) {
		b2bua_reply(b, in->conn, c->pend.req, code == 491 ? 491 : code, in->dlg->local_tag,
		            NULL, NULL);
		pend_clear(c);
		return;
	}
	if (c->pend.offer != NULL) {
		osip_body_t *body = NULL;
		struct sdp_desc *answer = NULL;
		struct sdp_verdict av;
		struct sdp_policy pol = leg_policy(c, 1 - legi);
		const char *why = NULL;
		osip_message_get_body(resp, 0, &body);
		if (body == NULL || body->body == NULL ||
		    sdp_parse(&answer, body->body, body->length, &why) != 0 ||
		    sdp_check_answer(answer, &pol, out->offered, out->noffered, &av) != 0) {
			sdp_desc_free(answer);
			b2bua_reply(b, in->conn, c->pend.req, 488, in->dlg->local_tag,
			            "the other side answered without acceptable SRTP", NULL);
			pend_clear(c);
			call_end(c, "failed", "sipwarden", "answer_refused", 0);
			return;
		}
		leg_set_answer(c, 1 - legi, answer, &av, true);
		struct sdp_local l = {&in->origin, media_advertise(c), c->ports[legi][0],
		                      leg_crypto_pad(c, legi)};
		struct sdp_verdict pv = sdp_choice_verdict(&c->pend.verdict);
		in->origin.version++;
		if (c->pend.keep && c->pend.verdict.srtp && in->tx.suite == c->pend.verdict.suite &&
		    in->tx.tag == c->pend.verdict.tag) {
			/* the offer kept its key: so does our answer (same key, same session) */
			if (sdp_build_answer_keep(&sdp, &l, c->pend.offer, &pv, answer, &in->tx) !=
			    0)
				sdp = NULL;
		} else {
			srtp_keys_wipe(&in->tx);
			if (sdp_build_answer(&sdp, &l, c->pend.offer, &pv, answer, &in->tx) != 0)
				sdp = NULL;
		}
		if (sdp == NULL) {
			b2bua_reply(b, in->conn, c->pend.req, 500, in->dlg->local_tag, NULL, NULL);
			pend_clear(c);
			call_end(c, "failed", "sipwarden", "internal", 0);
			return;
		}
		sdp_desc_free(in->remote_sdp);
		in->remote_sdp = c->pend.offer;
		in->verdict = c->pend.verdict;
		c->pend.offer = NULL;
		media_apply_leg(c, 0);
		media_apply_leg(c, 1);
	}
	stimer_relayed(c, legi, sdp); /* a refresh too; the SDPs now in use (b2bua_timer.c) */
	if (MSG_IS_INVITE(c->pend.req)) {
		ok2xx_reply(c, legi, c->pend.req, code, sdp); /* until its ACK */
	} else if (MSG_IS_UPDATE(c->pend.req)) {
		/* a 2xx to an UPDATE refreshes the session as a re-INVITE's does (RFC 4028
		 * s7.4): the same timer headers (b2bua_timer.c) */
		osip_message_t *r = NULL;
		if (b2bua_response(b, c->pend.req, code, in->dlg->local_tag, NULL, sdp, &r) == 0) {
			stimer_2xx(c, legi, c->pend.req, r, sdp);
			b2bua_send(b, in->conn, r);
			osip_message_free(r);
		}
	} else {
		b2bua_reply(b, in->conn, c->pend.req, code, in->dlg->local_tag, NULL, sdp);
	}
	sdp_text_free(sdp);
	pend_clear(c);
}
