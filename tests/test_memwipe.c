/*
 * test_memwipe.c: after memwipe_install(), what libosip2 and libevent free (a parsed
 * INVITE whose SDP carries an a=crypto key, its serialised text, an evbuffer holding
 * TLS-decrypted bytes) goes through memwipe_free, which wipes the whole block; before
 * it, nothing is wiped. Also realloc's semantics through the wiping allocator.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <osipparser2/osip_parser.h>

#include "memwipe.h"

static const char invite[] =
        "INVITE sip:agent@127.0.0.1:5071 SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-memwipe\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:caller@127.0.0.1>;tag=1\r\n"
        "To: <sip:agent@127.0.0.1>\r\n"
        "Call-ID: memwipe-1@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:caller@127.0.0.1:5061;transport=tls>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: 173\r\n"
        "\r\n"
        "v=0\r\n"
        "o=- 1 1 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 30000 RTP/SAVP 0\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

/* Parse and serialise the INVITE, then free both: the bytes wiped meanwhile. */
static unsigned long long
osip_round(void)
{
	unsigned long long before = memwipe_wiped_bytes();
	osip_message_t *m = NULL;
	char *text = NULL;
	size_t len = 0;

	ck_assert_int_eq(osip_message_init(&m), 0);
	ck_assert_int_eq(osip_message_parse(m, invite, strlen(invite)), 0);
	ck_assert_int_eq(osip_message_to_str(m, &text, &len), 0);
	ck_assert_ptr_nonnull(strstr(text, "inline:WVNfX19z"));
	osip_free(text);
	osip_message_free(m);
	return memwipe_wiped_bytes() - before;
}

START_TEST(osip_messages_are_wiped_when_freed_once_installed)
{
	parser_init();
	ck_assert_uint_eq(osip_round(), 0); /* libosip2's own free: nothing wiped */
	memwipe_install();
	/* the text twice (the message's copy and the serialised one) plus the parsed parts */
	ck_assert_uint_ge(osip_round(), 2 * strlen(invite));
}
END_TEST

START_TEST(libevent_buffers_are_wiped_when_freed_once_installed)
{
	static char payload[4096];
	unsigned long long before;
	struct evbuffer *b;

	memset(payload, 'k', sizeof(payload));
	memwipe_install();
	before = memwipe_wiped_bytes();
	b = evbuffer_new();
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(evbuffer_add(b, payload, sizeof(payload)), 0);
	evbuffer_free(b);
	ck_assert_uint_ge(memwipe_wiped_bytes() - before, sizeof(payload));
}
END_TEST

START_TEST(realloc_keeps_the_content_and_wipes_the_block_it_leaves)
{
	unsigned long long before = memwipe_wiped_bytes();
	char *p = memwipe_malloc(16), *q;

	ck_assert_ptr_nonnull(p);
	memcpy(p, "0123456789abcde", 16);
	q = memwipe_realloc(p, 8); /* smaller: the same block */
	ck_assert_ptr_eq(q, p);
	q = memwipe_realloc(p, 1 << 16); /* larger: a new block, the old one wiped */
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q, "0123456789abcde");
	ck_assert_uint_ge(memwipe_wiped_bytes() - before, 16);
	ck_assert_ptr_null(memwipe_realloc(q, 0)); /* freed, wiped */
	ck_assert_uint_ge(memwipe_wiped_bytes() - before, 16 + (1 << 16));
	p = memwipe_realloc(NULL, 32);
	ck_assert_ptr_nonnull(p);
	memwipe_free(p);
	memwipe_free(NULL);
}
END_TEST

static Suite *
memwipe_suite(void)
{
	Suite *s = suite_create("memwipe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, osip_messages_are_wiped_when_freed_once_installed);
	tcase_add_test(tc, libevent_buffers_are_wiped_when_freed_once_installed);
	tcase_add_test(tc, realloc_keeps_the_content_and_wipes_the_block_it_leaves);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(memwipe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
