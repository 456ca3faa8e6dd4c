/*
 * conf_value.h: value parsers of the config reader (internal to conf.c / conf_value.c).
 *
 * Each parser takes one INI value (already trimmed by inih) and either fills its output
 * or returns -EINVAL (list parsers also explain why). They accept exactly the documented
 * forms - no sign, no hex, no trailing junk - so that a typo is an error, not a surprise.
 * Not responsible for ranges (conf.c checks them against its key table).
 */
#ifndef SW_CONF_VALUE_H
#define SW_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* yes/no/true/false/on/off/1/0 (any case). */
int conf_value_bool(const char *v, bool *out);
/* Decimal digits only, at most 4294967295. */
int conf_value_uint(const char *v, unsigned long *out);
/* Bytes: decimal digits with an optional k/K suffix (x1024). */
int conf_value_size(const char *v, unsigned long *out);
/* "300ms", "5s", "2m", "1h"; a bare number is seconds. Result in milliseconds. */
int conf_value_duration_ms(const char *v, unsigned long long *out);
/* Octal digits only (e.g. 0660). */
int conf_value_mode(const char *v, unsigned long *out);
/* An IPv4 or IPv6 literal (brackets allowed), port 0. */
int conf_value_ip(const char *v, struct conf_sockaddr *out);
/* A DNS name (letters, digits, '-', '.') or an IP literal, at most 253 characters. */
bool conf_value_hostname_ok(const char *v);
/* Comma list of SRTP suite names in preference order into out[] (SUITE_NONE terminated,
 * room for SUITE_COUNT entries). Unusable suites are refused with the reason. */
int conf_value_suites(const char *v, enum srtp_suite *out, size_t *n, char *why, size_t wl);
/* Comma list of CIDRs or addresses; *out is malloc'd (caller frees). */
int conf_value_cidrs(const char *v, struct conf_cidr **out, size_t *n, char *why, size_t wl);
/* SHA-256 fingerprint: 64 hex digits, optionally in ':'-separated pairs. */
int conf_value_fingerprint(const char *v, uint8_t out[32]);
/* Comma list of header names starting with "X-"; *out is a NULL-terminated malloc'd
 * vector, freed with conf_value_strv_free(). */
int conf_value_headers(const char *v, char ***out, char *why, size_t wl);
void conf_value_strv_free(char **v);

#endif
