/*
 * sip_dialog.h: one leg's SIP dialog (RFC 3261 s12) and the requests sent inside it.
 *
 * A B2BUA holds two dialogs per call: the trunk leg, where sipwarden is the UAS of the
 * INVITE, and the agent leg, where it is the UAC. This module keeps each dialog's
 * identifiers (Call-ID, tags), remote target, route set and CSeq counters, and builds
 * the requests that travel in it (BYE, re-INVITE, UPDATE, OPTIONS, ACK for 2xx), plus
 * the transaction-bound ones (ACK for a non-2xx, CANCEL). Identifiers of one leg are
 * never derived from the other leg's. It sends nothing and knows no sockets; responses
 * to requests are built by sip_util.
 */
#ifndef SW_SIP_DIALOG_H
#define SW_SIP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_message.h>

#define SIP_DIALOG_MAX_ROUTES 8

/*
 * struct sip_dialog: identifiers and counters of one dialog.
 * Owner: the call leg that created it; freed only by sip_dialog_free().
 */
struct sip_dialog {
	bool uac;       /* we sent the INVITE that made it */
	bool confirmed; /* a 2xx was sent or received */
	char *call_id;
	char *local_uri; /* name-addr of our side (From when UAC, To when UAS), no tag */
	char *remote_uri;
	char *local_tag;
	char *remote_tag;                   /* NULL until known */
	char *remote_target;                /* Request-URI for requests in the dialog */
	char *route[SIP_DIALOG_MAX_ROUTES]; /* route set, in sending order */
	size_t nroute;
	char *local_contact;  /* our Contact header value */
	uint32_t local_cseq;  /* last CSeq we used */
	uint32_t remote_cseq; /* last CSeq the peer used (valid when remote_cseq_set) */
	bool remote_cseq_set;
	uint32_t invite_cseq; /* CSeq of the INVITE in progress (for ACK) */
};

/* Fill buf with `n` random characters from [0-9a-z] and a NUL; buf holds n + 1. */
void sip_dialog_token(char *buf, size_t n);

/*
 * UAS side: the dialog an incoming INVITE creates. A fresh local tag is generated;
 * remote target = the INVITE's Contact, route set = its Record-Route in order.
 * Returns 0 or -EINVAL (missing Call-ID/From/To/CSeq/From tag/Contact) / -ENOMEM.
 */
int sip_dialog_new_uas(struct sip_dialog **out, const osip_message_t *invite,
                       const char *local_contact);

/*
 * UAC side: a dialog for an INVITE we are about to send, with a fresh Call-ID
 * (random@callid_host) and local tag. `ruri` becomes the remote target until the peer's
 * Contact replaces it. URIs are name-addr strings ("<sip:a@b>" or "\"N\" <sip:a@b>").
 */
int sip_dialog_new_uac(struct sip_dialog **out, const char *ruri, const char *local_uri,
                       const char *remote_uri, const char *local_contact, const char *callid_host);

void sip_dialog_free(struct sip_dialog *d);

/*
 * Whether the Record-Route headers of `m` may become a route set (an INVITE's in order,
 * a response's `reverse`d): at most SIP_DIALOG_MAX_ROUTES of them, each URI and value in
 * the grammar (sip_grammar_uri, sip_grammar_route), and the first route in sending order
 * a loose router (";lr"): strict routing (RFC 2543) is refused, not emulated. No
 * Record-Route is fine. 0, -E2BIG, -EINVAL or -EPROTONOSUPPORT (strict router). The
 * dialog constructors and sip_dialog_update_uac() apply it themselves.
 */
int sip_dialog_routes_check(const osip_message_t *m, bool reverse);

/*
 * Build a request in the dialog: Request-URI = remote target, Route = route set, a Via
 * with `via_sentby` ("host:port") and a new branch, From/To with tags, Call-ID, Contact,
 * Max-Forwards 70, and a new CSeq (the INVITE's for ACK; CANCEL is not built here).
 * For INVITE the CSeq is remembered for the ACK. `out` receives a new message.
 */
int sip_dialog_request(struct sip_dialog *d, const char *method, const char *via_sentby,
                       osip_message_t **out);

/*
 * Learn from a response to our INVITE (UAC): the remote tag, and, from a response
 * that establishes or confirms the dialog (1xx with To tag, 2xx), the remote target
 * (Contact) and the route set (Record-Route, reversed). 0 or -EINVAL.
 */
int sip_dialog_update_uac(struct sip_dialog *d, const osip_message_t *resp);

/*
 * A UAC dialog rebuilt from a 2xx to an INVITE we no longer track (we cancelled it or
 * gave up on the agent): enough to send the ACK and a BYE (RFC 3261 s15). 0 or -EINVAL.
 */
int sip_dialog_from_2xx(struct sip_dialog **out, const osip_message_t *resp,
                        const char *local_contact);

/* ACK for a non-2xx final response: same Request-URI, Call-ID, From, CSeq number and
 * top Via (branch) as `invite`, To from `resp` (RFC 3261 s17.1.1.3). */
int sip_dialog_ack_non2xx(const osip_message_t *invite, const osip_message_t *resp,
                          osip_message_t **out);

/* CANCEL for a pending `invite` (RFC 3261 s9.1): same Request-URI, Call-ID, From, To,
 * CSeq number, top Via and Route. */
int sip_dialog_cancel(const osip_message_t *invite, osip_message_t **out);

/* Does `req` (a request received) belong to `d`: same Call-ID, its From tag is our
 * remote tag and its To tag is our local tag? */
bool sip_dialog_matches(const struct sip_dialog *d, const osip_message_t *req);
/* The same without the Call-ID, for a caller that already found `d` by Call-ID: the
 * From tag of `req` is our remote tag and its To tag our local tag. */
bool sip_dialog_matches_tags(const struct sip_dialog *d, const osip_message_t *req);

/* Check and record the CSeq of a request received in the dialog: it must be higher than
 * the last one (RFC 3261 s12.2.2; ACK and CANCEL exempt). 0 or -EPROTO (answer 500). */
int sip_dialog_check_remote_cseq(struct sip_dialog *d, const osip_message_t *req);

/* The user part of a From/To/P-Asserted-Identity style header value, or NULL. Returns a
 * new string (osip_free), un-escaped by libosip2: check it (sip_grammar) before use. */
char *sip_dialog_user_part(const osip_from_t *h);

/*
 * A SIP URI "sip:user@hostport;params" for a dialog we start, built through libosip2's
 * structures so that the user part (un-escaped, possibly a peer's: checked with
 * sip_grammar_user() first) is re-escaped by osip_uri_to_str() and can never end the
 * URI, let alone the header. `hostport` ("192.0.2.1:5061", "[2001:db8::1]:5061", a
 * name) and `params` (";transport=tls", or NULL) are ours. As a name-addr "<...>" when
 * `angle`, else an addr-spec (a Request-URI). `user` NULL: no user part. Returns 0 and
 * *out (osip_free), -EINVAL (hostport/params do not parse) or -ENOMEM.
 */
int sip_dialog_uri(char **out, const char *user, const char *hostport, const char *params,
                   bool angle);

#endif
