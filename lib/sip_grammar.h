/*
 * sip_grammar.h: does a peer-controlled value match the RFC 3261 grammar of the element
 * sipwarden is about to write it into?
 *
 * libosip2 parses leniently and hands back URI user parts un-escaped, so "bob%0D%0A..."
 * comes out with a real CR LF in it. Whatever crosses from one leg into a message
 * sipwarden writes (the caller's user part into From and P-Asserted-Identity, the dialled
 * user part into the Request-URI and To, the X- headers a trunk may pass) and whatever a
 * dialog echoes back to its own peer (display names) is checked here first, at the door,
 * and refused when it does not fit: nothing is cut to size. This module only checks: the
 * escaping on output is libosip2's (osip_uri_to_str and friends), and policy (which
 * status code, which event) is the caller's. Pure functions, no state.
 */
#ifndef SW_SIP_GRAMMAR_H
#define SW_SIP_GRAMMAR_H

#include <stddef.h>

/*
 * Longest user part (after un-escaping) that crosses legs. E.164 numbers are at most 15
 * digits and SIP user names in practice a few dozen characters; 128 leaves room for
 * both with parameters (";isub=", ";phone-context=") and keeps a From, To or
 * Request-URI well inside a line.
 */
#define SIP_GRAMMAR_USER_MAX 128

/*
 * A URI user part as libosip2 returns it (escapes already decoded). RFC 3261 `user` is
 * 1*(unreserved / user-unreserved / escaped), and any octet may travel escaped, so what
 * the decoded form must not hold is what no escaping makes harmless downstream: control
 * characters (0x00-0x1F, 0x7F) and byte sequences that are not UTF-8. Everything else is
 * re-escaped by libosip2 when written. Returns 0, -EINVAL (empty, control character,
 * invalid UTF-8) or -E2BIG (longer than `max` bytes).
 */
int sip_grammar_user(const char *user, size_t max);

/*
 * A telephone-subscriber (RFC 3966, the user part of a URI with user=phone): a
 * global-number "+" 1*phonedigit or a local-number 1*phonedigit-hex (HEXDIG, "*", "#"),
 * visual separators "-" "." "(" ")" allowed, at least one digit, then optional
 * ";name[=value]" parameters of RFC 3261 paramchars. 0, -EINVAL or -E2BIG.
 */
int sip_grammar_phone(const char *user, size_t max);

/*
 * A display name as libosip2 keeps it: a quoted-string with its quotes (qdtext /
 * quoted-pair, UTF-8 allowed), or unquoted text without quotes, angle brackets or
 * backslashes (RFC 3261 wants tokens there; deployed PBXs send "Sales (2nd)" and UTF-8,
 * and the name only ever goes back to the peer that sent it). Neither form may hold a
 * CR, LF or other control character (HTAB excepted): libosip2 keeps a folded line's CRLF
 * inside the value. NULL or "" (no display name) is fine. No length limit of its own:
 * the framing's max_line_length bounds it and nothing stores it in fixed space.
 * 0 or -EINVAL.
 */
int sip_grammar_display_name(const char *dn);

/*
 * A header value that is copied into a new message: UTF-8 text without control
 * characters other than HTAB (so no CR/LF from folded lines), at most `max` bytes.
 * 0, -EINVAL or -E2BIG.
 */
int sip_grammar_header_value(const char *v, size_t max);

/* Longest URI sipwarden takes as a remote target or route (a Contact, a Record-Route). */
#define SIP_GRAMMAR_URI_MAX 1024

/*
 * A SIP or SIPS URI as libosip2 writes it (osip_uri_to_str) before sipwarden puts it into
 * a Request-URI or a Route: "sip:" / "sips:", at most one "@", only characters RFC 3261
 * allows in a SIP-URI (unreserved, reserved, "%" escapes, brackets of an IPv6
 * reference), a host that is a hostname, an IPv4 address or a bracketed IPv6 reference,
 * and an optional port of at most 5 digits before the parameters. No whitespace,
 * control character, quote or angle bracket. libosip2 accepts Contacts such as
 * "<sip:a b: .1:5060>" and would write them back as they came. 0, -EINVAL or -E2BIG.
 */
int sip_grammar_uri(const char *uri, size_t max);

/*
 * One Route or Record-Route value (RFC 3261 s25.1 rec-route / route: name-addr
 * *( SEMI rr-param )) as libosip2 writes it (osip_record_route_to_str), before sipwarden
 * keeps it in a dialog's route set or echoes it in a response: an optional display name
 * (sip_grammar_display_name), "<" a URI in sip_grammar_uri's grammar ">", then
 * parameters ";" name ["=" value], the name a token, the value a token, a host (with
 * ":" and IPv6 brackets) or a quoted string; whitespace only around ";" and "=". No
 * control character anywhere. At most `max` bytes. 0, -EINVAL or -E2BIG.
 */
int sip_grammar_route(const char *v, size_t max);

#endif
