/* tls_conn.c - TLS under a buffered connection: skt_conn's reads and
 * writes go through the session (conn_int.h's transport), so read-line,
 * read-exact and frames work over TLS exactly as over a plain socket. */
#include "conn/conn_int.h"
#include "tls/tls_int.h"

#include <string.h>

static ssize_t tx_recv(void *arg, void *buf, size_t cap, int64_t deadline)
{
	return skt__tls_read_by(arg, buf, cap, deadline);
}

static int tx_send_all(void *arg, const void *buf, size_t len, int64_t deadline,
		       size_t *sent)
{
	return skt__tls_write_by(arg, buf, len, deadline, sent);
}

static int tx_shutdown(void *arg, int64_t deadline)
{
	return skt__tls_shutdown_by(arg, deadline);
}

/* Closing: one non-blocking try at close_notify, so the peer can tell an
 * end from a cut; a peer that is not reading does not hold the close. */
static void tx_close(void *arg)
{
	skt_tls *t = arg;
	if (t->handshaken)
		skt__tls_shutdown_by(t, 0);
	skt_tls_free(t);
}

static const skt__conn_tx tls_tx = {tx_recv, tx_send_all, tx_shutdown,
				    tx_close};

static void say(char *reason, size_t cap, const char *text)
{
	if (reason != NULL && cap > 0)
		snprintf(reason, cap, "%s", text);
}

/* Handshake on fd (taken over) and wrap it. */
static int wrap(skt_conn **out, skt_tls_ctx *ctx, int fd, const char *host,
		const char *sni, int64_t deadline, char *reason, size_t cap)
{
	skt_tls *t;
	int rc = skt_tls_new(&t, ctx, fd, host, sni);
	if (rc < 0) {
		say(reason, cap, skt_strerror(rc));
		skt_close(fd);
		return rc;
	}
	rc = skt__tls_handshake_by(t, deadline);
	if (rc == 0)
		rc = skt_conn_new(out, fd, 0);
	if (rc < 0) {
		say(reason, cap,
		    t->reason != NULL && t->reason[0] != '\0'
			    ? t->reason
			    : skt_strerror(rc));
		skt_tls_free(t);
		skt_close(fd);
		return rc;
	}
	skt__conn_set_tx(*out, &tls_tx, t);
	return 0;
}

int skt_tls_conn_connect(skt_conn **out, skt_tls_ctx *ctx, const char *host,
			 const char *service, const skt_tls_connect_opts *o,
			 char *reason, size_t cap)
{
	*out = NULL;
	say(reason, cap, "");
	skt_tls_connect_opts dflt = SKT_TLS_CONNECT_OPTS_INIT;
	if (o == NULL)
		o = &dflt;
	if (ctx->role != SKT_TLS_CLIENT || host == NULL)
		return SKT_EINVAL;
	int64_t deadline = skt__deadline(o->timeout_ms);
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.family = o->family;
	co.timeout_ms = o->timeout_ms;
	co.report = o->report;
	int fd = skt_connect(host, service, &co);
	if (fd < 0) {
		say(reason, cap, skt_strerror(fd));
		return fd;
	}
	/* A bracketed or plain IPv6 literal names the same host to TLS. */
	return wrap(out, ctx, fd, host, o->sni, deadline, reason, cap);
}

int skt_tls_conn_accept(skt_conn **out, skt_tls_ctx *ctx, int fd,
			int timeout_ms, char *reason, size_t cap)
{
	*out = NULL;
	say(reason, cap, "");
	if (ctx->role != SKT_TLS_SERVER) {
		skt_close(fd);
		return SKT_EINVAL;
	}
	return wrap(out, ctx, fd, NULL, NULL, skt__deadline(timeout_ms), reason,
		    cap);
}

skt_tls *skt_conn_tls(const skt_conn *c)
{
	return skt__conn_tx_arg(c, &tls_tx);
}
