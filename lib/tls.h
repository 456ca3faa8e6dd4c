/*
 * tls.h: OpenSSL contexts for sipwarden's TLS connections, built from struct conf_tls.
 *
 * This module owns the TLS policy: protocol floor (never below TLS 1.2, default 1.3),
 * cipher lists, certificate chain and key loading (and checking that they match), and
 * verification of peer certificates. It also reads back what a finished handshake
 * negotiated (version, cipher, peer certificate fingerprint) so that the SIP layer can
 * log and enforce it. It does not open sockets or run an event loop: the daemon wires
 * the contexts to libevent's bufferevent_openssl.
 */
#ifndef SW_TLS_H
#define SW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "conf.h"

/*
 * TLS 1.2 cipher list used when [tls] ciphers is unset: forward secrecy (ECDHE) and
 * AEAD only (AES-GCM, ChaCha20-Poly1305); no CBC with SHA-1/SHA-2 MACs, no static RSA,
 * no finite-field DHE. TLS 1.3 suites ([tls] ciphersuites) are all AEAD already.
 */
#define TLS_DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* What a completed handshake negotiated, as seen from our side. */
struct tls_info {
	int version;              /* TLS1_2_VERSION, TLS1_3_VERSION, ... (0 before handshake) */
	const char *version_name; /* "TLSv1.3", static string */
	const char *cipher;       /* OpenSSL cipher name, e.g. "TLS_AES_256_GCM_SHA384": a static
	                             string of libssl's cipher table ("" before handshake) */
	bool has_peer_cert;       /* the peer presented a certificate */
	bool peer_verified;       /* ... and it verified against the configured CA */
	uint8_t peer_fp[32];      /* SHA-256 of the peer certificate's DER (when has_peer_cert) */
};

/*
 * Build the listener's SSL_CTX: chain (leaf first) and key from t->certificate and
 * t->private_key (checked to match), protocol floor max(t->min_version, TLS 1.2), no
 * ceiling, t->ciphers (default TLS_DEFAULT_CIPHERS) and t->ciphersuites when set, no
 * renegotiation, no compression, no session tickets. When t->ca_file is set the server asks for a
 * client certificate and verifies it against that CA, but does not fail the handshake without one
 * or on a verification error: the result is reported by tls_info_get() and the SIP layer decides
 * per trunk (CA or pinned fingerprint). Returns a new SSL_CTX (caller frees with SSL_CTX_free) or
 * NULL with a message in err.
 */
SSL_CTX *tls_server_ctx_new(const struct conf_tls *t, char *err, size_t errlen);

/*
 * Build an SSL_CTX for connections sipwarden opens (toward agents or trunks). Same
 * protocol floor and ciphers as the server. `cert`/`key` (both or neither) are the
 * client certificate to present; when `verify` is true the peer's certificate must
 * verify against t->ca_file (or the system store when unset) and the handshake fails
 * otherwise; the host name is checked per connection with tls_client_ssl_new().
 * Returns a new SSL_CTX or NULL with a message in err.
 */
SSL_CTX *tls_client_ctx_new(const struct conf_tls *t, const char *cert, const char *key,
                            bool verify, char *err, size_t errlen);

/*
 * A new client SSL from `ctx` with SNI and (when the ctx verifies) a check that the
 * certificate names `server_name`: a DNS name, or an IP literal matched against the
 * certificate's IP addresses (no SNI then). NULL: no SNI, no name check, which callers
 * never ask for toward a peer that gets keys (see tls_peer_name()). Returns NULL on
 * allocation failure.
 */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *server_name);

/*
 * The identity an outgoing connection's certificate must show: `server_name` when it is
 * set, else the IP address of `sa` as text (no port, no brackets) written into buf, so
 * that a peer is never accepted for a mere chain to the CA. Returns server_name or buf,
 * or NULL when `sa` is not IPv4/IPv6 or buf is too small.
 */
const char *tls_peer_name(const char *server_name, const struct sockaddr *sa, char *buf,
                          size_t len);

/* Fill `out` from an SSL whose handshake completed. Returns 0 or -ENOTCONN. */
int tls_info_get(const SSL *ssl, struct tls_info *out);

/* SHA-256 of the peer certificate's DER into out. Returns 0 or -ENOENT (no cert). */
int tls_peer_fingerprint(const SSL *ssl, uint8_t out[32]);

/* "TLSv1.2", "TLSv1.3", or "unknown" for a version constant. */
const char *tls_version_name(int version);

/* Hex "AB:CD:..." of a 32-byte fingerprint into buf (at least 96 bytes). Returns buf. */
const char *tls_fp_str(const uint8_t fp[32], char *buf, size_t len);

#endif
