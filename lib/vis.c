/*
 * vis.c: escape terminal controls in untrusted text (see vis.h).
 *
 * Walks the input as UTF-8: a well-formed sequence is copied unless its code point is a
 * control to escape; a byte that starts no well-formed sequence is escaped on its own.
 * Not responsible for redaction (redact.c) or for column widths (the caller).
 */
#include "vis.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length (1..4) of the well-formed UTF-8 sequence at s[0..n) and its code point in *cp,
 * or 0 when s does not start one (stray continuation byte, overlong form, surrogate,
 * beyond U+10FFFF, cut short).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal acts on or that reorder what is shown. */
static int
is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

static const char hex[] = "0123456789abcdef";

static size_t
put_hex_byte(char *d, unsigned char b)
{
	d[0] = '\\';
	d[1] = 'x';
	d[2] = hex[b >> 4];
	d[3] = hex[b & 15];
	return 4;
}

static size_t
put_json(char *d, uint32_t c)
{
	d[0] = '\\';
	d[1] = 'u';
	d[2] = hex[(c >> 12) & 15];
	d[3] = hex[(c >> 8) & 15];
	d[4] = hex[(c >> 4) & 15];
	d[5] = hex[c & 15];
	return 6;
}

size_t
vis_encode(char *dst, const char *src, size_t n, enum vis_style style)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < n) {
		uint32_t c = 0;
		size_t len = utf8_seq(s + i, n - i, &c);

		if (len == 0) { /* not UTF-8: one byte, escaped */
			o += style == VIS_JSON ? put_json(dst + o, s[i])
			                       : put_hex_byte(dst + o, s[i]);
			i++;
			continue;
		}
		if (!is_control(c) || (style == VIS_JSON && (c == '\n' || c == '\t'))) {
			if (style == VIS_C && c == '\\')
				dst[o++] = '\\';
			memcpy(dst + o, s + i, len);
			o += len;
		} else if (style == VIS_JSON) {
			o += put_json(dst + o, c);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			dst[o++] = '\\';
			dst[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			for (size_t k = 0; k < len; k++)
				o += put_hex_byte(dst + o, s[i + k]);
		}
		i += len;
	}
	dst[o] = '\0';
	return o;
}

char *
vis_dup(const char *src, enum vis_style style)
{
	size_t n = strlen(src);
	char *d;

	if (n > (SIZE_MAX - 1) / 6 || (d = malloc(VIS_MAX(n))) == NULL)
		return NULL;
	vis_encode(d, src, n, style);
	return d;
}
