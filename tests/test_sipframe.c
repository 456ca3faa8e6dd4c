/*
 * test_sipframe.c: stream framing of SIP messages (lib/sipframe.c).
 *
 * Covers keep-alives, Content-Length handling (forms, LWS, folding, errors), every limit
 * just under and just over, messages split at every byte offset, pipelining, and the
 * RFC 4475 messages that probe framing (clerr, ncl, mcl01, mpart01, dblreq, wsinv).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipframe.h"

static const struct sipframe_limits big = {
        .max_message = 65536,
        .max_headers = 128,
        .max_line = 8192,
};

struct blob {
	char *p;
	size_t n;
};

static struct blob
load(const char *name)
{
	const char *dir = getenv("SW_TESTDATA");
	char path[1024];
	struct blob b = {0};
	FILE *fp;
	long sz;

	ck_assert_msg(dir != NULL, "SW_TESTDATA not set");
	snprintf(path, sizeof(path), "%s/data/rfc4475/%s.sip", dir, name);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b.p = malloc((size_t)sz + 1);
	ck_assert_ptr_nonnull(b.p);
	b.n = fread(b.p, 1, (size_t)sz, fp);
	ck_assert_uint_eq(b.n, (size_t)sz);
	fclose(fp);
	return b;
}

/* One scan of the whole buffer with fresh state. */
static int
scan1(const struct sipframe_limits *lim, const char *buf, size_t len, enum sipframe_kind *kind,
      size_t *consume, const char **why)
{
	struct sipframe f;
	sipframe_init(&f, lim);
	return sipframe_scan(&f, buf, len, kind, consume, why);
}

static int
scan_str(const struct sipframe_limits *lim, const char *s, enum sipframe_kind *kind,
         size_t *consume, const char **why)
{
	return scan1(lim, s, strlen(s), kind, consume, why);
}

/*
 * Feed buf as it would arrive when split at `cut`: first buf[0..cut), then all of it,
 * with the same state. Returns the final result.
 */
static int
scan_split(const struct sipframe_limits *lim, const char *buf, size_t len, size_t cut,
           enum sipframe_kind *kind, size_t *consume, const char **why)
{
	struct sipframe f;
	int rc;

	sipframe_init(&f, lim);
	rc = sipframe_scan(&f, buf, cut, kind, consume, why);
	if (rc < 0 || *kind != SIPFRAME_NEED_MORE)
		return rc;
	return sipframe_scan(&f, buf, len, kind, consume, why);
}

/* A request with `nh` headers besides Content-Length and a body of `body` bytes. */
static char *
make_msg(size_t nh, size_t body, size_t *len)
{
	size_t cap = 256 + nh * 32 + body;
	char *m = malloc(cap);
	size_t n = 0;

	ck_assert_ptr_nonnull(m);
	n += (size_t)snprintf(m + n, cap - n, "OPTIONS sip:a@example.com SIP/2.0\r\n");
	for (size_t i = 0; i < nh; i++)
		n += (size_t)snprintf(m + n, cap - n, "X-H%zu: v\r\n", i);
	n += (size_t)snprintf(m + n, cap - n, "Content-Length: %zu\r\n\r\n", body);
	memset(m + n, 'b', body);
	n += body;
	*len = n;
	return m;
}

START_TEST(sipframe_whole_message_is_one_frame)
{
	enum sipframe_kind k;
	size_t c;
	const char *why;
	const char *m = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";

	ck_assert_int_eq(scan_str(&big, m, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, strlen(m));
}
END_TEST

START_TEST(sipframe_content_length_forms_are_accepted)
{
	static const char *const ok[] = {
	        "A\r\ncontent-length: 2\r\n\r\nxy",
	        "A\r\nCONTENT-LENGTH:2\r\n\r\nxy",
	        "A\r\nl: 2\r\n\r\nxy",
	        "A\r\nL:2\r\n\r\nxy",
	        "A\r\nContent-Length \t : \t 2 \t\r\n\r\nxy",
	        "A\r\nContent-Length:\r\n 2\r\n\r\nxy",     /* folded value */
	        "A\r\nContent-Length: 0002\r\n\r\nxy",      /* leading zeros */
	        "A\r\nl: 2\r\nContent-Length: 2\r\n\r\nxy", /* same value twice */
	        "A\r\nX-Long: a\r\n b\r\n\tc\r\nl: 2\r\n\r\nxy",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		enum sipframe_kind k;
		size_t c;
		const char *why;
		ck_assert_msg(scan_str(&big, ok[i], &k, &c, &why) == 0, "case %zu: %s", i, why);
		ck_assert_int_eq(k, SIPFRAME_MESSAGE);
		ck_assert_uint_eq(c, strlen(ok[i]));
	}
}
END_TEST

START_TEST(sipframe_missing_content_length_is_refused_on_stream)
{
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan_str(&big, "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", &k, &c, &why),
	                 -EBADMSG);
	ck_assert_str_eq(why, "Content-Length required on stream transports");
	/* X-Content-Length and Content-Lengths are other headers. */
	ck_assert_int_eq(scan_str(&big, "A\r\nX-Content-Length: 1\r\nContent-Lengths: 1\r\n\r\n",
	                          &k, &c, &why),
	                 -EBADMSG);
	ck_assert_str_eq(why, "Content-Length required on stream transports");
}
END_TEST

START_TEST(sipframe_bad_content_length_values_are_refused)
{
	static const char *const bad[] = {
	        "A\r\nContent-Length: -1\r\n\r\n",
	        "A\r\nContent-Length: abc\r\n\r\n",
	        "A\r\nContent-Length: \r\n\r\n",
	        "A\r\nContent-Length: 12a\r\n\r\n",
	        "A\r\nContent-Length: 1 2\r\n\r\n",
	        "A\r\nContent-Length: +5\r\n\r\n",
	        "A\r\nContent-Length: 0x10\r\n\r\n",
	        "A\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	        "A\r\nContent-Length: 18446744073709551617\r\n\r\n",
	        "A\r\nContent-Length: 5\r\nl: 6\r\n\r\nabcdef",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sipframe_kind k;
		size_t c;
		const char *why = NULL;
		ck_assert_msg(scan_str(&big, bad[i], &k, &c, &why) == -EBADMSG, "case %zu", i);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(sipframe_keepalives)
{
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan_str(&big, "\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_PING);
	ck_assert_uint_eq(c, 4);
	ck_assert_int_eq(scan_str(&big, "\r\n\r\nOPTIONS", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_PING);
	ck_assert_uint_eq(c, 4);
	ck_assert_int_eq(scan_str(&big, "\r\nOPTIONS", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_PONG);
	ck_assert_uint_eq(c, 2);
	/* Not yet decidable. */
	ck_assert_int_eq(scan_str(&big, "\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	ck_assert_int_eq(scan_str(&big, "\r", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	ck_assert_int_eq(scan_str(&big, "\r\n\r", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	ck_assert_int_eq(scan_str(&big, "", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
}
END_TEST

static void
check_every_split(const char *buf, size_t len)
{
	for (size_t cut = 0; cut <= len; cut++) {
		enum sipframe_kind k;
		size_t c;
		const char *why = NULL;
		int rc = scan_split(&big, buf, len, cut, &k, &c, &why);
		ck_assert_msg(rc == 0, "cut %zu: %d %s", cut, rc, why ? why : "");
		ck_assert_msg(k == SIPFRAME_MESSAGE, "cut %zu: kind %d", cut, k);
		ck_assert_uint_eq(c, len);
	}
}

START_TEST(sipframe_split_at_every_offset_gives_same_frame)
{
	static const char *const names[] = {"wsinv",    "mpart01",   "longreq",  "intmeth",
	                                    "semiuri",  "esc01",     "unreason", "noreason",
	                                    "regaut01", "transports"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct blob b = load(names[i]);
		check_every_split(b.p, b.n);
		free(b.p);
	}
}
END_TEST

START_TEST(sipframe_byte_by_byte_resumes_where_it_stopped)
{
	struct blob b = load("wsinv");
	struct sipframe f;
	enum sipframe_kind k = SIPFRAME_NEED_MORE;
	size_t c = 0, n;
	const char *why;

	sipframe_init(&f, &big);
	for (n = 1; n <= b.n; n++) {
		ck_assert_int_eq(sipframe_scan(&f, b.p, n, &k, &c, &why), 0);
		if (k != SIPFRAME_NEED_MORE)
			break;
		/* At most the last line break is looked at again next time. */
		ck_assert_uint_ge(f.scanned + 2, f.header_end ? f.header_end : n);
	}
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(n, b.n);
	ck_assert_uint_eq(c, b.n);
	free(b.p);
}
END_TEST

START_TEST(sipframe_body_with_crlfcrlf_is_framed_by_length)
{
	const char *m = "INFO sip:a@b SIP/2.0\r\nl: 12\r\n\r\nab\r\n\r\ncd\r\n\r\nNEXT";
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan_str(&big, m, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, strlen(m) - 4);
}
END_TEST

START_TEST(sipframe_rfc4475_mpart01_binary_body)
{
	struct blob b = load("mpart01");
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan1(&big, b.p, b.n, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, b.n);
	/* One byte short of the body: wait. */
	ck_assert_int_eq(scan1(&big, b.p, b.n - 1, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	free(b.p);
}
END_TEST

START_TEST(sipframe_rfc4475_clerr_waits_for_more)
{
	struct blob b = load("clerr");
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan1(&big, b.p, b.n, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	free(b.p);
}
END_TEST

START_TEST(sipframe_rfc4475_clerr_over_limit_is_refused_before_body)
{
	struct sipframe_limits lim = big;
	struct blob b = load("clerr");
	enum sipframe_kind k;
	size_t c;
	const char *why;

	lim.max_message = 4096; /* Content-Length 9999 can never fit */
	ck_assert_int_eq(scan1(&lim, b.p, b.n, &k, &c, &why), -EMSGSIZE);
	free(b.p);
}
END_TEST

START_TEST(sipframe_rfc4475_ncl_negative_is_refused)
{
	struct blob b = load("ncl");
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan1(&big, b.p, b.n, &k, &c, &why), -EBADMSG);
	ck_assert_str_eq(why, "negative Content-Length");
	free(b.p);
}
END_TEST

START_TEST(sipframe_rfc4475_mcl01_conflicting_lengths_are_refused)
{
	struct blob b = load("mcl01");
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_int_eq(scan1(&big, b.p, b.n, &k, &c, &why), -EBADMSG);
	ck_assert_str_eq(why, "conflicting Content-Length values");
	free(b.p);
}
END_TEST

START_TEST(sipframe_rfc4475_dblreq_trailing_octets_are_the_next_frame)
{
	struct blob b = load("dblreq");
	struct sipframe f;
	enum sipframe_kind k;
	size_t c, off = 0;
	const char *why;

	sipframe_init(&f, &big);
	ck_assert_int_eq(sipframe_scan(&f, b.p, b.n, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, 300); /* 750 bytes, 450 of them trailing */
	off += c;
	/* Then an extra CRLF (a pong) and an INVITE with its own Content-Length. */
	ck_assert_int_eq(sipframe_scan(&f, b.p + off, b.n - off, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_PONG);
	off += c;
	ck_assert_int_eq(sipframe_scan(&f, b.p + off, b.n - off, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	/* Its body is 155 octets but it says 150: 5 octets are left for the next scan. */
	ck_assert_uint_eq(off + c, b.n - 5);
	free(b.p);
}
END_TEST

START_TEST(sipframe_pipelined_messages_in_random_chunks)
{
	struct blob a = load("wsinv"), b = load("mpart01");
	size_t total = a.n + 4 + b.n + 2 + a.n;
	char *s = malloc(total), *buf = malloc(total);
	size_t n = 0;
	enum sipframe_kind expect[] = {SIPFRAME_MESSAGE, SIPFRAME_PING, SIPFRAME_MESSAGE,
	                               SIPFRAME_PONG, SIPFRAME_MESSAGE};
	size_t sizes[] = {a.n, 4, b.n, 2, a.n};

	memcpy(s + n, a.p, a.n), n += a.n;
	memcpy(s + n, "\r\n\r\n", 4), n += 4;
	memcpy(s + n, b.p, b.n), n += b.n;
	memcpy(s + n, "\r\n", 2), n += 2;
	memcpy(s + n, a.p, a.n), n += a.n;
	ck_assert_uint_eq(n, total);

	srand(4475);
	for (int round = 0; round < 50; round++) {
		struct sipframe f;
		size_t fed = 0, have = 0, got = 0;
		sipframe_init(&f, &big);
		while (got < 5) {
			enum sipframe_kind k;
			size_t c;
			const char *why;
			int rc = sipframe_scan(&f, buf, have, &k, &c, &why);
			ck_assert_int_eq(rc, 0);
			if (k == SIPFRAME_NEED_MORE) {
				size_t chunk = 1 + (size_t)rand() % 300;
				ck_assert_uint_lt(fed, total);
				if (chunk > total - fed)
					chunk = total - fed;
				memcpy(buf + have, s + fed, chunk);
				have += chunk, fed += chunk;
				continue;
			}
			ck_assert_int_eq(k, expect[got]);
			ck_assert_uint_eq(c, sizes[got]);
			memmove(buf, buf + c, have - c);
			have -= c;
			got++;
		}
		ck_assert_uint_eq(have, 0);
	}
	free(s), free(buf), free(a.p), free(b.p);
}
END_TEST

START_TEST(sipframe_max_message_just_under_and_over)
{
	size_t len;
	char *m = make_msg(3, 100, &len);
	struct sipframe_limits lim = big;
	enum sipframe_kind k;
	size_t c;
	const char *why;

	lim.max_message = len;
	ck_assert_int_eq(scan1(&lim, m, len, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	lim.max_message = len - 1;
	ck_assert_int_eq(scan1(&lim, m, len, &k, &c, &why), -EMSGSIZE);
	free(m);
}
END_TEST

START_TEST(sipframe_oversize_is_refused_as_soon_as_known)
{
	struct sipframe_limits lim = big;
	enum sipframe_kind k;
	size_t c;
	const char *why;

	lim.max_message = 1000;
	/* The Content-Length line alone says it cannot fit: no need to see the rest. */
	ck_assert_int_eq(scan_str(&lim, "INVITE sip:a@b SIP/2.0\r\nContent-Length: 990\r\nVia", &k,
	                          &c, &why),
	                 -EMSGSIZE);
	/* Headers alone past the limit, no Content-Length yet. */
	lim.max_message = 40;
	ck_assert_int_eq(
	        scan_str(&lim, "INVITE sip:a@b SIP/2.0\r\nVia: 1\r\nVia: 2\r\nVia", &k, &c, &why),
	        -EMSGSIZE);
}
END_TEST

START_TEST(sipframe_max_headers_just_under_and_over)
{
	size_t len;
	char *m = make_msg(9, 0, &len); /* 9 + Content-Length = 10 header fields */
	struct sipframe_limits lim = big;
	enum sipframe_kind k;
	size_t c;
	const char *why;

	lim.max_headers = 10;
	ck_assert_int_eq(scan1(&lim, m, len, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	lim.max_headers = 9;
	ck_assert_int_eq(scan1(&lim, m, len, &k, &c, &why), -E2BIG);
	/* Folded continuation lines count with their header. */
	lim.max_headers = 2;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: 1\r\n 2\r\n 3\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	free(m);
}
END_TEST

START_TEST(sipframe_max_line_just_under_and_over)
{
	struct sipframe_limits lim = big;
	char m[512];
	enum sipframe_kind k;
	size_t c;
	const char *why;
	/* "X-Pad: " + 93 'p' = 100 bytes of line content. */
	int n = snprintf(
	        m, sizeof(m), "A\r\nX-Pad: %.*s\r\nl: 0\r\n\r\n", 93,
	        "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
	        "ppppppppppppppppppppppppp");

	lim.max_line = 100;
	ck_assert_int_eq(scan1(&lim, m, (size_t)n, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	lim.max_line = 99;
	ck_assert_int_eq(scan1(&lim, m, (size_t)n, &k, &c, &why), -E2BIG);
	/* Known before the line ends. */
	ck_assert_int_eq(scan1(&lim, m, 3 + 100, &k, &c, &why), -E2BIG);
	lim.max_line = 100;
	ck_assert_int_eq(scan1(&lim, m, 3 + 100, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	/* A folded header counts whole: 5 + 2 + 3 = 10 bytes. */
	lim.max_line = 9;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: ab\r\n cd\r\nl: 0\r\n\r\n", &k, &c, &why), -E2BIG);
	lim.max_line = 10;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: ab\r\n cd\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
}
END_TEST

START_TEST(sipframe_start_line_is_not_a_header)
{
	struct sipframe_limits lim = big;
	enum sipframe_kind k;
	size_t c;
	const char *why;

	/* A start line that looks like Content-Length is not one. */
	ck_assert_int_eq(scan_str(&big, "l: 5\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, 14);
	lim.max_headers = 1;
	ck_assert_int_eq(scan_str(&lim, "A\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
}
END_TEST

/*
 * libosip2 ends a header line at CRLF, at a bare LF and at a bare CR (a break followed by
 * SP/HTAB folds). The limits must hold for lines counted that way, or a peer slips 15,000
 * header fields past max_headers = 64 with bare LFs (issue 8, item 5).
 */
START_TEST(sipframe_bare_lf_and_cr_end_lines_like_the_parser)
{
	struct sipframe_limits lim = big;
	enum sipframe_kind k;
	size_t c;
	const char *why;

	/* Four fields (X, Y, Z, l) whichever break ends them. */
	lim.max_headers = 3;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: 1\nY: 2\nZ: 3\r\nl: 0\r\n\r\n", &k, &c, &why),
	                 -E2BIG);
	ck_assert_str_eq(why, "too many header fields");
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: 1\rY: 2\rZ: 3\r\nl: 0\r\n\r\n", &k, &c, &why),
	                 -E2BIG);
	lim.max_headers = 4;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: 1\nY: 2\rZ: 3\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	/* A bare break followed by SP/HTAB folds, as CRLF does. */
	lim.max_headers = 2;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: 1\n 2\r\t3\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	/* Line length is per parser line: two 7-byte fields on one CRLF line fit 7. */
	lim = big;
	lim.max_line = 7;
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: aaaa\nY: bbbb\r\nl: 0\r\n\r\n", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_int_eq(scan_str(&lim, "A\r\nX: aaaaa\nY: b\r\nl: 0\r\n\r\n", &k, &c, &why),
	                 -E2BIG);
	/* Content-Length is found on a line a bare LF started. */
	ck_assert_int_eq(scan_str(&big, "A\nl: 2\r\n\r\nxy", &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_MESSAGE);
	ck_assert_uint_eq(c, 12);
}
END_TEST

START_TEST(sipframe_bare_lf_header_flood_is_refused_early)
{
	struct sipframe_limits lim = big;
	size_t cap = 65536, n = 0;
	char *m = malloc(cap);
	enum sipframe_kind k;
	size_t c;
	const char *why;

	ck_assert_ptr_nonnull(m);
	n += (size_t)snprintf(m, cap, "OPTIONS sip:a@b SIP/2.0\r\n");
	for (int i = 0; i < 15000; i++) {
		memcpy(m + n, "a:b", 3);
		n += 3;
		if (i % 300 == 299)
			m[n++] = '\r';
		m[n++] = '\n';
	}
	n += (size_t)snprintf(m + n, cap - n, "Content-Length: 0\r\n\r\n");
	lim.max_headers = 64;
	lim.max_line = 4096;
	ck_assert_int_eq(scan1(&lim, m, n, &k, &c, &why), -E2BIG);
	ck_assert_str_eq(why, "too many header fields");
	/* Known from the first 65 fields (and the byte after, which could fold the 65th):
	 * no need to wait for the rest. */
	ck_assert_int_eq(scan1(&lim, m, 25 + 65 * 4, &k, &c, &why), 0);
	ck_assert_int_eq(k, SIPFRAME_NEED_MORE);
	ck_assert_int_eq(scan1(&lim, m, 25 + 65 * 4 + 1, &k, &c, &why), -E2BIG);
	free(m);
}
END_TEST

/* An empty line ended by a bare break ends libosip2's header block but not ours
 * (CRLFCRLF): the two would disagree on where the body starts. */
START_TEST(sipframe_empty_line_with_bare_break_is_refused)
{
	static const char *const bad[] = {
	        "A\r\nX: 1\n\nl: 0\r\n\r\n",
	        "A\r\nX: 1\r\rl: 0\r\n\r\n",
	        "A\r\nX: 1\r\n\nl: 0\r\n\r\n",
	        "\nOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sipframe_kind k;
		size_t c;
		const char *why = NULL;
		ck_assert_msg(scan_str(&big, bad[i], &k, &c, &why) == -EBADMSG, "case %zu", i);
		ck_assert_str_eq(why, "empty line not ended by CRLF");
	}
}
END_TEST

START_TEST(sipframe_bare_breaks_split_at_every_offset_give_same_frame)
{
	const char *m =
	        "OPTIONS sip:a@b SIP/2.0\r\nX: 1\rY: 2\nZ: 3\r\n 4\n\t5\r 6\nl: 2\r\n\r\nxy";

	check_every_split(m, strlen(m));
}
END_TEST

static Suite *
sipframe_suite(void)
{
	Suite *s = suite_create("sipframe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sipframe_whole_message_is_one_frame);
	tcase_add_test(tc, sipframe_content_length_forms_are_accepted);
	tcase_add_test(tc, sipframe_missing_content_length_is_refused_on_stream);
	tcase_add_test(tc, sipframe_bad_content_length_values_are_refused);
	tcase_add_test(tc, sipframe_keepalives);
	tcase_add_test(tc, sipframe_split_at_every_offset_gives_same_frame);
	tcase_add_test(tc, sipframe_byte_by_byte_resumes_where_it_stopped);
	tcase_add_test(tc, sipframe_body_with_crlfcrlf_is_framed_by_length);
	tcase_add_test(tc, sipframe_rfc4475_mpart01_binary_body);
	tcase_add_test(tc, sipframe_rfc4475_clerr_waits_for_more);
	tcase_add_test(tc, sipframe_rfc4475_clerr_over_limit_is_refused_before_body);
	tcase_add_test(tc, sipframe_rfc4475_ncl_negative_is_refused);
	tcase_add_test(tc, sipframe_rfc4475_mcl01_conflicting_lengths_are_refused);
	tcase_add_test(tc, sipframe_rfc4475_dblreq_trailing_octets_are_the_next_frame);
	tcase_add_test(tc, sipframe_pipelined_messages_in_random_chunks);
	tcase_add_test(tc, sipframe_max_message_just_under_and_over);
	tcase_add_test(tc, sipframe_oversize_is_refused_as_soon_as_known);
	tcase_add_test(tc, sipframe_max_headers_just_under_and_over);
	tcase_add_test(tc, sipframe_max_line_just_under_and_over);
	tcase_add_test(tc, sipframe_start_line_is_not_a_header);
	tcase_add_test(tc, sipframe_bare_lf_and_cr_end_lines_like_the_parser);
	tcase_add_test(tc, sipframe_bare_lf_header_flood_is_refused_early);
	tcase_add_test(tc, sipframe_empty_line_with_bare_break_is_refused);
	tcase_add_test(tc, sipframe_bare_breaks_split_at_every_offset_give_same_frame);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sipframe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
