/* worker.c - one thread of `sockit bench`: a loop, its share of the
 * connections, and the two models that decide when a request goes out.
 *
 * A connection's states (bench_int.h): DOWN -> CONNECTING -> (HANDSHAKE,
 * over TLS: tls.c) -> UP -> DOWN again after a failure (retried with a
 * backoff of 0, 1, 2 ... 100 ms so that a dead server is counted, not
 * spun on) or, in connect mode and with reconnect, after every request;
 * DONE once -n is reached and nothing is in flight.
 *
 * Closed model: an UP connection refills to `pipeline` requests whenever
 * one completes: by default as soon as the read that completed it has been
 * handled (one send however many answers the read held), as independent
 * clients would, so every connection has its requests at the server
 * nearly all the time and the mean latency is connections / throughput
 * (Little's law). Completions outside a read (UDP losses) refill once the
 * loop iteration's callbacks are done (on_settle). With
 * next_on_poll it waits for its next writable event instead, as wrk
 * does: a connection then sits idle for about one poll between an answer
 * and its next request, the server sees fewer requests at once, and the
 * latency is that of the lighter load (at -c 50 against nginx on this
 * project's machine, about half). Open model: requests fall due every
 * interval_ns; a due request goes to any connection with room (the `room` list)
 * and carries its due time as the origin of its latency; when none has room it
 * waits and the next completion takes it at once. A timerfd (nanoseconds, not
 * the loop's milliseconds) wakes the thread for the next due request. */
#include "tools/bench/bench_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RETRY_MAX_MS 100
#define SWEEP_MAX_MS 100

static void conn_start(bench_conn *c);
static void pace(bench_worker *w, int64_t now);

static bool open_model(const bench_worker *w)
{
	return w->o->rate > 0;
}

static bool connect_mode(const bench_worker *w)
{
	return w->o->mode == BENCH_CONNECT;
}

/* May one more request, of latency origin t, go out? Only while the run
 * lasts and, with -n, while tickets of the measured window remain; a
 * request that will not count takes none. */
static bool take_ticket(bench_worker *w, int64_t t)
{
	if (w->no_tickets ||
	    atomic_load_explicit(&w->sh->stopping, memory_order_relaxed))
		return false;
	if (w->o->requests == 0 || !bench_in_window(w, t))
		return true;
	if (atomic_fetch_add_explicit(&w->sh->tickets, 1,
				      memory_order_relaxed) < w->o->requests)
		return true;
	w->no_tickets = true;
	return false;
}

/* ---- The list of connections that can take a request now ---- */

static bool has_room(const bench_conn *c)
{
	if (connect_mode(c->w))
		return c->state == CONN_DOWN && !skt_timer_active(c->retry);
	return c->state == CONN_UP && !c->draining &&
	       c->inflight < c->w->o->pipeline;
}

static void room_update(bench_conn *c)
{
	bench_worker *w = c->w;
	bool room = open_model(w) && has_room(c);
	if (room == c->listed)
		return;
	if (room) {
		w->room[w->nroom++] = c;
	} else {
		for (unsigned i = 0; i < w->nroom; i++) {
			if (w->room[i] == c) {
				w->room[i] = w->room[--w->nroom];
				break;
			}
		}
	}
	c->listed = room;
}

/* ---- Connections ---- */

/* Close c's socket; clean: between requests, so a TLS session ends with
 * close_notify (a server logs a close without one as truncated). */
static void conn_close(bench_conn *c, bool clean)
{
	if (c->fd < 0)
		return;
	if (c->tls != NULL)
		bench_tls_end(c, clean && c->state == CONN_UP);
	skt_io_free(c->io);
	c->io = NULL;
	close(c->fd);
	c->fd = -1;
	c->want_out = false;
	c->refill_on_write = false;
	c->draining = false;
	c->hs_owed = c->session_kept = false;
	c->read_wants_out = c->write_wants_in = c->truncated = false;
	if (c->w->proto->reset != NULL)
		c->w->proto->reset(c);
	c->want = c->sent = c->got = c->answer_bytes = 0;
	c->answer_status = 0;
	c->issued = c->completed = 0;
	for (unsigned i = 0; i < c->w->o->pipeline; i++)
		c->slots[i].used = false;
	c->inflight = 0;
}

static void conn_done(bench_conn *c)
{
	bench_worker *w = c->w;
	conn_close(c, true);
	skt_timer_stop(c->retry);
	c->state = CONN_DONE;
	room_update(c);
	if (--w->live == 0)
		skt_loop_stop(w->loop);
}

/* With -n used up, a connection with nothing in flight has no more use. */
static bool finished(bench_conn *c)
{
	if (c->state == CONN_DONE)
		return true;
	if (!c->w->no_tickets || c->inflight > 0 || c->resend > 0)
		return false;
	conn_done(c);
	return true;
}

/* Returns whether it counted (in the window, of a counted request). */
static bool count_error(bench_worker *w, bench_slot *s, int err)
{
	if ((s != NULL && !s->counted) || !bench_in_window(w, bench_now()))
		return false;
	w->c.errors[err]++;
	w->end_ns = bench_now();
	atomic_store_explicit(&w->pub_errors, bench_errors(&w->c),
			      memory_order_relaxed);
	return true;
}

/* The first connect of c has ended: up (was_up) or failed. The last one
 * to settle may open the window. */
static void settle(bench_conn *c, bool up)
{
	bench_shared *sh = c->w->sh;
	if (up && !c->was_up) {
		c->was_up = true;
		atomic_fetch_add(&sh->used, 1);
	}
	if (c->settled)
		return;
	c->settled = true;
	if (atomic_fetch_add(&sh->settled, 1) + 1 == c->w->o->conns) {
		int64_t now = bench_now();
		atomic_store(&sh->setup_ns, now);
		bench_try_start(sh, now);
	}
}

static void retry_later(bench_conn *c)
{
	unsigned f = c->failures < 8 ? c->failures : 8;
	int64_t ms = f == 0 ? 0 : (int64_t)1 << (f - 1);
	if (ms > RETRY_MAX_MS)
		ms = RETRY_MAX_MS;
	c->failures++;
	skt_timer_start(c->retry, ms, 0);
}

void bench_fail(bench_conn *c, int err)
{
	bench_worker *w = c->w;
	/* Accepted, then closed before any answer (the reset can come while
	 * the connect's completion is still unread): what a server's cap on
	 * connections (per client address or in all) looks like. */
	bool early =
		err == BENCH_E_RESET && !connect_mode(w) &&
		(c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE ||
		 (c->state == CONN_UP && c->completed == 0));
	uint64_t n = 0;
	settle(c, false);
	if (c->resend > 0) {
		/* The connection that was to carry them again failed. */
		for (unsigned i = 0; i < c->resend; i++)
			n += count_error(w, &c->slots[i], err);
		c->resend = 0;
	} else if (c->inflight == 0) {
		/* A connect that failed with nothing in flight stands for the
		 * request it was to carry: with -n it uses a ticket, so that a
		 * dead server still ends the run. One instant for both: a
		 * ticket taken before the window opened is free, and must not
		 * be counted by a clock read after it opened. */
		int64_t now = bench_now();
		if (take_ticket(w, now) && bench_in_window(w, now))
			n += count_error(w, NULL, err);
	}
	for (unsigned i = 0; i < w->o->pipeline; i++)
		if (c->slots[i].used)
			n += count_error(w, &c->slots[i], err);
	if (early)
		w->c.early_resets += n;
	conn_close(c, false);
	c->state = CONN_DOWN;
	if (finished(c))
		return;
	retry_later(c);
	room_update(c);
}

void bench_recycle(bench_conn *c)
{
	if (c->inflight > 0)
		bench_keep_inflight(c);
	conn_close(c, true);
	c->state = CONN_DOWN;
	c->failures = 0;
	if (finished(c))
		return;
	if (connect_mode(c->w) && open_model(c->w)) {
		room_update(c);
		pace(c->w, bench_now());
	} else {
		conn_start(c);
	}
}

/* ---- Requests ---- */

static int flush(bench_conn *c)
{
	return c->w->proto->flush != NULL ? c->w->proto->flush(c) : 0;
}

static bench_slot *free_slot(bench_conn *c)
{
	unsigned depth = c->w->o->pipeline;
	bench_slot *s = &c->slots[c->issued % depth];
	for (unsigned i = 0; s->used && i < depth; i++)
		s = &c->slots[i];
	return s;
}

/* Put one request on an UP connection. t is its latency origin. */
static int issue_one(bench_conn *c, int64_t t, int64_t now)
{
	bench_slot *s = free_slot(c);
	s->used = true;
	s->t_ns = t;
	s->seq = c->issued++;
	s->counted = bench_in_window(c->w, t) && bench_in_window(c->w, now);
	s->sent_ns = now;
	c->inflight++;
	return c->w->proto->issue(c, s);
}

/* Closed model: fill the pipeline. */
static void refill(bench_conn *c, int64_t now)
{
	unsigned depth = c->w->o->pipeline;
	unsigned n = 0;
	while (c->inflight < depth && !c->draining && take_ticket(c->w, now)) {
		int err = issue_one(c, now, now);
		if (err != 0) {
			bench_fail(c, err);
			return;
		}
		n++;
	}
	if (n > 0) {
		int err = flush(c);
		if (err != 0) {
			bench_fail(c, err);
			return;
		}
	}
	finished(c);
}

/* Once the iteration's reads are done: send the next requests of every
 * connection that completed some, one send() each however many completed,
 * and hand out what fell due in the open model. Deferring to this point
 * is also what wrk does (it writes on the next writable event), so a
 * request's latency runs from its own send, not from the moment its
 * predecessor's answer was read. */
static void on_settle(void *arg)
{
	bench_worker *w = arg;
	int64_t now = bench_now();
	w->settle_queued = false;
	for (unsigned i = 0; i < w->npending; i++) {
		bench_conn *c = w->pending[i];
		if (c->pending && c->state == CONN_UP) {
			c->pending = false;
			refill(c, now);
		}
		c->pending = false;
	}
	w->npending = 0;
	if (open_model(w))
		pace(w, now);
}

static void next_work(bench_conn *c, int64_t now)
{
	bench_worker *w = c->w;
	if (!open_model(w) && w->o->next_on_poll) {
		c->refill_on_write = true;
		skt_io_start(c->io, SKT_READABLE | SKT_WRITABLE);
		return;
	}
	if (!open_model(w) && w->in_read) {
		c->refill_after_read = true;
		return;
	}
	if (open_model(w))
		room_update(c);
	else if (!c->pending) {
		c->pending = true;
		w->pending[w->npending++] = c;
	}
	if (!w->settle_queued) {
		if (skt_loop_defer(w->loop, on_settle, w) == 0) {
			w->settle_queued = true;
		} else {
			on_settle(w); /* out of memory: at once, unbatched */
			return;
		}
	}
	if (open_model(w))
		finished(c);
}

static void record(bench_worker *w, bench_slot *s, int64_t now)
{
	int64_t ns = now - s->t_ns;
	hist_record(&w->latency, ns > 0 ? (uint64_t)ns : 0);
}

/* The answer in front belongs to a counted request: its bytes and status. */
static void count_answer(bench_conn *c)
{
	bench_counts *n = &c->w->c;
	n->bytes_in += c->answer_bytes;
	if (c->answer_status >= BENCH_STATUS_MIN &&
	    c->answer_status < BENCH_STATUS_END)
		n->statuses[c->answer_status]++;
}

void bench_complete(bench_conn *c, bench_slot *s, int64_t now)
{
	bench_worker *w = c->w;
	if (s->counted && !bench_in_window(w, now))
		s->counted = false; /* ended after the window */
	if (s->counted) {
		w->c.requests++;
		count_answer(c);
		bench_tls_count(c);
		if (!connect_mode(w))
			record(w, s, now);
		atomic_store_explicit(&w->pub_requests, w->c.requests,
				      memory_order_relaxed);
		w->end_ns = now;
	}
	c->answer_bytes = 0;
	c->answer_status = 0;
	s->used = false;
	c->inflight--;
	c->completed++;
	/* Reconnect: the next request goes on a new connection. */
	if (connect_mode(w) || (w->o->reconnect && c->inflight == 0)) {
		bench_recycle(c);
		return;
	}
	next_work(c, now);
}

void bench_lost(bench_conn *c, bench_slot *s, int err)
{
	if (s->counted && !bench_in_window(c->w, bench_now()))
		s->counted = false;
	if (s->counted) {
		count_answer(c);
		bench_tls_count(c);
	}
	c->answer_bytes = 0;
	c->answer_status = 0;
	count_error(c->w, s, err);
	s->used = false;
	c->inflight--;
	c->completed++;
	next_work(c, bench_now());
}

/* Connect mode: the latency of the connect itself. */
void bench_connected(bench_conn *c, bench_slot *s, int64_t now)
{
	if (s->counted && !bench_in_window(c->w, now))
		s->counted = false;
	if (s->counted)
		record(c->w, s, now);
}

/* ---- Connecting ---- */

void bench_up(bench_conn *c, int64_t now)
{
	bench_worker *w = c->w;
	c->state = CONN_UP;
	c->failures = 0;
	if (bench_measuring(w) || (!c->was_up && !connect_mode(w)))
		w->c.connects++;
	settle(c, true);
	skt_io_start(c->io, SKT_READABLE);
	if (c->resend > 0) {
		int err = bench_resend(c, now);
		if (err != 0) {
			bench_fail(c, err);
			return;
		}
	}
	if (connect_mode(w)) {
		if (w->proto->connected != NULL &&
		    w->proto->connected(c, now) != 0)
			bench_fail(c, BENCH_E_OTHER);
		return;
	}
	next_work(c, now);
}

static void on_writable(bench_conn *c, int64_t now)
{
	if (c->want_out) {
		int err = bench_push(c);
		if (err != 0) {
			bench_fail(c, err);
			return;
		}
	}
	if (c->refill_on_write && !c->want_out) {
		c->refill_on_write = false;
		refill(c, now);
	}
	if (c->state == CONN_UP && !c->want_out && !c->refill_on_write)
		bench_watch(c);
}

static void on_io(skt_io *io, unsigned events, void *arg)
{
	bench_conn *c = arg;
	int64_t now = bench_now();
	if (c->state == CONN_CONNECTING) {
		int err = skt_sock_error(c->fd);
		if (err != 0)
			bench_fail(c, bench_errkind(err));
		else if (c->w->o->tls != NULL)
			bench_tls_begin(c, now);
		else
			bench_up(c, now);
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		bench_tls_step(c, now);
		return;
	}
	if (c->tls != NULL) {
		/* A TLS read may wait to write and a write to read: the event
		 * is the other's. */
		if ((events & SKT_WRITABLE) && c->read_wants_out) {
			c->read_wants_out = false;
			events |= SKT_READABLE;
		}
		if ((events & SKT_READABLE) && c->write_wants_in)
			events |= SKT_WRITABLE;
	}
	if (events & SKT_READABLE) {
		bench_worker *w = c->w;
		w->in_read = true;
		w->now = now;
		int r = w->proto->readable(c, now);
		w->in_read = false;
		bool due = c->refill_after_read;
		c->refill_after_read = false;
		if (r != 0)
			return;
		/* Answers read: the next requests go out now, one send for
		 * however many completed, as an independent client would. */
		if (due && c->state == CONN_UP)
			refill(c, w->now);
	}
	if ((events & SKT_WRITABLE) && c->fd >= 0)
		on_writable(c, now);
}

static int open_socket(bench_conn *c)
{
	bench_worker *w = c->w;
	const skt_addr *t = &w->o->target;
	int fd = skt_socket(t->u.sa.sa_family,
			    w->o->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	int err = 0;
	if (!w->o->udp && t->u.sa.sa_family != AF_UNIX) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (t->u.sa.sa_family == AF_INET)
		err = bench_bind_source(w, fd);
	if (err == 0)
		err = skt_io_new(w->loop, &c->io, fd, on_io, c);
	if (err != 0) {
		close(fd);
		return err;
	}
	c->fd = fd;
	return 0;
}

/* Start a connection; in connect mode, the request is the connection. */
static void conn_connect(bench_conn *c, int64_t t)
{
	bench_worker *w = c->w;
	int64_t now = bench_now();
	if (connect_mode(w)) {
		bench_slot *s = free_slot(c);
		*s = (bench_slot){.used = true,
				  .t_ns = t,
				  .sent_ns = now,
				  .counted = bench_in_window(w, t) &&
					     bench_in_window(w, now)};
		c->inflight = 1;
		c->issued = 1;
	}
	c->connect_ns = now;
	int err = open_socket(c);
	if (err == 0 &&
	    connect(c->fd, &w->o->target.u.sa, w->o->target.len) < 0 &&
	    errno != EINPROGRESS)
		err = -errno;
	if (err != 0) {
		bench_fail(c, bench_errkind(err));
		return;
	}
	c->state = CONN_CONNECTING;
	room_update(c);
	if (w->o->udp) {
		bench_up(c, now);
		return;
	}
	skt_io_start(c->io, SKT_WRITABLE);
}

static void conn_start(bench_conn *c)
{
	if (finished(c))
		return;
	int64_t now = bench_now();
	if (connect_mode(c->w) && !take_ticket(c->w, now)) {
		finished(c);
		return;
	}
	conn_connect(c, now);
}

static void on_retry(skt_timer *t, void *arg)
{
	bench_conn *c = arg;
	if (connect_mode(c->w) && open_model(c->w)) {
		room_update(c);
		pace(c->w, bench_now());
		finished(c);
		return;
	}
	conn_start(c);
}

/* ---- The open model ---- */

static int64_t due_at(const bench_worker *w, uint64_t k)
{
	return w->sh->t0_ns + (int64_t)((double)k * w->interval_ns);
}

static void arm_pace(bench_worker *w, int64_t at)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = at / 1000000000,
			     .tv_nsec = at % 1000000000},
	};
	timerfd_settime(w->pace_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void flush_or_fail(bench_conn *c)
{
	int err = flush(c);
	if (err != 0)
		bench_fail(c, err);
}

/* Hand every request due by now to connections with room; requests given
 * to one connection in a row leave in one send. */
static void pace(bench_worker *w, int64_t now)
{
	bench_conn *unsent = NULL;
	while (w->nroom > 0 && due_at(w, w->paced) <= now) {
		int64_t t = due_at(w, w->paced);
		if (!take_ticket(w, t))
			break;
		w->paced++;
		bench_conn *c = w->room[w->nroom - 1];
		if (connect_mode(w)) {
			conn_connect(c, t);
			continue;
		}
		if (unsent != NULL && unsent != c)
			flush_or_fail(unsent);
		unsent = c;
		int err = issue_one(c, t, now);
		if (err != 0) {
			bench_fail(c, err);
			unsent = NULL;
		} else {
			room_update(c);
		}
	}
	if (unsent != NULL)
		flush_or_fail(unsent);
	if (w->no_tickets) {
		for (unsigned i = 0; i < w->nconns; i++)
			finished(&w->conns[i]);
		return;
	}
	if (w->nroom > 0 && due_at(w, w->paced) > now)
		arm_pace(w, due_at(w, w->paced));
}

static void on_pace(skt_io *io, unsigned events, void *arg)
{
	bench_worker *w = arg;
	uint64_t expirations;
	if (read(w->pace_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	pace(w, bench_now());
}

/* ---- Timeouts ---- */

static void sweep_conn(bench_conn *c, int64_t limit)
{
	if (c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE) {
		if (c->connect_ns < limit)
			bench_fail(c, BENCH_E_TIMEOUT);
		return;
	}
	if (c->state != CONN_UP)
		return;
	unsigned depth = c->w->o->pipeline;
	for (unsigned i = 0; i < depth && c->state == CONN_UP; i++) {
		bench_slot *s = &c->slots[i];
		if (!s->used || s->sent_ns >= limit)
			continue;
		if (c->w->o->udp) {
			bench_lost(c, s, BENCH_E_LOST);
		} else {
			bench_fail(c, BENCH_E_TIMEOUT);
			return;
		}
	}
}

static void on_sweep(skt_timer *t, void *arg)
{
	bench_worker *w = arg;
	int64_t limit = bench_now() - w->o->timeout_ms * 1000000;
	for (unsigned i = 0; i < w->nconns; i++)
		sweep_conn(&w->conns[i], limit);
}

/* ---- The thread ---- */

static int setup(bench_worker *w)
{
	const bench_opts *o = w->o;
	int err;
	w->rbuf_cap = w->sh->span < 65536 ? w->sh->span : 65536;
	w->rbuf = skt_malloc(w->rbuf_cap);
	w->room = skt_calloc(w->nconns, sizeof(*w->room));
	w->pending = skt_calloc(w->nconns, sizeof(*w->pending));
	if (w->rbuf == NULL || w->room == NULL || w->pending == NULL)
		return SKT_ENOMEM;
	for (unsigned i = 0; i < w->nconns; i++) {
		bench_conn *c = &w->conns[i];
		c->w = w;
		c->fd = -1;
		c->phase = (uint32_t)(((uint64_t)w->index * 7919 + i * 104729) %
				      w->sh->period);
		if (o->mode == BENCH_HTTP)
			c->phase = 0;
		c->slots = skt_calloc(o->pipeline, sizeof(*c->slots));
		if (c->slots == NULL)
			return SKT_ENOMEM;
		err = skt_timer_new(w->loop, &c->retry, on_retry, c);
		if (err != 0)
			return err;
	}
	int64_t sweep_ms = o->timeout_ms / 4;
	if (sweep_ms < 1)
		sweep_ms = 1;
	if (sweep_ms > SWEEP_MAX_MS)
		sweep_ms = SWEEP_MAX_MS;
	err = skt_timer_new(w->loop, &w->sweep, on_sweep, w);
	if (err == 0)
		err = skt_timer_start(w->sweep, sweep_ms, sweep_ms);
	if (err != 0 || o->rate <= 0)
		return err;
	w->pace_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->pace_fd < 0)
		return -errno;
	err = skt_io_new(w->loop, &w->pace_io, w->pace_fd, on_pace, w);
	if (err == 0)
		err = skt_io_start(w->pace_io, SKT_READABLE);
	return err;
}

static void teardown(bench_worker *w)
{
	for (unsigned i = 0; w->conns != NULL && i < w->nconns; i++) {
		bench_conn *c = &w->conns[i];
		if (c->w == NULL)
			continue;
		conn_close(c, true);
		skt_tls_session_free(c->resume);
		skt_timer_free(c->retry);
		skt_free(c->slots);
		skt_free(c->buf);
	}
	skt_timer_free(w->sweep);
	skt_io_free(w->pace_io);
	if (w->pace_fd >= 0)
		close(w->pace_fd);
	skt_free(w->rbuf);
	skt_free(w->room);
	skt_free(w->pending);
}

/* The loop is the controller's (made before, freed after the thread, so
 * that it can be told to stop at any time); the rest is the thread's.
 * Connections open spread over ramp_ms: started in the same instant, a
 * closed loop of connections and a server can fall into lockstep (every
 * request of a round queued behind the others, as one burst), which
 * doubles the latency at the same throughput; spread starts keep the
 * connections' phases apart, as independent clients' are. */
void *bench_worker_main(void *arg)
{
	bench_worker *w = arg;
	w->err = setup(w);
	if (w->err == 0) {
		w->live = w->nconns;
		for (unsigned i = 0; i < w->nconns; i++) {
			bench_conn *c = &w->conns[i];
			int64_t at = w->o->ramp_ms * i / w->nconns;
			if (connect_mode(w) && open_model(w))
				room_update(c);
			else if (at > 0)
				skt_timer_start(c->retry, at, 0); /* on_retry */
			else
				conn_start(c);
		}
		if (open_model(w))
			pace(w, bench_now());
		if (w->live > 0) {
			int r = skt_loop_run(w->loop, SKT_RUN_DEFAULT);
			if (r < 0)
				w->err = r;
		}
	}
	teardown(w);
	return NULL;
}
