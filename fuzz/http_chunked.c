/* http_chunked.c - fuzz the chunked body decoder (skt_http_chunked_feed)
 * in both of its modes: payload counted and skipped (data NULL), and
 * payload pointed at, one span per call, as a server that reads a
 * request body without copying it uses it.
 *
 * Input: a flags byte (bit 0: lone LF line ends allowed; bits 1-2 pick
 * head_max: the default, 16, 64 or 1024), the split sizes (see
 * fuzz_splits_take), then the body.
 *
 * Properties: a call consumes at most what it is given, all of it in the
 * counting mode unless the body ended; nothing after done; an error is
 * sticky, names a rule, and is one of the two documented codes; each span
 * lies inside the bytes that call consumed, and the spans add up to
 * body_bytes, which never exceeds the bytes consumed; whole, split and
 * span-by-span feeds agree on consumption, done, the rule and the payload
 * (its bytes too, by checksum).
 */
#include "fuzz.h"
#include "msgs.h"

#include "sockit/http.h"

static skt_http_opts opts;

typedef struct fed {
	long rc; /* consumed in all, or the error */
	bool done;
	skt_http_rule why;
	uint64_t body_bytes, sum;
} fed;

/* Feed in pieces from sp (whole when NULL), spans reported when spans. */
static fed feed(const uint8_t *p, size_t n, fuzz_splits *sp, bool spans)
{
	skt_http_chunked c;
	skt_http_chunked_init(&c, &opts);
	fed f = {0, false, SKT_HTTP_OK, 0, 0};
	size_t pos = 0;
	uint64_t seen = 0;
	while (!c.done && pos < n) {
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		const char *in = (const char *)p + pos, *d = NULL;
		size_t dlen = 0;
		ssize_t r = skt_http_chunked_feed(&c, in, k, spans ? &d : NULL,
						  spans ? &dlen : NULL);
		if (r < 0) {
			FUZZ_CHECK(r == SKT_EMALFORMED || r == SKT_ETOOBIG);
			FUZZ_CHECK(!c.done && c.why != SKT_HTTP_OK);
			FUZZ_CHECK(skt_http_chunked_feed(&c, in, k, NULL,
							 NULL) == r);
			f.rc = r;
			f.why = c.why;
			return f;
		}
		FUZZ_CHECK((size_t)r <= k);
		if (!spans)
			FUZZ_CHECK(c.done || (size_t)r == k);
		if (dlen > 0) {
			FUZZ_CHECK(d >= in && d + dlen <= in + r);
			for (size_t i = 0; i < dlen; i++)
				f.sum = f.sum * 31 + (uint8_t)d[i];
		}
		seen += dlen;
		pos += (size_t)r;
		FUZZ_CHECK(c.body_bytes <= pos);
		/* A span-mode call makes progress unless the input is gone. */
		FUZZ_CHECK(r > 0 || k == 0 || c.done);
	}
	if (spans)
		FUZZ_CHECK(seen == c.body_bytes);
	if (c.done)
		FUZZ_CHECK(skt_http_chunked_feed(&c, (const char *)p + pos,
						 n - pos, NULL, NULL) == 0);
	f.rc = (long)pos;
	f.done = c.done;
	f.body_bytes = c.body_bytes;
	return f;
}

static bool same(const fed *a, const fed *b, bool sums)
{
	return a->rc == b->rc && a->done == b->done && a->why == b->why &&
	       a->body_bytes == b->body_bytes && (!sums || a->sum == b->sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t heads[4] = {0, 16, 64, 1024};
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	opts = (skt_http_opts){.head_max = heads[(flags >> 1) & 3],
			       .bare_lf = flags & 1};
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	fed whole = feed(in.p, in.n, NULL, false);
	fed split = feed(in.p, in.n, &sp, false);
	fed spans = feed(in.p, in.n, NULL, true);
	fed both = feed(in.p, in.n, &sp, true);
	FUZZ_CHECK(same(&whole, &split, false));
	FUZZ_CHECK(same(&whole, &spans, false));
	FUZZ_CHECK(same(&spans, &both, true));
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
