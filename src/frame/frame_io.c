/* frame_io.c - blocking send and receive of one length-prefixed frame.
 *
 * Both calls take one deadline at entry, so timeout_ms bounds the whole
 * frame however many segments it takes (core.h's timeout model). The
 * receiver never trusts the header for memory: the payload buffer grows as
 * bytes arrive, so a peer that announces 1 GiB and sends nothing costs no
 * more than the chunk it did send.
 */
#include "internal.h"
#include "sockit/frame.h"
#include "sockit/sock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Growth step of the payload buffer before doubling takes over; the size a
 * socket read typically returns on loopback, so small frames need one
 * allocation and one recv. */
#define RECV_CHUNK ((size_t)64 << 10)

/* Drop n sent bytes from the front of the iovec array. */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

int skt_frame_send(int fd, const void *msg, size_t len, size_t max,
		   int timeout_ms)
{
	uint8_t hdr[SKT_FRAME_HEADER];
	int rc = skt_frame_header(hdr, len, max);
	if (rc < 0)
		return rc;

	int64_t deadline = skt__deadline(timeout_ms);
	struct iovec vec[2] = {
		{.iov_base = hdr, .iov_len = sizeof(hdr)},
		{.iov_base = (void *)msg, .iov_len = len},
	};
	struct iovec *iov = vec;
	int cnt = len > 0 ? 2 : 1;
	while (cnt > 0) {
		/* sendmsg rather than writev: only it takes MSG_NOSIGNAL, and a
		 * vanished peer must give SKT_EPIPE, never SIGPIPE.
		 * MSG_DONTWAIT keeps the timeout on an fd left in blocking mode
		 * (as io.c). */
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			iov_advance(&iov, &cnt, (size_t)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = skt__wait(fd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Read want payload bytes into a new buffer that grows with what arrives. */
static int recv_payload(int fd, size_t want, int64_t deadline, uint8_t **out)
{
	size_t cap = want < RECV_CHUNK ? want : RECV_CHUNK;
	size_t have = 0;
	uint8_t *buf = skt_malloc(cap); /* 0 gives a real 1-byte block */
	if (buf == NULL)
		return SKT_ENOMEM;
	while (have < want) {
		if (have == cap) {
			/* Double, so the copies stay linear overall and memory
			 * stays within twice what the peer really sent. */
			size_t ncap = cap > want / 2 ? want : cap * 2;
			uint8_t *p = skt_realloc(buf, ncap);
			if (p == NULL) {
				skt_free(buf);
				return SKT_ENOMEM;
			}
			buf = p;
			cap = ncap;
		}
		ssize_t n =
			skt__recv_by(fd, buf + have, cap - have, 0, deadline);
		if (n <= 0) {
			skt_free(buf);
			return n == 0 ? SKT_EPARTIAL : (int)n;
		}
		have += (size_t)n;
	}
	*out = buf;
	return 0;
}

int skt_frame_recv(int fd, uint8_t **msg, size_t *len, size_t max,
		   int timeout_ms)
{
	*msg = NULL;
	*len = 0;
	int64_t deadline = skt__deadline(timeout_ms);

	uint8_t hdr[SKT_FRAME_HEADER];
	ssize_t n = skt_read_exact(fd, hdr, sizeof(hdr), timeout_ms, NULL);
	/* SKT_EOF before a header, SKT_EPARTIAL inside one. */
	if (n < 0)
		return (int)n;
	size_t want = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		      (size_t)hdr[2] << 8 | (size_t)hdr[3];
	/* skt_frame_header applies the same limit rules (0 is the default,
	 * above 32 bits clamps), so it is the one place they live. */
	uint8_t check[SKT_FRAME_HEADER];
	if (skt_frame_header(check, want, max) < 0)
		return SKT_ETOOBIG;

	int rc = recv_payload(fd, want, deadline, msg);
	if (rc < 0)
		return rc;
	*len = want;
	return 0;
}
