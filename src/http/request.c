/* request.c - HTTP/1.x request heads (RFC 9112 3, 5, 6), as a server
 * reads them.
 *
 * Like picohttpparser, the parser starts from the first byte on every
 * call: a head is small, the common case is that it arrives whole, and
 * re-scanning a partial one costs less than keeping state. What a server
 * must refuse to stop request smuggling is refused here, so that no caller
 * can forget it: a bare LF or CR, Content-Length twice, Transfer-Encoding
 * with Content-Length, a final coding other than chunked, Host missing in
 * HTTP/1.1 or given twice.
 */
#include "http/http_int.h"

#include <string.h>

/* Empty lines before a request line are skipped (RFC 9112 2.2: a server
 * SHOULD ignore at least one), each a strict CRLF. */
static int leading_empty_lines(skt__http_head *h)
{
	while (h->pos < h->lim &&
	       (h->buf[h->pos] == '\r' || h->buf[h->pos] == '\n')) {
		h->line = h->pos;
		int rc = skt__http_eol(h);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The byte that ended the method or the target is not SP: a line end
 * there is a malformed start line (HTTP/0.9's "GET /" included), anything
 * else breaks the element's own rule. */
static int not_sp(skt__http_head *h, size_t i, skt_http_rule rule)
{
	char c = h->buf[i];
	return skt__http_fail_at(
		h, i, c == '\r' || c == '\n' ? SKT_HTTP_START_LINE : rule);
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3),
 * then the line end; checked byte by byte, so a partial line that cannot
 * become one is an error at once. */
static int version(skt__http_head *h, skt_http_req *r)
{
	static const char proto[] = "HTTP/";
	const char *v = h->buf + h->pos;
	size_t have = h->lim - h->pos;
	for (size_t i = 0; i < 8 && i < have; i++) {
		bool ok = i < 5    ? v[i] == proto[i]
			  : i == 6 ? v[i] == '.'
				   : v[i] >= '0' && v[i] <= '9';
		if (!ok)
			return skt__http_fail_at(h, h->pos + i,
						 SKT_HTTP_VERSION);
	}
	if (have <= 8)
		return skt__http_short(h);
	if (v[8] != '\r' && v[8] != '\n')
		return skt__http_fail_at(h, h->pos + 8, SKT_HTTP_VERSION);
	h->pos += 8;
	int rc = skt__http_eol(h);
	if (rc != 0)
		return rc;
	if (v[5] != '1')
		return skt__http_fail(h, SKT_HTTP_VERSION_UNSUPPORTED);
	r->minor = v[7] - '0';
	return 0;
}

/* request-line = method SP request-target SP HTTP-version. The target is
 * any run of visible bytes: its form (origin, absolute, authority,
 * asterisk) is the caller's business. */
static int request_line(skt__http_head *h, skt_http_req *r)
{
	const unsigned char *p = (const unsigned char *)h->buf;
	int rc = leading_empty_lines(h);
	if (rc != 0)
		return rc;
	size_t i = h->pos, m = h->pos;
	h->line = m;
	h->long_rule = SKT_HTTP_START_TOO_LONG;
	while (i < h->lim && skt__http_is(p[i], SKT__HTTP_TCHAR))
		i++;
	if (i == h->lim)
		return skt__http_short(h);
	if (i == m)
		return skt__http_fail_at(h, i, SKT_HTTP_METHOD);
	if (p[i] != ' ')
		return not_sp(h, i, SKT_HTTP_METHOD);
	size_t t = ++i;
	while (i < h->lim && skt__http_is(p[i], SKT__HTTP_VCHAR))
		i++;
	if (i == h->lim)
		return skt__http_short(h);
	if (i == t)
		return skt__http_fail_at(h, i, SKT_HTTP_TARGET);
	if (p[i] != ' ')
		return not_sp(h, i, SKT_HTTP_TARGET);
	r->method = h->buf + m;
	r->method_len = t - 1 - m;
	r->target = h->buf + t;
	r->target_len = i - t;
	h->pos = i + 1;
	return version(h, r);
}

/* Framing and persistence from the fields (RFC 9112 3.2, 6.1, 6.3, 9.3). */
static int decide(skt__http_head *h, skt_http_req *r, const skt__http_fields *f)
{
	if (r->minor >= 1 && f->hosts == 0)
		return skt__http_fail(h, SKT_HTTP_HOST_MISSING);
	if (f->te) {
		/* Either length could be the one a proxy in front used. */
		if (f->length >= 0)
			return skt__http_fail(h, SKT_HTTP_TE_AND_CL);
		/* Without a final chunked the length cannot be known: 400
		 * (6.3 rule 4); chunked after a coding we cannot undo: 501
		 * (6.1). */
		if (!f->te_chunked || f->te_bad)
			return skt__http_fail(h, SKT_HTTP_TE);
		if (f->te_other)
			return skt__http_fail(h, SKT_HTTP_TE_UNSUPPORTED);
	}
	r->chunked = f->te;
	r->content_length = f->length;
	r->keep_alive = !f->conn_close &&
			(r->minor >= 1 || f->conn_keep_alive) &&
			!(r->minor == 0 && f->te);
	r->expect_continue = f->expect_continue;
	r->host = f->host;
	r->host_len = f->host_len;
	r->why = SKT_HTTP_OK;
	return 0;
}

int skt_http_req_parse(const char *buf, size_t len, const skt_http_opts *opts,
		       skt_http_req *req, skt_http_field *fields,
		       size_t *nfields)
{
	skt__http_head h;
	skt__http_head_init(&h, buf, len, opts, false);
	skt__http_fields f = {
		.out = fields, .cap = *nfields, .length = -1, .request = true};
	skt_http_req r;
	int rc = request_line(&h, &r);
	if (rc == 0)
		rc = skt__http_fields_parse(&h, &f);
	if (rc == 0)
		rc = decide(&h, &r, &f);
	if (rc == SKT_EAGAIN)
		return rc;
	if (rc != 0) {
		req->why = h.why;
		return rc;
	}
	*req = r;
	*nfields = f.n;
	return (int)h.pos;
}
