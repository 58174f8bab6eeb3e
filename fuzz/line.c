/* line.c - fuzz the delimited line decoder (skt_line_decode), fed the
 * same stream twice: in one call per line, and cut into fuzzer-chosen
 * pieces.
 *
 * Input: the delimiter byte, one byte choosing max (0:
 * SKT_LINE_MAX_DEFAULT, else a small limit from the next two bytes, so
 * ETOOBIG is reachable), the split sizes (see fuzz_splits_take), then the
 * stream.
 *
 * Properties: both feeds return the same lines and end with the same
 * error; a line never holds the delimiter nor exceeds max; a call that
 * returns no line consumed all of its input, one that returns a line
 * consumed through its delimiter only; the buffer never outgrows max
 * nor twice the bytes fed.
 */
#include "msgs.h"

#include "sockit/sockit.h"

#include <string.h>

static void feed(skt_line_decoder *d, const uint8_t *p, size_t n,
		 fuzz_splits *sp, fuzz_msgs *out)
{
	size_t fed = 0, pos = 0;
	while (pos < n) {
		size_t chunk =
			sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		size_t off = 0;
		fed += chunk;
		while (off < chunk) {
			const uint8_t *line;
			size_t len;
			ssize_t r = skt_line_decode(d, p + pos + off,
						    chunk - off, &line, &len);
			if (r < 0) {
				FUZZ_CHECK(r == SKT_ETOOBIG);
				FUZZ_CHECK(skt_line_decode(d, p, 1, &line,
							   &len) == r);
				out->err = (int)r;
				return;
			}
			FUZZ_CHECK(r > 0 && (size_t)r <= chunk - off);
			FUZZ_CHECK(line != NULL || (size_t)r == chunk - off);
			FUZZ_CHECK(d->cap <= d->max && d->cap <= 2 * fed);
			if (line != NULL) {
				FUZZ_CHECK(len <= d->max);
				FUZZ_CHECK(memchr(line, d->delim, len) == NULL);
				FUZZ_CHECK(p[pos + off + (size_t)r - 1] ==
					   d->delim);
				fuzz_msgs_add(out, line, len);
			}
			off += (size_t)r;
		}
		pos += chunk;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t delim = fuzz_u8(&in);
	size_t max = fuzz_u8(&in) & 1 ? fuzz_u16(&in) : 0;
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	fuzz_msgs whole = {0}, split = {0};
	skt_line_decoder d;
	skt_line_decoder_init(&d, max, delim);
	feed(&d, in.p, in.n, NULL, &whole);
	skt_line_decoder_fini(&d);
	skt_line_decoder_init(&d, max, delim);
	feed(&d, in.p, in.n, &sp, &split);
	skt_line_decoder_fini(&d);

	FUZZ_CHECK(fuzz_msgs_equal(&whole, &split));
	fuzz_msgs_free(&whole);
	fuzz_msgs_free(&split);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
