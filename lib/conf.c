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
 * in conf_print.c.
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
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conf_field.h"
#include "conf_keys.h"
#include "conf_value.h"

#define CONF_MAX_FILE      (1024 * 1024)
#define CONF_MAX_TRUNKS    256
#define CONF_MAX_AGENTS    256
#define CONF_MAX_TRANSFERS 256

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
	struct conf_field_ctx fctx; /* for conf_field_parse() */
	const char *buf;
	size_t len, pos;
	int line; /* line last handed to inih */
	struct sect *sects;
	size_t nsects;
	bool in_bad_sect; /* keys after an unknown section header are not reported again */
	int err_line;     /* -1: no error yet */
	char err[CONF_ERR_MAX];
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
	for (k = 0; k < CONF_KEYS_NSECT; k++)
		if (strcmp(text, conf_keys_sect_name((enum sect_kind)k)) == 0)
			break;
	if (k == CONF_KEYS_NSECT) {
		set_err(st, line,
		        "unknown section [%s]: expected general, tls, sip, media, limits, "
		        "telemetry, pool, trunk NAME, agent NAME, admission, metrics, cluster or "
		        "transfer NAME",
		        text);
		return;
	}
	if (k == S_TRUNK || k == S_AGENT || k == S_TRANSFER) {
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
		if (k == S_TRANSFER && strcmp(c->transfers[(uintptr_t)o->obj].name, name) == 0) {
			set_err(st, line,
			        "[transfer %s]: duplicate transfer name (first at line %d)", name,
			        o->line);
			return;
		}
		if (k != S_TRUNK && k != S_AGENT && k != S_TRANSFER) {
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
	case S_TRANSFER: {
		struct conf_transfer *nx;
		if (c->ntransfers == CONF_MAX_TRANSFERS) {
			set_err(st, line, "too many transfers (at most %d)", CONF_MAX_TRANSFERS);
			return;
		}
		nx = realloc(c->transfers, (c->ntransfers + 1) * sizeof(*nx));
		if (nx == NULL) {
			set_err(st, line, "out of memory");
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
		set_err(st, st->line, "'%s' outside a section: expected a [section] first", name);
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
		set_err(st, st->line, "[%s] unknown key '%s': expected one of %s", s->label, name,
		        list);
		return 0;
	}
	if (s->seen & (1ULL << i)) {
		set_err(st, st->line, "[%s] %s: duplicate key", s->label, name);
		return 0;
	}
	s->seen |= 1ULL << i;
	if (conf_field_parse(&st->fctx, &keys[i], (char *)sect_obj(st, s) + keys[i].off, value, why,
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
		const struct conf_keydef *keys = conf_keys_of(s->kind);
		for (size_t k = 0; keys[k].name != NULL; k++)
			if (keys[k].required && !(s->seen & (1ULL << k)))
				set_err(st, s->line, "[%s] %s is required", s->label, keys[k].name);
	}
	if (find_sect(st, S_TLS) == NULL)
		set_err(st, 0, "[tls] is required (certificate and private_key)");
}

/* [cluster]: the Redis address, names that go into Redis keys, the failure mode. */
static void
check_cluster(struct pstate *st)
{
	struct conf_cluster *k = &st->c->cluster;
	int line = sect_line(st, S_CLUSTER);
	char host[256];

	if (k->redis == NULL)
		return;
	if (k->redis[0] == '/') {
		if (strlen(k->redis) >= 108)
			set_err(st, line,
			        "[cluster] redis: Unix socket path longer than 107 bytes");
	} else if (conf_sockaddr_parse(k->redis, 6379, &k->addr) != 0) {
		set_err(st, line,
		        "[cluster] redis: expected host:port (an IP address) or an absolute Unix "
		        "socket path, got '%s'",
		        k->redis);
	}
	if (k->instance == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		if (!name_ok(host)) {
			set_err(st, line,
			        "[cluster] instance: the host name is not a usable instance name; "
			        "expected instance = NAME");
			return;
		}
		k->instance = strdup(host);
	} else if (!name_ok(k->instance)) {
		set_err(st, line,
		        "[cluster] instance: expected 1..%d letters, digits, '-', '_' or '.', got "
		        "'%s'",
		        CONF_NAME_MAX - 1, k->instance);
	}
	if (k->prefix == NULL)
		k->prefix = strdup("sipwarden");
	else if (!name_ok(k->prefix))
		set_err(st, line,
		        "[cluster] prefix: expected 1..%d letters, digits, '-', '_' or '.', got "
		        "'%s'",
		        CONF_NAME_MAX - 1, k->prefix);
	if (k->on_store_failure == NULL || strcmp(k->on_store_failure, "local") == 0)
		k->refuse_on_failure = false;
	else if (strcmp(k->on_store_failure, "refuse") == 0)
		k->refuse_on_failure = true;
	else
		set_err(st, line, "[cluster] on_store_failure: expected local or refuse, got '%s'",
		        k->on_store_failure);
	if (k->instance == NULL || k->prefix == NULL)
		set_err(st, line, "out of memory");
	if (k->password != NULL && (k->password[0] == '\0' || strpbrk(k->password, " \t") != NULL))
		set_err(st, line, "[cluster] password: expected a non-empty value without blanks");
}

/* Cross-field rules. Each names the line of its section header (0 when absent). */
static void
check_cross(struct pstate *st)
{
	struct conf *c = st->c;
	const struct conf_media *m = &c->media;
	int ml = sect_line(st, S_MEDIA), tl = sect_line(st, S_TLS);
	const char *why;
	char buf[256];

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
	if (c->sip.session_expires_s != 0 &&
	    c->sip.session_expires_s < c->sip.min_session_expires_s)
		set_err(st, sect_line(st, S_SIP),
		        "[sip] session_expires: expected 0 (off) or at least min_session_expires "
		        "(%u), got %u",
		        c->sip.min_session_expires_s, c->sip.session_expires_s);
	if ((c->tls.client_certificate == NULL) != (c->tls.client_private_key == NULL))
		set_err(st, tl,
		        "[tls] client_certificate and client_private_key: expected both or "
		        "neither");
	if (c->telemetry.socket && c->telemetry.control_socket &&
	    strcmp(c->telemetry.socket, c->telemetry.control_socket) == 0)
		set_err(st, sect_line(st, S_TELEMETRY),
		        "[telemetry] socket and control_socket: expected two different paths");

	/* Plain HTTP without authentication: loopback only unless the operator says so. */
	if (c->metrics.listen.len > 0 && !c->metrics.allow_remote &&
	    !conf_sockaddr_is_loopback(&c->metrics.listen)) {
		char a[INET6_ADDRSTRLEN + 8];
		set_err(st, sect_line(st, S_METRICS),
		        "[metrics] listen: expected a loopback address (127.0.0.0/8, [::1]) "
		        "unless allow_remote = yes, got %s",
		        conf_sockaddr_str(&c->metrics.listen, a, sizeof(a)));
	}

	if (c->admission.reserved_connections == UINT_MAX) /* not set: a quarter */
		c->admission.reserved_connections = c->tls.max_connections / 4;
	else if (c->admission.reserved_connections > c->tls.max_connections)
		set_err(st, sect_line(st, S_ADMISSION),
		        "[admission] reserved_connections: expected at most [tls] max_connections "
		        "(%u), got %u",
		        c->tls.max_connections, c->admission.reserved_connections);

	check_cluster(st);

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
		} else if (s->kind == S_TRANSFER) {
			/* one match, one destination: the first of two would silently win */
			const struct conf_transfer *x = &c->transfers[(uintptr_t)s->obj];
			for (size_t j = 0; j < i; j++) {
				const struct sect *o = &st->sects[j];
				if (o->kind == S_TRANSFER && x->match != NULL &&
				    strcmp(c->transfers[(uintptr_t)o->obj].match, x->match) == 0)
					set_err(st, s->line,
					        "[%s] match: the same as [%s] (line %d)", s->label,
					        o->label, o->line);
			}
			if ((why = conf_transfer_check(c, x, buf, sizeof(buf))) != NULL)
				set_err(st, s->line, "[%s] %s", s->label, why);
		} else if (s->kind == S_TRUNK) {
			const struct conf_trunk *t = &c->trunks[(uintptr_t)s->obj];
			if ((why = conf_transfer_check_trunk(c, t, buf, sizeof(buf))) != NULL)
				set_err(st, s->line, "[%s] %s", s->label, why);
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
	c->drain_timeout_s = 0; /* SIGTERM ends calls at once; `sipwardenctl drain` is the
	                           graceful way, or set drain_timeout */
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
	c->limits.max_loop_lag_ms = 250;
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
	st.fctx.c = c;
	st.fctx.dir = dir;
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
