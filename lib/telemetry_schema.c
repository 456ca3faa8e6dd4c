/*
 * telemetry_schema.c: the telemetry schema and its validation.
 *
 * The schema is one table below: for each event name, the fields it must carry and
 * their JSON types, nested objects included. telemetry_validate() checks an event
 * against it strictly (no missing, no mistyped, no unknown fields); the server refuses
 * events that fail, and the unit tests check every builder's output against it and what
 * subscribers read back. Not responsible for building events (telemetry_event.c) or
 * delivering them (telemetry.c).
 */
#include "telemetry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json_out.h"

enum {
	F_STR = 1,
	F_INT = 2,
	F_NUM = 4, /* integer or real */
	F_BOOL = 8,
	F_OBJ = 16,
	F_NULL = 32,
	F_OPT = 64,   /* may be absent */
	F_STRS = 128, /* an array of strings */
};

struct field {
	const char *name;
	unsigned types;
	const struct field *sub; /* for F_OBJ */
};

static const struct field f_tls[] = {
        {"tls", F_STR | F_NULL, NULL},
        {"cipher", F_STR | F_NULL, NULL},
        {"peer_cert_sha256", F_STR | F_NULL, NULL},
        {"peer", F_STR | F_NULL, NULL},
        {NULL, 0, NULL},
};

static const struct field f_drops[] = {
        {"auth", F_INT, NULL},
        {"replay", F_INT, NULL},
        {"plaintext", F_INT, NULL},
        {"unknown_source", F_INT, NULL},
        {"ssrc_limit", F_INT | F_OPT, NULL}, /* added in schema 1; builders always set it */
        {"malformed", F_INT | F_OPT, NULL},  /* added in schema 1; builders always set it */
        {"other", F_INT | F_OPT, NULL},      /* added in schema 1; builders always set it */
        {NULL, 0, NULL},
};

static const struct field f_dir[] = {
        {"packets", F_INT, NULL},
        {"bytes", F_INT, NULL},
        {"lost", F_INT | F_NULL, NULL},
        {"loss", F_NUM | F_NULL, NULL},
        {"jitter_ms", F_NUM | F_NULL, NULL},
        {"mos", F_NUM | F_NULL, NULL},
        {"rtt_ms", F_NUM | F_NULL | F_OPT, NULL}, /* added in schema 1; builders set it */
        {"drops", F_OBJ, f_drops},
        {"dtmf_events", F_INT | F_OPT, NULL}, /* added in schema 1; builders set it */
        {NULL, 0, NULL},
};

static const struct field f_leg[] = {
        {"suite", F_STR | F_NULL, NULL},
        {"latched", F_STR | F_NULL, NULL},
        {"first_packet_ms", F_INT | F_NULL, NULL},
        {"signalling", F_OBJ, f_tls},
        {"in", F_OBJ, f_dir},
        {"out", F_OBJ, f_dir},
        {NULL, 0, NULL},
};

static const struct field f_legs[] = {
        {"trunk", F_OBJ, f_leg},
        {"agent", F_OBJ | F_NULL, f_leg},
        {"human", F_OBJ | F_OPT, f_leg}, /* call.end after a bridge transfer's call */
        {NULL, 0, NULL},
};

static const struct field f_suites[] = {
        {"trunk", F_STR | F_NULL, NULL},
        {"agent", F_STR | F_NULL, NULL},
        {NULL, 0, NULL},
};

#define COMMON                                                                                     \
	{"v", F_INT, NULL}, {"ts", F_STR, NULL}, {"instance", F_STR | F_OPT, NULL},                \
	{                                                                                          \
		"event", F_STR, NULL                                                               \
	}
#define CALL                                                                                       \
	{                                                                                          \
		"call", F_STR, NULL                                                                \
	}
#define END                                                                                        \
	{                                                                                          \
		NULL, 0, NULL                                                                      \
	}

static const struct field e_daemon_start[] = {
        COMMON, {"version", F_STR, NULL}, {"pid", F_INT, NULL}, END};
static const struct field e_daemon_stop[] = {COMMON, {"reason", F_STR, NULL}, END};
static const struct field e_config_loaded[] = {
        COMMON, {"path", F_STR, NULL}, {"sha256", F_STR, NULL}, END};
static const struct field e_config_refused[] = {COMMON,
                                                {"path", F_STR, NULL},
                                                {"reason", F_STR, NULL},
                                                {"detail", F_STR, NULL},
                                                {"keys", F_STRS, NULL},
                                                END};
static const struct field e_call_start[] = {COMMON,
                                            CALL,
                                            {"trunk", F_STR, NULL},
                                            {"from", F_STR | F_NULL, NULL},
                                            {"to", F_STR | F_NULL, NULL},
                                            {"signalling", F_OBJ, f_tls},
                                            END};
static const struct field e_call_answer[] = {COMMON,
                                             CALL,
                                             {"agent", F_STR, NULL},
                                             {"setup_ms", F_INT, NULL},
                                             {"suites", F_OBJ, f_suites},
                                             END};
static const struct field e_call_interim[] = {
        COMMON, CALL, {"duration_ms", F_INT, NULL}, {"legs", F_OBJ, f_legs}, END};
static const struct field e_call_end[] = {COMMON,
                                          CALL,
                                          {"outcome", F_STR, NULL},
                                          {"ended_by", F_STR, NULL},
                                          {"reason", F_STR, NULL},
                                          {"sip_code", F_INT, NULL},
                                          {"duration_ms", F_INT, NULL},
                                          {"agent", F_STR | F_NULL, NULL},
                                          {"legs", F_OBJ, f_legs},
                                          END};
#define SECURITY                                                                                   \
	COMMON, {"call", F_STR | F_NULL | F_OPT, NULL}, {"source", F_STR | F_NULL, NULL},          \
	        {"reason", F_STR, NULL},                                                           \
	{                                                                                          \
		"detail", F_STR | F_OPT, NULL                                                      \
	}
static const struct field e_call_transfer[] = {COMMON,
                                               CALL,
                                               {"agent", F_STR | F_NULL, NULL},
                                               {"target", F_STR | F_NULL, NULL},
                                               {"mode", F_STR, NULL},
                                               {"outcome", F_STR, NULL},
                                               {"sip_code", F_INT, NULL},
                                               {"answer_ms", F_INT | F_NULL, NULL},
                                               END};
static const struct field e_security[] = {SECURITY, END};
static const struct field e_security_code[] = {SECURITY, {"sip_code", F_INT, NULL}, END};
static const struct field e_security_ban[] = {SECURITY, {"duration_ms", F_INT, NULL}, END};
static const struct field e_security_xfer[] = {SECURITY,
                                               {"sip_code", F_INT, NULL},
                                               {"agent", F_STR | F_NULL, NULL},
                                               {"requested", F_STR | F_NULL, NULL},
                                               END};
static const struct field e_agent[] = {COMMON,
                                       {"agent", F_STR, NULL},
                                       {"address", F_STR | F_NULL, NULL},
                                       {"reason", F_STR | F_NULL, NULL},
                                       END};
static const struct field e_dropped[] = {COMMON, {"count", F_INT, NULL}, END};

static const struct {
	const char *name;
	const struct field *fields;
} schema[] = {
        {"daemon.start", e_daemon_start},
        {"daemon.stop", e_daemon_stop},
        {"config.loaded", e_config_loaded},
        {"config.refused", e_config_refused},
        {"call.start", e_call_start},
        {"call.answer", e_call_answer},
        {"call.interim", e_call_interim},
        {"call.end", e_call_end},
        {"call.transfer", e_call_transfer},
        {"security.offer_refused", e_security_code},
        {"security.tls_handshake_failed", e_security},
        {"security.peer_unknown", e_security},
        {"security.downgrade_refused", e_security_code},
        {"security.limit_reached", e_security},
        {"security.input_refused", e_security_code},
        {"security.flood", e_security},
        {"security.source_banned", e_security_ban},
        {"security.cluster_degraded", e_security},
        {"security.transfer_refused", e_security_xfer},
        {"agent.up", e_agent},
        {"agent.down", e_agent},
        {"telemetry.dropped", e_dropped},
};
#define NSCHEMA (sizeof(schema) / sizeof(schema[0]))

const char *const *
telemetry_event_names(void)
{
	static const char *names[NSCHEMA + 1];

	if (names[0] == NULL) {
		for (size_t i = 0; i < NSCHEMA; i++)
			names[i] = schema[i].name;
	}
	return names;
}

static bool
type_ok(const json_t *v, unsigned types)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return types & F_STR;
	case JSON_INTEGER:
		return types & (F_INT | F_NUM);
	case JSON_REAL:
		return types & F_NUM;
	case JSON_TRUE:
	case JSON_FALSE:
		return types & F_BOOL;
	case JSON_OBJECT:
		return types & F_OBJ;
	case JSON_NULL:
		return types & F_NULL;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		if (!(types & F_STRS))
			return false;
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

static int
check_object(const json_t *o, const struct field *fs, const char *where, char *err, size_t n)
{
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; fs[i].name != NULL; i++) {
		v = json_object_get(o, fs[i].name);
		if (v == NULL) {
			if (fs[i].types & F_OPT)
				continue;
			snprintf(err, n, "%s: missing field \"%s\"", where, fs[i].name);
			return -EINVAL;
		}
		if (!type_ok(v, fs[i].types)) {
			snprintf(err, n, "%s: field \"%s\" has the wrong type", where, fs[i].name);
			return -EINVAL;
		}
		if (json_is_integer(v) && (fs[i].types & F_INT) && json_integer_value(v) < 0) {
			snprintf(err, n, "%s: field \"%s\" is negative", where, fs[i].name);
			return -EINVAL;
		}
		if (json_is_object(v) && fs[i].sub != NULL &&
		    check_object(v, fs[i].sub, fs[i].name, err, n) < 0)
			return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, v)
	{
		for (i = 0; fs[i].name != NULL && strcmp(fs[i].name, key) != 0; i++)
			;
		if (fs[i].name == NULL) {
			snprintf(err, n, "%s: unknown field \"%s\"", where, key);
			return -EINVAL;
		}
	}
	return 0;
}

int
telemetry_validate(const json_t *ev, char *err, size_t errlen)
{
	char dummy[8];
	const char *name;

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!json_is_object(ev)) {
		snprintf(err, errlen, "event is not an object");
		return -EINVAL;
	}
	if ((name = json_string_value(json_object_get(ev, "event"))) == NULL) {
		snprintf(err, errlen, "no \"event\" name");
		return -EINVAL;
	}
	for (size_t i = 0; i < NSCHEMA; i++) {
		if (strcmp(schema[i].name, name) != 0)
			continue;
		if (check_object(ev, schema[i].fields, name, err, errlen) < 0)
			return -EINVAL;
		if (json_integer_value(json_object_get(ev, "v")) != TELEMETRY_SCHEMA_VERSION ||
		    !json_out_is_timestamp(json_string_value(json_object_get(ev, "ts")))) {
			snprintf(err, errlen, "%s: bad \"v\" or \"ts\"", name);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown event \"%s\"", name);
	return -EINVAL;
}
