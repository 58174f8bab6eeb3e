/* http_conn.c - fuzz the request framing of `sockit serve http`
 * (src/tools/serve/http_conn.c) across pipelined requests: heads, bodies
 * skipped by Content-Length or chunked, errors, and the pauses a file
 * being sent causes, fed the way the service feeds it.
 *
 * Input: a stop mask byte (head i asks to stop when bit i % 8 is set, as
 * a file answer does; the harness then resumes, as the flush mark does),
 * an end mask byte (head i ends the connection when bit i % 8 is set, as
 * an answer with "Connection: close" does), the split sizes
 * (fuzz_splits_take), then the client's bytes.
 *
 * Properties: the heads (their status, method and target) are the same,
 * in the same order, whether the bytes come whole or split, and with or
 * without stops; a request's fields lie inside what was fed; every error
 * status is one the codec documents and ends the connection; nothing is
 * emitted after the end; the bytes kept never exceed HTTP_HEAD_MAX plus
 * one feed; every allocation is freed.
 */
#include "fuzz.h"
#include "msgs.h"

#include "tools/serve/http_conn.h"

#include <string.h>

#define HEADS_MAX 4096

typedef struct run {
	int status[HEADS_MAX];
	uint32_t sum[HEADS_MAX]; /* of method and target */
	size_t n;
	uint8_t stop_mask, end_mask;
	bool closed;
	http_conn *h;
} run;

static uint32_t hash(uint32_t x, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x = (x ^ (uint8_t)p[i]) * 16777619u;
	return x;
}

static bool emit(void *arg, const http_in *in)
{
	run *r = arg;
	int s = in->status;
	FUZZ_CHECK(!r->closed);
	FUZZ_CHECK(s == 0 || s == 400 || s == 413 || s == 414 || s == 431 ||
		   s == 501 || s == 505);
	FUZZ_CHECK(s == 0 || !in->keep);
	uint32_t sum = 2166136261u;
	if (s == 0) {
		FUZZ_CHECK(in->req != NULL && in->nfields <= HTTP_FIELDS_MAX);
		sum = hash(sum, in->req->method, in->req->method_len);
		sum = hash(sum, in->req->target, in->req->target_len);
		for (size_t i = 0; i < in->nfields; i++)
			sum = hash(sum, in->fields[i].value,
				   in->fields[i].value_len);
	}
	size_t i = r->n++;
	if (i < HEADS_MAX) {
		r->status[i] = s;
		r->sum[i] = sum;
	}
	if (s == 0 && (r->end_mask >> (i % 8) & 1))
		http_conn_end(r->h);
	r->closed = s != 0 || !in->keep || (r->end_mask >> (i % 8) & 1);
	return !(r->stop_mask >> (i % 8) & 1);
}

static void feed(const uint8_t *p, size_t n, fuzz_splits *sp, uint8_t stop,
		 uint8_t end, run *r)
{
	memset(r, 0, sizeof(*r));
	r->stop_mask = stop;
	r->end_mask = end;
	http_conn h;
	http_conn_init(&h);
	r->h = &h;
	size_t pos = 0;
	while (pos < n) {
		size_t k = sp != NULL ? fuzz_splits_next(sp, n - pos) : n - pos;
		int rc = http_conn_input(&h, (const char *)p + pos, k, emit, r);
		pos += k;
		while (rc == HTTP_STOPPED)
			rc = http_conn_input(&h, NULL, 0, emit, r);
		FUZZ_CHECK(rc == HTTP_MORE || rc == HTTP_CLOSED);
		FUZZ_CHECK(h.in.len <= HTTP_HEAD_MAX + k);
		if (rc == HTTP_CLOSED)
			break;
	}
	http_conn_fini(&h);
}

static bool same(const run *a, const run *b)
{
	size_t n = a->n < HEADS_MAX ? a->n : HEADS_MAX;
	return a->n == b->n && a->closed == b->closed &&
	       memcmp(a->status, b->status, n * sizeof(int)) == 0 &&
	       memcmp(a->sum, b->sum, n * sizeof(uint32_t)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static run whole, split, stopped;
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t stop = fuzz_u8(&in);
	uint8_t end = fuzz_u8(&in);
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);
	feed(in.p, in.n, NULL, 0, end, &whole);
	feed(in.p, in.n, &sp, 0, end, &split);
	FUZZ_CHECK(same(&whole, &split));
	feed(in.p, in.n, &sp, stop, end, &stopped);
	FUZZ_CHECK(same(&whole, &stopped));
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
