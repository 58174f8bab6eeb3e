/* http.c - HTTP/1.1 requests: the request bytes are sent as given
 * (pipelined when asked), each response head is parsed (the library's
 * codec, sockit/http.h) and its
 * body read to the length it announces, so that every response is
 * checked: the expected status, a body of exactly Content-Length bytes
 * (or well-formed chunks, or up to the close the response announced).
 *
 * Reading a response (c->rstate): HEAD (waiting for the whole head in
 * c->buf), BODY (c->body_left bytes of Content-Length), CHUNKED,
 * UNTIL_CLOSE (a body ended by the server's close). A response's bytes,
 * head, body and chunk framing, are counted (bytes_in is whole responses,
 * as wrk's figure is) and dropped; only heads are kept in the buffer. */
#include "tools/bench/bench_int.h"

#include <string.h>

enum { HTTP_HEAD, HTTP_BODY, HTTP_CHUNKED, HTTP_UNTIL_CLOSE };

#define BUF_FIRST 16384
/* Room for the largest head the parser accepts, and a read beyond it. */
#define BUF_MAX (SKT_HTTP_HEAD_MAX + 16384)
/* Fields of one response head; the 101st is an error. */
#define FIELDS_MAX 100

/* A load generator meets any server: a lone LF as a line end is taken
 * (RFC 9112 2.2 lets a recipient), and a line may be as long as the head. */
static const skt_http_opts resp_opts = {.line_max = SKT_HTTP_HEAD_MAX,
					.bare_lf = true};

static int http_issue(bench_conn *c, bench_slot *s)
{
	c->want += c->w->o->request_len;
	return 0;
}

static bool status_ok(const bench_opts *o, int status)
{
	return o->status != 0 ? status == o->status
			      : status >= 200 && status < 300;
}

/* The response in front is complete. Returns false when that closed c. */
static bool finish(bench_conn *c, int64_t now)
{
	int fd = c->fd;
	bench_slot *s = &c->slots[c->completed % c->w->o->pipeline];
	c->rstate = HTTP_HEAD;
	/* A response that ends the connection takes no successor with it. */
	c->draining = c->close_after;
	if (c->status_good)
		bench_complete(c, s, now);
	else
		bench_lost(c, s, BENCH_E_BAD_STATUS);
	if (c->fd != fd || c->state != CONN_UP)
		return false;
	if (c->close_after) {
		bench_recycle(c);
		return false;
	}
	return true;
}

/* Parse one head at the front of c->buf. Returns its length, 0 when more
 * is needed, or -1 when c failed. */
static long head(bench_conn *c)
{
	const bench_opts *o = c->w->o;
	skt_http_field fields[FIELDS_MAX];
	size_t nfields = FIELDS_MAX;
	skt_http_resp r;
	/* The answers to HEAD have no body (RFC 9110 9.3.2). */
	int n = skt_http_resp_parse(c->buf, c->len, o->no_body, &resp_opts, &r,
				    fields, &nfields);
	if (n == SKT_EAGAIN)
		return 0;
	if (n < 0 || c->inflight == 0) {
		bench_fail(c, BENCH_E_BAD_RESPONSE);
		return -1;
	}
	c->status_good = status_ok(o, r.status);
	c->answer_status = r.status;
	c->close_after = r.close;
	if (r.no_body) {
		c->rstate = HTTP_HEAD;
		c->body_left = 0;
	} else if (r.chunked) {
		c->rstate = HTTP_CHUNKED;
		skt_http_chunked_init(&c->chunked, &resp_opts);
	} else if (r.content_length >= 0) {
		c->rstate = HTTP_BODY;
		c->body_left = (uint64_t)r.content_length;
	} else {
		c->rstate = HTTP_UNTIL_CLOSE;
		c->close_after = true;
	}
	return n;
}

/* Take what c->buf holds, from its front. Returns false when c closed. */
static bool consume(bench_conn *c, int64_t now)
{
	size_t pos = 0;
	bool ok = true;
	while (ok && pos < c->len) {
		size_t avail = c->len - pos;
		if (c->rstate == HTTP_HEAD) {
			memmove(c->buf, c->buf + pos, avail);
			c->len = avail;
			pos = 0;
			long n = head(c);
			if (n <= 0)
				return n == 0;
			pos = (size_t)n;
			c->answer_bytes += (size_t)n;
			if (c->rstate == HTTP_HEAD ||
			    (c->rstate == HTTP_BODY && c->body_left == 0))
				ok = finish(c, now);
		} else if (c->rstate == HTTP_BODY) {
			size_t take = avail < c->body_left
					      ? avail
					      : (size_t)c->body_left;
			pos += take;
			c->body_left -= take;
			c->answer_bytes += take;
			if (c->body_left == 0)
				ok = finish(c, now);
		} else if (c->rstate == HTTP_CHUNKED) {
			ssize_t n = skt_http_chunked_feed(
				&c->chunked, c->buf + pos, avail, NULL, NULL);
			if (n < 0) {
				bench_fail(c, BENCH_E_BAD_RESPONSE);
				return false;
			}
			pos += (size_t)n;
			c->answer_bytes += (size_t)n;
			if (c->chunked.done)
				ok = finish(c, now);
		} else {
			c->answer_bytes += avail;
			pos = c->len;
		}
	}
	if (ok)
		c->len = 0;
	return ok;
}

static int grow(bench_conn *c)
{
	if (c->cap >= BUF_MAX)
		return BENCH_E_BAD_RESPONSE; /* cannot happen: the parser
						     refuses longer heads */
	size_t cap = c->cap == 0 ? BUF_FIRST : c->cap * 2;
	if (cap > BUF_MAX)
		cap = BUF_MAX;
	char *p = skt_realloc(c->buf, cap);
	if (p == NULL)
		return BENCH_E_OTHER;
	c->buf = p;
	c->cap = cap;
	return 0;
}

static int at_eof(bench_conn *c, int64_t now)
{
	/* A body that ends with the connection ends with close_notify over
	 * TLS: without one it may have been cut short. */
	if (c->rstate == HTTP_UNTIL_CLOSE && c->truncated) {
		bench_fail(c, BENCH_E_SHORT);
		return -1;
	}
	if (c->rstate == HTTP_UNTIL_CLOSE) {
		c->close_after = true;
		finish(c, now);
		return -1;
	}
	if (c->inflight == 0) {
		bench_recycle(c);
		return -1;
	}
	bench_fail(c, c->len > 0 || c->rstate != HTTP_HEAD ? BENCH_E_SHORT
							   : BENCH_E_RESET);
	return -1;
}

static int http_readable(bench_conn *c, int64_t now)
{
	for (;;) {
		if (c->len == c->cap) {
			int err = grow(c);
			if (err != 0) {
				bench_fail(c, err);
				return -1;
			}
		}
		size_t room = c->cap - c->len;
		ssize_t n = bench_recv(c, c->buf + c->len, room);
		if (n == SKT_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		if (n == 0)
			return at_eof(c, now);
		now = c->w->now;
		c->len += (size_t)n;
		if (!consume(c, now))
			return -1;
		if (bench_drained(c, (size_t)n, room))
			return 0;
	}
}

static void http_reset(bench_conn *c)
{
	c->len = 0;
	c->rstate = HTTP_HEAD;
	c->close_after = false;
	c->body_left = 0;
}

const bench_proto bench_http_proto = {
	.issue = http_issue,
	.flush = bench_push,
	.readable = http_readable,
	.reset = http_reset,
};
