/*
 * sha256.h: SHA-256 of a buffer, for digests that identify without revealing (an SRTP
 * leg's keys, a config file's text, swpeer's key hashes).
 *
 * SHA256() and EVP_Digest(..., EVP_sha256(), ...) look the algorithm up by name in
 * OpenSSL 3's provider store on every call (a lock and a hash-table walk), which here
 * costs more than hashing a 46-octet key: ~300 ns against ~120 ns. sha256_digest()
 * fetches it once per process and keeps it for the process's life.
 */
#ifndef SW_SHA256_H
#define SW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* out = SHA-256(p[0..n)). 0, or -EIO if OpenSSL could not provide or run SHA-256 (out
 * is then unspecified: do not use it). Safe from any thread. */
int sha256_digest(const void *p, size_t n, uint8_t out[SHA256_LEN]);

#endif
