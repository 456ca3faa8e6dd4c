/*
 * b2bua_bridge.c: transfer = bridge, sipwarden's own call to the person an agent hands
 * the caller to (issue 10 item 1, bridge mode).
 *
 * b2bua_transfer.c admits the agent's REFER (allow-list, trunk mode) and calls
 * bridge_start(). From there this file places a new call to the destination's `target`
 * through a trunk's target (the destination's `trunk`, else the call's own): a new
 * dialog, TLS, an SDP offer written from scratch with fresh keys of its own on a third
 * media leg (media_leg_add), the formats the call already negotiated, and the caller's
 * identity (the user part and display name of the trunk's INVITE, checked against their
 * grammar again before they are written). The agent keeps the caller meanwhile and hears
 * of the progress by NOTIFY (b2bua_transfer.c's xfer_notify).
 *
 * On a 2xx whose answer passes the same SRTP policy as any other, the new leg takes the
 * agent's place in the call (struct call_leg swapped, flagged `human`), the media relay
 * pairs the caller's leg with the new one (media_call_pair: the caller's keys do not
 * change), the agent gets NOTIFY 200 and a BYE, and the call goes on as before:
 * re-INVITEs, session timers and BYE from either side work on the new leg. A final
 * status >= 300, no answer within [sip] transaction_timeout (CANCEL), a 2xx that cannot
 * be used or whose answer is refused (ACK + BYE), or a trunk that cannot be reached (or
 * whose connection closes while it rings: 503) leaves
 * the caller with the agent, the media untouched, and the agent gets a final NOTIFY with
 * that status. The call ending while it rings cancels it. call.transfer records each
 * attempt (mode "bridge"); call.end gets the new leg as "human" (bridge_legs()).
 *
 * Owns struct bridge (c->bridge): the leg being called (or, after the move, the agent's
 * old leg, kept for the answers to our NOTIFY and BYE and for call.end). Not responsible
 * for admitting the REFER, the media engine, or ending the call (b2bua_call.c).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "log.h"
#include "sip_grammar.h"
#include "sip_server.h"
#include "sip_util.h"

#define BRIDGE_DISPLAY_MAX 128 /* longest display name presented to the person called */

enum bridge_state {
	BRIDGE_RINGING, /* our INVITE awaits its final response */
	BRIDGE_MOVED,   /* answered: the caller talks to the person called */
	BRIDGE_OVER,    /* failed or cut short: the caller stayed with the agent */
};

/*
 * struct bridge: one bridge transfer. Owner: struct call (c->bridge); freed by
 * bridge_free(). `leg` is the called party's leg until the move, then the agent's.
 */
struct bridge {
	const struct conf_transfer *dest; /* in c->conf, which the call holds */
	int trunk;                        /* the trunk whose target the call goes to */
	enum bridge_state state;
	struct call_leg leg;
	osip_message_t *invite; /* ours to the person called (after the move on leg B: the
	                           INVITE that reached the agent, swapped with c->b_invite) */
	uint16_t ports[2];      /* relay leg C's local RTP and RTCP ports */
	struct timespec t0;
	struct event *timer;
};

static int
agent_leg(const struct call *c)
{
	return 1 - call_trunk_leg(c);
}

static const char *
agent_name(const struct call *c)
{
	return c->agent >= 0 && (size_t)c->agent < c->conf->nagents ? c->conf->agents[c->agent].name
	                                                            : NULL;
}

static void
record(struct call *c, const char *outcome, int code, int64_t answer_ms)
{
	struct telemetry_transfer t = {
	        c->id, agent_name(c), c->bridge->dest->name, "bridge", outcome, code, answer_ms};

	telemetry_call_transfer(c->b->tel, &t);
	log_info("call %s: bridge transfer to %s %s (%d)", c->id, c->bridge->dest->name, outcome,
	         code);
}

static void
send_in_dialog(struct call *c, struct call_leg *l, const char *method)
{
	osip_message_t *m = NULL;

	if (l->dlg != NULL && l->conn != 0 &&
	    sip_dialog_request(l->dlg, method, c->b->sentby, &m) == 0)
		b2bua_send(c->b, l->conn, m);
	osip_message_free(m);
}

static void
cancel_invite(struct call *c)
{
	struct bridge *x = c->bridge;
	osip_message_t *m = NULL;

	if (x->invite != NULL && x->leg.conn != 0 && sip_dialog_cancel(x->invite, &m) == 0)
		b2bua_send(c->b, x->leg.conn, m);
	osip_message_free(m);
}

/* The attempt failed with `code`: the caller stays with the agent, which is told. */
static void
fail(struct call *c, int code, const char *outcome)
{
	struct bridge *x = c->bridge;

	x->state = BRIDGE_OVER;
	if (x->timer != NULL)
		evtimer_del(x->timer);
	media_leg_drop(c->b->media, c->media_id); /* its ports go back to the range */
	xfer_notify(c, &c->leg[agent_leg(c)], code, true);
	record(c, outcome, code, -1);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	(void)fd;
	(void)what;
	if (c->bridge != NULL && c->bridge->state == BRIDGE_RINGING) {
		cancel_invite(c); /* its 487 is ACKed by bridge_response() */
		fail(c, 408, "no_answer");
	}
}

/*
 * The caller's identity as the person called sees it, into *out (osip_free): the trunk
 * party's user part (a call from the trunk: its From; an agent's call out: whom it
 * dialled) at our host, with the From display name when it fits its grammar.
 */
static int
caller_identity(const struct call *c, char **out, char **pai)
{
	const osip_message_t *inv = c->a_invite;
	const osip_from_t *h = c->outbound ? inv->to : inv->from;
	const char *user = h != NULL && h->url != NULL ? h->url->username : NULL;
	const char *dn = !c->outbound && h != NULL ? h->displayname : NULL;
	char *uri = NULL;
	int rc;

	if (user != NULL && sip_grammar_user(user, SIP_GRAMMAR_USER_MAX) != 0)
		user = NULL; /* checked at the door: a bug, not a reason to send it */
	if ((rc = sip_dialog_uri(&uri, user != NULL ? user : "anonymous", c->b->host, NULL,
	                         true)) != 0)
		return rc;
	if (user != NULL && (rc = sip_dialog_uri(pai, user, c->b->host, NULL, true)) != 0) {
		osip_free(uri);
		return rc;
	}
	/* a quoted-string as received, or unquoted text (no quote, backslash or angle
	 * bracket, by its grammar) that we quote; anything else: no display name */
	if (dn != NULL && *dn != '\0' && strlen(dn) <= BRIDGE_DISPLAY_MAX &&
	    sip_grammar_display_name(dn) == 0) {
		bool quoted = dn[0] == '"';
		size_t n = strlen(dn) + strlen(uri) + 4;
		char *s = osip_malloc(n);
		if (s == NULL) {
			osip_free(uri);
			return -ENOMEM;
		}
		snprintf(s, n, "%s%s%s %s", quoted ? "" : "\"", dn, quoted ? "" : "\"", uri);
		osip_free(uri);
		uri = s;
	}
	*out = uri;
	return 0;
}

/* Request-URI and To of the call: the destination's target (ours, checked at load); a
 * tel: URI becomes sip:NUMBER@<trunk target>;user=phone. */
static int
target_uris(const struct bridge *x, const char *hp, char **ruri, char **to)
{
	const char *t = x->dest->target;
	size_t n;

	if (strncasecmp(t, "tel:", 4) == 0) {
		int rc = sip_dialog_uri(ruri, t + 4, hp, ";user=phone", false);
		return rc != 0 ? rc : sip_dialog_uri(to, t + 4, hp, ";user=phone", true);
	}
	n = strlen(t) + 3;
	if ((*ruri = osip_strdup(t)) == NULL || (*to = osip_malloc(n)) == NULL)
		return -ENOMEM;
	snprintf(*to, n, "<%s>", t);
	return 0;
}

/* Build and send our INVITE on x->leg (dialog, offer with fresh keys on relay leg C). */
static int
send_invite(struct call *c, const char *hp)
{
	struct b2bua *b = c->b;
	struct bridge *x = c->bridge;
	const struct conf_trunk *t = &c->conf->trunks[x->trunk];
	struct sdp_local loc = {&x->leg.origin, media_advertise(c), x->ports[0], t->crypto_pad};
	char *ruri = NULL, *to = NULL, *from = NULL, *pai = NULL, *sdp = NULL;
	osip_message_t *inv = NULL;
	struct sdp_verdict bv = sdp_choice_verdict(&c->leg[1].verdict);
	int rc;

	if ((rc = target_uris(x, hp, &ruri, &to)) != 0 ||
	    (rc = caller_identity(c, &from, &pai)) != 0 ||
	    (rc = sip_dialog_new_uac(&x->leg.dlg, ruri, from, to, b->contact, b->host)) != 0)
		goto out;
	/* the formats the call negotiated (leg B's answer, or the trunk's): the caller's
	 * leg keeps its answer, so the person called must pick among them */
	x->leg.origin.version++;
	if ((rc = leg_offer_room(&x->leg, c->conf->media.nsuites)) != 0 ||
	    (rc = sdp_build_offer(&sdp, &loc, c->leg[1].remote_sdp, &bv, c->conf->media.suites,
	                          c->conf->media.nsuites, x->leg.offered, c->conf->media.nsuites,
	                          &x->leg.noffered)) != 0 ||
	    (rc = sip_dialog_request(x->leg.dlg, "INVITE", b->sentby, &inv)) != 0 ||
	    (pai != NULL && (rc = sip_util_add_header(inv, "P-Asserted-Identity", pai)) != 0) ||
	    (rc = sip_util_add_header(inv, "Allow", SIP_SERVER_ALLOW)) != 0)
		goto out;
	osip_message_set_content_type(inv, "application/sdp");
	osip_message_set_body(inv, sdp, strlen(sdp));
	if ((rc = b2bua_send(b, x->leg.conn, inv)) != 0)
		goto out;
	x->invite = inv;
	inv = NULL;
out:
	osip_free(ruri);
	osip_free(to);
	osip_free(from);
	osip_free(pai);
	sdp_text_free(sdp);
	osip_message_free(inv);
	return rc;
}

void
bridge_free(struct call *c)
{
	struct bridge *x = c->bridge;

	if (x == NULL)
		return;
	if (x->timer != NULL)
		event_free(x->timer);
	osip_message_free(x->invite);
	leg_clear(&x->leg); /* out of the Call-ID index, keys wiped */
	free(x);
	c->bridge = NULL;
}

int
bridge_start(struct call *c, const struct conf_transfer *dest)
{
	struct b2bua *b = c->b;
	struct bridge *x = c->bridge;
	int ti = conf_transfer_bridge_trunk(c->conf, dest, c->trunk), al = agent_leg(c);
	char hp[80];

	if (x != NULL && x->state != BRIDGE_OVER)
		return 491; /* one at a time; after a move the agent is gone anyway */
	bridge_free(c);     /* a failed attempt before: this one replaces it */
	if (ti < 0 || c->leg[1].remote_sdp == NULL || c->media_id == 0)
		return 503;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return 500;
	x->dest = dest;
	x->trunk = ti;
	x->leg.human = true;
	x->leg.trunk = true;
	x->leg.peer = ti;
	x->leg.first_packet_ms = -1;
	c->bridge = x;
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	if (sdp_origin_init(&x->leg.origin) != 0 ||
	    media_leg_add(b->media, c->media_id, x->ports) != 0) {
		bridge_free(c);
		return 503; /* no media ports */
	}
	conf_sockaddr_str(&c->conf->trunks[ti].target, hp, sizeof(hp));
	if ((x->leg.conn = out_trunk_conn(b, ti)) == 0 || send_invite(c, hp) != 0) {
		media_leg_drop(b->media, c->media_id);
		x->state = BRIDGE_OVER;
		record(c, "failed", 503, -1);
		bridge_free(c);
		return 503;
	}
	/* responses find the call by the new dialog's Call-ID (bridge_response) */
	strmap_add(b->callids[al], &x->leg.by_callid, x->leg.dlg->call_id,
	           strlen(x->leg.dlg->call_id), c);
	if ((x->timer = evtimer_new(b->base, timeout_cb, c)) != NULL) {
		unsigned ms = c->conf->sip.transaction_timeout_ms;
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
		evtimer_add(x->timer, &tv);
	}
	log_info("call %s: bridge transfer: calling %s through trunk %s", c->id, dest->name,
	         c->conf->trunks[ti].name);
	return 0;
}

/*
 * The person called answered and the answer passed: the new leg takes the agent's place
 * (Call-ID index, ports, relay pairing), the agent is told and hung up on.
 */
static void
move(struct call *c, osip_message_t *resp, struct sdp_desc *answer, const struct sdp_verdict *v)
{
	struct b2bua *b = c->b;
	struct bridge *x = c->bridge;
	int al = agent_leg(c), tl = call_trunk_leg(c);
	struct call_leg tmp;
	osip_body_t *ob = NULL;

	if (c->pend.req != NULL) {
		/* a request relayed across the agent's leg: its answer cannot come back through
		 * the new leg; the caller may send it again (491), the agent's is dropped */
		if (c->pend.from == tl)
			b2bua_reply(b, c->leg[tl].conn, c->pend.req, 491, c->leg[tl].dlg->local_tag,
			            NULL, NULL);
		pend_clear(c);
	}
	strmap_del(&c->leg[al].by_callid);
	strmap_del(&x->leg.by_callid);
	tmp = c->leg[al];
	c->leg[al] = x->leg;
	x->leg = tmp;
	call_leg_index(c, al);
	strmap_add(b->callids[al], &x->leg.by_callid, x->leg.dlg->call_id,
	           strlen(x->leg.dlg->call_id), c);
	c->leg[al].dlg->confirmed = true;
	leg_set_answer(c, al, answer, v, true);
	/* the SDP we write on this leg from now on names the new leg's ports */
	c->ports[al][0] = x->ports[0];
	c->ports[al][1] = x->ports[1];
	x->state = BRIDGE_MOVED;
	if (x->timer != NULL)
		evtimer_del(x->timer);
	if (media_apply_leg(c, al) != 0 ||
	    media_call_pair(b->media, c->media_id, call_mleg(c, tl), MEDIA_LEG_C) != 0) {
		record(c, "failed", 500, -1);
		send_in_dialog(c, &x->leg, "BYE");
		call_end(c, "failed", "sipwarden", "media_setup", 500);
		return;
	}
	osip_message_get_body(x->invite, 0, &ob);
	stimer_leg_2xx(c, al, resp, ob != NULL ? ob->body : NULL);
	if (al == 1) { /* copies of the 2xx are ACKed again as leg B's (agent_on_response) */
		osip_message_t *old = c->b_invite;
		c->b_invite = x->invite;
		x->invite = old;
	}
	if (c->agent_counted) { /* the agent is free for the next caller */
		pool_call_end(b->pool, c->agent);
		c->agent_counted = false;
	}
	xfer_notify(c, &x->leg, 200, true);
	send_in_dialog(c, &x->leg, "BYE");
	record(c, "transferred", 200, ms_since(&x->t0));
}

/* A 2xx to our INVITE: ACK it, police its answer, move the caller or hang up on it. */
static void
answered(struct call *c, osip_message_t *resp)
{
	struct b2bua *b = c->b;
	struct bridge *x = c->bridge;
	struct sdp_policy pol = {c->conf->media.suites, c->conf->media.nsuites, true, false};
	struct sdp_desc *answer = NULL;
	struct sdp_verdict v;
	osip_body_t *body = NULL;
	const char *why = "the answer carries no SDP";

	if (sip_dialog_update_uac(x->leg.dlg, resp) != 0) {
		fail(c, 502, "failed"); /* no usable dialog: nothing to ACK it in */
		return;
	}
	send_in_dialog(c, &x->leg, "ACK");
	{
		const struct sip_conn_info *ci = sip_server_conn_info(b->sip, x->leg.conn);
		if (ci != NULL)
			leg_capture_tls(&x->leg, ci);
	}
	osip_message_get_body(resp, 0, &body);
	if (body == NULL || body->body == NULL ||
	    sdp_parse(&answer, body->body, body->length, &why) != 0 ||
	    sdp_check_answer(answer, &pol, x->leg.offered, x->leg.noffered, &v) != 0) {
		const char *text = answer ? v.text : why;
		telemetry_security(b->tel, TELEMETRY_SEC_OFFER_REFUSED, c->id,
		                   (const struct sockaddr *)&x->leg.peer_addr,
		                   answer ? sdp_reason_name(v.reason) : "malformed_sdp", text, 488);
		log_info("call %s: bridge transfer: answer refused: %s", c->id, text);
		sdp_desc_free(answer);
		x->leg.dlg->confirmed = true;
		send_in_dialog(c, &x->leg, "BYE");
		fail(c, 488, "failed");
		return;
	}
	move(c, resp, answer, &v);
}

/* A response to our INVITE (its connection and Via branch checked). */
static void
invite_response(struct call *c, osip_message_t *resp)
{
	struct bridge *x = c->bridge;
	int code = resp->status_code;

	if (code < 200) {
		if (code != 100 && sip_dialog_update_uac(x->leg.dlg, resp) == 0 &&
		    (code == 180 || code == 183))
			xfer_notify(c, &c->leg[agent_leg(c)], 180, false); /* ringing */
		return;
	}
	if (code < 300) {
		answered(c, resp);
		return;
	}
	{
		osip_message_t *ack = NULL;
		if (sip_dialog_ack_non2xx(x->invite, resp, &ack) == 0)
			b2bua_send(c->b, x->leg.conn, ack);
		osip_message_free(ack);
	}
	fail(c, code, code == 408 ? "no_answer" : "refused");
}

/* A final response to our INVITE after we gave up on it (CANCEL, call ended): ACK a
 * refusal; ACK and hang up on a 2xx that crossed our CANCEL. */
static void
late_final(struct call *c, osip_message_t *resp)
{
	struct bridge *x = c->bridge;
	osip_message_t *ack = NULL;

	if (resp->status_code >= 300) {
		if (sip_dialog_ack_non2xx(x->invite, resp, &ack) == 0)
			b2bua_send(c->b, x->leg.conn, ack);
		osip_message_free(ack);
	} else if (resp->status_code >= 200 && sip_dialog_update_uac(x->leg.dlg, resp) == 0) {
		send_in_dialog(c, &x->leg, "ACK");
		send_in_dialog(c, &x->leg, "BYE");
	}
}

bool
bridge_response(struct b2bua *b, uint64_t conn, const char *cid, osip_message_t *resp)
{
	for (int i = 0; i < 2; i++) {
		struct call *c = call_by_callid(b, cid, i);
		struct bridge *x = c != NULL ? c->bridge : NULL;
		bool ours;

		if (x == NULL || x->leg.dlg == NULL || strcmp(x->leg.dlg->call_id, cid) != 0)
			continue;
		/* after the move this Call-ID is the agent's: the answers to our NOTIFY and
		 * BYE end here; before, only our INVITE's answers matter */
		ours = x->state != BRIDGE_MOVED && x->invite != NULL &&
		       MSG_IS_RESPONSE_FOR(resp, "INVITE") &&
		       strcmp(resp->cseq->number, x->invite->cseq->number) == 0;
		if (!ours)
			return true;
		if (conn != x->leg.conn) {
			b2bua_forged_response(b, c, conn,
			                      "not on the connection the request left on");
			return true;
		}
		if (!sip_util_response_matches(x->invite, resp)) {
			b2bua_forged_response(b, c, conn, "not the Via branch of the request");
			return true;
		}
		if (x->state == BRIDGE_RINGING && c->state == CALL_ANSWERED)
			invite_response(c, resp);
		else if (resp->status_code >= 200)
			late_final(c, resp);
		return true;
	}
	return false;
}

void
bridge_conn_closed(struct b2bua *b, uint64_t conn)
{
	/* one walk of the table, as call_by_conn() does for the calls' own legs */
	for (struct call *c = b->calls; c != NULL; c = c->next) {
		struct bridge *x = c->bridge;
		if (x != NULL && x->state == BRIDGE_RINGING && x->leg.conn == conn) {
			x->leg.conn = 0; /* nothing more can come, nothing to CANCEL on */
			fail(c, 503, "failed");
		}
	}
}

void
bridge_end(struct call *c)
{
	struct bridge *x = c->bridge;

	if (x == NULL || x->state != BRIDGE_RINGING)
		return;
	cancel_invite(c);
	x->state = BRIDGE_OVER;
	if (x->timer != NULL)
		evtimer_del(x->timer);
	record(c, "ended", 0, -1);
}

bool
bridge_legs(const struct call *c, struct telemetry_leg *agent, char *abuf, size_t alen,
            struct telemetry_leg *human, char *hbuf, size_t hlen)
{
	const struct bridge *x = c->bridge;
	int al = agent_leg(c);

	if (x == NULL)
		return false;
	if (x->state == BRIDGE_MOVED) {
		leg_telemetry_of(c, &x->leg, (enum media_leg_id)al, agent, abuf, alen);
		leg_telemetry(c, al, human, hbuf, hlen);
	} else {
		leg_telemetry_of(c, &x->leg, MEDIA_LEG_C, human, hbuf, hlen);
	}
	return true;
}
