/*
 * it_swpeer_p2p.c: swpeer against itself over TLS on loopback, no daemon in between.
 *
 * Starts `swpeer answer` on a random 127.x.y.z address and port, runs `swpeer call`
 * against it and reads both sides' JSON result lines. Pins down what the daemon's tests
 * rely on: echoed SRTP comes back intact with distinct keys per direction, plain and
 * weak offers get 488 with a Warning, a refusing callee's code reaches the caller, CANCEL
 * gives 487, and a tampered packet is counted as an auth failure, never as audio.
 * Needs SW_PEER (the swpeer binary) and SW_MKCERTS (tools/mkcerts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "testnet.h"
#include "tmpdir.h"

static char certdir[256]; /* under TMPDIR: tmpdir_run removes it, however the run ends */
static char ca[300], agent_crt[300], agent_key[300];

struct answerer {
	pid_t pid;
	char addr[32];
	unsigned port;
	char out[300];
};

static const char *
peer_bin(void)
{
	const char *p = getenv("SW_PEER");

	ck_assert_msg(p != NULL, "SW_PEER not set");
	return p;
}

static void
exec_peer(char **argv, const char *out_path)
{
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		_exit(127);
	/* dies with the test process even when an assertion ends it before answer_stop() */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(fd, 1);
	close(fd);
	execv(peer_bin(), argv);
	_exit(127);
}

static bool
port_open(const char *addr, unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Start `swpeer answer` with extra args (NULL-terminated) on a random loopback address. */
static void
answer_start(struct answerer *a, const char *const *extra)
{
	uint8_t r[5];
	char listen[64];
	char *argv[40];
	int n = 0;

	RAND_bytes(r, sizeof(r));
	testnet_loopback(a->addr, sizeof(a->addr));
	a->port = 20000 + ((unsigned)r[3] << 8 | r[4]) % 40000;
	snprintf(listen, sizeof(listen), "%s:%u", a->addr, a->port);
	snprintf(a->out, sizeof(a->out), "%s/answer-%u.out", certdir, a->port);
	argv[n++] = "swpeer";
	argv[n++] = "answer";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--cert";
	argv[n++] = agent_crt;
	argv[n++] = "--key";
	argv[n++] = agent_key;
	argv[n++] = "--json";
	argv[n++] = "--timeout";
	argv[n++] = "40";
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	a->pid = fork();
	ck_assert_int_ge(a->pid, 0);
	if (a->pid == 0)
		exec_peer(argv, a->out);
	for (int i = 0; i < 100 && !port_open(a->addr, a->port); i++) {
		struct timespec ts = {0, 30 * 1000 * 1000};

		ck_assert_msg(waitpid(a->pid, NULL, WNOHANG) == 0, "swpeer answer exited early");
		nanosleep(&ts, NULL);
	}
	ck_assert_msg(port_open(a->addr, a->port), "swpeer answer did not listen");
}

/* Stop the answerer; returns its exit status. */
static int
answer_stop(struct answerer *a)
{
	int st = 0;

	kill(a->pid, SIGTERM);
	ck_assert_int_eq(waitpid(a->pid, &st, 0), a->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run `swpeer call` against `a` with extra args; returns exit status, output in out_path. */
static int
call_run_v(const struct answerer *a, char *out_path, size_t len, const char *const *extra,
           bool verify_name)
{
	char to[80];
	char *argv[40];
	int n = 0, st = 0;
	pid_t pid;

	snprintf(to, sizeof(to), "sip:agent@%s:%u", a->addr, a->port);
	snprintf(out_path, len, "%s/call-%u.out", certdir, a->port);
	argv[n++] = "swpeer";
	argv[n++] = "call";
	argv[n++] = "--to";
	argv[n++] = to;
	argv[n++] = "--ca";
	argv[n++] = ca;
	if (verify_name) {
		argv[n++] = "--tls-name";
		argv[n++] = "agent.test";
	}
	argv[n++] = "--json";
	argv[n++] = "--timeout";
	argv[n++] = "25";
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		exec_peer(argv, out_path);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
call_run(const struct answerer *a, char *out_path, size_t len, const char *const *extra)
{
	return call_run_v(a, out_path, len, extra, true);
}

/* Fork a child that runs call_run() (its exit status is call_run()'s result). */
static pid_t
call_spawn(const struct answerer *a, char *out_path, size_t len, const char *const *extra)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		_exit(call_run(a, out_path, len, extra));
	}
	snprintf(out_path, len, "%s/call-%u.out", certdir, a->port);
	return pid;
}

/* Read the per-call JSON objects of an output file (summary skipped) into an array. */
static json_t *
results(const char *path)
{
	FILE *f = fopen(path, "r");
	json_t *arr = json_array();
	char line[4096];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);

		ck_assert_msg(j != NULL, "not JSON: %s", line);
		if (json_object_get(j, "summary"))
			json_decref(j);
		else
			json_array_append_new(arr, j);
	}
	fclose(f);
	return arr;
}

static long long
ival(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_integer(v), "missing %s", k);
	return json_integer_value(v);
}

static const char *
sval(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_string(v), "missing %s", k);
	return json_string_value(v);
}

static json_t *
by_call(json_t *arr, long long num)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) if (ival(o, "call") == num) return o;
	return NULL;
}

START_TEST(swpeer_echo_returns_every_pattern_packet_with_distinct_keys)
{
	const char *const ans[] = {"--mode", "echo", NULL};
	const char *const call[] = {"--calls", "3", "--concurrent", "2", "--duration", "2", NULL};
	struct answerer a;
	char out[400];
	json_t *cr, *ar, *o;
	size_t i;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	ck_assert_int_eq(answer_stop(&a), 0);
	cr = results(out);
	ar = results(a.out);
	ck_assert_int_eq(json_array_size(cr), 3);
	ck_assert_int_eq(json_array_size(ar), 3);
	json_array_foreach(cr, i, o)
	{
		const char *lh = sval(o, "local_key_hash"), *rh = sval(o, "remote_key_hash");
		bool mirrored = false;
		size_t k;
		json_t *q;

		ck_assert_int_eq(ival(o, "code"), 200);
		ck_assert_str_eq(sval(o, "result"), "pass");
		ck_assert_str_eq(sval(o, "suite"), "AES_CM_128_HMAC_SHA1_80");
		ck_assert_int_ge(ival(o, "sent"), 85); /* 100 at 20 ms; slack for loaded CI */
		ck_assert_int_le(ival(o, "sent"), 102);
		ck_assert_int_ge(ival(o, "ok"), ival(o, "sent") - 2);
		ck_assert_int_eq(ival(o, "bad"), 0);
		ck_assert_int_eq(ival(o, "auth_fail"), 0);
		ck_assert_int_eq(strlen(lh), 8);
		ck_assert_str_ne(lh, rh);
		/* the callee that took this call holds the same keys the other way round */
		json_array_foreach(ar, k, q)
		{
			if (strcmp(sval(q, "remote_key_hash"), lh) == 0) {
				ck_assert_str_eq(sval(q, "local_key_hash"), rh);
				ck_assert_int_ge(ival(q, "ok"), 85);
				ck_assert_int_eq(ival(q, "auth_fail"), 0);
				ck_assert_str_eq(sval(q, "result"), "pass");
				mirrored = true;
			}
		}
		ck_assert_msg(mirrored, "no callee result with caller %u's key", (unsigned)i);
	}
	/* fresh keys per call */
	ck_assert_str_ne(sval(by_call(cr, 1), "local_key_hash"),
	                 sval(by_call(cr, 2), "local_key_hash"));
	ck_assert_str_ne(sval(by_call(cr, 2), "local_key_hash"),
	                 sval(by_call(cr, 3), "local_key_hash"));
	json_decref(cr);
	json_decref(ar);
}
END_TEST

START_TEST(swpeer_plain_offer_gets_488_with_warning)
{
	const char *const call_ok[] = {"--offer", "avp", "--expect", "488", NULL};
	const char *const call_200[] = {"--offer", "avp", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, NULL);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call_ok), 0);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 488);
	ck_assert_ptr_nonnull(strstr(sval(json_array_get(cr, 0), "warning"), "SRTP required"));
	json_decref(cr);
	/* expecting 200 from the same refusal must fail */
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call_200), 1);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_weak_offer_gets_488)
{
	const char *const call[] = {"--offer", "savp-weak", "--expect", "488", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, NULL);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 488);
	ck_assert_ptr_nonnull(json_object_get(json_array_get(cr, 0), "warning"));
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_suite_mismatch_gets_488)
{
	const char *const ans[] = {"--suites", "AEAD_AES_128_GCM", NULL};
	const char *const call[] = {"--suites", "AES_CM_128_HMAC_SHA1_80", "--expect", "488", NULL};
	struct answerer a;
	char out[400];

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_gcm_suite_is_negotiated_from_the_offer_list)
{
	const char *const ans[] = {"--suites", "AEAD_AES_256_GCM", NULL};
	const char *const call[] = {"--suites", "AES_CM_128_HMAC_SHA1_80,AEAD_AES_256_GCM",
	                            "--duration", "0.5", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_str_eq(sval(json_array_get(cr, 0), "suite"), "AEAD_AES_256_GCM");
	ck_assert_int_ge(ival(json_array_get(cr, 0), "ok"), 20);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_unpadded_keys_are_accepted_both_ways)
{
	const char *const ans[] = {"--no-pad", NULL};
	const char *const call[] = {"--no-pad",   "--suites", "AES_256_CM_HMAC_SHA1_80",
	                            "--duration", "0.5",      NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_str_eq(sval(json_array_get(cr, 0), "suite"), "AES_256_CM_HMAC_SHA1_80");
	ck_assert_int_ge(ival(json_array_get(cr, 0), "ok"), 20);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_callee_answers_options_even_when_rejecting_calls)
{
	const char *const ans[] = {"--mode", "reject=486", NULL};
	const char *const call[] = {"--options", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 200);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_caller_refuses_plain_answer_to_srtp_offer)
{
	const char *const ans[] = {"--mode", "answer-plain", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), NULL), 1);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 200);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "sent"), 0);
	ck_assert_ptr_nonnull(strstr(sval(json_array_get(cr, 0), "why"), "downgrade"));
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_callee_bye_ends_call_early)
{
	const char *const ans[] = {"--bye-after", "0.5", NULL};
	const char *const call[] = {"--duration", "10", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 200);
	ck_assert_int_ge(ival(json_array_get(cr, 0), "sent"), 15);
	ck_assert_int_le(ival(json_array_get(cr, 0), "sent"), 60);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_reject_mode_code_reaches_caller)
{
	const char *const ans[] = {"--mode", "reject=503", NULL};
	const char *const call[] = {"--expect", "503", NULL};
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 503);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

/*
 * Backpressure: the callee is stopped (after its TLS handshake) while 15,000 INVITEs
 * (about 14 MB) go out on one connection, more than loopback's socket buffers take
 * (checked with strace: writes end in EAGAIN), and every call must still get its 486
 * once it runs again: nothing queued behind a stalled peer is lost or reordered.
 */
START_TEST(swpeer_messages_behind_a_stalled_peer_all_arrive)
{
	const char *const ans[] = {"--mode", "reject=486", NULL};
	const char *const call[] = {"--rate",        "10000", "--calls",  "15000",
	                            "--connections", "1",     "--expect", "486",
	                            "--timeout",     "50",    NULL};
	struct timespec handshake = {0, 200 * 1000 * 1000}, stall = {2, 500 * 1000 * 1000};
	struct answerer a;
	char out[400];
	json_t *cr, *o;
	size_t i;
	int st = 0;
	pid_t pid;

	answer_start(&a, ans);
	pid = call_spawn(&a, out, sizeof(out), call);
	/* how much piles up depends on the box, not whether the calls pass: no race */
	nanosleep(&handshake, NULL);
	ck_assert_int_eq(kill(a.pid, SIGSTOP), 0);
	nanosleep(&stall, NULL);
	ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "swpeer call status %d", st);
	cr = results(out);
	ck_assert_int_eq(json_array_size(cr), 15000);
	json_array_foreach(cr, i, o) ck_assert_int_eq(ival(o, "code"), 486);
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

START_TEST(swpeer_cancel_after_gives_487)
{
	const char *const ans[] = {"--mode", "noanswer", NULL};
	const char *const call[] = {"--cancel-after", "300", "--expect", "487", NULL};
	struct answerer a;
	char out[400];
	json_t *cr, *ar;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	ck_assert_int_eq(answer_stop(&a), 0);
	cr = results(out);
	ar = results(a.out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 487);
	ck_assert_int_ge(ival(json_array_get(cr, 0), "setup_ms"), 290);
	ck_assert_int_eq(ival(json_array_get(ar, 0), "code"), 487);
	json_decref(cr);
	json_decref(ar);
}
END_TEST

START_TEST(swpeer_hold_and_resume_keeps_media_verified)
{
	const char *const ans[] = {"--mode", "pattern", NULL};
	const char *const call[] = {"--peer-media", "pattern",    "--duration", "2", "--hold-after",
	                            "0.5",          "--hold-for", "0.5",        NULL};
	struct answerer a;
	char out[400];
	json_t *cr, *ar;

	answer_start(&a, ans);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 0);
	ck_assert_int_eq(answer_stop(&a), 0);
	cr = results(out);
	ar = results(a.out);
	/* hold and resume were both answered; the callee stopped sending while held (without
	 * a hold it sends about as many as the caller plus the BYE grace of ~12) */
	ck_assert_int_eq(ival(json_array_get(cr, 0), "reinvites"), 2);
	ck_assert_int_eq(ival(json_array_get(ar, 0), "reinvites"), 2);
	ck_assert_int_lt(ival(json_array_get(ar, 0), "sent"), ival(json_array_get(cr, 0), "sent"));
	/* every packet the callee sent arrived intact (the last may cross our BYE) */
	ck_assert_int_le(ival(json_array_get(cr, 0), "ok"), ival(json_array_get(ar, 0), "sent"));
	ck_assert_int_ge(ival(json_array_get(cr, 0), "ok"),
	                 ival(json_array_get(ar, 0), "sent") - 2);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "bad"), 0);
	json_decref(cr);
	json_decref(ar);
}
END_TEST

START_TEST(swpeer_tampered_packets_count_as_auth_failures)
{
	const char *const call[] = {"--tamper", "5", "--duration", "1", NULL};
	struct answerer a;
	char out[400];
	json_t *cr, *ar, *c0, *a0;

	answer_start(&a, NULL);
	ck_assert_int_eq(call_run(&a, out, sizeof(out), call), 1);
	ck_assert_int_eq(answer_stop(&a), 1);
	cr = results(out);
	ar = results(a.out);
	c0 = json_array_get(cr, 0);
	a0 = json_array_get(ar, 0);
	ck_assert_int_ge(ival(a0, "auth_fail"), ival(c0, "sent") / 5 - 1);
	ck_assert_int_eq(ival(a0, "ok") + ival(a0, "auth_fail"), ival(a0, "received"));
	/* tampered packets were dropped, not echoed */
	ck_assert_int_eq(ival(c0, "ok"), ival(a0, "ok"));
	ck_assert_str_eq(sval(c0, "result"), "fail");
	json_decref(cr);
	json_decref(ar);
}
END_TEST

START_TEST(swpeer_caller_refuses_unverifiable_server)
{
	/* the callee's certificate names 127.0.0.1 and agent.test; checked against the random
	 * 127.x.y.z address we connect to (no --tls-name), it must be refused */
	struct answerer a;
	char out[400];
	json_t *cr;

	answer_start(&a, NULL);
	ck_assert_int_eq(call_run_v(&a, out, sizeof(out), NULL, false), 1);
	cr = results(out);
	ck_assert_int_eq(ival(json_array_get(cr, 0), "code"), 0);
	ck_assert_str_eq(sval(json_array_get(cr, 0), "result"), "fail");
	json_decref(cr);
	answer_stop(&a);
}
END_TEST

static Suite *
p2p_suite(void)
{
	Suite *s = suite_create("swpeer_p2p");
	TCase *tc = tcase_create("p2p");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, swpeer_echo_returns_every_pattern_packet_with_distinct_keys);
	tcase_add_test(tc, swpeer_plain_offer_gets_488_with_warning);
	tcase_add_test(tc, swpeer_weak_offer_gets_488);
	tcase_add_test(tc, swpeer_suite_mismatch_gets_488);
	tcase_add_test(tc, swpeer_gcm_suite_is_negotiated_from_the_offer_list);
	tcase_add_test(tc, swpeer_unpadded_keys_are_accepted_both_ways);
	tcase_add_test(tc, swpeer_callee_answers_options_even_when_rejecting_calls);
	tcase_add_test(tc, swpeer_caller_refuses_plain_answer_to_srtp_offer);
	tcase_add_test(tc, swpeer_callee_bye_ends_call_early);
	tcase_add_test(tc, swpeer_reject_mode_code_reaches_caller);
	tcase_add_test(tc, swpeer_cancel_after_gives_487);
	tcase_add_test(tc, swpeer_messages_behind_a_stalled_peer_all_arrive);
	tcase_add_test(tc, swpeer_hold_and_resume_keeps_media_verified);
	tcase_add_test(tc, swpeer_tampered_packets_count_as_auth_failures);
	tcase_add_test(tc, swpeer_caller_refuses_unverifiable_server);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *mk = getenv("SW_MKCERTS");
	char cmd[600];
	SRunner *sr;
	int failed;

	if (!mk || !getenv("SW_PEER")) {
		fprintf(stderr, "SW_MKCERTS and SW_PEER must be set\n");
		return 1;
	}
	if (tmpdir_mkdtemp(certdir, sizeof(certdir), "it_swpeer") == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "'%s' '%s'", mk, certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "mkcerts failed\n");
		return 1;
	}
	snprintf(ca, sizeof(ca), "%s/ca.crt", certdir);
	snprintf(agent_crt, sizeof(agent_crt), "%s/agent.crt", certdir);
	snprintf(agent_key, sizeof(agent_key), "%s/agent.key", certdir);
	sr = srunner_create(p2p_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tmpdir_rm_tree(certdir);
	return failed ? 1 : 0;
}
