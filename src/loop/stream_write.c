/* stream_write.c - the writing half of a stream: the queue, writev,
 * flush callbacks, water marks and half-close.
 *
 * A write goes to the kernel at once when nothing is queued (one send, or
 * one sendmsg for several buffers); only what the kernel did not take is
 * copied into the queue, a ring whose capacity is a power of two, so it
 * goes out later with one sendmsg of at most two pieces and never needs
 * compacting. A stream whose writes always go through whole (an echo in
 * ping-pong) never allocates a queue. The queue is sent when the edge
 * watch reports the socket writable again.
 *
 * Flush callbacks are marks at byte counts of the output ("due when sent
 * reaches at"), kept in an array that is reused, so a flush costs no
 * allocation once the array has grown.
 *
 * Water marks. The queue's own state has hysteresis: SF_ABOVE is set by
 * the write that takes it past high (that write returns 1) and cleared
 * when it drains to low. What the user has heard is a second state: the
 * water callback says "above" and "below" strictly in turn, starting with
 * "above" (SF_TOLD_ABOVE: the last word was "above", so "below" is owed).
 * SF_ABOVE_DUE links the two: the queue went above and the callback has
 * not said so yet. "above" cannot run inside the write (user calls never
 * run user callbacks), so it waits for the stream's task, and the queue
 * may drain before that - the kernel takes all of it at a writable event
 * of the same iteration. The user already saw the write return 1 and
 * waits for "below", so such an episode is not dropped: "above" and
 * "below" then run back to back.
 */
#include "loop/stream_int.h"
#include "sockit/frame.h"

#include <errno.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

void skt__stream_fire_marks(skt_stream *s)
{
	s->flags &= ~SF_MARKS_DUE;
	while (s->mhead < s->nmarks && s->marks[s->mhead].at <= s->sent &&
	       !(s->flags & SF_FREED) && s->state != ST_CLOSED) {
		skt_stream_cb cb = s->marks[s->mhead++].cb;
		cb(s, 0);
	}
	if (s->mhead == s->nmarks)
		s->mhead = s->nmarks = 0;
}

/* The queue just emptied: what waited for that. Runs inside the loop's
 * dispatch of s (refs held), so callbacks may run here. */
static void drained(skt_stream *s)
{
	s->ohead = 0;
	/* A burst is over: give the ring back. A plain stream queues only
	 * what the kernel would not take, a TLS stream stages each write
	 * here for SSL_write; either way an idle stream holds no buffer
	 * (4 KiB of every idle TLS connection otherwise). */
	if (s->obuf != NULL) {
		skt_free(s->obuf);
		s->obuf = NULL;
		s->ocap = 0;
	}
	if (s->state == ST_DRAINING) {
		/* TLS: close_notify first, waiting for room if need be; an
		 * error only means the peer will not hear it. */
		if (s->tls != NULL && skt__tls_close_notify(s) == 0)
			return;
		skt__stream_close_fd(s, false);
		return;
	}
	if ((s->flags & SF_SHUT_WANT) && !(s->flags & SF_SHUT_DONE)) {
		int r = 0;
		if (s->tls != NULL)
			r = skt__tls_close_notify(s);
		else if (shutdown(s->w.fd, SHUT_WR) < 0)
			r = -errno;
		if (r == 0 && s->tls != NULL)
			return; /* waits for the socket */
		s->flags |= SF_SHUT_DONE;
		if (r < 0)
			skt__stream_fail(s, r);
	}
}

/* Send queued bytes until the queue empties or the kernel is full. */
static void send_queue(skt_stream *s)
{
	while (s->olen > 0) {
		size_t first = s->ocap - s->ohead;
		struct iovec iov[2] = {{s->obuf + s->ohead, first},
				       {s->obuf, s->olen - first}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		if (first >= s->olen) {
			iov[0].iov_len = s->olen;
			mh.msg_iovlen = 1;
		}
		/* A file part follows: the bytes wait for it (a response head
		 * leaves with the file's first bytes, TCP_CORK's per-send
		 * form). */
		int more = s->fleft > 0 ? MSG_MORE : 0;
		ssize_t n = sendmsg(s->w.fd, &mh,
				    MSG_NOSIGNAL | MSG_DONTWAIT | more);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				skt__stream_fail(s, -errno);
			break;
		}
		s->ohead = (s->ohead + (size_t)n) & (s->ocap - 1);
		s->olen -= (size_t)n;
		s->sent += (size_t)n;
		s->active = s->loop->now;
	}
}

/* Send what is queued (through TLS: records, after the handshake), then
 * run what the progress made due. Runs inside the loop's dispatch of s
 * (refs held): callbacks may run here and may close or free s. */
static void send_file(skt_stream *s);

void skt__stream_flush(skt_stream *s)
{
	if (s->tls == NULL) {
		send_queue(s);
	} else {
		skt__tls_send_queue(s);
		/* Still shaking hands: nothing was sent, nothing is due. */
		if ((s->flags & SF_HANDSHAKE) && s->state != ST_CLOSED) {
			skt__stream_interest(s);
			return;
		}
	}
	if (s->state != ST_CLOSED && s->olen == 0 && s->fleft > 0)
		send_file(s);
	if (s->state == ST_CLOSED)
		return;
	skt__stream_fire_marks(s);
	if (s->state == ST_CLOSED)
		return;
	skt__stream_water(s);
	if (s->state != ST_CLOSED && !skt__stream_has_out(s))
		drained(s);
	skt__stream_interest(s);
}

/* Room for extra more bytes in the ring (power-of-two capacity). */
static int reserve(skt_stream *s, size_t extra)
{
	if (extra > SIZE_MAX / 4 - s->olen)
		return SKT_ENOMEM;
	if (s->olen + extra <= s->ocap)
		return 0;
	size_t cap = s->ocap < 4096 ? 4096 : s->ocap;
	while (cap < s->olen + extra)
		cap *= 2;
	uint8_t *b = skt_malloc(cap);
	if (b == NULL)
		return SKT_ENOMEM;
	size_t first = s->ocap - s->ohead;
	if (first >= s->olen) {
		if (s->olen > 0)
			memcpy(b, s->obuf + s->ohead, s->olen);
	} else {
		memcpy(b, s->obuf + s->ohead, first);
		memcpy(b + first, s->obuf, s->olen - first);
	}
	skt_free(s->obuf);
	s->obuf = b;
	s->ocap = cap;
	s->ohead = 0;
	return 0;
}

static void put(skt_stream *s, const uint8_t *p, size_t n)
{
	size_t tail = (s->ohead + s->olen) & (s->ocap - 1);
	size_t first = s->ocap - tail < n ? s->ocap - tail : n;
	memcpy(s->obuf + tail, p, first);
	memcpy(s->obuf, p + first, n - first);
	s->olen += n;
}

static int write_check(const skt_stream *s)
{
	if (s->state == ST_CLOSED)
		return s->err != 0 ? s->err : SKT_EPIPE;
	if (s->state == ST_DRAINING ||
	    (s->flags & (SF_SHUT_WANT | SF_FREED | SF_CLOSE_WANT)))
		return SKT_EPIPE;
	return s->fleft > 0 ? SKT_EBUSY : 0;
}

/* The water callback runs only while there is a producer to pause or
 * resume: after close, shutdown or free, writes fail anyway. */
static bool water_open(const skt_stream *s)
{
	return s->water_cb != NULL && write_check(s) == 0;
}

/* Tell the water callback what it owes: "above" when the queue went past
 * high unheard, then "below" when "above" was said and the queue is at or
 * under low now. Runs inside the loop's dispatch of s (refs held): the
 * callback may write, close or free s. */
void skt__stream_water(skt_stream *s)
{
	if ((s->flags & SF_ABOVE) && s->olen <= s->low)
		s->flags &= ~SF_ABOVE;
	if (!water_open(s)) {
		/* An episode that passed with nobody to tell is over. */
		if (!(s->flags & SF_ABOVE))
			s->flags &= ~SF_ABOVE_DUE;
		return;
	}
	if (s->flags & SF_ABOVE_DUE) {
		s->flags = (s->flags & ~SF_ABOVE_DUE) | SF_TOLD_ABOVE;
		s->water_cb(s, true);
		if (!water_open(s))
			return;
	}
	/* Not while a write inside "above" keeps the queue past low: the
	 * flush that drains it comes back here. */
	if ((s->flags & SF_TOLD_ABOVE) && !(s->flags & SF_ABOVE) &&
	    s->olen <= s->low) {
		s->flags &= ~SF_TOLD_ABOVE;
		s->water_cb(s, false);
	}
}

/* The kernel's share, when the queue is empty: one send or sendmsg. */
static ssize_t send_now(skt_stream *s, const struct iovec *iov, int cnt)
{
	ssize_t n;
	do {
		if (cnt == 1) {
			n = send(s->w.fd, iov[0].iov_base, iov[0].iov_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			struct msghdr mh = {.msg_iov = (struct iovec *)iov,
					    .msg_iovlen = (size_t)cnt};
			n = sendmsg(s->w.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

/* Queue iov[] from byte skip on. */
static int enqueue(skt_stream *s, const struct iovec *iov, int cnt,
		   size_t total, size_t skip)
{
	if (reserve(s, total - skip) < 0)
		return SKT_ENOMEM;
	for (int i = 0; i < cnt; i++) {
		size_t len = iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		put(s, (const uint8_t *)iov[i].iov_base + skip, len - skip);
		skip = 0;
	}
	return 0;
}

int skt_stream_writev(skt_stream *s, const struct iovec *iov, int iovcnt)
{
	int r = write_check(s);
	if (r < 0)
		return r;
	if (iovcnt < 0 || iovcnt > 1024 || (iovcnt > 0 && iov == NULL))
		return SKT_EINVAL;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX / 4 - total)
			return SKT_EINVAL;
		total += iov[i].iov_len;
	}
	if (total == 0)
		return s->flags & SF_ABOVE ? 1 : 0;
	size_t done = 0;
	/* TLS never writes here: the stream's task sends what the iteration
	 * wrote, together (stream_tls.c). */
	if (s->olen == 0 && s->state == ST_OPEN && s->tls == NULL) {
		ssize_t n = send_now(s, iov, iovcnt);
		if (n < 0) {
			skt__stream_fail(s, (int)n);
			return (int)n;
		}
		done = (size_t)n;
		s->sent += done;
		s->out += done;
		s->active = s->loop->now;
		if (done == total)
			return s->flags & SF_ABOVE ? 1 : 0;
	}
	if (enqueue(s, iov, iovcnt, total, done) < 0) {
		/* Part of a message went out: the byte stream is broken. */
		if (done > 0)
			skt__stream_fail(s, SKT_ENOMEM);
		return SKT_ENOMEM;
	}
	s->out += total - done;
	if (s->tls != NULL)
		skt__stream_kick(s);
	skt__stream_interest(s);
	if (!(s->flags & SF_ABOVE) && s->olen > s->high) {
		s->flags |= SF_ABOVE;
		/* Inside "above" (its "below" still owed) the user already
		 * holds back: nothing new to say. */
		if (!(s->flags & SF_TOLD_ABOVE)) {
			s->flags |= SF_ABOVE_DUE;
			if (s->water_cb != NULL)
				skt__stream_kick(s);
		}
	}
	return s->flags & SF_ABOVE ? 1 : 0;
}

int skt_stream_write(skt_stream *s, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};
	return skt_stream_writev(s, &iov, 1);
}

int skt_stream_write_frame(skt_stream *s, const void *msg, size_t len,
			   size_t max)
{
	uint8_t hdr[SKT_FRAME_HEADER];
	int r = skt_frame_header(hdr, len, max);
	if (r < 0)
		return r;
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)msg, len}};
	return skt_stream_writev(s, iov, 2);
}

int skt_stream_flush(skt_stream *s, skt_stream_cb cb)
{
	int r = write_check(s);
	if (r < 0 && r != SKT_EBUSY &&
	    !(s->state == ST_OPEN && (s->flags & SF_SHUT_WANT)))
		return r;
	if (cb == NULL)
		return SKT_EINVAL;
	if (s->nmarks == s->capmarks) {
		size_t ncap = s->capmarks < 4 ? 4 : s->capmarks * 2;
		struct mark *m = skt_realloc(s->marks, ncap * sizeof(*m));
		if (m == NULL)
			return SKT_ENOMEM;
		s->marks = m;
		s->capmarks = ncap;
	}
	s->marks[s->nmarks].at = s->out;
	s->marks[s->nmarks++].cb = cb;
	if (s->olen == 0) {
		s->flags |= SF_MARKS_DUE;
		skt__stream_kick(s);
	}
	return 0;
}

size_t skt_stream_queued(const skt_stream *s)
{
	return s->olen;
}

int skt_stream_set_water(skt_stream *s, size_t low, size_t high,
			 skt_water_cb cb)
{
	if (low == 0 && high == 0) {
		low = SKT_WATER_LOW_DEFAULT;
		high = SKT_WATER_HIGH_DEFAULT;
	}
	if (low > high)
		return SKT_EINVAL;
	s->low = low;
	s->high = high;
	s->water_cb = cb;
	/* A word still owed goes to the new callback. */
	if (water_open(s) && (s->flags & (SF_ABOVE_DUE | SF_TOLD_ABOVE)))
		skt__stream_kick(s);
	return 0;
}

int skt_stream_shutdown(skt_stream *s)
{
	if (s->state == ST_CLOSED)
		return s->err != 0 ? s->err : SKT_ENOTCONN;
	if (s->state == ST_DRAINING || (s->flags & SF_SHUT_WANT))
		return 0;
	s->flags |= SF_SHUT_WANT;
	if (s->tls != NULL) {
		skt__stream_kick(s); /* close_notify, from the task */
		return 0;
	}
	if (!skt__stream_has_out(s) && s->state == ST_OPEN) {
		s->flags |= SF_SHUT_DONE;
		if (shutdown(s->w.fd, SHUT_WR) < 0)
			return -errno;
	}
	return 0;
}

/* ---- Files ----
 *
 * The file part goes out after the queue, from the kernel's page cache
 * to the socket: sendfile(2) on a plain stream, SSL_sendfile when kernel
 * TLS sends the records, else read into the queue a piece at a time and
 * sent as records. Each turn sends at most fchunk bytes of it and leaves
 * the rest to the stream's task, queued behind the work already queued
 * (nginx's sendfile_max_chunk), so a client on a fast link cannot keep its
 * worker from the others; a full socket waits for the writable edge
 * instead. */

/* A piece of the file through the queue, for TLS without kTLS: the
 * records are made from it as from written bytes. Returns the bytes
 * queued or an error. */
static ssize_t file_copy(skt_stream *s, size_t want)
{
	size_t k =
		want < SKT_WATER_HIGH_DEFAULT ? want : SKT_WATER_HIGH_DEFAULT;
	if (reserve(s, k) < 0)
		return SKT_ENOMEM;
	s->ohead = 0; /* the queue is empty: the piece is contiguous */
	ssize_t n;
	do
		n = pread(s->ffd, s->obuf, k, (off_t)s->foff);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return SKT_EPARTIAL; /* the file is shorter than it was */
	s->olen = (size_t)n;
	return n;
}

static void send_file(skt_stream *s)
{
	size_t budget = s->fchunk;
	while (s->fleft > 0 && budget > 0 && s->olen == 0 &&
	       s->state != ST_CLOSED) {
		size_t want = s->fleft < budget ? (size_t)s->fleft : budget;
		ssize_t n;
		bool copied = false;
		if (s->tls == NULL) {
			off_t off = (off_t)s->foff;
			n = sendfile(s->w.fd, s->ffd, &off, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				s->flags |= SF_FILE_WAIT;
				return;
			}
			n = n < 0 ? -errno : n == 0 ? SKT_EPARTIAL : n;
		} else {
			if (s->tls->wait_w != 0)
				return;
			n = skt__tls_sendfile(s, s->ffd, s->foff, want);
			if (n == SKT_EAGAIN)
				return;
			if (n == SKT_EOPNOTSUPP) {
				n = file_copy(s, want);
				copied = true;
			}
		}
		if (n < 0) {
			skt__stream_fail(s, (int)n);
			return;
		}
		s->foff += n;
		s->fleft -= (uint64_t)n;
		budget -= (size_t)n;
		if (copied) {
			skt__tls_send_queue(s); /* counts sent itself */
		} else {
			s->sent += (uint64_t)n;
			s->active = s->loop->now;
		}
	}
	if (s->fleft == 0)
		s->ffd = -1;
	else if (budget == 0 && s->state != ST_CLOSED)
		skt__stream_kick(s); /* the next turn */
}

int skt_stream_sendfile(skt_stream *s, const void *head, size_t hlen, int fd,
			int64_t off, uint64_t len, size_t chunk)
{
	int r = write_check(s);
	if (r < 0)
		return r;
	if (fd < 0 || off < 0 || (hlen > 0 && head == NULL) ||
	    len > (uint64_t)INT64_MAX - (uint64_t)off)
		return SKT_EINVAL;
	if (len == 0)
		return hlen > 0 ? skt_stream_write(s, head, hlen) : 0;
	size_t done = 0;
	if (hlen > 0 && s->olen == 0 && s->state == ST_OPEN && s->tls == NULL) {
		ssize_t n;
		do
			n = send(s->w.fd, head, hlen,
				 MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			skt__stream_fail(s, -errno);
			return -errno;
		}
		done = n > 0 ? (size_t)n : 0;
		s->sent += done;
		s->active = s->loop->now;
	}
	if (hlen > done) {
		struct iovec iov = {(void *)head, hlen};
		if (enqueue(s, &iov, 1, hlen, done) < 0) {
			if (done > 0)
				skt__stream_fail(s, SKT_ENOMEM);
			return SKT_ENOMEM;
		}
	}
	s->out += hlen + len;
	s->ffd = fd;
	s->foff = off;
	s->fleft = len;
	s->fchunk = chunk > 0 ? chunk : SKT_STREAM_FILE_CHUNK;
	s->flags &= ~SF_FILE_WAIT;
	/* Plain and nothing ahead of it: the first turn now (the head is
	 * corked until it), as a write sends at once. */
	if (s->tls == NULL && s->olen == 0 && s->state == ST_OPEN)
		send_file(s);
	else
		skt__stream_kick(s);
	if (s->state == ST_CLOSED) /* the first turn failed: fd is free */
		return s->err;
	skt__stream_interest(s);
	return 0;
}

bool skt_stream_sending_file(const skt_stream *s)
{
	return s->fleft > 0;
}
