/*
 * conf_field.h: how one config key is read, checked and stored (internal to lib/conf*.c).
 *
 * conf.c describes every key with a struct conf_keydef (type, offset of the field, range)
 * and calls conf_field_parse() for each "key = value" line. Not responsible for section
 * handling, defaults or cross-field rules (conf.c).
 */
#ifndef SW_CONF_FIELD_H
#define SW_CONF_FIELD_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "conf.h"
#include "conf_reload.h"

/* How to read and check one key's value. */
enum conf_ktype {
	CK_STR,       /* free text, stored as char* */
	CK_FILE,      /* readable regular file, path resolved against the config dir */
	CK_KEYFILE,   /* like CK_FILE, and no group/other permission bits */
	CK_SOCKPATH,  /* socket path to be created: resolved, not checked */
	CK_BOOL,      /* bool */
	CK_UINT,      /* unsigned in [min, max] */
	CK_SIZE,      /* unsigned bytes, optional k suffix, in [min, max] */
	CK_MS,        /* duration stored as unsigned ms; 0 or [min, max] if zero_ok */
	CK_SEC,       /* duration stored as unsigned s (whole seconds) */
	CK_MODE,      /* octal unsigned, no bits for others */
	CK_PORT,      /* uint16_t in [min, max] */
	CK_ADDR,      /* struct conf_sockaddr, host:port, default port = min */
	CK_IP,        /* struct conf_sockaddr, IP literal, no port */
	CK_IPSTR,     /* char* holding an IP literal */
	CK_HOSTNAME,  /* char* DNS name or IP literal */
	CK_LOGLEVEL,  /* enum log_level */
	CK_TLSVER,    /* int TLS1_2_VERSION / TLS1_3_VERSION */
	CK_CIPHERS,   /* char*, checked with OpenSSL (TLS 1.2 list) */
	CK_SUITES13,  /* char*, checked with OpenSSL (TLS 1.3 list) */
	CK_SRTP,      /* media suites list */
	CK_CIDRS,     /* trunk sources */
	CK_FPR,       /* trunk fingerprint */
	CK_HEADERS,   /* char** X- header names */
	CK_POLICY,    /* enum agent_policy */
	CK_TRANSPORT, /* only "tls"; nothing stored */
	CK_GROUP,     /* char* existing group name */
	CK_XFERURI,   /* char* sip:/sips:/tel: URI without headers (transfer match/target) */
	CK_XFERMODE,  /* enum transfer_mode: off or refer */
	CK_MEDIAIO,   /* enum conf_media_io: auto, uring or epoll */
};

struct conf_keydef {
	const char *name;
	enum conf_ktype type;
	size_t off;
	unsigned long min, max;
	bool zero_ok; /* 0 allowed besides [min, max] (means "off") */
	bool required;
	enum conf_reload reload; /* a change applies on reload, or needs a restart */
};

/* What a field parser needs besides the value: the conf being built (media suites),
 * the config file's directory (relative paths) and an SSL_CTX made on first use to check
 * cipher strings (freed by the caller). */
struct conf_field_ctx {
	struct conf *c;
	const char *dir;
	SSL_CTX *ssl;
};

/*
 * Parse `v` for key `k` into `field` (the address of the struct member k->off points at).
 * Returns 0, or -1 with a message in why[0..wl) ("expected ..., got '...'").
 */
int conf_field_parse(struct conf_field_ctx *ctx, const struct conf_keydef *k, void *field,
                     const char *v, char *why, size_t wl);

#endif
