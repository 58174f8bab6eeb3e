/* loop_read_test.c - read requests on a stream, on both backends: a
 * script of read-line, read-until, read-frame, read-exact and a continuous
 * read, fed with the input split at every byte and one byte at a time;
 * then the limits (ETOOBIG), early ends (EOF, EPARTIAL), bytes kept after
 * an error, large reads, and requests made outside any callback. */
#define LOOP_SUITE loop_read
#include "looptest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stream on one end of a socketpair (tcp: a loopback TCP pair); the
 * other end is returned for the test to write. */
static int pair(skt_loop *l, skt_stream **s, bool tcp)
{
	int fds[2];
	if (tcp) {
		uint16_t port;
		int lfd = sktest_listen_tcp(false, &port);
		skt_addr a;
		skt_sock_local(lfd, &a);
		fds[1] = skt_connect_one(&a, SOCK_STREAM, 2000);
		fds[0] = skt_accept(lfd, NULL, 2000);
		skt_close(lfd);
	} else {
		cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
	}
	cr_assert_geq(fds[0], 0);
	cr_assert_geq(fds[1], 0);
	cr_assert_eq(skt_stream_new(l, s, fds[0]), 0);
	return fds[1];
}

/* ---- The script ---- */

static const char INPUT[] = "alpha\n"
			    "\n"
			    "GET / HTTP/1.0\r\nHost: x\r\n\r\n"
			    "\0\0\0\5hello"
			    "\0\0\0\0"
			    "1234567"
			    "tail-bytes";
#define INPUT_LEN (sizeof(INPUT) - 1)

static const char EXPECT[] = "L6:alpha\n|L1:\n|"
			     "U27:GET / HTTP/1.0\r\nHost: x\r\n\r\n|"
			     "F5:hello|F0:|X7:1234567|C10:tail-bytes|E";

struct script {
	int step;
	char log[512];
	size_t n;
	char chunk[64];
	size_t nchunk;
	bool done;
};

static void logf_(struct script *sc, char kind, const uint8_t *d, size_t len)
{
	sc->n += (size_t)snprintf(sc->log + sc->n, sizeof(sc->log) - sc->n,
				  "%c%zu:", kind, len);
	memcpy(sc->log + sc->n, d, len);
	sc->n += len;
	sc->log[sc->n++] = '|';
}

static void script_cb(skt_stream *s, int status, const uint8_t *d, size_t len);

/* Ask for step sc->step. */
static void next(skt_stream *s, struct script *sc)
{
	int r = 0;
	switch (sc->step) {
	case 0:
	case 1:
		r = skt_stream_read_line(s, 0, script_cb);
		break;
	case 2:
		r = skt_stream_read_until(s, "\r\n\r\n", 4, 100, script_cb);
		break;
	case 3:
	case 4:
		r = skt_stream_read_frame(s, 0, script_cb);
		break;
	case 5:
		r = skt_stream_read_exact(s, 7, script_cb);
		break;
	default:
		r = skt_stream_read_start(s, script_cb);
		break;
	}
	cr_assert_eq(r, 0, "step %d: %s", sc->step, skt_strerror(r));
}

static void script_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct script *sc = skt_stream_udata(s);
	static const char kinds[] = "LLUFFX";
	if (sc->step >= 6) {
		if (status == 0) {
			memcpy(sc->chunk + sc->nchunk, d, len);
			sc->nchunk += len;
			return;
		}
		cr_assert_eq(status, SKT_EOF, "%s", skt_errname(status));
		logf_(sc, 'C', (const uint8_t *)sc->chunk, sc->nchunk);
		sc->log[sc->n++] = 'E';
		sc->done = true;
		skt_stream_free(s);
		return;
	}
	cr_assert_eq(status, 0, "step %d: %s", sc->step, skt_errname(status));
	logf_(sc, kinds[sc->step], d, len);
	sc->step++;
	next(s, sc);
}

static void settle(skt_loop *l)
{
	for (int i = 0; i < 4; i++)
		skt_loop_run(l, SKT_RUN_NOWAIT);
}

static void run_script(skt_backend be, size_t split, bool tcp)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = pair(l, &s, tcp);
	struct script sc;
	memset(&sc, 0, sizeof(sc));
	skt_stream_set_udata(s, &sc);
	next(s, &sc);
	cr_assert_eq(skt_send_all(peer, INPUT, split, 1000, NULL), 0);
	settle(l);
	cr_assert_eq(skt_send_all(peer, INPUT + split, INPUT_LEN - split, 1000,
				  NULL),
		     0);
	skt_shutdown_write(peer);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	cr_assert(sc.done, "split %zu: log so far %s", split, sc.log);
	sc.log[sc.n] = '\0';
	cr_assert_eq(memcmp(sc.log, EXPECT, sizeof(EXPECT)), 0,
		     "split %zu:\n got %s\nwant %s", split, sc.log, EXPECT);
	skt_loop_free(l);
	skt_close(peer);
}

LOOP_TEST(script_split_at_every_byte)
{
	for (size_t k = 0; k <= INPUT_LEN; k++)
		run_script(be, k, false);
	run_script(be, 7, true);
	run_script(be, 40, true);
}

static void noop_tick(skt_timer *t, void *arg)
{
	(void)t;
	(void)arg;
}

LOOP_TEST(script_one_byte_at_a_time_over_tcp)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = pair(l, &s, true);
	struct script sc;
	memset(&sc, 0, sizeof(sc));
	skt_stream_set_udata(s, &sc);
	next(s, &sc);
	/* A ticking timer bounds each wait: a byte may still be on its way
	 * through loopback when the loop looks. */
	skt_timer *tick;
	cr_assert_eq(skt_timer_new(l, &tick, noop_tick, NULL), 0);
	skt_timer_start(tick, 2, 2);
	for (size_t i = 0; i < INPUT_LEN; i++) {
		cr_assert_eq(skt_send_all(peer, INPUT + i, 1, 1000, NULL), 0);
		cr_assert_geq(skt_loop_run(l, SKT_RUN_ONCE), 0);
	}
	skt_timer_free(tick);
	skt_shutdown_write(peer);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	sc.log[sc.n] = '\0';
	cr_assert_eq(memcmp(sc.log, EXPECT, sizeof(EXPECT)), 0, "got %s",
		     sc.log);
	skt_loop_free(l);
	skt_close(peer);
}

/* ---- Limits and early ends ---- */

struct result {
	int status;
	char data[64];
	size_t len;
	int calls;
	char rest[64];
	size_t nrest;
	int rest_status;
};

static void rest_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct result *r = skt_stream_udata(s);
	if (status == 0) {
		memcpy(r->rest + r->nrest, d, len);
		r->nrest += len;
		return;
	}
	r->rest_status = status;
	skt_stream_free(s);
}

/* Record the outcome, then drain what stays buffered with a continuous
 * read (bytes shown with an error must still be there). */
static void record_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct result *r = skt_stream_udata(s);
	r->calls++;
	r->status = status;
	r->len = len;
	if (len > 0)
		memcpy(r->data, d,
		       len < sizeof(r->data) ? len : sizeof(r->data));
	if (status < 0 && status != SKT_EOF && skt_stream_buffered(s) == 0)
		cr_assert_fail("bytes shown with %s were dropped",
			       skt_errname(status));
	cr_assert_eq(skt_stream_read_start(s, rest_cb), 0);
}

static struct result feed(skt_backend be, const char *in, size_t n,
			  int (*ask)(skt_stream *s))
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = pair(l, &s, false);
	struct result r;
	memset(&r, 0, sizeof(r));
	skt_stream_set_udata(s, &r);
	cr_assert_eq(ask(s), 0);
	if (n > 0)
		cr_assert_eq(skt_send_all(peer, in, n, 1000, NULL), 0);
	skt_shutdown_write(peer);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	skt_loop_free(l);
	skt_close(peer);
	return r;
}

static int ask_line8(skt_stream *s)
{
	return skt_stream_read_line(s, 8, record_cb);
}

static int ask_frame100(skt_stream *s)
{
	return skt_stream_read_frame(s, 100, record_cb);
}

static int ask_exact10(skt_stream *s)
{
	return skt_stream_read_exact(s, 10, record_cb);
}

static int ask_line(skt_stream *s)
{
	return skt_stream_read_line(s, 0, record_cb);
}

static int ask_frame(skt_stream *s)
{
	return skt_stream_read_frame(s, 0, record_cb);
}

LOOP_TEST(line_longer_than_max_is_too_big_and_kept)
{
	struct result r = feed(be, "0123456789\n", 11, ask_line8);
	cr_assert_eq(r.status, SKT_ETOOBIG, "%s", skt_errname(r.status));
	cr_assert_geq(r.len, 8);
	cr_assert_eq(r.nrest, 11);
	cr_assert_eq(memcmp(r.rest, "0123456789\n", 11), 0);
	cr_assert_eq(r.rest_status, SKT_EOF);
}

LOOP_TEST(line_of_exactly_max_fits)
{
	struct result r = feed(be, "0123456\nx", 9, ask_line8);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(r.len, 8);
	cr_assert_eq(r.nrest, 1);
}

LOOP_TEST(frame_claiming_too_much_is_refused_at_the_header)
{
	struct result r = feed(be,
			       "\0\0\x03\xe8"
			       "abc",
			       7, ask_frame100);
	cr_assert_eq(r.status, SKT_ETOOBIG);
	cr_assert_eq(r.nrest, 7);
}

LOOP_TEST(end_inside_a_message_is_partial)
{
	struct result r = feed(be, "abc", 3, ask_exact10);
	cr_assert_eq(r.status, SKT_EPARTIAL);
	cr_assert_eq(r.len, 3);
	cr_assert_eq(memcmp(r.data, "abc", 3), 0);
	cr_assert_eq(r.nrest, 3, "the partial bytes stay readable");
	cr_assert_eq(r.rest_status, SKT_EOF);

	r = feed(be, "no newline", 10, ask_line);
	cr_assert_eq(r.status, SKT_EPARTIAL);
	cr_assert_eq(r.len, 10);

	r = feed(be, "\0\0", 2, ask_frame);
	cr_assert_eq(r.status, SKT_EPARTIAL);
	cr_assert_eq(r.len, 2);
}

LOOP_TEST(end_before_anything_is_eof)
{
	struct result r = feed(be, "", 0, ask_line);
	cr_assert_eq(r.status, SKT_EOF);
	cr_assert_eq(r.len, 0);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.rest_status, SKT_EOF, "EOF again for the next read");
}

/* ---- Big reads ---- */

struct big {
	int fd;
	uint8_t *data;
	size_t len;
};

static void *write_big(void *arg)
{
	struct big *b = arg;
	/* A failure shows as a short frame on the main thread. */
	skt_send_all(b->fd, b->data, b->len, 5000, NULL);
	skt_shutdown_write(b->fd);
	return NULL;
}

static void big_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct big *b = skt_stream_udata(s);
	cr_assert_eq(status, 0, "%s", skt_errname(status));
	cr_assert_eq(len, b->len - 4);
	cr_assert_eq(memcmp(d, b->data + 4, len), 0, "payload differs");
	skt_stream_free(s);
}

LOOP_TEST(frame_of_a_few_megabytes)
{
	skt_loop *l = looptest_new(be);
	skt_stream *s;
	int peer = pair(l, &s, true);
	size_t payload = 3 << 20;
	struct big b = {peer, malloc(payload + 4), payload + 4};
	skt_frame_header(b.data, payload, 0);
	for (size_t i = 0; i < payload; i++)
		b.data[4 + i] = (uint8_t)(i * 7 + (i >> 11));
	skt_stream_set_udata(s, &b);
	cr_assert_eq(skt_stream_read_frame(s, 0, big_cb), 0);
	pthread_t th;
	pthread_create(&th, NULL, write_big, &b);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	pthread_join(th, NULL);
	free(b.data);
	skt_loop_free(l);
	skt_close(peer);
}

/* ---- Requests from outside any callback ---- */

struct outside {
	skt_stream *s;
	int calls;
	bool in_call;
};

static void outside_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct outside *o = skt_stream_udata(s);
	cr_assert(!o->in_call, "callback ran inside the request call");
	cr_assert_eq(status, 0);
	cr_assert_eq(len, 4);
	o->calls++;
	(void)d;
}

static void ask_from_timer(skt_timer *t, void *arg)
{
	struct outside *o = arg;
	o->in_call = true;
	cr_assert_eq(skt_stream_read_exact(o->s, 4, outside_cb), 0);
	o->in_call = false;
	if (o->calls == 2)
		skt_stream_free(o->s);
	else
		skt_timer_start(t, 1, 0);
	if (o->calls == 2)
		skt_timer_free(t);
}

LOOP_TEST(request_made_outside_callbacks_with_bytes_buffered)
{
	skt_loop *l = looptest_new(be);
	struct outside o = {NULL, 0, false};
	int peer = pair(l, &o.s, false);
	skt_stream_set_udata(o.s, &o);
	cr_assert_eq(skt_send_all(peer, "abcdefgh", 8, 1000, NULL), 0);
	/* The first request reads all 8 bytes; 4 stay buffered. */
	cr_assert_eq(skt_stream_read_exact(o.s, 4, outside_cb), 0);
	settle(l);
	cr_assert_eq(o.calls, 1);
	cr_assert_eq(skt_stream_buffered(o.s), 4);
	skt_timer *t;
	cr_assert_eq(skt_timer_new(l, &t, ask_from_timer, &o), 0);
	skt_timer_start(t, 1, 0);
	cr_assert_geq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	cr_assert_eq(o.calls, 2);
	skt_loop_free(l);
	skt_close(peer);
}

/* ---- From a blocking connection ---- */

static void greeting_cb(skt_stream *s, int status, const uint8_t *d, size_t len)
{
	struct result *r = skt_stream_udata(s);
	cr_assert_eq(status, 0, "%s", skt_errname(status));
	memcpy(r->data + r->len, d, len);
	r->len += len;
	if (++r->calls < 2) {
		cr_assert_eq(skt_stream_read_line(s, 0, greeting_cb), 0);
		return;
	}
	skt_stream_free(s);
}

LOOP_TEST(blocking_connection_moves_onto_the_loop_with_its_bytes)
{
	skt_loop *l = looptest_new(be);
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
	cr_assert_eq(
		skt_send_all(fds[1], "HELO x\nfirst\nsecond\n", 20, 1000, NULL),
		0);
	skt_conn *c;
	cr_assert_eq(skt_conn_new(&c, fds[0], 0), 0);
	skt_conn_set_timeout(c, 1000);
	const uint8_t *line;
	cr_assert_eq(skt_conn_read_line(c, 0, &line), 7); /* blocking */
	cr_assert_gt(skt_conn_buffered(c), 0);
	skt_stream *s;
	cr_assert_eq(skt_stream_from_conn(l, &s, c), 0);
	struct result r;
	memset(&r, 0, sizeof(r));
	skt_stream_set_udata(s, &r);
	cr_assert_eq(skt_stream_read_line(s, 0, greeting_cb), 0);
	skt_close(fds[1]);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 0);
	cr_assert_eq(r.calls, 2);
	cr_assert_eq(r.len, 13);
	cr_assert_eq(memcmp(r.data, "first\nsecond\n", 13), 0);
	skt_loop_free(l);
}
