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
	r->timer = NULL;
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
	bool reset = end != RELAY_END_CLOSED;
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
		finish(r, RELAY_END_STOPPED, e);
}

/* Run one pump; false when it ended the connection. */
static bool run_pump(rconn *r, relay_pump *p)
{
	relay_moved m = pump_run(p);
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
	if (m.rd_err < 0)
		finish(r, up ? RELAY_END_RESET_CLIENT : RELAY_END_RESET_TARGET,
		       m.rd_err);
	else if (m.wr_err < 0)
		finish(r, up ? RELAY_END_RESET_TARGET : RELAY_END_RESET_CLIENT,
		       m.wr_err);
	else if (r->up.done && r->down.done)
		finish(r, RELAY_END_CLOSED, 0);
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

static void start_relay(rconn *r)
{
	skt_timer_stop(r->timer);
	r->state = R_RELAYING;
	r->active = skt_loop_now(r->loop);
	if (r->o->targets[r->target].addr[r->ai].u.sa.sa_family != AF_UNIX)
		skt_sock_set_opt(r->tfd, SKT_OPT_NODELAY, 1);
	int e = pump_init(&r->up, r->cfd, r->tfd);
	if (e == 0)
		e = pump_init(&r->down, r->tfd, r->cfd);
	if (e == 0)
		e = skt_io_new(r->loop, &r->cio, r->cfd, on_client, r);
	if (e < 0) {
		finish(r, RELAY_END_STOPPED, e);
		return;
	}
	/* The target's watcher now relays instead of waiting for the
	 * connect. */
	skt_io_free(r->tio);
	r->tio = NULL;
	r->twant = 0;
	e = skt_io_new(r->loop, &r->tio, r->tfd, on_target, r);
	if (e < 0) {
		finish(r, RELAY_END_STOPPED, e);
		return;
	}
	arm_timeouts(r);
	rewatch(r);
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
				finish(r, RELAY_END_STOPPED, e);
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
		       .err = r->err,
		       .up = r->up.bytes,
		       .down = r->down.bytes,
		       .ms = skt_loop_now(r->loop) - c->since};
	r->o->log(&l, r->o->log_arg);
}

const skt_service svc_relay = {
	.name = "relay",
	.what = "forward each connection to a target",
	.flags = SKT_SERVICE_TCP,
	.conn_size = sizeof(rconn),
	.open = relay_open,
	.stop = relay_stop,
	.closed = relay_closed,
};
