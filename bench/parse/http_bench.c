/* resp_bench.c - how long reading one HTTP/1.1 response head takes with
 * sockit's parser (src/bench/resp.c) and with nodejs's http_parser 2.9
 * (Debian's libhttp-parser-dev), on the same bytes.
 *
 *   resp_bench [MILLIONS]      (default 2: parses per parser and input)
 *
 * Both parsers do the work `sockit bench` needs from a head: status,
 * Content-Length, chunked or not, keep-alive or not. http_parser gets no
 * data callbacks (only on_headers_complete), so neither copies or
 * collects fields; each call starts from a fresh parser, as a new
 * response does. Before timing, the two must agree on the head's length,
 * status, length and keep-alive.
 *
 * Prints one line per measurement, for run.sh to take medians of:
 *   <input> <head bytes> <fields> <parser> <ns per head>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* clock_gettime under -std=c11 */
#endif
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/resp.h"

/* nginx 1.22 serving its default index.html. */
static const char small[] = "HTTP/1.1 200 OK\r\n"
			    "Server: nginx/1.22.1\r\n"
			    "Date: Thu, 21 Nov 2024 02:16:00 GMT\r\n"
			    "Content-Type: text/html\r\n"
			    "Content-Length: 615\r\n"
			    "Last-Modified: Tue, 13 Jun 2023 15:08:10 GMT\r\n"
			    "Connection: keep-alive\r\n"
			    "\r\n";

/* An application behind nginx: cookies, caching and security headers. */
static const char large[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Thu, 21 Nov 2024 02:16:00 GMT\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 1843\r\n"
    "Connection: keep-alive\r\n"
    "Vary: Accept-Encoding\r\n"
    "Vary: Origin\r\n"
    "Cache-Control: private, no-cache, no-store, must-revalidate\r\n"
    "Pragma: no-cache\r\n"
    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    "ETag: W/\"733-1JUrYHn2CbV0n1+Gdlp0qt6R8ZE\"\r\n"
    "Set-Cookie: session=6f1c0b3e9a2d4c58b7e1f0a9d3c2b1a0; Path=/; "
    "HttpOnly; Secure; SameSite=Lax\r\n"
    "X-Request-Id: 3b9a4f2e-8c1d-4e7a-9f60-2d5b8e1c7a43\r\n"
    "X-Frame-Options: SAMEORIGIN\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-XSS-Protection: 1; mode=block\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"
    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
    "Access-Control-Allow-Origin: https://app.example.com\r\n"
    "Access-Control-Allow-Credentials: true\r\n"
    "\r\n";

typedef struct answer {
	size_t len;
	int status;
	long long clen;
	int keep_alive;
} answer;

static int on_headers_complete(http_parser *p)
{
	(void)p;
	return 0;
}

static http_parser_settings hp_settings = {
    .on_headers_complete = on_headers_complete,
};

static answer with_sockit(const char *s, size_t n)
{
	skt__http_resp r;
	int rc = skt__http_resp_parse(s, n, &r);
	answer a = {rc > 0 ? (size_t)rc : 0, r.status, r.content_length,
		    !r.close};
	if (rc <= 0)
		a.status = rc;
	return a;
}

static answer with_http_parser(const char *s, size_t n)
{
	http_parser p;
	http_parser_init(&p, HTTP_RESPONSE);
	size_t used = http_parser_execute(&p, &hp_settings, s, n);
	answer a = {used, (int)p.status_code, (long long)p.content_length,
		    http_should_keep_alive(&p)};
	if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
		a.status = -1;
	return a;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Whatever the loop computes goes here, so it cannot be optimised out. */
static volatile size_t sink;

static double time_it(answer (*fn)(const char *, size_t), const char *s,
		      size_t n, long iters)
{
	size_t acc = 0;
	for (long i = 0; i < iters / 20; i++) /* warm caches and branches */
		acc += fn(s, n).len;
	double t0 = now_ns();
	for (long i = 0; i < iters; i++)
		acc += fn(s, n).len;
	double t1 = now_ns();
	sink += acc;
	return (t1 - t0) / (double)iters;
}

static int fields_of(const char *s)
{
	int lines = 0;
	for (const char *p = s; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	return lines - 2; /* the status line and the empty line */
}

static int agree(const char *name, const char *s, size_t n)
{
	answer a = with_sockit(s, n), b = with_http_parser(s, n);
	if (a.len == n && b.len == n && a.status == b.status &&
	    a.clen == b.clen && a.keep_alive == b.keep_alive)
		return 0;
	fprintf(stderr,
		"resp_bench: %s: parsers disagree: sockit %zu/%d/%lld/%d, "
		"http_parser %zu/%d/%lld/%d\n",
		name, a.len, a.status, a.clen, a.keep_alive, b.len, b.status,
		b.clen, b.keep_alive);
	return -1;
}

int main(int argc, char **argv)
{
	double millions = argc > 1 ? atof(argv[1]) : 2;
	long iters = (long)(millions * 1e6);
	if (iters < 1000) {
		fprintf(stderr, "usage: resp_bench [MILLIONS]\n");
		return 2;
	}
	struct {
		const char *name, *s;
		size_t n;
	} in[] = {{"small", small, sizeof(small) - 1},
		  {"large", large, sizeof(large) - 1}};
	for (size_t i = 0; i < 2; i++)
		if (agree(in[i].name, in[i].s, in[i].n) != 0)
			return 1;
	for (size_t i = 0; i < 2; i++) {
		double a = time_it(with_sockit, in[i].s, in[i].n, iters);
		double b = time_it(with_http_parser, in[i].s, in[i].n, iters);
		printf("%s %zu %d sockit %.1f\n", in[i].name, in[i].n,
		       fields_of(in[i].s), a);
		printf("%s %zu %d http_parser %.1f\n", in[i].name, in[i].n,
		       fields_of(in[i].s), b);
	}
	return 0;
}
