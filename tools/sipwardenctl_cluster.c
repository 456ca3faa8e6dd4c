/*
 * sipwardenctl --cluster calls|stats: the registry and counts of every instance sharing
 * this one's Redis ([cluster]), as the daemon's view of the store holds them. The daemon
 * refreshes that view on request; this asks again until it is fresh (or gives up after
 * CLUSTER_WAIT_MS) and prints it. Not responsible for the store: it only asks and prints.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sipwardenctl.h"

#define CLUSTER_FRESH_MS 1500 /* a view older than this is asked for again */
#define CLUSTER_WAIT_MS  3000

/* The registry of every instance: INSTANCE CALL TRUNK AGENT STATE AGE. */
static void
human_cluster_calls(const json_t *reply, FILE *f)
{
	const json_t *calls = json_object_get(json_object_get(reply, "view"), "calls"), *c;
	struct timespec now;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "%-16s %-32s %-12s %-12s %-9s %9s\n", "INSTANCE", "CALL", "TRUNK", "AGENT",
	        "STATE", "AGE");
	json_array_foreach(calls, i, c)
	{
		char age[32];
		json_int_t start = json_integer_value(json_object_get(c, "start"));
		ctl_fmt_duration(age, sizeof(age),
		                 (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - start);
		fprintf(f, "%-16.16s %-32.32s %-12.12s %-12.12s %-9.9s %9s\n",
		        ctl_str_or(json_object_get(c, "instance"), "?"),
		        ctl_str_or(json_object_get(c, "id"), "?"),
		        ctl_str_or(json_object_get(c, "trunk"), "-"),
		        ctl_str_or(json_object_get(c, "agent"), "-"),
		        ctl_str_or(json_object_get(c, "state"), "-"), age);
	}
	fprintf(f, "%zu call(s) on %zu instance(s)\n", json_array_size(calls),
	        json_array_size(json_object_get(json_object_get(reply, "view"), "instances")));
}

/* Every instance's counts, then this one's view of the store. */
static void
human_cluster_stats(const json_t *reply, FILE *f)
{
	const json_t *inst = json_object_get(json_object_get(reply, "view"), "instances"), *x;
	size_t i;

	fprintf(f, "%-16s %6s  %s\n", "INSTANCE", "CALLS", "BY TRUNK");
	json_array_foreach(inst, i, x)
	{
		const char *k;
		json_t *v;
		fprintf(f, "%-16.16s %6lld ", ctl_str_or(json_object_get(x, "instance"), "?"),
		        (long long)json_integer_value(json_object_get(x, "calls")));
		json_object_foreach(json_object_get(x, "trunks"), k, v)
		        fprintf(f, " %s=%lld", ctl_esc(k), (long long)json_integer_value(v));
		fprintf(f, "\n");
	}
	json_t *own = json_deep_copy(reply);

	fprintf(f, "\nthis instance (%s):", ctl_str_or(json_object_get(reply, "instance"), "?"));
	json_object_del(own, "view");
	ctl_print_flat(own, "", " ", "=", "", f);
	fprintf(f, "\n");
	json_decref(own);
}

int
ctl_cluster(const struct ctl_opts *o, bool calls)
{
	struct timespec t0, t;
	json_t *reply = NULL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		const json_t *age;
		long waited;
		json_decref(reply);
		reply = ctl_request(o, json_pack("{s:s}", "cmd", "cluster"));
		if (reply == NULL || json_object_get(reply, "error") != NULL)
			break;
		age = json_object_get(reply, "age_ms");
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if ((json_is_integer(age) && json_integer_value(age) <= CLUSTER_FRESH_MS) ||
		    waited > CLUSTER_WAIT_MS)
			break;
		usleep(100000); /* the daemon is asking Redis */
	}
	if (reply != NULL && json_object_get(reply, "error") == NULL &&
	    !json_is_object(json_object_get(reply, "view"))) {
		json_decref(reply);
		fprintf(stderr, "sipwardenctl: no view of the cluster yet (is Redis reachable?)\n");
		return 1;
	}
	if (o->json && reply != NULL && calls) {
		json_t *v = json_incref(json_object_get(reply, "view"));
		json_decref(reply);
		reply = v;
	}
	return ctl_print_reply(o, reply, calls ? human_cluster_calls : human_cluster_stats);
}
