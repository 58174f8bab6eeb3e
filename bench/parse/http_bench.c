/* http_bench.c - how long reading one HTTP/1.1 request head and one
 * response head takes with sockit's codec (sockit/http.h, src/http/) and
 * with nodejs's http_parser 2.9 (Debian's libhttp-parser-dev), on the same
 * bytes.
 *
 *   http_bench [MILLIONS]      (default 2: parses per parser and input)
 *
 * Both parsers find the end of the head, validate it and derive what a
 * server or client needs: method or status, Content-Length, chunked or
 * not, keep-alive or not. sockit also stores every field (name and value
 * pointers) in the caller's array, as its API always does; http_parser
 * gets no data callbacks (only on_headers_complete), so it collects
 * nothing. Each call starts from a fresh parser state, as a new message
 * does. Before timing, the two must agree on the head's length, the
 * status or method, the length and keep-alive.
 *
 * Prints one line per measurement, for run.sh to take medians of:
 *   <kind> <input> <head bytes> <fields> <parser> <ns per head>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* clock_gettime under -std=c11 */
#endif
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sockit/http.h"

/* curl 7.88 asking for a page. */
static const char req_small[] = "GET /index.html HTTP/1.1\r\n"
				"Host: www.example.com\r\n"
				"User-Agent: curl/7.88.1\r\n"
				"Accept: */*\r\n"
				"\r\n";

/* Firefox asking for a page of an application with a session. */
static const char req_large[] =
	"GET /api/v2/orders?page=3&sort=-created HTTP/1.1\r\n"
	"Host: app.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
	"Firefox/128.0\r\n"
	"Accept: application/json, text/plain, */*\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br, zstd\r\n"
	"Referer: https://app.example.com/orders\r\n"
	"X-Requested-With: XMLHttpRequest\r\n"
	"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi"
	"IxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\r\n"
	"Connection: keep-alive\r\n"
	"Cookie: session=6f1c0b3e9a2d4c58b7e1f0a9d3c2b1a0; theme=dark; "
	"_ga=GA1.2.1234567890.1700000000; consent=analytics%3Dno\r\n"
	"Sec-Fetch-Dest: empty\r\n"
	"Sec-Fetch-Mode: cors\r\n"
	"Sec-Fetch-Site: same-origin\r\n"
	"Priority: u=4\r\n"
	"Pragma: no-cache\r\n"
	"Cache-Control: no-cache\r\n"
	"\r\n";

/* nginx 1.22 serving its default index.html. */
static const char resp_small[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.22.1\r\n"
	"Date: Thu, 21 Nov 2024 02:16:00 GMT\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 615\r\n"
	"Last-Modified: Tue, 13 Jun 2023 15:08:10 GMT\r\n"
	"Connection: keep-alive\r\n"
	"\r\n";

/* An application behind nginx: cookies, caching and security headers. */
static const char resp_large[] =
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
	int what; /* the status, or 1 for GET; negative on failure */
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

static skt_http_field fields[64];

static answer sockit_req(const char *s, size_t n)
{
	skt_http_req r;
	size_t nf = 64;
	int rc = skt_http_req_parse(s, n, NULL, &r, fields, &nf);
	if (rc <= 0)
		return (answer){0, rc, 0, 0};
	return (answer){(size_t)rc,
			r.method_len == 3 && memcmp(r.method, "GET", 3) == 0,
			r.content_length, r.keep_alive};
}

static answer sockit_resp(const char *s, size_t n)
{
	skt_http_resp r;
	size_t nf = 64;
	int rc = skt_http_resp_parse(s, n, false, NULL, &r, fields, &nf);
	if (rc <= 0)
		return (answer){0, rc, 0, 0};
	return (answer){(size_t)rc, r.status, r.content_length, !r.close};
}

static answer with_http_parser(const char *s, size_t n, enum http_parser_type t)
{
	http_parser p;
	http_parser_init(&p, t);
	size_t used = http_parser_execute(&p, &hp_settings, s, n);
	answer a = {used,
		    t == HTTP_REQUEST ? p.method == HTTP_GET
				      : (int)p.status_code,
		    (long long)p.content_length, http_should_keep_alive(&p)};
	if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
		a.what = -1;
	return a;
}

static answer hp_req(const char *s, size_t n)
{
	return with_http_parser(s, n, HTTP_REQUEST);
}

static answer hp_resp(const char *s, size_t n)
{
	return with_http_parser(s, n, HTTP_RESPONSE);
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
	return lines - 2; /* the start line and the empty line */
}

typedef struct input {
	const char *kind, *name, *s;
	size_t n;
	answer (*sockit)(const char *, size_t);
	answer (*hp)(const char *, size_t);
} input;

static int agree(const input *in)
{
	answer a = in->sockit(in->s, in->n), b = in->hp(in->s, in->n);
	if (a.len == in->n && b.len == in->n && a.what == b.what &&
	    a.clen == b.clen && a.keep_alive == b.keep_alive)
		return 0;
	fprintf(stderr,
		"http_bench: %s %s: parsers disagree: sockit %zu/%d/%lld/%d, "
		"http_parser %zu/%d/%lld/%d\n",
		in->kind, in->name, a.len, a.what, a.clen, a.keep_alive, b.len,
		b.what, b.clen, b.keep_alive);
	return -1;
}

#define INPUT(kind, name, s, a, b)                                             \
	{                                                                      \
		kind, name, s, sizeof(s) - 1, a, b                             \
	}

int main(int argc, char **argv)
{
	double millions = argc > 1 ? atof(argv[1]) : 2;
	long iters = (long)(millions * 1e6);
	if (iters < 1000) {
		fprintf(stderr, "usage: http_bench [MILLIONS]\n");
		return 2;
	}
	static const input in[] = {
		INPUT("request", "small", req_small, sockit_req, hp_req),
		INPUT("request", "large", req_large, sockit_req, hp_req),
		INPUT("response", "small", resp_small, sockit_resp, hp_resp),
		INPUT("response", "large", resp_large, sockit_resp, hp_resp),
	};
	size_t count = sizeof(in) / sizeof(in[0]);
	for (size_t i = 0; i < count; i++)
		if (agree(&in[i]) != 0)
			return 1;
	for (size_t i = 0; i < count; i++) {
		double a = time_it(in[i].sockit, in[i].s, in[i].n, iters);
		double b = time_it(in[i].hp, in[i].s, in[i].n, iters);
		printf("%s %s %zu %d sockit %.1f\n", in[i].kind, in[i].name,
		       in[i].n, fields_of(in[i].s), a);
		printf("%s %s %zu %d http_parser %.1f\n", in[i].kind,
		       in[i].name, in[i].n, fields_of(in[i].s), b);
	}
	return 0;
}
