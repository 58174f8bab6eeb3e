/* hist.c - the log-linear latency histogram of hist.h.
 *
 * Recording is inline in the header; what lives here is the once-per-run
 * side: reset, merge, percentiles and the mean, which walk the 7424
 * buckets (a few microseconds). All of it is integer arithmetic, exact on
 * every compiler and under valgrind, and needs no libm.
 */
#include "tools/bench/hist.h"

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
	h->sum_lo = 0;
	h->sum_hi = 0;
}

void hist_merge(hist *into, const hist *from)
{
	if (from->count == 0)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum_lo += from->sum_lo;
	into->sum_hi += from->sum_hi + (into->sum_lo < from->sum_lo);
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

/* Exact unsigned 128-bit arithmetic in two words, the little that rank
 * and mean need: no __int128 (not on 32-bit targets) and no floating
 * point wider than a double. */
typedef struct u128 {
	uint64_t hi, lo;
} u128;

/* a * b, whole: four 32 x 32-bit products, each fitting 64 bits. */
static u128 mul_64x64(uint64_t a, uint64_t b)
{
	uint64_t a0 = a & 0xffffffffu, a1 = a >> 32;
	uint64_t b0 = b & 0xffffffffu, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	/* The middle column: at most 3 (2^32 - 1), no overflow. */
	uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
	u128 r;
	r.lo = (mid << 32) | (p00 & 0xffffffffu);
	r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
	return r;
}

/* n / d and n % d for d > 0 and n.hi < d, so that the quotient fits 64
 * bits: restoring long division, one bit a step (128 steps, once per
 * report). */
static uint64_t div_128x64(u128 n, uint64_t d, uint64_t *rem)
{
	uint64_t r = n.hi, q = 0;
	for (int i = 63; i >= 0; i--) {
		/* r < d; shift in the next bit. r's top bit would fall out
		 * of the word: then r * 2 + bit >= 2^64 > d for sure. */
		uint64_t top = r >> 63;
		r = (r << 1) | ((n.lo >> i) & 1u);
		if (top || r >= d) {
			r -= d;
			q |= UINT64_C(1) << i;
		}
	}
	*rem = r;
	return q;
}

/* Percent to nine decimals: finer than anything a report asks for
 * (p99.9999999), coarse enough that the double nearest a decimal a user
 * typed rounds back to that decimal (99.9 is 99.900000000000005684...). */
#define PCT_SCALE UINT64_C(1000000000)
#define PCT_WHOLE (100u * PCT_SCALE) /* 100 %, the denominator */

/* The rank (1-based, in sorted order) that percentile p names, for
 * 0 < p < 100 and count >= 1: ceil(P * count / 10^11) with P = p * 10^9
 * rounded, kept within [1, count]. P < 10^11 < 2^37 and count < 2^64, so
 * the product needs the two words. */
static uint64_t rank_of(double p, uint64_t count)
{
	/* p < 100, so p * 10^9 + 0.5 < 2^37: the conversion is exact, and
	 * it truncates, so + 0.5 rounds to nearest. */
	uint64_t pct = (uint64_t)(p * (double)PCT_SCALE + 0.5);
	u128 n = mul_64x64(pct, count);
	/* n < 10^11 * 2^64, so n.hi < 10^11 = d and the quotient fits. */
	uint64_t rem;
	uint64_t r = div_128x64(n, PCT_WHOLE, &rem);
	if (rem != 0)
		r++; /* the ceiling; r < count here, so no wrap */
	if (r < 1)
		return 1; /* p below 5e-10 % */
	if (r > count)
		return count;
	return r;
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
	/* Every value is below 2^64, so sum < count * 2^64: sum_hi < count
	 * and the quotient fits a word. The remainder's share is below 1,
	 * added once, in double. */
	u128 sum = {h->sum_hi, h->sum_lo};
	uint64_t rem;
	uint64_t q = div_128x64(sum, h->count, &rem);
	return (double)q + (double)rem / (double)h->count;
}
