/*
 * b2bua_overload.c: admission of new calls under overload. A new INVITE is refused with
 * a fast 503 (Retry-After) before any SDP parsing, call state or media port is spent on
 * it when the daemon could not serve it well: the signalling loop is running late (a
 * periodic tick measures its lag), the media workers are busy (their threads' CPU time
 * over the last second), too many calls are still being set up, the media port
 * range has no free pair for it, or the file descriptors left would eat into the reserve
 * kept for calls in progress. Calls already admitted are never touched here.
 *
 * Responsible for the measurements and the decision; the refusal itself (503, telemetry
 * security.limit_reached with reason "overload_*", rate-limited log) is overload_refuse().
 * Not responsible for the static limits (max_calls, per-trunk), which b2bua.c checks.
 */
#include "b2bua_int.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "monotime.h"

#define OVERLOAD_ADMIT_ALL      1000
#define OVERLOAD_ADMIT_MIN      20 /* 2 %: a probe of whether the loop keeps up */
#define OVERLOAD_ADMIT_UP       20 /* +2 % per tick on time: all again within 0.5 s */
#define OVERLOAD_ADMIT_DOWN_PCT 70 /* x 0.7 per tick of standing lag */
#define OVERLOAD_FDS_PER_CALL   4  /* two legs, an RTP and an RTCP socket each */
#define OVERLOAD_PAIRS_PER_CALL 2
#define OVERLOAD_SAMPLE_MS      1000 /* recount descriptors, sample media load */

/* File descriptors open now (at start, then about once a second). */
static unsigned
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (d == NULL)
		return 32;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* the directory's own fd */
}

/*
 * Count what is open and keep, as the baseline, what the SIP connections and the media
 * sockets do not explain (listeners, event fds, logs, telemetry readers, control
 * clients). Between counts the estimate follows connections and calls exactly; a count
 * costs a read of /proc/self/fd, so it is done about once a second, not per INVITE.
 */
static void
overload_recount(struct b2bua *b)
{
	struct sip_server_stats ss = {0};
	long other;

	sip_server_get_stats(b->sip, &ss);
	other = (long)fds_open() - (long)ss.open - (long)OVERLOAD_FDS_PER_CALL * (long)b->nmedia;
	b->ovl.fd_base = other > 0 ? (unsigned)other : 0;
}

unsigned
overload_load_pct(uint64_t cpu_ns, int64_t wall_ms, unsigned workers)
{
	uint64_t wall_ns = (uint64_t)(wall_ms > 0 ? wall_ms : 0) * 1000000u * workers;
	uint64_t pct;

	if (wall_ns == 0)
		return 0;
	pct = cpu_ns / (wall_ns / 100 > 0 ? wall_ns / 100 : 1);
	return pct > 100 ? 100 : (unsigned)pct;
}

/*
 * The media workers' load: CPU time their threads used since the last sample over the
 * wall time that passed, averaged over the workers (calls go to them in turn, so the mean
 * is what a new call meets). Sampled with the descriptor recount, about once a second.
 */
static void
overload_sample_media(struct b2bua *b, int64_t now)
{
	unsigned n = b->media != NULL ? media_engine_workers(b->media) : 0;
	uint64_t cpu = 0;

	for (unsigned i = 0; i < n; i++)
		cpu += media_engine_worker_cpu_ns(b->media, i);
	if (b->ovl.media_sample_ms != 0 && cpu >= b->ovl.media_cpu_ns) {
		unsigned load = overload_load_pct(cpu - b->ovl.media_cpu_ns,
		                                  now - b->ovl.media_sample_ms, n);
		if (load != b->ovl.media_load)
			log_debug("media workers %u%% busy", load);
		b->ovl.media_load = load;
	}
	b->ovl.media_cpu_ns = cpu;
	b->ovl.media_sample_ms = now;
}

/*
 * Every OVERLOAD_TICK_MS: how late did we run? A tick runs late by the work the loop did
 * before it, which is also how long a request that arrived meanwhile waited to be read.
 * The standing lag is the least of the last OVERLOAD_STANDING_TICKS ticks' (a queue, as
 * CoDel judges one: one burst of work, fifty TLS handshakes at once, delays one tick,
 * not three in a row). While it is over `max_loop_lag` the share of new calls admitted
 * is cut by 30 % a tick, and while it is not it grows back by 2 points a tick: admission
 * settles at what the loop can carry with a queue near the bound, and a refusal, cheap,
 * is sent after about that long instead of after a queue of hundreds of milliseconds.
 */
void
overload_lag_sample(struct overload *o, unsigned late_ms, unsigned max_ms)
{
	unsigned least = late_ms;

	o->late_ms[o->late_next] = late_ms;
	o->late_next = (o->late_next + 1) % OVERLOAD_STANDING_TICKS;
	for (unsigned i = 0; i < OVERLOAD_STANDING_TICKS; i++)
		if (o->late_ms[i] < least)
			least = o->late_ms[i];
	o->lag_ms = least;
	if (max_ms != 0 && least > max_ms) {
		o->admit_milli = o->admit_milli * OVERLOAD_ADMIT_DOWN_PCT / 100;
		if (o->admit_milli < OVERLOAD_ADMIT_MIN)
			o->admit_milli = OVERLOAD_ADMIT_MIN;
	} else if ((o->admit_milli += OVERLOAD_ADMIT_UP) > OVERLOAD_ADMIT_ALL || max_ms == 0) {
		o->admit_milli = OVERLOAD_ADMIT_ALL;
	}
}

static void
overload_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct b2bua *b = arg;
	struct timeval tv = {0, OVERLOAD_TICK_MS * 1000};
	int64_t now = monotime_ms(), late = now - b->ovl.last_tick_ms - OVERLOAD_TICK_MS;

	(void)fd;
	(void)what;
	/* re-armed from now (not a persistent event, which would make up for a late tick by
	 * running the next one early): each tick's lag is its own */
	b->ovl.last_tick_ms = now;
	if (event_add(b->ovl.tick, &tv) != 0)
		log_warnx("overload: the lag tick could not be re-armed");
	if (late < 0)
		late = 0;
	if (late > 600000)
		late = 600000;
	overload_lag_sample(&b->ovl, (unsigned)late, b->conf->limits.max_loop_lag_ms);
	/* by the clock, not by counting ticks: a tick re-armed after it runs takes a little
	 * more than OVERLOAD_TICK_MS, and the media load is a share of wall time */
	if (now - b->ovl.media_sample_ms >= OVERLOAD_SAMPLE_MS) {
		overload_recount(b);
		overload_sample_media(b, now);
	}
}

int
overload_start(struct b2bua *b)
{
	struct rlimit rl;
	struct timeval tv = {0, OVERLOAD_TICK_MS * 1000};
	const struct conf *cf = b->conf;
	unsigned first = (cf->media.port_min + 1u) & ~1u;

	b->ovl.fd_limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		b->ovl.fd_limit = rl.rlim_cur > 1u << 30 ? 1u << 30 : (unsigned)rl.rlim_cur;
	overload_recount(b);
	b->ovl.port_pairs =
	        cf->media.port_max >= first + 1 ? (cf->media.port_max - first + 1) / 2 : 0;
	b->ovl.last_tick_ms = monotime_ms();
	b->ovl.admit_milli = OVERLOAD_ADMIT_ALL;
	if ((b->ovl.tick = event_new(b->base, -1, 0, overload_tick_cb, b)) == NULL ||
	    event_add(b->ovl.tick, &tv) != 0)
		return -ENOMEM;
	log_info("admission: %u file descriptors in use, limit %u, %u kept in reserve; %u media "
	         "port pairs",
	         b->ovl.fd_base, b->ovl.fd_limit, cf->limits.fd_reserve, b->ovl.port_pairs);
	return 0;
}

void
overload_stop(struct b2bua *b)
{
	if (b->ovl.tick != NULL)
		event_free(b->ovl.tick);
	b->ovl.tick = NULL;
}

/* File descriptors a new call may still take without touching the reserve. */
static long
fds_free(const struct b2bua *b)
{
	return (long)b->ovl.fd_limit - (long)b->ovl.fd_base - (long)sip_server_open_conns(b->sip) -
	       (long)OVERLOAD_FDS_PER_CALL * (long)b->nmedia - (long)b->conf->limits.fd_reserve;
}

const char *
overload_check(struct b2bua *b)
{
	const struct conf_limits *l = &b->conf->limits;

	if (l->max_media_load != 0 && b->ovl.media_load >= l->max_media_load)
		return "overload_media";
	if (b->nlive - b->nanswered >= l->max_setup_calls)
		return "overload_setup";
	if (b->ovl.port_pairs < OVERLOAD_PAIRS_PER_CALL * (b->nmedia + 1))
		return "overload_ports";
	if (fds_free(b) < OVERLOAD_FDS_PER_CALL)
		return "overload_fds";
	/* last, so that only calls admitted otherwise draw on the loop's share */
	if (l->max_loop_lag_ms != 0 && b->ovl.admit_milli < OVERLOAD_ADMIT_ALL) {
		b->ovl.admit_credit += b->ovl.admit_milli;
		if (b->ovl.admit_credit < OVERLOAD_ADMIT_ALL)
			return "overload_loop_lag";
		b->ovl.admit_credit -= OVERLOAD_ADMIT_ALL;
	}
	return NULL;
}

void
overload_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req, const char *reason)
{
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);
	int64_t now = monotime_ms();

	b2bua_reply(b, conn, req, 503, NULL, "overloaded", NULL);
	telemetry_security(b->tel, TELEMETRY_SEC_LIMIT_REACHED, NULL,
	                   ci ? (const struct sockaddr *)&ci->peer : NULL, reason,
	                   "new calls shed under overload", 503);
	b->ovl.shed++;
	/* the log gets one line per second at most; telemetry has every refusal */
	if (now - b->ovl.last_log_ms >= 1000) {
		log_warnx("overload (%s): %lu new call(s) refused with 503 so far; %u in set-up, "
		          "loop lag %u ms, %u calls with media",
		          reason, b->ovl.shed, b->nlive - b->nanswered, b->ovl.lag_ms, b->nmedia);
		b->ovl.last_log_ms = now;
	}
}

json_t *
b2bua_overload_json(const struct b2bua *b)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "loop_lag_ms", (json_int_t)b->ovl.lag_ms,
	                 "admit_pct", (json_int_t)(b->ovl.admit_milli / 10), "media_load_pct",
	                 (json_int_t)b->ovl.media_load, "in_setup",
	                 (json_int_t)(b->nlive - b->nanswered), "shed", (json_int_t)b->ovl.shed);
}
