/*
 * b2bua.c: the call table and leg A (the caller's side): new INVITEs, CANCEL, requests
 * inside a call's dialogs (BYE, re-INVITE, UPDATE, INFO, OPTIONS), the relay of those
 * between legs, and the SIP server hooks. Leg B (agents, failover, probes) is in
 * b2bua_agent.c; SDP and the media relay in b2bua_media.c; the life cycle (new, reload,
 * free) in b2bua_life.c.
 */
#include "b2bua_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "cluster.h"
#include "log.h"
#include "sip_util.h"
#include "tls.h"

#define B2BUA_RETRY_AFTER "30"

int64_t
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* ---- sending ------------------------------------------------------------------- */

int
b2bua_send(struct b2bua *b, uint64_t conn, osip_message_t *m)
{
	int rc = sip_server_send(b->sip, conn, m);

	if (rc != 0)
		log_debug("send on connection %llu failed: %s", (unsigned long long)conn,
		          strerror(-rc));
	return rc;
}

static void
warning_value(struct b2bua *b, const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "399 %s \"%s\"", b->host, text);
}

/*
 * Answer `req` on `conn` with `code`; `to_tag` for the To header (NULL: a fresh one),
 * an optional Warning text, an optional SDP body (adds our Contact too).
 */
int
b2bua_reply(struct b2bua *b, uint64_t conn, const osip_message_t *req, int code, const char *to_tag,
            const char *warning, const char *sdp)
{
	osip_message_t *resp = NULL;
	int rc;

	if ((rc = b2bua_response(b, req, code, to_tag, warning, sdp, &resp)) != 0)
		return rc;
	rc = b2bua_send(b, conn, resp);
	osip_message_free(resp);
	return rc;
}

int
b2bua_response(struct b2bua *b, const osip_message_t *req, int code, const char *to_tag,
               const char *warning, const char *sdp, osip_message_t **out)
{
	osip_message_t *resp = NULL;
	char buf[512];
	int rc;

	if ((rc = sip_util_response_new(&resp, req, code, NULL, to_tag)) != 0)
		return rc;
	if (code > 100 && code < 300 && MSG_IS_INVITE(req)) {
		osip_message_set_contact(resp, b->contact); /* also for early dialogs */
		if ((rc = route_echo(resp, req)) != 0) {    /* RFC 3261 s12.1.1 */
			osip_message_free(resp);
			return rc;
		}
	}
	if (code == 503 || code == 486 || code == 480)
		sip_util_add_header(resp, "Retry-After", B2BUA_RETRY_AFTER);
	if (code == 405 || code == 501 || (code == 200 && MSG_IS_OPTIONS(req)))
		sip_util_add_header(resp, "Allow", SIP_SERVER_ALLOW);
	if (code == 200 && MSG_IS_OPTIONS(req)) {
		sip_util_add_header(resp, "Accept", "application/sdp");
		sip_util_add_header(resp, "Supported", "100rel, timer"); /* RFC 3262, RFC 4028 */
	}
	if (warning != NULL) {
		warning_value(b, warning, buf, sizeof(buf));
		sip_util_add_header(resp, "Warning", buf);
	}
	if (sdp != NULL) {
		osip_message_set_content_type(resp, "application/sdp");
		osip_message_set_body(resp, sdp, strlen(sdp));
	}
	*out = resp;
	return 0;
}

/* ---- leg A: a new INVITE ------------------------------------------------------- */

static void
refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req, int code,
       enum telemetry_security kind, const char *reason, const char *text)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);

	b2bua_reply(b, conn, req, code, NULL, text, NULL);
	telemetry_security(b->tel, kind, NULL, ci ? (const struct sockaddr *)&ci->peer : NULL,
	                   reason, text, code);
	/* the first refusal from a source is logged, the rest summarised (log.h) */
	log_refusal(ci ? (const struct sockaddr *)&ci->peer : NULL, reason,
	            "INVITE from %s refused with %d: %s", ci ? ci->peer_str : "?", code, text);
}

void
leg_capture_tls(struct call_leg *l, const struct sip_conn_info *ci)
{
	/* static strings of libssl (tls_info_get()): kept as pointers, not copied */
	l->tls_version = ci->tls.version_name != NULL && *ci->tls.version_name != '\0'
	                         ? ci->tls.version_name
	                         : NULL;
	l->tls_cipher = ci->tls.cipher != NULL && *ci->tls.cipher != '\0' ? ci->tls.cipher : NULL;
	l->has_peer_cert = ci->tls.has_peer_cert;
	if (l->has_peer_cert)
		memcpy(l->peer_sha256, ci->tls.peer_fp, 32);
	memset(&l->peer_addr, 0, sizeof(l->peer_addr));
	if (ci->peer.ss_family == AF_INET)
		memcpy(&l->peer_addr.in, &ci->peer, sizeof(l->peer_addr.in));
	else if (ci->peer.ss_family == AF_INET6)
		memcpy(&l->peer_addr.in6, &ci->peer, sizeof(l->peer_addr.in6));
}

/* Is the peer of `ci` trunk `t`, including its certificate rules? Sets *why. */
static bool
trunk_cert_ok(const struct conf_trunk *t, const struct sip_conn_info *ci, const char **why)
{
	if (t->ca_file != NULL && !(ci->tls.has_peer_cert && ci->tls.peer_verified)) {
		*why = ci->tls.has_peer_cert ? "client_certificate_not_verified"
		                             : "no_client_certificate";
		return false;
	}
	if (t->fingerprint.set &&
	    (!ci->tls.has_peer_cert ||
	     CRYPTO_memcmp(t->fingerprint.sha256, ci->tls.peer_fp, 32) != 0)) {
		*why = "fingerprint_mismatch";
		return false;
	}
	return true;
}

/* The request was answered here: free it and tell the server it is handled. */
static enum sip_hook_verdict
taken(osip_message_t *req)
{
	osip_message_free(req);
	return SIP_HOOK_TAKEN;
}

/* Draining (b2bua_set_draining): a new call from a known peer gets 503 + Retry-After. */
static enum sip_hook_verdict
refuse_draining(struct b2bua *b, uint64_t conn, osip_message_t *req)
{
	refuse(b, conn, req, 503, TELEMETRY_SEC_LIMIT_REACHED, "draining",
	       "draining: not taking new calls");
	return taken(req);
}

static enum sip_hook_verdict
on_new_invite(struct b2bua *b, uint64_t conn, osip_message_t *req)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
	const struct conf_trunk *t;
	struct sdp_desc *offer = NULL;
	struct sdp_verdict v = {.media = -1, .crypto = -1};
	struct sdp_policy pol;
	osip_body_t *body = NULL;
	const char *why = NULL;
	struct call *c;
	int ti;

	if (ci == NULL) {
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (b->stopping) {
		b2bua_reply(b, conn, req, 503, NULL, "shutting down", NULL);
		return taken(req);
	}
	/* an agent presenting its pinned certificate calls out through a trunk */
	if ((ti = out_agent_by_cert(b, ci)) >= 0) {
		if (b->draining)
			return refuse_draining(b, conn, req);
		return out_invite(b, conn, req, ti);
	}
	t = conf_trunk_by_source(b->conf, (const struct sockaddr *)&ci->peer);
	if (t == NULL) {
		refuse(b, conn, req, 403, TELEMETRY_SEC_PEER_UNKNOWN, "source_not_allowed",
		       "source address is not an allowed trunk");
		return taken(req);
	}
	ti = (int)(t - b->conf->trunks);
	if (!trunk_cert_ok(t, ci, &why)) {
		refuse(b, conn, req, 403, TELEMETRY_SEC_PEER_UNKNOWN, why,
		       "trunk certificate does not match the configuration");
		return taken(req);
	}
	if (b->draining)
		return refuse_draining(b, conn, req);
	{
		/* what would cross to the agent, or be echoed on this leg, fits its grammar */
		const char *text = NULL;
		int code = leg_b_check_input(req, t, &why, &text);
		if (code != 0) {
			refuse(b, conn, req, code, TELEMETRY_SEC_INPUT_REFUSED, why, text);
			return taken(req);
		}
	}
	if (prack_require_refuse(b, conn, req)) /* Require: an unknown extension: 420 */
		return taken(req);
	if (stimer_refuse(b, conn, req)) /* Session-Expires too small: 422 (b2bua_timer.c) */
		return taken(req);
	if (b->nlive >= b->conf->limits.max_calls) {
		refuse(b, conn, req, 503, TELEMETRY_SEC_LIMIT_REACHED, "max_calls",
		       "concurrent call limit reached");
		return taken(req);
	}
	if (t->max_calls != 0 && b->trunk_calls[ti] >= t->max_calls) {
		refuse(b, conn, req, 503, TELEMETRY_SEC_LIMIT_REACHED, "trunk_max_calls",
		       "concurrent call limit of this trunk reached");
		return taken(req);
	}
	/* overload: shed new calls fast, before SDP, call state or media ports are spent */
	if ((why = overload_check(b)) != NULL) {
		overload_refuse(b, conn, req, why);
		return taken(req);
	}
	/* no SDP: a late offer, the agent's 2xx will carry it (b2bua_late.c) */
	if (osip_message_get_body(req, 0, &body) == 0 && body != NULL && body->body != NULL) {
		if (sdp_parse(&offer, body->body, body->length, &why) != 0) {
			refuse(b, conn, req, 488, TELEMETRY_SEC_OFFER_REFUSED, "malformed_sdp",
			       why);
			return taken(req);
		}
		pol = (struct sdp_policy){b->conf->media.suites, b->conf->media.nsuites, true,
		                          t->legacy_rtp};
		if (sdp_check_offer(offer, &pol, &v) != 0) {
			refuse(b, conn, req, 488, TELEMETRY_SEC_OFFER_REFUSED,
			       sdp_reason_name(v.reason), v.text);
			sdp_desc_free(offer);
			return taken(req);
		}
	}

	/* [cluster]: the shared limits answer asynchronously; the INVITE comes back here
	 * through b2bua_cluster_done() and passes the checks above again */
	if (b->cluster != NULL && b->cluster_granted != req) {
		sdp_desc_free(offer);
		if (cluster_admit(b->cluster, conn, req, t->name, b->conf->limits.max_calls,
		                  t->max_calls, b->nlive, b->trunk_calls[ti]) != 0) {
			b2bua_reply(b, conn, req, 500, NULL, NULL, NULL);
			return taken(req);
		}
		return SIP_HOOK_TAKEN;
	}
	if ((c = call_new(b)) == NULL) {
		sdp_desc_free(offer);
		b2bua_reply(b, conn, req, 500, NULL, NULL, NULL);
		return taken(req);
	}
	if (b->cluster != NULL) {
		c->cluster_counted = b->cluster_in_store;
		b->cluster_taken = true;
	}
	b->trunk_calls[ti]++;
	c->trunk = ti;
	c->trunk_counted = true;
	c->leg[0].trunk = true;
	c->leg[0].peer = ti;
	c->leg[0].conn = conn;
	c->leg[0].remote_sdp = offer;
	c->leg[0].verdict = sdp_choice_of(&v);
	leg_capture_tls(&c->leg[0], ci);
	if (sip_dialog_new_uas(&c->leg[0].dlg, req, b->contact) != 0 ||
	    sdp_origin_init(&c->leg[0].origin) != 0 || sdp_origin_init(&c->leg[1].origin) != 0) {
		b2bua_reply(b, conn, req, 400, NULL, "missing dialog headers", NULL);
		c->a_final_sent = true;
		c->a_invite = req;
		call_end(c, "refused", "sipwarden", "bad_request", 400);
		return SIP_HOOK_TAKEN;
	}
	call_leg_index(c, 0);
	c->a_invite = req;
	sip_util_forget_text(req); /* kept for the call's life: the parsed form suffices */
	trying_queue(c);           /* 100 Trying only if the agent is not quick (b2bua_trying.c) */

	{
		char *fu = sip_dialog_user_part(req->from), *tu = sip_dialog_user_part(req->to);
		struct telemetry_tls tt = {c->leg[0].tls_version, c->leg[0].tls_cipher,
		                           c->leg[0].has_peer_cert ? c->leg[0].peer_sha256 : NULL,
		                           (const struct sockaddr *)&c->leg[0].peer_addr};
		telemetry_call_start(b->tel, c->id, t->name, fu, tu, &tt);
		osip_free(fu);
		osip_free(tu);
	}
	log_info("call %s: INVITE from trunk %s (%s), %s", c->id, t->name, ci->peer_str,
	         offer == NULL ? "no offer (late offer)"
	         : v.srtp      ? suite_info(v.suite)->name
	                       : "plain RTP");

	if (media_setup_call(c) != 0) {
		call_end(c, "failed", "sipwarden", "media_ports", 503);
		return SIP_HOOK_TAKEN;
	}
	agent_route(c); /* ends the call when no agent takes it */
	return SIP_HOOK_TAKEN;
}

/* ---- [cluster] -------------------------------------------------------------------- */

void
b2bua_set_cluster(struct b2bua *b, struct cluster *cl)
{
	b->cluster = cl;
}

/* The cluster's verdict on an INVITE on_new_invite() held (daemon/cluster.h). */
void
b2bua_cluster_done(void *arg, uint64_t conn, void *token, const char *trunk, const char *refusal,
                   bool in_store)
{
	struct b2bua *b = arg;
	osip_message_t *req = token;

	if (refusal != NULL && strcmp(refusal, "cancelled") == 0) {
		b2bua_reply(b, conn, req, 487, NULL, NULL, NULL); /* on_cancel() sent 200 */
		osip_message_free(req);
		return;
	}
	if (refusal != NULL) {
		refuse(b, conn, req, 503, TELEMETRY_SEC_LIMIT_REACHED, refusal,
		       strcmp(refusal, "trunk_max_calls") == 0
		               ? "concurrent call limit of this trunk reached (all instances)"
		       : strcmp(refusal, "max_calls") == 0
		               ? "concurrent call limit reached (all instances)"
		       : strcmp(refusal, "cluster_unavailable") == 0
		               ? "call limits cannot be checked: shared store unavailable"
		               : "shutting down");
		osip_message_free(req);
		return;
	}
	b->cluster_granted = req;
	b->cluster_in_store = in_store;
	b->cluster_taken = false;
	on_new_invite(b, conn, req); /* checks again (the connection may be gone) */
	if (in_store && !b->cluster_taken)
		cluster_release(b->cluster, trunk);
	b->cluster_granted = NULL;
	b->cluster_in_store = false;
}

void
call_cluster_release(struct call *c)
{
	struct b2bua *b = c->b;

	if (b->cluster == NULL)
		return;
	if (c->cluster_counted && c->trunk >= 0 && (size_t)c->trunk < c->conf->ntrunks)
		cluster_release(b->cluster, c->conf->trunks[c->trunk].name);
	else
		cluster_changed(b->cluster);
	c->cluster_counted = false;
}

/* ---- leg A: CANCEL --------------------------------------------------------------- */

static const char *
top_branch(const osip_message_t *m)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;

	if (osip_message_get_via(m, 0, &via) < 0 || via == NULL)
		return NULL;
	if (osip_via_param_get_byname(via, "branch", &br) != 0 || br == NULL)
		return NULL;
	return br->gvalue;
}

static bool
same_txn(const osip_message_t *a, const osip_message_t *b)
{
	const char *ba = top_branch(a), *bb = top_branch(b);
	char *ca = NULL, *cb = NULL;
	bool same = false;

	if (ba == NULL || bb == NULL || strcmp(ba, bb) != 0 || a->cseq == NULL || b->cseq == NULL ||
	    strcmp(a->cseq->number, b->cseq->number) != 0)
		return false;
	if (osip_call_id_to_str(a->call_id, &ca) == 0 && osip_call_id_to_str(b->call_id, &cb) == 0)
		same = strcmp(ca, cb) == 0;
	osip_free(ca);
	osip_free(cb);
	return same;
}

static bool
cancel_match(const struct call *c, int legi, const osip_message_t *req)
{
	(void)legi;
	return c->a_invite != NULL && c->state != CALL_ENDED && same_txn(c->a_invite, req);
}

static bool
held_same_txn(void *token, void *arg)
{
	return same_txn(token, arg);
}

static void
on_cancel(struct b2bua *b, uint64_t conn, osip_message_t *req)
{
	/* leg A's dialog has the INVITE's Call-ID: one lookup, not a walk of every call */
	struct call *c = call_find(b, req, 0, cancel_match);

	if (c != NULL) {
		if (conn != c->leg[0].conn) {
			b2bua_reply(b, conn, req, 481, NULL, NULL, NULL);
			return;
		}
		b2bua_reply(b, conn, req, 200, NULL, NULL, NULL);
		if (!c->a_final_sent)
			call_end(c, "cancelled", "trunk", "cancel", 487);
		return;
	}
	/* [cluster]: an INVITE still waiting for the shared limits ends here (487) */
	if (b->cluster != NULL && cluster_holds(b->cluster, conn, held_same_txn, req)) {
		b2bua_reply(b, conn, req, 200, NULL, NULL, NULL);
		cluster_cancel_held(b->cluster, conn, held_same_txn, req);
		return;
	}
	b2bua_reply(b, conn, req, 481, NULL, NULL, NULL);
}

/* ---- requests inside a call --------------------------------------------------------- */

/* Requests from the peer of leg `legi` must come from that peer. */
static bool
peer_matches_leg(struct b2bua *b, struct call *c, int legi, uint64_t conn)
{
	const struct sip_conn_info *ci;
	struct call_leg *l = &c->leg[legi];

	if (conn == l->conn)
		return true;
	if ((ci = sip_server_conn_info(b->sip, conn)) == NULL)
		return false;
	if (l->trunk) {
		const struct conf_trunk *t =
		        conf_trunk_by_source(c->conf, (const struct sockaddr *)&ci->peer);
		const char *why;
		return t != NULL && t - c->conf->trunks == l->peer && trunk_cert_ok(t, ci, &why);
	}
	return agent_index_by_conn(b, conn, (const struct sockaddr *)&ci->peer) == l->peer;
}

static enum sip_hook_verdict
on_request(void *arg, uint64_t conn, osip_message_t *req)
{
	struct b2bua *b = arg;
	osip_generic_param_t *tt = NULL;
	struct call *c;
	int legi = 0;

	if (MSG_IS_INVITE(req) && (req->to == NULL || osip_to_get_tag(req->to, &tt) != 0))
		return on_new_invite(b, conn, req);
	if (MSG_IS_CANCEL(req)) {
		on_cancel(b, conn, req);
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (!(MSG_IS_BYE(req) || MSG_IS_ACK(req) || MSG_IS_INVITE(req) || MSG_IS_UPDATE(req) ||
	      MSG_IS_INFO(req) || MSG_IS_OPTIONS(req) || MSG_IS_PRACK(req) || MSG_IS_REFER(req) ||
	      MSG_IS_NOTIFY(req)))
		return SIP_HOOK_DEFAULT; /* REGISTER, SUBSCRIBE, ...: the server's answer */
	if ((c = call_by_dialog(b, req, &legi)) == NULL) {
		if (MSG_IS_OPTIONS(req) && (b->draining || b->stopping)) {
			/* out of service: load balancers probing with OPTIONS steer away */
			b2bua_reply(b, conn, req, 503, NULL, NULL, NULL);
			return taken(req);
		}
		if (MSG_IS_ACK(req) || MSG_IS_OPTIONS(req) || MSG_IS_REFER(req) ||
		    MSG_IS_NOTIFY(req))
			return SIP_HOOK_DEFAULT; /* ACK absorbed, OPTIONS 200, REFER/NOTIFY 405 */
		/* RFC 3261 s12.2.2: a request in a dialog we do not have */
		b2bua_reply(b, conn, req, 481, NULL, NULL, NULL);
		return taken(req);
	}
	if (!peer_matches_leg(b, c, legi, conn)) {
		const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
		telemetry_security(b->tel, TELEMETRY_SEC_PEER_UNKNOWN, c->id,
		                   ci ? (const struct sockaddr *)&ci->peer : NULL,
		                   "dialog_from_other_peer", req->sip_method, 403);
		if (!MSG_IS_ACK(req))
			b2bua_reply(b, conn, req, 403, NULL, NULL, NULL);
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (c->leg[legi].conn != conn)
		c->leg[legi].conn = conn; /* the peer reconnected */
	if (MSG_IS_ACK(req)) {
		ok2xx_ack(c, legi, req);      /* our 2xx on this leg is acknowledged */
		b2bua_late_ack(c, legi, req); /* the answer to our late offer, if it is one */
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (sip_dialog_check_remote_cseq(c->leg[legi].dlg, req) != 0) {
		b2bua_reply(b, conn, req, 500, c->leg[legi].dlg->local_tag, "CSeq out of order",
		            NULL);
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (MSG_IS_BYE(req)) {
		b2bua_reply(b, conn, req, 200, c->leg[legi].dlg->local_tag, NULL, NULL);
		osip_message_free(req);
		call_end(c, c->state == CALL_ANSWERED ? "completed" : "cancelled", leg_who(c, legi),
		         "bye", 200);
		return SIP_HOOK_TAKEN;
	}
	if (MSG_IS_PRACK(req)) { /* b2bua_prack.c */
		prack_request(c, legi, conn, req);
		return taken(req);
	}
	if (MSG_IS_OPTIONS(req)) {
		b2bua_reply(b, conn, req, 200, c->leg[legi].dlg->local_tag, NULL, NULL);
		osip_message_free(req);
		return SIP_HOOK_TAKEN;
	}
	if (MSG_IS_INVITE(req) || MSG_IS_UPDATE(req) || MSG_IS_INFO(req)) {
		if (prack_require_refuse(b, conn, req)) /* Require: unknown extension: 420 */
			return taken(req);
		if (!stimer_request(c, legi, req)) /* refreshes stay on their leg */
			relay_request(c, legi, req);
		return SIP_HOOK_TAKEN;
	}
	if (MSG_IS_REFER(req) || MSG_IS_NOTIFY(req)) {
		xfer_request(c, legi, req); /* b2bua_transfer.c */
		return SIP_HOOK_TAKEN;
	}
	b2bua_reply(b, conn, req, 501, c->leg[legi].dlg->local_tag, NULL, NULL);
	osip_message_free(req);
	return SIP_HOOK_TAKEN;
}

/* A response that belonged to one of our transactions: the server need not log it. */
static enum sip_hook_verdict
handled(osip_message_t *resp)
{
	osip_message_free(resp);
	return SIP_HOOK_TAKEN;
}

/*
 * A response that claims one of our transactions (its Call-ID and CSeq) but did not
 * come on the connection the request left on, or without the request's Via branch:
 * nobody who saw our request sent it. Discarded by the caller; counted here.
 */
void
b2bua_forged_response(struct b2bua *b, const struct call *c, uint64_t conn, const char *why)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);

	log_debug("conn %llu: forged response discarded (%s)", (unsigned long long)conn, why);
	telemetry_security(b->tel, TELEMETRY_SEC_PEER_UNKNOWN, c != NULL ? c->id : NULL,
	                   ci != NULL ? (const struct sockaddr *)&ci->peer : NULL,
	                   "forged_response", why, 0);
}

/* Whether `resp`, received on `conn`, answers `sent`, which left on `sent_conn`; if it
 * claims to but does not, it is reported as forged. */
static bool
answers(struct call *c, const osip_message_t *sent, uint64_t sent_conn, uint64_t conn,
        const osip_message_t *resp)
{
	if (conn != sent_conn) {
		b2bua_forged_response(c->b, c, conn, "not on the connection the request left on");
		return false;
	}
	if (!sip_util_response_matches(sent, resp)) {
		b2bua_forged_response(c->b, c, conn, "not the Via branch of the request");
		return false;
	}
	return true;
}

/*
 * Responses: the gate (sip_dispatch.c) let only whole ones through (Via branch, Call-ID,
 * CSeq number and method). One is accepted only on the connection its request left on
 * and with that request's top Via branch, CSeq number and method.
 */
static enum sip_hook_verdict
on_response(void *arg, uint64_t conn, osip_message_t *resp)
{
	struct b2bua *b = arg;
	char *cid = NULL;
	struct call *c;

	if (agent_probe_response(b, conn, resp))
		return handled(resp);
	if (osip_call_id_to_str(resp->call_id, &cid) != 0)
		return SIP_HOOK_DEFAULT;
	if (bridge_response(b, conn, cid, resp)) { /* a bridge transfer's (b2bua_bridge.c) */
		osip_free(cid);
		return handled(resp);
	}
	for (int legi = 1; legi >= 0; legi--) {
		if ((c = call_by_callid(b, cid, legi)) == NULL)
			continue;
		if (c->state == CALL_ENDED) {
			if (MSG_IS_RESPONSE_FOR(resp, "INVITE"))
				break; /* a final answer after our CANCEL: see below */
			osip_free(cid);
			return handled(resp); /* e.g. the 200 to the BYE that ended it */
		}
		osip_free(cid);
		if (stimer_response(c, legi, conn, resp)) /* to our session refresh */
			return handled(resp);
		if (legi == 1 && c->b_invite != NULL && MSG_IS_RESPONSE_FOR(resp, "INVITE") &&
		    strcmp(resp->cseq->number, c->b_invite->cseq->number) == 0) {
			if (answers(c, c->b_invite, c->leg[1].conn, conn, resp))
				agent_on_response(c, resp);
			return handled(resp);
		}
		if (c->pend.sent != NULL && 1 - c->pend.from == legi &&
		    strcmp(resp->cseq->number, c->pend.sent->cseq->number) == 0 &&
		    strcmp(resp->cseq->method, c->pend.sent->sip_method) == 0) {
			if (answers(c, c->pend.sent, c->pend.conn, conn, resp))
				relay_response(c, resp);
			return handled(resp);
		}
		xfer_response(c, legi, conn, resp); /* our REFER's answer (b2bua_transfer.c) */
		return handled(resp);               /* e.g. the 200 to our BYE */
	}
	osip_free(cid);
	if (MSG_IS_RESPONSE_FOR(resp, "INVITE"))
		cancelled_final(b, conn, resp); /* e.g. the 487 after our CANCEL: ACK */
	if (MSG_IS_RESPONSE_FOR(resp, "INVITE") && resp->status_code >= 200 &&
	    resp->status_code < 300) {
		/* only on connections we opened to agents: an unsolicited 200 from anyone
		 * else must not make us send anything */
		const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
		if (ci != NULL && ci->outbound)
			stray_invite_2xx(b, conn, resp);
	}
	return SIP_HOOK_DEFAULT;
}

static void
on_closed(void *arg, uint64_t conn)
{
	struct b2bua *b = arg;
	struct call *c;
	int legi;

	agent_conn_closed(b, conn);
	out_conn_closed(b, conn);
	bridge_conn_closed(b, conn); /* a bridge call still ringing on it fails */
	while ((c = call_by_conn(b, conn, &legi)) != NULL) {
		if (legi == 1 && c->state != CALL_ANSWERED && c->b_invite != NULL && !c->b_final &&
		    !c->outbound) {
			agent_failed(c, "connection_lost");
			continue;
		}
		c->leg[legi].conn = 0;
		if (c->state != CALL_ANSWERED)
			call_end(c, legi == 0 ? "cancelled" : "failed", leg_who(c, legi),
			         "connection_lost", 503);
		/* an answered call survives a closed connection: the peer may reconnect for
		 * its BYE, and the media inactivity timer ends it otherwise */
	}
}

/* A connection went quiet for idle_timeout: keep it while a call uses it, including a
 * call that has just ended and may still be waiting for the answer to its BYE. */
static bool
on_idle(void *arg, uint64_t conn)
{
	struct b2bua *b = arg;

	for (struct call *c = b->calls; c != NULL; c = c->next)
		if (c->leg[0].conn == conn || c->leg[1].conn == conn)
			return true;
	return false;
}

/* The SIP server's hooks into the B2BUA that live in this file (b2bua_life.c adds
 * on_tls and registers them). */
void
b2bua_sip_hooks(struct sip_server_hooks *h)
{
	h->request_cb = on_request;
	h->response_cb = on_response;
	h->closed_cb = on_closed;
	h->busy_cb = on_idle;
}
