/*
 * it_telemetry_call: what a subscriber of the telemetry socket learns about real calls.
 *
 * An answered call leaves call.start, call.answer and call.end in that order, every
 * event valid against the schema, with packet counts that match what the swpeer caller
 * and callee say they sent and received, a plausible setup time, suites on both legs,
 * and (interim_interval = 1s) growing call.interim records while it runs; two
 * subscribers read byte-identical streams. A dead-air call (the agent answers and sends
 * nothing) has null loss, jitter and MOS where nothing flowed, not a perfect 4.4. With
 * RTCP, the "out" directions carry what the peers' receiver reports say, with the RTT.
 * A refused offer leaves
 * security.offer_refused and no call.answer. A reload publishes config.loaded with the
 * SHA-256 of the file, and SIGTERM publishes daemon.stop before the stream closes.
 */
#include <check.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "itest.h"
#include "telemetry.h"

#define T_CALL_MS 30000
#define TEL_CAP   (1 << 20)

/*
 * Packets a counter may miss at teardown. The caller sends its last packet, then BYE;
 * sipwarden deletes the relay when it handles the BYE, and the echo agent's answers to
 * the caller's last packets (and their way back) may still be on the loopback at that
 * moment: one or two 20 ms packets per hop, more when the sanitizers slow the daemon.
 * Five packets (100 ms of audio) per direction bounds that and is still far below any
 * real miscount (a call of 3 s carries ~150 packets each way).
 */
#define IN_FLIGHT 5

/* o.a.b...: the integer at a dotted path. */
static json_int_t
num_at(const json_t *o, const char *path)
{
	char buf[128], *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

static const char *
str_at(const json_t *o, const char *path)
{
	char buf[128], *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	ck_assert_msg(json_is_string(v), "%s is not a string", path);
	return json_string_value(v);
}

/*
 * Parse a telemetry stream into an array of events, asserting that every line is a
 * complete JSON object that telemetry_validate() accepts.
 */
static json_t *
parse_stream(const char *lines)
{
	json_t *arr = json_array();
	const char *p = lines;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		char err[160];
		json_error_t je;
		json_t *j;

		ck_assert_msg(nl != NULL, "unterminated telemetry line: %s", p);
		j = json_loadb(p, (size_t)(nl - p), 0, &je);
		ck_assert_msg(json_is_object(j), "not a JSON object (%s): %.*s", je.text,
		              (int)(nl - p), p);
		ck_assert_msg(telemetry_validate(j, err, sizeof(err)) == 0,
		              "event fails the schema (%s): %.*s", err, (int)(nl - p), p);
		json_array_append_new(arr, j);
		p = nl + 1;
	}
	return arr;
}

static const char *
ev_name(const json_t *ev)
{
	return json_string_value(json_object_get(ev, "event"));
}

/* Index of the first event named `name` at or after `from`, or -1. */
static int
find_ev(const json_t *arr, const char *name, size_t from)
{
	for (size_t i = from; i < json_array_size(arr); i++)
		if (strcmp(ev_name(json_array_get(arr, i)), name) == 0)
			return (int)i;
	return -1;
}

static size_t
count_ev(const json_t *arr, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(arr); i++)
		n += strcmp(ev_name(json_array_get(arr, i)), name) == 0;
	return n;
}

/* Append what a subscriber reads until the daemon closes it; asserts EOF in time. */
static void
read_to_eof(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	size_t len = strlen(buf);

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - itest_now_ms();
		ssize_t n;

		ck_assert_msg(left > 0 && poll(&p, 1, (int)left) > 0,
		              "the telemetry stream did not close within %d ms", timeout_ms);
		ck_assert_uint_lt(len + 1, cap);
		if ((n = read(fd, buf + len, cap - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
}

/* Hex SHA-256 of a file. */
static void
file_sha256_hex(const char *path, char hex[65])
{
	unsigned char md[32];
	size_t len;
	char *data = itest_read_file(path, &len);

	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(data);
}

/* A counter of sipwarden's (`got`) against what a peer reports (`want`), at teardown. */
static void
assert_close(json_int_t got, json_int_t want, const char *what)
{
	ck_assert_msg(got <= want && got >= want - IN_FLIGHT,
	              "%s: sipwarden counted %lld, the peer %lld", what, (long long)got,
	              (long long)want);
}

START_TEST(answered_call_leaves_a_valid_ordered_record_with_the_peers_packet_counts)
{
	static char tel[2][TEL_CAP];
	struct itest t;
	struct itest_opts o = {.telemetry_extra = "interim_interval = 1s\n"};
	const char *agent_args[] = {"--mode", "echo",      "--calls", "1", "--ring-ms",
	                            "100",    "--timeout", "40",      NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "3", NULL};
	json_t *caller, *agent, *evs;
	int fd[2], is, ia, ie;
	pid_t ap;

	itest_start(&t, &o);
	fd[0] = itest_telemetry_connect(&t);
	fd[1] = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	for (int i = 0; i < 2; i++) {
		tel[i][0] = '\0';
		itest_telemetry_read(fd[i], tel[i], TEL_CAP, "\"call.end\"", 5000);
	}
	caller = itest_result(&t, "caller.json");
	agent = itest_result(&t, "agent.json");
	/* SIGTERM: both streams end with daemon.stop and EOF, so both are complete. */
	itest_stop(&t);
	for (int i = 0; i < 2; i++) {
		read_to_eof(fd[i], tel[i], TEL_CAP, 3000);
		close(fd[i]);
	}
	ck_assert_msg(strcmp(tel[0], tel[1]) == 0,
	              "two subscribers read different streams:\n%s\n--\n%s", tel[0], tel[1]);

	evs = parse_stream(tel[0]);

	/* order: start, answer, end; interim records in between, nothing after the end */
	is = find_ev(evs, "call.start", 0);
	ia = find_ev(evs, "call.answer", 0);
	ie = find_ev(evs, "call.end", 0);
	ck_assert_msg(is >= 0 && ia > is && ie > ia, "order: start %d answer %d end %d\n%s", is, ia,
	              ie, tel[0]);
	ck_assert_int_eq(count_ev(evs, "call.start"), 1);
	ck_assert_int_eq(count_ev(evs, "call.end"), 1);
	const json_t *start = json_array_get(evs, (size_t)is),
	             *ans = json_array_get(evs, (size_t)ia), *end = json_array_get(evs, (size_t)ie);
	const char *id = str_at(start, "call");
	ck_assert_str_eq(str_at(ans, "call"), id);
	ck_assert_str_eq(str_at(end, "call"), id);
	ck_assert_str_eq(str_at(start, "trunk"), "itest");
	ck_assert_str_eq(str_at(ans, "agent"), "itest");
	ck_assert_str_eq(str_at(start, "signalling.tls"), "TLSv1.3");
	ck_assert_str_eq(str_at(end, "outcome"), "completed");
	ck_assert_str_eq(str_at(end, "ended_by"), "trunk");
	ck_assert_str_eq(str_at(end, "reason"), "bye");
	ck_assert_int_eq(num_at(end, "sip_code"), 200);

	/* setup: about the agent's 100 ms of ringing or more (its timer may fire a
	 * millisecond early and both sides truncate to whole ms; with TCP_NODELAY nothing
	 * else adds much), at most what the caller saw */
	json_int_t setup = num_at(ans, "setup_ms");
	ck_assert_msg(setup >= 95 && setup <= itest_num(caller, "setup_ms"),
	              "setup_ms %lld, caller measured %lld", (long long)setup,
	              (long long)itest_num(caller, "setup_ms"));

	/* suites: what each peer negotiated, in call.answer and on each leg of call.end */
	const char *csuite = str_at(caller, "suite"), *asuite = str_at(agent, "suite");
	ck_assert_str_eq(str_at(ans, "suites.trunk"), csuite);
	ck_assert_str_eq(str_at(ans, "suites.agent"), asuite);
	ck_assert_str_eq(str_at(end, "legs.trunk.suite"), csuite);
	ck_assert_str_eq(str_at(end, "legs.agent.suite"), asuite);

	/* packets, per leg and direction, against the peers' own counts */
	assert_close(num_at(end, "legs.trunk.in.packets"), itest_num(caller, "sent"), "trunk in");
	assert_close(num_at(end, "legs.agent.out.packets"), itest_num(agent, "received"),
	             "agent out");
	ck_assert_int_ge(itest_num(agent, "received"), num_at(end, "legs.agent.out.packets"));
	assert_close(num_at(end, "legs.agent.in.packets"), itest_num(agent, "sent"), "agent in");
	assert_close(num_at(end, "legs.trunk.out.packets"), itest_num(caller, "received"),
	             "trunk out");
	ck_assert_int_ge(itest_num(caller, "sent"), 140); /* 3 s of 20 ms packets */
	ck_assert_int_eq(num_at(end, "legs.trunk.in.drops.auth"), 0);
	ck_assert_int_eq(num_at(end, "legs.agent.in.drops.auth"), 0);

	/* each leg: its TLS hop, the media address it latched, a first packet */
	ck_assert_str_eq(str_at(end, "legs.trunk.signalling.tls"), "TLSv1.3");
	ck_assert_str_eq(str_at(end, "legs.agent.signalling.tls"), "TLSv1.3");
	/* the cipher names the call keeps as libssl's own strings */
	ck_assert_int_eq(strncmp(str_at(end, "legs.trunk.signalling.cipher"), "TLS_AES_", 8), 0);
	ck_assert_int_eq(strncmp(str_at(end, "legs.agent.signalling.cipher"), "TLS_AES_", 8), 0);
	char agent_hop[64];
	snprintf(agent_hop, sizeof(agent_hop), "%s:%u", t.agent_ip, t.agent_port);
	ck_assert_str_eq(str_at(end, "legs.agent.signalling.peer"), agent_hop);
	ck_assert_msg(strncmp(str_at(end, "legs.trunk.latched"), "127.", 4) == 0, "trunk latched");
	ck_assert_msg(strncmp(str_at(end, "legs.agent.latched"), t.agent_ip, strlen(t.agent_ip)) ==
	                      0,
	              "agent latched %s", str_at(end, "legs.agent.latched"));
	ck_assert_int_ge(num_at(end, "legs.trunk.first_packet_ms"), 0);
	ck_assert_int_ge(num_at(end, "legs.agent.first_packet_ms"), 0);
	fprintf(stderr,
	        "figures: setup_ms %lld (caller %lld); caller sent %lld received %lld; agent "
	        "received %lld sent %lld; sipwarden trunk in %lld out %lld, agent out %lld in "
	        "%lld\n",
	        (long long)setup, (long long)itest_num(caller, "setup_ms"),
	        (long long)itest_num(caller, "sent"), (long long)itest_num(caller, "received"),
	        (long long)itest_num(agent, "received"), (long long)itest_num(agent, "sent"),
	        (long long)num_at(end, "legs.trunk.in.packets"),
	        (long long)num_at(end, "legs.trunk.out.packets"),
	        (long long)num_at(end, "legs.agent.out.packets"),
	        (long long)num_at(end, "legs.agent.in.packets"));

	/* interim: at least two during 3 s at 1 s, same call, packet counts growing */
	json_int_t last = -1;
	size_t ninterim = 0;
	for (int i = find_ev(evs, "call.interim", 0); i >= 0;
	     i = find_ev(evs, "call.interim", (size_t)i + 1)) {
		const json_t *im = json_array_get(evs, (size_t)i);
		json_int_t p = num_at(im, "legs.trunk.in.packets");
		ck_assert_msg(i > ia && i < ie, "call.interim outside the call (%d)", i);
		ck_assert_str_eq(str_at(im, "call"), id);
		ck_assert_msg(p > last, "interim packets not growing: %lld after %lld",
		              (long long)p, (long long)last);
		ck_assert_int_le(p, num_at(end, "legs.trunk.in.packets"));
		last = p;
		ninterim++;
	}
	ck_assert_msg(ninterim >= 2, "%zu call.interim in a 3 s call:\n%s", ninterim, tel[0]);

	/* the stream ends with daemon.stop */
	ck_assert_str_eq(ev_name(json_array_get(evs, json_array_size(evs) - 1)), "daemon.stop");
	json_decref(caller);
	json_decref(agent);
	json_decref(evs);
}
END_TEST

/* The call.end of one call between the swpeers with these arguments. */
static json_t *
one_call_end(const char **agent_args, const char **call_args)
{
	static char tel[TEL_CAP];
	struct itest t;
	json_t *evs, *end;
	int fd, ie;
	pid_t ap;

	itest_start(&t, NULL);
	fd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	ck_assert_int_eq(itest_wait_child(ap, 10000), 0);
	tel[0] = '\0';
	itest_telemetry_read(fd, tel, sizeof(tel), "\"call.end\"", 5000);
	itest_stop(&t);
	read_to_eof(fd, tel, sizeof(tel), 3000);
	close(fd);
	evs = parse_stream(tel);
	ie = find_ev(evs, "call.end", 0);
	ck_assert_msg(ie >= 0, "no call.end:\n%s", tel);
	end = json_deep_copy(json_array_get(evs, (size_t)ie));
	json_decref(evs);
	return end;
}

/* The JSON value at a dotted path, or NULL. */
static const json_t *
at_path(const json_t *o, const char *path)
{
	char buf[128], *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL && v != NULL;
	     k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	return v;
}

static void
assert_unknown(const json_t *end, const char *dir)
{
	static const char *const fields[] = {"lost", "loss", "jitter_ms", "mos", "rtt_ms"};
	char path[96];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(path, sizeof(path), "%s.%s", dir, fields[i]);
		ck_assert_msg(json_is_null(at_path(end, path)), "%s is not null", path);
	}
}

START_TEST(dead_air_call_says_null_where_nothing_flowed)
{
	/* the agent answers and sends nothing; the caller expects nothing back */
	const char *agent_args[] = {"--mode", "silent", "--calls", "1", "--timeout", "40", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "2", "--peer-media", "none", NULL};
	json_t *end = one_call_end(agent_args, call_args);

	ck_assert_str_eq(str_at(end, "outcome"), "completed");
	/* nothing from the agent, so nothing to the trunk */
	ck_assert_int_eq(num_at(end, "legs.agent.in.packets"), 0);
	ck_assert_int_eq(num_at(end, "legs.trunk.out.packets"), 0);
	assert_unknown(end, "legs.agent.in");
	assert_unknown(end, "legs.trunk.out");
	/* sent to the agent, which sends no receiver reports: unknown too */
	ck_assert_int_ge(num_at(end, "legs.agent.out.packets"), 50);
	assert_unknown(end, "legs.agent.out");
	/* what the caller sent was measured */
	ck_assert_int_ge(num_at(end, "legs.trunk.in.packets"), 50);
	ck_assert(json_is_number(at_path(end, "legs.trunk.in.mos")));
	ck_assert_int_eq(num_at(end, "legs.trunk.in.lost"), 0);
	json_decref(end);
}
END_TEST

/* A number at a dotted path (integer or real). */
static double
real_at(const json_t *o, const char *path)
{
	const json_t *v = at_path(o, path);

	ck_assert_msg(json_is_number(v), "%s is not a number", path);
	return json_number_value(v);
}

START_TEST(out_directions_come_from_the_peers_receiver_reports)
{
	/* both swpeers send an SR every 50 packets with a report block about what they
	 * receive (LSR/DLSR naming the last SR they got) */
	const char *agent_args[] = {"--mode",    "echo", "--calls",     "1",
	                            "--timeout", "40",   "--rtcp-sdes", NULL};
	const char *call_args[] = {"--calls", "1", "--duration", "3", "--rtcp-sdes", NULL};
	json_t *end = one_call_end(agent_args, call_args);
	static const char *const legs[] = {"legs.trunk.out", "legs.agent.out"};

	for (int i = 0; i < 2; i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s.lost", legs[i]);
		ck_assert_int_eq(num_at(end, p), 0); /* the swpeers report no loss */
		snprintf(p, sizeof(p), "%s.loss", legs[i]);
		ck_assert_double_eq(real_at(end, p), 0.0);
		snprintf(p, sizeof(p), "%s.jitter_ms", legs[i]);
		ck_assert_double_eq(real_at(end, p), 0.0);
		/* loopback: well under a second, and measured (not null) */
		snprintf(p, sizeof(p), "%s.rtt_ms", legs[i]);
		double rtt = real_at(end, p);
		ck_assert_msg(rtt > 0 && rtt < 1000, "%s = %f", p, rtt);
		snprintf(p, sizeof(p), "%s.mos", legs[i]);
		ck_assert_double_ge(real_at(end, p), 4.3);
		fprintf(stderr, "figures: %s rtt_ms %.3f\n", legs[i], rtt);
	}
	/* the leg's RTT counts for the received direction too */
	ck_assert(json_is_number(at_path(end, "legs.trunk.in.rtt_ms")));
	json_decref(end);
}
END_TEST

START_TEST(refused_offer_leaves_offer_refused_and_no_answer)
{
	static char tel[TEL_CAP];
	struct itest t;
	const char *agent_args[] = {"--mode", "echo", "--timeout", "20", NULL};
	const char *call_args[] = {"--calls", "1", "--offer", "avp", "--expect", "488", NULL};
	json_t *evs;
	int fd, ir;
	pid_t ap;

	itest_start(&t, NULL);
	fd = itest_telemetry_connect(&t);
	ap = itest_agent(&t, agent_args);
	ck_assert_int_eq(itest_caller(&t, "caller.json", call_args, T_CALL_MS), 0);
	tel[0] = '\0';
	itest_telemetry_read(fd, tel, sizeof(tel), "\"security.offer_refused\"", 5000);
	itest_kill_child(ap);
	itest_stop(&t);
	read_to_eof(fd, tel, sizeof(tel), 3000);
	close(fd);

	evs = parse_stream(tel);
	ir = find_ev(evs, "security.offer_refused", 0);
	ck_assert_msg(ir >= 0, "no security.offer_refused:\n%s", tel);
	const json_t *r = json_array_get(evs, (size_t)ir);
	ck_assert_int_eq(num_at(r, "sip_code"), 488);
	ck_assert_str_eq(str_at(r, "reason"), "no_srtp");
	ck_assert_msg(strncmp(str_at(r, "source"), "127.", 4) == 0, "source %s",
	              str_at(r, "source"));
	ck_assert_int_eq(count_ev(evs, "call.answer"), 0);
	ck_assert_int_eq(count_ev(evs, "call.interim"), 0);
	json_decref(evs);
}
END_TEST

START_TEST(reload_publishes_config_sha256_and_sigterm_publishes_daemon_stop)
{
	static char tel[TEL_CAP];
	struct itest t;
	char before[65], after[65];
	json_t *evs;
	FILE *f;
	int fd, ic;

	itest_start(&t, NULL);
	fd = itest_telemetry_connect(&t);
	file_sha256_hex(t.conf_path, before);
	/* change the bytes (not the meaning) so the digest must be recomputed */
	f = fopen(t.conf_path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# reloaded by it_telemetry_call\n");
	ck_assert_int_eq(fclose(f), 0);
	file_sha256_hex(t.conf_path, after);
	ck_assert_str_ne(before, after);

	ck_assert_int_eq(kill(t.pid, SIGHUP), 0);
	tel[0] = '\0';
	itest_telemetry_read(fd, tel, sizeof(tel), "\"config.loaded\"", 5000);
	itest_stop(&t);
	read_to_eof(fd, tel, sizeof(tel), 3000);
	close(fd);

	evs = parse_stream(tel);
	ic = find_ev(evs, "config.loaded", 0);
	ck_assert_msg(ic >= 0, "no config.loaded after SIGHUP:\n%s", tel);
	const json_t *c = json_array_get(evs, (size_t)ic);
	ck_assert_str_eq(str_at(c, "sha256"), after);
	ck_assert_str_eq(str_at(c, "path"), t.conf_path);
	/* daemon.stop is the last event before the stream closes */
	ck_assert_int_eq(count_ev(evs, "daemon.stop"), 1);
	ck_assert_int_eq(find_ev(evs, "daemon.stop", 0), (int)json_array_size(evs) - 1);
	ck_assert_str_eq(str_at(json_array_get(evs, json_array_size(evs) - 1), "reason"), "signal");
	json_decref(evs);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("telemetry_call");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc,
	               answered_call_leaves_a_valid_ordered_record_with_the_peers_packet_counts);
	tcase_add_test(tc, refused_offer_leaves_offer_refused_and_no_answer);
	tcase_add_test(tc, dead_air_call_says_null_where_nothing_flowed);
	tcase_add_test(tc, out_directions_come_from_the_peers_receiver_reports);
	tcase_add_test(tc, reload_publishes_config_sha256_and_sigterm_publishes_daemon_stop);
	suite_add_tcase(s, tc);
	return itest_run(s);
}
