/*
 * json_out.c: timestamps, redaction and line framing for outgoing JSON. Pure functions;
 * no I/O and no state.
 */
#include "json_out.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

/* This thread's last second formatted ("YYYY-MM-DDTHH:MM:SS"): gmtime_r and strftime run
 * once a second, not once per event. */
static _Thread_local struct {
	time_t sec;
	bool valid;
	char text[20];
} ts_cache;

char *
json_out_timestamp(char *buf, const struct timespec *ts)
{
	struct timespec now;
	struct tm tm;
	unsigned ms;

	if (ts == NULL) {
		clock_gettime(CLOCK_REALTIME, &now);
		ts = &now;
	}
	if (!ts_cache.valid || ts_cache.sec != ts->tv_sec) {
		gmtime_r(&ts->tv_sec, &tm);
		/* strftime gives "YYYY-MM-DDTHH:MM:SS" (19 bytes for years 0..9999). */
		if (strftime(ts_cache.text, sizeof(ts_cache.text), "%Y-%m-%dT%H:%M:%S", &tm) !=
		    19) {
			ts_cache.valid = false;
			snprintf(buf, JSON_OUT_TS_LEN, "1970-01-01T00:00:00.000Z");
			return buf;
		}
		ts_cache.sec = ts->tv_sec;
		ts_cache.valid = true;
	}
	ms = (unsigned)((unsigned long)ts->tv_nsec / 1000000u) % 1000u;
	memcpy(buf, ts_cache.text, 19);
	snprintf(buf + 19, JSON_OUT_TS_LEN - 19, ".%03uZ", ms);
	return buf;
}

int
json_out_is_timestamp(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (s == NULL || strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	}
	return 1;
}

size_t
json_out_redact(json_t *j)
{
	size_t masked = 0, i;
	const char *key;
	json_t *v;
	void *tmp;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach_safe(j, tmp, key, v) masked += json_out_redact(v);
		break;
	case JSON_ARRAY:
		json_array_foreach(j, i, v) masked += json_out_redact(v);
		break;
	case JSON_STRING: {
		/* most strings are short (ids, addresses, reasons): masked in a copy on the
		 * stack, and only a longer one costs an allocation */
		char small[256], *copy = small;
		size_t len = json_string_length(j), n;

		if (len >= sizeof(small) && (copy = malloc(len + 1)) == NULL)
			break;
		memcpy(copy, json_string_value(j), len + 1);
		n = redact_str(copy, len);
		if (n > 0)
			json_string_setn(j, copy, len);
		masked += n;
		if (copy != small)
			free(copy);
		break;
	}
	default:
		break;
	}
	return masked;
}

char *
json_out_line(const json_t *j, size_t *len)
{
	char *s, *line;
	size_t n;

	/* JSON_COMPACT never emits a raw newline: string newlines are escaped as \n. */
	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	if (s == NULL)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

char *
json_out_hex(char *out, const unsigned char *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}
