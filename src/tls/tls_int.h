/* tls_int.h - what the TLS files share (tls_ctx.c: contexts and
 * verification; tls_id.c: identities; tls.c: sessions; tls_conn.c: TLS
 * under skt_conn; tls_relay.c: TLS under the relay). Not installed. */
#ifndef SOCKIT_TLS_INT_H
#define SOCKIT_TLS_INT_H

#include "internal.h"
#include "sockit/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>

#define SNI_MAX      16
#define SESSIONS_MAX 16
#define REASON_MAX   256

struct skt_tls_id {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * chain; /* may be NULL */
};

/* A client's last session per host, for resumption. */
struct session_slot {
	char host[256];
	SSL_SESSION *sess;
};

struct skt_tls_ctx {
	SSL_CTX *ssl;
	skt_tls_role role;
	bool insecure;
	size_t npins;
	uint8_t pins[SKT_TLS_PINS_MAX][SKT_TLS_SHA256_LEN];
	uint8_t alpn[256]; /* wire format: length-prefixed names */
	size_t alpn_len;
	size_t nsni;
	struct {
		char name[256];
		skt_tls_id *id;
	} sni[SNI_MAX];
	pthread_mutex_t lock; /* sessions */
	struct session_slot sessions[SESSIONS_MAX];
	size_t next_slot;
	atomic_int refs; /* the owner and each session */
};

struct skt_tls {
	SSL *ssl;
	skt_tls_ctx *ctx;
	int fd;
	bool handshaken;
	bool shut;   /* close_notify sent */
	bool pinned; /* the leaf matched a pin */
	bool pin_failed;
	short want; /* POLLIN or POLLOUT: what the last wait was for */
	/* Both allocated only when needed: an idle server connection
	 * carries neither. */
	char *host;   /* the session cache key (client side), NULL none */
	char *reason; /* why the last call failed (REASON_MAX), NULL none */
};

/* tls_ctx.c */
void skt__tls_ctx_ref(skt_tls_ctx *ctx);
void skt__tls_ctx_unref(skt_tls_ctx *ctx);
/* Whether x's certificate or key hash to one of ctx's pins. */
bool skt__tls_pin_match(const skt_tls_ctx *ctx, X509 *x);
/* The saved session for host (a new reference) or NULL. */
SSL_SESSION *skt__tls_session_get(skt_tls_ctx *ctx, const char *host);

/* tls_id.c */
/* sha256:HEX of len bytes' digest into out (SKT_TLS_PIN_STRLEN). */
void skt__tls_hex_pin(const uint8_t md[SKT_TLS_SHA256_LEN], char *out);
int skt__tls_cert_digest(X509 *x, uint8_t md[SKT_TLS_SHA256_LEN]);
int skt__tls_spki_digest(X509 *x, uint8_t md[SKT_TLS_SHA256_LEN]);
/* Install id as ssl's (or the context's) certificate, key and chain. */
int skt__tls_use_id(SSL_CTX *c, SSL *s, const skt_tls_id *id);

/* tls.c, for tls_conn.c: the deadline forms of the public calls. */
int skt__tls_handshake_by(skt_tls *t, int64_t deadline);
ssize_t skt__tls_read_by(skt_tls *t, void *buf, size_t cap, int64_t deadline);
int skt__tls_write_by(skt_tls *t, const void *buf, size_t len, int64_t deadline,
		      size_t *sent);
int skt__tls_shutdown_by(skt_tls *t, int64_t deadline);
/* For loops that drive SSL calls themselves (src/loop/stream_tls.c):
 * after an SSL call returned ret <= 0 with an error other than
 * WANT_READ / WANT_WRITE, the sockit code (0 for the peer's
 * close_notify), with t->reason set and OpenSSL's queue emptied.
 * saved_errno is errno right after the call. */
int skt__tls_fail(skt_tls *t, int ret, int saved_errno);
/* Forget the last failure's reason (before a new call). */
void skt__tls_clear_reason(skt_tls *t);
/* After an SSL call on t returned ret <= 0 (saved_errno: errno right
 * after it): SKT_EAGAIN with t->want set for WANT_READ / WANT_WRITE, 0 for
 * the peer's close_notify, else skt__tls_fail's error. For
 * callers that never wait themselves (tls_relay.c). */
int skt__tls_io_error(skt_tls *t, int ret, int saved_errno);

#endif
