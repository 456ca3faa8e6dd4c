/*
 * srtp_ossl_gcm.c: the OpenSSL AES-GCM cipher types (128 and 256) for libsrtp2, registered
 * by srtp_ossl.c. Each object keeps its own EVP context (its GHASH tables), created in
 * alloc() and keyed in init(); a packet costs an IV set and the EVP calls, no allocation.
 * A failed decryption never leaves unauthenticated plaintext in the caller's buffer.
 * Not responsible for registration, the algorithms' fetch (srtp_ossl.c) or the AES-ICM
 * and HMAC-SHA1 types (srtp_ossl.c).
 */
#include "srtp_ossl_int.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <srtp2/crypto_types.h>

#define GCM_IV_LEN  12
#define GCM_TAG_MAX 16

EVP_CIPHER *srtp_ossl_gcm_evp[2];

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

static srtp_err_status_t
gcm_alloc(const srtp_cipher_type_t *type, srtp_cipher_t **cp, int key_len, int tag_len)
{
	struct gcm *s;
	int want = type == &srtp_ossl_gcm_types[0] ? SRTP_AES_GCM_128_KEY_LEN_WSALT
	                                           : SRTP_AES_GCM_256_KEY_LEN_WSALT;

	if (key_len != want || (tag_len != 8 && tag_len != GCM_TAG_MAX))
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return srtp_ossl_fail(srtp_err_status_alloc_fail);
	if ((s->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		OPENSSL_free(s);
		return srtp_ossl_fail(srtp_err_status_alloc_fail);
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
	return gcm_alloc(&srtp_ossl_gcm_types[0], cp, key_len, tag_len);
}

static srtp_err_status_t
gcm256_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	return gcm_alloc(&srtp_ossl_gcm_types[1], cp, key_len, tag_len);
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
	EVP_CIPHER *evp = srtp_ossl_gcm_evp[s->c.type == &srtp_ossl_gcm_types[0] ? 0 : 1];

	s->dir = -1;
	if (!EVP_CipherInit_ex2(s->ctx, evp, key, NULL, 1, NULL))
		return srtp_ossl_fail(srtp_err_status_init_fail);
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
		return srtp_ossl_fail(srtp_err_status_init_fail);
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
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
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
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
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
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
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
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
	if (n > 0 && (!EVP_DecryptUpdate(s->ctx, buf, &outl, buf, n) || outl != n)) {
		/* cannot tell how much was written: hide it */
		OPENSSL_cleanse(buf, (size_t)n);
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
	}
	if (EVP_DecryptFinal_ex(s->ctx, none, &outl) == 1) {
		*len = (unsigned int)n;
		return srtp_err_status_ok;
	}
	if (n > 0 && (!EVP_CipherInit_ex2(s->ctx, NULL, NULL, s->iv, 1, NULL) ||
	              !EVP_EncryptUpdate(s->ctx, buf, &outl, buf, n) || outl != n))
		OPENSSL_cleanse(buf, (size_t)n); /* could not restore: hide it */
	return srtp_ossl_fail(srtp_err_status_auth_fail);
}

const srtp_cipher_type_t srtp_ossl_gcm_types[2] = {
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
                .test_data = &srtp_ossl_vec_gcm128,
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
                .test_data = &srtp_ossl_vec_gcm256,
                .id = SRTP_AES_GCM_256,
        },
};
