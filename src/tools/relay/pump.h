/* pump.h - one direction of a relayed connection: bytes from src to dst
 * through a pipe with splice(2), so they never enter user space. A leaf:
 * it moves bytes and says what happened, and never calls back up.
 *
 * States of a direction:
 *   FLOWING   src is read while the pipe has room, the pipe written to
 *             dst while it holds bytes;
 *   DRAINING  src said end of stream (eof); what the pipe holds still
 *             goes to dst;
 *   DONE      the pipe is empty after eof: dst was half-closed
 *             (shutdown(SHUT_WR)), so dst's peer reads end of stream
 *             while the other direction goes on.
 * An error reading src or writing dst ends the direction at once; the
 * caller resets both sides.
 */
#ifndef SOCKIT_TOOLS_RELAY_PUMP_H
#define SOCKIT_TOOLS_RELAY_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct toxic_pump toxic_pump;
/* A worker's pool of empty pipes: a pump takes one when bytes arrive and
 * gives it back once it has emptied it, so idle connections hold no
 * pipe (HAProxy pools its splice pipes the same way). One worker's
 * thread only. */
typedef struct relay_pipes relay_pipes;

/* A direction with toxics (toxic.h) copies through user space instead:
 * read into chunks, each held until due (latency), written paced
 * (bandwidth, slicer) and counted (limit_data); toxic_pump.c. */
typedef struct relay_pump {
	int src, dst;   /* borrowed */
	int pipe[2];    /* the pump's: [0] read end, [1] write end */
	size_t held;    /* bytes in the pipe */
	size_t cap;     /* the pipe's size */
	bool eof;       /* src ended */
	bool done;      /* eof passed on to dst */
	uint64_t bytes; /* delivered to dst */
	toxic_pump *tx; /* NULL: the splice path */
	relay_pipes *pool;
} relay_pump;

/* What one pump_run did. */
typedef struct relay_moved {
	size_t n;    /* bytes delivered to dst */
	bool any;    /* anything moved (read or written) */
	int rd_err;  /* reading src failed: -errno, else 0 */
	int wr_err;  /* writing dst failed: -errno, else 0 */
	int own_err; /* the relay's own: no pipe (fds), no memory */
	int64_t due; /* toxics: run again at this time (ms), else -1 */
	bool cut;    /* toxics: limit_data reached, close the connection */
} relay_moved;

int pipes_new(relay_pipes **out);   /* 0 or SKT_ENOMEM */
void pipes_free(relay_pipes *pool); /* closes the pooled pipes */

/* A splice pump from src to dst taking its pipes from pool (may be
 * NULL: a pipe of its own each time). Returns 0. */
int pump_init(relay_pump *p, int src, int dst, relay_pipes *pool);
/* Give the pipe back (or close it); again does nothing. */
void pump_fini(relay_pump *p);
/* Move what can be moved now without blocking, at most a few pipefuls
 * (so one fast connection cannot hold the loop from the others), and
 * half-close dst once src's end of stream has been passed through. */
relay_moved pump_run(relay_pump *p, int64_t now);
/* Whether the pump wants src readable / dst writable to go on. */
bool pump_wants_src(const relay_pump *p);
bool pump_wants_dst(const relay_pump *p);

/* The toxic path's settings for one direction (the sum of the toxics
 * that apply to it). */
typedef struct toxic_dir {
	int latency_ms, jitter_ms;
	uint64_t rate; /* bytes/s; 0: no limit */
	size_t slice;  /* 0: whole chunks */
	int slice_ms;
	int slow_close_ms;
	bool drop; /* timeout: nothing passes, not even the end */
	bool limited;
	uint64_t limit;
	uint64_t rng; /* jitter's generator state */
} toxic_dir;

/* Make p a toxic pump (no pipe) with settings d. Returns 0 or
 * SKT_ENOMEM. */
int pump_init_toxic(relay_pump *p, int src, int dst, const toxic_dir *d);
/* The toxic path of pump_run, pump_wants_*, pump_fini (toxic_pump.c). */
relay_moved toxic_run(relay_pump *p, int64_t now);
bool toxic_wants_src(const relay_pump *p);
bool toxic_wants_dst(const relay_pump *p);
void toxic_fini(relay_pump *p);

/* splitmix64: a small generator that --seed makes reproducible. */
uint64_t relay_rand(uint64_t *state);

#endif
