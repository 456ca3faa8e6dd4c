/*
 * conf.h: sipwarden's configuration, read from an INI file into an immutable struct.
 *
 * conf_load() reads, range-checks and cross-checks the whole file (including that
 * private key files are not readable by group/others) and either returns a complete
 * struct conf or NULL with an error naming file:line. Nothing else in the tree reads
 * the file. A loaded conf is never modified: reload builds a new one and swaps it in;
 * users that outlive a swap hold a reference (conf_ref/conf_unref).
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "log.h"
#include "suite.h"

#define CONF_NAME_MAX 64
#define CONF_ERR_MAX  512

/* An address and port (host:port, [v6]:port). */
struct conf_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* A pinned peer certificate: the SHA-256 of its DER encoding. */
struct conf_pin {
	bool set;
	uint8_t sha256[32];
};

/* One CIDR block of an allow-list. */
struct conf_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/* TLS settings for the listener and for connections sipwarden opens. */
struct conf_tls {
	struct conf_sockaddr listen;   /* [tls] listen, default 127.0.0.1:5061 */
	char *certificate;             /* PEM chain, leaf first */
	char *private_key;             /* PEM; refused when group/other can read it */
	char *ca_file;                 /* CA for verifying peers' certificates (optional) */
	int min_version;               /* TLS1_2_VERSION or TLS1_3_VERSION (default 1.3) */
	char *ciphers;                 /* TLS 1.2 cipher list (OpenSSL syntax) or NULL */
	char *ciphersuites;            /* TLS 1.3 suites or NULL */
	unsigned handshake_timeout_ms; /* default 5000, 100..60000 */
	unsigned idle_timeout_ms;      /* default 300000, 1000..86400000 */
	unsigned max_connections;      /* default 1024, 1..100000 */
	char *client_certificate;      /* presented on every TLS connection sipwarden opens */
	char *client_private_key;
};

/* SIP framing limits and identity. */
struct conf_sip {
	char *hostname;                  /* used in Via/Contact/Warning; default: listen address */
	unsigned max_message_size;       /* bytes incl. body, default 65536, 1024..1048576 */
	unsigned max_headers;            /* default 64, 8..1024 */
	unsigned max_line_length;        /* default 4096, 256..65536 */
	unsigned transaction_timeout_ms; /* Timer B/F, default 32000 */
	unsigned agent_timeout_ms;       /* no final answer from an agent -> next, default 8000 */
	unsigned session_expires_s;      /* RFC 4028 interval we ask for / impose, 0 off; 1800 */
	unsigned min_session_expires_s;  /* smaller Session-Expires get 422; default 90 */
};

/* [media] io: how media workers move packets (media.h enum media_io, same order). */
enum conf_media_io { CONF_MEDIA_IO_AUTO = 0, CONF_MEDIA_IO_URING, CONF_MEDIA_IO_EPOLL };

struct conf_media {
	struct conf_sockaddr address; /* local address media sockets bind to (port ignored) */
	char *advertise;              /* address put in c= (default: address) */
	uint16_t port_min, port_max;  /* default 30000..39999; even/odd pairs inside */
	unsigned workers;             /* 0 = one per core */
	enum conf_media_io io;        /* the workers' I/O path, default auto (media.h) */
	enum srtp_suite suites[SUITE_COUNT]; /* preference order, SUITE_NONE terminated */
	size_t nsuites;
	unsigned inactivity_timeout_s; /* no authenticated packet for N s ends the call; 0 off */
	unsigned max_call_duration_s;  /* denial-of-wallet cap; 0 off */
};

struct conf_limits {
	unsigned max_calls; /* global concurrent calls, default 1000 */
	/* overload shedding: a new INVITE gets 503 + Retry-After when one is exceeded */
	unsigned max_setup_calls; /* calls not yet answered (routing/early), default 200 */
	unsigned max_loop_lag_ms; /* standing lag of the signalling loop, default 10 ms; 0 off */
	unsigned fd_reserve;      /* file descriptors kept for calls in progress, default 64 */
	unsigned max_media_load;  /* media workers' mean busy %, default 90; 0 off */
};

/* [admission]: limits per source address (lib/admit.h). "Unknown" sources are neither in
 * a trunk's source CIDRs nor an agent's address; "known" ones are. */
struct conf_admission {
	unsigned unknown_max_connections;  /* per unknown source, default 32 */
	unsigned reserved_connections;     /* of [tls] max_connections, kept for known sources;
	                                      default a quarter of it */
	unsigned first_request_timeout_ms; /* unknown: first complete request, default 2000 */
	unsigned unknown_request_rate;     /* requests/s, default 20; 0: no budget */
	unsigned unknown_request_burst;    /* default 40 */
	unsigned known_request_rate;       /* trunks and agents, default 10000; 0: no budget */
	unsigned known_request_burst;      /* default 20000 */
	unsigned ban_time_ms;              /* over the request budget, default 60000 */
	unsigned scanner_ban_time_ms;      /* scanner User-Agent or sweep, default 3600000 */
	unsigned max_sources;              /* sources remembered, default 8192 (at start only) */
};

struct conf_telemetry {
	char *socket;                /* path of the telemetry stream socket or NULL (off) */
	unsigned socket_mode;        /* default 0660 */
	char *socket_group;          /* group owning the socket or NULL */
	unsigned interim_interval_s; /* 0 = no call.interim events */
	unsigned queue_limit;        /* events buffered per subscriber, default 1024 */
	char *control_socket;        /* control socket path or NULL (off) */
	unsigned control_mode;       /* default 0600 */
};

/* [metrics]: Prometheus text exposition over plain HTTP (GET /metrics). */
struct conf_metrics {
	struct conf_sockaddr listen; /* default off (len 0); port 9465 when omitted */
	bool allow_remote;           /* a non-loopback listen address is refused unless yes */
};

/* [trunk NAME] transfer: what an agent's REFER in a call from (or to) this trunk does. */
enum transfer_mode {
	TRANSFER_OFF,   /* refused with 403 (the default) */
	TRANSFER_REFER, /* sipwarden REFERs the trunk to the mapped target (daemon/b2bua_transfer.c)
	                 */
	TRANSFER_BRIDGE, /* sipwarden calls the mapped target itself and moves the caller's media
	                    to that call on answer (daemon/b2bua_bridge.c) */
};

/* Longest URI a [transfer NAME] match or target may be (and a Refer-To sipwarden reads). */
#define CONF_TRANSFER_URI_MAX 512

/* [transfer NAME]: one destination agents may hand callers to. `match` is the URI an
 * agent asks for (compared byte for byte with its Refer-To URI), `target` where the call
 * really goes; both sip:, sips: (sip_grammar_uri) or tel: (sip_grammar_phone), no
 * "?headers". */
struct conf_transfer {
	char name[CONF_NAME_MAX];
	char *match;
	char *target;
	char *trunk; /* bridge mode: the [trunk NAME] (with a target) the new call goes
	                through; NULL: the call's own trunk (lib/conf_transfer.c) */
};

/* [trunk NAME]: a SIP trunk (PBX, carrier) allowed to send calls in. */
struct conf_trunk {
	char name[CONF_NAME_MAX];
	struct conf_cidr *sources; /* allow-list of source addresses (required) */
	size_t nsources;
	char *ca_file;               /* when set, the trunk must present a cert signed by it */
	struct conf_pin fingerprint; /* pinned SHA-256 of the trunk's client certificate */
	struct conf_sockaddr target; /* where calls *to* this trunk go (optional, len 0) */
	bool legacy_rtp;             /* plain RTP allowed on this trunk's media leg */
	bool crypto_pad;             /* base64 '=' padding in a=crypto we send (default yes) */
	unsigned max_calls;          /* 0 = only the global limit */
	char **pass_headers;         /* extra X- headers allowed to cross, NULL terminated */
	enum transfer_mode transfer; /* default off */
};

/* [agent NAME]: one AI voice agent of the pool. */
struct conf_agent {
	char name[CONF_NAME_MAX];
	struct conf_sockaddr address; /* host:port the agent listens on (TLS) */
	char *server_name;            /* name to verify in the agent's certificate / SNI */
	unsigned weight;              /* default 1, 1..100 */
	char *client_certificate;     /* per-agent override of [tls] client_certificate */
	char *client_private_key;
	bool verify;                 /* verify the agent's certificate against [tls] ca_file */
	struct conf_pin fingerprint; /* client certificate that identifies this agent when it
	                                calls out (INVITE toward a trunk); unset: it cannot */
	bool crypto_pad;
};

enum agent_policy { AGENT_ROUND_ROBIN, AGENT_LEAST_BUSY };

/* [cluster]: instances sharing limits, bans and the call registry through Redis
 * (daemon/cluster.c). Off (redis NULL) unless the section is present. */
struct conf_cluster {
	char *redis;               /* "host:port" (IP literal, default port 6379) or an
	                              absolute Unix socket path; NULL: clustering off */
	struct conf_sockaddr addr; /* redis as TCP address (len 0: a Unix socket) */
	char *password;            /* AUTH, or NULL */
	char *instance;            /* this instance's name; default: the host name */
	char *prefix;              /* of every Redis key and channel, default "sipwarden" */
	unsigned heartbeat_ttl_ms; /* default 10000; a silent instance's calls are released
	                              after this long */
	unsigned timeout_ms;       /* an admission's wait for Redis, default 250 */
	char *on_store_failure;    /* "local" (default) or "refuse", as written */
	bool refuse_on_failure;    /* on_store_failure = refuse */
};

struct conf_pool {
	enum agent_policy policy;   /* default least_busy */
	unsigned probe_interval_ms; /* OPTIONS probe period, default 5000, 0 = no probes */
	unsigned probe_failures;    /* consecutive failures before down, default 2 */
};

/*
 * struct conf: the whole validated configuration.
 * Owner: created by conf_load() with one reference; freed by the last conf_unref().
 * Never modified after conf_load() returns.
 */
struct conf {
	unsigned refs;
	char *path;
	uint8_t sha256[32]; /* of the file's bytes, for config.loaded telemetry */
	enum log_level log_level;
	bool log_syslog;
	unsigned drain_timeout_s; /* SIGTERM: calls may go on this long; 0 (default) ends them */
	unsigned signalling_boost; /* nice steps the signalling thread runs above the workers */
	struct conf_tls tls;
	struct conf_sip sip;
	struct conf_media media;
	struct conf_limits limits;
	struct conf_admission admission;
	struct conf_telemetry telemetry;
	struct conf_metrics metrics;
	struct conf_pool pool;
	struct conf_cluster cluster;
	struct conf_trunk *trunks;
	size_t ntrunks;
	struct conf_agent *agents;
	size_t nagents;
	struct conf_transfer *transfers; /* the transfer allow-list */
	size_t ntransfers;
};

/*
 * Read and validate `path`. Returns a new conf (one reference) or NULL with a message
 * "path:line: what was expected" (line 0 when the problem is not on one line) in `err`.
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/* Print a human summary of what was found (for `sipwarden -t`). */
void conf_print(const struct conf *c, FILE *out);

/*
 * Calls fn(section, key, arg) for every key the parser accepts, in table order; section is
 * the name inside the brackets ("tls", "trunk", ...). For documentation checks
 * (tests/test_man.c). Returns the number of keys.
 */
size_t conf_keys_each(void (*fn)(const char *sect, const char *key, void *arg), void *arg);

/* Address helpers shared with the rest of the tree. */
int conf_sockaddr_parse(const char *s, uint16_t default_port, struct conf_sockaddr *out);
const char *conf_sockaddr_str(const struct conf_sockaddr *a, char *buf, size_t len);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool conf_sockaddr_is_loopback(const struct conf_sockaddr *a);
bool conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa);
/* lib/conf_transfer.c: the [transfer NAME] whose match is exactly `uri`, or NULL; the
 * index of the trunk a bridge to `x` from a call of trunk `from` goes through (x->trunk,
 * else `from`), -1 when that trunk has no target; the cross-field rules of one [transfer]
 * and of one trunk's `transfer` (NULL, or the error text, in buf); free them all. */
const struct conf_transfer *conf_transfer_by_match(const struct conf *c, const char *uri);
int conf_transfer_bridge_trunk(const struct conf *c, const struct conf_transfer *x, int from);
const char *conf_transfer_check(const struct conf *c, const struct conf_transfer *x, char *buf,
                                size_t len);
const char *conf_transfer_check_trunk(const struct conf *c, const struct conf_trunk *t, char *buf,
                                      size_t len);
void conf_transfers_free(struct conf *c);
/* The trunk whose allow-list holds `sa`, or NULL. */
const struct conf_trunk *conf_trunk_by_source(const struct conf *c, const struct sockaddr *sa);

#endif
