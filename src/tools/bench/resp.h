/* resp.h - HTTP/1.x responses as a client reads them: the head (status
 * line and header fields, RFC 9112 sections 4-5) and a chunked body
 * (RFC 9112 section 7.1). For `sockit bench`, which must know where each
 * response ends to send the next request on the same connection.
 *
 * Pure code: no fd, no allocation, no global state. Input arrives in any
 * pieces; every length a peer sends is compared with its limit before it
 * is used in arithmetic. The return convention is picohttpparser's: bytes
 * consumed (> 0), HTTP_MORE (the input ends before the thing being
 * parsed does: call again with more), HTTP_BAD (malformed, or over a
 * limit: the connection cannot be resynchronised and should be closed).
 */
#ifndef SOCKIT_BENCH_RESP_H
#define SOCKIT_BENCH_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BAD  (-1)
#define HTTP_MORE (-2)

/* A head (or a chunked body's trailer section) longer than this is BAD,
 * even before its end arrives: a peer cannot make us wait forever. Real
 * heads are far smaller (nginx as a proxy reads a response head into one
 * 4 or 8 KiB buffer, proxy_buffer_size). */
#define HTTP_HEAD_MAX 65536
/* Header fields of one head; the 101st is BAD. */
#define HTTP_FIELDS_MAX 100
/* Largest chunk size accepted (1 TiB); more hex digits than that are BAD,
 * never an overflow. */
#define HTTP_CHUNK_MAX ((uint64_t)1 << 40)

/* What the head says about framing the body and reusing the connection.
 * Precedence, as RFC 9112 section 6.3 orders it: no_body first (whatever
 * the other fields say, no body follows), then chunked, then
 * content_length; with none of them the body runs until the server
 * closes. A response to HEAD has no body either, which only the caller
 * knows. */
typedef struct http_resp {
	int status;		/* 100..599 */
	int minor;		/* HTTP/1.minor: 0 or 1 */
	int64_t content_length; /* Content-Length (< 10^18); -1 when absent
				   or when Transfer-Encoding overrides it */
	bool chunked;		/* the last transfer coding is "chunked" */
	/* The server ends the connection after this response: "Connection:
	 * close"; HTTP/1.0 without "Connection: keep-alive"; a
	 * Transfer-Encoding in an HTTP/1.0 response (RFC 9112 6.1: faulty
	 * framing); or a body delimited by the close itself (neither no_body,
	 * chunked nor content_length >= 0). */
	bool close;
	/* 1xx, 204, 304: no body. After a 1xx (other than 101) the real
	 * response follows on the same connection; after 101 the connection
	 * speaks another protocol. */
	bool no_body;
} http_resp;

/* Parse a response head from buf[0..len). Returns its length in bytes,
 * from "HTTP/" through the empty line that ends it (CRLF or a bare LF at
 * the end of each line), with *out filled; HTTP_MORE when buf holds a
 * valid beginning of a head but not its end (and len < HEAD_MAX);
 * HTTP_BAD when it is malformed, has more than FIELDS_MAX fields, or
 * has no end within its first HTTP_HEAD_MAX bytes. *out is written
 * only on success. Reads buf[0..min(len, HEAD_MAX)) and nothing else.
 *
 * Accepted: "HTTP/1.0" or "HTTP/1.1", SP, three digits 100-599, then SP and
 * a reason phrase (may be empty) or the line end; header lines "name:
 * value" with a token name, the value's surrounding spaces and tabs
 * ignored. Rejected: obsolete line folding, whitespace before the colon,
 * control characters (but HTAB) anywhere, a bare CR. Content-Length must
 * be 1-18 digits and every copy of it the same value. Transfer-Encoding
 * and Connection are comma lists, compared case-insensitively;
 * Transfer-Encoding beats Content-Length (RFC 9112 6.3). */
int http_resp_parse(const char *buf, size_t len, http_resp *out);

/* Decoder of a chunked body, fed in pieces of any size (one byte at a
 * time too). Caller-owned: init, then feed until done or BAD. Read-only
 * for the caller except through these functions; body_bytes is the one
 * field meant to be read. */
typedef struct http_chunked {
	uint64_t body_bytes; /* payload (chunk data) bytes so far */
	uint64_t left;	     /* chunk size read so far, then data left */
	uint32_t line;	     /* bytes of the chunk-size line in progress,
				or of the trailer section so far */
	uint8_t state;	     /* see resp.c */
	bool digit;	     /* a size digit was seen on this line */
} http_chunked;

/* Start a new body. */
void http_chunked_init(http_chunked *c);

/* Feed len body bytes (those after the head, then whatever arrives).
 * Returns how many were consumed: all of them (len) while the body goes
 * on, fewer only when the body ended inside buf (the rest belongs to the
 * next response), 0 once done. Sets *done (false otherwise) when the last
 * chunk and the trailer section are complete. HTTP_BAD when the body
 * is malformed: a size that is not hex, above HTTP_CHUNK_MAX or
 * missing; chunk data not followed by CRLF (or LF); a control character
 * in a chunk-size line or a trailer field; a chunk-size line or a trailer
 * section longer than HTTP_HEAD_MAX. BAD is sticky. Chunk
 * extensions and trailer fields are skipped; only the byte counts of the
 * payload are kept (body_bytes), not the bytes themselves. */
long http_chunked_feed(http_chunked *c, const char *buf, size_t len,
			    bool *done);

#endif
