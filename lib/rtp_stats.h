/*
 * rtp_stats.h: counters for one direction of one media leg.
 *
 * Packets and bytes, loss from RTP sequence numbers (RFC 3550 A.1: extended sequence
 * numbers with wrap, probation of a new source, restart after a large jump; A.3: expected
 * and lost), interarrival jitter (RFC 3550 A.8, in timestamp units of the payload clock,
 * 8000 Hz unless set), drops by reason, first/last packet time and whether the leg latched.
 * The struct is plain data: the owner (a media worker) updates it without locks and a
 * snapshot is a struct copy. For a sending direction it also keeps what the peer reports
 * about it (RFC 3550 s6.4.1 report blocks: loss, jitter) and the round-trip time to the
 * peer, measured from the SRs relayed to it (see rtp_stats_report()). Not responsible
 * for deciding whether a packet is acceptable (media_worker.c) nor for parsing RTCP
 * (rtcp.c).
 */
#ifndef SW_RTP_STATS_H
#define SW_RTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dtmf_count.h"
#include "rtcp.h"

#define RTP_STATS_DEFAULT_CLOCK 8000
#define RTP_STATS_SR_RING       4 /* SRs relayed per direction remembered for RTT */

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

	bool latched; /* rx: the leg latched to the source of an authenticated packet */

	/* tx: the SSRC of the last RTP packet sent, which the peer's reports are about */
	bool have_tx_ssrc;
	uint32_t tx_ssrc;
	/* tx: SRs relayed to the peer: middle 32 NTP bits and CLOCK_MONOTONIC time sent */
	struct {
		uint32_t ntp_mid;
		uint64_t mono_ns;
	} sr_sent[RTP_STATS_SR_RING];
	unsigned sr_next;
	/* tx: the peer's latest report block about tx_ssrc */
	uint64_t reports; /* report blocks taken */
	int32_t report_lost;
	uint32_t report_jitter; /* timestamp units */
	uint64_t rtt_ns;        /* latest round-trip time; 0: none measured */

	/* RFC 4733 telephone-events in this direction, counted by the media worker on the
	 * negotiated payload type (dtmf_count.h); never their digits */
	struct dtmf_count dtmf;
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

/* Count an RTP packet sent with SSRC `ssrc` (no sequence analysis). */
void rtp_stats_sent(struct rtp_stats *s, uint32_t ssrc, size_t wire_len, uint64_t wall_ns);

/*
 * Remember that an SR whose NTP timestamp has middle 32 bits `ntp_mid` was sent to the
 * peer at `mono_ns` (CLOCK_MONOTONIC). sipwarden relays SRs, it does not make them: the
 * NTP time is the other leg's peer's, and the peer's LSR names it.
 */
void rtp_stats_sr_sent(struct rtp_stats *s, uint32_t ntp_mid, uint64_t mono_ns);

/*
 * Take the peer's report block `rb`, received at `mono_ns`, for this sending direction.
 * Only a block about the SSRC last sent counts; it sets the cumulative loss and jitter,
 * and when its LSR names an SR remembered by rtp_stats_sr_sent(), the round-trip time
 * between sipwarden and the peer: arrival - time that SR was sent - DLSR (RFC 3550
 * s6.4.1, with sipwarden's own clock on both ends). Returns 0, -ENOENT (a block about
 * another source: ignored).
 */
int rtp_stats_report(struct rtp_stats *s, const struct rtcp_report *rb, uint64_t mono_ns);

/*
 * RTCP from the peer, a compound already checked (rtcp_check()) and decrypted, in
 * pkt[0..len): take its report blocks (SR and RR) for this sending direction with
 * rtp_stats_report(). Returns whether it holds an SR, with the middle 32 bits of that
 * SR's NTP time in *sr_mid (the caller relays it to the other leg: rtp_stats_sr_sent()).
 */
bool rtp_stats_take_rtcp(struct rtp_stats *s, const uint8_t *pkt, size_t len, uint64_t mono_ns,
                         uint32_t *sr_mid);

/* Loss, jitter (ms) and RTT (ms) the peer reported; false when it reported nothing. */
bool rtp_stats_reported(const struct rtp_stats *s, int64_t *lost, double *jitter_ms,
                        double *rtt_ms);

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
