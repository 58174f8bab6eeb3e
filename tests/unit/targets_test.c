/* targets_test.c - target sets: every item form, overlaps and exclusions,
 * the bound (--max-targets), the pieces limit, bad input with the part it
 * names, and allocation failure. Items are parsed by length right before a
 * PROT_NONE page, without a NUL, so a read past the end crashes. */
#include "sktest.h"

#include <arpa/inet.h>
#include <string.h>

#define TARGETS_TEST(name) SKT_TEST(targets, name)

static int add(skt_targets *t, const char *text, skt_target_error *err)
{
	size_t n = strlen(text);
	return skt_targets_add(t, sktest_guarded_n(text, n), n, err);
}

static int exclude(skt_targets *t, const char *text, skt_target_error *err)
{
	size_t n = strlen(text);
	return skt_targets_exclude(t, sktest_guarded_n(text, n), n, err);
}

/* The host of the i-th address. */
static const char *nth(const skt_targets *t, uint64_t i)
{
	static char buf[2][SKT_ADDRSTRLEN];
	static int k;
	skt_addr a;
	int rc = skt_targets_get(t, i, &a);
	cr_assert_eq(rc, 0, "get %llu: %s", (unsigned long long)i,
		     skt_errname(rc));
	k ^= 1;
	cr_assert_gt(skt_addr_format_host(&a, buf[k], sizeof(buf[k])), 0);
	return buf[k];
}

/* A finished set of items (NULL-terminated; "!x" excludes x). */
static skt_targets *set_of(uint64_t max, const char *const *items)
{
	skt_targets *t = skt_targets_new(max);
	cr_assert_not_null(t);
	for (size_t i = 0; items[i] != NULL; i++) {
		skt_target_error err = {0};
		int rc = items[i][0] == '!' ? exclude(t, items[i] + 1, &err)
					    : add(t, items[i], &err);
		cr_assert_eq(rc, 0, "'%s': %s (%s)", items[i], skt_errname(rc),
			     err.why);
	}
	cr_assert_eq(skt_targets_finish(t), 0);
	return t;
}

static void assert_set(const char *const *items, uint64_t count,
		       const char *first, const char *last)
{
	skt_targets *t = set_of(0, items);
	cr_assert_eq(skt_targets_count(t), count, "'%s': %llu addresses",
		     items[0], (unsigned long long)skt_targets_count(t));
	if (count > 0) {
		cr_assert_str_eq(nth(t, 0), first, "'%s'", items[0]);
		cr_assert_str_eq(nth(t, count - 1), last, "'%s'", items[0]);
	}
	skt_addr a;
	skt_assert_err(skt_targets_get(t, count, &a), SKT_EINVAL);
	skt_targets_free(t);
}

#define ITEMS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- Forms ---- */

TARGETS_TEST(address_prefix_and_ranges)
{
	assert_set(ITEMS("10.0.0.1"), 1, "10.0.0.1", "10.0.0.1");
	assert_set(ITEMS("10.0.0.0/24"), 256, "10.0.0.0", "10.0.0.255");
	assert_set(ITEMS("10.1.2.3/24"), 256, "10.1.2.0", "10.1.2.255");
	assert_set(ITEMS("10.0.0.7/32"), 1, "10.0.0.7", "10.0.0.7");
	assert_set(ITEMS("10.0.0.1-10.0.0.50"), 50, "10.0.0.1", "10.0.0.50");
	assert_set(ITEMS("10.0.0.250-10.0.1.5"), 12, "10.0.0.250", "10.0.1.5");
	assert_set(ITEMS("010.000.000.001"), 1, "10.0.0.1", "10.0.0.1");
}

TARGETS_TEST(octet_ranges_as_nmap_reads_them)
{
	assert_set(ITEMS("10.0.0.1-50"), 50, "10.0.0.1", "10.0.0.50");
	assert_set(ITEMS("10.0.0-3.1-254"), 4 * 254, "10.0.0.1", "10.0.3.254");
	skt_targets *t = set_of(0, ITEMS("10.0.0-3.1-254"));
	cr_assert_str_eq(nth(t, 253), "10.0.0.254");
	cr_assert_str_eq(nth(t, 254), "10.0.1.1");
	skt_targets_free(t);
	assert_set(ITEMS("10.0.1,3,5.*"), 768, "10.0.1.0", "10.0.5.255");
	assert_set(ITEMS("10.0.1.1,3,5-6"), 4, "10.0.1.1", "10.0.1.6");
	assert_set(ITEMS("10.0.*.*"), 65536, "10.0.0.0", "10.0.255.255");
}

TARGETS_TEST(ipv6_prefixes_and_ranges)
{
	assert_set(ITEMS("2001:db8::/120"), 256, "2001:db8::", "2001:db8::ff");
	assert_set(ITEMS("2001:db8::1-2001:db8::1:0"), 65536, "2001:db8::1",
		   "2001:db8::1:0");
	assert_set(ITEMS("::1"), 1, "::1", "::1");
	assert_set(ITEMS("2001:db8::/112"), 65536,
		   "2001:db8::", "2001:db8::ffff");
}

TARGETS_TEST(v4_mapped_is_ipv4)
{
	assert_set(ITEMS("::ffff:10.0.0.0/120", "10.0.0.0/24"), 256, "10.0.0.0",
		   "10.0.0.255");
}

TARGETS_TEST(mixed_families_in_address_order)
{
	assert_set(ITEMS("2001:db8::1", "10.0.0.1", "::1"), 3, "::1",
		   "2001:db8::1");
	skt_targets *t = set_of(0, ITEMS("2001:db8::1", "10.0.0.1", "::1"));
	cr_assert_str_eq(nth(t, 1), "10.0.0.1");
	skt_addr a;
	cr_assert_eq(skt_targets_get(t, 1, &a), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	cr_assert_eq(skt_targets_get(t, 2, &a), 0);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	skt_targets_free(t);
}

TARGETS_TEST(overlaps_are_a_union)
{
	assert_set(ITEMS("10.0.0.0/24", "10.0.0.128/25", "10.0.0.5"), 256,
		   "10.0.0.0", "10.0.0.255");
	assert_set(ITEMS("10.0.0.0/25", "10.0.0.128/25"), 256, "10.0.0.0",
		   "10.0.0.255");
	assert_set(ITEMS("10.0.0.1", "10.0.0.1", "10.0.0.1-1"), 1, "10.0.0.1",
		   "10.0.0.1");
}

/* ---- Exclusions ---- */

TARGETS_TEST(exclusions_cut_holes)
{
	assert_set(ITEMS("10.0.0.0/24", "!10.0.0.0/25"), 128, "10.0.0.128",
		   "10.0.0.255");
	assert_set(ITEMS("10.0.0.0/24", "!10.0.0.1", "!10.0.0.255"), 254,
		   "10.0.0.0", "10.0.0.254");
	skt_targets *t = set_of(0, ITEMS("10.0.0.0/24", "!10.0.0.1"));
	cr_assert_str_eq(nth(t, 0), "10.0.0.0");
	cr_assert_str_eq(nth(t, 1), "10.0.0.2");
	skt_targets_free(t);
	/* Order does not matter, and an exclusion may be any size. */
	assert_set(ITEMS("!10.0.0.0/8", "10.0.0.0/24", "11.0.0.1"), 1,
		   "11.0.0.1", "11.0.0.1");
	assert_set(ITEMS("10.0.0.0/24", "!0.0.0.0/0"), 0, NULL, NULL);
	assert_set(ITEMS("2001:db8::/120", "!::/0"), 0, NULL, NULL);
	assert_set(ITEMS("10.0.0.0/24", "2001:db8::/120", "!10.0.0.0/8"), 256,
		   "2001:db8::", "2001:db8::ff");
}

TARGETS_TEST(exclude_by_address)
{
	skt_targets *t = skt_targets_new(0);
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "10.0.0.2", 80), 0);
	cr_assert_eq(add(t, "10.0.0.1-3", NULL), 0);
	cr_assert_eq(skt_targets_exclude_addr(t, &a), 0);
	cr_assert_eq(skt_addr_from_ip(&a, "::ffff:10.0.0.9", 0), 0);
	cr_assert_eq(skt_targets_add_addr(t, &a), 0);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_targets_count(t), 3);
	cr_assert_str_eq(nth(t, 1), "10.0.0.3");
	cr_assert_str_eq(nth(t, 2), "10.0.0.9");
	skt_assert_err(skt_targets_add_addr(t, &a), SKT_EINVAL);
	skt_assert_err(skt_targets_finish(t), SKT_EINVAL);
	skt_assert_err(add(t, "10.0.0.1", NULL), SKT_EINVAL);
	skt_addr u;
	cr_assert_eq(skt_addr_unix(&u, "/tmp/x"), 0);
	skt_targets_free(t);
	t = skt_targets_new(0);
	skt_assert_err(skt_targets_add_addr(t, &u), SKT_EINVAL);
	skt_targets_free(t);
}

/* ---- Bad input ---- */

static void assert_rejects(uint64_t max, const char *text, int code,
			   const char *why, const char *part)
{
	skt_targets *t = skt_targets_new(max);
	cr_assert_eq(add(t, "192.168.0.1", NULL), 0);
	skt_target_error err = {0};
	int rc = add(t, text, &err);
	cr_assert_eq(rc, code, "'%s': got %s, want %s", text, skt_errname(rc),
		     skt_errname(code));
	cr_assert_str_eq(err.why, why, "'%s': why '%s', want '%s'", text,
			 err.why, why);
	cr_assert_leq(err.off + err.len, strlen(text));
	cr_assert_eq(err.len, strlen(part), "'%s': part '%.*s', want '%s'",
		     text, (int)err.len, text + err.off, part);
	cr_assert_eq(memcmp(text + err.off, part, err.len), 0,
		     "'%s': part '%.*s', want '%s'", text, (int)err.len,
		     text + err.off, part);
	/* The set is as before. */
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_targets_count(t), 1, "'%s' left something", text);
	skt_targets_free(t);
}

TARGETS_TEST(malformed_items_name_their_part)
{
	const int M = SKT_EMALFORMED;
	assert_rejects(0, "", M, "empty target", "");
	assert_rejects(0, "10.0.0.256", M, "bad octet", "256");
	assert_rejects(0, "10.0.0", M, "not four octets", "10.0.0");
	assert_rejects(0, "10.0.0.1.5", M, "not four octets", "10.0.0.1.5");
	assert_rejects(0, "10..0.1", M, "empty octet", "");
	assert_rejects(0, "10.0.0.1,", M, "empty octet", "");
	assert_rejects(0, "10.0.0.1-", M, "bad octet", "1-");
	assert_rejects(0, "10.0.0.1--5", M, "bad octet", "1--5");
	assert_rejects(0, "10.0.0.1234", M, "bad octet", "1234");
	assert_rejects(0, "10.0.0.0/33", M, "prefix out of range", "33");
	assert_rejects(0, "10.0.0.0/", M, "prefix out of range", "");
	assert_rejects(0, "10.0.0.0/2x", SKT_EBADHOST, "not an address",
		       "10.0.0.0/2x");
	assert_rejects(0, "10.0-3.0.0/24", M, "not an ipv4 address",
		       "10.0-3.0.0");
	assert_rejects(0, "2001:db8::/129", M, "prefix out of range", "129");
	assert_rejects(0, "2001:db8:::1", M, "not an ipv6 address",
		       "2001:db8:::1");
	assert_rejects(0, "::1-::x", M, "not an ipv6 address", "::x");
}

TARGETS_TEST(reversed_ranges)
{
	const int M = SKT_EMALFORMED;
	const char *why = "range ends below its start";
	assert_rejects(0, "10.0.0.9-1", M, why, "9-1");
	assert_rejects(0, "10.0.5-3.1", M, why, "5-3");
	assert_rejects(0, "10.0.0.9-10.0.0.1", M, why, "10.0.0.1");
	assert_rejects(0, "2001:db8::9-2001:db8::1", M, why, "2001:db8::1");
}

TARGETS_TEST(slash_zero_is_never_a_scan)
{
	const char *why = "a /0 is every address";
	assert_rejects(SKT_TARGETS_MAX_LIMIT, "0.0.0.0/0", SKT_EMALFORMED, why,
		       "/0");
	assert_rejects(SKT_TARGETS_MAX_LIMIT, "::/0", SKT_EMALFORMED, why,
		       "/0");
}

TARGETS_TEST(the_bound_refuses_large_prefixes)
{
	const char *why = "more addresses than the maximum";
	assert_rejects(0, "2001:db8::/32", SKT_ETOOBIG, why, "2001:db8::/32");
	assert_rejects(SKT_TARGETS_MAX_LIMIT, "2001:db8::/64", SKT_ETOOBIG, why,
		       "2001:db8::/64");
	assert_rejects(0, "10.0.0.0/8", SKT_ETOOBIG, why, "10.0.0.0/8");
	assert_rejects(256, "10.0.0.0/23", SKT_ETOOBIG, why, "10.0.0.0/23");
	assert_rejects(256, "10.0.0-1.*", SKT_ETOOBIG, why, "10.0.0-1.*");
	assert_rejects(256, "10.0.0.0-10.0.1.0", SKT_ETOOBIG, why,
		       "10.0.0.0-10.0.1.0");
	/* Exactly the bound is fine; the union is checked at finish. */
	skt_targets *t = skt_targets_new(256);
	cr_assert_eq(add(t, "10.0.0.0/24", NULL), 0);
	cr_assert_eq(add(t, "10.0.0.7", NULL), 0);
	cr_assert_eq(add(t, "10.0.1.0", NULL), 0);
	skt_assert_err(skt_targets_finish(t), SKT_ETOOBIG);
	skt_targets_free(t);
	t = skt_targets_new(256);
	cr_assert_eq(add(t, "10.0.0.0/24", NULL), 0);
	cr_assert_eq(add(t, "10.0.1.0", NULL), 0);
	cr_assert_eq(exclude(t, "10.0.0.0", NULL), 0);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_targets_count(t), 256);
	skt_targets_free(t);
	cr_assert_null(skt_targets_new(SKT_TARGETS_MAX_LIMIT + 1));
}

TARGETS_TEST(names_and_zones_go_to_the_resolver)
{
	assert_rejects(0, "localhost", SKT_EBADHOST, "not an address",
		       "localhost");
	assert_rejects(0, "example.com/24", SKT_EBADHOST, "not an address",
		       "example.com/24");
	assert_rejects(0, "fe80::1%lo", SKT_EBADHOST, "an address with a zone",
		       "fe80::1%lo");
	assert_rejects(0, "10.0.0.1 ", SKT_EBADHOST, "not an address",
		       "10.0.0.1 ");
	static const char nul[] = "10.0.0.1\0";
	skt_targets *t = skt_targets_new(0);
	skt_assert_err(skt_targets_add(t, nul, sizeof(nul) - 1, NULL),
		       SKT_EBADHOST);
	skt_targets_free(t);
}

TARGETS_TEST(too_many_intervals)
{
	skt_targets *t = skt_targets_new(SKT_TARGETS_MAX_LIMIT);
	cr_assert_eq(add(t, "10.0.0.0/24", NULL), 0);
	skt_target_error err = {0};
	/* 254^3 * 2 intervals: the limit stops it, and the set is kept. */
	skt_assert_err(add(t, "1-254.1-254.1-254.1,3", &err), SKT_ETOOBIG);
	cr_assert_str_eq(err.why, "too many intervals");
	cr_assert_eq(add(t, "10.0.1.0", NULL), 0);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_targets_count(t), 257);
	skt_targets_free(t);
	/* Whole octets merge into one interval, whatever their number. */
	t = set_of(SKT_TARGETS_MAX_LIMIT, ITEMS("*.*.*.*", "!0.0.0.0/1"));
	cr_assert_eq(skt_targets_count(t), (uint64_t)1 << 31);
	cr_assert_str_eq(nth(t, 0), "128.0.0.0");
	cr_assert_str_eq(nth(t, ((uint64_t)1 << 31) - 1), "255.255.255.255");
	skt_targets_free(t);
	t = set_of(SKT_TARGETS_MAX_LIMIT, ITEMS("*.1.*.*", "7.7.7.7"));
	cr_assert_eq(skt_targets_count(t), ((uint64_t)1 << 24) + 1);
	cr_assert_str_eq(nth(t, 0), "0.1.0.0");
	cr_assert_str_eq(nth(t, 65536), "1.1.0.0");
	cr_assert_str_eq(nth(t, 7 * 65536), "7.1.0.0");
	cr_assert_str_eq(nth(t, 8 * 65536), "7.7.7.7");
	skt_targets_free(t);
}

TARGETS_TEST(allocation_failure_leaves_nothing)
{
	for (long n = 1; n < 6; n++) {
		skt_targets *t = skt_targets_new(0);
		if (t == NULL)
			continue;
		sktest_fail_alloc_at(n);
		int rc = add(t, "10.0.0.0/24", NULL);
		if (rc == 0)
			rc = exclude(t, "10.0.0.1", NULL);
		if (rc == 0)
			rc = skt_targets_finish(t);
		sktest_fail_alloc_at(0);
		cr_assert(rc == 0 || rc == SKT_ENOMEM, "%s", skt_errname(rc));
		skt_targets_free(t);
	}
	sktest_fail_alloc_at(1);
	cr_assert_null(skt_targets_new(0));
	sktest_fail_alloc_at(0);
}

TARGETS_TEST(null_and_unfinished)
{
	skt_targets_free(NULL);
	cr_assert_eq(skt_targets_count(NULL), 0);
	skt_targets *t = skt_targets_new(0);
	skt_addr a;
	skt_assert_err(skt_targets_get(t, 0, &a), SKT_EINVAL);
	cr_assert_eq(skt_targets_finish(t), 0);
	cr_assert_eq(skt_targets_count(t), 0);
	skt_targets_free(t);
}
