/*
 * b2bua_probe.c: the OPTIONS health probes of the agent pool. Every probe interval each
 * agent gets an OPTIONS on its connection (opened if needed); the answer must come on
 * that connection with the probe's Via branch, Call-ID and CSeq (anything else is a
 * forged response), a 5xx, a timeout (the next round) or a lost connection mark the
 * agent down, any other final answer up. Not responsible for what "up" means to the
 * pool (lib/pool.c) or for calls (b2bua_agent.c).
 */
#include "b2bua_int.h"

#include <stdio.h>

#include <osipparser2/osip_parser.h>

#include "sip_util.h"

void
agent_conn_closed(struct b2bua *b, uint64_t conn)
{
	for (size_t i = 0; i < b->nagents; i++) {
		if (b->agent_conn[i] != conn)
			continue;
		b->agent_conn[i] = 0;
		if (b->probe_req[i] != NULL) {
			osip_message_free(b->probe_req[i]);
			b->probe_req[i] = NULL;
			agent_report(b, (int)i, false, "connection_lost");
		}
	}
}

/*
 * A response to a probe: only on the agent's connection and with the probe's top Via
 * branch, Call-ID and CSeq (a response with a probe's Call-ID from elsewhere is reported
 * as forged). True when it was one of ours, forged or not (nothing else wants it).
 */
bool
agent_probe_response(struct b2bua *b, uint64_t conn, osip_message_t *resp)
{
	if (!MSG_IS_RESPONSE_FOR(resp, "OPTIONS"))
		return false;
	for (size_t i = 0; i < b->nagents; i++) {
		osip_message_t *probe = b->probe_req[i];

		if (probe == NULL || !sip_util_callid_equal(probe->call_id, resp->call_id))
			continue;
		if (conn != b->agent_conn[i] || !sip_util_response_matches(probe, resp)) {
			b2bua_forged_response(b, NULL, conn,
			                      conn != b->agent_conn[i]
			                              ? "not on the connection the request left on"
			                              : "not the Via branch of the request");
			return true;
		}
		if (resp->status_code < 200)
			return true;
		osip_message_free(probe);
		b->probe_req[i] = NULL;
		agent_report(b, (int)i, resp->status_code < 500, "probe answered 5xx");
		return true;
	}
	return false;
}

void
agent_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct b2bua *b = arg;

	for (size_t i = 0; i < b->nagents; i++) {
		const struct conf_agent *a = &b->conf->agents[i];
		struct sip_dialog *d = NULL;
		osip_message_t *opt = NULL;
		char hp[80], ruri[160], to[160], from[160];
		uint64_t conn;

		if (b->probe_req[i] != NULL) {
			osip_message_free(b->probe_req[i]);
			b->probe_req[i] = NULL;
			agent_report(b, (int)i, false, "probe timeout");
		}
		if ((conn = agent_conn(b, (int)i)) == 0) {
			agent_report(b, (int)i, false, "connection_failed");
			continue;
		}
		agent_hostport(a, hp, sizeof(hp));
		snprintf(ruri, sizeof(ruri), "sip:%s;transport=tls", hp);
		snprintf(to, sizeof(to), "<sip:%s>", hp);
		snprintf(from, sizeof(from), "<sip:sipwarden@%s>", b->host);
		if (sip_dialog_new_uac(&d, ruri, from, to, b->contact, b->host) != 0)
			continue;
		if (sip_dialog_request(d, "OPTIONS", b->sentby, &opt) == 0 &&
		    b2bua_send(b, conn, opt) == 0) {
			b->probe_req[i] = opt; /* what its answer must match */
			opt = NULL;
		}
		osip_message_free(opt);
		sip_dialog_free(d);
	}
}
