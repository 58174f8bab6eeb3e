/* hist.c - the log-linear latency histogram of hist.h.
 *
 * Recording is inline in the header; what lives here is the once-per-run
 * side: reset, merge, percentiles and the mean, which walk the 7424
 * buckets (a few microseconds) and need no precision tricks beyond the
 * bucket bounds below.
 */
#include "tools/bench/hist.h"

#include <math.h>
#include <string.h>

/* The external definitions of the header's inline functions (C99 6.7.4):
 * a caller that does not inline them, or takes their address, links to
 * these. */
extern inline size_t hist_index(uint64_t v);
extern inline void hist_record(hist *h, uint64_t v);

void hist_reset(hist *h)
{
	memset(h->bucket, 0, sizeof(h->bucket));
	h->count = 0;
	h->min = UINT64_MAX;
	h->max = 0;
	h->sum = 0;
}

void hist_merge(hist *into, const hist *from)
{
	if (from->count == 0)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

/* Bucket i holds the values whose top S + 1 bits, shifted back, give its
 * lowest value (the inverse of hist_index): i itself below 2^(S+1),
 * else i = (shift << S) + m with m in [2^S, 2^(S+1)), so i >> S is
 * shift + 1. */
static unsigned bucket_shift(size_t i)
{
	if (i < 2 * HIST_SUB_COUNT)
		return 0;
	return (unsigned)(i >> HIST_SUB_BITS) - 1u;
}

uint64_t hist_bucket_lo(size_t i)
{
	unsigned shift = bucket_shift(i);
	uint64_t m = (uint64_t)i - ((uint64_t)shift << HIST_SUB_BITS);
	return m << shift;
}

uint64_t hist_bucket_hi(size_t i)
{
	/* lo + (2^shift - 1): the last bucket ends at exactly UINT64_MAX,
	 * so this cannot wrap. */
	unsigned shift = bucket_shift(i);
	return hist_bucket_lo(i) + ((UINT64_C(1) << shift) - 1u);
}

/* The rank (1-based, in sorted order) that percentile p names, for
 * 0 < p < 100: ceil(p / 100 * count), kept within [1, count]. long double
 * keeps the product exact enough for any count below 2^64. */
static uint64_t rank_of(double p, uint64_t count)
{
	long double r = ceill((long double)p / 100.0L * (long double)count);
	if (r < 1.0L)
		return 1;
	if (r >= (long double)count)
		return count;
	return (uint64_t)r;
}

uint64_t hist_percentile(const hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (!(p > 0.0)) /* also NaN */
		return h->min;
	if (p >= 100.0)
		return h->max;
	uint64_t rank = rank_of(p, h->count);
	uint64_t seen = 0;
	size_t i = 0;
	for (; i < HIST_BUCKETS - 1; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	uint64_t v = hist_bucket_hi(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

double hist_mean(const hist *h)
{
	if (h->count == 0)
		return 0.0;
	return (double)(h->sum / (long double)h->count);
}
