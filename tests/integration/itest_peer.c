/*
 * itest_peer.c: the integration harness's helpers around the daemon: the control and
 * telemetry sockets, swpeer as agent and caller, certificate fingerprints, and reading
 * swpeer's result files and telemetry lines. The daemon's life cycle, child processes
 * and the TLS client are in itest.c. Test code only.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

char *
itest_control(const struct itest *t, const char *request, int timeout_ms)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int64_t end = itest_now_ms() + timeout_ms;
	char *buf = calloc(1, 1 << 20);
	size_t len = 0;
	int fd;

	if (buf == NULL || strlen(t->ctl_path) >= sizeof(sun.sun_path))
		goto fail;
	strcpy(sun.sun_path, t->ctl_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request) ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		goto fail;
	}
	while (len < (1 << 20) - 1 && memchr(buf, '\n', len) == NULL) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - itest_now_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if ((n = read(fd, buf + len, (1 << 20) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (memchr(buf, '\n', len) == NULL)
		goto fail;
	*(char *)memchr(buf, '\n', len) = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

int
itest_telemetry_connect(const struct itest *t)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(t->tel_path), sizeof(sun.sun_path));
	strcpy(sun.sun_path, t->tel_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

size_t
itest_telemetry_read(int fd, char *buf, size_t cap, const char *until, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	size_t len = strlen(buf);

	while (len + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - itest_now_ms();
		ssize_t n;
		if (until != NULL && strstr(buf, until) != NULL &&
		    strchr(strstr(buf, until), '\n') != NULL)
			break;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if ((n = read(fd, buf + len, cap - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

static bool
tcp_accepts(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	inet_pton(AF_INET, ip, &sin.sin_addr);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

pid_t
itest_agent(const struct itest *t, const char *const extra[])
{
	const char *peer = getenv("SW_PEER");
	char listen[64], cert[256], key[256], out[256], err[256];
	const char *argv[64] = {0};
	size_t n = 0;
	pid_t pid;

	ck_assert_msg(peer != NULL, "SW_PEER not set");
	snprintf(listen, sizeof(listen), "%s:%u", t->agent_ip, t->agent_port);
	itest_path(t, "agent.crt", cert, sizeof(cert));
	itest_path(t, "agent.key", key, sizeof(key));
	itest_path(t, "agent.json", out, sizeof(out));
	itest_path(t, "agent.log", err, sizeof(err));
	argv[n++] = peer;
	argv[n++] = "answer";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--cert";
	argv[n++] = cert;
	argv[n++] = "--key";
	argv[n++] = key;
	argv[n++] = "--json";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	pid = itest_spawn(argv, out, err);
	for (int i = 0; i < 500 && !tcp_accepts(t->agent_ip, t->agent_port); i++)
		usleep(10000);
	return pid;
}

void
itest_wait_listening(const char *ip, uint16_t port, int timeout_ms)
{
	for (int waited = 0; !tcp_accepts(ip, port); waited += 10) {
		ck_assert_msg(waited < timeout_ms, "nothing listens on %s:%u after %d ms", ip, port,
		              timeout_ms);
		usleep(10000);
	}
}

/*
 * swpeer calling sip:<dial>@<daemon> over TLS (--json output to `out`, its stderr to
 * `out`.log), presenting the agent's certificate when `agent_cert`, then the `extra`
 * arguments: the argv both itest_caller_spawn() and itest_agent_call_spawn() start.
 */
static pid_t
peer_call_spawn(const struct itest *t, const char *out, const char *dial, bool agent_cert,
                const char *const extra[])
{
	const char *peer = getenv("SW_PEER");
	char to[256], ca[256], cert[256], key[256], outp[256], errp[272];
	const char *argv[64] = {0};
	size_t n = 0;

	ck_assert_msg(peer != NULL, "SW_PEER not set");
	snprintf(to, sizeof(to), "sip:%s@%s:%u", dial, t->ip, t->port);
	itest_path(t, "ca.crt", ca, sizeof(ca));
	itest_path(t, out, outp, sizeof(outp));
	snprintf(errp, sizeof(errp), "%s.log", outp);
	argv[n++] = peer;
	argv[n++] = "call";
	argv[n++] = "--to";
	argv[n++] = to;
	argv[n++] = "--ca";
	argv[n++] = ca;
	argv[n++] = "--tls-name";
	argv[n++] = "localhost";
	if (agent_cert) {
		itest_path(t, "agent.crt", cert, sizeof(cert));
		itest_path(t, "agent.key", key, sizeof(key));
		argv[n++] = "--cert";
		argv[n++] = cert;
		argv[n++] = "--key";
		argv[n++] = key;
	}
	argv[n++] = "--json";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	return itest_spawn(argv, outp, errp);
}

pid_t
itest_caller_spawn(const struct itest *t, const char *out, const char *const extra[])
{
	return peer_call_spawn(t, out, "agent", false, extra);
}

pid_t
itest_agent_call_spawn(const struct itest *t, const char *out, const char *dial,
                       const char *const extra[])
{
	return peer_call_spawn(t, out, dial, true, extra);
}

int
itest_caller(const struct itest *t, const char *out, const char *const extra[], int timeout_ms)
{
	return itest_wait_child(itest_caller_spawn(t, out, extra), timeout_ms);
}

void
itest_start_transfer(struct itest *t, const char *mode, uint16_t tport, bool agent_pin)
{
	struct itest_opts o = {.agent_pin = agent_pin};
	char trunk[96];
	size_t n = 0;

	trunk[0] = '\0';
	if (tport != 0)
		n += (size_t)snprintf(trunk + n, sizeof(trunk) - n, "target = 127.0.0.1:%u\n",
		                      tport);
	if (mode != NULL)
		snprintf(trunk + n, sizeof(trunk) - n, "transfer = %s\n", mode);
	o.trunk_extra = trunk[0] != '\0' ? trunk : NULL;
	o.extra = "[transfer sales]\n"
	          "match = sip:sales@agents.invalid\n"
	          "target = " ITEST_XFER_TARGET "\n";
	itest_start(t, &o);
}

void
itest_refer_call(struct itest *t, const char *refer_to, const char *agent_timeout,
                 const char *const call_args[], int call_ms, json_t **caller, json_t **agent)
{
	const char *agent_args[] = {"--mode",      "echo",    "--calls", "1",         "--timeout",
	                            agent_timeout, "--refer", refer_to,  "--verbose", NULL};
	pid_t ap = itest_agent(t, agent_args);

	ck_assert_int_ge(itest_caller(t, "caller.json", call_args, call_ms), 0);
	ck_assert_int_ge(itest_wait_child(ap, 10000), 0);
	*caller = itest_result(t, "caller.json");
	*agent = itest_result(t, "agent.json");
}

void
itest_cert_sha256(const char *path, char out[65])
{
	FILE *f = fopen(path, "r");
	X509 *x;
	unsigned char md[32];
	unsigned int n = 0;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &n), 1);
	X509_free(x);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

json_t *
itest_results(const struct itest *t, const char *name)
{
	char path[256];
	size_t len;
	char *data = itest_read_file(itest_path(t, name, path, sizeof(path)), &len);
	json_t *all = json_array();

	if (data == NULL)
		return all;
	for (char *line = strtok(data, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (j != NULL && json_object_get(j, "code") != NULL)
			json_array_append_new(all, j);
		else
			json_decref(j);
	}
	free(data);
	return all;
}

json_t *
itest_result(const struct itest *t, const char *name)
{
	json_t *all = itest_results(t, name), *c = json_array_get(all, 0);

	ck_assert_msg(c != NULL, "no call result in %s", name);
	json_incref(c);
	json_decref(all);
	return c;
}

json_int_t
itest_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

const char *
itest_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

json_t *
itest_event(const char *lines, const char *event)
{
	char *copy = strdup(lines), *save = NULL;
	json_t *found = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line != NULL && found == NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		if (j != NULL && json_is_string(json_object_get(j, "event")) &&
		    strcmp(json_string_value(json_object_get(j, "event")), event) == 0)
			found = j;
		else
			json_decref(j);
	}
	free(copy);
	return found;
}

void
itest_check_exit(const struct itest *t, int rc, const char *file)
{
	char path[256];
	size_t len;
	char *data;

	if (rc == 0)
		return;
	data = itest_read_file(itest_path(t, file, path, sizeof(path)), &len);
	ck_abort_msg("%s: exit status %d: %s", file, rc, data != NULL ? data : "(no output)");
	free(data);
}

int
itest_count_events(const char *lines, const char *event, const char *reason)
{
	char *copy = strdup(lines), *save = NULL;
	int n = 0;

	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *e = json_string_value(json_object_get(j, "event"));
		const char *r = json_string_value(json_object_get(j, "reason"));
		if (e != NULL && strcmp(e, event) == 0 &&
		    (reason == NULL || (r != NULL && strcmp(r, reason) == 0)))
			n++;
		json_decref(j);
	}
	free(copy);
	return n;
}

void
itest_assert_no_calls(const struct itest *t)
{
	itest_wait_no_calls(t, 2500);
}

void
itest_wait_no_calls(const struct itest *t, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	char *reply = NULL;

	for (;;) {
		free(reply);
		reply = itest_control(t, "{\"cmd\":\"calls\"}", 2000);
		if ((reply != NULL && strstr(reply, "\"count\":0") != NULL) ||
		    itest_now_ms() >= end)
			break;
		usleep(50000);
	}
	ck_assert_msg(reply != NULL && strstr(reply, "\"count\":0") != NULL, "calls: %s", reply);
	free(reply);
}

void
itest_sdes_offer(char *sdp, size_t cap)
{
	unsigned char key[46];
	char k64[80];

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	EVP_EncodeBlock((unsigned char *)k64, key, (int)sizeof(key));
	snprintf(sdp, cap,
	         "v=0\r\n"
	         "o=itest 1 1 IN IP4 127.0.0.1\r\n"
	         "s=-\r\n"
	         "c=IN IP4 127.0.0.1\r\n"
	         "t=0 0\r\n"
	         "m=audio %u RTP/SAVP 0\r\n"
	         "a=rtpmap:0 PCMU/8000\r\n"
	         "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:%s\r\n"
	         "a=sendrecv\r\n",
	         itest_port(), k64);
}

void
itest_send_invite(const struct itest *t, struct itest_conn *c, const char *callid,
                  const char *extra, char *sdp, size_t sdpcap)
{
	static char req[16384];
	char own[1024];

	if (sdp == NULL) {
		sdp = own;
		sdpcap = sizeof(own);
	}
	itest_sdes_offer(sdp, sdpcap);
	snprintf(req, sizeof(req),
	         "INVITE sip:agent@%s:%u SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "%s"
	         "From: <sip:+15550100@127.0.0.1>;tag=rt1\r\n"
	         "To: <sip:agent@%s>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: 1 INVITE\r\n"
	         "Contact: <sip:itest@127.0.0.1:5099;transport=tls>\r\n"
	         "Content-Type: application/sdp\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         t->ip, t->port, callid, extra, t->ip, callid, strlen(sdp), sdp);
	ck_assert_int_eq(itest_send_str(c, req), 0);
}

pid_t
itest_carrier(const struct itest *t, uint16_t port, const char *const extra[])
{
	char listen[64], cert[256], key[256], out[256], err[256];
	const char *argv[64] = {0};
	size_t n = 0;
	pid_t pid;

	ck_assert_msg(getenv("SW_PEER") != NULL, "SW_PEER not set");
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	argv[n++] = getenv("SW_PEER");
	argv[n++] = "answer";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--cert";
	argv[n++] = itest_path(t, "trunk.crt", cert, sizeof(cert));
	argv[n++] = "--key";
	argv[n++] = itest_path(t, "trunk.key", key, sizeof(key));
	argv[n++] = "--json";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	pid = itest_spawn(argv, itest_path(t, "carrier.json", out, sizeof(out)),
	                  itest_path(t, "carrier.log", err, sizeof(err)));
	itest_wait_listening("127.0.0.1", port, 10000);
	return pid;
}
