/*
 * sdp_policy.c: sipwarden's media policy applied to parsed SDP (sdp.h): which audio
 * stream and which a=crypto line an offer or answer gets, or why it is refused, and
 * whether a re-offer weakens a running call.
 *
 * Refuses rather than downgrades: plain RTP only from legacy peers, SDES only over TLS,
 * suites chosen by our preference among those sdes_check_policy() accepts. The refusal
 * text never contains anything taken from the SDP except numbers and suite names from
 * our own table, so it can go into a Warning header and telemetry as is. Parsing lives
 * in sdp.c, writing SDP in sdp_build.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

static const char *const reason_names[SDP_R_COUNT] = {
        [SDP_OK] = "ok",
        [SDP_R_MALFORMED_SDP] = "malformed_sdp",
        [SDP_R_NO_AUDIO] = "no_audio",
        [SDP_R_NO_SRTP] = "no_srtp",
        [SDP_R_DTLS_UNSUPPORTED] = "dtls_unsupported",
        [SDP_R_UNSUPPORTED_PROTO] = "unsupported_proto",
        [SDP_R_SDES_OVER_INSECURE_HOP] = "sdes_over_insecure_hop",
        [SDP_R_NO_CRYPTO] = "no_crypto",
        [SDP_R_MALFORMED_CRYPTO] = "malformed_crypto",
        [SDP_R_DUPLICATE_CRYPTO_TAG] = "duplicate_crypto_tag",
        [SDP_R_NO_ACCEPTABLE_SUITE] = "no_acceptable_suite",
        [SDP_R_WEAK_SUITE] = "weak_suite",
        [SDP_R_MULTIPLE_KEYS] = "multiple_keys",
        [SDP_R_MULTIPLE_CRYPTO] = "multiple_crypto",
        [SDP_R_CRYPTO_TAG_NOT_OFFERED] = "crypto_tag_not_offered",
        [SDP_R_CRYPTO_SUITE_MISMATCH] = "crypto_suite_mismatch",
        [SDP_R_PROTO_MISMATCH] = "proto_mismatch",
        [SDP_R_DOWNGRADE] = "downgrade",
};

const char *
sdp_reason_name(enum sdp_reason r)
{
	if ((unsigned)r >= SDP_R_COUNT)
		return "unknown";
	return reason_names[r];
}

/* Make the text safe inside a SIP quoted-string: printable ASCII without '"' and '\'. */
static void
text_clean(char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
			*s = '_';
}

__attribute__((format(printf, 3, 4))) static int
refuse(struct sdp_verdict *v, enum sdp_reason r, const char *fmt, ...)
{
	va_list ap;

	v->reason = r;
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof(v->text), fmt, ap);
	va_end(ap);
	text_clean(v->text);
	v->srtp = false;
	v->crypto = -1;
	v->suite = SUITE_NONE;
	v->tag = 0;
	return -EPERM;
}

struct sdp_choice
sdp_choice_of(const struct sdp_verdict *v)
{
	struct sdp_choice c = {v->media, v->srtp, v->crypto, v->suite, v->tag};

	return c;
}

struct sdp_verdict
sdp_choice_verdict(const struct sdp_choice *c)
{
	struct sdp_verdict v = {.reason = SDP_OK,
	                        .media = c->media,
	                        .srtp = c->srtp,
	                        .crypto = c->crypto,
	                        .suite = c->suite,
	                        .tag = c->tag};

	return v;
}

static void
verdict_init(struct sdp_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->reason = SDP_OK;
	v->media = -1;
	v->crypto = -1;
	v->suite = SUITE_NONE;
}

static const char *
suite_name(enum srtp_suite s)
{
	const struct suite_info *si = suite_info(s);

	return si != NULL ? si->name : "unknown suite";
}

/* Position of `s` in our preference, or -1 when not configured. */
static int
pref_rank(const struct sdp_policy *pol, enum srtp_suite s)
{
	size_t i;

	for (i = 0; i < pol->nsuites; i++)
		if (pol->suites[i] == s)
			return (int)i;
	return -1;
}

static bool
desc_has_crypto(const struct sdp_desc *d)
{
	size_t i;

	if (d->session_crypto)
		return true;
	for (i = 0; i < d->nmedia; i++)
		if (d->media[i].ncrypto + d->media[i].ncrypto_bad > 0 ||
		    d->media[i].crypto_too_many)
			return true;
	return false;
}

/* Refusals that do not depend on offer or answer: keys without TLS, DTLS, not RTP. */
static int
check_common(const struct sdp_desc *d, const struct sdp_stream *m, const struct sdp_policy *pol,
             struct sdp_verdict *v)
{
	if (!pol->hop_tls && desc_has_crypto(d))
		return refuse(v, SDP_R_SDES_OVER_INSECURE_HOP,
		              "SDES keys (a=crypto) received over a hop without TLS");
	if (d->session_crypto)
		return refuse(v, SDP_R_MALFORMED_CRYPTO, "a=crypto at session level");
	if (m->proto == SDP_PROTO_DTLS_SAVP || m->proto == SDP_PROTO_DTLS_SAVPF)
		return refuse(
		        v, SDP_R_DTLS_UNSUPPORTED,
		        "DTLS-SRTP (UDP/TLS/RTP/SAVP) is not supported, use SDES with RTP/SAVP");
	if (m->proto == SDP_PROTO_OTHER)
		return refuse(v, SDP_R_UNSUPPORTED_PROTO, "audio transport is not RTP");
	return 0;
}

static int
check_crypto_lines(const struct sdp_stream *m, struct sdp_verdict *v)
{
	if (m->crypto_too_many)
		return refuse(v, SDP_R_MALFORMED_CRYPTO, "more than %d a=crypto lines",
		              SDP_MAX_CRYPTO);
	if (m->crypto_dup_tag)
		return refuse(v, SDP_R_DUPLICATE_CRYPTO_TAG,
		              "two a=crypto lines with the same tag on one m= line");
	if (m->ncrypto == 0 && m->ncrypto_bad > 0)
		return refuse(v, SDP_R_MALFORMED_CRYPTO, "a=crypto refused: %s",
		              m->crypto_bad_why != NULL ? m->crypto_bad_why : "malformed");
	if (m->ncrypto == 0)
		return refuse(v, SDP_R_NO_CRYPTO,
		              "RTP/SAVP without a=crypto (only SDES is supported)");
	return 0;
}

static void
accept_crypto(struct sdp_verdict *v, const struct sdp_stream *m, int idx)
{
	v->srtp = true;
	v->crypto = idx;
	v->suite = m->crypto[idx].suite;
	v->tag = m->crypto[idx].tag;
}

int
sdp_check_offer(const struct sdp_desc *offer, const struct sdp_policy *pol, struct sdp_verdict *v)
{
	const struct sdp_stream *m = NULL;
	char detail[SDP_WHY_MAX] = "";
	size_t dl = 0;
	unsigned nweak = 0, nmulti = 0, nunconf = 0, i;
	int best = -1, bestrank = 0, rc;
	size_t k;

	if (offer == NULL || pol == NULL || v == NULL || offer->key_kept)
		return -EINVAL;
	verdict_init(v);
	for (k = 0; k < offer->nmedia; k++) {
		if (strcmp(offer->media[k].type, "audio") == 0 && offer->media[k].port != 0) {
			m = &offer->media[k];
			v->media = (int)k;
			break;
		}
	}
	if (m == NULL) {
		if (!pol->hop_tls && desc_has_crypto(offer))
			return refuse(v, SDP_R_SDES_OVER_INSECURE_HOP,
			              "SDES keys (a=crypto) received over a hop without TLS");
		return refuse(v, SDP_R_NO_AUDIO, "no audio stream offered");
	}
	if ((rc = check_common(offer, m, pol, v)) != 0)
		return rc;
	if (m->proto == SDP_PROTO_RTP_AVP || m->proto == SDP_PROTO_RTP_AVPF) {
		if (pol->legacy_rtp)
			return 0; /* plain RTP from a configured legacy peer; crypto lines ignored
			           */
		return refuse(v, SDP_R_NO_SRTP,
		              "RTP/AVP offered, SRTP (RTP/SAVP with SDES) required");
	}
	if ((rc = check_crypto_lines(m, v)) != 0)
		return rc;
	for (i = 0; i < m->ncrypto; i++) {
		const struct sdes_crypto *c = &m->crypto[i];
		const char *why = NULL;
		int rank, w;

		if (sdes_check_policy(c, &why) != 0) {
			if (c->nkeys > 1)
				nmulti++;
			else
				nweak++;
		} else if ((rank = pref_rank(pol, c->suite)) < 0) {
			nunconf++;
			why = "not enabled";
		} else {
			if (best < 0 || rank < bestrank) {
				best = (int)i;
				bestrank = rank;
			}
			continue;
		}
		w = snprintf(detail + dl, sizeof(detail) - dl, "%s%s (%s)", dl ? ", " : "",
		             suite_name(c->suite), why != NULL ? why : "refused");
		if (w > 0)
			dl = dl + (size_t)w < sizeof(detail) ? dl + (size_t)w : sizeof(detail) - 1;
	}
	if (best >= 0) {
		accept_crypto(v, m, best);
		return 0;
	}
	if (nunconf > 0)
		return refuse(v, SDP_R_NO_ACCEPTABLE_SUITE, "no acceptable crypto suite: %s",
		              detail);
	if (nmulti > 0 && nweak == 0)
		return refuse(v, SDP_R_MULTIPLE_KEYS,
		              "several master keys per a=crypto refused: %s", detail);
	return refuse(v, SDP_R_WEAK_SUITE, "crypto refused by policy: %s", detail);
}

int
sdp_check_answer(const struct sdp_desc *answer, const struct sdp_policy *pol,
                 const struct srtp_keys *offered, size_t noffered, struct sdp_verdict *v)
{
	const struct sdp_stream *m;
	const struct sdes_crypto *c;
	const char *why = NULL;
	size_t i;
	int rc;

	if (answer == NULL || pol == NULL || v == NULL || (noffered > 0 && offered == NULL) ||
	    answer->key_kept)
		return -EINVAL;
	verdict_init(v);
	if (!pol->hop_tls && desc_has_crypto(answer))
		return refuse(v, SDP_R_SDES_OVER_INSECURE_HOP,
		              "SDES keys (a=crypto) received over a hop without TLS");
	if (answer->nmedia == 0 || strcmp(answer->media[0].type, "audio") != 0)
		return refuse(v, SDP_R_NO_AUDIO, "answer has no audio stream");
	if (answer->nmedia > 1)
		return refuse(v, SDP_R_MALFORMED_SDP, "answer has %zu m= lines, the offer had 1",
		              answer->nmedia);
	m = &answer->media[0];
	if (m->port == 0)
		return refuse(v, SDP_R_NO_AUDIO, "audio stream rejected by the answer");
	v->media = 0;
	if ((rc = check_common(answer, m, pol, v)) != 0)
		return rc;
	if (noffered == 0) {
		if (m->proto != SDP_PROTO_RTP_AVP && m->proto != SDP_PROTO_RTP_AVPF)
			return refuse(v, SDP_R_PROTO_MISMATCH,
			              "RTP/AVP offered, answer is not RTP/AVP");
		if (!pol->legacy_rtp)
			return refuse(v, SDP_R_NO_SRTP,
			              "plain RTP answer from a peer that is not legacy");
		return 0;
	}
	if (m->proto == SDP_PROTO_RTP_AVP || m->proto == SDP_PROTO_RTP_AVPF)
		return refuse(v, SDP_R_NO_SRTP, "RTP/AVP answer to an SRTP offer");
	if ((rc = check_crypto_lines(m, v)) != 0)
		return rc;
	if (m->ncrypto + m->ncrypto_bad > 1)
		return refuse(v, SDP_R_MULTIPLE_CRYPTO,
		              "answer carries %u a=crypto lines, one expected",
		              m->ncrypto + m->ncrypto_bad);
	c = &m->crypto[0];
	for (i = 0; i < noffered; i++)
		if (offered[i].tag == c->tag)
			break;
	if (i == noffered)
		return refuse(v, SDP_R_CRYPTO_TAG_NOT_OFFERED,
		              "answer chose crypto tag %u, not offered", c->tag);
	if (offered[i].suite != c->suite)
		return refuse(v, SDP_R_CRYPTO_SUITE_MISMATCH,
		              "answer chose tag %u with %s, offered with %s", c->tag,
		              suite_name(c->suite), suite_name(offered[i].suite));
	if (sdes_check_policy(c, &why) != 0)
		return refuse(v, c->nkeys > 1 ? SDP_R_MULTIPLE_KEYS : SDP_R_WEAK_SUITE,
		              "crypto refused by policy: %s (%s)", suite_name(c->suite),
		              why != NULL ? why : "refused");
	if (pref_rank(pol, c->suite) < 0)
		return refuse(v, SDP_R_NO_ACCEPTABLE_SUITE, "answer chose %s, not enabled",
		              suite_name(c->suite));
	accept_crypto(v, m, 0);
	return 0;
}

int
sdp_check_downgrade(const struct sdp_verdict *old, const struct sdp_verdict *neu,
                    const struct sdp_policy *pol, struct sdp_verdict *why)
{
	const struct suite_info *so, *sn;
	enum srtp_suite os, ns;
	int ro, rn;

	if (old == NULL || neu == NULL || pol == NULL || why == NULL)
		return -EINVAL;
	if (!old->srtp)
		return 0;
	os = old->suite;
	ns = neu->suite;
	if (!neu->srtp)
		return refuse(why, SDP_R_DOWNGRADE, "re-offer drops SRTP (%s) for plain RTP",
		              suite_name(os));
	ro = pref_rank(pol, os);
	rn = pref_rank(pol, ns);
	if (ro < 0)
		ro = (int)pol->nsuites;
	if (rn < 0)
		rn = (int)pol->nsuites;
	if (rn > ro)
		return refuse(why, SDP_R_DOWNGRADE, "re-offer moves from %s to less preferred %s",
		              suite_name(os), suite_name(ns));
	so = suite_info(os);
	sn = suite_info(ns);
	if (so != NULL && sn != NULL && sn->rtp_tag_len < so->rtp_tag_len)
		return refuse(why, SDP_R_DOWNGRADE,
		              "re-offer shortens the SRTP auth tag (%s to %s)", suite_name(os),
		              suite_name(ns));
	return 0;
}
