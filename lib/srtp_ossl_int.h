/*
 * srtp_ossl_int.h: between srtp_ossl.c, srtp_ossl_gcm.c and srtp_ossl_vectors.c only. The
 * self-test vectors of each OpenSSL-backed type, as libsrtp's test-case lists; the GCM
 * types and their algorithms (fetched by srtp_ossl_install()); the error helper.
 */
#ifndef SW_SRTP_OSSL_INT_H
#define SW_SRTP_OSSL_INT_H

#include <openssl/evp.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

extern const srtp_cipher_test_case_t srtp_ossl_vec_icm128, srtp_ossl_vec_icm192,
        srtp_ossl_vec_icm256, srtp_ossl_vec_gcm128, srtp_ossl_vec_gcm256;
extern const srtp_auth_test_case_t srtp_ossl_vec_hmac;

/* srtp_ossl_gcm.c: AES-128-GCM and AES-256-GCM, [0] and [1]; the algorithms are written
 * only by srtp_ossl_install() before the first registration, read-only afterwards */
extern const srtp_cipher_type_t srtp_ossl_gcm_types[2];
extern EVP_CIPHER *srtp_ossl_gcm_evp[2];

/* Clear the thread's OpenSSL error queue and return `st` (every OpenSSL failure goes
 * through it, so a later SSL_get_error() on the thread reads no stale error). */
srtp_err_status_t srtp_ossl_fail(srtp_err_status_t st);

#endif
