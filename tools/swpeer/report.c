/*
 * report.c: swpeer's per-call result lines and the final summary, as text or JSON.
 *
 * One line per call on stdout, flushed at once so a test can read results as calls end:
 * a human line, or with --json one JSON object with the fields documented in --help
 * (printed directly when every string is printable ASCII, else through jansson, the same
 * bytes either way). Only hashes of keys appear, never keys. Not responsible for deciding pass or
 * fail (call.c).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "swpeer.h"

static const char *
role_name(enum role r)
{
	return r == ROLE_CALLER ? "caller" : "callee";
}

/* A line being built by the JSON fast path. */
struct line {
	char buf[2048];
	size_t len;
	bool ok; /* false: a string was not plain ASCII, or the line did not fit */
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!l->ok)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(l->buf) - l->len)
		l->ok = false;
	else
		l->len += (size_t)n;
}

/* ,"key":"value" with '"' and '\\' escaped as jansson does; anything but printable
 * ASCII sends the caller back to jansson (which checks UTF-8 and escapes the rest). */
static void
put_str(struct line *l, const char *key, const char *v)
{
	put(l, ",\"%s\":\"", key);
	for (const char *c = v; l->ok && *c != '\0'; c++) {
		if (*c < 0x20 || *c > 0x7e)
			l->ok = false;
		else if (*c == '"' || *c == '\\')
			put(l, "\\%c", *c);
		else if (l->len + 1 < sizeof(l->buf))
			l->buf[l->len++] = *c;
		else
			l->ok = false;
	}
	put(l, "\"");
}

static void
put_int(struct line *l, const char *key, long long v)
{
	put(l, ",\"%s\":%lld", key, v);
}

/*
 * The --json result line without building a jansson tree (the load generator prints one
 * per call): the same fields in the same order, byte for byte what json_dumps() gives
 * with JSON_COMPACT. false if a string needs jansson's handling (not printable ASCII).
 */
static bool
report_json_fast(const struct opts *o, const struct call_result *r)
{
	const struct media_stats *s = &r->st;
	struct line l = {.len = 0, .ok = true};

	put(&l, "{\"call\":%lld", (long long)r->num);
	put_str(&l, "role", role_name(r->role));
	put_int(&l, "code", r->code);
	put_str(&l, "reason", r->reason);
	if (r->warning[0])
		put_str(&l, "warning", r->warning);
	put_int(&l, "setup_ms", r->setup_ms);
	put_int(&l, "setup_us", r->setup_us);
	put_str(&l, "suite", r->suite);
	put_str(&l, "local_key_hash", r->lhash[0] ? r->lhash : "-");
	put_str(&l, "remote_key_hash", r->rhash[0] ? r->rhash : "-");
	put_int(&l, "sent", (long long)s->sent);
	put_int(&l, "received", (long long)s->recv);
	put_int(&l, "ok", (long long)s->ok);
	put_int(&l, "bad", (long long)s->bad);
	put_int(&l, "missing", (long long)s->missing);
	put_int(&l, "auth_fail", (long long)s->auth_fail);
	put_int(&l, "replay", (long long)s->replay);
	put_int(&l, "duplicate", (long long)s->dup);
	put_int(&l, "rtcp", (long long)s->rtcp);
	if (o->dtmf >= 0) {
		put_int(&l, "dtmf_sent", (long long)s->dtmf_sent);
		put_int(&l, "dtmf_received", (long long)s->dtmf_recv);
	}
	if (o->rtcp_sdes) {
		put_int(&l, "sdes_items", (long long)s->sdes_items);
		put_int(&l, "sdes_foreign", (long long)s->sdes_foreign);
		put_str(&l, "sdes_cname", s->sdes_cname);
	}
	put_int(&l, "reinvites", r->reinvites);
	put_int(&l, "reinvite_code", r->reinvite_code);
	put_int(&l, "rekeys", r->rekeys);
	put_int(&l, "refer_code", r->refer_code);
	put_int(&l, "notify_code", r->notify_code);
	put_int(&l, "notifies", r->notifies);
	put_int(&l, "refers", r->refers);
	if (r->refer_to[0])
		put_str(&l, "refer_to", r->refer_to);
	put_str(&l, "ended_by", r->ended_by == 'l' ? "local" : r->ended_by == 'r' ? "remote" : "-");
	put_str(&l, "result", r->pass ? "pass" : "fail");
	if (r->why[0])
		put_str(&l, "why", r->why);
	put(&l, "}\n");
	if (!l.ok)
		return false;
	fwrite(l.buf, 1, l.len, stdout);
	return true;
}

/* Print one call's result line. */
void
report_call(const struct opts *o, const struct call_result *r)
{
	const struct media_stats *s = &r->st;

	if (o->json && report_json_fast(o, r)) {
		/* printed */
	} else if (o->json) {
		json_t *j = json_object();
		char *txt;

		json_object_set_new(j, "call", json_integer(r->num));
		json_object_set_new(j, "role", json_string(role_name(r->role)));
		json_object_set_new(j, "code", json_integer(r->code));
		json_object_set_new(j, "reason", json_string(r->reason));
		if (r->warning[0])
			json_object_set_new(j, "warning", json_string(r->warning));
		json_object_set_new(j, "setup_ms", json_integer(r->setup_ms));
		json_object_set_new(j, "setup_us", json_integer(r->setup_us));
		json_object_set_new(j, "suite", json_string(r->suite));
		json_object_set_new(j, "local_key_hash", json_string(r->lhash[0] ? r->lhash : "-"));
		json_object_set_new(j, "remote_key_hash",
		                    json_string(r->rhash[0] ? r->rhash : "-"));
		json_object_set_new(j, "sent", json_integer((json_int_t)s->sent));
		json_object_set_new(j, "received", json_integer((json_int_t)s->recv));
		json_object_set_new(j, "ok", json_integer((json_int_t)s->ok));
		json_object_set_new(j, "bad", json_integer((json_int_t)s->bad));
		json_object_set_new(j, "missing", json_integer((json_int_t)s->missing));
		json_object_set_new(j, "auth_fail", json_integer((json_int_t)s->auth_fail));
		json_object_set_new(j, "replay", json_integer((json_int_t)s->replay));
		json_object_set_new(j, "duplicate", json_integer((json_int_t)s->dup));
		json_object_set_new(j, "rtcp", json_integer((json_int_t)s->rtcp));
		if (o->dtmf >= 0) {
			json_object_set_new(j, "dtmf_sent", json_integer((json_int_t)s->dtmf_sent));
			json_object_set_new(j, "dtmf_received",
			                    json_integer((json_int_t)s->dtmf_recv));
		}
		if (o->rtcp_sdes) {
			json_object_set_new(j, "sdes_items",
			                    json_integer((json_int_t)s->sdes_items));
			json_object_set_new(j, "sdes_foreign",
			                    json_integer((json_int_t)s->sdes_foreign));
			json_object_set_new(j, "sdes_cname", json_string(s->sdes_cname));
		}
		json_object_set_new(j, "reinvites", json_integer(r->reinvites));
		json_object_set_new(j, "reinvite_code", json_integer(r->reinvite_code));
		json_object_set_new(j, "rekeys", json_integer(r->rekeys));
		json_object_set_new(j, "refer_code", json_integer(r->refer_code));
		json_object_set_new(j, "notify_code", json_integer(r->notify_code));
		json_object_set_new(j, "notifies", json_integer(r->notifies));
		json_object_set_new(j, "refers", json_integer(r->refers));
		if (r->refer_to[0])
			json_object_set_new(j, "refer_to", json_string(r->refer_to));
		json_object_set_new(j, "ended_by",
		                    json_string(r->ended_by == 'l'   ? "local"
		                                : r->ended_by == 'r' ? "remote"
		                                                     : "-"));
		json_object_set_new(j, "result", json_string(r->pass ? "pass" : "fail"));
		if (r->why[0])
			json_object_set_new(j, "why", json_string(r->why));
		txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (txt)
			printf("%s\n", txt);
		free(txt);
		json_decref(j);
	} else {
		printf("call %u %s: %d %s%s%s%s setup %ld ms, sent %llu recv %llu ok %llu bad %llu "
		       "missing %llu auth_fail %llu replay %llu, suite %s, key %s/%s: %s%s%s\n",
		       r->num, role_name(r->role), r->code, r->reason,
		       r->warning[0] ? " (Warning: " : "", r->warning, r->warning[0] ? ")" : "",
		       r->setup_ms, (unsigned long long)s->sent, (unsigned long long)s->recv,
		       (unsigned long long)s->ok, (unsigned long long)s->bad,
		       (unsigned long long)s->missing, (unsigned long long)s->auth_fail,
		       (unsigned long long)s->replay, r->suite, r->lhash[0] ? r->lhash : "-",
		       r->rhash[0] ? r->rhash : "-", r->pass ? "PASS" : "FAIL",
		       r->why[0] ? " - " : "", r->why);
	}
	fflush(stdout);
}

/* Print the summary line: calls planned, finished, passed, failed. */
void
report_summary(const struct opts *o, const struct peer *p)
{
	unsigned planned = o->role == ROLE_CALLER ? o->calls : p->started;
	unsigned failed = p->failed + (planned > p->finished ? planned - p->finished : 0);

	if (o->json && o->rate) /* start_span_ms: first to last call start, for the real rate */
		printf("{\"summary\":true,\"role\":\"%s\",\"calls\":%u,\"finished\":%u,\"passed\":%"
		       "u,\"failed\":%u,\"rate\":%u,\"started\":%u,\"start_span_ms\":%ld}\n",
		       role_name(o->role), planned, p->finished, p->passed, failed, o->rate,
		       p->started,
		       (long)((p->t_last.tv_sec - p->t_rate0.tv_sec) * 1000 +
		              (p->t_last.tv_nsec - p->t_rate0.tv_nsec) / 1000000));
	else if (o->json)
		printf("{\"summary\":true,\"role\":\"%s\",\"calls\":%u,\"finished\":%u,\"passed\":%"
		       "u,"
		       "\"failed\":%u}\n",
		       role_name(o->role), planned, p->finished, p->passed, failed);
	else
		printf("summary %s: %u calls, %u finished, %u passed, %u failed\n",
		       role_name(o->role), planned, p->finished, p->passed, failed);
	fflush(stdout);
}
