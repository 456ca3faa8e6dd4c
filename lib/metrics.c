/*
 * metrics.c: the histograms and media totals of ended calls, and the Prometheus text
 * exposition of a counters snapshot.
 *
 * Responsible for bucket bounds, what an event adds to the accumulators, metric names,
 * HELP texts, label escaping and number formatting. Not responsible for where the
 * numbers come from (lib/telemetry.c counts events, daemon/main.c assembles the stats
 * reply) nor for serving them (daemon/metrics_http.c).
 *
 * Names follow Prometheus conventions: base units (seconds, bytes, a 0..1 ratio),
 * counters end in _total, one family per name. The process_* families keep the names
 * every client library uses, so stock dashboards find them.
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* INVITE -> 200: a few hundred ms through a healthy agent; seconds when it is slow. */
static const double setup_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32};
/* Fraction of packets lost over a call: 1 % is audible, 5 % bad. */
static const double loss_bounds[] = {0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
/* RFC 3550 interarrival jitter: a 20 ms packet interval is the scale. */
static const double jitter_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16};
/* MOS 1..~4.41 (telemetry_mos): the bands of ITU-T G.107 user satisfaction. */
static const double mos_bounds[] = {1, 2, 2.6, 3.1, 3.6, 4.0, 4.3, 4.4};

static const char *const leg_names[METRICS_LEGS] = {"trunk", "agent"};
static const char *const dir_names[METRICS_DIRS] = {"in", "out"};
/* call.end outcomes (telemetry.h): always shown, so rate() starts from 0. */
static const char *const outcomes[] = {"completed", "no_answer", "busy",   "failed",
                                       "cancelled", "refused",   "timeout"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
hist_init(struct metrics_hist *h, const double *bounds, unsigned n)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = n < METRICS_MAX_BUCKETS ? n : METRICS_MAX_BUCKETS;
}

static void
hist_observe(struct metrics_hist *h, double v)
{
	if (!isfinite(v))
		return;
	for (unsigned i = 0; i < h->nbounds; i++) {
		if (v <= h->bounds[i]) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

void
metrics_calls_init(struct metrics_calls *m)
{
	memset(m, 0, sizeof(*m));
	hist_init(&m->setup, setup_bounds, NELEM(setup_bounds));
	for (int l = 0; l < METRICS_LEGS; l++) {
		hist_init(&m->loss[l], loss_bounds, NELEM(loss_bounds));
		hist_init(&m->jitter[l], jitter_bounds, NELEM(jitter_bounds));
		hist_init(&m->mos[l], mos_bounds, NELEM(mos_bounds));
	}
}

static uint64_t
u64_of(const json_t *v)
{
	json_int_t n = json_integer_value(v);

	return n > 0 ? (uint64_t)n : 0;
}

static void
observe_leg(struct metrics_calls *m, int l, const json_t *leg)
{
	for (int d = 0; d < METRICS_DIRS && json_is_object(leg); d++) {
		const json_t *dir = json_object_get(leg, dir_names[d]);
		const json_t *v;
		if (!json_is_object(dir))
			continue;
		m->packets[l][d] += u64_of(json_object_get(dir, "packets"));
		m->bytes[l][d] += u64_of(json_object_get(dir, "bytes"));
		if (json_is_number(v = json_object_get(dir, "loss")))
			hist_observe(&m->loss[l], json_number_value(v));
		if (json_is_number(v = json_object_get(dir, "jitter_ms")))
			hist_observe(&m->jitter[l], json_number_value(v) / 1000.0);
		if (json_is_number(v = json_object_get(dir, "mos")))
			hist_observe(&m->mos[l], json_number_value(v));
	}
}

void
metrics_calls_observe(struct metrics_calls *m, const json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	const json_t *legs, *v;

	if (name == NULL)
		return;
	if (strcmp(name, "call.answer") == 0) {
		if (json_is_integer(v = json_object_get(ev, "setup_ms")))
			hist_observe(&m->setup, (double)json_integer_value(v) / 1000.0);
	} else if (strcmp(name, "call.end") == 0) {
		legs = json_object_get(ev, "legs");
		for (int l = 0; l < METRICS_LEGS; l++)
			observe_leg(m, l, json_object_get(legs, leg_names[l]));
	}
}

void
metrics_calls_observe_setup(struct metrics_calls *m, int64_t setup_ms)
{
	hist_observe(&m->setup, (double)setup_ms / 1000.0);
}

void
metrics_calls_observe_dir(struct metrics_calls *m, int leg, int dir, const struct metrics_dir *d)
{
	if (leg < 0 || leg >= METRICS_LEGS || dir < 0 || dir >= METRICS_DIRS)
		return;
	m->packets[leg][dir] += d->packets;
	m->bytes[leg][dir] += d->bytes;
	if (d->measured) {
		hist_observe(&m->loss[leg], d->loss);
		hist_observe(&m->jitter[leg], d->jitter_ms / 1000.0);
		hist_observe(&m->mos[leg], d->mos);
	}
}

/* ---- exposition ------------------------------------------------------------------ */

/* Shortest text that reads back as the same double; +Inf/-Inf/NaN as Prometheus
 * spells them. */
static const char *
fmt_double(char buf[40], double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, 40, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* A label value: backslash, double quote and newline escaped (format 0.0.4). */
static void
put_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} value; labels NULL-terminated pairs. */
static void
sample(FILE *f, const char *name, const char *const *labels, double v)
{
	fputs(name, f);
	for (int i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		fprintf(f, "%c%s=\"", i == 0 ? '{' : ',', labels[i]);
		put_label(f, labels[i + 1]);
		fputc('"', f);
	}
	if (labels != NULL && labels[0] != NULL)
		fputc('}', f);
	char num[40];

	fprintf(f, " %s\n", fmt_double(num, v));
}

static void
sample_u(FILE *f, const char *name, const char *const *labels, uint64_t v)
{
	sample(f, name, labels, (double)v);
}

/* A number at stats.path0[.path1]; false when it is missing. */
static bool
stat_at(const json_t *stats, const char *path0, const char *path1, double *out)
{
	const json_t *v = json_object_get(stats, path0);

	if (path1 != NULL)
		v = json_object_get(v, path1);
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* Families that are one number of the stats reply each; `div` (0: 1) turns the stats'
 * unit into the base unit Prometheus wants (ms into seconds, percent into a ratio). */
struct simple {
	const char *name, *type, *help, *path0, *path1;
	double div;
};

static const struct simple simples[] = {
        {"sipwarden_uptime_seconds", "gauge", "Seconds since sipwarden started.", "uptime_s", NULL,
         0},
        {"sipwarden_calls_current", "gauge", "Calls in progress (set-up or answered).", "calls",
         "current", 0},
        {"sipwarden_calls_started_total", "counter", "Trunk INVITEs accepted for routing.", "calls",
         "started", 0},
        {"sipwarden_telemetry_subscribers", "gauge", "Connected telemetry socket subscribers.",
         "telemetry", "subscribers", 0},
        {"sipwarden_telemetry_events_total", "counter", "Telemetry events published.", "telemetry",
         "events", 0},
        {"sipwarden_telemetry_dropped_events_total", "counter",
         "Event deliveries skipped for subscribers that did not keep up.", "telemetry", "dropped",
         0},
        {"sipwarden_telemetry_invalid_events_total", "counter",
         "Events refused by schema validation (a bug if not 0).", "telemetry", "invalid", 0},
        {"sipwarden_connections_open", "gauge", "SIP/TLS connections open.", "connections", "open",
         0},
        {"sipwarden_connections_accepted_total", "counter", "SIP/TLS connections accepted.",
         "connections", "accepted", 0},
        {"sipwarden_sip_parse_errors_total", "counter",
         "SIP messages refused by the parser or the message checks.", "connections", "parse_errors",
         0},
        {"sipwarden_admission_bans_total", "counter", "Sources banned by admission control.",
         "admission", "bans", 0},
        {"sipwarden_admission_scanners_total", "counter",
         "Requests recognised as scanners or sweeps.", "admission", "scanners", 0},
        {"sipwarden_admission_shed_total", "counter",
         "Requests of trunks and agents shed over their request budget.", "admission", "shed", 0},
        {"sipwarden_admission_sources", "gauge", "Sources tracked by admission control.",
         "admission", "sources", 0},
        {"sipwarden_admission_banned_sources", "gauge", "Sources banned now.", "admission",
         "banned_now", 0},
        {"sipwarden_admission_remote_bans_total", "counter",
         "Bans decided by other instances ([cluster]) and applied here.", "admission",
         "bans_remote", 0},
        {"sipwarden_cluster_store_up", "gauge",
         "1 while the shared store ([cluster] Redis) answers, else 0.", "cluster", "store_up", 0},
        {"sipwarden_cluster_instances", "gauge",
         "Instances alive at the last heartbeat ([cluster]).", "cluster", "instances_alive", 0},
        {"sipwarden_cluster_timeouts_total", "counter",
         "Admissions the shared store did not answer in time.", "cluster", "timeouts", 0},
        {"sipwarden_cluster_reconnects_total", "counter",
         "Reconnection attempts to the shared store.", "cluster", "reconnects", 0},
        {"sipwarden_overload_loop_lag_seconds", "gauge",
         "Standing lag of the signalling loop (least of the last three 10 ms ticks).", "overload",
         "loop_lag_ms", 1000},
        {"sipwarden_overload_admit_ratio", "gauge",
         "Share of new calls the loop-lag check admits now (1: all).", "overload", "admit_pct",
         100},
        {"sipwarden_overload_media_load_ratio", "gauge",
         "Media workers' mean busy share over the last second.", "overload", "media_load_pct", 100},
        {"sipwarden_calls_in_setup", "gauge", "Calls not answered yet (overload admission).",
         "overload", "in_setup", 0},
        {"sipwarden_overload_shed_total", "counter",
         "New calls refused with 503 under overload (any overload check).", "overload", "shed", 0},
};

/* One family whose samples are stats.path0.<key> under label `label`; `keys` NULL:
 * every key found there, in the object's order. */
struct labelled {
	const char *name, *help, *label, *path0;
	const char *const keys[8][2]; /* {json key, label value}, ends with {NULL} */
};

static const struct labelled labelleds[] = {
        {"sipwarden_media_dropped_packets_total",
         "Media packets dropped by reason (ended calls).",
         "reason",
         "drops",
         {{"auth", "auth"},
          {"replay", "replay"},
          {"plaintext", "plaintext"},
          {"unknown_source", "unknown_source"},
          {"ssrc_limit", "ssrc_limit"},
          {"malformed", "malformed"},
          {"other", "other"},
          {NULL, NULL}}},
        {"sipwarden_tls_handshakes_total",
         "TLS handshakes by result.",
         "result",
         "tls_handshakes",
         {{"ok", "ok"}, {"failed", "failed"}, {NULL, NULL}}},
        {"sipwarden_connections_refused_total",
         "Connections refused at accept, by reason.",
         "reason",
         "admission",
         {{"refused_banned", "banned"},
          {"refused_source", "source_limit"},
          {"refused_strangers", "strangers_limit"},
          {"refused_table", "table_full"},
          {NULL, NULL}}},
        {"sipwarden_cluster_admissions_total",
         "New calls asked of the shared limits ([cluster]), by result.",
         "result",
         "cluster",
         {{"admitted", "admitted"},
          {"refused", "refused"},
          {"admitted_local_share", "admitted_local_share"},
          {"refused_local_share", "refused_local_share"},
          {"refused_store_failure", "refused_store_failure"},
          {NULL, NULL}}},
        {"sipwarden_connections_closed_total",
         "Connections closed by sipwarden, by reason.",
         "reason",
         "connections",
         {{"idle_timeout", "idle_timeout"}, {"framing_closed", "framing"}, {NULL, NULL}}},
};

static void
put_labelled(FILE *f, const json_t *stats, const struct labelled *m)
{
	const json_t *obj = json_object_get(stats, m->path0);

	if (!json_is_object(obj))
		return;
	family(f, m->name, "counter", m->help);
	for (int i = 0; m->keys[i][0] != NULL; i++) {
		const json_t *v = json_object_get(obj, m->keys[i][0]);
		const char *labels[] = {m->label, m->keys[i][1], NULL};
		if (json_is_number(v))
			sample(f, m->name, labels, json_number_value(v));
	}
}

static void
put_stats(FILE *f, const json_t *stats)
{
	const json_t *by, *refusals, *kind_obj, *v;
	const char *kind, *key;
	double x;

	for (size_t i = 0; i < NELEM(simples); i++) {
		const struct simple *m = &simples[i];
		if (!stat_at(stats, m->path0, m->path1, &x))
			continue;
		family(f, m->name, m->type, m->help);
		sample(f, m->name, NULL, m->div > 0 ? x / m->div : x);
	}
	if (json_is_object(by = json_object_get(json_object_get(stats, "calls"), "by_outcome"))) {
		const char *name = "sipwarden_calls_ended_total";
		family(f, name, "counter", "Calls ended, by outcome.");
		for (size_t i = 0; i < NELEM(outcomes); i++) {
			const char *labels[] = {"outcome", outcomes[i], NULL};
			sample(f, name, labels,
			       json_number_value(json_object_get(by, outcomes[i])));
		}
		json_object_foreach((json_t *)by, key, v)
		{
			const char *labels[] = {"outcome", key, NULL};
			size_t i;
			for (i = 0; i < NELEM(outcomes) && strcmp(outcomes[i], key) != 0; i++)
				;
			if (i == NELEM(outcomes))
				sample(f, name, labels, json_number_value(v));
		}
	}
	if (json_is_object(refusals = json_object_get(stats, "refusals"))) {
		const char *name = "sipwarden_security_events_total";
		family(f, name, "counter",
		       "Security events (refusals, failed handshakes, floods), by kind and "
		       "reason.");
		json_object_foreach((json_t *)refusals, kind, kind_obj)
		{
			json_object_foreach((json_t *)kind_obj, key, v)
			{
				const char *labels[] = {"kind", kind, "reason", key, NULL};
				sample(f, name, labels, json_number_value(v));
			}
		}
	}
	for (size_t i = 0; i < NELEM(labelleds); i++)
		put_labelled(f, stats, &labelleds[i]);
}

static void
put_agents(FILE *f, const json_t *agents)
{
	static const struct {
		const char *name, *type, *help, *key;
	} fams[] = {
	        {"sipwarden_agent_up", "gauge", "1 when the agent is taking calls (probes).", "up"},
	        {"sipwarden_agent_calls", "gauge", "Calls the agent has in progress.", "calls"},
	        {"sipwarden_agent_calls_total", "counter", "Calls routed to the agent.",
	         "calls_total"},
	};
	const json_t *arr = json_object_get(agents, "agents"), *a;
	size_t i;

	if (!json_is_array(arr))
		return;
	for (size_t k = 0; k < NELEM(fams); k++) {
		family(f, fams[k].name, fams[k].type, fams[k].help);
		json_array_foreach(arr, i, a)
		{
			const char *name = json_string_value(json_object_get(a, "name"));
			const json_t *v = json_object_get(a, fams[k].key);
			const char *labels[] = {"agent", name, NULL};
			if (name == NULL)
				continue;
			if (json_is_boolean(v))
				sample(f, fams[k].name, labels, json_is_true(v) ? 1 : 0);
			else if (json_is_number(v))
				sample(f, fams[k].name, labels, json_number_value(v));
		}
	}
}

static void
put_hist(FILE *f, const char *name, const char *leg, const struct metrics_hist *h)
{
	char bname[128], le[40], tmp[40];
	uint64_t cum = 0;

	snprintf(bname, sizeof(bname), "%s_bucket", name);
	for (unsigned i = 0; i <= h->nbounds; i++) {
		const char *labels[] = {"leg", leg, "le", le, NULL};
		const char *const *ls = leg != NULL ? labels : labels + 2;
		if (i < h->nbounds) {
			cum += h->bucket[i];
			snprintf(le, sizeof(le), "%s", fmt_double(tmp, h->bounds[i]));
		} else {
			cum = h->count;
			snprintf(le, sizeof(le), "+Inf");
		}
		sample_u(f, bname, ls, cum);
	}
	const char *labels[] = {"leg", leg, NULL};
	snprintf(bname, sizeof(bname), "%s_sum", name);
	sample(f, bname, leg != NULL ? labels : NULL, h->sum);
	snprintf(bname, sizeof(bname), "%s_count", name);
	sample_u(f, bname, leg != NULL ? labels : NULL, h->count);
}

static void
put_calls(FILE *f, const struct metrics_calls *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} hists[] = {
	        {"sipwarden_media_loss_ratio",
	         "Fraction of packets lost per call direction (ended calls).",
	         offsetof(struct metrics_calls, loss)},
	        {"sipwarden_media_jitter_seconds",
	         "Interarrival jitter per call direction (ended calls).",
	         offsetof(struct metrics_calls, jitter)},
	        {"sipwarden_media_mos", "Estimated MOS per call direction (ended calls).",
	         offsetof(struct metrics_calls, mos)},
	};

	family(f, "sipwarden_call_setup_seconds", "histogram",
	       "Trunk INVITE to 200 OK of answered calls.");
	put_hist(f, "sipwarden_call_setup_seconds", NULL, &m->setup);
	for (size_t k = 0; k < NELEM(hists); k++) {
		const struct metrics_hist *h =
		        (const struct metrics_hist *)((const char *)m + hists[k].off);
		family(f, hists[k].name, "histogram", hists[k].help);
		for (int l = 0; l < METRICS_LEGS; l++)
			put_hist(f, hists[k].name, leg_names[l], &h[l]);
	}
	for (int b = 0; b < 2; b++) {
		const char *name =
		        b ? "sipwarden_media_bytes_total" : "sipwarden_media_packets_total";
		family(f, name, "counter",
		       b ? "Media bytes relayed, by leg and direction (ended calls)."
		         : "Media packets relayed, by leg and direction (ended calls).");
		for (int l = 0; l < METRICS_LEGS; l++)
			for (int d = 0; d < METRICS_DIRS; d++) {
				const char *labels[] = {"leg", leg_names[l], "direction",
				                        dir_names[d], NULL};
				sample_u(f, name, labels, b ? m->bytes[l][d] : m->packets[l][d]);
			}
	}
}

static void
put_process(FILE *f, const struct metrics_snapshot *s)
{
	if (s->open_fds >= 0) {
		family(f, "process_open_fds", "gauge", "Number of open file descriptors.");
		sample(f, "process_open_fds", NULL, (double)s->open_fds);
	}
	if (s->max_fds >= 0) {
		family(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		sample(f, "process_max_fds", NULL, (double)s->max_fds);
	}
	if (s->rss_bytes >= 0) {
		family(f, "process_resident_memory_bytes", "gauge",
		       "Resident memory size in bytes.");
		sample(f, "process_resident_memory_bytes", NULL, (double)s->rss_bytes);
	}
}

char *
metrics_format(const struct metrics_snapshot *s, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (f == NULL)
		return NULL;
	if (s->stats != NULL)
		put_stats(f, s->stats);
	if (s->calls != NULL)
		put_calls(f, s->calls);
	if (s->agents != NULL)
		put_agents(f, s->agents);
	put_process(f, s);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return buf;
}
