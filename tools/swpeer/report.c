/*
 * report.c: swpeer's per-call result lines and the final summary, as text or JSON.
 *
 * One line per call on stdout, flushed at once so a test can read results as calls end:
 * a human line, or with --json one JSON object (jansson) with the fields documented in
 * --help. Only hashes of keys appear, never keys. Not responsible for deciding pass or
 * fail (call.c). A load run (--rate) writes its lines out in batches instead: when
 * REPORT_BATCH_MS passed since the last write, and with the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "swpeer.h"

#define REPORT_BATCH_MS 100

/* --rate: whether the lines printed so far are due to be written (one write() per
 * REPORT_BATCH_MS instead of one per call: a call's only system call that is not SIP or
 * media) */
static bool
report_flush_due(void)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 <
	    REPORT_BATCH_MS)
		return false;
	last = now;
	return true;
}

static const char *
role_name(enum role r)
{
	return r == ROLE_CALLER ? "caller" : "callee";
}

/* Print one call's result line. */
void
report_call(const struct opts *o, const struct call_result *r)
{
	const struct media_stats *s = &r->st;

	if (o->json) {
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
	if (!o->rate || report_flush_due())
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
