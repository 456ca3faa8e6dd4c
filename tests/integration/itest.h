/*
 * itest.h: harness for integration tests against the real sipwarden daemon.
 *
 * Creates a temporary directory with development certificates ($SW_MKCERTS), writes a
 * config listening on a random 127.A.B.C address and port, starts $SW_DAEMON with
 * NOTIFY_SOCKET pointing at a datagram socket the harness owns, waits for READY=1, and
 * stops it with SIGTERM, asserting a clean exit. Whatever happens (failed assertion,
 * timeout), the daemon is killed and the directory removed at exit. It also holds a
 * small blocking-with-deadline TLS client built on the OpenSSL API. Test code only.
 */
#ifndef SW_ITEST_H
#define SW_ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>
#include <openssl/ssl.h>

/* Knobs for the generated config; zero fields take the harness defaults. */
struct itest_opts {
	const char *min_version;       /* "1.2" or "1.3" (default: not written -> 1.3) */
	const char *handshake_timeout; /* default "2s" */
	const char *idle_timeout;      /* default "30s" */
	unsigned max_connections;      /* default 64 */
	unsigned max_message_size;     /* default 8192 */
	unsigned max_headers;          /* default 64 */
	unsigned max_line_length;      /* default 4096 */
	const char *sip_extra;         /* more lines for [sip] ("agent_timeout = 1s\n") */
	const char *media_extra;       /* more lines for [media] */
	unsigned media_ports;          /* size of the media port range (default 1000) */
	unsigned nofile;               /* the daemon's RLIMIT_NOFILE, soft = hard (0: ours) */
	unsigned nofile_hard;          /* with nofile: a higher hard limit (0: = nofile) */
	const char *trunk_source;      /* [trunk itest] source (default 127.0.0.0/8) */
	const char *trunk_extra;       /* more lines for [trunk itest] */
	const char *telemetry_extra;   /* more lines for [telemetry] */
	const char *agents;            /* replaces the default [agent itest] section(s) */
	const char *limits_extra;      /* more lines for [limits] ("max_calls = 2\n") */
	const char *extra;             /* more sections ([pool], ...) */
	bool log_file;                 /* daemon stdout/stderr to DIR/daemon.log, not ours */
	bool agent_pin;                /* pin DIR/agent.crt as the default agent's fingerprint */
	const char *general_extra;     /* more lines for [general] ("drain_timeout = 2s\n") */
	unsigned long watchdog_usec;   /* WATCHDOG_USEC in the daemon's environment (0: none) */
	bool test_hooks;               /* run $SW_DAEMON_HOOKS, built with -DSW_TEST_HOOKS */
	bool journal;                  /* with log_file: JOURNAL_STREAM names daemon.log, as
	                                  systemd does for the journal's stream */
};

struct itest {
	char dir[128];
	char conf_path[192];
	char ip[32];
	uint16_t port;
	pid_t pid;
	int notify_fd;
	char agent_ip[32];                       /* a random 127.x.y.z for agents the test starts */
	uint16_t agent_port;                     /* port of the default [agent itest] */
	uint16_t media_port_min, media_port_max; /* [media] port range, on `ip` */
	char tel_path[192];                      /* telemetry socket */
	char ctl_path[192];                      /* control socket */
	bool saw_stopping;                       /* a notify datagram had STOPPING=1 */
};

/* Run suite `s` (Check, forking) and return the process exit status: 0 when every test
 * passed. Each it_<behaviour>.c's main() ends with it. The tests' directories go under a
 * run directory in TMPDIR, removed after the run even when a test failed. */
int itest_run(Suite *s);

/* Start the daemon (asserts on failure). `o` may be NULL. */
void itest_start(struct itest *t, const struct itest_opts *o);
/* What itest_start() does before it starts the daemon: a directory (removed at exit),
 * certificates, addresses, the config at t->conf_path; no daemon (t->pid 0). */
void itest_prepare(struct itest *t, const struct itest_opts *o);
/* SIGTERM, wait (bounded), assert exit status 0 and STOPPING=1; kill -9 on timeout. */
void itest_stop(struct itest *t);
/* The same without sending the signal (the test did): wait up to timeout_ms for the
 * daemon to exit, assert exit status 0 and STOPPING=1, clean up. */
void itest_wait_exit(struct itest *t, int timeout_ms);
/* Receive one notify datagram ("WATCHDOG=1", "STATUS=..."), NUL-terminated, into buf:
 * its length, or -1 when none came within timeout_ms. */
int itest_notify_recv(struct itest *t, char *buf, size_t cap, int timeout_ms);
/* (Re)write the config file from `o` (NULL: defaults), same listen address. */
void itest_write_conf(struct itest *t, const struct itest_opts *o);
/* Wait for a notify datagram containing `what` ("READY=1", ...); false on timeout. */
bool itest_wait_notify(struct itest *t, const char *what, int timeout_ms);
/* True while the daemon has not exited (waitpid WNOHANG). */
bool itest_alive(struct itest *t);

/* A client connection. */
struct itest_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl; /* NULL for plain TCP */
	char buf[262144];
	size_t len;
	unsigned long last_ssl_error; /* first OpenSSL error of a failed handshake */
};

/* Plain TCP connection to the daemon. NULL on failure. */
struct itest_conn *itest_tcp_connect(const struct itest *t);
/*
 * TLS connection with protocol versions [min, max] (0: library default). Verifies the
 * daemon's certificate against the test CA. Returns NULL when the handshake fails
 * (*ssl_err gets the OpenSSL error code when not NULL).
 */
struct itest_conn *itest_tls_connect(const struct itest *t, int min, int max,
                                     unsigned long *ssl_err);
/* The same from source address `src` (an IPv4 literal in 127.0.0.0/8; NULL: the
 * kernel's pick, 127.0.0.1 on loopback). */
struct itest_conn *itest_tcp_connect_from(const struct itest *t, const char *src);
struct itest_conn *itest_tls_connect_from(const struct itest *t, const char *src, int min, int max,
                                          unsigned long *ssl_err);
/* A TLS connection presenting DIR/<name>.crt and .key (e.g. "agent": an agent calling
 * out; the connections above present none). Fails the test when it cannot connect. */
struct itest_conn *itest_tls_connect_as(const struct itest *t, const char *name);
void itest_conn_free(struct itest_conn *c);

/* Write all of buf. Returns 0 or -1. */
int itest_send(struct itest_conn *c, const void *buf, size_t len);
int itest_send_str(struct itest_conn *c, const char *s);
/*
 * Receive one SIP message (framed by Content-Length) into out (NUL-terminated).
 * Returns its length, 0 when the peer closed, -1 on timeout.
 */
int itest_recv_msg(struct itest_conn *c, char *out, size_t cap, int timeout_ms);
/* Read and discard until the peer closes: 0 when closed, -1 on timeout. If `seen` is
 * not NULL, the bytes received are appended to it (NUL-terminated, truncated). */
int itest_wait_closed(struct itest_conn *c, int timeout_ms, char *seen, size_t seen_cap);

/* An OPTIONS request with this Call-ID and CSeq number. Returns out. */
char *itest_options(char *out, size_t cap, const char *callid, unsigned cseq);
/* A request with method `method` (also the CSeq method). Returns out. */
char *itest_request(char *out, size_t cap, const char *method, const char *callid, unsigned cseq);
/* Status code of a response, or -1. */
int itest_status(const char *msg);
/* Value of header `name` (case-insensitive, first occurrence, trimmed), or NULL. */
const char *itest_header(const char *msg, const char *name, char *val, size_t cap);
/* SHA-256 of the certificate in PEM file `path` as 64 hex digits into out[65]. */
void itest_cert_sha256(const char *path, char out[65]);

/* A random port in 20000..60000 (even). */
uint16_t itest_port(void);
/* "DIR/name" of the test's temporary directory into buf. Returns buf. */
char *itest_path(const struct itest *t, const char *name, char *buf, size_t len);

/*
 * Start a child process: argv[0] is the program, stdout/stderr go to the files given
 * (NULL: /dev/null). The child is killed when the test process exits. Returns its pid
 * (asserts on failure).
 */
pid_t itest_spawn(const char *const argv[], const char *out_path, const char *err_path);
/* Wait for a child: its exit status (0..255), or -1 when it did not exit within
 * timeout_ms (it is then killed) or died of a signal. */
int itest_wait_child(pid_t pid, int timeout_ms);
/* SIGTERM a child, then SIGKILL after 2 s; reap it. */
void itest_kill_child(pid_t pid);
/* Connect to the telemetry socket; returns the fd (asserts). */
int itest_telemetry_connect(const struct itest *t);
/* Read telemetry lines from fd for up to timeout_ms or until a line containing `until`
 * (NULL: until the timeout) has been read; appends to buf (NUL-terminated). Returns the
 * number of bytes in buf. */
size_t itest_telemetry_read(int fd, char *buf, size_t cap, const char *until, int timeout_ms);
/* Start `swpeer answer` as the default agent with extra args (NULL-terminated list);
 * waits until it accepts TCP connections. Output JSON goes to DIR/agent.json. */
pid_t itest_agent(const struct itest *t, const char *const extra[]);
/* Wait until ip:port accepts TCP connections (a peer just spawned), at most timeout_ms;
 * the test fails if it never does. */
void itest_wait_listening(const char *ip, uint16_t port, int timeout_ms);
/* A carrier behind a trunk's target: `swpeer answer` on 127.0.0.1:port with the trunk's
 * certificate and `extra` options (NULL-terminated), its JSON in DIR/carrier.json; returns
 * once it listens (the test fails if it never does). */
pid_t itest_carrier(const struct itest *t, uint16_t port, const char *const extra[]);
/* An SDES-SRTP offer (AES_256_CM_HMAC_SHA1_80, a fresh random key, PCMU) into sdp. */
void itest_sdes_offer(char *sdp, size_t cap);
/* A trunk's INVITE (CSeq 1, From tag rt1, Via branch z9hG4bK<callid>) with Call-ID
 * `callid`, `extra` header lines (each ending in CRLF; "" for none) and a fresh offer,
 * copied into sdp when it is not NULL. */
void itest_send_invite(const struct itest *t, struct itest_conn *c, const char *callid,
                       const char *extra, char *sdp, size_t sdpcap);
/* Run `swpeer call` toward the daemon with extra args; output to DIR/<out>. Returns the
 * exit status (-1 on timeout). itest_caller_spawn() starts it without waiting. */
int itest_caller(const struct itest *t, const char *out, const char *const extra[], int timeout_ms);
/* One call from an agent (swpeer presenting DIR/agent.crt) to `dial` through the daemon,
 * 2 s of media, results in DIR/out (stderr in DIR/out.log); swpeer's exit status. */
int itest_agent_calls(const struct itest *t, const char *out, const char *dial, int timeout_ms);
pid_t itest_caller_spawn(const struct itest *t, const char *out, const char *const extra[]);
/* `swpeer call` as an agent calling out (presenting DIR/agent.crt) to `dial` (a user part)
 * through the daemon, with extra args; results in DIR/out, stderr in DIR/out.log. */
pid_t itest_agent_call_spawn(const struct itest *t, const char *out, const char *dial,
                             const char *const extra[]);

/* The transfer tests (it_call_transfer*): a [transfer sales] section sends an agent's
 * REFER to ITEST_XFER_MATCH on to ITEST_XFER_TARGET. */
#define ITEST_XFER_MATCH  "<sip:sales@agents.invalid>"
#define ITEST_XFER_TARGET "sip:7001@pbx.example.com"
/* The daemon with that section, on the trunk `target = 127.0.0.1:<tport>` unless tport is
 * 0 and `transfer = <mode>` unless mode is NULL (the default: off), agents pinned as
 * struct itest_opts' agent_pin says. */
void itest_start_transfer(struct itest *t, const char *mode, uint16_t tport, bool agent_pin);
/* One call: an echo agent (swpeer answer --timeout agent_timeout) that REFERs to
 * `refer_to`, and `swpeer call` with call_args waited for up to call_ms; both must exit,
 * their results (new references) into *caller and *agent. */
void itest_refer_call(struct itest *t, const char *refer_to, const char *agent_timeout,
                      const char *const call_args[], int call_ms, json_t **caller, json_t **agent);

/* swpeer result files (one JSON object per line; calls are the objects with "code"). */
/* All call results in DIR/name, as a new array (empty when the file is missing). */
json_t *itest_results(const struct itest *t, const char *name);
/* The first call result in DIR/name (new reference); asserts there is one. */
json_t *itest_result(const struct itest *t, const char *name);
/* Integer / string member of a result; asserts the type. */
json_int_t itest_num(json_t *o, const char *key);
const char *itest_str(json_t *o, const char *key);
/* The first telemetry line in `lines` whose "event" is `event`, parsed (new reference),
 * or NULL. */
json_t *itest_event(const char *lines, const char *event);
/* A peer's exit status `rc` is 0; else fail showing DIR/file. */
void itest_check_exit(const struct itest *t, int rc, const char *file);
/* Telemetry lines in `lines` with `event` and, when not NULL, that "reason". */
int itest_count_events(const char *lines, const char *event, const char *reason);
/* The daemon's call table empties within timeout_ms (~2.5 s for the first; control
 * socket); asserts it does. */
void itest_assert_no_calls(const struct itest *t);
void itest_wait_no_calls(const struct itest *t, int timeout_ms);

/* Send one request to the control socket and return the reply line (malloc'd), or NULL. */
char *itest_control(const struct itest *t, const char *request, int timeout_ms);
/* Wait until the control socket's `calls` reports `count` calls, the reply also
 * containing `also` when not NULL (asserts on timeout). */
void itest_wait_calls(const struct itest *t, int count, const char *also, int timeout_ms);
/* Receive messages on `c` until a final response whose CSeq names `method`; its code
 * (asserts when none comes within 10 s). The message is left in out[0..cap). */
int itest_final_response(struct itest_conn *c, char *out, size_t cap, const char *method);
/* Does the file DIR/<name> contain `needle`? (false when it does not exist) */
bool itest_file_has(const struct itest *t, const char *name, const char *needle);
/* A counter of the control socket's `stats` reply, `group`.`key` (asserts it is there). */
json_int_t itest_stat(const struct itest *t, const char *group, const char *key);

/* Milliseconds on a monotonic clock. */
int64_t itest_now_ms(void);
/* Read a whole file (tests/data); returns malloc'd bytes and *len, or NULL. */
char *itest_read_file(const char *path, size_t *len);

#endif
