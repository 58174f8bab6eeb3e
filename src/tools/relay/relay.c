/* relay.c - the relay service: each admitted client paired with a new
 * connection to a target, bytes moved both ways by two pumps (pump.h).
 *
 * States of a relayed connection:
 *   CONNECTING  a connect to the current target's current address is in
 *               flight, bounded by connect_ms; a refusal or a timeout
 *               moves on to its next address, then to the next target
 *               (round robin), until every target was tried once: then
 *               NO_TARGET, the client is reset. The client's bytes wait
 *               in its socket meanwhile.
 *   RELAYING    two pumps, up (client -> target) and down (target ->
 *               client), each FLOWING, DRAINING or DONE on its own: a
 *               half-close passes through and the other direction goes
 *               on for as long as it has bytes (no 0.5 s cut, as socat
 *               makes). Both DONE: both sockets closed (FIN, FIN). An
 *               error on either side resets the other (SO_LINGER 0); the
 *               idle and total timeouts reset both.
 *   ENDED       fds closed; the client's stream is being closed, and the
 *               server's closed() will log and forget the connection.
 *
 * The client's socket is the server's stream (it keeps admission,
 * counting and the stop); the pumps splice on a duplicate of its fd with
 * a level-triggered watcher of their own, since the stream reads into
 * user-space buffers. The duplicate is closed before the stream, so the
 * stream's close or abort is the one the client sees.
 */
#include "tools/relay/relay.h"
#include "tools/relay/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { R_CONNECTING, R_RELAYING, R_ENDED };

typedef struct rconn {
	skt_server_conn *c;
	const relay_opts *o;
	skt_loop *loop;
	int state;
	int cfd, tfd;      /* the client fd's duplicate, the target's */
	skt_io *cio, *tio; /* their watchers */
	unsigned cwant, twant;
	skt_timer *timer; /* connect deadline, then idle / total */
	relay_pump up, down;
	/* Toxics: what applies to this connection, and the timers of the
	 * toxic directions and of reset_peer / timeout's close. */
	toxic_dir tx[2]; /* [0] up, [1] down */
	bool toxic[2];
	int close_ms; /* timeout's close (0: none) */
	int reset_ms; /* reset_peer's reset (-1: none) */
	const char *toxic_name;
	skt_timer *dtimer[2], *ttimer;
	size_t target, tried, ai; /* the target, how many tried, its address */
	int end, err;
	int64_t active; /* last time a byte moved */
	bool logged;
} rconn;

const char *relay_end_name(int end)
{
	static const char *const names[] = {
		[RELAY_END_CLOSED] = "closed",
		[RELAY_END_RESET_CLIENT] = "client-reset",
		[RELAY_END_RESET_TARGET] = "target-reset",
		[RELAY_END_NO_TARGET] = "no-target",
		[RELAY_END_IDLE] = "idle-timeout",
		[RELAY_END_MAX_TIME] = "max-time",
		[RELAY_END_STOPPED] = "stopped",
		[RELAY_END_TOXIC_RESET] = "toxic-reset",
		[RELAY_END_TOXIC_CLOSE] = "toxic-close",
		[RELAY_END_ERROR] = "error",
	};
	return end >= 0 && (size_t)end < sizeof(names) / sizeof(names[0])
		       ? names[end]
		       : "closed";
}

/* ---- Ending ---- */

/* Let go of every fd and handle but the client's stream; reset: the
 * target gets a reset rather than a FIN. Again does nothing. */
static void release(rconn *r, bool reset)
{
	skt_timer_free(r->timer);
	skt_timer_free(r->dtimer[0]);
	skt_timer_free(r->dtimer[1]);
	skt_timer_free(r->ttimer);
	r->timer = r->dtimer[0] = r->dtimer[1] = r->ttimer = NULL;
	skt_io_free(r->cio);
	skt_io_free(r->tio);
	r->cio = r->tio = NULL;
	pump_fini(&r->up);
	pump_fini(&r->down);
	if (r->tfd >= 0) {
		if (reset)
			skt_close_abort(r->tfd);
		else
			skt_close(r->tfd);
	}
	if (r->cfd >= 0)
		skt_close(r->cfd);
	r->tfd = r->cfd = -1;
}

static void finish(rconn *r, int end, int err)
{
	if (r->state == R_ENDED)
		return;
	bool reset = end != RELAY_END_CLOSED && end != RELAY_END_TOXIC_CLOSE;
	r->state = R_ENDED;
	r->end = end;
	r->err = err;
	release(r, reset);
	if (reset)
		skt_stream_abort(r->c->s);
	else
		skt_stream_close(r->c->s);
}

/* ---- RELAYING ---- */

static int watch(skt_io *w, unsigned *have, unsigned want)
{
	if (*have == want)
		return 0;
	*have = want;
	return skt_io_start(w, want);
}

/* Each fd watched for what its two pumps want of it. */
static void rewatch(rconn *r)
{
	unsigned cw = (pump_wants_src(&r->up) ? SKT_READABLE : 0) |
		      (pump_wants_dst(&r->down) ? SKT_WRITABLE : 0);
	unsigned tw = (pump_wants_src(&r->down) ? SKT_READABLE : 0) |
		      (pump_wants_dst(&r->up) ? SKT_WRITABLE : 0);
	int e = watch(r->cio, &r->cwant, cw);
	if (e == 0)
		e = watch(r->tio, &r->twant, tw);
	if (e < 0)
		finish(r, RELAY_END_ERROR, e);
}

/* Run one pump; false when it ended the connection. */
static bool run_pump(rconn *r, relay_pump *p)
{
	relay_moved m = pump_run(p, skt_loop_now(r->loop));
	bool up = p == &r->up;
	if (m.n > 0) {
		if (up)
			skt_server_conn_got(r->c, m.n);
		else
			skt_server_conn_sent(r->c, m.n);
	}
	if (m.any)
		r->active = skt_loop_now(r->loop);
	/* Reading up's source or writing down's sink is the client's side. */
	if (m.own_err < 0)
		finish(r, RELAY_END_ERROR, m.own_err);
	else if (m.rd_err < 0)
		finish(r, up ? RELAY_END_RESET_CLIENT : RELAY_END_RESET_TARGET,
		       m.rd_err);
	else if (m.wr_err < 0)
		finish(r, up ? RELAY_END_RESET_TARGET : RELAY_END_RESET_CLIENT,
		       m.wr_err);
	else if (m.cut)
		finish(r, RELAY_END_TOXIC_CLOSE, 0);
	else if (r->up.done && r->down.done)
		finish(r, RELAY_END_CLOSED, 0);
	if (r->state != R_ENDED && m.due >= 0) {
		int64_t now = skt_loop_now(r->loop);
		skt_timer_start(r->dtimer[up ? 0 : 1],
				m.due > now ? m.due - now : 0, 0);
	}
	return r->state != R_ENDED;
}

static void on_client(skt_io *w, unsigned ev, void *arg)
{
	rconn *r = arg;
	if ((ev & SKT_READABLE) && !run_pump(r, &r->up))
		return;
	if ((ev & SKT_WRITABLE) && !run_pump(r, &r->down))
		return;
	rewatch(r);
}

static void on_target(skt_io *w, unsigned ev, void *arg)
{
	rconn *r = arg;
	if ((ev & SKT_READABLE) && !run_pump(r, &r->down))
		return;
	if ((ev & SKT_WRITABLE) && !run_pump(r, &r->up))
		return;
	rewatch(r);
}

/* The idle and total timeouts: one timer, set for the nearer. */
static void arm_timeouts(rconn *r)
{
	int64_t now = skt_loop_now(r->loop), due = -1;
	if (r->o->idle_ms > 0)
		due = r->active + r->o->idle_ms;
	if (r->o->max_ms > 0 && (due < 0 || r->c->since + r->o->max_ms < due))
		due = r->c->since + r->o->max_ms;
	if (due >= 0)
		skt_timer_start(r->timer, due > now ? due - now : 0, 0);
}

static void next_address(rconn *r);

/* CONNECTING: the attempt's deadline passed, on to the next address;
 * RELAYING: the idle or total timeout, or not yet. */
static void on_timer(skt_timer *t, void *arg)
{
	rconn *r = arg;
	int64_t now = skt_loop_now(r->loop);
	if (r->state == R_CONNECTING) {
		skt_io_free(r->tio);
		r->tio = NULL;
		skt_close(r->tfd);
		r->tfd = -1;
		r->err = SKT_ETIMEDOUT;
		next_address(r);
	} else if (r->o->max_ms > 0 && now - r->c->since >= r->o->max_ms) {
		finish(r, RELAY_END_MAX_TIME, SKT_ETIMEDOUT);
	} else if (r->o->idle_ms > 0 && now - r->active >= r->o->idle_ms) {
		finish(r, RELAY_END_IDLE, SKT_ETIMEDOUT);
	} else {
		arm_timeouts(r);
	}
}

/* A toxic direction's pacing timer: run its pump again. */
static void on_dir_timer(skt_timer *t, void *arg)
{
	rconn *r = arg;
	relay_pump *p = t == r->dtimer[0] ? &r->up : &r->down;
	if (run_pump(r, p))
		rewatch(r);
}

/* reset_peer's reset or timeout's close, whichever is due first. */
static void on_toxic_timer(skt_timer *t, void *arg)
{
	rconn *r = arg;
	int64_t age = skt_loop_now(r->loop) - r->c->since;
	if (r->reset_ms >= 0 && age >= r->reset_ms)
		finish(r, RELAY_END_TOXIC_RESET, 0);
	else
		finish(r, RELAY_END_TOXIC_CLOSE, 0);
}

static void arm_toxic_timer(rconn *r)
{
	int64_t due = -1;
	if (r->reset_ms >= 0)
		due = r->reset_ms;
	if (r->close_ms > 0 && (due < 0 || r->close_ms < due))
		due = r->close_ms;
	if (due < 0 || r->ttimer == NULL)
		return;
	int64_t left = r->c->since + due - skt_loop_now(r->loop);
	skt_timer_start(r->ttimer, left > 0 ? left : 0, 0);
}

/* Each direction splices, or copies through its toxics. */
static int start_pumps(rconn *r)
{
	int e = 0;
	for (int i = 0; i < 2 && e == 0; i++) {
		relay_pump *p = i == 0 ? &r->up : &r->down;
		int src = i == 0 ? r->cfd : r->tfd;
		int dst = i == 0 ? r->tfd : r->cfd;
		if (!r->toxic[i]) {
			e = pump_init(p, src, dst,
				      skt_server_worker_state(r->c->w));
			continue;
		}
		e = pump_init_toxic(p, src, dst, &r->tx[i]);
		if (e == 0)
			e = skt_timer_new(r->loop, &r->dtimer[i], on_dir_timer,
					  r);
	}
	if (e == 0 && (r->reset_ms >= 0 || r->close_ms > 0))
		e = skt_timer_new(r->loop, &r->ttimer, on_toxic_timer, r);
	return e;
}

static void start_relay(rconn *r)
{
	skt_timer_stop(r->timer);
	r->state = R_RELAYING;
	r->active = skt_loop_now(r->loop);
	if (r->o->targets[r->target].addr[r->ai].u.sa.sa_family != AF_UNIX)
		skt_sock_set_opt(r->tfd, SKT_OPT_NODELAY, 1);
	int e = start_pumps(r);
	if (e == 0)
		e = skt_io_new(r->loop, &r->cio, r->cfd, on_client, r);
	if (e < 0) {
		finish(r, RELAY_END_ERROR, e);
		return;
	}
	/* The target's watcher now relays instead of waiting for the
	 * connect. */
	skt_io_free(r->tio);
	r->tio = NULL;
	r->twant = 0;
	e = skt_io_new(r->loop, &r->tio, r->tfd, on_target, r);
	if (e < 0) {
		finish(r, RELAY_END_ERROR, e);
		return;
	}
	arm_timeouts(r);
	arm_toxic_timer(r);
	rewatch(r);
	/* Bytes the client sent while we connected wait in its socket:
	 * level-triggered watchers see them at the next turn. */
}

/* ---- CONNECTING ---- */

static void try_connect(rconn *r);

static void next_address(rconn *r)
{
	const relay_target *t = &r->o->targets[r->target];
	if (++r->ai >= t->naddr) {
		r->ai = 0;
		r->tried++;
		r->target = (r->target + 1) % r->o->ntargets;
	}
	try_connect(r);
}

static void on_connect(skt_io *w, unsigned ev, void *arg)
{
	rconn *r = arg;
	int e = skt_sock_error(r->tfd);
	if (e == 0) {
		start_relay(r);
		return;
	}
	skt_io_free(r->tio);
	r->tio = NULL;
	skt_close(r->tfd);
	r->tfd = -1;
	r->err = e;
	next_address(r);
}

static void try_connect(rconn *r)
{
	while (r->tried < r->o->ntargets) {
		const relay_target *t = &r->o->targets[r->target];
		int fd = skt_connect_one(&t->addr[r->ai], SOCK_STREAM, 0);
		if (fd >= 0) {
			r->tfd = fd;
			r->twant = SKT_WRITABLE;
			int e = skt_io_new(r->loop, &r->tio, fd, on_connect, r);
			if (e == 0)
				e = skt_io_start(r->tio, SKT_WRITABLE);
			if (e == 0)
				e = skt_timer_start(r->timer, r->o->connect_ms,
						    0);
			if (e < 0)
				finish(r, RELAY_END_ERROR, e);
			return;
		}
		r->err = fd;
		if (++r->ai >= t->naddr) {
			r->ai = 0;
			r->tried++;
			r->target = (r->target + 1) % r->o->ntargets;
		}
	}
	finish(r, RELAY_END_NO_TARGET, r->err);
}

/* ---- Toxics: which apply to this connection ---- */

/* Add toxic t to direction d's settings. */
static void shape(toxic_dir *d, const relay_toxic *t)
{
	switch (t->kind) {
	case TOXIC_LATENCY: /* two latencies add up */
		d->latency_ms += t->ms;
		d->jitter_ms += t->jitter_ms;
		break;
	case TOXIC_BANDWIDTH: /* the narrowest wins */
		if (d->rate == 0 || t->rate < d->rate)
			d->rate = t->rate;
		break;
	case TOXIC_SLICER:
		d->slice = (size_t)t->bytes;
		d->slice_ms = t->ms;
		break;
	case TOXIC_SLOW_CLOSE:
		if (t->ms > d->slow_close_ms)
			d->slow_close_ms = t->ms;
		break;
	case TOXIC_TIMEOUT:
		d->drop = true;
		break;
	default: /* TOXIC_LIMIT_DATA: the smallest wins */
		if (!d->limited || t->bytes < d->limit)
			d->limit = t->bytes;
		d->limited = true;
	}
}

/* Draw each toxic for this connection (toxicity, from the seed and the
 * id); fill the directions' settings. Returns the toxic that refuses the
 * connection outright (down, fail_first), or NULL. */
static const relay_toxic *draw_toxics(rconn *r)
{
	const relay_opts *o = r->o;
	uint64_t rng = o->seed ^ (r->c->id * 0xD1B54A32D192ED03u);
	const relay_toxic *refuse = NULL;
	r->reset_ms = -1;
	for (size_t i = 0; i < o->ntoxics; i++) {
		const relay_toxic *t = &o->toxics[i];
		uint64_t u = relay_rand(&rng) % 1000000;
		if (u >= t->toxicity)
			continue; /* toxicity 0 never fires */
		if (t->kind == TOXIC_FAIL_FIRST) {
			atomic_ulong *seen = (atomic_ulong *)&o->seen[i];
			if (atomic_fetch_add(seen, 1) < t->n && refuse == NULL)
				refuse = t;
		} else if (t->kind == TOXIC_DOWN) {
			refuse = refuse != NULL ? refuse : t;
		} else if (t->kind == TOXIC_RESET_PEER) {
			if (r->reset_ms < 0 || t->ms < r->reset_ms)
				r->reset_ms = t->ms;
			r->toxic_name = toxic_name(t->kind);
		} else {
			if (t->kind == TOXIC_TIMEOUT && t->ms > 0 &&
			    (r->close_ms == 0 || t->ms < r->close_ms))
				r->close_ms = t->ms;
			for (int d = 0; d < 2; d++)
				if (t->dir &
				    (d == 0 ? TOXIC_UP : TOXIC_DOWNSTREAM)) {
					shape(&r->tx[d], t);
					r->toxic[d] = true;
				}
			if (t->kind == TOXIC_TIMEOUT ||
			    t->kind == TOXIC_LIMIT_DATA)
				r->toxic_name = toxic_name(t->kind);
		}
	}
	r->tx[0].rng = relay_rand(&rng);
	r->tx[1].rng = relay_rand(&rng);
	return refuse;
}

/* ---- The service ---- */

static int relay_open(skt_server_conn *c)
{
	rconn *r = skt_server_conn_state(c);
	const relay_opts *o = skt_server_worker_opts(c->w)->service_arg;
	*r = (rconn){.c = c,
		     .o = o,
		     .loop = skt_server_worker_loop(c->w),
		     .cfd = -1,
		     .tfd = -1,
		     .up = {.pipe = {-1, -1}},
		     .down = {.pipe = {-1, -1}}};
	/* The one shared counter: round robin across every worker. */
	atomic_uint *next = (atomic_uint *)&o->next;
	r->target = atomic_fetch_add_explicit(next, 1, memory_order_relaxed) %
		    o->ntargets;
	const relay_toxic *refuse = draw_toxics(r);
	if (refuse != NULL) {
		r->toxic_name = toxic_name(refuse->kind);
		r->tried = o->ntargets; /* no target for the log */
		finish(r, RELAY_END_TOXIC_RESET, 0);
		return 0;
	}
	int e = skt_timer_new(r->loop, &r->timer, on_timer, r);
	if (e < 0)
		return e;
	r->cfd = fcntl(skt_stream_fd(c->s), F_DUPFD_CLOEXEC, 0);
	if (r->cfd < 0) {
		e = -errno;
		release(r, true);
		return e;
	}
	try_connect(r);
	return 0;
}

/* A stopping server lets transfers run until its drain deadline resets
 * what is left: a relay has no message boundary to end at. */
static void relay_stop(skt_server_conn *c)
{
}

static void relay_closed(skt_server_conn *c)
{
	rconn *r = skt_server_conn_state(c);
	if (r->state != R_ENDED) {
		/* The server ended it (the shutdown deadline) or the stream
		 * failed on its own. */
		r->state = R_ENDED;
		r->end = RELAY_END_STOPPED;
		release(r, true);
	}
	if (r->o->log == NULL || r->logged)
		return;
	r->logged = true;
	relay_log l = {.c = c,
		       .target = r->tried < r->o->ntargets
					 ? r->o->targets[r->target].name
					 : NULL,
		       .end = r->end,
		       .toxic = r->end == RELAY_END_TOXIC_RESET ||
						r->end == RELAY_END_TOXIC_CLOSE
					? r->toxic_name
					: NULL,
		       .err = r->err,
		       .up = r->up.bytes,
		       .down = r->down.bytes,
		       .ms = skt_loop_now(r->loop) - c->since};
	r->o->log(&l, r->o->log_arg);
}

static int relay_worker_new(skt_server_worker *w, void **state)
{
	return pipes_new((relay_pipes **)state);
}

static void relay_worker_free(void *state)
{
	pipes_free(state);
}

const skt_service svc_relay = {
	.name = "relay",
	.what = "forward each connection to a target",
	.flags = SKT_SERVICE_TCP,
	.conn_size = sizeof(rconn),
	.worker_new = relay_worker_new,
	.worker_free = relay_worker_free,
	.open = relay_open,
	.stop = relay_stop,
	.closed = relay_closed,
};
