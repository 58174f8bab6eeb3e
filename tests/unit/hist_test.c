/* hist_test.c - the latency histogram (src/tools/bench/hist.c): the bucket
 * layout, exactness below 256, percentiles against an exact sort within
 * the documented relative error, merging, the ends of the uint64 range. */
#include "sktest.h"

#include "tools/bench/hist.h"

#include <inttypes.h>
#include <math.h> /* NAN */
#include <stdlib.h>
#include <string.h>

/* Histograms are 58 KiB: keep them off the test's stack. */
static hist ha, hb, hc;

/* xorshift64*: a fixed, portable stream of test values. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* A percentile as the exact fraction it names: p / 100 = num / den. The
 * reference ranks below come from these, never from the double p, so
 * they do not depend on floating point at all. */
typedef struct pct {
	double p;
	uint64_t num, den;
} pct;

/* The rank rule of hist_percentile for the decimal p: ceil(num / den *
 * n), at least 1 (n and num small enough here not to overflow). */
static uint64_t rank_of(const pct *q, uint64_t n)
{
	uint64_t r = (q->num * n + q->den - 1) / q->den;
	return r < 1 ? 1 : r > n ? n : r;
}

static uint64_t exact_percentile(const uint64_t *v, size_t n, const pct *q)
{
	return v[rank_of(q, n) - 1];
}

/* got is the bucket upper bound of the exact value want: never below it,
 * above by less than a bucket width, which is at most want / 128. */
static void expect_close(uint64_t got, uint64_t want, double p)
{
	cr_assert_geq(got, want, "p%g: %" PRIu64 " below the exact %" PRIu64, p,
		      got, want);
	cr_assert_leq(got - want, want >> HIST_SUB_BITS,
		      "p%g: %" PRIu64 " vs exact %" PRIu64, p, got, want);
}

/* Percentiles checked: the body, the tail, the far tail. */
/* clang-format off */
static const pct some_p[] = {
	{0.001, 1, 100000}, {1, 1, 100}, {10, 1, 10}, {25, 1, 4},
	{50, 1, 2}, {75, 3, 4}, {90, 9, 10}, {99, 99, 100},
	{99.9, 999, 1000}, {99.99, 9999, 10000}, {99.999, 99999, 100000},
};
/* clang-format on */
#define SOME_P (sizeof(some_p) / sizeof(some_p[0]))

SKT_TEST(hist, empty)
{
	hist_reset(&ha);
	cr_assert_eq(ha.count, 0);
	cr_assert_eq(ha.min, UINT64_MAX);
	cr_assert_eq(ha.max, 0);
	for (double p = 0; p <= 100; p += 12.5)
		cr_assert_eq(hist_percentile(&ha, p), 0, "p%g", p);
	cr_assert_eq(hist_mean(&ha), 0.0);
}

SKT_TEST(hist, single_value)
{
	hist_reset(&ha);
	hist_record(&ha, 123456789);
	cr_assert_eq(ha.count, 1);
	cr_assert_eq(ha.min, 123456789);
	cr_assert_eq(ha.max, 123456789);
	/* The bucket is ~1 ms wide, but clamping to [min, max] makes every
	 * percentile of one value exact. */
	for (double p = 0; p <= 100; p += 0.5)
		cr_assert_eq(hist_percentile(&ha, p), 123456789, "p%g", p);
	cr_assert_eq(hist_mean(&ha), 123456789.0);
}

SKT_TEST(hist, small_values_are_exact)
{
	hist_reset(&ha);
	uint64_t v[256];
	for (size_t i = 0; i < 256; i++) {
		cr_assert_eq(hist_index(i), i);
		cr_assert_eq(hist_bucket_lo(i), i);
		cr_assert_eq(hist_bucket_hi(i), i);
		v[i] = 255 - i;
		hist_record(&ha, v[i]);
	}
	qsort(v, 256, sizeof(v[0]), cmp_u64);
	/* p in tenths, 0.1 to 99.9: each the decimal, not its double. */
	for (uint64_t t = 1; t < 1000; t += 7) {
		pct q = {(double)t / 10, t, 1000};
		cr_assert_eq(hist_percentile(&ha, q.p),
			     exact_percentile(v, 256, &q), "p%g", q.p);
	}
	cr_assert_eq(hist_percentile(&ha, 50), 127);
	cr_assert_eq(hist_mean(&ha), 127.5);
}

/* Buckets tile [0, UINT64_MAX] without gap or overlap, each maps back to
 * itself, and none is wider than 1/128 of its lowest value. */
SKT_TEST(hist, buckets_tile_the_range)
{
	cr_assert_eq(hist_bucket_lo(0), 0);
	cr_assert_eq(hist_bucket_hi(HIST_BUCKETS - 1), UINT64_MAX);
	cr_assert_eq(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_lo(i);
		uint64_t hi = hist_bucket_hi(i);
		cr_assert_leq(lo, hi, "bucket %zu", i);
		cr_assert_eq(hist_index(lo), i, "lo of %zu", i);
		cr_assert_eq(hist_index(hi), i, "hi of %zu", i);
		cr_assert_leq(hi - lo, lo >> HIST_SUB_BITS, "bucket %zu", i);
		if (i + 1 < HIST_BUCKETS)
			cr_assert_eq(hist_bucket_lo(i + 1), hi + 1,
				     "gap after bucket %zu", i);
	}
}

SKT_TEST(hist, uniform_million_within_error)
{
	hist_reset(&ha);
	/* Recorded in a scrambled order: 1..1e6, each once. */
	for (uint64_t k = 0; k < 1000000; k++)
		hist_record(&ha, (k * 7919) % 1000000 + 1);
	cr_assert_eq(ha.count, 1000000);
	cr_assert_eq(ha.min, 1);
	cr_assert_eq(ha.max, 1000000);
	cr_assert_eq(hist_mean(&ha), 500000.5);
	for (size_t i = 0; i < SOME_P; i++) {
		/* The value of rank r is r itself. */
		uint64_t want = rank_of(&some_p[i], 1000000);
		expect_close(hist_percentile(&ha, some_p[i].p), want,
			     some_p[i].p);
	}
	cr_assert_eq(hist_percentile(&ha, 100), 1000000);
	cr_assert_eq(hist_percentile(&ha, 0), 1);
}

/* Latency-like values (a wide, skewed spread from 100 ns to ~1 s) against
 * an exact sort. */
SKT_TEST(hist, skewed_values_within_error)
{
	enum { N = 200000 };
	static uint64_t v[N];
	uint64_t s = 42;
	hist_reset(&ha);
	for (size_t i = 0; i < N; i++) {
		uint64_t r = rnd(&s);
		v[i] = 100 + ((r >> 34) >> (r & 31)); /* up to 2^30 */
		hist_record(&ha, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t i = 0; i < SOME_P; i++)
		expect_close(hist_percentile(&ha, some_p[i].p),
			     exact_percentile(v, N, &some_p[i]), some_p[i].p);
	cr_assert_eq(hist_percentile(&ha, 100), v[N - 1]);
	cr_assert_eq(hist_percentile(&ha, 0), v[0]);
}

SKT_TEST(hist, merge_equals_recording_into_one)
{
	uint64_t s = 7;
	hist_reset(&ha);
	hist_reset(&hb);
	hist_reset(&hc);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = rnd(&s) >> (rnd(&s) & 63);
		hist_record(i % 3 == 0 ? &ha : &hb, v);
		hist_record(&hc, v);
	}
	hist_merge(&ha, &hb);
	cr_assert_eq(ha.count, hc.count);
	cr_assert_eq(ha.min, hc.min);
	cr_assert_eq(ha.max, hc.max);
	cr_assert_arr_eq(ha.bucket, hc.bucket, sizeof(ha.bucket));
	/* The same sum in another order: integers, so exactly equal. */
	cr_assert_eq(ha.sum_lo, hc.sum_lo);
	cr_assert_eq(ha.sum_hi, hc.sum_hi);
	cr_assert_eq(hist_mean(&ha), hist_mean(&hc));
	for (double p = 0; p <= 100; p += 0.25)
		cr_assert_eq(hist_percentile(&ha, p), hist_percentile(&hc, p),
			     "p%g", p);
}

SKT_TEST(hist, merge_with_empty)
{
	hist_reset(&ha);
	hist_reset(&hb);
	hist_merge(&ha, &hb);
	cr_assert_eq(ha.count, 0);
	cr_assert_eq(ha.min, UINT64_MAX, "an empty merge keeps min empty");
	hist_record(&hb, 5000);
	hist_record(&hb, 7);
	hist_merge(&ha, &hb);
	cr_assert_eq(ha.count, 2);
	cr_assert_eq(ha.min, 7);
	cr_assert_eq(ha.max, 5000);
	cr_assert_eq(hist_mean(&ha), 2503.5);
	hist_reset(&hb);
	hist_merge(&ha, &hb);
	cr_assert_eq(ha.count, 2);
	cr_assert_eq(ha.min, 7);
}

SKT_TEST(hist, huge_values)
{
	hist_reset(&ha);
	hist_record(&ha, UINT64_MAX);
	hist_record(&ha, UINT64_MAX - 1);
	hist_record(&ha, UINT64_C(1) << 63);
	hist_record(&ha, 0);
	cr_assert_eq(ha.bucket[HIST_BUCKETS - 1], 2);
	cr_assert_eq(ha.min, 0);
	cr_assert_eq(hist_percentile(&ha, 100), UINT64_MAX);
	cr_assert_eq(hist_percentile(&ha, 99), UINT64_MAX);
	cr_assert_eq(hist_percentile(&ha, 0), 0);
	cr_assert_eq(hist_percentile(&ha, 25), 0);
	expect_close(hist_percentile(&ha, 50), UINT64_C(1) << 63, 50);
	/* The sum passed 2^64 without wrapping: 2^65 + 2^63 - 3, in words
	 * (2, 2^63 - 3); the mean, (2^65 + 2^63 - 3) / 4, rounds to the
	 * double 2^63 + 2^61. */
	cr_assert_eq(ha.sum_hi, 2);
	cr_assert_eq(ha.sum_lo, (UINT64_C(1) << 63) - 3);
	cr_assert_eq(hist_mean(&ha),
		     9223372036854775808.0 + 2305843009213693952.0,
		     "mean %.17g", hist_mean(&ha));
}

/* A percentile names the decimal written, not the double just above or
 * below it: of 1..1000, p99.9 is the 999th value (the double 99.9 is
 * 99.900000000000005684..., whose exact rank would be the 1000th) and
 * p0.3 the 3rd (the double is 0.29999999999999998889...). */
SKT_TEST(hist, percentile_is_the_decimal_written)
{
	hist_reset(&ha);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(&ha, v);
	cr_assert_eq(hist_percentile(&ha, 99.9),
		     hist_bucket_hi(hist_index(999)));
	cr_assert_eq(hist_percentile(&ha, 0.3), 3);
	cr_assert_eq(hist_percentile(&ha, 0.1), 1);
	cr_assert_eq(hist_percentile(&ha, 0.10000001), 2);
	cr_assert_eq(hist_percentile(&ha, 1e-300), 1);
	cr_assert_eq(hist_percentile(&ha, 99.99999999999), 1000);
}

/* Ranks stay exact where p * count no longer fits 64 bits: 2^64 - 1
 * values, half of them 5 and half 300 (buckets set by hand, as a long
 * merge would). */
SKT_TEST(hist, ranks_exact_for_huge_counts)
{
	hist_reset(&ha);
	ha.bucket[hist_index(5)] = UINT64_C(1) << 63;
	ha.bucket[hist_index(300)] = (UINT64_C(1) << 63) - 1;
	ha.count = UINT64_MAX;
	ha.min = 5;
	ha.max = 300;
	/* rank ceil((2^64 - 1) / 2) = 2^63: the last 5. */
	cr_assert_eq(hist_percentile(&ha, 50), 5);
	/* 50.000000001 %: 10^-11 * 2^64 more, past the 5s. */
	cr_assert_eq(hist_percentile(&ha, 50.000000001), 300);
	cr_assert_eq(hist_percentile(&ha, 1e-9), 5);
}

SKT_TEST(hist, p100_is_max_and_p0_min_exactly)
{
	hist_reset(&ha);
	/* 1000003 and 999999 share a bucket far wider than 1. */
	hist_record(&ha, 1000003);
	hist_record(&ha, 999999);
	hist_record(&ha, 1000001);
	cr_assert_eq(hist_index(999999), hist_index(1000003));
	cr_assert_eq(hist_percentile(&ha, 100), 1000003);
	cr_assert_eq(hist_percentile(&ha, 150), 1000003);
	cr_assert_eq(hist_percentile(&ha, 0), 999999);
	cr_assert_eq(hist_percentile(&ha, -3), 999999);
	cr_assert_eq(hist_percentile(&ha, NAN), 999999);
	/* Inside the bucket the answer is its upper bound, clamped. */
	cr_assert_eq(hist_percentile(&ha, 50), 1000003);
}

SKT_TEST(hist, percentiles_are_monotonic)
{
	uint64_t s = 99;
	hist_reset(&ha);
	for (int i = 0; i < 20000; i++)
		hist_record(&ha, 1000 + (rnd(&s) >> (40 + (i & 15))));
	uint64_t prev = 0;
	for (double p = 0; p <= 100.0001; p += 0.05) {
		uint64_t v = hist_percentile(&ha, p);
		cr_assert_geq(v, prev, "p%g went down: %" PRIu64 " < %" PRIu64,
			      p, v, prev);
		cr_assert_geq(v, ha.min);
		cr_assert_leq(v, ha.max);
		prev = v;
	}
	cr_assert_eq(prev, ha.max);
}

/* The inline definition has an external one behind it (hist.c), for
 * callers that take its address. */
SKT_TEST(hist, record_through_a_pointer)
{
	void (*rec)(hist *, uint64_t) = hist_record;
	hist_reset(&ha);
	rec(&ha, 300);
	cr_assert_eq(ha.count, 1);
	cr_assert_eq(ha.bucket[hist_index(300)], 1);
}
