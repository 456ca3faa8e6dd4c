/*
 * json_out.h: small helpers for the JSON that leaves sipwarden (telemetry, control).
 *
 * RFC 3339 UTC timestamps with milliseconds, in-place redaction of every string value of
 * a JSON tree through redact_str() (redact.h), and one-line serialisation. Not
 * responsible for what the documents contain (telemetry.c owns the event schema).
 */
#ifndef SW_JSON_OUT_H
#define SW_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

/* "2026-11-28T04:06:43.123Z" plus NUL. */
#define JSON_OUT_TS_LEN 25

/*
 * Format `ts` (CLOCK_REALTIME; NULL means now) as RFC 3339 UTC with milliseconds into
 * `buf` (at least JSON_OUT_TS_LEN bytes). Returns `buf`.
 */
char *json_out_timestamp(char *buf, const struct timespec *ts);

/* True if `s` has exactly the form json_out_timestamp() produces. */
int json_out_is_timestamp(const char *s);

/*
 * Pass every string value in `j` (recursively, object keys excluded) through
 * redact_str(), replacing the ones that change. Returns the number of characters masked.
 */
size_t json_out_redact(json_t *j);

/*
 * Serialise `j` compactly as one line: UTF-8, no embedded newline, ending in '\n'.
 * Returns a malloc'd string (caller frees) and its length in `*len`, or NULL.
 */
char *json_out_line(const json_t *j, size_t *len);

/* Lower-case hex of `n` bytes into `out` (2n+1 bytes). Returns `out`. */
char *json_out_hex(char *out, const unsigned char *in, size_t n);

#endif
