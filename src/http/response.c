/* response.c - HTTP/1.x response heads (RFC 9112 4, 5, 6), as a client
 * reads them: enough to know where the response ends and whether the
 * connection can carry the next request.
 *
 * Re-scans from the first byte on every call, as request.c does. Stricter
 * than most clients need to be about line ends (a lone LF only when the
 * caller allows it), because a client that frames a response differently
 * from the proxy in front of it is how responses are split.
 */
#include "http/http_int.h"

/* Byte i of "HTTP/1.x NNN": checked one by one, so that a partial line
 * that cannot become a status line is an error at once. */
static skt_http_rule status_byte(size_t i, char c)
{
	static const char proto[] = "HTTP/1.";
	if (i < 7)
		return c == proto[i] ? SKT_HTTP_OK : SKT_HTTP_VERSION;
	if (i == 7)
		return c == '0' || c == '1' ? SKT_HTTP_OK : SKT_HTTP_VERSION;
	if (i == 8)
		return c == ' ' ? SKT_HTTP_OK : SKT_HTTP_START_LINE;
	if (i == 9) /* 100-599 */
		return c >= '1' && c <= '5' ? SKT_HTTP_OK : SKT_HTTP_STATUS;
	return c >= '0' && c <= '9' ? SKT_HTTP_OK : SKT_HTTP_STATUS;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ], with
 * "HTTP/1.1 200" CRLF (no SP) accepted too, as picohttpparser does. */
static int status_line(skt__http_head *h, skt_http_resp *r)
{
	const char *b = h->buf;
	size_t n = h->lim < 12 ? h->lim : 12;
	h->long_rule = SKT_HTTP_START_TOO_LONG;
	for (size_t i = 0; i < n; i++) {
		skt_http_rule rule = status_byte(i, b[i]);
		if (rule != SKT_HTTP_OK)
			return skt__http_fail_at(h, i, rule);
	}
	if (n < 12 || h->lim == 12)
		return skt__http_short(h);
	r->minor = b[7] - '0';
	r->status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	r->reason = b + 12;
	r->reason_len = 0;
	h->pos = 12;
	if (b[12] == ' ') {
		h->pos = 13;
		int rc = skt__http_text(h, SKT_HTTP_REASON);
		if (rc != 0)
			return rc;
		r->reason = b + 13;
		r->reason_len = h->pos - 13;
	} else if (b[12] != '\r' && b[12] != '\n') {
		return skt__http_fail_at(h, 12, SKT_HTTP_STATUS);
	}
	return skt__http_eol(h);
}

/* Framing from the fields, RFC 9112 6.1 and 6.3. */
static void decide(skt_http_resp *r, const skt__http_fields *f, bool to_head)
{
	int s = r->status;
	r->no_body = to_head || s < 200 || s == 204 || s == 304;
	r->chunked = f->te && f->te_chunked;
	r->content_length = f->te ? -1 : f->length;
	r->close = f->conn_close || (r->minor == 0 && !f->conn_keep_alive) ||
		   (r->minor == 0 && f->te) ||
		   (!r->no_body && !r->chunked && r->content_length < 0);
	r->why = SKT_HTTP_OK;
}

int skt_http_resp_parse(const char *buf, size_t len, bool to_head,
			const skt_http_opts *opts, skt_http_resp *resp,
			skt_http_field *fields, size_t *nfields)
{
	skt__http_head h;
	skt__http_head_init(&h, buf, len, opts, true);
	skt__http_fields f = {.out = fields, .cap = *nfields, .length = -1};
	skt_http_resp r;
	int rc = status_line(&h, &r);
	if (rc == 0)
		rc = skt__http_fields_parse(&h, &f);
	if (rc == SKT_EAGAIN)
		return rc;
	if (rc != 0) {
		resp->why = h.why;
		return rc;
	}
	decide(&r, &f, to_head);
	*resp = r;
	*nfields = f.n;
	return (int)h.pos;
}
