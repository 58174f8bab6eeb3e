/* echo.c - echo over TCP (or a Unix stream), and connect mode with its
 * optional exchange: send SIZE bytes per request, wait for all of them
 * back, compare every byte.
 *
 * A connection's bytes are one slice of the shared pattern (its phase),
 * so sending any number of due requests is one send() of a contiguous
 * slice, and checking a read is one memcmp against the same slice; the
 * n-th request is complete when (n + 1) * SIZE bytes have come back. */
#include "tools/bench/bench_int.h"

#include <string.h>

static int echo_issue(bench_conn *c, bench_slot *s)
{
	c->want += c->w->o->size;
	return 0;
}

/* Complete every request whose last byte has arrived. Returns false when
 * a completion closed the connection. */
static bool complete_upto(bench_conn *c, int64_t now)
{
	size_t size = c->w->o->size;
	unsigned depth = c->w->o->pipeline;
	while (c->inflight > 0 && (c->completed + 1) * size <= c->got) {
		int fd = c->fd;
		uint64_t gen = c->completed;
		c->answer_bytes = size;
		bench_complete(c, &c->slots[gen % depth], now);
		/* Closed (connect mode, -n reached) or failed and reopened. */
		if (c->fd != fd || c->state != CONN_UP || c->completed < gen)
			return false;
	}
	return true;
}

int bench_echo_check(const bench_shared *sh, uint32_t phase, uint64_t got,
		     uint64_t sent, const uint8_t *data, size_t n)
{
	/* got <= sent always (what was checked had been sent), so the
	 * subtraction cannot wrap; n beyond it is an echo of nothing. */
	if (got > sent || n > sent - got || n > sh->span)
		return BENCH_E_MISMATCH;
	if (memcmp(data, bench_out_at(sh, got, phase), n) != 0)
		return BENCH_E_MISMATCH;
	return 0;
}

static int echo_readable(bench_conn *c, int64_t now)
{
	bench_worker *w = c->w;
	for (;;) {
		ssize_t n = bench_recv(c, w->rbuf, w->rbuf_cap);
		if (n == SKT_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* The server closed: mid-answer is short, between
			 * answers (nothing in flight) a reset of the session.
			 */
			bench_fail(c, c->got > c->completed * w->o->size
					      ? BENCH_E_SHORT
					      : BENCH_E_RESET);
			return -1;
		}
		now = w->now;
		int bad = bench_echo_check(w->sh, c->phase, c->got, c->sent,
					   w->rbuf, (size_t)n);
		if (bad != 0) {
			bench_fail(c, bad);
			return -1;
		}
		c->got += (uint64_t)n;
		if (!complete_upto(c, now))
			return -1;
		/* A short read drained the socket (and TLS holds nothing):
		 * skip the recv that would only say EAGAIN. */
		if (bench_drained(c, (size_t)n, w->rbuf_cap))
			return 0;
	}
}

const bench_proto bench_echo_proto = {
	.issue = echo_issue,
	.flush = bench_push,
	.readable = echo_readable,
};

/* Connect mode: the request is the connection. Its latency is the
 * connect's; with SIZE > 0 one echo of SIZE bytes follows before the
 * close. */
static int connect_connected(bench_conn *c, int64_t now)
{
	bench_slot *s = &c->slots[0];
	bench_connected(c, s, now);
	if (c->w->o->size == 0) {
		bench_complete(c, s, now);
		return 0;
	}
	c->want = c->w->o->size;
	int err = bench_push(c);
	if (err != 0)
		bench_fail(c, err);
	return 0;
}

static int connect_readable(bench_conn *c, int64_t now)
{
	if (c->w->o->size > 0)
		return echo_readable(c, now);
	/* Nothing is expected: the connection is closed as soon as it is
	 * up, so a readable event here is for one already recycled. */
	return 0;
}

const bench_proto bench_connect_proto = {
	.issue = echo_issue,
	.flush = bench_push,
	.readable = connect_readable,
	.connected = connect_connected,
};
