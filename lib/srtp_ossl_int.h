/*
 * srtp_ossl_int.h: between srtp_ossl.c and srtp_ossl_vectors.c only. The self-test
 * vectors of each OpenSSL-backed type, as libsrtp's test-case lists.
 */
#ifndef SW_SRTP_OSSL_INT_H
#define SW_SRTP_OSSL_INT_H

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

extern const srtp_cipher_test_case_t srtp_ossl_vec_icm128, srtp_ossl_vec_icm192,
        srtp_ossl_vec_icm256, srtp_ossl_vec_gcm128, srtp_ossl_vec_gcm256;
extern const srtp_auth_test_case_t srtp_ossl_vec_hmac;

#endif
