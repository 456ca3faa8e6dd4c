/*
 * metrics.h: Prometheus text exposition (format 0.0.4) of sipwarden's counters.
 *
 * Two halves. metrics_calls_observe() accumulates what only events know (set-up time,
 * loss/jitter/MOS of ended calls, media packets and bytes) into a struct metrics_calls;
 * lib/telemetry.c calls it for every event it emits, so every number has the same
 * source as the telemetry stream. metrics_format() turns a snapshot (the control
 * "stats" reply, the "agents" reply, a struct metrics_calls and process figures) into
 * the text a Prometheus server scrapes. Neither does I/O: the HTTP listener and
 * /proc reading live in daemon/metrics_http.c.
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_BUCKETS 12 /* finite upper bounds of one histogram */

/* One histogram: per-bucket (not cumulative) counts; values above the last bound count
 * only in `count` (the +Inf bucket). */
struct metrics_hist {
	const double *bounds; /* ascending, `nbounds` of them; static storage */
	unsigned nbounds;
	uint64_t bucket[METRICS_MAX_BUCKETS];
	uint64_t count;
	double sum;
};

enum { METRICS_LEG_TRUNK, METRICS_LEG_AGENT, METRICS_LEGS };
enum { METRICS_DIR_IN, METRICS_DIR_OUT, METRICS_DIRS };

/*
 * struct metrics_calls: what the events of calls add up to since start.
 * Owner: whoever embeds it (struct telemetry); plain data, no free.
 */
struct metrics_calls {
	struct metrics_hist setup;                /* call.answer setup_ms, in seconds */
	struct metrics_hist loss[METRICS_LEGS];   /* call.end, each direction with a value */
	struct metrics_hist jitter[METRICS_LEGS]; /* seconds */
	struct metrics_hist mos[METRICS_LEGS];
	uint64_t packets[METRICS_LEGS][METRICS_DIRS]; /* relayed, from call.end records */
	uint64_t bytes[METRICS_LEGS][METRICS_DIRS];
};

/* Empty accumulators with sipwarden's bucket bounds. */
void metrics_calls_init(struct metrics_calls *m);
/* Account one validated telemetry event (borrowed): call.answer and call.end count,
 * others are ignored. A null loss/jitter/mos (a direction without packets) is not an
 * observation. */
void metrics_calls_observe(struct metrics_calls *m, const json_t *event);

/*
 * The same accounting from the figures a record would carry, for an event that was not
 * built (nobody subscribed; lib/telemetry_event.c): a call.answer's setup_ms, and one
 * direction `dir` of leg `leg` of a call.end. The figures must be the record's own (rounded
 * as it rounds them), so that both ways give the same metrics.
 */
struct metrics_dir {
	uint64_t packets, bytes;
	bool measured; /* false: loss, jitter_ms and mos would be null (not observed) */
	double loss, jitter_ms, mos;
};
void metrics_calls_observe_setup(struct metrics_calls *m, int64_t setup_ms);
void metrics_calls_observe_dir(struct metrics_calls *m, int leg, int dir,
                               const struct metrics_dir *d);

/* Everything one scrape shows. Any pointer may be NULL (its metrics are left out). */
struct metrics_snapshot {
	const json_t *stats;  /* the control "stats" reply (daemon/main.c ctl_stats) */
	const json_t *agents; /* {"agents":[{"name","up","calls","calls_total"},..]} */
	const struct metrics_calls *calls;
	long long open_fds;  /* < 0: unknown */
	long long max_fds;   /* < 0: unknown */
	long long rss_bytes; /* < 0: unknown */
};

/*
 * Format `s` as Prometheus text exposition 0.0.4: each family once, with # HELP and
 * # TYPE, counters ending in _total. Returns a malloc'd NUL-terminated string (length in
 * *len when len is not NULL) or NULL when out of memory. Caller frees.
 */
char *metrics_format(const struct metrics_snapshot *s, size_t *len);

#endif
