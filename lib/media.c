/*
 * media.c: the media engine's control side.
 *
 * Starts and stops the workers, binds each new call's port pairs (so the B2BUA learns its
 * local ports synchronously), builds SRTP sessions for leg updates (so bad keys fail at
 * once), and turns every request into a command queued to the call's worker. Call ids are
 * opaque integers (worker index in the low 8 bits); no pointer a worker may free is ever
 * handed out. Not responsible for the packet path (media_worker.c).
 */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "media_worker.h"
#include "sip_rand.h"

#define MEDIA_MAX_WORKERS 256

/*
 * struct media_engine: workers and the control side's view of them.
 * Owner: the caller of media_engine_new(); freed by media_engine_free().
 */
struct media_engine {
	struct media_engine_conf conf;
	unsigned nworkers;
	struct media_worker *workers[MEDIA_MAX_WORKERS];
	int ev_efd;
	atomic_ullong next_seq;
	atomic_uint next_worker;
	enum media_io io; /* the path the workers run (never MEDIA_IO_AUTO) */
};

/* ---- process-wide init ---- */

#include "srtp_ossl.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;
static atomic_bool global_want_ossl = true;

static void
global_init_once(void)
{
	if (srtp_init() != srtp_err_status_ok) {
		global_rc = -EPROTO;
		return;
	}
	if (atomic_load(&global_want_ossl))
		global_rc = srtp_ossl_install();
}

int
media_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

int
media_global_init_crypto(bool openssl)
{
	atomic_store(&global_want_ossl, openssl);
	return media_global_init();
}

bool
media_global_openssl(void)
{
	return srtp_ossl_installed();
}

/* ---- engine ---- */

int
media_engine_new(struct media_engine **out, const struct media_engine_conf *conf)
{
	int err;

	if (conf == NULL || conf->port_min == 0 || conf->port_max < conf->port_min ||
	    conf->port_max - conf->port_min < 3 ||
	    (conf->local.ss_family != AF_INET && conf->local.ss_family != AF_INET6))
		return -EINVAL;
	if ((err = media_global_init()) != 0)
		return err;

	struct media_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->conf = *conf;
	e->nworkers = conf->workers;
	if (e->nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		e->nworkers = n > 0 ? (unsigned)n : 1;
	}
	if (e->nworkers > MEDIA_MAX_WORKERS)
		e->nworkers = MEDIA_MAX_WORKERS;
	unsigned ring = 1;
	while (ring < (conf->event_queue_len ? conf->event_queue_len : 4096))
		ring <<= 1;
	atomic_init(&e->next_seq, 1);
	atomic_init(&e->next_worker, 0);
	if ((e->ev_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		err = -errno;
		free(e);
		return err;
	}
	/* auto: io_uring when every worker gets its ring, else epoll for all of them */
	e->io = conf->io == MEDIA_IO_EPOLL ? MEDIA_IO_EPOLL : MEDIA_IO_URING;
	for (unsigned i = 0; i < e->nworkers; i++) {
		err = media_worker_new(&e->workers[i], i, e->ev_efd, ring, conf->idle_notice_s,
		                       e->io);
		if (err != 0 && conf->io == MEDIA_IO_AUTO && e->io == MEDIA_IO_URING) {
			for (unsigned k = 0; k < i; k++) {
				media_worker_free(e->workers[k]);
				e->workers[k] = NULL;
			}
			e->io = MEDIA_IO_EPOLL;
			i = (unsigned)-1; /* again from worker 0, on epoll */
			continue;
		}
		if (err != 0) {
			media_engine_free(e);
			return err;
		}
	}
	*out = e;
	return 0;
}

void
media_engine_free(struct media_engine *e)
{
	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->nworkers; i++)
		media_worker_free(e->workers[i]);
	if (e->ev_efd >= 0)
		close(e->ev_efd);
	free(e);
}

/* ---- ports ---- */

static int
bind_port(const struct sockaddr_storage *local, uint16_t port, int *fdp)
{
	struct sockaddr_storage sa = *local;
	socklen_t len;
	int fd, err;

	/* through a copy of the right type: no type-punned stores into sockaddr_storage */
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in in;
		memcpy(&in, local, sizeof(in));
		in.sin_port = htons(port);
		memcpy(&sa, &in, sizeof(in));
		len = sizeof(in);
	} else {
		struct sockaddr_in6 in6;
		memcpy(&in6, local, sizeof(in6));
		in6.sin6_port = htons(port);
		memcpy(&sa, &in6, sizeof(in6));
		len = sizeof(in6);
	}
	if ((fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/*
 * Bind an even/odd pair, starting at a random even port of the range and walking it once.
 * Ports in use are skipped. -EADDRINUSE when no pair is free.
 */
static int
bind_pair(const struct media_engine *e, struct media_leg *l)
{
	uint32_t first = (e->conf.port_min + 1u) & ~1u;
	uint32_t npairs = (e->conf.port_max >= first + 1) ? (e->conf.port_max - first + 1) / 2 : 0;
	uint32_t r = 0;
	int rc;

	if (npairs == 0)
		return -EADDRINUSE;
	if (sip_rand_bytes(&r, sizeof(r)) != 0) /* where to start looking: the token pool */
		r = (uint32_t)time(NULL);
	for (uint32_t i = 0; i < npairs; i++) {
		uint16_t port = (uint16_t)(first + 2 * ((r + i) % npairs));
		int fd0, fd1;
		if ((rc = bind_port(&e->conf.local, port, &fd0)) != 0) {
			if (rc == -EADDRINUSE || rc == -EACCES)
				continue;
			return rc;
		}
		if ((rc = bind_port(&e->conf.local, (uint16_t)(port + 1), &fd1)) != 0) {
			close(fd0);
			if (rc == -EADDRINUSE || rc == -EACCES)
				continue;
			return rc;
		}
		l->sock[0] = (struct media_sock){.fd = fd0, .port = port, .rtcp = false, .leg = l};
		l->sock[1] = (struct media_sock){
		        .fd = fd1, .port = (uint16_t)(port + 1), .rtcp = true, .leg = l};
		return 0;
	}
	return -EADDRINUSE;
}

/* ---- calls ---- */

static struct media_worker *
worker_of(const struct media_engine *e, uint64_t call_id)
{
	unsigned idx = (unsigned)(call_id & 0xff);
	uint64_t seq = call_id >> 8;

	if (idx >= e->nworkers || seq == 0 ||
	    seq >= atomic_load(&((struct media_engine *)e)->next_seq))
		return NULL;
	return e->workers[idx];
}

int
media_call_new(struct media_engine *e, uint64_t *call_id, uint16_t ports[2][2])
{
	struct media_call *c = calloc(1, sizeof(*c));
	struct media_cmd *cmd = calloc(1, sizeof(*cmd));
	int rc;

	if (c == NULL || cmd == NULL) {
		free(c);
		free(cmd);
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++) { /* leg C: media_leg_add() */
		c->leg[i] = &c->leg_ab[i];
		media_leg_init(c->leg[i], c, (enum media_leg_id)i);
		c->leg[i]->pair = 1 - i; /* A <-> B */
		if ((rc = rtcp_cname_new(c->leg[i]->cname)) != 0) {
			media_call_free(c);
			free(cmd);
			return rc;
		}
	}
	for (int i = 0; i < 2; i++) {
		if ((rc = bind_pair(e, c->leg[i])) != 0) {
			media_call_free(c);
			free(cmd);
			return rc;
		}
	}
	unsigned widx = atomic_fetch_add(&e->next_worker, 1) % e->nworkers;
	uint64_t seq = atomic_fetch_add(&e->next_seq, 1);
	c->id = seq << 8 | widx;
	for (int i = 0; i < 2; i++) {
		ports[i][0] = c->leg[i]->sock[0].port;
		ports[i][1] = c->leg[i]->sock[1].port;
	}
	*call_id = c->id;
	cmd->type = CMD_ADD;
	cmd->call_id = c->id;
	cmd->call = c;
	media_worker_post(e->workers[widx], cmd);
	return 0;
}

int
media_leg_update(struct media_engine *e, uint64_t call_id, enum media_leg_id leg,
                 const struct media_leg_conf *conf)
{
	struct media_worker *w = worker_of(e, call_id);
	int rc;

	if (w == NULL)
		return -ENOENT;
	if ((leg != MEDIA_LEG_A && leg != MEDIA_LEG_B && leg != MEDIA_LEG_C) || conf == NULL ||
	    (conf->remote_rtp.ss_family != AF_INET && conf->remote_rtp.ss_family != AF_INET6) ||
	    (conf->remote_rtcp.ss_family != AF_UNSPEC &&
	     conf->remote_rtcp.ss_family != conf->remote_rtp.ss_family))
		return -EINVAL;

	struct media_cmd *cmd = calloc(1, sizeof(*cmd));
	if (cmd == NULL)
		return -ENOMEM;
	cmd->type = CMD_UPDATE;
	cmd->call_id = call_id;
	cmd->leg = leg;
	cmd->upd.rtp = conf->remote_rtp;
	cmd->upd.rtcp = conf->remote_rtcp;
	cmd->upd.mux = conf->rtcp_mux;
	cmd->upd.plain = conf->plain_rtp;
	cmd->upd.clock_rate = conf->clock_rate;
	cmd->upd.has_dtmf_pt = conf->has_dtmf_pt;
	cmd->upd.dtmf_pt = conf->dtmf_pt;
	/*
	 * Sessions are always built here so key errors surface now. The worker keeps its
	 * current session instead when the keys are unchanged (it compares with
	 * srtp_leg_has_keys()), so rollover counters and replay windows survive a re-INVITE.
	 */
	if (!conf->plain_rtp) {
		if ((rc = srtp_leg_new(&cmd->upd.rx, &conf->rx, SRTP_LEG_INBOUND)) != 0 ||
		    (rc = srtp_leg_new(&cmd->upd.tx, &conf->tx, SRTP_LEG_OUTBOUND)) != 0) {
			media_cmd_free(cmd);
			return rc;
		}
	}
	media_worker_post(w, cmd);
	return 0;
}

static int
post_simple(struct media_engine *e, uint64_t call_id, enum media_cmd_type type, uint64_t cookie)
{
	struct media_worker *w = worker_of(e, call_id);
	if (w == NULL)
		return -ENOENT;
	struct media_cmd *cmd = calloc(1, sizeof(*cmd));
	if (cmd == NULL)
		return -ENOMEM;
	cmd->type = type;
	cmd->call_id = call_id;
	cmd->cookie = cookie;
	media_worker_post(w, cmd);
	return 0;
}

int
media_leg_add(struct media_engine *e, uint64_t call_id, uint16_t ports[2])
{
	struct media_worker *w = worker_of(e, call_id);
	struct media_leg tmp;
	struct media_cmd *cmd;
	int rc;

	if (w == NULL)
		return -ENOENT;
	if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
		return -ENOMEM;
	/* leg C's memory, taken by a call that has none yet (the worker never allocates) */
	if ((cmd->add.leg = malloc(sizeof(*cmd->add.leg))) == NULL) {
		free(cmd);
		return -ENOMEM;
	}
	memset(&tmp, 0, sizeof(tmp));
	if ((rc = rtcp_cname_new(cmd->add.cname)) != 0 || (rc = bind_pair(e, &tmp)) != 0) {
		media_cmd_free(cmd);
		return rc;
	}
	cmd->type = CMD_LEG_ADD;
	cmd->call_id = call_id;
	cmd->leg = MEDIA_LEG_C;
	cmd->add.bound = true;
	cmd->add.sock[0] = tmp.sock[0];
	cmd->add.sock[1] = tmp.sock[1];
	ports[0] = tmp.sock[0].port;
	ports[1] = tmp.sock[1].port;
	media_worker_post(w, cmd);
	return 0;
}

int
media_call_pair(struct media_engine *e, uint64_t call_id, enum media_leg_id x, enum media_leg_id y)
{
	struct media_worker *w = worker_of(e, call_id);
	struct media_cmd *cmd;

	if (w == NULL)
		return -ENOENT;
	if ((unsigned)x >= MEDIA_LEGS || (unsigned)y >= MEDIA_LEGS || x == y)
		return -EINVAL;
	if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
		return -ENOMEM;
	cmd->type = CMD_PAIR;
	cmd->call_id = call_id;
	cmd->leg = x;
	cmd->leg2 = y;
	media_worker_post(w, cmd);
	return 0;
}

int
media_leg_drop(struct media_engine *e, uint64_t call_id)
{
	return post_simple(e, call_id, CMD_LEG_DROP, 0);
}

int
media_call_delete(struct media_engine *e, uint64_t call_id)
{
	return post_simple(e, call_id, CMD_DELETE, 0);
}

int
media_call_snapshot(struct media_engine *e, uint64_t call_id, uint64_t cookie)
{
	return post_simple(e, call_id, CMD_SNAPSHOT, cookie);
}

int
media_call_snapshot_wait(struct media_engine *e, uint64_t call_id, struct media_call_stats *out,
                         int timeout_ms)
{
	struct media_worker *w = worker_of(e, call_id);
	if (w == NULL)
		return -ENOENT;
	struct media_snap_wait *sw = calloc(1, sizeof(*sw));
	struct media_cmd *cmd = calloc(1, sizeof(*cmd));
	if (sw == NULL || cmd == NULL) {
		free(sw);
		free(cmd);
		return -ENOMEM;
	}
	pthread_mutex_init(&sw->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sw->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&sw->refs, 2);
	cmd->type = CMD_SNAPSHOT_WAIT;
	cmd->call_id = call_id;
	cmd->wait = sw;
	media_worker_post(w, cmd);

	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	pthread_mutex_lock(&sw->mu);
	while (!sw->done && rc == 0)
		rc = pthread_cond_timedwait(&sw->cv, &sw->mu, &dl);
	if (sw->done) {
		rc = sw->rc;
		if (rc == 0)
			*out = sw->stats;
	} else {
		rc = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&sw->mu);
	media_snap_wait_put(sw);
	return rc;
}

/* ---- events ---- */

int
media_engine_event_fd(const struct media_engine *e)
{
	return e->ev_efd;
}

int
media_engine_drain_events(struct media_engine *e, media_event_cb cb, void *arg)
{
	uint64_t v;
	int n = 0;

	(void)!read(e->ev_efd, &v, sizeof(v));
	for (unsigned i = 0; i < e->nworkers; i++)
		n += media_worker_drain(e->workers[i], cb, arg);
	return n;
}

uint64_t
media_engine_events_lost(const struct media_engine *e)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < e->nworkers; i++)
		n += media_worker_events_lost(e->workers[i]);
	return n;
}

enum media_io
media_engine_io(const struct media_engine *e)
{
	return e->io;
}

const char *
media_io_name(enum media_io io)
{
	switch (io) {
	case MEDIA_IO_URING:
		return "uring";
	case MEDIA_IO_EPOLL:
		return "epoll";
	default:
		return "auto";
	}
}

unsigned
media_engine_workers(const struct media_engine *e)
{
	return e->nworkers;
}

uint64_t
media_engine_worker_cpu_ns(const struct media_engine *e, unsigned worker)
{
	if (worker >= e->nworkers)
		return 0;
	return media_worker_cpu_ns(e->workers[worker]);
}

uint64_t
media_engine_worker_syscalls(const struct media_engine *e, unsigned worker)
{
	if (worker >= e->nworkers)
		return 0;
	return media_worker_syscalls(e->workers[worker]);
}

int
media_engine_worker_io_counts(const struct media_engine *e, unsigned worker,
                              struct media_io_counts *out)
{
	if (worker >= e->nworkers)
		return -EINVAL;
	media_worker_io_counts(e->workers[worker], out);
	return 0;
}

/* ---- liveness ---- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
media_engine_worker_tick_age_ms(const struct media_engine *e, unsigned worker)
{
	uint64_t now = mono_ms(), tick;

	if (worker >= e->nworkers)
		return 0;
	tick = media_worker_tick_ms(e->workers[worker]);
	return now > tick ? now - tick : 0;
}

bool
media_engine_workers_alive(const struct media_engine *e, unsigned max_age_ms, unsigned *stale)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		if (media_engine_worker_tick_age_ms(e, i) > max_age_ms) {
			if (stale != NULL)
				*stale = i;
			return false;
		}
	}
	return true;
}

#ifdef SW_TEST_HOOKS
int
media_engine_test_stall(struct media_engine *e, unsigned worker, unsigned ms)
{
	struct media_cmd *cmd;

	if (worker >= e->nworkers)
		return -EINVAL;
	if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
		return -ENOMEM;
	cmd->type = CMD_TEST_STALL;
	cmd->cookie = ms;
	media_worker_post(e->workers[worker], cmd);
	return 0;
}
#endif
