/*
 * refer.c: swpeer's side of a transfer (RFC 3515), for testing sipwarden's hand-off.
 *
 * With --refer URI (the agent side: a callee, or a caller that is an agent calling out),
 * 0.5 s after the ACK it sends REFER with "Refer-To: URI" exactly as given (tests pass
 * hostile values on purpose), records the final response (refer_code) and answers each
 * NOTIFY 200, recording the status of its message/sipfrag (notify_code). The trunk side
 * (either role) records a REFER in the dialog (refer_to, printable ASCII only) and, with
 * --accept-refer CODE, answers it 202 and sends NOTIFY "SIP/2.0 100 Trying" then NOTIFY
 * "SIP/2.0 CODE" (terminated; a 1xx CODE leaves the subscription active and never
 * reports a final status); without it the REFER gets 603. Owns nothing: the call's
 * timer slot ev_refer is freed with the call.
 */
#include "swpeer.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFER_DELAY_MS 500

static void
refer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	char hdr[2048];

	if (c->state != CS_CONFIRMED || c->bye_sent)
		return;
	snprintf(hdr, sizeof(hdr), "Refer-To: %s\r\n", c->peer->o->refer_uri);
	c->refer_cseq = c->cseq++;
	call_send_request_ext(c, "REFER", c->remote_target, c->refer_cseq, c->remote_tag, hdr, NULL,
	                      NULL);
}

void
refer_arm(struct call *c)
{
	if (c->peer->o->refer_uri != NULL)
		call_timer(c, &c->ev_refer, REFER_DELAY_MS, refer_cb);
}

bool
refer_on_response(struct call *c, const osip_message_t *m)
{
	if (m->cseq == NULL || m->cseq->method == NULL || strcmp(m->cseq->method, "REFER") != 0)
		return false;
	if (m->status_code >= 200 && m->cseq->number != NULL &&
	    strtoul(m->cseq->number, NULL, 10) == c->refer_cseq)
		c->res.refer_code = m->status_code;
	return true;
}

static void
notify(struct call *c, int code, bool final)
{
	char hdr[256], body[64];

	snprintf(hdr, sizeof(hdr), "Event: refer\r\nSubscription-State: %s\r\n",
	         final ? "terminated;reason=noresource" : "active;expires=60");
	snprintf(body, sizeof(body), "SIP/2.0 %d %s\r\n", code, sip_reason(code));
	call_send_request_ext(c, "NOTIFY", c->remote_target, c->cseq++, c->remote_tag, hdr,
	                      "message/sipfrag", body);
}

void
refer_on_request(struct call *c, struct sipconn *conn, osip_message_t *m)
{
	const struct opts *o = c->peer->o;

	if (strcmp(m->sip_method, "NOTIFY") == 0) {
		osip_body_t *b = NULL;
		sip_respond(conn, m, 200, NULL, NULL, NULL, NULL, NULL);
		c->res.notifies++;
		osip_message_get_body(m, 0, &b);
		if (b != NULL && b->body != NULL && b->length >= 11 &&
		    strncmp(b->body, "SIP/2.0 ", 8) == 0)
			c->res.notify_code = atoi(b->body + 8);
		return;
	}
	/* REFER */
	{
		const char *v = sip_header_value(m, "refer-to");
		size_t n = 0;
		c->res.refers++;
		for (; v != NULL && v[n] != '\0' && n + 1 < sizeof(c->res.refer_to); n++)
			c->res.refer_to[n] = isprint((unsigned char)v[n]) ? v[n] : '?';
		c->res.refer_to[n] = '\0';
	}
	if (o->accept_refer == 0) {
		sip_respond(conn, m, 603, "swpeer declines REFER", NULL, NULL, NULL, NULL);
		return;
	}
	sip_respond(conn, m, 202, NULL, NULL, NULL, NULL, NULL);
	notify(c, 100, false);
	notify(c, o->accept_refer, o->accept_refer >= 200); /* 1xx: no final status, ever */
}
