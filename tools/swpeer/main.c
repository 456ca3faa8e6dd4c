/*
 * main.c: swpeer's TLS context, event loop, global timeout and exit status (its command
 * line: args.c).
 *
 * `swpeer call ...` places calls (trunk side), `swpeer answer ...` takes them (agent
 * side); --help documents both. Everything runs on one libevent loop in one thread. The
 * process is bounded in time by --timeout; the exit status is 0 only when every call met
 * its expectation. Not responsible for SIP, calls or media (sip.c, call*.c, media.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/listener.h>
#include <openssl/err.h>

#include "swpeer.h"
#include "srtp_ossl.h"

static struct opts opts;
static struct peer peer;

long
us_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000;
}

long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static SSL_CTX *
tls_context(void)
{
	SSL_CTX *ctx =
	        SSL_CTX_new(opts.role == ROLE_CALLER ? TLS_client_method() : TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (opts.cert && (SSL_CTX_use_certificate_chain_file(ctx, opts.cert) != 1 ||
	                  SSL_CTX_use_PrivateKey_file(ctx, opts.key, SSL_FILETYPE_PEM) != 1 ||
	                  SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	if (opts.ca) {
		if (SSL_CTX_load_verify_locations(ctx, opts.ca, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(
		        ctx,
		        SSL_VERIFY_PEER |
		                (opts.role == ROLE_CALLEE ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		        NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
fail:
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

static void
stop_all(struct peer *p, const char *why)
{
	struct timeval tv = {0, 100 * 1000};

	if (p->stopping)
		return;
	p->stopping = true;
	call_abort_all(p, why);
	event_base_loopexit(p->base, &tv);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	fprintf(stderr, "swpeer: --timeout reached\n");
	stop_all(arg, "timeout");
}

static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	stop_all(arg, "interrupted");
}

/*
 * --rate: start every call that is due by now (call n at (n-1)/R s after the first), so
 * the offered rate does not bend to how fast calls complete (an open-loop generator).
 */
static void
rate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	uint64_t due = (uint64_t)us_since(&p->t_rate0) * p->o->rate / 1000000 + 1;

	if (due > p->o->calls)
		due = p->o->calls;
	while (p->started < due && !p->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &p->t_last);
		call_start_caller(p, ++p->started);
	}
	if (p->started >= p->o->calls || p->stopping)
		event_del(p->ev_rate);
}

/* A call ended (its result is printed): count it, start the next one or finish. */
void
peer_call_done(struct peer *p, struct call *c)
{
	struct timeval tv = {0, 100 * 1000};

	p->finished++;
	p->active--;
	if (c->res.pass)
		p->passed++;
	else
		p->failed++;
	if (p->stopping)
		return;
	if (p->o->role == ROLE_CALLER) {
		while (!p->o->rate && p->active < p->o->concurrent && p->started < p->o->calls &&
		       !p->stopping)
			call_start_caller(p, ++p->started);
		if (p->finished >= p->o->calls) {
			p->stopping = true;
			event_base_loopexit(p->base, &tv);
		}
	} else if (p->o->calls && p->finished >= p->o->calls) {
		p->stopping = true;
		event_base_loopexit(p->base, &tv);
	}
}

int
main(int argc, char **argv)
{
	struct peer *p = &peer;
	int status;

	swpeer_args(&opts, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	{ /* a load run needs two descriptors per call (TLS and RTP) */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	/* a line per call as it ends; a load run's lines in batches (report.c) */
	setvbuf(stdout, NULL, opts.rate ? _IOFBF : _IOLBF, opts.rate ? 1 << 16 : 0);
	if (srtp_init() != srtp_err_status_ok || srtp_ossl_install() < 0) {
		fprintf(stderr, "swpeer: srtp_init / srtp_ossl_install failed\n");
		return 1;
	}
	parser_init();
	if (opts.capture && capture_open(opts.capture) != 0) {
		fprintf(stderr, "swpeer: cannot write %s\n", opts.capture);
		return 2;
	}
	p->o = &opts;
	LIST_INIT(&p->calls);
	for (unsigned i = 0; i < CALL_HASH; i++)
		LIST_INIT(&p->hash[i]);
	if (opts.connections && !(p->shared = calloc(opts.connections, sizeof(*p->shared)))) {
		fprintf(stderr, "swpeer: out of memory\n");
		return 1;
	}
	LIST_INIT(&p->conns);
	{
		/* One thread; the changelist folds a write event added and removed again
		 * within one loop pass (every TLS message sent) into no epoll_ctl at all. */
		struct event_config *cfg = event_config_new();

		if (cfg != NULL) {
			event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK |
			                                   EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
			p->base = event_base_new_with_config(cfg);
			event_config_free(cfg);
		}
	}
	if (!p->base || !(p->ssl = tls_context())) {
		fprintf(stderr, "swpeer: cannot set up TLS (certificate, key or CA)\n");
		return 1;
	}
	if (opts.role == ROLE_CALLEE) {
		int rc = sip_listen(p, opts.listen_host, opts.listen_port);

		if (rc < 0) {
			fprintf(stderr, "swpeer: cannot listen on %s:%u: %s\n", opts.listen_host,
			        opts.listen_port, strerror(-rc));
			return 1;
		}
	}
	p->ev_sigint = evsignal_new(p->base, SIGINT, signal_cb, p);
	p->ev_sigterm = evsignal_new(p->base, SIGTERM, signal_cb, p);
	event_add(p->ev_sigint, NULL);
	event_add(p->ev_sigterm, NULL);
	if (opts.timeout_ms) {
		struct timeval tv = {opts.timeout_ms / 1000, (opts.timeout_ms % 1000) * 1000};

		p->ev_timeout = evtimer_new(p->base, timeout_cb, p);
		evtimer_add(p->ev_timeout, &tv);
	}
	if (opts.role == ROLE_CALLER && opts.rate) {
		struct timeval tick = {0, 1000};

		p->ev_rate = event_new(p->base, -1, EV_PERSIST, rate_cb, p);
		clock_gettime(CLOCK_MONOTONIC, &p->t_rate0);
		if (!p->ev_rate || event_add(p->ev_rate, &tick) != 0) {
			fprintf(stderr, "swpeer: cannot start the --rate timer\n");
			return 1;
		}
		rate_cb(-1, 0, p);
	} else if (opts.role == ROLE_CALLER) {
		while (p->active < opts.concurrent && p->started < opts.calls && !p->stopping)
			call_start_caller(p, ++p->started);
	}

	event_base_dispatch(p->base);

	p->stopping = true;
	call_abort_all(p, "interrupted");
	while (!LIST_EMPTY(&p->conns))
		sipconn_close(LIST_FIRST(&p->conns));
	report_summary(&opts, p);
	if (opts.role == ROLE_CALLER)
		status = p->passed == opts.calls ? 0 : 1;
	else
		status = p->failed == 0 ? 0 : 1;
	if (p->listener)
		evconnlistener_free(p->listener);
	if (p->ev_timeout)
		event_free(p->ev_timeout);
	if (p->ev_rate)
		event_free(p->ev_rate);
	free(p->shared);
	event_free(p->ev_sigint);
	event_free(p->ev_sigterm);
	SSL_CTX_free(p->ssl);
	event_base_free(p->base);
	srtp_shutdown();
	return status;
}
