/* http_chunked_test.c - the chunked body decoder (skt_http_chunked_feed):
 * real bodies, extensions, trailers, every malformed form, the limits,
 * and input fed whole, byte by byte and cut at every position. The
 * per-rule vectors are in http_vectors_test.c.
 *
 * Most tests decode as `sockit bench` does, a lone LF accepted for CRLF
 * (`bench_opts`); the strict default has its own tests at the end. */
#include "sktest.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Chunked bodies ---- */

static const skt_http_opts bench_opts = {.bare_lf = true};

/* Any error: feed_n keeps the fact, the rules are tested elsewhere. */
#define BAD (-1L)

typedef struct fed {
	long rc; /* total consumed, or the error */
	bool done;
	uint64_t body_bytes;
} fed;

/* Feed s[0..n) against the guard page in pieces of step bytes (0: all at
 * once), as a reader would: stop at done or BAD. Checks the consumption
 * contract on every call. */
static fed feed_n(const char *s, size_t n, size_t step)
{
	const char *in = sktest_guarded_n(s, n);
	skt_http_chunked c;
	skt_http_chunked_init(&c, &bench_opts);
	fed f = {0, false, 0};
	size_t pos = 0;
	do {
		size_t k = step == 0 || step > n - pos ? n - pos : step;
		long r = skt_http_chunked_feed(&c, in + pos, k, NULL, NULL);
		f.done = c.done;
		if (r < 0) {
			cr_assert_not(f.done);
			cr_assert_neq(c.why, SKT_HTTP_OK);
			cr_assert_eq(
				skt_http_chunked_feed(&c, in, n, NULL, NULL), r,
				"an error is sticky");
			f.rc = BAD;
			return f;
		}
		SKT_CHECK(r >= 0 && (size_t)r <= k, "consumed %ld of %zu", r,
			  k);
		SKT_CHECK(f.done || (size_t)r == k,
			  "consumed %ld of %zu, not done", r, k);
		pos += (size_t)r;
	} while (!f.done && pos < n);
	f.rc = (long)pos;
	f.body_bytes = c.body_bytes;
	if (f.done) {
		cr_assert_eq(skt_http_chunked_feed(&c, in + pos, n - pos, NULL,
						   NULL),
			     0, "nothing is consumed after the end");
		cr_assert(c.done);
	}
	return f;
}

/* Whole, one byte at a time, and cut at every position: same answer. */
static fed feed_all_ways(const char *s, size_t n)
{
	fed whole = feed_n(s, n, 0);
	fed one = feed_n(s, n, 1);
	cr_assert_eq(one.rc, whole.rc, "bytewise %ld, whole %ld", one.rc,
		     whole.rc);
	cr_assert_eq(one.done, whole.done);
	cr_assert_eq(one.body_bytes, whole.body_bytes);
	for (size_t cut = 1; cut < n; cut++) {
		fed f = feed_n(s, n, cut);
		SKT_CHECK(f.rc == whole.rc && f.done == whole.done &&
				  f.body_bytes == whole.body_bytes,
			  "pieces of %zu: %ld/%d/%llu vs %ld/%d/%llu", cut,
			  f.rc, f.done, (unsigned long long)f.body_bytes,
			  whole.rc, whole.done,
			  (unsigned long long)whole.body_bytes);
	}
	return whole;
}

static void chunked_ok(const char *s, long consumed, uint64_t body)
{
	fed f = feed_all_ways(s, strlen(s));
	cr_assert(f.done, "\"%s\" not done", s);
	cr_assert_eq(f.rc, consumed, "\"%s\": consumed %ld, want %ld", s, f.rc,
		     consumed);
	cr_assert_eq(f.body_bytes, body, "\"%s\": %llu payload bytes", s,
		     (unsigned long long)f.body_bytes);
}

static void chunked_bad(const char *s)
{
	fed f = feed_all_ways(s, strlen(s));
	cr_assert_eq(f.rc, BAD, "\"%s\": %ld", s, f.rc);
}

SKT_TEST(http_chunked, nginx_body_then_next_response)
{
	const char *s = "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
			"5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
	chunked_ok(s, (long)(strstr(s, "HTTP") - s), 31);
}

SKT_TEST(http_chunked, hex_sizes_and_leading_zeros)
{
	chunked_ok("A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n", 36, 21);
	chunked_ok("0005\r\nhello\r\n000\r\n\r\n", 20, 5);
	chunked_ok("0\r\n\r\n", 5, 0);
}

SKT_TEST(http_chunked, extensions_are_skipped)
{
	chunked_ok("5;name=value\r\nhello\r\n0;last=\"yes\"\r\n\r\n", 37, 5);
	chunked_ok("5 ; a=b\r\nhello\r\n0\t;x\r\n\r\n", 24, 5);
}

SKT_TEST(http_chunked, trailers_are_skipped)
{
	chunked_ok("3\r\nabc\r\n0\r\nX-Checksum: 1\r\nY: \t2\r\n\r\nrest", 35,
		   3);
}

SKT_TEST(http_chunked, bare_lf_line_ends)
{
	chunked_ok("5\nhello\n0\n\n", 11, 5);
	chunked_ok("5\r\nhello\n0\nT: 1\n\r\n", 18, 5);
}

SKT_TEST(http_chunked, malformed)
{
	static const char *bad[] = {
		"g\r\n",            /* bad hex */
		"\r\n",             /* no size */
		";x\r\n",           /* an extension without a size */
		"-5\r\nhello\r\n",  /* a sign */
		"0x5\r\nhello\r\n", /* a C prefix */
		"5 5\r\nhello\r\n", /* a second number */
		"5\rX",             /* a bare CR */
		"5\r\nhelloX\r\n",  /* no CRLF after the data */
		"5\r\nhello\rX\n",  /* half of one */
		"5\r\nhello\r\r\n",
		"5;a\x01\r\nhello\r\n",    /* a control in an extension */
		"0\r\n X: folded\r\n\r\n", /* trailer folding */
		"0\r\n: no name\r\n\r\n",
		"0\r\nX: a\x7f\r\n\r\n", /* a control in a trailer */
		"0\r\nX: a\r\r\n\r\n",
		"0\r\n\rX", /* the final CRLF broken */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		chunked_bad(bad[i]);
}

SKT_TEST(http_chunked, size_limit)
{
	/* 2^40 is the largest size: the data is then awaited. */
	const char *s = "10000000000\r\nsome of the data";
	fed f = feed_all_ways(s, strlen(s));
	cr_assert_not(f.done);
	cr_assert_eq(f.rc, (long)strlen(s));
	cr_assert_eq(f.body_bytes, 16);
	chunked_bad("10000000001\r\n");
	chunked_bad("FFFFFFFFFFFFFFFFFFFFFFFF\r\n");
	chunked_bad("100000000000\r\n");
}

SKT_TEST(http_chunked, size_line_over_the_limit)
{
	static char s[SKT_HTTP_HEAD_MAX + 16];
	memset(s, '0', sizeof(s));
	fed f = feed_n(s, SKT_HTTP_HEAD_MAX, 4096);
	cr_assert_eq(f.rc, SKT_HTTP_HEAD_MAX, "65536 zeros are still a size");
	f = feed_n(s, SKT_HTTP_HEAD_MAX + 1, 4096);
	cr_assert_eq(f.rc, BAD);
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', sizeof(s) - 2);
	f = feed_n(s, sizeof(s), 0);
	cr_assert_eq(f.rc, BAD, "an endless extension");
}

SKT_TEST(http_chunked, trailer_section_over_the_limit)
{
	static char s[SKT_HTTP_HEAD_MAX + 64];
	size_t n = sizeof(s);
	memcpy(s, "0\r\nX: ", 6);
	memset(s + 6, 'a', n - 6);
	/* The trailer starts after "0\r\n": HEAD_MAX bytes of it fit. */
	memcpy(s + 3 + SKT_HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	fed f = feed_n(s, n, 1000);
	cr_assert(f.done);
	cr_assert_eq(f.rc, 3 + SKT_HTTP_HEAD_MAX);
	memset(s + 6, 'a', n - 6);
	memcpy(s + 3 + SKT_HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
	f = feed_n(s, n, 1000);
	cr_assert_eq(f.rc, BAD);
}

SKT_TEST(http_chunked, many_chunks_streamed)
{
	/* 300 chunks of 1..300 bytes, the sizes in mixed-case hex. */
	static char s[60000];
	size_t w = 0;
	uint64_t body = 0;
	for (int i = 1; i <= 300; i++) {
		w += (size_t)snprintf(s + w, sizeof(s) - w,
				      i % 2 ? "%x\r\n" : "%X\r\n", i);
		memset(s + w, 'a' + i % 26, (size_t)i);
		w += (size_t)i;
		memcpy(s + w, "\r\n", 2);
		w += 2;
		body += (uint64_t)i;
	}
	memcpy(s + w, "0\r\n\r\n", 5);
	w += 5;
	cr_assert_lt(w, sizeof(s));
	fed whole = feed_n(s, w, 0);
	cr_assert(whole.done);
	cr_assert_eq(whole.rc, (long)w);
	cr_assert_eq(whole.body_bytes, body);
	static const size_t steps[] = {1, 2, 3, 7, 64, 1000};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		fed f = feed_n(s, w, steps[i]);
		cr_assert_eq(f.rc, whole.rc, "step %zu", steps[i]);
		cr_assert(f.done);
		cr_assert_eq(f.body_bytes, body);
	}
}

SKT_TEST(http_chunked, empty_feed)
{
	skt_http_chunked c;
	skt_http_chunked_init(&c, &bench_opts);
	cr_assert_eq(skt_http_chunked_feed(&c, sktest_guarded_n("", 0), 0, NULL,
					   NULL),
		     0);
	cr_assert_not(c.done);
	cr_assert_eq(c.body_bytes, 0);
}

/* ---- The codec's own: payload spans, strict line ends, rules ---- */

SKT_TEST(http_chunked, payload_pointed_at_not_copied)
{
	static const char s[] =
		"5\r\nhello\r\n3;x=y\r\n, w\r\n0\r\nT: 1\r\n\r\nNEXT";
	size_t n = sizeof(s) - 1;
	const char *in = sktest_guarded_n(s, n);
	skt_http_chunked c;
	skt_http_chunked_init(&c, NULL);
	char got[16];
	size_t have = 0, pos = 0;
	int calls = 0;
	while (!c.done) {
		const char *data;
		size_t dlen;
		ssize_t r = skt_http_chunked_feed(&c, in + pos, n - pos, &data,
						  &dlen);
		cr_assert_geq(r, 0, "%s", skt_http_rule_str(c.why));
		if (dlen > 0) {
			cr_assert(data >= in + pos &&
					  data + dlen <= in + pos + r,
				  "the span lies in what was consumed");
			memcpy(got + have, data, dlen);
			have += dlen;
		}
		pos += (size_t)r;
		cr_assert_lt(++calls, 10);
	}
	cr_assert_eq(have, 8);
	cr_assert(memcmp(got, "hello, w", 8) == 0);
	cr_assert_eq(c.body_bytes, 8);
	cr_assert_eq(pos, n - 4, "NEXT is left for the next message");
	cr_assert_eq(calls, 3, "one call per chunk, then the end");
}

SKT_TEST(http_chunked, strict_line_ends_by_default)
{
	static const char *bad[] = {"5\nhello\r\n0\r\n\r\n",
				    "5\r\nhello\n0\r\n\r\n", "0\r\nT: 1\n\r\n",
				    "0\r\n\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		skt_http_chunked c;
		skt_http_chunked_init(&c, NULL);
		size_t n = strlen(bad[i]);
		skt_assert_err(
			skt_http_chunked_feed(&c, sktest_guarded_n(bad[i], n),
					      n, NULL, NULL),
			SKT_EMALFORMED);
		cr_assert_eq(c.why, SKT_HTTP_BARE_LF, "%s", bad[i]);
	}
}

SKT_TEST(http_chunked, size_overflow_is_too_big)
{
	skt_http_chunked c;
	skt_http_chunked_init(&c, NULL);
	const char *s = "fffffffffffffffffff\r\n";
	skt_assert_err(skt_http_chunked_feed(&c, sktest_guarded(s), strlen(s),
					     NULL, NULL),
		       SKT_ETOOBIG);
	cr_assert_eq(c.why, SKT_HTTP_CHUNK_TOO_BIG);
	cr_assert_eq(skt_http_rule_status(c.why), 413);
}
