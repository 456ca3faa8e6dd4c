/*
 * memwipe.h: SIP text is wiped when its memory is freed.
 *
 * SDP bodies carry SDES keys (a=crypto, RFC 4568) in clear text, and a SIP message lives
 * in many places on its way through sipwarden: libevent's buffers (TLS-decrypted bytes
 * in, serialised messages out) and libosip2's parsed and serialised messages. Rather than
 * finding every free of every buffer that may hold a key, memwipe_install() gives both
 * libraries allocator functions whose free (and realloc, which frees the old block)
 * overwrites the whole block with explicit_bzero() first (a memset the compiler
 * may not drop, like OPENSSL_cleanse but vectorised). The blocks come from and go to
 * the C library's malloc, so memory allocated before the install is freed correctly too.
 * Not covered: OpenSSL's own record buffers, and copies our code makes outside these
 * libraries (those that hold keys are wiped where they are made: srtp_keys, sdp_build).
 */
#ifndef SW_MEMWIPE_H
#define SW_MEMWIPE_H

#include <stddef.h>

/* Install the wiping allocators into libosip2 and libevent. Call once, early in main()
 * (it is safe later: the heaps are the same). */
void memwipe_install(void);

/* The allocator functions themselves (malloc/realloc/free semantics). */
void *memwipe_malloc(size_t n);
void *memwipe_realloc(void *p, size_t n);
void memwipe_free(void *p);

/* Bytes wiped so far by memwipe_free/memwipe_realloc in this process. */
unsigned long long memwipe_wiped_bytes(void);

#endif
