/* pump.c - one direction's bytes through a pipe with splice(2) (pump.h). */
#include "tools/relay/pump.h"

#include "sockit/sockit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Rounds of read-then-write per call: 4 pipefuls (256 KiB with the
 * default 64 KiB pipe) before the loop turns to other connections. */
#define PUMP_ROUNDS 4

/* splice(2) into a socket the peer reset fails with EPIPE and raises
 * SIGPIPE: it has no MSG_NOSIGNAL. The command ignores SIGPIPE
 * (src/cli/main.c); a program that runs this service must too. */
#define SPLICE_FLAGS (SPLICE_F_NONBLOCK | SPLICE_F_MOVE)

/* ---- The pipe pool ---- */

/* Pipes kept per worker: enough for the connections that move bytes at
 * one instant, few enough that an idle relay holds few fds. */
#define POOL_MAX 64

struct relay_pipes {
	struct pooled {
		int fd[2];
		size_t cap;
	} v[POOL_MAX];
	size_t n;
};

int pipes_new(relay_pipes **out)
{
	*out = skt_calloc(1, sizeof(**out));
	return *out == NULL ? SKT_ENOMEM : 0;
}

void pipes_free(relay_pipes *pool)
{
	if (pool == NULL)
		return;
	for (size_t i = 0; i < pool->n; i++) {
		close(pool->v[i].fd[0]);
		close(pool->v[i].fd[1]);
	}
	skt_free(pool);
}

/* A pipe for p: from the pool, else a new one. Returns 0 or -errno. */
static int take_pipe(relay_pump *p)
{
	relay_pipes *pool = p->pool;
	if (pool != NULL && pool->n > 0) {
		struct pooled *e = &pool->v[--pool->n];
		p->pipe[0] = e->fd[0];
		p->pipe[1] = e->fd[1];
		p->cap = e->cap;
		return 0;
	}
	if (pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		p->pipe[0] = p->pipe[1] = -1;
		return -errno;
	}
	int sz = fcntl(p->pipe[0], F_GETPIPE_SZ);
	p->cap = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

/* Let go of p's pipe: back to the pool when empty and there is room
 * (a pipe with bytes in it is nobody else's to reuse), else closed. */
static void put_pipe(relay_pump *p)
{
	if (p->pipe[0] < 0)
		return;
	relay_pipes *pool = p->pool;
	if (p->held == 0 && pool != NULL && pool->n < POOL_MAX) {
		pool->v[pool->n++] = (struct pooled){
			.fd = {p->pipe[0], p->pipe[1]}, .cap = p->cap};
	} else {
		close(p->pipe[0]);
		close(p->pipe[1]);
	}
	p->pipe[0] = p->pipe[1] = -1;
	p->held = 0;
}

int pump_init(relay_pump *p, int src, int dst, relay_pipes *pool)
{
	*p = (relay_pump){
		.src = src, .dst = dst, .pipe = {-1, -1}, .pool = pool};
	return 0;
}

void pump_fini(relay_pump *p)
{
	toxic_fini(p);
	put_pipe(p);
}

/* Would-block and a signal are not errors of the connection. */
static int err_of(int e)
{
	return e == EAGAIN || e == EINTR ? 0 : -e;
}

relay_moved pump_run(relay_pump *p, int64_t now)
{
	if (p->tx != NULL)
		return toxic_run(p, now);
	relay_moved m = {.due = -1};
	/* A pipe only while bytes are in flight: an idle connection holds
	 * none (3 fds instead of 7). */
	if (p->pipe[0] < 0 && !p->eof && (m.own_err = take_pipe(p)) < 0)
		return m;
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		bool moved = false;
		if (!p->eof && p->held < p->cap) {
			ssize_t n = splice(p->src, NULL, p->pipe[1], NULL,
					   p->cap - p->held, SPLICE_FLAGS);
			if (n > 0) {
				p->held += (size_t)n;
				moved = true;
			} else if (n == 0) {
				p->eof = true;
				moved = true;
			} else if ((m.rd_err = err_of(errno)) < 0) {
				return m;
			}
		}
		if (p->held > 0) {
			ssize_t n = splice(p->pipe[0], NULL, p->dst, NULL,
					   p->held, SPLICE_FLAGS);
			if (n > 0) {
				p->held -= (size_t)n;
				p->bytes += (uint64_t)n;
				m.n += (size_t)n;
				moved = true;
			} else if (n < 0 && (m.wr_err = err_of(errno)) < 0) {
				return m;
			}
		}
		m.any |= moved;
		if (!moved || (p->eof && p->held == 0))
			break;
	}
	if (p->held == 0)
		put_pipe(p);
	if (p->eof && p->held == 0 && !p->done) {
		p->done = true;
		/* ENOTCONN: the peer is gone already; the other direction's
		 * write will say so. */
		shutdown(p->dst, SHUT_WR);
	}
	return m;
}

bool pump_wants_src(const relay_pump *p)
{
	if (p->tx != NULL)
		return toxic_wants_src(p);
	return !p->eof && (p->pipe[0] < 0 || p->held < p->cap);
}

bool pump_wants_dst(const relay_pump *p)
{
	if (p->tx != NULL)
		return toxic_wants_dst(p);
	return p->held > 0;
}
