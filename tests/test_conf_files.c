/*
 * test_conf_files.c: part of the conf unit test (test_conf.c has the fixture and the
 * suite): the configs we ship (conf/sipwarden.conf with the dev certificates,
 * conf/sipwarden.conf.example with its paths redirected to dummies) load, and a private
 * key file others can read is refused.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_value.h"
#include "test_conf.h"
#include "tmpdir.h"

/* Make dir/name (mode) with dummy content. */
static void
touch(const char *dir, const char *name, mode_t mode)
{
	char p[1400];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("-----BEGIN DUMMY-----\n-----END DUMMY-----\n", fp);
	fclose(fp);
	ck_assert_int_eq(chmod(p, mode), 0);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(fp);
	fread(buf, 1, 65535, fp);
	fclose(fp);
	return buf;
}

static void
rm_rf(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(conf_shipped_localhost_config_loads_with_dev_certs)
{
	const char *src = getenv("SW_SRCDIR");
	char tmpl[256], p[1400], d[1400], err[CONF_ERR_MAX] = "", a[64];
	char *text;
	struct conf *c;
	FILE *fp;

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(tmpl, sizeof(tmpl), "sw-conf"));
	/* The layout tools/demo uses: conf/ next to dev-certs/ and .run/. */
	snprintf(d, sizeof(d), "%s/conf", tmpl);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/dev-certs", tmpl);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	touch(d, "server.crt", 0644);
	touch(d, "server.key", 0600);
	touch(d, "ca.crt", 0644);
	snprintf(p, sizeof(p), "%s/conf/sipwarden.conf", src);
	text = slurp(p);
	snprintf(p, sizeof(p), "%s/conf/sipwarden.conf", tmpl);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	free(text);

	c = conf_load(p, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(conf_sockaddr_str(&c->tls.listen, a, sizeof(a)), "127.0.0.1:5061");
	ck_assert_uint_eq(c->media.port_min, 30000);
	ck_assert_uint_eq(c->media.port_max, 30999);
	ck_assert_uint_eq(c->ntrunks, 1);
	ck_assert_str_eq(c->trunks[0].name, "lab");
	ck_assert_uint_eq(c->nagents, 1);
	ck_assert_str_eq(c->agents[0].name, "echo");
	ck_assert_str_eq(c->agents[0].server_name, "agent.test");
	ck_assert(c->agents[0].verify);
	snprintf(p, sizeof(p), "%s/conf/../.run/telemetry.sock", tmpl);
	ck_assert_str_eq(c->telemetry.socket, p);
	conf_unref(c);
	rm_rf(tmpl);
}
END_TEST

/* A copy of good-minimal.conf in a fresh directory whose key file has mode `mode`. */
static struct conf *
load_minimal_with_key_mode(mode_t mode, char tmpl[static 256], char *err, size_t errlen)
{
	char p[1400], d[1400], *text;
	struct conf *c;
	FILE *fp;

	ck_assert_ptr_nonnull(tmpdir_mkdtemp(tmpl, 256, "sw-conf"));
	snprintf(d, sizeof(d), "%s/files", tmpl);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	touch(d, "cert.pem", 0644);
	touch(d, "ca.pem", 0644);
	touch(d, "key.pem", mode);
	fixture_path(p, sizeof(p), "good-minimal.conf");
	text = slurp(p);
	snprintf(p, sizeof(p), "%s/sipwarden.conf", tmpl);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	free(text);
	c = conf_load(p, err, errlen);
	return c;
}

START_TEST(conf_refuses_private_key_readable_by_group)
{
	static const mode_t bad[] = {0640, 0604, 0644, 0660, 0610, 0601};
	static const mode_t good[] = {0600, 0400};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char tmpl[256], want[1400], err[CONF_ERR_MAX] = "";
		struct conf *c = load_minimal_with_key_mode(bad[i], tmpl, err, sizeof(err));
		ck_assert_ptr_null(c);
		snprintf(want, sizeof(want),
		         "%s/files/key.pem: private key is accessible by group/others (mode %04o); "
		         "chmod 600 it",
		         tmpl, (unsigned)bad[i]);
		ck_assert_msg(strstr(err, want) != NULL, "got %s\nwant %s", err, want);
		rm_rf(tmpl);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char tmpl[256], err[CONF_ERR_MAX] = "";
		struct conf *c = load_minimal_with_key_mode(good[i], tmpl, err, sizeof(err));
		ck_assert_msg(c != NULL, "mode %04o: %s", (unsigned)good[i], err);
		conf_unref(c);
		rm_rf(tmpl);
	}
}
END_TEST

/* Replace every occurrence of `from` by `to` in s (malloc'd result). */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = malloc(strlen(s) + n * tl + 1);
	ck_assert_ptr_nonnull(out);
	for (o = out, p = s;;) {
		const char *q = strstr(p, from);
		if (q == NULL) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	return out;
}

START_TEST(conf_production_example_is_valid)
{
	const char *src = getenv("SW_SRCDIR");
	char tmpl[256], p[1400], d[1400], err[CONF_ERR_MAX] = "";
	static const char *const files[] = {"sipwarden.crt", "agents-ca.crt",
	                                    "sipwarden-client.crt", "carrier-a-ca.crt",
	                                    "voice-2-client.crt"};
	static const char *const keys[] = {"sipwarden.key", "sipwarden-client.key",
	                                   "voice-2-client.key"};
	struct group *g = getgrgid(getgid());
	char *text, *t2, *t3;
	struct conf *c;
	FILE *fp;

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(tmpdir_mkdtemp(tmpl, sizeof(tmpl), "sw-conf"));
	snprintf(d, sizeof(d), "%s/tls", tmpl);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(d, files[i], 0644);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		touch(d, keys[i], 0600);
	snprintf(p, sizeof(p), "%s/conf/sipwarden.conf.example", src);
	text = slurp(p);
	snprintf(d, sizeof(d), "%s/tls/", tmpl);
	t2 = replace_all(text, "/etc/sipwarden/tls/", d);
	t3 = replace_all(t2, "sipwarden-telemetry", g->gr_name);
	snprintf(p, sizeof(p), "%s/sipwarden.conf", tmpl);
	fp = fopen(p, "w");
	fputs(t3, fp);
	fclose(fp);
	free(text), free(t2), free(t3);

	c = conf_load(p, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->ntrunks, 1);
	ck_assert_uint_eq(c->nagents, 2);
	ck_assert_str_eq(c->telemetry.socket, "/run/sipwarden/telemetry.sock");
	/* where sipwardenctl looks by default, so the unit's ExecReload reaches it */
	ck_assert_str_eq(c->telemetry.control_socket, "/run/sipwarden/control.sock");
	conf_unref(c);
	rm_rf(tmpl);
}
END_TEST

/*
 * `systemctl reload sipwarden` must fail when the reload is refused: the unit reloads
 * through `sipwardenctl reload` (which exits 1 naming the keys, it_reload), not a bare
 * SIGHUP whose verdict systemd never sees.
 */
START_TEST(systemd_unit_reload_reports_the_verdict)
{
	const char *src = getenv("SW_SRCDIR");
	char p[1400];
	char *text, *line, *end;

	ck_assert_ptr_nonnull(src);
	snprintf(p, sizeof(p), "%s/systemd/sipwarden.service", src);
	text = slurp(p);
	line = strstr(text, "\nExecReload=");
	ck_assert_msg(line != NULL, "no ExecReload in %s", p);
	line += strlen("\nExecReload=");
	end = strchr(line, '\n');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_str_eq(line, "/usr/bin/sipwardenctl reload");
	ck_assert_msg(strstr(end + 1, "\nExecReload=") == NULL, "a second ExecReload");
	free(text);
}
END_TEST

TCase *
conf_files_tcase(void)
{
	TCase *tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, conf_refuses_private_key_readable_by_group);
	tcase_add_test(tc, conf_shipped_localhost_config_loads_with_dev_certs);
	tcase_add_test(tc, conf_production_example_is_valid);
	tcase_add_test(tc, systemd_unit_reload_reports_the_verdict);
	return tc;
}
