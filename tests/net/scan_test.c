/* scan_test.c - skt_scan over loopback: listeners found open, refusing
 * ports closed, self-connects not counted as open, blackholed ports
 * filtered, EMFILE met by lowering concurrency, UDP answers told apart.
 *
 * Outside a namespace every port scanned is one this test holds (a
 * listener, or a socket bound but not listening, which refuses and which
 * nobody else can take), so the results are exact even while other
 * programs open ports on the same loopback. Tests that need more (whole
 * ranges, a narrowed ephemeral range, a packet filter) make their own
 * network namespace as root and skip otherwise. */
#include "sktest.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXHELD 128

/* What a scan reported, by port. */
typedef struct seen {
	skt_scan_result r[65536];
	unsigned calls[65536];
	size_t n;
} seen;

static seen *got;

static void on_result(const skt_scan_result *r, void *arg)
{
	seen *s = arg;
	s->r[r->port] = *r;
	s->calls[r->port]++;
	s->n++;
}

static uint16_t port_of(int fd)
{
	skt_addr a;
	cr_assert_eq(skt_sock_local(fd, &a), 0);
	return skt_addr_port(&a);
}

/* A socket bound on 127.0.0.1 (or ::1) but not listening: TCP SYNs to its
 * port get a reset, and no other program can take the port meanwhile. */
static int refusing(bool v6, int type, uint16_t *port)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, v6 ? "::1" : "127.0.0.1", 0), 0);
	int fd = skt_socket(skt_addr_family(&a), type, 0);
	cr_assert_geq(fd, 0, "socket: %s", skt_strerror(fd));
	cr_assert_eq(bind(fd, &a.u.sa, a.len), 0, "bind: %s", strerror(errno));
	*port = port_of(fd);
	return fd;
}

static skt_addr loopback(bool v6)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, v6 ? "::1" : "127.0.0.1", 0), 0);
	return a;
}

static void assert_state(uint16_t port, skt_port_state want, int err)
{
	const skt_scan_result *r = &got->r[port];
	cr_assert_eq(got->calls[port], 1, "port %u reported %u times", port,
		     got->calls[port]);
	cr_assert_eq(r->state, want, "port %u: %s (%s), want %s", port,
		     skt_port_state_name(r->state), skt_scan_reason(r),
		     skt_port_state_name(want));
	cr_assert_eq(r->err, err, "port %u: error %s, want %s", port,
		     skt_errname(r->err), skt_errname(err));
}

static void setup(void)
{
	sktest_setup();
	got = calloc(1, sizeof(*got));
	cr_assert_not_null(got);
}

static void teardown(void)
{
	free(got);
	sktest_teardown();
}

#define SCAN_TEST(suite, name, ...)                                            \
	Test(suite, name, .init = setup, .fini = teardown, .timeout = 60,      \
	     ##__VA_ARGS__)

/* Each Criterion test is its own process: the namespace dies with it. */
static void enter_netns(void)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
}

/* ---- TCP ---- */

SCAN_TEST(scan_tcp, listeners_open_refusing_closed)
{
	int fds[6];
	uint16_t open[3], closed[3];
	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < 3; i++) {
		fds[i] = sktest_listen_tcp(false, &open[i]);
		fds[3 + i] = refusing(false, SOCK_STREAM, &closed[i]);
		skt_portset_add(&set, open[i]);
		skt_portset_add(&set, closed[i]);
	}
	skt_addr target = loopback(false);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	int n = skt_scan(&target, &set, &o, on_result, got);
	cr_assert_eq(n, 6, "scanned %d: %s", n, n < 0 ? skt_strerror(n) : "");
	cr_assert_eq(got->n, 6, "callback ran %zu times", got->n);
	for (int i = 0; i < 3; i++) {
		assert_state(open[i], SKT_PORT_OPEN, 0);
		assert_state(closed[i], SKT_PORT_CLOSED, SKT_ECONNREFUSED);
		cr_assert_eq(got->r[open[i]].socktype, SOCK_STREAM);
		cr_assert_str_eq(skt_scan_reason(&got->r[open[i]]),
				 "connected");
		cr_assert_str_eq(skt_scan_reason(&got->r[closed[i]]),
				 "refused");
	}
	cr_assert_eq(st.ports, 6);
	cr_assert_eq(st.count[SKT_PORT_OPEN], 3);
	cr_assert_eq(st.count[SKT_PORT_CLOSED], 3);
	cr_assert_eq(st.self_connects, 0);
	for (int i = 0; i < 6; i++)
		skt_close(fds[i]);
}

SCAN_TEST(scan_tcp, ipv6_loopback)
{
	uint16_t op, cp;
	int l = sktest_listen_tcp(true, &op);
	int c = refusing(true, SOCK_STREAM, &cp);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, op);
	skt_portset_add(&set, cp);
	skt_addr target = loopback(true);
	cr_assert_eq(skt_scan(&target, &set, NULL, on_result, got), 2);
	assert_state(op, SKT_PORT_OPEN, 0);
	assert_state(cp, SKT_PORT_CLOSED, SKT_ECONNREFUSED);
	skt_close(l);
	skt_close(c);
}

SCAN_TEST(scan_tcp, collect_sorts_by_port)
{
	int fds[8];
	uint16_t ports[8];
	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < 8; i++) {
		fds[i] = i % 2 ? sktest_listen_tcp(false, &ports[i])
			       : refusing(false, SOCK_STREAM, &ports[i]);
		skt_portset_add(&set, ports[i]);
	}
	skt_addr target = loopback(false);
	skt_scan_result *res;
	int n = skt_scan_collect(&target, &set, NULL, &res);
	cr_assert_eq(n, 8, "collect: %d", n);
	for (int k = 1; k < n; k++)
		cr_assert_lt(res[k - 1].port, res[k].port);
	for (int k = 0; k < n; k++)
		for (int i = 0; i < 8; i++)
			if (ports[i] == res[k].port)
				cr_assert_eq(res[k].state,
					     i % 2 ? SKT_PORT_OPEN
						   : SKT_PORT_CLOSED,
					     "port %u", ports[i]);
	skt_free(res);
	for (int i = 0; i < 8; i++)
		skt_close(fds[i]);
}

/* The kernel picks the source port of a connect from the ephemeral range;
 * narrowed to one port P, a connect to 127.0.0.1:P must come from P: the
 * SYN meets its own socket and the connect succeeds with nobody
 * listening (TCP simultaneous open). A naive scanner calls that open. */
SCAN_TEST(scan_tcp, self_connect_is_closed)
{
	enter_netns();
	cr_assert_eq(
		system("sysctl -qw net.ipv4.ip_local_port_range='40000 40000'"),
		0);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, 40000);
	skt_addr target = loopback(false);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 1);
	assert_state(40000, SKT_PORT_CLOSED, 0);
	cr_assert(got->r[40000].self_connect, "self-connect not flagged");
	cr_assert_str_eq(skt_scan_reason(&got->r[40000]), "self-connect");
	cr_assert_eq(st.self_connects, 1);
}

/* A narrow ephemeral range scanned whole, many probes at once: probes
 * connect to themselves and, now and then, to each other (A from P to Q
 * while B goes from Q to P). Whatever happens, the open set is exactly the
 * listeners. */
SCAN_TEST(scan_tcp, ephemeral_range_open_set_is_exact)
{
	enter_netns();
	cr_assert_eq(
		system("sysctl -qw net.ipv4.ip_local_port_range='40000 40199'"),
		0);
	int fds[4];
	uint16_t lp[4];
	for (int i = 0; i < 4; i++)
		fds[i] = sktest_listen_tcp(false, &lp[i]);
	skt_portset set;
	cr_assert_gt(skt_portset_parse(&set, "39990-40210", 11, NULL), 0);
	skt_addr target = loopback(false);
	for (int round = 0; round < 5; round++) {
		memset(got, 0, sizeof(*got));
		cr_assert_eq(skt_scan(&target, &set, NULL, on_result, got),
			     221);
		for (unsigned p = 39990; p <= 40210; p++) {
			bool listener = false;
			for (int i = 0; i < 4; i++)
				listener |= lp[i] == p;
			if ((got->r[p].state == SKT_PORT_OPEN) != listener)
				cr_assert_fail(
					"round %d: port %u %s (%s)", round, p,
					skt_port_state_name(got->r[p].state),
					skt_scan_reason(&got->r[p]));
		}
	}
	for (int i = 0; i < 4; i++)
		skt_close(fds[i]);
}

/* Two probes that meet each other: A from port a to b while B goes from b
 * to a. On loopback a SYN to a closed port is refused inside connect(),
 * so A must be kept waiting: SYNs to 40000-40009 are dropped, and the
 * ephemeral range is 40000-40019, so a probe to a port in 40000-40009
 * from a source in 40010-40019 waits, and the probe to that source port,
 * if the kernel gives it the first probe's destination as its source,
 * meets it: both connect, nobody listens. The kernel's choice of source
 * ports is hashed, so this takes a few rounds; a port in the dropped
 * half reported as a self-connect is such a meeting. Every round's open
 * set must be empty. */
SCAN_TEST(scan_tcp, crossed_probes_are_closed)
{
	enter_netns();
	cr_assert_eq(
		system("sysctl -qw net.ipv4.ip_local_port_range='40000 40019'"),
		0);
	cr_assert_eq(
		system("iptables -A INPUT -p tcp --syn --dport 40000:40009 "
		       "-j DROP >/dev/null 2>&1"),
		0);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add_range(&set, 40000, 40019);
	skt_addr target = loopback(false);
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.timeout_ms = 50;
	int crossed = 0;
	for (int round = 0; round < 300 && crossed == 0; round++) {
		memset(got, 0, sizeof(*got));
		cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 20);
		for (unsigned p = 40000; p <= 40019; p++) {
			if (got->r[p].state == SKT_PORT_OPEN)
				cr_assert_fail("round %d: port %u open", round,
					       p);
			crossed += p < 40010 && got->r[p].self_connect;
		}
	}
	if (crossed == 0)
		cr_skip_test("no two probes met in 300 rounds on this kernel");
}

/* SYNs dropped by a packet filter: nobody answers, the probe times out. */
SCAN_TEST(scan_tcp, blackhole_is_filtered)
{
	enter_netns();
	uint16_t dropped, refused, open;
	int l1 = sktest_listen_tcp(false, &dropped);
	int l2 = sktest_listen_tcp(false, &open);
	int c = refusing(false, SOCK_STREAM, &refused);
	char cmd[160];
	snprintf(cmd, sizeof(cmd),
		 "iptables -A INPUT -p tcp --syn --dport %u "
		 "-j DROP >/dev/null 2>&1",
		 dropped);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, dropped);
	skt_portset_add(&set, refused);
	skt_portset_add(&set, open);
	skt_addr target = loopback(false);
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.timeout_ms = 300;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 3);
	assert_state(dropped, SKT_PORT_FILTERED, SKT_ETIMEDOUT);
	cr_assert_str_eq(skt_scan_reason(&got->r[dropped]), "timed out");
	assert_state(refused, SKT_PORT_CLOSED, SKT_ECONNREFUSED);
	assert_state(open, SKT_PORT_OPEN, 0);
	skt_close(l1);
	skt_close(l2);
	skt_close(c);
}

/* ---- Concurrency and rate ---- */

/* The fd limit is lowered until only a few fds are free, below what the
 * scanner's margin assumes: socket() fails with EMFILE mid-scan. The scan
 * must lower its cap, retry those ports, and still get every one right.
 * The ports are listeners: a refused probe ends inside connect() and
 * frees its fd at once, a connected one stays in flight until its event. */
SCAN_TEST(scan_tcp, emfile_lowers_concurrency_and_retries)
{
	enum { NOPEN = 30, NCLOSED = 10 };
	int fds[NOPEN + NCLOSED];
	uint16_t ports[NOPEN + NCLOSED];
	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < NOPEN + NCLOSED; i++) {
		fds[i] = i < NOPEN ? sktest_listen_tcp(false, &ports[i])
				   : refusing(false, SOCK_STREAM, &ports[i]);
		skt_portset_add(&set, ports[i]);
	}
	/* soft = highest fd + 41: the scanner plans for 24 probes (40 less
	 * its margin of 16), then the test takes 34 more fds, leaving 6
	 * (one of them for the epoll set). */
	int highest = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			highest = fd;
	struct rlimit old, rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)highest + 1 + 40;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	int filler[34];
	for (int i = 0; i < 34; i++) {
		filler[i] = dup(0);
		cr_assert_geq(filler[i], 0, "dup: %s", strerror(errno));
	}
	skt_addr target = loopback(false);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.stats = &st;
	int n = skt_scan(&target, &set, &o, on_result, got);
	for (int i = 0; i < 34; i++)
		close(filler[i]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(n, NOPEN + NCLOSED, "scan: %d %s", n,
		     n < 0 ? skt_strerror(n) : "");
	for (int i = 0; i < NOPEN + NCLOSED; i++)
		assert_state(ports[i],
			     i < NOPEN ? SKT_PORT_OPEN : SKT_PORT_CLOSED,
			     i < NOPEN ? 0 : SKT_ECONNREFUSED);
	cr_assert_gt(st.retries, 0, "EMFILE never met: the test is broken");
	cr_assert_lt(st.parallel_end, st.parallel_start, "cap %d -> %d",
		     st.parallel_start, st.parallel_end);
	for (int i = 0; i < NOPEN + NCLOSED; i++)
		skt_close(fds[i]);
}

/* With not one fd to spare, the scan cannot start a probe: an error, and
 * no port is reported (as closed or otherwise). */
SCAN_TEST(scan_tcp, no_fd_at_all_is_an_error_not_a_result)
{
	uint16_t port;
	int c = refusing(false, SOCK_STREAM, &port);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, port);
	int probe = dup(0);
	cr_assert_geq(probe, 0);
	close(probe);
	struct rlimit old, rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	/* Room for the epoll set only (the lowest free fd is probe). */
	rl.rlim_cur = (rlim_t)probe + 1;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	skt_addr target = loopback(false);
	int n = skt_scan(&target, &set, NULL, on_result, got);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(n, SKT_EMFILE, "got %s", skt_errname(n));
	cr_assert_eq(got->n, 0, "a shortage was reported as a result");
	skt_close(c);
}

/* The token bucket allows a burst of rate/50 probes (2 at 100/s) and
 * then one per 1/rate s, so 21 probes at 100/s cannot take less than
 * 190 ms: a floor implied by the limiter's arithmetic, not a speed
 * expectation. */
SCAN_TEST(scan_tcp, rate_limit_is_never_exceeded)
{
	int fds[21];
	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < 21; i++) {
		uint16_t p;
		fds[i] = refusing(false, SOCK_STREAM, &p);
		skt_portset_add(&set, p);
	}
	skt_addr target = loopback(false);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.rate = 100;
	o.stats = &st;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 21);
	cr_assert_geq(st.elapsed_ms, 190, "21 probes in %lld ms at 100/s",
		      (long long)st.elapsed_ms);
	cr_assert_eq(st.count[SKT_PORT_CLOSED], 21);
	for (int i = 0; i < 21; i++)
		skt_close(fds[i]);
}

SCAN_TEST(scan_tcp, parallel_one_scans_in_turn)
{
	int fds[5];
	uint16_t ports[5];
	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < 5; i++) {
		fds[i] = i == 2 ? sktest_listen_tcp(false, &ports[i])
				: refusing(false, SOCK_STREAM, &ports[i]);
		skt_portset_add(&set, ports[i]);
	}
	skt_addr target = loopback(false);
	skt_scan_stats st;
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.parallel = 1;
	o.stats = &st;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 5);
	cr_assert_eq(st.parallel_start, 1);
	assert_state(ports[2], SKT_PORT_OPEN, 0);
	cr_assert_eq(st.count[SKT_PORT_CLOSED], 4);
	for (int i = 0; i < 5; i++)
		skt_close(fds[i]);
}

/* ---- UDP ---- */

/* An echo server in a child process: replies to every datagram. */
static pid_t udp_echo(uint16_t *port)
{
	skt_listen_opts lo = {.family = AF_INET};
	int fd = skt_udp_bind(NULL, "0", &lo);
	cr_assert_geq(fd, 0, "udp bind: %s", skt_strerror(fd));
	*port = port_of(fd);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* No Criterion call in here: every assertion, even one that
		 * passes, talks to the runner (--full-stats), and would
		 * block. Die with the test, even when it dies on an
		 * assertion before it can kill us, and in any case after
		 * 30 s of silence: we hold the runner's output pipe. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		for (;;) {
			char buf[512];
			skt_addr from;
			ssize_t n = skt_recvfrom(fd, buf, sizeof(buf), &from,
						 30000, NULL);
			if (n == SKT_ETIMEDOUT)
				_exit(0);
			if (n >= 0)
				skt_sendto(fd, buf, (size_t)n, &from, 1000);
		}
	}
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	skt_close(fd);
	return pid;
}

SCAN_TEST(scan_udp, reply_open_refusal_closed_silence_open_filtered)
{
	uint16_t echo, silent, closed;
	pid_t pid = udp_echo(&echo);
	/* Bound but never read: the datagram is queued, nothing answers. */
	int s = refusing(false, SOCK_DGRAM, &silent);
	/* Bound, then closed: nobody has the port, the kernel refuses
	 * (ICMP port unreachable). */
	int c = refusing(false, SOCK_DGRAM, &closed);
	skt_close(c);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, echo);
	skt_portset_add(&set, silent);
	skt_portset_add(&set, closed);
	skt_addr target = loopback(false);
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.socktype = SOCK_DGRAM;
	o.timeout_ms = 200;
	int n = skt_scan(&target, &set, &o, on_result, got);
	kill(pid, SIGKILL);
	sktest_wait(pid);
	cr_assert_eq(n, 3, "scan: %d", n);
	assert_state(echo, SKT_PORT_OPEN, 0);
	cr_assert_str_eq(skt_scan_reason(&got->r[echo]), "reply");
	assert_state(closed, SKT_PORT_CLOSED, SKT_ECONNREFUSED);
	assert_state(silent, SKT_PORT_OPEN_FILTERED, SKT_ETIMEDOUT);
	cr_assert_str_eq(skt_scan_reason(&got->r[silent]), "no reply");
	cr_assert_eq(got->r[silent].tries, 2, "tries %d", got->r[silent].tries);
	skt_close(s);
}

SCAN_TEST(scan_udp, self_reply_is_closed)
{
	enter_netns();
	cr_assert_eq(
		system("sysctl -qw net.ipv4.ip_local_port_range='40000 40000'"),
		0);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, 40000);
	skt_addr target = loopback(false);
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	o.socktype = SOCK_DGRAM;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), 1);
	assert_state(40000, SKT_PORT_CLOSED, 0);
	cr_assert(got->r[40000].self_connect);
}

/* ---- Contract ---- */

SCAN_TEST(scan_api, bad_arguments_call_back_never)
{
	skt_portset set, empty;
	skt_portset_clear(&set);
	skt_portset_clear(&empty);
	skt_portset_add(&set, 9);
	skt_addr target = loopback(false), unix_addr;
	cr_assert_eq(skt_addr_unix(&unix_addr, "/tmp/x"), 0);
	skt_scan_opts o = SKT_SCAN_OPTS_INIT;
	cr_assert_eq(skt_scan(NULL, &set, NULL, on_result, got), SKT_EINVAL);
	cr_assert_eq(skt_scan(&target, NULL, NULL, on_result, got), SKT_EINVAL);
	cr_assert_eq(skt_scan(&target, &empty, NULL, on_result, got),
		     SKT_EINVAL);
	cr_assert_eq(skt_scan(&unix_addr, &set, NULL, on_result, got),
		     SKT_EINVAL);
	cr_assert_eq(skt_scan(&target, &set, NULL, NULL, NULL), SKT_EINVAL);
	o.socktype = SOCK_RAW;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), SKT_EINVAL);
	o = (skt_scan_opts)SKT_SCAN_OPTS_INIT;
	o.timeout_ms = -1;
	cr_assert_eq(skt_scan(&target, &set, &o, on_result, got), SKT_EINVAL);
	cr_assert_eq(got->n, 0);
	skt_scan_result *res = (void *)1;
	cr_assert_eq(skt_scan_collect(&target, &empty, NULL, &res), SKT_EINVAL);
	cr_assert_null(res);
}

SCAN_TEST(scan_api, allocation_failure_leaves_nothing)
{
	uint16_t port;
	int c = refusing(false, SOCK_STREAM, &port);
	skt_portset set;
	skt_portset_clear(&set);
	skt_portset_add(&set, port);
	skt_addr target = loopback(false);
	for (long k = 1; k <= 3; k++) {
		skt_scan_result *res = (void *)1;
		sktest_fail_alloc_at(k);
		int n = skt_scan_collect(&target, &set, NULL, &res);
		sktest_fail_alloc_at(0);
		if (n == SKT_ENOMEM) {
			cr_assert_null(res);
			continue;
		}
		cr_assert_eq(n, 1, "alloc %ld: %s", k, skt_errname(n));
		skt_free(res);
	}
	sktest_fail_alloc_at(1);
	cr_assert_eq(skt_scan(&target, &set, NULL, on_result, got), SKT_ENOMEM);
	sktest_fail_alloc_at(0);
	cr_assert_eq(got->n, 0);
	skt_close(c);
}

SCAN_TEST(scan_api, state_names)
{
	cr_assert_str_eq(skt_port_state_name(SKT_PORT_OPEN), "open");
	cr_assert_str_eq(skt_port_state_name(SKT_PORT_CLOSED), "closed");
	cr_assert_str_eq(skt_port_state_name(SKT_PORT_FILTERED), "filtered");
	cr_assert_str_eq(skt_port_state_name(SKT_PORT_OPEN_FILTERED),
			 "open|filtered");
	cr_assert_str_eq(skt_port_state_name((skt_port_state)99), "unknown");
}
