/* limits_test.c - every default limit in docs/limits.md holds exactly at
 * its value and gives its documented error one step past it: frame and
 * line sizes when the caller passes 0, the buffers a connection starts
 * with and how far they grow, the Happy Eyeballs delay and the probe
 * timeouts when left alone, and the command's own bounds. The explicit
 * limits (max given by the caller) are tested next to their code. */
#include "sktest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRAME_MAX SKT_FRAME_MAX_DEFAULT
#define LINE_MAX  SKT_LINE_MAX_DEFAULT

static void pair(int fds[2])
{
	skt_assert_err(skt_socketpair(SOCK_STREAM, fds), 0);
}

static void put_header(int fd, size_t len)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
			  (uint8_t)(len >> 8), (uint8_t)len};
	skt_assert_err(skt_send_all(fd, hdr, 4, 1000, NULL), 0);
}

/* ---- SKT_FRAME_MAX_DEFAULT: 16 MiB wherever max is 0 ---- */

SKT_TEST(limits, frame_max_default_in_the_codec)
{
	uint8_t hdr[4];
	skt_assert_err(skt_frame_header(hdr, FRAME_MAX, 0), 0);
	skt_assert_err(skt_frame_header(hdr, FRAME_MAX + 1, 0), SKT_ETOOBIG);

	skt_frame_decoder d;
	const uint8_t *msg;
	size_t len;
	skt_frame_decoder_init(&d, 0);
	cr_assert_eq(d.max, FRAME_MAX);
	skt_frame_header(hdr, FRAME_MAX, 0);
	cr_assert_eq(skt_frame_decode(&d, hdr, 4, &msg, &len), 4);
	skt_frame_decoder_fini(&d);
	skt_frame_decoder_init(&d, 0);
	hdr[3] = 1; /* 16 MiB + 1 */
	skt_assert_err(skt_frame_decode(&d, hdr, 4, &msg, &len), SKT_ETOOBIG);
	skt_frame_decoder_fini(&d);
}

SKT_TEST(limits, frame_max_default_in_send_and_recv)
{
	int fds[2];
	pair(fds);
	static const uint8_t byte;
	/* Refused before a byte moves: the peer has nothing to read. */
	skt_assert_err(skt_frame_send(fds[0], &byte, FRAME_MAX + 1, 0, 1000),
		       SKT_ETOOBIG);
	char c;
	skt_assert_err(skt_recv(fds[1], &c, 1, 0), SKT_EAGAIN);

	uint8_t *msg;
	size_t len;
	put_header(fds[0], FRAME_MAX + 1);
	skt_assert_err(skt_frame_recv(fds[1], &msg, &len, 0, 1000),
		       SKT_ETOOBIG);
	/* Exactly the maximum is accepted: it waits for the payload. */
	put_header(fds[0], FRAME_MAX);
	skt_assert_err(skt_frame_recv(fds[1], &msg, &len, 0, 200),
		       SKT_ETIMEDOUT);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(limits, frame_max_default_in_conn)
{
	int fds[2];
	pair(fds);
	skt_conn *c;
	skt_assert_err(skt_conn_new(&c, fds[1], 0), 0);
	skt_conn_set_timeout(c, 200);
	const uint8_t *msg;
	put_header(fds[0], FRAME_MAX + 1);
	skt_assert_err(skt_conn_read_frame(c, 0, &msg), SKT_ETOOBIG);
	cr_assert_eq(skt_conn_buffered(c), 4, "the header stays buffered");
	skt_conn_free(c);
	skt_close(fds[0]);
}

/* ---- SKT_LINE_MAX_DEFAULT: 64 KiB wherever max is 0 ---- */

/* The decoder's max counts the line without its delimiter. */
SKT_TEST(limits, line_max_default_in_the_codec)
{
	static uint8_t in[LINE_MAX + 2];
	memset(in, 'a', sizeof(in));
	in[LINE_MAX] = '\n';
	skt_line_decoder d;
	const uint8_t *line;
	size_t len;
	skt_line_decoder_init(&d, 0, '\n');
	cr_assert_eq(d.max, LINE_MAX);
	cr_assert_eq(skt_line_decode(&d, in, LINE_MAX + 1, &line, &len),
		     LINE_MAX + 1);
	cr_assert_eq(len, LINE_MAX);
	skt_line_decoder_fini(&d);
	skt_line_decoder_init(&d, 0, '\n');
	in[LINE_MAX] = 'a';
	skt_assert_err(skt_line_decode(&d, in, LINE_MAX + 1, &line, &len),
		       SKT_ETOOBIG);
	skt_line_decoder_fini(&d);
}

/* A connection's max counts the delimiter: max bytes must hold it. */
SKT_TEST(limits, line_max_default_in_conn)
{
	static uint8_t in[LINE_MAX + 1];
	int fds[2];
	pair(fds);
	skt_sock_set_opt(fds[0], SKT_OPT_SNDBUF, 1 << 20);
	skt_conn *c;
	skt_assert_err(skt_conn_new(&c, fds[1], 0), 0);
	skt_conn_set_timeout(c, 1000);
	const uint8_t *line;
	memset(in, 'a', sizeof(in));
	in[LINE_MAX - 1] = '\n';
	skt_assert_err(skt_send_all(fds[0], in, LINE_MAX, 1000, NULL), 0);
	cr_assert_eq(skt_conn_read_line(c, 0, &line), LINE_MAX);
	in[LINE_MAX - 1] = 'a';
	skt_assert_err(skt_send_all(fds[0], in, LINE_MAX + 1, 1000, NULL), 0);
	skt_assert_err(skt_conn_read_line(c, 0, &line), SKT_ETOOBIG);
	cr_assert_eq(skt_conn_buffered(c), LINE_MAX, "the bytes stay readable");
	skt_conn_free(c);
	skt_close(fds[0]);
}

/* ---- SKT_CONN_BUF_DEFAULT: 16 KiB to start, growing to the call's max
 * only as bytes arrive ---- */

static size_t biggest;

static void *big_malloc(size_t n)
{
	if (n > biggest)
		biggest = n;
	return malloc(n);
}

static void *big_realloc(void *p, size_t n)
{
	if (n > biggest)
		biggest = n;
	return realloc(p, n);
}

SKT_TEST(limits, conn_buffer_starts_at_16kib_and_grows_to_what_is_needed)
{
	/* A plain allocator that records the largest block (this test does
	 * its own accounting: every block is freed by skt_conn_free). */
	skt_set_allocator(big_malloc, big_realloc, free);
	int fds[2];
	pair(fds);
	skt_conn *c;
	skt_assert_err(skt_conn_new(&c, fds[1], 0), 0);
	cr_assert_eq(biggest, SKT_CONN_BUF_DEFAULT);
	skt_conn_set_timeout(c, 1000);
	static uint8_t in[40 << 10];
	memset(in, 'b', sizeof(in));
	in[sizeof(in) - 1] = '\n';
	skt_assert_err(skt_send_all(fds[0], in, sizeof(in), 1000, NULL), 0);
	const uint8_t *line;
	cr_assert_eq(skt_conn_read_line(c, 0, &line), (ssize_t)sizeof(in));
	/* Doubling from 16 KiB: 64 KiB holds the 40 KiB line; never more
	 * than the call's max (64 KiB here). */
	cr_assert_eq(biggest, LINE_MAX, "buffer grew to %zu", biggest);
	skt_conn_free(c);
	skt_close(fds[0]);
	skt_set_allocator(NULL, NULL, NULL);
}

/* ---- The loop's per-connection defaults: write-queue water marks of
 * 16 / 64 KiB, datagrams of 2048 bytes ---- */

struct water {
	int above, below;
};

static void on_water(skt_stream *s, bool above)
{
	struct water *w = skt_stream_udata(s);
	if (above)
		w->above++;
	else
		w->below++;
}

/* Read what the peer has, without waiting; returns the count. */
static size_t drain(int fd)
{
	static uint8_t sink[64 << 10];
	size_t total = 0;
	ssize_t n;
	while ((n = skt_recv(fd, sink, sizeof(sink), 0)) > 0)
		total += (size_t)n;
	return total;
}

SKT_TEST(limits, stream_water_marks_default_16k_64k)
{
	skt_loop *l;
	skt_assert_err(skt_loop_new(&l, NULL), 0);
	int fds[2];
	pair(fds);
	/* Small kernel buffers, so the queue is what fills. */
	skt_sock_set_opt(fds[0], SKT_OPT_SNDBUF, 4096);
	skt_sock_set_opt(fds[1], SKT_OPT_RCVBUF, 4096);
	skt_stream *s;
	skt_assert_err(skt_stream_new(l, &s, fds[0]), 0);
	struct water w = {0, 0};
	skt_stream_set_udata(s, &w);
	skt_assert_err(skt_stream_set_water(s, 0, 0, on_water), 0);
	static uint8_t chunk[8 << 10];
	int rc = 0;
	for (int i = 0; i < 1000 && rc == 0; i++)
		rc = skt_stream_write(s, chunk, sizeof(chunk));
	cr_assert_eq(rc, 1, "the queue never went above the mark");
	size_t q = skt_stream_queued(s);
	cr_assert(q > SKT_WATER_HIGH_DEFAULT &&
			  q <= SKT_WATER_HIGH_DEFAULT + sizeof(chunk),
		  "above the mark at %zu queued bytes", q);
	for (int i = 0; i < 100 && w.below == 0; i++) {
		skt_loop_run(l, SKT_RUN_NOWAIT);
		drain(fds[1]);
	}
	cr_assert_eq(w.above, 1);
	cr_assert_eq(w.below, 1, "never drained to the low mark");
	cr_assert_leq(skt_stream_queued(s), SKT_WATER_LOW_DEFAULT);
	skt_stream_free(s);
	skt_loop_free(l);
	skt_close(fds[1]);
}

struct dgrams {
	int n;
	size_t len[4];
	bool truncated[4];
};

static void on_dgrams(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	struct dgrams *g = skt_udp_udata(u);
	for (size_t i = 0; i < n && g->n < 4; i++, g->n++) {
		g->len[g->n] = d[i].len;
		g->truncated[g->n] = d[i].truncated;
	}
}

SKT_TEST(limits, loop_udp_datagram_default_2048)
{
	skt_loop *l;
	skt_assert_err(skt_loop_new(&l, NULL), 0);
	int fd = skt_udp_bind(NULL, "0", NULL);
	skt_assert_fd(fd);
	skt_addr a;
	cr_assert_eq(skt_sock_local(fd, &a), 0);
	skt_udp *u;
	skt_assert_err(skt_udp_new(l, &u, fd, 0), 0);
	struct dgrams g = {0};
	skt_udp_set_udata(u, &g);
	skt_assert_err(skt_udp_recv_start(u, on_dgrams), 0);
	int c = skt_connect_one(&a, SOCK_DGRAM, 1000);
	skt_assert_fd(c);
	static uint8_t big[2049];
	cr_assert_eq(skt_send(c, big, 2048, 1000), 2048);
	cr_assert_eq(skt_send(c, big, 2049, 1000), 2049);
	for (int i = 0; i < 20 && g.n < 2; i++)
		skt_loop_run(l, SKT_RUN_ONCE);
	cr_assert_eq(g.n, 2);
	cr_assert(g.len[0] == 2048 && !g.truncated[0],
		  "2048 bytes arrive whole");
	cr_assert(g.len[1] == 2048 && g.truncated[1],
		  "2049 bytes are truncated");
	skt_close(c);
	skt_udp_free(u);
	skt_loop_free(l);
}

/* ---- SKT_CONNECT_OPTS_INIT: no timeout, 250 ms between attempts ---- */

SKT_TEST(limits, connect_defaults_block_and_space_attempts_250ms)
{
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	cr_assert_eq(o.timeout_ms, SKT_TIMEOUT_NONE);
	cr_assert_eq(o.attempt_delay_ms, 250);
	if (!sktest_can_netns())
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char cmd[128];
	snprintf(cmd, sizeof(cmd),
		 "ip6tables -A INPUT -p tcp --syn --dport %u "
		 "-j DROP",
		 port);
	cr_assert_eq(system(cmd), 0);
	skt_addr addrs[2];
	skt_addr_from_ip(&addrs[0], "::1", port);
	skt_addr_from_ip(&addrs[1], "127.0.0.1", port);
	skt_connect_report rep;
	/* attempt_delay_ms 0 means the default too. */
	for (int i = 0; i < 2; i++) {
		o.attempt_delay_ms = i == 0 ? 250 : 0;
		o.report = &rep;
		int c = skt_connect_any(addrs, 2, &o);
		skt_assert_fd(c);
		cr_assert_eq(rep.winner, 1);
		int64_t start = rep.attempts[1].start_ms;
		cr_assert(start >= 245 && start < 1000,
			  "IPv4 started at %lld ms, want 250",
			  (long long)start);
		skt_close(c);
		skt_close(skt_accept(l, NULL, 1000));
	}
	skt_close(l);
}

/* ---- SKT_REPORT_MAX and the resolver-facing sizes are tested where they
 * live (connect_test, endpoint_test, addr_test). ---- */

/* ---- SKT_SCAN_TIMEOUT_DEFAULT: 1 s per probe ---- */

SKT_TEST(limits, scan_probe_timeout_default_is_1s)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char cmd[128];
	snprintf(cmd, sizeof(cmd),
		 "iptables -A INPUT -p tcp --syn --dport %u "
		 "-j DROP",
		 port);
	cr_assert_eq(system(cmd), 0);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", 0);
	skt_portset ps;
	skt_portset_clear(&ps);
	skt_portset_add(&ps, port);
	skt_scan_result *r;
	cr_assert_eq(skt_scan_collect(&a, &ps, NULL, &r), 1);
	cr_assert_eq(r[0].state, SKT_PORT_FILTERED);
	int64_t ms = r[0].rtt_us / 1000;
	cr_assert(ms >= 990 && ms < 1500, "filtered after %lld ms",
		  (long long)ms);
	skt_free(r);
	skt_close(l);
}

/* ---- The command's own bounds ---- */

/* The sockit binary of this build: tests/net/X -> ../../sockit. */
static void sockit(char *buf, size_t cap)
{
	char self[2048];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	char *cut = strstr(self, "/tests/net/");
	cr_assert_not_null(cut);
	*cut = '\0';
	snprintf(buf, cap, "%s/sockit", self);
	if (access(buf, X_OK) != 0)
		cr_skip_test("no sockit binary at %s", buf);
}

/* Exit status of `sockit ARGS` (stdout and stderr to /dev/null). */
static int run_sockit(const char *args)
{
	char bin[2100], cmd[8192];
	sockit(bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1 </dev/null", bin,
		 args);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

SKT_TEST(limits, cli_seconds_at_most_a_day)
{
	/* A refusing port answers at once, whatever -w says. */
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_close(l);
	char args[128];
	snprintf(args, sizeof(args), "check -w 86400 127.0.0.1 %u", port);
	cr_assert_eq(run_sockit(args), 1, "-w 86400 is allowed");
	snprintf(args, sizeof(args), "check -w 86400.5 127.0.0.1 %u", port);
	cr_assert_eq(run_sockit(args), 2, "-w 86400.5 is over a day");
	snprintf(args, sizeof(args), "check -w 86401 127.0.0.1 %u", port);
	cr_assert_eq(run_sockit(args), 2, "-w 86401 is over a day");
}

SKT_TEST(limits, cli_at_most_64_address_ranges)
{
	char args[4096] = "listen";
	size_t o = strlen(args);
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(args + o, sizeof(args) - o,
				      " --allow 10.0.%d.0/24", i);
	/* 64 ranges are taken; the bad port is what fails. */
	snprintf(args + o, sizeof(args) - o, " 127.0.0.1 99999");
	cr_assert_eq(run_sockit(args), 2);
	char args2[4200];
	snprintf(args2, sizeof(args2), "%.*s --allow 10.1.0.0/16 127.0.0.1 0",
		 (int)o, args);
	char bin[2100], cmd[8400], out[512];
	sockit(bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 </dev/null", bin, args2);
	FILE *f = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "65 ranges: %s", out);
	cr_assert_not_null(strstr(out, "more than 64"), "message: %s", out);
}

SKT_TEST(limits, cli_check_waits_2s_by_default)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char args[128];
	snprintf(args, sizeof(args),
		 "iptables -A INPUT -p tcp --syn --dport %u "
		 "-j DROP",
		 port);
	cr_assert_eq(system(args), 0);
	snprintf(args, sizeof(args), "check 127.0.0.1 %u", port);
	int64_t t0 = sktest_now_ms();
	cr_assert_eq(run_sockit(args), 1, "a filtered port is a failure");
	int64_t ms = sktest_now_ms() - t0;
	cr_assert(ms >= 1990 && ms < 3000, "check took %lld ms", (long long)ms);
	skt_close(l);
}
