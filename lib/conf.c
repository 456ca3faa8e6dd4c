/*
 * conf.c: read sipwarden's INI configuration into an immutable, validated struct conf.
 *
 * Why INI and inih: operators already know the format (systemd units, php.ini, git config,
 * Samba), it diffs well and needs no quoting rules; sipwarden's settings are flat
 * key = value pairs in a few sections plus repeatable named sections ([trunk NAME],
 * [agent NAME]) - nothing that needs nesting. inih is a small, long-lived parser packaged
 * in Debian (libinih), so we write no tokenizer of our own. inih's handler gets no line
 * number, so we feed it through our own line reader (ini_parse_stream): the reader counts
 * lines, remembers section headers (for errors that belong to a section, not a line) and
 * refuses over-long lines instead of letting inih split them.
 *
 * Responsible for: the file -> struct conf translation - which sections and keys exist,
 * their ranges and defaults, required keys, duplicates, cross-field rules - and the
 * reference counting that lets a reload swap configs under running users.
 * Not responsible for: loading certificates into OpenSSL, binding sockets, or swapping a
 * new config in on reload (the daemon does that; a conf never changes once loaded).
 * The sections and keys (names, types, ranges) are tables in conf_keys.c, per-key value
 * handling is in conf_field.c, scalar/list/address parsers in conf_value.c, the summary
 * in conf_print.c, the rules across keys and sections in conf_check.c.
 */
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "conf_field.h"
#include "conf_int.h"
#include "conf_keys.h"
#include "conf_value.h"
#include "sha256.h"

#define CONF_MAX_FILE      (1024 * 1024)
#define CONF_MAX_TRUNKS    256
#define CONF_MAX_AGENTS    256
#define CONF_MAX_TRANSFERS 256

void
conf_set_err(struct pstate *st, int line, const char *fmt, ...)
{
	va_list ap;

	if (st->err_line >= 0 && st->err_line <= line)
		return;
	st->err_line = line;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

/* ---- section headers ------------------------------------------------------------- */

bool
conf_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* Record the section header `h` (the text between '[' and ']') seen on `line`. */
static void
section_begin(struct pstate *st, const char *h, size_t hlen, int line)
{
	struct conf *c = st->c;
	char text[CONF_NAME_MAX + 32], *name = NULL;
	struct sect *s, *ns;
	size_t k;

	st->in_bad_sect = true;
	if (hlen >= sizeof(text)) {
		conf_set_err(st, line, "section header too long");
		return;
	}
	memcpy(text, h, hlen);
	text[hlen] = '\0';
	for (char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			*p = '\0';
			name = p + 1;
			while (*name == ' ' || *name == '\t')
				name++;
			break;
		}
	}
	for (k = 0; k < CONF_KEYS_NSECT; k++)
		if (strcmp(text, conf_keys_sect_name((enum sect_kind)k)) == 0)
			break;
	if (k == CONF_KEYS_NSECT) {
		conf_set_err(
		        st, line,
		        "unknown section [%s]: expected general, tls, sip, media, limits, "
		        "telemetry, pool, trunk NAME, agent NAME, admission, metrics, cluster or "
		        "transfer NAME",
		        text);
		return;
	}
	if (k == S_TRUNK || k == S_AGENT || k == S_TRANSFER) {
		if (name == NULL || !conf_name_ok(name)) {
			conf_set_err(
			        st, line,
			        "[%s]: expected a name of 1..%d letters, digits, '-', '_' or '.' "
			        "after '%s'",
			        text, CONF_NAME_MAX - 1, text);
			return;
		}
	} else if (name != NULL && *name != '\0') {
		conf_set_err(st, line, "[%s %s]: section [%s] takes no name", text, name, text);
		return;
	}
	for (size_t i = 0; i < st->nsects; i++) {
		struct sect *o = &st->sects[i];
		if (o->kind != (enum sect_kind)k)
			continue;
		if (k == S_TRUNK && strcmp(c->trunks[(uintptr_t)o->obj].name, name) == 0) {
			conf_set_err(st, line,
			             "[trunk %s]: duplicate trunk name (first at line %d)", name,
			             o->line);
			return;
		}
		if (k == S_AGENT && strcmp(c->agents[(uintptr_t)o->obj].name, name) == 0) {
			conf_set_err(st, line,
			             "[agent %s]: duplicate agent name (first at line %d)", name,
			             o->line);
			return;
		}
		if (k == S_TRANSFER && strcmp(c->transfers[(uintptr_t)o->obj].name, name) == 0) {
			conf_set_err(st, line,
			             "[transfer %s]: duplicate transfer name (first at line %d)",
			             name, o->line);
			return;
		}
		if (k != S_TRUNK && k != S_AGENT && k != S_TRANSFER) {
			conf_set_err(st, line, "[%s]: duplicate section (first at line %d)", text,
			             o->line);
			return;
		}
	}
	ns = realloc(st->sects, (st->nsects + 1) * sizeof(*ns));
	if (ns == NULL) {
		conf_set_err(st, line, "out of memory");
		return;
	}
	st->sects = ns;
	s = &st->sects[st->nsects];
	memset(s, 0, sizeof(*s));
	s->kind = (enum sect_kind)k;
	s->line = line;
	switch (s->kind) {
	case S_GENERAL:
		s->obj = c;
		break;
	case S_TLS:
		s->obj = &c->tls;
		break;
	case S_SIP:
		s->obj = &c->sip;
		break;
	case S_MEDIA:
		s->obj = &c->media;
		break;
	case S_LIMITS:
		s->obj = &c->limits;
		break;
	case S_TELEMETRY:
		s->obj = &c->telemetry;
		break;
	case S_POOL:
		s->obj = &c->pool;
		break;
	case S_ADMISSION:
		s->obj = &c->admission;
		break;
	case S_METRICS:
		s->obj = &c->metrics;
		break;
	case S_CLUSTER:
		s->obj = &c->cluster;
		break;
	case S_TRUNK: {
		struct conf_trunk *nt, *t;
		if (c->ntrunks == CONF_MAX_TRUNKS) {
			conf_set_err(st, line, "too many trunks (at most %d)", CONF_MAX_TRUNKS);
			return;
		}
		nt = realloc(c->trunks, (c->ntrunks + 1) * sizeof(*nt));
		if (nt == NULL) {
			conf_set_err(st, line, "out of memory");
			return;
		}
		c->trunks = nt;
		t = &c->trunks[c->ntrunks++];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->crypto_pad = true;
		/* obj is set after all sections are known (the array moves): see below. */
		s->obj = (void *)(uintptr_t)(c->ntrunks - 1);
		break;
	}
	case S_AGENT: {
		struct conf_agent *na, *a;
		if (c->nagents == CONF_MAX_AGENTS) {
			conf_set_err(st, line, "too many agents (at most %d)", CONF_MAX_AGENTS);
			return;
		}
		na = realloc(c->agents, (c->nagents + 1) * sizeof(*na));
		if (na == NULL) {
			conf_set_err(st, line, "out of memory");
			return;
		}
		c->agents = na;
		a = &c->agents[c->nagents++];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", name);
		a->weight = 1;
		a->verify = true;
		a->crypto_pad = true;
		s->obj = (void *)(uintptr_t)(c->nagents - 1);
		break;
	}
	case S_TRANSFER: {
		struct conf_transfer *nx;
		if (c->ntransfers == CONF_MAX_TRANSFERS) {
			conf_set_err(st, line, "too many transfers (at most %d)",
			             CONF_MAX_TRANSFERS);
			return;
		}
		nx = realloc(c->transfers, (c->ntransfers + 1) * sizeof(*nx));
		if (nx == NULL) {
			conf_set_err(st, line, "out of memory");
			return;
		}
		c->transfers = nx;
		memset(&nx[c->ntransfers], 0, sizeof(*nx));
		snprintf(nx[c->ntransfers].name, sizeof(nx->name), "%s", name);
		s->obj = (void *)(uintptr_t)c->ntransfers++;
		break;
	}
	}
	snprintf(s->label, sizeof(s->label), "%s%s%s", text, name ? " " : "", name ? name : "");
	st->nsects++;
	st->in_bad_sect = false;
}

/* The object a section's keys go into (trunks/agents are addressed by index). */
static void *
sect_obj(struct pstate *st, const struct sect *s)
{
	if (s->kind == S_TRUNK)
		return &st->c->trunks[(uintptr_t)s->obj];
	if (s->kind == S_AGENT)
		return &st->c->agents[(uintptr_t)s->obj];
	if (s->kind == S_TRANSFER)
		return &st->c->transfers[(uintptr_t)s->obj];
	return s->obj;
}

/* ---- the line reader handed to inih ---------------------------------------------- */

static char *
reader(char *str, int num, void *stream)
{
	struct pstate *st = stream;
	size_t end, start, n;

	if (st->pos >= st->len)
		return NULL;
	end = st->pos;
	while (end < st->len && st->buf[end] != '\n')
		end++;
	if (end < st->len)
		end++; /* keep the '\n' */
	start = st->pos;
	st->pos = end;
	st->line++;
	/* Leading blanks are dropped: that also turns off inih's continuation lines, which
	 * would otherwise glue an indented line to the previous value. */
	while (start < end && (st->buf[start] == ' ' || st->buf[start] == '\t'))
		start++;
	n = end - start;
	if (memchr(st->buf + start, '\0', n) != NULL) {
		conf_set_err(st, st->line, "NUL byte in the file");
		return NULL;
	}
	if (num < 3 || n > (size_t)num - 3) {
		conf_set_err(st, st->line, "line too long: expected at most %d characters",
		             num - 3);
		return NULL;
	}
	memcpy(str, st->buf + start, n);
	str[n] = '\0';
	if (n > 0 && str[0] == '[') {
		const char *close = memchr(str, ']', n);
		if (close != NULL)
			section_begin(st, str + 1, (size_t)(close - str - 1), st->line);
	}
	return str;
}

/* inih callback: one key = value line. Returns 1 on success, 0 on error. */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct pstate *st = user;
	const struct conf_keydef *keys;
	struct sect *s;
	char why[CONF_ERR_MAX - 64];
	size_t i;

	if (st->in_bad_sect)
		return 0; /* the section header line already has its error */
	if (st->nsects == 0) {
		conf_set_err(st, st->line, "'%s' outside a section: expected a [section] first",
		             name);
		return 0;
	}
	s = &st->sects[st->nsects - 1];
	keys = conf_keys_of(s->kind);
	for (i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	if (keys[i].name == NULL) {
		char list[400];
		size_t n = 0;
		list[0] = '\0';
		for (size_t j = 0; keys[j].name != NULL && n < sizeof(list); j++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", j ? ", " : "",
			                      keys[j].name);
		conf_set_err(st, st->line, "[%s] unknown key '%s': expected one of %s", s->label,
		             name, list);
		return 0;
	}
	if (s->seen & (1ULL << i)) {
		conf_set_err(st, st->line, "[%s] %s: duplicate key", s->label, name);
		return 0;
	}
	s->seen |= 1ULL << i;
	if (conf_field_parse(&st->fctx, &keys[i], (char *)sect_obj(st, s) + keys[i].off, value, why,
	                     sizeof(why)) < 0) {
		conf_set_err(st, st->line, "[%s] %s: %s", s->label, name, why);
		return 0;
	}
	return 1;
}

/* ---- whole-file checks ----------------------------------------------------------- */

static void
set_defaults(struct conf *c)
{
	static const enum srtp_suite def_suites[] = {
	        SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AEAD_AES_128_GCM,
	        SUITE_AES_256_CM_HMAC_SHA1_80, SUITE_AEAD_AES_256_GCM,
	        SUITE_AES_CM_128_HMAC_SHA1_32, SUITE_AES_256_CM_HMAC_SHA1_32,
	};

	c->log_level = LOG_LVL_INFO;
	c->log_syslog = false;
	c->drain_timeout_s = 0; /* SIGTERM ends calls at once; `sipwardenctl drain` is the
	                           graceful way, or set drain_timeout */
	c->signalling_boost = 0; /* every thread at the process's nice value */
	conf_sockaddr_parse("127.0.0.1:5061", 5061, &c->tls.listen);
	c->tls.min_version = TLS1_3_VERSION;
	c->tls.handshake_timeout_ms = 5000;
	c->tls.idle_timeout_ms = 300000;
	c->tls.max_connections = 1024;
	c->sip.max_message_size = 65536;
	c->sip.max_headers = 64;
	c->sip.max_line_length = 4096;
	c->sip.transaction_timeout_ms = 32000;
	c->sip.agent_timeout_ms = 8000;
	c->sip.session_expires_s = 1800;   /* RFC 4028 s4's recommendation */
	c->sip.min_session_expires_s = 90; /* RFC 4028's floor */
	conf_value_ip("127.0.0.1", &c->media.address);
	c->media.port_min = 30000;
	c->media.port_max = 39999;
	c->media.workers = 0;
	c->media.nsuites = sizeof(def_suites) / sizeof(def_suites[0]);
	memcpy(c->media.suites, def_suites, sizeof(def_suites));
	c->media.suites[c->media.nsuites] = SUITE_NONE;
	c->media.inactivity_timeout_s = 30;
	c->media.max_call_duration_s = 14400;
	c->limits.max_calls = 1000;
	c->admission.unknown_max_connections = 32;
	c->admission.reserved_connections = UINT_MAX; /* a quarter of max_connections */
	c->admission.first_request_timeout_ms = 2000;
	c->admission.unknown_request_rate = 20;
	c->admission.unknown_request_burst = 40;
	c->admission.known_request_rate = 10000;
	c->admission.known_request_burst = 20000;
	c->admission.ban_time_ms = 60000;
	c->admission.scanner_ban_time_ms = 3600000;
	c->admission.max_sources = 8192;
	c->limits.max_setup_calls = 200;
	c->limits.max_loop_lag_ms = 10;
	c->limits.fd_reserve = 64;
	c->limits.max_media_load = 90;
	c->telemetry.socket_mode = 0660;
	c->telemetry.interim_interval_s = 0;
	c->telemetry.queue_limit = 1024;
	c->telemetry.control_mode = 0600;
	c->pool.policy = AGENT_LEAST_BUSY;
	c->pool.probe_interval_ms = 5000;
	c->pool.probe_failures = 2;
	c->cluster.heartbeat_ttl_ms = 10000;
	c->cluster.timeout_ms = 250;
}

/* Read the whole file (bounded) into memory. */
static int
read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CONF_MAX_FILE + 1);
	if (buf == NULL) {
		fclose(fp);
		snprintf(err, errlen, "%s:0: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, CONF_MAX_FILE + 1, fp);
	if (ferror(fp) || n > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s:0: %s", path,
		         ferror(fp) ? "read error" : "file larger than 1 MiB");
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/* realpath() of the directory holding `path`. */
static char *
conf_dir(const char *path)
{
	char *copy = strdup(path), *slash, *dir;

	if (copy == NULL)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == NULL)
		dir = realpath(".", NULL);
	else if (slash == copy)
		dir = strdup("/");
	else {
		*slash = '\0';
		dir = realpath(copy, NULL);
	}
	free(copy);
	return dir;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct pstate st;
	struct conf *c;
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (read_file(path, &buf, &len, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	dir = conf_dir(path);
	/* SHA-256 fails only when OpenSSL cannot allocate (or is broken): said as memory */
	if (c == NULL || dir == NULL || (c->path = strdup(path)) == NULL ||
	    sha256_digest(buf, len, c->sha256) != 0) {
		snprintf(err, errlen, "%s:0: out of memory", path);
		free(buf);
		free(dir);
		if (c != NULL) {
			c->refs = 1;
			conf_unref(c);
		}
		return NULL;
	}
	c->refs = 1;
	set_defaults(c);

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.fctx.c = c;
	st.fctx.dir = dir;
	st.buf = buf;
	st.len = len;
	st.err_line = -1;

	rc = ini_parse_stream(reader, &st, handler, &st);
	if (rc > 0)
		conf_set_err(&st, rc,
		             "syntax error: expected [section], key = value, or a comment");
	else if (rc < 0)
		conf_set_err(&st, 0, "cannot parse (error %d)", rc);
	if (st.err_line < 0)
		conf_check_required(&st);
	if (st.err_line < 0)
		conf_check_cross(&st);

	if (st.fctx.ssl)
		SSL_CTX_free(st.fctx.ssl);
	free(st.sects);
	free(buf);
	free(dir);
	if (st.err_line >= 0) {
		snprintf(err, errlen, "%s:%d: %s", path, st.err_line, st.err);
		conf_unref(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_ref(struct conf *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

void
conf_unref(struct conf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	free(c->path);
	free(c->tls.certificate);
	free(c->tls.private_key);
	free(c->tls.ca_file);
	free(c->tls.ciphers);
	free(c->tls.ciphersuites);
	free(c->tls.client_certificate);
	free(c->tls.client_private_key);
	free(c->sip.hostname);
	free(c->media.advertise);
	free(c->telemetry.socket);
	free(c->telemetry.socket_group);
	free(c->telemetry.control_socket);
	free(c->cluster.redis);
	if (c->cluster.password != NULL)
		OPENSSL_cleanse(c->cluster.password, strlen(c->cluster.password));
	free(c->cluster.password);
	free(c->cluster.instance);
	free(c->cluster.prefix);
	free(c->cluster.on_store_failure);
	for (size_t i = 0; i < c->ntrunks; i++) {
		free(c->trunks[i].sources);
		free(c->trunks[i].ca_file);
		conf_value_strv_free(c->trunks[i].pass_headers);
	}
	free(c->trunks);
	for (size_t i = 0; i < c->nagents; i++) {
		free(c->agents[i].server_name);
		free(c->agents[i].client_certificate);
		free(c->agents[i].client_private_key);
	}
	free(c->agents);
	conf_transfers_free(c);
	free(c);
}
