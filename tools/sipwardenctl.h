/*
 * sipwardenctl's shared parts: the command-line options, one request to the control
 * socket, and the printing helpers that tools/sipwardenctl.c (every command) and
 * tools/sipwardenctl_cluster.c (--cluster) both use. Prefix ctl_. Not installed.
 */
#ifndef SW_SIPWARDENCTL_H
#define SW_SIPWARDENCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ctl_opts {
	const char *telemetry;
	const char *control;
	bool json;
	bool color;
	bool once;
	const char *timeout; /* drain --timeout D */
	bool cluster;        /* --cluster: calls/stats of every instance ([cluster]) */
};

/* One request (consumed) on the control socket; the reply, or NULL after saying why. */
json_t *ctl_request(const struct ctl_opts *o, json_t *req);
/* Prints a reply (consumed): raw JSON with --json, else through `human`; exit status. */
int ctl_print_reply(const struct ctl_opts *o, json_t *reply, void (*human)(const json_t *, FILE *));
/* `s` escaped for a terminal; lives until eight more calls have been made. */
const char *ctl_esc(const char *s);
/* A duration in ms as "h:mm:ss" (an hour or more) or "m:ss". */
void ctl_fmt_duration(char *buf, size_t n, json_int_t ms);
/* v's string escaped for a terminal, or dflt when v is not a string. */
const char *ctl_str_or(const json_t *v, const char *dflt);
/* Every member of j (nested objects flattened to "prefix.key"), each printed as
 * lead NAME sep VALUE end, names and values escaped for a terminal. */
void ctl_print_flat(const json_t *j, const char *prefix, const char *lead, const char *sep,
                    const char *end, FILE *f);

/* sipwardenctl --cluster calls|stats (tools/sipwardenctl_cluster.c). */
int ctl_cluster(const struct ctl_opts *o, bool calls);

#endif
