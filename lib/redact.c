/*
 * redact.c: mask secrets in text before it leaves the process (logs, telemetry).
 *
 * Responsible for three masks, applied in place with '*' so that the length of the text
 * never changes: SDES key material after "inline:", the values of Authorization and
 * Proxy-Authorization header lines, and digit runs that look like payment card numbers
 * (13-19 digits, optionally grouped by single spaces or dashes, Luhn-valid, not part of
 * a longer digit run nor of a longer token: digits touching a letter belong to an
 * identifier such as sipwarden's own hex call ids, tags and branches, which must stay
 * as they are so that a log line still matches its telemetry). Not responsible for parsing SIP or
 * SDP: it is plain, conservative text work that errs towards masking.
 */
#include "redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define CARD_MIN_DIGITS 13
#define CARD_MAX_DIGITS 19

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_sep(char c)
{
	return c == ' ' || c == '-';
}

/* Luhn check over `n` digit values. */
static bool
luhn_ok(const unsigned char *d, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = d[n - 1 - i];
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

bool
redact_is_card_number(const char *s, size_t len)
{
	unsigned char d[CARD_MAX_DIGITS];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (is_sep(s[i]))
			continue;
		if (!is_digit(s[i]) || n == CARD_MAX_DIGITS)
			return false;
		d[n++] = (unsigned char)(s[i] - '0');
	}
	return n >= CARD_MIN_DIGITS && luhn_ok(d, n);
}

/* Mask s[from..to); returns how many characters changed. */
static size_t
mask(char *s, size_t from, size_t to)
{
	size_t n = 0;
	for (size_t i = from; i < to; i++) {
		n += s[i] != '*';
		s[i] = '*';
	}
	return n;
}

/* "inline:" (any case) followed by key material up to ';', '|', whitespace or end. */
static size_t
mask_inline(char *s, size_t len)
{
	static const char tag[] = "inline:";
	const size_t tl = sizeof(tag) - 1;
	size_t n = 0, i = 0;

	while (i + tl <= len) {
		size_t j;
		if (strncasecmp(s + i, tag, tl) != 0) {
			i++;
			continue;
		}
		j = i + tl;
		while (j < len && s[j] != ';' && s[j] != '|' && s[j] != '\0' &&
		       !isspace((unsigned char)s[j]))
			j++;
		n += mask(s, i + tl, j);
		i = j;
	}
	return n;
}

/*
 * "Authorization:" / "Proxy-Authorization:" (any case, SP/HTAB allowed before ':', not
 * preceded by a letter or digit): mask the value to the end of the line, and folded
 * continuation lines (starting with SP/HTAB) with it. CR and LF stay.
 */
static size_t
mask_authorization(char *s, size_t len)
{
	static const char name[] = "authorization";
	const size_t nl = sizeof(name) - 1;
	size_t n = 0, i = 0;

	while (i + nl < len) {
		size_t j, k;
		if ((i > 0 && isalnum((unsigned char)s[i - 1])) ||
		    strncasecmp(s + i, name, nl) != 0) {
			i++;
			continue;
		}
		j = i + nl;
		while (j < len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j == len || s[j] != ':') {
			i++;
			continue;
		}
		j++;
		for (;;) {
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			for (k = j; k < len && s[k] != '\r' && s[k] != '\n'; k++)
				;
			n += mask(s, j, k);
			j = k;
			/* A folded line (CRLF or LF, then SP/HTAB) still belongs to the value. */
			if (j + 1 < len && s[j] == '\r' && s[j + 1] == '\n')
				j += 2;
			else if (j < len && s[j] == '\n')
				j++;
			else
				break;
			if (j == len || (s[j] != ' ' && s[j] != '\t'))
				break;
		}
		i = j;
	}
	return n;
}

/*
 * Card numbers. A run is a maximal sequence of digit groups joined by single separators
 * (' ' or '-'). Any stretch of whole consecutive groups holding 13-19 digits that passes
 * Luhn is masked (so "port 5060 4111111111111111" still loses the card), but the digits of
 * one group are never split: a 20-digit number is not a card with an extra digit. A group
 * that touches a letter ("7d1e4111...c0d2", "z9hG4bK4111...") is part of an alphanumeric
 * token (an identifier, not a number someone dialled or typed) and is never masked; only
 * the first and the last group of a run can touch one.
 */
static size_t
mask_cards(char *s, size_t len)
{
	size_t n = 0, i = 0;

	while (i < len) {
		size_t gs[CARD_MAX_DIGITS + 1], ge[CARD_MAX_DIGITS + 1];
		size_t run_end, g0 = i;

		if (!is_digit(s[i])) {
			i++;
			continue;
		}
		/* Find the end of the run starting at i. */
		run_end = i;
		while (run_end < len) {
			while (run_end < len && is_digit(s[run_end]))
				run_end++;
			if (run_end + 1 < len && is_sep(s[run_end]) && is_digit(s[run_end + 1]))
				run_end++;
			else
				break;
		}
		/* For each starting group, extend over whole groups while <= 19 digits. */
		while (g0 < run_end) {
			unsigned char d[CARD_MAX_DIGITS];
			size_t nd = 0, ng = 0, p = g0, best = 0;
			bool too_long = false;

			while (p < run_end && !too_long) {
				size_t q = p;
				while (q < run_end && is_digit(s[q]))
					q++;
				if ((p > 0 && is_letter(s[p - 1])) || (q < len && is_letter(s[q])))
					break; /* part of a token: ends the stretch */
				if (nd + (q - p) > CARD_MAX_DIGITS) {
					too_long = true;
					break;
				}
				for (size_t k = p; k < q; k++)
					d[nd++] = (unsigned char)(s[k] - '0');
				gs[ng] = p;
				ge[ng++] = q;
				if (nd >= CARD_MIN_DIGITS && luhn_ok(d, nd))
					best = ng;
				p = q + 1; /* skip the separator */
			}
			if (best > 0) {
				for (size_t g = 0; g < best; g++)
					n += mask(s, gs[g], ge[g]);
				g0 = ge[best - 1] + 1;
				continue;
			}
			/* Next group. */
			while (g0 < run_end && is_digit(s[g0]))
				g0++;
			g0++;
		}
		i = run_end;
	}
	return n;
}

size_t
redact_str(char *s, size_t len)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	n += mask_inline(s, len);
	n += mask_authorization(s, len);
	n += mask_cards(s, len);
	return n;
}
