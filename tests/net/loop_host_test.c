/* loop_host_test.c - skt_stream_connect_host: connecting by name on the
 * loop. Numeric hosts (IPv4, IPv6) and localhost against real listeners
 * on loopback; lookups of one name coalescing; a refused port; cancel
 * before the lookup ends and during the race; hundreds at once, each
 * callback run exactly once. In a private network and mount namespace
 * (unshare; skipped with the reason when not permitted): a resolver that
 * never answers (a UDP socket on 127.0.0.1:53 that reads nothing) leaves
 * another connection on the same loop answering at normal latency while
 * the connect fails at its deadline; and Happy Eyeballs against a name
 * whose IPv6 address drops SYNs (a listener whose accept queue is full)
 * and whose IPv4 one answers connects over IPv4 after the 250 ms delay.
 * The machine's real DNS is never asked: outside the namespace only
 * numeric hosts and localhost (/etc/hosts) are looked up.
 */
#define LOOP_SUITE loop_host
#include "looptest.h"

#include "loop/resolver.h"
#include "sockit/loop.h"
#include "sockit/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000

struct got {
	int calls;
	int status;
	skt_stream *s;
	int64_t at;
};

static void on_conn(skt_stream *s, int status, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->status = status;
	g->s = s;
	g->at = sktest_now_ms();
}

static skt_loop *new_loop(void)
{
	skt_loop *l;
	cr_assert_eq(skt_loop_new(&l, NULL), 0);
	return l;
}

/* Run l until g's callback ran (an open stream keeps a loop alive). */
static void run_for(skt_loop *l, const struct got *g)
{
	int64_t end = sktest_now_ms() + 20000;
	while (g->calls == 0 && sktest_now_ms() < end)
		cr_assert_geq(skt_loop_run(l, SKT_RUN_ONCE), 0);
	cr_assert_neq(g->calls, 0, "no callback in 20 s");
}

/* Run l until nothing is left (no stream open). */
static void run(skt_loop *l)
{
	int r;
	while ((r = skt_loop_run(l, SKT_RUN_DEFAULT)) == 1)
		;
	cr_assert_geq(r, 0, "run: %s", skt_strerror(r));
}

/* Wait for the pool to let go of every lookup (the leak check counts
 * their memory), an abandoned one included. */
static void pool_drain(int ms)
{
	int64_t end = sktest_now_ms() + ms;
	while (skt__resolver_inflight() > 0 && sktest_now_ms() < end)
		usleep(10000);
	cr_assert_eq(skt__resolver_inflight(), 0u, "a lookup still running");
}

static void connect_one(const char *host, bool v6, skt_connect_report *rep)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(v6, &port);
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	skt_loop *l = new_loop();
	struct got g = {0};
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = WAIT_MS;
	o.report = rep;
	skt_assert_err(
		skt_stream_connect_host(l, host, svc, &o, on_conn, &g, NULL),
		0);
	cr_assert_eq(g.calls, 0, "never inside the call");
	run_for(l, &g);
	skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(g.calls, 1);
	skt_assert_err(g.status, 0);
	cr_assert_not_null(g.s);
	int afd = skt_accept(lfd, NULL, WAIT_MS);
	skt_assert_fd(afd);
	cr_assert_eq(skt_stream_write(g.s, "hi", 2), 0);
	skt_loop_run(l, SKT_RUN_NOWAIT);
	char b[2];
	cr_assert_eq(skt_recv(afd, b, 2, WAIT_MS), 2);
	skt_stream_free(g.s);
	skt_close(afd);
	skt_close(lfd);
	skt_loop_free(l);
}

SKT_TEST(loop_host, numeric_ipv4_and_ipv6)
{
	skt_connect_report rep;
	connect_one("127.0.0.1", false, &rep);
	cr_assert_eq(rep.total, 1u);
	cr_assert_eq(rep.winner, 0);
	cr_assert_eq(skt_addr_family(&rep.attempts[0].addr), AF_INET);
	skt_listen_opts lo = {.family = AF_INET6};
	int v6 = skt_listen("::1", "0", &lo);
	if (v6 < 0)
		cr_skip_test("no IPv6 loopback: %s", skt_strerror(v6));
	skt_close(v6);
	connect_one("::1", true, &rep);
	cr_assert_eq(skt_addr_family(&rep.attempts[rep.winner].addr), AF_INET6);
	cr_assert_eq(skt__resolver_runs(), 0u, "numeric: no lookup thread");
}

SKT_TEST(loop_host, localhost_through_the_pool)
{
	uint64_t before = skt__resolver_runs();
	skt_connect_report rep;
	connect_one("localhost", false, &rep);
	cr_assert_eq(skt__resolver_runs(), before + 1);
	cr_assert_geq(rep.winner, 0);
	cr_assert_eq(skt_addr_family(&rep.attempts[rep.winner].addr), AF_INET);
	pool_drain(WAIT_MS);
}

SKT_TEST(loop_host, family_filter_and_bad_arguments)
{
	skt_loop *l = new_loop();
	struct got g = {0};
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	skt_assert_err(
		skt_stream_connect_host(l, "", "80", &o, on_conn, &g, NULL),
		SKT_EINVAL);
	o.socktype = SOCK_DGRAM;
	skt_assert_err(skt_stream_connect_host(l, "127.0.0.1", "80", &o,
					       on_conn, &g, NULL),
		       SKT_EINVAL);
	/* An IPv4 literal with family AF_INET6: the resolver's error, from
	 * the call (a literal is parsed there), and no callback. */
	o = (skt_connect_opts)SKT_CONNECT_OPTS_INIT;
	o.family = AF_INET6;
	skt_assert_err(skt_stream_connect_host(l, "127.0.0.1", "80", &o,
					       on_conn, &g, NULL),
		       SKT_EAI_ADDRFAMILY);
	skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(g.calls, 0);
	skt_loop_free(l);
}

SKT_TEST(loop_host, refused_port_fails_once_with_the_report)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_close(lfd); /* nobody there now */
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	skt_loop *l = new_loop();
	struct got g = {0};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.report = &rep;
	cr_assert_eq(skt_stream_connect_host(l, "127.0.0.1", svc, &o, on_conn,
					     &g, NULL),
		     0);
	run(l);
	cr_assert_eq(g.calls, 1);
	skt_assert_err(g.status, SKT_ECONNREFUSED);
	cr_assert_eq(rep.winner, -1);
	cr_assert_eq(rep.attempts[0].err, SKT_ECONNREFUSED);
	skt_loop_free(l);
}

#define MANY 300

static struct got many[MANY];

SKT_TEST(loop_host, many_at_once_coalesce_and_each_ends_once)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	skt_loop *l = new_loop();
	memset(many, 0, sizeof(many));
	uint64_t before = skt__resolver_runs();
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 10000;
	for (int i = 0; i < MANY; i++)
		cr_assert_eq(skt_stream_connect_host(
				     l, i % 3 == 0 ? "127.0.0.1" : "localhost",
				     svc, &o, on_conn, &many[i], NULL),
			     0);
	/* (localhost answers from /etc/hosts in microseconds, so how many
	 * of these share a lookup is luck: coalescing is tested with a name
	 * that hangs, below.) */
	uint64_t runs = 0;
	int accepted = 0, done = 0;
	while (done < MANY) {
		cr_assert_geq(skt_loop_run(l, SKT_RUN_ONCE), 0);
		done = 0;
		for (int i = 0; i < MANY; i++)
			done += many[i].calls > 0;
		int afd;
		while ((afd = skt_accept(lfd, NULL, 0)) >= 0) {
			skt_close(afd);
			accepted++;
		}
	}
	runs = skt__resolver_runs() - before;
	cr_assert_geq(runs, 1u);
	cr_assert_leq(runs, 200u);
	for (int i = 0; i < MANY; i++) {
		cr_assert_eq(many[i].calls, 1, "#%d called %d times", i,
			     many[i].calls);
		skt_assert_err(many[i].status, 0);
		skt_stream_free(many[i].s);
	}
	int afd;
	while (accepted < MANY && (afd = skt_accept(lfd, NULL, WAIT_MS)) >= 0) {
		skt_close(afd);
		accepted++;
	}
	cr_assert_eq(accepted, MANY);
	/* Nothing posted late: one more turn runs no callback. */
	skt_loop_run(l, SKT_RUN_NOWAIT);
	for (int i = 0; i < MANY; i++)
		cr_assert_eq(many[i].calls, 1);
	skt_close(lfd);
	skt_loop_free(l);
	pool_drain(WAIT_MS);
}

SKT_TEST(loop_host, cancel_while_resolving_and_while_racing)
{
	skt_loop *l = new_loop();
	struct got g[4] = {{0}};
	skt_connecting *c[4];
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)port);
	/* Resolving: on the pool, and a numeric host's deferred start. */
	cr_assert_eq(skt_stream_connect_host(l, "localhost", svc, NULL, on_conn,
					     &g[0], &c[0]),
		     0);
	cr_assert_eq(skt_stream_connect_host(l, "127.0.0.1", svc, NULL, on_conn,
					     &g[1], &c[1]),
		     0);
	/* Racing: a port whose SYNs go unanswered (a listener whose accept
	 * queue is full drops them). */
	skt_listen_opts lo = {.backlog = 1};
	int full = skt_listen("127.0.0.1", "0", &lo);
	skt_assert_fd(full);
	skt_addr fa;
	cr_assert_eq(skt_sock_local(full, &fa), 0);
	int fill[4];
	for (int i = 0; i < 4; i++)
		fill[i] = skt_connect_one(&fa, SOCK_STREAM, 0);
	char fsvc[8];
	snprintf(fsvc, sizeof(fsvc), "%u", (unsigned)skt_addr_port(&fa));
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 3000;
	cr_assert_eq(skt_stream_connect_host(l, "127.0.0.1", fsvc, &o, on_conn,
					     &g[2], &c[2]),
		     0);
	skt_connecting_cancel(c[0]);
	skt_connecting_cancel(c[1]);
	for (int i = 0; i < 3; i++)
		skt_loop_run(l, SKT_RUN_NOWAIT);
	skt_connecting_cancel(c[2]);
	/* The lookup for c[0] may still post: the loop runs it and frees. */
	run(l);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(g[i].calls, 0, "#%d called after cancel", i);
	for (int i = 0; i < 4; i++)
		if (fill[i] >= 0)
			skt_close(fill[i]);
	skt_close(full);
	skt_close(lfd);
	skt_loop_free(l);
	pool_drain(WAIT_MS);
}

/* ---- In a namespace of the test's own ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void bind_over(const char *src, const char *dst)
{
	cr_assert_eq(mount(src, dst, NULL, MS_BIND, NULL), 0, "bind %s: %s",
		     dst, strerror(errno));
}

/* A private network (lo up) and mount namespace whose resolv.conf names
 * 127.0.0.1 (2 s timeout, one try), whose nsswitch.conf says files then
 * dns, and whose hosts file is hosts. Skips when not permitted. */
static void enter_ns(const char *hosts)
{
	if (!sktest_can_netns())
		cr_skip_test("needs root and unshare -n for a private network");
	if (access("/run/nscd/socket", F_OK) == 0)
		cr_skip_test("nscd would answer from outside the namespace");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
		cr_skip_test("unshare(NEWNET|NEWNS): %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	char dir[] = "/tmp/sockit-ns-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char p[3][64];
	snprintf(p[0], sizeof(p[0]), "%s/resolv.conf", dir);
	snprintf(p[1], sizeof(p[1]), "%s/nsswitch.conf", dir);
	snprintf(p[2], sizeof(p[2]), "%s/hosts", dir);
	write_file(p[0],
		   "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
	write_file(p[1], "hosts: files dns\nservices: files\n");
	write_file(p[2], hosts);
	bind_over(p[0], "/etc/resolv.conf");
	bind_over(p[1], "/etc/nsswitch.conf");
	bind_over(p[2], "/etc/hosts");
	for (int i = 0; i < 3; i++)
		unlink(p[i]); /* the mounts keep them */
	rmdir(dir);
}

/* The echo side of the latency probe: one byte back for each. */
static void on_echo(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status != 0)
		return;
	skt_stream_write(s, d, n);
	skt_stream_read_exact(s, 1, on_echo);
}

struct probe {
	skt_timer *t;
	int fd;              /* the blocking side */
	int64_t last, worst; /* the longest gap between two rounds */
	int rounds;
	bool stop;
};

/* Every 20 ms: the answer to the last byte is taken (without waiting:
 * the echo runs on this same loop, so waiting here would stall what it
 * waits for), the gap since the last answered round noted, one more byte
 * sent for the loop's echo to answer. An answer not there yet (the loop
 * was slow to get to it, as under a sanitizer on a busy machine) is looked
 * for again 1 ms later: the gap grows, which is what is measured. */
static void on_probe(skt_timer *t, void *arg)
{
	struct probe *p = arg;
	int64_t now = sktest_now_ms();
	if (p->rounds > 0) {
		char b;
		ssize_t r = recv(p->fd, &b, 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			skt_timer_start(t, 1, 0);
			return;
		}
		SKT_CHECK(r == 1, "echo: %zd (%s)", r, strerror(errno));
		if (now - p->last > p->worst)
			p->worst = now - p->last;
	}
	p->last = now;
	if (p->stop)
		return;
	SKT_CHECK(skt_send_all(p->fd, "x", 1, 1000, NULL) == 0, "send");
	p->rounds++;
	skt_timer_start(t, 20, 0);
}

struct stopper {
	struct probe *p;
	struct got *g;
};

static void on_conn_stop(skt_stream *s, int status, void *arg)
{
	struct stopper *st = arg;
	on_conn(s, status, st->g);
	st->p->stop = true;
}

SKT_TEST(loop_host, hung_resolver_leaves_the_loop_serving_and_times_out)
{
	enter_ns("127.0.0.1 localhost\n");
	/* The resolver: bound, never read. */
	skt_listen_opts uo = {.socktype = SOCK_DGRAM};
	int dns = skt_listen("127.0.0.1", "53", &uo);
	skt_assert_fd(dns);
	skt_loop *l = new_loop();
	skt_stream *srv;
	struct probe p = {0};
	p.fd = looptest_stream_pair(l, &srv);
	skt_stream_read_exact(srv, 1, on_echo);
	cr_assert_eq(skt_timer_new(l, &p.t, on_probe, &p), 0);
	skt_timer_start(p.t, 0, 0);
	struct got g = {0};
	struct stopper st = {&p, &g};
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 700;
	uint64_t runs0 = skt__resolver_runs();
	int64_t t0 = sktest_now_ms();
	cr_assert_eq(skt_stream_connect_host(l, "hang.test", "80", &o,
					     on_conn_stop, &st, NULL),
		     0);
	/* More for the same name while it hangs: one lookup for them all. */
	static struct got more[20];
	memset(more, 0, sizeof(more));
	skt_connecting *first = NULL;
	for (int i = 0; i < 20; i++)
		cr_assert_eq(skt_stream_connect_host(l, "hang.test", "80", &o,
						     on_conn, &more[i],
						     i == 0 ? &first : NULL),
			     0);
	/* Cancelling works while the lookup hangs: no callback, ever. */
	skt_connecting_cancel(first);
	while (!p.stop || skt_timer_active(p.t))
		cr_assert_geq(skt_loop_run(l, SKT_RUN_ONCE), 0);
	int64_t took = g.at - t0;
	cr_assert_eq(g.calls, 1);
	skt_assert_err(g.status, SKT_ETIMEDOUT);
	cr_assert_geq(took, 650, "ended after %lld ms", (long long)took);
	cr_assert_lt(took, 1500, "ended after %lld ms", (long long)took);
	/* The loop answered all along: ~35 rounds in 700 ms. */
	cr_assert_geq(p.rounds, 10, "only %d echo rounds", p.rounds);
	/* A loop stalled by the lookup would show a gap of the whole 700 ms
	 * deadline; 500 leaves room for a slow machine. */
	cr_assert_lt(p.worst, 500, "%lld ms between two echo rounds",
		     (long long)p.worst);
	fprintf(stderr,
		"hung resolver: connect failed after %lld ms; %d echo "
		"rounds, longest gap %lld ms (20 due)\n",
		(long long)took, p.rounds, (long long)p.worst);
	for (int i = 1; i < 20; i++) {
		run_for(l, &more[i]);
		cr_assert_eq(more[i].calls, 1);
		skt_assert_err(more[i].status, SKT_ETIMEDOUT);
	}
	cr_assert_eq(more[0].calls, 0, "called after its cancel");
	cr_assert_eq(skt__resolver_runs() - runs0, 1u,
		     "21 connects to one name: one getaddrinfo");
	cr_assert_geq(skt__resolver_inflight(), 1u,
		      "the lookup is abandoned, not ended");
	skt_timer_free(p.t);
	skt_stream_free(srv);
	skt_close(p.fd);
	skt_loop_free(l);
	pool_drain(15000); /* glibc gives up after its own timeouts */
	skt_close(dns);
}

SKT_TEST(loop_host, happy_eyeballs_past_a_blackholed_ipv6)
{
	enter_ns("127.0.0.1 localhost\n::1 he.test\n127.0.0.1 he.test\n");
	/* One port on both: ::1 with a full accept queue drops SYNs (the
	 * kernel's behaviour when the queue is full), 127.0.0.1 answers. */
	skt_listen_opts lo6 = {
		.family = AF_INET6, .v6only = true, .backlog = 1};
	int l6 = skt_listen("::1", "0", &lo6);
	if (l6 < 0)
		cr_skip_test("no IPv6 loopback in the namespace");
	skt_addr a6;
	cr_assert_eq(skt_sock_local(l6, &a6), 0);
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)skt_addr_port(&a6));
	skt_listen_opts lo4 = {.family = AF_INET};
	int l4 = skt_listen("127.0.0.1", svc, &lo4);
	skt_assert_fd(l4);
	int fill[4];
	for (int i = 0; i < 4; i++)
		fill[i] = skt_connect_one(&a6, SOCK_STREAM, 0);
	usleep(100000); /* the handshakes of those that fit are done */
	skt_loop *l = new_loop();
	struct got g = {0};
	skt_connect_report rep;
	skt_connect_opts o = SKT_CONNECT_OPTS_INIT;
	o.timeout_ms = 5000;
	o.report = &rep;
	int64_t t0 = sktest_now_ms();
	cr_assert_eq(skt_stream_connect_host(l, "he.test", svc, &o, on_conn, &g,
					     NULL),
		     0);
	run_for(l, &g);
	int64_t took = g.at - t0;
	cr_assert_eq(g.calls, 1);
	skt_assert_err(g.status, 0);
	cr_assert_eq(rep.total, 2u);
	cr_assert_eq(skt_addr_family(&rep.attempts[0].addr), AF_INET6);
	skt_assert_err(rep.attempts[0].err, SKT_ECANCELED);
	cr_assert_eq(rep.winner, 1);
	cr_assert_eq(skt_addr_family(&rep.attempts[1].addr), AF_INET);
	cr_assert_geq(rep.attempts[1].start_ms, 240, "IPv4 started at %lld",
		      (long long)rep.attempts[1].start_ms);
	cr_assert_lt(took, 1000, "connected after %lld ms", (long long)took);
	fprintf(stderr,
		"happy eyeballs: IPv4 connected after %lld ms (IPv4 "
		"attempt at %lld ms)\n",
		(long long)took, (long long)rep.attempts[1].start_ms);
	skt_stream_free(g.s);
	for (int i = 0; i < 4; i++)
		if (fill[i] >= 0)
			skt_close(fill[i]);
	skt_close(l4);
	skt_close(l6);
	skt_loop_free(l);
	pool_drain(WAIT_MS);
}
