/*
 * test_sdp.c: the SDP side of the B2BUA (lib/sdp.h): parsing, offer/answer policy,
 * building the other leg's SDP, hold detection and downgrade refusal.
 * Fixtures: tests/data/sdp/ (real-world-looking offers, CRLF).
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <osipparser2/sdp_message.h>

#include "sdp.h"

#define KEY128_A "4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm"
#define KEY128_B "K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9"
#define KEY256   "8PBJFLUT8nY6Gx+hMPEOKZj29uQ+QwnR5iKg4zK58bY7BIA95R7nyWQjq1t40g"

static const enum srtp_suite pref_default[] = {SUITE_AES_CM_128_HMAC_SHA1_80,
                                               SUITE_AES_CM_128_HMAC_SHA1_32};
static const enum srtp_suite pref_256_first[] = {SUITE_AES_256_CM_HMAC_SHA1_80,
                                                 SUITE_AES_CM_128_HMAC_SHA1_80};
static const enum srtp_suite pref_gcm[] = {SUITE_AEAD_AES_128_GCM, SUITE_AES_CM_128_HMAC_SHA1_80,
                                           SUITE_AES_CM_128_HMAC_SHA1_32};

#define POLICY(arr, tls, legacy)                                                                   \
	((struct sdp_policy){(arr), sizeof(arr) / sizeof((arr)[0]), (tls), (legacy)})

static char *
load(const char *name, size_t *len)
{
	const char *dir = getenv("SW_TESTDATA");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/data/sdp/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct sdp_desc *
parse_file(const char *name)
{
	struct sdp_desc *d = NULL;
	const char *why = NULL;
	size_t len;
	char *body = load(name, &len);
	int rc = sdp_parse(&d, body, len, &why);

	ck_assert_msg(rc == 0, "%s: %s", name, why ? why : "?");
	free(body);
	return d;
}

static struct sdp_desc *
parse_str(const char *s)
{
	struct sdp_desc *d = NULL;
	const char *why = NULL;
	int rc = sdp_parse(&d, s, strlen(s), &why);

	ck_assert_msg(rc == 0, "parse: %s", why ? why : "?");
	return d;
}

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

/* The quoted Warning text must be safe: printable, no quote, no backslash, not empty. */
static void
assert_warning_text_safe(const struct sdp_verdict *v)
{
	const char *s;

	ck_assert_int_gt((int)strlen(v->text), 0);
	for (s = v->text; *s; s++)
		ck_assert(*s >= ' ' && *s <= '~' && *s != '"' && *s != '\\');
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

/* ---- hold and re-INVITE ------------------------------------------------------------- */

static struct sdp_desc *
offer_with(const char *caddr, const char *dirline)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
	         "m=audio 4000 RTP/SAVP 0\r\n%s"
	         "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY128_A "\r\n",
	         caddr, dirline);
	return parse_str(buf);
}

START_TEST(sdp_hold_and_resume_detected)
{
	static const struct {
		const char *addr, *dir;
		bool hold;
		enum sdp_dir eff;
	} cases[] = {
	        {"192.0.2.1", "", false, SDP_DIR_SENDRECV},
	        {"192.0.2.1", "a=sendrecv\r\n", false, SDP_DIR_SENDRECV},
	        {"192.0.2.1", "a=sendonly\r\n", true, SDP_DIR_SENDONLY},
	        {"192.0.2.1", "a=inactive\r\n", true, SDP_DIR_INACTIVE},
	        {"192.0.2.1", "a=recvonly\r\n", false, SDP_DIR_RECVONLY},
	        {"0.0.0.0", "", true, SDP_DIR_SENDONLY},
	        {"0.0.0.0", "a=recvonly\r\n", true, SDP_DIR_INACTIVE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sdp_desc *d = offer_with(cases[i].addr, cases[i].dir);

		ck_assert_msg(sdp_stream_is_hold(&d->media[0]) == cases[i].hold, "case %zu", i);
		ck_assert_int_eq(sdp_stream_dir(&d->media[0]), cases[i].eff);
		sdp_desc_free(d);
	}
}
END_TEST

START_TEST(sdp_session_level_direction_applies_to_media)
{
	struct sdp_desc *d = parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	                               "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=inactive\r\n"
	                               "m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n"
	                               "a=sendrecv\r\n");

	ck_assert(sdp_stream_is_hold(&d->media[0]));
	ck_assert(!sdp_stream_is_hold(&d->media[1]));
	sdp_desc_free(d);
}
END_TEST

START_TEST(sdp_downgrade_on_reinvite_refused)
{
	struct sdp_policy pol = POLICY(pref_256_first, true, true);
	struct sdp_verdict old = {
	        .reason = SDP_OK, .srtp = true, .suite = SUITE_AES_256_CM_HMAC_SHA1_80, .tag = 1};
	struct sdp_verdict neu = old, why;
	static const enum srtp_suite pref_32[] = {SUITE_AES_CM_128_HMAC_SHA1_80,
	                                          SUITE_AES_CM_128_HMAC_SHA1_32};
	struct sdp_policy pol32 = POLICY(pref_32, true, false);

	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), 0);

	neu.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), -EPERM);
	ck_assert_int_eq(why.reason, SDP_R_DOWNGRADE);
	ck_assert_str_eq(sdp_reason_name(why.reason), "downgrade");
	assert_warning_text_safe(&why);

	/* upgrade is fine */
	ck_assert_int_eq(sdp_check_downgrade(&neu, &old, &pol, &why), 0);

	neu.srtp = false;
	neu.suite = SUITE_NONE;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why.text, "plain RTP"));

	/* a shorter tag is weaker even if both suites are configured and in order */
	old.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	neu.srtp = true;
	neu.suite = SUITE_AES_CM_128_HMAC_SHA1_32;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol32, &why), -EPERM);
	/* plain to plain (legacy) and plain to SRTP are not downgrades */
	old.srtp = false;
	ck_assert_int_eq(sdp_check_downgrade(&old, &neu, &pol, &why), 0);
}
END_TEST

START_TEST(sdp_reinvite_from_real_offers_detects_weaker_suite)
{
	struct sdp_policy pol = POLICY(pref_default, true, false);
	struct sdp_desc *first = parse_file("asterisk_savp_two_crypto.sdp");
	struct sdp_desc *second = offer_with("192.0.2.1", "");
	struct sdp_desc *third;
	struct sdp_verdict v1, v2, v3;

	ck_assert_int_eq(sdp_check_offer(first, &pol, &v1), 0);
	ck_assert_int_eq(sdp_check_offer(second, &pol, &v2), 0);
	ck_assert_int_eq(sdp_check_downgrade(&v1, &v2, &pol, &v2), 0);
	third = parse_str("v=0\r\no=- 1 3 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                  "t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
	                  "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY128_B "\r\n");
	ck_assert_int_eq(sdp_check_offer(third, &pol, &v3), 0);
	ck_assert_int_eq(sdp_check_downgrade(&v1, &v3, &pol, &v3), -EPERM);
	ck_assert_int_eq(v3.reason, SDP_R_DOWNGRADE);
	sdp_desc_free(first);
	sdp_desc_free(second);
	sdp_desc_free(third);
}
END_TEST

static Suite *
sdp_suite(void)
{
	Suite *s = suite_create("sdp");
	TCase *p = tcase_create("parse"), *o = tcase_create("offer"), *b = tcase_create("build"),
	      *h = tcase_create("hold_reinvite");

	tcase_add_test(p, sdp_parses_asterisk_offer_fields);
	tcase_add_test(p, sdp_desc_costs_what_its_lines_need);
	tcase_add_test(p, sdp_parses_ipv6_media_level_connection_and_rtcp_mux);
	tcase_add_test(p, sdp_parses_dtls_proto_and_session_level_hold_address);
	tcase_add_test(p, sdp_tolerates_lf_only_and_missing_final_newline);
	tcase_add_test(p, sdp_refuses_malformed_bodies);
	tcase_add_test(p, sdp_records_crypto_problems_without_failing_parse);
	suite_add_tcase(s, p);

	tcase_add_test(o, sdp_offer_asterisk_two_crypto_picks_our_first_suite);
	tcase_add_test(o, sdp_offer_our_preference_wins_over_offer_order);
	tcase_add_test(o, sdp_offer_carrier_unpadded_aes256_key_accepted);
	tcase_add_test(o, sdp_offer_gcm_first_chooses_by_our_order);
	tcase_add_test(o, sdp_offer_savpf_accepted);
	tcase_add_test(o, sdp_offer_rtp_avp_from_non_legacy_refused_no_srtp);
	tcase_add_test(o, sdp_offer_rtp_avp_from_legacy_accepted_plain);
	tcase_add_test(o, sdp_offer_only_unencrypted_srtp_refused_weak);
	tcase_add_test(o, sdp_offer_unconfigured_suites_refused_no_acceptable_suite);
	tcase_add_test(o, sdp_offer_sdes_over_non_tls_hop_refused);
	tcase_add_test(o, sdp_offer_dtls_refused_dtls_unsupported);
	tcase_add_test(o, sdp_offer_without_audio_refused_no_audio);
	tcase_add_test(o, sdp_offer_malformed_crypto_refused);
	tcase_add_test(o, sdp_offer_duplicate_crypto_tags_refused);
	tcase_add_test(o, sdp_offer_savp_without_crypto_refused_no_crypto);
	tcase_add_test(o, sdp_offer_session_level_crypto_refused);
	tcase_add_test(o, sdp_offer_chooses_first_audio_after_video);
	tcase_add_test(o, sdp_reason_names_are_distinct);
	suite_add_tcase(s, o);

	tcase_add_test(b, sdp_built_offer_parses_back_with_new_origin_address_and_keys);
	tcase_add_test(b, sdp_built_offer_keeps_avpf_rtcp_mux_and_drops_foreign_attributes);
	tcase_add_test(b, sdp_built_offer_plain_for_legacy_leg_has_no_crypto);
	tcase_add_test(b, sdp_built_offer_skips_unusable_suites_and_checks_room);
	tcase_add_test(b, sdp_origin_ids_are_fresh);
	tcase_add_test(b, sdp_answer_checks_tag_suite_and_count);
	tcase_add_test(b, sdp_answer_rejecting_audio_refused);
	tcase_add_test(b, sdp_answer_to_plain_offer_needs_legacy_peer_and_rtp_avp);
	tcase_add_test(b, sdp_built_answer_to_trunk_uses_chosen_tag_fresh_key_and_rejects_video);
	tcase_add_test(b, sdp_built_answer_mirrors_direction_and_negotiates_rtcp_mux);
	tcase_add_test(b, sdp_reoffer_and_answer_keep_write_the_given_key);
	tcase_add_test(b, sdp_built_answer_plain_for_legacy_offer);
	tcase_add_test(b, sdp_full_round_trip_offer_then_answer_between_legs);
	tcase_add_test(b, sdp_late_offer_chain_keeps_keys_on_their_leg);
	suite_add_tcase(s, b);

	tcase_add_test(h, sdp_hold_and_resume_detected);
	tcase_add_test(h, sdp_session_level_direction_applies_to_media);
	tcase_add_test(h, sdp_downgrade_on_reinvite_refused);
	tcase_add_test(h, sdp_reinvite_from_real_offers_detects_weaker_suite);
	suite_add_tcase(s, h);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sdp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
