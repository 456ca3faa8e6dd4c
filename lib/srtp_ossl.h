/*
 * srtp_ossl.h: OpenSSL-backed cipher and auth types for libsrtp2.
 *
 * Debian's libsrtp2 computes with NSS, several times slower than OpenSSL. This module
 * registers OpenSSL EVP implementations of AES-ICM (128/192/256), AES-GCM (128/256) and
 * HMAC-SHA1 with srtp_replace_cipher_type()/srtp_replace_auth_type(), so libsrtp2 keeps
 * the protocol (key derivation, ROC, replay, SRTCP) and OpenSSL does the math. Not
 * responsible for SRTP policy or sessions (srtp_leg.h).
 *
 * Rules of use: call srtp_ossl_install() after srtp_init() and before the first
 * srtp_create(), from one thread, before other threads touch libsrtp (it edits libsrtp's
 * global type list). Streams created before the install keep NSS. srtp_shutdown() followed
 * by srtp_init() brings NSS back: install again.
 *
 * AES-192: the cipher type is registered and is correct (RFC 6188 s7.3), but libsrtp 2.5's
 * key derivation for 192-bit master keys runs AES-256 over a padded key, so AES_192_CM_*
 * suites disagree with RFC 6188 whatever the backend. Never offer them.
 */
#ifndef SW_SRTP_OSSL_H
#define SW_SRTP_OSSL_H

#include <stdbool.h>

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/*
 * Fetch the OpenSSL algorithms (once per process) and register the OpenSSL types for
 * SRTP_AES_ICM_128/192/256, SRTP_AES_GCM_128/256 and SRTP_HMAC_SHA1. Each registration
 * runs libsrtp's self-test (our vectors, the replaced type's vectors, then random round
 * trips drawn from rand()). Idempotent: returns 0 at once when already installed.
 * Returns 0, or -EIO if OpenSSL lacks an algorithm or libsrtp refused a type (libsrtp
 * not initialised, self-test failed); types registered before the failure stay in place
 * (they compute the same bytes as NSS).
 */
int srtp_ossl_install(void);

/* True when every type this module provides is the one libsrtp currently uses. */
bool srtp_ossl_installed(void);

/*
 * The OpenSSL cipher type this module provides for `id` (one of the ids above), for tests
 * that drive it through the srtp_cipher_* API; NULL for any other id. Static storage;
 * usable only after a successful srtp_ossl_install() (which fetches the algorithms).
 */
const srtp_cipher_type_t *srtp_ossl_cipher_type(srtp_cipher_type_id_t id);

/* The OpenSSL HMAC-SHA1 auth type (static storage). */
const srtp_auth_type_t *srtp_ossl_auth_type(void);

/*
 * Make the calling thread's AES-CTR contexts now (AES-ICM objects compute on their
 * thread's contexts, which are otherwise made on the thread's first use: an allocation).
 * A media worker calls it when it starts, so its packet path never allocates. They are
 * freed when the thread exits. Harmless before srtp_ossl_install() (does nothing).
 * Returns 0 or -ENOMEM.
 */
int srtp_ossl_thread_init(void);

/*
 * Wipe whatever key schedule or HMAC state of any session the calling thread's contexts
 * hold: a media worker does before it hands sessions to another thread to free (their
 * srtp_dealloc there wipes that thread's contexts only). Cheap when they hold none.
 */
void srtp_ossl_thread_forget(void);

#endif
