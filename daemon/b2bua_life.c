/*
 * b2bua_life.c: the B2BUA's life cycle: sipwarden's identity (Via sent-by, Contact, media
 * address), the agents' client TLS contexts, b2bua_new/reload/shutdown/free, draining,
 * and the TLS handshake hook. The call flows themselves are in b2bua.c and b2bua_*.c.
 */
#include "b2bua_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "cluster.h"
#include "log.h"
#include "sip_util.h"
#include "tls.h"

static void
set_identity(struct b2bua *b)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const struct conf *cf = b->conf;

	conf_sockaddr_str(&cf->tls.listen, addr, sizeof(addr));
	if (cf->sip.hostname != NULL) {
		/* Via sent-by and Contact: hostname with the listen port, an IPv6 literal in
		 * brackets (sentby and contact hold the longest name conf accepts, 253) */
		const char *h = cf->sip.hostname, *port = strrchr(addr, ':');
		bool v6 = strchr(h, ':') != NULL && h[0] != '[';

		snprintf(b->sentby, sizeof(b->sentby), "%s%s%s%s", v6 ? "[" : "", h, v6 ? "]" : "",
		         port != NULL ? port : "");
		snprintf(b->host, sizeof(b->host), "%s", h);
	} else {
		char *end;

		snprintf(b->sentby, sizeof(b->sentby), "%s", addr);
		snprintf(b->host, sizeof(b->host), "%s", addr);
		/* the address without its port: "[v6]:p" ends at ']', "v4:p" at the ':' */
		if (b->host[0] == '[') {
			if ((end = strchr(b->host, ']')) != NULL)
				end[1] = '\0';
		} else if ((end = strrchr(b->host, ':')) != NULL)
			*end = '\0';
	}
	snprintf(b->contact, sizeof(b->contact), "<sip:sipwarden@%s;transport=tls>", b->sentby);
	if (cf->media.advertise != NULL) {
		snprintf(b->media_addr, sizeof(b->media_addr), "%s", cf->media.advertise);
	} else {
		const struct sockaddr *sa = (const struct sockaddr *)&cf->media.address.ss;
		const void *src =
		        sa->sa_family == AF_INET6
		                ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
		                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (inet_ntop(sa->sa_family == AF_INET6 ? AF_INET6 : AF_INET, src, b->media_addr,
		              sizeof(b->media_addr)) == NULL)
			snprintf(b->media_addr, sizeof(b->media_addr), "127.0.0.1");
	}
}

static void agent_ctxs_free(SSL_CTX **v, size_t n);

/* One client TLS context per agent of `conf`; NULL with `err` set on failure. */
static SSL_CTX **
agent_ctxs_new(const struct conf *conf, char *err, size_t errlen)
{
	SSL_CTX **v = calloc(conf->nagents + 1, sizeof(*v));

	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < conf->nagents; i++) {
		const struct conf_agent *a = &conf->agents[i];
		const char *cert = a->client_certificate ? a->client_certificate
		                                         : conf->tls.client_certificate;
		const char *key = a->client_certificate ? a->client_private_key
		                                        : conf->tls.client_private_key;
		char why[CONF_ERR_MAX];

		if ((v[i] = tls_client_ctx_new(&conf->tls, cert, key, a->verify, why,
		                               sizeof(why))) == NULL) {
			snprintf(err, errlen, "agent %s: %s", a->name, why);
			agent_ctxs_free(v, i);
			return NULL;
		}
	}
	return v;
}

static void
agent_ctxs_free(SSL_CTX **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		SSL_CTX_free(v[i]);
	free(v);
}

static void
on_tls(void *arg, uint64_t conn, bool ok, const char *reason)
{
	struct b2bua *b = arg;
	const struct sip_conn_info *ci = sip_server_conn_info(b->sip, conn);

	if (ok) {
		telemetry_tls_handshake_ok(b->tel);
		return;
	}
	telemetry_security(b->tel, TELEMETRY_SEC_TLS_HANDSHAKE_FAILED, NULL,
	                   ci ? (const struct sockaddr *)&ci->peer : NULL, reason,
	                   ci && ci->outbound ? "outbound connection" : NULL, 0);
}

int
b2bua_new(struct b2bua **out, struct event_base *base, struct conf *conf, struct sip_server *sip,
          struct media_engine *media, struct telemetry *tel, char *err, size_t errlen)
{
	struct b2bua *b = calloc(1, sizeof(*b));
	struct sip_server_hooks hooks = {.tls_cb = on_tls};

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->base = base;
	b->conf = conf_ref(conf);
	b->sip = sip;
	b->media = media;
	b->tel = tel;
	b->nagents = conf->nagents;
	if ((b->agent_ctx = agent_ctxs_new(conf, err, errlen)) == NULL) {
		b->nagents = 0;
		b2bua_free(b);
		return -EINVAL;
	}
	snprintf(err, errlen, "out of memory");
	b->pool = pool_new(conf);
	b->ntrunk_calls = conf->ntrunks;
	b->trunk_calls = calloc(conf->ntrunks + 1, sizeof(*b->trunk_calls));
	b->agent_conn = calloc(conf->nagents + 1, sizeof(*b->agent_conn));
	b->trunk_conn = calloc(conf->ntrunks + 1, sizeof(*b->trunk_conn));
	if ((b->trunk_ctx = out_trunk_ctxs_new(conf, err, errlen)) == NULL) {
		b2bua_free(b);
		return -EINVAL;
	}
	b->probe_req = calloc(conf->nagents + 1, sizeof(*b->probe_req));
	b->media_ev = event_new(base, media_engine_event_fd(media), EV_READ | EV_PERSIST,
	                        b2bua_media_cb, b);
	if (b->pool == NULL || b->trunk_calls == NULL || b->agent_conn == NULL ||
	    b->trunk_conn == NULL || b->probe_req == NULL || b->media_ev == NULL ||
	    event_add(b->media_ev, NULL) != 0) {
		b2bua_free(b);
		return -ENOMEM;
	}
	set_identity(b);
	if (trying_start(b) != 0 || overload_start(b) != 0) {
		b2bua_free(b);
		return -ENOMEM;
	}
	if (conf->pool.probe_interval_ms > 0) {
		struct timeval tv = {conf->pool.probe_interval_ms / 1000,
		                     (conf->pool.probe_interval_ms % 1000) * 1000};
		b->probe_ev = event_new(base, -1, EV_PERSIST, agent_probe_cb, b);
		if (b->probe_ev == NULL || event_add(b->probe_ev, &tv) != 0) {
			b2bua_free(b);
			return -ENOMEM;
		}
	}
	if (tel != NULL && conf->telemetry.interim_interval_s > 0 &&
	    telemetry_set_interim(tel, conf->telemetry.interim_interval_s, interim_tick, b) != 0) {
		b2bua_free(b);
		return -ENOMEM;
	}
	b2bua_sip_hooks(&hooks);
	hooks.arg = b;
	sip_server_set_hooks(sip, &hooks);
	err[0] = '\0';
	*out = b;
	return 0;
}

int
b2bua_reload(struct b2bua *b, struct conf *conf, char *err, size_t errlen)
{
	SSL_CTX **ctxs;

	/* The pool, the counters and the agent connections are indexed by the trunk and
	 * agent lists, so a reload keeps their shape; calls keep the conf they started with. */
	if (conf->nagents != b->nagents || conf->ntrunks != b->ntrunk_calls) {
		snprintf(err, errlen, "the number of trunks or agents changed (needs a restart)");
		return -EBUSY;
	}
	if ((ctxs = agent_ctxs_new(conf, err, errlen)) == NULL)
		return -EINVAL;
	{
		SSL_CTX **tctx = out_trunk_ctxs_new(conf, err, errlen);
		if (tctx == NULL) {
			agent_ctxs_free(ctxs, b->nagents);
			return -EINVAL;
		}
		out_trunk_ctxs_free(b->trunk_ctx, b->ntrunk_calls);
		b->trunk_ctx = tctx;
		for (size_t i = 0; i < b->ntrunk_calls; i++)
			b->trunk_conn[i] = 0;
	}
	agent_ctxs_free(b->agent_ctx, b->nagents);
	b->agent_ctx = ctxs;
	/* connections opened with the old contexts are not reused for new calls */
	for (size_t i = 0; i < b->nagents; i++)
		b->agent_conn[i] = 0;
	conf_unref(b->conf);
	b->conf = conf_ref(conf);
	pool_reconf(b->pool, conf);
	set_identity(b);
	if (b->tel != NULL)
		telemetry_set_interim(b->tel, conf->telemetry.interim_interval_s,
		                      conf->telemetry.interim_interval_s ? interim_tick : NULL, b);
	return 0;
}

unsigned
b2bua_shutdown(struct b2bua *b)
{
	b->stopping = true;
	return b2bua_end_calls(b);
}

void
b2bua_set_draining(struct b2bua *b, bool on)
{
	b->draining = on;
}

unsigned
b2bua_end_calls(struct b2bua *b)
{
	unsigned n = 0;

	for (struct call *c = b->calls, *next; c != NULL; c = next) {
		next = c->next;
		if (c->state != CALL_ENDED) {
			c->end_warning = "shutting down";
			call_end(c, c->state == CALL_ANSWERED ? "completed" : "failed", "sipwarden",
			         "shutdown", 503);
			n++;
		}
	}
	return n;
}

void
b2bua_free(struct b2bua *b)
{
	if (b == NULL)
		return;
	if (b->sip != NULL)
		sip_server_set_hooks(b->sip, NULL);
	while (b->calls != NULL) {
		struct call *c = b->calls;
		if (c->state != CALL_ENDED) {
			c->outcome = "failed";
			c->ended_by = "sipwarden";
			c->end_reason = "shutdown";
		}
		call_finish(c);
	}
	if (b->media_ev != NULL)
		event_free(b->media_ev);
	if (b->probe_ev != NULL)
		event_free(b->probe_ev);
	overload_stop(b);
	trying_stop(b);
	if (b->tel != NULL)
		telemetry_set_interim(b->tel, 0, NULL, NULL);
	for (size_t i = 0; b->probe_req != NULL && i < b->nagents; i++)
		osip_message_free(b->probe_req[i]);
	free(b->probe_req);
	free(b->agent_conn);
	free(b->trunk_conn);
	out_trunk_ctxs_free(b->trunk_ctx, b->ntrunk_calls);
	free(b->trunk_calls);
	cancelled_free(b);
	call_table_free(b);
	pool_free(b->pool);
	agent_ctxs_free(b->agent_ctx, b->nagents);
	conf_unref(b->conf);
	free(b);
}

unsigned
b2bua_calls(const struct b2bua *b)
{
	return b->ncalls;
}
