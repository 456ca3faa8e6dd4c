/*
 * conf_keys.c: see conf_keys.h. One table per section: the key's name, how its value is
 * read (conf_field.h), where it is stored, its range, and whether it may be 0 ("off") or
 * must be present. The defaults are set in conf.c; the man page sipwarden.conf(5) lists
 * every key here (tests/test_man.c checks that through conf_keys_each()). The last
 * argument of each entry says whether a reload applies a change of the key (LIVE) or
 * refuses it because the value is bound at start (RESTART, conf_reload.h); test_conf
 * checks that every key has one.
 */
#include "conf_keys.h"

#include <stddef.h>

#include "conf.h"

static const char *const sect_names[CONF_KEYS_NSECT] = {
        "general", "tls",   "sip",   "media",     "limits",  "telemetry",
        "pool",    "trunk", "agent", "admission", "metrics", "cluster", "transfer"};

#define KEY(n, t, s, f, lo, hi, rl)                                                                \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, false, false, rl                                     \
	}
#define KEYZ(n, t, s, f, lo, hi, rl)                                                               \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, true, false, rl                                      \
	}
#define KEYR(n, t, s, f, lo, hi, rl)                                                               \
	{                                                                                          \
		n, t, offsetof(s, f), lo, hi, false, true, rl                                      \
	}
#define LIVE    CONF_RELOAD_LIVE    /* a reload applies a change */
#define RESTART CONF_RELOAD_RESTART /* bound at start: a change refuses the reload */
#define KEYEND                                                                                     \
	{                                                                                          \
		NULL, CK_STR, 0, 0, 0, false, false, CONF_RELOAD_UNSET                             \
	}

static const struct conf_keydef general_keys[] = {
        KEY("log_level", CK_LOGLEVEL, struct conf, log_level, 0, 0, LIVE),
        KEY("log_syslog", CK_BOOL, struct conf, log_syslog, 0, 0, LIVE),
        KEYZ("drain_timeout", CK_SEC, struct conf, drain_timeout_s, 1, 86400, LIVE),
        KEYZ("signalling_boost", CK_UINT, struct conf, signalling_boost, 1, 19, RESTART),
        KEYEND,
};

static const struct conf_keydef tls_keys[] = {
        KEY("listen", CK_ADDR, struct conf_tls, listen, 5061, 0, RESTART),
        KEYR("certificate", CK_FILE, struct conf_tls, certificate, 0, 0, LIVE),
        KEYR("private_key", CK_KEYFILE, struct conf_tls, private_key, 0, 0, LIVE),
        KEY("ca_file", CK_FILE, struct conf_tls, ca_file, 0, 0, LIVE),
        KEY("min_version", CK_TLSVER, struct conf_tls, min_version, 0, 0, LIVE),
        KEY("ciphers", CK_CIPHERS, struct conf_tls, ciphers, 0, 0, LIVE),
        KEY("ciphersuites", CK_SUITES13, struct conf_tls, ciphersuites, 0, 0, LIVE),
        KEY("handshake_timeout", CK_MS, struct conf_tls, handshake_timeout_ms, 100, 60000, LIVE),
        KEY("idle_timeout", CK_MS, struct conf_tls, idle_timeout_ms, 1000, 86400000, LIVE),
        KEY("max_connections", CK_UINT, struct conf_tls, max_connections, 1, 100000, LIVE),
        KEY("client_certificate", CK_FILE, struct conf_tls, client_certificate, 0, 0, LIVE),
        KEY("client_private_key", CK_KEYFILE, struct conf_tls, client_private_key, 0, 0, LIVE),
        KEYEND,
};

static const struct conf_keydef sip_keys[] = {
        KEY("hostname", CK_HOSTNAME, struct conf_sip, hostname, 0, 0, LIVE),
        KEY("max_message_size", CK_SIZE, struct conf_sip, max_message_size, 1024, 1048576, LIVE),
        KEY("max_headers", CK_UINT, struct conf_sip, max_headers, 8, 1024, LIVE),
        KEY("max_line_length", CK_SIZE, struct conf_sip, max_line_length, 256, 65536, LIVE),
        KEY("transaction_timeout", CK_MS, struct conf_sip, transaction_timeout_ms, 1000, 300000,
            LIVE),
        KEY("agent_timeout", CK_MS, struct conf_sip, agent_timeout_ms, 500, 120000, LIVE),
        KEYZ("session_expires", CK_SEC, struct conf_sip, session_expires_s, 2, 86400, LIVE),
        KEY("min_session_expires", CK_SEC, struct conf_sip, min_session_expires_s, 2, 86400, LIVE),
        KEYEND,
};

static const struct conf_keydef media_keys[] = {
        KEY("address", CK_IP, struct conf_media, address, 0, 0, RESTART),
        KEY("advertise", CK_IPSTR, struct conf_media, advertise, 0, 0, LIVE),
        KEY("port_min", CK_PORT, struct conf_media, port_min, 1024, 65535, RESTART),
        KEY("port_max", CK_PORT, struct conf_media, port_max, 1024, 65535, RESTART),
        KEYZ("workers", CK_UINT, struct conf_media, workers, 1, 64, RESTART),
        KEY("io", CK_MEDIAIO, struct conf_media, io, 0, 0, RESTART),
        KEY("suites", CK_SRTP, struct conf_media, suites, 0, 0, LIVE),
        KEYZ("inactivity_timeout", CK_SEC, struct conf_media, inactivity_timeout_s, 1, 3600,
             RESTART),
        KEYZ("max_call_duration", CK_SEC, struct conf_media, max_call_duration_s, 60, 604800, LIVE),
        KEYEND,
};

static const struct conf_keydef limits_keys[] = {
        KEY("max_calls", CK_UINT, struct conf_limits, max_calls, 1, 100000, LIVE),
        KEY("max_setup_calls", CK_UINT, struct conf_limits, max_setup_calls, 1, 100000, LIVE),
        KEYZ("max_loop_lag", CK_MS, struct conf_limits, max_loop_lag_ms, 1, 60000, LIVE),
        KEY("fd_reserve", CK_UINT, struct conf_limits, fd_reserve, 8, 100000, LIVE),
        KEYZ("max_media_load", CK_UINT, struct conf_limits, max_media_load, 1, 100, LIVE),
        KEYEND,
};

static const struct conf_keydef admission_keys[] = {
        KEY("unknown_max_connections", CK_UINT, struct conf_admission, unknown_max_connections, 1,
            100000, LIVE),
        KEY("reserved_connections", CK_UINT, struct conf_admission, reserved_connections, 0, 100000,
            LIVE),
        KEY("first_request_timeout", CK_MS, struct conf_admission, first_request_timeout_ms, 100,
            60000, LIVE),
        KEYZ("unknown_request_rate", CK_UINT, struct conf_admission, unknown_request_rate, 1,
             100000, LIVE),
        KEY("unknown_request_burst", CK_UINT, struct conf_admission, unknown_request_burst, 1,
            1000000, LIVE),
        KEYZ("known_request_rate", CK_UINT, struct conf_admission, known_request_rate, 1, 1000000,
             LIVE),
        KEY("known_request_burst", CK_UINT, struct conf_admission, known_request_burst, 1, 10000000,
            LIVE),
        KEY("ban_time", CK_MS, struct conf_admission, ban_time_ms, 1000, 86400000, LIVE),
        KEY("scanner_ban_time", CK_MS, struct conf_admission, scanner_ban_time_ms, 1000, 604800000,
            LIVE),
        KEY("max_sources", CK_UINT, struct conf_admission, max_sources, 64, 1000000, RESTART),
        KEYEND,
};

static const struct conf_keydef telemetry_keys[] = {
        KEY("socket", CK_SOCKPATH, struct conf_telemetry, socket, 0, 0, RESTART),
        KEY("socket_mode", CK_MODE, struct conf_telemetry, socket_mode, 0, 0770, RESTART),
        KEY("socket_group", CK_GROUP, struct conf_telemetry, socket_group, 0, 0, RESTART),
        KEYZ("interim_interval", CK_SEC, struct conf_telemetry, interim_interval_s, 1, 3600, LIVE),
        KEY("queue_limit", CK_UINT, struct conf_telemetry, queue_limit, 16, 1048576, RESTART),
        KEY("control_socket", CK_SOCKPATH, struct conf_telemetry, control_socket, 0, 0, RESTART),
        KEY("control_mode", CK_MODE, struct conf_telemetry, control_mode, 0, 0770, RESTART),
        KEYEND,
};

static const struct conf_keydef pool_keys[] = {
        KEY("policy", CK_POLICY, struct conf_pool, policy, 0, 0, LIVE),
        KEYZ("probe_interval", CK_MS, struct conf_pool, probe_interval_ms, 500, 300000, RESTART),
        KEY("probe_failures", CK_UINT, struct conf_pool, probe_failures, 1, 100, LIVE),
        KEYEND,
};

static const struct conf_keydef trunk_keys[] = {
        KEYR("source", CK_CIDRS, struct conf_trunk, sources, 0, 0, LIVE),
        KEY("ca_file", CK_FILE, struct conf_trunk, ca_file, 0, 0, LIVE),
        KEY("fingerprint", CK_FPR, struct conf_trunk, fingerprint, 0, 0, LIVE),
        KEY("target", CK_ADDR, struct conf_trunk, target, 5061, 0, LIVE),
        KEY("legacy_rtp", CK_BOOL, struct conf_trunk, legacy_rtp, 0, 0, LIVE),
        KEY("crypto_pad", CK_BOOL, struct conf_trunk, crypto_pad, 0, 0, LIVE),
        KEYZ("max_calls", CK_UINT, struct conf_trunk, max_calls, 1, 100000, LIVE),
        KEY("pass_headers", CK_HEADERS, struct conf_trunk, pass_headers, 0, 0, LIVE),
        KEY("transfer", CK_XFERMODE, struct conf_trunk, transfer, 0, 0, LIVE),
        KEYEND,
};

static const struct conf_keydef agent_keys[] = {
        KEYR("address", CK_ADDR, struct conf_agent, address, 5061, 0, LIVE),
        {"transport", CK_TRANSPORT, 0, 0, 0, false, false, LIVE},
        KEY("server_name", CK_HOSTNAME, struct conf_agent, server_name, 0, 0, LIVE),
        KEY("weight", CK_UINT, struct conf_agent, weight, 1, 100, LIVE),
        KEY("client_certificate", CK_FILE, struct conf_agent, client_certificate, 0, 0, LIVE),
        KEY("client_private_key", CK_KEYFILE, struct conf_agent, client_private_key, 0, 0, LIVE),
        KEY("verify", CK_BOOL, struct conf_agent, verify, 0, 0, LIVE),
        KEY("crypto_pad", CK_BOOL, struct conf_agent, crypto_pad, 0, 0, LIVE),
        KEY("fingerprint", CK_FPR, struct conf_agent, fingerprint, 0, 0, LIVE),
        KEYEND,
};

/* [metrics]: the Prometheus listener (daemon/metrics_http.c). */
static const struct conf_keydef metrics_keys[] = {
        KEY("listen", CK_ADDR, struct conf_metrics, listen, 9465, 0, RESTART),
        KEY("allow_remote", CK_BOOL, struct conf_metrics, allow_remote, 0, 0, RESTART),
        KEYEND,
};

/* [cluster]: Redis shared by several instances (daemon/cluster.c). */
static const struct conf_keydef cluster_keys[] = {
        KEYR("redis", CK_STR, struct conf_cluster, redis, 0, 0, RESTART),
        KEY("password", CK_STR, struct conf_cluster, password, 0, 0, RESTART),
        KEY("instance", CK_STR, struct conf_cluster, instance, 0, 0, RESTART),
        KEY("prefix", CK_STR, struct conf_cluster, prefix, 0, 0, RESTART),
        KEY("heartbeat_ttl", CK_MS, struct conf_cluster, heartbeat_ttl_ms, 2000, 300000, RESTART),
        KEY("timeout", CK_MS, struct conf_cluster, timeout_ms, 10, 5000, RESTART),
        KEY("on_store_failure", CK_STR, struct conf_cluster, on_store_failure, 0, 0, RESTART),
        KEYEND,
};

/* [transfer NAME]: the transfer allow-list (daemon/b2bua_transfer.c). */
static const struct conf_keydef transfer_keys[] = {
        KEYR("match", CK_XFERURI, struct conf_transfer, match, 0, 0, LIVE),
        KEYR("target", CK_XFERURI, struct conf_transfer, target, 0, 0, LIVE),
        KEY("trunk", CK_STR, struct conf_transfer, trunk, 0, 0, LIVE),
        KEYEND,
};

static const struct conf_keydef *const sect_keys[CONF_KEYS_NSECT] = {
        general_keys, tls_keys,   sip_keys,   media_keys,     limits_keys,  telemetry_keys,
        pool_keys,    trunk_keys, agent_keys, admission_keys, metrics_keys, cluster_keys,
        transfer_keys,
};

size_t
conf_keys_each(void (*fn)(const char *sect, const char *key, void *arg), void *arg)
{
	size_t n = 0;

	for (size_t s = 0; s < sizeof(sect_keys) / sizeof(sect_keys[0]); s++) {
		for (const struct conf_keydef *k = sect_keys[s]; k->name != NULL; k++, n++)
			fn(sect_names[s], k->name, arg);
	}
	return n;
}

const char *
conf_keys_sect_name(enum sect_kind k)
{
	return (unsigned)k < CONF_KEYS_NSECT ? sect_names[k] : "?";
}

const struct conf_keydef *
conf_keys_of(enum sect_kind k)
{
	return sect_keys[k];
}
