/*
 * test_conf.c: the config reader (lib/conf.c, lib/conf_value.c).
 *
 * tests/conf/good-*.conf must load; tests/conf/bad-*.conf must fail with the message
 * given on their first line ("# expect: file:line: message"). Fixtures reference dummy
 * PEM files under tests/conf/files/ (git keeps no modes, so the key files are chmod'ed
 * here first). Also: every value of good-full.conf, the defaults, the shipped
 * conf/sipwarden.conf and conf/sipwarden.conf.example (paths redirected to dummies),
 * the SHA-256, and the address helpers.
 * One Check suite in three files: this one has the fixture (test_conf.h), loading and
 * the suite; test_conf_files.c the shipped configs and key file modes; test_conf_value.c
 * the value parsers and address helpers.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "conf_value.h"
#include "test_conf.h"

static char confdir[1024];

void
fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", confdir, name);
}

void
setup(void)
{
	const char *td = getenv("SW_TESTDATA");
	char p[1200];

	ck_assert_msg(td != NULL, "SW_TESTDATA not set");
	snprintf(confdir, sizeof(confdir), "%s/conf", td);
	fixture_path(p, sizeof(p), "files/key.pem");
	ck_assert_int_eq(chmod(p, 0600), 0);
	fixture_path(p, sizeof(p), "files/key-open.pem");
	ck_assert_int_eq(chmod(p, 0644), 0);
}

struct conf *
load_fixture(const char *name, char *err, size_t errlen)
{
	char p[1200];

	fixture_path(p, sizeof(p), name);
	return conf_load(p, err, errlen);
}

/* Names in tests/conf starting with `prefix` and ending in ".conf"; count returned. */
static size_t
list_fixtures(const char *prefix, char names[][256], size_t max)
{
	DIR *d = opendir(confdir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || l < 5 ||
		    strcmp(e->d_name + l - 5, ".conf") != 0)
			continue;
		ck_assert_uint_lt(n, max);
		snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

START_TEST(conf_good_fixtures_load)
{
	static char names[64][256];
	size_t n = list_fixtures("good-", names, 64);

	ck_assert_uint_ge(n, 4);
	for (size_t i = 0; i < n; i++) {
		char err[CONF_ERR_MAX] = "";
		struct conf *c = load_fixture(names[i], err, sizeof(err));
		char *out = NULL;
		size_t outlen = 0;
		FILE *fp;

		ck_assert_msg(c != NULL, "%s: %s", names[i], err);
		fp = open_memstream(&out, &outlen);
		conf_print(c, fp);
		fclose(fp);
		ck_assert_msg(strstr(out, "trunk ") != NULL, "%s: no trunk in summary", names[i]);
		ck_assert_msg(strstr(out, "transfer by agents: ") != NULL, "%s: %s", names[i], out);
		if (c->ntransfers > 0) /* good-full.conf */
			ck_assert_msg(strstr(out,
			                     "transfer sales: an agent's Refer-To "
			                     "sip:sales@agents.invalid goes to sips:7001@") != NULL,
			              "%s: %s", names[i], out);
		free(out);
		conf_unref(c);
	}
}
END_TEST

/* True if the pieces of `expect` separated by "..." occur in `s` in that order. */
static bool
matches(const char *s, const char *expect)
{
	char buf[600], *piece, *save = NULL;
	const char *at = s;

	snprintf(buf, sizeof(buf), "%s", expect);
	for (piece = buf;; piece = NULL) {
		char *end = strstr(piece ? piece : save, "...");
		char *cur = piece ? piece : save;
		if (end != NULL) {
			*end = '\0';
			save = end + 3;
		}
		if ((at = strstr(at, cur)) == NULL)
			return false;
		at += strlen(cur);
		if (end == NULL)
			return true;
	}
}

START_TEST(conf_bad_fixtures_fail_with_expected_message)
{
	static char names[128][256];
	size_t n = list_fixtures("bad-", names, 128);

	ck_assert_uint_ge(n, 40);
	for (size_t i = 0; i < n; i++) {
		char err[CONF_ERR_MAX] = "", p[1200], first[600], *expect;
		struct conf *c;
		FILE *fp;

		fixture_path(p, sizeof(p), names[i]);
		fp = fopen(p, "r");
		ck_assert_ptr_nonnull(fp);
		ck_assert_ptr_nonnull(fgets(first, sizeof(first), fp));
		fclose(fp);
		ck_assert_msg(strncmp(first, "# expect: ", 10) == 0, "%s: no '# expect:' line",
		              names[i]);
		expect = first + 10;
		expect[strcspn(expect, "\n")] = '\0';
		/* The message always begins with the file and a line. */
		ck_assert_msg(strncmp(expect, names[i], strlen(names[i])) == 0 &&
		                      expect[strlen(names[i])] == ':',
		              "%s: expectation must start with its file name", names[i]);

		c = conf_load(p, err, sizeof(err));
		ck_assert_msg(c == NULL, "%s: loaded but must fail", names[i]);
		ck_assert_msg(matches(err, expect), "%s:\n  got    %s\n  expect %s", names[i], err,
		              expect);
		/* Full path first: "<path>:<line>: ". */
		ck_assert_msg(strncmp(err, p, strlen(p)) == 0, "%s: error does not start with path",
		              names[i]);
	}
}
END_TEST

START_TEST(conf_loads_every_key_of_good_full)
{
	char err[CONF_ERR_MAX] = "", a[64], p[1200];
	struct conf *c = load_fixture("good-full.conf", err, sizeof(err));
	const struct conf_trunk *t;
	const struct conf_agent *ag;
	static const uint8_t fpr[32] = {0x3a, 0xf5, 0x8b, 0x54, 0x1c, 0x0e, 0x2e, 0x86,
	                                0xda, 0x72, 0x91, 0x3c, 0x7a, 0x1e, 0x57, 0x0f,
	                                0xce, 0xd9, 0x16, 0x4b, 0x43, 0x63, 0xb4, 0xe6,
	                                0xa6, 0x91, 0x47, 0x5e, 0xd1, 0x0b, 0x6c, 0x3e};

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->log_level, LOG_LVL_DEBUG);
	ck_assert(c->log_syslog);
	ck_assert_uint_eq(c->drain_timeout_s, 120);
	ck_assert_str_eq(conf_sockaddr_str(&c->tls.listen, a, sizeof(a)), "127.0.0.2:5062");
	fixture_path(p, sizeof(p), "files/cert.pem");
	/* Relative paths are resolved against the config's directory. */
	ck_assert_ptr_nonnull(strstr(c->tls.certificate, "/conf/files/cert.pem"));
	ck_assert_int_eq(c->tls.certificate[0], '/');
	ck_assert_ptr_nonnull(strstr(c->tls.private_key, "/conf/files/key.pem"));
	ck_assert_ptr_nonnull(strstr(c->tls.ca_file, "/conf/files/ca.pem"));
	ck_assert_int_eq(c->tls.min_version, TLS1_2_VERSION);
	ck_assert_str_eq(c->tls.ciphers, "ECDHE+AESGCM");
	ck_assert_str_eq(c->tls.ciphersuites, "TLS_AES_128_GCM_SHA256");
	ck_assert_uint_eq(c->tls.handshake_timeout_ms, 1500);
	ck_assert_uint_eq(c->tls.idle_timeout_ms, 120000);
	ck_assert_uint_eq(c->tls.max_connections, 300);
	ck_assert_ptr_nonnull(c->tls.client_certificate);
	ck_assert_ptr_nonnull(c->tls.client_private_key);
	ck_assert_str_eq(c->sip.hostname, "sbc.example.com");
	ck_assert_uint_eq(c->sip.max_message_size, 32768);
	ck_assert_uint_eq(c->sip.max_headers, 40);
	ck_assert_uint_eq(c->sip.max_line_length, 2048);
	ck_assert_uint_eq(c->sip.transaction_timeout_ms, 20000);
	ck_assert_uint_eq(c->sip.agent_timeout_ms, 4000);
	ck_assert_uint_eq(c->sip.session_expires_s, 600);
	ck_assert_uint_eq(c->sip.min_session_expires_s, 120);
	ck_assert_str_eq(conf_sockaddr_str(&c->media.address, a, sizeof(a)), "127.0.0.3:0");
	ck_assert_str_eq(c->media.advertise, "198.51.100.7");
	ck_assert_uint_eq(c->media.port_min, 40000);
	ck_assert_uint_eq(c->media.port_max, 40003);
	ck_assert_uint_eq(c->media.workers, 4);
	ck_assert_int_eq(c->media.io, CONF_MEDIA_IO_EPOLL);
	ck_assert_uint_eq(c->media.nsuites, 2);
	ck_assert_int_eq(c->media.suites[0], SUITE_AEAD_AES_256_GCM);
	ck_assert_int_eq(c->media.suites[1], SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_int_eq(c->media.suites[2], SUITE_NONE);
	ck_assert_uint_eq(c->media.inactivity_timeout_s, 60);
	ck_assert_uint_eq(c->media.max_call_duration_s, 7200);
	ck_assert_uint_eq(c->limits.max_calls, 50);
	ck_assert_uint_eq(c->limits.max_setup_calls, 20);
	ck_assert_uint_eq(c->limits.max_loop_lag_ms, 250);
	ck_assert_uint_eq(c->limits.fd_reserve, 128);
	ck_assert_ptr_nonnull(strstr(c->telemetry.socket, "/conf/run/telemetry.sock"));
	ck_assert_uint_eq(c->telemetry.socket_mode, 0640);
	ck_assert_ptr_null(c->telemetry.socket_group);
	ck_assert_uint_eq(c->telemetry.interim_interval_s, 10);
	ck_assert_uint_eq(c->telemetry.queue_limit, 64);
	ck_assert_str_eq(c->telemetry.control_socket, "/tmp/sipwarden-test-control.sock");
	ck_assert_uint_eq(c->telemetry.control_mode, 0600);
	ck_assert_int_eq(c->pool.policy, AGENT_ROUND_ROBIN);
	ck_assert_uint_eq(c->pool.probe_interval_ms, 0);
	ck_assert_uint_eq(c->pool.probe_failures, 3);

	ck_assert_uint_eq(c->ntrunks, 2);
	t = &c->trunks[0];
	ck_assert_str_eq(t->name, "carrier");
	ck_assert_uint_eq(t->nsources, 3);
	ck_assert_int_eq(t->sources[0].family, AF_INET);
	ck_assert_uint_eq(t->sources[0].prefix, 24);
	ck_assert_uint_eq(t->sources[1].prefix, 32);
	ck_assert_int_eq(t->sources[2].family, AF_INET6);
	ck_assert_uint_eq(t->sources[2].prefix, 32);
	ck_assert_ptr_nonnull(t->ca_file);
	ck_assert(t->fingerprint.set);
	ck_assert_mem_eq(t->fingerprint.sha256, fpr, 32);
	ck_assert_str_eq(conf_sockaddr_str(&t->target, a, sizeof(a)), "192.0.2.5:5061");
	ck_assert(!t->legacy_rtp);
	ck_assert(!t->crypto_pad);
	ck_assert_uint_eq(t->max_calls, 20);
	ck_assert_str_eq(t->pass_headers[0], "X-Customer-Id");
	ck_assert_str_eq(t->pass_headers[1], "x-campaign");
	ck_assert_ptr_null(t->pass_headers[2]);
	ck_assert_int_eq(t->transfer, TRANSFER_BRIDGE);
	ck_assert_uint_eq(c->ntransfers, 2);
	ck_assert_str_eq(c->transfers[0].name, "sales");
	ck_assert_str_eq(c->transfers[0].match, "sip:sales@agents.invalid");
	ck_assert_str_eq(c->transfers[0].target, "sips:7001@pbx.example.com;transport=tls");
	ck_assert_str_eq(c->transfers[1].target, "tel:+1-555-123-0000");
	ck_assert_ptr_null(c->transfers[0].trunk);
	ck_assert_str_eq(c->transfers[1].trunk, "carrier");
	/* a bridge goes through the destination's trunk, else the call's: one with a target */
	ck_assert_int_eq(conf_transfer_bridge_trunk(c, &c->transfers[0], 0), 0);
	ck_assert_int_eq(conf_transfer_bridge_trunk(c, &c->transfers[0], 1), -1);
	ck_assert_int_eq(conf_transfer_bridge_trunk(c, &c->transfers[1], 1), 0);
	ck_assert_ptr_eq(conf_transfer_by_match(c, "tel:+15550001"), &c->transfers[1]);
	/* byte for byte: no case folding, no un-escaping */
	ck_assert_ptr_null(conf_transfer_by_match(c, "sip:SALES@agents.invalid"));
	ck_assert_ptr_null(conf_transfer_by_match(c, "sip:sale%73@agents.invalid"));
	t = &c->trunks[1];
	ck_assert_int_eq(t->transfer, TRANSFER_OFF); /* default: agents cannot transfer */
	ck_assert_str_eq(t->name, "pbx");
	ck_assert(t->legacy_rtp);
	ck_assert(t->crypto_pad); /* default */
	ck_assert_mem_eq(t->fingerprint.sha256, fpr, 32);
	ck_assert_uint_eq(t->target.len, 0);
	ck_assert_ptr_null(t->pass_headers);

	ck_assert_uint_eq(c->nagents, 2);
	ag = &c->agents[0];
	ck_assert_str_eq(ag->name, "a1");
	ck_assert_str_eq(conf_sockaddr_str(&ag->address, a, sizeof(a)), "127.0.0.1:5071");
	ck_assert_str_eq(ag->server_name, "agent.test");
	ck_assert_uint_eq(ag->weight, 7);
	ck_assert(ag->verify);
	ck_assert(!ag->crypto_pad);
	ck_assert_ptr_null(ag->client_certificate);
	ag = &c->agents[1];
	ck_assert_str_eq(conf_sockaddr_str(&ag->address, a, sizeof(a)), "[::1]:5072");
	ck_assert_uint_eq(ag->weight, 100);
	ck_assert(!ag->verify);
	ck_assert(ag->crypto_pad);
	ck_assert_ptr_nonnull(ag->client_certificate);
	ck_assert_ptr_nonnull(ag->client_private_key);
	conf_unref(c);
}
END_TEST

/* [cluster] is off unless the section is there; its values and defaults. */
START_TEST(conf_cluster_is_off_by_default_and_read_with_defaults)
{
	char err[CONF_ERR_MAX] = "", a[64];
	struct conf *c = load_fixture("good-minimal.conf", err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_ptr_null(c->cluster.redis);
	conf_unref(c);
	c = load_fixture("good-cluster.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->cluster.redis, "127.0.0.1:6390");
	ck_assert_str_eq(conf_sockaddr_str(&c->cluster.addr, a, sizeof(a)), "127.0.0.1:6390");
	ck_assert_str_eq(c->cluster.password, "s3cret");
	ck_assert_str_eq(c->cluster.instance, "sbc-a");
	ck_assert_str_eq(c->cluster.prefix, "sw-test");
	ck_assert_uint_eq(c->cluster.heartbeat_ttl_ms, 3000);
	ck_assert_uint_eq(c->cluster.timeout_ms, 100);
	ck_assert(c->cluster.refuse_on_failure);
	conf_unref(c);
	c = load_fixture("bad-cluster-failure.conf", err, sizeof(err));
	ck_assert_ptr_null(c);
}
END_TEST

/* [metrics] is off unless listen is set; a remote address needs allow_remote = yes
 * (bad-metrics-remote*.conf are the negative cases); the port defaults to 9465. */
START_TEST(conf_metrics_listener_is_off_by_default_and_loopback_checked)
{
	char err[CONF_ERR_MAX] = "", a[64];
	struct conf *c = load_fixture("good-minimal.conf", err, sizeof(err));
	struct conf_sockaddr sa;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->metrics.listen.len, 0);
	ck_assert(!c->metrics.allow_remote);
	conf_unref(c);
	c = load_fixture("good-metrics.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(conf_sockaddr_str(&c->metrics.listen, a, sizeof(a)), "0.0.0.0:9100");
	ck_assert(c->metrics.allow_remote);
	conf_unref(c);
	ck_assert_int_eq(conf_sockaddr_parse("127.9.8.7", 9465, &sa), 0);
	ck_assert(conf_sockaddr_is_loopback(&sa));
	ck_assert_int_eq(conf_sockaddr_parse("[::1]:9465", 9465, &sa), 0);
	ck_assert(conf_sockaddr_is_loopback(&sa));
	ck_assert_int_eq(conf_sockaddr_parse("[::ffff:127.0.0.1]:9465", 9465, &sa), 0);
	ck_assert(conf_sockaddr_is_loopback(&sa));
	ck_assert_int_eq(conf_sockaddr_parse("128.0.0.1", 9465, &sa), 0);
	ck_assert(!conf_sockaddr_is_loopback(&sa));
	ck_assert_int_eq(conf_sockaddr_parse("[::ffff:10.0.0.1]:9465", 9465, &sa), 0);
	ck_assert(!conf_sockaddr_is_loopback(&sa));
	ck_assert_int_eq(conf_sockaddr_parse("[::2]:9465", 9465, &sa), 0);
	ck_assert(!conf_sockaddr_is_loopback(&sa));
}
END_TEST

START_TEST(conf_defaults_apply_when_keys_are_absent)
{
	char err[CONF_ERR_MAX] = "", a[64];
	struct conf *c = load_fixture("good-minimal.conf", err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	ck_assert(!c->log_syslog);
	ck_assert_uint_eq(c->drain_timeout_s, 0); /* SIGTERM ends calls at once */
	ck_assert_str_eq(conf_sockaddr_str(&c->tls.listen, a, sizeof(a)), "127.0.0.1:5061");
	ck_assert_int_eq(c->tls.min_version, TLS1_3_VERSION);
	ck_assert_ptr_null(c->tls.ciphers);
	ck_assert_uint_eq(c->tls.handshake_timeout_ms, 5000);
	ck_assert_uint_eq(c->tls.idle_timeout_ms, 300000);
	ck_assert_uint_eq(c->tls.max_connections, 1024);
	ck_assert_ptr_null(c->sip.hostname);
	ck_assert_uint_eq(c->sip.max_message_size, 65536);
	ck_assert_uint_eq(c->sip.max_headers, 64);
	ck_assert_uint_eq(c->sip.max_line_length, 4096);
	ck_assert_uint_eq(c->sip.transaction_timeout_ms, 32000);
	ck_assert_uint_eq(c->sip.agent_timeout_ms, 8000);
	ck_assert_uint_eq(c->sip.session_expires_s, 1800);
	ck_assert_uint_eq(c->sip.min_session_expires_s, 90);
	ck_assert_str_eq(conf_sockaddr_str(&c->media.address, a, sizeof(a)), "127.0.0.1:0");
	ck_assert_uint_eq(c->media.port_min, 30000);
	ck_assert_uint_eq(c->media.port_max, 39999);
	ck_assert_uint_eq(c->media.workers, 0);
	ck_assert_int_eq(c->media.io, CONF_MEDIA_IO_AUTO);
	ck_assert_uint_eq(c->media.nsuites, 6);
	ck_assert_int_eq(c->media.suites[0], SUITE_AES_CM_128_HMAC_SHA1_80);
	ck_assert_int_eq(c->media.suites[1], SUITE_AEAD_AES_128_GCM);
	ck_assert_int_eq(c->media.suites[2], SUITE_AES_256_CM_HMAC_SHA1_80);
	ck_assert_int_eq(c->media.suites[3], SUITE_AEAD_AES_256_GCM);
	ck_assert_int_eq(c->media.suites[4], SUITE_AES_CM_128_HMAC_SHA1_32);
	ck_assert_int_eq(c->media.suites[5], SUITE_AES_256_CM_HMAC_SHA1_32);
	ck_assert_int_eq(c->media.suites[6], SUITE_NONE);
	ck_assert_uint_eq(c->media.inactivity_timeout_s, 30);
	ck_assert_uint_eq(c->media.max_call_duration_s, 14400);
	ck_assert_uint_eq(c->limits.max_calls, 1000);
	ck_assert_uint_eq(c->admission.unknown_max_connections, 32);
	ck_assert_uint_eq(c->admission.reserved_connections, 256); /* a quarter of 1024 */
	ck_assert_uint_eq(c->admission.first_request_timeout_ms, 2000);
	ck_assert_uint_eq(c->admission.unknown_request_rate, 20);
	ck_assert_uint_eq(c->admission.unknown_request_burst, 40);
	ck_assert_uint_eq(c->admission.known_request_rate, 10000);
	ck_assert_uint_eq(c->admission.known_request_burst, 20000);
	ck_assert_uint_eq(c->admission.ban_time_ms, 60000);
	ck_assert_uint_eq(c->admission.scanner_ban_time_ms, 3600000);
	ck_assert_uint_eq(c->admission.max_sources, 8192);
	ck_assert_uint_eq(c->limits.max_setup_calls, 200);
	ck_assert_uint_eq(c->limits.max_loop_lag_ms, 10);
	ck_assert_uint_eq(c->limits.fd_reserve, 64);
	ck_assert_ptr_null(c->telemetry.socket);
	ck_assert_uint_eq(c->telemetry.socket_mode, 0660);
	ck_assert_uint_eq(c->telemetry.queue_limit, 1024);
	ck_assert_ptr_null(c->telemetry.control_socket);
	ck_assert_uint_eq(c->telemetry.control_mode, 0600);
	ck_assert_int_eq(c->pool.policy, AGENT_LEAST_BUSY);
	ck_assert_uint_eq(c->pool.probe_interval_ms, 5000);
	ck_assert_uint_eq(c->pool.probe_failures, 2);
	ck_assert(!c->trunks[0].legacy_rtp);
	ck_assert(c->trunks[0].crypto_pad);
	ck_assert(!c->trunks[0].fingerprint.set);
	ck_assert_int_eq(c->trunks[0].transfer, TRANSFER_OFF);
	ck_assert_uint_eq(c->ntransfers, 0);
	ck_assert_uint_eq(c->agents[0].weight, 1);
	ck_assert(c->agents[0].verify);
	ck_assert(c->agents[0].crypto_pad);
	conf_unref(c);
}
END_TEST

START_TEST(conf_loads_admission_keys)
{
	char err[CONF_ERR_MAX] = "";
	struct conf *c = load_fixture("good-admission.conf", err, sizeof(err));
	const struct conf_admission *a;

	ck_assert_msg(c != NULL, "%s", err);
	a = &c->admission;
	ck_assert_uint_eq(a->unknown_max_connections, 8);
	ck_assert_uint_eq(a->reserved_connections, 200); /* all of max_connections */
	ck_assert_uint_eq(a->first_request_timeout_ms, 500);
	ck_assert_uint_eq(a->unknown_request_rate, 0);
	ck_assert_uint_eq(a->unknown_request_burst, 5);
	ck_assert_uint_eq(a->known_request_rate, 300);
	ck_assert_uint_eq(a->known_request_burst, 600);
	ck_assert_uint_eq(a->ban_time_ms, 300000);
	ck_assert_uint_eq(a->scanner_ban_time_ms, 7200000);
	ck_assert_uint_eq(a->max_sources, 1000);
	conf_unref(c);
}
END_TEST

START_TEST(conf_indented_lines_and_inline_comments)
{
	char err[CONF_ERR_MAX] = "";
	struct conf *c = load_fixture("good-syntax.conf", err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->log_level, LOG_LVL_WARN);
	ck_assert_ptr_nonnull(c->tls.certificate);
	ck_assert_uint_eq(c->sip.max_line_length, 65536);
	ck_assert_uint_eq(c->pool.probe_interval_ms, 500);
	ck_assert_str_eq(c->trunks[0].name, "a-b_c.d");
	ck_assert(c->trunks[0].legacy_rtp);
	ck_assert(c->agents[0].verify);
	ck_assert(!c->agents[0].crypto_pad);
	conf_unref(c);
}
END_TEST

START_TEST(conf_sha256_is_of_the_file_bytes)
{
	char err[CONF_ERR_MAX] = "", p[1200], buf[65536];
	uint8_t md[32];
	struct conf *c = load_fixture("good-full.conf", err, sizeof(err));
	FILE *fp;
	size_t n;

	ck_assert_msg(c != NULL, "%s", err);
	fixture_path(p, sizeof(p), "good-full.conf");
	fp = fopen(p, "rb");
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	EVP_Digest(buf, n, md, NULL, EVP_sha256(), NULL);
	ck_assert_mem_eq(c->sha256, md, 32);
	conf_unref(c);
}
END_TEST

START_TEST(conf_ref_keeps_conf_alive)
{
	char err[CONF_ERR_MAX] = "";
	struct conf *c = load_fixture("good-minimal.conf", err, sizeof(err));

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(conf_ref(c), c);
	ck_assert_uint_eq(c->refs, 2);
	conf_unref(c);
	ck_assert_uint_eq(c->refs, 1);
	ck_assert_ptr_nonnull(c->trunks); /* still valid (ASan would say otherwise) */
	conf_unref(c);
	ck_assert_ptr_null(conf_ref(NULL));
	conf_unref(NULL);
}
END_TEST

START_TEST(conf_missing_file_names_it)
{
	char err[CONF_ERR_MAX] = "";

	ck_assert_ptr_null(conf_load("/nonexistent/sipwarden.conf", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/sipwarden.conf:0: cannot open: No such file or "
	                      "directory");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, conf_good_fixtures_load);
	tcase_add_test(tc, conf_bad_fixtures_fail_with_expected_message);
	tcase_add_test(tc, conf_loads_every_key_of_good_full);
	tcase_add_test(tc, conf_defaults_apply_when_keys_are_absent);
	tcase_add_test(tc, conf_loads_admission_keys);
	tcase_add_test(tc, conf_indented_lines_and_inline_comments);
	tcase_add_test(tc, conf_sha256_is_of_the_file_bytes);
	tcase_add_test(tc, conf_ref_keeps_conf_alive);
	tcase_add_test(tc, conf_missing_file_names_it);
	tcase_add_test(tc, conf_metrics_listener_is_off_by_default_and_loopback_checked);
	tcase_add_test(tc, conf_cluster_is_off_by_default_and_read_with_defaults);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, conf_files_tcase());
	suite_add_tcase(s, conf_value_tcase());
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
