/* stream_int.h - the stream, shared by stream.c (life), stream_read.c
 * (reading), stream_write.c (writing) and stream_tls.c (TLS under all
 * three). Not installed. */
#ifndef SOCKIT_STREAM_INT_H
#define SOCKIT_STREAM_INT_H

#include "loop/loop_int.h"

/* States; stream.h describes them for users. */
enum { ST_CONNECTING, ST_OPEN, ST_DRAINING, ST_CLOSED };

/* The active read. */
enum {
	RD_NONE,
	RD_CHUNK, /* skt_stream_read_start */
	RD_EXACT,
	RD_UNTIL,
	RD_FRAME
};

/* Flags. */
#define SF_RD_READY                                                            \
	0x001        /* the socket may hold bytes: an edge came, and no        \
			recv has found it empty since */
#define SF_EOF 0x002 /* recv returned 0 */
#define SF_RDHUP                                                               \
	0x004              /* the backend saw the peer's FIN: read to the      \
			      end, a short read does not mean empty */
#define SF_FREED     0x008 /* skt_stream_free was called */
#define SF_SHUT_WANT 0x010 /* shutdown(SHUT_WR) once the queue is empty */
#define SF_SHUT_DONE 0x020
#define SF_NOTIFY    0x040 /* CLOSED, and the callbacks saying so are due */
#define SF_ABOVE                                                               \
	0x080 /* the queue went above the high-water mark and                  \
		 has not drained to the low one since */
#define SF_ABOVE_DUE                                                           \
	0x100               /* it did, and the water callback has not said     \
			       so yet (even if it has drained since) */
#define SF_MARKS_DUE 0x200  /* flush callbacks may be due */
#define SF_IN_READ   0x400  /* skt__stream_read is on the stack */
#define SF_WAS_CONN  0x800  /* closed while CONNECTING: connect cb is due */
#define SF_IN_SERVE  0x2000 /* a read callback runs; view_rest counts */
#define SF_CLOSE_WANT                                                          \
	0x1000 /* closed while CONNECTING with bytes queued:                   \
		  DRAINING once connected */
#define SF_TOLD_ABOVE                                                          \
	0x4000 /* the water callback's last word was "above":                  \
		  "below" is owed */
#define SF_HANDSHAKE                                                           \
	0x8000 /* TLS started and its handshake not done: no reads,            \
		  no writes, only the handshake */
#define SF_FILE_WAIT                                                           \
	0x10000 /* sendfile met a full socket: the file part waits for         \
		   writability, not for the task */

/* TLS on a stream (stream_tls.c); NULL for a plain one. */
struct skt__stream_tls {
	skt_tls *t;
	int64_t hs_deadline; /* skt_loop_now() time; 0 none */
	/* What the sending side (handshake, writes, close_notify) waits
	 * for after WANT_READ / WANT_WRITE: SKT_READABLE, SKT_WRITABLE, or
	 * 0 (it may go on). */
	unsigned wait_w;
	/* The same for the reading side: SKT_WRITABLE after a read that
	 * wanted to write, else 0 (a read that wants to read clears
	 * SF_RD_READY, as a plain recv's EAGAIN does). */
	unsigned wait_r;
	bool short_read; /* the socket BIO's last read got less than asked */
	bool drain_hint; /* short reads mean the socket is empty (not kTLS) */
};

struct mark {
	uint64_t at; /* due once sent reaches this */
	skt_stream_cb cb;
};

struct skt_stream {
	skt__watch w;
	skt_loop *loop;
	uint8_t state;
	uint8_t rd_mode;
	uint8_t dlen;
	unsigned flags;
	int refs; /* callbacks of the loop into s in progress */
	int err;  /* why it closed; 0 for a close the user asked for */
	void *udata;

	skt_read_cb rd_cb;
	size_t rd_n;      /* exact: n; until and frame: max */
	size_t scanned;   /* until: leading buffered bytes without delim */
	size_t view_rest; /* undelivered bytes while a read callback runs */
	uint8_t delim[16];
	/* Received, not yet delivered: ibuf[ipos, ipos + ilen). Allocated
	 * only when a request leaves bytes over. */
	uint8_t *ibuf;
	size_t icap, ipos, ilen;

	/* Write queue: a ring of ocap bytes (a power of two), olen of them
	 * queued from ohead. */
	uint8_t *obuf;
	size_t ocap, ohead, olen;
	uint64_t out;  /* bytes accepted by writes, ever */
	uint64_t sent; /* bytes taken by the kernel, ever */
	/* The file part (skt_stream_sendfile): fleft bytes of ffd from
	 * foff, sent after the queue, at most fchunk a turn of the loop. */
	int ffd;
	int64_t foff;
	uint64_t fleft;
	size_t fchunk;
	struct mark *marks;
	size_t mhead, nmarks, capmarks;
	size_t low, high;
	skt_water_cb water_cb;

	skt_stream_cb on_close;
	skt_stream_cb on_connect;
	skt_stream_cb on_tls; /* skt_stream_start_tls's on_done */
	struct skt__stream_tls *tls;
	int end_err; /* the end of stream was not clean: SKT_ETRUNCATED */

	skt_timer tm;
	int idle_ms;
	int total_ms;
	int64_t deadline; /* total timeout; 0 none */
	int64_t active;   /* skt_loop_now() of the last byte moved */

	skt__task task;
	skt__handle h;
};

/* Output not yet taken by the kernel: queued bytes or a file part. */
static inline bool skt__stream_has_out(const skt_stream *s)
{
	return s->olen > 0 || s->fleft > 0;
}

static inline bool skt__stream_reading(const skt_stream *s)
{
	return s->rd_mode != RD_NONE && s->state == ST_OPEN &&
	       !(s->flags & SF_HANDSHAKE);
}

/* stream.c */
void skt__stream_fail(skt_stream *s, int err);
/* Close the fd (with a reset when asked), CLOSED, owner told later. */
void skt__stream_close_fd(skt_stream *s, bool reset);
void skt__stream_interest(skt_stream *s);
void skt__stream_kick(skt_stream *s);
/* Start the idle and total timeouts from now (after a TLS handshake). */
void skt__stream_timeouts_start(skt_stream *s);

/* stream_write.c */
void skt__stream_flush(skt_stream *s);
void skt__stream_fire_marks(skt_stream *s);
void skt__stream_water(skt_stream *s);

/* stream_read.c: read and deliver while a read is active. */
void skt__stream_read(skt_stream *s);
void skt__stream_buf_free(skt_stream *s);

/* stream_tls.c: the TLS side of each path above; each runs only for a
 * stream with s->tls, inside the loop's dispatch of s (refs held). */
/* One event of the fd (after SF_RD_READY / SF_RDHUP were noted). */
void skt__tls_io(skt_stream *s, unsigned events);
/* The stream's task ran: go on where nothing waits for an event. */
void skt__tls_task(skt_stream *s);
/* The backend interest, given what a plain stream would want. */
unsigned skt__tls_interest(const skt_stream *s, unsigned want);
/* As recv: > 0, 0 (close_notify), SKT_EAGAIN, SKT_ETRUNCATED, an error.
 * Clears SF_RD_READY itself when the socket and OpenSSL are empty. */
ssize_t skt__tls_recv(skt_stream *s, uint8_t *dst, size_t cap);
/* Drive the handshake, then send the queue as records until it is
 * empty or the socket full; moves ohead/olen/sent as the plain send
 * does. May close s. */
void skt__tls_send_queue(skt_stream *s);
/* Send n bytes of file fd from off with SSL_sendfile when kernel TLS
 * sends the records: > 0 bytes sent, SKT_EAGAIN (wait_w set),
 * SKT_EOPNOTSUPP (no kTLS: the caller copies through the queue), or an
 * error. */
ssize_t skt__tls_sendfile(skt_stream *s, int fd, int64_t off, size_t n);
/* Send close_notify once: 1 sent (or nothing to send), 0 waiting for
 * the socket (wait_w set), or an error. */
int skt__tls_close_notify(skt_stream *s);
/* The session is freed with the stream. */
void skt__tls_release(skt_stream *s);

#endif
