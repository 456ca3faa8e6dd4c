/*
 * test_control.c: the control socket (framing, dispatch, limits, mode) and sipwardenctl
 * run against real control and telemetry servers on a private event_base.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "telemetry.h"
#include "usock.h"
#include "tmpdir.h"

/* Peer text with terminal controls: clear screen, set title (OSC ... BEL), DEL, the C1
 * CSI (U+009B, UTF-8 C2 9B), a newline that would forge a line; and a harmless "é". */
#define HOSTILE "bob\033[2J\033]0;pwned\007\177\302\2331m\nX-Fake: 1\303\251"

static char dir[64], cpath[128], tpath[128];
static struct event_base *base;
static struct control *ctl;
static struct telemetry *tel;

static json_t *
stats_cb(const json_t *req, void *arg)
{
	return telemetry_counters(arg);
}

static json_t *
calls_cb(const json_t *req, void *arg)
{
	return json_pack("{s:[{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s},s:f,s:f,s:f}]}", "calls", "call",
	                 "5f0c2a9e41d7b3c8", "trunk", "pbx", "agent", "agent-1", "state",
	                 "answered", "duration_ms", (json_int_t)83000, "suites", "trunk",
	                 "AES_CM_128_HMAC_SHA1_80", "agent", "AEAD_AES_256_GCM", "loss", 0.004,
	                 "jitter_ms", 2.5, "mos", 4.31);
}

static json_t *
call_cb(const json_t *req, void *arg)
{
	const char *id = json_string_value(json_object_get(req, "id"));

	if (id != NULL && strcmp(id, "evil") == 0) /* a caller-controlled From */
		return json_pack("{s:{s:s,s:s}}", "call", "call", id, "from", HOSTILE);
	if (id != NULL && strcmp(id, "evil-error") == 0)
		return json_pack("{s:s}", "error", "no call " HOSTILE);
	if (id == NULL || strcmp(id, "5f0c2a9e41d7b3c8") != 0)
		return json_pack("{s:s}", "error", "no such call");
	return json_pack("{s:{s:s,s:s}}", "call", "call", id, "from", "4111 1111 1111 1111");
}

static json_t *
bad_cb(const json_t *req, void *arg)
{
	return NULL;
}

static void
setup(void)
{
	char err[256] = "";

	ck_assert_ptr_nonnull(tmpdir_mkdtemp(dir, sizeof(dir), "sw-ctl"));
	chmod(dir, 0755);
	snprintf(cpath, sizeof(cpath), "%s/control.sock", dir);
	snprintf(tpath, sizeof(tpath), "%s/telemetry.sock", dir);
	base = event_base_new();
	tel = telemetry_new(base, tpath, 0660, NULL, 0, err, sizeof(err));
	ck_assert_msg(tel != NULL, "%s", err);
	ctl = control_new(base, cpath, 0600, NULL, err, sizeof(err));
	ck_assert_msg(ctl != NULL, "%s", err);
	ck_assert_int_eq(control_register(ctl, "stats", stats_cb, tel), 0);
	ck_assert_int_eq(control_register(ctl, "calls", calls_cb, NULL), 0);
	ck_assert_int_eq(control_register(ctl, "call", call_cb, NULL), 0);
	ck_assert_int_eq(control_register(ctl, "broken", bad_cb, NULL), 0);
}

static void
teardown(void)
{
	control_free(ctl);
	telemetry_free(tel);
	event_base_free(base);
	rmdir(dir);
}

/* Send raw bytes, then collect what comes back until `lines` lines or EOF. */
static char *
exchange(int fd, const char *data, size_t len, int lines, bool *eof)
{
	static char buf[1 << 16];
	size_t got = 0;
	int nl = 0;

	*eof = false;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break; /* the server may close on us mid-request */
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	for (int i = 0; i < 3000 && nl < lines; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n > 0) {
			for (ssize_t k = 0; k < n; k++)
				nl += buf[got + (size_t)k] == '\n';
			got += (size_t)n;
			continue;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			*eof = true;
			break;
		}
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 1);
	}
	buf[got] = '\0';
	return buf;
}

static json_t *
ask(const char *req)
{
	int fd = usock_connect(cpath);
	bool eof;
	char *out;
	json_t *j;

	ck_assert_int_ge(fd, 0);
	out = exchange(fd, req, strlen(req), 1, &eof);
	close(fd);
	ck_assert_msg(strchr(out, '\n') != NULL, "no reply line to %s", req);
	ck_assert_ptr_null(strchr(out, '\n') + 1 == out + strlen(out) ? NULL : "two lines");
	j = json_loads(out, 0, NULL);
	ck_assert_msg(json_is_object(j), "reply not an object: %s", out);
	return j;
}

START_TEST(control_stats_answers_with_counters)
{
	json_t *r;

	ck_assert_int_eq(telemetry_call_start(tel, "c1", "pbx", "1", "2", NULL), 0);
	r = ask("{\"cmd\":\"stats\"}\n");
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(r, "calls"), "current")), 1);
	ck_assert_ptr_nonnull(json_object_get(r, "refusals"));
	ck_assert_ptr_nonnull(json_object_get(r, "drops"));
	ck_assert_ptr_nonnull(json_object_get(r, "tls_handshakes"));
	json_decref(r);
}
END_TEST

START_TEST(control_version_and_help_are_built_in)
{
	json_t *r = ask("{\"cmd\":\"version\"}\n");

	ck_assert_str_eq(json_string_value(json_object_get(r, "version")), SW_VERSION);
	json_decref(r);
	r = ask("{\"cmd\":\"help\"}\n");
	ck_assert_uint_ge(json_array_size(json_object_get(r, "commands")), 6);
	json_decref(r);
}
END_TEST

START_TEST(control_unknown_command_is_an_error_reply)
{
	json_t *r = ask("{\"cmd\":\"reboot\"}\n");

	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "unknown command");
	json_decref(r);
	r = ask("this is not json\n");
	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "bad request");
	json_decref(r);
	r = ask("{\"nocmd\":1}\n");
	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "bad request");
	json_decref(r);
	r = ask("{\"cmd\":\"broken\"}\n");
	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "internal error");
	json_decref(r);
}
END_TEST

START_TEST(control_call_takes_an_id_and_redacts_the_reply)
{
	json_t *r = ask("{\"cmd\":\"call\",\"id\":\"5f0c2a9e41d7b3c8\"}\n");
	char *s = json_dumps(r, 0);

	ck_assert_ptr_null(strstr(s, "4111"));
	ck_assert_ptr_nonnull(strstr(s, "5f0c2a9e41d7b3c8"));
	free(s);
	json_decref(r);
	r = ask("{\"cmd\":\"call\",\"id\":\"nope\"}\n");
	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "no such call");
	json_decref(r);
}
END_TEST

START_TEST(control_answers_pipelined_requests_in_order)
{
	const char req[] = "{\"cmd\":\"version\"}\n{\"cmd\":\"nope\"}\n{\"cmd\":\"calls\"}\n";
	int fd = usock_connect(cpath);
	bool eof;
	char *out = exchange(fd, req, sizeof(req) - 1, 3, &eof);
	char *l2 = strchr(out, '\n') + 1, *l3 = strchr(l2, '\n') + 1;

	ck_assert(strncmp(out, "{\"version\"", 10) == 0);
	ck_assert(strncmp(l2, "{\"error\":\"unknown command\"}\n", 28) == 0);
	ck_assert(strncmp(l3, "{\"calls\"", 8) == 0);
	ck_assert(!eof);
	close(fd);
}
END_TEST

START_TEST(control_oversized_request_is_refused_and_closed)
{
	size_t n = CONTROL_MAX_REQUEST * 4;
	char *big = malloc(n + 1);
	int fd = usock_connect(cpath);
	bool eof;
	char *out;

	memset(big, 'x', n);
	memcpy(big, "{\"cmd\":\"", 8);
	big[n] = '\0';
	out = exchange(fd, big, n, 2, &eof);
	ck_assert_str_eq(out, "{\"error\":\"request too large\"}\n");
	ck_assert(eof);
	/* Even with a newline, a line over the limit is refused. */
	close(fd);
	fd = usock_connect(cpath);
	big[CONTROL_MAX_REQUEST + 10] = '\n';
	out = exchange(fd, big, CONTROL_MAX_REQUEST + 11, 2, &eof);
	ck_assert_str_eq(out, "{\"error\":\"request too large\"}\n");
	ck_assert(eof);
	close(fd);
	free(big);
	/* The server is still fine. */
	json_t *r = ask("{\"cmd\":\"version\"}\n");
	ck_assert_ptr_nonnull(json_object_get(r, "version"));
	json_decref(r);
	for (int i = 0; i < 1000 && control_clients(ctl) > 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_uint_eq(control_clients(ctl), 0);
}
END_TEST

START_TEST(control_socket_is_0600_and_telemetry_0660)
{
	struct stat st;

	ck_assert_int_eq(stat(cpath, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(tpath, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
}
END_TEST

START_TEST(control_register_refuses_bad_names)
{
	ck_assert_int_eq(control_register(ctl, "", calls_cb, NULL), -EINVAL);
	ck_assert_int_eq(control_register(ctl, NULL, calls_cb, NULL), -EINVAL);
	ck_assert_int_eq(control_register(ctl, "x", NULL, NULL), -EINVAL);
	char longname[100];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[99] = '\0';
	ck_assert_int_eq(control_register(ctl, longname, calls_cb, NULL), -EINVAL);
}
END_TEST

/* ---- sipwardenctl against these servers --------------------------------------- */

struct run {
	char out[1 << 16], err[4096];
	size_t nout, nerr;
	int status;
};

typedef void (*tick_fn)(struct run *r, void *arg);

/* Run sipwardenctl with `args` (NULL-terminated), turning our event loop meanwhile. */
static void
run_ctl(struct run *r, const char *const *args, uid_t as_uid, tick_fn tick, void *arg)
{
	const char *exe = getenv("SW_SIPWARDENCTL");
	char *argv[16];
	int po[2], pe[2];
	pid_t pid;
	int n = 0, open_pipes = 2;
	time_t deadline = time(NULL) + 10;

	ck_assert_msg(exe != NULL, "SW_SIPWARDENCTL not set");
	memset(r, 0, sizeof(*r));
	argv[n++] = (char *)exe;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (as_uid != 0 && (setgid(as_uid) != 0 || setuid(as_uid) != 0))
			_exit(126);
		execv(exe, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	while (open_pipes > 0 && time(NULL) < deadline) {
		struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (tick != NULL)
			tick(r, arg);
		poll(p, 2, 2);
		for (int k = 0; k < 2; k++) {
			int fd = k ? pe[0] : po[0];
			char *b = k ? r->err : r->out;
			size_t *len = k ? &r->nerr : &r->nout;
			size_t cap = k ? sizeof(r->err) : sizeof(r->out);
			if (fd < 0)
				continue;
			ssize_t m = read(fd, b + *len, cap - 1 - *len);
			if (m > 0)
				*len += (size_t)m;
			else if (m == 0 || errno != EAGAIN) {
				close(fd);
				if (k)
					pe[0] = -1;
				else
					po[0] = -1;
				open_pipes--;
			}
		}
	}
	if (open_pipes > 0) {
		kill(pid, SIGKILL);
		if (po[0] >= 0)
			close(po[0]);
		if (pe[0] >= 0)
			close(pe[0]);
	}
	ck_assert_int_eq(waitpid(pid, &r->status, 0), pid);
	r->out[r->nout] = '\0';
	r->err[r->nerr] = '\0';
	ck_assert_msg(open_pipes == 0, "sipwardenctl did not finish: %s", r->err);
}

START_TEST(sipwardenctl_stats_and_calls_against_the_server)
{
	struct run *r = malloc(sizeof(*r));
	json_t *j;

	ck_assert_int_eq(telemetry_call_start(tel, "c1", "pbx", "1", "2", NULL), 0);
	run_ctl(r, (const char *const[]){"--control", cpath, "stats", "--json", NULL}, 0, NULL,
	        NULL);
	ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0, "%s", r->err);
	j = json_loads(r->out, 0, NULL);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(j, "calls"), "current")), 1);
	json_decref(j);

	run_ctl(r, (const char *const[]){"-c", cpath, "stats", NULL}, 0, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r->out, "calls.current  1\n"));

	run_ctl(r, (const char *const[]){"-c", cpath, "calls", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 0);
	ck_assert_ptr_nonnull(strstr(r->out, "5f0c2a9e41d7b3c8"));
	ck_assert_ptr_nonnull(strstr(r->out, "AES128/80/GCM256"));
	ck_assert_ptr_nonnull(strstr(r->out, "1:23"));
	ck_assert_ptr_nonnull(strstr(r->out, "4.31"));

	run_ctl(r, (const char *const[]){"-c", cpath, "top", "--once", NULL}, 0, NULL, NULL);
	ck_assert_msg(WEXITSTATUS(r->status) == 0, "%s", r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "1 call\n"));
	ck_assert_ptr_null(strchr(r->out, '\033')); /* not a TTY: no escapes */

	run_ctl(r, (const char *const[]){"-c", cpath, "show", "5f0c2a9e41d7b3c8", NULL}, 0, NULL,
	        NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 0);
	ck_assert_ptr_nonnull(strstr(r->out, "\"call\""));

	run_ctl(r, (const char *const[]){"-c", cpath, "show", "nope", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_ptr_nonnull(strstr(r->err, "no such call"));

	run_ctl(r, (const char *const[]){"-c", cpath, "agents", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1); /* not registered here */
	ck_assert_ptr_nonnull(strstr(r->err, "unknown command"));
	free(r);
}
END_TEST

struct events_state {
	int phase;
};

static void
events_tick(struct run *r, void *arg)
{
	struct events_state *s = arg;
	struct telemetry_stats st;

	if (tel == NULL)
		return;
	telemetry_stats(tel, &st);
	if (s->phase == 0 && st.subscribers == 1) {
		ck_assert_int_eq(
		        telemetry_call_start(tel, "c7", "pbx", "4111111111111111", "2000", NULL),
		        0);
		ck_assert_int_eq(telemetry_security(tel, TELEMETRY_SEC_LIMIT_REACHED, NULL, NULL,
		                                    "max_calls", NULL, 0),
		                 0);
		s->phase = 1;
	} else if (s->phase == 1 && st.queued_max == 0 && strstr(r->out, "max_calls")) {
		telemetry_free(tel); /* the stream ends: sipwardenctl exits */
		tel = NULL;
		s->phase = 2;
	}
}

START_TEST(sipwardenctl_events_follows_the_stream)
{
	struct run *r = malloc(sizeof(*r));
	struct events_state s = {0};

	run_ctl(r, (const char *const[]){"-s", tpath, "events", NULL}, 0, events_tick, &s);
	ck_assert_int_eq(s.phase, 2);
	ck_assert_ptr_nonnull(strstr(r->out, "call.start"));
	ck_assert_ptr_nonnull(strstr(r->out, "call=c7"));
	ck_assert_ptr_nonnull(strstr(r->out, "security.limit_reached"));
	ck_assert_ptr_null(strstr(r->out, "4111111111111111"));
	ck_assert_ptr_null(strchr(r->out, '\033'));
	ck_assert_ptr_nonnull(strstr(r->err, "closed"));
	free(r);
}
END_TEST

START_TEST(sipwardenctl_events_json_prints_raw_lines)
{
	struct run *r = malloc(sizeof(*r));
	struct events_state s = {0};
	char *nl;

	run_ctl(r, (const char *const[]){"--socket", tpath, "events", "--json", NULL}, 0,
	        events_tick, &s);
	nl = strchr(r->out, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	json_t *ev = json_loads(r->out, 0, NULL);
	ck_assert_int_eq(telemetry_validate(ev, NULL, 0), 0);
	json_decref(ev);
	free(r);
}
END_TEST

/* Nothing a terminal acts on: no C0 but newline, no DEL, no C1 (raw or UTF-8). */
static void
assert_no_controls(const char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		ck_assert_msg(c == '\n' || (c >= 0x20 && c != 0x7f && (c < 0x80 || c > 0x9f)),
		              "control byte 0x%02x at %zu in: %s", c, i, out);
		ck_assert_msg(!(c == 0xc2 && i + 1 < n && (unsigned char)out[i + 1] >= 0x80 &&
		                (unsigned char)out[i + 1] <= 0x9f),
		              "UTF-8 C1 control at %zu in: %s", i, out);
	}
}

static json_t *
hostile_agents_cb(const json_t *req, void *arg)
{
	return json_pack("{s:[{s:s,s:s,s:b,s:i}]}", "agents", "name", HOSTILE, "address", HOSTILE,
	                 "up", 1, "calls", 0);
}

struct hostile_state {
	int phase;
};

static void
hostile_tick(struct run *r, void *arg)
{
	struct hostile_state *s = arg;
	struct telemetry_stats st;

	if (tel == NULL)
		return;
	telemetry_stats(tel, &st);
	if (s->phase == 0 && st.subscribers == 1) {
		ck_assert_int_eq(telemetry_call_start(tel, "c9", "pbx", HOSTILE, "2000", NULL), 0);
		ck_assert_int_eq(telemetry_security(tel, TELEMETRY_SEC_OFFER_REFUSED, "c9", NULL,
		                                    "no_srtp", HOSTILE, 488),
		                 0);
		s->phase = 1;
	} else if (s->phase == 1 && st.queued_max == 0 && strstr(r->out, "no_srtp")) {
		telemetry_free(tel);
		tel = NULL;
		s->phase = 2;
	}
}

START_TEST(sipwardenctl_escapes_terminal_controls_in_peer_text)
{
	struct run *r = malloc(sizeof(*r));
	struct hostile_state s = {0};

	/* events: one line per event, escaped the stravis way */
	run_ctl(r, (const char *const[]){"-s", tpath, "events", NULL}, 0, hostile_tick, &s);
	ck_assert_int_eq(s.phase, 2);
	assert_no_controls(r->out, r->nout);
	ck_assert_msg(strstr(r->out,
	                     "from=bob\\x1b[2J\\x1b]0;pwned\\x07\\x7f\\xc2\\x9b1m\\nX-Fake: "
	                     "1\303\251") != NULL,
	              "%s", r->out);
	ck_assert_ptr_null(strstr(r->out, "\nX-Fake"));

	/* events --json: the raw lines stay JSON, with the controls as \u escapes */
	memset(&s, 0, sizeof(s));
	ck_assert_ptr_null(tel);
	char err[256];
	tel = telemetry_new(base, tpath, 0660, NULL, 0, err, sizeof(err));
	ck_assert_msg(tel != NULL, "%s", err);
	run_ctl(r, (const char *const[]){"-s", tpath, "events", "--json", NULL}, 0, hostile_tick,
	        &s);
	ck_assert_int_eq(s.phase, 2);
	assert_no_controls(r->out, r->nout);
	char *nl = strchr(r->out, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	json_t *ev = json_loads(r->out, 0, NULL);
	ck_assert_msg(ev != NULL, "%s", r->out);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "from")), HOSTILE);
	json_decref(ev);

	/* show (indented JSON), show --json, a refusal's text, agents (table) */
	run_ctl(r, (const char *const[]){"-c", cpath, "show", "evil", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 0);
	assert_no_controls(r->out, r->nout);
	ev = json_loads(r->out, 0, NULL); /* still JSON, and the same text */
	ck_assert_msg(ev != NULL, "%s", r->out);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "call"), "from")),
	                 HOSTILE);
	json_decref(ev);
	run_ctl(r, (const char *const[]){"-c", cpath, "show", "evil", "--json", NULL}, 0, NULL,
	        NULL);
	assert_no_controls(r->out, r->nout);
	run_ctl(r, (const char *const[]){"-c", cpath, "show", "evil-error", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	assert_no_controls(r->err, r->nerr);
	ck_assert_ptr_nonnull(strstr(r->err, "no call bob\\x1b[2J"));
	ck_assert_int_eq(control_register(ctl, "agents", hostile_agents_cb, NULL), 0);
	run_ctl(r, (const char *const[]){"-c", cpath, "agents", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 0);
	assert_no_controls(r->out, r->nout);
	ck_assert_ptr_nonnull(strstr(r->out, "bob\\x1b[2J"));
	free(r);
}
END_TEST

START_TEST(sipwardenctl_explains_missing_socket_and_permission)
{
	struct run *r = malloc(sizeof(*r));
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/none.sock", dir);
	run_ctl(r, (const char *const[]){"--control", missing, "stats", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_ptr_nonnull(strstr(r->err, "does not exist"));
	ck_assert_ptr_nonnull(strstr(r->err, missing));
	run_ctl(r, (const char *const[]){"-s", missing, "events", NULL}, 0, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r->err, "telemetry socket"));
	ck_assert_ptr_nonnull(strstr(r->err, "does not exist"));

	/* The 0600 control socket refuses another user. As root, run the client as nobody;
	 * as a normal user the socket is ours, so make it unreadable to us instead. */
	if (geteuid() == 0)
		run_ctl(r, (const char *const[]){"--control", cpath, "stats", NULL}, 65534, NULL,
		        NULL);
	else {
		chmod(cpath, 0);
		run_ctl(r, (const char *const[]){"--control", cpath, "stats", NULL}, 0, NULL, NULL);
		chmod(cpath, 0600);
	}
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "permission denied") != NULL, "%s", r->err);
	free(r);
}
END_TEST

START_TEST(sipwardenctl_help_for_each_command)
{
	static const char *cmds[] = {"calls",   "show",   "stats", "agents",
	                             "version", "events", "top"};
	struct run *r = malloc(sizeof(*r));

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_ctl(r, (const char *const[]){cmds[i], "--help", NULL}, 0, NULL, NULL);
		ck_assert_int_eq(WEXITSTATUS(r->status), 0);
		ck_assert_ptr_nonnull(strstr(r->out, "usage: sipwardenctl"));
		ck_assert_ptr_nonnull(strstr(r->out, cmds[i]));
	}
	run_ctl(r, (const char *const[]){"frobnicate", NULL}, 0, NULL, NULL);
	ck_assert_int_eq(WEXITSTATUS(r->status), 2);
	free(r);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("core");
	TCase *ctl_tc = tcase_create("sipwardenctl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, control_stats_answers_with_counters);
	tcase_add_test(tc, control_version_and_help_are_built_in);
	tcase_add_test(tc, control_unknown_command_is_an_error_reply);
	tcase_add_test(tc, control_call_takes_an_id_and_redacts_the_reply);
	tcase_add_test(tc, control_answers_pipelined_requests_in_order);
	tcase_add_test(tc, control_oversized_request_is_refused_and_closed);
	tcase_add_test(tc, control_socket_is_0600_and_telemetry_0660);
	tcase_add_test(tc, control_register_refuses_bad_names);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ctl_tc, setup, teardown);
	tcase_add_test(ctl_tc, sipwardenctl_stats_and_calls_against_the_server);
	tcase_add_test(ctl_tc, sipwardenctl_events_follows_the_stream);
	tcase_add_test(ctl_tc, sipwardenctl_events_json_prints_raw_lines);
	tcase_add_test(ctl_tc, sipwardenctl_escapes_terminal_controls_in_peer_text);
	tcase_add_test(ctl_tc, sipwardenctl_explains_missing_socket_and_permission);
	tcase_add_test(ctl_tc, sipwardenctl_help_for_each_command);
	suite_add_tcase(s, ctl_tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(control_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
