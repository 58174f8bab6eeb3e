/* timer.c - monotonic timers in a binary min-heap ordered by (due, start
 * order), so timers due together run in the order they were started.
 *
 * The heap array always has room for every timer that exists (public or
 * embedded in a stream): room is taken when a timer is made, so starting a
 * timer never fails and never allocates. Idle timeouts of streams are
 * lazy: a stream's timer is armed at last-activity + idle and, when it
 * fires early because traffic moved the activity on, it is re-armed
 * instead of the stream paying a heap update per message.
 */
#include "loop/loop_int.h"

static bool before(const skt_timer *a, const skt_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(skt_loop *l, size_t i, skt_timer *t)
{
	l->heap[i] = t;
	t->idx = i;
}

static void sift_up(skt_loop *l, size_t i)
{
	skt_timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(t, l->heap[parent]))
			break;
		place(l, i, l->heap[parent]);
		i = parent;
	}
	place(l, i, t);
}

static void sift_down(skt_loop *l, size_t i)
{
	skt_timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l->heap[c], t))
			break;
		place(l, i, l->heap[c]);
		i = c;
	}
	place(l, i, t);
}

static void heap_remove(skt_loop *l, skt_timer *t)
{
	size_t i = t->idx;
	skt_timer *last = l->heap[--l->nheap];
	t->idx = SIZE_MAX;
	if (!t->internal)
		l->alive--;
	if (last == t)
		return;
	place(l, i, last);
	if (i > 0 && before(last, l->heap[(i - 1) / 2]))
		sift_up(l, i);
	else
		sift_down(l, i);
}

int skt__timer_init(skt_loop *l, skt_timer *t, skt_timer_cb cb, void *arg,
		    bool internal)
{
	if (l->ntimers == l->capheap) {
		size_t ncap = l->capheap < 16 ? 16 : l->capheap * 2;
		skt_timer **h = skt_realloc(l->heap, ncap * sizeof(*h));
		if (h == NULL)
			return SKT_ENOMEM;
		l->heap = h;
		l->capheap = ncap;
	}
	l->ntimers++;
	t->loop = l;
	t->due = 0;
	t->repeat = 0;
	t->seq = 0;
	t->idx = SIZE_MAX;
	t->internal = internal;
	t->cb = cb;
	t->arg = arg;
	return 0;
}

void skt__timer_fini(skt_timer *t)
{
	skt_timer_stop(t);
	t->loop->ntimers--;
}

void skt__timer_start_at(skt_timer *t, int64_t due)
{
	skt_loop *l = t->loop;
	if (t->idx != SIZE_MAX)
		heap_remove(l, t);
	t->due = due;
	t->seq = ++l->timer_seq;
	if (!t->internal)
		l->alive++;
	place(l, l->nheap++, t);
	sift_up(l, t->idx);
}

int skt__timers_next(skt_loop *l)
{
	if (l->nheap == 0)
		return -1;
	int64_t left = l->heap[0]->due - l->now;
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Run the timers due now. Only those started before this call: a callback
 * that restarts its timer with 0 ms waits for the next iteration instead of
 * looping here forever. A repeating timer is rescheduled before its
 * callback, so the callback may stop or free it. */
void skt__timers_run(skt_loop *l)
{
	uint64_t last = l->timer_seq;
	while (l->nheap > 0) {
		skt_timer *t = l->heap[0];
		if (t->due > l->now || t->seq > last)
			break;
		heap_remove(l, t);
		if (t->repeat > 0)
			skt__timer_start_at(t, l->now + t->repeat);
		t->cb(t, t->arg);
	}
}

/* ---- Public timers ---- */

static void timer_destroy(skt__handle *h)
{
	skt_timer *t = SKT__CONTAINER(h, skt_timer, h);
	skt__timer_fini(t);
	skt__handle_del(&t->h);
	skt_free(t);
}

int skt_timer_new(skt_loop *l, skt_timer **out, skt_timer_cb cb, void *arg)
{
	*out = NULL;
	if (cb == NULL)
		return SKT_EINVAL;
	skt_timer *t = skt_calloc(1, sizeof(*t));
	if (t == NULL)
		return SKT_ENOMEM;
	int r = skt__timer_init(l, t, cb, arg, false);
	if (r < 0) {
		skt_free(t);
		return r;
	}
	t->h.destroy = timer_destroy;
	skt__handle_add(l, &t->h);
	*out = t;
	return 0;
}

int skt_timer_start(skt_timer *t, int64_t after_ms, int64_t repeat_ms)
{
	if (after_ms < 0 || repeat_ms < 0)
		return SKT_EINVAL;
	/* Far-future times are clamped rather than overflowing. */
	if (after_ms > INT64_MAX / 4)
		after_ms = INT64_MAX / 4;
	if (repeat_ms > INT64_MAX / 4)
		repeat_ms = INT64_MAX / 4;
	t->repeat = repeat_ms;
	skt__timer_start_at(t, t->loop->now + after_ms);
	return 0;
}

void skt_timer_stop(skt_timer *t)
{
	if (t->idx != SIZE_MAX)
		heap_remove(t->loop, t);
}

bool skt_timer_active(const skt_timer *t)
{
	return t->idx != SIZE_MAX;
}

void skt_timer_free(skt_timer *t)
{
	if (t == NULL)
		return;
	timer_destroy(&t->h);
}
