/* server_limits_test.c - the server's defences, in-process over loopback:
 * the request-head deadline and shedding when full
 * (skt_server_conn_set_head), repeated events reported once a second with
 * a count, and the per-source token buckets of UDP answers. The service is
 * the test's own: it waits for a head of lines ended by an empty line,
 * answers "ok" and waits for the next. */
#include "server/server_int.h"
#include "sktest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 5000

/* ---- A service with request heads ---- */

static void on_line(skt_stream *s, int status, const uint8_t *data, size_t len)
{
	skt_server_conn *c = skt_stream_udata(s);
	if (status != 0) {
		skt_stream_close(s);
		return;
	}
	skt_server_conn_got(c, len);
	if (len == 1) { /* the empty line: the head is whole */
		skt_server_conn_set_head(c, false);
		skt_server_conn_write(c, "ok\n", 3);
		skt_server_conn_set_head(c, true);
	}
	skt_stream_read_line(s, 256, on_line);
}

static int head_open(skt_server_conn *c)
{
	skt_server_conn_set_head(c, true);
	return skt_stream_read_line(c->s, 256, on_line);
}

static const skt_service heads = {
	.name = "heads",
	.flags = SKT_SERVICE_TCP,
	.open = head_open,
};

/* ---- A server in a thread, its events counted ---- */

struct srv {
	skt_server_opts o;
	skt_server *s;
	pthread_t thread;
	pthread_mutex_t mu;
	uint16_t port;
	unsigned refused, repeated_refusals, head_closes, sheds;
	skt_server_stats last;
};

static void on_event(const skt_server_event *ev, void *arg)
{
	struct srv *r = arg;
	pthread_mutex_lock(&r->mu);
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		r->port = skt_addr_port(ev->addr);
		break;
	case SKT_SERVER_EV_REFUSED:
		r->refused++;
		break;
	case SKT_SERVER_EV_REPEATED:
		if (ev->of == SKT_SERVER_EV_REFUSED)
			r->repeated_refusals += (unsigned)ev->count;
		break;
	case SKT_SERVER_EV_CLOSE:
		r->head_closes += ev->conn->end == SKT_SERVER_END_HEAD_TIMEOUT;
		r->sheds += ev->conn->end == SKT_SERVER_END_SHED;
		break;
	case SKT_SERVER_EV_STOPPED:
		r->last = *ev->stats;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&r->mu);
}

static void *serve_main(void *arg)
{
	struct srv *r = arg;
	skt_server_serve(r->s);
	return NULL;
}

static void start_svc(struct srv *r, const skt_service *svc, size_t max_conns,
		      int header_ms)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->o.svc = svc;
	r->o.tcp = true;
	r->o.naddrs = 1;
	strcpy(r->o.addrs[0].host, "127.0.0.1");
	strcpy(r->o.addrs[0].port, "0");
	r->o.workers = 1; /* shedding is per worker: one makes it exact */
	r->o.max_conns = max_conns;
	r->o.header_timeout_ms = header_ms;
	r->o.log = on_event;
	r->o.log_arg = r;
	cr_assert_eq(skt_server_new(&r->s, &r->o), 0);
	cr_assert_eq(pthread_create(&r->thread, NULL, serve_main, r), 0);
}

static void start(struct srv *r, size_t max_conns, int header_ms)
{
	start_svc(r, &heads, max_conns, header_ms);
}

static void stop(struct srv *r)
{
	skt_server_stop(r->s);
	pthread_join(r->thread, NULL);
	skt_server_free(r->s);
	pthread_mutex_destroy(&r->mu);
}

static int dial(const struct srv *r)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, "127.0.0.1:1", 0), 0);
	skt_addr_set_port(&a, r->port);
	int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
	skt_assert_fd(fd);
	return fd;
}

/* Send a whole head and read the answer. */
static void request(int fd)
{
	char ok[3];
	cr_assert_eq(skt_send_all(fd, "h: 1\n\n", 6, WAIT_MS, NULL), 0);
	cr_assert_eq(skt_read_exact(fd, ok, 3, WAIT_MS, NULL), 3);
	cr_assert_eq(memcmp(ok, "ok\n", 3), 0);
}

/* The server ended fd: an end of stream or a reset, within WAIT_MS. */
static bool ended(int fd, int wait_ms)
{
	char c;
	ssize_t n = skt_recv(fd, &c, 1, wait_ms);
	return n == 0 || n == SKT_ECONNRESET;
}

SKT_TEST(server_heads, a_trickled_head_is_closed_at_its_deadline)
{
	struct srv r;
	start(&r, 0, 300);
	int done = dial(&r);
	request(done);                /* a head in time is answered */
	int64_t t0 = sktest_now_ms(); /* before slow's deadline starts */
	int slow = dial(&r);
	bool gone = false;
	/* A byte each 50 ms restarts any idle timer; the deadline holds. */
	while (!gone && sktest_now_ms() - t0 < WAIT_MS) {
		if (skt_send(slow, "a", 1, WAIT_MS) < 0)
			break;
		gone = ended(slow, 50);
	}
	cr_assert(gone || ended(slow, WAIT_MS), "trickler still served");
	cr_assert_geq(sktest_now_ms() - t0, 250, "closed before its deadline");
	skt_close(slow);
	skt_close(done);
	stop(&r);
	cr_assert_geq(r.head_closes, 1);
	cr_assert_geq(r.last.timeouts, 1);
}

SKT_TEST(server_heads, full_server_sheds_the_oldest_waiting_head)
{
	struct srv r;
	start(&r, 3, 0);
	int a = dial(&r);
	request(a); /* then waits for its next head: the oldest waiting */
	int b = dial(&r), c = dial(&r);
	cr_assert_eq(skt_send_all(b, "x", 1, WAIT_MS, NULL), 0);
	cr_assert_eq(skt_send_all(c, "y", 1, WAIT_MS, NULL), 0);
	usleep(100000); /* b and c are open on the server */
	int d = dial(&r);
	request(d); /* admitted: the server was full */
	cr_assert(ended(a, WAIT_MS), "the oldest waiting head was shed");
	request(b); /* the younger ones are untouched */
	skt_close(a);
	skt_close(b);
	skt_close(c);
	skt_close(d);
	stop(&r);
	cr_assert_eq(r.sheds, 1);
	cr_assert_eq(r.last.shed, 1u);
	cr_assert_eq(r.last.refused, 0u);
	cr_assert_eq(r.last.accepted, 4u);
}

/* The echo-like service of the test never waits for a head. */
static void busy_data(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status != 0)
		skt_stream_close(s);
}

static int busy_open(skt_server_conn *c)
{
	return skt_stream_read_start(c->s, busy_data);
}

static const skt_service busy = {
	.name = "busy",
	.flags = SKT_SERVICE_TCP,
	.open = busy_open,
};

SKT_TEST(server_heads, refusals_are_counted_not_reported_one_by_one)
{
	struct srv r;
	start_svc(&r, &busy, 1, 0); /* never waits for a head: no shedding */
	int held = dial(&r);
	usleep(100000);
	int64_t t0 = sktest_now_ms();
	for (int i = 0; i < 50; i++) {
		skt_addr a;
		cr_assert_eq(skt_addr_parse(&a, "127.0.0.1:1", 0), 0);
		skt_addr_set_port(&a, r.port);
		int fd = skt_connect_one(&a, SOCK_STREAM, WAIT_MS);
		if (fd >= 0) {
			ended(fd, WAIT_MS);
			skt_close(fd);
		}
	}
	int64_t took = sktest_now_ms() - t0;
	skt_close(held);
	stop(&r); /* the last count is reported before STOPPED */
	cr_assert_eq(r.last.refused, 50u);
	/* One a second at most, however slow the host. */
	cr_assert_leq(r.refused, 1 + took / 1000,
		      "%u REFUSED events in %lld ms", r.refused,
		      (long long)took);
	cr_assert_eq(r.refused + r.repeated_refusals, 50u);
}

/* ---- Token buckets ---- */

static skt_addr addr_of(const char *text)
{
	skt_addr a;
	cr_assert_eq(skt_addr_parse(&a, text, 0), 0, "%s", text);
	return a;
}

SKT_TEST(server_udprate, burst_then_the_rate_per_host)
{
	skt__udprate *t;
	cr_assert_eq(skt__udprate_new(&t, 10, 20), 0);
	skt_addr a = addr_of("10.0.0.1:5"), a2 = addr_of("10.0.0.1:6");
	skt_addr mapped = addr_of("[::ffff:10.0.0.1]:7");
	skt_addr b = addr_of("[2001:db8::1]:5");
	int ok = 0;
	for (int i = 0; i < 30; i++)
		ok += skt__udprate_take(t, i % 2 ? &a : &a2, 1000);
	cr_assert_eq(ok, 20, "the burst, whatever the port");
	cr_assert(!skt__udprate_take(t, &mapped, 1000), "mapped is 10.0.0.1");
	cr_assert(skt__udprate_take(t, &b, 1000), "another host has its own");
	cr_assert(skt__udprate_take(t, &a, 1100), "10/s: one more in 100 ms");
	cr_assert(!skt__udprate_take(t, &a, 1100));
	/* A long silence fills the bucket to the burst, no more. */
	ok = 0;
	for (int i = 0; i < 30; i++)
		ok += skt__udprate_take(t, &a, INT64_C(1) << 40);
	cr_assert_eq(ok, 20);
	skt__udprate_free(t);
}

SKT_TEST(server_udprate, table_stays_bounded_under_many_sources)
{
	skt__udprate *t;
	cr_assert_eq(skt__udprate_new(&t, 1, 1), 0);
	long before = sktest_live_allocs();
	char text[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.%d:1", i >> 16,
			 (i >> 8) & 255, i & 255);
		skt_addr a = addr_of(text);
		cr_assert(skt__udprate_take(t, &a, 1000 + i),
			  "a new source starts with its burst");
	}
	cr_assert_eq(sktest_live_allocs(), before, "no allocation per source");
	skt__udprate_free(t);
}
