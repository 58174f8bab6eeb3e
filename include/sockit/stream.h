/* sockit/stream.h - connections, listeners and datagram endpoints on a
 * loop (loop.h), in the style of asyncio streams.
 *
 * skt_stream is the event-driven twin of the blocking skt_conn (conn.h):
 * it wraps a connected stream fd (from skt_connect, skt_accept, or its own
 * skt_stream_connect) and offers the same reads with the same results -
 * read-exact, read-until / read-line (delimiter included), read-frame (the
 * 4-byte length prefix of frame.h), SKT_EOF / SKT_EPARTIAL / SKT_ETOOBIG,
 * max 0 meaning SKT_LINE_MAX_DEFAULT / SKT_FRAME_MAX_DEFAULT - as callbacks
 * instead of blocking calls. Writes are copied into a queue: each one is
 * sent at once when the queue is empty and only what the kernel did not take
 * waits for writability, so an echo costs one recv and one send.
 *
 * Every callback here runs on the loop's thread, never before the call
 * that registered it returns, and never after skt_stream_free. Pointers
 * passed to callbacks (data, datagrams) are valid until the callback
 * returns. TCP streams get TCP_NODELAY, as asyncio and Go set it: a
 * reply must not wait for the peer's delayed ACK.
 */
#ifndef SOCKIT_STREAM_H
#define SOCKIT_STREAM_H

#include "sockit/addr.h"
#include "sockit/conn.h"
#include "sockit/export.h"
#include "sockit/loop.h"
#include "sockit/sock.h"
#include "sockit/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_stream skt_stream;
typedef struct skt_listener skt_listener;
typedef struct skt_workers skt_workers;
typedef struct skt_udp skt_udp;

/* Read results. status 0: len bytes of data (len > 0, but for a frame
 * with an empty payload). Otherwise an error:
 * SKT_EOF (the peer finished sending and nothing is buffered), SKT_EPARTIAL
 * (the peer finished inside a message: data/len are the bytes it sent),
 * SKT_ETOOBIG (a line or frame exceeds max: data/len are the buffered
 * bytes), SKT_ETIMEDOUT (an idle or total timeout closed the stream), or
 * an I/O error such as SKT_ECONNRESET (the stream is closed). Bytes shown
 * with an error stay buffered: a later read gets them. A read request ends
 * with its callback; the stream is open for another request at once (from
 * inside the callback too). */
typedef void (*skt_read_cb)(skt_stream *s, int status, const uint8_t *data,
			    size_t len);
/* Connect, flush and close results: 0 or an error code. */
typedef void (*skt_stream_cb)(skt_stream *s, int status);
/* above: true when the write queue went over the high-water mark, false
 * when it drained back to the low-water mark (skt_stream_set_water). */
typedef void (*skt_water_cb)(skt_stream *s, bool above);

/* ---- Life ----
 *
 * A stream is in one of four states:
 *   CONNECTING  skt_stream_connect is waiting for the handshake;
 *   OPEN        reading and writing;
 *   DRAINING    skt_stream_close was called: reads have stopped, queued
 *               bytes are being sent, then the fd closes;
 *   CLOSED      the fd is closed (close done, abort, an error, a timeout);
 *               every call but free returns an error.
 * The memory belongs to the caller until skt_stream_free. */

/* Wrap fd, a connected stream socket (made non-blocking here). On success
 * the stream owns fd; on failure fd is untouched. Returns 0, SKT_EBADF,
 * SKT_ENOMEM, or -errno from the backend. */
SKT_EXTERN int skt_stream_new(skt_loop *l, skt_stream **out, int fd);

/* Move a blocking connection onto the loop: s takes c's fd and the bytes
 * c had received but not yet handed out (nothing is lost: a protocol may
 * read its greeting with skt_conn, then go on with callbacks). On success
 * c is freed; on failure it is untouched. Returns 0, SKT_EINVAL (c is a
 * TLS connection: its session cannot move; skt_stream_start_tls on a
 * plain stream instead), SKT_ENOMEM, or -errno. */
SKT_EXTERN int skt_stream_from_conn(skt_loop *l, skt_stream **out, skt_conn *c);

/* Connect to a (IP or Unix; not kept) without blocking: *out is
 * CONNECTING when this returns 0, then cb(s, 0) runs once connected, or
 * cb(s, error) (e.g. SKT_ECONNREFUSED) with the stream CLOSED (or
 * SKT_ECANCELED when closed first). Writes and reads asked for before the
 * handshake ends wait for it. Returns 0 or an error, with no stream. */
SKT_EXTERN int skt_stream_connect(skt_loop *l, skt_stream **out,
				  const skt_addr *a, skt_stream_cb cb);

/* ---- Connecting by name ----
 *
 * skt_stream_connect_host resolves host/service without blocking the loop
 * and races the addresses with Happy Eyeballs (RFC 8305): the order and
 * the Connection Attempt Delay of skt_connect (sock.h), one deadline for
 * the lookup and the connect together, and the same report.
 *
 * The lookup. A numeric host ("127.0.0.1", "::1") is parsed on the
 * loop's thread. A name goes to the library's resolver pool: at most 4
 * threads running getaddrinfo, shared by every loop of the process, so
 * answers match `getent ahosts` (/etc/hosts, DNS, whatever NSS says).
 * Lookups of one name (host, service, family) in flight at once are one
 * getaddrinfo; at most 256 distinct names are in flight (past that the
 * call fails with SKT_EAGAIN). getaddrinfo cannot be interrupted: a
 * lookup still running at the deadline is abandoned (its result dropped
 * when it comes) and the connect fails with SKT_ETIMEDOUT at the deadline,
 * however long the resolver hangs. Threads that stay idle 5 s end.
 *
 * Fork: the pool is not fork-safe. A child forked by a process that has
 * looked a name up this way must not call skt_stream_connect_host with a
 * name (a numeric host is fine; so is exec). */
typedef struct skt_connecting skt_connecting;

/* The end of a connect by name, exactly once (unless cancelled): status
 * 0 with s, a new OPEN stream that is the caller's; or an error with s
 * NULL: SKT_ETIMEDOUT (the deadline, in the lookup or the attempts), a
 * resolver error (SKT_EAI_NONAME...), or the last attempt's error
 * (SKT_ECONNREFUSED...). The skt_connecting is gone once it returns. */
typedef void (*skt_connecting_cb)(skt_stream *s, int status, void *arg);

/* Default deadline when opts->timeout_ms is SKT_TIMEOUT_NONE or 0: a
 * lookup that never returns must end somewhere. */
#define SKT_CONNECT_HOST_TIMEOUT_MS 30000

/* Connect by name on l (see above). opts (NULL: SKT_CONNECT_OPTS_INIT)
 * gives family, timeout_ms (the one deadline; SKT_TIMEOUT_NONE or 0:
 * SKT_CONNECT_HOST_TIMEOUT_MS), attempt_delay_ms, source and report
 * (filled, when not NULL, by the time cb runs: the attempts with their
 * times since this call); socktype must be SOCK_STREAM (or 0). cb(s,
 * status, arg) runs on l's thread, never before this returns. *out (when
 * out is not NULL) is the handle to cancel it with, valid until cb runs.
 * Returns 0, or SKT_EINVAL (no host, a bad option), SKT_EAGAIN (too many
 * names in flight; no resolver thread could start), SKT_ENOMEM, with cb
 * never run. Every connect by name of l must have ended or been cancelled
 * before skt_loop_free(l). */
SKT_EXTERN int skt_stream_connect_host(skt_loop *l, const char *host,
				       const char *service,
				       const skt_connect_opts *opts,
				       skt_connecting_cb cb, void *arg,
				       skt_connecting **out);

/* Give up a connect by name that has not ended: its callback never runs
 * (not even with SKT_ECANCELED), its attempts are closed, and its lookup
 * is left to finish or be dropped; c is invalid when this returns. Always
 * works, whatever the lookup is doing. From inside c's own callback it
 * does nothing. l's thread. */
SKT_EXTERN void skt_connecting_cancel(skt_connecting *c);

/* Graceful close: reads stop now (a pending read request is dropped
 * without callback), queued bytes are sent, then the fd is closed and
 * on_close runs with 0. A peer that never reads holds a draining stream
 * until its timeouts (skt_stream_set_timeouts) or skt_loop_free end it.
 * The kernel resets rather than finishing if the peer's unread bytes are
 * still in the socket (TCP close(2)). Returns 0, or the error that already
 * closed the stream. */
SKT_EXTERN int skt_stream_close(skt_stream *s);

/* Abortive close: the queue is discarded and the fd closed with SO_LINGER
 * 0, so the peer gets a reset (ECONNRESET) instead of an end of stream.
 * Pending flush callbacks get SKT_ECANCELED, then on_close runs with 0.
 * Returns 0 or the error that already closed the stream. */
SKT_EXTERN int skt_stream_abort(skt_stream *s);

/* Half-close: once the queued bytes are sent, shutdown(SHUT_WR), so the
 * peer reads end of stream; reading goes on. Later writes fail with
 * SKT_EPIPE. Returns 0 or an error. */
SKT_EXTERN int skt_stream_shutdown(skt_stream *s);

/* Let go of s: if it is still open it is closed gracefully in the
 * background (the loop frees it when the queue is sent or fails); no
 * callback of s runs after this returns. Safe inside any callback of s.
 * skt_stream_free(NULL) does nothing. */
SKT_EXTERN void skt_stream_free(skt_stream *s);

/* cb(s, status) runs once when the stream reaches CLOSED: status 0 after
 * skt_stream_close or skt_stream_abort, the error or SKT_ETIMEDOUT when
 * that closed it, SKT_ECANCELED when skt_loop_free did. NULL turns it
 * off. */
SKT_EXTERN void skt_stream_on_close(skt_stream *s, skt_stream_cb cb);

SKT_EXTERN void skt_stream_set_udata(skt_stream *s, void *udata);
SKT_EXTERN void *skt_stream_udata(const skt_stream *s);
/* The fd, or -1 once CLOSED. */
SKT_EXTERN int skt_stream_fd(const skt_stream *s);
SKT_EXTERN skt_loop *skt_stream_loop(const skt_stream *s);

/* Close with SKT_ETIMEDOUT when no byte has moved either way for idle_ms,
 * or total_ms after this call, whichever comes first (0 turns one off).
 * An active read gets SKT_ETIMEDOUT, then on_close does. Costs no syscall
 * per message: activity is a timestamp, checked when the timer fires.
 * Returns 0 or SKT_EINVAL. */
SKT_EXTERN int skt_stream_set_timeouts(skt_stream *s, int idle_ms,
				       int total_ms);

/* ---- Reading ----
 * One read at a time: a continuous read or one request. Bytes are read
 * from the socket only while one is active, so a stream that is not
 * reading pushes back on its peer through TCP flow control. Each returns 0,
 * SKT_EBUSY (another read is active), SKT_EINVAL, or the error that closed
 * the stream (then cb never runs). */

/* Continuous: cb gets every chunk as it arrives, then SKT_EOF or an error
 * once (which ends the read). Calling it again while active replaces cb. */
SKT_EXTERN int skt_stream_read_start(skt_stream *s, skt_read_cb cb);
/* Stop the continuous read or drop the pending request. */
SKT_EXTERN int skt_stream_read_stop(skt_stream *s);

/* Exactly n bytes (n > 0). */
SKT_EXTERN int skt_stream_read_exact(skt_stream *s, size_t n, skt_read_cb cb);
/* Bytes up to and including the first delim (dlen 1..16); SKT_ETOOBIG when
 * max bytes hold none (max 0: SKT_LINE_MAX_DEFAULT). */
SKT_EXTERN int skt_stream_read_until(skt_stream *s, const void *delim,
				     size_t dlen, size_t max, skt_read_cb cb);
/* skt_stream_read_until(s, "\n", 1, max, cb). */
SKT_EXTERN int skt_stream_read_line(skt_stream *s, size_t max, skt_read_cb cb);
/* One length-prefixed frame: data/len is the payload; SKT_ETOOBIG when the
 * header announces more than max (0: SKT_FRAME_MAX_DEFAULT). Memory grows
 * with the bytes that arrive, never with the header's claim. */
SKT_EXTERN int skt_stream_read_frame(skt_stream *s, size_t max, skt_read_cb cb);

/* Bytes received and not yet delivered. */
SKT_EXTERN size_t skt_stream_buffered(const skt_stream *s);

/* ---- Writing ---- */

#define SKT_WATER_LOW_DEFAULT  ((size_t)16 << 10) /* asyncio's defaults */
#define SKT_WATER_HIGH_DEFAULT ((size_t)64 << 10)

/* Send len bytes: as much as the kernel takes now, the rest copied into the
 * queue (buf is not kept). Returns 0; 1 when the queue is now above the
 * high-water mark (stop writing until the water callback says it is below
 * the low mark); SKT_EPIPE after close or shutdown; SKT_ENOMEM (nothing
 * queued); or the error that closed the stream. An error found by the send
 * itself closes the stream: its callbacks run later, not inside this
 * call. Writes before CONNECTING ends are queued. */
SKT_EXTERN int skt_stream_write(skt_stream *s, const void *buf, size_t len);
/* The same for iovcnt buffers, sent with one writev when the queue is
 * empty. */
SKT_EXTERN int skt_stream_writev(skt_stream *s, const struct iovec *iov,
				 int iovcnt);
/* One length-prefixed frame (header and payload in one writev). Returns as
 * skt_stream_write, or SKT_ETOOBIG (len > max; nothing sent). */
SKT_EXTERN int skt_stream_write_frame(skt_stream *s, const void *msg,
				      size_t len, size_t max);

/* cb(s, 0) once every byte written so far is in the kernel (at the next
 * iteration when the queue is already empty), or cb(s, error) when the
 * stream closes first (SKT_ECANCELED for an abort). Returns 0, SKT_ENOMEM,
 * or the error that closed the stream. */
SKT_EXTERN int skt_stream_flush(skt_stream *s, skt_stream_cb cb);

/* Bytes queued and not yet taken by the kernel. */
SKT_EXTERN size_t skt_stream_queued(const skt_stream *s);

/* What one turn sends of a file part at most when
 * skt_stream_sendfile's chunk is 0 (nginx's sendfile_max_chunk is 2 MiB). */
#define SKT_STREAM_FILE_CHUNK ((size_t)2 << 20)

/* Send hlen bytes of head (a response head; may be 0), then len bytes of
 * fd, a regular file, from offset off, without copying them through user
 * space: sendfile(2) on a plain stream, SSL_sendfile(3) when kernel TLS
 * sends the stream's records (skt_tls_info.ktls_tx), else read a piece
 * at a time into the queue and sent as records. The head leaves with the
 * file's first bytes (MSG_MORE, TCP_CORK's per-send form), so a small
 * response is one segment. At most chunk bytes (0: SKT_STREAM_FILE_CHUNK)
 * go out at a time; the rest waits behind the work already queued on the
 * loop (a stream has at most three turns an iteration), so one fast
 * client cannot keep the loop from its other streams.
 *
 * fd is borrowed (not closed, not read past off + len) until the file
 * part is sent - a flush mark (skt_stream_flush) set after this call
 * says when - or the stream closes; its offset is not moved. Until then
 * writes and further files fail with SKT_EBUSY (skt_stream_sending_file
 * says whether one is pending); the close and the flush marks wait for
 * it. A file that ends before off + len, or a read error, closes the
 * stream with that error (SKT_EPARTIAL for a short file). Returns 0,
 * SKT_EINVAL, SKT_EBUSY, SKT_EPIPE after close or shutdown, SKT_ENOMEM,
 * or the error that closed the stream - also when the first turn, sent
 * inside this call, met it (its callbacks run later, as after a write);
 * on an error fd is the caller's again at once. */
SKT_EXTERN int skt_stream_sendfile(skt_stream *s, const void *head, size_t hlen,
				   int fd, int64_t off, uint64_t len,
				   size_t chunk);
/* Whether a file part of skt_stream_sendfile is still being sent. */
SKT_EXTERN bool skt_stream_sending_file(const skt_stream *s);

/* Water marks of the write queue (0 and 0 for the defaults; low <= high).
 * cb(s, true) runs soon after the write that took the queue above high
 * (that write returns 1; cb never runs inside it), and cb(s, false) once
 * the queue is at or under low again. The two strictly alternate,
 * starting with true, and every true is followed by exactly one false,
 * so a producer that pauses on a write's 1 or on true resumes on false:
 * when the queue drains before true could run, true and false run back
 * to back. A write inside cb(s, true) that goes above high again only
 * postpones the false; one inside cb(s, false) leads to a new true. cb
 * may write, close or free s. No water callback runs once the stream
 * stops taking writes (skt_stream_close, skt_stream_shutdown, abort,
 * free, or the error that closed it), whatever was owed. What is owed
 * when cb changes goes to the new cb; while cb is NULL nothing runs, and
 * a rise above high that drains back meanwhile is not told. Returns 0 or
 * SKT_EINVAL. */
SKT_EXTERN int skt_stream_set_water(skt_stream *s, size_t low, size_t high,
				    skt_water_cb cb);

/* ---- TLS ----
 *
 * A stream can carry TLS (tls.h), client or server side, driven by the
 * loop on the stream's own non-blocking fd (OpenSSL reads and writes the
 * socket: no memory BIOs, so kernel TLS can take the records over).
 * Reads, writes, water marks, flush callbacks and timeouts keep their
 * meaning, counted in bytes of plaintext. What differs:
 *   - Writes are queued and sent at the end of the loop's iteration (or
 *     the next one, for a write made outside a callback of the loop), all
 *     that was written by then going out together, so a response written
 *     in pieces (a head, then a body) leaves as one record of up to 16 KiB
 *     and one write(2). A write never reaches the kernel inside the call.
 *   - End of stream: the peer's close_notify is the stream's SKT_EOF. A
 *     peer that closes the connection without one may have been cut off:
 *     every byte that arrived is delivered, then the active read gets
 *     SKT_ETRUNCATED (data/len: the bytes still buffered, as with
 *     SKT_EPARTIAL) and the stream closes with that error.
 *   - skt_stream_shutdown sends close_notify once the queue is sent (a TLS
 *     half-close: the TCP connection stays open and reading goes on; a
 *     TLS 1.3 peer may go on sending, a TLS 1.2 peer usually answers with
 *     its own close_notify and closes). skt_stream_close sends the queue,
 *     then close_notify, then closes; skt_stream_abort and an error send
 *     none.
 *   - Renegotiation is refused (the context sets SSL_OP_NO_RENEGOTIATION):
 *     a peer that insists meets an alert and the stream an error.
 *   - While a loop runs TLS streams, SIGPIPE is blocked on its thread
 *     (OpenSSL writes with write(2)); a SIGPIPE those writes raise is
 *     taken before skt_loop_run returns. */

/* Start TLS on s, CONNECTING or OPEN, before any byte has arrived that
 * is not delivered yet (a STARTTLS exchange may read plaintext first).
 * ctx says client or server (not kept: the session holds what it
 * needs); host and sni are skt_tls_new's (a client's name to
 * verify and send; NULL for a server). A CONNECTING stream starts the
 * handshake once connected (its connect callback runs first). Bytes
 * queued when this is called and every write after it go out encrypted
 * once the handshake is done (to send plaintext first, start TLS from
 * that write's flush callback); a read asked for before or during the
 * handshake is served after it.
 *
 * on_done(s, 0) runs once the handshake is done (skt_stream_tls then
 * gives the agreed parameters). If the stream ends first, on_done(s,
 * error) runs instead - a TLS code (skt_tls_reason says why),
 * SKT_ETIMEDOUT (handshake_ms passed), SKT_ETRUNCATED (the peer closed
 * mid-handshake), a connect or I/O error, or SKT_ECANCELED (closed,
 * aborted or the loop freed first) - and the stream is CLOSED with that
 * error (on_close sees it). on_done runs exactly once, never inside this
 * call and never after skt_stream_free; it may be NULL.
 *
 * handshake_ms bounds the handshake (from this call; 0: no bound). The
 * idle and total timeouts of skt_stream_set_timeouts do not run during
 * the handshake: set before or during it, they start when it is done.
 *
 * Returns 0, SKT_EINVAL (s is not CONNECTING or OPEN, already TLS,
 * shutting down, has bytes buffered, handshake_ms < 0, or host/sni as
 * skt_tls_new refuses them), SKT_ENOMEM, or the error that closed s; on
 * failure nothing changed and on_done never runs. */
SKT_EXTERN int skt_stream_start_tls(skt_stream *s, skt_tls_ctx *ctx,
				    const char *host, const char *sni,
				    int handshake_ms, skt_stream_cb on_done);
/* The TLS session of s (for skt_tls_get_info and skt_tls_reason, valid
 * until skt_stream_free), or NULL for a plain stream. Reading and writing
 * it directly would break the stream. */
SKT_EXTERN skt_tls *skt_stream_tls(const skt_stream *s);

/* ---- Listening ---- */

/* A new connection (status 0, s is yours: set its callbacks, read, and
 * free it some day), or, with s NULL, a condition the listener met and
 * survived: SKT_EMFILE / SKT_ENFILE / SKT_ENOBUFS / SKT_ENOMEM (out of
 * fds or memory: one waiting client was closed to make room and accepting
 * pauses for SKT_ACCEPT_PAUSE_MS, so the loop does not spin) or another
 * accept error (accepting pauses too). */
typedef void (*skt_accept_cb)(skt_listener *ls, skt_stream *s, int status,
			      void *arg);

/* How long accepting pauses after running out of fds or memory. */
#define SKT_ACCEPT_PAUSE_MS 100

/* Accept on lfd, a listening socket (skt_listen), which the listener then
 * owns. Connections are accepted in batches (accept4, up to 64 per
 * wake-up). One spare fd is held open for the EMFILE case. Returns 0,
 * SKT_EBADF, SKT_ENOMEM, SKT_EMFILE (no fd for the spare), or -errno
 * from the backend; on failure lfd is untouched. */
SKT_EXTERN int skt_listener_new(skt_loop *l, skt_listener **out, int lfd,
				skt_accept_cb cb, void *arg);
/* Close the listening fd and the spare, and free. Accepted streams live on.
 * skt_listener_free(NULL) does nothing. */
SKT_EXTERN void skt_listener_free(skt_listener *ls);
SKT_EXTERN int skt_listener_fd(const skt_listener *ls);
SKT_EXTERN skt_loop *skt_listener_loop(const skt_listener *ls);

/* ---- N loops on one port ----
 * n worker threads, each running its own loop with its own listening
 * socket on one address (SO_REUSEPORT: the kernel spreads connections over
 * them). cb runs on the worker's thread, concurrently with the others: the
 * arg it shares must be thread-safe. */

/* Bind n sockets (opts->reuseport is forced on; port 0 binds an ephemeral
 * port for the first and the same port for the rest) and make n loops
 * (loop_opts may be NULL) and listeners. No thread runs yet: set up each
 * loop with skt_workers_loop, then skt_workers_start. Returns 0 or an error,
 * with nothing left behind. */
SKT_EXTERN int skt_workers_new(skt_workers **out, unsigned n, const char *host,
			       const char *service, const skt_listen_opts *opts,
			       const skt_loop_opts *loop_opts, skt_accept_cb cb,
			       void *arg);
SKT_EXTERN skt_loop *skt_workers_loop(skt_workers *w, unsigned i);
/* The address all workers listen on. */
SKT_EXTERN int skt_workers_local(const skt_workers *w, skt_addr *a);
/* Start one thread per loop (skt_loop_run). Returns 0 or -errno (then no
 * thread runs). */
SKT_EXTERN int skt_workers_start(skt_workers *w);
/* Stop every loop (skt_loop_stop) and join the threads. */
SKT_EXTERN void skt_workers_stop(skt_workers *w);
/* Stop, then free listeners and loops (skt_loop_free: open streams get
 * their on_close). skt_workers_free(NULL) does nothing. */
SKT_EXTERN void skt_workers_free(skt_workers *w);

/* ---- Datagrams ---- */

typedef struct skt_dgram {
	const uint8_t *data;
	size_t len;
	skt_addr from;
	bool truncated; /* longer than max_dgram: the rest was lost */
} skt_dgram;

/* n > 0 datagrams received in one batch (status 0), or, with n 0, an error
 * the endpoint met and survived (SKT_ECONNREFUSED for a connected socket
 * whose peer is not listening, a failed send, ...). */
typedef void (*skt_udp_cb)(skt_udp *u, int status, const skt_dgram *d,
			   size_t n);

#define SKT_UDP_BATCH 32 /* datagrams per recvmmsg / sendmmsg */

/* Wrap fd, a UDP socket (skt_udp_bind, or a connected one), which the
 * endpoint then owns. max_dgram is the largest datagram received whole (0:
 * 2048; at most 65536). Returns 0, SKT_EBADF, SKT_EINVAL, SKT_ENOMEM, or
 * -errno; on failure fd is untouched. */
SKT_EXTERN int skt_udp_new(skt_loop *l, skt_udp **out, int fd,
			   size_t max_dgram);
/* Receive in batches of up to SKT_UDP_BATCH (recvmmsg). */
SKT_EXTERN int skt_udp_recv_start(skt_udp *u, skt_udp_cb cb);
SKT_EXTERN int skt_udp_recv_stop(skt_udp *u);
/* Queue one datagram to to (NULL: the connected peer); buf and to are
 * copied. The queue goes out with sendmmsg at the end of the current
 * iteration, or at once when it holds SKT_UDP_BATCH. Returns 0,
 * SKT_EMSGSIZE (len > 65535; a datagram the kernel then refuses is
 * reported to the receive callback), or SKT_ENOBUFS when the queue is full
 * because the socket is (the datagram is dropped, as the kernel would). */
SKT_EXTERN int skt_udp_send(skt_udp *u, const void *buf, size_t len,
			    const skt_addr *to);
SKT_EXTERN void skt_udp_set_udata(skt_udp *u, void *udata);
SKT_EXTERN void *skt_udp_udata(const skt_udp *u);
SKT_EXTERN int skt_udp_fd(const skt_udp *u);
/* Send what is queued (best effort, without waiting), close, free.
 * skt_udp_free(NULL) does nothing. */
SKT_EXTERN void skt_udp_free(skt_udp *u);

#ifdef __cplusplus
}
#endif
#endif
