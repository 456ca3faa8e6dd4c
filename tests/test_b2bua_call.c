/*
 * Unit tests for daemon/b2bua_call.c's call table: finding a call by Call-ID or by the
 * dialog of a request costs the same with 10,000 calls as with one, builds no string per
 * call (the Call-ID of the request is composed once), and stays in sync when dialogs are
 * created and freed; finding a call by media id likewise. The file is compiled in with stubs for
 * the signalling it would send.
 *
 * osip_call_id_to_str() is wrapped (-Wl,--wrap) to count how often a Call-ID is turned
 * into a new string: the old table walk did it for every leg of every call.
 */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "b2bua_call_stubs.h"
#include "b2bua_int.h"
#include "sip_dialog.h"
#include "sip_util.h"

#define NCALLS 10000

/* ---- the counted stringifier ---- */

static unsigned long n_stringified;

int __real_osip_call_id_to_str(const osip_call_id_t *h, char **dest);
int __wrap_osip_call_id_to_str(const osip_call_id_t *h, char **dest);

int
__wrap_osip_call_id_to_str(const osip_call_id_t *h, char **dest)
{
	n_stringified++;
	return __real_osip_call_id_to_str(h, dest);
}

/* ---- helpers ---- */

#define msg b2bua_stub_msg

/* A call with leg A from an INVITE with `callid`/`ftag`, and a UAC leg B. */
static struct call *
add_call(struct b2bua *b, const char *callid, const char *ftag)
{
	osip_message_t *inv = msg("INVITE", callid, ftag, NULL);
	struct call *c = call_new(b);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sip_dialog_new_uas(&c->leg[0].dlg, inv, "<sip:sw@192.0.2.1>"), 0);
	call_leg_index(c, 0);
	ck_assert_int_eq(sip_dialog_new_uac(&c->leg[1].dlg, "<sip:agent@192.0.2.9>",
	                                    "<sip:+15551234@sw.test>", "<sip:agent@192.0.2.9>",
	                                    "<sip:sw@192.0.2.1>", "sw.test"),
	                 0);
	call_leg_index(c, 1);
	osip_message_free(inv);
	return c;
}

static void
free_all(struct b2bua *b)
{
	while (b->calls != NULL)
		call_free(b->calls);
	call_table_free(b);
}

/* A request inside leg A of `c`, as the trunk would send it. */
static osip_message_t *
in_dialog(const struct call *c, const char *method)
{
	const struct sip_dialog *d = c->leg[0].dlg;
	return msg(method, d->call_id, d->remote_tag, d->local_tag);
}

/* ---- tests ---- */

START_TEST(call_by_dialog_builds_no_string_per_call_among_10000_calls)
{
	struct b2bua b = {0};
	struct call *want = NULL, *c;
	osip_message_t *bye, *stranger;
	char cid[64], tag[32];
	int legi = -1;

	for (int i = 0; i < NCALLS; i++) {
		snprintf(cid, sizeof(cid), "call-%d@trunk.test", i);
		snprintf(tag, sizeof(tag), "f%d", i);
		c = add_call(&b, cid, tag);
		if (i == NCALLS / 3)
			want = c;
	}
	ck_assert_uint_eq(b.ncalls, NCALLS);
	bye = in_dialog(want, "BYE");
	stranger = msg("BYE", "nobody@else", "x", "y");

	n_stringified = 0;
	ck_assert_ptr_eq(call_by_dialog(&b, bye, &legi), want);
	ck_assert_int_eq(legi, 0);
	ck_assert_ptr_null(call_by_dialog(&b, stranger, &legi));
	/* at most one Call-ID string per request, none per call in the table */
	ck_assert_msg(n_stringified <= 2, "%lu Call-ID strings built for 2 requests among %d calls",
	              n_stringified, NCALLS);

	osip_message_free(bye);
	osip_message_free(stranger);
	free_all(&b);
}
END_TEST

START_TEST(call_by_dialog_needs_the_tags_of_the_dialog_not_only_its_call_id)
{
	struct b2bua b = {0};
	struct call *c1 = add_call(&b, "same@trunk.test", "fa");
	struct call *c2 = add_call(&b, "same@trunk.test", "fb");
	osip_message_t *r1 = in_dialog(c1, "BYE"), *r2 = in_dialog(c2, "BYE");
	osip_message_t *wrong = msg("BYE", "same@trunk.test", "fa", c2->leg[0].dlg->local_tag);
	int legi;

	ck_assert_ptr_eq(call_by_dialog(&b, r1, &legi), c1);
	ck_assert_ptr_eq(call_by_dialog(&b, r2, &legi), c2);
	ck_assert_ptr_null(call_by_dialog(&b, wrong, &legi));
	osip_message_free(r1);
	osip_message_free(r2);
	osip_message_free(wrong);
	free_all(&b);
}
END_TEST

START_TEST(call_by_callid_finds_each_leg_and_forgets_cleared_and_freed_ones)
{
	struct b2bua b = {0};
	struct call *c1 = add_call(&b, "one@trunk.test", "f1");
	struct call *c2 = add_call(&b, "two@trunk.test", "f2");
	char *b1 = strdup(c1->leg[1].dlg->call_id);
	osip_message_t *bye2 = in_dialog(c2, "BYE");
	int legi;

	ck_assert_ptr_eq(call_by_callid(&b, "one@trunk.test", 0), c1);
	ck_assert_ptr_eq(call_by_callid(&b, "two@trunk.test", 0), c2);
	ck_assert_ptr_null(call_by_callid(&b, "one@trunk.test", 1));
	ck_assert_ptr_eq(call_by_callid(&b, b1, 1), c1);
	ck_assert_ptr_null(call_by_callid(&b, b1, 0));

	/* failover: leg B is cleared and rebuilt with a new Call-ID */
	leg_clear(&c1->leg[1]);
	ck_assert_ptr_null(call_by_callid(&b, b1, 1));

	/* a freed call is gone from the index */
	call_free(c2);
	ck_assert_ptr_null(call_by_callid(&b, "two@trunk.test", 0));
	ck_assert_ptr_null(call_by_dialog(&b, bye2, &legi));
	ck_assert_ptr_eq(call_by_callid(&b, "one@trunk.test", 0), c1);

	/* an ended call is still found by Call-ID (late responses), not by dialog */
	c1->state = CALL_ENDED;
	ck_assert_ptr_eq(call_by_callid(&b, "one@trunk.test", 0), c1);
	free(b1);
	osip_message_free(bye2);
	free_all(&b);
}
END_TEST

START_TEST(call_by_dialog_finds_a_call_id_longer_than_the_stack_buffer)
{
	struct b2bua b = {0};
	char cid[601];
	struct call *c;
	osip_message_t *bye;
	int legi;

	memset(cid, 'k', 500);
	strcpy(cid + 500, "@trunk.test");
	c = add_call(&b, cid, "flong");
	bye = in_dialog(c, "BYE");
	ck_assert_ptr_eq(call_by_dialog(&b, bye, &legi), c);
	ck_assert_int_eq(legi, 0);
	ck_assert_ptr_eq(call_by_callid(&b, cid, 0), c);
	osip_message_free(bye);
	free_all(&b);
}
END_TEST

START_TEST(call_by_media_finds_the_call_by_its_media_id_until_it_is_freed)
{
	struct b2bua b = {0};
	struct call *c1 = add_call(&b, "m1@trunk.test", "f1");
	struct call *c2 = add_call(&b, "m2@trunk.test", "f2");

	c1->media_id = 0x1234500;
	c2->media_id = 0x1234601;
	b.nmedia = 2;
	call_media_index(c1);
	call_media_index(c2);
	ck_assert_ptr_eq(call_by_media(&b, 0x1234500), c1);
	ck_assert_ptr_eq(call_by_media(&b, 0x1234601), c2);
	ck_assert_ptr_null(call_by_media(&b, 0x1234700));
	call_free(c1);
	ck_assert_ptr_null(call_by_media(&b, 0x1234500));
	ck_assert_ptr_eq(call_by_media(&b, 0x1234601), c2);
	ck_assert_uint_eq(b.nmedia, 1);
	free_all(&b);
}
END_TEST

/* ---- what an answered call keeps of its INVITEs (issue 12: memory per live call) ---- */

/* An INVITE as a trunk sends it: a proxy's Via on top of the trunk's, the usual headers
 * and an SDP offer with two a=crypto lines. */
static const char trunk_invite[] =
        "INVITE sip:+15557654@sipwarden.test SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bKproxy1;rport\r\n"
        "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKtrunk1\r\n"
        "Max-Forwards: 69\r\n"
        "Record-Route: <sip:10.0.0.2:5061;transport=tls;lr>\r\n"
        "From: \"Ann Caller\" <sip:+15551234@trunk.test>;tag=as7f3c\r\n"
        "To: <sip:+15557654@sipwarden.test>\r\n"
        "Call-ID: 8c1f0b2e9d7a4c3b@trunk.test\r\n"
        "CSeq: 102 INVITE\r\n"
        "Contact: <sip:trunk@10.0.0.1:5061;transport=tls>\r\n"
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, REFER, NOTIFY, INFO\r\n"
        "Supported: timer, 100rel, replaces\r\n"
        "Session-Expires: 1800;refresher=uac\r\n"
        "Min-SE: 90\r\n"
        "User-Agent: Trunk PBX 12.4.1\r\n"
        "P-Asserted-Identity: <sip:+15551234@trunk.test>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: 402\r\n"
        "\r\n"
        "v=0\r\n"
        "o=pbx 1733387000 1733387000 IN IP4 10.0.0.1\r\n"
        "s=call\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 40000 RTP/SAVP 0 8 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\n"
        "a=ptime:20\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzFDSDJIcmNqKVlUOSxWXC94\r\n"
        "a=sendrecv\r\n";

/* The INVITE `trunk_invite` parsed (its text forgotten, as on_new_invite() keeps it) and
 * kept as a call keeps it once answered (`what`: CALL_KEEP_*); the heap bytes
 * that takes (glibc's chunk overhead included) in *bytes. */
static osip_message_t *
kept_invite(unsigned what, size_t *bytes)
{
	osip_message_t *m = NULL;
	size_t before;

	/* libosip2's first-use allocations outside the measure */
	ck_assert_int_eq(osip_message_init(&m), 0);
	ck_assert_int_eq(osip_message_parse(m, trunk_invite, sizeof(trunk_invite) - 1), 0);
	osip_message_free(m);
	m = NULL;

	before = mallinfo2().uordblks;
	ck_assert_int_eq(osip_message_init(&m), 0);
	ck_assert_int_eq(osip_message_parse(m, trunk_invite, sizeof(trunk_invite) - 1), 0);
	sip_util_forget_text(m);
	ck_assert_int_eq(call_msg_keep_txn(&m, what), 0);
	*bytes = mallinfo2().uordblks - before;
	return m;
}

/* What is read from a kept INVITE later is all there (and its parties, with them). */
static void
assert_txn_core(const osip_message_t *m, bool parties)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;

	ck_assert(MSG_IS_INVITE(m));
	ck_assert_str_eq(m->cseq->number, "102");
	ck_assert_str_eq(m->cseq->method, "INVITE");
	ck_assert_str_eq(m->call_id->number, "8c1f0b2e9d7a4c3b");
	ck_assert_int_eq(osip_message_get_via(m, 0, &via), 0);
	ck_assert_int_eq(osip_via_param_get_byname(via, "branch", &br), 0);
	ck_assert_str_eq(br->gvalue, "z9hG4bKproxy1");
	ck_assert_int_eq(osip_list_size(&m->bodies), 0);
	if (!parties) {
		ck_assert_ptr_null(m->from);
		ck_assert_ptr_null(m->to);
		return;
	}
	ck_assert_str_eq(m->from->url->username, "+15551234");
	ck_assert_str_eq(m->from->displayname, "\"Ann Caller\"");
	ck_assert_str_eq(m->to->url->username, "+15557654");
}

/* The INVITE we sent, kept: at most this many heap bytes (whole, 4,064). */
#define KEPT_INVITE_BUDGET 2048

START_TEST(an_answered_calls_invite_keeps_only_what_is_read_and_fits_its_budget)
{
	osip_message_t *m, *cancel = NULL;
	size_t kept;

	m = kept_invite(CALL_KEEP_PARTIES | CALL_KEEP_ROUTING, &kept);
	ck_assert_msg(kept <= KEPT_INVITE_BUDGET, "the kept INVITE takes %zu heap bytes", kept);
	assert_txn_core(m, true);
	/* a CANCEL can still be built from it (the ACK to a non-2xx likewise) */
	ck_assert_str_eq(m->req_uri->username, "+15557654");
	ck_assert_int_eq(sip_dialog_cancel(m, &cancel), 0);
	ck_assert_str_eq(cancel->cseq->number, "102");
	osip_message_free(cancel);
	osip_message_free(m);
}
END_TEST

/* The INVITE leg A's peer sent, kept once its 200 has the ACK: sipwarden builds no request
 * from it, so not even its Request-URI is kept (1,952 bytes with it). */
#define KEPT_RECEIVED_INVITE_BUDGET 1856

START_TEST(a_received_invite_kept_has_no_request_uri_and_fits_its_budget)
{
	osip_message_t *m;
	size_t kept;

	m = kept_invite(CALL_KEEP_PARTIES, &kept);
	ck_assert_msg(kept <= KEPT_RECEIVED_INVITE_BUDGET, "the kept INVITE takes %zu heap bytes",
	              kept);
	assert_txn_core(m, true);
	ck_assert_ptr_null(m->req_uri);
	osip_message_free(m);
}
END_TEST

/* The INVITE sipwarden sent on leg B, kept once its 2xx is taken: only its transaction is
 * matched from then on (copies of the 2xx, responses by CSeq); no From, To or
 * Request-URI (1,760 bytes with From and To, 1,952 with the Request-URI too). */
#define KEPT_MATCH_INVITE_BUDGET 1280

START_TEST(an_answered_agents_invite_keeps_its_transaction_only_and_fits_its_budget)
{
	osip_message_t *m;
	size_t kept;

	m = kept_invite(0, &kept);
	ck_assert_msg(kept <= KEPT_MATCH_INVITE_BUDGET, "the kept INVITE takes %zu heap bytes",
	              kept);
	assert_txn_core(m, false);
	ck_assert_ptr_null(m->req_uri);
	osip_message_free(m);
}
END_TEST

/* An offer as a trunk sends it, for sdp_build_offer() to build ours from. */
static const char trunk_offer[] =
        "v=0\r\n"
        "o=pbx 1 1 IN IP4 10.0.0.1\r\n"
        "s=call\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 40000 RTP/SAVP 0\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

static const enum srtp_suite six_suites[] = {
        SUITE_AEAD_AES_256_GCM,        SUITE_AEAD_AES_128_GCM,        SUITE_AES_256_CM_HMAC_SHA1_80,
        SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AES_256_CM_HMAC_SHA1_32, SUITE_AES_CM_128_HMAC_SHA1_32,
};

/* Our offer of six suites on leg `l` (its keys in l->offered): the text (sdp_text_free). */
static char *
offer_six(struct call_leg *l)
{
	struct sdp_policy pol = {six_suites, 6, true, false};
	struct sdp_desc *from = NULL;
	struct sdp_verdict fv;
	struct sdp_origin o;
	struct sdp_local loc = {&o, "192.0.2.1", 41000, false};
	const char *why = NULL;
	char *text = NULL;

	ck_assert_int_eq(sdp_parse(&from, trunk_offer, sizeof(trunk_offer) - 1, &why), 0);
	ck_assert_int_eq(sdp_check_offer(from, &pol, &fv), 0);
	ck_assert_int_eq(sdp_origin_init(&o), 0);
	ck_assert_int_eq(leg_offer_room(l, 6), 0);
	ck_assert_int_eq(
	        sdp_build_offer(&text, &loc, from, &fv, six_suites, 6, l->offered, 6, &l->noffered),
	        0);
	ck_assert_uint_eq(l->noffered, 6);
	sdp_desc_free(from);
	return text;
}

/* A leg whose peer answered our offer keeps the key it chose and no other: the six keys
 * of an offer (1,104 bytes with their MKI room, and the allocation) were kept for the
 * call's life. A session refresh that repeats the offer reads them again from its text. */
START_TEST(an_answered_leg_keeps_only_the_chosen_key_and_reads_the_offer_again_from_its_text)
{
	struct call_leg l = {0};
	struct srtp_keys saved[6];
	struct sdp_verdict v = {.reason = SDP_OK, .media = 0, .srtp = true, .crypto = 0};
	size_t before;
	char *text;

	text = offer_six(&l);
	memcpy(saved, l.offered, sizeof(saved));
	leg_offer_drop(&l);
	before = mallinfo2().uordblks;
	ck_assert_int_eq(leg_offer_room(&l, 6), 0);
	memcpy(l.offered, saved, sizeof(saved));
	l.noffered = 6;
	v.suite = saved[2].suite;
	v.tag = saved[2].tag;
	leg_answer_key(&l, &v, false); /* early media: the 2xx may answer again */
	ck_assert_uint_eq(l.noffered, 6);
	ck_assert_int_eq(l.tx.suite, saved[2].suite);
	leg_answer_key(&l, &v, true);
	ck_assert_int_eq(l.tx.suite, saved[2].suite);
	ck_assert_uint_eq(l.tx.tag, saved[2].tag);
	ck_assert_mem_eq(l.tx.key, saved[2].key, sizeof(l.tx.key));
	ck_assert_mem_eq(l.tx.salt, saved[2].salt, sizeof(l.tx.salt));
	ck_assert_msg(l.offered == NULL && l.noffered == 0, "%zu offered keys kept", l.noffered);
	size_t kept = mallinfo2().uordblks - before;
	ck_assert_msg(kept == 0, "the answered leg's keys take %zu heap bytes", kept);

	/* the refresh's answer may choose any of them again */
	ck_assert_int_eq(leg_offer_from_text(&l, text), 0);
	ck_assert_uint_eq(l.noffered, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(l.offered[i].suite, saved[i].suite);
		ck_assert_uint_eq(l.offered[i].tag, saved[i].tag);
		ck_assert_mem_eq(l.offered[i].key, saved[i].key, sizeof(saved[i].key));
		ck_assert_mem_eq(l.offered[i].salt, saved[i].salt, sizeof(saved[i].salt));
		ck_assert_uint_eq(l.offered[i].mki_len, 0);
	}
	/* not an SDP of ours: refused, nothing kept */
	ck_assert_int_eq(leg_offer_from_text(&l, "v=0\r\nm=audio\r\n"), -EINVAL);
	ck_assert_uint_eq(l.noffered, 0);
	OPENSSL_cleanse(saved, sizeof(saved));
	sdp_text_free(text);
	leg_clear(&l);
}
END_TEST

/* A live call's record: two legs inline. 784 bytes a leg and 2,208 a call before: a
 * sockaddr_storage (128 B) for an IPv4/IPv6 address, and the TLS version and cipher names
 * copied into 80 bytes (libssl's static strings: two pointers do). */
START_TEST(call_record_fits_its_budget)
{
	ck_assert_uint_le(sizeof(union leg_addr), 28);
	ck_assert_uint_le(sizeof(struct call_leg), 640);
	ck_assert_uint_le(sizeof(struct call), 1920);
}
END_TEST

/* Once leg A's 200 has its ACK, a call keeps no set-up state: the INVITE's core only,
 * and not the SDP answer it sent leg A (kept for the 200 after early media). */
START_TEST(an_acked_call_drops_its_setup_state)
{
	static const char answer[] = "v=0\r\n"
	                             "o=- 1 2 IN IP4 192.0.2.1\r\n"
	                             "s=-\r\n"
	                             "c=IN IP4 192.0.2.1\r\n"
	                             "t=0 0\r\n"
	                             "m=audio 41000 RTP/SAVP 0\r\n"
	                             "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                             "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
	struct b2bua b = {0};
	struct call *c;

	ck_assert_ptr_nonnull(c = call_new(&b));
	ck_assert_int_eq(osip_message_init(&c->a_invite), 0);
	ck_assert_int_eq(osip_message_parse(c->a_invite, trunk_invite, sizeof(trunk_invite) - 1),
	                 0);
	ck_assert_ptr_nonnull(c->a_answer = strdup(answer));
	c->a_final_sent = true;
	call_a_acked(c);
	ck_assert_int_eq(osip_list_size(&c->a_invite->bodies), 0);
	ck_assert_str_eq(c->a_invite->cseq->number, "102");
	ck_assert_msg(c->a_answer == NULL, "the answer to leg A is kept");
	free_all(&b);
}
END_TEST

/* A leg keeps what its SDP's check chose, not the verdict with its 200-byte refusal text
 * (an accepted one's is empty): 624 bytes a leg and 1,888 a call before. */
START_TEST(a_leg_keeps_the_choice_of_its_sdp_not_the_verdict_text)
{
	ck_assert_uint_le(sizeof(((struct call_leg *)0)->verdict), 24);
	ck_assert_uint_le(sizeof(struct call_leg), 448);
	ck_assert_uint_le(sizeof(struct call), 1536);
}
END_TEST

/* The request relayed across a call (one at a time, inline in struct call) keeps the
 * choice of its offer's check, not the verdict: 272 bytes and 1,488 a call before. */
START_TEST(a_relayed_request_keeps_the_choice_of_its_offer)
{
	ck_assert_uint_le(sizeof(((struct relay_txn *)0)->verdict), 24);
	ck_assert_uint_le(sizeof(struct relay_txn), 80);
	/* +16 since: its place in the 100 Trying queue (b2bua_trying.c) */
	ck_assert_uint_le(sizeof(struct call), 1312);
}
END_TEST

static Suite *
b2bua_call_suite(void)
{
	Suite *s = suite_create("b2bua_call");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, call_by_dialog_builds_no_string_per_call_among_10000_calls);
	tcase_add_test(tc, call_by_dialog_needs_the_tags_of_the_dialog_not_only_its_call_id);
	tcase_add_test(tc, call_by_callid_finds_each_leg_and_forgets_cleared_and_freed_ones);
	tcase_add_test(tc, call_by_dialog_finds_a_call_id_longer_than_the_stack_buffer);
	tcase_add_test(tc, call_by_media_finds_the_call_by_its_media_id_until_it_is_freed);
	suite_add_tcase(s, tc);
	tc = tcase_create("budget");
	tcase_add_test(tc, call_record_fits_its_budget);
	tcase_add_test(tc, a_leg_keeps_the_choice_of_its_sdp_not_the_verdict_text);
	tcase_add_test(tc, a_relayed_request_keeps_the_choice_of_its_offer);
	tcase_add_test(tc, an_acked_call_drops_its_setup_state);
	tcase_add_test(tc, an_answered_calls_invite_keeps_only_what_is_read_and_fits_its_budget);
	tcase_add_test(tc, a_received_invite_kept_has_no_request_uri_and_fits_its_budget);
	tcase_add_test(tc,
	               an_answered_agents_invite_keeps_its_transaction_only_and_fits_its_budget);
	tcase_add_test(
	        tc,
	        an_answered_leg_keeps_only_the_chosen_key_and_reads_the_offer_again_from_its_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	parser_init();
	sr = srunner_create(b2bua_call_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
