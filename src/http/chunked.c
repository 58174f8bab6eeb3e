/* chunked.c - the chunked transfer coding (RFC 9112 7.1), decoded as it
 * streams: a byte-level state machine, since a body can be of any length
 * and arrive in pieces of any size. The payload is never copied: the
 * caller is told where it lies in its own buffer.
 *
 * chunked-body = *chunk last-chunk trailer-section CRLF, where
 * chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF. States:
 *   SIZE         hex digits of the chunk size (at least one)
 *   SIZE_WS      spaces or tabs after them (BWS, before a ';' only)
 *   EXT          a chunk extension, checked and skipped to the line end
 *   SIZE_LF      the CR of the size line seen; LF must follow
 *   DATA         chunk data, `left` bytes to go
 *   DATA_CR      the CRLF after the data: its CR
 *   DATA_LF      LF after that CR
 *   TRAILER      the start of a trailer line or of the final empty line
 *   TRAILER_NAME a trailer field's name, up to its colon
 *   TRAILER_LINE a trailer field's value, skipped to its line end
 *   TRAILER_LF   a trailer field's CR seen; LF must follow
 *   END_LF       the final empty line's CR seen; LF must follow
 *   DONE, FAILED the end (nothing more is consumed), a sticky error.
 * A size of 0 goes from the size line to TRAILER instead of DATA. A lone
 * LF stands for CRLF only when the caller allowed it (bare_lf): the
 * differences between decoders on exactly these line ends are what the
 * chunk smuggling attacks use.
 */
#include "http/http_int.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#ifndef SSIZE_MAX /* POSIX, not C11: absent under a strict -std=c11 */
#define SSIZE_MAX ((ssize_t)(SIZE_MAX >> 1))
#endif

enum {
	SIZE,
	SIZE_WS,
	EXT,
	SIZE_LF,
	DATA,
	DATA_CR,
	DATA_LF,
	TRAILER,
	TRAILER_NAME,
	TRAILER_LINE,
	TRAILER_LF,
	END_LF,
	DONE,
	FAILED
};

void skt_http_chunked_init(skt_http_chunked *c, const skt_http_opts *opts)
{
	memset(c, 0, sizeof(*c));
	size_t max = opts != NULL && opts->head_max != 0 ? opts->head_max
							 : SKT_HTTP_HEAD_MAX;
	c->line_max = max > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)max;
	c->bare_lf = opts != NULL && opts->bare_lf;
	c->state = SIZE;
}

static void next_size_line(skt_http_chunked *c)
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
static skt_http_rule size_done(skt_http_chunked *c)
{
	c->line = 0;
	c->state = c->left > 0 ? DATA : TRAILER;
	return SKT_HTTP_OK;
}

/* A lone LF where CRLF belongs: the line end, when allowed. */
static skt_http_rule lone_lf(skt_http_chunked *c, uint8_t next)
{
	if (!c->bare_lf)
		return SKT_HTTP_BARE_LF;
	c->state = next;
	return SKT_HTTP_OK;
}

/* One byte of a size line (SIZE, SIZE_WS, EXT, SIZE_LF). The size is
 * checked against CHUNK_MAX before it is shifted, so it cannot wrap. */
static skt_http_rule size_byte(skt_http_chunked *c, unsigned char ch)
{
	int d = c->state == SIZE ? hex_value(ch) : -1;
	if (d >= 0) {
		if (c->left > (SKT_HTTP_CHUNK_MAX >> 4))
			return SKT_HTTP_CHUNK_TOO_BIG;
		c->left = c->left << 4 | (uint64_t)d;
		c->digit = true;
		return c->left > SKT_HTTP_CHUNK_MAX ? SKT_HTTP_CHUNK_TOO_BIG
						    : SKT_HTTP_OK;
	}
	if (c->state == SIZE_LF)
		return ch == '\n' ? size_done(c) : SKT_HTTP_BARE_CR;
	if (!c->digit)
		return SKT_HTTP_CHUNK_SIZE;
	if (ch == ';') {
		c->state = EXT;
		return SKT_HTTP_OK;
	}
	if (c->state == EXT) {
		if (ch == '\r')
			c->state = SIZE_LF;
		else if (ch == '\n')
			return c->bare_lf ? size_done(c) : SKT_HTTP_BARE_LF;
		else if (!skt__http_is(ch, SKT__HTTP_TEXT))
			return SKT_HTTP_CHUNK_EXT;
		return SKT_HTTP_OK;
	}
	if (skt__http_ows((char)ch)) {
		c->state = SIZE_WS;
		return SKT_HTTP_OK;
	}
	/* BWS is allowed before a ';' only (RFC 9112 7.1.1). */
	if (c->state == SIZE && ch == '\r') {
		c->state = SIZE_LF;
		return SKT_HTTP_OK;
	}
	if (c->state == SIZE && ch == '\n')
		return c->bare_lf ? size_done(c) : SKT_HTTP_BARE_LF;
	return SKT_HTTP_CHUNK_SIZE;
}

/* One byte at the start of a trailer line or in its name. */
static skt_http_rule trailer_start(skt_http_chunked *c, unsigned char ch)
{
	bool first = c->state == TRAILER;
	if (skt__http_is(ch, SKT__HTTP_TCHAR)) {
		c->state = TRAILER_NAME;
		return SKT_HTTP_OK;
	}
	if (!first && ch == ':') {
		c->state = TRAILER_LINE;
		return SKT_HTTP_OK;
	}
	if (first && ch == '\r') {
		c->state = END_LF;
		return SKT_HTTP_OK;
	}
	if (first && ch == '\n')
		return lone_lf(c, DONE);
	if (skt__http_ows((char)ch))
		return first ? SKT_HTTP_OBS_FOLD : SKT_HTTP_SPACE_BEFORE_COLON;
	if (!first && (ch == '\r' || ch == '\n'))
		return SKT_HTTP_NO_COLON;
	return SKT_HTTP_NAME;
}

/* One byte of the trailer section (TRAILER .. END_LF). */
static skt_http_rule trailer_byte(skt_http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case TRAILER:
	case TRAILER_NAME:
		return trailer_start(c, ch);
	case TRAILER_LINE:
		if (ch == '\r')
			c->state = TRAILER_LF;
		else if (ch == '\n')
			return lone_lf(c, TRAILER);
		else if (!skt__http_is(ch, SKT__HTTP_TEXT))
			return SKT_HTTP_VALUE;
		return SKT_HTTP_OK;
	case TRAILER_LF:
		c->state = TRAILER;
		return ch == '\n' ? SKT_HTTP_OK : SKT_HTTP_BARE_CR;
	default: /* END_LF */
		c->state = DONE;
		return ch == '\n' ? SKT_HTTP_OK : SKT_HTTP_BARE_CR;
	}
}

/* One byte in any state but DATA, DONE and FAILED. */
static skt_http_rule step(skt_http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case DATA_CR:
		if (ch == '\r') {
			c->state = DATA_LF;
			return SKT_HTTP_OK;
		}
		if (ch != '\n')
			return SKT_HTTP_CHUNK_DATA_END;
		if (!c->bare_lf)
			return SKT_HTTP_BARE_LF;
		next_size_line(c);
		return SKT_HTTP_OK;
	case DATA_LF:
		if (ch != '\n')
			return SKT_HTTP_BARE_CR;
		next_size_line(c);
		return SKT_HTTP_OK;
	default:
		break;
	}
	/* Size lines and the trailer section are bounded like a head. */
	if (++c->line > c->line_max)
		return SKT_HTTP_CHUNK_LINE_TOO_LONG;
	if (c->state >= TRAILER)
		return trailer_byte(c, ch);
	return size_byte(c, ch);
}

ssize_t skt_http_chunked_feed(skt_http_chunked *c, const char *buf, size_t len,
			      const char **data, size_t *data_len)
{
	if (data != NULL) {
		*data = NULL;
		*data_len = 0;
	}
	if (c->state == FAILED)
		return skt__http_rule_code(c->why);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t i = 0;
	while (i < len && c->state < DONE) {
		if (c->state == DATA) {
			/* The payload in one step; left > 0 here. */
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			if (data != NULL) {
				*data = buf + i;
				*data_len = n;
			}
			i += n;
			c->left -= n;
			c->body_bytes += n;
			if (c->left == 0)
				c->state = DATA_CR;
			if (data != NULL)
				break;
			continue;
		}
		skt_http_rule rule = step(c, (unsigned char)buf[i++]);
		if (rule != SKT_HTTP_OK) {
			c->why = rule;
			c->state = FAILED;
			return skt__http_rule_code(rule);
		}
	}
	c->done = c->state == DONE;
	return (ssize_t)i;
}
