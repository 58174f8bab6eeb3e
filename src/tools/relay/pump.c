/* pump.c - one direction's bytes through a pipe with splice(2) (pump.h). */
#include "tools/relay/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Rounds of read-then-write per call: 4 pipefuls (256 KiB with the
 * default 64 KiB pipe) before the loop turns to other connections. */
#define PUMP_ROUNDS 4

#define SPLICE_FLAGS (SPLICE_F_NONBLOCK | SPLICE_F_MOVE)

int pump_init(relay_pump *p, int src, int dst)
{
	*p = (relay_pump){.src = src, .dst = dst, .pipe = {-1, -1}};
	if (pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		p->pipe[0] = p->pipe[1] = -1;
		return -errno;
	}
	int sz = fcntl(p->pipe[0], F_GETPIPE_SZ);
	p->cap = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

void pump_fini(relay_pump *p)
{
	toxic_fini(p);
	for (int i = 0; i < 2; i++) {
		if (p->pipe[i] >= 0)
			close(p->pipe[i]);
		p->pipe[i] = -1;
	}
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
	return !p->eof && p->held < p->cap;
}

bool pump_wants_dst(const relay_pump *p)
{
	if (p->tx != NULL)
		return toxic_wants_dst(p);
	return p->held > 0;
}
