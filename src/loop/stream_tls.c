/* stream_tls.c - TLS under a stream: the handshake, reads, writes and
 * close_notify, driven by the loop on the stream's own non-blocking fd.
 *
 * OpenSSL reads and writes the socket itself (skt_tls_new's SSL_set_fd),
 * not memory BIOs: no second copy of every byte, and kernel TLS can take
 * the records over. The price is that OpenSSL, not the stream, sees the
 * socket's EAGAIN, so readiness is read from its answers:
 *
 * States (of the TLS side; the stream's own go on around it):
 *   HANDSHAKE    SF_HANDSHAKE: started (on a CONNECTING stream, once
 *                connected); each event, and the task, run one step of
 *                SSL_do_handshake; reads and writes wait;
 *   ESTABLISHED  reads are SSL_read_ex, the queue goes out through
 *                SSL_write_ex; close and shutdown send close_notify
 *                (t->shut) once the queue is empty;
 *   failed       the stream is CLOSED with the error (skt__stream_fail);
 *                the session stays for skt_stream_tls until release.
 *
 * Want-read and want-write, both ways. An SSL call that returns WANT_READ
 * or WANT_WRITE says what the socket must do before the call can go on,
 * whichever direction the call was: a read may have to write (a key
 * update, an alert), a write may have to read. wait_w holds what the
 * sending side (handshake, writes, close_notify) waits for, wait_r what
 * the reading side waits for; skt__tls_io clears them when that event
 * comes, and skt__tls_interest asks the backend for them.
 *
 * Edges. Under edge-triggered epoll the stream reads until it is told the
 * socket is empty, and an edge comes only for bytes that arrive later.
 * OpenSSL reads ahead (SSL_set_read_ahead: one read(2) takes several
 * records) and may hold bytes, decrypted or not, after the socket is
 * empty, so a read that returned data does not end reading by itself:
 * SF_RD_READY is cleared on WANT_READ (OpenSSL met EAGAIN), or after a
 * read whose last read(2) came back short (the socket emptied, as a short
 * recv says for a plain stream) with nothing left in OpenSSL
 * (SSL_has_pending). The socket BIO's callback sees that short read; a
 * kTLS receive path hands over a record per read(2), so with it only
 * WANT_READ counts.
 *
 * Writes are queued by skt_stream_write and sent by the stream's task at
 * the end of the loop's iteration (or by the writable event), so what a
 * callback wrote in pieces becomes one SSL_write_ex of the queue's bytes:
 * one record (up to 16 KiB) and one write(2). After WANT_WRITE the same
 * bytes are offered again from the queue's head (the ring may have grown
 * and moved: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), never fewer.
 */
#include "loop/stream_int.h"
#include "tls/tls_int.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>

/* The socket BIO's callback: after each read(2), whether it emptied the
 * socket; after each write(2), whether it raised SIGPIPE. */
static long bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi,
		   long argl, int ret, size_t *processed)
{
	skt_stream *s = (skt_stream *)BIO_get_callback_arg(b);
	if (oper == (BIO_CB_READ | BIO_CB_RETURN))
		s->tls->short_read = ret <= 0 || *processed < len;
	else if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret <= 0 &&
		 errno == EPIPE)
		s->loop->nopipe_epipe = true;
	return ret;
}

/* After an SSL call returned r <= 0: 1 when it waits (on *wait), else the
 * sockit code of the failure (0: the peer's close_notify). */
static int want_or_fail(skt_stream *s, int r, int saved, unsigned *wait)
{
	skt_tls *t = s->tls->t;
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		*wait = e == SSL_ERROR_WANT_READ ? SKT_READABLE : SKT_WRITABLE;
		return 1;
	}
	return skt__tls_fail(t, r, saved);
}

/* Whether the sending side has work: the handshake, queued bytes, or a
 * close_notify that close or shutdown asked for. */
static bool sending_due(const skt_stream *s)
{
	return (s->flags & SF_HANDSHAKE) || skt__stream_has_out(s) ||
	       s->state == ST_DRAINING ||
	       (s->flags & (SF_SHUT_WANT | SF_SHUT_DONE)) == SF_SHUT_WANT;
}

/* ---- The handshake ---- */

static void hs_done(skt_stream *s)
{
	struct skt__stream_tls *st = s->tls;
	st->t->handshaken = true;
	st->drain_hint = BIO_get_ktls_recv(SSL_get_rbio(st->t->ssl)) == 0;
	s->flags &= ~SF_HANDSHAKE;
	/* The peer's first bytes may have come with its last flight and
	 * sit in OpenSSL's buffer: no edge would say so. */
	s->flags |= SF_RD_READY;
	skt__stream_timeouts_start(s);
	skt_stream_cb cb = s->on_tls;
	s->on_tls = NULL;
	if (cb != NULL)
		cb(s, 0);
}

static void hs_step(skt_stream *s)
{
	struct skt__stream_tls *st = s->tls;
	skt__loop_nopipe(s->loop);
	errno = 0;
	int r = SSL_do_handshake(st->t->ssl);
	if (r == 1) {
		hs_done(s);
		return;
	}
	int rc = want_or_fail(s, r, errno, &st->wait_w);
	if (rc <= 0) /* a close_notify mid-handshake cuts it short */
		skt__stream_fail(s, rc == 0 ? SKT_ETRUNCATED : rc);
}

/* ---- What stream.c, stream_read.c and stream_write.c call ---- */

void skt__tls_io(skt_stream *s, unsigned events)
{
	struct skt__stream_tls *st = s->tls;
	if (st->wait_r != 0 && (events & (st->wait_r | SKT__ERR))) {
		st->wait_r = 0;
		s->flags |= SF_RD_READY; /* the read can go on */
	}
	if (st->wait_w != 0 && (events & (st->wait_w | SKT__ERR)))
		st->wait_w = 0;
	if (st->wait_w == 0 && sending_due(s))
		skt__stream_flush(s);
}

void skt__tls_task(skt_stream *s)
{
	if ((s->state == ST_OPEN || s->state == ST_DRAINING) &&
	    s->tls->wait_w == 0 && sending_due(s))
		skt__stream_flush(s);
}

unsigned skt__tls_interest(const skt_stream *s, unsigned want)
{
	const struct skt__stream_tls *st = s->tls;
	if (s->flags & SF_HANDSHAKE)
		return st->wait_w; /* 0 before the first step: the task's */
	unsigned w = 0;
	if (want & SKT_READABLE)
		w |= st->wait_r != 0 ? st->wait_r : SKT_READABLE;
	if (st->wait_w != 0)
		w |= st->wait_w;
	else if (sending_due(s))
		w |= SKT_WRITABLE;
	return w;
}

ssize_t skt__tls_recv(skt_stream *s, uint8_t *dst, size_t cap)
{
	struct skt__stream_tls *st = s->tls;
	SSL *ssl = st->t->ssl;
	if (st->wait_r != 0)
		return SKT_EAGAIN;
	skt__loop_nopipe(s->loop);
	st->short_read = false;
	size_t got = 0;
	errno = 0;
	int r = SSL_read_ex(ssl, dst, cap, &got);
	int saved = errno;
	if (r == 1) {
		if (st->short_read && st->drain_hint &&
		    !(s->flags & SF_RDHUP) && !SSL_has_pending(ssl))
			s->flags &= ~SF_RD_READY;
		return (ssize_t)got;
	}
	unsigned wait = 0;
	int rc = want_or_fail(s, r, saved, &wait);
	if (rc == 1) {
		if (wait == SKT_WRITABLE)
			st->wait_r = SKT_WRITABLE;
		return SKT_EAGAIN; /* the caller clears SF_RD_READY */
	}
	return rc; /* 0 (close_notify), SKT_ETRUNCATED, an error */
}

void skt__tls_send_queue(skt_stream *s)
{
	struct skt__stream_tls *st = s->tls;
	if (st->wait_w != 0)
		return;
	if (s->flags & SF_HANDSHAKE) {
		hs_step(s);
		if ((s->flags & SF_HANDSHAKE) || s->state == ST_CLOSED)
			return;
	}
	SSL *ssl = st->t->ssl;
	skt__loop_nopipe(s->loop);
	while (s->olen > 0) {
		size_t first = s->ocap - s->ohead;
		size_t len = first < s->olen ? first : s->olen;
		size_t n = 0;
		errno = 0;
		int r = SSL_write_ex(ssl, s->obuf + s->ohead, len, &n);
		if (r != 1) {
			int rc = want_or_fail(s, r, errno, &st->wait_w);
			if (rc <= 0) /* 0: our own close_notify went first */
				skt__stream_fail(s, rc == 0 ? SKT_EPIPE : rc);
			return;
		}
		s->ohead = (s->ohead + n) & (s->ocap - 1);
		s->olen -= n;
		s->sent += n;
		s->active = s->loop->now;
	}
}

ssize_t skt__tls_sendfile(skt_stream *s, int fd, int64_t off, size_t n)
{
	struct skt__stream_tls *st = s->tls;
	SSL *ssl = st->t->ssl;
	if (BIO_get_ktls_send(SSL_get_wbio(ssl)) <= 0)
		return SKT_EOPNOTSUPP;
	skt__loop_nopipe(s->loop);
	errno = 0;
	ossl_ssize_t r = SSL_sendfile(ssl, fd, (off_t)off, n, 0);
	if (r > 0)
		return (ssize_t)r;
	int rc = want_or_fail(s, (int)r, errno, &st->wait_w);
	if (rc == 1)
		return SKT_EAGAIN;
	return rc == 0 ? SKT_EPIPE : rc;
}

int skt__tls_close_notify(skt_stream *s)
{
	struct skt__stream_tls *st = s->tls;
	skt_tls *t = st->t;
	if (!t->handshaken || t->shut)
		return 1;
	if (st->wait_w != 0)
		return 0;
	skt__loop_nopipe(s->loop);
	errno = 0;
	int r = SSL_shutdown(t->ssl);
	/* 0: ours is sent, the peer's not read yet - all a half-close or a
	 * close needs. */
	if (r >= 0) {
		t->shut = true;
		return 1;
	}
	int rc = want_or_fail(s, r, errno, &st->wait_w);
	if (rc == 1)
		return 0;
	t->shut = true; /* do not try again */
	return rc < 0 ? rc : 1;
}

void skt__tls_release(skt_stream *s)
{
	skt_tls_free(s->tls->t); /* no I/O: the fd is already closed */
	skt_free(s->tls);
	s->tls = NULL;
}

/* ---- The public calls ---- */

int skt_stream_start_tls(skt_stream *s, skt_tls_ctx *ctx, const char *host,
			 const char *sni, int handshake_ms,
			 skt_stream_cb on_done)
{
	if (s->state == ST_CLOSED)
		return s->err != 0 ? s->err : SKT_ENOTCONN;
	if (ctx == NULL || handshake_ms < 0 || s->tls != NULL ||
	    (s->state != ST_CONNECTING && s->state != ST_OPEN) ||
	    (s->flags & (SF_FREED | SF_SHUT_WANT | SF_CLOSE_WANT)) ||
	    skt_stream_buffered(s) > 0)
		return SKT_EINVAL;
	struct skt__stream_tls *st = skt_calloc(1, sizeof(*st));
	if (st == NULL)
		return SKT_ENOMEM;
	int r = skt_tls_new(&st->t, ctx, s->w.fd, host, sni);
	if (r < 0) {
		skt_free(st);
		return r;
	}
	SSL *ssl = st->t->ssl;
	SSL_set_read_ahead(ssl, 1);
	BIO *b = SSL_get_rbio(ssl); /* SSL_set_fd: one BIO both ways */
	BIO_set_callback_arg(b, (char *)s);
	BIO_set_callback_ex(b, bio_cb);
	s->tls = st;
	s->on_tls = on_done;
	s->flags |= SF_HANDSHAKE;
	/* From now, not from the loop's last look at the clock. */
	st->hs_deadline = handshake_ms > 0 ? skt__now_ms() + handshake_ms : 0;
	if (st->hs_deadline != 0)
		skt__timer_start_at(&s->tm, st->hs_deadline);
	else
		skt_timer_stop(&s->tm);
	/* The first flight goes from the task: never inside a user call. A
	 * CONNECTING stream starts once connected. */
	if (s->state == ST_OPEN)
		skt__stream_kick(s);
	skt__stream_interest(s);
	return 0;
}

skt_tls *skt_stream_tls(const skt_stream *s)
{
	return s->tls != NULL ? s->tls->t : NULL;
}
