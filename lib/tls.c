/*
 * tls.c: build OpenSSL contexts from struct conf_tls and read back handshake results.
 *
 * Responsible for the TLS policy (version floor, ciphers, certificate and key loading,
 * peer verification) and for turning OpenSSL's error queue into one message at this
 * boundary. Not responsible for sockets, timeouts or the event loop (daemon/sip_server.c).
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Write "what: <first OpenSSL error>" into err and clear the error queue. */
static void
tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	char ebuf[256] = "";
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return;
	if (path != NULL)
		snprintf(err, errlen, "%s %s: %s", what, path, ebuf[0] ? ebuf : "failed");
	else
		snprintf(err, errlen, "%s: %s", what, ebuf[0] ? ebuf : "failed");
}

/* Protocol floor, ciphers and hardening options shared by server and client contexts. */
static int
tls_ctx_common(SSL_CTX *ctx, const struct conf_tls *t, char *err, size_t errlen)
{
	int min = t->min_version;

	if (min < TLS1_2_VERSION)
		min = TLS1_2_VERSION;
	if (min > TLS1_3_VERSION)
		min = TLS1_3_VERSION;
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1) {
		tls_err(err, errlen, "cannot set the minimum TLS version", NULL);
		return -EINVAL;
	}
	/* SSL_OP_CLEANSE_PLAINTEXT: the SIP text read (SDP with SDES keys in clear) is wiped
	 * from OpenSSL's record buffer once handed over, not left there until overwritten */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                                 SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, t->ciphers != NULL ? t->ciphers : TLS_DEFAULT_CIPHERS) !=
	    1) {
		tls_err(err, errlen, "no usable cipher in [tls] ciphers", NULL);
		return -EINVAL;
	}
	if (t->ciphersuites != NULL && SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1) {
		tls_err(err, errlen, "no usable suite in [tls] ciphersuites", NULL);
		return -EINVAL;
	}
	return 0;
}

/* Load a PEM chain (leaf first) and its key, and check that they belong together. */
static int
tls_load_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, errlen, "cannot load certificate chain", cert);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
			tls_err(err, errlen, "private key does not match certificate", key);
		else
			tls_err(err, errlen, "cannot load private key", key);
		return -EINVAL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "private key does not match certificate", key);
		return -EINVAL;
	}
	return 0;
}

/*
 * Server side: record the verification result instead of failing the handshake, so
 * that policy (per trunk: CA or pinned fingerprint) is decided above TLS.
 */
static int
tls_server_verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	(void)preverify_ok;
	(void)x;
	return 1;
}

SSL_CTX *
tls_server_ctx_new(const struct conf_tls *t, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (t->certificate == NULL || t->private_key == NULL) {
		snprintf(err, errlen, "[tls] certificate and private_key are required");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "cannot create TLS context", NULL);
		return NULL;
	}
	if (tls_ctx_common(ctx, t, err, errlen) != 0 ||
	    tls_load_pair(ctx, t->certificate, t->private_key, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (t->ca_file != NULL) {
		STACK_OF(X509_NAME) * names;

		if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
			tls_err(err, errlen, "cannot load CA file", t->ca_file);
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(t->ca_file)) != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_server_verify_cb);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx_new(const struct conf_tls *t, const char *cert, const char *key, bool verify,
                   char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((cert == NULL) != (key == NULL)) {
		snprintf(err, errlen, "client certificate and key must be given together");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_err(err, errlen, "cannot create TLS context", NULL);
		return NULL;
	}
	if (tls_ctx_common(ctx, t, err, errlen) != 0)
		goto fail;
	if (cert != NULL && tls_load_pair(ctx, cert, key, err, errlen) != 0)
		goto fail;
	if (verify) {
		int ok = t->ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL)
		                            : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			tls_err(err, errlen, "cannot load CA file",
			        t->ca_file != NULL ? t->ca_file : "(system default)");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
tls_client_ssl_new(SSL_CTX *ctx, const char *server_name)
{
	ASN1_OCTET_STRING *ip;
	SSL *ssl = SSL_new(ctx);
	int ok = 1;

	if (ssl == NULL || server_name == NULL)
		return ssl;
	/* SNI carries host names only; an IP literal is checked against the SAN IPs. */
	ip = a2i_IPADDRESS(server_name);
	ERR_clear_error();
	if (ip == NULL && SSL_set_tlsext_host_name(ssl, server_name) != 1)
		ok = 0;
	if (ok && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (ip != NULL)
			ok = X509_VERIFY_PARAM_set1_ip(vp, ASN1_STRING_get0_data(ip),
			                               (size_t)ASN1_STRING_length(ip));
		else
			ok = X509_VERIFY_PARAM_set1_host(vp, server_name, 0);
	}
	ASN1_OCTET_STRING_free(ip);
	if (ok != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

const char *
tls_peer_name(const char *server_name, const struct sockaddr *sa, char *buf, size_t len)
{
	const void *addr;

	if (server_name != NULL)
		return server_name;
	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return NULL;
	return inet_ntop(sa->sa_family, addr, buf, (socklen_t)len);
}

const char *
tls_version_name(int version)
{
	switch (version) {
	case TLS1_VERSION:
		return "TLSv1.0";
	case TLS1_1_VERSION:
		return "TLSv1.1";
	case TLS1_2_VERSION:
		return "TLSv1.2";
	case TLS1_3_VERSION:
		return "TLSv1.3";
	default:
		return "unknown";
	}
}

int
tls_peer_fingerprint(const SSL *ssl, uint8_t out[32])
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	unsigned int n = 0;

	if (cert == NULL)
		return -ENOENT;
	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 || n != 32) {
		ERR_clear_error();
		return -ENOENT;
	}
	return 0;
}

int
tls_info_get(const SSL *ssl, struct tls_info *out)
{
	const SSL_CIPHER *c;

	memset(out, 0, sizeof(*out));
	out->cipher = "";
	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return -ENOTCONN;
	out->version = SSL_version(ssl);
	out->version_name = tls_version_name(out->version);
	if ((c = SSL_get_current_cipher(ssl)) != NULL && SSL_CIPHER_get_name(c) != NULL)
		out->cipher = SSL_CIPHER_get_name(c);
	if (tls_peer_fingerprint(ssl, out->peer_fp) == 0) {
		out->has_peer_cert = true;
		out->peer_verified = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) &&
		                     SSL_get_verify_result(ssl) == X509_V_OK;
	}
	return 0;
}

const char *
tls_fp_str(const uint8_t fp[32], char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (len == 0)
		return buf;
	for (size_t i = 0; i < 32 && o + 3 < len; i++) {
		buf[o++] = hex[fp[i] >> 4];
		buf[o++] = hex[fp[i] & 15];
		if (i != 31)
			buf[o++] = ':';
	}
	buf[o] = '\0';
	return buf;
}
