/*
 * it_no_key_leak: the SRTP keys of a call appear nowhere in the telemetry stream or in
 * the daemon's log, even at log_level debug.
 *
 * The test is the trunk: it sends its own INVITEs over TLS with a=crypto keys it chose.
 * The first offer must be refused (an UNENCRYPTED_SRTP line and an unknown suite, each
 * with a key); the second is answered by an swpeer agent behind sipwarden, the test
 * ACKs, then BYEs. The telemetry stream (read to its end) and the daemon's whole log are
 * searched for the refused keys, the trunk's key and the key sipwarden chose for the
 * trunk leg (from its 200 OK), as base64 (padded and unpadded, also a 16-character
 * prefix) and as hex (upper and lower case, also the master key alone). The call must be visible in
 * both, so the search cannot pass on an empty stream or log. The SIP text the daemon freed
 * was wiped first (stats memory.wiped_bytes).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "itest.h"

#define KEY_LEN 46 /* AES_256_CM_HMAC_SHA1_80: 32-byte key, 14-byte salt */
#define MSG_CAP 16384
#define TEL_CAP (1 << 20)

static void
b64(const unsigned char *k, size_t n, char *out, bool pad)
{
	EVP_EncodeBlock((unsigned char *)out, k, (int)n);
	if (!pad)
		out[strcspn(out, "=")] = '\0';
}

static void
hex(const unsigned char *k, size_t n, char *out, bool upper)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, upper ? "%02X" : "%02x", k[i]);
}

/* The first form of key `k` (KEY_LEN bytes) found in `hay` (static), or NULL. */
static const char *
key_in(const char *hay, const unsigned char *k)
{
	static char forms[10][2 * KEY_LEN + 8];
	int n = 0;

	b64(k, KEY_LEN, forms[n++], true);
	b64(k, KEY_LEN, forms[n++], false);
	ck_assert_str_ne(forms[0], forms[1]); /* 46 bytes: base64 ends with "==" */
	b64(k, KEY_LEN, forms[n], true);
	forms[n++][16] = '\0'; /* a truncated copy */
	b64(k, 32, forms[n++], true);
	hex(k, KEY_LEN, forms[n++], false);
	hex(k, KEY_LEN, forms[n++], true);
	hex(k, 32, forms[n++], false);
	hex(k, 32, forms[n++], true);
	hex(k, 12, forms[n++], false);
	hex(k, 12, forms[n++], true);
	for (int i = 0; i < n; i++)
		if (strstr(hay, forms[i]) != NULL)
			return forms[i];
	return NULL;
}

static void
assert_absent(const char *hay, const unsigned char *k, const char *who, const char *where)
{
	const char *found = key_in(hay, k);

	ck_assert_msg(found == NULL, "%s key (as %s) found in the %s", who, found, where);
}

/* The key of the first a=crypto inline: in `sdp`, base64-decoded into k. */
static void
crypto_key_of(const char *msg, unsigned char k[KEY_LEN])
{
	const char *p = strstr(msg, "inline:");
	unsigned char buf[96];
	char b[96];
	size_t n;
	int len;

	ck_assert_msg(p != NULL, "no a=crypto key in: %s", msg);
	p += 7;
	n = strcspn(p, "|\r\n");
	ck_assert_uint_lt(n, sizeof(b) - 4);
	memcpy(b, p, n);
	while (n % 4 != 0) /* sipwarden may leave out the padding */
		b[n++] = '=';
	b[n] = '\0';
	len = EVP_DecodeBlock(buf, (const unsigned char *)b, (int)n);
	ck_assert_int_ge(len, KEY_LEN);
	memcpy(k, buf, KEY_LEN);
}

static char *
read_fd_all(int fd)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

START_TEST(call_keys_appear_in_neither_telemetry_nor_the_debug_log)
{
	static char msg[MSG_CAP], req[MSG_CAP], tel[TEL_CAP];
	struct itest t;
	struct itest_opts o = {.log_file = true};
	const char *agent_args[] = {"--mode", "echo", "--timeout", "30", NULL};
	unsigned char trunk_key[KEY_LEN], sw_key[KEY_LEN], bad_keys[2][KEY_LEN];
	char key64[80], sdp[1024], callid[64], totag[128], contact[256], path[256];
	struct itest_conn *c;
	int tfd, logfd;
	pid_t ap;

	ck_assert_int_eq(RAND_bytes(trunk_key, sizeof(trunk_key)), 1);
	b64(trunk_key, KEY_LEN, key64, true);
	itest_start(&t, &o);
	logfd = open(itest_path(&t, "daemon.log", path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(logfd, 0);
	tfd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	c = itest_tls_connect(&t, 0, 0, NULL);
	ck_assert_ptr_nonnull(c);

	/* first an offer sipwarden must refuse, with keys on the lines it refuses: the
	 * refusal's text (log, security.offer_refused detail) must not carry them */
	char bad64[2][80], badsdp[1024];
	ck_assert_int_eq(RAND_bytes(bad_keys[0], KEY_LEN), 1);
	ck_assert_int_eq(RAND_bytes(bad_keys[1], KEY_LEN), 1);
	b64(bad_keys[0], KEY_LEN, bad64[0], true);
	b64(bad_keys[1], KEY_LEN, bad64[1], true);
	snprintf(badsdp, sizeof(badsdp),
	         "v=0\r\n"
	         "o=itest 1 1 IN IP4 127.0.0.1\r\n"
	         "s=-\r\n"
	         "c=IN IP4 127.0.0.1\r\n"
	         "t=0 0\r\n"
	         "m=audio %u RTP/SAVP 0\r\n"
	         "a=rtpmap:0 PCMU/8000\r\n"
	         "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:%s UNENCRYPTED_SRTP\r\n"
	         "a=crypto:2 NO_SUCH_SUITE_256 inline:%s\r\n",
	         itest_port(), bad64[0], bad64[1]);
	snprintf(req, sizeof(req),
	         "INVITE sip:agent@%s:%u SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKleak0\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:1000@127.0.0.1>;tag=leakbad\r\n"
	         "To: <sip:agent@%s>\r\n"
	         "Call-ID: leakbad%u@127.0.0.1\r\n"
	         "CSeq: 1 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Content-Type: application/sdp\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         t.ip, t.port, t.ip, (unsigned)getpid(), strlen(badsdp), badsdp);
	ck_assert_ptr_nonnull(key_in(req, bad_keys[0]));
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 488);
	ck_assert_ptr_null(key_in(msg, bad_keys[0]));
	ck_assert_ptr_null(key_in(msg, bad_keys[1]));

	snprintf(callid, sizeof(callid), "leak%u@127.0.0.1", (unsigned)getpid());
	snprintf(sdp, sizeof(sdp),
	         "v=0\r\n"
	         "o=itest 1 1 IN IP4 127.0.0.1\r\n"
	         "s=-\r\n"
	         "c=IN IP4 127.0.0.1\r\n"
	         "t=0 0\r\n"
	         "m=audio %u RTP/SAVP 0\r\n"
	         "a=rtpmap:0 PCMU/8000\r\n"
	         "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:%s\r\n"
	         "a=sendrecv\r\n",
	         itest_port(), key64);
	snprintf(req, sizeof(req),
	         "INVITE sip:agent@%s:%u SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKleak1\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:1000@127.0.0.1>;tag=leakfrom\r\n"
	         "To: <sip:agent@%s>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 1 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Content-Type: application/sdp\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         t.ip, t.port, t.ip, callid, strlen(sdp), sdp);
	/* the search recognises a key where it is: in the offer we send, in the answer */
	ck_assert_ptr_nonnull(key_in(req, trunk_key));
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "INVITE"), 200);
	crypto_key_of(msg, sw_key);
	ck_assert_ptr_nonnull(key_in(msg, sw_key));
	ck_assert_msg(memcmp(sw_key, trunk_key, KEY_LEN) != 0, "sipwarden echoed our key");
	ck_assert_ptr_nonnull(itest_header(msg, "Contact", contact, sizeof(contact)));
	ck_assert_ptr_nonnull(itest_header(msg, "To", totag, sizeof(totag)));
	contact[strcspn(contact, ">")] = '\0';
	const char *ruri = contact[0] == '<' ? contact + 1 : contact;

	/* ACK the 200, let the call live a moment, then BYE it */
	snprintf(req, sizeof(req),
	         "ACK %s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKleak2\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:1000@127.0.0.1>;tag=leakfrom\r\n"
	         "To: %s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 1 ACK\r\n"
	         "Content-Length: 0\r\n\r\n",
	         ruri, totag, callid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	usleep(500000);
	snprintf(req, sizeof(req),
	         "BYE %s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKleak3\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:1000@127.0.0.1>;tag=leakfrom\r\n"
	         "To: %s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 2 BYE\r\n"
	         "Content-Length: 0\r\n\r\n",
	         ruri, totag, callid);
	ck_assert_int_eq(itest_send_str(c, req), 0);
	ck_assert_int_eq(itest_final_response(c, msg, MSG_CAP, "BYE"), 200);
	tel[0] = '\0';
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"call.end\"", 5000);
	/* the SIP text of the call (keys in its SDP) was wiped as libosip2 and libevent freed
	 * it (lib/memwipe.c): at least the INVITE, its 200 and the relayed pair */
	ck_assert_int_ge(itest_stat(&t, "memory", "wiped_bytes"), 4 * 1000);
	itest_conn_free(c);
	itest_kill_child(ap); /* it counts our call as failed: we sent no media */
	itest_stop(&t);       /* the whole log, and the stream to its end */
	itest_telemetry_read(tfd, tel, sizeof(tel), "\"daemon.stop\"", 3000);
	close(tfd);
	char *log = read_fd_all(logfd);
	close(logfd);

	/* the call is there to be seen: a search of nothing would prove nothing */
	ck_assert_msg(strstr(tel, "\"call.answer\"") != NULL && strstr(tel, "\"call.end\"") != NULL,
	              "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "AES_256_CM_HMAC_SHA1_80") != NULL, "telemetry: %s", tel);
	ck_assert_msg(strstr(tel, "\"security.offer_refused\"") != NULL, "telemetry: %s", tel);
	ck_assert_msg(strstr(log, "refused with 488") != NULL, "daemon log: %s", log);
	ck_assert_msg(strstr(log, "answered by agent") != NULL && strstr(log, "debug") != NULL,
	              "daemon log: %s", log);
	assert_absent(tel, trunk_key, "the trunk's", "telemetry stream");
	assert_absent(log, trunk_key, "the trunk's", "daemon log");
	assert_absent(tel, sw_key, "sipwarden's trunk-leg", "telemetry stream");
	assert_absent(log, sw_key, "sipwarden's trunk-leg", "daemon log");
	for (int i = 0; i < 2; i++) {
		assert_absent(tel, bad_keys[i], "a refused offer's", "telemetry stream");
		assert_absent(log, bad_keys[i], "a refused offer's", "daemon log");
	}
	free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("no_key_leak");
	TCase *tc = tcase_create("leak");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, call_keys_appear_in_neither_telemetry_nor_the_debug_log);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
