/*
 * control.c: the control socket server: framing, dispatch, limits.
 *
 * Reads newline-delimited JSON requests from each client with a bufferevent, hands them
 * to the registered handler and writes one reply line per request, in order. Bounds what
 * a client can make us hold: request size, clients, unread replies, idle time. Not
 * responsible for the meaning of commands (the daemon registers them).
 */
#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "usock.h"

#define CONTROL_CMD_MAX 64

struct handler {
	struct handler *next;
	char cmd[CONTROL_CMD_MAX];
	control_cb cb;
	void *arg;
};

/* struct client: one connection. Owner: its struct control; freed by client_free(). */
struct client {
	struct control *c;
	struct client *next, **prevp;
	struct bufferevent *bev;
	bool closing; /* flush the output, then close */
};

/* struct control: the server. Owner: the daemon (control_new/control_free). */
struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables the listener after an accept error */
	char *path;
	struct handler *handlers;
	struct client *clients;
	unsigned nclients;
};

static void
client_free(struct client *cl)
{
	*cl->prevp = cl->next;
	if (cl->next != NULL)
		cl->next->prevp = cl->prevp;
	cl->c->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

static void
client_reply(struct client *cl, json_t *reply)
{
	size_t len;
	char *line;

	if (reply == NULL)
		reply = json_pack("{s:s}", "error", "internal error");
	else if (!json_is_object(reply)) {
		json_decref(reply);
		reply = json_pack("{s:s}", "error", "internal error");
	}
	if (reply == NULL)
		return;
	json_out_redact(reply);
	line = json_out_line(reply, &len);
	json_decref(reply);
	if (line != NULL)
		bufferevent_write(cl->bev, line, len);
	free(line);
}

static json_t *
control_builtin(struct control *c, const char *cmd)
{
	if (strcmp(cmd, "version") == 0)
		return json_pack("{s:s,s:i}", "version", SW_VERSION, "schema", 1);
	if (strcmp(cmd, "help") == 0) {
		json_t *list = json_array();
		bool have_version = false;
		for (struct handler *h = c->handlers; h != NULL; h = h->next) {
			json_array_append_new(list, json_string(h->cmd));
			have_version |= strcmp(h->cmd, "version") == 0;
		}
		if (!have_version)
			json_array_append_new(list, json_string("version"));
		json_array_append_new(list, json_string("help"));
		return json_pack("{s:o}", "commands", list);
	}
	return NULL;
}

json_t *
control_request(struct control *c, const char *line, size_t len)
{
	const char *cmd;
	json_t *req, *reply;
	struct handler *h;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || cmd == NULL) {
		json_decref(req);
		return json_pack("{s:s}", "error", "bad request");
	}
	for (h = c->handlers; h != NULL && strcmp(h->cmd, cmd) != 0; h = h->next)
		;
	if (h != NULL)
		reply = h->cb(req, h->arg);
	else if ((reply = control_builtin(c, cmd)) == NULL)
		reply = json_pack("{s:s}", "error", "unknown command");
	json_decref(req);
	return reply;
}

static void
client_request(struct client *cl, const char *line, size_t len)
{
	client_reply(cl, control_request(cl->c, line, len));
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;

	if (cl->closing)
		client_free(cl);
}

static void
client_close_after_flush(struct client *cl)
{
	cl->closing = true;
	bufferevent_disable(cl->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0)
		client_free(cl);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;

	while (!cl->closing && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (len > CONTROL_MAX_REQUEST) {
			free(line);
			goto too_large;
		}
		if (len > 0)
			client_request(cl, line, len);
		free(line);
	}
	if (cl->closing)
		return;
	if (evbuffer_get_length(in) > CONTROL_MAX_REQUEST)
		goto too_large;
	if (evbuffer_get_length(bufferevent_get_output(bev)) > CONTROL_MAX_PENDING) {
		client_free(cl); /* not reading its replies */
		return;
	}
	return;
too_large:
	client_reply(cl, json_pack("{s:s}", "error", "request too large"));
	client_close_after_flush(cl);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !cl->closing) {
		client_close_after_flush(cl); /* answer what it asked before it hung up */
		return;
	}
	client_free(cl);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                  void *arg)
{
	struct control *c = arg;
	struct timeval idle = {CONTROL_IDLE_TIMEOUT, 0};
	struct client *cl;

	if (c->nclients >= CONTROL_MAX_CLIENTS || (cl = calloc(1, sizeof(*cl))) == NULL) {
		close(fd);
		return;
	}
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		close(fd);
		free(cl);
		return;
	}
	cl->c = c;
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prevp = &cl->next;
	cl->prevp = &c->clients;
	c->clients = cl;
	c->nclients++;
	bufferevent_setcb(cl->bev, client_read_cb, client_write_cb, client_event_cb, cl);
	/* Stop reading once a request could be too large; the read cb then refuses it. */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CONTROL_MAX_REQUEST + 2);
	bufferevent_set_timeouts(cl->bev, &idle, NULL);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

static void
control_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	evconnlistener_enable(c->listener);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS): pause a second rather than spin. */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	struct timeval pause = {1, 0};

	evconnlistener_disable(l);
	event_add(c->resume, &pause);
}

struct control *
control_new(struct event_base *base, const char *path, unsigned mode, const char *group, char *err,
            size_t errlen)
{
	struct control *c;
	int fd;

	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = strdup(path ? path : "")) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	if ((c->resume = evtimer_new(base, control_accept_resume_cb, c)) == NULL ||
	    (fd = usock_listen(path, (mode_t)mode, group, err, errlen)) < 0) {
		if (c->resume == NULL)
			snprintf(err, errlen, "out of memory");
		else
			event_free(c->resume);
		free(c->path);
		free(c);
		return NULL;
	}
	c->listener = evconnlistener_new(base, control_accept_cb, c,
	                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (c->listener == NULL) {
		close(fd);
		unlink(path);
		event_free(c->resume);
		free(c->path);
		free(c);
		snprintf(err, errlen, "%s: cannot listen on event base", path);
		return NULL;
	}
	evconnlistener_set_error_cb(c->listener, control_accept_error_cb);
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	while (c->clients != NULL)
		client_free(c->clients);
	evconnlistener_free(c->listener);
	event_free(c->resume);
	unlink(c->path);
	free(c->path);
	while (c->handlers != NULL) {
		struct handler *h = c->handlers;
		c->handlers = h->next;
		free(h);
	}
	free(c);
}

int
control_register(struct control *c, const char *cmd, control_cb cb, void *arg)
{
	struct handler *h;
	size_t n = cmd ? strlen(cmd) : 0;

	if (n == 0 || n >= CONTROL_CMD_MAX || cb == NULL)
		return -EINVAL;
	for (h = c->handlers; h != NULL; h = h->next) {
		if (strcmp(h->cmd, cmd) == 0) {
			h->cb = cb;
			h->arg = arg;
			return 0;
		}
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	memcpy(h->cmd, cmd, n + 1);
	h->cb = cb;
	h->arg = arg;
	h->next = c->handlers;
	c->handlers = h;
	return 0;
}

unsigned
control_clients(const struct control *c)
{
	return c->nclients;
}
