/*
 * conf_reload.h: which configuration keys a reload may change, and what a new file
 * changes that only a restart can apply.
 *
 * Every key in the tables of conf_keys.c carries a decision: CONF_RELOAD_LIVE (a reload
 * applies it: new connections, new calls or the next tick use the new value) or
 * CONF_RELOAD_RESTART (bound at start: a socket, a thread count, a table size). The
 * daemon compares the running config with the new one before it swaps anything in and
 * refuses the whole reload, naming the keys, when a restart key differs or a [trunk] /
 * [agent] section was added, removed or moved (the pool, the per-trunk counters and the
 * agent connections are sized and indexed at start). Not responsible for applying a
 * reload (daemon/main.c) or for reading files (conf.c).
 */
#ifndef SW_CONF_RELOAD_H
#define SW_CONF_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

enum conf_reload {
	CONF_RELOAD_UNSET = 0, /* no decision: a table entry that forgot one (tests catch it) */
	CONF_RELOAD_LIVE,      /* SIGHUP applies a change */
	CONF_RELOAD_RESTART,   /* a change refuses the reload; restart to apply it */
};

#define CONF_DIFF_MAX     16
#define CONF_DIFF_NAMELEN (CONF_NAME_MAX + 48)

/* What a new config changes that needs a restart: "[media] address", "[agent b] added". */
struct conf_diff {
	size_t n;  /* names in key[] */
	bool more; /* more than CONF_DIFF_MAX differences: key[] holds the first ones */
	char key[CONF_DIFF_MAX][CONF_DIFF_NAMELEN];
};

/* The decision for `key` of section `sect` ("media", "trunk", ...); UNSET if unknown. */
enum conf_reload conf_reload_rule(const char *sect, const char *key);

/* Calls fn(section, key, decision, comparable, arg) for every key in table order;
 * `comparable` says whether conf_reload_diff() can compare its values (tests assert
 * that every restart key can be). Returns the number of keys. */
size_t conf_reload_each(void (*fn)(const char *sect, const char *key, enum conf_reload rule,
                                   bool comparable, void *arg),
                        void *arg);

/* Fill `out` with what differs between `cur` and `next` that only a restart applies, in
 * table order (sections, then keys). Returns out->n: 0 when `next` may be swapped in. */
size_t conf_reload_diff(const struct conf *cur, const struct conf *next, struct conf_diff *out);

/* "[media] address, [agent b] added" (and ", ..." when out->more) into buf. Returns buf. */
char *conf_reload_diff_str(const struct conf_diff *d, char *buf, size_t len);

#endif
