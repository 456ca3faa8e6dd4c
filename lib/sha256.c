/*
 * sha256.c: SHA-256 with the algorithm fetched once (sha256.h says why). Owns the
 * fetched EVP_MD, kept until the process exits; OpenSSL's own cleanup at exit frees
 * the provider behind it.
 */
#include "sha256.h"

#include <errno.h>
#include <pthread.h>

#include <openssl/evp.h>

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
sha256_digest(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned len = 0;

	if (pthread_once(&fetch_once, fetch) != 0 || sha256_md == NULL)
		return -EIO;
	if (EVP_Digest(p, n, out, &len, sha256_md, NULL) != 1 || len != SHA256_LEN)
		return -EIO;
	return 0;
}
