/*
 * b2bua_call.c: the call table and the end of a call: creating and freeing calls, finding
 * them by connection, media id, sipwarden id, Call-ID or dialog (the last two through a
 * hash index of Call-IDs per leg), and ending them with the
 * right signalling on each leg (BYE, the final response, CANCEL) before the record
 * (call.end) goes out with the relay's final statistics. Also what a live call keeps once
 * set up, and no more (issue 12: memory per live call): its INVITEs down to their
 * transaction's core, the one offered key its peer chose (our offer's others read again
 * from its text when a refresh repeats it). Not responsible for deciding when a call ends
 * (b2bua.c, b2bua_agent.c, b2bua_media.c do).
 */
#include "b2bua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <osipparser2/osip_parser.h>

#include "log.h"
#include "sip_util.h"

/* ---- the call table -------------------------------------------------------------- */

struct call *
call_new(struct b2bua *b)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		if (b->callids[i] == NULL && strmap_new(&b->callids[i]) != 0) {
			free(c);
			return NULL;
		}
	}
	if (b->by_media == NULL && strmap_new(&b->by_media) != 0) {
		free(c);
		return NULL;
	}
	c->b = b;
	c->conf = conf_ref(b->conf);
	telemetry_call_id(c->id);
	c->agent = -1;
	c->trunk = -1;
	c->leg[0].peer = c->leg[1].peer = -1;
	c->leg[0].first_packet_ms = c->leg[1].first_packet_ms = -1;
	clock_gettime(CLOCK_MONOTONIC, &c->t_invite);
	c->next = b->calls;
	if (b->calls != NULL)
		b->calls->prev = c;
	b->calls = c;
	b->ncalls++;
	b->nlive++;
	return c;
}

void
leg_offer_drop(struct call_leg *l)
{
	if (l->offered != NULL) {
		for (size_t i = 0; i < l->noffered; i++)
			srtp_keys_wipe(&l->offered[i]);
		free(l->offered);
	}
	l->offered = NULL;
	l->noffered = 0;
}

void
leg_clear(struct call_leg *l)
{
	strmap_del(&l->by_callid); /* before the Call-ID it points at goes */
	sip_dialog_free(l->dlg);
	l->dlg = NULL;
	sdp_desc_free(l->remote_sdp);
	l->remote_sdp = NULL;
	srtp_keys_wipe(&l->tx);
	leg_offer_drop(l);
}

void
call_msg_drop_bodies(osip_message_t *m)
{
	if (m == NULL)
		return;
	/* osip_body_free() goes through libosip2's allocator, which wipes (memwipe.h) */
	osip_list_special_free(&m->bodies, (void (*)(void *))osip_body_free);
	osip_list_init(&m->bodies);
	osip_message_force_update(m); /* serialised again, it is rebuilt without them */
}

int
call_msg_keep_txn(osip_message_t **m, unsigned what)
{
	bool sent = (what & CALL_KEEP_ROUTING) != 0; /* From and To too */
	bool parties = sent || (what & CALL_KEEP_PARTIES) != 0;
	osip_message_t *o = *m, *n = NULL;
	osip_via_t *top = NULL, *via = NULL;
	int i;

	if (o == NULL || !MSG_IS_REQUEST(o))
		return 0;
	if (osip_message_init(&n) != OSIP_SUCCESS)
		return -ENOMEM;
	if ((n->sip_method = osip_strdup(o->sip_method)) == NULL ||
	    (o->sip_version != NULL && (n->sip_version = osip_strdup(o->sip_version)) == NULL) ||
	    (sent && o->req_uri != NULL &&
	     osip_uri_clone(o->req_uri, &n->req_uri) != OSIP_SUCCESS) ||
	    (o->call_id != NULL && osip_call_id_clone(o->call_id, &n->call_id) != OSIP_SUCCESS) ||
	    (parties && o->from != NULL && osip_from_clone(o->from, &n->from) != OSIP_SUCCESS) ||
	    (parties && o->to != NULL && osip_to_clone(o->to, &n->to) != OSIP_SUCCESS) ||
	    (o->cseq != NULL && osip_cseq_clone(o->cseq, &n->cseq) != OSIP_SUCCESS))
		goto fail;
	if (osip_message_get_via(o, 0, &top) >= 0 && top != NULL) {
		if (osip_via_clone(top, &via) != OSIP_SUCCESS)
			goto fail;
		osip_list_add(&n->vias, via, -1);
	}
	for (i = 0; sent && i < osip_list_size(&o->routes); i++) {
		osip_route_t *r = osip_list_get(&o->routes, i), *copy = NULL;
		if (osip_route_clone(r, &copy) != OSIP_SUCCESS)
			goto fail;
		osip_list_add(&n->routes, copy, -1);
	}
	osip_message_free(o); /* through libosip2's allocator: the SDP body is wiped */
	*m = n;
	return 0;
fail:
	osip_message_free(n);
	return -ENOMEM;
}

void
call_a_acked(struct call *c)
{
	if (c->a_invite != NULL)
		call_msg_keep_txn(&c->a_invite, CALL_KEEP_PARTIES); /* -ENOMEM: kept whole */
	/* our answer to leg A was kept for the 200 after early media (and its PRACK): sent,
	 * and the 2xx's copies are ok2xx's own; later answers are built afresh */
	sdp_text_free(c->a_answer);
	c->a_answer = NULL;
}

int
leg_offer_room(struct call_leg *l, size_t n)
{
	leg_offer_drop(l);
	if ((l->offered = calloc(n > 0 ? n : 1, sizeof(*l->offered))) == NULL)
		return -ENOMEM;
	return 0;
}

void
leg_answer_key(struct call_leg *l, const struct sdp_verdict *v, bool final)
{
	srtp_keys_wipe(&l->tx);
	for (size_t i = 0; i < l->noffered; i++)
		if (v->srtp && l->offered[i].tag == v->tag && l->offered[i].suite == v->suite)
			l->tx = l->offered[i];
	if (final)
		leg_offer_drop(l);
}

int
leg_offer_from_text(struct call_leg *l, const char *sdp)
{
	struct sdp_desc *d = NULL;
	const struct sdp_stream *m;
	const char *why = NULL;
	int rc;

	leg_offer_drop(l);
	if ((rc = sdp_parse(&d, sdp, strlen(sdp), &why)) != 0)
		return rc;
	/* ours: one audio m= line, each a=crypto line one key (sdp_build_offer()) */
	m = d->nmedia == 1 ? &d->media[0] : NULL;
	if (m == NULL || m->ncrypto_bad > 0 || m->crypto_too_many) {
		sdp_desc_free(d);
		return -EINVAL;
	}
	if (m->ncrypto > 0) {
		if ((rc = leg_offer_room(l, m->ncrypto)) != 0) {
			sdp_desc_free(d);
			return rc;
		}
		for (unsigned i = 0; i < m->ncrypto; i++) {
			if (m->crypto[i].nkeys != 1 || m->crypto[i].keys[0].mki_len != 0) {
				leg_offer_drop(l);
				sdp_desc_free(d);
				return -EINVAL;
			}
			l->offered[l->noffered++] = m->crypto[i].keys[0];
		}
	}
	sdp_desc_free(d); /* wipes the keys it read */
	return 0;
}

void
pend_clear(struct call *c)
{
	osip_message_free(c->pend.req);
	osip_message_free(c->pend.sent);
	sdp_desc_free(c->pend.offer);
	memset(&c->pend, 0, sizeof(c->pend));
	if (c->pend_timer != NULL)
		evtimer_del(c->pend_timer);
}

void
call_free(struct call *c)
{
	struct b2bua *b = c->b;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		b->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	b->ncalls--;
	if (c->state != CALL_ENDED)
		b->nlive--;
	if (c->state == CALL_ANSWERED)
		b->nanswered--;
	if (c->media_id != 0)
		b->nmedia--;
	if (c->trunk_counted && c->trunk >= 0 && b->trunk_calls != NULL &&
	    (size_t)c->trunk < b->ntrunk_calls && b->trunk_calls[c->trunk] > 0)
		b->trunk_calls[c->trunk]--;
	if (c->cluster_counted)
		call_cluster_release(c);
	if (c->agent_counted)
		pool_call_end(b->pool, c->agent);
	strmap_del(&c->by_media);
	leg_clear(&c->leg[0]);
	leg_clear(&c->leg[1]);
	pend_clear(c);
	ok2xx_stop_all(c);
	stimer_free(c);
	trying_forget(c);
	b2bua_late_free(c);
	prack_free(c);
	xfer_free(c);
	bridge_free(c);
	osip_message_free(c->a_invite); /* their SDPs hold keys: wiped as freed (memwipe) */
	osip_message_free(c->b_invite);
	sdp_text_free(c->a_answer);
	free(c->stats);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->pend_timer != NULL)
		event_free(c->pend_timer);
	if (c->end_timer != NULL)
		event_free(c->end_timer);
	conf_unref(c->conf);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

struct call *
call_by_conn(struct b2bua *b, uint64_t conn, int *legi)
{
	for (struct call *c = b->calls; c != NULL; c = c->next)
		for (int i = 0; i < 2; i++)
			if (c->leg[i].conn == conn && c->state != CALL_ENDED) {
				*legi = i;
				return c;
			}
	return NULL;
}

/* Index `c` by its media id (its 8 bytes are the key) once media_call_new() gave one. */
void
call_media_index(struct call *c)
{
	if (c->media_id != 0)
		strmap_add(c->b->by_media, &c->by_media, (const char *)&c->media_id,
		           sizeof(c->media_id), c);
}

struct call *
call_by_media(struct b2bua *b, uint64_t media_id)
{
	struct strmap_node *n;

	if (b->by_media == NULL)
		return NULL;
	n = strmap_find(b->by_media, (const char *)&media_id, sizeof(media_id));
	return n != NULL ? n->value : NULL;
}

struct call *
call_by_id(struct b2bua *b, const char *id)
{
	for (struct call *c = b->calls; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* ---- the Call-ID index -----------------------------------------------------------
 *
 * Each leg whose dialog exists is in b->callids[leg] under its dialog's Call-ID, so a
 * request or response finds its call in one hash lookup whatever the size of the table:
 * the work a peer can cause before its source is checked does not grow with the calls
 * in progress. The index holds pointers to the dialogs' own Call-ID strings: a leg is
 * indexed after its dialog is made (call_leg_index) and leaves the index before the
 * dialog is freed (leg_clear).
 */

void
call_leg_index(struct call *c, int legi)
{
	struct call_leg *l = &c->leg[legi];

	if (l->dlg == NULL || l->dlg->call_id == NULL) {
		strmap_del(&l->by_callid);
		return;
	}
	strmap_add(c->b->callids[legi], &l->by_callid, l->dlg->call_id, strlen(l->dlg->call_id), c);
}

void
call_table_free(struct b2bua *b)
{
	for (int i = 0; i < 2; i++) {
		strmap_free(b->callids[i]);
		b->callids[i] = NULL;
	}
	strmap_free(b->by_media);
	b->by_media = NULL;
}

/*
 * The Call-ID of `m` as it is stored in a dialog ("number" or "number@host", as
 * osip_call_id_to_str() writes it), composed once: into `buf` when it fits, else into a
 * new string left in *heap for the caller to free. NULL when `m` has no Call-ID.
 */
static const char *
callid_key(const osip_message_t *m, char *buf, size_t cap, char **heap, size_t *len)
{
	const osip_call_id_t *h = m->call_id;
	size_t nl, hl;
	char *out;

	*heap = NULL;
	if (h == NULL || h->number == NULL)
		return NULL;
	nl = strlen(h->number);
	hl = h->host != NULL ? strlen(h->host) : 0;
	*len = nl + (h->host != NULL ? 1 + hl : 0);
	if (*len < cap)
		out = buf;
	else if ((out = *heap = malloc(*len + 1)) == NULL)
		return NULL;
	memcpy(out, h->number, nl);
	if (h->host != NULL) {
		out[nl] = '@';
		memcpy(out + nl + 1, h->host, hl);
	}
	out[*len] = '\0';
	return out;
}

/* The newest call whose leg `legi` is indexed under key[0..len) and that `match` accepts. */
static struct call *
find_key(struct b2bua *b, const char *key, size_t len, int legi,
         bool (*match)(const struct call *c, int legi, const osip_message_t *m),
         const osip_message_t *m)
{
	if (b->callids[legi] == NULL)
		return NULL;
	for (struct strmap_node *n = strmap_find(b->callids[legi], key, len); n != NULL;
	     n = strmap_find_next(n))
		if (match(n->value, legi, m))
			return n->value;
	return NULL;
}

/*
 * The newest call whose leg `legi` has the Call-ID of `m` and that `match` accepts, or
 * NULL. One hash lookup; the Call-ID of `m` is composed once (on the stack unless long).
 */
struct call *
call_find(struct b2bua *b, const osip_message_t *m, int legi,
          bool (*match)(const struct call *c, int legi, const osip_message_t *m))
{
	char buf[256], *heap;
	size_t len;
	const char *key = callid_key(m, buf, sizeof(buf), &heap, &len);
	struct call *c = key != NULL ? find_key(b, key, len, legi, match, m) : NULL;

	free(heap);
	return c;
}

static bool
dialog_match(const struct call *c, int legi, const osip_message_t *req)
{
	return c->state != CALL_ENDED && sip_dialog_matches_tags(c->leg[legi].dlg, req);
}

/* The call and leg whose dialog `req` belongs to (calls not ended). */
struct call *
call_by_dialog(struct b2bua *b, const osip_message_t *req, int *legi)
{
	char buf[256], *heap;
	size_t len;
	const char *key = callid_key(req, buf, sizeof(buf), &heap, &len);
	struct call *c = NULL;

	for (int i = 0; key != NULL && c == NULL && i < 2; i++)
		if ((c = find_key(b, key, len, i, dialog_match, req)) != NULL)
			*legi = i;
	free(heap);
	return c;
}

/* The call whose dialog on leg `legi` has Call-ID `cid` (the newest, ended ones too). */
struct call *
call_by_callid(struct b2bua *b, const char *cid, int legi)
{
	struct strmap_node *n;

	if (b->callids[legi] == NULL)
		return NULL;
	n = strmap_find(b->callids[legi], cid, strlen(cid));
	return n != NULL ? n->value : NULL;
}

/* ---- ending a call ------------------------------------------------------------- */

static void
send_bye(struct call *c, int legi)
{
	struct call_leg *l = &c->leg[legi];
	osip_message_t *bye = NULL;

	if (l->dlg == NULL || !l->dlg->confirmed || l->conn == 0)
		return;
	if (sip_dialog_request(l->dlg, "BYE", c->b->sentby, &bye) == 0) {
		b2bua_send(c->b, l->conn, bye);
		osip_message_free(bye);
	}
}

static void
end_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	/* the media engine did not confirm the deletion in time: report what we have */
	call_finish(c);
}

/*
 * End the call: signal both legs as needed (BYE on a confirmed dialog, the final
 * response `code` to an unanswered INVITE from A, CANCEL to a pending INVITE to B), stop
 * its timers and media. The record (call.end) goes out when the media engine returns
 * the final statistics, and the call is freed then (call_finish()).
 */
void
call_end(struct call *c, const char *outcome, const char *ended_by, const char *reason, int code)
{
	struct b2bua *b = c->b;

	if (c->state == CALL_ENDED)
		return;
	b2bua_late_end(c); /* a late offer's 2xx is ACKed before the BYE */
	xfer_end(c);       /* a transfer in progress is recorded as cut short */
	bridge_end(c);     /* a bridge transfer's call still ringing is cancelled */
	/* an ended call no longer counts against the limits, even while its final
	 * statistics are still on their way */
	b->nlive--;
	if (c->state == CALL_ANSWERED)
		b->nanswered--;
	if (c->trunk >= 0 && (size_t)c->trunk < b->ntrunk_calls && b->trunk_calls[c->trunk] > 0)
		b->trunk_calls[c->trunk]--;
	c->trunk_counted = false;
	call_cluster_release(c);
	c->outcome = outcome;
	c->ended_by = ended_by;
	c->end_reason = reason;

	/* leg A */
	if (!c->a_final_sent && c->a_invite != NULL) {
		if (code < 300)
			code = 480;
		b2bua_reply(b, c->leg[0].conn, c->a_invite, code,
		            c->leg[0].dlg ? c->leg[0].dlg->local_tag : NULL, c->end_warning, NULL);
		c->a_final_sent = true;
		c->final_code = code;
	} else if (strcmp(ended_by, leg_who(c, 0)) != 0) {
		send_bye(c, 0);
	}
	/* leg B */
	if (c->b_invite != NULL && !c->b_final)
		agent_cancel(c);
	else if (strcmp(ended_by, leg_who(c, 1)) != 0)
		send_bye(c, 1);

	if (c->final_code == 0)
		c->final_code = code ? code : 200;
	c->state = CALL_ENDED;
	pend_clear(c);
	ok2xx_stop_all(c);
	stimer_free(c);
	if (c->timer != NULL)
		evtimer_del(c->timer);
	if (c->media_id != 0 && media_call_delete(b->media, c->media_id) == 0) {
		struct timeval tv = {2, 0};
		c->end_timer = evtimer_new(b->base, end_timeout_cb, c);
		if (c->end_timer != NULL && evtimer_add(c->end_timer, &tv) == 0)
			return;
	}
	call_finish(c);
}

/* Emit call.end (once) and free the call. */
void
call_finish(struct call *c)
{
	struct telemetry_leg legs[2], human;
	char s0[40], s1[40], s2[40];
	struct telemetry_call_end e = {0};
	bool agent_leg = c->leg[1].dlg != NULL || c->agent >= 0;

	int tl = call_trunk_leg(c);

	if (c->outbound)
		agent_leg = true;
	leg_telemetry(c, tl, &legs[0], s0, sizeof(s0));
	leg_telemetry(c, 1 - tl, &legs[1], s1, sizeof(s1));
	e.call = c->id;
	e.outcome = c->outcome ? c->outcome : "failed";
	e.ended_by = c->ended_by ? c->ended_by : "sipwarden";
	e.reason = c->end_reason ? c->end_reason : "unknown";
	e.sip_code = c->final_code;
	e.duration_ms = c->t_answer.tv_sec ? ms_since(&c->t_answer) : 0;
	e.agent = c->agent >= 0 ? c->conf->agents[c->agent].name : NULL;
	e.trunk_leg = &legs[0];
	e.agent_leg = agent_leg ? &legs[1] : NULL;
	if (bridge_legs(c, &legs[1], s1, sizeof(s1), &human, s2, sizeof(s2)))
		e.human_leg = &human; /* and legs[1] the agent's again after a move */
	telemetry_call_end(c->b->tel, &e);
	log_info("call %s ended: %s by %s (%s), code %d", c->id, e.outcome, e.ended_by, e.reason,
	         e.sip_code);
	call_free(c);
}
