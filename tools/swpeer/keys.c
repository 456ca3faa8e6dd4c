/*
 * keys.c: swpeer's SRTP suites, master-key generation, a=crypto lines and key hashes.
 *
 * Maps the suites of lib/suite.h to libsrtp2 crypto policies and wraps lib/suite.c and
 * lib/sdes.c (key generation, a=crypto parse/police/format) for swpeer's needs, and
 * hashes a key for the result line so that two legs can be compared without showing key
 * material. Not responsible for SDP (sdp.c) or running SRTP (media.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "swpeer.h"
#include "sdes.h"
#include "json_out.h"
#include "sha256.h"

/* libsrtp crypto policies per suite; RTCP of the _32 suites keeps an 80-bit tag. */
struct suite_policy {
	enum srtp_suite id;
	void (*rtp)(srtp_crypto_policy_t *);
	void (*rtcp)(srtp_crypto_policy_t *);
};

static void
policy_cm128_80(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_rtp_default(p);
}

static const struct suite_policy policies[] = {
        {SUITE_AES_CM_128_HMAC_SHA1_80, policy_cm128_80, policy_cm128_80},
        {SUITE_AES_CM_128_HMAC_SHA1_32, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
         policy_cm128_80},
        {SUITE_AES_256_CM_HMAC_SHA1_80, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
        {SUITE_AES_256_CM_HMAC_SHA1_32, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
        {SUITE_AEAD_AES_128_GCM, srtp_crypto_policy_set_aes_gcm_128_16_auth,
         srtp_crypto_policy_set_aes_gcm_128_16_auth},
        {SUITE_AEAD_AES_256_GCM, srtp_crypto_policy_set_aes_gcm_256_16_auth,
         srtp_crypto_policy_set_aes_gcm_256_16_auth},
};

static const struct suite_policy *
policy_of(enum srtp_suite s)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (policies[i].id == s)
			return &policies[i];
	return NULL;
}

/* The RFC name of `s`, or "none". */
const char *
keys_suite_name(enum srtp_suite s)
{
	const struct suite_info *si = suite_info(s);

	return si ? si->name : "none";
}

/* Case-insensitive lookup; SUITE_NONE if unknown. */
enum srtp_suite
keys_suite_by_name(const char *name, size_t len)
{
	return suite_by_name(name, len);
}

/* May this suite be offered or accepted (in lib/suite.c's table and run by libsrtp)? */
bool
keys_suite_usable(enum srtp_suite s)
{
	const struct suite_info *si = suite_info(s);

	return si && si->usable && policy_of(s);
}

/* Fresh key and salt for `s` (unusable suites too: for weak offers); tag 0, no MKI. */
int
keys_generate(struct srtp_keys *k, enum srtp_suite s)
{
	memset(k, 0, sizeof(*k));
	return srtp_keys_generate(k, s);
}

/* Wipe all key material. */
void
keys_wipe(struct srtp_keys *k)
{
	srtp_keys_wipe(k);
}

/*
 * The same master key, salt and MKI for the same suite (the a=crypto tag aside): a
 * session running on `a` may go on for `b`, keeping its rollover counter and replay
 * window (RFC 3711 s3.3.1: they belong to the SSRC and the master key, not the SDP).
 */
bool
keys_same(const struct srtp_keys *a, const struct srtp_keys *b)
{
	return a->suite == b->suite && a->mki_len == b->mki_len &&
	       CRYPTO_memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       CRYPTO_memcmp(a->salt, b->salt, sizeof(a->salt)) == 0 &&
	       CRYPTO_memcmp(a->mki, b->mki, a->mki_len) == 0;
}

/*
 * Fill a libsrtp policy for `k`; `keybuf` (at least 32 + 14 bytes, owned and wiped by the
 * caller) receives key||salt and is referenced by the policy.
 */
int
keys_policy(srtp_policy_t *p, const struct srtp_keys *k, uint8_t *keybuf, srtp_ssrc_type_t type)
{
	const struct suite_policy *sp = policy_of(k->suite);

	if (!sp || !keys_suite_usable(k->suite) || k->mki_len)
		return -ENOTSUP;
	memset(p, 0, sizeof(*p));
	sp->rtp(&p->rtp);
	sp->rtcp(&p->rtcp);
	srtp_keys_concat(k, keybuf);
	p->key = keybuf;
	p->ssrc.type = type;
	p->window_size = 1024;
	p->allow_repeat_tx = 0;
	return 0;
}

/*
 * "TAG SUITE inline:BASE64[ extra]" into buf (lib/sdes.c's sdes_format; '=' padding when
 * `pad`). Returns the length or -ENOSPC/-EINVAL.
 */
int
keys_format_crypto(const struct srtp_keys *k, bool pad, const char *extra, char *buf, size_t len)
{
	int n = sdes_format(k, pad, buf, len);

	if (n < 0 || !extra)
		return n;
	if ((size_t)n + 1 + strlen(extra) + 1 > len)
		return -ENOSPC;
	buf[n++] = ' ';
	memcpy(buf + n, extra, strlen(extra) + 1);
	return n + (int)strlen(extra);
}

/*
 * Parse an a=crypto value with lib/sdes.c and apply sipwarden's policy to it
 * (sdes_check_policy), plus swpeer's own limit: no MKI. 0 with the key in `out`, or
 * -EINVAL (malformed) / -EPERM (refused) with *why a static reason.
 */
int
keys_parse_crypto(const char *val, struct srtp_keys *out, const char **why)
{
	struct sdes_crypto c;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sdes_parse(val, strlen(val), &c, why)) < 0)
		return rc;
	if ((rc = sdes_check_policy(&c, why)) < 0) {
		sdes_crypto_wipe(&c);
		return rc;
	}
	if (c.keys[0].mki_len || !keys_suite_usable(c.suite)) {
		*why = c.keys[0].mki_len ? "MKI not supported by swpeer"
		                         : "crypto suite not usable";
		sdes_crypto_wipe(&c);
		return -EPERM;
	}
	*out = c.keys[0];
	out->tag = c.tag;
	out->suite = c.suite;
	sdes_crypto_wipe(&c);
	return 0;
}

/* First 8 hex digits of SHA-256(key||salt): identifies a key without revealing it. */
void
keys_hash(const struct srtp_keys *k, char out[KEY_HASH_HEX + 1])
{
	uint8_t raw[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN], md[SHA256_LEN];
	size_t n = srtp_keys_concat(k, raw);
	int rc = n > 0 ? sha256_digest(raw, n, md) : -EINVAL;

	OPENSSL_cleanse(raw, sizeof(raw));
	if (rc != 0) {
		snprintf(out, KEY_HASH_HEX + 1, "%s", "-");
		return;
	}
	json_out_hex(out, md, KEY_HASH_HEX / 2);
}
