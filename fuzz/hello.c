/* hello.c - fuzz the connection state machine of `sockit serve hello`
 * (src/tools/serve/hello_conn.c) across pipelined requests: heads, bodies
 * (Content-Length and chunked), 100-continue, errors, and the pauses a
 * full output queue causes, fed the way the service feeds it.
 *
 * Input: a stop mask byte (answer i asks to stop when bit i % 8 is set,
 * as a queue above its high-water mark does; the harness then resumes, as
 * the flush mark does), the split sizes (see fuzz_splits_take), then the
 * bytes a client sends.
 *
 * Properties: the answers are the same, in the same order, whether the
 * bytes come whole or split, and with or without stops; every status is
 * one the service documents (100, 200, 400, 413, 414, 431, 501, 505); an
 * error never keeps the connection and nothing is answered after the
 * last answer; a 100 is followed by the answer of the same request or
 * nothing; the bytes kept never exceed HELLO_HEAD_MAX plus one feed; every
 * allocation is freed.
 */
#include "fuzz.h"
#include "msgs.h"

#include "tools/serve/hello_conn.h"

#include <string.h>

#define ANSWERS_MAX 4096

typedef struct run {
	int status[ANSWERS_MAX];
	bool keep[ANSWERS_MAX];
	size_t n;
	uint8_t stop_mask;
	bool closed;
} run;

static bool emit(void *arg, const hello_answer *a)
{
	run *r = arg;
	int s = a->status;
	FUZZ_CHECK(!r->closed);
	FUZZ_CHECK(s == 100 || s == 200 || s == 400 || s == 413 || s == 414 ||
		   s == 431 || s == 501 || s == 505);
	FUZZ_CHECK(s == 200 || s == 100 || !a->keep);
	FUZZ_CHECK(s != 100 || a->keep);
	if (r->n > 0 && r->status[r->n - 1] == 100)
		FUZZ_CHECK(s != 100);
	if (r->n < ANSWERS_MAX) {
		r->status[r->n] = s;
		r->keep[r->n] = a->keep;
	}
	r->closed = !a->keep;
	size_t i = r->n++;
	return !(r->stop_mask >> (i % 8) & 1);
}

/* Feed the stream in pieces from sp (whole when NULL). */
static void feed(const uint8_t *p, size_t n, fuzz_splits *sp, uint8_t mask,
		 run *r)
{
	memset(r, 0, sizeof(*r));
	r->stop_mask = mask;
	hello_conn h;
	hello_conn_init(&h);
	size_t pos = 0;
	while (pos < n) {
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		int rc =
			hello_conn_input(&h, (const char *)p + pos, k, emit, r);
		pos += k;
		/* The flush mark: resume with what was kept, maybe again. */
		while (rc == HELLO_STOPPED)
			rc = hello_conn_input(&h, NULL, 0, emit, r);
		FUZZ_CHECK(rc == HELLO_MORE || rc == HELLO_CLOSED);
		FUZZ_CHECK(h.in.len <= HELLO_HEAD_MAX + k);
		FUZZ_CHECK((rc == HELLO_CLOSED) == r->closed);
		if (rc == HELLO_CLOSED)
			break;
	}
	hello_conn_fini(&h);
}

static bool same(const run *a, const run *b)
{
	size_t n = a->n < ANSWERS_MAX ? a->n : ANSWERS_MAX;
	return a->n == b->n && a->closed == b->closed &&
	       memcmp(a->status, b->status, n * sizeof(int)) == 0 &&
	       memcmp(a->keep, b->keep, n * sizeof(bool)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static run whole, split, stopped;
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t mask = fuzz_u8(&in);
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);
	feed(in.p, in.n, NULL, 0, &whole);
	feed(in.p, in.n, &sp, 0, &split);
	FUZZ_CHECK(same(&whole, &split));
	feed(in.p, in.n, &sp, mask, &stopped);
	FUZZ_CHECK(same(&whole, &stopped));
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
