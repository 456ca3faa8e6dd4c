/*
 * test_sdes.c: a=crypto parsing against the RFC 4568 corpus (tests/data/sdes), strict
 * base64 with and without padding, the RFC 3711 B.3 key, sipwarden's policy refusals,
 * format/parse round trips for every usable suite, and that key material is wiped.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdes.h"

#define B3_LINE         "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm"
#define B3_KEY          "\xe1\xf9\x7a\x0d\x3e\x01\x8b\xe0\xd6\x4f\xa3\x2c\x06\xde\x41\x39"
#define B3_SALT         "\x0e\xc6\x75\xad\x49\x8a\xfe\xeb\xb6\x96\x0b\x3a\xab\xe6"
#define GCM128_PADDED   "AAECAwQFBgcICQoLDA0OD1F1aWQgcHJvIHF1bw=="
#define GCM128_UNPADDED "AAECAwQFBgcICQoLDA0OD1F1aWQgcHJvIHF1bw"

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static int
parse_str(const char *s, struct sdes_crypto *c, const char **why)
{
	*why = NULL;
	return sdes_parse(s, strlen(s), c, why);
}

static FILE *
open_data(const char *name)
{
	const char *dir = getenv("SW_TESTDATA");
	char path[1024];
	FILE *f;

	ck_assert_msg(dir != NULL, "SW_TESTDATA not set");
	snprintf(path, sizeof(path), "%s/data/sdes/%s", dir, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	return f;
}

/* Next attribute line of a corpus file (comments and blank lines skipped), or NULL. */
static char *
next_line(FILE *f, char **buf, size_t *cap, size_t *len, const char **comment)
{
	ssize_t n;

	while ((n = getline(buf, cap, f)) >= 0) {
		char *l = *buf, *hash;

		if (n > 0 && l[n - 1] == '\n')
			l[--n] = '\0';
		if (n == 0 || l[0] == '#')
			continue;
		hash = strstr(l, "  # ");
		*comment = hash ? hash + 4 : "";
		*len = hash ? (size_t)(hash - l) : (size_t)n;
		return l;
	}
	return NULL;
}

START_TEST(sdes_parses_every_valid_corpus_line)
{
	FILE *f = open_data("valid.txt");
	char *buf = NULL, *l;
	size_t cap = 0, len;
	const char *comment;
	unsigned count = 0, policy_ok = 0;

	while ((l = next_line(f, &buf, &cap, &len, &comment)) != NULL) {
		struct sdes_crypto c;
		const char *why = NULL;

		ck_assert_msg(sdes_parse(l, len, &c, &why) == 0, "refused (%s): %s", why, l);
		ck_assert_int_ne(c.suite, SUITE_NONE);
		ck_assert_uint_ge(c.nkeys, 1);
		ck_assert_int_eq(c.keys[0].suite, c.suite);
		ck_assert_uint_eq(c.keys[0].tag, c.tag);
		if (sdes_check_policy(&c, &why) == 0)
			policy_ok++;
		sdes_crypto_wipe(&c);
		count++;
	}
	free(buf);
	fclose(f);
	printf("valid.txt: %u lines parsed, %u also pass policy\n", count, policy_ok);
	ck_assert_uint_eq(count, 39);
	ck_assert_uint_eq(policy_ok, 26);
}
END_TEST

/* Which reason each invalid.txt comment leads us to expect; first match wins. */
static const struct {
	const char *in_comment, *reason;
} invalid_reasons[] = {
        {"extra '|'", "too many fields in key-info"},
        /* unpadded input is accepted, so 39 chars (4k+3) decode to 29 octets */
        {"bad base64: 39 chars", "wrong key length for crypto-suite"},
        {"bad base64", "bad base64 in key"},
        {"empty key-salt", "bad base64 in key"},
        {"wrong key length", "wrong key length for crypto-suite"},
        {"FEC_KEY", "bad FEC_KEY"},
        {"lifetime 2^48+1", "key lifetime exceeds suite maximum"},
        {"lifetime exceeds", "key lifetime exceeds suite maximum"},
        {"lifetime", "malformed key lifetime"},
        {"MKI length > 128", "MKI length out of range 1..128"},
        {"MKI length 0", "MKI length out of range 1..128"},
        {"cannot be encoded", "MKI value does not fit its length"},
        {"MKI lengths differ", "MKI lengths differ between keys"},
        {"lacks MKI", "several master keys without MKI"},
        {"two master keys without MKI", "several master keys without MKI"},
        {"MKI", "malformed MKI"},
        {"empty key-param", "empty key-param"},
        {"key-method", "key method missing or not inline"},
        {"key-params missing", "a=crypto key-params missing"},
        {"between crypto-suite and key-params", "a=crypto crypto-suite missing or malformed"},
        {"vendor", "unknown crypto-suite"},
        {"tag", "a=crypto tag missing or malformed"},
        {"suite", "unknown crypto-suite"},
        {"KDR", "bad KDR (must be 1..24)"},
        {"WSH", "bad WSH (must be 64 or more)"},
        {"FEC_ORDER", "bad FEC_ORDER"},
        {"session parameter", "unknown mandatory session parameter"},
        {"case-sensitive", "not an a=crypto attribute"},
};

START_TEST(sdes_parse_refuses_every_invalid_corpus_line_with_its_reason)
{
	FILE *f = open_data("invalid.txt");
	char *buf = NULL, *l;
	size_t cap = 0, len;
	const char *comment;
	unsigned count = 0;

	while ((l = next_line(f, &buf, &cap, &len, &comment)) != NULL) {
		struct sdes_crypto c;
		const char *why = NULL, *want = NULL;

		memset(&c, 0x5A, sizeof(c));
		ck_assert_msg(sdes_parse(l, len, &c, &why) == -EINVAL, "accepted: %.*s", (int)len,
		              l);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(all_zero(&c, sizeof(c)), "out not wiped after refusing %s", l);
		for (size_t i = 0; i < sizeof(invalid_reasons) / sizeof(invalid_reasons[0]); i++)
			if (strstr(comment, invalid_reasons[i].in_comment) != NULL) {
				want = invalid_reasons[i].reason;
				break;
			}
		ck_assert_msg(want != NULL, "no expected reason for comment: %s", comment);
		ck_assert_msg(strcmp(why, want) == 0, "line %s: reason '%s', expected '%s'", l, why,
		              want);
		count++;
	}
	free(buf);
	fclose(f);
	printf("invalid.txt: %u lines refused by sdes_parse\n", count);
	ck_assert_uint_eq(count, 63);
}
END_TEST

START_TEST(sdes_decodes_rfc3711_b3_master_key_and_salt)
{
	struct sdes_crypto c;
	const char *why;

	ck_assert_int_eq(parse_str(B3_LINE, &c, &why), 0);
	ck_assert_int_eq(c.suite, SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_str_eq(c.suite_name, "AES_CM_128_HMAC_SHA1_80");
	ck_assert_uint_eq(c.tag, 1);
	ck_assert_uint_eq(c.nkeys, 1);
	ck_assert_mem_eq(c.keys[0].key, B3_KEY, 16);
	ck_assert_mem_eq(c.keys[0].salt, B3_SALT, 14);
	ck_assert(all_zero(c.keys[0].key + 16, SUITE_MAX_KEY_LEN - 16));
	ck_assert_uint_eq(c.keys[0].mki_len, 0);
	ck_assert_uint_eq(c.lifetime, 0);
	ck_assert(!c.was_padded);
	ck_assert_int_eq(sdes_check_policy(&c, &why), 0);
	sdes_crypto_wipe(&c);
}
END_TEST

START_TEST(sdes_accepts_attribute_value_crypto_prefix_and_line_end)
{
	static const char *forms[] = {
	        "1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
	        "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
	        B3_LINE "\r\n",
	        B3_LINE "\n",
	        B3_LINE " \t",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct sdes_crypto c;
		const char *why;

		ck_assert_msg(parse_str(forms[i], &c, &why) == 0, "%s: %s", forms[i], why);
		ck_assert_mem_eq(c.keys[0].key, B3_KEY, 16);
		sdes_crypto_wipe(&c);
	}
}
END_TEST

START_TEST(sdes_accepts_base64_without_padding)
{
	struct sdes_crypto a, b;
	const char *why;

	ck_assert_int_eq(parse_str("1 AEAD_AES_128_GCM inline:" GCM128_PADDED, &a, &why), 0);
	ck_assert(a.was_padded);
	ck_assert_int_eq(parse_str("1 AEAD_AES_128_GCM inline:" GCM128_UNPADDED, &b, &why), 0);
	ck_assert(!b.was_padded);
	ck_assert_mem_eq(a.keys[0].key, b.keys[0].key, 16);
	ck_assert_mem_eq(a.keys[0].salt, b.keys[0].salt, 12);
	ck_assert_mem_eq(a.keys[0].key,
	                 "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16);
	ck_assert_mem_eq(a.keys[0].salt, "Quid pro quo", 12);
	sdes_crypto_wipe(&a);
	sdes_crypto_wipe(&b);
	/* one '=' where two are due, too many '=', '=' inside, 4k+1 characters */
	ck_assert_int_eq(parse_str("1 AEAD_AES_128_GCM inline:" GCM128_UNPADDED "=", &a, &why),
	                 -EINVAL);
	ck_assert_str_eq(why, "bad base64 in key");
	ck_assert_int_eq(parse_str("1 AEAD_AES_128_GCM inline:" GCM128_PADDED "=", &a, &why),
	                 -EINVAL);
	ck_assert_str_eq(why, "bad base64 in key");
	ck_assert_int_eq(
	        parse_str("1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0OD1F1aWQ=cHJvIHF1bw==", &a,
	                  &why),
	        -EINVAL);
	ck_assert_str_eq(why, "bad base64 in key");
	ck_assert_int_eq(parse_str("1 AES_CM_128_HMAC_SHA1_80 "
	                           "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvmA",
	                           &a, &why),
	                 -EINVAL);
	ck_assert_str_eq(why, "bad base64 in key");
	ck_assert_int_eq(
	        parse_str(
	                "1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqv_",
	                &a, &why),
	        -EINVAL);
	ck_assert_str_eq(why, "bad base64 in key");
}
END_TEST

START_TEST(sdes_round_trips_every_usable_suite_with_and_without_padding)
{
	unsigned tried = 0;

	for (unsigned s = SUITE_NONE + 1; s < SUITE_COUNT; s++) {
		const struct suite_info *si = suite_info((enum srtp_suite)s);

		if (!si->usable)
			continue;
		for (int pad = 0; pad <= 1; pad++) {
			struct srtp_keys k;
			struct sdes_crypto c;
			char line[256];
			const char *why;
			int n;
			bool needs_pad = (si->key_len + si->salt_len) % 3 != 0;

			memset(&k, 0, sizeof(k));
			ck_assert_int_eq(srtp_keys_generate(&k, (enum srtp_suite)s), 0);
			k.tag = 100 + s;
			n = sdes_format(&k, pad, line, sizeof(line));
			ck_assert_int_gt(n, 0);
			ck_assert_uint_eq(strlen(line), (size_t)n);
			ck_assert(strstr(line, si->name) != NULL);
			ck_assert(strncmp(line, "10", 2) == 0);
			ck_assert((strchr(line, '=') != NULL) == (pad && needs_pad));
			ck_assert_msg(parse_str(line, &c, &why) == 0, "%s: %s", si->name, why);
			ck_assert_int_eq(c.suite, (enum srtp_suite)s);
			ck_assert_uint_eq(c.tag, 100 + s);
			ck_assert_mem_eq(c.keys[0].key, k.key, si->key_len);
			ck_assert_mem_eq(c.keys[0].salt, k.salt, si->salt_len);
			ck_assert(c.was_padded == (pad && needs_pad));
			ck_assert_int_eq(sdes_check_policy(&c, &why), 0);
			sdes_crypto_wipe(&c);
			srtp_keys_wipe(&k);
			memset(line, 0, sizeof(line));
			tried++;
		}
	}
	ck_assert_uint_eq(tried, 12);
}
END_TEST

START_TEST(sdes_format_writes_rfc3711_b3_line_and_mki)
{
	struct srtp_keys k;
	struct sdes_crypto c;
	char line[512];
	const char *why;
	int n;

	memset(&k, 0, sizeof(k));
	k.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	k.tag = 1;
	memcpy(k.key, B3_KEY, 16);
	memcpy(k.salt, B3_SALT, 14);
	n = sdes_format(&k, true, line, sizeof(line));
	ck_assert_str_eq(line, &B3_LINE[strlen("a=crypto:")]);
	ck_assert_int_eq(n, (int)strlen(line));
	/* MKI 1066 in 4 bytes, as in RFC 4568 s6.1 */
	memcpy(k.mki, "\x00\x00\x04\x2a", 4);
	k.mki_len = 4;
	sdes_format(&k, true, line, sizeof(line));
	ck_assert_str_eq(
	        line,
	        "1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|1066:4");
	/* largest 128-octet MKI survives format and parse */
	memset(k.mki, 0xff, SUITE_MAX_MKI_LEN);
	k.mki_len = SUITE_MAX_MKI_LEN;
	ck_assert_int_gt(sdes_format(&k, true, line, sizeof(line)), 0);
	ck_assert_int_eq(parse_str(line, &c, &why), 0);
	ck_assert_uint_eq(c.keys[0].mki_len, SUITE_MAX_MKI_LEN);
	ck_assert_mem_eq(c.keys[0].mki, k.mki, SUITE_MAX_MKI_LEN);
	sdes_crypto_wipe(&c);
	/* an MKI of value 0 cannot be written (MKI is a positive decimal) */
	memset(k.mki, 0, SUITE_MAX_MKI_LEN);
	k.mki_len = 2;
	ck_assert_int_eq(sdes_format(&k, true, line, sizeof(line)), -EINVAL);
	srtp_keys_wipe(&k);
}
END_TEST

START_TEST(sdes_format_refuses_small_buffer_and_bad_keys)
{
	struct srtp_keys k;
	char line[128];

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(srtp_keys_generate(&k, SUITE_AEAD_AES_256_GCM), 0);
	k.tag = 1;
	/* "1 AEAD_AES_256_GCM inline:" is 26 chars, key 60: 86 + NUL */
	ck_assert_int_eq(sdes_format(&k, true, line, 86), -ENOSPC);
	ck_assert_int_eq(sdes_format(&k, false, line, 86), 85);
	ck_assert_int_eq(sdes_format(&k, true, line, 0), -ENOSPC);
	k.tag = 1000000000;
	ck_assert_int_eq(sdes_format(&k, true, line, sizeof(line)), -EINVAL);
	srtp_keys_wipe(&k);
	ck_assert_int_eq(sdes_format(&k, true, line, sizeof(line)), -EINVAL);
	ck_assert_int_eq(sdes_format(NULL, true, line, sizeof(line)), -EINVAL);
}
END_TEST

START_TEST(sdes_parse_stores_lifetime_mki_and_session_params)
{
	struct sdes_crypto c;
	const char *why;

	ck_assert_int_eq(parse_str("a=crypto:7 AES_CM_128_HMAC_SHA1_80 "
	                           "inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|2^20|1066:4 "
	                           "WSH=128 FEC_ORDER=SRTP_FEC -X-IGNORED",
	                           &c, &why),
	                 0);
	ck_assert_uint_eq(c.tag, 7);
	ck_assert_uint_eq(c.keys[0].tag, 7);
	ck_assert_uint_eq(c.lifetime, 1u << 20);
	ck_assert_uint_eq(c.keys[0].mki_len, 4);
	ck_assert_mem_eq(c.keys[0].mki, "\x00\x00\x04\x2a", 4);
	ck_assert_uint_eq(c.wsh, 128);
	ck_assert(c.fec_order_srtp_fec);
	ck_assert(!c.has_fec_key && !c.unencrypted_srtp && c.kdr == 0);
	sdes_crypto_wipe(&c);

	ck_assert_int_eq(parse_str(B3_LINE "|281474976710656 KDR=24", &c, &why), 0);
	ck_assert_uint_eq(c.lifetime, 281474976710656ull);
	ck_assert_uint_eq(c.kdr, 24);
	sdes_crypto_wipe(&c);
}
END_TEST

START_TEST(sdes_parse_refuses_duplicate_params_and_mki)
{
	struct sdes_crypto c;
	const char *why;

	ck_assert_int_eq(parse_str(B3_LINE " KDR=1 KDR=2", &c, &why), -EINVAL);
	ck_assert_str_eq(why, "duplicate session parameter");
	ck_assert_int_eq(parse_str(B3_LINE
	                           "|1:4;inline:K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9|1:4",
	                           &c, &why),
	                 -EINVAL);
	ck_assert_str_eq(why, "duplicate MKI value");
	ck_assert_int_eq(parse_str(B3_LINE "|1:1;inline:"
	                                   "4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|2:1"
	                                   ";inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|3:1"
	                                   ";inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|4:1"
	                                   ";inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|5:1",
	                           &c, &why),
	                 -EINVAL);
	ck_assert_str_eq(why, "too many master keys");
	ck_assert_int_eq(parse_str("a=rtpmap:0 PCMU/8000", &c, &why), -EINVAL);
	ck_assert_str_eq(why, "not an a=crypto attribute");
	ck_assert_int_eq(sdes_parse(NULL, 0, &c, &why), -EINVAL);
	ck_assert_int_eq(sdes_parse(B3_LINE, 0, &c, &why), -EINVAL);
}
END_TEST

START_TEST(sdes_parse_refuses_overlong_line_without_reading_past_len)
{
	size_t big = 8192;
	char *s = malloc(big);
	struct sdes_crypto c;
	const char *why;
	size_t n = strlen(B3_LINE " ");

	/* a valid start padded with a vendor parameter to 8192 bytes, no NUL at the end */
	memcpy(s, B3_LINE " -", n + 1);
	memset(s + n + 1, 'x', big - n - 1);
	ck_assert_int_eq(sdes_parse(s, big, &c, &why), -EINVAL);
	ck_assert_str_eq(why, "a=crypto line too long");
	ck_assert(all_zero(&c, sizeof(c)));
	free(s);

	/* exact-size heap copy (no NUL terminator): ASan catches any read past len */
	n = strlen(B3_LINE);
	s = malloc(n);
	memcpy(s, B3_LINE, n);
	ck_assert_int_eq(sdes_parse(s, n, &c, &why), 0);
	sdes_crypto_wipe(&c);
	/* every truncation is refused, none reads beyond its length */
	for (size_t cut = 0; cut < n - 1; cut++)
		ck_assert_msg(sdes_parse(s, cut, &c, &why) == -EINVAL, "cut %zu accepted", cut);
	free(s);
}
END_TEST

START_TEST(sdes_parse_refuses_embedded_nul_and_control_characters)
{
	char line[sizeof(B3_LINE) + 16];
	size_t n = strlen(B3_LINE);
	struct sdes_crypto c;
	const char *why;

	memcpy(line, B3_LINE, n);
	memcpy(line + n, " WSH=64", 7);
	line[n] = '\0'; /* NUL where the space was: "...Oqvm\0WSH=64" */
	ck_assert_int_eq(sdes_parse(line, n + 7, &c, &why), -EINVAL);
	ck_assert_str_eq(why, "a=crypto has control or non-ASCII characters");
	line[20] = '\0';
	line[n] = ' ';
	ck_assert_int_eq(sdes_parse(line, n + 7, &c, &why), -EINVAL);
	ck_assert_str_eq(why, "a=crypto has control or non-ASCII characters");
	memcpy(line, B3_LINE, n);
	line[n] = '\x7f';
	ck_assert_int_eq(sdes_parse(line, n + 1, &c, &why), -EINVAL);
	line[n] = '\xc3';
	ck_assert_int_eq(sdes_parse(line, n + 1, &c, &why), -EINVAL);
	ck_assert_str_eq(why, "a=crypto has control or non-ASCII characters");
	ck_assert(all_zero(&c, sizeof(c)));
}
END_TEST

static const struct {
	const char *line, *reason;
} policy_cases[] = {
        {"1 F8_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
         "crypto-suite not supported (F8, AES-192)"},
        {"1 AES_192_CM_HMAC_SHA1_80 inline:c+3GbE+hV3b7V/lQXBcTZVD/2nHz6OXxyFIvOs1M6G1a3XjtuxE=",
         "crypto-suite not supported (F8, AES-192)"},
        {"1 AES_192_CM_HMAC_SHA1_32 inline:c+3GbE+hV3b7V/lQXBcTZVD/2nHz6OXxyFIvOs1M6G1a3XjtuxE",
         "crypto-suite not supported (F8, AES-192)"},
        {B3_LINE " UNENCRYPTED_SRTP", "UNENCRYPTED_SRTP refused"},
        {B3_LINE " unencrypted_srtp", "UNENCRYPTED_SRTP refused"},
        {B3_LINE " UNENCRYPTED_SRTCP", "UNENCRYPTED_SRTCP refused"},
        {B3_LINE " UNAUTHENTICATED_SRTP", "UNAUTHENTICATED_SRTP refused"},
        {B3_LINE "|1:4;inline:K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9|2:4",
         "more than one master key refused"},
        {B3_LINE " KDR=12", "KDR refused (no SRTP re-keying)"},
        {B3_LINE " FEC_KEY=inline:K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9", "FEC_KEY refused"},
};

START_TEST(sdes_policy_refuses_unusable_suites_and_weakening_params)
{
	for (size_t i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		struct sdes_crypto c;
		const char *why = NULL;

		ck_assert_msg(parse_str(policy_cases[i].line, &c, &why) == 0, "%s: %s",
		              policy_cases[i].line, why);
		why = NULL;
		ck_assert_int_eq(sdes_check_policy(&c, &why), -EPERM);
		ck_assert_msg(why != NULL && strcmp(why, policy_cases[i].reason) == 0,
		              "%s: reason '%s', expected '%s'", policy_cases[i].line, why,
		              policy_cases[i].reason);
		sdes_crypto_wipe(&c);
	}
}
END_TEST

START_TEST(sdes_policy_refuses_unparsed_or_wiped_attribute)
{
	struct sdes_crypto c;
	const char *why;

	ck_assert_int_eq(sdes_check_policy(NULL, &why), -EPERM);
	ck_assert_str_eq(why, "no usable a=crypto attribute");
	ck_assert_int_eq(parse_str(B3_LINE, &c, &why), 0);
	ck_assert_int_eq(sdes_check_policy(&c, &why), 0);
	sdes_crypto_wipe(&c);
	ck_assert_int_eq(sdes_check_policy(&c, &why), -EPERM);
}
END_TEST

START_TEST(sdes_crypto_wipe_zeroes_keys)
{
	struct sdes_crypto c;
	const char *why;

	ck_assert_int_eq(parse_str(B3_LINE
	                           "|1:4;inline:K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9|2:4",
	                           &c, &why),
	                 0);
	ck_assert_uint_eq(c.nkeys, 2);
	ck_assert(!all_zero(c.keys[0].key, 16));
	ck_assert_mem_eq(c.keys[1].key,
	                 "\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c", 16);
	sdes_crypto_wipe(&c);
	ck_assert(all_zero(&c, sizeof(c)));
	sdes_crypto_wipe(NULL);
}
END_TEST

static Suite *
sdes_suite(void)
{
	Suite *s = suite_create("sdes");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sdes_parses_every_valid_corpus_line);
	tcase_add_test(tc, sdes_parse_refuses_every_invalid_corpus_line_with_its_reason);
	tcase_add_test(tc, sdes_decodes_rfc3711_b3_master_key_and_salt);
	tcase_add_test(tc, sdes_accepts_attribute_value_crypto_prefix_and_line_end);
	tcase_add_test(tc, sdes_accepts_base64_without_padding);
	tcase_add_test(tc, sdes_round_trips_every_usable_suite_with_and_without_padding);
	tcase_add_test(tc, sdes_format_writes_rfc3711_b3_line_and_mki);
	tcase_add_test(tc, sdes_format_refuses_small_buffer_and_bad_keys);
	tcase_add_test(tc, sdes_parse_stores_lifetime_mki_and_session_params);
	tcase_add_test(tc, sdes_parse_refuses_duplicate_params_and_mki);
	tcase_add_test(tc, sdes_parse_refuses_overlong_line_without_reading_past_len);
	tcase_add_test(tc, sdes_parse_refuses_embedded_nul_and_control_characters);
	tcase_add_test(tc, sdes_policy_refuses_unusable_suites_and_weakening_params);
	tcase_add_test(tc, sdes_policy_refuses_unparsed_or_wiped_attribute);
	tcase_add_test(tc, sdes_crypto_wipe_zeroes_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sdes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
