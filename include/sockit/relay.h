/* sockit/relay.h - move bytes both ways between a socket and two local fds
 * (a program's stdin and stdout), as nc and socat do.
 *
 * skt_relay_run() is one poll() loop, no threads. The local fds may be
 * pipes, regular files, terminals or /dev/null; the relay never changes
 * their flags (a terminal's O_NONBLOCK is shared with the shell that
 * started us), so it reads or writes them only after poll() says they are
 * ready, or with calls that cannot block on them (splice with
 * SPLICE_F_NONBLOCK). Bulk data takes the kernel's zero-copy paths where
 * they exist: sendfile(2) from a regular file, splice(2) from a pipe, a
 * splice through a private pipe into a pipe or a file, and on TCP
 * MSG_TRUNC (received and dropped without a copy) into /dev/null; anything the
 * kernel refuses (EINVAL) falls back to read/write through a buffer
 * without losing a byte.
 *
 * The socket's type picks the mode: a SOCK_DGRAM socket is relayed one
 * datagram per read of the input; anything else is a byte stream.
 *
 * The same loop relays a TLS session: skt_tls_relay_run (tls.h).
 */
#ifndef SOCKIT_RELAY_H
#define SOCKIT_RELAY_H

#include "sockit/addr.h"
#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What happens when the input ends (read returns 0, or the data of
 * skt_relay_opts.data is all sent). Bytes already read are always sent
 * first.
 *   SHUTDOWN  stream: shutdown(SHUT_WR), so the peer reads end of stream;
 *             the relay goes on until the peer closes its side.
 *             datagram: keep receiving replies until the idle timeout (if
 *             any): a datagram peer never closes.
 *   CLOSE     return at once; the caller closes the socket. Replies that
 *             arrive later are lost (and Linux answers a stream peer that
 *             still sends with a reset).
 *   WAIT      as SHUTDOWN, but return at most eof_wait_ms after the input
 *             ended, peer closed or not (this is not an error). */
typedef enum skt_relay_eof {
	SKT_RELAY_EOF_SHUTDOWN = 0,
	SKT_RELAY_EOF_CLOSE,
	SKT_RELAY_EOF_WAIT,
} skt_relay_eof;

/* Which side the error that ended a relay came from. */
typedef enum skt_relay_side {
	SKT_RELAY_NOWHERE = 0, /* no error, or the idle timeout */
	SKT_RELAY_INPUT,       /* reading in_fd */
	SKT_RELAY_OUTPUT,      /* writing out_fd (SKT_EPIPE: its reader left) */
	SKT_RELAY_SOCKET, /* the socket (SKT_ECONNRESET, SKT_ECONNREFUSED) */
} skt_relay_side;

/* Datagram mode with reply_to_last: called for each datagram whose sender
 * differs from the last admitted one, before it is delivered. Return false
 * to drop the datagram (it is counted in dgrams_dropped, and its sender
 * does not become the reply address). Runs inside skt_relay_run. */
typedef bool (*skt_relay_peer_fn)(const skt_addr *peer, void *arg);

typedef struct skt_relay_opts {
	skt_relay_eof eof;  /* what input's end does (above) */
	int eof_wait_ms;    /* SKT_RELAY_EOF_WAIT: how long, >= 0 */
	int idle_ms;        /* nothing moved either way for this long ends
			       the relay with SKT_ETIMEDOUT; -1 never */
	bool peer_eof_ends; /* stream: the peer's close ends the relay even
			       while input is open (bytes already read are
			       still sent); else input goes on being sent
			       after the peer closed, until it ends, as
			       TCP's half-close allows */
	bool crlf;          /* turn each LF of the input not preceded by a
			       CR into CRLF on the way to the socket */
	bool reply_to_last; /* datagram, unconnected socket: send input to
			       the last sender admitted; what is read
			       before any datagram arrived waits for one */
	skt_relay_peer_fn on_peer; /* with reply_to_last; NULL admits all */
	void *peer_arg;
	const void *data; /* when not NULL, send these data_len bytes */
	size_t data_len;  /* instead of reading in_fd, then end input */
	size_t bufsize;   /* stream buffer per direction; 0: 256 KiB */
	bool shut_out;    /* stream: once the peer's end of stream and every
			     byte before it reached out_fd, shutdown(out_fd,
			     SHUT_WR), so that a socket output (a program on
			     a socketpair) reads its end too */
} skt_relay_opts;

/* Defaults: shut down at input's end and wait for the peer, no timeouts. */
#define SKT_RELAY_OPTS_INIT                                                    \
	{                                                                      \
		SKT_RELAY_EOF_SHUTDOWN, 0, SKT_TIMEOUT_NONE, false, false,     \
			false, NULL, NULL, NULL, 0, 0, false                   \
	}

typedef struct skt_relay_stats {
	uint64_t sent;        /* bytes written to the socket (after crlf) */
	uint64_t received;    /* bytes from the socket delivered to out_fd
				 (or dropped, when out_fd discards) */
	uint64_t dgrams_sent; /* datagram mode */
	uint64_t dgrams_received;
	uint64_t dgrams_dropped; /* refused by on_peer */
	bool input_eof;          /* the input ended: relaying it again is
				    pointless (pass in_fd -1 next time) */
	bool peer_eof;           /* stream: the peer closed its side */
	skt_relay_side where;    /* where the ending error came from */
	skt_addr peer;           /* reply_to_last: the last sender admitted
				    (len 0 when none) */
} skt_relay_stats;

/* Relay until the end that opts describe: bytes read from in_fd go to
 * sock, bytes received on sock go to out_fd.
 *   in_fd   -1 for no input (as if it ended at once); ignored when
 *           opts->data is set.
 *   out_fd  -1 to discard what arrives (counted in received).
 *   sock    a connected stream socket, or a datagram socket (connected,
 *           or bound with reply_to_last). It should be non-blocking (every
 *           socket sockit creates is): splice and sendfile on a blocking
 *           socket may wait past the idle timeout.
 * opts may be NULL for SKT_RELAY_OPTS_INIT; stats may be NULL.
 * Nothing is closed: sock, in_fd and out_fd stay the caller's (sock may be
 * shut down for writing). Returns 0 when the relay ended as opts say,
 * SKT_ETIMEDOUT on the idle timeout, SKT_EINVAL for bad opts or a sock
 * that is not a socket (SKT_ENOTSOCK), SKT_ENOMEM, or the first I/O error,
 * with stats->where naming its side. In every case stats says how many
 * bytes moved. No SIGPIPE escapes: a pipe has no MSG_NOSIGNAL, so SIGPIPE
 * is blocked in the calling thread while the relay runs and one it caused
 * is discarded before the signal mask is restored. Bytes read from in_fd are
 * never dropped while the socket takes them; on an output error the relay stops
 * reading the socket. */
SKT_EXTERN int skt_relay_run(int in_fd, int out_fd, int sock,
			     const skt_relay_opts *opts,
			     skt_relay_stats *stats);

/* A short name for a side: "input", "output", "socket" or "" for none. */
SKT_EXTERN const char *skt_relay_side_name(skt_relay_side side);

#ifdef __cplusplus
}
#endif
#endif
