/* sockit/http.h - an HTTP/1.1 codec (RFC 9112): request heads, response
 * heads and chunked bodies.
 *
 * Pure code, in picohttpparser's shape: no fd, no allocation, no global
 * state. The caller passes a buffer and an array of fields; the head
 * parsers start from the first byte on every call, so a caller that gets
 * SKT_EAGAIN appends what arrives and calls again with the whole head so
 * far. Parsed names and values point into the caller's buffer and are
 * valid as long as it is. Every length a peer sends is compared with its
 * limit before it is used in arithmetic.
 *
 * Returns, for every parser: bytes consumed (> 0); SKT_EAGAIN when the
 * input is a valid beginning but not the end of what is parsed;
 * SKT_EMALFORMED when it breaks a rule of the grammar, SKT_ETOOBIG when it
 * is over a limit, SKT_EUNSUPPORTED when it is well formed but asks for
 * what this codec does not do (HTTP/2 in an HTTP/1 head, a transfer coding
 * other than chunked). On an error the parsed struct's `why` names the rule
 * that was broken (skt_http_rule_str() says it in words, and
 * skt_http_rule_status() gives the status a server answers: 400, 413, 414,
 * 431, 501 or 505). The connection cannot be resynchronised after an
 * error: answer (a server) and close.
 *
 * Strict where RFC 9112 leaves a choice, because two parsers that frame
 * one message differently are how requests are smuggled: a CR not followed
 * by LF, obsolete line folding, whitespace before a field's colon, NUL and
 * other control bytes in fields are always errors; a bare LF line end is
 * one unless the caller asks for leniency (never in requests); a request
 * with Content-Length repeated, a list or a sign in it, Transfer-Encoding
 * together with Content-Length, a final coding other than chunked, no Host
 * (HTTP/1.1) or two Host fields is an error.
 */
#ifndef SOCKIT_HTTP_H
#define SOCKIT_HTTP_H

#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default limits. A head (or a chunked body's trailer section) longer
 * than SKT_HTTP_HEAD_MAX is an error even before its end arrives, so a
 * peer cannot make the caller buffer forever; nginx reads a request head
 * into 1 KiB growing to 4 x 8 KiB (large_client_header_buffers), one line
 * at most 8 KiB. */
#define SKT_HTTP_HEAD_MAX 65536
#define SKT_HTTP_LINE_MAX 8192
/* Largest chunk size accepted (1 TiB): more hex digits than that are an
 * error, found before the shift that would overflow. */
#define SKT_HTTP_CHUNK_MAX ((uint64_t)1 << 40)
/* Largest Content-Length: 18 digits, below 10^18 < 2^63. */
#define SKT_HTTP_LENGTH_DIGITS 18

/* Which rule a message broke: name, the error code the parser returns,
 * the status a server answers, and the rule in words. */
#define SKT_HTTP_RULE_MAP(XX)                                                  \
	XX(OK, 0, 200, "no rule broken")                                       \
	XX(BARE_CR, SKT_EMALFORMED, 400, "a CR not followed by LF")            \
	XX(BARE_LF, SKT_EMALFORMED, 400, "a line ended by LF without CR")      \
	XX(START_LINE, SKT_EMALFORMED, 400, "malformed start line")            \
	XX(METHOD, SKT_EMALFORMED, 400, "the method is not a token")           \
	XX(TARGET, SKT_EMALFORMED, 400,                                        \
	   "the request target is empty or holds a control byte")              \
	XX(VERSION, SKT_EMALFORMED, 400, "malformed HTTP version")             \
	XX(VERSION_UNSUPPORTED, SKT_EUNSUPPORTED, 505,                         \
	   "an HTTP version other than 1.x")                                   \
	XX(STATUS, SKT_EMALFORMED, 400, "the status code is not 100-599")      \
	XX(REASON, SKT_EMALFORMED, 400, "a control byte in the reason")        \
	XX(OBS_FOLD, SKT_EMALFORMED, 400,                                      \
	   "a field line starts with whitespace (obsolete line folding)")      \
	XX(NAME, SKT_EMALFORMED, 400,                                          \
	   "a field name is empty or holds a non-token byte")                  \
	XX(SPACE_BEFORE_COLON, SKT_EMALFORMED, 400,                            \
	   "whitespace between a field name and its colon")                    \
	XX(NO_COLON, SKT_EMALFORMED, 400, "a field line without a colon")      \
	XX(VALUE, SKT_EMALFORMED, 400, "NUL or a control byte in a field")     \
	XX(CONTENT_LENGTH, SKT_EMALFORMED, 400,                                \
	   "Content-Length is not 1 to 18 digits")                             \
	XX(CONTENT_LENGTH_DUP, SKT_EMALFORMED, 400,                            \
	   "Content-Length repeated or a list")                                \
	XX(TE_AND_CL, SKT_EMALFORMED, 400,                                     \
	   "Transfer-Encoding together with Content-Length")                   \
	XX(TE, SKT_EMALFORMED, 400,                                            \
	   "Transfer-Encoding malformed or not ending in chunked")             \
	XX(TE_UNSUPPORTED, SKT_EUNSUPPORTED, 501,                              \
	   "a transfer coding other than chunked")                             \
	XX(HOST_MISSING, SKT_EMALFORMED, 400,                                  \
	   "an HTTP/1.1 request without Host")                                 \
	XX(HOST_DUP, SKT_EMALFORMED, 400, "more than one Host field")          \
	XX(HOST, SKT_EMALFORMED, 400, "Host is not a host[:port]")             \
	XX(LINE_TOO_LONG, SKT_ETOOBIG, 431, "a field line over the limit")     \
	XX(START_TOO_LONG, SKT_ETOOBIG, 414, "the start line over the limit")  \
	XX(HEAD_TOO_BIG, SKT_ETOOBIG, 431, "the head over the limit")          \
	XX(TOO_MANY_FIELDS, SKT_ETOOBIG, 431, "more fields than the limit")    \
	XX(CHUNK_SIZE, SKT_EMALFORMED, 400, "a chunk size missing or not hex") \
	XX(CHUNK_TOO_BIG, SKT_ETOOBIG, 413,                                    \
	   "a chunk size above SKT_HTTP_CHUNK_MAX")                            \
	XX(CHUNK_EXT, SKT_EMALFORMED, 400, "a malformed chunk extension")      \
	XX(CHUNK_DATA_END, SKT_EMALFORMED, 400,                                \
	   "chunk data not followed by CRLF")                                  \
	XX(CHUNK_LINE_TOO_LONG, SKT_ETOOBIG, 400,                              \
	   "a chunk-size line or the trailer section over the limit")

typedef enum skt_http_rule {
#define XX(name, code, status, text) SKT_HTTP_##name,
	SKT_HTTP_RULE_MAP(XX)
#undef XX
		SKT_HTTP_RULE_COUNT_
} skt_http_rule;

/* The rule in words ("whitespace between a field name and its colon"): a
 * static string, never NULL ("unknown rule" outside the table). */
SKT_EXTERN const char *skt_http_rule_str(skt_http_rule rule);
/* The status a server answers a request that broke rule with (400, 413,
 * 414, 431, 501, 505; 200 for SKT_HTTP_OK, 400 outside the table). */
SKT_EXTERN int skt_http_rule_status(skt_http_rule rule);

/* Limits and leniency; a zero member takes its default. Pass NULL for all
 * defaults. */
typedef struct skt_http_opts {
	size_t head_max; /* bytes of a head with its empty line (or of a
			    trailer section); 0: SKT_HTTP_HEAD_MAX */
	size_t line_max; /* bytes of one line, its line end excluded; 0:
			    SKT_HTTP_LINE_MAX, and never above head_max */
	bool bare_lf;    /* accept a lone LF as a line end, as RFC 9112
			    2.2 lets a recipient: responses and chunked
			    bodies only, the request parser ignores it */
} skt_http_opts;

/* One header field; name and value point into the parsed buffer, the value
 * without the whitespace around it. */
typedef struct skt_http_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} skt_http_field;

/* A request head. Framing follows RFC 9112 6.3: chunked, else
 * content_length bytes; with neither (content_length -1) the request has
 * no body. */
typedef struct skt_http_req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int minor;              /* HTTP/1.minor, 0-9 */
	int64_t content_length; /* -1 when absent */
	bool chunked;           /* Transfer-Encoding: chunked */
	/* The connection can carry another request after this one: HTTP/1.1
	 * unless "Connection: close", HTTP/1.0 only with "Connection:
	 * keep-alive"; never after a Transfer-Encoding in HTTP/1.0 (RFC 9112
	 * 6.1: faulty framing, close after the message). */
	bool keep_alive;
	bool expect_continue; /* Expect: 100-continue */
	const char *host;     /* the Host value, NULL when absent */
	size_t host_len;
	skt_http_rule why; /* set on an error (only this member) */
} skt_http_req;

/* Parse a request head from buf[0..len): the request line (after any
 * empty lines, RFC 9112 2.2), header fields, the empty line.
 *
 * fields[0..*nfields) receives the header fields (fields may be NULL when
 * *nfields is 0); on success *nfields is set to how many the head has.
 * More fields than *nfields is SKT_ETOOBIG (SKT_HTTP_TOO_MANY_FIELDS): the
 * array's size is the field limit. Returns the head's length in bytes,
 * with *req filled; SKT_EAGAIN when buf holds a valid beginning of a head
 * but not its end and the limits are not reached; a negative error as the
 * header's introduction says, with req->why the only member written
 * (fields[] may have been, *nfields is not). Reads buf[0..min(len,
 * head_max)) and nothing else; on SKT_EAGAIN nothing is written but
 * fields[]. Line ends must be CRLF. Empty lines before the request line
 * are skipped and counted in the length. */
SKT_EXTERN int skt_http_req_parse(const char *buf, size_t len,
				  const skt_http_opts *opts, skt_http_req *req,
				  skt_http_field *fields, size_t *nfields);

/* A response head. Framing, as RFC 9112 6.3 orders it: no_body first
 * (whatever the fields say, no body follows), then chunked, then
 * content_length; with none of them the body runs until the server
 * closes. */
typedef struct skt_http_resp {
	int status;         /* 100-599 */
	int minor;          /* HTTP/1.minor: 0 or 1 */
	const char *reason; /* the reason phrase, maybe empty */
	size_t reason_len;
	int64_t content_length; /* -1 when absent or overridden by
				   Transfer-Encoding */
	bool chunked;           /* the final transfer coding is chunked */
	/* The server ends the connection after this response: "Connection:
	 * close"; HTTP/1.0 without "Connection: keep-alive"; a
	 * Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1); or a body delimited
	 * by the close itself. */
	bool close;
	/* 1xx, 204, 304, or an answer to HEAD: no body. After a 1xx (other
	 * than 101) the real response follows on the same connection. */
	bool no_body;
	skt_http_rule why; /* set on an error (only this member) */
} skt_http_resp;

/* Parse a response head from buf[0..len), as skt_http_req_parse does a
 * request (same fields, limits and returns). to_head: the request was
 * HEAD, so no body follows whatever the fields say.
 *
 * Accepted: "HTTP/1.0" or "HTTP/1.1", SP, a status 100-599, then SP and a
 * reason phrase (maybe empty) or the line end. Content-Length may repeat
 * with the same value (RFC 9110 8.6 lets a recipient accept that), never
 * as a list; Transfer-Encoding overrides it (RFC 9112 6.3 rule 3). A
 * final coding other than chunked means the body runs to the close. */
SKT_EXTERN int skt_http_resp_parse(const char *buf, size_t len, bool to_head,
				   const skt_http_opts *opts,
				   skt_http_resp *resp, skt_http_field *fields,
				   size_t *nfields);

/* Decoder of a chunked body (RFC 9112 7.1), fed in pieces of any size.
 * Caller-owned: init, then feed until done or an error. Read-only for the
 * caller except through these functions; body_bytes, done and why are
 * meant to be read. */
typedef struct skt_http_chunked {
	uint64_t body_bytes; /* payload bytes passed so far */
	uint64_t left;       /* chunk size read so far, then data left */
	uint32_t line;       /* bytes of the size line or of the trailer
				section so far */
	uint32_t line_max;
	uint8_t state; /* see chunked.c */
	bool digit;    /* a size digit was seen on this line */
	bool bare_lf;
	bool done;         /* the last chunk and the trailers are in */
	skt_http_rule why; /* set on an error */
} skt_http_chunked;

/* Start a new body. opts (may be NULL): head_max bounds a size line and
 * the trailer section; bare_lf accepts LF for CRLF. */
SKT_EXTERN void skt_http_chunked_init(skt_http_chunked *c,
				      const skt_http_opts *opts);

/* Feed len body bytes (those after the head, then whatever arrives).
 *
 * data NULL: everything is decoded in this call; the payload is counted
 * in body_bytes and skipped. Returns how many bytes were consumed: all of
 * them while the body goes on, fewer only when it ended inside buf (the
 * rest belongs to the next message), 0 once done.
 *
 * data not NULL: the call stops after the first payload bytes it meets
 * and points *data and *data_len at them (inside buf, no copy; *data_len
 * 0 when there were none); call again with the rest.
 *
 * c->done is set when the last chunk and the trailer section are
 * complete. Errors (sticky; c->why says which rule): SKT_EMALFORMED, a
 * size that is not hex or missing, data not followed by CRLF, a control
 * byte in an extension or a trailer field, a folded trailer; SKT_ETOOBIG,
 * a size above SKT_HTTP_CHUNK_MAX, or a size line or trailer section over
 * head_max. Extensions and trailer fields are checked and skipped. */
SKT_EXTERN ssize_t skt_http_chunked_feed(skt_http_chunked *c, const char *buf,
					 size_t len, const char **data,
					 size_t *data_len);

#ifdef __cplusplus
}
#endif
#endif
