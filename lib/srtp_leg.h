/*
 * srtp_leg.h: one direction of one media leg's SRTP, as a libsrtp session of its own.
 *
 * A struct srtp_leg is built from one struct srtp_keys (suite.h) and is either inbound
 * (it unprotects what a peer sent with those keys) or outbound (it protects what we send
 * with them). One libsrtp session per direction per leg: keys of different legs never
 * share a session. libsrtp status codes are translated here, once: authentication
 * failure is -EBADMSG, replay is -EALREADY, anything else -EPROTO. Keys are wiped when
 * the leg is freed. Not responsible for where packets come from or go to (media.h), nor
 * for parsing a=crypto (sdes.h).
 */
#ifndef SW_SRTP_LEG_H
#define SW_SRTP_LEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suite.h"

/*
 * SSRC bounds of one session (one direction of one leg). libsrtp keeps a stream per SSRC
 * and walks them for every packet; a peer (or, toward a legacy RTP leg's far side, anyone
 * who can spoof its address) choosing SSRCs would otherwise grow both without end.
 *
 * At most SRTP_LEG_MAX_STREAMS streams live at once: a new SSRC evicts the least recently
 * used one. 4 covers the current SSRC, an RTCP-only SSRC and the overlap of an SSRC change
 * (the old stream's last packets and its RTCP BYE arriving after the new one started).
 * An evicted SSRC is never admitted again in that session: a fresh libsrtp stream would
 * forget its replay window (inbound: recorded packets would pass again) and restart its
 * packet index (outbound: a keystream used before would be used again). So the session
 * also remembers every SSRC it admitted, up to SRTP_LEG_MAX_SSRCS, and refuses new ones
 * after that: 16 is fifteen SSRC changes under one key, far more than transfers and
 * re-INVITEs produce in a call (a re-INVITE with new keys starts a new session).
 */
#define SRTP_LEG_MAX_STREAMS 4
#define SRTP_LEG_MAX_SSRCS   16

/* Room a caller must leave after an RTP/RTCP packet for srtp_leg_protect*(). */
#define SRTP_LEG_TRAILER_MAX (16 + SUITE_MAX_MKI_LEN + 4)

enum srtp_leg_dir {
	SRTP_LEG_INBOUND,  /* unprotect packets the peer sent with these keys */
	SRTP_LEG_OUTBOUND, /* protect packets we send with these keys */
};

struct srtp_leg;

/*
 * Create a session for `keys` (copied; the caller keeps and wipes its own copy) in
 * direction `dir`. Returns 0 and sets *out, or -EINVAL (no/unknown suite, bad lengths),
 * -ENOTSUP (suite libsrtp cannot run), -ENOMEM, -EIO (OpenSSL could not hash the keys),
 * -EPROTO (libsrtp refused). The replay window is libsrtp's (128 packets). Owner: the
 * caller, freed with srtp_leg_free().
 */
int srtp_leg_new(struct srtp_leg **out, const struct srtp_keys *keys, enum srtp_leg_dir dir);

/* Destroy the session and wipe the keys it holds. NULL is fine. */
void srtp_leg_free(struct srtp_leg *leg);

/*
 * Protect the RTP packet pkt[0..*len) in place. `cap` is the size of the buffer, which
 * must leave SRTP_LEG_TRAILER_MAX octets after the packet. On success *len is the SRTP
 * length. Returns 0, -ENOSPC, -EINVAL (not an outbound leg, runt), -EALREADY (sequence
 * already protected), -EDQUOT (an SSRC this session may not admit: evicted before, or
 * SRTP_LEG_MAX_SSRCS already admitted), -EPROTO.
 */
int srtp_leg_protect(struct srtp_leg *leg, uint8_t *pkt, size_t *len, size_t cap);

/*
 * Authenticate, replay-check and decrypt the SRTP packet pkt[0..*len) in place; on success
 * *len is the RTP length. Returns 0, -EBADMSG (authentication failed), -EALREADY (replay),
 * -EDQUOT (SSRC not admissible, as for srtp_leg_protect(); refused before any crypto),
 * -EINVAL (not an inbound leg, runt) or -EPROTO. On failure the packet must be dropped.
 * Only a packet that passed authentication makes a new SSRC's stream (or evicts one).
 */
int srtp_leg_unprotect(struct srtp_leg *leg, uint8_t *pkt, size_t *len);

/* The same for RTCP/SRTCP. */
int srtp_leg_protect_rtcp(struct srtp_leg *leg, uint8_t *pkt, size_t *len, size_t cap);
int srtp_leg_unprotect_rtcp(struct srtp_leg *leg, uint8_t *pkt, size_t *len);

/* Does `leg` run with exactly `keys` (suite, key, salt, MKI)? Constant-time on key bytes. */
bool srtp_leg_has_keys(const struct srtp_leg *leg, const struct srtp_keys *keys);

/* Do `a` and `b` run with the same keys (and direction)? Constant-time on key bytes. */
bool srtp_leg_same_keys(const struct srtp_leg *a, const struct srtp_leg *b);

/* Does libsrtp hold a stream for `ssrc` (host order) in this session? (Tests count with it.) */
bool srtp_leg_has_stream(const struct srtp_leg *leg, uint32_t ssrc);

/* Length of the SRTP authentication tag this leg adds to / expects on RTP packets. */
size_t srtp_leg_rtp_tag_len(const struct srtp_leg *leg);

#endif
