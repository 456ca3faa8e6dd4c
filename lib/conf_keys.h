/*
 * conf_keys.h: the sections and keys of sipwarden's configuration, as tables (internal to
 * lib/conf*.c). Which sections exist, which keys each takes, of what type and range, and
 * which are required; conf.c walks these while it reads a file. Not responsible for
 * reading values (conf_field.c) or defaults and cross-field rules (conf.c).
 */
#ifndef SW_CONF_KEYS_H
#define SW_CONF_KEYS_H

#include "conf_field.h"

/* The kinds of section, in the order of the tables. */
enum sect_kind {
	S_GENERAL,
	S_TLS,
	S_SIP,
	S_MEDIA,
	S_LIMITS,
	S_TELEMETRY,
	S_POOL,
	S_TRUNK,
	S_AGENT,
	S_ADMISSION,
	S_METRICS,
	S_CLUSTER,
	S_TRANSFER
};

#define CONF_KEYS_NSECT ((unsigned)S_TRANSFER + 1)

/* "general", "tls", ... for a section kind. */
const char *conf_keys_sect_name(enum sect_kind k);

/* The keys of a section kind, ended by an entry whose name is NULL. */
const struct conf_keydef *conf_keys_of(enum sect_kind k);

#endif
