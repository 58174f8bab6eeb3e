/* hello_conn_test.c - the request handling of `sockit serve hello`
 * (src/tools/serve/hello_conn.c) without sockets: pipelined requests in
 * order, bodies, 100-continue, errors that end the connection, pauses,
 * and the same answers whatever the pieces the bytes come in. */
#include "sktest.h"

#include "tools/serve/hello_conn.h"

#include <stdio.h>
#include <string.h>

#define MAXA 32

typedef struct got {
	hello_answer a[MAXA];
	size_t n;
	int stop_at; /* answer index whose emit says stop, or -1 */
} got;

static bool emit(void *arg, const hello_answer *a)
{
	got *g = arg;
	cr_assert_lt(g->n, MAXA);
	g->a[g->n] = *a;
	return (int)g->n++ != g->stop_at;
}

/* Feed s in pieces of step bytes (0: whole), resuming after each stop. */
static int feed(const char *s, size_t n, size_t step, got *g)
{
	hello_conn h;
	hello_conn_init(&h);
	memset(g->a, 0, sizeof(g->a));
	g->n = 0;
	const char *in = sktest_guarded_n(s, n);
	int rc = HELLO_MORE;
	for (size_t pos = 0; pos < n && rc != HELLO_CLOSED;) {
		size_t k = step == 0 || step > n - pos ? n - pos : step;
		rc = hello_conn_input(&h, in + pos, k, emit, g);
		while (rc == HELLO_STOPPED)
			rc = hello_conn_input(&h, NULL, 0, emit, g);
		cr_assert_geq(rc, 0);
		pos += k;
	}
	hello_conn_fini(&h);
	return rc;
}

static void expect(const got *g, const int *status, size_t n)
{
	cr_assert_eq(g->n, n, "%zu answers, want %zu", g->n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(g->a[i].status, status[i],
			     "answer %zu: %d, want %d", i, g->a[i].status,
			     status[i]);
}

/* Whole, byte by byte and in pieces of 7: the same answers. */
static void every_way(const char *s, const int *status, size_t n)
{
	static const size_t steps[] = {0, 1, 7};
	for (size_t i = 0; i < 3; i++) {
		got g = {.stop_at = -1};
		feed(s, strlen(s), steps[i], &g);
		expect(&g, status, n);
	}
}

SKT_TEST(hello_conn, pipelined_requests_in_order)
{
	const char *s =
		"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
		"HEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n"
		"\r\nGET /3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		"GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		"GET /5 HTTP/1.1\r\nHost: x\r\n\r\n";
	every_way(s, (const int[]){200, 200, 200, 200}, 4);
	got g = {.stop_at = -1};
	cr_assert_eq(feed(s, strlen(s), 0, &g), HELLO_CLOSED);
	cr_assert(g.a[0].keep && !g.a[0].head);
	cr_assert(g.a[1].head, "HEAD: no body in the answer");
	cr_assert(g.a[2].keep && g.a[2].v10);
	cr_assert_not(g.a[3].keep, "Connection: close, /5 never answered");
}

SKT_TEST(hello_conn, bodies_are_skipped)
{
	every_way("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
		  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n"
		  "3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n"
		  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		  (const int[]){200, 200, 200}, 3);
}

SKT_TEST(hello_conn, continue_before_the_body)
{
	every_way("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		  "Content-Length: 2\r\n\r\nab",
		  (const int[]){100, 200}, 2);
	/* HTTP/1.0 does not know 100. */
	every_way("POST / HTTP/1.0\r\nExpect: 100-continue\r\n"
		  "Content-Length: 2\r\n\r\nab",
		  (const int[]){200}, 1);
}

SKT_TEST(hello_conn, an_error_ends_the_connection)
{
	static const struct {
		const char *s;
		int status;
		skt_http_rule why;
	} cases[] = {
		{"GET / HTTP/1.1\r\n\r\n", 400, SKT_HTTP_HOST_MISSING},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
		 SKT_HTTP_HOST_DUP},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n",
		 400, SKT_HTTP_TE_AND_CL},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
		 "chunked\r\n"
		 "\r\n",
		 501, SKT_HTTP_TE_UNSUPPORTED},
		{"GET / HTTP/2.0\r\n\r\n", 505, SKT_HTTP_VERSION_UNSUPPORTED},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		 "chunked\r\n\r\n"
		 "5\r\nhelloX",
		 400, SKT_HTTP_CHUNK_DATA_END},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
		 "67108865\r\n\r\n",
		 413, SKT_HTTP_OK},
	};
	const char *next = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char s[256];
		snprintf(s, sizeof(s), "%s%s", cases[i].s, next);
		got g = {.stop_at = -1};
		cr_assert_eq(feed(s, strlen(s), 0, &g), HELLO_CLOSED, "%zu", i);
		expect(&g, (const int[]){cases[i].status}, 1);
		cr_assert_not(g.a[0].keep);
		cr_assert_eq(g.a[0].why, cases[i].why, "%zu: %s", i,
			     skt_http_rule_str(g.a[0].why));
		every_way(s, (const int[]){cases[i].status}, 1);
	}
}

SKT_TEST(hello_conn, size_limits_are_named)
{
	static char s[HELLO_LINE_MAX + 64];
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s, "GET /", 5);
	got g = {.stop_at = -1};
	feed(s, sizeof(s) - 1, 4096, &g);
	expect(&g, (const int[]){414}, 1);
	cr_assert_eq(g.a[0].limit, HELLO_LINE_MAX);
}

SKT_TEST(hello_conn, a_stop_keeps_the_rest_for_later)
{
	const char *s = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
			"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
			"GET /3 HTTP/1.1\r\nHo";
	hello_conn h;
	hello_conn_init(&h);
	got g = {.stop_at = 0};
	cr_assert_eq(hello_conn_input(&h, s, strlen(s), emit, &g),
		     HELLO_STOPPED);
	cr_assert_eq(g.n, 1);
	cr_assert_gt(h.in.len, 0, "the rest is kept");
	cr_assert_eq(hello_conn_input(&h, NULL, 0, emit, &g), HELLO_MORE);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(h.in.len, strlen("GET /3 HTTP/1.1\r\nHo"));
	const char *rest = "st: x\r\n\r\n";
	cr_assert_eq(hello_conn_input(&h, rest, strlen(rest), emit, &g),
		     HELLO_MORE);
	cr_assert_eq(g.n, 3);
	cr_assert(h.in.len == 0 && h.in.buf == NULL,
		  "no buffer held between requests");
	hello_conn_fini(&h);
}

SKT_TEST(hello_conn, out_of_memory_for_a_partial_head)
{
	hello_conn h;
	hello_conn_init(&h);
	got g = {.stop_at = -1};
	sktest_fail_alloc_at(1);
	skt_assert_err(hello_conn_input(&h, "GET / HT", 8, emit, &g),
		       SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	hello_conn_fini(&h);
}
