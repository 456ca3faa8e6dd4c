/*
 * sdp.c: the SDP swpeer writes (offers and answers for one audio stream) and what it
 * reads from the peer's SDP (address, port, profile, a=crypto lines, direction).
 *
 * Reading uses libosip2's SDP parser; only the first m=audio line is looked at. Writing
 * is a fixed template: PCMU (PT 0), with --dtmf telephone-event (PT 101), ptime 20, rtcp-mux
 * (unless --no-rtcp-mux), and the a=crypto
 * lines it is given. Not responsible for choosing keys (keys.c) or for the offer/answer decisions
 * (call_uac.c, call_uas.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <osipparser2/sdp_message.h>

#include "swpeer.h"

/* Direction attribute name for a direction. */
const char *
sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case DIR_SENDONLY:
		return "sendonly";
	case DIR_RECVONLY:
		return "recvonly";
	case DIR_INACTIVE:
		return "inactive";
	default:
		return "sendrecv";
	}
}

/*
 * Write an SDP body for call `c` into buf: our media address/port, profile RTP/SAVP when
 * `ncrypto` > 0 (else RTP/AVP, or RTP/SAVP anyway when `force_savp`), the given crypto
 * attribute values and direction `d`. Returns the length or -ENOSPC.
 */
int
sdp_write(struct call *c, char *buf, size_t len, char crypto[][160], unsigned ncrypto,
          bool force_savp, enum sdp_dir d)
{
	const struct media *m = &c->media;
	size_t off;
	int n;

	n = snprintf(buf, len,
	             "v=0\r\n"
	             "o=swpeer %u %u IN IP4 %s\r\n"
	             "s=swpeer\r\n"
	             "c=IN IP4 %s\r\n"
	             "t=0 0\r\n"
	             "m=audio %u %s 0%s\r\n"
	             "a=rtpmap:0 PCMU/8000\r\n"
	             "%s"
	             "a=ptime:%d\r\n"
	             "%s",
	             c->num + 1000u, c->sdp_version++, m->ip, m->ip, m->port,
	             (ncrypto || force_savp) ? "RTP/SAVP" : "RTP/AVP",
	             c->peer->o->dtmf >= 0 ? " 101" : "",
	             c->peer->o->dtmf >= 0
	                     ? "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
	                     : "",
	             PATTERN_PTIME_MS, c->peer->o->no_rtcp_mux ? "" : "a=rtcp-mux\r\n");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	for (unsigned i = 0; i < ncrypto; i++) {
		n = snprintf(buf + off, len - off, "a=crypto:%s\r\n", crypto[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	n = snprintf(buf + off, len - off, "a=%s\r\n", sdp_dir_name(d));
	if (n < 0 || (size_t)n >= len - off)
		return -ENOSPC;
	return (int)(off + (size_t)n);
}

static enum sdp_dir
dir_of(const char *f)
{
	if (strcasecmp(f, "sendonly") == 0)
		return DIR_SENDONLY;
	if (strcasecmp(f, "recvonly") == 0)
		return DIR_RECVONLY;
	if (strcasecmp(f, "inactive") == 0)
		return DIR_INACTIVE;
	if (strcasecmp(f, "sendrecv") == 0)
		return DIR_SENDRECV;
	return (enum sdp_dir) - 1;
}

/*
 * Read the peer's SDP `body` into `out` (crypto values are copied: the caller wipes `out`
 * with sdp_info_wipe()). 0, or -EINVAL with *why when there is no usable audio stream.
 */
int
sdp_read(const char *body, struct sdp_info *out, const char **why)
{
	sdp_message_t *sdp = NULL;
	const char *addr, *port, *proto, *media;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	out->dir = DIR_SENDRECV;
	out->te_pt = -1;
	*why = "no SDP";
	if (!body || sdp_message_init(&sdp) != 0)
		return -EINVAL;
	if (sdp_message_parse(sdp, body) != 0) {
		*why = "unparsable SDP";
		goto out;
	}
	media = sdp_message_m_media_get(sdp, 0);
	if (!media || strcasecmp(media, "audio") != 0) {
		*why = "no m=audio line";
		goto out;
	}
	port = sdp_message_m_port_get(sdp, 0);
	proto = sdp_message_m_proto_get(sdp, 0);
	addr = sdp_message_c_addr_get(sdp, 0, 0);
	if (!addr)
		addr = sdp_message_c_addr_get(sdp, -1, 0);
	if (!port || !proto || !addr) {
		*why = "incomplete SDP";
		goto out;
	}
	snprintf(out->ip, sizeof(out->ip), "%s", addr);
	out->port = (uint16_t)strtoul(port, NULL, 10);
	out->savp = strcasecmp(proto, "RTP/SAVP") == 0;
	out->avp = strcasecmp(proto, "RTP/AVP") == 0;
	for (int lvl = -1; lvl <= 0; lvl++) {
		for (int i = 0;; i++) {
			const char *f = sdp_message_a_att_field_get(sdp, lvl, i);
			const char *v = sdp_message_a_att_value_get(sdp, lvl, i);
			enum sdp_dir d;

			if (!f)
				break;
			if ((int)(d = dir_of(f)) >= 0) {
				out->dir = d;
			} else if (lvl == 0 && strcasecmp(f, "rtpmap") == 0 && v &&
			           out->te_pt < 0) {
				unsigned pt;
				char enc[17];
				if (sscanf(v, "%u %16[^/]", &pt, enc) == 2 && pt < 128 &&
				    strcasecmp(enc, "telephone-event") == 0)
					out->te_pt = (int)pt;
			} else if (lvl == 0 && strcasecmp(f, "rtcp-mux") == 0) {
				out->rtcp_mux = true;
			} else if (lvl == 0 && strcasecmp(f, "crypto") == 0 && v &&
			           out->ncrypto < SDP_MAX_CRYPTO) {
				snprintf(out->crypto[out->ncrypto++], sizeof(out->crypto[0]), "%s",
				         v);
			}
		}
	}
	rc = 0;
out:
	sdp_message_free(sdp);
	return rc;
}

void
sdp_info_wipe(struct sdp_info *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}
