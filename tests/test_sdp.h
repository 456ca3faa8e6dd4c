/*
 * test_sdp.h: what the files of the sdp unit test (test_sdp.c, test_sdp_parse.c,
 * test_sdp_build.c: one Check suite, "sdp") share: keys, our suite preferences, the
 * policy macro, the fixture loaders (tests/data/sdp/) and each file's test case. Test
 * code only.
 */
#ifndef SW_TEST_SDP_H
#define SW_TEST_SDP_H

#include <check.h>
#include <stddef.h>

#include "sdp.h"

#define KEY128_A "4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm"
#define KEY128_B "K34VFiiu0qar9xWICc9PPPDx8vP09fb3+Pn6+/z9"
#define KEY256   "8PBJFLUT8nY6Gx+hMPEOKZj29uQ+QwnR5iKg4zK58bY7BIA95R7nyWQjq1t40g"

/* Our suite preferences (test_sdp.c). */
extern const enum srtp_suite pref_default[2];
extern const enum srtp_suite pref_256_first[2];
extern const enum srtp_suite pref_gcm[3];

#define POLICY(arr, tls, legacy)                                                                   \
	((struct sdp_policy){(arr), sizeof(arr) / sizeof((arr)[0]), (tls), (legacy)})

/* tests/data/sdp/<name> as a new NUL-terminated string (free()), its length in *len. */
char *load(const char *name, size_t *len);
/* A fixture or a string parsed; the test fails when it does not parse. */
struct sdp_desc *parse_file(const char *name);
struct sdp_desc *parse_str(const char *s);
/* The quoted Warning text must be safe: printable, no quote, no backslash, not empty. */
void assert_warning_text_safe(const struct sdp_verdict *v);

/* The test cases of test_sdp_parse.c (parse, offer) and test_sdp_build.c (build). */
TCase *sdp_parse_tcase(void);
TCase *sdp_offer_tcase(void);
TCase *sdp_build_tcase(void);

#endif
