/*
 * dtmf_count.h: counts RFC 4733 telephone-events (DTMF) in one direction of one media leg,
 * without their digits.
 *
 * An event is sent as several RTP packets with the same RTP timestamp (RFC 4733 s2.5.1.1):
 * updates while the key is held, then the end packet (E bit) usually sent three times. A
 * new event has a new timestamp. So one event is one (SSRC, timestamp) pair of the
 * negotiated telephone-event payload type; its packets and end retransmissions count once.
 * Only the RTP header is read (payload type, timestamp, SSRC): the payload, which names
 * the key pressed (card numbers are typed as DTMF), is never looked at, so it works on an
 * SRTP packet as well as on a decrypted one. Not responsible for choosing the payload type
 * (the SDP of the leg, daemon/b2bua_media.c) nor for forwarding (media_worker.c).
 * Limits: an event longer than the 16-bit duration field (about 8 s at 8000 Hz) is sent as
 * segments with new timestamps (RFC 4733 s2.5.1.3) and counts once per segment.
 */
#ifndef SW_DTMF_COUNT_H
#define SW_DTMF_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * struct dtmf_count: plain data, embedded in struct rtp_stats (a snapshot is a copy).
 * Owner: whoever embeds it. Holds no event code.
 */
struct dtmf_count {
	bool has_pt;     /* a telephone-event payload type was negotiated */
	uint8_t pt;      /* that payload type */
	bool have_event; /* ssrc/ts name the last event seen */
	uint32_t ssrc, ts;
	uint64_t events; /* distinct events seen */
};

/* Set the negotiated telephone-event payload type (`has_pt` false: none, count nothing).
 * Keeps the count; a change of payload type forgets the last event. */
void dtmf_count_set_pt(struct dtmf_count *d, bool has_pt, uint8_t pt);

/*
 * Look at the RTP packet pkt[0..len) (header in clear). Returns true when it starts a new
 * telephone-event (then counted), false otherwise: another payload type, a packet of the
 * event already counted, an older event's late packet, or not RTP v2.
 */
bool dtmf_count_rtp(struct dtmf_count *d, const uint8_t *pkt, size_t len);

#endif
