/*
 * metrics_http.c: the Prometheus scrape endpoint ([metrics] listen).
 *
 * Responsible for the HTTP side only: a listening socket handed to libevent's evhttp
 * on the daemon's event base, GET /metrics answered with text exposition 0.0.4 (404 for
 * any other path, 405 with Allow: GET for any other method on /metrics), and the
 * process figures read from /proc/self at scrape time. What the numbers are and how
 * they are written is lib/metrics.c; where they come from is the control "stats" and
 * "agents" replies (daemon/main.c) and lib/telemetry.c's accumulators.
 *
 * Plain HTTP without authentication, like every Prometheus exporter by default: the
 * config refuses a non-loopback address unless [metrics] allow_remote = yes. A scrape
 * costs one pass over the agents and the counters; requests are bounded (8 KiB of
 * headers, no body, 10 s timeout).
 */
#include "metrics_http.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "metrics.h"
#include "telemetry.h"

#define METRICS_HTTP_BACKLOG     16
#define METRICS_HTTP_MAX_HEADERS 8192
#define METRICS_HTTP_TIMEOUT_S   10

/*
 * struct metrics_http: the listener. Owner: the daemon (metrics_http_start/_free).
 */
struct metrics_http {
	struct evhttp *http; /* owns the bound socket */
	control_cb stats, agents;
	struct telemetry *tel;
	void *arg;
};

/* Open descriptors: entries of /proc/self/fd but the one opendir() holds. */
static long long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : -1;
}

/* Resident set size: the second field of /proc/self/statm, in pages. */
static long long
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 && page > 0 ? (long long)(resident * (unsigned long long)page) : -1;
}

static void
metrics_http_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics_http *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct metrics_snapshot s = {0};
	struct rlimit rl;
	struct evbuffer *body = NULL;
	char *text;
	size_t len;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		/* evhttp_send_error() drops our headers: reply by hand to keep Allow. */
		evhttp_add_header(out, "Allow", "GET");
		evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
		if ((body = evbuffer_new()) != NULL)
			evbuffer_add_printf(body, "only GET\n");
		evhttp_send_reply(req, HTTP_BADMETHOD, "Method Not Allowed", body);
		if (body != NULL)
			evbuffer_free(body);
		return;
	}
	s.stats = m->stats(NULL, m->arg);
	s.agents = m->agents(NULL, m->arg);
	s.calls = telemetry_metrics(m->tel);
	s.open_fds = open_fds();
	s.max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	                    ? (long long)rl.rlim_cur
	                    : -1;
	s.rss_bytes = rss_bytes();
	text = metrics_format(&s, &len);
	json_decref((json_t *)s.stats);
	json_decref((json_t *)s.agents);
	if (text == NULL || (body = evbuffer_new()) == NULL || evbuffer_add(body, text, len) < 0) {
		if (text != NULL && body != NULL)
			evbuffer_free(body);
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	free(text);
	evhttp_add_header(out, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* The bound, listening, non-blocking socket for `a`, or -errno. */
static int
listen_socket(const struct conf_sockaddr *a)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, METRICS_HTTP_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

struct metrics_http *
metrics_http_start(struct event_base *base, const struct conf_sockaddr *listen, control_cb stats,
                   control_cb agents, struct telemetry *tel, void *arg, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	struct metrics_http *m;
	int fd;

	conf_sockaddr_str(listen, addr, sizeof(addr));
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->http = evhttp_new(base)) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->stats = stats;
	m->agents = agents;
	m->tel = tel;
	m->arg = arg;
	/* Every method reaches the callback, which answers 405 itself (evhttp says 501). */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(m->http, METRICS_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_timeout(m->http, METRICS_HTTP_TIMEOUT_S);
	evhttp_set_gencb(m->http, metrics_http_request_cb, m);
	if ((fd = listen_socket(listen)) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(-fd));
		metrics_http_free(m);
		return NULL;
	}
	if (evhttp_accept_socket_with_handle(m->http, fd) == NULL) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: event loop refused the socket", addr);
		metrics_http_free(m);
		return NULL;
	}
	return m;
}

void
metrics_http_free(struct metrics_http *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->http);
	free(m);
}
