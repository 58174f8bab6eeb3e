/* relay_tx.h - a transport under the stream relay, for layers above it
 * (TLS) to carry the socket side's bytes through the same poll loop
 * without relay.c knowing them, as conn_int.h does for skt_conn. Not
 * installed.
 *
 * With a transport the relay still polls the socket's fd, but for what
 * the transport says it waits for: a send may wait for the socket to be
 * readable and a receive for it to be writable (TLS: WANT_READ during a
 * write, WANT_WRITE during a read). The kernel's zero-copy paths for the
 * socket side (splice, sendfile, MSG_TRUNC) are off: the bytes on the
 * wire are not the bytes relayed. The one exception is the transport's
 * own sendfile from a regular-file input, when it has one. */
#ifndef SOCKIT_RELAY_TX_H
#define SOCKIT_RELAY_TX_H

#include "internal.h"
#include "sockit/relay.h"

#include <stdbool.h>
#include <sys/types.h>

/* Each call is non-blocking. SKT_EAGAIN sets *want to POLLIN or POLLOUT:
 * what the socket must become before the same call can go on. Errors are
 * sockit codes; the relay reports them as the socket side's. */
typedef struct skt__relay_tx {
	/* Up to len bytes of buf: the count taken (> 0), SKT_EAGAIN, or an
	 * error. After SKT_EAGAIN the relay calls again with the same
	 * bytes. */
	ssize_t (*send)(void *arg, const void *buf, size_t len, short *want);
	/* Up to cap bytes: the count, 0 at a clean end of stream,
	 * SKT_EAGAIN, or an error (an unclean end is an error:
	 * SKT_ETRUNCATED). */
	ssize_t (*recv)(void *arg, void *buf, size_t cap, short *want);
	/* The input's end (SKT_RELAY_EOF_SHUTDOWN and _WAIT): 0 when the
	 * peer will read its end of stream, SKT_EAGAIN (call again), or an
	 * error. */
	int (*shutdown)(void *arg, short *want);
	/* Whether recv has bytes or records it can return without waiting
	 * for the socket (poll() cannot see those). */
	bool (*readable)(void *arg);
	/* Optional (NULL: none): up to max bytes from the regular file fd at
	 * its file position, which moves on by the count. Returns the count,
	 * 0 at the file's end, SKT_EAGAIN, SKT_ENOSYS when it cannot (nothing
	 * moved: the relay reads and sends instead), or an error. */
	ssize_t (*sendfile)(void *arg, int fd, size_t max, short *want);
} skt__relay_tx;

/* skt_relay_run with sock's bytes carried by tx (with arg). sock is the
 * fd the transport runs on, a connected stream socket; it is polled, never
 * read or written by the relay itself. Returns as skt_relay_run;
 * SKT_EINVAL for a datagram socket. */
int skt__relay_run_tx(int in_fd, int out_fd, int sock, const skt__relay_tx *tx,
		      void *arg, const skt_relay_opts *opts,
		      skt_relay_stats *stats);

#endif
