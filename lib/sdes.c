/*
 * sdes.c: RFC 4568 a=crypto attributes for SRTP. Parses one attribute against the RFC
 * grammar and its MUST-level rules (suite key lengths from RFC 4568/6188/7714, lifetime,
 * MKI, several keys, session parameters), answers sipwarden's policy question
 * separately, and formats an attribute value from a struct srtp_keys. Base64 is decoded
 * and encoded here, strictly, so that key bytes only ever pass through buffers this file
 * wipes. Not responsible for the rest of SDP (sdp.c), for choosing a suite (the config
 * preference order) or for running SRTP (srtp_leg.c). Every refusal carries a static,
 * key-free reason that fits in a SIP Warning header and in telemetry.
 */
#include "sdes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* Longest attribute accepted (four keys with 128-octet MKIs plus parameters fit). */
#define SDES_LINE_MAX 4096
/* Largest lifetime: 2^48 SRTP packets (RFC 4568 s6.2, RFC 6188, RFC 7714). */
#define SDES_LIFETIME_MAX_EXP 48
#define SDES_TAG_MAX          999999999u

/* Reasons (static, no key material, no '"' so they can be quoted in a Warning). */
static const char R_TOO_LONG[] = "a=crypto line too long";
static const char R_BAD_CHAR[] = "a=crypto has control or non-ASCII characters";
static const char R_NOT_CRYPTO[] = "not an a=crypto attribute";
static const char R_TAG[] = "a=crypto tag missing or malformed";
static const char R_SUITE_SYNTAX[] = "a=crypto crypto-suite missing or malformed";
static const char R_SUITE_UNKNOWN[] = "unknown crypto-suite";
static const char R_NO_KEYPARAMS[] = "a=crypto key-params missing";
static const char R_EMPTY_KEYPARAM[] = "empty key-param";
static const char R_KEY_METHOD[] = "key method missing or not inline";
static const char R_BASE64[] = "bad base64 in key";
static const char R_KEY_LEN[] = "wrong key length for crypto-suite";
static const char R_KEYINFO_FIELDS[] = "too many fields in key-info";
static const char R_LIFETIME[] = "malformed key lifetime";
static const char R_LIFETIME_MAX[] = "key lifetime exceeds suite maximum";
static const char R_MKI[] = "malformed MKI";
static const char R_MKI_LEN[] = "MKI length out of range 1..128";
static const char R_MKI_FIT[] = "MKI value does not fit its length";
static const char R_TOO_MANY_KEYS[] = "too many master keys";
static const char R_MULTI_NO_MKI[] = "several master keys without MKI";
static const char R_MKI_LEN_DIFF[] = "MKI lengths differ between keys";
static const char R_MKI_DUP[] = "duplicate MKI value";
static const char R_KDR[] = "bad KDR (must be 1..24)";
static const char R_WSH[] = "bad WSH (must be 64 or more)";
static const char R_FEC_ORDER[] = "bad FEC_ORDER";
static const char R_FEC_KEY[] = "bad FEC_KEY";
static const char R_PARAM_DUP[] = "duplicate session parameter";
static const char R_PARAM_UNKNOWN[] = "unknown mandatory session parameter";

static const char P_NONE[] = "no usable a=crypto attribute";
static const char P_SUITE[] = "crypto-suite not supported (F8, AES-192)";
static const char P_UNENC_SRTP[] = "UNENCRYPTED_SRTP refused";
static const char P_UNENC_SRTCP[] = "UNENCRYPTED_SRTCP refused";
static const char P_UNAUTH_SRTP[] = "UNAUTHENTICATED_SRTP refused";
static const char P_MULTI_KEY[] = "more than one master key refused";
static const char P_KDR[] = "KDR refused (no SRTP re-keying)";
static const char P_FEC_KEY[] = "FEC_KEY refused";

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_suite_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

/* Does p[0..n) start with `lit`, compared case-insensitively? */
static bool
starts_ci(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && strncasecmp(p, lit, l) == 0;
}

static bool
equals_ci(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static const char *
memchr_c(const char *p, size_t n, char c)
{
	return memchr(p, c, n);
}

/*
 * Decimal without leading zeros, 1..maxdigits digits, value <= max. Zero is accepted
 * only when allow_zero. Returns true and sets *v.
 */
static bool
parse_dec(const char *p, size_t n, size_t maxdigits, uint64_t max, bool allow_zero, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > maxdigits || (n > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (x > max || (x == 0 && !allow_zero))
		return false;
	*v = x;
	return true;
}

static int
b64_value(char c)
{
	const char *q;

	if (c == '\0' || (q = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(q - b64_alphabet);
}

/*
 * Strict base64 (RFC 4648 s4 alphabet): '=' only as trailing padding, at most two, and
 * then the length is a multiple of 4; without padding a length of 4k+1 is refused and
 * 4k+2 / 4k+3 are completed as if padded. Unused low bits of the last character are
 * ignored, as RFC 4648 s3.5 allows decoders to. Decodes into out[0..want) only when the
 * decoded length is exactly `want`. Returns 0, -EILSEQ (bad base64) or -EMSGSIZE.
 */
static int
b64_decode(const char *p, size_t n, uint8_t *out, size_t want, bool *padded)
{
	size_t pad = 0, d, outlen, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
		pad++;
	d = n - pad;
	if (d == 0 || d % 4 == 1 || (pad > 0 && n % 4 != 0))
		return -EILSEQ;
	for (size_t i = 0; i < d; i++)
		if (b64_value(p[i]) < 0)
			return -EILSEQ;
	outlen = d / 4 * 3 + (d % 4 == 0 ? 0 : d % 4 - 1);
	if (outlen != want)
		return -EMSGSIZE;
	for (size_t i = 0; i < d; i++) {
		acc = (acc << 6) | (uint32_t)b64_value(p[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	OPENSSL_cleanse(&acc, sizeof(acc));
	*padded = pad > 0;
	return 0;
}

/* Encode in[0..n) into out (room for 4*ceil(n/3)+1); returns chars written, NUL added. */
static size_t
b64_encode(const uint8_t *in, size_t n, bool pad, char *out)
{
	size_t o = 0, i = 0;
	uint32_t v = 0;

	for (; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	OPENSSL_cleanse(&v, sizeof(v));
	return o;
}

/* "2^n" or decimal, non-zero, no leading zeros, at most 2^48. */
static const char *
parse_lifetime(const char *p, size_t n, uint64_t *out)
{
	uint64_t v;

	if (n >= 2 && p[0] == '2' && p[1] == '^') {
		if (!parse_dec(p + 2, n - 2, 2, 99, true, &v))
			return R_LIFETIME;
		if (v > SDES_LIFETIME_MAX_EXP)
			return R_LIFETIME_MAX;
		*out = (uint64_t)1 << v;
		return NULL;
	}
	if (n == 0 || p[0] == '0')
		return R_LIFETIME;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return R_LIFETIME;
	/* 2^48 has 15 digits: longer is too large, shorter cannot overflow */
	if (n > 15 || !parse_dec(p, n, 15, (uint64_t)1 << SDES_LIFETIME_MAX_EXP, false, &v))
		return R_LIFETIME_MAX;
	*out = v;
	return NULL;
}

/* "value:length": value a positive decimal stored big-endian in `length` (1..128) bytes. */
static const char *
parse_mki(const char *p, size_t n, struct srtp_keys *k)
{
	const char *colon = memchr_c(p, n, ':');
	size_t vlen;
	uint64_t len;

	if (colon == NULL)
		return R_MKI;
	vlen = (size_t)(colon - p);
	if (!parse_dec(colon + 1, n - vlen - 1, 3, 999, true, &len))
		return R_MKI;
	if (len < 1 || len > SUITE_MAX_MKI_LEN)
		return R_MKI_LEN;
	if (vlen == 0 || p[0] == '0')
		return R_MKI;
	memset(k->mki, 0, sizeof(k->mki));
	for (size_t i = 0; i < vlen; i++) {
		unsigned carry;

		if (!is_digit(p[i]))
			return R_MKI;
		carry = (unsigned)(p[i] - '0');
		for (size_t j = len; j-- > 0;) {
			unsigned x = k->mki[j] * 10u + carry;
			k->mki[j] = (uint8_t)x;
			carry = x >> 8;
		}
		if (carry != 0)
			return R_MKI_FIT;
	}
	k->mki_len = (uint8_t)len;
	return NULL;
}

/*
 * One key-param "inline:KEY||SALT[|lifetime][|mki:len]" into k (suite and tag set by the
 * caller). Lifetime, when given, is stored in *lifetime.
 */
static const char *
parse_key_param(const char *p, size_t n, const struct suite_info *si, struct srtp_keys *k,
                uint64_t *lifetime, bool *padded)
{
	uint8_t ks[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN];
	const char *f[3] = {NULL, NULL, NULL}, *end = p + n, *why = NULL;
	size_t fl[3] = {0, 0, 0}, nf = 0;
	int rc;

	if (n == 0)
		return R_EMPTY_KEYPARAM;
	if (!starts_ci(p, n, "inline:"))
		return R_KEY_METHOD;
	p += 7;
	/* split key-info at '|' */
	for (;;) {
		const char *bar = memchr_c(p, (size_t)(end - p), '|');
		const char *fe = bar ? bar : end;

		if (nf == 3)
			return R_KEYINFO_FIELDS;
		f[nf] = p;
		fl[nf++] = (size_t)(fe - p);
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	rc = b64_decode(f[0], fl[0], ks, (size_t)si->key_len + si->salt_len, padded);
	if (rc != 0)
		return rc == -EMSGSIZE ? R_KEY_LEN : R_BASE64;
	memcpy(k->key, ks, si->key_len);
	memcpy(k->salt, ks + si->key_len, si->salt_len);
	OPENSSL_cleanse(ks, sizeof(ks));

	*lifetime = 0;
	if (nf >= 2) {
		if (memchr_c(f[1], fl[1], ':') != NULL) {
			if (nf == 3)
				return R_KEYINFO_FIELDS;
			why = parse_mki(f[1], fl[1], k);
		} else {
			why = parse_lifetime(f[1], fl[1], lifetime);
			if (why == NULL && nf == 3)
				why = parse_mki(f[2], fl[2], k);
		}
	}
	return why;
}

/*
 * key-params: key-param *(";" key-param), all for suite si. Fills keys[0..*nkeys) and the
 * smallest lifetime given (0 if none). Enforces RFC 4568 s6.1 on several keys.
 */
static const char *
parse_key_params(const char *p, size_t n, const struct suite_info *si, uint32_t tag,
                 struct srtp_keys *keys, unsigned *nkeys, uint64_t *lifetime, bool *padded)
{
	const char *end = p + n, *why;
	unsigned nk = 0;

	*lifetime = 0;
	for (;;) {
		const char *semi = memchr_c(p, (size_t)(end - p), ';');
		const char *ke = semi ? semi : end;
		uint64_t lt = 0;
		bool pd = false;

		if (nk == SDES_MAX_KEYS)
			return R_TOO_MANY_KEYS;
		keys[nk].suite = si->id;
		keys[nk].tag = tag;
		why = parse_key_param(p, (size_t)(ke - p), si, &keys[nk], &lt, &pd);
		nk++;
		*nkeys = nk;
		if (why != NULL)
			return why;
		if (nk == 1)
			*padded = pd;
		if (lt != 0 && (*lifetime == 0 || lt < *lifetime))
			*lifetime = lt;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	if (nk > 1) {
		for (unsigned i = 0; i < nk; i++) {
			if (keys[i].mki_len == 0)
				return R_MULTI_NO_MKI;
			if (keys[i].mki_len != keys[0].mki_len)
				return R_MKI_LEN_DIFF;
			for (unsigned j = 0; j < i; j++)
				if (memcmp(keys[i].mki, keys[j].mki, keys[i].mki_len) == 0)
					return R_MKI_DUP;
		}
	}
	return NULL;
}

/* One session parameter (RFC 4568 s6.3). */
static const char *
parse_session_param(const char *p, size_t n, struct sdes_crypto *c, const struct suite_info *si,
                    unsigned *seen)
{
	enum {
		S_UE_SRTP = 1,
		S_UE_SRTCP = 2,
		S_UA_SRTP = 4,
		S_KDR = 8,
		S_WSH = 16,
		S_FEC_ORDER = 32,
		S_FEC_KEY = 64
	};
	unsigned bit;
	uint64_t v;

	if (equals_ci(p, n, "UNENCRYPTED_SRTP")) {
		bit = S_UE_SRTP;
		c->unencrypted_srtp = true;
	} else if (equals_ci(p, n, "UNENCRYPTED_SRTCP")) {
		bit = S_UE_SRTCP;
		c->unencrypted_srtcp = true;
	} else if (equals_ci(p, n, "UNAUTHENTICATED_SRTP")) {
		bit = S_UA_SRTP;
		c->unauthenticated_srtp = true;
	} else if (starts_ci(p, n, "KDR=")) {
		bit = S_KDR;
		if (!parse_dec(p + 4, n - 4, 2, 24, false, &v))
			return R_KDR;
		c->kdr = (unsigned)v;
	} else if (starts_ci(p, n, "WSH=")) {
		bit = S_WSH;
		if (n - 4 < 2 || !parse_dec(p + 4, n - 4, 9, 999999999, false, &v) || v < 64)
			return R_WSH;
		c->wsh = (unsigned)v;
	} else if (starts_ci(p, n, "FEC_ORDER=")) {
		bit = S_FEC_ORDER;
		if (equals_ci(p + 10, n - 10, "SRTP_FEC"))
			c->fec_order_srtp_fec = true;
		else if (!equals_ci(p + 10, n - 10, "FEC_SRTP"))
			return R_FEC_ORDER;
	} else if (starts_ci(p, n, "FEC_KEY=")) {
		struct srtp_keys fk[SDES_MAX_KEYS];
		unsigned nfk = 0;
		uint64_t lt = 0;
		bool pd = false;
		const char *why;

		bit = S_FEC_KEY;
		memset(fk, 0, sizeof(fk));
		why = parse_key_params(p + 8, n - 8, si, c->tag, fk, &nfk, &lt, &pd);
		OPENSSL_cleanse(fk, sizeof(fk));
		if (why != NULL)
			return R_FEC_KEY;
		c->has_fec_key = true;
	} else if (n > 1 && p[0] == '-') {
		return NULL; /* optional extension: MAY be ignored (s6.3.7) */
	} else {
		return R_PARAM_UNKNOWN;
	}
	if (*seen & bit)
		return R_PARAM_DUP;
	*seen |= bit;
	return NULL;
}

static const char *
parse_value(const char *p, const char *end, struct sdes_crypto *c)
{
	const struct suite_info *si;
	const char *q, *why;
	uint64_t tag;
	unsigned seen = 0;

	/* tag */
	for (q = p; q < end && is_digit(*q); q++)
		;
	if (q == end || !is_wsp(*q) || !parse_dec(p, (size_t)(q - p), 9, SDES_TAG_MAX, true, &tag))
		return R_TAG;
	c->tag = (uint32_t)tag;
	while (q < end && is_wsp(*q))
		q++;

	/* crypto-suite */
	for (p = q; q < end && !is_wsp(*q); q++)
		;
	if (q == p)
		return R_SUITE_SYNTAX;
	for (const char *r = p; r < q; r++)
		if (!is_suite_char(*r))
			return R_SUITE_SYNTAX;
	if ((size_t)(q - p) >= sizeof(c->suite_name) ||
	    (c->suite = suite_by_name(p, (size_t)(q - p))) == SUITE_NONE)
		return R_SUITE_UNKNOWN;
	memcpy(c->suite_name, p, (size_t)(q - p));
	c->suite_name[q - p] = '\0';
	si = suite_info(c->suite);
	while (q < end && is_wsp(*q))
		q++;

	/* key-params */
	if (q == end)
		return R_NO_KEYPARAMS;
	for (p = q; q < end && !is_wsp(*q); q++)
		;
	why = parse_key_params(p, (size_t)(q - p), si, c->tag, c->keys, &c->nkeys, &c->lifetime,
	                       &c->was_padded);
	if (why != NULL)
		return why;

	/* session parameters */
	for (;;) {
		while (q < end && is_wsp(*q))
			q++;
		if (q == end)
			break;
		for (p = q; q < end && !is_wsp(*q); q++)
			;
		why = parse_session_param(p, (size_t)(q - p), c, si, &seen);
		if (why != NULL)
			return why;
	}
	return NULL;
}

int
sdes_parse(const char *s, size_t len, struct sdes_crypto *out, const char **why)
{
	const char *reason, *end, *dummy;

	if (why == NULL)
		why = &dummy;
	if (out == NULL) {
		*why = R_NOT_CRYPTO;
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (s == NULL) {
		*why = R_NOT_CRYPTO;
		return -EINVAL;
	}
	if (len > SDES_LINE_MAX) {
		*why = R_TOO_LONG;
		return -EINVAL;
	}
	/* a caller may hand over the line with its end-of-line */
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(ch == ' ' || ch == '\t' || (ch >= 0x21 && ch <= 0x7e))) {
			*why = R_BAD_CHAR;
			return -EINVAL;
		}
	}
	end = s + len;
	if (len >= 9 && memcmp(s, "a=crypto:", 9) == 0)
		s += 9;
	else if (len >= 7 && memcmp(s, "crypto:", 7) == 0)
		s += 7;
	else if (len >= 2 && s[0] == 'a' && s[1] == '=') {
		*why = R_NOT_CRYPTO;
		return -EINVAL;
	}
	reason = parse_value(s, end, out);
	if (reason != NULL) {
		sdes_crypto_wipe(out);
		*why = reason;
		return -EINVAL;
	}
	return 0;
}

int
sdes_check_policy(const struct sdes_crypto *c, const char **why)
{
	const struct suite_info *si;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (c == NULL || c->nkeys == 0 || (si = suite_info(c->suite)) == NULL) {
		*why = P_NONE;
		return -EPERM;
	}
	if (!si->usable)
		*why = P_SUITE;
	else if (c->unencrypted_srtp)
		*why = P_UNENC_SRTP;
	else if (c->unencrypted_srtcp)
		*why = P_UNENC_SRTCP;
	else if (c->unauthenticated_srtp)
		*why = P_UNAUTH_SRTP;
	else if (c->nkeys > 1)
		*why = P_MULTI_KEY;
	else if (c->kdr != 0)
		*why = P_KDR;
	else if (c->has_fec_key)
		*why = P_FEC_KEY;
	else
		return 0;
	return -EPERM;
}

/* Decimal of the big-endian mki[0..len) into out (NUL-terminated); 0 if the value is 0. */
static size_t
mki_to_dec(const uint8_t *mki, size_t len, char *out, size_t outsz)
{
	uint8_t n[SUITE_MAX_MKI_LEN];
	char rev[320];
	size_t nd = 0;
	bool nonzero = true;

	memcpy(n, mki, len);
	while (nonzero) {
		unsigned rem = 0;

		nonzero = false;
		for (size_t i = 0; i < len; i++) {
			unsigned x = rem * 256u + n[i];
			n[i] = (uint8_t)(x / 10);
			rem = x % 10;
			if (n[i] != 0)
				nonzero = true;
		}
		rev[nd++] = (char)('0' + rem);
	}
	if (nd == 1 && rev[0] == '0')
		return 0;
	if (nd + 1 > outsz)
		return 0;
	for (size_t i = 0; i < nd; i++)
		out[i] = rev[nd - 1 - i];
	out[nd] = '\0';
	return nd;
}

int
sdes_format(const struct srtp_keys *k, bool pad, char *buf, size_t buflen)
{
	const struct suite_info *si;
	uint8_t ks[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN];
	char b64[(SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN + 2) / 3 * 4 + 1];
	char head[16 + SDES_SUITE_NAME_MAX], mki[320];
	size_t hl, bl, ml = 0, total;
	int rc;

	if (k == NULL || buf == NULL || (si = suite_info(k->suite)) == NULL ||
	    k->tag > SDES_TAG_MAX || k->mki_len > SUITE_MAX_MKI_LEN)
		return -EINVAL;
	if (k->mki_len > 0) {
		char digits[310];
		size_t nd = mki_to_dec(k->mki, k->mki_len, digits, sizeof(digits));
		if (nd == 0)
			return -EINVAL;
		rc = snprintf(mki, sizeof(mki), "|%s:%u", digits, (unsigned)k->mki_len);
		ml = (size_t)rc;
	}
	rc = snprintf(head, sizeof(head), "%u %s inline:", (unsigned)k->tag, si->name);
	hl = (size_t)rc;
	bl = (size_t)si->key_len + si->salt_len;
	bl = pad ? (bl + 2) / 3 * 4 : bl / 3 * 4 + (bl % 3 == 0 ? 0 : bl % 3 + 1);
	total = hl + bl + ml;
	if (total + 1 > buflen) {
		if (buflen > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	srtp_keys_concat(k, ks);
	bl = b64_encode(ks, (size_t)si->key_len + si->salt_len, pad, b64);
	OPENSSL_cleanse(ks, sizeof(ks));
	memcpy(buf, head, hl);
	memcpy(buf + hl, b64, bl);
	OPENSSL_cleanse(b64, sizeof(b64));
	memcpy(buf + hl + bl, mki, ml);
	buf[hl + bl + ml] = '\0';
	return (int)(hl + bl + ml);
}

void
sdes_crypto_wipe(struct sdes_crypto *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}
