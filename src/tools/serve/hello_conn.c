/* hello_conn.c - hello's requests, from bytes to answers (hello_conn.h).
 *
 * Each step takes bytes from the front of what is there and may produce
 * one answer: a head (parsed whole by skt_http_req_parse, again from its
 * start while it is partial), then its body, skipped as it streams. The
 * loop around the steps keeps what could not be used yet - a partial head,
 * or what arrived after the caller asked to stop - and nothing else, so a
 * connection holds no buffer between requests.
 */
#include "tools/serve/hello_conn.h"

#include <string.h>

enum { HEAD, BODY, CHUNKED, CLOSED };

static const skt_http_opts opts = {.head_max = HELLO_HEAD_MAX,
				   .line_max = HELLO_LINE_MAX};

void hello_conn_init(hello_conn *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HEAD;
}

void hello_conn_fini(hello_conn *h)
{
	carry_free(&h->in);
	hello_conn_init(h);
}

/* The request is complete: 200, and the next one. */
static void done(hello_conn *h, hello_answer *a)
{
	*a = (hello_answer){
		.status = 200, .keep = h->keep, .head = h->head, .v10 = h->v10};
	h->state = h->keep ? HEAD : CLOSED;
}

/* The request broke a rule: its status, and the connection ends. */
static void fail(hello_conn *h, hello_answer *a, int status, skt_http_rule why)
{
	size_t limit = 0;
	if (why == SKT_HTTP_START_TOO_LONG || why == SKT_HTTP_LINE_TOO_LONG)
		limit = HELLO_LINE_MAX;
	else if (why == SKT_HTTP_HEAD_TOO_BIG)
		limit = HELLO_HEAD_MAX;
	*a = (hello_answer){
		.status = status, .v10 = h->v10, .why = why, .limit = limit};
	h->state = CLOSED;
}

/* A head at the front of p. Returns the bytes used (0: incomplete). */
static size_t head(hello_conn *h, const char *p, size_t n, hello_answer *a)
{
	skt_http_field fields[HELLO_FIELDS_MAX];
	size_t nf = HELLO_FIELDS_MAX;
	skt_http_req r;
	int rc = skt_http_req_parse(p, n, &opts, &r, fields, &nf);
	if (rc == SKT_EAGAIN)
		return 0;
	if (rc < 0) {
		fail(h, a, skt_http_rule_status(r.why), r.why);
		return n;
	}
	h->head = r.method_len == 4 && memcmp(r.method, "HEAD", 4) == 0;
	h->v10 = r.minor == 0;
	h->keep = r.keep_alive;
	if (r.chunked) {
		h->state = CHUNKED;
		skt_http_chunked_init(&h->chunked, &opts);
	} else if (r.content_length > (int64_t)HELLO_BODY_MAX) {
		fail(h, a, 413, SKT_HTTP_OK);
		return (size_t)rc;
	} else if (r.content_length > 0) {
		h->state = BODY;
		h->body_left = (uint64_t)r.content_length;
	} else {
		done(h, a);
		return (size_t)rc;
	}
	/* The client waits for this before it sends the body (RFC 9110
	 * 10.1.1); an HTTP/1.0 client does not know it. */
	if (r.expect_continue && !h->v10)
		*a = (hello_answer){.status = 100, .keep = true};
	return (size_t)rc;
}

/* One step from the front of p[0..n), n > 0. Returns the bytes used; 0
 * only for a partial head. a->status is set when an answer is due. */
static size_t step(hello_conn *h, const char *p, size_t n, hello_answer *a)
{
	a->status = 0;
	if (h->state == HEAD)
		return head(h, p, n, a);
	if (h->state == BODY) {
		size_t k = n < h->body_left ? n : (size_t)h->body_left;
		h->body_left -= k;
		if (h->body_left == 0)
			done(h, a);
		return k;
	}
	/* CHUNKED: all of p is used unless the body ends inside it. */
	ssize_t k = skt_http_chunked_feed(&h->chunked, p, n, NULL, NULL);
	if (k < 0)
		fail(h, a, skt_http_rule_status(h->chunked.why),
		     h->chunked.why);
	else if (h->chunked.body_bytes > HELLO_BODY_MAX)
		fail(h, a, 413, SKT_HTTP_OK);
	else if (h->chunked.done)
		done(h, a);
	return k < 0 ? n : (size_t)k;
}

int hello_conn_input(hello_conn *h, const char *in, size_t len,
		     hello_emit_fn emit, void *arg)
{
	if (h->state == CLOSED)
		return HELLO_CLOSED;
	/* Bytes kept from before come first: the new ones join them. */
	const char *p;
	size_t n, used = 0;
	if (carry_begin(&h->in, in, len, &p, &n) != 0)
		return SKT_ENOMEM;
	int rc = HELLO_MORE;
	while (used < n && rc == HELLO_MORE) {
		hello_answer a;
		size_t k = step(h, p + used, n - used, &a);
		used += k;
		if (a.status == 0 && k == 0)
			break; /* a partial head: wait for more */
		if (a.status == 0)
			continue;
		bool go = emit(arg, &a);
		if (h->state == CLOSED)
			rc = HELLO_CLOSED;
		else if (!go)
			rc = HELLO_STOPPED;
	}
	if (rc == HELLO_CLOSED)
		carry_free(&h->in);
	else if (carry_end(&h->in, p, n, used) != 0)
		return SKT_ENOMEM;
	return rc;
}

bool hello_conn_in_head(const hello_conn *h)
{
	return h->state == HEAD;
}
