/*
 * fuzz_rtcp: the RTCP rewrite every relayed compound goes through (lib/rtcp.c). The input
 * is the compound as it comes out of SRTCP unprotect; it is rewritten for a leg with a
 * fixed CNAME, into a buffer of the size the media worker uses and into one that is
 * too small. Properties: rtcp_rewrite() refuses exactly what rtcp_check() refuses; what
 * it writes passes rtcp_check(), holds no APP packet and no SDES item but our CNAME,
 * and is never larger than the output buffer; a too small buffer is -ENOSPC, not an
 * overflow. Every report block of every SR/RR of a checked compound reads (what the media
 * worker feeds to rtp_stats_report()).
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "rtcp.h"

#define OUT_MAX 2048

static const uint8_t cname[RTCP_CNAME_LEN] = {'f', 'u', 'z', 'z', 'C', 'N', 'A', 'M',
                                              'E', '0', '1', '2', '3', '4', '5', '6'};

static int
ours_cb(const struct rtcp_sdes_item *it, void *arg)
{
	(void)arg;
	return it->type == RTCP_SDES_CNAME && it->len == RTCP_CNAME_LEN &&
	                       memcmp(it->data, cname, RTCP_CNAME_LEN) == 0
	               ? 0
	               : 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_MAX];
	struct rtcp_pkt p;
	size_t n = 0, off = 0;
	int rc, chk;

	chk = rtcp_check(data, size);
	FUZZ_CHECK(chk == 0 || chk == -EBADMSG);
	rc = rtcp_rewrite(data, size, out, sizeof(out), &n, cname, RTCP_CNAME_LEN);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMSG || rc == -ENOSPC);
	FUZZ_CHECK((rc == -EBADMSG) == (chk != 0));
	if (rc == 0) {
		FUZZ_CHECK(n > 0 && n <= sizeof(out) && n % 4 == 0);
		FUZZ_CHECK(rtcp_check(out, n) == 0);
		while ((rc = rtcp_next(out, n, &off, &p)) == 1) {
			FUZZ_CHECK(p.type != RTCP_APP);
			if (p.type == RTCP_SDES)
				FUZZ_CHECK(rtcp_sdes_walk(&p, ours_cb, NULL) == 0);
			if (p.type == RTCP_SR || p.type == RTCP_RR) {
				struct rtcp_report rb;
				uint32_t mid;
				for (unsigned i = 0; i < p.count; i++)
					FUZZ_CHECK(rtcp_report_block(&p, i, &rb) == 0);
				FUZZ_CHECK(rtcp_report_block(&p, p.count, &rb) == -EINVAL);
				FUZZ_CHECK((rtcp_sr_ntp_mid(&p, &mid) == 0) == (p.type == RTCP_SR));
			}
		}
		FUZZ_CHECK(rc == 0);
		/* one octet less room than the result needs is refused, never overrun */
		size_t m = 0;
		rc = rtcp_rewrite(data, size, out, n - 1, &m, cname, RTCP_CNAME_LEN);
		FUZZ_CHECK(rc == -ENOSPC && m == 0);
	}
	return 0;
}
