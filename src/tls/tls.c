/* tls.c - one TLS session on a non-blocking fd, with per-call deadlines.
 *
 * OpenSSL reads and writes the real socket (SSL_set_fd), not memory
 * BIOs, so kernel TLS can take over the records where it is available.
 * Every operation is retried on WANT_READ / WANT_WRITE after waiting for
 * the fd with the caller's deadline (skt__wait), the way every other
 * blocking call of libsockit waits.
 *
 * SIGPIPE. The socket BIO writes with write(2), which raises SIGPIPE on a
 * connection the peer reset; libsockit promises never to. Each call that
 * may write blocks SIGPIPE for its thread and, when the write failed with
 * EPIPE, takes the signal it caused off the pending set before restoring
 * the mask (the technique of libcurl's sigpipe.h and git's
 * sigchain_push). A SIGPIPE already pending before the call is left.
 * The pending set decides, not the call's errno: a call may succeed after
 * a write inside it failed with EPIPE (OpenSSL 3's TLS 1.3 server ignores
 * a client that left before its session tickets went out, and its
 * handshake still returns 1).
 *
 * End of stream. A peer that closes after close_notify gives 0; one that
 * closes without it gives SKT_ETRUNCATED (OpenSSL 3's "unexpected eof
 * while reading"), so a cut-off transfer is never taken for a finished
 * one.
 */
#include "tls/tls_int.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- SIGPIPE ---- */

typedef struct nopipe {
	sigset_t old;
	bool was_pending;
} nopipe;

static void nopipe_begin(nopipe *np)
{
	sigset_t block, pending;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &np->old);
	sigpending(&pending);
	np->was_pending = sigismember(&pending, SIGPIPE);
}

static void nopipe_end(nopipe *np)
{
	sigset_t now;
	if (!np->was_pending && sigpending(&now) == 0 &&
	    sigismember(&now, SIGPIPE) == 1) {
		sigset_t pipe_only;
		sigemptyset(&pipe_only);
		sigaddset(&pipe_only, SIGPIPE);
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_only, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

/* ---- Errors ---- */

static int verify_code(long v)
{
	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return SKT_ETLSEXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return SKT_ETLSNOTYET;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return SKT_ETLSNAME;
	default:
		return SKT_ETLSUNTRUSTED;
	}
}

/* What an SSL_R_* reason means in sockit's terms. */
static int reason_code(int r)
{
	switch (r) {
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return SKT_ETRUNCATED;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_WRONG_SSL_VERSION:
		return SKT_ETLSVERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_APPLICATION_PROTOCOL:
	case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		return SKT_ETLSNOSHARED;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return SKT_ETLSNOCERT;
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		return SKT_ETLSUNTRUSTED;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		return SKT_ETLSEXPIRED;
	default:
		return SKT_ETLS;
	}
}

/* Say why the last call failed; the buffer is made on the first failure
 * (without memory the reason stays empty: the code still tells). */
static void set_reason(skt_tls *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_reason(skt_tls *t, const char *fmt, ...)
{
	if (t->reason == NULL && (t->reason = skt_malloc(REASON_MAX)) == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->reason, REASON_MAX, fmt, ap);
	va_end(ap);
}

void skt__tls_clear_reason(skt_tls *t)
{
	if (t->reason != NULL)
		t->reason[0] = '\0';
}

/* Turn a failed SSL call into a sockit code, and say why in t->reason.
 * saved_errno is errno right after the call. OpenSSL's error queue is
 * left empty: it is per thread and would mislead the next caller. */
int skt__tls_fail(skt_tls *t, int ret, int saved_errno)
{
	int e = SSL_get_error(t->ssl, ret);
	unsigned long code = ERR_peek_last_error();
	int rc;
	if (e == SSL_ERROR_ZERO_RETURN) {
		rc = 0;
	} else if (e == SSL_ERROR_SYSCALL && code == 0) {
		rc = saved_errno != 0 ? -saved_errno : SKT_ETRUNCATED;
		set_reason(t, "%s", skt_strerror(rc));
	} else if (t->pin_failed) {
		rc = SKT_ETLSPIN;
		set_reason(t, "the peer's certificate matches no pin");
	} else if (ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		long v = SSL_get_verify_result(t->ssl);
		rc = verify_code(v);
		set_reason(t, "certificate verify failed: %s",
			   X509_verify_cert_error_string(v));
	} else {
		const char *why = ERR_reason_error_string(code);
		rc = reason_code(ERR_GET_REASON(code));
		set_reason(t, "%s", why != NULL ? why : skt_strerror(rc));
	}
	ERR_clear_error();
	return rc;
}

/* After an SSL call returned ret <= 0: wait as OpenSSL asks and return 1
 * to retry, or return the error. */
static int wait_or_fail(skt_tls *t, int ret, int saved_errno, int64_t deadline)
{
	int e = SSL_get_error(t->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		t->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		int rc = skt__wait(t->fd, t->want, deadline);
		return rc < 0 ? rc : 1;
	}
	return skt__tls_fail(t, ret, saved_errno);
}

/* ---- Sessions ---- */

static bool is_ip(const char *host)
{
	struct in6_addr a;
	return inet_pton(AF_INET, host, &a) == 1 ||
	       inet_pton(AF_INET6, host, &a) == 1;
}

/* Client: the name to check (DNS name or IP literal) and to send. */
static int set_peer_name(skt_tls *t, const char *host, const char *sni)
{
	bool ip = is_ip(host);
	if (!t->ctx->insecure && t->ctx->npins == 0) {
		X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
		X509_VERIFY_PARAM_set_hostflags(
			p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(p, host)
			    : X509_VERIFY_PARAM_set1_host(p, host, 0);
		if (ok != 1)
			return SKT_EINVAL;
	}
	const char *send = sni != NULL ? sni : ip ? "" : host;
	if (send[0] != '\0' &&
	    SSL_set_tlsext_host_name(t->ssl, send) != 1) /* RFC 6066 3 */
		return SKT_EINVAL;
	return 0;
}

int skt_tls_new(skt_tls **out, skt_tls_ctx *ctx, int fd, const char *host,
		const char *sni)
{
	*out = NULL;
	if (fd < 0 || (host != NULL && strlen(host) > 255))
		return SKT_EINVAL;
	skt_tls *t = skt_calloc(1, sizeof(*t));
	if (t == NULL)
		return SKT_ENOMEM;
	t->fd = fd;
	t->ctx = ctx;
	skt__tls_ctx_ref(ctx);
	int rc = SKT_ENOMEM;
	t->ssl = SSL_new(ctx->ssl);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1)
		goto fail;
	SSL_set_app_data(t->ssl, t);
	if (ctx->role == SKT_TLS_CLIENT) {
		SSL_set_connect_state(t->ssl);
		if (host != NULL) {
			if ((rc = set_peer_name(t, host, sni)) < 0)
				goto fail;
			size_t n = strlen(host) + 1;
			if ((t->host = skt_malloc(n)) == NULL) {
				rc = SKT_ENOMEM;
				goto fail;
			}
			memcpy(t->host, host, n);
			SSL_SESSION *s = skt__tls_session_get(ctx, host);
			if (s != NULL) {
				SSL_set_session(t->ssl, s);
				SSL_SESSION_free(s);
			}
		}
	} else {
		SSL_set_accept_state(t->ssl);
	}
	*out = t;
	return 0;
fail:
	ERR_clear_error();
	skt_tls_free(t);
	return rc;
}

void skt_tls_free(skt_tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	skt__tls_ctx_unref(t->ctx);
	skt_free(t->host);
	skt_free(t->reason);
	skt_free(t);
}

int skt__tls_handshake_by(skt_tls *t, int64_t deadline)
{
	skt__tls_clear_reason(t);
	for (;;) {
		nopipe np;
		nopipe_begin(&np);
		errno = 0;
		int ret = SSL_do_handshake(t->ssl);
		int saved = errno;
		nopipe_end(&np);
		if (ret == 1) {
			t->handshaken = true;
			return 0;
		}
		int rc = wait_or_fail(t, ret, saved, deadline);
		if (rc <= 0)
			return rc == 0 ? SKT_ETRUNCATED : rc;
	}
}

int skt_tls_handshake(skt_tls *t, int timeout_ms)
{
	return skt__tls_handshake_by(t, skt__deadline(timeout_ms));
}

ssize_t skt__tls_read_by(skt_tls *t, void *buf, size_t cap, int64_t deadline)
{
	skt__tls_clear_reason(t);
	if (cap == 0)
		return 0;
	for (;;) {
		size_t got = 0;
		nopipe np;
		nopipe_begin(&np); /* a read may write (key update, alerts) */
		errno = 0;
		int ret = SSL_read_ex(t->ssl, buf, cap, &got);
		int saved = errno;
		nopipe_end(&np);
		if (ret == 1) {
			t->handshaken = true;
			return (ssize_t)got;
		}
		int rc = wait_or_fail(t, ret, saved, deadline);
		if (rc <= 0)
			return rc;
	}
}

ssize_t skt_tls_read(skt_tls *t, void *buf, size_t cap, int timeout_ms)
{
	return skt__tls_read_by(t, buf, cap, skt__deadline(timeout_ms));
}

size_t skt_tls_pending(const skt_tls *t)
{
	int n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

int skt__tls_write_by(skt_tls *t, const void *buf, size_t len, int64_t deadline,
		      size_t *sent)
{
	const uint8_t *p = buf;
	size_t done = 0;
	int rc = 0;
	skt__tls_clear_reason(t);
	nopipe np;
	nopipe_begin(&np);
	int saved = 0;
	while (done < len) {
		size_t n = 0;
		errno = 0;
		int ret = SSL_write_ex(t->ssl, p + done, len - done, &n);
		saved = errno;
		if (ret == 1) {
			done += n;
			continue;
		}
		rc = wait_or_fail(t, ret, saved, deadline);
		if (rc <= 0) {
			if (rc == 0)
				rc = SKT_EPIPE; /* close_notify mid-write */
			break;
		}
		rc = 0;
	}
	nopipe_end(&np);
	if (sent != NULL)
		*sent = done;
	return rc;
}

int skt_tls_write_all(skt_tls *t, const void *buf, size_t len, int timeout_ms,
		      size_t *sent)
{
	return skt__tls_write_by(t, buf, len, skt__deadline(timeout_ms), sent);
}

ssize_t skt_tls_write(skt_tls *t, const void *buf, size_t len)
{
	size_t n = 0;
	int rc = skt__tls_write_by(t, buf, len, 0, &n);
	if (n > 0)
		return (ssize_t)
			n; /* an error after it shows on the next call */
	return rc;
}

short skt_tls_want(const skt_tls *t)
{
	return t->want;
}

int skt__tls_shutdown_by(skt_tls *t, int64_t deadline)
{
	if (t->shut)
		return 0;
	for (;;) {
		nopipe np;
		nopipe_begin(&np);
		errno = 0;
		int ret = SSL_shutdown(t->ssl);
		int saved = errno;
		nopipe_end(&np);
		/* 0: our close_notify is sent, the peer's not yet read; that is
		 * all a half-close needs. */
		if (ret >= 0) {
			t->shut = true;
			return 0;
		}
		int rc = wait_or_fail(t, ret, saved, deadline);
		if (rc <= 0)
			return rc;
	}
}

int skt_tls_shutdown(skt_tls *t, int timeout_ms)
{
	return skt__tls_shutdown_by(t, skt__deadline(timeout_ms));
}

const char *skt_tls_reason(const skt_tls *t)
{
	return t->reason != NULL ? t->reason : "";
}

int skt__tls_io_error(skt_tls *t, int ret, int saved_errno)
{
	int e = SSL_get_error(t->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		t->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return SKT_EAGAIN;
	}
	return skt__tls_fail(t, ret, saved_errno);
}
