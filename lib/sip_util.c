/*
 * sip_util.c: libosip2 helpers: parse, validate, build responses, serialise, tokens.
 *
 * Responsible for translating libosip2's return codes to negative errno at this
 * boundary and for the RFC 3261 checks that need no state. Not responsible for
 * deciding how to answer a method (daemon/sip_server.c, later the B2BUA) or for I/O.
 */
#include "sip_util.h"
#include "sip_rand.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* Where libosip2's traces go: nowhere (see sip_util_init). */
static void
trace_discard_cb(const char *file, int line, osip_trace_level_t level, const char *fmt, va_list ap)
{
	(void)file, (void)line, (void)level, (void)fmt, (void)ap;
}

int
sip_util_init(void)
{
	/* libosip2 traces parse errors to stdout, one line per bad message: a peer sending
	 * garbage would fill the journal. Input errors are ours to count and report. Debian's
	 * build prints even with every level disabled unless a trace function is set. */
	osip_trace_initialize_func(TRACE_LEVEL0, trace_discard_cb);
	for (int l = 0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level((osip_trace_level_t)l);
	return parser_init() == OSIP_SUCCESS ? 0 : -ENOMEM;
}

int
sip_util_parse(const char *buf, size_t len, osip_message_t **out)
{
	osip_message_t *m;

	if (osip_message_init(&m) != OSIP_SUCCESS)
		return -ENOMEM;
	if (osip_message_parse(m, buf, len) != OSIP_SUCCESS) {
		osip_message_free(m);
		return -EBADMSG;
	}
	/* Callers rely on: a request has a method, a response a status in 100..699
	 * ("SIP/2.0 000 x" would otherwise look like a request without a method). */
	if (MSG_IS_REQUEST(m) ? m->sip_method == NULL
	                      : (m->status_code < 100 || m->status_code > 699)) {
		osip_message_free(m);
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

/* Header name of a line as one of the addressing headers, by long or compact name. */
static bool
sip_util_is_addressing(const char *line, size_t n, bool *single, int *which)
{
	static const struct {
		const char *name, *compact;
		bool single;
	} h[] = {
	        {"via", "v", false},    {"from", "f", true},  {"to", "t", true},
	        {"call-id", "i", true}, {"cseq", NULL, true},
	};
	size_t k = 0;

	while (k < n && line[k] != ':' && line[k] != ' ' && line[k] != '\t')
		k++;
	for (int i = 0; i < (int)(sizeof(h) / sizeof(h[0])); i++) {
		if ((strlen(h[i].name) == k && strncasecmp(line, h[i].name, k) == 0) ||
		    (h[i].compact != NULL && k == 1 &&
		     tolower((unsigned char)line[0]) == h[i].compact[0])) {
			*single = h[i].single;
			*which = i;
			return true;
		}
	}
	return false;
}

int
sip_util_salvage(const char *buf, size_t len, osip_message_t **out)
{
	const char *p = buf, *end = buf + len, *eol;
	char *text;
	size_t o = 0;
	bool seen[5] = {false};
	bool keep = false;
	int rc;

	if ((text = malloc(len + 32)) == NULL)
		return -ENOMEM;
	/* The request line as is. */
	if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL) {
		free(text);
		return -EBADMSG;
	}
	memcpy(text, p, (size_t)(eol + 1 - p));
	o = (size_t)(eol + 1 - p);
	p = eol + 1;
	while (p < end) {
		size_t n;
		bool single;
		int which;

		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol != NULL ? (size_t)(eol + 1 - p) : (size_t)(end - p);
		if (n <= 2 && (p[0] == '\r' || p[0] == '\n'))
			break; /* end of headers */
		if (p[0] == ' ' || p[0] == '\t') {
			/* continuation of the previous line */
		} else if (sip_util_is_addressing(p, n, &single, &which)) {
			keep = !(single && seen[which]);
			seen[which] = true;
		} else
			keep = false;
		if (keep) {
			memcpy(text + o, p, n);
			o += n;
		}
		p += n;
	}
	o += (size_t)snprintf(text + o, 32, "Content-Length: 0\r\n\r\n");
	rc = sip_util_parse(text, o, out);
	free(text);
	if (rc == 0 && (!MSG_IS_REQUEST(*out) || !sip_util_can_respond(*out))) {
		osip_message_free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	return rc;
}

int
sip_util_raw_response(const char *buf, size_t len, int status, const char *reason,
                      const char *extra, char **out, size_t *outlen)
{
	const char *p = buf, *end = buf + len, *eol, *sp;
	char tag[SIP_UTIL_TAG_LEN];
	bool seen[5] = {false}, keep = false, to_tagged = false;
	size_t o, cap = len + 256 + (extra != NULL ? strlen(extra) + 2 : 0);
	char *r;
	int which = -1, last = -1;

	/* A request line: METHOD SP ... (a response starts with "SIP/"). */
	if ((eol = memchr(p, '\n', len)) == NULL ||
	    (sp = memchr(p, ' ', (size_t)(eol - p))) == NULL || sp == p ||
	    (len >= 4 && memcmp(p, "SIP/", 4) == 0))
		return -EBADMSG;
	for (const char *q = p; q < sp; q++)
		if (*q <= ' ' || *q >= 0x7f)
			return -EBADMSG;
	if (sip_util_new_tag(tag, sizeof(tag)) != 0 || (r = malloc(cap)) == NULL)
		return -ENOMEM;
	o = (size_t)snprintf(r, cap, "SIP/2.0 %03d %s\r\n", status, reason);
	p = eol + 1;
	while (p < end) {
		size_t n;
		bool single;

		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol != NULL ? (size_t)(eol + 1 - p) : (size_t)(end - p);
		if (n <= 2 && (p[0] == '\r' || p[0] == '\n'))
			break;
		if (n < 2 || p[n - 1] != '\n' || p[n - 2] != '\r' ||
		    memchr(p, '\r', n - 2) != NULL) {
			free(r);
			return -EBADMSG; /* a bare LF or CR: line structure unclear, do not echo */
		}
		if (p[0] != ' ' && p[0] != '\t') {
			if (sip_util_is_addressing(p, n, &single, &which)) {
				keep = !(single && seen[which]);
				seen[which] = true;
			} else
				keep = false;
			last = keep ? which : -1;
		}
		if (keep) {
			if (last == 2 && p[0] != ' ' && p[0] != '\t')
				to_tagged = memmem(p, n, "tag=", 4) != NULL;
			memcpy(r + o, p, n);
			o += n;
			if (last == 2 && !to_tagged &&
			    (p + n >= end || (p[n] != ' ' && p[n] != '\t'))) {
				/* end of the To header: add our tag before its CRLF */
				o -= 2;
				o += (size_t)snprintf(r + o, cap - o, ";tag=%s\r\n", tag);
			}
		}
		p += n;
	}
	if (!seen[0] || !seen[1] || !seen[2] || !seen[3] || !seen[4]) {
		free(r);
		return -EBADMSG;
	}
	if (extra != NULL)
		o += (size_t)snprintf(r + o, cap - o, "%s\r\n", extra);
	o += (size_t)snprintf(r + o, cap - o, "Content-Length: 0\r\n\r\n");
	*out = r;
	*outlen = o;
	return 0;
}

bool
sip_util_can_respond(const osip_message_t *req)
{
	osip_via_t *via = NULL;

	if (req == NULL || !MSG_IS_REQUEST(req))
		return false;
	if (req->from == NULL || req->to == NULL || req->call_id == NULL || req->cseq == NULL)
		return false;
	if (osip_message_get_via(req, 0, &via) < 0 || via == NULL)
		return false;
	return req->cseq->number != NULL && req->cseq->method != NULL;
}

const char *
sip_util_header(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || h == NULL)
		return NULL;
	return h->hvalue != NULL ? h->hvalue : "";
}

bool
sip_util_decimal(const char *s, unsigned long long max)
{
	unsigned long long v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > max)
			return false;
	}
	return true;
}

bool
sip_util_is_token(const char *s)
{
	/* RFC 3261 s25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" /
	 * "`" / "'" / "~") */
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-.!%*_+`'~", *s) == NULL)
			return false;
	return true;
}

/* Whether a Require value is a list of option-tags: token *(LWS "," LWS token). */
static bool
sip_util_token_list(const char *v)
{
	const char *p = v;

	for (;;) {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != '\0' &&
		       (isalnum((unsigned char)*p) || strchr("-.!%*_+`'~", *p) != NULL))
			p++;
		if (p == start)
			return false;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

static bool
sip_util_token_char(char ch)
{
	return isalnum((unsigned char)ch) || (ch != '\0' && strchr("-.!%*_+`'~", ch) != NULL);
}

/* Whether tag[0..n) is in `list` (NULL-terminated), without case. */
static bool
sip_util_tag_in(const char *const list[], const char *tag, size_t n)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncasecmp(list[i], tag, n) == 0)
			return true;
	return false;
}

/* Whether tag[0..n) is already in the "a, b" list buf[0..len). */
static bool
sip_util_listed(const char *buf, size_t len, const char *tag, size_t n)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *e = memchr(p, ',', (size_t)(end - p));
		size_t l = e != NULL ? (size_t)(e - p) : (size_t)(end - p);
		if (l == n && strncasecmp(p, tag, n) == 0)
			return true;
		p = e != NULL ? e + 2 : end;
	}
	return false;
}

int
sip_util_unsupported(const osip_message_t *req, const char *const supported[], char **out)
{
	char buf[SIP_UTIL_UNSUPPORTED_LEN + 1];
	size_t len = 0, ntags = 0;
	osip_header_t *h = NULL;

	for (int pos = 0; (pos = osip_message_header_get_byname(req, "require", pos, &h)) >= 0;
	     pos++) {
		const char *p = h != NULL ? h->hvalue : NULL;

		if (p == NULL || !sip_util_token_list(p))
			return -EBADMSG;
		while (*p != '\0') {
			const char *tag;
			size_t n;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			for (tag = p; sip_util_token_char(*p); p++)
				;
			if ((n = (size_t)(p - tag)) == 0)
				continue; /* the end (the list's grammar was checked above) */
			if (sip_util_tag_in(supported, tag, n) || sip_util_listed(buf, len, tag, n))
				continue;
			if (++ntags > SIP_UTIL_UNSUPPORTED_MAX ||
			    len + (len > 0 ? 2 : 0) + n > SIP_UTIL_UNSUPPORTED_LEN)
				return -E2BIG; /* refused, never cut */
			if (len > 0) {
				memcpy(buf + len, ", ", 2);
				len += 2;
			}
			memcpy(buf + len, tag, n);
			len += n;
		}
	}
	if (len == 0) {
		*out = NULL;
		return 0;
	}
	buf[len] = '\0';
	if ((*out = strdup(buf)) == NULL)
		return -ENOMEM;
	return 0;
}

/* The top Via's branch, or NULL. */
static const char *
sip_util_top_branch(const osip_message_t *m)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *branch = NULL;

	if (osip_message_get_via(m, 0, &via) < 0 || via == NULL)
		return NULL;
	if (osip_via_param_get_byname(via, "branch", &branch) < 0 || branch == NULL)
		return NULL;
	return branch->gvalue;
}

/*
 * What requests and responses share: the addressing headers (libosip2 already refuses a
 * second From, To, Call-ID or CSeq), a CSeq of a 32-bit number and a token, a non-empty
 * Call-ID, From and To with a URI, a top Via with a host, a protocol and an RFC 3261
 * branch, at most one Max-Forwards, and Require values that are option-tag lists.
 * 0 or 400 with *why.
 */
static int
sip_util_check_common(const osip_message_t *m, const char **why)
{
	osip_via_t *via = NULL;
	osip_header_t *h = NULL;
	const char *branch;
	int pos;

	if (m->from == NULL || m->to == NULL || m->call_id == NULL || m->cseq == NULL ||
	    osip_message_get_via(m, 0, &via) < 0 || via == NULL) {
		*why = "Missing Mandatory Header";
		return 400;
	}
	if (!sip_util_decimal(m->cseq->number, UINT32_MAX)) {
		*why = "Bad CSeq Number";
		return 400;
	}
	if (!sip_util_is_token(m->cseq->method)) {
		*why = "Bad CSeq Method";
		return 400;
	}
	if (m->call_id->number == NULL || m->call_id->number[0] == '\0') {
		*why = "Bad Call-ID";
		return 400;
	}
	if (via->host == NULL || via->protocol == NULL) {
		*why = "Bad Via";
		return 400;
	}
	if ((branch = sip_util_top_branch(m)) == NULL || strlen(branch) <= 7) {
		*why = "Missing Branch";
		return 400;
	}
	if (m->from->url == NULL || m->to->url == NULL) {
		*why = "Bad From or To";
		return 400;
	}
	if ((pos = osip_message_header_get_byname(m, "max-forwards", 0, &h)) >= 0 &&
	    osip_message_header_get_byname(m, "max-forwards", pos + 1, &h) >= 0) {
		*why = "Duplicate Max-Forwards";
		return 400;
	}
	for (pos = 0; (pos = osip_message_header_get_byname(m, "require", pos, &h)) >= 0; pos++) {
		if (h == NULL || h->hvalue == NULL || !sip_util_token_list(h->hvalue)) {
			*why = "Bad Require";
			return 400;
		}
	}
	return 0;
}

int
sip_util_check_request(const osip_message_t *req, const char **why)
{
	const char *mf;
	int status;

	*why = "Bad Request";
	if (req->sip_version == NULL || strcmp(req->sip_version, "SIP/2.0") != 0) {
		*why = "Version Not Supported";
		return 505;
	}
	if (!sip_util_can_respond(req) || req->req_uri == NULL) {
		*why = "Missing Mandatory Header";
		return 400;
	}
	if (!sip_util_is_token(req->sip_method)) {
		*why = "Bad Method";
		return 400;
	}
	if ((status = sip_util_check_common(req, why)) != 0)
		return status;
	if (strcmp(req->cseq->method, req->sip_method) != 0) {
		*why = "CSeq Method Mismatch";
		return 400;
	}
	if ((mf = sip_util_header(req, "max-forwards")) == NULL) {
		*why = "Missing Max-Forwards";
		return 400;
	}
	while (*mf == ' ' || *mf == '\t')
		mf++;
	if (!sip_util_decimal(mf, 255)) {
		*why = "Bad Max-Forwards";
		return 400;
	}
	return 0;
}

int
sip_util_check_response(const osip_message_t *resp, const char **why)
{
	*why = "Bad Response";
	if (!MSG_IS_RESPONSE(resp) || resp->status_code < 100 || resp->status_code > 699)
		return -EBADMSG;
	if (resp->sip_version == NULL || strcmp(resp->sip_version, "SIP/2.0") != 0) {
		*why = "Version Not Supported";
		return -EBADMSG;
	}
	return sip_util_check_common(resp, why) != 0 ? -EBADMSG : 0;
}

/* Equal NUL-terminated strings; constant time in their content once the lengths agree. */
static bool
sip_util_same_token(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || b == NULL || (n = strlen(a)) != strlen(b))
		return false;
	return CRYPTO_memcmp(a, b, n) == 0;
}

static bool
sip_util_same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
sip_util_callid_equal(const osip_call_id_t *a, const osip_call_id_t *b)
{
	return a != NULL && b != NULL && a->number != NULL && b->number != NULL &&
	       sip_util_same_str(a->number, b->number) && sip_util_same_str(a->host, b->host);
}

bool
sip_util_response_matches(const osip_message_t *sent, const osip_message_t *resp)
{
	if (sent == NULL || resp == NULL || !MSG_IS_REQUEST(sent) || !MSG_IS_RESPONSE(resp))
		return false;
	if (sent->call_id == NULL || resp->call_id == NULL || sent->cseq == NULL ||
	    resp->cseq == NULL)
		return false;
	return sip_util_same_token(sip_util_top_branch(sent), sip_util_top_branch(resp)) &&
	       sip_util_callid_equal(sent->call_id, resp->call_id) &&
	       sip_util_same_str(sent->cseq->number, resp->cseq->number) &&
	       sip_util_same_str(sent->cseq->method, resp->cseq->method);
}

int
sip_util_response_new(osip_message_t **out, const osip_message_t *req, int status,
                      const char *reason, const char *to_tag)
{
	osip_message_t *r;
	osip_generic_param_t *tag = NULL;
	char tagbuf[SIP_UTIL_TAG_LEN];
	int pos = 0;

	if (!sip_util_can_respond(req))
		return -EINVAL;
	if (reason == NULL)
		reason = osip_message_get_reason(status);
	if (reason == NULL)
		reason = "Unknown";
	if (osip_message_init(&r) != OSIP_SUCCESS)
		return -ENOMEM;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, status);
	osip_message_set_reason_phrase(r, osip_strdup(reason));
	if (r->sip_version == NULL || r->reason_phrase == NULL)
		goto fail;
	while (!osip_list_eol(&req->vias, pos)) {
		osip_via_t *via = osip_list_get(&req->vias, pos++), *copy = NULL;

		if (osip_via_clone(via, &copy) != OSIP_SUCCESS)
			goto fail;
		osip_list_add(&r->vias, copy, -1);
	}
	if (osip_from_clone(req->from, &r->from) != OSIP_SUCCESS ||
	    osip_to_clone(req->to, &r->to) != OSIP_SUCCESS ||
	    osip_call_id_clone(req->call_id, &r->call_id) != OSIP_SUCCESS ||
	    osip_cseq_clone(req->cseq, &r->cseq) != OSIP_SUCCESS)
		goto fail;
	if (osip_to_get_tag(r->to, &tag) != OSIP_SUCCESS || tag == NULL) {
		if (to_tag == NULL) {
			if (sip_util_new_tag(tagbuf, sizeof(tagbuf)) != 0)
				goto fail;
			to_tag = tagbuf;
		}
		if (osip_to_set_tag(r->to, osip_strdup(to_tag)) != OSIP_SUCCESS)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	osip_message_free(r);
	return -ENOMEM;
}

int
sip_util_add_header(osip_message_t *m, const char *name, const char *value)
{
	return osip_message_set_header(m, name, value) == OSIP_SUCCESS ? 0 : -ENOMEM;
}

int
sip_util_serialize(osip_message_t *m, char **out, size_t *len)
{
	char *s = NULL;
	size_t n = 0;

	if (osip_message_to_str(m, &s, &n) != OSIP_SUCCESS || s == NULL)
		return -EINVAL;
	*out = s;
	*len = n;
	return 0;
}

void
sip_util_forget_text(osip_message_t *m)
{
	if (m == NULL || m->message == NULL)
		return;
	OPENSSL_cleanse(m->message, m->message_length);
	osip_free(m->message);
	m->message = NULL;
	m->message_length = 0;
	m->message_property = 2; /* libosip2: the text is not up to date with the structure */
}

/* nbytes random bytes as lowercase hex into buf (2*nbytes+1 needed). */
static int
sip_util_hex_random(char *buf, size_t len, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];

	if (nbytes > sizeof(r) || len < 2 * nbytes + 1)
		return -ENOSPC;
	if (sip_rand_bytes(r, nbytes) != 0)
		return -EIO;
	for (size_t i = 0; i < nbytes; i++) {
		buf[2 * i] = hex[r[i] >> 4];
		buf[2 * i + 1] = hex[r[i] & 15];
	}
	buf[2 * nbytes] = '\0';
	return 0;
}

int
sip_util_new_tag(char *buf, size_t len)
{
	return sip_util_hex_random(buf, len, 10);
}

int
sip_util_new_branch(char *buf, size_t len)
{
	if (len < SIP_UTIL_BRANCH_LEN)
		return -ENOSPC;
	memcpy(buf, "z9hG4bK", 7);
	return sip_util_hex_random(buf + 7, len - 7, 16);
}

int
sip_util_new_callid(char *buf, size_t len, const char *host)
{
	int rc = sip_util_hex_random(buf, len, 16);

	if (rc != 0 || host == NULL)
		return rc;
	if ((size_t)snprintf(buf + 32, len - 32, "@%s", host) >= len - 32)
		return -ENOSPC;
	return 0;
}
