/* wire.h - the frames of sockit send/recv (docs/transfer.md), encoded and
 * decoded without an fd, so the codec is cheap to test and to fuzz. Every
 * decoder checks a length against its limit before anything uses it, and
 * refuses a path that is not relative and normalised or a link that would
 * climb out of the transfer. */
#ifndef SOCKIT_TOOLS_XFER_WIRE_H
#define SOCKIT_TOOLS_XFER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XF_VERSION       1
#define XF_HEAD_LEN      5
#define XF_HASH_MAX      32
#define XF_CHUNK_MIN     (4u << 10)
#define XF_CHUNK_MAX     (16u << 20)
#define XF_CHUNK_DEFAULT (1u << 20)
/* Every frame but DATA; an ENTRY with the longest path and link fits. */
#define XF_CTRL_MAX    (16u << 10)
#define XF_DATA_MAX    (XF_CHUNK_MAX + XF_HASH_MAX)
#define XF_PATH_MAX    4096
#define XF_NAME_MAX    255
#define XF_ERRMSG_MAX  1024
#define XF_HELLO_LEN   24
#define XF_ENTRY_FIXED 36

enum xf_type {
	XF_HELLO = 'H',
	XF_ENTRY = 'F',
	XF_RESUME = 'R',
	XF_DATA = 'D',
	XF_END = 'E',
	XF_DONE = 'Z',
	XF_ACK = 'A',
	XF_ERROR = 'X',
	/* --secret (docs/transfer.md, "Pre-shared secret"): a nonce each
	 * way, a proof each way, then a transcript MAC at each checkpoint.
	 * Each payload is XF_AUTH_LEN bytes. */
	XF_NONCE = 'N',
	XF_PROOF = 'P',
	XF_MAC = 'M',
};

#define XF_AUTH_LEN 32

enum xf_alg { XF_ALG_NONE = 0, XF_ALG_XXH3 = 1, XF_ALG_SHA256 = 2 };
enum xf_kind { XF_FILE = 1, XF_DIR = 2, XF_LINK = 3 };
enum xf_code {
	XF_E_PROTO = 1,
	XF_E_VERIFY = 2,
	XF_E_REFUSED = 3,
	XF_E_EXISTS = 4,
	XF_E_IO = 5,
	XF_E_SENDER = 6,
	XF_E_AUTH = 7,
};

/* The hash length of alg (0, 16, 32), or -1 for an unknown code. */
int xf_alg_hash_len(int alg);
/* "none", "xxh3", "sha256"; NULL for an unknown code. */
const char *xf_alg_name(int alg);
/* The code for a name, or -1. */
int xf_alg_parse(const char *name);

/* A frame's head. Returns XF_HEAD_LEN, 0 when n < XF_HEAD_LEN (need
 * more), or -1 (malformed: an unknown type, or a length over the type's
 * limit). */
int xf_head_decode(const uint8_t *p, size_t n, uint8_t *type, uint32_t *len);
/* Writes XF_HEAD_LEN bytes; returns XF_HEAD_LEN. */
size_t xf_head_encode(uint8_t *p, uint8_t type, uint32_t len);

typedef struct xf_hello {
	uint8_t version, alg;
	uint64_t files, bytes;
} xf_hello;

typedef struct xf_entry {
	uint8_t kind, alg;
	uint32_t mode, chunk, mtime_ns;
	int64_t mtime_s;
	uint64_t size;
	const char *path; /* not NUL-terminated; into the payload decoded */
	size_t path_len;
	const char *link; /* XF_LINK only */
	size_t link_len;
	uint8_t first[XF_HASH_MAX]; /* the first chunk's hash */
	size_t first_len;
} xf_entry;

/* RESUME, END, DONE and ACK share one shape: up to three counts and a
 * hash of the transfer's length. */
typedef struct xf_sum {
	uint64_t a, b, c; /* RESUME: a = chunk; DONE: a = files, b = bytes;
			     ACK: a = files, b = bytes, c = resumed */
	uint8_t hash[XF_HASH_MAX];
} xf_sum;

/* Payload decoders: 0, or -1 (malformed). A decoded entry borrows p. */
int xf_hello_decode(const uint8_t *p, size_t n, xf_hello *h);
int xf_entry_decode(const uint8_t *p, size_t n, xf_entry *e);
/* type XF_RESUME, XF_END, XF_DONE or XF_ACK with the hash length hl. */
int xf_sum_decode(uint8_t type, const uint8_t *p, size_t n, size_t hl,
		  xf_sum *s);
/* ERROR: code and message (borrowed, msg_len bytes, not NUL-terminated). */
int xf_error_decode(const uint8_t *p, size_t n, uint16_t *code,
		    const char **msg, size_t *msg_len);

/* Encoders write a whole frame, head included, into out (cap bytes) and
 * return its length, or 0 when it does not fit or the value is not one a
 * decoder would take (a bad path, say). */
size_t xf_hello_encode(uint8_t *out, size_t cap, const xf_hello *h);
size_t xf_entry_encode(uint8_t *out, size_t cap, const xf_entry *e);
size_t xf_sum_encode(uint8_t *out, size_t cap, uint8_t type, size_t hl,
		     const xf_sum *s);
/* A message over XF_ERRMSG_MAX is cut (at a UTF-8 boundary is not
 * promised: it is for people). */
size_t xf_error_encode(uint8_t *out, size_t cap, uint16_t code,
		       const char *msg);

/* The number of chunks of a file of size bytes, and chunk i's length. */
uint64_t xf_chunks(uint64_t size, uint32_t chunk);
uint32_t xf_chunk_len(uint64_t size, uint32_t chunk, uint64_t i);

/* A relative, normalised path (docs/transfer.md): true or false. */
bool xf_path_ok(const char *p, size_t n);
/* A link at path whose target stays inside the transfer's root. */
bool xf_link_ok(const char *path, size_t path_len, const char *target,
		size_t target_len);

#endif
