/* conn.c - what one connection of `sockit bench` does with its socket,
 * apart from the states worker.c drives: the clock and the error kinds,
 * the bytes in (bench_recv) and out (bench_push), the source address it
 * binds towards 127.x, and the requests it hands on to the connection
 * after it when the server closes with some still in flight. */
#include "tools/bench/bench_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int64_t bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int bench_errkind(int err)
{
	switch (err) {
	case SKT_ECONNREFUSED:
		return BENCH_E_REFUSED;
	case SKT_ECONNRESET:
	case SKT_EPIPE:
	case SKT_ECONNABORTED:
		return BENCH_E_RESET;
	case SKT_ETIMEDOUT:
		return BENCH_E_TIMEOUT;
	case SKT_EMFILE:
	case SKT_ENFILE:
		return BENCH_E_EMFILE;
	default:
		return BENCH_E_OTHER;
	}
}

static void reverse(bench_slot *s, unsigned n)
{
	for (unsigned i = 0; i < n / 2; i++) {
		bench_slot t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
}

/* Keep the requests in flight for the next connection: they sit in the
 * ring from slot completed % depth on, in order; rotated to the front,
 * they are that connection's first requests (the readers match answers
 * to slots by order). */
void bench_keep_inflight(bench_conn *c)
{
	unsigned depth = c->w->o->pipeline;
	unsigned k = (unsigned)(c->completed % depth);
	reverse(c->slots, k);
	reverse(c->slots + k, depth - k);
	reverse(c->slots, depth);
	c->resend = c->inflight;
	for (unsigned i = 0; i < c->resend; i++)
		if (c->slots[i].counted && bench_in_window(c->w, bench_now()))
			c->w->c.retried++;
}

/* Connected again: send the kept requests first. Returns 0 or an error
 * kind. */
int bench_resend(bench_conn *c, int64_t now)
{
	unsigned n = c->resend;
	c->resend = 0;
	for (unsigned i = 0; i < n; i++) {
		bench_slot *s = &c->slots[i];
		s->used = true;
		s->seq = c->issued++;
		s->sent_ns = now;
		c->inflight++;
		int err = c->w->proto->issue(c, s);
		if (err != 0)
			return err;
	}
	return c->w->proto->flush != NULL ? c->w->proto->flush(c) : 0;
}

ssize_t bench_recv(bench_conn *c, void *buf, size_t cap)
{
	if (c->tls != NULL)
		return bench_tls_recv(c, buf, cap);
	ssize_t n;
	do
		n = recv(c->fd, buf, cap, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->w->now = bench_now(); /* the read, not the event */
		return n;
	}
	if (n == 0 || errno == EAGAIN)
		return n == 0 ? 0 : SKT_EAGAIN;
	int err = -errno;
	bench_fail(c, bench_errkind(err));
	return err;
}

/* Up to len bytes out without waiting: the count, SKT_EAGAIN, or an
 * error code. */
static ssize_t send_some(bench_conn *c, const void *buf, size_t len)
{
	if (c->tls != NULL)
		return bench_tls_send(c, buf, len);
	ssize_t r;
	do
		r = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r >= 0 ? r : errno == EAGAIN ? SKT_EAGAIN : -errno;
}

int bench_push(bench_conn *c)
{
	bench_shared *sh = c->w->sh;
	bool counting = bench_measuring(c->w);
	while (c->sent < c->want) {
		uint64_t n = c->want - c->sent;
		if (n > sh->span)
			n = sh->span;
		ssize_t r =
			send_some(c, bench_out_at(sh, c->sent, c->phase), n);
		if (r == SKT_EAGAIN) {
			bool was = c->want_out, in = c->write_wants_in;
			c->want_out = true;
			if (c->tls != NULL)
				c->write_wants_in =
					skt_tls_want(c->tls) == POLLIN;
			if (!was || in != c->write_wants_in)
				bench_watch(c);
			return 0;
		}
		if (r < 0)
			return c->tls != NULL ? bench_tls_errkind((int)r)
					      : bench_errkind((int)r);
		c->sent += (uint64_t)r;
		if (counting)
			c->w->c.bytes_out += (uint64_t)r;
	}
	if (c->want_out) {
		c->want_out = false;
		c->write_wants_in = false;
		bench_watch(c);
	}
	return 0;
}

bool bench_drained(const bench_conn *c, size_t n, size_t cap)
{
	return n < cap && (c->tls == NULL || skt_tls_pending(c->tls) == 0);
}

void bench_watch(bench_conn *c)
{
	unsigned ev = SKT_READABLE;
	if ((c->want_out && !c->write_wants_in) || c->read_wants_out ||
	    c->refill_on_write)
		ev |= SKT_WRITABLE;
	skt_io_start(c->io, ev);
}

/* Towards 127.0.0.0/8: spread the source addresses over the connections,
 * so that one (source, destination) pair's ephemeral ports and TIME_WAIT
 * entries do not cap connect mode's rate, and a server's cap per client
 * address (sockit serve's --max-per-ip, 256) does not refuse a run of
 * many connections. */
int bench_bind_source(bench_worker *w, int fd)
{
	const skt_addr *t = &w->o->target;
	if (w->o->sources < 2 || t->u.sa.sa_family != AF_INET ||
	    (ntohl(t->u.in4.sin_addr.s_addr) >> 24) != 127)
		return 0;
	int one = 1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	struct sockaddr_in src = {.sin_family = AF_INET};
	uint32_t k = w->source_next++ % w->o->sources;
	src.sin_addr.s_addr = htonl(0x7f000001u + k);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return -errno;
	return 0;
}
