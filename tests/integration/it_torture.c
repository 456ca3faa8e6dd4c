/*
 * it_torture: every RFC 4475 torture message, each on its own TLS connection, gets a
 * response or a clean close within a bound and never crashes the daemon; a few
 * requests that parse get the specific answer RFC 4475 asks of an endpoint. The daemon
 * answers OPTIONS afterwards.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "itest.h"

#define NONE 0  /* no SIP response (a response, unaddressable, or framing wait/close) */
#define ANY  -2 /* no specific expectation beyond "answer or close" */

/* Expected status of the first answer; files not listed: ANY. */
static const struct {
	const char *name;
	int status;
} expect[] = {
        /* clang-format off */
	{"wsinv",      481},  /* valid, but its To tag names a dialog that does not exist */
	{"intmeth",    501},  /* unknown method at an endpoint (libosip2 refuses it: raw 501) */
	{"esc02",      501},  /* RE%47IST%45R is not REGISTER */
	{"lwsdisp",    200},
	{"semiuri",    200},
	{"transports", 200},
	{"longreq",    400},  /* top Via has no branch (RFC 2543 style): we require RFC 3261 */
	{"inv2543",    400},  /* RFC 2543 syntax, no Content-Length: framing 400, close */
	{"badinv01",   400},
	{"clerr",      400},  /* Content-Length 9999 > max_message_size 8192: 400, close */
	{"ncl",        400},  /* negative Content-Length: 400 from the header block, close */
	{"scalar02",   400},  /* CSeq beyond 2^32-1 */
	{"quotbal",    400},
	{"ltgtruri",   400},
	{"lwsruri",    400},
	{"lwsstart",   400},
	{"trws",       400},
	{"badaspec",   400},
	{"badvers",    505},
	{"mismatch01", 400},
	{"mismatch02", 501},
	{"badbranch",  400},
	{"insuf",      NONE}, /* no Call-ID/From/To: cannot be addressed, dropped */
	{"unkscm",     416},
	{"novelsc",    416},
	{"bext01",     420},  /* Unsupported lists the Require option-tags */
	{"regaut01",   405},
	{"multi01",    400},
	{"mcl01",      400},  /* two Content-Length values: 400, close */
	{"zeromf",     200},  /* Max-Forwards 0 is fine at an endpoint */
	{"dblreq",     405},  /* REGISTER first; the trailing INVITE is a second message */
	{"unreason",   NONE}, /* responses matching no transaction are discarded */
	{"noreason",   NONE},
	{"scalarlg",   NONE},
	{"bigcode",    NONE},
	{"bcast",      NONE},
        /* clang-format on */
};

static int
expected(const char *name)
{
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (strcmp(expect[i].name, name) == 0)
			return expect[i].status;
	return ANY;
}

/* True when the To header line of resp[0..len) carries a tag (the line may hold NULs). */
static bool
to_has_tag(const char *resp, size_t len)
{
	const char *p = resp, *end = resp + len;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);

		if (n == 0)
			break;
		if ((n > 3 && strncasecmp(p, "To:", 3) == 0) ||
		    (n > 2 && strncasecmp(p, "t:", 2) == 0))
			return memmem(p, n, ";tag=", 5) != NULL;
		p += n + 2;
	}
	return false;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(every_rfc4475_message_gets_answer_or_close_and_daemon_survives)
{
	/* idle_timeout 1s: stalled framing (clerr, baddn) closes quickly. */
	struct itest_opts o = {.idle_timeout = "1s"};
	const char *data = getenv("SW_TESTDATA");
	char dir[512], path[1024], resp[16384], req[1024];
	char *names[128];
	size_t nnames = 0, checked = 0;
	struct itest t;
	struct dirent *de;
	DIR *d;

	ck_assert_ptr_nonnull(data);
	snprintf(dir, sizeof(dir), "%s/data/rfc4475", data);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL && nnames < 128) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".sip") == 0)
			names[nnames++] = strdup(de->d_name);
	}
	closedir(d);
	ck_assert_uint_eq(nnames, 50);
	qsort(names, nnames, sizeof(names[0]), cmp);

	itest_start(&t, &o);
	for (size_t i = 0; i < nnames; i++) {
		struct itest_conn *c;
		char *msg, name[64];
		size_t len;
		int r, want;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(names[i]) - 4), names[i]);
		ck_assert_ptr_nonnull(msg = itest_read_file(path, &len));
		c = itest_tls_connect(&t, 0, 0, NULL);
		ck_assert_msg(c != NULL, "%s: cannot connect (daemon dead?)", name);
		ck_assert_int_eq(itest_send(c, msg, len), 0);
		free(msg);
		/* An answer, or a close, within 4 s (idle timeout is 1 s). */
		r = itest_recv_msg(c, resp, sizeof(resp), 4000);
		ck_assert_msg(r >= 0, "%s: neither an answer nor a close within 4 s", name);
		want = expected(name);
		fprintf(stderr, "torture %-10s -> %d\n", name, r > 0 ? itest_status(resp) : 0);
		if (want != ANY) {
			ck_assert_msg((r > 0 ? itest_status(resp) : NONE) == want,
			              "%s: expected %d, got %d", name, want,
			              r > 0 ? itest_status(resp) : NONE);
			checked++;
		}
		if (r > 0) {
			/* Whatever it is, it is a well-formed response with a To tag. */
			ck_assert_int_ge(itest_status(resp), 200);
			ck_assert_msg(to_has_tag(resp, (size_t)r), "%s: response without To tag",
			              name);
		}
		itest_conn_free(c);
		ck_assert_msg(itest_alive(&t), "daemon died after %s", name);
		free(names[i]);
	}
	ck_assert_uint_eq(checked, sizeof(expect) / sizeof(expect[0])); /* every name exists */
	/* Still serving. */
	{
		struct itest_conn *c = itest_tls_connect(&t, 0, 0, NULL);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(itest_send_str(c, itest_options(req, sizeof(req), "after", 1)), 0);
		ck_assert_int_gt(itest_recv_msg(c, resp, sizeof(resp), 5000), 0);
		ck_assert_int_eq(itest_status(resp), 200);
		itest_conn_free(c);
	}
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("it_torture");
	TCase *tc = tcase_create("rfc4475");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, every_rfc4475_message_gets_answer_or_close_and_daemon_survives);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
