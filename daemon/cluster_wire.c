/*
 * cluster_wire.c: [cluster] wired to the rest of the daemon (see cluster.h): the hooks
 * cluster.c calls go to the B2BUA (held INVITEs, this instance's calls) and the SIP server
 * (bans from other instances), and the SIP server's bans go to the cluster. main.c only
 * starts and stops it. Not responsible for anything the hooks do.
 */
#include <errno.h>
#include <stdlib.h>

#include "b2bua.h"
#include "cluster.h"
#include "cluster_int.h"
#include "sip_server.h"

/* What the hooks reach. Owner: struct cluster (wire), freed by cluster_free(). */
struct cluster_wire {
	struct b2bua *b;
	struct sip_server *sip;
	struct cluster *cl;
};

static void
wire_admit_done(void *arg, uint64_t conn, void *token, const char *trunk, const char *refusal,
                bool in_store)
{
	struct cluster_wire *w = arg;
	b2bua_cluster_done(w->b, conn, token, trunk, refusal, in_store);
}

static json_t *
wire_calls(void *arg)
{
	struct cluster_wire *w = arg;
	return b2bua_calls_json(w->b);
}

static void
wire_ban(void *arg, const struct sockaddr *sa, unsigned ms, const char *reason, const char *from)
{
	struct cluster_wire *w = arg;
	(void)from;
	sip_server_ban(w->sip, sa, ms, reason);
}

static void
wire_ban_decided(void *arg, const char *source, unsigned ms, const char *reason)
{
	struct cluster_wire *w = arg;
	cluster_ban(w->cl, source, ms, reason);
}

int
cluster_start(struct cluster **out, struct event_base *base, struct conf *conf,
              struct telemetry *tel, struct b2bua *b, struct sip_server *sip)
{
	struct cluster_wire *w = calloc(1, sizeof(*w));
	struct cluster_hooks h = {wire_admit_done, wire_calls, wire_ban, w};
	int rc;

	if (w == NULL)
		return -ENOMEM;
	w->b = b;
	w->sip = sip;
	if ((rc = cluster_new(&w->cl, base, conf, tel, &h)) != 0) {
		free(w);
		return rc;
	}
	w->cl->wire = w;
	b2bua_set_cluster(b, w->cl);
	sip_server_set_ban_hook(sip, wire_ban_decided, w);
	*out = w->cl;
	return 0;
}

void
cluster_stop(struct cluster *cl)
{
	struct cluster_wire *w;

	if (cl == NULL)
		return;
	if ((w = cl->wire) != NULL) {
		b2bua_set_cluster(w->b, NULL);
		sip_server_set_ban_hook(w->sip, NULL, NULL);
	}
	cluster_free(cl); /* answers the INVITEs it holds, through the B2BUA */
}
