/* connect.c - connecting to one address, or racing many with Happy
 * Eyeballs (RFC 8305).
 *
 * The race is one poll() loop over every attempt still in flight, no
 * threads and no allocation. Its states:
 *   START    open the next address in RFC 8305 section 4 order, bind the
 *            source, connect(); a local failure (no route, bad source)
 *            counts as a failed attempt and goes straight back to START;
 *   WAIT     poll the pending attempts until one ends, the Connection
 *            Attempt Delay since the last start runs out (-> START), or
 *            the caller's deadline passes (-> every pending one
 *            SKT_ETIMEDOUT, done);
 *   REAP     an attempt that failed is closed and recorded, and the next
 *            one starts at once: the delay of section 5 only keeps
 *            attempts from piling up, and a refused address has no
 *            attempt left to pile onto; the first success wins and every
 *            other pending attempt is closed as SKT_ECANCELED (section 5:
 *            the others "SHOULD be canceled").
 */
#include "internal.h"
#include "sockit/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Attempts in flight at once. With the 250 ms default delay, 32 attempts
 * means 8 s of unanswered SYNs, longer than a sane timeout; a later address
 * waits for a slot instead of growing the poll set without bound. */
#define PENDING_MAX 32

/* RFC 8305 section 5 recommends 250 ms; it forbids less than 10 ms, but
 * tests on loopback rely on small delays, so only <= 0 means "default". */
#define DEFAULT_DELAY_MS 250

/* One attempt, as the race remembers it until it ends. */
typedef struct attempt_ref {
	size_t k; /* its number, from 0 */
	const skt_addr *addr;
	int64_t start_ms; /* since the call began */
} attempt_ref;

/* The race: the options it runs under, the report, and the pending set. */
typedef struct race {
	int family;              /* AF_UNSPEC or the only family tried */
	int type;                /* SOCK_STREAM, SOCK_DGRAM, ... */
	const skt_addr *source;  /* NULL when none */
	skt_connect_report *rep; /* NULL when not wanted */
	int64_t t0;              /* skt__now_ms() at the call's start */
	int64_t deadline;        /* -1 for none */
	size_t total;            /* attempts started */
	int last_err;            /* of the last attempt to fail */
	size_t npend;
	struct pollfd pfd[PENDING_MAX];
	attempt_ref ref[PENDING_MAX]; /* the attempt behind each pfd */
} race;

/* RFC 8305 section 4 order without copying the list: two cursors, one over
 * the IPv6 addresses and one over the rest, taken in turn, IPv6 first
 * ("First Address Family Count" of 1). Each keeps the caller's (the
 * resolver's RFC 6724) order within its family. */
typedef struct order {
	const skt_addr *addrs;
	size_t n;
	size_t cur[2]; /* [0] IPv6, [1] everything else */
	int turn;
} order;

static int family_of(const skt_addr *a)
{
	return a->len == 0 ? AF_UNSPEC : a->u.sa.sa_family;
}

static bool is_ip(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Addresses the caller's options rule out are skipped, not attempted: a
 * family filter, or a source address of another family (it could not be
 * bound on that socket). */
static bool eligible(const race *r, const skt_addr *a)
{
	int f = family_of(a);
	if (f == AF_UNSPEC)
		return false;
	if (r->family != AF_UNSPEC && f != r->family)
		return false;
	return r->source == NULL || f == family_of(r->source);
}

static const skt_addr *order_take(order *o, const race *r, int kind)
{
	while (o->cur[kind] < o->n) {
		const skt_addr *a = &o->addrs[o->cur[kind]++];
		if ((family_of(a) == AF_INET6) == (kind == 0) && eligible(r, a))
			return a;
	}
	return NULL;
}

/* The next address to try, or NULL when all are used. */
static const skt_addr *order_next(order *o, const race *r)
{
	const skt_addr *a = order_take(o, r, o->turn);
	if (a != NULL) {
		o->turn ^= 1;
		return a;
	}
	return order_take(o, r, o->turn ^ 1);
}

/* connect() on a non-blocking fd: 0 connected already (Unix sockets,
 * datagrams), 1 in progress, or the error. */
static int start_connect(int fd, const skt_addr *a)
{
	if (connect(fd, &a->u.sa, a->len) == 0)
		return 0;
	/* EINTR means the same as EINPROGRESS on Linux: the handshake goes on
	 * and POLLOUT reports its end (calling connect() again gives
	 * EALREADY). A Unix stream socket answers EAGAIN when the listener's
	 * backlog is full: that is a failure, nothing would signal a retry. */
	if (errno == EINPROGRESS || errno == EINTR)
		return 1;
	return -errno;
}

static uint16_t port_of(const skt_addr *a)
{
	if (family_of(a) == AF_INET)
		return ntohs(a->u.in4.sin_port);
	if (family_of(a) == AF_INET6)
		return ntohs(a->u.in6.sin6_port);
	return 0;
}

static int bind_source(int fd, const skt_addr *src)
{
	int on = 1;
	if (is_ip(family_of(src)) && port_of(src) != 0) {
		/* Racing attempts share the one source port (each has its own
		 * 4-tuple), and a rerun must not wait out TIME_WAIT. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	} else if (is_ip(family_of(src))) {
		/* Address only: let connect() choose the port per 4-tuple, so a
		 * fixed source address does not use up the ephemeral range
		 * (IP_BIND_ADDRESS_NO_PORT, Linux 4.2; harmless if refused). */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
			   sizeof(on));
	}
	if (bind(fd, &src->u.sa, src->len) < 0)
		return -errno;
	return 0;
}

int skt_connect_one(const skt_addr *a, int type, int timeout_ms)
{
	if (a == NULL || a->len == 0)
		return SKT_EINVAL;
	int64_t deadline = skt__deadline(timeout_ms);
	type = type != 0 ? type : SOCK_STREAM;
	int fd = skt_socket(a->u.sa.sa_family, type, 0);
	if (fd < 0)
		return fd;
	int r = start_connect(fd, a);
	if (r == 1 && timeout_ms != 0) {
		r = skt__wait(fd, POLLOUT, deadline);
		if (r == 0)
			r = skt_sock_error(fd);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---- The report ---- */

static attempt_ref report_start(race *r, const skt_addr *a)
{
	attempt_ref ref = {r->total++, a, skt__now_ms() - r->t0};
	if (r->rep != NULL) {
		r->rep->total = r->total;
		if (ref.k < SKT_REPORT_MAX)
			r->rep->n = ref.k + 1;
	}
	return ref;
}

/* Record how an attempt ended. Attempts past SKT_REPORT_MAX are only
 * counted, except a winner: it takes the last slot, so that
 * attempts[winner] is always the winning one and always in bounds. */
static void report_end(race *r, const attempt_ref *ref, int err)
{
	if (err < 0 && err != SKT_ECANCELED)
		r->last_err = err;
	if (r->rep == NULL || (ref->k >= SKT_REPORT_MAX && err != 0))
		return;
	size_t slot = ref->k < SKT_REPORT_MAX ? ref->k : SKT_REPORT_MAX - 1;
	skt_attempt *at = &r->rep->attempts[slot];
	at->addr = *ref->addr;
	at->err = err;
	at->start_ms = ref->start_ms;
	at->end_ms = skt__now_ms() - r->t0;
	if (err == 0)
		r->rep->winner = (int)slot;
}

/* ---- The race ---- */

/* Open, bind and start one attempt. Returns 0 with *fd connected, 1 when
 * it is pending (added to the poll set), or the error it failed with. */
static int attempt_start(race *r, const skt_addr *a, int *fd)
{
	attempt_ref ref = report_start(r, a);
	int rc = *fd = skt_socket(a->u.sa.sa_family, r->type, 0);
	if (rc >= 0 && r->source != NULL)
		rc = bind_source(*fd, r->source);
	if (rc >= 0)
		rc = start_connect(*fd, a);
	if (rc < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (rc != 1) {
		report_end(r, &ref, rc);
		return rc;
	}
	r->pfd[r->npend] = (struct pollfd){.fd = *fd, .events = POLLOUT};
	r->ref[r->npend++] = ref;
	return 1;
}

static void pending_remove(race *r, size_t i)
{
	r->npend--;
	r->pfd[i] = r->pfd[r->npend];
	r->ref[i] = r->ref[r->npend];
}

/* End every pending attempt with err; returns err. */
static int close_pending(race *r, int err)
{
	while (r->npend > 0) {
		close(r->pfd[0].fd);
		report_end(r, &r->ref[0], err);
		pending_remove(r, 0);
	}
	return err;
}

/* Look at every attempt poll() flagged. Returns the winner's fd (the rest
 * cancelled), or -1 with *failed set when at least one attempt failed. */
static int reap(race *r, bool *failed)
{
	size_t i = 0;
	while (i < r->npend) {
		if (r->pfd[i].revents == 0) {
			i++;
			continue;
		}
		int fd = r->pfd[i].fd;
		int e = skt_sock_error(fd);
		attempt_ref ref = r->ref[i];
		pending_remove(r, i);
		if (e == 0) {
			report_end(r, &ref, 0);
			close_pending(r, SKT_ECANCELED);
			return fd;
		}
		close(fd);
		report_end(r, &ref, e);
		*failed = true;
	}
	return -1;
}

/* How long WAIT may sleep: until the deadline, and until the next attempt
 * is due when there is one and a slot for it. */
static int wait_ms(const race *r, bool more, int64_t last_start, int delay)
{
	int ms = skt__remaining(r->deadline);
	if (more && r->npend < PENDING_MAX) {
		int64_t due = last_start + delay - skt__now_ms();
		int d = due < 0 ? 0 : (int)due;
		if (ms < 0 || d < ms)
			ms = d;
	}
	return ms;
}

static int race_run(race *r, order *o, int delay)
{
	const skt_addr *next = order_next(o, r);
	int64_t last_start = 0;
	bool start = true;
	for (;;) {
		if (start && next != NULL && r->npend < PENDING_MAX) {
			int fd;
			int rc = attempt_start(r, next, &fd);
			next = order_next(o, r);
			last_start = skt__now_ms();
			if (rc == 0) {
				close_pending(r, SKT_ECANCELED);
				return fd;
			}
			/* Failed at once: the next one starts now. */
			start = rc < 0;
			continue;
		}
		if (r->npend == 0)
			return r->last_err;
		int n = poll(r->pfd, r->npend,
			     wait_ms(r, next != NULL, last_start, delay));
		if (n < 0 && errno != EINTR)
			return close_pending(r, -errno);
		bool failed = false;
		if (n > 0) {
			int fd = reap(r, &failed);
			if (fd >= 0)
				return fd;
		}
		if (r->deadline >= 0 && skt__remaining(r->deadline) == 0)
			return close_pending(r, SKT_ETIMEDOUT);
		if (failed || skt__now_ms() - last_start >= delay)
			start = true;
	}
}

/* Datagram sockets have no handshake to race: connect() only sets the
 * default peer. The first address that connects is used; later ones are
 * tried only when connect() itself fails (no route for that family). */
static int connect_dgram(race *r, const skt_addr *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!eligible(r, &addrs[i]))
			continue;
		int fd;
		int rc = attempt_start(r, &addrs[i], &fd);
		if (rc == 1) {
			/* Not seen for datagrams; if a protocol does answer
			 * EINPROGRESS, the fd is usable all the same. */
			r->npend = 0;
			report_end(r, &r->ref[0], 0);
		}
		if (rc >= 0)
			return fd;
	}
	return r->last_err;
}

static int connect_addrs_at(const skt_addr *addrs, size_t n,
			    const skt_connect_opts *opts, int64_t t0,
			    int64_t deadline)
{
	skt_connect_opts def = SKT_CONNECT_OPTS_INIT;
	const skt_connect_opts *o = opts != NULL ? opts : &def;
	race r = {
		.family = o->family,
		.type = o->socktype != 0 ? o->socktype : SOCK_STREAM,
		.source = o->source != NULL && o->source->len != 0 ? o->source
								   : NULL,
		.rep = o->report,
		.t0 = t0,
		.deadline = deadline,
		.last_err = SKT_ENOADDR,
	};
	if (r.rep != NULL) {
		memset(r.rep, 0, sizeof(*r.rep));
		r.rep->winner = -1;
	}
	if (o->timeout_ms == 0 || (addrs == NULL && n > 0))
		return SKT_EINVAL;
	if (r.type == SOCK_DGRAM)
		return connect_dgram(&r, addrs, n);
	order ord = {.addrs = addrs, .n = n};
	return race_run(&r, &ord,
			o->attempt_delay_ms > 0 ? o->attempt_delay_ms
						: DEFAULT_DELAY_MS);
}

int skt_connect_any(const skt_addr *addrs, size_t n,
		    const skt_connect_opts *opts)
{
	int timeout = opts != NULL ? opts->timeout_ms : SKT_TIMEOUT_NONE;
	return connect_addrs_at(addrs, n, opts, skt__now_ms(),
				skt__deadline(timeout));
}

int skt_connect(const char *host, const char *service,
		const skt_connect_opts *opts)
{
	skt_connect_opts def = SKT_CONNECT_OPTS_INIT;
	const skt_connect_opts *o = opts != NULL ? opts : &def;
	if (o->timeout_ms == 0)
		return SKT_EINVAL;
	/* The timeout bounds the whole call, so the deadline is taken before
	 * the resolver runs, though the resolver itself cannot be cut short. */
	int64_t t0 = skt__now_ms();
	int64_t deadline = skt__deadline(o->timeout_ms);
	if (o->report != NULL) {
		memset(o->report, 0, sizeof(*o->report));
		o->report->winner = -1;
	}
	skt_addrlist l = {0};
	int type = o->socktype != 0 ? o->socktype : SOCK_STREAM;
	int rc = skt_resolve(&l, host, service, o->family, type, 0);
	if (rc < 0)
		return rc;
	if (deadline >= 0 && skt__remaining(deadline) == 0)
		rc = SKT_ETIMEDOUT;
	else
		rc = connect_addrs_at(l.addrs, l.n, o, t0, deadline);
	skt_addrlist_fini(&l);
	return rc;
}

/* ---- For the loop's connect by name (src/loop/connect_host.c) ---- */

size_t skt__connect_order(const skt_addr *in, size_t n, int family,
			  const skt_addr *source, skt_addr *out)
{
	race r = {.family = family,
		  .source = source != NULL && source->len != 0 ? source : NULL};
	order o = {.addrs = in, .n = n};
	size_t k = 0;
	const skt_addr *a;
	while (k < n && (a = order_next(&o, &r)) != NULL)
		out[k++] = *a;
	return k;
}

int skt__connect_start(const skt_addr *a, const skt_addr *source)
{
	int fd = skt_socket(a->u.sa.sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	int rc = 0;
	if (source != NULL && source->len != 0)
		rc = bind_source(fd, source);
	if (rc == 0)
		rc = start_connect(fd, a);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}
