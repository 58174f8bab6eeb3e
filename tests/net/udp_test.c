/* udp_test.c - datagrams over loopback, IPv4 and IPv6: sender addresses,
 * truncation, timeouts, connected sockets. */
#include "sktest.h"

#include <string.h>
#include <time.h>

/* A UDP socket bound to loopback port 0; *where gets its address. */
static int udp_on_loopback(bool v6, skt_addr *where)
{
	skt_listen_opts o = {.family = v6 ? AF_INET6 : AF_INET};
	int fd = skt_udp_bind(NULL, "0", &o);
	cr_assert_geq(fd, 0, "udp_bind: %s", skt_strerror(fd));
	cr_assert_eq(skt_sock_local(fd, where), 0);
	cr_assert_neq(skt_addr_port(where), 0);
	cr_assert_eq(skt_addr_family(where), v6 ? AF_INET6 : AF_INET);
	return fd;
}

static void assert_addr_eq(const skt_addr *a, const skt_addr *b)
{
	char ta[SKT_ADDRSTRLEN], tb[SKT_ADDRSTRLEN];
	skt_addr_format(a, ta, sizeof(ta));
	skt_addr_format(b, tb, sizeof(tb));
	cr_assert(skt_addr_equal(a, b), "%s != %s", ta, tb);
}

/* Send one datagram from a to b and check what b sees, sender included. */
static void roundtrip(bool v6)
{
	skt_addr aa, ba, from;
	int a = udp_on_loopback(v6, &aa);
	int b = udp_on_loopback(v6, &ba);
	ssize_t n = skt_sendto(a, "ping", 4, &ba, 1000);
	cr_assert_eq(n, 4, "sendto: %s", skt_errname((int)n));
	char buf[64];
	bool trunc = true;
	n = skt_recvfrom(b, buf, sizeof(buf), &from, 1000, &trunc);
	cr_assert_eq(n, 4, "recvfrom: %s", skt_errname((int)n));
	cr_assert(memcmp(buf, "ping", 4) == 0);
	cr_assert_not(trunc);
	assert_addr_eq(&from, &aa);
	/* And back to whoever sent it. */
	cr_assert_eq(skt_sendto(b, "pong", 4, &from, 1000), 4);
	n = skt_recvfrom(a, buf, sizeof(buf), &from, 1000, NULL);
	cr_assert_eq(n, 4);
	cr_assert(memcmp(buf, "pong", 4) == 0);
	assert_addr_eq(&from, &ba);
	skt_close(a);
	skt_close(b);
}

SKT_TEST(udp, v4_sendto_recvfrom_reports_sender)
{
	roundtrip(false);
}

SKT_TEST(udp, v6_sendto_recvfrom_reports_sender)
{
	roundtrip(true);
}

SKT_TEST(udp, truncation_is_reported_not_silent)
{
	skt_addr ba;
	int b = udp_on_loopback(false, &ba);
	int a = skt_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(a, 0);
	char big[100];
	memset(big, 'z', sizeof(big));
	cr_assert_eq(skt_sendto(a, big, sizeof(big), &ba, 1000), 100);
	char buf[10];
	bool trunc = false;
	ssize_t n = skt_recvfrom(b, buf, sizeof(buf), NULL, 1000, &trunc);
	cr_assert_eq(n, 10, "got %zd", n);
	cr_assert(trunc, "truncation not reported");
	skt_close(a);
	skt_close(b);
}

SKT_TEST(udp, recvfrom_times_out_on_silence)
{
	skt_addr ba;
	int b = udp_on_loopback(true, &ba);
	char buf[16];
	int64_t t0 = sktest_now_ms();
	ssize_t n = skt_recvfrom(b, buf, sizeof(buf), NULL, 200, NULL);
	int64_t took = sktest_now_ms() - t0;
	cr_assert_eq(n, SKT_ETIMEDOUT, "got %s", skt_errname((int)n));
	cr_assert_geq(took, 150, "took %lld ms", (long long)took);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	skt_close(b);
}

SKT_TEST(udp, recvfrom_timeout_zero_is_eagain)
{
	skt_addr ba;
	int b = udp_on_loopback(false, &ba);
	char buf[16];
	ssize_t n = skt_recvfrom(b, buf, sizeof(buf), NULL, 0, NULL);
	cr_assert_eq(n, SKT_EAGAIN, "got %s", skt_errname((int)n));
	skt_close(b);
}

SKT_TEST(udp, connected_socket_sends_with_null_destination)
{
	skt_addr ba, ca, from;
	int b = udp_on_loopback(false, &ba);
	int c = skt_connect_one(&ba, SOCK_DGRAM, 1000);
	cr_assert_geq(c, 0, "connect: %s", skt_strerror(c));
	cr_assert_eq(skt_sock_local(c, &ca), 0);
	ssize_t n = skt_sendto(c, "hello", 5, NULL, 1000);
	cr_assert_eq(n, 5, "sendto: %s", skt_errname((int)n));
	char buf[16];
	n = skt_recvfrom(b, buf, sizeof(buf), &from, 1000, NULL);
	cr_assert_eq(n, 5);
	assert_addr_eq(&from, &ca);
	/* The connected peer's reply comes back through plain skt_recv. */
	cr_assert_eq(skt_sendto(b, "world", 5, &from, 1000), 5);
	n = skt_recv(c, buf, sizeof(buf), 1000);
	cr_assert_eq(n, 5);
	cr_assert(memcmp(buf, "world", 5) == 0);
	skt_close(b);
	skt_close(c);
}

SKT_TEST(udp, unconnected_send_without_destination_fails)
{
	int a = skt_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(a, 0);
	ssize_t n = skt_sendto(a, "x", 1, NULL, 1000);
	cr_assert_eq(n, SKT_EDESTADDRREQ, "got %s", skt_errname((int)n));
	skt_close(a);
}

SKT_TEST(udp, oversized_datagram_is_emsgsize)
{
	skt_addr ba;
	int b = udp_on_loopback(false, &ba);
	static char big[70000];
	ssize_t n = skt_sendto(b, big, sizeof(big), &ba, 1000);
	cr_assert_eq(n, SKT_EMSGSIZE, "got %s", skt_errname((int)n));
	skt_close(b);
}

SKT_TEST(udp, unix_datagram_pair_keeps_message_boundaries)
{
	int fds[2];
	cr_assert_eq(skt_socketpair(SOCK_DGRAM, fds), 0);
	cr_assert_eq(skt_sendto(fds[0], "one", 3, NULL, 1000), 3);
	cr_assert_eq(skt_sendto(fds[0], "three", 5, NULL, 1000), 5);
	char buf[16];
	skt_addr from;
	bool trunc = true;
	ssize_t n = skt_recvfrom(fds[1], buf, sizeof(buf), &from, 1000, &trunc);
	cr_assert_eq(n, 3, "got %zd", n);
	cr_assert_not(trunc);
	n = skt_recvfrom(fds[1], buf, 2, NULL, 1000, &trunc);
	cr_assert_eq(n, 2);
	cr_assert(trunc);
	skt_close(fds[0]);
	skt_close(fds[1]);
}
