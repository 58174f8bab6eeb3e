/* sockit/sock.h - sockets: create, connect (Happy Eyeballs), listen, accept,
 * UDP, Unix, plain I/O helpers and socket options.
 *
 * Every fd sockit creates is close-on-exec and non-blocking; each blocking
 * call waits with poll() inside, bounded by its timeout_ms argument (see
 * SKT_TIMEOUT_NONE in core.h). No call raises SIGPIPE (MSG_NOSIGNAL); EINTR
 * is retried inside. Functions that take an fd also work on fds sockit did
 * not create, but their timeouts only hold when the fd is non-blocking.
 */
#ifndef SOCKIT_SOCK_H
#define SOCKIT_SOCK_H

#include "sockit/addr.h"
#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Creating and connecting ---- */

/* socket(2) with SOCK_CLOEXEC | SOCK_NONBLOCK. Returns the fd or -errno. */
SKT_EXTERN int skt_socket(int family, int type, int protocol);

/* socketpair(2), both ends close-on-exec and non-blocking. family is
 * AF_UNIX; type SOCK_STREAM or SOCK_DGRAM. Returns 0 or -errno. */
SKT_EXTERN int skt_socketpair(int type, int fds[2]);

/* One connection attempt, as recorded in a skt_connect_report. */
typedef struct skt_attempt {
	skt_addr addr;
	int err;          /* 0 won; < 0 why it failed; SKT_ECANCELED abandoned
			     because another attempt won first */
	int64_t start_ms; /* since the call began */
	int64_t end_ms;
} skt_attempt;

#define SKT_REPORT_MAX 32

typedef struct skt_connect_report {
	size_t n;     /* attempts recorded, at most SKT_REPORT_MAX */
	size_t total; /* attempts made (may exceed n) */
	int winner;   /* index of the winning attempt, -1 if none; a winner
			 past SKT_REPORT_MAX takes the last slot */
	skt_attempt attempts[SKT_REPORT_MAX];
} skt_connect_report;

typedef struct skt_connect_opts {
	int family;     /* AF_UNSPEC, AF_INET or AF_INET6 */
	int socktype;   /* SOCK_STREAM or SOCK_DGRAM */
	int timeout_ms; /* bounds the whole connect, all attempts; -1 none */
	int attempt_delay_ms;       /* RFC 8305 "Connection Attempt Delay" */
	const skt_addr *source;     /* bind here first (address and/or port) */
	skt_connect_report *report; /* filled when not NULL */
} skt_connect_opts;

/* Defaults: any family, TCP, no timeout, 250 ms between attempts. */
#define SKT_CONNECT_OPTS_INIT                                                  \
	{                                                                      \
		AF_UNSPEC, SOCK_STREAM, SKT_TIMEOUT_NONE, 250, NULL, NULL      \
	}

/* Resolve host/service and connect to the first address that answers, with
 * Happy Eyeballs (RFC 8305): addresses are interleaved by family, IPv6
 * first; a new attempt starts every attempt_delay_ms, or at once when the
 * previous one fails; the first success wins and every other attempt is
 * closed. For SOCK_DGRAM there is no handshake: the socket is connected to
 * the first address. opts may be NULL for the defaults. Returns the
 * connected fd, or the error of the last attempt to fail (SKT_ETIMEDOUT when
 * the timeout ended the call), or a resolver error. timeout_ms 0 is
 * SKT_EINVAL here (use skt_connect_one for a non-blocking connect). */
SKT_EXTERN int skt_connect(const char *host, const char *service,
			   const skt_connect_opts *opts);

/* The Happy Eyeballs part of skt_connect, over n given addresses (which it
 * reorders as RFC 8305 section 4 says). Same returns as skt_connect. */
SKT_EXTERN int skt_connect_any(const skt_addr *addrs, size_t n,
			       const skt_connect_opts *opts);

/* Connect a new socket of type to one address (IP or Unix). With
 * timeout_ms 0 it returns the fd as soon as the connect has started: it may
 * still be in progress; wait for POLLOUT, then ask skt_sock_error(). Else
 * returns the connected fd or an error (SKT_ETIMEDOUT, SKT_ECONNREFUSED...). */
SKT_EXTERN int skt_connect_one(const skt_addr *a, int type, int timeout_ms);

/* ---- Listening and accepting ---- */

typedef struct skt_listen_opts {
	int family;     /* restricts the host's resolution; with no host,
			   AF_INET6 means ::1, anything else 127.0.0.1 */
	int socktype;   /* SOCK_STREAM (0 also) or SOCK_DGRAM (bind only) */
	int backlog;    /* 0 means SOMAXCONN */
	bool reuseport; /* SO_REUSEPORT, for several listeners on one port */
	bool v6only;    /* keep a wildcard IPv6 listener off IPv4 */
	/* A Unix socket file's permission bits (0644...); 0: as the umask
	 * leaves them. Set between bind and listen, so no client connects
	 * before they hold; SKT_EINVAL for an abstract name (no file). */
	unsigned unix_mode;
} skt_listen_opts;

/* Bind (and for streams, listen) on host/service. opts may be NULL (all
 * zero). SO_REUSEADDR is always set on IP sockets. host:
 *   NULL          loopback (127.0.0.1, or ::1 for AF_INET6): a listener
 *                 never faces the network unless told to;
 *   "*" or "::"   the wildcard, dual-stack (one IPv6 socket with
 *                 IPV6_V6ONLY off accepting IPv4 too; falls back to
 *                 0.0.0.0 where IPv6 is unavailable);
 *   "0.0.0.0"     the IPv4 wildcard only;
 *   anything else resolved; the first address that binds is used.
 * service "0" or NULL binds an ephemeral port: read it back with
 * skt_sock_local(). Returns the fd or an error. */
SKT_EXTERN int skt_listen(const char *host, const char *service,
			  const skt_listen_opts *opts);

/* skt_listen with SOCK_DGRAM: a bound UDP socket. */
SKT_EXTERN int skt_udp_bind(const char *host, const char *service,
			    const skt_listen_opts *opts);

/* Bind (and listen, for streams) on one address, IP or Unix. An existing
 * Unix socket file is never removed: SKT_EADDRINUSE. */
SKT_EXTERN int skt_listen_addr(const skt_addr *a, const skt_listen_opts *opts);

/* Accept one connection. Fills peer when not NULL. Returns the new fd
 * (close-on-exec, non-blocking), SKT_ETIMEDOUT, SKT_EAGAIN (timeout 0 and
 * none pending) or -errno (SKT_EMFILE: the caller decides what to do). */
SKT_EXTERN int skt_accept(int lfd, skt_addr *peer, int timeout_ms);

/* Bind (and listen) on loopback as a server with no host given should:
 * 127.0.0.1 and ::1 on one port (redis's "bind 127.0.0.1 -::1"), so a
 * client that resolves "localhost" to ::1 first finds it too. service
 * "0" or NULL picks a port free on both (an ephemeral port taken on ::1
 * by someone else is given up and another picked, a few times). Where the
 * host has no IPv6 (EAFNOSUPPORT, EADDRNOTAVAIL for ::1) only 127.0.0.1
 * is bound, silently. opts->family AF_INET or AF_INET6 binds that one
 * alone, as skt_listen does. Fills fds[0] (127.0.0.1) and fds[1] (::1, or
 * -1) and returns how many are bound (1 or 2), or an error with nothing
 * left open (SKT_EADDRINUSE when a given port is taken on either). */
SKT_EXTERN int skt_listen_loopback(const char *service,
				   const skt_listen_opts *opts, int fds[2]);

#define SKT_ACCEPT_ANY_MAX 16

/* skt_accept on whichever of n listening sockets (1..SKT_ACCEPT_ANY_MAX)
 * has a connection first, looked at in order. *which (when not NULL) says
 * which one accepted, or failed. Returns as skt_accept, or SKT_EINVAL. */
SKT_EXTERN int skt_accept_any(const int *lfds, size_t n, skt_addr *peer,
			      int timeout_ms, size_t *which);

/* ---- Unix sockets ---- */

/* A Unix datagram socket connected to a (which someone must have bound),
 * itself bound first to a unique abstract name (Linux autobind), so a
 * server can answer it. Returns the fd or -errno (SKT_ECONNREFUSED when
 * nobody is bound at a, SKT_ENOENT when its file does not exist). */
SKT_EXTERN int skt_unix_dgram_connect(const skt_addr *a);

/* Make way for a listener on a: remove a's socket file if nobody serves
 * it, as left by a server that died (tried by connecting with socktype,
 * SOCK_STREAM or SOCK_DGRAM). Returns 1 (removed), 0 (nothing to remove:
 * no file, or an abstract name), SKT_EADDRINUSE (a live socket answers
 * there: it is kept), SKT_ENOTSOCK (a file that is not a socket is never
 * removed), or -errno. Between this check and the next bind another
 * process may take the name; the bind then fails with SKT_EADDRINUSE. */
SKT_EXTERN int skt_unix_unlink_stale(const skt_addr *a, int socktype);

/* Connect or listen where an endpoint says (IP or Unix). A
 * SKT_EP_UNIX_DGRAM endpoint is always a datagram socket: connect is
 * skt_unix_dgram_connect, listen binds it (opts->socktype is ignored). */
SKT_EXTERN int skt_endpoint_connect(const skt_endpoint *ep,
				    const skt_connect_opts *o);
SKT_EXTERN int skt_endpoint_listen(const skt_endpoint *ep,
				   const skt_listen_opts *o);

/* ---- Plain I/O on an fd ---- */

/* One send: returns bytes sent (possibly fewer than len), or an error
 * (SKT_EPIPE / SKT_ECONNRESET when the peer is gone, never SIGPIPE). */
SKT_EXTERN ssize_t skt_send(int fd, const void *buf, size_t len,
			    int timeout_ms);

/* One receive: returns bytes received (1..cap), 0 at end of stream, or an
 * error. */
SKT_EXTERN ssize_t skt_recv(int fd, void *buf, size_t cap, int timeout_ms);

/* Send all len bytes, looping over short sends. Returns 0 or an error; in
 * both cases *sent (when not NULL) says how many bytes went out. */
SKT_EXTERN int skt_send_all(int fd, const void *buf, size_t len, int timeout_ms,
			    size_t *sent);

/* Receive exactly n bytes into buf. Returns n, SKT_EOF when the stream ended
 * before the first byte, SKT_EPARTIAL when it ended after some, or another
 * error. *got (when not NULL) always says how many bytes are in buf. */
SKT_EXTERN ssize_t skt_read_exact(int fd, void *buf, size_t n, int timeout_ms,
				  size_t *got);

/* Receive up to and including the first occurrence of delim (dlen bytes,
 * 1..16) into buf, consuming nothing beyond it (MSG_PEEK), so no data is
 * lost for a later reader. Returns the length including delim, SKT_ETOOBIG
 * when cap bytes hold no delim (those cap bytes are in buf and consumed),
 * SKT_EOF at end of stream before any byte, SKT_EPARTIAL at end of stream
 * after *got bytes without a delimiter (they are consumed into buf),
 * SKT_EINVAL for a bad delim/dlen, or another error. Bytes before the
 * delimiter are consumed as they arrive, so on every return *got (when not
 * NULL) says how many bytes are in buf and gone from the socket, including
 * on SKT_ETIMEDOUT / SKT_EAGAIN in the middle of a line. Works on stream
 * sockets only. */
SKT_EXTERN ssize_t skt_read_until(int fd, void *buf, size_t cap,
				  const void *delim, size_t dlen,
				  int timeout_ms, size_t *got);

/* Half-close: no more sending (the peer reads EOF), keep receiving. */
SKT_EXTERN int skt_shutdown_write(int fd);

/* close(2) that never retries on EINTR (the fd is gone on Linux either
 * way). Returns 0 or -errno. skt_close(-1) does nothing. */
SKT_EXTERN int skt_close(int fd);

/* Abortive close: SO_LINGER 0 then close, so the peer gets a reset (RST)
 * instead of a graceful FIN and unsent data is discarded. The fd is closed
 * whatever the return; an error from setting SO_LINGER means the close was
 * graceful. */
SKT_EXTERN int skt_close_abort(int fd);

/* ---- Datagrams ---- */

/* Send one datagram to to (or to the connected peer when to is NULL).
 * Returns bytes sent or an error (SKT_EMSGSIZE when it is too large). */
SKT_EXTERN ssize_t skt_sendto(int fd, const void *buf, size_t len,
			      const skt_addr *to, int timeout_ms);

/* Receive one datagram. Returns the bytes stored (at most cap); when the
 * datagram was longer, the rest is lost by the kernel and *truncated is set
 * true (never silently). from and truncated may be NULL. */
SKT_EXTERN ssize_t skt_recvfrom(int fd, void *buf, size_t cap, skt_addr *from,
				int timeout_ms, bool *truncated);

/* ---- Inspecting sockets ---- */

/* The pending error of a socket (SO_ERROR) as a sockit code, 0 for none. */
SKT_EXTERN int skt_sock_error(int fd);
/* Local and peer address of fd. Return 0 or -errno (SKT_ENOTCONN). */
SKT_EXTERN int skt_sock_local(int fd, skt_addr *a);
SKT_EXTERN int skt_sock_peer(int fd, skt_addr *a);

/* Describe fd like Python's repr of a socket:
 *   <socket fd=3, family=AF_INET, type=SOCK_STREAM, proto=6,
 *    laddr=127.0.0.1:5000, raddr=127.0.0.1:40312>
 * (one line; raddr only when connected). Returns the length or SKT_ETOOBIG;
 * 256 + 2 * SKT_ADDRSTRLEN bytes are always enough. */
SKT_EXTERN int skt_sock_describe(int fd, char *buf, size_t cap);

/* ---- Options ---- */

typedef enum skt_opt {
	SKT_OPT_NODELAY,   /* TCP_NODELAY: 0/1 */
	SKT_OPT_KEEPALIVE, /* SO_KEEPALIVE: 0/1 */
	SKT_OPT_KEEPIDLE,  /* TCP_KEEPIDLE: seconds idle before probes */
	SKT_OPT_KEEPINTVL, /* TCP_KEEPINTVL: seconds between probes */
	SKT_OPT_KEEPCNT,   /* TCP_KEEPCNT: probes before giving up */
	SKT_OPT_REUSEADDR, /* SO_REUSEADDR: 0/1 */
	SKT_OPT_REUSEPORT, /* SO_REUSEPORT: 0/1 */
	SKT_OPT_SNDBUF,    /* SO_SNDBUF: bytes (Linux reports twice the ask) */
	SKT_OPT_RCVBUF,    /* SO_RCVBUF: bytes (likewise) */
	SKT_OPT_LINGER,    /* SO_LINGER: -1 off, else seconds; 0 = abortive */
	SKT_OPT_V6ONLY,    /* IPV6_V6ONLY: 0/1 */
	SKT_OPT_BROADCAST, /* SO_BROADCAST: 0/1 */
	SKT_OPT_TTL,       /* IP_TTL, or IPV6_UNICAST_HOPS on an IPv6 socket */
	SKT_OPT_COUNT_
} skt_opt;

/* Set or read one option. Returns 0 or -errno (SKT_EINVAL for an unknown
 * opt, SKT_ENOPROTOOPT for one that does not apply to the socket). */
SKT_EXTERN int skt_sock_set_opt(int fd, skt_opt opt, int value);
SKT_EXTERN int skt_sock_opt(int fd, skt_opt opt, int *value);

/* The option's name, e.g. "nodelay"; NULL for an unknown opt. */
SKT_EXTERN const char *skt_opt_name(skt_opt opt);

/* Turn keepalive on with idle/interval seconds and probe count (0 keeps the
 * system's value for that field). Returns 0 or -errno. */
SKT_EXTERN int skt_sock_keepalive(int fd, int idle_s, int interval_s,
				  int count);

#ifdef __cplusplus
}
#endif
#endif
