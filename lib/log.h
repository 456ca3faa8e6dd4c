/*
 * log.h: sipwarden's one way to say something to the operator.
 *
 * Messages go to stderr and, when asked, to syslog. Every message passes through
 * redact_str() (redact.h) before it is written, so SDES keys, Authorization values and
 * card-number-like digit runs never reach a log. Not for the packet path: the media
 * plane counts and rate-limits instead of logging per packet.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>
#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* Start logging as `ident` at `level`; to syslog (LOG_DAEMON) as well when `syslog` is true. */
void log_init(const char *ident, enum log_level level, bool syslog);
void log_setlevel(enum log_level level);
enum log_level log_getlevel(void);

/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

/*
 * Send every formatted, redacted line to `sink` instead of stderr (tests use this to
 * capture output); NULL restores stderr.
 */
void log_set_sink(void (*sink)(enum log_level, const char *line, void *arg), void *arg);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn)); /* + strerror */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
