/* loop_water_test.c - the write queue's water callback on both backends:
 * every "above" is followed by exactly one "below" once the queue is at or
 * under the low mark, even when the queue drains before "above" was
 * delivered; the two alternate strictly; writing, closing and aborting
 * from inside the callback are safe. (The plain backpressure pump:
 * loop_echo_test.c.) */
#define LOOP_SUITE loop_water
#include "looptest.h"

#include <linux/sockios.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define LOW  1024
#define HIGH 4096

/* What to do when the water callback runs. */
enum act {
	ACT_NOTHING,
	ACT_CLOSE,         /* skt_stream_close */
	ACT_CLOSE_DRAIN,   /* skt_stream_close, and the peer reads */
	ACT_ABORT,         /* skt_stream_abort */
	ACT_CROSS,         /* write past the high mark again */
	ACT_CROSS_OR_CLOSE /* ACT_CROSS while rounds last, then close */
};

struct water {
	skt_loop *l;
	skt_stream *s;
	int peer;
	char seq[32]; /* 'A' for above, 'B' for below, in order */
	int n;
	enum act on_above, on_below;
	int rounds; /* crossings left for ACT_CROSS_OR_CLOSE */
	uint64_t written, received;
	int closes, close_status;
};

static uint8_t chunk[8192];

/* Fill the kernel's buffers with small writes, then write past the high
 * mark: the write must report it (return 1). */
static void cross_high(struct water *w)
{
	int r;
	while (skt_stream_queued(w->s) == 0) {
		r = skt_stream_write(w->s, chunk, 1024);
		cr_assert_eq(r, 0, "filling: %d (%s)", r, skt_errname(r));
		w->written += 1024;
	}
	r = skt_stream_write(w->s, chunk, sizeof(chunk));
	cr_assert_eq(r, 1, "write returned %d with %zu bytes queued", r,
		     skt_stream_queued(w->s));
	w->written += sizeof(chunk);
}

/* The peer reads every byte the kernel holds, and the kernel has them
 * acknowledged (SIOCOUTQ 0): the next writable event sends the whole
 * queue at once, before anything else runs. */
static void peer_takes_all(struct water *w)
{
	static uint8_t sink[64 << 10];
	uint64_t want = w->written - skt_stream_queued(w->s);
	while (w->received < want) {
		size_t cap = want - w->received < sizeof(sink)
				     ? (size_t)(want - w->received)
				     : sizeof(sink);
		ssize_t n = skt_recv(w->peer, sink, cap, 2000);
		cr_assert_gt(n, 0, "peer recv: %s", skt_errname((int)n));
		w->received += (uint64_t)n;
	}
	int outq = -1;
	for (int i = 0; i < 2000; i++) {
		cr_assert_eq(ioctl(skt_stream_fd(w->s), SIOCOUTQ, &outq), 0);
		if (outq == 0)
			break;
		usleep(1000);
	}
	cr_assert_eq(outq, 0, "the kernel still holds %d bytes", outq);
}

static void act(struct water *w, enum act a)
{
	switch (a) {
	case ACT_NOTHING:
		break;
	case ACT_CLOSE:
		cr_assert_eq(skt_stream_close(w->s), 0);
		break;
	case ACT_CLOSE_DRAIN:
		cr_assert_eq(skt_stream_close(w->s), 0);
		peer_takes_all(w);
		break;
	case ACT_ABORT:
		cr_assert_eq(skt_stream_abort(w->s), 0);
		break;
	case ACT_CROSS_OR_CLOSE:
		if (w->rounds == 0) {
			cr_assert_eq(skt_stream_close(w->s), 0);
			break;
		}
		w->rounds--;
		/* fall through */
	case ACT_CROSS:
		cross_high(w);
		peer_takes_all(w);
		break;
	}
}

static void on_water(skt_stream *s, bool above)
{
	struct water *w = skt_stream_udata(s);
	cr_assert_lt(w->n, (int)sizeof(w->seq) - 1, "too many: %s", w->seq);
	char last = w->n > 0 ? w->seq[w->n - 1] : 'B';
	w->seq[w->n++] = above ? 'A' : 'B';
	cr_assert_neq(last, w->seq[w->n - 1], "not alternating: %s", w->seq);
	if (above) {
		act(w, w->on_above);
		return;
	}
	size_t q = skt_stream_queued(s);
	cr_assert_leq(q, LOW, "below with %zu queued", q);
	act(w, w->on_below);
}

static void note_close(skt_stream *s, int status)
{
	struct water *w = skt_stream_udata(s);
	w->closes++;
	w->close_status = status;
}

/* A stream with marks LOW / HIGH, a small send buffer (so a few writes
 * fill the kernel; a small receive buffer would stall on zero-window
 * probes), and a total timeout: a lost "below" ends the test with
 * SKT_ETIMEDOUT instead of a hang. */
static void water_setup(struct water *w, skt_backend be)
{
	memset(w, 0, sizeof(*w));
	w->l = looptest_new(be);
	w->peer = looptest_stream_pair(w->l, &w->s);
	skt_sock_set_opt(skt_stream_fd(w->s), SKT_OPT_SNDBUF, 16384);
	skt_stream_set_udata(w->s, w);
	skt_stream_on_close(w->s, note_close);
	cr_assert_eq(skt_stream_set_water(w->s, LOW, HIGH, on_water), 0);
	cr_assert_eq(skt_stream_set_timeouts(w->s, 0, 3000), 0);
}

/* The peer gets every byte written, then end of stream. */
static void water_finish(struct water *w)
{
	static uint8_t sink[64 << 10];
	for (;;) {
		ssize_t n = skt_recv(w->peer, sink, sizeof(sink), 2000);
		cr_assert_geq(n, 0, "peer recv: %s", skt_errname((int)n));
		if (n == 0)
			break;
		w->received += (uint64_t)n;
	}
	cr_assert_eq(w->received, w->written);
	skt_stream_free(w->s);
	skt_loop_free(w->l);
	skt_close(w->peer);
}

/* Runs as a deferred callback, so the stream's task that would deliver
 * "above" waits for the end of the iteration, after the loop has looked at
 * I/O: the writable event drains the queue first. */
static void cross_and_drain(void *arg)
{
	struct water *w = arg;
	cross_high(w);
	peer_takes_all(w);
}

/* Cross the high mark in a deferred callback that also lets the peer take
 * everything, run the loop, and expect the water callbacks' sequence and a
 * clean close. */
static void expect_after_drain(struct water *w, const char *seq)
{
	cr_assert_eq(skt_loop_defer(w->l, cross_and_drain, w), 0);
	looptest_run(w->l);
	cr_assert_str_eq(w->seq, seq);
	cr_assert_eq(w->close_status, 0, "closed by %s",
		     skt_errname(w->close_status));
}

LOOP_TEST(below_follows_above_when_the_queue_drains_first)
{
	struct water w;
	water_setup(&w, be);
	w.on_below = ACT_CLOSE;
	expect_after_drain(&w, "AB");
	cr_assert_eq(w.closes, 1);
	water_finish(&w);
}

LOOP_TEST(above_again_from_inside_the_below_callback)
{
	struct water w;
	water_setup(&w, be);
	w.on_below = ACT_CROSS_OR_CLOSE;
	w.rounds = 3;
	expect_after_drain(&w, "ABABABAB");
	water_finish(&w);
}

LOOP_TEST(past_high_again_inside_the_above_callback)
{
	struct water w;
	water_setup(&w, be);
	w.on_above = ACT_CROSS; /* the user already knows: no second "above" */
	w.on_below = ACT_CLOSE;
	expect_after_drain(&w, "AB");
	water_finish(&w);
}

LOOP_TEST(close_inside_the_above_callback_owes_no_below)
{
	struct water w;
	water_setup(&w, be);
	w.on_above = ACT_CLOSE;
	expect_after_drain(&w, "A");
	cr_assert_eq(w.closes, 1);
	water_finish(&w);
}

LOOP_TEST(abort_inside_a_late_above_callback)
{
	struct water w;
	water_setup(&w, be);
	w.on_above = ACT_ABORT;
	/* Nobody reads: "above" comes while the queue is still full. */
	cross_high(&w);
	cr_assert_eq(w.n, 0, "the callback ran inside skt_stream_write");
	looptest_run(w.l);
	cr_assert_str_eq(w.seq, "A");
	cr_assert_eq(w.closes, 1);
	cr_assert_eq(w.close_status, 0);
	skt_stream_free(w.s);
	skt_loop_free(w.l);
	skt_close(w.peer);
}

LOOP_TEST(no_below_once_closed_while_above)
{
	struct water w;
	water_setup(&w, be);
	w.on_above = ACT_CLOSE_DRAIN;
	/* Nobody reads yet: "above" comes while the queue is still full, and
	 * the queue drains while the stream is DRAINING. */
	cross_high(&w);
	looptest_run(w.l);
	cr_assert_str_eq(w.seq, "A");
	cr_assert_eq(w.closes, 1);
	cr_assert_eq(w.close_status, 0, "closed by %s",
		     skt_errname(w.close_status));
	water_finish(&w);
}

/* ---- A producer that pauses on "above" and a reader that stalls ---- */

#define PRODUCE (4u << 20)

struct producer {
	skt_stream *s;
	uint64_t written;
	bool paused;
	int above, below;
	bool last_above;
	uint8_t block[16384];
};

static void produce(struct producer *p)
{
	while (!p->paused && p->written < PRODUCE) {
		int r = skt_stream_write(p->s, p->block, sizeof(p->block));
		cr_assert_geq(r, 0, "write: %s", skt_errname(r));
		p->written += sizeof(p->block);
		if (r == 1)
			p->paused = true;
	}
	/* Done: close once the last "above", if any, has its "below". */
	if (!p->paused && p->written == PRODUCE)
		cr_assert_eq(skt_stream_close(p->s), 0);
}

static void producer_water(skt_stream *s, bool above)
{
	struct producer *p = skt_stream_udata(s);
	cr_assert_neq(above, p->last_above, "two %s in a row",
		      above ? "above" : "below");
	p->last_above = above;
	if (above) {
		p->above++;
		cr_assert(p->paused, "above, but no write returned 1");
		return;
	}
	p->below++;
	cr_assert_leq(skt_stream_queued(s), SKT_WATER_LOW_DEFAULT);
	p->paused = false;
	produce(p);
}

struct reader {
	int fd;
	uint64_t total;
};

static void *stall_then_read(void *arg)
{
	struct reader *r = arg;
	static uint8_t buf[64 << 10];
	for (int round = 0;; round++) {
		if (round % 16 == 0)
			usleep(20 * 1000); /* stops now and then */
		ssize_t n = skt_recv(r->fd, buf, sizeof(buf), 5000);
		if (n <= 0)
			break;
		r->total += (uint64_t)n;
	}
	return NULL;
}

LOOP_TEST(stalling_reader_gets_everything_with_alternating_water)
{
	skt_loop *l = looptest_new(be);
	struct producer p;
	memset(&p, 0, sizeof(p));
	int peer = looptest_stream_pair(l, &p.s);
	/* Small kernel buffers, so that 4 MiB must queue above the high
	 * mark whatever the reader's pace. */
	skt_sock_set_opt(skt_stream_fd(p.s), SKT_OPT_SNDBUF, 16384);
	skt_sock_set_opt(peer, SKT_OPT_RCVBUF, 16384);
	skt_stream_set_udata(p.s, &p);
	cr_assert_eq(skt_stream_set_water(p.s, 0, 0, producer_water), 0);
	cr_assert_eq(skt_stream_set_timeouts(p.s, 5000, 0), 0);
	struct reader r = {peer, 0};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, stall_then_read, &r), 0);
	produce(&p);
	looptest_run(l);
	pthread_join(th, NULL);
	cr_assert_eq(r.total, PRODUCE);
	cr_assert_geq(p.above, 1);
	cr_assert_eq(p.above, p.below, "%d above, %d below", p.above, p.below);
	skt_stream_free(p.s);
	skt_loop_free(l);
	skt_close(peer);
}
