/*
 * testnet.h: addresses for tests on loopback.
 *
 * Every test that listens picks a loopback address of its own, 127.a.b.c, not 127.0.0.1:
 * connections between 127.0.0.1 addresses (other tests', on the same box, in parallel)
 * take their local ports from Linux's ephemeral range, so a fixed or pid-derived port on
 * 127.0.0.1 can be taken, while one on a random 127.a.b.c all but never is.
 */
#ifndef SW_TESTS_TESTNET_H
#define SW_TESTS_TESTNET_H

#include <stddef.h>

/* A random 127.a.b.c (a 1-254, b 0-255, c 1-254) into buf (16 bytes hold any). */
void testnet_loopback(char *buf, size_t size);

#endif
