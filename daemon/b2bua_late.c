/*
 * b2bua_late.c: late offers (RFC 3261 s13.2.1, s14.1): an INVITE or re-INVITE without
 * SDP. sipwarden sends the other leg an INVITE without SDP too; the offer in that
 * leg's 2xx is policed like any offer; the leg that sent the offerless INVITE gets
 * sipwarden's own offer (fresh keys, its own ports) in the 2xx, and its answer in the
 * ACK is policed like any answer. Only then does the other leg get sipwarden's answer in
 * the ACK for its 2xx, and the relay start (or change) on both legs. An answer that is
 * refused, or an ACK without one, ends the call with BYE on both legs and a
 * security.offer_refused event. An offerless re-INVITE whose offer (in the 2xx) keeps the
 * crypto its leg runs with keeps sipwarden's keys on both legs, as a relayed re-offer
 * does (b2bua_relay.c). The 2xx carrying our offer is sent by b2bua_2xx.c, which
 * also sends it again until the ACK and ends the call ("no_ack") after 64 x T1 without
 * one, as for any 2xx: no timer of its own here. Keys are generated per leg here
 * (sdp_build_*), never copied across.
 *
 * Owns struct late_offer (one per call at most, c->late). Not responsible for the
 * INVITEs themselves (b2bua.c, b2bua_out.c, b2bua_agent.c, b2bua_relay.c), the policy
 * (lib/sdp_policy.c) or the relay (b2bua_media.c).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "log.h"

/*
 * struct late_offer: an offer that came in a 2xx, waiting for the answer in the ACK of
 * the other leg. Owner: struct call (c->late); freed by b2bua_late_free().
 */
struct late_offer {
	bool initial;               /* the call's first INVITE (else a re-INVITE) */
	int off;                    /* leg whose peer offered in its 2xx: owed our ACK */
	int ans;                    /* leg that has our offer in our 2xx: owes us its ACK */
	uint32_t cseq;              /* CSeq number of the INVITE that leg sent (its ACK's) */
	struct sdp_desc *offer;     /* the offer of leg `off`, accepted */
	struct sdp_verdict verdict; /* what it chose */
	bool keep;                  /* a re-INVITE's offer kept its leg's crypto: keys stay */
};

/* Free the late offer of `c`, if any (call_free(), or once the ACK answered it). */
void
b2bua_late_free(struct call *c)
{
	struct late_offer *l = c->late;

	if (l == NULL)
		return;
	sdp_desc_free(l->offer);
	free(l);
	c->late = NULL;
}

/* The ACK for the 2xx of leg `legi`'s peer, with our answer `sdp` (NULL: none). */
static void
send_ack(struct call *c, int legi, const char *sdp)
{
	struct call_leg *l = &c->leg[legi];
	osip_message_t *ack = NULL;

	if (l->dlg == NULL || l->conn == 0 ||
	    sip_dialog_request(l->dlg, "ACK", c->b->sentby, &ack) != 0)
		return;
	if (sdp != NULL) {
		osip_message_set_content_type(ack, "application/sdp");
		osip_message_set_body(ack, sdp, strlen(sdp));
	}
	b2bua_send(c->b, l->conn, ack);
	osip_message_free(ack);
}

/* The call ends (call_end()): the leg whose 2xx we have not ACKed yet gets its ACK. */
void
b2bua_late_end(struct call *c)
{
	/* the peer that offered in its 2xx still gets its ACK before our BYE */
	if (c->late != NULL)
		send_ack(c, c->late->off, NULL);
	b2bua_late_free(c);
}

/* Refused: a security.offer_refused event naming the leg's peer, then BYE on both
 * legs (the offering leg gets its ACK first, b2bua_late_end()). */
static void
refuse_and_end(struct call *c, int legi, const char *reason, const char *text)
{
	telemetry_security(c->b->tel, TELEMETRY_SEC_OFFER_REFUSED, c->id,
	                   (const struct sockaddr *)&c->leg[legi].peer_addr, reason, text, 488);
	log_info("call %s: late offer refused on leg %d (%s): %s", c->id, legi, reason, text);
	c->end_warning = text;
	call_end(c, "refused", "sipwarden", "offer_refused", 488);
}

/*
 * The offer in `m` (a 2xx from leg `off`'s peer), policed for that leg; for a re-INVITE
 * it must not weaken the leg either. 0 with *out and *v, or -1 with *reason and *text.
 */
static int
take_offer(struct call *c, int off, const osip_message_t *m, bool reinvite, struct sdp_desc **out,
           struct sdp_verdict *v, const char **reason, const char **text)
{
	struct sdp_policy pol = leg_policy(c, off);
	static struct sdp_verdict why; /* its text outlives this call (end_warning) */
	struct sdp_verdict cur = sdp_choice_verdict(&c->leg[off].verdict);
	osip_body_t *body = NULL;
	struct sdp_desc *d = NULL;

	osip_message_get_body(m, 0, &body);
	if (body == NULL || body->body == NULL) {
		*reason = "no_offer";
		*text = "the 2xx to an INVITE without SDP carries no offer";
		return -1;
	}
	if (sdp_parse(&d, body->body, body->length, text) != 0) {
		*reason = "malformed_sdp";
		return -1;
	}
	if (sdp_check_offer(d, &pol, &why) != 0 ||
	    (reinvite && sdp_check_downgrade(&cur, &why, &pol, &why) != 0)) {
		sdp_desc_free(d);
		*reason = sdp_reason_name(why.reason);
		*text = why.text;
		return -1;
	}
	*v = why;
	*out = d;
	return 0;
}

/* Our offer to leg `ans` built from `l->offer`: fresh keys in that leg's `offered`, or,
 * when the offering leg kept its crypto (l->keep), the one key leg `ans` runs with. */
static int
build_offer(struct call *c, struct late_offer *l, bool plain, char **sdp)
{
	struct call_leg *a = &c->leg[l->ans];
	struct sdp_local loc = {&a->origin, media_advertise(c), c->ports[l->ans][0],
	                        leg_crypto_pad(c, l->ans)};

	size_t ns = plain ? 0 : c->conf->media.nsuites;

	a->origin.version++;
	if (leg_offer_room(a, l->keep && !plain ? 1 : ns) != 0)
		return -ENOMEM;
	if (l->keep && !plain) {
		a->offered[0] = a->tx;
		a->noffered = 1;
		return sdp_build_reoffer(sdp, &loc, l->offer, &l->verdict, a->offered, 1);
	}
	return sdp_build_offer(sdp, &loc, l->offer, &l->verdict, c->conf->media.suites, ns,
	                       a->offered, ns, &a->noffered);
}

static uint32_t
cseq_of(const osip_message_t *m)
{
	return (uint32_t)strtoul(m->cseq->number, NULL, 10);
}

/*
 * Leg B's 2xx to the INVITE we sent without SDP (leg A's had none): police its offer,
 * send leg A our own offer in the 200 (until its ACK, b2bua_2xx.c). Ends the call (488 to leg A,
 * ACK and BYE to leg B) when the offer is refused.
 */
void
b2bua_late_answered(struct call *c, osip_message_t *resp)
{
	struct late_offer *l = calloc(1, sizeof(*l));
	const char *reason = "internal", *text = "out of memory";
	char *sdp = NULL;

	if (l == NULL) {
		send_ack(c, 1, NULL);
		call_end(c, "failed", "sipwarden", "internal", 500);
		return;
	}
	l->initial = true;
	l->off = 1;
	l->ans = 0;
	l->cseq = cseq_of(c->a_invite);
	c->late = l;
	if (take_offer(c, 1, resp, false, &l->offer, &l->verdict, &reason, &text) != 0) {
		refuse_and_end(c, 1, reason, text);
		return;
	}
	/* plain RTP toward a legacy trunk, as for an INVITE sipwarden sends it */
	if (build_offer(c, l, leg_policy(c, 0).legacy_rtp, &sdp) != 0) {
		sdp_text_free(sdp);
		call_end(c, "failed", "sipwarden", "internal", 500);
		return;
	}
	if (c->timer != NULL)
		evtimer_del(c->timer); /* leg B answered: its answer timeout is over */
	sdp_text_free(c->a_answer);
	c->a_answer = sdp;
	ok2xx_reply(c, 0, c->a_invite, 200, sdp); /* again and again until the ACK (b2bua_2xx.c) */
	c->a_final_sent = true;
	c->final_code = 200;
	c->leg[0].dlg->confirmed = true;
	log_info("call %s: late offer: leg B offered, our offer sent to leg A", c->id);
}

/*
 * The 2xx to an offerless re-INVITE relayed from leg c->pend.from: police its offer
 * (also against a downgrade of that leg), answer the re-INVITE 200 with our own offer
 * and wait for the ACK. A refused offer: 488 to the re-INVITE, the call ends.
 */
void
b2bua_late_reinvite_2xx(struct call *c, osip_message_t *resp)
{
	struct late_offer *l = calloc(1, sizeof(*l));
	int in = c->pend.from;
	const char *reason = "internal", *text = "out of memory";
	char *sdp = NULL;

	if (l == NULL) {
		send_ack(c, 1 - in, NULL);
		call_end(c, "failed", "sipwarden", "internal", 500);
		return;
	}
	l->off = 1 - in;
	l->ans = in;
	l->cseq = cseq_of(c->pend.req);
	c->late = l;
	if (take_offer(c, l->off, resp, true, &l->offer, &l->verdict, &reason, &text) != 0) {
		b2bua_reply(c->b, c->leg[in].conn, c->pend.req, 488, c->leg[in].dlg->local_tag,
		            text, NULL);
		pend_clear(c);
		refuse_and_end(c, l->off, reason, text);
		return;
	}
	/* a refresh by offerless re-INVITE: the offer keeps its leg's key, ours stay too */
	l->keep = relay_keeps_keys(c, l->off, l->offer, &l->verdict);
	if (build_offer(c, l, leg_is_plain(c, in), &sdp) != 0) {
		sdp_text_free(sdp);
		b2bua_reply(c->b, c->leg[in].conn, c->pend.req, 500, c->leg[in].dlg->local_tag,
		            NULL, NULL);
		pend_clear(c);
		call_end(c, "failed", "sipwarden", "internal", 0);
		return;
	}
	ok2xx_reply(c, in, c->pend.req, 200, sdp); /* until its ACK (b2bua_2xx.c) */
	sdp_text_free(sdp);
	pend_clear(c);
	log_info("call %s: offerless re-INVITE: leg %d offered, our offer sent to leg %d", c->id,
	         l->off, in);
}

/*
 * An ACK on leg `legi` (from its peer, checked by the caller). When it acknowledges the
 * 200 with our offer, its answer is policed (and, on a re-INVITE, must not weaken the
 * leg); accepted: the offering leg gets our answer in our ACK and the relay is set on
 * both legs; refused or missing: the call ends. Other ACKs are ignored.
 */
void
b2bua_late_ack(struct call *c, int legi, const osip_message_t *ack)
{
	struct late_offer *l = c->late;
	struct call_leg *a, *o;
	struct sdp_policy pol;
	struct sdp_desc *answer = NULL;
	struct sdp_verdict av, dv, acur;
	osip_body_t *body = NULL;
	const char *why = NULL;
	char *sdp = NULL;
	bool initial;

	if (l == NULL || legi != l->ans || ack->cseq == NULL || cseq_of(ack) != l->cseq)
		return; /* not the ACK for our offer (a retransmission, another INVITE's) */
	a = &c->leg[l->ans];
	o = &c->leg[l->off];
	acur = sdp_choice_verdict(&a->verdict);
	pol = leg_policy(c, l->ans);
	osip_message_get_body(ack, 0, &body);
	if (body == NULL || body->body == NULL) {
		refuse_and_end(c, l->ans, "no_answer", "the ACK carries no answer to our offer");
		return;
	}
	if (sdp_parse(&answer, body->body, body->length, &why) != 0) {
		refuse_and_end(c, l->ans, "malformed_sdp", why);
		return;
	}
	if (sdp_check_answer(answer, &pol, a->offered, a->noffered, &av) != 0 ||
	    (!l->initial && sdp_check_downgrade(&acur, &av, &pol, &dv) != 0)) {
		static char text[SDP_WHY_MAX]; /* outlives this call (end_warning) */
		const char *r = sdp_reason_name(av.reason);
		if (av.reason == SDP_OK) { /* the downgrade check refused it */
			av = dv;
			r = sdp_reason_name(dv.reason);
		}
		memcpy(text, av.text, sizeof(text));
		sdp_desc_free(answer);
		refuse_and_end(c, l->ans, r, text);
		return;
	}
	/* our answer to the offering leg: formats as the answering leg chose them */
	{
		struct sdp_local loc = {&o->origin, media_advertise(c), c->ports[l->off][0],
		                        leg_crypto_pad(c, l->off)};
		int rc;
		o->origin.version++;
		if (l->keep && l->verdict.srtp && o->tx.suite == l->verdict.suite &&
		    o->tx.tag == l->verdict.tag)
			rc = sdp_build_answer_keep(&sdp, &loc, l->offer, &l->verdict, answer,
			                           &o->tx);
		else
			rc = sdp_build_answer(&sdp, &loc, l->offer, &l->verdict, answer, &o->tx);
		if (rc != 0) {
			sdp_desc_free(answer);
			refuse_and_end(c, l->ans, "no_audio",
			               "the answer leaves no format both sides can use");
			return;
		}
	}
	leg_set_answer(c, l->ans, answer, &av, true);
	sdp_desc_free(o->remote_sdp);
	o->remote_sdp = l->offer;
	o->verdict = sdp_choice_of(&l->verdict);
	l->offer = NULL;
	send_ack(c, l->off, sdp);
	sdp_text_free(sdp);
	initial = l->initial;
	b2bua_late_free(c);
	if (media_apply_leg(c, 0) != 0 || media_apply_leg(c, 1) != 0) {
		call_end(c, "failed", "sipwarden", "media_setup", 500);
		return;
	}
	log_info("call %s: late offer answered in the ACK", c->id);
	if (initial)
		call_answered(c);
}
