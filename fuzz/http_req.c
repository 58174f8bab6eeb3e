/* http_req.c - fuzz the request-head parser (skt_http_req_parse), what a
 * server reads from any client.
 *
 * Input: a flags byte (bits 0-1 pick the limits: defaults, a 64-byte head,
 * 24-byte lines, 4 fields), a 16-bit cut point, then the head.
 *
 * Properties: the return is a length, SKT_EAGAIN (only below head_max) or
 * one of the three documented errors, that error being the code of the
 * rule named in why; a parsed head ends with CRLF inside the input and
 * within head_max, its method is a token, its target and fields lie inside
 * it, its fields are no more than the array, Content-Length and chunked
 * exclude each other, HTTP/1.1 has a Host; the head alone parses the
 * same, and every shorter prefix is SKT_EAGAIN; a failing input fails the
 * same way with more bytes after it.
 */
#include "fuzz.h"

#include "sockit/http.h"

#include <string.h>

#define FIELDS 32

static const skt_http_opts limits[4] = {
	{0, 0, false},
	{.head_max = 64},
	{.line_max = 24},
	{0, 0, false},
};

typedef struct parsed {
	int rc;
	skt_http_req r;
	size_t nf;
	skt_http_field f[FIELDS];
} parsed;

static void parse(const uint8_t *p, size_t n, int sel, parsed *out)
{
	out->nf = sel == 3 ? 4 : FIELDS;
	out->r.why = SKT_HTTP_OK;
	out->rc = skt_http_req_parse((const char *)p, n, &limits[sel], &out->r,
				     out->f, &out->nf);
}

static bool inside(const char *s, size_t len, const uint8_t *p, size_t n)
{
	return s >= (const char *)p && s + len <= (const char *)p + n;
}

static void check_ok(const uint8_t *p, size_t n, int sel, const parsed *a)
{
	size_t len = (size_t)a->rc;
	size_t max =
		limits[sel].head_max ? limits[sel].head_max : SKT_HTTP_HEAD_MAX;
	FUZZ_CHECK(len <= n && len <= max && len >= 4);
	FUZZ_CHECK(p[len - 1] == '\n' && p[len - 2] == '\r');
	const skt_http_req *r = &a->r;
	FUZZ_CHECK(r->why == SKT_HTTP_OK);
	FUZZ_CHECK(r->method_len > 0 &&
		   inside(r->method, r->method_len, p, len));
	FUZZ_CHECK(r->target_len > 0 &&
		   inside(r->target, r->target_len, p, len));
	for (size_t i = 0; i < r->method_len; i++)
		FUZZ_CHECK(r->method[i] > ' ' && r->method[i] < 0x7f);
	FUZZ_CHECK(r->minor >= 0 && r->minor <= 9);
	FUZZ_CHECK(r->content_length >= -1);
	FUZZ_CHECK(!(r->chunked && r->content_length >= 0));
	FUZZ_CHECK(r->minor == 0 || r->host != NULL);
	FUZZ_CHECK(r->host == NULL || inside(r->host, r->host_len, p, len));
	FUZZ_CHECK(a->nf <= FIELDS);
	for (size_t i = 0; i < a->nf; i++) {
		FUZZ_CHECK(a->f[i].name_len > 0);
		FUZZ_CHECK(inside(a->f[i].name, a->f[i].name_len, p, len));
		FUZZ_CHECK(inside(a->f[i].value, a->f[i].value_len, p, len));
		for (size_t k = 0; k < a->f[i].value_len; k++)
			FUZZ_CHECK(a->f[i].value[k] != '\0' &&
				   a->f[i].value[k] != '\r' &&
				   a->f[i].value[k] != '\n');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	int sel = fuzz_u8(&in) & 3;
	size_t cut = fuzz_u16(&in);
	static parsed a, b;
	parse(in.p, in.n, sel, &a);
	int rc = a.rc;
	FUZZ_CHECK(rc > 0 || rc == SKT_EAGAIN || rc == SKT_EMALFORMED ||
		   rc == SKT_ETOOBIG || rc == SKT_EUNSUPPORTED);
	if (rc == SKT_EAGAIN) {
		size_t max = limits[sel].head_max ? limits[sel].head_max
						  : SKT_HTTP_HEAD_MAX;
		FUZZ_CHECK(in.n < max);
	} else if (rc < 0) {
		FUZZ_CHECK(a.r.why != SKT_HTTP_OK);
		int st = skt_http_rule_status(a.r.why);
		FUZZ_CHECK(st >= 400 && st <= 505);
		/* More bytes after a failure change nothing. */
		uint8_t *more = malloc(in.n + 2);
		FUZZ_CHECK(more != NULL);
		memcpy(more, in.p, in.n);
		memcpy(more + in.n, "\r\n", 2);
		parse(more, in.n + 2, sel, &b);
		free(more);
		FUZZ_CHECK(b.rc == rc && b.r.why == a.r.why);
	} else {
		check_ok(in.p, in.n, sel, &a);
		size_t len = (size_t)rc;
		parse(in.p, len, sel, &b);
		FUZZ_CHECK(b.rc == rc && b.nf == a.nf);
		FUZZ_CHECK(b.r.content_length == a.r.content_length &&
			   b.r.keep_alive == a.r.keep_alive &&
			   b.r.chunked == a.r.chunked);
		parse(in.p, len - 1, sel, &b);
		FUZZ_CHECK(b.rc == SKT_EAGAIN);
		parse(in.p, cut % len, sel, &b);
		FUZZ_CHECK(b.rc == SKT_EAGAIN);
	}
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
