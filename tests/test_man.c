/*
 * test_man: the man pages in man/ cannot drift from the code. Every key of the config
 * tables in lib/conf.c (conf_keys_each()) must have an entry with its default or
 * "Required" in man/sipwarden.conf.5.scd, under the heading of its section, saying "Needs a
 * restart" exactly when a reload cannot apply it (conf_reload.h); every event of
 * the schema table in lib/telemetry_schema.c (telemetry_event_names()) must have a section
 * with an example in man/sipwarden-telemetry.7.scd; every command and option that
 * `sipwardenctl --help` and `sipwarden -h` print must be in their pages. That the pages render
 * without warnings is checked by man/render (a meson test of its own), not here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_reload.h"
#include "telemetry.h"

/* The whole of SW_SRCDIR/man/<name>, NUL-terminated; the caller frees it. */
static char *
read_page(const char *name)
{
	const char *src = getenv("SW_SRCDIR");
	char path[4096];
	FILE *f;
	char *buf;
	long len;

	ck_assert_msg(src != NULL, "SW_SRCDIR not set");
	snprintf(path, sizeof(path), "%s/man/%s", src, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Start of the line after p (or the terminating NUL). */
static const char *
next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? nl + 1 : p + strlen(p);
}

/*
 * The part of an scdoc page under the subsection heading "## [sect]" or "## [sect NAME]":
 * sets *end to the next heading. NULL when there is no such heading.
 */
static const char *
find_section(const char *page, const char *sect, const char **end)
{
	size_t n = strlen(sect);

	for (const char *p = page; *p != '\0'; p = next_line(p)) {
		if (strncmp(p, "## [", 4) != 0 || strncmp(p + 4, sect, n) != 0 ||
		    (p[4 + n] != ']' && p[4 + n] != ' '))
			continue;
		const char *q = next_line(p);
		while (*q != '\0' && *q != '#')
			q = next_line(q);
		*end = q;
		return next_line(p);
	}
	return NULL;
}

/*
 * Whether the section text [s, e) has an entry for key: a line starting with "*key*"
 * whose paragraph (up to the next entry or heading) says "Default" or "Required".
 * *has_default tells the second part, *restart whether it says "Needs a restart".
 */
static bool
find_entry(const char *s, const char *e, const char *key, bool *has_default, bool *restart)
{
	size_t n = strlen(key);

	for (const char *p = s; p < e; p = next_line(p)) {
		if (p[0] != '*' || strncmp(p + 1, key, n) != 0 || p[1 + n] != '*' ||
		    (p[2 + n] != ' ' && p[2 + n] != '\n'))
			continue;
		const char *q = next_line(p);
		while (q < e && *q != '*' && *q != '#')
			q = next_line(q);
		*has_default = *restart = false;
		for (const char *r = p; r < q; r++) {
			if (strncmp(r, "Default", 7) == 0 || strncmp(r, "Required", 8) == 0)
				*has_default = true;
			if (strncmp(r, "Needs a restart", 15) == 0)
				*restart = true;
		}
		return true;
	}
	return false;
}

struct key_check {
	const char *page;
	char missing[4096];   /* "[sect] key" of every key without an entry */
	char nodefault[4096]; /* ... of every entry that gives no default */
	char restart[4096];   /* ... whose "Needs a restart" disagrees with conf_reload_rule() */
	size_t n_missing, n_nodefault, n_restart;
};

static void
append(char *buf, size_t len, const char *sect, const char *key)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, " [%s] %s", sect, key);
}

static void
check_key_cb(const char *sect, const char *key, void *arg)
{
	struct key_check *kc = arg;
	const char *end, *s = find_section(kc->page, sect, &end);
	bool has_default = false, restart = false;

	if (s == NULL || !find_entry(s, end, key, &has_default, &restart)) {
		kc->n_missing++;
		append(kc->missing, sizeof(kc->missing), sect, key);
		return;
	}
	if (!has_default) {
		kc->n_nodefault++;
		append(kc->nodefault, sizeof(kc->nodefault), sect, key);
	}
	if (restart != (conf_reload_rule(sect, key) == CONF_RELOAD_RESTART)) {
		kc->n_restart++;
		append(kc->restart, sizeof(kc->restart), sect, key);
	}
}

static void
check_keys(const char *page, struct key_check *kc)
{
	memset(kc, 0, sizeof(*kc));
	kc->page = page;
	ck_assert_uint_gt(conf_keys_each(check_key_cb, kc), 50);
}

START_TEST(conf_page_documents_every_key_with_its_default)
{
	char *page = read_page("sipwarden.conf.5.scd");
	struct key_check kc;

	check_keys(page, &kc);
	ck_assert_msg(kc.n_missing == 0, "keys not in man/sipwarden.conf.5.scd:%s", kc.missing);
	ck_assert_msg(kc.n_nodefault == 0, "keys without a default in the page:%s", kc.nodefault);
	ck_assert_msg(kc.n_restart == 0,
	              "\"Needs a restart\" in the page disagrees with lib/conf_keys.c for:%s",
	              kc.restart);
	free(page);
}
END_TEST

/* The check itself can fail: remove one key's entry from the page and it must notice. */
START_TEST(conf_page_check_notices_a_missing_key)
{
	char *page = read_page("sipwarden.conf.5.scd");
	const char *end, *s = find_section(page, "limits", &end);
	char *entry;
	struct key_check kc;

	ck_assert_ptr_nonnull(s);
	entry = strstr(s, "*max_media_load* =");
	ck_assert_ptr_nonnull(entry);
	entry[1] = 'X'; /* "*Xax_media_load*" is no longer the key */
	check_keys(page, &kc);
	ck_assert_uint_eq(kc.n_missing, 1);
	ck_assert_str_eq(kc.missing, " [limits] max_media_load");

	/* A key under another section's heading does not count for [trunk]. */
	entry[1] = 'm';
	entry = strstr(page, "## [trunk NAME]");
	ck_assert_ptr_nonnull(entry);
	memcpy(entry, "## [xrunk", 9);
	check_keys(page, &kc);
	ck_assert_uint_eq(kc.n_missing, 9);
	free(page);
}
END_TEST

START_TEST(telemetry_page_documents_every_event)
{
	char *page = read_page("sipwarden-telemetry.7.scd");
	const char *const *names = telemetry_event_names();
	size_t n = 0;

	for (; names[n] != NULL; n++) {
		char head[128], ex[160];

		snprintf(head, sizeof(head), "\n## %s\n", names[n]);
		snprintf(ex, sizeof(ex), "\"event\":\"%s\"", names[n]);
		const char *h = strstr(page, head);
		ck_assert_msg(h != NULL, "no section for event %s", names[n]);
		/* Its example follows, before the next section (indented or compact JSON). */
		const char *nextsec = strstr(h + 1, "\n## ");
		const char *e = strstr(h, ex);
		if (e == NULL) {
			snprintf(ex, sizeof(ex), "\"event\": \"%s\"", names[n]);
			e = strstr(h, ex);
		}
		ck_assert_msg(e != NULL && (nextsec == NULL || e < nextsec),
		              "no example for event %s", names[n]);
	}
	ck_assert_uint_ge(n, 18);
	free(page);
}
END_TEST

/* What `exe arg` prints on stdout (and stderr), NUL-terminated; the caller frees it. */
static char *
run_help(const char *env, const char *arg)
{
	const char *exe = getenv(env);
	char cmd[4200];
	char *buf = malloc(65536);
	size_t n;
	FILE *p;

	ck_assert_msg(exe != NULL, "%s not set", env);
	ck_assert_ptr_nonnull(buf);
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", exe, arg);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	pclose(p);
	return buf;
}

/*
 * Whether page has an entry for word: a line that starts with "*word*" followed by the end
 * of the line, an argument (" _arg_", " [") or another name (", *", or "++" and the
 * next line: scdoc's line break).
 */
static bool
page_has_entry(const char *page, const char *word)
{
	char want[128];
	size_t n = (size_t)snprintf(want, sizeof(want), "*%s*", word);

	for (const char *p = page; *p != '\0'; p = next_line(p)) {
		if (strncmp(p, want, n) != 0)
			continue;
		if (p[n] == '\n' || strncmp(p + n, " _", 2) == 0 || strncmp(p + n, " [", 2) == 0 ||
		    strncmp(p + n, ", *", 3) == 0 || strncmp(p + n, "++\n", 3) == 0)
			return true;
	}
	return false;
}

/*
 * Every command `sipwardenctl --help` lists (the lines under "commands:" that start with
 * two spaces and a name) and every long option it names has an entry in sipwardenctl(1).
 */
START_TEST(ctl_page_documents_every_command_and_option)
{
	char *help = run_help("SW_SIPWARDENCTL", "--help");
	char *page = read_page("sipwardenctl.1.scd");
	const char *cmds = strstr(help, "\ncommands:\n");
	size_t ncmds = 0, nopts = 0;

	ck_assert_msg(cmds != NULL, "no commands: in %s", help);
	for (const char *p = next_line(cmds + 1); *p != '\0'; p = next_line(p)) {
		char name[64];

		/* "  name": exactly two spaces (continuation lines are indented further). */
		if (strncmp(p, "  ", 2) != 0 || sscanf(p + 2, "%63[a-z]", name) != 1)
			continue;
		ck_assert_msg(page_has_entry(page, name), "command %s not in sipwardenctl(1)",
		              name);
		ncmds++;
	}
	for (const char *p = help; (p = strstr(p, " --")) != NULL; p++) {
		char opt[64], word[70];

		if (sscanf(p + 1, "--%63[a-z-]", opt) != 1)
			continue;
		snprintf(word, sizeof(word), "--%s", opt);
		ck_assert_msg(strstr(page, word) != NULL, "option %s not in sipwardenctl(1)", word);
		nopts++;
	}
	ck_assert_uint_ge(ncmds, 7);
	ck_assert_uint_ge(nopts, 5);
	free(help);
	free(page);
}
END_TEST

/* Every option in `sipwarden -h` ("-X" or "--long") has an entry in sipwarden(8). */
START_TEST(daemon_page_documents_every_option)
{
	char *help = run_help("SW_SIPWARDEN", "-h");
	char *page = read_page("sipwarden.8.scd");
	size_t nopts = 0;

	for (const char *p = help; (p = strstr(p, " -")) != NULL; p++) {
		char opt[64], word[70];

		if (sscanf(p + 1, "-%63[a-zA-Z-]", opt) != 1)
			continue;
		snprintf(word, sizeof(word), "-%s", opt);
		ck_assert_msg(page_has_entry(page, word), "option -%s not in sipwarden(8)", opt);
		nopts++;
	}
	ck_assert_uint_ge(nopts, 4);
	free(help);
	free(page);
}
END_TEST

/* getopt_long: --help and --version work on both programs, the same as -h and -V. */
START_TEST(long_options_help_and_version)
{
	char *out = run_help("SW_SIPWARDEN", "--version");

	ck_assert_str_eq(out, "sipwarden " SW_VERSION "\n");
	free(out);
	out = run_help("SW_SIPWARDEN", "--help");
	ck_assert_msg(strncmp(out, "usage: sipwarden", 16) == 0, "%s", out);
	free(out);
	out = run_help("SW_SIPWARDENCTL", "--version");
	ck_assert_str_eq(out, "sipwardenctl " SW_VERSION "\n");
	free(out);
	out = run_help("SW_SIPWARDENCTL", "-V");
	ck_assert_str_eq(out, "sipwardenctl " SW_VERSION "\n");
	free(out);
}
END_TEST

static Suite *
man_suite(void)
{
	Suite *s = suite_create("man");
	TCase *tc = tcase_create("pages");

	tcase_add_test(tc, conf_page_documents_every_key_with_its_default);
	tcase_add_test(tc, conf_page_check_notices_a_missing_key);
	tcase_add_test(tc, telemetry_page_documents_every_event);
	tcase_add_test(tc, ctl_page_documents_every_command_and_option);
	tcase_add_test(tc, daemon_page_documents_every_option);
	tcase_add_test(tc, long_options_help_and_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(man_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
