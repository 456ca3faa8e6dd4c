/*
 * media_call.c: what a media call and a command own, and how they are freed: sockets,
 * SRTP sessions (keys wiped), a blocking snapshot's rendezvous; and a call's statistics
 * as a plain snapshot; leg C (a bridge transfer's) added and cleared, legs paired. Used by the
 * control side (media.c, on failure before a call is posted) and by its worker (media_worker.c).
 * Not responsible for the packet path.
 */
#include "media_worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <openssl/crypto.h>

void
media_call_fill_stats(const struct media_call *c, struct media_call_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->call_id = c->id;
	for (int i = 0; i < MEDIA_LEGS; i++) {
		const struct media_leg *l = c->leg[i];
		struct media_leg_stats *ls = &st->leg[i];
		if (l == NULL)
			continue; /* leg C never added: zero */
		ls->rx = l->rx_stats;
		ls->tx = l->tx_stats;
		ls->local_rtp_port = l->sock[0].port;
		ls->local_rtcp_port = l->sock[1].port;
		memcpy(&ls->peer_rtp, &l->peer[0].cur, sizeof(l->peer[0].cur));
		ls->configured = l->configured;
		ls->plain_rtp = l->plain;
		ls->rtcp_mux = l->mux;
		ls->latched = l->peer[0].latched || (!l->mux && l->peer[1].latched);
	}
}

void
media_leg_init(struct media_leg *l, struct media_call *c, enum media_leg_id id)
{
	memset(l, 0, sizeof(*l));
	l->call = c;
	l->id = id;
	l->pair = -1;
	l->sock[0].fd = l->sock[1].fd = -1;
	l->sock[0].leg = l->sock[1].leg = l;
	rtp_stats_init(&l->rx_stats, 0);
	rtp_stats_init(&l->tx_stats, 0);
}

void
media_call_free(struct media_call *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < MEDIA_LEGS; i++) {
		struct media_leg *l = c->leg[i];
		if (l == NULL)
			continue;
		for (int k = 0; k < 2; k++)
			if (l->sock[k].fd >= 0)
				close(l->sock[k].fd);
		srtp_leg_free(l->rx);
		srtp_leg_free(l->tx);
	}
	if (c->leg[MEDIA_LEG_C] != NULL) {
		OPENSSL_cleanse(c->leg[MEDIA_LEG_C], sizeof(struct media_leg));
		free(c->leg[MEDIA_LEG_C]);
	}
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void
media_snap_wait_put(struct media_snap_wait *sw)
{
	if (sw != NULL && atomic_fetch_sub(&sw->refs, 1) == 1) {
		pthread_mutex_destroy(&sw->mu);
		pthread_cond_destroy(&sw->cv);
		free(sw);
	}
}

void
media_snap_wait_finish(struct media_snap_wait *sw, int rc, const struct media_call *c)
{
	pthread_mutex_lock(&sw->mu);
	sw->rc = rc;
	if (c != NULL)
		media_call_fill_stats(c, &sw->stats);
	sw->done = true;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

void
media_cmd_free(struct media_cmd *cmd)
{
	if (cmd == NULL)
		return;
	media_call_free(cmd->call);
	for (int k = 0; k < 2 && cmd->add.bound; k++)
		close(cmd->add.sock[k].fd);
	srtp_leg_free(cmd->upd.rx);
	srtp_leg_free(cmd->upd.tx);
	free(cmd->add.leg); /* never used: no sockets, keys or statistics in it */
	if (cmd->wait != NULL) {
		media_snap_wait_finish(cmd->wait, -ECANCELED, NULL);
		media_snap_wait_put(cmd->wait);
	}
	OPENSSL_cleanse(cmd, sizeof(*cmd));
	free(cmd);
}

/* Leg C loses its sockets, keys and statistics (CMD_LEG_DROP, or before a new one). */
void
media_call_leg_c_clear(struct media_call *c, int epfd)
{
	struct media_leg *l = c->leg[MEDIA_LEG_C];

	if (l == NULL)
		return;
	for (int k = 0; k < 2; k++)
		if (l->sock[k].fd >= 0) {
			if (epfd >= 0)
				epoll_ctl(epfd, EPOLL_CTL_DEL, l->sock[k].fd, NULL);
			close(l->sock[k].fd);
		}
	if (l->pair >= 0)
		c->leg[l->pair]->pair = -1;
	srtp_leg_free(l->rx);
	srtp_leg_free(l->tx);
	OPENSSL_cleanse(l, sizeof(*l));
	media_leg_init(l, c, MEDIA_LEG_C);
}

/* CMD_LEG_ADD: leg C takes the command's sockets (and, the first time, its memory).
 * Returns 0 or a negative errno. */
int
media_call_leg_c_add(struct media_call *c, int epfd, struct media_cmd *cmd)
{
	struct media_leg *l = c->leg[MEDIA_LEG_C];

	if (l == NULL) {
		if ((l = cmd->add.leg) == NULL)
			return -ENOMEM; /* not reached: media_leg_add() allocates it */
		cmd->add.leg = NULL;
		media_leg_init(l, c, MEDIA_LEG_C);
		c->leg[MEDIA_LEG_C] = l;
	}
	media_call_leg_c_clear(c, epfd);
	memcpy(l->cname, cmd->add.cname, sizeof(l->cname));
	for (int k = 0; k < 2; k++) {
		l->sock[k] = cmd->add.sock[k];
		l->sock[k].leg = l;
	}
	cmd->add.bound = false; /* the leg owns the fds now */
	/* epfd -1: the io_uring path arms the sockets' receives itself */
	for (int k = 0; k < 2 && epfd >= 0; k++) {
		struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &l->sock[k]};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->sock[k].fd, &ee) != 0) {
			int err = -errno;
			media_call_leg_c_clear(c, epfd);
			return err;
		}
	}
	return 0;
}

/* CMD_PAIR: x and y relay to each other; their former partners to no one. A leg C that
 * was never added pairs with nothing. */
void
media_call_pair_legs(struct media_call *c, int x, int y)
{
	if (c->leg[x] == NULL || c->leg[y] == NULL)
		return;
	int old[2] = {c->leg[x]->pair, c->leg[y]->pair};

	for (int i = 0; i < 2; i++)
		if (old[i] >= 0)
			c->leg[old[i]]->pair = -1;
	c->leg[x]->pair = y;
	c->leg[y]->pair = x;
}
