/* proxy.h - the proxy handshakes behind `sockit connect --proxy`, `sockit
 * http --proxy` and `sockit serve socks5`: SOCKS5 (RFC 1928, with RFC 1929
 * user/password), SOCKS4a and HTTP CONNECT (RFC 9110 9.3.6). One of the
 * command's tools (src/tools/), not libsockit.
 *
 * The codecs are pure (no fd): proxy_client builds the request bytes and
 * parses the proxy's replies fed in pieces of any size; socks5_srv parses
 * a client's greeting, authentication and request and builds the answers.
 * Every length a peer sends is checked against the buffer before it is
 * used, and neither ever consumes a byte past its handshake: what follows
 * belongs to the tunnel. proxy_dial (dial.c) drives a proxy_client over a
 * connected socket, blocking within a deadline.
 */
#ifndef SOCKIT_TOOLS_PROXY_H
#define SOCKIT_TOOLS_PROXY_H

#include "sockit/sockit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum proxy_kind { PROXY_SOCKS5 = 1, PROXY_SOCKS4A, PROXY_HTTP };

/* RFC 1929: a user name and a password are 1..255 bytes each. */
#define PROXY_CRED_MAX 255
/* An HTTP CONNECT answer's head: more than this is refused (a proxy's
 * answer is a status line and a few fields; curl allows 100 KiB, but a
 * tunnel has no use for a large one). */
#define PROXY_HEAD_MAX 16384
/* The connect to a proxy and its handshake when the command has no
 * timeout of its own: as a TLS handshake's default (src/cli/bridge.h). */
#define PROXY_HANDSHAKE_MS 10000
#define PROXY_DEFAULT_PORT 1080 /* curl's default for every proxy scheme */

/* ---- Proxy URLs (url.c, pure) ---- */

typedef struct proxy_url {
	int kind;           /* PROXY_* */
	const char *scheme; /* "socks5", "socks5h", "socks4a", "http" */
	char host[SKT_HOST_MAX + 1]; /* no brackets */
	uint16_t port;               /* PROXY_DEFAULT_PORT when none given */
	bool auth;                   /* user (and password) given */
	char user[PROXY_CRED_MAX + 1], pass[PROXY_CRED_MAX + 1];
} proxy_url;

/* Parse SCHEME://[USER[:PASS]@]HOST[:PORT][/] with SCHEME socks5,
 * socks5h (the same: the proxy resolves names; see the man page for
 * curl's socks5), socks4a or http, caseless; USER and PASS
 * percent-decoded (%3A for a colon). Returns 0, or SKT_EINVAL with *why
 * set ("not socks5://, socks5h://, socks4a:// or http://", "no host",
 * "bad port", "a user name or password over 255 bytes", "a bad %
 * escape", "a path after the address", "a space or control byte"). */
int proxy_url_parse(proxy_url *u, const char *text, const char **why);

/* RFC 4648 base64 of in[0..len) into out (cap bytes, NUL-terminated).
 * Returns the length or SKT_ETOOBIG. */
int proxy_base64(const uint8_t *in, size_t len, char *out, size_t cap);

/* ---- The client side (socks.c, connect.c: pure) ----
 *
 * States: SEND (out[0..out_len) is to be sent, then proxy_client_sent),
 * RECV (proxy_client_need bytes at most are to be read and fed), DONE
 * (the tunnel is open), FAILED (an error was returned; it stays). The
 * SOCKS5 exchange: greeting -> method -> [RFC 1929 auth -> status] ->
 * request -> reply; SOCKS4a: request -> reply; HTTP: CONNECT head ->
 * response head (1xx heads skipped). */
enum { PROXY_SEND = 1, PROXY_RECV, PROXY_DONE, PROXY_FAILED };

#define PROXY_OUT_MAX                                                          \
	2048 /* an HTTP CONNECT head with the longest credentials */

typedef struct proxy_client {
	int kind;
	int state;
	int step; /* inside a kind's exchange */
	const proxy_url *u;
	char host[SKT_HOST_MAX + 1]; /* the target */
	uint16_t port;
	uint8_t out[PROXY_OUT_MAX];
	size_t out_len;
	uint8_t in[PROXY_HEAD_MAX];
	size_t in_len;
	size_t want; /* SOCKS: bytes of the reply known to be needed */
	/* The outcome, for messages: the SOCKS reply code or HTTP status
	 * (-1 before any), and the detail in words: "connection refused
	 * (SOCKS5 reply 5)", "HTTP 403 Forbidden", "not a SOCKS5 proxy
	 * (version byte 0x48)". */
	int code;
	char detail[160];
	char bound[SKT_ADDRSTRLEN]; /* SOCKS: the address the proxy reports
				       for its side, when it gave one */
	bool reached; /* proxy_open: the connection to the proxy was made */
} proxy_client;

/* Start a handshake through u (borrowed until the end) to host:port.
 * host is a name or an IPv4/IPv6 literal (no brackets); SOCKS5 sends
 * literals as addresses and names for the proxy to resolve, SOCKS4a an
 * IPv4 literal as its address, a name after the user id. Returns 0 (state
 * SEND), or SKT_EINVAL with p->detail saying why: a name over 255 bytes,
 * an IPv6 target through SOCKS4a, a byte HTTP cannot carry in the host. */
int proxy_client_init(proxy_client *p, const proxy_url *u, const char *host,
		      uint16_t port);
/* The bytes out[0..out_len) were sent: state RECV. */
void proxy_client_sent(proxy_client *p);
/* How many bytes may be read now without reading past the handshake
 * (at least 1 in RECV; 0 otherwise). */
size_t proxy_client_need(const proxy_client *p);
/* Feed received bytes. Returns how many it consumed (less than len only
 * when the handshake ended with them: the rest is the tunnel's), and
 * the state is SEND, RECV or DONE; or an error, FAILED, p->detail set:
 * SKT_EPROTO (the peer does not speak the protocol: a wrong version, a
 * method or address type never offered, a malformed HTTP head),
 * SKT_ETOOBIG (an HTTP head over PROXY_HEAD_MAX), SKT_EPROXY (the proxy
 * refused: SOCKS reply code or HTTP status in p->code), SKT_EPROXYAUTH
 * (authentication required or refused: SOCKS5 no acceptable method,
 * RFC 1929 failure, HTTP 407). */
ssize_t proxy_client_feed(proxy_client *p, const uint8_t *data, size_t len);

/* The name of a SOCKS5 reply code (RFC 1928 6), "unknown" beyond 8. */
const char *proxy_socks5_reply_name(int rep);
/* SOCKS4's reply codes 90..93 in words, "unknown" otherwise. */
const char *proxy_socks4_reply_name(int rep);

/* Internal to the codec (socks.c and connect.c). */
int proxy_http_init(proxy_client *p);
ssize_t proxy_http_feed(proxy_client *p, const uint8_t *data, size_t len);
int proxy_fail(proxy_client *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- The SOCKS5 server side (socks.c, pure) ----
 *
 * States: GREET (reading the greeting), AUTH (reading the RFC 1929
 * request), REQUEST (reading the CONNECT request), CONNECT (the request
 * is read: the caller connects to host:port, then socks5_srv_reply),
 * CLOSE (send out[0..out_len), then close: a refusal), OPEN (the reply
 * is in out: send it, then relay). After each feed, out_len bytes wait
 * to be sent. */
enum {
	S5_GREET = 1,
	S5_AUTH,
	S5_REQUEST,
	S5_CONNECT,
	S5_CLOSE,
	S5_OPEN,
};

/* RFC 1928 6 reply codes. */
enum {
	S5_OK = 0,
	S5_FAILURE,
	S5_NOT_ALLOWED,
	S5_NET_UNREACH,
	S5_HOST_UNREACH,
	S5_REFUSED,
	S5_TTL,
	S5_CMD_UNSUPPORTED,
	S5_ATYP_UNSUPPORTED,
};

typedef struct socks5_srv {
	int state;
	const char *user, *pass; /* borrowed; NULL: no authentication */
	uint8_t in[2 + 2 * PROXY_CRED_MAX + 8]; /* the largest message */
	size_t in_len, want;
	uint8_t out[32];
	size_t out_len;
	/* The request, once CONNECT: atyp 1 (IPv4), 3 (a name) or 4 (IPv6);
	 * host is the name or the address as text. */
	int atyp;
	char host[256];
	uint16_t port;
	const char *why; /* CLOSE: what was wrong, for a log */
} socks5_srv;

void socks5_srv_init(socks5_srv *s, const char *user, const char *pass);
/* How many bytes may be read now without reading past the handshake (at
 * least 1 while reading; 0 otherwise). */
size_t socks5_srv_need(const socks5_srv *s);
/* Feed bytes from the client. Returns the count consumed (stops at a
 * state change out of reading: the rest stays the caller's) or
 * SKT_EPROTO for a client that does not speak SOCKS5 (state CLOSE, maybe
 * with an answer to send). */
ssize_t socks5_srv_feed(socks5_srv *s, const uint8_t *data, size_t len);
/* The answer to the request: rep S5_OK with bound, the address the
 * target connection is bound to (NULL: 0.0.0.0:0), state OPEN; another
 * code, state CLOSE. */
void socks5_srv_reply(socks5_srv *s, int rep, const skt_addr *bound);
/* The reply code for a connect error (-errno): refused, unreachable... */
int socks5_srv_rep_for(int err);

/* ---- Over a socket (dial.c) ---- */

/* Run p's handshake on fd, a connected stream socket, until DONE or an
 * error, every send and read within deadline_ms of CLOCK_MONOTONIC
 * (-1: none); never reads past the handshake. Returns 0, SKT_ETIMEDOUT,
 * SKT_EPARTIAL (the proxy closed mid-answer; p->detail says how far it
 * got), an I/O error, or proxy_client_feed's errors. */
int proxy_dial(proxy_client *p, int fd, int64_t deadline_ms);

/* Connect to the proxy u names (u->host numeric or a name from the hosts
 * file: the caller's choice; co->timeout_ms is replaced by what is left
 * of deadline_ms, CLOCK_MONOTONIC milliseconds, -1 none), then run the
 * handshake to host:port within the same deadline. Returns the tunnel's
 * fd (the caller's to close), or an error: p->reached false, the
 * resolver's or the connect's; p->reached true, proxy_dial's (p->detail
 * says why). */
int proxy_open(proxy_client *p, const proxy_url *u, const char *host,
	       uint16_t port, const skt_connect_opts *co, int64_t deadline_ms);
/* The proxy's address as "HOST:PORT" ("[V6]:PORT") into buf. */
void proxy_url_where(const proxy_url *u, char *buf, size_t cap);

#endif
