/* poll_poll.c - the poll(2) backend: portable, level-triggered, O(fds) per
 * wait. Edge watches are served as level ones; their owners keep want
 * accurate (no READABLE while not reading or after end of stream, no
 * WRITABLE with an empty queue), so level readiness never spins.
 *
 * Parallel arrays: fds[i] is polled for ws[i]. A watch removed while a
 * batch is being dispatched leaves a hole (fd -1, which poll ignores, and
 * ws NULL) that is closed up after the batch, so indices stay put while
 * callbacks run.
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <poll.h>

struct poll_be {
	struct pollfd *fds;
	skt__watch **ws;
	size_t n, cap;
	bool dispatching;
	bool holes;
};

static int pl_init(skt_loop *l)
{
	struct poll_be *b = skt_calloc(1, sizeof(*b));
	if (b == NULL)
		return SKT_ENOMEM;
	l->bed = b;
	return 0;
}

static void pl_fini(skt_loop *l)
{
	struct poll_be *b = l->bed;
	skt_free(b->fds);
	skt_free(b->ws);
	skt_free(b);
	l->bed = NULL;
}

static short pl_mask(unsigned want)
{
	short m = 0;
	if (want & SKT_READABLE)
		m |= POLLIN | POLLRDHUP;
	if (want & SKT_WRITABLE)
		m |= POLLOUT;
	return m;
}

static void pl_remove(skt_loop *l, skt__watch *w)
{
	struct poll_be *b = l->bed;
	size_t i = (size_t)w->slot;
	w->slot = -1;
	w->added = false;
	if (i >= b->n || b->ws[i] != w)
		return;
	if (b->dispatching) {
		b->fds[i].fd = -1;
		b->fds[i].revents = 0;
		b->ws[i] = NULL;
		b->holes = true;
		return;
	}
	b->n--;
	if (i != b->n) {
		b->fds[i] = b->fds[b->n];
		b->ws[i] = b->ws[b->n];
		b->ws[i]->slot = (int)i;
	}
}

static int grow(struct poll_be *b)
{
	size_t ncap = b->cap < 16 ? 16 : b->cap * 2;
	struct pollfd *f = skt_realloc(b->fds, ncap * sizeof(*f));
	if (f == NULL)
		return SKT_ENOMEM;
	b->fds = f;
	skt__watch **w = skt_realloc(b->ws, ncap * sizeof(*w));
	if (w == NULL)
		return SKT_ENOMEM;
	b->ws = w;
	b->cap = ncap;
	return 0;
}

static int pl_set(skt_loop *l, skt__watch *w, unsigned want)
{
	struct poll_be *b = l->bed;
	w->want = want;
	if (want == 0) {
		if (w->slot >= 0)
			pl_remove(l, w);
		/* An edge watch counts as added: the owner need not set it
		 * again to stay registered for nothing. */
		w->added = w->edge;
		return 0;
	}
	if (w->slot < 0) {
		if (b->n == b->cap && grow(b) < 0)
			return SKT_ENOMEM;
		w->slot = (int)b->n++;
		b->ws[w->slot] = w;
		b->fds[w->slot].fd = w->fd;
		b->fds[w->slot].revents = 0;
	}
	b->fds[w->slot].events = pl_mask(want);
	w->added = true;
	return 0;
}

static void close_holes(struct poll_be *b)
{
	size_t j = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->ws[i] == NULL)
			continue;
		b->fds[j] = b->fds[i];
		b->ws[j] = b->ws[i];
		b->ws[j]->slot = (int)j;
		j++;
	}
	b->n = j;
	b->holes = false;
}

static unsigned pl_events(short e)
{
	unsigned r = 0;
	if (e & POLLIN)
		r |= SKT_READABLE;
	if (e & POLLOUT)
		r |= SKT_WRITABLE;
	if (e & POLLRDHUP)
		r |= SKT__RDHUP | SKT_READABLE;
	if (e & (POLLERR | POLLHUP | POLLNVAL))
		r |= SKT__ERR;
	return r;
}

static int pl_wait(skt_loop *l, int timeout_ms)
{
	struct poll_be *b = l->bed;
	int n = poll(b->fds, (nfds_t)b->n, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	if (n < 0)
		n = 0; /* a signal: its handler woke the loop's eventfd */
	l->now = skt__now_ms(); /* callbacks see the time they woke at */
	b->dispatching = true;
	size_t end =
		b->n; /* watches added by callbacks wait for the next poll */
	for (size_t i = 0; i < end && n > 0; i++) {
		short re = b->fds[i].revents;
		if (re == 0 || b->ws[i] == NULL)
			continue;
		n--;
		b->fds[i].revents = 0;
		skt__watch *w = b->ws[i];
		w->fn(l, w, pl_events(re));
	}
	b->dispatching = false;
	if (b->holes)
		close_holes(b);
	return 0;
}

const skt__backend skt__backend_poll = {
	"poll", pl_init, pl_fini, pl_set, pl_remove, pl_wait,
};
