/*
 * media_call.c: what a media call and a command own, and how they are freed: sockets,
 * SRTP sessions (keys wiped), a blocking snapshot's rendezvous; and a call's statistics
 * as a plain snapshot. Used by the control side (media.c, on failure before a call is
 * posted) and by its worker (media_worker.c). Not responsible for the packet path.
 */
#include "media_worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

void
media_call_fill_stats(const struct media_call *c, struct media_call_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->call_id = c->id;
	for (int i = 0; i < MEDIA_LEGS; i++) {
		const struct media_leg *l = &c->leg[i];
		struct media_leg_stats *ls = &st->leg[i];
		ls->rx = l->rx_stats;
		ls->tx = l->tx_stats;
		ls->local_rtp_port = l->sock[0].port;
		ls->local_rtcp_port = l->sock[1].port;
		ls->peer_rtp = l->peer[0].cur;
		ls->configured = l->configured;
		ls->plain_rtp = l->plain;
		ls->rtcp_mux = l->mux;
		ls->latched = l->peer[0].latched || (!l->mux && l->peer[1].latched);
	}
}

void
media_call_free(struct media_call *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < MEDIA_LEGS; i++) {
		struct media_leg *l = &c->leg[i];
		for (int k = 0; k < 2; k++)
			if (l->sock[k].fd >= 0)
				close(l->sock[k].fd);
		srtp_leg_free(l->rx);
		srtp_leg_free(l->tx);
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
	if (cmd->wait != NULL) {
		media_snap_wait_finish(cmd->wait, -ECANCELED, NULL);
		media_snap_wait_put(cmd->wait);
	}
	OPENSSL_cleanse(cmd, sizeof(*cmd));
	free(cmd);
}
