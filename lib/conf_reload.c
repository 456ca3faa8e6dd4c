/*
 * conf_reload.c: see conf_reload.h. Walks the key tables of conf_keys.c and compares,
 * for every key marked CONF_RELOAD_RESTART, the stored values of the running and the new
 * config; [trunk] and [agent] sections are compared by name and position.
 */
#include "conf_reload.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf_field.h"
#include "conf_keys.h"

/* Where the keys of a single section live in `c` (NULL for [trunk], [agent] and
 * [transfer]). */
static const void *
sect_obj(const struct conf *c, enum sect_kind k)
{
	switch (k) {
	case S_GENERAL:
		return c;
	case S_TLS:
		return &c->tls;
	case S_SIP:
		return &c->sip;
	case S_MEDIA:
		return &c->media;
	case S_LIMITS:
		return &c->limits;
	case S_TELEMETRY:
		return &c->telemetry;
	case S_POOL:
		return &c->pool;
	case S_ADMISSION:
		return &c->admission;
	case S_METRICS:
		return &c->metrics;
	case S_CLUSTER:
		return &c->cluster;
	case S_TRUNK:
	case S_AGENT:
	case S_TRANSFER:
		break;
	}
	return NULL;
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * 1 when the values of `k` at a and b are equal, 0 when not, -1 when this type is not
 * compared (lists: none of them is a restart key, test_conf checks that).
 */
static int
value_eq(const struct conf_keydef *k, const void *oa, const void *ob)
{
	const char *a = (const char *)oa + k->off, *b = (const char *)ob + k->off;

	switch (k->type) {
	case CK_STR:
	case CK_FILE:
	case CK_KEYFILE:
	case CK_SOCKPATH:
	case CK_IPSTR:
	case CK_HOSTNAME:
	case CK_CIPHERS:
	case CK_SUITES13:
	case CK_GROUP:
	case CK_XFERURI:
		return str_eq(*(char *const *)(const void *)a, *(char *const *)(const void *)b);
	case CK_BOOL:
		return *(const bool *)(const void *)a == *(const bool *)(const void *)b;
	case CK_UINT:
	case CK_SIZE:
	case CK_MS:
	case CK_SEC:
	case CK_MODE:
		return *(const unsigned *)(const void *)a == *(const unsigned *)(const void *)b;
	case CK_PORT:
		return *(const uint16_t *)(const void *)a == *(const uint16_t *)(const void *)b;
	case CK_LOGLEVEL:
		return *(const enum log_level *)(const void *)a ==
		       *(const enum log_level *)(const void *)b;
	case CK_POLICY:
		return *(const enum agent_policy *)(const void *)a ==
		       *(const enum agent_policy *)(const void *)b;
	case CK_TLSVER:
		return *(const int *)(const void *)a == *(const int *)(const void *)b;
	case CK_XFERMODE:
		return *(const enum transfer_mode *)(const void *)a ==
		       *(const enum transfer_mode *)(const void *)b;
	case CK_MEDIAIO:
		return *(const enum conf_media_io *)(const void *)a ==
		       *(const enum conf_media_io *)(const void *)b;
	case CK_ADDR:
	case CK_IP: {
		const struct conf_sockaddr *x = (const void *)a, *y = (const void *)b;
		return x->len == y->len && memcmp(&x->ss, &y->ss, x->len) == 0;
	}
	case CK_FPR:
		return memcmp(a, b, sizeof(struct conf_pin)) == 0;
	case CK_SRTP:
	case CK_CIDRS:
	case CK_HEADERS:
	case CK_TRANSPORT:
		break;
	}
	return -1;
}

/* Add "[label] what" to the list. */
static void
diff_add(struct conf_diff *d, const char *label, const char *what)
{
	if (d->n == CONF_DIFF_MAX) {
		d->more = true;
		return;
	}
	/* labels are short (a section, a name of at most CONF_NAME_MAX - 1, a key) */
	if (snprintf(d->key[d->n], CONF_DIFF_NAMELEN, "[%s] %s", label, what) > 0)
		d->n++;
}

/* Restart keys of one section whose values differ; `label` is "media" or "agent x". */
static void
diff_keys(const struct conf_keydef *keys, const char *label, const void *oa, const void *ob,
          struct conf_diff *d)
{
	for (const struct conf_keydef *k = keys; k->name != NULL; k++)
		if (k->reload == CONF_RELOAD_RESTART && value_eq(k, oa, ob) != 1)
			diff_add(d, label, k->name);
}

/* The name of entry i of a trunk or agent array. */
static const char *
named_name(const struct conf *c, enum sect_kind k, size_t i)
{
	return k == S_TRUNK ? c->trunks[i].name : c->agents[i].name;
}

static size_t
named_count(const struct conf *c, enum sect_kind k)
{
	return k == S_TRUNK ? c->ntrunks : c->nagents;
}

static const void *
named_obj(const struct conf *c, enum sect_kind k, size_t i)
{
	return k == S_TRUNK ? (const void *)&c->trunks[i] : (const void *)&c->agents[i];
}

static bool
named_has(const struct conf *c, enum sect_kind k, const char *name)
{
	for (size_t i = 0; i < named_count(c, k); i++)
		if (strcmp(named_name(c, k, i), name) == 0)
			return true;
	return false;
}

/* [trunk]/[agent] sections: the same names in the same order, then their keys. */
static void
diff_named(const struct conf *a, const struct conf *b, enum sect_kind k, struct conf_diff *d)
{
	const char *sect = conf_keys_sect_name(k);
	size_t na = named_count(a, k), nb = named_count(b, k);
	size_t before = d->n;

	char label[CONF_DIFF_NAMELEN];

	for (size_t i = 0; i < na; i++)
		if (!named_has(b, k, named_name(a, k, i))) {
			snprintf(label, sizeof(label), "%s %s", sect, named_name(a, k, i));
			diff_add(d, label, "removed");
		}
	for (size_t i = 0; i < nb; i++)
		if (!named_has(a, k, named_name(b, k, i))) {
			snprintf(label, sizeof(label), "%s %s", sect, named_name(b, k, i));
			diff_add(d, label, "added");
		}
	if (d->n != before || d->more)
		return;
	for (size_t i = 0; i < na; i++) {
		snprintf(label, sizeof(label), "%s %s", sect, named_name(b, k, i));
		if (strcmp(named_name(a, k, i), named_name(b, k, i)) != 0)
			diff_add(d, label, "moved");
		else
			diff_keys(conf_keys_of(k), label, named_obj(a, k, i), named_obj(b, k, i),
			          d);
	}
}

size_t
conf_reload_diff(const struct conf *cur, const struct conf *next, struct conf_diff *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned s = 0; s < CONF_KEYS_NSECT; s++) {
		enum sect_kind k = (enum sect_kind)s;

		if (k == S_TRANSFER)
			continue; /* the allow-list is all live: calls keep the conf they began with
			           */
		if (k == S_TRUNK || k == S_AGENT)
			diff_named(cur, next, k, out);
		else
			diff_keys(conf_keys_of(k), conf_keys_sect_name(k), sect_obj(cur, k),
			          sect_obj(next, k), out);
	}
	return out->n;
}

char *
conf_reload_diff_str(const struct conf_diff *d, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < d->n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", d->key[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (d->more && used < len)
		snprintf(buf + used, len - used, ", ...");
	return buf;
}

enum conf_reload
conf_reload_rule(const char *sect, const char *key)
{
	for (unsigned s = 0; s < CONF_KEYS_NSECT; s++) {
		if (strcmp(conf_keys_sect_name((enum sect_kind)s), sect) != 0)
			continue;
		for (const struct conf_keydef *k = conf_keys_of((enum sect_kind)s); k->name != NULL;
		     k++)
			if (strcmp(k->name, key) == 0)
				return k->reload;
	}
	return CONF_RELOAD_UNSET;
}

size_t
conf_reload_each(void (*fn)(const char *sect, const char *key, enum conf_reload rule,
                            bool comparable, void *arg),
                 void *arg)
{
	/* zeroed objects large enough for any section's keys: only the type matters */
	static const union {
		struct conf c;
		struct conf_trunk t;
		struct conf_agent a;
		struct conf_transfer x;
	} a, b;
	size_t n = 0;

	for (unsigned s = 0; s < CONF_KEYS_NSECT; s++) {
		const char *name = conf_keys_sect_name((enum sect_kind)s);
		for (const struct conf_keydef *k = conf_keys_of((enum sect_kind)s); k->name != NULL;
		     k++, n++)
			fn(name, k->name, k->reload, value_eq(k, &a, &b) >= 0, arg);
	}
	return n;
}
