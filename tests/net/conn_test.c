/* conn_test.c - the buffered connection over real sockets: lines arriving
 * in small pieces, limits that keep the bytes readable, frames, end of
 * stream, timeouts that bound a whole call, and the writing side. */
#include "sktest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void socket_pair(int fds[2])
{
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
}

static void tcp_pair(int fds[2])
{
	int lfd = skt_listen(NULL, "0", NULL);
	cr_assert_geq(lfd, 0, "listen: %s", skt_strerror(lfd));
	skt_addr a;
	cr_assert_eq(skt_sock_local(lfd, &a), 0);
	fds[0] = skt_connect_one(&a, SOCK_STREAM, 2000);
	cr_assert_geq(fds[0], 0, "connect: %s", skt_strerror(fds[0]));
	fds[1] = skt_accept(lfd, NULL, 2000);
	cr_assert_geq(fds[1], 0, "accept: %s", skt_strerror(fds[1]));
	skt_close(lfd);
}

static skt_conn *conn_on(int fd, size_t bufsize)
{
	skt_conn *c;
	int rc = skt_conn_new(&c, fd, bufsize);
	cr_assert_eq(rc, 0, "conn_new: %s", skt_strerror(rc));
	return c;
}

static void send_str(int fd, const char *s)
{
	cr_assert_eq(skt_send_all(fd, s, strlen(s), 1000, NULL), 0);
}

/* A peer that writes data in chunk-byte pieces, pausing delay_ms between
 * them, then closes when told to. */
struct writer {
	int fd;
	const char *data;
	size_t len;
	size_t chunk;
	int delay_ms;
	bool close_after;
	int rc;
	pthread_t t;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (size_t off = 0; off < w->len && w->rc == 0; off += w->chunk) {
		size_t n = w->len - off < w->chunk ? w->len - off : w->chunk;
		w->rc = skt_send_all(w->fd, w->data + off, n, 5000, NULL);
		if (w->delay_ms > 0)
			usleep((useconds_t)w->delay_ms * 1000);
	}
	if (w->close_after)
		skt_close(w->fd);
	return NULL;
}

static void writer_start(struct writer *w)
{
	w->rc = 0;
	if (w->len == 0)
		w->len = strlen(w->data);
	cr_assert_eq(pthread_create(&w->t, NULL, writer_main, w), 0);
}

static void writer_join(struct writer *w)
{
	pthread_join(w->t, NULL);
	cr_assert_eq(w->rc, 0, "writer: %s", skt_strerror(w->rc));
}

static void expect_line(skt_conn *c, size_t max, const char *want)
{
	const uint8_t *l;
	ssize_t n = skt_conn_read_line(c, max, &l);
	cr_assert_eq(n, (ssize_t)strlen(want), "read_line: %zd (%s), want %s",
		     n, n < 0 ? skt_errname((int)n) : "ok", want);
	cr_assert_arr_eq(l, want, (size_t)n);
}

SKT_TEST(conn, read_line_over_many_small_writes)
{
	int fds[2];
	tcp_pair(fds);
	static char text[4000];
	size_t off = 0;
	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"line %d\n", i);
	struct writer w = {
		.fd = fds[0], .data = text, .chunk = 3, .close_after = true};
	writer_start(&w);
	skt_conn *c = conn_on(fds[1], 0);
	char want[32];
	for (int i = 0; i < 200; i++) {
		snprintf(want, sizeof(want), "line %d\n", i);
		expect_line(c, 0, want);
	}
	const uint8_t *l;
	cr_assert_eq(skt_conn_read_line(c, 0, &l), SKT_EOF);
	writer_join(&w);
	skt_conn_free(c);
}

SKT_TEST(conn, read_until_delimiter_split_across_refills)
{
	int fds[2];
	socket_pair(fds);
	/* A 1-byte initial buffer forces growth and a refill per byte, so
	 * "\r\n" always straddles two arrivals. */
	struct writer w = {.fd = fds[0],
			   .data = "abc\r\ndef\r\r\n\r\n",
			   .chunk = 1,
			   .delay_ms = 1,
			   .close_after = true};
	writer_start(&w);
	skt_conn *c = conn_on(fds[1], 1);
	const uint8_t *l;
	cr_assert_eq(skt_conn_read_until(c, "\r\n", 2, 100, &l), 5);
	cr_assert_arr_eq(l, "abc\r\n", 5);
	cr_assert_eq(skt_conn_read_until(c, "\r\n", 2, 100, &l), 6);
	cr_assert_arr_eq(l, "def\r\r\n", 6);
	cr_assert_eq(skt_conn_read_until(c, "\r\n", 2, 100, &l), 2);
	cr_assert_eq(skt_conn_read_until(c, "\r\n", 2, 100, &l), SKT_EOF);
	cr_assert_eq(skt_conn_read_until(c, "", 0, 100, &l), SKT_EINVAL);
	writer_join(&w);
	skt_conn_free(c);
}

SKT_TEST(conn, line_too_long_keeps_bytes_readable)
{
	int fds[2];
	socket_pair(fds);
	send_str(fds[0], "0123456789abcdef\nnext\n");
	skt_conn *c = conn_on(fds[1], 4);
	const uint8_t *l;
	cr_assert_eq(skt_conn_read_line(c, 10, &l), SKT_ETOOBIG);
	cr_assert_geq(skt_conn_buffered(c), 10);
	/* Nothing was lost: a larger limit gets the whole line. */
	expect_line(c, 100, "0123456789abcdef\n");
	cr_assert_eq(skt_conn_read_line(c, 3, &l), SKT_ETOOBIG);
	char buf[16] = {0};
	cr_assert_eq(skt_conn_read_exact(c, buf, 5, NULL), 5);
	cr_assert_str_eq(buf, "next\n");
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, read_exact_mixed_with_read_line)
{
	int fds[2];
	socket_pair(fds);
	send_str(fds[0], "hello\nWORLDxyz\n");
	skt_conn *c = conn_on(fds[1], 0);
	expect_line(c, 0, "hello\n");
	cr_assert_eq(skt_conn_buffered(c), 9);
	char buf[8] = {0};
	size_t got = 0;
	cr_assert_eq(skt_conn_read_exact(c, buf, 5, &got), 5);
	cr_assert_eq(got, 5);
	cr_assert_str_eq(buf, "WORLD");
	expect_line(c, 0, "xyz\n");
	/* A read_exact larger than the buffer goes past it and still gets
	 * the buffered bytes first. */
	static char big[50000], in[50000];
	memset(big, 'b', sizeof(big));
	memcpy(big, "head\n", 5);
	struct writer w = {
		.fd = fds[0], .data = big, .len = sizeof(big), .chunk = 7000};
	writer_start(&w);
	expect_line(c, 0, "head\n");
	cr_assert_eq(skt_conn_read_exact(c, in, sizeof(big) - 5, NULL),
		     (ssize_t)sizeof(big) - 5);
	cr_assert_arr_eq(in, big + 5, sizeof(big) - 5);
	writer_join(&w);
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, read_frame_grows_and_points_into_buffer)
{
	int fds[2];
	socket_pair(fds);
	static uint8_t big[5000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	cr_assert_eq(skt_frame_send(fds[0], "one", 3, 0, 1000), 0);
	cr_assert_eq(skt_frame_send(fds[0], "", 0, 0, 1000), 0);
	cr_assert_eq(skt_frame_send(fds[0], big, sizeof(big), 0, 1000), 0);
	send_str(fds[0], "tail\n");
	skt_conn *c = conn_on(fds[1], 16);
	const uint8_t *m;
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), 3);
	cr_assert_arr_eq(m, "one", 3);
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), 0);
	cr_assert_not_null(m);
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), (ssize_t)sizeof(big));
	cr_assert_arr_eq(m, big, sizeof(big));
	expect_line(c, 0, "tail\n");
	skt_close(fds[0]);
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), SKT_EOF);
	skt_conn_free(c);
}

SKT_TEST(conn, read_frame_over_max_keeps_bytes)
{
	int fds[2];
	socket_pair(fds);
	cr_assert_eq(skt_frame_send(fds[0], "0123456789", 10, 0, 1000), 0);
	skt_conn *c = conn_on(fds[1], 0);
	const uint8_t *m;
	cr_assert_eq(skt_conn_read_frame(c, 9, &m), SKT_ETOOBIG);
	cr_assert_eq(skt_conn_buffered(c), 14);
	cr_assert_eq(skt_conn_read_frame(c, 10, &m), 10);
	/* A header claiming 4 GiB with the default limit: rejected at once. */
	send_str(fds[0], "\xff\xff\xff\xff");
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), SKT_ETOOBIG);
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, end_of_stream_partial_then_eof)
{
	int fds[2];
	socket_pair(fds);
	send_str(fds[0], "abc");
	skt_close(fds[0]);
	skt_conn *c = conn_on(fds[1], 0);
	const uint8_t *l;
	cr_assert_eq(skt_conn_read_line(c, 0, &l), SKT_EPARTIAL);
	cr_assert_eq(skt_conn_buffered(c), 3);
	cr_assert_eq(skt_conn_read_frame(c, 0, &l), SKT_EPARTIAL);
	char buf[8] = {0};
	cr_assert_eq(skt_conn_read(c, buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(skt_conn_read_line(c, 0, &l), SKT_EOF);
	cr_assert_eq(skt_conn_read(c, buf, sizeof(buf)), 0);
	cr_assert_eq(skt_conn_read_exact(c, buf, 2, NULL), SKT_EOF);
	skt_conn_free(c);
}

SKT_TEST(conn, frame_cut_short_is_epartial)
{
	int fds[2];
	socket_pair(fds);
	cr_assert_eq(skt_send_all(fds[0], "\0\0\0\010abc", 7, 1000, NULL), 0);
	skt_close(fds[0]);
	skt_conn *c = conn_on(fds[1], 0);
	const uint8_t *m;
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), SKT_EPARTIAL);
	cr_assert_eq(skt_conn_buffered(c), 7);
	char buf[8];
	size_t got = 0;
	cr_assert_eq(skt_conn_read_exact(c, buf, 8, &got), SKT_EPARTIAL);
	cr_assert_eq(got, 7);
	skt_conn_free(c);
}

SKT_TEST(conn, timeout_on_silent_peer)
{
	int fds[2];
	tcp_pair(fds);
	skt_conn *c = conn_on(fds[1], 0);
	skt_conn_set_timeout(c, 200);
	send_str(fds[0], "partial");
	const uint8_t *l;
	int64_t t0 = sktest_now_ms();
	ssize_t rc = skt_conn_read_line(c, 0, &l);
	int64_t dt = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "read_line: %s", skt_errname((int)rc));
	cr_assert_geq(dt, 150, "after %lld ms", (long long)dt);
	cr_assert_lt(dt, 1500, "after %lld ms", (long long)dt);
	cr_assert_eq(skt_conn_buffered(c), 7, "kept for a retry");
	skt_conn_set_timeout(c, 0);
	cr_assert_eq(skt_conn_read_line(c, 0, &l), SKT_EAGAIN);
	send_str(fds[0], "!\n");
	skt_conn_set_timeout(c, 1000);
	expect_line(c, 0, "partial!\n");
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, timeout_bounds_the_whole_call)
{
	/* A byte every 40 ms never completes a line: a per-refill timeout
	 * would wait for ever, the call's deadline ends it at 200 ms. */
	int fds[2];
	socket_pair(fds);
	static char dots[20];
	memset(dots, '.', sizeof(dots));
	struct writer w = {.fd = fds[0],
			   .data = dots,
			   .len = sizeof(dots),
			   .chunk = 1,
			   .delay_ms = 40};
	writer_start(&w);
	skt_conn *c = conn_on(fds[1], 0);
	skt_conn_set_timeout(c, 200);
	const uint8_t *l;
	int64_t t0 = sktest_now_ms();
	ssize_t rc = skt_conn_read_line(c, 0, &l);
	int64_t dt = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "read_line: %s", skt_errname((int)rc));
	cr_assert_lt(dt, 500, "after %lld ms", (long long)dt);
	writer_join(&w);
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, settimeout_and_gettimeout)
{
	int fds[2];
	socket_pair(fds);
	skt_conn *c = conn_on(fds[1], 0);
	cr_assert_eq(skt_conn_timeout(c), SKT_TIMEOUT_NONE);
	skt_conn_set_timeout(c, 250);
	cr_assert_eq(skt_conn_timeout(c), 250);
	skt_conn_set_timeout(c, 0);
	cr_assert_eq(skt_conn_timeout(c), 0);
	skt_conn_set_timeout(c, -7);
	cr_assert_eq(skt_conn_timeout(c), SKT_TIMEOUT_NONE);
	cr_assert_eq(skt_conn_fd(c), fds[1]);
	skt_close(fds[0]);
	skt_conn_free(c);
}

SKT_TEST(conn, free_closes_the_fd)
{
	int before = sktest_count_fds();
	int fds[2];
	socket_pair(fds);
	skt_conn *c = conn_on(fds[1], 0);
	cr_assert_eq(sktest_count_fds(), before + 2);
	skt_conn_free(c);
	cr_assert_eq(sktest_count_fds(), before + 1);
	skt_conn_free(NULL);

	c = conn_on(fds[0], 0);
	cr_assert_eq(skt_conn_close(c), 0);
	cr_assert_eq(skt_conn_close(c), 0, "idempotent");
	cr_assert_eq(skt_conn_fd(c), -1);
	cr_assert_eq(sktest_count_fds(), before);
	skt_conn_free(c);
}

SKT_TEST(conn, new_out_of_memory_leaves_fd)
{
	int fds[2];
	socket_pair(fds);
	for (long k = 1; k <= 2; k++) {
		skt_conn *c = (skt_conn *)1;
		sktest_fail_alloc_at(k);
		cr_assert_eq(skt_conn_new(&c, fds[1], 0), SKT_ENOMEM);
		sktest_fail_alloc_at(0);
		cr_assert_null(c);
	}
	/* The fd is still ours and works. */
	send_str(fds[0], "x");
	char b;
	cr_assert_eq(skt_recv(fds[1], &b, 1, 1000), 1);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(conn, new_rejects_a_bad_fd)
{
	skt_conn *c = (skt_conn *)1;
	cr_assert_eq(skt_conn_new(&c, -1, 0), SKT_EBADF);
	cr_assert_null(c);
}

SKT_TEST(conn, write_all_frame_and_shutdown_write)
{
	int fds[2];
	tcp_pair(fds);
	skt_conn *a = conn_on(fds[0], 0);
	skt_conn *b = conn_on(fds[1], 0);
	skt_conn_set_timeout(a, 2000);
	skt_conn_set_timeout(b, 2000);
	cr_assert_eq(skt_conn_write_all(a, "ping\n", 5), 0);
	cr_assert_eq(skt_conn_write_frame(a, "framed", 6, 0), 0);
	cr_assert_eq(skt_conn_write_frame(a, "toolong", 7, 6), SKT_ETOOBIG);
	cr_assert_eq(skt_conn_shutdown_write(a), 0);
	expect_line(b, 0, "ping\n");
	const uint8_t *m;
	cr_assert_eq(skt_conn_read_frame(b, 0, &m), 6);
	cr_assert_arr_eq(m, "framed", 6);
	cr_assert_eq(skt_conn_read_line(b, 0, &m), SKT_EOF);
	/* Half-closed, a still reads what b answers. */
	cr_assert_eq(skt_conn_write_all(b, "pong\n", 5), 0);
	expect_line(a, 0, "pong\n");
	skt_conn_free(a);
	skt_conn_free(b);
}

/* A python3 peer writing lines the way programs do: several sendall()
 * calls per line, then a frame, then close. */
/* clang-format off */
static const char py_lines[] =
	"import socket, struct, sys\n"
	"s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"for i in range(50):\n"
	"    s.sendall(b'item ')\n"
	"    s.sendall(str(i).encode() + b'\\n')\n"
	"msg = b'payload' * 1000\n"
	"s.sendall(struct.pack('!I', len(msg)) + msg)\n"
	"s.close()\n";
/* clang-format on */

SKT_TEST(conn, lines_and_frame_from_python_peer)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	char ps[16];
	snprintf(ps, sizeof(ps), "%u", port);
	const char *argv[] = {ps, NULL};
	pid_t pid = sktest_python(py_lines, argv, NULL);
	int fd = skt_accept(lfd, NULL, 5000);
	cr_assert_geq(fd, 0, "accept: %s", skt_strerror(fd));
	skt_conn *c = conn_on(fd, 64);
	skt_conn_set_timeout(c, 5000);
	char want[32];
	for (int i = 0; i < 50; i++) {
		snprintf(want, sizeof(want), "item %d\n", i);
		expect_line(c, 0, want);
	}
	const uint8_t *m;
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), 7000);
	cr_assert_arr_eq(m, "payloadpayload", 14);
	cr_assert_eq(skt_conn_read_frame(c, 0, &m), SKT_EOF);
	cr_assert_eq(sktest_wait(pid), 0);
	skt_conn_free(c);
	skt_close(lfd);
}
