/*
 * sip_server.h: the SIP-over-TLS listener and its connections.
 *
 * Accepts TLS connections (libevent bufferevent_openssl), enforces the handshake and
 * idle timeouts, the connection cap and admission control per source ([admission],
 * daemon/sip_admit.c), frames the byte stream (lib/sipframe.h), parses
 * each message (libosip2) and dispatches it: to the hooks a higher layer (the B2BUA)
 * installs, and otherwise to the built-in stateless UAS answers (OPTIONS 200, INVITE
 * 503, 405/481/501/400/...). It owns every connection object; others refer to a
 * connection by its 64-bit id, which is never reused, so a stale id is simply "gone"
 * (-ENOTCONN) instead of a dangling pointer. Not responsible for transactions, dialogs
 * or calls.
 */
#ifndef SW_SIP_SERVER_H
#define SW_SIP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <osipparser2/osip_message.h>

#include "conf.h"
#include "tls.h"

struct sip_server;
struct telemetry;

/* What the SIP layer knows about one connection. Valid until the connection closes. */
struct sip_conn_info {
	uint64_t id;   /* never reused within a process */
	bool outbound; /* opened by us with sip_server_connect() */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_str[64];   /* "127.0.0.1:40000" */
	struct tls_info tls; /* valid once the handshake finished */
};

/* What a request/response hook did with a message. */
enum sip_hook_verdict {
	SIP_HOOK_DEFAULT = 0, /* not mine: the server applies its default answer */
	SIP_HOOK_TAKEN = 1,   /* handled; the hook now owns (and frees) the message */
};

/*
 * Hooks for the layer above. All optional; called from the event loop. A hook may send
 * on any connection and may close connections, including `conn` itself.
 *  request_cb:  a request that passed sip_util_check_request() (malformed requests are
 *               answered 400/505 by the server and never reach the hook).
 *  response_cb: a parsed response; returning SIP_HOOK_DEFAULT discards it (no
 *               transaction matched).
 *  closed_cb:   the connection `conn` is gone; its id is dead from now on.
 */
struct sip_server_hooks {
	enum sip_hook_verdict (*request_cb)(void *arg, uint64_t conn, osip_message_t *req);
	enum sip_hook_verdict (*response_cb)(void *arg, uint64_t conn, osip_message_t *resp);
	void (*closed_cb)(void *arg, uint64_t conn);
	/* tls_cb: a TLS handshake on `conn` finished (`ok`) or failed; `reason` is
	 * "handshake", "timeout" or "eof". For telemetry; the connection is closed by the
	 * server after a failure. */
	void (*tls_cb)(void *arg, uint64_t conn, bool ok, const char *reason);
	/* busy_cb: `conn` saw no traffic for idle_timeout; return true to keep it (it
	 * carries a call in progress: a quiet dialog is normal, and closing would leave no
	 * way to send its BYE). NULL: idle connections are always closed. */
	bool (*busy_cb)(void *arg, uint64_t conn);
	void *arg;
};

/* Counters since start (for logs and the control socket's stats). */
struct sip_server_stats {
	uint64_t accepted, refused_cap, handshake_failed, handshake_timeout, idle_timeout,
	        framing_closed, requests, responses, parse_errors;
	size_t open;
	/* admission control ([admission]): connections refused at accept because the source
	 * is banned / has its connections / strangers have theirs / the table is full;
	 * strangers closed for no first request; bans; scanner/sweep requests; requests of
	 * trunks/agents shed over budget; sources tracked and banned now */
	uint64_t refused_banned, refused_source, refused_strangers, refused_table,
	        first_request_timeout, bans, scanners, shed;
	size_t sources, sources_banned;
	uint64_t bans_remote; /* [cluster]: bans other instances published, applied here */
};

/*
 * Bind and listen on conf->tls.listen and start accepting on `base`. Takes a reference
 * on `conf` and on `ctx` (SSL_CTX_up_ref); the caller keeps its own. `hooks` may be
 * NULL. Returns 0 and the new server in *out, or a negative errno (bind failed, ...).
 */
int sip_server_new(struct sip_server **out, struct event_base *base, struct conf *conf,
                   SSL_CTX *ctx, const struct sip_server_hooks *hooks);

/*
 * Use `conf` (limits, timeouts) and `ctx` for connections accepted from now on;
 * existing connections keep what they started with. The listen address is not changed
 * (returns -EBUSY and changes nothing when it differs: that needs a restart).
 */
int sip_server_reload(struct sip_server *s, struct conf *conf, SSL_CTX *ctx);

/* Where security.flood / security.source_banned go (NULL: nowhere). Not owned. */
void sip_server_set_telemetry(struct sip_server *s, struct telemetry *tel);

/*
 * [cluster] (daemon/sip_admit.c): `hook(arg, source, ms, reason)` is told of every ban
 * this server decides (source as lib/admit.h prints it; NULL: nobody); sip_server_ban()
 * applies a ban another instance decided on the stranger `sa`: refused at accept from
 * now on and its open connections closed. Trunks and agents are never banned (-EPERM).
 */
void sip_server_set_ban_hook(struct sip_server *s,
                             void (*hook)(void *arg, const char *source, unsigned ms,
                                          const char *reason),
                             void *arg);
int sip_server_ban(struct sip_server *s, const struct sockaddr *sa, unsigned ms,
                   const char *reason);

/* Replace the hooks (NULL: none). */
void sip_server_set_hooks(struct sip_server *s, const struct sip_server_hooks *hooks);

/* Stop listening, close every connection (closed_cb is not called) and free. */
void sip_server_free(struct sip_server *s);

/*
 * Open a TLS connection to `sa` (for the B2BUA: toward an agent or a trunk) with client
 * context `ctx` (tls_client_ctx_new: client certificate, verification) and `server_name`
 * for SNI and the certificate name check (may be NULL). The connection belongs to the
 * server like an accepted one (same framing, hooks, handshake/idle timeouts; not counted
 * against max_connections; info.outbound is true). Messages may be sent at once: they
 * are queued until the handshake completes. A failed connect or handshake ends in
 * closed_cb. Returns 0 and the id in *id, or a negative errno.
 */
int sip_server_connect(struct sip_server *s, const struct sockaddr *sa, socklen_t salen,
                       SSL_CTX *ctx, const char *server_name, uint64_t *id);

/*
 * Queue a message on connection `conn`. The message is serialised; the caller keeps
 * ownership. Returns 0, -ENOTCONN (no such or closing connection, or an accepted one
 * still in its handshake), -ENOBUFS (the peer
 * does not read: output over the limit, the connection is closed) or -EINVAL.
 */
int sip_server_send(struct sip_server *s, uint64_t conn, osip_message_t *msg);
/* Same with bytes already serialised. */
int sip_server_send_raw(struct sip_server *s, uint64_t conn, const char *buf, size_t len);

/* Info about a live connection, or NULL when `conn` is gone. */
const struct sip_conn_info *sip_server_conn_info(const struct sip_server *s, uint64_t conn);

/* Close `conn` after what is queued has been written (bounded). No-op when gone. */
void sip_server_conn_close(struct sip_server *s, uint64_t conn);

/* Answer `req` (received on `conn`) statelessly with `status` and optional extra header
 * lines ("Name: value", NULL terminated). Returns 0 or a negative errno. */
int sip_server_reply(struct sip_server *s, uint64_t conn, const osip_message_t *req, int status,
                     const char *reason, const char *const *headers);

void sip_server_get_stats(const struct sip_server *s, struct sip_server_stats *out);

/* Connections open now: what sip_server_get_stats() says in `open`, without its walk of the
 * admission table (for the per-INVITE overload check). */
size_t sip_server_open_conns(const struct sip_server *s);

/* The Allow value the server advertises. */
#define SIP_SERVER_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK"

#endif
