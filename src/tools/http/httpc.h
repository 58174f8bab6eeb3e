/* httpc.h - the HTTP/1.x client behind `sockit http`: URLs, one
 * connection (plain, TLS or a Unix socket) kept alive across requests, a
 * request sent, and each response read with the library's codec
 * (sockit/http.h) and streamed to a sink, never held whole. One of the
 * command's tools (src/tools/), not libsockit: it uses the public skt_ API
 * only, and never prints.
 *
 * A connection is in one of three states: CLOSED (no fd), IDLE (open,
 * between responses: it may carry the next request), or BUSY (a request
 * sent, its response not yet read to its end). A response that ends the
 * connection (Connection: close, HTTP/1.0, a body delimited by the close)
 * or an error takes it back to CLOSED.
 *
 * Times are microseconds of CLOCK_MONOTONIC since the transfer began
 * (httpc_times), cumulative as curl's -w times are: connect_us includes
 * the name lookup, tls_us the connect, and so on.
 */
#ifndef SOCKIT_TOOLS_HTTPC_H
#define SOCKIT_TOOLS_HTTPC_H

#include "sockit/sockit.h"
#include "tools/proxy/proxy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- URLs (url.c, pure) ---- */

#define HTTPC_URL_MAX 8192

typedef struct httpc_url {
	bool https;
	char host[SKT_HOST_MAX + 1]; /* no brackets */
	uint16_t port;               /* 80 or 443 when the URL names none */
	bool port_given;
	/* host[:port] as the URL spelled it, brackets kept: the Host field. */
	char authority[SKT_HOST_MAX + 16];
	char target[HTTPC_URL_MAX]; /* path and query, "/" at least; no
				       fragment */
} httpc_url;

/* Parse an absolute http:// or https:// URL (scheme case-insensitive).
 * Returns 0, or SKT_EINVAL with *why set to what is wrong ("no host",
 * "bad port", "credentials in the URL", "a space or control byte",
 * "not http:// or https://", "too long"). */
int httpc_url_parse(httpc_url *u, const char *text, const char **why);
/* The URL a Location value names, relative to base (RFC 3986 5.2: an
 * absolute URL, //authority/path, /path, ?query, or a path relative to
 * base's directory; dot segments removed). Same returns. */
int httpc_url_resolve(httpc_url *out, const httpc_url *base, const char *loc,
		      size_t loc_len, const char **why);
/* u as text, "http://host:port/target" (the port only when given), into
 * buf of cap bytes. Returns the length, or SKT_ETOOBIG. */
int httpc_url_format(const httpc_url *u, char *buf, size_t cap);

/* ---- Connections and exchanges (client.c) ---- */

typedef struct httpc_times {
	int64_t resolve_us, connect_us, tls_us, sent_us, first_byte_us,
		total_us;
} httpc_times;

/* Where and how to connect; borrowed for the connection's life. */
typedef struct httpc_dial {
	const skt_addr *unix_addr;  /* not NULL: connect here, not host:port */
	int family;                 /* AF_UNSPEC, AF_INET, AF_INET6 */
	const skt_addr *source;     /* bind here first, or NULL */
	skt_tls_ctx *tls;           /* for https:// URLs; NULL: refused */
	const char *sni;            /* skt_tls_new's sni argument */
	skt_connect_report *report; /* Happy Eyeballs' attempts, or NULL */
	int connect_ms;             /* connect and handshake, -1 none */
	int idle_ms; /* each wait for bytes after that, -1 none */
	/* Not NULL: through this proxy (CONNECT, whatever the scheme, as
	 * curl's --proxytunnel), its handshake inside connect_ms; pc holds
	 * the proxy's answer (stage "proxy" on a failure). */
	const proxy_url *proxy;
	proxy_client *pc;
} httpc_dial;

enum { HTTPC_CLOSED, HTTPC_IDLE, HTTPC_BUSY };

/* The receive buffer: BUF_HEAD bytes at first, grown only for a head up
 * to SKT_HTTP_HEAD_MAX; a large body is read in HTTPC_READ_MAX pieces into
 * a buffer of its own, straight from the socket. */
#define HTTPC_READ_MAX   ((size_t)1 << 20)
#define HTTPC_FIELDS_MAX 100

typedef struct httpc_conn {
	const httpc_dial *dial;
	int state;
	int fd;
	skt_tls *tls; /* kept after a failed handshake, for its reason */
	bool https;
	char host[SKT_HOST_MAX + 1];
	uint16_t port;
	skt_addr peer;
	unsigned requests;   /* sent on this connection */
	int64_t deadline_us; /* --max-time's end, 0 none (httpc_set_deadline) */
	char *buf;           /* received, not yet consumed */
	size_t cap, len, pos;
	char *big; /* HTTPC_READ_MAX bytes for bodies, on first use */
} httpc_conn;

/* A response as read: the head (valid until the next httpc_connect or
 * httpc_exchange on the connection, or httpc_conn_free), then the body's
 * framing and counts. */
typedef struct httpc_resp {
	skt_http_resp r;
	skt_http_field fields[HTTPC_FIELDS_MAX];
	size_t nfields;
	const char *head; /* the final head's bytes, as received */
	size_t head_len;
	uint64_t head_bytes; /* every head read, 1xx ones included */
	uint64_t body_bytes; /* payload delivered to the sink */
	uint64_t wire_bytes; /* everything received for this response */
	int64_t length;      /* Content-Length, or -1 */
	int framing;         /* HTTPC_BODY_* */
	skt_http_rule why;   /* a head or chunk that broke a rule */
	uint64_t expected;   /* Content-Length, for a short body's message */
} httpc_resp;

enum {
	HTTPC_BODY_NONE,
	HTTPC_BODY_LENGTH,
	HTTPC_BODY_CHUNKED,
	HTTPC_BODY_CLOSE,
};

/* What becomes of the bytes: head() gets each head as received (1xx ones
 * too) and body() each piece of payload; raw() (when not NULL, instead of
 * both) every byte as received, head and chunk framing included. Each
 * returns 0, or a negative error that ends the exchange. */
typedef struct httpc_sink {
	int (*head)(void *arg, const char *p, size_t n, bool final);
	int (*body)(void *arg, const char *p, size_t n);
	int (*raw)(void *arg, const char *p, size_t n);
	void *arg;
} httpc_sink;

void httpc_conn_init(httpc_conn *c, const httpc_dial *d);
/* Close the connection (CLOSED): the fd and the TLS session go, the
 * buffers stay, so the last response's head is still readable. */
void httpc_conn_close(httpc_conn *c);
/* Close, then free the buffers. */
void httpc_conn_free(httpc_conn *c);
/* True when c is IDLE on the same scheme, host and port as u. */
bool httpc_conn_reusable(const httpc_conn *c, const httpc_url *u);
/* --max-time: every wait of the connection ends by monotonic
 * microsecond at_us (0: no deadline). */
void httpc_set_deadline(httpc_conn *c, int64_t at_us);
int64_t httpc_now_us(void);

/* Open c to u (resolve, connect, TLS handshake), recording the times in
 * *t (relative to t0_us). Returns 0; or an error: a resolver code, a
 * connect's, SKT_ETIMEDOUT, a TLS code (c->tls then holds the session for
 * skt_tls_reason until httpc_conn_close), SKT_EINVAL for https:// without
 * a context, proxy_open's errors. *stage says which step failed:
 * "resolve", "connect", "proxy" (dial->pc says more), "tls". */
int httpc_connect(httpc_conn *c, const httpc_url *u, int64_t t0_us,
		  httpc_times *t, const char **stage);
/* Send head (and then body_len bytes of body, or body_fd's bytes up to
 * EOF when body is NULL and body_fd >= 0). Returns 0 or an error. */
int httpc_send(httpc_conn *c, const char *head, size_t head_len,
	       const char *body, size_t body_len, int body_fd);
/* Read the response to the request sent (to_head: it was HEAD), its 1xx
 * heads skipped, and stream its body to sink. Returns 0; SKT_EMALFORMED,
 * SKT_ETOOBIG or SKT_EUNSUPPORTED for a head or chunk that breaks a rule
 * (rp->why); SKT_EPARTIAL for a body shorter than it said (Content-Length
 * or chunked: the connection ended first; rp->body_bytes says how much
 * came), SKT_EOF when the connection ended before any byte of a response,
 * SKT_ETRUNCATED for a TLS body delimited by a close without
 * close_notify; a sink's error; a read error. t->first_byte_us and
 * t->total_us are set. */
int httpc_exchange(httpc_conn *c, bool to_head, const httpc_sink *sink,
		   httpc_resp *rp, int64_t t0_us, httpc_times *t);

/* The first field named name (caseless), or NULL. */
const skt_http_field *httpc_field(const httpc_resp *rp, const char *name);

#endif
