/*
 * telemetry.h: sipwarden's per-call and security event stream.
 *
 * Events are JSON objects, one per line, written to every subscriber of a local Unix
 * stream socket. Each carries "v" (TELEMETRY_SCHEMA_VERSION), "ts" (RFC 3339 UTC with
 * milliseconds) and "event"; call events carry "call", a sipwarden call id that is
 * never a SIP Call-ID. The schema (event names, required fields, types) lives in one
 * table in telemetry_schema.c and is checked by telemetry_validate(); README.md documents
 * it with an example of each event.
 *
 * Fan-out: telemetry_emit() validates, redacts (redact_str() on every string), serialises
 * once and queues the same bytes on every subscriber. Each subscriber's queue holds at
 * most queue_limit events (counted in events, each at most TELEMETRY_MAX_EVENT bytes).
 * A subscriber whose queue is full enters "dropping": every further event is dropped and
 * counted for it until its queue has fully drained; it then receives one
 * {"event":"telemetry.dropped","count":N} and the stream resumes. Emitting never makes a
 * system call and never blocks. Subscribers never write to us: input is discarded, EOF
 * or an error closes the subscriber. With nobody subscribed, the call event builders
 * (call.start, call.answer, call.interim, call.end) count what their event would have
 * counted without building it (lib/telemetry_int.h): the counters and metrics are the
 * same either way, and a subscriber gets every record whole.
 *
 * Runs on the daemon's event_base; does not create one. Not responsible for deciding
 * when calls start or end (the B2BUA) nor for per-call state (telemetry_set_interim()
 * only ticks; the B2BUA emits one call.interim per running call on each tick).
 */
#ifndef SW_TELEMETRY_H
#define SW_TELEMETRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtp_stats.h"

struct event_base;

#define TELEMETRY_SCHEMA_VERSION  1
#define TELEMETRY_DEFAULT_QUEUE   1024 /* events per subscriber */
#define TELEMETRY_MAX_QUEUE       1000000
#define TELEMETRY_MAX_SUBSCRIBERS 64    /* more connections are closed at accept */
#define TELEMETRY_MAX_EVENT       65536 /* bytes of one serialised event */
#define TELEMETRY_CALL_ID_LEN     33    /* 32 hex digits + NUL */

struct telemetry;

/*
 * Start the telemetry server on `base`. `path` is the socket path (NULL: no socket; emit
 * still validates and feeds the counters), `mode` its file mode (e.g. 0660), `group` the
 * group to own it or NULL, `queue_limit` events per subscriber (0: default).
 * Returns the server or NULL with a message in `err` (an unknown group is named).
 * Owner: the caller; free with telemetry_free(), which also removes the socket file.
 */
struct telemetry *telemetry_new(struct event_base *base, const char *path, unsigned mode,
                                const char *group, unsigned queue_limit, char *err, size_t errlen);
/*
 * Write what each subscriber has queued as far as its socket takes it without blocking
 * (so an event emitted just before, such as daemon.stop, reaches readers), then close
 * every subscriber, remove the socket file, free everything. NULL is fine.
 */
void telemetry_free(struct telemetry *t);

/*
 * Publish `event` (a JSON object with at least "event"; this function sets "v" and
 * "ts"). Takes ownership of `event` (NULL gives -ENOMEM, so json_pack() can be passed
 * directly). Returns 0; -EINVAL if the event fails telemetry_validate() (nothing is sent,
 * the "invalid" counter goes up); -EMSGSIZE if it serialises past TELEMETRY_MAX_EVENT.
 * With no subscriber connected the event is checked and counted but neither redacted
 * nor serialised (so it cannot be too large). Never blocks. `t` may be NULL (the event
 * is freed, 0 returned).
 */
int telemetry_emit(struct telemetry *t, json_t *event);

struct telemetry_stats {
	unsigned subscribers;  /* connected now */
	uint64_t events;       /* events accepted by telemetry_emit() */
	uint64_t invalid;      /* events refused by validation */
	uint64_t dropped;      /* event deliveries dropped on full queues, all subscribers */
	uint64_t disconnected; /* subscribers closed (EOF, error, over the limit) */
	size_t queue_limit;    /* per subscriber */
	size_t queued_max;     /* the longest subscriber queue right now, in events */
};
void telemetry_stats(const struct telemetry *t, struct telemetry_stats *out);

/*
 * Counters since start, derived from the events emitted (plus TLS handshakes that
 * succeeded, see telemetry_tls_handshake_ok()). Returns a new JSON object:
 * {"since","uptime_s","calls":{"current","started","by_outcome":{..}},
 *  "refusals":{"<security event suffix>":{"<reason>":n}},
 *  "drops":{"auth","replay","plaintext","unknown_source","ssrc_limit"},
 *  "tls_handshakes":{"ok","failed"},"telemetry":{"subscribers","events","dropped","invalid"}}.
 * Caller owns the result.
 */
json_t *telemetry_counters(const struct telemetry *t);
/*
 * Call `cb(arg)` every `seconds` seconds on the event base, for the B2BUA to emit one
 * call.interim per running call ([telemetry] interim_interval; 0, the default, stops the
 * timer). Calling it again replaces the previous timer (config reload). Returns 0 or
 * -ENOMEM.
 */
int telemetry_set_interim(struct telemetry *t, unsigned seconds, void (*cb)(void *arg), void *arg);

/* Histograms and media totals of the calls seen so far (lib/metrics.h), for the
 * metrics listener; owned by `t`, valid until telemetry_free(). NULL when t is NULL. */
struct metrics_calls;
const struct metrics_calls *telemetry_metrics(const struct telemetry *t);

/* Count one successful TLS handshake (failures are counted from their events). */
void telemetry_tls_handshake_ok(struct telemetry *t);

/*
 * Check `event` against the schema: v, ts, a known event name, every required field
 * present with the right type, no unknown fields. Returns 0 or -EINVAL with the first
 * problem in `err` (which may be NULL).
 */
int telemetry_validate(const json_t *event, char *err, size_t errlen);
/* The NULL-terminated list of event names the schema knows. */
const char *const *telemetry_event_names(void);

/* Fill `out` with a fresh random sipwarden call id (32 lower-case hex digits). */
void telemetry_call_id(char out[TELEMETRY_CALL_ID_LEN]);

/*
 * MOS estimate, simplified ITU-T G.107 E-model (see README "MOS"): R = 93.2 - Id - Ie,eff
 * with one-way delay d = rtt/2 + 2*jitter + 20 ms (packetisation), Id from the
 * Cole-Rosenbluth fit, Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl) (random loss, BurstR=1),
 * then MOS = 1 + 0.035R + 7e-6 R (R-60)(100-R). `loss_fraction` 0..1, `jitter_ms`,
 * `rtt_ms` (0: unknown, counted as 0). Returns 1.0 .. ~4.41.
 */
enum telemetry_codec {
	TELEMETRY_CODEC_G711 = 0,   /* Ie 0, Bpl 25.1 (with packet loss concealment) */
	TELEMETRY_CODEC_G711_NOPLC, /* Ie 0, Bpl 4.3 */
};
double telemetry_mos(double loss_fraction, double jitter_ms, double rtt_ms,
                     enum telemetry_codec codec);

/* ---- typed emitters: what the daemon and the B2BUA call ------------------------ */

/* TLS posture of one signalling hop. All pointers are borrowed for the call. */
struct telemetry_tls {
	const char *version;         /* "TLSv1.3" (SSL_get_version), NULL: not TLS */
	const char *cipher;          /* SSL_CIPHER_get_name, or NULL */
	const uint8_t *peer_sha256;  /* 32 bytes: peer certificate fingerprint, or NULL */
	const struct sockaddr *peer; /* remote address of the hop, or NULL */
};

struct telemetry_drops {
	uint64_t auth;           /* SRTP authentication failure */
	uint64_t replay;         /* SRTP replay check */
	uint64_t plaintext;      /* plain RTP on an SRTP leg */
	uint64_t unknown_source; /* from an address other than the latched one */
	uint64_t ssrc_limit;     /* an SSRC past the leg's bound (srtp_leg.h) */
	uint64_t malformed;      /* not RTP/RTCP version 2, too short, or a broken compound */
	uint64_t other;          /* anything else: not set up yet, libsrtp errors, send errors */
};

/* One direction of one media leg: "in" = from the peer to sipwarden, "out" = to it. */
struct telemetry_dir {
	uint64_t packets, bytes;
	int64_t lost;     /* packets lost; < 0 or no packets: unknown (loss, jitter, mos null) */
	double jitter_ms; /* interarrival jitter (RFC 3550) in ms */
	double rtt_ms;    /* round trip sipwarden <-> peer; 0: unknown (null; MOS counts 0) */
	struct telemetry_drops drops;
	uint64_t dtmf_events; /* RFC 4733 events (key presses), never their digits */
	bool sent;            /* "out": packets are what was sent, so loss = lost / packets */
};

/*
 * A received direction from the relay's counters: lost/jitter unknown (lost = -1) until
 * a packet arrived. `rtt_ms` is left 0 (the caller copies the leg's RTT from "out").
 */
void telemetry_dir_from_rx(const struct rtp_stats *rx, struct telemetry_dir *d);

/* A sending direction: loss, jitter and RTT from the peer's receiver reports, unknown
 * (lost = -1) when nothing was sent or the peer reported nothing (rtp_stats_reported()). */
void telemetry_dir_from_tx(const struct rtp_stats *tx, struct telemetry_dir *d);

struct telemetry_leg {
	const char *suite;              /* SRTP suite name, "RTP" for a legacy leg, NULL: none */
	const struct sockaddr *latched; /* authenticated peer media address, NULL: none yet */
	int64_t first_packet_ms;        /* answer -> first authenticated packet; < 0: none */
	struct telemetry_tls signalling;
	struct telemetry_dir in, out;
};

/* daemon.start {version, pid}; daemon.stop {reason}. */
int telemetry_daemon_start(struct telemetry *t);
int telemetry_daemon_stop(struct telemetry *t, const char *reason);
/* config.loaded {path, sha256}: `sha256` is the 32-byte digest of the file (conf->sha256). */
int telemetry_config_loaded(struct telemetry *t, const char *path, const uint8_t sha256[32]);
/* config.refused {path, reason, detail, keys}: a reload that was refused, the running config
 * stays. `reason` is "invalid" (the file does not load), "restart_needed" (`keys` names what
 * only a restart applies, e.g. "[media] address") or "tls" (certificates or keys that do
 * not load into OpenSSL). */
int telemetry_config_refused(struct telemetry *t, const char *path, const char *reason,
                             const char *detail, const char *const *keys, size_t nkeys);

/* call.start: a trunk INVITE was accepted for routing. `from_user`/`to_user` are the
 * user parts of From/To (card-number-like digit runs are masked). */
int telemetry_call_start(struct telemetry *t, const char *call, const char *trunk,
                         const char *from_user, const char *to_user,
                         const struct telemetry_tls *trunk_signalling);
/* call.answer: the agent's 200 OK went to the trunk. `setup_ms`: trunk INVITE -> 200. */
int telemetry_call_answer(struct telemetry *t, const char *call, const char *agent,
                          int64_t setup_ms, const char *trunk_suite, const char *agent_suite);
/* call.interim: media stats so far. `agent_leg` may be NULL before an agent answered. */
int telemetry_call_interim(struct telemetry *t, const char *call, int64_t duration_ms,
                           const struct telemetry_leg *trunk_leg,
                           const struct telemetry_leg *agent_leg);

struct telemetry_call_end {
	const char *call;
	const char *outcome;  /* "completed", "no_answer", "busy", "failed", "cancelled",
	                         "refused", "timeout" */
	const char *ended_by; /* "trunk", "agent" or "sipwarden" */
	const char *reason;   /* short token: "bye", "cancel", "media_timeout", "max_duration",
	                         "shutdown", "agent_error", ... */
	int sip_code;         /* final SIP status of the trunk INVITE (200 if answered) */
	int64_t duration_ms;  /* answer -> end; 0 if never answered */
	const char *agent;    /* agent that took the call, or NULL */
	const struct telemetry_leg *trunk_leg;
	const struct telemetry_leg *agent_leg; /* NULL if no agent leg was set up */
	const struct telemetry_leg *human_leg; /* the call a bridge transfer placed, or NULL
	                                          (then legs has no "human") */
};
int telemetry_call_end(struct telemetry *t, const struct telemetry_call_end *e);

/* call.transfer {call, agent, target, mode, outcome, sip_code, answer_ms|null}: an
 * agent's transfer ended: "transferred" (the trunk reported 2xx), "refused" (the trunk
 * answered the REFER, or reported, >= 300), "failed" (no final status in time), "ended"
 * (the call ended first). */
struct telemetry_transfer {
	const char *call, *agent;
	const char *target;  /* the [transfer NAME] name */
	const char *mode;    /* "refer" or "bridge" */
	const char *outcome; /* "transferred", "refused", "failed", "ended"; bridge also
	                        "no_answer" (nobody answered in time) */
	int sip_code;        /* the final status the trunk reported (0 none) */
	int64_t answer_ms;   /* REFER -> final status, -1 none */
};
int telemetry_call_transfer(struct telemetry *t, const struct telemetry_transfer *x);

/* security.transfer_refused {call, source, reason, sip_code, agent, requested}: an agent's
 * REFER refused ("transfer_off", "not_allowed", "embedded_headers", "refer_to_invalid",
 * "refer_to_too_long", "not_answered", "busy"). `requested` is the Refer-To as received,
 * escaped (vis, C style) and cut to TELEMETRY_REQUESTED_MAX bytes, or NULL. */
#define TELEMETRY_REQUESTED_MAX 256
int telemetry_transfer_refused(struct telemetry *t, const char *call, const struct sockaddr *source,
                               const char *agent, const char *reason, const char *requested,
                               int sip_code);

enum telemetry_security {
	TELEMETRY_SEC_OFFER_REFUSED,        /* 488 to an offer: reason e.g. "no_srtp" */
	TELEMETRY_SEC_TLS_HANDSHAKE_FAILED, /* reason "handshake", "timeout", "cert_verify" */
	TELEMETRY_SEC_PEER_UNKNOWN,      /* reason "source_not_allowed", "fingerprint_mismatch" */
	TELEMETRY_SEC_DOWNGRADE_REFUSED, /* re-INVITE weakening media: "suite", "plain_rtp" */
	TELEMETRY_SEC_LIMIT_REACHED,     /* reason: the limit, "max_calls", "trunk_max_calls",
	                                    "max_calls_per_source", "max_connections" */
	TELEMETRY_SEC_INPUT_REFUSED,     /* peer text that may not be copied into a message:
	                                    "from_user_invalid", "ruri_user_too_long", ... */
	TELEMETRY_SEC_CLUSTER_DEGRADED,  /* [cluster] Redis failed: "store_unreachable",
	                                    "store_timeout", "store_error" (once per outage) */
};
/*
 * security.<kind> {call|null, source|null, reason, detail?, sip_code (offer_refused,
 * downgrade_refused and input_refused only; else ignored)}. `reason` is a short
 * snake_case token (it keys the refusal counters); `detail` free text or NULL.
 */
int telemetry_security(struct telemetry *t, enum telemetry_security kind, const char *call,
                       const struct sockaddr *source, const char *reason, const char *detail,
                       int sip_code);

/*
 * Admission control (daemon/sip_admit.c). `source` is the source as lib/admit.h prints it
 * (an address without port, or an IPv6 /64); `reason` a snake_case token.
 * security.flood {call: null, source, reason, detail?}: a source hit a limit (reason
 * "connections", "unknown_connections", "sources", "requests"); reported at most once per
 * source per 10 s, the exact numbers are in the stats counters.
 * security.source_banned {call: null, source, reason, duration_ms}: a source is refused
 * for duration_ms (reason "request_rate", "scanner", "sweep").
 */
int telemetry_flood(struct telemetry *t, const char *source, const char *reason,
                    const char *detail);
int telemetry_source_banned(struct telemetry *t, const char *source, const char *reason,
                            uint64_t duration_ms);

/* [cluster]: every event from now on carries "instance": `name` (copied; NULL: none). */
int telemetry_set_instance(struct telemetry *t, const char *name);

/* agent.up / agent.down {agent, address, reason|null}. */
int telemetry_agent(struct telemetry *t, const char *agent, bool up, const struct sockaddr *address,
                    const char *reason);

#endif
