/*
 * test_sip_util: response building, request checks, salvage and token generation.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sip_util.h"
#include "tmpdir.h"

static const char options_req[] = "OPTIONS sip:sw@127.0.0.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKabc123\r\n"
                                  "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKdef456\r\n"
                                  "Max-Forwards: 70\r\n"
                                  "From: <sip:a@127.0.0.1>;tag=ft1\r\n"
                                  "To: <sip:sw@127.0.0.1>\r\n"
                                  "Call-ID: cid-1@test\r\n"
                                  "CSeq: 17 OPTIONS\r\n"
                                  "Content-Length: 0\r\n\r\n";

static osip_message_t *
parse(const char *s)
{
	osip_message_t *m = NULL;

	ck_assert_int_eq(sip_util_parse(s, strlen(s), &m), 0);
	return m;
}

/* Replace the first occurrence of `from` in `src` with `to` into a static buffer. */
static const char *
edit(const char *src, const char *from, const char *to)
{
	static char buf[4096];
	const char *p = strstr(src, from);

	ck_assert_ptr_nonnull(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - src), src, to, p + strlen(from));
	return buf;
}

/*
 * Debian's libosip2 prints a line to stdout for every message it cannot parse, whatever
 * osip_trace_disable_level() says: a peer sending garbage would write to the journal at
 * the rate it sends. After sip_util_init() nothing reaches stdout or stderr.
 */
START_TEST(parse_errors_print_nothing)
{
	static const char *const bad[] = {"INVITE x SIP/2.0\r\nFoo\r\n\r\n", "garbage\r\n\r\n",
	                                  "SIP/2.0 200\r\nX\r\n\r\n"};
	char path[256];
	int fd = tmpdir_mkstemp(path, sizeof(path), "sw-test-trace"), out = dup(1), err = dup(2);
	struct stat st;

	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fd, 1);
	dup2(fd, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		osip_message_t *m = NULL;
		ck_assert_int_ne(sip_util_parse(bad[i], strlen(bad[i]), &m), 0);
	}
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	ck_assert_msg(st.st_size == 0, "%lld bytes printed while parsing", (long long)st.st_size);
}
END_TEST

/*
 * A kept message (a call's INVITEs) need not keep libosip2's copy of its text: after
 * sip_util_forget_text() it is gone and the message serialises to the same text.
 */
START_TEST(forget_text_drops_the_copy_and_serialises_the_same)
{
	osip_message_t *m = parse(options_req);
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	ck_assert_int_eq(sip_util_serialize(m, &a, &alen), 0);
	ck_assert_ptr_nonnull(m->message); /* libosip2 keeps a copy of what it wrote */
	sip_util_forget_text(m);
	ck_assert_ptr_null(m->message);
	ck_assert_int_eq(sip_util_serialize(m, &b, &blen), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert(memcmp(a, b, alen) == 0);
	sip_util_forget_text(m);
	sip_util_forget_text(NULL);
	osip_free(a);
	osip_free(b);
	osip_message_free(m);
}
END_TEST

START_TEST(response_copies_vias_callid_cseq_and_adds_to_tag)
{
	osip_message_t *req = parse(options_req), *resp = NULL;
	osip_generic_param_t *tag = NULL;
	char *text;
	size_t len;

	ck_assert_int_eq(sip_util_response_new(&resp, req, 200, NULL, NULL), 0);
	ck_assert_int_eq(sip_util_add_header(resp, "Allow", "INVITE, OPTIONS"), 0);
	ck_assert_int_eq(sip_util_serialize(resp, &text, &len), 0);
	ck_assert_ptr_nonnull(strstr(text, "SIP/2.0 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "branch=z9hG4bKabc123"));
	ck_assert_ptr_nonnull(strstr(text, "branch=z9hG4bKdef456"));
	ck_assert_ptr_nonnull(strstr(text, "Call-ID: cid-1@test\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "CSeq: 17 OPTIONS\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "tag=ft1"));
	ck_assert_ptr_nonnull(strstr(text, "Allow: INVITE, OPTIONS\r\n"));
	ck_assert_int_eq(osip_to_get_tag(resp->to, &tag), OSIP_SUCCESS);
	ck_assert_uint_eq(strlen(tag->gvalue), SIP_UTIL_TAG_LEN - 1);
	osip_free(text);
	osip_message_free(resp);
	osip_message_free(req);
}
END_TEST

START_TEST(response_keeps_existing_to_tag)
{
	osip_message_t *req = parse(edit(options_req, "To: <sip:sw@127.0.0.1>",
	                                 "To: <sip:sw@127.0.0.1>;tag=mine")),
	               *resp = NULL;
	osip_generic_param_t *tag = NULL;

	ck_assert_int_eq(sip_util_response_new(&resp, req, 481, NULL, "other"), 0);
	ck_assert_int_eq(osip_to_get_tag(resp->to, &tag), OSIP_SUCCESS);
	ck_assert_str_eq(tag->gvalue, "mine");
	osip_message_free(resp);
	osip_message_free(req);
}
END_TEST

START_TEST(response_refused_without_callid)
{
	osip_message_t *req = parse(edit(options_req, "Call-ID: cid-1@test\r\n", "")), *resp = NULL;

	ck_assert(!sip_util_can_respond(req));
	ck_assert_int_eq(sip_util_response_new(&resp, req, 400, NULL, NULL), -EINVAL);
	ck_assert_ptr_null(resp);
	osip_message_free(req);
}
END_TEST

START_TEST(check_accepts_good_request)
{
	osip_message_t *req = parse(options_req);
	const char *why;

	ck_assert_int_eq(sip_util_check_request(req, &why), 0);
	osip_message_free(req);
}
END_TEST

START_TEST(check_rejects_bad_requests)
{
	static const struct {
		const char *from, *to;
		int status;
	} cases[] = {
	        {"CSeq: 17 OPTIONS", "CSeq: 17 INVITE", 400},
	        {"CSeq: 17 OPTIONS", "CSeq: 36893488147419103232 OPTIONS", 400},
	        {"Max-Forwards: 70\r\n", "", 400},
	        {"Max-Forwards: 70", "Max-Forwards: 300", 400},
	        {"branch=z9hG4bKabc123", "branch=z9hG4bK", 400},
	        {"SIP/2.0\r\nVia", "SIP/7.0\r\nVia", 505},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		osip_message_t *m = NULL;
		const char *s = edit(options_req, cases[i].from, cases[i].to), *why = NULL;

		if (sip_util_parse(s, strlen(s), &m) != 0)
			continue; /* refused by the parser: also a rejection */
		ck_assert_msg(sip_util_check_request(m, &why) == cases[i].status, "case %zu", i);
		ck_assert_ptr_nonnull(why);
		osip_message_free(m);
	}
}
END_TEST

/* RFC 3261 s8.2.2.3: the 420's Unsupported lists each unknown option-tag of every Require
 * once; known ones (any case) are left out; a list too long is refused, never cut. */
START_TEST(unsupported_lists_unknown_require_tags_and_refuses_overlong_lists)
{
	static const char *const known[] = {"100rel", "timer", NULL};
	static char many[2048];
	osip_message_t *m;
	char *u = (char *)"untouched";

	m = parse(edit(options_req, "Max-Forwards: 70\r\n",
	               "Max-Forwards: 70\r\nRequire: 100rel , foo\r\nRequire: Timer,bar,foo\r\n"));
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), 0);
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u, "foo, bar");
	free(u);
	osip_message_free(m);

	m = parse(edit(options_req, "Max-Forwards: 70\r\n",
	               "Max-Forwards: 70\r\nRequire: 100REL, timer\r\n"));
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), 0);
	ck_assert_ptr_null(u);
	osip_message_free(m);

	m = parse(options_req); /* no Require at all */
	u = (char *)"untouched";
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), 0);
	ck_assert_ptr_null(u);
	osip_message_free(m);

	/* 17 unknown tags: more than SIP_UTIL_UNSUPPORTED_MAX */
	snprintf(many, sizeof(many), "Max-Forwards: 70\r\nRequire: ");
	for (int i = 0; i <= SIP_UTIL_UNSUPPORTED_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sx%d", i ? "," : "",
		         i);
	strcat(many, "\r\n");
	m = parse(edit(options_req, "Max-Forwards: 70\r\n", many));
	u = (char *)"untouched";
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), -E2BIG);
	ck_assert_str_eq(u, "untouched");
	osip_message_free(m);

	/* one tag longer than SIP_UTIL_UNSUPPORTED_LEN bytes */
	snprintf(many, sizeof(many), "Max-Forwards: 70\r\nRequire: %0300d\r\n", 7);
	m = parse(edit(options_req, "Max-Forwards: 70\r\n", many));
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), -E2BIG);
	osip_message_free(m);

	/* the same text 20 times is one tag */
	snprintf(many, sizeof(many), "Max-Forwards: 70\r\nRequire: ");
	for (int i = 0; i < 20; i++)
		strcat(many, i ? ",foo" : "foo");
	strcat(many, "\r\n");
	m = parse(edit(options_req, "Max-Forwards: 70\r\n", many));
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), 0);
	ck_assert_str_eq(u, "foo");
	free(u);
	osip_message_free(m);

	/* not an option-tag list (the gate refuses it; this must not list it either) */
	m = parse(
	        edit(options_req, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: a b\r\n"));
	ck_assert_int_eq(sip_util_unsupported(m, known, &u), -EBADMSG);
	osip_message_free(m);
}
END_TEST

START_TEST(check_rejects_doubled_single_headers_and_bad_require)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nMax-Forwards: 70\r\n"},
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: a b\r\n"},
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: a;b\r\n"},
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: \"x\"\r\n"},
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire:\r\n"},
	        {"To: <sip:sw@127.0.0.1>\r\n", "To: <sip:sw@127.0.0.1>\r\nTo: <sip:x@y>\r\n"},
	        {"Call-ID: cid-1@test\r\n", "Call-ID: cid-1@test\r\ni: other\r\n"},
	};
	osip_message_t *m;
	const char *s, *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = NULL;
		why = NULL;
		s = edit(options_req, cases[i].from, cases[i].to);
		if (sip_util_parse(s, strlen(s), &m) != 0)
			continue; /* refused by the parser: also a rejection */
		ck_assert_msg(sip_util_check_request(m, &why) == 400, "case %zu", i);
		ck_assert_ptr_nonnull(why);
		osip_message_free(m);
	}
	/* A list of option-tags is fine (the 420 names them). */
	m = parse(edit(options_req, "Max-Forwards: 70\r\n",
	               "Max-Forwards: 70\r\nRequire: 100rel , timer\r\nRequire: foo\r\n"));
	ck_assert_int_eq(sip_util_check_request(m, &why), 0);
	osip_message_free(m);
}
END_TEST

static const char resp_ok[] = "SIP/2.0 200 OK\r\n"
                              "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKabc123\r\n"
                              "From: <sip:a@127.0.0.1>;tag=ft1\r\n"
                              "To: <sip:sw@127.0.0.1>;tag=tt1\r\n"
                              "Call-ID: cid-1@test\r\n"
                              "CSeq: 17 OPTIONS\r\n"
                              "Content-Length: 0\r\n\r\n";

START_TEST(check_response_accepts_a_whole_response)
{
	osip_message_t *m = parse(resp_ok);
	const char *why = NULL;

	ck_assert_int_eq(sip_util_check_response(m, &why), 0);
	osip_message_free(m);
	/* 1xx..6xx, a Via list, unknown methods as long as they are tokens */
	m = parse(edit(resp_ok, "CSeq: 17 OPTIONS", "CSeq: 0 X-FOO.bar!%*_+`'~"));
	ck_assert_int_eq(sip_util_check_response(m, &why), 0);
	osip_message_free(m);
}
END_TEST

START_TEST(check_response_refuses_what_a_handler_would_dereference)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
	        {"CSeq: 17 OPTIONS\r\n", ""},
	        {"CSeq: 17 OPTIONS", "CSeq: 17 OPT IONS"},
	        {"CSeq: 17 OPTIONS", "CSeq: 17 OPTIONS;x"},
	        {"CSeq: 17 OPTIONS", "CSeq: 17 OPT\x01IONS"},
	        {"CSeq: 17 OPTIONS", "CSeq: 4294967296 OPTIONS"},
	        {"CSeq: 17 OPTIONS", "CSeq: -1 OPTIONS"},
	        {"CSeq: 17 OPTIONS", "CSeq: 1x OPTIONS"},
	        {"Call-ID: cid-1@test\r\n", ""},
	        {"From: <sip:a@127.0.0.1>;tag=ft1\r\n", ""},
	        {"To: <sip:sw@127.0.0.1>;tag=tt1\r\n", ""},
	        {"Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKabc123\r\n", ""},
	        {"branch=z9hG4bKabc123", "received=127.0.0.1"},
	        {"branch=z9hG4bKabc123", "branch="},
	        {"SIP/2.0 200 OK", "SIP/3.0 200 OK"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		osip_message_t *m = NULL;
		const char *s = edit(resp_ok, cases[i].from, cases[i].to), *why = NULL;

		if (sip_util_parse(s, strlen(s), &m) != 0)
			continue; /* refused by the parser: never reaches the gate */
		ck_assert_msg(sip_util_check_response(m, &why) == -EBADMSG, "case %zu", i);
		ck_assert_ptr_nonnull(why);
		osip_message_free(m);
	}
}
END_TEST

START_TEST(response_matches_only_our_branch_callid_and_cseq)
{
	osip_message_t *sent = parse(options_req), *r;

	r = parse(resp_ok);
	ck_assert(sip_util_response_matches(sent, r));
	osip_message_free(r);
	/* the top Via is ours: a branch of the second Via (the peer's) does not count */
	r = parse(edit(resp_ok, "branch=z9hG4bKabc123", "branch=z9hG4bKdef456"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "branch=z9hG4bKabc123", "branch=z9hG4bKabc1234"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "branch=z9hG4bKabc123", "branch=Z9HG4BKABC123"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "CSeq: 17 OPTIONS", "CSeq: 18 OPTIONS"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "CSeq: 17 OPTIONS", "CSeq: 17 INVITE"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "Call-ID: cid-1@test", "Call-ID: cid-2@test"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	r = parse(edit(resp_ok, "Call-ID: cid-1@test", "Call-ID: cid-1"));
	ck_assert(!sip_util_response_matches(sent, r));
	osip_message_free(r);
	/* a request is not a response */
	ck_assert(!sip_util_response_matches(sent, sent));
	osip_message_free(sent);
}
END_TEST

START_TEST(raw_response_copies_headers_and_tags_to)
{
	static const char bad[] = "INVITE sip:u@example.com SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
	                          "Max-Forwards: 70\r\n"
	                          "From: <sip:a@example.com>;tag=1\r\n"
	                          "To: <sip:u@example.com>\r\n"
	                          "Call-ID: x1\r\n"
	                          "CSeq: 1 INVITE\r\n"
	                          "Content-Length: 0\r\n\r\n";
	char *out;
	size_t len;

	ck_assert_int_eq(
	        sip_util_raw_response(bad, strlen(bad), 400, "Bad Request", NULL, &out, &len), 0);
	ck_assert_ptr_nonnull(strstr(out, "SIP/2.0 400 Bad Request\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "To: <sip:u@example.com>;tag="));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: x1\r\n"));
	ck_assert_ptr_null(strstr(out, "Max-Forwards"));
	ck_assert_uint_eq(len, strlen(out));
	free(out);
}
END_TEST

START_TEST(raw_response_refuses_responses_and_missing_headers)
{
	static const char resp[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS h;branch=z9hG4bKx\r\n"
	                           "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: y\r\n"
	                           "CSeq: 1 OPTIONS\r\n\r\n";
	char *out = NULL;
	size_t len;
	const char *nocseq = edit(options_req, "CSeq: 17 OPTIONS\r\n", "");

	ck_assert_int_eq(sip_util_raw_response(resp, strlen(resp), 400, "x", NULL, &out, &len),
	                 -EBADMSG);
	ck_assert_int_eq(sip_util_raw_response(nocseq, strlen(nocseq), 400, "x", NULL, &out, &len),
	                 -EBADMSG);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(salvage_answers_request_with_broken_other_header)
{
	const char *s = edit(options_req, "Max-Forwards: 70\r\n", "Contact: \"x <sip:\r\n");
	osip_message_t *m = NULL;

	ck_assert_int_eq(sip_util_salvage(s, strlen(s), &m), 0);
	ck_assert(sip_util_can_respond(m));
	ck_assert_str_eq(m->call_id->number, "cid-1");
	ck_assert_str_eq(m->call_id->host, "test");
	osip_message_free(m);
}
END_TEST

START_TEST(parse_refuses_status_zero_and_out_of_range)
{
	static const char *const bad[] = {"SIP/2.0 000 Zero\r\n", "SIP/2.0 4294967301 Big\r\n",
	                                  "SIP/2.0 99 Low\r\n", "SIP/2.0 700 High\r\n"};
	static const char rest[] = "Via: SIP/2.0/TLS h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
	                           "To: <sip:c@d>\r\nCall-ID: y\r\nCSeq: 1 OPTIONS\r\n"
	                           "Content-Length: 0\r\n\r\n";
	char buf[512];
	osip_message_t *m = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", bad[i], rest);
		ck_assert_msg(sip_util_parse(buf, strlen(buf), &m) == -EBADMSG, "%s", bad[i]);
	}
	snprintf(buf, sizeof(buf), "SIP/2.0 180 Ringing\r\n%s", rest);
	ck_assert_int_eq(sip_util_parse(buf, strlen(buf), &m), 0);
	ck_assert_int_eq(m->status_code, 180);
	osip_message_free(m);
}
END_TEST

START_TEST(tokens_are_random_and_well_formed)
{
	char a[SIP_UTIL_BRANCH_LEN], b[SIP_UTIL_BRANCH_LEN], t[SIP_UTIL_TAG_LEN];
	char cid[SIP_UTIL_CALLID_LEN];

	ck_assert_int_eq(sip_util_new_branch(a, sizeof(a)), 0);
	ck_assert_int_eq(sip_util_new_branch(b, sizeof(b)), 0);
	ck_assert_int_eq(strncmp(a, "z9hG4bK", 7), 0);
	ck_assert_uint_eq(strlen(a), SIP_UTIL_BRANCH_LEN - 1);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(sip_util_new_tag(t, sizeof(t)), 0);
	ck_assert_uint_eq(strspn(t, "0123456789abcdef"), SIP_UTIL_TAG_LEN - 1);
	ck_assert_int_eq(sip_util_new_callid(cid, sizeof(cid), "sw.example"), 0);
	ck_assert_ptr_nonnull(strstr(cid, "@sw.example"));
	ck_assert_int_eq(sip_util_new_tag(t, 5), -ENOSPC);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sip_util");
	TCase *tc = tcase_create("sip_util");
	SRunner *sr;
	int failed;

	sip_util_init();
	tcase_add_test(tc, parse_errors_print_nothing);
	tcase_add_test(tc, forget_text_drops_the_copy_and_serialises_the_same);
	tcase_add_test(tc, response_copies_vias_callid_cseq_and_adds_to_tag);
	tcase_add_test(tc, response_keeps_existing_to_tag);
	tcase_add_test(tc, response_refused_without_callid);
	tcase_add_test(tc, check_accepts_good_request);
	tcase_add_test(tc, check_rejects_bad_requests);
	tcase_add_test(tc, check_rejects_doubled_single_headers_and_bad_require);
	tcase_add_test(tc, unsupported_lists_unknown_require_tags_and_refuses_overlong_lists);
	tcase_add_test(tc, check_response_accepts_a_whole_response);
	tcase_add_test(tc, check_response_refuses_what_a_handler_would_dereference);
	tcase_add_test(tc, response_matches_only_our_branch_callid_and_cseq);
	tcase_add_test(tc, raw_response_copies_headers_and_tags_to);
	tcase_add_test(tc, raw_response_refuses_responses_and_missing_headers);
	tcase_add_test(tc, salvage_answers_request_with_broken_other_header);
	tcase_add_test(tc, parse_refuses_status_zero_and_out_of_range);
	tcase_add_test(tc, tokens_are_random_and_well_formed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
