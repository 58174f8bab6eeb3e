/* scan_order_test.c - the scan space, its permutation and its shards.
 *
 * The property the sharding promises: for any size and any shard count N,
 * the N shards of one seed together yield every index of the space
 * exactly once. Checked with a bitmap over random sizes from 1 to 10^7,
 * N from 1 to 257 and a few up to 65,536, over many seeds; then the
 * same seed gives the same order, two seeds give different ones, a
 * resumed shard goes on exactly where it stopped, and the space maps
 * indices to (address, port) one to one. */
#include "sktest.h"

#include <stdlib.h>
#include <string.h>

#define ORDER_TEST(name)                                                       \
	Test(scan_order, name, .init = sktest_setup, .fini = sktest_teardown,  \
	     .timeout = 120)

/* A test's own reproducible numbers (xorshift64*). */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static bool naive_prime(uint64_t n)
{
	if (n < 2)
		return false;
	for (uint64_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

/* Walk all shards of (size, seed, n) and check that their union is the
 * space, without a duplicate. Returns the shard sizes' spread (largest
 * minus smallest) for the balance check. */
static uint64_t assert_cover(uint64_t size, uint64_t seed, uint32_t n,
			     uint64_t *seen_words)
{
	skt_scan_order o;
	cr_assert_eq(skt_scan_order_init(&o, size, seed, true), 0);
	memset(seen_words, 0, (size + 63) / 64 * 8);
	uint64_t total = 0, lo = UINT64_MAX, hi = 0;
	for (uint32_t i = 0; i < n; i++) {
		skt_scan_iter it;
		SKT_CHECK(skt_scan_iter_init(&it, &o, i, n, 0) == 0, "shard %u",
			  i);
		uint64_t v, got = 0;
		while (skt_scan_iter_next(&it, &v)) {
			SKT_CHECK(v < size, "size %llu n %u: index %llu",
				  (unsigned long long)size, n,
				  (unsigned long long)v);
			uint64_t bit = (uint64_t)1 << (v & 63);
			SKT_CHECK((seen_words[v >> 6] & bit) == 0,
				  "size %llu seed %llu n %u: %llu twice",
				  (unsigned long long)size,
				  (unsigned long long)seed, n,
				  (unsigned long long)v);
			seen_words[v >> 6] |= bit;
			got++;
		}
		SKT_CHECK(it.pos == it.len, "shard %u stopped at %llu/%llu", i,
			  (unsigned long long)it.pos,
			  (unsigned long long)it.len);
		total += got;
		lo = got < lo ? got : lo;
		hi = got > hi ? got : hi;
	}
	cr_assert_eq(total, size, "size %llu seed %llu n %u: %llu covered",
		     (unsigned long long)size, (unsigned long long)seed, n,
		     (unsigned long long)total);
	return hi - lo;
}

ORDER_TEST(shards_cover_the_space_exactly_once)
{
	uint64_t *seen = malloc((10000000 + 63) / 64 * 8);
	cr_assert_not_null(seen);
	/* Small sizes, every N up to 257 for some, all seeds different. */
	for (int round = 0; round < 300; round++) {
		uint64_t size = 1 + rnd() % (round < 100 ? 64 : 5000);
		uint32_t n = 1 + (uint32_t)(rnd() % 257);
		assert_cover(size, rnd(), n, seen);
	}
	for (uint32_t n = 1; n <= 257; n++)
		assert_cover(1000, n * 7919, n, seen);
	/* Medium and large sizes, N up to 65,536 (more shards than
	 * elements included). */
	static const uint32_t big_n[] = {1,   2,    3,    254,   255,  256,
					 257, 1000, 4096, 65535, 65536};
	for (size_t k = 0; k < sizeof(big_n) / sizeof(big_n[0]); k++) {
		assert_cover(1 + rnd() % 200000, rnd(), big_n[k], seen);
		assert_cover(1 + rnd() % 100, rnd(), big_n[k], seen);
	}
	/* Up to 10^7: a /20 x 10 ports and beyond. */
	assert_cover(10000000, rnd(), 7, seen);
	assert_cover(40960, rnd(), 65536, seen);
	for (int round = 0; round < 8; round++) {
		assert_cover(1 + rnd() % 10000000, rnd(),
			     1 + (uint32_t)(rnd() % 257), seen);
		assert_cover(1 + rnd() % 10000000, rnd(),
			     1 + (uint32_t)(rnd() % 65536), seen);
	}
	free(seen);
}

ORDER_TEST(shards_are_balanced)
{
	uint64_t *seen = malloc((1000000 + 63) / 64 * 8);
	cr_assert_not_null(seen);
	/* The skipped exponents are few (p - size < 1550), so the shards'
	 * sizes differ by little more than the rounding of the slices. */
	uint64_t spread = assert_cover(1000000, 42, 100, seen);
	cr_assert_lt(spread, 200, "spread %llu", (unsigned long long)spread);
	free(seen);
}

ORDER_TEST(prime_is_the_smallest_above_the_size)
{
	for (uint64_t size = 1; size < 3000; size++) {
		skt_scan_order o;
		cr_assert_eq(skt_scan_order_init(&o, size, size, true), 0);
		SKT_CHECK(naive_prime(o.prime) && o.prime > size,
			  "size %llu: p %llu", (unsigned long long)size,
			  (unsigned long long)o.prime);
		for (uint64_t q = size + 1; q < o.prime; q++)
			SKT_CHECK(!naive_prime(q), "size %llu: %llu skipped",
				  (unsigned long long)size,
				  (unsigned long long)q);
		SKT_CHECK(o.cycle == o.prime - 1, "cycle");
	}
}

/* The generator is a primitive root: its powers repeat only after p - 1
 * steps (checked whole for small primes). */
ORDER_TEST(generator_has_full_order)
{
	for (uint64_t size = 1; size < 2000; size += 37) {
		for (uint64_t seed = 0; seed < 5; seed++) {
			skt_scan_order o;
			cr_assert_eq(skt_scan_order_init(&o, size, seed, true),
				     0);
			uint64_t x = 1, steps = 0;
			do {
				x = x * o.gen % o.prime;
				steps++;
			} while (x != 1);
			SKT_CHECK(steps == o.prime - 1,
				  "p %llu g %llu: order %llu",
				  (unsigned long long)o.prime,
				  (unsigned long long)o.gen,
				  (unsigned long long)steps);
		}
	}
}

static void first_k(uint64_t size, uint64_t seed, uint64_t *out, size_t k)
{
	skt_scan_order o;
	skt_scan_iter it;
	cr_assert_eq(skt_scan_order_init(&o, size, seed, true), 0);
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 1, 0), 0);
	for (size_t i = 0; i < k; i++)
		SKT_CHECK(skt_scan_iter_next(&it, &out[i]), "ended at %zu", i);
}

ORDER_TEST(same_seed_same_order_two_seeds_differ)
{
	uint64_t a[64], b[64];
	for (int round = 0; round < 200; round++) {
		uint64_t size = 1000 + rnd() % 10000000;
		uint64_t seed = rnd();
		first_k(size, seed, a, 64);
		first_k(size, seed, b, 64);
		cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "seed %llu",
			     (unsigned long long)seed);
		first_k(size, seed + 1, b, 64);
		cr_assert_neq(memcmp(a, b, sizeof(a)), 0,
			      "seeds %llu and +1 agree",
			      (unsigned long long)seed);
	}
}

ORDER_TEST(huge_spaces_stay_in_range)
{
	static const uint64_t sizes[] = {
		(uint64_t)1 << 32, ((uint64_t)1 << 32) * 65535,
		SKT_SCAN_SPACE_MAX, SKT_SCAN_SPACE_MAX - 1,
		((uint64_t)1 << 40) + 12345};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		skt_scan_order o;
		skt_scan_iter it;
		cr_assert_eq(skt_scan_order_init(&o, sizes[k], 99, true), 0);
		cr_assert_gt(o.prime, sizes[k]);
		cr_assert_lt(o.prime - sizes[k], 1550);
		cr_assert_eq(skt_scan_iter_init(&it, &o, 65535, 65536, 0), 0);
		uint64_t v, prev = UINT64_MAX;
		for (int i = 0; i < 10000; i++) {
			SKT_CHECK(skt_scan_iter_next(&it, &v), "ended at %d",
				  i);
			SKT_CHECK(v < sizes[k] && v != prev, "%llu",
				  (unsigned long long)v);
			prev = v;
		}
	}
	skt_scan_order o;
	skt_assert_err(skt_scan_order_init(&o, SKT_SCAN_SPACE_MAX + 1, 1, true),
		       SKT_EINVAL);
}

ORDER_TEST(unrandomized_is_index_order)
{
	skt_scan_order o;
	cr_assert_eq(skt_scan_order_init(&o, 1000, 5, false), 0);
	uint64_t want = 0;
	for (uint32_t i = 0; i < 7; i++) {
		skt_scan_iter it;
		cr_assert_eq(skt_scan_iter_init(&it, &o, i, 7, 0), 0);
		uint64_t v;
		while (skt_scan_iter_next(&it, &v)) {
			SKT_CHECK(v == want, "%llu, want %llu",
				  (unsigned long long)v,
				  (unsigned long long)want);
			want++;
		}
	}
	cr_assert_eq(want, 1000);
}

ORDER_TEST(resume_goes_on_where_it_stopped)
{
	for (int round = 0; round < 50; round++) {
		uint64_t size = 1 + rnd() % 100000;
		uint32_t n = 1 + (uint32_t)(rnd() % 10);
		uint32_t i = (uint32_t)(rnd() % n);
		skt_scan_order o;
		skt_scan_iter whole, part;
		cr_assert_eq(skt_scan_order_init(&o, size, rnd(), round & 1),
			     0);
		cr_assert_eq(skt_scan_iter_init(&whole, &o, i, n, 0), 0);
		uint64_t stop = whole.len ? rnd() % (whole.len + 1) : 0, v, w;
		while (whole.pos < stop)
			if (!skt_scan_iter_next(&whole, &v))
				break;
		cr_assert_eq(skt_scan_iter_init(&part, &o, i, n, whole.pos), 0);
		for (;;) {
			bool a = skt_scan_iter_next(&whole, &v);
			bool b = skt_scan_iter_next(&part, &w);
			SKT_CHECK(a == b, "round %d: one iterator ended first",
				  round);
			if (!a)
				break;
			SKT_CHECK(v == w, "round %d: %llu, resumed %llu", round,
				  (unsigned long long)v, (unsigned long long)w);
		}
	}
}

ORDER_TEST(bad_shards_and_positions)
{
	skt_scan_order o;
	skt_scan_iter it;
	cr_assert_eq(skt_scan_order_init(&o, 100, 1, true), 0);
	skt_assert_err(skt_scan_iter_init(&it, &o, 0, 0, 0), SKT_EINVAL);
	skt_assert_err(skt_scan_iter_init(&it, &o, 4, 4, 0), SKT_EINVAL);
	skt_assert_err(skt_scan_iter_init(&it, &o, 5, 4, 0), SKT_EINVAL);
	skt_assert_err(
		skt_scan_iter_init(&it, &o, 0, SKT_SCAN_SHARDS_MAX + 1, 0),
		SKT_EINVAL);
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 1, 0), 0);
	uint64_t len = it.len;
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 1, len), 0);
	uint64_t v;
	cr_assert_not(skt_scan_iter_next(&it, &v));
	skt_assert_err(skt_scan_iter_init(&it, &o, 0, 1, len + 1), SKT_EINVAL);
	/* An empty space has empty shards. */
	cr_assert_eq(skt_scan_order_init(&o, 0, 1, true), 0);
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 3, 0), 0);
	cr_assert_not(skt_scan_iter_next(&it, &v));
}

/* ---- The space ---- */

static skt_targets *targets(const char *a, const char *b, const char *ex)
{
	skt_targets *t = skt_targets_new(0);
	cr_assert_eq(skt_targets_add(t, a, strlen(a), NULL), 0);
	if (b != NULL)
		cr_assert_eq(skt_targets_add(t, b, strlen(b), NULL), 0);
	if (ex != NULL)
		cr_assert_eq(skt_targets_exclude(t, ex, strlen(ex), NULL), 0);
	cr_assert_eq(skt_targets_finish(t), 0);
	return t;
}

static skt_portset ports_of(const char *text)
{
	skt_portset p;
	cr_assert_gt(skt_portset_parse(&p, text, strlen(text), NULL), 0);
	return p;
}

ORDER_TEST(space_maps_indices_one_to_one)
{
	skt_targets *t = targets("10.0.0.0/24", "2001:db8::/126", NULL);
	skt_portset p = ports_of("1,22,80,443,1000-1010,65535");
	static skt_scan_space sp;
	cr_assert_eq(skt_scan_space_init(&sp, t, &p), 0);
	cr_assert_eq(sp.size, 260 * 16);
	static bool seen[260][65536];
	for (uint64_t i = 0; i < sp.size; i++) {
		skt_addr a;
		cr_assert_eq(skt_scan_space_get(&sp, i, &a), 0);
		uint16_t port = skt_addr_port(&a);
		SKT_CHECK(skt_portset_has(&p, port), "port %u", port);
		skt_addr host = a;
		skt_addr_set_port(&host, 0);
		skt_addr want;
		cr_assert_eq(skt_targets_get(t, i / 16, &want), 0);
		SKT_CHECK(skt_addr_equal(&host, &want), "index %llu",
			  (unsigned long long)i);
		SKT_CHECK(!seen[i / 16][port], "twice");
		seen[i / 16][port] = true;
	}
	skt_addr a;
	cr_assert_eq(skt_scan_space_get(&sp, 0, &a), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "10.0.0.0:1");
	cr_assert_eq(skt_scan_space_get(&sp, 15, &a), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "10.0.0.0:65535");
	cr_assert_eq(skt_scan_space_get(&sp, sp.size - 1, &a), 0);
	cr_assert_str_eq(sktest_addr_text(&a), "[2001:db8::3]:65535");
	skt_assert_err(skt_scan_space_get(&sp, sp.size, &a), SKT_EINVAL);
	skt_targets_free(t);
}

/* Randomized, no target gets a burst: over a /24 x 100 ports, consecutive
 * probes rarely share a host. */
ORDER_TEST(no_host_gets_a_burst)
{
	skt_targets *t = targets("10.0.0.0/24", NULL, NULL);
	skt_portset p = ports_of("1-100");
	static skt_scan_space sp;
	cr_assert_eq(skt_scan_space_init(&sp, t, &p), 0);
	skt_scan_order o;
	skt_scan_iter it;
	cr_assert_eq(skt_scan_order_init(&o, sp.size, 7, true), 0);
	cr_assert_eq(skt_scan_iter_init(&it, &o, 0, 1, 0), 0);
	uint64_t v, prev = UINT64_MAX, same = 0, n = 0;
	while (skt_scan_iter_next(&it, &v)) {
		same += prev != UINT64_MAX && v / 100 == prev / 100;
		prev = v;
		n++;
	}
	cr_assert_eq(n, 25600);
	/* Chance alone gives 1/256 of the pairs; allow four times that. */
	cr_assert_lt(same, 4 * 25600 / 256, "%llu of %llu pairs on one host",
		     (unsigned long long)same, (unsigned long long)n);
	skt_targets_free(t);
}

ORDER_TEST(space_bounds)
{
	static skt_scan_space sp;
	skt_portset p = ports_of("all");
	skt_targets *t = skt_targets_new(0);
	skt_assert_err(skt_scan_space_init(&sp, t, &p), SKT_EINVAL);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_scan_space_init(&sp, t, &p), 0);
	cr_assert_eq(sp.size, 0);
	skt_targets_free(t);
	t = skt_targets_new(SKT_TARGETS_MAX_LIMIT);
	cr_assert_eq(skt_targets_add(t, "2001:db8::/88", 13, NULL), 0);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_scan_space_init(&sp, t, &p), 0);
	cr_assert_eq(sp.size, ((uint64_t)1 << 40) * 65535);
	skt_targets_free(t);
}

static uint64_t fp(const char *a, const char *ex, const char *ports,
		   uint64_t seed, bool random, uint32_t n, int type)
{
	skt_targets *t = targets(a, NULL, ex);
	skt_portset p = ports_of(ports);
	static skt_scan_space sp;
	skt_scan_order o;
	cr_assert_eq(skt_scan_space_init(&sp, t, &p), 0);
	cr_assert_eq(skt_scan_order_init(&o, sp.size, seed, random), 0);
	uint64_t h = skt_scan_fingerprint(&sp, &o, n, type);
	skt_targets_free(t);
	return h;
}

ORDER_TEST(fingerprint_names_what_decides_the_probes)
{
	const int T = SOCK_STREAM;
	uint64_t base = fp("10.0.0.0/24", NULL, "80,443", 1, true, 4, T);
	cr_assert_eq(fp("10.0.0.0-10.0.0.255", NULL, "443,80", 1, true, 4, T),
		     base);
	cr_assert_eq(fp("10.0.0.*", NULL, "80,443", 1, true, 4, T), base);
	cr_assert_neq(fp("10.0.0.0/24", "10.0.0.1", "80,443", 1, true, 4, T),
		      base);
	cr_assert_neq(fp("10.0.0.0/24", NULL, "80,444", 1, true, 4, T), base);
	cr_assert_neq(fp("10.0.0.0/24", NULL, "80,443", 2, true, 4, T), base);
	cr_assert_neq(fp("10.0.0.0/24", NULL, "80,443", 1, false, 4, T), base);
	cr_assert_neq(fp("10.0.0.0/24", NULL, "80,443", 1, true, 5, T), base);
	cr_assert_neq(fp("10.0.0.0/24", NULL, "80,443", 1, true, 4, SOCK_DGRAM),
		      base);
	cr_assert_neq(fp("10.0.1.0/24", NULL, "80,443", 1, true, 4, T), base);
	/* Excluding what is not there still changes what was asked. */
	cr_assert_neq(fp("10.0.0.0/24", "10.9.0.0", "80,443", 1, true, 4, T),
		      base);
}
