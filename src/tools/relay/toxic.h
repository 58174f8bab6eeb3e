/* toxic.h - the faults `sockit relay --toxic` injects (toxiproxy's
 * toxics), and the parser of their specs. The parser is pure: no fd, no
 * clock, no allocation, so it is fuzzed (fuzz/toxic_spec.c).
 *
 * A spec is NAME[:KEY=VALUE,...]. Every toxic takes dir=up|down|both (up:
 * client to target, down: target to client; default both) and
 * toxicity=P (0..1, default 1: the share of connections it applies to,
 * drawn per connection from --seed). Units are fixed: milliseconds,
 * bytes, KB/s (1 KB = 1024 bytes).
 *   latency:ms=M,jitter=J  each chunk held M ms, +- J uniformly
 *   bandwidth:rate=R       at most R KB/s
 *   slicer:bytes=N,ms=M    writes of at most N bytes (default 64), M ms
 *                          apart (default 0)
 *   slow_close:ms=M        the end of stream passed on M ms late
 *   timeout:ms=M           no data passes; the connection is closed M ms
 *                          after it opened (0, the default: never)
 *   limit_data:bytes=N     the connection is closed once N bytes passed
 *   reset_peer:ms=M        both sides reset M ms after the connection
 *                          opened (default 0: at once)
 *   down                   connections are reset at once, never relayed
 *   fail_first:n=N         the first N connections are reset, then the
 *                          relay behaves
 * UDP toxics (a udp: relay only), drawn per datagram: toxicity is then the
 * share of datagrams:
 *   loss:p=P,burst=B       drop a share P of datagrams (default 1); with
 *                          burst, Gilbert-Elliott: after a loss the next
 *                          is lost with probability B (0..1, below 1),
 *                          the long-run rate staying P
 *   duplicate:n=N          send N extra copies (default 1)
 *   reorder:n=N or ms=M    hold the datagram back until N more have passed
 *                          that way (default 1), or M ms
 *   delay:ms=M,jitter=J    each datagram held M ms, +- J uniformly
 *   truncate:bytes=N       only the first N bytes pass
 */
#ifndef SOCKIT_TOOLS_RELAY_TOXIC_H
#define SOCKIT_TOOLS_RELAY_TOXIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOXICS_MAX       16
#define TOXIC_SPEC_MAX   256      /* characters of one spec */
#define TOXIC_MS_MAX     3600000  /* an hour */
#define TOXIC_RATE_MAX   10000000 /* KB/s: 10 GB/s */
#define TOXIC_BYTES_MAX  ((uint64_t)1 << 40)
#define TOXIC_COUNT_MAX  1000000000
#define TOXIC_COPIES_MAX 100 /* duplicate copies, reorder hold count */

enum {
	TOXIC_LATENCY = 1,
	TOXIC_BANDWIDTH,
	TOXIC_SLICER,
	TOXIC_SLOW_CLOSE,
	TOXIC_TIMEOUT,
	TOXIC_LIMIT_DATA,
	TOXIC_RESET_PEER,
	TOXIC_DOWN,
	TOXIC_FAIL_FIRST,
	TOXIC_LOSS, /* the UDP ones, from here (toxic_is_udp) */
	TOXIC_DUPLICATE,
	TOXIC_REORDER,
	TOXIC_DELAY,
	TOXIC_TRUNCATE
};

#define TOXIC_UP         0x1
#define TOXIC_DOWNSTREAM 0x2
#define TOXIC_BOTH       (TOXIC_UP | TOXIC_DOWNSTREAM)

typedef struct relay_toxic {
	int kind;          /* TOXIC_* */
	unsigned dir;      /* TOXIC_UP, TOXIC_DOWNSTREAM or both */
	uint32_t toxicity; /* parts per million: 1000000 is always */
	int ms;         /* latency, slicer, slow_close, timeout, reset_peer */
	int jitter_ms;  /* latency */
	uint64_t rate;  /* bandwidth: bytes per second */
	uint64_t bytes; /* slicer: slice size; limit_data: the limit */
	uint64_t n;     /* fail_first; duplicate: copies; reorder: count */
	uint32_t p;     /* loss: parts per million */
	uint32_t burst; /* loss: P(lost | previous lost), ppm; 0: none */
} relay_toxic;

/* Parse spec (NUL-terminated) into t. Returns 0, or SKT_EINVAL with a
 * message in why (cap bytes: "unknown toxic 'x'", "latency: ms: not a
 * number of milliseconds 0..3600000"). */
int toxic_parse(relay_toxic *t, const char *spec, char *why, size_t cap);

/* "latency", ... */
const char *toxic_name(int kind);

/* True when the toxic shapes a direction's bytes (so that direction
 * cannot splice). */
bool toxic_shapes_data(int kind);

/* True for the per-datagram toxics of a udp: relay. */
bool toxic_is_udp(int kind);

#endif
