/* loop_int.h - what the loop's files share: the loop itself, watches (an
 * fd registered with a backend), tasks (work queued for the next
 * iteration), handles (what skt_loop_free must release) and the timer
 * heap. Not installed. */
#ifndef SOCKIT_LOOP_INT_H
#define SOCKIT_LOOP_INT_H

#include "internal.h"
#include "sockit/loop.h"
#include "sockit/stream.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#define SKT__CONTAINER(p, type, member)                                        \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

/* Events a watch callback gets: the public SKT_READABLE / SKT_WRITABLE,
 * plus what only the library needs. */
#define SKT__RDHUP 0x10 /* the peer finished sending (EPOLLRDHUP/POLLRDHUP) */
#define SKT__ERR   0x20 /* error or hang-up on the fd */

typedef struct skt__watch skt__watch;
typedef void (*skt__watch_fn)(skt_loop *l, skt__watch *w, unsigned events);

/* An fd registered with the backend. A level watch reports while ready and
 * wanted. An edge watch (streams) is registered once for everything under
 * epoll (EPOLLET) and reports changes only: its owner reads and writes
 * until EAGAIN and remembers readiness itself, so a message costs no
 * epoll_ctl. Backends without edges treat edge watches as level ones, so
 * an owner keeps want accurate either way. */
struct skt__watch {
	int fd;
	unsigned want; /* SKT_READABLE | SKT_WRITABLE */
	bool edge;
	bool added; /* registered with the backend */
	int slot;   /* poll backend: index in its arrays, else -1 */
	skt__watch_fn fn;
};

/* Work for the next iteration, embedded in what owns it (no allocation). */
typedef struct skt__task skt__task;
struct skt__task {
	skt__task *next, *prev; /* NULL when not queued */
	void (*fn)(skt_loop *l, skt__task *t);
};

/* Everything that skt_loop_free must find. */
typedef struct skt__handle skt__handle;
struct skt__handle {
	skt__handle *next, *prev;
	void (*destroy)(skt__handle *h); /* release without callbacks */
	void (*cancel)(skt__handle *h);  /* loop_free's first pass, or NULL */
};

typedef struct skt__backend {
	const char *name;
	int (*init)(skt_loop *l);
	void (*fini)(skt_loop *l);
	/* Set the interest of w (0 deregisters a level watch; an edge watch
	 * is registered at the first call, whatever want says). */
	int (*set)(skt_loop *l, skt__watch *w, unsigned want);
	/* Deregister w before its fd closes; drops its undelivered events. */
	void (*remove)(skt_loop *l, skt__watch *w);
	/* Wait up to timeout_ms (-1 forever) and run the ready watches.
	 * Returns 0 or -errno (EINTR is 0). */
	int (*wait)(skt_loop *l, int timeout_ms);
} skt__backend;

extern const skt__backend skt__backend_epoll;
extern const skt__backend skt__backend_poll;

struct skt_timer {
	skt_loop *loop;
	int64_t due;
	int64_t repeat;
	uint64_t seq;  /* start order: ties run first-started first */
	size_t idx;    /* position in the heap; SIZE_MAX when stopped */
	bool internal; /* embedded in a stream: does not keep the loop alive */
	skt_timer_cb cb;
	void *arg;
	skt__handle h; /* public timers only */
};

/* Bytes read by one recv() into the loop's shared buffer; a stream with
 * nothing buffered reads here, so an idle connection holds no buffer. */
#define SKT__RBUF_SIZE ((size_t)64 << 10)

struct skt__post;
struct skt__sigwatch;

struct skt_loop {
	const skt__backend *be;
	void *bed; /* the backend's own state */
	int64_t now;
	size_t alive;    /* handles that keep skt_loop_run going */
	skt__task tasks; /* sentinel of the queue for the next iteration */
	skt__handle handles;
	skt_timer **heap;
	size_t nheap, capheap;
	size_t ntimers; /* timers that exist: the heap has room for all */
	uint64_t timer_seq;
	bool running;
	atomic_int stop;
	/* Wake-ups: posts, signals and skt_loop_wake write the eventfd; the
	 * flag saves the write while a wake-up is already pending. */
	int wakefd;
	skt__watch wake_w;
	atomic_int wake_pending;
	pthread_mutex_t post_lock;
	struct skt__post *post_head, *post_tail;
	struct skt__post *post_cache; /* free nodes, loop thread only */
	/* Signals: a slot of the process-wide table, and the watchers. */
	int sig_slot;
	struct skt_signal *sigs;
	int sig_dispatching;
	uint8_t *rbuf;
	/* SIGPIPE held off while TLS streams write (skt__loop_nopipe). */
	bool nopipe;         /* blocked on the running thread */
	bool nopipe_was;     /* one was pending before: not ours to take */
	bool nopipe_epipe;   /* a write failed with EPIPE meanwhile */
	sigset_t nopipe_old; /* the thread's mask to restore */
};

/* loop.c */
void skt__task_queue(skt_loop *l, skt__task *t);
void skt__task_cancel(skt__task *t);
void skt__handle_add(skt_loop *l, skt__handle *h);
void skt__handle_del(skt__handle *h);
int skt__watch_set(skt_loop *l, skt__watch *w, unsigned want);
void skt__watch_init(skt__watch *w, int fd, bool edge, skt__watch_fn fn);
void skt__watch_remove(skt_loop *l, skt__watch *w);
void skt__wake_write(skt_loop *l);
/* Block SIGPIPE on the running thread until skt_loop_run returns (once
 * per run; nothing when already done). OpenSSL's socket BIO writes with
 * write(2), not send(MSG_NOSIGNAL), so a TLS stream calls this before
 * its SSL calls; whoever sees a write fail with EPIPE sets nopipe_epipe,
 * and the SIGPIPE that write raised is taken off the pending set when
 * the run ends. */
void skt__loop_nopipe(skt_loop *l);

/* timer.c */
/* An embedded or public timer, stopped; reserves its room in the heap so
 * that starting it never fails. Returns 0 or SKT_ENOMEM. */
int skt__timer_init(skt_loop *l, skt_timer *t, skt_timer_cb cb, void *arg,
		    bool internal);
/* Stop and give the room back. */
void skt__timer_fini(skt_timer *t);
void skt__timer_start_at(skt_timer *t, int64_t due);
int skt__timers_next(skt_loop *l); /* ms until the first, -1 for none */
void skt__timers_run(skt_loop *l);

/* signal.c */
void skt__signals_dispatch(skt_loop *l);

/* stream.c: a stream around an accepted or connected fd. */
int skt__stream_adopt(skt_loop *l, skt_stream **out, int fd, bool connecting);

#endif
