/* head.c - what request and response heads share: line ends, limits,
 * field lines (RFC 9112 5) and the fields that decide framing (6.1, 6.3).
 *
 * Each line is checked as soon as it is complete, and a partial line as
 * far as it goes, so a malformed head is an error without waiting for its
 * end; running out of input is SKT_EAGAIN until head_max bytes are in.
 */
#include "http/http_int.h"

#include <limits.h>
#include <string.h>

void skt__http_head_init(skt__http_head *h, const char *buf, size_t len,
			 const skt_http_opts *o, bool bare_lf_ok)
{
	memset(h, 0, sizeof(*h));
	h->buf = buf;
	h->len = len;
	h->head_max =
		o != NULL && o->head_max != 0 ? o->head_max : SKT_HTTP_HEAD_MAX;
	h->line_max =
		o != NULL && o->line_max != 0 ? o->line_max : SKT_HTTP_LINE_MAX;
	if (h->head_max > INT_MAX) /* the length is returned as an int */
		h->head_max = INT_MAX;
	if (h->line_max > h->head_max)
		h->line_max = h->head_max;
	h->lim = len < h->head_max ? len : h->head_max;
	h->bare_lf = bare_lf_ok && o != NULL && o->bare_lf;
	h->long_rule = SKT_HTTP_LINE_TOO_LONG;
}

int skt__http_fail(skt__http_head *h, skt_http_rule rule)
{
	h->why = rule;
	return skt__http_rule_code(rule);
}

int skt__http_fail_at(skt__http_head *h, size_t i, skt_http_rule rule)
{
	return skt__http_fail(h,
			      i - h->line > h->line_max ? h->long_rule : rule);
}

int skt__http_short(skt__http_head *h)
{
	/* A CR at the end may be the start of the line end: not counted. */
	size_t have = h->lim - h->line;
	if (have > 0 && h->buf[h->lim - 1] == '\r')
		have--;
	if (have > h->line_max)
		return skt__http_fail(h, h->long_rule);
	if (h->len >= h->head_max)
		return skt__http_fail(h, SKT_HTTP_HEAD_TOO_BIG);
	return SKT_EAGAIN;
}

int skt__http_eol(skt__http_head *h)
{
	if (h->pos - h->line > h->line_max)
		return skt__http_fail(h, h->long_rule);
	if (h->buf[h->pos] == '\n') {
		if (!h->bare_lf)
			return skt__http_fail(h, SKT_HTTP_BARE_LF);
		h->pos++;
		return 0;
	}
	/* At a CR (RFC 9112 2.2 lets a recipient reject a bare one). */
	if (h->pos + 1 >= h->lim)
		return skt__http_short(h);
	if (h->buf[h->pos + 1] != '\n')
		return skt__http_fail(h, SKT_HTTP_BARE_CR);
	h->pos += 2;
	return 0;
}

int skt__http_text(skt__http_head *h, skt_http_rule bad)
{
	const unsigned char *p = (const unsigned char *)h->buf;
	size_t i = h->pos;
	while (i < h->lim && skt__http_is(p[i], SKT__HTTP_TEXT))
		i++;
	h->pos = i;
	if (i == h->lim)
		return skt__http_short(h);
	return p[i] == '\r' || p[i] == '\n' ? 0 : skt__http_fail_at(h, i, bad);
}

/* Content-Length = 1*DIGIT, here at most 18 of them, so the arithmetic
 * cannot overflow. A list ("5, 5") is never accepted; a repeat only in a
 * response and with the same value (RFC 9110 8.6, RFC 9112 6.3 rule 5). */
static int content_length(skt__http_head *h, skt__http_fields *f, const char *v,
			  size_t n)
{
	if (memchr(v, ',', n) != NULL)
		return skt__http_fail(h, SKT_HTTP_CONTENT_LENGTH_DUP);
	if (n == 0 || n > SKT_HTTP_LENGTH_DIGITS)
		return skt__http_fail(h, SKT_HTTP_CONTENT_LENGTH);
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return skt__http_fail(h, SKT_HTTP_CONTENT_LENGTH);
		x = x * 10 + (v[i] - '0');
	}
	if (f->length >= 0 && (f->request || f->length != x))
		return skt__http_fail(h, SKT_HTTP_CONTENT_LENGTH_DUP);
	f->length = x;
	return 0;
}

/* Transfer-Encoding = #transfer-coding, each a token with optional
 * ";param" parts. Repeated fields are one list, so the last coding of the
 * last field is the final one. */
static int transfer_encoding(skt__http_head *h, skt__http_fields *f,
			     const char *v, size_t n)
{
	const char *el;
	size_t ellen, i = 0;
	bool any = false;
	while (skt__http_list_next(v, n, &i, &el, &ellen)) {
		size_t k = 0;
		while (k < ellen &&
		       skt__http_is((unsigned char)el[k], SKT__HTTP_TCHAR))
			k++;
		size_t j = k;
		while (j < ellen && skt__http_ows(el[j]))
			j++;
		if (k == 0 || (j < ellen && el[j] != ';'))
			return skt__http_fail(h, SKT_HTTP_TE);
		bool chunked =
			k == 7 && skt__http_caseless_eq(el, "chunked", 7);
		/* Anything after chunked: it is not final, or applied twice
		 * (RFC 9112 6.1). */
		if (f->te_chunked)
			f->te_bad = true;
		f->te_chunked = chunked;
		if (!chunked)
			f->te_other = true;
		any = true;
	}
	if (!any)
		return skt__http_fail(h, SKT_HTTP_TE);
	f->te = true;
	return 0;
}

/* Connection = #connection-option; two matter here. */
static void connection(skt__http_fields *f, const char *v, size_t n)
{
	const char *el;
	size_t ellen, i = 0;
	while (skt__http_list_next(v, n, &i, &el, &ellen)) {
		if (ellen == 5 && skt__http_caseless_eq(el, "close", 5))
			f->conn_close = true;
		else if (ellen == 10 &&
			 skt__http_caseless_eq(el, "keep-alive", 10))
			f->conn_keep_alive = true;
	}
}

/* Host = uri-host [ ":" port ], once (RFC 9112 3.2): its bytes are
 * checked against what a host and port can hold, no more. */
static int host(skt__http_head *h, skt__http_fields *f, const char *v, size_t n)
{
	if (++f->hosts > 1)
		return skt__http_fail(h, SKT_HTTP_HOST_DUP);
	for (size_t i = 0; i < n; i++)
		if (!skt__http_is((unsigned char)v[i], SKT__HTTP_HOST))
			return skt__http_fail(h, SKT_HTTP_HOST);
	f->host = v;
	f->host_len = n;
	return 0;
}

static int field(skt__http_head *h, skt__http_fields *f, const char *name,
		 size_t nlen, const char *v, size_t vlen)
{
	if (f->n == f->cap)
		return skt__http_fail(h, SKT_HTTP_TOO_MANY_FIELDS);
	f->out[f->n++] = (skt_http_field){name, nlen, v, vlen};
	switch (nlen) {
	case 4:
		if (skt__http_caseless_eq(name, "host", 4))
			return host(h, f, v, vlen);
		break;
	case 6:
		if (skt__http_caseless_eq(name, "expect", 6))
			f->expect_continue =
				vlen == 12 &&
				skt__http_caseless_eq(v, "100-continue", 12);
		break;
	case 10:
		if (skt__http_caseless_eq(name, "connection", 10))
			connection(f, v, vlen);
		break;
	case 14:
		if (skt__http_caseless_eq(name, "content-length", 14))
			return content_length(h, f, v, vlen);
		break;
	case 17:
		if (skt__http_caseless_eq(name, "transfer-encoding", 17))
			return transfer_encoding(h, f, v, vlen);
		break;
	}
	return 0;
}

/* The name stopped at p[i], not a token byte: which rule that breaks. */
static int bad_name(skt__http_head *h, size_t start, size_t i)
{
	unsigned char c = (unsigned char)h->buf[i];
	if (c == '\r' || c == '\n') {
		h->pos = i;
		int rc = skt__http_eol(h);
		return rc != 0 ? rc : skt__http_fail(h, SKT_HTTP_NO_COLON);
	}
	if (skt__http_ows((char)c))
		return skt__http_fail_at(h, i,
					 i == start
						 ? SKT_HTTP_OBS_FOLD
						 : SKT_HTTP_SPACE_BEFORE_COLON);
	return skt__http_fail_at(h, i, SKT_HTTP_NAME);
}

/* field-line = field-name ":" OWS field-value OWS, at h->pos (not a line
 * end). A line that starts with whitespace is obsolete folding (or
 * whitespace after the start line), whitespace before the colon is how
 * two parsers come to disagree on a name: both are errors (RFC 9112 5.1,
 * 5.2, 2.2). */
static int field_line(skt__http_head *h, skt__http_fields *f)
{
	const unsigned char *p = (const unsigned char *)h->buf;
	size_t name = h->pos, i = h->pos;
	h->line = name;
	while (i < h->lim && skt__http_is(p[i], SKT__HTTP_TCHAR))
		i++;
	if (i == h->lim)
		return skt__http_short(h);
	if (i == name || p[i] != ':')
		return bad_name(h, name, i);
	size_t nlen = i - name;
	i++;
	while (i < h->lim && skt__http_ows((char)p[i]))
		i++;
	h->pos = i;
	int rc = skt__http_text(h, SKT_HTTP_VALUE);
	if (rc != 0)
		return rc;
	size_t vend = h->pos;
	while (vend > i && skt__http_ows(h->buf[vend - 1]))
		vend--;
	if ((rc = skt__http_eol(h)) != 0)
		return rc;
	return field(h, f, h->buf + name, nlen, h->buf + i, vend - i);
}

int skt__http_fields_parse(skt__http_head *h, skt__http_fields *f)
{
	h->long_rule = SKT_HTTP_LINE_TOO_LONG;
	for (;;) {
		h->line = h->pos;
		if (h->pos == h->lim)
			return skt__http_short(h);
		char c = h->buf[h->pos];
		if (c == '\r' || c == '\n')
			break;
		int rc = field_line(h, f);
		if (rc != 0)
			return rc;
	}
	return skt__http_eol(h);
}
