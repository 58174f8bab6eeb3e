/* frame_io_test.c - skt_frame_send / skt_frame_recv over real sockets
 * (socketpair and TCP on 127.0.0.1:0), against hostile headers, early
 * closes, silent peers and a python3 peer speaking struct.pack("!I"). */
#include "sktest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A connected TCP pair over loopback on an ephemeral port. */
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

static void socket_pair(int fds[2])
{
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
}

/* An allocator that remembers the largest block asked for, to show that a
 * header's claim never turns into an allocation. */
static size_t peak_request;
static long rec_live;

static void *rec_malloc(size_t n)
{
	if (n > peak_request)
		peak_request = n;
	void *p = malloc(n);
	if (p != NULL)
		rec_live++;
	return p;
}

static void *rec_realloc(void *p, size_t n)
{
	if (p == NULL)
		return rec_malloc(n);
	if (n > peak_request)
		peak_request = n;
	return realloc(p, n);
}

static void rec_free(void *p)
{
	if (p != NULL)
		rec_live--;
	free(p);
}

static void expect_frame(int fd, const void *want, size_t len)
{
	uint8_t *m = NULL;
	size_t ml = 99;
	int rc = skt_frame_recv(fd, &m, &ml, 0, 2000);
	cr_assert_eq(rc, 0, "recv: %s", skt_strerror(rc));
	cr_assert_not_null(m);
	cr_assert_eq(ml, len, "length %zu, want %zu", ml, len);
	if (len > 0)
		cr_assert_arr_eq(m, want, len);
	skt_free(m);
}

SKT_TEST(frame_io, socketpair_round_trip)
{
	int fds[2];
	socket_pair(fds);
	static uint8_t big[1000];
	memset(big, 'z', sizeof(big));
	cr_assert_eq(skt_frame_send(fds[0], "", 0, 0, 1000), 0);
	cr_assert_eq(skt_frame_send(fds[0], "A", 1, 0, 1000), 0);
	cr_assert_eq(skt_frame_send(fds[0], big, sizeof(big), 0, 1000), 0);
	expect_frame(fds[1], "", 0);
	expect_frame(fds[1], "A", 1);
	expect_frame(fds[1], big, sizeof(big));
	skt_close(fds[0]);
	skt_close(fds[1]);
}

struct sender {
	int fd;
	const uint8_t *msg;
	size_t len;
	int rc;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	s->rc = skt_frame_send(s->fd, s->msg, s->len, 0, 5000);
	if (s->rc == 0)
		s->rc = skt_frame_send(s->fd, NULL, 0, 0, 5000);
	return NULL;
}

SKT_TEST(frame_io, tcp_round_trip_1mib)
{
	int fds[2];
	tcp_pair(fds);
	size_t n = (size_t)1 << 20;
	uint8_t *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 31 + (i >> 11));
	struct sender s = {.fd = fds[0], .msg = big, .len = n};
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, send_thread, &s), 0);
	expect_frame(fds[1], big, n);
	expect_frame(fds[1], "", 0);
	pthread_join(t, NULL);
	cr_assert_eq(s.rc, 0, "send: %s", skt_strerror(s.rc));
	free(big);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, header_claiming_1gib_is_etoobig_without_allocating)
{
	int fds[2];
	tcp_pair(fds);
	uint8_t hdr[4] = {0x40, 0, 0, 0};
	cr_assert_eq(skt_send_all(fds[0], hdr, 4, 1000, NULL), 0);
	skt_close(fds[0]);
	cr_assert_eq(skt_set_allocator(rec_malloc, rec_realloc, rec_free), 0);
	uint8_t *m = (uint8_t *)"x";
	size_t ml = 7;
	int rc = skt_frame_recv(fds[1], &m, &ml, 0, 2000);
	cr_assert_eq(rc, SKT_ETOOBIG, "recv: %s", skt_errname(rc));
	cr_assert_null(m);
	cr_assert_eq(ml, 0);
	cr_assert_eq(peak_request, 0, "allocated %zu bytes", peak_request);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, memory_tracks_bytes_not_claim)
{
	/* max 2 GiB, so a 1 GiB claim is legal: the peer sends 100 bytes and
	 * goes away. The buffer must stay near 100 bytes, not 1 GiB. */
	int fds[2];
	socket_pair(fds);
	uint8_t wire[104] = {0x40, 0, 0, 0};
	memset(wire + 4, 'q', 100);
	cr_assert_eq(skt_send_all(fds[0], wire, sizeof(wire), 1000, NULL), 0);
	skt_close(fds[0]);
	cr_assert_eq(skt_set_allocator(rec_malloc, rec_realloc, rec_free), 0);
	uint8_t *m;
	size_t ml;
	int rc = skt_frame_recv(fds[1], &m, &ml, (size_t)2 << 30, 2000);
	cr_assert_eq(rc, SKT_EPARTIAL, "recv: %s", skt_errname(rc));
	cr_assert_null(m);
	cr_assert_leq(peak_request, (size_t)64 << 10, "allocated %zu bytes",
		      peak_request);
	cr_assert_eq(rec_live, 0, "leaked %ld blocks", rec_live);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, close_mid_payload_is_epartial)
{
	int fds[2];
	tcp_pair(fds);
	uint8_t wire[54] = {0, 0, 0, 100};
	cr_assert_eq(skt_send_all(fds[0], wire, sizeof(wire), 1000, NULL), 0);
	skt_close(fds[0]);
	uint8_t *m;
	size_t ml;
	int rc = skt_frame_recv(fds[1], &m, &ml, 0, 2000);
	cr_assert_eq(rc, SKT_EPARTIAL, "recv: %s", skt_errname(rc));
	cr_assert_null(m);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, close_mid_header_is_epartial)
{
	int fds[2];
	socket_pair(fds);
	cr_assert_eq(skt_send_all(fds[0], "\0\0", 2, 1000, NULL), 0);
	skt_close(fds[0]);
	uint8_t *m;
	size_t ml;
	int rc = skt_frame_recv(fds[1], &m, &ml, 0, 2000);
	cr_assert_eq(rc, SKT_EPARTIAL, "recv: %s", skt_errname(rc));
	skt_close(fds[1]);
}

SKT_TEST(frame_io, clean_close_is_eof)
{
	int fds[2];
	tcp_pair(fds);
	cr_assert_eq(skt_frame_send(fds[0], "last", 4, 0, 1000), 0);
	skt_close(fds[0]);
	expect_frame(fds[1], "last", 4);
	uint8_t *m;
	size_t ml;
	int rc = skt_frame_recv(fds[1], &m, &ml, 0, 2000);
	cr_assert_eq(rc, SKT_EOF, "recv: %s", skt_errname(rc));
	skt_close(fds[1]);
}

SKT_TEST(frame_io, send_over_max_sends_nothing)
{
	int fds[2];
	socket_pair(fds);
	cr_assert_eq(skt_frame_send(fds[0], "0123456789x", 11, 10, 1000),
		     SKT_ETOOBIG);
	char c;
	cr_assert_eq(skt_recv(fds[1], &c, 1, 0), SKT_EAGAIN);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, recv_times_out_on_silent_peer)
{
	int fds[2];
	tcp_pair(fds);
	uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_recv(fds[1], &m, &ml, 0, 0), SKT_EAGAIN);
	/* A header and part of the payload, then silence: the one deadline
	 * covers header and payload together. */
	cr_assert_eq(skt_send_all(fds[0], "\0\0\0\011abc", 7, 1000, NULL), 0);
	int64_t t0 = sktest_now_ms();
	int rc = skt_frame_recv(fds[1], &m, &ml, 0, 200);
	int64_t dt = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "recv: %s", skt_errname(rc));
	cr_assert_geq(dt, 150, "returned after %lld ms", (long long)dt);
	cr_assert_lt(dt, 1500, "returned after %lld ms", (long long)dt);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, send_times_out_when_peer_never_reads)
{
	int fds[2];
	socket_pair(fds);
	size_t n = (size_t)16 << 20;
	uint8_t *big = calloc(1, n);
	int64_t t0 = sktest_now_ms();
	int rc = skt_frame_send(fds[0], big, n, 0, 200);
	int64_t dt = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "send: %s", skt_errname(rc));
	cr_assert_geq(dt, 150, "returned after %lld ms", (long long)dt);
	cr_assert_lt(dt, 1500, "returned after %lld ms", (long long)dt);
	free(big);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(frame_io, send_to_closed_peer_is_epipe_not_sigpipe)
{
	int fds[2];
	socket_pair(fds);
	skt_close(fds[1]);
	int rc = skt_frame_send(fds[0], "hi", 2, 0, 1000);
	cr_assert(rc == SKT_EPIPE || rc == SKT_ECONNRESET, "send: %s",
		  skt_errname(rc));
	skt_close(fds[0]);
}

/* The tutorials' framing, verbatim in spirit: recv_exactly, send_message.
 * It sends three messages, then echoes each frame back reversed until the
 * C side half-closes. */
/* clang-format off */
static const char py_peer[] =
	"import socket, struct, sys\n"
	"def recv_exactly(sock, n):\n"
	"    data = b''\n"
	"    while len(data) < n:\n"
	"        chunk = sock.recv(n - len(data))\n"
	"        if not chunk:\n"
	"            raise ConnectionError('Connection closed')\n"
	"        data += chunk\n"
	"    return data\n"
	"def send_message(sock, msg):\n"
	"    sock.sendall(struct.pack('!I', len(msg)) + msg)\n"
	"def recv_message(sock):\n"
	"    raw_len = recv_exactly(sock, 4)\n"
	"    return recv_exactly(sock, struct.unpack('!I', raw_len)[0])\n"
	"s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"for m in [b'', b'hello', bytes(range(256)) * 400]:\n"
	"    send_message(s, m)\n"
	"n = 0\n"
	"while True:\n"
	"    try:\n"
	"        m = recv_message(s)\n"
	"    except ConnectionError:\n"
	"        break\n"
	"    send_message(s, m[::-1])\n"
	"    n += 1\n"
	"s.close()\n"
	"print('ok', n)\n";
/* clang-format on */

SKT_TEST(frame_io, python_peer_both_directions)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	char ps[16];
	snprintf(ps, sizeof(ps), "%u", port);
	const char *argv[] = {ps, NULL};
	int out;
	pid_t pid = sktest_python(py_peer, argv, &out);
	int fd = skt_accept(lfd, NULL, 5000);
	cr_assert_geq(fd, 0, "accept: %s", skt_strerror(fd));

	static uint8_t pattern[256 * 400];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)i;
	expect_frame(fd, "", 0);
	expect_frame(fd, "hello", 5);
	expect_frame(fd, pattern, sizeof(pattern));

	cr_assert_eq(skt_frame_send(fd, "abc", 3, 0, 2000), 0);
	expect_frame(fd, "cba", 3);
	cr_assert_eq(skt_frame_send(fd, "", 0, 0, 2000), 0);
	expect_frame(fd, "", 0);
	static uint8_t big[70000], rev[70000];
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i % 251);
		rev[sizeof(big) - 1 - i] = big[i];
	}
	cr_assert_eq(skt_frame_send(fd, big, sizeof(big), 0, 2000), 0);
	expect_frame(fd, rev, sizeof(rev));

	cr_assert_eq(skt_shutdown_write(fd), 0);
	uint8_t *m;
	size_t ml;
	cr_assert_eq(skt_frame_recv(fd, &m, &ml, 0, 5000), SKT_EOF);
	char text[64];
	sktest_slurp(out, text, sizeof(text));
	cr_assert_eq(sktest_wait(pid), 0);
	cr_assert_str_eq(text, "ok 3\n");
	skt_close(fd);
	skt_close(lfd);
}
