/* http_int.h - what the request parser, the response parser and the
 * chunked decoder share (tokens.c, head.c): the character classes, the
 * line scanner of a head, field lines and the fields that decide framing.
 *
 * Internal returns: 0 (done, go on), SKT_EAGAIN (the input ran out), or
 * a negative error from skt__http_fail(), which also records the rule.
 */
#ifndef SOCKIT_HTTP_INT_H
#define SOCKIT_HTTP_INT_H

#include "sockit/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Character classes, one bit each (tokens.c):
 *   TCHAR  a token character (RFC 9110 5.6.2): letters, digits and
 *          !#$%&'*+-.^_`|~ ; methods, field names, transfer codings;
 *   TEXT   what a reason phrase or a field value may hold: HTAB, SP,
 *          visible ASCII and obs-text (0x80-0xff); no other control byte,
 *          CR and LF included;
 *   VCHAR  visible ASCII and obs-text: a request target (no SP, HTAB);
 *   HOST   what a Host value may hold (RFC 3986 host [":" port]:
 *          unreserved, pct-encoded, sub-delims, ":", "[", "]"). */
#define SKT__HTTP_TCHAR 1
#define SKT__HTTP_TEXT  2
#define SKT__HTTP_VCHAR 4
#define SKT__HTTP_HOST  8
extern const uint8_t skt__http_cls[256];

static inline bool skt__http_is(unsigned char c, int cls)
{
	return (skt__http_cls[c] & cls) != 0;
}

static inline bool skt__http_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..n) equals lit, a lowercase name, ignoring ASCII case. c | 0x20
 * lowercases a letter; for lit's other characters ('-') only the
 * character itself or a control byte (which never reaches here: field
 * names are tokens) matches. Inline: it runs for most fields of a head. */
static inline bool skt__http_caseless_eq(const char *s, const char *lit,
					 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != lit[i])
			return false;
	return true;
}

/* The next element of the comma list v[*i..n), spaces around it removed;
 * empty elements are skipped (RFC 9110 5.6.1). False at the end. */
bool skt__http_list_next(const char *v, size_t n, size_t *i, const char **el,
			 size_t *ellen);

/* The error code a parser returns for rule (SKT_EMALFORMED, ...). */
int skt__http_rule_code(skt_http_rule rule);

/* A head being scanned: buf[0..len) is what the caller has, lim =
 * min(len, head_max) what may be looked at; line is where the line being
 * scanned began, and long_rule the rule it breaks when over line_max. */
typedef struct skt__http_head {
	const char *buf;
	size_t len, lim, pos, line;
	size_t head_max, line_max;
	bool bare_lf;
	skt_http_rule long_rule;
	skt_http_rule why;
} skt__http_head;

/* bare_lf_ok: whether o->bare_lf may apply (not to requests). */
void skt__http_head_init(skt__http_head *h, const char *buf, size_t len,
			 const skt_http_opts *o, bool bare_lf_ok);
/* Record rule in h->why and return its error code. */
int skt__http_fail(skt__http_head *h, skt_http_rule rule);
/* A syntax error at buf[i], unless the line is already over line_max
 * there: then that is the rule broken, whatever comes, so the verdict is
 * the same whichever prefix of the line has arrived. */
int skt__http_fail_at(skt__http_head *h, size_t i, skt_http_rule rule);
/* The input ran out at lim: SKT_EAGAIN; or long_rule when the line so far
 * is over line_max, HEAD_TOO_BIG when the head has used all it may. */
int skt__http_short(skt__http_head *h);
/* At a CR or LF: check the line's length, step past the line end (CRLF;
 * LF alone when allowed). */
int skt__http_eol(skt__http_head *h);
/* Skip TEXT up to the line end, left at its CR or LF; a byte that is not
 * TEXT breaks rule bad. */
int skt__http_text(skt__http_head *h, skt_http_rule bad);

/* What the fields say, gathered before the framing is decided. */
typedef struct skt__http_fields {
	skt_http_field *out; /* the caller's array */
	size_t cap, n;
	int64_t length;  /* Content-Length, -1 when absent */
	bool request;    /* a repeated Content-Length is an error */
	bool te;         /* a Transfer-Encoding was seen */
	bool te_chunked; /* its final coding is chunked */
	bool te_bad;     /* chunked not final, or applied twice */
	bool te_other;   /* a coding other than chunked */
	bool conn_close;
	bool conn_keep_alive;
	bool expect_continue;
	unsigned hosts;
	const char *host;
	size_t host_len;
} skt__http_fields;

/* Every field line up to and through the empty line that ends the head,
 * from h->pos: each checked, stored in f->out and interpreted. */
int skt__http_fields_parse(skt__http_head *h, skt__http_fields *f);

#endif
