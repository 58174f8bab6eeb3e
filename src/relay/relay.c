/* relay.c - skt_relay_run: set a relay up, run the stream relay, clean up.
 *
 * The stream relay is one poll() loop over at most four fds (input,
 * socket, output; the private splice pipe is never waited on, its fill is
 * counted). Each direction has three states:
 *   upstream    OPEN   reading input, sending it;
 *               FLUSH  input ended (in_eof), bytes read still going out;
 *               DONE   its end acted on: shutdown(SHUT_WR), the linger
 *                      deadline started (EOF_WAIT), or closing (EOF_CLOSE).
 *   downstream  OPEN   receiving, delivering to output;
 *               DRAIN  the peer closed (peer_eof), bytes held still going
 *                      to output;
 *               DONE   all delivered.
 * The relay ends when both are DONE. It also stops reading ("closing") on
 * EOF_CLOSE's DONE, when the linger deadline passes, and when the
 * downstream is DONE under peer_eof_ends; it then ends as soon as every
 * byte it holds is delivered. The idle timeout and the first error end it
 * at once. A ready flag per fd and direction says "known ready"; it is set
 * by poll() and cleared by EAGAIN, so the loop polls only for what it
 * cannot do now, and never for what it already knows.
 *
 * With a transport (relay_tx.h: TLS) the socket's bytes go through its
 * calls; DONE upstream is then its shutdown (close_notify), which may
 * wait for the socket like a send (shut_wait), and what a send or a
 * receive waits for on the socket is the transport's word (wr_want,
 * rd_want). */
#include "relay_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 256 KiB per direction, 16 times nc's 16 KiB: one read/write pair then
 * moves about what a loopback socket buffer takes at once. Only terminals,
 * sockets as stdin/stdout, --crlf and the fallbacks copy through it; bulk
 * data from files and pipes goes zero-copy. */
#define BUF_DEFAULT ((size_t)256 << 10)

/* The private splice pipe: 1 MiB, the default /proc/sys/fs/pipe-max-size,
 * so that one splice moves as much as a socket buffer can hold. The
 * default 64 KiB costs a syscall pair per 64 KiB. */
#define PIPE_SIZE (1 << 20)

const char *skt_relay_side_name(skt_relay_side side)
{
	switch (side) {
	case SKT_RELAY_INPUT:
		return "input";
	case SKT_RELAY_OUTPUT:
		return "output";
	case SKT_RELAY_SOCKET:
		return "socket";
	default:
		return "";
	}
}

/* ---- The stream relay ---- */

/* The transport's end of stream (TLS: close_notify), which may have to
 * wait for the socket. Returns 1 when done, 0 to wait, or an error. */
static int tx_shutdown(relay *r)
{
	short want = POLLOUT;
	int rc = r->tx->shutdown(r->tx_arg, &want);
	if (rc == SKT_EAGAIN) {
		r->shut_wait = true;
		r->sock_wr = false;
		r->wr_want = want;
		return 0;
	}
	r->shut_wait = false;
	/* A peer that already ended its side may be gone: as shutdown(2)'s
	 * ENOTCONN below, nothing is lost. Otherwise the peer would never
	 * learn that the input ended: an error. */
	if (rc < 0 && !r->peer_eof)
		return skt__relay_fail(r, SKT_RELAY_SOCKET, rc);
	return 1;
}

/* Act on the input's end: the EOF table of relay.h. Returns 1 when acted
 * on, 0 when the transport's shutdown waits, or an error. */
static int input_ended(relay *r)
{
	if (r->o->eof == SKT_RELAY_EOF_CLOSE) {
		r->up_done = true;
		r->closing = true;
		return 1;
	}
	if (r->tx != NULL) {
		int rc = tx_shutdown(r);
		if (rc <= 0)
			return rc;
	} else {
		/* ENOTCONN: the peer already reset; the next receive says
		 * so. */
		shutdown(r->sock, SHUT_WR);
	}
	r->up_done = true;
	if (r->o->eof == SKT_RELAY_EOF_WAIT)
		r->linger_at = skt__now_ms() + r->o->eof_wait_ms;
	return 1;
}

/* One send of ub's bytes to the socket, or through the transport.
 * Returns the count, SKT_EAGAIN with sock_wr cleared, or an error. */
static ssize_t sock_send(relay *r, const void *p, size_t len)
{
	ssize_t n;
	if (r->tx != NULL) {
		short want = POLLOUT;
		n = r->tx->send(r->tx_arg, p, len, &want);
		if (n == SKT_EAGAIN) {
			r->sock_wr = false;
			r->wr_want = want;
		}
		return n;
	}
	do
		n = send(r->sock, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		r->sock_wr = false;
		return SKT_EAGAIN;
	}
	return -errno;
}

/* Upstream through ub (UP_BUF): fill it when empty, else send from it. */
static int up_buffered(relay *r)
{
	relay_buf *b = &r->ub;
	if (b->len == 0) {
		if (!r->in_ready || r->closing)
			return 0;
		ssize_t n = skt__relay_fill(r, b->cap);
		if (n == SKT_EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			r->in_eof = r->st->input_eof = true;
		return 1;
	}
	if (!r->sock_wr)
		return 0;
	ssize_t n = sock_send(r, b->p + b->off, b->len);
	if (n == SKT_EAGAIN)
		return 0;
	if (n < 0)
		return skt__relay_fail(r, SKT_RELAY_SOCKET, (int)n);
	b->off += (size_t)n;
	b->len -= (size_t)n;
	r->st->sent += (uint64_t)n;
	return 1;
}

/* One step of upstream. Returns 1 when something moved or changed, 0 when
 * it must wait, or an error. */
static int up_step(relay *r)
{
	if (r->up_done)
		return 0;
	if (r->in_eof && r->ub.len == 0)
		return r->shut_wait && !r->sock_wr ? 0 : input_ended(r);
	if (r->up == UP_BUF)
		return up_buffered(r);
	if (!r->in_ready || !r->sock_wr || r->closing)
		return 0;
	ssize_t n = skt__relay_up_zero(r);
	if (n == SKT_EAGAIN)
		return 0;
	if (n == SKT_ENOSYS) {
		/* Nothing moved; read/write from here on, after poll(). */
		r->up = UP_BUF;
		r->in_ready = false;
		return 1;
	}
	if (n < 0)
		return (int)n;
	if (n == 0)
		r->in_eof = r->st->input_eof = true;
	r->st->sent += (uint64_t)n;
	return 1;
}

/* Whether a splice from the socket may find room in the private pipe (a
 * splice of length 0 would read as end of stream). */
static bool pipe_has_room(const relay *r)
{
	return r->pipe_room && r->pfill < r->pcap;
}

/* One downstream move for DOWN_SPLICE: drain the private pipe into output
 * while output takes it, else fill the pipe from the socket. */
static ssize_t down_spliced(relay *r)
{
	ssize_t n;
	if (r->pfill > 0 && r->out_ready) {
		n = skt__relay_splice_out(r);
		if (n > 0) {
			r->pfill -= (size_t)n;
			r->pipe_room = true;
			r->st->received += (uint64_t)n;
		}
		if (n == SKT_ENOSYS) {
			/* skt__relay_recv drains the pipe; write() after
			 * poll(), in case output is a blocking pipe. */
			r->down = DOWN_BUF;
			r->out_ready = false;
			return 1;
		}
		return n == SKT_EAGAIN ? 0 : n;
	}
	if (r->peer_eof || !r->sock_rd || !pipe_has_room(r) || r->closing)
		return 0;
	n = skt__relay_splice_in(r);
	if (n == SKT_ENOSYS) {
		r->down = DOWN_BUF;
		return 1;
	}
	if (n == 0)
		r->peer_eof = r->st->peer_eof = true;
	if (n > 0)
		r->pfill += (size_t)n;
	return n == SKT_EAGAIN ? 0 : (n == 0 ? 1 : n);
}

/* One downstream move for DOWN_BUF and DOWN_DISCARD. */
static ssize_t down_buffered(relay *r)
{
	ssize_t n;
	if (r->db.len > 0) {
		if (!r->out_ready)
			return 0;
		n = skt__relay_write(r);
		if (n > 0)
			r->st->received += (uint64_t)n;
		return n == SKT_EAGAIN ? 0 : n;
	}
	if (r->pfill == 0 && (r->peer_eof || !r->sock_rd || r->closing))
		return 0;
	n = r->down == DOWN_DISCARD ? skt__relay_discard(r)
				    : skt__relay_recv(r);
	if (n == 0)
		r->peer_eof = r->st->peer_eof = true;
	if (n > 0 && r->down == DOWN_DISCARD)
		r->st->received += (uint64_t)n;
	return n == SKT_EAGAIN ? 0 : (n == 0 ? 1 : n);
}

static int down_step(relay *r)
{
	if (r->down_done)
		return 0;
	if (r->peer_eof && r->db.len == 0 && r->pfill == 0) {
		r->down_done = true;
		/* ENOTSOCK, ENOTCONN: nothing to tell, or nobody to tell. */
		if (r->o->shut_out && r->out >= 0)
			shutdown(r->out, SHUT_WR);
		return 1;
	}
	ssize_t n = r->down == DOWN_SPLICE ? down_spliced(r) : down_buffered(r);
	return n > 0 ? 1 : (int)n;
}

static bool holds_bytes(const relay *r)
{
	return r->ub.len > 0 || r->db.len > 0 || r->pfill > 0;
}

int skt__relay_deadlines(relay *r)
{
	if (r->linger_at < 0 && r->idle_at < 0)
		return 0;
	int64_t now = skt__now_ms();
	if (r->linger_at >= 0 && now >= r->linger_at)
		r->closing = true;
	return r->idle_at >= 0 && now >= r->idle_at ? SKT_ETIMEDOUT : 0;
}

/* The end conditions of the header comment. Returns 1 to go on, 0 when
 * the relay is over, SKT_ETIMEDOUT on the idle timeout. */
static int check_end(relay *r)
{
	if (r->up_done && r->down_done)
		return 0;
	if (r->down_done && r->o->peer_eof_ends)
		r->closing = true;
	int rc = skt__relay_deadlines(r);
	if (r->closing && !holds_bytes(r))
		return 0;
	return rc < 0 ? rc : 1;
}

static bool want_in(const relay *r)
{
	return !r->in_ready && !r->in_eof && !r->up_done && !r->closing &&
	       r->in >= 0 && (r->up != UP_BUF || r->ub.len == 0);
}

static bool want_sock_wr(const relay *r)
{
	return !r->sock_wr && !r->up_done &&
	       (r->ub.len > 0 || r->shut_wait ||
		(r->up != UP_BUF && !r->closing));
}

static bool want_sock_rd(const relay *r)
{
	if (r->sock_rd || r->peer_eof || r->closing)
		return false;
	if (r->down == DOWN_SPLICE)
		return pipe_has_room(r);
	return r->db.len == 0 && r->pfill == 0;
}

static bool want_out(const relay *r)
{
	return !r->out_ready &&
	       (r->db.len > 0 || (r->down == DOWN_SPLICE && r->pfill > 0));
}

/* The nearer of the two deadlines as a poll() timeout; -1 for none. */
static int poll_timeout(const relay *r)
{
	int64_t at = r->idle_at;
	if (r->linger_at >= 0 && (at < 0 || r->linger_at < at))
		at = r->linger_at;
	if (at < 0)
		return -1;
	int64_t left = at - skt__now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int skt__relay_wait(relay *r, bool in, bool sock_wr, bool sock_rd, bool out)
{
	struct pollfd p[3];
	int n = 0, pin = -1, psock = -1, pout = -1;
	/* Records the transport holds decrypted are not in the socket for
	 * poll() to see: take them first. */
	if (sock_rd && r->tx != NULL && r->tx->readable(r->tx_arg)) {
		r->sock_rd = true;
		return 0;
	}
	if (in) {
		pin = n;
		p[n++] = (struct pollfd){.fd = r->in, .events = POLLIN};
	}
	short sev = (short)((sock_wr ? r->wr_want : 0) |
			    (sock_rd ? r->rd_want : 0));
	if (sev != 0) {
		psock = n;
		p[n++] = (struct pollfd){.fd = r->sock, .events = sev};
	}
	if (out) {
		pout = n;
		p[n++] = (struct pollfd){.fd = r->out, .events = POLLOUT};
	}
	int ms = poll_timeout(r);
	if (n == 0 && ms < 0)
		return SKT_EIO; /* nothing to wait for: a bug, not a hang */
	int k = poll(p, (nfds_t)n, ms);
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	/* POLLHUP and POLLERR count as ready: the next call reports them. */
	const short bad = POLLHUP | POLLERR | POLLNVAL;
	if (in && (p[pin].revents & (POLLIN | bad)))
		r->in_ready = true;
	if (sock_wr && (p[psock].revents & (r->wr_want | bad)))
		r->sock_wr = true;
	if (sock_rd && (p[psock].revents & (r->rd_want | bad)))
		r->sock_rd = true;
	if (out && (p[pout].revents & (POLLOUT | bad)))
		r->out_ready = true;
	return 0;
}

static int run_stream(relay *r)
{
	for (;;) {
		int a = up_step(r);
		if (a < 0)
			return a;
		int b = down_step(r);
		if (b < 0)
			return b;
		if (a > 0 || b > 0)
			skt__relay_moved(r);
		int rc = check_end(r);
		if (rc <= 0)
			return rc;
		if (a == 0 && b == 0 &&
		    (rc = skt__relay_wait(r, want_in(r), want_sock_wr(r),
					  want_sock_rd(r), want_out(r))) < 0)
			return rc;
	}
}

/* ---- Setting up ---- */

static int check_opts(const skt_relay_opts *o)
{
	if (o->eof != SKT_RELAY_EOF_SHUTDOWN && o->eof != SKT_RELAY_EOF_CLOSE &&
	    o->eof != SKT_RELAY_EOF_WAIT)
		return SKT_EINVAL;
	if (o->eof_wait_ms < 0 || o->idle_ms < -1)
		return SKT_EINVAL;
	if (o->data == NULL && o->data_len > 0)
		return SKT_EINVAL;
	return 0;
}

/* Pick how each direction moves, by what the fds are. A datagram relay
 * reads one datagram per read(): nothing to splice. */
static void choose_moves(relay *r, bool dgram)
{
	int ik = r->o->data != NULL ? KIND_NONE : skt__relay_kind(r->in);
	int ok = skt__relay_kind(r->out);
	bool zero = !dgram && !r->o->crlf;
	/* A transport's bytes on the wire are not the relayed ones: no
	 * splice either way; sendfile only through its own (kTLS). */
	bool raw = r->tx == NULL;
	r->up = UP_BUF;
	if (zero && ik == KIND_FILE && (raw || r->tx->sendfile != NULL))
		r->up = UP_SENDFILE;
	else if (zero && raw && ik == KIND_PIPE)
		r->up = UP_SPLICE;
	r->down = DOWN_BUF;
	if (ok == KIND_NONE || ok == KIND_NULL)
		r->down = DOWN_DISCARD;
	else if (!dgram && raw && (ok == KIND_FILE || ok == KIND_PIPE))
		r->down = DOWN_SPLICE;
	/* A file never blocks, a pipe is spliced without blocking, the
	 * socket is non-blocking: try first, poll on EAGAIN. A terminal, or
	 * a pipe read or written with plain read/write, only after poll()
	 * says so: the relay leaves their O_NONBLOCK alone. */
	r->in_ready = ik == KIND_NONE || ik == KIND_FILE || r->up == UP_SPLICE;
	r->out_ready = ok == KIND_FILE || r->down == DOWN_SPLICE;
	r->in_blocks = ik == KIND_PIPE || ik == KIND_OTHER;
	r->out_blocks = ok == KIND_PIPE || ok == KIND_OTHER;
}

static int open_pipe(relay *r)
{
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r->pipe[0] = r->pipe[1] = -1;
		return -errno;
	}
	fcntl(r->pipe[1], F_SETPIPE_SZ, PIPE_SIZE); /* best effort */
	int cap = fcntl(r->pipe[1], F_GETPIPE_SZ);
	r->pcap = cap > 0 ? (size_t)cap : 65536;
	return 0;
}

static int setup(relay *r, bool dgram)
{
	size_t cap = r->o->bufsize != 0 ? r->o->bufsize : BUF_DEFAULT;
	if (dgram) {
		/* A whole datagram, doubled when crlf may expand it. */
		r->ub.cap = 2 * (size_t)RELAY_DGRAM_MAX;
		r->db.cap = 65536;
	} else {
		r->ub.cap = cap < 2 ? 2 : cap;
		r->db.cap = cap;
	}
	r->ub.p = skt_malloc(r->ub.cap);
	r->db.p = skt_malloc(r->db.cap);
	if (r->ub.p == NULL || r->db.p == NULL)
		return SKT_ENOMEM;
	if (r->down == DOWN_SPLICE)
		return open_pipe(r);
	return 0;
}

static void teardown(relay *r)
{
	skt_free(r->ub.p);
	skt_free(r->db.p);
	if (r->pipe[0] >= 0) {
		close(r->pipe[0]);
		close(r->pipe[1]);
	}
}

/* ---- SIGPIPE ----
 * A write or splice into a pipe whose reader left raises SIGPIPE (pipe(7)),
 * and so do splice and sendfile into a closed socket: MSG_NOSIGNAL exists
 * only for send(). So SIGPIPE is blocked in this thread while the relay
 * runs, and one it left pending is taken back before the mask returns,
 * leaving the caller's disposition and any SIGPIPE of its own alone. */

static bool sigpipe_pending(void)
{
	sigset_t pend;
	return sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
}

static bool sigpipe_block(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
	return sigpipe_pending();
}

static void sigpipe_restore(const sigset_t *old, bool was_pending)
{
	if (!was_pending && sigpipe_pending()) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int relay_run(int in_fd, int out_fd, int sock, const skt__relay_tx *tx,
		     void *tx_arg, const skt_relay_opts *opts,
		     skt_relay_stats *stats)
{
	skt_relay_opts def = SKT_RELAY_OPTS_INIT;
	skt_relay_stats ignored;
	const skt_relay_opts *o = opts != NULL ? opts : &def;
	skt_relay_stats *st = stats != NULL ? stats : &ignored;
	memset(st, 0, sizeof(*st));
	int rc = check_opts(o);
	if (rc < 0)
		return rc;
	int type = 0, proto = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	len = sizeof(proto);
	if (getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		proto = 0;
	bool dgram = type == SOCK_DGRAM;
	if (dgram && tx != NULL)
		return SKT_EINVAL;

	relay r = {
		.o = o,
		.st = st,
		.in = in_fd,
		.out = out_fd,
		.sock = sock,
		.tcp = proto == IPPROTO_TCP,
		.tx = tx,
		.tx_arg = tx_arg,
		.wr_want = POLLOUT,
		.rd_want = POLLIN,
		.pipe = {-1, -1},
		.sock_wr = true,
		.sock_rd = true,
		.pipe_room = true,
		.idle_at = -1,
		.linger_at = -1,
	};
	choose_moves(&r, dgram);
	sigset_t mask;
	bool was_pending = sigpipe_block(&mask);
	rc = setup(&r, dgram);
	if (rc == 0) {
		skt__relay_moved(&r); /* start the idle clock */
		rc = dgram ? skt__relay_dgram(&r) : run_stream(&r);
	}
	teardown(&r);
	sigpipe_restore(&mask, was_pending);
	return rc;
}

int skt_relay_run(int in_fd, int out_fd, int sock, const skt_relay_opts *opts,
		  skt_relay_stats *stats)
{
	return relay_run(in_fd, out_fd, sock, NULL, NULL, opts, stats);
}

int skt__relay_run_tx(int in_fd, int out_fd, int sock, const skt__relay_tx *tx,
		      void *arg, const skt_relay_opts *opts,
		      skt_relay_stats *stats)
{
	return relay_run(in_fd, out_fd, sock, tx, arg, opts, stats);
}
