/*
 * b2bua_timer.c: session timers (RFC 4028), per leg. sipwarden is a UA of its own on each
 * leg, so each leg negotiates its own Session-Expires and refresher, keeps its own clock
 * and is refreshed on its own: a refresh from one peer is answered here and never crosses
 * to the other leg (a B2BUA that relays refreshes would tie both peers' timers together).
 * A refresh whose offer changed (a new o= version) does cross, keeping the keys on both
 * legs when its side kept its crypto (b2bua_relay.c); the 2xx to it, re-INVITE or UPDATE,
 * carries this leg's Session-Expires like any other (stimer_2xx). As the refresher,
 * sipwarden sends an UPDATE without SDP every half interval, or, when the peer's Allow
 * does not list UPDATE, a re-INVITE with the very SDP (and keys) it last sent on that leg.
 * A peer's UPDATE without SDP, and a re-INVITE whose SDP keeps the session version of the
 * last one (RFC 3264 s8: nothing changed), are answered here with the same SDP as before:
 * refreshes never re-key. A leg whose session expires (the peer refreshes and did not by
 * SE - min(32, SE/3); we refresh and no refresh of ours succeeded within SE) ends the call
 * with BYE on both legs, call.end reason "session_expired"; a refresh of ours answered
 * 408 or 481 (RFC 4028 s10, RFC 5057: the dialog is gone) ends it at once with reason
 * "refresh_failed". While our refresh re-INVITE (an offer) waits for its answer on a leg,
 * a re-INVITE or an UPDATE with an offer that would meet it there, from that leg's peer or
 * relayed from the other leg, is answered 491 (glare, RFC 3261 s14.2, RFC 3311 s5.2).
 * One timer per leg does both jobs (refresh, expiry). Not responsible
 * for the requests that do cross (b2bua_relay.c); it only learns from their 2xx.
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "log.h"
#include "monotime.h"
#include "sip_util.h"

#define SE_MAX 86400u /* we arm no timer longer than a day (larger values are kept at that) */

/*
 * struct stimer_leg: one leg's session timer.
 * Owner: struct stimer (c->st); freed by stimer_free(). `sdp` holds our key: wiped.
 */
struct stimer_leg {
	struct call *c;
	int legi;
	unsigned interval;    /* s; 0: no timer on this leg */
	bool we_refresh;      /* sipwarden is the refresher */
	bool peer_update;     /* the peer's Allow lists UPDATE */
	int64_t refresh_ms;   /* monotonic: our next refresh (we_refresh) */
	int64_t expiry_ms;    /* monotonic: the session ends here without a refresh */
	osip_message_t *sent; /* our refresh in flight, or NULL */
	uint64_t sent_conn;   /* the connection it left on */
	char *sdp;            /* the SDP we last sent on this leg (re-INVITE refreshes) */
	bool sdp_offer;       /* it was an offer (keys in the leg's offered[]), else an answer */
	struct event *ev;
};

/* Owner: struct call (c->st); freed by stimer_free(). */
struct stimer {
	struct stimer_leg leg[2];
	unsigned b_min; /* leg B's peer answered 422 with this Min-SE: ask for it, 0 none */
	bool b_retried; /* that retry is spent (one per call) */
};

/* ---- header parsing (peer bytes: strict) --------------------------------------------- */

static const char *
header2(const osip_message_t *m, const char *name, const char *compact)
{
	const char *v = sip_util_header(m, name);

	return v != NULL || compact == NULL ? v : sip_util_header(m, compact);
}

/* delta-seconds *(;param): 0 and *secs (1..999999999), *refresher 'c'/'s'/0; -EINVAL. */
static int
parse_delta(const char *v, unsigned *secs, char *refresher)
{
	unsigned long n = 0;
	size_t digits = 0;

	*refresher = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v >= '0' && *v <= '9'; v++) {
		if (++digits > 9)
			return -EINVAL;
		n = n * 10 + (unsigned long)(*v - '0');
	}
	if (digits == 0 || n == 0)
		return -EINVAL;
	while (*v == ' ' || *v == '\t')
		v++;
	while (*v == ';') {
		const char *p = v + 1, *e;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ";");
		if ((size_t)(e - p) >= 10 && strncasecmp(p, "refresher=", 10) == 0) {
			const char *r = p + 10;
			size_t rl = (size_t)(e - r);
			while (rl > 0 && (r[rl - 1] == ' ' || r[rl - 1] == '\t'))
				rl--;
			if (rl != 3 || strncasecmp(r, "ua", 2) != 0 ||
			    (r[2] != 'c' && r[2] != 'C' && r[2] != 's' && r[2] != 'S'))
				return -EINVAL;
			*refresher = (r[2] == 'c' || r[2] == 'C') ? 'c' : 's';
		}
		v = e;
	}
	if (*v != '\0')
		return -EINVAL;
	*secs = (unsigned)n;
	return 0;
}

/* Does the comma-separated list `v` hold `token` (case-insensitive)? */
static bool
token_in(const char *v, const char *token)
{
	size_t tl = strlen(token);

	while (v != NULL && *v != '\0') {
		size_t n;
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == tl && strncasecmp(v, token, tl) == 0)
			return true;
		v += n;
	}
	return false;
}

/* Does the peer's Allow (libosip2 keeps it in its own list) name UPDATE? */
static bool
allows_update(const osip_message_t *m)
{
	osip_allow_t *a = NULL;

	for (int pos = 0; osip_message_get_allow(m, pos, &a) >= 0 && a != NULL; pos++)
		if (token_in(a->value, "UPDATE"))
			return true;
	return false;
}

/* Does a comma-separated token header (every instance of it) list `token`? */
static bool
lists(const osip_message_t *m, const char *name, const char *compact, const char *token)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *hn = pass == 0 ? name : compact;
		osip_header_t *h = NULL;
		if (hn == NULL)
			continue;
		for (int pos = 0; (pos = osip_message_header_get_byname(m, hn, pos, &h)) >= 0;
		     pos++) {
			if (h != NULL && token_in(h->hvalue, token))
				return true;
		}
	}
	return false;
}

/* Session-Expires of `m`: 1 with *se and *refresher, 0 absent, -EINVAL malformed. */
static int
session_expires(const osip_message_t *m, unsigned *se, char *refresher)
{
	const char *v = header2(m, "session-expires", "x");

	if (v == NULL)
		return 0;
	return parse_delta(v, se, refresher) == 0 ? 1 : -EINVAL;
}

/* Min-SE of `m`, or 0 when absent or malformed. */
static unsigned
min_se(const osip_message_t *m)
{
	const char *v = header2(m, "min-se", NULL);
	unsigned n;
	char r;

	return v != NULL && parse_delta(v, &n, &r) == 0 ? n : 0;
}

/* ---- state -------------------------------------------------------------------- */

static void timer_cb(evutil_socket_t fd, short what, void *arg);

static struct stimer_leg *
leg_get(struct call *c, int legi)
{
	if (c->st == NULL) {
		if ((c->st = calloc(1, sizeof(*c->st))) == NULL)
			return NULL;
		for (int i = 0; i < 2; i++) {
			c->st->leg[i].c = c;
			c->st->leg[i].legi = i;
		}
	}
	return &c->st->leg[legi];
}

static void
sent_clear(struct stimer_leg *s)
{
	osip_body_t *body = NULL;

	if (s->sent == NULL)
		return;
	if (osip_message_get_body(s->sent, 0, &body) >= 0 && body != NULL && body->body != NULL)
		OPENSSL_cleanse(body->body, body->length);
	if (s->sent->message != NULL)
		OPENSSL_cleanse(s->sent->message, s->sent->message_length);
	osip_message_free(s->sent);
	s->sent = NULL;
}

static void
sdp_clear(struct stimer_leg *s)
{
	if (s->sdp != NULL) {
		OPENSSL_cleanse(s->sdp, strlen(s->sdp));
		free(s->sdp);
		s->sdp = NULL;
	}
}

void
stimer_free(struct call *c)
{
	if (c->st == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		struct stimer_leg *s = &c->st->leg[i];
		if (s->ev != NULL)
			event_free(s->ev);
		sent_clear(s);
		sdp_clear(s);
	}
	free(c->st);
	c->st = NULL;
}

static void
arm(struct stimer_leg *s)
{
	int64_t at = s->expiry_ms, left;
	struct timeval tv;

	if (s->interval == 0)
		return;
	if (s->ev == NULL && (s->ev = evtimer_new(s->c->b->base, timer_cb, s)) == NULL)
		return;
	if (s->we_refresh && s->refresh_ms < at)
		at = s->refresh_ms;
	left = at - monotime_ms();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	evtimer_add(s->ev, &tv);
}

/* The session on leg `s` was refreshed now, for `interval` s, `we_refresh` or the peer. */
static void
refreshed(struct stimer_leg *s, unsigned interval, bool we_refresh)
{
	int64_t now = monotime_ms(), ms;
	unsigned guard;

	if (interval > SE_MAX)
		interval = SE_MAX;
	s->interval = interval;
	s->we_refresh = we_refresh;
	if (interval == 0) {
		if (s->ev != NULL)
			evtimer_del(s->ev);
		return;
	}
	ms = (int64_t)interval * 1000;
	s->refresh_ms = now + ms / 2;
	/* the refresher has the whole interval; the other side ends it a little before
	 * (RFC 4028 s10: SE - min(32, SE/3)) */
	guard = interval / 3 < 32 ? interval / 3 : 32;
	s->expiry_ms = now + (we_refresh ? ms : ms - (int64_t)guard * 1000);
	arm(s);
}

/* ---- the door ----------------------------------------------------------------- */

bool
stimer_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req)
{
	unsigned se = 0, min = b->conf->sip.min_session_expires_s;
	osip_message_t *resp = NULL;
	char r, buf[16];
	int has = session_expires(req, &se, &r);

	if (has < 0) {
		b2bua_reply(b, conn, req, 400, NULL, "malformed Session-Expires", NULL);
		return true;
	}
	if (has == 0 || se >= min)
		return false;
	/* RFC 4028 s8.1: too small: 422 with our minimum */
	if (b2bua_response(b, req, 422, NULL, NULL, NULL, &resp) != 0)
		return true;
	snprintf(buf, sizeof(buf), "%u", min);
	sip_util_add_header(resp, "Min-SE", buf);
	b2bua_send(b, conn, resp);
	osip_message_free(resp);
	log_info("INVITE refused with 422: Session-Expires %u below %u", se, min);
	return true;
}

/* ---- leg headers ---------------------------------------------------------------- */

static void
add_se(osip_message_t *m, unsigned interval, char refresher)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%u;refresher=ua%c", interval, refresher);
	sip_util_add_header(m, "Session-Expires", buf);
}

int
stimer_invite_headers(struct call *c, osip_message_t *inv)
{
	const struct conf_sip *sc = &c->conf->sip;
	unsigned b_min = c->st != NULL ? c->st->b_min : 0;
	unsigned se = sc->session_expires_s > b_min ? sc->session_expires_s : b_min;
	unsigned min = sc->min_session_expires_s > b_min ? sc->min_session_expires_s : b_min;
	char buf[16];
	int rc;

	if (se == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%u", min);
	if ((rc = sip_util_add_header(inv, "Supported", "timer")) != 0 ||
	    (rc = sip_util_add_header(inv, "Min-SE", buf)) != 0)
		return rc;
	snprintf(buf, sizeof(buf), "%u", se);
	return sip_util_add_header(inv, "Session-Expires", buf); /* the UAS picks the refresher */
}

bool
stimer_retry_422(struct call *c, const osip_message_t *resp)
{
	unsigned min = min_se(resp);

	/* RFC 4028 s7.4 (bis): once per call, and only for a larger interval than we asked
	 * for (a 422 that asks for nothing new would only loop) */
	if (leg_get(c, 1) == NULL || c->st->b_retried || min == 0 || min > SE_MAX ||
	    min <= (c->conf->sip.session_expires_s > c->st->b_min ? c->conf->sip.session_expires_s
	                                                          : c->st->b_min))
		return false;
	c->st->b_retried = true;
	c->st->b_min = min;
	log_info("call %s: leg B wants Session-Expires of at least %u s: asking again", c->id, min);
	return true;
}

void
stimer_2xx(struct call *c, int legi, const osip_message_t *req, osip_message_t *resp,
           const char *sdp)
{
	const struct conf_sip *sc = &c->conf->sip;
	struct stimer_leg *s = leg_get(c, legi);
	unsigned se = 0, interval = 0;
	char r = 0, refresher = 's';
	int has;

	if (s == NULL)
		return;
	if (sdp != NULL) {
		osip_body_t *body = NULL;
		sdp_clear(s);
		s->sdp = strdup(sdp);
		/* an offer when the request had none (a late offer), else our answer */
		s->sdp_offer = osip_message_get_body(req, 0, &body) < 0 || body == NULL ||
		               body->body == NULL;
	}
	s->peer_update = allows_update(req);
	has = session_expires(req, &se, &r);
	if (has == 1) {
		/* RFC 4028 s9: keep the interval asked for (the door made it >= our minimum;
		 * a refresh may ask less: never below our minimum); the refresher asked for,
		 * else the UAC when it supports timers */
		interval = se < sc->min_session_expires_s ? sc->min_session_expires_s : se;
		refresher = r != 0 ? r : lists(req, "supported", "k", "timer") ? 'c' : 's';
	} else if (sc->session_expires_s != 0) {
		/* the caller asked for nothing: our default, and we refresh (s7.1 of a UAS
		 * that wants timers the UAC does not know) */
		unsigned their_min = min_se(req);
		interval = their_min > sc->session_expires_s ? their_min : sc->session_expires_s;
		refresher = 's';
	}
	if (interval == 0) {
		refreshed(s, 0, false);
		return;
	}
	add_se(resp, interval, refresher);
	if (refresher == 'c')
		sip_util_add_header(resp, "Require", "timer");
	refreshed(s, interval, refresher == 's');
}

void
stimer_leg_2xx(struct call *c, int legi, const osip_message_t *resp, const char *our_sdp)
{
	const struct conf_sip *sc = &c->conf->sip;
	struct stimer_leg *s = leg_get(c, legi);
	unsigned se = 0;
	char r = 0;

	if (s == NULL)
		return;
	if (our_sdp != NULL) {
		sdp_clear(s);
		s->sdp = strdup(our_sdp);
		s->sdp_offer = true;
	}
	s->peer_update = allows_update(resp);
	if (session_expires(resp, &se, &r) == 1) {
		/* the UAS's choice; a refresher it did not name is us (s7.2) */
		refreshed(s, se < sc->min_session_expires_s ? sc->min_session_expires_s : se,
		          r != 's');
		return;
	}
	/* the peer does not do timers: we refresh with the interval we asked for, so that
	 * a peer whose signalling died is noticed */
	refreshed(s, sc->session_expires_s, true);
}

void
stimer_relayed(struct call *c, int legi, const char *sdp)
{
	osip_body_t *body = NULL;
	struct stimer_leg *in, *out;

	if (c->st == NULL)
		return;
	in = &c->st->leg[legi];
	out = &c->st->leg[1 - legi];
	if (sdp != NULL) {
		sdp_clear(in);
		in->sdp = strdup(sdp);
		in->sdp_offer = false;
	}
	if (c->pend.sent != NULL && osip_message_get_body(c->pend.sent, 0, &body) >= 0 &&
	    body != NULL && body->body != NULL) {
		sdp_clear(out);
		if ((out->sdp = malloc(body->length + 1)) != NULL) {
			memcpy(out->sdp, body->body, body->length);
			out->sdp[body->length] = '\0';
		}
		out->sdp_offer = true;
	}
	/* a 2xx to an UPDATE or re-INVITE refreshes the session (RFC 4028 s7.4), on both
	 * legs here: the request crossed and was answered (our 2xx to it on leg `legi`
	 * refreshes that leg and carries its timer headers: stimer_2xx()) */
	if (out->interval != 0)
		refreshed(out, out->interval, out->we_refresh);
}

/* ---- our refreshes -------------------------------------------------------------------- */

static void
expire(struct stimer_leg *s, const char *reason)
{
	struct call *c = s->c;

	log_info("call %s: session on leg %c %s, ending the call", c->id, s->legi == 0 ? 'A' : 'B',
	         strcmp(reason, "refresh_failed") == 0 ? "refresh failed" : "expired");
	call_end(c, strcmp(reason, "refresh_failed") == 0 ? "failed" : "timeout", "sipwarden",
	         reason, 0);
}

static int
send_refresh(struct stimer_leg *s)
{
	struct call *c = s->c;
	struct call_leg *l = &c->leg[s->legi];
	bool update = s->peer_update || s->sdp == NULL;
	osip_message_t *m = NULL;
	int rc;

	if (l->dlg == NULL || !l->dlg->confirmed || l->conn == 0)
		return -ENOTCONN;
	if ((rc = sip_dialog_request(l->dlg, update ? "UPDATE" : "INVITE", c->b->sentby, &m)) != 0)
		return rc;
	add_se(m, s->interval, 'c');
	sip_util_add_header(m, "Supported", "timer");
	sip_util_add_header(m, "Allow", SIP_SERVER_ALLOW);
	if (!update) {
		osip_message_set_content_type(m, "application/sdp");
		osip_message_set_body(m, s->sdp, strlen(s->sdp)); /* same SDP, same keys */
	}
	if ((rc = b2bua_send(c->b, l->conn, m)) != 0) {
		osip_message_free(m);
		return rc;
	}
	sent_clear(s);
	s->sent = m;
	s->sent_conn = l->conn;
	log_debug("call %s: session refresh (%s) on leg %c", c->id, update ? "UPDATE" : "re-INVITE",
	          s->legi == 0 ? 'A' : 'B');
	return 0;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stimer_leg *s = arg;
	struct call *c = s->c;
	int64_t now = monotime_ms();

	if (c->state == CALL_ENDED)
		return;
	if (now >= s->expiry_ms) {
		expire(s, "session_expired");
		return;
	}
	if (s->we_refresh && now >= s->refresh_ms) {
		/* one request at a time on a dialog: a relayed one or a late offer in progress
		 * is the refresh's turn too; try again half-way to the expiry */
		if (s->sent != NULL || c->pend.req != NULL || c->late != NULL ||
		    c->state != CALL_ANSWERED || send_refresh(s) != 0)
			s->refresh_ms = now + (s->expiry_ms - now) / 2;
		else
			s->refresh_ms = s->expiry_ms; /* the answer re-arms */
	}
	arm(s);
}

bool
stimer_response(struct call *c, int legi, uint64_t conn, osip_message_t *resp)
{
	struct stimer_leg *s = c->st != NULL ? &c->st->leg[legi] : NULL;
	int code = resp->status_code;

	if (s == NULL || s->sent == NULL ||
	    strcmp(resp->cseq->number, s->sent->cseq->number) != 0 ||
	    strcmp(resp->cseq->method, s->sent->sip_method) != 0)
		return false;
	if (conn != s->sent_conn || !sip_util_response_matches(s->sent, resp)) {
		b2bua_forged_response(c->b, c, conn, "not our session refresh");
		return true;
	}
	if (code < 200)
		return true;
	if (MSG_IS_INVITE(s->sent) && code < 300) {
		osip_message_t *ack = NULL;
		if (sip_dialog_request(c->leg[legi].dlg, "ACK", c->b->sentby, &ack) == 0)
			b2bua_send(c->b, c->leg[legi].conn, ack);
		osip_message_free(ack);
	}
	if (code == 408 || code == 481) {
		sent_clear(s);
		expire(s, "refresh_failed");
		return true;
	}
	if (code >= 300) {
		/* e.g. 491 or 500: the session lives on; try again half-way to the expiry */
		int64_t now = monotime_ms();
		log_info("call %s: session refresh on leg %c answered %d", c->id,
		         legi == 0 ? 'A' : 'B', code);
		sent_clear(s);
		s->refresh_ms = now + (s->expiry_ms - now) / 2;
		arm(s);
		return true;
	}
	if (MSG_IS_INVITE(s->sent)) {
		/* the answer to our unchanged offer: policed as any answer; our key stays */
		struct call_leg *l = &c->leg[legi];
		struct sdp_policy pol = leg_policy(c, legi);
		struct sdp_desc *answer = NULL;
		struct sdp_verdict v;
		osip_body_t *body = NULL;
		const char *why = NULL;

		/* an offer of ours repeated: any of its keys may be chosen (read again from its
		 * text: the first answer dropped them); our answer repeated as an offer: its
		 * one key (tx) */
		if (s->sdp_offer && leg_offer_from_text(l, s->sdp) != 0) {
			log_warnx("call %s: our repeated offer on leg %c unreadable", c->id,
			          legi == 0 ? 'A' : 'B');
			sent_clear(s);
			call_end(c, "failed", "sipwarden", "internal", 0);
			return true;
		}
		const struct srtp_keys *keys = s->sdp_offer ? l->offered : &l->tx;
		size_t nkeys = s->sdp_offer ? l->noffered : 1;

		osip_message_get_body(resp, 0, &body);
		if (body == NULL || body->body == NULL ||
		    sdp_parse(&answer, body->body, body->length, &why) != 0 ||
		    sdp_check_answer(answer, &pol, keys, nkeys, &v) != 0) {
			sdp_desc_free(answer);
			sent_clear(s);
			telemetry_security(c->b->tel, TELEMETRY_SEC_OFFER_REFUSED, c->id,
			                   (const struct sockaddr *)&l->peer_addr, "refresh_answer",
			                   "the answer to a session refresh is not acceptable", 0);
			call_end(c, "failed", "sipwarden", "answer_refused", 0);
			return true;
		}
		if (s->sdp_offer) {
			leg_set_answer(c, legi, answer, &v, true); /* tx: the offered key chosen */
		} else {
			sdp_desc_free(l->remote_sdp);
			l->remote_sdp = answer;
			l->verdict = sdp_choice_of(&v);
		}
		media_apply_leg(c, legi);
	}
	{
		unsigned se = 0;
		char r = 0;
		bool ours = true;
		unsigned interval = s->interval;
		if (session_expires(resp, &se, &r) == 1) {
			interval = se < c->conf->sip.min_session_expires_s
			                   ? c->conf->sip.min_session_expires_s
			                   : se;
			ours = r != 's';
		}
		sent_clear(s);
		refreshed(s, interval, ours);
	}
	return true;
}

/* ---- the peer's refreshes --------------------------------------------------------------- */

/* Does the SDP of `req` keep the session version of the leg's last remote SDP? */
static bool
same_session(const struct call_leg *l, const osip_message_t *req)
{
	osip_body_t *body = NULL;
	struct sdp_desc *d = NULL;
	const char *why;
	bool same;

	if (l->remote_sdp == NULL || osip_message_get_body(req, 0, &body) < 0 || body == NULL ||
	    body->body == NULL || sdp_parse(&d, body->body, body->length, &why) != 0)
		return false;
	same = strcmp(d->origin_id, l->remote_sdp->origin_id) == 0 &&
	       strcmp(d->origin_version, l->remote_sdp->origin_version) == 0 &&
	       strcmp(d->origin_user, l->remote_sdp->origin_user) == 0;
	sdp_desc_free(d);
	return same;
}

bool
stimer_glare(const struct call *c, int legi)
{
	const struct stimer_leg *s = c->st != NULL ? &c->st->leg[legi] : NULL;

	return s != NULL && s->sent != NULL && MSG_IS_INVITE(s->sent);
}

bool
stimer_request(struct call *c, int legi, osip_message_t *req)
{
	struct call_leg *l = &c->leg[legi];
	struct stimer_leg *s;
	osip_body_t *body = NULL;
	osip_message_t *resp = NULL;
	bool nobody;

	if (c->state != CALL_ANSWERED || c->late != NULL)
		return false;
	nobody = osip_message_get_body(req, 0, &body) < 0 || body == NULL || body->body == NULL;
	if (stimer_glare(c, legi) && (MSG_IS_INVITE(req) || (MSG_IS_UPDATE(req) && !nobody))) {
		/* glare with our refresh re-INVITE (an offer) on this leg: RFC 3261 s14.2 for
		 * a re-INVITE, RFC 3311 s5.2 for an UPDATE with an offer; the peer tries
		 * again after our refresh */
		b2bua_reply(c->b, l->conn, req, 491, l->dlg->local_tag, NULL, NULL);
		osip_message_free(req);
		return true;
	}
	if (MSG_IS_UPDATE(req) && nobody) {
		/* a refresh (or a keep-alive) without an offer: answered here, nothing crosses */
		if ((s = leg_get(c, legi)) == NULL ||
		    b2bua_response(c->b, req, 200, l->dlg->local_tag, NULL, NULL, &resp) != 0) {
			b2bua_reply(c->b, l->conn, req, 500, l->dlg->local_tag, NULL, NULL);
			osip_message_free(req);
			return true;
		}
		sip_util_add_header(resp, "Supported", "timer");
		stimer_2xx(c, legi, req, resp, NULL);
		b2bua_send(c->b, l->conn, resp);
		osip_message_free(resp);
		osip_message_free(req);
		return true;
	}
	if (MSG_IS_INVITE(req) && !nobody && c->st != NULL && c->st->leg[legi].sdp != NULL &&
	    !c->st->leg[legi].sdp_offer && c->st->leg[legi].sent == NULL && c->pend.req == NULL &&
	    same_session(l, req)) {
		/* RFC 3264 s8: an unchanged offer; our answer is the SDP we last sent here,
		 * with the same keys (ok2xx_reply() adds the timer headers, stimer_2xx()).
		 * When what we last sent here was an offer (several keys to choose from), the
		 * re-INVITE is relayed as any other. */
		char *sdp = strdup(c->st->leg[legi].sdp);
		if (sdp == NULL)
			return false;
		ok2xx_reply(c, legi, req, 200, sdp);
		OPENSSL_cleanse(sdp, strlen(sdp));
		free(sdp);
		osip_message_free(req);
		return true;
	}
	return false;
}
