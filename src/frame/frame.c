/* frame.c - pure codecs for length-prefixed frames and delimited lines.
 *
 * No fd, no syscalls: input arrives in pieces of any size and the decoders
 * return each message as soon as its last byte is fed. Two rules hold
 * everywhere, because a peer controls every length we read:
 *   - a claimed length is compared with max before it is used in any
 *     arithmetic or allocation;
 *   - a buffer grows with the bytes actually fed (at most twice what it
 *     holds, never beyond max), never with what a header claims, so a
 *     header announcing 16 MiB followed by ten bytes costs ten bytes.
 * When a whole message lies inside one input it is returned in place
 * (zero-copy); only a message split across inputs is gathered.
 */
#include "sockit/frame.h"
#include "internal.h"

#include <string.h>

static size_t frame_max(size_t max)
{
	if (max == 0)
		return SKT_FRAME_MAX_DEFAULT;
	/* The header has 32 bits: a larger limit could never be reached. */
	return max > UINT32_MAX ? UINT32_MAX : max;
}

static uint32_t be32_read(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int skt_frame_header(uint8_t hdr[SKT_FRAME_HEADER], size_t len, size_t max)
{
	if (len > frame_max(max))
		return SKT_ETOOBIG;
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	return 0;
}

/* Make room for need bytes in *buf (capacity *cap), growing geometrically
 * but to no more than limit (need <= limit). Doubling from the current
 * capacity only when need exceeds it keeps capacity <= 2 * need: memory
 * tracks the bytes held, not a peer's claim. */
static int reserve(uint8_t **buf, size_t *cap, size_t need, size_t limit)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap > limit / 2 ? limit : *cap * 2;
	if (ncap < need)
		ncap = need;
	uint8_t *p = skt_realloc(*buf, ncap);
	if (p == NULL)
		return SKT_ENOMEM;
	*buf = p;
	*cap = ncap;
	return 0;
}

/* ---- Length-prefixed frames ----
 *
 * States: gathering the header (hdr_have < 4), then gathering want payload
 * bytes (hdr_have == 4, have < want), then back to the header once the
 * frame is returned. err, once set, ends the stream: after a bad header
 * there is no way to find the next frame boundary. */

void skt_frame_decoder_init(skt_frame_decoder *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = frame_max(max);
}

void skt_frame_decoder_fini(skt_frame_decoder *d)
{
	if (d == NULL)
		return;
	skt_free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->have = 0;
	d->hdr_have = 0;
	d->want = 0;
}

static void frame_reset(skt_frame_decoder *d)
{
	d->hdr_have = 0;
	d->want = 0;
	d->have = 0;
}

/* Take header bytes from in; returns how many were used, or an error once
 * the completed header claims more than max. */
static ssize_t frame_take_header(skt_frame_decoder *d, const uint8_t *in,
				 size_t len)
{
	size_t n = SKT_FRAME_HEADER - d->hdr_have;
	if (n > len)
		n = len;
	memcpy(d->hdr + d->hdr_have, in, n);
	d->hdr_have += n;
	if (d->hdr_have == SKT_FRAME_HEADER) {
		uint32_t want = be32_read(d->hdr);
		if (want > d->max)
			return d->err = SKT_ETOOBIG;
		d->want = want;
	}
	return (ssize_t)n;
}

ssize_t skt_frame_decode(skt_frame_decoder *d, const void *in, size_t len,
			 const uint8_t **msg, size_t *msglen)
{
	const uint8_t *p = in;
	size_t pos = 0;

	*msg = NULL;
	*msglen = 0;
	if (d->err != 0)
		return d->err;
	if (d->hdr_have < SKT_FRAME_HEADER) {
		if (len == 0)
			return 0;
		ssize_t n = frame_take_header(d, p, len);
		if (n < 0)
			return n;
		pos = (size_t)n;
		if (d->hdr_have < SKT_FRAME_HEADER)
			return (ssize_t)pos;
	}
	/* Header complete. Compare as "rest >= want" so nothing can wrap. */
	size_t rest = len - pos;
	if (d->have == 0 && rest >= d->want) {
		*msg = p + pos; /* whole payload in this input: zero-copy */
		*msglen = d->want;
		pos += d->want;
		frame_reset(d);
		return (ssize_t)pos;
	}
	size_t take = d->want - d->have;
	if (take > rest)
		take = rest;
	if (reserve(&d->buf, &d->cap, d->have + take, d->want) < 0)
		return d->err = SKT_ENOMEM; /* consumption unknown to caller */
	if (take > 0)
		memcpy(d->buf + d->have, p + pos, take);
	d->have += take;
	pos += take;
	if (d->have == d->want) {
		*msg = d->buf;
		*msglen = d->want;
		frame_reset(d);
	}
	return (ssize_t)pos;
}

/* ---- Delimited lines ----
 *
 * One state: have bytes of a line without its delimiter are held. A line
 * of more than max bytes is an error as soon as byte max + 1 arrives
 * without a delimiter; it is sticky like the frame decoder's. */

void skt_line_decoder_init(skt_line_decoder *d, size_t max, uint8_t delim)
{
	memset(d, 0, sizeof(*d));
	d->max = max == 0 ? SKT_LINE_MAX_DEFAULT : max;
	d->delim = delim;
}

void skt_line_decoder_fini(skt_line_decoder *d)
{
	if (d == NULL)
		return;
	skt_free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->have = 0;
}

/* Append n bytes of in to the partial line (have + n <= max). */
static int line_append(skt_line_decoder *d, const uint8_t *in, size_t n)
{
	if (n == 0)
		return 0;
	if (reserve(&d->buf, &d->cap, d->have + n, d->max) < 0)
		return d->err = SKT_ENOMEM;
	memcpy(d->buf + d->have, in, n);
	d->have += n;
	return 0;
}

ssize_t skt_line_decode(skt_line_decoder *d, const void *in, size_t len,
			const uint8_t **line, size_t *linelen)
{
	const uint8_t *p = in;

	*line = NULL;
	*linelen = 0;
	if (d->err != 0)
		return d->err;
	if (len == 0)
		return 0;
	/* Search only as far as a line may still reach: room bytes of content
	 * plus the delimiter. room + 1 is formed only when len > room, so it
	 * cannot wrap even with max == SIZE_MAX. */
	size_t room = d->max - d->have;
	size_t lim = len > room ? room + 1 : len;
	const uint8_t *nl = memchr(p, d->delim, lim);
	if (nl == NULL) {
		if (len > room)
			return d->err = SKT_ETOOBIG;
		if (line_append(d, p, len) < 0)
			return d->err;
		return (ssize_t)len;
	}
	size_t n = (size_t)(nl - p);
	if (d->have == 0) {
		*line = p; /* whole line in this input: zero-copy */
		*linelen = n;
		return (ssize_t)(n + 1);
	}
	if (line_append(d, p, n) < 0)
		return d->err;
	*line = d->buf;
	*linelen = d->have;
	d->have = 0;
	return (ssize_t)(n + 1);
}
