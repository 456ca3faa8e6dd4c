/*
 * srtp_leg.c: one direction's libsrtp session built from a struct srtp_keys.
 *
 * Maps sipwarden's suites onto libsrtp crypto policies, owns the srtp_t, and translates
 * libsrtp status codes into negative errno values at this boundary. A SHA-256 of the keys
 * (not a copy: struct srtp_keys has room for a 128-octet MKI) is kept only to tell
 * whether a re-INVITE changed them (so an unchanged key keeps its session, its rollover
 * counter and its replay window); it is wiped on free. Bounds the
 * SSRCs a session keeps streams for (srtp_leg.h says why and how many), so a peer choosing
 * SSRCs costs at most SRTP_LEG_MAX_STREAMS streams and libsrtp's per-packet walk stays
 * that short; the bookkeeping is a scan of a few words per packet, nothing allocated. Not
 * responsible for deciding what to do with a packet that fails (media_worker.c counts and
 * drops), nor for generating keys (suite.h).
 */
#include "srtp_leg.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "sha256.h"

/*
 * struct srtp_leg: one libsrtp session, a digest of the keys it was made from and the
 * SSRCs it has streams for. Owner: whoever called srtp_leg_new(); freed by
 * srtp_leg_free(), which wipes `keys_sha`. live[] mirrors libsrtp's streams (at most
 * SRTP_LEG_MAX_STREAMS); seen[] lists every SSRC ever admitted, live or evicted, so an
 * evicted one stays out.
 */
struct srtp_leg {
	srtp_t ctx;
	enum srtp_leg_dir dir;
	bool use_mki;
	uint8_t rtp_tag_len;
	uint8_t keys_sha[SHA256_LEN]; /* keys_digest() of the keys */
	uint64_t tick; /* bumped per packet that passed: least recently used = lowest */
	unsigned n_live, n_seen;
	struct {
		uint32_t ssrc;
		uint64_t used;
	} live[SRTP_LEG_MAX_STREAMS];
	uint32_t seen[SRTP_LEG_MAX_SSRCS];
};

/* The libsrtp crypto policies of a suite; its lengths come from suite.h. */
struct leg_suite {
	void (*rtp)(srtp_crypto_policy_t *);
	void (*rtcp)(srtp_crypto_policy_t *);
};

/*
 * RFC 4568 s6.2 and RFC 7714: the _32 suites keep an 80-bit tag on SRTCP. Suites that
 * suite.h marks unusable (F8, AES-192) are refused with -ENOTSUP.
 */
static int
leg_suite_get(enum srtp_suite s, struct leg_suite *ls, const struct suite_info **si)
{
	if ((*si = suite_info(s)) == NULL)
		return -EINVAL;
	if (!(*si)->usable)
		return -ENOTSUP;
	switch (s) {
	case SUITE_AES_CM_128_HMAC_SHA1_80:
		*ls = (struct leg_suite){srtp_crypto_policy_set_rtp_default,
		                         srtp_crypto_policy_set_rtcp_default};
		return 0;
	case SUITE_AES_CM_128_HMAC_SHA1_32:
		*ls = (struct leg_suite){srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
		                         srtp_crypto_policy_set_rtcp_default};
		return 0;
	case SUITE_AES_256_CM_HMAC_SHA1_80:
		*ls = (struct leg_suite){srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
		                         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80};
		return 0;
	case SUITE_AES_256_CM_HMAC_SHA1_32:
		*ls = (struct leg_suite){srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
		                         srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80};
		return 0;
	case SUITE_AEAD_AES_128_GCM:
		*ls = (struct leg_suite){srtp_crypto_policy_set_aes_gcm_128_16_auth,
		                         srtp_crypto_policy_set_aes_gcm_128_16_auth};
		return 0;
	case SUITE_AEAD_AES_256_GCM:
		*ls = (struct leg_suite){srtp_crypto_policy_set_aes_gcm_256_16_auth,
		                         srtp_crypto_policy_set_aes_gcm_256_16_auth};
		return 0;
	default:
		return -ENOTSUP;
	}
}

/*
 * SHA-256 of what makes keys the same keys: suite, key and salt (the suite's lengths),
 * MKI length and MKI. Equal digests are equal keys (SHA-256 is collision-resistant), and
 * the digest gives the keys away no more than any hash of 128 random bits. 0, -EINVAL
 * for an unknown suite or an MKI too long, or -EIO if OpenSSL could not hash.
 */
static int
keys_digest(const struct srtp_keys *k, uint8_t md[SHA256_LEN])
{
	const struct suite_info *si = suite_info(k->suite);
	uint8_t buf[4 + SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN + 1 + SUITE_MAX_MKI_LEN];
	size_t n = 0;

	if (si == NULL || si->key_len > SUITE_MAX_KEY_LEN || si->salt_len > SUITE_MAX_SALT_LEN ||
	    k->mki_len > SUITE_MAX_MKI_LEN)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		buf[n++] = (uint8_t)((unsigned)k->suite >> (8 * i));
	memcpy(buf + n, k->key, si->key_len);
	n += si->key_len;
	memcpy(buf + n, k->salt, si->salt_len);
	n += si->salt_len;
	buf[n++] = k->mki_len;
	memcpy(buf + n, k->mki, k->mki_len);
	n += k->mki_len;
	int rc = sha256_digest(buf, n, md);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static int
status_to_errno(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	default:
		return -EPROTO;
	}
}

int
srtp_leg_new(struct srtp_leg **out, const struct srtp_keys *keys, enum srtp_leg_dir dir)
{
	const struct suite_info *si;
	struct leg_suite ls;
	int rc;

	if (keys == NULL || (dir != SRTP_LEG_INBOUND && dir != SRTP_LEG_OUTBOUND))
		return -EINVAL;
	if ((rc = leg_suite_get(keys->suite, &ls, &si)) != 0)
		return rc;
	if (keys->mki_len > SUITE_MAX_MKI_LEN)
		return -EINVAL;

	struct srtp_leg *leg = calloc(1, sizeof(*leg));
	if (leg == NULL)
		return -ENOMEM;
	leg->dir = dir;
	if ((rc = keys_digest(keys, leg->keys_sha)) != 0) {
		srtp_leg_free(leg);
		return rc;
	}
	leg->rtp_tag_len = si->rtp_tag_len;
	leg->use_mki = keys->mki_len > 0;

	uint8_t material[SUITE_MAX_KEY_LEN + SUITE_MAX_SALT_LEN];
	srtp_keys_concat(keys, material);

	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	ls.rtp(&pol.rtp);
	ls.rtcp(&pol.rtcp);
	pol.ssrc.type = dir == SRTP_LEG_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 128;
	pol.allow_repeat_tx = 0;

	srtp_master_key_t mk, *mkp = &mk;
	if (leg->use_mki) {
		mk.key = material;
		mk.mki_id = (uint8_t *)keys->mki; /* libsrtp copies it */
		mk.mki_size = keys->mki_len;
		pol.keys = &mkp;
		pol.num_master_keys = 1;
	} else {
		pol.key = material;
	}

	srtp_err_status_t st = srtp_create(&leg->ctx, &pol);
	OPENSSL_cleanse(material, sizeof(material));
	if (st != srtp_err_status_ok) {
		leg->ctx = NULL;
		srtp_leg_free(leg);
		return st == srtp_err_status_alloc_fail ? -ENOMEM : -EPROTO;
	}
	*out = leg;
	return 0;
}

void
srtp_leg_free(struct srtp_leg *leg)
{
	if (leg == NULL)
		return;
	if (leg->ctx != NULL)
		srtp_dealloc(leg->ctx); /* libsrtp zeroes its session keys on dealloc */
	OPENSSL_cleanse(leg->keys_sha, sizeof(leg->keys_sha));
	free(leg);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Index of `ssrc` in leg->live[], or -1. */
static int
ssrc_live(const struct srtp_leg *leg, uint32_t ssrc)
{
	for (unsigned i = 0; i < leg->n_live; i++)
		if (leg->live[i].ssrc == ssrc)
			return (int)i;
	return -1;
}

/* May a new stream be made for `ssrc` (not live)? Not if it was evicted or the budget is spent. */
static bool
ssrc_admissible(const struct srtp_leg *leg, uint32_t ssrc)
{
	if (leg->n_seen >= SRTP_LEG_MAX_SSRCS)
		return false;
	for (unsigned i = 0; i < leg->n_seen; i++)
		if (leg->seen[i] == ssrc)
			return false;
	return true;
}

/* libsrtp made a stream for `ssrc`: record it, evicting the least recently used if full. */
static void
ssrc_admit(struct srtp_leg *leg, uint32_t ssrc)
{
	unsigned i = leg->n_live;

	if (i == SRTP_LEG_MAX_STREAMS) {
		i = 0;
		for (unsigned k = 1; k < SRTP_LEG_MAX_STREAMS; k++)
			if (leg->live[k].used < leg->live[i].used)
				i = k;
		(void)srtp_remove_stream(leg->ctx, htonl(leg->live[i].ssrc));
	} else {
		leg->n_live++;
	}
	leg->live[i].ssrc = ssrc;
	leg->live[i].used = ++leg->tick;
	leg->seen[leg->n_seen++] = ssrc;
}

/*
 * Run libsrtp on one packet under the SSRC bounds. A packet of a live SSRC goes straight
 * through; a new SSRC is refused (-EDQUOT) before any crypto when it is not admissible,
 * and is recorded only once libsrtp made it a stream (for unprotect: after it passed
 * authentication, so forged packets neither evict nor spend the budget).
 */
static int
leg_run(struct srtp_leg *leg, uint8_t *pkt, int *n, bool rtcp)
{
	uint32_t ssrc = rd32(pkt + (rtcp ? 4 : 8));
	int slot = ssrc_live(leg, ssrc);
	srtp_err_status_t st;

	if (slot < 0 && !ssrc_admissible(leg, ssrc))
		return -EDQUOT;
	if (leg->dir == SRTP_LEG_OUTBOUND)
		st = rtcp ? srtp_protect_rtcp_mki(leg->ctx, pkt, n, leg->use_mki, 0)
		          : srtp_protect_mki(leg->ctx, pkt, n, leg->use_mki, 0);
	else
		st = rtcp ? srtp_unprotect_rtcp_mki(leg->ctx, pkt, n, leg->use_mki)
		          : srtp_unprotect_mki(leg->ctx, pkt, n, leg->use_mki);
	if (slot >= 0) {
		if (st == srtp_err_status_ok)
			leg->live[slot].used = ++leg->tick;
	} else if (st == srtp_err_status_ok || srtp_leg_has_stream(leg, ssrc)) {
		ssrc_admit(leg, ssrc);
	}
	return status_to_errno(st);
}

static int
leg_protect(struct srtp_leg *leg, uint8_t *pkt, size_t *len, size_t cap, bool rtcp)
{
	size_t min = rtcp ? 8 : 12;

	if (leg->dir != SRTP_LEG_OUTBOUND || *len < min)
		return -EINVAL;
	if (cap < *len || cap - *len < SRTP_LEG_TRAILER_MAX ||
	    *len > INT_MAX - SRTP_LEG_TRAILER_MAX)
		return -ENOSPC;
	int n = (int)*len;
	int rc = leg_run(leg, pkt, &n, rtcp);
	if (rc == 0)
		*len = (size_t)n;
	return rc;
}

static int
leg_unprotect(struct srtp_leg *leg, uint8_t *pkt, size_t *len, bool rtcp)
{
	size_t min = rtcp ? 8 : 12;

	if (leg->dir != SRTP_LEG_INBOUND || *len < min || *len > INT_MAX)
		return -EINVAL;
	int n = (int)*len;
	int rc = leg_run(leg, pkt, &n, rtcp);
	if (rc == 0)
		*len = (size_t)n;
	return rc;
}

int
srtp_leg_protect(struct srtp_leg *leg, uint8_t *pkt, size_t *len, size_t cap)
{
	return leg_protect(leg, pkt, len, cap, false);
}

int
srtp_leg_protect_rtcp(struct srtp_leg *leg, uint8_t *pkt, size_t *len, size_t cap)
{
	return leg_protect(leg, pkt, len, cap, true);
}

int
srtp_leg_unprotect(struct srtp_leg *leg, uint8_t *pkt, size_t *len)
{
	return leg_unprotect(leg, pkt, len, false);
}

int
srtp_leg_unprotect_rtcp(struct srtp_leg *leg, uint8_t *pkt, size_t *len)
{
	return leg_unprotect(leg, pkt, len, true);
}

bool
srtp_leg_has_keys(const struct srtp_leg *leg, const struct srtp_keys *keys)
{
	uint8_t md[SHA256_LEN];

	if (keys == NULL || keys_digest(keys, md) != 0)
		return false;
	bool same = CRYPTO_memcmp(leg->keys_sha, md, sizeof(md)) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	return same;
}

bool
srtp_leg_same_keys(const struct srtp_leg *a, const struct srtp_leg *b)
{
	return a != NULL && b != NULL && a->dir == b->dir &&
	       CRYPTO_memcmp(a->keys_sha, b->keys_sha, sizeof(a->keys_sha)) == 0;
}

bool
srtp_leg_has_stream(const struct srtp_leg *leg, uint32_t ssrc)
{
	uint32_t roc;

	return srtp_get_stream_roc(leg->ctx, ssrc, &roc) == srtp_err_status_ok;
}

size_t
srtp_leg_rtp_tag_len(const struct srtp_leg *leg)
{
	return leg->rtp_tag_len;
}
