/*
 * sip_grammar.c: checks of peer-controlled SIP elements against their RFC 3261 / RFC
 * 3966 grammar (see sip_grammar.h). Byte-wise, no allocation (bounded stack copies), no locale.
 */
#include "sip_grammar.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
		               ? 4
		               : 0;
	}
	return 0;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* UTF-8 text without control characters; HTAB allowed when `tab`. */
static bool
clean_text(const char *s, size_t len, bool tab)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n;
		if (is_ctl(*p) && !(tab && *p == '\t'))
			return false;
		if ((n = utf8_seq(p)) == 0 || n > (size_t)(end - p))
			return false;
		p += n;
	}
	return true;
}

int
sip_grammar_user(const char *user, size_t max)
{
	size_t len;

	if (user == NULL || (len = strlen(user)) == 0)
		return -EINVAL;
	if (len > max)
		return -E2BIG;
	return clean_text(user, len, false) ? 0 : -EINVAL;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_visual_separator(unsigned char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 3261 paramchar without "%" (the value is already un-escaped): param-unreserved,
 * unreserved. */
static bool
is_paramchar(unsigned char c)
{
	return is_alnum(c) || strchr("[]/:&+$-_.!~*'()", c) != NULL;
}

int
sip_grammar_phone(const char *user, size_t max)
{
	const unsigned char *p = (const unsigned char *)user;
	bool global, digit = false;
	size_t len;

	if (user == NULL || (len = strlen(user)) == 0)
		return -EINVAL;
	if (len > max)
		return -E2BIG;
	global = *p == '+';
	if (global)
		p++;
	for (; *p != '\0' && *p != ';'; p++) {
		if (global ? (*p >= '0' && *p <= '9') : (is_hex(*p) || *p == '*' || *p == '#'))
			digit = true;
		else if (!is_visual_separator(*p))
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	/* ;name or ;name=value, names and values of paramchars */
	while (*p == ';') {
		bool name = false, eq = false, value = false;
		for (p++; *p != '\0' && *p != ';'; p++) {
			if (*p == '=' && name && !eq)
				eq = true;
			else if (is_paramchar(*p))
				*(eq ? &value : &name) = true;
			else
				return -EINVAL;
		}
		if (!name || (eq && !value))
			return -EINVAL;
	}
	return 0;
}

int
sip_grammar_display_name(const char *dn)
{
	size_t len;

	if (dn == NULL || (len = strlen(dn)) == 0)
		return 0;
	if (!clean_text(dn, len, true))
		return -EINVAL;
	if (dn[0] == '"') {
		/* quoted-string: qdtext and quoted-pairs up to the closing quote, at the end */
		size_t i = 1;
		while (i < len && dn[i] != '"')
			i += dn[i] == '\\' && i + 1 < len ? 2 : 1;
		return i == len - 1 && len >= 2 ? 0 : -EINVAL;
	}
	/* Unquoted: RFC 3261 wants token *(LWS token), but PBXs send "Sales (2nd)" or
	 * UTF-8 unquoted and libosip2 takes it; the name goes back only to the peer that
	 * sent it, so what is refused is what would change where the value ends when it is
	 * written again: quotes, angle brackets, backslashes (and, above, control
	 * characters). */
	return strpbrk(dn, "\"<>\\") == NULL ? 0 : -EINVAL;
}

int
sip_grammar_header_value(const char *v, size_t max)
{
	size_t len;

	if (v == NULL)
		return -EINVAL;
	if ((len = strlen(v)) > max)
		return -E2BIG;
	return clean_text(v, len, true) ? 0 : -EINVAL;
}

int
sip_grammar_uri(const char *uri, size_t max)
{
	static const char marks[] = "-_.!~*'()%;/?:@&=+$,[]";
	const char *p, *at, *host, *end, *q;
	size_t digits = 0;

	if (uri == NULL)
		return -EINVAL;
	if (strlen(uri) > max)
		return -E2BIG;
	if (strncasecmp(uri, "sip:", 4) == 0)
		p = uri + 4;
	else if (strncasecmp(uri, "sips:", 5) == 0)
		p = uri + 5;
	else
		return -EINVAL;
	for (q = p; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && strchr(marks, *q) == NULL)
			return -EINVAL;
	/* "@" appears in no user part, parameter or header unescaped: at most one */
	if ((at = strchr(p, '@')) != NULL && strchr(at + 1, '@') != NULL)
		return -EINVAL;
	host = at != NULL ? at + 1 : p;
	end = host + strcspn(host, ";?");
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (rb == NULL || rb == host + 1)
			return -EINVAL;
		for (q = host + 1; q < rb; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				return -EINVAL;
		q = rb + 1;
	} else {
		for (q = host; q < end && (isalnum((unsigned char)*q) || *q == '-' || *q == '.');
		     q++)
			;
		if (q == host)
			return -EINVAL;
	}
	if (q < end && *q == ':')
		for (q++; q < end && isdigit((unsigned char)*q); q++)
			digits++;
	if (q != end || (q[-1] == ':' && digits == 0) || digits > 5)
		return -EINVAL;
	return 0;
}

/* RFC 3261 token characters. */
static bool
is_token_char(unsigned char c)
{
	return isalnum(c) || strchr("-.!%*_+`'~", c) != NULL;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* A generic-param value starting at p: token / host / quoted-string. Its end, or NULL. */
static const char *
param_value(const char *p, const char *end)
{
	const char *q = p;

	if (p < end && *p == '"') {
		for (q = p + 1; q < end && *q != '"'; q++)
			if (*q == '\\' && ++q == end)
				return NULL;
		return q < end ? q + 1 : NULL;
	}
	while (q < end && (is_token_char((unsigned char)*q) || strchr(":[]", *q) != NULL))
		q++;
	return q > p ? q : NULL;
}

int
sip_grammar_route(const char *v, size_t max)
{
	char uri[SIP_GRAMMAR_URI_MAX + 1];
	const char *lt, *gt, *p, *end;
	size_t len;

	if (v == NULL)
		return -EINVAL;
	if ((len = strlen(v)) > max)
		return -E2BIG;
	if (!clean_text(v, len, true))
		return -EINVAL;
	end = v + len;
	if ((lt = strchr(v, '<')) == NULL || (gt = strchr(lt, '>')) == NULL)
		return -EINVAL;
	if (lt > v) {
		/* the display name, without the blanks before "<" */
		char dn[SIP_GRAMMAR_URI_MAX + 1];
		const char *de = lt;
		while (de > v && (de[-1] == ' ' || de[-1] == '\t'))
			de--;
		if ((size_t)(de - v) >= sizeof(dn))
			return -E2BIG;
		memcpy(dn, v, (size_t)(de - v));
		dn[de - v] = '\0';
		/* a "<" inside a quoted name ends up here too: refused, not guessed at */
		if (sip_grammar_display_name(dn) != 0)
			return -EINVAL;
	}
	if ((size_t)(gt - lt - 1) >= sizeof(uri))
		return -E2BIG;
	memcpy(uri, lt + 1, (size_t)(gt - lt - 1));
	uri[gt - lt - 1] = '\0';
	if (sip_grammar_uri(uri, SIP_GRAMMAR_URI_MAX) != 0)
		return -EINVAL;
	for (p = skip_ws(gt + 1, end); p < end;) {
		const char *n;
		if (*p != ';')
			return -EINVAL;
		p = skip_ws(p + 1, end);
		for (n = p; p < end && is_token_char((unsigned char)*p); p++)
			;
		if (p == n)
			return -EINVAL;
		p = skip_ws(p, end);
		if (p < end && *p == '=') {
			if ((p = param_value(skip_ws(p + 1, end), end)) == NULL)
				return -EINVAL;
			p = skip_ws(p, end);
		}
	}
	return 0;
}
