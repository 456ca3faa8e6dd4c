/*
 * fuzz_sdp: an SDP body from a peer -> sdp_parse -> the SRTP policy for offers and
 * answers (TLS hop, legacy RTP peer or not) -> sipwarden's own offer and answer built
 * from it. Properties: what sipwarden writes parses again, its own offer passes its own
 * offer policy, and the key it put in an answer is one of the suites the peer offered.
 */
#include <string.h>

#include "fuzz.h"
#include "sdp.h"
#include "suite.h"

static const enum srtp_suite suites[] = {
        SUITE_AEAD_AES_256_GCM,        SUITE_AEAD_AES_128_GCM,        SUITE_AES_256_CM_HMAC_SHA1_80,
        SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AES_256_CM_HMAC_SHA1_32, SUITE_AES_CM_128_HMAC_SHA1_32,
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static void
own_output_parses_and_passes(const char *text, bool legacy_out)
{
	struct sdp_policy pol = {suites, NSUITES, true, legacy_out};
	struct sdp_desc *d = NULL;
	struct sdp_verdict v;
	const char *why;

	FUZZ_CHECK(sdp_parse(&d, text, strlen(text), &why) == 0);
	FUZZ_CHECK(sdp_check_offer(d, &pol, &v) == 0 || v.reason == SDP_R_NO_AUDIO);
	sdp_desc_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_desc *d = NULL;
	struct sdp_origin origin;
	struct sdp_verdict v;
	struct srtp_keys keys[NSUITES], key;
	const char *why;
	size_t nkeys = 0;
	char *out = NULL;

	if (sdp_parse(&d, (const char *)data, size, &why) != 0) {
		FUZZ_CHECK(why != NULL && strchr(why, '"') == NULL);
		return 0;
	}
	FUZZ_CHECK(sdp_origin_init(&origin) == 0);
	for (int legacy = 0; legacy < 2; legacy++) {
		struct sdp_policy pol = {suites, NSUITES, true, legacy != 0};
		struct sdp_local l = {&origin, "192.0.2.1", 40000, legacy != 0};

		/* as an answer to an offer of ours with all suites */
		memset(keys, 0, sizeof(keys));
		for (size_t i = 0; i < NSUITES; i++) {
			FUZZ_CHECK(srtp_keys_generate(&keys[i], suites[i]) == 0);
			keys[i].tag = (uint32_t)i + 1;
		}
		(void)sdp_check_answer(d, &pol, keys, legacy ? 0 : NSUITES, &v);
		for (size_t i = 0; i < NSUITES; i++)
			srtp_keys_wipe(&keys[i]);

		if (sdp_check_offer(d, &pol, &v) != 0) {
			FUZZ_CHECK(v.reason != SDP_OK && strchr(v.text, '"') == NULL);
			continue;
		}
		/* the offer sipwarden sends to the other leg, from this one */
		if (sdp_build_offer(&out, &l, d, &v, suites, v.srtp ? NSUITES : 0, keys, NSUITES,
		                    &nkeys) == 0) {
			own_output_parses_and_passes(out, !v.srtp);
			sdp_text_free(out);
			for (size_t i = 0; i < nkeys; i++)
				srtp_keys_wipe(&keys[i]);
		}
		/* the answer sipwarden sends back */
		memset(&key, 0, sizeof(key));
		if (sdp_build_answer(&out, &l, d, &v, NULL, &key) == 0) {
			struct sdp_desc *a = NULL;
			FUZZ_CHECK(sdp_parse(&a, out, strlen(out), &why) == 0);
			FUZZ_CHECK(!v.srtp || key.suite == v.suite);
			sdp_desc_free(a);
			sdp_text_free(out);
		}
		srtp_keys_wipe(&key);
	}
	sdp_desc_free(d);
	return 0;
}
