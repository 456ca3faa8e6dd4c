/*
 * main.c: sipwarden's entry point: arguments, configuration load and reload, the
 * signalling event loop, signals and systemd readiness.
 *
 * Responsible for wiring lib/ modules to the OS and for the process lifecycle. Not
 * responsible for SIP or TLS behaviour (daemon/sip_server.c, lib/tls.c). sipwarden
 * always runs in the foreground (systemd Type=notify supervises it); -f is accepted
 * for compatibility with scripts that pass it and changes nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "conf.h"
#include "log.h"
#include "sip_server.h"
#include "sip_util.h"
#include "tls.h"

/* struct daemon: everything the running process owns; freed by daemon_free(). */
struct daemon {
	const char *conf_path;
	struct conf *conf;
	SSL_CTX *ctx;
	struct event_base *base;
	struct sip_server *sip;
	struct event *sigterm, *sigint, *sighup;
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sipwarden -c FILE [-f]   run (always in the foreground; -f is accepted)\n"
	        "       sipwarden -t -c FILE     check FILE, print what it holds, exit 0 or 1\n"
	        "       sipwarden -V             print the version\n"
	        "       sipwarden -h             this help\n");
}

static void
daemon_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

static void
daemon_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char err[CONF_ERR_MAX];
	struct conf *c;
	SSL_CTX *ctx;
	int rc;

	(void)sig;
	(void)what;
	sd_notify(0, "RELOADING=1");
	if ((c = conf_load(d->conf_path, err, sizeof(err))) == NULL) {
		log_warnx("reload refused, keeping current config: %s", err);
		goto out;
	}
	if ((ctx = tls_server_ctx_new(&c->tls, err, sizeof(err))) == NULL) {
		log_warnx("reload refused, keeping current config: %s", err);
		conf_unref(c);
		goto out;
	}
	if ((rc = sip_server_reload(d->sip, c, ctx)) != 0) {
		log_warnx("reload refused, keeping current config: %s",
		          rc == -EBUSY ? "[tls] listen changed (needs a restart)" : strerror(-rc));
		SSL_CTX_free(ctx);
		conf_unref(c);
		goto out;
	}
	SSL_CTX_free(d->ctx);
	d->ctx = ctx;
	conf_unref(d->conf);
	d->conf = c;
	log_init("sipwarden", c->log_level, c->log_syslog);
	log_info("configuration reloaded from %s", d->conf_path);
out:
	sd_notify(0, "READY=1");
}

static void
daemon_free(struct daemon *d)
{
	sip_server_free(d->sip);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sighup != NULL)
		event_free(d->sighup);
	if (d->base != NULL)
		event_base_free(d->base);
	SSL_CTX_free(d->ctx);
	if (d->conf != NULL)
		conf_unref(d->conf);
	libevent_global_shutdown();
}

static int
check_config(const char *path)
{
	char err[CONF_ERR_MAX];
	struct conf *c = conf_load(path, err, sizeof(err));

	if (c == NULL) {
		fprintf(stderr, "sipwarden: %s\n", err);
		return 1;
	}
	conf_print(c, stdout);
	conf_unref(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct daemon d = {0};
	char err[CONF_ERR_MAX], addr[128];
	bool check = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:ftVh")) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'f':
			break; /* always foreground */
		case 't':
			check = true;
			break;
		case 'V':
			printf("sipwarden %s\n", SW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (d.conf_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_config(d.conf_path);

	log_init("sipwarden", LOG_LVL_INFO, false);
	if ((d.conf = conf_load(d.conf_path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_init("sipwarden", d.conf->log_level, d.conf->log_syslog);
	signal(SIGPIPE, SIG_IGN);
	if (sip_util_init() != 0)
		fatalx("cannot initialise the SIP parser");
	if ((d.ctx = tls_server_ctx_new(&d.conf->tls, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		rc = 1;
		goto out;
	}
	if ((d.base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		rc = 1;
		goto out;
	}
	conf_sockaddr_str(&d.conf->tls.listen, addr, sizeof(addr));
	if ((rc = sip_server_new(&d.sip, d.base, d.conf, d.ctx, NULL)) != 0) {
		log_error("cannot listen on %s: %s", addr, strerror(-rc));
		rc = 1;
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, daemon_stop_cb, &d);
	d.sigint = evsignal_new(d.base, SIGINT, daemon_stop_cb, &d);
	d.sighup = evsignal_new(d.base, SIGHUP, daemon_reload_cb, &d);
	if (d.sigterm == NULL || d.sigint == NULL || d.sighup == NULL ||
	    evsignal_add(d.sigterm, NULL) != 0 || evsignal_add(d.sigint, NULL) != 0 ||
	    evsignal_add(d.sighup, NULL) != 0) {
		log_error("cannot install signal handlers");
		rc = 1;
		goto out;
	}
	log_info("sipwarden %s listening on %s (SIP over TLS, minimum %s)", SW_VERSION, addr,
	         tls_version_name(d.conf->tls.min_version < TLS1_2_VERSION
	                                  ? TLS1_2_VERSION
	                                  : d.conf->tls.min_version));
	sd_notify(0, "READY=1");
	rc = event_base_dispatch(d.base) < 0 ? 1 : 0;
	log_info("stopped");
out:
	daemon_free(&d);
	return rc;
}
