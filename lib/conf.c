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
 * Responsible for: the file -> struct conf translation, every range and cross-field
 * check, file checks on certificates/keys (exist, readable, private keys not accessible by
 * group/others), the address/CIDR helpers, and the summary printed by `sipwarden -t`.
 * Not responsible for: loading certificates into OpenSSL, binding sockets, or swapping a
 * new config in on reload (the daemon does that; a conf never changes once loaded).
 * Value parsers (durations, sizes, lists, addresses) live in conf_value.c.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ini.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conf_value.h"

#define CONF_MAX_FILE     (1024 * 1024)
#define CONF_MAX_TRUNKS   256
#define CONF_MAX_AGENTS   256
#define CONF_SUN_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))

enum sect_kind {
	S_GENERAL,
	S_TLS,
	S_SIP,
	S_MEDIA,
	S_LIMITS,
	S_TELEMETRY,
	S_POOL,
	S_TRUNK,
	S_AGENT
};

static const char *const sect_names[] = {"general",   "tls",  "sip",   "media", "limits",
                                         "telemetry", "pool", "trunk", "agent"};

/* How to read and check one key's value. */
enum ktype {
	K_STR,       /* free text, stored as char* */
	K_FILE,      /* readable regular file, path resolved against the config dir */
	K_KEYFILE,   /* like K_FILE, and no group/other permission bits */
	K_SOCKPATH,  /* socket path to be created: resolved, not checked */
	K_BOOL,      /* bool */
	K_UINT,      /* unsigned in [min, max] */
	K_SIZE,      /* unsigned bytes, optional k suffix, in [min, max] */
	K_MS,        /* duration stored as unsigned ms; 0 or [min, max] if zero_ok */
	K_SEC,       /* duration stored as unsigned s (whole seconds) */
	K_MODE,      /* octal unsigned, no bits for others */
	K_PORT,      /* uint16_t in [min, max] */
	K_ADDR,      /* struct conf_sockaddr, host:port, default port = min */
	K_IP,        /* struct conf_sockaddr, IP literal, no port */
	K_IPSTR,     /* char* holding an IP literal */
	K_HOSTNAME,  /* char* DNS name or IP literal */
	K_LOGLEVEL,  /* enum log_level */
	K_TLSVER,    /* int TLS1_2_VERSION / TLS1_3_VERSION */
	K_CIPHERS,   /* char*, checked with OpenSSL (TLS 1.2 list) */
	K_SUITES13,  /* char*, checked with OpenSSL (TLS 1.3 list) */
	K_SRTP,      /* media suites list */
	K_CIDRS,     /* trunk sources */
	K_FPR,       /* trunk fingerprint */
	K_HEADERS,   /* char** X- header names */
	K_POLICY,    /* enum agent_policy */
	K_TRANSPORT, /* only "tls"; nothing stored */
	K_GROUP,     /* char* existing group name */
};

struct keydef {
	const char *name;
	enum ktype type;
	size_t off;
	unsigned long min, max;
	bool zero_ok; /* 0 allowed besides [min, max] (means "off") */
	bool required;
};

#define KEY(n, t, s, f, lo, hi)                                                                    \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, false, false                                         \
	}
#define KEYZ(n, t, s, f, lo, hi)                                                                   \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, true, false                                          \
	}
#define KEYR(n, t, s, f, lo, hi)                                                                   \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, false, true                                          \
	}
#define KEYEND                                                                                     \
	{                                                                                          \
		NULL, K_STR, 0, 0, 0, false, false                                                 \
	}

static const struct keydef general_keys[] = {
        KEY("log_level", K_LOGLEVEL, struct conf, log_level, 0, 0),
        KEY("log_syslog", K_BOOL, struct conf, log_syslog, 0, 0),
        KEYEND,
};

static const struct keydef tls_keys[] = {
        KEY("listen", K_ADDR, struct conf_tls, listen, 5061, 0),
        KEYR("certificate", K_FILE, struct conf_tls, certificate, 0, 0),
        KEYR("private_key", K_KEYFILE, struct conf_tls, private_key, 0, 0),
        KEY("ca_file", K_FILE, struct conf_tls, ca_file, 0, 0),
        KEY("min_version", K_TLSVER, struct conf_tls, min_version, 0, 0),
        KEY("ciphers", K_CIPHERS, struct conf_tls, ciphers, 0, 0),
        KEY("ciphersuites", K_SUITES13, struct conf_tls, ciphersuites, 0, 0),
        KEY("handshake_timeout", K_MS, struct conf_tls, handshake_timeout_ms, 100, 60000),
        KEY("idle_timeout", K_MS, struct conf_tls, idle_timeout_ms, 1000, 86400000),
        KEY("max_connections", K_UINT, struct conf_tls, max_connections, 1, 100000),
        KEY("client_certificate", K_FILE, struct conf_tls, client_certificate, 0, 0),
        KEY("client_private_key", K_KEYFILE, struct conf_tls, client_private_key, 0, 0),
        KEYEND,
};

static const struct keydef sip_keys[] = {
        KEY("hostname", K_HOSTNAME, struct conf_sip, hostname, 0, 0),
        KEY("max_message_size", K_SIZE, struct conf_sip, max_message_size, 1024, 1048576),
        KEY("max_headers", K_UINT, struct conf_sip, max_headers, 8, 1024),
        KEY("max_line_length", K_SIZE, struct conf_sip, max_line_length, 256, 65536),
        KEY("transaction_timeout", K_MS, struct conf_sip, transaction_timeout_ms, 1000, 300000),
        KEY("agent_timeout", K_MS, struct conf_sip, agent_timeout_ms, 500, 120000),
        KEYEND,
};

static const struct keydef media_keys[] = {
        KEY("address", K_IP, struct conf_media, address, 0, 0),
        KEY("advertise", K_IPSTR, struct conf_media, advertise, 0, 0),
        KEY("port_min", K_PORT, struct conf_media, port_min, 1024, 65535),
        KEY("port_max", K_PORT, struct conf_media, port_max, 1024, 65535),
        KEYZ("workers", K_UINT, struct conf_media, workers, 1, 64),
        KEY("suites", K_SRTP, struct conf_media, suites, 0, 0),
        KEYZ("inactivity_timeout", K_SEC, struct conf_media, inactivity_timeout_s, 1, 3600),
        KEYZ("max_call_duration", K_SEC, struct conf_media, max_call_duration_s, 60, 604800),
        KEYEND,
};

static const struct keydef limits_keys[] = {
        KEY("max_calls", K_UINT, struct conf_limits, max_calls, 1, 100000),
        KEYEND,
};

static const struct keydef telemetry_keys[] = {
        KEY("socket", K_SOCKPATH, struct conf_telemetry, socket, 0, 0),
        KEY("socket_mode", K_MODE, struct conf_telemetry, socket_mode, 0, 0770),
        KEY("socket_group", K_GROUP, struct conf_telemetry, socket_group, 0, 0),
        KEYZ("interim_interval", K_SEC, struct conf_telemetry, interim_interval_s, 1, 3600),
        KEY("queue_limit", K_UINT, struct conf_telemetry, queue_limit, 16, 1048576),
        KEY("control_socket", K_SOCKPATH, struct conf_telemetry, control_socket, 0, 0),
        KEY("control_mode", K_MODE, struct conf_telemetry, control_mode, 0, 0770),
        KEYEND,
};

static const struct keydef pool_keys[] = {
        KEY("policy", K_POLICY, struct conf_pool, policy, 0, 0),
        KEYZ("probe_interval", K_MS, struct conf_pool, probe_interval_ms, 500, 300000),
        KEY("probe_failures", K_UINT, struct conf_pool, probe_failures, 1, 100),
        KEYEND,
};

static const struct keydef trunk_keys[] = {
        KEYR("source", K_CIDRS, struct conf_trunk, sources, 0, 0),
        KEY("ca_file", K_FILE, struct conf_trunk, ca_file, 0, 0),
        KEY("fingerprint", K_FPR, struct conf_trunk, fingerprint, 0, 0),
        KEY("target", K_ADDR, struct conf_trunk, target, 5061, 0),
        KEY("legacy_rtp", K_BOOL, struct conf_trunk, legacy_rtp, 0, 0),
        KEY("crypto_pad", K_BOOL, struct conf_trunk, crypto_pad, 0, 0),
        KEYZ("max_calls", K_UINT, struct conf_trunk, max_calls, 1, 100000),
        KEY("pass_headers", K_HEADERS, struct conf_trunk, pass_headers, 0, 0),
        KEYEND,
};

static const struct keydef agent_keys[] = {
        KEYR("address", K_ADDR, struct conf_agent, address, 5061, 0),
        {"transport", K_TRANSPORT, 0, 0, 0, false, false},
        KEY("server_name", K_HOSTNAME, struct conf_agent, server_name, 0, 0),
        KEY("weight", K_UINT, struct conf_agent, weight, 1, 100),
        KEY("client_certificate", K_FILE, struct conf_agent, client_certificate, 0, 0),
        KEY("client_private_key", K_KEYFILE, struct conf_agent, client_private_key, 0, 0),
        KEY("verify", K_BOOL, struct conf_agent, verify, 0, 0),
        KEY("crypto_pad", K_BOOL, struct conf_agent, crypto_pad, 0, 0),
        KEYEND,
};

static const struct keydef *const sect_keys[] = {
        general_keys,   tls_keys,  sip_keys,   media_keys, limits_keys,
        telemetry_keys, pool_keys, trunk_keys, agent_keys,
};

/* One section header met in the file. */
struct sect {
	enum sect_kind kind;
	int line;
	void *obj;     /* where the keys go: struct conf, conf_tls, ..., conf_trunk, conf_agent */
	uint64_t seen; /* bit i: keydef i was set */
	char label[2 * (CONF_NAME_MAX + 32)];
};

/* Parse state: the file in memory, the reader's position, the first error. */
struct pstate {
	struct conf *c;
	const char *dir; /* directory of the config file, for relative paths */
	const char *buf;
	size_t len, pos;
	int line; /* line last handed to inih */
	struct sect *sects;
	size_t nsects;
	bool in_bad_sect; /* keys after an unknown section header are not reported again */
	int err_line;     /* -1: no error yet */
	char err[CONF_ERR_MAX];
	SSL_CTX *ssl; /* only to check cipher strings */
};

static void set_err(struct pstate *st, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
set_err(struct pstate *st, int line, const char *fmt, ...)
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

static bool
name_ok(const char *s)
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
		set_err(st, line, "section header too long");
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
	for (k = 0; k < sizeof(sect_names) / sizeof(sect_names[0]); k++)
		if (strcmp(text, sect_names[k]) == 0)
			break;
	if (k == sizeof(sect_names) / sizeof(sect_names[0])) {
		set_err(st, line,
		        "unknown section [%s]: expected general, tls, sip, media, limits, "
		        "telemetry, pool, trunk NAME or agent NAME",
		        text);
		return;
	}
	if (k == S_TRUNK || k == S_AGENT) {
		if (name == NULL || !name_ok(name)) {
			set_err(st, line,
			        "[%s]: expected a name of 1..%d letters, digits, '-', '_' or '.' "
			        "after '%s'",
			        text, CONF_NAME_MAX - 1, text);
			return;
		}
	} else if (name != NULL && *name != '\0') {
		set_err(st, line, "[%s %s]: section [%s] takes no name", text, name, text);
		return;
	}
	for (size_t i = 0; i < st->nsects; i++) {
		struct sect *o = &st->sects[i];
		if (o->kind != (enum sect_kind)k)
			continue;
		if (k == S_TRUNK && strcmp(c->trunks[(uintptr_t)o->obj].name, name) == 0) {
			set_err(st, line, "[trunk %s]: duplicate trunk name (first at line %d)",
			        name, o->line);
			return;
		}
		if (k == S_AGENT && strcmp(c->agents[(uintptr_t)o->obj].name, name) == 0) {
			set_err(st, line, "[agent %s]: duplicate agent name (first at line %d)",
			        name, o->line);
			return;
		}
		if (k != S_TRUNK && k != S_AGENT) {
			set_err(st, line, "[%s]: duplicate section (first at line %d)", text,
			        o->line);
			return;
		}
	}
	ns = realloc(st->sects, (st->nsects + 1) * sizeof(*ns));
	if (ns == NULL) {
		set_err(st, line, "out of memory");
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
	case S_TRUNK: {
		struct conf_trunk *nt, *t;
		if (c->ntrunks == CONF_MAX_TRUNKS) {
			set_err(st, line, "too many trunks (at most %d)", CONF_MAX_TRUNKS);
			return;
		}
		nt = realloc(c->trunks, (c->ntrunks + 1) * sizeof(*nt));
		if (nt == NULL) {
			set_err(st, line, "out of memory");
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
			set_err(st, line, "too many agents (at most %d)", CONF_MAX_AGENTS);
			return;
		}
		na = realloc(c->agents, (c->nagents + 1) * sizeof(*na));
		if (na == NULL) {
			set_err(st, line, "out of memory");
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
		set_err(st, st->line, "NUL byte in the file");
		return NULL;
	}
	if (num < 3 || n > (size_t)num - 3) {
		set_err(st, st->line, "line too long: expected at most %d characters", num - 3);
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

/* ---- values ---------------------------------------------------------------------- */

/* Resolve `v` against the config dir; returns malloc'd path or NULL. */
static char *
resolve(const struct pstate *st, const char *v)
{
	char *p;

	if (v[0] == '/')
		return strdup(v);
	if (asprintf(&p, "%s/%s", st->dir, v) < 0)
		return NULL;
	return p;
}

/* Check a file that must exist and be readable; for keys also its mode. */
static int
check_file(const char *path, bool key, char *why, size_t whylen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (key && (sb.st_mode & 077) != 0) {
		snprintf(why, whylen,
		         "%s: private key is accessible by group/others (mode %04o); chmod 600 it",
		         path, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Store an unsigned value into a field of the right width. */
static void
store_uint(void *field, enum ktype t, unsigned long v)
{
	if (t == K_PORT)
		*(uint16_t *)field = (uint16_t)v;
	else
		*(unsigned *)field = (unsigned)v;
}

static void
replace_str(void *field, char *v)
{
	char **p = field;
	free(*p);
	*p = v;
}

/* Parse `v` for key `k` into `field`. Returns 0, or -1 with `why` filled. */
static int
parse_value(struct pstate *st, const struct keydef *k, void *field, const char *v, char *why,
            size_t wl)
{
	unsigned long u;
	char *p;

	switch (k->type) {
	case K_STR:
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	case K_FILE:
	case K_KEYFILE:
		if (*v == '\0') {
			snprintf(why, wl, "expected a file path");
			return -1;
		}
		if ((p = resolve(st, v)) == NULL)
			goto oom;
		if (check_file(p, k->type == K_KEYFILE, why, wl) < 0) {
			free(p);
			return -1;
		}
		replace_str(field, p);
		return 0;
	case K_SOCKPATH:
		if (*v == '\0') {
			snprintf(why, wl, "expected a socket path");
			return -1;
		}
		if ((p = resolve(st, v)) == NULL)
			goto oom;
		if (strlen(p) >= CONF_SUN_PATH_MAX) {
			snprintf(why, wl, "expected a socket path shorter than %d bytes, got '%s'",
			         CONF_SUN_PATH_MAX, p);
			free(p);
			return -1;
		}
		replace_str(field, p);
		return 0;
	case K_BOOL:
		if (conf_value_bool(v, field) < 0) {
			snprintf(why, wl, "expected yes or no, got '%s'", v);
			return -1;
		}
		return 0;
	case K_UINT:
	case K_PORT:
		if (conf_value_uint(v, &u) < 0 || (u == 0 && !k->zero_ok) ||
		    (u != 0 && (u < k->min || u > k->max))) {
			snprintf(why, wl, "expected an integer %lu..%lu, got '%s'",
			         k->zero_ok ? 0 : k->min, k->max, v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case K_SIZE:
		if (conf_value_size(v, &u) < 0 || u < k->min || u > k->max) {
			snprintf(why, wl,
			         "expected a size %lu..%lu bytes (suffix k allowed), got '%s'",
			         k->min, k->max, v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case K_MS:
	case K_SEC: {
		unsigned long long ms;
		unsigned long lo = k->min, hi = k->max;
		const char *unit = k->type == K_MS ? "ms" : "s";
		int rc = conf_value_duration_ms(v, &ms);
		if (rc == 0 && k->type == K_SEC && ms % 1000 != 0)
			rc = -1;
		if (rc == 0) {
			unsigned long long x = k->type == K_SEC ? ms / 1000 : ms;
			if ((x == 0 && k->zero_ok) || (x >= lo && x <= hi)) {
				store_uint(field, k->type, (unsigned long)x);
				return 0;
			}
		}
		snprintf(why, wl,
		         "expected a duration %s%lu%s..%lu%s (units ms, s, m, h), got '%s'",
		         k->zero_ok ? "0 (off) or " : "", lo, unit, hi, unit, v);
		return -1;
	}
	case K_MODE:
		if (conf_value_mode(v, &u) < 0 || u > 0777 || (u & 07) != 0) {
			snprintf(why, wl,
			         "expected an octal mode without bits for others (e.g. 0660), got "
			         "'%s'",
			         v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case K_ADDR:
		if (conf_sockaddr_parse(v, (uint16_t)k->min, field) < 0) {
			snprintf(why, wl,
			         "expected an IP address and port (192.0.2.1:5061, "
			         "[2001:db8::1]:5061), "
			         "got '%s'",
			         v);
			return -1;
		}
		return 0;
	case K_IP: {
		struct conf_sockaddr a;
		if (conf_value_ip(v, &a) < 0) {
			snprintf(why, wl, "expected an IP address without port, got '%s'", v);
			return -1;
		}
		*(struct conf_sockaddr *)field = a;
		return 0;
	}
	case K_IPSTR: {
		struct conf_sockaddr a;
		if (conf_value_ip(v, &a) < 0) {
			snprintf(why, wl, "expected an IP address, got '%s'", v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	}
	case K_HOSTNAME:
		if (!conf_value_hostname_ok(v)) {
			snprintf(why, wl, "expected a host name or IP address, got '%s'", v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	case K_LOGLEVEL:
		if (log_level_parse(v, field) < 0) {
			snprintf(why, wl, "expected error, warn, info or debug, got '%s'", v);
			return -1;
		}
		return 0;
	case K_TLSVER:
		if (strcmp(v, "1.2") == 0)
			*(int *)field = TLS1_2_VERSION;
		else if (strcmp(v, "1.3") == 0)
			*(int *)field = TLS1_3_VERSION;
		else if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 ||
		         strcasecmp(v, "ssl3") == 0) {
			snprintf(why, wl, "expected 1.2 or 1.3, got '%s': never below 1.2", v);
			return -1;
		} else {
			snprintf(why, wl, "expected 1.2 or 1.3, got '%s'", v);
			return -1;
		}
		return 0;
	case K_CIPHERS:
	case K_SUITES13: {
		int ok;
		if (st->ssl == NULL && (st->ssl = SSL_CTX_new(TLS_method())) == NULL)
			goto oom;
		ok = k->type == K_CIPHERS ? SSL_CTX_set_cipher_list(st->ssl, v)
		                          : SSL_CTX_set_ciphersuites(st->ssl, v);
		if (!ok || *v == '\0') {
			snprintf(why, wl, "expected an OpenSSL %s list, got '%s'",
			         k->type == K_CIPHERS ? "TLS 1.2 cipher" : "TLS 1.3 ciphersuite",
			         v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	}
	case K_SRTP: {
		struct conf_media *m = &st->c->media;
		return conf_value_suites(v, m->suites, &m->nsuites, why, wl);
	}
	case K_CIDRS: {
		struct conf_trunk *t =
		        (struct conf_trunk *)((char *)field - offsetof(struct conf_trunk, sources));
		struct conf_cidr *list = NULL;
		size_t n = 0;
		if (conf_value_cidrs(v, &list, &n, why, wl) < 0)
			return -1;
		free(t->sources);
		t->sources = list;
		t->nsources = n;
		return 0;
	}
	case K_FPR: {
		struct conf_trunk *t =
		        (struct conf_trunk *)((char *)field -
		                              offsetof(struct conf_trunk, fingerprint));
		if (conf_value_fingerprint(v, t->fingerprint) < 0) {
			snprintf(why, wl,
			         "expected a SHA-256 fingerprint (64 hex digits, ':' optional), "
			         "got '%s'",
			         v);
			return -1;
		}
		t->has_fingerprint = true;
		return 0;
	}
	case K_HEADERS: {
		char **list = NULL;
		if (conf_value_headers(v, &list, why, wl) < 0)
			return -1;
		conf_value_strv_free(*(char ***)field);
		*(char ***)field = list;
		return 0;
	}
	case K_POLICY:
		if (strcmp(v, "round_robin") == 0)
			*(enum agent_policy *)field = AGENT_ROUND_ROBIN;
		else if (strcmp(v, "least_busy") == 0)
			*(enum agent_policy *)field = AGENT_LEAST_BUSY;
		else {
			snprintf(why, wl, "expected round_robin or least_busy, got '%s'", v);
			return -1;
		}
		return 0;
	case K_TRANSPORT:
		if (strcasecmp(v, "tls") != 0) {
			snprintf(why, wl,
			         "expected tls, got '%s': signalling to agents must be TLS", v);
			return -1;
		}
		return 0;
	case K_GROUP:
		if (*v == '\0' || getgrnam(v) == NULL) {
			snprintf(why, wl, "expected an existing group name, got '%s'", v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	}
oom:
	snprintf(why, wl, "out of memory");
	return -1;
}

/* inih callback: one key = value line. Returns 1 on success, 0 on error. */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct pstate *st = user;
	const struct keydef *keys;
	struct sect *s;
	char why[CONF_ERR_MAX - 64];
	size_t i;

	if (st->in_bad_sect)
		return 0; /* the section header line already has its error */
	if (st->nsects == 0) {
		set_err(st, st->line, "'%s' outside a section: expected a [section] first", name);
		return 0;
	}
	s = &st->sects[st->nsects - 1];
	keys = sect_keys[s->kind];
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
		set_err(st, st->line, "[%s] unknown key '%s': expected one of %s", s->label, name,
		        list);
		return 0;
	}
	if (s->seen & (1ULL << i)) {
		set_err(st, st->line, "[%s] %s: duplicate key", s->label, name);
		return 0;
	}
	s->seen |= 1ULL << i;
	if (parse_value(st, &keys[i], (char *)sect_obj(st, s) + keys[i].off, value, why,
	                sizeof(why)) < 0) {
		set_err(st, st->line, "[%s] %s: %s", s->label, name, why);
		return 0;
	}
	return 1;
}

/* ---- whole-file checks ----------------------------------------------------------- */

static const struct sect *
find_sect(const struct pstate *st, enum sect_kind kind)
{
	for (size_t i = 0; i < st->nsects; i++)
		if (st->sects[i].kind == kind)
			return &st->sects[i];
	return NULL;
}

static int
sect_line(const struct pstate *st, enum sect_kind kind)
{
	const struct sect *s = find_sect(st, kind);
	return s ? s->line : 0;
}

static bool
cidr_overlap(const struct conf_cidr *a, const struct conf_cidr *b)
{
	unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix;

	if (a->family != b->family)
		return false;
	for (unsigned i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i % 8);
		if ((a->addr[i / 8] & m) != (b->addr[i / 8] & m))
			return false;
	}
	return true;
}

static void
check_required(struct pstate *st)
{
	for (size_t i = 0; i < st->nsects; i++) {
		const struct sect *s = &st->sects[i];
		const struct keydef *keys = sect_keys[s->kind];
		for (size_t k = 0; keys[k].name != NULL; k++)
			if (keys[k].required && !(s->seen & (1ULL << k)))
				set_err(st, s->line, "[%s] %s is required", s->label, keys[k].name);
	}
	if (find_sect(st, S_TLS) == NULL)
		set_err(st, 0, "[tls] is required (certificate and private_key)");
}

/* Cross-field rules. Each names the line of its section header (0 when absent). */
static void
check_cross(struct pstate *st)
{
	struct conf *c = st->c;
	const struct conf_media *m = &c->media;
	int ml = sect_line(st, S_MEDIA), tl = sect_line(st, S_TLS);

	if (m->port_min % 2 != 0)
		set_err(st, ml,
		        "[media] port_min: expected an even port (RTP even, RTCP odd), got %u",
		        m->port_min);
	else if (m->port_min >= m->port_max || m->port_max - m->port_min + 1 < 4)
		set_err(st, ml,
		        "[media] port_min/port_max: expected port_min < port_max and room for at "
		        "least 4 ports, got %u..%u",
		        m->port_min, m->port_max);
	if (c->sip.max_line_length > c->sip.max_message_size)
		set_err(st, sect_line(st, S_SIP),
		        "[sip] max_line_length: expected at most max_message_size (%u), got %u",
		        c->sip.max_message_size, c->sip.max_line_length);
	if ((c->tls.client_certificate == NULL) != (c->tls.client_private_key == NULL))
		set_err(st, tl,
		        "[tls] client_certificate and client_private_key: expected both or "
		        "neither");
	if (c->telemetry.socket && c->telemetry.control_socket &&
	    strcmp(c->telemetry.socket, c->telemetry.control_socket) == 0)
		set_err(st, sect_line(st, S_TELEMETRY),
		        "[telemetry] socket and control_socket: expected two different paths");

	if (c->ntrunks == 0)
		set_err(st, 0, "no [trunk NAME] section: expected at least one trunk");
	if (c->nagents == 0)
		set_err(st, 0, "no [agent NAME] section: expected at least one agent");

	for (size_t i = 0; i < st->nsects; i++) {
		const struct sect *s = &st->sects[i];
		if (s->kind == S_AGENT) {
			const struct conf_agent *a = &c->agents[(uintptr_t)s->obj];
			if ((a->client_certificate == NULL) != (a->client_private_key == NULL))
				set_err(st, s->line,
				        "[%s] client_certificate and client_private_key: expected "
				        "both or neither",
				        s->label);
			if (a->verify && c->tls.ca_file == NULL)
				set_err(st, s->line,
				        "[%s] verify = yes: expected [tls] ca_file to verify the "
				        "agent "
				        "against",
				        s->label);
		} else if (s->kind == S_TRUNK) {
			const struct conf_trunk *t = &c->trunks[(uintptr_t)s->obj];
			/* An address must name one trunk: first-match on overlaps is a trap. */
			for (size_t j = 0; j < i; j++) {
				const struct sect *o = &st->sects[j];
				const struct conf_trunk *u;
				if (o->kind != S_TRUNK)
					continue;
				u = &c->trunks[(uintptr_t)o->obj];
				for (size_t x = 0; x < t->nsources; x++)
					for (size_t y = 0; y < u->nsources; y++)
						if (cidr_overlap(&t->sources[x], &u->sources[y]))
							set_err(st, s->line,
							        "[%s] source: overlaps the "
							        "sources of [trunk %s]",
							        s->label, u->name);
			}
		}
	}
}

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
	c->telemetry.socket_mode = 0660;
	c->telemetry.interim_interval_s = 0;
	c->telemetry.queue_limit = 1024;
	c->telemetry.control_mode = 0600;
	c->pool.policy = AGENT_LEAST_BUSY;
	c->pool.probe_interval_ms = 5000;
	c->pool.probe_failures = 2;
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
	if (c == NULL || dir == NULL || (c->path = strdup(path)) == NULL) {
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
	EVP_Digest(buf, len, c->sha256, NULL, EVP_sha256(), NULL);
	set_defaults(c);

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.dir = dir;
	st.buf = buf;
	st.len = len;
	st.err_line = -1;

	rc = ini_parse_stream(reader, &st, handler, &st);
	if (rc > 0)
		set_err(&st, rc, "syntax error: expected [section], key = value, or a comment");
	else if (rc < 0)
		set_err(&st, 0, "cannot parse (error %d)", rc);
	if (st.err_line < 0)
		check_required(&st);
	if (st.err_line < 0)
		check_cross(&st);

	if (st.ssl)
		SSL_CTX_free(st.ssl);
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
	free(c);
}

static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

void
conf_print(const struct conf *c, FILE *out)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	char a[INET6_ADDRSTRLEN + 16];

	fprintf(out, "config %s (sha256 ", c->path);
	for (size_t i = 0; i < sizeof(c->sha256); i++)
		fprintf(out, "%02x", c->sha256[i]);
	fprintf(out, ")\n");
	fprintf(out, "log: %s%s\n", levels[c->log_level], c->log_syslog ? ", syslog" : "");
	fprintf(out, "tls: listen %s, TLS >= %s, max %u connections, handshake %ums, idle %ums\n",
	        conf_sockaddr_str(&c->tls.listen, a, sizeof(a)),
	        c->tls.min_version == TLS1_3_VERSION ? "1.3" : "1.2", c->tls.max_connections,
	        c->tls.handshake_timeout_ms, c->tls.idle_timeout_ms);
	fprintf(out, "  certificate %s\n  private key %s\n  ca_file %s\n", c->tls.certificate,
	        c->tls.private_key, str_or(c->tls.ca_file, "(none)"));
	if (c->tls.client_certificate != NULL)
		fprintf(out, "  client certificate %s (key %s)\n", c->tls.client_certificate,
		        c->tls.client_private_key);
	fprintf(out, "sip: hostname %s, max message %u bytes, %u headers, line %u bytes\n",
	        str_or(c->sip.hostname, "(listen address)"), c->sip.max_message_size,
	        c->sip.max_headers, c->sip.max_line_length);
	fprintf(out, "media: %s (advertise %s), ports %u-%u, workers %s%u\n",
	        conf_sockaddr_str(&c->media.address, a, sizeof(a)),
	        str_or(c->media.advertise, "same"), c->media.port_min, c->media.port_max,
	        c->media.workers == 0 ? "one per core" : "",
	        c->media.workers ? c->media.workers : 0);
	fprintf(out, "  suites:");
	for (size_t i = 0; i < c->media.nsuites; i++)
		fprintf(out, " %s", conf_value_suite_name(c->media.suites[i]));
	fprintf(out, "\n  inactivity timeout %us, max call duration %us\n",
	        c->media.inactivity_timeout_s, c->media.max_call_duration_s);
	fprintf(out, "limits: max %u calls\n", c->limits.max_calls);
	fprintf(out, "telemetry: socket %s (mode %04o%s%s), interim %us, queue %u\n",
	        str_or(c->telemetry.socket, "(off)"), c->telemetry.socket_mode,
	        c->telemetry.socket_group ? ", group " : "", str_or(c->telemetry.socket_group, ""),
	        c->telemetry.interim_interval_s, c->telemetry.queue_limit);
	fprintf(out, "  control socket %s (mode %04o)\n",
	        str_or(c->telemetry.control_socket, "(off)"), c->telemetry.control_mode);
	fprintf(out, "pool: %s, probe every %ums, down after %u failures\n",
	        c->pool.policy == AGENT_ROUND_ROBIN ? "round_robin" : "least_busy",
	        c->pool.probe_interval_ms, c->pool.probe_failures);
	for (size_t i = 0; i < c->ntrunks; i++) {
		const struct conf_trunk *t = &c->trunks[i];
		fprintf(out, "trunk %s: source", t->name);
		for (size_t j = 0; j < t->nsources; j++) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(t->sources[j].family, t->sources[j].addr, ip, sizeof(ip));
			fprintf(out, "%s %s/%u", j ? "," : "", ip, t->sources[j].prefix);
		}
		fprintf(out, "\n  target %s, %s, crypto padding %s, max calls %u%s%s%s\n",
		        t->target.len ? conf_sockaddr_str(&t->target, a, sizeof(a)) : "(none)",
		        t->legacy_rtp ? "plain RTP allowed (legacy)" : "SRTP required",
		        t->crypto_pad ? "yes" : "no", t->max_calls,
		        t->ca_file ? ", client CA " : "", str_or(t->ca_file, ""),
		        t->has_fingerprint ? ", pinned fingerprint" : "");
		if (t->pass_headers != NULL) {
			fprintf(out, "  pass headers:");
			for (size_t j = 0; t->pass_headers[j] != NULL; j++)
				fprintf(out, " %s", t->pass_headers[j]);
			fprintf(out, "\n");
		}
	}
	for (size_t i = 0; i < c->nagents; i++) {
		const struct conf_agent *ag = &c->agents[i];
		fprintf(out, "agent %s: %s over TLS, server name %s, weight %u, verify %s%s%s\n",
		        ag->name, conf_sockaddr_str(&ag->address, a, sizeof(a)),
		        str_or(ag->server_name, "(address)"), ag->weight, ag->verify ? "yes" : "NO",
		        ag->client_certificate ? ", client certificate " : "",
		        str_or(ag->client_certificate, ""));
	}
}
