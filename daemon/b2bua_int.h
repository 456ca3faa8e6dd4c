/*
 * b2bua_int.h: what the B2BUA's files share (b2bua.c: calls and leg A; b2bua_agent.c:
 * leg B, failover and probes; b2bua_media.c: SDP policy and the media relay). Not a
 * public interface.
 */
#ifndef SW_B2BUA_INT_H
#define SW_B2BUA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <osipparser2/osip_message.h>

#include "b2bua.h"
#include "pool.h"
#include "sdp.h"
#include "sip_dialog.h"
#include "strmap.h"
#include "suite.h"

#define B2BUA_MAX_AGENTS 64 /* the `tried` bitmask of a call */

enum call_state {
	CALL_ROUTING,  /* INVITE from A answered 100, INVITE to an agent pending */
	CALL_EARLY,    /* the agent sent a provisional answer with a tag */
	CALL_ANSWERED, /* 200 sent to A */
	CALL_ENDED,    /* waiting to be freed */
};

/* A peer's IPv4 or IPv6 address in 28 bytes (a struct sockaddr_storage takes 128); cast
 * &sa for the functions that take a struct sockaddr. */
union leg_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * struct call_leg: one side of a call.
 * Owner: struct call. Keys are wiped when the call is freed.
 */
struct call_leg {
	bool trunk;    /* the peer is a trunk (else an agent) */
	bool human;    /* the peer is whom a bridge transfer called (b2bua_bridge.c): media
	                  on MEDIA_LEG_C; reached through trunk `peer` (`trunk` true: in-dialog
	                  requests from that trunk's sources are its), but SRTP always */
	int peer;      /* index in conf->trunks / conf->agents, -1 none */
	uint64_t conn; /* SIP connection to the peer, 0 none */
	struct sip_dialog *dlg;
	struct sdp_origin origin;    /* our o= on this leg */
	struct sdp_desc *remote_sdp; /* the peer's last offer or answer on this leg */
	struct sdp_choice verdict;   /* what that SDP negotiated (sdp_choice_of() its verdict) */
	struct srtp_keys tx;         /* our key toward this peer (the one in our SDP) */
	/* keys of our last offer on this leg, by tag order: noffered of them in an array of
	 * as many as it offered suites (leg_offer_room()), NULL before any; wiped when
	 * replaced and by leg_clear() */
	struct srtp_keys *offered;
	size_t noffered;
	bool media_ready; /* media_leg_update() done */
	/* TLS posture of the signalling hop, captured when the leg started: libssl's static
	 * names (NULL: none) */
	const char *tls_version;
	const char *tls_cipher;
	uint8_t peer_sha256[32];
	bool has_peer_cert;
	union leg_addr peer_addr;     /* family 0: none */
	int64_t first_packet_ms;      /* answer -> first accepted media packet, -1 none */
	struct strmap_node by_callid; /* in b->callids[leg] while dlg is set (b2bua_call.c) */
};

/* A request received on one leg and relayed to the other, waiting for its answer. */
struct relay_txn {
	osip_message_t *req;    /* as received (we answer it) */
	int from;               /* 0: leg A, 1: leg B */
	osip_message_t *sent;   /* what we sent on the other leg */
	uint64_t conn;          /* the connection `sent` left on: its answer must come back here */
	struct sdp_desc *offer; /* parsed SDP offer of `req`, if any */
	struct sdp_choice verdict;
	bool keep; /* `offer` kept its side's crypto: our keys stay on both legs (relay.c) */
};

/*
 * struct call: one call across sipwarden.
 * Owner: struct b2bua's call list; freed only by call_free() once CALL_ENDED.
 */
struct call {
	struct call *next, *prev;
	struct b2bua *b;
	struct conf *conf; /* reference held for the call's lifetime */
	char id[TELEMETRY_CALL_ID_LEN];
	enum call_state state;
	struct call_leg leg[2];   /* [0] A (caller side), [1] B (agent side) */
	osip_message_t *a_invite; /* initial INVITE from A, for its responses */
	osip_message_t *b_invite; /* INVITE we sent to the current agent */
	char *a_answer;           /* SDP answer sent to A (reused after early media) */
	bool a_final_sent;        /* the INVITE from A got its final response */
	bool b_final;             /* the INVITE to B got a final response or a CANCEL */
	bool trying_queued;       /* in b->trying: 100 Trying due t_invite + TRYING_DELAY_MS */
	const char *end_warning;  /* Warning text for the final response to A */
	uint64_t tried;           /* agents tried (bit per index) */
	int agent;                /* current agent index, -1 none */
	int trunk;                /* the trunk's index, -1 none */
	bool trunk_counted;       /* counted in b->trunk_calls */
	bool outbound;            /* an agent called out: leg A agent, leg B trunk */
	bool agent_counted;       /* pool_call_start() done for `agent` */
	bool cluster_counted;     /* [cluster]: counted in Redis, released when it ends */
	uint64_t media_id;
	struct strmap_node by_media; /* in b->by_media while media_id is set (b2bua_call.c) */
	uint16_t ports[2][2];
	struct event *timer;            /* agent answer timeout, then max call duration */
	struct event *pend_timer;       /* no answer to a relayed request */
	struct event *end_timer;        /* final stats from the media engine overdue */
	TAILQ_ENTRY(call) trying_entry; /* in b->trying while trying_queued (b2bua_trying.c) */
	struct relay_txn pend;          /* at most one relayed request at a time */
	struct ok2xx *ok2xx[2]; /* per leg: our 2xx to an INVITE awaiting its ACK (b2bua_2xx.c) */
	struct timespec t_invite, t_answer;
	int final_code;
	const char *outcome, *ended_by, *end_reason;
	/* last snapshot or final stats, NULL until the media engine sent one: 3 KiB that most
	 * live calls never need (snapshots come for interim telemetry and the control socket) */
	struct media_call_stats *stats;
	bool end_emitted;
	struct late_offer *late; /* b2bua_late.c: an offer in a 2xx, its ACK awaited */
	struct prack *prack;     /* b2bua_prack.c: RFC 3262 state, NULL until needed */
	struct xfer *xfer;       /* b2bua_transfer.c: the agent's transfer in progress */
	struct bridge *bridge;   /* b2bua_bridge.c: a bridge transfer's call, NULL none */
	struct stimer *st;       /* b2bua_timer.c: session timers per leg, NULL none yet */
};

/* An INVITE to an agent that we CANCELled, kept until its final response (which needs
 * an ACK, RFC 3261 s17.1.1.3) or for the transaction timeout. */
struct cancelled_invite {
	struct cancelled_invite *next;
	osip_message_t *invite; /* a copy of what we sent */
	uint64_t conn;
	struct timespec since;
};

/* Overload measurements (b2bua_overload.c). Owner: struct b2bua. */
#define OVERLOAD_TICK_MS        10
#define OVERLOAD_STANDING_TICKS 3 /* a standing queue delays this many ticks in a row */
struct overload {
	struct event *tick;   /* every OVERLOAD_TICK_MS, measures the loop's lag */
	int64_t last_tick_ms; /* monotonic */
	unsigned late_ms[OVERLOAD_STANDING_TICKS]; /* the last ticks' lag, a ring */
	unsigned late_next;                        /* where the next goes */
	unsigned lag_ms;                           /* the least of them: the loop's standing lag */
	unsigned admit_milli;    /* the share of new calls admitted, 0..1000 (of the loop) */
	unsigned admit_credit;   /* accumulates admit_milli per new call; 1000 admits one */
	unsigned fd_limit;       /* RLIMIT_NOFILE when the B2BUA started */
	unsigned fd_base;        /* descriptors open that are not connections or media sockets
	                            (listeners, event fds, logs, readers), recounted each second */
	unsigned port_pairs;     /* RTP/RTCP pairs in the media port range */
	uint64_t media_cpu_ns;   /* the media workers' CPU time at the last sample */
	int64_t media_sample_ms; /* when that was (monotonic), 0: none yet */
	unsigned media_load;     /* their mean busy % over the last sample period */
	unsigned long shed;      /* new calls refused under overload */
	int64_t last_log_ms;
};

struct b2bua {
	struct event_base *base;
	struct conf *conf;
	struct sip_server *sip;
	struct media_engine *media;
	SSL_CTX **agent_ctx; /* per agent: client TLS context (certificate, verify) */
	struct telemetry *tel;
	struct pool *pool;
	struct event *media_ev; /* media engine event fd */
	struct event *probe_ev; /* periodic OPTIONS to agents */
	struct call *calls;
	unsigned ncalls;       /* in the table, ended ones included */
	unsigned nlive;        /* not ended: what the limits count */
	unsigned nanswered;    /* answered, not ended (nlive - nanswered are in set-up) */
	unsigned nmedia;       /* calls holding media ports (until freed) */
	unsigned *trunk_calls; /* per trunk index */
	size_t ntrunk_calls;
	uint64_t *agent_conn; /* per agent: reusable outbound connection, 0 none */
	SSL_CTX **trunk_ctx;  /* per trunk with a target: client TLS context */
	uint64_t *trunk_conn; /* per trunk: reusable outbound connection, 0 none */
	size_t nagents;
	char media_addr[64];        /* address written into c= */
	osip_message_t **probe_req; /* per agent: the probe OPTIONS in flight, or NULL */
	/* INVITEs to agents we cancelled, newest first */
	struct cancelled_invite *cancelled;
	bool stopping;
	bool draining;     /* b2bua_set_draining(): no new calls, OPTIONS 503 (main.c decides) */
	char sentby[272];  /* host:port for Via ([sip] hostname or the listen address) */
	char contact[304]; /* our Contact value: <sip:sipwarden@sentby;transport=tls> */
	char host[96];     /* for Warning and Call-IDs */
	struct strmap *callids[2]; /* per leg: calls by their dialog's Call-ID (b2bua_call.c) */
	struct strmap *by_media;   /* calls by media id (b2bua_call.c) */
	struct overload ovl;
	TAILQ_HEAD(, call) trying; /* new calls whose 100 Trying may be due (b2bua_trying.c) */
	struct event *trying_ev;
	/* [cluster] (daemon/cluster.c), or NULL: a new INVITE is held until the shared
	 * limits answer, then comes back to on_new_invite() as `cluster_granted` */
	struct cluster *cluster;
	const osip_message_t *cluster_granted;
	bool cluster_in_store, cluster_taken;
};

/* b2bua.c, b2bua_call.c */
struct call *call_new(struct b2bua *b);
void call_finish(struct call *c);
void leg_clear(struct call_leg *l);
/* Wipe and free leg `l`'s offered keys, then make room for `n` (at least one) of the new
 * offer's: 0, or -ENOMEM with none. */
int leg_offer_room(struct call_leg *l, size_t n);
/* Wipe and free leg `l`'s offered keys (none left). */
void leg_offer_drop(struct call_leg *l);
/* The peer of leg `l` answered our offer choosing `v`: our key for it becomes l->tx (wiped
 * when none matches or the answer is plain); a `final` answer also wipes and frees the
 * offered keys (a live call does not keep the keys its peer did not choose; an early
 * answer's 2xx is checked against them again). */
void leg_answer_key(struct call_leg *l, const struct sdp_verdict *v, bool final);
/* The keys of our offer `sdp` (a text sdp_build_*() wrote for leg `l`) into l->offered
 * again, by tag order, for an answer to it that comes again (a session refresh repeats
 * the offer): 0, -EINVAL (not an SDP we wrote) or -ENOMEM. */
int leg_offer_from_text(struct call_leg *l, const char *sdp);
/* Free (wiped) the bodies of a message the call keeps only for its headers. */
void call_msg_drop_bodies(osip_message_t *m);
/* Replace *m, an INVITE a call keeps once it is answered, by a copy of what is still read
 * from it: the method, Call-ID, CSeq and top Via (matching CANCELs, responses and PRACKs),
 * with CALL_KEEP_PARTIES From and To (the caller's identity for a bridge transfer), with
 * CALL_KEEP_ROUTING also the Request-URI and Route set (an ACK or CANCEL is built from
 * it, with From and To); the rest is freed (bodies wiped). 0, or -ENOMEM with *m
 * untouched. */
#define CALL_KEEP_PARTIES 1u
#define CALL_KEEP_ROUTING 2u
int call_msg_keep_txn(osip_message_t **m, unsigned what);
/* Leg A's INVITE got its 200 and the ACK for it: drop what only set-up read (the INVITE
 * down to its transaction's core, call_msg_keep_txn(); our SDP answer to it, wiped). */
void call_a_acked(struct call *c);
void leg_capture_tls(struct call_leg *l, const struct sip_conn_info *ci);
void call_media_index(struct call *c);
struct call *call_by_media(struct b2bua *b, uint64_t media_id);
struct call *call_by_id(struct b2bua *b, const char *id);
struct call *call_by_callid(struct b2bua *b, const char *cid, int legi);
struct call *call_by_dialog(struct b2bua *b, const osip_message_t *req, int *legi);
/* Put leg `legi` of `c` in the Call-ID index once its dialog exists (again after a new
 * dialog); leg_clear() takes it out. call_table_free() drops the index (b2bua_free). */
void call_leg_index(struct call *c, int legi);
struct call *call_find(struct b2bua *b, const osip_message_t *m, int legi,
                       bool (*match)(const struct call *c, int legi, const osip_message_t *m));
void call_table_free(struct b2bua *b);
void call_end(struct call *c, const char *outcome, const char *ended_by, const char *reason,
              int code);
void call_free(struct call *c);
int b2bua_send(struct b2bua *b, uint64_t conn, osip_message_t *m);
void b2bua_forged_response(struct b2bua *b, const struct call *c, uint64_t conn, const char *why);
int b2bua_reply(struct b2bua *b, uint64_t conn, const osip_message_t *req, int code,
                const char *to_tag, const char *warning, const char *sdp);
/* The response b2bua_reply() sends, built only: *out (osip_message_free) or an error. */
int b2bua_response(struct b2bua *b, const osip_message_t *req, int code, const char *to_tag,
                   const char *warning, const char *sdp, osip_message_t **out);
struct call *call_by_conn(struct b2bua *b, uint64_t conn, int *legi);
int64_t ms_since(const struct timespec *t);

void pend_clear(struct call *c);
/* [cluster]: the call no longer counts (release it in Redis, or republish). b2bua.c */
void call_cluster_release(struct call *c);

/* b2bua_trying.c: a trunk's INVITE gets 100 Trying only when nothing else went to it
 * within TRYING_DELAY_MS (RFC 3261 s17.2.1 allows up to 200 ms) */
#define TRYING_DELAY_MS 100
int trying_start(struct b2bua *b);
void trying_stop(struct b2bua *b);
void trying_queue(struct call *c);  /* leg A's INVITE was taken on */
void trying_forget(struct call *c); /* the call is freed */

/* b2bua_overload.c: start the lag tick (0 or -ENOMEM), stop it; the reason
 * ("overload_loop_lag", "overload_media", "overload_setup", "overload_ports",
 * "overload_fds") a new INVITE must be refused for, or NULL (a call admitted: it counts
 * against the share the loop's lag allows); refuse it (503 + Retry-After, telemetry,
 * counted). */
int overload_start(struct b2bua *b);
void overload_stop(struct b2bua *b);
const char *overload_check(struct b2bua *b);
/* One tick's lag `late_ms` against the bound `max_ms` (0: off): updates the standing lag
 * and the share of new calls admitted. The tick calls it; pure, for tests. */
void overload_lag_sample(struct overload *o, unsigned late_ms, unsigned max_ms);
/* Mean busy % of `workers` threads that used `cpu_ns` of CPU in `wall_ms` (0..100). */
unsigned overload_load_pct(uint64_t cpu_ns, int64_t wall_ms, unsigned workers);
void overload_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req, const char *reason);

/* b2bua_relay.c */
void relay_request(struct call *c, int legi, osip_message_t *req);
void relay_response(struct call *c, osip_message_t *resp);
/* Does a re-offer from leg `legi` (`offer`, verdict `v`) keep the crypto that leg runs
 * with, and may the other leg keep the key sipwarden sends on it? Then sipwarden re-offers
 * and answers with the keys each leg already has (b2bua_relay.c, b2bua_late.c). */
bool relay_keeps_keys(const struct call *c, int legi, const struct sdp_desc *offer,
                      const struct sdp_verdict *v);

/* Who is at the other end of leg `legi`: "trunk" or "agent" (for call.end ended_by). */
static inline const char *
leg_who(const struct call *c, int legi)
{
	return c->leg[legi].human ? "human" : c->leg[legi].trunk ? "trunk" : "agent";
}

/* The media relay's leg of call leg `legi`: its own (A, B), or C once a bridge transfer
 * moved the caller to the person it called (b2bua_bridge.c). */
static inline enum media_leg_id
call_mleg(const struct call *c, int legi)
{
	return c->leg[legi].human ? MEDIA_LEG_C : (enum media_leg_id)legi;
}

/* The leg that faces the trunk: A for calls from a trunk, B for calls from an agent. */
static inline int
call_trunk_leg(const struct call *c)
{
	return c->outbound ? 1 : 0;
}

/* b2bua_route.c: may the Record-Route of an INVITE become leg A's route set? 0, or 400
 * with a telemetry reason token and Warning text (static). Copy it, in order, into a
 * dialog-creating response (1xx with To tag, 2xx) to that INVITE: 0 or -EINVAL/-ENOMEM. */
int route_check_invite(const osip_message_t *req, const char **reason, const char **text);
int route_echo(osip_message_t *resp, const osip_message_t *req);

/* b2bua_2xx.c: send a 2xx (`code`, our `sdp`) to INVITE `req` on leg `legi` and keep
 * sending it until its ACK (ok2xx_ack(), true when `ack` was it) or, after 64 x T1,
 * end the call ("no_ack"). ok2xx_stop_all(): forget both legs' (call_end, call_free).
 * ok2xx_ack_again(): ACK a copy of a 2xx to the INVITE we sent on leg `legi`. */
int ok2xx_reply(struct call *c, int legi, const osip_message_t *req, int code, const char *sdp);
bool ok2xx_ack(struct call *c, int legi, const osip_message_t *ack);
void ok2xx_stop_all(struct call *c);
void ok2xx_ack_again(struct call *c, int legi, const osip_message_t *resp);

/* b2bua_out.c */
enum sip_hook_verdict out_invite(struct b2bua *b, uint64_t conn, osip_message_t *req, int agent);
int out_agent_by_cert(const struct b2bua *b, const struct sip_conn_info *ci);
SSL_CTX **out_trunk_ctxs_new(const struct conf *conf, char *err, size_t errlen);
void out_trunk_ctxs_free(SSL_CTX **v, size_t n);
void out_conn_closed(struct b2bua *b, uint64_t conn);
/* The connection to trunk `ti`'s target (reused, or opened now; TLS, its IP verified):
 * its id, or 0 when it cannot be opened. */
uint64_t out_trunk_conn(struct b2bua *b, int ti);

/* b2bua_agent.c */
int leg_b_invite(struct call *c, uint64_t conn, bool to_trunk, int peer, const char *hp, bool pad,
                 bool plain);
/* What leg_b_invite() would copy from `req` (leg A's INVITE; `t` the trunk whose
 * pass_headers apply, or NULL) and what leg A's dialog echoes, against its grammar:
 * 0, or the status to refuse the INVITE with (400, 414) and a telemetry reason token and
 * Warning text (static). */
int leg_b_check_input(const osip_message_t *req, const struct conf_trunk *t, const char **reason,
                      const char **text);
void leg_b_timer(struct call *c, unsigned ms);
/* Send the call to an agent of the pool, failing over on transport errors. Returns 0,
 * or non-zero after ending the call (503 when no agent is left, 500 when the INVITE
 * could not be built: a local error, not counted against any agent). */
int agent_route(struct call *c);
void agent_on_response(struct call *c, osip_message_t *resp);
void agent_cancel(struct call *c);
void agent_failed(struct call *c, const char *why);
/* b2bua_agent.c, for the probes: agent idx's connection (reused or opened; 0: none), its
 * health seen by a probe (logged and reported once per change), its host:port for URIs. */
uint64_t agent_conn(struct b2bua *b, int idx);
void agent_report(struct b2bua *b, int idx, bool ok, const char *why);
void agent_hostport(const struct conf_agent *a, char *buf, size_t len);
/* b2bua_probe.c */
void agent_conn_closed(struct b2bua *b, uint64_t conn);
bool agent_probe_response(struct b2bua *b, uint64_t conn, osip_message_t *resp);
void agent_probe_cb(evutil_socket_t fd, short what, void *arg);
int agent_index_by_conn(struct b2bua *b, uint64_t conn, const struct sockaddr *peer);
void stray_invite_2xx(struct b2bua *b, uint64_t conn, osip_message_t *resp);
void cancelled_final(struct b2bua *b, uint64_t conn, const osip_message_t *resp);
void cancelled_free(struct b2bua *b);

/* b2bua_late.c: late offers (INVITE and re-INVITE without SDP). _answered: leg B's 2xx
 * to the offerless INVITE of a call whose leg A sent none; _reinvite_2xx: the 2xx to an
 * offerless re-INVITE relayed from c->pend.from (both may end the call); _ack: an ACK
 * on leg `legi` (ends the call when it should answer our offer and does not); _end:
 * from call_end(), ACKs a 2xx still owed; _free: from call_free(). */
void b2bua_late_answered(struct call *c, osip_message_t *resp);
void b2bua_late_reinvite_2xx(struct call *c, osip_message_t *resp);
void b2bua_late_ack(struct call *c, int legi, const osip_message_t *ack);
void b2bua_late_end(struct call *c);
void b2bua_late_free(struct call *c);
/* b2bua_prack.c: reliable provisional responses (RFC 3262). _provisional: send 180/183
 * (our `sdp` or NULL) to leg A's INVITE, reliably when it requires 100rel; _final_2xx:
 * send the 200 to it (ok2xx_reply), held while a reliable provisional with SDP awaits its
 * PRACK; _request: answer a PRACK received on leg `legi`; _agent_provisional: PRACK a
 * reliable 1xx from leg B, false when it is a copy or unusable (do not relay it);
 * _free: from call_free(). */
int prack_provisional(struct call *c, int code, const char *sdp);
int prack_final_2xx(struct call *c);
void prack_request(struct call *c, int legi, uint64_t conn, const osip_message_t *req);
bool prack_agent_provisional(struct call *c, const osip_message_t *resp);
void prack_free(struct call *c);
/* b2bua_prack.c: an INVITE opening a call (from a trunk, or an agent calling out), or a
 * re-INVITE/UPDATE/INFO in one, whose Require names an option-tag other than 100rel and
 * timer was answered 420 with
 * Unsupported (400 when that list would pass SIP_UTIL_UNSUPPORTED_*), and reported
 * (security.input_refused): true. No call state is touched. */
bool prack_require_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req);
/* b2bua_transfer.c: transfer by REFER from an agent (struct xfer, c->xfer). _request: a
 * REFER or NOTIFY on leg `legi` of a call (takes `req`; a NOTIFY reporting success ends
 * the call); _response: a response on leg `legi`, true when it claimed to answer our
 * REFER; _end: from call_end(), records a transfer still in progress ("ended"); _free:
 * from call_free(). */
void xfer_request(struct call *c, int legi, osip_message_t *req);
bool xfer_response(struct call *c, int legi, uint64_t conn, const osip_message_t *resp);
void xfer_end(struct call *c);
void xfer_free(struct call *c);
/* NOTIFY (Event: refer, message/sipfrag "SIP/2.0 `code` <our phrase>") in the dialog of
 * leg `l` (the agent's): Subscription-State active, or terminated when `final`. */
void xfer_notify(struct call *c, struct call_leg *l, int code, bool final);
/* b2bua_bridge.c: transfer = bridge (struct bridge, c->bridge). _start: place the call
 * to `dest` for the agent's REFER (0: answer it 202, then bridge_* reports by NOTIFY; or
 * the status to refuse it with); _response: a response whose Call-ID is `cid`, true when
 * it belonged to a bridge call (answered, refused, or our BYE's 200 to the agent moved
 * away); _end: from call_end() (cancels a call still ringing, records it "ended");
 * _legs: call.end's legs, true with `human` filled when a bridge call was placed (and
 * `agent` re-filled after a move); _free: from call_free(). */
int bridge_start(struct call *c, const struct conf_transfer *dest);
bool bridge_response(struct b2bua *b, uint64_t conn, const char *cid, osip_message_t *resp);
void bridge_end(struct call *c);
/* b2bua_bridge.c: connection `conn` closed: a bridge call ringing on it failed (503). */
void bridge_conn_closed(struct b2bua *b, uint64_t conn);
bool bridge_legs(const struct call *c, struct telemetry_leg *agent, char *abuf, size_t alen,
                 struct telemetry_leg *human, char *hbuf, size_t hlen);
void bridge_free(struct call *c);
/* b2bua_timer.c: session timers (RFC 4028), each leg its own. _refuse: an INVITE opening
 * a call whose Session-Expires is malformed (400) or below [sip] min_session_expires
 * (422 + Min-SE) was answered: true. _invite_headers: Session-Expires, Min-SE and
 * Supported for our INVITE on leg B. _2xx: the timer headers of our 2xx to `req` from the
 * peer of leg `legi` (the session is refreshed now; `sdp` is what we send, or NULL).
 * _leg_2xx: the peer's 2xx to our INVITE on leg `legi` (`our_sdp`: our offer in it).
 * _relayed: a request from leg `legi` crossed and got 2xx (`sdp`: our answer to it).
 * _request: an in-dialog UPDATE without SDP or an unchanged re-INVITE, answered here,
 * or a re-offer crossing our refresh re-INVITE, answered 491 (takes `req`): true. _response: the
 * answer to our refresh on leg `legi`: true when it was one (may end the call). _free: from
 * call_end() and call_free(). */
bool stimer_refuse(struct b2bua *b, uint64_t conn, const osip_message_t *req);
int stimer_invite_headers(struct call *c, osip_message_t *inv);
/* Leg B's peer answered our INVITE 422 with a Min-SE above what we asked: true when the
 * INVITE should go again (stimer_invite_headers() then asks for that Min-SE); once. */
bool stimer_retry_422(struct call *c, const osip_message_t *resp);
void stimer_2xx(struct call *c, int legi, const osip_message_t *req, osip_message_t *resp,
                const char *sdp);
void stimer_leg_2xx(struct call *c, int legi, const osip_message_t *resp, const char *our_sdp);
void stimer_relayed(struct call *c, int legi, const char *sdp);
bool stimer_request(struct call *c, int legi, osip_message_t *req);
/* Our refresh re-INVITE (an offer) is in flight on leg `legi`: a re-INVITE or an offer
 * from either side that would meet it on that leg gets 491 (glare). */
bool stimer_glare(const struct call *c, int legi);
bool stimer_response(struct call *c, int legi, uint64_t conn, osip_message_t *resp);
void stimer_free(struct call *c);
/* b2bua.c: fill in the SIP server hooks for requests, responses, closed and idle
 * connections (b2bua_life.c registers them with its own TLS hook). */
void b2bua_sip_hooks(struct sip_server_hooks *h);
/* b2bua_agent.c: leg A has its 200 and the media runs: count the call as answered. */
void call_answered(struct call *c);

/* b2bua_media.c */
struct sdp_policy leg_policy(const struct call *c, int legi);
int media_setup_call(struct call *c);
int media_apply_leg(struct call *c, int legi);
void b2bua_media_cb(evutil_socket_t fd, short what, void *arg);
void leg_telemetry(const struct call *c, int legi, struct telemetry_leg *out, char *suite_buf,
                   size_t suite_len);
/* The same for leg `l` of `c` (c->leg[] or a bridge's), whose media is relay leg `ml`. */
void leg_telemetry_of(const struct call *c, const struct call_leg *l, enum media_leg_id ml,
                      struct telemetry_leg *out, char *suite_buf, size_t suite_len);
json_t *call_json(const struct call *c);
const char *suite_name_of(const struct srtp_keys *k, bool plain);
bool leg_is_plain(const struct call *c, int legi);
bool leg_crypto_pad(const struct call *c, int legi);
const char *media_advertise(const struct call *c);
/* Leg `legi`'s peer answered our offer: keep `answer` (taken) and `v`, our key it chose
 * becomes tx; a `final` answer (not early media's, which the 2xx answers again) also
 * drops the other offered keys (leg_answer_key()). */
void leg_set_answer(struct call *c, int legi, struct sdp_desc *answer, const struct sdp_verdict *v,
                    bool final);
void interim_tick(void *arg);

#endif
