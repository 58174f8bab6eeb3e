/* server.c - running one service: listening sockets for every worker,
 * the worker threads, and the control loop on the caller's thread that
 * takes stops (skt_server_stop, signals), reports counters and stops the
 * server.
 *
 * The server's states:
 *   SERVING   workers accept and serve; SIGUSR1 and the --stats timer
 *             report counters;
 *   DRAINING  the first stop (skt_server_stop, or SIGINT/SIGTERM/SIGHUP when
 *             the caller asked for signals): each worker is told (a post to
 *             its loop) to stop accepting and to let its connections
 *             finish their writes for SKT_SERVER_DRAIN_MS; a second stop
 *             resets what is left at once;
 *   STOPPED   every worker has said it is done (or the last-resort timer
 *             gave up on one): threads joined, STOPPED reported, all
 *             freed.
 * Several workers share a port through SO_REUSEPORT, one socket each, so
 * the kernel spreads connections and the loops share nothing (nginx's
 * "reuseport"). skt_workers is not used: a stop must close each worker's
 * listening socket and serve several addresses and UDP on the same loops,
 * which it does not offer.
 */
#include "server/server_int.h"
#include "tls/tls_int.h" /* the context's role */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Past the drain deadline, how long the control loop waits for workers
 * to say they are done before it stops them regardless. */
#define KILL_GRACE_MS 1000
#define WORKERS_MAX   1024

void skt__server_emit(const skt_server *srv, skt_server_event *ev)
{
	ev->service = srv->o->svc->name;
	srv->o->log(ev, srv->o->log_arg);
}

/* ---- Repeated events ---- */

#define QUIET_MS 1000

bool skt__server_quiet(skt_server *srv, int q, int64_t now, size_t limit)
{
	struct skt__quiet *r = &srv->quiet[q];
	if (srv->o->verbose)
		return true;
	int64_t since = atomic_load(&r->since);
	if (now <= 0)
		now = 1;
	if ((since == 0 || now - since >= QUIET_MS) &&
	    atomic_compare_exchange_strong(&r->since, &since, now))
		return true;
	atomic_store(&r->limit, limit);
	atomic_fetch_add(&r->n, 1);
	return false;
}

/* What each slot repeats, for the REPEATED event. */
static void quiet_what(int q, skt_server_event *ev)
{
	static const int ends[] = {
		[SKT__Q_CUTOFF] = SKT_SERVER_END_CUTOFF,
		[SKT__Q_TOOBIG] = SKT_SERVER_END_TOOBIG,
		[SKT__Q_DEADLINE] = SKT_SERVER_END_DEADLINE,
		[SKT__Q_HEAD] = SKT_SERVER_END_HEAD_TIMEOUT,
		[SKT__Q_SHED] = SKT_SERVER_END_SHED,
		[SKT__Q_IDLE] = SKT_SERVER_END_NONE,
	};
	if (q == SKT__Q_MAX_CONNS || q == SKT__Q_MAX_PER_IP) {
		ev->of = SKT_SERVER_EV_REFUSED;
		ev->refusal = q == SKT__Q_MAX_CONNS
				      ? SKT_SERVER_REFUSE_MAX_CONNS
				      : SKT_SERVER_REFUSE_MAX_PER_IP;
		ev->transport = SOCK_STREAM;
	} else if (q == SKT__Q_RATE || q == SKT__Q_DGRAM_TOOBIG) {
		ev->of = SKT_SERVER_EV_DATAGRAM;
		ev->dropped = q == SKT__Q_RATE ? SKT_SERVER_DROP_RATE
					       : SKT_SERVER_DROP_TOOBIG;
		ev->transport = SOCK_DGRAM;
	} else {
		ev->of = SKT_SERVER_EV_CLOSE;
		ev->end = ends[q];
		ev->err = q == SKT__Q_IDLE ? SKT_ETIMEDOUT : 0;
		ev->transport = SOCK_STREAM;
	}
}

static void report_quiet(skt_server *srv)
{
	for (int q = 0; q < SKT__Q_N; q++) {
		uint64_t n = atomic_exchange(&srv->quiet[q].n, 0);
		if (n == 0)
			continue;
		skt_server_event ev = {
			.kind = SKT_SERVER_EV_REPEATED,
			.count = n,
			.ms = QUIET_MS,
			.limit = atomic_load(&srv->quiet[q].limit)};
		quiet_what(q, &ev);
		skt__server_emit(srv, &ev);
	}
}

static void on_quiet(skt_timer *t, void *arg)
{
	report_quiet(arg);
}

static void sum_stats(skt_server *srv, skt_server_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->open = atomic_load(&srv->open);
	for (unsigned i = 0; i < srv->nw; i++)
		skt__worker_sum(&srv->w[i], st);
}

/* One worker per CPU this process may run on (taskset counts). */
static unsigned cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	return 1;
}

/* ---- The control loop ---- */

static void report(skt_server *srv, skt_server_ev kind, int signum)
{
	skt_server_stats st;
	sum_stats(srv, &st);
	skt_server_event ev = {.kind = kind, .stats = &st, .signum = signum};
	skt_loop_update_time(srv->ctl);
	ev.ms = skt_loop_now(srv->ctl) - srv->started;
	skt__server_emit(srv, &ev);
}

static void on_stats(skt_timer *t, void *arg)
{
	report(arg, SKT_SERVER_EV_STATS, 0);
}

static void on_kill(skt_timer *t, void *arg)
{
	skt_server *srv = arg;
	skt_loop_stop(srv->ctl); /* run() stops the stragglers' loops */
}

/* A stop, by signal (signum) or by skt_server_stop (0): the first drains,
 * a second resets what is left. */
static void stop(skt_server *srv, int signum)
{
	if (srv->stops++ > 0) {
		for (unsigned i = 0; i < srv->nw; i++)
			skt_loop_post(srv->w[i].loop, skt__worker_force,
				      &srv->w[i]);
		return;
	}
	atomic_store(&srv->stopping, true);
	report(srv, SKT_SERVER_EV_STOPPING, signum);
	skt_timer_stop(srv->stats_t);
	for (unsigned i = 0; i < srv->nw; i++)
		skt_loop_post(srv->w[i].loop, skt__worker_drain, &srv->w[i]);
	skt_timer_start(srv->kill_t, SKT_SERVER_DRAIN_MS + KILL_GRACE_MS, 0);
}

static void on_signal(skt_signal *s, int signum, void *arg)
{
	skt_server *srv = arg;
	if (signum == SIGUSR1)
		report(srv, SKT_SERVER_EV_STATS, 0);
	else
		stop(srv, signum);
}

/* skt_server_stop wrote the eventfd: its count is the calls since. */
static void on_stop_call(skt_io *io, unsigned events, void *arg)
{
	skt_server *srv = arg;
	uint64_t n = 0;
	if (read(srv->stopfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	for (uint64_t i = 0; i < n && i < 2; i++)
		stop(srv, 0);
}

void skt_server_stop(skt_server *srv)
{
	uint64_t one = 1;
	/* Only a counter at its maximum fails: a stop is then pending. */
	ssize_t w = write(srv->stopfd, &one, sizeof(one));
	(void)w;
}

void skt__worker_done(void *worker)
{
	skt_server_worker *w = worker;
	skt_server *srv = w->srv;
	if (++srv->done == srv->nw)
		skt_loop_stop(srv->ctl);
}

static int control_new(skt_server *srv)
{
	/* SIGHUP too: a closed terminal or session should end a server
	 * with its summary, not kill it silently. */
	static const int signums[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
	int r = skt_loop_new(&srv->ctl, NULL);
	for (size_t i = 0;
	     srv->o->signals && r == 0 && i < SKT__ARRAY_SIZE(signums); i++)
		r = skt_signal_new(srv->ctl, &srv->sigs[i], signums[i],
				   on_signal, srv);
	if (r == 0) {
		srv->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		r = srv->stopfd < 0 ? -errno : 0;
	}
	if (r == 0)
		r = skt_io_new(srv->ctl, &srv->stop_io, srv->stopfd,
			       on_stop_call, srv);
	if (r == 0)
		r = skt_io_start(srv->stop_io, SKT_READABLE);
	if (r == 0)
		r = skt_timer_new(srv->ctl, &srv->stats_t, on_stats, srv);
	if (r == 0)
		r = skt_timer_new(srv->ctl, &srv->kill_t, on_kill, srv);
	if (r == 0)
		r = skt_timer_new(srv->ctl, &srv->quiet_t, on_quiet, srv);
	if (r == 0 && !srv->o->verbose)
		r = skt_timer_start(srv->quiet_t, QUIET_MS, QUIET_MS);
	if (r == 0 && srv->o->stats_ms > 0)
		r = skt_timer_start(srv->stats_t, srv->o->stats_ms,
				    srv->o->stats_ms);
	return r;
}

/* ---- Threads ---- */

static void *worker_main(void *arg)
{
	skt_server_worker *w = arg;
	skt_loop_run(w->loop, SKT_RUN_DEFAULT);
	return NULL;
}

static int start_threads(skt_server *srv)
{
	for (unsigned i = 0; i < srv->nw; i++) {
		int r = pthread_create(&srv->w[i].thread, NULL, worker_main,
				       &srv->w[i]);
		if (r != 0)
			return -r;
		srv->w[i].started = true;
	}
	return 0;
}

static void join_threads(skt_server *srv)
{
	for (unsigned i = 0; i < srv->nw; i++) {
		if (!srv->w[i].started)
			continue;
		/* Done already, or a straggler the last-resort timer gave
		 * up on: a stop is harmless either way. */
		skt_loop_stop(srv->w[i].loop);
		pthread_join(srv->w[i].thread, NULL);
		srv->w[i].started = false;
	}
}

/* ---- Making, running, freeing ---- */

static void server_free(skt_server *srv)
{
	join_threads(srv);
	for (unsigned i = 0; srv->w != NULL && i < srv->nw; i++) {
		srv->w[i].finished = true; /* on_close must not post */
		skt__worker_fini(&srv->w[i]);
	}
	skt_free(srv->w);
	skt__server_unlink(srv);
	skt_io_free(srv->stop_io);
	if (srv->stopfd >= 0)
		skt_close(srv->stopfd);
	skt_loop_free(srv->ctl);
	skt__peers_free(srv->peers);
	skt__udprate_free(srv->udprate);
}

static int server_new(skt_server *srv)
{
	const skt_server_opts *o = srv->o;
	unsigned n = o->workers > 0 ? o->workers : cpus();
	if ((o->svc->flags & SKT_SERVICE_ONE_LOOP) || n == 0)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	int r = control_new(srv);
	if (r == 0 && o->max_per_ip > 0)
		r = skt__peers_new(&srv->peers);
	if (r == 0 && o->udp && o->udp_rate > 0)
		r = skt__udprate_new(&srv->udprate, o->udp_rate,
				     o->udp_burst > 0 ? o->udp_burst
						      : 2 * o->udp_rate);
	if (r < 0)
		return r;
	srv->w = skt_calloc(n, sizeof(*srv->w));
	if (srv->w == NULL)
		return SKT_ENOMEM;
	srv->nw = n;
	for (unsigned i = 0; i < n; i++) {
		srv->w[i].srv = srv;
		srv->w[i].svc = o->svc;
		r = skt__worker_init(&srv->w[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool opts_ok(const skt_server_opts *o)
{
	const skt_service *svc = o->svc;
	if (svc == NULL || o->log == NULL || o->naddrs == 0 ||
	    o->naddrs > SKT_SERVER_ADDR_MAX || !(o->tcp || o->udp))
		return false;
	/* A Unix address serves the stream form only (a datagram service
	 * over Unix sockets needs clients that bind: not offered). */
	for (size_t i = 0; i < o->naddrs; i++)
		if (skt_addr_family(&o->addrs[i].unix_addr) == AF_UNIX &&
		    o->udp)
			return false;
	if (o->tcp && (!(svc->flags & SKT_SERVICE_TCP) || svc->open == NULL))
		return false;
	if (o->handshake_timeout_ms < 0)
		return false;
	/* No DTLS; and a client context would shake hands as a client. */
	if (o->tls != NULL && (o->udp || o->tls->role != SKT_TLS_SERVER))
		return false;
	return !o->udp ||
	       ((svc->flags & SKT_SERVICE_UDP) && svc->datagram != NULL);
}

int skt_server_new(skt_server **out, skt_server_opts *o)
{
	o->failed_addr = SIZE_MAX;
	o->failed_transport = 0;
	o->failed_family = 0;
	if (!opts_ok(o))
		return SKT_EINVAL;
	skt_server *srv = skt_calloc(1, sizeof(*srv));
	if (srv == NULL)
		return SKT_ENOMEM;
	srv->opts = *o;
	srv->o = &srv->opts;
	srv->stopfd = -1;
	int r = server_new(srv);
	for (size_t i = 0; r == 0 && i < o->naddrs; i++)
		r = skt__server_bind(srv, i);
	if (r < 0) {
		o->failed_addr = srv->o->failed_addr;
		o->failed_transport = srv->o->failed_transport;
		o->failed_family = srv->o->failed_family;
		skt_server_free(srv);
		return r;
	}
	*out = srv;
	return 0;
}

int skt_server_serve(skt_server *srv)
{
	int r = start_threads(srv);
	if (r < 0) {
		join_threads(srv);
		return r;
	}
	skt_loop_update_time(srv->ctl);
	srv->started = skt_loop_now(srv->ctl);
	r = skt_loop_run(srv->ctl, SKT_RUN_DEFAULT);
	join_threads(srv);
	report_quiet(srv);
	skt_server_stats st;
	sum_stats(srv, &st);
	skt_server_event ev = {.kind = SKT_SERVER_EV_STOPPED, .stats = &st};
	skt_loop_update_time(srv->ctl);
	ev.ms = skt_loop_now(srv->ctl) - srv->started;
	for (unsigned i = 0; i < srv->nw; i++)
		ev.deadline_cuts += skt__read(&srv->w[i].st.deadline_cuts);
	skt__server_emit(srv, &ev);
	return r < 0 ? r : 0;
}

void skt_server_free(skt_server *srv)
{
	if (srv == NULL)
		return;
	server_free(srv);
	skt_free(srv);
}

int skt_server_run(skt_server_opts *o)
{
	skt_server *srv;
	int r = skt_server_new(&srv, o);
	if (r < 0)
		return r;
	r = skt_server_serve(srv);
	skt_server_free(srv);
	return r;
}
