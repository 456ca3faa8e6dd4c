/*
 * sip_dispatch.c: what the SIP server does with one framed message.
 *
 * Responsible for parsing (libosip2 via lib/sip_util), validating (the gate:
 * sip_util_check_request/_response; a request that fails it gets its 4xx/505, a response
 * is dropped, both counted in parse_errors, and no hook ever sees either), handing
 * requests and responses to the hooks, and the stateless answers of a UAS without calls
 * (OPTIONS 200, INVITE 503, 405/481/501/416/420/400/505), including 400/501 for
 * requests libosip2 refuses when they can still be addressed. Not responsible for
 * connections, buffering or timeouts (daemon/sip_server.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "sip_server_int.h"
#include "sip_util.h"

/* Methods we know but do not accept at all (405 with Allow). */
static bool
method_not_allowed(const char *m)
{
	static const char *const known[] = {"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH",
	                                    "REFER",    "MESSAGE",   NULL};
	for (size_t i = 0; known[i] != NULL; i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

static bool
method_allowed(const char *m)
{
	static const char *const allowed[] = {"INVITE", "ACK",  "BYE",   "CANCEL", "OPTIONS",
	                                      "UPDATE", "INFO", "PRACK", NULL};
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(m, allowed[i]) == 0)
			return true;
	return false;
}

/* The stateless answers a UAS without calls gives. */
static void
default_request(struct sip_server *s, struct sip_conn *c, const osip_message_t *req)
{
	static const char *const allow[] = {"Allow: " SIP_SERVER_ALLOW, NULL};
	static const char *const options[] = {"Allow: " SIP_SERVER_ALLOW,
	                                      "Supported: 100rel, timer", "Accept: application/sdp",
	                                      NULL};
	static const char *const retry[] = {"Retry-After: 30", NULL};
	const char *m = req->sip_method;
	const char *scheme = req->req_uri != NULL ? req->req_uri->scheme : NULL;
	char *tags = NULL;
	int rc;
	uint64_t id = c->info.id;

	if (scheme == NULL || (strcasecmp(scheme, "sip") != 0 && strcasecmp(scheme, "sips") != 0 &&
	                       strcasecmp(scheme, "tel") != 0)) {
		sip_server_reply(s, id, req, 416, NULL, NULL);
		return;
	}
	if (strcmp(m, "CANCEL") != 0 && (rc = sip_util_unsupported(req, NULL, &tags)) != 0) {
		/* a list longer than we write back is refused whole, never cut */
		sip_server_reply(s, id, req, 400, "Too Many Option-Tags in Require", NULL);
		return;
	}
	if (tags != NULL) {
		/* No extension applies outside a call (100rel is for INVITEs, which the
		 * B2BUA takes): every option-tag of every Require is unsupported here. */
		size_t n = sizeof("Unsupported: ") + strlen(tags);
		char *line = malloc(n);
		const char *hdrs[] = {line, NULL};

		if (line != NULL) {
			snprintf(line, n, "Unsupported: %s", tags);
			sip_server_reply(s, id, req, 420, NULL, hdrs);
			free(line);
		}
		free(tags);
		return;
	}
	if (strcmp(m, "OPTIONS") == 0)
		sip_server_reply(s, id, req, 200, NULL, options);
	else if (strcmp(m, "INVITE") == 0)
		sip_server_reply(s, id, req, 503, NULL, retry);
	else if (strcmp(m, "BYE") == 0 || strcmp(m, "CANCEL") == 0 || strcmp(m, "UPDATE") == 0 ||
	         strcmp(m, "INFO") == 0 || strcmp(m, "PRACK") == 0)
		sip_server_reply(s, id, req, 481, NULL, NULL);
	else if (method_not_allowed(m))
		sip_server_reply(s, id, req, 405, NULL, allow);
	else
		sip_server_reply(s, id, req, 501, NULL, allow);
}

static void
handle_request(struct sip_server *s, struct sip_conn *c, osip_message_t *req)
{
	static const char *const allow[] = {"Allow: " SIP_SERVER_ALLOW, NULL};
	const char *why;
	bool unknown;
	int status;

	s->stats.requests++;
	if (!sip_util_can_respond(req)) {
		s->stats.parse_errors++;
		log_debug("conn %llu %s: request without Via/From/To/Call-ID/CSeq dropped",
		          (unsigned long long)c->info.id, c->info.peer_str);
		goto drop;
	}
	/* The gate: no hook sees a request that fails it. */
	status = sip_util_check_request(req, &why);
	unknown = sip_util_is_token(req->sip_method) && !method_allowed(req->sip_method) &&
	          !method_not_allowed(req->sip_method);
	if (status != 0 && !unknown)
		s->stats.parse_errors++;
	if (strcmp(req->sip_method, "ACK") == 0) {
		/* Never answered; without a transaction layer there is nothing to match. */
		if (status == 0 && s->hooks.request_cb != NULL &&
		    s->hooks.request_cb(s->hooks.arg, c->info.id, req) == SIP_HOOK_TAKEN)
			return;
		goto drop;
	}
	if (status == 505) {
		sip_server_reply(s, c->info.id, req, 505, why, NULL);
		goto drop;
	}
	if (unknown) {
		/* Unknown method: 501 even when other headers are off (RFC 4475 mismatch02). */
		sip_server_reply(s, c->info.id, req, 501, NULL, allow);
		goto drop;
	}
	if (status != 0) {
		log_debug("conn %llu %s: %s %d %s", (unsigned long long)c->info.id,
		          c->info.peer_str, req->sip_method, status, why);
		sip_server_reply(s, c->info.id, req, status, why, NULL);
		goto drop;
	}
	if (sip_admit_request(s, c, req)) /* scanner, sweep, or over budget: answered */
		goto drop;
	if (s->hooks.request_cb != NULL &&
	    s->hooks.request_cb(s->hooks.arg, c->info.id, req) == SIP_HOOK_TAKEN)
		return;
	default_request(s, c, req);
drop:
	osip_message_free(req);
}

/* Whether the Request-URI at p (up to the line end) has a scheme we serve. */
static bool
uri_scheme_known(const char *p, size_t len)
{
	static const char *const schemes[] = {"sip:", "sips:", "tel:", NULL};

	for (size_t i = 0; schemes[i] != NULL; i++) {
		size_t n = strlen(schemes[i]);
		if (len >= n && strncasecmp(p, schemes[i], n) == 0)
			return true;
	}
	/* Not a scheme at all (e.g. "<sip:...>"): that is a 400, not a 416. */
	for (size_t i = 0; i < len && p[i] != ':'; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '+' && p[i] != '-' && p[i] != '.')
			return true;
	return false;
}

/*
 * Answer a request libosip2 refused (or whose stream broke framing, `framing`: always
 * 400), if it can be addressed: first from a reparse of its addressing headers, else
 * from their raw text. ACK is never answered.
 */
static void
conn_reply_unparsed(struct sip_conn *c, const char *buf, size_t len, const char *why, bool framing)
{
	static const char *const allow[] = {"Allow: " SIP_SERVER_ALLOW, NULL};
	osip_message_t *m = NULL;
	const char *sp = memchr(buf, ' ', len);
	char method[32], *text;
	size_t tlen, mlen = sp != NULL ? (size_t)(sp - buf) : 0;
	bool unknown;
	int status;

	if (mlen == 0)
		goto drop;
	/* A method longer than any we know is simply unknown. */
	snprintf(method, sizeof(method), "%.*s", (int)(mlen < sizeof(method) ? mlen : 0), buf);
	if (strcmp(method, "ACK") == 0)
		return;
	/* An unknown method is 501 whatever else is wrong (RFC 4475 intmeth, mismatch02). */
	unknown = !framing && !method_allowed(method) && !method_not_allowed(method);
	status = unknown ? 501 : 400;
	if (unknown)
		why = NULL;
	else if (!framing && !uri_scheme_known(sp + 1, len - mlen - 1)) {
		status = 416; /* RFC 4475 novelsc: libosip2 refuses soap.beep:// */
		why = "Unsupported URI Scheme";
	}
	if (sip_util_salvage(buf, len, &m) == 0) {
		sip_server_reply(c->srv, c->info.id, m, status, why, unknown ? allow : NULL);
		osip_message_free(m);
		return;
	}
	if (sip_util_raw_response(buf, len, status, unknown ? "Not Implemented" : why,
	                          unknown ? allow[0] : NULL, &text, &tlen) == 0) {
		(void)sip_server_send_raw(c->srv, c->info.id, text, tlen);
		free(text);
		return;
	}
drop:
	log_debug("conn %llu %s: unparseable message dropped (cannot be answered)",
	          (unsigned long long)c->info.id, c->info.peer_str);
}

/* One framed message buf[0..len). */
void
sip_dispatch_message(struct sip_server *s, struct sip_conn *c, const char *buf, size_t len)
{
	osip_message_t *m;

	if (sip_util_parse(buf, len, &m) != 0) {
		s->stats.parse_errors++;
		if (len >= 4 && memcmp(buf, "SIP/", 4) == 0)
			return; /* a broken response: nothing to answer */
		conn_reply_unparsed(c, buf, len, "Malformed Message", false);
		return;
	}
	if (MSG_IS_RESPONSE(m)) {
		const char *why;

		s->stats.responses++;
		/* The gate: a response no handler could safely read is dropped and counted. */
		if (sip_util_check_response(m, &why) != 0) {
			s->stats.parse_errors++;
			log_debug("conn %llu %s: malformed response %d dropped (%s)",
			          (unsigned long long)c->info.id, c->info.peer_str, m->status_code,
			          why);
			osip_message_free(m);
			return;
		}
		if (s->hooks.response_cb != NULL &&
		    s->hooks.response_cb(s->hooks.arg, c->info.id, m) == SIP_HOOK_TAKEN)
			return;
		log_debug("conn %llu %s: response %d matches no transaction, discarded",
		          (unsigned long long)c->info.id, c->info.peer_str, m->status_code);
		osip_message_free(m);
		return;
	}
	handle_request(s, c, m);
}

/* The stream broke a framing rule: answer 400 if the header block is readable, close. */
void
sip_dispatch_framing_error(struct sip_conn *c, const char *buf, size_t len, const char *why)
{
	const char *end;
	size_t hlen = 0;

	c->srv->stats.framing_closed++;
	log_refusal((const struct sockaddr *)&c->info.peer, "framing",
	            "conn %llu %s: framing error (%s), closing", (unsigned long long)c->info.id,
	            c->info.peer_str, why);
	/* The header block, when it is all here, still addresses a 400. */
	if (c->frame.header_end > 0 && c->frame.header_end <= len)
		hlen = c->frame.header_end;
	else if ((end = memmem(buf, len, "\r\n\r\n", 4)) != NULL)
		hlen = (size_t)(end - buf) + 4;
	if (hlen > 0)
		conn_reply_unparsed(c, buf, hlen, why, true);
	sip_conn_close_after_flush(c);
}
