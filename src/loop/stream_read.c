/* stream_read.c - the reading half of a stream: continuous reads and the
 * read-exact / read-until / read-frame requests.
 *
 * Where bytes go. A stream with nothing buffered reads into the loop's
 * shared 64 KiB buffer and serves the active read straight from it, so an
 * echo or a request/response protocol whose messages arrive whole never
 * copies and an idle connection holds no receive buffer. Only bytes left
 * over when the active read is satisfied or stops (half a line, the start
 * of the next frame) are copied into the stream's own buffer, and later
 * reads append there, growing it (doubling) only up to what the active
 * request needs and only when it is full of bytes that really arrived.
 *
 * When to read (edge-triggered epoll): SF_RD_READY says the socket may
 * hold bytes. An edge sets it; a recv that finds EAGAIN, or returns fewer
 * bytes than asked (the socket was emptied: a later arrival raises a new
 * edge), clears it - except after the peer's FIN was seen, when only a
 * recv returning 0 ends the stream. At most 32 reads per wake-up (libuv's
 * count), then the stream requeues itself, so one fast peer cannot starve
 * the others.
 */
#include "loop/stream_int.h"
#include "sockit/frame.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define NEED           1 /* match(): the active read needs more bytes */
#define READS_PER_WAKE 32
#define IBUF_MIN       ((size_t)4 << 10)
#define IBUF_KEEP      ((size_t)64 << 10) /* larger buffers go when emptied */

static int match_until(skt_stream *s, const uint8_t *p, size_t n, size_t *take,
		       size_t *mlen)
{
	size_t lim = n < s->rd_n ? n : s->rd_n;
	size_t from = s->scanned;
	if (lim >= s->dlen && from <= lim - s->dlen) {
		const uint8_t *hit;
		if (s->dlen == 1)
			hit = memchr(p + from, s->delim[0], lim - from);
		else
			hit = memmem(p + from, lim - from, s->delim, s->dlen);
		if (hit != NULL) {
			*take = *mlen = (size_t)(hit - p) + s->dlen;
			return 0;
		}
		s->scanned =
			lim - s->dlen + 1; /* no need to look there again */
	}
	if (n >= s->rd_n) {
		*mlen = n;
		return SKT_ETOOBIG;
	}
	return NEED;
}

static int match_frame(skt_stream *s, const uint8_t *p, size_t n, size_t *take,
		       const uint8_t **msg, size_t *mlen)
{
	if (n < SKT_FRAME_HEADER)
		return NEED;
	size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
		     (size_t)p[2] << 8 | p[3];
	if (len > s->rd_n) {
		*mlen = n;
		return SKT_ETOOBIG;
	}
	if (n - SKT_FRAME_HEADER < len)
		return NEED;
	*msg = p + SKT_FRAME_HEADER;
	*mlen = len;
	*take = SKT_FRAME_HEADER + len;
	return 0;
}

/* Does p[0, n) satisfy the active read? 0: yes, deliver *msg and *mlen,
 * consume *take; NEED; or an error (ETOOBIG) to deliver with the bytes. */
static int match(skt_stream *s, const uint8_t *p, size_t n, size_t *take,
		 const uint8_t **msg, size_t *mlen)
{
	*msg = p;
	switch (s->rd_mode) {
	case RD_CHUNK:
		*take = *mlen = n;
		return 0;
	case RD_EXACT:
		if (n < s->rd_n)
			return NEED;
		*take = *mlen = s->rd_n;
		return 0;
	case RD_UNTIL:
		return match_until(s, p, n, take, mlen);
	case RD_FRAME:
		return match_frame(s, p, n, take, msg, mlen);
	default:
		return NEED;
	}
}

/* Serve the active read from p[0, n) for as long as it is satisfied (a
 * callback may ask for the next message at once). Returns true when the
 * read stopped for want of bytes, false when it ended otherwise (no read
 * active, or an error delivered: the caller looks again). *used says how
 * many bytes were consumed. */
static bool serve(skt_stream *s, const uint8_t *p, size_t n, size_t *used)
{
	*used = 0;
	while (skt__stream_reading(s)) {
		if (*used == n)
			return true;
		size_t take = 0, mlen = 0;
		const uint8_t *msg = NULL;
		int st = match(s, p + *used, n - *used, &take, &msg, &mlen);
		if (st == NEED)
			return true;
		skt_read_cb cb = s->rd_cb;
		if (st < 0 || s->rd_mode != RD_CHUNK)
			s->rd_mode = RD_NONE; /* one-shot: cb may ask again */
		if (st == 0) {
			*used += take;
			s->scanned = 0;
		}
		s->view_rest = n - *used;
		s->flags |= SF_IN_SERVE;
		cb(s, st, msg, mlen);
		s->flags &= ~SF_IN_SERVE;
		if (st < 0)
			return false;
	}
	return false;
}

static void consume(skt_stream *s, size_t n)
{
	s->ipos += n;
	s->ilen -= n;
	if (s->ilen > 0)
		return;
	s->ipos = 0;
	if (s->icap > IBUF_KEEP)
		skt__stream_buf_free(s);
}

void skt__stream_buf_free(skt_stream *s)
{
	skt_free(s->ibuf);
	s->ibuf = NULL;
	s->icap = s->ipos = s->ilen = 0;
}

/* The end of the stream reached the active read: SKT_EOF, or SKT_EPARTIAL
 * with the bytes that came (they stay buffered). An end that was not
 * clean (TLS without close_notify) is its error, then closes the stream:
 * the session cannot go on. */
static void serve_eof(skt_stream *s)
{
	skt_read_cb cb = s->rd_cb;
	s->rd_mode = RD_NONE;
	int st = s->end_err != 0 ? s->end_err
		 : s->ilen == 0  ? SKT_EOF
				 : SKT_EPARTIAL;
	cb(s, st, s->ilen > 0 ? s->ibuf + s->ipos : NULL, s->ilen);
	if (s->end_err != 0)
		skt__stream_fail(s, s->end_err);
}

/* Bytes the active request needs buffered at once (more than ilen). */
static size_t wanted(const skt_stream *s)
{
	if (s->rd_mode == RD_FRAME && s->ilen >= SKT_FRAME_HEADER) {
		const uint8_t *p = s->ibuf + s->ipos;
		size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
			     (size_t)p[2] << 8 | p[3];
		return SKT_FRAME_HEADER + len;
	}
	if (s->rd_mode == RD_FRAME)
		return SKT_FRAME_HEADER;
	return s->rd_n; /* exact: n; until: max */
}

/* Free space at the end of ibuf: slide the bytes to the front when the
 * tail is full, then double the buffer, but only up to what the request
 * needs. Returns the room, or 0 when memory ran out. */
static size_t room(skt_stream *s)
{
	if (s->ipos > 0 && s->ipos + s->ilen == s->icap) {
		memmove(s->ibuf, s->ibuf + s->ipos, s->ilen);
		s->ipos = 0;
	}
	if (s->ipos + s->ilen < s->icap)
		return s->icap - s->ipos - s->ilen;
	size_t need = wanted(s);
	size_t ncap = s->icap < IBUF_MIN / 2 ? IBUF_MIN : s->icap * 2;
	if (ncap > need)
		ncap = need > s->icap ? need : s->icap + 1;
	uint8_t *b = skt_realloc(s->ibuf, ncap);
	if (b == NULL)
		return 0;
	s->ibuf = b;
	s->icap = ncap;
	return ncap - s->ipos - s->ilen;
}

/* Keep bytes the active read left over from the shared buffer. */
static int keep(skt_stream *s, const uint8_t *p, size_t n)
{
	if (s->icap < n) {
		size_t cap = n < IBUF_MIN ? IBUF_MIN : n;
		uint8_t *b = skt_realloc(s->ibuf, cap);
		if (b == NULL)
			return SKT_ENOMEM;
		s->ibuf = b;
		s->icap = cap;
	}
	memcpy(s->ibuf, p, n);
	s->ipos = 0;
	s->ilen = n;
	return 0;
}

/* One read from the socket (or, through TLS, from the session). A short
 * read emptied the socket: a later arrival raises a new edge - except
 * after the peer's FIN, when only the end of stream ends reading. */
static ssize_t sock_recv(skt_stream *s, uint8_t *dst, size_t cap)
{
	if (s->tls != NULL)
		return skt__tls_recv(s, dst, cap);
	ssize_t n;
	do
		n = recv(s->w.fd, dst, cap, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? SKT_EAGAIN : -errno;
	if (n > 0 && (size_t)n < cap && !(s->flags & SF_RDHUP))
		s->flags &= ~SF_RD_READY;
	return n;
}

/* One recv: into the shared buffer (then served from there) when nothing
 * is buffered, else onto the end of ibuf. Returns > 0, 0 at end of stream,
 * SKT_EAGAIN, or an error. */
static ssize_t recv_some(skt_stream *s)
{
	skt_loop *l = s->loop;
	bool shared = s->ilen == 0;
	uint8_t *dst = l->rbuf;
	size_t cap = SKT__RBUF_SIZE;
	if (!shared) {
		cap = room(s);
		if (cap == 0)
			return SKT_ENOMEM;
		dst = s->ibuf + s->ipos + s->ilen;
	}
	ssize_t n = sock_recv(s, dst, cap);
	if (n <= 0)
		return n;
	s->active = l->now;
	if (!shared) {
		s->ilen += (size_t)n;
		return n;
	}
	size_t used;
	serve(s, dst, (size_t)n, &used);
	if (used < (size_t)n && s->state == ST_OPEN) {
		int r = keep(s, dst + used, (size_t)n - used);
		if (r < 0)
			return r;
	}
	return n;
}

void skt__stream_read(skt_stream *s)
{
	int budget = READS_PER_WAKE;
	s->flags |= SF_IN_READ;
	while (skt__stream_reading(s)) {
		if (budget-- == 0) {
			skt__stream_kick(s); /* go on next iteration */
			break;
		}
		if (s->ilen > 0) {
			size_t used;
			bool need = serve(s, s->ibuf + s->ipos, s->ilen, &used);
			consume(s, used);
			if (!need)
				continue;
		}
		if (s->flags & SF_EOF) {
			serve_eof(s);
			continue;
		}
		if (!(s->flags & SF_RD_READY))
			break;
		ssize_t n = recv_some(s);
		if (n == 0 || n == SKT_ETRUNCATED) {
			s->flags |= SF_EOF;
			s->flags &= ~SF_RD_READY;
			s->end_err = (int)n;
		} else if (n == SKT_EAGAIN) {
			s->flags &= ~SF_RD_READY;
			break;
		} else if (n < 0) {
			skt__stream_fail(s, (int)n);
			break;
		}
	}
	s->flags &= ~SF_IN_READ;
	skt__stream_interest(s);
}

/* ---- Asking for reads ---- */

static int begin(skt_stream *s, int mode, skt_read_cb cb)
{
	if (cb == NULL)
		return SKT_EINVAL;
	if (s->state == ST_CLOSED)
		return s->err != 0 ? s->err : SKT_ENOTCONN;
	if (s->state == ST_DRAINING || (s->flags & SF_FREED))
		return SKT_ENOTCONN;
	if (s->rd_mode != RD_NONE &&
	    !(mode == RD_CHUNK && s->rd_mode == RD_CHUNK))
		return SKT_EBUSY;
	s->rd_mode = (uint8_t)mode;
	s->rd_cb = cb;
	s->scanned = 0;
	/* Inside this stream's own read the loop above picks it up. */
	if (s->flags & SF_IN_READ)
		return 0;
	if (s->ilen > 0 || (s->flags & (SF_EOF | SF_RD_READY)))
		skt__stream_kick(s);
	skt__stream_interest(s);
	return 0;
}

int skt_stream_read_start(skt_stream *s, skt_read_cb cb)
{
	return begin(s, RD_CHUNK, cb);
}

int skt_stream_read_stop(skt_stream *s)
{
	s->rd_mode = RD_NONE;
	if (!(s->flags & SF_IN_READ) && s->state != ST_CLOSED)
		skt__stream_interest(s);
	return 0;
}

int skt_stream_read_exact(skt_stream *s, size_t n, skt_read_cb cb)
{
	if (n == 0)
		return SKT_EINVAL;
	int r = begin(s, RD_EXACT, cb);
	if (r == 0)
		s->rd_n = n;
	return r;
}

int skt_stream_read_until(skt_stream *s, const void *delim, size_t dlen,
			  size_t max, skt_read_cb cb)
{
	if (delim == NULL || dlen == 0 || dlen > sizeof(s->delim))
		return SKT_EINVAL;
	int r = begin(s, RD_UNTIL, cb);
	if (r < 0)
		return r;
	memcpy(s->delim, delim, dlen);
	s->dlen = (uint8_t)dlen;
	s->rd_n = max != 0 ? max : SKT_LINE_MAX_DEFAULT;
	return 0;
}

int skt_stream_read_line(skt_stream *s, size_t max, skt_read_cb cb)
{
	return skt_stream_read_until(s, "\n", 1, max, cb);
}

int skt_stream_read_frame(skt_stream *s, size_t max, skt_read_cb cb)
{
	int r = begin(s, RD_FRAME, cb);
	if (r < 0)
		return r;
	if (max == 0)
		max = SKT_FRAME_MAX_DEFAULT;
	s->rd_n = max > UINT32_MAX ? UINT32_MAX : max;
	return 0;
}

size_t skt_stream_buffered(const skt_stream *s)
{
	/* Inside a read callback the bytes being served are not consumed
	 * yet (they may sit in the shared buffer): count what follows. */
	return (s->flags & SF_IN_SERVE) ? s->view_rest : s->ilen;
}
