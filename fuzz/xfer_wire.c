/* xfer_wire.c - fuzz the frames of sockit send/recv (src/tools/xfer/wire.c)
 * as a receiver meets them: a stream of frames, each head decoded first
 * and its payload only when the head's length was accepted.
 *
 * Input: one byte choosing the hash length of the summaries (its value
 * modulo 3 picks none, xxh3 or sha256), then the stream.
 *
 * Properties: a head never claims more than its type's limit; a decoded
 * entry's path is relative and normalised and its link stays inside the
 * tree; every frame that decodes re-encodes to the same bytes. */
#include "fuzz.h"

#include "tools/xfer/wire.h"

#include <string.h>

static uint8_t out[XF_HEAD_LEN + XF_CTRL_MAX];

static void entry(const uint8_t *head, const uint8_t *p, size_t n)
{
	xf_entry e;
	if (xf_entry_decode(p, n, &e) != 0)
		return;
	FUZZ_CHECK(xf_path_ok(e.path, e.path_len));
	FUZZ_CHECK(e.kind != XF_LINK ||
		   xf_link_ok(e.path, e.path_len, e.link, e.link_len));
	size_t len = xf_entry_encode(out, sizeof(out), &e);
	FUZZ_CHECK(len == XF_HEAD_LEN + n);
	FUZZ_CHECK(memcmp(out, head, XF_HEAD_LEN) == 0);
	FUZZ_CHECK(memcmp(out + XF_HEAD_LEN, p, n) == 0);
}

static void frame(uint8_t type, const uint8_t *head, const uint8_t *p, size_t n,
		  size_t hl)
{
	size_t len = 0;
	if (type == XF_HELLO) {
		xf_hello h;
		if (xf_hello_decode(p, n, &h) != 0)
			return;
		len = xf_hello_encode(out, sizeof(out), &h);
	} else if (type == XF_ENTRY) {
		entry(head, p, n);
		return;
	} else if (type == XF_ERROR) {
		uint16_t code;
		const char *msg;
		size_t mlen;
		if (xf_error_decode(p, n, &code, &msg, &mlen) != 0)
			return;
		FUZZ_CHECK(mlen <= XF_ERRMSG_MAX);
		return;
	} else if (type != XF_DATA) {
		xf_sum s;
		if (xf_sum_decode(type, p, n, hl, &s) != 0)
			return;
		len = xf_sum_encode(out, sizeof(out), type, hl, &s);
	} else {
		return;
	}
	FUZZ_CHECK(len == XF_HEAD_LEN + n);
	FUZZ_CHECK(memcmp(out + XF_HEAD_LEN, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t hl = (size_t)xf_alg_hash_len(data[0] % 3);
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	while (n > 0) {
		uint8_t type;
		uint32_t len;
		int r = xf_head_decode(p, n, &type, &len);
		if (r <= 0)
			return 0;
		FUZZ_CHECK(len <=
			   (type == XF_DATA ? XF_DATA_MAX : XF_CTRL_MAX));
		/* --secret's frames: their 32 bytes, never more. */
		FUZZ_CHECK(len <= XF_AUTH_LEN ||
			   (type != XF_NONCE && type != XF_PROOF &&
			    type != XF_MAC));
		if (n - XF_HEAD_LEN < len)
			return 0; /* a receiver waits for more */
		frame(type, p, p + XF_HEAD_LEN, len, hl);
		p += XF_HEAD_LEN + len;
		n -= XF_HEAD_LEN + len;
	}
	return 0;
}
