/*
 * testnet.c: loopback addresses for tests (testnet.h). Shared by the unit tests, the
 * integration harness and the sip_stream fuzzing harness.
 */
#include "testnet.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

void
testnet_loopback(char *buf, size_t size)
{
	uint8_t r[3];

	if (RAND_bytes(r, sizeof(r)) != 1) { /* not for keys: any spread will do */
		uint32_t v = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
		r[0] = (uint8_t)v, r[1] = (uint8_t)(v >> 8), r[2] = (uint8_t)(v >> 16);
	}
	snprintf(buf, size, "127.%u.%u.%u", 1u + r[0] % 254u, (unsigned)r[1], 1u + r[2] % 254u);
}
