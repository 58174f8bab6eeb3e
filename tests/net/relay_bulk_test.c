/* relay_bulk_test.c - skt_relay_run moving megabytes of binary data (every
 * byte value) through each of its paths, checked byte for byte: pipes
 * (splice both ways), files (sendfile in, splice out), an O_APPEND file
 * (splice refused: the fallback), sockets as local fds (read/write with a
 * small buffer), and /dev/null (discard). An echo thread on loopback TCP
 * sends everything back, so both directions carry the whole load. */
#include "sktest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BULK ((size_t)8 << 20)

static void tcp_pair(int *cli, int *srv)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "127.0.0.1", port), 0);
	*cli = skt_connect_one(&a, SOCK_STREAM, 5000);
	cr_assert_geq(*cli, 0, "connect: %s", skt_strerror(*cli));
	*srv = skt_accept(lfd, NULL, 5000);
	cr_assert_geq(*srv, 0, "accept: %s", skt_strerror(*srv));
	skt_close(lfd);
}

/* Binary test data: xorshift bytes, so LF, CR and NUL all occur. */
static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* ---- Threads: echo peer, input writer, output reader ---- */

static void *echo_main(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[65536];
	for (;;) {
		ssize_t n = skt_recv(fd, buf, sizeof(buf), 20000);
		if (n <= 0 || skt_send_all(fd, buf, (size_t)n, 20000, NULL) < 0)
			break;
	}
	shutdown(fd, SHUT_WR);
	return NULL;
}

typedef struct io_job {
	pthread_t tid;
	int fd;
	uint8_t *buf;
	size_t len;
	size_t done;
} io_job;

/* Write all of buf to fd (a blocking pipe, or a non-blocking socket that
 * is waited on), then close fd. */
static void *writer_main(void *arg)
{
	io_job *j = arg;
	while (j->done < j->len) {
		ssize_t n = write(j->fd, j->buf + j->done, j->len - j->done);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = j->fd, .events = POLLOUT};
			poll(&p, 1, 20000);
			continue;
		}
		if (n <= 0)
			break;
		j->done += (size_t)n;
	}
	close(j->fd);
	return NULL;
}

/* Read fd to end of stream into buf. */
static void *reader_main(void *arg)
{
	io_job *j = arg;
	while (j->done < j->len) {
		ssize_t n = read(j->fd, j->buf + j->done, j->len - j->done);
		if (n <= 0)
			break;
		j->done += (size_t)n;
	}
	return NULL;
}

static void job_start(io_job *j, void *(*fn)(void *), int fd, uint8_t *buf,
		      size_t len)
{
	*j = (io_job){.fd = fd, .buf = buf, .len = len};
	cr_assert_eq(pthread_create(&j->tid, NULL, fn, j), 0);
}

/* A temporary file, already unlinked; opened read-write with extra flags. */
static int temp_file(int flags)
{
	char path[] = "/tmp/sockit-relay-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC | flags);
	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

/* Relay in/out against an echo peer; expect every byte back. */
static void echo_relay(int in, int out, const skt_relay_opts *o,
		       skt_relay_stats *st)
{
	int cli, srv;
	tcp_pair(&cli, &srv);
	pthread_t echo;
	cr_assert_eq(pthread_create(&echo, NULL, echo_main, &srv), 0);
	int rc = skt_relay_run(in, out, cli, o, st);
	pthread_join(echo, NULL);
	cr_assert_eq(rc, 0, "relay: %s (%s)", skt_strerror(rc),
		     skt_relay_side_name(st->where));
	cr_assert_eq(st->sent, BULK, "sent %llu", (unsigned long long)st->sent);
	cr_assert_eq(st->received, BULK, "received %llu",
		     (unsigned long long)st->received);
	skt_close(cli);
	skt_close(srv);
}

static void check_file(int fd, const uint8_t *want)
{
	uint8_t *got = malloc(BULK + 1);
	cr_assert_not_null(got);
	ssize_t n = pread(fd, got, BULK + 1, 0);
	cr_assert_eq(n, (ssize_t)BULK, "file holds %zd bytes", n);
	cr_assert(memcmp(got, want, BULK) == 0, "bytes differ");
	free(got);
}

SKT_TEST(relay_bulk, pipe_to_pipe_8mib_binary_over_tcp)
{
	uint8_t *data = pattern(BULK), *back = malloc(BULK);
	int in[2], out[2];
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	io_job w, r;
	job_start(&w, writer_main, in[1], data, BULK);
	job_start(&r, reader_main, out[0], back, BULK);
	skt_relay_stats st;
	echo_relay(in[0], out[1], NULL, &st);
	close(out[1]);
	pthread_join(w.tid, NULL);
	pthread_join(r.tid, NULL);
	cr_assert_eq(r.done, BULK, "read back %zu", r.done);
	cr_assert(memcmp(back, data, BULK) == 0, "bytes differ");
	close(in[0]);
	close(out[0]);
	free(data);
	free(back);
}

SKT_TEST(relay_bulk, file_to_file_8mib_binary_over_tcp)
{
	uint8_t *data = pattern(BULK);
	int in = temp_file(0), out = temp_file(0);
	cr_assert_eq(write(in, data, BULK), (ssize_t)BULK);
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	skt_relay_stats st;
	echo_relay(in, out, NULL, &st);
	check_file(out, data);
	close(in);
	close(out);
	free(data);
}

SKT_TEST(relay_bulk, append_only_file_output_falls_back_without_loss)
{
	uint8_t *data = pattern(BULK);
	int in = temp_file(0), out = temp_file(O_APPEND);
	cr_assert_eq(write(in, data, BULK), (ssize_t)BULK);
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	skt_relay_stats st;
	echo_relay(in, out, NULL, &st);
	check_file(out, data);
	close(in);
	close(out);
	free(data);
}

SKT_TEST(relay_bulk, sockets_as_local_fds_with_a_small_buffer)
{
	uint8_t *data = pattern(BULK), *back = malloc(BULK);
	int in[2], out[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, in), 0);
	cr_assert_eq(skt_socketpair(SOCK_STREAM, out), 0);
	io_job w, r;
	job_start(&w, writer_main, in[1], data, BULK);
	/* The reader blocks: give it a blocking end of the socketpair. */
	fcntl(out[0], F_SETFL, 0);
	job_start(&r, reader_main, out[0], back, BULK);
	skt_relay_opts o = SKT_RELAY_OPTS_INIT;
	o.bufsize = 1000; /* many partial reads and writes */
	skt_relay_stats st;
	echo_relay(in[0], out[1], &o, &st);
	shutdown(out[1], SHUT_WR);
	pthread_join(w.tid, NULL);
	pthread_join(r.tid, NULL);
	cr_assert_eq(r.done, BULK, "read back %zu", r.done);
	cr_assert(memcmp(back, data, BULK) == 0, "bytes differ");
	skt_close(in[0]);
	skt_close(out[0]);
	skt_close(out[1]);
	free(data);
	free(back);
}

SKT_TEST(relay_bulk, devnull_output_counts_what_it_discards)
{
	uint8_t *data = pattern(BULK);
	int in = temp_file(0);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	cr_assert_geq(null, 0);
	cr_assert_eq(write(in, data, BULK), (ssize_t)BULK);
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	skt_relay_stats st;
	echo_relay(in, null, NULL, &st); /* TCP: MSG_TRUNC, no copy */
	/* And over a Unix stream, where MSG_TRUNC does not discard. */
	int s[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, s), 0);
	pthread_t echo;
	cr_assert_eq(pthread_create(&echo, NULL, echo_main, &s[1]), 0);
	cr_assert_eq(lseek(in, 0, SEEK_SET), 0);
	int rc = skt_relay_run(in, null, s[0], NULL, &st);
	pthread_join(echo, NULL);
	cr_assert_eq(rc, 0, "relay: %s", skt_strerror(rc));
	cr_assert_eq(st.received, BULK);
	skt_close(s[0]);
	skt_close(s[1]);
	close(in);
	close(null);
	free(data);
}
