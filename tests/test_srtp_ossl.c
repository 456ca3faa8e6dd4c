/*
 * test_srtp_ossl.c: the OpenSSL cipher/auth types inside libsrtp2 compute what the RFCs
 * and libsrtp's own (NSS) types compute, byte for byte.
 *
 * Vectors: tests/data/srtp/ (RFC 3711 B.2/B.3, RFC 6188 s7, RFC 7714 s16/s17, libsrtp's
 * whole-packet vectors). Cross-check: one process holds both backends only because of
 * libsrtp's install-order rule — a stream keeps the cipher/auth objects it was created
 * with, so sessions created after srtp_init() and BEFORE srtp_ossl_install() compute with
 * NSS for their whole life, and sessions created after the install compute with OpenSSL.
 * Each test runs srtp_init() ... srtp_shutdown() itself, so tests do not share libsrtp
 * state even when Check does not fork.
 * One Check suite in two files: this one has the helpers (test_srtp_ossl.h), install,
 * HMAC, the cross-check and the suite; test_srtp_ossl_vectors.c the RFC and libsrtp
 * vectors.
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <srtp2/srtp.h>

#include "srtp_ossl.h"
#include "test_srtp_ossl.h"

/* ------------------------------------------------------------ helpers ---- */

char *
load_file(const char *name)
{
	const char *dir = getenv("SW_TESTDATA");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/data/srtp/%s", dir ? dir : "tests", name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

size_t
field(const char *text, const char *section, const char *name, uint8_t *out, size_t cap)
{
	const char *p = text, *end;
	char key[64];
	size_t n = 0;

	if (section != NULL) {
		char hdr[128];

		snprintf(hdr, sizeof(hdr), "\n## %s", section);
		p = strstr(text, hdr);
		ck_assert_msg(p != NULL, "no section %s", section);
		p += 1;
		end = strstr(p + 3, "\n## ");
	} else {
		end = NULL;
	}
	if (end == NULL)
		end = text + strlen(text);
	snprintf(key, sizeof(key), "\n%s: ", name);
	p = strstr(p, key);
	ck_assert_msg(p != NULL && p < end, "no field %s in %s", name, section ? section : "file");
	p += strlen(key);
	while (p[0] != '\0' && p[1] != '\0' && strchr("0123456789abcdef", p[0]) &&
	       strchr("0123456789abcdef", p[1])) {
		unsigned int v;

		ck_assert_uint_lt(n, cap);
		sscanf(p, "%2x", &v);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	ck_assert_uint_gt(n, 0);
	return n;
}

static void
init_libsrtp(void)
{
	ck_assert_int_eq(srtp_init(), srtp_err_status_ok);
}

void
setup_installed(void)
{
	init_libsrtp();
	ck_assert_int_eq(srtp_ossl_install(), 0);
	ck_assert(srtp_ossl_installed());
}

/* splitmix64: our own seeded PRNG (rand() is consumed by libsrtp's self-tests). */
struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

static void
rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

static const struct suite_case suites[] = {
        {"AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default,
         srtp_crypto_policy_set_rtp_default, 30, false},
        {"AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
         srtp_crypto_policy_set_rtp_default, 30, false},
        {"AES_256_CM_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46, false},
        {"AES_256_CM_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46, false},
        {"AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
         srtp_crypto_policy_set_aes_gcm_128_16_auth, 28, true},
        {"AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
         srtp_crypto_policy_set_aes_gcm_256_16_auth, 44, true},
        /* Not usable (libsrtp 2.5 derives AES-192 keys wrongly), but both backends must
         * still agree: the wrong derivation is libsrtp's, not the cipher's. */
        {"AES_192_CM_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80,
         srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80, 38, false},
        /* 8-octet GCM tags (libsrtp's _8 policies): not offered by sipwarden, must agree too. */
        {"AEAD_AES_128_GCM_8", srtp_crypto_policy_set_aes_gcm_128_8_auth,
         srtp_crypto_policy_set_aes_gcm_128_8_auth, 28, true},
};

srtp_t
session(const struct suite_case *sc, const uint8_t *key, bool outbound)
{
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	sc->rtp(&pol.rtp);
	sc->rtcp(&pol.rtcp);
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.key = (unsigned char *)key;
	pol.window_size = 1024;
	ck_assert_int_eq(srtp_create(&s, &pol), srtp_err_status_ok);
	return s;
}

const struct suite_case *
suite_named(const char *name)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suites[i].name, name) == 0)
			return &suites[i];
	ck_abort_msg("no suite %s", name);
	return NULL;
}

/* ------------------------------------------------------------ install ---- */

START_TEST(install_is_idempotent_and_detected)
{
	init_libsrtp();
	ck_assert(!srtp_ossl_installed());
	ck_assert_int_eq(srtp_ossl_install(), 0);
	ck_assert(srtp_ossl_installed());
	ck_assert_int_eq(srtp_ossl_install(), 0);
	ck_assert(srtp_ossl_installed());
	srtp_shutdown();
}
END_TEST

START_TEST(reinit_brings_nss_back_until_installed_again)
{
	setup_installed();
	srtp_shutdown();
	init_libsrtp();
	ck_assert(!srtp_ossl_installed());
	ck_assert_int_eq(srtp_ossl_install(), 0);
	ck_assert(srtp_ossl_installed());
	srtp_shutdown();
}
END_TEST

START_TEST(install_before_srtp_init_is_refused_and_harmless)
{
	ck_assert_int_eq(srtp_ossl_install(), -EIO);
	init_libsrtp(); /* would fail had a type been added to the empty list */
	ck_assert(!srtp_ossl_installed());
	srtp_shutdown();
}
END_TEST

START_TEST(types_reject_key_lengths_of_other_ids)
{
	srtp_cipher_t *c = NULL;

	setup_installed();
	ck_assert_int_ne(srtp_cipher_type_alloc(srtp_ossl_cipher_type(SRTP_AES_ICM_128), &c,
	                                        SRTP_AES_ICM_256_KEY_LEN_WSALT, 0),
	                 srtp_err_status_ok);
	ck_assert_int_ne(srtp_cipher_type_alloc(srtp_ossl_cipher_type(SRTP_AES_GCM_128), &c,
	                                        SRTP_AES_GCM_128_KEY_LEN_WSALT, 12),
	                 srtp_err_status_ok);
	ck_assert_int_ne(srtp_cipher_type_alloc(srtp_ossl_cipher_type(SRTP_AES_GCM_256), &c,
	                                        SRTP_AES_GCM_128_KEY_LEN_WSALT, 16),
	                 srtp_err_status_ok);
	ck_assert_ptr_null(srtp_ossl_cipher_type(0));
	srtp_shutdown();
}
END_TEST

/* ------------------------------------------------------------- HMAC type ---- */

START_TEST(hmac_type_is_ready_after_init_and_restarts_per_message)
{
	/* RFC 2202 test case 2 */
	static const uint8_t key[] = "Jefe";
	static const uint8_t data[] = "what do ya want for nothing?";
	static const uint8_t want[20] = {0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f,
	                                 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
	                                 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79};
	const srtp_auth_type_t *at;
	srtp_auth_t *a = NULL;
	uint8_t tag[20];

	setup_installed();
	at = srtp_ossl_auth_type();
	ck_assert_int_eq(srtp_auth_type_alloc(at, &a, 4, 10), srtp_err_status_ok);
	ck_assert_int_eq(a->prefix_len, 0);
	ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);
	/* no start(): libsrtp's self-test computes right after init() */
	ck_assert_int_eq(srtp_auth_compute(a, data, 28, tag), srtp_err_status_ok);
	ck_assert(memcmp(tag, want, 10) == 0);
	/* start, update(part), compute(rest) as srtp.c does for SRTP */
	memset(tag, 0, sizeof(tag));
	ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_update(a, data, 11), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_compute(a, data + 11, 17, tag), srtp_err_status_ok);
	ck_assert(memcmp(tag, want, 10) == 0);
	/* a different message gives a different tag */
	ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_compute(a, data, 27, tag), srtp_err_status_ok);
	ck_assert(memcmp(tag, want, 10) != 0);
	ck_assert_int_eq(srtp_auth_dealloc(a), srtp_err_status_ok);
	ck_assert_int_ne(srtp_auth_type_alloc(at, &a, 21, 10), srtp_err_status_ok);
	srtp_shutdown();
}
END_TEST

/*
 * srtp_ossl_thread_forget() (a media worker, before it hands sessions to another thread to
 * free) wipes the thread's cached key schedule and HMAC state; the objects still in use
 * re-key from their own state on their next packet: the same keystream and tag as before.
 */
START_TEST(thread_forget_leaves_live_objects_working)
{
	static const uint8_t data[] = "what do ya want for nothing?";
	uint8_t key[30], iv[16] = {0}, ks1[32] = {0}, ks2[32] = {0}, tag1[10], tag2[10];
	srtp_cipher_t *c = NULL;
	srtp_auth_t *a = NULL;
	uint32_t len = sizeof(ks1);

	setup_installed();
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(srtp_cipher_type_alloc(srtp_ossl_cipher_type(SRTP_AES_ICM_128), &c, 30, 0),
	                 srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_type_alloc(srtp_ossl_auth_type(), &a, 20, 10),
	                 srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);

	ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_encrypt(c, ks1, &len), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_compute(a, data, 28, tag1), srtp_err_status_ok);

	srtp_ossl_thread_forget();
	srtp_ossl_thread_forget(); /* twice: nothing left to wipe */

	len = sizeof(ks2);
	ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_encrypt(c, ks2, &len), srtp_err_status_ok);
	ck_assert(memcmp(ks1, ks2, sizeof(ks1)) == 0);
	ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_compute(a, data, 28, tag2), srtp_err_status_ok);
	ck_assert(memcmp(tag1, tag2, sizeof(tag1)) == 0);
	ck_assert_int_eq(srtp_cipher_dealloc(c), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_dealloc(a), srtp_err_status_ok);
	srtp_shutdown();
}
END_TEST

/*
 * Every SRTP session holds two HMAC objects (RTP, RTCP), four sessions a call: keyed,
 * one costs at most HMAC_OBJECT_BUDGET heap bytes (glibc's chunk overhead included).
 * OpenSSL's EVP_MAC HMAC took about 800 in seven allocations (issue 12: memory per call).
 */
#define HMAC_OBJECT_BUDGET 512
#define HMAC_OBJECTS       16

START_TEST(hmac_object_keyed_fits_its_budget)
{
	static const uint8_t key[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
	const srtp_auth_type_t *at;
	srtp_auth_t *a[HMAC_OBJECTS];
	uint8_t tag[20];

	setup_installed();
	at = srtp_ossl_auth_type();
	/* one object first: OpenSSL's first-use caches are not the object's */
	ck_assert_int_eq(srtp_auth_type_alloc(at, &a[0], 20, 10), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_init(a[0], key), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_compute(a[0], key, 20, tag), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_dealloc(a[0]), srtp_err_status_ok);

	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < HMAC_OBJECTS; i++) {
		ck_assert_int_eq(srtp_auth_type_alloc(at, &a[i], 20, 10), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_init(a[i], key), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_start(a[i]), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_compute(a[i], key, 20, tag), srtp_err_status_ok);
	}
	size_t per = (mallinfo2().uordblks - before) / HMAC_OBJECTS;
	ck_assert_msg(per <= HMAC_OBJECT_BUDGET, "a keyed HMAC object takes %zu heap bytes", per);
	for (int i = 0; i < HMAC_OBJECTS; i++)
		ck_assert_int_eq(srtp_auth_dealloc(a[i]), srtp_err_status_ok);
	srtp_shutdown();
}
END_TEST

/* --------------------------------------------- cross-check against NSS ---- */

#define RTP_PACKETS  5000
#define RTCP_PACKETS 1000
#define NSSRC        3
#define PKT_MAX      (1400 + SRTP_MAX_TRAILER_LEN)

struct legs {
	srtp_t nss_tx, nss_rx, ossl_tx, ossl_rx;
};

/* Random RTP: CSRCs, a header extension, 12..1200 octets of payload. */
static size_t
make_rtp(struct rng *r, uint8_t *p, uint32_t ssrc, uint16_t seq, size_t *hdr_len)
{
	unsigned int cc = rng_below(r, 3) == 0 ? rng_below(r, 16) : 0;
	bool x = rng_below(r, 3) == 0;
	size_t n = 12, pay = 12 + rng_below(r, 1189);

	p[0] = (uint8_t)(0x80 | (x ? 0x10 : 0) | cc);
	p[1] = (uint8_t)((rng_below(r, 2) << 7) | rng_below(r, 128));
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	rng_fill(r, p + 4, 4);
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	rng_fill(r, p + n, 4 * cc);
	n += 4 * cc;
	if (x) {
		unsigned int words = rng_below(r, 6);

		p[n] = 0xbe;
		p[n + 1] = 0xde;
		p[n + 2] = 0;
		p[n + 3] = (uint8_t)words;
		rng_fill(r, p + n + 4, 4 * words);
		n += 4 + 4 * words;
	}
	*hdr_len = n;
	rng_fill(r, p + n, pay);
	return n + pay;
}

/* Random RTCP compound-ish packet: V=2, PT 200..204, a whole number of 32-bit words. */
static size_t
make_rtcp(struct rng *r, uint8_t *p, uint32_t ssrc)
{
	size_t words = 1 + rng_below(r, 300);
	size_t n = 8 + 4 * words;

	p[0] = (uint8_t)(0x80 | rng_below(r, 4));
	p[1] = (uint8_t)(200 + rng_below(r, 5));
	p[2] = (uint8_t)((n / 4 - 1) >> 8);
	p[3] = (uint8_t)(n / 4 - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	rng_fill(r, p + 8, 4 * words);
	return n;
}

/*
 * A copy of `prot` with one bit flipped in the payload or the tag (never in the header,
 * which would name another stream, nor in the SRTCP index, which the replay check sees
 * first) must fail with auth_fail under both receivers and, under ours, come back
 * unchanged.
 */
static void
check_tampered(struct legs *l, struct rng *r, const uint8_t *prot, int len, size_t keep,
               size_t plain_n, bool rtcp, bool aead)
{
	uint8_t t[PKT_MAX], a[PKT_MAX], b[PKT_MAX];
	size_t pos;
	int la = len, lb = len;

	if (!rtcp) {
		pos = keep + rng_below(r, (uint32_t)((size_t)len - keep));
	} else if (rng_below(r, 2) == 0) {
		pos = keep + rng_below(r, (uint32_t)(plain_n - keep)); /* encrypted payload */
	} else {
		/* SRTCP tag: ICM puts it last, GCM before the E||index word */
		size_t tag = aead ? 16 : 10, tag_end = (size_t)len - (aead ? 4 : 0);

		pos = tag_end - tag + rng_below(r, (uint32_t)tag);
	}

	memcpy(t, prot, (size_t)len);
	t[pos] ^= (uint8_t)(1u << rng_below(r, 8));
	memcpy(a, t, (size_t)len);
	memcpy(b, t, (size_t)len);
	if (rtcp) {
		ck_assert_int_eq(srtp_unprotect_rtcp(l->ossl_rx, a, &la),
		                 srtp_err_status_auth_fail);
		ck_assert_int_eq(srtp_unprotect_rtcp(l->nss_rx, b, &lb), srtp_err_status_auth_fail);
	} else {
		ck_assert_int_eq(srtp_unprotect(l->ossl_rx, a, &la), srtp_err_status_auth_fail);
		ck_assert_int_eq(srtp_unprotect(l->nss_rx, b, &lb), srtp_err_status_auth_fail);
	}
	ck_assert_int_eq(la, len);
	ck_assert_msg(memcmp(a, t, (size_t)len) == 0, "failed unprotect changed the buffer");
	ck_assert_uint_eq(ERR_peek_error(), 0);
}

/*
 * Protects the same packet with both transmitters (outputs must be equal), feeds a tampered
 * copy to both receivers, then each backend's output to the other backend's receiver.
 */
static void
cross_one(struct legs *l, struct rng *r, const uint8_t *plain, size_t n, size_t keep, bool rtcp,
          bool aead, bool tamper)
{
	uint8_t a[PKT_MAX], b[PKT_MAX];
	int la = (int)n, lb = (int)n;
	srtp_err_status_t sa, sb;

	memcpy(a, plain, n);
	memcpy(b, plain, n);
	sa = rtcp ? srtp_protect_rtcp(l->nss_tx, a, &la) : srtp_protect(l->nss_tx, a, &la);
	sb = rtcp ? srtp_protect_rtcp(l->ossl_tx, b, &lb) : srtp_protect(l->ossl_tx, b, &lb);
	ck_assert_int_eq(sa, srtp_err_status_ok);
	ck_assert_int_eq(sb, srtp_err_status_ok);
	ck_assert_int_eq(la, lb);
	ck_assert_msg(memcmp(a, b, (size_t)la) == 0, "NSS and OpenSSL outputs differ");
	if (tamper)
		check_tampered(l, r, a, la, keep, n, rtcp, aead);
	sa = rtcp ? srtp_unprotect_rtcp(l->ossl_rx, a, &la) : srtp_unprotect(l->ossl_rx, a, &la);
	sb = rtcp ? srtp_unprotect_rtcp(l->nss_rx, b, &lb) : srtp_unprotect(l->nss_rx, b, &lb);
	ck_assert_int_eq(sa, srtp_err_status_ok);
	ck_assert_int_eq(sb, srtp_err_status_ok);
	ck_assert_int_eq(la, (int)n);
	ck_assert_int_eq(lb, (int)n);
	ck_assert(memcmp(a, plain, n) == 0);
	ck_assert(memcmp(b, plain, n) == 0);
}

static void
cross_check_suite(const struct suite_case *sc, uint64_t seed, int rtp_packets, int rtcp_packets)
{
	struct rng r = {seed};
	struct legs l;
	uint8_t key[64], plain[PKT_MAX];
	uint32_t ssrc[NSSRC];
	uint16_t seq[NSSRC];
	int rtcp_sent = 0;

	rng_fill(&r, key, (size_t)sc->key_len);
	for (int i = 0; i < NSSRC; i++) {
		ssrc[i] = (uint32_t)rng_next(&r);
		seq[i] = (uint16_t)(65535 - rng_below(&r, 400)); /* wraps early: ROC becomes 1 */
	}

	/* Install order is what puts both backends in one process: NSS sessions first. */
	init_libsrtp();
	ck_assert(!srtp_ossl_installed());
	l.nss_tx = session(sc, key, true);
	l.nss_rx = session(sc, key, false);
	ck_assert_int_eq(srtp_ossl_install(), 0);
	l.ossl_tx = session(sc, key, true);
	l.ossl_rx = session(sc, key, false);

	for (int i = 0; i < rtp_packets; i++) {
		int k = (int)rng_below(&r, NSSRC);
		size_t hdr, n;

		seq[k] = (uint16_t)(seq[k] + 1 + (rng_below(&r, 8) == 0 ? rng_below(&r, 5) : 0));
		n = make_rtp(&r, plain, ssrc[k], seq[k], &hdr);
		cross_one(&l, &r, plain, n, hdr, false, sc->aead, i % 7 == 3);
		if (rtcp_sent < rtcp_packets && i % (rtp_packets / rtcp_packets) == 0) {
			n = make_rtcp(&r, plain, ssrc[rng_below(&r, NSSRC)]);
			cross_one(&l, &r, plain, n, 8, true, sc->aead, rtcp_sent % 5 == 2);
			rtcp_sent++;
		}
	}
	ck_assert_int_eq(rtcp_sent, rtcp_packets);
	for (int i = 0; i < NSSRC; i++) {
		uint32_t roc_n = 0, roc_o = 0;

		ck_assert_int_eq(srtp_get_stream_roc(l.nss_tx, ssrc[i], &roc_n),
		                 srtp_err_status_ok);
		ck_assert_int_eq(srtp_get_stream_roc(l.ossl_rx, ssrc[i], &roc_o),
		                 srtp_err_status_ok);
		ck_assert_uint_eq(roc_n, 1);
		ck_assert_uint_eq(roc_o, 1);
	}
	srtp_dealloc(l.nss_tx);
	srtp_dealloc(l.nss_rx);
	srtp_dealloc(l.ossl_tx);
	srtp_dealloc(l.ossl_rx);
	srtp_shutdown();
}

START_TEST(openssl_output_equals_nss_output_for_every_usable_suite)
{
	const struct suite_case *sc = &suites[_i];

	cross_check_suite(sc, 0x5157a4d3u + (uint64_t)_i * 7919u, RTP_PACKETS, RTCP_PACKETS);
}
END_TEST

START_TEST(openssl_and_nss_agree_on_suites_sipwarden_does_not_offer)
{
	cross_check_suite(suite_named("AES_192_CM_HMAC_SHA1_80"), 0x192192u, 1000, 200);
	cross_check_suite(suite_named("AEAD_AES_128_GCM_8"), 0x6c6d8u, 1000, 200);
}
END_TEST

static Suite *
srtp_ossl_suite(void)
{
	Suite *s = suite_create("srtp_ossl");
	TCase *tc = tcase_create("install");
	TCase *tv = tcase_create("vectors");
	TCase *tx = tcase_create("cross_check");

	tcase_add_test(tc, install_is_idempotent_and_detected);
	tcase_add_test(tc, reinit_brings_nss_back_until_installed_again);
	tcase_add_test(tc, install_before_srtp_init_is_refused_and_harmless);
	tcase_add_test(tc, types_reject_key_lengths_of_other_ids);
	suite_add_tcase(s, tc);

	srtp_ossl_vector_tests(tv);
	tcase_add_test(tv, hmac_type_is_ready_after_init_and_restarts_per_message);
	tcase_add_test(tv, hmac_object_keyed_fits_its_budget);
	tcase_add_test(tv, thread_forget_leaves_live_objects_working);
	suite_add_tcase(s, tv);

	tcase_set_timeout(tx, 240);
	tcase_add_loop_test(tx, openssl_output_equals_nss_output_for_every_usable_suite, 0, 6);
	tcase_add_test(tx, openssl_and_nss_agree_on_suites_sipwarden_does_not_offer);
	suite_add_tcase(s, tx);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(srtp_ossl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
