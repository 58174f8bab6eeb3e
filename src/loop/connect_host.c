/* connect_host.c - connecting by name on the loop (stream.h's
 * skt_stream_connect_host): the lookup on the resolver pool
 * (resolver.c), then Happy Eyeballs with the loop's watchers and timers,
 * in the order and with the delays of the blocking race (sock/connect.c,
 * whose skt__connect_order and skt__connect_start it uses).
 *
 * States of an skt_connecting:
 *   RESOLVING  waiting for the pool (or, for a numeric host, for the
 *              deferred start); the deadline timer runs;
 *   RACING     attempts in flight, each an io watcher for writability; a
 *              new one starts when the Connection Attempt Delay since the
 *              last passes or at once when one fails; the first to
 *              connect wins, the others are closed as SKT_ECANCELED;
 *   DONE       the callback ran (or a cancel came); the memory goes now,
 *              or, when the pool has already posted the lookup's result,
 *              when that post runs (it only frees).
 * One deadline timer covers RESOLVING and RACING.
 */
#include "loop/resolver.h"
#include "sockit/stream.h"

#include <string.h>
#include <unistd.h>

/* As the blocking race: attempts in flight at once. */
#define PENDING_MAX 32

struct pend {
	int fd;
	skt_io *io;
	size_t k; /* the attempt's number */
	int64_t start_ms;
};

struct skt_connecting {
	skt_loop *loop;
	skt_connecting_cb cb;
	void *arg;
	int family;
	int delay_ms;
	skt_addr source;
	bool has_source;
	skt_connect_report *rep;
	int64_t t0;
	skt_timer *deadline_t, *delay_t;
	skt__lookup_wait wait;
	bool resolving; /* the pool has w (or the deferred start is due) */
	bool done;
	bool free_later; /* a posted result or the deferred start is still
			    to come: that callback frees c */
	skt_addr *addrs; /* in race order */
	size_t n, next;
	struct pend pend[PENDING_MAX];
	size_t npend;
	size_t total;
	int last_err;
};

/* ---- The report, as sock/connect.c keeps it ---- */

static int64_t since(const skt_connecting *c)
{
	return skt_loop_now(c->loop) - c->t0;
}

static size_t report_start(skt_connecting *c)
{
	size_t k = c->total++;
	if (c->rep != NULL) {
		c->rep->total = c->total;
		if (k < SKT_REPORT_MAX)
			c->rep->n = k + 1;
	}
	return k;
}

static void report_end(skt_connecting *c, size_t k, const skt_addr *a,
		       int64_t start, int err)
{
	if (err < 0 && err != SKT_ECANCELED)
		c->last_err = err;
	if (c->rep == NULL || (k >= SKT_REPORT_MAX && err != 0))
		return;
	size_t slot = k < SKT_REPORT_MAX ? k : SKT_REPORT_MAX - 1;
	skt_attempt *at = &c->rep->attempts[slot];
	at->addr = *a;
	at->err = err;
	at->start_ms = start;
	at->end_ms = since(c);
	if (err == 0)
		c->rep->winner = (int)slot;
}

/* ---- The end ---- */

static void release(skt_connecting *c)
{
	skt_timer_free(c->deadline_t);
	skt_timer_free(c->delay_t);
	c->deadline_t = c->delay_t = NULL;
	skt_free(c->addrs);
	c->addrs = NULL;
	skt_free(c->wait.addrs);
	c->wait.addrs = NULL;
	if (!c->free_later)
		skt_free(c);
}

/* Close pending attempts from i on, recording err for each. */
static void close_pending(skt_connecting *c, int err)
{
	while (c->npend > 0) {
		struct pend *p = &c->pend[--c->npend];
		skt_io_free(p->io);
		close(p->fd);
		report_end(c, p->k, &c->addrs[p->k], p->start_ms, err);
	}
}

/* Leave RESOLVING: a result the pool already posted makes the post free
 * c (free_later). */
static void stop_resolving(skt_connecting *c)
{
	if (c->resolving && c->wait.loop != NULL &&
	    !skt__lookup_cancel(&c->wait))
		c->free_later = true;
	c->resolving = false;
}

static void finish(skt_connecting *c, skt_stream *s, int status)
{
	c->done = true;
	skt_timer_stop(c->deadline_t);
	skt_timer_stop(c->delay_t);
	stop_resolving(c);
	close_pending(c, SKT_ECANCELED);
	c->cb(s, status, c->arg);
	release(c);
}

/* ---- RACING ---- */

static void race_next(skt_connecting *c);

static void on_writable(skt_io *w, unsigned events, void *arg)
{
	skt_connecting *c = arg;
	size_t i = 0;
	while (i < c->npend && c->pend[i].io != w)
		i++;
	if (i == c->npend)
		return;
	struct pend p = c->pend[i];
	c->pend[i] = c->pend[--c->npend];
	skt_io_free(p.io);
	const skt_addr *a = &c->addrs[p.k];
	int e = skt_sock_error(p.fd);
	if (e != 0) {
		close(p.fd);
		report_end(c, p.k, a, p.start_ms, e);
		race_next(c); /* at once: a failure leaves nothing to wait on */
		return;
	}
	report_end(c, p.k, a, p.start_ms, 0);
	skt_stream *s;
	int r = skt_stream_new(c->loop, &s, p.fd);
	if (r < 0) {
		close(p.fd);
		finish(c, NULL, r);
		return;
	}
	finish(c, s, 0);
}

/* START: the next address, again at once while they fail locally. */
static void race_next(skt_connecting *c)
{
	while (c->next < c->n && c->npend < PENDING_MAX) {
		size_t k = c->next++;
		const skt_addr *a = &c->addrs[k];
		size_t rk = report_start(c);
		(void)rk; /* k == rk: one attempt per address, in order */
		int64_t start = since(c);
		int fd = skt__connect_start(a,
					    c->has_source ? &c->source : NULL);
		skt_io *io = NULL;
		int r = fd;
		if (fd >= 0) {
			r = skt_io_new(c->loop, &io, fd, on_writable, c);
			if (r == 0)
				r = skt_io_start(io, SKT_WRITABLE);
		}
		if (r < 0) {
			skt_io_free(io);
			if (fd >= 0)
				close(fd);
			report_end(c, k, a, start, r);
			continue;
		}
		c->pend[c->npend++] = (struct pend){fd, io, k, start};
		if (c->next < c->n)
			skt_timer_start(c->delay_t, c->delay_ms, 0);
		return;
	}
	if (c->npend == 0 && c->next >= c->n)
		finish(c, NULL, c->last_err);
}

static void on_delay(skt_timer *t, void *arg)
{
	race_next(arg);
}

/* Out of RESOLVING with addresses: put them in race order and start. */
static void race_start(skt_connecting *c, const skt_addr *addrs, size_t n)
{
	c->addrs = skt_malloc((n > 0 ? n : 1) * sizeof(*c->addrs));
	if (c->addrs == NULL) {
		finish(c, NULL, SKT_ENOMEM);
		return;
	}
	c->n = skt__connect_order(addrs, n, c->family,
				  c->has_source ? &c->source : NULL, c->addrs);
	race_next(c);
}

/* ---- RESOLVING ---- */

static void on_resolved(void *arg)
{
	skt_connecting *c = arg;
	if (c->done) { /* cancelled or timed out while the post was on its
			  way: only the memory is left */
		c->free_later = false;
		skt_free(c->wait.addrs);
		c->wait.addrs = NULL;
		skt_free(c);
		return;
	}
	c->resolving = false;
	c->wait.state = SKT__WAIT_IDLE;
	if (c->wait.err < 0) {
		finish(c, NULL, c->wait.err);
		return;
	}
	race_start(c, c->wait.addrs, c->wait.n);
}

/* A numeric host, parsed at the call: started from the loop, so that the
 * callback never runs inside the call. */
static void on_numeric(void *arg)
{
	skt_connecting *c = arg;
	c->free_later = false;
	if (c->done) {
		skt_free(c);
		return;
	}
	c->resolving = false;
	race_start(c, c->wait.addrs, c->wait.n);
}

static void on_deadline(skt_timer *t, void *arg)
{
	skt_connecting *c = arg;
	close_pending(c, SKT_ETIMEDOUT);
	finish(c, NULL, SKT_ETIMEDOUT);
}

/* ---- The calls ---- */

/* A literal host: its addresses into c->wait, or 0 when it is a name. */
static int numeric(skt_connecting *c, const char *host, const char *service)
{
	skt_addrlist l = {0};
	int r = skt_resolve(&l, host, service, c->family, SOCK_STREAM,
			    SKT_RESOLVE_NUMERIC);
	if (r == SKT_EAI_NONAME)
		return 0;
	if (r < 0)
		return r;
	c->wait.addrs = skt_malloc(l.n * sizeof(*c->wait.addrs));
	if (c->wait.addrs == NULL) {
		skt_addrlist_fini(&l);
		return SKT_ENOMEM;
	}
	memcpy(c->wait.addrs, l.addrs, l.n * sizeof(*c->wait.addrs));
	c->wait.n = l.n;
	skt_addrlist_fini(&l);
	return 1;
}

static int setup(skt_connecting *c, skt_loop *l, const skt_connect_opts *o)
{
	c->loop = l;
	c->family = o->family;
	c->delay_ms = o->attempt_delay_ms > 0 ? o->attempt_delay_ms
					      : SKT__ATTEMPT_DELAY_MS;
	if (o->source != NULL && o->source->len != 0) {
		c->source = *o->source;
		c->has_source = true;
	}
	c->rep = o->report;
	c->last_err = SKT_ENOADDR;
	skt_loop_update_time(l);
	c->t0 = skt_loop_now(l);
	int ms =
		o->timeout_ms > 0 ? o->timeout_ms : SKT_CONNECT_HOST_TIMEOUT_MS;
	int r = skt_timer_new(l, &c->deadline_t, on_deadline, c);
	if (r == 0)
		r = skt_timer_new(l, &c->delay_t, on_delay, c);
	if (r == 0)
		r = skt_timer_start(c->deadline_t, ms, 0);
	return r;
}

int skt_stream_connect_host(skt_loop *l, const char *host, const char *service,
			    const skt_connect_opts *opts, skt_connecting_cb cb,
			    void *arg, skt_connecting **out)
{
	skt_connect_opts def = SKT_CONNECT_OPTS_INIT;
	const skt_connect_opts *o = opts != NULL ? opts : &def;
	if (out != NULL)
		*out = NULL;
	if (l == NULL || host == NULL || host[0] == '\0' || cb == NULL ||
	    (o->socktype != 0 && o->socktype != SOCK_STREAM) ||
	    (o->family != AF_UNSPEC && o->family != AF_INET &&
	     o->family != AF_INET6))
		return SKT_EINVAL;
	skt_connecting *c = skt_calloc(1, sizeof(*c));
	if (c == NULL)
		return SKT_ENOMEM;
	c->cb = cb;
	c->arg = arg;
	int r = setup(c, l, o);
	if (r == 0)
		r = numeric(c, host, service);
	if (r == 1) {
		r = skt_loop_defer(l, on_numeric, c);
		c->free_later = r == 0;
	} else if (r == 0) {
		c->wait.loop = l;
		c->wait.done = on_resolved;
		c->wait.arg = c;
		r = skt__lookup_start(&c->wait, host, service, c->family);
	}
	if (r < 0) {
		c->wait.loop = NULL; /* never reached the pool */
		release(c);
		return r;
	}
	if (c->rep != NULL) {
		memset(c->rep, 0, sizeof(*c->rep));
		c->rep->winner = -1;
	}
	c->resolving = true;
	if (out != NULL)
		*out = c;
	return 0;
}

void skt_connecting_cancel(skt_connecting *c)
{
	if (c == NULL || c->done)
		return;
	c->done = true;
	skt_timer_stop(c->deadline_t);
	skt_timer_stop(c->delay_t);
	stop_resolving(c);
	close_pending(c, SKT_ECANCELED);
	release(c);
}
