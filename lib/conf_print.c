/*
 * conf_print.c: the human summary of a loaded config, for `sipwarden -t`.
 *
 * Prints what the operator needs to confirm (listen address, TLS floor, files, media range
 * and suites, telemetry sockets, trunks, agents). Paths are printed, never file contents:
 * no key material can reach the output. Not responsible for validation (conf.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "conf.h"
#include "conf_value.h"

static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* The address of `sa` without its port. */
static const char *
ip_str(const struct conf_sockaddr *sa, char *buf, size_t len)
{
	const void *addr =
	        sa->ss.ss_family == AF_INET
	                ? (const void *)&((const struct sockaddr_in *)&sa->ss)->sin_addr
	                : (const void *)&((const struct sockaddr_in6 *)&sa->ss)->sin6_addr;
	if (inet_ntop(sa->ss.ss_family, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

void
conf_print(const struct conf *c, FILE *out)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	char a[INET6_ADDRSTRLEN + 16];

	fprintf(out, "config %s (sha256 ", c->path);
	for (size_t i = 0; i < sizeof(c->sha256); i++)
		fprintf(out, "%02x", c->sha256[i]);
	fprintf(out, ")\n");
	fprintf(out, "log: %s%s\n", levels[c->log_level], c->log_syslog ? ", syslog" : "");
	if (c->drain_timeout_s != 0)
		fprintf(out, "stop: SIGTERM drains, calls in progress may go on for %us\n",
		        c->drain_timeout_s);
	else
		fprintf(out, "stop: SIGTERM ends calls in progress at once\n");
	fprintf(out, "tls: listen %s, TLS >= %s, max %u connections, handshake %ums, idle %ums\n",
	        conf_sockaddr_str(&c->tls.listen, a, sizeof(a)),
	        c->tls.min_version == TLS1_3_VERSION ? "1.3" : "1.2", c->tls.max_connections,
	        c->tls.handshake_timeout_ms, c->tls.idle_timeout_ms);
	fprintf(out, "  certificate %s\n  private key %s\n  ca_file %s\n", c->tls.certificate,
	        c->tls.private_key, str_or(c->tls.ca_file, "(none)"));
	if (c->tls.client_certificate != NULL)
		fprintf(out, "  client certificate %s (key %s)\n", c->tls.client_certificate,
		        c->tls.client_private_key);
	fprintf(out, "sip: hostname %s, max message %u bytes, %u headers, line %u bytes\n",
	        str_or(c->sip.hostname, "(listen address)"), c->sip.max_message_size,
	        c->sip.max_headers, c->sip.max_line_length);
	fprintf(out, "  session timers: %u s (min %u s)\n", c->sip.session_expires_s,
	        c->sip.min_session_expires_s);
	fprintf(out, "media: %s (advertise %s), ports %u-%u, ",
	        ip_str(&c->media.address, a, sizeof(a)), str_or(c->media.advertise, "same"),
	        c->media.port_min, c->media.port_max);
	if (c->media.workers == 0)
		fprintf(out, "one worker per core");
	else
		fprintf(out, "%u workers", c->media.workers);
	fprintf(out, ", io %s\n",
	        c->media.io == CONF_MEDIA_IO_URING ? "uring"
	        : c->media.io == CONF_MEDIA_IO_EPOLL
	                ? "epoll"
	                : "auto (io_uring if the kernel has it, else epoll)");
	fprintf(out, "  suites:");
	for (size_t i = 0; i < c->media.nsuites; i++)
		fprintf(out, " %s", suite_info(c->media.suites[i])->name);
	fprintf(out, "\n  inactivity timeout %us, max call duration %us\n",
	        c->media.inactivity_timeout_s, c->media.max_call_duration_s);
	fprintf(out, "limits: max %u calls, %u in set-up; ", c->limits.max_calls,
	        c->limits.max_setup_calls);
	if (c->limits.max_loop_lag_ms == 0)
		fprintf(out, "loop lag not checked");
	else
		fprintf(out, "max loop lag %ums", c->limits.max_loop_lag_ms);
	fprintf(out, ", %u fds in reserve", c->limits.fd_reserve);
	if (c->limits.max_media_load == 0)
		fprintf(out, ", media load not checked\n");
	else
		fprintf(out, ", max media load %u%%\n", c->limits.max_media_load);
	fprintf(out,
	        "admission: unknown sources %u connections each, first request within %ums, "
	        "%u requests/s (burst %u), banned %ums (scanners %ums); %u connections reserved "
	        "for trunks and agents, which get %u requests/s (burst %u); %u sources tracked\n",
	        c->admission.unknown_max_connections, c->admission.first_request_timeout_ms,
	        c->admission.unknown_request_rate, c->admission.unknown_request_burst,
	        c->admission.ban_time_ms, c->admission.scanner_ban_time_ms,
	        c->admission.reserved_connections, c->admission.known_request_rate,
	        c->admission.known_request_burst, c->admission.max_sources);
	fprintf(out, "telemetry: socket %s (mode %04o%s%s), interim %us, queue %u\n",
	        str_or(c->telemetry.socket, "(off)"), c->telemetry.socket_mode,
	        c->telemetry.socket_group ? ", group " : "", str_or(c->telemetry.socket_group, ""),
	        c->telemetry.interim_interval_s, c->telemetry.queue_limit);
	fprintf(out, "  control socket %s (mode %04o)\n",
	        str_or(c->telemetry.control_socket, "(off)"), c->telemetry.control_mode);
	if (c->metrics.listen.len > 0)
		fprintf(out, "metrics: http://%s/metrics%s\n",
		        conf_sockaddr_str(&c->metrics.listen, a, sizeof(a)),
		        c->metrics.allow_remote ? " (remote allowed)" : "");
	else
		fprintf(out, "metrics: (off)\n");
	if (c->cluster.redis != NULL)
		fprintf(out,
		        "cluster: instance %s, redis %s%s, prefix %s, heartbeat TTL %ums, timeout "
		        "%ums, on store failure %s; max_calls limits are shared\n",
		        c->cluster.instance, c->cluster.redis,
		        c->cluster.password ? " (password set)" : "", c->cluster.prefix,
		        c->cluster.heartbeat_ttl_ms, c->cluster.timeout_ms,
		        c->cluster.refuse_on_failure ? "refuse" : "local");
	else
		fprintf(out, "cluster: (off)\n");
	fprintf(out, "pool: %s, ",
	        c->pool.policy == AGENT_ROUND_ROBIN ? "round_robin" : "least_busy");
	if (c->pool.probe_interval_ms == 0)
		fprintf(out, "no OPTIONS probes\n");
	else
		fprintf(out, "OPTIONS probe every %ums, down after %u failures\n",
		        c->pool.probe_interval_ms, c->pool.probe_failures);
	for (size_t i = 0; i < c->ntrunks; i++) {
		const struct conf_trunk *t = &c->trunks[i];
		fprintf(out, "trunk %s: source", t->name);
		for (size_t j = 0; j < t->nsources; j++) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(t->sources[j].family, t->sources[j].addr, ip, sizeof(ip));
			fprintf(out, "%s %s/%u", j ? "," : "", ip, t->sources[j].prefix);
		}
		fprintf(out, "\n  target %s, %s, crypto padding %s, max calls %u%s%s%s\n",
		        t->target.len ? conf_sockaddr_str(&t->target, a, sizeof(a)) : "(none)",
		        t->legacy_rtp ? "plain RTP allowed (legacy)" : "SRTP required",
		        t->crypto_pad ? "yes" : "no", t->max_calls,
		        t->ca_file ? ", client CA " : "", str_or(t->ca_file, ""),
		        t->fingerprint.set ? ", pinned fingerprint" : "");
		if (t->pass_headers != NULL) {
			fprintf(out, "  pass headers:");
			for (size_t j = 0; t->pass_headers[j] != NULL; j++)
				fprintf(out, " %s", t->pass_headers[j]);
			fprintf(out, "\n");
		}
		fprintf(out, "  transfer by agents: %s\n",
		        t->transfer == TRANSFER_REFER    ? "refer (to the [transfer] allow-list)"
		        : t->transfer == TRANSFER_BRIDGE ? "bridge (sipwarden calls the [transfer] "
		                                           "target and moves the caller)"
		                                         : "off");
	}
	for (size_t i = 0; i < c->ntransfers; i++)
		fprintf(out, "transfer %s: an agent's Refer-To %s goes to %s%s%s\n",
		        c->transfers[i].name, c->transfers[i].match, c->transfers[i].target,
		        c->transfers[i].trunk ? ", bridged through trunk " : "",
		        c->transfers[i].trunk ? c->transfers[i].trunk : "");
	for (size_t i = 0; i < c->nagents; i++) {
		const struct conf_agent *ag = &c->agents[i];
		fprintf(out, "agent %s: %s over TLS, server name %s, weight %u, verify %s%s%s%s\n",
		        ag->name, conf_sockaddr_str(&ag->address, a, sizeof(a)),
		        str_or(ag->server_name, "(address)"), ag->weight, ag->verify ? "yes" : "NO",
		        ag->client_certificate ? ", client certificate " : "",
		        str_or(ag->client_certificate, ""),
		        ag->fingerprint.set ? ", may call out (pinned certificate)" : "");
	}
}
