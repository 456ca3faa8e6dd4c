/*
 * test_telemetry.h: what the files of the telemetry unit test (test_telemetry.c: the
 * fixture, the stream and its sockets, the suite; test_telemetry_schema.c: the events and
 * their schema) share. Test code only.
 */
#ifndef SW_TEST_TELEMETRY_H
#define SW_TEST_TELEMETRY_H

#include <check.h>
#include <jansson.h>

#include <event2/event.h>

#include "telemetry.h"

/* Each test's temporary directory, socket path in it and event base (setup, teardown). */
extern char dir[64];
extern char path[128];
extern struct event_base *base;

void setup(void);
void teardown(void);
/* A telemetry server on `path`; the test fails when it cannot be made. */
struct telemetry *start(unsigned mode, unsigned queue);
/* Connect a subscriber and let the server accept it. */
int subscribe(struct telemetry *t);

/* Line reader on a non-blocking fd that keeps the server's loop turning. */
struct reader {
	int fd;
	char buf[1 << 16];
	size_t len;
};

/* The next line (new string, free()), or NULL at EOF or after ~timeout_ms ms without one. */
char *read_line(struct reader *r, int timeout_ms);
/* The next line as a JSON object (a new reference); the test fails without one. */
json_t *read_event(struct reader *r);
/* Emit one of every event the builders can make. Returns how many. */
int emit_all(struct telemetry *t);

/* test_telemetry_schema.c's test case. */
TCase *telemetry_schema_tcase(void);
/* test_telemetry_unbuilt.c's test case. */
TCase *telemetry_unbuilt_tcase(void);

#endif
