/*
 * daemon.h: the running process, shared by daemon/main.c (life cycle: start, signals,
 * drain, reload, systemd) and daemon/daemon_ctl.c (the control socket's commands). Not
 * installed, not used by the B2BUA or lib/.
 */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf_reload.h"

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
	struct cluster *cluster; /* [cluster], or NULL */
	struct event *sigterm, *sigint, *sighup;
	struct event *tick;     /* every TICK_MS: STATUS=, the end of a drain on SIGTERM */
	struct event *drain_ev; /* one-shot: the drain's timeout */
	struct event *wd_ev;    /* every half watchdog interval: WATCHDOG=1 if workers tick */
	unsigned wd_max_age_ms; /* a media worker silent for longer is stuck */
	unsigned wd_stale;      /* the stuck worker, while wd_stuck */
	bool wd_stuck;          /* WATCHDOG=1 withheld */
	bool stopping;          /* SIGTERM/SIGINT seen */
	bool draining;          /* new calls refused (sipwardenctl drain, or SIGTERM) */
	bool drain_exit;        /* SIGTERM drain: exit when no call is left */
	bool ended;             /* calls ended, the loop exits shortly */
	char status[160];       /* the last STATUS= sent */
	int64_t status_ms;
	unsigned trim_ticks; /* ticks since the last malloc_trim() */
};

/* Calls in progress (0 before the B2BUA exists). */
unsigned daemon_calls_now(const struct daemon *d);
/* Refuse new calls (on) or take them again; timeout_ms > 0: then end the calls left. */
void daemon_drain(struct daemon *d, bool on, unsigned timeout_ms);
/* Re-read the config file, all or nothing: 0, or -1 with why (and diff: the keys that
 * need a restart). */
int daemon_reload(struct daemon *d, struct conf_diff *diff, char *why, size_t wl);

/* daemon_ctl.c: register every command on d->ctl. */
void daemon_ctl_register(struct daemon *d);
/* The "stats" and "agents" replies (also served by the metrics endpoint). */
json_t *daemon_ctl_stats(const json_t *req, void *arg);
json_t *daemon_ctl_agents(const json_t *req, void *arg);

#endif
