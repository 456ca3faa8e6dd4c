/*
 * b2bua_call_stubs.h: what daemon/b2bua_call.c needs from the rest of the B2BUA, stubbed
 * (nothing is sent, no telemetry), for the programs that compile the call table in alone:
 * tests/test_b2bua_call.c and tools/bench_calltable.c. Test and benchmark code only.
 */
#ifndef SW_B2BUA_CALL_STUBS_H
#define SW_B2BUA_CALL_STUBS_H

#include <osipparser2/osip_message.h>

/*
 * A parsed in-dialog-shaped request: `method` with this Call-ID and From tag, and a To
 * tag when `ttag` is not NULL. Exits the process if libosip2 refuses it (it never does
 * for the identifiers the callers use). Free with osip_message_free().
 */
osip_message_t *b2bua_stub_msg(const char *method, const char *callid, const char *ftag,
                               const char *ttag);

#endif
