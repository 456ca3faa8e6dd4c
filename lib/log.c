/*
 * log.c: format, redact and write operator messages (stderr and optionally syslog).
 * Not thread-hot: the media plane does not log per packet.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "redact.h"

static enum log_level cur_level = LOG_LVL_INFO;
static bool use_syslog;
static const char *log_ident = "sipwarden";
static void (*log_sink)(enum log_level, const char *, void *);
static void *log_sink_arg;

void
log_init(const char *ident, enum log_level level, bool to_syslog)
{
	log_ident = ident;
	cur_level = level;
	if (use_syslog && !to_syslog)
		closelog();
	use_syslog = to_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(enum log_level level)
{
	cur_level = level;
}

enum log_level
log_getlevel(void)
{
	return cur_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
log_set_sink(void (*sink)(enum log_level, const char *, void *), void *arg)
{
	log_sink = sink;
	log_sink_arg = arg;
}

static void log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void
log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const char *tags[] = {"error", "warn", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[2048];
	int n;

	if (level > cur_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (errnum != 0)
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	redact_str(msg, strlen(msg));

	if (log_sink != NULL) {
		log_sink(level, msg, log_sink_arg);
		return;
	}
	if (use_syslog)
		syslog(prio[level], "%s", msg);
	else {
		struct timespec ts;
		struct tm tm;
		char when[32];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000, log_ident,
			tags[level], msg);
	}
}

#define LOG_BODY(level, errnum)                                                                    \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vemit(level, errnum, fmt, ap);                                                 \
		va_end(ap);                                                                        \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LVL_WARN, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, 0);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LVL_ERROR, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}
