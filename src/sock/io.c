/* io.c - plain I/O on a socket fd: one send or receive, the loops that
 * complete a buffer (send-all, read-exact, read-until), closing, datagrams.
 *
 * Every call follows core.h's timeout model: the deadline is taken once at
 * entry; the syscall is tried first and only when it says EAGAIN do we wait
 * with skt__wait() for what is left of that deadline, so a loop of many
 * short transfers ends in time as a whole. */
#include "internal.h"
#include "sockit/sock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* MSG_DONTWAIT makes the timeout hold even on an fd the caller left in
 * blocking mode; MSG_NOSIGNAL turns a gone peer into EPIPE, not SIGPIPE. */
#define SEND_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT)
#define RECV_FLAGS MSG_DONTWAIT

/* Longest delimiter skt_read_until takes (sock.h). */
#define DELIM_MAX 16

/* See internal.h. */
ssize_t skt__send_by(int fd, const void *buf, size_t len, const skt_addr *to,
		     int64_t deadline)
{
	const struct sockaddr *sa = to != NULL ? &to->u.sa : NULL;
	socklen_t salen = to != NULL ? to->len : 0;
	for (;;) {
		ssize_t n = sendto(fd, buf, len, SEND_FLAGS, sa, salen);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int rc = skt__wait(fd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
}

ssize_t skt__recv_by(int fd, void *buf, size_t cap, int flags, int64_t deadline)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, RECV_FLAGS | flags);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int rc = skt__wait(fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

ssize_t skt_send(int fd, const void *buf, size_t len, int timeout_ms)
{
	return skt__send_by(fd, buf, len, NULL, skt__deadline(timeout_ms));
}

ssize_t skt_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
	return skt__recv_by(fd, buf, cap, 0, skt__deadline(timeout_ms));
}

int skt_send_all(int fd, const void *buf, size_t len, int timeout_ms,
		 size_t *sent)
{
	const char *p = buf;
	int64_t deadline = skt__deadline(timeout_ms);
	size_t done = 0;
	int rc = 0;
	while (done < len) {
		ssize_t n =
			skt__send_by(fd, p + done, len - done, NULL, deadline);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		done += (size_t)n;
	}
	if (sent != NULL)
		*sent = done;
	return rc;
}

ssize_t skt_read_exact(int fd, void *buf, size_t n, int timeout_ms, size_t *got)
{
	char *p = buf;
	int64_t deadline = skt__deadline(timeout_ms);
	size_t done = 0;
	ssize_t rc = (ssize_t)n;
	while (done < n) {
		ssize_t r = skt__recv_by(fd, p + done, n - done, 0, deadline);
		if (r == 0)
			rc = done == 0 ? SKT_EOF : SKT_EPARTIAL;
		if (r <= 0) {
			if (r < 0)
				rc = r;
			break;
		}
		done += (size_t)r;
	}
	if (got != NULL)
		*got = done;
	return rc;
}

/* Take exactly k bytes that a MSG_PEEK has just shown us out of the socket,
 * into buf (where the peek already put the same bytes), adding each one
 * taken to *have. They are already queued, so this only waits or fails when
 * another reader of the fd raced us for them. */
static int consume(int fd, char *buf, size_t k, size_t *have, int64_t deadline)
{
	size_t done = 0;
	while (done < k) {
		ssize_t n = skt__recv_by(fd, buf + done, k - done, 0, deadline);
		/* The peeked bytes vanished: a racing reader took them. */
		if (n == 0)
			return SKT_EIO;
		if (n < 0)
			return (int)n;
		done += (size_t)n;
		*have += (size_t)n;
	}
	return 0;
}

/* Peek at what is queued, look for delim, and receive for real only through
 * its last byte, so that whatever follows stays for the next reader. Bytes
 * that hold no delimiter are consumed into buf right away: they belong to
 * the caller's line in any case, and taking them is what lets the next peek
 * (and the poll under it) wait for new data instead of returning the same
 * unread bytes again and again, which would spin. The search starts dlen-1
 * bytes back into what was consumed before, so a delimiter split across
 * two arrivals is found. */
ssize_t skt_read_until(int fd, void *buf, size_t cap, const void *delim,
		       size_t dlen, int timeout_ms, size_t *got)
{
	char *b = buf;
	int64_t deadline = skt__deadline(timeout_ms);
	size_t have = 0;
	ssize_t rc = SKT_ETOOBIG;
	if (delim == NULL || dlen == 0 || dlen > DELIM_MAX ||
	    (buf == NULL && cap > 0)) {
		rc = SKT_EINVAL;
		goto out;
	}
	while (have < cap) {
		ssize_t n = skt__recv_by(fd, b + have, cap - have, MSG_PEEK,
					 deadline);
		if (n <= 0) {
			if (n == 0)
				rc = have == 0 ? SKT_EOF : SKT_EPARTIAL;
			else
				rc = n;
			break;
		}
		size_t from = have >= dlen - 1 ? have - (dlen - 1) : 0;
		const char *hit =
			memmem(b + from, have + (size_t)n - from, delim, dlen);
		size_t take = (size_t)n;
		if (hit != NULL)
			take = (size_t)(hit - b) + dlen - have;
		int c = consume(fd, b + have, take, &have, deadline);
		if (c < 0) {
			rc = c;
			break;
		}
		if (hit != NULL) {
			rc = (ssize_t)have;
			break;
		}
	}
out:
	if (got != NULL)
		*got = have;
	return rc;
}

int skt_shutdown_write(int fd)
{
	return shutdown(fd, SHUT_WR) == 0 ? 0 : -errno;
}

int skt_close(int fd)
{
	if (fd < 0)
		return 0;
	/* Linux releases the fd even when close() is interrupted; retrying
	 * could close an fd another thread has just been given. */
	if (close(fd) == 0 || errno == EINTR)
		return 0;
	return -errno;
}

int skt_close_abort(int fd)
{
	if (fd < 0)
		return 0;
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	int rc = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0)
		rc = -errno;
	/* Closed in any case: the caller is done with the fd; the error says
	 * the close was graceful rather than abortive. */
	int c = skt_close(fd);
	return rc != 0 ? rc : c;
}

ssize_t skt_sendto(int fd, const void *buf, size_t len, const skt_addr *to,
		   int timeout_ms)
{
	return skt__send_by(fd, buf, len, to, skt__deadline(timeout_ms));
}

/* Fill from with the sender the kernel reported; an unnamed sender (a
 * socketpair, an unbound Unix socket) reports no bytes at all. */
static int fill_from(skt_addr *from, const struct sockaddr_storage *ss,
		     socklen_t len)
{
	if (len == 0) {
		memset(from, 0, sizeof(*from));
		return 0;
	}
	return skt_addr_from_sockaddr(from, (const struct sockaddr *)ss, len);
}

ssize_t skt_recvfrom(int fd, void *buf, size_t cap, skt_addr *from,
		     int timeout_ms, bool *truncated)
{
	int64_t deadline = skt__deadline(timeout_ms);
	struct sockaddr_storage ss;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg;
	ssize_t n;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(fd, &msg, RECV_FLAGS);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int rc = skt__wait(fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	/* recvmsg says a datagram was cut to fit through MSG_TRUNC in
	 * msg_flags (the flag argument form would change the return). */
	if (truncated != NULL)
		*truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	if (from != NULL) {
		int rc = fill_from(from, &ss, msg.msg_namelen);
		if (rc < 0)
			return rc;
	}
	return n;
}
