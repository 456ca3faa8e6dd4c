/*
 * sdp_build.c: writing the SDP sipwarden sends on a leg (offers and answers), and the
 * o= line state of a leg (sdp.h).
 *
 * The text is built from scratch, line by line, in one fixed order; nothing is copied
 * from the other leg except payload formats with their a=rtpmap / a=fmtp, a=ptime,
 * a=maxptime, the direction and a=rtcp-mux. Keys are generated here (one per a=crypto
 * line) and handed to the caller. The buffer holds keys, so it is wiped whenever it is
 * grown or freed. Reading and judging SDP lives in sdp.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sdp.h"
#include "sip_rand.h"

#define CRYPTO_LINE_MAX 160

/* A growing text buffer that never leaves a copy of its contents behind. */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void
sb_grow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *n;

	while (cap < need)
		cap *= 2;
	if ((n = malloc(cap)) == NULL) {
		b->err = -ENOMEM;
		return;
	}
	if (b->p != NULL) {
		memcpy(n, b->p, b->len + 1);
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = n;
	b->cap = cap;
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err != 0)
		return;
	if (b->p == NULL)
		sb_grow(b, 1024);
	for (;;) {
		if (b->err != 0)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->p[b->len] = '\0';
		sb_grow(b, b->len + (size_t)n + 1);
	}
}

static void
sb_wipe(struct sbuf *b)
{
	if (b->p != NULL) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

void
sdp_text_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int
sdp_origin_init(struct sdp_origin *o)
{
	uint64_t id = 0;

	if (o == NULL)
		return -EINVAL;
	if (sip_rand_bytes(&id, sizeof(id)) != 0) /* an o= session id: the token pool */
		return -EIO;
	id &= (UINT64_C(1) << 62) - 1;
	o->id = id != 0 ? id : 1;
	o->version = 1;
	return 0;
}

/* Canonical text and address type ("IP4"/"IP6") of our media address. */
static int
local_addr(const struct sdp_local *l, char *text, const char **atype)
{
	uint8_t bytes[16];

	if (l->addr == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, l->addr, bytes) == 1) {
		*atype = "IP4";
		inet_ntop(AF_INET, bytes, text, SDP_ADDR_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, l->addr, bytes) == 1) {
		*atype = "IP6";
		inet_ntop(AF_INET6, bytes, text, SDP_ADDR_MAX);
		return 0;
	}
	return -EINVAL;
}

static int
check_local(const struct sdp_local *l, char *addr, const char **atype)
{
	if (l == NULL || l->origin == NULL || l->port == 0)
		return -EINVAL;
	return local_addr(l, addr, atype);
}

static void
put_session(struct sbuf *b, const struct sdp_local *l, const char *addr, const char *atype)
{
	sb_printf(b, "v=0\r\no=sipwarden %" PRIu64 " %" PRIu64 " IN %s %s\r\ns=-\r\n",
	          l->origin->id, l->origin->version, atype, addr);
	sb_printf(b, "c=IN %s %s\r\nt=0 0\r\n", atype, addr);
}

static const char *
out_proto(enum sdp_proto in, bool srtp)
{
	bool avpf =
	        in == SDP_PROTO_RTP_AVPF || in == SDP_PROTO_RTP_SAVPF || in == SDP_PROTO_DTLS_SAVPF;

	if (srtp)
		return avpf ? "RTP/SAVPF" : "RTP/SAVP";
	return avpf ? "RTP/AVPF" : "RTP/AVP";
}

/* The formats that go out, each with the attributes that describe it. */
struct fmt_out {
	const struct sdp_format *f[SDP_MAX_FORMATS];
	const char *rtpmap[SDP_MAX_FORMATS];
	unsigned n;
};

static void
put_audio(struct sbuf *b, uint16_t port, const char *proto, const struct fmt_out *fo,
          unsigned ptime, unsigned maxptime, enum sdp_dir dir, bool rtcp_mux)
{
	unsigned i;

	sb_printf(b, "m=audio %u %s", port, proto);
	for (i = 0; i < fo->n; i++)
		sb_printf(b, " %u", fo->f[i]->pt);
	sb_printf(b, "\r\n");
	for (i = 0; i < fo->n; i++) {
		if (fo->rtpmap[i] != NULL)
			sb_printf(b, "a=rtpmap:%u %s\r\n", fo->f[i]->pt, fo->rtpmap[i]);
		if (fo->f[i]->fmtp != NULL)
			sb_printf(b, "a=fmtp:%u %s\r\n", fo->f[i]->pt, fo->f[i]->fmtp);
	}
	if (ptime != 0)
		sb_printf(b, "a=ptime:%u\r\n", ptime);
	if (maxptime != 0)
		sb_printf(b, "a=maxptime:%u\r\n", maxptime);
	sb_printf(b, "a=%s\r\n", sdp_dir_name(dir));
	if (rtcp_mux)
		sb_printf(b, "a=rtcp-mux\r\n");
}

static void
put_crypto(struct sbuf *b, const struct srtp_keys *k, bool pad)
{
	char line[CRYPTO_LINE_MAX];
	int n = sdes_format(k, pad, line, sizeof(line));

	if (n < 0) {
		if (b->err == 0)
			b->err = n;
	} else {
		sb_printf(b, "a=crypto:%s\r\n", line);
	}
	OPENSSL_cleanse(line, sizeof(line));
}

static int
finish(struct sbuf *b, char **out)
{
	if (b->err != 0) {
		int rc = b->err;

		sb_wipe(b);
		return rc;
	}
	/* the text is kept (a call keeps its answer to leg A): hand out a copy of its size,
	 * not the buffer it grew in (1 KiB or more); the buffer holds keys: wiped */
	char *t = malloc(b->len + 1);
	if (t == NULL) {
		sb_wipe(b);
		return -ENOMEM;
	}
	memcpy(t, b->p, b->len + 1);
	sb_wipe(b);
	*out = t;
	return 0;
}

/* sdp_build_offer() and sdp_build_reoffer(): `keep` writes keys[0..*nkeys) as they are
 * instead of generating them for `suites`. */
static int
build_offer(char **out, const struct sdp_local *l, const struct sdp_desc *from,
            const struct sdp_verdict *fromv, const enum srtp_suite *suites, size_t nsuites,
            struct srtp_keys *keys, size_t nkeys_max, size_t *nkeys, bool keep)
{
	char addr[SDP_ADDR_MAX];
	const char *atype;
	const struct sdp_stream *m;
	enum srtp_suite use[SUITE_COUNT];
	struct fmt_out fo;
	struct sbuf b = {0};
	size_t nuse = 0, i, j;
	int rc;

	if (out == NULL || nkeys == NULL || from == NULL || fromv == NULL ||
	    (nsuites > 0 && (suites == NULL || keys == NULL)) || check_local(l, addr, &atype) != 0)
		return -EINVAL;
	if (fromv->reason != SDP_OK || fromv->media < 0 || (size_t)fromv->media >= from->nmedia)
		return -EINVAL;
	m = &from->media[fromv->media];
	if (m->nformats == 0)
		return -EINVAL;
	for (i = 0; i < nsuites; i++) {
		const struct suite_info *si = suite_info(suites[i]);

		if (si == NULL || !si->usable)
			continue;
		for (j = 0; j < nuse; j++)
			if (use[j] == suites[i])
				break;
		if (j == nuse && nuse < SUITE_COUNT)
			use[nuse++] = suites[i];
	}
	if (nsuites > 0 && nuse == 0)
		return -EINVAL;
	if (nuse > nkeys_max)
		return -ENOSPC;

	fo.n = m->nformats;
	for (i = 0; i < m->nformats; i++) {
		fo.f[i] = &m->formats[i];
		fo.rtpmap[i] = m->formats[i].rtpmap;
	}
	put_session(&b, l, addr, atype);
	put_audio(&b, l->port, out_proto(m->proto, nuse > 0), &fo, m->ptime, m->maxptime,
	          sdp_stream_dir(m), m->rtcp_mux);
	if (!keep && nuse > 0) { /* every offered key from one DRBG call */
		for (i = 0; i < nuse; i++)
			srtp_keys_wipe(&keys[i]); /* no stale tag or MKI from the caller's memory */
		if ((rc = srtp_keys_generate_n(keys, use, nuse)) != 0) {
			sb_wipe(&b);
			return rc;
		}
	}
	for (i = 0; i < nuse; i++) {
		if (!keep)
			keys[i].tag = (uint32_t)(i + 1);
		put_crypto(&b, &keys[i], l->crypto_pad);
	}
	if ((rc = finish(&b, out)) != 0) {
		for (i = 0; i < nuse && !keep; i++)
			srtp_keys_wipe(&keys[i]);
		return rc;
	}
	*nkeys = nuse;
	return 0;
}

int
sdp_build_offer(char **out, const struct sdp_local *l, const struct sdp_desc *from,
                const struct sdp_verdict *fromv, const enum srtp_suite *suites, size_t nsuites,
                struct srtp_keys *keys, size_t nkeys_max, size_t *nkeys)
{
	return build_offer(out, l, from, fromv, suites, nsuites, keys, nkeys_max, nkeys, false);
}

int
sdp_build_reoffer(char **out, const struct sdp_local *l, const struct sdp_desc *from,
                  const struct sdp_verdict *fromv, const struct srtp_keys *keys, size_t nkeys)
{
	enum srtp_suite suites[SUITE_COUNT];
	size_t n = nkeys;

	if (keys == NULL || nkeys == 0 || nkeys > SUITE_COUNT)
		return -EINVAL;
	for (size_t i = 0; i < nkeys; i++) {
		const struct suite_info *si = suite_info(keys[i].suite);
		if (si == NULL || !si->usable || keys[i].tag == 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (keys[j].suite == keys[i].suite || keys[j].tag == keys[i].tag)
				return -EINVAL;
		suites[i] = keys[i].suite;
	}
	/* build_offer() only reads the keys when it keeps them */
	return build_offer(out, l, from, fromv, suites, nkeys, (struct srtp_keys *)keys, nkeys, &n,
	                   true);
}

static const struct sdp_format *
format_in(const struct sdp_stream *m, uint8_t pt)
{
	unsigned i;

	for (i = 0; i < m->nformats; i++)
		if (m->formats[i].pt == pt)
			return &m->formats[i];
	return NULL;
}

/* sdp_build_answer() and sdp_build_answer_keep(): `keep` writes *key as it is. */
static int
build_answer(char **out, const struct sdp_local *l, const struct sdp_desc *offer,
             const struct sdp_verdict *v, const struct sdp_desc *media_answer,
             struct srtp_keys *key, bool keep)
{
	char addr[SDP_ADDR_MAX];
	const char *atype;
	const struct sdp_stream *om, *am = NULL, *src;
	struct fmt_out fo = {.n = 0};
	struct sbuf b = {0};
	enum sdp_dir dir;
	size_t i;
	int rc;

	if (out == NULL || offer == NULL || v == NULL || check_local(l, addr, &atype) != 0)
		return -EINVAL;
	if (v->reason != SDP_OK || v->media < 0 || (size_t)v->media >= offer->nmedia)
		return -EINVAL;
	if (v->srtp && (key == NULL || (keep && (key->suite != v->suite || key->tag != v->tag))))
		return -EINVAL;
	om = &offer->media[v->media];
	/* the offer's a=crypto line, or the key a call kept of it (sdp_desc_keep_key()) */
	if (v->srtp) {
		struct sdp_choice ch = sdp_choice_of(v);
		if (sdp_desc_key(offer, &ch) == NULL)
			return -EINVAL;
	}
	if (media_answer != NULL) {
		if (media_answer->nmedia == 0)
			return -EINVAL;
		am = &media_answer->media[0];
	}
	src = am != NULL ? am : om;
	for (i = 0; i < src->nformats; i++) {
		const struct sdp_format *f = &src->formats[i];
		const struct sdp_format *of = format_in(om, f->pt);

		if (of == NULL)
			continue; /* the answer may only use formats the offer listed */
		fo.f[fo.n] = f;
		fo.rtpmap[fo.n] = f->rtpmap != NULL ? f->rtpmap : of->rtpmap;
		fo.n++;
	}
	if (fo.n == 0)
		return -ENOMSG;
	/* mirror the offer's direction (send <-> receive), then limit it by the other leg's */
	dir = sdp_stream_dir(om);
	dir = (enum sdp_dir)(((dir & SDP_DIR_SENDONLY) << 1) | ((dir & SDP_DIR_RECVONLY) >> 1));
	if (am != NULL)
		dir = (enum sdp_dir)(dir & sdp_stream_dir(am));

	put_session(&b, l, addr, atype);
	for (i = 0; i < offer->nmedia; i++) {
		const struct sdp_stream *m = &offer->media[i];

		if ((int)i != v->media) {
			sb_printf(&b, "m=%s 0 %s %s\r\n", m->type, m->proto_text, m->fmt0);
			continue;
		}
		/* rtcp-mux as offered: each leg negotiates its own (the relay muxes per leg
		 * and runs this one as its offer asked), whatever the other leg chose */
		put_audio(&b, l->port, out_proto(om->proto, v->srtp), &fo, src->ptime,
		          src->maxptime, dir, om->rtcp_mux);
		if (v->srtp && keep) {
			put_crypto(&b, key, l->crypto_pad);
		} else if (v->srtp) {
			srtp_keys_wipe(key);
			if ((rc = srtp_keys_generate(key, v->suite)) != 0) {
				srtp_keys_wipe(key);
				sb_wipe(&b);
				return rc;
			}
			key->tag = v->tag;
			put_crypto(&b, key, l->crypto_pad);
		}
	}
	if ((rc = finish(&b, out)) != 0) {
		if (v->srtp && !keep)
			srtp_keys_wipe(key);
		return rc;
	}
	return 0;
}

int
sdp_build_answer(char **out, const struct sdp_local *l, const struct sdp_desc *offer,
                 const struct sdp_verdict *v, const struct sdp_desc *media_answer,
                 struct srtp_keys *key)
{
	return build_answer(out, l, offer, v, media_answer, key, false);
}

int
sdp_build_answer_keep(char **out, const struct sdp_local *l, const struct sdp_desc *offer,
                      const struct sdp_verdict *v, const struct sdp_desc *media_answer,
                      const struct srtp_keys *key)
{
	/* build_answer() only reads the key when it keeps it */
	return build_answer(out, l, offer, v, media_answer, (struct srtp_keys *)key, true);
}
