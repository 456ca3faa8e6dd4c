/*
 * capture.c: swpeer's --capture FILE, the plaintext of what one swpeer process sees, for
 * tests/fuzz/capture2seeds.py to turn into fuzzer seeds. Every SIP message sent or
 * received (as it is on the TLS connection, before encryption) and every RTP or RTCP
 * packet sent (before SRTP protect) is one record:
 *
 *     KIND DIR CONN USEC LEN\n  then LEN bytes, then \n
 *
 * KIND is SIP, RTP or RTCP; DIR is > (sent) or < (received); CONN numbers the SIP
 * connection (0 for media); USEC is CLOCK_REALTIME in microseconds, so that the
 * captures of two processes of one call interleave. The file holds SRTP master keys
 * (a=crypto lines) in the clear: it is for test calls only. Not responsible for what
 * is captured when (sip.c, media.c call capture_write()).
 */
#include <stdio.h>
#include <time.h>

#include "swpeer.h"

static FILE *capture_f; /* the one capture file of the process, or NULL */

int
capture_open(const char *path)
{
	if ((capture_f = fopen(path, "w")) == NULL)
		return -1;
	return 0;
}

void
capture_write(const char *kind, char dir, unsigned conn, const void *buf, size_t len)
{
	struct timespec now;

	if (capture_f == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(capture_f, "%s %c %u %lld %zu\n", kind, dir, conn,
	        (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000, len);
	fwrite(buf, 1, len, capture_f);
	fputc('\n', capture_f);
	fflush(capture_f);
}
