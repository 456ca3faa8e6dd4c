/*
 * call_uas.c: swpeer's callee (the agent side): answering, refusing and cancelling.
 *
 * A new INVITE gets 100 Trying, then per --mode: a refusal (reject=CODE, with a Warning),
 * or 180 Ringing and, after --ring-ms, 200 OK with an SDP answer (noanswer: ring until
 * CANCEL). By default the callee requires SRTP: an offer without RTP/SAVP and a usable
 * a=crypto gets 488 with a Warning naming the reason (--accept-avp allows plain RTP,
 * --mode answer-plain answers plain RTP on purpose, to test a downgrade). Media starts
 * on ACK: echo returns every verified packet re-encrypted with our own key, pattern sends
 * our own pattern, silent sends nothing (a dead-air agent). --bye-after ends the call from this
 * side. Not responsible for the caller (call_uac.c) or transport (sip.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "swpeer.h"

static void
refuse(struct call *c, struct sipconn *conn, osip_message_t *m, int code, const char *why)
{
	char warn[256];

	snprintf(warn, sizeof(warn), "Warning: 399 swpeer \"%s\"\r\n", why);
	sip_respond(conn, m, code, NULL, c->local_tag, warn, NULL, NULL);
	c->res.code = code;
	snprintf(c->res.reason, sizeof(c->res.reason), "%s", sip_reason(code));
	snprintf(c->res.warning, sizeof(c->res.warning), "399 swpeer \"%s\"", why);
}

static bool
suite_allowed(const struct opts *o, enum srtp_suite s)
{
	for (unsigned i = 0; i < o->nsuites; i++)
		if (o->suites[i] == s)
			return true;
	return false;
}

/*
 * Decide on an offer: 0 with the peer's key in *rk (SRTP) or *plain set, or the SIP code
 * to refuse with and *why.
 */
int
uas_judge_offer(const struct opts *o, const struct sdp_info *si, struct srtp_keys *rk, bool *plain,
                const char **why)
{
	const char *w = NULL;

	*plain = false;
	if (o->mode == MODE_ANSWER_PLAIN) {
		*plain = true;
		return 0;
	}
	if (!si->savp) {
		if (si->avp && o->accept_avp) {
			*plain = true;
			return 0;
		}
		*why = "SRTP required: offer is not RTP/SAVP";
		return 488;
	}
	for (unsigned i = 0; i < si->ncrypto; i++) {
		if (keys_parse_crypto(si->crypto[i], rk, &w) < 0)
			continue;
		if (suite_allowed(o, rk->suite))
			return 0;
		keys_wipe(rk);
		w = "crypto suite not enabled";
	}
	*why = si->ncrypto ? (w ? w : "no acceptable a=crypto") : "SRTP required: no a=crypto";
	return 488;
}

static void
uas_bye_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	if (c->state != CS_CONFIRMED || c->bye_sent)
		return;
	c->bye_sent = true;
	if (!c->res.ended_by)
		c->res.ended_by = 'l';
	c->bye_cseq = c->cseq++;
	c->state = CS_TERMINATING;
	media_send_pattern(&c->media, false);
	call_send_request(c, "BYE", c->remote_target, c->bye_cseq, NULL, c->remote_tag, NULL);
}

/* The header lines of a provisional `code` (Contact; --reliable: Require: 100rel, RSeq). */
static void
uas_prov_headers(struct call *c, int code, char *hdr, size_t len)
{
	char contact[160];

	if (code < 200 && c->peer->o->reliable) {
		c->rseq = 1;
		snprintf(hdr, len, "Contact: <%s>\r\nRequire: 100rel\r\nRSeq: %lu\r\n",
		         call_contact(c, contact, sizeof(contact)), c->rseq);
	} else {
		snprintf(hdr, len, "Contact: <%s>\r\n", call_contact(c, contact, sizeof(contact)));
	}
}

/* Send `code` (183 or 200) with our SDP answer and Contact. 0 or -1 (call finished). */
static int
uas_send_answer(struct call *c, int code)
{
	char sdp[4096], crypto[1][160], hdr[256];
	int rc;

	if (c->media.srtp)
		keys_format_crypto(&c->media.lkey, !c->peer->o->no_pad, NULL, crypto[0],
		                   sizeof(crypto[0]));
	rc = sdp_write(c, sdp, sizeof(sdp), crypto, c->media.srtp ? 1 : 0, false, DIR_SENDRECV);
	OPENSSL_cleanse(crypto, sizeof(crypto));
	if (rc < 0) {
		call_finish(c, "cannot build the answer");
		return -1;
	}
	uas_prov_headers(c, code, hdr, sizeof(hdr));
	sip_respond(c->conn, c->invite, code, NULL, c->local_tag, hdr, "application/sdp", sdp);
	OPENSSL_cleanse(sdp, sizeof(sdp));
	return 0;
}

static void
uas_answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	const struct opts *o = c->peer->o;

	if (c->state != CS_PROCEEDING || !c->invite || !c->conn)
		return;
	if (o->reliable && !c->pracked) { /* RFC 3262 s3: not before the 18x's PRACK */
		call_timer(c, &c->ev_answer, 20, uas_answer_cb);
		return;
	}
	if (c->late) {
		/* the INVITE had no SDP: our offer in the 200, the answer in the ACK */
		char sdp[4096], hdr[256], contact[160];
		if (call_late_offer(c, sdp, sizeof(sdp)) < 0) {
			call_finish(c, "cannot build the offer");
			return;
		}
		snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n",
		         call_contact(c, contact, sizeof(contact)));
		sip_respond(c->conn, c->invite, 200, NULL, c->local_tag, hdr, "application/sdp",
		            sdp);
		OPENSSL_cleanse(sdp, sizeof(sdp));
	} else if (uas_send_answer(c, 200) < 0) {
		return;
	}
	c->state = CS_ANSWERED;
	c->res.code = 200;
	snprintf(c->res.reason, sizeof(c->res.reason), "%s", sip_reason(200));
	c->res.had_media = true;
	c->media.tx_dir = 'A';
	c->media.tx_call = c->num;
	c->media.tx_pattern = o->pattern;
	c->media.rx_dir = 'C';
	c->media.echo = o->mode == MODE_ECHO || o->mode == MODE_ANSWER_PLAIN;
	c->media.tamper = o->tamper;
	c->media.dtmf_left = o->dtmf > 0 ? (unsigned)o->dtmf : 0;
	c->media.rtcp_sdes = o->rtcp_sdes;
	if (!c->late && media_start(&c->media, c->peer->base) < 0)
		call_finish(c, "cannot start media"); /* late: on the ACK with the answer */
}

/* A new INVITE: refuse it, or ring and answer per --mode. */
void
uas_on_invite(struct sipconn *conn, osip_message_t *m)
{
	struct peer *p = conn->peer;
	const struct opts *o = p->o;
	struct call *c = call_new(p, ROLE_CALLEE, p->started + 1);
	struct sdp_info si;
	struct srtp_keys rk, lk;
	const char *body, *why = NULL;
	char *s = NULL, hdr[256];
	osip_contact_t *ct = NULL;
	bool plain;
	int code;

	if (!c) {
		sip_respond(conn, m, 500, NULL, "x", NULL, NULL, NULL);
		return;
	}
	p->started++;
	c->conn = conn;
	if (osip_call_id_to_str(m->call_id, &s) == 0) {
		snprintf(c->call_id, sizeof(c->call_id), "%s", s);
		osip_free(s);
		call_index(c);
	}
	s = NULL;
	if (m->from->url && osip_uri_to_str(m->from->url, &s) == 0) {
		snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", s);
		osip_free(s);
	}
	s = NULL;
	if (m->to->url && osip_uri_to_str(m->to->url, &s) == 0) {
		snprintf(c->local_uri, sizeof(c->local_uri), "%s", s);
		osip_free(s);
	}
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s",
	         sip_from_tag(m) ? sip_from_tag(m) : "");
	snprintf(c->remote_target, sizeof(c->remote_target), "%s", c->remote_uri);
	if (osip_message_get_contact(m, 0, &ct) == 0 && ct && ct->url) {
		s = NULL;
		if (osip_uri_to_str(ct->url, &s) == 0) {
			snprintf(c->remote_target, sizeof(c->remote_target), "%s", s);
			osip_free(s);
		}
	}
	call_take_routes(c, m, false);
	if (osip_message_clone(m, &c->invite) != 0) {
		c->invite = NULL;
		sip_respond(conn, m, 500, NULL, c->local_tag, NULL, NULL, NULL);
		call_finish(c, "out of memory");
		return;
	}
	sip_respond(conn, m, 100, NULL, NULL, NULL, NULL, NULL);
	c->state = CS_PROCEEDING;
	if (o->mode == MODE_REJECT) {
		refuse(c, conn, m, o->reject_code, "rejected by --mode reject");
		call_finish(c, NULL);
		return;
	}
	call_body(m, &body);
	if (!body) {
		/* no offer: ours goes in the 200, the answer comes in the ACK */
		if (media_open(&c->media, o->media_ip[0] ? o->media_ip : conn->local_ip, o->rtp_lo,
		               o->rtp_hi, o->rtp_seq) < 0) {
			refuse(c, conn, m, 500, "cannot bind an RTP port");
			call_finish(c, NULL);
			return;
		}
		c->late = true;
		uas_prov_headers(c, 180, hdr, sizeof(hdr));
		sip_respond(conn, m, 180, NULL, c->local_tag, hdr, NULL, NULL);
		if (o->mode != MODE_NOANSWER)
			call_timer(c, &c->ev_answer, o->ring_ms, uas_answer_cb);
		return;
	}
	if (sdp_read(body, &si, &why) < 0) {
		refuse(c, conn, m, 488, why);
		call_finish(c, NULL);
		return;
	}
	code = uas_judge_offer(o, &si, &rk, &plain, &why);
	if (code) {
		sdp_info_wipe(&si);
		refuse(c, conn, m, code, why);
		call_finish(c, NULL);
		return;
	}
	if (media_open(&c->media, o->media_ip[0] ? o->media_ip : conn->local_ip, o->rtp_lo,
	               o->rtp_hi, o->rtp_seq) < 0 ||
	    media_set_remote(&c->media, si.ip, si.port) < 0 ||
	    media_set_rtcp_mux(&c->media, si.rtcp_mux && !o->no_rtcp_mux) < 0) {
		sdp_info_wipe(&si);
		if (!plain)
			keys_wipe(&rk);
		refuse(c, conn, m, 488, "no usable media address or port");
		call_finish(c, NULL);
		return;
	}
	c->media.may_send = si.dir == DIR_SENDRECV || si.dir == DIR_RECVONLY;
	media_set_dtmf(&c->media, o->dtmf >= 0 ? si.te_pt : -1);
	sdp_info_wipe(&si);
	if (!plain) {
		int rc = keys_generate(&lk, rk.suite);

		lk.tag = rk.tag;
		if (rc == 0)
			rc = media_set_srtp(&c->media, &lk, &rk);
		keys_wipe(&lk);
		keys_wipe(&rk);
		if (rc < 0) {
			refuse(c, conn, m, 488, "cannot set up SRTP for this suite");
			call_finish(c, NULL);
			return;
		}
	}
	if (o->early_media) {
		/* early media: the answer goes out in a 183 already, and again in the 200 */
		if (uas_send_answer(c, 183) < 0)
			return;
	} else {
		uas_prov_headers(c, 180, hdr, sizeof(hdr));
		sip_respond(conn, m, 180, NULL, c->local_tag, hdr, NULL, NULL);
	}
	if (o->mode != MODE_NOANSWER)
		call_timer(c, &c->ev_answer, o->ring_ms, uas_answer_cb);
}

/* ACK for our 200: the call is up; pattern mode starts sending, --bye-after is armed. */
void
uas_on_ack(struct call *c, osip_message_t *m)
{
	const struct opts *o = c->peer->o;

	if (c->state != CS_ANSWERED)
		return;
	c->state = CS_CONFIRMED;
	c->res.setup_ms = ms_since(&c->t_start);
	c->res.setup_us = us_since(&c->t_start);
	if (media_start(&c->media, c->peer->base) < 0) { /* started already unless late */
		call_finish(c, "cannot start media");
		return;
	}
	if (o->mode == MODE_PATTERN)
		media_send_pattern(&c->media, true);
	call_arm_media_stop(c);
	if (o->bye_after_ms)
		call_timer(c, &c->ev_bye, o->bye_after_ms, uas_bye_cb);
	refer_arm(c);
}

/* CANCEL: 200 for it; if the INVITE is still pending, 487 for that and the call ends. */
void
uas_on_cancel(struct sipconn *conn, osip_message_t *m)
{
	char *cid = NULL;
	struct call *c;

	if (osip_call_id_to_str(m->call_id, &cid) != 0)
		return;
	c = call_find(conn->peer, cid);
	osip_free(cid);
	if (!c || c->role != ROLE_CALLEE || !c->invite) {
		sip_respond(conn, m, 481, NULL, "x", NULL, NULL, NULL);
		return;
	}
	sip_respond(conn, m, 200, NULL, c->local_tag, NULL, NULL, NULL);
	if (c->state == CS_PROCEEDING) {
		sip_respond(conn, c->invite, 487, NULL, c->local_tag, NULL, NULL, NULL);
		c->res.code = 487;
		snprintf(c->res.reason, sizeof(c->res.reason), "%s", sip_reason(487));
		c->res.had_media = false;
		c->cancelled = true;
		call_finish(c, NULL);
	}
}
