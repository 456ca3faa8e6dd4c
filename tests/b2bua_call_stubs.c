/*
 * b2bua_call_stubs.c: see b2bua_call_stubs.h.
 */
#include "b2bua_call_stubs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "b2bua_int.h"

int
b2bua_send(struct b2bua *b, uint64_t conn, osip_message_t *m)
{
	(void)b, (void)conn, (void)m;
	return 0;
}

int
b2bua_reply(struct b2bua *b, uint64_t conn, const osip_message_t *req, int code, const char *to_tag,
            const char *warning, const char *sdp)
{
	(void)b, (void)conn, (void)req, (void)code, (void)to_tag, (void)warning, (void)sdp;
	return 0;
}

void
call_cluster_release(struct call *c)
{
	(void)c;
}

void
agent_cancel(struct call *c)
{
	(void)c;
}

void
ok2xx_stop_all(struct call *c)
{
	(void)c;
}

void
b2bua_late_end(struct call *c)
{
	(void)c;
}

void
b2bua_late_free(struct call *c)
{
	(void)c;
}

void
stimer_free(struct call *c)
{
	(void)c;
}

void
trying_forget(struct call *c)
{
	(void)c;
}

void
prack_free(struct call *c)
{
	(void)c;
}

void
xfer_free(struct call *c)
{
	(void)c;
}

void
xfer_end(struct call *c)
{
	(void)c;
}

void
bridge_end(struct call *c)
{
	(void)c;
}

void
bridge_free(struct call *c)
{
	(void)c;
}

bool
bridge_legs(const struct call *c, struct telemetry_leg *agent, char *abuf, size_t alen,
            struct telemetry_leg *human, char *hbuf, size_t hlen)
{
	(void)c, (void)agent, (void)abuf, (void)alen, (void)human, (void)hbuf, (void)hlen;
	return false;
}

void
leg_telemetry(const struct call *c, int legi, struct telemetry_leg *out, char *suite_buf,
              size_t suite_len)
{
	(void)c, (void)legi;
	memset(out, 0, sizeof(*out));
	if (suite_len > 0)
		suite_buf[0] = '\0';
}

int64_t
ms_since(const struct timespec *t)
{
	(void)t;
	return 0;
}

osip_message_t *
b2bua_stub_msg(const char *method, const char *callid, const char *ftag, const char *ttag)
{
	char txt[2048];
	osip_message_t *m = NULL;

	snprintf(txt, sizeof(txt),
	         "%s sip:agent@sipwarden.test SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKx\r\n"
	         "From: <sip:+15551234@trunk.test>;tag=%s\r\n"
	         "To: <sip:agent@sipwarden.test>%s%s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 10 %s\r\n"
	         "Contact: <sip:alice@10.0.0.1:5061;transport=tls>\r\n"
	         "Max-Forwards: 70\r\n"
	         "Content-Length: 0\r\n\r\n",
	         method, ftag, ttag ? ";tag=" : "", ttag ? ttag : "", callid, method);
	if (osip_message_init(&m) != 0 || osip_message_parse(m, txt, strlen(txt)) != 0) {
		fprintf(stderr, "b2bua_stub_msg: libosip2 refused the request\n");
		exit(1);
	}
	return m;
}
