/* stream.c - the life of a stream: make, connect, dispatch, close, abort,
 * free, timeouts. Reading is in stream_read.c, writing in stream_write.c.
 *
 * States (stream.h): CONNECTING -> OPEN -> DRAINING -> CLOSED, or straight
 * to CLOSED on abort, error or timeout. The memory is the user's until
 * skt_stream_free (SF_FREED) and is released when, in addition, the
 * stream is CLOSED and no callback of the loop into it is running
 * (refs == 0): freeing from inside a callback only marks it (redis ae's
 * callHandler refcount + deferred close).
 *
 * What may run when. User calls never run user callbacks; whatever they
 * make due (close notifications, flush callbacks on an empty queue, the
 * water callback, reads from buffered bytes) goes through the stream's
 * task, run by the loop at the next task phase.
 */
#include "loop/stream_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void stream_task(skt_loop *l, skt__task *t);

/* ---- Release ---- */

static void release(skt_stream *s)
{
	skt__task_cancel(&s->task);
	skt__timer_fini(&s->tm);
	skt__stream_buf_free(s);
	skt_free(s->obuf);
	skt_free(s->marks);
	if (s->tls != NULL)
		skt__tls_release(s);
	skt__handle_del(&s->h);
	skt_free(s);
}

static bool releasable(const skt_stream *s)
{
	return s->refs == 0 && (s->flags & SF_FREED) && s->state == ST_CLOSED;
}

static void unref(skt_stream *s)
{
	if (--s->refs == 0 && releasable(s))
		release(s);
}

void skt__stream_kick(skt_stream *s)
{
	skt__task_queue(s->loop, &s->task);
}

/* Keep the backend's interest in step with what the stream wants (free
 * under epoll, where the watch is edge-triggered and registered for both
 * directions once; the poll backend needs it to avoid spinning). */
void skt__stream_interest(skt_stream *s)
{
	unsigned want = 0;
	if (s->state == ST_CLOSED)
		return;
	if (s->state == ST_CONNECTING)
		want = SKT_WRITABLE;
	if (skt__stream_reading(s) && !(s->flags & SF_EOF))
		want |= SKT_READABLE;
	if (skt__stream_has_out(s) && s->state != ST_CONNECTING)
		want |= SKT_WRITABLE;
	if (s->tls != NULL && s->state != ST_CONNECTING)
		want = skt__tls_interest(s, want);
	if (want != s->w.want && skt__watch_set(s->loop, &s->w, want) < 0)
		skt__stream_fail(s, SKT_ENOMEM);
}

/* ---- Closing ---- */

void skt__stream_close_fd(skt_stream *s, bool reset)
{
	if (reset) {
		struct linger lg = {1, 0};
		setsockopt(s->w.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	skt_timer_stop(&s->tm);
	skt__watch_remove(s->loop, &s->w);
	close(s->w.fd);
	s->w.fd = -1;
	if (s->state == ST_CONNECTING)
		s->flags |= SF_WAS_CONN;
	s->state = ST_CLOSED;
	s->loop->alive--;
	s->olen = 0;
	s->ohead = 0;
	s->fleft = 0; /* the file is the caller's again */
	s->ffd = -1;
	if (!(s->flags & SF_FREED)) {
		s->flags |= SF_NOTIFY;
		skt__stream_kick(s);
	}
}

void skt__stream_fail(skt_stream *s, int err)
{
	if (s->state == ST_CLOSED)
		return;
	s->err = err;
	skt__stream_close_fd(s, false);
}

/* Tell the owner the stream closed: the connect callback if it was still
 * connecting, an active read when an error closed it, flush callbacks still
 * waiting, then on_close. Each may free s: stop as soon as one does. */
static void notify_closed(skt_stream *s)
{
	int err = s->err;
	s->flags &= ~SF_NOTIFY;
	if (s->flags & SF_WAS_CONN) {
		s->flags &= ~SF_WAS_CONN;
		skt_stream_cb cb = s->on_connect;
		s->on_connect = NULL;
		if (cb != NULL)
			cb(s, err != 0 ? err : SKT_ECANCELED);
	}
	if (s->on_tls != NULL && !(s->flags & SF_FREED)) {
		skt_stream_cb cb = s->on_tls; /* the handshake never ended */
		s->on_tls = NULL;
		cb(s, err != 0 ? err : SKT_ECANCELED);
	}
	if (err != 0 && s->rd_mode != RD_NONE && !(s->flags & SF_FREED)) {
		skt_read_cb cb = s->rd_cb;
		s->rd_mode = RD_NONE;
		cb(s, err, NULL, 0);
	}
	while (s->mhead < s->nmarks && !(s->flags & SF_FREED)) {
		skt_stream_cb cb = s->marks[s->mhead++].cb;
		cb(s, err != 0 ? err : SKT_ECANCELED);
	}
	s->mhead = s->nmarks = 0;
	if (s->on_close != NULL && !(s->flags & SF_FREED)) {
		skt_stream_cb cb = s->on_close;
		s->on_close = NULL;
		cb(s, err);
	}
}

int skt_stream_close(skt_stream *s)
{
	if (s->state == ST_CLOSED)
		return s->err;
	if (s->state == ST_DRAINING)
		return 0;
	s->rd_mode = RD_NONE;
	/* A TLS session in use owes the peer a close_notify: sent by the
	 * task, like queued bytes. */
	bool notify = s->tls != NULL && s->state == ST_OPEN &&
		      !(s->flags & SF_HANDSHAKE);
	if (!skt__stream_has_out(s) && !notify) {
		skt__stream_close_fd(s, false);
		return 0;
	}
	if (s->state == ST_CONNECTING) {
		s->flags |= SF_CLOSE_WANT;
		return 0;
	}
	s->state = ST_DRAINING;
	skt__stream_interest(s);
	if (s->tls != NULL)
		skt__stream_kick(s);
	return 0;
}

int skt_stream_abort(skt_stream *s)
{
	if (s->state == ST_CLOSED)
		return s->err;
	s->rd_mode = RD_NONE;
	skt__stream_close_fd(s, true);
	return 0;
}

void skt_stream_free(skt_stream *s)
{
	if (s == NULL || (s->flags & SF_FREED))
		return;
	s->flags |= SF_FREED;
	s->flags &= ~SF_NOTIFY;
	s->rd_mode = RD_NONE;
	s->on_close = s->on_connect = s->on_tls = NULL;
	s->water_cb = NULL;
	s->mhead = s->nmarks = 0;
	if (s->state != ST_CLOSED)
		skt_stream_close(s);
	if (s->state == ST_CLOSED)
		skt__task_cancel(&s->task);
	if (releasable(s))
		release(s);
}

/* ---- Dispatch ---- */

static void connected(skt_stream *s, unsigned events)
{
	int err = skt_sock_error(s->w.fd);
	if (err == 0 && (events & SKT__ERR))
		err = SKT_ECONNREFUSED;
	if (err != 0) {
		skt__stream_fail(s, err);
		return;
	}
	int one = 1;
	setsockopt(s->w.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->state = (s->flags & SF_CLOSE_WANT) ? ST_DRAINING : ST_OPEN;
	s->active = s->loop->now;
	skt_stream_cb cb = s->on_connect;
	s->on_connect = NULL;
	if (cb != NULL)
		cb(s, 0);
	if (s->state == ST_OPEN || s->state == ST_DRAINING)
		skt__stream_flush(s); /* writes queued while connecting */
}

static void stream_io(skt_loop *l, skt__watch *w, unsigned events)
{
	skt_stream *s = SKT__CONTAINER(w, skt_stream, w);
	s->refs++;
	if (events & (SKT_READABLE | SKT__ERR))
		s->flags |= SF_RD_READY;
	if (events & SKT__RDHUP)
		s->flags |= SF_RDHUP;
	if (s->state == ST_CONNECTING) {
		if (events & (SKT_WRITABLE | SKT__ERR))
			connected(s, events);
	} else if (s->tls != NULL) {
		skt__tls_io(s, events);
	} else if (skt__stream_has_out(s) &&
		   (events & (SKT_WRITABLE | SKT__ERR))) {
		s->flags &= ~SF_FILE_WAIT;
		skt__stream_flush(s);
	}
	if (skt__stream_reading(s))
		skt__stream_read(s);
	else
		skt__stream_interest(s);
	unref(s);
}

static void stream_task(skt_loop *l, skt__task *t)
{
	skt_stream *s = SKT__CONTAINER(t, skt_stream, task);
	s->refs++;
	if (s->flags & SF_NOTIFY) {
		notify_closed(s);
	} else {
		if (s->tls != NULL)
			skt__tls_task(s);
		else if (s->fleft > 0 && !(s->flags & SF_FILE_WAIT) &&
			 (s->state == ST_OPEN || s->state == ST_DRAINING))
			skt__stream_flush(s); /* the file's next turn */
		if (s->flags & SF_MARKS_DUE)
			skt__stream_fire_marks(s);
		skt__stream_water(s);
		if (skt__stream_reading(s))
			skt__stream_read(s);
	}
	unref(s);
}

/* ---- Timeouts ---- */

static int64_t due_at(const skt_stream *s)
{
	if (s->flags & SF_HANDSHAKE) /* the others start after it */
		return s->tls->hs_deadline;
	int64_t due = 0;
	if (s->idle_ms > 0)
		due = s->active + s->idle_ms;
	if (s->deadline > 0 && (due == 0 || s->deadline < due))
		due = s->deadline;
	return due;
}

/* Fired at the earliest moment a timeout could be due; traffic since the
 * timer was armed moved the idle deadline on, so look again before
 * closing. */
static void on_timer(skt_timer *t, void *arg)
{
	skt_stream *s = arg;
	int64_t due = due_at(s);
	if (due == 0 || s->state == ST_CLOSED)
		return;
	if (due > s->loop->now) {
		skt__timer_start_at(&s->tm, due);
		return;
	}
	skt__stream_fail(s, SKT_ETIMEDOUT);
	if (releasable(s))
		release(s); /* freed and draining: nobody else will */
}

void skt__stream_timeouts_start(skt_stream *s)
{
	int64_t now = s->loop->now;
	s->active = now;
	s->deadline = s->total_ms > 0 ? now + s->total_ms : 0;
	int64_t due = due_at(s);
	if (due != 0 && s->state != ST_CLOSED)
		skt__timer_start_at(&s->tm, due);
	else
		skt_timer_stop(&s->tm);
}

int skt_stream_set_timeouts(skt_stream *s, int idle_ms, int total_ms)
{
	if (idle_ms < 0 || total_ms < 0)
		return SKT_EINVAL;
	s->idle_ms = idle_ms;
	s->total_ms = total_ms;
	if (!(s->flags & SF_HANDSHAKE)) /* else from the handshake's end */
		skt__stream_timeouts_start(s);
	return 0;
}

/* ---- Making ---- */

/* skt_loop_free, first pass: abort what is open, tell the owners. */
static void stream_cancel(skt__handle *h)
{
	skt_stream *s = SKT__CONTAINER(h, skt_stream, h);
	if (s->state != ST_CLOSED) {
		s->err = SKT_ECANCELED;
		skt__stream_close_fd(s, true);
	}
	if (!(s->flags & SF_NOTIFY))
		return;
	skt__task_cancel(&s->task);
	s->refs++;
	notify_closed(s);
	unref(s);
}

static void stream_destroy(skt__handle *h)
{
	skt_stream *s = SKT__CONTAINER(h, skt_stream, h);
	s->flags |= SF_FREED;
	if (s->state != ST_CLOSED)
		skt__stream_close_fd(s, true);
	release(s);
}

static int make(skt_loop *l, skt_stream **out, int fd, int state)
{
	skt_stream *s = skt_calloc(1, sizeof(*s));
	if (s == NULL)
		return SKT_ENOMEM;
	int r = skt__timer_init(l, &s->tm, on_timer, s, true);
	if (r < 0) {
		skt_free(s);
		return r;
	}
	skt__watch_init(&s->w, fd, true, stream_io);
	r = l->be->set(l, &s->w, state == ST_CONNECTING ? SKT_WRITABLE : 0);
	if (r < 0) {
		skt__timer_fini(&s->tm);
		skt_free(s);
		return r;
	}
	s->loop = l;
	s->state = (uint8_t)state;
	s->flags = SF_RD_READY; /* bytes may have come before we looked */
	s->ffd = -1;
	s->low = SKT_WATER_LOW_DEFAULT;
	s->high = SKT_WATER_HIGH_DEFAULT;
	s->active = l->now;
	s->task.fn = stream_task;
	s->h.destroy = stream_destroy;
	s->h.cancel = stream_cancel;
	skt__handle_add(l, &s->h);
	l->alive++;
	*out = s;
	return 0;
}

int skt__stream_adopt(skt_loop *l, skt_stream **out, int fd, bool connecting)
{
	int r = make(l, out, fd, connecting ? ST_CONNECTING : ST_OPEN);
	if (r == 0 && !connecting) {
		/* Fails harmlessly on a Unix socket. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return r;
}

int skt_stream_new(skt_loop *l, skt_stream **out, int fd)
{
	*out = NULL;
	if (fd < 0)
		return SKT_EBADF;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	int fdf = fcntl(fd, F_GETFD);
	if (fdf >= 0 && !(fdf & FD_CLOEXEC))
		fcntl(fd, F_SETFD, fdf | FD_CLOEXEC);
	return skt__stream_adopt(l, out, fd, false);
}

int skt_stream_from_conn(skt_loop *l, skt_stream **out, skt_conn *c)
{
	*out = NULL;
	/* The session stays with c (its buffers, its keys). */
	if (skt_conn_tls(c) != NULL)
		return SKT_EINVAL;
	/* conn.h has no "detach": a duplicate of the fd outlives c. */
	int fd = fcntl(skt_conn_fd(c), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	skt_stream *s;
	int r = skt_stream_new(l, &s, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	size_t n = skt_conn_buffered(c);
	if (n > 0) {
		s->ibuf = skt_malloc(n);
		if (s->ibuf == NULL) {
			skt_stream_free(s); /* closes only the duplicate */
			return SKT_ENOMEM;
		}
		s->icap = n;
		/* Buffered bytes come first and need no recv. */
		ssize_t got = skt_conn_read(c, s->ibuf, n);
		s->ilen = got > 0 ? (size_t)got : 0;
	}
	skt_conn_free(c);
	*out = s;
	return 0;
}

int skt_stream_connect(skt_loop *l, skt_stream **out, const skt_addr *a,
		       skt_stream_cb cb)
{
	*out = NULL;
	if (a == NULL)
		return SKT_EINVAL;
	int fd = skt_connect_one(a, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	int r = skt__stream_adopt(l, out, fd, true);
	if (r < 0) {
		close(fd);
		return r;
	}
	(*out)->on_connect = cb;
	return 0;
}

/* ---- Accessors ---- */

void skt_stream_on_close(skt_stream *s, skt_stream_cb cb)
{
	s->on_close = cb;
}

void skt_stream_set_udata(skt_stream *s, void *udata)
{
	s->udata = udata;
}

void *skt_stream_udata(const skt_stream *s)
{
	return s->udata;
}

int skt_stream_fd(const skt_stream *s)
{
	return s->w.fd;
}

skt_loop *skt_stream_loop(const skt_stream *s)
{
	return s->loop;
}
