/*
 * call.c: what swpeer's caller and callee share: the call object and its end (result,
 * pass/fail, cleanup), dispatch of incoming messages to the right dialog, building
 * in-dialog requests, and answering a re-INVITE (hold/resume, re-keying).
 *
 * Dialogs are found by Call-ID (one process plays one role, so Call-IDs are unique in
 * it). Transactions are kept minimal: TLS is reliable, so nothing is retransmitted and a
 * call that stalls is ended by the global timeout. Not responsible for the caller's or
 * callee's own decisions (call_uac.c, call_uas.c), transport (sip.c) or media (media.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sip_rand.h"
#include "swpeer.h"

/* Allocate a call (in the peer's list) with closed media and fresh tags. NULL on ENOMEM. */
struct call *
call_new(struct peer *p, enum role role, unsigned num)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->peer = p;
	c->role = role;
	c->num = num;
	c->media.fd = -1;
	c->media.rtcp_fd = -1;
	c->res.num = num;
	c->res.role = role;
	c->res.setup_ms = -1;
	c->res.setup_us = -1;
	sip_random_token(c->local_tag, 17);
	sip_rand_bytes(&c->cseq, sizeof(c->cseq));
	c->cseq = (c->cseq & 0xffff) + 1;
	clock_gettime(CLOCK_MONOTONIC, &c->t_start);
	LIST_INSERT_HEAD(&p->calls, c, entry);
	p->active++;
	return c;
}

static unsigned
callid_bucket(const char *call_id)
{
	uint32_t h = 2166136261u; /* FNV-1a: Call-IDs here are ours or the peer's, not secret */

	for (const unsigned char *s = (const unsigned char *)call_id; *s; s++)
		h = (h ^ *s) * 16777619u;
	return h % CALL_HASH;
}

/* Put `c` in the Call-ID index once its call_id is set (call_finish() takes it out). */
void
call_index(struct call *c)
{
	if (c->hashed)
		return;
	LIST_INSERT_HEAD(&c->peer->hash[callid_bucket(c->call_id)], c, hentry);
	c->hashed = true;
}

struct call *
call_find(struct peer *p, const char *call_id)
{
	struct call *c;

	LIST_FOREACH(c, &p->hash[callid_bucket(call_id)], hentry)
	if (strcmp(c->call_id, call_id) == 0 && c->state != CS_DONE)
		return c;
	return NULL;
}

/* (Re)arm a one-shot timer of the call in `slot`. */
struct event *
call_timer(struct call *c, struct event **slot, unsigned ms, event_callback_fn cb)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!*slot)
		*slot = evtimer_new(c->peer->base, cb, c);
	if (*slot)
		evtimer_add(*slot, &tv);
	return *slot;
}

static void
media_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	c->media.muted = true;
}

/* --media-stop-after: arm the timer that silences this call's media (sending and echo);
 * the dialog stays up, so the other side sees a call without media. */
void
call_arm_media_stop(struct call *c)
{
	if (c->peer->o->media_stop_ms)
		call_timer(c, &c->ev_mute, c->peer->o->media_stop_ms, media_stop_cb);
}

static void
free_timer(struct event **e)
{
	if (*e)
		event_free(*e);
	*e = NULL;
}

static void
evaluate(struct call *c, const char *fail_why)
{
	const struct opts *o = c->peer->o;
	struct call_result *r = &c->res;
	const struct media_stats *st = &r->st;
	uint64_t expect;

	r->pass = false;
	if (fail_why) {
		snprintf(r->why, sizeof(r->why), "%s", fail_why);
		return;
	}
	if (c->role == ROLE_CALLER && r->code != o->expect) {
		snprintf(r->why, sizeof(r->why), "expected %d, got %d", o->expect, r->code);
		return;
	}
	if (r->had_media && (c->role == ROLE_CALLEE || r->code == 200)) {
		bool want_rx = c->role == ROLE_CALLER ? o->peer_media != PEER_MEDIA_NONE : true;

		expect = st->ok + st->missing;
		if (st->auth_fail || st->replay || st->bad || st->other_err) {
			snprintf(r->why, sizeof(r->why), "media damaged");
			return;
		}
		if (want_rx && st->ok == 0) {
			snprintf(r->why, sizeof(r->why), "no media received");
			return;
		}
		if (st->missing > 2 && st->missing * 100 > expect * o->max_loss_pct) {
			snprintf(r->why, sizeof(r->why), "too many packets missing%s%s",
			         st->missing_at[0] ? ", from index " : "", st->missing_at);
			return;
		}
		if (c->role == ROLE_CALLER && (o->offer == OFFER_SAVP || o->offer == OFFER_NONE) &&
		    !c->media.srtp) {
			snprintf(r->why, sizeof(r->why), "media not SRTP");
			return;
		}
	}
	r->pass = true;
}

/*
 * End a call: compute its result (failed with `fail_why` when not NULL), print it, free
 * everything it owns and tell the peer (which may start the next call). `c` is freed.
 */
void
call_finish(struct call *c, const char *fail_why)
{
	struct peer *p = c->peer;
	struct call_result *r = &c->res;

	if (c->state == CS_DONE)
		return;
	c->state = CS_DONE;
	if (c->media.fd >= 0) {
		media_finalize_stats(&c->media);
		r->st = c->media.st;
	}
	if (c->media.srtp) {
		snprintf(r->suite, sizeof(r->suite), "%s", keys_suite_name(c->media.lkey.suite));
		snprintf(r->lhash, sizeof(r->lhash), "%s", c->media.lhash);
		snprintf(r->rhash, sizeof(r->rhash), "%s", c->media.rhash);
	} else {
		snprintf(r->suite, sizeof(r->suite), "%s", r->had_media ? "plain" : "none");
	}
	r->reinvites = c->holds;
	r->rekeys = c->media.rekeys;
	evaluate(c, fail_why);
	report_call(p->o, r);

	free_timer(&c->ev_cancel);
	free_timer(&c->ev_hold);
	free_timer(&c->ev_stop);
	free_timer(&c->ev_bye);
	free_timer(&c->ev_refer);
	free_timer(&c->ev_answer);
	free_timer(&c->ev_mute);
	free_timer(&c->ev_start);
	media_close(&c->media);
	for (unsigned i = 0; i < c->noffer_keys; i++)
		keys_wipe(&c->offer_keys[i]);
	if (c->invite)
		osip_message_free(c->invite);
	c->invite = NULL;
	if (c->conn && c->conn->owner == c)
		sipconn_close_later(c->conn);
	c->conn = NULL;
	LIST_REMOVE(c, entry);
	if (c->hashed)
		LIST_REMOVE(c, hentry);
	peer_call_done(p, c);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The connection under some calls went away: those calls end (failed unless done). */
void
call_conn_closed(struct sipconn *conn)
{
	struct call *c;

	for (;;) {
		LIST_FOREACH(c, &conn->peer->calls, entry)
		if (c->conn == conn)
			break;
		if (!c)
			return;
		c->conn = NULL;
		if (c->state == CS_CONNECTING)
			call_finish(c, "TLS connection failed");
		else
			call_finish(c, "SIP connection closed");
	}
}

/* End every call (timeout or signal), each failed with `why`. */
void
call_abort_all(struct peer *p, const char *why)
{
	while (!LIST_EMPTY(&p->calls))
		call_finish(LIST_FIRST(&p->calls), why);
}

/* Our Contact URI for this call. */
const char *
call_contact(struct call *c, char *buf, size_t len)
{
	snprintf(buf, len, "sip:swpeer@%s:%u;transport=tls",
	         c->conn ? c->conn->local_ip : "0.0.0.0", c->conn ? c->conn->local_port : 0);
	return buf;
}

/* Body of a message, or NULL. Returns its length (0 when none). */
int
call_body(const osip_message_t *m, const char **body)
{
	osip_body_t *b = NULL;

	*body = NULL;
	if (osip_message_get_body(m, 0, &b) != 0 || !b || !b->body)
		return 0;
	*body = b->body;
	return (int)b->length;
}

/*
 * Send a request in this call's dialog: Via with a new branch (or `branch`), From with our
 * tag, To with `to_tag` when given, our Contact, and an SDP `body` when not NULL.
 */
/*
 * The route set of the dialog (RFC 3261 s12.1): the Record-Route of `m` (the INVITE we
 * answer, in order; the 2xx to ours, `reverse`d) as Route lines for call_send_request().
 * Loose routing only, which is all swpeer meets (sipwarden, the test proxy); what does
 * not fit is left out and the requests go without it.
 */
static int send_request(struct call *c, const char *method, const char *ruri, uint32_t cseq,
                        const char *branch, const char *to_tag, const char *extra,
                        const char *ctype, const char *body);

void
call_take_routes(struct call *c, const osip_message_t *m, bool reverse)
{
	int n = osip_list_size(&m->record_routes);
	size_t used = 0;

	c->route[0] = '\0';
	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr = osip_list_get(&m->record_routes, reverse ? n - 1 - i : i);
		char *s = NULL;
		int w;

		if (osip_record_route_to_str(rr, &s) != 0)
			continue;
		w = snprintf(c->route + used, sizeof(c->route) - used, "Route: %s\r\n", s);
		osip_free(s);
		if (w < 0 || (size_t)w >= sizeof(c->route) - used) {
			c->route[0] = '\0';
			return;
		}
		used += (size_t)w;
	}
}

int
call_send_request(struct call *c, const char *method, const char *ruri, uint32_t cseq,
                  const char *branch, const char *to_tag, const char *body)
{
	return send_request(c, method, ruri, cseq, branch, to_tag, NULL,
	                    body ? "application/sdp" : NULL, body);
}

int
call_send_request_ext(struct call *c, const char *method, const char *ruri, uint32_t cseq,
                      const char *to_tag, const char *extra, const char *ctype, const char *body)
{
	return send_request(c, method, ruri, cseq, NULL, to_tag, extra, ctype, body);
}

static int
send_request(struct call *c, const char *method, const char *ruri, uint32_t cseq,
             const char *branch, const char *to_tag, const char *extra, const char *ctype,
             const char *body)
{
	struct evbuffer *b;
	char br[48], contact[160];
	size_t blen = body ? strlen(body) : 0;
	int rc;

	if (!c->conn)
		return -ENOTCONN;
	if (!branch) {
		memcpy(br, "z9hG4bK", 7);
		sip_random_token(br + 7, 25);
		branch = br;
	}
	if (!(b = evbuffer_new()))
		return -ENOMEM;
	evbuffer_add_printf(b,
	                    "%s %s SIP/2.0\r\n"
	                    "Via: SIP/2.0/TLS %s:%u;branch=%s;rport\r\n"
	                    "Max-Forwards: 70\r\n"
	                    "From: <%s>;tag=%s\r\n"
	                    "To: <%s>%s%s\r\n"
	                    "Call-ID: %s\r\n"
	                    "CSeq: %u %s\r\n"
	                    "Contact: <%s>\r\n"
	                    "User-Agent: %s\r\n",
	                    method, ruri, c->conn->local_ip, c->conn->local_port, branch,
	                    c->local_uri, c->local_tag, c->remote_uri, to_tag ? ";tag=" : "",
	                    to_tag ? to_tag : "", c->call_id, cseq, method,
	                    call_contact(c, contact, sizeof(contact)), SWPEER_UA);
	if (strcmp(method, "CANCEL") != 0)
		evbuffer_add_printf(b, "%s", c->route);
	if (strcmp(method, "INVITE") == 0)
		evbuffer_add_printf(b, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK\r\n%s",
		                    c->peer->o->rel100 ? "Supported: 100rel\r\nRequire: 100rel\r\n"
		                                       : "");
	if (strcmp(method, "PRACK") == 0)
		evbuffer_add_printf(b, "RAck: %s\r\n", c->rack);
	if (extra)
		evbuffer_add_printf(b, "%s", extra);
	if (body && ctype)
		evbuffer_add_printf(b, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(b, "Content-Length: %zu\r\n\r\n", blen);
	if (blen)
		evbuffer_add(b, body, blen);
	{
		size_t n = evbuffer_get_length(b);

		rc = sip_send(c->conn, (const char *)evbuffer_pullup(b, (ssize_t)n), n);
	}
	evbuffer_free(b);
	return rc;
}

static enum sdp_dir
answer_dir(enum sdp_dir offered)
{
	switch (offered) {
	case DIR_SENDONLY:
		return DIR_RECVONLY;
	case DIR_RECVONLY:
		return DIR_SENDONLY;
	case DIR_INACTIVE:
		return DIR_INACTIVE;
	default:
		return DIR_SENDRECV;
	}
}

/*
 * Our offer for the 2xx to an INVITE without SDP: our media address, and our current
 * key (tag 1) in a running SRTP call, else a fresh key per --suites (tags 1..n), kept in
 * offer_keys for the answer in the ACK (uac_apply_answer). Length, or a negative errno.
 */
int
call_late_offer(struct call *c, char *sdp, size_t len)
{
	const struct opts *o = c->peer->o;
	char crypto[SUITE_COUNT + 1][160];
	unsigned n = 0;
	int rc;

	for (unsigned i = 0; i < c->noffer_keys; i++)
		keys_wipe(&c->offer_keys[i]);
	c->noffer_keys = 0;
	if (o->mode == MODE_ANSWER_PLAIN && c->role == ROLE_CALLEE && !c->media.srtp) {
		/* --mode answer-plain: a plain RTP/AVP offer (a downgrade attempt) */
		return sdp_write(c, sdp, len, NULL, 0, false, DIR_SENDRECV);
	} else if (c->media.srtp) {
		c->offer_keys[0] = c->media.lkey;
		c->offer_keys[0].tag = 1;
		c->noffer_keys = 1;
	} else {
		for (unsigned i = 0; i < o->nsuites; i++) {
			if (keys_generate(&c->offer_keys[i], o->suites[i]) < 0)
				return -EIO;
			c->offer_keys[i].tag = i + 1;
			c->noffer_keys++;
		}
	}
	for (n = 0; n < c->noffer_keys; n++)
		keys_format_crypto(&c->offer_keys[n], !o->no_pad, NULL, crypto[n],
		                   sizeof(crypto[0]));
	rc = sdp_write(c, sdp, len, crypto, n, true, DIR_SENDRECV);
	OPENSSL_cleanse(crypto, sizeof(crypto));
	return rc;
}

static enum sdp_dir answer_dir(enum sdp_dir offered);

/*
 * The offer in a 2xx to our INVITE without SDP: judged like a callee judges one; media
 * goes to its address with its key and ours (kept on a re-INVITE when the suite stays,
 * else fresh); our answer for the ACK is written into sdp. `plain`: answer RTP/AVP
 * without keys and set up nothing (--ack-answer avp, a negative test). NULL, or why the
 * offer cannot be used.
 */
const char *
call_take_offer(struct call *c, const char *body, bool plain, char *sdp, size_t len)
{
	const struct opts *o = c->peer->o;
	struct sdp_info si;
	struct srtp_keys rk, lk;
	char crypto[1][160];
	const char *why = NULL;
	bool avp;
	enum sdp_dir d;

	if (sdp_read(body, &si, &why) < 0)
		return why;
	why = NULL; /* sdp_read() sets it even when it succeeds */
	d = answer_dir(si.dir);
	if (plain) {
		sdp_info_wipe(&si);
		return sdp_write(c, sdp, len, NULL, 0, false, d) < 0 ? "answer too long" : NULL;
	}
	if (uas_judge_offer(o, &si, &rk, &avp, &why) != 0 || avp) {
		sdp_info_wipe(&si);
		if (!why)
			keys_wipe(&rk);
		return why ? why : "plain RTP offered";
	}
	if (media_set_remote(&c->media, si.ip, si.port) < 0 ||
	    media_set_rtcp_mux(&c->media, si.rtcp_mux && !o->no_rtcp_mux) < 0) {
		sdp_info_wipe(&si);
		keys_wipe(&rk);
		return "offer has no usable media address";
	}
	c->media.may_send = d == DIR_SENDRECV || d == DIR_SENDONLY;
	media_set_dtmf(&c->media, o->dtmf >= 0 ? si.te_pt : -1);
	sdp_info_wipe(&si);
	lk = c->media.lkey;
	if ((!c->media.srtp || lk.suite != rk.suite) && keys_generate(&lk, rk.suite) < 0) {
		keys_wipe(&rk);
		return "cannot generate a key";
	}
	lk.tag = rk.tag;
	if (media_set_srtp(&c->media, &lk, &rk) < 0) {
		keys_wipe(&rk);
		keys_wipe(&lk);
		return "cannot set up SRTP for this suite";
	}
	keys_wipe(&rk);
	keys_format_crypto(&lk, !o->no_pad, NULL, crypto[0], sizeof(crypto[0]));
	keys_wipe(&lk);
	if (sdp_write(c, sdp, len, crypto, 1, false, d) < 0)
		why = "answer too long";
	OPENSSL_cleanse(crypto, sizeof(crypto));
	return why;
}

/* ACK with the answer to the offer in our 2xx (c->late): apply it. False when it is
 * unusable: the reason is kept and the call waits for the BYE the other side owes (the
 * result then fails with that reason, ended by the remote side). */
static bool
late_ack(struct call *c, osip_message_t *m)
{
	const char *body, *why;

	c->late = false;
	call_body(m, &body);
	why = body ? uac_apply_answer(c, body) : "ACK without an answer to our offer";
	media_expect_rekey(&c->media, false);
	if (why) {
		snprintf(c->res.why, sizeof(c->res.why), "%s", why);
		return false;
	}
	return true;
}

static void
refuse_reoffer(struct call *c, struct sipconn *conn, osip_message_t *m, const char *why)
{
	char warn[256];

	snprintf(warn, sizeof(warn), "Warning: 399 swpeer \"%s\"\r\n", why);
	sip_respond(conn, m, 488, NULL, c->local_tag, warn, NULL, NULL);
}

/*
 * A re-INVITE arrived in a running call (either role): follow its direction and address,
 * accept new keys of a usable suite, and refuse (488, call kept) anything that would
 * weaken the media protection, e.g. plain RTP on an SRTP call.
 */
void
call_handle_reoffer(struct call *c, struct sipconn *conn, osip_message_t *m)
{
	struct sdp_info si;
	struct srtp_keys rk, lk;
	char crypto[1][160], sdp[2048], hdr[256], contact[160];
	const char *body, *why = NULL;
	bool have = false;
	enum sdp_dir d;

	if (c->state != CS_CONFIRMED || c->media.fd < 0) {
		sip_respond(conn, m, 491, "Request Pending", c->local_tag, NULL, NULL, NULL);
		return;
	}
	call_body(m, &body);
	if (!body) {
		/* a late offer: ours in the 200 (our key, which stays), the answer in the ACK */
		if (call_late_offer(c, sdp, sizeof(sdp)) < 0) {
			sip_respond(conn, m, 500, NULL, c->local_tag, NULL, NULL, NULL);
			return;
		}
		media_expect_rekey(&c->media, true); /* the answer may carry a new key */
		c->late = true;
		snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n",
		         call_contact(c, contact, sizeof(contact)));
		sip_respond(conn, m, 200, NULL, c->local_tag, hdr, "application/sdp", sdp);
		OPENSSL_cleanse(sdp, sizeof(sdp));
		c->holds++;
		return;
	}
	if (sdp_read(body, &si, &why) < 0) {
		refuse_reoffer(c, conn, m, why);
		return;
	}
	if (c->media.srtp) {
		if (!si.savp) {
			sdp_info_wipe(&si);
			refuse_reoffer(c, conn, m, "re-INVITE would weaken media protection");
			return;
		}
		for (unsigned i = 0; i < si.ncrypto && !have; i++)
			have = keys_parse_crypto(si.crypto[i], &rk, &why) == 0;
		if (!have) {
			sdp_info_wipe(&si);
			refuse_reoffer(c, conn, m, why ? why : "no acceptable a=crypto");
			return;
		}
		lk = c->media.lkey;
		if (rk.suite != lk.suite && keys_generate(&lk, rk.suite) < 0) {
			keys_wipe(&rk);
			sdp_info_wipe(&si);
			sip_respond(conn, m, 500, NULL, c->local_tag, NULL, NULL, NULL);
			return;
		}
		lk.tag = rk.tag;
		if (!keys_same(&rk, &c->media.rkey) || rk.tag != c->media.rkey.tag ||
		    !keys_same(&lk, &c->media.lkey) || lk.tag != c->media.lkey.tag) {
			if (media_set_srtp(&c->media, &lk, &rk) < 0) {
				keys_wipe(&rk);
				keys_wipe(&lk);
				sdp_info_wipe(&si);
				refuse_reoffer(c, conn, m, "could not set up SRTP");
				return;
			}
		}
		keys_wipe(&rk);
		keys_format_crypto(&lk, !c->peer->o->no_pad, NULL, crypto[0], sizeof(crypto[0]));
		keys_wipe(&lk);
	}
	if (si.port && media_set_remote(&c->media, si.ip, si.port) < 0) {
		sdp_info_wipe(&si);
		refuse_reoffer(c, conn, m, "bad media address");
		return;
	}
	d = answer_dir(si.dir);
	c->media.may_send = d == DIR_SENDRECV || d == DIR_SENDONLY;
	media_set_dtmf(&c->media, c->peer->o->dtmf >= 0 ? si.te_pt : -1);
	sdp_info_wipe(&si);
	sdp_write(c, sdp, sizeof(sdp), crypto, c->media.srtp ? 1 : 0, false, d);
	OPENSSL_cleanse(crypto, sizeof(crypto));
	snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", call_contact(c, contact, sizeof(contact)));
	sip_respond(conn, m, 200, NULL, c->local_tag, hdr, "application/sdp", sdp);
	OPENSSL_cleanse(sdp, sizeof(sdp));
	c->holds++;
}

static void
answer_options(struct sipconn *conn, osip_message_t *m)
{
	sip_respond(conn, m, 200, NULL, NULL,
	            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nAccept: application/sdp\r\n", NULL,
	            NULL);
}

static void
on_request(struct sipconn *conn, osip_message_t *m)
{
	struct peer *p = conn->peer;
	const char *method = m->sip_method;
	char *cid = NULL;
	struct call *c;

	if (osip_call_id_to_str(m->call_id, &cid) != 0)
		return;
	c = call_find(p, cid);
	osip_free(cid);
	if (strcmp(method, "OPTIONS") == 0) {
		answer_options(conn, m);
	} else if (strcmp(method, "INVITE") == 0) {
		if (c && sip_to_tag(m))
			call_handle_reoffer(c, conn, m);
		else if (c)
			; /* retransmission over a stream: nothing to do */
		else if (sip_to_tag(m))
			sip_respond(conn, m, 481, NULL, NULL, NULL, NULL, NULL);
		else if (p->o->role == ROLE_CALLER)
			sip_respond(conn, m, 403, "swpeer caller takes no calls", "x", NULL, NULL,
			            NULL);
		else if (p->stopping)
			sip_respond(conn, m, 503, "swpeer is stopping", "x", NULL, NULL, NULL);
		else
			uas_on_invite(conn, m);
	} else if (strcmp(method, "ACK") == 0) {
		if (c && c->late && c->state == CS_CONFIRMED) /* re-INVITE: answer in the ACK */
			late_ack(c, m);
		else if (c && c->role == ROLE_CALLEE && (!c->late || late_ack(c, m)))
			uas_on_ack(c, m);
	} else if (strcmp(method, "CANCEL") == 0) {
		uas_on_cancel(conn, m);
	} else if (strcmp(method, "PRACK") == 0) {
		if (!c || c->role != ROLE_CALLEE) {
			sip_respond(conn, m, 481, NULL, NULL, NULL, NULL, NULL);
			return;
		}
		sip_respond(conn, m, 200, NULL, NULL, NULL, NULL, NULL);
		c->pracked = true; /* the 200 OK may go (uas_answer_cb) */
	} else if (strcmp(method, "BYE") == 0) {
		if (!c) {
			sip_respond(conn, m, 481, NULL, NULL, NULL, NULL, NULL);
			return;
		}
		sip_respond(conn, m, 200, NULL, NULL, NULL, NULL, NULL);
		c->bye_by_remote = true;
		if (!c->bye_sent)
			c->res.ended_by = 'r';
		if (c->role == ROLE_CALLER && c->res.code == 0)
			c->res.code = 200;
		{
			char why[sizeof(c->res.why)]; /* a failure noted before the BYE */
			snprintf(why, sizeof(why), "%s", c->res.why);
			call_finish(c, why[0] ? why : NULL);
		}
	} else if (c && strcmp(method, "UPDATE") == 0) {
		/* a re-offer as a re-INVITE's (no ACK follows); without SDP a refresh */
		const char *ub;
		if (call_body(m, &ub) > 0)
			call_handle_reoffer(c, conn, m);
		else
			sip_respond(conn, m, 200, NULL, c->local_tag, NULL, NULL, NULL);
	} else if (c && (strcmp(method, "REFER") == 0 || strcmp(method, "NOTIFY") == 0)) {
		refer_on_request(c, conn, m);
	} else {
		sip_respond(conn, m, 501, NULL, "x", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n",
		            NULL, NULL);
	}
}

/* Entry point for every parsed message from a connection (sip.c). Does not free `m`. */
void
call_on_message(struct sipconn *conn, osip_message_t *m)
{
	char *cid = NULL;
	struct call *c;

	if (MSG_IS_REQUEST(m)) {
		if (m->sip_method)
			on_request(conn, m);
		return;
	}
	if (osip_call_id_to_str(m->call_id, &cid) != 0)
		return;
	c = call_find(conn->peer, cid);
	osip_free(cid);
	if (c && !refer_on_response(c, m))
		uac_on_response(c, m);
}
