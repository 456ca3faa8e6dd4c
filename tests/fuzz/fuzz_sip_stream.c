/*
 * fuzz_sip_stream: the signalling path as the daemon runs it, minus TLS and sockets. The
 * real SIP server (daemon/sip_server.c: connections, framing, limits; sip_dispatch.c:
 * parsing, validation, stateless answers) and the real B2BUA (daemon/b2bua*.c) with the
 * real media engine and telemetry run on one event loop; connections are bufferevent
 * pairs adopted by the server (sip_server_adopt), and the B2BUA's connections to agents
 * come back to the harness through the server's connect hook.
 *
 * An input is a sequence of records: op, slot, length (2 octets, big-endian), payload.
 * Slots 0 and 1 are two connections from the trunk (127.0.0.1), slot 2 one from a stranger
 * (192.0.2.66); slots 3..5 are the connections sipwarden opened (to agents, or to the
 * trunk's target for a call out), in order; slot 6 is an agent calling in with its pinned
 * client certificate (its INVITEs are calls out through the trunk).
 *   op 0: the payload arrives on the slot (raw bytes: requests, responses, garbage);
 *   op 1: answer the last request sipwarden sent on the slot (not a PRACK): status from a table
 *         (payload[0]), with a well-formed SRTP answer to its offer when payload[1] is odd,
 *         else with the rest of the payload as the body; a 101..199 is reliable (Require:
 *         100rel, RSeq 1 + payload[1] / 4) when payload[1] & 2;
 *   op 2: a request inside the dialog of the last message on the slot (BYE, re-INVITE,
 *         UPDATE, INFO, ACK, OPTIONS, CANCEL, PRACK by payload[0]; payload[1..] may replace
 *         the body), built from what sipwarden sent, as a peer would (a PRACK's RAck names
 *         the RSeq and CSeq of that message, when it has an RSeq);
 *   op 3: the slot's peer hangs up;
 *   op 4: the event loop runs (media events, deferred callbacks);
 *   op 5: like op 0, but placeholders in the payload are first replaced by what sipwarden
 *         last sent on the slot: ${tag} its own tag in the dialog (To-tag of its responses,
 *         From-tag of its requests), ${callid} the Call-ID of its last request, and
 *         ${branch:METHOD} the top Via branch of its last METHOD request. Seeds captured
 *         from real peers (tests/fuzz/capture2seeds.py) replay this way: the peer's bytes
 *         as they were, the identifiers sipwarden chose in this run.
 * The op is the op octet mod 5, except that an octet of 5 mod 10 is op 5 (op 0 when the
 * payload holds no placeholder, as it was before op 5 existed).
 * Responses and requests built by ops 1 and 2 carry the right tags and branches, so the
 * fuzzer reaches call set-up, answered calls, relayed re-INVITEs and tear-down, and can
 * still put any bytes anywhere with op 0 (forged responses included). Every input ends
 * with b2bua_shutdown() and b2bua_free(): no call, connection or key may outlive it
 * (LeakSanitizer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <osipparser2/osip_parser.h>

#include "b2bua.h"
#include "conf.h"
#include "fuzz.h"
#include "log.h"
#include "media.h"
#include "sdes.h"
#include "sdp.h"
#include "sip_server_int.h"
#include "sip_util.h"
#include "sipframe.h"
#include "telemetry.h"
#include "testnet.h"
#include "tmpdir.h"
#include "tls.h"

#define NSLOTS    7
#define NINBOUND  3 /* slots 0..2: connections to sipwarden's listener */
#define NOUTBOUND 3 /* slots 3..5: connections sipwarden opened */
#define AGENT_IN  6 /* slot 6: an agent presenting the certificate [agent a1] pins */

/* the pinned "certificate" of slot 6: its SHA-256, as [agent a1] fingerprint says */
static const uint8_t agent_fp[32] = {0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                     0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                     0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                     0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1};

/* What the harness knows of one connection, from its peer's side. */
struct slot {
	struct bufferevent *peer; /* our end of the pair; NULL: not connected */
	uint64_t id;              /* the server's connection id */
	osip_message_t *last_req; /* last request sipwarden sent here */
	osip_message_t *last_msg; /* last message (request or response) sipwarden sent here */
	char to_tag[24];          /* our tag in the dialog of last_req */
	unsigned cseq;            /* our next CSeq in that dialog */
	unsigned branch;          /* our next Via branch number */
	/* op 5: what sipwarden chose on this slot */
	char sw_tag[64];     /* its own tag in the last dialog */
	char sw_callid[128]; /* Call-ID of its last request */
	struct {             /* top Via branch of its last request of a method */
		char method[16];
		char branch[96];
	} sw_branch[6];
	unsigned sw_nbranch; /* entries written (ring) */
};

static struct {
	char dir[256];
	struct event_base *base;
	struct conf *conf;
	SSL_CTX *ctx;
	struct sip_server *sip;
	struct media_engine *media;
	struct telemetry *tel;
	struct slot slot[NSLOTS];
	unsigned nout; /* agent connections opened in this input */
	bool trace;    /* SW_FUZZ_TRACE set: print each message's first line */
} h;

static void
trace(const struct slot *sl, const char *dir, const char *buf, size_t len)
{
	const char *eol = memchr(buf, '\r', len), *cseq = NULL;
	int clen = 0;

	if (!h.trace)
		return;
	/* the CSeq too, so that a trace tells which request a response answers */
	for (size_t i = 0; i + 7 < len && cseq == NULL; i++)
		if (buf[i] == '\n' && strncasecmp(buf + i + 1, "CSeq:", 5) == 0) {
			const char *e;
			for (cseq = buf + i + 6; cseq < buf + len && *cseq == ' '; cseq++)
				;
			e = memchr(cseq, '\r', len - (size_t)(cseq - buf));
			clen = e != NULL && e - cseq < 40 ? (int)(e - cseq) : 0;
		}
	fprintf(stderr, "slot %d %s %.*s [%.*s]\n", (int)(sl - h.slot), dir,
	        (int)(eol != NULL ? (size_t)(eol - buf)
	              : len > 60  ? 60
	                          : len),
	        buf, clen, clen > 0 ? cseq : "");
}

static const int statuses[] = {100, 180, 183, 200, 202, 300, 401, 404, 408, 481,
                               486, 487, 488, 491, 500, 503, 600, 603, 199, 299};
static const char offer[] =
        "v=0\r\no=peer 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 42000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
static const char *const methods[] = {"BYE", "INVITE",  "UPDATE", "INFO",
                                      "ACK", "OPTIONS", "CANCEL", "PRACK"};

/* The peer hangs up: the server's end sees EOF (a pair says so only when flushed). */
static void
slot_hangup(struct slot *sl)
{
	if (sl->peer == NULL)
		return;
	bufferevent_flush(sl->peer, EV_WRITE, BEV_FINISHED);
	bufferevent_free(sl->peer);
	sl->peer = NULL;
}

static void
slot_clear(struct slot *sl)
{
	slot_hangup(sl);
	osip_message_free(sl->last_req);
	osip_message_free(sl->last_msg);
	memset(sl, 0, sizeof(*sl));
}

static void
run_loop(void)
{
	for (int i = 0; i < 8; i++)
		event_base_loop(h.base, EVLOOP_NONBLOCK);
}

/* Copy `v` into a fixed field when it fits (harness bookkeeping: a longer one is ignored). */
static void
keep(char *dst, size_t size, const char *v)
{
	if (v != NULL && strlen(v) < size)
		memcpy(dst, v, strlen(v) + 1);
}

/* For op 5: the tag, Call-ID and branches sipwarden chose in message `m` on slot `sl`. */
static void
slot_learn(struct slot *sl, const osip_message_t *m)
{
	osip_generic_param_t *tag = NULL, *br = NULL;
	osip_via_t *via = NULL;

	if (MSG_IS_RESPONSE(m)) {
		if (m->to != NULL && osip_to_get_tag(m->to, &tag) == 0 && tag != NULL)
			keep(sl->sw_tag, sizeof(sl->sw_tag), tag->gvalue);
		return;
	}
	if (m->from != NULL && osip_from_get_tag(m->from, &tag) == 0 && tag != NULL)
		keep(sl->sw_tag, sizeof(sl->sw_tag), tag->gvalue);
	if (m->call_id != NULL && m->call_id->number != NULL) {
		char *cid = NULL;
		if (osip_call_id_to_str(m->call_id, &cid) == 0)
			keep(sl->sw_callid, sizeof(sl->sw_callid), cid);
		osip_free(cid);
	}
	if (m->sip_method != NULL && osip_message_get_via(m, 0, &via) >= 0 && via != NULL &&
	    osip_via_param_get_byname(via, "branch", &br) >= 0 && br != NULL &&
	    br->gvalue != NULL) {
		unsigned i, n = sizeof(sl->sw_branch) / sizeof(sl->sw_branch[0]);
		for (i = 0; i < n && strcmp(sl->sw_branch[i].method, m->sip_method) != 0; i++)
			;
		if (i == n)
			i = sl->sw_nbranch++ % n;
		sl->sw_branch[i].method[0] = '\0';
		keep(sl->sw_branch[i].branch, sizeof(sl->sw_branch[i].branch), br->gvalue);
		keep(sl->sw_branch[i].method, sizeof(sl->sw_branch[i].method), m->sip_method);
	}
}

/* sipwarden wrote to slot `sl`: keep the last request and message for ops 1 and 2. */
static void
peer_read_cb(struct bufferevent *bev, void *arg)
{
	struct slot *sl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct sipframe_limits lim = {65536, 1024, 65536};

	for (;;) {
		struct sipframe f;
		enum sipframe_kind kind = SIPFRAME_NEED_MORE;
		size_t len = evbuffer_get_length(in), consume = 0;
		const char *why, *buf;
		osip_message_t *m = NULL;

		if (len == 0 || (buf = (const char *)evbuffer_pullup(in, -1)) == NULL)
			return;
		sipframe_init(&f, &lim);
		if (sipframe_scan(&f, buf, len, &kind, &consume, &why) != 0) {
			/* sipwarden itself broke framing toward a peer */
			FUZZ_CHECK(!"sipwarden sent a message that does not frame");
		}
		if (kind == SIPFRAME_NEED_MORE)
			return;
		if (kind == SIPFRAME_MESSAGE) {
			trace(sl, "<-", buf, consume);
			/* everything sipwarden sends is framed right; it parses, but for a raw
			 * answer that echoes what libosip2 could not parse, and a few URI forms
			 * libosip2 writes but cannot read back (fuzz_sip_msg.c) */
			fuzz_check_one_message(buf, consume);
			if (sip_util_parse(buf, consume, &m) != 0) {
				FUZZ_CHECK(memcmp(buf, "SIP/2.0 ", 8) == 0);
				evbuffer_drain(in, consume);
				continue;
			}
			slot_learn(sl, m);
			/* sipwarden's PRACKs go unanswered: op 1 keeps answering its INVITE */
			if (MSG_IS_REQUEST(m) && !MSG_IS_ACK(m) && !MSG_IS_PRACK(m)) {
				osip_message_free(sl->last_req);
				if (osip_message_clone(m, &sl->last_req) != 0)
					sl->last_req = NULL;
				snprintf(sl->to_tag, sizeof(sl->to_tag), "p%llu",
				         (unsigned long long)(sl - h.slot));
			}
			osip_message_free(sl->last_msg);
			sl->last_msg = m;
		}
		evbuffer_drain(in, consume);
	}
}

static void
peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct slot *sl = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_free(sl->peer);
		sl->peer = NULL;
	}
}

/* A pair whose one end the server adopts and whose other end is the slot's peer. */
static int
slot_connect(struct slot *sl, const struct sockaddr *sa, socklen_t salen, bool outbound)
{
	struct bufferevent *pair[2];
	struct tls_info tls = {.version = TLS1_3_VERSION,
	                       .version_name = "TLSv1.3",
	                       .cipher = "TLS_AES_256_GCM_SHA384"};

	if (sl == &h.slot[AGENT_IN]) {
		tls.has_peer_cert = tls.peer_verified = true;
		memcpy(tls.peer_fp, agent_fp, sizeof(agent_fp));
	}
	if (bufferevent_pair_new(h.base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, pair) !=
	    0)
		return -ENOMEM;
	sl->peer = pair[1];
	bufferevent_setcb(sl->peer, peer_read_cb, NULL, peer_event_cb, sl);
	bufferevent_enable(sl->peer, EV_READ | EV_WRITE);
	sl->branch = 1;
	sl->cseq = 100;
	if (sip_server_adopt(h.sip, pair[0], sa, salen, outbound, &tls, &sl->id) != 0) {
		bufferevent_free(sl->peer);
		sl->peer = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The B2BUA opens a connection (an agent, a trunk's target): the next outbound slot. */
static int
connect_hook(void *arg, const struct sockaddr *sa, socklen_t salen, uint64_t *id)
{
	struct slot *sl;

	(void)arg;
	if (h.nout >= NOUTBOUND)
		return -ECONNREFUSED;
	sl = &h.slot[NINBOUND + h.nout++];
	slot_clear(sl);
	if (slot_connect(sl, sa, salen, true) != 0)
		return -ENOMEM;
	*id = sl->id;
	return 0;
}

static struct slot *
slot_get(unsigned i)
{
	struct slot *sl = &h.slot[i % NSLOTS];

	if (sl->peer == NULL && (i % NSLOTS < NINBOUND || i % NSLOTS == AGENT_IN)) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		sin.sin_port = htons((uint16_t)(40000 + i % NSLOTS));
		inet_pton(AF_INET, i % NSLOTS == 2 ? "192.0.2.66" : "127.0.0.1", &sin.sin_addr);
		osip_message_free(sl->last_req);
		osip_message_free(sl->last_msg);
		memset(sl, 0, sizeof(*sl));
		if (slot_connect(sl, (struct sockaddr *)&sin, sizeof(sin), false) != 0)
			return NULL;
	}
	return sl->peer != NULL ? sl : NULL;
}

static void
send_text(struct slot *sl, const char *text, size_t len)
{
	trace(sl, "->", text, len);
	bufferevent_write(sl->peer, text, len);
	run_loop();
}

/* A well-formed SRTP answer to the offer in `req`, or NULL. */
static char *
srtp_answer(const osip_message_t *req)
{
	osip_body_t *body = NULL;
	struct sdp_desc *d = NULL;
	struct srtp_keys k = {0};
	const struct sdp_stream *m;
	char line[256], *out;
	const char *why;
	int n;

	if (osip_message_get_body(req, 0, &body) != 0 || body == NULL || body->body == NULL ||
	    sdp_parse(&d, body->body, body->length, &why) != 0)
		return NULL;
	if (d->nmedia == 0 || (m = &d->media[0])->ncrypto == 0 || m->nformats == 0 ||
	    srtp_keys_generate(&k, m->crypto[0].suite) != 0) {
		sdp_desc_free(d);
		return NULL;
	}
	k.tag = m->crypto[0].tag;
	n = sdes_format(&k, true, line, sizeof(line));
	srtp_keys_wipe(&k);
	if (n < 0 || (out = malloc(1024)) == NULL) {
		sdp_desc_free(d);
		return NULL;
	}
	snprintf(out, 1024,
	         "v=0\r\no=agent 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	         "m=audio 41000 %s %u\r\na=rtpmap:%u %s\r\na=sendrecv\r\na=crypto:%s\r\n",
	         m->proto_text, m->formats[0].pt, m->formats[0].pt,
	         m->formats[0].rtpmap != NULL ? m->formats[0].rtpmap : "PCMU/8000", line);
	OPENSSL_cleanse(line, sizeof(line));
	sdp_desc_free(d);
	return out;
}

static void
set_body(osip_message_t *m, const char *body, size_t len)
{
	if (len == 0)
		return;
	osip_message_set_content_type(m, "application/sdp");
	osip_message_set_body(m, body, len);
}

/* op 1: answer the last request sipwarden sent on the slot. */
static void
op_respond(struct slot *sl, const uint8_t *p, size_t n)
{
	osip_message_t *resp = NULL;
	char *text = NULL, *sdp = NULL;
	size_t len;
	int status = statuses[(n > 0 ? p[0] : 0) % (sizeof(statuses) / sizeof(statuses[0]))];

	if (sl->last_req == NULL || sip_util_response_new(&resp, sl->last_req, status, NULL,
	                                                  status > 100 ? sl->to_tag : NULL) != 0)
		return;
	osip_message_set_contact(resp, "<sip:peer@127.0.0.1:5070;transport=tls>");
	if (n > 1 && (p[1] & 2) && status > 100 && status < 200) { /* RFC 3262 */
		char rseq[8];
		snprintf(rseq, sizeof(rseq), "%u", 1u + p[1] / 4u);
		sip_util_add_header(resp, "Require", "100rel");
		sip_util_add_header(resp, "RSeq", rseq);
	}
	if (n > 1 && (p[1] & 1) && (sdp = srtp_answer(sl->last_req)) != NULL)
		set_body(resp, sdp, strlen(sdp));
	else if (n > 2)
		set_body(resp, (const char *)p + 2, n - 2);
	if (sip_util_serialize(resp, &text, &len) == 0) {
		send_text(sl, text, len);
		osip_free(text);
	}
	free(sdp);
	osip_message_free(resp);
}

/* op 2: a request from the slot's peer inside the dialog of the last message. */
static void
op_request(struct slot *sl, const uint8_t *p, size_t n)
{
	const char *method = methods[(n > 0 ? p[0] : 0) % (sizeof(methods) / sizeof(methods[0]))];
	osip_message_t *m = sl->last_msg, *req = NULL;
	osip_from_t *from = NULL, *to = NULL;
	osip_contact_t *ct = NULL;
	char *fs = NULL, *ts = NULL, *cid = NULL, *ruri = NULL, *text = NULL, *sdp = NULL;
	char head[4096], rack[96] = "";
	const char *rseq;
	size_t len;
	bool we_called;

	if (m == NULL || m->from == NULL || m->to == NULL || m->call_id == NULL)
		return;
	/* a response to our request: we are the From; a request from sipwarden: its To */
	we_called = MSG_IS_RESPONSE(m);
	if (osip_from_clone(we_called ? m->from : m->to, &from) != 0 ||
	    osip_to_clone(we_called ? m->to : m->from, &to) != 0)
		goto out;
	if (!we_called && osip_from_set_tag(from, osip_strdup(sl->to_tag)) != 0)
		goto out;
	if (osip_message_get_contact(m, 0, &ct) >= 0 && ct != NULL && ct->url != NULL)
		osip_uri_to_str(ct->url, &ruri);
	else
		ruri = osip_strdup("sip:sipwarden@127.0.0.1");
	if (strcmp(method, "PRACK") == 0 && MSG_IS_RESPONSE(m) && m->cseq != NULL &&
	    (rseq = sip_util_header(m, "rseq")) != NULL && strlen(rseq) < 16 &&
	    strlen(m->cseq->number) < 16)
		snprintf(rack, sizeof(rack), "RAck: %s %s INVITE\r\n", rseq, m->cseq->number);
	if (osip_from_to_str(from, &fs) != 0 || osip_to_to_str(to, &ts) != 0 ||
	    osip_call_id_to_str(m->call_id, &cid) != 0 || ruri == NULL)
		goto out;
	snprintf(head, sizeof(head),
	         "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5070;branch=z9hG4bKfz%u\r\n"
	         "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
	         "Contact: <sip:peer@127.0.0.1:5070;transport=tls>\r\n%sContent-Length: 0\r\n\r\n",
	         method, ruri, sl->branch++, fs, ts, cid, sl->cseq++, method, rack);
	if (sip_util_parse(head, strlen(head), &req) != 0)
		goto out;
	if (strcmp(method, "INVITE") == 0 || strcmp(method, "UPDATE") == 0) {
		/* a re-offer: the harness's SRTP answer shape works as an offer too */
		if (n > 1 && (p[1] & 1) && sl->last_req != NULL &&
		    (sdp = srtp_answer(sl->last_req)) != NULL)
			set_body(req, sdp, strlen(sdp));
		else if (n > 1 && (p[1] & 1))
			set_body(req, offer, strlen(offer));
		else if (n > 2)
			set_body(req, (const char *)p + 2, n - 2);
	} else if (n > 2)
		set_body(req, (const char *)p + 2, n - 2);
	if (sip_util_serialize(req, &text, &len) == 0) {
		send_text(sl, text, len);
		osip_free(text);
	}
out:
	free(sdp);
	osip_message_free(req);
	osip_from_free(from);
	osip_to_free(to);
	osip_free(fs);
	osip_free(ts);
	osip_free(cid);
	osip_free(ruri);
}

/* The value of placeholder ${name} on slot `sl` (op 5), or NULL: not known. */
static const char *
placeholder(const struct slot *sl, const char *name, size_t len)
{
	if (len == 3 && memcmp(name, "tag", 3) == 0)
		return sl->sw_tag[0] != '\0' ? sl->sw_tag : NULL;
	if (len == 6 && memcmp(name, "callid", 6) == 0)
		return sl->sw_callid[0] != '\0' ? sl->sw_callid : NULL;
	if (len > 7 && memcmp(name, "branch:", 7) == 0)
		for (size_t i = 0; i < sizeof(sl->sw_branch) / sizeof(sl->sw_branch[0]); i++)
			if (strlen(sl->sw_branch[i].method) == len - 7 &&
			    memcmp(sl->sw_branch[i].method, name + 7, len - 7) == 0)
				return sl->sw_branch[i].branch;
	return NULL;
}

/* op 5: the payload with its placeholders replaced; an unknown one stays as it is. */
static void
op_raw_subst(struct slot *sl, const uint8_t *p, size_t n)
{
	struct evbuffer *out = evbuffer_new();
	size_t i = 0, lit = 0, len;
	const char *v;

	if (out == NULL)
		return;
	while (i + 3 < n) {
		const uint8_t *end;
		if (p[i] != '$' || p[i + 1] != '{' ||
		    (end = memchr(p + i + 2, '}', n - i - 2 < 32 ? n - i - 2 : 32)) == NULL ||
		    (v = placeholder(sl, (const char *)p + i + 2, (size_t)(end - p) - i - 2)) ==
		            NULL) {
			i++;
			continue;
		}
		evbuffer_add(out, p + lit, i - lit);
		evbuffer_add(out, v, strlen(v));
		i = lit = (size_t)(end - p) + 1;
	}
	evbuffer_add(out, p + lit, n - lit);
	len = evbuffer_get_length(out);
	if (len > 0)
		send_text(sl, (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}

/* The certificates, keys and config go with the process (libFuzzer and the replay both
 * end by exit()); a crash keeps them, with its artifact. */
static void
remove_dir(void)
{
	if (h.dir[0] != '\0')
		tmpdir_rm_tree(h.dir);
}

/* Setup cannot go on: say which step failed (a bare abort() left a replay's log empty). */
static void
setup_fail(const char *what)
{
	fprintf(stderr, "fuzz_sip_stream: setup: %s failed (%s)\n", what, strerror(errno));
	abort();
}

static void
setup(void)
{
	const char *mk = getenv("SW_MKCERTS");
	char cmd[1024], path[sizeof(h.dir) + 16], err[CONF_ERR_MAX];
	struct media_engine_conf mc = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&mc.local;
	unsigned base_port = 20000 + (unsigned)(getpid() % 2000) * 16;
	char fp[2 * sizeof(agent_fp) + 1], addr[INET_ADDRSTRLEN];
	FILE *f;

	for (size_t i = 0; i < sizeof(agent_fp); i++)
		snprintf(fp + 2 * i, 3, "%02x", agent_fp[i]);

	/* its own address: on 127.0.0.1, its pid-derived listener port could be taken */
	testnet_loopback(addr, sizeof(addr));
	if (tmpdir_mkdtemp(h.dir, sizeof(h.dir), "sw-fuzz-stream") == NULL)
		setup_fail("mkdtemp");
	atexit(remove_dir);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >/dev/null 2>&1", mk != NULL ? mk : SW_FUZZ_MKCERTS,
	         h.dir);
	if (system(cmd) != 0)
		setup_fail(cmd);
	snprintf(path, sizeof(path), "%s/sw.conf", h.dir);
	if ((f = fopen(path, "w")) == NULL)
		setup_fail(path);
	fprintf(f,
	        "[general]\nlog_level = error\n"
	        "[tls]\nlisten = %s:%u\ncertificate = %s/server.crt\n"
	        "private_key = %s/server.key\nca_file = %s/ca.crt\n"
	        "[sip]\nagent_timeout = 1s\n"
	        "[media]\naddress = %s\nport_min = %u\nport_max = %u\nworkers = 1\n"
	        "[telemetry]\nsocket = %s/tel.sock\n"
	        "[pool]\nprobe_interval = 0\n"
	        "[trunk t]\nsource = 127.0.0.1/32\npass_headers = X-Case\n"
	        "target = 127.0.0.1:5080\n"
	        "[agent a1]\naddress = 127.0.0.1:5071\nverify = no\nfingerprint = %s\n"
	        "[agent a2]\naddress = 127.0.0.1:5072\nverify = no\n",
	        addr, base_port, h.dir, h.dir, h.dir, addr, base_port + 2, base_port + 15, h.dir,
	        fp);
	fclose(f);
	if ((h.conf = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_sip_stream: %s\n", err);
		abort();
	}
	h.trace = getenv("SW_FUZZ_TRACE") != NULL;
	log_init("fuzz", h.trace ? LOG_LVL_DEBUG : LOG_LVL_ERROR, false);
	sip_util_init();
	if (media_global_init() != 0)
		setup_fail("media_global_init");
	if ((h.base = event_base_new()) == NULL)
		setup_fail("event_base_new");
	if ((h.ctx = tls_server_ctx_new(&h.conf->tls, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_sip_stream: %s\n", err);
		setup_fail("tls_server_ctx_new");
	}
	if (sip_server_new(&h.sip, h.base, h.conf, h.ctx, NULL) != 0)
		setup_fail("sip_server_new (the listener)");
	sip_server_set_connect_hook(h.sip, connect_hook, NULL);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	mc.workers = 1;
	mc.port_min = (uint16_t)(base_port + 2);
	mc.port_max = (uint16_t)(base_port + 15);
	if (media_engine_new(&h.media, &mc) != 0)
		setup_fail("media_engine_new");
	snprintf(path, sizeof(path), "%s/tel.sock", h.dir);
	if ((h.tel = telemetry_new(h.base, path, 0600, NULL, 1000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_sip_stream: %s\n", err);
		setup_fail("telemetry_new");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct b2bua *b = NULL;
	char err[256];
	size_t off = 0;
	unsigned records = 0;

	if (h.base == NULL)
		setup();
	h.nout = 0;
	if (b2bua_new(&b, h.base, h.conf, h.sip, h.media, h.tel, err, sizeof(err)) != 0)
		abort();
	while (off + 4 <= size && records++ < 64) {
		unsigned op = data[off] % 10 == 5 ? 5 : data[off] % 5, si = data[off + 1];
		size_t n = (size_t)data[off + 2] << 8 | data[off + 3];
		const uint8_t *p = data + off + 4;
		struct slot *sl;

		if (n > size - off - 4)
			n = size - off - 4;
		off += 4 + n;
		if (op == 4) {
			run_loop();
			continue;
		}
		if ((sl = slot_get(si)) == NULL)
			continue;
		switch (op) {
		case 0:
			send_text(sl, (const char *)p, n);
			break;
		case 1:
			op_respond(sl, p, n);
			break;
		case 2:
			op_request(sl, p, n);
			break;
		case 3:
			slot_hangup(sl);
			run_loop();
			break;
		case 5:
			op_raw_subst(sl, p, n);
			break;
		}
	}
	b2bua_shutdown(b);
	run_loop();
	for (unsigned i = 0; i < NSLOTS; i++)
		slot_clear(&h.slot[i]);
	run_loop();
	b2bua_free(b);
	run_loop();
	/* every connection of this input is gone: nothing carries over */
	FUZZ_CHECK(TAILQ_EMPTY(&h.sip->conns));
	return 0;
}
