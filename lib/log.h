/*
 * log.h: sipwarden's one way to say something to the operator.
 *
 * Messages go to stderr and, when asked, to syslog. Every message passes through
 * redact_str() (redact.h) before it is written, so SDES keys, Authorization values and
 * card-number-like digit runs never reach a log. One message is one line: CR and LF in it
 * are written as spaces. On a terminal or a file a line carries a UTC timestamp, the ident
 * and the level; under systemd (JOURNAL_STREAM names stderr) it carries the sd-daemon
 * priority prefix ("<6>") instead and journald adds the time. Refusals go through
 * log_refusal(), which logs the first from a source and summarises the rest. Not for the
 * packet path: the media plane counts and rate-limits instead of logging per packet.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

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

/*
 * Whether `journal_stream` (the value of $JOURNAL_STREAM, "DEV:INODE", or NULL) names the
 * file open on `fd`: then systemd connected it to the journal. log_init() asks this for
 * stderr and writes priority prefixes when it is.
 */
bool log_journal_stream(const char *journal_stream, int fd);
/* Force the journal format on or off (tests; log_init() decides otherwise). */
void log_set_journal(bool on);

/*
 * One output line for `msg` into buf (NUL-terminated, ends in '\n', truncated to fit):
 * "<6>msg" for the journal, else "2026-11-28T04:16:19.145Z ident info: msg" with the
 * time `now`. CR and LF inside msg become spaces. Returns the length written.
 */
size_t log_format_line(char *buf, size_t len, bool journal, const char *ident, enum log_level level,
                       const char *msg, const struct timespec *now);

/*
 * Repeated refusals, summarised per source. The first refusal from `source` (an address;
 * its port is ignored) within a window of LOG_SUM_WINDOW_MS is logged at info as
 * formatted; later ones in that window are only counted, by `reason` (a stable token such
 * as "source_not_allowed"), and come out as one line when the window ends:
 * "source 192.0.2.7: 41 more refusals in the last 10s (source_not_allowed 40, max_calls 1)".
 * At most LOG_SUM_SOURCES sources are followed at once (fixed memory); refusals from
 * sources beyond them are counted together and summarised the same way. Nothing is
 * counted while the level is below info. Signalling thread only.
 */
#define LOG_SUM_SOURCES   64
#define LOG_SUM_WINDOW_MS 10000
#define LOG_SUM_REASONS   4 /* reasons named per source; more are "other" */
void log_refusal(const struct sockaddr *source, const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Write the summaries of windows that have ended (the daemon calls it from a timer). */
void log_refusal_flush(void);
/* The same at monotonic time `now_ms` (tests). */
void log_refusal_at(int64_t now_ms, const struct sockaddr *source, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_refusal_flush_at(int64_t now_ms);
/* Forget every source and count (tests). */
void log_refusal_reset(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn)); /* + strerror */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
