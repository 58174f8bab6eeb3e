/* http_resp.c - fuzz the response-head parser (skt_http_resp_parse), then
 * the chunked decoder on what follows a chunked head, fed whole and in
 * fuzzer-chosen pieces: what `sockit bench` reads from a server.
 *
 * Input: a flags byte (bit 0: skip the head, the whole stream is a
 * chunked body, so the decoder is reached without a valid head first;
 * bit 1: the request was HEAD; bit 2: strict, no lone LF line ends), the
 * split sizes (see fuzz_splits_take), then the stream.
 *
 * Properties: the head parser returns an error with its rule, SKT_EAGAIN
 * (only below head_max) or a length within the input that ends with LF; a
 * parsed head has a status of 100-599, minor 0 or 1, content_length -1 or
 * 0..10^18-1 and -1 when chunked, no_body exactly for HEAD, 1xx, 204 and
 * 304; the head alone parses the same, and any shorter prefix is
 * SKT_EAGAIN. The decoder consumes at most what it is given, less only
 * once done, nothing after done; errors are sticky; payload bytes never
 * exceed bytes consumed; whole and split feeds agree on consumption, done,
 * the error and payload bytes.
 */
#include "fuzz.h"
#include "msgs.h"

#include "sockit/http.h"

#include <string.h>

#define FIELDS 100

static skt_http_opts opts;
static bool to_head;

static int parse(const uint8_t *p, size_t n, skt_http_resp *r)
{
	static skt_http_field f[FIELDS];
	size_t nf = FIELDS;
	return skt_http_resp_parse((const char *)p, n, to_head, &opts, r, f,
				   &nf);
}

static bool same_resp(const skt_http_resp *a, const skt_http_resp *b)
{
	return a->status == b->status && a->minor == b->minor &&
	       a->content_length == b->content_length &&
	       a->chunked == b->chunked && a->close == b->close &&
	       a->no_body == b->no_body && a->reason_len == b->reason_len;
}

static void check_resp(const skt_http_resp *r)
{
	int s = r->status;
	FUZZ_CHECK(s >= 100 && s <= 599);
	FUZZ_CHECK(r->minor == 0 || r->minor == 1);
	FUZZ_CHECK(r->content_length >= -1 &&
		   r->content_length < INT64_C(1000000000000000000));
	FUZZ_CHECK(!r->chunked || r->content_length == -1);
	FUZZ_CHECK(r->no_body == (to_head || s < 200 || s == 204 || s == 304));
	FUZZ_CHECK(r->close || r->no_body || r->chunked ||
		   r->content_length >= 0);
	FUZZ_CHECK(r->why == SKT_HTTP_OK);
}

/* Parse the head at the front of p; returns its length or an error. */
static int head(const uint8_t *p, size_t n, fuzz_splits *sp, skt_http_resp *r)
{
	const char *s = (const char *)p;
	int rc = parse(p, n, r);
	FUZZ_CHECK(rc > 0 || rc == SKT_EAGAIN || rc == SKT_EMALFORMED ||
		   rc == SKT_ETOOBIG);
	if (rc == SKT_EAGAIN)
		FUZZ_CHECK(n < SKT_HTTP_HEAD_MAX);
	if (rc < 0 && rc != SKT_EAGAIN)
		FUZZ_CHECK(r->why != SKT_HTTP_OK);
	if (rc <= 0)
		return rc;
	size_t len = (size_t)rc;
	FUZZ_CHECK(len <= n && len <= SKT_HTTP_HEAD_MAX);
	FUZZ_CHECK(s[len - 1] == '\n');
	check_resp(r);
	skt_http_resp again;
	FUZZ_CHECK(parse(p, len, &again) == rc);
	FUZZ_CHECK(same_resp(&again, r));
	FUZZ_CHECK(parse(p, len - 1, &again) == SKT_EAGAIN);
	size_t cut = fuzz_splits_next(sp, len - 1);
	FUZZ_CHECK(parse(p, cut, &again) == SKT_EAGAIN);
	return rc;
}

typedef struct fed {
	long rc; /* consumed in all, or the error */
	bool done;
	skt_http_rule why;
	uint64_t body_bytes;
} fed;

/* Feed the body in pieces from sp (whole when sp is NULL) until done,
 * an error or the end of the input. */
static fed body(const uint8_t *p, size_t n, fuzz_splits *sp)
{
	skt_http_chunked c;
	skt_http_chunked_init(&c, &opts);
	fed f = {0, false, SKT_HTTP_OK, 0};
	size_t pos = 0;
	while (!c.done && pos < n) {
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		ssize_t r = skt_http_chunked_feed(&c, (const char *)p + pos, k,
						  NULL, NULL);
		if (r < 0) {
			FUZZ_CHECK(!c.done && c.why != SKT_HTTP_OK);
			FUZZ_CHECK(skt_http_chunked_feed(&c, (const char *)p, n,
							 NULL, NULL) == r);
			f.rc = r;
			f.why = c.why;
			return f;
		}
		FUZZ_CHECK((size_t)r <= k);
		FUZZ_CHECK(c.done || (size_t)r == k);
		pos += (size_t)r;
		FUZZ_CHECK(c.body_bytes <= pos);
	}
	if (c.done)
		FUZZ_CHECK(skt_http_chunked_feed(&c, (const char *)p + pos,
						 n - pos, NULL, NULL) == 0);
	f.rc = (long)pos;
	f.done = c.done;
	f.body_bytes = c.body_bytes;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	bool body_only = flags & 1;
	to_head = flags & 2;
	opts = (skt_http_opts){.line_max = SKT_HTTP_HEAD_MAX,
			       .bare_lf = !(flags & 4)};
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	size_t off = 0;
	if (!body_only) {
		skt_http_resp r;
		int rc = head(in.p, in.n, &sp, &r);
		if (rc <= 0 || !r.chunked || r.no_body)
			return 0;
		off = (size_t)rc;
	}
	fed whole = body(in.p + off, in.n - off, NULL);
	fed split = body(in.p + off, in.n - off, &sp);
	FUZZ_CHECK(whole.rc == split.rc);
	FUZZ_CHECK(whole.why == split.why);
	FUZZ_CHECK(whole.done == split.done);
	FUZZ_CHECK(whole.body_bytes == split.body_bytes);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
