/*
 * test_tls: TLS contexts from struct conf_tls: version floor, key/cert matching,
 * cipher lists, what tls_info_get() reports after an in-memory handshake, and that the
 * SIP text (with its SDES keys) read from TLS leaves no copy in OpenSSL's buffers.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "tls.h"
#include "tmpdir.h"

static char dir[256];
static char p_srv_crt[300], p_srv_key[300], p_ca[300], p_trunk_crt[300], p_trunk_key[300];

static int
make_certs(void)
{
	const char *src = getenv("SW_SRCDIR");
	char cmd[1024];

	if (src == NULL || tmpdir_mkdtemp(dir, sizeof(dir), "sw-test-tls") == NULL) {
		fprintf(stderr, "SW_SRCDIR unset or mkdtemp failed\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/tools/mkcerts' '%s'", src, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		return -1;
	}
	snprintf(p_srv_crt, sizeof(p_srv_crt), "%s/server.crt", dir);
	snprintf(p_srv_key, sizeof(p_srv_key), "%s/server.key", dir);
	snprintf(p_ca, sizeof(p_ca), "%s/ca.crt", dir);
	snprintf(p_trunk_crt, sizeof(p_trunk_crt), "%s/trunk.crt", dir);
	snprintf(p_trunk_key, sizeof(p_trunk_key), "%s/trunk.key", dir);
	return 0;
}

static void
remove_certs(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct conf_tls
base_conf(void)
{
	struct conf_tls t;

	memset(&t, 0, sizeof(t));
	t.certificate = p_srv_crt;
	t.private_key = p_srv_key;
	t.min_version = TLS1_3_VERSION;
	return t;
}

START_TEST(server_ctx_defaults_to_tls13_floor)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *ctx = tls_server_ctx_new(&t, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(min_version_below_12_is_clamped_to_12)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *ctx;

	t.min_version = TLS1_1_VERSION;
	ctx = tls_server_ctx_new(&t, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);
	ctx = tls_client_ctx_new(&t, NULL, NULL, false, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(key_not_matching_certificate_is_refused)
{
	struct conf_tls t = base_conf();
	char err[256] = "";

	t.private_key = p_trunk_key;
	ck_assert_ptr_null(tls_server_ctx_new(&t, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "does not match"));
}
END_TEST

START_TEST(missing_certificate_file_is_refused)
{
	struct conf_tls t = base_conf();
	char err[256] = "";

	t.certificate = "/nonexistent/server.crt";
	ck_assert_ptr_null(tls_server_ctx_new(&t, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/server.crt"));
}
END_TEST

START_TEST(unusable_cipher_list_is_refused)
{
	struct conf_tls t = base_conf();
	char err[256] = "";

	t.ciphers = "NO-SUCH-CIPHER";
	ck_assert_ptr_null(tls_server_ctx_new(&t, err, sizeof(err)));
	t.ciphers = NULL;
	t.ciphersuites = "TLS_NO_SUCH_SUITE";
	ck_assert_ptr_null(tls_server_ctx_new(&t, err, sizeof(err)));
}
END_TEST

/* Drive a handshake between two SSLs over a BIO pair. Returns true when both finish. */
static bool
handshake(SSL *cli, SSL *srv)
{
	BIO *b1, *b2;

	ck_assert_int_eq(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(cli, b1, b1);
	SSL_set_bio(srv, b2, b2);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	for (int i = 0; i < 50; i++) {
		int rc = SSL_do_handshake(cli), rs = SSL_do_handshake(srv);
		if (rc == 1 && rs == 1)
			return true;
		if ((rc != 1 && SSL_get_error(cli, rc) != SSL_ERROR_WANT_READ) ||
		    (rs != 1 && SSL_get_error(srv, rs) != SSL_ERROR_WANT_READ))
			return false;
	}
	return false;
}

START_TEST(handshake_reports_version_cipher_and_client_fingerprint)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	struct tls_info info;
	uint8_t want[32];
	unsigned n = 0;
	X509 *x;
	FILE *f;

	t.ca_file = p_ca;
	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	ck_assert_msg(sctx != NULL, "%s", err);
	cctx = tls_client_ctx_new(&t, p_trunk_crt, p_trunk_key, true, err, sizeof(err));
	ck_assert_msg(cctx != NULL, "%s", err);
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, "localhost");
	ck_assert_ptr_nonnull(cli);
	ck_assert_int_eq(tls_info_get(srv, &info), -ENOTCONN);
	ck_assert(handshake(cli, srv));
	ck_assert_int_eq(tls_info_get(srv, &info), 0);
	ck_assert_int_eq(info.version, TLS1_3_VERSION);
	ck_assert_str_eq(info.version_name, "TLSv1.3");
	ck_assert_str_ne(info.cipher, "");
	ck_assert(info.has_peer_cert);
	ck_assert(info.peer_verified);
	f = fopen(p_trunk_crt, "r");
	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_int_eq(X509_digest(x, EVP_sha256(), want, &n), 1);
	ck_assert_mem_eq(info.peer_fp, want, 32);
	X509_free(x);
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(client_verifying_wrong_name_fails_handshake)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;

	t.ca_file = p_ca;
	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	cctx = tls_client_ctx_new(&t, NULL, NULL, true, err, sizeof(err));
	ck_assert_ptr_nonnull(sctx);
	ck_assert_ptr_nonnull(cctx);
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, "agent.test"); /* server cert is for localhost */
	ck_assert(!handshake(cli, srv));
	ERR_clear_error();
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(client_without_certificate_reports_none)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	struct tls_info info;

	t.ca_file = p_ca;
	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	cctx = tls_client_ctx_new(&t, NULL, NULL, false, err, sizeof(err));
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, NULL);
	ck_assert(handshake(cli, srv));
	ck_assert_int_eq(tls_info_get(srv, &info), 0);
	ck_assert(!info.has_peer_cert);
	ck_assert(!info.peer_verified);
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

/* Does a verifying client that wants `name` accept the server's certificate (localhost,
 * 127.0.0.1, ::1)? */
static bool
client_accepts_name(const char *name)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	bool ok;

	t.ca_file = p_ca;
	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	cctx = tls_client_ctx_new(&t, NULL, NULL, true, err, sizeof(err));
	ck_assert_ptr_nonnull(sctx);
	ck_assert_ptr_nonnull(cctx);
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, name);
	ck_assert_ptr_nonnull(cli);
	ok = handshake(cli, srv);
	ERR_clear_error();
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	return ok;
}

START_TEST(peer_name_is_server_name_or_else_the_address_ip)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(5061)};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(5061)};
	struct sockaddr un = {.sa_family = AF_UNIX};
	char buf[64];

	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	ck_assert_str_eq(tls_peer_name("agent.test", (struct sockaddr *)&v4, buf, sizeof(buf)),
	                 "agent.test");
	ck_assert_str_eq(tls_peer_name(NULL, (struct sockaddr *)&v4, buf, sizeof(buf)),
	                 "127.0.0.1");
	ck_assert_str_eq(tls_peer_name(NULL, (struct sockaddr *)&v6, buf, sizeof(buf)), "::1");
	ck_assert_ptr_null(tls_peer_name(NULL, &un, buf, sizeof(buf)));
	ck_assert_ptr_null(tls_peer_name(NULL, (struct sockaddr *)&v6, buf, 3));
}
END_TEST

START_TEST(client_verifies_an_ip_literal_against_the_certificate_ips)
{
	ck_assert(client_accepts_name("127.0.0.1"));
	ck_assert(client_accepts_name("::1"));
	ck_assert(client_accepts_name("localhost"));
	/* signed by the CA, but not for this address or name */
	ck_assert(!client_accepts_name("127.0.0.2"));
	ck_assert(!client_accepts_name("::2"));
	ck_assert(!client_accepts_name("stranger.test"));
}
END_TEST

/* A bare OpenSSL context capped at TLS 1.2 with exactly `cipher`, no verification. */
static SSL_CTX *
tls12_ctx(bool server, const char *cipher)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION), 1);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx, cipher), 1);
	if (server) {
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, p_srv_crt), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, p_srv_key, SSL_FILETYPE_PEM), 1);
	}
	return ctx;
}

/* Does our server (min_version 1.2, `ciphers` as given) complete a handshake with a
 * TLS 1.2 client that offers only `cipher`? */
static bool
server_accepts(const char *ciphers, const char *cipher)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	bool ok;

	t.min_version = TLS1_2_VERSION;
	t.ciphers = (char *)ciphers;
	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	ck_assert_msg(sctx != NULL, "%s", err);
	cctx = tls12_ctx(false, cipher);
	srv = SSL_new(sctx);
	cli = SSL_new(cctx);
	ok = handshake(cli, srv);
	if (ok)
		ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(srv)), cipher);
	ERR_clear_error();
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	return ok;
}

/* The same for our client context (toward agents and trunks) and a TLS 1.2 server. */
static bool
client_accepts(const char *ciphers, const char *cipher)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	bool ok;

	t.min_version = TLS1_2_VERSION;
	t.ciphers = (char *)ciphers;
	cctx = tls_client_ctx_new(&t, NULL, NULL, false, err, sizeof(err));
	ck_assert_msg(cctx != NULL, "%s", err);
	sctx = tls12_ctx(true, cipher);
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, NULL);
	ok = handshake(cli, srv);
	ERR_clear_error();
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	return ok;
}

/* The test certificates are ECDSA (P-256): the ECDHE-ECDSA suites apply. */
START_TEST(tls12_default_refuses_cbc_suites)
{
	ck_assert(!server_accepts(NULL, "ECDHE-ECDSA-AES128-SHA"));
	ck_assert(!server_accepts(NULL, "ECDHE-ECDSA-AES256-SHA"));
	ck_assert(!server_accepts(NULL, "ECDHE-ECDSA-AES128-SHA256"));
	ck_assert(!client_accepts(NULL, "ECDHE-ECDSA-AES128-SHA"));
	ck_assert(!client_accepts(NULL, "ECDHE-ECDSA-AES256-SHA384"));
}
END_TEST

START_TEST(tls12_default_accepts_ecdhe_aead_suites)
{
	ck_assert(server_accepts(NULL, "ECDHE-ECDSA-AES128-GCM-SHA256"));
	ck_assert(server_accepts(NULL, "ECDHE-ECDSA-AES256-GCM-SHA384"));
	ck_assert(server_accepts(NULL, "ECDHE-ECDSA-CHACHA20-POLY1305"));
	ck_assert(client_accepts(NULL, "ECDHE-ECDSA-AES128-GCM-SHA256"));
	ck_assert(client_accepts(NULL, "ECDHE-ECDSA-CHACHA20-POLY1305"));
}
END_TEST

START_TEST(tls12_ciphers_setting_overrides_the_default)
{
	/* an operator who needs CBC for an old peer says so in [tls] ciphers */
	ck_assert(server_accepts("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA"));
	ck_assert(client_accepts("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA"));
	ck_assert(
	        !server_accepts("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"));
}
END_TEST

#ifndef __SANITIZE_ADDRESS__
#define SECRET_LEN  40
#define SECRET_MASK 0x5a

/*
 * Whether this process's writable memory (heap and anonymous mappings; not the stack,
 * where the search runs) holds the secret, given masked: each byte XOR SECRET_MASK, so
 * that the search itself keeps no copy. Read through /proc/self/mem, so that freed blocks
 * (which sanitizers poison) can be read too.
 */
static bool
memory_holds(const uint8_t masked[SECRET_LEN])
{
	static uint8_t chunk[1 << 16];
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY);
	char line[512];
	bool found = false;

	ck_assert_ptr_nonnull(maps);
	ck_assert_int_ge(mem, 0);
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;
		char perms[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3 ||
		    perms[0] != 'r' || perms[1] != 'w' ||
		    (path[0] != '\0' && strcmp(path, "[heap]") != 0))
			continue;
		for (unsigned long at = lo; !found && at < hi; at += sizeof(chunk) - SECRET_LEN) {
			size_t want = hi - at < sizeof(chunk) ? hi - at : sizeof(chunk);
			ssize_t n = pread(mem, chunk, want, (off_t)at);

			for (ssize_t i = 0; n >= SECRET_LEN && i <= n - SECRET_LEN && !found; i++) {
				size_t k = 0;

				if (chunk[i] != (masked[0] ^ SECRET_MASK))
					continue;
				while (k < SECRET_LEN && chunk[i + k] == (masked[k] ^ SECRET_MASK))
					k++;
				found = k == SECRET_LEN;
			}
			if (n <= 0 || (size_t)n < want)
				break;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(mem);
	fclose(maps);
	return found;
}

/*
 * An SDES key crosses TLS as SIP text; once sipwarden has read it, OpenSSL's own record
 * buffer must not keep it (SSL_OP_CLEANSE_PLAINTEXT): before, the decrypted record stayed
 * in the freed read buffer. The reader's own buffer is the caller's to wipe (done here).
 */
START_TEST(plaintext_read_leaves_no_copy_in_openssl_buffers)
{
	struct conf_tls t = base_conf();
	char err[256] = "";
	uint8_t masked[SECRET_LEN], buf[SECRET_LEN + 8], line[SECRET_LEN];
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;

	sctx = tls_server_ctx_new(&t, err, sizeof(err));
	ck_assert_msg(sctx != NULL, "%s", err);
	ck_assert(SSL_CTX_get_options(sctx) & SSL_OP_CLEANSE_PLAINTEXT);
	cctx = tls_client_ctx_new(&t, NULL, NULL, false, err, sizeof(err));
	ck_assert_msg(cctx != NULL, "%s", err);
	ck_assert(SSL_CTX_get_options(cctx) & SSL_OP_CLEANSE_PLAINTEXT);
	srv = SSL_new(sctx);
	cli = tls_client_ssl_new(cctx, "localhost");
	ck_assert(handshake(cli, srv));
	/* a connection keeps its read buffer while more is pending (records of a message
	 * that spans several, or several messages at once under load): keep it here too, so
	 * that the test sees a buffer that lives, not one freed and reused by chance */
	SSL_clear_mode(srv, SSL_MODE_RELEASE_BUFFERS);

	/* a random line: it can be in memory only as what crossed TLS */
	ck_assert_int_eq(RAND_bytes(line, sizeof(line)), 1);
	for (size_t i = 0; i < sizeof(line); i++) {
		line[i] = (uint8_t)('A' + line[i] % 26);
		masked[i] = line[i] ^ SECRET_MASK;
	}
	/* the search sees a copy on the heap (it would not pass by being blind) */
	{
		char *copy = malloc(SECRET_LEN);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, line, SECRET_LEN);
		ck_assert(memory_holds(masked));
		OPENSSL_cleanse(copy, SECRET_LEN);
		free(copy);
	}
	ck_assert_int_eq(SSL_write(cli, line, sizeof(line)), (int)sizeof(line));
	OPENSSL_cleanse(line, sizeof(line));
	ck_assert_int_eq(SSL_read(srv, buf, sizeof(buf)), SECRET_LEN);
	for (size_t i = 0; i < SECRET_LEN; i++)
		ck_assert_uint_eq(buf[i], masked[i] ^ SECRET_MASK);
	OPENSSL_cleanse(buf, sizeof(buf));
	ck_assert_msg(!memory_holds(masked), "the plaintext read is still in memory");
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST
#endif

int
main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	SRunner *sr;
	int failed;

	if (make_certs() != 0)
		return EXIT_FAILURE;
	tcase_add_test(tc, server_ctx_defaults_to_tls13_floor);
	tcase_add_test(tc, min_version_below_12_is_clamped_to_12);
	tcase_add_test(tc, key_not_matching_certificate_is_refused);
	tcase_add_test(tc, missing_certificate_file_is_refused);
	tcase_add_test(tc, unusable_cipher_list_is_refused);
	tcase_add_test(tc, handshake_reports_version_cipher_and_client_fingerprint);
	tcase_add_test(tc, client_verifying_wrong_name_fails_handshake);
	tcase_add_test(tc, client_without_certificate_reports_none);
	tcase_add_test(tc, peer_name_is_server_name_or_else_the_address_ip);
	tcase_add_test(tc, client_verifies_an_ip_literal_against_the_certificate_ips);
	tcase_add_test(tc, tls12_default_refuses_cbc_suites);
	tcase_add_test(tc, tls12_default_accepts_ecdhe_aead_suites);
	tcase_add_test(tc, tls12_ciphers_setting_overrides_the_default);
#ifndef __SANITIZE_ADDRESS__
	/* AddressSanitizer reserves terabytes of sparse memory for its heap and shadow: the
	 * search runs in the plain build */
	tcase_add_test(tc, plaintext_read_leaves_no_copy_in_openssl_buffers);
#endif
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_certs();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
