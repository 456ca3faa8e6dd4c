/*
 * b2bua_out.c: calls placed by an agent toward a trunk (outbound). An agent is known by
 * the client certificate it presents, pinned in its [agent] section (`fingerprint`):
 * addresses alone would be ambiguous where agents and trunks share a network. The call
 * goes to the trunk named by the Request-URI's host, or else to the first trunk with a
 * `target`. Leg A is then the agent (SRTP, always), leg B the trunk (SRTP, or plain RTP
 * for a legacy trunk), and everything else (keys per leg, policy, records) is the same
 * machinery as for calls from trunks. Not responsible for choosing agents (pool).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "log.h"
#include "sip_util.h"
#include "tls.h"

int
out_agent_by_cert(const struct b2bua *b, const struct sip_conn_info *ci)
{
	if (!ci->tls.has_peer_cert)
		return -1;
	for (size_t i = 0; i < b->conf->nagents; i++) {
		const struct conf_pin *pin = &b->conf->agents[i].fingerprint;
		if (pin->set && CRYPTO_memcmp(pin->sha256, ci->tls.peer_fp, 32) == 0)
			return (int)i;
	}
	return -1;
}

SSL_CTX **
out_trunk_ctxs_new(const struct conf *conf, char *err, size_t errlen)
{
	SSL_CTX **v = calloc(conf->ntrunks + 1, sizeof(*v));

	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < conf->ntrunks; i++) {
		char why[CONF_ERR_MAX];
		if (conf->trunks[i].target.len == 0)
			continue;
		/* mTLS toward the carrier: [tls] client_certificate on every connection */
		v[i] = tls_client_ctx_new(&conf->tls, conf->tls.client_certificate,
		                          conf->tls.client_private_key, true, why, sizeof(why));
		if (v[i] == NULL) {
			snprintf(err, errlen, "trunk %s: %s", conf->trunks[i].name, why);
			out_trunk_ctxs_free(v, i);
			return NULL;
		}
	}
	return v;
}

void
out_trunk_ctxs_free(SSL_CTX **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		SSL_CTX_free(v[i]);
	free(v);
}

void
out_conn_closed(struct b2bua *b, uint64_t conn)
{
	for (size_t i = 0; i < b->ntrunk_calls; i++)
		if (b->trunk_conn[i] == conn)
			b->trunk_conn[i] = 0;
}

uint64_t
out_trunk_conn(struct b2bua *b, int ti)
{
	const struct conf_trunk *t = &b->conf->trunks[ti];
	const struct sockaddr *sa = (const struct sockaddr *)&t->target.ss;
	uint64_t conn = b->trunk_conn[ti];
	char ip[INET6_ADDRSTRLEN];
	const char *host;

	if (conn != 0 && sip_server_conn_info(b->sip, conn) != NULL)
		return conn;
	b->trunk_conn[ti] = 0;
	/* the trunk's certificate is checked for the IP address of its target (IPv6 too) */
	if ((host = tls_peer_name(NULL, sa, ip, sizeof(ip))) == NULL ||
	    sip_server_connect(b->sip, sa, t->target.len, b->trunk_ctx[ti], host, &conn) != 0)
		return 0;
	b->trunk_conn[ti] = conn;
	return conn;
}

/* The trunk an agent's INVITE goes to, or -1. */
static int
pick_trunk(const struct conf *cf, const osip_message_t *req)
{
	const char *host = req->req_uri != NULL ? req->req_uri->host : NULL;
	int first = -1;

	for (size_t i = 0; i < cf->ntrunks; i++) {
		if (cf->trunks[i].target.len == 0)
			continue;
		if (host != NULL && strcmp(host, cf->trunks[i].name) == 0)
			return (int)i;
		if (first < 0)
			first = (int)i;
	}
	return first;
}

enum sip_hook_verdict
out_invite(struct b2bua *b, uint64_t conn, osip_message_t *req, int ai)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
	const struct conf_agent *a = &b->conf->agents[ai];
	struct sdp_policy pol = {b->conf->media.suites, b->conf->media.nsuites, true, false};
	const struct conf_trunk *t;
	struct sdp_desc *offer = NULL;
	struct sdp_verdict v = {.media = -1, .crypto = -1};
	osip_body_t *body = NULL;
	const char *why = NULL;
	struct call *c;
	char hp[80];
	uint64_t tconn;
	int ti;

	if ((ti = pick_trunk(b->conf, req)) < 0) {
		b2bua_reply(b, conn, req, 404, NULL, "no trunk to call out through", NULL);
		log_info("INVITE from agent %s refused: no trunk has a target", a->name);
		goto taken;
	}
	t = &b->conf->trunks[ti];
	{
		/* what would cross to the trunk, or be echoed on this leg, fits its grammar */
		const char *reason = NULL, *text = NULL;
		int code = leg_b_check_input(req, t, &reason, &text);
		if (code != 0) {
			b2bua_reply(b, conn, req, code, NULL, text, NULL);
			telemetry_security(b->tel, TELEMETRY_SEC_INPUT_REFUSED, NULL,
			                   (const struct sockaddr *)&ci->peer, reason, text, code);
			log_info("INVITE from agent %s refused with %d: %s", a->name, code, text);
			goto taken;
		}
	}
	if (prack_require_refuse(b, conn, req)) /* Require: an unknown extension: 420 */
		goto taken;
	if (stimer_refuse(b, conn, req)) /* Session-Expires too small: 422 (b2bua_timer.c) */
		goto taken;
	if (b->nlive >= b->conf->limits.max_calls ||
	    (t->max_calls != 0 && b->trunk_calls[ti] >= t->max_calls)) {
		const char *r =
		        b->nlive >= b->conf->limits.max_calls ? "max_calls" : "trunk_max_calls";
		b2bua_reply(b, conn, req, 503, NULL, "concurrent call limit reached", NULL);
		telemetry_security(b->tel, TELEMETRY_SEC_LIMIT_REACHED, NULL,
		                   (const struct sockaddr *)&ci->peer, r, a->name, 503);
		goto taken;
	}
	/* overload: shed as for calls from trunks, before SDP, call state or media ports */
	if ((why = overload_check(b)) != NULL) {
		overload_refuse(b, conn, req, why);
		goto taken;
	}
	/* the agent leg is SRTP, always: the offer is judged like a trunk's (not legacy);
	 * no SDP: a late offer, the trunk's 2xx will carry it (b2bua_late.c) */
	if (osip_message_get_body(req, 0, &body) == 0 && body != NULL && body->body != NULL &&
	    (sdp_parse(&offer, body->body, body->length, &why) != 0 ||
	     sdp_check_offer(offer, &pol, &v) != 0)) {
		const char *text = offer != NULL ? v.text : why;
		b2bua_reply(b, conn, req, 488, NULL, text, NULL);
		telemetry_security(b->tel, TELEMETRY_SEC_OFFER_REFUSED, NULL,
		                   (const struct sockaddr *)&ci->peer,
		                   offer != NULL ? sdp_reason_name(v.reason) : "malformed_sdp",
		                   text, 488);
		sdp_desc_free(offer);
		goto taken;
	}
	if ((c = call_new(b)) == NULL) {
		sdp_desc_free(offer);
		b2bua_reply(b, conn, req, 500, NULL, NULL, NULL);
		goto taken;
	}
	c->outbound = true;
	c->trunk = ti;
	c->trunk_counted = true;
	b->trunk_calls[ti]++;
	c->agent = ai;
	c->agent_counted = true;
	pool_call_start(b->pool, ai);
	c->leg[0].trunk = false;
	c->leg[0].peer = ai;
	c->leg[0].conn = conn;
	c->leg[0].remote_sdp = offer;
	c->leg[0].verdict = sdp_choice_of(&v);
	leg_capture_tls(&c->leg[0], ci);
	c->a_invite = req;
	sip_util_forget_text(req); /* kept for the call's life: the parsed form suffices */
	if (sip_dialog_new_uas(&c->leg[0].dlg, req, b->contact) != 0 ||
	    sdp_origin_init(&c->leg[0].origin) != 0 || sdp_origin_init(&c->leg[1].origin) != 0) {
		c->end_warning = "missing dialog headers";
		call_end(c, "refused", "sipwarden", "bad_request", 400);
		return SIP_HOOK_TAKEN;
	}
	call_leg_index(c, 0);
	b2bua_reply(b, conn, req, 100, NULL, NULL, NULL);
	{
		char *fu = sip_dialog_user_part(req->from), *tu = sip_dialog_user_part(req->to);
		/* the trunk hop is not open yet: its posture is in call.end */
		struct telemetry_tls none = {NULL, NULL, NULL, NULL};
		telemetry_call_start(b->tel, c->id, t->name, fu, tu, &none);
		osip_free(fu);
		osip_free(tu);
	}
	log_info("call %s: INVITE from agent %s calling out through trunk %s", c->id, a->name,
	         t->name);
	if (media_setup_call(c) != 0) {
		call_end(c, "failed", "sipwarden", "media_ports", 503);
		return SIP_HOOK_TAKEN;
	}
	conf_sockaddr_str(&t->target, hp, sizeof(hp));
	if ((tconn = out_trunk_conn(b, ti)) == 0 ||
	    leg_b_invite(c, tconn, true, ti, hp, t->crypto_pad, t->legacy_rtp) != 0) {
		c->end_warning = "the trunk cannot be reached";
		call_end(c, "failed", "sipwarden", "trunk_unreachable", 503);
		return SIP_HOOK_TAKEN;
	}
	leg_b_timer(c, c->conf->sip.transaction_timeout_ms);
	return SIP_HOOK_TAKEN;
taken:
	osip_message_free(req);
	return SIP_HOOK_TAKEN;
}
