/*
 * keys.c: swpeer's SRTP suites, master-key generation, a=crypto lines and key hashes.
 *
 * Maps the suites of lib/suite.h to libsrtp2 crypto policies, generates fresh keys with
 * RAND_bytes, writes and reads the a=crypto attribute value (RFC 4568: tag, suite,
 * inline key||salt in base64, padded or not) and hashes a key for the result line so
 * that two legs can be compared without showing key material. It is deliberately small:
 * a test peer must produce and accept well-formed lines; the daemon's strict parser and
 * policy live in lib/sdes.c. Not responsible for SDP (call.c) or running SRTP (media.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "swpeer.h"

struct suite_row {
	enum srtp_suite id;
	const char *name;
	uint8_t key_len, salt_len;
	bool usable;
	void (*rtp)(srtp_crypto_policy_t *);
	void (*rtcp)(srtp_crypto_policy_t *);
};

static void
policy_cm128_80(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_rtp_default(p);
}

static const struct suite_row suites[] = {
        {SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16, 14, true, policy_cm128_80,
         policy_cm128_80},
        {SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16, 14, true,
         srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, policy_cm128_80},
        {SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80", 32, 14, true,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
        {SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32", 32, 14, true,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
        {SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12, true,
         srtp_crypto_policy_set_aes_gcm_128_16_auth, srtp_crypto_policy_set_aes_gcm_128_16_auth},
        {SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12, true,
         srtp_crypto_policy_set_aes_gcm_256_16_auth, srtp_crypto_policy_set_aes_gcm_256_16_auth},
        {SUITE_F8_128_HMAC_SHA1_80, "F8_128_HMAC_SHA1_80", 16, 14, false, NULL, NULL},
        {SUITE_AES_192_CM_HMAC_SHA1_80, "AES_192_CM_HMAC_SHA1_80", 24, 14, false, NULL, NULL},
        {SUITE_AES_192_CM_HMAC_SHA1_32, "AES_192_CM_HMAC_SHA1_32", 24, 14, false, NULL, NULL},
};

static const struct suite_row *
row(enum srtp_suite s)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == s)
			return &suites[i];
	return NULL;
}

/* The RFC name of `s`, or "none". */
const char *
keys_suite_name(enum srtp_suite s)
{
	const struct suite_row *r = row(s);

	return r ? r->name : "none";
}

/* Case-insensitive lookup; SUITE_NONE if unknown. */
enum srtp_suite
keys_suite_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strlen(suites[i].name) == len && strncasecmp(suites[i].name, name, len) == 0)
			return suites[i].id;
	return SUITE_NONE;
}

/* May this suite be offered or accepted (libsrtp runs it correctly)? */
bool
keys_suite_usable(enum srtp_suite s)
{
	const struct suite_row *r = row(s);

	return r && r->usable;
}

/* Fresh key and salt for `s` from RAND_bytes (unusable suites too: for weak offers). */
int
keys_generate(struct srtp_keys *k, enum srtp_suite s)
{
	const struct suite_row *r = row(s);

	memset(k, 0, sizeof(*k));
	if (!r)
		return -EINVAL;
	k->suite = s;
	if (RAND_bytes(k->key, r->key_len) != 1 || RAND_bytes(k->salt, r->salt_len) != 1) {
		keys_wipe(k);
		return -EIO;
	}
	return 0;
}

/* Wipe all key material. */
void
keys_wipe(struct srtp_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
	k->suite = SUITE_NONE;
}

/*
 * Fill a libsrtp policy for `k`; `keybuf` (SRTP_MAX_KEY_LEN + SRTP_MAX_SALT_LEN bytes,
 * owned and wiped by the caller) receives key||salt and is referenced by the policy.
 */
int
keys_policy(srtp_policy_t *p, const struct srtp_keys *k, uint8_t *keybuf, srtp_ssrc_type_t type)
{
	const struct suite_row *r = row(k->suite);

	if (!r || !r->usable)
		return -ENOTSUP;
	memset(p, 0, sizeof(*p));
	r->rtp(&p->rtp);
	r->rtcp(&p->rtcp);
	memcpy(keybuf, k->key, r->key_len);
	memcpy(keybuf + r->key_len, k->salt, r->salt_len);
	p->key = keybuf;
	p->ssrc.type = type;
	p->window_size = 1024;
	p->allow_repeat_tx = 0;
	return 0;
}

/* "TAG SUITE inline:BASE64[ extra]" into buf. Returns length or -ENOSPC/-EINVAL. */
int
keys_format_crypto(const struct srtp_keys *k, const char *extra, char *buf, size_t len)
{
	const struct suite_row *r = row(k->suite);
	uint8_t raw[SRTP_MAX_KEY_LEN + SRTP_MAX_SALT_LEN];
	char b64[80];
	int n;

	if (!r)
		return -EINVAL;
	memcpy(raw, k->key, r->key_len);
	memcpy(raw + r->key_len, k->salt, r->salt_len);
	EVP_EncodeBlock((unsigned char *)b64, raw, r->key_len + r->salt_len);
	OPENSSL_cleanse(raw, sizeof(raw));
	n = snprintf(buf, len, "%u %s inline:%s%s%s", k->tag, r->name, b64, extra ? " " : "",
	             extra ? extra : "");
	OPENSSL_cleanse(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/*
 * Parse an a=crypto value. Accepts one inline key with or without '=' padding and an
 * optional lifetime; refuses MKI, several keys, session parameters and unusable suites
 * (swpeer's answer policy), with *why a static reason. 0 or -EINVAL / -EPERM.
 */
int
keys_parse_crypto(const char *val, struct srtp_keys *out, const char **why)
{
	const struct suite_row *r;
	const char *p = val, *s, *e;
	char b64[96];
	uint8_t raw[96];
	unsigned long tag;
	char *end;
	size_t blen, pad = 0;
	int n;

	memset(out, 0, sizeof(*out));
	*why = "malformed a=crypto";
	tag = strtoul(p, &end, 10);
	if (end == p || !isspace((unsigned char)*end) || tag > 999999999)
		return -EINVAL;
	p = end;
	while (isspace((unsigned char)*p))
		p++;
	s = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	r = row(keys_suite_by_name(s, (size_t)(p - s)));
	if (!r) {
		*why = "unknown crypto suite";
		return -EINVAL;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "inline:", 7) != 0)
		return -EINVAL;
	p += 7;
	e = p;
	while (*e && *e != '|' && *e != ';' && !isspace((unsigned char)*e))
		e++;
	blen = (size_t)(e - p);
	if (blen == 0 || blen + 3 > sizeof(b64))
		return -EINVAL;
	memcpy(b64, p, blen);
	while (blen % 4)
		b64[blen++] = '=';
	b64[blen] = '\0';
	for (size_t i = blen; i > 0 && b64[i - 1] == '='; i--)
		pad++;
	n = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)blen);
	OPENSSL_cleanse(b64, sizeof(b64));
	/* EVP_DecodeBlock counts padding as zero output bytes. */
	if (n < 0 || pad > 2 || n - (int)pad != r->key_len + r->salt_len) {
		OPENSSL_cleanse(raw, sizeof(raw));
		*why = "a=crypto key length does not match the suite";
		return -EINVAL;
	}
	out->suite = r->id;
	out->tag = (uint32_t)tag;
	memcpy(out->key, raw, r->key_len);
	memcpy(out->salt, raw + r->key_len, r->salt_len);
	OPENSSL_cleanse(raw, sizeof(raw));
	/* key-params tail: |lifetime and |MKI:len */
	p = e;
	while (*p == '|') {
		const char *f = ++p;

		while (*p && *p != '|' && *p != ';' && !isspace((unsigned char)*p))
			p++;
		if (memchr(f, ':', (size_t)(p - f))) {
			*why = "MKI not supported";
			keys_wipe(out);
			return -EPERM;
		}
	}
	if (*p == ';') {
		*why = "more than one master key";
		keys_wipe(out);
		return -EPERM;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p) {
		*why = "session parameters refused";
		keys_wipe(out);
		return -EPERM;
	}
	if (!r->usable) {
		*why = "crypto suite not usable";
		keys_wipe(out);
		return -EPERM;
	}
	return 0;
}

/* First 8 hex digits of SHA-256(key||salt): identifies a key without revealing it. */
void
keys_hash(const struct srtp_keys *k, char out[KEY_HASH_HEX + 1])
{
	const struct suite_row *r = row(k->suite);
	uint8_t raw[SRTP_MAX_KEY_LEN + SRTP_MAX_SALT_LEN], md[32];
	unsigned mdlen = 0;

	if (!r) {
		snprintf(out, KEY_HASH_HEX + 1, "%s", "-");
		return;
	}
	memcpy(raw, k->key, r->key_len);
	memcpy(raw + r->key_len, k->salt, r->salt_len);
	EVP_Digest(raw, r->key_len + r->salt_len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_cleanse(raw, sizeof(raw));
	for (int i = 0; i < KEY_HASH_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
