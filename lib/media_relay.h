/*
 * media_relay.h: what a media worker does with one packet and with one leg's state,
 * whatever waits for the packets (media_worker.c's epoll loop or media_uring.c).
 *
 * media_relay_packet() decides on one received packet (source, authentication, latching),
 * rewrites RTCP for the other leg, re-protects in place and says where to send it; it
 * counts every drop and posts first-packet/latched/active events. It never does I/O,
 * never allocates, never logs and takes no lock. Not responsible for reading or sending
 * (the worker's loop), nor for the call table or commands (media_worker.c).
 */
#ifndef SW_MEDIA_RELAY_H
#define SW_MEDIA_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "media_worker.h"

#define MEDIA_PKT_BUF 2048 /* MTU-sized packet plus SRTP trailer room */
#define MEDIA_PKT_MAX 1500 /* larger datagrams are dropped as malformed */

struct media_evring;

/*
 * struct media_relay: a worker's packet-path context. Owner: its worker (embedded);
 * only the worker thread touches it.
 */
struct media_relay {
	struct media_evring *evr; /* events to the control side (not owned) */
	unsigned idle_notice_s;
	uint8_t rtcp_out[MEDIA_PKT_BUF]; /* rtcp_rewrite() writes here, then back over the packet */
};

/* Where a relayed packet goes: the other leg's socket and its peer's address now. */
struct media_relay_out {
	int fd;
	const union media_addr *dst; /* valid until the next packet of that leg */
	socklen_t dst_len;
	struct media_leg *leg; /* the leg it leaves on (its tx counters) */
};

/*
 * One packet pkt[0..*len) received on `s` from `src`; the buffer holds `cap` octets from
 * pkt, at least MEDIA_PKT_MAX + SRTP_LEG_TRAILER_MAX. Returns true with *len and *out set
 * when the packet (now protected for the other leg, in place) is to be sent; false when
 * it was dropped (and counted).
 */
bool media_relay_packet(struct media_relay *r, struct media_sock *s, uint8_t *pkt, size_t *len,
                        size_t cap, const struct sockaddr_storage *src, uint64_t mono,
                        uint64_t wall, struct media_relay_out *out);

/* Post a leg event (first packet, latched, idle, active) to the control side. */
void media_relay_event(struct media_relay *r, struct media_leg *l, enum media_event_type type,
                       const struct sockaddr_storage *addr);

/* Apply a CMD_UPDATE to leg `l`: peers, keys (unchanged keys keep their session), stats. */
void media_relay_leg_update(struct media_leg *l, struct media_cmd *cmd);

/* clock_gettime(clk) in nanoseconds. */
uint64_t media_relay_now_ns(clockid_t clk);

#endif
