/* poll_epoll.c - the epoll backend (Linux).
 *
 * Level watches (listeners, user io watchers, the wake eventfd) are added,
 * modified and deleted as their interest changes. Edge watches (streams)
 * are added once with EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET and never
 * touched again until removal: their owners read until EAGAIN and write
 * until EAGAIN, and TCP raises EPOLLOUT edges only after a write found the
 * send buffer full (sk_stream_write_space), so a steady stream of messages
 * costs epoll_wait and no epoll_ctl.
 *
 * Events of a batch that belong to a watch removed while the batch is
 * being dispatched are dropped (libuv's uv__platform_invalidate_fd), so a
 * callback may free any other handle.
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken per epoll_wait; a bigger batch only delays the next look at
 * timers when a thousand connections are all ready at once. */
#define BATCH 1024

struct epoll_be {
	int fd;
	int n;   /* events in the batch being dispatched */
	int cur; /* index being dispatched */
	struct epoll_event ev[BATCH];
};

static int ep_init(skt_loop *l)
{
	struct epoll_be *b = skt_malloc(sizeof(*b));
	if (b == NULL)
		return SKT_ENOMEM;
	b->fd = epoll_create1(EPOLL_CLOEXEC);
	if (b->fd < 0) {
		int e = errno;
		skt_free(b);
		return -e;
	}
	b->n = 0;
	b->cur = 0;
	l->bed = b;
	return 0;
}

static void ep_fini(skt_loop *l)
{
	struct epoll_be *b = l->bed;
	close(b->fd);
	skt_free(b);
	l->bed = NULL;
}

static uint32_t ep_mask(const skt__watch *w, unsigned want)
{
	if (w->edge)
		return EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	uint32_t m = 0;
	if (want & SKT_READABLE)
		m |= EPOLLIN;
	if (want & SKT_WRITABLE)
		m |= EPOLLOUT;
	return m;
}

/* Forget the undelivered events of w in the batch being dispatched. */
static void invalidate(struct epoll_be *b, const skt__watch *w)
{
	for (int i = b->cur + 1; i < b->n; i++)
		if (b->ev[i].data.ptr == w)
			b->ev[i].data.ptr = NULL;
}

static void ep_remove(skt_loop *l, skt__watch *w)
{
	struct epoll_be *b = l->bed;
	if (w->added) {
		struct epoll_event ev = {0};
		/* Errors mean the fd is already gone from the set. */
		(void)epoll_ctl(b->fd, EPOLL_CTL_DEL, w->fd, &ev);
		w->added = false;
	}
	invalidate(b, w);
}

static int ep_set(skt_loop *l, skt__watch *w, unsigned want)
{
	struct epoll_be *b = l->bed;
	if (w->edge && w->added) {
		w->want = want;
		return 0;
	}
	if (want == 0 && !w->edge) {
		ep_remove(l, w);
		w->want = 0;
		return 0;
	}
	struct epoll_event ev = {.events = ep_mask(w, want), .data.ptr = w};
	int op = w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(b->fd, op, w->fd, &ev) < 0) {
		/* The fd was closed and its number reused behind our back
		 * (ENOENT), or registered by a watch that forgot (EEXIST). */
		if (errno == ENOENT)
			op = EPOLL_CTL_ADD;
		else if (errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else
			return -errno;
		if (epoll_ctl(b->fd, op, w->fd, &ev) < 0)
			return -errno;
	}
	w->added = true;
	w->want = want;
	return 0;
}

static unsigned ep_events(uint32_t e)
{
	unsigned r = 0;
	if (e & EPOLLIN)
		r |= SKT_READABLE;
	if (e & EPOLLOUT)
		r |= SKT_WRITABLE;
	if (e & EPOLLRDHUP)
		r |= SKT__RDHUP | SKT_READABLE;
	if (e & (EPOLLERR | EPOLLHUP))
		r |= SKT__ERR;
	return r;
}

static int ep_wait(skt_loop *l, int timeout_ms)
{
	struct epoll_be *b = l->bed;
	int n = epoll_wait(b->fd, b->ev, BATCH, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	if (n < 0)
		n = 0; /* a signal: its handler woke the loop's eventfd */
	l->now = skt__now_ms(); /* callbacks see the time they woke at */
	b->n = n;
	for (b->cur = 0; b->cur < n; b->cur++) {
		skt__watch *w = b->ev[b->cur].data.ptr;
		if (w == NULL)
			continue;
		if (!w->edge && w->want == 0)
			continue;
		w->fn(l, w, ep_events(b->ev[b->cur].events));
	}
	b->n = 0;
	b->cur = 0;
	return 0;
}

const skt__backend skt__backend_epoll = {
	"epoll", ep_init, ep_fini, ep_set, ep_remove, ep_wait,
};
