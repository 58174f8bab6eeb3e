/* relay_move.c - the relay's single moves: one read, send, sendfile, splice
 * or write each, with the kernel's refusals turned into fallbacks and its
 * errors given a side. The loops that call them are in relay.c and
 * relay_dgram.c.
 *
 * Every move on an fd the relay does not own either cannot block
 * (MSG_DONTWAIT, SPLICE_F_NONBLOCK on the pipe side, a non-blocking
 * socket) or runs only after poll() said the fd is ready: the relay never
 * sets O_NONBLOCK on stdin or stdout, whose file description a terminal
 * shares with the shell. */
#include "relay_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* One sendfile/splice call moves at most this much, so that the other
 * direction gets its turn at least this often. A socket buffer holds a few
 * MiB at most, so the cap rarely binds. */
#define ZERO_COPY_CHUNK ((size_t)16 << 20)

int skt__relay_kind(int fd)
{
	struct stat sb;
	if (fd < 0)
		return KIND_NONE;
	if (fstat(fd, &sb) < 0)
		return KIND_OTHER; /* the first read or write reports why */
	if (S_ISREG(sb.st_mode))
		return KIND_FILE;
	if (S_ISFIFO(sb.st_mode))
		return KIND_PIPE;
	if (S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 1 &&
	    minor(sb.st_rdev) == 3)
		return KIND_NULL;
	return KIND_OTHER;
}

int skt__relay_fail(relay *r, skt_relay_side where, int err)
{
	r->st->where = where;
	return err;
}

/* The errors sendfile and splice report for the socket's side; any other
 * is the local fd's (EIO reading a file, ENOSPC writing one). */
static bool socket_errno(int e)
{
	switch (e) {
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
	case ECONNREFUSED:
	case ECONNABORTED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENETUNREACH:
	case ENETDOWN:
	case ESHUTDOWN:
	case ENOBUFS:
	case EMSGSIZE:
		return true;
	default:
		return false;
	}
}

/* The kernel's ways of saying "splice/sendfile does not do this pair":
 * nothing moved, and read/write will. */
static bool refused(int e)
{
	return e == EINVAL || e == ENOSYS || e == EOPNOTSUPP;
}

/* Turn each LF of src not preceded by a CR into CRLF, into dst (room for
 * 2n). dst may lie before src in one buffer as long as dst + 2i + 1 never
 * passes src + i + 1 for i < n, which holds when src - dst >= n: byte i is
 * read before anything at or past src + i is written. */
static size_t crlf_expand(uint8_t *dst, const uint8_t *src, size_t n,
			  bool *cr_last)
{
	size_t w = 0;
	bool cr = *cr_last;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];
		if (c == '\n' && !cr)
			dst[w++] = '\r';
		dst[w++] = c;
		cr = c == '\r';
	}
	*cr_last = cr;
	return w;
}

ssize_t skt__relay_fill(relay *r, size_t max)
{
	const skt_relay_opts *o = r->o;
	relay_buf *b = &r->ub;
	/* With crlf, read into the upper half and expand downwards. */
	size_t at = o->crlf ? b->cap / 2 : 0;
	if (max > b->cap - at)
		max = b->cap - at;
	ssize_t n;
	if (o->data != NULL) {
		size_t left = o->data_len - r->data_off;
		n = (ssize_t)(left < max ? left : max);
		memcpy(b->p + at, (const uint8_t *)o->data + r->data_off,
		       (size_t)n);
		r->data_off += (size_t)n;
	} else if (r->in < 0) {
		n = 0;
	} else {
		do
			n = read(r->in, b->p + at, max);
		while (n < 0 && errno == EINTR);
		/* A terminal or pipe read may block next time: poll first. */
		if (r->in_blocks || n < 0)
			r->in_ready = false;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SKT_EAGAIN;
		if (n < 0)
			return skt__relay_fail(r, SKT_RELAY_INPUT, -errno);
	}
	b->off = 0;
	b->len = (size_t)n;
	if (o->crlf && n > 0)
		b->len = crlf_expand(b->p, b->p + at, (size_t)n, &r->cr_last);
	return n;
}

/* The transport's sendfile (kTLS): its errors are sockit codes. */
static ssize_t tx_sendfile(relay *r)
{
	short want = POLLOUT;
	ssize_t n = r->tx->sendfile(r->tx_arg, r->in, ZERO_COPY_CHUNK, &want);
	if (n >= 0 || n == SKT_ENOSYS)
		return n;
	if (n == SKT_EAGAIN) {
		r->sock_wr = false;
		r->wr_want = want;
		return n;
	}
	return skt__relay_fail(
		r, socket_errno((int)-n) ? SKT_RELAY_SOCKET : SKT_RELAY_INPUT,
		(int)n);
}

ssize_t skt__relay_up_zero(relay *r)
{
	if (r->tx != NULL)
		return tx_sendfile(r);
	ssize_t n;
	do {
		if (r->up == UP_SENDFILE)
			n = sendfile(r->sock, r->in, NULL, ZERO_COPY_CHUNK);
		else
			n = splice(r->in, NULL, r->sock, NULL, ZERO_COPY_CHUNK,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		/* A file is always readable, so sendfile waits on the socket;
		 * splice does not say which side was not ready: ask poll(). */
		r->sock_wr = false;
		if (r->up == UP_SPLICE)
			r->in_ready = false;
		return SKT_EAGAIN;
	}
	if (refused(errno))
		return SKT_ENOSYS;
	return skt__relay_fail(
		r, socket_errno(errno) ? SKT_RELAY_SOCKET : SKT_RELAY_INPUT,
		-errno);
}

/* One receive from the socket, or through the transport, into buf.
 * Returns the count, 0 at end of stream, SKT_EAGAIN with sock_rd
 * cleared, or an error with st->where set. */
static ssize_t sock_recv(relay *r, void *buf, size_t cap, int flags)
{
	ssize_t n;
	if (r->tx != NULL) {
		short want = POLLIN;
		n = r->tx->recv(r->tx_arg, buf, cap, &want);
		if (n == SKT_EAGAIN) {
			r->sock_rd = false;
			r->rd_want = want;
		}
		return n >= 0 || n == SKT_EAGAIN
			       ? n
			       : skt__relay_fail(r, SKT_RELAY_SOCKET, (int)n);
	}
	do
		n = recv(r->sock, buf, cap, MSG_DONTWAIT | flags);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		r->sock_rd = false;
		return SKT_EAGAIN;
	}
	return skt__relay_fail(r, SKT_RELAY_SOCKET, -errno);
}

ssize_t skt__relay_discard(relay *r)
{
	/* On TCP, MSG_TRUNC drops the bytes in the kernel without copying
	 * them (tcp(7)); elsewhere (and through a transport, which must
	 * decrypt them) it is a plain receive into db. */
	return sock_recv(r, r->db.p, r->db.cap, r->tcp ? MSG_TRUNC : 0);
}

ssize_t skt__relay_splice_in(relay *r)
{
	ssize_t n;
	do
		n = splice(r->sock, NULL, r->pipe[1], NULL, r->pcap - r->pfill,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		/* An empty socket, or a pipe whose page slots are all taken
		 * by partial pages; an empty pipe has room, so then it was
		 * the socket. */
		r->sock_rd = false;
		if (r->pfill > 0)
			r->pipe_room = false;
		return SKT_EAGAIN;
	}
	if (refused(errno))
		return SKT_ENOSYS;
	return skt__relay_fail(r, SKT_RELAY_SOCKET, -errno);
}

ssize_t skt__relay_splice_out(relay *r)
{
	ssize_t n;
	do
		n = splice(r->pipe[0], NULL, r->out, NULL, r->pfill,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		r->out_ready = false;
		return SKT_EAGAIN;
	}
	/* An O_APPEND file, for one (`>> log`): splice refuses it. */
	if (refused(errno))
		return SKT_ENOSYS;
	return skt__relay_fail(r, SKT_RELAY_OUTPUT, -errno);
}

ssize_t skt__relay_recv(relay *r)
{
	relay_buf *b = &r->db;
	ssize_t n;
	/* Bytes left in the private pipe by a splice that output refused
	 * come first: they arrived first. The pipe is ours and
	 * non-blocking. */
	if (r->pfill > 0) {
		size_t want = r->pfill < b->cap ? r->pfill : b->cap;
		do
			n = read(r->pipe[0], b->p, want);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return skt__relay_fail(r, SKT_RELAY_OUTPUT,
					       n < 0 ? -errno : SKT_EIO);
		r->pfill -= (size_t)n;
	} else if ((n = sock_recv(r, b->p, b->cap, 0)) < 0) {
		return n;
	}
	b->off = 0;
	b->len = (size_t)n;
	return n;
}

ssize_t skt__relay_write(relay *r)
{
	relay_buf *b = &r->db;
	ssize_t n;
	do
		n = write(r->out, b->p + b->off, b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		r->out_ready = false;
		return SKT_EAGAIN;
	}
	if (n < 0)
		return skt__relay_fail(r, SKT_RELAY_OUTPUT, -errno);
	b->off += (size_t)n;
	b->len -= (size_t)n;
	/* A short write means the output is full for now; and a terminal or
	 * a blocking pipe may block the next write: poll first. */
	if (b->len > 0 || r->out_blocks)
		r->out_ready = false;
	return n;
}

void skt__relay_moved(relay *r)
{
	if (r->o->idle_ms >= 0)
		r->idle_at = skt__now_ms() + r->o->idle_ms;
}
