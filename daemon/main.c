/*
 * main.c: sipwarden's entry point: arguments, configuration load and reload, the
 * signalling event loop, signals and systemd readiness.
 *
 * Responsible for wiring lib/ modules to the OS and for the process lifecycle. Not
 * responsible for SIP or TLS behaviour (daemon/sip_server.c, lib/tls.c). sipwarden
 * always runs in the foreground (systemd Type=notify supervises it); -f is accepted
 * for compatibility with scripts that pass it and changes nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "b2bua.h"
#include "conf.h"
#include "control.h"
#include "log.h"
#include "media.h"
#include "metrics_http.h"
#include "sip_server.h"
#include "sip_util.h"
#include "telemetry.h"
#include "tls.h"

#define DRAIN_MS 500 /* after ending calls at stop, time for BYEs and final stats */

/* struct daemon: everything the running process owns; freed by daemon_free(). */
struct daemon {
	const char *conf_path;
	struct conf *conf;
	SSL_CTX *ctx;
	struct event_base *base;
	struct sip_server *sip;
	struct media_engine *media;
	struct telemetry *tel;
	struct control *ctl;
	struct metrics_http *metrics; /* [metrics] listen, or NULL */
	struct b2bua *b2bua;
	struct event *sigterm, *sigint, *sighup;
	bool stopping;
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sipwarden -c FILE [-f]   run (always in the foreground; -f is accepted)\n"
	        "       sipwarden -t -c FILE     check FILE, print what it holds, exit 0 or 1\n"
	        "       sipwarden -V             print the version\n"
	        "       sipwarden -h             this help\n");
}

static void
daemon_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (d->stopping) {
		event_base_loopbreak(d->base); /* a second signal: stop at once */
		return;
	}
	d->stopping = true;
	log_info("signal %d: stopping", (int)sig);
	sd_notify(0, "STOPPING=1");
	if (d->b2bua != NULL && b2bua_shutdown(d->b2bua) > 0) {
		struct timeval tv = {0, DRAIN_MS * 1000};
		event_base_loopexit(d->base, &tv); /* let BYEs and call records go out */
		return;
	}
	event_base_loopbreak(d->base);
}

static void
daemon_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char err[CONF_ERR_MAX];
	struct conf *c;
	SSL_CTX *ctx;
	int rc;

	(void)sig;
	(void)what;
	sd_notify(0, "RELOADING=1");
	if ((c = conf_load(d->conf_path, err, sizeof(err))) == NULL) {
		log_warnx("reload refused, keeping current config: %s", err);
		goto out;
	}
	if (metrics_http_conf_changed(d->conf, c)) {
		log_warnx("reload refused, keeping current config: [metrics] listen or "
		          "allow_remote changed (needs a restart)");
		conf_unref(c);
		goto out;
	}
	if ((ctx = tls_server_ctx_new(&c->tls, err, sizeof(err))) == NULL) {
		log_warnx("reload refused, keeping current config: %s", err);
		conf_unref(c);
		goto out;
	}
	if ((rc = sip_server_reload(d->sip, c, ctx)) != 0) {
		log_warnx("reload refused, keeping current config: %s",
		          rc == -EBUSY ? "[tls] listen changed (needs a restart)" : strerror(-rc));
		SSL_CTX_free(ctx);
		conf_unref(c);
		goto out;
	}
	if (d->b2bua != NULL && (rc = b2bua_reload(d->b2bua, c, err, sizeof(err))) != 0) {
		/* the SIP server already took the new limits; calls keep the old pool shape */
		log_warnx("reload: calls keep the current trunks and agents: %s", err);
	}
	SSL_CTX_free(d->ctx);
	d->ctx = ctx;
	conf_unref(d->conf);
	d->conf = c;
	log_init("sipwarden", c->log_level, c->log_syslog);
	telemetry_config_loaded(d->tel, c->path, c->sha256);
	log_info("configuration reloaded from %s", d->conf_path);
out:
	sd_notify(0, "READY=1");
}

static void
daemon_free(struct daemon *d)
{
	metrics_http_free(d->metrics);
	b2bua_free(d->b2bua);
	control_free(d->ctl);
	sip_server_free(d->sip);
	media_engine_free(d->media);
	if (d->tel != NULL)
		telemetry_daemon_stop(d->tel, d->stopping ? "signal" : "error");
	telemetry_free(d->tel);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sighup != NULL)
		event_free(d->sighup);
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

static json_t *
ctl_calls(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	return b2bua_calls_json(d->b2bua);
}

static json_t *
ctl_call(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	return b2bua_call_json(d->b2bua, json_string_value(json_object_get(req, "id")));
}

static json_t *
ctl_agents(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	return b2bua_agents_json(d->b2bua);
}

static json_t *
ctl_stats(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	struct sip_server_stats ss;
	json_t *o = telemetry_counters(d->tel);

	sip_server_get_stats(d->sip, &ss);
	if (o != NULL) {
		json_t *calls = json_object_get(o, "calls");
		if (json_is_object(calls))
			json_object_set_new(calls, "current", json_integer(b2bua_calls(d->b2bua)));
		json_object_set_new(o, "connections",
		                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "open",
		                              (json_int_t)ss.open, "accepted",
		                              (json_int_t)ss.accepted, "refused_cap",
		                              (json_int_t)ss.refused_cap, "idle_timeout",
		                              (json_int_t)ss.idle_timeout, "framing_closed",
		                              (json_int_t)ss.framing_closed, "parse_errors",
		                              (json_int_t)ss.parse_errors));
		json_object_set_new(
		        o, "admission",
		        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "refused_banned",
		                  (json_int_t)ss.refused_banned, "refused_source",
		                  (json_int_t)ss.refused_source, "refused_strangers",
		                  (json_int_t)ss.refused_strangers, "refused_table",
		                  (json_int_t)ss.refused_table, "first_request_timeout",
		                  (json_int_t)ss.first_request_timeout, "bans", (json_int_t)ss.bans,
		                  "scanners", (json_int_t)ss.scanners, "shed", (json_int_t)ss.shed,
		                  "sources", (json_int_t)ss.sources, "banned_now",
		                  (json_int_t)ss.sources_banned));
	}
	return o;
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
	if ((rc = media_engine_new(&d->media, &mc)) != 0) {
		log_error("media engine: %s", strerror(-rc));
		return 1;
	}
	if ((rc = b2bua_new(&d->b2bua, d->base, d->conf, d->sip, d->media, d->tel, err,
	                    sizeof(err))) != 0) {
		log_error("%s", err);
		return 1;
	}
	if (c->telemetry.control_socket != NULL) {
		d->ctl = control_new(d->base, c->telemetry.control_socket,
		                     c->telemetry.control_mode, NULL, err, sizeof(err));
		if (d->ctl == NULL) {
			log_error("control socket: %s", err);
			return 1;
		}
		control_register(d->ctl, "calls", ctl_calls, d);
		control_register(d->ctl, "call", ctl_call, d);
		control_register(d->ctl, "agents", ctl_agents, d);
		control_register(d->ctl, "stats", ctl_stats, d);
	}
	if (c->metrics.listen.len > 0 &&
	    (d->metrics = metrics_http_start(d->base, &c->metrics.listen, ctl_stats, ctl_agents,
	                                     d->tel, d, err, sizeof(err))) == NULL) {
		log_error("metrics: %s", err);
		return 1;
	}
	log_info("media: %u worker(s), ports %u-%u, %s crypto", media_engine_workers(d->media),
	         c->media.port_min, c->media.port_max,
	         media_global_openssl() ? "OpenSSL" : "libsrtp built-in");
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

	while ((ch = getopt(argc, argv, "c:ftVh")) != -1) {
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
	log_info("sipwarden %s listening on %s (SIP over TLS, minimum %s)", SW_VERSION, addr,
	         tls_version_name(d.conf->tls.min_version < TLS1_2_VERSION
	                                  ? TLS1_2_VERSION
	                                  : d.conf->tls.min_version));
	sd_notify(0, "READY=1");
	rc = event_base_dispatch(d.base) < 0 ? 1 : 0;
	log_info("stopped");
out:
	daemon_free(&d);
	return rc;
}
