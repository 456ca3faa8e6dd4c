/*
 * fuzz_rtp: the media packet path of one leg with a known key. The first input byte picks
 * what the rest is:
 *   0 mod 4: an RTP packet the peer protected (the harness protects the fuzzer's plaintext
 *            with the peer's key, so it gets past authentication) -> unprotect -> stats;
 *   1 mod 4: the same for RTCP/SRTCP;
 *   2 mod 4: raw bytes on the wire as SRTP -> unprotect (must be refused or authentic);
 *   3 mod 4: raw bytes as SRTCP.
 * Properties: a packet protected with the leg's key unprotects to the same plaintext; raw
 * bytes never authenticate (the fuzzer cannot forge an 80-bit tag); stats never read past
 * the header they are given. Fresh sessions per input, so replay state does not carry over.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "media.h"
#include "rtp_stats.h"
#include "srtp_leg.h"
#include "suite.h"

#define PKT_MAX 2048

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum srtp_suite pick[] = {SUITE_AES_CM_128_HMAC_SHA1_80,
	                                       SUITE_AEAD_AES_128_GCM,
	                                       SUITE_AES_256_CM_HMAC_SHA1_32};
	static bool init;
	struct srtp_leg *tx = NULL, *rx = NULL;
	struct srtp_keys k;
	struct rtp_stats st;
	uint8_t pkt[PKT_MAX + SRTP_LEG_TRAILER_MAX], plain[PKT_MAX];
	size_t len, n;
	int mode, rc;

	if (!init) {
		if (media_global_init() != 0)
			abort();
		init = true;
	}
	if (size < 2 || size - 2 > PKT_MAX)
		return 0;
	mode = data[0] % 4;
	memset(&k, 0, sizeof(k));
	k.suite = pick[data[1] % 3];
	/* a fixed key: the same input always takes the same path */
	for (size_t i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(0x11 * i + 1);
	for (size_t i = 0; i < sizeof(k.salt); i++)
		k.salt[i] = (uint8_t)(0x5a ^ i);
	k.tag = 1;
	FUZZ_CHECK(srtp_leg_new(&tx, &k, SRTP_LEG_OUTBOUND) == 0);
	FUZZ_CHECK(srtp_leg_new(&rx, &k, SRTP_LEG_INBOUND) == 0);
	len = size - 2;
	memcpy(pkt, data + 2, len);
	memcpy(plain, data + 2, len);
	rtp_stats_init(&st, 8000);
	if (mode == 0 || mode == 1) {
		rc = mode == 0 ? srtp_leg_protect(tx, pkt, &len, sizeof(pkt))
		               : srtp_leg_protect_rtcp(tx, pkt, &len, sizeof(pkt));
		if (rc == 0) {
			n = len;
			rc = mode == 0 ? srtp_leg_unprotect(rx, pkt, &n)
			               : srtp_leg_unprotect_rtcp(rx, pkt, &n);
			FUZZ_CHECK(rc == 0);
			FUZZ_CHECK(n == size - 2 && memcmp(pkt, plain, n) == 0);
			if (mode == 0)
				(void)rtp_stats_rtp(&st, pkt, n < 12 ? n : 12, n, 1000000, 1000000);
			else
				rtp_stats_rtcp(&st, n, 1000000);
		}
	} else {
		n = len;
		rc = mode == 2 ? srtp_leg_unprotect(rx, pkt, &n)
		               : srtp_leg_unprotect_rtcp(rx, pkt, &n);
		FUZZ_CHECK(rc != 0);
		rtp_stats_drop(&st, rc == -EBADMSG ? RTP_DROP_AUTH : RTP_DROP_MALFORMED);
	}
	srtp_leg_free(tx);
	srtp_leg_free(rx);
	srtp_keys_wipe(&k);
	return 0;
}
