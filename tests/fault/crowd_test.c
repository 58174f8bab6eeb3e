/* crowd_test.c - many hostile clients against a line-echo server on the
 * event loop (one thread, epoll): a slowloris crowd of 1000 connections
 * trickling bytes that never make a line, and a SYN storm of 1000
 * non-blocking connects against a backlog of 1. In both a normal client
 * must still be served, promptly. In a namespace as root, on the host's
 * loopback otherwise; they raise RLIMIT_NOFILE (the crowd needs ~2000
 * fds on each side of loopback in one process) and skip if they cannot. */
#include "fault.h"

#include <stdatomic.h>
#include <time.h>

#define CROWD      1000
#define FDS_NEEDED (2 * CROWD + 64)

/* ---- The server: a loop thread echoing lines ---- */

typedef struct server {
	skt_loop *loop;
	skt_listener *ls;
	pthread_t th;
	uint16_t port;
	atomic_int accepted;
	atomic_int open; /* streams not yet closed */
} server;

static void on_line(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	server *sv = skt_stream_udata(s);
	if (status < 0 || skt_stream_write(s, d, n) < 0) {
		atomic_fetch_sub(&sv->open, 1);
		skt_stream_free(s);
		return;
	}
	if (skt_stream_read_line(s, 0, on_line) < 0) {
		atomic_fetch_sub(&sv->open, 1);
		skt_stream_free(s);
	}
}

static void on_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	server *sv = arg;
	if (s == NULL)
		return; /* out of fds for a moment: the listener copes */
	atomic_fetch_add(&sv->accepted, 1);
	atomic_fetch_add(&sv->open, 1);
	skt_stream_set_udata(s, sv);
	if (skt_stream_read_line(s, 0, on_line) < 0) {
		atomic_fetch_sub(&sv->open, 1);
		skt_stream_free(s);
	}
}

static void *serve(void *arg)
{
	server *sv = arg;
	skt_loop_run(sv->loop, SKT_RUN_DEFAULT);
	return NULL;
}

static void server_start(server *sv, int backlog)
{
	memset(sv, 0, sizeof(*sv));
	skt_listen_opts o = {.family = AF_INET, .backlog = backlog};
	int lfd = skt_listen(NULL, "0", &o);
	skt_assert_fd(lfd);
	skt_addr a;
	cr_assert_eq(skt_sock_local(lfd, &a), 0);
	sv->port = skt_addr_port(&a);
	skt_assert_err(skt_loop_new(&sv->loop, NULL), 0);
	skt_assert_err(skt_listener_new(sv->loop, &sv->ls, lfd, on_accept, sv),
		       0);
	cr_assert_eq(pthread_create(&sv->th, NULL, serve, sv), 0);
}

static void server_stop(server *sv)
{
	skt_loop_stop(sv->loop);
	pthread_join(sv->th, NULL);
	skt_loop_free(sv->loop); /* closes the listener and every stream */
}

/* ---- Clients ---- */

static int client(const server *sv, int timeout_ms)
{
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", sv->port);
	return skt_connect_one(&a, SOCK_STREAM, timeout_ms);
}

/* One echoed line on fd; returns its round trip in microseconds. */
static int64_t ping(int fd)
{
	struct timespec t0, t1;
	char buf[8];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	skt_assert_err(skt_send_all(fd, "ping\n", 5, 5000, NULL), 0);
	ssize_t n = skt_read_exact(fd, buf, 5, 5000, NULL);
	cr_assert_eq(n, 5, "echo: %s", skt_errname((int)n));
	cr_assert_eq(memcmp(buf, "ping\n", 5), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

typedef struct lat {
	int64_t p50, p99, max;
} lat;

static lat stats(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp64);
	return (lat){v[n / 2], v[n * 99 / 100], v[n - 1]};
}

static void need_fds(void)
{
	if (fault_nofile(FDS_NEEDED) < FDS_NEEDED)
		cr_skip_test("needs %d fds (RLIMIT_NOFILE)", FDS_NEEDED);
}

/* Wait (at most 5 s) until the server holds n connections open. */
static void wait_open(const server *sv, int n)
{
	int64_t t0 = sktest_now_ms();
	while (atomic_load(&sv->open) < n && sktest_now_ms() - t0 < 5000) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

#define PINGS            200
#define TRICKLE_PER_PING 50

FAULT_TEST(crowd, slowloris_1000_tricklers_normal_client_keeps_latency, 120)
{
	fault_netns(false);
	need_fds();
	server sv;
	server_start(&sv, 0);
	int normal = client(&sv, 2000);
	skt_assert_fd(normal);
	static int64_t base[PINGS], loaded[PINGS];
	for (int i = 0; i < PINGS; i++)
		base[i] = ping(normal);

	static int crowd[CROWD];
	for (int i = 0; i < CROWD; i++) {
		crowd[i] = client(&sv, 2000);
		skt_assert_fd(crowd[i]);
	}
	wait_open(&sv, CROWD + 1);
	/* Each ping goes out among TRICKLE_PER_PING single bytes from the
	 * crowd (never a newline), so the server is always busy with them. */
	size_t trickled = 0;
	for (int i = 0; i < PINGS; i++) {
		for (int k = 0; k < TRICKLE_PER_PING; k++) {
			int fd = crowd[(i * TRICKLE_PER_PING + k) % CROWD];
			if (skt_send(fd, "x", 1, 0) == 1)
				trickled++;
		}
		loaded[i] = ping(normal);
	}
	int still_open = atomic_load(&sv.open);
	lat b = stats(base, PINGS), d = stats(loaded, PINGS);
	fault_report("slowloris: %d tricklers (%zu bytes trickled, %d "
		     "connections open): normal client p50 %lld us p99 %lld us "
		     "max %lld us (alone: p50 %lld p99 %lld max %lld)",
		     CROWD, trickled, still_open, (long long)d.p50,
		     (long long)d.p99, (long long)d.max, (long long)b.p50,
		     (long long)b.p99, (long long)b.max);
	cr_assert_eq(still_open, CROWD + 1, "the server dropped connections");
	/* Loopback round trips are tens of microseconds; a server stuck on
	 * the crowd would show seconds. 200 ms leaves room for a loaded CI
	 * machine (and ASan) without hiding that. */
	cr_assert_lt(d.p99, 200000, "p99 %lld us under the crowd",
		     (long long)d.p99);
	for (int i = 0; i < CROWD; i++)
		skt_close(crowd[i]);
	skt_close(normal);
	server_stop(&sv);
}

FAULT_TEST(crowd, syn_storm_on_backlog_1_then_normal_client_served, 120)
{
	fault_netns(false);
	need_fds();
	server sv;
	server_start(&sv, 1);
	static int storm[CROWD];
	int started = 0;
	int64_t t0 = sktest_now_ms();
	skt_addr a;
	skt_addr_from_ip(&a, "127.0.0.1", sv.port);
	for (int i = 0; i < CROWD; i++) {
		storm[i] = skt_connect_one(&a, SOCK_STREAM, 0); /* no wait */
		if (storm[i] >= 0)
			started++;
	}
	int64_t storm_ms = sktest_now_ms() - t0;
	/* The normal client arrives right behind the storm. */
	t0 = sktest_now_ms();
	int normal = client(&sv, 10000);
	skt_assert_fd(normal);
	int64_t rtt = ping(normal);
	int64_t served_ms = sktest_now_ms() - t0;
	int accepted = atomic_load(&sv.accepted);
	fault_report("syn storm: %d connects started in %lld ms against "
		     "backlog 1; %d accepted so far; the normal client was "
		     "connected and echoed in %lld ms (echo %lld us)",
		     started, (long long)storm_ms, accepted,
		     (long long)served_ms, (long long)rtt);
	cr_assert_eq(started, CROWD);
	/* A SYN dropped on a full queue is resent after 1 s, then 2 s, ...:
	 * two resends is the worst a served client should see. */
	cr_assert_lt(served_ms, 4000);
	for (int i = 0; i < CROWD; i++)
		skt_close(storm[i]);
	skt_close(normal);
	server_stop(&sv);
}
