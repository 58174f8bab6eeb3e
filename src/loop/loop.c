/* loop.c - the loop: make, run, stop, free; the task queue behind deferred
 * callbacks; posts and wake-ups from other threads; fd watchers.
 *
 * One iteration (skt_loop_run):
 *   1. read the clock, run the timers that are due;
 *   2. run the tasks queued so far (deferred callbacks, stream work);
 *   3. wait for I/O - not at all when tasks are queued, else until the
 *      first timer - and run the ready watchers;
 *   4. run the tasks those watchers queued (so a UDP endpoint's sends
 *      leave in one batch at the end of the iteration).
 * Tasks queued while tasks run wait for the next iteration: a stream that
 * keeps requeueing itself cannot starve the others (libuv's pending queue).
 *
 * SIGPIPE. A TLS stream's writes go through OpenSSL's socket BIO, which
 * uses write(2) and so raises SIGPIPE on a connection the peer reset. The
 * blocking TLS calls block it around each call (tls.c), three syscalls a
 * call; a loop does it once per run instead: the first TLS operation of
 * a run blocks SIGPIPE on the running thread, and when the run returns a
 * SIGPIPE that a failed write raised (thread-directed, so it waits in
 * this thread's pending set) is taken and the mask restored. A SIGPIPE
 * pending before is left alone, as in tls.c and relay.c.
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A deferred or posted callback. */
struct skt__post {
	skt__task task;
	skt_cb cb;
	void *arg;
	struct skt__post *next;
};

struct skt_io {
	skt__watch w;
	skt_loop *loop;
	skt_io_cb cb;
	void *arg;
	int refs;
	bool freed;
	skt__handle h;
};

/* ---- Tasks and handles ---- */

static bool tasks_empty(const skt_loop *l)
{
	return l->tasks.next == &l->tasks;
}

void skt__task_queue(skt_loop *l, skt__task *t)
{
	if (t->next != NULL)
		return;
	t->prev = l->tasks.prev;
	t->next = &l->tasks;
	l->tasks.prev->next = t;
	l->tasks.prev = t;
}

void skt__task_cancel(skt__task *t)
{
	if (t->next == NULL)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Run the tasks queued before this call, in order. They are moved to a
 * local list first, so those queued meanwhile wait for the next round;
 * cancelling one of them still works, since the local head is a list node
 * like any other. */
static void run_tasks(skt_loop *l)
{
	if (tasks_empty(l))
		return;
	skt__task local = {l->tasks.next, l->tasks.prev, NULL};
	local.next->prev = &local;
	local.prev->next = &local;
	l->tasks.next = l->tasks.prev = &l->tasks;
	while (local.next != &local) {
		skt__task *t = local.next;
		skt__task_cancel(t);
		t->fn(l, t);
	}
}

void skt__handle_add(skt_loop *l, skt__handle *h)
{
	h->prev = &l->handles;
	h->next = l->handles.next;
	l->handles.next->prev = h;
	l->handles.next = h;
}

void skt__handle_del(skt__handle *h)
{
	if (h->next == NULL)
		return;
	h->prev->next = h->next;
	h->next->prev = h->prev;
	h->next = h->prev = NULL;
}

/* ---- Watches ---- */

void skt__watch_init(skt__watch *w, int fd, bool edge, skt__watch_fn fn)
{
	w->fd = fd;
	w->want = 0;
	w->edge = edge;
	w->added = false;
	w->slot = -1;
	w->fn = fn;
}

int skt__watch_set(skt_loop *l, skt__watch *w, unsigned want)
{
	if (w->added && want == w->want)
		return 0;
	return l->be->set(l, w, want);
}

void skt__watch_remove(skt_loop *l, skt__watch *w)
{
	if (w->added || w->slot >= 0)
		l->be->remove(l, w);
	w->want = 0;
}

/* ---- Wake-ups, posts ---- */

void skt__wake_write(skt_loop *l)
{
	uint64_t one = 1;
	ssize_t r;
	do
		r = write(l->wakefd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is full, so the loop is being woken anyway. */
}

int skt_loop_wake(skt_loop *l)
{
	if (atomic_exchange(&l->wake_pending, 1) == 0)
		skt__wake_write(l);
	return 0;
}

static void run_post(skt_loop *l, skt__task *t)
{
	struct skt__post *p = SKT__CONTAINER(t, struct skt__post, task);
	skt_cb cb = p->cb;
	void *arg = p->arg;
	p->next = l->post_cache; /* recycled: no allocation per defer */
	l->post_cache = p;
	cb(arg);
}

/* The eventfd became readable: drain it, then take what other threads
 * posted and what signal handlers recorded. The flag is cleared before the
 * list is taken, so a post made after that writes the eventfd again. */
static void wake_fn(skt_loop *l, skt__watch *w, unsigned events)
{
	uint64_t v;
	while (read(l->wakefd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	atomic_store(&l->wake_pending, 0);
	pthread_mutex_lock(&l->post_lock);
	struct skt__post *p = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_lock);
	for (; p != NULL; p = p->next)
		skt__task_queue(l, &p->task);
	skt__signals_dispatch(l);
}

static struct skt__post *post_node(skt_loop *l, skt_cb cb, void *arg,
				   bool cached)
{
	struct skt__post *p = NULL;
	if (cached && l->post_cache != NULL) {
		p = l->post_cache;
		l->post_cache = p->next;
	} else {
		p = skt_malloc(sizeof(*p));
		if (p == NULL)
			return NULL;
	}
	p->task.next = p->task.prev = NULL;
	p->task.fn = run_post;
	p->cb = cb;
	p->arg = arg;
	p->next = NULL;
	return p;
}

int skt_loop_defer(skt_loop *l, skt_cb cb, void *arg)
{
	if (cb == NULL)
		return SKT_EINVAL;
	struct skt__post *p = post_node(l, cb, arg, true);
	if (p == NULL)
		return SKT_ENOMEM;
	skt__task_queue(l, &p->task);
	return 0;
}

int skt_loop_post(skt_loop *l, skt_cb cb, void *arg)
{
	if (cb == NULL)
		return SKT_EINVAL;
	struct skt__post *p = post_node(l, cb, arg, false);
	if (p == NULL)
		return SKT_ENOMEM;
	pthread_mutex_lock(&l->post_lock);
	if (l->post_tail != NULL)
		l->post_tail->next = p;
	else
		l->post_head = p;
	l->post_tail = p;
	pthread_mutex_unlock(&l->post_lock);
	return skt_loop_wake(l);
}

/* ---- Making and freeing ---- */

static int pick_backend(const skt_loop_opts *opts, const skt__backend **be)
{
	skt_backend b = opts != NULL ? opts->backend : SKT_BACKEND_DEFAULT;
	if (b == SKT_BACKEND_DEFAULT) {
		const char *env = getenv("SKT_LOOP_BACKEND");
		b = SKT_BACKEND_EPOLL;
		if (env != NULL && strcmp(env, "poll") == 0)
			b = SKT_BACKEND_POLL;
		else if (env != NULL && env[0] != '\0' &&
			 strcmp(env, "epoll") != 0)
			return SKT_EINVAL;
	}
	if (b == SKT_BACKEND_EPOLL)
		*be = &skt__backend_epoll;
	else if (b == SKT_BACKEND_POLL)
		*be = &skt__backend_poll;
	else
		return SKT_EINVAL;
	return 0;
}

static int loop_init(skt_loop *l)
{
	l->rbuf = skt_malloc(SKT__RBUF_SIZE);
	if (l->rbuf == NULL)
		return SKT_ENOMEM;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		return -errno;
	int r = l->be->init(l);
	if (r < 0)
		return r;
	skt__watch_init(&l->wake_w, l->wakefd, false, wake_fn);
	return skt__watch_set(l, &l->wake_w, SKT_READABLE);
}

int skt_loop_new(skt_loop **out, const skt_loop_opts *opts)
{
	*out = NULL;
	const skt__backend *be;
	int r = pick_backend(opts, &be);
	if (r < 0)
		return r;
	skt_loop *l = skt_calloc(1, sizeof(*l));
	if (l == NULL)
		return SKT_ENOMEM;
	l->be = be;
	l->tasks.next = l->tasks.prev = &l->tasks;
	l->handles.next = l->handles.prev = &l->handles;
	l->wakefd = -1;
	l->sig_slot = -1;
	pthread_mutex_init(&l->post_lock, NULL);
	r = loop_init(l);
	if (r < 0) {
		if (l->bed != NULL)
			l->be->fini(l);
		if (l->wakefd >= 0)
			close(l->wakefd);
		pthread_mutex_destroy(&l->post_lock);
		skt_free(l->rbuf);
		skt_free(l);
		return r;
	}
	l->now = skt__now_ms();
	*out = l;
	return 0;
}

/* First pass of skt_loop_free: let each handle that has owners to tell
 * (streams: on_close) do so. Handles are moved one by one back onto the
 * loop's list before their turn, so a callback may free any handle, or
 * make new ones, without breaking the walk. */
static void cancel_handles(skt_loop *l)
{
	if (l->handles.next == &l->handles)
		return;
	skt__handle pending = {l->handles.next, l->handles.prev, NULL, NULL};
	pending.next->prev = &pending;
	pending.prev->next = &pending;
	l->handles.next = l->handles.prev = &l->handles;
	while (pending.next != &pending) {
		skt__handle *h = pending.next;
		skt__handle_del(h);
		skt__handle_add(l, h);
		if (h->cancel != NULL)
			h->cancel(h);
	}
}

static void drop_tasks(skt_loop *l)
{
	while (!tasks_empty(l)) {
		skt__task *t = l->tasks.next;
		skt__task_cancel(t);
		if (t->fn == run_post)
			skt_free(SKT__CONTAINER(t, struct skt__post, task));
	}
	struct skt__post *lists[2] = {l->post_head, l->post_cache};
	for (int i = 0; i < 2; i++)
		while (lists[i] != NULL) {
			struct skt__post *p = lists[i];
			lists[i] = p->next;
			skt_free(p);
		}
	l->post_head = l->post_tail = l->post_cache = NULL;
}

void skt_loop_free(skt_loop *l)
{
	if (l == NULL || l->running)
		return;
	cancel_handles(l);
	drop_tasks(l);
	while (l->handles.next != &l->handles)
		l->handles.next->destroy(l->handles.next);
	skt__watch_remove(l, &l->wake_w);
	l->be->fini(l);
	close(l->wakefd);
	pthread_mutex_destroy(&l->post_lock);
	skt_free(l->heap);
	skt_free(l->rbuf);
	skt_free(l);
}

const char *skt_loop_backend(const skt_loop *l)
{
	return l->be->name;
}

/* ---- Running ---- */

int64_t skt_loop_now(const skt_loop *l)
{
	return l->now;
}

void skt_loop_update_time(skt_loop *l)
{
	l->now = skt__now_ms();
}

static bool loop_alive(skt_loop *l)
{
	if (l->alive > 0 || !tasks_empty(l))
		return true;
	pthread_mutex_lock(&l->post_lock);
	bool posted = l->post_head != NULL;
	pthread_mutex_unlock(&l->post_lock);
	return posted;
}

void skt_loop_stop(skt_loop *l)
{
	atomic_store(&l->stop, 1);
	skt_loop_wake(l); /* the loop may be blocked in another thread */
}

void skt__loop_nopipe(skt_loop *l)
{
	if (l->nopipe)
		return;
	sigset_t block, pending;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &l->nopipe_old);
	sigpending(&pending);
	l->nopipe_was = sigismember(&pending, SIGPIPE) == 1;
	l->nopipe_epipe = false;
	l->nopipe = true;
}

static void nopipe_end(skt_loop *l)
{
	l->nopipe = false;
	if (l->nopipe_epipe && !l->nopipe_was) {
		sigset_t pipe_only;
		sigemptyset(&pipe_only);
		sigaddset(&pipe_only, SIGPIPE);
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_only, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &l->nopipe_old, NULL);
}

static int iterate(skt_loop *l, skt_run_mode mode)
{
	skt_loop_update_time(l);
	skt__timers_run(l);
	run_tasks(l);
	int timeout = 0;
	if (mode != SKT_RUN_NOWAIT && tasks_empty(l) &&
	    !atomic_load(&l->stop) && loop_alive(l))
		timeout = skt__timers_next(l);
	int r = l->be->wait(l, timeout); /* reads the clock when it wakes */
	if (r < 0)
		return r;
	run_tasks(l);
	if (mode == SKT_RUN_ONCE)
		skt__timers_run(l);
	return 0;
}

int skt_loop_run(skt_loop *l, skt_run_mode mode)
{
	if (l->running)
		return SKT_EBUSY;
	l->running = true;
	int r = 0;
	bool alive = loop_alive(l);
	while (alive || mode != SKT_RUN_DEFAULT) {
		r = iterate(l, mode);
		alive = loop_alive(l);
		if (r < 0 || mode != SKT_RUN_DEFAULT || atomic_load(&l->stop))
			break;
	}
	atomic_store(&l->stop, 0);
	if (l->nopipe)
		nopipe_end(l);
	l->running = false;
	return r < 0 ? r : alive ? 1 : 0;
}

/* ---- fd watchers ---- */

static void io_release(skt_io *w)
{
	skt__handle_del(&w->h);
	skt_free(w);
}

static void io_fn(skt_loop *l, skt__watch *wt, unsigned events)
{
	skt_io *w = SKT__CONTAINER(wt, skt_io, w);
	if (events & SKT__ERR)
		events |= wt->want;
	events &= wt->want;
	if (events == 0)
		return;
	w->refs++;
	w->cb(w, events, w->arg);
	if (--w->refs == 0 && w->freed)
		io_release(w);
}

static void io_destroy(skt__handle *h)
{
	skt_io *w = SKT__CONTAINER(h, skt_io, h);
	skt_io_start(w, 0);
	io_release(w);
}

int skt_io_new(skt_loop *l, skt_io **out, int fd, skt_io_cb cb, void *arg)
{
	*out = NULL;
	if (fd < 0)
		return SKT_EBADF;
	if (cb == NULL)
		return SKT_EINVAL;
	skt_io *w = skt_calloc(1, sizeof(*w));
	if (w == NULL)
		return SKT_ENOMEM;
	skt__watch_init(&w->w, fd, false, io_fn);
	w->loop = l;
	w->cb = cb;
	w->arg = arg;
	w->h.destroy = io_destroy;
	skt__handle_add(l, &w->h);
	*out = w;
	return 0;
}

int skt_io_start(skt_io *w, unsigned events)
{
	events &= SKT_READABLE | SKT_WRITABLE;
	unsigned before = w->w.want;
	int r = skt__watch_set(w->loop, &w->w, events);
	if (r < 0)
		return r;
	if (before == 0 && events != 0)
		w->loop->alive++;
	else if (before != 0 && events == 0)
		w->loop->alive--;
	return 0;
}

int skt_io_fd(const skt_io *w)
{
	return w->w.fd;
}

void skt_io_free(skt_io *w)
{
	if (w == NULL || w->freed)
		return;
	skt_io_start(w, 0);
	skt__watch_remove(w->loop, &w->w);
	w->freed = true;
	if (w->refs == 0)
		io_release(w);
}
