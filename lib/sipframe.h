/*
 * sipframe.h: find SIP message boundaries in a stream (TLS/TCP), with limits.
 *
 * RFC 3261 s18.3: on a stream the Content-Length header gives the body size. This module
 * scans the bytes received so far and says: need more, here is one whole message of N
 * bytes, a CRLF keep-alive (RFC 5626 s4.4.1), or the stream broke a rule and cannot be
 * resynchronised (close it). It enforces the limits that keep a peer from making the
 * daemon buffer without bound: total message size, header count, line length. It does
 * not parse SIP beyond the start line / header boundary and Content-Length (libosip2 does).
 */
#ifndef SW_SIPFRAME_H
#define SW_SIPFRAME_H

#include <stddef.h>
#include <sys/types.h>

struct sipframe_limits {
	size_t max_message; /* start line + headers + body, bytes */
	size_t max_headers; /* header fields (folded continuation lines count with theirs) */
	size_t max_line;    /* one header line incl. folded continuations, bytes */
	                    /* A line ends at CRLF, a bare CR or a bare LF, as libosip2 reads it. */
};

enum sipframe_kind {
	SIPFRAME_NEED_MORE = 0,
	SIPFRAME_MESSAGE, /* a whole message is buf[0..consume) */
	SIPFRAME_PING,    /* CRLFCRLF keep-alive: consume it, answer with CRLF */
	SIPFRAME_PONG,    /* lone CRLF (keep-alive answer or stray): consume it */
};

/*
 * struct sipframe: scan state for one stream, embedded by value in the connection.
 * Remembers how far the header scan got so that a message trickling in byte by byte
 * costs O(n) in total, not O(n^2).
 */
struct sipframe {
	struct sipframe_limits lim;
	size_t scanned;           /* bytes of the current message already scanned */
	size_t line_start;        /* offset of the current header line */
	size_t headers;           /* header fields seen */
	size_t header_end;        /* 0 until CRLFCRLF found: offset just after it */
	long long content_length; /* -1 until seen */
};

void sipframe_init(struct sipframe *f, const struct sipframe_limits *lim);

/*
 * Scan buf[0..len): the unconsumed bytes of the stream, starting with the same bytes as
 * on the previous call. On success returns 0, sets *kind and, for MESSAGE/PING/PONG,
 * *consume (the caller drops that many bytes; the state resets for the next message).
 * On a violation returns -EMSGSIZE (message too large), -E2BIG (too many headers or a
 * line too long) or -EBADMSG (missing, negative, malformed or conflicting
 * Content-Length; an empty line in the header block not ended by CRLF), with *why a
 * static reason; the stream must then be closed.
 */
int sipframe_scan(struct sipframe *f, const char *buf, size_t len, enum sipframe_kind *kind,
                  size_t *consume, const char **why);

#endif
