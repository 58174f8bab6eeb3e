/* frame_test.c - the pure frame and line codecs: splits at every byte,
 * limits, memory that tracks the bytes fed, allocation failure. Inputs are
 * placed right before a PROT_NONE page, so reading one byte too far
 * crashes the test instead of passing by luck. */
#include "sktest.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Guard page ---- */

typedef struct guard {
	uint8_t *map;
	size_t maplen;
	uint8_t *end; /* first byte of the PROT_NONE page */
} guard;

static void guard_init(guard *g, size_t room)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (room + page - 1) / page + 1;
	g->maplen = pages * page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(g->map, MAP_FAILED);
	g->end = g->map + g->maplen - page;
	cr_assert_eq(mprotect(g->end, page, PROT_NONE), 0);
}

static void guard_free(guard *g)
{
	munmap(g->map, g->maplen);
}

/* Copy len bytes so that they end exactly at the guard page. */
static const uint8_t *guard_place(guard *g, const void *src, size_t len)
{
	SKT_CHECK(len <= (size_t)(g->end - g->map), "%zu bytes: no room", len);
	memcpy(g->end - len, src, len);
	return g->end - len;
}

/* ---- Collected messages ---- */

typedef struct msgs {
	size_t n;
	size_t len[32];
	size_t off[32];
	uint8_t data[8192];
	size_t used;
} msgs;

static void msgs_add(msgs *m, const uint8_t *p, size_t len)
{
	/* SKT_CHECK, not cr_assert: these run once per message of every
	 * split, and --full-stats reports each passing cr_assert. */
	SKT_CHECK(m->n < ARRAY_SIZE(m->len), "more than %zu messages", m->n);
	SKT_CHECK(m->used + len <= sizeof(m->data), "messages over %zu bytes",
		  sizeof(m->data));
	SKT_CHECK(p != NULL, "a completed message is never NULL");
	m->len[m->n] = len;
	m->off[m->n] = m->used;
	memcpy(m->data + m->used, p, len);
	m->used += len;
	m->n++;
}

static void msgs_expect_eq(const msgs *got, const msgs *want)
{
	SKT_CHECK(got->n == want->n, "messages: got %zu, want %zu", got->n,
		  want->n);
	for (size_t i = 0; i < got->n; i++) {
		SKT_CHECK(got->len[i] == want->len[i],
			  "message %zu: %zu vs %zu", i, got->len[i],
			  want->len[i]);
		SKT_CHECK(memcmp(got->data + got->off[i],
				 want->data + want->off[i], got->len[i]) == 0,
			  "message %zu differs", i);
	}
}

/* Feed one input, in place before the guard page, to the end. */
static void frames_feed(skt_frame_decoder *d, guard *g, const void *src,
			size_t len, msgs *out)
{
	const uint8_t *in = guard_place(g, src, len);
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *m;
		size_t ml;
		ssize_t r = skt_frame_decode(d, in + pos, len - pos, &m, &ml);
		SKT_CHECK(r > 0, "decode: %zd (%s)", r, skt_errname((int)r));
		pos += (size_t)r;
		if (m != NULL)
			msgs_add(out, m, ml);
		else
			SKT_CHECK(pos == len, "no message, yet input left");
	}
}

static void lines_feed(skt_line_decoder *d, guard *g, const void *src,
		       size_t len, msgs *out)
{
	const uint8_t *in = guard_place(g, src, len);
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *l;
		size_t ll;
		ssize_t r = skt_line_decode(d, in + pos, len - pos, &l, &ll);
		SKT_CHECK(r > 0, "decode: %zd (%s)", r, skt_errname((int)r));
		pos += (size_t)r;
		if (l != NULL)
			msgs_add(out, l, ll);
		else
			SKT_CHECK(pos == len, "no line, yet input left");
	}
}

/* A stream of frames of the given payload sizes (payload bytes i * 7 + k)
 * into wire; the expected messages into want. Returns the wire length. */
static size_t make_frames(uint8_t *wire, size_t cap, const size_t *sizes,
			  size_t n, msgs *want)
{
	size_t w = 0;
	memset(want, 0, sizeof(*want));
	for (size_t i = 0; i < n; i++) {
		uint8_t pay[1024];
		cr_assert_leq(sizes[i], sizeof(pay));
		for (size_t k = 0; k < sizes[i]; k++)
			pay[k] = (uint8_t)(i * 7 + k);
		cr_assert_leq(w + 4 + sizes[i], cap);
		cr_assert_eq(skt_frame_header(wire + w, sizes[i], 0), 0);
		memcpy(wire + w + 4, pay, sizes[i]);
		w += 4 + sizes[i];
		msgs_add(want, pay, sizes[i]);
	}
	return w;
}

static const size_t mixed_sizes[] = {5, 0, 1, 300, 0, 0, 17, 1024, 2};

/* ---- Frame header ---- */

SKT_TEST(frame, header_is_big_endian_length)
{
	uint8_t h[4];
	cr_assert_eq(skt_frame_header(h, 0x01020304, 0x01020304), 0);
	uint8_t want[4] = {1, 2, 3, 4};
	cr_assert_arr_eq(h, want, 4);
	cr_assert_eq(skt_frame_header(h, SKT_FRAME_MAX_DEFAULT, 0), 0);
	cr_assert_eq(skt_frame_header(h, SKT_FRAME_MAX_DEFAULT + 1, 0),
		     SKT_ETOOBIG);
	cr_assert_eq(skt_frame_header(h, 10, 9), SKT_ETOOBIG);
}

SKT_TEST(frame, max_above_32_bits_clamps)
{
	uint8_t h[4];
	cr_assert_eq(skt_frame_header(h, UINT32_MAX, SIZE_MAX), 0);
	uint8_t want[4] = {0xff, 0xff, 0xff, 0xff};
	cr_assert_arr_eq(h, want, 4);
	if (SIZE_MAX > UINT32_MAX)
		cr_assert_eq(
			skt_frame_header(h, (size_t)UINT32_MAX + 1, SIZE_MAX),
			SKT_ETOOBIG);
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, SIZE_MAX);
	cr_assert_eq(d.max, (size_t)UINT32_MAX);
	skt_frame_decoder_init(&d, 0);
	cr_assert_eq(d.max, SKT_FRAME_MAX_DEFAULT);
}

/* ---- Frame decoder ---- */

SKT_TEST(frame, whole_frame_is_returned_in_place)
{
	guard g;
	guard_init(&g, 64);
	uint8_t wire[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
	const uint8_t *in = guard_place(&g, wire, sizeof(wire));
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	const uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_decode(&d, in, sizeof(wire), &m, &ml), 9);
	cr_assert_eq(m, in + 4, "zero-copy: the payload inside the input");
	cr_assert_eq(ml, 5);
	cr_assert_eq(d.cap, 0, "nothing allocated");
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, several_frames_in_one_input)
{
	static uint8_t wire[4096];
	msgs want, got = {0};
	size_t n = make_frames(wire, sizeof(wire), mixed_sizes,
			       ARRAY_SIZE(mixed_sizes), &want);
	guard g;
	guard_init(&g, sizeof(wire));
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	frames_feed(&d, &g, wire, n, &got);
	msgs_expect_eq(&got, &want);
	cr_assert_eq(d.cap, 0, "every frame was whole: no copy");
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, split_at_every_byte_position)
{
	static uint8_t wire[4096];
	msgs want;
	size_t n = make_frames(wire, sizeof(wire), mixed_sizes,
			       ARRAY_SIZE(mixed_sizes), &want);
	guard g;
	guard_init(&g, sizeof(wire));
	for (size_t k = 0; k <= n; k++) {
		msgs got = {0};
		skt_frame_decoder d;
		skt_frame_decoder_init(&d, 0);
		frames_feed(&d, &g, wire, k, &got);
		frames_feed(&d, &g, wire + k, n - k, &got);
		msgs_expect_eq(&got, &want);
		SKT_CHECK(d.hdr_have == 0,
			  "split at %zu: %zu header bytes held", k, d.hdr_have);
		skt_frame_decoder_fini(&d);
	}
	guard_free(&g);
}

SKT_TEST(frame, byte_by_byte)
{
	static uint8_t wire[4096];
	msgs want, got = {0};
	size_t n = make_frames(wire, sizeof(wire), mixed_sizes,
			       ARRAY_SIZE(mixed_sizes), &want);
	guard g;
	guard_init(&g, 16);
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	for (size_t k = 0; k < n; k++)
		frames_feed(&d, &g, wire + k, 1, &got);
	msgs_expect_eq(&got, &want);
	cr_assert_leq(d.cap, 2 * 1024, "grown with bytes held: %zu", d.cap);
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, zero_length_frames)
{
	uint8_t wire[12] = {0};
	guard g;
	guard_init(&g, 16);
	const uint8_t *in = guard_place(&g, wire, sizeof(wire));
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	for (int i = 0; i < 3; i++) {
		const uint8_t *m;
		size_t ml = 99;
		cr_assert_eq(
			skt_frame_decode(&d, in + 4 * i, 12 - 4 * i, &m, &ml),
			4);
		cr_assert_not_null(m, "an empty frame is still a frame");
		cr_assert_eq(ml, 0);
	}
	/* An empty input is fine and yields nothing. */
	const uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_decode(&d, g.end, 0, &m, &ml), 0);
	cr_assert_null(m);
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, payload_of_max_accepted_max_plus_one_rejected)
{
	static uint8_t wire[256];
	guard g;
	guard_init(&g, sizeof(wire));
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 100);
	cr_assert_eq(skt_frame_header(wire, 100, 100), 0);
	memset(wire + 4, 'x', 100);
	msgs got = {0};
	frames_feed(&d, &g, wire, 104, &got);
	cr_assert_eq(got.n, 1);
	cr_assert_eq(got.len[0], 100);

	uint8_t big[4] = {0, 0, 0, 101};
	const uint8_t *in = guard_place(&g, big, 4);
	const uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_decode(&d, in, 4, &m, &ml), SKT_ETOOBIG);
	/* Sticky: the stream cannot be resynchronised. */
	in = guard_place(&g, wire, 104);
	cr_assert_eq(skt_frame_decode(&d, in, 104, &m, &ml), SKT_ETOOBIG);
	cr_assert_eq(d.cap, 0);
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, header_of_4gib_rejected_before_payload)
{
	guard g;
	guard_init(&g, 16);
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
	/* Split inside the header too: the check comes when it completes. */
	const uint8_t *in = guard_place(&g, hdr, 3);
	const uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_decode(&d, in, 3, &m, &ml), 3);
	in = guard_place(&g, hdr + 3, 1);
	cr_assert_eq(skt_frame_decode(&d, in, 1, &m, &ml), SKT_ETOOBIG);
	cr_assert_eq(d.cap, 0);
	cr_assert_eq(sktest_live_allocs(), 0);
	skt_frame_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(frame, memory_grows_with_bytes_not_claim)
{
	/* 16 MiB claimed (the default max, so accepted), 10 bytes sent. */
	uint8_t wire[14] = {0x01, 0x00, 0x00, 0x00};
	memset(wire + 4, 'a', 10);
	guard g;
	guard_init(&g, 64);
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	msgs got = {0};
	frames_feed(&d, &g, wire, sizeof(wire), &got);
	cr_assert_eq(got.n, 0);
	cr_assert_eq(d.have, 10);
	cr_assert_leq(d.cap, 20, "cap %zu for 10 bytes held", d.cap);
	for (int i = 0; i < 1000; i++)
		frames_feed(&d, &g, "b", 1, &got);
	cr_assert_leq(d.cap, 2 * d.have, "cap %zu for %zu held", d.cap, d.have);
	skt_frame_decoder_fini(&d);
	cr_assert_eq(d.cap, 0);
	cr_assert_eq(sktest_live_allocs(), 0);
	guard_free(&g);
}

SKT_TEST(frame, allocation_failure_is_enomem_and_sticky)
{
	uint8_t wire[8] = {0, 0, 0, 10, 'a', 'b', 'c', 'd'};
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	const uint8_t *m;
	size_t ml;
	/* Grow once successfully, then fail the next growth. */
	cr_assert_eq(skt_frame_decode(&d, wire, 5, &m, &ml), 5);
	sktest_fail_alloc_at(1);
	cr_assert_eq(skt_frame_decode(&d, wire + 5, 3, &m, &ml), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	cr_assert_eq(skt_frame_decode(&d, wire + 5, 3, &m, &ml), SKT_ENOMEM);
	skt_frame_decoder_fini(&d);

	/* Failing the very first allocation leaks nothing either. */
	skt_frame_decoder_init(&d, 0);
	sktest_fail_alloc_at(1);
	cr_assert_eq(skt_frame_decode(&d, wire, 6, &m, &ml), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	skt_frame_decoder_fini(&d);
	skt_frame_decoder_fini(NULL);
}

SKT_TEST(frame, decoder_reusable_after_free)
{
	uint8_t wire[6] = {0, 0, 0, 2, 'o', 'k'};
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, 0);
	const uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_decode(&d, wire, 5, &m, &ml), 5);
	skt_frame_decoder_fini(&d);
	skt_frame_decoder_init(&d, 0);
	cr_assert_eq(skt_frame_decode(&d, wire, 6, &m, &ml), 6);
	cr_assert_eq(ml, 2);
	cr_assert_arr_eq(m, "ok", 2);
	skt_frame_decoder_fini(&d);
}

/* ---- Line decoder ---- */

static const char line_text[] = "hello\n\nworld, a longer line here\n\nx\n";

static void line_expect(msgs *want)
{
	memset(want, 0, sizeof(*want));
	msgs_add(want, (const uint8_t *)"hello", 5);
	msgs_add(want, (const uint8_t *)"", 0);
	msgs_add(want, (const uint8_t *)"world, a longer line here", 25);
	msgs_add(want, (const uint8_t *)"", 0);
	msgs_add(want, (const uint8_t *)"x", 1);
}

SKT_TEST(line, whole_lines_returned_in_place)
{
	guard g;
	guard_init(&g, 64);
	const uint8_t *in = guard_place(&g, "ab\ncd\n", 6);
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, '\n');
	cr_assert_eq(d.max, SKT_LINE_MAX_DEFAULT);
	const uint8_t *l;
	size_t ll;
	cr_assert_eq(skt_line_decode(&d, in, 6, &l, &ll), 3);
	cr_assert_eq(l, in);
	cr_assert_eq(ll, 2);
	cr_assert_eq(skt_line_decode(&d, in + 3, 3, &l, &ll), 3);
	cr_assert_eq(l, in + 3);
	cr_assert_eq(d.cap, 0);
	skt_line_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(line, split_at_every_byte_position)
{
	size_t n = sizeof(line_text) - 1;
	msgs want;
	line_expect(&want);
	guard g;
	guard_init(&g, 64);
	for (size_t k = 0; k <= n; k++) {
		msgs got = {0};
		skt_line_decoder d;
		skt_line_decoder_init(&d, 0, '\n');
		lines_feed(&d, &g, line_text, k, &got);
		lines_feed(&d, &g, line_text + k, n - k, &got);
		msgs_expect_eq(&got, &want);
		skt_line_decoder_fini(&d);
	}
	guard_free(&g);
}

SKT_TEST(line, byte_by_byte)
{
	size_t n = sizeof(line_text) - 1;
	msgs want, got = {0};
	line_expect(&want);
	guard g;
	guard_init(&g, 16);
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, '\n');
	for (size_t k = 0; k < n; k++)
		lines_feed(&d, &g, line_text + k, 1, &got);
	msgs_expect_eq(&got, &want);
	cr_assert_leq(d.cap, 2 * 25);
	skt_line_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(line, custom_delimiter_and_empty_lines)
{
	static const char text[] = "a;;bc;\n;";
	msgs want = {0}, got = {0};
	msgs_add(&want, (const uint8_t *)"a", 1);
	msgs_add(&want, (const uint8_t *)"", 0);
	msgs_add(&want, (const uint8_t *)"bc", 2);
	msgs_add(&want, (const uint8_t *)"\n", 1);
	guard g;
	guard_init(&g, 16);
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, ';');
	lines_feed(&d, &g, text, 3, &got);
	lines_feed(&d, &g, text + 3, sizeof(text) - 4, &got);
	msgs_expect_eq(&got, &want);
	skt_line_decoder_fini(&d);

	/* NUL as the delimiter: C strings on the wire. */
	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	msgs_add(&want, (const uint8_t *)"one", 3);
	msgs_add(&want, (const uint8_t *)"two", 3);
	skt_line_decoder_init(&d, 0, '\0');
	lines_feed(&d, &g, "one\0two", 8, &got);
	msgs_expect_eq(&got, &want);
	skt_line_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(line, line_of_max_accepted)
{
	guard g;
	guard_init(&g, 16);
	/* Whole, and then a byte at a time (gathered up to exactly max). */
	for (int split = 0; split < 2; split++) {
		msgs got = {0};
		skt_line_decoder d;
		skt_line_decoder_init(&d, 8, '\n');
		if (split)
			for (size_t k = 0; k < 9; k++)
				lines_feed(&d, &g, &"12345678\n"[k], 1, &got);
		else
			lines_feed(&d, &g, "12345678\n", 9, &got);
		cr_assert_eq(got.n, 1);
		cr_assert_eq(got.len[0], 8);
		cr_assert_arr_eq(got.data, "12345678", 8);
		cr_assert_leq(d.cap, 8, "never beyond max: %zu", d.cap);
		skt_line_decoder_fini(&d);
	}
	guard_free(&g);
}

SKT_TEST(line, line_of_max_plus_one_rejected)
{
	guard g;
	guard_init(&g, 16);
	const uint8_t *l;
	size_t ll;
	skt_line_decoder d;
	skt_line_decoder_init(&d, 8, '\n');
	/* In one input: found without reading past byte max + 1. */
	const uint8_t *in = guard_place(&g, "123456789", 9);
	cr_assert_eq(skt_line_decode(&d, in, 9, &l, &ll), SKT_ETOOBIG);
	in = guard_place(&g, "\n", 1);
	cr_assert_eq(skt_line_decode(&d, in, 1, &l, &ll), SKT_ETOOBIG,
		     "sticky");
	skt_line_decoder_fini(&d);

	/* Across inputs: max bytes held, then one more. */
	skt_line_decoder_init(&d, 8, '\n');
	in = guard_place(&g, "12345678", 8);
	cr_assert_eq(skt_line_decode(&d, in, 8, &l, &ll), 8);
	in = guard_place(&g, "9\n", 2);
	cr_assert_eq(skt_line_decode(&d, in, 2, &l, &ll), SKT_ETOOBIG);
	cr_assert_null(l);
	skt_line_decoder_fini(&d);
	guard_free(&g);
}

SKT_TEST(line, memory_grows_with_bytes)
{
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, '\n');
	const uint8_t *l;
	size_t ll;
	cr_assert_eq(skt_line_decode(&d, "0123456789", 10, &l, &ll), 10);
	cr_assert_leq(d.cap, 20, "cap %zu for 10 bytes", d.cap);
	skt_line_decoder_fini(&d);
}

SKT_TEST(line, allocation_failure_is_enomem_and_sticky)
{
	skt_line_decoder d;
	skt_line_decoder_init(&d, 0, '\n');
	const uint8_t *l;
	size_t ll;
	sktest_fail_alloc_at(1);
	cr_assert_eq(skt_line_decode(&d, "abc", 3, &l, &ll), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	cr_assert_eq(skt_line_decode(&d, "\n", 1, &l, &ll), SKT_ENOMEM);
	skt_line_decoder_fini(&d);
	skt_line_decoder_fini(NULL);
}
