/*
 * monotime.h: milliseconds on CLOCK_MONOTONIC, the one clock sipwarden measures intervals
 * with (timeouts, backoffs, loop lag). Not for timestamps that leave the process
 * (telemetry uses the real-time clock).
 */
#ifndef SW_MONOTIME_H
#define SW_MONOTIME_H

#include <stdint.h>

/* Milliseconds since an arbitrary fixed point (boot); never goes backwards. */
int64_t monotime_ms(void);

#endif
