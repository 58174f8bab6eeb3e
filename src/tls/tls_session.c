/* tls_session.c - the sessions a client keeps to resume, one per
 * connection rather than the context's one per host (tls.h). An
 * skt_tls_session holds one reference to an SSL_SESSION, which OpenSSL
 * counts; the SSL object offering it holds its own.
 *
 * What is taken is a copy (SSL_SESSION_dup): OpenSSL marks the session
 * of an SSL object unresumable when that connection fails, a peer's
 * close without close_notify included (a fatal alert removes it from
 * the cache), and a session taken before would be marked with it,
 * though RFC 5246 (7.2.1) and RFC 8446 let it resume. */
#include "tls/tls_int.h"

#include <openssl/err.h>

struct skt_tls_session {
	SSL_SESSION *sess;
};

static bool tickets_on(const skt_tls_ctx *ctx)
{
	return (SSL_CTX_get_options(ctx->ssl) & SSL_OP_NO_TICKET) == 0;
}

skt_tls_session *skt_tls_get_session(const skt_tls *t)
{
	if (t->ctx->role != SKT_TLS_CLIENT || !t->handshaken ||
	    !tickets_on(t->ctx))
		return NULL;
	/* In TLS 1.3 each ticket read makes a new SSL_SESSION (OpenSSL
	 * duplicates the one in use): this is the latest. */
	SSL_SESSION *now = SSL_get0_session(t->ssl);
	if (now == NULL || !SSL_SESSION_is_resumable(now))
		return NULL;
	skt_tls_session *s = skt_malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	s->sess = SSL_SESSION_dup(now);
	if (s->sess == NULL) {
		ERR_clear_error();
		skt_free(s);
		return NULL;
	}
	return s;
}

int skt_tls_set_session(skt_tls *t, const skt_tls_session *s)
{
	/* A spent TLS 1.3 session is marked so (SSL_CTX_remove_session at
	 * the end of the handshake that used it): not resumable. */
	if (t->ctx->role != SKT_TLS_CLIENT || s == NULL ||
	    !SSL_in_before(t->ssl) || !SSL_SESSION_is_resumable(s->sess))
		return SKT_EINVAL;
	if (SSL_set_session(t->ssl, s->sess) != 1) {
		ERR_clear_error();
		return SKT_EINVAL;
	}
	return 0;
}

void skt_tls_session_free(skt_tls_session *s)
{
	if (s == NULL)
		return;
	SSL_SESSION_free(s->sess);
	skt_free(s);
}
