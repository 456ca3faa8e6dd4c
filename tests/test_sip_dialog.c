/* Unit tests for lib/sip_dialog.c: dialog identifiers, in-dialog requests, ACK/CANCEL. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip_dialog.h"

static const char invite_txt[] = "INVITE sip:agent@sipwarden.test SIP/2.0\r\n"
                                 "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKtrunk1\r\n"
                                 "Record-Route: <sip:rr1.trunk.test;lr>\r\n"
                                 "Record-Route: <sip:rr2.trunk.test;lr>\r\n"
                                 "From: \"Alice\" <sip:+15551234@trunk.test>;tag=ftag1\r\n"
                                 "To: <sip:agent@sipwarden.test>\r\n"
                                 "Call-ID: trunk-call-1@10.0.0.1\r\n"
                                 "CSeq: 10 INVITE\r\n"
                                 "Contact: <sip:alice@10.0.0.1:5061;transport=tls>\r\n"
                                 "Max-Forwards: 70\r\n"
                                 "Content-Length: 0\r\n\r\n";

static osip_message_t *
parse(const char *txt)
{
	osip_message_t *m = NULL;
	ck_assert_int_eq(osip_message_init(&m), 0);
	ck_assert_int_eq(osip_message_parse(m, txt, strlen(txt)), 0);
	return m;
}

/* Offset of `needle` in `s`, or -1. */
static long
offset_of(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (long i = 0; s[i] != '\0'; i++)
		if (strncmp(s + i, needle, n) == 0)
			return i;
	return -1;
}

/* Both `a` and `b` occur in `s`, `a` first. */
static bool
appears_before(const char *s, const char *a, const char *b)
{
	long pa = offset_of(s, a), pb = offset_of(s, b);

	return pa >= 0 && pb >= 0 && pa < pb;
}

static char *
to_str(osip_message_t *m)
{
	char *s = NULL;
	size_t len;
	ck_assert_int_eq(osip_message_to_str(m, &s, &len), 0);
	return s;
}

START_TEST(sip_dialog_uas_bye_targets_contact_via_route_set)
{
	osip_message_t *inv = parse(invite_txt), *bye = NULL;
	struct sip_dialog *d = NULL;

	ck_assert_int_eq(sip_dialog_new_uas(&d, inv, "<sip:sw@192.0.2.1:5061;transport=tls>"), 0);
	ck_assert_str_eq(d->remote_tag, "ftag1");
	ck_assert_uint_eq(strlen(d->local_tag), 16);
	ck_assert_int_eq(sip_dialog_request(d, "BYE", "192.0.2.1:5061", &bye), 0);
	char *s = to_str(bye);
	ck_assert_ptr_nonnull(strstr(s, "BYE sip:alice@10.0.0.1:5061;transport=tls SIP/2.0"));
	/* UAS keeps the Record-Route order */
	ck_assert(appears_before(s, "rr1.trunk.test", "rr2.trunk.test"));
	ck_assert_ptr_nonnull(strstr(s, "Call-ID: trunk-call-1@10.0.0.1"));
	ck_assert_ptr_nonnull(strstr(s, "tag=ftag1"));
	ck_assert_ptr_nonnull(strstr(s, d->local_tag));
	ck_assert_ptr_nonnull(strstr(s, "branch=z9hG4bK"));
	ck_assert_ptr_nonnull(strstr(s, "CSeq: 1 BYE"));
	osip_free(s);
	osip_message_free(bye);
	osip_message_free(inv);
	sip_dialog_free(d);
}
END_TEST

START_TEST(sip_dialog_uas_refuses_invite_without_from_tag_or_contact)
{
	const char *no_tag = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	                     "From: <sip:x@y>\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
	                     "Contact: <sip:x@h>\r\nContent-Length: 0\r\n\r\n";
	const char *no_contact = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	                         "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\n"
	                         "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_dialog *d = NULL;
	osip_message_t *m = parse(no_tag);
	ck_assert_int_eq(sip_dialog_new_uas(&d, m, "<sip:sw@h>"), -EINVAL);
	osip_message_free(m);
	m = parse(no_contact);
	ck_assert_int_eq(sip_dialog_new_uas(&d, m, "<sip:sw@h>"), -EINVAL);
	ck_assert_ptr_null(d);
	osip_message_free(m);
}
END_TEST

START_TEST(sip_dialog_refuses_targets_and_routes_outside_the_uri_grammar)
{
	/* found by fuzz_sip_stream: libosip2 takes this Contact, and a BYE to it went out
	 * as "BYE sip:[alicContact: .1]:40000;... SIP/2.0" */
	static const char *const bad[] = {
	        "Contact: <sip:alicContact: .1:40000;transport=tls>\r\n",
	        "Contact: <sip:alice@10.0.0.1:5061>\r\nRecord-Route: <sip:rr 1.trunk.test;lr>\r\n",
	        "Contact: <sip:alice@10.0.0.1\x01:5061>\r\n",
	        "Contact: <http://10.0.0.1/>\r\n",
	};
	char txt[1024];
	struct sip_dialog *d = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		osip_message_t *m = NULL;

		snprintf(txt, sizeof(txt),
		         "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
		         "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\n"
		         "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
		         bad[i]);
		ck_assert_int_eq(osip_message_init(&m), 0);
		if (osip_message_parse(m, txt, strlen(txt)) != 0) {
			osip_message_free(m); /* refused by the parser already: fine too */
			continue;
		}
		ck_assert_msg(sip_dialog_new_uas(&d, m, "<sip:sw@h>") == -EINVAL, "accepted: %s",
		              bad[i]);
		ck_assert_ptr_null(d);
		osip_message_free(m);
	}
}
END_TEST

/* An INVITE with `rr` (Record-Route header lines) and nothing else odd. */
static osip_message_t *
invite_with_routes(const char *rr)
{
	char txt[4096];

	snprintf(txt, sizeof(txt),
	         "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	         "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\n"
	         "CSeq: 1 INVITE\r\nContact: <sip:x@10.0.0.1:5061>\r\n%sContent-Length: 0\r\n\r\n",
	         rr);
	return parse(txt);
}

START_TEST(sip_dialog_route_sets_are_bounded_loose_and_in_the_grammar)
{
	struct sip_dialog *d = NULL;
	osip_message_t *m;
	char rr[2048] = "";

	/* in order for the UAS, and the first one (sending order) must carry lr */
	m = invite_with_routes("Record-Route: <sip:p1.test;lr>, <sip:p2.test>\r\n");
	ck_assert_int_eq(sip_dialog_routes_check(m, false), 0);
	ck_assert_int_eq(sip_dialog_routes_check(m, true), -EPROTONOSUPPORT);
	ck_assert_int_eq(sip_dialog_new_uas(&d, m, "<sip:sw@h>"), 0);
	ck_assert_uint_eq(d->nroute, 2);
	ck_assert_ptr_nonnull(strstr(d->route[0], "p1.test"));
	sip_dialog_free(d);
	d = NULL;
	osip_message_free(m);

	/* a strict router first: refused, not emulated */
	m = invite_with_routes("Record-Route: <sip:p1.test;maddr=10.0.0.9>\r\n");
	ck_assert_int_eq(sip_dialog_routes_check(m, false), -EPROTONOSUPPORT);
	ck_assert_int_eq(sip_dialog_new_uas(&d, m, "<sip:sw@h>"), -EPROTONOSUPPORT);
	ck_assert_ptr_null(d);
	osip_message_free(m);

	/* more than SIP_DIALOG_MAX_ROUTES, in one header or several */
	for (int i = 0; i <= SIP_DIALOG_MAX_ROUTES; i++)
		snprintf(rr + strlen(rr), sizeof(rr) - strlen(rr),
		         "Record-Route: <sip:p%d.test;lr>\r\n", i);
	m = invite_with_routes(rr);
	ck_assert_int_eq(sip_dialog_routes_check(m, false), -E2BIG);
	ck_assert_int_eq(sip_dialog_new_uas(&d, m, "<sip:sw@h>"), -E2BIG);
	osip_message_free(m);

	/* a parameter libosip2 keeps but the grammar refuses */
	m = invite_with_routes("Record-Route: <sip:p1.test;lr>;x=\"a\r\n");
	ck_assert_int_eq(sip_dialog_routes_check(m, false), -EINVAL);
	osip_message_free(m);
	m = invite_with_routes("");
	ck_assert_int_eq(sip_dialog_routes_check(m, false), 0);
	osip_message_free(m);
}
END_TEST

START_TEST(sip_dialog_uac_learns_target_tag_and_reversed_routes_from_2xx)
{
	struct sip_dialog *d = NULL;
	osip_message_t *inv = NULL, *bye = NULL, *ack = NULL;

	ck_assert_int_eq(
	        sip_dialog_new_uac(&d, "sip:agent@127.0.0.1:5071;transport=tls",
	                           "<sip:+15551234@sipwarden.test>", "<sip:agent@127.0.0.1:5071>",
	                           "<sip:sw@127.0.0.1:5061;transport=tls>", "sipwarden.test"),
	        0);
	ck_assert_int_eq(sip_dialog_request(d, "INVITE", "127.0.0.1:5061", &inv), 0);
	char *s = to_str(inv);
	ck_assert_ptr_nonnull(strstr(s, "INVITE sip:agent@127.0.0.1:5071;transport=tls SIP/2.0"));
	ck_assert_ptr_nonnull(strstr(s, "@sipwarden.test"));
	ck_assert_ptr_null(strstr(s, "trunk-call-1")); /* nothing of the other leg */
	osip_free(s);

	char resp[1024];
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKx\r\n"
	         "Record-Route: <sip:p1.agent.test;lr>\r\nRecord-Route: <sip:p2.agent.test;lr>\r\n"
	         "From: <sip:+15551234@sipwarden.test>;tag=%s\r\nTo: "
	         "<sip:agent@127.0.0.1:5071>;tag=atag\r\n"
	         "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: "
	         "<sip:agent@127.0.0.9:5071;transport=tls>\r\n"
	         "Content-Length: 0\r\n\r\n",
	         d->local_tag, d->call_id);
	osip_message_t *ok = parse(resp);
	ck_assert_int_eq(sip_dialog_update_uac(d, ok), 0);
	ck_assert(d->confirmed);
	ck_assert_str_eq(d->remote_tag, "atag");
	ck_assert_str_eq(d->remote_target, "sip:agent@127.0.0.9:5071;transport=tls");

	ck_assert_int_eq(sip_dialog_request(d, "ACK", "127.0.0.1:5061", &ack), 0);
	s = to_str(ack);
	ck_assert_ptr_nonnull(strstr(s, "CSeq: 1 ACK"));
	osip_free(s);
	ck_assert_int_eq(sip_dialog_request(d, "BYE", "127.0.0.1:5061", &bye), 0);
	s = to_str(bye);
	ck_assert_ptr_nonnull(strstr(s, "CSeq: 2 BYE"));
	ck_assert_ptr_nonnull(strstr(s, "BYE sip:agent@127.0.0.9:5071;transport=tls"));
	ck_assert(appears_before(s, "p2.agent.test", "p1.agent.test")); /* UAC reverses RR */
	ck_assert_ptr_nonnull(strstr(s, "tag=atag"));
	osip_free(s);
	osip_message_free(ok);
	osip_message_free(inv);
	osip_message_free(ack);
	osip_message_free(bye);
	sip_dialog_free(d);
}
END_TEST

START_TEST(sip_dialog_cancel_and_non2xx_ack_reuse_invite_branch)
{
	struct sip_dialog *d = NULL;
	osip_message_t *inv = NULL, *cancel = NULL, *ack = NULL;
	osip_via_t *v1 = NULL, *v2 = NULL;
	osip_generic_param_t *b1 = NULL, *b2 = NULL;

	ck_assert_int_eq(sip_dialog_new_uac(&d, "sip:a@127.0.0.1:5071", "<sip:c@sw>",
	                                    "<sip:a@127.0.0.1>", "<sip:sw@127.0.0.1>", "sw"),
	                 0);
	ck_assert_int_eq(sip_dialog_request(d, "INVITE", "127.0.0.1:5061", &inv), 0);
	ck_assert_int_eq(sip_dialog_cancel(inv, &cancel), 0);
	ck_assert_str_eq(cancel->sip_method, "CANCEL");
	ck_assert_str_eq(cancel->cseq->number, inv->cseq->number);
	ck_assert_str_eq(cancel->cseq->method, "CANCEL");
	osip_message_get_via(inv, 0, &v1);
	osip_message_get_via(cancel, 0, &v2);
	osip_via_param_get_byname(v1, "branch", &b1);
	osip_via_param_get_byname(v2, "branch", &b2);
	ck_assert_str_eq(b1->gvalue, b2->gvalue);

	char resp[512];
	char *cid = NULL;
	osip_call_id_to_str(inv->call_id, &cid);
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=%s\r\n"
	         "From: <sip:c@sw>;tag=%s\r\nTo: <sip:a@127.0.0.1>;tag=busy\r\nCall-ID: %s\r\n"
	         "CSeq: %s INVITE\r\nContent-Length: 0\r\n\r\n",
	         b1->gvalue, d->local_tag, cid, inv->cseq->number);
	osip_free(cid);
	osip_message_t *r503 = parse(resp);
	ck_assert_int_eq(sip_dialog_ack_non2xx(inv, r503, &ack), 0);
	char *s = to_str(ack);
	ck_assert_ptr_nonnull(strstr(s, "ACK sip:a@127.0.0.1:5071 SIP/2.0"));
	ck_assert_ptr_nonnull(strstr(s, b1->gvalue));
	ck_assert_ptr_nonnull(strstr(s, "tag=busy"));
	osip_free(s);
	osip_message_free(r503);
	osip_message_free(ack);
	osip_message_free(cancel);
	osip_message_free(inv);
	sip_dialog_free(d);
}
END_TEST

START_TEST(sip_dialog_matches_only_its_own_tags_and_cseq_must_grow)
{
	osip_message_t *inv = parse(invite_txt);
	struct sip_dialog *d = NULL;
	char bye[1024];

	ck_assert_int_eq(sip_dialog_new_uas(&d, inv, "<sip:sw@h>"), 0);
	snprintf(bye, sizeof(bye),
	         "BYE sip:sw@h SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bK2\r\n"
	         "From: <sip:+15551234@trunk.test>;tag=ftag1\r\nTo: "
	         "<sip:agent@sipwarden.test>;tag=%s\r\n"
	         "Call-ID: trunk-call-1@10.0.0.1\r\nCSeq: 11 BYE\r\nContent-Length: 0\r\n\r\n",
	         d->local_tag);
	osip_message_t *b = parse(bye);
	ck_assert(sip_dialog_matches(d, b));
	ck_assert_int_eq(sip_dialog_check_remote_cseq(d, b), 0);
	ck_assert_int_eq(sip_dialog_check_remote_cseq(d, b), -EPROTO); /* same CSeq again */
	osip_message_free(b);

	/* wrong To tag: another dialog */
	snprintf(bye, sizeof(bye),
	         "BYE sip:sw@h SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bK3\r\n"
	         "From: <sip:x@trunk.test>;tag=ftag1\r\nTo: <sip:a@sw>;tag=forged\r\n"
	         "Call-ID: trunk-call-1@10.0.0.1\r\nCSeq: 12 BYE\r\nContent-Length: 0\r\n\r\n");
	b = parse(bye);
	ck_assert(!sip_dialog_matches(d, b));
	osip_message_free(b);
	char *user = sip_dialog_user_part(inv->from);
	ck_assert_str_eq(user, "+15551234");
	osip_free(user);
	osip_message_free(inv);
	sip_dialog_free(d);
}
END_TEST

START_TEST(sip_dialog_tokens_are_random_and_sized)
{
	char a[33], b[33];
	sip_dialog_token(a, 32);
	sip_dialog_token(b, 32);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strspn(a, "0123456789abcdefghijklmnopqrstuvwxyz"), 32);
}
END_TEST

START_TEST(sip_dialog_bye_keeps_a_long_display_name_whole)
{
	static char txt[8192], name[3001];
	osip_message_t *inv, *bye = NULL;
	struct sip_dialog *d = NULL;

	/* 3,000 bytes of display name: in-dialog requests used to be built in 1,024 */
	memset(name, 'D', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(txt, sizeof(txt),
	         "INVITE sip:agent@sipwarden.test SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKlong\r\n"
	         "From: \"%s\" <sip:1000@trunk.test>;tag=ltag\r\n"
	         "To: <sip:agent@sipwarden.test>\r\n"
	         "Call-ID: long@10.0.0.1\r\nCSeq: 1 INVITE\r\n"
	         "Contact: <sip:t@10.0.0.1:5061;transport=tls>\r\nContent-Length: 0\r\n\r\n",
	         name);
	inv = parse(txt);
	ck_assert_int_eq(sip_dialog_new_uas(&d, inv, "<sip:sw@192.0.2.1:5061;transport=tls>"), 0);
	ck_assert_int_eq(sip_dialog_request(d, "BYE", "192.0.2.1:5061", &bye), 0);
	ck_assert_ptr_nonnull(bye->to);
	ck_assert_ptr_nonnull(bye->to->displayname);
	ck_assert_uint_eq(strlen(bye->to->displayname), strlen(name) + 2);
	char *s = to_str(bye);
	ck_assert_ptr_nonnull(strstr(s, name));
	ck_assert_ptr_nonnull(strstr(s, "tag=ltag"));
	osip_free(s);
	osip_message_free(bye);
	osip_message_free(inv);
	sip_dialog_free(d);
}
END_TEST

START_TEST(sip_dialog_uri_re_escapes_a_hostile_user_part)
{
	char *u = NULL;
	osip_uri_t *back = NULL;

	ck_assert_int_eq(sip_dialog_uri(&u, "bob\r\nX-Inj: pwned", "192.0.2.1:5061", NULL, true),
	                 0);
	ck_assert_str_eq(u, "<sip:bob%0D%0AX-Inj%3A%20pwned@192.0.2.1:5061>");
	ck_assert_int_eq(osip_uri_init(&back), 0);
	u[strlen(u) - 1] = '\0';
	ck_assert_int_eq(osip_uri_parse(back, u + 1), 0);
	ck_assert_str_eq(back->username, "bob\r\nX-Inj: pwned"); /* the same user, intact */
	osip_uri_free(back);
	osip_free(u);

	ck_assert_int_eq(
	        sip_dialog_uri(&u, "+1 555#1%", "[2001:db8::1]:5071", ";transport=tls", false), 0);
	ck_assert_str_eq(u, "sip:+1%20555%231%25@[2001:db8::1]:5071;transport=tls");
	osip_free(u);
	ck_assert_int_eq(sip_dialog_uri(&u, NULL, "agent.test", NULL, true), 0);
	ck_assert_str_eq(u, "<sip:agent.test>");
	osip_free(u);
	u = NULL;
	/* our own part must be a host[:port] */
	ck_assert_int_eq(sip_dialog_uri(&u, "bob", "x@agent.test", NULL, true), -EINVAL);
	ck_assert_ptr_null(u);
}
END_TEST

int
main(void)
{
	parser_init();
	Suite *s = suite_create("sip_dialog");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, sip_dialog_uas_bye_targets_contact_via_route_set);
	tcase_add_test(tc, sip_dialog_uas_refuses_invite_without_from_tag_or_contact);
	tcase_add_test(tc, sip_dialog_refuses_targets_and_routes_outside_the_uri_grammar);
	tcase_add_test(tc, sip_dialog_uac_learns_target_tag_and_reversed_routes_from_2xx);
	tcase_add_test(tc, sip_dialog_cancel_and_non2xx_ack_reuse_invite_branch);
	tcase_add_test(tc, sip_dialog_matches_only_its_own_tags_and_cseq_must_grow);
	tcase_add_test(tc, sip_dialog_tokens_are_random_and_sized);
	tcase_add_test(tc, sip_dialog_bye_keeps_a_long_display_name_whole);
	tcase_add_test(tc, sip_dialog_uri_re_escapes_a_hostile_user_part);
	tcase_add_test(tc, sip_dialog_route_sets_are_bounded_loose_and_in_the_grammar);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
