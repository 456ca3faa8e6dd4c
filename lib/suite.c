/*
 * suite.c: the table of SRTP crypto suites (key, salt and tag lengths, whether libsrtp
 * 2.5 can run them) and the life cycle of one leg's master key and salt: fresh from
 * RAND_bytes, concatenated for libsrtp, wiped with OPENSSL_cleanse. Not responsible for
 * a=crypto syntax (sdes.c), for the configured preference order (conf.c) or for SRTP
 * contexts (srtp_leg.c).
 */
#include "suite.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* Indexed by enum srtp_suite; entry 0 (SUITE_NONE) is a placeholder. */
static const struct suite_info suites[SUITE_COUNT] = {
        [SUITE_NONE] = {SUITE_NONE, NULL, 0, 0, 0, 0, false, NULL},
        [SUITE_AES_CM_128_HMAC_SHA1_80] = {SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80",
                                           16, 14, 10, 10, true, NULL},
        [SUITE_AES_CM_128_HMAC_SHA1_32] = {SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32",
                                           16, 14, 4, 10, true, NULL},
        [SUITE_AES_256_CM_HMAC_SHA1_80] = {SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80",
                                           32, 14, 10, 10, true, NULL},
        [SUITE_AES_256_CM_HMAC_SHA1_32] = {SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32",
                                           32, 14, 4, 10, true, NULL},
        [SUITE_AEAD_AES_128_GCM] = {SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12, 16, 16,
                                    true, NULL},
        [SUITE_AEAD_AES_256_GCM] = {SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12, 16, 16,
                                    true, NULL},
        [SUITE_F8_128_HMAC_SHA1_80] = {SUITE_F8_128_HMAC_SHA1_80, "F8_128_HMAC_SHA1_80", 16, 14, 10,
                                       10, false, "no F8 in libsrtp"},
        [SUITE_AES_192_CM_HMAC_SHA1_80] = {SUITE_AES_192_CM_HMAC_SHA1_80, "AES_192_CM_HMAC_SHA1_80",
                                           24, 14, 10, 10, false,
                                           "libsrtp 2.5 derives AES-192 keys wrongly"},
        [SUITE_AES_192_CM_HMAC_SHA1_32] = {SUITE_AES_192_CM_HMAC_SHA1_32, "AES_192_CM_HMAC_SHA1_32",
                                           24, 14, 4, 10, false,
                                           "libsrtp 2.5 derives AES-192 keys wrongly"},
};

const struct suite_info *
suite_info(enum srtp_suite s)
{
	if ((unsigned)s == SUITE_NONE || (unsigned)s >= SUITE_COUNT)
		return NULL;
	return &suites[s];
}

enum srtp_suite
suite_by_name(const char *name, size_t len)
{
	if (name == NULL || len == 0)
		return SUITE_NONE;
	for (unsigned i = SUITE_NONE + 1; i < SUITE_COUNT; i++) {
		const char *n = suites[i].name;
		if (strlen(n) == len && strncasecmp(n, name, len) == 0)
			return (enum srtp_suite)i;
	}
	return SUITE_NONE;
}

int
srtp_keys_generate(struct srtp_keys *k, enum srtp_suite suite)
{
	/* tag and MKI are the caller's; only the key material is replaced (as for each key
	 * of srtp_keys_generate_n: one DRBG call for key and salt) */
	if (k == NULL || suite_info(suite) == NULL)
		return -EINVAL;
	return srtp_keys_generate_n(k, &suite, 1);
}

int
srtp_keys_generate_n(struct srtp_keys *keys, const enum srtp_suite *which, size_t n)
{
	uint8_t m[SUITE_COUNT * (SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN)];
	size_t need = 0, off = 0, i;
	int rc = 0;

	if (keys == NULL || which == NULL || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct suite_info *si = suite_info(which[i]);
		if (si == NULL) {
			rc = -EINVAL;
			break;
		}
		need += si->key_len + si->salt_len;
	}
	/* more keys than the buffer holds: one DRBG call per key (never truncated). Each
	 * RAND_bytes() costs ~0.65 us and a getpid() (OpenSSL's fork check) whatever its
	 * size, and a call offers a key per configured suite. */
	if (rc == 0 && need > sizeof(m)) {
		for (i = 0; i < n && rc == 0; i++)
			rc = srtp_keys_generate(&keys[i], which[i]);
		if (rc == 0)
			return 0;
	} else if (rc == 0 && RAND_bytes(m, (int)need) != 1) {
		rc = -EIO;
	}
	for (i = 0; i < n; i++) {
		const struct suite_info *si = suite_info(which[i]);

		OPENSSL_cleanse(keys[i].key, sizeof(keys[i].key));
		OPENSSL_cleanse(keys[i].salt, sizeof(keys[i].salt));
		if (rc != 0) {
			srtp_keys_wipe(&keys[i]);
			continue;
		}
		memcpy(keys[i].key, m + off, si->key_len);
		memcpy(keys[i].salt, m + off + si->key_len, si->salt_len);
		off += si->key_len + si->salt_len;
		keys[i].suite = which[i];
	}
	OPENSSL_cleanse(m, sizeof(m));
	return rc;
}

void
srtp_keys_wipe(struct srtp_keys *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	k->suite = SUITE_NONE;
}

size_t
srtp_keys_concat(const struct srtp_keys *k, uint8_t *out)
{
	const struct suite_info *si;

	if (k == NULL || out == NULL || (si = suite_info(k->suite)) == NULL)
		return 0;
	memcpy(out, k->key, si->key_len);
	memcpy(out + si->key_len, k->salt, si->salt_len);
	return (size_t)si->key_len + si->salt_len;
}
