/* peer_test.c - peers that go away in the middle: a reset mid-stream, and
 * a python3 peer killed with SIGKILL while we send to it or read from it.
 * Every call must end with a clean code (ECONNRESET, EPIPE, EPARTIAL or
 * EOF, with the count of bytes moved), never hang, never raise SIGPIPE
 * (sktest_setup makes SIGPIPE fatal). In a namespace as root, on the
 * host's loopback otherwise. */
#include "fault.h"

#include <signal.h>
#include <time.h>

#define CHUNK         ((size_t)1 << 20)
#define IO_MS         10000
#define KILL_AFTER_MS 300

static void connected_pair(int *c, int *s)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", port);
	*c = skt_connect_one(&a, SOCK_STREAM, 1000);
	skt_assert_fd(*c);
	*s = skt_accept(l, NULL, 1000);
	skt_assert_fd(*s);
	skt_close(l);
}

static bool is_gone(int err)
{
	return err == SKT_ECONNRESET || err == SKT_EPIPE;
}

SKT_TEST(peer, reset_mid_stream_reader_keeps_what_arrived)
{
	fault_netns(false);
	int c, s;
	connected_pair(&c, &s);
	static uint8_t buf[256 << 10];
	fault_fill(buf, 0, sizeof(buf));
	skt_assert_err(skt_send_all(s, buf, sizeof(buf) / 2, 1000, NULL), 0);
	skt_close_abort(s); /* RST instead of FIN */

	memset(buf, 0, sizeof(buf));
	size_t got = 0;
	ssize_t n = skt_read_exact(c, buf, sizeof(buf), IO_MS, &got);
	cr_assert(n == SKT_ECONNRESET || n == SKT_EPARTIAL, "read_exact: %s",
		  skt_errname((int)n));
	cr_assert_leq(got, sizeof(buf) / 2);
	cr_assert_eq(fault_check(buf, 0, got), got, "bytes before the reset");
	int e = skt_send_all(c, "x", 1, 1000, NULL);
	cr_assert(e == 0 || is_gone(e), "send after reset: %s", skt_errname(e));
	fault_report("peer reset: reader got %s after %zu of %zu bytes sent; "
		     "a send then %s",
		     skt_errname((int)n), got, sizeof(buf) / 2,
		     e == 0 ? "was buffered" : skt_errname(e));
	skt_close(c);
}

SKT_TEST(peer, reset_mid_stream_writer_gets_epipe_or_econnreset)
{
	fault_netns(false);
	int c, s;
	connected_pair(&c, &s);
	skt_close_abort(s);
	static uint8_t big[8 << 20];
	size_t sent = 0;
	int e = skt_send_all(c, big, sizeof(big), IO_MS, &sent);
	cr_assert(is_gone(e), "send_all: %s", skt_errname(e));
	fault_report("peer reset: writer got %s after %zu bytes",
		     skt_errname(e), sent);
	skt_close(c);
}

/* ---- A python3 peer, killed mid-transfer ---- */

typedef struct killer {
	pid_t pid;
	pthread_t th;
} killer;

static void *kill_later(void *arg)
{
	killer *k = arg;
	struct timespec ts = {0, KILL_AFTER_MS * 1000000L};
	nanosleep(&ts, NULL);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* A python3 peer that connects to port and runs body (with s). */
static pid_t python_peer(uint16_t port, const char *body)
{
	char src[1024], p[8];
	snprintf(src, sizeof(src),
		 "import socket, sys, time\n"
		 "s = socket.create_connection(('127.0.0.1', "
		 "int(sys.argv[1])))\n"
		 "%s\n",
		 body);
	snprintf(p, sizeof(p), "%u", port);
	const char *argv[] = {p, NULL};
	return sktest_python(src, argv, NULL);
}

static int accept_peer(int l)
{
	int s = skt_accept(l, NULL, IO_MS);
	skt_assert_fd(s);
	return s;
}

SKT_TEST(peer, killed_while_we_send)
{
	fault_netns(false);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	/* Reads a little, then nothing: our sends fill its window. */
	killer k = {.pid = python_peer(port, "s.recv(1)\ntime.sleep(60)")};
	int s = accept_peer(l);
	pthread_create(&k.th, NULL, kill_later, &k);
	static uint8_t big[4 << 20];
	size_t total = 0;
	int e = 0;
	int64_t t0 = sktest_now_ms();
	while (e == 0 && sktest_now_ms() - t0 < IO_MS) {
		size_t sent = 0;
		e = skt_send_all(s, big, sizeof(big), IO_MS, &sent);
		total += sent;
	}
	int64_t ms = sktest_now_ms() - t0;
	pthread_join(k.th, NULL);
	cr_assert_eq(sktest_wait(k.pid), 128 + SIGKILL);
	cr_assert(is_gone(e), "send_all after the kill: %s", skt_errname(e));
	fault_report("peer killed: sender got %s after %zu bytes, %lld ms",
		     skt_errname(e), total, (long long)ms);
	skt_close(s);
	skt_close(l);
}

SKT_TEST(peer, killed_while_we_read)
{
	fault_netns(false);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	killer k = {
		.pid = python_peer(
			port, "b = bytes(65536)\nwhile True: s.sendall(b)")};
	int s = accept_peer(l);
	pthread_create(&k.th, NULL, kill_later, &k);
	uint8_t *buf = malloc(CHUNK);
	cr_assert_not_null(buf);
	size_t total = 0, got;
	ssize_t n;
	int64_t t0 = sktest_now_ms();
	while ((n = skt_read_exact(s, buf, CHUNK, IO_MS, &got)) > 0)
		total += (size_t)n;
	total += got;
	int64_t ms = sktest_now_ms() - t0;
	pthread_join(k.th, NULL);
	cr_assert_eq(sktest_wait(k.pid), 128 + SIGKILL);
	/* The killed peer's socket closes with FIN (it had nothing unread):
	 * we see the end, inside a chunk or between two. */
	cr_assert(n == SKT_EPARTIAL || n == SKT_EOF || n == SKT_ECONNRESET,
		  "read_exact after the kill: %s", skt_errname((int)n));
	fault_report("peer killed: reader got %s after %zu bytes, %lld ms",
		     skt_errname((int)n), total, (long long)ms);
	free(buf);
	skt_close(s);
	skt_close(l);
}

SKT_TEST(peer, killed_inside_a_frame)
{
	fault_netns(false);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	/* A header announcing 1 GiB, then payload at ~30 MB/s until killed,
	 * far short of the claim. */
	killer k = {.pid = python_peer(
			    port,
			    "s.sendall((1 << 30).to_bytes(4, 'big'))\n"
			    "b = bytes(65536)\n"
			    "while True: s.sendall(b); time.sleep(0.002)")};
	int s = accept_peer(l);
	pthread_create(&k.th, NULL, kill_later, &k);
	uint8_t *msg = NULL;
	size_t len = 0;
	int64_t t0 = sktest_now_ms();
	int e = skt_frame_recv(s, &msg, &len, (size_t)1 << 30, IO_MS);
	int64_t ms = sktest_now_ms() - t0;
	pthread_join(k.th, NULL);
	cr_assert_eq(sktest_wait(k.pid), 128 + SIGKILL);
	cr_assert(e == SKT_EPARTIAL || e == SKT_ECONNRESET, "frame_recv: %s",
		  skt_errname(e));
	cr_assert_null(msg);
	fault_report("peer killed: frame_recv of a 1 GiB frame got %s after "
		     "%lld ms, nothing kept",
		     skt_errname(e), (long long)ms);
	skt_close(s);
	skt_close(l);
}
