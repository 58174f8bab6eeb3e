/* unix_test.c - Unix stream and datagram sockets by path and by abstract
 * name, socketpair, and the rule that an existing socket file is never
 * removed. Paths live in a fresh directory under /tmp per test. */
#include "sktest.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* A fresh directory for this test's socket files, and the path of name in
 * it. cleanup() removes what the test left. */
static skt_addr path_addr(const char *name, char *path, size_t cap)
{
	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/sktest-unix-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	snprintf(path, cap, "%s/%s", dir, name);
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, path), 0);
	return a;
}

static void cleanup(const char *path)
{
	unlink(path);
	rmdir(dir);
}

/* An abstract name no other test process uses (names are per network
 * namespace, not per directory, so the pid keeps them apart). */
static skt_addr abstract_addr(const char *tag)
{
	char name[64];
	snprintf(name, sizeof(name), "@sktest-%s-%d", tag, (int)getpid());
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, name), 0);
	return a;
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

/* Connect a stream client to a, accept it, and pass a line each way. */
static void stream_round_trip(int l, const skt_addr *a)
{
	int c = skt_connect_one(a, SOCK_STREAM, 5000);
	skt_assert_fd(c);
	skt_addr peer;
	int s = skt_accept(l, &peer, 5000);
	skt_assert_fd(s);
	/* An unbound client has no name: the address is the family alone. */
	cr_assert_eq(peer.len, sizeof(sa_family_t));
	cr_assert_eq(send(c, "ping", 4, MSG_NOSIGNAL), 4);
	char buf[16];
	cr_assert_eq(recv_wait(s, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "ping");
	cr_assert_eq(send(s, "pong", 4, MSG_NOSIGNAL), 4);
	cr_assert_eq(recv_wait(c, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "pong");
	skt_close(s);
	skt_close(c);
}

SKT_TEST(unix, stream_by_path)
{
	char path[128];
	skt_addr a = path_addr("s", path, sizeof(path));
	int l = skt_listen_addr(&a, NULL);
	skt_assert_fd(l);
	skt_addr local;
	cr_assert_eq(skt_sock_local(l, &local), 0);
	cr_assert(skt_addr_equal(&local, &a));
	stream_round_trip(l, &a);
	skt_close(l);
	cleanup(path);
}

SKT_TEST(unix, stream_by_abstract_name)
{
	skt_addr a = abstract_addr("stream");
	int l = skt_listen_addr(&a, NULL);
	skt_assert_fd(l);
	stream_round_trip(l, &a);
	/* A second listener on the same abstract name is refused too. */
	skt_assert_err(skt_listen_addr(&a, NULL), SKT_EADDRINUSE);
	skt_close(l);
}

/* A datagram server and a client bound to its own path (the source
 * option), so the server can answer. */
static void dgram_round_trip(const skt_addr *srv_addr, const skt_addr *cli)
{
	skt_listen_opts lo = {.socktype = SOCK_DGRAM};
	int srv = skt_listen_addr(srv_addr, &lo);
	skt_assert_fd(srv);
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.socktype = SOCK_DGRAM;
	co.source = cli;
	int c = skt_connect_any(srv_addr, 1, &co);
	skt_assert_fd(c);
	cr_assert_eq(send(c, "one", 3, MSG_NOSIGNAL), 3);
	cr_assert_eq(send(c, "two", 3, MSG_NOSIGNAL), 3);
	char buf[16];
	struct sockaddr_un from;
	struct sockaddr *fp = (struct sockaddr *)&from;
	socklen_t flen = sizeof(from);
	struct pollfd p = {.fd = srv, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 5000), 1);
	cr_assert_eq(recvfrom(srv, buf, sizeof(buf), 0, fp, &flen), 3);
	cr_assert_eq(memcmp(buf, "one", 3), 0, "datagram boundaries lost");
	skt_addr got;
	cr_assert_eq(skt_addr_from_sockaddr(&got, fp, flen), 0);
	cr_assert(skt_addr_equal(&got, cli), "datagram not from the source");
	cr_assert_eq(sendto(srv, "ack", 3, 0, fp, flen), 3);
	cr_assert_eq(recv_wait(c, buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "ack");
	skt_close(c);
	skt_close(srv);
}

SKT_TEST(unix, dgram_by_path)
{
	char spath[128], cpath[128];
	skt_addr s = path_addr("srv", spath, sizeof(spath));
	skt_addr c = path_addr("cli", cpath, sizeof(cpath));
	dgram_round_trip(&s, &c);
	unlink(cpath);
	cleanup(spath);
}

SKT_TEST(unix, dgram_by_abstract_name)
{
	skt_addr s = abstract_addr("dgram-srv");
	skt_addr c = abstract_addr("dgram-cli");
	dgram_round_trip(&s, &c);
}

SKT_TEST(unix, existing_socket_path_is_eaddrinuse_and_kept)
{
	char path[128];
	skt_addr a = path_addr("s", path, sizeof(path));
	int l = skt_listen_addr(&a, NULL);
	skt_assert_fd(l);
	skt_assert_err(skt_listen_addr(&a, NULL), SKT_EADDRINUSE);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "the socket file was removed");
	cr_assert(S_ISSOCK(st.st_mode));
	/* The first server still works: its file was not taken from it. */
	stream_round_trip(l, &a);
	skt_close(l);
	cleanup(path);
}

SKT_TEST(unix, stale_socket_file_is_eaddrinuse_and_kept)
{
	char path[128];
	skt_addr a = path_addr("s", path, sizeof(path));
	int l = skt_listen_addr(&a, NULL);
	skt_assert_fd(l);
	skt_close(l);
	/* Nobody listens now, but the file may still be another server's
	 * to clean up: sockit does not guess. */
	skt_assert_err(skt_listen_addr(&a, NULL), SKT_EADDRINUSE);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "the socket file was removed");
	skt_assert_err(skt_connect_one(&a, SOCK_STREAM, 1000),
		       SKT_ECONNREFUSED);
	cleanup(path);
}

SKT_TEST(unix, connect_to_missing_path_is_enoent)
{
	char path[128];
	skt_addr a = path_addr("nobody", path, sizeof(path));
	skt_assert_err(skt_connect_one(&a, SOCK_STREAM, 1000), SKT_ENOENT);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.report = &rep;
	skt_assert_err(skt_connect_any(&a, 1, &o), SKT_ENOENT);
	cr_assert_eq(rep.total, 1);
	skt_assert_err(rep.attempts[0].err, SKT_ENOENT);
	cleanup(path);
}

SKT_TEST(unix, endpoint_listen_and_connect)
{
	char path[128];
	skt_endpoint ep = {.kind = SKT_EP_UNIX};
	ep.unix_addr = path_addr("ep", path, sizeof(path));
	int l = skt_endpoint_listen(&ep, NULL);
	skt_assert_fd(l);
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.family = AF_INET; /* a host-name filter; a Unix endpoint ignores it */
	o.report = &rep;
	int c = skt_endpoint_connect(&ep, &o);
	skt_assert_fd(c);
	cr_assert_eq(rep.total, 1);
	cr_assert_eq(rep.winner, 0);
	int s = skt_accept(l, NULL, 5000);
	skt_assert_fd(s);
	skt_close(s);
	skt_close(c);
	skt_close(l);
	cleanup(path);
}

SKT_TEST(socketpair, stream_pair_is_connected)
{
	int fds[2];
	skt_assert_err(skt_socketpair(SOCK_STREAM, fds), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		cr_assert(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
	}
	cr_assert_eq(send(fds[0], "abc", 3, MSG_NOSIGNAL), 3);
	cr_assert_eq(send(fds[0], "def", 3, MSG_NOSIGNAL), 3);
	char buf[16];
	size_t got = 0;
	while (got < 6)
		got += recv_wait(fds[1], buf + got, sizeof(buf) - got);
	cr_assert_str_eq(buf, "abcdef");
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(socketpair, dgram_pair_keeps_boundaries)
{
	int fds[2];
	skt_assert_err(skt_socketpair(SOCK_DGRAM, fds), 0);
	cr_assert_eq(send(fds[1], "abc", 3, MSG_NOSIGNAL), 3);
	cr_assert_eq(send(fds[1], "de", 2, MSG_NOSIGNAL), 2);
	char buf[16];
	cr_assert_eq(recv_wait(fds[0], buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(recv_wait(fds[0], buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "de");
	skt_close(fds[0]);
	skt_close(fds[1]);
}

SKT_TEST(socketpair, bad_type_is_an_error)
{
	int fds[2] = {-1, -1};
	int r = skt_socketpair(12345, fds);
	cr_assert_lt(r, 0, "socketpair of type 12345 succeeded");
	cr_assert_eq(fds[0], -1);
}

/* ---- unix-dgram endpoints and stale socket files ---- */

SKT_TEST(unix, dgram_endpoint_is_answered)
{
	char path[128];
	skt_addr a = path_addr("dg", path, sizeof(path));
	char text[160];
	snprintf(text, sizeof(text), "unix-dgram:%s", path);
	skt_endpoint ep;
	cr_assert_eq(skt_endpoint_parse(&ep, text, 0), 0);
	cr_assert_eq(ep.kind, SKT_EP_UNIX_DGRAM);
	cr_assert(skt_addr_equal(&ep.unix_addr, &a));
	int srv = skt_endpoint_listen(&ep, NULL);
	cr_assert_geq(srv, 0, "listen: %s", skt_strerror(srv));
	int cli = skt_endpoint_connect(&ep, NULL);
	cr_assert_geq(cli, 0, "connect: %s", skt_strerror(cli));
	cr_assert_eq(skt_sendto(cli, "ping", 4, NULL, 1000), 4);
	char buf[16];
	skt_addr from;
	cr_assert_eq(skt_recvfrom(srv, buf, sizeof(buf), &from, 1000, NULL), 4);
	/* The client bound an autobind name: the server can answer it. */
	cr_assert_eq(skt_addr_family(&from), AF_UNIX);
	cr_assert_gt(from.len, sizeof(sa_family_t));
	cr_assert_eq(skt_sendto(srv, "pong", 4, &from, 1000), 4);
	cr_assert_eq(skt_recvfrom(cli, buf, sizeof(buf), NULL, 1000, NULL), 4);
	cr_assert_eq(memcmp(buf, "pong", 4), 0);
	skt_close(cli);
	skt_close(srv);
	cleanup(path);
}

SKT_TEST(unix, dgram_connect_to_nobody_is_refused)
{
	char path[128];
	skt_addr a = path_addr("none", path, sizeof(path));
	cr_assert_eq(skt_unix_dgram_connect(&a), SKT_ENOENT);
	cleanup(path);
}

SKT_TEST(unix, unlink_stale_removes_a_dead_servers_file)
{
	char path[128];
	skt_addr a = path_addr("stale", path, sizeof(path));
	int fd = skt_listen_addr(&a, NULL);
	cr_assert_geq(fd, 0);
	skt_close(fd); /* the file stays: a server that died */
	cr_assert_eq(skt_listen_addr(&a, NULL), SKT_EADDRINUSE);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_STREAM), 1);
	fd = skt_listen_addr(&a, NULL);
	cr_assert_geq(fd, 0, "listen after unlink: %s", skt_strerror(fd));
	skt_close(fd);
	cleanup(path);
}

SKT_TEST(unix, unlink_stale_keeps_a_live_servers_file)
{
	char path[128];
	skt_addr a = path_addr("live", path, sizeof(path));
	int fd = skt_listen_addr(&a, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_STREAM), SKT_EADDRINUSE);
	/* A live server of the other type is live too. */
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_DGRAM), SKT_EADDRINUSE);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	skt_close(fd);
	skt_listen_opts d = {.socktype = SOCK_DGRAM};
	unlink(path);
	fd = skt_listen_addr(&a, &d);
	cr_assert_geq(fd, 0);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_DGRAM), SKT_EADDRINUSE);
	skt_close(fd);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_DGRAM), 1);
	cleanup(path);
}

SKT_TEST(unix, unlink_stale_never_removes_other_files)
{
	char path[128];
	skt_addr a = path_addr("plain", path, sizeof(path));
	int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(f, 0);
	close(f);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_STREAM), SKT_ENOTSOCK);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	unlink(path);
	cr_assert_eq(skt_unix_unlink_stale(&a, SOCK_STREAM), 0, "no file");
	skt_addr ab = abstract_addr("stale");
	cr_assert_eq(skt_unix_unlink_stale(&ab, SOCK_STREAM), 0, "abstract");
	cleanup(path);
}
