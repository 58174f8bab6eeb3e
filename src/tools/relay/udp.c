/* udp.c - the UDP relay (udp.h): a session table keyed by client address,
 * one connected upstream socket per session, per-datagram toxics.
 *
 * A datagram's way: rx_client (listening socket) or rx_target (a
 * session's socket) -> pass() draws the toxics of that direction -> sent
 * at once (deliver), or held (delay, reorder) in one list that a timer and
 * the reorder counts release. Sessions are swept by one repeating timer.
 */
#include "tools/relay/udp.h"

#include "tools/relay/pump.h" /* relay_rand */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DGRAM_MAX  65536 /* any datagram whole */
#define LISTEN_BUF (4 << 20)

enum { UP = 0, DOWN = 1 };

typedef struct session session;

struct session {
	session *hnext;       /* the hash bucket's chain */
	session *prev, *next; /* every session, oldest first */
	struct relay_udp *r;
	skt_udp *up; /* connected to the target */
	skt_addr client;
	uint64_t id;
	int64_t opened, last;
	uint64_t dgrams[2], bytes[2], dropped;
	uint64_t rng[2];         /* per direction, from seed and id */
	bool bad[2][TOXICS_MAX]; /* loss: Gilbert-Elliott state */
};

/* A datagram held back by delay (due) or reorder (due, or after more
 * datagrams of its session's direction, and at the latest REORDER_MAX_MS
 * later, so a flow that goes quiet still gets its last datagrams). */
#define REORDER_MAX_MS 1000

typedef struct held {
	struct held *next;
	session *s;
	int dir;
	int64_t due;
	uint64_t after; /* by count: datagrams still to pass first; 0: by
			   time only */
	size_t len;
	uint8_t data[];
} held;

typedef struct relay_udp {
	relay_udp_opts *o;
	skt_loop *loop;
	skt_udp *lis;
	session **bucket;
	size_t nbucket, n;
	session *head, *tail;
	uint64_t next_id;
	skt_timer *sweep, *release, *full_tick;
	uint64_t full, full_total;
	held *held;
	size_t nheld;
	skt_signal *sig[3];
	int64_t started;
	int err; /* a fatal error that stopped the loop */
} relay_udp;

static void emit(relay_udp *r, relay_udp_event *ev)
{
	if (r->o->log != NULL)
		r->o->log(ev, r->o->log_arg);
}

static void report(relay_udp *r, const char *what, int err)
{
	relay_udp_event ev = {.kind = UDP_EV_ERROR, .what = what, .err = err};
	emit(r, &ev);
}

/* ---- The table ---- */

static size_t hash(const skt_addr *a)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a over the address */
	const uint8_t *p = (const uint8_t *)&a->u;
	for (socklen_t i = 0; i < a->len; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

static session *find(relay_udp *r, const skt_addr *a)
{
	for (session *s = r->bucket[hash(a) % r->nbucket]; s != NULL;
	     s = s->hnext)
		if (skt_addr_equal(&s->client, a))
			return s;
	return NULL;
}

static void drop_held(relay_udp *r, const session *s)
{
	for (held **pp = &r->held; *pp != NULL;) {
		held *h = *pp;
		if (h->s == s || s == NULL) {
			*pp = h->next;
			skt_free(h);
			r->nheld--;
		} else {
			pp = &h->next;
		}
	}
}

static void session_close(session *s, int reason)
{
	relay_udp *r = s->r;
	relay_udp_event ev = {.kind = UDP_EV_CLOSE,
			      .addr = &s->client,
			      .id = s->id,
			      .reason = reason,
			      .dgrams_up = s->dgrams[UP],
			      .dgrams_down = s->dgrams[DOWN],
			      .bytes_up = s->bytes[UP],
			      .bytes_down = s->bytes[DOWN],
			      .dropped = s->dropped,
			      .ms = skt_loop_now(r->loop) - s->opened};
	skt_udp_free(s->up); /* the upstream fd is gone once it is logged */
	emit(r, &ev);
	drop_held(r, s);
	session **pp = &r->bucket[hash(&s->client) % r->nbucket];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	*(s->prev != NULL ? &s->prev->next : &r->head) = s->next;
	*(s->next != NULL ? &s->next->prev : &r->tail) = s->prev;
	r->n--;
	skt_free(s);
}

static void rx_target(skt_udp *u, int status, const skt_dgram *d, size_t n);

static session *session_open(relay_udp *r, const skt_addr *client)
{
	int fd = skt_connect_one(&r->o->target, SOCK_DGRAM, 0);
	if (fd < 0) {
		report(r, "socket", fd);
		return NULL;
	}
	session *s = skt_calloc(1, sizeof(*s));
	skt_udp *up = NULL;
	int rc = s == NULL ? SKT_ENOMEM
			   : skt_udp_new(r->loop, &up, fd, DGRAM_MAX);
	if (rc == 0 && (rc = skt_udp_recv_start(up, rx_target)) < 0)
		skt_udp_free(up);
	if (rc < 0) {
		if (up == NULL)
			close(fd);
		skt_free(s);
		report(r, "socket", rc);
		return NULL;
	}
	s->r = r;
	s->up = up;
	s->client = *client;
	s->id = ++r->next_id;
	s->opened = s->last = skt_loop_now(r->loop);
	uint64_t x = r->o->seed ^ (s->id * 0xD1B54A32D192ED03u);
	s->rng[UP] = relay_rand(&x);
	s->rng[DOWN] = relay_rand(&x);
	skt_udp_set_udata(up, s);
	size_t b = hash(client) % r->nbucket;
	s->hnext = r->bucket[b];
	r->bucket[b] = s;
	s->prev = r->tail;
	*(r->tail != NULL ? &r->tail->next : &r->head) = s;
	r->tail = s;
	r->n++;
	relay_udp_event ev = {.kind = UDP_EV_OPEN, .addr = client, .id = s->id};
	emit(r, &ev);
	return s;
}

/* ---- Datagrams ---- */

static void deliver(session *s, int dir, const uint8_t *p, size_t len)
{
	relay_udp *r = s->r;
	int rc = dir == UP ? skt_udp_send(s->up, p, len, NULL)
			   : skt_udp_send(r->lis, p, len, &s->client);
	if (rc < 0) { /* a full socket: lost, as the kernel would */
		s->dropped++;
		return;
	}
	s->dgrams[dir]++;
	s->bytes[dir] += len;
}

static void arm_release(relay_udp *r);

/* One datagram went dir: the reorder holds counting it age by one. */
static void count_passed(session *s, int dir)
{
	relay_udp *r = s->r;
	for (held **pp = &r->held; *pp != NULL;) {
		held *h = *pp;
		if (h->s == s && h->dir == dir && h->after > 0 &&
		    --h->after == 0) {
			*pp = h->next;
			deliver(s, dir, h->data, h->len);
			skt_free(h);
			r->nheld--;
		} else {
			pp = &h->next;
		}
	}
}

static void hold(session *s, int dir, const uint8_t *p, size_t len, int64_t due,
		 uint64_t after)
{
	relay_udp *r = s->r;
	held *h = r->nheld < UDP_HELD_MAX ? skt_malloc(sizeof(*h) + len) : NULL;
	if (h == NULL) { /* past the bound: sent now rather than grown */
		deliver(s, dir, p, len);
		return;
	}
	*h = (held){.next = r->held,
		    .s = s,
		    .dir = dir,
		    .due = due,
		    .after = after,
		    .len = len};
	memcpy(h->data, p, len);
	r->held = h;
	r->nheld++;
	arm_release(r);
}

static bool chance(uint64_t *rng, uint32_t ppm)
{
	return ppm >= 1000000 || relay_rand(rng) % 1000000 < ppm;
}

/* Gilbert-Elliott with a lossless good state and a lossy bad one: stay
 * bad with burst, enter it with p(1-burst)/(1-p), so the long-run share
 * lost is p whatever the burst. */
static bool lost(session *s, int dir, size_t i, const relay_toxic *t)
{
	if (t->burst == 0 || t->p >= 1000000)
		return chance(&s->rng[dir], t->p);
	bool *bad = &s->bad[dir][i];
	double enter =
		(double)t->p * (1000000.0 - t->burst) / (1000000.0 - t->p);
	*bad = *bad ? chance(&s->rng[dir], t->burst)
		    : chance(&s->rng[dir], (uint32_t)(enter + 0.5));
	return *bad;
}

/* The toxics of dir on one datagram, in the order given, then out. */
static void pass(session *s, int dir, const uint8_t *p, size_t len)
{
	relay_udp *r = s->r;
	const relay_udp_opts *o = r->o;
	unsigned copies = 1;
	int64_t delay = -1;
	uint64_t after = 0;
	s->last = skt_loop_now(r->loop);
	for (size_t i = 0; i < o->ntoxics; i++) {
		const relay_toxic *t = &o->toxics[i];
		if (!(t->dir & (1u << dir)) ||
		    !chance(&s->rng[dir], t->toxicity))
			continue;
		switch (t->kind) {
		case TOXIC_LOSS:
			if (lost(s, dir, i, t)) {
				s->dropped++;
				return;
			}
			break;
		case TOXIC_TRUNCATE:
			if (len > t->bytes)
				len = (size_t)t->bytes;
			break;
		case TOXIC_DUPLICATE:
			copies += (unsigned)t->n;
			break;
		case TOXIC_DELAY: {
			int64_t ms = t->ms;
			if (t->jitter_ms > 0)
				ms += (int64_t)(relay_rand(&s->rng[dir]) %
						(2 * (uint64_t)t->jitter_ms +
						 1)) -
				      t->jitter_ms;
			delay = (delay < 0 ? 0 : delay) + ms;
			break;
		}
		default: /* TOXIC_REORDER */
			if (t->n > 0)
				after = t->n;
			else
				delay = (delay < 0 ? 0 : delay) + t->ms;
		}
	}
	count_passed(s, dir);
	for (unsigned c = 0; c < copies; c++) {
		if (delay >= 0)
			hold(s, dir, p, len, s->last + delay, 0);
		else if (after > 0)
			hold(s, dir, p, len, s->last + REORDER_MAX_MS, after);
		else
			deliver(s, dir, p, len);
	}
}

static void rx_target(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	session *s = skt_udp_udata(u);
	if (status < 0) /* ECONNREFUSED: the target is not there (yet) */
		return;
	for (size_t i = 0; i < n; i++)
		pass(s, DOWN, d[i].data, d[i].len);
}

static void rx_client(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	relay_udp *r = skt_udp_udata(u);
	if (status < 0) {
		report(r, "recv", status);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		session *s = find(r, &d[i].from);
		if (s == NULL) {
			if (r->o->admit != NULL &&
			    !r->o->admit(&d[i].from, r->o->admit_arg))
				continue;
			if (r->n >= r->o->max_sessions) {
				r->full++;
				r->full_total++;
				continue;
			}
			if ((s = session_open(r, &d[i].from)) == NULL)
				continue;
		}
		pass(s, UP, d[i].data, d[i].len);
	}
}

/* ---- Timers and signals ---- */

static void on_release(skt_timer *t, void *arg)
{
	(void)t;
	relay_udp *r = arg;
	int64_t now = skt_loop_now(r->loop);
	for (held **pp = &r->held; *pp != NULL;) {
		held *h = *pp;
		if (h->due <= now) {
			*pp = h->next;
			deliver(h->s, h->dir, h->data, h->len);
			skt_free(h);
			r->nheld--;
		} else {
			pp = &h->next;
		}
	}
	arm_release(r);
}

static void arm_release(relay_udp *r)
{
	int64_t first = -1;
	for (const held *h = r->held; h != NULL; h = h->next)
		if (first < 0 || h->due < first)
			first = h->due;
	if (first < 0) {
		skt_timer_stop(r->release);
		return;
	}
	int64_t now = skt_loop_now(r->loop);
	skt_timer_start(r->release, first > now ? first - now : 0, 0);
}

static void on_sweep(skt_timer *t, void *arg)
{
	(void)t;
	relay_udp *r = arg;
	int64_t now = skt_loop_now(r->loop);
	for (session *s = r->head, *nx; s != NULL; s = nx) {
		nx = s->next;
		if (now - s->last >= r->o->idle_ms)
			session_close(s, UDP_END_IDLE);
	}
}

/* Table-full drops, summed: one line a second at most. */
static void on_full_tick(skt_timer *t, void *arg)
{
	(void)t;
	relay_udp *r = arg;
	if (r->full == 0 || !r->o->verbose)
		return;
	relay_udp_event ev = {.kind = UDP_EV_FULL,
			      .count = r->full,
			      .sessions = r->o->max_sessions};
	r->full = 0;
	emit(r, &ev);
}

static void on_signal(skt_signal *sg, int signum, void *arg)
{
	(void)sg;
	relay_udp *r = arg;
	relay_udp_event ev = {.kind = UDP_EV_STOPPING, .signum = signum};
	emit(r, &ev);
	skt_loop_stop(r->loop);
}

/* ---- Running ---- */

static int start(relay_udp *r)
{
	relay_udp_opts *o = r->o;
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	int rc = skt_loop_new(&r->loop, NULL);
	if (rc < 0)
		return rc;
	r->nbucket = o->max_sessions < 16 ? 16 : o->max_sessions;
	r->bucket = skt_calloc(r->nbucket, sizeof(*r->bucket));
	if (r->bucket == NULL)
		return SKT_ENOMEM;
	int fd = skt_udp_bind(o->host, o->port, NULL);
	if (fd < 0) {
		o->failed_family = o->host != NULL && strchr(o->host, ':')
					   ? AF_INET6
					   : AF_INET;
		return fd;
	}
	/* Every client's datagrams share this socket's queue: a bigger one
	 * rides out a burst (best effort: the kernel caps it at rmem_max). */
	(void)skt_sock_set_opt(fd, SKT_OPT_RCVBUF, LISTEN_BUF);
	(void)skt_sock_set_opt(fd, SKT_OPT_SNDBUF, LISTEN_BUF);
	if ((rc = skt_udp_new(r->loop, &r->lis, fd, DGRAM_MAX)) < 0) {
		close(fd);
		return rc;
	}
	skt_udp_set_udata(r->lis, r);
	if ((rc = skt_udp_recv_start(r->lis, rx_client)) < 0 ||
	    (rc = skt_timer_new(r->loop, &r->sweep, on_sweep, r)) < 0 ||
	    (rc = skt_timer_new(r->loop, &r->release, on_release, r)) < 0 ||
	    (rc = skt_timer_new(r->loop, &r->full_tick, on_full_tick, r)) < 0)
		return rc;
	for (int i = 0; i < 3; i++)
		if ((rc = skt_signal_new(r->loop, &r->sig[i], sigs[i],
					 on_signal, r)) < 0)
			return rc;
	if (o->idle_ms > 0) { /* a session lives idle_ms to idle_ms * 1.25 */
		int64_t tick = o->idle_ms / 4 > 1000 ? 1000 : o->idle_ms / 4;
		skt_timer_start(r->sweep, tick > 0 ? tick : 1,
				tick > 0 ? tick : 1);
	}
	skt_timer_start(r->full_tick, 1000, 1000);
	skt_addr local;
	if (skt_sock_local(fd, &local) == 0) {
		relay_udp_event ev = {.kind = UDP_EV_LISTENING, .addr = &local};
		emit(r, &ev);
	}
	return 0;
}

int relay_udp_run(relay_udp_opts *o)
{
	relay_udp r = {.o = o};
	int rc = start(&r);
	if (rc == 0) {
		r.started = skt_loop_now(r.loop);
		rc = skt_loop_run(r.loop, SKT_RUN_DEFAULT);
		rc = rc < 0 ? rc : 0;
		skt_loop_update_time(r.loop);
		while (r.head != NULL)
			session_close(r.head, UDP_END_STOPPED);
		relay_udp_event ev = {.kind = UDP_EV_STOPPED,
				      .sessions = r.next_id,
				      .count = r.full_total,
				      .ms = skt_loop_now(r.loop) - r.started};
		emit(&r, &ev);
	}
	drop_held(&r, NULL);
	while (r.head != NULL)
		session_close(r.head, UDP_END_STOPPED);
	for (int i = 0; i < 3; i++)
		skt_signal_free(r.sig[i]);
	skt_loop_free(r.loop); /* the listener, the timers */
	skt_free(r.bucket);
	return rc;
}
