/* xfer_wire_test.c - the frames of sockit send/recv (docs/transfer.md)
 * without sockets: round trips, every limit checked before use, paths and
 * links that must be refused, and the hashes' known values. */
#include "sktest.h"

#include "tools/xfer/hash.h"
#include "tools/xfer/wire.h"

#include <string.h>

static uint8_t buf[XF_HEAD_LEN + XF_CTRL_MAX];

Test(xfer_wire, head_refuses_unknown_type_and_oversize)
{
	uint8_t h[XF_HEAD_LEN];
	uint8_t type;
	uint32_t len;
	xf_head_encode(h, XF_DATA, XF_DATA_MAX);
	cr_assert_eq(xf_head_decode(h, sizeof(h), &type, &len), XF_HEAD_LEN);
	cr_assert_eq(len, XF_DATA_MAX);
	xf_head_encode(h, XF_DATA, XF_DATA_MAX + 1);
	cr_assert_eq(xf_head_decode(h, sizeof(h), &type, &len), -1);
	xf_head_encode(h, XF_ENTRY, XF_CTRL_MAX + 1);
	cr_assert_eq(xf_head_decode(h, sizeof(h), &type, &len), -1);
	xf_head_encode(h, 'Q', 1);
	cr_assert_eq(xf_head_decode(h, sizeof(h), &type, &len), -1);
	cr_assert_eq(xf_head_decode(h, XF_HEAD_LEN - 1, &type, &len), 0);
}

Test(xfer_wire, hello_round_trip_and_version)
{
	xf_hello h = {.alg = XF_ALG_SHA256, .files = 3, .bytes = 1ull << 40};
	size_t n = xf_hello_encode(buf, sizeof(buf), &h);
	cr_assert_eq(n, XF_HEAD_LEN + XF_HELLO_LEN);
	xf_hello back;
	cr_assert_eq(xf_hello_decode(buf + XF_HEAD_LEN, XF_HELLO_LEN, &back),
		     0);
	cr_assert_eq(back.alg, XF_ALG_SHA256);
	cr_assert_eq(back.files, 3);
	cr_assert_eq(back.bytes, 1ull << 40);
	buf[XF_HEAD_LEN + 4] = 2; /* a version this build does not speak */
	cr_assert_eq(xf_hello_decode(buf + XF_HEAD_LEN, XF_HELLO_LEN, &back),
		     -1);
}

static int decode_entry(const xf_entry *e, xf_entry *back)
{
	size_t n = xf_entry_encode(buf, sizeof(buf), e);
	if (n == 0)
		return -2;
	return xf_entry_decode(buf + XF_HEAD_LEN, n - XF_HEAD_LEN, back);
}

Test(xfer_wire, entry_round_trip)
{
	xf_entry e = {.kind = XF_FILE,
		      .alg = XF_ALG_XXH3,
		      .mode = 0644,
		      .chunk = 1 << 20,
		      .mtime_s = -5,
		      .mtime_ns = 999999999,
		      .size = 12345,
		      .path = "a b/ü\nc",
		      .path_len = strlen("a b/ü\nc"),
		      .first_len = 16};
	memset(e.first, 0xab, 16);
	xf_entry back;
	cr_assert_eq(decode_entry(&e, &back), 0);
	cr_assert_eq(back.size, 12345);
	cr_assert_eq(back.mtime_s, -5);
	cr_assert_eq(back.mtime_ns, 999999999);
	cr_assert_eq(back.path_len, e.path_len);
	cr_assert_eq(memcmp(back.path, e.path, e.path_len), 0);
	cr_assert_eq(memcmp(back.first, e.first, 16), 0);
	e.kind = XF_LINK;
	e.size = 0;
	e.first_len = 0;
	e.link = "../x";
	e.link_len = 4;
	cr_assert_eq(decode_entry(&e, &back), 0);
	cr_assert_eq(back.link_len, 4);
}

Test(xfer_wire, entry_limits)
{
	xf_entry e = {.kind = XF_FILE,
		      .alg = XF_ALG_NONE,
		      .chunk = 1 << 20,
		      .path = "f",
		      .path_len = 1};
	xf_entry back;
	cr_assert_eq(decode_entry(&e, &back), 0);
	e.chunk = XF_CHUNK_MAX * 2u;
	cr_assert_eq(decode_entry(&e, &back), -2);
	e.chunk = 3 << 12; /* not a power of two */
	cr_assert_eq(decode_entry(&e, &back), -2);
	e.chunk = 1 << 20;
	e.mode = 010000;
	cr_assert_eq(decode_entry(&e, &back), -2);
	e.mode = 0;
	e.kind = XF_DIR;
	e.size = 1; /* a directory has no bytes */
	cr_assert_eq(decode_entry(&e, &back), -2);
	/* A length that disagrees with the fields is malformed. */
	e.kind = XF_FILE;
	size_t n = xf_entry_encode(buf, sizeof(buf), &e);
	cr_assert_gt(n, 0);
	cr_assert_eq(
		xf_entry_decode(buf + XF_HEAD_LEN, n - XF_HEAD_LEN - 1, &back),
		-1);
	buf[XF_HEAD_LEN + 3] = 200; /* path length past the payload */
	cr_assert_eq(xf_entry_decode(buf + XF_HEAD_LEN, n - XF_HEAD_LEN, &back),
		     -1);
}

Test(xfer_wire, paths_refused)
{
	static const char *const bad[] = {
		"",    "/etc/passwd", "..",   "a/..", "../a", "a/../b",
		"./a", "a/.",         "a//b", "a/",   "/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!xf_path_ok(bad[i], strlen(bad[i])), "%s", bad[i]);
	cr_assert(!xf_path_ok("a\0b", 3));
	static const char *const good[] = {"a", "a/b", "...", "a/.b", "..a"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(xf_path_ok(good[i], strlen(good[i])), "%s", good[i]);
	char name[XF_NAME_MAX + 2];
	memset(name, 'n', sizeof(name));
	cr_assert(xf_path_ok(name, XF_NAME_MAX));
	cr_assert(!xf_path_ok(name, XF_NAME_MAX + 1));
}

Test(xfer_wire, links_that_climb_out_refused)
{
	cr_assert(xf_link_ok("a/l", 3, "../b", 4));
	cr_assert(xf_link_ok("a/b/l", 5, "../../c", 7));
	cr_assert(xf_link_ok("l", 1, "x/../y", 6));
	cr_assert(!xf_link_ok("l", 1, "../x", 4));
	cr_assert(!xf_link_ok("a/l", 3, "../../x", 7));
	cr_assert(!xf_link_ok("a/l", 3, "b/../../../x", 12));
	cr_assert(!xf_link_ok("l", 1, "/etc", 4));
	cr_assert(!xf_link_ok("l", 1, "", 0));
}

Test(xfer_wire, sums_round_trip_and_lengths)
{
	xf_sum s = {.a = 1, .b = 2, .c = 3};
	memset(s.hash, 7, 16);
	size_t n = xf_sum_encode(buf, sizeof(buf), XF_ACK, 16, &s);
	cr_assert_eq(n, XF_HEAD_LEN + 24 + 16);
	xf_sum back;
	cr_assert_eq(xf_sum_decode(XF_ACK, buf + XF_HEAD_LEN, 40, 16, &back),
		     0);
	cr_assert_eq(back.c, 3);
	cr_assert_eq(back.hash[15], 7);
	cr_assert_eq(xf_sum_decode(XF_ACK, buf + XF_HEAD_LEN, 39, 16, &back),
		     -1);
	cr_assert_eq(xf_sum_decode(XF_RESUME, buf + XF_HEAD_LEN, 40, 16, &back),
		     -1);
	cr_assert_eq(xf_sum_decode(XF_DATA, buf + XF_HEAD_LEN, 40, 16, &back),
		     -1);
}

Test(xfer_wire, error_message_cut)
{
	char msg[XF_ERRMSG_MAX + 10];
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	size_t n = xf_error_encode(buf, sizeof(buf), XF_E_IO, msg);
	cr_assert_eq(n, XF_HEAD_LEN + 2 + XF_ERRMSG_MAX);
	uint16_t code;
	const char *m;
	size_t mlen;
	cr_assert_eq(xf_error_decode(buf + XF_HEAD_LEN, n - XF_HEAD_LEN, &code,
				     &m, &mlen),
		     0);
	cr_assert_eq(code, XF_E_IO);
	cr_assert_eq(mlen, XF_ERRMSG_MAX);
}

Test(xfer_wire, chunks)
{
	cr_assert_eq(xf_chunks(0, 4096), 0);
	cr_assert_eq(xf_chunks(1, 4096), 1);
	cr_assert_eq(xf_chunks(4096, 4096), 1);
	cr_assert_eq(xf_chunks(4097, 4096), 2);
	cr_assert_eq(xf_chunk_len(4097, 4096, 1), 1);
	cr_assert_eq(xf_chunk_len(4097, 4096, 2), 0);
	cr_assert_eq(xf_chunk_len(UINT64_MAX, 4096, UINT64_MAX), 0);
}

Test(xfer_hash, known_values)
{
	uint8_t h[XF_HASH_MAX];
	char hex[2 * XF_HASH_MAX + 1];
	cr_assert_eq(xf_hash(XF_ALG_SHA256, "abc", 3, h), 0);
	xf_hex(h, 32, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	/* XXH3-128 of nothing, from xxhash's own test vectors. */
	cr_assert_eq(xf_hash(XF_ALG_XXH3, "", 0, h), 0);
	xf_hex(h, 16, hex);
	cr_assert_str_eq(hex, "99aa06d3014798d86001c324468d497f");
	uint8_t c[XF_HASH_MAX] = {0};
	cr_assert_eq(xf_chain(XF_ALG_XXH3, c, h), 0);
	cr_assert_neq(memcmp(c, h, 16), 0);
}
