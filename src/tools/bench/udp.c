/* udp.c - echo over UDP: each request is one datagram of SIZE bytes, an
 * 8-byte sequence number then a slice of the pattern chosen by it; the
 * answer must be the same datagram. A datagram with no answer within
 * --timeout is counted lost and its slot reused; a late answer to it is
 * ignored. Answers may come out of order, so they are matched to their
 * slot by sequence number. */
#include "tools/bench/bench_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define SEQ_BYTES 8

static uint64_t offset_of(uint64_t seq)
{
	return seq * 131; /* any spread; the period is prime */
}

static void fill(const bench_conn *c, uint64_t seq, uint8_t *buf, size_t size)
{
	memcpy(buf, &seq, SEQ_BYTES);
	memcpy(buf + SEQ_BYTES,
	       bench_out_at(c->w->sh, offset_of(seq), c->phase),
	       size - SEQ_BYTES);
}

static int udp_issue(bench_conn *c, bench_slot *s)
{
	bench_worker *w = c->w;
	size_t size = w->o->size;
	s->seq = w->next_seq++;
	fill(c, s->seq, w->rbuf, size);
	ssize_t n;
	do {
		n = send(c->fd, w->rbuf, size, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* ICMP unreachable from an earlier datagram, or a full
		 * buffer: this datagram is lost, and the next sweep ends it
		 * as such; the socket lives on. */
		if (errno != ECONNREFUSED && errno != EAGAIN &&
		    errno != ENOBUFS)
			return BENCH_E_OTHER;
		s->sent_ns = 0;
		return 0;
	}
	if (bench_measuring(w))
		w->c.bytes_out += size;
	return 0;
}

static bench_slot *slot_of(bench_conn *c, uint64_t seq)
{
	for (unsigned i = 0; i < c->w->o->pipeline; i++)
		if (c->slots[i].used && c->slots[i].seq == seq)
			return &c->slots[i];
	return NULL;
}

/* The oldest datagram in flight: the one an ICMP error most likely
 * answers. */
static bench_slot *oldest(bench_conn *c)
{
	bench_slot *o = NULL;
	for (unsigned i = 0; i < c->w->o->pipeline; i++)
		if (c->slots[i].used && (o == NULL || c->slots[i].seq < o->seq))
			o = &c->slots[i];
	return o;
}

int bench_udp_check(const bench_shared *sh, uint32_t phase, size_t size,
		    const uint8_t *buf, size_t n, size_t cap, uint64_t *seq)
{
	if (n < SEQ_BYTES || cap < SEQ_BYTES)
		return 1; /* not ours to match: ignored like a stray */
	memcpy(seq, buf, SEQ_BYTES);
	/* n > cap: truncated (MSG_TRUNC tells the real length), so never
	 * the size asked for when cap holds a whole request. */
	if (n != size || n > cap || size - SEQ_BYTES > sh->span)
		return BENCH_E_MISMATCH;
	if (memcmp(buf + SEQ_BYTES, bench_out_at(sh, offset_of(*seq), phase),
		   size - SEQ_BYTES) != 0)
		return BENCH_E_MISMATCH;
	return 0;
}

static void answer(bench_conn *c, size_t n, int64_t now)
{
	bench_worker *w = c->w;
	uint64_t seq;
	int v = bench_udp_check(w->sh, c->phase, w->o->size, w->rbuf, n,
				w->rbuf_cap, &seq);
	if (v == 1)
		return;
	bench_slot *s = slot_of(c, seq);
	if (s == NULL)
		return; /* late, after its timeout, or a duplicate */
	if (v != 0) {
		bench_lost(c, s, v);
		return;
	}
	c->answer_bytes = n;
	bench_complete(c, s, now);
}

static int udp_readable(bench_conn *c, int64_t now)
{
	bench_worker *w = c->w;
	/* Bounded: a flood of answers must not keep the thread from its
	 * timers and its other sockets. */
	for (int i = 0; i < 64 && c->state == CONN_UP; i++) {
		ssize_t n = recv(c->fd, w->rbuf, w->rbuf_cap,
				 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			bench_slot *s = oldest(c);
			if (s != NULL)
				bench_lost(c, s,
					   errno == ECONNREFUSED
						   ? BENCH_E_REFUSED
						   : BENCH_E_OTHER);
			continue;
		}
		answer(c, (size_t)n, now);
	}
	return c->state == CONN_UP ? 0 : -1;
}

const bench_proto bench_udp_proto = {
	.issue = udp_issue,
	.readable = udp_readable,
};
