/*
 * metrics_http.h: the Prometheus scrape endpoint, GET /metrics over plain HTTP
 * (libevent evhttp on the daemon's event base). See metrics_http.c.
 */
#ifndef SW_METRICS_HTTP_H
#define SW_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "control.h"

struct event_base;
struct telemetry;
struct metrics_http;

/*
 * Listen on `listen` and answer GET /metrics with lib/metrics.c's exposition of
 * `stats(NULL, arg)` (the control "stats" reply), `agents(NULL, arg)` and `tel`'s
 * histograms, plus this process's open files and RSS. Other paths get 404, other
 * methods on /metrics 405. Returns the server or NULL with a message in `err`.
 * Owner: the caller; free with metrics_http_free() (NULL is fine). `tel` and `arg` are
 * borrowed and must outlive the server.
 */
struct metrics_http *metrics_http_start(struct event_base *base, const struct conf_sockaddr *listen,
                                        control_cb stats, control_cb agents, struct telemetry *tel,
                                        void *arg, char *err, size_t errlen);
void metrics_http_free(struct metrics_http *m);

#endif
