/*
 * sdes.h: RFC 4568 security descriptions (a=crypto) for SRTP: parse, police, format.
 *
 * sdes_parse() follows the RFC 4568 grammar and its MUST-level rules (key length per
 * suite, lifetime range, MKI form, session parameters) and accepts key||salt base64 with
 * or without '=' padding. Whether a well-formed line is acceptable to sipwarden is a
 * separate question, answered by sdes_check_policy(): it refuses suites libsrtp cannot
 * run correctly and parameters that weaken protection. Knows nothing of SDP lines other
 * than a=crypto (sdp.h) or of running SRTP (srtp_leg.h).
 */
#ifndef SW_SDES_H
#define SW_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suite.h"

#define SDES_SUITE_NAME_MAX 48
#define SDES_MAX_KEYS       4

/*
 * struct sdes_crypto: one parsed a=crypto attribute.
 * Owner: the caller (usually on the stack or inside an SDP description); holds key
 * material, so it must be wiped with sdes_crypto_wipe().
 */
struct sdes_crypto {
	uint32_t tag;
	enum srtp_suite suite;                    /* never SUITE_NONE after a successful parse */
	char suite_name[SDES_SUITE_NAME_MAX];     /* as received (case kept) */
	struct srtp_keys keys[SDES_MAX_KEYS];     /* keys[i].suite = suite, .tag = tag, MKI */
	unsigned nkeys;
	uint64_t lifetime;                        /* 0: not given */
	unsigned kdr;                             /* 0: not given, else n in 1..24 (rate 2^n) */
	unsigned wsh;                             /* 0: not given */
	bool unencrypted_srtp, unencrypted_srtcp, unauthenticated_srtp;
	bool fec_order_srtp_fec;                  /* FEC_ORDER=SRTP_FEC */
	bool has_fec_key;
	bool was_padded;                          /* the first key's base64 carried '=' padding */
};

/*
 * Parse one attribute. `s[0..len)` may be the whole SDP line "a=crypto:...", "crypto:..." or
 * only the value "1 AES_CM_128_HMAC_SHA1_80 inline:...". Returns 0 and fills `out`, or
 * -EINVAL with `*why` set to a static reason fit for a SIP Warning (out is wiped).
 */
int sdes_parse(const char *s, size_t len, struct sdes_crypto *out, const char **why);

/*
 * Is a parsed attribute acceptable for sipwarden? Refuses unusable suites (F8, AES-192),
 * UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, more than one master key,
 * KDR (libsrtp re-keying is not offered), FEC_KEY. Returns 0, or -EPERM with `*why` set.
 */
int sdes_check_policy(const struct sdes_crypto *c, const char **why);

/*
 * Write the attribute value "TAG SUITE inline:BASE64" (no "a=crypto:" prefix, no CRLF)
 * for `k` into buf, with '=' padding when `pad`. Returns the length written (excluding
 * the NUL) or -ENOSPC / -EINVAL.
 */
int sdes_format(const struct srtp_keys *k, bool pad, char *buf, size_t buflen);

/* Wipe every key in `c` (OPENSSL_cleanse) and zero it. */
void sdes_crypto_wipe(struct sdes_crypto *c);

#endif
