/*
 * itest_proxy.h: the project's own record-routing SIP proxy for integration tests.
 *
 * A forked child that accepts TLS connections on one address ("down": a caller, or
 * sipwarden when the proxy stands in front of an agent) and relays to one TLS peer
 * ("up": sipwarden, or the agent), the way an edge proxy does (RFC 3261 s16, loose
 * routing): it adds its own Via to every request and takes it off the response,
 * Record-Routes every dialog-creating INVITE with <sip:IP:PORT;transport=tls;lr>, and
 * removes its own Route from requests inside a dialog. A request inside a dialog whose
 * top Route is not the proxy's is answered 404 and not forwarded (what Kamailio's
 * loose_route() check does), and logged as "NOROUTE <method>" in DIR/proxy.log, next to
 * one line per relayed message ("down> INVITE", "up> SIP/2.0 200", ...). Test code only.
 */
#ifndef SW_ITEST_PROXY_H
#define SW_ITEST_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "itest.h"

struct itest_proxy {
	const char *listen_ip; /* where the proxy listens (port: listen_port) */
	uint16_t listen_port;
	const char *cert;  /* name of the certificate in the test directory ("server", "agent") */
	const char *up_ip; /* where it relays to (from 127.0.0.1) */
	uint16_t up_port;
	/* requests inside a dialog from the down side go up on a new connection each, from
	 * this source address (NULL: on the connection the INVITE went up on) */
	const char *dialog_src;
};

/* Start the proxy for test `t` (asserts; waits until it accepts connections). */
pid_t itest_proxy_start(const struct itest *t, const struct itest_proxy *p);
/* Lines of DIR/proxy.log that contain `needle`. */
int itest_proxy_count(const struct itest *t, const char *needle);

#endif
