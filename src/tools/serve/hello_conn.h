/* hello_conn.h - what `sockit serve hello` does with a connection's
 * bytes, as pure code: the client's bytes in, in pieces of any size, the
 * answers out, in order. No fd and no loop, so the connection's whole life
 * across pipelined requests can be tested and fuzzed (fuzz/hello.c);
 * hello.c only moves bytes between this and the stream.
 *
 * Requests are parsed with the library's codec (sockit/http.h) and its
 * strict rules. Each request gets one answer: 200, or the status of the
 * rule it broke (400 generally, 413, 414, 431, 501, 505), after which the
 * connection ends: nothing after a malformed request is trusted to be a
 * request. Bodies (Content-Length or chunked) are read and thrown away.
 */
#ifndef SOCKIT_TOOLS_HELLO_CONN_H
#define SOCKIT_TOOLS_HELLO_CONN_H

#include "sockit/http.h"
#include "tools/serve/carry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HELLO_LINE_MAX 8192 /* one line of the head: nginx's default */
/* The whole head. A partial head is parsed again from its start as bytes
 * arrive (as picohttpparser is used), so this also bounds the work a
 * client sending a byte at a time can cause. */
#define HELLO_HEAD_MAX   32768
#define HELLO_FIELDS_MAX 100
#define HELLO_BODY_MAX   ((uint64_t)64 << 20) /* discarded, but not forever */

/* One answer, for the caller to format and send. */
typedef struct hello_answer {
	int status;        /* 100 (interim: the request goes on), 200, or
			      the error status */
	bool keep;         /* another request may follow this answer */
	bool head;         /* HEAD: the answer has no body */
	bool v10;          /* an HTTP/1.0 request: keep-alive is said */
	skt_http_rule why; /* an error's rule (SKT_HTTP_OK for 413) */
	size_t limit;      /* the size limit that was hit, or 0 */
} hello_answer;

/* Called for each answer in order. Returns false to stop taking input
 * (the caller's queue is full): the rest is kept for hello_conn_input(h,
 * NULL, 0, ...). */
typedef bool (*hello_emit_fn)(void *arg, const hello_answer *a);

/* What hello_conn_input returns (or SKT_ENOMEM). */
enum {
	HELLO_MORE = 0, /* every byte taken: feed more when it arrives */
	HELLO_STOPPED,  /* emit said stop: the rest is kept, resume later */
	HELLO_CLOSED    /* a last answer went out: nothing more comes */
};

/* Caller-owned. States: HEAD (a request head, maybe partial in buf),
 * BODY (body_left Content-Length bytes to skip), CHUNKED (a chunked body
 * to skip), CLOSED (after a last answer). */
typedef struct hello_conn {
	uint8_t state;
	bool head, v10, keep; /* of the request being read */
	uint64_t body_left;
	skt_http_chunked chunked;
	carry in; /* a partial head, or what arrived while stopped */
} hello_conn;

void hello_conn_init(hello_conn *h);
/* Free the buffer; h can be init'ed again. */
void hello_conn_fini(hello_conn *h);

/* Take len bytes from the client (in may be NULL when len is 0: resume
 * with what is kept) and emit the answers they complete. Returns
 * HELLO_MORE, HELLO_STOPPED or HELLO_CLOSED as above, or SKT_ENOMEM when
 * the bytes to keep find no memory (then end the connection). Never keeps
 * more than HELLO_HEAD_MAX plus one call's len bytes. */
int hello_conn_input(hello_conn *h, const char *in, size_t len,
		     hello_emit_fn emit, void *arg);
/* Whether h waits for (or is reading) a request head: between requests,
 * not within a body nor after the last answer. */
bool hello_conn_in_head(const hello_conn *h);

#endif
