/* resp.c - HTTP/1.x response heads and chunked bodies (resp.h).
 *
 * The head parser starts from the first byte on every call, like
 * picohttpparser: a head is small, the common case is that it arrives
 * whole, and re-scanning a partial one costs less than keeping state.
 * Each line is checked as soon as it is complete, so a malformed head is
 * BAD without waiting for its end; running out of input is MORE until
 * HTTP_HEAD_MAX bytes are in, BAD after. The chunked decoder, which
 * sees bodies of any length, is a byte-level state machine instead.
 */
#include "tools/bench/resp.h"

#include <limits.h>
#include <string.h>

enum { BAD = HTTP_BAD, MORE = HTTP_MORE };

/* Character classes, one bit each:
 *   TCHAR  a token character (RFC 9110 5.6.2): letters, digits and
 *          !#$%&'*+-.^_`|~ ; header names and transfer codings;
 *   TEXT   what a reason phrase or a field value may hold: HTAB, SP,
 *          visible ASCII and obs-text (0x80-0xff). Every other control
 *          character, CR and LF included, is not TEXT. */
#define TCHAR 1
#define TEXT  2
/* clang-format off */
static const uint8_t cls[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	2, 3, 2, 3, 3, 3, 3, 3, 2, 2, 3, 3, 2, 3, 3, 2, /* 0x20 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, /* 0x30 */
	2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x40 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 3, /* 0x50 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x60 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 3, 2, 3, 0, /* 0x70 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xf0 */
};
/* clang-format on */

static bool is(unsigned char c, int class)
{
	return (cls[c] & class) != 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..n) equals lit, a lowercase name, ignoring ASCII case. c | 0x20
 * lowercases a letter; for lit's other characters ('-') only the
 * character itself or a control character (never in s) matches. */
static bool caseless_eq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != lit[i])
			return false;
	return true;
}

/* ---- Response head ---- */

typedef struct head {
	const char *buf;
	size_t len; /* what the caller has */
	size_t lim; /* what we may look at: min(len, HEAD_MAX) */
	size_t pos;
} head;

/* What the fields say, gathered before the framing is decided. */
typedef struct fields {
	unsigned n;
	int64_t length;	 /* Content-Length, -1 when absent */
	bool te;	 /* a Transfer-Encoding was seen */
	bool te_chunked; /* and its last coding is chunked */
	bool conn_close;
	bool conn_keep_alive;
} fields;

/* The input ran out at lim: wait for more, unless the head has already
 * used up all it may. */
static int short_input(const head *h)
{
	return h->len >= HTTP_HEAD_MAX ? BAD : MORE;
}

/* At CR or LF: step past CRLF or a bare LF. A CR followed by anything
 * but LF is BAD (RFC 9112 2.2 lets a recipient reject a bare CR). */
static int eol(head *h)
{
	if (h->buf[h->pos] == '\n') {
		h->pos++;
		return 0;
	}
	if (h->pos + 1 >= h->lim)
		return short_input(h);
	if (h->buf[h->pos + 1] != '\n')
		return BAD;
	h->pos += 2;
	return 0;
}

/* Skip TEXT up to the line end (left at CR or LF). */
static int text(head *h)
{
	const unsigned char *p = (const unsigned char *)h->buf;
	size_t i = h->pos;
	while (i < h->lim && is(p[i], TEXT))
		i++;
	h->pos = i;
	if (i == h->lim)
		return short_input(h);
	return p[i] == '\r' || p[i] == '\n' ? 0 : BAD;
}

/* Byte i of "HTTP/1.x NNN": checked one by one, so that a partial line
 * that cannot become a status line is BAD at once. */
static bool status_byte_ok(size_t i, char c)
{
	static const char proto[] = "HTTP/1.";
	if (i < 7)
		return c == proto[i];
	if (i == 7)
		return c == '0' || c == '1';
	if (i == 8)
		return c == ' ';
	if (i == 9)
		return c >= '1' && c <= '5'; /* 100-599 */
	return c >= '0' && c <= '9';
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ], with
 * "HTTP/1.1 200" CRLF (no SP) accepted too, as picohttpparser does. */
static int status_line(head *h, http_resp *r)
{
	const char *b = h->buf;
	size_t n = h->lim < 12 ? h->lim : 12;
	for (size_t i = 0; i < n; i++)
		if (!status_byte_ok(i, b[i]))
			return BAD;
	if (n < 12 || h->lim == 12)
		return short_input(h);
	r->minor = b[7] - '0';
	r->status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	h->pos = 12;
	if (b[12] == ' ') {
		h->pos = 13;
		int rc = text(h);
		if (rc != 0)
			return rc;
	} else if (b[12] != '\r' && b[12] != '\n') {
		return BAD;
	}
	return eol(h);
}

/* The next element of the comma list v[*i..n), spaces around it removed;
 * empty elements are skipped (RFC 9110 5.6.1). False at the end. */
static bool list_next(const char *v, size_t n, size_t *i, const char **el,
		      size_t *ellen)
{
	while (*i < n) {
		size_t s = *i, e;
		while (*i < n && v[*i] != ',')
			(*i)++;
		e = *i;
		if (*i < n)
			(*i)++;
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (e > s) {
			*el = v + s;
			*ellen = e - s;
			return true;
		}
	}
	return false;
}

/* Content-Length = 1*DIGIT, here at most 18 of them: below 10^18 < 2^63,
 * so the arithmetic cannot overflow. Repeats must agree (RFC 9112 6.3). */
static int content_length(fields *f, const char *v, size_t n)
{
	if (n == 0 || n > 18)
		return BAD;
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return BAD;
		x = x * 10 + (v[i] - '0');
	}
	if (f->length >= 0 && f->length != x)
		return BAD;
	f->length = x;
	return 0;
}

/* Transfer-Encoding = #transfer-coding, each a token with optional
 * ";param" parts. Fields repeat as one list, so the last coding of the
 * last field is the one that counts. */
static int transfer_encoding(fields *f, const char *v, size_t n)
{
	const char *el;
	size_t ellen, i = 0;
	bool any = false;
	while (list_next(v, n, &i, &el, &ellen)) {
		size_t k = 0;
		while (k < ellen && is((unsigned char)el[k], TCHAR))
			k++;
		size_t j = k;
		while (j < ellen && is_ows(el[j]))
			j++;
		if (k == 0 || (j < ellen && el[j] != ';'))
			return BAD;
		f->te_chunked = k == 7 && caseless_eq(el, "chunked", 7);
		any = true;
	}
	if (!any)
		return BAD;
	f->te = true;
	return 0;
}

/* Connection = #connection-option; only two matter here. */
static void connection(fields *f, const char *v, size_t n)
{
	const char *el;
	size_t ellen, i = 0;
	while (list_next(v, n, &i, &el, &ellen)) {
		if (ellen == 5 && caseless_eq(el, "close", 5))
			f->conn_close = true;
		else if (ellen == 10 && caseless_eq(el, "keep-alive", 10))
			f->conn_keep_alive = true;
	}
}

static int field_value(fields *f, const char *name, size_t nlen, const char *v,
		       size_t vlen)
{
	if (++f->n > HTTP_FIELDS_MAX)
		return BAD;
	if (nlen == 10 && caseless_eq(name, "connection", 10))
		connection(f, v, vlen);
	else if (nlen == 14 && caseless_eq(name, "content-length", 14))
		return content_length(f, v, vlen);
	else if (nlen == 17 && caseless_eq(name, "transfer-encoding", 17))
		return transfer_encoding(f, v, vlen);
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS, at h->pos (which is
 * not a line end). A line that starts with whitespace (obsolete folding)
 * has an empty name; whitespace before the colon ends the name early:
 * both are BAD (RFC 9112 5.1, 5.2). */
static int field_line(head *h, fields *f)
{
	const unsigned char *p = (const unsigned char *)h->buf;
	size_t name = h->pos, i = h->pos;
	while (i < h->lim && is(p[i], TCHAR))
		i++;
	if (i == h->lim)
		return short_input(h);
	if (i == name || p[i] != ':')
		return BAD;
	size_t nlen = i - name;
	i++;
	while (i < h->lim && is_ows(h->buf[i]))
		i++;
	h->pos = i;
	int rc = text(h);
	if (rc != 0)
		return rc;
	size_t vend = h->pos;
	while (vend > i && is_ows(h->buf[vend - 1]))
		vend--;
	if ((rc = eol(h)) != 0)
		return rc;
	return field_value(f, h->buf + name, nlen, h->buf + i, vend - i);
}

/* Framing from the fields, RFC 9112 6.1 and 6.3. */
static void decide(http_resp *r, const fields *f)
{
	int s = r->status;
	r->no_body = s < 200 || s == 204 || s == 304;
	r->chunked = f->te && f->te_chunked;
	r->content_length = f->te ? -1 : f->length;
	r->close = f->conn_close || (r->minor == 0 && !f->conn_keep_alive) ||
		   (r->minor == 0 && f->te) ||
		   (!r->no_body && !r->chunked && r->content_length < 0);
}

int http_resp_parse(const char *buf, size_t len, http_resp *out)
{
	head h = {buf, len, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX,
		  0};
	fields f = {.length = -1};
	http_resp r;
	int rc = status_line(&h, &r);
	if (rc != 0)
		return rc;
	for (;;) {
		if (h.pos == h.lim)
			return short_input(&h);
		if (buf[h.pos] == '\r' || buf[h.pos] == '\n')
			break;
		if ((rc = field_line(&h, &f)) != 0)
			return rc;
	}
	if ((rc = eol(&h)) != 0)
		return rc;
	decide(&r, &f);
	*out = r;
	return (int)h.pos;
}

/* ---- Chunked body ----
 *
 * chunked-body = *chunk last-chunk trailer-section CRLF, where
 * chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF. States:
 *   SIZE         hex digits of the chunk size (at least one)
 *   SIZE_WS      spaces or tabs after them (BWS before a ';')
 *   EXT          a chunk extension, skipped to the line end
 *   SIZE_LF      the CR of the size line seen; LF must follow
 *   DATA         chunk data, `left` bytes to go
 *   DATA_CR      the CRLF after the data: CR, or a bare LF
 *   DATA_LF      LF after that CR
 *   TRAILER      the start of a trailer line or of the final empty line
 *   TRAILER_LINE inside a trailer field, skipped to its line end
 *   TRAILER_LF   a trailer field's CR seen; LF must follow
 *   END_LF       the final empty line's CR seen; LF must follow
 *   DONE, FAILED the end (nothing more is consumed), a sticky BAD.
 * A size of 0 goes from the size line to TRAILER instead of DATA. Bare
 * LFs are accepted wherever CRLF is, as in the head. */
enum {
	SIZE,
	SIZE_WS,
	EXT,
	SIZE_LF,
	DATA,
	DATA_CR,
	DATA_LF,
	TRAILER,
	TRAILER_LINE,
	TRAILER_LF,
	END_LF,
	DONE,
	FAILED
};

void http_chunked_init(http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = SIZE;
}

static void next_size_line(http_chunked *c)
{
	c->state = SIZE;
	c->left = 0;
	c->line = 0;
	c->digit = false;
}

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The size line is over: data follows, or the trailer after size 0. */
static int size_done(http_chunked *c)
{
	c->line = 0;
	c->state = c->left > 0 ? DATA : TRAILER;
	return 0;
}

/* One byte of a size line (SIZE, SIZE_WS, EXT, SIZE_LF). The size is
 * checked against CHUNK_MAX before it is shifted, so it cannot wrap. */
static int size_byte(http_chunked *c, unsigned char ch)
{
	int d = c->state == SIZE ? hex_value(ch) : -1;
	if (d >= 0) {
		if (c->left > (HTTP_CHUNK_MAX >> 4))
			return BAD;
		c->left = c->left << 4 | (uint64_t)d;
		c->digit = true;
		return c->left > HTTP_CHUNK_MAX ? BAD : 0;
	}
	if (c->state == SIZE_LF)
		return ch == '\n' ? size_done(c) : BAD;
	if (!c->digit)
		return BAD;
	if (ch == '\r') {
		c->state = SIZE_LF;
		return 0;
	}
	if (ch == '\n')
		return size_done(c);
	if (c->state == EXT)
		return is(ch, TEXT) ? 0 : BAD;
	if (ch == ';' || is_ows((char)ch)) {
		c->state = ch == ';' ? EXT : SIZE_WS;
		return 0;
	}
	return BAD;
}

/* One byte of the trailer section (TRAILER .. END_LF). */
static int trailer_byte(http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case TRAILER:
		if (ch == '\r')
			c->state = END_LF;
		else if (ch == '\n')
			c->state = DONE;
		else if (is(ch, TCHAR))
			c->state = TRAILER_LINE;
		else
			return BAD; /* folding, a control, an empty name */
		return 0;
	case TRAILER_LINE:
		if (ch == '\r')
			c->state = TRAILER_LF;
		else if (ch == '\n')
			c->state = TRAILER;
		else if (!is(ch, TEXT))
			return BAD;
		return 0;
	case TRAILER_LF:
		c->state = TRAILER;
		return ch == '\n' ? 0 : BAD;
	default: /* END_LF */
		c->state = DONE;
		return ch == '\n' ? 0 : BAD;
	}
}

/* One byte in any state but DATA, DONE and FAILED. */
static int step(http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case DATA_CR:
		if (ch == '\n')
			next_size_line(c);
		else if (ch == '\r')
			c->state = DATA_LF;
		else
			return BAD;
		return 0;
	case DATA_LF:
		if (ch != '\n')
			return BAD;
		next_size_line(c);
		return 0;
	default:
		break;
	}
	/* Size lines and the trailer section are bounded like a head. */
	if (++c->line > HTTP_HEAD_MAX)
		return BAD;
	if (c->state >= TRAILER)
		return trailer_byte(c, ch);
	return size_byte(c, ch);
}

long http_chunked_feed(http_chunked *c, const char *buf, size_t len,
			    bool *done)
{
	if (len > LONG_MAX)
		len = LONG_MAX;
	size_t i = 0;
	while (i < len && c->state < DONE) {
		if (c->state == DATA) {
			/* The payload in one step; left > 0 here. */
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			i += n;
			c->left -= n;
			c->body_bytes += n;
			if (c->left == 0)
				c->state = DATA_CR;
			continue;
		}
		if (step(c, (unsigned char)buf[i++]) != 0)
			c->state = FAILED;
	}
	*done = c->state == DONE;
	return c->state == FAILED ? HTTP_BAD : (long)i;
}
