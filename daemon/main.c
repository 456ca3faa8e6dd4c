/*
 * main.c: sipwarden's entry point: arguments, configuration load and reload, the
 * signalling event loop, signals, drain, and systemd readiness, status and watchdog.
 *
 * Responsible for wiring lib/ modules to the OS and for the process lifecycle. Not
 * responsible for SIP or TLS behaviour (daemon/sip_server.c, lib/tls.c). sipwarden
 * always runs in the foreground (systemd Type=notify supervises it); -f is accepted
 * for compatibility with scripts that pass it and changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "b2bua.h"
#include "cluster.h"
#include "conf.h"
#include "conf_reload.h"
#include "conf_value.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "memwipe.h"
#include "monotime.h"
#include "media.h"
#include "metrics_http.h"
#include "sip_server.h"
#include "sip_util.h"
#include "telemetry.h"
#include "tls.h"

#define DRAIN_MS      500  /* after ending calls at stop, time for BYEs and final stats */
#define TICK_MS       250  /* how often STATUS= and the end of a drain are looked at */
#define TRIM_TICKS    40   /* every 10 s: hand memory freed by ended calls back to the OS */
#define STATUS_MIN_MS 1000 /* at most one STATUS= a second (each is a datagram) */
#define STOP_MARGIN_S 15   /* EXTEND_TIMEOUT_USEC on SIGTERM: drain_timeout + this */
#define WD_MIN_AGE_MS 1000 /* a worker counts as stuck only after this long, at least */

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sipwarden -c FILE [-f]   run (always in the foreground; -f is accepted)\n"
	        "       sipwarden -t -c FILE     check FILE, print what it holds, exit 0 or 1\n"
	        "       sipwarden -V             print the version\n"
	        "       sipwarden -h             this help\n"
	        "long options: --config FILE (-c), --foreground (-f), --check (-t), --version "
	        "(-V), --help (-h)\n");
}

unsigned
daemon_calls_now(const struct daemon *d)
{
	return d->b2bua != NULL ? b2bua_calls(d->b2bua) : 0;
}

/*
 * systemd's STATUS= line ("running, 3 calls", "draining, 1 call left", plus a stuck media
 * worker): sent when it changes, at most once a second unless `now` (a change of state).
 */
static void
daemon_status(struct daemon *d, bool now)
{
	char buf[sizeof(d->status)];
	unsigned n = daemon_calls_now(d);
	const char *s = n == 1 ? "" : "s";
	int len;

	if (d->ended)
		len = snprintf(buf, sizeof(buf), "stopping");
	else if (d->draining)
		len = snprintf(buf, sizeof(buf), "%sdraining, %u call%s left",
		               d->drain_exit ? "stopping: " : "", n, s);
	else
		len = snprintf(buf, sizeof(buf), "running, %u call%s", n, s);
	if (d->wd_stuck && len > 0 && (size_t)len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - (size_t)len,
		         "; media worker %u stuck, watchdog withheld", d->wd_stale);
	if (strcmp(buf, d->status) == 0 || (!now && monotime_ms() - d->status_ms < STATUS_MIN_MS))
		return;
	sd_notifyf(0, "STATUS=%s", buf);
	memcpy(d->status, buf, sizeof(buf));
	d->status_ms = monotime_ms();
}

/* End every call (BYE, reason "shutdown") and leave the loop once they are out. */
static void
daemon_end_calls_and_exit(struct daemon *d)
{
	d->ended = true;
	if (d->b2bua != NULL && b2bua_shutdown(d->b2bua) > 0) {
		struct timeval tv = {0, DRAIN_MS * 1000};
		event_base_loopexit(d->base, &tv); /* let BYEs and call records go out */
	} else {
		event_base_loopbreak(d->base);
	}
	daemon_status(d, true);
}

/* Drain (new calls 503, OPTIONS 503) or not; `timeout_ms` > 0 ends the calls left then. */
void
daemon_drain(struct daemon *d, bool on, unsigned timeout_ms)
{
	d->draining = on;
	b2bua_set_draining(d->b2bua, on);
	evtimer_del(d->drain_ev);
	if (on && timeout_ms > 0) {
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
		evtimer_add(d->drain_ev, &tv);
	}
	daemon_status(d, true);
}

static void
daemon_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	unsigned n;

	(void)fd;
	(void)what;
	if (d->drain_exit) {
		log_info("drain: timeout passed, ending %u call(s) and stopping",
		         daemon_calls_now(d));
		daemon_end_calls_and_exit(d);
		return;
	}
	n = b2bua_end_calls(d->b2bua);
	log_info("drain: timeout passed, %u call(s) ended with BYE; still draining "
	         "(sipwardenctl undrain takes calls again)",
	         n);
	daemon_status(d, true);
}

static void
daemon_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_refusal_flush(); /* summaries of refusals whose window ended */
	if (d->drain_exit && !d->ended && daemon_calls_now(d) == 0) {
		log_info("drain: no call left, stopping");
		daemon_end_calls_and_exit(d);
		return;
	}
	daemon_status(d, false);
	/* glibc keeps what ended calls freed (several arenas: media workers allocate SRTP
	 * streams) and returns little of it by itself: 1,000 calls ended left ~47 MB resident,
	 * malloc_trim() brings it back to ~6 MB above idle (tools/bench_memory). It walks the
	 * free lists; a few ms at most, every 10 s. */
	if (++d->trim_ticks >= TRIM_TICKS) {
		d->trim_ticks = 0;
		malloc_trim(0);
	}
}

static void
daemon_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	unsigned n = daemon_calls_now(d), timeout_s = d->conf->drain_timeout_s;

	(void)what;
	if (d->stopping) {
		if (d->drain_exit && !d->ended) {
			log_info("signal %d again: ending the %u call(s) left now", (int)sig, n);
			daemon_end_calls_and_exit(d);
			return;
		}
		event_base_loopbreak(d->base); /* one more: stop at once */
		return;
	}
	d->stopping = true;
	sd_notify(0, "STOPPING=1");
	if (timeout_s > 0 && n > 0 && d->b2bua != NULL) {
		/* systemd waits for the drain (TimeoutStopSec only covers the default) */
		sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu",
		           (unsigned long long)(timeout_s + STOP_MARGIN_S) * 1000000ull);
		log_info("signal %d: draining before stopping: %u call(s) may go on for up to %us, "
		         "new calls get 503 (a second signal ends them at once)",
		         (int)sig, n, timeout_s);
		d->drain_exit = true;
		daemon_drain(d, true, timeout_s * 1000);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	daemon_end_calls_and_exit(d);
}

/* WATCHDOG=1 only while every media worker goes round its loop (a stuck main loop sends
 * nothing either): systemd restarts a daemon that stops pinging. */
static void
daemon_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	unsigned stale = 0;

	(void)fd;
	(void)what;
	if (media_engine_workers_alive(d->media, d->wd_max_age_ms, &stale)) {
		if (d->wd_stuck) {
			log_info("watchdog: media workers run again, pings resume");
			d->wd_stuck = false;
			daemon_status(d, true);
		}
		sd_notify(0, "WATCHDOG=1");
		return;
	}
	if (!d->wd_stuck) {
		log_error("watchdog: media worker %u has not run for %llu ms; WATCHDOG=1 withheld "
		          "(systemd restarts sipwarden if it stays stuck)",
		          stale,
		          (unsigned long long)media_engine_worker_tick_age_ms(d->media, stale));
		d->wd_stuck = true;
		d->wd_stale = stale;
		daemon_status(d, true);
	}
}

/* Under WatchdogSec= (WATCHDOG_USEC): ping at half the interval. 0, or 1 on failure. */
static int
daemon_watchdog_start(struct daemon *d)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	d->wd_max_age_ms = (unsigned)(usec / 2000u);
	if (d->wd_max_age_ms < WD_MIN_AGE_MS)
		d->wd_max_age_ms = WD_MIN_AGE_MS;
	tv.tv_sec = (time_t)(usec / 2 / 1000000u);
	tv.tv_usec = (suseconds_t)(usec / 2 % 1000000u);
	if ((d->wd_ev = event_new(d->base, -1, EV_PERSIST, daemon_watchdog_cb, d)) == NULL ||
	    evtimer_add(d->wd_ev, &tv) != 0)
		return 1;
	log_info("watchdog: WATCHDOG=1 every %llu ms while every media worker runs within %u ms",
	         (unsigned long long)(usec / 2000u), d->wd_max_age_ms);
	sd_notify(0, "WATCHDOG=1");
	return 0;
}

/*
 * Re-read the config file and swap it in, or refuse and keep the running one entirely.
 * Everything that can fail is done before anything is swapped: load and check the file,
 * compare it with the running one (a key that only applies at start refuses the reload,
 * by name: conf_reload.h), build the TLS contexts (server, agents, trunks). Returns 0, or
 * -1 with the reason in `why` and the keys that need a restart in `diff`; either way it
 * is logged and reported on the telemetry socket (config.loaded / config.refused).
 */
int
daemon_reload(struct daemon *d, struct conf_diff *diff, char *why, size_t wl)
{
	char err[CONF_ERR_MAX], keys[CONF_DIFF_MAX * CONF_DIFF_NAMELEN];
	const char *names[CONF_DIFF_MAX], *reason = "invalid";
	struct conf *c;
	SSL_CTX *ctx = NULL;
	int rc;

	memset(diff, 0, sizeof(*diff));
	if ((c = conf_load(d->conf_path, err, sizeof(err))) == NULL) {
		snprintf(why, wl, "%s", err);
		goto refused;
	}
	if (conf_reload_diff(d->conf, c, diff) > 0) {
		reason = "restart_needed";
		snprintf(why, wl, "%s (applied only at start: restart sipwarden to change)",
		         conf_reload_diff_str(diff, keys, sizeof(keys)));
		goto refused;
	}
	reason = "tls";
	if ((ctx = tls_server_ctx_new(&c->tls, err, sizeof(err))) == NULL) {
		snprintf(why, wl, "%s", err);
		goto refused;
	}
	/* b2bua_reload() builds the agents' and trunks' contexts before it changes anything */
	if (d->b2bua != NULL && b2bua_reload(d->b2bua, c, err, sizeof(err)) != 0) {
		snprintf(why, wl, "%s", err);
		goto refused;
	}
	/* [tls] listen is a restart key, so this cannot refuse any more */
	if ((rc = sip_server_reload(d->sip, c, ctx)) != 0)
		log_error("reload: the SIP listener kept its config: %s", strerror(-rc));
	SSL_CTX_free(d->ctx);
	d->ctx = ctx;
	conf_unref(d->conf);
	d->conf = c;
	log_init("sipwarden", c->log_level, c->log_syslog);
	telemetry_config_loaded(d->tel, c->path, c->sha256);
	log_info("configuration reloaded from %s", d->conf_path);
	return 0;
refused:
	SSL_CTX_free(ctx);
	if (c != NULL)
		conf_unref(c);
	log_warnx("reload refused, keeping current config: %s", why);
	for (size_t i = 0; i < diff->n; i++)
		names[i] = diff->key[i];
	telemetry_config_refused(d->tel, d->conf_path, reason, why, names, diff->n);
	return -1;
}

static void
daemon_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct conf_diff diff;
	char why[CONF_ERR_MAX + CONF_DIFF_MAX * CONF_DIFF_NAMELEN];

	(void)sig;
	(void)what;
	sd_notify(0, "RELOADING=1");
	daemon_reload(d, &diff, why, sizeof(why));
	sd_notify(0, "READY=1");
}

static void
daemon_free(struct daemon *d)
{
	metrics_http_free(d->metrics);
	cluster_stop(d->cluster); /* answers the INVITEs it holds: before the B2BUA goes */
	b2bua_free(d->b2bua);
	control_free(d->ctl);
	sip_server_free(d->sip);
	media_engine_free(d->media);
	if (d->tel != NULL)
		telemetry_daemon_stop(d->tel, d->stopping ? "signal" : "error");
	telemetry_free(d->tel);
	/* Freeing a signal event brings back the default action: a SIGTERM arriving from
	 * here on (an impatient operator, systemd plus a script) would kill the process
	 * before it exits 0. Hold them blocked, then ignore them, for the rest of the exit. */
	sigset_t stop_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sighup != NULL)
		event_free(d->sighup);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->drain_ev != NULL)
		event_free(d->drain_ev);
	if (d->wd_ev != NULL)
		event_free(d->wd_ev);
	if (d->base != NULL) {
		/* Connections use deferred callbacks: one still queued holds a reference to
		 * its bufferevent, released only when it runs. Run what is queued (the
		 * callbacks themselves were cleared by bufferevent_free) before the base goes. */
		event_base_loop(d->base, EVLOOP_NONBLOCK);
		event_base_free(d->base);
	}
	SSL_CTX_free(d->ctx);
	if (d->conf != NULL)
		conf_unref(d->conf);
	libevent_global_shutdown();
}

/*
 * [general] signalling_boost: this thread (the signalling thread; the media workers have
 * started and keep the process's nice value) `steps` nice steps higher. On Linux a
 * thread's nice value is its own: PRIO_PROCESS with who = 0 names the calling thread.
 * 0, or 1 after saying why it cannot (no CAP_SYS_NICE, RLIMIT_NICE too low).
 */
static int
daemon_boost_signalling(unsigned steps)
{
	int cur, want;

	if (steps == 0)
		return 0;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if (cur == -1 && errno != 0) {
		log_error("[general] signalling_boost: cannot read the thread's nice value: %s",
		          strerror(errno));
		return 1;
	}
	want = cur - (int)steps < -20 ? -20 : cur - (int)steps;
	if (setpriority(PRIO_PROCESS, 0, want) != 0) {
		log_error(
		        "[general] signalling_boost = %u: cannot raise the signalling thread from "
		        "nice %d to %d: %s (needs CAP_SYS_NICE or an RLIMIT_NICE that allows it, "
		        "and no seccomp filter against setpriority: under systemd LimitNICE=%+d "
		        "and SystemCallFilter=setpriority)",
		        steps, cur, want, strerror(errno), want);
		return 1;
	}
	log_info("signalling thread at nice %d, %u step(s) above the media workers' %d", want,
	         (unsigned)(cur - want), cur);
	return 0;
}

/* Media, telemetry, control and the B2BUA on top of the SIP server. 0 or 1. */
static int
daemon_start_calls(struct daemon *d)
{
	const struct conf *c = d->conf;
	struct media_engine_conf mc = {0};
	char err[CONF_ERR_MAX];
	int rc;

	d->tel = telemetry_new(d->base, c->telemetry.socket, c->telemetry.socket_mode,
	                       c->telemetry.socket_group, c->telemetry.queue_limit, err,
	                       sizeof(err));
	if (d->tel == NULL) {
		log_error("telemetry: %s", err);
		return 1;
	}
	if (c->cluster.redis != NULL && telemetry_set_instance(d->tel, c->cluster.instance) != 0) {
		log_error("telemetry: out of memory");
		return 1;
	}
	telemetry_daemon_start(d->tel);
	telemetry_config_loaded(d->tel, c->path, c->sha256);
	sip_server_set_telemetry(d->sip, d->tel);
	if ((rc = media_global_init()) != 0) {
		log_error("SRTP library initialisation failed");
		return 1;
	}
	mc.workers = c->media.workers;
	memcpy(&mc.local, &c->media.address.ss, sizeof(mc.local));
	mc.port_min = c->media.port_min;
	mc.port_max = c->media.port_max;
	mc.idle_notice_s = c->media.inactivity_timeout_s;
	mc.io = c->media.io == CONF_MEDIA_IO_URING   ? MEDIA_IO_URING
	        : c->media.io == CONF_MEDIA_IO_EPOLL ? MEDIA_IO_EPOLL
	                                             : MEDIA_IO_AUTO;
	if ((rc = media_engine_new(&d->media, &mc)) != 0) {
		if (mc.io == MEDIA_IO_URING)
			log_error("media engine: [media] io = uring: io_uring unavailable: %s",
			          strerror(-rc));
		else
			log_error("media engine: %s", strerror(-rc));
		return 1;
	}
	if (daemon_boost_signalling(c->signalling_boost) != 0)
		return 1;
	if ((rc = b2bua_new(&d->b2bua, d->base, d->conf, d->sip, d->media, d->tel, err,
	                    sizeof(err))) != 0) {
		log_error("%s", err);
		return 1;
	}
	if (c->cluster.redis != NULL &&
	    (rc = cluster_start(&d->cluster, d->base, d->conf, d->tel, d->b2bua, d->sip)) != 0) {
		log_error("cluster: %s", strerror(-rc));
		return 1;
	}
	if (c->telemetry.control_socket != NULL) {
		d->ctl = control_new(d->base, c->telemetry.control_socket,
		                     c->telemetry.control_mode, NULL, err, sizeof(err));
		if (d->ctl == NULL) {
			log_error("control socket: %s", err);
			return 1;
		}
		daemon_ctl_register(d);
	}
	if (c->metrics.listen.len > 0 &&
	    (d->metrics = metrics_http_start(d->base, &c->metrics.listen, daemon_ctl_stats,
	                                     daemon_ctl_agents, d->tel, d, err, sizeof(err))) ==
	            NULL) {
		log_error("metrics: %s", err);
		return 1;
	}
	log_info("media: %u worker(s), ports %u-%u, %s crypto, io %s%s",
	         media_engine_workers(d->media), c->media.port_min, c->media.port_max,
	         media_global_openssl() ? "OpenSSL" : "libsrtp built-in",
	         media_io_name(media_engine_io(d->media)),
	         c->media.io == CONF_MEDIA_IO_AUTO && media_engine_io(d->media) == MEDIA_IO_EPOLL
	                 ? " (io_uring unavailable)"
	                 : "");
	return 0;
}

/*
 * Raise the soft limit on open files to the hard limit: every call holds four media
 * sockets and its share of TLS connections, and the default soft limit (1024) runs out
 * near 250 calls. Log what we have and, when the configured limits could need more, say
 * that new calls will be shed (b2bua_overload.c keeps conf fd_reserve for calls in
 * progress) instead of failing.
 */
static void
raise_nofile(const struct conf *c)
{
	struct rlimit rl;
	unsigned long before, need;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return;
	}
	before = (unsigned long)rl.rlim_cur;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("setrlimit(RLIMIT_NOFILE, %lu)", (unsigned long)rl.rlim_max);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	need = 4ul * c->limits.max_calls + c->tls.max_connections + c->limits.fd_reserve + 64;
	log_info("open files: limit %lu (was %lu); max_calls %u and max_connections %u may need "
	         "up to %lu",
	         (unsigned long)rl.rlim_cur, before, c->limits.max_calls, c->tls.max_connections,
	         need);
	if (rl.rlim_cur != RLIM_INFINITY && (unsigned long)rl.rlim_cur < need)
		log_warnx("open files: limit %lu is below what max_calls and max_connections may "
		          "need (%lu); new calls are refused with 503 before it runs out (raise "
		          "LimitNOFILE)",
		          (unsigned long)rl.rlim_cur, need);
}

static int
check_config(const char *path)
{
	char err[CONF_ERR_MAX];
	struct conf *c = conf_load(path, err, sizeof(err));

	if (c == NULL) {
		fprintf(stderr, "sipwarden: %s\n", err);
		return 1;
	}
	conf_print(c, stdout);
	conf_unref(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct daemon d = {0};
	char err[CONF_ERR_MAX], addr[128];
	bool check = false;
	int ch, rc;

	static const struct option lopts[] = {
	        {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	        {"check", no_argument, NULL, 't'},        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};

	memwipe_install(); /* SIP text holds SDES keys: wiped as it is freed */
	while ((ch = getopt_long(argc, argv, "c:ftVh", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'f':
			break; /* always foreground */
		case 't':
			check = true;
			break;
		case 'V':
			printf("sipwarden %s\n", SW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (d.conf_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_config(d.conf_path);

	log_init("sipwarden", LOG_LVL_INFO, false);
	if ((d.conf = conf_load(d.conf_path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_init("sipwarden", d.conf->log_level, d.conf->log_syslog);
	raise_nofile(d.conf);
	signal(SIGPIPE, SIG_IGN);
	if (sip_util_init() != 0)
		fatalx("cannot initialise the SIP parser");
	if ((d.ctx = tls_server_ctx_new(&d.conf->tls, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		rc = 1;
		goto out;
	}
	if ((d.base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		rc = 1;
		goto out;
	}
	conf_sockaddr_str(&d.conf->tls.listen, addr, sizeof(addr));
	if ((rc = sip_server_new(&d.sip, d.base, d.conf, d.ctx, NULL)) != 0) {
		log_error("cannot listen on %s: %s", addr, strerror(-rc));
		rc = 1;
		goto out;
	}
	if (daemon_start_calls(&d) != 0) {
		rc = 1;
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, daemon_stop_cb, &d);
	d.sigint = evsignal_new(d.base, SIGINT, daemon_stop_cb, &d);
	d.sighup = evsignal_new(d.base, SIGHUP, daemon_reload_cb, &d);
	if (d.sigterm == NULL || d.sigint == NULL || d.sighup == NULL ||
	    evsignal_add(d.sigterm, NULL) != 0 || evsignal_add(d.sigint, NULL) != 0 ||
	    evsignal_add(d.sighup, NULL) != 0) {
		log_error("cannot install signal handlers");
		rc = 1;
		goto out;
	}
	{
		struct timeval tick = {0, TICK_MS * 1000};
		d.tick = event_new(d.base, -1, EV_PERSIST, daemon_tick_cb, &d);
		d.drain_ev = evtimer_new(d.base, daemon_drain_timeout_cb, &d);
		if (d.tick == NULL || d.drain_ev == NULL || evtimer_add(d.tick, &tick) != 0) {
			log_error("cannot create the drain and status timers");
			rc = 1;
			goto out;
		}
	}
	log_info("sipwarden %s listening on %s (SIP over TLS, minimum %s)", SW_VERSION, addr,
	         tls_version_name(d.conf->tls.min_version < TLS1_2_VERSION
	                                  ? TLS1_2_VERSION
	                                  : d.conf->tls.min_version));
	sd_notify(0, "READY=1");
	daemon_status(&d, true);
	if (daemon_watchdog_start(&d) != 0) {
		log_error("cannot start the watchdog timer");
		rc = 1;
		goto out;
	}
	rc = event_base_dispatch(d.base) < 0 ? 1 : 0;
	log_info("stopped");
out:
	daemon_free(&d);
	return rc;
}
