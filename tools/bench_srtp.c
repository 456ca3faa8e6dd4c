/*
 * bench_srtp: what one re-keyed SRTP packet costs with libsrtp2's built-in (NSS) crypto
 * and with the OpenSSL types of lib/srtp_ossl.c, measured in the same run.
 *
 * A re-keyed packet is what the media relay does per packet: unprotect with one leg's
 * keys, protect with the other leg's. Each stream has its own pair of sessions (as a call
 * leg has), so with many streams the per-stream state no longer fits in cache. Sessions
 * created before srtp_ossl_install() keep NSS, so each configuration creates its NSS
 * sessions first, installs, then creates the OpenSSL ones. Both backends see the same
 * pre-protected 172-octet RTP packets (12-octet header + 160 octets of G.711), and the
 * first output of every stream is compared byte for byte between the backends.
 * Runtime is bounded: each measurement stops after about 2 s or its packet budget.
 *
 * Usage: bench_srtp [packets-per-measurement]   (default 50000)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include "srtp_ossl.h"

#define PKT_LEN    172
#define BUF_LEN    (PKT_LEN + SRTP_MAX_TRAILER_LEN)
#define BUDGET_NS  2000000000.0
#define MAX_KEYLEN 46

struct bench_suite {
	const char *name;
	void (*set)(srtp_crypto_policy_t *);
	int key_len;
};

static const struct bench_suite bench_suites[] = {
        {"AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default, 30},
        {"AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth, 28},
};

static const int stream_counts[] = {1, 100, 1000};

/* One stream: receive with key A, send on with key B. */
struct stream {
	uint32_t ssrc;
	uint8_t key_a[MAX_KEYLEN], key_b[MAX_KEYLEN];
	srtp_t rx[2], tx[2]; /* [0] NSS, [1] OpenSSL */
	uint8_t first_out[2][BUF_LEN];
	int first_len[2];
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static srtp_t
make_session(const struct bench_suite *bs, const uint8_t *key, uint32_t ssrc)
{
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	bs->set(&pol.rtp);
	bs->set(&pol.rtcp);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	pol.key = (unsigned char *)key;
	pol.window_size = 128;
	if (srtp_create(&s, &pol) != srtp_err_status_ok) {
		fprintf(stderr, "bench_srtp: srtp_create failed\n");
		exit(1);
	}
	return s;
}

/*
 * Runs rounds over all streams until the packet budget or the time budget is used up.
 * Returns ns per packet; round 0 is a warm-up whose outputs are kept for comparison.
 */
static double
run(struct stream *st, int n, int backend, uint8_t *const *pkts, int rounds)
{
	uint8_t buf[BUF_LEN];
	double t0 = 0;
	long done = 0;

	for (int r = 0; r < rounds; r++) {
		if (r == 1)
			t0 = now_ns();
		for (int i = 0; i < n; i++) {
			int len = PKT_LEN + SRTP_MAX_TRAILER_LEN;
			const uint8_t *in = pkts[i] + (size_t)r * BUF_LEN;

			memcpy(&len, in, sizeof(len));
			memcpy(buf, in + sizeof(int), (size_t)len);
			if (srtp_unprotect(st[i].rx[backend], buf, &len) != srtp_err_status_ok ||
			    srtp_protect(st[i].tx[backend], buf, &len) != srtp_err_status_ok) {
				fprintf(stderr, "bench_srtp: unprotect/protect failed\n");
				exit(1);
			}
			if (r == 0) {
				memcpy(st[i].first_out[backend], buf, (size_t)len);
				st[i].first_len[backend] = len;
			}
		}
		if (r >= 1) {
			done += n;
			if (now_ns() - t0 > BUDGET_NS)
				break;
		}
	}
	return (now_ns() - t0) / (double)done;
}

static int
bench_one(const struct bench_suite *bs, int n, long budget, double *ns_nss, double *ns_ossl)
{
	int rounds = (int)(budget / n) + 1;
	struct stream *st = calloc((size_t)n, sizeof(*st));
	uint8_t **pkts = calloc((size_t)n, sizeof(*pkts));
	uint8_t plain[PKT_LEN];
	int rc = 0;

	if (st == NULL || pkts == NULL || srtp_init() != srtp_err_status_ok)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		st[i].ssrc = 0x10000000u + (uint32_t)i;
		if (RAND_bytes(st[i].key_a, bs->key_len) != 1 ||
		    RAND_bytes(st[i].key_b, bs->key_len) != 1)
			return -EIO;
		st[i].rx[0] = make_session(bs, st[i].key_a, st[i].ssrc);
		st[i].tx[0] = make_session(bs, st[i].key_b, st[i].ssrc);
	}
	if (srtp_ossl_install() < 0) {
		fprintf(stderr, "bench_srtp: srtp_ossl_install failed\n");
		return -EIO;
	}
	for (int i = 0; i < n; i++) {
		srtp_t sender = make_session(bs, st[i].key_a, st[i].ssrc);

		st[i].rx[1] = make_session(bs, st[i].key_a, st[i].ssrc);
		st[i].tx[1] = make_session(bs, st[i].key_b, st[i].ssrc);
		if ((pkts[i] = malloc((size_t)rounds * BUF_LEN)) == NULL)
			return -ENOMEM;
		/* the same protected input for both backends: [int len][packet] per round */
		for (int r = 0; r < rounds; r++) {
			uint8_t *slot = pkts[i] + (size_t)r * BUF_LEN;
			int len = PKT_LEN;
			uint16_t seq = (uint16_t)(1000 + r);

			memset(plain, 0xd5, sizeof(plain)); /* G.711 A-law silence */
			plain[0] = 0x80;
			plain[1] = 8;
			plain[2] = (uint8_t)(seq >> 8);
			plain[3] = (uint8_t)seq;
			memset(plain + 4, 0, 4);
			plain[8] = (uint8_t)(st[i].ssrc >> 24);
			plain[9] = (uint8_t)(st[i].ssrc >> 16);
			plain[10] = (uint8_t)(st[i].ssrc >> 8);
			plain[11] = (uint8_t)st[i].ssrc;
			memcpy(slot + sizeof(int), plain, PKT_LEN);
			if (srtp_protect(sender, slot + sizeof(int), &len) != srtp_err_status_ok)
				return -EIO;
			memcpy(slot, &len, sizeof(len));
		}
		srtp_dealloc(sender);
	}

	*ns_nss = run(st, n, 0, pkts, rounds);
	*ns_ossl = run(st, n, 1, pkts, rounds);
	for (int i = 0; i < n; i++) {
		if (st[i].first_len[0] != st[i].first_len[1] ||
		    memcmp(st[i].first_out[0], st[i].first_out[1], (size_t)st[i].first_len[0]) != 0)
			rc = -EPROTO;
		for (int b = 0; b < 2; b++) {
			srtp_dealloc(st[i].rx[b]);
			srtp_dealloc(st[i].tx[b]);
		}
		free(pkts[i]);
	}
	free(pkts);
	free(st);
	srtp_shutdown();
	return rc;
}

int
main(int argc, char **argv)
{
	long budget = argc > 1 ? strtol(argv[1], NULL, 10) : 50000;
	double t0 = now_ns();

	if (budget < 1000)
		budget = 1000;
	printf("re-keyed 172-octet RTP packet (unprotect + protect), ns per packet\n");
	printf("%-24s %8s %12s %12s %8s\n", "suite", "streams", "NSS", "OpenSSL", "ratio");
	for (size_t s = 0; s < sizeof(bench_suites) / sizeof(bench_suites[0]); s++) {
		for (size_t k = 0; k < sizeof(stream_counts) / sizeof(stream_counts[0]); k++) {
			double nss = 0, ossl = 0;
			int rc = bench_one(&bench_suites[s], stream_counts[k], budget, &nss, &ossl);

			if (rc < 0) {
				fprintf(stderr, "bench_srtp: %s x %d failed (%s)\n",
				        bench_suites[s].name, stream_counts[k],
				        rc == -EPROTO ? "backends disagree" : strerror(-rc));
				return 1;
			}
			printf("%-24s %8d %12.0f %12.0f %7.1fx\n", bench_suites[s].name,
			       stream_counts[k], nss, ossl, nss / ossl);
			fflush(stdout);
		}
	}
	printf("total run time %.1f s\n", (now_ns() - t0) / 1e9);
	return 0;
}
