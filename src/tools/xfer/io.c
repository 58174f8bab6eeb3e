/* io.c - frames over a socket for sockit send/recv: every read and write
 * limited by the idle timeout (SO_RCVTIMEO, SO_SNDTIMEO), sends never raise
 * SIGPIPE (MSG_NOSIGNAL), heads checked against their limits before a payload
 * is read. */
#include "tools/xfer/xfer_int.h"

#include "sockit/sockit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

char *xf_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = skt_malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

int64_t xf_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The socket is blocking, with SO_RCVTIMEO and SO_SNDTIMEO as the idle
 * timeout: a chunk is then one recv (MSG_WAITALL) and one sendmsg, not a
 * poll and a short read per socket buffer's worth. A call that times out
 * fails with EAGAIN. */
int xf_io_init(xf_io *io, int fd, skt_tls *tls, int timeout_ms)
{
	io->fd = fd;
	io->timeout_ms = io->cur_ms = timeout_ms;
	io->tls = tls;
	if (tls != NULL)
		return 0; /* skt_tls waits with poll, on a non-blocking fd */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	return xf_io_timeout(io, timeout_ms);
}

bool xf_io_zerocopy(const xf_io *io)
{
	return io->tls == NULL && io->auth == NULL;
}

int xf_io_timeout(xf_io *io, int timeout_ms)
{
	io->cur_ms = timeout_ms;
	if (io->tls != NULL)
		return 0;
	struct timeval tv = {0, 0}; /* 0: none */
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	if (setsockopt(io->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(io->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* skt_tls's timeout: -1 for none. */
static int tls_ms(const xf_io *io)
{
	return io->cur_ms > 0 ? io->cur_ms : -1;
}

static int os_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK ? SKT_ETIMEDOUT : -e;
}

/* What is buffered first; then a read of what remains straight into buf
 * when it is at least a buffer's worth (a chunk: one recv, MSG_WAITALL),
 * else one refill of the buffer with whatever has arrived, so that the
 * small frames of a tree of small files cost a recv per many frames. */
int xf_io_read(xf_io *io, void *buf, size_t n)
{
	uint8_t *out = buf;
	size_t got = 0;
	while (got < n) {
		size_t have = io->rlen - io->rpos;
		if (have > 0) {
			size_t take = have < n - got ? have : n - got;
			memcpy(out + got, io->rbuf + io->rpos, take);
			io->rpos += take;
			got += take;
			continue;
		}
		if (io->rerr != 0)
			return got == 0 || io->rerr != SKT_EOF ? io->rerr
							       : SKT_EPARTIAL;
		bool direct = n - got >= sizeof(io->rbuf);
		ssize_t r;
		if (io->tls != NULL) {
			r = skt_tls_read(io->tls, direct ? out + got : io->rbuf,
					 direct ? n - got : sizeof(io->rbuf),
					 tls_ms(io));
			if (r < 0)
				return (int)r; /* SKT_ETRUNCATED among them */
		} else {
			r = direct ? recv(io->fd, out + got, n - got,
					  MSG_WAITALL)
				   : recv(io->fd, io->rbuf, sizeof(io->rbuf),
					  0);
		}
		if (r == 0)
			return got == 0 ? SKT_EOF : SKT_EPARTIAL;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return os_error(errno);
		}
		if (direct) {
			got += (size_t)r;
		} else {
			io->rpos = 0;
			io->rlen = (size_t)r;
		}
	}
	if (io->auth != NULL)
		EVP_MAC_update(io->auth->rx, buf, n);
	return 0;
}

/* Under TLS: small pieces gathered into wbuf, so a frame's head and hash
 * do not go in records of their own; a big piece is written as it is. */
static int tls_writev(xf_io *io, const struct iovec *iov, int n)
{
	size_t have = 0;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		size_t len = iov[i].iov_len;
		if (have + len <= sizeof(io->wbuf)) {
			memcpy(io->wbuf + have, iov[i].iov_base, len);
			have += len;
			continue;
		}
		if (have > 0)
			rc = skt_tls_write_all(io->tls, io->wbuf, have,
					       tls_ms(io), NULL);
		have = 0;
		if (rc == 0)
			rc = skt_tls_write_all(io->tls, iov[i].iov_base, len,
					       tls_ms(io), NULL);
	}
	if (rc == 0 && have > 0)
		rc = skt_tls_write_all(io->tls, io->wbuf, have, tls_ms(io),
				       NULL);
	return rc;
}

static int writev_flags(xf_io *io, struct iovec *iov, int n, int flags)
{
	if (io->auth != NULL)
		for (int i = 0; i < n; i++)
			EVP_MAC_update(io->auth->tx, iov[i].iov_base,
				       iov[i].iov_len);
	if (io->tls != NULL)
		return tls_writev(io, iov, n);
	while (n > 0) {
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(io->fd, &m, MSG_NOSIGNAL | flags);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return os_error(errno);
		}
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

int xf_io_writev(xf_io *io, struct iovec *iov, int n)
{
	return writev_flags(io, iov, n, 0);
}

int xf_io_writev_flags(xf_io *io, struct iovec *iov, int n, int flags)
{
	return writev_flags(io, iov, n, flags);
}

int xf_io_write_flags(xf_io *io, const void *p, size_t n, int flags)
{
	struct iovec v = {.iov_base = (void *)p, .iov_len = n};
	return writev_flags(io, &v, 1, flags);
}

int xf_io_write(xf_io *io, const void *p, size_t n)
{
	return xf_io_write_flags(io, p, n, 0);
}

int xf_io_sendfile(xf_io *io, int file, off_t off, size_t n)
{
	while (n > 0) {
		ssize_t w = sendfile(io->fd, file, &off, n);
		if (w == 0)
			return SKT_EIO;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return os_error(errno);
		}
		n -= (size_t)w;
	}
	return 0;
}

int xf_io_head(xf_io *io, uint8_t *type, uint32_t *len)
{
	int rc = xf_io_read(io, io->ctrl, XF_HEAD_LEN);
	if (rc < 0)
		return rc;
	return xf_head_decode(io->ctrl, XF_HEAD_LEN, type, len) == XF_HEAD_LEN
		       ? 0
		       : SKT_EMALFORMED;
}

int xf_io_ctrl(xf_io *io, uint8_t *type, uint32_t *len)
{
	int rc = xf_io_head(io, type, len);
	if (rc < 0)
		return rc;
	if (*type == XF_DATA)
		return SKT_EMALFORMED;
	rc = xf_io_read(io, io->ctrl + XF_HEAD_LEN, *len);
	return rc == SKT_EOF ? SKT_EPARTIAL : rc;
}

bool xf_io_readable(xf_io *io)
{
	if (io->rpos < io->rlen || io->rerr != 0)
		return true;
	struct pollfd p = {.fd = io->fd, .events = POLLIN};
	if (io->tls == NULL || skt_tls_pending(io->tls) > 0)
		return io->tls != NULL || poll(&p, 1, 0) > 0;
	if (poll(&p, 1, 0) <= 0)
		return false;
	/* Bytes on the socket may be a record that is no data (a TLS 1.3
	 * ticket): read what there is now, and keep an end or an error for
	 * xf_io_read. */
	ssize_t r = skt_tls_read(io->tls, io->rbuf, sizeof(io->rbuf), 0);
	if (r == SKT_EAGAIN)
		return false;
	if (r > 0) {
		io->rpos = 0;
		io->rlen = (size_t)r;
	} else {
		io->rerr = r == 0 ? SKT_EOF : (int)r;
	}
	return true;
}

void xf_io_error(xf_io *io, uint16_t code, const char *msg)
{
	uint8_t f[XF_HEAD_LEN + 2 + XF_ERRMSG_MAX];
	size_t n = xf_error_encode(f, sizeof(f), code, msg);
	/* The peer may have stopped reading: do not wait long for it. */
	if (io->timeout_ms <= 0 || io->timeout_ms > 2000)
		xf_io_timeout(io, 2000);
	(void)xf_io_write(io, f, n);
	xf_io_timeout(io, io->timeout_ms);
}

void xf_fail(xf_stats *st, const char *fmt, ...)
{
	if (st->err[0] != '\0')
		return; /* the first reason is the one that counts */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

void xf_fail_peer(xf_stats *st, const char *peer, const uint8_t *p,
		  uint32_t len)
{
	uint16_t code;
	const char *msg;
	size_t mlen;
	if (xf_error_decode(p, len, &code, &msg, &mlen) != 0) {
		xf_fail(st, "%s sent a malformed error", peer);
		return;
	}
	if (code == XF_E_VERIFY)
		st->verify_failed = true;
	if (code == XF_E_AUTH)
		st->auth_failed = true;
	/* The peer's text is printed, not trusted: control bytes go. */
	char clean[XF_ERRMSG_MAX + 1];
	for (size_t i = 0; i < mlen; i++)
		clean[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f
				   ? '?'
				   : msg[i];
	clean[mlen] = '\0';
	xf_fail(st, "%s: %s", peer, clean);
}

static void human(double v, char *out, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

void xf_progress_start(xf_progress *p, bool on, const char *role,
		       uint64_t files, uint64_t bytes)
{
	*p = (xf_progress){
		.on = on, .role = role, .files = files, .bytes = bytes};
	p->start_us = p->last_us = xf_now_us();
}

void xf_progress_tick(xf_progress *p, bool force)
{
	if (!p->on)
		return;
	int64_t now = xf_now_us();
	if (!force && now - p->last_us < 200000)
		return;
	p->last_us = now;
	double secs = (double)(now - p->start_us) / 1e6;
	double rate = secs > 0 ? (double)p->done_bytes / secs : 0;
	char done[32], total[32], r[32], eta[32] = "-";
	human((double)p->done_bytes, done, sizeof(done));
	human((double)p->bytes, total, sizeof(total));
	human(rate, r, sizeof(r));
	if (rate > 0 && p->bytes >= p->done_bytes)
		snprintf(eta, sizeof(eta), "%.0fs",
			 (double)(p->bytes - p->done_bytes) / rate);
	fprintf(stderr,
		"\rsockit: %s: %llu/%llu files, %s of %s, %s/s, ETA %s\033[K",
		p->role, (unsigned long long)p->done_files,
		(unsigned long long)p->files, done, total, r, eta);
}

void xf_progress_end(xf_progress *p)
{
	if (!p->on)
		return;
	xf_progress_tick(p, true);
	fputc('\n', stderr);
}

int xf_io_auth(xf_io *io, const uint8_t type, const uint8_t v[XF_AUTH_LEN],
	       int flags)
{
	uint8_t f[XF_HEAD_LEN + XF_AUTH_LEN];
	xf_head_encode(f, type, XF_AUTH_LEN);
	memcpy(f + XF_HEAD_LEN, v, XF_AUTH_LEN);
	return xf_io_write_flags(io, f, sizeof(f), flags);
}

int xf_io_mark(xf_io *io, int flags)
{
	if (io->auth == NULL)
		return 0;
	uint8_t m[XF_AUTH_LEN];
	if (xf_auth_mark(io->auth->tx, m) < 0)
		return SKT_ENOMEM;
	return xf_io_auth(io, XF_MAC, m, flags);
}

int xf_io_check_mark(xf_io *io, uint8_t *type, uint32_t *len)
{
	if (io->auth == NULL)
		return 0;
	uint8_t want[XF_AUTH_LEN];
	if (xf_auth_mark(io->auth->rx, want) < 0)
		return SKT_ENOMEM;
	int rc = xf_io_ctrl(io, type, len);
	if (rc < 0)
		return rc;
	if (*type != XF_MAC || *len != XF_AUTH_LEN)
		return SKT_EMALFORMED;
	return xf_auth_equal(want, io->ctrl + XF_HEAD_LEN) ? 0 : 1;
}
