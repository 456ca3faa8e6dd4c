/*
 * test_srtp_budget.c: what the OpenSSL crypto objects of lib/srtp_ossl.c may cost, and
 * that their per-packet calls allocate nothing (issue 12: resident memory per live call;
 * the media path is allocation-free). A call holds four SRTP sessions, each with an
 * AES-ICM and an HMAC-SHA1 object for RTP and for SRTCP: eight of each per call, for the
 * call's life. Heap is measured with mallinfo2() (glibc's chunk overhead included);
 * OpenSSL's allocations are counted through CRYPTO_set_mem_functions(), installed in
 * main() before OpenSSL allocates anything. Byte-identical output is tests/test_srtp_ossl.c's
 * job; here only the one property per-thread contexts add: objects interleaved on one
 * thread keep their own keystreams.
 */
#include <check.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "srtp_leg.h"
#include "srtp_ossl.h"

static atomic_ulong ossl_allocs; /* OpenSSL allocations (malloc and realloc) so far */

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	atomic_fetch_add(&ossl_allocs, 1);
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	atomic_fetch_add(&ossl_allocs, 1);
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	free(p);
}

static void
setup_installed(void)
{
	ck_assert_int_eq(srtp_init(), srtp_err_status_ok);
	ck_assert_int_eq(srtp_ossl_install(), 0);
}

/* AES-128 key || 14-octet salt */
static const uint8_t icm_key[30] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7,
                                    0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c, 0xf0, 0xf1, 0xf2, 0xf3,
                                    0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};

static srtp_cipher_t *
icm_new(const uint8_t *key)
{
	srtp_cipher_t *c = NULL;

	ck_assert_int_eq(srtp_cipher_type_alloc(srtp_ossl_cipher_type(SRTP_AES_ICM_128), &c, 30, 0),
	                 srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
	return c;
}

/* One packet's worth: set the IV, encrypt 160 octets (a G.711 payload) in place. */
static void
icm_packet(srtp_cipher_t *c, uint8_t iv0, uint8_t *buf, unsigned int len)
{
	uint8_t iv[16] = {iv0};

	ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_encrypt(c, buf, &len), srtp_err_status_ok);
}

/*
 * A keyed AES-ICM object costs at most ICM_OBJECT_BUDGET heap bytes. With an
 * EVP_CIPHER_CTX of its own it held about 700 in three allocations (the context, its
 * provider state with the AES key schedule, the object).
 */
#define ICM_OBJECT_BUDGET 160
#define ICM_OBJECTS       16

START_TEST(icm_object_keyed_fits_its_budget)
{
	srtp_cipher_t *c[ICM_OBJECTS];
	uint8_t buf[160] = {0};

	setup_installed();
	/* one object first: OpenSSL's first-use caches (and this thread's contexts) */
	c[0] = icm_new(icm_key);
	icm_packet(c[0], 1, buf, sizeof(buf));
	srtp_cipher_dealloc(c[0]);

	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < ICM_OBJECTS; i++) {
		c[i] = icm_new(icm_key);
		icm_packet(c[i], 1, buf, sizeof(buf));
	}
	size_t per = (mallinfo2().uordblks - before) / ICM_OBJECTS;
	ck_assert_msg(per <= ICM_OBJECT_BUDGET, "a keyed AES-ICM object takes %zu heap bytes", per);
	for (int i = 0; i < ICM_OBJECTS; i++)
		srtp_cipher_dealloc(c[i]);
	srtp_shutdown();
}
END_TEST

/* set_iv and encrypt, as libsrtp calls them per packet, allocate nothing in OpenSSL. */
START_TEST(icm_packets_allocate_nothing)
{
	srtp_cipher_t *a, *b;
	uint8_t buf[160] = {0}, key2[30];

	memcpy(key2, icm_key, sizeof(key2));
	key2[0] ^= 1;
	setup_installed();
	a = icm_new(icm_key);
	b = icm_new(key2);
	icm_packet(a, 1, buf, sizeof(buf));
	icm_packet(b, 1, buf, sizeof(buf));
	unsigned long before = atomic_load(&ossl_allocs);
	for (int i = 0; i < 100; i++) {
		icm_packet(a, (uint8_t)i, buf, sizeof(buf));
		icm_packet(b, (uint8_t)i, buf, sizeof(buf));
	}
	ck_assert_uint_eq(atomic_load(&ossl_allocs) - before, 0);
	srtp_cipher_dealloc(a);
	srtp_cipher_dealloc(b);
	srtp_shutdown();
}
END_TEST

/*
 * Two objects with different keys used in turn on one thread, each with its keystream
 * split across encrypt calls around the other's: every output is what the object gives
 * when used alone.
 */
START_TEST(icm_objects_interleaved_on_one_thread_keep_their_keystreams)
{
	uint8_t key2[30], iv[16] = {7}, alone[2][300], mixed[2][300];
	srtp_cipher_t *c[2];
	unsigned int len;

	memcpy(key2, icm_key, sizeof(key2));
	key2[0] ^= 0x55;
	setup_installed();
	for (int k = 0; k < 2; k++) {
		memset(alone[k], 0, sizeof(alone[k]));
		c[k] = icm_new(k == 0 ? icm_key : key2);
		icm_packet(c[k], 7, alone[k], sizeof(alone[k]));
		srtp_cipher_dealloc(c[k]);
	}
	memset(mixed, 0, sizeof(mixed));
	c[0] = icm_new(icm_key);
	c[1] = icm_new(key2);
	ck_assert_int_eq(srtp_cipher_set_iv(c[0], iv, srtp_direction_encrypt), srtp_err_status_ok);
	ck_assert_int_eq(srtp_cipher_set_iv(c[1], iv, srtp_direction_encrypt), srtp_err_status_ok);
	/* pieces that end mid-block, so a resumed keystream must skip into its block */
	static const unsigned int pieces[] = {5, 17, 33, 100, 145};
	unsigned int off[2] = {0, 0};
	for (size_t i = 0; i < 2 * sizeof(pieces) / sizeof(pieces[0]); i++) {
		int k = (int)(i % 2);
		len = pieces[i / 2];
		ck_assert_int_eq(srtp_cipher_encrypt(c[k], mixed[k] + off[k], &len),
		                 srtp_err_status_ok);
		off[k] += len;
	}
	ck_assert_uint_eq(off[0], 300);
	ck_assert_mem_eq(mixed[0], alone[0], 300);
	ck_assert_mem_eq(mixed[1], alone[1], 300);
	ck_assert_mem_ne(alone[0], alone[1], 16);
	srtp_cipher_dealloc(c[0]);
	srtp_cipher_dealloc(c[1]);
	srtp_shutdown();
}
END_TEST

/*
 * A keyed HMAC-SHA1 object costs at most HMAC_BUDGET heap bytes: the two keyed SHA-1
 * chaining values, not three SHA_CTX (the message's state is the thread's). It was 336
 * (srtp_auth_t and three 96-byte SHA_CTX).
 */
#define HMAC_BUDGET  128
#define HMAC_OBJECTS 16

static srtp_auth_t *
hmac_new(const uint8_t *key)
{
	srtp_auth_t *a = NULL;

	ck_assert_int_eq(srtp_auth_type_alloc(srtp_ossl_auth_type(), &a, 20, 10),
	                 srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);
	return a;
}

START_TEST(hmac_object_keyed_fits_the_smaller_budget)
{
	srtp_auth_t *a[HMAC_OBJECTS];
	uint8_t tag[20];

	setup_installed();
	a[0] = hmac_new(icm_key);
	ck_assert_int_eq(srtp_auth_compute(a[0], icm_key, 20, tag), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_dealloc(a[0]), srtp_err_status_ok);

	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < HMAC_OBJECTS; i++) {
		a[i] = hmac_new(icm_key);
		ck_assert_int_eq(srtp_auth_start(a[i]), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_compute(a[i], icm_key, 20, tag), srtp_err_status_ok);
	}
	size_t per = (mallinfo2().uordblks - before) / HMAC_OBJECTS;
	ck_assert_msg(per <= HMAC_BUDGET, "a keyed HMAC object takes %zu heap bytes", per);
	for (int i = 0; i < HMAC_OBJECTS; i++)
		ck_assert_int_eq(srtp_auth_dealloc(a[i]), srtp_err_status_ok);
	srtp_shutdown();
}
END_TEST

/* RFC 2202 test case 2 on two objects used in turn, one message each, start to tag;
 * and a message's state never outlives its tag: compute() without start() refuses. */
START_TEST(hmac_objects_used_in_turn_give_their_own_tags)
{
	static const uint8_t key[] = "Jefe";
	static const uint8_t data[] = "what do ya want for nothing?";
	static const uint8_t want[10] = {0xef, 0xfc, 0xdf, 0x6a, 0xe5,
	                                 0xeb, 0x2f, 0xa2, 0xd2, 0x74};
	uint8_t other_key[20] = {0}, tag[20], tag2[20];
	srtp_auth_t *a = NULL, *b;

	setup_installed();
	ck_assert_int_eq(srtp_auth_type_alloc(srtp_ossl_auth_type(), &a, 4, 10),
	                 srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);
	b = hmac_new(other_key);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(srtp_auth_start(b), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_compute(b, data, 28, tag2), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_update(a, data, 11), srtp_err_status_ok);
		ck_assert_int_eq(srtp_auth_compute(a, data + 11, 17, tag), srtp_err_status_ok);
		ck_assert_mem_eq(tag, want, 10);
		ck_assert_mem_ne(tag2, want, 10);
	}
	ck_assert_int_ne(srtp_auth_compute(a, data, 28, tag), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_dealloc(a), srtp_err_status_ok);
	ck_assert_int_eq(srtp_auth_dealloc(b), srtp_err_status_ok);
	srtp_shutdown();
}
END_TEST

/*
 * A session as a call leg holds it (srtp_leg.h: one direction, one SSRC's stream made by
 * its first packet), OpenSSL objects and libsrtp's stream template, stream and list
 * included, costs at most SESSION_BUDGET heap bytes; a call holds four. struct srtp_leg
 * kept a copy of its struct srtp_keys (184 B, room for a 128-octet MKI) only to tell
 * whether a re-INVITE changed the keys.
 */
#define SESSION_BUDGET 1400
#define SESSIONS       16

START_TEST(srtp_session_with_one_stream_fits_its_budget)
{
	struct srtp_keys k;
	struct srtp_leg *tx[SESSIONS];
	uint8_t pkt[172 + SRTP_LEG_TRAILER_MAX];
	size_t len;

	setup_installed();
	memset(&k, 0, sizeof(k));
	k.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	memcpy(k.key, icm_key, 16);
	memcpy(k.salt, icm_key + 16, 14);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[11] = 1; /* SSRC 1 */
	ck_assert_int_eq(srtp_leg_new(&tx[0], &k, SRTP_LEG_OUTBOUND), 0);
	len = 172;
	ck_assert_int_eq(srtp_leg_protect(tx[0], pkt, &len, sizeof(pkt)), 0);
	srtp_leg_free(tx[0]);

	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < SESSIONS; i++) {
		ck_assert_int_eq(srtp_leg_new(&tx[i], &k, SRTP_LEG_OUTBOUND), 0);
		len = 172;
		ck_assert_int_eq(srtp_leg_protect(tx[i], pkt, &len, sizeof(pkt)), 0);
	}
	size_t per = (mallinfo2().uordblks - before) / SESSIONS;
	ck_assert_msg(per <= SESSION_BUDGET, "a session with one stream takes %zu heap bytes", per);
	for (int i = 0; i < SESSIONS; i++)
		srtp_leg_free(tx[i]);
	srtp_shutdown();
}
END_TEST

static Suite *
srtp_budget_suite(void)
{
	Suite *s = suite_create("srtp_budget");
	TCase *tc = tcase_create("icm");

	tcase_add_test(tc, icm_object_keyed_fits_its_budget);
	tcase_add_test(tc, icm_packets_allocate_nothing);
	tcase_add_test(tc, icm_objects_interleaved_on_one_thread_keep_their_keystreams);
	suite_add_tcase(s, tc);
	TCase *th = tcase_create("hmac");
	tcase_add_test(th, hmac_object_keyed_fits_the_smaller_budget);
	tcase_add_test(th, hmac_objects_used_in_turn_give_their_own_tags);
	suite_add_tcase(s, th);
	TCase *ts = tcase_create("session");
	tcase_add_test(ts, srtp_session_with_one_stream_fits_its_budget);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	/* before OpenSSL allocates anything, or it refuses */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return EXIT_FAILURE;
	SRunner *sr = srunner_create(srtp_budget_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
