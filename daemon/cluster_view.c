/*
 * cluster_view.c: what the cluster shows and hears (see cluster.h): the view of every
 * instance's calls for the control socket (sipwardenctl --cluster), and bans - published
 * when this instance decides one, applied when another instance's arrives on the channel
 * or is found stored at (re)connect. Ban messages come from a store other instances
 * share, so they are parsed strictly (lib/cluster_proto.c) and our own are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"
#include "monotime.h"

/* ---- the view (sipwardenctl --cluster) ------------------------------------------------ */

static void
view_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cluster *cl = priv;
	json_t *v;

	(void)ac;
	cl->view_waiting = false;
	if (cl->closing || (v = cluster_proto_view(reply)) == NULL)
		return;
	json_decref(cl->view);
	cl->view = v;
	cl->view_ms = monotime_ms();
}

void
cluster_view_send(struct cluster *cl)
{
	const char *av[] = {cl->k->prefix};

	if (cl->view_waiting || !cl->cmd_up)
		return;
	if (cluster_eval(cl, CLUSTER_SCRIPT_VIEW, view_cb, cl, 1, av, NULL) == 0)
		cl->view_waiting = true;
}

json_t *
cluster_stats_json(const struct cluster *cl)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:i,s:i,s:s}", "instance", cl->k->instance, "redis",
	                      cl->k->redis, "on_store_failure",
	                      cl->k->refuse_on_failure ? "refuse" : "local", "store_ok",
	                      cluster_store_ok(cl), "store_up", cluster_store_ok(cl) ? 1 : 0,
	                      "instances_alive", (int)cl->live, "prefix", cl->k->prefix);
	const struct {
		const char *name;
		uint64_t v;
	} n[] = {
	        {"admitted", cl->admitted},
	        {"refused", cl->refused},
	        {"admitted_local_share", cl->local_admitted},
	        {"refused_local_share", cl->local_refused},
	        {"refused_store_failure", cl->store_refused},
	        {"timeouts", cl->timeouts},
	        {"errors", cl->errors},
	        {"reconnects", cl->reconnects},
	        {"bans_sent", cl->bans_sent},
	        {"bans_received", cl->bans_received},
	        {"held", cl->nheld},
	        {"instance_name_clashes", cl->clashes},
	};

	for (size_t i = 0; o != NULL && i < sizeof(n) / sizeof(n[0]); i++)
		json_object_set_new(o, n[i].name, json_integer((json_int_t)n[i].v));
	return o;
}

json_t *
cluster_json(struct cluster *cl)
{
	int64_t now = monotime_ms();
	json_t *o;

	cl->interest_ms = now;
	if (cl->view == NULL || now - cl->view_ms > VIEW_STALE_MS)
		cluster_view_send(cl);
	if ((o = cluster_stats_json(cl)) == NULL)
		return NULL;
	json_object_set(o, "view", cl->view != NULL ? cl->view : json_null());
	json_object_set_new(o, "age_ms",
	                    cl->view != NULL ? json_integer(now - cl->view_ms) : json_null());
	return o;
}

/* ---- bans ----------------------------------------------------------------------------- */

void
cluster_ban(struct cluster *cl, const char *source, unsigned ms, const char *reason)
{
	char mss[16];
	const char *av[5];

	if (cl == NULL || !cl->cmd_up)
		return; /* bans are local while Redis is out */
	snprintf(mss, sizeof(mss), "%u", ms);
	av[0] = cl->k->prefix;
	av[1] = cl->k->instance;
	av[2] = source;
	av[3] = mss;
	av[4] = reason;
	if (cluster_eval(cl, CLUSTER_SCRIPT_BAN, cluster_ignore_cb, NULL, 5, av, NULL) == 0)
		cl->bans_sent++;
}

static void
ban_apply(struct cluster *cl, const struct cluster_ban *b)
{
	struct sockaddr_storage ss;

	if (b->instance != NULL && strcmp(b->instance, cl->k->instance) == 0)
		return; /* ours */
	if (cluster_proto_ban_addr(b->source, &ss) != 0)
		return;
	cl->bans_received++;
	cl->hooks.ban(cl->hooks.arg, (const struct sockaddr *)&ss, (unsigned)b->ms, b->reason,
	              b->instance != NULL ? b->instance : "(stored)");
}

/* The bans in force when we (re)connect. */
void
cluster_bans_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cluster *cl = priv;
	redisReply *r = reply;

	(void)ac;
	if (cl->closing || r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return;
	for (size_t i = 0; i < r->elements; i += 2) {
		struct cluster_ban b;
		char *end;
		unsigned long ms;
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		ms = strtoul(r->element[i + 1]->str, &end, 10);
		if (*end != '\0' || cluster_proto_ban_member_parse(r->element[i]->str, ms, &b) != 0)
			continue;
		ban_apply(cl, &b);
	}
}

void
cluster_sub_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cluster *cl = priv;
	redisReply *r = reply;
	struct cluster_ban b;

	(void)ac;
	if (cl->closing || r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (cluster_proto_ban_parse(r->element[2]->str, &b) != 0) {
		log_debug("cluster: malformed ban message ignored");
		return;
	}
	ban_apply(cl, &b);
}
