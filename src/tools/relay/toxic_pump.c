/* toxic_pump.c - one direction with toxics (pump.h): bytes through user
 * space, so they can be held, paced, sliced and counted. The splice path
 * stays for every direction without toxics.
 *
 * What is read is queued as chunks, each with the time it may leave
 * (now + latency +- jitter, never before the chunk ahead of it, so bytes
 * keep their order). A chunk leaves when it is due and the pacing allows:
 * a token bucket for bandwidth, a gap after each slice for slicer. The
 * queue is bounded (TX_QUEUE_MAX): past it, src is not read and TCP flow
 * control pushes back on the sender.
 */
#include "tools/relay/pump.h"

#include "sockit/sockit.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define TX_CHUNK     16384
#define TX_QUEUE_MAX ((size_t)256 << 10)
/* The bandwidth toxic's bucket: up to 100 ms of its rate, so a timer
 * that fires late on a busy machine is caught up on, not lost; it starts
 * empty, so a transfer does not begin with a burst. */
#define TX_BURST_MS 100

typedef struct chunk {
	struct chunk *next;
	int64_t due;
	size_t len, off;
	uint8_t data[];
} chunk;

struct toxic_pump {
	toxic_dir d;
	chunk *head, *tail;
	size_t queued;
	bool blocked;       /* dst said EAGAIN */
	int64_t not_before; /* slicer's gap */
	int64_t eof_at;
	uint64_t tokens; /* bandwidth, in thousandths of a byte */
	int64_t refilled;
};

uint64_t relay_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

int pump_init_toxic(relay_pump *p, int src, int dst, const toxic_dir *d)
{
	*p = (relay_pump){.src = src, .dst = dst, .pipe = {-1, -1}};
	p->tx = skt_calloc(1, sizeof(*p->tx));
	if (p->tx == NULL)
		return SKT_ENOMEM;
	p->tx->d = *d;
	p->tx->refilled = -1;
	return 0;
}

void toxic_fini(relay_pump *p)
{
	if (p->tx == NULL)
		return;
	for (chunk *c = p->tx->head, *next; c != NULL; c = next) {
		next = c->next;
		skt_free(c);
	}
	skt_free(p->tx);
	p->tx = NULL;
}

static int64_t due_of(toxic_pump *x, int64_t now)
{
	int64_t due = now + x->d.latency_ms;
	if (x->d.jitter_ms > 0) {
		uint64_t span = (uint64_t)x->d.jitter_ms * 2 + 1;
		due += (int64_t)(relay_rand(&x->d.rng) % span) - x->d.jitter_ms;
	}
	if (x->tail != NULL && due < x->tail->due)
		due = x->tail->due;
	return due;
}

static int push(toxic_pump *x, const uint8_t *buf, size_t n, int64_t now)
{
	chunk *c = skt_malloc(sizeof(*c) + n);
	if (c == NULL)
		return SKT_ENOMEM;
	*c = (chunk){.due = due_of(x, now), .len = n};
	memcpy(c->data, buf, n);
	if (x->tail != NULL)
		x->tail->next = c;
	else
		x->head = c;
	x->tail = c;
	x->queued += n;
	return 0;
}

static void pop(toxic_pump *x)
{
	chunk *c = x->head;
	x->head = c->next;
	if (x->head == NULL)
		x->tail = NULL;
	skt_free(c);
}

/* Read what src has. Returns 0 or -errno; m->own_err when out of
 * memory. */
static int fill(relay_pump *p, int64_t now, relay_moved *m)
{
	toxic_pump *x = p->tx;
	uint8_t buf[TX_CHUNK];
	while (!p->eof && x->queued < TX_QUEUE_MAX) {
		ssize_t n = recv(p->src, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		m->any = true;
		if (n == 0) {
			p->eof = true;
			x->eof_at = now;
		} else if (!x->d.drop) {
			if ((m->own_err = push(x, buf, (size_t)n, now)) < 0)
				return 0;
		}
	}
	return 0;
}

/* How many bytes the pacing lets go now (SIZE_MAX: no limit); sets
 * m->due when it is none. */
static size_t allowance(toxic_pump *x, int64_t now, size_t want, relay_moved *m)
{
	if (x->not_before > now) {
		m->due = x->not_before;
		return 0;
	}
	size_t n = want;
	if (x->d.slice > 0 && n > x->d.slice)
		n = x->d.slice;
	if (x->d.rate == 0)
		return n;
	/* Tokens in thousandths of a byte: refills of a millisecond lose
	 * nothing to rounding. */
	uint64_t burst = x->d.rate * TX_BURST_MS; /* rate/s * ms = 1/1000 B */
	if (x->refilled < 0) {
		x->refilled = now;
		x->tokens = 0;
	} else if (now - x->refilled >= TX_BURST_MS) {
		x->tokens = burst; /* also keeps the product below from
				      overflowing after a long pause */
		x->refilled = now;
	} else if (now > x->refilled) {
		x->tokens += x->d.rate * (uint64_t)(now - x->refilled);
		if (x->tokens > burst)
			x->tokens = burst;
		x->refilled = now;
	}
	size_t have = (size_t)(x->tokens / 1000);
	if (have == 0) {
		/* Wait for a useful amount: what is wanted, at most a
		 * burst. */
		uint64_t need = n < burst / 1000 ? n : burst / 1000;
		int64_t wait =
			(int64_t)((need * 1000 + x->d.rate - 1) / x->d.rate);
		m->due = now + (wait > 0 ? wait : 1);
		return 0;
	}
	return n < have ? n : have;
}

/* Send what is due. Returns 0 or -errno. */
static int drain(relay_pump *p, int64_t now, relay_moved *m)
{
	toxic_pump *x = p->tx;
	while (x->head != NULL) {
		chunk *c = x->head;
		if (c->due > now) {
			m->due = c->due;
			return 0;
		}
		size_t len = allowance(x, now, c->len - c->off, m);
		if (x->d.limited && len > x->d.limit - p->bytes)
			len = (size_t)(x->d.limit - p->bytes);
		if (len == 0)
			return 0;
		ssize_t n = send(p->dst, c->data + c->off, len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			x->blocked = errno == EAGAIN;
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		}
		x->blocked = false;
		c->off += (size_t)n;
		x->queued -= (size_t)n;
		p->bytes += (uint64_t)n;
		m->n += (size_t)n;
		m->any = true;
		if (x->d.rate > 0)
			x->tokens -= (uint64_t)n * 1000;
		if (x->d.slice > 0 && x->d.slice_ms > 0)
			x->not_before = now + x->d.slice_ms;
		if (c->off == c->len)
			pop(x);
		if (x->d.limited && p->bytes >= x->d.limit) {
			m->cut = true;
			return 0;
		}
	}
	return 0;
}

relay_moved toxic_run(relay_pump *p, int64_t now)
{
	relay_moved m = {.due = -1};
	toxic_pump *x = p->tx;
	int r = fill(p, now, &m);
	if (r < 0 || m.own_err < 0) {
		m.rd_err = r;
		return m;
	}
	if ((r = drain(p, now, &m)) < 0) {
		m.wr_err = r;
		return m;
	}
	if (m.cut || !p->eof || x->head != NULL || p->done || x->d.drop)
		return m;
	if (now < x->eof_at + x->d.slow_close_ms) {
		m.due = x->eof_at + x->d.slow_close_ms;
		return m;
	}
	p->done = true;
	shutdown(p->dst, SHUT_WR);
	return m;
}

bool toxic_wants_src(const relay_pump *p)
{
	return !p->eof && p->tx->queued < TX_QUEUE_MAX;
}

bool toxic_wants_dst(const relay_pump *p)
{
	return p->tx->head != NULL && p->tx->blocked;
}
