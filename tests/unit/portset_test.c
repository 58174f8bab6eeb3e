/* portset_test.c - the port set and its parser: every form, the limits
 * (1, 65535, 65536, numbers too long for any integer), reversed ranges,
 * overlaps, "all", blanks, empty items, garbage. Every input is placed
 * right before a PROT_NONE page and parsed by length, without a NUL, so
 * reading one byte too far crashes the test instead of passing by luck. */
#include "sktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Guard page ---- */

typedef struct guard {
	char *map;
	size_t maplen;
	char *end; /* first byte of the PROT_NONE page */
} guard;

static guard g;

static void guard_setup(void)
{
	sktest_setup();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	g.maplen = 2 * page;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(g.map, MAP_FAILED);
	g.end = g.map + page;
	cr_assert_eq(mprotect(g.end, page, PROT_NONE), 0);
}

static void guard_teardown(void)
{
	munmap(g.map, g.maplen);
	sktest_teardown();
}

#define PORTSET_TEST(name)                                                     \
	Test(portset, name, .init = guard_setup, .fini = guard_teardown,       \
	     .timeout = 30)

/* Parse text placed so that its last byte is the last readable one. */
static int parse_at_guard(skt_portset *s, const char *text,
			  skt_portset_error *err)
{
	size_t len = strlen(text);
	if (len > (size_t)(g.end - g.map))
		cr_assert_fail("'%s' does not fit before the guard page", text);
	memcpy(g.end - len, text, len);
	return skt_portset_parse(s, g.end - len, len, err);
}

static skt_portset set;

static void assert_parses(const char *text, int want)
{
	skt_portset_error err = {0};
	int rc = parse_at_guard(&set, text, &err);
	cr_assert_eq(rc, want, "'%s': got %d (%s: %s), want %d", text, rc,
		     skt_errname(rc), rc < 0 ? err.why : "", want);
	cr_assert_eq(skt_portset_count(&set), (size_t)want);
}

/* A failed parse: the code, the reason, the item it names, and an empty
 * set left behind. */
static void assert_rejects(const char *text, int code, const char *why,
			   const char *item)
{
	skt_portset_add(&set, 7); /* must be cleared by the failed parse */
	skt_portset_error err = {0};
	int rc = parse_at_guard(&set, text, &err);
	cr_assert_eq(rc, code, "'%s': got %s (%d), want %s", text,
		     skt_errname(rc), rc, skt_errname(code));
	cr_assert_str_eq(err.why, why, "'%s': why '%s', want '%s'", text,
			 err.why, why);
	size_t len = strlen(text);
	cr_assert_leq(err.off + err.len, len, "'%s': item past the end", text);
	cr_assert_eq(err.len, strlen(item), "'%s': item '%.*s', want '%s'",
		     text, (int)err.len, text + err.off, item);
	cr_assert_eq(memcmp(text + err.off, item, err.len), 0,
		     "'%s': item '%.*s', want '%s'", text, (int)err.len,
		     text + err.off, item);
	cr_assert_eq(skt_portset_count(&set), 0, "'%s': set not emptied", text);
}

static const char WHY_EMPTY[] = "empty item";
static const char WHY_SHAPE[] = "not a port, a range LO-HI or 'all'";
static const char WHY_RANGE[] = "port out of range (1-65535)";
static const char WHY_ORDER[] = "range ends below its start";

/* ---- Forms ---- */

PORTSET_TEST(single_port)
{
	assert_parses("80", 1);
	cr_assert(skt_portset_has(&set, 80));
	cr_assert_not(skt_portset_has(&set, 79));
	cr_assert_not(skt_portset_has(&set, 81));
}

PORTSET_TEST(list_and_ranges)
{
	assert_parses("22,80,8000-8100", 103);
	cr_assert(skt_portset_has(&set, 22));
	cr_assert(skt_portset_has(&set, 8000));
	cr_assert(skt_portset_has(&set, 8100));
	cr_assert_not(skt_portset_has(&set, 8101));
	cr_assert_not(skt_portset_has(&set, 7999));
}

PORTSET_TEST(range_of_one)
{
	assert_parses("443-443", 1);
	cr_assert(skt_portset_has(&set, 443));
}

PORTSET_TEST(all_is_every_port_but_zero)
{
	assert_parses("all", 65535);
	cr_assert_not(skt_portset_has(&set, 0));
	cr_assert(skt_portset_has(&set, 1));
	cr_assert(skt_portset_has(&set, 65535));
	assert_parses("all,80,1-10", 65535);
	assert_rejects("ALL", SKT_EMALFORMED, WHY_SHAPE, "ALL");
	assert_rejects("alll", SKT_EMALFORMED, WHY_SHAPE, "alll");
	assert_rejects("al", SKT_EMALFORMED, WHY_SHAPE, "al");
}

PORTSET_TEST(overlaps_are_a_union)
{
	assert_parses("80-90,85-100,90,100", 21);
	assert_parses("1-100,50-60,1,100", 100);
	assert_parses("80,80,80", 1);
}

PORTSET_TEST(blanks_around_items_and_dash)
{
	assert_parses(" 22 ,\t80 - 82 , 443\t", 5);
	cr_assert(skt_portset_has(&set, 22));
	cr_assert(skt_portset_has(&set, 81));
	cr_assert(skt_portset_has(&set, 443));
	assert_parses(" all ", 65535);
	assert_rejects("8 0", SKT_EMALFORMED, WHY_SHAPE, "8 0");
	assert_rejects("80\n", SKT_EMALFORMED, WHY_SHAPE, "80\n");
}

PORTSET_TEST(leading_zeros_are_decimal)
{
	assert_parses("080", 1);
	cr_assert(skt_portset_has(&set, 80));
	assert_parses("00000000000000000000000000022", 1);
	cr_assert(skt_portset_has(&set, 22));
}

/* ---- Limits ---- */

PORTSET_TEST(limits_one_and_65535)
{
	assert_parses("1", 1);
	cr_assert(skt_portset_has(&set, 1));
	assert_parses("65535", 1);
	cr_assert(skt_portset_has(&set, 65535));
	assert_parses("1-65535", 65535);
	assert_parses("65534-65535", 2);
}

PORTSET_TEST(zero_and_65536_are_out_of_range)
{
	assert_rejects("0", SKT_EBADPORT, WHY_RANGE, "0");
	assert_rejects("65536", SKT_EBADPORT, WHY_RANGE, "65536");
	assert_rejects("0-80", SKT_EBADPORT, WHY_RANGE, "0-80");
	assert_rejects("80-65536", SKT_EBADPORT, WHY_RANGE, "80-65536");
	assert_rejects("22, 65536 ,80", SKT_EBADPORT, WHY_RANGE, "65536");
}

/* Each digit is checked before it is added: no wrap-around to a small
 * port, however many digits ("4294967376" is 80 modulo 2^32). */
PORTSET_TEST(huge_numbers_do_not_wrap)
{
	assert_rejects("4294967376", SKT_EBADPORT, WHY_RANGE, "4294967376");
	assert_rejects("18446744073709551696", SKT_EBADPORT, WHY_RANGE,
		       "18446744073709551696");
	assert_rejects("65535999999999999999999999", SKT_EBADPORT, WHY_RANGE,
		       "65535999999999999999999999");
	assert_rejects("1-99999999999999999999", SKT_EBADPORT, WHY_RANGE,
		       "1-99999999999999999999");
}

/* Every number from 0 to 70000, formatted, parses to exactly itself or is
 * out of range. (Loops assert only on a failure: with --full-stats every
 * assertion is a message to the runner.) */
PORTSET_TEST(every_number_parses_to_itself)
{
	char text[16];
	for (unsigned p = 0; p <= 70000; p++) {
		snprintf(text, sizeof(text), "%u", p);
		int rc = parse_at_guard(&set, text, NULL);
		bool valid = p != 0 && p <= 65535;
		if (valid ? rc != 1 || skt_portset_next(&set, 0) != p
			  : rc != SKT_EBADPORT)
			cr_assert_fail("'%s': got %d (%s)", text, rc,
				       skt_errname(rc));
	}
}

/* ---- Rejections ---- */

PORTSET_TEST(reversed_range)
{
	assert_rejects("80-20", SKT_EMALFORMED, WHY_ORDER, "80-20");
	assert_rejects("22,65535-1", SKT_EMALFORMED, WHY_ORDER, "65535-1");
}

PORTSET_TEST(empty_items)
{
	assert_rejects("", SKT_EMALFORMED, WHY_EMPTY, "");
	assert_rejects(" \t ", SKT_EMALFORMED, WHY_EMPTY, "");
	assert_rejects(",", SKT_EMALFORMED, WHY_EMPTY, "");
	assert_rejects(",80", SKT_EMALFORMED, WHY_EMPTY, "");
	assert_rejects("80,", SKT_EMALFORMED, WHY_EMPTY, "");
	assert_rejects("80, ,81", SKT_EMALFORMED, WHY_EMPTY, "");
	skt_portset_error err;
	cr_assert_eq(parse_at_guard(&set, "80,,81", &err), SKT_EMALFORMED);
	cr_assert_eq(err.off, 3, "empty item at %zu, want 3", err.off);
}

PORTSET_TEST(garbage)
{
	static const char *const bad[] = {
		"abc",  "80a",   "a80",   "+80",  "80-90-100", "0x50",
		"1e3",  "80;81", "80:81", "80.0", "8080-http", "--",
		"-80-", "80--",  "- -",   "\xff", "８０",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		skt_portset_error err;
		int rc = parse_at_guard(&set, bad[i], &err);
		cr_assert_eq(rc, SKT_EMALFORMED, "'%s': got %s", bad[i],
			     skt_errname(rc));
		cr_assert_str_eq(err.why, WHY_SHAPE, "'%s': %s", bad[i],
				 err.why);
	}
	assert_rejects("22,http,80", SKT_EMALFORMED, WHY_SHAPE, "http");
}

/* Shape is judged before value: "65536x" is garbage, not out of range. */
PORTSET_TEST(shape_before_value)
{
	assert_rejects("65536x", SKT_EMALFORMED, WHY_SHAPE, "65536x");
	assert_rejects("0-x", SKT_EMALFORMED, WHY_SHAPE, "0-x");
	assert_rejects("-65536x", SKT_EMALFORMED, WHY_SHAPE, "-65536x");
}

/* ---- Open-ended ranges, as nmap reads them ---- */

PORTSET_TEST(range_open_above_runs_to_65535)
{
	assert_parses("22-", 65535 - 22 + 1);
	cr_assert_not(skt_portset_has(&set, 21));
	cr_assert(skt_portset_has(&set, 22));
	cr_assert(skt_portset_has(&set, 65535));
	assert_parses("65535-", 1);
	assert_parses("80 -", 65535 - 80 + 1);
}

PORTSET_TEST(range_open_below_starts_at_1)
{
	assert_parses("-1024", 1024);
	cr_assert(skt_portset_has(&set, 1));
	cr_assert(skt_portset_has(&set, 1024));
	cr_assert_not(skt_portset_has(&set, 1025));
	assert_parses("- 80", 80);
	assert_parses("-1", 1);
}

PORTSET_TEST(dash_alone_is_every_port)
{
	assert_parses("-", 65535);
	assert_parses(" - ", 65535);
	assert_parses("22,-", 65535);
}

PORTSET_TEST(open_ranges_mix_with_items)
{
	assert_parses("-10,20,65530-", 10 + 1 + 6);
	cr_assert(skt_portset_has(&set, 10));
	cr_assert_not(skt_portset_has(&set, 11));
	cr_assert(skt_portset_has(&set, 20));
	cr_assert(skt_portset_has(&set, 65530));
}

PORTSET_TEST(open_ranges_check_their_one_end)
{
	assert_rejects("0-", SKT_EBADPORT, WHY_RANGE, "0-");
	assert_rejects("65536-", SKT_EBADPORT, WHY_RANGE, "65536-");
	assert_rejects("-0", SKT_EBADPORT, WHY_RANGE, "-0");
	assert_rejects("-65536", SKT_EBADPORT, WHY_RANGE, "-65536");
	assert_rejects("-99999999999999999999", SKT_EBADPORT, WHY_RANGE,
		       "-99999999999999999999");
}

/* ---- Service names, through the caller's lookup ---- */

static const char WHY_SHAPE_NAMES[] =
	"not a port, a range LO-HI, a service name or 'all'";

/* A fixed table, so the test does not depend on /etc/services. */
static int fake_lookup(const char *name, void *arg)
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(name, "http") == 0)
		return 80;
	if (strcmp(name, "ssh") == 0)
		return 22;
	if (strcmp(name, "http-alt") == 0)
		return 8080;
	if (strcmp(name, "zero") == 0)
		return 0;
	return SKT_EAI_SERVICE;
}

static int parse_names_at_guard(const char *text, int *calls,
				skt_portset_error *err)
{
	size_t len = strlen(text);
	memcpy(g.end - len, text, len);
	return skt_portset_parse_names(&set, g.end - len, len, fake_lookup,
				       calls, err);
}

PORTSET_TEST(names_are_looked_up)
{
	int calls = 0;
	skt_portset_error err = {0};
	int rc = parse_names_at_guard("http, ssh,http-alt,443,1000-1001",
				      &calls, &err);
	cr_assert_eq(rc, 6, "got %d (%s)", rc, rc < 0 ? err.why : "");
	cr_assert_eq(calls, 3);
	cr_assert(skt_portset_has(&set, 80));
	cr_assert(skt_portset_has(&set, 22));
	cr_assert(skt_portset_has(&set, 8080));
	cr_assert(skt_portset_has(&set, 443));
	cr_assert(skt_portset_has(&set, 1001));
}

PORTSET_TEST(unknown_name_names_the_item)
{
	int calls = 0;
	skt_portset_error err = {0};
	skt_portset_add(&set, 7);
	int rc = parse_names_at_guard("22,nosuch,80", &calls, &err);
	cr_assert_eq(rc, SKT_EAI_SERVICE, "got %s", skt_errname(rc));
	cr_assert_str_eq(err.why, "unknown service name");
	cr_assert_eq(err.off, 3);
	cr_assert_eq(err.len, 6);
	cr_assert_eq(skt_portset_count(&set), 0);
	rc = parse_names_at_guard("zero", &calls, &err);
	cr_assert_eq(rc, SKT_EAI_SERVICE, "port 0 is no port: %s",
		     skt_errname(rc));
}

PORTSET_TEST(name_shape_is_checked_before_the_lookup)
{
	static const char *const bad[] = {"ht tp",
					  "http:80",
					  "ssh!",
					  "a/b",
					  "8080-http",
					  "http-",
					  ("\xff"
					   "ab")};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int calls = 0;
		skt_portset_error err = {0};
		int rc = parse_names_at_guard(bad[i], &calls, &err);
		if (strcmp(bad[i], "http-") == 0) {
			/* A name may hold dashes: looked up, and unknown. */
			cr_assert_eq(rc, SKT_EAI_SERVICE);
			continue;
		}
		cr_assert_eq(rc, SKT_EMALFORMED, "'%s': %s", bad[i],
			     skt_errname(rc));
		cr_assert_eq(calls, 0, "'%s' was looked up", bad[i]);
		cr_assert_str_eq(err.why, WHY_SHAPE_NAMES, "'%s': %s", bad[i],
				 err.why);
	}
	char longname[SKT_SERVICE_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	int calls = 0;
	skt_portset_error err = {0};
	cr_assert_eq(parse_names_at_guard(longname, &calls, &err),
		     SKT_EMALFORMED);
	cr_assert_eq(calls, 0);
}

PORTSET_TEST(without_a_lookup_names_are_malformed)
{
	cr_assert_eq(skt_portset_parse_names(&set, "http", 4, NULL, NULL, NULL),
		     SKT_EMALFORMED);
	assert_rejects("22,http,80", SKT_EMALFORMED, WHY_SHAPE, "http");
}

/* A NUL inside the given length is a byte like any other, and the parser
 * stops at len even when the bytes after it would parse. */
PORTSET_TEST(length_not_nul_bounds_the_input)
{
	cr_assert_eq(skt_portset_parse(&set, "80,90", 2, NULL), 1);
	cr_assert(skt_portset_has(&set, 80));
	cr_assert_not(skt_portset_has(&set, 90));
	cr_assert_eq(skt_portset_parse(&set,
				       "8\0"
				       "0",
				       3, NULL),
		     SKT_EMALFORMED);
	cr_assert_eq(skt_portset_parse(&set, NULL, 0, NULL), SKT_EMALFORMED);
}

/* ---- The set ---- */

PORTSET_TEST(ranges_across_word_boundaries)
{
	static const uint16_t edges[][2] = {
		{1, 63},     {63, 64},       {64, 127},      {1, 128},
		{100, 1000}, {65472, 65535}, {65535, 65535}, {62, 130},
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint16_t lo = edges[i][0], hi = edges[i][1];
		skt_portset_clear(&set);
		skt_portset_add_range(&set, lo, hi);
		cr_assert_eq(skt_portset_count(&set), (size_t)(hi - lo + 1),
			     "%u-%u: count %zu", lo, hi,
			     skt_portset_count(&set));
		unsigned wrong = 0;
		for (unsigned p = 1; p <= 65535; p++)
			if (skt_portset_has(&set, (uint16_t)p) !=
			    (p >= lo && p <= hi))
				wrong = p;
		cr_assert_eq(wrong, 0, "%u-%u: port %u wrong", lo, hi, wrong);
	}
}

PORTSET_TEST(zero_is_never_a_member)
{
	skt_portset_clear(&set);
	skt_portset_add(&set, 0);
	skt_portset_add_range(&set, 0, 2);
	cr_assert_not(skt_portset_has(&set, 0));
	cr_assert_eq(skt_portset_count(&set), 2);
	set.bits[0] |= 1; /* filled by hand: still not counted */
	cr_assert_eq(skt_portset_count(&set), 2);
	cr_assert_eq(skt_portset_next(&set, 0), 1);
}

PORTSET_TEST(next_walks_the_set_in_order)
{
	assert_parses("65535,1,64,63,1000-1002", 7);
	static const uint16_t want[] = {1, 63, 64, 1000, 1001, 1002, 65535};
	size_t n = 0;
	for (uint16_t p = skt_portset_next(&set, 1); p != 0;
	     p = skt_portset_next(&set, (unsigned)p + 1)) {
		cr_assert_lt(n, 7);
		cr_assert_eq(p, want[n], "item %zu: %u, want %u", n, p,
			     want[n]);
		n++;
	}
	cr_assert_eq(n, 7);
	cr_assert_eq(skt_portset_next(&set, 65536), 0);
	cr_assert_eq(skt_portset_next(&set, 70000), 0);
}

/* Random inputs over the parser's alphabet, each at the guard page: the
 * parser never crashes, and its answer is consistent (a count equal to the
 * set's, or an error naming an item inside the input and an empty set). */
PORTSET_TEST(random_inputs_are_consistent)
{
	static const char alphabet[] = "0123456789,,,---  \tal6553";
	char text[48];
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand() % (sizeof(text) - 1);
		for (size_t i = 0; i < len; i++)
			text[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		text[len] = '\0';
		skt_portset_error err = {0};
		int rc = parse_at_guard(&set, text, &err);
		size_t count = skt_portset_count(&set);
		bool ok = rc >= 0 ? rc > 0 && (size_t)rc == count
				  : (rc == SKT_EMALFORMED ||
				     rc == SKT_EBADPORT) &&
					    err.off + err.len <= len &&
					    err.why != NULL && count == 0;
		if (!ok)
			cr_assert_fail(
				"'%s': %d (%s), count %zu, item at %zu+%zu",
				text, rc, skt_errname(rc), count, err.off,
				err.len);
	}
}
