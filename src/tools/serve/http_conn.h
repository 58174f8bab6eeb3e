/* http_conn.h - how `sockit serve http` frames a connection's requests,
 * as pure code: the client's bytes in, in pieces of any size; each
 * request head out to a callback, in order, while the head is still in
 * the buffer. No fd and no loop, so the framing across pipelined requests
 * can be tested and fuzzed (fuzz/http_conn.c).
 *
 * Heads are parsed with the library's codec (sockit/http.h) and its
 * strict rules: a head that breaks one is handed over as an error (its
 * status: 400, 413, 414, 431, 501, 505) and the connection ends, never
 * resynchronised. A request body (Content-Length or chunked; RFC 9112
 * 6.3) is skipped after the head has been answered, up to HTTP_BODY_MAX:
 * a static server has no use for it, but the next request starts after
 * it. A longer one ends the connection (413 when the length is known
 * from the head).
 */
#ifndef SOCKIT_TOOLS_HTTP_CONN_H
#define SOCKIT_TOOLS_HTTP_CONN_H

#include "sockit/http.h"
#include "tools/serve/carry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX 8192 /* one line of the head: nginx's default */
/* The whole head; a partial head is parsed again from its start, so this
 * also bounds the work of a client sending a byte at a time. */
#define HTTP_HEAD_MAX   32768
#define HTTP_FIELDS_MAX 100
#define HTTP_BODY_MAX   ((uint64_t)1 << 20) /* skipped, not forever */

/* One request head, or the error that ends the connection. */
typedef struct http_in {
	int status; /* 0: a request (req, fields); else the error's status */
	skt_http_rule why;       /* an error's rule (SKT_HTTP_OK for a 413) */
	size_t limit;            /* the size limit hit, or 0 */
	bool keep;               /* another request may follow */
	bool v10;                /* HTTP/1.0 */
	const skt_http_req *req; /* status 0: valid during the call */
	const skt_http_field *fields;
	size_t nfields;
} http_in;

/* Called for each head in order. Returns false to stop taking input (an
 * answer is still being sent): the rest is kept for http_conn_input(h,
 * NULL, 0, ...). */
typedef bool (*http_emit_fn)(void *arg, const http_in *in);

enum {
	HTTP_MORE = 0, /* every byte taken: feed more when it arrives */
	HTTP_STOPPED,  /* emit said stop: the rest is kept, resume later */
	HTTP_CLOSED    /* the last head went out: nothing more is read */
};

/* Caller-owned. States: HEAD (maybe partial in buf), BODY (body_left
 * bytes to skip), CHUNKED (a chunked body to skip), CLOSED. */
typedef struct http_conn {
	uint8_t state;
	bool keep; /* of the request whose body is being skipped */
	uint64_t body_left;
	skt_http_chunked chunked;
	carry in; /* a partial head, or what arrived while stopped */
} http_conn;

void http_conn_init(http_conn *h);
void http_conn_fini(http_conn *h);
/* Take len bytes (in may be NULL when len is 0: resume with what is
 * kept). Returns HTTP_MORE, HTTP_STOPPED, HTTP_CLOSED, or SKT_ENOMEM
 * (end the connection). Keeps at most HTTP_HEAD_MAX plus one call's len
 * bytes. */
int http_conn_input(http_conn *h, const char *in, size_t len, http_emit_fn emit,
		    void *arg);
/* Whether h waits for (or is reading) a request head. */
bool http_conn_in_head(const http_conn *h);
/* The connection ends after the request just emitted (its answer
 * said "Connection: close"): nothing more is parsed. */
void http_conn_end(http_conn *h);

#endif
