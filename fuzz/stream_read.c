/* stream_read.c - fuzz the read layer of streams on the loop
 * (src/loop/stream_read.c): read-exact, read-until and read-frame over a
 * real socket, the bytes arriving in fuzzer-chosen pieces (each piece
 * written, then the loop run until it has read it), against a reference
 * that cuts the whole stream at once.
 *
 * Input: a mode byte (request kind, backend), a parameter (exact: the
 * size; until: the delimiter's length and max; frame: max), the
 * delimiter's bytes, the split sizes (fuzz_splits_take), then the stream.
 * At the end the writer closes, so the stream's end reaches the read.
 *
 * Properties: the messages delivered, and how the stream ended (SKT_EOF,
 * SKT_EPARTIAL with the bytes left, SKT_ETOOBIG), are what the reference
 * says, however the bytes were cut; nothing is left allocated once the
 * loop is freed.
 */
#include "msgs.h"

#include "sockit/sockit.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MODE_EXACT, MODE_UNTIL, MODE_FRAME };

struct req {
	int mode;
	size_t n; /* exact: size; until and frame: max */
	uint8_t delim[4];
	size_t dlen;
};

struct run {
	const struct req *q;
	fuzz_msgs got;
	fuzz_msgs partial; /* the bytes SKT_EPARTIAL showed */
	bool ended;
};

static void on_read(skt_stream *s, int status, const uint8_t *data, size_t len);

static int ask(skt_stream *s, const struct req *q)
{
	switch (q->mode) {
	case MODE_EXACT:
		return skt_stream_read_exact(s, q->n, on_read);
	case MODE_UNTIL:
		return skt_stream_read_until(s, q->delim, q->dlen, q->n,
					     on_read);
	default:
		return skt_stream_read_frame(s, q->n, on_read);
	}
}

static void on_read(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	struct run *r = skt_stream_udata(s);
	if (status == 0) {
		fuzz_msgs_add(&r->got, data, len);
		FUZZ_CHECK(ask(s, r->q) == 0);
		return;
	}
	r->got.err = status;
	r->ended = true;
	if (status == SKT_EPARTIAL) {
		FUZZ_CHECK(len > 0);
		fuzz_msgs_add(&r->partial, data, len);
	}
}

/* The reference: cut p[0, n) as the request would, then say how it
 * ends. */
static void reference(const struct req *q, const uint8_t *p, size_t n,
		      fuzz_msgs *m, size_t *rest)
{
	size_t at = 0;
	for (;;) {
		size_t left = n - at;
		const uint8_t *s = p + at;
		if (q->mode == MODE_EXACT) {
			if (left < q->n)
				break;
			fuzz_msgs_add(m, s, q->n);
			at += q->n;
		} else if (q->mode == MODE_UNTIL) {
			size_t lim = left < q->n ? left : q->n;
			const uint8_t *hit =
				lim >= q->dlen
					? memmem(s, lim, q->delim, q->dlen)
					: NULL;
			if (hit != NULL) {
				size_t len = (size_t)(hit - s) + q->dlen;
				fuzz_msgs_add(m, s, len);
				at += len;
				continue;
			}
			if (left >= q->n) {
				m->err = SKT_ETOOBIG;
				return;
			}
			break;
		} else {
			if (left < 4)
				break;
			size_t len = (size_t)s[0] << 24 | (size_t)s[1] << 16 |
				     (size_t)s[2] << 8 | s[3];
			if (len > q->n) {
				m->err = SKT_ETOOBIG;
				return;
			}
			if (left - 4 < len)
				break;
			fuzz_msgs_add(m, s + 4, len);
			at += 4 + len;
		}
	}
	*rest = n - at;
	m->err = *rest > 0 ? SKT_EPARTIAL : SKT_EOF;
}

/* Run the loop without blocking until the stream has read what was
 * written (a few turns: a stream reads at most 32 times a turn). */
static void settle(skt_loop *l)
{
	for (int i = 0; i < 8; i++)
		FUZZ_CHECK(skt_loop_run(l, SKT_RUN_NOWAIT) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	uint8_t param = fuzz_u8(&in);
	struct req q = {.mode = mode % 3};
	if (q.mode == MODE_EXACT) {
		q.n = 1 + param % 64;
	} else if (q.mode == MODE_UNTIL) {
		q.dlen = 1 + param % 3;
		q.n = q.dlen + param / 4; /* max at least the delimiter */
		for (size_t i = 0; i < q.dlen; i++)
			q.delim[i] = fuzz_u8(&in);
	} else {
		q.n = param; /* max 0: the default, 16 MiB */
		if (q.n == 0)
			q.n = SKT_FRAME_MAX_DEFAULT;
	}
	fuzz_splits sp;
	fuzz_splits_take(&sp, &in);
	const uint8_t *stream = in.p;
	size_t n = in.n;

	fuzz_msgs want = {0};
	size_t rest = 0;
	reference(&q, stream, n, &want, &rest);

	skt_loop_opts lo = {0};
	lo.backend = mode & 0x80 ? SKT_BACKEND_POLL : SKT_BACKEND_EPOLL;
	skt_loop *l;
	FUZZ_CHECK(skt_loop_new(&l, &lo) == 0);
	int fds[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) ==
		   0);
	skt_stream *s;
	FUZZ_CHECK(skt_stream_new(l, &s, fds[0]) == 0);
	struct run r = {.q = &q};
	skt_stream_set_udata(s, &r);
	FUZZ_CHECK(ask(s, &q) == 0);
	for (size_t pos = 0; pos < n && !r.ended;) {
		size_t chunk = fuzz_splits_next(&sp, n - pos);
		FUZZ_CHECK(write(fds[1], stream + pos, chunk) ==
			   (ssize_t)chunk);
		pos += chunk;
		settle(l);
	}
	close(fds[1]);
	settle(l);
	FUZZ_CHECK(r.ended);
	FUZZ_CHECK(r.got.err == want.err);
	if (want.err == SKT_ETOOBIG) {
		/* The messages before it; what is shown with it depends on
		 * what had arrived. */
		want.err = r.got.err;
	}
	FUZZ_CHECK(fuzz_msgs_equal(&r.got, &want));
	if (want.err == SKT_EPARTIAL) {
		FUZZ_CHECK(r.partial.n == 1 && r.partial.used == rest);
		FUZZ_CHECK(memcmp(r.partial.data, stream + n - rest, rest) ==
			   0);
	}
	skt_stream_free(s);
	skt_loop_free(l);
	fuzz_msgs_free(&r.got);
	fuzz_msgs_free(&r.partial);
	fuzz_msgs_free(&want);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
