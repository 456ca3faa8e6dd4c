/*
 * call_uac.c: swpeer's caller (the trunk side) and every client transaction.
 *
 * A caller call opens its own TLS connection, offers one audio stream (RTP/SAVP with a
 * fresh key per offered suite, or plain / deliberately weak per --offer), and follows the
 * answer: 1xx, 2xx (ACK, start the pattern, BYE after --duration), 3xx-6xx (ACK, record
 * code and Warning). Options add a CANCEL after --cancel-after ms and one hold/resume
 * cycle by re-INVITE. Responses to requests the callee sends (its BYE) land here too.
 * Not responsible for the callee's decisions (call_uas.c) or media (media.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "swpeer.h"

#define ECHO_GRACE_MS 250
/* packets sent in the last 200 ms before a hold may reach the echoing peer after it */
#define HOLD_IN_FLIGHT_PKTS 10

static void uac_send_bye(struct call *c);

static void
uac_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	if (c->state == CS_CONNECTING && c->conn && c->conn->up)
		call_conn_ready(c);
}

/* A shared connection's handshake completed: every call waiting on it sends its INVITE. */
void
call_shared_conn_up(struct sipconn *conn)
{
	struct call *c;

	for (;;) { /* call_conn_ready() may end a call (and start others): rescan */
		LIST_FOREACH(c, &conn->peer->calls, entry)
		if (c->conn == conn && c->state == CS_CONNECTING)
			break;
		if (!c)
			return;
		call_conn_ready(c);
	}
}

/*
 * Start caller call number `num`: a new TLS connection (the INVITE follows on connect), or
 * with --connections one of the shared ones (at once when it is up, from the loop).
 */
int
call_start_caller(struct peer *p, unsigned num)
{
	const struct opts *o = p->o;
	struct call *c = call_new(p, ROLE_CALLER, num);

	if (!c)
		return -ENOMEM;
	c->state = CS_CONNECTING;
	sip_random_token(c->call_id, 33);
	strcat(c->call_id, "@swpeer");
	snprintf(c->local_uri, sizeof(c->local_uri), "sip:swpeer-%u@swpeer.invalid", num);
	snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", o->to_uri);
	snprintf(c->remote_target, sizeof(c->remote_target), "%s", o->to_uri);
	call_index(c);
	if (o->connections) {
		c->conn = sip_shared_conn(p, (num - 1) % o->connections);
		if (!c->conn) {
			call_finish(c, "cannot open TLS connection");
			return -ECONNREFUSED;
		}
		if (c->conn->up) /* not from here: this may run inside another call's end */
			call_timer(c, &c->ev_start, 0, uac_start_cb);
		return 0;
	}
	c->conn = sip_connect(p, o->to_host, o->to_port, c);
	if (!c->conn) {
		call_finish(c, "cannot open TLS connection");
		return -ECONNREFUSED;
	}
	return 0;
}

static int
build_offer(struct call *c, char *sdp, size_t len, enum sdp_dir d)
{
	const struct opts *o = c->peer->o;
	char crypto[SUITE_COUNT + 1][160];
	unsigned n = 0;
	int rc;

	if (c->media.srtp) { /* re-INVITE: keep our key */
		keys_format_crypto(&c->media.lkey, !c->peer->o->no_pad, NULL, crypto[n++],
		                   sizeof(crypto[0]));
	} else if (o->offer == OFFER_SAVP && c->noffer_keys == 0) {
		for (unsigned i = 0; i < o->nsuites; i++) {
			struct srtp_keys *k = &c->offer_keys[c->noffer_keys];

			if (keys_generate(k, o->suites[i]) < 0)
				return -EIO;
			k->tag = i + 1;
			c->noffer_keys++;
			keys_format_crypto(k, !c->peer->o->no_pad, NULL, crypto[n++],
			                   sizeof(crypto[0]));
		}
	} else if (o->offer == OFFER_SAVP_WEAK && c->noffer_keys == 0) {
		/* a usable suite with session parameters that switch protection off, and F8 */
		if (keys_generate(&c->offer_keys[0], SUITE_AES_CM_128_HMAC_SHA1_80) < 0 ||
		    keys_generate(&c->offer_keys[1], SUITE_F8_128_HMAC_SHA1_80) < 0)
			return -EIO;
		c->offer_keys[0].tag = 1;
		c->offer_keys[1].tag = 2;
		c->noffer_keys = 2;
		keys_format_crypto(&c->offer_keys[0], !c->peer->o->no_pad,
		                   "UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP", crypto[n++],
		                   sizeof(crypto[0]));
		keys_format_crypto(&c->offer_keys[1], !c->peer->o->no_pad, NULL, crypto[n++],
		                   sizeof(crypto[0]));
	}
	rc = sdp_write(c, sdp, len, crypto, n, o->offer != OFFER_AVP, d);
	OPENSSL_cleanse(crypto, sizeof(crypto));
	return rc;
}

static void
uac_cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	if (c->state != CS_CALLING && c->state != CS_PROCEEDING)
		return;
	c->cancelled = true;
	if (c->state == CS_PROCEEDING) /* RFC 3261 s9.1: only after a provisional */
		call_send_request(c, "CANCEL", c->peer->o->to_uri, c->invite_cseq, c->invite_branch,
		                  NULL, NULL);
}

/* The TLS connection is up: open media and send the INVITE. */
void
call_conn_ready(struct call *c)
{
	const struct opts *o = c->peer->o;
	char sdp[4096];
	const char *ip = o->media_ip[0] ? o->media_ip : c->conn->local_ip;

	if (o->options) { /* --options: one OPTIONS ping instead of a call */
		c->invite_cseq = c->cseq++;
		clock_gettime(CLOCK_MONOTONIC, &c->t_start);
		c->state = CS_CALLING;
		call_send_request(c, "OPTIONS", o->to_uri, c->invite_cseq, NULL, NULL, NULL);
		return;
	}
	if (media_open(&c->media, ip, o->rtp_lo, o->rtp_hi, o->rtp_seq) < 0) {
		call_finish(c, "cannot bind an RTP port");
		return;
	}
	if (o->offer != OFFER_NONE && build_offer(c, sdp, sizeof(sdp), DIR_SENDRECV) < 0) {
		call_finish(c, "cannot build the offer");
		return;
	}
	memcpy(c->invite_branch, "z9hG4bK", 7);
	sip_random_token(c->invite_branch + 7, 25);
	c->invite_cseq = c->cseq++;
	clock_gettime(CLOCK_MONOTONIC, &c->t_start);
	c->state = CS_CALLING;
	call_send_request(c, "INVITE", o->to_uri, c->invite_cseq, c->invite_branch, NULL,
	                  o->offer == OFFER_NONE ? NULL : sdp);
	OPENSSL_cleanse(sdp, sizeof(sdp));
	if (o->cancel_after_ms)
		call_timer(c, &c->ev_cancel, o->cancel_after_ms, uac_cancel_cb);
}

static void
uac_bye_cb(evutil_socket_t fd, short what, void *arg)
{
	uac_send_bye(arg);
}

static void
uac_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	media_send_pattern(&c->media, false);
	call_timer(c, &c->ev_bye, ECHO_GRACE_MS, uac_bye_cb);
}

/* A re-INVITE offering direction `d`; `plain`: a plain RTP/AVP offer (downgrade attempt). */
static void
uac_send_reinvite(struct call *c, enum sdp_dir d, bool plain)
{
	char sdp[4096];

	if (c->state != CS_CONFIRMED)
		return;
	if (c->peer->o->reinvite_none) { /* a late offer: the 2xx brings it */
		c->reinvite_cseq = c->cseq++;
		media_expect_rekey(&c->media, true);
		call_send_request(c, "INVITE", c->remote_target, c->reinvite_cseq, NULL,
		                  c->remote_tag, NULL);
		return;
	}
	if (c->peer->o->reinvite_rekey && c->media.srtp) {
		/* a new key of the same suite and tag: the answer is matched against it */
		char crypto[1][160];
		struct srtp_keys *k = &c->offer_keys[0];
		int rc;

		for (unsigned i = 0; i < c->noffer_keys; i++)
			keys_wipe(&c->offer_keys[i]);
		if (keys_generate(k, c->media.lkey.suite) < 0)
			return;
		k->tag = c->media.lkey.tag;
		c->noffer_keys = 1;
		keys_format_crypto(k, !c->peer->o->no_pad, NULL, crypto[0], sizeof(crypto[0]));
		rc = sdp_write(c, sdp, sizeof(sdp), crypto, 1, true, d);
		OPENSSL_cleanse(crypto, sizeof(crypto));
		if (rc < 0)
			return;
	} else if (plain ? sdp_write(c, sdp, sizeof(sdp), NULL, 0, false, d) < 0
	                 : build_offer(c, sdp, sizeof(sdp), d) < 0) {
		return;
	}
	c->reinvite_cseq = c->cseq++;
	if (!plain && c->media.srtp)
		media_expect_rekey(&c->media, true); /* the answer may carry a new key */
	c->on_hold = d != DIR_SENDRECV;
	if (c->on_hold) {
		c->media.expect_back = false;
		media_unwant_recent(&c->media, HOLD_IN_FLIGHT_PKTS);
	}
	call_send_request(c, c->peer->o->reinvite_update ? "UPDATE" : "INVITE", c->remote_target,
	                  c->reinvite_cseq, NULL, c->remote_tag, sdp);
	OPENSSL_cleanse(sdp, sizeof(sdp));
}

static void
uac_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	const struct opts *o = c->peer->o;

	if (o->reinvite_avp || o->reinvite_none || o->reinvite_rekey || o->reinvite_update) {
		c->hold_done = true;
		uac_send_reinvite(c, DIR_SENDRECV, o->reinvite_avp);
	} else if (!c->on_hold && !c->hold_done) {
		uac_send_reinvite(c, DIR_SENDONLY, false);
		call_timer(c, &c->ev_hold, o->hold_ms, uac_hold_cb);
	} else if (c->on_hold) {
		c->hold_done = true;
		uac_send_reinvite(c, DIR_SENDRECV, false);
	}
}

static void
uac_send_bye(struct call *c)
{
	if (c->bye_sent || !c->conn)
		return;
	c->bye_sent = true;
	if (!c->res.ended_by)
		c->res.ended_by = 'l';
	c->bye_cseq = c->cseq++;
	c->state = CS_TERMINATING;
	media_send_pattern(&c->media, false);
	call_send_request(c, "BYE", c->remote_target, c->bye_cseq, NULL, c->remote_tag, NULL);
}

/*
 * Apply the answer to our offer. Returns NULL when media can start, else why the answer
 * is unacceptable (the call is then ended with a BYE).
 */
const char *
uac_apply_answer(struct call *c, const char *body)
{
	const struct opts *o = c->peer->o;
	struct sdp_info si;
	struct srtp_keys rk;
	const char *why = NULL;

	if (sdp_read(body, &si, &why) < 0)
		return why;
	if (media_set_remote(&c->media, si.ip, si.port) < 0) {
		sdp_info_wipe(&si);
		return "answer has no usable media address";
	}
	/* rtcp-mux only when both SDPs had it (RFC 5761 s5.1.1) */
	if (media_set_rtcp_mux(&c->media, si.rtcp_mux && !o->no_rtcp_mux) < 0) {
		sdp_info_wipe(&si);
		return "cannot bind the RTCP port";
	}
	media_set_dtmf(&c->media, o->dtmf >= 0 ? si.te_pt : -1);
	c->media.may_send = si.dir == DIR_SENDRECV || si.dir == DIR_RECVONLY;
	if (o->offer == OFFER_AVP) {
		sdp_info_wipe(&si);
		return NULL;
	}
	if (o->offer == OFFER_SAVP_WEAK) {
		sdp_info_wipe(&si);
		return "the weak offer was accepted";
	}
	if (!si.savp || si.ncrypto != 1) {
		sdp_info_wipe(&si);
		return "answer without SRTP (downgrade)";
	}
	if (keys_parse_crypto(si.crypto[0], &rk, &why) < 0) {
		sdp_info_wipe(&si);
		return why;
	}
	sdp_info_wipe(&si);
	for (unsigned i = 0; i < c->noffer_keys; i++) {
		if (c->offer_keys[i].tag == rk.tag && c->offer_keys[i].suite == rk.suite) {
			int rc = media_set_srtp(&c->media, &c->offer_keys[i], &rk);

			keys_wipe(&rk);
			return rc < 0 ? "cannot set up SRTP" : NULL;
		}
	}
	keys_wipe(&rk);
	return "answer a=crypto matches no offered tag and suite";
}

static void
record_final(struct call *c, osip_message_t *m)
{
	const char *w = sip_header_value(m, "warning");

	c->res.code = m->status_code;
	snprintf(c->res.reason, sizeof(c->res.reason), "%s",
	         m->reason_phrase ? m->reason_phrase : "");
	if (w)
		snprintf(c->res.warning, sizeof(c->res.warning), "%s", w);
	c->res.setup_ms = ms_since(&c->t_start);
	c->res.setup_us = us_since(&c->t_start);
}

static void
invite_2xx(struct call *c, osip_message_t *m)
{
	const struct opts *o = c->peer->o;
	const char *tag = sip_to_tag(m), *body, *why;
	osip_contact_t *ct = NULL;

	if (c->state == CS_CONFIRMED || c->state == CS_TERMINATING) { /* 2xx again: ACK again */
		call_send_request(c, "ACK", c->remote_target, c->invite_cseq, NULL, c->remote_tag,
		                  NULL);
		return;
	}
	record_final(c, m);
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
	call_take_routes(c, m, true);
	if (osip_message_get_contact(m, 0, &ct) == 0 && ct && ct->url) {
		char *u = NULL;

		if (osip_uri_to_str(ct->url, &u) == 0) {
			snprintf(c->remote_target, sizeof(c->remote_target), "%s", u);
			osip_free(u);
		}
	}
	c->state = CS_CONFIRMED;
	call_body(m, &body);
	if (o->offer == OFFER_NONE) {
		/* the 2xx has the offer; our answer (or what --ack-answer says) in the ACK */
		char sdp[4096];
		why = body ? NULL : "2xx without an offer";
		if (!why && o->ack_answer != ACK_ANSWER_NONE)
			why = call_take_offer(c, body, o->ack_answer == ACK_ANSWER_AVP, sdp,
			                      sizeof(sdp));
		call_send_request(c, "ACK", c->remote_target, c->invite_cseq, NULL, c->remote_tag,
		                  !why && o->ack_answer != ACK_ANSWER_NONE ? sdp : NULL);
		OPENSSL_cleanse(sdp, sizeof(sdp));
		if (!why && o->ack_answer != ACK_ANSWER_SAVP)
			return; /* a refused answer: sipwarden is to end the call with a BYE */
	} else {
		call_send_request(c, "ACK", c->remote_target, c->invite_cseq, NULL, c->remote_tag,
		                  NULL);
		why = uac_apply_answer(c, body);
	}
	if (why) {
		snprintf(c->res.why, sizeof(c->res.why), "%s", why);
		uac_send_bye(c);
		return;
	}
	if (c->cancelled) { /* 200 won the race against our CANCEL */
		uac_send_bye(c);
		return;
	}
	c->res.had_media = true;
	c->media.tx_dir = 'C';
	c->media.tx_call = c->num;
	c->media.tx_pattern = o->pattern;
	c->media.rx_dir = o->peer_media == PEER_MEDIA_ECHO ? 'C'
	                  : o->peer_media == PEER_MEDIA_PATTERN
	                          ? 'A'
	                          : 0; /* none: any verified pattern */
	c->media.rx_call = o->peer_media == PEER_MEDIA_ECHO ? c->num : 0;
	c->media.expect_back = o->peer_media == PEER_MEDIA_ECHO;
	c->media.tamper = o->tamper;
	c->media.dtmf_left = o->dtmf > 0 ? (unsigned)o->dtmf : 0;
	c->media.rtcp_sdes = o->rtcp_sdes;
	if (media_start(&c->media, c->peer->base) < 0) {
		snprintf(c->res.why, sizeof(c->res.why), "cannot start media");
		uac_send_bye(c);
		return;
	}
	media_send_pattern(&c->media, true);
	call_arm_media_stop(c);
	call_timer(c, &c->ev_stop, o->duration_ms, uac_stop_cb);
	if (o->hold_after_ms && o->hold_after_ms < o->duration_ms)
		call_timer(c, &c->ev_hold, o->hold_after_ms, uac_hold_cb);
	refer_arm(c); /* --refer: an agent calling out transfers too */
}

/* --100rel: PRACK a reliable provisional (Require: 100rel, RSeq) in its early dialog,
 * each RSeq once (a copy is not PRACKed again). */
static void
uac_prack(struct call *c, osip_message_t *m)
{
	osip_header_t *req = NULL, *rs = NULL;
	const char *tag = sip_to_tag(m);
	osip_contact_t *ct = NULL;
	unsigned long rseq;
	char *end;

	if (osip_message_header_get_byname(m, "require", 0, &req) < 0 || !req->hvalue ||
	    !strstr(req->hvalue, "100rel") ||
	    osip_message_header_get_byname(m, "rseq", 0, &rs) < 0 || !rs->hvalue || !tag)
		return;
	rseq = strtoul(rs->hvalue, &end, 10);
	if (*end != '\0' || rseq == 0 || rseq > 0xffffffffUL || rseq == c->rseq)
		return;
	c->rseq = rseq;
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag);
	call_take_routes(c, m, true);
	if (osip_message_get_contact(m, 0, &ct) == 0 && ct && ct->url) {
		char *u = NULL;

		if (osip_uri_to_str(ct->url, &u) == 0) {
			snprintf(c->remote_target, sizeof(c->remote_target), "%s", u);
			osip_free(u);
		}
	}
	snprintf(c->rack, sizeof(c->rack), "%lu %u INVITE", rseq, c->invite_cseq);
	call_send_request(c, "PRACK", c->remote_target, c->cseq++, NULL, c->remote_tag, NULL);
}

static void
invite_response(struct call *c, osip_message_t *m)
{
	int code = m->status_code;
	const char *tag = sip_to_tag(m);

	if (code < 200) {
		if (c->peer->o->rel100 && code > 100)
			uac_prack(c, m);
		if (c->state == CS_CALLING) {
			c->state = CS_PROCEEDING;
			if (c->cancelled)
				call_send_request(c, "CANCEL", c->peer->o->to_uri, c->invite_cseq,
				                  c->invite_branch, NULL, NULL);
		}
		return;
	}
	if (code < 300) {
		invite_2xx(c, m);
		return;
	}
	if (c->state != CS_CALLING && c->state != CS_PROCEEDING)
		return;
	record_final(c, m);
	/* ACK for a non-2xx final: same branch as the INVITE, To as in the response */
	call_send_request(c, "ACK", c->peer->o->to_uri, c->invite_cseq, c->invite_branch, tag,
	                  NULL);
	call_finish(c, NULL);
}

static void
reinvite_response(struct call *c, osip_message_t *m)
{
	bool ack = m->cseq != NULL && m->cseq->method != NULL &&
	           strcmp(m->cseq->method, "INVITE") == 0;
	const char *body, *why;

	if (m->status_code < 200)
		return;
	c->res.reinvite_code = m->status_code;
	if (m->status_code >= 300) {
		media_expect_rekey(&c->media, false);
		if (ack)
			call_send_request(c, "ACK", c->remote_target, c->reinvite_cseq, NULL,
			                  c->remote_tag, NULL);
		return;
	}
	call_body(m, &body);
	if (c->peer->o->reinvite_none) {
		/* our re-INVITE had no SDP: the offer is here, the answer goes in the ACK */
		char sdp[4096];
		why = body ? call_take_offer(c, body, false, sdp, sizeof(sdp))
		           : "2xx to an offerless re-INVITE without an offer";
		call_send_request(c, "ACK", c->remote_target, c->reinvite_cseq, NULL, c->remote_tag,
		                  why ? NULL : sdp);
		OPENSSL_cleanse(sdp, sizeof(sdp));
	} else {
		if (ack) /* an UPDATE (--reinvite-offer update) has no ACK */
			call_send_request(c, "ACK", c->remote_target, c->reinvite_cseq, NULL,
			                  c->remote_tag, NULL);
		why = body ? uac_apply_answer(c, body) : NULL;
	}
	if (why != NULL) {
		snprintf(c->res.why, sizeof(c->res.why), "re-INVITE: %s", why);
		media_expect_rekey(&c->media, false);
		uac_send_bye(c);
		return;
	}
	media_expect_rekey(&c->media, false); /* no new key in the answer: flush */
	c->holds++;
	if (!c->on_hold && c->peer->o->peer_media == PEER_MEDIA_ECHO)
		c->media.expect_back = true;
}

/* A response arrived for a request this call sent (INVITE, re-INVITE, BYE, CANCEL). */
void
uac_on_response(struct call *c, osip_message_t *m)
{
	const char *method = m->cseq ? m->cseq->method : NULL;
	uint32_t n = m->cseq && m->cseq->number ? (uint32_t)strtoul(m->cseq->number, NULL, 10) : 0;

	if (!method)
		return;
	if (strcmp(method, "OPTIONS") == 0 && c->role == ROLE_CALLER && n == c->invite_cseq) {
		if (m->status_code >= 200) {
			record_final(c, m);
			call_finish(c, NULL);
		}
	} else if (strcmp(method, "INVITE") == 0 && c->role == ROLE_CALLER) {
		if (n == c->invite_cseq)
			invite_response(c, m);
		else if (n == c->reinvite_cseq)
			reinvite_response(c, m);
	} else if (strcmp(method, "UPDATE") == 0 && c->role == ROLE_CALLER &&
	           n == c->reinvite_cseq) {
		reinvite_response(c, m);
	} else if (strcmp(method, "BYE") == 0 && n == c->bye_cseq && m->status_code >= 200) {
		char why[sizeof(c->res.why)];

		snprintf(why, sizeof(why), "%s", c->res.why);
		call_finish(c, why[0] ? why : NULL);
	}
}
