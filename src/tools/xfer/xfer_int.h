/* xfer_int.h - what send.c and recv.c share: frame I/O with a timeout on
 * every wait, and the progress line. */
#ifndef SOCKIT_TOOLS_XFER_INT_H
#define SOCKIT_TOOLS_XFER_INT_H

#include <stdarg.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tools/xfer/auth.h"
#include "tools/xfer/hash.h"
#include "tools/xfer/xfer.h"

typedef struct xf_io {
	int fd;
	int timeout_ms;
	int cur_ms;    /* the limit now (xf_io_timeout) */
	skt_tls *tls;  /* NULL: plain TCP */
	int rerr;      /* TLS: an end or error xf_io_readable met */
	xf_auth *auth; /* --secret: every byte read and written is MACed */
	uint8_t wbuf[16 << 10]; /* TLS: small writes gathered into a record */
	uint8_t ctrl[XF_HEAD_LEN + XF_CTRL_MAX]; /* a control frame */
	uint8_t rbuf[64 << 10]; /* read ahead: rbuf[rpos..rlen) */
	size_t rpos, rlen;
} xf_io;

/* Make fd blocking with timeout_ms (> 0; else none) as the limit of each
 * read and write. With tls (its handshake done), the fd stays non-blocking
 * and the bytes go through the session, timeout_ms the limit of each call.
 * 0 or -errno. */
int xf_io_init(xf_io *io, int fd, skt_tls *tls, int timeout_ms);
/* Whether file bytes may go by sendfile(2): plain TCP without --secret
 * (under TLS, or to be MACed, they pass through user space). */
bool xf_io_zerocopy(const xf_io *io);
/* A new limit, io->timeout_ms unchanged. */
int xf_io_timeout(xf_io *io, int timeout_ms);
/* Exactly n bytes: 0, SKT_EOF (none came), SKT_EPARTIAL, or an error. */
int xf_io_read(xf_io *io, void *buf, size_t n);
/* All of the iovecs (changed in place). 0 or an error. */
int xf_io_writev(xf_io *io, struct iovec *iov, int n);
int xf_io_writev_flags(xf_io *io, struct iovec *iov, int n, int flags);
int xf_io_write(xf_io *io, const void *p, size_t n);
/* The same with send(2) flags (MSG_MORE). */
int xf_io_write_flags(xf_io *io, const void *p, size_t n, int flags);
/* n bytes of file from off with sendfile(2). 0, an error, or SKT_EIO
 * when the file ended first (it shrank). */
int xf_io_sendfile(xf_io *io, int file, off_t off, size_t n);
/* A frame's head: 0, or SKT_EMALFORMED, or what xf_io_read returns. */
int xf_io_head(xf_io *io, uint8_t *type, uint32_t *len);
/* The head and payload of a control frame (into io->ctrl + XF_HEAD_LEN);
 * a DATA frame is SKT_EMALFORMED here. */
int xf_io_ctrl(xf_io *io, uint8_t *type, uint32_t *len);
/* Whether a byte waits to be read, without waiting. */
bool xf_io_readable(xf_io *io);
/* A NONCE or PROOF frame with v. 0 or an error. */
int xf_io_auth(xf_io *io, uint8_t type, const uint8_t v[XF_AUTH_LEN],
	       int flags);
/* --secret: a MAC frame with the MAC of everything written so far; 0
 * without --secret. 0 or an error. */
int xf_io_mark(xf_io *io, int flags);
/* --secret: read the peer's MAC frame and compare it with the MAC of
 * everything read before it. 0 (equal, or no --secret), 1 (not equal), or
 * what xf_io_ctrl returns (type and len say what came instead; a frame
 * other than MAC is SKT_EMALFORMED). */
int xf_io_check_mark(xf_io *io, uint8_t *type, uint32_t *len);
/* Send an ERROR frame (best effort, errors ignored). */
void xf_io_error(xf_io *io, uint16_t code, const char *msg);

/* "what: why" into st->err. */
void xf_fail(xf_stats *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The peer's ERROR frame, decoded, into st->err. */
void xf_fail_peer(xf_stats *st, const char *peer, const uint8_t *p,
		  uint32_t len);

int64_t xf_now_us(void);
/* strdup through skt_malloc (the allocator hook). */
char *xf_strdup(const char *s);

/* The progress line on stderr: files, bytes, rate, ETA; rewritten at most
 * five times a second. */
typedef struct xf_progress {
	bool on;
	const char *role;
	int64_t start_us, last_us;
	uint64_t files, bytes; /* totals */
	uint64_t done_files, done_bytes;
} xf_progress;

void xf_progress_start(xf_progress *p, bool on, const char *role,
		       uint64_t files, uint64_t bytes);
void xf_progress_tick(xf_progress *p, bool force);
void xf_progress_end(xf_progress *p);

#endif
