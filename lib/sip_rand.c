/*
 * sip_rand.c: the per-thread pool behind sip_rand_bytes() (see sip_rand.h). Holds no
 * secrets worth more than the tokens they become; never used for keys.
 */
#include "sip_rand.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>

/* pool[0..left) not handed out yet; handed-out bytes are zeroed. */
static _Thread_local unsigned char pool[SIP_RAND_POOL];
static _Thread_local size_t left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child inherits the parent's pool: it must not hand out the same bytes. The
 * child has one thread, the one that forked: its pool is the one to empty. */
static void
sip_rand_child(void)
{
	explicit_bzero(pool, sizeof(pool));
	left = 0;
}

static void
sip_rand_register(void)
{
	(void)pthread_atfork(NULL, NULL, sip_rand_child);
}

int
sip_rand_bytes(void *buf, size_t n)
{
	unsigned char *out = buf;

	pthread_once(&atfork_once, sip_rand_register);
	if (n > sizeof(pool) / 2) /* large requests straight from the DRBG */
		return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
	if (n > left) {
		if (RAND_bytes(pool, (int)sizeof(pool)) != 1) {
			left = 0;
			return -EIO;
		}
		left = sizeof(pool);
	}
	/* take from the end, then erase what was taken */
	left -= n;
	memcpy(out, pool + left, n);
	explicit_bzero(pool + left, n);
	return 0;
}
