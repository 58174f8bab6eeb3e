/* frame.c - fuzz the length-prefixed frame decoder (skt_frame_decode),
 * fed the same stream twice: in one call per message, and cut into
 * fuzzer-chosen pieces.
 *
 * Input: one byte choosing max (0: SKT_FRAME_MAX_DEFAULT, else a small
 * limit from the next two bytes, so ETOOBIG is reachable), the split
 * sizes (see fuzz_splits_take), then the stream.
 *
 * Properties: both feeds return the same messages and end with the same
 * error; a call that returns no message consumed all of its input and a
 * call that returns one consumed no more than it was given; the
 * decoder's buffer never outgrows max nor twice the bytes fed, whatever
 * a header claims; every message re-encodes with skt_frame_header.
 */
#include "msgs.h"

#include "sockit/sockit.h"

#include <string.h>

static void feed(skt_frame_decoder *d, const uint8_t *p, size_t n,
		 fuzz_splits *sp, fuzz_msgs *out)
{
	size_t fed = 0, pos = 0;
	while (pos < n) {
		size_t chunk =
			sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		size_t off = 0;
		fed += chunk;
		while (off < chunk) {
			const uint8_t *msg;
			size_t len;
			ssize_t r = skt_frame_decode(d, p + pos + off,
						     chunk - off, &msg, &len);
			if (r < 0) {
				FUZZ_CHECK(r == SKT_ETOOBIG);
				FUZZ_CHECK(skt_frame_decode(d, p, 0, &msg,
							    &len) == r);
				out->err = (int)r;
				return;
			}
			FUZZ_CHECK((size_t)r <= chunk - off);
			FUZZ_CHECK(msg != NULL || (size_t)r == chunk - off);
			FUZZ_CHECK(d->cap <= d->max && d->cap <= 2 * fed);
			off += (size_t)r;
			if (msg != NULL) {
				uint8_t hdr[SKT_FRAME_HEADER];
				FUZZ_CHECK(skt_frame_header(hdr, len, d->max) ==
					   0);
				fuzz_msgs_add(out, msg, len);
			}
		}
		pos += chunk;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	size_t max = fuzz_u8(&in) & 1 ? fuzz_u16(&in) : 0;
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);

	fuzz_msgs whole = {0}, split = {0};
	skt_frame_decoder d;
	skt_frame_decoder_init(&d, max);
	feed(&d, in.p, in.n, NULL, &whole);
	skt_frame_decoder_fini(&d);
	skt_frame_decoder_init(&d, max);
	feed(&d, in.p, in.n, &sp, &split);
	skt_frame_decoder_fini(&d);

	FUZZ_CHECK(fuzz_msgs_equal(&whole, &split));
	fuzz_msgs_free(&whole);
	fuzz_msgs_free(&split);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
