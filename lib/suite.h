/*
 * suite.h: the SRTP crypto suites sipwarden speaks, and the master keys of one leg.
 *
 * A suite names its key, salt and tag lengths once, here; everything else (SDES, the
 * libsrtp policy, the preference order in the config) asks this table. Key material
 * lives only in struct srtp_keys, which is wiped with OPENSSL_cleanse() by
 * srtp_keys_wipe(). Not responsible for parsing SDP (sdes.h) or for running SRTP
 * (srtp_leg.h).
 */
#ifndef SW_SUITE_H
#define SW_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum srtp_suite {
	SUITE_NONE = 0,
	SUITE_AES_CM_128_HMAC_SHA1_80,
	SUITE_AES_CM_128_HMAC_SHA1_32,
	SUITE_AES_256_CM_HMAC_SHA1_80,
	SUITE_AES_256_CM_HMAC_SHA1_32,
	SUITE_AEAD_AES_128_GCM,
	SUITE_AEAD_AES_256_GCM,
	/* Known to RFC 4568/6188 so lines parse, but never offered or accepted: libsrtp 2.5
	 * has no F8 and derives AES-192 keys wrongly (see README). */
	SUITE_F8_128_HMAC_SHA1_80,
	SUITE_AES_192_CM_HMAC_SHA1_80,
	SUITE_AES_192_CM_HMAC_SHA1_32,
	SUITE_COUNT
};

struct suite_info {
	enum srtp_suite id;
	const char *name;     /* RFC/IANA name as in a=crypto */
	uint8_t key_len;      /* master key octets */
	uint8_t salt_len;     /* master salt octets */
	uint8_t rtp_tag_len;  /* SRTP auth tag octets (GCM: 16) */
	uint8_t rtcp_tag_len; /* SRTCP auth tag octets */
	bool usable;          /* may be offered/accepted with this libsrtp */
	const char *unusable; /* why not, when !usable (for config errors and logs) */
};

#define SUITE_MAX_KEY_LEN  32
#define SUITE_MAX_SALT_LEN 14
#define SUITE_MAX_MKI_LEN  128

/* Table lookup; NULL for SUITE_NONE or out of range. */
const struct suite_info *suite_info(enum srtp_suite s);
/* Case-insensitive lookup by name (RFC 4568 s4); SUITE_NONE if unknown. */
enum srtp_suite suite_by_name(const char *name, size_t len);

/*
 * struct srtp_keys: one direction's master key and salt (what one a=crypto line carries).
 * Owner: whoever embeds it (a media leg, an SDP offer being built); must be wiped with
 * srtp_keys_wipe() when done. Never logged, never copied to the other leg.
 */
struct srtp_keys {
	enum srtp_suite suite;
	uint8_t key[SUITE_MAX_KEY_LEN];
	uint8_t salt[SUITE_MAX_SALT_LEN];
	uint8_t mki[SUITE_MAX_MKI_LEN];
	uint8_t mki_len; /* 0: no MKI */
	uint32_t tag;    /* a=crypto tag this key came with / goes out with */
};

/* Fill `k` with a fresh key and salt for `suite` from RAND_bytes. 0 or -EINVAL/-EIO. */
int srtp_keys_generate(struct srtp_keys *k, enum srtp_suite suite);
/*
 * Fill keys[0..n-1] with fresh keys and salts for which[0..n-1] (what one offer carries),
 * all from one RAND_bytes call: each call costs ~0.65 us and a getpid() (OpenSSL's fork
 * check) whatever its size. Every key still gets its own bytes: no two share any. Tags
 * and MKIs are the caller's. 0, or -EINVAL (an unknown suite, n == 0) or -EIO; on error
 * all n keys are wiped.
 */
int srtp_keys_generate_n(struct srtp_keys *keys, const enum srtp_suite *which, size_t n);
/* Wipe all key material (OPENSSL_cleanse) and reset to SUITE_NONE. */
void srtp_keys_wipe(struct srtp_keys *k);
/* key ‖ salt as libsrtp wants it; `out` must hold key_len + salt_len. Returns length. */
size_t srtp_keys_concat(const struct srtp_keys *k, uint8_t *out);

#endif
