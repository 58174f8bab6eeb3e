/* http_req_test.c - the HTTP/1.x request head parser (skt_http_req_parse):
 * what it extracts, the framing and persistence it derives, pipelined
 * heads, the limits, and the rule table. Accept/reject per RFC 9112 rule
 * is in http_vectors_test.c. */
#include "sktest.h"

#include <stdio.h>
#include <string.h>

#define FIELDS 16

static skt_http_field fields[FIELDS];
static size_t nfields;

static int parse_opts(const char *s, size_t n, const skt_http_opts *o,
		      skt_http_req *r)
{
	nfields = FIELDS;
	return skt_http_req_parse(sktest_guarded_n(s, n), n, o, r, fields,
				  &nfields);
}

static int parse(const char *s, skt_http_req *r)
{
	return parse_opts(s, strlen(s), NULL, r);
}

static void expect_ok(const char *s, skt_http_req *r)
{
	int rc = parse(s, r);
	cr_assert_eq(rc, (int)strlen(s), "%s: %s (%s)", s, skt_errname(rc),
		     skt_http_rule_str(r->why));
}

SKT_TEST(http_req, curl_get)
{
	static const char s[] = "GET /index.html?q=1 HTTP/1.1\r\n"
				"Host: 127.0.0.1:8080\r\n"
				"User-Agent: curl/7.88.1\r\n"
				"Accept: */*\r\n\r\n";
	const char *in = sktest_guarded_n(s, sizeof(s) - 1);
	skt_http_req r;
	nfields = FIELDS;
	cr_assert_eq(skt_http_req_parse(in, sizeof(s) - 1, NULL, &r, fields,
					&nfields),
		     (int)sizeof(s) - 1);
	cr_assert(r.method == in && r.method_len == 3);
	cr_assert(r.target == in + 4 && r.target_len == 15);
	cr_assert_eq(r.minor, 1);
	cr_assert(r.host_len == 14 &&
		  memcmp(r.host, "127.0.0.1:8080", 14) == 0);
	cr_assert_eq(r.content_length, -1);
	cr_assert_not(r.chunked);
	cr_assert(r.keep_alive);
	cr_assert_not(r.expect_continue);
	cr_assert_eq(nfields, 3);
	cr_assert(fields[1].name_len == 10 &&
		  memcmp(fields[1].value, "curl/7.88.1", 11) == 0);
	cr_assert_eq(r.why, SKT_HTTP_OK);
}

SKT_TEST(http_req, keep_alive_per_version_and_connection)
{
	skt_http_req r;
	expect_ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
	cr_assert_not(r.keep_alive);
	expect_ok("GET / HTTP/1.0\r\n\r\n", &r);
	cr_assert_not(r.keep_alive);
	expect_ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	cr_assert(r.keep_alive);
	expect_ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
		  &r);
	cr_assert_not(r.keep_alive, "close wins");
	expect_ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, x\r\n\r\n",
		  &r);
	cr_assert(r.keep_alive, "only whole tokens count");
	/* A later minor version is answered as 1.1 (RFC 9110 2.5). */
	expect_ok("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &r);
	cr_assert(r.keep_alive);
	cr_assert_eq(r.minor, 2);
}

SKT_TEST(http_req, body_framing)
{
	skt_http_req r;
	expect_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n",
		  &r);
	cr_assert_eq(r.content_length, 42);
	cr_assert_not(r.chunked);
	expect_ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n"
		  "Expect: 100-Continue\r\n\r\n",
		  &r);
	cr_assert(r.chunked);
	cr_assert_eq(r.content_length, -1);
	cr_assert(r.expect_continue);
	cr_assert(r.keep_alive);
	/* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing:
	 * the message is read, then the connection closed. */
	expect_ok("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
		  "Connection: keep-alive\r\n\r\n",
		  &r);
	cr_assert(r.chunked);
	cr_assert_not(r.keep_alive);
}

SKT_TEST(http_req, pipelined_heads_one_at_a_time)
{
	static const char s[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				"\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
				"GET /3 HTTP/1.1\r\nHo";
	size_t n = sizeof(s) - 1, pos = 0;
	const char *in = sktest_guarded_n(s, n);
	skt_http_req r;
	const char *want[] = {"/1", "/2"};
	for (int i = 0; i < 2; i++) {
		nfields = FIELDS;
		int rc = skt_http_req_parse(in + pos, n - pos, NULL, &r, fields,
					    &nfields);
		cr_assert_gt(rc, 0, "%d: %s", i, skt_errname(rc));
		cr_assert(r.target_len == 2 &&
			  memcmp(r.target, want[i], 2) == 0);
		pos += (size_t)rc;
	}
	cr_assert_eq(r.method_len, 4, "the empty line before HEAD skipped");
	nfields = FIELDS;
	skt_assert_err(skt_http_req_parse(in + pos, n - pos, NULL, &r, fields,
					  &nfields),
		       SKT_EAGAIN);
}

SKT_TEST(http_req, nothing_written_while_incomplete)
{
	skt_http_req r = {.minor = 77, .why = SKT_HTTP_HOST};
	size_t nf = 3;
	skt_assert_err(skt_http_req_parse(sktest_guarded("GET / HTTP/1.1\r\n"),
					  16, NULL, &r, fields, &nf),
		       SKT_EAGAIN);
	cr_assert(r.minor == 77 && r.why == SKT_HTTP_HOST && nf == 3);
}

SKT_TEST(http_req, failure_writes_only_why)
{
	skt_http_req r = {.minor = 77};
	skt_assert_err(parse("GET / HTTP/1.1\r\n\r\n", &r), SKT_EMALFORMED);
	cr_assert_eq(r.why, SKT_HTTP_HOST_MISSING);
	cr_assert_eq(r.minor, 77);
	skt_assert_err(parse("GET / HTTP/3.0\r\n\r\n", &r), SKT_EUNSUPPORTED);
	cr_assert_eq(r.why, SKT_HTTP_VERSION_UNSUPPORTED);
	skt_assert_err(parse("POST / HTTP/1.1\r\nHost: a\r\n"
			     "Transfer-Encoding: gzip, chunked\r\n\r\n",
			     &r),
		       SKT_EUNSUPPORTED);
	cr_assert_eq(skt_http_rule_status(r.why), 501);
}

SKT_TEST(http_req, bare_lf_never_accepted)
{
	skt_http_opts o = {.bare_lf = true};
	skt_http_req r;
	const char *s = "GET / HTTP/1.1\nHost: a\n\n";
	skt_assert_err(parse_opts(s, strlen(s), &o, &r), SKT_EMALFORMED);
	cr_assert_eq(r.why, SKT_HTTP_BARE_LF);
}

/* ---- Limits ---- */

SKT_TEST(http_req, field_count_is_the_array)
{
	char s[512];
	size_t n =
		(size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < FIELDS; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "X%d: v\r\n", i);
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n");
	skt_http_req r;
	cr_assert_eq(parse_opts(s, n, NULL, &r), (int)n);
	cr_assert_eq(nfields, FIELDS);
	memcpy(s + n - 2, "Y: 1\r\n\r\n", 8);
	skt_assert_err(parse_opts(s, n + 6, NULL, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_TOO_MANY_FIELDS);
	cr_assert_eq(skt_http_rule_status(r.why), 431);
}

SKT_TEST(http_req, long_request_line_is_414)
{
	skt_http_opts o = {.line_max = 32};
	skt_http_req r;
	/* 32 bytes of line: accepted; 33: too long, before its end. */
	const char *ok = "GET /0123456789abcdefgh HTTP/1.1\r\nHost: a\r\n\r\n";
	cr_assert_eq(parse_opts(ok, strlen(ok), &o, &r), (int)strlen(ok));
	const char *bad = "GET /0123456789abcdefghi HTTP/1.1";
	skt_assert_err(parse_opts(bad, strlen(bad), &o, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_START_TOO_LONG);
	cr_assert_eq(skt_http_rule_status(r.why), 414);
	/* Over the limit first, malformed after: the verdict does not
	 * depend on how much of the line has arrived. */
	const char *tok = "GETGETGETGETGETGETGETGETGETGETGET\r\n";
	skt_assert_err(parse_opts(tok, strlen(tok), &o, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_START_TOO_LONG);
	const char *field = "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef"
			    "0123456789abcdef\r\n\r\n";
	skt_assert_err(parse_opts(field, strlen(field), &o, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_LINE_TOO_LONG);
	cr_assert_eq(skt_http_rule_status(r.why), 431);
}

SKT_TEST(http_req, head_limit_before_its_end)
{
	skt_http_opts o = {.head_max = 64};
	skt_http_req r;
	char s[128];
	memset(s, 'a', sizeof(s));
	memcpy(s, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
	cr_assert_eq(parse_opts(s, 63, &o, &r), SKT_EAGAIN);
	skt_assert_err(parse_opts(s, 64, &o, &r), SKT_ETOOBIG);
	cr_assert_eq(r.why, SKT_HTTP_HEAD_TOO_BIG);
	skt_assert_err(parse_opts(s, sizeof(s), &o, &r), SKT_ETOOBIG);
	/* A head of exactly head_max bytes fits. */
	memcpy(s + 60, "\r\n\r\n", 4);
	cr_assert_eq(parse_opts(s, sizeof(s), &o, &r), 64);
}

SKT_TEST(http_req, empty_lines_count_against_the_head)
{
	skt_http_opts o = {.head_max = 64};
	skt_http_req r;
	char crlf[64];
	for (int i = 0; i < 64; i += 2)
		memcpy(crlf + i, "\r\n", 2);
	cr_assert_eq(parse_opts(crlf, 62, &o, &r), SKT_EAGAIN);
	skt_assert_err(parse_opts(crlf, 64, &o, &r), SKT_ETOOBIG);
}

/* ---- The rule table ---- */

SKT_TEST(http_req, every_rule_has_words_and_a_status)
{
	for (int i = 0; i < SKT_HTTP_RULE_COUNT_; i++) {
		const char *s = skt_http_rule_str((skt_http_rule)i);
		int st = skt_http_rule_status((skt_http_rule)i);
		cr_assert(s != NULL && s[0] != '\0');
		cr_assert(st == 200 || st == 400 || st == 413 || st == 414 ||
				  st == 431 || st == 501 || st == 505,
			  "rule %d: status %d", i, st);
		cr_assert_eq(st == 200, i == SKT_HTTP_OK);
	}
	cr_assert_str_eq(skt_http_rule_str(SKT_HTTP_RULE_COUNT_),
			 "unknown rule");
	cr_assert_eq(skt_http_rule_status((skt_http_rule)-1), 400);
	cr_assert_eq(skt_http_rule_status(SKT_HTTP_VERSION_UNSUPPORTED), 505);
	cr_assert_eq(skt_http_rule_status(SKT_HTTP_TE_UNSUPPORTED), 501);
	cr_assert_eq(skt_http_rule_status(SKT_HTTP_HEAD_TOO_BIG), 431);
}
