/* connect_test.c - skt_connect_one, skt_connect and the Happy Eyeballs
 * race of skt_connect_any, over loopback; the tests that need SYNs to
 * vanish make their own network namespace (as root) and drop them there. */
#include "sktest.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static skt_addr ip(const char *text, uint16_t port)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, text, port), 0, "bad ip %s", text);
	return a;
}

static uint16_t port_of(int fd)
{
	skt_addr a;
	cr_assert_eq(skt_sock_local(fd, &a), 0);
	return skt_addr_port(&a);
}

/* A TCP port that refuses: bound but never listening, so the kernel answers
 * every SYN with RST, and no other process can take the port meanwhile
 * (unlike a listener closed to free its port). Returns the fd holding it. */
static int refusing_port(const char *host, uint16_t *port)
{
	skt_addr a = ip(host, 0);
	int fd = skt_socket(skt_addr_family(&a), SOCK_STREAM, 0);
	skt_assert_fd(fd);
	cr_assert_eq(bind(fd, &a.u.sa, a.len), 0, "bind: %s", strerror(errno));
	*port = port_of(fd);
	return fd;
}

/* As refusing_port, on one port number in the other family too. */
static int refuse_on(const char *host, uint16_t port)
{
	skt_addr a = ip(host, port);
	int fd = skt_socket(skt_addr_family(&a), SOCK_STREAM, 0);
	skt_assert_fd(fd);
	cr_assert_eq(bind(fd, &a.u.sa, a.len), 0, "bind %s:%u: %s", host, port,
		     strerror(errno));
	return fd;
}

static void assert_host(const skt_addr *a, const char *want)
{
	char host[SKT_ADDRSTRLEN];
	cr_assert_geq(skt_addr_format_host(a, host, sizeof(host)), 0);
	cr_assert_str_eq(host, want, "address %s, want %s", host, want);
}

static size_t recv_wait(int fd, char *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 5000), 1, "nothing to read in 5 s");
	ssize_t n = recv(fd, buf, cap - 1, 0);
	cr_assert_geq(n, 0, "recv: %s", strerror(errno));
	buf[n] = '\0';
	return (size_t)n;
}

/* Each Criterion test runs in its own process, so a namespace made here
 * lives and dies with the test. Only lo, brought up, is in it. */
static void enter_netns(int extra_flags)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET | extra_flags), 0, "unshare: %s",
		     strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
}

/* Drop (not reject) SYNs to port: the peer never answers, as a host behind
 * a black-holing firewall does. */
static void drop_syns(const char *tool, uint16_t port)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd),
		 "%s -A INPUT -p tcp --syn --dport %u -j DROP >/dev/null 2>&1",
		 tool, port);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

SKT_TEST(connect, addr_reaches_listener)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_addr a = ip("127.0.0.1", port);
	int c = skt_connect_one(&a, SOCK_STREAM, 5000);
	skt_assert_fd(c);
	cr_assert(fcntl(c, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(c, F_GETFD) & FD_CLOEXEC);
	int s = skt_accept(l, NULL, 5000);
	skt_assert_fd(s);
	skt_close(s);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, addr_timeout_zero_returns_at_once)
{
	uint16_t port;
	int l = sktest_listen_tcp(true, &port);
	skt_addr a = ip("::1", port);
	int c = skt_connect_one(&a, SOCK_STREAM, 0);
	skt_assert_fd(c);
	struct pollfd p = {.fd = c, .events = POLLOUT};
	cr_assert_eq(poll(&p, 1, 5000), 1);
	skt_assert_err(skt_sock_error(c), 0);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, refused_is_econnrefused_with_report)
{
	uint16_t port;
	int hold = refusing_port("127.0.0.1", &port);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	skt_assert_err(skt_connect("127.0.0.1", service, &o), SKT_ECONNREFUSED);
	cr_assert_eq(rep.n, 1);
	cr_assert_eq(rep.total, 1);
	cr_assert_eq(rep.winner, -1);
	skt_assert_err(rep.attempts[0].err, SKT_ECONNREFUSED);
	assert_host(&rep.attempts[0].addr, "127.0.0.1");
	cr_assert_eq(skt_addr_port(&rep.attempts[0].addr), port);
	cr_assert_geq(rep.attempts[0].end_ms, rep.attempts[0].start_ms);
	skt_close(hold);
}

SKT_TEST(connect, timeout_zero_is_einval)
{
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 0;
	skt_assert_err(skt_connect("127.0.0.1", "1", &o), SKT_EINVAL);
	skt_addr a = ip("127.0.0.1", 1);
	skt_assert_err(skt_connect_any(&a, 1, &o), SKT_EINVAL);
}

SKT_TEST(connect, null_opts_means_defaults)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	int c = skt_connect("127.0.0.1", service, NULL);
	skt_assert_fd(c);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, no_address_is_enoaddr)
{
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.report = &rep;
	skt_assert_err(skt_connect_any(NULL, 0, &o), SKT_ENOADDR);
	cr_assert_eq(rep.total, 0);
	cr_assert_eq(rep.winner, -1);
}

/* Linux drops a SYN when the listener's accept queue is full (tcp_conn_
 * request: sk_acceptq_is_full), and the queue holds backlog + 1
 * connections, so with backlog 1 the third connect gets no answer. The
 * loop does not rely on that count: it connects until one times out. */
SKT_TEST(connect, full_backlog_times_out)
{
	skt_listen_opts lo = {.backlog = 1};
	int l = skt_listen(NULL, "0", &lo);
	skt_assert_fd(l);
	skt_addr a;
	cr_assert_eq(skt_sock_local(l, &a), 0);
	int held[8];
	size_t n = 0;
	int rc = 0;
	int64_t took = 0;
	while (n < 8) {
		int64_t t0 = sktest_now_ms();
		rc = skt_connect_one(&a, SOCK_STREAM, 300);
		took = sktest_now_ms() - t0;
		if (rc < 0)
			break;
		held[n++] = rc;
	}
	skt_assert_err(rc, SKT_ETIMEDOUT);
	cr_assert(n >= 1, "not even one connect got through");
	cr_assert(took >= 290 && took < 3000, "timed out after %lld ms",
		  (long long)took);
	for (size_t i = 0; i < n; i++)
		skt_close(held[i]);
	skt_close(l);
}

SKT_TEST(connect, blackhole_times_out)
{
	enter_netns(0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	drop_syns("iptables", port);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 300;
	o.report = &rep;
	int64_t t0 = sktest_now_ms();
	skt_assert_err(skt_connect("127.0.0.1", service, &o), SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 290 && took < 3000, "took %lld ms", (long long)took);
	cr_assert_eq(rep.n, 1);
	skt_assert_err(rep.attempts[0].err, SKT_ETIMEDOUT);

	skt_addr a = ip("127.0.0.1", port);
	skt_assert_err(skt_connect_one(&a, SOCK_STREAM, 200), SKT_ETIMEDOUT);
	skt_close(l);
}

/* A failed attempt starts the next one at once, so a refused IPv6 address
 * costs nothing like the 2 s attempt delay. */
SKT_TEST(happy_eyeballs, v6_refused_then_v4_wins)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	int hold = refuse_on("::1", port);
	skt_addr addrs[] = {ip("::1", port), ip("127.0.0.1", port)};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.attempt_delay_ms = 2000;
	o.report = &rep;
	int64_t t0 = sktest_now_ms();
	int c = skt_connect_any(addrs, 2, &o);
	skt_assert_fd(c);
	cr_assert_lt(sktest_now_ms() - t0, 1500,
		     "fallback waited for the delay");
	cr_assert_eq(rep.total, 2);
	cr_assert_eq(rep.winner, 1);
	assert_host(&rep.attempts[0].addr, "::1");
	skt_assert_err(rep.attempts[0].err, SKT_ECONNREFUSED);
	assert_host(&rep.attempts[1].addr, "127.0.0.1");
	skt_assert_err(rep.attempts[1].err, 0);
	skt_close(c);
	skt_close(hold);
	skt_close(l);
}

SKT_TEST(happy_eyeballs, v6_blackholed_then_v4_wins_after_delay)
{
	enter_netns(0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	drop_syns("ip6tables", port);
	skt_addr addrs[] = {ip("127.0.0.1", port), ip("::1", port)};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.attempt_delay_ms = 150;
	o.report = &rep;
	int c = skt_connect_any(addrs, 2, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.total, 2);
	cr_assert_eq(rep.winner, 1);
	/* IPv6 went first although the caller listed it second. */
	assert_host(&rep.attempts[0].addr, "::1");
	skt_assert_err(rep.attempts[0].err, SKT_ECANCELED);
	assert_host(&rep.attempts[1].addr, "127.0.0.1");
	skt_assert_err(rep.attempts[1].err, 0);
	int64_t start = rep.attempts[1].start_ms;
	cr_assert(start >= 145 && start < 2000,
		  "v4 started at %lld ms, want about 150", (long long)start);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(happy_eyeballs, deadline_ends_every_attempt)
{
	enter_netns(0);
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	drop_syns("iptables", port);
	drop_syns("ip6tables", port);
	skt_addr addrs[] = {ip("::1", port), ip("127.0.0.1", port)};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 400;
	o.attempt_delay_ms = 100;
	o.report = &rep;
	int64_t t0 = sktest_now_ms();
	skt_assert_err(skt_connect_any(addrs, 2, &o), SKT_ETIMEDOUT);
	int64_t took = sktest_now_ms() - t0;
	cr_assert(took >= 390 && took < 3000, "took %lld ms", (long long)took);
	cr_assert_eq(rep.total, 2);
	cr_assert_eq(rep.winner, -1);
	skt_assert_err(rep.attempts[0].err, SKT_ETIMEDOUT);
	skt_assert_err(rep.attempts[1].err, SKT_ETIMEDOUT);
	skt_close(l);
}

/* "dual.test" resolves to ::1 and 127.0.0.1 through a hosts file that only
 * this test's mount namespace sees; only the IPv4 address listens. */
SKT_TEST(happy_eyeballs, name_with_both_families)
{
	enter_netns(CLONE_NEWNS);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0,
		     "make mounts private: %s", strerror(errno));
	char hosts[] = "/tmp/sktest-hosts-XXXXXX";
	int hfd = mkstemp(hosts);
	cr_assert_geq(hfd, 0);
	const char text[] = "::1 dual.test\n127.0.0.1 dual.test\n";
	cr_assert_eq(write(hfd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(hfd);
	int m = mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL);
	int merr = errno;
	unlink(hosts); /* the bind mount keeps the inode alive */
	cr_assert_eq(m, 0, "bind-mount hosts: %s", strerror(merr));

	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	int c = skt_connect("dual.test", service, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.total, 2);
	assert_host(&rep.attempts[0].addr, "::1");
	skt_assert_err(rep.attempts[0].err, SKT_ECONNREFUSED);
	assert_host(&rep.attempts[1].addr, "127.0.0.1");
	cr_assert_eq(rep.winner, 1);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(happy_eyeballs, interleaves_families_v6_first)
{
	uint16_t p[4];
	int hold[4];
	hold[0] = refusing_port("127.0.0.1", &p[0]);
	hold[1] = refusing_port("127.0.0.1", &p[1]);
	hold[2] = refusing_port("::1", &p[2]);
	hold[3] = refusing_port("::1", &p[3]);
	skt_addr addrs[] = {ip("127.0.0.1", p[0]), ip("127.0.0.1", p[1]),
			    ip("::1", p[2]), ip("::1", p[3])};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	skt_assert_err(skt_connect_any(addrs, 4, &o), SKT_ECONNREFUSED);
	/* RFC 8305 section 4: v6, v4, v6, v4, each family in given order. */
	const size_t want[] = {2, 0, 3, 1};
	cr_assert_eq(rep.n, 4);
	for (size_t i = 0; i < 4; i++) {
		const skt_addr *got = &rep.attempts[i].addr;
		cr_assert(skt_addr_equal(got, &addrs[want[i]]),
			  "attempt %zu is not address %zu", i, want[i]);
		skt_assert_err(rep.attempts[i].err, SKT_ECONNREFUSED);
	}
	for (size_t i = 0; i < 4; i++)
		skt_close(hold[i]);
}

SKT_TEST(happy_eyeballs, report_records_every_attempt)
{
	uint16_t r1, r2, port;
	int h1 = refusing_port("127.0.0.1", &r1);
	int h2 = refusing_port("127.0.0.1", &r2);
	int l = sktest_listen_tcp(false, &port);
	skt_addr addrs[] = {ip("127.0.0.1", r1), ip("127.0.0.1", r2),
			    ip("127.0.0.1", port)};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	int c = skt_connect_any(addrs, 3, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.n, 3);
	cr_assert_eq(rep.total, 3);
	cr_assert_eq(rep.winner, 2);
	for (size_t i = 0; i < 3; i++) {
		cr_assert(skt_addr_equal(&rep.attempts[i].addr, &addrs[i]));
		skt_assert_err(rep.attempts[i].err,
			       i < 2 ? SKT_ECONNREFUSED : 0);
		cr_assert_geq(rep.attempts[i].end_ms, rep.attempts[i].start_ms);
	}
	skt_close(c);
	skt_close(h1);
	skt_close(h2);
	skt_close(l);
}

/* More attempts than the report holds: it keeps the first SKT_REPORT_MAX
 * and counts them all, and a winner past the end takes the last slot. */
SKT_TEST(happy_eyeballs, report_caps_at_report_max)
{
	enum { N = SKT_REPORT_MAX + 3 };
	int hold[N - 1];
	skt_addr addrs[N];
	for (size_t i = 0; i < N - 1; i++) {
		uint16_t p;
		hold[i] = refusing_port("127.0.0.1", &p);
		addrs[i] = ip("127.0.0.1", p);
	}
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	addrs[N - 1] = ip("127.0.0.1", port);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	int c = skt_connect_any(addrs, N, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.n, SKT_REPORT_MAX, "n %zu", rep.n);
	cr_assert_eq(rep.total, N, "total %zu", rep.total);
	cr_assert_eq(rep.winner, SKT_REPORT_MAX - 1, "winner %d", rep.winner);
	const skt_attempt *won = &rep.attempts[rep.winner];
	cr_assert(skt_addr_equal(&won->addr, &addrs[N - 1]));
	skt_assert_err(won->err, 0);
	skt_assert_err(rep.attempts[SKT_REPORT_MAX - 2].err, SKT_ECONNREFUSED);
	for (size_t i = 0; i < N - 1; i++)
		skt_close(hold[i]);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, resolver_out_of_memory_leaks_nothing)
{
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 1000;
	sktest_fail_alloc_at(1);
	skt_assert_err(skt_connect("127.0.0.1", "1", &o), SKT_ENOMEM);
	skt_assert_err(skt_listen("127.0.0.1", "0", NULL), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
}

SKT_TEST(connect, binds_source_port)
{
	uint16_t port, sport;
	int l = sktest_listen_tcp(false, &port);
	/* A free port to connect from: hold it bound, then let it go just
	 * before the connect binds it (SO_REUSEADDR on both ends). */
	int hold = refusing_port("127.0.0.1", &sport);
	skt_close(hold);
	skt_addr src = ip("127.0.0.1", sport);
	skt_addr dst = ip("127.0.0.1", port);
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.source = &src;
	int c = skt_connect_any(&dst, 1, &o);
	skt_assert_fd(c);
	skt_addr peer;
	int s = skt_accept(l, &peer, 5000);
	skt_assert_fd(s);
	cr_assert_eq(skt_addr_port(&peer), sport, "peer port %u, want %u",
		     skt_addr_port(&peer), sport);
	skt_close(s);
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, source_skips_other_family)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	skt_addr src = ip("127.0.0.1", 0);
	skt_addr addrs[] = {ip("::1", port), ip("127.0.0.1", port)};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.source = &src;
	o.report = &rep;
	int c = skt_connect_any(addrs, 2, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.total, 1, "the IPv6 address was tried");
	assert_host(&rep.attempts[0].addr, "127.0.0.1");
	skt_close(c);
	skt_close(l);
}

SKT_TEST(connect, udp_connects_first_address)
{
	int u = skt_udp_bind(NULL, "0", NULL);
	skt_assert_fd(u);
	char service[8];
	snprintf(service, sizeof(service), "%u", port_of(u));
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.socktype = SOCK_DGRAM;
	o.report = &rep;
	int c = skt_connect("127.0.0.1", service, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.total, 1);
	cr_assert_eq(rep.winner, 0);
	cr_assert_eq(send(c, "dgram", 5, MSG_NOSIGNAL), 5);
	char buf[16];
	cr_assert_eq(recv_wait(u, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "dgram");
	skt_close(c);
	skt_close(u);
}

/* The tutorials' server: python3 binds port 0, prints it, greets the
 * client and echoes back what it said on stdout. */
static const char py_server[] =
	"import socket\n"
	"srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
	"srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
	"srv.bind(('127.0.0.1', 0))\n"
	"srv.listen(1)\n"
	"print(srv.getsockname()[1], flush=True)\n"
	"conn, addr = srv.accept()\n"
	"conn.sendall(b'hello from python')\n"
	"print(conn.recv(1024).decode(), flush=True)\n"
	"conn.close()\n";

SKT_TEST(interop, connect_to_python_server)
{
	int out;
	pid_t pid = sktest_python(py_server, NULL, &out);
	char line[16] = "";
	size_t got = 0;
	while (got + 1 < sizeof(line) && strchr(line, '\n') == NULL) {
		ssize_t n = read(out, line + got, sizeof(line) - 1 - got);
		cr_assert_gt(n, 0, "python3 printed no port");
		got += (size_t)n;
		line[got] = '\0';
	}
	*strchr(line, '\n') = '\0';

	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 10000;
	int c = skt_connect("127.0.0.1", line, &o);
	skt_assert_fd(c);
	char buf[64];
	got = 0;
	while (got < 17)
		got += recv_wait(c, buf + got, sizeof(buf) - got);
	cr_assert_str_eq(buf, "hello from python");
	cr_assert_eq(send(c, "hello from sockit", 17, MSG_NOSIGNAL), 17);

	char text[128];
	sktest_slurp(out, text, sizeof(text));
	cr_assert_eq(sktest_wait(pid), 0);
	cr_assert_str_eq(text, "hello from sockit\n");
	skt_close(c);
}
