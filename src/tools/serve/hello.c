/* hello.c - hello: the smallest useful HTTP/1.1 server (RFC 9110, 9112),
 * answering every request with "200 OK" and "Hello, world!", so that ab
 * and wrk can measure the loop against nginx's `return 200`.
 *
 * What it does take seriously, because load generators and real clients
 * depend on it: persistent connections (HTTP/1.1 by default, HTTP/1.0
 * only with "Connection: keep-alive", as ab -k sends; "Connection: close"
 * honoured), pipelined requests answered in order, request bodies
 * (Content-Length or chunked) read and thrown away (with "100 Continue"
 * when asked), and the strict RFC 9112 rules of the library's codec: a
 * request that breaks one is answered with its status (400 generally, 413,
 * 414, 431, 501, 505) and the connection ends, never repaired. The
 * requests themselves are handled in hello_conn.c, pure code; this file
 * moves bytes between it and the stream.
 *
 * A connection's states: READING (every chunk that arrives goes to
 * hello_conn_input) and PAUSED (an answer left the queue above the
 * stream's high-water mark, a client pipelining without reading: no read
 * until the queue is sent, a flush mark as in echo.c, so that the client
 * is held back by TCP, not by our memory). An answer that ends the
 * connection hands it to skt_server_conn_tell.
 *
 * The server is told when a connection waits for a request head
 * (skt_server_conn_set_head), so that a head trickled in byte by byte
 * meets the head deadline and an idle waiting connection can be shed
 * when the server is full: at open, and again after each answer, but not
 * while paused behind our own unsent answers (those are ours to send,
 * not the client's to finish).
 */
#include "tools/serve/hello_conn.h"
#include "tools/serve/services.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char hello_body[] = "Hello, world!\n";

struct req {
	hello_conn h;
	bool paused;
	bool waiting;  /* the server was told: waiting for a head */
	bool answered; /* an answer went out since the server was told */
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
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	default:
		return "HTTP Version Not Supported";
	}
}

/* The whole answer in buf: one write, so one send for most answers. */
static size_t answer(skt_server_conn *c, const hello_answer *a, char *buf,
		     size_t cap)
{
	if (a->status == 100) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		memcpy(buf, cont, sizeof(cont) - 1);
		return sizeof(cont) - 1;
	}
	char err_body[160];
	const char *body = hello_body;
	if (a->status != 200 && a->why != SKT_HTTP_OK) {
		/* The rule broken, so that whoever wrote the client knows. */
		snprintf(err_body, sizeof(err_body), "%d %s: %s\n", a->status,
			 reason(a->status), skt_http_rule_str(a->why));
		body = err_body;
	} else if (a->status != 200) {
		snprintf(err_body, sizeof(err_body), "%d %s\n", a->status,
			 reason(a->status));
		body = err_body;
	}
	size_t blen = strlen(body);
	const char *conn = !a->keep ? "Connection: close\r\n"
			   : a->v10 ? "Connection: keep-alive\r\n"
				    : "";
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: sockit\r\nDate: %s\r\n"
			 "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "%s\r\n%s",
			 a->status, reason(a->status), date_now(c->w), blen,
			 conn, a->head ? "" : body);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void on_data(skt_stream *s, int status, const uint8_t *data, size_t len);

static void on_sent(skt_stream *s, int status);

/* One answer out. An answer that ends the connection goes with
 * skt_server_conn_tell (a size limit that was hit is named in the close
 * event); one that leaves the queue above the high-water mark pauses
 * reading until the queue is sent. Returns whether to go on. */
static bool emit(void *arg, const hello_answer *a)
{
	skt_server_conn *c = arg;
	struct req *q = skt_server_conn_state(c);
	char buf[512];
	size_t n = answer(c, a, buf, sizeof(buf));
	if (!a->keep) {
		if (a->limit > 0) {
			c->end = SKT_SERVER_END_TOOBIG;
			c->limit = a->limit;
		}
		skt_server_conn_tell(c, buf, n);
		return false;
	}
	int r = skt_server_conn_write(c, buf, n);
	if (r < 0)
		return false; /* the stream is closing */
	if (a->status != 100)
		q->answered = true;
	/* Out of memory for the flush mark: go on rather than stall. */
	if (r == 1 && skt_stream_flush(c->s, on_sent) == 0) {
		q->paused = true;
		return false;
	}
	return true;
}

/* Tell the server whether c now waits for a head. Only a change, or a
 * new head after an answer, is told: a head that trickles in must not
 * restart its own deadline. */
static void mark_head(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	bool waiting = !q->paused && hello_conn_in_head(&q->h);
	if (waiting != q->waiting || (waiting && q->answered))
		skt_server_conn_set_head(c, waiting);
	q->waiting = waiting;
	q->answered = false;
}

/* After hello_conn_input: stop reading while paused; out of memory for
 * a partial head ends the connection. */
static void after(skt_server_conn *c, int rc)
{
	struct req *q = skt_server_conn_state(c);
	if (rc == SKT_ENOMEM) {
		skt_stream_close(c->s);
		return;
	}
	if (rc == HELLO_STOPPED && q->paused)
		skt_stream_read_stop(c->s);
	if (rc != HELLO_CLOSED)
		mark_head(c);
}

static void on_sent(skt_stream *s, int status)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct req *q = skt_server_conn_state(c);
	if (status != 0 || !q->paused)
		return;
	q->paused = false;
	/* What arrived with the request that paused comes first. */
	int rc = hello_conn_input(&q->h, NULL, 0, emit, c);
	if (rc == HELLO_MORE)
		skt_stream_read_start(s, on_data);
	after(c, rc);
}

static void on_data(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	struct req *q = skt_server_conn_state(c);
	if (status != 0) {
		if (status == SKT_EOF || status == SKT_EPARTIAL)
			skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	after(c, hello_conn_input(&q->h, (const char *)data, len, emit, c));
}

static int hello_open(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	hello_conn_init(&q->h);
	q->waiting = true;
	skt_server_conn_set_head(c, true);
	return skt_stream_read_start(c->s, on_data);
}

static void hello_closed(skt_server_conn *c)
{
	struct req *q = skt_server_conn_state(c);
	hello_conn_fini(&q->h);
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
	.closed = hello_closed,
	.datagram = NULL,
};
