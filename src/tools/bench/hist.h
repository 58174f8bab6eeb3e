/* hist.h - a latency histogram with bounded relative error, in the manner
 * of HdrHistogram: log-linear buckets over the whole uint64_t range.
 *
 * Layout (S = HIST_SUB_BITS = 7): values below 2^(S+1) = 256 get a
 * bucket each, so they are exact. Above, every power-of-two range
 * [2^k, 2^(k+1)) is cut into 2^S = 128 equal buckets of width 2^(k-S), so
 * a bucket is never wider than 1/128 of the values it holds: the relative
 * error of anything read back is at most 2^-S (0.78 %). Nothing is
 * clamped: UINT64_MAX has its own bucket (the last). That takes
 * (64 - S + 1) * 2^S = 7424 buckets, 58 KiB, inside the struct: recording
 * never allocates, a histogram can live on a stack or in a worker, and
 * two of them merge by adding arrays.
 *
 * Not thread-safe: one writer per histogram (one per worker thread),
 * merged afterwards.
 */
#ifndef SOCKIT_BENCH_HIST_H
#define SOCKIT_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS  7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_BUCKETS   ((64 - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

typedef struct hist {
	uint64_t count; /* values recorded */
	uint64_t min;   /* smallest value; UINT64_MAX while empty */
	uint64_t max;   /* largest value; 0 while empty */
	/* Sum of the values, for the mean: exact in two words (sum_hi *
	 * 2^64 + sum_lo), since 2^64 ns is only five hours of latency at a
	 * million requests a second; it wraps only after 2^64 values. No
	 * floating point, so the mean is the same on every compiler and
	 * under valgrind (which runs x87 long double at 64-bit precision). */
	uint64_t sum_lo;
	uint64_t sum_hi;
	uint64_t bucket[HIST_BUCKETS];
} hist;

/* Empty h: count and sum 0, min UINT64_MAX, max 0, every bucket 0. A
 * zero-filled struct is not a valid empty histogram (its min is 0). */
void hist_reset(hist *h);

/* The bucket of v, in [0, HIST_BUCKETS): v itself below 2^(S+1),
 * else (shift << S) + (v >> shift) where shift = log2(v) - S, so that
 * v >> shift keeps the top S + 1 bits. No branch, no division; v | 255
 * makes clz well defined for v = 0 and floors the shift at 0. */
inline size_t hist_index(uint64_t v)
{
	unsigned top = 63u - (unsigned)__builtin_clzll(
				     v | ((2u * HIST_SUB_COUNT) - 1u));
	unsigned shift = top - HIST_SUB_BITS;
	return ((size_t)shift << HIST_SUB_BITS) + (size_t)(v >> shift);
}

/* Record one value (nanoseconds, or any unit: the histogram does not
 * care). Never fails, never allocates. Counts wrap only after 2^64
 * values. Defined here (C99 inline, with the one external definition in
 * hist.c) so that the engine's hot path can inline it. */
inline void hist_record(hist *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum_lo += v;
	h->sum_hi += h->sum_lo < v; /* the carry */
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Add everything recorded in from to into (from is unchanged; merging an
 * empty histogram changes nothing). The result is exactly what recording
 * both sets of values into one histogram would have given. */
void hist_merge(hist *into, const hist *from);

/* The value at percentile p (0..100) of the recorded values: 0 for an
 * empty histogram; min for p <= 0 and max for p >= 100, both exact (a NaN
 * p counts as 0). Otherwise p is read to nine decimals, as the decimal
 * the user wrote (99.9 is 999/1000 of the values, not the binary double
 * just above it): P = p * 10^9 rounded to an integer, and the rank is
 * ceil(P * count / 10^11), computed exactly in integers (at least 1, at
 * most count). The answer is the upper bound of the bucket holding the value of
 * that rank, clamped to [min, max]: at least p % of the values are <= the
 * answer, so a tail latency is never under-reported, and the answer
 * exceeds the exact value of that rank by less than one bucket width, at
 * most 1/128 of it (nothing at all below 256). */
uint64_t hist_percentile(const hist *h, double p);

/* sum / count from the exact sum (see sum_lo above), rounded to a double:
 * exact when the quotient is below 2^53 and a multiple of 1/2^k that a
 * double holds (127.5); 0 when empty. */
double hist_mean(const hist *h);

/* The smallest and largest values that land in bucket i (i below
 * HIST_BUCKETS): for tests and for printing a distribution. */
uint64_t hist_bucket_lo(size_t i);
uint64_t hist_bucket_hi(size_t i);

#endif
