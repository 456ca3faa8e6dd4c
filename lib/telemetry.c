/*
 * telemetry.c: the telemetry socket server, subscriber fan-out and counters.
 *
 * Responsible for accepting subscribers on the daemon's event base, queueing each
 * serialised event once (shared, reference-counted bytes) on every subscriber's bounded
 * ring, writing the rings out with writev() when the socket is writable, the drop /
 * telemetry.dropped protocol, and the counters behind the control "stats" command.
 * Not responsible for the schema (telemetry_schema.c) or the typed builders
 * (telemetry_event.c).
 */
#include "telemetry.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"
#include "metrics.h"
#include "telemetry_int.h"
#include "usock.h"

#define TELEMETRY_IOV     64 /* events per writev() */
#define TELEMETRY_READS   4  /* discarded reads per wake-up */
#define TELEMETRY_REASONS 64 /* distinct reasons counted per kind, then "other" */

/* One serialised event, shared by every subscriber queue that holds it. */
struct blob {
	unsigned refs;
	size_t len;
	char data[];
};

/*
 * struct sub: one connected subscriber.
 * Owner: its struct telemetry (list); freed by sub_close() or telemetry_free().
 */
struct sub {
	struct telemetry *t;
	struct sub *next, **prevp;
	int fd;
	struct event *rev, *wev;
	struct blob **ring; /* queue_limit slots */
	size_t head, count; /* ring[head] is next to write */
	size_t off;         /* bytes of ring[head] already written */
	uint64_t dropped;   /* since it entered "dropping" */
	bool dropping;
};

/*
 * struct telemetry: the server. Owner: the daemon (telemetry_new/telemetry_free).
 */
struct telemetry {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *resume;  /* re-enables the listener after an accept error */
	struct event *interim; /* call.interim timer, or NULL */
	void (*interim_cb)(void *);
	void *interim_arg;
	char *path;
	char *instance; /* [cluster] instance name stamped on every event, or NULL */
	size_t queue_limit;
	struct sub *subs;
	unsigned nsubs;
	struct telemetry_stats st;
	struct timespec started_mono;
	char since[JSON_OUT_TS_LEN];
	/* counters */
	uint64_t calls_current, calls_started, tls_ok, tls_failed;
	struct telemetry_drops drops;
	json_t *by_outcome;          /* {"completed": n, ...} */
	json_t *refusals;            /* {"offer_refused": {"no_srtp": n}, ...} */
	struct metrics_calls mcalls; /* histograms and media totals for /metrics */
	char *scratch; /* TELEMETRY_MAX_EVENT bytes: an event is serialised here first */
};

static void
blob_unref(struct blob *b)
{
	if (--b->refs == 0)
		free(b);
}

static void
sub_close(struct sub *s)
{
	struct telemetry *t = s->t;

	*s->prevp = s->next;
	if (s->next != NULL)
		s->next->prevp = s->prevp;
	t->nsubs--;
	t->st.disconnected++;
	for (size_t i = 0; i < s->count; i++)
		blob_unref(s->ring[(s->head + i) % t->queue_limit]);
	event_free(s->rev);
	event_free(s->wev);
	close(s->fd);
	free(s->ring);
	free(s);
}

/* Queue `b` on `s` (taking a reference) unless the subscriber is dropping or full. */
static void
sub_push(struct sub *s, struct blob *b)
{
	struct telemetry *t = s->t;

	if (s->dropping || s->count == t->queue_limit) {
		s->dropping = true;
		s->dropped++;
		t->st.dropped++;
		return;
	}
	s->ring[(s->head + s->count) % t->queue_limit] = b;
	b->refs++;
	if (s->count++ == 0)
		event_add(s->wev, NULL);
}

/*
 * Stamp, redact, validate and serialise `event` (borrowed) into a new unshared blob.
 * Without `deliver` (nobody subscribed) it stops after validation: NULL with *rc 0.
 */
static struct blob *
blob_from_event(struct telemetry *t, json_t *event, bool deliver, int *rc)
{
	char ts[JSON_OUT_TS_LEN], err[128];
	struct blob *b = NULL;
	json_t *out;
	size_t len;

	/* v, ts and event first: a human reading the stream sees them at the start. */
	*rc = -ENOMEM;
	out = json_pack("{s:i,s:s,s:O?}", "v", TELEMETRY_SCHEMA_VERSION, "ts",
	                json_out_timestamp(ts, NULL), "event", json_object_get(event, "event"));
	if (out == NULL || json_object_update(out, event) < 0 ||
	    json_object_set_new(out, "v", json_integer(TELEMETRY_SCHEMA_VERSION)) < 0 ||
	    json_object_set_new(out, "ts", json_string(ts)) < 0 ||
	    (t->instance != NULL &&
	     json_object_set_new(out, "instance", json_string(t->instance)) < 0))
		goto done;
	if (telemetry_validate(out, err, sizeof(err)) < 0) { /* redaction keeps the types */
		*rc = -EINVAL;
		goto done;
	}
	if (!deliver) {
		*rc = 0;
		goto done;
	}
	json_out_redact(out);
	/* Serialised once into the reused scratch buffer, then copied into a blob of the
	 * right size: no growing string, no second copy to append the newline. */
	if (t->scratch == NULL && (t->scratch = malloc(TELEMETRY_MAX_EVENT)) == NULL)
		goto done;
	/* JSON_COMPACT never emits a raw newline: string newlines are escaped as \n. */
	len = json_dumpb(out, t->scratch, TELEMETRY_MAX_EVENT,
	                 JSON_COMPACT | JSON_REAL_PRECISION(6));
	if (len == 0)
		goto done;
	if (len + 1 > TELEMETRY_MAX_EVENT) { /* with its newline */
		*rc = -EMSGSIZE;
		goto done;
	}
	if ((b = malloc(sizeof(*b) + len + 1)) != NULL) {
		b->refs = 0;
		b->len = len + 1;
		memcpy(b->data, t->scratch, len);
		b->data[len] = '\n';
		*rc = 0;
	}
done:
	json_decref(out);
	return b;
}

/* The subscriber drained after dropping: tell it how many events it missed. */
static void
sub_send_dropped(struct sub *s)
{
	json_t *ev = json_pack("{s:s,s:I}", "event", "telemetry.dropped", "count",
	                       (json_int_t)s->dropped);
	struct blob *b;
	int rc;

	s->dropping = false;
	s->dropped = 0;
	if (ev == NULL)
		return;
	b = blob_from_event(s->t, ev, true, &rc);
	json_decref(ev);
	if (b == NULL)
		return;
	sub_push(s, b);
	if (b->refs == 0)
		free(b);
}

/*
 * Write as much of the subscriber's queue as one sendmsg() takes, without blocking.
 * Returns the bytes written, 0 when the socket is full (or nothing is queued), -1 on a
 * hard error (the caller closes the subscriber).
 */
static ssize_t
sub_write(struct sub *s)
{
	size_t limit = s->t->queue_limit;
	struct iovec iov[TELEMETRY_IOV];
	ssize_t n, written;
	int niov = 0;

	for (size_t i = 0; i < s->count && niov < TELEMETRY_IOV; i++) {
		struct blob *b = s->ring[(s->head + i) % limit];
		size_t skip = i == 0 ? s->off : 0;
		iov[niov].iov_base = b->data + skip;
		iov[niov].iov_len = b->len - skip;
		niov++;
	}
	if (niov == 0)
		return 0;
	/* sendmsg, not writev: MSG_NOSIGNAL keeps a vanished subscriber from raising SIGPIPE. */
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
	n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	written = n;
	while (n > 0 && s->count > 0) {
		struct blob *b = s->ring[s->head];
		size_t left = b->len - s->off;
		if ((size_t)n < left) {
			s->off += (size_t)n;
			break;
		}
		n -= (ssize_t)left;
		s->off = 0;
		s->head = (s->head + 1) % limit;
		s->count--;
		blob_unref(b);
	}
	return written;
}

static void
telemetry_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sub *s = arg;

	if (sub_write(s) < 0) {
		sub_close(s); /* EPIPE, ECONNRESET, ... */
		return;
	}
	if (s->count == 0) {
		event_del(s->wev);
		if (s->dropping)
			sub_send_dropped(s);
	}
}

/* Subscribers never talk to us: discard input, close on EOF or error. */
static void
telemetry_read_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[512];

	for (int i = 0; i < TELEMETRY_READS; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		sub_close(arg);
		return;
	}
}

static void
telemetry_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                    void *arg)
{
	struct telemetry *t = arg;
	struct sub *s;

	if (t->nsubs >= TELEMETRY_MAX_SUBSCRIBERS || (s = calloc(1, sizeof(*s))) == NULL) {
		t->st.disconnected++;
		close(fd);
		return;
	}
	s->t = t;
	s->fd = fd;
	s->ring = calloc(t->queue_limit, sizeof(*s->ring));
	s->rev = event_new(t->base, fd, EV_READ | EV_PERSIST, telemetry_read_cb, s);
	s->wev = event_new(t->base, fd, EV_WRITE | EV_PERSIST, telemetry_write_cb, s);
	if (s->ring == NULL || s->rev == NULL || s->wev == NULL || event_add(s->rev, NULL) < 0) {
		if (s->rev != NULL)
			event_free(s->rev);
		if (s->wev != NULL)
			event_free(s->wev);
		free(s->ring);
		free(s);
		t->st.disconnected++;
		close(fd);
		return;
	}
	s->next = t->subs;
	if (t->subs != NULL)
		t->subs->prevp = &s->next;
	s->prevp = &t->subs;
	t->subs = s;
	t->nsubs++;
}

static void
telemetry_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct telemetry *t = arg;

	evconnlistener_enable(t->listener);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS): pause a second rather than spin. */
static void
telemetry_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct telemetry *t = arg;
	struct timeval pause = {1, 0};

	evconnlistener_disable(l);
	event_add(t->resume, &pause);
}

struct telemetry *
telemetry_new(struct event_base *base, const char *path, unsigned mode, const char *group,
              unsigned queue_limit, char *err, size_t errlen)
{
	struct telemetry *t;
	int fd;

	if (queue_limit > TELEMETRY_MAX_QUEUE) {
		snprintf(err, errlen, "telemetry queue limit %u above %u", queue_limit,
		         TELEMETRY_MAX_QUEUE);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->base = base;
	t->queue_limit = queue_limit ? queue_limit : TELEMETRY_DEFAULT_QUEUE;
	t->st.queue_limit = t->queue_limit;
	clock_gettime(CLOCK_MONOTONIC, &t->started_mono);
	json_out_timestamp(t->since, NULL);
	t->by_outcome = json_object();
	t->refusals = json_object();
	metrics_calls_init(&t->mcalls);
	if (t->by_outcome == NULL || t->refusals == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (path == NULL)
		return t;
	if ((fd = usock_listen(path, (mode_t)mode, group, err, errlen)) < 0)
		goto fail;
	if ((t->path = strdup(path)) == NULL) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->listener = evconnlistener_new(base, telemetry_accept_cb, t,
	                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (t->listener == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: cannot listen on event base", path);
		goto fail;
	}
	evconnlistener_set_error_cb(t->listener, telemetry_accept_error_cb);
	if ((t->resume = evtimer_new(base, telemetry_accept_resume_cb, t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return t;
fail:
	telemetry_free(t);
	return NULL;
}

void
telemetry_free(struct telemetry *t)
{
	if (t == NULL)
		return;
	/* Last words (daemon.stop) are only queued: hand subscribers what their sockets
	 * take now, without blocking, before closing them. */
	for (struct sub *s = t->subs; s != NULL; s = s->next)
		while (s->count > 0 && sub_write(s) > 0)
			;
	while (t->subs != NULL)
		sub_close(t->subs);
	if (t->interim != NULL)
		event_free(t->interim);
	if (t->resume != NULL)
		event_free(t->resume);
	if (t->listener != NULL)
		evconnlistener_free(t->listener);
	if (t->path != NULL) {
		unlink(t->path);
		free(t->path);
	}
	free(t->instance);
	free(t->scratch);
	json_decref(t->by_outcome);
	json_decref(t->refusals);
	free(t);
}

int
telemetry_set_instance(struct telemetry *t, const char *name)
{
	char *copy = NULL;

	if (t == NULL)
		return 0;
	if (name != NULL && (copy = strdup(name)) == NULL)
		return -ENOMEM;
	free(t->instance);
	t->instance = copy;
	return 0;
}

static void
count_key(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL && json_object_size(obj) >= TELEMETRY_REASONS)
		v = json_object_get(obj, key = "other");
	if (v == NULL)
		json_object_set_new(obj, key, json_integer(1));
	else
		json_integer_set(v, json_integer_value(v) + 1);
}

static uint64_t
get_u64(const json_t *o, const char *path0, const char *path1, const char *key)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(o, path0), path1), key);
	json_int_t n = json_integer_value(v);

	return n > 0 ? (uint64_t)n : 0;
}

/* The drops of every leg and direction of a call.end, summed into `sum`. */
static void
sum_drops(struct telemetry_drops *sum, const json_t *legs)
{
	const char *leg;
	json_t *l;

	json_object_foreach((json_t *)legs, leg, l)
	{
		for (int d = 0; d < 2 && json_is_object(l); d++) {
			const char *dir = d ? "out" : "in";
			sum->auth += get_u64(l, dir, "drops", "auth");
			sum->replay += get_u64(l, dir, "drops", "replay");
			sum->plaintext += get_u64(l, dir, "drops", "plaintext");
			sum->unknown_source += get_u64(l, dir, "drops", "unknown_source");
			sum->ssrc_limit += get_u64(l, dir, "drops", "ssrc_limit");
			sum->malformed += get_u64(l, dir, "drops", "malformed");
			sum->other += get_u64(l, dir, "drops", "other");
		}
	}
}

/* The call counters of a call.start or call.end, built or not. */
static void
count_call(struct telemetry *t, const char *name, const char *outcome,
           const struct telemetry_drops *d)
{
	if (strcmp(name, "call.start") == 0) {
		t->calls_current++;
		t->calls_started++;
	} else if (strcmp(name, "call.end") == 0) {
		if (t->calls_current > 0)
			t->calls_current--;
		count_key(t->by_outcome, outcome);
		if (d != NULL) {
			t->drops.auth += d->auth;
			t->drops.replay += d->replay;
			t->drops.plaintext += d->plaintext;
			t->drops.unknown_source += d->unknown_source;
			t->drops.ssrc_limit += d->ssrc_limit;
			t->drops.malformed += d->malformed;
			t->drops.other += d->other;
		}
	}
}

/* Update the counters from an event that passed validation. */
static void
telemetry_account(struct telemetry *t, const json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));

	metrics_calls_observe(&t->mcalls, ev);
	if (strcmp(name, "call.end") == 0) {
		struct telemetry_drops sum = {0};
		sum_drops(&sum, json_object_get(ev, "legs"));
		count_call(t, name, json_string_value(json_object_get(ev, "outcome")), &sum);
	} else if (strncmp(name, "call.", 5) == 0) {
		count_call(t, name, NULL, NULL);
	} else if (strncmp(name, "security.", 9) == 0) {
		json_t *kind = json_object_get(t->refusals, name + 9);
		if (kind == NULL) {
			kind = json_object();
			json_object_set_new(t->refusals, name + 9, kind);
		}
		if (kind != NULL)
			count_key(kind, json_string_value(json_object_get(ev, "reason")));
		if (strcmp(name, "security.tls_handshake_failed") == 0)
			t->tls_failed++;
	}
}

int
telemetry_emit(struct telemetry *t, json_t *event)
{
	struct blob *b;
	int rc;

	if (event == NULL)
		return -ENOMEM;
	if (t == NULL) {
		json_decref(event);
		return 0;
	}
	if (!json_is_object(event)) {
		json_decref(event);
		t->st.invalid++;
		return -EINVAL;
	}
	/* With no subscriber nothing is redacted or serialised: the event is only checked
	 * and counted (the size limit is a limit on what is delivered). */
	b = blob_from_event(t, event, t->subs != NULL, &rc);
	if (rc != 0) {
		if (rc == -EINVAL)
			t->st.invalid++;
		json_decref(event);
		return rc;
	}
	t->st.events++;
	telemetry_account(t, event);
	json_decref(event);
	if (b == NULL)
		return 0;
	for (struct sub *s = t->subs; s != NULL; s = s->next)
		sub_push(s, b);
	if (b->refs == 0)
		free(b);
	return 0;
}

bool
telemetry_delivers(const struct telemetry *t)
{
	return t != NULL && t->subs != NULL;
}

void
telemetry_count_unbuilt(struct telemetry *t, const char *name, const char *outcome,
                        const struct telemetry_drops *drops)
{
	t->st.events++;
	count_call(t, name, outcome, drops);
}

struct metrics_calls *
telemetry_metrics_acc(struct telemetry *t)
{
	return &t->mcalls;
}

void
telemetry_stats(const struct telemetry *t, struct telemetry_stats *out)
{
	*out = t->st;
	out->subscribers = t->nsubs;
	out->queued_max = 0;
	for (const struct sub *s = t->subs; s != NULL; s = s->next) {
		if (s->count > out->queued_max)
			out->queued_max = s->count;
	}
}

static void
telemetry_interim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct telemetry *t = arg;

	t->interim_cb(t->interim_arg);
}

int
telemetry_set_interim(struct telemetry *t, unsigned seconds, void (*cb)(void *arg), void *arg)
{
	struct timeval tv = {(time_t)seconds, 0};

	if (t->interim != NULL) {
		event_free(t->interim);
		t->interim = NULL;
	}
	if (seconds == 0 || cb == NULL)
		return 0;
	t->interim_cb = cb;
	t->interim_arg = arg;
	t->interim = event_new(t->base, -1, EV_PERSIST, telemetry_interim_cb, t);
	if (t->interim == NULL || event_add(t->interim, &tv) < 0)
		return -ENOMEM;
	return 0;
}

const struct metrics_calls *
telemetry_metrics(const struct telemetry *t)
{
	return t != NULL ? &t->mcalls : NULL;
}

void
telemetry_tls_handshake_ok(struct telemetry *t)
{
	if (t != NULL)
		t->tls_ok++;
}

json_t *
telemetry_counters(const struct telemetry *t)
{
	struct telemetry_stats st;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	telemetry_stats(t, &st);
	return json_pack(
	        "{s:s,s:I,s:{s:I,s:I,s:o},s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},s:{s:i,s:"
	        "I,"
	        "s:I,s:I}}",
	        "since", t->since, "uptime_s", (json_int_t)(now.tv_sec - t->started_mono.tv_sec),
	        "calls", "current", (json_int_t)t->calls_current, "started",
	        (json_int_t)t->calls_started, "by_outcome", json_deep_copy(t->by_outcome),
	        "refusals", json_deep_copy(t->refusals), "drops", "auth", (json_int_t)t->drops.auth,
	        "replay", (json_int_t)t->drops.replay, "plaintext", (json_int_t)t->drops.plaintext,
	        "unknown_source", (json_int_t)t->drops.unknown_source, "ssrc_limit",
	        (json_int_t)t->drops.ssrc_limit, "malformed", (json_int_t)t->drops.malformed,
	        "other", (json_int_t)t->drops.other, "tls_handshakes", "ok", (json_int_t)t->tls_ok,
	        "failed", (json_int_t)t->tls_failed, "telemetry", "subscribers",
	        (int)st.subscribers, "events", (json_int_t)st.events, "dropped",
	        (json_int_t)st.dropped, "invalid", (json_int_t)st.invalid);
}
