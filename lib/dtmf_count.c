/*
 * dtmf_count.c: distinct RFC 4733 events per direction, from RTP headers only
 * (see dtmf_count.h).
 */
#include "dtmf_count.h"

#define RTP_HDR_MIN 12

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
dtmf_count_set_pt(struct dtmf_count *d, bool has_pt, uint8_t pt)
{
	if (d->has_pt != has_pt || d->pt != pt)
		d->have_event = false;
	d->has_pt = has_pt;
	d->pt = has_pt ? pt : 0;
}

bool
dtmf_count_rtp(struct dtmf_count *d, const uint8_t *pkt, size_t len)
{
	uint32_t ts, ssrc;

	if (!d->has_pt || pkt == NULL || len < RTP_HDR_MIN || (pkt[0] >> 6) != 2 ||
	    (pkt[1] & 0x7f) != d->pt)
		return false;
	ts = rd32(pkt + 4);
	ssrc = rd32(pkt + 8);
	if (d->have_event && ssrc == d->ssrc) {
		/* same event (updates, end retransmissions), or a late packet of an older one:
		 * timestamps compare in serial number arithmetic (they wrap) */
		if ((int32_t)(ts - d->ts) <= 0)
			return false;
	}
	d->have_event = true;
	d->ssrc = ssrc;
	d->ts = ts;
	d->events++;
	return true;
}
