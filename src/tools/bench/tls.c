/* tls.c - TLS under the connections of `sockit bench`: the handshake,
 * driven in the worker's own loop on the non-blocking socket
 * (skt_tls_handshake with timeout 0, then a wait for the event that
 * skt_tls_want names), reads and writes through the session, close_notify
 * at a clean end, and each handshake's count and latency.
 *
 * A connection over TLS: CONNECTING -> HANDSHAKE (here) -> UP. The
 * handshake's latency runs from the TCP connection's completion to the
 * handshake's end, apart from the requests' (which start once it is
 * over); it is counted with the first counted request the connection
 * carries, so that a run's handshakes are those of its requests: with a
 * new connection per request (--no-keepalive), one per request.
 * Resumption: each connection slot keeps the session of its last
 * connection (skt_tls_get_session) for its next (skt_tls_set_session);
 * its first takes the one the context keeps for the host. One shared
 * session would not do: OpenSSL spends a TLS 1.3 ticket in one handshake,
 * so connections starting together would find it spent and run full
 * handshakes. A context without tickets (--no-resume) gives none. */
#include "tools/bench/bench_int.h"

#include <poll.h>

int bench_tls_errkind(int err)
{
	if (err <= SKT_ETLS && err >= SKT_ETLSNOCERT)
		return BENCH_E_TLS;
	if (err == SKT_ETRUNCATED) /* closed mid-handshake, or mid-answer */
		return BENCH_E_RESET;
	return bench_errkind(err);
}

void bench_tls_begin(bench_conn *c, int64_t now)
{
	const bench_opts *o = c->w->o;
	int err = skt_tls_new(&c->tls, o->tls, c->fd, o->tls_host, o->tls_sni);
	if (err != 0) {
		c->tls = NULL;
		bench_fail(c, bench_errkind(err));
		return;
	}
	/* This connection's own session, from its previous handshake; the
	 * first one of a slot takes the context's for the host. */
	if (c->resume != NULL)
		skt_tls_set_session(c->tls, c->resume);
	c->state = CONN_HANDSHAKE;
	c->hs_start_ns = now;
	bench_tls_step(c, now);
}

void bench_tls_step(bench_conn *c, int64_t now)
{
	int rc = skt_tls_handshake(c->tls, 0);
	if (rc == SKT_EAGAIN) {
		skt_io_start(c->io, skt_tls_want(c->tls) == POLLIN
					    ? SKT_READABLE
					    : SKT_WRITABLE);
		return;
	}
	if (rc < 0) {
		bench_fail(c, bench_tls_errkind(rc));
		return;
	}
	int64_t end = bench_now();
	skt_tls_info info;
	c->hs_ns = end - c->hs_start_ns;
	c->hs_resumed = skt_tls_get_info(c->tls, &info) == 0 && info.resumed;
	c->hs_owed = true;
	bench_up(c, end);
}

/* The session for the slot's next connection, taken at the first read
 * that has one: a TLS 1.3 server's tickets come ahead of its first data
 * (the one this connection resumed from is spent), and by the end a
 * server's close without close_notify would have made it unresumable.
 * A connection that reads nothing leaves the slot nothing new (its next
 * handshake takes the context's session, or is full). */
static void keep_session(bench_conn *c)
{
	if (c->session_kept)
		return;
	skt_tls_session *s = skt_tls_get_session(c->tls);
	if (s == NULL)
		return;
	skt_tls_session_free(c->resume);
	c->resume = s;
	c->session_kept = true;
}

ssize_t bench_tls_recv(bench_conn *c, void *buf, size_t cap)
{
	ssize_t n = skt_tls_read(c->tls, buf, cap, 0);
	if (n > 0) {
		c->w->now = bench_now(); /* the read, not the event */
		keep_session(c);
		return n;
	}
	if (n == 0 || n == SKT_ETRUNCATED) {
		c->truncated = n != 0;
		return 0;
	}
	if (n == SKT_EAGAIN) {
		/* A read that has to write first (a key update's answer). */
		if (skt_tls_want(c->tls) == POLLOUT && !c->read_wants_out) {
			c->read_wants_out = true;
			bench_watch(c);
		}
		return SKT_EAGAIN;
	}
	bench_fail(c, bench_tls_errkind((int)n));
	return n;
}

ssize_t bench_tls_send(bench_conn *c, const void *buf, size_t len)
{
	return skt_tls_write(c->tls, buf, len);
}

void bench_tls_end(bench_conn *c, bool clean)
{
	if (clean)
		skt_tls_shutdown(c->tls, 0); /* one try: never waits */
	skt_tls_free(c->tls);
	c->tls = NULL;
}

void bench_tls_count(bench_conn *c)
{
	if (!c->hs_owed)
		return;
	bench_worker *w = c->w;
	c->hs_owed = false;
	w->c.handshakes++;
	if (c->hs_resumed)
		w->c.resumed++;
	hist_record(&w->handshake, c->hs_ns > 0 ? (uint64_t)c->hs_ns : 0);
}
