/*
 * test_rtcp.c: RTCP compounds laid out as RFC 3550 s6 draws them (SR+SDES, RR+SDES+BYE,
 * padding, several chunks), the rewrite that keeps one CNAME of ours per chunk, and
 * input that must be refused: every truncation, overlong lengths, bad padding, SDES items
 * past their packet, and a few thousand random mutations read from exact-size heap
 * copies (so a read past the end shows under ASan).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"

#define BUFSZ 2048

static const uint8_t our_cname[RTCP_CNAME_LEN] = "q0Zk3UOx9bQ1Yc8+";

/* A little builder for test compounds. */
struct b {
	uint8_t d[BUFSZ];
	size_t n;
	size_t hdr; /* start of the packet being built */
};

static void
b8(struct b *b, uint8_t v)
{
	if (b->n >= BUFSZ) /* not ck_assert: each one is a message to Check's parent */
		abort();
	b->d[b->n++] = v;
}

static void
b32(struct b *b, uint32_t v)
{
	b8(b, (uint8_t)(v >> 24));
	b8(b, (uint8_t)(v >> 16));
	b8(b, (uint8_t)(v >> 8));
	b8(b, (uint8_t)v);
}

static void
bstr(struct b *b, const char *s)
{
	for (; *s; s++)
		b8(b, (uint8_t)*s);
}

static void
begin(struct b *b, uint8_t count, uint8_t type)
{
	b->hdr = b->n;
	b8(b, (uint8_t)(0x80 | count));
	b8(b, type);
	b8(b, 0);
	b8(b, 0);
}

/* Close the packet: pad to 32 bits with `pad` octets of padding (P bit) if pad > 0. */
static void
end_pad(struct b *b, uint8_t pad)
{
	if (pad > 0) {
		for (uint8_t i = 1; i < pad; i++)
			b8(b, 0);
		b8(b, pad);
		b->d[b->hdr] |= 0x20;
	}
	if ((b->n - b->hdr) % 4 != 0)
		abort();
	size_t words = (b->n - b->hdr) / 4 - 1;
	b->d[b->hdr + 2] = (uint8_t)(words >> 8);
	b->d[b->hdr + 3] = (uint8_t)words;
}

static void
end(struct b *b)
{
	end_pad(b, 0);
}

static void
sr(struct b *b, uint32_t ssrc, unsigned blocks)
{
	begin(b, (uint8_t)blocks, RTCP_SR);
	b32(b, ssrc);
	for (int i = 0; i < 5; i++) /* NTP, RTP ts, packets, octets */
		b32(b, 0x11111111u * (uint32_t)(i + 1));
	for (unsigned k = 0; k < blocks; k++)
		for (int i = 0; i < 6; i++)
			b32(b, 0xa0000000u + k * 16 + (uint32_t)i);
	end(b);
}

static void
item(struct b *b, uint8_t type, const char *text)
{
	b8(b, type);
	b8(b, (uint8_t)strlen(text));
	bstr(b, text);
}

/* Terminate a chunk's item list and pad it to 32 bits. */
static void
chunk_end(struct b *b)
{
	do
		b8(b, 0);
	while ((b->n - b->hdr) % 4 != 0);
}

/* SDES with every item type for one SSRC. */
static void
sdes_full(struct b *b, uint32_t ssrc)
{
	begin(b, 1, RTCP_SDES);
	b32(b, ssrc);
	item(b, RTCP_SDES_CNAME, "agent@gpu-node-17.cluster.internal");
	item(b, RTCP_SDES_NAME, "Agent Seven");
	item(b, RTCP_SDES_EMAIL, "ops@example.com");
	item(b, RTCP_SDES_PHONE, "+1 555 0100");
	item(b, RTCP_SDES_LOC, "rack 4");
	item(b, RTCP_SDES_TOOL, "voicebot/3.2 (linux x86_64)");
	item(b, RTCP_SDES_NOTE, "on shift");
	b8(b, RTCP_SDES_PRIV);
	b8(b, 6);
	b8(b, 3);
	bstr(b, "xyzab");
	chunk_end(b);
	end(b);
}

/* What rtcp_sdes_walk reports, as a flat list. */
struct seen {
	unsigned n;
	struct rtcp_sdes_item it[64];
	unsigned cnames_ours;
};

static int
seen_cb(const struct rtcp_sdes_item *it, void *arg)
{
	struct seen *s = arg;
	ck_assert_uint_lt(s->n, 64);
	s->it[s->n++] = *it;
	if (it->type == RTCP_SDES_CNAME && it->len == RTCP_CNAME_LEN &&
	    memcmp(it->data, our_cname, RTCP_CNAME_LEN) == 0)
		s->cnames_ours++;
	return 0;
}

/* Walk every SDES packet of a compound (which must be valid). */
static void
walk_all(const uint8_t *buf, size_t len, struct seen *s)
{
	struct rtcp_pkt p;
	size_t off = 0;
	int rc;
	memset(s, 0, sizeof(*s));
	while ((rc = rtcp_next(buf, len, &off, &p)) == 1)
		if (p.type == RTCP_SDES)
			ck_assert_int_eq(rtcp_sdes_walk(&p, seen_cb, s), 0);
	ck_assert_int_eq(rc, 0);
}

static int
rewrite(const struct b *in, uint8_t *out, size_t cap, size_t *out_len)
{
	return rtcp_rewrite(in->d, in->n, out, cap, out_len, our_cname, RTCP_CNAME_LEN);
}

START_TEST(rtcp_reads_sr_and_sdes_as_rfc3550_lays_them_out)
{
	struct b b = {0};
	struct rtcp_pkt p;
	struct seen s;
	size_t off = 0;
	sr(&b, 0x01020304, 1);
	size_t sr_len = b.n;
	sdes_full(&b, 0x01020304);
	ck_assert_uint_eq(sr_len, 4 + 24 + 24);
	ck_assert_int_eq(rtcp_check(b.d, b.n), 0);
	ck_assert_int_eq(rtcp_next(b.d, b.n, &off, &p), 1);
	ck_assert_uint_eq(p.type, RTCP_SR);
	ck_assert_uint_eq(p.count, 1);
	ck_assert_uint_eq(p.len, sr_len);
	ck_assert_int_eq(rtcp_next(b.d, b.n, &off, &p), 1);
	ck_assert_uint_eq(p.type, RTCP_SDES);
	ck_assert_uint_eq(off, b.n);
	ck_assert_int_eq(rtcp_next(b.d, b.n, &off, &p), 0);
	walk_all(b.d, b.n, &s);
	ck_assert_uint_eq(s.n, 8);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_uint_eq(s.it[i].ssrc, 0x01020304);
		ck_assert_uint_eq(s.it[i].type, i + 1);
	}
	ck_assert_uint_eq(s.it[0].len, strlen("agent@gpu-node-17.cluster.internal"));
	ck_assert_mem_eq(s.it[5].data, "voicebot/3.2", 12);
}
END_TEST

/* An RR block as RFC 3550 s6.4.1 lays it out, and the SR's NTP middle bits (for LSR). */
START_TEST(rtcp_reads_report_blocks_of_sr_and_rr)
{
	struct b b = {0};
	struct rtcp_pkt sp, rp;
	struct rtcp_report rb;
	uint32_t mid;
	size_t off = 0;

	sr(&b, 0x01020304, 1);
	begin(&b, 2, RTCP_RR);
	b32(&b, 0xcafe0001);  /* reporter */
	b32(&b, 0x0badf00d);  /* source */
	b32(&b, 0x40fffffeu); /* fraction 64/256, cumulative lost -2 */
	b32(&b, 0x00010064);  /* one wrap, seq 100 */
	b32(&b, 160);         /* jitter */
	b32(&b, 0x12345678);  /* LSR */
	b32(&b, 0x00018000);  /* DLSR 1.5 s */
	b32(&b, 0x0badf00e);
	b32(&b, 0x00000010); /* lost 16 */
	for (int i = 0; i < 4; i++)
		b32(&b, 0);
	end(&b);
	ck_assert_int_eq(rtcp_check(b.d, b.n), 0);
	ck_assert_int_eq(rtcp_next(b.d, b.n, &off, &sp), 1);
	ck_assert_int_eq(rtcp_next(b.d, b.n, &off, &rp), 1);

	ck_assert_int_eq(rtcp_sr_ntp_mid(&sp, &mid), 0);
	ck_assert_uint_eq(mid, 0x11112222u); /* low half of NTP seconds, high half of fraction */
	ck_assert_int_eq(rtcp_sr_ntp_mid(&rp, &mid), -EINVAL);
	ck_assert_int_eq(rtcp_report_block(&sp, 0, &rb), 0);
	ck_assert_uint_eq(rb.reporter, 0x01020304);
	ck_assert_uint_eq(rb.ssrc, 0xa0000000u);

	ck_assert_int_eq(rtcp_report_block(&rp, 0, &rb), 0);
	ck_assert_uint_eq(rb.reporter, 0xcafe0001);
	ck_assert_uint_eq(rb.ssrc, 0x0badf00d);
	ck_assert_uint_eq(rb.fraction, 64);
	ck_assert_int_eq(rb.lost, -2);
	ck_assert_uint_eq(rb.ext_max, 0x00010064);
	ck_assert_uint_eq(rb.jitter, 160);
	ck_assert_uint_eq(rb.lsr, 0x12345678);
	ck_assert_uint_eq(rb.dlsr, 0x00018000);
	ck_assert_int_eq(rtcp_report_block(&rp, 1, &rb), 0);
	ck_assert_uint_eq(rb.ssrc, 0x0badf00e);
	ck_assert_int_eq(rb.lost, 16);
	/* past the count, or not a report */
	ck_assert_int_eq(rtcp_report_block(&rp, 2, &rb), -EINVAL);
	rp.type = RTCP_SDES;
	ck_assert_int_eq(rtcp_report_block(&rp, 0, &rb), -EINVAL);
	/* a count the body does not hold */
	rp.type = RTCP_RR;
	rp.body_len = 4 + 24 + 23;
	ck_assert_int_eq(rtcp_report_block(&rp, 1, &rb), -EBADMSG);
}
END_TEST

START_TEST(rtcp_rewrite_leaves_one_cname_of_ours_per_chunk)
{
	struct b b = {0};
	uint8_t out[BUFSZ];
	size_t n;
	struct seen s;
	sr(&b, 0xcafe0001, 2);
	size_t sr_len = b.n;
	/* two chunks (SSRC and a CSRC), the second with a CNAME only */
	begin(&b, 2, RTCP_SDES);
	b32(&b, 0xcafe0001);
	item(&b, RTCP_SDES_TOOL, "Asterisk PBX 20.5.0");
	item(&b, RTCP_SDES_CNAME, "pbx@10.1.2.3");
	item(&b, RTCP_SDES_NAME, "Front desk");
	chunk_end(&b);
	b32(&b, 0xcafe0002);
	item(&b, RTCP_SDES_CNAME, "x");
	chunk_end(&b);
	end(&b);
	ck_assert_int_eq(rtcp_check(b.d, b.n), 0);

	ck_assert_int_eq(rewrite(&b, out, sizeof(out), &n), 0);
	ck_assert_int_eq(rtcp_check(out, n), 0);
	ck_assert_mem_eq(out, b.d, sr_len); /* SR untouched */
	/* SDES: header, 2 chunks of SSRC + CNAME(16) + 2 nulls */
	ck_assert_uint_eq(n, sr_len + 4 + 2 * 24);
	ck_assert_uint_eq(out[sr_len], 0x82);
	ck_assert_uint_eq(out[sr_len + 1], RTCP_SDES);
	ck_assert_uint_eq(out[sr_len + 3], 12);
	walk_all(out, n, &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.cnames_ours, 2);
	ck_assert_uint_eq(s.it[0].ssrc, 0xcafe0001);
	ck_assert_uint_eq(s.it[1].ssrc, 0xcafe0002);
}
END_TEST

START_TEST(rtcp_rewrite_rr_sdes_bye_drops_items_and_the_bye_reason)
{
	struct b b = {0};
	uint8_t out[BUFSZ];
	size_t n;
	struct seen s;
	begin(&b, 0, RTCP_RR); /* empty RR, as RFC 3550 s6.1 allows */
	b32(&b, 0x0badf00d);
	end(&b);
	sdes_full(&b, 0x0badf00d);
	begin(&b, 1, RTCP_BYE);
	b32(&b, 0x0badf00d);
	b8(&b, 18);
	bstr(&b, "agent-7 going down");
	b8(&b, 0); /* 4 + 1 + 18 + 1 = 24 */
	end(&b);
	ck_assert_int_eq(rtcp_check(b.d, b.n), 0);

	ck_assert_int_eq(rewrite(&b, out, sizeof(out), &n), 0);
	ck_assert_int_eq(rtcp_check(out, n), 0);
	ck_assert_uint_eq(n, 8 + (4 + 24) + 8);
	walk_all(out, n, &s);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.cnames_ours, 1);
	static const uint8_t bye[] = {0x81, RTCP_BYE, 0, 1, 0x0b, 0xad, 0xf0, 0x0d};
	ck_assert_mem_eq(out + n - 8, bye, 8);
}
END_TEST

START_TEST(rtcp_rewrite_handles_padding_app_and_empty_chunks)
{
	struct b b = {0};
	uint8_t out[BUFSZ];
	size_t n;
	struct seen s;
	/* SR, APP, SDES whose chunk has no item, padded by 8 (P bit on the last packet) */
	sr(&b, 7, 0);
	begin(&b, 3, RTCP_APP);
	b32(&b, 7);
	bstr(&b, "ACME");
	b32(&b, 0xdeadbeef);
	end(&b);
	begin(&b, 1, RTCP_SDES);
	b32(&b, 7);
	chunk_end(&b);
	end_pad(&b, 8);
	ck_assert_int_eq(rtcp_check(b.d, b.n), 0);
	ck_assert_int_eq(rewrite(&b, out, sizeof(out), &n), 0);
	ck_assert_int_eq(rtcp_check(out, n), 0);
	ck_assert_uint_eq(n, 28 + 4 + 24); /* no APP, no padding, the chunk grew */
	ck_assert_uint_eq(out[28] & 0x20, 0);
	walk_all(out, n, &s);
	ck_assert_uint_eq(s.cnames_ours, 1);
	/* the result must fit: one octet short is refused */
	ck_assert_int_eq(rewrite(&b, out, 28 + 4 + 23, &n), -ENOSPC);
	ck_assert_int_eq(rewrite(&b, out, 10, &n), -ENOSPC);
	/* nothing but APP: nothing to send */
	struct b app = {0};
	begin(&app, 0, RTCP_APP);
	b32(&app, 7);
	bstr(&app, "ACME");
	end(&app);
	ck_assert_int_eq(rewrite(&app, out, sizeof(out), &n), -ENOMSG);
	/* a verbatim packet keeps its padding when it is the last one */
	struct b rr = {0};
	begin(&rr, 0, RTCP_RR);
	b32(&rr, 9);
	end_pad(&rr, 4);
	ck_assert_int_eq(rewrite(&rr, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, rr.n);
	ck_assert_mem_eq(out, rr.d, n);
	/* a bad CNAME length is the caller's error */
	ck_assert_int_eq(rtcp_rewrite(rr.d, rr.n, out, sizeof(out), &n, our_cname, 0), -EINVAL);
}
END_TEST

/* A valid SR + SDES + BYE compound to break in various ways. */
static void
good(struct b *b)
{
	memset(b, 0, sizeof(*b));
	sr(b, 0x55, 1);
	sdes_full(b, 0x55);
	begin(b, 1, RTCP_BYE);
	b32(b, 0x55);
	end(b);
}

static void
expect_bad(const uint8_t *d, size_t n)
{
	uint8_t out[BUFSZ];
	size_t on = 12345;
	uint8_t *copy = malloc(n ? n : 1); /* exact size: an overread shows under ASan */
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, d, n);
	ck_assert_int_eq(rtcp_check(copy, n), -EBADMSG);
	ck_assert_int_eq(rtcp_rewrite(copy, n, out, sizeof(out), &on, our_cname, RTCP_CNAME_LEN),
	                 -EBADMSG);
	ck_assert_uint_eq(on, 12345);
	free(copy);
}

START_TEST(rtcp_refuses_every_truncation_not_on_a_packet_boundary)
{
	struct b b;
	good(&b);
	/* the SDES packet starts at 52, the BYE at b.n - 8: cuts there leave a valid compound */
	for (size_t n = 0; n < b.n; n++) {
		if (n == 52 || n == b.n - 8)
			ck_assert_int_eq(rtcp_check(b.d, n), 0);
		else
			expect_bad(b.d, n);
	}
}
END_TEST

START_TEST(rtcp_refuses_overlong_lengths_bad_padding_and_garbage)
{
	struct b b;
	size_t sdes = 52; /* offset of the SDES packet in good() */

	good(&b); /* length field one word past the end */
	b.d[b.n - 8 + 3] = 2;
	expect_bad(b.d, b.n);
	good(&b); /* SR length claims the whole rest and more */
	b.d[2] = 0xff;
	b.d[3] = 0xff;
	expect_bad(b.d, b.n);
	good(&b); /* version 1 */
	b.d[0] = 0x41;
	expect_bad(b.d, b.n);
	good(&b); /* RTP payload type, not RTCP */
	b.d[sdes + 1] = 72;
	expect_bad(b.d, b.n);
	good(&b); /* padding on the first packet */
	b.d[0] |= 0x20;
	expect_bad(b.d, b.n);
	good(&b); /* SR announcing two report blocks with room for one */
	b.d[0] = 0x82;
	expect_bad(b.d, b.n);
	good(&b); /* SDES item length past the packet */
	b.d[sdes + 9] = 0xf0;
	expect_bad(b.d, b.n);
	good(&b); /* SDES with one chunk more than it carries */
	b.d[sdes] = 0x82;
	expect_bad(b.d, b.n);
	good(&b); /* SDES with no chunk but a body */
	b.d[sdes] = 0x80;
	expect_bad(b.d, b.n);

	struct b p = {0}; /* padding count 0, and padding longer than the packet */
	begin(&p, 0, RTCP_RR);
	b32(&p, 1);
	end_pad(&p, 4);
	p.d[p.n - 1] = 0;
	expect_bad(p.d, p.n);
	p.d[p.n - 1] = 9;
	expect_bad(p.d, p.n);

	struct b s = {0}; /* chunk without its null terminator */
	begin(&s, 1, RTCP_SDES);
	b32(&s, 1);
	item(&s, RTCP_SDES_CNAME, "ab"); /* 4 + 4 = 8: aligned, no room for a null */
	end(&s);
	expect_bad(s.d, s.n);
	s.n = 0; /* non-null octet where the padding should be */
	begin(&s, 1, RTCP_SDES);
	b32(&s, 1);
	item(&s, RTCP_SDES_CNAME, "ab");
	b8(&s, 0);
	b8(&s, 'x');
	b8(&s, 0);
	b8(&s, 0);
	end(&s);
	expect_bad(s.d, s.n);

	struct b y = {0}; /* BYE whose reason runs past the packet */
	begin(&y, 1, RTCP_BYE);
	b32(&y, 1);
	b8(&y, 40);
	bstr(&y, "abc");
	end(&y);
	expect_bad(y.d, y.n);
	y.n = 0; /* BYE counting more sources than it has */
	begin(&y, 3, RTCP_BYE);
	b32(&y, 1);
	end(&y);
	expect_bad(y.d, y.n);

	static const uint8_t junk[] = {0x80, 0xc8, 0x00};
	expect_bad(junk, sizeof(junk));
	expect_bad(junk, 0);
}
END_TEST

/* xorshift: deterministic, so a failure reproduces */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Does the rewritten compound out[0..n) hold nothing but our CNAME, and no APP? */
static int
only_ours_cb(const struct rtcp_sdes_item *it, void *arg)
{
	(void)arg;
	return it->type == RTCP_SDES_CNAME && it->len == RTCP_CNAME_LEN &&
	                       memcmp(it->data, our_cname, RTCP_CNAME_LEN) == 0
	               ? 0
	               : 1;
}

static bool
only_ours(const uint8_t *out, size_t n)
{
	struct rtcp_pkt p;
	size_t off = 0;
	int rc;
	if (rtcp_check(out, n) != 0)
		return false;
	while ((rc = rtcp_next(out, n, &off, &p)) == 1) {
		if (p.type == RTCP_APP)
			return false;
		if (p.type == RTCP_SDES && rtcp_sdes_walk(&p, only_ours_cb, NULL) != 0)
			return false;
	}
	return rc == 0;
}

/*
 * Plain checks inside the loop and one assertion per outcome at the end: every passing
 * ck_assert is a message to Check's parent process, too slow for 20,000 rounds.
 */
START_TEST(rtcp_random_mutations_never_read_out_of_bounds_nor_leak_items)
{
	uint32_t seed = 0x2545f491;
	unsigned accepted = 0, refused = 0, wrong = 0;
	for (int round = 0; round < 20000; round++) {
		struct b b;
		good(&b);
		size_t n = b.n;
		unsigned edits = 1 + next_rand(&seed) % 4;
		for (unsigned e = 0; e < edits && n > 0; e++) {
			uint32_t r = next_rand(&seed);
			switch (r % 4) {
			case 0: /* a random byte */
				b.d[(r >> 8) % n] = (uint8_t)next_rand(&seed);
				break;
			case 1: { /* the low length octet of a word, maybe a header */
				size_t at = (((r >> 8) % n) & ~(size_t)3) | 3;
				if (at < n)
					b.d[at] = (uint8_t)next_rand(&seed);
				break;
			}
			case 2: /* cut */
				n = (r >> 8) % (n + 1);
				break;
			default: /* all garbage */
				for (size_t i = 0; i < n; i++)
					b.d[i] = (uint8_t)next_rand(&seed);
				break;
			}
		}
		uint8_t *in = malloc(n ? n : 1); /* exact size: an overread shows under ASan */
		if (in == NULL)
			abort();
		memcpy(in, b.d, n);
		uint8_t out[BUFSZ];
		size_t on;
		int rc = rtcp_rewrite(in, n, out, sizeof(out), &on, our_cname, RTCP_CNAME_LEN);
		if (rc == 0 && only_ours(out, on))
			accepted++;
		else if (rc == -EBADMSG || rc == -ENOMSG)
			refused++;
		else
			wrong++;
		free(in);
	}
	ck_assert_uint_eq(wrong, 0);
	ck_assert_uint_eq(accepted + refused, 20000);
	ck_assert_uint_gt(accepted, 0); /* some mutations keep it valid (SR payload bytes) */
	ck_assert_uint_gt(refused, 0);
}
END_TEST

START_TEST(rtcp_cname_is_16_base64_characters_and_fresh)
{
	uint8_t a[RTCP_CNAME_LEN], c[RTCP_CNAME_LEN];
	static const char b64[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	ck_assert_int_eq(rtcp_cname_new(a), 0);
	ck_assert_int_eq(rtcp_cname_new(c), 0);
	ck_assert(memcmp(a, c, RTCP_CNAME_LEN) != 0);
	for (int i = 0; i < RTCP_CNAME_LEN; i++)
		ck_assert_ptr_nonnull(memchr(b64, a[i], sizeof(b64) - 1));
}
END_TEST

static Suite *
rtcp_suite(void)
{
	Suite *s = suite_create("rtcp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rtcp_reads_sr_and_sdes_as_rfc3550_lays_them_out);
	tcase_add_test(tc, rtcp_reads_report_blocks_of_sr_and_rr);
	tcase_add_test(tc, rtcp_rewrite_leaves_one_cname_of_ours_per_chunk);
	tcase_add_test(tc, rtcp_rewrite_rr_sdes_bye_drops_items_and_the_bye_reason);
	tcase_add_test(tc, rtcp_rewrite_handles_padding_app_and_empty_chunks);
	tcase_add_test(tc, rtcp_refuses_every_truncation_not_on_a_packet_boundary);
	tcase_add_test(tc, rtcp_refuses_overlong_lengths_bad_padding_and_garbage);
	tcase_add_test(tc, rtcp_random_mutations_never_read_out_of_bounds_nor_leak_items);
	tcase_add_test(tc, rtcp_cname_is_16_base64_characters_and_fresh);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rtcp_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
