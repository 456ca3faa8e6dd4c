/*
 * redact.h: the one place where secrets are masked before text leaves the process.
 *
 * Every log line and every telemetry string passes through redact_str(). It masks:
 *  - SDES key material: whatever follows "inline:" up to ';', '|', whitespace or end
 *    (key||salt, and so the key is gone whatever lifetime/MKI follow);
 *  - the value of Authorization / Proxy-Authorization headers (up to end of line);
 *  - runs of 13-19 digits (spaces or dashes between groups allowed) that pass the Luhn
 *    check, i.e. look like payment card numbers.
 * Masking replaces characters in place with '*' (length preserved, so offsets and
 * framing stay valid). It does not parse SIP: it is deliberately conservative text work.
 */
#ifndef SW_REDACT_H
#define SW_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* Mask secrets in `s` (length `len`, need not be NUL-terminated) in place.
 * Returns the number of characters masked. */
size_t redact_str(char *s, size_t len);

/* True if the digits in s[0..len) (separators ' ' and '-' ignored) are 13-19 digits
 * that pass the Luhn check. */
bool redact_is_card_number(const char *s, size_t len);

#endif
