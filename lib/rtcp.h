/*
 * rtcp.h: RTCP compound packets (RFC 3550 s6): a strict structural reader and the rewrite
 * sipwarden applies to every RTCP packet it relays from one leg to the other.
 *
 * SDES items name the sender's host and software (CNAME user@host, TOOL, NAME, EMAIL,
 * ...), so they must not cross legs: each SDES chunk leaves with one CNAME only, the
 * per-leg random CNAME of RFC 7022 that sipwarden made for the leg the packet goes out on.
 * A BYE loses its free-text reason and APP packets are dropped (application data of
 * unknown content); SR, RR, feedback and XR packets pass unchanged. Every length is
 * checked against the buffer before it is used: input is an authenticated peer's at
 * best and a fuzzer's at worst. Nothing here allocates or logs. Not responsible for
 * SRTCP (srtp_leg.h) nor for RTCP statistics (rtp_stats.h), which read the report
 * blocks through rtcp_report_block().
 */
#ifndef SW_RTCP_H
#define SW_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7022 s4.2: a 96-bit random number in base64 is 16 characters. */
#define RTCP_CNAME_LEN 16

enum rtcp_type {
	RTCP_SR = 200,
	RTCP_RR = 201,
	RTCP_SDES = 202,
	RTCP_BYE = 203,
	RTCP_APP = 204,
};

enum rtcp_sdes_type {
	RTCP_SDES_END = 0,
	RTCP_SDES_CNAME = 1,
	RTCP_SDES_NAME = 2,
	RTCP_SDES_EMAIL = 3,
	RTCP_SDES_PHONE = 4,
	RTCP_SDES_LOC = 5,
	RTCP_SDES_TOOL = 6,
	RTCP_SDES_NOTE = 7,
	RTCP_SDES_PRIV = 8,
};

/* One packet of a compound, as slices of the caller's buffer. */
struct rtcp_pkt {
	uint8_t type;        /* packet type, 192..223 */
	uint8_t count;       /* the 5-bit count field (reports, chunks, sources) */
	bool padding;        /* P bit (only ever on the last packet) */
	const uint8_t *data; /* the whole packet: header, body, padding */
	size_t len;          /* 4 * (length field + 1) */
	const uint8_t *body; /* after the 4-octet header */
	size_t body_len;     /* without the padding */
};

/*
 * Read the packet of the compound buf[0..len) that starts at *off into *p and advance
 * *off past it. Returns 1, 0 when *off == len (no more packets), or -EBADMSG: not
 * version 2, a type outside 192..223, a length beyond the buffer, padding on a packet
 * that is not the last or a padding count of 0 or past the body.
 */
int rtcp_next(const uint8_t *buf, size_t len, size_t *off, struct rtcp_pkt *p);

/* One SDES item; data[0..len) is not NUL-terminated. */
struct rtcp_sdes_item {
	uint32_t ssrc; /* of the chunk the item belongs to */
	uint8_t type;
	uint8_t len;
	const uint8_t *data;
};

typedef int (*rtcp_sdes_cb)(const struct rtcp_sdes_item *it, void *arg);

/*
 * Walk the SDES packet p (from rtcp_next(), type RTCP_SDES): call cb for every item of
 * every chunk in order. Returns 0, -EBADMSG when a chunk is truncated, lacks its null
 * terminator and padding, or the chunks do not fill the body exactly; or the first
 * non-zero value cb returned. cb may be NULL (check only).
 */
int rtcp_sdes_walk(const struct rtcp_pkt *p, rtcp_sdes_cb cb, void *arg);

/*
 * One report block of an SR or RR (RFC 3550 s6.4.1): what the reporter receives from
 * source `ssrc`.
 */
struct rtcp_report {
	uint32_t reporter; /* SSRC of the packet's sender */
	uint32_t ssrc;     /* the source reported on */
	uint8_t fraction;  /* fraction lost since the previous report, in 1/256 */
	int32_t lost;      /* cumulative packets lost (signed 24 bits, sign-extended) */
	uint32_t ext_max;  /* extended highest sequence number received */
	uint32_t jitter;   /* interarrival jitter, timestamp units */
	uint32_t lsr;      /* middle 32 bits of the NTP time of the last SR received, 0: none */
	uint32_t dlsr;     /* delay since that SR, in 1/65536 s */
};

/*
 * Report block i (0 <= i < p->count) of the SR or RR p (from rtcp_next()) into *out.
 * Returns 0, -EINVAL (p is not an SR or RR, or i is out of range) or -EBADMSG (the body
 * is too short for its count; rtcp_check() refuses such a compound already).
 */
int rtcp_report_block(const struct rtcp_pkt *p, unsigned i, struct rtcp_report *out);

/* The middle 32 bits of the NTP timestamp of the SR p (what an RR's LSR names): 0, -EINVAL. */
int rtcp_sr_ntp_mid(const struct rtcp_pkt *p, uint32_t *mid);

/* Check the whole compound buf[0..len), SDES chunks and BYE reasons included: 0 or -EBADMSG. */
int rtcp_check(const uint8_t *buf, size_t len);

/*
 * Write the compound in[0..in_len) as it may leave on a leg whose CNAME is
 * cname[0..cname_len) into out[0..cap) (out must not overlap in): every SDES chunk keeps
 * its SSRC and gets that CNAME as its only item, BYE keeps its sources and loses its
 * reason, APP packets are left out, other packets are copied as they are. Returns 0 with
 * *out_len set, -EBADMSG (in is not a valid compound, see rtcp_check()), -ENOSPC (the
 * result does not fit in cap), -ENOMSG (nothing left: only APP packets), -EINVAL
 * (cname_len is 0 or over 255).
 */
int rtcp_rewrite(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len,
                 const uint8_t *cname, size_t cname_len);

/*
 * A fresh CNAME as RFC 7022 s4.2 makes one: 96 random bits (OpenSSL RAND_bytes) in
 * base64, RTCP_CNAME_LEN characters written to out (no NUL). Returns 0 or -EIO.
 */
int rtcp_cname_new(uint8_t out[RTCP_CNAME_LEN]);

#endif
