/*
 * vis.h: make untrusted text safe to show on a terminal, in the manner of OpenBSD's
 * stravis(3).
 *
 * Text a peer controls (a caller's From, a refusal's detail, a header value carried in
 * telemetry) may hold bytes a terminal acts on: C0 controls (ESC starts the sequences
 * that clear the screen, set the window title or, on some terminals, answer back), DEL,
 * the C1 controls U+0080..U+009F (U+009B is a one-character CSI), and the bidirectional
 * overrides U+202A..U+202E and U+2066..U+2069 that make text read differently than it
 * is. vis_encode() replaces each with a visible escape and leaves every other valid UTF-8
 * character alone. It does not decide where text goes or how wide a column is: the
 * caller does.
 */
#ifndef SW_VIS_H
#define SW_VIS_H

#include <stddef.h>

enum vis_style {
	/* C style: "\n", "\r", "\t", "\\" and "\xHH" per byte (a C1 or bidi control is
	 * escaped byte by byte, so is a byte that is not part of valid UTF-8). */
	VIS_C,
	/* JSON style, for text that is already a JSON document: controls become "\u00HH"
	 * (or "\u202e"), which inside a JSON string decodes to the same character; newline
	 * and tab (JSON white space, never raw inside a valid JSON string), backslash and
	 * the other characters are left as they are. */
	VIS_JSON,
};

/* Bytes vis_encode() may need for n input bytes, the terminating NUL included. */
#define VIS_MAX(n) (6 * (n) + 1)

/*
 * Escape src[0..n) into dst, which must hold VIS_MAX(n) bytes, and NUL-terminate it.
 * Returns the length written (without the NUL).
 */
size_t vis_encode(char *dst, const char *src, size_t n, enum vis_style style);

/* vis_encode() of the NUL-terminated `src` into a new string (caller frees), or NULL
 * when out of memory. */
char *vis_dup(const char *src, enum vis_style style);

#endif
