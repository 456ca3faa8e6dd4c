/*
 * fuzz_sdes: one a=crypto line from a peer -> sdes_parse -> sdes_check_policy. Property:
 * a line that parses and passes the policy formats back (with and without padding) into a
 * line that parses to the same suite, tag, key and salt.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "fuzz.h"
#include "sdes.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdes_crypto c, again;
	const char *why = NULL;
	char buf[1024]; /* a 128-byte MKI takes 309 digits */

	if (sdes_parse((const char *)data, size, &c, &why) != 0) {
		FUZZ_CHECK(why != NULL);
		return 0;
	}
	FUZZ_CHECK(c.suite != SUITE_NONE && c.nkeys >= 1 && c.nkeys <= SDES_MAX_KEYS);
	if (sdes_check_policy(&c, &why) == 0) {
		const struct suite_info *si = suite_info(c.suite);

		for (int pad = 0; pad < 2; pad++) {
			int n = sdes_format(&c.keys[0], pad != 0, buf, sizeof(buf));
			FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
			FUZZ_CHECK(sdes_parse(buf, (size_t)n, &again, &why) == 0);
			FUZZ_CHECK(again.suite == c.suite && again.tag == c.tag);
			FUZZ_CHECK(CRYPTO_memcmp(again.keys[0].key, c.keys[0].key, si->key_len) ==
			           0);
			FUZZ_CHECK(CRYPTO_memcmp(again.keys[0].salt, c.keys[0].salt,
			                         si->salt_len) == 0);
			sdes_crypto_wipe(&again);
		}
	}
	sdes_crypto_wipe(&c);
	return 0;
}
