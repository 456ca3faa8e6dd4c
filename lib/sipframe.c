/*
 * sipframe.c: split a SIP byte stream (TLS/TCP) into messages, enforcing size limits.
 *
 * Responsible for: CRLF keep-alives (RFC 5626 s4.4.1), finding the end of the header
 * section (CRLFCRLF), reading Content-Length (long form or compact "l", any case, LWS and
 * folding allowed) and refusing streams that break RFC 3261 s18.3 framing or the
 * configured limits (message size, header count, line length). Lines are counted the way
 * libosip2 splits them (CRLF, a bare CR or a bare LF ends one; a break followed by SP/HTAB
 * folds), so that the limits bound what the parser does; only CRLF may end the header
 * block (an empty line ended by a bare break is refused). The scan is incremental:
 * struct sipframe remembers where it stopped, so bytes trickling in are examined once.
 * Not responsible for: parsing SIP beyond that (libosip2 does), buffering (the caller
 * owns the bytes) or reading from the socket.
 */
#include "sipframe.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* More digits than this (after leading zeros) cannot be a sane Content-Length. */
#define CL_MAX_DIGITS 15

void
sipframe_init(struct sipframe *f, const struct sipframe_limits *lim)
{
	memset(f, 0, sizeof(*f));
	f->lim = *lim;
	f->content_length = -1;
}

static void
reset(struct sipframe *f)
{
	struct sipframe_limits lim = f->lim;
	sipframe_init(f, &lim);
}

static bool
is_lws(char c)
{
	return c == ' ' || c == '\t';
}

/* Skip SP/HTAB and folded line breaks (CRLF, CR or LF followed by SP/HTAB) in [p, end). */
static const char *
skip_lws(const char *p, const char *end)
{
	for (;;) {
		if (p < end && is_lws(*p))
			p++;
		else if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' && is_lws(p[2]))
			p += 3;
		else if (end - p >= 2 && (p[0] == '\r' || p[0] == '\n') && is_lws(p[1]))
			p += 2;
		else
			return p;
	}
}

/*
 * Look at one complete logical header line h[0..n) (folds included, final break excluded).
 * If it is Content-Length, parse it into *cl. Returns 0 (also for other headers) or
 * -EBADMSG with *why set.
 */
static int
header_content_length(const char *h, size_t n, long long *cl, const char **why)
{
	const char *p = h, *end = h + n, *name_end;
	unsigned long long v = 0;
	size_t digits = 0;

	while (p < end && *p != ':' && !is_lws(*p) && *p != '\r' && *p != '\n')
		p++;
	name_end = p;
	p = skip_lws(p, end);
	if (p == end || *p != ':')
		return 0; /* not a header we care about; the parser judges it */
	if (!((name_end - h == 14 && strncasecmp(h, "Content-Length", 14) == 0) ||
	      (name_end - h == 1 && (h[0] == 'l' || h[0] == 'L'))))
		return 0;
	p = skip_lws(p + 1, end);
	if (p < end && *p == '-') {
		*why = "negative Content-Length";
		return -EBADMSG;
	}
	if (p == end || *p < '0' || *p > '9') {
		*why = "malformed Content-Length";
		return -EBADMSG;
	}
	while (p < end && *p == '0')
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > CL_MAX_DIGITS) {
			*why = "Content-Length overflows";
			return -EBADMSG;
		}
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	p = skip_lws(p, end);
	if (p != end) {
		*why = "malformed Content-Length";
		return -EBADMSG;
	}
	if (*cl >= 0 && (unsigned long long)*cl != v) {
		*why = "conflicting Content-Length values";
		return -EBADMSG;
	}
	*cl = (long long)v;
	return 0;
}

/* Keep-alives before a message: CRLFCRLF is a ping, a lone CRLF a pong. */
static bool
keepalive(const char *buf, size_t len, enum sipframe_kind *kind, size_t *consume, bool *wait)
{
	*wait = false;
	if (len == 0 || buf[0] != '\r')
		return false;
	if (len == 1) {
		*wait = true;
		return true;
	}
	if (buf[1] != '\n')
		return false;
	if (len == 2 || (len == 3 && buf[2] == '\r')) {
		*wait = true;
		return true;
	}
	if (buf[2] == '\r' && buf[3] == '\n') {
		*kind = SIPFRAME_PING;
		*consume = 4;
	} else {
		*kind = SIPFRAME_PONG;
		*consume = 2;
	}
	return true;
}

int
sipframe_scan(struct sipframe *f, const char *buf, size_t len, enum sipframe_kind *kind,
              size_t *consume, const char **why)
{
	size_t i;
	int rc;

	*kind = SIPFRAME_NEED_MORE;
	*consume = 0;
	*why = NULL;

	if (f->scanned == 0 && f->header_end == 0) {
		bool wait;
		if (keepalive(buf, len, kind, consume, &wait)) {
			if (!wait)
				reset(f);
			return 0;
		}
	}

	for (i = f->scanned; f->header_end == 0 && i < len; i++) {
		size_t brk, next;

		if (i + 1 > f->lim.max_message) {
			*why = "message larger than the limit";
			return -EMSGSIZE;
		}
		if (buf[i] != '\r' && buf[i] != '\n') {
			/* Content of the current line so far: [line_start, i]. */
			if (i - f->line_start + 1 > f->lim.max_line) {
				*why = "header line longer than the limit";
				return -E2BIG;
			}
			continue;
		}
		/* A line break, counted the way libosip2 splits: CRLF, a bare CR, a bare LF. */
		if (buf[i] == '\r' && i + 1 == len) {
			f->scanned = i; /* CR or CRLF: look again once the next byte is here */
			return 0;
		}
		brk = buf[i] == '\r' && buf[i + 1] == '\n' ? 2 : 1;
		next = i + brk;
		if (i == f->line_start) {
			/* An empty line: the end of the header block, when it is a CRLF. */
			if (brk == 1 || f->line_start == 0) {
				*why = "empty line not ended by CRLF";
				return -EBADMSG;
			}
			f->header_end = next;
			break;
		}
		if (next == len) {
			f->scanned = i; /* folded or not: the next byte says */
			return 0;
		}
		if (is_lws(buf[next])) {
			i = next - 1; /* folded: the next line continues this header */
			continue;
		}
		if (f->line_start != 0) {
			/* A header field ends (the start line is not a header). */
			if (++f->headers > f->lim.max_headers) {
				*why = "too many header fields";
				return -E2BIG;
			}
			rc = header_content_length(buf + f->line_start, i - f->line_start,
			                           &f->content_length, why);
			if (rc < 0)
				return rc;
			/* The empty line and the body still follow. */
			if (f->content_length >= 0 &&
			    (unsigned long long)f->content_length + next + 2 > f->lim.max_message) {
				*why = "message larger than the limit";
				return -EMSGSIZE;
			}
		}
		f->line_start = next;
		i = next - 1;
	}
	if (f->header_end == 0) {
		f->scanned = i;
		return 0;
	}
	f->scanned = f->header_end;

	if (f->content_length < 0) {
		*why = "Content-Length required on stream transports";
		return -EBADMSG;
	}
	if ((unsigned long long)f->content_length + f->header_end > f->lim.max_message) {
		*why = "message larger than the limit";
		return -EMSGSIZE;
	}
	if (len - f->header_end < (unsigned long long)f->content_length)
		return 0;
	*kind = SIPFRAME_MESSAGE;
	*consume = f->header_end + (size_t)f->content_length;
	reset(f);
	return 0;
}
