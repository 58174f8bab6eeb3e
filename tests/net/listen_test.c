/* listen_test.c - skt_socket, skt_listen, skt_udp_bind, skt_listen_addr and
 * skt_accept over real sockets on loopback, always on port 0 read back. */
#include "sktest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static skt_addr local_of(int fd)
{
	skt_addr a;
	int r = skt_sock_local(fd, &a);
	cr_assert_eq(r, 0, "skt_sock_local: %s", skt_errname(r));
	return a;
}

static uint16_t port_of(int fd)
{
	skt_addr a = local_of(fd);
	return skt_addr_port(&a);
}

static int int_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	cr_assert_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* A plain blocking client, so the listener is tested against the kernel's
 * own connect and not against sockit's. Returns 0 or -errno. */
static int plain_connect(const char *ip, uint16_t port, int *out)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, ip, port), 0, "bad ip %s", ip);
	int fd = socket(a.u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	if (connect(fd, &a.u.sa, a.len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
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

static void assert_host(const skt_addr *a, const char *want)
{
	char host[SKT_ADDRSTRLEN];
	cr_assert_geq(skt_addr_format_host(a, host, sizeof(host)), 0);
	cr_assert_str_eq(host, want, "bound to %s, want %s", host, want);
}

SKT_TEST(listen, default_host_is_ipv4_loopback)
{
	int l = skt_listen(NULL, "0", NULL);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	assert_host(&a, "127.0.0.1");
	cr_assert_neq(skt_addr_port(&a), 0);
	skt_close(l);
}

SKT_TEST(listen, default_host_with_inet6_is_ipv6_loopback)
{
	skt_listen_opts o = {.family = AF_INET6};
	int l = skt_listen(NULL, NULL, &o);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	assert_host(&a, "::1");
	skt_close(l);
}

SKT_TEST(listen, port_zero_is_read_back_and_accepts)
{
	int l = skt_listen("127.0.0.1", "0", NULL);
	skt_assert_fd(l);
	uint16_t port = port_of(l);
	cr_assert_neq(port, 0);
	int c;
	skt_assert_err(plain_connect("127.0.0.1", port, &c), 0);
	skt_addr peer;
	int s = skt_accept(l, &peer, 5000);
	skt_assert_fd(s);
	/* The peer accept reports is the client's own local address. */
	skt_addr mine = local_of(c);
	cr_assert(skt_addr_equal(&peer, &mine));
	close(c);
	skt_close(s);
	skt_close(l);
}

SKT_TEST(listen, wildcard_is_dual_stack)
{
	int l = skt_listen("*", "0", NULL);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	cr_assert_eq(skt_addr_family(&a), AF_INET6);
	assert_host(&a, "::");
	cr_assert_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	uint16_t port = skt_addr_port(&a);

	int c4, c6;
	skt_assert_err(plain_connect("127.0.0.1", port, &c4), 0);
	skt_addr p4;
	int s4 = skt_accept(l, &p4, 5000);
	skt_assert_fd(s4);
	/* An IPv4 client of a dual-stack socket shows up v4-mapped. */
	assert_host(&p4, "::ffff:127.0.0.1");

	skt_assert_err(plain_connect("::1", port, &c6), 0);
	skt_addr p6;
	int s6 = skt_accept(l, &p6, 5000);
	skt_assert_fd(s6);
	assert_host(&p6, "::1");

	close(c4);
	close(c6);
	skt_close(s4);
	skt_close(s6);
	skt_close(l);
}

SKT_TEST(listen, v6only_wildcard_refuses_ipv4)
{
	skt_listen_opts o = {.v6only = true};
	int l = skt_listen("::", "0", &o);
	skt_assert_fd(l);
	cr_assert_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	uint16_t port = port_of(l);
	int c;
	skt_assert_err(plain_connect("127.0.0.1", port, &c), SKT_ECONNREFUSED);
	skt_assert_err(plain_connect("::1", port, &c), 0);
	close(c);
	skt_close(l);
}

SKT_TEST(listen, ipv4_wildcard_is_ipv4_only)
{
	int l = skt_listen("0.0.0.0", "0", NULL);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	assert_host(&a, "0.0.0.0");
	skt_close(l);
}

SKT_TEST(listen, sets_reuseaddr)
{
	int l = skt_listen(NULL, "0", NULL);
	skt_assert_fd(l);
	cr_assert_eq(int_opt(l, SOL_SOCKET, SO_REUSEADDR), 1);
	cr_assert_eq(int_opt(l, SOL_SOCKET, SO_REUSEPORT), 0);
	skt_close(l);
}

SKT_TEST(listen, taken_port_is_eaddrinuse)
{
	int l = skt_listen("127.0.0.1", "0", NULL);
	skt_assert_fd(l);
	char port[8];
	snprintf(port, sizeof(port), "%u", port_of(l));
	/* SO_REUSEADDR on both does not let a second socket listen. */
	skt_assert_err(skt_listen("127.0.0.1", port, NULL), SKT_EADDRINUSE);
	skt_close(l);
}

SKT_TEST(listen, reuseport_shares_a_port)
{
	skt_listen_opts o = {.reuseport = true};
	int l1 = skt_listen(NULL, "0", &o);
	skt_assert_fd(l1);
	char port[8];
	snprintf(port, sizeof(port), "%u", port_of(l1));
	int l2 = skt_listen(NULL, port, &o);
	skt_assert_fd(l2);
	cr_assert_eq(int_opt(l2, SOL_SOCKET, SO_REUSEPORT), 1);
	skt_close(l1);
	skt_close(l2);
}

/* For a listening socket Linux reports the accept queue's limit in
 * tcpi_sacked (tcp_get_info), which shows the backlog listen() got. */
static unsigned backlog_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_sacked;
}

SKT_TEST(listen, backlog_zero_means_somaxconn)
{
	unsigned sysmax = SOMAXCONN;
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	if (f != NULL) {
		cr_assert_eq(fscanf(f, "%u", &sysmax), 1);
		fclose(f);
	}
	/* listen() caps the backlog at the net.core.somaxconn sysctl. */
	unsigned want = sysmax < SOMAXCONN ? sysmax : SOMAXCONN;
	int l = skt_listen(NULL, "0", NULL);
	skt_assert_fd(l);
	cr_assert_eq(backlog_of(l), want, "backlog %u, want %u", backlog_of(l),
		     want);
	skt_close(l);

	skt_listen_opts o = {.backlog = 7};
	l = skt_listen(NULL, "0", &o);
	skt_assert_fd(l);
	cr_assert_eq(backlog_of(l), 7, "backlog %u, want 7", backlog_of(l));
	skt_close(l);
}

SKT_TEST(listen, resolves_localhost)
{
	int l = skt_listen("localhost", "0", NULL);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	char host[SKT_ADDRSTRLEN];
	cr_assert_geq(skt_addr_format_host(&a, host, sizeof(host)), 0);
	cr_assert(strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0,
		  "localhost bound to %s", host);
	skt_close(l);
}

SKT_TEST(listen, udp_bind_binds_without_listening)
{
	int u = skt_udp_bind(NULL, "0", NULL);
	skt_assert_fd(u);
	cr_assert_eq(int_opt(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	cr_assert_eq(int_opt(u, SOL_SOCKET, SO_ACCEPTCONN), 0);
	skt_addr a = local_of(u);
	int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c, 0);
	cr_assert_eq(sendto(c, "ping", 4, 0, &a.u.sa, a.len), 4);
	char buf[16];
	cr_assert_eq(recv_wait(u, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "ping");
	close(c);
	skt_close(u);
}

SKT_TEST(listen, listen_addr_binds_that_address)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "::1", 0), 0);
	int l = skt_listen_addr(&a, NULL);
	skt_assert_fd(l);
	cr_assert_eq(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	cr_assert_eq(int_opt(l, SOL_SOCKET, SO_REUSEADDR), 1);
	skt_addr got = local_of(l);
	assert_host(&got, "::1");
	skt_close(l);
}

SKT_TEST(listen, endpoint_listen_uses_host_and_service)
{
	skt_endpoint ep = {.kind = SKT_EP_INET};
	strcpy(ep.host, "127.0.0.1");
	strcpy(ep.service, "0");
	int l = skt_endpoint_listen(&ep, NULL);
	skt_assert_fd(l);
	skt_addr a = local_of(l);
	assert_host(&a, "127.0.0.1");
	skt_close(l);
}

SKT_TEST(listen, socket_is_cloexec_and_nonblocking)
{
	int fd = skt_socket(AF_INET, SOCK_STREAM, 0);
	skt_assert_fd(fd);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	skt_close(fd);
	skt_assert_err(skt_socket(12345, SOCK_STREAM, 0), SKT_EAFNOSUPPORT);
}

SKT_TEST(accept, returns_cloexec_nonblocking_fd)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	int c;
	skt_assert_err(plain_connect("127.0.0.1", port, &c), 0);
	int s = skt_accept(l, NULL, 5000);
	skt_assert_fd(s);
	cr_assert(fcntl(s, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(s, F_GETFL) & O_NONBLOCK);
	cr_assert_eq(send(c, "hi", 2, MSG_NOSIGNAL), 2);
	char buf[8];
	cr_assert_eq(recv_wait(s, buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "hi");
	close(c);
	skt_close(s);
	skt_close(l);
}

SKT_TEST(accept, timeout_is_etimedout)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	int64_t t0 = sktest_now_ms();
	skt_assert_err(skt_accept(l, NULL, 200), SKT_ETIMEDOUT);
	int64_t ms = sktest_now_ms() - t0;
	cr_assert(ms >= 190 && ms < 3000, "took %lld ms, want about 200",
		  (long long)ms);
	skt_close(l);
}

SKT_TEST(accept, timeout_zero_is_eagain)
{
	uint16_t port;
	int l = sktest_listen_tcp(true, &port);
	skt_assert_err(skt_accept(l, NULL, 0), SKT_EAGAIN);
	skt_close(l);
}

SKT_TEST(accept, on_non_listener_is_einval)
{
	int fd = skt_socket(AF_INET, SOCK_STREAM, 0);
	skt_assert_fd(fd);
	skt_assert_err(skt_accept(fd, NULL, 100), SKT_EINVAL);
	skt_close(fd);
}

/* The tutorials' client: a python3 socket.socket() connecting to us. */
static const char py_client[] =
	"import socket, sys\n"
	"s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
	"s.connect(('127.0.0.1', int(sys.argv[1])))\n"
	"s.sendall(b'hello from python')\n"
	"print(s.recv(1024).decode())\n"
	"s.close()\n";

SKT_TEST(interop, python_client_connects_to_our_listener)
{
	uint16_t port;
	int l = sktest_listen_tcp(false, &port);
	char arg[8];
	snprintf(arg, sizeof(arg), "%u", port);
	const char *argv[] = {arg, NULL};
	int out;
	pid_t pid = sktest_python(py_client, argv, &out);

	skt_addr peer;
	int s = skt_accept(l, &peer, 10000);
	skt_assert_fd(s);
	assert_host(&peer, "127.0.0.1");
	char buf[64];
	size_t got = 0;
	while (got < 17)
		got += recv_wait(s, buf + got, sizeof(buf) - got);
	cr_assert_str_eq(buf, "hello from python");
	cr_assert_eq(send(s, "hello from sockit", 17, MSG_NOSIGNAL), 17);

	char text[128];
	sktest_slurp(out, text, sizeof(text));
	cr_assert_eq(sktest_wait(pid), 0);
	cr_assert_str_eq(text, "hello from sockit\n");
	skt_close(s);
	skt_close(l);
}

/* ---- Loopback on both families ---- */

static bool have_ipv6_loopback(void)
{
	skt_listen_opts o = {.family = AF_INET6};
	int fd = skt_listen(NULL, "0", &o);
	if (fd < 0)
		return false;
	skt_close(fd);
	return true;
}

static int connect_to(const char *ip, uint16_t port)
{
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, ip, port), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, 5000);
	cr_assert_geq(fd, 0, "connect %s: %s", ip, skt_strerror(fd));
	return fd;
}

SKT_TEST(listen, loopback_binds_both_families_on_one_port)
{
	int fds[2];
	int n = skt_listen_loopback("0", NULL, fds);
	cr_assert_geq(n, 1, "%s", skt_strerror(n));
	skt_addr v4 = local_of(fds[0]);
	cr_assert_eq(skt_addr_family(&v4), AF_INET);
	uint16_t port = skt_addr_port(&v4);
	if (!have_ipv6_loopback()) {
		cr_assert_eq(n, 1, "no ::1 here, yet two sockets");
		cr_assert_eq(fds[1], -1);
		skt_close(fds[0]);
		return;
	}
	cr_assert_eq(n, 2);
	skt_addr v6 = local_of(fds[1]);
	cr_assert_eq(skt_addr_family(&v6), AF_INET6);
	cr_assert_eq(skt_addr_port(&v6), port, "ports differ: %u and %u", port,
		     skt_addr_port(&v6));
	/* A client of either family is accepted, by whichever socket. */
	static const char *const ips[] = {"::1", "127.0.0.1"};
	for (size_t i = 0; i < 2; i++) {
		int c = connect_to(ips[i], port);
		size_t which = 9;
		skt_addr peer;
		int s = skt_accept_any(fds, 2, &peer, 5000, &which);
		cr_assert_geq(s, 0, "accept: %s", skt_strerror(s));
		cr_assert_eq(which, i == 0 ? 1u : 0u, "%s came in on %zu",
			     ips[i], which);
		skt_close(s);
		skt_close(c);
	}
	cr_assert_eq(skt_accept_any(fds, 2, NULL, 0, NULL), SKT_EAGAIN);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(listen, loopback_fixed_port_taken_on_ipv6_is_an_error)
{
	if (!have_ipv6_loopback())
		cr_skip_test("no ::1 on this host");
	skt_listen_opts o6 = {.family = AF_INET6};
	int taken = skt_listen(NULL, "0", &o6);
	cr_assert_geq(taken, 0);
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)port_of(taken));
	int fds[2] = {7, 7};
	cr_assert_eq(skt_listen_loopback(port, NULL, fds), SKT_EADDRINUSE);
	cr_assert_eq(fds[0], -1);
	cr_assert_eq(fds[1], -1);
	skt_close(taken);
}

SKT_TEST(listen, loopback_with_a_family_binds_that_one)
{
	int fds[2];
	skt_listen_opts o4 = {.family = AF_INET};
	cr_assert_eq(skt_listen_loopback(NULL, &o4, fds), 1);
	skt_addr a = local_of(fds[0]);
	cr_assert_eq(skt_addr_family(&a), AF_INET);
	cr_assert_eq(fds[1], -1);
	skt_close(fds[0]);
}
