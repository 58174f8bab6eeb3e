/* server_api_test.c - sockit/server.h as a library user sees it: a tiny
 * service of the test's own (it reverses lines), written against the
 * public headers only, served on 127.0.0.1:0 and [::1]:0 in a thread and
 * talked to over real sockets, stopped with skt_server_stop. */
#include "sktest.h"
#include "sockit/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000

/* ---- The service: "abc\n" -> "cba\n" ---- */

static atomic_int opened, closed;

static void on_line(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	if (status != 0) {
		skt_stream_close(s); /* end of stream, too long, an error */
		return;
	}
	skt_server_conn_got(c, len);
	char out[256];
	size_t n = len - 1; /* the '\n' */
	for (size_t i = 0; i < n; i++)
		out[i] = (char)data[n - 1 - i];
	out[n] = '\n';
	if (skt_server_conn_write(c, out, n + 1) >= 0)
		skt_stream_read_line(s, sizeof(out), on_line);
}

static int rev_open(skt_server_conn *c)
{
	atomic_fetch_add(&opened, 1);
	return skt_stream_read_line(c->s, 256, on_line);
}

static void rev_closed(skt_server_conn *c)
{
	atomic_fetch_add(&closed, 1);
}

static const skt_service rev = {
	.name = "rev",
	.flags = SKT_SERVICE_TCP,
	.open = rev_open,
	.closed = rev_closed,
};

/* ---- A server in a thread ---- */

struct srv {
	skt_server_opts o;
	skt_server *s;
	pthread_t thread;
	int rc;
	pthread_mutex_t mu;
	uint16_t port4, port6;
	int listening, stopping, stopped;
	skt_server_stats last;
};

static void on_event(const skt_server_event *ev, void *arg)
{
	struct srv *r = arg;
	pthread_mutex_lock(&r->mu);
	if (ev->kind == SKT_SERVER_EV_LISTENING) {
		r->listening++;
		if (ev->addr->u.sa.sa_family == AF_INET6)
			r->port6 = skt_addr_port(ev->addr);
		else
			r->port4 = skt_addr_port(ev->addr);
	} else if (ev->kind == SKT_SERVER_EV_STOPPING) {
		r->stopping++;
	} else if (ev->kind == SKT_SERVER_EV_STOPPED) {
		r->stopped++;
		r->last = *ev->stats;
	}
	pthread_mutex_unlock(&r->mu);
}

static void *serve_main(void *arg)
{
	struct srv *r = arg;
	r->rc = skt_server_serve(r->s);
	return NULL;
}

static void add_addr(struct srv *r, const char *host)
{
	skt_server_addr *a = &r->o.addrs[r->o.naddrs++];
	strcpy(a->host, host);
	strcpy(a->port, "0");
}

static void prepare(struct srv *r)
{
	memset(r, 0, sizeof(*r));
	atomic_store(&opened, 0);
	atomic_store(&closed, 0);
	pthread_mutex_init(&r->mu, NULL);
	r->o.svc = &rev;
	r->o.tcp = true;
	r->o.workers = 2;
	r->o.log = on_event;
	r->o.log_arg = r;
}

static void start(struct srv *r)
{
	int rc = skt_server_new(&r->s, &r->o);
	cr_assert_eq(rc, 0, "new: %s", skt_strerror(rc));
	cr_assert_eq(pthread_create(&r->thread, NULL, serve_main, r), 0);
}

static void finish(struct srv *r)
{
	cr_assert_eq(pthread_join(r->thread, NULL), 0);
	cr_assert_eq(r->rc, 0, "serve: %s", skt_strerror(r->rc));
	skt_server_free(r->s);
	cr_assert_eq(r->stopping, 1);
	cr_assert_eq(r->stopped, 1);
	cr_assert_eq(atomic_load(&opened), atomic_load(&closed),
		     "every open connection closed");
	pthread_mutex_destroy(&r->mu);
}

static int dial(const char *host, uint16_t port)
{
	skt_addr a;
	char text[64];
	snprintf(text, sizeof(text), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
		 host, (unsigned)port);
	cr_assert_eq(skt_addr_parse(&a, text, 0), 0, "%s", text);
	int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	return fd;
}

static void ask(int fd, const char *line, const char *want)
{
	size_t n = strlen(want);
	char got[256];
	cr_assert_eq(skt_send_all(fd, line, strlen(line), WAIT_MS, NULL), 0);
	cr_assert_eq(skt_read_exact(fd, got, n, WAIT_MS, NULL), (ssize_t)n);
	cr_assert_eq(memcmp(got, want, n), 0, "'%.*s', want '%s'", (int)n, got,
		     want);
}

static bool have_ipv6_loopback(void)
{
	skt_listen_opts lo = {.family = AF_INET6};
	int fd = skt_listen("::1", "0", &lo);
	if (fd < 0)
		return false;
	skt_close(fd);
	return true;
}

SKT_TEST(server_api, reverses_lines_on_v4_and_v6_then_stops)
{
	bool v6 = have_ipv6_loopback();
	struct srv r;
	prepare(&r);
	add_addr(&r, "127.0.0.1");
	if (v6)
		add_addr(&r, "::1");
	start(&r);
	/* The ports are known once skt_server_new has returned. */
	cr_assert_eq(r.listening, v6 ? 2 : 1);
	cr_assert_neq(r.port4, 0);
	int a = dial("127.0.0.1", r.port4);
	ask(a, "hello\n", "olleh\n");
	ask(a, "\n", "\n");
	ask(a, "ab c\n", "c ba\n");
	if (v6) {
		cr_assert_neq(r.port6, 0);
		int b = dial("::1", r.port6);
		ask(b, "ipv6\n", "6vpi\n");
		skt_close(b);
	}
	skt_server_stop(r.s);
	/* Draining: the open client is told (end of stream), not left. */
	char c;
	skt_assert_err(skt_recv(a, &c, 1, WAIT_MS), 0);
	skt_close(a);
	finish(&r);
	cr_assert_eq(r.last.accepted, v6 ? 2u : 1u);
	cr_assert_eq(r.last.open, 0u);
	cr_assert_eq(r.last.bytes_in, 12u + (v6 ? 5u : 0u));
}

SKT_TEST(server_api, stop_before_serve_returns_at_once)
{
	struct srv r;
	prepare(&r);
	add_addr(&r, "127.0.0.1");
	int rc = skt_server_new(&r.s, &r.o);
	cr_assert_eq(rc, 0, "new: %s", skt_strerror(rc));
	skt_server_stop(r.s);
	int64_t t0 = sktest_now_ms();
	cr_assert_eq(skt_server_serve(r.s), 0);
	cr_assert_lt(sktest_now_ms() - t0, WAIT_MS);
	skt_server_free(r.s);
	cr_assert_eq(r.stopped, 1);
	pthread_mutex_destroy(&r.mu);
}

SKT_TEST(server_api, second_stop_resets_a_connection_that_does_not_end)
{
	struct srv r;
	prepare(&r);
	add_addr(&r, "127.0.0.1");
	r.o.workers = 1;
	start(&r);
	int a = dial("127.0.0.1", r.port4);
	ask(a, "x\n", "x\n");
	/* The client never reads again nor closes: skt_stream_close ends
	 * it on the first stop anyway, so both stops just have to work. */
	skt_server_stop(r.s);
	skt_server_stop(r.s);
	finish(&r);
	skt_close(a);
}

SKT_TEST(server_api, new_refuses_bad_options_and_a_port_in_use)
{
	struct srv r;
	prepare(&r);
	add_addr(&r, "127.0.0.1");
	r.o.log = NULL;
	skt_server *s = NULL;
	skt_assert_err(skt_server_new(&s, &r.o), SKT_EINVAL);
	r.o.log = on_event;
	r.o.udp = true; /* rev has no datagram form */
	skt_assert_err(skt_server_new(&s, &r.o), SKT_EINVAL);
	r.o.udp = false;

	uint16_t port;
	int busy = sktest_listen_tcp(false, &port);
	snprintf(r.o.addrs[0].port, sizeof(r.o.addrs[0].port), "%u",
		 (unsigned)port);
	skt_assert_err(skt_server_new(&s, &r.o), SKT_EADDRINUSE);
	cr_assert_eq(r.o.failed_addr, 0u);
	cr_assert_eq(r.o.failed_transport, SOCK_STREAM);
	cr_assert_null(s);
	skt_close(busy);
	skt_server_free(NULL);
	pthread_mutex_destroy(&r.mu);
}

/* ---- Unix sockets ---- */

static void unix_at(struct srv *r, const char *path, unsigned mode)
{
	skt_server_addr *a = &r->o.addrs[r->o.naddrs++];
	cr_assert_eq(skt_addr_unix(&a->unix_addr, path), 0, "%s", path);
	a->unix_mode = mode;
}

static void tmp_sock(char *path, size_t cap, const char *name)
{
	snprintf(path, cap, "/tmp/sockit-srv-%d-%s", (int)getpid(), name);
	unlink(path);
}

static int dial_unix(const char *path)
{
	skt_addr a;
	cr_assert_eq(skt_addr_unix(&a, path), 0);
	int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	return fd;
}

static skt_addr last_peer;

static int peer_open(skt_server_conn *c)
{
	last_peer = c->peer;
	return rev_open(c);
}

SKT_TEST(server_api, serves_a_unix_path_with_its_mode_and_removes_it)
{
	static skt_service svc;
	svc = rev;
	svc.open = peer_open;
	char path[108];
	tmp_sock(path, sizeof(path), "a");
	struct srv r;
	prepare(&r);
	r.o.svc = &svc;
	unix_at(&r, path, 0640);
	start(&r);
	cr_assert_eq(r.listening, 1);
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	int a = dial_unix(path), b = dial_unix(path);
	ask(a, "unix\n", "xinu\n");
	ask(b, "two\n", "owt\n");
	/* An unnamed client is named by the socket it came in through. */
	char text[SKT_ADDRSTRLEN], want[SKT_ADDRSTRLEN];
	skt_addr_format(&last_peer, text, sizeof(text));
	snprintf(want, sizeof(want), "unix:%s", path);
	cr_assert_str_eq(text, want);
	skt_close(a);
	skt_close(b);
	skt_server_stop(r.s);
	finish(&r);
	cr_assert_eq(r.last.accepted, 2u);
	cr_assert_eq(lstat(path, &st), -1, "the file goes with the server");
}

SKT_TEST(server_api, unix_stale_file_replaced_live_and_regular_refused)
{
	char path[108];
	tmp_sock(path, sizeof(path), "b");
	skt_addr ua;
	cr_assert_eq(skt_addr_unix(&ua, path), 0);
	/* Stale: bound by a socket that is gone. */
	skt_listen_opts lo = {.socktype = SOCK_DGRAM};
	int dead = skt_listen_addr(&ua, &lo);
	skt_assert_fd(dead);
	skt_close(dead);
	struct srv r;
	prepare(&r);
	unix_at(&r, path, 0);
	start(&r);
	int a = dial_unix(path);
	ask(a, "ok\n", "ko\n");
	/* Live: a second server there is refused, the first keeps it (not
	 * prepare(): the first's counters run on). */
	struct srv r2 = {.o = r.o};
	r2.o.naddrs = 0;
	pthread_mutex_init(&r2.mu, NULL);
	r2.o.log_arg = &r2;
	unix_at(&r2, path, 0);
	skt_server *s2 = NULL;
	cr_assert_eq(skt_server_new(&s2, &r2.o), SKT_EADDRINUSE);
	cr_assert_eq(r2.o.failed_addr, 0u);
	cr_assert_eq(r2.o.failed_family, AF_UNIX);
	pthread_mutex_destroy(&r2.mu);
	ask(a, "still\n", "llits\n");
	skt_close(a);
	skt_server_stop(r.s);
	finish(&r);
	/* A regular file is never removed. */
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("keep", f);
	fclose(f);
	prepare(&r2);
	unix_at(&r2, path, 0);
	cr_assert_eq(skt_server_new(&s2, &r2.o), SKT_ENOTSOCK);
	pthread_mutex_destroy(&r2.mu);
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 4);
	unlink(path);
}

SKT_TEST(server_api, unix_abstract_served_and_bad_options_refused)
{
	char name[64];
	snprintf(name, sizeof(name), "@sockit-srv-%d", (int)getpid());
	struct srv r;
	prepare(&r);
	unix_at(&r, name, 0);
	start(&r);
	int a = dial_unix(name);
	ask(a, "abs\n", "sba\n");
	skt_close(a);
	skt_server_stop(r.s);
	finish(&r);
	/* No file for a mode; no datagram form over Unix sockets. */
	skt_server *s = NULL;
	prepare(&r);
	unix_at(&r, name, 0600);
	cr_assert_eq(skt_server_new(&s, &r.o), SKT_EINVAL);
	pthread_mutex_destroy(&r.mu);
	prepare(&r);
	unix_at(&r, name, 0);
	r.o.udp = true;
	cr_assert_eq(skt_server_new(&s, &r.o), SKT_EINVAL);
	pthread_mutex_destroy(&r.mu);
}

SKT_TEST(server_api, unix_address_served_by_every_worker)
{
	struct srv r;
	prepare(&r);
	r.o.workers = 3; /* the socket and two duplicates */
	r.o.naddrs = 1;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/sockit-srv-%d.sock", (int)getpid());
	unlink(path);
	cr_assert_eq(skt_addr_unix(&r.o.addrs[0].unix_addr, path), 0);
	start(&r);
	cr_assert_eq(r.listening, 1);
	int fds[6];
	for (int i = 0; i < 6; i++) {
		fds[i] = skt_connect_one(&r.o.addrs[0].unix_addr, SOCK_STREAM,
					 WAIT_MS);
		skt_assert_fd(fds[i]);
		ask(fds[i], "unix\n", "xinu\n");
	}
	skt_server_stop(r.s);
	for (int i = 0; i < 6; i++)
		skt_close(fds[i]);
	finish(&r);
	cr_assert_eq(r.last.accepted, 6u);
	cr_assert_eq(r.last.bytes_in, 30u);
	cr_assert_eq(r.last.bytes_out, 30u);
	cr_assert_eq(access(path, F_OK), -1, "the file goes with the server");
}

static long no_answer(skt_server_worker *w, const uint8_t *in, size_t len,
		      uint8_t *out, size_t cap)
{
	return -1;
}

SKT_TEST(server_api, unix_address_is_tcp_only)
{
	static const skt_service both = {
		.name = "both",
		.flags = SKT_SERVICE_TCP | SKT_SERVICE_UDP,
		.open = rev_open,
		.closed = rev_closed,
		.datagram = no_answer,
	};
	struct srv r;
	prepare(&r);
	r.o.svc = &both;
	r.o.naddrs = 1;
	r.o.udp = true;
	cr_assert_eq(skt_addr_unix(&r.o.addrs[0].unix_addr, "@sockit-srv-udp"),
		     0);
	skt_server *s = NULL;
	skt_assert_err(skt_server_new(&s, &r.o), SKT_EINVAL);
	cr_assert_null(s);
	pthread_mutex_destroy(&r.mu);
}
