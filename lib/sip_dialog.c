/*
 * sip_dialog.c: dialog state and in-dialog request construction (see sip_dialog.h).
 * Everything here is string and libosip2 work on the signalling thread; no I/O.
 */
#include "sip_dialog.h"
#include "sip_grammar.h"
#include "sip_rand.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#define BRANCH_MAGIC "z9hG4bK"

void
sip_dialog_token(char *buf, size_t n)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];

	while (n > 0) {
		size_t chunk = n < sizeof(rnd) ? n : sizeof(rnd);
		if (sip_rand_bytes(rnd, chunk) != 0)
			abort(); /* no randomness: nothing safe can be done */
		for (size_t i = 0; i < chunk; i++)
			*buf++ = alphabet[rnd[i] % 36];
		n -= chunk;
	}
	*buf = '\0';
}

static char *
xstrdup(const char *s)
{
	return s ? osip_strdup(s) : NULL;
}

/* The concatenation of the strings given, up to a NULL, in a new osip_malloc'd string
 * of exactly the size needed; NULL when out of memory. */
static char *
strjoin(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	char *out, *p;

	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	if ((out = osip_malloc(len + 1)) == NULL)
		return NULL;
	p = out;
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);
		memcpy(p, s, n);
		p += n;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

/* "display" <uri> of a From/To/Contact-like header, without parameters. */
static char *
name_addr(const osip_from_t *h)
{
	char *uri = NULL, *out;

	if (h == NULL || h->url == NULL || osip_uri_to_str(h->url, &uri) != 0)
		return NULL;
	if (h->displayname != NULL && h->displayname[0] != '\0')
		out = strjoin(h->displayname, " <", uri, ">", NULL);
	else
		out = strjoin("<", uri, ">", NULL);
	osip_free(uri);
	return out;
}

static const char *
tag_of(const osip_from_t *h)
{
	osip_generic_param_t *p = NULL;

	if (h == NULL)
		return NULL;
	if (osip_generic_param_get_byname((osip_list_t *)&h->gen_params, "tag", &p) != 0 ||
	    p == NULL || p->gvalue == NULL)
		return NULL;
	return p->gvalue;
}

static char *
contact_uri(const osip_message_t *m)
{
	osip_contact_t *c = NULL;
	char *s = NULL;

	if (osip_message_get_contact(m, 0, &c) < 0 || c == NULL || c->url == NULL)
		return NULL;
	if (osip_uri_to_str(c->url, &s) != 0)
		return NULL;
	/* it becomes our Request-URI: nothing libosip2 took leniently */
	if (sip_grammar_uri(s, SIP_GRAMMAR_URI_MAX) != 0) {
		osip_free(s);
		return NULL;
	}
	return s;
}

static void
clear_routes(struct sip_dialog *d)
{
	for (size_t i = 0; i < d->nroute; i++)
		osip_free(d->route[i]);
	d->nroute = 0;
}

/* The text of Record-Route `rr` when it may become a Route of ours (its URI and the
 * whole value in the grammar), else NULL; a new osip string. */
static char *
route_text(const osip_record_route_t *rr)
{
	char *s = NULL, *u = NULL;
	int bad;

	if (rr == NULL || rr->url == NULL || osip_uri_to_str(rr->url, &u) != 0)
		return NULL;
	bad = sip_grammar_uri(u, SIP_GRAMMAR_URI_MAX);
	osip_free(u);
	if (bad != 0 || osip_record_route_to_str((osip_record_route_t *)rr, &s) != 0)
		return NULL;
	if (sip_grammar_route(s, SIP_GRAMMAR_URI_MAX) != 0) {
		osip_free(s);
		return NULL;
	}
	return s;
}

int
sip_dialog_routes_check(const osip_message_t *m, bool reverse)
{
	int n = osip_list_size(&m->record_routes);
	osip_record_route_t *first;
	osip_uri_param_t *lr = NULL;

	if (n <= 0)
		return 0;
	if (n > SIP_DIALOG_MAX_ROUTES)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		char *s = route_text(osip_list_get(&m->record_routes, i));
		if (s == NULL)
			return -EINVAL;
		osip_free(s);
	}
	/* RFC 3261 s12.2.1.1: a first route without "lr" is a strict router, which would
	 * want our remote target moved into the Route and its URI into the Request-URI */
	first = osip_list_get(&m->record_routes, reverse ? n - 1 : 0);
	if (osip_uri_uparam_get_byname(first->url, "lr", &lr) != 0 || lr == NULL)
		return -EPROTONOSUPPORT;
	return 0;
}

/* Record-Route of `m` into the route set, in order or reversed (checked first). */
static int
take_routes(struct sip_dialog *d, const osip_message_t *m, bool reverse)
{
	int n = osip_list_size(&m->record_routes), rc;

	clear_routes(d);
	if ((rc = sip_dialog_routes_check(m, reverse)) != 0 || n <= 0)
		return rc;
	for (int i = 0; i < n; i++) {
		char *s = route_text(osip_list_get(&m->record_routes, reverse ? n - 1 - i : i));
		if (s == NULL) {
			clear_routes(d);
			return -EINVAL;
		}
		d->route[d->nroute++] = s;
	}
	return 0;
}

void
sip_dialog_free(struct sip_dialog *d)
{
	if (d == NULL)
		return;
	osip_free(d->call_id);
	osip_free(d->local_uri);
	osip_free(d->remote_uri);
	osip_free(d->local_tag);
	osip_free(d->remote_tag);
	osip_free(d->remote_target);
	osip_free(d->local_contact);
	clear_routes(d);
	free(d);
}

int
sip_dialog_new_uas(struct sip_dialog **out, const osip_message_t *invite, const char *local_contact)
{
	struct sip_dialog *d;
	char tag[17];
	int rc;

	if (invite->call_id == NULL || invite->from == NULL || invite->to == NULL ||
	    invite->cseq == NULL || invite->cseq->number == NULL || tag_of(invite->from) == NULL)
		return -EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	sip_dialog_token(tag, 16);
	d->uac = false;
	d->local_tag = xstrdup(tag);
	d->remote_tag = xstrdup(tag_of(invite->from));
	d->local_uri = name_addr(invite->to);
	d->remote_uri = name_addr(invite->from);
	d->local_contact = xstrdup(local_contact);
	d->remote_target = contact_uri(invite);
	if (osip_call_id_to_str(invite->call_id, &d->call_id) != 0)
		d->call_id = NULL;
	d->remote_cseq = (uint32_t)strtoul(invite->cseq->number, NULL, 10);
	d->remote_cseq_set = true;
	d->invite_cseq = d->remote_cseq;
	if (d->local_tag == NULL || d->remote_tag == NULL || d->local_uri == NULL ||
	    d->remote_uri == NULL || d->local_contact == NULL || d->call_id == NULL) {
		sip_dialog_free(d);
		return -ENOMEM;
	}
	if (d->remote_target == NULL) {
		sip_dialog_free(d);
		return -EINVAL; /* RFC 3261 s8.1.1.8: an INVITE must carry a Contact */
	}
	if ((rc = take_routes(d, invite, false)) != 0) {
		sip_dialog_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int
sip_dialog_new_uac(struct sip_dialog **out, const char *ruri, const char *local_uri,
                   const char *remote_uri, const char *local_contact, const char *callid_host)
{
	struct sip_dialog *d;
	char tag[17], cid[25];

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	sip_dialog_token(tag, 16);
	sip_dialog_token(cid, 24);
	d->uac = true;
	d->local_tag = xstrdup(tag);
	d->call_id = strjoin(cid, "@", callid_host, NULL);
	d->local_uri = xstrdup(local_uri);
	d->remote_uri = xstrdup(remote_uri);
	d->remote_target = xstrdup(ruri);
	d->local_contact = xstrdup(local_contact);
	/* RFC 3261 s8.1.1.5: the initial CSeq is arbitrary below 2^31 */
	d->local_cseq = 0;
	if (d->local_tag == NULL || d->call_id == NULL || d->local_uri == NULL ||
	    d->remote_uri == NULL || d->remote_target == NULL || d->local_contact == NULL) {
		sip_dialog_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

/* libosip2's status to ours: allocation failed or the value did not parse. */
static int
set_or_fail(int rc)
{
	return rc == OSIP_SUCCESS ? 0 : rc == OSIP_NOMEM ? -ENOMEM : -EINVAL;
}

/*
 * A From/To header for `m` from a dialog's name-addr and tag, through libosip2's
 * structures: the name-addr is parsed (what was stored came from libosip2 or from
 * sip_dialog_uri()), the tag added as a parameter. *out receives the header.
 */
static int
party(osip_from_t **out, const char *name_addr_str, const char *tag)
{
	osip_from_t *h = NULL;
	int rc;

	if ((rc = set_or_fail(osip_from_init(&h))) != 0)
		return rc;
	if ((rc = set_or_fail(osip_from_parse(h, name_addr_str))) != 0 ||
	    (tag != NULL && (rc = set_or_fail(osip_from_set_tag(h, osip_strdup(tag)))) != 0)) {
		osip_from_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* A CSeq header "number method" for `m`. */
static int
cseq_set(osip_message_t *m, const char *number, const char *method)
{
	osip_cseq_t *cs = NULL;
	int rc;

	if ((rc = set_or_fail(osip_cseq_init(&cs))) != 0)
		return rc;
	osip_cseq_set_number(cs, osip_strdup(number));
	osip_cseq_set_method(cs, osip_strdup(method));
	if (cs->number == NULL || cs->method == NULL) {
		osip_cseq_free(cs);
		return -ENOMEM;
	}
	m->cseq = cs;
	return 0;
}

int
sip_dialog_request(struct sip_dialog *d, const char *method, const char *via_sentby,
                   osip_message_t **out)
{
	osip_message_t *m = NULL;
	osip_uri_t *uri = NULL;
	char branch[25], num[12], *via = NULL;
	uint32_t cseq;
	int rc = -EINVAL;
	bool is_ack = strcmp(method, "ACK") == 0;

	if (strcmp(method, "CANCEL") == 0)
		return -EINVAL;
	if (osip_message_init(&m) != OSIP_SUCCESS)
		return -ENOMEM;
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&uri) != OSIP_SUCCESS)
		goto fail;
	if (osip_uri_parse(uri, d->remote_target) != OSIP_SUCCESS) {
		osip_uri_free(uri);
		goto fail;
	}
	osip_message_set_uri(m, uri);

	/* no fixed buffers here: a dialog's URIs carry whatever display name the peer sent
	 * (bounded by the framing's line limit), and a truncated From/To is no From/To */
	sip_dialog_token(branch, 24);
	via = strjoin("SIP/2.0/TLS ", via_sentby, ";branch=" BRANCH_MAGIC, branch, ";rport", NULL);
	if (via == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = set_or_fail(osip_message_set_via(m, via))) != 0)
		goto fail;
	for (size_t i = 0; i < d->nroute; i++)
		if ((rc = set_or_fail(osip_message_set_route(m, d->route[i]))) != 0)
			goto fail;
	if ((rc = party(&m->from, d->local_uri, d->local_tag)) != 0 ||
	    (rc = party(&m->to, d->remote_uri, d->remote_tag)) != 0)
		goto fail;
	if ((rc = set_or_fail(osip_message_set_call_id(m, d->call_id))) != 0)
		goto fail;
	if (is_ack) {
		cseq = d->invite_cseq;
	} else {
		cseq = ++d->local_cseq;
		if (strcmp(method, "INVITE") == 0)
			d->invite_cseq = cseq;
	}
	snprintf(num, sizeof(num), "%u", cseq);
	if ((rc = cseq_set(m, num, method)) != 0)
		goto fail;
	if (!is_ack && (rc = set_or_fail(osip_message_set_contact(m, d->local_contact))) != 0)
		goto fail;
	if ((rc = set_or_fail(osip_message_set_max_forwards(m, "70"))) != 0)
		goto fail;
	osip_free(via);
	*out = m;
	return 0;
fail:
	osip_free(via);
	osip_message_free(m);
	return rc ? rc : -EINVAL;
}

int
sip_dialog_update_uac(struct sip_dialog *d, const osip_message_t *resp)
{
	const char *tag = tag_of(resp->to);
	int code = resp->status_code;
	char *target;

	if (!d->uac || code < 101)
		return code == 100 ? 0 : -EINVAL;
	if (tag == NULL)
		return code >= 200 && code < 300 ? -EINVAL : 0;
	if (d->remote_tag == NULL || !d->confirmed) {
		osip_free(d->remote_tag);
		if ((d->remote_tag = xstrdup(tag)) == NULL)
			return -ENOMEM;
	}
	if (code >= 300)
		return 0;
	if ((target = contact_uri(resp)) != NULL) {
		osip_free(d->remote_target);
		d->remote_target = target;
	} else if (code < 300 && code >= 200) {
		return -EINVAL; /* RFC 3261 s12.1.2: a 2xx to INVITE carries a Contact */
	}
	if (!d->confirmed) {
		int rc = take_routes(d, resp, true);
		if (rc != 0)
			return rc;
	}
	if (code >= 200)
		d->confirmed = true;
	return 0;
}

/* Copy the transaction-identifying headers of `invite` into a new request `method`. */
static int
txn_request(const osip_message_t *invite, const char *method, const osip_to_t *to,
            osip_message_t **out)
{
	osip_message_t *m = NULL;
	osip_via_t *via = NULL, *top = NULL;
	int rc = -EINVAL;

	if (invite->req_uri == NULL || invite->call_id == NULL || invite->from == NULL ||
	    to == NULL || invite->cseq == NULL || invite->cseq->number == NULL ||
	    osip_message_get_via(invite, 0, &top) < 0 || top == NULL)
		return -EINVAL;
	if (osip_message_init(&m) != OSIP_SUCCESS)
		return -ENOMEM;
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_clone(invite->req_uri, &m->req_uri) != OSIP_SUCCESS ||
	    osip_call_id_clone(invite->call_id, &m->call_id) != OSIP_SUCCESS ||
	    osip_from_clone(invite->from, &m->from) != OSIP_SUCCESS ||
	    osip_to_clone(to, &m->to) != OSIP_SUCCESS || osip_via_clone(top, &via) != OSIP_SUCCESS)
		goto fail;
	osip_list_add(&m->vias, via, -1);
	for (int i = 0; i < osip_list_size(&invite->routes); i++) {
		osip_route_t *r = osip_list_get(&invite->routes, i), *rc2 = NULL;
		if (osip_route_clone(r, &rc2) != OSIP_SUCCESS)
			goto fail;
		osip_list_add(&m->routes, rc2, -1);
	}
	if ((rc = cseq_set(m, invite->cseq->number, method)) != 0 ||
	    (rc = set_or_fail(osip_message_set_max_forwards(m, "70"))) != 0)
		goto fail;
	*out = m;
	return 0;
fail:
	osip_message_free(m);
	return rc;
}

int
sip_dialog_ack_non2xx(const osip_message_t *invite, const osip_message_t *resp,
                      osip_message_t **out)
{
	if (resp->to == NULL)
		return -EINVAL;
	return txn_request(invite, "ACK", resp->to, out);
}

int
sip_dialog_cancel(const osip_message_t *invite, osip_message_t **out)
{
	return txn_request(invite, "CANCEL", invite->to, out);
}

bool
sip_dialog_matches(const struct sip_dialog *d, const osip_message_t *req)
{
	char *cid = NULL;
	bool same;

	if (req->call_id == NULL || osip_call_id_to_str(req->call_id, &cid) != 0)
		return false;
	same = strcmp(cid, d->call_id) == 0;
	osip_free(cid);
	return same && sip_dialog_matches_tags(d, req);
}

bool
sip_dialog_matches_tags(const struct sip_dialog *d, const osip_message_t *req)
{
	const char *ftag, *ttag;

	ftag = tag_of(req->from);
	ttag = tag_of(req->to);
	return ftag != NULL && ttag != NULL && d->remote_tag != NULL &&
	       strcmp(ftag, d->remote_tag) == 0 && strcmp(ttag, d->local_tag) == 0;
}

int
sip_dialog_check_remote_cseq(struct sip_dialog *d, const osip_message_t *req)
{
	unsigned long n;
	char *end;

	if (req->cseq == NULL || req->cseq->number == NULL)
		return -EPROTO;
	if (MSG_IS_ACK(req) || MSG_IS_CANCEL(req))
		return 0;
	n = strtoul(req->cseq->number, &end, 10);
	if (*end != '\0' || n > UINT32_MAX)
		return -EPROTO;
	if (d->remote_cseq_set && n <= d->remote_cseq)
		return -EPROTO;
	d->remote_cseq = (uint32_t)n;
	d->remote_cseq_set = true;
	return 0;
}

char *
sip_dialog_user_part(const osip_from_t *h)
{
	if (h == NULL || h->url == NULL || h->url->username == NULL)
		return NULL;
	return osip_strdup(h->url->username);
}

int
sip_dialog_from_2xx(struct sip_dialog **out, const osip_message_t *resp, const char *local_contact)
{
	struct sip_dialog *d;
	const char *ltag = tag_of(resp->from), *rtag = tag_of(resp->to);
	int rc;

	if (resp->call_id == NULL || resp->cseq == NULL || resp->cseq->number == NULL ||
	    ltag == NULL || rtag == NULL)
		return -EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->uac = true;
	d->local_tag = xstrdup(ltag);
	d->local_uri = name_addr(resp->from);
	d->remote_uri = name_addr(resp->to);
	d->local_contact = xstrdup(local_contact);
	d->invite_cseq = (uint32_t)strtoul(resp->cseq->number, NULL, 10);
	d->local_cseq = d->invite_cseq;
	if (osip_call_id_to_str(resp->call_id, &d->call_id) != 0)
		d->call_id = NULL;
	d->remote_target = xstrdup("sip:invalid");
	if (d->local_tag == NULL || d->local_uri == NULL || d->remote_uri == NULL ||
	    d->local_contact == NULL || d->call_id == NULL || d->remote_target == NULL) {
		sip_dialog_free(d);
		return -ENOMEM;
	}
	if ((rc = sip_dialog_update_uac(d, resp)) != 0) {
		sip_dialog_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int
sip_dialog_uri(char **out, const char *user, const char *hostport, const char *params, bool angle)
{
	osip_uri_t *uri = NULL;
	char *ours, *text = NULL, *res = NULL;
	int rc;

	/* only our own host and parameters go through the parser */
	if ((ours = strjoin("sip:", hostport, params ? params : "", NULL)) == NULL)
		return -ENOMEM;
	if ((rc = set_or_fail(osip_uri_init(&uri))) != 0)
		goto out;
	if ((rc = set_or_fail(osip_uri_parse(uri, ours))) != 0)
		goto out;
	rc = -EINVAL;
	if (uri->username != NULL || uri->host == NULL)
		goto out; /* hostport was not a host[:port] */
	rc = -ENOMEM;
	if (user != NULL && (osip_uri_set_username(uri, osip_strdup(user)), uri->username == NULL))
		goto out;
	if ((rc = set_or_fail(osip_uri_to_str(uri, &text))) != 0)
		goto out;
	res = angle ? strjoin("<", text, ">", NULL) : osip_strdup(text);
	rc = res != NULL ? 0 : -ENOMEM;
out:
	osip_free(text);
	osip_uri_free(uri);
	osip_free(ours);
	if (rc == 0)
		*out = res;
	return rc;
}
