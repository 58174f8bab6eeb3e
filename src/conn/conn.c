/* conn.c - a buffered stream connection (conn.h).
 *
 * The receive buffer holds the unread bytes in buf[rpos, wpos). A refill is
 * one recv() of all the free space, after sliding the unread bytes to the
 * front (as Go's bufio.Reader.fill does), so a line protocol costs one
 * syscall per buffer-full. The buffer starts at bufsize and grows only when
 * a read-until or read-frame needs more than fits, doubling up to that
 * call's max, and only when it is full of bytes that really arrived.
 *
 * Every error leaves the buffered bytes where they were: a caller can
 * retry after SKT_ETIMEDOUT, or read the tail with skt_conn_read after
 * SKT_ETOOBIG or SKT_EPARTIAL.
 *
 * Timeouts: each skt_conn_* call takes one deadline at entry from the
 * connection's timeout, and every refill within the call waits only for
 * what is left of it.
 */
#include "sockit/conn.h"
#include "conn/conn_int.h"
#include "sockit/frame.h"
#include "sockit/sock.h"

#include <poll.h>
#include <string.h>

struct skt_conn {
	int fd;         /* -1 once closed */
	int timeout_ms; /* SKT_TIMEOUT_NONE, 0, or milliseconds */
	uint8_t *buf;
	size_t cap;
	size_t rpos;            /* first unread byte */
	size_t wpos;            /* end of the received bytes */
	const skt__conn_tx *tx; /* NULL: the plain socket */
	void *tx_arg;
};

void skt__conn_set_tx(skt_conn *c, const skt__conn_tx *tx, void *arg)
{
	c->tx = tx;
	c->tx_arg = arg;
}

void *skt__conn_tx_arg(const skt_conn *c, const skt__conn_tx *tx)
{
	return c->tx == tx ? c->tx_arg : NULL;
}

/* One receive, through the transport when there is one. */
static ssize_t recv_by(skt_conn *c, void *buf, size_t cap, int64_t deadline)
{
	if (c->tx != NULL)
		return c->tx->recv(c->tx_arg, buf, cap, deadline);
	return skt__recv_by(c->fd, buf, cap, 0, deadline);
}

int skt_conn_new(skt_conn **out, int fd, size_t bufsize)
{
	*out = NULL;
	if (fd < 0)
		return SKT_EBADF;
	if (bufsize == 0)
		bufsize = SKT_CONN_BUF_DEFAULT;
	skt_conn *c = skt_malloc(sizeof(*c));
	if (c == NULL)
		return SKT_ENOMEM;
	c->buf = skt_malloc(bufsize);
	if (c->buf == NULL) {
		skt_free(c);
		return SKT_ENOMEM;
	}
	c->fd = fd;
	c->timeout_ms = SKT_TIMEOUT_NONE;
	c->cap = bufsize;
	c->rpos = 0;
	c->wpos = 0;
	c->tx = NULL;
	c->tx_arg = NULL;
	*out = c;
	return 0;
}

int skt_conn_close(skt_conn *c)
{
	if (c->fd < 0)
		return 0;
	if (c->tx != NULL) {
		c->tx->close(c->tx_arg);
		c->tx = NULL;
		c->tx_arg = NULL;
	}
	int rc = skt_close(c->fd);
	c->fd = -1;
	return rc;
}

void skt_conn_free(skt_conn *c)
{
	if (c == NULL)
		return;
	skt_conn_close(c);
	skt_free(c->buf);
	skt_free(c);
}

int skt_conn_fd(const skt_conn *c)
{
	return c->fd;
}

void skt_conn_set_timeout(skt_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms < 0 ? SKT_TIMEOUT_NONE : timeout_ms;
}

int skt_conn_timeout(const skt_conn *c)
{
	return c->timeout_ms;
}

size_t skt_conn_buffered(const skt_conn *c)
{
	return c->wpos - c->rpos;
}

/* ---- The receive buffer ---- */

/* Take n buffered bytes; an empty buffer restarts at the front for free. */
static void consume(skt_conn *c, size_t n)
{
	c->rpos += n;
	if (c->rpos == c->wpos)
		c->rpos = c->wpos = 0;
}

/* One recv() into the free space, first making some: slide the unread
 * bytes to the front, and when they fill the buffer double it, but never
 * beyond limit (the caller asks only when it needs more than is
 * buffered, and limit > buffered). Returns the bytes received, 0 at end of
 * stream, or an error; the buffered bytes are untouched on error. */
static ssize_t refill(skt_conn *c, size_t limit, int64_t deadline)
{
	size_t held = c->wpos - c->rpos;
	if (c->rpos > 0) {
		memmove(c->buf, c->buf + c->rpos, held);
		c->rpos = 0;
		c->wpos = held;
	}
	if (c->wpos == c->cap) {
		size_t ncap = c->cap > limit / 2 ? limit : c->cap * 2;
		if (ncap <= c->cap)
			return SKT_ETOOBIG; /* only reached if limit <= held */
		uint8_t *p = skt_realloc(c->buf, ncap);
		if (p == NULL)
			return SKT_ENOMEM;
		c->buf = p;
		c->cap = ncap;
	}
	ssize_t n = recv_by(c, c->buf + c->wpos, c->cap - c->wpos, deadline);
	if (n > 0)
		c->wpos += (size_t)n;
	return n;
}

/* Refill until need bytes are buffered, growing the buffer to need at
 * most. Returns 0, SKT_EOF (end with nothing buffered), SKT_EPARTIAL (end
 * with a partial tail, kept), or an error. */
static int fill_to(skt_conn *c, size_t need, int64_t deadline)
{
	while (c->wpos - c->rpos < need) {
		ssize_t n = refill(c, need, deadline);
		if (n == 0)
			return c->wpos == c->rpos ? SKT_EOF : SKT_EPARTIAL;
		if (n < 0)
			return (int)n;
	}
	return 0;
}

/* ---- Reading ---- */

ssize_t skt_conn_read(skt_conn *c, void *buf, size_t cap)
{
	int64_t deadline = skt__deadline(c->timeout_ms);
	size_t held = c->wpos - c->rpos;
	if (cap == 0)
		return 0;
	if (held == 0) {
		/* A large read goes straight to the caller: buffering it would
		 * only add a copy. A small one fills the buffer, so the next
		 * small reads cost no syscall. */
		if (cap >= c->cap)
			return recv_by(c, buf, cap, deadline);
		ssize_t n = refill(c, c->cap, deadline);
		if (n <= 0)
			return n;
		held = (size_t)n;
	}
	size_t n = held < cap ? held : cap;
	memcpy(buf, c->buf + c->rpos, n);
	consume(c, n);
	return (ssize_t)n;
}

ssize_t skt_conn_read_exact(skt_conn *c, void *buf, size_t n, size_t *got)
{
	int64_t deadline = skt__deadline(c->timeout_ms);
	uint8_t *out = buf;
	size_t have = 0;
	ssize_t r = 0;

	while (have < n) {
		size_t held = c->wpos - c->rpos;
		if (held > 0) {
			size_t k = held < n - have ? held : n - have;
			memcpy(out + have, c->buf + c->rpos, k);
			consume(c, k);
			have += k;
			continue;
		}
		/* Same choice as skt_conn_read: big remainders bypass the
		 * buffer, small ones refill it (and the loop copies). */
		if (n - have >= c->cap) {
			r = recv_by(c, out + have, n - have, deadline);
			if (r > 0)
				have += (size_t)r;
		} else {
			r = refill(c, c->cap, deadline);
		}
		if (r <= 0)
			break;
	}
	if (got != NULL)
		*got = have;
	if (have == n)
		return (ssize_t)n;
	if (r == 0)
		return have == 0 ? SKT_EOF : SKT_EPARTIAL;
	return r;
}

/* Where delim first occurs in the dlen..n bytes at p, or NULL. */
static const uint8_t *find(const uint8_t *p, size_t n, const uint8_t *delim,
			   size_t dlen)
{
	if (dlen == 1)
		return memchr(p, delim[0], n);
	return memmem(p, n, delim, dlen);
}

ssize_t skt_conn_read_until(skt_conn *c, const void *delim, size_t dlen,
			    size_t max, const uint8_t **out)
{
	int64_t deadline = skt__deadline(c->timeout_ms);
	size_t scanned = 0; /* leading bytes known to hold no delim */

	*out = NULL;
	if (dlen == 0 || dlen > 16 || delim == NULL)
		return SKT_EINVAL;
	if (max == 0)
		max = SKT_LINE_MAX_DEFAULT;
	for (;;) {
		size_t held = c->wpos - c->rpos;
		size_t lim = held < max ? held : max;
		/* Search only the new bytes, plus dlen - 1 before them in case
		 * a delimiter straddles the old and new bytes: linear overall,
		 * however many refills a long line takes. */
		size_t from = scanned > dlen - 1 ? scanned - (dlen - 1) : 0;
		const uint8_t *base = c->buf + c->rpos;
		const uint8_t *hit = find(base + from, lim - from, delim, dlen);
		if (hit != NULL) {
			size_t len = (size_t)(hit - base) + dlen;
			*out = base;
			consume(c, len);
			return (ssize_t)len;
		}
		scanned = lim;
		if (held >= max)
			return SKT_ETOOBIG; /* bytes stay buffered */
		ssize_t n = refill(c, max, deadline);
		if (n == 0)
			return held == 0 ? SKT_EOF : SKT_EPARTIAL;
		if (n < 0)
			return n;
	}
}

ssize_t skt_conn_read_line(skt_conn *c, size_t max, const uint8_t **out)
{
	return skt_conn_read_until(c, "\n", 1, max, out);
}

ssize_t skt_conn_read_frame(skt_conn *c, size_t max, const uint8_t **msg)
{
	int64_t deadline = skt__deadline(c->timeout_ms);
	uint8_t check[SKT_FRAME_HEADER];

	*msg = NULL;
	int rc = fill_to(c, SKT_FRAME_HEADER, deadline);
	if (rc < 0)
		return rc;
	const uint8_t *h = c->buf + c->rpos;
	size_t want = (size_t)h[0] << 24 | (size_t)h[1] << 16 |
		      (size_t)h[2] << 8 | (size_t)h[3];
	/* skt_frame_header applies frame.h's limit rules (0 is the default,
	 * above 32 bits clamps); the header stays buffered on SKT_ETOOBIG. */
	if (skt_frame_header(check, want, max) < 0)
		return SKT_ETOOBIG;
	size_t total = SKT_FRAME_HEADER + want;
	rc = fill_to(c, total, deadline);
	if (rc < 0)
		return rc; /* the header is buffered: EPARTIAL, never EOF */
	*msg = c->buf + c->rpos + SKT_FRAME_HEADER;
	consume(c, total);
	return (ssize_t)want;
}

int skt_conn_write_all(skt_conn *c, const void *buf, size_t len)
{
	if (c->fd < 0)
		return SKT_EBADF;
	if (c->tx != NULL)
		return c->tx->send_all(c->tx_arg, buf, len,
				       skt__deadline(c->timeout_ms), NULL);
	return skt_send_all(c->fd, buf, len, c->timeout_ms, NULL);
}

int skt_conn_write_frame(skt_conn *c, const void *msg, size_t len, size_t max)
{
	if (c->tx == NULL)
		return skt_frame_send(c->fd, msg, len, max, c->timeout_ms);
	uint8_t hdr[SKT_FRAME_HEADER];
	int rc = skt_frame_header(hdr, len, max);
	if (rc < 0)
		return rc;
	/* One deadline for header and payload, as skt_frame_send. */
	int64_t deadline = skt__deadline(c->timeout_ms);
	rc = c->tx->send_all(c->tx_arg, hdr, sizeof(hdr), deadline, NULL);
	if (rc == 0 && len > 0)
		rc = c->tx->send_all(c->tx_arg, msg, len, deadline, NULL);
	return rc;
}

int skt_conn_shutdown_write(skt_conn *c)
{
	if (c->fd < 0)
		return SKT_EBADF;
	if (c->tx != NULL)
		return c->tx->shutdown(c->tx_arg, skt__deadline(c->timeout_ms));
	return skt_shutdown_write(c->fd);
}
