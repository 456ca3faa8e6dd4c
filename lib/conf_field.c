/*
 * conf_field.c: read, check and store the value of one config key.
 *
 * Responsible for the per-type work behind struct conf_keydef: resolving relative paths
 * against the config's directory, checking that certificate and key files exist and are
 * readable (and that private keys are not accessible by group/others), range checks,
 * OpenSSL's opinion of cipher strings, and replacing a previous value without leaking.
 * Not responsible for which keys exist (conf.c) or the syntax of scalar values
 * (conf_value.c).
 */
#include "conf_field.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf_value.h"
#include "sip_grammar.h"

#define CONF_SUN_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))

/* Resolve `v` against the config dir; returns malloc'd path or NULL. */
static char *
resolve(const struct conf_field_ctx *st, const char *v)
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
store_uint(void *field, enum conf_ktype t, unsigned long v)
{
	if (t == CK_PORT)
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

/* A transfer URI: sip:/sips: in sip_grammar_uri's grammar or tel: + a
 * telephone-subscriber, no "?headers", at most CONF_TRANSFER_URI_MAX bytes. */
static int
conf_field_xfer_uri(const char *v, char *why, size_t wl)
{
	int rc = -EINVAL;

	if (strchr(v, '?') != NULL) {
		snprintf(why, wl, "expected a URI without ?headers, got '%s'", v);
		return -1;
	}
	if (strncasecmp(v, "sip:", 4) == 0 || strncasecmp(v, "sips:", 5) == 0)
		rc = sip_grammar_uri(v, CONF_TRANSFER_URI_MAX);
	else if (strncasecmp(v, "tel:", 4) == 0)
		rc = sip_grammar_phone(v + 4, CONF_TRANSFER_URI_MAX);
	if (rc != 0) {
		snprintf(why, wl,
		         "expected a sip:, sips: or tel: URI of at most %d bytes, got '%.80s'",
		         CONF_TRANSFER_URI_MAX, v);
		return -1;
	}
	return 0;
}

int
conf_field_parse(struct conf_field_ctx *st, const struct conf_keydef *k, void *field, const char *v,
                 char *why, size_t wl)
{
	unsigned long u;
	char *p;

	switch (k->type) {
	case CK_STR:
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	case CK_FILE:
	case CK_KEYFILE:
		if (*v == '\0') {
			snprintf(why, wl, "expected a file path");
			return -1;
		}
		if ((p = resolve(st, v)) == NULL)
			goto oom;
		if (check_file(p, k->type == CK_KEYFILE, why, wl) < 0) {
			free(p);
			return -1;
		}
		replace_str(field, p);
		return 0;
	case CK_SOCKPATH:
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
	case CK_BOOL:
		if (conf_value_bool(v, field) < 0) {
			snprintf(why, wl, "expected yes or no, got '%s'", v);
			return -1;
		}
		return 0;
	case CK_UINT:
	case CK_PORT:
		if (conf_value_uint(v, &u) < 0 || (u == 0 && !k->zero_ok) ||
		    (u != 0 && (u < k->min || u > k->max))) {
			snprintf(why, wl, "expected an integer %lu..%lu, got '%s'",
			         k->zero_ok ? 0 : k->min, k->max, v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case CK_SIZE:
		if (conf_value_size(v, &u) < 0 || u < k->min || u > k->max) {
			snprintf(why, wl,
			         "expected a size %lu..%lu bytes (suffix k allowed), got '%s'",
			         k->min, k->max, v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case CK_MS:
	case CK_SEC: {
		unsigned long long ms;
		unsigned long lo = k->min, hi = k->max;
		const char *unit = k->type == CK_MS ? "ms" : "s";
		int rc = conf_value_duration_ms(v, &ms);
		if (rc == 0 && k->type == CK_SEC && ms % 1000 != 0)
			rc = -1;
		if (rc == 0) {
			unsigned long long x = k->type == CK_SEC ? ms / 1000 : ms;
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
	case CK_MODE:
		if (conf_value_mode(v, &u) < 0 || u > 0777 || (u & 07) != 0) {
			snprintf(why, wl,
			         "expected an octal mode without bits for others (e.g. 0660), got "
			         "'%s'",
			         v);
			return -1;
		}
		store_uint(field, k->type, u);
		return 0;
	case CK_ADDR:
		if (conf_sockaddr_parse(v, (uint16_t)k->min, field) < 0) {
			snprintf(why, wl,
			         "expected an IP address and port (192.0.2.1:5061, "
			         "[2001:db8::1]:5061), "
			         "got '%s'",
			         v);
			return -1;
		}
		return 0;
	case CK_IP: {
		struct conf_sockaddr a;
		if (conf_value_ip(v, &a) < 0) {
			snprintf(why, wl, "expected an IP address without port, got '%s'", v);
			return -1;
		}
		*(struct conf_sockaddr *)field = a;
		return 0;
	}
	case CK_IPSTR: {
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
	case CK_HOSTNAME:
		if (!conf_value_hostname_ok(v)) {
			snprintf(why, wl, "expected a host name or IP address, got '%s'", v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	case CK_LOGLEVEL:
		if (log_level_parse(v, field) < 0) {
			snprintf(why, wl, "expected error, warn, info or debug, got '%s'", v);
			return -1;
		}
		return 0;
	case CK_TLSVER:
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
	case CK_CIPHERS:
	case CK_SUITES13: {
		int ok;
		if (st->ssl == NULL && (st->ssl = SSL_CTX_new(TLS_method())) == NULL)
			goto oom;
		ok = k->type == CK_CIPHERS ? SSL_CTX_set_cipher_list(st->ssl, v)
		                           : SSL_CTX_set_ciphersuites(st->ssl, v);
		if (!ok || *v == '\0') {
			snprintf(why, wl, "expected an OpenSSL %s list, got '%s'",
			         k->type == CK_CIPHERS ? "TLS 1.2 cipher" : "TLS 1.3 ciphersuite",
			         v);
			return -1;
		}
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	}
	case CK_SRTP: {
		struct conf_media *m = &st->c->media;
		return conf_value_suites(v, m->suites, &m->nsuites, why, wl);
	}
	case CK_CIDRS: {
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
	case CK_FPR: {
		struct conf_pin *pin = field;
		if (conf_value_fingerprint(v, pin->sha256) < 0) {
			snprintf(why, wl,
			         "expected a SHA-256 fingerprint (64 hex digits, ':' optional), "
			         "got '%s'",
			         v);
			return -1;
		}
		pin->set = true;
		return 0;
	}
	case CK_HEADERS: {
		char **list = NULL;
		if (conf_value_headers(v, &list, why, wl) < 0)
			return -1;
		conf_value_strv_free(*(char ***)field);
		*(char ***)field = list;
		return 0;
	}
	case CK_POLICY:
		if (strcmp(v, "round_robin") == 0)
			*(enum agent_policy *)field = AGENT_ROUND_ROBIN;
		else if (strcmp(v, "least_busy") == 0)
			*(enum agent_policy *)field = AGENT_LEAST_BUSY;
		else {
			snprintf(why, wl, "expected round_robin or least_busy, got '%s'", v);
			return -1;
		}
		return 0;
	case CK_TRANSPORT:
		if (strcasecmp(v, "tls") != 0) {
			snprintf(why, wl,
			         "expected tls, got '%s': signalling to agents must be TLS", v);
			return -1;
		}
		return 0;
	case CK_XFERURI:
		if (conf_field_xfer_uri(v, why, wl) != 0)
			return -1;
		if ((p = strdup(v)) == NULL)
			goto oom;
		replace_str(field, p);
		return 0;
	case CK_XFERMODE:
		if (strcmp(v, "off") == 0)
			*(enum transfer_mode *)field = TRANSFER_OFF;
		else if (strcmp(v, "refer") == 0)
			*(enum transfer_mode *)field = TRANSFER_REFER;
		else if (strcmp(v, "bridge") == 0)
			*(enum transfer_mode *)field = TRANSFER_BRIDGE;
		else {
			snprintf(why, wl, "expected off, refer or bridge, got '%s'", v);
			return -1;
		}
		return 0;
	case CK_MEDIAIO:
		if (strcmp(v, "auto") == 0)
			*(enum conf_media_io *)field = CONF_MEDIA_IO_AUTO;
		else if (strcmp(v, "uring") == 0)
			*(enum conf_media_io *)field = CONF_MEDIA_IO_URING;
		else if (strcmp(v, "epoll") == 0)
			*(enum conf_media_io *)field = CONF_MEDIA_IO_EPOLL;
		else {
			snprintf(why, wl, "expected auto, uring or epoll, got '%s'", v);
			return -1;
		}
		return 0;
	case CK_GROUP:
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
