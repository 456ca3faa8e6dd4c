/*
 * cluster_proto.c: see cluster_proto.h. The Lua scripts that keep the shared limits,
 * bans and registry in Redis, and the strict readers of their replies and of the ban
 * messages on the channel. Redis is shared with other instances, so what comes back is
 * checked like peer input: a reply of the wrong shape is a store failure, a ban that does
 * not parse is ignored.
 */
#include "cluster_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* live(p, me, f): walk P:instances, drop the instances whose heartbeat expired (their
 * counts and registry go with them) and call f(x) for the live ones (`me` always). */
#define LUA_LIVE                                                                                   \
	"local function live(p, me, f)\n"                                                          \
	"  for _, x in ipairs(redis.call('SMEMBERS', p..':instances')) do\n"                       \
	"    if x == me or redis.call('EXISTS', p..':hb:'..x) == 1 then\n"                         \
	"      f(x)\n"                                                                             \
	"    else\n"                                                                               \
	"      redis.call('SREM', p..':instances', x)\n"                                           \
	"      redis.call('DEL', p..':count:'..x, p..':reg:'..x)\n"                                \
	"    end\n"                                                                                \
	"  end\n"                                                                                  \
	"end\n"

/* now: Redis's clock in ms, the one clock every instance's bans are measured with. */
#define LUA_NOW                                                                                    \
	"local t = redis.call('TIME')\n"                                                           \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

static const char script_heartbeat[] =
        LUA_LIVE LUA_NOW "local p, me, ttl, nonce = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]\n"
                         "local n = tonumber(ARGV[5])\n"
                         "local old = redis.call('GET', p..':hb:'..me)\n"
                         "redis.call('SET', p..':hb:'..me, nonce, 'PX', ttl)\n"
                         "redis.call('SADD', p..':instances', me)\n"
                         "local h, r = p..':count:'..me, p..':reg:'..me\n"
                         "redis.call('DEL', h, r)\n"
                         "local i = 6\n"
                         "for k = 1, n do\n"
                         "  redis.call('HSET', h, ARGV[i], ARGV[i + 1])\n"
                         "  i = i + 2\n"
                         "end\n"
                         "while i < #ARGV do\n"
                         "  redis.call('HSET', r, ARGV[i], ARGV[i + 1])\n"
                         "  i = i + 2\n"
                         "end\n"
                         "redis.call('PEXPIRE', h, ttl * 3)\n"
                         "redis.call('PEXPIRE', r, ttl)\n"
                         "local n_live = 0\n"
                         "live(p, me, function(x) n_live = n_live + 1 end)\n"
                         "redis.call('ZREMRANGEBYSCORE', p..':bans', '-inf', now)\n"
                         "local clash = 0\n"
                         "if old and old ~= nonce then clash = 1 end\n"
                         "return {n_live, clash}\n";

static const char script_admit[] =
        LUA_LIVE "local p, me, tr = ARGV[1], ARGV[2], 't:'..ARGV[3]\n"
                 "local gmax, tmax = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
                 "local all, trn = 0, 0\n"
                 "live(p, me, function(x)\n"
                 "  local v = redis.call('HMGET', p..':count:'..x, 'all', tr)\n"
                 "  all = all + (tonumber(v[1]) or 0)\n"
                 "  trn = trn + (tonumber(v[2]) or 0)\n"
                 "end)\n"
                 "if all >= gmax then return {0, 'max_calls', all, trn} end\n"
                 "if tmax > 0 and trn >= tmax then return {0, 'trunk_max_calls', all, trn} end\n"
                 "redis.call('HINCRBY', p..':count:'..me, 'all', 1)\n"
                 "redis.call('HINCRBY', p..':count:'..me, tr, 1)\n"
                 "return {1, 'ok', all + 1, trn + 1}\n";

static const char script_release[] =
        "local h = ARGV[1]..':count:'..ARGV[2]\n"
        "for _, f in ipairs({'all', 't:'..ARGV[3]}) do\n"
        "  if redis.call('HINCRBY', h, f, -1) < 0 then redis.call('HSET', h, f, 0) end\n"
        "end\n"
        "return 1\n";

static const char script_ban[] = LUA_NOW
        "local p = ARGV[1]\n"
        "local m, exp = ARGV[3]..' '..ARGV[5], now + tonumber(ARGV[4])\n"
        "local old = redis.call('ZSCORE', p..':bans', m)\n"
        "if not old or tonumber(old) < exp then redis.call('ZADD', p..':bans', exp, m) end\n"
        "redis.call('PUBLISH', p..':bans', ARGV[2]..' '..ARGV[4]..' '..ARGV[5]..' '..ARGV[3])\n"
        "return 1\n";

static const char script_bans[] = LUA_NOW
        "local p = ARGV[1]\n"
        "local r = redis.call('ZRANGEBYSCORE', p..':bans', '('..now, '+inf', 'WITHSCORES')\n"
        "local out = {}\n"
        "for i = 1, #r, 2 do\n"
        "  out[#out + 1] = r[i]\n"
        "  out[#out + 1] = tostring(math.floor(tonumber(r[i + 1]) - now))\n"
        "end\n"
        "return out\n";

static const char script_view[] =
        LUA_LIVE "local p, out = ARGV[1], {}\n"
                 "live(p, '', function(x)\n"
                 "  out[#out + 1] = {x, redis.call('HGETALL', p..':count:'..x),\n"
                 "                   redis.call('HVALS', p..':reg:'..x)}\n"
                 "end)\n"
                 "return out\n";

static const char *const scripts[CLUSTER_SCRIPT_COUNT] = {
        [CLUSTER_SCRIPT_HEARTBEAT] = script_heartbeat, [CLUSTER_SCRIPT_ADMIT] = script_admit,
        [CLUSTER_SCRIPT_RELEASE] = script_release,     [CLUSTER_SCRIPT_BAN] = script_ban,
        [CLUSTER_SCRIPT_BANS] = script_bans,           [CLUSTER_SCRIPT_VIEW] = script_view,
};

const char *
cluster_proto_script(enum cluster_script s)
{
	return (unsigned)s < CLUSTER_SCRIPT_COUNT ? scripts[s] : NULL;
}

static bool
is_int(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_INTEGER;
}

int
cluster_proto_admit_reply(const redisReply *r, struct cluster_admit_result *out)
{
	const redisReply *e;

	if (r == NULL)
		return -EINVAL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 || !is_int(r->element[0]) ||
	    !is_int(r->element[2]) || !is_int(r->element[3]) || r->element[2]->integer < 0 ||
	    r->element[3]->integer < 0)
		return -EPROTO;
	e = r->element[1];
	if (e == NULL || e->type != REDIS_REPLY_STRING)
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	if (r->element[0]->integer == 1 && strcmp(e->str, "ok") == 0)
		out->granted = true;
	else if (r->element[0]->integer == 0 && strcmp(e->str, "max_calls") == 0)
		out->reason = "max_calls";
	else if (r->element[0]->integer == 0 && strcmp(e->str, "trunk_max_calls") == 0)
		out->reason = "trunk_max_calls";
	else
		return -EPROTO;
	out->all = r->element[2]->integer;
	out->trunk = r->element[3]->integer;
	return 0;
}

int
cluster_proto_heartbeat_reply(const redisReply *r, struct cluster_heartbeat *out)
{
	if (r == NULL)
		return -EINVAL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_int(r->element[0]) ||
	    !is_int(r->element[1]) || r->element[0]->integer < 1 ||
	    r->element[0]->integer > INT_MAX || (unsigned long long)r->element[1]->integer > 1)
		return -EPROTO;
	out->live = (unsigned)r->element[0]->integer;
	out->clash = r->element[1]->integer == 1;
	return 0;
}

unsigned
cluster_proto_share(unsigned limit, unsigned instances)
{
	unsigned n = instances > 0 ? instances : 1;

	if (limit == 0)
		return 0;
	return limit / n + (limit % n != 0);
}

/* Letters, digits, '-', '_', '.': what conf accepts for an instance name. */
static bool
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static bool
token_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

int
cluster_proto_ban_addr(const char *source, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 4];
	size_t n = strlen(source);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, source, n + 1);
	memset(ss, 0, sizeof(*ss));
	if (n > 3 && strcmp(buf + n - 3, "/64") == 0) {
		buf[n - 3] = '\0';
		if (inet_pton(AF_INET6, buf, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, buf, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int
ban_check(struct cluster_ban *out)
{
	struct sockaddr_storage ss;

	if (out->ms == 0 || out->ms > CLUSTER_BAN_MAX_MS || !token_ok(out->reason) ||
	    cluster_proto_ban_addr(out->source, &ss) != 0)
		return -EINVAL;
	return 0;
}

/* Split `buf` at single spaces into exactly `n` non-empty parts. */
static int
split(char *buf, char **parts, size_t n)
{
	size_t k = 0;
	char *p = buf;

	while (k < n) {
		parts[k++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (k != n || p != NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (parts[i][0] == '\0')
			return -EINVAL;
	return 0;
}

static int
parse_ms(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9' || strlen(s) > 10)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int
cluster_proto_ban_parse(char *buf, struct cluster_ban *out)
{
	char *p[4];

	if (buf == NULL || split(buf, p, 4) != 0 || !name_ok(p[0], 63) ||
	    parse_ms(p[1], &out->ms) != 0)
		return -EINVAL;
	out->instance = p[0];
	out->reason = p[2];
	out->source = p[3];
	return ban_check(out);
}

int
cluster_proto_ban_member_parse(char *buf, unsigned long ms, struct cluster_ban *out)
{
	char *p[2];

	if (buf == NULL || split(buf, p, 2) != 0)
		return -EINVAL;
	out->instance = NULL;
	out->source = p[0];
	out->reason = p[1];
	out->ms = ms;
	return ban_check(out);
}

static bool
is_str(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING;
}

/* One instance of a VIEW reply: {NAME, {FIELD, COUNT}*, {JSON}*}. */
static int
view_instance(const redisReply *r, json_t *instances, json_t *calls)
{
	const redisReply *counts, *reg;
	json_t *trunks, *o;
	long long all = 0;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    !is_str(r->element[0]) || r->element[1] == NULL ||
	    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements % 2 != 0 ||
	    r->element[2] == NULL || r->element[2]->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	counts = r->element[1];
	reg = r->element[2];
	if ((trunks = json_object()) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < counts->elements; i += 2) {
		const redisReply *f = counts->element[i], *v = counts->element[i + 1];
		char *end;
		long long n;
		if (!is_str(f) || !is_str(v))
			continue;
		n = strtoll(v->str, &end, 10);
		if (*end != '\0' || n < 0)
			continue;
		if (strcmp(f->str, "all") == 0)
			all = n;
		else if (strncmp(f->str, "t:", 2) == 0 && f->str[2] != '\0')
			json_object_set_new(trunks, f->str + 2, json_integer(n));
	}
	for (size_t i = 0; i < reg->elements; i++) {
		json_t *c;
		if (!is_str(reg->element[i]))
			continue;
		c = json_loadb(reg->element[i]->str, reg->element[i]->len, JSON_REJECT_DUPLICATES,
		               NULL);
		if (json_is_object(c))
			json_array_append(calls, c);
		json_decref(c);
	}
	o = json_pack("{s:s,s:I,s:o,s:I}", "instance", r->element[0]->str, "calls", (json_int_t)all,
	              "trunks", trunks, "registered", (json_int_t)reg->elements);
	if (o == NULL)
		return -ENOMEM;
	json_array_append_new(instances, o);
	return 0;
}

json_t *
cluster_proto_view(const redisReply *r)
{
	json_t *instances, *calls;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	instances = json_array();
	calls = json_array();
	if (instances == NULL || calls == NULL)
		goto fail;
	for (size_t i = 0; i < r->elements; i++)
		if (view_instance(r->element[i], instances, calls) != 0)
			goto fail;
	return json_pack("{s:o,s:o}", "instances", instances, "calls", calls);
fail:
	json_decref(instances);
	json_decref(calls);
	return NULL;
}
