/* tls_relay.c - skt_tls_relay_run: the relay's poll loop (src/relay/) with
 * the socket side carried by a TLS session, through the relay's transport
 * seam (relay/relay_tx.h).
 *
 * Readiness. OpenSSL reads whole records off the socket and may hold
 * decrypted bytes that poll() cannot see, so the relay's "socket
 * readable" flag is cleared only when OpenSSL says WANT_READ (it needs
 * bytes from the socket), never because poll() said nothing is there;
 * recv also drains every record OpenSSL holds before returning, and
 * readable() reports SSL_has_pending for the rest (records read ahead
 * included). A write that wants to read and a read that wants to write
 * are the relay's wr_want / rd_want.
 *
 * Ends. The input's end sends close_notify, then shuts TCP down for
 * writing: a TLS 1.3 peer may go on sending (half-close); a TLS 1.2 peer
 * usually answers with its own close_notify and closes. The peer's
 * close_notify is the relay's end of stream; a close without one is
 * SKT_ETRUNCATED, after every byte that arrived before it was delivered.
 *
 * Kernel TLS. With kTLS carrying the transmit records (skt_tls_info's
 * ktls_tx), a regular-file input goes out with SSL_sendfile (sendfile(2)
 * under the kernel's tls ULP: no copy through user space); anything
 * SSL_sendfile refuses falls back to read and SSL_write. Without the tls
 * ULP (a kernel built without CONFIG_TLS, or the module not loaded) this
 * path is never taken, and the tests cannot reach it there.
 *
 * SIGPIPE is the relay's business: it blocks the signal for the whole run
 * (relay.h), so these calls do not block it again.
 */
#include "relay/relay_tx.h"
#include "tls/tls_int.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* What one read of the socket may take while relaying (read ahead). */
#define READ_AHEAD ((size_t)256 << 10)

/* The session, and an ending that recv met after it had bytes to return:
 * the bytes go first, the ending with the next call. */
typedef struct tls_tx {
	skt_tls *t;
	bool ended;  /* a pending ending */
	ssize_t end; /* 0 (close_notify) or an error */
	short end_want;
} tls_tx;

static ssize_t tx_send(void *arg, const void *buf, size_t len, short *want)
{
	tls_tx *x = arg;
	skt_tls *t = x->t;
	size_t n = 0;
	errno = 0;
	/* Partial writes are on (tls_ctx.c): one record's worth returns. */
	if (SSL_write_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	int rc = skt__tls_io_error(t, 0, errno);
	if (rc == SKT_EAGAIN)
		*want = t->want;
	/* 0: the peer's close_notify seen by a write; the peer reads no
	 * more, as a plain socket's EPIPE. */
	return rc == 0 ? SKT_EPIPE : rc;
}

static ssize_t tx_recv(void *arg, void *buf, size_t cap, short *want)
{
	tls_tx *x = arg;
	skt_tls *t = x->t;
	if (x->ended) {
		x->ended = false;
		return x->end;
	}
	uint8_t *p = buf;
	size_t got = 0;
	while (got < cap) {
		size_t n = 0;
		errno = 0;
		if (SSL_read_ex(t->ssl, p + got, cap - got, &n) == 1) {
			got += n;
			continue;
		}
		int rc = skt__tls_io_error(t, 0, errno);
		if (got == 0) {
			if (rc == SKT_EAGAIN)
				*want = t->want;
			return rc;
		}
		/* Bytes first; WANT_* is met again on the next call. */
		if (rc != SKT_EAGAIN) {
			x->ended = true;
			x->end = rc;
		}
		break;
	}
	return (ssize_t)got;
}

static int tx_shutdown(void *arg, short *want)
{
	tls_tx *x = arg;
	int rc = skt__tls_shutdown_by(x->t, 0);
	if (rc == SKT_EAGAIN) {
		*want = x->t->want;
		return rc;
	}
	if (rc == 0)
		shutdown(x->t->fd, SHUT_WR); /* ENOTCONN: the peer left */
	return rc;
}

static bool tx_readable(void *arg)
{
	tls_tx *x = arg;
	/* SSL_has_pending: decrypted bytes, or records read ahead. */
	return x->ended || SSL_has_pending(x->t->ssl);
}

/* kTLS only (see the top): SSL_sendfile from fd's position. */
static ssize_t tx_sendfile(void *arg, int fd, size_t max, short *want)
{
	tls_tx *x = arg;
	off_t at = lseek(fd, 0, SEEK_CUR);
	if (at < 0)
		return SKT_ENOSYS;
	errno = 0;
	ossl_ssize_t n = SSL_sendfile(x->t->ssl, fd, at, max, 0);
	int e = errno;
	ERR_clear_error();
	if (n >= 0) {
		lseek(fd, at + n, SEEK_SET);
		return (ssize_t)n;
	}
	if (e == EAGAIN || e == EINTR || e == EBUSY) {
		*want = POLLOUT;
		return SKT_EAGAIN;
	}
	if (e == 0 || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP)
		return SKT_ENOSYS;
	return -e;
}

static const skt__relay_tx tls_plain = {tx_send, tx_recv, tx_shutdown,
					tx_readable, NULL};
static const skt__relay_tx tls_ktls = {tx_send, tx_recv, tx_shutdown,
				       tx_readable, tx_sendfile};

int skt_tls_relay_run(int in_fd, int out_fd, skt_tls *t,
		      const skt_relay_opts *opts, skt_relay_stats *stats)
{
	if (t == NULL || !t->handshaken) {
		if (stats != NULL)
			*stats = (skt_relay_stats){0};
		return SKT_EINVAL;
	}
	tls_tx x = {.t = t};
	bool ktls = BIO_get_ktls_send(SSL_get_wbio(t->ssl)) > 0;
	/* Read ahead into a buffer of several records: one read takes
	 * what the socket has, not a record's header and then its body
	 * (two reads a record otherwise). Not under kTLS receive, where
	 * the kernel hands over one record a read. */
	if (BIO_get_ktls_recv(SSL_get_rbio(t->ssl)) <= 0) {
		SSL_set_default_read_buffer_len(t->ssl, READ_AHEAD);
		SSL_set_read_ahead(t->ssl, 1);
	}
	ERR_clear_error();
	skt__tls_clear_reason(t);
	return skt__relay_run_tx(in_fd, out_fd, t->fd,
				 ktls ? &tls_ktls : &tls_plain, &x, opts,
				 stats);
}
