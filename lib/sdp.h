/*
 * sdp.h: the SDP side of the B2BUA: read a peer's SDP, decide whether its media
 * protection is acceptable, and write the SDP sipwarden sends on the other leg.
 *
 * sdp_parse() turns a body into a struct sdp_desc using libosip2's SDP parser plus our
 * own checks of every field we use (addresses are IP literals, ports and payload types
 * are in range, copied attribute values are printable). sdp_check_offer() and
 * sdp_check_answer() apply sipwarden's policy (SRTP with SDES over TLS, suites in our
 * preference order, legacy RTP only where configured) and either choose the audio
 * stream and crypto line or refuse with a machine reason and a human text.
 * sdp_build_offer() / sdp_build_answer() write a new SDP from scratch with a new origin,
 * our address and port, and fresh keys that are handed back to the caller: nothing
 * crosses from the other leg except payload formats with their rtpmap/fmtp, ptime,
 * maxptime, the direction and rtcp-mux. Never copies key material between legs, never
 * touches the network, a socket or the SIP layer (sipframe.h, the daemon).
 */
#ifndef SW_SDP_H
#define SW_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdes.h"
#include "suite.h"

#define SDP_MAX_BODY    65536 /* larger bodies are refused as malformed */
#define SDP_MAX_MEDIA   16    /* m= lines */
#define SDP_MAX_FORMATS 32    /* payload formats on one m= line */
#define SDP_MAX_CRYPTO  8     /* a=crypto lines on one m= line */
#define SDP_ADDR_MAX    46    /* INET6_ADDRSTRLEN */
#define SDP_TOKEN_MAX   32    /* media type, proto, first format, origin fields */
#define SDP_WHY_MAX     200

/* Transport protocol of an m= line (RFC 4566, 3711, 4585, 5124, 5764). */
enum sdp_proto {
	SDP_PROTO_OTHER = 0, /* anything else: TCP/MSRP, UDP/BFCP, udp, ... */
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_DTLS_SAVP,  /* UDP/TLS/RTP/SAVP: DTLS-SRTP, not supported */
	SDP_PROTO_DTLS_SAVPF, /* UDP/TLS/RTP/SAVPF */
};

/* Media direction; the bits say "sends" and "receives" from the describing side's view. */
enum sdp_dir {
	SDP_DIR_INACTIVE = 0,
	SDP_DIR_SENDONLY = 1,
	SDP_DIR_RECVONLY = 2,
	SDP_DIR_SENDRECV = 3,
};

/* An IP literal from c= (never a host name). */
struct sdp_addr {
	int family;              /* AF_INET or AF_INET6; 0: none */
	uint8_t bytes[16];       /* network order, 4 used for AF_INET */
	char text[SDP_ADDR_MAX]; /* canonical text form (inet_ntop) */
};

/* One payload format of an RTP m= line with the attributes that describe it. */
struct sdp_format {
	uint8_t pt;   /* 0..127 */
	char *rtpmap; /* value after "a=rtpmap:PT " or NULL; owned by the desc */
	char *fmtp;   /* value after "a=fmtp:PT " or NULL; owned by the desc */
};

/*
 * struct sdp_stream: one m= line as parsed.
 * Owner: its struct sdp_desc. The crypto[] entries hold the peer's keys: wiped by
 * sdp_desc_free(). Problems with a=crypto lines do not fail sdp_parse(): they are
 * recorded here and judged by the policy (only the chosen m= line matters).
 */
struct sdp_stream {
	char type[SDP_TOKEN_MAX];       /* "audio", "video", ... */
	char proto_text[SDP_TOKEN_MAX]; /* as received (validated token) */
	char fmt0[SDP_TOKEN_MAX];       /* first format token as received (for rejecting) */
	enum sdp_proto proto;
	uint16_t port;              /* 0: stream disabled */
	struct sdp_addr conn;       /* media-level c=, else session-level c= */
	struct sdp_format *formats; /* RTP protos only; m= order; as many allocated as the m=
	                               line lists (a call keeps its peers' SDP for its life) */
	unsigned nformats;
	unsigned ptime, maxptime; /* ms; 0: not given */
	enum sdp_dir dir;         /* as signalled (media, else session attribute) */
	bool rtcp_mux;
	struct sdes_crypto *crypto; /* lines sdes_parse() accepted (crypto_cap allocated, one
	                               per a=crypto line up to SDP_MAX_CRYPTO) */
	unsigned ncrypto, crypto_cap;
	unsigned ncrypto_bad;       /* lines sdes_parse() refused */
	const char *crypto_bad_why; /* static reason for the first refused line */
	bool crypto_dup_tag;        /* two a=crypto lines with one tag */
	bool crypto_too_many;       /* more than SDP_MAX_CRYPTO lines */
};

/*
 * struct sdp_desc: one parsed SDP body.
 * Owner: created by sdp_parse(), freed (and its keys wiped) only by sdp_desc_free().
 */
struct sdp_desc {
	char origin_user[SDP_TOKEN_MAX]; /* o= fields, validated tokens */
	char origin_id[SDP_TOKEN_MAX];
	char origin_version[SDP_TOKEN_MAX];
	struct sdp_addr session_conn; /* session-level c= (family 0 when absent) */
	bool session_crypto;          /* an a=crypto at session level (invalid) */
	struct sdp_stream *media;     /* nmedia entries, in m= order */
	size_t nmedia;
	/* sdp_desc_keep_key(): the peer's key the check chose, every a=crypto line freed */
	bool key_kept;
	struct srtp_keys kept;
};

/*
 * Parse `body[0..len)` (need not be NUL-terminated; LF-only line ends are tolerated).
 * Returns 0 and a new description in `*out`, or -EINVAL with `*why` set to a static
 * text fit for a SIP Warning (`*out` untouched), or -ENOMEM. Every copy of the body made
 * here is wiped before it is freed, since a=crypto lines carry keys.
 */
int sdp_parse(struct sdp_desc **out, const char *body, size_t len, const char **why);

/* Wipe all key material in `d` and free it. NULL is fine. */
void sdp_desc_free(struct sdp_desc *d);

/* The direction that counts: the signalled one, with an RFC 2543 hold (c= 0.0.0.0 or ::)
 * taking "receive" away (sendrecv -> sendonly, recvonly -> inactive). */
enum sdp_dir sdp_stream_dir(const struct sdp_stream *m);

/* Is the stream put on hold: sendonly, inactive, or c= 0.0.0.0 (RFC 2543, RFC 3264 s8.4)? */
bool sdp_stream_is_hold(const struct sdp_stream *m);

/* "sendrecv", "sendonly", "recvonly", "inactive". */
const char *sdp_dir_name(enum sdp_dir d);

/* Why an SDP was refused; the names (sdp_reason_name) are stable, for telemetry. */
enum sdp_reason {
	SDP_OK = 0,
	SDP_R_MALFORMED_SDP,          /* malformed_sdp */
	SDP_R_NO_AUDIO,               /* no_audio: no usable audio m= line */
	SDP_R_NO_SRTP,                /* no_srtp: RTP/AVP from a peer that is not legacy */
	SDP_R_DTLS_UNSUPPORTED,       /* dtls_unsupported: UDP/TLS/RTP/SAVP(F) */
	SDP_R_UNSUPPORTED_PROTO,      /* unsupported_proto: not RTP at all */
	SDP_R_SDES_OVER_INSECURE_HOP, /* sdes_over_insecure_hop: keys arrived without TLS */
	SDP_R_NO_CRYPTO,              /* no_crypto: RTP/SAVP without a=crypto */
	SDP_R_MALFORMED_CRYPTO,       /* malformed_crypto */
	SDP_R_DUPLICATE_CRYPTO_TAG,   /* duplicate_crypto_tag */
	SDP_R_NO_ACCEPTABLE_SUITE,    /* no_acceptable_suite: none of our configured suites */
	SDP_R_WEAK_SUITE,             /* weak_suite: refused by sdes_check_policy() */
	SDP_R_MULTIPLE_KEYS,          /* multiple_keys: more than one master key (MKI) */
	SDP_R_MULTIPLE_CRYPTO,        /* multiple_crypto: an answer with more than one a=crypto */
	SDP_R_CRYPTO_TAG_NOT_OFFERED, /* crypto_tag_not_offered */
	SDP_R_CRYPTO_SUITE_MISMATCH,  /* crypto_suite_mismatch: tag offered with another suite */
	SDP_R_PROTO_MISMATCH,         /* proto_mismatch: answer's proto differs from the offer's */
	SDP_R_DOWNGRADE,              /* downgrade: re-offer weaker than the running call */
	SDP_R_COUNT
};

/* Stable snake_case name of a reason ("no_srtp"); "ok" for SDP_OK. */
const char *sdp_reason_name(enum sdp_reason r);

/* What the policy needs to know about the hop the SDP came from. */
struct sdp_policy {
	const enum srtp_suite *suites; /* our preference, best first (conf.media.suites) */
	size_t nsuites;
	bool hop_tls;    /* the SDP arrived over TLS */
	bool legacy_rtp; /* the peer is configured as a legacy RTP peer */
};

/*
 * struct sdp_verdict: the outcome of a check. On refusal, `reason` and `text` (a
 * sentence without quotes, backslashes or key material, fit for
 * `Warning: 399 host "text"` and telemetry) say why; on success they are SDP_OK / "".
 */
struct sdp_verdict {
	enum sdp_reason reason;
	char text[SDP_WHY_MAX];
	int media;  /* index of the chosen m= line, -1 if none */
	bool srtp;  /* false: plain RTP (legacy peer only) */
	int crypto; /* index into media[media].crypto, -1 for plain RTP */
	enum srtp_suite suite;
	uint32_t tag;
};

/*
 * struct sdp_choice: what a call keeps of a verdict that accepted an SDP (its choice,
 * without the 200-byte refusal text). sdp_choice_of() takes it from a verdict;
 * sdp_choice_verdict() makes it a verdict again (SDP_OK, text "") for the builders and
 * sdp_check_downgrade().
 */
struct sdp_choice {
	int media; /* as in struct sdp_verdict */
	bool srtp;
	int crypto;
	enum srtp_suite suite;
	uint32_t tag;
};

struct sdp_choice sdp_choice_of(const struct sdp_verdict *v);
struct sdp_verdict sdp_choice_verdict(const struct sdp_choice *c);

/*
 * Check an offer. Chooses the first audio m= line with a non-zero port; with RTP/SAVP(F)
 * chooses, among the a=crypto lines that parse and pass sdes_check_policy(), the one whose
 * suite comes first in *our* preference (ties: the offer's order). RTP/AVP(F) without
 * crypto is accepted only when `pol->legacy_rtp`. Returns 0 (v->reason SDP_OK) or -EPERM
 * with v->reason/v->text set; -EINVAL for bad arguments.
 */
int sdp_check_offer(const struct sdp_desc *offer, const struct sdp_policy *pol,
                    struct sdp_verdict *v);

/*
 * Check an answer to an offer sipwarden built. `offered[0..noffered)` are the keys of that
 * offer (their tag and suite; noffered 0 means we offered plain RTP/AVP). The answer's first
 * m= line must be audio with a non-zero port and, for an SRTP offer, RTP/SAVP(F) with
 * exactly one a=crypto line whose tag we offered with the same suite and that passes
 * sdes_check_policy(). Returns 0 or -EPERM with v->reason/v->text set; -EINVAL.
 */
int sdp_check_answer(const struct sdp_desc *answer, const struct sdp_policy *pol,
                     const struct srtp_keys *offered, size_t noffered, struct sdp_verdict *v);

/*
 * Re-INVITE: is the accepted new offer (`neu`) weaker than the one the call runs on
 * (`old`)? Weaker means SRTP -> plain RTP, a suite later in `pol` preference, or a
 * shorter SRTP auth tag. Returns 0 when not weaker, else -EPERM with `why` filled
 * (SDP_R_DOWNGRADE and a text; `why` may be `neu`).
 */
int sdp_check_downgrade(const struct sdp_verdict *old, const struct sdp_verdict *neu,
                        const struct sdp_policy *pol, struct sdp_verdict *why);

/*
 * struct sdp_origin: the o= line sipwarden uses on one leg.
 * Owner: the call leg. sdp_origin_init() picks a fresh random session id; the caller
 * increments `version` before each new offer or changed answer on that leg.
 */
struct sdp_origin {
	uint64_t id;
	uint64_t version;
};

/* Fresh id from RAND_bytes (1..2^62), version 1. Returns 0 or -EIO. */
int sdp_origin_init(struct sdp_origin *o);

/* Our side of a leg: what goes into o=, c= and m=. */
struct sdp_local {
	const struct sdp_origin *origin;
	const char *addr; /* IPv4/IPv6 literal for o= and c= */
	uint16_t port;    /* our RTP port on this leg (non-zero) */
	bool crypto_pad;  /* '=' padding in the base64 keys we send (per peer) */
};

/*
 * Build an offer for the other leg from `from` (the offer received on this call) and its
 * verdict: one m=audio line with our port, RTP/SAVP (RTP/SAVPF when `from` used AVPF), the
 * same formats with their rtpmap/fmtp, ptime, maxptime, the same direction, a=rtcp-mux
 * when `from` had it, and one a=crypto line per usable suite of `suites` (preference
 * order, tags 1..n, fresh keys). `nsuites` 0 builds a plain RTP/AVP(F) offer for a legacy
 * leg. The keys are written to `keys[0..*nkeys)` (caller owns and wipes them).
 * Returns 0 and a NUL-terminated CRLF text in `*out` (free with sdp_text_free()),
 * -ENOSPC when `nkeys_max` is too small, -EINVAL, -ENOMEM, -EIO.
 */
int sdp_build_offer(char **out, const struct sdp_local *l, const struct sdp_desc *from,
                    const struct sdp_verdict *fromv, const enum srtp_suite *suites, size_t nsuites,
                    struct srtp_keys *keys, size_t nkeys_max, size_t *nkeys);

/*
 * Build the answer to `offer` (checked with sdp_check_offer() into `v`). One m= line per
 * offered m= line: the chosen one with our port, RTP/SAVP(F) (RTP/AVP(F) when v->srtp is
 * false) and, for SRTP, one a=crypto with v->tag, v->suite and a fresh key written to
 * `*key`; every other one with port 0. Formats, rtpmap/fmtp, ptime come from
 * `media_answer` (the answer received on the other leg, its first m= line; formats
 * not in the offer are dropped) or, when it is NULL, from the offer. The direction is the
 * offer's mirrored, limited by `media_answer`'s; rtcp-mux when the offer had it (each
 * leg negotiates its own: the relay runs a leg muxed when that leg's offer was).
 * Returns 0 and `*out` as for sdp_build_offer(), -ENOMSG when no format is left,
 * -EINVAL, -ENOMEM, -EIO.
 */
int sdp_build_answer(char **out, const struct sdp_local *l, const struct sdp_desc *offer,
                     const struct sdp_verdict *v, const struct sdp_desc *media_answer,
                     struct srtp_keys *key);

/*
 * Re-offers and answers that keep the keys a leg runs with (RFC 4568 s7.1.4: a key that
 * stays the same is sent again as it is): as sdp_build_offer() / sdp_build_answer(), but
 * writing keys[0..nkeys) (each a usable suite, suites and tags distinct) / `*key` (its
 * suite and tag must be v->suite and v->tag) as they are, and generating none. Nothing is
 * written to the keys. Same returns, -EINVAL also for keys that break those rules.
 */
int sdp_build_reoffer(char **out, const struct sdp_local *l, const struct sdp_desc *from,
                      const struct sdp_verdict *fromv, const struct srtp_keys *keys, size_t nkeys);
int sdp_build_answer_keep(char **out, const struct sdp_local *l, const struct sdp_desc *offer,
                          const struct sdp_verdict *v, const struct sdp_desc *media_answer,
                          const struct srtp_keys *key);

/* Wipe (it carries keys) and free a text from sdp_build_*(). NULL is fine. */
void sdp_text_free(char *s);

/*
 * A call keeps the SDP it accepted for what later offers and answers are built from
 * (formats, addresses, origin, direction), not for its a=crypto lines (824 bytes each,
 * room for four keys with MKIs): keep the key the check chose (`v`: v->media, v->crypto)
 * in d->kept and wipe and free every a=crypto line. Plain RTP keeps no key. The policy
 * checks refuse such a description (-EINVAL); sdp_build_answer() takes it, trusting
 * v->tag and v->suite. Returns 0, or -EINVAL when `v` does not fit `d` (nothing changed).
 */
int sdp_desc_keep_key(struct sdp_desc *d, const struct sdp_choice *v);

/* The peer's key that `v` chose in `d` (kept, or its a=crypto line), or NULL (plain RTP,
 * or `v` does not fit `d`). */
const struct srtp_keys *sdp_desc_key(const struct sdp_desc *d, const struct sdp_choice *v);

#endif
