/* http_resp_test.c - the HTTP/1.x response head parser
 * (skt_http_resp_parse): real server heads, close semantics, bodiless
 * statuses, every malformed form the parser names, the limits, and input
 * split at every byte. The per-rule vectors are in http_vectors_test.c.
 *
 * Most tests parse as `sockit bench` does: a lone LF accepted as a line
 * end and one line as long as the head may be (`bench_opts`); the strict
 * defaults have their own tests at the end. */
#include "sktest.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define FIELDS_MAX 100
#define MORE       SKT_EAGAIN

static const skt_http_opts bench_opts = {.line_max = SKT_HTTP_HEAD_MAX,
					 .bare_lf = true};

/* A failure other than "need more". */
static bool is_bad(int rc)
{
	return rc < 0 && rc != SKT_EAGAIN;
}

/* Parse the first n bytes of s, placed against the guard page. */
static int parse_opts(const char *s, size_t n, const skt_http_opts *o,
		      skt_http_resp *r)
{
	skt_http_field f[FIELDS_MAX];
	size_t nf = FIELDS_MAX;
	return skt_http_resp_parse(sktest_guarded_n(s, n), n, false, o, r, f,
				   &nf);
}

static int parse_n(const char *s, size_t n, skt_http_resp *r)
{
	return parse_opts(s, n, &bench_opts, r);
}

static int parse(const char *s, skt_http_resp *r)
{
	return parse_n(s, strlen(s), r);
}

/* Where the head of s ends: after its first empty line. */
static size_t head_len(const char *s)
{
	const char *e = strstr(s, "\r\n\r\n");
	cr_assert_not_null(e, "test head without an end");
	return (size_t)(e + 4 - s);
}

static void expect_resp(const skt_http_resp *r, int status, int64_t clen,
			bool chunked, bool close, bool no_body)
{
	cr_assert_eq(r->status, status, "status %d, want %d", r->status,
		     status);
	cr_assert_eq(r->content_length, clen, "content_length %lld, want %lld",
		     (long long)r->content_length, (long long)clen);
	cr_assert_eq(r->chunked, chunked, "chunked %d", r->chunked);
	cr_assert_eq(r->close, close, "close %d", r->close);
	cr_assert_eq(r->no_body, no_body, "no_body %d", r->no_body);
}

/* s (a whole head, maybe with a body after it) parses to its head length
 * with *r filled; every shorter prefix is MORE and leaves *r alone. */
static void parse_ok(const char *s, skt_http_resp *r)
{
	size_t want = head_len(s);
	for (size_t k = 0; k < want; k++) {
		skt_http_resp untouched = {.status = 12345};
		int rc = parse_n(s, k, &untouched);
		SKT_CHECK(rc == MORE, "prefix %zu of %zu: %d", k, want, rc);
		SKT_CHECK(untouched.status == 12345, "prefix %zu: *out written",
			  k);
	}
	int rc = parse(s, r);
	cr_assert_eq(rc, (int)want, "parse: %d, want %zu", rc, want);
	skt_http_resp again;
	cr_assert_eq(parse_n(s, want, &again), (int)want);
	cr_assert(again.status == r->status && again.minor == r->minor &&
			  again.content_length == r->content_length &&
			  again.chunked == r->chunked &&
			  again.close == r->close &&
			  again.no_body == r->no_body,
		  "the head alone gives the same result");
}

/* s is BAD; every prefix is MORE until one is BAD, and BAD from then on. */
static void parse_bad_n(const char *s, size_t n)
{
	bool bad = false;
	for (size_t k = 0; k <= n; k++) {
		skt_http_resp r = {.status = 12345};
		int rc = parse_n(s, k, &r);
		if (bad || k == n)
			SKT_CHECK(is_bad(rc), "%zu bytes of \"%s\": %d", k, s,
				  rc);
		else
			SKT_CHECK(rc == MORE || is_bad(rc),
				  "%zu bytes of \"%s\": %d", k, s, rc);
		bad = is_bad(rc);
		SKT_CHECK(r.status == 12345, "*out written on failure");
		if (bad)
			SKT_CHECK(r.why != SKT_HTTP_OK, "no rule named");
	}
}

static void parse_bad(const char *s)
{
	parse_bad_n(s, strlen(s));
}

/* ---- Heads as servers send them ---- */

static const char nginx_200[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.22.1\r\n"
	"Date: Thu, 21 Nov 2024 02:16:00 GMT\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 615\r\n"
	"Last-Modified: Tue, 13 Jun 2023 15:08:10 GMT\r\n"
	"Connection: keep-alive\r\n"
	"ETag: \"6488865a-267\"\r\n"
	"Accept-Ranges: bytes\r\n"
	"\r\n"
	"<!DOCTYPE html>";

SKT_TEST(http_resp, nginx_200_keep_alive)
{
	skt_http_resp r;
	parse_ok(nginx_200, &r);
	cr_assert_eq(r.minor, 1);
	expect_resp(&r, 200, 615, false, false, false);
}

SKT_TEST(http_resp, nginx_chunked)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nServer: nginx\r\n"
		 "Content-Type: application/json\r\n"
		 "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
		 "\r\n1a\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, false, false);
}

SKT_TEST(http_resp, nginx_404_connection_close)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 404 Not Found\r\nServer: nginx\r\n"
		 "Content-Length: 153\r\nConnection: close\r\n\r\n",
		 &r);
	expect_resp(&r, 404, 153, false, true, false);
}

SKT_TEST(http_resp, http10_closes_unless_keep_alive)
{
	skt_http_resp r;
	parse_ok("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", &r);
	cr_assert_eq(r.minor, 0);
	expect_resp(&r, 200, 5, false, true, false);
	parse_ok("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n"
		 "Connection: Keep-Alive\r\n\r\n",
		 &r);
	expect_resp(&r, 200, 5, false, false, false);
}

SKT_TEST(http_resp, http11_keeps_alive_by_default)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &r);
	expect_resp(&r, 200, 0, false, false, false);
}

SKT_TEST(http_resp, connection_tokens)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		 "Connection: Upgrade, CLOSE\r\n\r\n",
		 &r);
	cr_assert(r.close);
	parse_ok("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
		 "Connection: keep-alive, close\r\n\r\n",
		 &r);
	cr_assert(r.close, "close wins over keep-alive");
	parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		 "Connection: closed, ,keep-alive-ish\r\n\r\n",
		 &r);
	cr_assert_not(r.close, "only whole tokens count");
}

SKT_TEST(http_resp, no_body_statuses)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 204 No Content\r\nServer: nginx\r\n\r\n", &r);
	expect_resp(&r, 204, -1, false, false, true);
	/* A 304's Content-Length describes the representation, not a body. */
	parse_ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n",
		 &r);
	expect_resp(&r, 304, 1234, false, false, true);
	parse_ok("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", &r);
	expect_resp(&r, 100, -1, false, false, true);
	parse_ok("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\n\r\n",
		 &r);
	expect_resp(&r, 101, -1, false, false, true);
	parse_ok("HTTP/1.1 199 X\r\n\r\n", &r);
	cr_assert(r.no_body);
	parse_ok("HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", &r);
	cr_assert_not(r.no_body);
}

SKT_TEST(http_resp, body_until_close)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of it", &r);
	expect_resp(&r, 200, -1, false, true, false);
}

SKT_TEST(http_resp, status_line_forms)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n", &r);
	expect_resp(&r, 200, 2, false, false, false);
	parse_ok("HTTP/1.1 503 \r\nContent-Length: 2\r\n\r\n", &r);
	cr_assert_eq(r.status, 503);
	parse_ok(
		"HTTP/1.1 599 A\tlong, reason: \xe2\x9c\x93 (obs-text)\r\n\r\n",
		&r);
	cr_assert_eq(r.status, 599);
	parse_ok("HTTP/1.1 100 \r\n\r\n", &r);
	cr_assert_eq(r.status, 100);
}

SKT_TEST(http_resp, bare_lf_line_ends)
{
	skt_http_resp r;
	const char *s = "HTTP/1.1 200 OK\nContent-Length: 3\r\nX: y\n\nabc";
	cr_assert_eq(parse(s, &r), (int)(strlen(s) - 3));
	expect_resp(&r, 200, 3, false, false, false);
	cr_assert_eq(parse("HTTP/1.0 200 OK\n\n", &r), 17);
	for (size_t k = 0; k < 17; k++)
		cr_assert_eq(parse_n("HTTP/1.0 200 OK\n\n", k, &r), MORE);
}

SKT_TEST(http_resp, field_values_trimmed_and_case_insensitive)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh:\t 42 \t\r\n"
		 "X-Empty:\r\nX-Obs: \xff\x80 ok\r\n\r\n",
		 &r);
	cr_assert_eq(r.content_length, 42);
}

/* ---- Content-Length and Transfer-Encoding ---- */

SKT_TEST(http_resp, content_length_limits)
{
	skt_http_resp r;
	parse_ok(
		"HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n",
		&r);
	cr_assert_eq(r.content_length, INT64_C(999999999999999999));
	parse_ok(
		"HTTP/1.1 200 OK\r\nContent-Length: 000000000000000007\r\n\r\n",
		&r);
	cr_assert_eq(r.content_length, 7);
	parse_bad("HTTP/1.1 200 OK\r\nContent-Length: "
		  "1000000000000000000\r\n\r\n");
	parse_bad("HTTP/1.1 200 OK\r\nContent-Length: "
		  "99999999999999999999999\r\n\r\n");
}

SKT_TEST(http_resp, content_length_malformed)
{
	static const char *bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 4 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
		("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: "
		 "6\r\n\r\n"),
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		parse_bad(bad[i]);
}

SKT_TEST(http_resp, content_length_repeated_same_value)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		 "content-length: 005\r\n\r\n",
		 &r);
	cr_assert_eq(r.content_length, 5);
}

SKT_TEST(http_resp, transfer_encoding_last_coding)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, false, false);
	parse_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
		 "Transfer-Encoding: chunked ; x=y,\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, false, false);
	/* Not chunked last: the body runs to the close (RFC 9112 6.3). */
	parse_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
		 "Content-Length: 10\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, false, true, false);
}

SKT_TEST(http_resp, chunked_beats_content_length)
{
	skt_http_resp r;
	parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, false, false);
	parse_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		 "Content-Length: 10\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, false, false);
}

SKT_TEST(http_resp, transfer_encoding_in_http10_closes)
{
	skt_http_resp r;
	parse_ok("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
		 "Connection: keep-alive\r\n\r\n",
		 &r);
	expect_resp(&r, 200, -1, true, true, false);
}

SKT_TEST(http_resp, transfer_encoding_malformed)
{
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n");
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: , ,\r\n\r\n");
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chun ked\r\n\r\n");
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: \"chunked\"\r\n\r\n");
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: ;q=1\r\n\r\n");
}

/* ---- Malformed heads ---- */

SKT_TEST(http_resp, status_line_malformed)
{
	static const char *bad[] = {
		"HTTP/1.2 200 OK\r\n\r\n",     "HTTP/2 200 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",     "http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",    "HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",      "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",    "HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1\t200 OK\r\n\r\n",    "HTTP/1.1 200\tOK\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK\rX\r\n\r\n",
		"HTTP/1.1 200 OK\x7f\r\n\r\n", "\r\nHTTP/1.1 200 OK\r\n\r\n",
		" HTTP/1.1 200 OK\r\n\r\n",    "SSH-2.0-OpenSSH_9.2\r\n",
		"HTTP/1.1 200 OK\r\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		parse_bad(bad[i]);
}

SKT_TEST(http_resp, field_line_malformed)
{
	static const char *bad[] = {
		/* obsolete line folding */
		"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n\r\n",
		/* whitespace before the colon */
		"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A\t: a\r\n\r\n",
		/* no name, no colon, a name that is not a token */
		"HTTP/1.1 200 OK\r\n: a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX(A): a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX\xc3\xa9: a\r\n\r\n",
		/* control characters in the value, a bare CR */
		"HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\x1b[0m\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\r\n\rX\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		parse_bad(bad[i]);
}

SKT_TEST(http_resp, nul_in_value_is_bad)
{
	static const char s[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
	parse_bad_n(s, sizeof(s) - 1);
}

/* ---- Limits ---- */

/* A head with n fields "X-Nnn: v". */
static size_t many_fields(char *buf, size_t cap, int n)
{
	size_t w = (size_t)snprintf(buf, cap, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < n; i++)
		w += (size_t)snprintf(buf + w, cap - w, "X-F%d: v\r\n", i);
	w += (size_t)snprintf(buf + w, cap - w, "\r\n");
	cr_assert_lt(w, cap);
	return w;
}

SKT_TEST(http_resp, at_most_100_fields)
{
	static char buf[4096];
	skt_http_resp r;
	size_t n = many_fields(buf, sizeof(buf), FIELDS_MAX);
	cr_assert_eq(parse_n(buf, n, &r), (int)n);
	n = many_fields(buf, sizeof(buf), FIELDS_MAX + 1);
	skt_assert_err(parse_n(buf, n, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_TOO_MANY_FIELDS);
}

/* A head of exactly total bytes: the status line, one field padded with
 * 'a', the empty line. */
static char *head_of_size(size_t total)
{
	static char buf[SKT_HTTP_HEAD_MAX + 64];
	static const char pre[] = "HTTP/1.1 200 OK\r\nX-Pad: ";
	cr_assert_leq(total, sizeof(buf));
	memcpy(buf, pre, sizeof(pre) - 1);
	memset(buf + sizeof(pre) - 1, 'a', total - (sizeof(pre) - 1) - 4);
	memcpy(buf + total - 4, "\r\n\r\n", 4);
	return buf;
}

SKT_TEST(http_resp, head_at_the_limit)
{
	skt_http_resp r;
	char *h = head_of_size(SKT_HTTP_HEAD_MAX);
	cr_assert_eq(parse_n(h, SKT_HTTP_HEAD_MAX, &r), SKT_HTTP_HEAD_MAX);
	cr_assert_eq(parse_n(h, SKT_HTTP_HEAD_MAX - 1, &r), MORE);
	/* With more bytes after it, the head is still found. */
	cr_assert_eq(parse_n(h, SKT_HTTP_HEAD_MAX + 10, &r), SKT_HTTP_HEAD_MAX);
}

SKT_TEST(http_resp, head_over_the_limit_is_bad)
{
	skt_http_resp r;
	char *h = head_of_size(SKT_HTTP_HEAD_MAX + 1);
	cr_assert_eq(parse_n(h, SKT_HTTP_HEAD_MAX - 1, &r), MORE);
	/* 65536 bytes and no end yet: BAD, not MORE forever. */
	skt_assert_err(parse_n(h, SKT_HTTP_HEAD_MAX, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_HEAD_TOO_BIG);
	skt_assert_err(parse_n(h, SKT_HTTP_HEAD_MAX + 1, &r), SKT_ETOOBIG);
	/* Only its last CRLF lies past the limit. */
	h = head_of_size(SKT_HTTP_HEAD_MAX + 2);
	skt_assert_err(parse_n(h, SKT_HTTP_HEAD_MAX + 2, &r), SKT_ETOOBIG);
}

SKT_TEST(http_resp, empty_input_is_more)
{
	skt_http_resp r;
	size_t nf = 0;
	cr_assert_eq(skt_http_resp_parse(sktest_guarded_n("", 0), 0, false,
					 NULL, &r, NULL, &nf),
		     MORE);
}

/* ---- The codec's own: defaults, fields, HEAD ---- */

SKT_TEST(http_resp, fields_point_into_the_buffer)
{
	static const char s[] = "HTTP/1.1 404 Not Found\r\nServer: nginx\r\n"
				"X-Empty:\r\nContent-Length:  3 \r\n\r\n";
	const char *in = sktest_guarded_n(s, sizeof(s) - 1);
	skt_http_field f[4];
	size_t nf = 4;
	skt_http_resp r;
	cr_assert_eq(
		skt_http_resp_parse(in, sizeof(s) - 1, false, NULL, &r, f, &nf),
		(int)sizeof(s) - 1);
	cr_assert_eq(nf, 3);
	cr_assert(r.reason == in + 13 && r.reason_len == 9);
	cr_assert(f[0].name == in + 24 && f[0].name_len == 6);
	cr_assert(f[0].value_len == 5 && memcmp(f[0].value, "nginx", 5) == 0);
	cr_assert_eq(f[1].value_len, 0);
	cr_assert(f[2].value_len == 1 && f[2].value[0] == '3');
	cr_assert_eq(r.content_length, 3);
	cr_assert_eq(r.why, SKT_HTTP_OK);
	/* The array's size is the limit. */
	nf = 2;
	skt_assert_err(
		skt_http_resp_parse(in, sizeof(s) - 1, false, NULL, &r, f, &nf),
		SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_TOO_MANY_FIELDS);
	cr_assert_eq(nf, 2, "*nfields left alone on failure");
}

SKT_TEST(http_resp, answer_to_head_has_no_body)
{
	static const char s[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 615\r\n\r\n";
	skt_http_field f[4];
	size_t nf = 4;
	skt_http_resp r;
	cr_assert_eq(skt_http_resp_parse(sktest_guarded_n(s, sizeof(s) - 1),
					 sizeof(s) - 1, true, NULL, &r, f, &nf),
		     (int)sizeof(s) - 1);
	expect_resp(&r, 200, 615, false, false, true);
	/* Without a length either: no body, so nothing to read to a close. */
	static const char t[] = "HTTP/1.1 200 OK\r\n\r\n";
	nf = 4;
	cr_assert_eq(skt_http_resp_parse(sktest_guarded_n(t, sizeof(t) - 1),
					 sizeof(t) - 1, true, NULL, &r, f, &nf),
		     (int)sizeof(t) - 1);
	expect_resp(&r, 200, -1, false, false, true);
}

SKT_TEST(http_resp, strict_by_default)
{
	skt_http_resp r;
	const char *s = "HTTP/1.1 200 OK\nContent-Length: 3\r\n\r\n";
	skt_assert_err(parse_opts(s, strlen(s), NULL, &r), SKT_EMALFORMED);
	cr_assert_eq(r.why, SKT_HTTP_BARE_LF);
	/* A line over SKT_HTTP_LINE_MAX, complete or not. */
	static char big[SKT_HTTP_LINE_MAX + 64];
	size_t n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', SKT_HTTP_LINE_MAX);
	size_t line = n - 3; /* where "X: " begins */
	skt_assert_err(parse_opts(big, line + SKT_HTTP_LINE_MAX + 1, NULL, &r),
		       SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_LINE_TOO_LONG);
	cr_assert_eq(parse_opts(big, line + SKT_HTTP_LINE_MAX, NULL, &r), MORE);
	memcpy(big + line + SKT_HTTP_LINE_MAX, "\r\n\r\n", 4);
	cr_assert_eq(parse_opts(big, line + SKT_HTTP_LINE_MAX + 4, NULL, &r),
		     (int)(line + SKT_HTTP_LINE_MAX + 4),
		     "a line of exactly line_max bytes");
	memcpy(big + line + SKT_HTTP_LINE_MAX, "a\r\n\r\n", 5);
	skt_assert_err(parse_opts(big, line + SKT_HTTP_LINE_MAX + 5, NULL, &r),
		       SKT_ETOOBIG);
}
