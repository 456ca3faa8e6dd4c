/*
 * b2bua_agent.c: leg B of a call (sipwarden as UAC toward an agent of the pool), agent
 * failover (its OPTIONS health probes: b2bua_probe.c), and the clean-up of answers that arrive for
 * INVITEs we already gave up on. Connections to agents are opened through the SIP server and reused
 * while they stay up. It also owns the door check of what leg B copies from leg A
 * (leg_b_check_input(), called before a call is created) and decides what counts
 * against an agent's health: its transport, its timeouts and its 5xx, never a local
 * error.
 */
#include "b2bua_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "log.h"
#include "monotime.h"
#include "sip_grammar.h"
#include "sip_util.h"
#include "tls.h"

/* Longest value of a trunk's pass_headers that crosses to the agent (bytes). */
#define PASS_HEADER_MAX 1024

/* The connection to agent `idx`, reused or opened now; 0 when it cannot be opened
 * (*err, when not NULL, gets the negative errno). */
static uint64_t
agent_conn_err(struct b2bua *b, int idx, int *err)
{
	const struct conf_agent *a = &b->conf->agents[idx];
	const struct sockaddr *sa = (const struct sockaddr *)&a->address.ss;
	uint64_t conn = b->agent_conn[idx];
	char ip[INET6_ADDRSTRLEN];
	const char *name;
	int rc;

	if (conn != 0 && sip_server_conn_info(b->sip, conn) != NULL)
		return conn;
	b->agent_conn[idx] = 0;
	/* the agent's certificate must name server_name, or else the IP of its address:
	 * a mere chain to [tls] ca_file (which also signs trunks) is not enough */
	if ((name = tls_peer_name(a->server_name, sa, ip, sizeof(ip))) == NULL)
		rc = -EINVAL;
	else
		rc = sip_server_connect(b->sip, sa, a->address.len, b->agent_ctx[idx], name, &conn);
	if (rc != 0) {
		if (err != NULL)
			*err = rc;
		return 0;
	}
	b->agent_conn[idx] = conn;
	return conn;
}

uint64_t
agent_conn(struct b2bua *b, int idx)
{
	return agent_conn_err(b, idx, NULL);
}

int
agent_index_by_conn(struct b2bua *b, uint64_t conn, const struct sockaddr *peer)
{
	for (size_t i = 0; i < b->nagents; i++)
		if (b->agent_conn[i] == conn && conn != 0)
			return (int)i;
	if (peer == NULL)
		return -1;
	for (size_t i = 0; i < b->nagents; i++) {
		const struct sockaddr *aa = (const struct sockaddr *)&b->conf->agents[i].address.ss;
		if (aa->sa_family != peer->sa_family)
			continue;
		if (aa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)aa)->sin_addr.s_addr ==
		            ((const struct sockaddr_in *)peer)->sin_addr.s_addr)
			return (int)i;
		if (aa->sa_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)aa)->sin6_addr,
		           &((const struct sockaddr_in6 *)peer)->sin6_addr, 16) == 0)
			return (int)i;
	}
	return -1;
}

/* Agent idx seen up (ok) or down (why): logged and reported once per change of state. */
void
agent_report(struct b2bua *b, int idx, bool ok, const char *why)
{
	int change = pool_report(b->pool, idx, ok, monotime_ms());
	const struct conf_agent *a = &b->conf->agents[idx];

	if (change == 0)
		return;
	log_info("agent %s is %s%s%s", a->name, change > 0 ? "up" : "down", why ? ": " : "",
	         why ? why : "");
	telemetry_agent(b->tel, a->name, change > 0, (const struct sockaddr *)&a->address.ss,
	                change > 0 ? NULL : why);
}

/* Host part of an agent's address for URIs: "127.0.0.1:5071" or "[::1]:5071". */
void
agent_hostport(const struct conf_agent *a, char *buf, size_t len)
{
	conf_sockaddr_str(&a->address, buf, len);
}

static void
timer_set(struct call *c, unsigned ms, event_callback_fn cb)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (c->timer == NULL)
		c->timer = evtimer_new(c->b->base, cb, c);
	else {
		evtimer_del(c->timer);
		event_assign(c->timer, c->b->base, -1, 0, cb, c);
	}
	if (c->timer != NULL)
		evtimer_add(c->timer, &tv);
}

static void agent_timeout_cb(evutil_socket_t fd, short what, void *arg);

/* ---- what crosses from leg A, checked at the door -------------------------------- */

/* Is `u` a telephone-subscriber URI (";user=phone")? */
static bool
user_is_phone(const osip_uri_t *u)
{
	osip_uri_param_t *p = NULL;

	return osip_uri_uparam_get_byname((osip_uri_t *)u, "user", &p) == 0 && p != NULL &&
	       p->gvalue != NULL && osip_strcasecmp(p->gvalue, "phone") == 0;
}

/* A user part of URI `u` (NULL: none, fine). 0, -EINVAL or -E2BIG. */
static int
check_user(const osip_uri_t *u)
{
	int rc;

	if (u == NULL || u->username == NULL)
		return 0;
	if ((rc = sip_grammar_user(u->username, SIP_GRAMMAR_USER_MAX)) != 0)
		return rc;
	return user_is_phone(u) ? sip_grammar_phone(u->username, SIP_GRAMMAR_USER_MAX) : 0;
}

/* The URI whose user part is the dialled one: the Request-URI's, else To's. */
static const osip_uri_t *
dialled_uri(const osip_message_t *req, bool *from_ruri)
{
	*from_ruri = req->req_uri != NULL && req->req_uri->username != NULL;
	if (*from_ruri)
		return req->req_uri;
	return req->to != NULL ? req->to->url : NULL;
}

int
leg_b_check_input(const osip_message_t *req, const struct conf_trunk *t, const char **reason,
                  const char **text)
{
	bool ruri;
	const osip_uri_t *du = dialled_uri(req, &ruri);
	int rc;

	if ((req->from != NULL && sip_grammar_display_name(req->from->displayname) != 0) ||
	    (req->to != NULL && sip_grammar_display_name(req->to->displayname) != 0)) {
		*reason = "display_name_invalid";
		*text = "From or To display name is not valid";
		return 400;
	}
	if ((rc = check_user(req->from != NULL ? req->from->url : NULL)) != 0) {
		*reason = rc == -E2BIG ? "from_user_too_long" : "from_user_invalid";
		*text = rc == -E2BIG ? "From user part longer than 128 bytes"
		                     : "From user part is not valid";
		return 400;
	}
	if ((rc = check_user(du)) != 0) {
		/* RFC 3261 s21.4.12: 414 is the answer to a Request-URI too long to take */
		if (rc == -E2BIG) {
			*reason = ruri ? "ruri_user_too_long" : "to_user_too_long";
			*text = ruri ? "Request-URI user part longer than 128 bytes"
			             : "To user part longer than 128 bytes";
			return ruri ? 414 : 400;
		}
		*reason = ruri ? "ruri_user_invalid" : "to_user_invalid";
		*text = ruri ? "Request-URI user part is not valid" : "To user part is not valid";
		return 400;
	}
	/* To's user part is the callee of the call's record even when the Request-URI's
	 * is the dialled one: the same grammar (valid UTF-8, no controls, 128 bytes) */
	if (ruri && (rc = check_user(req->to != NULL ? req->to->url : NULL)) != 0) {
		*reason = rc == -E2BIG ? "to_user_too_long" : "to_user_invalid";
		*text = rc == -E2BIG ? "To user part longer than 128 bytes"
		                     : "To user part is not valid";
		return 400;
	}
	for (size_t i = 0; t != NULL && t->pass_headers != NULL && t->pass_headers[i]; i++) {
		const char *v = sip_util_header(req, t->pass_headers[i]);
		if (v != NULL && (rc = sip_grammar_header_value(v, PASS_HEADER_MAX)) != 0) {
			*reason = rc == -E2BIG ? "pass_header_too_long" : "pass_header_invalid";
			*text = rc == -E2BIG ? "a passed X- header is longer than 1024 bytes"
			                     : "a passed X- header is not valid";
			return 400;
		}
	}
	/* leg A's responses echo the Record-Route and its requests follow it */
	return route_check_invite(req, reason, text);
}

/*
 * Build and send the INVITE of leg B on `conn` to `hp` ("ip:port"), as peer `peer` (an
 * agent, or a trunk when `to_trunk`): new dialog, SDP written from scratch with fresh
 * keys for the configured suites (none: plain RTP/AVP, legacy trunks only), the caller's
 * user part and the trunk's allowed X- headers. Every From, To, Request-URI and
 * P-Asserted-Identity is built through libosip2's URI structures (the user parts
 * re-escaped), never printed into header text; what crosses passed
 * leg_b_check_input() at the door and is checked again here. Sets c->b_invite.
 * 0 or a negative errno: -ENOTCONN/-ENOBUFS when the connection is gone or does not
 * drain (the peer's doing), anything else failed on our side.
 */
int
leg_b_invite(struct call *c, uint64_t conn, bool to_trunk, int peer, const char *hp, bool pad,
             bool plain)
{
	struct b2bua *b = c->b;
	const struct conf_trunk *t = c->trunk >= 0 ? &c->conf->trunks[c->trunk] : NULL;
	struct call_leg *l = &c->leg[1];
	const osip_uri_t *du;
	const char *fu = NULL, *tu = "agent", *why, *text;
	char *ruri = NULL, *from = NULL, *to = NULL, *pai = NULL;
	osip_message_t *inv = NULL;
	char *sdp = NULL;
	bool from_ruri;
	int rc;

	if (leg_b_check_input(c->a_invite, t, &why, &text) != 0)
		return -EINVAL; /* the door let it in: a bug, not the agent's fault */
	if (c->a_invite->from != NULL && c->a_invite->from->url != NULL)
		fu = c->a_invite->from->url->username;
	if ((du = dialled_uri(c->a_invite, &from_ruri)) != NULL && du->username != NULL)
		tu = du->username;
	if ((rc = sip_dialog_uri(&ruri, tu, hp, ";transport=tls", false)) != 0 ||
	    (rc = sip_dialog_uri(&from, fu != NULL ? fu : "anonymous", b->host, NULL, true)) != 0 ||
	    (rc = sip_dialog_uri(&to, tu, hp, NULL, true)) != 0 ||
	    (fu != NULL && (rc = sip_dialog_uri(&pai, fu, b->host, NULL, true)) != 0))
		goto out;

	leg_clear(l);
	l->trunk = to_trunk;
	l->peer = peer;
	l->conn = conn;
	if ((rc = sip_dialog_new_uac(&l->dlg, ruri, from, to, b->contact, b->host)) != 0)
		goto out;
	call_leg_index(c, 1);
	if (c->leg[0].remote_sdp != NULL) { /* else a late offer: none here either */
		struct sdp_local loc = {&l->origin, media_advertise(c), c->ports[1][0], pad};
		size_t ns = plain ? 0 : c->conf->media.nsuites;
		l->origin.version++;
		if ((rc = leg_offer_room(l, ns)) != 0)
			goto out;
		struct sdp_verdict av = sdp_choice_verdict(&c->leg[0].verdict);
		rc = sdp_build_offer(&sdp, &loc, c->leg[0].remote_sdp, &av, c->conf->media.suites,
		                     ns, l->offered, ns, &l->noffered);
		if (rc != 0)
			goto out;
	}
	if ((rc = sip_dialog_request(l->dlg, "INVITE", b->sentby, &inv)) != 0)
		goto out;
	/* what crosses from leg A: the caller's user part (From, P-Asserted-Identity) and
	 * the X- headers this trunk allows (checked at the door); nothing else */
	if (pai != NULL && (rc = sip_util_add_header(inv, "P-Asserted-Identity", pai)) != 0)
		goto out;
	for (size_t i = 0; t != NULL && t->pass_headers != NULL && t->pass_headers[i]; i++) {
		const char *v = sip_util_header(c->a_invite, t->pass_headers[i]);
		if (v != NULL && (rc = sip_util_add_header(inv, t->pass_headers[i], v)) != 0)
			goto out;
	}
	if ((rc = sip_util_add_header(inv, "Allow", SIP_SERVER_ALLOW)) != 0 ||
	    (rc = stimer_invite_headers(c, inv)) != 0)
		goto out;
	/* reliable 18x only with our offer in the INVITE: then a 18x can carry an answer but
	 * never an offer that a PRACK would have to answer (b2bua_prack.c) */
	if (sdp != NULL && (rc = sip_util_add_header(inv, "Supported", "100rel")) != 0)
		goto out;
	if (sdp != NULL) {
		osip_message_set_content_type(inv, "application/sdp");
		osip_message_set_body(inv, sdp, strlen(sdp));
	}
	if ((rc = b2bua_send(b, conn, inv)) != 0)
		goto out;
	sip_util_forget_text(inv); /* libosip2's copy of what was sent: 1.4 KiB a call */
	osip_message_free(c->b_invite);
	c->b_invite = inv;
	inv = NULL;
	c->b_final = false;
out:
	osip_free(ruri);
	osip_free(from);
	osip_free(to);
	osip_free(pai);
	sdp_text_free(sdp);
	osip_message_free(inv);
	return rc;
}

/* INVITE to agent `idx` of the pool. 0 or a negative errno (see pool_is_agent_fault()). */
static int
agent_invite(struct call *c, int idx)
{
	const struct conf_agent *a = &c->conf->agents[idx];
	int rc = -ENOTCONN;
	uint64_t conn = agent_conn_err(c->b, idx, &rc);
	char hp[80];

	if (conn == 0)
		return rc;
	agent_hostport(a, hp, sizeof(hp));
	if ((rc = leg_b_invite(c, conn, false, idx, hp, a->crypto_pad, false)) != 0)
		return rc;
	c->agent = idx;
	c->agent_counted = true;
	pool_call_start(c->b->pool, idx);
	timer_set(c, c->conf->sip.agent_timeout_ms, agent_timeout_cb);
	log_info("call %s: INVITE to agent %s", c->id, a->name);
	return 0;
}

int
agent_route(struct call *c)
{
	struct b2bua *b = c->b;
	int idx, rc;

	while ((idx = pool_pick(b->pool, c->tried, monotime_ms())) >= 0) {
		if (idx < B2BUA_MAX_AGENTS)
			c->tried |= UINT64_C(1) << idx;
		if ((rc = agent_invite(c, idx)) == 0)
			return 0;
		if (!pool_is_agent_fault(rc)) {
			/* our failure: the next agent would fare no better, and none is to blame */
			log_warnx("call %s: INVITE to agent %s could not be built: %s", c->id,
			          c->conf->agents[idx].name, strerror(-rc));
			c->end_warning = "internal error";
			call_end(c, "failed", "sipwarden", "internal", 500);
			return rc;
		}
		agent_report(b, idx, false, "connection_failed");
		if (idx >= B2BUA_MAX_AGENTS)
			break;
	}
	c->end_warning = "no agent available";
	call_end(c, "failed", "sipwarden", "no_agent", 503);
	return -ENOENT;
}

/* Forget cancelled INVITEs whose final response is overdue. */
static void
cancelled_prune(struct b2bua *b)
{
	struct cancelled_invite **pp = &b->cancelled, *e;

	while ((e = *pp) != NULL) {
		if (ms_since(&e->since) <= (int64_t)b->conf->sip.transaction_timeout_ms) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		osip_message_free(e->invite);
		free(e);
	}
}

void
agent_cancel(struct call *c)
{
	struct b2bua *b = c->b;
	osip_message_t *cancel = NULL;
	struct cancelled_invite *e;

	if (c->b_invite == NULL || c->b_final)
		return;
	if (sip_dialog_cancel(c->b_invite, &cancel) == 0) {
		b2bua_send(b, c->leg[1].conn, cancel);
		osip_message_free(cancel);
	}
	c->b_final = true;
	/* the agent still answers the INVITE (487, or a 200 that crossed the CANCEL),
	 * possibly after this call is gone: keep what the ACK is built from */
	cancelled_prune(b);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	if (osip_message_clone(c->b_invite, &e->invite) != 0) {
		free(e);
		return;
	}
	e->conn = c->leg[1].conn;
	clock_gettime(CLOCK_MONOTONIC, &e->since);
	e->next = b->cancelled;
	b->cancelled = e;
}

/*
 * A final response to an INVITE no call waits for any more: if it answers one we
 * cancelled, on the connection we sent it on and with its Via branch, that INVITE is
 * done; a non-2xx gets its ACK (a 2xx is stray_invite_2xx()'s). One with its Call-ID and
 * CSeq from elsewhere is reported as forged.
 */
void
cancelled_final(struct b2bua *b, uint64_t conn, const osip_message_t *resp)
{
	struct cancelled_invite **pp, *e;

	if (resp->status_code < 200)
		return;
	for (pp = &b->cancelled; (e = *pp) != NULL; pp = &e->next)
		if (sip_util_callid_equal(e->invite->call_id, resp->call_id) &&
		    strcmp(e->invite->cseq->number, resp->cseq->number) == 0)
			break;
	if (e == NULL)
		return;
	/* only from the agent we sent it to, with our branch */
	if (e->conn != conn || !sip_util_response_matches(e->invite, resp)) {
		b2bua_forged_response(b, NULL, conn,
		                      e->conn != conn ? "not on the connection the request left on"
		                                      : "not the Via branch of the request");
		return;
	}
	if (resp->status_code >= 300) {
		osip_message_t *ack = NULL;
		if (sip_dialog_ack_non2xx(e->invite, resp, &ack) == 0) {
			b2bua_send(b, conn, ack);
			osip_message_free(ack);
		}
	}
	*pp = e->next;
	osip_message_free(e->invite);
	free(e);
}

void
cancelled_free(struct b2bua *b)
{
	while (b->cancelled != NULL) {
		struct cancelled_invite *e = b->cancelled;
		b->cancelled = e->next;
		osip_message_free(e->invite);
		free(e);
	}
}

/* Give up on the current agent and try the next one; no agent left: 503 to A. */
void
agent_failed(struct call *c, const char *why)
{
	struct b2bua *b = c->b;

	agent_cancel(c);
	if (c->agent >= 0) {
		agent_report(b, c->agent, false, why);
		if (c->agent_counted)
			pool_call_end(b->pool, c->agent);
		c->agent_counted = false;
		log_info("call %s: agent %s failed (%s), trying the next one", c->id,
		         c->conf->agents[c->agent].name, why);
	}
	osip_message_free(c->b_invite);
	c->b_invite = NULL;
	leg_clear(&c->leg[1]);
	c->leg[1].conn = 0;
	c->leg[1].peer = -1;
	agent_route(c); /* ends the call when no agent takes it */
}

void
leg_b_timer(struct call *c, unsigned ms)
{
	timer_set(c, ms, agent_timeout_cb);
}

static void
agent_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	if (c->state == CALL_ANSWERED) {
		/* the same timer now guards the maximum call duration */
		call_end(c, "completed", "sipwarden", "max_duration", 0);
		return;
	}
	if (c->outbound) {
		/* a trunk is not failed over: the agent that called hears 408 */
		call_end(c, "no_answer", "sipwarden", "timeout", 408);
		return;
	}
	agent_failed(c, "timeout");
}

/*
 * Take the SDP answer in `resp` (a 2xx, or a 183 for early media) from leg B: police it
 * like an offer, build our answer for leg A once (reused by the 200 after early media)
 * and set both legs of the relay. 0, or -1 when the call was ended (488 to leg A).
 */
static int
leg_b_take_answer(struct call *c, osip_message_t *resp)
{
	struct b2bua *b = c->b;
	struct call_leg *l = &c->leg[1];
	struct sdp_desc *answer = NULL;
	struct sdp_verdict v;
	struct sdp_policy pol = leg_policy(c, 1);
	osip_body_t *body = NULL;
	const char *why = "the answer carries no SDP";
	char *sdp = NULL;

	osip_message_get_body(resp, 0, &body);
	if ((body == NULL || body->body == NULL) && l->remote_sdp != NULL && c->a_answer != NULL) {
		if (resp->status_code >= 200)
			leg_offer_drop(l); /* the early answer was the answer */
		return 0;                  /* the SDP came with early media already */
	}
	if (body == NULL || body->body == NULL ||
	    sdp_parse(&answer, body->body, body->length, &why) != 0 ||
	    sdp_check_answer(answer, &pol, l->offered, l->noffered, &v) != 0) {
		const char *text = answer ? v.text : why;
		telemetry_security(b->tel, TELEMETRY_SEC_OFFER_REFUSED, c->id,
		                   (const struct sockaddr *)&l->peer_addr,
		                   answer ? sdp_reason_name(v.reason) : "malformed_sdp", text, 488);
		log_info("call %s: answer from leg B refused: %s", c->id, text);
		sdp_desc_free(answer);
		c->end_warning = c->outbound ? "the trunk answered without acceptable SRTP"
		                             : "the agent answered without acceptable SRTP";
		call_end(c, "refused", "sipwarden", "agent_answer_refused", 488);
		return -1;
	}
	/* early media (183): the 2xx answers the same offer again, checked against its keys */
	leg_set_answer(c, 1, answer, &v, resp->status_code >= 200);
	if (c->a_answer == NULL) {
		struct sdp_local loc = {&c->leg[0].origin, media_advertise(c), c->ports[0][0],
		                        leg_crypto_pad(c, 0)};
		c->leg[0].origin.version++;
		struct sdp_verdict av = sdp_choice_verdict(&c->leg[0].verdict);
		if (sdp_build_answer(&sdp, &loc, c->leg[0].remote_sdp, &av, answer,
		                     &c->leg[0].tx) != 0) {
			call_end(c, "failed", "sipwarden", "internal", 500);
			return -1;
		}
		c->a_answer = sdp;
	}
	if (media_apply_leg(c, 0) != 0 || media_apply_leg(c, 1) != 0) {
		call_end(c, "failed", "sipwarden", "media_setup", 500);
		return -1;
	}
	return 0;
}

static void
answered(struct call *c, osip_message_t *resp)
{
	struct b2bua *b = c->b;
	struct call_leg *l = &c->leg[1];
	osip_message_t *ack = NULL;

	c->b_final = true;
	{
		/* the outbound handshake is done by now: record the agent hop's posture */
		const struct sip_conn_info *ci = sip_server_conn_info(b->sip, l->conn);
		if (ci != NULL)
			leg_capture_tls(l, ci);
	}
	{
		osip_body_t *ob = NULL; /* our offer, kept for re-INVITE refreshes */
		osip_message_get_body(c->b_invite, 0, &ob);
		stimer_leg_2xx(c, 1, resp, ob != NULL ? ob->body : NULL);
		/* the session timers keep the copy they need; after its 2xx the INVITE is kept
		 * for its transaction's core only (2xx retransmissions, CANCEL/ACK matching) */
		if (call_msg_keep_txn(&c->b_invite, 0) != 0)
			call_msg_drop_bodies(c->b_invite);
	}
	if (c->leg[0].remote_sdp == NULL) {
		/* leg A sent no offer: this 2xx carries one, the ACK waits (b2bua_late.c) */
		b2bua_late_answered(c, resp);
		return;
	}
	if (sip_dialog_request(l->dlg, "ACK", b->sentby, &ack) == 0) {
		b2bua_send(b, l->conn, ack);
		osip_message_free(ack);
	}
	if (leg_b_take_answer(c, resp) != 0)
		return;
	prack_final_2xx(c); /* ok2xx_reply(), after the PRACK an early answer may need */
	c->a_final_sent = true;
	c->final_code = 200;
	c->leg[0].dlg->confirmed = true;
	call_answered(c);
}

void
call_answered(struct call *c)
{
	struct b2bua *b = c->b;

	if (c->state != CALL_ANSWERED)
		b->nanswered++; /* no longer in set-up (overload admission) */
	c->state = CALL_ANSWERED;
	clock_gettime(CLOCK_MONOTONIC, &c->t_answer);
	if (!c->outbound)
		agent_report(b, c->agent, true, NULL);
	if (c->conf->media.max_call_duration_s > 0)
		timer_set(c, c->conf->media.max_call_duration_s * 1000u, agent_timeout_cb);
	else if (c->timer != NULL)
		evtimer_del(c->timer);
	{
		int tl = call_trunk_leg(c), al = 1 - tl;
		telemetry_call_answer(b->tel, c->id, c->conf->agents[c->agent].name,
		                      ms_since(&c->t_invite),
		                      suite_name_of(&c->leg[tl].tx, !c->leg[tl].verdict.srtp),
		                      suite_name_of(&c->leg[al].tx, false));
	}
	log_info("call %s: answered by %s %s after %lld ms", c->id, c->outbound ? "trunk" : "agent",
	         c->outbound ? c->conf->trunks[c->trunk].name : c->conf->agents[c->agent].name,
	         (long long)ms_since(&c->t_invite));
}

void
agent_on_response(struct call *c, osip_message_t *resp)
{
	struct b2bua *b = c->b;
	int code = resp->status_code;

	if (c->b_final && code < 300) {
		ok2xx_ack_again(c, 1, resp); /* a copy of the 2xx: our ACK was lost */
		return;
	}
	if (code < 200) {
		if (code == 100)
			return;
		sip_dialog_update_uac(c->leg[1].dlg, resp);
		if (!prack_agent_provisional(c, resp))
			return; /* a copy of a reliable one (PRACKed already), or unusable */
		/* [sip] agent_timeout bounds the wait for a final answer: ringing does not
		 * extend it (an agent that rings and never answers is failed over) */
		if ((code == 180 || code == 183) && c->state != CALL_ANSWERED) {
			osip_body_t *body = NULL;
			osip_message_get_body(resp, 0, &body);
			/* early media: an SDP answer in a 18x sets up the media now, policed
			 * like a 200's; the trunk gets our own SDP in the same provisional */
			if (body != NULL && body->body != NULL && c->a_answer == NULL &&
			    c->leg[0].remote_sdp != NULL && leg_b_take_answer(c, resp) != 0)
				return;
			if (body != NULL && body->body != NULL && c->a_answer != NULL)
				prack_provisional(c, code, c->a_answer);
			else if (c->state == CALL_ROUTING)
				prack_provisional(c, code, NULL);
			c->state = CALL_EARLY;
		}
		return;
	}
	if (code < 300) {
		if (sip_dialog_update_uac(c->leg[1].dlg, resp) != 0) {
			if (c->outbound)
				call_end(c, "failed", "sipwarden", "bad_2xx", 502);
			else
				agent_failed(c, "bad_2xx");
			return;
		}
		answered(c, resp);
		return;
	}
	{
		osip_message_t *ack = NULL;
		if (sip_dialog_ack_non2xx(c->b_invite, resp, &ack) == 0) {
			b2bua_send(b, c->leg[1].conn, ack);
			osip_message_free(ack);
		}
	}
	c->b_final = true;
	if (c->outbound && code == 422 && stimer_retry_422(c, resp)) {
		/* the carrier wants a longer session timer (RFC 4028 s7.4): once more */
		const struct conf_trunk *t = &c->conf->trunks[c->trunk];
		char hp[80];
		conf_sockaddr_str(&t->target, hp, sizeof(hp));
		if (leg_b_invite(c, c->leg[1].conn, true, c->trunk, hp, t->crypto_pad,
		                 t->legacy_rtp) == 0) {
			leg_b_timer(c, c->conf->sip.transaction_timeout_ms);
			return;
		}
	}
	if (c->outbound) {
		/* the trunk refused the agent's call: the agent hears the same code */
		call_end(c, code == 486 || code == 600 ? "busy" : "failed", "trunk", "rejected",
		         code);
		return;
	}
	if (code == 408 || (code >= 500 && code < 600)) {
		agent_failed(c, code == 503 ? "503" : code == 408 ? "timeout" : "5xx");
		return;
	}
	if (code == 422 && stimer_retry_422(c, resp)) { /* session timer too short: again */
		char hp[80];
		agent_hostport(&c->conf->agents[c->agent], hp, sizeof(hp));
		if (leg_b_invite(c, c->leg[1].conn, false, c->agent, hp,
		                 c->conf->agents[c->agent].crypto_pad, false) == 0)
			return;
	}
	/* 3xx/4xx/6xx: the agent refused this call; the trunk hears the same code */
	agent_report(b, c->agent, true, NULL);
	call_end(c, code == 486 || code == 600 ? "busy" : "failed", "agent", "rejected", code);
}

/* ---- answers to INVITEs we abandoned --------------------------------------------- */

void
stray_invite_2xx(struct b2bua *b, uint64_t conn, osip_message_t *resp)
{
	struct sip_dialog *d = NULL;
	osip_message_t *ack = NULL, *bye = NULL;

	/* RFC 3261 s13.2.2.4 / s15: a 2xx for an INVITE we cancelled or gave up on still
	 * makes a dialog: acknowledge and end it at once. */
	if (sip_dialog_from_2xx(&d, resp, b->contact) != 0)
		return;
	if (sip_dialog_request(d, "ACK", b->sentby, &ack) == 0)
		b2bua_send(b, conn, ack);
	if (sip_dialog_request(d, "BYE", b->sentby, &bye) == 0)
		b2bua_send(b, conn, bye);
	osip_message_free(ack);
	osip_message_free(bye);
	sip_dialog_free(d);
}
