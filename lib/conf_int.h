/*
 * conf_int.h: between conf.c (reading the file) and conf_check.c (the rules that span
 * keys and sections). The parse state and the one way to report an error. Not for the
 * rest of sipwarden: they see struct conf (conf.h) only.
 */
#ifndef SW_CONF_INT_H
#define SW_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "conf_field.h"
#include "conf_keys.h"

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

/* Records the error of the earliest line (0: the file as a whole); later ones are ignored. */
void conf_set_err(struct pstate *st, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A section or instance name: 1..CONF_NAME_MAX-1 of [A-Za-z0-9._-]. */
bool conf_name_ok(const char *s);

/* conf_check.c: required keys and sections, then the rules across keys and sections. */
void conf_check_required(struct pstate *st);
void conf_check_cross(struct pstate *st);

#endif
