/*
 * conf_value.c: value parsers for the config reader, and the address helpers of conf.h.
 *
 * Responsible for turning one INI value into a typed value (booleans, integers, sizes,
 * durations, modes, addresses, CIDR lists, fingerprints, header lists, SRTP suite lists)
 * and for the shared address helpers (conf_sockaddr_*, conf_cidr_match,
 * conf_trunk_by_source). Not responsible for ranges, defaults or file checks (conf.c).
 * No DNS: every address is a numeric literal, so loading a config never waits on the
 * network.
 */
#include "conf_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
conf_value_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal digits in v[0..n) into *out (<= 2^32-1). */
static int
digits(const char *v, size_t n, int base, unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] >= '0' + base)
			return -EINVAL;
		x = x * (unsigned)base + (unsigned)(v[i] - '0');
		if (x > 0xffffffffULL)
			return -ERANGE;
	}
	*out = x;
	return 0;
}

int
conf_value_uint(const char *v, unsigned long *out)
{
	unsigned long long x;
	int rc = digits(v, strlen(v), 10, &x);

	if (rc == 0)
		*out = (unsigned long)x;
	return rc;
}

int
conf_value_size(const char *v, unsigned long *out)
{
	size_t n = strlen(v);
	unsigned long long x, mult = 1;
	int rc;

	if (n > 0 && (v[n - 1] == 'k' || v[n - 1] == 'K')) {
		mult = 1024;
		n--;
	}
	if ((rc = digits(v, n, 10, &x)) < 0)
		return rc;
	if (x * mult > 0xffffffffULL)
		return -ERANGE;
	*out = (unsigned long)(x * mult);
	return 0;
}

int
conf_value_duration_ms(const char *v, unsigned long long *out)
{
	size_t n = 0, len = strlen(v);
	unsigned long long x, mult;
	const char *unit;
	int rc;

	while (n < len && v[n] >= '0' && v[n] <= '9')
		n++;
	unit = v + n;
	if (*unit == '\0' || strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "m") == 0)
		mult = 60000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600000;
	else
		return -EINVAL;
	if ((rc = digits(v, n, 10, &x)) < 0)
		return rc;
	*out = x * mult;
	return 0;
}

int
conf_value_mode(const char *v, unsigned long *out)
{
	unsigned long long x;
	size_t n = strlen(v);
	int rc;

	if (n > 4)
		return -EINVAL;
	if ((rc = digits(v, n, 8, &x)) < 0)
		return rc;
	*out = (unsigned long)x;
	return 0;
}

/* Parse an IP literal s[0..n) into out (port 0). */
static int
ip_literal(const char *s, size_t n, struct conf_sockaddr *out)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strchr(tmp, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		if (inet_pton(AF_INET, tmp, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		out->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		if (inet_pton(AF_INET6, tmp, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		out->len = sizeof(*sin6);
	}
	return 0;
}

int
conf_value_ip(const char *v, struct conf_sockaddr *out)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
		return ip_literal(v + 1, n - 2, out);
	return ip_literal(v, n, out);
}

static void
set_port(struct conf_sockaddr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

int
conf_sockaddr_parse(const char *s, uint16_t default_port, struct conf_sockaddr *out)
{
	struct conf_sockaddr a;
	const char *host = s, *port = NULL, *colon;
	size_t hlen, n = strlen(s);
	unsigned long long p = default_port;

	if (n > 0 && s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		if (memchr(host, ':', hlen) == NULL)
			return -EINVAL; /* brackets are for IPv6 */
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - s);
		port = colon + 1;
	} else {
		hlen = n; /* IPv4 without port, or bare IPv6 without port */
	}
	if (ip_literal(host, hlen, &a) < 0)
		return -EINVAL;
	if (port != NULL && (digits(port, strlen(port), 10, &p) < 0 || p == 0 || p > 65535))
		return -EINVAL;
	set_port(&a, (uint16_t)p);
	*out = a;
	return 0;
}

const char *
conf_sockaddr_str(const struct conf_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a == NULL || a->len == 0) {
		snprintf(buf, len, "-");
	} else if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	return buf;
}

bool
conf_sockaddr_is_loopback(const struct conf_sockaddr *a)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (a->len == 0)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
		const uint8_t *b = sin6->sin6_addr.s6_addr;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		       (memcmp(b, v4mapped, sizeof(v4mapped)) == 0 && b[12] == 127);
	}
	return false;
}

bool
conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *addr;
	int family;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		family = AF_INET6;
		addr = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) { /* ::ffff:192.0.2.1 is 192.0.2.1 */
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	if (family != c->family)
		return false;
	for (unsigned i = 0; i < c->prefix; i++) {
		unsigned m = 0x80u >> (i % 8);
		if ((addr[i / 8] & m) != (c->addr[i / 8] & m))
			return false;
	}
	return true;
}

const struct conf_trunk *
conf_trunk_by_source(const struct conf *c, const struct sockaddr *sa)
{
	for (size_t i = 0; i < c->ntrunks; i++)
		for (size_t j = 0; j < c->trunks[i].nsources; j++)
			if (conf_cidr_match(&c->trunks[i].sources[j], sa))
				return &c->trunks[i];
	return NULL;
}

bool
conf_value_hostname_ok(const char *v)
{
	size_t n = strlen(v);
	struct conf_sockaddr a;

	if (conf_value_ip(v, &a) == 0)
		return true;
	if (n == 0 || n > 253 || v[0] == '.' || v[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '.')
			return false;
	return true;
}

/* Split a comma list: calls fn for each trimmed, non-empty item; empty items are errors. */
static int
each_item(const char *v, int (*fn)(const char *item, size_t n, void *arg), void *arg)
{
	const char *p = v;
	int rc;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n;
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0)
			return -EINVAL;
		if ((rc = fn(p, n, arg)) < 0)
			return rc;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

struct suites_arg {
	enum srtp_suite *out;
	size_t n;
	char *why;
	size_t wl;
};

static int
suite_item(const char *s, size_t n, void *arg)
{
	struct suites_arg *a = arg;
	const struct suite_info *si;
	enum srtp_suite id;

	id = suite_by_name(s, n);
	if ((si = suite_info(id)) == NULL) {
		snprintf(a->why, a->wl,
		         "unknown suite '%.*s': expected AES_CM_128_HMAC_SHA1_80, "
		         "AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, "
		         "AES_256_CM_HMAC_SHA1_32, "
		         "AEAD_AES_128_GCM or AEAD_AES_256_GCM",
		         (int)n, s);
		return -EINVAL;
	}
	if (!si->usable) {
		snprintf(a->why, a->wl, "suite %s refused: %s", si->name, si->unusable);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->out[i] == id) {
			snprintf(a->why, a->wl, "suite %s listed twice", si->name);
			return -EINVAL;
		}
	}
	a->out[a->n++] = id;
	return 0;
}

int
conf_value_suites(const char *v, enum srtp_suite *out, size_t *n, char *why, size_t wl)
{
	enum srtp_suite tmp[SUITE_COUNT];
	struct suites_arg a = {tmp, 0, why, wl};
	int rc;

	snprintf(why, wl, "expected a comma-separated list of SRTP suites, got '%s'", v);
	if ((rc = each_item(v, suite_item, &a)) < 0)
		return rc;
	memcpy(out, tmp, a.n * sizeof(tmp[0]));
	out[a.n] = SUITE_NONE;
	*n = a.n;
	return 0;
}

struct cidrs_arg {
	struct conf_cidr *list;
	size_t n;
	char *why;
	size_t wl;
};

static int
cidr_item(const char *s, size_t n, void *arg)
{
	struct cidrs_arg *a = arg;
	struct conf_cidr c = {0}, *nl;
	struct conf_sockaddr sa;
	const char *slash = memchr(s, '/', n);
	size_t hl = slash ? (size_t)(slash - s) : n;
	unsigned long long prefix;
	unsigned maxp;

	if (ip_literal(s, hl, &sa) < 0) {
		snprintf(a->why, a->wl,
		         "expected an address or CIDR (192.0.2.0/24, 2001:db8::/32), got '%.*s'",
		         (int)n, s);
		return -EINVAL;
	}
	c.family = sa.ss.ss_family;
	if (c.family == AF_INET)
		memcpy(c.addr, &((struct sockaddr_in *)&sa.ss)->sin_addr, 4);
	else
		memcpy(c.addr, &((struct sockaddr_in6 *)&sa.ss)->sin6_addr, 16);
	maxp = c.family == AF_INET ? 32 : 128;
	prefix = maxp;
	if (slash != NULL && (digits(slash + 1, n - hl - 1, 10, &prefix) < 0 || prefix > maxp)) {
		snprintf(a->why, a->wl, "expected a prefix length 0..%u in '%.*s'", maxp, (int)n,
		         s);
		return -EINVAL;
	}
	c.prefix = (uint8_t)prefix;
	for (unsigned i = c.prefix; i < maxp; i++) {
		if (c.addr[i / 8] & (0x80u >> (i % 8))) {
			snprintf(a->why, a->wl, "'%.*s' has host bits set beyond /%u", (int)n, s,
			         c.prefix);
			return -EINVAL;
		}
	}
	nl = realloc(a->list, (a->n + 1) * sizeof(*nl));
	if (nl == NULL) {
		snprintf(a->why, a->wl, "out of memory");
		return -ENOMEM;
	}
	a->list = nl;
	a->list[a->n++] = c;
	return 0;
}

int
conf_value_cidrs(const char *v, struct conf_cidr **out, size_t *n, char *why, size_t wl)
{
	struct cidrs_arg a = {NULL, 0, why, wl};
	int rc;

	snprintf(why, wl, "expected a comma-separated list of addresses or CIDRs, got '%s'", v);
	if ((rc = each_item(v, cidr_item, &a)) < 0) {
		free(a.list);
		return rc;
	}
	*out = a.list;
	*n = a.n;
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
conf_value_fingerprint(const char *v, uint8_t out[32])
{
	uint8_t tmp[32];
	size_t n = 0;
	bool colons = strchr(v, ':') != NULL;

	for (const char *p = v; *p;) {
		int hi, lo;
		if (n == 32)
			return -EINVAL;
		hi = hexval(p[0]);
		lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		tmp[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (colons && n < 32) {
			if (*p != ':')
				return -EINVAL;
			p++;
		}
	}
	if (n != 32)
		return -EINVAL;
	memcpy(out, tmp, 32);
	return 0;
}

struct headers_arg {
	char **v;
	size_t n;
	char *why;
	size_t wl;
};

static int
header_item(const char *s, size_t n, void *arg)
{
	struct headers_arg *a = arg;
	char **nv;

	if (n < 3 || strncasecmp(s, "X-", 2) != 0) {
		snprintf(a->why, a->wl,
		         "expected header names starting with \"X-\", got '%.*s' (other headers "
		         "never cross legs)",
		         (int)n, s);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') {
			snprintf(a->why, a->wl, "'%.*s' is not a header name", (int)n, s);
			return -EINVAL;
		}
	}
	nv = realloc(a->v, (a->n + 2) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	a->v = nv;
	a->v[a->n] = NULL;
	if ((a->v[a->n] = strndup(s, n)) == NULL)
		return -ENOMEM;
	a->v[++a->n] = NULL;
	return 0;
}

int
conf_value_headers(const char *v, char ***out, char *why, size_t wl)
{
	struct headers_arg a = {NULL, 0, why, wl};
	int rc;

	snprintf(why, wl, "expected a comma-separated list of X- header names, got '%s'", v);
	if ((rc = each_item(v, header_item, &a)) < 0) {
		conf_value_strv_free(a.v);
		return rc;
	}
	*out = a.v;
	return 0;
}

void
conf_value_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
