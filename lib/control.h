/*
 * control.h: the control socket, request/response commands for the operator.
 *
 * A Unix stream socket (mode 0600 by default) where each request is one line of JSON,
 * {"cmd":"stats"} or {"cmd":"call","id":"..."}, and each reply is one line of JSON: an
 * object, {"error":"..."} on failure. The daemon registers one handler per command;
 * "version" and "help" are built in (a registration overrides them). Requests longer than
 * CONTROL_MAX_REQUEST bytes get {"error":"request too large"} and the connection is
 * closed. Every string in a reply passes through redact_str().
 *
 * Replies are written by libevent (writev): the daemon must ignore SIGPIPE, as any
 * libevent server must, or a client that hangs up early would kill it.
 *
 * Runs on the daemon's event_base. Not responsible for what the commands report (the
 * daemon's handlers, with telemetry_counters() for "stats").
 */
#ifndef SW_CONTROL_H
#define SW_CONTROL_H

#include <jansson.h>
#include <stddef.h>

struct event_base;

#define CONTROL_MAX_REQUEST  4096       /* bytes of one request line */
#define CONTROL_MAX_CLIENTS  16         /* more connections are closed at accept */
#define CONTROL_MAX_PENDING  (4u << 20) /* unread reply bytes before a client is closed */
#define CONTROL_IDLE_TIMEOUT 300        /* seconds without a request */

struct control;

/*
 * Handler for one command. `request` is the parsed request object (borrowed, includes
 * "cmd"). Returns a new JSON object (the reply; ownership passes to control), or NULL
 * for {"error":"internal error"}.
 */
typedef json_t *(*control_cb)(const json_t *request, void *arg);

/*
 * Listen on `path` (mode `mode`, group `group` or NULL) on `base`. Returns the server or
 * NULL with a message in `err` naming the path, or the group if it is unknown.
 * Owner: the caller; control_free() closes clients and removes the socket file.
 */
struct control *control_new(struct event_base *base, const char *path, unsigned mode,
                            const char *group, char *err, size_t errlen);
void control_free(struct control *c);

/*
 * Route requests whose "cmd" equals `cmd` (copied) to `cb(request, arg)`; registering a
 * name again replaces the handler. Returns 0, -EINVAL (empty or over 63 bytes) or -ENOMEM.
 */
int control_register(struct control *c, const char *cmd, control_cb cb, void *arg);

/*
 * One request line (without its LF) -> the reply object a client would get (new
 * reference; NULL means "internal error"), before redaction. What the socket does with
 * each line; also the fuzzing entry point.
 */
json_t *control_request(struct control *c, const char *line, size_t len);

/* Number of connected clients (for tests and stats). */
unsigned control_clients(const struct control *c);

#endif
