/*
 * sdp.c: reading SDP bodies into struct sdp_desc and judging them against sipwarden's
 * media policy (sdp.h).
 *
 * libosip2 does the line splitting; it is lenient, so before it runs we check that every
 * line looks like "x=..." (it reads before its buffer otherwise), and after it ran we
 * validate every field we keep ourselves. Copies of the body (ours and libosip2's) are
 * wiped before they are freed because a=crypto lines carry keys. Judging a description
 * lives in sdp_policy.c, writing SDP in sdp_build.c, a=crypto syntax and suite policy
 * in sdes.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_list.h>
#include <osipparser2/sdp_message.h>

#include "sdp.h"

#define ATTR_VALUE_MAX 255 /* longest rtpmap/fmtp value we copy */

const char *
sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDONLY:
		return "sendonly";
	case SDP_DIR_RECVONLY:
		return "recvonly";
	case SDP_DIR_INACTIVE:
		return "inactive";
	case SDP_DIR_SENDRECV:
	default:
		return "sendrecv";
	}
}

/* ---- small validators ---------------------------------------------------------------- */

/* Visible ASCII, no space, 1..max-1 characters. */
static bool
is_token(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++)
		if (*s < '!' || *s > '~' || n + 1 >= max)
			return false;
	return true;
}

static bool
is_digits(const char *s, size_t maxlen)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strspn(s, "0123456789");
	return n > 0 && n <= maxlen && s[n] == '\0';
}

/* Decimal 0..max without sign or spaces; -1 otherwise. */
static long
parse_uint(const char *s, long max)
{
	long v = 0;

	if (!is_digits(s, 10))
		return -1;
	for (; *s; s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static void
copy_token(char *dst, const char *src)
{
	/* callers checked is_token(src, SDP_TOKEN_MAX) */
	snprintf(dst, SDP_TOKEN_MAX, "%s", src);
}

/* ---- body pre-checks ----------------------------------------------------------------- */

/*
 * Make a NUL-terminated copy ending in a line end, and check that every line is "x=..."
 * with a lower-case letter, has no NUL or stray CR, and that there are no empty lines
 * except trailing ones (which are cut off). libosip2 stops silently at an empty line and
 * reads before its buffer when a line starts with '='.
 */
static int
body_copy(const char *body, size_t len, char **out, size_t *outcap, const char **why)
{
	char *buf;
	size_t i, cap, n;

	if (body == NULL || len == 0) {
		*why = "empty SDP body";
		return -EINVAL;
	}
	if (len > SDP_MAX_BODY) {
		*why = "SDP body too large";
		return -EINVAL;
	}
	if (memchr(body, '\0', len) != NULL) {
		*why = "NUL byte in SDP body";
		return -EINVAL;
	}
	cap = len + 3;
	if ((buf = malloc(cap)) == NULL)
		return -ENOMEM;
	memcpy(buf, body, len);
	n = len;
	/* cut trailing empty lines, then end with exactly one CRLF */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n++] = '\r';
	buf[n++] = '\n';
	buf[n] = '\0';

	for (i = 0; i < n;) {
		size_t start = i;

		if (buf[i] < 'a' || buf[i] > 'z' || buf[i + 1] != '=') {
			*why = buf[i] == '\r' || buf[i] == '\n' ? "empty line in SDP"
			                                        : "SDP line is not type=value";
			goto bad;
		}
		for (; buf[i] != '\n'; i++) {
			if (buf[i] == '\r' && buf[i + 1] != '\n') {
				*why = "stray CR in SDP line";
				goto bad;
			}
		}
		if (i - start < 2 || (i - start == 2 && buf[i - 1] == '\r')) {
			*why = "SDP line without a value";
			goto bad;
		}
		i++;
	}
	if (strncmp(buf, "v=0\r\n", 5) != 0 && strncmp(buf, "v=0\n", 4) != 0) {
		*why = "SDP does not start with v=0";
		goto bad;
	}
	*out = buf;
	*outcap = cap;
	return 0;
bad:
	OPENSSL_cleanse(buf, cap);
	free(buf);
	return -EINVAL;
}

/* Wipe the values of a=crypto and k= inside libosip2's tree before it is freed. */
static void
wipe_attr_list(osip_list_t *l)
{
	int i;

	for (i = 0; i < osip_list_size(l); i++) {
		sdp_attribute_t *a = osip_list_get(l, i);

		if (a != NULL && a->a_att_value != NULL)
			OPENSSL_cleanse(a->a_att_value, strlen(a->a_att_value));
	}
}

static void
wipe_key(sdp_key_t *k)
{
	if (k != NULL && k->k_keydata != NULL)
		OPENSSL_cleanse(k->k_keydata, strlen(k->k_keydata));
}

static void
osip_sdp_wipe_free(sdp_message_t *m)
{
	int i;

	if (m == NULL)
		return;
	wipe_attr_list(&m->a_attributes);
	wipe_key(m->k_key);
	for (i = 0; i < osip_list_size(&m->m_medias); i++) {
		sdp_media_t *med = osip_list_get(&m->m_medias, i);

		if (med == NULL)
			continue;
		wipe_attr_list(&med->a_attributes);
		wipe_key(med->k_key);
	}
	sdp_message_free(m);
}

/* ---- field parsers ------------------------------------------------------------------- */

static int
parse_conn(const sdp_connection_t *c, struct sdp_addr *a, const char **why)
{
	int fam;

	if (c->c_nettype == NULL || strcmp(c->c_nettype, "IN") != 0) {
		*why = "c= network type is not IN";
		return -EINVAL;
	}
	if (c->c_addrtype != NULL && strcmp(c->c_addrtype, "IP4") == 0)
		fam = AF_INET;
	else if (c->c_addrtype != NULL && strcmp(c->c_addrtype, "IP6") == 0)
		fam = AF_INET6;
	else {
		*why = "c= address type is not IP4 or IP6";
		return -EINVAL;
	}
	if (c->c_addr_multicast_ttl != NULL || c->c_addr_multicast_int != NULL) {
		*why = "multicast c= is not supported";
		return -EINVAL;
	}
	if (c->c_addr == NULL || strlen(c->c_addr) >= SDP_ADDR_MAX ||
	    inet_pton(fam, c->c_addr, a->bytes) != 1) {
		*why = "c= address is not an IP literal of its type";
		return -EINVAL;
	}
	a->family = fam;
	if (inet_ntop(fam, a->bytes, a->text, sizeof(a->text)) == NULL) {
		*why = "c= address cannot be printed";
		return -EINVAL;
	}
	return 0;
}

static enum sdp_proto
proto_classify(const char *p)
{
	static const struct {
		const char *name;
		enum sdp_proto proto;
	} t[] = {
	        {"RTP/AVP", SDP_PROTO_RTP_AVP},
	        {"RTP/AVPF", SDP_PROTO_RTP_AVPF},
	        {"RTP/SAVP", SDP_PROTO_RTP_SAVP},
	        {"RTP/SAVPF", SDP_PROTO_RTP_SAVPF},
	        {"UDP/TLS/RTP/SAVP", SDP_PROTO_DTLS_SAVP},
	        {"UDP/TLS/RTP/SAVPF", SDP_PROTO_DTLS_SAVPF},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(p, t[i].name) == 0)
			return t[i].proto;
	return SDP_PROTO_OTHER;
}

static bool
proto_is_rtp(enum sdp_proto p)
{
	return p != SDP_PROTO_OTHER;
}

static int
dir_from_attr(const char *field, enum sdp_dir *d)
{
	if (strcmp(field, "sendrecv") == 0)
		*d = SDP_DIR_SENDRECV;
	else if (strcmp(field, "sendonly") == 0)
		*d = SDP_DIR_SENDONLY;
	else if (strcmp(field, "recvonly") == 0)
		*d = SDP_DIR_RECVONLY;
	else if (strcmp(field, "inactive") == 0)
		*d = SDP_DIR_INACTIVE;
	else
		return -1;
	return 0;
}

static struct sdp_format *
find_format(struct sdp_stream *m, long pt)
{
	unsigned i;

	for (i = 0; i < m->nformats; i++)
		if (m->formats[i].pt == pt)
			return &m->formats[i];
	return NULL;
}

/*
 * "PT rest" of a=rtpmap / a=fmtp: store a copy of rest for a format listed on the m= line.
 * Attributes for unlisted payload types are ignored; a second one for a type is ignored.
 */
static int
parse_pt_attr(struct sdp_stream *m, const char *value, bool rtpmap, const char **why)
{
	const char *sp, *rest;
	char ptbuf[4];
	struct sdp_format *f;
	size_t n;
	long pt;
	char **slot;

	if (value == NULL || (sp = strchr(value, ' ')) == NULL || sp == value ||
	    (size_t)(sp - value) >= sizeof(ptbuf)) {
		*why = rtpmap ? "malformed a=rtpmap" : "malformed a=fmtp";
		return -EINVAL;
	}
	memcpy(ptbuf, value, (size_t)(sp - value));
	ptbuf[sp - value] = '\0';
	if ((pt = parse_uint(ptbuf, 127)) < 0) {
		*why = rtpmap ? "malformed a=rtpmap" : "malformed a=fmtp";
		return -EINVAL;
	}
	rest = sp;
	while (*rest == ' ')
		rest++;
	n = strlen(rest);
	while (n > 0 && rest[n - 1] == ' ')
		n--;
	if (n == 0 || n > ATTR_VALUE_MAX) {
		*why = rtpmap ? "a=rtpmap value empty or too long"
		              : "a=fmtp value empty or too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (rest[i] < ' ' || rest[i] > '~') {
			*why = "control or non-ASCII character in a=rtpmap/a=fmtp";
			return -EINVAL;
		}
	}
	if ((f = find_format(m, pt)) == NULL)
		return 0;
	slot = rtpmap ? &f->rtpmap : &f->fmtp;
	if (*slot != NULL)
		return 0;
	if ((*slot = strndup(rest, n)) == NULL)
		return -ENOMEM;
	return 0;
}

/* Leading decimal tag of an a=crypto value, for duplicate detection; -1 if none. */
static long
raw_crypto_tag(const char *v)
{
	char buf[10];
	size_t n = 0;

	while (v[n] >= '0' && v[n] <= '9' && n < sizeof(buf) - 1) {
		buf[n] = v[n];
		n++;
	}
	if (n == 0 || (v[n] != ' ' && v[n] != '\t'))
		return -1;
	buf[n] = '\0';
	return parse_uint(buf, 999999999L);
}

static int
parse_media_attrs(struct sdp_stream *m, sdp_media_t *med, bool *dir_set, const char **why)
{
	long tags[SDP_MAX_CRYPTO];
	unsigned ntags = 0, ncrypto_lines = 0, cap = 0;
	int i, rc;

	/* a=crypto entries are large (keys, MKIs): allocate the lines present, not the
	 * SDP_MAX_CRYPTO a stream may have (a call keeps its peers' SDP for its lifetime) */
	for (i = 0; i < osip_list_size(&med->a_attributes); i++) {
		sdp_attribute_t *a = osip_list_get(&med->a_attributes, i);

		if (a->a_att_field != NULL && strcmp(a->a_att_field, "crypto") == 0 &&
		    cap < SDP_MAX_CRYPTO)
			cap++;
	}
	if (cap > 0 && (m->crypto = calloc(cap, sizeof(*m->crypto))) == NULL)
		return -ENOMEM;
	m->crypto_cap = cap;
	for (i = 0; i < osip_list_size(&med->a_attributes); i++) {
		sdp_attribute_t *a = osip_list_get(&med->a_attributes, i);
		const char *f = a->a_att_field, *v = a->a_att_value;
		enum sdp_dir d;

		if (f == NULL)
			continue;
		if (strcmp(f, "rtpmap") == 0 || strcmp(f, "fmtp") == 0) {
			if (!proto_is_rtp(m->proto))
				continue;
			if ((rc = parse_pt_attr(m, v, f[0] == 'r', why)) != 0)
				return rc;
		} else if (strcmp(f, "ptime") == 0 || strcmp(f, "maxptime") == 0) {
			long t = v != NULL ? parse_uint(v, 10000) : -1;

			if (t <= 0) {
				*why = "malformed a=ptime/a=maxptime";
				return -EINVAL;
			}
			if (f[0] == 'p')
				m->ptime = (unsigned)t;
			else
				m->maxptime = (unsigned)t;
		} else if (v == NULL && dir_from_attr(f, &d) == 0) {
			if (*dir_set && m->dir != d) {
				*why = "conflicting direction attributes on one m= line";
				return -EINVAL;
			}
			m->dir = d;
			*dir_set = true;
		} else if (strcmp(f, "rtcp-mux") == 0) {
			m->rtcp_mux = true;
		} else if (strcmp(f, "crypto") == 0) {
			struct sdes_crypto *c;
			const char *cwhy = NULL;
			long tag;
			unsigned k;

			ncrypto_lines++;
			if (ncrypto_lines > SDP_MAX_CRYPTO) {
				m->crypto_too_many = true;
				continue;
			}
			if (v == NULL) {
				m->ncrypto_bad++;
				if (m->crypto_bad_why == NULL)
					m->crypto_bad_why = "empty a=crypto";
				continue;
			}
			if ((tag = raw_crypto_tag(v)) >= 0) {
				for (k = 0; k < ntags; k++)
					if (tags[k] == tag)
						m->crypto_dup_tag = true;
				tags[ntags++] = tag;
			}
			c = &m->crypto[m->ncrypto];
			if (sdes_parse(v, strlen(v), c, &cwhy) == 0) {
				m->ncrypto++;
			} else {
				sdes_crypto_wipe(c);
				m->ncrypto_bad++;
				if (m->crypto_bad_why == NULL)
					m->crypto_bad_why =
					        cwhy != NULL ? cwhy : "malformed a=crypto";
			}
		}
		/* everything else (ICE, a=rtcp, rtcp-fb, ssrc, ...) is not kept */
	}
	return 0;
}

static int
parse_media(struct sdp_desc *d, sdp_media_t *med, struct sdp_stream *m, enum sdp_dir sess_dir,
            const char **why)
{
	bool dir_set = false;
	long port;
	int i, np, rc;

	if (!is_token(med->m_media, SDP_TOKEN_MAX) || !is_token(med->m_proto, SDP_TOKEN_MAX)) {
		*why = "malformed m= line";
		return -EINVAL;
	}
	copy_token(m->type, med->m_media);
	copy_token(m->proto_text, med->m_proto);
	m->proto = proto_classify(med->m_proto);
	if ((port = parse_uint(med->m_port, 65535)) < 0) {
		*why = "m= port is not a number in 0..65535";
		return -EINVAL;
	}
	m->port = (uint16_t)port;
	if (med->m_number_of_port != NULL && strcmp(med->m_number_of_port, "1") != 0) {
		*why = "m= with several ports is not supported";
		return -EINVAL;
	}
	np = osip_list_size(&med->m_payloads);
	if (np <= 0) {
		*why = "m= line without formats";
		return -EINVAL;
	}
	if (!is_token(osip_list_get(&med->m_payloads, 0), SDP_TOKEN_MAX)) {
		*why = "malformed m= format";
		return -EINVAL;
	}
	copy_token(m->fmt0, osip_list_get(&med->m_payloads, 0));
	if (proto_is_rtp(m->proto)) {
		if (np > SDP_MAX_FORMATS) {
			*why = "too many formats on an m= line";
			return -EINVAL;
		}
		if ((m->formats = calloc((size_t)np, sizeof(*m->formats))) == NULL)
			return -ENOMEM;
		for (i = 0; i < np; i++) {
			long pt = parse_uint(osip_list_get(&med->m_payloads, i), 127);

			if (pt < 0) {
				*why = "RTP payload type is not a number in 0..127";
				return -EINVAL;
			}
			if (find_format(m, pt) != NULL) {
				*why = "payload type listed twice on an m= line";
				return -EINVAL;
			}
			m->formats[m->nformats++].pt = (uint8_t)pt;
		}
	}
	switch (osip_list_size(&med->c_connections)) {
	case 0:
		m->conn = d->session_conn;
		break;
	case 1:
		if ((rc = parse_conn(osip_list_get(&med->c_connections, 0), &m->conn, why)) != 0)
			return rc;
		break;
	default:
		*why = "several c= lines on one m= line";
		return -EINVAL;
	}
	if (m->conn.family == 0 && m->port != 0) {
		*why = "m= line without a c= address";
		return -EINVAL;
	}
	m->dir = sess_dir;
	return parse_media_attrs(m, med, &dir_set, why);
}

static int
parse_tree(struct sdp_desc *d, sdp_message_t *s, const char **why)
{
	enum sdp_dir sess_dir = SDP_DIR_SENDRECV;
	bool sess_dir_set = false;
	int i, n, rc;

	if (!is_token(s->o_username, SDP_TOKEN_MAX) ||
	    !is_digits(s->o_sess_id, SDP_TOKEN_MAX - 1) ||
	    !is_digits(s->o_sess_version, SDP_TOKEN_MAX - 1) || s->o_addr == NULL) {
		*why = "malformed o= line";
		return -EINVAL;
	}
	copy_token(d->origin_user, s->o_username);
	copy_token(d->origin_id, s->o_sess_id);
	copy_token(d->origin_version, s->o_sess_version);
	if (s->c_connection != NULL &&
	    (rc = parse_conn(s->c_connection, &d->session_conn, why)) != 0)
		return rc;
	for (i = 0; i < osip_list_size(&s->a_attributes); i++) {
		sdp_attribute_t *a = osip_list_get(&s->a_attributes, i);
		enum sdp_dir dd;

		if (a->a_att_field == NULL)
			continue;
		if (strcmp(a->a_att_field, "crypto") == 0) {
			d->session_crypto = true;
		} else if (a->a_att_value == NULL && dir_from_attr(a->a_att_field, &dd) == 0) {
			if (sess_dir_set && dd != sess_dir) {
				*why = "conflicting session direction attributes";
				return -EINVAL;
			}
			sess_dir = dd;
			sess_dir_set = true;
		}
	}
	n = osip_list_size(&s->m_medias);
	if (n > SDP_MAX_MEDIA) {
		*why = "too many m= lines";
		return -EINVAL;
	}
	if (n > 0 && (d->media = calloc((size_t)n, sizeof(*d->media))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		d->nmedia++;
		rc = parse_media(d, osip_list_get(&s->m_medias, i), &d->media[i], sess_dir, why);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
sdp_parse(struct sdp_desc **out, const char *body, size_t len, const char **why)
{
	struct sdp_desc *d = NULL;
	sdp_message_t *s = NULL;
	char *buf = NULL;
	size_t cap = 0;
	const char *w = "malformed SDP";
	int rc;

	if (out == NULL || why == NULL)
		return -EINVAL;
	if ((rc = body_copy(body, len, &buf, &cap, &w)) != 0)
		goto done;
	if (sdp_message_init(&s) != 0) {
		rc = -ENOMEM;
		goto done;
	}
	if (sdp_message_parse(s, buf) != 0) {
		w = "SDP rejected by the parser (line order or syntax)";
		rc = -EINVAL;
		goto done;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	rc = parse_tree(d, s, &w);
done:
	osip_sdp_wipe_free(s);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
	if (rc != 0) {
		sdp_desc_free(d);
		if (rc == -EINVAL)
			*why = w;
		else
			*why = "out of memory";
		return rc;
	}
	*out = d;
	return 0;
}

void
sdp_desc_free(struct sdp_desc *d)
{
	size_t i;
	unsigned k;

	if (d == NULL)
		return;
	for (i = 0; i < d->nmedia; i++) {
		struct sdp_stream *m = &d->media[i];

		for (k = 0; k < m->crypto_cap; k++)
			sdes_crypto_wipe(&m->crypto[k]);
		free(m->crypto);
		for (k = 0; k < m->nformats; k++) {
			free(m->formats[k].rtpmap);
			free(m->formats[k].fmtp);
		}
		free(m->formats);
	}
	free(d->media);
	srtp_keys_wipe(&d->kept);
	free(d);
}

int
sdp_desc_keep_key(struct sdp_desc *d, const struct sdp_choice *v)
{
	const struct srtp_keys *k;

	if (d == NULL || v == NULL || d->key_kept)
		return -EINVAL;
	if (v->srtp && (k = sdp_desc_key(d, v)) == NULL)
		return -EINVAL;
	if (v->srtp)
		d->kept = *k;
	for (size_t i = 0; i < d->nmedia; i++) {
		struct sdp_stream *m = &d->media[i];
		for (unsigned j = 0; j < m->crypto_cap; j++)
			sdes_crypto_wipe(&m->crypto[j]);
		free(m->crypto);
		m->crypto = NULL;
		m->ncrypto = m->crypto_cap = 0;
	}
	d->key_kept = true;
	return 0;
}

const struct srtp_keys *
sdp_desc_key(const struct sdp_desc *d, const struct sdp_choice *v)
{
	const struct sdp_stream *m;

	if (d == NULL || v == NULL || !v->srtp)
		return NULL;
	if (d->key_kept)
		return d->kept.suite != SUITE_NONE ? &d->kept : NULL;
	if (v->media < 0 || (size_t)v->media >= d->nmedia)
		return NULL;
	m = &d->media[v->media];
	if (v->crypto < 0 || (unsigned)v->crypto >= m->ncrypto || m->crypto[v->crypto].nkeys < 1)
		return NULL;
	return &m->crypto[v->crypto].keys[0];
}

static bool
addr_is_unspecified(const struct sdp_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == AF_INET)
		return memcmp(a->bytes, zero, 4) == 0;
	if (a->family == AF_INET6)
		return memcmp(a->bytes, zero, 16) == 0;
	return false;
}

enum sdp_dir
sdp_stream_dir(const struct sdp_stream *m)
{
	if (addr_is_unspecified(&m->conn))
		return (enum sdp_dir)(m->dir & SDP_DIR_SENDONLY);
	return m->dir;
}

bool
sdp_stream_is_hold(const struct sdp_stream *m)
{
	return (sdp_stream_dir(m) & SDP_DIR_RECVONLY) == 0;
}
