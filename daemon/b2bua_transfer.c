/*
 * b2bua_transfer.c: hand-off to a human (RFC 3515 REFER from an agent, issue 10 item 1).
 *
 * After answer, an agent may send REFER in its dialog. Whether that is allowed is the
 * config's: the trunk of the call must have `transfer = refer` or `bridge` (default off;
 * bridge mode: b2bua_bridge.c places the call, this file only admits it) and the URI
 * inside Refer-To must be, byte for byte, the `match` of a [transfer NAME]; anything else
 * is refused (403, 400 for a Refer-To that is not a plain sip:/sips:/tel: URI) and reported
 * as security.transfer_refused, and the call goes on. The agent's text is only compared:
 * what the trunk receives is sipwarden's own REFER, in the trunk leg's dialog, whose
 * Refer-To is the configured `target` (checked when the config was read); no Referred-By,
 * no Replaces, nothing of the agent's REFER crosses.
 *
 * The agent gets 202 and NOTIFYs (Event: refer, message/sipfrag) in its own dialog: 100
 * at once, then whatever status the trunk reports, re-written by us (status code only,
 * our reason phrase). A final 2xx ends the call with BYE on both legs (call.end reason
 * "transferred"); a REFER the trunk refuses, a final status >= 300 or no final status in
 * XFER_TIMEOUT_MS leaves the caller with the agent. call.transfer records each attempt,
 * also one the call's end cut short (outcome "ended").
 *
 * Owns struct xfer (one per call at most, c->xfer); freed by xfer_free(). Not
 * responsible for dialogs (lib/sip_dialog.c) or the call's end (b2bua_call.c).
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
#include "sip_util.h"

#define XFER_TIMEOUT_MS 180000 /* REFER -> final status: ringing a human included */

/*
 * struct xfer: one transfer in progress. Owner: struct call (c->xfer); freed by
 * xfer_free().
 */
struct xfer {
	const struct conf_transfer *dest; /* in c->conf, which the call holds */
	osip_message_t *refer;            /* our REFER on the trunk leg */
	uint64_t conn;                    /* the connection it left on */
	struct timespec t0;
	struct event *timer;
};

void
xfer_free(struct call *c)
{
	struct xfer *x = c->xfer;

	if (x == NULL)
		return;
	if (x->timer != NULL)
		event_free(x->timer);
	osip_message_free(x->refer);
	free(x);
	c->xfer = NULL;
}

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

void
xfer_end(struct call *c)
{
	struct xfer *x = c->xfer;

	if (x != NULL) {
		struct telemetry_transfer t = {
		        c->id, agent_name(c), x->dest->name, "refer", "ended", 0, -1};
		telemetry_call_transfer(c->b->tel, &t);
		xfer_free(c);
	}
}

/* NOTIFY in the agent's dialog with a sipfrag of `code`, our reason phrase. */
void
xfer_notify(struct call *c, struct call_leg *l, int code, bool final)
{
	osip_message_t *m = NULL;
	const char *phrase = osip_message_get_reason(code);
	char frag[96];

	if (l->dlg == NULL || sip_dialog_request(l->dlg, "NOTIFY", c->b->sentby, &m) != 0)
		return;
	snprintf(frag, sizeof(frag), "SIP/2.0 %d %s\r\n", code, phrase ? phrase : "Unknown");
	sip_util_add_header(m, "Event", "refer");
	sip_util_add_header(m, "Subscription-State",
	                    final ? "terminated;reason=noresource" : "active;expires=180");
	osip_message_set_content_type(m, "message/sipfrag;version=2.0");
	osip_message_set_body(m, frag, strlen(frag));
	b2bua_send(c->b, l->conn, m);
	osip_message_free(m);
}

/* The transfer is over with the trunk's final `code`: tell the agent and record it; on
 * 2xx end the call (which may free it). */
static void
finish(struct call *c, int code, const char *outcome)
{
	struct telemetry_transfer t = {c->id,
	                               agent_name(c),
	                               c->xfer->dest->name,
	                               "refer",
	                               outcome,
	                               code,
	                               code >= 200 && code < 300 ? ms_since(&c->xfer->t0) : -1};

	xfer_notify(c, &c->leg[agent_leg(c)], code, true);
	telemetry_call_transfer(c->b->tel, &t);
	log_info("call %s: transfer to %s %s (%d)", c->id, c->xfer->dest->name, outcome, code);
	xfer_free(c);
	if (code >= 200 && code < 300)
		call_end(c, "completed", "sipwarden", "transferred", 200);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	(void)fd;
	(void)what;
	if (c->xfer != NULL)
		finish(c, 408, "failed");
}

/* Parameters after a name-addr's '>': ";" token ["=" token], whitespace around. */
static bool
params_ok(const char *p)
{
	for (; *p != '\0'; p++)
		if (strchr(" \t;=-.!%*_+`'~", *p) == NULL &&
		    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/*
 * The URI an agent's Refer-To value names, into uri[0..cap): a name-addr "[display]
 * <URI>[;params]" or a bare URI (up to the first ';'). Only one, no "?headers", and
 * sip:/sips: in the SIP-URI grammar with a user part free of controls, or tel: with a
 * telephone-subscriber. Returns 0, or the status to refuse with (400/403) and a reason.
 */
static int
refer_to_uri(const char *v, char *uri, size_t cap, const char **reason)
{
	const char *lt, *gt, *s, *e;
	size_t n;

	*reason = "refer_to_invalid";
	if (strlen(v) > CONF_TRANSFER_URI_MAX) {
		*reason = "refer_to_too_long";
		return 400;
	}
	if (sip_grammar_header_value(v, CONF_TRANSFER_URI_MAX) != 0)
		return 400;
	if (strchr(v, '?') != NULL) {
		*reason = "embedded_headers"; /* ?Replaces= and friends: attended transfer */
		return 403;
	}
	if ((lt = strchr(v, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || memchr(v, '>', (size_t)(lt - v)) != NULL ||
		    memchr(v, ',', (size_t)(lt - v)) != NULL || strchr(gt + 1, '<') != NULL ||
		    !params_ok(gt + 1))
			return 400;
		s = lt + 1;
		e = gt;
	} else {
		for (s = v; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strcspn(s, "; \t");
		if (!params_ok(e))
			return 400;
	}
	n = (size_t)(e - s);
	if (n == 0 || n >= cap || memchr(s, ',', n) != NULL)
		return 400;
	memcpy(uri, s, n);
	uri[n] = '\0';
	if (strncasecmp(uri, "tel:", 4) == 0)
		return sip_grammar_phone(uri + 4, CONF_TRANSFER_URI_MAX) == 0 ? 0 : 400;
	if (strncasecmp(uri, "sip:", 4) != 0 && strncasecmp(uri, "sips:", 5) != 0)
		return 400;
	if (sip_grammar_uri(uri, CONF_TRANSFER_URI_MAX) != 0)
		return 400;
	{
		/* libosip2 un-escapes the user part: "%0D%0A" must not become a header */
		osip_uri_t *u = NULL;
		bool ok = osip_uri_init(&u) == 0 && osip_uri_parse(u, uri) == 0 &&
		          (u->username == NULL ||
		           sip_grammar_user(u->username, SIP_GRAMMAR_USER_MAX) == 0) &&
		          (u->password == NULL ||
		           sip_grammar_user(u->password, SIP_GRAMMAR_USER_MAX) == 0);
		osip_uri_free(u);
		return ok ? 0 : 400;
	}
}

static void
refuse(struct call *c, int legi, osip_message_t *req, int code, const char *reason,
       const char *requested)
{
	struct call_leg *l = &c->leg[legi];

	b2bua_reply(c->b, l->conn, req, code, l->dlg->local_tag, "transfer refused", NULL);
	telemetry_transfer_refused(c->b->tel, c->id, (const struct sockaddr *)&l->peer_addr,
	                           agent_name(c), reason, requested, code);
	log_info("call %s: REFER from the agent refused with %d (%s)", c->id, code, reason);
}

/* The Refer-To value of `req`: exactly one (long or compact form), or NULL. */
static const char *
refer_to_value(const osip_message_t *req)
{
	osip_header_t *h = NULL, *h2 = NULL;
	const char *v = NULL;
	int n = 0;

	for (int pos = 0; (pos = osip_message_header_get_byname(req, "refer-to", pos, &h)) >= 0;
	     pos++, n++)
		v = h->hvalue;
	for (int pos = 0; (pos = osip_message_header_get_byname(req, "r", pos, &h2)) >= 0;
	     pos++, n++)
		v = h2->hvalue;
	return n == 1 ? v : NULL;
}

static void
on_refer(struct call *c, int legi, osip_message_t *req)
{
	struct b2bua *b = c->b;
	int tl = call_trunk_leg(c);
	struct call_leg *al = &c->leg[legi], *tlg = &c->leg[tl];
	const struct conf_trunk *tr = c->trunk >= 0 && (size_t)c->trunk < c->conf->ntrunks
	                                      ? &c->conf->trunks[c->trunk]
	                                      : NULL;
	const char *v = refer_to_value(req), *reason = NULL;
	char uri[CONF_TRANSFER_URI_MAX + 1], target[CONF_TRANSFER_URI_MAX + 3];
	const struct conf_transfer *dest;
	struct xfer *x;
	osip_message_t *m = NULL;
	int code;

	if (legi == tl || al->human) { /* a transfer is the agent's to ask for */
		b2bua_reply(b, al->conn, req, 405, al->dlg->local_tag, NULL, NULL);
		return;
	}
	if (tr == NULL || tr->transfer == TRANSFER_OFF) {
		refuse(c, legi, req, 403, "transfer_off", v);
		return;
	}
	if (c->state != CALL_ANSWERED || tlg->dlg == NULL || !tlg->dlg->confirmed) {
		refuse(c, legi, req, 403, "not_answered", v);
		return;
	}
	if (v == NULL) {
		refuse(c, legi, req, 400, "refer_to_invalid", NULL);
		return;
	}
	if ((code = refer_to_uri(v, uri, sizeof(uri), &reason)) != 0) {
		refuse(c, legi, req, code, reason, v);
		return;
	}
	if ((dest = conf_transfer_by_match(c->conf, uri)) == NULL) {
		refuse(c, legi, req, 403, "not_allowed", v);
		return;
	}
	if (c->xfer != NULL) { /* one at a time (b2bua_bridge.c counts its own) */
		b2bua_reply(b, al->conn, req, 491, al->dlg->local_tag, NULL, NULL);
		return;
	}
	if (tr->transfer == TRANSFER_BRIDGE) { /* sipwarden places the call (b2bua_bridge.c) */
		if ((code = bridge_start(c, dest)) != 0) {
			b2bua_reply(b, al->conn, req, code, al->dlg->local_tag, NULL, NULL);
			return;
		}
		b2bua_reply(b, al->conn, req, 202, al->dlg->local_tag, NULL, NULL);
		xfer_notify(c, al, 100, false);
		log_info("call %s: agent transfers the caller to %s (bridge)", c->id, dest->name);
		return;
	}
	snprintf(target, sizeof(target), "<%s>", dest->target); /* ours, checked at load */
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    sip_dialog_request(tlg->dlg, "REFER", b->sentby, &m) != 0 ||
	    sip_util_add_header(m, "Refer-To", target) != 0 || b2bua_send(b, tlg->conn, m) != 0) {
		free(x);
		osip_message_free(m);
		b2bua_reply(b, al->conn, req, 500, al->dlg->local_tag, NULL, NULL);
		return;
	}
	x->dest = dest;
	x->refer = m;
	x->conn = tlg->conn;
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	c->xfer = x;
	if ((x->timer = evtimer_new(b->base, timeout_cb, c)) != NULL) {
		struct timeval tv = {XFER_TIMEOUT_MS / 1000, 0};
		evtimer_add(x->timer, &tv);
	}
	b2bua_reply(b, al->conn, req, 202, al->dlg->local_tag, NULL, NULL);
	xfer_notify(c, al, 100, false);
	log_info("call %s: agent transfers the caller to %s", c->id, dest->name);
}

/* "SIP/2.0 NNN" at the start of a message/sipfrag body: NNN, or -1. */
static int
sipfrag_code(const osip_message_t *req)
{
	osip_body_t *body = NULL;
	const char *p;

	if (req->content_type == NULL || req->content_type->type == NULL ||
	    req->content_type->subtype == NULL ||
	    strcasecmp(req->content_type->type, "message") != 0 ||
	    strcasecmp(req->content_type->subtype, "sipfrag") != 0)
		return -1;
	if (osip_message_get_body(req, 0, &body) != 0 || body == NULL || body->body == NULL ||
	    body->length < 11 || strncmp(body->body, "SIP/2.0 ", 8) != 0)
		return -1;
	p = body->body + 8;
	if (p[0] < '1' || p[0] > '6' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    (body->length > 11 && p[3] != ' ' && p[3] != '\r' && p[3] != '\n'))
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* A NOTIFY from the trunk about our REFER. */
static void
on_notify(struct call *c, int legi, osip_message_t *req)
{
	struct call_leg *l = &c->leg[legi];
	osip_header_t *ev = NULL;
	int code;

	if (c->xfer == NULL || legi != call_trunk_leg(c)) {
		b2bua_reply(c->b, l->conn, req, 481, l->dlg->local_tag, NULL, NULL);
		return;
	}
	if (osip_message_header_get_byname(req, "event", 0, &ev) < 0 || ev == NULL ||
	    ev->hvalue == NULL || strncasecmp(ev->hvalue, "refer", 5) != 0 ||
	    (ev->hvalue[5] != '\0' && ev->hvalue[5] != ';' && ev->hvalue[5] != ' ')) {
		b2bua_reply(c->b, l->conn, req, 489, l->dlg->local_tag, NULL, NULL);
		return;
	}
	if ((code = sipfrag_code(req)) < 0) {
		b2bua_reply(c->b, l->conn, req, 400, l->dlg->local_tag, "not a message/sipfrag",
		            NULL);
		return;
	}
	b2bua_reply(c->b, l->conn, req, 200, l->dlg->local_tag, NULL, NULL);
	if (code < 200)
		xfer_notify(c, &c->leg[agent_leg(c)], code, false);
	else
		finish(c, code, code < 300 ? "transferred" : "refused");
}

void
xfer_request(struct call *c, int legi, osip_message_t *req)
{
	if (c->state == CALL_ENDED)
		b2bua_reply(c->b, c->leg[legi].conn, req, 481, NULL, NULL, NULL);
	else if (MSG_IS_REFER(req))
		on_refer(c, legi, req);
	else
		on_notify(c, legi, req);
	osip_message_free(req);
}

bool
xfer_response(struct call *c, int legi, uint64_t conn, const osip_message_t *resp)
{
	struct xfer *x = c->xfer;

	if (x == NULL || legi != call_trunk_leg(c) || !MSG_IS_RESPONSE_FOR(resp, "REFER") ||
	    strcmp(resp->cseq->number, x->refer->cseq->number) != 0)
		return false;
	if (conn != x->conn) {
		b2bua_forged_response(c->b, c, conn, "not on the connection the request left on");
		return true;
	}
	if (!sip_util_response_matches(x->refer, resp)) {
		b2bua_forged_response(c->b, c, conn, "not the Via branch of the request");
		return true;
	}
	if (resp->status_code >= 300)
		finish(c, resp->status_code, "refused");
	return true;
}
