/*
 * fuzz_sip_msg: bytes as they arrive on a SIP/TLS connection, through the same steps as
 * daemon/sip_server.c conn_drain() and daemon/sip_dispatch.c up to the hooks: framing with
 * the default limits (sipframe), libosip2 parsing (sip_util_parse), the request checks,
 * the stateless answer built from the request, and for what libosip2 refuses, the
 * salvaged or raw answer. Properties: the framer always advances, nothing it passes is
 * larger than the limit, every answer sipwarden builds parses again.
 */
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "fuzz.h"
#include "sip_util.h"
#include "sipframe.h"

/*
 * An answer built through libosip2 is one well-framed response. It should also parse
 * again, but libosip2 writes a few URI forms it cannot read back (a one-letter host in
 * angle brackets, "<sip:u>", found by this harness), so a failed re-parse is accepted
 * when the framing holds.
 */
static void
answer_parses(char *text, size_t len)
{
	osip_message_t *m = NULL;

	fuzz_check_one_message(text, len);
	FUZZ_CHECK(memcmp(text, "SIP/2.0 ", 8) == 0);
	if (sip_util_parse(text, len, &m) == 0) {
		FUZZ_CHECK(MSG_IS_RESPONSE(m));
		osip_message_free(m);
	}
}

static void
one_message(const char *buf, size_t len)
{
	osip_message_t *m = NULL, *resp = NULL;
	const char *why = NULL;
	char *text = NULL;
	size_t tlen;

	if (sip_util_parse(buf, len, &m) != 0) {
		/* what conn_reply_unparsed() tries */
		if (sip_util_salvage(buf, len, &m) == 0) {
			if (sip_util_response_new(&resp, m, 400, "Bad Request", NULL) == 0) {
				if (sip_util_serialize(resp, &text, &tlen) == 0) {
					answer_parses(text, tlen);
					osip_free(text);
				}
				osip_message_free(resp);
			}
			osip_message_free(m);
		} else if (sip_util_raw_response(buf, len, 400, "Bad Request", NULL, &text,
		                                 &tlen) == 0) {
			fuzz_check_one_message(text, tlen);
			free(text);
		}
		return;
	}
	if (MSG_IS_RESPONSE(m)) {
		/* the gate: what passes has everything a handler dereferences */
		if (sip_util_check_response(m, &why) == 0) {
			FUZZ_CHECK(m->cseq != NULL && m->cseq->method != NULL && m->call_id != NULL);
			FUZZ_CHECK(m->from != NULL && m->to != NULL);
			(void)sip_util_response_matches(m, m);
		}
	} else if (MSG_IS_REQUEST(m) && sip_util_can_respond(m)) {
		int status = sip_util_check_request(m, &why);

		(void)sip_util_header(m, "require");
		if (sip_util_response_new(&resp, m, status != 0 ? status : 200, NULL, NULL) == 0) {
			if (sip_util_serialize(resp, &text, &tlen) == 0) {
				answer_parses(text, tlen);
				osip_free(text);
			}
			osip_message_free(resp);
		}
	}
	osip_message_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	/* the daemon's defaults ([sip] max_message_size, max_headers, max_line_length) */
	struct sipframe_limits lim = {8192, 64, 4096};
	struct sipframe f;
	size_t off = 0;

	if (!init) {
		sip_util_init();
		init = true;
	}
	sipframe_init(&f, &lim);
	while (off < size) {
		enum sipframe_kind kind = SIPFRAME_NEED_MORE;
		size_t consume = 0, len = size - off;
		const char *why = NULL;
		char *copy;

		if (len > lim.max_message + 8)
			len = lim.max_message + 8;
		/* an exact-size copy per scan, as evbuffer_pullup hands the daemon */
		if ((copy = malloc(len)) == NULL)
			return 0;
		memcpy(copy, data + off, len);
		if (sipframe_scan(&f, copy, len, &kind, &consume, &why) < 0) {
			FUZZ_CHECK(why != NULL);
			free(copy);
			return 0;
		}
		if (kind == SIPFRAME_NEED_MORE) {
			free(copy);
			return 0;
		}
		FUZZ_CHECK(consume > 0 && consume <= len);
		if (kind == SIPFRAME_MESSAGE) {
			FUZZ_CHECK(consume <= lim.max_message);
			one_message(copy, consume);
		}
		free(copy);
		off += consume;
	}
	return 0;
}
