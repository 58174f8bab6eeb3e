/* sockit/tls.h - TLS over sockit's sockets (OpenSSL 3).
 *
 * Defaults follow Python's ssl.create_default_context(): a client verifies
 * the peer's certificate chain against the system trust store and checks
 * the host name it was given (or the IP address, for an IP literal); TLS
 * 1.2 is the minimum; session tickets are on. Nothing is verified less
 * than that unless the caller asks for it by name (insecure), or replaces
 * the chain check with a pin of the peer's key or certificate.
 *
 * Three parts:
 *   skt_tls_ctx   the settings shared by many connections: role, trust,
 *                 identity, versions, ALPN. Thread-safe once made.
 *   skt_tls_id    an identity in memory: a key and its certificate, made
 *                 by skt_tls_selfsigned() (an ephemeral server identity).
 *   skt_tls       one TLS session on one non-blocking fd, driven with
 *                 per-call timeouts like the rest of libsockit (the fd
 *                 stays the caller's).
 * On top, skt_tls_conn_connect / skt_tls_conn_accept give a buffered
 * skt_conn (conn.h) whose reads and writes go through TLS: read-line,
 * read-exact, read-frame and write-all work as on a plain connection.
 *
 * A peer that closes the connection without a close_notify alert may have
 * been cut off (a truncation attack, or a crash): reads then return
 * SKT_ETRUNCATED, never 0, after every byte that did arrive.
 *
 * Memory: OpenSSL's own allocations do not go through skt_set_allocator's
 * hook (its allocator is process-wide and caches across connections);
 * sockit's do.
 */
#ifndef SOCKIT_TLS_H
#define SOCKIT_TLS_H

#include "sockit/conn.h"
#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"
#include "sockit/relay.h"
#include "sockit/sock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_tls_ctx skt_tls_ctx;
typedef struct skt_tls_id skt_tls_id;
typedef struct skt_tls skt_tls;

typedef enum skt_tls_role {
	SKT_TLS_CLIENT = 1,
	SKT_TLS_SERVER = 2
} skt_tls_role;

/* Protocol versions, for min_version and skt_tls_info. */
#define SKT_TLS_1_2 0x0303
#define SKT_TLS_1_3 0x0304

/* Client certificates, asked by a server (client_auth). */
enum {
	SKT_TLS_CLIENT_AUTH_NONE = 0,
	SKT_TLS_CLIENT_AUTH_REQUEST, /* ask; verify one if sent */
	SKT_TLS_CLIENT_AUTH_REQUIRE  /* refuse a client without one */
};

#define SKT_TLS_PINS_MAX   8
#define SKT_TLS_SHA256_LEN 32
/* "sha256:" and 64 hex digits, NUL included. */
#define SKT_TLS_PIN_STRLEN 72

typedef struct skt_tls_opts {
	skt_tls_role role;
	/* Trust: what verifies the peer (a server's client certificates,
	 * a client's server). Both NULL: the system store (a server that
	 * asks for client certificates needs one of them). */
	const char *ca_file; /* PEM bundle */
	const char *ca_dir;  /* c_rehash'ed directory */
	/* Pins, "sha256:HEX" (colons between hex pairs allowed): the
	 * SHA-256 of the peer's SubjectPublicKeyInfo or of its whole
	 * certificate (DER). With pins, the peer is accepted when its leaf
	 * matches one, whatever its chain and names say: the pin is the
	 * trust. */
	const char *pins[SKT_TLS_PINS_MAX];
	size_t npins;
	/* No verification at all: the connection is encrypted but the peer
	 * unknown. The caller should say so to its user. */
	bool insecure;
	/* Identity: a PEM certificate (leaf first, then its chain) and key,
	 * or an in-memory identity (id wins when both are given). Required
	 * for a server; optional for a client (client certificates). */
	const char *cert_file;
	const char *key_file;
	const skt_tls_id *id;
	int client_auth; /* server: SKT_TLS_CLIENT_AUTH_* */
	int min_version; /* 0 (TLS 1.2), SKT_TLS_1_2 or SKT_TLS_1_3 */
	int max_version; /* 0 (the highest known) or SKT_TLS_1_* */
	/* ALPN protocols, comma-separated ("h2,http/1.1"); NULL for none. A
	 * server refuses a client whose list shares none with it
	 * (SKT_ETLSNOSHARED); a client accepts a server that picks none. */
	const char *alpn;
	bool no_tickets; /* turn session resumption off */
} skt_tls_opts;

/* ---- Contexts ---- */

/* Make a context from o (copied: nothing is kept). Returns 0, SKT_EINVAL
 * (bad role, version, pin syntax, a server with no identity, ALPN over
 * 255 bytes per name), -errno or SKT_ETLS for a certificate, key or CA
 * that cannot be loaded (skt_tls_ctx_error says why), SKT_ENOMEM. */
SKT_EXTERN int skt_tls_ctx_new(skt_tls_ctx **out, const skt_tls_opts *o);
/* The reason the last skt_tls_ctx_new on this thread failed, as text
 * ("" when it did not); static storage per thread. */
SKT_EXTERN const char *skt_tls_ctx_error(void);
/* Free a context; connections made from it keep what they need.
 * skt_tls_ctx_free(NULL) does nothing. */
SKT_EXTERN void skt_tls_ctx_free(skt_tls_ctx *ctx);

/* Add a certificate a server presents to clients that ask for name by
 * SNI (a wildcard "*.example.com" matches one label); a client that
 * names no match gets the context's own identity. Returns 0, SKT_EINVAL
 * (not a server context, or more than 16 names), SKT_ETLS (cannot be
 * loaded), SKT_ENOMEM. Call before the context is used. */
SKT_EXTERN int skt_tls_ctx_add_sni(skt_tls_ctx *ctx, const char *name,
				   const char *cert_file, const char *key_file);

/* ---- Identities ---- */

/* An ephemeral identity: a new P-256 key and a self-signed certificate
 * signed with SHA-256, valid from an hour ago for days days (0: 30),
 * whose subjectAltName holds each of the n names: an IP literal becomes
 * an IP entry, anything else a DNS entry (the first is also the common
 * name). Accepted at Debian's security level 2. Returns 0, SKT_EINVAL
 * (n == 0 or over 16, an empty name), SKT_ETLS, SKT_ENOMEM. */
SKT_EXTERN int skt_tls_selfsigned(skt_tls_id **out, const char *const *names,
				  size_t n, int days);
/* Load an identity from PEM files (key_file NULL: the key is in
 * cert_file). Returns 0, SKT_ETLS (unreadable or not matching), -errno. */
SKT_EXTERN int skt_tls_id_load(skt_tls_id **out, const char *cert_file,
			       const char *key_file);
SKT_EXTERN void skt_tls_id_free(skt_tls_id *id);
/* The pin of id's certificate: "sha256:" and the hex SHA-256 of its DER
 * form, into buf (at least SKT_TLS_PIN_STRLEN bytes). */
SKT_EXTERN void skt_tls_id_fingerprint(const skt_tls_id *id, char *buf);
/* id's certificate (and key, when key is true) as PEM text into buf of
 * cap bytes, NUL-terminated. Returns the length or SKT_ETOOBIG. */
SKT_EXTERN ssize_t skt_tls_id_pem(const skt_tls_id *id, bool key, char *buf,
				  size_t cap);

/* ---- Sessions on an fd ---- */

/* Start a session on fd (a connected, non-blocking stream socket, which
 * stays the caller's). For a client, host is what the certificate must
 * name and what SNI sends (never sent for an IP literal); sni overrides
 * the SNI name ("" sends none) without changing the check. NULL host on
 * a client skips the name check (a pin or insecure should then be set).
 * Returns 0, SKT_EINVAL, SKT_ENOMEM. No I/O happens yet. */
SKT_EXTERN int skt_tls_new(skt_tls **out, skt_tls_ctx *ctx, int fd,
			   const char *host, const char *sni);
/* Free the session without any I/O (no close_notify: see
 * skt_tls_shutdown). The fd is not closed. skt_tls_free(NULL) does
 * nothing. */
SKT_EXTERN void skt_tls_free(skt_tls *t);

/* Run the handshake to its end or the timeout. Returns 0, SKT_ETIMEDOUT,
 * a TLS code (SKT_ETLS, SKT_ETLSUNTRUSTED, SKT_ETLSNAME, SKT_ETLSEXPIRED,
 * SKT_ETLSNOTYET, SKT_ETLSPIN, SKT_ETLSVERSION, SKT_ETLSNOSHARED,
 * SKT_ETLSNOCERT; skt_tls_reason says more), SKT_ETRUNCATED (the peer
 * closed mid-handshake), SKT_EAGAIN (timeout 0: not finished; call again
 * when skt_tls_want's event comes), or -errno. */
SKT_EXTERN int skt_tls_handshake(skt_tls *t, int timeout_ms);

/* Up to cap bytes of application data. Returns the count, 0 when the
 * peer closed with close_notify, SKT_ETRUNCATED when it closed without
 * one, SKT_EAGAIN (timeout 0, nothing ready), SKT_ETIMEDOUT, a TLS code,
 * -errno. Renegotiation is refused. */
SKT_EXTERN ssize_t skt_tls_read(skt_tls *t, void *buf, size_t cap,
				int timeout_ms);
/* Bytes decrypted and waiting: a read of this many returns at once. */
SKT_EXTERN size_t skt_tls_pending(const skt_tls *t);
/* All of buf, within one deadline. Returns 0, or an error; *sent (may be
 * NULL) says how much was accepted before it. */
SKT_EXTERN int skt_tls_write_all(skt_tls *t, const void *buf, size_t len,
				 int timeout_ms, size_t *sent);
/* Up to len bytes without blocking: the count taken (at least one
 * record's worth), SKT_EAGAIN, or an error as skt_tls_write_all's. After
 * SKT_EAGAIN call again with the same bytes (more may follow them; the
 * buffer may move). */
SKT_EXTERN ssize_t skt_tls_write(skt_tls *t, const void *buf, size_t len);
/* For a loop of the caller's: after a call with timeout 0 returned
 * SKT_EAGAIN, what the session waits for on its fd: POLLIN or POLLOUT (a
 * read may wait to write, a write to read). */
SKT_EXTERN short skt_tls_want(const skt_tls *t);

/* Send close_notify (once): the peer reads its end of stream; reading
 * goes on until the peer's own close_notify (TLS 1.3 half-close; a TLS
 * 1.2 peer usually answers with its own and closes). Returns 0, an
 * error, SKT_ETIMEDOUT. */
SKT_EXTERN int skt_tls_shutdown(skt_tls *t, int timeout_ms);

/* What a finished handshake agreed on. */
typedef struct skt_tls_info {
	int version;           /* SKT_TLS_1_2 or SKT_TLS_1_3 */
	char version_name[16]; /* "TLSv1.3" */
	char cipher[64];       /* "TLS_AES_256_GCM_SHA384" */
	char alpn[64];         /* "" when none */
	char sni[256];         /* server: what the client asked; "" */
	bool resumed;          /* an abbreviated (resumed) handshake */
	bool verified;         /* the peer's chain and name checked out */
	bool pinned;           /* the peer matched a pin */
	bool peer_cert;        /* the peer sent a certificate (fields below) */
	char subject[256];     /* one line, RFC 2253 */
	char issuer[256];
	char san[512];     /* "DNS:localhost, IP:127.0.0.1" */
	int64_t not_after; /* seconds since the epoch */
	char fingerprint[SKT_TLS_PIN_STRLEN]; /* sha256:HEX of the DER */
	char spki[SKT_TLS_PIN_STRLEN];        /* sha256:HEX of the key */
	bool ktls_tx, ktls_rx;                /* kernel TLS carries records */
} skt_tls_info;

/* Fill info after a handshake. Returns 0, or SKT_EINVAL before one. */
SKT_EXTERN int skt_tls_get_info(const skt_tls *t, skt_tls_info *info);
/* Why the last failing call on t failed, as text ("certificate verify
 * failed: self-signed certificate"); "" when nothing failed. Valid until
 * the next call on t. */
SKT_EXTERN const char *skt_tls_reason(const skt_tls *t);

/* ---- Sessions to resume (clients) ---- */

/* A client's context keeps the last session of each host and offers it
 * to the next skt_tls_new for that host. A client of many connections at
 * once does better with a session per connection: OpenSSL uses a TLS 1.3
 * ticket once (RFC 8446 appendix C.4), so connections that start while
 * another is still using the host's session get no resumption. */
typedef struct skt_tls_session skt_tls_session;

/* The session a later connection may resume from t's, as of now: a
 * copy, which t's later failures (a peer's close without close_notify
 * makes OpenSSL mark its own unresumable) do not touch; NULL when there
 * is none to resume (before the handshake; tickets off in t's context;
 * a server; out of memory; under TLS 1.3, until the server's tickets
 * have been read: they come after the handshake, ahead of its first
 * data, so a session that has read nothing has none, and the one it
 * resumed from is spent). Free it with skt_tls_session_free. */
SKT_EXTERN skt_tls_session *skt_tls_get_session(const skt_tls *t);
/* Offer s in t's handshake instead of the session its context keeps
 * for the host: a client's, before its handshake has begun. s stays the
 * caller's (t holds its own reference) and, under TLS 1.3, is spent by
 * the handshake. Returns 0, or SKT_EINVAL (a server, a handshake begun, s
 * NULL or no longer resumable). */
SKT_EXTERN int skt_tls_set_session(skt_tls *t, const skt_tls_session *s);
/* skt_tls_session_free(NULL) does nothing. */
SKT_EXTERN void skt_tls_session_free(skt_tls_session *s);

/* ---- Relaying a session with two local fds (relay.h) ---- */

/* skt_relay_run with t's socket as the relayed side: bytes read from in_fd
 * go to the peer through TLS, the peer's bytes to out_fd, with the same
 * options, ends and statistics (sent and received count plain text), and
 * t's handshake must be done (SKT_EINVAL otherwise).
 * Under TLS:
 *   - the input's end (SKT_RELAY_EOF_SHUTDOWN, _WAIT) sends close_notify,
 *     then shuts the socket down for writing; a TLS 1.3 peer may go on
 *     sending, a TLS 1.2 peer usually answers with its own close_notify;
 *   - the peer's close_notify is its end of stream; a peer that closes
 *     without one ends the relay with SKT_ETRUNCATED (stats->where
 *     SKT_RELAY_SOCKET), after every byte that arrived before it was
 *     written to out_fd;
 *   - SKT_RELAY_EOF_CLOSE returns without close_notify: the caller sends
 *     it (skt_tls_shutdown) or not;
 *   - the kernel's zero-copy paths are off for the socket's side (the
 *     bytes on the wire are records), except that with kernel TLS on for
 *     sending (skt_tls_info.ktls_tx) a regular-file input goes out with
 *     SSL_sendfile;
 *   - a TLS error ends the relay; skt_tls_reason(t) says why.
 * Nothing is closed or freed; t may be used afterwards (skt_tls_shutdown,
 * skt_tls_get_info). Returns as skt_relay_run. */
SKT_EXTERN int skt_tls_relay_run(int in_fd, int out_fd, skt_tls *t,
				 const skt_relay_opts *opts,
				 skt_relay_stats *stats);

/* ---- TLS on a buffered connection (conn.h) ---- */

typedef struct skt_tls_connect_opts {
	int timeout_ms;             /* connect and handshake, one deadline */
	int family;                 /* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *sni;            /* as skt_tls_new's sni; NULL: from host */
	skt_connect_report *report; /* as in skt_connect_opts */
} skt_tls_connect_opts;

#define SKT_TLS_CONNECT_OPTS_INIT                                              \
	{                                                                      \
		SKT_TIMEOUT_NONE, 0, NULL, NULL                                \
	}

/* Connect to host/service as skt_connect does (Happy Eyeballs), then run
 * the handshake, all within timeout_ms. On success *out is a buffered
 * connection over TLS (its timeout is SKT_TIMEOUT_NONE; closing it sends
 * close_notify) and reason, when not NULL, is "". On failure nothing is
 * left open and reason (cap bytes) says why in words. Returns 0 or an
 * error as skt_connect and skt_tls_handshake do. */
SKT_EXTERN int skt_tls_conn_connect(skt_conn **out, skt_tls_ctx *ctx,
				    const char *host, const char *service,
				    const skt_tls_connect_opts *o, char *reason,
				    size_t cap);
/* The server side on an accepted fd (taken over: closed on failure).
 * Returns as skt_tls_conn_connect. */
SKT_EXTERN int skt_tls_conn_accept(skt_conn **out, skt_tls_ctx *ctx, int fd,
				   int timeout_ms, char *reason, size_t cap);
/* The session under a TLS connection, or NULL for a plain one. */
SKT_EXTERN skt_tls *skt_conn_tls(const skt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
