/*
 * swpeer.h: shared types of swpeer, sipwarden's own SIP/TLS + SRTP test peer.
 *
 * swpeer is one process that is either a caller (trunk side: places calls, sends a known
 * audio pattern, checks what comes back) or a callee (agent side: answers, echoes or
 * plays the pattern, or refuses). The files split by role: main.c (arguments, event
 * loop, exit status), sip.c (TLS connections, stream framing, message helpers), call.c
 * (UAC/UAS dialog logic and SDP), media.c (RTP/SRTP sockets and the pattern), keys.c
 * (SRTP suites, key generation, a=crypto lines), report.c (per-call result lines). This
 * header is not a library interface: it is shared only by those files.
 */
#ifndef SWPEER_H
#define SWPEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

/* suite.h first: libsrtp's srtp.h then redefines SUITE_MAX_KEY_LEN (64, not suite.h's 32)
 * inside a system header, without a warning; struct srtp_keys keeps its 32-byte key. */
#include "suite.h"
#include "sipframe.h"

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>
#include <osipparser2/osip_parser.h>
#include <srtp2/srtp.h>

#define SWPEER_UA        "swpeer/" SW_VERSION
#define PATTERN_PAYLOAD  160 /* G.711, 20 ms at 8 kHz */
#define PATTERN_PTIME_MS 20
#define KEY_HASH_HEX     8
#define SIP_MAX_MESSAGE  65536
#define MEDIA_PKT_MAX    (12 + PATTERN_PAYLOAD + SRTP_MAX_TRAILER_LEN + 64)
#define REKEY_HELD       8    /* packets kept while our re-offer awaits its answer */
#define REKEY_GRACE_MS   1000 /* the peer's previous key stays valid this long */

enum role { ROLE_CALLER, ROLE_CALLEE };
enum offer_kind { OFFER_SAVP, OFFER_AVP, OFFER_SAVP_WEAK, OFFER_NONE };
/* --ack-answer: what a caller with --offer none answers in its ACK */
enum ack_answer { ACK_ANSWER_SAVP, ACK_ANSWER_AVP, ACK_ANSWER_NONE };
enum answer_mode {
	MODE_ECHO,
	MODE_PATTERN,
	MODE_REJECT,
	MODE_NOANSWER,
	MODE_ANSWER_PLAIN,
	MODE_SILENT
};
enum pattern_id { PATTERN_SEQ = 1, PATTERN_TONE = 2 };
enum peer_media { PEER_MEDIA_ECHO, PEER_MEDIA_PATTERN, PEER_MEDIA_NONE };

/* struct opts: the parsed command line. Owner: main.c (static storage); read-only after. */
struct opts {
	enum role role;
	/* caller */
	char to_uri[256];
	char to_host[128];
	uint16_t to_port;
	unsigned calls, concurrent;
	unsigned connections; /* --connections K: calls share K TLS connections; 0: one each */
	unsigned rate;        /* --rate R: start R calls per second (not --concurrent) */
	unsigned duration_ms;
	enum offer_kind offer;
	enum srtp_suite suites[SUITE_COUNT];
	unsigned nsuites;
	enum pattern_id pattern;
	unsigned hold_after_ms, hold_ms;
	bool reinvite_avp;    /* --reinvite-offer avp: the re-INVITE offers plain RTP */
	bool reinvite_none;   /* --reinvite-offer none: the re-INVITE has no SDP (late offer) */
	bool reinvite_rekey;  /* --reinvite-offer rekey: the re-INVITE offers a new key */
	bool reinvite_update; /* --reinvite-offer update: an UPDATE with our SDP (same key) */
	enum ack_answer ack_answer;
	unsigned cancel_after_ms;
	int expect;
	enum peer_media peer_media;
	unsigned max_loss_pct;
	bool insecure;
	bool no_pad;
	bool options;
	const char *tls_name;
	unsigned tamper;
	bool rtcp_sdes;   /* --rtcp-sdes: send SR+SDES every second, inspect SDES received */
	bool no_rtcp_mux; /* --no-rtcp-mux: no a=rtcp-mux in our SDP, RTCP on port + 1 */
	int dtmf;         /* --dtmf N: telephone-event in our SDP, send N events; -1: none */
	/* callee */
	char listen_host[64];
	uint16_t listen_port;
	enum answer_mode mode;
	int reject_code;
	unsigned ring_ms;
	bool early_media; /* answer: 183 with the SDP answer instead of 180 */
	bool reliable;    /* answer: 18x reliable (RFC 3262), the 200 only after its PRACK */
	unsigned bye_after_ms;
	bool accept_avp;
	const char *refer_uri; /* --refer: REFER with this Refer-To 0.5 s after the ACK */
	/* caller */
	int accept_refer; /* --accept-refer CODE: 202, then NOTIFY sipfrag CODE; 0: 603 */
	/* both */
	bool rel100; /* call: Require: 100rel, PRACK reliable 18x */
	const char *ca, *cert, *key;
	char media_ip[64];
	uint16_t rtp_lo, rtp_hi;
	int rtp_seq; /* --rtp-seq: first RTP sequence number, -1: random */
	unsigned timeout_ms;
	unsigned media_stop_ms; /* --media-stop-after: go silent, keep the call */
	bool json;
	bool verbose;
	const char *capture; /* --capture FILE */
};

struct peer;
struct call;

/*
 * struct sipconn: one TLS connection carrying SIP. Owner: struct peer (its list); freed by
 * sipconn_close(). Calls point at it but do not own it; closing it detaches them.
 */
struct sipconn {
	LIST_ENTRY(sipconn) entry;
	struct peer *peer;
	struct bufferevent *bev;
	struct call *owner; /* caller side: the call that opened it, else NULL */
	char local_ip[64];
	uint16_t local_port;
	bool up;
	bool shared;   /* one of the peer's --connections, carrying many calls */
	unsigned slot; /* shared: its index in peer->shared */
	bool in_cb, dead, closing;
	unsigned num;          /* --capture: connection number, from 1 */
	struct sipframe frame; /* framing state of the input stream */
};

/* Per-direction media counters; copied into the result when a call ends. */
struct media_stats {
	uint64_t sent, sent_expect_back;
	uint64_t recv, ok, bad, missing, auth_fail, replay, other_err, rtcp, dup;
	/* --rtcp-sdes: SDES items received, those that are not a CNAME, the last CNAME
	 * (printable ASCII only, else '?') */
	uint64_t sdes_items, sdes_foreign;
	char sdes_cname[64];
	/* echo: where the first missing packets were (pattern indexes), for the result */
	char missing_at[48];
	/* --dtmf: RFC 4733 events sent, and distinct events received (by RTP timestamp) */
	uint64_t dtmf_sent, dtmf_recv;
};

/*
 * struct media: one call's RTP/SRTP endpoint (one UDP socket, rtcp-mux).
 * Owner: struct call; media_close() frees events, SRTP sessions and wipes the keys.
 */
struct media {
	int fd;
	int rtcp_fd;   /* port + 1, bound when the session has no rtcp-mux, else -1 */
	bool rtcp_mux; /* negotiated: RTCP on the RTP port (default), else on port + 1 */
	struct event *rtcp_ev;
	uint16_t port;
	char ip[64];
	struct sockaddr_in remote;
	bool has_remote;
	bool srtp;
	srtp_t tx, rx;
	struct srtp_keys lkey, rkey;
	/* Re-keying (SDES offer/answer): packets under the peer's previous key may still be
	 * in flight after we switch (rx_prev, until rx_prev_until), and packets under its
	 * next key may arrive before the answer that carries it (held while rekey_pending,
	 * then retried with the new key). */
	srtp_t rx_prev;
	struct timespec rx_prev_until;
	bool rekey_pending;
	uint8_t held[REKEY_HELD][MEDIA_PKT_MAX];
	int held_len[REKEY_HELD];
	unsigned nheld;
	char lhash[KEY_HASH_HEX + 1], rhash[KEY_HASH_HEX + 1];
	unsigned rekeys; /* times the peer's key changed after the first (re-offers) */
	struct event *rx_ev, *tx_ev;
	struct timeval tx_tv;            /* 20 ms */
	const struct timeval *tx_period; /* tx_tv, or libevent's common-timeout for it */
	bool sending;                    /* pattern on (tx_ev runs from the first time it is set) */
	bool echo;                       /* callee echo: return every verified packet */
	bool may_send;                   /* SDP direction allows us to send */
	bool expect_back;                /* caller: packets sent now are expected to return */
	bool muted;      /* --media-stop-after elapsed: send nothing, echo nothing */
	unsigned tamper; /* --tamper N: corrupt every Nth packet sent (tests) */
	bool rtcp_sdes;  /* --rtcp-sdes */
	/* --dtmf: the telephone-event payload type both SDPs had (dtmf_on), events still to
	 * send, the timestamp of the last event received */
	bool dtmf_on;
	uint8_t dtmf_pt;
	unsigned dtmf_left;
	bool have_dtmf_rx;
	uint32_t dtmf_rx_ts;
	/* --rtcp-sdes: our SR carries a report block about rx_ssrc; LSR/DLSR name the last
	 * SR received (middle 32 NTP bits, CLOCK_MONOTONIC arrival) */
	bool have_rx_ssrc;
	uint32_t rx_ssrc;
	uint32_t lsr;
	struct timespec lsr_at;
	/* pattern we send */
	uint8_t tx_dir;
	uint32_t tx_call;
	uint32_t tx_index;
	enum pattern_id tx_pattern;
	uint16_t seq;
	uint32_t ts, ssrc;
	/* what we expect to receive */
	uint8_t rx_dir;   /* 0: any direction */
	uint32_t rx_call; /* 0: learn from the first verified packet */
	uint8_t *seen;    /* bitmap of verified indexes */
	size_t seen_bits;
	uint8_t *want; /* echo: bitmap of the indexes sent while expect_back */
	size_t want_bits;
	uint32_t rx_max_index;
	bool rx_any;
	struct media_stats st;
};

/* struct call_result: what a call's result line says. Plain data, no secrets. */
struct call_result {
	unsigned num;
	enum role role;
	int code;
	char reason[64];
	char warning[200];
	long setup_ms;
	long setup_us; /* the same in microseconds (load tools want finer than 1 ms) */
	char suite[48];
	char lhash[KEY_HASH_HEX + 1], rhash[KEY_HASH_HEX + 1];
	struct media_stats st;
	unsigned reinvites; /* re-INVITEs that got a 2xx (sent or answered) */
	int reinvite_code;  /* final code of the last re-INVITE we sent, 0 none */
	unsigned rekeys;    /* times the peer's SRTP key changed during the call */
	char ended_by;      /* 'l': we sent the BYE, 'r': the peer did, 0: no BYE */
	int refer_code;     /* final response to our REFER, 0 none (refer.c) */
	int notify_code;    /* status in the last NOTIFY sipfrag received, 0 none */
	unsigned notifies;  /* NOTIFYs received */
	unsigned refers;    /* REFERs received */
	char refer_to[256]; /* Refer-To of the last REFER received (printable ASCII) */
	bool had_media;
	bool pass;
	char why[160];
};

enum call_state {
	CS_NEW,
	CS_CONNECTING,
	CS_CALLING,    /* INVITE sent, no final */
	CS_PROCEEDING, /* provisional seen / sent */
	CS_ANSWERED,   /* UAS: 200 sent, waiting for ACK */
	CS_CONFIRMED,
	CS_TERMINATING, /* BYE sent */
	CS_DONE,
};

/*
 * struct call: one SIP dialog and its media. Owner: struct peer (its list); freed by
 * call_finish() after its result was printed.
 */
struct call {
	LIST_ENTRY(call) entry;
	LIST_ENTRY(call) hentry; /* in peer->hash[] by Call-ID while `hashed` */
	bool hashed;
	struct peer *peer;
	struct sipconn *conn;
	unsigned num;
	enum role role;
	enum call_state state;
	char call_id[128];
	char local_tag[40], remote_tag[80];
	char local_uri[160], remote_uri[256]; /* AORs for From/To */
	char remote_target[256];              /* Contact of the peer: in-dialog Request-URI */
	char route[1024]; /* route set as "Route: <uri;lr>\r\n" lines, in sending order */
	char invite_branch[48];
	uint32_t cseq, invite_cseq, bye_cseq, reinvite_cseq, refer_cseq;
	osip_message_t *invite; /* UAS: the INVITE we answer (clone) */
	bool cancelled, bye_sent, on_hold, offered_srtp, hold_done;
	bool late;     /* our 2xx carried an offer (the INVITE had none): the ACK has the answer */
	char rack[40]; /* caller: RAck of the PRACK being sent */
	unsigned long rseq; /* caller: last RSeq PRACKed; callee: RSeq of our 18x */
	bool pracked;       /* callee: our reliable 18x got its PRACK */
	struct srtp_keys offer_keys[SUITE_COUNT + 1];
	unsigned noffer_keys;
	unsigned sdp_version;
	struct timespec t_start;
	struct event *ev_cancel, *ev_hold, *ev_stop, *ev_bye, *ev_answer, *ev_mute, *ev_refer,
	        *ev_start;
	unsigned holds; /* re-INVITEs answered 2xx */
	bool bye_by_remote;
	struct media media;
	struct call_result res;
};

LIST_HEAD(call_list, call);
LIST_HEAD(conn_list, sipconn);

#define CALL_HASH 8192 /* Call-ID buckets: a load run keeps thousands of calls */

/* struct peer: the whole process state. Owner: main(). */
struct peer {
	struct event_base *base;
	const struct opts *o;
	SSL_CTX *ssl;
	struct evconnlistener *listener;
	struct call_list calls;
	struct call_list hash[CALL_HASH];
	struct conn_list conns;
	struct sipconn **shared; /* --connections: K slots, NULL while none is open */
	unsigned started, finished, passed, failed, active;
	struct event *ev_timeout, *ev_sigint, *ev_sigterm;
	struct event *ev_rate;           /* --rate: starts the calls that are due */
	struct timespec t_rate0, t_last; /* --rate: first and latest call start */
	bool stopping;
};

enum sdp_dir { DIR_SENDRECV, DIR_SENDONLY, DIR_RECVONLY, DIR_INACTIVE };
#define SDP_MAX_CRYPTO 8

/* struct sdp_info: what swpeer reads from a peer's SDP. Holds keys: sdp_info_wipe(). */
struct sdp_info {
	char ip[64];
	uint16_t port;
	bool savp, avp, rtcp_mux;
	int te_pt; /* a=rtpmap:PT telephone-event/...; -1: none */
	enum sdp_dir dir;
	char crypto[SDP_MAX_CRYPTO][160];
	unsigned ncrypto;
};

/* sdp.c */
const char *sdp_dir_name(enum sdp_dir d);
int sdp_write(struct call *c, char *buf, size_t len, char crypto[][160], unsigned ncrypto,
              bool force_savp, enum sdp_dir d);
int sdp_read(const char *body, struct sdp_info *out, const char **why);
void sdp_info_wipe(struct sdp_info *s);

/* keys.c */
const char *keys_suite_name(enum srtp_suite s);
enum srtp_suite keys_suite_by_name(const char *name, size_t len);
bool keys_suite_usable(enum srtp_suite s);
int keys_generate(struct srtp_keys *k, enum srtp_suite s);
void keys_wipe(struct srtp_keys *k);
bool keys_same(const struct srtp_keys *a, const struct srtp_keys *b);
int keys_policy(srtp_policy_t *p, const struct srtp_keys *k, uint8_t *keybuf,
                srtp_ssrc_type_t type);
int keys_format_crypto(const struct srtp_keys *k, bool pad, const char *extra, char *buf,
                       size_t len);
int keys_parse_crypto(const char *val, struct srtp_keys *out, const char **why);
void keys_hash(const struct srtp_keys *k, char out[KEY_HASH_HEX + 1]);

/* sip.c */
int sip_listen(struct peer *p, const char *host, uint16_t port);
struct sipconn *sip_connect(struct peer *p, const char *host, uint16_t port, struct call *owner);
struct sipconn *sip_shared_conn(struct peer *p, unsigned idx);
void sipconn_close(struct sipconn *c);
void sipconn_close_later(struct sipconn *c);
int sip_send(struct sipconn *c, const char *buf, size_t len);
int sip_respond(struct sipconn *c, const osip_message_t *req, int code, const char *reason,
                const char *to_tag, const char *extra, const char *ctype, const char *body);
const char *sip_reason(int code);
void sip_random_token(char *buf, size_t len);
char *sip_header_value(const osip_message_t *m, const char *name);
const char *sip_to_tag(const osip_message_t *m);
const char *sip_from_tag(const osip_message_t *m);

/* call.c: shared dialog logic */
struct call *call_new(struct peer *p, enum role role, unsigned num);
void call_finish(struct call *c, const char *fail_why);
struct call *call_find(struct peer *p, const char *call_id);
void call_index(struct call *c);
void call_on_message(struct sipconn *conn, osip_message_t *m);
void call_conn_closed(struct sipconn *conn);
void call_abort_all(struct peer *p, const char *why);
int call_send_request(struct call *c, const char *method, const char *ruri, uint32_t cseq,
                      const char *branch, const char *to_tag, const char *body);
/* The same with `extra` header lines (each ending CRLF) and the body's `ctype`. */
int call_send_request_ext(struct call *c, const char *method, const char *ruri, uint32_t cseq,
                          const char *to_tag, const char *extra, const char *ctype,
                          const char *body);
const char *call_contact(struct call *c, char *buf, size_t len);
void call_handle_reoffer(struct call *c, struct sipconn *conn, osip_message_t *m);
int call_body(const osip_message_t *m, const char **body);
void call_take_routes(struct call *c, const osip_message_t *m, bool reverse);
struct event *call_timer(struct call *c, struct event **slot, unsigned ms, event_callback_fn cb);
void call_arm_media_stop(struct call *c);
int call_late_offer(struct call *c, char *sdp, size_t len);
const char *call_take_offer(struct call *c, const char *body, bool plain, char *sdp, size_t len);

/* call_uac.c: the caller */
int call_start_caller(struct peer *p, unsigned num);
void call_conn_ready(struct call *c);
void call_shared_conn_up(struct sipconn *conn);
void uac_on_response(struct call *c, osip_message_t *m);
const char *uac_apply_answer(struct call *c, const char *body);

/* call_uas.c: the callee */
void uas_on_invite(struct sipconn *conn, osip_message_t *m);
void uas_on_ack(struct call *c, osip_message_t *m);
void uas_on_cancel(struct sipconn *conn, osip_message_t *m);
int uas_judge_offer(const struct opts *o, const struct sdp_info *si, struct srtp_keys *rk,
                    bool *plain, const char **why);

/* refer.c: transfer (RFC 3515). refer_arm: after the ACK, REFER per --refer;
 * refer_on_request: a REFER (caller side, --accept-refer) or NOTIFY in the dialog of `c`;
 * refer_on_response: true when `m` answered our REFER (recorded). */
void refer_arm(struct call *c);
void refer_on_request(struct call *c, struct sipconn *conn, osip_message_t *m);
bool refer_on_response(struct call *c, const osip_message_t *m);

/* media.c */
int media_open(struct media *m, const char *ip, uint16_t lo, uint16_t hi, int seq);
int media_set_srtp(struct media *m, const struct srtp_keys *local, const struct srtp_keys *remote);

int media_set_remote(struct media *m, const char *ip, uint16_t port);
int media_set_rtcp_mux(struct media *m, bool mux);
void media_set_dtmf(struct media *m, int pt);
int media_start(struct media *m, struct event_base *base);
void media_unwant_recent(struct media *m, unsigned n);
void media_send_pattern(struct media *m, bool on);
void media_expect_rekey(struct media *m, bool pending);
void media_close(struct media *m);
void media_finalize_stats(struct media *m);

/* capture.c: --capture FILE (SIP in plaintext, RTP/RTCP before SRTP) */
int capture_open(const char *path);
void capture_write(const char *kind, char dir, unsigned conn, const void *buf, size_t len);

/* report.c */
void report_call(const struct opts *o, const struct call_result *r);
void report_summary(const struct opts *o, const struct peer *p);

/* args.c: parse the command line into *o (exits 2 on a usage error, 0 after --help). */
void swpeer_args(struct opts *o, int argc, char **argv);

/* main.c */
void peer_call_done(struct peer *p, struct call *c);
long ms_since(const struct timespec *t0);
long us_since(const struct timespec *t0);

#endif
