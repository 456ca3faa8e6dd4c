/*
 * srtp_ossl.c: OpenSSL EVP implementations of libsrtp2's AES-ICM, AES-GCM and HMAC-SHA1
 * types, and their registration with libsrtp.
 *
 * libsrtp keeps the protocol (key derivation, ROC, replay window, SRTCP framing); the
 * types here only compute. Each libsrtp stream allocates its own cipher/auth objects and
 * one srtp_t is used by one thread at a time, so the per-object EVP contexts need no
 * locks. Algorithms are fetched once (OpenSSL 3's implicit fetch on every init is slow);
 * contexts are allocated in alloc() and keyed in init(), so a packet costs an IV reset
 * and the EVP calls, no allocation on the cipher side. Any OpenSSL failure clears the
 * thread's error queue before returning, so a later SSL_get_error() on that thread does
 * not read a stale error. Not responsible for sessions, policies or keys' lifetime
 * (srtp_leg.c); libsrtp hands the session keys to init() and we keep them only inside
 * the EVP contexts (wiped by EVP_*_free).
 */
#include "srtp_ossl.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>

/*
 * libsrtp exports these from libsrtp2.so but does not install crypto_kernel.h; they are
 * the only way to ask which type libsrtp currently uses for an id.
 */
const srtp_cipher_type_t *srtp_crypto_kernel_get_cipher_type(srtp_cipher_type_id_t id);
const srtp_auth_type_t *srtp_crypto_kernel_get_auth_type(srtp_auth_type_id_t id);

#define ICM_SALT_LEN  14 /* SRTP_SALT_LEN */
#define GCM_SALT_LEN  12 /* SRTP_AEAD_SALT_LEN */
#define GCM_IV_LEN    12
#define GCM_TAG_MAX   16
#define SHA1_LEN      20
#define ICM_MAX_BLOCK 0x10000 /* a keystream segment ends before the 16-bit counter wraps */

/*
 * Algorithms fetched once by srtp_ossl_install() and kept for the process's lifetime
 * (the descriptors that use them are global to libsrtp as well). Written only before the
 * first registration, read-only afterwards.
 */
static EVP_CIPHER *evp_ctr[3]; /* AES-128/192/256-CTR */
static EVP_CIPHER *evp_gcm[2]; /* AES-128/256-GCM */
static EVP_MAC *evp_hmac;

static srtp_err_status_t
ossl_fail(srtp_err_status_t st)
{
	ERR_clear_error();
	return st;
}

/* ---------------------------------------------------------------- AES-ICM ---- */

/*
 * struct icm: one AES counter-mode object. Owner: libsrtp (via the srtp_cipher_t it is
 * allocated with); freed by icm_dealloc().
 */
struct icm {
	srtp_cipher_t c;
	EVP_CIPHER_CTX *ctx;
	int aes_len;        /* AES key octets: 16, 24, 32 */
	uint8_t offset[16]; /* session salt || 0x0000 */
	size_t left;        /* keystream octets left in this segment */
};

static const srtp_cipher_type_t icm_types[3];

static int
icm_index(int key_len)
{
	switch (key_len) {
	case SRTP_AES_ICM_128_KEY_LEN_WSALT:
		return 0;
	case SRTP_AES_ICM_192_KEY_LEN_WSALT:
		return 1;
	case SRTP_AES_ICM_256_KEY_LEN_WSALT:
		return 2;
	default:
		return -1;
	}
}

static srtp_err_status_t
icm_alloc(const srtp_cipher_type_t *type, srtp_cipher_t **cp, int key_len)
{
	struct icm *s;
	int i = icm_index(key_len);

	/* One descriptor per id: the key length must be the one this id stands for. */
	if (i < 0 || &icm_types[i] != type)
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return ossl_fail(srtp_err_status_alloc_fail);
	if ((s->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		OPENSSL_free(s);
		return ossl_fail(srtp_err_status_alloc_fail);
	}
	s->aes_len = key_len - ICM_SALT_LEN;
	s->c.type = type;
	s->c.state = s;
	s->c.key_len = key_len;
	s->c.algorithm = (int)type->id;
	*cp = &s->c;
	return srtp_err_status_ok;
}

static srtp_err_status_t
icm128_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[0], cp, key_len);
}

static srtp_err_status_t
icm192_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[1], cp, key_len);
}

static srtp_err_status_t
icm256_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[2], cp, key_len);
}

static srtp_err_status_t
icm_dealloc(srtp_cipher_t *c)
{
	struct icm *s;

	if (c == NULL)
		return srtp_err_status_bad_param;
	s = c->state;
	EVP_CIPHER_CTX_free(s->ctx);
	OPENSSL_clear_free(s, sizeof(*s));
	return srtp_err_status_ok;
}

/* key = AES key || 14-octet session salt. */
static srtp_err_status_t
icm_init(void *state, const uint8_t *key)
{
	struct icm *s = state;

	memset(s->offset, 0, sizeof(s->offset));
	memcpy(s->offset, key + s->aes_len, ICM_SALT_LEN);
	s->left = 0;
	if (!EVP_EncryptInit_ex2(s->ctx, evp_ctr[icm_index(s->c.key_len)], key, NULL, NULL))
		return ossl_fail(srtp_err_status_init_fail);
	return srtp_err_status_ok;
}

/* The counter is iv XOR (salt || 0x0000); the keystream then runs across encrypt calls. */
static srtp_err_status_t
icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct icm *s = state;
	uint8_t ctr[16];
	unsigned int low;

	(void)dir;
	for (size_t i = 0; i < sizeof(ctr); i++)
		ctr[i] = iv[i] ^ s->offset[i];
	low = (unsigned int)ctr[14] << 8 | ctr[15];
	s->left = (size_t)(ICM_MAX_BLOCK - low) * 16;
	if (!EVP_EncryptInit_ex2(s->ctx, NULL, NULL, ctr, NULL)) {
		s->left = 0;
		return ossl_fail(srtp_err_status_cipher_fail);
	}
	return srtp_err_status_ok;
}

static srtp_err_status_t
icm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct icm *s = state;
	int outl;

	if (*len == 0)
		return srtp_err_status_ok;
	/* Like libsrtp's own ICM, refuse to run the 16-bit block counter past its end. */
	if (*len > s->left || *len > INT_MAX)
		return srtp_err_status_terminus;
	if (!EVP_EncryptUpdate(s->ctx, buf, &outl, buf, (int)*len) || outl != (int)*len)
		return ossl_fail(srtp_err_status_cipher_fail);
	s->left -= *len;
	return srtp_err_status_ok;
}

/* ---------------------------------------------------------------- AES-GCM ---- */

/*
 * struct gcm: one AES-GCM object. Owner: libsrtp; freed by gcm_dealloc(). `iv` is kept so
 * a failed decryption can be undone (see gcm_decrypt()).
 */
struct gcm {
	srtp_cipher_t c;
	EVP_CIPHER_CTX *ctx;
	int tag_len; /* 8 or 16 */
	int dir;     /* srtp_direction_encrypt/decrypt, from set_iv */
	uint8_t iv[GCM_IV_LEN];
};

static const srtp_cipher_type_t gcm_types[2];

static srtp_err_status_t
gcm_alloc(const srtp_cipher_type_t *type, srtp_cipher_t **cp, int key_len, int tag_len)
{
	struct gcm *s;
	int want = type == &gcm_types[0] ? SRTP_AES_GCM_128_KEY_LEN_WSALT
	                                 : SRTP_AES_GCM_256_KEY_LEN_WSALT;

	if (key_len != want || (tag_len != 8 && tag_len != GCM_TAG_MAX))
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return ossl_fail(srtp_err_status_alloc_fail);
	if ((s->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		OPENSSL_free(s);
		return ossl_fail(srtp_err_status_alloc_fail);
	}
	s->tag_len = tag_len;
	s->dir = -1;
	s->c.type = type;
	s->c.state = s;
	s->c.key_len = key_len;
	s->c.algorithm = (int)type->id;
	*cp = &s->c;
	return srtp_err_status_ok;
}

static srtp_err_status_t
gcm128_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	return gcm_alloc(&gcm_types[0], cp, key_len, tag_len);
}

static srtp_err_status_t
gcm256_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	return gcm_alloc(&gcm_types[1], cp, key_len, tag_len);
}

static srtp_err_status_t
gcm_dealloc(srtp_cipher_t *c)
{
	struct gcm *s;

	if (c == NULL)
		return srtp_err_status_bad_param;
	s = c->state;
	EVP_CIPHER_CTX_free(s->ctx);
	OPENSSL_clear_free(s, sizeof(*s));
	return srtp_err_status_ok;
}

/* key = AES key || 12-octet salt; the salt is unused here (srtp.c builds the IV). */
static srtp_err_status_t
gcm_init(void *state, const uint8_t *key)
{
	struct gcm *s = state;
	EVP_CIPHER *evp = evp_gcm[s->c.type == &gcm_types[0] ? 0 : 1];

	s->dir = -1;
	if (!EVP_CipherInit_ex2(s->ctx, evp, key, NULL, 1, NULL))
		return ossl_fail(srtp_err_status_init_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct gcm *s = state;

	if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
		return srtp_err_status_bad_param;
	memcpy(s->iv, iv, GCM_IV_LEN);
	s->dir = -1;
	if (!EVP_CipherInit_ex2(s->ctx, NULL, NULL, iv, dir == srtp_direction_encrypt, NULL))
		return ossl_fail(srtp_err_status_init_fail);
	s->dir = dir;
	return srtp_err_status_ok;
}

/* May be called more than once after set_iv() (SRTCP: header, then the E||index word). */
static srtp_err_status_t
gcm_set_aad(void *state, const uint8_t *aad, uint32_t len)
{
	struct gcm *s = state;
	int outl;

	if (s->dir < 0 || len > INT_MAX)
		return srtp_err_status_bad_param;
	if (len == 0)
		return srtp_err_status_ok;
	if (!EVP_CipherUpdate(s->ctx, NULL, &outl, aad, (int)len))
		return ossl_fail(srtp_err_status_cipher_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct gcm *s = state;
	int outl;

	if (s->dir != srtp_direction_encrypt || *len > INT_MAX)
		return srtp_err_status_bad_param;
	if (*len == 0)
		return srtp_err_status_ok; /* SRTCP without encryption: tag over AAD only */
	if (!EVP_EncryptUpdate(s->ctx, buf, &outl, buf, (int)*len) || outl != (int)*len)
		return ossl_fail(srtp_err_status_cipher_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
	struct gcm *s = state;
	uint8_t none[GCM_TAG_MAX];
	int outl = 0;

	if (s->dir != srtp_direction_encrypt)
		return srtp_err_status_bad_param;
	s->dir = -1; /* one tag per IV */
	if (!EVP_EncryptFinal_ex(s->ctx, none, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, s->tag_len, tag))
		return ossl_fail(srtp_err_status_cipher_fail);
	*len = (uint32_t)s->tag_len;
	return srtp_err_status_ok;
}

/*
 * buf holds ciphertext || tag and *len counts both. On success the plaintext replaces the
 * ciphertext and *len drops the tag. OpenSSL writes plaintext before it checks the tag, so
 * on a bad tag the ciphertext is restored (counter mode: encrypting with the same key and
 * IV gives it back) and no unauthenticated plaintext reaches the caller.
 */
static srtp_err_status_t
gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct gcm *s = state;
	uint8_t none[GCM_TAG_MAX];
	int n, outl = 0;

	if (s->dir != srtp_direction_decrypt || *len > INT_MAX || *len < (unsigned int)s->tag_len)
		return srtp_err_status_bad_param;
	s->dir = -1;
	n = (int)*len - s->tag_len;
	if (!EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len, buf + n))
		return ossl_fail(srtp_err_status_cipher_fail);
	if (n > 0 && (!EVP_DecryptUpdate(s->ctx, buf, &outl, buf, n) || outl != n)) {
		/* cannot tell how much was written: hide it */
		OPENSSL_cleanse(buf, (size_t)n);
		return ossl_fail(srtp_err_status_cipher_fail);
	}
	if (EVP_DecryptFinal_ex(s->ctx, none, &outl) == 1) {
		*len = (unsigned int)n;
		return srtp_err_status_ok;
	}
	if (n > 0 && (!EVP_CipherInit_ex2(s->ctx, NULL, NULL, s->iv, 1, NULL) ||
	              !EVP_EncryptUpdate(s->ctx, buf, &outl, buf, n) || outl != n))
		OPENSSL_cleanse(buf, (size_t)n); /* could not restore: hide it */
	return ossl_fail(srtp_err_status_auth_fail);
}

/* -------------------------------------------------------------- HMAC-SHA1 ---- */

/* struct hmac: one HMAC-SHA1 object. Owner: libsrtp; freed by hmac_dealloc(). */
struct hmac {
	srtp_auth_t a;
	EVP_MAC_CTX *ctx;
};

static const srtp_auth_type_t hmac_type;

static srtp_err_status_t
hmac_alloc(srtp_auth_t **ap, int key_len, int out_len)
{
	struct hmac *s;
	char digest[] = "SHA1";
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	        OSSL_PARAM_construct_end(),
	};

	if (key_len < 0 || key_len > SHA1_LEN || out_len < 0 || out_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return ossl_fail(srtp_err_status_alloc_fail);
	if ((s->ctx = EVP_MAC_CTX_new(evp_hmac)) == NULL ||
	    !EVP_MAC_CTX_set_params(s->ctx, params)) {
		EVP_MAC_CTX_free(s->ctx);
		OPENSSL_free(s);
		return ossl_fail(srtp_err_status_alloc_fail);
	}
	s->a.type = &hmac_type;
	s->a.state = s;
	s->a.out_len = out_len;
	s->a.key_len = key_len;
	s->a.prefix_len = 0;
	*ap = &s->a;
	return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_dealloc(srtp_auth_t *a)
{
	struct hmac *s;

	if (a == NULL)
		return srtp_err_status_bad_param;
	s = a->state;
	EVP_MAC_CTX_free(s->ctx);
	OPENSSL_clear_free(s, sizeof(*s));
	return srtp_err_status_ok;
}

/* Keys the MAC once per stream; leaves a fresh MAC ready (the self-test skips start()). */
static srtp_err_status_t
hmac_init(void *state, const uint8_t *key, int key_len)
{
	struct hmac *s = state;

	if (key_len < 0 || key_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	if (!EVP_MAC_init(s->ctx, key, (size_t)key_len, NULL))
		return ossl_fail(srtp_err_status_auth_fail);
	return srtp_err_status_ok;
}

/* Restarts from the keyed state set by init(). */
static srtp_err_status_t
hmac_start(void *state)
{
	struct hmac *s = state;

	if (!EVP_MAC_init(s->ctx, NULL, 0, NULL))
		return ossl_fail(srtp_err_status_auth_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_update(void *state, const uint8_t *buf, int len)
{
	struct hmac *s = state;

	if (len < 0)
		return srtp_err_status_bad_param;
	if (len > 0 && !EVP_MAC_update(s->ctx, buf, (size_t)len))
		return ossl_fail(srtp_err_status_auth_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_compute(void *state, const uint8_t *buf, int len, int tag_len, uint8_t *tag)
{
	struct hmac *s = state;
	uint8_t md[SHA1_LEN];
	size_t outl = 0;
	srtp_err_status_t st;

	if (tag_len < 0 || tag_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	if ((st = hmac_update(state, buf, len)) != srtp_err_status_ok)
		return st;
	if (!EVP_MAC_final(s->ctx, md, &outl, sizeof(md)) || outl != sizeof(md))
		return ossl_fail(srtp_err_status_auth_fail);
	memcpy(tag, md, (size_t)tag_len);
	OPENSSL_cleanse(md, sizeof(md));
	return srtp_err_status_ok;
}

/* ----------------------------------------------------- self-test vectors ---- */

/* Known answers, one AES block per line. */
/* clang-format off */
/* RFC 3711 B.2: AES-128-CM, key || salt, first two keystream blocks at counter 0. */
static const uint8_t icm128_key[30] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static uint8_t icm_zero_iv[16];  /* zeros */
static const uint8_t icm_zero_pt[32]; /* zeros */
static const uint8_t icm128_ks[32] = {
	0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
	0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
};

/* RFC 6188 s7.3: AES-192-CM. */
static const uint8_t icm192_key[38] = {
	0xea, 0xb2, 0x34, 0x76, 0x4e, 0x51, 0x7b, 0x2d, 0x3d, 0x16, 0x0d, 0x58, 0x7d, 0x8c, 0x86, 0x21,
	0x97, 0x40, 0xf6, 0x5f, 0x99, 0xb6, 0xbc, 0xf7, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm192_ks[32] = {
	0x35, 0x09, 0x6c, 0xba, 0x46, 0x10, 0x02, 0x8d, 0xc1, 0xb5, 0x75, 0x03, 0x80, 0x4c, 0xe3, 0x7c,
	0x5d, 0xe9, 0x86, 0x29, 0x1d, 0xcc, 0xe1, 0x61, 0xd5, 0x16, 0x5e, 0xc4, 0x56, 0x8f, 0x5c, 0x9a,
};

/* RFC 6188 s7.1: AES-256-CM. */
static const uint8_t icm256_key[46] = {
	0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
	0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82, 0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm256_ks[32] = {
	0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
	0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
};

/* RFC 7714 s16.1.1 / s16.2.1: key || salt (GCM uses the key only), IV, AAD, text. */
static const uint8_t gcm128_key[28] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f,
};
static const uint8_t gcm256_key[44] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f,
};
static uint8_t gcm_iv[12] = {
	0x51, 0x75, 0x3c, 0x65, 0x80, 0xc2, 0x72, 0x6f, 0x20, 0x71, 0x84, 0x14,
};
static const uint8_t gcm_aad[12] = {
	0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41, 0xf8, 0xd3, 0x55, 0x01, 0xa0, 0xb2,
};
static const uint8_t gcm_pt[38] = {
	0x47, 0x61, 0x6c, 0x6c, 0x69, 0x61, 0x20, 0x65, 0x73, 0x74, 0x20, 0x6f, 0x6d, 0x6e, 0x69, 0x73,
	0x20, 0x64, 0x69, 0x76, 0x69, 0x73, 0x61, 0x20, 0x69, 0x6e, 0x20, 0x70, 0x61, 0x72, 0x74, 0x65,
	0x73, 0x20, 0x74, 0x72, 0x65, 0x73,
};
static const uint8_t gcm128_ct[54] = {
	0xf2, 0x4d, 0xe3, 0xa3, 0xfb, 0x34, 0xde, 0x6c, 0xac, 0xba, 0x86, 0x1c, 0x9d, 0x7e, 0x4b, 0xca,
	0xbe, 0x63, 0x3b, 0xd5, 0x0d, 0x29, 0x4e, 0x6f, 0x42, 0xa5, 0xf4, 0x7a, 0x51, 0xc7, 0xd1, 0x9b,
	0x36, 0xde, 0x3a, 0xdf, 0x88, 0x33, 0x89, 0x9d, 0x7f, 0x27, 0xbe, 0xb1, 0x6a, 0x91, 0x52, 0xcf,
	0x76, 0x5e, 0xe4, 0x39, 0x0c, 0xce,
};
static const uint8_t gcm256_ct[54] = {
	0x32, 0xb1, 0xde, 0x78, 0xa8, 0x22, 0xfe, 0x12, 0xef, 0x9f, 0x78, 0xfa, 0x33, 0x2e, 0x33, 0xaa,
	0xb1, 0x80, 0x12, 0x38, 0x9a, 0x58, 0xe2, 0xf3, 0xb5, 0x0b, 0x2a, 0x02, 0x76, 0xff, 0xae, 0x0f,
	0x1b, 0xa6, 0x37, 0x99, 0xb8, 0x7b, 0x7a, 0xa3, 0xdb, 0x36, 0xdf, 0xff, 0xd6, 0xb0, 0xf9, 0xbb,
	0x78, 0x78, 0xd7, 0xa7, 0x6c, 0x13,
};

/* RFC 2202 s3 test case 1: HMAC-SHA1. */
static const uint8_t hmac_key[20] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b,
};
static const uint8_t hmac_data[8] = {
	0x48, 0x69, 0x20, 0x54, 0x68, 0x65, 0x72, 0x65,
};
static const uint8_t hmac_tag[20] = {
	0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e,
	0xf1, 0x46, 0xbe, 0x00,
};
/* clang-format on */

static const srtp_cipher_test_case_t icm128_test = {
        .key_length_octets = sizeof(icm128_key),
        .key = icm128_key,
        .idx = icm_zero_iv,
        .plaintext_length_octets = sizeof(icm_zero_pt),
        .plaintext = icm_zero_pt,
        .ciphertext_length_octets = sizeof(icm128_ks),
        .ciphertext = icm128_ks,
};

static const srtp_cipher_test_case_t icm192_test = {
        .key_length_octets = sizeof(icm192_key),
        .key = icm192_key,
        .idx = icm_zero_iv,
        .plaintext_length_octets = sizeof(icm_zero_pt),
        .plaintext = icm_zero_pt,
        .ciphertext_length_octets = sizeof(icm192_ks),
        .ciphertext = icm192_ks,
};

static const srtp_cipher_test_case_t icm256_test = {
        .key_length_octets = sizeof(icm256_key),
        .key = icm256_key,
        .idx = icm_zero_iv,
        .plaintext_length_octets = sizeof(icm_zero_pt),
        .plaintext = icm_zero_pt,
        .ciphertext_length_octets = sizeof(icm256_ks),
        .ciphertext = icm256_ks,
};

static const srtp_cipher_test_case_t gcm128_test = {
        .key_length_octets = sizeof(gcm128_key),
        .key = gcm128_key,
        .idx = gcm_iv,
        .plaintext_length_octets = sizeof(gcm_pt),
        .plaintext = gcm_pt,
        .ciphertext_length_octets = sizeof(gcm128_ct),
        .ciphertext = gcm128_ct,
        .aad_length_octets = sizeof(gcm_aad),
        .aad = gcm_aad,
        .tag_length_octets = GCM_TAG_MAX,
};

static const srtp_cipher_test_case_t gcm256_test = {
        .key_length_octets = sizeof(gcm256_key),
        .key = gcm256_key,
        .idx = gcm_iv,
        .plaintext_length_octets = sizeof(gcm_pt),
        .plaintext = gcm_pt,
        .ciphertext_length_octets = sizeof(gcm256_ct),
        .ciphertext = gcm256_ct,
        .aad_length_octets = sizeof(gcm_aad),
        .aad = gcm_aad,
        .tag_length_octets = GCM_TAG_MAX,
};

static const srtp_auth_test_case_t hmac_test = {
        .key_length_octets = sizeof(hmac_key),
        .key = hmac_key,
        .data_length_octets = sizeof(hmac_data),
        .data = hmac_data,
        .tag_length_octets = sizeof(hmac_tag),
        .tag = hmac_tag,
};

/* ------------------------------------------------------------ descriptors ---- */

/* One descriptor per id: libsrtp refuses a descriptor registered under two ids. */
static const srtp_cipher_type_t icm_types[3] = {
        {
                .alloc = icm128_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-128 counter mode (OpenSSL)",
                .test_data = &icm128_test,
                .id = SRTP_AES_ICM_128,
        },
        {
                .alloc = icm192_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-192 counter mode (OpenSSL)",
                .test_data = &icm192_test,
                .id = SRTP_AES_ICM_192,
        },
        {
                .alloc = icm256_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-256 counter mode (OpenSSL)",
                .test_data = &icm256_test,
                .id = SRTP_AES_ICM_256,
        },
};

static const srtp_cipher_type_t gcm_types[2] = {
        {
                .alloc = gcm128_alloc,
                .dealloc = gcm_dealloc,
                .init = gcm_init,
                .set_aad = gcm_set_aad,
                .encrypt = gcm_encrypt,
                .decrypt = gcm_decrypt,
                .set_iv = gcm_set_iv,
                .get_tag = gcm_get_tag,
                .description = "AES-128 GCM (OpenSSL)",
                .test_data = &gcm128_test,
                .id = SRTP_AES_GCM_128,
        },
        {
                .alloc = gcm256_alloc,
                .dealloc = gcm_dealloc,
                .init = gcm_init,
                .set_aad = gcm_set_aad,
                .encrypt = gcm_encrypt,
                .decrypt = gcm_decrypt,
                .set_iv = gcm_set_iv,
                .get_tag = gcm_get_tag,
                .description = "AES-256 GCM (OpenSSL)",
                .test_data = &gcm256_test,
                .id = SRTP_AES_GCM_256,
        },
};

static const srtp_auth_type_t hmac_type = {
        .alloc = hmac_alloc,
        .dealloc = hmac_dealloc,
        .init = hmac_init,
        .compute = hmac_compute,
        .update = hmac_update,
        .start = hmac_start,
        .description = "HMAC-SHA1 (OpenSSL)",
        .test_data = &hmac_test,
        .id = SRTP_HMAC_SHA1,
};

/* ---------------------------------------------------------------- install ---- */

static int
fetch_all(void)
{
	static const char *const ctr_names[3] = {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"};
	static const char *const gcm_names[2] = {"AES-128-GCM", "AES-256-GCM"};

	for (size_t i = 0; i < 3; i++)
		if (evp_ctr[i] == NULL &&
		    (evp_ctr[i] = EVP_CIPHER_fetch(NULL, ctr_names[i], NULL)) == NULL)
			goto fail;
	for (size_t i = 0; i < 2; i++)
		if (evp_gcm[i] == NULL &&
		    (evp_gcm[i] = EVP_CIPHER_fetch(NULL, gcm_names[i], NULL)) == NULL)
			goto fail;
	if (evp_hmac == NULL && (evp_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -EIO;
}

int
srtp_ossl_install(void)
{
	/* ICM first: the key derivation of every suite runs on it. */
	static const srtp_cipher_type_t *const order[] = {
	        &icm_types[0], &icm_types[2], &icm_types[1], &gcm_types[0], &gcm_types[1],
	};

	if (srtp_ossl_installed())
		return 0;
	/* Before srtp_init() the list is empty: a type added now would make srtp_init() fail. */
	if (srtp_crypto_kernel_get_cipher_type(SRTP_AES_ICM_128) == NULL ||
	    srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) == NULL)
		return -EIO;
	if (fetch_all() < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (srtp_crypto_kernel_get_cipher_type(order[i]->id) == order[i])
			continue;
		if (srtp_replace_cipher_type(order[i], order[i]->id) != srtp_err_status_ok) {
			ERR_clear_error();
			return -EIO;
		}
	}
	if (srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) != &hmac_type &&
	    srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) != srtp_err_status_ok) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

bool
srtp_ossl_installed(void)
{
	for (size_t i = 0; i < 3; i++)
		if (srtp_crypto_kernel_get_cipher_type(icm_types[i].id) != &icm_types[i])
			return false;
	for (size_t i = 0; i < 2; i++)
		if (srtp_crypto_kernel_get_cipher_type(gcm_types[i].id) != &gcm_types[i])
			return false;
	return srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) == &hmac_type;
}

const srtp_cipher_type_t *
srtp_ossl_cipher_type(srtp_cipher_type_id_t id)
{
	switch (id) {
	case SRTP_AES_ICM_128:
		return &icm_types[0];
	case SRTP_AES_ICM_192:
		return &icm_types[1];
	case SRTP_AES_ICM_256:
		return &icm_types[2];
	case SRTP_AES_GCM_128:
		return &gcm_types[0];
	case SRTP_AES_GCM_256:
		return &gcm_types[1];
	default:
		return NULL;
	}
}

const srtp_auth_type_t *
srtp_ossl_auth_type(void)
{
	return &hmac_type;
}
