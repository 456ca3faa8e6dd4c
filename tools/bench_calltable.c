/*
 * bench_calltable: the cost of finding a call for an in-dialog request
 * (daemon/b2bua_call.c call_by_dialog) as the call table grows. Builds tables of
 * 10, 1,000 and 10,000 calls (two dialogs each), then times lookups of a request of a
 * call in the table and of a stranger's request (no such dialog, the case any TLS peer
 * can cause before its source is checked). Prints ns per lookup.
 *
 *	bench_calltable [lookups]      (default 200000)
 *
 * b2bua_call.c is compiled in; what it would send is stubbed out (tests/b2bua_call_stubs.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <osipparser2/osip_parser.h>

#include "b2bua_call_stubs.h"
#include "b2bua_int.h"

#define msg b2bua_stub_msg

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
time_lookups(struct b2bua *b, osip_message_t *req, long n)
{
	volatile struct call *sink = NULL;
	double t0 = now_ns();
	int legi;

	for (long i = 0; i < n; i++)
		sink = call_by_dialog(b, req, &legi);
	(void)sink;
	return (now_ns() - t0) / (double)n;
}

int
main(int argc, char **argv)
{
	long lookups = argc > 1 ? atol(argv[1]) : 200000;
	const int sizes[] = {10, 1000, 10000};

	parser_init();
	printf("%8s %16s %16s\n", "calls", "ns/lookup (hit)", "ns/lookup (miss)");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct b2bua b = {0};
		struct call *mid = NULL;
		osip_message_t *hit, *miss;

		for (int i = 0; i < sizes[s]; i++) {
			char cid[64], tag[32];
			struct call *c = call_new(&b);
			osip_message_t *inv;

			snprintf(cid, sizeof(cid), "call-%d@trunk.test", i);
			snprintf(tag, sizeof(tag), "f%d", i);
			inv = msg("INVITE", cid, tag, NULL);
			if (c == NULL ||
			    sip_dialog_new_uas(&c->leg[0].dlg, inv, "<sip:sw@192.0.2.1>") ||
			    sip_dialog_new_uac(&c->leg[1].dlg, "<sip:a@192.0.2.9>",
			                       "<sip:x@sw.test>", "<sip:a@192.0.2.9>",
			                       "<sip:sw@192.0.2.1>", "sw.test")) {
				fprintf(stderr, "set-up failed\n");
				return 1;
			}
			call_leg_index(c, 0);
			call_leg_index(c, 1);
			osip_message_free(inv);
			if (i == sizes[s] / 2)
				mid = c;
		}
		hit = msg("BYE", mid->leg[0].dlg->call_id, mid->leg[0].dlg->remote_tag,
		          mid->leg[0].dlg->local_tag);
		miss = msg("BYE", "stranger@else", "x", "y");
		long n = lookups / (sizes[s] >= 1000 ? 10 : 1);
		printf("%8d %16.0f %16.0f\n", sizes[s], time_lookups(&b, hit, n),
		       time_lookups(&b, miss, n));
		osip_message_free(hit);
		osip_message_free(miss);
		while (b.calls != NULL)
			call_free(b.calls);
		call_table_free(&b);
	}
	return 0;
}
