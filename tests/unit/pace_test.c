/* pace_test.c - the scanner's pacing (src/scan/pace.c) on a made-up
 * clock: the token bucket, the cap, and the adaptive back-off, which must
 * slow down when timeouts rise or resent probes come back answered, must
 * not slow down for a space that is simply mostly filtered, and must grow
 * back when calm. */
#include "scan/scan_int.h"
#include "sktest.h"

#define PACE_TEST(name)                                                        \
	Test(pace, name, .init = sktest_setup, .fini = sktest_teardown)

/* The probe timeout, and so the cohort length, of every test: 100 ms. */
#define T 100000

/* One cohort k of n probes: answered ones end 1 ms after they went out,
 * silent ones a timeout later (in the next cohort, which judges k);
 * resent of them are second tries, answered. */
static void cohort_at(skt__pace *p, uint32_t k, int n, int silent, int resent,
		      bool all_resent)
{
	int64_t t = (int64_t)k * T + 1000;
	uint32_t ids[4096];
	cr_assert_leq(n, 4096);
	for (int i = 0; i < n; i++) {
		ids[i] = skt__pace_sent(p, t);
		cr_assert_eq(ids[i], k, "probe sent at %lld in cohort %u",
			     (long long)t, ids[i]);
	}
	for (int i = silent; i < n; i++)
		skt__pace_ended(p, ids[i], false,
				all_resent || i < silent + resent, t + 1000);
	for (int i = 0; i < silent; i++)
		skt__pace_ended(p, ids[i], true, all_resent, t + T);
}

static void cohort(skt__pace *p, uint32_t k, int n, int silent, int resent)
{
	cohort_at(p, k, n, silent, resent, false);
}

PACE_TEST(unlimited_rate_always_takes)
{
	skt__pace p;
	skt__pace_init(&p, 0, 100, true, T, 0);
	for (int i = 0; i < 100000; i++)
		cr_assert(skt__pace_take(&p, 0));
	cr_assert_eq(skt__pace_wait_ms(&p), 0);
}

PACE_TEST(bucket_gives_the_rate_in_bursts_of_a_fiftieth)
{
	skt__pace p;
	/* 1000/s: bursts of 20, then one token per millisecond. */
	skt__pace_init(&p, 1000, 100, true, T, 1000000);
	int took = 0;
	while (skt__pace_take(&p, 1000000))
		took++;
	cr_assert_eq(took, 20, "burst of %d", took);
	cr_assert_eq(skt__pace_wait_ms(&p), 1);
	cr_assert(!skt__pace_take(&p, 1000500));
	cr_assert(skt__pace_take(&p, 1001000));
	/* Over a second, about the rate: the burst plus one a ms. */
	took = 0;
	for (int64_t t = 1001000; t <= 2001000; t += 100)
		took += skt__pace_take(&p, t);
	cr_assert(took >= 999 && took <= 1001, "%d in a second", took);
}

PACE_TEST(untake_gives_the_token_back)
{
	skt__pace p;
	skt__pace_init(&p, 50, 10, true, T, 0); /* burst 1 */
	cr_assert(skt__pace_take(&p, 0));
	cr_assert(!skt__pace_take(&p, 0));
	skt__pace_untake(&p);
	cr_assert(skt__pace_take(&p, 0));
}

PACE_TEST(steady_filtered_share_never_backs_off)
{
	skt__pace p;
	skt__pace_init(&p, 0, 256, true, T, 0);
	/* 99% of the space silent, as a sparse network is, all along. */
	for (uint32_t k = 0; k < 50; k++)
		cohort(&p, k, 400, 396, 0);
	cr_assert_eq(p.backoffs, 0, "backed off %zu times", p.backoffs);
	cr_assert_eq(p.rate, 0);
	cr_assert_eq(p.cap, 256);
}

PACE_TEST(rising_timeouts_halve_the_rate)
{
	skt__pace p;
	skt__pace_init(&p, 0, 256, true, T, 0);
	for (uint32_t k = 0; k < 5; k++)
		cohort(&p, k, 200, 20, 0); /* 10% silent */
	cr_assert_eq(p.backoffs, 0);
	cohort(&p, 5, 200, 120, 0); /* 60%: something drops */
	cohort(&p, 6, 1, 0, 0);     /* a later send judges cohort 5 */
	cr_assert_eq(p.backoffs, 1, "backed off %zu times", p.backoffs);
	/* 200 per 100 ms was 2000/s: half of it. */
	cr_assert_eq(p.rate, 1000, "rate %lld", (long long)p.rate);
	cr_assert_eq(p.cap, 256, "cap %d", p.cap);
}

PACE_TEST(resends_answered_back_off_without_history)
{
	skt__pace p;
	skt__pace_init(&p, 5000, 256, true, T, 0);
	/* The first cohort is already the sick one: a rate limiter whose
	 * burst the scan exceeded at once. Its lowest fraction says
	 * nothing, but second tries that are answered do. */
	cohort(&p, 0, 200, 100, 0);
	cr_assert_eq(p.backoffs, 0);
	/* 400 resent at 4000/s, 60 answered: 600/s got through. */
	cohort_at(&p, 1, 400, 340, 60, true);
	cohort(&p, 2, 1, 0, 0);
	cr_assert_eq(p.backoffs, 1, "%zu back-offs", p.backoffs);
	cr_assert_eq(p.rate, 600, "rate %lld", (long long)p.rate);
}

PACE_TEST(calm_cohorts_grow_back_to_the_rate_asked)
{
	skt__pace p;
	skt__pace_init(&p, 4000, 256, true, T, 0);
	for (uint32_t k = 0; k < 3; k++)
		cohort(&p, k, 100, 5, 0);
	cohort(&p, 3, 100, 80, 0);
	cohort(&p, 4, 100, 5, 0);
	cr_assert_eq(p.backoffs, 1);
	int64_t low = p.rate;
	cr_assert_lt(low, 4000);
	int64_t last = low;
	uint32_t k = 5;
	for (; k < 200 && p.rate < 4000; k++) {
		cohort(&p, k, 100, 5, 0);
		cr_assert_geq(p.rate, last, "cohort %u: %lld after %lld", k,
			      (long long)p.rate, (long long)last);
		last = p.rate;
	}
	cr_assert_eq(p.rate, 4000, "rate %lld after %u cohorts",
		     (long long)p.rate, k);
	cr_assert_eq(p.backoffs, 1);
}

PACE_TEST(fixed_pace_never_adapts)
{
	skt__pace p;
	skt__pace_init(&p, 3000, 256, false, T, 0);
	cohort(&p, 0, 200, 10, 0);
	for (uint32_t k = 1; k < 10; k++)
		cohort_at(&p, k, 200, 100, 100, true);
	cr_assert_eq(p.backoffs, 0);
	cr_assert_eq(p.rate, 3000);
	cr_assert_eq(p.cap, 256);
}

PACE_TEST(small_cohorts_are_not_judged)
{
	skt__pace p;
	skt__pace_init(&p, 0, 64, true, T, 0);
	cohort(&p, 0, 200, 0, 0);
	/* Ten probes, all silent: too few to say the path drops. */
	for (uint32_t k = 1; k < 20; k++)
		cohort(&p, k, 10, 10, 0);
	cr_assert_eq(p.backoffs, 0);
}

PACE_TEST(back_off_has_a_floor)
{
	skt__pace p;
	skt__pace_init(&p, 0, 64, true, T, 0);
	cohort(&p, 0, 100, 0, 0);
	for (uint32_t k = 1; k < 60; k++)
		cohort(&p, k, 100, 100, 0);
	cr_assert_gt(p.backoffs, 3);
	cr_assert_eq(p.rate, 10, "rate %lld", (long long)p.rate);
}

PACE_TEST(shortage_caps_below_what_was_out)
{
	skt__pace p;
	skt__pace_init(&p, 0, 1000, true, T, 0);
	skt__pace_shortage(&p, 80);
	cr_assert_eq(p.cap, 70);
	cr_assert_eq(p.cap_max, 70);
	skt__pace_shortage(&p, 0);
	cr_assert_eq(p.cap, 1);
}
