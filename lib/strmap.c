/*
 * strmap.c: an intrusive hash index of string keys (see strmap.h): chained buckets, a
 * power-of-two bucket array doubled when the map holds more nodes than buckets, and a
 * keyed SipHash-2-4 so that bucket choice cannot be predicted by whoever picks the keys.
 * Not responsible for the nodes' or keys' memory.
 */
#include "strmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define STRMAP_MIN_BUCKETS 64

struct strmap {
	struct strmap_node **bucket;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint8_t key[16];
};

/* ---- SipHash-2-4 (Aumasson, Bernstein: 2 compression, 4 finalisation rounds) ---- */

static inline uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void
sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void
sip_block(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t
strmap_siphash(const uint8_t k[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(k), k1 = le64(k + 8), last;
	struct sip_state s = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
	                      k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8)
		sip_block(&s, le64(p + i));
	/* the last block: the remaining bytes, the length's low byte on top */
	last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	sip_block(&s, last);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- the map ---- */

int
strmap_new(struct strmap **out)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	m->nbuckets = STRMAP_MIN_BUCKETS;
	if ((m->bucket = calloc(m->nbuckets, sizeof(*m->bucket))) == NULL) {
		free(m);
		return -ENOMEM;
	}
	if (RAND_bytes(m->key, sizeof(m->key)) != 1) {
		/* no randomness: still a working map, only a predictable one */
		memset(m->key, 0x5a, sizeof(m->key));
	}
	*out = m;
	return 0;
}

static void
link_node(struct strmap_node **head, struct strmap_node *n)
{
	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (struct strmap_node *n = m->bucket[i], *next; n != NULL; n = next) {
			next = n->next;
			n->next = NULL;
			n->pprev = NULL;
			n->map = NULL;
		}
	}
	free(m->bucket);
	free(m);
}

/* Double the bucket array; on allocation failure keep the current one. */
static void
grow(struct strmap *m)
{
	size_t nb = m->nbuckets * 2;
	struct strmap_node **b;

	if (nb < m->nbuckets || nb > SIZE_MAX / sizeof(*b) || (b = calloc(nb, sizeof(*b))) == NULL)
		return;
	/* reverse each old bucket first, then push: nodes sharing a key keep their order */
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct strmap_node *rev = NULL, *n, *next;
		for (n = m->bucket[i]; n != NULL; n = next) {
			next = n->next;
			n->next = rev;
			rev = n;
		}
		for (n = rev; n != NULL; n = next) {
			next = n->next;
			link_node(&b[n->hash & (nb - 1)], n);
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->nbuckets = nb;
}

void
strmap_add(struct strmap *m, struct strmap_node *n, const char *key, size_t klen, void *value)
{
	strmap_del(n);
	if (m->count >= m->nbuckets)
		grow(m);
	n->map = m;
	n->key = key;
	n->klen = klen;
	n->value = value;
	n->hash = strmap_siphash(m->key, key, klen);
	link_node(&m->bucket[n->hash & (m->nbuckets - 1)], n);
	m->count++;
}

void
strmap_del(struct strmap_node *n)
{
	if (n->pprev == NULL)
		return;
	*n->pprev = n->next;
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	n->map->count--;
	n->next = NULL;
	n->pprev = NULL;
	n->map = NULL;
}

static bool
same_key(const struct strmap_node *n, uint64_t h, const char *key, size_t klen)
{
	return n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0;
}

struct strmap_node *
strmap_find(const struct strmap *m, const char *key, size_t klen)
{
	uint64_t h = strmap_siphash(m->key, key, klen);

	for (struct strmap_node *n = m->bucket[h & (m->nbuckets - 1)]; n != NULL; n = n->next)
		if (same_key(n, h, key, klen))
			return n;
	return NULL;
}

struct strmap_node *
strmap_find_next(const struct strmap_node *n)
{
	for (struct strmap_node *x = n->next; x != NULL; x = x->next)
		if (same_key(x, n->hash, n->key, n->klen))
			return x;
	return NULL;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}

void
strmap_shape(const struct strmap *m, size_t *nbuckets, size_t *longest)
{
	size_t max = 0;

	for (size_t i = 0; i < m->nbuckets; i++) {
		size_t len = 0;
		for (const struct strmap_node *n = m->bucket[i]; n != NULL; n = n->next)
			len++;
		if (len > max)
			max = len;
	}
	*nbuckets = m->nbuckets;
	*longest = max;
}
