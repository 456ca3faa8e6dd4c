/*
 * sip_rand.h: random bytes for SIP tokens (tags, branches, Call-IDs, call ids, SSRCs),
 * RTCP CNAMEs and SDP o= session ids, served from a small per-thread pool that OpenSSL's
 * RAND_bytes refills.
 *
 * One RAND_bytes call costs about the same (~0.65 us here) for 4 bytes as for 512: it
 * locks the DRBG and checks for a fork each time, and a call sets up a dozen tokens. The
 * pool makes that one call per SIP_RAND_POOL bytes. Bytes are erased from the pool as
 * they are handed out, and a forked child starts with an empty pool (pthread_atfork),
 * so no two processes hand out the same bytes. NOT for key material: SRTP master keys
 * and salts come from RAND_bytes directly, into their own wiped buffers (suite.c).
 */
#ifndef SW_SIP_RAND_H
#define SW_SIP_RAND_H

#include <stddef.h>

#define SIP_RAND_POOL 512 /* bytes per refill */

/* Fill buf[0..n) with random bytes. 0, or -EIO if OpenSSL's RNG failed (buf unchanged
 * in part or whole: do not use it). n may be larger than the pool. */
int sip_rand_bytes(void *buf, size_t n);

#endif
