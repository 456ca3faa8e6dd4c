/*
 * fuzz.h: what every harness in tests/fuzz shares. Each fuzz_<target>.c defines
 * LLVMFuzzerTestOneInput() for one entry point of sipwarden; built with libFuzzer
 * (meson -Dfuzz=true, tools/fuzz) it is a fuzzer, built with replay.c it replays a corpus
 * directory in the ordinary test suites. FUZZ_CHECK states a property the code must keep
 * for every input: a failure aborts, which both drivers report as a crash.
 */
#ifndef SW_FUZZ_H
#define SW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/*
 * A message sipwarden sends is one well-framed message: a start line, CRLF line ends
 * only, one empty line after the headers. (A raw answer to a request libosip2 refused
 * echoes the peer's addressing headers, RFC 3261 s8.2.6.2, so it need not parse; this
 * must hold all the same.) Checks only the header block when a body follows.
 */
void fuzz_check_one_message(const char *t, size_t n);

#endif
