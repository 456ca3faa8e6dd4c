/*
 * daemon_ctl.c: the control socket's commands (calls, call, agents, stats, drain,
 * undrain, reload, loglevel, cluster; test_stall in test builds), as JSON replies built
 * from what the daemon's modules report. The metrics endpoint reuses stats and agents.
 * Not responsible for the socket itself (lib/control.c) or for what the commands do
 * (daemon/main.c: drain and reload; the B2BUA, SIP server and cluster: their state).
 */
#include <jansson.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "b2bua.h"
#include "cluster.h"
#include "conf.h"
#include "conf_reload.h"
#include "conf_value.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "media.h"
#include "memwipe.h"
#include "sip_server.h"
#include "telemetry.h"

#define DRAIN_MAX_MS (24u * 3600u * 1000u) /* sipwardenctl drain --timeout, at most */

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

json_t *
daemon_ctl_agents(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	return b2bua_agents_json(d->b2bua);
}

json_t *
daemon_ctl_stats(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	struct sip_server_stats ss;
	json_t *o = telemetry_counters(d->tel);

	sip_server_get_stats(d->sip, &ss);
	if (o != NULL && d->cluster != NULL)
		json_object_set_new(o, "cluster", cluster_stats_json(d->cluster));
	if (o != NULL)
		json_object_set_new(o, "draining", json_boolean(d->draining));
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
		json_object_set_new(json_object_get(o, "admission"), "bans_remote",
		                    json_integer((json_int_t)ss.bans_remote));
		json_object_set_new(o, "overload", b2bua_overload_json(d->b2bua));
		json_object_set_new(
		        o, "memory",
		        json_pack("{s:I}", "wiped_bytes", (json_int_t)memwipe_wiped_bytes()));
		if (d->media != NULL)
			json_object_set_new(o, "media",
			                    json_pack("{s:s,s:I}", "io",
			                              media_io_name(media_engine_io(d->media)),
			                              "workers",
			                              (json_int_t)media_engine_workers(d->media)));
	}
	return o;
}

/* {"cmd":"drain"[,"timeout":"10m"]}: refuse new calls; calls in progress go on, until
 * the timeout when there is one (then BYE, reason "shutdown"). */
static json_t *
ctl_drain(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	const json_t *jt = json_object_get(req, "timeout");
	unsigned long long ms = 0;

	if (d->stopping)
		return json_pack("{s:s}", "error", "sipwarden is stopping");
	if (jt != NULL &&
	    (!json_is_string(jt) || conf_value_duration_ms(json_string_value(jt), &ms) != 0 ||
	     ms > DRAIN_MAX_MS))
		return json_pack(
		        "{s:s}", "error",
		        "timeout: expected a duration such as 90s, 10m or 2h (at most 24h)");
	log_info("drain (control socket): new calls get 503, %u call(s) in progress go on%s",
	         daemon_calls_now(d), ms > 0 ? " until the timeout" : "");
	daemon_drain(d, true, (unsigned)ms);
	return json_pack("{s:b, s:I, s:o}", "draining", 1, "calls", (json_int_t)daemon_calls_now(d),
	                 "timeout_ms", ms > 0 ? json_integer((json_int_t)ms) : json_null());
}

/* {"cmd":"undrain"}: take new calls again (not while stopping). */
static json_t *
ctl_undrain(const json_t *req, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return json_pack("{s:s}", "error", "sipwarden is stopping");
	if (d->draining)
		log_info("undrain (control socket): taking new calls again");
	daemon_drain(d, false, 0);
	return json_pack("{s:b, s:I}", "draining", 0, "calls", (json_int_t)daemon_calls_now(d));
}

/* {"cmd":"reload"}: what SIGHUP does; {"reloaded":true,"path":...} or {"error":..., "keys":[...]}
 * (the keys that only a restart applies, empty when the file itself was refused). */
static json_t *
ctl_reload(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	struct conf_diff diff;
	char why[CONF_ERR_MAX + CONF_DIFF_MAX * CONF_DIFF_NAMELEN];
	json_t *keys;

	(void)req;
	if (d->stopping)
		return json_pack("{s:s}", "error", "sipwarden is stopping");
	log_info("reload (control socket)");
	sd_notify(0, "RELOADING=1");
	if (daemon_reload(d, &diff, why, sizeof(why)) == 0) {
		sd_notify(0, "READY=1");
		return json_pack("{s:b, s:s}", "reloaded", 1, "path", d->conf_path);
	}
	sd_notify(0, "READY=1");
	keys = json_array();
	for (size_t i = 0; keys != NULL && i < diff.n; i++)
		json_array_append_new(keys, json_string(diff.key[i]));
	return json_pack("{s:b, s:s, s:o}", "reloaded", 0, "error", why, "keys", keys);
}

/* {"cmd":"loglevel"[,"level":"debug"]}: the level in force (and the one before when it
 * is changed). Until the next reload, which sets [general] log_level again. */
static json_t *
ctl_loglevel(const json_t *req, void *arg)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	const json_t *jl = json_object_get(req, "level");
	enum log_level was = log_getlevel(), lvl;

	(void)arg;
	if (jl == NULL)
		return json_pack("{s:s}", "level", names[was]);
	if (!json_is_string(jl) || log_level_parse(json_string_value(jl), &lvl) != 0)
		return json_pack("{s:s}", "error", "level: expected error, warn, info or debug");
	log_setlevel(lvl);
	log_warnx("log level %s (was %s), set on the control socket", names[lvl], names[was]);
	return json_pack("{s:s, s:s}", "level", names[lvl], "was", names[was]);
}

#ifdef SW_TEST_HOOKS
/* Test builds only: {"cmd":"test_stall","worker":N,"ms":M} stalls a media worker. */
static json_t *
ctl_test_stall(const json_t *req, void *arg)
{
	struct daemon *d = arg;
	json_int_t w = json_integer_value(json_object_get(req, "worker"));
	json_int_t ms = json_integer_value(json_object_get(req, "ms"));
	int rc;

	if (w < 0 || ms < 0 || ms > 60000)
		return json_pack("{s:s}", "error", "worker and ms (0..60000) expected");
	if ((rc = media_engine_test_stall(d->media, (unsigned)w, (unsigned)ms)) != 0)
		return json_pack("{s:s}", "error", strerror(-rc));
	return json_pack("{s:I, s:I}", "stalled", w, "ms", ms);
}
#endif

/* {"cmd":"cluster"}: the instances sharing limits through Redis (sipwardenctl --cluster). */
static json_t *
ctl_cluster(const json_t *req, void *arg)
{
	struct daemon *d = arg;

	if (d->cluster == NULL)
		return json_pack("{s:s}", "error", "clustering is off (no [cluster] section)");
	return cluster_json(d->cluster);
}

void
daemon_ctl_register(struct daemon *d)
{
	control_register(d->ctl, "calls", ctl_calls, d);
	control_register(d->ctl, "call", ctl_call, d);
	control_register(d->ctl, "agents", daemon_ctl_agents, d);
	control_register(d->ctl, "stats", daemon_ctl_stats, d);
	control_register(d->ctl, "drain", ctl_drain, d);
	control_register(d->ctl, "undrain", ctl_undrain, d);
	control_register(d->ctl, "reload", ctl_reload, d);
	control_register(d->ctl, "loglevel", ctl_loglevel, d);
	control_register(d->ctl, "cluster", ctl_cluster, d);
#ifdef SW_TEST_HOOKS
	control_register(d->ctl, "test_stall", ctl_test_stall, d);
	log_warnx("this is a test build (SW_TEST_HOOKS): not for production");
#endif
}
