/*
 * cluster.c: see cluster.h. Redis through hiredis's asynchronous API on the signalling
 * event base (hiredis/adapters/libevent.h): nothing here blocks, every reply comes back
 * as a callback.
 *
 * Two connections: `cmd` for the scripts (lib/cluster_proto.c), `sub` subscribed to the
 * ban channel (a subscribed connection takes no other command). Every heartbeat_ttl/3 the
 * heartbeat script republishes this instance's counts (its live calls plus admissions
 * waiting for Redis) and its registry, so whatever Redis lost (a restart without
 * persistence, a decrement that never arrived) converges within one period. A new call is
 * admitted by the admit script, atomically across instances; when Redis is out or does
 * not answer within [cluster] timeout, on_store_failure decides (local share or 503) and
 * security.cluster_degraded is reported once per outage. Calls in progress are never
 * touched by any of this. The view for the control socket and the bans are in
 * cluster_view.c.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "cluster_int.h"
#include "cluster_proto.h"
#include "conf.h"
#include "log.h"
#include "monotime.h"
#include "telemetry.h"

/* The adapter is a header of static functions: keep its warnings out of -Werror. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <hiredis/adapters/libevent.h>
#pragma GCC diagnostic pop

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define CHANGED_MS     100  /* a change is republished within this */
#define MAX_ARGS       4096 /* heartbeat arguments: counts and registry entries */

static void cl_connect(struct cluster *cl);

static void
timer_set(struct event *ev, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/* ---- store state ------------------------------------------------------------------ */

/* Redis failed us (`why`: "store_unreachable", "store_timeout", "store_error"): report
 * once per outage. */
static void
cl_degrade(struct cluster *cl, const char *why, const char *detail)
{
	char text[200];

	if (cl->degraded || cl->closing)
		return;
	cl->degraded = true;
	snprintf(text, sizeof(text), "%s; on_store_failure = %s: %s", detail,
	         cl->k->refuse_on_failure ? "refuse" : "local",
	         cl->k->refuse_on_failure ? "new calls get 503"
	                                  : "new calls are admitted on this instance's share");
	log_warnx("cluster: Redis %s: %s", cl->k->redis, text);
	telemetry_security(cl->tel, TELEMETRY_SEC_CLUSTER_DEGRADED, NULL, NULL, why, text, 0);
}

static void
cl_restored(struct cluster *cl)
{
	cl->backoff_ms = BACKOFF_MIN_MS;
	if (!cl->degraded)
		return;
	cl->degraded = false;
	log_info("cluster: Redis %s answers again; shared limits back in force", cl->k->redis);
}

bool
cluster_store_ok(const struct cluster *cl)
{
	return cl->cmd != NULL && cl->cmd_up && !cl->degraded;
}

/* ---- sending ---------------------------------------------------------------------- */

/* EVAL script with argv (no keys: the scripts build them from the prefix). */
int
cluster_eval(struct cluster *cl, enum cluster_script s, redisCallbackFn *fn, void *priv, int argc,
             const char **argv, const size_t *lens)
{
	const char *av[MAX_ARGS + 3];
	size_t al[MAX_ARGS + 3];

	if (cl->cmd == NULL || argc > MAX_ARGS)
		return -ENOTCONN;
	av[0] = "EVAL";
	av[1] = cluster_proto_script(s);
	av[2] = "0";
	for (int i = 0; i < 3; i++)
		al[i] = strlen(av[i]);
	for (int i = 0; i < argc; i++) {
		av[3 + i] = argv[i];
		al[3 + i] = lens != NULL ? lens[i] : strlen(argv[i]);
	}
	return redisAsyncCommandArgv(cl->cmd, fn, priv, argc + 3, av, al) == REDIS_OK ? 0 : -EIO;
}

/* ---- admission -------------------------------------------------------------------- */

static void
held_unlink(struct held *h)
{
	struct cluster *cl = h->cl;

	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		cl->held = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	cl->nheld--;
	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
}

/* The verdict for a held INVITE (once). */
static void
held_decide(struct held *h, const char *refusal, bool in_store)
{
	struct cluster *cl = h->cl;

	if (h->decided)
		return;
	h->decided = true;
	if (h->timer != NULL)
		evtimer_del(h->timer);
	cl->hooks.admit_done(cl->hooks.arg, h->conn, h->token, h->trunk, refusal, in_store);
	if (refusal == NULL)
		cluster_changed(cl);
}

/* Redis cannot decide: on_store_failure does. */
static void
held_store_failed(struct held *h)
{
	struct cluster *cl = h->cl;
	unsigned gs = cluster_proto_share(h->gmax, cl->live);
	unsigned ts = cluster_proto_share(h->tmax, cl->live);

	if (h->decided)
		return;
	if (cl->closing) {
		held_decide(h, "shutting_down", false);
		return;
	}
	if (cl->k->refuse_on_failure) {
		cl->store_refused++;
		held_decide(h, "cluster_unavailable", false);
		return;
	}
	/* local: this instance's share of each limit, counting what it holds */
	if (h->local_all >= gs || (h->tmax != 0 && h->local_trunk >= ts)) {
		cl->local_refused++;
		held_decide(h, h->local_all >= gs ? "max_calls" : "trunk_max_calls", false);
	} else {
		cl->local_admitted++;
		held_decide(h, NULL, false);
	}
}

static void
admit_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;

	(void)fd;
	(void)what;
	h->cl->timeouts++;
	cl_degrade(h->cl, "store_timeout", "no answer within [cluster] timeout");
	held_store_failed(h);
	/* the struct stays until the reply (or the disconnect) comes */
}

void
cluster_ignore_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

static void
admit_reply_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct held *h = priv;
	struct cluster *cl = h->cl;
	struct cluster_admit_result res;
	int rc = cluster_proto_admit_reply(reply, &res);

	(void)ac;
	if (rc == 0 && h->decided && res.granted && !cl->closing && cl->cmd != NULL) {
		/* answered too late: the call went another way; give the place back */
		const char *av[] = {cl->k->prefix, cl->k->instance, h->trunk};
		cluster_eval(cl, CLUSTER_SCRIPT_RELEASE, cluster_ignore_cb, NULL, 3, av, NULL);
	} else if (rc == 0) {
		cl_restored(cl);
		if (!h->decided && res.granted)
			cl->admitted++;
		else if (!h->decided)
			cl->refused++;
		held_decide(h, res.granted ? NULL : res.reason, res.granted);
	} else {
		if (rc == -EPROTO) {
			cl->errors++;
			cl_degrade(cl, "store_error", "the admission script failed");
		}
		held_store_failed(h);
	}
	held_unlink(h);
}

int
cluster_admit(struct cluster *cl, uint64_t conn, void *token, const char *trunk, unsigned gmax,
              unsigned tmax, unsigned local_all, unsigned local_trunk)
{
	struct held *h = calloc(1, sizeof(*h));
	char gs[16], ts[16];
	const char *av[5];

	if (h == NULL)
		return -ENOMEM;
	h->cl = cl;
	h->conn = conn;
	h->token = token;
	snprintf(h->trunk, sizeof(h->trunk), "%s", trunk);
	h->gmax = gmax;
	h->tmax = tmax;
	h->local_all = local_all;
	h->local_trunk = local_trunk;
	if ((h->timer = evtimer_new(cl->base, admit_timeout_cb, h)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->next = cl->held;
	if (cl->held != NULL)
		cl->held->prev = h;
	cl->held = h;
	cl->nheld++;
	if (!cl->cmd_up || cl->cmd == NULL) {
		held_store_failed(h);
		held_unlink(h);
		return 0;
	}
	snprintf(gs, sizeof(gs), "%u", gmax);
	snprintf(ts, sizeof(ts), "%u", tmax);
	av[0] = cl->k->prefix;
	av[1] = cl->k->instance;
	av[2] = h->trunk;
	av[3] = gs;
	av[4] = ts;
	if (cluster_eval(cl, CLUSTER_SCRIPT_ADMIT, admit_reply_cb, h, 5, av, NULL) != 0) {
		held_store_failed(h);
		held_unlink(h);
		return 0;
	}
	timer_set(h->timer, cl->k->timeout_ms);
	return 0;
}

static struct held *
held_find(struct cluster *cl, uint64_t conn, bool (*match)(void *token, void *arg), void *arg)
{
	for (struct held *h = cl->held; h != NULL; h = h->next)
		if (!h->decided && h->conn == conn && match(h->token, arg))
			return h;
	return NULL;
}

bool
cluster_holds(struct cluster *cl, uint64_t conn, bool (*match)(void *token, void *arg), void *arg)
{
	return held_find(cl, conn, match, arg) != NULL;
}

void
cluster_cancel_held(struct cluster *cl, uint64_t conn, bool (*match)(void *token, void *arg),
                    void *arg)
{
	struct held *h = held_find(cl, conn, match, arg);

	/* the struct stays until Redis answers: a grant is then given back */
	if (h != NULL)
		held_decide(h, "cancelled", false);
}

void
cluster_release(struct cluster *cl, const char *trunk)
{
	const char *av[3];

	if (cl == NULL)
		return;
	av[0] = cl->k->prefix;
	av[1] = cl->k->instance;
	av[2] = trunk;
	if (cl->cmd_up)
		cluster_eval(cl, CLUSTER_SCRIPT_RELEASE, cluster_ignore_cb, NULL, 3, av, NULL);
	cluster_changed(cl);
}

/* ---- heartbeat: counts and registry ------------------------------------------------- */

/* Add `n` to the count of field `f` in `counts` (an object). */
static void
count_add(json_t *counts, const char *f, json_int_t n)
{
	json_t *v = json_object_get(counts, f);
	json_object_set_new(counts, f, json_integer(json_integer_value(v) + n));
}

static void
heartbeat_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cluster *cl = priv;
	struct cluster_heartbeat hb;
	int rc = cluster_proto_heartbeat_reply(reply, &hb);

	(void)ac;
	cl->hb_waiting = false;
	if (cl->closing)
		return;
	if (rc == 0) {
		cl->live = hb.live;
		if (!cl->cmd_up)
			log_info("cluster: instance %s joined through Redis %s (%u instance(s) "
			         "alive)",
			         cl->k->instance, cl->k->redis, cl->live);
		cl->cmd_up = true;
		cl_restored(cl);
		/* once may be our own restart within the TTL; twice in a row is a twin */
		if (hb.clash && cl->clash_last) {
			cl->clashes++;
			if (monotime_ms() - cl->clash_log_ms >= 60000) {
				cl->clash_log_ms = monotime_ms();
				log_warnx("cluster: another process heartbeats as instance %s: the "
				          "shared limits are wrong until each instance has its own "
				          "[cluster] instance name",
				          cl->k->instance);
			}
		}
		cl->clash_last = hb.clash;
	} else if (rc == -EPROTO) {
		cl->errors++;
		cl_degrade(cl, "store_error",
		           reply != NULL && ((redisReply *)reply)->type == REDIS_REPLY_ERROR
		                   ? "the heartbeat script failed (authentication?)"
		                   : "the heartbeat script failed");
	}
}

/* Republish this instance's counts and registry (and refresh its heartbeat). */
static void
heartbeat_send(struct cluster *cl)
{
	json_t *now = cl->hooks.calls(cl->hooks.arg), *calls = json_object_get(now, "calls");
	json_t *counts = json_object(), *c, *v;
	const char **av = NULL;
	size_t *al = NULL, n = 0, i;
	char **owned = NULL, ttl[16], num[16];
	struct timespec wall;
	size_t cap;
	const char *key;

	if (cl->cmd == NULL || counts == NULL)
		goto done;
	if (cl->hb_waiting) {
		/* the last one is still unanswered: Redis is stuck; do not pile up */
		cl_degrade(cl, "store_timeout", "no answer to the heartbeat");
		goto done;
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	count_add(counts, "all", 0);
	json_array_foreach(calls, i, c)
	{
		const char *st = json_string_value(json_object_get(c, "state"));
		const char *tr = json_string_value(json_object_get(c, "trunk"));
		char f[CONF_NAME_MAX + 4];
		if (st == NULL || strcmp(st, "ended") == 0)
			continue;
		count_add(counts, "all", 1);
		if (tr != NULL) {
			snprintf(f, sizeof(f), "t:%s", tr);
			count_add(counts, f, 1);
		}
	}
	for (struct held *h = cl->held; h != NULL; h = h->next) {
		char f[CONF_NAME_MAX + 4];
		if (h->decided)
			continue;
		count_add(counts, "all", 1);
		snprintf(f, sizeof(f), "t:%s", h->trunk);
		count_add(counts, f, 1);
	}
	cap = 5 + 2 * json_object_size(counts) + 2 * json_array_size(calls);
	if (cap > MAX_ARGS)
		cap = MAX_ARGS;
	av = calloc(cap, sizeof(*av));
	al = calloc(cap, sizeof(*al));
	owned = calloc(cap, sizeof(*owned));
	if (av == NULL || al == NULL || owned == NULL)
		goto done;
	snprintf(ttl, sizeof(ttl), "%u", cl->k->heartbeat_ttl_ms);
	snprintf(num, sizeof(num), "%zu", json_object_size(counts));
	av[n++] = cl->k->prefix;
	av[n++] = cl->k->instance;
	av[n++] = ttl;
	av[n++] = cl->nonce;
	av[n++] = num;
	json_object_foreach(counts, key, v)
	{
		char *s = NULL;
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
			goto done;
		av[n++] = key;
		av[n] = owned[n] = s;
		n++;
	}
	json_array_foreach(calls, i, c)
	{
		const char *id = json_string_value(json_object_get(c, "call"));
		const char *st = json_string_value(json_object_get(c, "state"));
		json_int_t dur = json_integer_value(json_object_get(c, "duration_ms"));
		json_t *e;
		if (id == NULL || st == NULL || strcmp(st, "ended") == 0 || n + 2 > cap)
			continue;
		e = json_pack("{s:s,s:s,s:O?,s:O?,s:s,s:I}", "id", id, "instance", cl->k->instance,
		              "trunk", json_object_get(c, "trunk"), "agent",
		              json_object_get(c, "agent"), "state", st, "start",
		              (json_int_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000 - dur);
		if (e == NULL)
			continue;
		av[n++] = id;
		av[n] = owned[n] = json_dumps(e, JSON_COMPACT);
		json_decref(e);
		if (av[n] == NULL) {
			n--;
			continue;
		}
		n++;
	}
	for (i = 0; i < n; i++)
		al[i] = strlen(av[i]);
	if (cluster_eval(cl, CLUSTER_SCRIPT_HEARTBEAT, heartbeat_cb, cl, (int)n, av, al) == 0)
		cl->hb_waiting = true;
done:
	if (owned != NULL)
		for (i = 0; i < cap; i++)
			free(owned[i]);
	free(owned);
	free(av);
	free(al);
	json_decref(counts);
	json_decref(now);
}

static void
hb_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *cl = arg;

	(void)fd;
	(void)what;
	heartbeat_send(cl);
	if (monotime_ms() - cl->interest_ms < VIEW_INTEREST_S * 1000)
		cluster_view_send(cl);
	timer_set(cl->hb, cl->k->heartbeat_ttl_ms / 3);
}

static void
changed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *cl = arg;

	(void)fd;
	(void)what;
	if (cl->cmd_up)
		heartbeat_send(cl);
}

void
cluster_changed(struct cluster *cl)
{
	if (cl != NULL && !cl->closing && !evtimer_pending(cl->changed, NULL))
		timer_set(cl->changed, CHANGED_MS);
}

/* ---- connections ----------------------------------------------------------------------- */

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *cl = arg;

	(void)fd;
	(void)what;
	cl->reconnects++;
	cl_connect(cl);
}

/*
 * One connection is gone (hiredis frees it after this callback): schedule a reconnect.
 * Each connection comes back on its own: hiredis calls back for a connection that fails
 * to connect (connect_cb) or drops (disconnect_cb), but not for one we would disconnect
 * before it connected, so we never close the other one ourselves.
 */
static void
cl_lost(struct cluster *cl, const redisAsyncContext *ac, const char *what)
{
	if (ac == cl->cmd) {
		cl->cmd = NULL;
		cl->cmd_up = false;
		cl->hb_waiting = false;
		cl->view_waiting = false;
	} else if (ac == cl->sub) {
		cl->sub = NULL;
	}
	if (cl->closing)
		return;
	cl_degrade(cl, "store_unreachable", what);
	if (!evtimer_pending(cl->retry, NULL)) {
		timer_set(cl->retry, cl->backoff_ms);
		cl->backoff_ms =
		        cl->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : cl->backoff_ms * 2;
	}
}

static struct cluster *
cl_of(const redisAsyncContext *ac)
{
	return ac->data;
}

static void
connect_cb(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		cl_lost(cl_of(ac), ac, "cannot connect");
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	(void)status;
	cl_lost(cl_of(ac), ac, "connection lost");
}

static redisAsyncContext *
cl_open(struct cluster *cl)
{
	redisAsyncContext *ac;
	char host[64];
	int port = 0;

	if (cl->k->addr.len == 0)
		ac = redisAsyncConnectUnix(cl->k->redis);
	else {
		const struct sockaddr *sa = (const struct sockaddr *)&cl->k->addr.ss;
		conf_sockaddr_str(&cl->k->addr, host, sizeof(host));
		/* "a.b.c.d:port" or "[v6]:port": hiredis wants the bare address */
		if (sa->sa_family == AF_INET6) {
			char *e = strchr(host, ']');
			if (e != NULL)
				*e = '\0';
			memmove(host, host + 1, strlen(host));
			port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		} else {
			char *e = strrchr(host, ':');
			if (e != NULL)
				*e = '\0';
			port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		}
		ac = redisAsyncConnect(host, port);
	}
	if (ac == NULL)
		return NULL;
	if (ac->err) {
		log_debug("cluster: %s", ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = cl;
	if (redisLibeventAttach(ac, cl->base) != REDIS_OK) {
		redisAsyncFree(ac);
		return NULL;
	}
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	if (cl->k->password != NULL)
		redisAsyncCommand(ac, cluster_ignore_cb, NULL, "AUTH %s", cl->k->password);
	return ac;
}

/* Open whatever connection is missing; commands queue until it is up. */
static void
cl_connect(struct cluster *cl)
{
	char channel[CONF_NAME_MAX + 8];

	const char *av[] = {cl->k->prefix};
	bool fresh = false;

	if (cl->cmd == NULL && (cl->cmd = cl_open(cl)) != NULL) {
		heartbeat_send(cl);
		fresh = true;
	}
	if (cl->sub == NULL && (cl->sub = cl_open(cl)) != NULL) {
		snprintf(channel, sizeof(channel), "%s:bans", cl->k->prefix);
		redisAsyncCommand(cl->sub, cluster_sub_cb, cl, "SUBSCRIBE %s", channel);
		fresh = true;
	}
	/* bans published while either connection was down: the stored ones in force */
	if (fresh && cl->cmd != NULL)
		cluster_eval(cl, CLUSTER_SCRIPT_BANS, cluster_bans_cb, cl, 1, av, NULL);
	if ((cl->cmd == NULL || cl->sub == NULL) && !evtimer_pending(cl->retry, NULL)) {
		cl_degrade(cl, "store_unreachable", "cannot connect");
		timer_set(cl->retry, cl->backoff_ms);
	}
}

int
cluster_new(struct cluster **out, struct event_base *base, struct conf *conf, struct telemetry *tel,
            const struct cluster_hooks *hooks)
{
	struct cluster *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return -ENOMEM;
	cl->base = base;
	cl->conf = conf_ref(conf);
	cl->k = &conf->cluster;
	cl->tel = tel;
	cl->hooks = *hooks;
	cl->live = 1;
	cl->backoff_ms = BACKOFF_MIN_MS;
	{
		/* this process's heartbeat value: tells a twin under the same name */
		unsigned char r[8];
		if (RAND_bytes(r, sizeof(r)) != 1) {
			cluster_free(cl);
			return -EIO;
		}
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(cl->nonce + 2 * i, 3, "%02x", r[i]);
	}
	cl->hb = evtimer_new(base, hb_timer_cb, cl);
	cl->retry = evtimer_new(base, retry_cb, cl);
	cl->changed = evtimer_new(base, changed_cb, cl);
	if (cl->hb == NULL || cl->retry == NULL || cl->changed == NULL) {
		cluster_free(cl);
		return -ENOMEM;
	}
	log_info("cluster: instance %s, Redis %s, prefix %s, heartbeat TTL %u ms, on store "
	         "failure %s",
	         cl->k->instance, cl->k->redis, cl->k->prefix, cl->k->heartbeat_ttl_ms,
	         cl->k->refuse_on_failure ? "refuse" : "local");
	cl_connect(cl);
	timer_set(cl->hb, cl->k->heartbeat_ttl_ms / 3);
	*out = cl;
	return 0;
}

void
cluster_free(struct cluster *cl)
{
	if (cl == NULL)
		return;
	cl->closing = true;
	/* every held INVITE is answered: by its reply callback (NULL reply) or here */
	if (cl->cmd != NULL)
		redisAsyncFree(cl->cmd);
	cl->cmd = NULL;
	if (cl->sub != NULL)
		redisAsyncFree(cl->sub);
	cl->sub = NULL;
	while (cl->held != NULL) {
		held_decide(cl->held, "shutting_down", false);
		held_unlink(cl->held);
	}
	if (cl->hb != NULL)
		event_free(cl->hb);
	if (cl->retry != NULL)
		event_free(cl->retry);
	if (cl->changed != NULL)
		event_free(cl->changed);
	json_decref(cl->view);
	free(cl->wire);
	conf_unref(cl->conf);
	free(cl);
}
