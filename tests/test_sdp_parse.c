/*
 * test_sdp_parse.c: reading a peer's SDP (lib/sdp.h), part of the sdp unit test
 * (test_sdp.c has the suite): parsing, and the offer policy that refuses what is not
 * SRTP enough. Fixtures: tests/data/sdp/.
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sdp.h"
#include "test_sdp.h"

static int
parse_fails(const char *s, size_t len, const char **why)
{
	struct sdp_desc *d = (struct sdp_desc *)0x1;
	int rc = sdp_parse(&d, s, len, why);

	ck_assert_ptr_eq(d, (struct sdp_desc *)0x1); /* untouched on failure */
	return rc;
}

static enum sdp_reason
offer_reason(const char *file, struct sdp_policy pol, struct sdp_verdict *v)
{
	struct sdp_desc *d = parse_file(file);
	int rc = sdp_check_offer(d, &pol, v);

	ck_assert_int_eq(rc, v->reason == SDP_OK ? 0 : -EPERM);
	sdp_desc_free(d);
	return v->reason;
}

/* ---- parsing ------------------------------------------------------------------------- */

START_TEST(sdp_parses_asterisk_offer_fields)
{
	struct sdp_desc *d = parse_file("asterisk_savp_two_crypto.sdp");
	const struct sdp_stream *m;

	ck_assert_str_eq(d->origin_user, "-");
	ck_assert_str_eq(d->origin_id, "1766412000");
	ck_assert_uint_eq(d->nmedia, 1);
	m = &d->media[0];
	ck_assert_str_eq(m->type, "audio");
	ck_assert_int_eq(m->proto, SDP_PROTO_RTP_SAVP);
	ck_assert_uint_eq(m->port, 17362);
	ck_assert_int_eq(m->conn.family, AF_INET);
	ck_assert_str_eq(m->conn.text, "198.51.100.10");
	ck_assert_uint_eq(m->nformats, 3);
	ck_assert_uint_eq(m->formats[2].pt, 101);
	ck_assert_str_eq(m->formats[2].rtpmap, "telephone-event/8000");
	ck_assert_str_eq(m->formats[2].fmtp, "0-16");
	ck_assert_ptr_null(m->formats[0].fmtp);
	ck_assert_uint_eq(m->ptime, 20);
	ck_assert_uint_eq(m->maxptime, 150);
	ck_assert_int_eq(m->dir, SDP_DIR_SENDRECV);
	ck_assert(!m->rtcp_mux);
	ck_assert_uint_eq(m->ncrypto, 2);
	ck_assert_uint_eq(m->crypto[0].tag, 1);
	ck_assert_int_eq(m->crypto[0].suite, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_int_eq(m->crypto[1].suite, SUITE_AES_CM_128_HMAC_SHA1_32);
	sdp_desc_free(d);
}
END_TEST

/* A call keeps both peers' parsed SDP for its lifetime: what one desc costs is per call.
 * (Under ASan mallinfo2() sees nothing; the check is for the normal build.) */
START_TEST(sdp_desc_costs_what_its_lines_need)
{
	struct mallinfo2 before, after;
	struct sdp_desc *d = NULL;
	const char *why = NULL;
	size_t len;
	char *body = load("asterisk_savp_two_crypto.sdp", &len);

	ck_assert_int_eq(sdp_parse(&d, body, len, &why), 0); /* first use sets up libraries */
	sdp_desc_free(d);
	before = mallinfo2();
	ck_assert_int_eq(sdp_parse(&d, body, len, &why), 0);
	after = mallinfo2();
	free(body);
	ck_assert_uint_eq(d->media[0].ncrypto, 2);
	ck_assert_msg(after.uordblks - before.uordblks <= 4096,
	              "one audio line with two a=crypto keeps %zu bytes",
	              after.uordblks - before.uordblks);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_parses_ipv6_media_level_connection_and_rtcp_mux)
{
	struct sdp_desc *d = parse_file("savpf_opus.sdp");
	const struct sdp_stream *m = &d->media[0];

	ck_assert_int_eq(d->session_conn.family, 0);
	ck_assert_int_eq(m->conn.family, AF_INET6);
	ck_assert_str_eq(m->conn.text, "2001:db8::7");
	ck_assert_int_eq(m->proto, SDP_PROTO_RTP_SAVPF);
	ck_assert(m->rtcp_mux);
	ck_assert_str_eq(m->formats[0].rtpmap, "opus/48000/2");
	ck_assert_str_eq(m->formats[0].fmtp, "minptime=10;useinbandfec=1");
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_parses_dtls_proto_and_session_level_hold_address)
{
	struct sdp_desc *d = parse_file("dtls.sdp");

	ck_assert_int_eq(d->media[0].proto, SDP_PROTO_DTLS_SAVPF);
	sdp_desc_free(d);
	d = parse_file("audio_video_hold.sdp");
	ck_assert_uint_eq(d->nmedia, 2);
	ck_assert_str_eq(d->media[1].conn.text, "0.0.0.0");
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_tolerates_lf_only_and_missing_final_newline)
{
	struct sdp_desc *d = parse_str("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	                               "t=0 0\nm=audio 4000 RTP/AVP 0");

	ck_assert_uint_eq(d->nmedia, 1);
	ck_assert_uint_eq(d->media[0].port, 4000);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_refuses_malformed_bodies)
{
	static const char *const bad[] = {
	        "hello world\r\n",
	        "o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n",       /* no v= */
	        "v=0\r\n=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n", /* line starts with '=' */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\r\nm=audio 1 RTP/AVP 0\r\n",
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	        "m=audio 70000 RTP/AVP 0\r\n", /* port out of range */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 0\r\n", /* host name in c= */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 200\r\n", /* payload type out of range */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 0\r\n", /* no c= anywhere */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 224.2.1.1/127\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 0\r\n", /* multicast */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\na=recvonly\r\n", /* conflicting dir */
	        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	        "m=audio 4000 RTP/AVP 0\r\na=ptime:abc\r\n",
	        "v=0\r\no=- x 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n", /* o=
	                                                                                        id
	                                                                                      */
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(parse_fails(bad[i], strlen(bad[i]), &why) == -EINVAL, "case %zu", i);
		ck_assert_ptr_nonnull(why);
	}
	why = NULL;
	static const char nul[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n\0s=-\r\nt=0 0\r\n";

	ck_assert_int_eq(parse_fails(nul, sizeof(nul) - 1, &why), -EINVAL);
	ck_assert_str_eq(why, "NUL byte in SDP body");
	ck_assert_int_eq(parse_fails("", 0, &why), -EINVAL);
}
END_TEST

START_TEST(sdp_records_crypto_problems_without_failing_parse)
{
	struct sdp_desc *d = parse_file("bad_crypto.sdp");

	ck_assert_uint_eq(d->media[0].ncrypto, 0);
	ck_assert_uint_eq(d->media[0].ncrypto_bad, 1);
	ck_assert_ptr_nonnull(d->media[0].crypto_bad_why);
	sdp_desc_free(d);
	d = parse_file("dup_tags.sdp");
	ck_assert(d->media[0].crypto_dup_tag);
	sdp_desc_free(d);
}
END_TEST

/* ---- offer policy -------------------------------------------------------------------- */

START_TEST(sdp_offer_asterisk_two_crypto_picks_our_first_suite)
{
	struct sdp_verdict v;

	ck_assert_int_eq(
	        offer_reason("asterisk_savp_two_crypto.sdp", POLICY(pref_default, true, false), &v),
	        SDP_OK);
	ck_assert_int_eq(v.media, 0);
	ck_assert(v.srtp);
	ck_assert_int_eq(v.crypto, 0);
	ck_assert_uint_eq(v.tag, 1);
	ck_assert_int_eq(v.suite, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_str_eq(v.text, "");
}
END_TEST

START_TEST(sdp_offer_our_preference_wins_over_offer_order)
{
	static const enum srtp_suite pref_32_first[] = {SUITE_AES_CM_128_HMAC_SHA1_32,
	                                                SUITE_AES_CM_128_HMAC_SHA1_80};
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("asterisk_savp_two_crypto.sdp",
	                              POLICY(pref_32_first, true, false), &v),
	                 SDP_OK);
	ck_assert_uint_eq(v.tag, 2);
	ck_assert_int_eq(v.suite, SUITE_AES_CM_128_HMAC_SHA1_32);
	/* carrier lists AES-256 first; with AES-128 preferred, AES-128 (tag 2) wins */
	ck_assert_int_eq(
	        offer_reason("carrier_unpadded.sdp", POLICY(pref_default, true, false), &v),
	        SDP_OK);
	ck_assert_uint_eq(v.tag, 2);
	ck_assert_int_eq(v.suite, SUITE_AES_CM_128_HMAC_SHA1_80);
}
END_TEST

START_TEST(sdp_offer_carrier_unpadded_aes256_key_accepted)
{
	struct sdp_verdict v;
	struct sdp_desc *d;

	ck_assert_int_eq(
	        offer_reason("carrier_unpadded.sdp", POLICY(pref_256_first, true, false), &v),
	        SDP_OK);
	ck_assert_uint_eq(v.tag, 1);
	ck_assert_int_eq(v.suite, SUITE_AES_256_CM_HMAC_SHA1_80);
	d = parse_file("carrier_unpadded.sdp");
	ck_assert(!d->media[0].crypto[0].was_padded);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_offer_gcm_first_chooses_by_our_order)
{
	static const enum srtp_suite only_cm[] = {SUITE_AES_CM_128_HMAC_SHA1_80};
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("gcm_first.sdp", POLICY(only_cm, true, false), &v), SDP_OK);
	ck_assert_uint_eq(v.tag, 3);
	ck_assert_int_eq(v.crypto, 2);
	ck_assert_int_eq(offer_reason("gcm_first.sdp", POLICY(pref_gcm, true, false), &v), SDP_OK);
	ck_assert_uint_eq(v.tag, 2);
	ck_assert_int_eq(v.suite, SUITE_AEAD_AES_128_GCM);
}
END_TEST

START_TEST(sdp_offer_savpf_accepted)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("savpf_opus.sdp", POLICY(pref_default, true, false), &v),
	                 SDP_OK);
	ck_assert(v.srtp);
}
END_TEST

START_TEST(sdp_offer_rtp_avp_from_non_legacy_refused_no_srtp)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("rtp_avp.sdp", POLICY(pref_default, true, false), &v),
	                 SDP_R_NO_SRTP);
	ck_assert_str_eq(sdp_reason_name(v.reason), "no_srtp");
	ck_assert(!v.srtp);
	assert_warning_text_safe(&v);
}
END_TEST

START_TEST(sdp_offer_rtp_avp_from_legacy_accepted_plain)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("rtp_avp.sdp", POLICY(pref_default, true, true), &v), SDP_OK);
	ck_assert(!v.srtp);
	ck_assert_int_eq(v.crypto, -1);
	ck_assert_int_eq(v.media, 0);
}
END_TEST

START_TEST(sdp_offer_only_unencrypted_srtp_refused_weak)
{
	struct sdp_verdict v;

	ck_assert_int_eq(
	        offer_reason("unencrypted_srtp.sdp", POLICY(pref_default, true, false), &v),
	        SDP_R_WEAK_SUITE);
	ck_assert_str_eq(sdp_reason_name(v.reason), "weak_suite");
	ck_assert_ptr_nonnull(strstr(v.text, "AES_CM_128_HMAC_SHA1_80"));
	ck_assert_ptr_null(strstr(v.text, KEY128_A));
	assert_warning_text_safe(&v);
}
END_TEST

START_TEST(sdp_offer_unconfigured_suites_refused_no_acceptable_suite)
{
	static const enum srtp_suite only_gcm256[] = {SUITE_AEAD_AES_256_GCM};
	struct sdp_verdict v;

	ck_assert_int_eq(
	        offer_reason("asterisk_savp_two_crypto.sdp", POLICY(only_gcm256, true, false), &v),
	        SDP_R_NO_ACCEPTABLE_SUITE);
	ck_assert_ptr_nonnull(strstr(v.text, "AES_CM_128_HMAC_SHA1_32"));
	assert_warning_text_safe(&v);
}
END_TEST

START_TEST(sdp_offer_sdes_over_non_tls_hop_refused)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("asterisk_savp_two_crypto.sdp",
	                              POLICY(pref_default, false, false), &v),
	                 SDP_R_SDES_OVER_INSECURE_HOP);
	ck_assert_str_eq(sdp_reason_name(v.reason), "sdes_over_insecure_hop");
	/* even a legacy peer's keys on a plain hop are refused, wherever they are */
	ck_assert_int_eq(offer_reason("video_only.sdp", POLICY(pref_default, false, true), &v),
	                 SDP_R_SDES_OVER_INSECURE_HOP);
	/* plain RTP from a legacy peer on a plain hop carries no keys: fine */
	ck_assert_int_eq(offer_reason("rtp_avp.sdp", POLICY(pref_default, false, true), &v),
	                 SDP_OK);
}
END_TEST

START_TEST(sdp_offer_dtls_refused_dtls_unsupported)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("dtls.sdp", POLICY(pref_default, true, true), &v),
	                 SDP_R_DTLS_UNSUPPORTED);
	ck_assert_str_eq(sdp_reason_name(v.reason), "dtls_unsupported");
}
END_TEST

START_TEST(sdp_offer_without_audio_refused_no_audio)
{
	struct sdp_verdict v;
	struct sdp_desc *d;
	struct sdp_policy pol = POLICY(pref_default, true, false);

	ck_assert_int_eq(offer_reason("video_only.sdp", pol, &v), SDP_R_NO_AUDIO);
	ck_assert_int_eq(v.media, -1);
	d = parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	              "m=audio 0 RTP/SAVP 0\r\n");
	ck_assert_int_eq(sdp_check_offer(d, &pol, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_AUDIO);
	sdp_desc_free(d);
	d = parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
	ck_assert_int_eq(sdp_check_offer(d, &pol, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_AUDIO);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_offer_malformed_crypto_refused)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("bad_crypto.sdp", POLICY(pref_default, true, false), &v),
	                 SDP_R_MALFORMED_CRYPTO);
	assert_warning_text_safe(&v);
}
END_TEST

START_TEST(sdp_offer_duplicate_crypto_tags_refused)
{
	struct sdp_verdict v;

	ck_assert_int_eq(offer_reason("dup_tags.sdp", POLICY(pref_default, true, false), &v),
	                 SDP_R_DUPLICATE_CRYPTO_TAG);
}
END_TEST

START_TEST(sdp_offer_savp_without_crypto_refused_no_crypto)
{
	struct sdp_policy pol = POLICY(pref_default, true, true);
	struct sdp_verdict v;
	struct sdp_desc *d =
	        parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	                  "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n");

	ck_assert_int_eq(sdp_check_offer(d, &pol, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_NO_CRYPTO);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_offer_session_level_crypto_refused)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_verdict v;
	struct sdp_desc *d =
	        parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	                  "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n"
	                  "m=audio 4000 RTP/SAVP 0\r\n"
	                  "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_B "\r\n");

	ck_assert_int_eq(sdp_check_offer(d, &pol, &v), -EPERM);
	ck_assert_int_eq(v.reason, SDP_R_MALFORMED_CRYPTO);
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_offer_chooses_first_audio_after_video)
{
	struct sdp_verdict v;

	ck_assert_int_eq(
	        offer_reason("audio_video_hold.sdp", POLICY(pref_default, true, false), &v),
	        SDP_OK);
	ck_assert_int_eq(v.media, 1);
	ck_assert_uint_eq(v.tag, 7);
}
END_TEST

START_TEST(sdp_reason_names_are_distinct)
{
	int i, j;

	for (i = 0; i < SDP_R_COUNT; i++) {
		ck_assert_ptr_nonnull(sdp_reason_name((enum sdp_reason)i));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(sdp_reason_name((enum sdp_reason)i),
			                 sdp_reason_name((enum sdp_reason)j));
	}
	ck_assert_str_eq(sdp_reason_name(SDP_R_COUNT), "unknown");
}
END_TEST

TCase *
sdp_parse_tcase(void)
{
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, sdp_parses_asterisk_offer_fields);
	tcase_add_test(tc, sdp_desc_costs_what_its_lines_need);
	tcase_add_test(tc, sdp_parses_ipv6_media_level_connection_and_rtcp_mux);
	tcase_add_test(tc, sdp_parses_dtls_proto_and_session_level_hold_address);
	tcase_add_test(tc, sdp_tolerates_lf_only_and_missing_final_newline);
	tcase_add_test(tc, sdp_refuses_malformed_bodies);
	tcase_add_test(tc, sdp_records_crypto_problems_without_failing_parse);
	return tc;
}

TCase *
sdp_offer_tcase(void)
{
	TCase *tc = tcase_create("offer");

	tcase_add_test(tc, sdp_offer_asterisk_two_crypto_picks_our_first_suite);
	tcase_add_test(tc, sdp_offer_our_preference_wins_over_offer_order);
	tcase_add_test(tc, sdp_offer_carrier_unpadded_aes256_key_accepted);
	tcase_add_test(tc, sdp_offer_gcm_first_chooses_by_our_order);
	tcase_add_test(tc, sdp_offer_savpf_accepted);
	tcase_add_test(tc, sdp_offer_rtp_avp_from_non_legacy_refused_no_srtp);
	tcase_add_test(tc, sdp_offer_rtp_avp_from_legacy_accepted_plain);
	tcase_add_test(tc, sdp_offer_only_unencrypted_srtp_refused_weak);
	tcase_add_test(tc, sdp_offer_unconfigured_suites_refused_no_acceptable_suite);
	tcase_add_test(tc, sdp_offer_sdes_over_non_tls_hop_refused);
	tcase_add_test(tc, sdp_offer_dtls_refused_dtls_unsupported);
	tcase_add_test(tc, sdp_offer_without_audio_refused_no_audio);
	tcase_add_test(tc, sdp_offer_malformed_crypto_refused);
	tcase_add_test(tc, sdp_offer_duplicate_crypto_tags_refused);
	tcase_add_test(tc, sdp_offer_savp_without_crypto_refused_no_crypto);
	tcase_add_test(tc, sdp_offer_session_level_crypto_refused);
	tcase_add_test(tc, sdp_offer_chooses_first_audio_after_video);
	tcase_add_test(tc, sdp_reason_names_are_distinct);
	return tc;
}
