/*
 * strmap.h: a hash index of string keys, intrusive: the caller embeds a struct
 * strmap_node in its own object and the map only links nodes, so adding and removing
 * never allocates (growing the bucket array does, and may fail harmlessly). Several nodes
 * may share a key; they are found newest first.
 *
 * Keys are hashed with SipHash-2-4 under a random key drawn when the map is made, so a
 * peer that chooses keys (a Call-ID) cannot aim them at one bucket. Lookups cost one hash
 * of the key plus the nodes of one bucket, whatever the number of entries.
 *
 * Not thread-safe; not responsible for the keys' memory (a node points at its key, which
 * must stay unchanged while the node is in the map).
 */
#ifndef SW_STRMAP_H
#define SW_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

/*
 * struct strmap_node: one entry. Owner: the object that embeds it. Zero-initialised it
 * is "in no map"; strmap_del() returns it to that state.
 */
struct strmap_node {
	struct strmap_node *next;   /* next in the bucket */
	struct strmap_node **pprev; /* the pointer that points at this node; NULL: unlinked */
	struct strmap *map;
	const char *key; /* not owned */
	size_t klen;
	uint64_t hash;
	void *value; /* the caller's */
};

/* A new empty map. 0 or -ENOMEM (*out untouched). Freed with strmap_free(). */
int strmap_new(struct strmap **out);

/* Free the map; nodes still in it are unlinked (not freed). NULL is fine. */
void strmap_free(struct strmap *m);

/*
 * Link `n` under key[0..klen) with `value` (the newest node with that key). A node already
 * in a map is moved. Never fails: when the bucket array cannot grow, it stays as it is.
 */
void strmap_add(struct strmap *m, struct strmap_node *n, const char *key, size_t klen, void *value);

/* Unlink `n` from its map; a node in no map is left alone. */
void strmap_del(struct strmap_node *n);

/* The newest node with key[0..klen), or NULL. */
struct strmap_node *strmap_find(const struct strmap *m, const char *key, size_t klen);

/* The next (older) node with the same key as `n`, or NULL. */
struct strmap_node *strmap_find_next(const struct strmap_node *n);

/* Number of nodes in the map. */
size_t strmap_count(const struct strmap *m);

/* Number of buckets and the length of the longest bucket (for tests and stats). */
void strmap_shape(const struct strmap *m, size_t *nbuckets, size_t *longest);

/* SipHash-2-4 of data[0..len) under the 16-byte key `k` (exported for the test vectors). */
uint64_t strmap_siphash(const uint8_t k[16], const void *data, size_t len);

#endif
