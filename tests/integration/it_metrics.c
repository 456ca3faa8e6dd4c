/*
 * it_metrics: the Prometheus endpoint of a real daemon ([metrics] listen).
 *
 * A scrape taken while a real SRTP call runs shows it in progress (calls current 1, the
 * agent's call); one taken after it ended shows 1 call started, 1 completed, none in
 * progress, one set-up time and MOS observations in the histograms, relayed packets and
 * the process figures. Both scrapes pass `promtool check metrics` when promtool (Debian
 * `prometheus`) is installed. Other paths get 404, other methods 405 with Allow: GET.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"

#define T_CALL_MS 30000
#define HTTP_CAP  (1 << 20)

static char metrics_ip[32];
static uint16_t metrics_port;

/* [metrics] on a random 127.x.y.z of our own (the daemon's address is picked later). */
static const char *
metrics_conf(char *buf, size_t cap)
{
	unsigned r = (unsigned)getpid() ^ (unsigned)itest_now_ms();

	snprintf(metrics_ip, sizeof(metrics_ip), "127.%u.%u.%u", 100 + r % 100, (r >> 8) % 250,
	         2 + (r >> 16) % 250);
	metrics_port = (uint16_t)(itest_port() + 1);
	snprintf(buf, cap, "[metrics]\nlisten = %s:%u\n", metrics_ip, metrics_port);
	return buf;
}

/*
 * One HTTP/1.0 request; the whole response (headers and body) into a malloc'd string.
 * Returns the status code, -1 on error or timeout.
 */
static int
http(const char *method, const char *target, char **resp)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(metrics_port)};
	char req[256], *buf = malloc(HTTP_CAP);
	int64_t deadline = itest_now_ms() + 5000;
	size_t len = 0;
	int fd, code = -1;

	ck_assert_ptr_nonnull(buf);
	*resp = buf;
	buf[0] = '\0';
	inet_pton(AF_INET, metrics_ip, &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\n\r\n", method, target,
	         metrics_ip);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - itest_now_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(fd, buf + len, HTTP_CAP - 1 - len);
		if (n <= 0) {
			buf[len] = '\0';
			if (n == 0 && sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
				code = -1;
			break;
		}
		len += (size_t)n;
		ck_assert_uint_lt(len, HTTP_CAP - 1);
	}
	close(fd);
	buf[len] = '\0';
	return code;
}

/* GET /metrics: 200 and the body (malloc'd). */
static char *
scrape(void)
{
	char *resp, *body;
	int code = http("GET", "/metrics", &resp);

	ck_assert_msg(code == 200, "GET /metrics: %d %s", code, resp);
	ck_assert_msg(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL,
	              "no exposition content type: %.300s", resp);
	body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body = strdup(body + 4);
	free(resp);
	return body;
}

/* The value of the sample line that starts with `series ` (exact series), or -1. */
static double
value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

#define ck_value(text, series, cmp, x)                                                             \
	do {                                                                                       \
		double v_ = value(text, series);                                                   \
		ck_assert_msg(v_ cmp(x), "%s = %g, expected " #cmp " %g", series, v_,              \
		              (double)(x));                                                        \
	} while (0)

/* promtool check metrics on `text`, when promtool is installed. */
static void
promtool_check(const struct itest *t, const char *text, const char *name)
{
	char path[256], out[256], cmd[700];
	FILE *f;
	int rc;

	itest_path(t, name, path, sizeof(path));
	itest_path(t, "promtool.out", out, sizeof(out));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
	         "command -v promtool >/dev/null || exit 77; promtool check metrics < '%s'", path);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	rc = itest_wait_child(itest_spawn(argv, out, out), 30000);
	if (rc == 77) {
		fprintf(stderr, "it_metrics: promtool not installed, %s not linted\n", name);
		return;
	}
	if (rc != 0) {
		size_t len;
		char *o = itest_read_file(out, &len);
		ck_abort_msg("promtool check metrics %s: exit %d: %s", name, rc, o ? o : "");
	}
}

START_TEST(metrics_scrape_during_and_after_a_real_call)
{
	const char *agent_args[] = {"--mode", "echo", "--calls", "1", "--timeout", "40", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "3", NULL};
	struct itest_opts o = {0};
	struct itest t;
	char extra[128], *during = NULL, *after;
	json_t *caller;
	pid_t ap, cp;
	int64_t deadline;

	o.extra = metrics_conf(extra, sizeof(extra));
	itest_start(&t, &o);
	after = scrape(); /* before any call */
	ck_value(after, "sipwarden_calls_started_total", ==, 0);
	ck_value(after, "sipwarden_call_setup_seconds_count", ==, 0);
	free(after);

	ap = itest_agent(&t, agent_args);
	cp = itest_caller_spawn(&t, "caller.json", call_args);
	deadline = itest_now_ms() + 10000;
	do {
		free(during);
		during = scrape();
		if (value(during, "sipwarden_call_setup_seconds_count") == 1)
			break;
		usleep(50 * 1000); /* polling a state, not racing a timer */
	} while (itest_now_ms() < deadline);
	ck_value(during, "sipwarden_call_setup_seconds_count", ==, 1);
	ck_value(during, "sipwarden_calls_current", ==, 1);
	ck_value(during, "sipwarden_calls_started_total", ==, 1);
	ck_value(during, "sipwarden_agent_up{agent=\"itest\"}", ==, 1);
	ck_value(during, "sipwarden_agent_calls{agent=\"itest\"}", ==, 1);
	ck_value(during, "sipwarden_calls_ended_total{outcome=\"completed\"}", ==, 0);
	/* overload admission's view: the call answered, nothing shed, all admitted */
	ck_value(during, "sipwarden_calls_in_setup", ==, 0);
	ck_value(during, "sipwarden_overload_shed_total", ==, 0);
	ck_value(during, "sipwarden_overload_admit_ratio", ==, 1);
	promtool_check(&t, during, "during.prom");
	free(during);

	ck_assert_int_eq(itest_wait_child(cp, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	caller = itest_result(&t, "caller.json");
	ck_assert_int_eq(itest_num(caller, "code"), 200);
	itest_wait_no_calls(&t, 10000);

	after = scrape();
	ck_value(after, "sipwarden_calls_current", ==, 0);
	ck_value(after, "sipwarden_calls_started_total", ==, 1);
	ck_value(after, "sipwarden_calls_ended_total{outcome=\"completed\"}", ==, 1);
	ck_value(after, "sipwarden_calls_ended_total{outcome=\"failed\"}", ==, 0);
	ck_value(after, "sipwarden_call_setup_seconds_count", ==, 1);
	ck_value(after, "sipwarden_call_setup_seconds_bucket{le=\"+Inf\"}", ==, 1);
	ck_value(after, "sipwarden_call_setup_seconds_sum", >, 0);
	ck_value(after, "sipwarden_call_setup_seconds_sum", <, 8);
	/* media flowed both ways on both legs: the "in" directions measured loss and MOS */
	ck_value(after, "sipwarden_media_mos_count{leg=\"trunk\"}", >=, 1);
	ck_value(after, "sipwarden_media_mos_count{leg=\"agent\"}", >=, 1);
	ck_value(after, "sipwarden_media_mos_bucket{leg=\"trunk\",le=\"+Inf\"}", >=, 1);
	ck_value(after, "sipwarden_media_loss_ratio_count{leg=\"trunk\"}", >=, 1);
	ck_value(after, "sipwarden_media_packets_total{leg=\"trunk\",direction=\"in\"}", >=,
	         itest_num(caller, "sent") - 5);
	ck_value(after, "sipwarden_media_bytes_total{leg=\"agent\",direction=\"in\"}", >, 0);
	ck_value(after, "sipwarden_media_dropped_packets_total{reason=\"auth\"}", ==, 0);
	ck_value(after, "sipwarden_agent_calls{agent=\"itest\"}", ==, 0);
	ck_value(after, "sipwarden_agent_calls_total{agent=\"itest\"}", ==, 1);
	ck_value(after, "sipwarden_tls_handshakes_total{result=\"ok\"}", >=, 2);
	ck_value(after, "sipwarden_tls_handshakes_total{result=\"failed\"}", ==, 0);
	ck_value(after, "process_open_fds", >, 3);
	ck_value(after, "process_resident_memory_bytes", >, 1 << 20);
	promtool_check(&t, after, "after.prom");
	free(after);
	json_decref(caller);
	itest_stop(&t);
}
END_TEST

START_TEST(metrics_only_get_on_metrics_is_served)
{
	struct itest_opts o = {0};
	struct itest t;
	char extra[128], *resp;

	o.extra = metrics_conf(extra, sizeof(extra));
	itest_start(&t, &o);
	ck_assert_int_eq(http("GET", "/", &resp), 404);
	free(resp);
	ck_assert_int_eq(http("GET", "/metrics/../secret", &resp), 404);
	free(resp);
	ck_assert_int_eq(http("GET", "/metricsx", &resp), 404);
	free(resp);
	ck_assert_int_eq(http("POST", "/metrics", &resp), 405);
	ck_assert_msg(strstr(resp, "Allow: GET\r\n") != NULL, "no Allow header: %.300s", resp);
	free(resp);
	ck_assert_int_eq(http("DELETE", "/metrics", &resp), 405);
	free(resp);
	ck_assert_int_eq(http("GET", "/metrics?name[]=x", &resp), 200);
	free(resp);
	ck_assert(itest_alive(&t));
	itest_stop(&t);
}
END_TEST

/* The listener is bound at start: a reload that moves it is refused by name and the
 * old endpoint keeps answering; a reload that keeps it is applied. */
START_TEST(metrics_reload_that_moves_the_listener_is_refused)
{
	struct itest_opts o = {.log_file = true};
	struct itest t;
	char extra[128], moved[128], *body;

	o.extra = metrics_conf(extra, sizeof(extra));
	itest_start(&t, &o);
	snprintf(moved, sizeof(moved), "[metrics]\nlisten = %s:%u\n", metrics_ip,
	         (unsigned)metrics_port + 2);
	o.extra = moved;
	itest_write_conf(&t, &o);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	ck_assert(itest_file_has(&t, "daemon.log",
	                         "reload refused, keeping current config: [metrics] listen"));
	ck_assert(!itest_file_has(&t, "daemon.log", "configuration reloaded"));
	body = scrape(); /* still on the old address */
	free(body);

	o.extra = extra;
	itest_write_conf(&t, &o);
	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	ck_assert(itest_wait_notify(&t, "READY=1", 5000));
	ck_assert(itest_file_has(&t, "daemon.log", "configuration reloaded"));
	body = scrape();
	free(body);
	itest_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, metrics_scrape_during_and_after_a_real_call);
	tcase_add_test(tc, metrics_only_get_on_metrics_is_served);
	tcase_add_test(tc, metrics_reload_that_moves_the_listener_is_refused);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
