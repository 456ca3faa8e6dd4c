/*
 * test_srtp_leg.c: one direction's SRTP session: round trips per suite, and the negative
 * cases the relay relies on (replay, tampered tag, wrong keys, wrong direction).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "srtp_leg.h"
/* after suite.h: libsrtp defines its own SUITE_MAX_KEY_LEN (a system header may) */
#include <srtp2/srtp.h>

#define BUFSZ 2048

static void
mkkeys(struct srtp_keys *k, enum srtp_suite s)
{
	memset(k, 0, sizeof(*k));
	k->suite = s;
	ck_assert_int_eq(RAND_bytes(k->key, sizeof(k->key)), 1);
	ck_assert_int_eq(RAND_bytes(k->salt, sizeof(k->salt)), 1);
}

static size_t
mkrtp(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	memset(p, 0, BUFSZ);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	uint32_t ts = seq * 160u;
	p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (int i = 0; i < 160; i++)
		p[12 + i] = (uint8_t)(i ^ seq);
	return 172;
}

static size_t
mkrtcp(uint8_t *p, uint32_t ssrc)
{
	memset(p, 0, BUFSZ);
	p[0] = 0x80;
	p[1] = 200; /* SR */
	p[3] = 6;   /* 28 octets */
	p[4] = (uint8_t)(ssrc >> 24), p[5] = (uint8_t)(ssrc >> 16), p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	for (int i = 8; i < 28; i++)
		p[i] = (uint8_t)i;
	return 28;
}

struct pair {
	struct srtp_leg *tx, *rx;
	struct srtp_keys k;
};

static void
pair_new(struct pair *pr, enum srtp_suite s)
{
	mkkeys(&pr->k, s);
	ck_assert_int_eq(srtp_leg_new(&pr->tx, &pr->k, SRTP_LEG_OUTBOUND), 0);
	ck_assert_int_eq(srtp_leg_new(&pr->rx, &pr->k, SRTP_LEG_INBOUND), 0);
}

static void
pair_free(struct pair *pr)
{
	srtp_leg_free(pr->tx);
	srtp_leg_free(pr->rx);
}

static void
roundtrip(enum srtp_suite s, size_t tag)
{
	struct pair pr;
	uint8_t pkt[BUFSZ], orig[BUFSZ];
	pair_new(&pr, s);
	ck_assert_uint_eq(srtp_leg_rtp_tag_len(pr.tx), tag);
	for (uint16_t seq = 1; seq < 20; seq++) {
		size_t len = mkrtp(pkt, seq, 0x1234), olen = len;
		memcpy(orig, pkt, len);
		ck_assert_int_eq(srtp_leg_protect(pr.tx, pkt, &len, sizeof(pkt)), 0);
		ck_assert_uint_eq(len, olen + tag);
		ck_assert(memcmp(pkt + 12, orig + 12, 160) != 0); /* encrypted */
		ck_assert_int_eq(srtp_leg_unprotect(pr.rx, pkt, &len), 0);
		ck_assert_uint_eq(len, olen);
		ck_assert_mem_eq(pkt, orig, olen);
	}
	size_t len = mkrtcp(pkt, 0x1234);
	memcpy(orig, pkt, len);
	ck_assert_int_eq(srtp_leg_protect_rtcp(pr.tx, pkt, &len, sizeof(pkt)), 0);
	ck_assert_uint_gt(len, 28);
	ck_assert_int_eq(srtp_leg_unprotect_rtcp(pr.rx, pkt, &len), 0);
	ck_assert_uint_eq(len, 28);
	ck_assert_mem_eq(pkt, orig, 28);
	pair_free(&pr);
}

START_TEST(srtp_leg_round_trips_every_usable_suite)
{
	roundtrip(SUITE_AES_CM_128_HMAC_SHA1_80, 10);
	roundtrip(SUITE_AES_CM_128_HMAC_SHA1_32, 4);
	roundtrip(SUITE_AES_256_CM_HMAC_SHA1_80, 10);
	roundtrip(SUITE_AES_256_CM_HMAC_SHA1_32, 4);
	roundtrip(SUITE_AEAD_AES_128_GCM, 16);
	roundtrip(SUITE_AEAD_AES_256_GCM, 16);
}
END_TEST

START_TEST(srtp_leg_drops_replayed_packet)
{
	struct pair pr;
	uint8_t p1[BUFSZ], p1_copy[BUFSZ];
	size_t l1, l2;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	l1 = mkrtp(p1, 7, 1);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, p1, &l1, sizeof(p1)), 0);
	memcpy(p1_copy, p1, l1);
	l2 = l1;
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p1, &l1), 0);
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p1_copy, &l2), -EALREADY);
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_rejects_tampered_tag)
{
	struct pair pr;
	uint8_t p[BUFSZ], q[BUFSZ];
	size_t len, qlen;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	len = mkrtp(p, 9, 1);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, sizeof(p)), 0);
	memcpy(q, p, len);
	qlen = len;
	p[len - 1] ^= 0x01; /* one bit of the tag */
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), -EBADMSG);
	/* a failed packet does not enter the replay window: the genuine one still passes */
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, q, &qlen), 0);
	/* RTCP too */
	len = mkrtcp(p, 1);
	ck_assert_int_eq(srtp_leg_protect_rtcp(pr.tx, p, &len, sizeof(p)), 0);
	p[len - 1] ^= 0x80;
	ck_assert_int_eq(srtp_leg_unprotect_rtcp(pr.rx, p, &len), -EBADMSG);
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_rejects_packets_under_wrong_keys)
{
	struct pair a, b;
	uint8_t p[BUFSZ];
	size_t len;
	pair_new(&a, SUITE_AES_CM_128_HMAC_SHA1_80);
	pair_new(&b, SUITE_AES_CM_128_HMAC_SHA1_80);
	len = mkrtp(p, 11, 5);
	ck_assert_int_eq(srtp_leg_protect(a.tx, p, &len, sizeof(p)), 0);
	ck_assert_int_eq(srtp_leg_unprotect(b.rx, p, &len), -EBADMSG);
	/* plain RTP offered to an SRTP session fails too */
	len = mkrtp(p, 12, 5);
	ck_assert_int_eq(srtp_leg_unprotect(b.rx, p, &len), -EBADMSG);
	pair_free(&a);
	pair_free(&b);
}
END_TEST

START_TEST(srtp_leg_refuses_wrong_direction_short_buffer_and_bad_suites)
{
	struct pair pr;
	struct srtp_keys k;
	struct srtp_leg *l = NULL;
	uint8_t p[BUFSZ];
	size_t len;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	len = mkrtp(p, 1, 1);
	ck_assert_int_eq(srtp_leg_protect(pr.rx, p, &len, sizeof(p)), -EINVAL);
	ck_assert_int_eq(srtp_leg_unprotect(pr.tx, p, &len), -EINVAL);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, len + 4), -ENOSPC);
	len = 8;
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), -EINVAL);
	mkkeys(&k, SUITE_NONE);
	ck_assert_int_eq(srtp_leg_new(&l, &k, SRTP_LEG_INBOUND), -EINVAL);
	k.suite = SUITE_F8_128_HMAC_SHA1_80;
	ck_assert_int_eq(srtp_leg_new(&l, &k, SRTP_LEG_INBOUND), -ENOTSUP);
	k.suite = SUITE_AES_192_CM_HMAC_SHA1_80;
	ck_assert_int_eq(srtp_leg_new(&l, &k, SRTP_LEG_INBOUND), -ENOTSUP);
	ck_assert_ptr_null(l);
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_compares_keys)
{
	struct pair a, b;
	struct srtp_leg *a2;
	pair_new(&a, SUITE_AES_CM_128_HMAC_SHA1_80);
	pair_new(&b, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert(srtp_leg_has_keys(a.rx, &a.k));
	ck_assert(!srtp_leg_has_keys(a.rx, &b.k));
	ck_assert_int_eq(srtp_leg_new(&a2, &a.k, SRTP_LEG_INBOUND), 0);
	ck_assert(srtp_leg_same_keys(a.rx, a2));
	ck_assert(!srtp_leg_same_keys(a.tx, a2)); /* other direction */
	ck_assert(!srtp_leg_same_keys(b.rx, a2));
	struct srtp_keys k = a.k;
	k.salt[13] ^= 1;
	ck_assert(!srtp_leg_has_keys(a.rx, &k));
	srtp_leg_free(a2);
	pair_free(&a);
	pair_free(&b);
}
END_TEST

START_TEST(srtp_leg_round_trips_with_mki)
{
	struct pair pr;
	struct pair other;
	uint8_t p[BUFSZ];
	size_t len;
	mkkeys(&pr.k, SUITE_AES_CM_128_HMAC_SHA1_80);
	pr.k.mki_len = 2;
	pr.k.mki[0] = 0;
	pr.k.mki[1] = 1;
	ck_assert_int_eq(srtp_leg_new(&pr.tx, &pr.k, SRTP_LEG_OUTBOUND), 0);
	ck_assert_int_eq(srtp_leg_new(&pr.rx, &pr.k, SRTP_LEG_INBOUND), 0);
	len = mkrtp(p, 3, 3);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, sizeof(p)), 0);
	ck_assert_uint_eq(len, 172 + 2 + 10);
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
	ck_assert_uint_eq(len, 172);
	/* same key, other MKI: a different session */
	other.k = pr.k;
	other.k.mki[1] = 2;
	ck_assert(!srtp_leg_has_keys(pr.rx, &other.k));
	pair_free(&pr);
}
END_TEST

/* Protect one RTP packet as a sender that never saw another SSRC (a fresh session). */
static size_t
protect_fresh(const struct srtp_keys *k, uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	struct srtp_leg *tx;
	size_t len = mkrtp(p, seq, ssrc);
	ck_assert_int_eq(srtp_leg_new(&tx, k, SRTP_LEG_OUTBOUND), 0);
	ck_assert_int_eq(srtp_leg_protect(tx, p, &len, BUFSZ), 0);
	srtp_leg_free(tx);
	return len;
}

/* How many of the SSRCs first .. first + n - 1 have a libsrtp stream in `l`. */
static unsigned
count_streams(const struct srtp_leg *l, uint32_t first, unsigned n)
{
	unsigned c = 0;
	for (uint32_t i = 0; i < n; i++)
		c += srtp_leg_has_stream(l, first + i);
	return c;
}

START_TEST(srtp_leg_keeps_at_most_max_streams_for_a_thousand_ssrcs)
{
	struct pair pr;
	uint8_t p[BUFSZ];
	size_t len;
	unsigned ok = 0;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	/* inbound: 1,000 genuine packets, each from a new SSRC */
	for (uint32_t i = 0; i < 1000; i++) {
		len = protect_fresh(&pr.k, p, 1, 0x5000 + i);
		int rc = srtp_leg_unprotect(pr.rx, p, &len);
		ck_assert(rc == 0 || rc == -EDQUOT);
		ok += rc == 0;
	}
	ck_assert_uint_le(count_streams(pr.rx, 0x5000, 1000), SRTP_LEG_MAX_STREAMS);
	ck_assert_uint_eq(ok, SRTP_LEG_MAX_SSRCS);
	/* the most recent admitted SSRC is among the streams kept */
	ck_assert(srtp_leg_has_stream(pr.rx, 0x5000 + SRTP_LEG_MAX_SSRCS - 1));
	/* outbound: protecting 1,000 SSRCs is bounded the same way */
	ok = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		len = mkrtp(p, 1, 0x9000 + i);
		int rc = srtp_leg_protect(pr.tx, p, &len, sizeof(p));
		ck_assert(rc == 0 || rc == -EDQUOT);
		ok += rc == 0;
	}
	ck_assert_uint_le(count_streams(pr.tx, 0x9000, 1000), SRTP_LEG_MAX_STREAMS);
	ck_assert_uint_eq(ok, SRTP_LEG_MAX_SSRCS);
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_follows_ssrc_changes_and_keeps_the_recent_streams)
{
	struct pair pr;
	uint8_t p[BUFSZ];
	size_t len;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	/* ten SSRC changes (transfers, re-INVITEs with the same key), RTP and RTCP each */
	for (uint32_t c = 0; c < 10; c++) {
		uint32_t ssrc = 0xabc000 + c;
		for (uint16_t seq = 1; seq <= 30; seq++) {
			len = mkrtp(p, seq, ssrc);
			ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, sizeof(p)), 0);
			ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
		}
		len = mkrtcp(p, ssrc);
		ck_assert_int_eq(srtp_leg_protect_rtcp(pr.tx, p, &len, sizeof(p)), 0);
		ck_assert_int_eq(srtp_leg_unprotect_rtcp(pr.rx, p, &len), 0);
		ck_assert(srtp_leg_has_stream(pr.tx, ssrc));
		ck_assert(srtp_leg_has_stream(pr.rx, ssrc));
		ck_assert_uint_le(count_streams(pr.tx, 0xabc000, 10), SRTP_LEG_MAX_STREAMS);
		ck_assert_uint_le(count_streams(pr.rx, 0xabc000, 10), SRTP_LEG_MAX_STREAMS);
	}
	/* the least recently used went first: the last four are the ones kept */
	for (uint32_t c = 6; c < 10; c++)
		ck_assert(srtp_leg_has_stream(pr.rx, 0xabc000 + c));
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_never_readmits_an_evicted_ssrc)
{
	struct pair pr;
	uint8_t p[BUFSZ], rec[BUFSZ];
	size_t len, rlen;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	rlen = mkrtp(rec, 1, 1);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, rec, &rlen, sizeof(rec)), 0);
	memcpy(p, rec, rlen);
	len = rlen;
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
	/* SRTP_LEG_MAX_STREAMS newer SSRCs evict SSRC 1 on both sides */
	for (uint32_t ssrc = 2; ssrc < 2 + SRTP_LEG_MAX_STREAMS; ssrc++) {
		len = mkrtp(p, 1, ssrc);
		ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, sizeof(p)), 0);
		ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
	}
	ck_assert(!srtp_leg_has_stream(pr.rx, 1));
	ck_assert(!srtp_leg_has_stream(pr.tx, 1));
	/* a recorded packet of the evicted SSRC does not pass again (replay window gone) */
	len = rlen;
	ck_assert_int_eq(srtp_leg_unprotect(pr.rx, rec, &len), -EDQUOT);
	ck_assert(!srtp_leg_has_stream(pr.rx, 1));
	/* and the sender never protects under SSRC 1 again (its keystream was used) */
	len = mkrtp(p, 1, 1);
	ck_assert_int_eq(srtp_leg_protect(pr.tx, p, &len, sizeof(p)), -EDQUOT);
	len = mkrtcp(p, 1);
	ck_assert_int_eq(srtp_leg_protect_rtcp(pr.tx, p, &len, sizeof(p)), -EDQUOT);
	pair_free(&pr);
}
END_TEST

START_TEST(srtp_leg_forged_packets_neither_evict_nor_spend_the_budget)
{
	struct pair pr;
	uint8_t p[BUFSZ];
	size_t len;
	pair_new(&pr, SUITE_AES_CM_128_HMAC_SHA1_80);
	for (uint32_t ssrc = 1; ssrc <= SRTP_LEG_MAX_STREAMS; ssrc++) {
		len = protect_fresh(&pr.k, p, 1, ssrc);
		ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
	}
	/* 1,000 forged packets (plain RTP with a fake tag) from new SSRCs */
	for (uint32_t i = 0; i < 1000; i++) {
		len = mkrtp(p, 2, 0x70000 + i) + 10;
		ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), -EBADMSG);
	}
	for (uint32_t ssrc = 1; ssrc <= SRTP_LEG_MAX_STREAMS; ssrc++)
		ck_assert(srtp_leg_has_stream(pr.rx, ssrc));
	ck_assert_uint_eq(count_streams(pr.rx, 0x70000, 1000), 0);
	/* the budget is whole: every remaining genuine SSRC is still admitted */
	for (uint32_t ssrc = SRTP_LEG_MAX_STREAMS + 1; ssrc <= SRTP_LEG_MAX_SSRCS; ssrc++) {
		len = protect_fresh(&pr.k, p, 1, ssrc);
		ck_assert_int_eq(srtp_leg_unprotect(pr.rx, p, &len), 0);
	}
	pair_free(&pr);
}
END_TEST

static Suite *
srtp_leg_suite(void)
{
	Suite *s = suite_create("srtp_leg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, srtp_leg_round_trips_every_usable_suite);
	tcase_add_test(tc, srtp_leg_drops_replayed_packet);
	tcase_add_test(tc, srtp_leg_rejects_tampered_tag);
	tcase_add_test(tc, srtp_leg_rejects_packets_under_wrong_keys);
	tcase_add_test(tc, srtp_leg_refuses_wrong_direction_short_buffer_and_bad_suites);
	tcase_add_test(tc, srtp_leg_compares_keys);
	tcase_add_test(tc, srtp_leg_round_trips_with_mki);
	tcase_add_test(tc, srtp_leg_keeps_at_most_max_streams_for_a_thousand_ssrcs);
	tcase_add_test(tc, srtp_leg_follows_ssrc_changes_and_keeps_the_recent_streams);
	tcase_add_test(tc, srtp_leg_never_readmits_an_evicted_ssrc);
	tcase_add_test(tc, srtp_leg_forged_packets_neither_evict_nor_spend_the_budget);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	SRunner *sr = srunner_create(srtp_leg_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	srtp_shutdown();
	return failed ? 1 : 0;
}
