/*
 * test_sdp_build.c: writing SDP (lib/sdp.h), part of the sdp unit test (test_sdp.c has
 * the suite): the other leg's offer and answer, keys and origins, answers checked
 * against our offers, and whole offer/answer chains between two legs.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <osipparser2/sdp_message.h>

#include "sdp.h"
#include "test_sdp.h"

/* ---- building ------------------------------------------------------------------------ */

struct leg {
	struct sdp_origin origin;
	struct sdp_local local;
};

static void
leg_init(struct leg *l, const char *addr, uint16_t port)
{
	ck_assert_int_eq(sdp_origin_init(&l->origin), 0);
	l->local.origin = &l->origin;
	l->local.addr = addr;
	l->local.port = port;
	l->local.crypto_pad = true;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Every line ends in CRLF and none is empty. */
static void
assert_crlf_lines(const char *s)
{
	size_t i, n = strlen(s);

	ck_assert_uint_gt(n, 2);
	ck_assert(s[n - 2] == '\r' && s[n - 1] == '\n');
	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			ck_assert(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r')
			ck_assert(s[i + 1] == '\n' && (i + 2 == n || s[i + 2] != '\r'));
	}
}

START_TEST(sdp_built_offer_parses_back_with_new_origin_address_and_keys)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *in = parse_file("asterisk_savp_two_crypto.sdp"), *out;
	struct sdp_verdict v;
	struct srtp_keys keys[4];
	size_t nkeys = 0, i;
	struct leg leg;
	sdp_message_t *osip = NULL;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(in, &pol, &v), 0);
	leg_init(&leg, "127.0.0.1", 40000);
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pol.suites, pol.nsuites, keys,
	                                 4, &nkeys),
	                 0);
	ck_assert_uint_eq(nkeys, 2);
	assert_crlf_lines(text);

	/* libosip2 reads it */
	ck_assert_int_eq(sdp_message_init(&osip), 0);
	ck_assert_int_eq(sdp_message_parse(osip, text), 0);
	ck_assert_str_eq(sdp_message_o_username_get(osip), "sipwarden");
	ck_assert_str_eq(sdp_message_c_addr_get(osip, -1, 0), "127.0.0.1");
	ck_assert_str_eq(sdp_message_m_port_get(osip, 0), "40000");
	ck_assert_str_eq(sdp_message_m_proto_get(osip, 0), "RTP/SAVP");
	ck_assert_str_ne(sdp_message_o_sess_id_get(osip), "1766412000");
	ck_assert_ptr_null(sdp_message_m_media_get(osip, 1));
	sdp_message_free(osip);

	/* and so do we: keys are ours, in our order, never the input's */
	out = parse_str(text);
	ck_assert_uint_eq(out->media[0].ncrypto, 2);
	for (i = 0; i < 2; i++) {
		const struct sdes_crypto *c = &out->media[0].crypto[i];

		ck_assert_uint_eq(c->tag, i + 1);
		ck_assert_int_eq(c->suite, pref_default[i]);
		ck_assert_uint_eq(keys[i].tag, i + 1);
		ck_assert_int_eq(memcmp(c->keys[0].key, keys[i].key, 16), 0);
		ck_assert_int_eq(memcmp(c->keys[0].salt, keys[i].salt, 14), 0);
		ck_assert_int_ne(memcmp(c->keys[0].key, in->media[0].crypto[0].keys[0].key, 16), 0);
		ck_assert_int_ne(memcmp(c->keys[0].key, in->media[0].crypto[1].keys[0].key, 16), 0);
	}
	ck_assert_int_ne(memcmp(keys[0].key, keys[1].key, 16), 0);
	ck_assert_ptr_null(strstr(text, KEY128_A));
	ck_assert_ptr_null(strstr(text, KEY128_B));
	/* formats and their attributes crossed, topology did not */
	ck_assert_ptr_nonnull(strstr(text, "m=audio 40000 RTP/SAVP 0 8 101\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=rtpmap:101 telephone-event/8000\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=fmtp:101 0-16\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=ptime:20\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=maxptime:150\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=sendrecv\r\n"));
	ck_assert_ptr_null(strstr(text, "198.51.100.10"));
	ck_assert_ptr_null(strstr(text, "10.20.30.40"));
	ck_assert_ptr_null(strstr(text, "candidate"));
	ck_assert_ptr_null(strstr(text, "ice-"));
	ck_assert_ptr_null(strstr(text, "a=rtcp:"));
	ck_assert_ptr_null(strstr(text, "Asterisk"));
	ck_assert_ptr_null(strstr(text, "rtcp-mux"));

	sdp_desc_free(out);
	sdp_text_free(text);
	for (i = 0; i < nkeys; i++)
		srtp_keys_wipe(&keys[i]);
	sdp_desc_free(in);
}
END_TEST

START_TEST(sdp_built_offer_keeps_avpf_rtcp_mux_and_drops_foreign_attributes)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *in = parse_file("savpf_opus.sdp");
	struct sdp_verdict v;
	struct srtp_keys keys[4];
	size_t nkeys = 0;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(in, &pol, &v), 0);
	leg_init(&leg, "::1", 40002);
	leg.local.crypto_pad = false;
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pol.suites, pol.nsuites, keys,
	                                 4, &nkeys),
	                 0);
	ck_assert_ptr_nonnull(strstr(text, "c=IN IP6 ::1\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "m=audio 40002 RTP/SAVPF 111 0 126\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=rtcp-mux\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
	ck_assert_ptr_null(strstr(text, "2001:db8"));
	ck_assert_ptr_null(strstr(text, "ssrc"));
	ck_assert_ptr_null(strstr(text, "cluster.internal"));
	ck_assert_ptr_null(strstr(text, "rtcp-fb"));
	ck_assert_ptr_null(strstr(text, "a=mid"));
	ck_assert_ptr_null(strstr(text, "msid"));
	ck_assert_ptr_null(strstr(text, "|2^31"));
	ck_assert_int_eq(count(text, "a=crypto:"), 2);
	sdp_text_free(text);
	srtp_keys_wipe(&keys[0]);
	srtp_keys_wipe(&keys[1]);

	/* AEAD_AES_128_GCM key||salt is 28 octets: base64 needs "==" unless unpadded */
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pref_gcm, 1, keys, 4, &nkeys),
	                 0);
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:1 AEAD_AES_128_GCM inline:"));
	ck_assert_ptr_null(strstr(text, "=\r\n"));
	sdp_text_free(text);
	srtp_keys_wipe(&keys[0]);
	leg.local.crypto_pad = true;
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pref_gcm, 1, keys, 4, &nkeys),
	                 0);
	ck_assert_ptr_nonnull(strstr(text, "==\r\n"));
	sdp_text_free(text);
	srtp_keys_wipe(&keys[0]);
	sdp_desc_free(in);
}
END_TEST

START_TEST(sdp_built_offer_plain_for_legacy_leg_has_no_crypto)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *in = parse_file("gcm_first.sdp");
	struct sdp_verdict v;
	size_t nkeys = 99;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(in, &pol, &v), 0);
	leg_init(&leg, "127.0.0.2", 40004);
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, NULL, 0, NULL, 0, &nkeys), 0);
	ck_assert_uint_eq(nkeys, 0);
	ck_assert_ptr_nonnull(strstr(text, "m=audio 40004 RTP/AVP 8 101\r\n"));
	ck_assert_ptr_null(strstr(text, "crypto"));
	sdp_text_free(text);
	sdp_desc_free(in);
}
END_TEST

START_TEST(sdp_built_offer_skips_unusable_suites_and_checks_room)
{
	static const enum srtp_suite pref[] = {SUITE_AES_192_CM_HMAC_SHA1_80,
	                                       SUITE_AEAD_AES_256_GCM,
	                                       SUITE_AES_CM_128_HMAC_SHA1_80};
	static const enum srtp_suite unusable[] = {SUITE_F8_128_HMAC_SHA1_80};
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *in = parse_file("asterisk_savp_two_crypto.sdp");
	struct sdp_verdict v;
	struct srtp_keys keys[2];
	size_t nkeys = 0;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(in, &pol, &v), 0);
	leg_init(&leg, "127.0.0.3", 40006);
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pref, 3, keys, 1, &nkeys),
	                 -ENOSPC);
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, unusable, 1, keys, 2, &nkeys),
	                 -EINVAL);
	memset(keys, 0xa5, sizeof(keys)); /* stale MKI/tag in the caller's memory must not leak */
	ck_assert_int_eq(sdp_build_offer(&text, &leg.local, in, &v, pref, 3, keys, 2, &nkeys), 0);
	ck_assert_uint_eq(keys[0].mki_len, 0);
	ck_assert_ptr_null(strstr(text, "|"));
	ck_assert_uint_eq(nkeys, 2);
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:1 AEAD_AES_256_GCM inline:"));
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
	ck_assert_ptr_null(strstr(text, "AES_192"));
	sdp_text_free(text);
	srtp_keys_wipe(&keys[0]);
	srtp_keys_wipe(&keys[1]);
	sdp_desc_free(in);
}
END_TEST

/* A RAND method that counts its calls by size and hands out distinct non-random bytes
 * (RAND_set_rand_method is deprecated in OpenSSL 3 but still routes RAND_bytes). */
static unsigned rand_calls, rand_calls_len;
static int rand_len;
static unsigned char rand_next;

static int
counting_bytes(unsigned char *buf, int num)
{
	rand_calls++;
	if (num == rand_len)
		rand_calls_len++;
	for (int i = 0; i < num; i++)
		buf[i] = rand_next++;
	return 1;
}

static int
counting_status(void)
{
	return 1;
}

START_TEST(sdp_built_offer_draws_all_its_keys_from_one_rand_call)
{
	static const enum srtp_suite six[] = {
	        SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AEAD_AES_128_GCM,
	        SUITE_AES_256_CM_HMAC_SHA1_80, SUITE_AEAD_AES_256_GCM,
	        SUITE_AES_CM_128_HMAC_SHA1_32, SUITE_AES_256_CM_HMAC_SHA1_32};
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *in = parse_file("asterisk_savp_two_crypto.sdp");
	struct sdp_verdict v;
	struct srtp_keys keys[6];
	size_t nkeys = 0, i, j;
	struct leg leg;
	char *text = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	static const RAND_METHOD counting = {
	        .bytes = counting_bytes, .pseudorand = counting_bytes, .status = counting_status};
	const RAND_METHOD *prev = RAND_get_rand_method();
#pragma GCC diagnostic pop

	ck_assert_int_eq(sdp_check_offer(in, &pol, &v), 0);
	leg_init(&leg, "127.0.0.4", 40008);
	rand_len = 0;
	for (i = 0; i < 6; i++)
		if (suite_info(six[i])->usable)
			rand_len +=
			        (int)(suite_info(six[i])->key_len + suite_info(six[i])->salt_len);
	rand_calls = rand_calls_len = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ck_assert_int_eq(RAND_set_rand_method(&counting), 1);
	int rc = sdp_build_offer(&text, &leg.local, in, &v, six, 6, keys, 6, &nkeys);
	RAND_set_rand_method(prev);
#pragma GCC diagnostic pop
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_ge(nkeys, 2);
	/* one DRBG call for every key and salt of the offer (a token pool refill, 512 bytes,
	 * may come on top: it is not key material) */
	ck_assert_msg(rand_calls_len == 1, "%u RAND_bytes calls of the offer's %d key bytes",
	              rand_calls_len, rand_len);
	ck_assert_uint_le(rand_calls, 2);
	/* and every key and salt is still its own */
	for (i = 0; i < nkeys; i++)
		for (j = i + 1; j < nkeys; j++) {
			ck_assert_int_ne(memcmp(keys[i].key, keys[j].key, 16), 0);
			ck_assert_int_ne(memcmp(keys[i].salt, keys[j].salt, 12), 0);
		}
	sdp_text_free(text);
	for (i = 0; i < nkeys; i++)
		srtp_keys_wipe(&keys[i]);
	sdp_desc_free(in);
}
END_TEST

START_TEST(sdp_origin_ids_are_fresh)
{
	struct sdp_origin a, b;

	ck_assert_int_eq(sdp_origin_init(&a), 0);
	ck_assert_int_eq(sdp_origin_init(&b), 0);
	ck_assert_uint_ne(a.id, b.id);
	ck_assert_uint_eq(a.version, 1);
	ck_assert_uint_lt(a.id, UINT64_C(1) << 62);
}
END_TEST

/* An answer from the agent leg, built around one a=crypto line. */
static struct sdp_desc *
agent_answer(const char *proto, const char *crypto_lines, const char *extra)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
	         "v=0\r\no=agent 9 9 IN IP4 10.9.8.7\r\ns=-\r\nc=IN IP4 10.9.8.7\r\nt=0 0\r\n"
	         "m=audio 6000 %s 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
	         "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n%s%s",
	         proto, crypto_lines, extra);
	return parse_str(buf);
}

START_TEST(sdp_answer_checks_tag_suite_and_count)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct srtp_keys offered[2] = {
	        {.suite = SUITE_AES_CM_128_HMAC_SHA1_80, .tag = 1},
	        {.suite = SUITE_AES_CM_128_HMAC_SHA1_32, .tag = 2},
	};
	struct sdp_verdict v;
	struct sdp_desc *a;

	a = agent_answer("RTP/SAVP", "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_B "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), 0);
	ck_assert_uint_eq(v.tag, 2);
	ck_assert_int_eq(v.suite, SUITE_AES_CM_128_HMAC_SHA1_32);
	ck_assert_int_eq(v.crypto, 0);
	sdp_desc_free(a);

	a = agent_answer("RTP/SAVP", "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_CRYPTO_TAG_NOT_OFFERED);
	assert_warning_text_safe(&v);
	sdp_desc_free(a);

	a = agent_answer("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_B "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_CRYPTO_SUITE_MISMATCH);
	sdp_desc_free(a);

	a = agent_answer("RTP/SAVP",
	                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n"
	                 "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_B "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_MULTIPLE_CRYPTO);
	sdp_desc_free(a);

	a = agent_answer(
	        "RTP/SAVP",
	        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A " UNENCRYPTED_SRTCP\r\n", "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_WEAK_SUITE);
	sdp_desc_free(a);

	a = agent_answer("RTP/SAVP", "", "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_CRYPTO);
	sdp_desc_free(a);

	a = agent_answer("RTP/AVP", "", "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_SRTP);
	sdp_desc_free(a);

	pol.hop_tls = false;
	a = agent_answer("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 2, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_SDES_OVER_INSECURE_HOP);
	sdp_desc_free(a);
}
END_TEST

START_TEST(sdp_answer_rejecting_audio_refused)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct srtp_keys offered[1] = {{.suite = SUITE_AES_CM_128_HMAC_SHA1_80, .tag = 1}};
	struct sdp_verdict v;
	struct sdp_desc *a = parse_str("v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
	                               "m=audio 0 RTP/SAVP 0\r\n");

	ck_assert_int_eq(sdp_check_answer(a, &pol, offered, 1, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_AUDIO);
	sdp_desc_free(a);
}
END_TEST

START_TEST(sdp_answer_to_plain_offer_needs_legacy_peer_and_rtp_avp)
{
	struct sdp_policy legacy = POLICY(pref_default, true, true);
	struct sdp_policy strict = POLICY(pref_default, true, false);
	struct sdp_verdict v;
	struct sdp_desc *a = agent_answer("RTP/AVP", "", "");

	ck_assert_int_eq(sdp_check_answer(a, &legacy, NULL, 0, &v), 0);
	ck_assert(!v.srtp);
	ck_assert_int_eq(sdp_check_answer(a, &strict, NULL, 0, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_SRTP);
	sdp_desc_free(a);
	a = agent_answer("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n",
	                 "");
	ck_assert_int_eq(sdp_check_answer(a, &legacy, NULL, 0, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_PROTO_MISMATCH);
	sdp_desc_free(a);
}
END_TEST

START_TEST(sdp_built_answer_to_trunk_uses_chosen_tag_fresh_key_and_rejects_video)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *offer = parse_file("audio_video_hold.sdp"), *agent, *back;
	struct sdp_verdict v;
	struct srtp_keys key;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(offer, &pol, &v), 0);
	/* the agent answered with PCMU and telephone-event (not offered: dropped) */
	agent = agent_answer("RTP/SAVP",
	                     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n",
	                     "a=sendrecv\r\na=rtcp-mux\r\n");
	leg_init(&leg, "127.0.0.4", 40008);
	ck_assert_int_eq(sdp_build_answer(&text, &leg.local, offer, &v, agent, &key), 0);
	assert_crlf_lines(text);
	ck_assert_ptr_nonnull(
	        strstr(text, "m=video 0 RTP/SAVP 96\r\nm=audio 40008 RTP/SAVP 0\r\n"));
	/* payload type 101 appears nowhere as a format or attribute (the random origin id
	 * and key may contain the digits, so look where a format would be) */
	ck_assert_ptr_null(strstr(text, "a=rtpmap:101"));
	ck_assert_ptr_null(strstr(text, "a=fmtp:101"));
	ck_assert_ptr_null(strstr(text, " 0 101\r\n"));
	/* offer was an RFC 2543 hold (c=0.0.0.0): we answer recvonly, no rtcp-mux (not offered) */
	ck_assert_ptr_nonnull(strstr(text, "a=recvonly\r\n"));
	ck_assert_ptr_null(strstr(text, "rtcp-mux"));
	ck_assert_int_eq(count(text, "a=crypto:"), 1);
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"));
	ck_assert_ptr_null(strstr(text, KEY128_A));
	ck_assert_ptr_null(strstr(text, KEY128_B));
	ck_assert_ptr_null(strstr(text, "10.9.8.7"));
	ck_assert_uint_eq(key.tag, 7);
	ck_assert_int_eq(key.suite, SUITE_AES_CM_128_HMAC_SHA1_80);

	back = parse_str(text);
	ck_assert_uint_eq(back->nmedia, 2);
	ck_assert_uint_eq(back->media[0].port, 0);
	ck_assert_int_eq(memcmp(back->media[1].crypto[0].keys[0].key, key.key, 16), 0);
	ck_assert_int_ne(memcmp(key.key, offer->media[1].crypto[0].keys[0].key, 16), 0);
	ck_assert_int_ne(memcmp(key.key, agent->media[0].crypto[0].keys[0].key, 16), 0);
	sdp_desc_free(back);
	sdp_text_free(text);
	srtp_keys_wipe(&key);
	sdp_desc_free(agent);
	sdp_desc_free(offer);
}
END_TEST

START_TEST(sdp_built_answer_mirrors_direction_and_negotiates_rtcp_mux)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *offer = parse_str(
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/SAVPF 0 101\r\na=sendonly\r\na=rtcp-mux\r\n"
	        "a=rtpmap:101 telephone-event/8000\r\n"
	        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n");
	struct sdp_desc *agent;
	struct sdp_verdict v;
	struct srtp_keys key;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(offer, &pol, &v), 0);
	leg_init(&leg, "127.0.0.5", 40010);
	/* answered from the offer alone */
	ck_assert_int_eq(sdp_build_answer(&text, &leg.local, offer, &v, NULL, &key), 0);
	ck_assert_ptr_nonnull(strstr(text, "m=audio 40010 RTP/SAVPF 0 101\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=recvonly\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=rtcp-mux\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=crypto:3 "));
	sdp_text_free(text);
	srtp_keys_wipe(&key);

	/* the agent answered inactive and without rtcp-mux: the direction limits our
	 * answer; rtcp-mux does not (each leg negotiates its own: the relay runs this leg
	 * muxed because the offer was, so the answer must say so too) */
	agent = agent_answer("RTP/SAVPF", "", "a=inactive\r\n");
	ck_assert_int_eq(sdp_build_answer(&text, &leg.local, offer, &v, agent, &key), 0);
	ck_assert_ptr_nonnull(strstr(text, "a=inactive\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "a=rtcp-mux\r\n"));
	sdp_text_free(text);
	srtp_keys_wipe(&key);
	sdp_desc_free(agent);

	/* no common format */
	agent = parse_str("v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	                  "m=audio 5000 RTP/SAVPF 8\r\n");
	text = NULL;
	ck_assert_int_eq(sdp_build_answer(&text, &leg.local, offer, &v, agent, &key), -ENOMSG);
	ck_assert_ptr_null(text);
	sdp_desc_free(agent);
	sdp_desc_free(offer);
}
END_TEST

/* A re-offer or answer that keeps a leg's key writes that key and makes none (RFC 4568
 * s7.1.4); keys that break the rules are refused, not replaced. */
START_TEST(sdp_reoffer_and_answer_keep_write_the_given_key)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *offer = parse_str(
	        "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/SAVP 0\r\n"
	        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n");
	struct sdp_desc *back;
	struct sdp_verdict v;
	struct srtp_keys key, copy;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(offer, &pol, &v), 0);
	leg_init(&leg, "127.0.0.5", 40010);
	ck_assert_int_eq(srtp_keys_generate(&key, SUITE_AES_CM_128_HMAC_SHA1_80), 0);
	key.tag = 5;
	copy = key;
	/* the re-offer: exactly this key, under its tag */
	ck_assert_int_eq(sdp_build_reoffer(&text, &leg.local, offer, &v, &key, 1), 0);
	back = parse_str(text);
	ck_assert_uint_eq(back->media[0].ncrypto, 1);
	ck_assert_uint_eq(back->media[0].crypto[0].tag, 5);
	ck_assert_int_eq(back->media[0].crypto[0].suite, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_int_eq(memcmp(back->media[0].crypto[0].keys[0].key, copy.key, 16), 0);
	ck_assert_int_eq(memcmp(back->media[0].crypto[0].keys[0].salt, copy.salt, 14), 0);
	ck_assert_int_eq(memcmp(&key, &copy, sizeof(key)), 0);
	sdp_desc_free(back);
	sdp_text_free(text);

	/* the answer: the tag must be the offer's */
	text = NULL;
	ck_assert_int_eq(sdp_build_answer_keep(&text, &leg.local, offer, &v, NULL, &key), -EINVAL);
	ck_assert_ptr_null(text);
	key.tag = v.tag;
	ck_assert_int_eq(sdp_build_answer_keep(&text, &leg.local, offer, &v, NULL, &key), 0);
	back = parse_str(text);
	ck_assert_uint_eq(back->media[0].crypto[0].tag, 3);
	ck_assert_int_eq(memcmp(back->media[0].crypto[0].keys[0].key, copy.key, 16), 0);
	sdp_desc_free(back);
	sdp_text_free(text);

	/* another suite than the offer chose, an unusable or tagless key: refused */
	text = NULL;
	key.suite = SUITE_AES_256_CM_HMAC_SHA1_80;
	ck_assert_int_eq(sdp_build_answer_keep(&text, &leg.local, offer, &v, NULL, &key), -EINVAL);
	key.suite = SUITE_NONE;
	ck_assert_int_eq(sdp_build_reoffer(&text, &leg.local, offer, &v, &key, 1), -EINVAL);
	key = copy;
	key.tag = 0;
	ck_assert_int_eq(sdp_build_reoffer(&text, &leg.local, offer, &v, &key, 1), -EINVAL);
	ck_assert_int_eq(sdp_build_reoffer(&text, &leg.local, offer, &v, &key, 0), -EINVAL);
	ck_assert_ptr_null(text);
	srtp_keys_wipe(&key);
	srtp_keys_wipe(&copy);
	sdp_desc_free(offer);
}
END_TEST

START_TEST(sdp_built_answer_plain_for_legacy_offer)
{
	struct sdp_policy pol = POLICY(pref_default, true, true);
	struct sdp_desc *offer = parse_file("rtp_avp.sdp");
	struct sdp_verdict v;
	struct leg leg;
	char *text = NULL;

	ck_assert_int_eq(sdp_check_offer(offer, &pol, &v), 0);
	leg_init(&leg, "127.0.0.6", 40012);
	ck_assert_int_eq(sdp_build_answer(&text, &leg.local, offer, &v, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "m=audio 40012 RTP/AVP 0 8 101\r\n"));
	ck_assert_ptr_null(strstr(text, "crypto"));
	ck_assert_ptr_null(strstr(text, "192.168.1.20"));
	sdp_text_free(text);
	sdp_desc_free(offer);
}
END_TEST

START_TEST(sdp_full_round_trip_offer_then_answer_between_legs)
{
	struct sdp_policy trunk = POLICY(pref_default, true, false);
	struct sdp_policy agentp = POLICY(pref_default, true, false);
	struct sdp_desc *t_offer = parse_file("carrier_unpadded.sdp"), *a_offer, *a_answer;
	struct sdp_verdict tv, av, ansv;
	struct srtp_keys a_keys[4], agent_key, t_key;
	size_t na = 0;
	struct leg to_agent, to_trunk;
	char *offer_text = NULL, *agent_text = NULL, *answer_text = NULL;

	ck_assert_int_eq(sdp_check_offer(t_offer, &trunk, &tv), 0);
	leg_init(&to_agent, "127.0.0.7", 40014);
	leg_init(&to_trunk, "127.0.0.8", 40016);
	ck_assert_int_eq(sdp_build_offer(&offer_text, &to_agent.local, t_offer, &tv, agentp.suites,
	                                 agentp.nsuites, a_keys, 4, &na),
	                 0);
	/* the agent side: checks our offer like any offer and answers it */
	a_offer = parse_str(offer_text);
	ck_assert_int_eq(sdp_check_offer(a_offer, &agentp, &av), 0);
	ck_assert_uint_eq(av.tag, 1);
	ck_assert_int_eq(
	        sdp_build_answer(&agent_text, &to_trunk.local, a_offer, &av, NULL, &agent_key), 0);
	/* back at sipwarden: the agent's answer is checked against what we offered */
	a_answer = parse_str(agent_text);
	ck_assert_int_eq(sdp_check_answer(a_answer, &agentp, a_keys, na, &ansv), 0);
	ck_assert_int_eq(
	        sdp_build_answer(&answer_text, &to_trunk.local, t_offer, &tv, a_answer, &t_key), 0);
	ck_assert_ptr_nonnull(strstr(answer_text, "m=audio 40016 RTP/SAVP 18 0 101\r\n"));
	ck_assert_ptr_nonnull(strstr(answer_text, "a=fmtp:18 annexb=no\r\n"));
	ck_assert_ptr_nonnull(strstr(answer_text, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
	ck_assert_ptr_null(strstr(answer_text, KEY256));
	ck_assert_ptr_null(strstr(answer_text, "\r\nb="));
	ck_assert_int_ne(memcmp(t_key.key, a_keys[0].key, 16), 0);
	ck_assert_int_ne(memcmp(t_key.key, agent_key.key, 16), 0);

	sdp_text_free(offer_text);
	sdp_text_free(agent_text);
	sdp_text_free(answer_text);
	for (size_t i = 0; i < na; i++)
		srtp_keys_wipe(&a_keys[i]);
	srtp_keys_wipe(&agent_key);
	srtp_keys_wipe(&t_key);
	sdp_desc_free(a_offer);
	sdp_desc_free(a_answer);
	sdp_desc_free(t_offer);
}
END_TEST

/*
 * A late offer (an INVITE without SDP) runs the same functions in the other order: the
 * agent's offer comes in its 2xx, the trunk gets our offer in our 200 and answers in its
 * ACK, the agent gets our answer in our ACK. Formats end as the trunk chose them, and
 * every key is fresh on its leg.
 */
START_TEST(sdp_late_offer_chain_keeps_keys_on_their_leg)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *a_offer = parse_file("carrier_unpadded.sdp"), *t_offer, *t_answer;
	struct sdp_verdict av, tv, tav;
	struct srtp_keys t_keys[SUITE_COUNT], a_key;
	size_t nt = 0;
	struct leg to_trunk, to_agent;
	char *offer_text = NULL, *trunk_text = NULL, *answer_text = NULL;

	/* the agent's offer in its 2xx, policed like any offer */
	ck_assert_int_eq(sdp_check_offer(a_offer, &pol, &av), 0);
	leg_init(&to_trunk, "127.0.0.7", 40020);
	leg_init(&to_agent, "127.0.0.8", 40022);
	/* our offer to the trunk, in our 200 */
	ck_assert_int_eq(sdp_build_offer(&offer_text, &to_trunk.local, a_offer, &av, pol.suites,
	                                 pol.nsuites, t_keys, SUITE_COUNT, &nt),
	                 0);
	ck_assert_ptr_null(strstr(offer_text, KEY128_A));
	/* the trunk answers with PCMU only, in its ACK */
	t_offer = parse_str(offer_text);
	ck_assert_int_eq(sdp_check_offer(t_offer, &pol, &tv), 0);
	t_answer = parse_str("v=0\r\no=pbx 1 1 IN IP4 192.0.2.50\r\ns=-\r\n"
	                     "c=IN IP4 192.0.2.50\r\nt=0 0\r\n"
	                     "m=audio 7000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	                     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n");
	ck_assert_int_eq(sdp_check_answer(t_answer, &pol, t_keys, nt, &tav), 0);
	/* our answer to the agent, in our ACK: its tag 2 (our preference), a fresh key, the
	 * trunk's format */
	ck_assert_int_eq(
	        sdp_build_answer(&answer_text, &to_agent.local, a_offer, &av, t_answer, &a_key), 0);
	ck_assert_ptr_nonnull(strstr(answer_text, "m=audio 40022 RTP/SAVP 0\r\n"));
	ck_assert_ptr_nonnull(strstr(answer_text, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
	ck_assert_ptr_null(strstr(answer_text, KEY128_A));
	ck_assert_ptr_null(strstr(answer_text, KEY128_B));
	for (size_t i = 0; i < nt; i++) {
		ck_assert_int_ne(memcmp(t_keys[i].key, a_key.key, 16), 0);
		ck_assert_int_ne(memcmp(t_keys[i].key, a_offer->media[0].crypto[1].keys[0].key, 16),
		                 0);
	}
	/* an answer in the ACK with a tag we did not offer is refused */
	trunk_text = strdup("v=0\r\no=pbx 1 2 IN IP4 192.0.2.50\r\ns=-\r\nc=IN IP4 192.0.2.50\r\n"
	                    "t=0 0\r\nm=audio 7000 RTP/SAVP 0\r\n"
	                    "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n");
	sdp_desc_free(t_answer);
	t_answer = parse_str(trunk_text);
	ck_assert_int_eq(sdp_check_answer(t_answer, &pol, t_keys, nt, &tav), -EPERM);
	ck_assert_int_eq(tav.reason, SDP_R_CRYPTO_TAG_NOT_OFFERED);

	free(trunk_text);
	sdp_text_free(offer_text);
	sdp_text_free(answer_text);
	for (size_t i = 0; i < nt; i++)
		srtp_keys_wipe(&t_keys[i]);
	srtp_keys_wipe(&a_key);
	sdp_desc_free(a_offer);
	sdp_desc_free(t_offer);
	sdp_desc_free(t_answer);
}
END_TEST

TCase *
sdp_build_tcase(void)
{
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, sdp_built_offer_parses_back_with_new_origin_address_and_keys);
	tcase_add_test(tc, sdp_built_offer_keeps_avpf_rtcp_mux_and_drops_foreign_attributes);
	tcase_add_test(tc, sdp_built_offer_plain_for_legacy_leg_has_no_crypto);
	tcase_add_test(tc, sdp_built_offer_skips_unusable_suites_and_checks_room);
	tcase_add_test(tc, sdp_built_offer_draws_all_its_keys_from_one_rand_call);
	tcase_add_test(tc, sdp_origin_ids_are_fresh);
	tcase_add_test(tc, sdp_answer_checks_tag_suite_and_count);
	tcase_add_test(tc, sdp_answer_rejecting_audio_refused);
	tcase_add_test(tc, sdp_answer_to_plain_offer_needs_legacy_peer_and_rtp_avp);
	tcase_add_test(tc, sdp_built_answer_to_trunk_uses_chosen_tag_fresh_key_and_rejects_video);
	tcase_add_test(tc, sdp_built_answer_mirrors_direction_and_negotiates_rtcp_mux);
	tcase_add_test(tc, sdp_reoffer_and_answer_keep_write_the_given_key);
	tcase_add_test(tc, sdp_built_answer_plain_for_legacy_offer);
	tcase_add_test(tc, sdp_full_round_trip_offer_then_answer_between_legs);
	tcase_add_test(tc, sdp_late_offer_chain_keeps_keys_on_their_leg);
	return tc;
}
