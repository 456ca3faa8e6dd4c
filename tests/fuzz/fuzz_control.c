/*
 * fuzz_control: bytes a local client writes to the control socket, cut into lines as the
 * server does -> control_request() with the daemon's commands registered (handlers that
 * read the request's fields the way daemon/main.c's do) -> the reply line, redacted.
 * Property: every line gets a JSON object back.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/un.h>

#include <event2/event.h>
#include <jansson.h>

#include "control.h"
#include "fuzz.h"
#include "json_out.h"
#include "tmpdir.h"

static json_t *
ctl_call(const json_t *req, void *arg)
{
	const char *id = json_string_value(json_object_get(req, "id"));

	(void)arg;
	if (id == NULL)
		return json_pack("{s:s}", "error", "no such call");
	return json_pack("{s:s}", "id", id); /* echo: the redaction sees peer text */
}

static json_t *
ctl_list(const json_t *req, void *arg)
{
	(void)req;
	(void)arg;
	return json_pack("{s:[]}", "calls");
}

static struct control *
server(void)
{
	static struct control *c;
	static struct event_base *base;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], err[256];
	int n;

	if (c != NULL)
		return c;
	base = event_base_new();
	/* under the run's TMPDIR (a test's own: tests/tmpdir_run), /tmp if that is too long */
	n = snprintf(path, sizeof(path), "%s/sw-fuzz-control-%d.sock", tmpdir_path(),
	             (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(path))
		snprintf(path, sizeof(path), "/tmp/sw-fuzz-control-%d.sock", (int)getpid());
	unlink(path);
	if (base == NULL || (c = control_new(base, path, 0600, NULL, err, sizeof(err))) == NULL)
		abort();
	unlink(path); /* the listener stays open; nothing connects */
	control_register(c, "call", ctl_call, NULL);
	control_register(c, "calls", ctl_list, NULL);
	control_register(c, "agents", ctl_list, NULL);
	control_register(c, "stats", ctl_list, NULL);
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control *c = server();
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);
		json_t *reply;

		if (len > 0 && len <= CONTROL_MAX_REQUEST) {
			size_t n;
			char *line;

			reply = control_request(c, p, len);
			FUZZ_CHECK(json_is_object(reply));
			json_out_redact(reply);
			line = json_out_line(reply, &n);
			FUZZ_CHECK(line != NULL && n > 0 && line[n - 1] == '\n');
			FUZZ_CHECK(memchr(line, '\n', n - 1) == NULL);
			free(line);
			json_decref(reply);
		}
		p += len + (nl != NULL);
	}
	return 0;
}
