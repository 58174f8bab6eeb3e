/* http.c - hello: the smallest useful HTTP/1.1 server (RFC 9110, 9112),
 * answering every request with "200 OK" and "Hello, world!", so that ab
 * and wrk can measure the loop against nginx's `return 200`.
 *
 * What it does take seriously, because load generators and real clients
 * depend on it: persistent connections (HTTP/1.1 by default, HTTP/1.0
 * only with "Connection: keep-alive", as ab -k sends; "Connection: close"
 * honoured), pipelined requests answered in order, request bodies with
 * Content-Length read and thrown away (with "100 Continue" when asked),
 * limits on the head (a line, the whole head, the number of fields) and a
 * clear status for each failure: 400, 413, 414, 431, 501 (chunked bodies
 * are not supported), 505. An error answer ends the connection.
 *
 * A request's states: REQUEST_LINE (empty lines before it are skipped,
 * RFC 9112 2.2), FIELDS (until the empty line), BODY (discarding
 * Content-Length bytes). After the answer: REQUEST_LINE again, or, when
 * the answer is above the stream's high-water mark (a client pipelining
 * without reading), no read at all until the queue is sent (a flush mark,
 * as in echo.c) - the client is then held
 * back by TCP, not by our memory.
 */
#include "tools/serve/services.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LINE_MAX_HTTP 8192   /* one line of the head: nginx's default */
#define HEAD_MAX 32768       /* the whole head */
#define FIELDS_MAX 100
#define BODY_MAX ((uint64_t)64 << 20) /* discarded, but not forever */
#define BODY_CHUNK 65536

static const char hello_body[] = "Hello, world!\n";

enum { REQUEST_LINE, FIELDS, BODY };

struct req {
	uint8_t state;
	bool v10;          /* HTTP/1.0: close unless keep-alive is asked */
	bool close;        /* Connection: close */
	bool keep_alive;   /* Connection: keep-alive */
	bool head;         /* HEAD: the answer has no body */
	bool expect;       /* Expect: 100-continue */
	bool has_length;
	bool paused;
	unsigned fields;
	size_t head_bytes;
	uint64_t body_left;
};

struct hello_worker {
	time_t date_at;
	char date[40]; /* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7) */
};

static int hello_worker_new(skt_server_worker *w, void **state)
{
	*state = skt_calloc(1, sizeof(struct hello_worker));
	return *state == NULL ? SKT_ENOMEM : 0;
}

static void hello_worker_free(void *state)
{
	skt_free(state);
}

/* The Date field, formatted once a second per worker (as nginx does). */
static const char *date_now(skt_server_worker *w)
{
	struct hello_worker *hw = skt_server_worker_state(w);
	time_t now = time(NULL);
	if (now != hw->date_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(hw->date, sizeof(hw->date),
			 "%a, %d %b %Y %H:%M:%S GMT", &tm);
		hw->date_at = now;
	}
	return hw->date;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	default: return "HTTP Version Not Supported";
	}
}

/* The whole answer in buf: one write, so one send for most answers. */
static size_t answer(skt_server_conn *c, int status, bool keep, char *buf,
		     size_t cap)
{
	struct req *q = skt_server_conn_state(c);
	char err_body[64];
	const char *body = hello_body;
	if (status != 200) {
		snprintf(err_body, sizeof(err_body), "%d %s\n", status,
			 reason(status));
		body = err_body;
	}
	size_t blen = strlen(body);
	const char *conn = !keep ? "Connection: close\r\n"
		: q->v10 ? "Connection: keep-alive\r\n" : "";
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: sockit\r\nDate: %s\r\n"
			 "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "%s\r\n%s",
			 status, reason(status), date_now(c->w), blen, conn,
			 q->head && status == 200 ? "" : body);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* An error ends the connection after its answer, gracefully. A size
 * limit that was hit (limit > 0) is named in the close event. */
static void fail(skt_server_conn *c, int status, size_t limit)
{
	char buf[512];
	if (limit > 0) {
		c->end = SKT_SERVER_END_TOOBIG;
		c->limit = limit;
	}
	skt_server_conn_tell(c, buf, answer(c, status, false, buf, sizeof(buf)));
}

static void on_line(skt_stream *s, int status, const uint8_t *data,
		    size_t len);

static void next_request(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	bool paused = q->paused;
	*q = (struct req){.paused = paused};
	skt_server_conn_set_head(c, !paused); /* paused: not waiting yet */
	if (!paused)
		skt_stream_read_line(c->s, LINE_MAX_HTTP, on_line);
}

static void on_sent(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct req *q = skt_server_conn_state(c);
	if (status != 0 || !q->paused)
		return;
	q->paused = false;
	skt_server_conn_set_head(c, q->state == REQUEST_LINE);
	if (q->state == REQUEST_LINE)
		skt_stream_read_line(s, LINE_MAX_HTTP, on_line);
}

static void respond(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	bool keep = !q->close && (!q->v10 || q->keep_alive);
	char buf[512];
	size_t n = answer(c, 200, keep, buf, sizeof(buf));
	if (!keep) {
		skt_server_conn_tell(c, buf, n);
		return;
	}
	int r = skt_server_conn_write(c, buf, n);
	if (r < 0)
		return;
	/* Out of memory for the flush mark: go on rather than stall. */
	q->paused = r == 1 && skt_stream_flush(c->s, on_sent) == 0;
	next_request(c);
}

/* ---- Parsing ---- */

static bool tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static size_t token_len(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] != '\0' && tchar(p[i]))
		i++;
	return i;
}

/* "METHOD SP TARGET SP HTTP/x.y" (RFC 9112 3). Returns 0 or a status. */
static int request_line(struct req *q, const char *p, size_t n)
{
	size_t m = token_len(p, n);
	if (m == 0 || m == n || p[m] != ' ')
		return 400;
	q->head = m == 4 && memcmp(p, "HEAD", 4) == 0;
	const char *t = p + m + 1;
	const char *sp = memchr(t, ' ', n - m - 1);
	if (sp == NULL || sp == t)
		return 400;
	for (const char *x = t; x < sp; x++)
		if ((unsigned char)*x <= ' ' || *x == 0x7f)
			return 400;
	const char *v = sp + 1;
	size_t vlen = n - (size_t)(v - p);
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1')
		return 505;
	q->v10 = v[7] == '0'; /* 1.2 and later minors are answered as 1.1 */
	return 0;
}

/* Each comma-separated option of a Connection field. */
static void connection_options(struct req *q, const char *v, size_t n)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t len = comma != NULL ? (size_t)(comma - v) : n;
		size_t a = 0, b = len;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == 5 && strncasecmp(v + a, "close", 5) == 0)
			q->close = true;
		if (b - a == 10 && strncasecmp(v + a, "keep-alive", 10) == 0)
			q->keep_alive = true;
		n -= comma != NULL ? len + 1 : len;
		v += comma != NULL ? len + 1 : len;
	}
}

static int content_length(struct req *q, const char *v, size_t n)
{
	uint64_t len = 0;
	if (n == 0)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		if (len > BODY_MAX)
			return 413; /* checked before it can overflow */
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	if (len > BODY_MAX)
		return 413;
	if (q->has_length && q->body_left != len)
		return 400; /* RFC 9112 6.3: differing lengths */
	q->has_length = true;
	q->body_left = len;
	return 0;
}

/* "name: value" (RFC 9112 5). Returns 0 or a status. */
static int field(struct req *q, const char *p, size_t n)
{
	if (++q->fields > FIELDS_MAX)
		return 431;
	size_t name = token_len(p, n);
	/* No name, no colon right after it (whitespace there is an attack
	 * vector, 5.1), or a folded line (obs-fold, 5.2): all rejected. */
	if (name == 0 || name == n || p[name] != ':')
		return 400;
	const char *v = p + name + 1;
	size_t vn = n - name - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (name == 10 && strncasecmp(p, "connection", 10) == 0)
		connection_options(q, v, vn);
	else if (name == 14 && strncasecmp(p, "content-length", 14) == 0)
		return content_length(q, v, vn);
	else if (name == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
		return 501;
	else if (name == 6 && strncasecmp(p, "expect", 6) == 0)
		q->expect = vn == 12 && strncasecmp(v, "100-continue", 12) == 0;
	return 0;
}

/* ---- Reading ---- */

/* A body is read in pieces, so that its size never sets our memory. */
static size_t body_chunk(const struct req *q)
{
	return q->body_left < BODY_CHUNK ? (size_t)q->body_left : BODY_CHUNK;
}

static void on_body(skt_stream *s, int status, const uint8_t *data,
		    size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct req *q = skt_server_conn_state(c);
	if (status != 0) {
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	q->body_left -= len;
	if (q->body_left == 0) {
		respond(c);
		return;
	}
	skt_stream_read_exact(s, body_chunk(q), on_body);
}

static void end_of_head(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	skt_server_conn_set_head(c, false);
	if (q->body_left == 0) {
		respond(c);
		return;
	}
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (q->expect && !q->v10 &&
	    skt_server_conn_write(c, cont, sizeof(cont) - 1) < 0)
		return;
	q->state = BODY;
	skt_stream_read_exact(c->s, body_chunk(q), on_body);
}

static void on_line(skt_stream *s, int status, const uint8_t *data,
		    size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct req *q = skt_server_conn_state(c);
	if (status == SKT_ETOOBIG) {
		fail(c, q->state == REQUEST_LINE ? 414 : 431, LINE_MAX_HTTP);
		return;
	}
	if (status != 0) {
		if (status == SKT_EOF || status == SKT_EPARTIAL)
			skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	q->head_bytes += len;
	const char *p = (const char *)data;
	size_t n = len - 1; /* the LF, then a CR before it */
	if (n > 0 && p[n - 1] == '\r')
		n--;
	int err = 0;
	if (q->head_bytes > HEAD_MAX) {
		fail(c, 431, HEAD_MAX);
		return;
	} else if (q->state == REQUEST_LINE && n == 0) {
		q->head_bytes = 0; /* a stray CRLF between requests */
	} else if (q->state == REQUEST_LINE) {
		err = request_line(q, p, n);
		q->state = FIELDS;
	} else if (n == 0) {
		end_of_head(c);
		return;
	} else {
		err = field(q, p, n);
	}
	if (err != 0)
		fail(c, err, 0);
	else
		skt_stream_read_line(s, LINE_MAX_HTTP, on_line);
}

static int hello_open(skt_server_conn *c)
{
	skt_server_conn_set_head(c, true);
	return skt_stream_read_line(c->s, LINE_MAX_HTTP, on_line);
}

const skt_service svc_hello = {
	.name = "hello",
	.what = "HTTP/1.1 \"Hello, world!\" with keep-alive, for ab and wrk",
	.port = 8080,
	.flags = SKT_SERVICE_TCP,
	.idle_s = 60,
	.conn_size = sizeof(struct req),
	.worker_new = hello_worker_new,
	.worker_free = hello_worker_free,
	.open = hello_open,
	.datagram = NULL,
};
