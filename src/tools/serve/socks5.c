/* socks5.c - `sockit serve socks5`: a SOCKS5 server (RFC 1928), CONNECT
 * only, no authentication or RFC 1929 user/password (--proxy-user), on the
 * server's loops like every service: the handshake is the pure codec of
 * tools/proxy (socks5_srv), the target is connected without blocking
 * (skt_stream_connect), and the bytes are relayed both ways with
 * half-close.
 *
 * A tunnel's states:
 *   HANDSHAKE   reading the greeting, credentials and request; the
 *               server's head deadline (--header-timeout) runs, so a
 *               client that stalls is closed, and while max-conns is full
 *               such a connection may be shed;
 *   CONNECTING  the request is read and reading stops; the target is
 *               being connected (a name resolved first), still under the
 *               head deadline; bytes the client sent after its request
 *               are queued for the target;
 *   OPEN        the reply is sent; each direction copies until its end of
 *               stream, then half-closes the other side; the idle timeout
 *               (--idle-timeout) holds on both streams. The tunnel ends
 *               when both directions are done, or with a reset on one side
 *               passed on to the other as a reset.
 * Flow control, as echo.c: a write that leaves the other stream's queue
 * above its high-water mark stops reading until that queue is sent.
 *
 * Target addresses: IPv4 and IPv6 addresses are connected at once; a name
 * (numeric or not) goes to skt_stream_connect_host, which resolves it on
 * the library's resolver pool, never on the loop (a hung resolver stalls
 * only the tunnels waiting for it), and races its addresses with Happy
 * Eyeballs, all within the head deadline; a name that does not resolve
 * gets reply 4 (host unreachable). A client that leaves meanwhile
 * cancels the lookup.
 */
#include "tools/proxy/proxy.h"
#include "tools/serve/services.h"

#include <stdio.h>
#include <string.h>

enum { HANDSHAKE, CONNECTING, OPEN };

struct tunnel {
	skt_server_conn *c;
	skt_stream *t; /* the target's, or NULL */
	int state;
	bool c_eof, t_eof; /* each side's end of stream came */
	socks5_srv h;
	skt_connecting *lookup; /* a name's connect in flight, or NULL */
	uint8_t *rest;          /* the client's bytes after its request, */
	size_t rest_len;        /* kept for the target while a name resolves */
};

static void client_data(skt_stream *s, int status, const uint8_t *data,
			size_t len);
static void target_data(skt_stream *s, int status, const uint8_t *data,
			size_t len);

/* ---- OPEN: the relay ---- */

static void both_done(struct tunnel *k)
{
	if (k->c_eof && k->t_eof) {
		skt_stream_close(k->t);
		skt_stream_close(k->c->s);
	}
}

static void client_resume(skt_stream *t, int status)
{
	struct tunnel *k = skt_stream_udata(t);
	if (status == 0 && !k->c_eof)
		skt_stream_read_start(k->c->s, client_data);
}

static void target_resume(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct tunnel *k = skt_server_conn_state(c);
	if (status == 0 && k->t != NULL && !k->t_eof)
		skt_stream_read_start(k->t, target_data);
}

static void client_data(skt_stream *s, int status, const uint8_t *data,
			size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct tunnel *k = skt_server_conn_state(c);
	if (status == SKT_EOF || status == SKT_EPARTIAL) {
		k->c_eof = true;
		skt_stream_shutdown(k->t);
		both_done(k);
		return;
	}
	if (status != 0) { /* a reset or the idle timeout: c is closed */
		skt_stream_abort(k->t);
		return;
	}
	skt_server_conn_got(c, len);
	if (skt_stream_write(k->t, data, len) == 1 &&
	    skt_stream_flush(k->t, client_resume) == 0)
		skt_stream_read_stop(s);
}

static void target_data(skt_stream *t, int status, const uint8_t *data,
			size_t len)
{
	struct tunnel *k = skt_stream_udata(t);
	skt_server_conn *c = k->c;
	if (status == SKT_EOF || status == SKT_EPARTIAL) {
		k->t_eof = true;
		skt_stream_shutdown(c->s);
		both_done(k);
		return;
	}
	if (status != 0) {
		skt_stream_abort(c->s);
		return;
	}
	if (skt_server_conn_write(c, data, len) == 1 &&
	    skt_stream_flush(c->s, target_resume) == 0)
		skt_stream_read_stop(t);
}

/* ---- HANDSHAKE and CONNECTING ---- */

/* Send what the codec answered (maybe nothing), then end gracefully. */
static void refuse(struct tunnel *k)
{
	if (k->h.out_len > 0)
		skt_server_conn_tell(k->c, k->h.out, k->h.out_len);
	else
		skt_stream_close(k->c->s);
}

/* The target is connected (k->t): reply, then relay both ways. */
static void open_tunnel(struct tunnel *k)
{
	skt_server_conn *c = k->c;
	skt_stream *t = k->t;
	skt_addr bound;
	bool have = skt_sock_local(skt_stream_fd(t), &bound) == 0;
	socks5_srv_reply(&k->h, S5_OK, have ? &bound : NULL);
	skt_server_conn_set_head(c, false);
	k->state = OPEN;
	int idle = skt_server_worker_opts(c->w)->idle_ms;
	if (idle > 0)
		skt_stream_set_timeouts(t, idle, 0);
	if (skt_server_conn_write(c, k->h.out, k->h.out_len) < 0 ||
	    skt_stream_read_start(t, target_data) < 0 ||
	    skt_stream_read_start(c->s, client_data) < 0) {
		skt_stream_abort(t);
		skt_stream_abort(c->s);
	}
}

static void connect_failed(struct tunnel *k, int status)
{
	socks5_srv_reply(&k->h, socks5_srv_rep_for(status), NULL);
	refuse(k);
}

static void connected(skt_stream *t, int status)
{
	struct tunnel *k = skt_stream_udata(t);
	if (status != 0) {
		skt_stream_free(t); /* safe in its own callback */
		k->t = NULL;
		connect_failed(k, status);
		return;
	}
	open_tunnel(k);
}

/* A name's connect ended: t is the target's open stream, or NULL with
 * the error (the resolver's, the deadline's or the last attempt's). */
static void connected_host(skt_stream *t, int status, void *arg)
{
	struct tunnel *k = arg;
	k->lookup = NULL;
	uint8_t *rest = k->rest;
	size_t n = k->rest_len;
	k->rest = NULL;
	k->rest_len = 0;
	if (status != 0) {
		skt_free(rest);
		connect_failed(k, status);
		return;
	}
	k->t = t;
	skt_stream_set_udata(t, k);
	int rc = n > 0 ? skt_stream_write(t, rest, n) : 0;
	skt_free(rest);
	if (rc < 0) {
		skt_stream_abort(t);
		skt_stream_abort(k->c->s);
		return;
	}
	open_tunnel(k);
}

/* The request's target as an address, when it is one (an address, or a
 * numeric name). Returns an S5_* reply code. */
static int target_addr(const socks5_srv *h, skt_addr *a)
{
	if (skt_addr_from_ip(a, h->host, h->port) == 0)
		return S5_OK;
	return S5_ATYP_UNSUPPORTED;
}

/* A name: resolved on the library's resolver pool and raced with Happy
 * Eyeballs (skt_stream_connect_host), never blocking the loop; the head
 * deadline bounds it. rest waits in a copy until the target exists. */
static int start_connect_host(struct tunnel *k, const uint8_t *rest, size_t n)
{
	skt_server_conn *c = k->c;
	if (n > 0) {
		k->rest = skt_malloc(n);
		if (k->rest == NULL)
			return SKT_ENOMEM;
		memcpy(k->rest, rest, n);
		k->rest_len = n;
	}
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)k->h.port);
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = skt_server_worker_opts(c->w)->header_timeout_ms;
	int rc = skt_stream_connect_host(skt_server_worker_loop(c->w),
					 k->h.host, port, &o, connected_host, k,
					 &k->lookup);
	if (rc < 0) {
		skt_free(k->rest);
		k->rest = NULL;
		k->rest_len = 0;
	}
	return rc;
}

/* The request is read: connect without blocking; the client's bytes
 * after the request (rest) wait for the target. */
static void start_connect(struct tunnel *k, const uint8_t *rest, size_t n)
{
	skt_server_conn *c = k->c;
	skt_stream_read_stop(c->s);
	skt_addr a;
	int rc;
	bool name = k->h.atyp == 3 && target_addr(&k->h, &a) != S5_OK;
	if (name)
		rc = start_connect_host(k, rest, n);
	else if (target_addr(&k->h, &a) != S5_OK)
		rc = SKT_EAFNOSUPPORT;
	else
		rc = skt_stream_connect(skt_server_worker_loop(c->w), &k->t, &a,
					connected);
	if (rc < 0) {
		connect_failed(k, rc);
		return;
	}
	k->state = CONNECTING;
	if (name)
		return;
	skt_stream_set_udata(k->t, k);
	if (n > 0 && skt_stream_write(k->t, rest, n) < 0)
		skt_stream_abort(c->s);
}

static void handshake_data(skt_stream *s, int status, const uint8_t *data,
			   size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct tunnel *k = skt_server_conn_state(c);
	if (k->state == OPEN)
		return client_data(s, status, data, len);
	if (status != 0) {
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	size_t off = 0;
	while (off < len) {
		ssize_t used = socks5_srv_feed(&k->h, data + off, len - off);
		if (used < 0 || k->h.state == S5_CLOSE) {
			refuse(k);
			return;
		}
		if (k->h.out_len > 0 &&
		    skt_server_conn_write(c, k->h.out, k->h.out_len) < 0)
			return;
		off += (size_t)used;
		if (k->h.state == S5_CONNECT) {
			start_connect(k, data + off, len - off);
			return;
		}
	}
}

static int socks5_open(skt_server_conn *c)
{
	struct tunnel *k = skt_server_conn_state(c);
	const svc_socks5_opts *o = skt_server_worker_opts(c->w)->service_arg;
	k->c = c;
	socks5_srv_init(&k->h, o != NULL ? o->user : NULL,
			o != NULL ? o->pass : NULL);
	skt_server_conn_set_head(c, true);
	return skt_stream_read_start(c->s, handshake_data);
}

static void socks5_closed(skt_server_conn *c)
{
	struct tunnel *k = skt_server_conn_state(c);
	if (k->lookup != NULL) /* the client left while a name resolved */
		skt_connecting_cancel(k->lookup);
	k->lookup = NULL;
	skt_free(k->rest);
	k->rest = NULL;
	/* A tunnel cut short (the client's reset, a timeout, the drain's
	 * deadline) resets the target too. */
	if (k->t != NULL && !(k->c_eof && k->t_eof))
		skt_stream_abort(k->t);
	skt_stream_free(k->t);
	k->t = NULL;
}

const skt_service svc_socks5 = {
	.name = "socks5",
	.what = "a SOCKS5 proxy (RFC 1928): CONNECT, optional user and "
		"password",
	.port = 1080,
	.flags = SKT_SERVICE_TCP,
	.idle_s = 300,
	.conn_size = sizeof(struct tunnel),
	.open = socks5_open,
	.closed = socks5_closed,
};
