/*
 * log.c: format, redact and write operator messages (stderr, the journal's stream, or
 * syslog), and summarise repeated refusals per source in a fixed table.
 * Not thread-hot: the media plane does not log per packet.
 */
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "monotime.h"
#include "redact.h"

static enum log_level cur_level = LOG_LVL_INFO;
static bool use_syslog;
static const char *log_ident = "sipwarden";
static void (*log_sink)(enum log_level, const char *, void *);
static void *log_sink_arg;
static bool log_journal; /* stderr is the journal's stream: "<N>" prefixes, no time */

static const char *const level_tags[] = {"error", "warn", "info", "debug"};

bool
log_journal_stream(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (journal_stream == NULL ||
	    sscanf(journal_stream, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    journal_stream[end] != '\0' || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_set_journal(bool on)
{
	log_journal = on;
}

size_t
log_format_line(char *buf, size_t len, bool journal, const char *ident, enum log_level level,
                const char *msg, const struct timespec *now)
{
	/* sd-daemon(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
	static const int prio[] = {3, 4, 6, 7};
	size_t n = 0;
	int head;

	if (len < 2)
		return 0;
	if (journal) {
		head = snprintf(buf, len, "<%d>", prio[level]);
	} else {
		struct tm tm;
		char when[32];

		gmtime_r(&now->tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		head = snprintf(buf, len, "%s.%03ldZ %s %s: ", when, now->tv_nsec / 1000000, ident,
		                level_tags[level]);
	}
	if (head > 0)
		n = (size_t)head < len - 1 ? (size_t)head : len - 2;
	/* one message, one line: a CR or LF in it cannot start a line of its own (a forged
	 * "<3>" or timestamp) */
	for (const char *p = msg; *p != '\0' && n < len - 2; p++)
		buf[n++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

void
log_init(const char *ident, enum log_level level, bool to_syslog)
{
	log_ident = ident;
	cur_level = level;
	log_journal = log_journal_stream(getenv("JOURNAL_STREAM"), STDERR_FILENO);
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
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[2048], line[2200];
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
	if (use_syslog) {
		syslog(prio[level], "%s", msg);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		log_format_line(line, sizeof(line), log_journal, log_ident, level, msg, &ts);
		fputs(line, stderr);
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

/* ---- refusals, summarised per source ------------------------------------------------- */

/* One followed source: its window and what was counted in it. Fixed size, no pointers. */
struct sum_slot {
	char src[INET6_ADDRSTRLEN]; /* "" when free */
	int64_t since;              /* start of the window (monotonic ms) */
	unsigned more;              /* refusals after the first in this window */
	unsigned other;             /* ... whose reason found no place in reasons[] */
	struct {
		char name[32];
		unsigned n;
	} reasons[LOG_SUM_REASONS];
};

/* The table, and the refusals of sources that found no slot (all slots in a window). */
static struct sum_slot sum_slots[LOG_SUM_SOURCES];
static struct sum_slot sum_overflow;

void
log_refusal_reset(void)
{
	memset(sum_slots, 0, sizeof(sum_slots));
	memset(&sum_overflow, 0, sizeof(sum_overflow));
}

static void
sum_count(struct sum_slot *s, const char *reason)
{
	size_t i;

	s->more++;
	for (i = 0; i < LOG_SUM_REASONS && s->reasons[i].name[0] != '\0'; i++)
		if (strcmp(s->reasons[i].name, reason) == 0)
			break;
	if (i == LOG_SUM_REASONS || strlen(reason) >= sizeof(s->reasons[i].name)) {
		s->other++;
		return;
	}
	if (s->reasons[i].name[0] == '\0')
		memcpy(s->reasons[i].name, reason, strlen(reason) + 1);
	s->reasons[i].n++;
}

/* The summary line of a window with refusals after its first, then the window is reset. */
static void
sum_emit(struct sum_slot *s, int64_t now_ms, const char *who, const char *src)
{
	char why[256];
	size_t used = 0;
	long secs = (long)((now_ms - s->since) / 1000);

	why[0] = '\0';
	for (size_t i = 0; i < LOG_SUM_REASONS && s->reasons[i].name[0] != '\0'; i++) {
		int n = snprintf(why + used, sizeof(why) - used, "%s%s %u", used ? ", " : "",
		                 s->reasons[i].name, s->reasons[i].n);
		if (n < 0 || (size_t)n >= sizeof(why) - used)
			break;
		used += (size_t)n;
	}
	if (s->other > 0 && used < sizeof(why))
		snprintf(why + used, sizeof(why) - used, "%sother %u", used ? ", " : "", s->other);
	log_info("%s%s: %u more refusal%s in the last %lds (%s)", who, src, s->more,
	         s->more == 1 ? "" : "s", secs, why);
	s->more = s->other = 0;
	memset(s->reasons, 0, sizeof(s->reasons));
}

void
log_refusal_flush_at(int64_t now_ms)
{
	for (size_t i = 0; i < LOG_SUM_SOURCES; i++) {
		struct sum_slot *s = &sum_slots[i];

		if (s->src[0] == '\0' || now_ms - s->since < LOG_SUM_WINDOW_MS)
			continue;
		if (s->more > 0)
			sum_emit(s, now_ms, "source ", s->src);
		s->src[0] = '\0'; /* quiet for a window: the next refusal is logged again */
	}
	if (sum_overflow.more > 0 && now_ms - sum_overflow.since >= LOG_SUM_WINDOW_MS)
		sum_emit(&sum_overflow, now_ms, "sources not followed (table full)", "");
}

void
log_refusal_flush(void)
{
	log_refusal_flush_at(monotime_ms());
}

static void
sum_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/*
 * Whether this refusal is the first from its source in a window (then the caller logs
 * it); otherwise it is counted for the summary. Windows that ended are flushed first, so
 * their slots are free again.
 */
static bool
sum_note(int64_t now_ms, const struct sockaddr *source, const char *reason)
{
	char src[INET6_ADDRSTRLEN];
	struct sum_slot *free_slot = NULL;

	log_refusal_flush_at(now_ms);
	sum_addr(source, src, sizeof(src));
	for (size_t i = 0; i < LOG_SUM_SOURCES; i++) {
		struct sum_slot *s = &sum_slots[i];

		if (s->src[0] == '\0') {
			if (free_slot == NULL)
				free_slot = s;
		} else if (strcmp(s->src, src) == 0) {
			sum_count(s, reason);
			return false;
		}
	}
	if (free_slot == NULL) {
		/* every slot holds a source inside its window: count it with the others */
		if (sum_overflow.more == 0)
			sum_overflow.since = now_ms;
		sum_count(&sum_overflow, reason);
		return false;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->src, src, strlen(src) + 1);
	free_slot->since = now_ms;
	return true;
}

static void log_vrefusal(int64_t now_ms, const struct sockaddr *source, const char *reason,
                         const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
log_vrefusal(int64_t now_ms, const struct sockaddr *source, const char *reason, const char *fmt,
             va_list ap)
{
	if (cur_level < LOG_LVL_INFO)
		return;
	if (sum_note(now_ms, source, reason != NULL ? reason : "?"))
		log_vemit(LOG_LVL_INFO, 0, fmt, ap);
}

void
log_refusal_at(int64_t now_ms, const struct sockaddr *source, const char *reason, const char *fmt,
               ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrefusal(now_ms, source, reason, fmt, ap);
	va_end(ap);
}

void
log_refusal(const struct sockaddr *source, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrefusal(monotime_ms(), source, reason, fmt, ap);
	va_end(ap);
}
