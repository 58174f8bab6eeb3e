/* sockit/loop.h - the event loop: fd readiness, monotonic timers, signals
 * as events, deferred callbacks and wake-ups from other threads.
 *
 * One skt_loop runs in one thread at a time. Every function of this file
 * and of stream.h must be called from the thread running the loop (or, when
 * the loop is not running, from any one thread), except the three marked
 * "any thread": skt_loop_stop, skt_loop_wake and skt_loop_post.
 *
 * Callbacks. No callback ever runs before the call that registered it
 * returns, and when such a call fails its callback never runs (libuv's
 * contract). Every handle (timer, io watcher, signal watcher, stream,
 * listener, UDP endpoint) may be freed from inside any callback, its own
 * included: the loop holds a reference while it runs a callback and
 * releases the memory afterwards (redis ae's callHandler).
 *
 * Time. skt_loop_now() is the monotonic clock in milliseconds, read once per
 * loop iteration; timers and timeouts count from it.
 *
 * Backends. epoll (edge-triggered for streams, so a message costs no
 * epoll_ctl) by default; poll(2) for portability. SKT_LOOP_BACKEND=poll (or
 * =epoll) in the environment, or skt_loop_opts.backend, chooses.
 */
#ifndef SOCKIT_LOOP_H
#define SOCKIT_LOOP_H

#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_loop skt_loop;
typedef struct skt_timer skt_timer;
typedef struct skt_io skt_io;
typedef struct skt_signal skt_signal;

/* A plain deferred callback. */
typedef void (*skt_cb)(void *arg);

/* ---- The loop ---- */

typedef enum skt_backend {
	SKT_BACKEND_DEFAULT = 0, /* $SKT_LOOP_BACKEND if set, else epoll */
	SKT_BACKEND_EPOLL,
	SKT_BACKEND_POLL
} skt_backend;

typedef struct skt_loop_opts {
	skt_backend backend;
} skt_loop_opts;

/* Make a loop. opts may be NULL (defaults). Returns 0 and sets *out, or
 * SKT_ENOMEM, SKT_EMFILE (the loop needs two fds with epoll, one with
 * poll), SKT_EINVAL (unknown backend, or a $SKT_LOOP_BACKEND that names
 * none). */
SKT_EXTERN int skt_loop_new(skt_loop **out, const skt_loop_opts *opts);

/* Free the loop and every handle still attached to it: streams still open
 * are aborted and their on_close callbacks run with SKT_ECANCELED (so their
 * owners can release per-connection state), then every handle's memory is
 * released; no other callback runs, deferred and posted callbacks are
 * dropped. Pointers to handles of the loop are invalid afterwards. Must not
 * be called while the loop runs. skt_loop_free(NULL) does nothing. */
SKT_EXTERN void skt_loop_free(skt_loop *l);

/* "epoll" or "poll". */
SKT_EXTERN const char *skt_loop_backend(const skt_loop *l);

typedef enum skt_run_mode {
	SKT_RUN_DEFAULT = 0, /* until skt_loop_stop, or nothing is alive */
	SKT_RUN_ONCE,        /* one iteration, waiting for events if needed */
	SKT_RUN_NOWAIT       /* one iteration without waiting */
} skt_run_mode;

/* Run the loop. Alive are: started timers, io watchers with interest,
 * signal watchers, streams not yet closed, listeners, UDP endpoints,
 * deferred and posted callbacks. Returns 1 when something is still alive
 * (stopped, or after one iteration), 0 when nothing is, SKT_EBUSY when the
 * loop is already running (run is not re-entrant), or -errno when the
 * backend fails. */
SKT_EXTERN int skt_loop_run(skt_loop *l, skt_run_mode mode);

/* Make skt_loop_run return after the callbacks of the current iteration.
 * A stop before the loop runs makes its next run return after one
 * iteration. Any thread. */
SKT_EXTERN void skt_loop_stop(skt_loop *l);

/* Wake a loop blocked waiting for events, so it runs one more iteration.
 * Any thread; async-signal-safe. Returns 0 or -errno. */
SKT_EXTERN int skt_loop_wake(skt_loop *l);

/* Monotonic milliseconds, as of the start of the current iteration. */
SKT_EXTERN int64_t skt_loop_now(const skt_loop *l);
/* Re-read the clock (after a long callback, before starting a timer). */
SKT_EXTERN void skt_loop_update_time(skt_loop *l);

/* Run cb(arg) once on the loop's thread soon: after the callback now
 * running returns and the callbacks deferred before it, before the loop
 * next blocks for I/O. A callback deferred from a deferred callback runs
 * in a later round, after the loop has looked at I/O without blocking, so
 * deferring in a chain cannot starve I/O. Returns 0 or SKT_ENOMEM. */
SKT_EXTERN int skt_loop_defer(skt_loop *l, skt_cb cb, void *arg);

/* skt_loop_defer from any thread: cb(arg) runs on the loop's thread, in
 * post order, and the loop is woken (eventfd). Returns 0 or SKT_ENOMEM. */
SKT_EXTERN int skt_loop_post(skt_loop *l, skt_cb cb, void *arg);

/* ---- Timers ---- */

typedef void (*skt_timer_cb)(skt_timer *t, void *arg);

/* A stopped timer. Returns 0 or SKT_ENOMEM. */
SKT_EXTERN int skt_timer_new(skt_loop *l, skt_timer **out, skt_timer_cb cb,
			     void *arg);

/* (Re)start: cb runs after_ms from skt_loop_now(), then every repeat_ms
 * when repeat_ms > 0. Timers due at the same time run in the order they
 * were started. A repeating timer is rescheduled before its callback runs,
 * so the callback may stop, restart or free it. Returns 0 or SKT_EINVAL
 * (negative times). */
SKT_EXTERN int skt_timer_start(skt_timer *t, int64_t after_ms,
			       int64_t repeat_ms);
/* Stop; the callback will not run until started again. */
SKT_EXTERN void skt_timer_stop(skt_timer *t);
SKT_EXTERN bool skt_timer_active(const skt_timer *t);
/* Stop and free. skt_timer_free(NULL) does nothing. */
SKT_EXTERN void skt_timer_free(skt_timer *t);

/* ---- Readiness of any fd ---- */

#define SKT_READABLE 0x1
#define SKT_WRITABLE 0x2

/* events says what is ready now: SKT_READABLE and/or SKT_WRITABLE, limited
 * to the interest; an error or hang-up on the fd reports as every event of
 * the interest, so the next read or write returns it. */
typedef void (*skt_io_cb)(skt_io *w, unsigned events, void *arg);

/* A watcher of fd with no interest yet. The fd stays the caller's: the
 * watcher never closes it, and it must stay open until the watcher is
 * freed. Returns 0, SKT_EBADF or SKT_ENOMEM. */
SKT_EXTERN int skt_io_new(skt_loop *l, skt_io **out, int fd, skt_io_cb cb,
			  void *arg);
/* Set the interest (SKT_READABLE | SKT_WRITABLE; 0 stops watching). Level
 * triggered: cb runs every iteration while the fd is ready. Returns 0 or
 * -errno from the backend (SKT_EPERM for a regular file under epoll). */
SKT_EXTERN int skt_io_start(skt_io *w, unsigned events);
SKT_EXTERN int skt_io_fd(const skt_io *w);
/* Stop and free (the fd is not closed). skt_io_free(NULL) does nothing. */
SKT_EXTERN void skt_io_free(skt_io *w);

/* ---- Signals as events ---- */

typedef void (*skt_signal_cb)(skt_signal *s, int signum, void *arg);

/* Deliver signum to cb on the loop's thread. The process-wide handler is
 * installed with the first watcher of a signal and the previous
 * disposition restored with the last; it only records the signal and
 * wakes the loops watching it (self-pipe through the loop's eventfd), so
 * any thread may receive it. Signals that arrive together coalesce into
 * one callback, as with signalfd. Several loops and several watchers may
 * watch one signal; each gets it. Returns 0, SKT_EINVAL for a signal that
 * cannot be caught or is synchronous (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL) or out of 1..63, SKT_EBUSY when more than 64 loops watch
 * signals, SKT_ENOMEM, or -errno from sigaction. */
SKT_EXTERN int skt_signal_new(skt_loop *l, skt_signal **out, int signum,
			      skt_signal_cb cb, void *arg);
/* Stop watching and free. skt_signal_free(NULL) does nothing. */
SKT_EXTERN void skt_signal_free(skt_signal *s);

#ifdef __cplusplus
}
#endif
#endif
