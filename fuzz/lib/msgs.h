/* msgs.h - a growing list of the messages a decoder returned, for the
 * frame and line harnesses to compare one way of feeding with another. */
#ifndef SOCKIT_FUZZ_MSGS_H
#define SOCKIT_FUZZ_MSGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_msgs {
	size_t n;      /* messages */
	size_t *len;   /* length of each */
	uint8_t *data; /* their bytes, one after another */
	size_t used, cap, ncap;
	int err; /* the error that ended the stream, or 0 */
} fuzz_msgs;

void fuzz_msgs_add(fuzz_msgs *m, const uint8_t *p, size_t len);
bool fuzz_msgs_equal(const fuzz_msgs *a, const fuzz_msgs *b);
void fuzz_msgs_free(fuzz_msgs *m);

/* Chunk sizes for a split feed, taken from the input's front: a count
 * (0..7) then that many 16-bit sizes, used in turn; 0 from the input
 * means 1 byte. With no sizes the whole input goes in one call. */
typedef struct fuzz_splits {
	size_t n;
	size_t size[8];
	size_t next;
} fuzz_splits;

#include "fuzz.h"
void fuzz_splits_take(fuzz_splits *s, fuzz_in *in);
/* The length of the next chunk, at most left. */
size_t fuzz_splits_next(fuzz_splits *s, size_t left);

#endif
