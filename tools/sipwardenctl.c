/*
 * sipwardenctl: the operator's client for sipwarden's control and telemetry sockets.
 *
 * Sends one JSON request per command to the control socket and prints the reply for
 * humans (or raw with --json); follows the telemetry stream ("events"); shows a live
 * table of current calls ("top"). Plain blocking I/O: it is a short-lived tool.
 * Not responsible for anything the daemon decides; it only asks and prints. Text from
 * sipwarden may come from a peer (a caller's From, a refusal's detail): every string is
 * shown through vis (lib/vis.c), so it cannot drive the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sipwardenctl.h"
#include "usock.h"
#include "vis.h"

#define DEFAULT_TELEMETRY "/run/sipwarden/telemetry.sock"
#define DEFAULT_CONTROL   "/run/sipwarden/control.sock"
#define REPLY_MAX         (16u << 20)
#define REPLY_TIMEOUT_MS  5000

/*
 * `s` escaped for a terminal (vis.h, C style). The result lives until eight more calls
 * have been made, enough for the strings of one printf.
 */
const char *
ctl_esc(const char *s)
{
	static char *ring[8];
	static unsigned next;
	char **slot = &ring[next++ % 8];

	free(*slot);
	*slot = vis_dup(s != NULL ? s : "", VIS_C);
	return *slot != NULL ? *slot : "?";
}

/* The first 200 bytes of s, escaped (to quote a reply in an error). */
static const char *
esc_200(const char *s)
{
	static char buf[VIS_MAX(200)];

	vis_encode(buf, s, strnlen(s, 200), VIS_C);
	return buf;
}

static const struct cmdhelp {
	const char *name, *args, *text;
} cmds[] = {
        {"calls", "", "List current calls: id, trunk, agent, state, duration, suites, quality."},
        {"show", "ID", "Everything sipwarden knows about one call (ID as in 'calls')."},
        {"stats", "",
         "Counters since start: calls by outcome, refusals by reason, drops by\n"
         "               reason, current calls, TLS handshakes, telemetry subscribers."},
        {"agents", "", "The agent pool: name, address, up/down, current calls."},
        {"version", "", "The daemon's version and telemetry schema version."},
        {"drain", "",
         "Take sipwarden out of service: new INVITEs get 503 (Retry-After), OPTIONS\n"
         "               get 503 (load balancers steer away), calls in progress go on.\n"
         "               --timeout D (90s, 10m, 2h): then end the calls left with BYE."},
        {"undrain", "", "Back in service: take new calls again."},
        {"reload", "",
         "Re-read the config file, as SIGHUP does. Says 'reloaded', or exits 1 with\n"
         "               why it was refused and which keys need a restart instead."},
        {"loglevel", "",
         "Show the log level; 'loglevel LEVEL' sets error, warn, info or debug\n"
         "               (until the next reload applies [general] log_level again)."},
        {"events", "",
         "Follow the telemetry stream (telemetry socket). One event per line:\n"
         "               readable, coloured on a terminal; --json prints the raw JSON lines."},
        {"top", "",
         "Live table of current calls (duration, agent, suites, loss, jitter, MOS),\n"
         "               refreshed every second. --once prints one table and exits."},
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: sipwardenctl [options] COMMAND [ARGS]\n\n"
	        "options:\n"
	        "  -c, --control PATH  control socket (default " DEFAULT_CONTROL ")\n"
	        "  -s, --socket PATH   telemetry socket, for 'events' (default " DEFAULT_TELEMETRY
	        ")\n"
	        "  -j, --json          print raw JSON replies / event lines\n"
	        "      --cluster       'calls' and 'stats' of every instance sharing this one's\n"
	        "                      Redis ([cluster]), as the registry holds them\n"
	        "      --no-color      never colour (also when NO_COLOR is set or not a TTY)\n"
	        "  -h, --help          this help; 'sipwardenctl COMMAND --help' for one command\n"
	        "  -V, --version       print sipwardenctl's version\n\n"
	        "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %-3s %s\n", cmds[i].name, cmds[i].args, cmds[i].text);
}

static int
cmd_usage(const char *name, FILE *f)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, name) == 0) {
			fprintf(f, "usage: sipwardenctl [options] %s%s%s%s\n\n  %s\n", name,
			        cmds[i].args[0] ? " " : "", cmds[i].args,
			        strcmp(name, "top") == 0        ? " [--once]"
			        : strcmp(name, "drain") == 0    ? " [--timeout D] [--json]"
			        : strcmp(name, "loglevel") == 0 ? " [LEVEL] [--json]"
			                                        : " [--json]",
			        cmds[i].text);
			return 0;
		}
	}
	return -1;
}

/* Connect, explaining the usual failures in words an operator can act on. */
static int
connect_or_explain(const char *path, const char *what, const char *flag)
{
	int fd = usock_connect(path);

	if (fd >= 0)
		return fd;
	switch (-fd) {
	case ENOENT:
		fprintf(stderr,
		        "sipwardenctl: %s socket %s does not exist (is sipwarden running, with the "
		        "socket enabled in its config? another path: %s PATH)\n",
		        what, path, flag);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
		        "sipwardenctl: permission denied on %s socket %s (run as the sipwarden "
		        "user "
		        "or root%s)\n",
		        what, path,
		        strcmp(what, "telemetry") == 0 ? ", or join the socket's group" : "");
		break;
	case ECONNREFUSED:
		fprintf(stderr,
		        "sipwardenctl: nobody is listening on %s socket %s (stale file: sipwarden "
		        "not running?)\n",
		        what, path);
		break;
	default:
		fprintf(stderr, "sipwardenctl: cannot connect to %s socket %s: %s\n", what, path,
		        strerror(-fd));
	}
	return -1;
}

/* Read one '\n'-terminated line from fd into a malloc'd string; NULL on EOF/timeout. */
static char *
read_reply(int fd, int timeout_ms)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf != NULL) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		char *nl;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		if (len + 1 >= cap) {
			char *nb = cap >= REPLY_MAX ? NULL : realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* Send `req` (borrowed) on an open control connection; returns the reply object or NULL. */
static json_t *
request_fd(int fd, json_t *req)
{
	char *line = json_dumps(req, JSON_COMPACT), *reply;
	json_t *j = NULL;
	size_t n;

	if (line == NULL)
		return NULL;
	n = strlen(line);
	line[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	if (write(fd, line, n + 1) != (ssize_t)(n + 1)) {
		fprintf(stderr, "sipwardenctl: cannot send request: %s\n", strerror(errno));
		free(line);
		return NULL;
	}
	free(line);
	if ((reply = read_reply(fd, REPLY_TIMEOUT_MS)) == NULL) {
		fprintf(stderr, "sipwardenctl: no reply from sipwarden\n");
		return NULL;
	}
	j = json_loads(reply, 0, NULL);
	if (!json_is_object(j)) {
		fprintf(stderr, "sipwardenctl: unreadable reply: %s\n", esc_200(reply));
		json_decref(j);
		j = NULL;
	}
	free(reply);
	return j;
}

json_t *
ctl_request(const struct ctl_opts *o, json_t *req)
{
	int fd = connect_or_explain(o->control, "control", "--control");
	json_t *j;

	if (fd < 0) {
		json_decref(req);
		return NULL;
	}
	j = request_fd(fd, req);
	json_decref(req);
	close(fd);
	return j;
}

/* ---- formatting -------------------------------------------------------------- */

void
ctl_fmt_duration(char *buf, size_t n, json_int_t ms)
{
	long s = (long)(ms / 1000);

	if (s >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
}

/* The string `v` escaped for a terminal, or `dflt`. */
const char *
ctl_str_or(const json_t *v, const char *dflt)
{
	const char *s = json_string_value(v);
	return s != NULL ? ctl_esc(s) : dflt;
}

/* Shorten an SRTP suite name for tables. */
static const char *
suite_short(const char *s)
{
	static const struct {
		const char *full, *brief;
	} map[] = {
	        {"AES_CM_128_HMAC_SHA1_80", "AES128/80"}, {"AES_CM_128_HMAC_SHA1_32", "AES128/32"},
	        {"AES_256_CM_HMAC_SHA1_80", "AES256/80"}, {"AES_256_CM_HMAC_SHA1_32", "AES256/32"},
	        {"AEAD_AES_128_GCM", "GCM128"},           {"AEAD_AES_256_GCM", "GCM256"},
	};
	for (size_t i = 0; s != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].full, s) == 0)
			return map[i].brief;
	return s != NULL ? s : "-";
}

static void
fmt_num(char *buf, size_t n, const json_t *v, int decimals, double scale)
{
	if (json_is_number(v))
		snprintf(buf, n, "%.*f", decimals, json_number_value(v) * scale);
	else
		snprintf(buf, n, "-");
}

static void
print_calls_table_w(const json_t *reply, int idw, FILE *f)
{
	const json_t *calls = json_object_get(reply, "calls"), *c;
	size_t i;

	fprintf(f, "%-*s %-12s %-12s %-9s %9s %-20s %6s %7s %4s\n", idw, "CALL", "TRUNK", "AGENT",
	        "STATE", "DURATION", "SUITES T/A", "LOSS%", "JIT.ms", "MOS");
	json_array_foreach(calls, i, c)
	{
		char dur[32], suites[48], loss[16], jit[16], mos[16];
		const json_t *s = json_object_get(c, "suites");

		ctl_fmt_duration(dur, sizeof(dur),
		                 json_integer_value(json_object_get(c, "duration_ms")));
		snprintf(suites, sizeof(suites), "%s/%s",
		         ctl_esc(suite_short(json_string_value(json_object_get(s, "trunk")))),
		         ctl_esc(suite_short(json_string_value(json_object_get(s, "agent")))));
		fmt_num(loss, sizeof(loss), json_object_get(c, "loss"), 2, 100.0);
		fmt_num(jit, sizeof(jit), json_object_get(c, "jitter_ms"), 1, 1.0);
		fmt_num(mos, sizeof(mos), json_object_get(c, "mos"), 2, 1.0);
		fprintf(f, "%-*.*s %-12.12s %-12.12s %-9.9s %9s %-20.20s %6s %7s %4s\n", idw, idw,
		        ctl_str_or(json_object_get(c, "call"), "?"),
		        ctl_str_or(json_object_get(c, "trunk"), "-"),
		        ctl_str_or(json_object_get(c, "agent"), "-"),
		        ctl_str_or(json_object_get(c, "state"), "-"), dur, suites, loss, jit, mos);
	}
}

/* `calls` shows whole ids (for `show`); `top` the first 16 digits. */
static void
print_calls_table(const json_t *reply, FILE *f)
{
	print_calls_table_w(reply, 32, f);
}

/* key=value for scalars, dotted keys for nested objects, nulls left out. */
void
ctl_print_flat(const json_t *j, const char *prefix, const char *lead, const char *sep,
               const char *end, FILE *f)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)j, key, v)
	{
		char name[256];

		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
		switch (json_typeof(v)) {
		case JSON_OBJECT:
			ctl_print_flat(v, name, lead, sep, end, f);
			break;
		case JSON_NULL:
			break;
		case JSON_STRING:
			fprintf(f, "%s%s%s%s%s", lead, ctl_esc(name), sep,
			        ctl_esc(json_string_value(v)), end);
			break;
		default: {
			char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
			                                JSON_REAL_PRECISION(4));
			char *e = s != NULL ? vis_dup(s, VIS_JSON) : NULL;
			fprintf(f, "%s%s%s%s%s", lead, ctl_esc(name), sep, e != NULL ? e : "?",
			        end);
			free(e);
			free(s);
		}
		}
	}
}

static void
print_event(const json_t *ev, bool color, FILE *f)
{
	const char *name = ctl_str_or(json_object_get(ev, "event"), "?");
	const char *ts = ctl_str_or(json_object_get(ev, "ts"), "");
	const char *col = "";
	const char *key;
	json_t *v;

	if (color) {
		if (strncmp(name, "security.", 9) == 0 || strcmp(name, "telemetry.dropped") == 0 ||
		    strcmp(name, "agent.down") == 0)
			col = "\033[1;31m";
		else if (strncmp(name, "call.", 5) == 0)
			col = "\033[1;32m";
		else
			col = "\033[1;33m";
	}
	/* The time of day is enough on a live stream; the date is in --json. */
	fprintf(f, "%.12s %s%-29s%s", strlen(ts) > 11 ? ts + 11 : ts, col, name,
	        color ? "\033[0m" : "");
	json_object_foreach((json_t *)ev, key, v)
	{
		if (strcmp(key, "v") == 0 || strcmp(key, "ts") == 0 || strcmp(key, "event") == 0)
			continue;
		if (json_is_object(v)) {
			ctl_print_flat(v, key, " ", "=", "", f);
			continue;
		}
		json_t *one = json_pack("{s:O}", key, v);
		ctl_print_flat(one, "", " ", "=", "", f);
		json_decref(one);
	}
	fputc('\n', f);
}

/* ---- commands ---------------------------------------------------------------- */

int
ctl_print_reply(const struct ctl_opts *o, json_t *reply, void (*human)(const json_t *, FILE *))
{
	const char *err;

	if (reply == NULL)
		return 1;
	if ((err = json_string_value(json_object_get(reply, "error"))) != NULL) {
		fprintf(stderr, "sipwardenctl: sipwarden says: %s\n", ctl_esc(err));
		json_decref(reply);
		return 1;
	}
	if (o->json || human == NULL) {
		/* the same JSON, with what a terminal acts on \u-escaped */
		char *d = json_dumps(reply, (o->json ? JSON_COMPACT : JSON_INDENT(2)) |
		                                    JSON_REAL_PRECISION(6));
		char *e = d != NULL ? vis_dup(d, VIS_JSON) : NULL;
		fputs(e != NULL ? e : "?", stdout);
		free(e);
		free(d);
		fputc('\n', stdout);
	} else {
		human(reply, stdout);
	}
	json_decref(reply);
	return 0;
}

static void
human_stats(const json_t *r, FILE *f)
{
	ctl_print_flat(r, "", "", "  ", "\n", f);
}

static void
human_version(const json_t *r, FILE *f)
{
	fprintf(f, "sipwarden %s (telemetry schema %lld), sipwardenctl %s\n",
	        ctl_str_or(json_object_get(r, "version"), "?"),
	        (long long)json_integer_value(json_object_get(r, "schema")), SW_VERSION);
}

static void
human_agents(const json_t *r, FILE *f)
{
	const json_t *a;
	size_t i;

	fprintf(f, "%-16s %-24s %-5s %6s\n", "AGENT", "ADDRESS", "STATE", "CALLS");
	json_array_foreach(json_object_get(r, "agents"), i, a)
	{
		const json_t *up = json_object_get(a, "up");
		fprintf(f, "%-16.16s %-24.24s %-5s %6lld\n",
		        ctl_str_or(json_object_get(a, "name"), "?"),
		        ctl_str_or(json_object_get(a, "address"), "-"),
		        json_is_true(up)    ? "up"
		        : json_is_false(up) ? "down"
		                            : "?",
		        (long long)json_integer_value(json_object_get(a, "calls")));
	}
}

static void
human_drain(const json_t *r, FILE *f)
{
	json_int_t n = json_integer_value(json_object_get(r, "calls"));
	const json_t *to = json_object_get(r, "timeout_ms");

	if (!json_is_true(json_object_get(r, "draining"))) {
		fprintf(f, "running: taking new calls (%lld call%s in progress)\n", (long long)n,
		        n == 1 ? "" : "s");
		return;
	}
	fprintf(f, "draining: new calls get 503, %lld call%s in progress go%s on", (long long)n,
	        n == 1 ? "" : "s", n == 1 ? "es" : "");
	if (json_is_integer(to))
		fprintf(f, " for up to %llds, then get BYE",
		        (long long)(json_integer_value(to) / 1000));
	fputs("\n", f);
}

static void
human_reload(const json_t *r, FILE *f)
{
	fprintf(f, "reloaded %s\n", ctl_str_or(json_object_get(r, "path"), "?"));
}

static void
human_loglevel(const json_t *r, FILE *f)
{
	const char *was = json_string_value(json_object_get(r, "was"));

	fprintf(f, "log level %s", ctl_str_or(json_object_get(r, "level"), "?"));
	if (was != NULL)
		fprintf(f, " (was %s)", ctl_esc(was));
	fputc('\n', f);
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static int
cmd_events(const struct ctl_opts *o)
{
	int fd = connect_or_explain(o->telemetry, "telemetry", "-s");
	char buf[65536];
	size_t len = 0;

	if (fd < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		char *nl, *start = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
			*nl = '\0';
			if (o->json) {
				/* still the same JSON, but what a terminal acts on is \u-escaped */
				char *line = vis_dup(start, VIS_JSON);
				printf("%s\n", line != NULL ? line : "");
				free(line);
			} else {
				json_t *ev = json_loads(start, 0, NULL);
				if (ev != NULL)
					print_event(ev, o->color, stdout);
				else
					printf("(unreadable) %s\n", ctl_esc(start));
				json_decref(ev);
			}
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == sizeof(buf))
			len = 0; /* a line longer than any event: skip it */
	}
	close(fd);
	if (!stop) {
		fprintf(stderr, "sipwardenctl: telemetry stream closed by sipwarden\n");
		return 1;
	}
	return 0;
}

static int
cmd_top(const struct ctl_opts *o)
{
	bool tty = isatty(STDOUT_FILENO);
	int fd = connect_or_explain(o->control, "control", "--control");

	if (fd < 0)
		return 1;
	while (!stop) {
		json_t *req = json_pack("{s:s}", "cmd", "calls");
		json_t *reply = request_fd(fd, req), *calls;
		char now[32];
		time_t t = time(NULL);
		struct tm tm;

		json_decref(req);
		if (reply == NULL) {
			close(fd);
			return 1;
		}
		if (json_object_get(reply, "error") != NULL) {
			fprintf(stderr, "sipwardenctl: sipwarden says: %s\n",
			        ctl_str_or(json_object_get(reply, "error"), "?"));
			json_decref(reply);
			close(fd);
			return 1;
		}
		calls = json_object_get(reply, "calls");
		strftime(now, sizeof(now), "%H:%M:%S", localtime_r(&t, &tm));
		if (tty && !o->once)
			fputs("\033[H\033[2J", stdout);
		printf("sipwarden top - %s - %zu call%s\n\n", now, json_array_size(calls),
		       json_array_size(calls) == 1 ? "" : "s");
		print_calls_table_w(reply, 16, stdout);
		fflush(stdout);
		json_decref(reply);
		if (o->once)
			break;
		sleep(1);
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"socket", required_argument, NULL, 's'}, {"control", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, 'j'},         {"no-color", no_argument, NULL, 'n'},
	        {"once", no_argument, NULL, 'o'},         {"timeout", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
	        {"cluster", no_argument, NULL, 'C'},      {NULL, 0, NULL, 0},
	};
	struct ctl_opts o = {DEFAULT_TELEMETRY, DEFAULT_CONTROL, false, true, false, NULL, false};
	bool help = false, no_color = false;
	const char *cmd = NULL, *arg = NULL;
	struct sigaction sa;
	int ch;

	/* Options may come before or after the command: permute, then take positionals. */
	while ((ch = getopt_long(argc, argv, "s:c:jhV", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.telemetry = optarg;
			break;
		case 'c':
			o.control = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'n':
			no_color = true;
			break;
		case 'o':
			o.once = true;
			break;
		case 't':
			o.timeout = optarg;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			printf("sipwardenctl %s\n", SW_VERSION);
			return 0;
		case 'C':
			o.cluster = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	if (help || cmd == NULL || strcmp(cmd, "help") == 0) {
		if (cmd != NULL && strcmp(cmd, "help") == 0 && arg != NULL)
			cmd = arg;
		if (cmd != NULL && strcmp(cmd, "help") != 0 && cmd_usage(cmd, stdout) == 0)
			return 0;
		usage(cmd == NULL && !help ? stderr : stdout);
		return cmd == NULL && !help ? 2 : 0;
	}
	o.color = !no_color && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (optind < argc ||
	    (arg != NULL && strcmp(cmd, "show") != 0 && strcmp(cmd, "loglevel") != 0)) {
		fprintf(stderr, "sipwardenctl: too many arguments for '%s'\n", cmd);
		cmd_usage(cmd, stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.cluster && strcmp(cmd, "calls") != 0 && strcmp(cmd, "stats") != 0) {
		fprintf(stderr, "sipwardenctl: --cluster goes with 'calls' and 'stats' only\n");
		return 2;
	}
	if (o.cluster)
		return ctl_cluster(&o, strcmp(cmd, "calls") == 0);
	if (strcmp(cmd, "calls") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "calls")),
		                       print_calls_table);
	if (strcmp(cmd, "show") == 0) {
		if (arg == NULL) {
			fprintf(stderr,
			        "sipwardenctl: show needs a call id (see 'sipwardenctl calls')\n");
			return 2;
		}
		return ctl_print_reply(
		        &o, ctl_request(&o, json_pack("{s:s,s:s}", "cmd", "call", "id", arg)),
		        NULL);
	}
	if (strcmp(cmd, "stats") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "stats")),
		                       human_stats);
	if (strcmp(cmd, "agents") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "agents")),
		                       human_agents);
	if (strcmp(cmd, "version") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "version")),
		                       human_version);
	if (o.timeout != NULL && strcmp(cmd, "drain") != 0) {
		fprintf(stderr, "sipwardenctl: --timeout goes with 'drain' only\n");
		return 2;
	}
	if (strcmp(cmd, "drain") == 0)
		return ctl_print_reply(
		        &o,
		        ctl_request(&o, o.timeout != NULL ? json_pack("{s:s,s:s}", "cmd", "drain",
		                                                      "timeout", o.timeout)
		                                          : json_pack("{s:s}", "cmd", "drain")),
		        human_drain);
	if (strcmp(cmd, "undrain") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "undrain")),
		                       human_drain);
	if (strcmp(cmd, "reload") == 0)
		return ctl_print_reply(&o, ctl_request(&o, json_pack("{s:s}", "cmd", "reload")),
		                       human_reload);
	if (strcmp(cmd, "loglevel") == 0)
		return ctl_print_reply(
		        &o,
		        ctl_request(&o, arg != NULL ? json_pack("{s:s,s:s}", "cmd", "loglevel",
		                                                "level", arg)
		                                    : json_pack("{s:s}", "cmd", "loglevel")),
		        human_loglevel);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(&o);
	if (strcmp(cmd, "top") == 0)
		return cmd_top(&o);
	fprintf(stderr, "sipwardenctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
