/*
 * fuzz_check.c: properties every harness may check (fuzz.h).
 */
#include <string.h>

#include "fuzz.h"

void
fuzz_check_one_message(const char *t, size_t n)
{
	const char *end = memmem(t, n, "\r\n\r\n", 4);

	FUZZ_CHECK(n > 12 && end != NULL);
	n = (size_t)(end - t) + 4;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\r')
			FUZZ_CHECK(i + 1 < n && t[i + 1] == '\n');
		if (t[i] == '\n')
			FUZZ_CHECK(i > 0 && t[i - 1] == '\r');
	}
}
