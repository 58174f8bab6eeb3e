/* sockit/conn.h - a buffered stream connection (blocking).
 *
 * skt_conn wraps a connected stream fd with a receive buffer, so that
 * read-line, read-until and read-frame cost one recv() per buffer-full rather
 * than one per byte (Python's socket.makefile(), asyncio's StreamReader).
 * It also carries a timeout, like Python's settimeout(), used by every call
 * on the connection. Not thread-safe: one thread per connection at a time.
 */
#ifndef SOCKIT_CONN_H
#define SOCKIT_CONN_H

#include "sockit/core.h"
#include "sockit/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_conn skt_conn;

#define SKT_CONN_BUF_DEFAULT ((size_t)16 << 10)

/* Wrap fd. bufsize is the initial receive buffer (0 means
 * SKT_CONN_BUF_DEFAULT); the buffer grows only as far as a read-until or
 * read-frame needs, and only as bytes arrive. On success *out owns fd and
 * the timeout is SKT_TIMEOUT_NONE. On failure (SKT_ENOMEM, or SKT_EBADF for
 * fd < 0) fd is untouched. */
int skt_conn_new(skt_conn **out, int fd, size_t bufsize);

/* Stop I/O and close the fd (idempotent). Returns 0 or -errno. */
int skt_conn_close(skt_conn *c);
/* Close if still open, then free. skt_conn_free(NULL) does nothing. */
void skt_conn_free(skt_conn *c);

int skt_conn_fd(const skt_conn *c);
/* Timeout for every later call: SKT_TIMEOUT_NONE, 0, or milliseconds. */
void skt_conn_set_timeout(skt_conn *c, int timeout_ms);
int skt_conn_timeout(const skt_conn *c);
/* Bytes received and buffered but not yet read. */
size_t skt_conn_buffered(const skt_conn *c);

/* Up to cap bytes: buffered bytes first, else one recv(). Returns the count,
 * 0 at end of stream, or an error. */
ssize_t skt_conn_read(skt_conn *c, void *buf, size_t cap);

/* Exactly n bytes into buf. Returns n, SKT_EOF (end before any byte),
 * SKT_EPARTIAL (end after *got bytes, which are in buf), or an error (then
 * *got bytes are in buf too). got may be NULL. */
ssize_t skt_conn_read_exact(skt_conn *c, void *buf, size_t n, size_t *got);

/* Bytes up to and including the first delim (dlen bytes, 1..16). *out
 * points into the connection's buffer, valid until the next call on c.
 * Returns the length including delim, SKT_ETOOBIG when max bytes hold no
 * delim (max 0 means SKT_LINE_MAX_DEFAULT), SKT_EINVAL for a bad dlen,
 * SKT_EOF at end of stream with nothing buffered, SKT_EPARTIAL at end of
 * stream with an unterminated tail (still buffered: skt_conn_read gets it).
 * On every error the buffered bytes stay readable: nothing is lost. */
ssize_t skt_conn_read_until(skt_conn *c, const void *delim, size_t dlen,
			    size_t max, const uint8_t **out);

/* skt_conn_read_until(c, "\n", 1, max, out). */
ssize_t skt_conn_read_line(skt_conn *c, size_t max, const uint8_t **out);

/* One length-prefixed frame (see frame.h); *msg points into the buffer,
 * valid until the next call. Returns the payload length or SKT_EOF,
 * SKT_EPARTIAL, SKT_ETOOBIG (max 0 means SKT_FRAME_MAX_DEFAULT), ... */
ssize_t skt_conn_read_frame(skt_conn *c, size_t max, const uint8_t **msg);

/* Send all of buf (skt_send_all with the connection's timeout). */
int skt_conn_write_all(skt_conn *c, const void *buf, size_t len);
/* Send one length-prefixed frame. */
int skt_conn_write_frame(skt_conn *c, const void *msg, size_t len,
			 size_t max);
/* Half-close the sending side; reading goes on. */
int skt_conn_shutdown_write(skt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
