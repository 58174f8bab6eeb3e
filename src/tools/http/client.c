/* client.c - one HTTP/1.x client connection: connect (resolve, Happy
 * Eyeballs, TLS), send a request, read its response with the library's
 * codec and stream the body to a sink.
 *
 * Reading a response: HEAD (bytes gather in c->buf until
 * skt_http_resp_parse has a whole head; 1xx heads other than 101 are
 * passed on and skipped), then the body by its framing (RFC 9112 6.3):
 * none, Content-Length, chunked (skt_http_chunked_feed), or until the
 * close. What the head's buffer holds past the head is the body's start;
 * the rest is read in HTTPC_READ_MAX pieces into c->big and handed to the
 * sink as it arrives, so a body of any size costs the same memory. A
 * Content-Length body is never read past its end: the next response's
 * bytes stay in the socket.
 */
#include "tools/http/httpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A head starts in 16 KiB and may grow to the codec's limit plus one read
 * beyond it (as bench's buffer does). */
#define BUF_FIRST 16384
#define BUF_MAX   (SKT_HTTP_HEAD_MAX + 16384)
/* A request body from a file goes out in pieces of this size. */
#define SEND_PIECE (256 * 1024)

/* A client meets any server: a lone LF as a line end is taken (RFC 9112
 * 2.2 lets a recipient, curl does), and a line may be as long as the
 * head. Framing stays strict: a bad length or chunk is an error. */
static const skt_http_opts resp_opts = {.line_max = SKT_HTTP_HEAD_MAX,
					.bare_lf = true};

int64_t httpc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void httpc_conn_init(httpc_conn *c, const httpc_dial *d)
{
	memset(c, 0, sizeof(*c));
	c->dial = d;
	c->fd = -1;
}

void httpc_conn_close(httpc_conn *c)
{
	skt_tls_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		skt_close(c->fd);
	c->fd = -1;
	c->state = HTTPC_CLOSED;
}

void httpc_conn_free(httpc_conn *c)
{
	httpc_conn_close(c);
	skt_free(c->buf);
	skt_free(c->big);
	c->buf = c->big = NULL;
	c->cap = c->len = c->pos = 0;
}

bool httpc_conn_reusable(const httpc_conn *c, const httpc_url *u)
{
	return c->state == HTTPC_IDLE && c->https == u->https &&
	       c->port == u->port && strcasecmp(c->host, u->host) == 0;
}

void httpc_set_deadline(httpc_conn *c, int64_t at_us)
{
	c->deadline_us = at_us;
}

/* What a wait may last: ms (-1 none), cut to what --max-time leaves.
 * SKT_ETIMEDOUT once that is spent. */
static int wait_ms(const httpc_conn *c, int ms)
{
	if (c->deadline_us == 0)
		return ms;
	int64_t left = (c->deadline_us - httpc_now_us() + 999) / 1000;
	if (left <= 0)
		return SKT_ETIMEDOUT;
	return ms < 0 || left < ms
		       ? (int)(left > 0x7fffffff ? 0x7fffffff : left)
		       : ms;
}

/* One read: the count, 0 at the end (TLS: close_notify), or an error
 * (SKT_ETRUNCATED: a TLS end without close_notify). */
static ssize_t rd(httpc_conn *c, char *buf, size_t cap)
{
	int ms = wait_ms(c, c->dial->idle_ms);
	if (ms == SKT_ETIMEDOUT)
		return ms;
	if (c->tls != NULL)
		return skt_tls_read(c->tls, buf, cap, ms);
	return skt_recv(c->fd, buf, cap, ms);
}

static int wr(httpc_conn *c, const char *buf, size_t len)
{
	int ms = wait_ms(c, c->dial->idle_ms);
	if (ms == SKT_ETIMEDOUT)
		return ms;
	if (c->tls != NULL)
		return skt_tls_write_all(c->tls, buf, len, ms, NULL);
	return skt_send_all(c->fd, buf, len, ms, NULL);
}

/* The connect's own allowance (connect_ms, or none) from t0, cut by
 * --max-time; at least 1 ms, since 0 means "do not wait". */
static int connect_left(const httpc_conn *c, int64_t t0_us)
{
	int ms = c->dial->connect_ms;
	if (ms >= 0) {
		int64_t left = ms - (httpc_now_us() - t0_us) / 1000;
		ms = left < 1 ? 1 : (int)left;
	}
	ms = wait_ms(c, ms);
	return ms == SKT_ETIMEDOUT ? 1 : ms;
}

static int dial_fd(httpc_conn *c, const httpc_url *u, int64_t t0_us,
		   httpc_times *t, const char **stage)
{
	const httpc_dial *d = c->dial;
	if (d->unix_addr != NULL) {
		t->resolve_us = httpc_now_us() - t0_us;
		*stage = "connect";
		return skt_connect_one(d->unix_addr, SOCK_STREAM,
				       connect_left(c, t0_us));
	}
	if (d->proxy != NULL) {
		skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
		co.family = d->family;
		co.source = d->source;
		co.report = d->report;
		int ms = connect_left(c, t0_us);
		/* No connect timeout: the proxy still gets a bound. */
		int64_t deadline = httpc_now_us() / 1000 +
				   (ms < 0 ? PROXY_HANDSHAKE_MS : ms);
		t->resolve_us = httpc_now_us() - t0_us;
		*stage = "proxy";
		return proxy_open(d->pc, d->proxy, u->host, u->port, &co,
				  deadline);
	}
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)u->port);
	skt_addrlist l = {0};
	*stage = "resolve";
	int rc = skt_resolve(&l, u->host, port, d->family, SOCK_STREAM, 0);
	t->resolve_us = httpc_now_us() - t0_us;
	if (rc < 0)
		return rc;
	*stage = "connect";
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.family = d->family;
	co.timeout_ms = connect_left(c, t0_us);
	co.source = d->source;
	co.report = d->report;
	rc = skt_connect_any(l.addrs, l.n, &co);
	skt_addrlist_fini(&l);
	return rc;
}

int httpc_connect(httpc_conn *c, const httpc_url *u, int64_t t0_us,
		  httpc_times *t, const char **stage)
{
	httpc_conn_close(c);
	c->len = c->pos = 0;
	c->requests = 0;
	int fd = dial_fd(c, u, t0_us, t, stage);
	t->connect_us = httpc_now_us() - t0_us;
	t->tls_us = t->connect_us;
	if (fd < 0)
		return fd;
	c->fd = fd;
	if (skt_sock_peer(fd, &c->peer) < 0)
		memset(&c->peer, 0, sizeof(c->peer));
	if (u->https) {
		*stage = "tls";
		const httpc_dial *d = c->dial;
		if (d->tls == NULL)
			return SKT_EINVAL;
		int rc = skt_tls_new(&c->tls, d->tls, fd, u->host, d->sni);
		if (rc == 0)
			rc = skt_tls_handshake(c->tls, connect_left(c, t0_us));
		t->tls_us = httpc_now_us() - t0_us;
		if (rc < 0)
			return rc; /* c->tls kept for its reason */
	}
	c->https = u->https;
	c->port = u->port;
	snprintf(c->host, sizeof(c->host), "%s", u->host);
	c->state = HTTPC_IDLE;
	return 0;
}

static int send_file(httpc_conn *c, int fd)
{
	char *piece = skt_malloc(SEND_PIECE);
	if (piece == NULL)
		return SKT_ENOMEM;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, piece, SEND_PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		if ((rc = wr(c, piece, (size_t)n)) < 0)
			break;
	}
	skt_free(piece);
	return rc;
}

int httpc_send(httpc_conn *c, const char *head, size_t head_len,
	       const char *body, size_t body_len, int body_fd)
{
	c->state = HTTPC_BUSY;
	c->requests++;
	int rc = wr(c, head, head_len);
	if (rc == 0 && body != NULL && body_len > 0)
		rc = wr(c, body, body_len);
	else if (rc == 0 && body == NULL && body_fd >= 0)
		rc = send_file(c, body_fd);
	if (rc < 0)
		httpc_conn_close(c);
	return rc;
}

const skt_http_field *httpc_field(const httpc_resp *rp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < rp->nfields; i++)
		if (rp->fields[i].name_len == n &&
		    strncasecmp(rp->fields[i].name, name, n) == 0)
			return &rp->fields[i];
	return NULL;
}

/* Make room in c->buf for one more read: the unread bytes to the front,
 * then more memory, up to BUF_MAX. */
static int room(httpc_conn *c)
{
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len < c->cap)
		return 0;
	size_t cap = c->cap == 0 ? BUF_FIRST : c->cap * 2;
	if (cap > BUF_MAX)
		cap = BUF_MAX;
	if (cap <= c->len)
		return SKT_ETOOBIG; /* the parser says so first */
	char *p = skt_realloc(c->buf, cap);
	if (p == NULL)
		return SKT_ENOMEM;
	c->buf = p;
	c->cap = cap;
	return 0;
}

static void first_byte(int64_t t0_us, httpc_times *t)
{
	if (t->first_byte_us == 0)
		t->first_byte_us = httpc_now_us() - t0_us;
}

/* One head from c->buf[pos..), reading as needed. Returns 0 with the head
 * parsed into rp and c->pos past it, or an error. */
static int read_head(httpc_conn *c, bool to_head, httpc_resp *rp, int64_t t0_us,
		     httpc_times *t, bool *any)
{
	for (;;) {
		size_t nf = HTTPC_FIELDS_MAX;
		int n = skt_http_resp_parse(c->buf + c->pos, c->len - c->pos,
					    to_head, &resp_opts, &rp->r,
					    rp->fields, &nf);
		if (n > 0) {
			rp->nfields = nf;
			rp->head = c->buf + c->pos;
			rp->head_len = (size_t)n;
			c->pos += (size_t)n;
			return 0;
		}
		if (n != SKT_EAGAIN) {
			rp->why = rp->r.why;
			return n;
		}
		int rc = room(c);
		if (rc < 0)
			return rc;
		ssize_t got = rd(c, c->buf + c->len, c->cap - c->len);
		if (got == 0 || got == SKT_ETRUNCATED ||
		    (got == SKT_ECONNRESET && !*any))
			return *any || c->len > c->pos ? SKT_EPARTIAL : SKT_EOF;
		if (got < 0)
			return (int)got;
		first_byte(t0_us, t);
		*any = true;
		c->len += (size_t)got;
	}
}

static int deliver(const httpc_sink *s, httpc_resp *rp, const char *p, size_t n)
{
	rp->body_bytes += n;
	rp->wire_bytes += n;
	if (s->raw != NULL)
		return s->raw(s->arg, p, n);
	return n > 0 ? s->body(s->arg, p, n) : 0;
}

/* A piece of the body: from c->buf's unread bytes while there are any,
 * else one read of at most want bytes into c->big. */
static ssize_t body_piece(httpc_conn *c, size_t want, const char **p)
{
	if (c->pos < c->len) {
		size_t n = c->len - c->pos;
		*p = c->buf + c->pos;
		n = n < want ? n : want;
		c->pos += n;
		return (ssize_t)n;
	}
	if (c->big == NULL && (c->big = skt_malloc(HTTPC_READ_MAX)) == NULL)
		return SKT_ENOMEM;
	*p = c->big;
	return rd(c, c->big, want < HTTPC_READ_MAX ? want : HTTPC_READ_MAX);
}

static int body_length(httpc_conn *c, const httpc_sink *s, httpc_resp *rp)
{
	uint64_t left = (uint64_t)rp->length;
	while (left > 0) {
		const char *p;
		size_t want =
			left < HTTPC_READ_MAX ? (size_t)left : HTTPC_READ_MAX;
		ssize_t n = body_piece(c, want, &p);
		if (n == 0 || n == SKT_ETRUNCATED || n == SKT_ECONNRESET)
			return SKT_EPARTIAL;
		if (n < 0)
			return (int)n;
		int rc = deliver(s, rp, p, (size_t)n);
		if (rc < 0)
			return rc;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Feed p[0..n) to the chunked decoder, payload to the sink (raw: every
 * byte consumed). *used says how much belonged to the body. */
static int feed_chunks(skt_http_chunked *ch, const httpc_sink *s,
		       httpc_resp *rp, const char *p, size_t n, size_t *used)
{
	size_t off = 0;
	while (off < n && !ch->done) {
		const char *data;
		size_t dl;
		ssize_t k =
			skt_http_chunked_feed(ch, p + off, n - off, &data, &dl);
		if (k < 0) {
			rp->why = ch->why;
			return (int)k;
		}
		int rc = 0;
		rp->wire_bytes += (uint64_t)k;
		if (s->raw != NULL) {
			rp->body_bytes += dl;
			rc = s->raw(s->arg, p + off, (size_t)k);
		} else if (dl > 0) {
			rp->body_bytes += dl;
			rc = s->body(s->arg, data, dl);
		}
		if (rc < 0)
			return rc;
		off += (size_t)k;
		if (k == 0)
			break;
	}
	*used = off;
	return 0;
}

static int body_chunked(httpc_conn *c, const httpc_sink *s, httpc_resp *rp)
{
	skt_http_chunked ch;
	skt_http_chunked_init(&ch, &resp_opts);
	while (!ch.done) {
		const char *p;
		bool from_buf = c->pos < c->len;
		ssize_t n = body_piece(c, HTTPC_READ_MAX, &p);
		if (n == 0 || n == SKT_ETRUNCATED || n == SKT_ECONNRESET)
			return SKT_EPARTIAL;
		if (n < 0)
			return (int)n;
		size_t used = 0;
		int rc = feed_chunks(&ch, s, rp, p, (size_t)n, &used);
		if (rc < 0)
			return rc;
		if (used < (size_t)n) {
			/* The body ended inside this piece: the rest is the
			 * next response's (a server that answered ahead). */
			size_t rest = (size_t)n - used;
			if (from_buf) {
				c->pos -= rest;
			} else {
				c->len = c->pos = 0;
				if ((rc = room(c)) < 0)
					return rc;
				if (rest > c->cap)
					return SKT_ETOOBIG;
				memcpy(c->buf, p + used, rest);
				c->len = rest;
			}
		}
	}
	return 0;
}

static int body_close(httpc_conn *c, const httpc_sink *s, httpc_resp *rp)
{
	for (;;) {
		const char *p;
		ssize_t n = body_piece(c, HTTPC_READ_MAX, &p);
		if (n == 0)
			return 0;
		if (n < 0)
			return (int)n; /* SKT_ETRUNCATED: no clean end */
		int rc = deliver(s, rp, p, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

static int head_out(const httpc_sink *s, const httpc_resp *rp, bool final)
{
	if (s->raw != NULL)
		return s->raw(s->arg, rp->head, rp->head_len);
	return s->head != NULL ? s->head(s->arg, rp->head, rp->head_len, final)
			       : 0;
}

static int exchange(httpc_conn *c, bool to_head, const httpc_sink *s,
		    httpc_resp *rp, int64_t t0_us, httpc_times *t)
{
	bool any = false;
	int rc;
	for (;;) {
		if ((rc = read_head(c, to_head, rp, t0_us, t, &any)) < 0)
			return rc;
		rp->head_bytes += rp->head_len;
		rp->wire_bytes += rp->head_len;
		bool final = rp->r.status >= 200 || rp->r.status == 101;
		if ((rc = head_out(s, rp, final)) < 0)
			return rc;
		if (final)
			break;
	}
	const skt_http_resp *r = &rp->r;
	if (r->no_body || r->status == 101) {
		rp->framing = HTTPC_BODY_NONE;
		return 0;
	}
	if (r->chunked) {
		rp->framing = HTTPC_BODY_CHUNKED;
		return body_chunked(c, s, rp);
	}
	if (r->content_length >= 0) {
		rp->framing = HTTPC_BODY_LENGTH;
		rp->length = rp->r.content_length;
		rp->expected = (uint64_t)rp->length;
		return body_length(c, s, rp);
	}
	rp->framing = HTTPC_BODY_CLOSE;
	return body_close(c, s, rp);
}

int httpc_exchange(httpc_conn *c, bool to_head, const httpc_sink *sink,
		   httpc_resp *rp, int64_t t0_us, httpc_times *t)
{
	memset(rp, 0, sizeof(*rp));
	rp->length = -1;
	rp->why = SKT_HTTP_OK;
	int rc = exchange(c, to_head, sink, rp, t0_us, t);
	t->total_us = httpc_now_us() - t0_us;
	if (rc < 0 || rp->r.close || rp->framing == HTTPC_BODY_CLOSE ||
	    rp->r.status == 101)
		httpc_conn_close(c);
	else
		c->state = HTTPC_IDLE;
	return rc;
}
