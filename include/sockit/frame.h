/* sockit/frame.h - message framing.
 *
 * Two wire formats:
 *   length-prefixed  a 4-byte big-endian payload length, then the payload
 *                    (Python: struct.pack("!I", len(msg)) + msg);
 *   delimited lines  bytes up to a delimiter byte (usually '\n').
 * The codecs are pure (no fd): they accept input split at any byte and
 * never allocate more than the bytes actually received, whatever length a
 * header claims. A length above the configured maximum is an error found
 * before any arithmetic or allocation. Blocking helpers on an fd come last.
 */
#ifndef SOCKIT_FRAME_H
#define SOCKIT_FRAME_H

#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKT_FRAME_HEADER      4
#define SKT_FRAME_MAX_DEFAULT ((size_t)16 << 20) /* 16 MiB */
#define SKT_LINE_MAX_DEFAULT  ((size_t)64 << 10) /* 64 KiB */

/* Write the 4-byte header for a payload of len bytes. Returns 0, or
 * SKT_ETOOBIG when len > max (max 0 means SKT_FRAME_MAX_DEFAULT; a max
 * above UINT32_MAX is treated as UINT32_MAX). */
SKT_EXTERN int skt_frame_header(uint8_t hdr[SKT_FRAME_HEADER], size_t len,
				size_t max);

/* Streaming decoder for length-prefixed frames. Caller-owned: init, feed,
 * free. */
typedef struct skt_frame_decoder {
	size_t max; /* largest payload accepted */
	uint8_t hdr[SKT_FRAME_HEADER];
	size_t hdr_have; /* header bytes gathered so far */
	size_t want;     /* payload length of the frame in progress */
	uint8_t *buf;    /* payload gathered across calls */
	size_t have;     /* bytes of it held */
	size_t cap;      /* allocated size of buf */
	int err;         /* sticky error once the stream is malformed */
} skt_frame_decoder;

/* max 0 means SKT_FRAME_MAX_DEFAULT. */
SKT_EXTERN void skt_frame_decoder_init(skt_frame_decoder *d, size_t max);
/* Release the decoder's buffer; the decoder can be init'ed again. */
SKT_EXTERN void skt_frame_decoder_fini(skt_frame_decoder *d);

/* Feed len bytes of input. Returns how many bytes of in were consumed
 * (>= 0). When that completes a frame, *msg and *msglen are set (pointing
 * into in when the payload lay whole inside it, else into the decoder; valid
 * until the next call) and consumption stops right after the frame: call
 * again with the rest. Otherwise *msg is NULL and all of in was consumed.
 * Errors: SKT_ETOOBIG when a header announces more than max (sticky: the
 * stream cannot be resynchronised), SKT_ENOMEM. */
SKT_EXTERN ssize_t skt_frame_decode(skt_frame_decoder *d, const void *in,
				    size_t len, const uint8_t **msg,
				    size_t *msglen);

/* Streaming decoder for delimited lines. */
typedef struct skt_line_decoder {
	size_t max; /* longest line accepted, delimiter excluded */
	uint8_t delim;
	uint8_t *buf; /* partial line gathered across calls */
	size_t have;
	size_t cap;
	int err;
} skt_line_decoder;

/* max 0 means SKT_LINE_MAX_DEFAULT. */
SKT_EXTERN void skt_line_decoder_init(skt_line_decoder *d, size_t max,
				      uint8_t delim);
SKT_EXTERN void skt_line_decoder_fini(skt_line_decoder *d);

/* Like skt_frame_decode; *line excludes the delimiter. SKT_ETOOBIG when a
 * line grows past max without a delimiter (sticky). */
SKT_EXTERN ssize_t skt_line_decode(skt_line_decoder *d, const void *in,
				   size_t len, const uint8_t **line,
				   size_t *linelen);

/* ---- Blocking helpers on an fd ---- */

/* Send one frame (header and payload in one writev when possible).
 * Returns 0, SKT_ETOOBIG (len > max, nothing sent), or an I/O error. */
SKT_EXTERN int skt_frame_send(int fd, const void *msg, size_t len, size_t max,
			      int timeout_ms);

/* Receive one frame. On success *msg is a new buffer of *len bytes (free it
 * with skt_free; a zero-length frame gives a non-NULL buffer) and 0 is
 * returned. Memory grows with the bytes that actually arrive, never with the
 * header's claim. Errors: SKT_EOF (clean end before a frame), SKT_EPARTIAL
 * (end inside a frame), SKT_ETOOBIG, SKT_ETIMEDOUT, ... */
SKT_EXTERN int skt_frame_recv(int fd, uint8_t **msg, size_t *len, size_t max,
			      int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
