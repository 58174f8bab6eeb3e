/* scan.c - the port scanner: non-blocking probes watched by one epoll set,
 * over a space of targets x ports walked in the order of an iterator
 * (space.c), paced by pace.c.
 *
 * No allocation per probe and no timer structure beyond lists: every probe
 * of a list has the same timeout, so a list kept in the order its probes
 * were (re)sent is also in the order they expire, and its head is its
 * next deadline. Three lists: probes waiting for their connect or
 * datagram (the probe timeout), open ports waiting for a banner (half the
 * banner time each step), and probes timed out that wait to be sent again
 * (no fd, no deadline). Slots are allocated once, as many as the
 * concurrency cap allows, and recycled through a free list, so memory does
 * not grow with the space.
 *
 * A probe's states:
 *   CONNECT  connect() or the datagram is out; an answer ends it (TCP by
 *            SO_ERROR, UDP by recv()), its timeout resends (UDP), queues
 *            it for a retry (TCP with retries left: -> RETRY) or ends it;
 *   RETRY    timed out, its fd closed, waiting for a slot in the pace
 *            ahead of new probes (-> CONNECT);
 *   BANNER   open, reading what the port says first; a line, the peer's
 *            close or half the banner time ends the wait: silent, an
 *            HTTP HEAD goes out (-> PROBED), else the result;
 *   PROBED   reading the answer to HEAD until its header ends, the peer
 *            closes or the other half passes.
 *
 * The scan loop (run()):
 *   FILL    start probes while a slot is free, an index (or a retry) is
 *           left and the pace allows; an answer already in when connect()
 *           returns (a refusal on loopback) is the result at once; a local
 *           shortage (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS) lowers the
 *           cap and keeps the index for later, or with nothing in flight
 *           ends the scan (-> DONE, error);
 *   WAIT    epoll_wait until an answer, the oldest deadline, the next
 *           token or the next progress report;
 *   ANSWER  each ready probe moves on by its state;
 *   EXPIRE  once the ready queue is drained, probes past their deadline;
 *           -> FILL, or DONE with nothing left to start and nothing out.
 */
#include "sockit/scan.h"
#include "internal.h"
#include "scan_int.h"
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
/* The probe a silent open port gets with http_probe: HTTP/1.0 needs no
 * Host field, and HEAD asks for no body (RFC 9110 section 9.3.2). */
#define HTTP_HEAD "HEAD / HTTP/1.0\r\n\r\n"

enum { FREE, CONNECT, RETRY, BANNER, PROBED };

typedef struct probe {
	int fd; /* -1 when none is open */
	uint8_t state;
	uint8_t tries;   /* connects or datagrams sent */
	bool crossed;    /* another probe of ours connected to this one */
	uint16_t blen;   /* banner bytes in its buffer */
	uint32_t cohort; /* the pace's, of its last send */
	int32_t prev;    /* in a list: its neighbours, oldest first; */
	int32_t next;    /* free: the next free slot */
	int64_t sent_us; /* when its list's clock started */
	int64_t rtt_us;  /* a banner's: the handshake's */
	uint64_t index;  /* in the space */
	uint64_t pos;    /* the iterator's position before it was taken */
	skt_addr addr;
} probe;

typedef struct list {
	int32_t head, tail;
} list;

typedef struct scan {
	const skt_scan_space *sp;
	skt_scan_iter *it;
	const skt_addr *fixed; /* skt_scan: the target as given (scope) */
	bool more;             /* it has an index left */
	uint64_t next_index, next_pos;
	int type;
	int64_t timeout_us, banner_us; /* banner_us: each half */
	int udp_tries, retries;
	bool http_probe;
	int inflight; /* probes holding an fd */
	int epfd;
	probe *slots;
	uint8_t *banners; /* SKT_SCAN_BANNER_MAX per slot, with banners */
	int32_t nslots;
	int32_t free_head;
	list fly, ban, wait;
	skt__pace pace;
	const volatile sig_atomic_t *stop;
	skt_scan_progress_cb progress;
	void *progress_arg;
	int64_t progress_us, next_progress, t0;
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

/* ---- Slots and lists ---- */

static void list_append(scan *s, list *l, int32_t i)
{
	probe *p = &s->slots[i];
	p->prev = l->tail;
	p->next = -1;
	if (l->tail >= 0)
		s->slots[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

static void list_unlink(scan *s, list *l, int32_t i)
{
	probe *p = &s->slots[i];
	if (p->prev >= 0)
		s->slots[p->prev].next = p->next;
	else
		l->head = p->next;
	if (p->next >= 0)
		s->slots[p->next].prev = p->prev;
	else
		l->tail = p->prev;
}

static list *list_of(scan *s, const probe *p)
{
	return p->state == CONNECT ? &s->fly
	       : p->state == RETRY ? &s->wait
				   : &s->ban;
}

static void close_fd(scan *s, probe *p)
{
	if (p->fd < 0)
		return;
	skt_close(p->fd);
	p->fd = -1;
	s->inflight--;
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
		.port = skt_addr_port(&p->addr),
		.socktype = s->type,
		.state = state,
		.err = err,
		.self_connect = self,
		.tries = p->tries,
		.rtt_us = p->state == BANNER || p->state == PROBED
				  ? p->rtt_us
				  : now - p->sent_us,
		.addr = p->addr,
		.index = p->index,
	};
	if (p->blen > 0) {
		r.banner = s->banners + (size_t)i * SKT_SCAN_BANNER_MAX;
		r.banner_len = p->blen;
	}
	r.banner_probed = p->state == PROBED;
	if (p->tries > 1 && state != SKT_PORT_FILTERED &&
	    s->type == SOCK_STREAM)
		s->st.resent_answered++;
	list_unlink(s, list_of(s, p), i);
	close_fd(s, p);
	p->state = FREE;
	p->next = s->free_head;
	s->free_head = i;
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
	if (!same_host(&me, &peer) || !skt_portset_has(&s->sp->ports, lport))
		return false;
	uint16_t port = skt_addr_port(&p->addr);
	for (int32_t j = s->fly.head; j >= 0; j = s->slots[j].next) {
		probe *q = &s->slots[j];
		skt_addr other;
		if (skt_addr_port(&q->addr) != lport || j == i || q->fd < 0)
			continue;
		if (skt_sock_local(q->fd, &other) == 0 &&
		    same_host(&other, &peer) && skt_addr_port(&other) == port) {
			q->crossed = true;
			return true;
		}
	}
	return false;
}

/* The pace hears how each TCP send ended. */
static void paced_end(scan *s, const probe *p, bool timed_out, int64_t now)
{
	if (s->type == SOCK_STREAM)
		skt__pace_ended(&s->pace, p->cohort, timed_out, p->tries > 1,
				now);
}

/* An open port, with banners: wait for what it says first. */
static bool banner_start(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
	if (s->banner_us == 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->fd, &ev) < 0)
		return false;
	list_unlink(s, &s->fly, i);
	p->state = BANNER;
	p->rtt_us = now - p->sent_us;
	p->sent_us = now;
	list_append(s, &s->ban, i);
	return true;
}

static void tcp_answer(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	int err = skt_sock_error(p->fd);
	paced_end(s, p, false, now);
	if (err == 0) {
		/* A completed handshake: check whose, then reset it so
		 * that neither end keeps a TIME_WAIT. */
		bool self = answered_by_us(s, i);
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		if (!self && !p->crossed && banner_start(s, i, now))
			return;
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

/* Enough of a banner: a greeting's first line, the end of an HTTP
 * header, or a full buffer. */
static bool banner_done(const probe *p, const uint8_t *b)
{
	if (p->blen >= SKT_SCAN_BANNER_MAX)
		return true;
	if (p->state == BANNER)
		return memchr(b, '\n', p->blen) != NULL;
	for (size_t k = 3; k < p->blen; k++)
		if (memcmp(b + k - 3, "\r\n\r\n", 4) == 0)
			return true;
	return false;
}

static void banner_read(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	uint8_t *b = s->banners + (size_t)i * SKT_SCAN_BANNER_MAX;
	ssize_t n = recv(p->fd, b + p->blen, SKT_SCAN_BANNER_MAX - p->blen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->blen += (uint16_t)n;
	/* The peer closed or reset: what came is the banner. The port was
	 * open all the same. */
	if (n <= 0 || banner_done(p, b))
		finish(s, i, SKT_PORT_OPEN, 0, false, now);
}

static void banner_expire(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	if (p->state == BANNER && p->blen == 0 && s->http_probe &&
	    send(p->fd, HTTP_HEAD, sizeof(HTTP_HEAD) - 1, MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(HTTP_HEAD) - 1) {
		list_unlink(s, &s->ban, i);
		p->state = PROBED;
		p->sent_us = now;
		list_append(s, &s->ban, i);
		return;
	}
	finish(s, i, SKT_PORT_OPEN, 0, false, now);
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

/* Open a socket for slot i's address and start the probe: connect(),
 * for UDP the first datagram, and the epoll watch. Returns the fd; or,
 * with *early, an answer that came at once (a refusal, an unreachable
 * route); or a negative error when this process ran short (nothing is
 * left open). */
static int probe_open(scan *s, int32_t i, const skt_addr *a, int *early)
{
	int fd = skt_socket(skt_addr_family(a), s->type, 0);
	if (fd < 0)
		return fd;
	int rc = 0;
	/* EINTR on a non-blocking connect means the same as EINPROGRESS on
	 * Linux: the handshake goes on and the event reports its end. */
	if (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS &&
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
		.data.u32 = (uint32_t)i,
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

/* Send slot i's probe (new, or a retry). Returns 0 when it is out (or
 * already has its result), or a shortage error: nothing is left open
 * and the slot is as it was. */
static int probe_send(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	int early = 0;
	int fd = probe_open(s, i, &p->addr, &early);
	if (fd < 0)
		return fd;
	p->fd = fd;
	p->tries++;
	p->sent_us = now;
	p->state = CONNECT;
	s->inflight++;
	list_append(s, &s->fly, i);
	if (s->type == SOCK_STREAM)
		p->cohort = skt__pace_sent(&s->pace, now);
	if (early < 0) {
		paced_end(s, p, false, now);
		finish(s, i, state_of(early), early, false, now);
	}
	return 0;
}

/* The iterator's next index, peeked: it stays there until a probe of it
 * starts. */
static void peek(scan *s)
{
	s->next_pos = s->it->pos;
	s->more = skt_scan_iter_next(s->it, &s->next_index);
}

/* A new probe of the peeked index in the first free slot. */
static int probe_new(scan *s, int64_t now)
{
	int32_t i = s->free_head;
	probe *p = &s->slots[i];
	skt_addr a;
	int rc = skt_scan_space_get(s->sp, s->next_index, &a);
	if (rc < 0)
		return rc;
	if (s->fixed != NULL) {
		uint16_t port = skt_addr_port(&a);
		a = *s->fixed;
		skt_addr_set_port(&a, port);
	}
	s->free_head = p->next;
	*p = (probe){.fd = -1, .index = s->next_index, .pos = s->next_pos};
	p->addr = a;
	rc = probe_send(s, i, now);
	if (rc < 0) {
		p->next = s->free_head;
		s->free_head = i;
		return rc;
	}
	peek(s);
	return 0;
}

static int probe_retry(scan *s, int64_t now)
{
	int32_t i = s->wait.head;
	list_unlink(s, &s->wait, i);
	s->slots[i].state = FREE;
	int rc = probe_send(s, i, now);
	if (rc < 0) {
		s->slots[i].state = RETRY;
		list_append(s, &s->wait, i);
		return rc;
	}
	s->st.resent++;
	return 0;
}

static bool stopping(const scan *s)
{
	return s->stop != NULL && *s->stop != 0;
}

/* FILL: start probes while the cap, the work and the pace allow. Retries
 * go first: they are older, and a path that dropped them once is the
 * one the pace is slowing down for. Returns 0, or the shortage error
 * that left nothing in flight. */
static int fill(scan *s)
{
	while ((s->wait.head >= 0 || (s->more && s->free_head >= 0)) &&
	       s->inflight < s->pace.cap && !stopping(s)) {
		/* The clock per probe: a batch of thousands of connects
		 * takes long enough to eat into the last ones' timeout. */
		int64_t now = now_us();
		if (!skt__pace_take(&s->pace, now))
			break;
		int rc = s->wait.head >= 0 ? probe_retry(s, now)
					   : probe_new(s, now);
		if (rc == SKT_EINVAL)
			return rc;
		if (rc < 0) {
			s->st.retries++;
			skt__pace_untake(&s->pace);
			if (s->inflight == 0)
				return rc;
			skt__pace_shortage(&s->pace, s->inflight);
			break;
		}
	}
	return 0;
}

/* A TCP probe timed out: again later while it has retries, else
 * filtered. */
static void connect_expire(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	if (s->type == SOCK_STREAM) {
		paced_end(s, p, true, now);
		if (p->tries > s->retries || stopping(s)) {
			finish(s, i, SKT_PORT_FILTERED, SKT_ETIMEDOUT, false,
			       now);
			return;
		}
		list_unlink(s, &s->fly, i);
		close_fd(s, p);
		p->state = RETRY;
		list_append(s, &s->wait, i);
	} else if (p->tries < s->udp_tries) {
		int rc = udp_send(p->fd);
		p->tries++;
		p->sent_us = now;
		list_unlink(s, &s->fly, i);
		list_append(s, &s->fly, i);
		if (rc < 0)
			finish(s, i, state_of(rc), rc, false, now);
	} else {
		finish(s, i, SKT_PORT_OPEN_FILTERED, SKT_ETIMEDOUT, false, now);
	}
}

/* EXPIRE: the head of each list is its oldest probe. */
static void expire(scan *s, int64_t now)
{
	while (s->fly.head >= 0 &&
	       now - s->slots[s->fly.head].sent_us >= s->timeout_us)
		connect_expire(s, s->fly.head, now);
	while (s->ban.head >= 0 &&
	       now - s->slots[s->ban.head].sent_us >= s->banner_us)
		banner_expire(s, s->ban.head, now);
}

/* ---- Progress ---- */

/* Where a later scan may resume: before the oldest index still out. */
static uint64_t resume_pos(const scan *s)
{
	uint64_t pos = s->more ? s->next_pos : s->it->pos;
	for (int32_t i = 0; i < s->nslots; i++)
		if (s->slots[i].state != FREE && s->slots[i].pos < pos)
			pos = s->slots[i].pos;
	return pos;
}

static void report(scan *s, int64_t now)
{
	if (s->progress == NULL || now < s->next_progress)
		return;
	s->next_progress = now + s->progress_us;
	skt_scan_progress pr = {
		.done = s->st.ports,
		.resume = resume_pos(s),
		.pos = s->more ? s->next_pos : s->it->pos,
		.len = s->it->len,
		.inflight = s->inflight,
		.rate = (int)s->pace.rate,
		.resent = s->st.resent,
		.elapsed_ms = (now - s->t0) / 1000,
	};
	s->progress(&pr, s->progress_arg);
}

/* WAIT: how long epoll_wait may sleep, in milliseconds. */
static int wait_ms(scan *s)
{
	int64_t now = now_us(), ms = -1;
	const list *ls[2] = {&s->fly, &s->ban};
	int64_t tmo[2] = {s->timeout_us, s->banner_us};
	for (int k = 0; k < 2; k++) {
		if (ls[k]->head < 0)
			continue;
		int64_t left = s->slots[ls[k]->head].sent_us + tmo[k] - now;
		int64_t m = left <= 0 ? 0 : (left + 999) / 1000;
		if (ms < 0 || m < ms)
			ms = m;
	}
	if ((s->more || s->wait.head >= 0) && s->inflight < s->pace.cap &&
	    !stopping(s)) {
		int r = skt__pace_wait_ms(&s->pace);
		if (ms < 0 || r < ms)
			ms = r;
	}
	if (s->progress != NULL) {
		int64_t left = s->next_progress - now;
		int64_t m = left <= 0 ? 0 : (left + 999) / 1000;
		if (ms < 0 || m < ms)
			ms = m;
	}
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void answer(scan *s, int32_t i, int64_t now)
{
	probe *p = &s->slots[i];
	if (p->state == BANNER || p->state == PROBED)
		banner_read(s, i, now);
	else if (p->state != CONNECT)
		return; /* a stale event of a slot already moved on */
	else if (s->type == SOCK_STREAM)
		tcp_answer(s, i, now);
	else
		udp_answer(s, i, now);
}

static int run(scan *s)
{
	for (;;) {
		int rc = fill(s);
		if (rc < 0)
			return rc;
		bool left = (s->more && !stopping(s)) || s->wait.head >= 0;
		if (!left && s->fly.head < 0 && s->ban.head < 0)
			return 0;
		int n = epoll_wait(s->epfd, s->ev, EVENTS_MAX, wait_ms(s));
		if (n < 0 && errno != EINTR)
			return -errno;
		int64_t now = now_us();
		for (int k = 0; k < n; k++)
			answer(s, (int32_t)s->ev[k].data.u32, now);
		/* Only once every answer already in is taken: a slow
		 * process (a long FILL, a debugger) must not call a port
		 * filtered whose answer sits unread in the queue. */
		if (n < EVENTS_MAX)
			expire(s, now);
		report(s, now);
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

bool skt__scan_opts_ok(const skt_scan_opts *o)
{
	return (o->socktype == 0 || o->socktype == SOCK_STREAM ||
		o->socktype == SOCK_DGRAM) &&
	       o->timeout_ms >= 0 && o->parallel >= 0 && o->rate >= 0 &&
	       o->udp_tries >= 0 && o->udp_tries <= 100 && o->retries >= 0 &&
	       o->retries <= 10 && o->banner_ms >= 0 && o->progress_ms >= 0;
}

static void settings(scan *s, const skt_scan_opts *o, int cap)
{
	s->type = o->socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int t = o->timeout_ms > 0 ? o->timeout_ms : SKT_SCAN_TIMEOUT_DEFAULT;
	s->timeout_us = (int64_t)t * 1000;
	s->udp_tries = s->type == SOCK_STREAM ? 1
		       : o->udp_tries > 0     ? o->udp_tries
					      : 2;
	s->retries = s->type == SOCK_STREAM ? o->retries : 0;
	s->banner_us = s->type == SOCK_STREAM ? (int64_t)o->banner_ms * 500 : 0;
	s->http_probe = o->http_probe;
	s->stop = o->stop;
	s->progress = o->progress;
	s->progress_arg = o->progress_arg;
	s->progress_us =
		(int64_t)(o->progress_ms > 0 ? o->progress_ms : 1000) * 1000;
	s->t0 = now_us();
	s->next_progress = s->t0 + s->progress_us;
	/* UDP's answers say nothing of loss: a datagram dropped and one
	 * that no service answers look the same, so only TCP adapts. */
	skt__pace_init(&s->pace, o->rate, cap,
		       !o->fixed_pace && s->type == SOCK_STREAM, s->timeout_us,
		       s->t0);
	s->st.parallel_start = cap;
}

static int setup(scan *s, const skt_scan_opts *o, uint64_t work)
{
	int cap = fd_cap();
	if (o->parallel > 0 && o->parallel < cap)
		cap = o->parallel;
	if ((uint64_t)cap > work)
		cap = (int)work;
	if (cap < 1)
		cap = 1;
	s->slots = skt_calloc((size_t)cap, sizeof(probe));
	if (s->slots == NULL)
		return SKT_ENOMEM;
	bool banners = o->banner_ms > 0 && o->socktype != SOCK_DGRAM;
	/* Calloc'ed pages the kernel hands out only when touched: one
	 * buffer per slot costs what open ports use. */
	s->banners =
		banners ? skt_calloc((size_t)cap, SKT_SCAN_BANNER_MAX) : NULL;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || (banners && s->banners == NULL)) {
		int err = s->epfd < 0 ? -errno : SKT_ENOMEM;
		if (s->epfd >= 0)
			close(s->epfd);
		skt_free(s->banners);
		skt_free(s->slots);
		return err;
	}
	for (int32_t i = 0; i < cap; i++) {
		s->slots[i].fd = -1;
		s->slots[i].next = i + 1 < cap ? i + 1 : -1;
	}
	s->nslots = cap;
	s->free_head = 0;
	s->fly = s->ban = s->wait = (list){-1, -1};
	settings(s, o, cap);
	return 0;
}

/* The engine under skt_scan and skt_scan_run. */
int skt__scan_space(const skt_scan_space *sp, skt_scan_iter *it,
		    const skt_addr *fixed, const skt_scan_opts *o,
		    skt_scan_cb cb, void *arg)
{
	/* The epoll batch makes the state a few kB: heap, not stack. */
	scan *s = skt_calloc(1, sizeof(scan));
	if (s == NULL)
		return SKT_ENOMEM;
	uint64_t left = it->len - it->pos;
	int rc = setup(s, o, left);
	if (rc < 0) {
		skt_free(s);
		return rc;
	}
	s->sp = sp;
	s->it = it;
	s->fixed = fixed;
	s->cb = cb;
	s->arg = arg;
	peek(s);
	rc = run(s);
	/* On an error, probes still out end without a result; the
	 * iterator goes back to before the oldest of them. */
	uint64_t pos = resume_pos(s);
	for (int32_t i = 0; i < s->nslots; i++)
		skt_close(s->slots[i].fd);
	close(s->epfd);
	skt__scan_iter_seek(it, pos);
	s->st.parallel_end = s->pace.cap;
	s->st.rate_end = (int)s->pace.rate;
	s->st.backoffs = s->pace.backoffs;
	s->st.stopped = stopping(s);
	s->st.elapsed_ms = (now_us() - s->t0) / 1000;
	if (o->stats != NULL)
		*o->stats = s->st;
	skt_free(s->banners);
	skt_free(s->slots);
	skt_free(s);
	return rc;
}

int skt_scan_run(const skt_scan_space *sp, skt_scan_iter *it,
		 const skt_scan_opts *opts, skt_scan_cb cb, void *arg)
{
	static const skt_scan_opts defaults = SKT_SCAN_OPTS_INIT;
	const skt_scan_opts *o = opts != NULL ? opts : &defaults;
	if (sp == NULL || it == NULL || cb == NULL || !skt__scan_opts_ok(o) ||
	    it->o.size != sp->size)
		return SKT_EINVAL;
	if (it->pos >= it->len) {
		if (o->stats != NULL)
			*o->stats = (skt_scan_stats){0};
		return 0;
	}
	return skt__scan_space(sp, it, NULL, o, cb, arg);
}
