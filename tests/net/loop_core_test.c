/* loop_core_test.c - the loop itself, on both backends: timers (order,
 * repeat, stop and free inside callbacks), deferred callbacks, posts and
 * stops from other threads, signals as events, fd readiness, run modes. */
#define LOOP_SUITE loop_core
#include "looptest.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each scenario runs once per backend. */

static void run(skt_loop *l)
{
	int r = skt_loop_run(l, SKT_RUN_DEFAULT);
	cr_assert_geq(r, 0, "run: %s", skt_strerror(r));
}

/* ---- Timers ---- */

struct trace {
	char log[64];
	size_t n;
};

static void trace_cb(skt_timer *t, void *arg)
{
	struct trace *tr = arg;
	(void)t;
	tr->log[tr->n++] = 'x';
}

struct tagged {
	struct trace *tr;
	char tag;
	skt_timer *t;
};

static void tagged_cb(skt_timer *t, void *arg)
{
	struct tagged *g = arg;
	(void)t;
	g->tr->log[g->tr->n++] = g->tag;
}

LOOP_TEST(timers_run_in_due_then_start_order)
{
	skt_loop *l = looptest_new(be);
	struct trace tr = {{0}, 0};
	struct tagged g[5];
	int64_t after[5] = {30, 10, 20, 10, 0};
	const char *tags = "ebdca";
	for (int i = 0; i < 5; i++) {
		g[i] = (struct tagged){&tr, tags[i], NULL};
		cr_assert_eq(skt_timer_new(l, &g[i].t, tagged_cb, &g[i]), 0);
		cr_assert_eq(skt_timer_start(g[i].t, after[i], 0), 0);
	}
	int64_t t0 = skt_loop_now(l);
	run(l);
	cr_assert_str_eq(tr.log, "abcde");
	cr_assert_geq(skt_loop_now(l) - t0, 30);
	for (int i = 0; i < 5; i++)
		skt_timer_free(g[i].t);
	skt_loop_free(l);
}

struct canceller {
	skt_timer *victim;
	int fired;
};

static void cancel_cb(skt_timer *t, void *arg)
{
	struct canceller *c = arg;
	c->fired++;
	skt_timer_stop(c->victim); /* due at the same moment: must not run */
	skt_timer_free(t);         /* and free itself */
}

static void victim_cb(skt_timer *t, void *arg)
{
	(void)t;
	cr_assert_fail("a stopped timer ran");
	(void)arg;
}

LOOP_TEST(timer_stopped_inside_a_callback_does_not_run)
{
	skt_loop *l = looptest_new(be);
	struct canceller c = {NULL, 0};
	skt_timer *first, *victim;
	cr_assert_eq(skt_timer_new(l, &first, cancel_cb, &c), 0);
	cr_assert_eq(skt_timer_new(l, &victim, victim_cb, NULL), 0);
	c.victim = victim;
	skt_timer_start(first, 5, 0);
	skt_timer_start(victim, 5, 0);
	run(l);
	cr_assert_eq(c.fired, 1);
	cr_assert(!skt_timer_active(victim));
	skt_timer_free(victim);
	skt_loop_free(l);
}

struct repeat {
	int n;
	int64_t at[4];
	skt_loop *l;
};

static void repeat_cb(skt_timer *t, void *arg)
{
	struct repeat *r = arg;
	r->at[r->n++] = skt_loop_now(r->l);
	if (r->n == 4)
		skt_timer_free(
			t); /* a repeating timer freed by its own callback */
}

LOOP_TEST(timer_repeats_until_freed)
{
	skt_loop *l = looptest_new(be);
	struct repeat r = {0, {0}, l};
	skt_timer *t;
	cr_assert_eq(skt_timer_new(l, &t, repeat_cb, &r), 0);
	int64_t t0 = skt_loop_now(l);
	cr_assert_eq(skt_timer_start(t, 5, 10), 0);
	cr_assert(skt_timer_active(t));
	run(l);
	cr_assert_eq(r.n, 4);
	cr_assert_geq(r.at[0] - t0, 5);
	for (int i = 1; i < 4; i++)
		cr_assert_geq(r.at[i] - r.at[i - 1], 10, "gap %d: %lld", i,
			      (long long)(r.at[i] - r.at[i - 1]));
	skt_loop_free(l);
}

static void restart_zero_cb(skt_timer *t, void *arg)
{
	int *n = arg;
	if (++*n < 100)
		skt_timer_start(t, 0, 0); /* next iteration, not a spin here */
}

LOOP_TEST(timer_restarted_with_zero_runs_once_per_iteration)
{
	skt_loop *l = looptest_new(be);
	int n = 0;
	skt_timer *t;
	cr_assert_eq(skt_timer_new(l, &t, restart_zero_cb, &n), 0);
	skt_timer_start(t, 0, 0);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_NOWAIT), 1);
	cr_assert_eq(n, 1);
	run(l);
	cr_assert_eq(n, 100);
	skt_timer_free(t);
	skt_loop_free(l);
}

SKT_TEST(loop_core, timer_bad_arguments)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	skt_timer *t;
	struct trace tr = {{0}, 0};
	cr_assert_eq(skt_timer_new(l, &t, NULL, NULL), SKT_EINVAL);
	cr_assert_eq(skt_timer_new(l, &t, trace_cb, &tr), 0);
	cr_assert_eq(skt_timer_start(t, -1, 0), SKT_EINVAL);
	cr_assert_eq(skt_timer_start(t, 0, -5), SKT_EINVAL);
	cr_assert(!skt_timer_active(t));
	skt_timer_free(NULL);
	skt_loop_free(l); /* frees t too */
}

/* ---- Deferred callbacks ---- */

struct dlog {
	skt_loop *l;
	char s[32];
	size_t n;
};

static void defer_inner(void *arg)
{
	struct dlog *d = arg;
	d->s[d->n++] = 'i';
}

static void defer_a(void *arg)
{
	struct dlog *d = arg;
	d->s[d->n++] = 'a';
	cr_assert_eq(skt_loop_defer(d->l, defer_inner, d), 0);
}

static void defer_b(void *arg)
{
	struct dlog *d = arg;
	d->s[d->n++] = 'b';
}

LOOP_TEST(deferred_run_in_order_and_nested_ones_after_the_batch)
{
	skt_loop *l = looptest_new(be);
	struct dlog d = {l, {0}, 0};
	cr_assert_eq(skt_loop_defer(l, defer_a, &d), 0);
	cr_assert_eq(skt_loop_defer(l, defer_b, &d), 0);
	cr_assert_eq(d.n, 0, "a deferred callback ran inside the call");
	/* a defers i: it runs after b, in a later round of the iteration. */
	cr_assert_eq(skt_loop_run(l, SKT_RUN_NOWAIT), 0);
	cr_assert_str_eq(d.s, "abi");
	cr_assert_eq(skt_loop_defer(l, NULL, NULL), SKT_EINVAL);
	skt_loop_free(l);
}

SKT_TEST(loop_core, deferred_dropped_by_free_leak_nothing)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	struct dlog d = {l, {0}, 0};
	for (int i = 0; i < 10; i++)
		cr_assert_eq(skt_loop_defer(l, defer_b, &d), 0);
	cr_assert_eq(skt_loop_post(l, defer_b, &d), 0);
	skt_loop_free(l);
	cr_assert_eq(d.n, 0);
}

/* ---- Other threads ---- */

struct poster {
	skt_loop *l;
	atomic_int got;
	int want;
};

static void posted(void *arg)
{
	struct poster *p = arg;
	if (atomic_fetch_add(&p->got, 1) + 1 == p->want)
		skt_loop_stop(p->l);
}

static void *post_many(void *arg)
{
	struct poster *p = arg;
	for (int i = 0; i < p->want / 4; i++) {
		cr_assert_eq(skt_loop_post(p->l, posted, p), 0);
		if (i % 50 == 0)
			usleep(100);
	}
	return NULL;
}

static void keepalive_cb(skt_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	cr_assert_fail("the keep-alive timer fired: a wake-up was lost");
}

LOOP_TEST(posts_from_threads_wake_the_loop)
{
	skt_loop *l = looptest_new(be);
	struct poster p = {l, 0, 4000};
	skt_timer *keep;
	cr_assert_eq(skt_timer_new(l, &keep, keepalive_cb, NULL), 0);
	skt_timer_start(keep, 10000, 0); /* the loop would sleep until then */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, post_many, &p);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 1);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&p.got), 4000);
	skt_timer_free(keep);
	skt_loop_free(l);
}

static void *stop_later(void *arg)
{
	usleep(50 * 1000);
	skt_loop_stop(arg);
	return NULL;
}

LOOP_TEST(stop_from_another_thread)
{
	skt_loop *l = looptest_new(be);
	skt_timer *keep;
	cr_assert_eq(skt_timer_new(l, &keep, keepalive_cb, NULL), 0);
	skt_timer_start(keep, 10000, 0);
	pthread_t th;
	pthread_create(&th, NULL, stop_later, l);
	int64_t t0 = skt_loop_now(l);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 1);
	skt_loop_update_time(l);
	cr_assert_lt(skt_loop_now(l) - t0, 2000);
	pthread_join(th, NULL);
	skt_timer_free(keep);
	skt_loop_free(l);
}

static void *wake_later(void *arg)
{
	usleep(30 * 1000);
	skt_loop_wake(arg);
	return NULL;
}

LOOP_TEST(wake_ends_a_blocked_iteration)
{
	skt_loop *l = looptest_new(be);
	skt_timer *keep;
	cr_assert_eq(skt_timer_new(l, &keep, keepalive_cb, NULL), 0);
	skt_timer_start(keep, 10000, 0);
	pthread_t th;
	pthread_create(&th, NULL, wake_later, l);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_ONCE), 1);
	pthread_join(th, NULL);
	skt_timer_free(keep);
	skt_loop_free(l);
}

/* ---- Signals ---- */

struct sigcount {
	int n;
	int last;
	skt_loop *l;
};

static void on_sig(skt_signal *s, int signum, void *arg)
{
	struct sigcount *c = arg;
	(void)s;
	c->n++;
	c->last = signum;
	skt_loop_stop(c->l);
}

LOOP_TEST(signal_delivered_as_event)
{
	skt_loop *l = looptest_new(be);
	struct sigcount c = {0, 0, l};
	skt_signal *s;
	cr_assert_eq(skt_signal_new(l, &s, SIGUSR1, on_sig, &c), 0);
	cr_assert_eq(raise(SIGUSR1), 0);
	cr_assert_eq(c.n, 0, "the callback ran inside the handler");
	run(l);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.last, SIGUSR1);
	/* Two arrivals before the loop looks coalesce into one event. */
	raise(SIGUSR1);
	raise(SIGUSR1);
	run(l);
	cr_assert_eq(c.n, 2);
	skt_signal_free(s);
	skt_loop_free(l);
}

static void *raise_from_thread(void *arg)
{
	(void)arg;
	usleep(20 * 1000);
	kill(getpid(), SIGUSR2); /* process-directed: any thread may take it */
	return NULL;
}

LOOP_TEST(signal_to_the_process_reaches_every_watcher)
{
	skt_loop *l = looptest_new(be);
	skt_loop *l2 = looptest_new(be);
	struct sigcount a = {0, 0, l}, b = {0, 0, l}, c2 = {0, 0, l2};
	skt_signal *sa, *sb, *sc, *term;
	cr_assert_eq(skt_signal_new(l, &sa, SIGUSR2, on_sig, &a), 0);
	cr_assert_eq(skt_signal_new(l, &sb, SIGUSR2, on_sig, &b), 0);
	cr_assert_eq(skt_signal_new(l2, &sc, SIGUSR2, on_sig, &c2), 0);
	cr_assert_eq(skt_signal_new(l, &term, SIGTERM, on_sig, &a), 0);
	pthread_t th;
	pthread_create(&th, NULL, raise_from_thread, NULL);
	run(l);
	pthread_join(th, NULL);
	run(l2);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(b.n, 1);
	cr_assert_eq(c2.n, 1);
	skt_signal_free(sa);
	skt_signal_free(sb);
	skt_signal_free(term);
	skt_loop_free(l2); /* frees sc */
	skt_loop_free(l);
}

SKT_TEST(loop_core, signal_disposition_restored_after_last_watcher)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	struct sigaction before, during, after;
	sigaction(SIGHUP, NULL, &before);
	skt_signal *s;
	struct sigcount c = {0, 0, l};
	cr_assert_eq(skt_signal_new(l, &s, SIGHUP, on_sig, &c), 0);
	sigaction(SIGHUP, NULL, &during);
	cr_assert_neq((void *)during.sa_handler, (void *)before.sa_handler);
	skt_signal_free(s);
	sigaction(SIGHUP, NULL, &after);
	cr_assert_eq((void *)after.sa_handler, (void *)before.sa_handler);
	cr_assert_eq(skt_signal_new(l, &s, SIGKILL, on_sig, &c), SKT_EINVAL);
	cr_assert_eq(skt_signal_new(l, &s, SIGSEGV, on_sig, &c), SKT_EINVAL);
	cr_assert_eq(skt_signal_new(l, &s, 0, on_sig, &c), SKT_EINVAL);
	cr_assert_eq(skt_signal_new(l, &s, 99, on_sig, &c), SKT_EINVAL);
	skt_loop_free(l);
}

static void free_self_sig(skt_signal *s, int signum, void *arg)
{
	struct sigcount *c = arg;
	(void)signum;
	c->n++;
	skt_signal_free(s);
}

LOOP_TEST(signal_watcher_freed_in_its_callback)
{
	skt_loop *l = looptest_new(be);
	struct sigcount c = {0, 0, l};
	skt_signal *s;
	cr_assert_eq(skt_signal_new(l, &s, SIGINT, free_self_sig, &c), 0);
	raise(SIGINT);
	run(l); /* ends once the freed watcher no longer keeps it alive */
	cr_assert_eq(c.n, 1);
	skt_loop_free(l);
}

/* ---- fd readiness ---- */

struct pipe_io {
	int fds[2];
	int reads, writes;
	char got[16];
	skt_io *w;
};

static void pipe_cb(skt_io *w, unsigned events, void *arg)
{
	struct pipe_io *p = arg;
	if (events & SKT_READABLE) {
		ssize_t n = read(skt_io_fd(w), p->got, sizeof(p->got) - 1);
		cr_assert_gt(n, 0);
		p->got[n] = '\0';
		p->reads++;
		skt_io_free(w); /* inside its own callback */
	}
}

static void write_pipe_cb(skt_timer *t, void *arg)
{
	struct pipe_io *p = arg;
	cr_assert_eq(write(p->fds[1], "ping", 4), 4);
	skt_timer_free(t);
}

LOOP_TEST(io_watcher_sees_readable_fd)
{
	skt_loop *l = looptest_new(be);
	struct pipe_io p = {{-1, -1}, 0, 0, {0}, NULL};
	cr_assert_eq(pipe2(p.fds, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(skt_io_new(l, &p.w, p.fds[0], pipe_cb, &p), 0);
	cr_assert_eq(skt_io_start(p.w, SKT_READABLE), 0);
	skt_timer *t;
	cr_assert_eq(skt_timer_new(l, &t, write_pipe_cb, &p), 0);
	skt_timer_start(t, 10, 0);
	run(l);
	cr_assert_eq(p.reads, 1);
	cr_assert_str_eq(p.got, "ping");
	close(p.fds[0]);
	close(p.fds[1]);
	skt_loop_free(l);
}

struct pair_io {
	skt_io *a, *b;
	int fired;
};

/* Both ends of a socketpair are writable in the same batch: the first
 * callback frees the other watcher, whose pending event must be dropped. */
static void free_other_cb(skt_io *w, unsigned events, void *arg)
{
	struct pair_io *p = arg;
	cr_assert(events & SKT_WRITABLE);
	p->fired++;
	skt_io *other = w == p->a ? p->b : p->a;
	skt_io_free(other);
	skt_io_free(w);
	p->a = p->b = NULL;
}

LOOP_TEST(io_watcher_freed_by_another_in_the_same_batch)
{
	skt_loop *l = looptest_new(be);
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
	struct pair_io p = {NULL, NULL, 0};
	cr_assert_eq(skt_io_new(l, &p.a, fds[0], free_other_cb, &p), 0);
	cr_assert_eq(skt_io_new(l, &p.b, fds[1], free_other_cb, &p), 0);
	skt_io_start(p.a, SKT_WRITABLE);
	skt_io_start(p.b, SKT_WRITABLE);
	run(l);
	cr_assert_eq(p.fired, 1);
	skt_close(fds[0]);
	skt_close(fds[1]);
	skt_loop_free(l);
}

/* ---- Running ---- */

static void rerun_cb(void *arg)
{
	cr_assert_eq(skt_loop_run(arg, SKT_RUN_NOWAIT), SKT_EBUSY);
}

SKT_TEST(loop_core, run_modes_and_reentry)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0, "nothing alive");
	cr_assert_eq(skt_loop_run(l, SKT_RUN_NOWAIT), 0);
	cr_assert_eq(skt_loop_defer(l, rerun_cb, l), 0);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	skt_loop_stop(l); /* before run: the next run returns at once */
	skt_timer *keep;
	cr_assert_eq(skt_timer_new(l, &keep, keepalive_cb, NULL), 0);
	skt_timer_start(keep, 10000, 0);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 1);
	skt_loop_free(l);
	skt_loop_free(NULL);
}

SKT_TEST(loop_core, backend_chosen_by_environment)
{
	skt_loop *l;
	setenv("SKT_LOOP_BACKEND", "poll", 1);
	cr_assert_eq(skt_loop_new(&l, NULL), 0);
	cr_assert_str_eq(skt_loop_backend(l), "poll");
	skt_loop_free(l);
	setenv("SKT_LOOP_BACKEND", "epoll", 1);
	cr_assert_eq(skt_loop_new(&l, NULL), 0);
	cr_assert_str_eq(skt_loop_backend(l), "epoll");
	skt_loop_free(l);
	setenv("SKT_LOOP_BACKEND", "kqueue", 1);
	cr_assert_eq(skt_loop_new(&l, NULL), SKT_EINVAL);
	cr_assert_null(l);
	unsetenv("SKT_LOOP_BACKEND");
	skt_loop_opts o = {.backend = SKT_BACKEND_POLL};
	cr_assert_eq(skt_loop_new(&l, &o), 0);
	cr_assert_str_eq(skt_loop_backend(l), "poll");
	skt_loop_free(l);
}

SKT_TEST(loop_core, loop_new_fails_cleanly_without_memory)
{
	for (long n = 1; n < 8; n++) {
		skt_loop *l = NULL;
		sktest_fail_alloc_at(n);
		int r = skt_loop_new(&l, NULL);
		sktest_fail_alloc_at(0);
		if (r == 0) {
			skt_loop_free(l);
			break;
		}
		cr_assert_eq(r, SKT_ENOMEM);
		cr_assert_null(l);
	}
}
