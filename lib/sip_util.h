/*
 * sip_util.h: small libosip2 helpers shared by the SIP server and the B2BUA.
 *
 * Parsing a framed message, the gate every parsed request and response passes before a
 * handler sees it, matching a response to the request we sent, building a response to a request
 * (Via, From, To, Call-ID and CSeq copied, To tag added), adding headers, serialising, and
 * generating tags, branches and Call-IDs from OpenSSL's RNG. It holds no state beyond libosip2's
 * one-time parser tables (sip_util_init) and does no I/O. Policy (which status for which method)
 * lives with the caller.
 */
#ifndef SW_SIP_UTIL_H
#define SW_SIP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

/* Length of generated tokens including the NUL: tag, branch, Call-ID local part. */
#define SIP_UTIL_TAG_LEN    (20 + 1)           /* 10 random bytes, hex */
#define SIP_UTIL_BRANCH_LEN (7 + 32 + 1)       /* "z9hG4bK" + 16 random bytes, hex */
#define SIP_UTIL_CALLID_LEN (32 + 1 + 256 + 1) /* 16 random bytes hex "@" host */

/* Initialise libosip2's parser tables. Call once per process before any parse. */
int sip_util_init(void);

/*
 * Parse one framed message buf[0..len) (need not be NUL-terminated; libosip2 copies
 * it). On success *out is a new message the caller frees with osip_message_free(): a
 * request with a method, or a response with a status in 100..699. Returns 0, -EBADMSG
 * (libosip2 refused it, or neither of those) or -ENOMEM.
 */
int sip_util_parse(const char *buf, size_t len, osip_message_t **out);

/*
 * For a message libosip2 refused: rebuild a minimal request from the request line and
 * the Via, From, To, Call-ID and CSeq header lines of buf[0..len) (folded lines kept,
 * compact names understood, first of each single-value header) and parse that, so that
 * a 400 can still be addressed. Returns 0 and *out (free with osip_message_free) or
 * -EBADMSG when even that fails (then the message cannot be answered).
 */
int sip_util_salvage(const char *buf, size_t len, osip_message_t **out);

/*
 * Last resort when even sip_util_salvage() fails (a malformed Via/From/To among them):
 * a response built as text, with the request's Via, From, To, Call-ID and CSeq lines
 * copied byte for byte (RFC 3261 s8.2.6.2), a To tag appended when absent, and `extra`
 * (one "Name: value" line without CRLF, or NULL). Refuses (-EBADMSG) anything that is
 * not a request, lacks one of these headers, or has a bare LF in its header block.
 * On success *out (free()) holds *outlen bytes.
 */
int sip_util_raw_response(const char *buf, size_t len, int status, const char *reason,
                          const char *extra, char **out, size_t *outlen);

/*
 * True when a response to `req` can be addressed: it is a request with a top Via,
 * From, To, Call-ID and CSeq present (RFC 3261 s8.2.6.2 copies exactly these).
 */
bool sip_util_can_respond(const osip_message_t *req);

/*
 * The gate for a parsed request, before any handler sees it: RFC 3261 s8.1.1 and the
 * scalar rules RFC 4475 probes. Version SIP/2.0 (else 505); To, From, Call-ID (non-empty),
 * CSeq, Max-Forwards and Via present; the method a token; CSeq a number that fits 32 bits
 * and the request's method; Max-Forwards 0..255 and only one; the top Via with a host, a
 * protocol and a branch longer than the magic cookie; From and To with a URI; Require
 * values lists of option-tags (else 400). libosip2 refuses a doubled From, To, Call-ID,
 * CSeq or Content-Length itself. Returns 0 when fine, else the status code to answer
 * with, and *why a static reason phrase for it.
 */
int sip_util_check_request(const osip_message_t *req, const char **why);

/*
 * The gate for a parsed response, before any handler sees it: a status 100..699, version
 * SIP/2.0, and the same header rules as a request (Via with a branch, From, To, Call-ID,
 * CSeq number and method token, ...) except Max-Forwards and the method match. Returns 0,
 * or -EBADMSG with *why a static reason: drop it (a response is never answered).
 */
int sip_util_check_response(const osip_message_t *resp, const char **why);

/*
 * Whether `resp` answers `sent`, a request we sent: the same top Via branch (ours, random:
 * the proof that the peer saw our request; compared in constant time), Call-ID, CSeq
 * number and CSeq method. Which connection it came on is the caller's to check.
 */
bool sip_util_response_matches(const osip_message_t *sent, const osip_message_t *resp);

/* Whether two Call-IDs are the same (number and host, byte for byte), without allocating. */
bool sip_util_callid_equal(const osip_call_id_t *a, const osip_call_id_t *b);

/* Whether s is a decimal number (digits only, no sign or space, not empty) of at most
 * `max`: the strict reading of peer integers (CSeq, Max-Forwards, RSeq, RAck). */
bool sip_util_decimal(const char *s, unsigned long long max);

/* Whether s is an RFC 3261 token (a method, an option-tag): non-empty, no NULL. */
bool sip_util_is_token(const char *s);

/*
 * Build a response to `req`: status line with `status` and `reason` (NULL: the standard
 * phrase), all Vias, From, Call-ID and CSeq copied, To copied with a tag added unless
 * present (`to_tag`, or a fresh random one when NULL). No Content-Length is set: the
 * serialiser writes one. Returns 0 and a new message in *out (free with
 * osip_message_free), -EINVAL when sip_util_can_respond(req) is false, or -ENOMEM.
 */
int sip_util_response_new(osip_message_t **out, const osip_message_t *req, int status,
                          const char *reason, const char *to_tag);

/* Append header `name: value` (both copied). Returns 0 or -ENOMEM. */
int sip_util_add_header(osip_message_t *m, const char *name, const char *value);

/*
 * Serialise `m` (libosip2 may update its cached text, hence non-const). On success *out
 * is a NUL-terminated string of *len bytes the caller frees with osip_free().
 * Returns 0 or -EINVAL.
 */
int sip_util_serialize(osip_message_t *m, char **out, size_t *len);
/*
 * Drop the text libosip2 keeps inside a message it parsed or serialised (m->message: a
 * whole copy of it, SDP and its keys included), wiped first; a later serialisation
 * builds it again. For messages a call keeps after they were read or sent.
 */
void sip_util_forget_text(osip_message_t *m);

/* Random From/To tag: 20 hex characters. buf must hold SIP_UTIL_TAG_LEN. Returns 0 or -EIO. */
int sip_util_new_tag(char *buf, size_t len);
/* Random RFC 3261 branch "z9hG4bK" + 32 hex. buf must hold SIP_UTIL_BRANCH_LEN. */
int sip_util_new_branch(char *buf, size_t len);
/* Random Call-ID "<32 hex>@host" (host may be NULL: no "@host"). Returns 0, -EIO or -ENOSPC. */
int sip_util_new_callid(char *buf, size_t len, const char *host);

/* Bounds of an Unsupported value sip_util_unsupported() builds. */
#define SIP_UTIL_UNSUPPORTED_MAX 16  /* option-tags */
#define SIP_UTIL_UNSUPPORTED_LEN 256 /* bytes of "tag, tag" */

/*
 * The option-tags named in the Require headers of `req` (every instance, each an RFC 3261
 * option-tag list) that are not in `supported` (NULL-terminated, compared without case),
 * each once, as the value of an Unsupported header, "a, b" (RFC 3261 s8.2.2.3). Returns 0
 * with *out a new string (free()) or NULL when every tag is supported; -EBADMSG when a
 * Require value is not an option-tag list; -E2BIG when more than SIP_UTIL_UNSUPPORTED_MAX
 * tags or SIP_UTIL_UNSUPPORTED_LEN bytes would be listed (the caller refuses the request:
 * the list is never cut); -ENOMEM. *out is untouched on error.
 */
int sip_util_unsupported(const osip_message_t *req, const char *const supported[], char **out);

/* The value of the first header `name` (case-insensitive, any header osip keeps in its
 * generic list, e.g. "max-forwards", "require"), or NULL. */
const char *sip_util_header(const osip_message_t *m, const char *name);

#endif
