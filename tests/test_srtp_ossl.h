/*
 * test_srtp_ossl.h: what the files of the srtp_ossl unit test (test_srtp_ossl.c,
 * test_srtp_ossl_vectors.c: one Check suite, "srtp_ossl") share: test data, libsrtp
 * set-up, the suites under test and sessions of them. Test code only.
 */
#ifndef SW_TEST_SRTP_OSSL_H
#define SW_TEST_SRTP_OSSL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <srtp2/srtp.h>

/* The suites under test and how libsrtp spells them. */
struct suite_case {
	const char *name;
	void (*rtp)(srtp_crypto_policy_t *);
	void (*rtcp)(srtp_crypto_policy_t *);
	int key_len; /* master key || salt */
	bool aead;
};

/* tests/data/srtp/<name> as a new NUL-terminated string (free()). */
char *load_file(const char *name);
/*
 * Hex value of `field` in the section whose "## " heading starts with `section` (NULL:
 * the whole file). Writes at most `cap` octets to out, returns the count; fails the test
 * when the field is missing.
 */
size_t field(const char *text, const char *section, const char *name, uint8_t *out, size_t cap);
/* srtp_init() and srtp_ossl_install(), checked; the test calls srtp_shutdown(). */
void setup_installed(void);
/* A session of `sc` with key (master key || salt), for sending or for receiving. */
srtp_t session(const struct suite_case *sc, const uint8_t *key, bool outbound);
/* The suite under test called `name`; the test fails when there is none. */
const struct suite_case *suite_named(const char *name);

/* Adds test_srtp_ossl_vectors.c's tests to the "vectors" test case. */
void srtp_ossl_vector_tests(TCase *tv);

#endif
