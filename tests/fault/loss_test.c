/* loss_test.c - the network misbehaving, in a namespace of the test's own:
 * random packet loss under a transfer of a few MiB, SYNs dropped into a
 * blackhole (connect timeouts, `sockit check` filtered), and a peer that
 * vanishes mid-stream (blocking calls end at their deadline). Root only:
 * they need iptables; otherwise each skips with a message. */
#include "fault.h"

#include <signal.h>
#include <sys/wait.h>

/* On loopback every packet, data and ACK alike, crosses INPUT once, so a
 * rule dropping with probability P loses P of each direction. 5% is a
 * very bad link; TCP must still deliver every byte, in order. */
#define LOSS_P       "0.05"
#define STREAM_BYTES ((size_t)4 << 20)
#define FRAME_BYTES  ((size_t)1 << 20)
#define TRANSFER_MS  60000

/* The sending side, in a child process: the stream, then one frame, then
 * wait for the receiver's one-byte ack so that nothing is cut short.
 * Exits 0, or 10 + the step that failed. */
static void sender(uint16_t port)
{
	uint8_t *buf = malloc(STREAM_BYTES);
	if (buf == NULL)
		_exit(9);
	fault_fill(buf, 0, STREAM_BYTES);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", port);
	int fd = skt_connect_one(&a, SOCK_STREAM, TRANSFER_MS);
	if (fd < 0)
		_exit(10);
	if (skt_send_all(fd, buf, STREAM_BYTES, TRANSFER_MS, NULL) < 0)
		_exit(11);
	if (skt_frame_send(fd, buf, FRAME_BYTES, 0, TRANSFER_MS) < 0)
		_exit(12);
	char ack;
	if (skt_read_exact(fd, &ack, 1, TRANSFER_MS, NULL) != 1)
		_exit(13);
	_exit(0);
}

static void receive_all(int l)
{
	uint8_t *buf = malloc(STREAM_BYTES);
	cr_assert_not_null(buf);
	int s = skt_accept(l, NULL, TRANSFER_MS);
	skt_assert_fd(s);
	size_t got = 0;
	ssize_t n = skt_read_exact(s, buf, STREAM_BYTES, TRANSFER_MS, &got);
	cr_assert_eq(n, (ssize_t)STREAM_BYTES, "read_exact: %s after %zu bytes",
		     skt_errname((int)n), got);
	size_t bad = fault_check(buf, 0, STREAM_BYTES);
	cr_assert_eq(bad, STREAM_BYTES, "byte %zu of the stream is wrong", bad);
	uint8_t *msg;
	size_t len;
	skt_assert_err(skt_frame_recv(s, &msg, &len, 0, TRANSFER_MS), 0);
	cr_assert_eq(len, FRAME_BYTES);
	cr_assert_eq(fault_check(msg, 0, len), len, "frame payload is wrong");
	skt_free(msg);
	skt_assert_err(skt_send_all(s, "k", 1, TRANSFER_MS, NULL), 0);
	skt_close(s);
	free(buf);
}

FAULT_TEST(loss, transfer_under_5pct_loss_arrives_intact, 120)
{
	fault_netns(true);
	/* Ethernet-sized packets, so a few MiB is thousands of segments and
	 * the loss rate means something. The MTU alone is not enough: lo
	 * passes whole 64 KiB GSO packets through netfilter, so segmentation
	 * offload is capped to one segment per packet too. */
	fault_sh("ip link set lo mtu 1500 gso_max_size 1500 gso_max_segs 1");
	fault_sh("iptables -A INPUT -i lo");
	fault_sh("iptables -A INPUT -i lo -m statistic --mode random "
		 "--probability " LOSS_P " -j DROP");
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	int64_t t0 = sktest_now_ms();
	/* No Criterion assertion may run in the child: it would talk to the
	 * runner through the worker's channel and wait there forever. */
	pid_t pid = fork();
	if (pid == 0)
		sender(port);
	cr_assert_gt(pid, 0, "fork: %s", strerror(errno));
	receive_all(l);
	cr_assert_eq(sktest_wait(pid), 0, "the sender failed");
	int64_t ms = sktest_now_ms() - t0;
	long total = fault_rule_packets(1), dropped = fault_rule_packets(2);
	size_t bytes = STREAM_BYTES + SKT_FRAME_HEADER + FRAME_BYTES;
	fault_report("loss: p=%s per packet on lo (both directions): dropped "
		     "%ld of %ld packets (%.1f%%); %zu bytes intact in %lld ms "
		     "(%.1f MiB/s)",
		     LOSS_P, dropped, total,
		     100.0 * (double)dropped / (double)total, bytes,
		     (long long)ms,
		     (double)bytes / 1048576.0 * 1000.0 / (double)ms);
	cr_assert_gt(dropped, 0, "the rule dropped nothing");
	skt_close(l);
}

/* Drop (not reject) the SYNs to port: the peer never answers, as a host
 * behind a black-holing firewall. */
static void blackhole(uint16_t port)
{
	fault_sh("iptables -A INPUT -p tcp --syn --dport %u -j DROP", port);
}

SKT_TEST(blackhole, connect_times_out_at_its_deadline)
{
	fault_netns(true);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	blackhole(port);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 400;
	int64_t t0 = sktest_now_ms();
	skt_assert_err(skt_connect("127.0.0.1", service, &o), SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 390 && took < 1500, "timed out after %lld ms",
		  (long long)took);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", port);
	t0 = sktest_now_ms();
	skt_assert_err(skt_connect_one(&a, SOCK_STREAM, 250), SKT_ETIMEDOUT);
	int64_t took2 = sktest_now_ms() - t0;
	fault_report("blackhole: connect ETIMEDOUT after %lld ms (timeout "
		     "400), connect_addr after %lld ms (250)",
		     (long long)took, (long long)took2);
	skt_close(l);
}

/* The sockit binary of this build: tests/fault/X -> ../../sockit. */
static void sockit_path(char *buf, size_t cap)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	char *cut = strstr(self, "/tests/fault/");
	cr_assert_not_null(cut);
	*cut = '\0';
	snprintf(buf, cap, "%s/sockit", self);
}

SKT_TEST(blackhole, sockit_check_says_filtered)
{
	fault_netns(true);
	char bin[4200], cmd[4400], out[1024];
	sockit_path(bin, sizeof(bin));
	if (access(bin, X_OK) != 0)
		cr_skip_test("no sockit binary at %s", bin);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	blackhole(port);
	snprintf(cmd, sizeof(cmd), "%s check -w 0.3 127.0.0.1 %u", bin, port);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d: %s",
		  st, out);
	cr_assert_not_null(strstr(out, "filtered"), "output: %s", out);
	fault_report("blackhole: sockit check: %.*s", (int)strcspn(out, "\n"),
		     out);
	skt_close(l);
}

/* Connected, then every packet to the server's port vanishes: a blocking
 * send or receive ends at its deadline, saying how much moved. */
SKT_TEST(blackhole, established_peer_vanishes_io_times_out)
{
	fault_netns(true);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", port);
	int c = skt_connect_one(&a, SOCK_STREAM, 1000);
	skt_assert_fd(c);
	int s = skt_accept(l, NULL, 1000);
	skt_assert_fd(s);
	fault_sh("iptables -A INPUT -p tcp --dport %u -j DROP", port);

	static uint8_t big[8 << 20];
	size_t sent = 0;
	int64_t t0 = sktest_now_ms();
	skt_assert_err(skt_send_all(c, big, sizeof(big), 300, &sent),
		       SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 290 && took < 1500, "send took %lld ms",
		  (long long)took);
	cr_assert_lt(sent, sizeof(big));
	char b;
	size_t got = 7;
	skt_assert_err(skt_read_exact(c, &b, 1, 200, &got), SKT_ETIMEDOUT);
	cr_assert_eq(got, 0);
	fault_report("blackhole: send_all ETIMEDOUT after %lld ms with %zu of "
		     "%zu bytes in the kernel",
		     (long long)took, sent, sizeof(big));
	skt_close_abort(c);
	skt_close_abort(s);
	skt_close(l);
}
