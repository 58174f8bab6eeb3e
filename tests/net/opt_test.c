/* opt_test.c - socket options through the one table, and inspecting
 * sockets: pending error, addresses, the Python-style description. */
#include "sktest.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tcp_socket(bool v6)
{
	int fd = skt_socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0, "socket: %s", skt_strerror(fd));
	return fd;
}

static void set_get(int fd, skt_opt opt, int value, int want)
{
	int rc = skt_sock_set_opt(fd, opt, value);
	cr_assert_eq(rc, 0, "set %s=%d: %s", skt_opt_name(opt), value,
		     skt_strerror(rc));
	int got = -12345;
	rc = skt_sock_opt(fd, opt, &got);
	cr_assert_eq(rc, 0, "get %s: %s", skt_opt_name(opt), skt_strerror(rc));
	cr_assert_eq(got, want, "%s: set %d, read %d, want %d",
		     skt_opt_name(opt), value, got, want);
}

/* A connected loopback TCP pair; the listener is closed again. */
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

/* ---- options ---- */

static void booleans_round_trip(bool v6)
{
	int fd = tcp_socket(v6);
	skt_opt opts[] = {SKT_OPT_NODELAY, SKT_OPT_KEEPALIVE, SKT_OPT_REUSEADDR,
			  SKT_OPT_REUSEPORT};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		set_get(fd, opts[i], 1, 1);
		set_get(fd, opts[i], 0, 0);
		set_get(fd, opts[i], 7, 1); /* any non-zero is on */
	}
	skt_close(fd);
}

SKT_TEST(opt, booleans_set_and_read_back_on_tcp_v4)
{
	booleans_round_trip(false);
}

SKT_TEST(opt, booleans_set_and_read_back_on_tcp_v6)
{
	booleans_round_trip(true);
}

SKT_TEST(opt, keepalive_timers_set_and_read_back)
{
	int fd = tcp_socket(false);
	set_get(fd, SKT_OPT_KEEPIDLE, 30, 30);
	set_get(fd, SKT_OPT_KEEPINTVL, 5, 5);
	set_get(fd, SKT_OPT_KEEPCNT, 4, 4);
	skt_close(fd);
}

SKT_TEST(opt, buffer_sizes_read_back_at_least_the_ask)
{
	int fd = tcp_socket(false);
	int v = 0;
	cr_assert_eq(skt_sock_set_opt(fd, SKT_OPT_SNDBUF, 65536), 0);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_SNDBUF, &v), 0);
	cr_assert_geq(v, 65536, "sndbuf %d", v); /* Linux doubles it */
	cr_assert_eq(skt_sock_set_opt(fd, SKT_OPT_RCVBUF, 32768), 0);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_RCVBUF, &v), 0);
	cr_assert_geq(v, 32768, "rcvbuf %d", v);
	skt_close(fd);
}

SKT_TEST(opt, linger_off_zero_and_seconds)
{
	int fd = tcp_socket(false);
	set_get(fd, SKT_OPT_LINGER, -1, -1);
	set_get(fd, SKT_OPT_LINGER, 0, 0);
	set_get(fd, SKT_OPT_LINGER, 5, 5);
	set_get(fd, SKT_OPT_LINGER, -1, -1);
	cr_assert_eq(skt_sock_set_opt(fd, SKT_OPT_LINGER, -2), SKT_EINVAL);
	skt_close(fd);
}

SKT_TEST(opt, v6only_on_ipv6_socket)
{
	int fd = tcp_socket(true);
	set_get(fd, SKT_OPT_V6ONLY, 1, 1);
	set_get(fd, SKT_OPT_V6ONLY, 0, 0);
	skt_close(fd);
}

SKT_TEST(opt, v6only_on_ipv4_socket_does_not_apply)
{
	int fd = tcp_socket(false);
	int v;
	cr_assert_eq(skt_sock_set_opt(fd, SKT_OPT_V6ONLY, 1), SKT_ENOPROTOOPT);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_V6ONLY, &v), SKT_ENOPROTOOPT);
	skt_close(fd);
}

SKT_TEST(opt, ttl_on_ipv4_and_hop_limit_on_ipv6)
{
	int v4 = tcp_socket(false), v6 = tcp_socket(true);
	set_get(v4, SKT_OPT_TTL, 7, 7);
	set_get(v6, SKT_OPT_TTL, 9, 9);
	skt_close(v4);
	skt_close(v6);
}

SKT_TEST(opt, broadcast_on_udp_socket)
{
	int fd = skt_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	set_get(fd, SKT_OPT_BROADCAST, 1, 1);
	set_get(fd, SKT_OPT_BROADCAST, 0, 0);
	skt_close(fd);
}

SKT_TEST(opt, tcp_options_on_unix_socket_do_not_apply)
{
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_STREAM, fds), 0);
	int v;
	cr_assert_eq(skt_sock_set_opt(fds[0], SKT_OPT_NODELAY, 1),
		     SKT_ENOPROTOOPT);
	cr_assert_eq(skt_sock_opt(fds[0], SKT_OPT_TTL, &v), SKT_ENOPROTOOPT);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(opt, unknown_option_is_einval)
{
	int fd = tcp_socket(false);
	int v;
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_COUNT_, &v), SKT_EINVAL);
	cr_assert_eq(skt_sock_opt(fd, (skt_opt)-1, &v), SKT_EINVAL);
	cr_assert_eq(skt_sock_set_opt(fd, SKT_OPT_COUNT_, 1), SKT_EINVAL);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_NODELAY, NULL), SKT_EINVAL);
	skt_close(fd);
}

SKT_TEST(opt, every_option_has_a_distinct_name)
{
	for (int i = 0; i < SKT_OPT_COUNT_; i++) {
		const char *n = skt_opt_name((skt_opt)i);
		cr_assert_not_null(n, "opt %d has no name", i);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(n, skt_opt_name((skt_opt)j));
	}
	cr_assert_str_eq(skt_opt_name(SKT_OPT_NODELAY), "nodelay");
	cr_assert_str_eq(skt_opt_name(SKT_OPT_TTL), "ttl");
	cr_assert_null(skt_opt_name(SKT_OPT_COUNT_));
}

SKT_TEST(opt, keepalive_helper_sets_all_fields)
{
	int fd = tcp_socket(false);
	int idle0 = 0;
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPIDLE, &idle0), 0);
	cr_assert_eq(skt_sock_keepalive(fd, 0, 3, 2), 0);
	int v;
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPALIVE, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPIDLE, &v), 0);
	cr_assert_eq(v, idle0, "idle 0 must keep the system's %d", idle0);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPINTVL, &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPCNT, &v), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(skt_sock_keepalive(fd, 11, 0, 0), 0);
	cr_assert_eq(skt_sock_opt(fd, SKT_OPT_KEEPIDLE, &v), 0);
	cr_assert_eq(v, 11);
	cr_assert_eq(skt_sock_keepalive(fd, -1, 0, 0), SKT_EINVAL);
	skt_close(fd);
}

/* ---- inspecting ---- */

SKT_TEST(opt, sock_error_reports_refused_connect)
{
	/* A port that was just listened on and closed: nothing answers. */
	uint16_t port;
	skt_close(sktest_listen_tcp(false, &port));
	skt_addr a;
	cr_assert_eq(skt_addr_from_ip(&a, "127.0.0.1", port), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, 0);
	/* Refused synchronously: nothing pending to ask about. */
	if (fd == SKT_ECONNREFUSED)
		return;
	cr_assert_geq(fd, 0, "connect: %s", skt_strerror(fd));
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	cr_assert_eq(poll(&p, 1, 5000), 1);
	int err = skt_sock_error(fd);
	cr_assert_eq(err, SKT_ECONNREFUSED, "got %s", skt_errname(err));
	cr_assert_eq(skt_sock_error(fd), 0, "SO_ERROR is cleared once read");
	skt_close(fd);
}

SKT_TEST(opt, peer_of_unconnected_socket_is_enotconn)
{
	int fd = tcp_socket(false);
	skt_addr a;
	cr_assert_eq(skt_sock_peer(fd, &a), SKT_ENOTCONN);
	skt_close(fd);
}

SKT_TEST(opt, local_and_peer_match_across_a_connection)
{
	int cli, srv;
	tcp_pair(true, &cli, &srv);
	skt_addr cl, cp, sl, sp;
	cr_assert_eq(skt_sock_local(cli, &cl), 0);
	cr_assert_eq(skt_sock_peer(cli, &cp), 0);
	cr_assert_eq(skt_sock_local(srv, &sl), 0);
	cr_assert_eq(skt_sock_peer(srv, &sp), 0);
	cr_assert(skt_addr_equal(&cl, &sp));
	cr_assert(skt_addr_equal(&cp, &sl));
	cr_assert_eq(skt_addr_family(&cl), AF_INET6);
	skt_close(cli);
	skt_close(srv);
}

SKT_TEST(opt, describe_listening_socket)
{
	uint16_t port;
	int fd = sktest_listen_tcp(false, &port);
	char want[128], buf[256 + 2 * SKT_ADDRSTRLEN];
	snprintf(want, sizeof(want),
		 "<socket fd=%d, family=AF_INET, type=SOCK_STREAM, proto=6, "
		 "laddr=127.0.0.1:%u>",
		 fd, port);
	int n = skt_sock_describe(fd, buf, sizeof(buf));
	cr_assert_eq(n, (int)strlen(want), "got %d: %s", n, buf);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(skt_sock_describe(fd, buf, 20), SKT_ETOOBIG);
	skt_close(fd);
}

SKT_TEST(opt, describe_connected_socket_shows_raddr)
{
	int cli, srv;
	tcp_pair(false, &cli, &srv);
	skt_addr local, peer;
	cr_assert_eq(skt_sock_local(srv, &local), 0);
	cr_assert_eq(skt_sock_peer(srv, &peer), 0);
	char want[128], buf[256 + 2 * SKT_ADDRSTRLEN];
	snprintf(want, sizeof(want),
		 "<socket fd=%d, family=AF_INET, type=SOCK_STREAM, proto=6, "
		 "laddr=127.0.0.1:%u, raddr=127.0.0.1:%u>",
		 srv, skt_addr_port(&local), skt_addr_port(&peer));
	cr_assert_gt(skt_sock_describe(srv, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
	skt_close(cli);
	skt_close(srv);
}

SKT_TEST(opt, describe_udp_v6_socket)
{
	skt_listen_opts o = {.family = AF_INET6};
	int fd = skt_udp_bind(NULL, "0", &o);
	cr_assert_geq(fd, 0, "udp_bind: %s", skt_strerror(fd));
	skt_addr a;
	cr_assert_eq(skt_sock_local(fd, &a), 0);
	char want[128], buf[256 + 2 * SKT_ADDRSTRLEN];
	snprintf(want, sizeof(want),
		 "<socket fd=%d, family=AF_INET6, type=SOCK_DGRAM, proto=17, "
		 "laddr=[::1]:%u>",
		 fd, skt_addr_port(&a));
	cr_assert_gt(skt_sock_describe(fd, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
	skt_close(fd);
}

SKT_TEST(opt, describe_unix_listener)
{
	char name[64];
	snprintf(name, sizeof(name), "@sockit-opt-test-%d", (int)getpid());
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, name), 0);
	int fd = skt_listen_addr(&a, NULL);
	cr_assert_geq(fd, 0, "listen: %s", skt_strerror(fd));
	char want[160], buf[256 + 2 * SKT_ADDRSTRLEN];
	snprintf(want, sizeof(want),
		 "<socket fd=%d, family=AF_UNIX, type=SOCK_STREAM, proto=0, "
		 "laddr=unix:%s>",
		 fd, name);
	cr_assert_gt(skt_sock_describe(fd, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
	skt_close(fd);
}

SKT_TEST(opt, describe_unix_socketpair)
{
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_DGRAM, fds), 0);
	char want[160], buf[256 + 2 * SKT_ADDRSTRLEN];
	snprintf(want, sizeof(want),
		 "<socket fd=%d, family=AF_UNIX, type=SOCK_DGRAM, proto=0, "
		 "laddr=unix:, raddr=unix:>",
		 fds[0]);
	cr_assert_gt(skt_sock_describe(fds[0], buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(opt, describe_non_socket_is_enotsock)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	char buf[64];
	cr_assert_eq(skt_sock_describe(p[0], buf, sizeof(buf)), SKT_ENOTSOCK);
	close(p[0]);
	close(p[1]);
}
