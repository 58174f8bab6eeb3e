/* scen_net.c - torture scenarios over real sockets on loopback: a whole
 * listen / connect / accept / exchange, and a Happy Eyeballs race over two
 * addresses. Their runs depend on timing (how often poll() is needed), so
 * they get the first --max failure points of each pass, in `make
 * torture`. Each returns 0 or the first error (torture.h). */
#include "torture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_MS 2000

/* Connect to our own listener, accept, and move bytes both ways with
 * send-all / read-exact and a frame. */
static int tcp_exchange(void)
{
	int rc = 0, l = -1, c = -1, s = -1;
	skt_addr where, peer;
	char service[8], buf[5];
	uint8_t *msg = NULL;
	size_t len;
	TRY(l = skt_listen(NULL, "0", NULL));
	TRY(skt_sock_local(l, &where));
	snprintf(service, sizeof(service), "%u", skt_addr_port(&where));
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = IO_MS;
	TRY(c = skt_connect("127.0.0.1", service, &o));
	TRY(s = skt_accept(l, &peer, IO_MS));
	TRY(skt_sock_set_opt(c, SKT_OPT_NODELAY, 1));
	TRY(skt_send_all(c, "ping!", 5, IO_MS, NULL));
	TRY(skt_read_exact(s, buf, 5, IO_MS, NULL));
	EXPECT(memcmp(buf, "ping!", 5) == 0);
	TRY(skt_frame_send(s, "pong", 4, 0, IO_MS));
	TRY(skt_frame_recv(c, &msg, &len, 0, IO_MS));
	EXPECT(len == 4 && memcmp(msg, "pong", 4) == 0);
	TRY(skt_shutdown_write(c));
	ssize_t n;
	TRY(n = skt_recv(s, buf, sizeof(buf), IO_MS));
	EXPECT(n == 0);
out:
	skt_free(msg);
	skt_close(s);
	skt_close(c);
	skt_close(l);
	return rc;
}

/* A port that refuses: bound, never listening, so each SYN gets a reset
 * and nobody else can take the port meanwhile. */
static int refusing(const char *ip, uint16_t port, int *fd)
{
	skt_addr a;
	int rc = skt_addr_from_ip(&a, ip, port);
	if (rc < 0)
		return rc;
	*fd = skt_socket(skt_addr_family(&a), SOCK_STREAM, 0);
	if (*fd < 0)
		return *fd;
	rc = bind(*fd, &a.u.sa, a.len) < 0 ? -errno : 0;
	return rc;
}

/* Happy Eyeballs over [::1]:P (refused) then 127.0.0.1:P (listening):
 * the refusal starts the second attempt at once, which wins. */
static int happy_eyeballs(void)
{
	int rc = 0, l = -1, hold = -1, c = -1, s = -1;
	skt_addr addrs[2];
	skt_connect_report rep;
	TRY(l = skt_listen("127.0.0.1", "0", NULL));
	TRY(skt_sock_local(l, &addrs[1]));
	uint16_t port = skt_addr_port(&addrs[1]);
	TRY(refusing("::1", port, &hold));
	TRY(skt_addr_from_ip(&addrs[0], "::1", port));
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = IO_MS;
	o.attempt_delay_ms = 100;
	o.report = &rep;
	TRY(c = skt_connect_any(addrs, 2, &o));
	EXPECT(rep.winner >= 0 &&
	       skt_addr_family(&rep.attempts[rep.winner].addr) == AF_INET);
	TRY(s = skt_accept(l, NULL, IO_MS));
out:
	skt_close(s);
	skt_close(c);
	skt_close(hold);
	skt_close(l);
	return rc;
}

/* A dual-stack wildcard listener reached over both families, with the
 * connections described and their options read back. */
static int listen_dual_stack(void)
{
	int rc = 0, l = -1, c4 = -1, c6 = -1, s = -1;
	skt_addr where, a;
	char text[256 + 2 * SKT_ADDRSTRLEN];
	int v;
	TRY(l = skt_listen("*", "0", NULL));
	TRY(skt_sock_local(l, &where));
	TRY(skt_addr_from_ip(&a, "127.0.0.1", skt_addr_port(&where)));
	TRY(c4 = skt_connect_one(&a, SOCK_STREAM, IO_MS));
	TRY(skt_addr_from_ip(&a, "::1", skt_addr_port(&where)));
	TRY(c6 = skt_connect_one(&a, SOCK_STREAM, IO_MS));
	TRY(s = skt_accept(l, NULL, IO_MS));
	TRY(skt_sock_describe(s, text, sizeof(text)));
	TRY(skt_sock_keepalive(s, 30, 5, 3));
	TRY(skt_sock_opt(s, SKT_OPT_KEEPALIVE, &v));
	EXPECT(v == 1);
	skt_close(s);
	TRY(s = skt_accept(l, NULL, IO_MS));
out:
	skt_close(s);
	skt_close(c6);
	skt_close(c4);
	skt_close(l);
	return rc;
}

/* UDP: a bound socket, a connected client from skt_connect, datagrams
 * both ways with the sender reported. */
static int udp_exchange(void)
{
	int rc = 0, srv = -1, c = -1;
	skt_addr where, from;
	char service[8], buf[16];
	bool trunc;
	ssize_t n;
	TRY(srv = skt_udp_bind(NULL, "0", NULL));
	TRY(skt_sock_local(srv, &where));
	snprintf(service, sizeof(service), "%u", skt_addr_port(&where));
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.socktype = SOCK_DGRAM;
	o.timeout_ms = IO_MS;
	TRY(c = skt_connect("127.0.0.1", service, &o));
	TRY(skt_sendto(c, "hello", 5, NULL, IO_MS));
	TRY(n = skt_recvfrom(srv, buf, sizeof(buf), &from, IO_MS, &trunc));
	EXPECT(n == 5 && !trunc);
	TRY(skt_sendto(srv, "back", 4, &from, IO_MS));
	TRY(n = skt_recvfrom(c, buf, 2, NULL, IO_MS, &trunc));
	EXPECT(n == 2 && trunc);
out:
	skt_close(c);
	skt_close(srv);
	return rc;
}

/* A Unix stream socket under an abstract name (nothing on disk to clean
 * up), reached through an endpoint, read through a buffered connection. */
static int unix_stream(void)
{
	int rc = 0, l = -1, c = -1, s = -1;
	skt_endpoint ep;
	skt_conn *conn = NULL;
	const uint8_t *line;
	char name[64];
	snprintf(name, sizeof(name), "unix:@sockit-torture-%d", (int)getpid());
	TRY(skt_endpoint_parse(&ep, name, 0));
	TRY(l = skt_endpoint_listen(&ep, NULL));
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = IO_MS;
	TRY(c = skt_endpoint_connect(&ep, &o));
	TRY(s = skt_accept(l, NULL, IO_MS));
	TRY(skt_send_all(c, "over unix\n", 10, IO_MS, NULL));
	TRY(skt_conn_new(&conn, s, 0));
	s = -1;
	skt_conn_set_timeout(conn, IO_MS);
	ssize_t n;
	TRY(n = skt_conn_read_line(conn, 0, &line));
	EXPECT(n == 10);
out:
	skt_conn_free(conn);
	skt_close(s);
	skt_close(c);
	skt_close(l);
	return rc;
}

/* The scanner over two loopback ports: one listening, one refusing. */
static int scan_two_ports(void)
{
	int rc = 0, l = -1, hold = -1;
	skt_addr where;
	skt_portset ports;
	skt_scan_result *res = NULL;
	TRY(l = skt_listen("127.0.0.1", "0", NULL));
	TRY(skt_sock_local(l, &where));
	uint16_t open_port = skt_addr_port(&where);
	skt_addr spare;
	TRY(skt_addr_from_ip(&spare, "127.0.0.1", 0));
	TRY(hold = skt_socket(AF_INET, SOCK_STREAM, 0));
	TRY(bind(hold, &spare.u.sa, spare.len) < 0 ? -errno : 0);
	TRY(skt_sock_local(hold, &spare));
	skt_portset_clear(&ports);
	skt_portset_add(&ports, open_port);
	skt_portset_add(&ports, skt_addr_port(&spare));
	skt_scan_opts so = SKT_SCAN_OPTS_INIT;
	so.timeout_ms = IO_MS;
	int n;
	TRY(n = skt_scan_collect(&where, &ports, &so, &res));
	EXPECT(n == 2);
	/* A probe's failed call is that port's answer (a connect with no
	 * route is "filtered"), so states are only checked when no call
	 * failed. An interrupted connect is not a failure (connect(2): the
	 * handshake goes on): with EINTR injected, states must be exact. */
	torture_counts k = torture_peek();
	bool excused = k.injected && k.mode == TORTURE_SYS;
	for (int i = 0; i < n && !excused; i++)
		EXPECT(res[i].state == (res[i].port == open_port
						? SKT_PORT_OPEN
						: SKT_PORT_CLOSED));
out:
	skt_free(res);
	skt_close(hold);
	skt_close(l);
	return rc;
}

const torture_scenario torture_net[] = {
	{"tcp_exchange", TORTURE_INTEGRATION, tcp_exchange},
	{"happy_eyeballs", TORTURE_INTEGRATION, happy_eyeballs},
	{"listen_dual_stack", TORTURE_INTEGRATION, listen_dual_stack},
	{"udp_exchange", TORTURE_INTEGRATION, udp_exchange},
	{"unix_stream", TORTURE_INTEGRATION, unix_stream},
	{"scan_two_ports", TORTURE_INTEGRATION, scan_two_ports},
	{NULL, 0, NULL},
};
