/*
 * rtcp.c: reading RTCP compound packets strictly, and rewriting them for the other leg.
 *
 * The reader works on slices of the caller's buffer and checks each length before it
 * reads what the length covers: the packet header against the buffer, padding against
 * the packet, SDES items against the packet body. The rewrite validates the whole input
 * first and then writes a new compound: SDES chunks with the outgoing leg's CNAME only,
 * BYE without its reason, no APP (rtcp.h says why). Not responsible for SRTCP, nor for
 * where the CNAME comes from beyond making a fresh one (media.c keeps one per leg).
 */
#include "rtcp.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "sip_rand.h"

#define RTCP_PT_MIN 192 /* RFC 5761 s4: RTCP packet types are 192..223 */
#define RTCP_PT_MAX 223

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
rtcp_next(const uint8_t *buf, size_t len, size_t *off, struct rtcp_pkt *p)
{
	if (*off == len)
		return 0;
	if (*off > len || len - *off < 4)
		return -EBADMSG;

	const uint8_t *h = buf + *off;
	size_t rem = len - *off;
	size_t plen = ((size_t)h[2] << 8 | h[3]) * 4 + 4;

	if ((h[0] >> 6) != 2 || h[1] < RTCP_PT_MIN || h[1] > RTCP_PT_MAX || plen > rem)
		return -EBADMSG;
	size_t pad = 0;
	bool padding = (h[0] & 0x20) != 0;
	if (padding) {
		/* RFC 3550 s6.4.1: only the last packet of a compound is padded */
		if (plen != rem)
			return -EBADMSG;
		pad = h[plen - 1];
		if (pad == 0 || pad > plen - 4)
			return -EBADMSG;
	}
	p->type = h[1];
	p->count = h[0] & 0x1f;
	p->padding = padding;
	p->data = h;
	p->len = plen;
	p->body = h + 4;
	p->body_len = plen - 4 - pad;
	*off += plen;
	return 1;
}

/*
 * Walk the chunks of an SDES packet: chunk_cb(ssrc) at the start of each chunk, item_cb
 * for each item. Each chunk is an SSRC, items (type, length, text), a null octet and null
 * octets up to the next 32-bit boundary (RFC 3550 s6.5); the chunks fill the body.
 */
static int
sdes_walk(const struct rtcp_pkt *p, int (*chunk_cb)(uint32_t ssrc, void *arg), rtcp_sdes_cb item_cb,
          void *arg)
{
	const uint8_t *b = p->body;
	size_t n = p->body_len, pos = 0;
	int rc;

	for (unsigned c = 0; c < p->count; c++) {
		if (n - pos < 4)
			return -EBADMSG;
		struct rtcp_sdes_item it = {.ssrc = rd32(b + pos)};
		pos += 4;
		if (chunk_cb != NULL && (rc = chunk_cb(it.ssrc, arg)) != 0)
			return rc;
		for (;;) {
			if (pos >= n)
				return -EBADMSG; /* no terminating null octet */
			if (b[pos] == RTCP_SDES_END)
				break;
			if (n - pos < 2 || n - pos - 2 < b[pos + 1])
				return -EBADMSG;
			it.type = b[pos];
			it.len = b[pos + 1];
			it.data = b + pos + 2;
			pos += 2 + (size_t)it.len;
			if (item_cb != NULL && (rc = item_cb(&it, arg)) != 0)
				return rc;
		}
		/* the null octet, then null octets to the boundary (body starts aligned) */
		do {
			if (pos >= n || b[pos] != 0)
				return -EBADMSG;
			pos++;
		} while (pos % 4 != 0);
	}
	return pos == n ? 0 : -EBADMSG;
}

int
rtcp_sdes_walk(const struct rtcp_pkt *p, rtcp_sdes_cb cb, void *arg)
{
	if (p == NULL || p->type != RTCP_SDES)
		return -EBADMSG;
	return sdes_walk(p, NULL, cb, arg);
}

int
rtcp_report_block(const struct rtcp_pkt *p, unsigned i, struct rtcp_report *out)
{
	size_t at;
	const uint8_t *b;

	if (p == NULL || (p->type != RTCP_SR && p->type != RTCP_RR) || i >= p->count)
		return -EINVAL;
	at = (p->type == RTCP_SR ? 24 : 4) + (size_t)i * 24;
	if (p->body_len < at + 24)
		return -EBADMSG;
	b = p->body + at;
	out->reporter = rd32(p->body);
	out->ssrc = rd32(b);
	out->fraction = b[4];
	/* 24-bit two's complement */
	out->lost = (int32_t)(((uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7]) ^ 0x800000u) -
	            0x800000;
	out->ext_max = rd32(b + 8);
	out->jitter = rd32(b + 12);
	out->lsr = rd32(b + 16);
	out->dlsr = rd32(b + 20);
	return 0;
}

int
rtcp_sr_ntp_mid(const struct rtcp_pkt *p, uint32_t *mid)
{
	if (p == NULL || p->type != RTCP_SR || p->body_len < 24)
		return -EINVAL;
	/* body: SSRC, NTP seconds, NTP fraction; the middle bits straddle the two */
	*mid = rd32(p->body + 6);
	return 0;
}

/* The checks beyond framing that a packet of a known type must pass. */
static int
pkt_check(const struct rtcp_pkt *p)
{
	size_t n = p->body_len, srcs = (size_t)p->count * 4;

	switch (p->type) {
	case RTCP_SR: /* SSRC, sender info, report blocks (profile extensions may follow) */
		return n >= 24 + (size_t)p->count * 24 ? 0 : -EBADMSG;
	case RTCP_RR:
		return n >= 4 + (size_t)p->count * 24 ? 0 : -EBADMSG;
	case RTCP_SDES:
		return sdes_walk(p, NULL, NULL, NULL);
	case RTCP_BYE:
		/* sources, then optionally a length octet and that much reason text */
		if (n < srcs)
			return -EBADMSG;
		if (n == srcs)
			return 0;
		size_t reason = 1 + (size_t)p->body[srcs];
		return reason <= n - srcs && n - srcs - reason < 4 ? 0 : -EBADMSG;
	default:
		return 0;
	}
}

int
rtcp_check(const uint8_t *buf, size_t len)
{
	struct rtcp_pkt p;
	size_t off = 0;
	int rc;

	if (buf == NULL || len == 0)
		return -EBADMSG;
	while ((rc = rtcp_next(buf, len, &off, &p)) == 1)
		if (pkt_check(&p) != 0)
			return -EBADMSG;
	return rc;
}

/* Output of rtcp_rewrite(): out[0..len) written so far, never past cap. */
struct writer {
	uint8_t *out;
	size_t cap, len;
	const uint8_t *cname;
	size_t cname_len;
};

static int
put(struct writer *w, const void *src, size_t n)
{
	if (n > w->cap - w->len)
		return -ENOSPC;
	if (src != NULL)
		memcpy(w->out + w->len, src, n);
	else
		memset(w->out + w->len, 0, n);
	w->len += n;
	return 0;
}

/* A packet header with P clear and a length field for `bytes` octets in all. */
static int
put_header(struct writer *w, size_t at, uint8_t count, uint8_t type, size_t bytes)
{
	size_t words = bytes / 4 - 1;

	if (words > 0xffff)
		return -ENOSPC;
	w->out[at] = (uint8_t)(0x80 | count);
	w->out[at + 1] = type;
	w->out[at + 2] = (uint8_t)(words >> 8);
	w->out[at + 3] = (uint8_t)words;
	return 0;
}

/* One outgoing SDES chunk: the SSRC, our CNAME, the null octet and padding. */
static int
sdes_chunk_cb(uint32_t ssrc, void *arg)
{
	struct writer *w = arg;
	uint8_t hdr[6] = {(uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16), (uint8_t)(ssrc >> 8),
	                  (uint8_t)ssrc,         RTCP_SDES_CNAME,       (uint8_t)w->cname_len};
	size_t used = sizeof(hdr) + w->cname_len;
	int rc;

	if ((rc = put(w, hdr, sizeof(hdr))) != 0 || (rc = put(w, w->cname, w->cname_len)) != 0)
		return rc;
	return put(w, NULL, 4 - used % 4);
}

static int
rewrite_pkt(struct writer *w, const struct rtcp_pkt *p)
{
	size_t start = w->len;
	int rc;

	switch (p->type) {
	case RTCP_APP:
		return 0;
	case RTCP_SDES:
		if ((rc = put(w, NULL, 4)) != 0 || (rc = sdes_walk(p, sdes_chunk_cb, NULL, w)) != 0)
			return rc;
		return put_header(w, start, p->count, RTCP_SDES, w->len - start);
	case RTCP_BYE:
		if ((rc = put(w, NULL, 4)) != 0 ||
		    (rc = put(w, p->body, (size_t)p->count * 4)) != 0)
			return rc;
		return put_header(w, start, p->count, RTCP_BYE, w->len - start);
	default:
		return put(w, p->data, p->len);
	}
}

int
rtcp_rewrite(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len,
             const uint8_t *cname, size_t cname_len)
{
	struct writer w = {out, cap, 0, cname, cname_len};
	struct rtcp_pkt p;
	size_t off = 0;
	int rc;

	if (cname == NULL || cname_len == 0 || cname_len > 255)
		return -EINVAL;
	if (rtcp_check(in, in_len) != 0)
		return -EBADMSG;
	while ((rc = rtcp_next(in, in_len, &off, &p)) == 1)
		if ((rc = rewrite_pkt(&w, &p)) != 0)
			return rc;
	if (rc != 0)
		return rc;
	if (w.len == 0)
		return -ENOMSG;
	*out_len = w.len;
	return 0;
}

int
rtcp_cname_new(uint8_t out[RTCP_CNAME_LEN])
{
	unsigned char raw[12], b64[RTCP_CNAME_LEN + 1];

	if (sip_rand_bytes(raw, sizeof(raw)) != 0) /* a name, not a secret: the token pool */
		return -EIO;
	if (EVP_EncodeBlock(b64, raw, sizeof(raw)) != RTCP_CNAME_LEN)
		return -EIO;
	memcpy(out, b64, RTCP_CNAME_LEN);
	return 0;
}
