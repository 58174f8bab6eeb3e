/* loop_stream_test.c - streams on both backends: connect, half-close
 * both ways, abortive close, graceful close with a queue, closing from
 * inside read / flush / timer callbacks, idle and total timeouts, and
 * freeing a loop with streams open. (Echo servers and backpressure:
 * loop_echo_test.c.) */
#define LOOP_SUITE loop_stream
#include "looptest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* ---- Connect ---- */

struct outcome {
	int connect_status, close_status;
	int connects, closes;
};

static void note_connect(skt_stream *s, int status)
{
	struct outcome *o = skt_stream_udata(s);
	o->connect_status = status;
	o->connects++;
}

static void note_close(skt_stream *s, int status)
{
	struct outcome *o = skt_stream_udata(s);
	o->close_status = status;
	o->closes++;
}

LOOP_TEST(connect_refused_reports_and_closes)
{
	skt_loop *l = looptest_new(be);
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_addr a;
	skt_sock_local(lfd, &a);
	skt_close(lfd); /* nobody listens there now */
	skt_stream *s;
	struct outcome o = {0};
	cr_assert_eq(skt_stream_connect(l, &s, &a, note_connect), 0);
	skt_stream_set_udata(s, &o);
	skt_stream_on_close(s, note_close);
	looptest_run(l);
	cr_assert_eq(o.connects, 1);
	cr_assert_eq(o.connect_status, SKT_ECONNREFUSED, "%s",
		     skt_errname(o.connect_status));
	cr_assert_eq(o.closes, 1);
	cr_assert_eq(o.close_status, SKT_ECONNREFUSED);
	cr_assert_eq(skt_stream_fd(s), -1);
	cr_assert_eq(skt_stream_write(s, "x", 1), SKT_ECONNREFUSED);
	skt_stream_free(s);
	skt_loop_free(l);
}

LOOP_TEST(writes_before_connect_completes_are_sent)
{
	skt_loop *l = looptest_new(be);
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_addr a;
	skt_sock_local(lfd, &a);
	skt_stream *s;
	struct outcome o = {0};
	cr_assert_eq(skt_stream_connect(l, &s, &a, note_connect), 0);
	skt_stream_set_udata(s, &o);
	cr_assert_eq(skt_stream_write(s, "early bytes", 11), 0);
	cr_assert_eq(skt_stream_close(s), 0); /* graceful: after they go */
	looptest_run(l);
	int fd = skt_accept(lfd, NULL, 2000);
	cr_assert_geq(fd, 0);
	char buf[32];
	cr_assert_eq(skt_read_exact(fd, buf, 11, 2000, NULL), 11);
	cr_assert_eq(memcmp(buf, "early bytes", 11), 0);
	cr_assert_eq(skt_recv(fd, buf, sizeof(buf), 2000), 0);
	cr_assert_eq(o.connects, 1);
	cr_assert_eq(o.connect_status, 0);
	skt_close(fd);
	skt_close(lfd);
	skt_stream_free(s);
	skt_loop_free(l);
}

/* ---- Half-close ---- */

static void reply_then_shutdown(skt_stream *s, int status, const uint8_t *d,
				size_t n)
{
	int *eofs = skt_stream_udata(s);
	if (status == 0) {
		skt_stream_write(s, d, n);
		return;
	}
	cr_assert_eq(status, SKT_EOF);
	++*eofs;
	/* The peer stopped sending; this side can still answer. */
	cr_assert_eq(skt_stream_write(s, "bye", 3), 0);
	cr_assert_eq(skt_stream_shutdown(s), 0);
	cr_assert_eq(skt_stream_write(s, "late", 4), SKT_EPIPE);
}

LOOP_TEST(peer_half_close_then_reply)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	int eofs = 0;
	skt_stream_set_udata(s, &eofs);
	cr_assert_eq(skt_stream_read_start(s, reply_then_shutdown), 0);
	cr_assert_eq(skt_send_all(peer, "hello", 5, 1000, NULL), 0);
	cr_assert_eq(skt_shutdown_write(peer), 0);
	/* Nothing else keeps it alive once the stream is done reading. */
	while (eofs == 0)
		cr_assert_geq(skt_loop_run(l, SKT_RUN_ONCE), 0);
	char buf[16];
	cr_assert_eq(skt_read_exact(peer, buf, 8, 1000, NULL), 8);
	cr_assert_eq(memcmp(buf, "hellobye", 8), 0);
	cr_assert_eq(skt_recv(peer, buf, sizeof(buf), 1000), 0, "no EOF");
	skt_stream_free(s);
	skt_loop_free(l);
	skt_close(peer);
}

struct collect {
	char buf[64];
	size_t n;
	int status;
};

static void collect_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	struct collect *c = skt_stream_udata(s);
	if (status < 0) {
		c->status = status;
		return;
	}
	memcpy(c->buf + c->n, d, n);
	c->n += n;
}

static void collect_then_free(skt_stream *s, int status, const uint8_t *d,
			      size_t n)
{
	collect_read(s, status, d, n);
	if (status < 0)
		skt_stream_free(s);
}

LOOP_TEST(own_half_close_keeps_reading)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	struct collect c = {{0}, 0, 0};
	skt_stream_set_udata(s, &c);
	cr_assert_eq(skt_stream_write(s, "last words", 10), 0);
	cr_assert_eq(skt_stream_shutdown(s), 0);
	char buf[16];
	cr_assert_eq(skt_read_exact(peer, buf, 10, 1000, NULL), 10);
	cr_assert_eq(skt_recv(peer, buf, sizeof(buf), 1000), 0, "no EOF");
	cr_assert_eq(skt_send_all(peer, "still here", 10, 1000, NULL), 0);
	skt_close(peer);
	cr_assert_eq(skt_stream_read_start(s, collect_then_free), 0);
	looptest_run(l);
	cr_assert_eq(c.n, 10);
	cr_assert_eq(memcmp(c.buf, "still here", 10), 0);
	cr_assert_eq(c.status, SKT_EOF);
	skt_loop_free(l);
}

/* ---- Closing ---- */

LOOP_TEST(abort_resets_the_peer)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	struct outcome o = {0};
	skt_stream_set_udata(s, &o);
	skt_stream_on_close(s, note_close);
	cr_assert_eq(skt_stream_write(s, "x", 1), 0);
	cr_assert_eq(skt_stream_abort(s), 0);
	cr_assert_eq(o.closes, 0, "on_close ran inside skt_stream_abort");
	looptest_run(l);
	cr_assert_eq(o.closes, 1);
	cr_assert_eq(o.close_status, 0);
	char buf[8];
	ssize_t n = skt_recv(peer, buf, sizeof(buf), 1000);
	if (n == 1) /* the byte may arrive before the reset */
		n = skt_recv(peer, buf, sizeof(buf), 1000);
	cr_assert_eq(n, SKT_ECONNRESET, "peer got %s", skt_errname((int)n));
	cr_assert_eq(skt_stream_write(s, "y", 1), SKT_EPIPE);
	cr_assert_eq(skt_stream_read_start(s, collect_read), SKT_ENOTCONN);
	skt_stream_free(s);
	skt_loop_free(l);
	skt_close(peer);
}

static void *drain_peer(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = skt_recv(fd, buf, sizeof(buf), 5000);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	*(int *)arg = (int)total;
	return NULL;
}

LOOP_TEST(graceful_close_sends_the_queue_first)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	static uint8_t big[4 << 20];
	memset(big, 'q', sizeof(big));
	cr_assert_geq(skt_stream_write(s, big, sizeof(big)), 0);
	cr_assert_gt(skt_stream_queued(s), 0);
	skt_stream_free(s); /* closes gracefully in the background */
	int arg = peer;
	pthread_t th;
	pthread_create(&th, NULL, drain_peer, &arg);
	looptest_run(l);
	pthread_join(th, NULL);
	cr_assert_eq(arg, (int)sizeof(big));
	skt_loop_free(l);
	skt_close(peer);
}

static void free_in_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	int *calls = skt_stream_udata(s);
	(void)d;
	(void)n;
	++*calls;
	cr_assert_eq(status, 0);
	skt_stream_write(s, "reply", 5);
	skt_stream_free(s); /* inside its own callback: deferred */
}

LOOP_TEST(free_from_inside_read_callback)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	int calls = 0;
	skt_stream_set_udata(s, &calls);
	cr_assert_eq(skt_stream_read_start(s, free_in_read), 0);
	/* Several chunks may be in the socket: only one callback runs. */
	cr_assert_eq(skt_send_all(peer, "a", 1, 1000, NULL), 0);
	looptest_run(l);
	cr_assert_eq(calls, 1);
	char buf[8];
	cr_assert_eq(skt_read_exact(peer, buf, 5, 1000, NULL), 5);
	cr_assert_eq(skt_recv(peer, buf, sizeof(buf), 1000), 0);
	skt_loop_free(l);
	skt_close(peer);
}

static void close_in_flush(skt_stream *s, int status)
{
	int *calls = skt_stream_udata(s);
	cr_assert_eq(status, 0);
	++*calls;
	cr_assert_eq(skt_stream_close(s), 0);
	skt_stream_free(s);
}

LOOP_TEST(close_from_inside_flush_callback)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	int calls = 0;
	skt_stream_set_udata(s, &calls);
	static uint8_t big[1 << 20];
	memset(big, 'f', sizeof(big));
	skt_stream_write(s, big, sizeof(big));
	cr_assert_eq(skt_stream_flush(s, close_in_flush), 0);
	cr_assert_eq(calls, 0);
	int arg = peer;
	pthread_t th;
	pthread_create(&th, NULL, drain_peer, &arg);
	looptest_run(l);
	pthread_join(th, NULL);
	cr_assert_eq(calls, 1);
	cr_assert_eq(arg, (int)sizeof(big));
	skt_loop_free(l);
	skt_close(peer);
}

static void flush_on_empty(skt_stream *s, int status)
{
	int *calls = skt_stream_udata(s);
	cr_assert_eq(status, 0);
	++*calls;
}

LOOP_TEST(flush_with_empty_queue_runs_later)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	int calls = 0;
	skt_stream_set_udata(s, &calls);
	cr_assert_eq(skt_stream_write(s, "ok", 2), 0);
	cr_assert_eq(skt_stream_flush(s, flush_on_empty), 0);
	cr_assert_eq(calls, 0, "flush callback ran inside the call");
	skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(calls, 1);
	skt_stream_free(s);
	skt_loop_free(l);
	skt_close(peer);
}

struct timer_closer {
	skt_stream *s;
	int reads;
};

static void never_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	(void)s;
	(void)d;
	(void)n;
	cr_assert_fail("read callback after free (status %d)", status);
}

static void free_from_timer(skt_timer *t, void *arg)
{
	struct timer_closer *tc = arg;
	skt_stream_free(tc->s); /* a read is active */
	skt_timer_free(t);
}

LOOP_TEST(free_from_timer_callback_with_read_active)
{
	skt_loop *l = looptest_new(be);
	struct timer_closer tc = {NULL, 0};
	int peer = looptest_stream_pair(l, &tc.s);
	cr_assert_eq(skt_stream_read_exact(tc.s, 100, never_read), 0);
	skt_timer *t;
	cr_assert_eq(skt_timer_new(l, &t, free_from_timer, &tc), 0);
	skt_timer_start(t, 20, 0);
	looptest_run(l);
	char buf[8];
	cr_assert_eq(skt_recv(peer, buf, sizeof(buf), 1000), 0);
	skt_loop_free(l);
	skt_close(peer);
}

/* ---- Timeouts ---- */

struct timed {
	skt_loop *l;
	int read_status, close_status;
	int64_t start, fired_at;
	int64_t last_read; /* loop time of the last byte that came */
	int reads;
};

static void timed_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	struct timed *t = skt_stream_udata(s);
	(void)d;
	(void)n;
	if (status == 0) {
		/* Traffic: keeps the idle timeout away. When it came is
		 * measured, not assumed (under valgrind a 20 ms sleep can
		 * take far longer), on the loop's clock of this turn, the
		 * one the stream stamps its activity with. */
		t->last_read = skt_loop_now(t->l);
		t->reads++;
		return;
	}
	t->read_status = status;
}

static void timed_close(skt_stream *s, int status)
{
	struct timed *t = skt_stream_udata(s);
	t->close_status = status;
	skt_loop_update_time(t->l);
	t->fired_at = skt_loop_now(t->l);
	skt_stream_free(s);
}

static void *trickle(void *arg)
{
	int fd = *(int *)arg;
	for (int i = 0; i < 6; i++) {
		usleep(20 * 1000);
		skt_send_all(fd, "t", 1, 1000, NULL);
	}
	return NULL;
}

/* The idle timeout counts from the last byte that came, whenever that
 * was: the gaps are measured, so a slow host (valgrind) that stretches
 * the 20 ms gaps past the timeout makes it fire earlier, not the test
 * fail. On a host of ordinary speed six bytes come over ~120 ms and a
 * timeout that traffic did not restart would fire ~60 ms after the start,
 * ~60 ms before the last byte. */
LOOP_TEST(idle_timeout_fires_only_after_traffic_stops)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	struct timed t = {.l = l};
	skt_stream_set_udata(s, &t);
	skt_stream_on_close(s, timed_close);
	cr_assert_eq(skt_stream_set_timeouts(s, 60, 0), 0);
	cr_assert_eq(skt_stream_read_start(s, timed_read), 0);
	t.start = skt_loop_now(l);
	int arg = peer;
	pthread_t th;
	pthread_create(&th, NULL, trickle, &arg); /* 120 ms of traffic */
	looptest_run(l);
	pthread_join(th, NULL);
	/* Free first: a failed assertion below must not leak the loop. */
	skt_loop_free(l);
	skt_close(peer);
	cr_assert_eq(t.read_status, SKT_ETIMEDOUT);
	cr_assert_eq(t.close_status, SKT_ETIMEDOUT);
	int64_t since = t.fired_at - (t.reads > 0 ? t.last_read : t.start);
	cr_assert_geq(since, 60, "fired %lld ms after the last of %d reads",
		      (long long)since, t.reads);
	/* A sanity bound only, far above any slowdown. */
	cr_assert_lt(since, 5000, "fired %lld ms after the last of %d reads",
		     (long long)since, t.reads);
}

LOOP_TEST(total_timeout_fires_despite_traffic)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = looptest_stream_pair(l, &s);
	struct timed t = {.l = l};
	skt_stream_set_udata(s, &t);
	skt_stream_on_close(s, timed_close);
	cr_assert_eq(skt_stream_set_timeouts(s, 1000, 50), 0);
	cr_assert_eq(skt_stream_read_start(s, timed_read), 0);
	t.start = skt_loop_now(l);
	int arg = peer;
	pthread_t th;
	pthread_create(&th, NULL, trickle, &arg);
	looptest_run(l);
	pthread_join(th, NULL);
	skt_loop_free(l);
	skt_close(peer);
	cr_assert_eq(t.close_status, SKT_ETIMEDOUT);
	int64_t took = t.fired_at - t.start;
	cr_assert_geq(took, 50);
	/* Traffic every 20 ms would hold an idle timeout off; the total
	 * one fires anyway, long before the 1 s idle one could. */
	cr_assert_lt(took, 1000, "fired after %lld ms", (long long)took);
}

/* ---- Freeing the loop ---- */

LOOP_TEST(loop_free_tells_open_streams)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s1, *s2;
	int p1 = looptest_stream_pair(l, &s1);
	int p2 = looptest_stream_pair(l, &s2);
	struct outcome o1 = {0}, o2 = {0};
	skt_stream_set_udata(s1, &o1);
	skt_stream_set_udata(s2, &o2);
	skt_stream_on_close(s1, note_close);
	skt_stream_on_close(s2, note_close);
	skt_stream_read_start(s1, collect_read);
	skt_stream_write(s2, "pending", 7);
	skt_loop_free(l); /* s1 and s2 go with it */
	cr_assert_eq(o1.closes, 1);
	cr_assert_eq(o1.close_status, SKT_ECANCELED);
	cr_assert_eq(o2.closes, 1);
	char buf[16];
	ssize_t n = skt_recv(p1, buf, sizeof(buf), 1000);
	cr_assert(n == 0 || n == SKT_ECONNRESET);
	skt_close(p1);
	skt_close(p2);
}

SKT_TEST(loop_stream, bad_arguments)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	skt_stream *s;
	cr_assert_eq(skt_stream_new(l, &s, -1), SKT_EBADF);
	cr_assert_null(s);
	cr_assert_eq(skt_stream_connect(l, &s, NULL, NULL), SKT_EINVAL);
	int peer = looptest_stream_pair(l, &s);
	cr_assert_eq(skt_stream_read_start(s, NULL), SKT_EINVAL);
	cr_assert_eq(skt_stream_read_exact(s, 0, collect_read), SKT_EINVAL);
	cr_assert_eq(skt_stream_read_until(s, "", 0, 0, collect_read),
		     SKT_EINVAL);
	cr_assert_eq(skt_stream_read_line(s, 0, collect_read), 0);
	cr_assert_eq(skt_stream_read_frame(s, 0, collect_read), SKT_EBUSY);
	cr_assert_eq(skt_stream_read_start(s, collect_read), SKT_EBUSY);
	cr_assert_eq(skt_stream_read_stop(s), 0);
	cr_assert_eq(skt_stream_read_start(s, collect_read), 0);
	cr_assert_eq(skt_stream_read_start(s, collect_read), 0, "replace cb");
	cr_assert_eq(skt_stream_set_timeouts(s, -1, 0), SKT_EINVAL);
	cr_assert_eq(skt_stream_write_frame(s, "x", 10, 5), SKT_ETOOBIG);
	cr_assert_eq(skt_stream_flush(s, NULL), SKT_EINVAL);
	cr_assert_eq(skt_stream_loop(s), l);
	cr_assert_eq(skt_stream_close(s), 0);
	cr_assert_eq(skt_stream_close(s), 0);
	cr_assert_eq(skt_stream_write(s, "x", 1), SKT_EPIPE);
	skt_stream_free(s);
	skt_stream_free(NULL);
	skt_loop_free(l);
	skt_close(peer);
}

SKT_TEST(loop_stream, stream_new_fails_cleanly_without_memory)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
	skt_stream *s = NULL;
	sktest_fail_alloc_at(1);
	int r = skt_stream_new(l, &s, fds[0]);
	sktest_fail_alloc_at(0);
	cr_assert_eq(r, SKT_ENOMEM);
	cr_assert_null(s);
	skt_close(fds[0]);
	skt_close(fds[1]);
	skt_loop_free(l);
}
