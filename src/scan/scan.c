/* scan.c - the port scanner: non-blocking probes watched by one epoll set.
 *
 * No allocation per probe and no timer structure beyond a list: every probe
 * of a scan has the same timeout, so the probes in flight, kept in the
 * order they were (re)sent, are also in the order they expire; the head of
 * the list is the next deadline. Slots are allocated once, as many as the
 * concurrency cap allows, and recycled through a free list.
 *
 * The scan loop's states (run()):
 *   FILL    start probes while a slot is free, a port is left and the rate
 *           allows; an answer already in when connect() returns (a
 *           refusal on loopback) is the result at once; a local shortage
 *           (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS) lowers the cap and
 *           keeps the port for later, or with nothing in flight ends the
 *           scan (-> DONE, error);
 *   WAIT    epoll_wait until an answer, the oldest deadline, or the next
 *           rate token;
 *   ANSWER  each ready probe gets its result: TCP by SO_ERROR, UDP by
 *           recv(); a TCP connect or UDP reply that came from one of our
 *           own sockets (self-connect, or two probes crossed) is closed;
 *   EXPIRE  once the ready queue is drained, probes past their deadline:
 *           TCP filtered, UDP sent again while tries remain, else
 *           open|filtered; -> FILL, or DONE with no port left and
 *           nothing in flight.
 */
#include "sockit/scan.h"
#include "internal.h"
#include "sockit/sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Events per epoll_wait: more saves few syscalls at this size. */
#define EVENTS_MAX 1024

/* A rate-limited scan may start this much of a second's probes at once
 * (20 ms worth), so a small timer slip does not cost throughput. */
#define BURST_DIVISOR 50

typedef struct probe {
	int fd; /* -1 when the slot is free */
	uint16_t port;
	uint8_t tries;   /* datagrams sent (TCP: 1) */
	bool crossed;    /* another probe of ours connected to this one */
	int32_t prev;    /* in flight: neighbours in the list, oldest */
	int32_t next;    /* first; free: next in the free list */
	int64_t sent_us; /* when the last SYN or datagram went out */
} probe;

/* Token bucket: one probe costs 1e6 micro-tokens; rate per second adds
 * rate micro-tokens per microsecond, up to burst. */
typedef struct bucket {
	int64_t rate;
	int64_t burst;
	int64_t tokens;
	int64_t last_us;
} bucket;

typedef struct scan {
	skt_addr target;
	int type;
	int64_t timeout_us;
	int udp_tries;
	int cap; /* probes allowed in flight now */
	int inflight;
	int epfd;
	probe *slots;
	int32_t nslots;
	int32_t free_head;
	int32_t head, tail; /* in-flight list */
	const skt_portset *ports;
	unsigned cursor; /* next port to probe; 0 when none is left */
	bucket rate;
	skt_scan_cb cb;
	void *arg;
	skt_scan_stats st;
	struct epoll_event ev[EVENTS_MAX];
} scan;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- Rate ---- */

static void bucket_init(bucket *b, int rate, int64_t now)
{
	int64_t burst = rate / BURST_DIVISOR < 1 ? 1 : rate / BURST_DIVISOR;
	*b = (bucket){rate, burst * 1000000, burst * 1000000, now};
}

/* True when a probe may start now; takes its token. */
static bool bucket_take(bucket *b, int64_t now)
{
	if (b->rate == 0)
		return true;
	int64_t dt = now - b->last_us;
	b->last_us = now;
	/* A long pause refills the bucket; capping dt first keeps
	 * dt * rate far from overflow whatever the rate. */
	if (dt > 0)
		b->tokens += (dt > 1000000 ? 1000000 : dt) * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	if (b->tokens < 1000000)
		return false;
	b->tokens -= 1000000;
	return true;
}

/* Milliseconds until the next token, rounded up (epoll_wait's unit). */
static int bucket_wait_ms(const bucket *b)
{
	int64_t need = 1000000 - b->tokens;
	if (b->rate == 0 || need <= 0)
		return 0;
	int64_t us = (need + b->rate - 1) / b->rate;
	return (int)((us + 999) / 1000);
}

/* ---- Slots and the in-flight list ---- */

static void list_append(scan *s, int32_t i)
{
	probe *p = &s->slots[i];
	p->prev = s->tail;
	p->next = -1;
	if (s->tail >= 0)
		s->slots[s->tail].next = i;
	else
		s->head = i;
	s->tail = i;
}

static void list_unlink(scan *s, int32_t i)
{
	probe *p = &s->slots[i];
	if (p->prev >= 0)
		s->slots[p->prev].next = p->next;
	else
		s->head = p->next;
	if (p->next >= 0)
		s->slots[p->next].prev = p->prev;
	else
		s->tail = p->prev;
}

/* Deliver a result, close the probe's socket and free its slot. A probe
 * that another one found crossed with it is closed, whatever it saw. */
static void finish(scan *s, int32_t i, skt_port_state state, int err, bool self,
		   int64_t now)
{
	probe *p = &s->slots[i];
	if (p->crossed) {
		state = SKT_PORT_CLOSED;
		err = 0;
		self = true;
	}
	skt_scan_result r = {
		.port = p->port,
		.socktype = s->type,
		.state = state,
		.err = err,
		.self_connect = self,
		.tries = p->tries,
		.rtt_us = now - p->sent_us,
	};
	list_unlink(s, i);
	skt_close(p->fd);
	p->fd = -1;
	p->next = s->free_head;
	s->free_head = i;
	s->inflight--;
	s->st.ports++;
	s->st.count[state]++;
	s->st.self_connects += self;
	s->cb(&r, s->arg);
}

/* ---- Answers ---- */

/* What a failed connect or an ICMP error says about the port. A reset
 * (or ICMP port unreachable) is a closed port; unreachables and local
 * firewall verdicts (EPERM, EACCES) mean something filters the way, as
 * nmap reports them; anything else unforeseen is not proof of a closed
 * port either. */
static skt_port_state state_of(int err)
{
	return err == SKT_ECONNREFUSED || err == SKT_ECONNRESET
		       ? SKT_PORT_CLOSED
		       : SKT_PORT_FILTERED;
}

/* Errors that say this process, not the target, ran short. */
static bool shortage(int err)
{
	return err == SKT_EMFILE || err == SKT_ENFILE ||
	       err == SKT_EADDRNOTAVAIL || err == SKT_ENOBUFS ||
	       err == SKT_ENOMEM || err == SKT_EAGAIN;
}

static bool same_host(const skt_addr *a, const skt_addr *b)
{
	skt_addr x = *a, y = *b;
	skt_addr_set_port(&x, 0);
	skt_addr_set_port(&y, 0);
	return skt_addr_equal(&x, &y);
}

/* True when the answer probe i got came from one of our own sockets
 * rather than from a listener. Scanning one's own address, connect()
 * may pick the destination port as its source port: the SYN meets its
 * own socket (TCP simultaneous open, RFC 9293 section 3.5) and connect
 * succeeds with nobody listening; a UDP probe receives its own datagram.
 * Rarer still, probe A from port P to Q and probe B from Q to P meet each
 * other: both are marked. A listener's port is never chosen as a source,
 * so a port answered this way has no listener: it is closed. Costs two
 * syscalls per open port, none per closed one. */
static bool answered_by_us(scan *s, int32_t i)
{
	probe *p = &s->slots[i];
	skt_addr me, peer;
	if (skt_sock_local(p->fd, &me) < 0 || skt_sock_peer(p->fd, &peer) < 0)
		return false;
	if (skt_addr_equal(&me, &peer))
		return true;
	uint16_t lport = skt_addr_port(&me);
	if (!same_host(&me, &peer) || !skt_portset_has(s->ports, lport))
		return false;
	for (int32_t j = s->head; j >= 0; j = s->slots[j].next) {
		probe *q = &s->slots[j];
		skt_addr other;
		if (q->port != lport || j == i)
			continue;
		if (skt_sock_local(q->fd, &other) == 0 &&
		    same_host(&other, &peer) &&
		    skt_addr_port(&other) == p->port) {
			q->crossed = true;
			return true;
		}
	}
	return false;
}

static void tcp_answer(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	int err = skt_sock_error(p->fd);
	if (err == 0) {
		/* A completed handshake: check whose, then reset it so
		 * that neither end keeps a TIME_WAIT. */
		bool self = answered_by_us(s, i);
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		finish(s, i, self ? SKT_PORT_CLOSED : SKT_PORT_OPEN, 0, self,
		       now);
		return;
	}
	finish(s, i, state_of(err), err, false, now);
}

static void udp_answer(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	char byte;
	/* One byte is enough to know a datagram came; a pending ICMP error
	 * is returned by recv() itself. */
	ssize_t n = recv(p->fd, &byte, 1, MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n >= 0) {
		bool self = answered_by_us(s, i);
		finish(s, i, self ? SKT_PORT_CLOSED : SKT_PORT_OPEN, 0, self,
		       now);
		return;
	}
	finish(s, i, state_of(-errno), -errno, false, now);
}

/* ---- Probes ---- */

/* Send the UDP probe: an empty datagram, which most services ignore but
 * which any port without a socket refuses. Returns 0 or an error. */
static int udp_send(int fd)
{
	if (send(fd, "", 0, MSG_NOSIGNAL) == 0)
		return 0;
	/* A full queue is a datagram lost: the timeout and the next try
	 * cover it, as for any loss on the way. */
	if (errno == EAGAIN || errno == ENOBUFS)
		return 0;
	return -errno;
}

/* Open a socket for port and start the probe: connect(), for UDP the
 * first datagram, and the epoll watch. Returns the fd; or, with *early,
 * an answer that came at once (a refusal, an unreachable route); or a
 * negative error when this process ran short (nothing is left open). */
static int probe_open(scan *s, uint16_t port, int *early)
{
	skt_addr a = s->target;
	skt_addr_set_port(&a, port);
	int fd = skt_socket(skt_addr_family(&a), s->type, 0);
	if (fd < 0)
		return fd;
	int rc = 0;
	/* EINTR on a non-blocking connect means the same as EINPROGRESS on
	 * Linux: the handshake goes on and the event reports its end. */
	if (connect(fd, &a.u.sa, a.len) < 0 && errno != EINPROGRESS &&
	    errno != EINTR)
		rc = -errno;
	if (rc == 0 && s->type == SOCK_DGRAM)
		rc = udp_send(fd);
	/* On loopback a refusal is already in by the time connect()
	 * returns (the RST is processed before the call ends): one
	 * getsockopt() then saves an epoll_ctl() and an event, the bulk of
	 * a scan of one's own host. Elsewhere it costs one cheap syscall. */
	else if (rc == 0)
		rc = skt_sock_error(fd);
	struct epoll_event ev = {
		.events = s->type == SOCK_DGRAM ? EPOLLIN : EPOLLOUT,
		.data.u32 = (uint32_t)s->free_head,
	};
	if (rc == 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		rc = -errno;
	/* Every epoll_ctl failure (ENOMEM, ENOSPC: max_user_watches) is
	 * local too. */
	if (shortage(rc) || rc == SKT_ENOSPC) {
		skt_close(fd);
		return rc;
	}
	*early = rc;
	return fd;
}

/* Start one probe of port in the first free slot. Returns 0 when it is in
 * flight (or already has its result), or a shortage error: nothing is left
 * open and the port is to be tried again. */
static int probe_start(scan *s, uint16_t port, int64_t now)
{
	int early = 0;
	int fd = probe_open(s, port, &early);
	if (fd < 0)
		return fd;
	int32_t i = s->free_head;
	probe *p = &s->slots[i];
	s->free_head = p->next;
	*p = (probe){.fd = fd, .port = port, .tries = 1, .sent_us = now};
	s->inflight++;
	list_append(s, i);
	if (early < 0)
		finish(s, i, state_of(early), early, false, now);
	return 0;
}

/* FILL: start probes while the cap, the ports and the rate allow. Returns
 * 0, or the shortage error that left nothing in flight. */
static int fill(scan *s)
{
	while (s->cursor != 0 && s->inflight < s->cap && s->free_head >= 0) {
		/* Per probe: a batch of thousands of connects takes long
		 * enough to eat into the last ones' timeout otherwise. */
		int64_t now = now_us();
		if (!bucket_take(&s->rate, now))
			break;
		int rc = probe_start(s, (uint16_t)s->cursor, now);
		if (rc < 0) {
			s->st.retries++;
			if (s->inflight == 0)
				return rc;
			/* The cap was too high for what this process may
			 * open: keep what is in flight, less a margin for the
			 * fds the caller needs while we run. */
			s->cap = s->inflight - s->inflight / 8;
			if (s->rate.rate != 0)
				s->rate.tokens += 1000000; /* not spent */
			break;
		}
		s->cursor = skt_portset_next(s->ports, s->cursor + 1);
	}
	return 0;
}

/* EXPIRE: the head of the list is always the oldest probe. */
static void expire(scan *s, int64_t now)
{
	while (s->head >= 0 &&
	       now - s->slots[s->head].sent_us >= s->timeout_us) {
		int32_t i = s->head;
		probe *p = &s->slots[i];
		if (s->type == SOCK_STREAM) {
			finish(s, i, SKT_PORT_FILTERED, SKT_ETIMEDOUT, false,
			       now);
		} else if (p->tries < s->udp_tries) {
			int rc = udp_send(p->fd);
			p->tries++;
			p->sent_us = now;
			list_unlink(s, i);
			list_append(s, i);
			if (rc < 0)
				finish(s, i, state_of(rc), rc, false, now);
		} else {
			finish(s, i, SKT_PORT_OPEN_FILTERED, SKT_ETIMEDOUT,
			       false, now);
		}
	}
}

/* WAIT: how long epoll_wait may sleep, in milliseconds. */
static int wait_ms(scan *s)
{
	int64_t ms = -1;
	if (s->head >= 0) {
		int64_t left =
			s->slots[s->head].sent_us + s->timeout_us - now_us();
		ms = left <= 0 ? 0 : (left + 999) / 1000;
	}
	if (s->cursor != 0 && s->inflight < s->cap) {
		int r = bucket_wait_ms(&s->rate);
		if (ms < 0 || r < ms)
			ms = r;
	}
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static int run(scan *s)
{
	for (;;) {
		int rc = fill(s);
		if (rc < 0)
			return rc;
		if (s->cursor == 0 && s->inflight == 0)
			return 0;
		int n = epoll_wait(s->epfd, s->ev, EVENTS_MAX, wait_ms(s));
		if (n < 0 && errno != EINTR)
			return -errno;
		int64_t now = now_us();
		for (int k = 0; k < n; k++) {
			int32_t i = (int32_t)s->ev[k].data.u32;
			if (s->type == SOCK_STREAM)
				tcp_answer(s, i, now);
			else
				udp_answer(s, i, now);
		}
		/* Only once every answer already in is taken: a slow
		 * process (a long FILL, a debugger) must not call a port
		 * filtered whose answer sits unread in the queue. */
		if (n < EVENTS_MAX)
			expire(s, now);
	}
}

/* ---- Setting up ---- */

/* The most probes the fd limit allows, keeping one eighth of it (at
 * least 16) for the caller's own fds. */
static int fd_cap(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX)
		return SKT_SCAN_PARALLEL_MAX;
	long soft = (long)rl.rlim_cur;
	long margin = soft / 8 < 16 ? 16 : soft / 8;
	long cap = soft - margin;
	if (cap > SKT_SCAN_PARALLEL_MAX)
		return SKT_SCAN_PARALLEL_MAX;
	return cap < 1 ? 1 : (int)cap;
}

static bool args_ok(const skt_addr *target, const skt_portset *ports,
		    const skt_scan_opts *o, skt_scan_cb cb)
{
	int f = target != NULL ? skt_addr_family(target) : AF_UNSPEC;
	return (f == AF_INET || f == AF_INET6) && ports != NULL && cb != NULL &&
	       (o->socktype == 0 || o->socktype == SOCK_STREAM ||
		o->socktype == SOCK_DGRAM) &&
	       o->timeout_ms >= 0 && o->parallel >= 0 && o->rate >= 0 &&
	       o->udp_tries >= 0 && o->udp_tries <= 100 &&
	       skt_portset_count(ports) > 0;
}

static int setup(scan *s, const skt_addr *target, const skt_portset *ports,
		 const skt_scan_opts *o)
{
	size_t count = skt_portset_count(ports);
	int cap = fd_cap();
	if (o->parallel > 0 && o->parallel < cap)
		cap = o->parallel;
	if ((size_t)cap > count)
		cap = (int)count;
	s->slots = skt_calloc((size_t)cap, sizeof(probe));
	if (s->slots == NULL)
		return SKT_ENOMEM;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		int err = -errno;
		skt_free(s->slots);
		return err;
	}
	for (int32_t i = 0; i < cap; i++) {
		s->slots[i].fd = -1;
		s->slots[i].next = i + 1 < cap ? i + 1 : -1;
	}
	s->target = *target;
	s->type = o->socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int t = o->timeout_ms > 0 ? o->timeout_ms : SKT_SCAN_TIMEOUT_DEFAULT;
	s->timeout_us = (int64_t)t * 1000;
	s->udp_tries = s->type == SOCK_STREAM ? 1
		       : o->udp_tries > 0     ? o->udp_tries
					      : 2;
	s->cap = s->nslots = cap;
	s->free_head = 0;
	s->head = s->tail = -1;
	s->ports = ports;
	s->cursor = skt_portset_next(ports, 1);
	s->st.parallel_start = cap;
	return 0;
}

int skt_scan(const skt_addr *target, const skt_portset *ports,
	     const skt_scan_opts *opts, skt_scan_cb cb, void *arg)
{
	static const skt_scan_opts defaults = SKT_SCAN_OPTS_INIT;
	const skt_scan_opts *o = opts != NULL ? opts : &defaults;
	if (!args_ok(target, ports, o, cb))
		return SKT_EINVAL;
	/* The epoll batch makes the state a few kB: heap, not stack. */
	scan *s = skt_calloc(1, sizeof(scan));
	if (s == NULL)
		return SKT_ENOMEM;
	int rc = setup(s, target, ports, o);
	if (rc < 0) {
		skt_free(s);
		return rc;
	}
	int64_t t0 = now_us();
	bucket_init(&s->rate, o->rate, t0);
	s->cb = cb;
	s->arg = arg;
	rc = run(s);
	/* On an error, probes still in flight end without a result. */
	for (int32_t i = 0; i < s->nslots; i++)
		skt_close(s->slots[i].fd);
	close(s->epfd);
	s->st.parallel_end = s->cap;
	s->st.elapsed_ms = (now_us() - t0) / 1000;
	if (o->stats != NULL)
		*o->stats = s->st;
	size_t scanned = s->st.ports;
	skt_free(s->slots);
	skt_free(s);
	return rc < 0 ? rc : (int)scanned;
}

/* ---- Collecting ---- */

typedef struct collector {
	skt_scan_result *v;
	size_t n;
} collector;

static void collect_one(const skt_scan_result *r, void *arg)
{
	collector *c = arg;
	c->v[c->n++] = *r;
}

static int by_port(const void *a, const void *b)
{
	const skt_scan_result *x = a, *y = b;
	return (int)x->port - (int)y->port;
}

int skt_scan_collect(const skt_addr *target, const skt_portset *ports,
		     const skt_scan_opts *opts, skt_scan_result **out)
{
	*out = NULL;
	size_t count = ports != NULL ? skt_portset_count(ports) : 0;
	collector c = {skt_calloc(count ? count : 1, sizeof(*c.v)), 0};
	if (c.v == NULL)
		return SKT_ENOMEM;
	int rc = skt_scan(target, ports, opts, collect_one, &c);
	if (rc < 0) {
		skt_free(c.v);
		return rc;
	}
	qsort(c.v, c.n, sizeof(*c.v), by_port);
	*out = c.v;
	return (int)c.n;
}
