/* io_test.c - plain I/O over real sockets: socketpairs for the buffer loops,
 * loopback TCP for half-close and resets, python3 peers for interop. */
#include "sktest.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void stream_pair(int fds[2])
{
	int rc = skt_socketpair(SOCK_STREAM, fds);
	cr_assert_eq(rc, 0, "socketpair: %s", skt_strerror(rc));
}

/* A connected loopback TCP pair: *cli from skt_connect_one, *srv from
 * skt_accept; the listener is closed again. */
static void tcp_pair(bool v6, int *cli, int *srv)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(v6, &port);
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, v6 ? "::1" : "127.0.0.1", port), 0);
	*cli = skt_connect_one(&a, SOCK_STREAM, 5000);
	cr_assert_geq(*cli, 0, "connect: %s", skt_strerror(*cli));
	*srv = skt_accept(lfd, NULL, 5000);
	cr_assert_geq(*srv, 0, "accept: %s", skt_strerror(*srv));
	skt_close(lfd);
}

static void put(int fd, const char *s)
{
	size_t sent;
	int rc = skt_send_all(fd, s, strlen(s), 5000, &sent);
	cr_assert_eq(rc, 0, "send_all: %s", skt_strerror(rc));
	cr_assert_eq(sent, strlen(s));
}

/* A thread that writes each string of a NULL-terminated list, with a pause
 * before each, then optionally half-closes: so the reader sees the data
 * arrive in separate pieces. */
typedef struct writer {
	pthread_t tid;
	int fd;
	const char *const *parts;
	int pause_ms;
	bool shut;
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;
	for (size_t i = 0; w->parts[i] != NULL; i++) {
		sleep_ms(w->pause_ms);
		if (skt_send_all(w->fd, w->parts[i], strlen(w->parts[i]), 5000,
				 NULL) != 0)
			break;
	}
	if (w->shut)
		skt_shutdown_write(w->fd);
	return NULL;
}

static void writer_start(writer *w, int fd, const char *const *parts,
			 int pause_ms, bool shut)
{
	*w = (writer){
		.fd = fd, .parts = parts, .pause_ms = pause_ms, .shut = shut};
	cr_assert_eq(pthread_create(&w->tid, NULL, writer_main, w), 0);
}

/* ---- send ---- */

typedef struct reader {
	int fd;
	unsigned char *buf;
	size_t len;
	size_t got;
	ssize_t rc;
} reader;

static void *reader_main(void *arg)
{
	reader *r = arg;
	r->rc = skt_read_exact(r->fd, r->buf, r->len, 20000, &r->got);
	return NULL;
}

SKT_TEST(io, send_all_8mib_through_socketpair_with_reader_thread)
{
	size_t len = 8u << 20;
	unsigned char *out = malloc(len), *in = malloc(len);
	cr_assert(out != NULL && in != NULL);
	for (size_t i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 13));
	int fds[2];
	stream_pair(fds);
	reader r = {.fd = fds[1], .buf = in, .len = len};
	pthread_t tid;
	cr_assert_eq(pthread_create(&tid, NULL, reader_main, &r), 0);
	size_t sent = 0;
	int rc = skt_send_all(fds[0], out, len, 20000, &sent);
	pthread_join(tid, NULL);
	cr_assert_eq(rc, 0, "send_all: %s", skt_strerror(rc));
	cr_assert_eq(sent, len, "sent %zu of %zu", sent, len);
	cr_assert_eq(r.rc, (ssize_t)len, "read_exact: %s",
		     skt_strerror((int)r.rc));
	cr_assert_eq(r.got, len);
	cr_assert(memcmp(in, out, len) == 0, "bytes differ");
	skt_close(fds[0]);
	skt_close(fds[1]);
	free(out);
	free(in);
}

SKT_TEST(io, send_all_times_out_when_peer_never_reads)
{
	size_t len = 16u << 20;
	char *out = calloc(1, len);
	cr_assert_not_null(out);
	int fds[2];
	stream_pair(fds);
	size_t sent = 0;
	int64_t t0 = sktest_now_ms();
	int rc = skt_send_all(fds[0], out, len, 200, &sent);
	int64_t took = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "got %s", skt_errname(rc));
	cr_assert_gt(sent, 0);
	cr_assert_lt(sent, len, "sent %zu of %zu", sent, len);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	skt_close(fds[0]);
	skt_close(fds[1]);
	free(out);
}

SKT_TEST(io, send_all_timeout_zero_sends_what_fits_then_eagain)
{
	size_t len = 16u << 20;
	char *out = calloc(1, len);
	cr_assert_not_null(out);
	int fds[2];
	stream_pair(fds);
	size_t sent = 0;
	int rc = skt_send_all(fds[0], out, len, 0, &sent);
	cr_assert_eq(rc, SKT_EAGAIN, "got %s", skt_errname(rc));
	cr_assert_gt(sent, 0);
	cr_assert_lt(sent, len);
	skt_close(fds[0]);
	skt_close(fds[1]);
	free(out);
}

SKT_TEST(io, send_to_closed_socketpair_peer_is_epipe_not_sigpipe)
{
	int fds[2];
	stream_pair(fds);
	skt_close(fds[1]);
	ssize_t rc = skt_send(fds[0], "x", 1, 1000);
	cr_assert_eq(rc, SKT_EPIPE, "got %s", skt_errname((int)rc));
	skt_close(fds[0]);
}

SKT_TEST(io, send_to_closed_tcp_peer_is_epipe_or_reset_not_sigpipe)
{
	int cli, srv;
	tcp_pair(false, &cli, &srv);
	skt_close(srv);
	static char chunk[64 * 1024];
	ssize_t rc = 0;
	/* The first sends may still be accepted; the peer's RST then turns
	 * the next ones into errors. */
	for (int i = 0; i < 1000 && rc >= 0; i++) {
		rc = skt_send(cli, chunk, sizeof(chunk), 1000);
		if (rc >= 0)
			sleep_ms(1);
	}
	cr_assert(rc == SKT_EPIPE || rc == SKT_ECONNRESET, "got %s",
		  skt_errname((int)rc));
	skt_close(cli);
}

/* ---- recv ---- */

SKT_TEST(io, recv_times_out_on_silent_peer)
{
	int fds[2];
	stream_pair(fds);
	char buf[16];
	int64_t t0 = sktest_now_ms();
	ssize_t rc = skt_recv(fds[0], buf, sizeof(buf), 200);
	int64_t took = sktest_now_ms() - t0;
	cr_assert_eq(rc, SKT_ETIMEDOUT, "got %s", skt_errname((int)rc));
	cr_assert_geq(took, 150, "took %lld ms", (long long)took);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, recv_timeout_zero_is_eagain)
{
	int fds[2];
	stream_pair(fds);
	char buf[16];
	ssize_t rc = skt_recv(fds[0], buf, sizeof(buf), 0);
	cr_assert_eq(rc, SKT_EAGAIN, "got %s", skt_errname((int)rc));
	put(fds[1], "hi");
	rc = skt_recv(fds[0], buf, sizeof(buf), 0);
	cr_assert_eq(rc, 2);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, recv_at_end_of_stream_returns_zero)
{
	int fds[2];
	stream_pair(fds);
	skt_close(fds[1]);
	char buf[16];
	cr_assert_eq(skt_recv(fds[0], buf, sizeof(buf), 1000), 0);
	skt_close(fds[0]);
}

/* ---- read_exact ---- */

SKT_TEST(io, read_exact_across_many_small_writes)
{
	static const char *const parts[] = {
		"ab", "c", "defg", "h", "ij", "klmnop", "q", "rstuvwxyz", NULL};
	int fds[2];
	stream_pair(fds);
	writer w;
	writer_start(&w, fds[1], parts, 5, false);
	char buf[27] = {0};
	size_t got = 0;
	ssize_t rc = skt_read_exact(fds[0], buf, 26, 5000, &got);
	pthread_join(w.tid, NULL);
	cr_assert_eq(rc, 26, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 26);
	cr_assert_str_eq(buf, "abcdefghijklmnopqrstuvwxyz");
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_exact_eof_before_any_byte_reports_eof)
{
	int fds[2];
	stream_pair(fds);
	skt_close(fds[1]);
	char buf[8];
	size_t got = 99;
	ssize_t rc = skt_read_exact(fds[0], buf, sizeof(buf), 1000, &got);
	cr_assert_eq(rc, SKT_EOF, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 0);
	skt_close(fds[0]);
}

SKT_TEST(io, read_exact_eof_midway_reports_partial)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "abc");
	skt_close(fds[1]);
	char buf[8];
	size_t got = 0;
	ssize_t rc = skt_read_exact(fds[0], buf, sizeof(buf), 1000, &got);
	cr_assert_eq(rc, SKT_EPARTIAL, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 3);
	cr_assert(memcmp(buf, "abc", 3) == 0);
	skt_close(fds[0]);
}

SKT_TEST(io, read_exact_timeout_reports_bytes_so_far)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "abcd");
	char buf[8];
	size_t got = 0;
	ssize_t rc = skt_read_exact(fds[0], buf, sizeof(buf), 100, &got);
	cr_assert_eq(rc, SKT_ETIMEDOUT, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 4);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

/* ---- read_until ---- */

SKT_TEST(io, read_until_delimiter_split_across_writes)
{
	static const char *const parts[] = {"GET / HTTP/1.1\r", "\n", "next",
					    NULL};
	int fds[2];
	stream_pair(fds);
	writer w;
	writer_start(&w, fds[1], parts, 30, false);
	char buf[64];
	size_t got = 0;
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\r\n", 2, 5000, &got);
	pthread_join(w.tid, NULL);
	cr_assert_eq(rc, 16, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 16);
	cr_assert(memcmp(buf, "GET / HTTP/1.1\r\n", 16) == 0);
	rc = skt_read_exact(fds[0], buf, 4, 1000, NULL);
	cr_assert_eq(rc, 4);
	cr_assert(memcmp(buf, "next", 4) == 0);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_until_multibyte_delimiter_split_byte_by_byte)
{
	static const char *const parts[] = {"HTTP/1.0 200 OK\r\nA: b\r", "\n",
					    "\r", "\nBODY", NULL};
	int fds[2];
	stream_pair(fds);
	writer w;
	writer_start(&w, fds[1], parts, 20, true);
	char buf[128];
	const char *head = "HTTP/1.0 200 OK\r\nA: b\r\n\r\n";
	ssize_t rc = skt_read_until(fds[0], buf, sizeof(buf), "\r\n\r\n", 4,
				    5000, NULL);
	pthread_join(w.tid, NULL);
	cr_assert_eq(rc, (ssize_t)strlen(head), "got %zd", rc);
	cr_assert(memcmp(buf, head, strlen(head)) == 0);
	rc = skt_read_exact(fds[0], buf, sizeof(buf), 1000, NULL);
	cr_assert_eq(rc, SKT_EPARTIAL, "got %s", skt_errname((int)rc));
	cr_assert(memcmp(buf, "BODY", 4) == 0);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_until_leaves_bytes_after_delimiter_unread)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "one\ntwo\nthree");
	char buf[32];
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, NULL);
	cr_assert_eq(rc, 4);
	cr_assert(memcmp(buf, "one\n", 4) == 0);
	rc = skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, NULL);
	cr_assert_eq(rc, 4);
	cr_assert(memcmp(buf, "two\n", 4) == 0);
	rc = skt_read_exact(fds[0], buf, 5, 1000, NULL);
	cr_assert_eq(rc, 5);
	cr_assert(memcmp(buf, "three", 5) == 0);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_until_too_long_reports_etoobig)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "abcdefghij\n");
	char buf[8];
	size_t got = 0;
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, &got);
	cr_assert_eq(rc, SKT_ETOOBIG, "got %s", skt_errname((int)rc));
	/* As sock.h says: the cap bytes are in buf and consumed. */
	cr_assert_eq(got, 8);
	cr_assert(memcmp(buf, "abcdefgh", 8) == 0);
	rc = skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, &got);
	cr_assert_eq(rc, 3);
	cr_assert(memcmp(buf, "ij\n", 3) == 0);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_until_eof_with_partial_line_reports_partial)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "partial");
	skt_close(fds[1]);
	char buf[32];
	size_t got = 0;
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, &got);
	cr_assert_eq(rc, SKT_EPARTIAL, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 7);
	cr_assert(memcmp(buf, "partial", 7) == 0);
	cr_assert_eq(skt_recv(fds[0], buf, sizeof(buf), 1000), 0);
	skt_close(fds[0]);
}

SKT_TEST(io, read_until_eof_before_any_byte_reports_eof)
{
	int fds[2];
	stream_pair(fds);
	skt_close(fds[1]);
	char buf[32];
	size_t got = 99;
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 1000, &got);
	cr_assert_eq(rc, SKT_EOF, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 0);
	skt_close(fds[0]);
}

SKT_TEST(io, read_until_timeout_midline_reports_bytes_consumed)
{
	int fds[2];
	stream_pair(fds);
	put(fds[1], "abc");
	char buf[32];
	size_t got = 0;
	ssize_t rc =
		skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 100, &got);
	cr_assert_eq(rc, SKT_ETIMEDOUT, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 3);
	cr_assert(memcmp(buf, "abc", 3) == 0);
	rc = skt_read_until(fds[0], buf, sizeof(buf), "\n", 1, 0, &got);
	cr_assert_eq(rc, SKT_EAGAIN, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 0);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(io, read_until_rejects_bad_delimiter_length)
{
	int fds[2];
	stream_pair(fds);
	char buf[32];
	const char d[17] = "0123456789abcdef";
	cr_assert_eq(skt_read_until(fds[0], buf, sizeof(buf), d, 0, 0, NULL),
		     SKT_EINVAL);
	cr_assert_eq(skt_read_until(fds[0], buf, sizeof(buf), d, 17, 0, NULL),
		     SKT_EINVAL);
	cr_assert_eq(skt_read_until(fds[0], buf, sizeof(buf), NULL, 1, 0, NULL),
		     SKT_EINVAL);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

/* ---- TCP: half-close, reset, close ---- */

SKT_TEST(io, half_close_server_reads_eof_and_still_sends)
{
	int cli, srv;
	tcp_pair(false, &cli, &srv);
	put(cli, "request");
	cr_assert_eq(skt_shutdown_write(cli), 0);
	char buf[32];
	size_t got = 0;
	ssize_t rc = skt_read_exact(srv, buf, sizeof(buf), 5000, &got);
	cr_assert_eq(rc, SKT_EPARTIAL, "got %s", skt_errname((int)rc));
	cr_assert_eq(got, 7);
	put(srv, "reply");
	skt_close(srv);
	rc = skt_read_exact(cli, buf, 5, 5000, NULL);
	cr_assert_eq(rc, 5, "got %s", skt_errname((int)rc));
	cr_assert(memcmp(buf, "reply", 5) == 0);
	cr_assert_eq(skt_recv(cli, buf, sizeof(buf), 5000), 0);
	skt_close(cli);
}

typedef struct aborter {
	int fd;
} aborter;

static void *aborter_main(void *arg)
{
	aborter *a = arg;
	sleep_ms(50);
	skt_send_all(a->fd, "0123456789", 10, 5000, NULL);
	sleep_ms(100);
	skt_close_abort(a->fd);
	return NULL;
}

SKT_TEST(io, peer_reset_mid_read_reports_econnreset)
{
	int cli, srv;
	tcp_pair(false, &cli, &srv);
	aborter a = {.fd = srv};
	pthread_t tid;
	cr_assert_eq(pthread_create(&tid, NULL, aborter_main, &a), 0);
	char buf[64];
	size_t got = 0;
	ssize_t rc = skt_read_exact(cli, buf, sizeof(buf), 5000, &got);
	pthread_join(tid, NULL);
	cr_assert_eq(rc, SKT_ECONNRESET, "got %s", skt_errname((int)rc));
	cr_assert_leq(got, 10);
	skt_close(cli);
}

SKT_TEST(io, close_minus_one_does_nothing_and_closed_fd_is_ebadf)
{
	cr_assert_eq(skt_close(-1), 0);
	int fds[2];
	stream_pair(fds);
	cr_assert_eq(skt_close(fds[1]), 0);
	cr_assert_eq(skt_close_abort(fds[0]), 0);
	cr_assert_eq(skt_close(fds[0]), SKT_EBADF);
}

/* ---- python3 interop ---- */

/* The tutorials' client: connect, sendall, half-close, recv until EOF. */
static const char py_client[] =
	"import socket, sys\n"
	"s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"s.sendall(b'x' * 100000 + b'\\n')\n"
	"s.shutdown(socket.SHUT_WR)\n"
	"chunks = []\n"
	"while True:\n"
	"    data = s.recv(4096)\n"
	"    if not data:\n"
	"        break\n"
	"    chunks.append(data)\n"
	"s.close()\n"
	"sys.stdout.write(b''.join(chunks).decode())\n";

SKT_TEST(io, python_client_sendall_is_read_until_newline)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	const char *argv[] = {portstr, NULL};
	int out;
	pid_t pid = sktest_python(py_client, argv, &out);
	int fd = skt_accept(lfd, NULL, 10000);
	cr_assert_geq(fd, 0, "accept: %s", skt_strerror(fd));
	static char line[200000];
	size_t got = 0;
	ssize_t rc =
		skt_read_until(fd, line, sizeof(line), "\n", 1, 10000, &got);
	cr_assert_eq(rc, 100001, "got %zd (%s), %zu bytes", rc,
		     skt_errname((int)rc), got);
	cr_assert_eq(skt_recv(fd, line, sizeof(line), 5000), 0);
	put(fd, "got 100001 bytes\n");
	skt_close(fd);
	skt_close(lfd);
	char text[256];
	sktest_slurp(out, text, sizeof(text));
	cr_assert_eq(sktest_wait(pid), 0);
	cr_assert_str_eq(text, "got 100001 bytes\n");
}

/* A python3 server: prints its port, then sends a length-prefixed payload
 * and a CRLF-terminated status line. */
static const char py_server[] =
	"import socket, struct, sys\n"
	"srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
	"srv.bind(('127.0.0.1', 0))\n"
	"srv.listen(1)\n"
	"print(srv.getsockname()[1], flush=True)\n"
	"conn, _ = srv.accept()\n"
	"payload = b'hello from python ' * 1000\n"
	"conn.sendall(struct.pack('!I', len(payload)) + payload)\n"
	"conn.sendall(b'status: ok\\r\\n')\n"
	"conn.close()\n"
	"srv.close()\n";

/* One line from a pipe, byte by byte so nothing after it is taken. */
static void read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
}

SKT_TEST(io, python_server_length_prefixed_message_read_exact)
{
	int out;
	pid_t pid = sktest_python(py_server, NULL, &out);
	char portline[32];
	read_line(out, portline, sizeof(portline));
	skt_addr a;
	cr_assert_eq(
		skt_addr_from_ip(&a, "127.0.0.1", (uint16_t)atoi(portline)), 0,
		"port line '%s'", portline);
	int fd = skt_connect_one(&a, SOCK_STREAM, 10000);
	cr_assert_geq(fd, 0, "connect: %s", skt_strerror(fd));
	uint32_t be;
	cr_assert_eq(skt_read_exact(fd, &be, 4, 10000, NULL), 4);
	size_t len = ntohl(be);
	cr_assert_eq(len, 18000);
	char *payload = malloc(len);
	cr_assert_not_null(payload);
	cr_assert_eq(skt_read_exact(fd, payload, len, 10000, NULL),
		     (ssize_t)len);
	cr_assert(memcmp(payload + len - 18, "hello from python ", 18) == 0);
	free(payload);
	char line[64];
	ssize_t rc =
		skt_read_until(fd, line, sizeof(line), "\r\n", 2, 10000, NULL);
	cr_assert_eq(rc, 12, "got %zd", rc);
	cr_assert(memcmp(line, "status: ok\r\n", 12) == 0);
	cr_assert_eq(skt_recv(fd, line, sizeof(line), 10000), 0);
	skt_close(fd);
	char rest[64];
	sktest_slurp(out, rest, sizeof(rest));
	cr_assert_eq(sktest_wait(pid), 0);
}
