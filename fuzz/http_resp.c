/* http_resp.c - fuzz the HTTP/1.x response reader of `sockit bench`
 * (src/tools/bench/resp.c): the head parser, then the chunked body decoder on
 * what follows a chunked head, fed whole and in fuzzer-chosen pieces.
 *
 * Input: a flags byte (bit 0: skip the head, the whole stream is a
 * chunked body, so the decoder is reached without a valid head first),
 * the split sizes (see fuzz_splits_take), then the stream.
 *
 * Properties: the head parser returns BAD, MORE (only below HEAD_MAX) or
 * a length within the input that ends with LF; a parsed head has a status
 * of 100-599, minor 0 or 1, content_length -1 or 0..10^18-1 and -1 when
 * chunked, no_body exactly for 1xx/204/304; the head alone parses the
 * same, and any shorter prefix is MORE. The decoder consumes at most what
 * it is given, less only once done, nothing after done; BAD is sticky;
 * payload bytes never exceed bytes consumed; whole and split feeds agree
 * on consumption, done, BAD and payload bytes.
 */
#include "fuzz.h"
#include "msgs.h"

#include "tools/bench/resp.h"

#include <string.h>

static bool same_resp(const http_resp *a, const http_resp *b)
{
	return a->status == b->status && a->minor == b->minor &&
	       a->content_length == b->content_length &&
	       a->chunked == b->chunked && a->close == b->close &&
	       a->no_body == b->no_body;
}

static void check_resp(const http_resp *r)
{
	int s = r->status;
	FUZZ_CHECK(s >= 100 && s <= 599);
	FUZZ_CHECK(r->minor == 0 || r->minor == 1);
	FUZZ_CHECK(r->content_length >= -1 &&
		   r->content_length < INT64_C(1000000000000000000));
	FUZZ_CHECK(!r->chunked || r->content_length == -1);
	FUZZ_CHECK(r->no_body == (s < 200 || s == 204 || s == 304));
	FUZZ_CHECK(r->close || r->no_body || r->chunked ||
		   r->content_length >= 0);
}

/* Parse the head at the front of p; returns its length or BAD/MORE. */
static int head(const uint8_t *p, size_t n, fuzz_splits *sp, http_resp *r)
{
	const char *s = (const char *)p;
	int rc = http_resp_parse(s, n, r);
	FUZZ_CHECK(rc == HTTP_BAD || rc == HTTP_MORE || rc > 0);
	if (rc == HTTP_MORE)
		FUZZ_CHECK(n < HTTP_HEAD_MAX);
	if (rc <= 0)
		return rc;
	size_t len = (size_t)rc;
	FUZZ_CHECK(len <= n && len <= HTTP_HEAD_MAX);
	FUZZ_CHECK(s[len - 1] == '\n');
	check_resp(r);
	http_resp again;
	FUZZ_CHECK(http_resp_parse(s, len, &again) == rc);
	FUZZ_CHECK(same_resp(&again, r));
	FUZZ_CHECK(http_resp_parse(s, len - 1, &again) == HTTP_MORE);
	size_t cut = fuzz_splits_next(sp, len - 1);
	FUZZ_CHECK(http_resp_parse(s, cut, &again) == HTTP_MORE);
	return rc;
}

typedef struct fed {
	long rc; /* consumed in all, or HTTP_BAD */
	bool done;
	uint64_t body_bytes;
} fed;

/* Feed the body in pieces from sp (whole when sp is NULL) until done,
 * BAD or the end of the input. */
static fed body(const uint8_t *p, size_t n, fuzz_splits *sp)
{
	http_chunked c;
	http_chunked_init(&c);
	fed f = {0, false, 0};
	size_t pos = 0;
	bool d;
	while (!f.done && pos < n) {
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		long r = http_chunked_feed(&c, (const char *)p + pos, k,
						&f.done);
		if (r == HTTP_BAD) {
			FUZZ_CHECK(!f.done);
			FUZZ_CHECK(http_chunked_feed(&c, (const char *)p,
							  n, &d) == r);
			f.rc = r;
			return f;
		}
		FUZZ_CHECK(r >= 0 && (size_t)r <= k);
		FUZZ_CHECK(f.done || (size_t)r == k);
		pos += (size_t)r;
		FUZZ_CHECK(c.body_bytes <= pos);
	}
	if (f.done) {
		FUZZ_CHECK(http_chunked_feed(&c, (const char *)p + pos,
						  n - pos, &d) == 0);
		FUZZ_CHECK(d);
	}
	f.rc = (long)pos;
	f.body_bytes = c.body_bytes;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	bool body_only = fuzz_u8(&in) & 1;
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	size_t off = 0;
	if (!body_only) {
		http_resp r;
		int rc = head(in.p, in.n, &sp, &r);
		if (rc <= 0 || !r.chunked)
			return 0;
		off = (size_t)rc;
	}
	fed whole = body(in.p + off, in.n - off, NULL);
	fed split = body(in.p + off, in.n - off, &sp);
	FUZZ_CHECK(whole.rc == split.rc);
	FUZZ_CHECK(whole.done == split.done);
	FUZZ_CHECK(whole.body_bytes == split.body_bytes);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
