/*
 * conf_check.c: the configuration rules that span keys and sections, run once the whole
 * file is read: required keys and sections, address ranges that must not overlap, the
 * [cluster] section's rules, limits that must agree with each other, and what each trunk
 * and agent needs. Each rule names the file:line of the section it is about. Not
 * responsible for single values (conf_field.c, conf_value.c) or reading (conf.c).
 */
#include "conf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "conf_value.h"

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

void
conf_check_required(struct pstate *st)
{
	for (size_t i = 0; i < st->nsects; i++) {
		const struct sect *s = &st->sects[i];
		const struct conf_keydef *keys = conf_keys_of(s->kind);
		for (size_t k = 0; keys[k].name != NULL; k++)
			if (keys[k].required && !(s->seen & (1ULL << k)))
				conf_set_err(st, s->line, "[%s] %s is required", s->label,
				             keys[k].name);
	}
	if (find_sect(st, S_TLS) == NULL)
		conf_set_err(st, 0, "[tls] is required (certificate and private_key)");
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
			conf_set_err(st, line,
			             "[cluster] redis: Unix socket path longer than 107 bytes");
	} else if (conf_sockaddr_parse(k->redis, 6379, &k->addr) != 0) {
		conf_set_err(
		        st, line,
		        "[cluster] redis: expected host:port (an IP address) or an absolute Unix "
		        "socket path, got '%s'",
		        k->redis);
	}
	if (k->instance == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		if (!conf_name_ok(host)) {
			conf_set_err(
			        st, line,
			        "[cluster] instance: the host name is not a usable instance name; "
			        "expected instance = NAME");
			return;
		}
		k->instance = strdup(host);
	} else if (!conf_name_ok(k->instance)) {
		conf_set_err(
		        st, line,
		        "[cluster] instance: expected 1..%d letters, digits, '-', '_' or '.', got "
		        "'%s'",
		        CONF_NAME_MAX - 1, k->instance);
	}
	if (k->prefix == NULL)
		k->prefix = strdup("sipwarden");
	else if (!conf_name_ok(k->prefix))
		conf_set_err(
		        st, line,
		        "[cluster] prefix: expected 1..%d letters, digits, '-', '_' or '.', got "
		        "'%s'",
		        CONF_NAME_MAX - 1, k->prefix);
	if (k->on_store_failure == NULL || strcmp(k->on_store_failure, "local") == 0)
		k->refuse_on_failure = false;
	else if (strcmp(k->on_store_failure, "refuse") == 0)
		k->refuse_on_failure = true;
	else
		conf_set_err(st, line,
		             "[cluster] on_store_failure: expected local or refuse, got '%s'",
		             k->on_store_failure);
	if (k->instance == NULL || k->prefix == NULL)
		conf_set_err(st, line, "out of memory");
	if (k->password != NULL && (k->password[0] == '\0' || strpbrk(k->password, " \t") != NULL))
		conf_set_err(st, line,
		             "[cluster] password: expected a non-empty value without blanks");
}

/* Cross-field rules. Each names the line of its section header (0 when absent). */
void
conf_check_cross(struct pstate *st)
{
	struct conf *c = st->c;
	const struct conf_media *m = &c->media;
	int ml = sect_line(st, S_MEDIA), tl = sect_line(st, S_TLS);
	const char *why;
	char buf[256];

	if (m->port_min % 2 != 0)
		conf_set_err(st, ml,
		             "[media] port_min: expected an even port (RTP even, RTCP odd), got %u",
		             m->port_min);
	else if (m->port_min >= m->port_max || m->port_max - m->port_min + 1 < 4)
		conf_set_err(
		        st, ml,
		        "[media] port_min/port_max: expected port_min < port_max and room for at "
		        "least 4 ports, got %u..%u",
		        m->port_min, m->port_max);
	if (c->sip.max_line_length > c->sip.max_message_size)
		conf_set_err(
		        st, sect_line(st, S_SIP),
		        "[sip] max_line_length: expected at most max_message_size (%u), got %u",
		        c->sip.max_message_size, c->sip.max_line_length);
	if (c->sip.session_expires_s != 0 &&
	    c->sip.session_expires_s < c->sip.min_session_expires_s)
		conf_set_err(
		        st, sect_line(st, S_SIP),
		        "[sip] session_expires: expected 0 (off) or at least min_session_expires "
		        "(%u), got %u",
		        c->sip.min_session_expires_s, c->sip.session_expires_s);
	if ((c->tls.client_certificate == NULL) != (c->tls.client_private_key == NULL))
		conf_set_err(st, tl,
		             "[tls] client_certificate and client_private_key: expected both or "
		             "neither");
	if (c->telemetry.socket && c->telemetry.control_socket &&
	    strcmp(c->telemetry.socket, c->telemetry.control_socket) == 0)
		conf_set_err(st, sect_line(st, S_TELEMETRY),
		             "[telemetry] socket and control_socket: expected two different paths");

	/* Plain HTTP without authentication: loopback only unless the operator says so. */
	if (c->metrics.listen.len > 0 && !c->metrics.allow_remote &&
	    !conf_sockaddr_is_loopback(&c->metrics.listen)) {
		char a[INET6_ADDRSTRLEN + 8];
		conf_set_err(st, sect_line(st, S_METRICS),
		             "[metrics] listen: expected a loopback address (127.0.0.0/8, [::1]) "
		             "unless allow_remote = yes, got %s",
		             conf_sockaddr_str(&c->metrics.listen, a, sizeof(a)));
	}

	if (c->admission.reserved_connections == UINT_MAX) /* not set: a quarter */
		c->admission.reserved_connections = c->tls.max_connections / 4;
	else if (c->admission.reserved_connections > c->tls.max_connections)
		conf_set_err(
		        st, sect_line(st, S_ADMISSION),
		        "[admission] reserved_connections: expected at most [tls] max_connections "
		        "(%u), got %u",
		        c->tls.max_connections, c->admission.reserved_connections);

	check_cluster(st);

	if (c->ntrunks == 0)
		conf_set_err(st, 0, "no [trunk NAME] section: expected at least one trunk");
	if (c->nagents == 0)
		conf_set_err(st, 0, "no [agent NAME] section: expected at least one agent");

	for (size_t i = 0; i < st->nsects; i++) {
		const struct sect *s = &st->sects[i];
		if (s->kind == S_AGENT) {
			const struct conf_agent *a = &c->agents[(uintptr_t)s->obj];
			if ((a->client_certificate == NULL) != (a->client_private_key == NULL))
				conf_set_err(
				        st, s->line,
				        "[%s] client_certificate and client_private_key: expected "
				        "both or neither",
				        s->label);
			if (a->verify && c->tls.ca_file == NULL)
				conf_set_err(
				        st, s->line,
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
					conf_set_err(st, s->line,
					             "[%s] match: the same as [%s] (line %d)",
					             s->label, o->label, o->line);
			}
			if ((why = conf_transfer_check(c, x, buf, sizeof(buf))) != NULL)
				conf_set_err(st, s->line, "[%s] %s", s->label, why);
		} else if (s->kind == S_TRUNK) {
			const struct conf_trunk *t = &c->trunks[(uintptr_t)s->obj];
			if ((why = conf_transfer_check_trunk(c, t, buf, sizeof(buf))) != NULL)
				conf_set_err(st, s->line, "[%s] %s", s->label, why);
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
							conf_set_err(st, s->line,
							             "[%s] source: overlaps the "
							             "sources of [trunk %s]",
							             s->label, u->name);
			}
		}
	}
}
