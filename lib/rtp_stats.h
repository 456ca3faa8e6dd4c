/*
 * rtp_stats.h: counters for one direction of one media leg.
 *
 * Packets and bytes, loss from RTP sequence numbers (RFC 3550 A.1: extended sequence
 * numbers with wrap, probation of a new source, restart after a large jump; A.3: expected
 * and lost), interarrival jitter (RFC 3550 A.8, in timestamp units of the payload clock,
 * 8000 Hz unless set), drops by reason, first/last packet time and the latched address.
 * The struct is plain data: the owner (a media worker) updates it without locks and a
 * snapshot is a struct copy. Not responsible for deciding whether a packet is acceptable
 * (media_worker.c) nor for RTCP report blocks.
 */
#ifndef SW_RTP_STATS_H
#define SW_RTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RTP_STATS_DEFAULT_CLOCK 8000

enum rtp_drop {
	RTP_DROP_AUTH = 0,       /* failed SRTP authentication from the expected source */
	RTP_DROP_REPLAY,         /* replayed (libsrtp replay database) */
	RTP_DROP_PLAINTEXT,      /* failed authentication, SSRC never authenticated on this leg */
	RTP_DROP_UNKNOWN_SOURCE, /* not from the signalled/latched source (and not authenticated) */
	RTP_DROP_MALFORMED,      /* not RTP/RTCP version 2, or too short */
	RTP_DROP_OTHER,          /* anything else (libsrtp errors, no destination, send errors) */
	RTP_DROP_SSRC_LIMIT,     /* an SSRC the leg's SRTP session may not admit (srtp_leg.h) */
	RTP_DROP_COUNT
};

/* Short stable name of a drop reason ("auth", "replay", ...); "?" if out of range. */
const char *rtp_drop_name(enum rtp_drop r);

/*
 * struct rtp_stats: one direction's counters and sequence/jitter state.
 * Owner: whoever embeds it; no pointers inside, so a snapshot is a plain copy.
 */
struct rtp_stats {
	uint64_t packets, bytes;           /* RTP accepted (rx) or sent (tx), wire octets */
	uint64_t rtcp_packets, rtcp_bytes; /* RTCP likewise */
	uint64_t drops[RTP_DROP_COUNT];
	uint64_t first_ns, last_ns; /* CLOCK_REALTIME of first/last RTP or RTCP packet, 0: none */

	/* RFC 3550 A.1 source state for the current SSRC */
	bool have_ssrc;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles; /* shifted count of sequence number wraps */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint32_t received;       /* packets counted for loss since the source became valid */
	uint64_t expected_prior; /* expected/received of earlier SSRCs and restarts */
	uint64_t received_prior;

	/* RFC 3550 A.8 */
	uint32_t clock_rate;
	bool have_transit;
	uint32_t transit;
	double jitter; /* timestamp units */

	bool latched; /* rx: the leg latched to latched_addr */
	struct sockaddr_storage latched_addr;
};

/* Zero `s` and set the payload clock rate (0 means RTP_STATS_DEFAULT_CLOCK). */
void rtp_stats_init(struct rtp_stats *s, uint32_t clock_rate);

/* Change the clock rate used for jitter; resets the jitter estimate. 0: default. */
void rtp_stats_set_clock_rate(struct rtp_stats *s, uint32_t clock_rate);

/*
 * Count an accepted RTP packet of `wire_len` octets whose (plaintext) header is
 * hdr[0..hdr_len). `mono_ns` is its arrival time on CLOCK_MONOTONIC (for jitter),
 * `wall_ns` on CLOCK_REALTIME (first/last). Returns 0, or -EINVAL if the header is not
 * RTP v2 (then only packets/bytes are counted).
 */
int rtp_stats_rtp(struct rtp_stats *s, const uint8_t *hdr, size_t hdr_len, size_t wire_len,
                  uint64_t mono_ns, uint64_t wall_ns);

/* Count an RTP packet sent (no sequence analysis). */
void rtp_stats_sent(struct rtp_stats *s, size_t wire_len, uint64_t wall_ns);

/* Count an RTCP packet accepted or sent. */
void rtp_stats_rtcp(struct rtp_stats *s, size_t wire_len, uint64_t wall_ns);

/* Count a dropped packet. */
void rtp_stats_drop(struct rtp_stats *s, enum rtp_drop reason);

/* RFC 3550 A.3: packets expected, and lost (expected - received; negative with duplicates). */
uint64_t rtp_stats_expected(const struct rtp_stats *s);
int64_t rtp_stats_lost(const struct rtp_stats *s);

/* Highest extended sequence number seen for the current source (cycles + max_seq). */
uint32_t rtp_stats_ext_max(const struct rtp_stats *s);

/* Interarrival jitter in milliseconds (jitter / clock_rate). */
double rtp_stats_jitter_ms(const struct rtp_stats *s);

/* Sum of all drop counters. */
uint64_t rtp_stats_drops_total(const struct rtp_stats *s);

#endif
