/*
 * rtp_stats.c: per-direction RTP counters, loss and jitter (RFC 3550 A.1, A.3, A.8).
 *
 * Pure arithmetic on plain structs, called on the packet path: no allocation, no locks,
 * no logging. A new SSRC or a restart after a large sequence jump folds the old source's
 * expected/received counts into *_prior so loss stays cumulative for the direction. For a
 * sending direction, the peer's receiver reports and the round-trip time (RFC 3550
 * s6.4.1). Not responsible for authenticating packets or for RTCP report generation.
 */
#include "rtp_stats.h"

#include <errno.h>
#include <string.h>

#define RTP_SEQ_MOD    (1u << 16)
#define MAX_DROPOUT    3000
#define MAX_MISORDER   100
#define MIN_SEQUENTIAL 2

static const char *const drop_names[RTP_DROP_COUNT] = {
        [RTP_DROP_AUTH] = "auth",
        [RTP_DROP_REPLAY] = "replay",
        [RTP_DROP_PLAINTEXT] = "plaintext",
        [RTP_DROP_UNKNOWN_SOURCE] = "unknown_source",
        [RTP_DROP_MALFORMED] = "malformed",
        [RTP_DROP_OTHER] = "other",
        [RTP_DROP_SSRC_LIMIT] = "ssrc_limit",
};

const char *
rtp_drop_name(enum rtp_drop r)
{
	if ((unsigned)r >= RTP_DROP_COUNT)
		return "?";
	return drop_names[r];
}

void
rtp_stats_init(struct rtp_stats *s, uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->clock_rate = clock_rate ? clock_rate : RTP_STATS_DEFAULT_CLOCK;
}

void
rtp_stats_set_clock_rate(struct rtp_stats *s, uint32_t clock_rate)
{
	clock_rate = clock_rate ? clock_rate : RTP_STATS_DEFAULT_CLOCK;
	if (clock_rate == s->clock_rate)
		return;
	s->clock_rate = clock_rate;
	s->have_transit = false;
	s->jitter = 0;
}

/* Fold the current source's counts into the prior totals (before re-initialising). */
static void
fold_source(struct rtp_stats *s)
{
	if (s->probation == 0 && s->have_ssrc) {
		uint32_t ext = s->cycles + s->max_seq;
		s->expected_prior += (uint64_t)(ext - s->base_seq) + 1;
		s->received_prior += s->received;
	}
}

/* RFC 3550 A.1 init_seq() */
static void
init_seq(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
}

/* RFC 3550 A.1 update_seq(): returns 1 if the packet counts as valid for loss. */
static int
update_seq(struct rtp_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return 1;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return 0;
	} else if (udelta < MAX_DROPOUT) {
		/* in order, with permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* the sequence number made a very large jump */
		if (seq == s->bad_seq) {
			/* two sequential packets: the source restarted without telling us */
			fold_source(s);
			init_seq(s, seq);
		} else {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return 0;
		}
	} else {
		/* duplicate or reordered packet */
	}
	s->received++;
	return 1;
}

static void
touch(struct rtp_stats *s, uint64_t wall_ns)
{
	if (s->first_ns == 0)
		s->first_ns = wall_ns;
	s->last_ns = wall_ns;
}

/* Arrival time in RTP timestamp units, modulo 2^32 (no 64-bit overflow for any uptime). */
static uint32_t
arrival_units(uint64_t ns, uint32_t rate)
{
	uint64_t sec = ns / 1000000000u, frac = ns % 1000000000u;
	return (uint32_t)(sec * rate + frac * rate / 1000000000u);
}

int
rtp_stats_rtp(struct rtp_stats *s, const uint8_t *hdr, size_t hdr_len, size_t wire_len,
              uint64_t mono_ns, uint64_t wall_ns)
{
	s->packets++;
	s->bytes += wire_len;
	touch(s, wall_ns);
	if (hdr_len < 12 || (hdr[0] >> 6) != 2)
		return -EINVAL;

	uint16_t seq = (uint16_t)(hdr[2] << 8 | hdr[3]);
	uint32_t ts =
	        (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
	uint32_t ssrc =
	        (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11];

	if (!s->have_ssrc || ssrc != s->ssrc) {
		fold_source(s);
		s->have_ssrc = true;
		s->ssrc = ssrc;
		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = MIN_SEQUENTIAL;
		s->have_transit = false;
		s->jitter = 0;
	}
	update_seq(s, seq);

	/* A.8: J += (|D(i-1,i)| - J) / 16, D from the relative transit times */
	uint32_t transit = arrival_units(mono_ns, s->clock_rate) - ts;
	if (s->have_transit) {
		int32_t d = (int32_t)(transit - s->transit);
		double ad = d < 0 ? -(double)d : (double)d;
		s->jitter += (ad - s->jitter) / 16.0;
	}
	s->transit = transit;
	s->have_transit = true;
	return 0;
}

void
rtp_stats_sent(struct rtp_stats *s, uint32_t ssrc, size_t wire_len, uint64_t wall_ns)
{
	s->have_tx_ssrc = true;
	s->tx_ssrc = ssrc;
	s->packets++;
	s->bytes += wire_len;
	touch(s, wall_ns);
}

void
rtp_stats_rtcp(struct rtp_stats *s, size_t wire_len, uint64_t wall_ns)
{
	s->rtcp_packets++;
	s->rtcp_bytes += wire_len;
	touch(s, wall_ns);
}

void
rtp_stats_drop(struct rtp_stats *s, enum rtp_drop reason)
{
	if ((unsigned)reason >= RTP_DROP_COUNT)
		reason = RTP_DROP_OTHER;
	s->drops[reason]++;
}

uint32_t
rtp_stats_ext_max(const struct rtp_stats *s)
{
	return s->cycles + s->max_seq;
}

uint64_t
rtp_stats_expected(const struct rtp_stats *s)
{
	uint64_t e = s->expected_prior;
	if (s->have_ssrc && s->probation == 0)
		e += (uint64_t)(rtp_stats_ext_max(s) - s->base_seq) + 1;
	return e;
}

int64_t
rtp_stats_lost(const struct rtp_stats *s)
{
	uint64_t rcv = s->received_prior + (s->probation == 0 ? s->received : 0);
	return (int64_t)rtp_stats_expected(s) - (int64_t)rcv;
}

double
rtp_stats_jitter_ms(const struct rtp_stats *s)
{
	return s->jitter * 1000.0 / (double)s->clock_rate;
}

uint64_t
rtp_stats_drops_total(const struct rtp_stats *s)
{
	uint64_t t = 0;
	for (int i = 0; i < RTP_DROP_COUNT; i++)
		t += s->drops[i];
	return t;
}

void
rtp_stats_sr_sent(struct rtp_stats *s, uint32_t ntp_mid, uint64_t mono_ns)
{
	s->sr_sent[s->sr_next].ntp_mid = ntp_mid;
	s->sr_sent[s->sr_next].mono_ns = mono_ns;
	s->sr_next = (s->sr_next + 1) % RTP_STATS_SR_RING;
}

int
rtp_stats_report(struct rtp_stats *s, const struct rtcp_report *rb, uint64_t mono_ns)
{
	if (!s->have_tx_ssrc || rb->ssrc != s->tx_ssrc)
		return -ENOENT;
	s->reports++;
	s->report_lost = rb->lost;
	s->report_jitter = rb->jitter;
	if (rb->lsr == 0)
		return 0; /* no SR received yet */
	for (unsigned i = 0; i < RTP_STATS_SR_RING; i++) {
		uint64_t sent = s->sr_sent[i].mono_ns;
		/* DLSR is in 1/65536 s */
		uint64_t dlsr_ns = ((uint64_t)rb->dlsr * 1000000000u) >> 16;
		if (sent == 0 || s->sr_sent[i].ntp_mid != rb->lsr)
			continue;
		/* a DLSR longer than the time since we sent the SR is a lie or a clock
		 * step; keep the previous RTT rather than make one up */
		if (mono_ns > sent && mono_ns - sent >= dlsr_ns)
			s->rtt_ns = mono_ns - sent - dlsr_ns;
		break;
	}
	return 0;
}

bool
rtp_stats_take_rtcp(struct rtp_stats *s, const uint8_t *pkt, size_t len, uint64_t mono_ns,
                    uint32_t *sr_mid)
{
	struct rtcp_pkt p;
	struct rtcp_report rb;
	size_t off = 0;
	bool sr = false;

	while (rtcp_next(pkt, len, &off, &p) == 1) {
		if (p.type != RTCP_SR && p.type != RTCP_RR)
			continue;
		if (p.type == RTCP_SR && !sr)
			sr = rtcp_sr_ntp_mid(&p, sr_mid) == 0;
		for (unsigned i = 0; i < p.count; i++)
			if (rtcp_report_block(&p, i, &rb) == 0)
				(void)rtp_stats_report(s, &rb, mono_ns);
	}
	return sr;
}

bool
rtp_stats_reported(const struct rtp_stats *s, int64_t *lost, double *jitter_ms, double *rtt_ms)
{
	if (s->reports == 0)
		return false;
	*lost = s->report_lost > 0 ? s->report_lost : 0;
	*jitter_ms = (double)s->report_jitter * 1000.0 / (double)s->clock_rate;
	*rtt_ms = (double)s->rtt_ns / 1e6;
	return true;
}
