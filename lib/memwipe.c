/*
 * memwipe.c: allocator functions that wipe a block before freeing it, installed into
 * libosip2 (osip_set_allocators) and libevent (event_set_mem_functions). See memwipe.h
 * for why. malloc_usable_size() gives the whole block (at least what was asked), so
 * nothing of a key survives in the block's slack either. A relaxed atomic counts the
 * bytes wiped (the packet path never comes here: media buffers are not freed per packet).
 */
#include "memwipe.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <osipparser2/osip_port.h>

static _Atomic unsigned long long wiped;

void *
memwipe_malloc(size_t n)
{
	return malloc(n);
}

void
memwipe_free(void *p)
{
	size_t n;

	if (p == NULL)
		return;
	n = malloc_usable_size(p);
	explicit_bzero(p, n); /* glibc's vector memset, kept by the compiler: much faster
	                       * than OPENSSL_cleanse's word loop on evbuffer chunks */
	atomic_fetch_add_explicit(&wiped, n, memory_order_relaxed);
	free(p);
}

/* Never realloc() in place: the old block would be freed unwiped when it moves. */
void *
memwipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		memwipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (old >= n)
		return p; /* shrinking or within the slack: keep it, wiped when freed */
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old);
	memwipe_free(p);
	return q;
}

unsigned long long
memwipe_wiped_bytes(void)
{
	return atomic_load_explicit(&wiped, memory_order_relaxed);
}

void
memwipe_install(void)
{
	osip_set_allocators(memwipe_malloc, memwipe_realloc, memwipe_free);
	event_set_mem_functions(memwipe_malloc, memwipe_realloc, memwipe_free);
}
