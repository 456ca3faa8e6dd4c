/*
 * telemetry_int.h: what telemetry.c (delivery, counters) and telemetry_event.c (the typed
 * builders) share, and nothing else includes.
 *
 * With nobody subscribed, a call event's JSON would be built only to be validated,
 * counted and freed. The builders of the per-call events (call.start, call.answer,
 * call.interim, call.end) then skip building it when the record they would have built
 * surely validates, and hand the counters what they would have read from it. With a
 * subscriber every event is built, validated and delivered complete, as before.
 */
#ifndef SW_TELEMETRY_INT_H
#define SW_TELEMETRY_INT_H

#include <stdbool.h>

#include "metrics.h"
#include "telemetry.h"

/* True when an emitted event would be delivered: a subscriber is connected. */
bool telemetry_delivers(const struct telemetry *t);

/*
 * Count a call event that was not built, exactly as telemetry_emit() counts the built
 * one: "events" and, by `name`, the call counters ("call.start"; "call.end" with its
 * `outcome` and the sum of its legs' `drops`, NULL for none). The metrics the event
 * feeds go through telemetry_metrics_acc().
 */
void telemetry_count_unbuilt(struct telemetry *t, const char *name, const char *outcome,
                             const struct telemetry_drops *drops);
/* The accumulators behind telemetry_metrics(), to feed them. */
struct metrics_calls *telemetry_metrics_acc(struct telemetry *t);

#endif
