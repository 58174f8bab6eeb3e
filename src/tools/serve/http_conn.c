/* http_conn.c - serve http's request framing (http_conn.h).
 *
 * Each step takes bytes from the front of what is there: a head (parsed
 * whole by skt_http_req_parse, again from its start while partial),
 * handed to emit at once, then its body, skipped as it streams. The
 * answer to a request may so go out before its body is read, which
 * HTTP/1.1 allows (RFC 9112 9.3: responses in the order of the
 * requests); the next head is read only after the body. The loop keeps
 * what could not be used yet and nothing else.
 */
#include "tools/serve/http_conn.h"

#include <string.h>

enum { HEAD, BODY, CHUNKED, CLOSED };

static const skt_http_opts opts = {.head_max = HTTP_HEAD_MAX,
				   .line_max = HTTP_LINE_MAX};

void http_conn_init(http_conn *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HEAD;
}

void http_conn_fini(http_conn *h)
{
	carry_free(&h->in);
	http_conn_init(h);
}

void http_conn_end(http_conn *h)
{
	h->state = CLOSED;
	h->keep = false;
}

static void fail(http_conn *h, http_in *in, int status, skt_http_rule why,
		 bool v10)
{
	size_t limit = 0;
	if (why == SKT_HTTP_START_TOO_LONG || why == SKT_HTTP_LINE_TOO_LONG)
		limit = HTTP_LINE_MAX;
	else if (why == SKT_HTTP_HEAD_TOO_BIG ||
		 why == SKT_HTTP_TOO_MANY_FIELDS)
		limit = why == SKT_HTTP_HEAD_TOO_BIG ? HTTP_HEAD_MAX
						     : HTTP_FIELDS_MAX;
	*in = (http_in){
		.status = status, .why = why, .limit = limit, .v10 = v10};
	h->state = CLOSED;
}

/* The body is over: the next head, or the end. */
static void body_done(http_conn *h)
{
	h->state = h->keep ? HEAD : CLOSED;
}

/* A head at the front of p: emitted through *in. Returns the bytes used
 * (0: incomplete). fields must outlive the emit: the caller's. */
static size_t head(http_conn *h, const char *p, size_t n, http_in *in,
		   skt_http_req *r, skt_http_field *fields)
{
	size_t nf = HTTP_FIELDS_MAX;
	int rc = skt_http_req_parse(p, n, &opts, r, fields, &nf);
	if (rc == SKT_EAGAIN)
		return 0;
	if (rc < 0) {
		fail(h, in, skt_http_rule_status(r->why), r->why, false);
		return n;
	}
	bool v10 = r->minor == 0;
	if (r->content_length > (int64_t)HTTP_BODY_MAX) {
		fail(h, in, 413, SKT_HTTP_OK, v10);
		return (size_t)rc;
	}
	*in = (http_in){.keep = r->keep_alive,
			.v10 = v10,
			.req = r,
			.fields = fields,
			.nfields = nf};
	h->keep = r->keep_alive;
	if (r->chunked) {
		h->state = CHUNKED;
		skt_http_chunked_init(&h->chunked, &opts);
	} else if (r->content_length > 0) {
		h->state = BODY;
		h->body_left = (uint64_t)r->content_length;
	} else {
		h->state = h->keep ? HEAD : CLOSED;
	}
	return (size_t)rc;
}

/* One step from the front of p[0..n), n > 0. Returns the bytes used; 0
 * only for a partial head. in->status is -1 when there is nothing to
 * emit. */
static size_t step(http_conn *h, const char *p, size_t n, http_in *in,
		   skt_http_req *r, skt_http_field *fields)
{
	in->status = -1;
	if (h->state == HEAD)
		return head(h, p, n, in, r, fields);
	if (h->state == BODY) {
		size_t k = n < h->body_left ? n : (size_t)h->body_left;
		h->body_left -= k;
		if (h->body_left == 0)
			body_done(h);
		return k;
	}
	ssize_t k = skt_http_chunked_feed(&h->chunked, p, n, NULL, NULL);
	if (k < 0 || h->chunked.body_bytes > HTTP_BODY_MAX) {
		/* The answer went out already: the connection just ends. */
		h->state = CLOSED;
		return n;
	}
	if (h->chunked.done)
		body_done(h);
	return (size_t)k;
}

int http_conn_input(http_conn *h, const char *in, size_t len, http_emit_fn emit,
		    void *arg)
{
	if (h->state == CLOSED)
		return HTTP_CLOSED;
	/* Bytes kept from before come first: the new ones join them. */
	const char *p;
	size_t n, used = 0;
	if (carry_begin(&h->in, in, len, &p, &n) != 0)
		return SKT_ENOMEM;
	int rc = HTTP_MORE;
	skt_http_field fields[HTTP_FIELDS_MAX];
	while (used < n && rc == HTTP_MORE) {
		http_in hi;
		skt_http_req r;
		size_t k = step(h, p + used, n - used, &hi, &r, fields);
		used += k;
		if (hi.status < 0 && k == 0)
			break; /* a partial head */
		if (hi.status >= 0) {
			bool go = emit(arg, &hi);
			if (!go && h->state != CLOSED)
				rc = HTTP_STOPPED;
		}
		if (h->state == CLOSED)
			rc = HTTP_CLOSED;
	}
	if (rc == HTTP_CLOSED)
		carry_free(&h->in);
	else if (carry_end(&h->in, p, n, used) != 0)
		return SKT_ENOMEM;
	return rc;
}

bool http_conn_in_head(const http_conn *h)
{
	return h->state == HEAD;
}
