/*
 * test_sip_server: the interface the B2BUA builds on, in-process: hooks see requests
 * and responses with the connection's TLS posture, a hook that takes a request stops
 * the default answer, closed_cb reports the id and a dead id is refused afterwards.
 * The server's event loop runs in a thread; the test thread is a blocking TLS client.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "conf.h"
#include "sip_server.h"
#include "sip_server_int.h"
#include "sip_util.h"
#include "testnet.h"
#include "tls.h"
#include "tmpdir.h"

static char dir[128], conf_path[256], ip[32];
static unsigned port;

/* What the hooks saw (written on the loop thread, read after it stopped or via lock). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen {
	int requests; /* every request a hook saw */
	uint64_t req_conn;
	int req_tls_version;
	bool req_has_cert, req_verified;
	uint8_t req_fp[32];
	int responses;
	int resp_status;
	uint64_t closed_conn;
	bool closed_info_null;
	int closed_send_rc;
	int never_rc;
	/* outbound test */
	int connect_rc;
	uint64_t out_conn;
	uint64_t resp_conn;
	bool out_is_outbound, out_verified;
	int out_tls_version;
	/* idle test: the connection whose idle timeout queues a last message */
	uint64_t idle_conn;
	int req_nodelay, resp_nodelay; /* TCP_NODELAY of the connection a hook saw */
	int idle_queue_rc;
	int req_body_len; /* body bytes of the last OPTIONS a hook took */
} seen;

static SSL_CTX *client_ctx;

static struct sip_server *srv;
static struct event_base *base;

/* TCP_NODELAY on connection `id`'s socket: 1, 0, or -1 (no socket). */
static int
nodelay_of(uint64_t id)
{
	struct sip_conn *c = sip_conn_find(srv, id);
	int on = 0;
	socklen_t len = sizeof(on);

	if (c == NULL ||
	    getsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0)
		return -1;
	return on != 0;
}

static enum sip_hook_verdict
req_cb(void *arg, uint64_t conn, osip_message_t *req)
{
	static const char *const hdrs[] = {"X-Hook: taken", NULL};
	const struct sip_conn_info *ci = sip_server_conn_info(srv, conn);

	(void)arg;
	pthread_mutex_lock(&mu);
	seen.requests++;
	pthread_mutex_unlock(&mu);
	if (strcmp(req->sip_method, "OPTIONS") != 0)
		return SIP_HOOK_DEFAULT; /* INVITE etc.: the server's default answer */
	pthread_mutex_lock(&mu);
	if (req->call_id != NULL && req->call_id->number != NULL &&
	    strcmp(req->call_id->number, "idle-1") == 0)
		seen.idle_conn = conn;
	seen.req_conn = conn;
	seen.req_nodelay = nodelay_of(conn);
	{
		osip_body_t *b = osip_list_get(&req->bodies, 0);
		seen.req_body_len = b != NULL ? (int)b->length : 0;
	}
	if (ci != NULL) {
		seen.req_tls_version = ci->tls.version;
		seen.req_has_cert = ci->tls.has_peer_cert;
		seen.req_verified = ci->tls.peer_verified;
		memcpy(seen.req_fp, ci->tls.peer_fp, 32);
	}
	pthread_mutex_unlock(&mu);
	sip_server_reply(srv, conn, req, 200, "Hooked", hdrs);
	osip_message_free(req);
	return SIP_HOOK_TAKEN;
}

static enum sip_hook_verdict
resp_cb(void *arg, uint64_t conn, osip_message_t *resp)
{
	(void)arg;
	const struct sip_conn_info *ci = sip_server_conn_info(srv, conn);

	pthread_mutex_lock(&mu);
	seen.responses++;
	seen.resp_status = resp->status_code;
	seen.resp_conn = conn;
	seen.resp_nodelay = nodelay_of(conn);
	if (ci != NULL && ci->outbound) {
		seen.out_is_outbound = true;
		seen.out_verified = ci->tls.peer_verified;
		seen.out_tls_version = ci->tls.version;
	}
	pthread_mutex_unlock(&mu);
	osip_message_free(resp);
	return SIP_HOOK_TAKEN;
}

static void
closed_cb(void *arg, uint64_t conn)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	seen.closed_conn = conn;
	seen.closed_info_null = sip_server_conn_info(srv, conn) == NULL;
	seen.closed_send_rc = sip_server_send_raw(srv, conn, "x", 1);
	/* Ids are never reused; one never handed out is refused the same way. */
	seen.never_rc = sip_server_send_raw(srv, UINT64_MAX, "x", 1);
	pthread_mutex_unlock(&mu);
}

/*
 * The idle timeout of the marked connection: like a call that ends in the same loop turn
 * (call_end queues a BYE, so the connection is no longer busy), queue a message and
 * say "not busy". The message must still reach the peer before the connection closes.
 */
static bool
busy_cb(void *arg, uint64_t conn)
{
	static const char last[] = "BYE sip:a@127.0.0.1 SIP/2.0\r\nX-Last: yes\r\n\r\n";

	(void)arg;
	pthread_mutex_lock(&mu);
	if (conn == seen.idle_conn)
		seen.idle_queue_rc = sip_server_send_raw(srv, conn, last, strlen(last));
	pthread_mutex_unlock(&mu);
	return false;
}

static void *
loop_main(void *arg)
{
	(void)arg;
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static SSL *
client(int *fdp, bool with_cert)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {5, 0};
	char path[300], key[300];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ip, &sin.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (with_cert) {
		snprintf(path, sizeof(path), "%s/trunk.crt", dir);
		snprintf(key, sizeof(key), "%s/trunk.key", dir);
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, path), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	}
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its reference */
	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	*fdp = fd;
	return ssl;
}

/* Read until a full message with Content-Length: 0 (our answers carry no body). */
static int
recv_msg(SSL *ssl, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		int r = SSL_read(ssl, buf + n, (int)(cap - 1 - n));
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return (int)n;
	}
	return -1;
}

static const char options_req[] = "OPTIONS sip:sw@127.0.0.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKhook1\r\n"
                                  "Max-Forwards: 70\r\n"
                                  "From: <sip:a@127.0.0.1>;tag=1\r\n"
                                  "To: <sip:sw@127.0.0.1>\r\n"
                                  "Call-ID: hook-1\r\n"
                                  "CSeq: 1 OPTIONS\r\n"
                                  "Content-Length: 0\r\n\r\n";

static const char stray_resp[] = "SIP/2.0 180 Ringing\r\n"
                                 "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKours\r\n"
                                 "From: <sip:sw@127.0.0.1>;tag=9\r\n"
                                 "To: <sip:a@127.0.0.1>;tag=8\r\n"
                                 "Call-ID: ours-1\r\n"
                                 "CSeq: 1 INVITE\r\n"
                                 "Content-Length: 0\r\n\r\n";

START_TEST(hooks_see_tls_posture_take_requests_and_get_closed_ids)
{
	struct seen snap;
	char buf[4096], certpath[300];
	uint8_t want[32];
	unsigned n = 0;
	int fd, i;
	SSL *ssl = client(&fd, true);
	X509 *x;
	FILE *f;

	/* Taken by the hook: its own answer, not the default 200 OK. */
	ck_assert_int_eq(SSL_write(ssl, options_req, (int)strlen(options_req)),
	                 (int)strlen(options_req));
	ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "SIP/2.0 200 Hooked\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "X-Hook: taken\r\n"));

	/* A response goes to response_cb; no answer comes back for it. */
	ck_assert_int_eq(SSL_write(ssl, stray_resp, (int)strlen(stray_resp)),
	                 (int)strlen(stray_resp));
	for (i = 0; i < 200; i++) {
		pthread_mutex_lock(&mu);
		int got = seen.responses;
		pthread_mutex_unlock(&mu);
		if (got > 0)
			break;
		usleep(10000);
	}
	/* Nothing else comes back: no default answer to the taken OPTIONS, none to a response. */
	{
		struct timeval tv = {0, 300000};
		char extra[64];

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ck_assert_int_le(SSL_read(ssl, extra, sizeof(extra)), 0);
		ERR_clear_error();
	}
	pthread_mutex_lock(&mu);
	ck_assert_int_eq(seen.responses, 1);
	ck_assert_int_eq(seen.resp_status, 180);
	ck_assert_int_eq(seen.req_tls_version, TLS1_3_VERSION);
	ck_assert(seen.req_has_cert);
	ck_assert(seen.req_verified);
	memcpy(want, seen.req_fp, 32);
	pthread_mutex_unlock(&mu);
	snprintf(certpath, sizeof(certpath), "%s/trunk.crt", dir);
	ck_assert_ptr_nonnull(f = fopen(certpath, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	{
		uint8_t fp[32];
		ck_assert_int_eq(X509_digest(x, EVP_sha256(), fp, &n), 1);
		ck_assert_mem_eq(fp, want, 32);
	}
	X509_free(x);

	/* Close: closed_cb gets the same id, which is dead from then on. */
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	for (i = 0; i < 200; i++) {
		pthread_mutex_lock(&mu);
		uint64_t c = seen.closed_conn;
		pthread_mutex_unlock(&mu);
		if (c != 0)
			break;
		usleep(10000);
	}
	/* assert on a copy: a failed assertion must not leave the hooks' lock held */
	pthread_mutex_lock(&mu);
	snap = seen;
	pthread_mutex_unlock(&mu);
	ck_assert_uint_ne(snap.req_conn, 0);
	/* SIP over TCP waits for no delayed ACK: Nagle is off on accepted connections */
	ck_assert_int_eq(snap.req_nodelay, 1);
	ck_assert_uint_eq(snap.closed_conn, snap.req_conn);
	ck_assert(snap.closed_info_null);
	ck_assert_int_eq(snap.closed_send_rc, -ENOTCONN);
	ck_assert_int_eq(snap.never_rc, -ENOTCONN);
}
END_TEST

/*
 * A message longer than one TLS record and than one read from TLS (libevent takes at most
 * 16 KiB per read) reaches the hook whole, once.
 */
START_TEST(large_message_spanning_many_reads_arrives_whole)
{
	static const char head[] = "OPTIONS sip:sw@127.0.0.1 SIP/2.0\r\n"
	                           "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKbig1\r\n"
	                           "Max-Forwards: 70\r\n"
	                           "From: <sip:a@127.0.0.1>;tag=b1\r\n"
	                           "To: <sip:sw@127.0.0.1>\r\n"
	                           "Call-ID: big-1\r\n"
	                           "CSeq: 1 OPTIONS\r\n"
	                           "Content-Type: text/plain\r\n"
	                           "Content-Length: 40000\r\n\r\n";
	size_t n = sizeof(head) - 1 + 40000;
	char *msg = malloc(n), buf[4096];
	int fd, requests;
	SSL *ssl = client(&fd, true);

	ck_assert_ptr_nonnull(msg);
	memcpy(msg, head, sizeof(head) - 1);
	memset(msg + sizeof(head) - 1, 'x', 40000);
	pthread_mutex_lock(&mu);
	seen.req_body_len = 0;
	requests = seen.requests;
	pthread_mutex_unlock(&mu);
	ck_assert_int_eq(SSL_write(ssl, msg, (int)n), (int)n);
	ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "SIP/2.0 200 Hooked\r\n"));
	pthread_mutex_lock(&mu);
	int body = seen.req_body_len, got = seen.requests - requests;
	pthread_mutex_unlock(&mu);
	ck_assert_int_eq(body, 40000);
	ck_assert_int_eq(got, 1);
	free(msg);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}
END_TEST

/* On the loop thread: connect to our own listener and send an OPTIONS at once. */
static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char opt[] = "OPTIONS sip:sw@127.0.0.1 SIP/2.0\r\n"
	                          "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKout1\r\n"
	                          "Max-Forwards: 70\r\n"
	                          "From: <sip:sw@127.0.0.1>;tag=o1\r\n"
	                          "To: <sip:a@127.0.0.1>\r\n"
	                          "Call-ID: out-1\r\n"
	                          "CSeq: 1 OPTIONS\r\n"
	                          "Content-Length: 0\r\n\r\n";
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	uint64_t id = 0;
	int rc;

	(void)fd;
	(void)what;
	(void)arg;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	rc = sip_server_connect(srv, (struct sockaddr *)&sin, sizeof(sin), client_ctx, "localhost",
	                        &id);
	if (rc == 0)
		rc = sip_server_send_raw(srv, id, opt, sizeof(opt) - 1); /* before the handshake */
	pthread_mutex_lock(&mu);
	seen.connect_rc = rc;
	seen.out_conn = id;
	seen.responses = 0;
	pthread_mutex_unlock(&mu);
}

START_TEST(outbound_connection_sends_early_and_gets_its_response)
{
	struct seen snap;
	char err[256], cert[300], key[300], ca[300];
	struct conf_tls t;
	int i;

	memset(&t, 0, sizeof(t));
	snprintf(cert, sizeof(cert), "%s/agent.crt", dir);
	snprintf(key, sizeof(key), "%s/agent.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	t.ca_file = ca;
	t.min_version = TLS1_3_VERSION;
	client_ctx = tls_client_ctx_new(&t, cert, key, true, err, sizeof(err));
	ck_assert_msg(client_ctx != NULL, "%s", err);
	pthread_mutex_lock(&mu);
	seen.resp_conn = 0;
	pthread_mutex_unlock(&mu);
	ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, connect_cb, NULL, NULL), 0);
	for (i = 0; i < 300; i++) {
		pthread_mutex_lock(&mu);
		uint64_t got = seen.resp_conn;
		pthread_mutex_unlock(&mu);
		if (got != 0)
			break;
		usleep(10000);
	}
	pthread_mutex_lock(&mu);
	snap = seen;
	pthread_mutex_unlock(&mu);
	ck_assert_int_eq(snap.connect_rc, 0);
	ck_assert_uint_ne(snap.out_conn, 0);
	/* Our own listener's hook answered "200 Hooked" on the inbound side; the response
	 * came back on the outbound connection, identified by its id. */
	ck_assert_uint_eq(snap.resp_conn, snap.out_conn);
	ck_assert_int_eq(snap.resp_status, 200);
	ck_assert(snap.out_is_outbound);
	ck_assert_int_eq(snap.resp_nodelay, 1); /* and on the ones sipwarden opens */
	ck_assert(snap.out_verified);
	ck_assert_int_eq(snap.out_tls_version, TLS1_3_VERSION);
}
END_TEST

START_TEST(hook_default_verdict_leaves_default_answer)
{
	static const char invite[] = "INVITE sip:sw@127.0.0.1 SIP/2.0\r\n"
	                             "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKinv1\r\n"
	                             "Max-Forwards: 70\r\n"
	                             "From: <sip:a@127.0.0.1>;tag=1\r\n"
	                             "To: <sip:sw@127.0.0.1>\r\n"
	                             "Call-ID: inv-1\r\n"
	                             "CSeq: 1 INVITE\r\n"
	                             "Content-Length: 0\r\n\r\n";
	char buf[4096];
	int fd;
	SSL *ssl = client(&fd, false);

	ck_assert_int_eq(SSL_write(ssl, invite, (int)strlen(invite)), (int)strlen(invite));
	ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "SIP/2.0 503 "));
	ck_assert_ptr_nonnull(strstr(buf, "Retry-After: "));
	SSL_free(ssl);
	close(fd);
}
END_TEST

START_TEST(message_queued_at_idle_timeout_is_flushed_before_close)
{
	static const char opt[] = "OPTIONS sip:sw@127.0.0.1 SIP/2.0\r\n"
	                          "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKidle1\r\n"
	                          "Max-Forwards: 70\r\n"
	                          "From: <sip:a@127.0.0.1>;tag=1\r\n"
	                          "To: <sip:sw@127.0.0.1>\r\n"
	                          "Call-ID: idle-1\r\n"
	                          "CSeq: 1 OPTIONS\r\n"
	                          "Content-Length: 0\r\n\r\n";
	struct timeval tv = {10, 0};
	char buf[4096];
	int fd;
	SSL *ssl = client(&fd, false);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(SSL_write(ssl, opt, (int)strlen(opt)), (int)strlen(opt));
	ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "SIP/2.0 200 "));
	/* stay quiet: the idle timeout (2 s) queues a BYE and closes; the BYE arrives first */
	ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "X-Last: yes\r\n"));
	pthread_mutex_lock(&mu);
	ck_assert_int_eq(seen.idle_queue_rc, 0);
	pthread_mutex_unlock(&mu);
	SSL_free(ssl);
	close(fd);
}
END_TEST

static int
seen_responses(void)
{
	pthread_mutex_lock(&mu);
	int n = seen.responses;
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * The gate: a response that lacks what a handler dereferences (CSeq, its method, Via
 * and its branch, Call-ID, From, To) never reaches response_cb and is counted; a request
 * that breaks a rule gets 400 without a hook seeing it (issue 8, item 1 and "validate
 * before acting").
 */
START_TEST(malformed_messages_never_reach_a_hook)
{
#define HDRS_OK "From: <sip:sw@127.0.0.1>;tag=9\r\nTo: <sip:a@127.0.0.1>;tag=8\r\nCall-ID: g-1\r\n"
#define VIA_OK  "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKgate1\r\n"
	static const char *const bad_resp[] = {
	        "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK HDRS_OK "Content-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK HDRS_OK "CSeq: 1 OPT IONS\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK HDRS_OK
	        "CSeq: 1 OPTIONS;x\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" HDRS_OK "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5061\r\n" HDRS_OK
	        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK "From: <sip:sw@127.0.0.1>;tag=9\r\nCall-ID: g-1\r\n"
	        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK "From: <sip:sw@127.0.0.1>;tag=9\r\n"
	        "To: <sip:a@127.0.0.1>;tag=8\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	        "SIP/2.0 200 OK\r\n" VIA_OK HDRS_OK "CSeq: 99999999999 OPTIONS\r\n"
	        "Content-Length: 0\r\n\r\n",
	};
#undef HDRS_OK
#undef VIA_OK
	static const char *const bad_req[][2] = {
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nMax-Forwards: 69\r\n"},
	        {"CSeq: 1 OPTIONS", "CSeq: 1 INVITE"},
	        {"Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRequire: 100rel, \"x\"\r\n"},
	        {"branch=z9hG4bKhook1", "received=1.2.3.4"},
	};
	struct sip_server_stats st0, st1;
	char buf[4096], req[2048];
	int fd, i, before;
	SSL *ssl = client(&fd, false);

	sip_server_get_stats(srv, &st0);
	before = seen_responses();
	for (size_t k = 0; k < sizeof(bad_resp) / sizeof(bad_resp[0]); k++)
		ck_assert_int_eq(SSL_write(ssl, bad_resp[k], (int)strlen(bad_resp[k])),
		                 (int)strlen(bad_resp[k]));
	/* A good one after them on the same connection: once it is seen, all were read. */
	ck_assert_int_eq(SSL_write(ssl, stray_resp, (int)strlen(stray_resp)),
	                 (int)strlen(stray_resp));
	for (i = 0; i < 300 && seen_responses() == before; i++)
		usleep(10000);
	ck_assert_int_eq(seen_responses(), before + 1);
	pthread_mutex_lock(&mu);
	ck_assert_int_eq(seen.resp_status, 180);
	pthread_mutex_unlock(&mu);

	pthread_mutex_lock(&mu);
	before = seen.requests;
	pthread_mutex_unlock(&mu);
	for (size_t k = 0; k < sizeof(bad_req) / sizeof(bad_req[0]); k++) {
		const char *at = strstr(options_req, bad_req[k][0]);

		ck_assert_ptr_nonnull(at);
		snprintf(req, sizeof(req), "%.*s%s%s", (int)(at - options_req), options_req,
		         bad_req[k][1], at + strlen(bad_req[k][0]));
		ck_assert_int_eq(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
		ck_assert_int_gt(recv_msg(ssl, buf, sizeof(buf)), 0);
		ck_assert_msg(strncmp(buf, "SIP/2.0 400 ", 12) == 0, "case %zu: %.40s", k, buf);
	}
	pthread_mutex_lock(&mu);
	ck_assert_int_eq(seen.requests, before);
	pthread_mutex_unlock(&mu);
	sip_server_get_stats(srv, &st1);
	ck_assert_uint_eq(st1.parse_errors - st0.parse_errors,
	                  sizeof(bad_resp) / sizeof(bad_resp[0]) +
	                          sizeof(bad_req) / sizeof(bad_req[0]));
	SSL_free(ssl);
	close(fd);
}
END_TEST

static int
setup_all(void)
{
	const char *src = getenv("SW_SRCDIR");
	struct sip_server_hooks hooks = {.request_cb = req_cb,
	                                 .response_cb = resp_cb,
	                                 .closed_cb = closed_cb,
	                                 .busy_cb = busy_cb,
	                                 .arg = NULL};
	char cmd[512], err[CONF_ERR_MAX];
	unsigned char r[4];
	struct conf *c;
	SSL_CTX *ctx;
	FILE *f;

	if (src == NULL || tmpdir_mkdtemp(dir, sizeof(dir), "sw-test-sipsrv") == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s/tools/mkcerts' '%s'", src, dir);
	if (system(cmd) != 0)
		return -1;
	RAND_bytes(r, sizeof(r));
	testnet_loopback(ip, sizeof(ip));
	port = 20000 + (r[3] * 157u) % 40000;
	snprintf(conf_path, sizeof(conf_path), "%s/sw.conf", dir);
	if ((f = fopen(conf_path, "w")) == NULL)
		return -1;
	fprintf(f,
	        "[tls]\nlisten = %s:%u\nidle_timeout = 2s\ncertificate = "
	        "%s/server.crt\nprivate_key = %s/server.key\n"
	        "ca_file = %s/ca.crt\n[media]\naddress = %s\nport_min = 30000\nport_max = 30099\n"
	        "[trunk t]\nsource = 127.0.0.0/8\n"
	        "[agent a]\naddress = 127.0.0.1:5099\nserver_name = agent.test\n",
	        ip, port, dir, dir, dir, ip);
	fclose(f);
	if ((c = conf_load(conf_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if ((ctx = tls_server_ctx_new(&c->tls, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	sip_util_init();
	evthread_use_pthreads();
	base = event_base_new();
	if (sip_server_new(&srv, base, c, ctx, &hooks) != 0)
		return -1;
	SSL_CTX_free(ctx); /* the server holds its own references */
	conf_unref(c);
	return 0;
}

int
main(void)
{
	Suite *s = suite_create("sip_server");
	TCase *tc = tcase_create("sip_server");
	SRunner *sr;
	pthread_t th;
	char cmd[256];
	int failed;

	if (setup_all() != 0)
		return EXIT_FAILURE;
	pthread_create(&th, NULL, loop_main, NULL);
	tcase_add_test(tc, hooks_see_tls_posture_take_requests_and_get_closed_ids);
	tcase_add_test(tc, hook_default_verdict_leaves_default_answer);
	tcase_add_test(tc, malformed_messages_never_reach_a_hook);
	tcase_add_test(tc, outbound_connection_sends_early_and_gets_its_response);
	tcase_add_test(tc, message_queued_at_idle_timeout_is_flushed_before_close);
	tcase_add_test(tc, large_message_spanning_many_reads_arrives_whole);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK); /* the server thread lives in this process */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	event_base_loopbreak(base);
	pthread_join(th, NULL);
	sip_server_free(srv);
	SSL_CTX_free(client_ctx);
	/* As daemon_free(): a connection's deferred callback still queued when the loop
	 * stopped holds a reference to its bufferevent (and so its SSL and our SSL_CTX) that
	 * only running it releases; event_base_free() would drop it unrun. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	libevent_global_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
