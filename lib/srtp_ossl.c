/*
 * srtp_ossl.c: OpenSSL implementations of libsrtp2's AES-ICM (EVP) and HMAC-SHA1 (SHA-1
 * states keyed once) types, and the registration of those and of the AES-GCM types
 * (srtp_ossl_gcm.c) with libsrtp.
 *
 * libsrtp keeps the protocol (key derivation, ROC, replay window, SRTCP framing); the
 * types here only compute. Each libsrtp stream allocates its own cipher/auth objects and
 * one srtp_t is used by one thread at a time. Algorithms are fetched once (OpenSSL 3's
 * implicit fetch on every init is slow). AES-ICM objects hold their key, not an EVP
 * context: a context with its key schedule is ~700 heap bytes and a call holds eight
 * objects, so each thread keeps one AES-CTR context per key length and an object keys it
 * (an AES-NI key expansion) when it is not the one that used it last (see struct icm).
 * GCM objects keep their own EVP context (GHASH tables; srtp_ossl_gcm.c). A packet
 * allocates nothing on the cipher side. Any OpenSSL failure clears the
 * thread's error queue before returning, so a later SSL_get_error() on that thread does
 * not read a stale error. Not responsible for sessions, policies or keys' lifetime
 * (srtp_leg.c); libsrtp hands the session keys to init() and we keep them in the objects
 * (wiped on dealloc) and the EVP contexts (GCM: wiped by EVP_*_free; a thread's AES-CTR
 * context: overwritten when the object that keyed it last is freed on that thread).
 */
/* SHA1_Init/Update/Final (struct hmac) are deprecated in OpenSSL 3, not removed: see there */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp_ossl.h"
#include "srtp_ossl_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>

/*
 * libsrtp exports these from libsrtp2.so but does not install crypto_kernel.h; they are
 * the only way to ask which type libsrtp currently uses for an id.
 */
const srtp_cipher_type_t *srtp_crypto_kernel_get_cipher_type(srtp_cipher_type_id_t id);
const srtp_auth_type_t *srtp_crypto_kernel_get_auth_type(srtp_auth_type_id_t id);

#define ICM_SALT_LEN  14 /* SRTP_SALT_LEN */
#define SHA1_LEN      20
#define ICM_MAX_BLOCK 0x10000 /* a keystream segment ends before the 16-bit counter wraps */

/*
 * Algorithms fetched once by srtp_ossl_install() and kept for the process's lifetime
 * (the descriptors that use them are global to libsrtp as well). Written only before the
 * first registration, read-only afterwards.
 */
static EVP_CIPHER *evp_ctr[3]; /* AES-128/192/256-CTR */

srtp_err_status_t
srtp_ossl_fail(srtp_err_status_t st)
{
	ERR_clear_error();
	return st;
}

/* ---------------------------------------------------------------- AES-ICM ---- */

/*
 * struct icm: one AES counter-mode object. Owner: libsrtp (via the srtp_cipher_t it is
 * allocated with); freed by icm_dealloc(), which wipes it.
 *
 * It holds its AES key and computes on its thread's AES-CTR context for its key length
 * (struct icm_tls). `serial` names this keying (unique in the process, so a freed
 * object's address reused by another never passes for it); the context remembers the
 * serial it was last keyed with and where that keystream stands. set_iv() keys the
 * context (unless it is ours already) and sets the counter; encrypt() runs on it, and if
 * another object used the context in between (libsrtp never does that inside a packet,
 * but nothing forbids it) keys it again at the counter `used` octets after `ctr`.
 */
struct icm {
	srtp_cipher_t c;
	int idx;            /* 0, 1, 2: AES-128/192/256 */
	int aes_len;        /* AES key octets: 16, 24, 32 */
	uint64_t serial;    /* this keying, 0: not keyed */
	uint8_t key[32];    /* AES key */
	uint8_t offset[16]; /* session salt || 0x0000 */
	uint8_t ctr[16];    /* counter block set_iv() started this segment at */
	size_t left;        /* keystream octets left in this segment */
	size_t used;        /* keystream octets used since set_iv() */
};

/*
 * struct icm_tls: one thread's AES-CTR contexts, one per key length, each with the serial
 * of the object whose key and keystream position it holds (0: none). Allocated on the
 * thread's first use (media workers call srtp_ossl_thread_init() when they start, so
 * their packets never allocate) and freed by the pthread key's destructor.
 */
struct icm_tls {
	EVP_CIPHER_CTX *ctx[3];
	uint64_t serial[3];
};

static _Thread_local struct icm_tls icm_tls;
static pthread_key_t icm_tls_key;
static pthread_once_t icm_tls_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t icm_serials;

static void
icm_tls_free(void *arg)
{
	struct icm_tls *t = arg;

	for (int i = 0; i < 3; i++) {
		EVP_CIPHER_CTX_free(t->ctx[i]); /* frees (and wipes) the key schedule */
		t->ctx[i] = NULL;
		t->serial[i] = 0;
	}
}

static void
icm_tls_key_make(void)
{
	(void)pthread_key_create(&icm_tls_key, icm_tls_free);
}

/* This thread's AES-CTR context for key length `idx`, or NULL without memory. */
static EVP_CIPHER_CTX *
icm_ctx(int idx)
{
	struct icm_tls *t = &icm_tls;

	if (t->ctx[idx] != NULL)
		return t->ctx[idx];
	pthread_once(&icm_tls_once, icm_tls_key_make);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || !EVP_EncryptInit_ex2(ctx, evp_ctr[idx], NULL, NULL, NULL)) {
		EVP_CIPHER_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	t->ctx[idx] = ctx;
	(void)pthread_setspecific(icm_tls_key, t);
	return ctx;
}

int
srtp_ossl_thread_init(void)
{
	for (int i = 0; i < 3; i++)
		if (evp_ctr[i] != NULL && icm_ctx(i) == NULL)
			return -ENOMEM;
	return 0;
}

static const srtp_cipher_type_t icm_types[3];

static int
icm_index(int key_len)
{
	switch (key_len) {
	case SRTP_AES_ICM_128_KEY_LEN_WSALT:
		return 0;
	case SRTP_AES_ICM_192_KEY_LEN_WSALT:
		return 1;
	case SRTP_AES_ICM_256_KEY_LEN_WSALT:
		return 2;
	default:
		return -1;
	}
}

static srtp_err_status_t
icm_alloc(const srtp_cipher_type_t *type, srtp_cipher_t **cp, int key_len)
{
	struct icm *s;
	int i = icm_index(key_len);

	/* One descriptor per id: the key length must be the one this id stands for. */
	if (i < 0 || &icm_types[i] != type)
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return srtp_ossl_fail(srtp_err_status_alloc_fail);
	s->idx = i;
	s->aes_len = key_len - ICM_SALT_LEN;
	s->c.type = type;
	s->c.state = s;
	s->c.key_len = key_len;
	s->c.algorithm = (int)type->id;
	*cp = &s->c;
	return srtp_err_status_ok;
}

static srtp_err_status_t
icm128_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[0], cp, key_len);
}

static srtp_err_status_t
icm192_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[1], cp, key_len);
}

static srtp_err_status_t
icm256_alloc(srtp_cipher_t **cp, int key_len, int tag_len)
{
	(void)tag_len;
	return icm_alloc(&icm_types[2], cp, key_len);
}

/* If this thread's context holds `s`'s key schedule, overwrite it with a zero key. */
static void
icm_forget(struct icm *s)
{
	static const uint8_t zero[32];
	struct icm_tls *t = &icm_tls;

	if (s->serial == 0 || t->serial[s->idx] != s->serial)
		return;
	t->serial[s->idx] = 0;
	if (!EVP_EncryptInit_ex2(t->ctx[s->idx], NULL, zero, zero, NULL))
		ERR_clear_error();
}

static srtp_err_status_t
icm_dealloc(srtp_cipher_t *c)
{
	struct icm *s;

	if (c == NULL)
		return srtp_err_status_bad_param;
	s = c->state;
	icm_forget(s);
	OPENSSL_clear_free(s, sizeof(*s));
	return srtp_err_status_ok;
}

/* key = AES key || 14-octet session salt. */
static srtp_err_status_t
icm_init(void *state, const uint8_t *key)
{
	struct icm *s = state;

	icm_forget(s);
	memcpy(s->key, key, (size_t)s->aes_len);
	memset(s->offset, 0, sizeof(s->offset));
	memcpy(s->offset, key + s->aes_len, ICM_SALT_LEN);
	s->left = s->used = 0;
	s->serial = atomic_fetch_add(&icm_serials, 1) + 1;
	/* this thread's context now, so its first packet does not make it (media workers
	 * make theirs when they start: srtp_ossl_thread_init()) */
	if (icm_ctx(s->idx) == NULL)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

/*
 * Key this thread's context with `s` (unless it holds `s` already) at the counter `used`
 * octets past s->ctr, ready to continue s's keystream. 0 or -1 on an OpenSSL failure.
 */
static int
icm_bind(struct icm *s, bool fresh)
{
	struct icm_tls *t = &icm_tls;
	EVP_CIPHER_CTX *ctx = icm_ctx(s->idx);
	uint8_t ctr[16], skip[16];
	size_t blocks = s->used / 16;
	int outl;

	if (ctx == NULL)
		return -1;
	if (fresh && t->serial[s->idx] == s->serial) /* ours: a new counter is enough */
		return EVP_EncryptInit_ex2(ctx, NULL, NULL, s->ctr, NULL) ? 0 : -1;
	/* 128-bit big-endian ctr + blocks, as OpenSSL's CTR mode counts */
	memcpy(ctr, s->ctr, sizeof(ctr));
	for (int i = 15; i >= 0 && blocks != 0; i--) {
		blocks += ctr[i];
		ctr[i] = (uint8_t)blocks;
		blocks >>= 8;
	}
	t->serial[s->idx] = 0;
	if (!EVP_EncryptInit_ex2(ctx, NULL, s->key, ctr, NULL))
		return -1;
	memset(skip, 0, sizeof(skip));
	if (s->used % 16 != 0 && !EVP_EncryptUpdate(ctx, skip, &outl, skip, (int)(s->used % 16)))
		return -1;
	OPENSSL_cleanse(skip, sizeof(skip));
	t->serial[s->idx] = s->serial;
	return 0;
}

/* The counter is iv XOR (salt || 0x0000); the keystream then runs across encrypt calls. */
static srtp_err_status_t
icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct icm *s = state;
	unsigned int low;

	(void)dir;
	for (size_t i = 0; i < sizeof(s->ctr); i++)
		s->ctr[i] = iv[i] ^ s->offset[i];
	low = (unsigned int)s->ctr[14] << 8 | s->ctr[15];
	s->left = (size_t)(ICM_MAX_BLOCK - low) * 16;
	s->used = 0;
	if (icm_bind(s, true) != 0) {
		s->left = 0;
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
	}
	return srtp_err_status_ok;
}

static srtp_err_status_t
icm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct icm *s = state;
	int outl;

	if (*len == 0)
		return srtp_err_status_ok;
	/* Like libsrtp's own ICM, refuse to run the 16-bit block counter past its end. */
	if (*len > s->left || *len > INT_MAX)
		return srtp_err_status_terminus;
	if (icm_tls.serial[s->idx] != s->serial && icm_bind(s, false) != 0)
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
	if (!EVP_EncryptUpdate(icm_tls.ctx[s->idx], buf, &outl, buf, (int)*len) ||
	    outl != (int)*len)
		return srtp_ossl_fail(srtp_err_status_cipher_fail);
	s->left -= *len;
	s->used += *len;
	return srtp_err_status_ok;
}

/* -------------------------------------------------------------- HMAC-SHA1 ---- */

/*
 * struct hmac: one HMAC-SHA1 object (RFC 2104). Owner: libsrtp; freed by hmac_dealloc(),
 * which wipes it. init() hashes the key's inner and outer pads once and keeps the SHA-1
 * chaining values after them (20 octets each: after one block a SHA-1 state is just
 * that); a message resumes SHA-1 from the inner one in its thread's SHA_CTX (hmac_tls),
 * the outer hash from the outer one. SHA-1's own state (not EVP_MAC) because OpenSSL 3's
 * HMAC held ~770 heap bytes in seven allocations per object and duplicated its digest
 * context (an allocation) for every message; three SHA_CTX an object were 336 bytes,
 * and a call holds eight objects: this is one allocation of sizeof(struct hmac), and a
 * message allocates nothing. The SHA1_* calls and SHA_CTX's fields are deprecated in
 * OpenSSL 3 but kept by Debian's build; the result is checked against libsrtp's own HMAC
 * (tests/test_srtp_ossl.c) and by libsrtp's self-test. The chaining values are as secret
 * as the key: the object is wiped when freed, the thread's message state after each tag.
 *
 * A message runs start() [update()...] compute() on one thread with no other object's
 * message in between (libsrtp computes one tag at a time); `serial` names the object's
 * keying so that compute() or update() on an object whose message is not the thread's
 * (another object's came in between, or none was started) is refused, never computed
 * from another state.
 */
#define HMAC_BLOCK 64 /* SHA-1's block */

struct hmac {
	srtp_auth_t a;
	uint64_t serial;   /* this keying, 0: not keyed */
	SHA_LONG inner[5]; /* SHA-1 chaining value after (key ^ ipad) */
	SHA_LONG outer[5]; /* after (key ^ opad) */
};

/* The message in progress on this thread: inner || data so far, and whose it is. */
static _Thread_local struct {
	SHA_CTX msg;
	uint64_t serial; /* its object's, 0: none */
} hmac_tls;
static atomic_uint_fast64_t hmac_serials;

static const srtp_auth_type_t hmac_type;

/* A SHA-1 state that has hashed one block and has chaining value `h`. */
static void
sha1_resume(SHA_CTX *c, const SHA_LONG h[5])
{
	memset(c, 0, sizeof(*c));
	c->h0 = h[0];
	c->h1 = h[1];
	c->h2 = h[2];
	c->h3 = h[3];
	c->h4 = h[4];
	c->Nl = HMAC_BLOCK * 8;
}

/* SHA-1 of one block `pad`, stopped before padding: its chaining value into `h`. */
static int
sha1_block(const uint8_t *pad, SHA_LONG h[5])
{
	SHA_CTX c;
	int ok = SHA1_Init(&c) && SHA1_Update(&c, pad, HMAC_BLOCK);

	h[0] = c.h0, h[1] = c.h1, h[2] = c.h2, h[3] = c.h3, h[4] = c.h4;
	OPENSSL_cleanse(&c, sizeof(c));
	return ok;
}

static srtp_err_status_t
hmac_alloc(srtp_auth_t **ap, int key_len, int out_len)
{
	struct hmac *s;

	if (key_len < 0 || key_len > SHA1_LEN || out_len < 0 || out_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return srtp_ossl_fail(srtp_err_status_alloc_fail);
	s->a.type = &hmac_type;
	s->a.state = s;
	s->a.out_len = out_len;
	s->a.key_len = key_len;
	s->a.prefix_len = 0;
	*ap = &s->a;
	return srtp_err_status_ok;
}

/* Wipe this thread's message state if it is `s`'s. */
static void
hmac_tls_drop(const struct hmac *s)
{
	if (s->serial != 0 && hmac_tls.serial == s->serial) {
		OPENSSL_cleanse(&hmac_tls.msg, sizeof(hmac_tls.msg));
		hmac_tls.serial = 0;
	}
}

static srtp_err_status_t
hmac_dealloc(srtp_auth_t *a)
{
	if (a == NULL)
		return srtp_err_status_bad_param;
	hmac_tls_drop(a->state);
	OPENSSL_clear_free(a->state, sizeof(struct hmac));
	return srtp_err_status_ok;
}

/* Restarts from the keyed inner state, as this thread's message. */
static srtp_err_status_t
hmac_start(void *state)
{
	struct hmac *s = state;

	if (s->serial == 0)
		return srtp_err_status_auth_fail;
	sha1_resume(&hmac_tls.msg, s->inner);
	hmac_tls.serial = s->serial;
	return srtp_err_status_ok;
}

/* Keys the MAC once per stream; leaves a fresh MAC ready (the self-test skips start()). */
static srtp_err_status_t
hmac_init(void *state, const uint8_t *key, int key_len)
{
	struct hmac *s = state;
	uint8_t pad[HMAC_BLOCK];
	int ok;

	if (key_len < 0 || key_len > SHA1_LEN) /* shorter than a block: used as it is */
		return srtp_err_status_bad_param;
	hmac_tls_drop(s);
	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	ok = sha1_block(pad, s->inner);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && sha1_block(pad, s->outer);
	OPENSSL_cleanse(pad, sizeof(pad));
	if (!ok) {
		s->serial = 0;
		return srtp_ossl_fail(srtp_err_status_auth_fail);
	}
	s->serial = atomic_fetch_add(&hmac_serials, 1) + 1;
	return hmac_start(s);
}

static srtp_err_status_t
hmac_update(void *state, const uint8_t *buf, int len)
{
	struct hmac *s = state;

	if (len < 0)
		return srtp_err_status_bad_param;
	if (s->serial == 0 || hmac_tls.serial != s->serial)
		return srtp_err_status_auth_fail; /* no message of this object's in progress */
	if (len > 0 && !SHA1_Update(&hmac_tls.msg, buf, (size_t)len))
		return srtp_ossl_fail(srtp_err_status_auth_fail);
	return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_compute(void *state, const uint8_t *buf, int len, int tag_len, uint8_t *tag)
{
	struct hmac *s = state;
	uint8_t md[SHA1_LEN];
	SHA_CTX out;
	srtp_err_status_t st;
	int ok;

	if (tag_len < 0 || tag_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	if ((st = hmac_update(state, buf, len)) != srtp_err_status_ok)
		return st;
	sha1_resume(&out, s->outer);
	ok = SHA1_Final(md, &hmac_tls.msg) && SHA1_Update(&out, md, sizeof(md)) &&
	     SHA1_Final(md, &out);
	if (ok)
		memcpy(tag, md, (size_t)tag_len);
	hmac_tls_drop(s); /* one tag per message */
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(&out, sizeof(out));
	return ok ? srtp_err_status_ok : srtp_ossl_fail(srtp_err_status_auth_fail);
}

/* ------------------------------------------------------------ descriptors ---- */

/* One descriptor per id: libsrtp refuses a descriptor registered under two ids. */
static const srtp_cipher_type_t icm_types[3] = {
        {
                .alloc = icm128_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-128 counter mode (OpenSSL)",
                .test_data = &srtp_ossl_vec_icm128,
                .id = SRTP_AES_ICM_128,
        },
        {
                .alloc = icm192_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-192 counter mode (OpenSSL)",
                .test_data = &srtp_ossl_vec_icm192,
                .id = SRTP_AES_ICM_192,
        },
        {
                .alloc = icm256_alloc,
                .dealloc = icm_dealloc,
                .init = icm_init,
                .encrypt = icm_encrypt,
                .decrypt = icm_encrypt,
                .set_iv = icm_set_iv,
                .description = "AES-256 counter mode (OpenSSL)",
                .test_data = &srtp_ossl_vec_icm256,
                .id = SRTP_AES_ICM_256,
        },
};

static const srtp_auth_type_t hmac_type = {
        .alloc = hmac_alloc,
        .dealloc = hmac_dealloc,
        .init = hmac_init,
        .compute = hmac_compute,
        .update = hmac_update,
        .start = hmac_start,
        .description = "HMAC-SHA1 (OpenSSL)",
        .test_data = &srtp_ossl_vec_hmac,
        .id = SRTP_HMAC_SHA1,
};

void
srtp_ossl_thread_forget(void)
{
	static const uint8_t zero[32];
	struct icm_tls *t = &icm_tls;

	for (int i = 0; i < 3; i++) {
		if (t->serial[i] == 0 || t->ctx[i] == NULL)
			continue;
		t->serial[i] = 0;
		if (!EVP_EncryptInit_ex2(t->ctx[i], NULL, zero, zero, NULL))
			ERR_clear_error();
	}
	if (hmac_tls.serial != 0) {
		OPENSSL_cleanse(&hmac_tls.msg, sizeof(hmac_tls.msg));
		hmac_tls.serial = 0;
	}
}

/* ---------------------------------------------------------------- install ---- */

static int
fetch_all(void)
{
	static const char *const ctr_names[3] = {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"};
	static const char *const gcm_names[2] = {"AES-128-GCM", "AES-256-GCM"};

	for (size_t i = 0; i < 3; i++)
		if (evp_ctr[i] == NULL &&
		    (evp_ctr[i] = EVP_CIPHER_fetch(NULL, ctr_names[i], NULL)) == NULL)
			goto fail;
	for (size_t i = 0; i < 2; i++)
		if (srtp_ossl_gcm_evp[i] == NULL &&
		    (srtp_ossl_gcm_evp[i] = EVP_CIPHER_fetch(NULL, gcm_names[i], NULL)) == NULL)
			goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -EIO;
}

int
srtp_ossl_install(void)
{
	/* ICM first: the key derivation of every suite runs on it. */
	static const srtp_cipher_type_t *const order[] = {
	        &icm_types[0],           &icm_types[2],           &icm_types[1],
	        &srtp_ossl_gcm_types[0], &srtp_ossl_gcm_types[1],
	};

	if (srtp_ossl_installed())
		return 0;
	/* Before srtp_init() the list is empty: a type added now would make srtp_init() fail. */
	if (srtp_crypto_kernel_get_cipher_type(SRTP_AES_ICM_128) == NULL ||
	    srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) == NULL)
		return -EIO;
	if (fetch_all() < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (srtp_crypto_kernel_get_cipher_type(order[i]->id) == order[i])
			continue;
		if (srtp_replace_cipher_type(order[i], order[i]->id) != srtp_err_status_ok) {
			ERR_clear_error();
			return -EIO;
		}
	}
	if (srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) != &hmac_type &&
	    srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) != srtp_err_status_ok) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

bool
srtp_ossl_installed(void)
{
	for (size_t i = 0; i < 3; i++)
		if (srtp_crypto_kernel_get_cipher_type(icm_types[i].id) != &icm_types[i])
			return false;
	for (size_t i = 0; i < 2; i++)
		if (srtp_crypto_kernel_get_cipher_type(srtp_ossl_gcm_types[i].id) !=
		    &srtp_ossl_gcm_types[i])
			return false;
	return srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) == &hmac_type;
}

const srtp_cipher_type_t *
srtp_ossl_cipher_type(srtp_cipher_type_id_t id)
{
	switch (id) {
	case SRTP_AES_ICM_128:
		return &icm_types[0];
	case SRTP_AES_ICM_192:
		return &icm_types[1];
	case SRTP_AES_ICM_256:
		return &icm_types[2];
	case SRTP_AES_GCM_128:
		return &srtp_ossl_gcm_types[0];
	case SRTP_AES_GCM_256:
		return &srtp_ossl_gcm_types[1];
	default:
		return NULL;
	}
}

const srtp_auth_type_t *
srtp_ossl_auth_type(void)
{
	return &hmac_type;
}
