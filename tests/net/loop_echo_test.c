/* loop_echo_test.c - an echo server on the loop, on both backends, with
 * 200 concurrent clients (a second loop in its own thread, and blocking
 * clients in eight threads), every byte checked; and a writer whose
 * reader stops: the water marks bound the queue. */
#define LOOP_SUITE loop_echo
#include "looptest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* ---- The echo server ---- */

static void echo_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	if (status < 0) {
		skt_stream_free(s);
		return;
	}
	cr_assert_geq(skt_stream_write(s, d, n), 0);
}

static void echo_accept(skt_listener *ls, skt_stream *s, int status, void *arg)
{
	atomic_int *accepted = arg;
	(void)ls;
	cr_assert_eq(status, 0, "accept: %s", skt_strerror(status));
	atomic_fetch_add(accepted, 1);
	cr_assert_eq(skt_stream_read_start(s, echo_read), 0);
}

struct server {
	skt_loop *loop;
	skt_listener *ls;
	skt_addr addr;
	atomic_int accepted;
};

static void server_start(struct server *sv, skt_backend be)
{
	sv->loop = looptest_new(be);
	atomic_store(&sv->accepted, 0);
	skt_listen_opts o = {.backlog = 1024};
	int lfd = skt_listen(NULL, "0", &o);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(skt_sock_local(lfd, &sv->addr), 0);
	cr_assert_eq(skt_listener_new(sv->loop, &sv->ls, lfd, echo_accept,
				      &sv->accepted),
		     0);
}

static void server_free(struct server *sv)
{
	skt_listener_free(sv->ls);
	skt_loop_free(sv->loop);
}

/* Clients on a second loop, in their own thread: each sends MSGS messages
 * of different sizes and checks each echo with read_exact. */
#define CLIENTS 200
#define MSGS    5

struct client {
	struct clients *all;
	skt_stream *s;
	int id, sent, ok;
	uint8_t msg[3000];
	size_t len;
};

struct clients {
	skt_backend be;
	skt_loop *loop;
	skt_loop *server_loop;
	skt_addr addr;
	struct client c[CLIENTS];
	int done, failed;
};

/* The client side runs in its own thread: it counts failures instead of
 * asserting (an assertion off the main thread cannot end a Criterion test
 * cleanly), and always stops the server's loop in the end. */
static void client_read(skt_stream *s, int status, const uint8_t *d, size_t n);

static void client_finish(struct client *c, bool ok)
{
	c->ok = ok;
	c->all->failed += !ok;
	skt_stream_free(c->s);
	if (++c->all->done == CLIENTS)
		skt_loop_stop(c->all->server_loop);
}

/* Send the next message and ask for its echo. */
static void client_next(struct client *c)
{
	c->len = 1 + (size_t)((c->id * 131 + c->sent * 977) % 2900);
	for (size_t i = 0; i < c->len; i++)
		c->msg[i] = (uint8_t)(c->id + c->sent * 7 + i);
	c->sent++;
	if (skt_stream_write(c->s, c->msg, c->len) < 0 ||
	    skt_stream_read_exact(c->s, c->len, client_read) < 0)
		client_finish(c, false);
}

static void client_read(skt_stream *s, int status, const uint8_t *d, size_t n)
{
	struct client *c = skt_stream_udata(s);
	if (status < 0 || n != c->len || memcmp(d, c->msg, n) != 0)
		client_finish(c, false);
	else if (c->sent == MSGS)
		client_finish(c, true);
	else
		client_next(c);
}

static void client_connected(skt_stream *s, int status)
{
	struct client *c = skt_stream_udata(s);
	if (status < 0)
		client_finish(c, false);
	else
		client_next(c);
}

static void *clients_main(void *arg)
{
	struct clients *cs = arg;
	skt_loop_opts o = {.backend = cs->be};
	if (skt_loop_new(&cs->loop, &o) < 0) {
		cs->failed = CLIENTS;
		skt_loop_stop(cs->server_loop);
		return NULL;
	}
	for (int i = 0; i < CLIENTS; i++) {
		struct client *c = &cs->c[i];
		c->all = cs;
		c->id = i;
		if (skt_stream_connect(cs->loop, &c->s, &cs->addr,
				       client_connected) < 0) {
			cs->failed++;
			if (++cs->done == CLIENTS)
				skt_loop_stop(cs->server_loop);
			continue;
		}
		skt_stream_set_udata(c->s, c);
	}
	skt_loop_run(cs->loop, SKT_RUN_DEFAULT);
	skt_loop_free(cs->loop);
	return NULL;
}

LOOP_TEST(echo_200_clients_on_a_second_loop)
{
	struct server sv;
	server_start(&sv, be);
	static struct clients cs;
	memset(&cs, 0, sizeof(cs));
	cs.be = be;
	cs.server_loop = sv.loop;
	cs.addr = sv.addr;
	pthread_t th;
	pthread_create(&th, NULL, clients_main, &cs);
	cr_assert_eq(skt_loop_run(sv.loop, SKT_RUN_DEFAULT), 1);
	pthread_join(th, NULL);
	cr_assert_eq(cs.done, CLIENTS);
	cr_assert_eq(cs.failed, 0);
	cr_assert_eq(atomic_load(&sv.accepted), CLIENTS);
	server_free(&sv);
}

/* Blocking clients: 8 threads with 25 connections each, all open at
 * once, taking turns. */
struct bclients {
	skt_addr addr;
	atomic_int done;
	skt_loop *server_loop;
	atomic_int ids;
	atomic_int failed;
};

/* Failures are counted, not asserted: an assertion off the main thread
 * cannot end a Criterion test cleanly. */
static bool client_round(int fd, int i, int round, int id)
{
	uint8_t msg[512], back[512];
	size_t n = 1 + (size_t)(i * 37 + round * 11 + id) % 511;
	memset(msg, 'a' + i % 26, n);
	return skt_send_all(fd, msg, n, 5000, NULL) == 0 &&
	       skt_read_exact(fd, back, n, 5000, NULL) == (ssize_t)n &&
	       memcmp(msg, back, n) == 0;
}

static void *blocking_clients(void *arg)
{
	struct bclients *b = arg;
	int id = atomic_fetch_add(&b->ids, 1);
	int fds[25];
	for (int i = 0; i < 25; i++) {
		fds[i] = skt_connect_one(&b->addr, SOCK_STREAM, 5000);
		b->failed += fds[i] < 0;
	}
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < 25; i++)
			if (fds[i] >= 0 && !client_round(fds[i], i, round, id))
				atomic_fetch_add(&b->failed, 1);
	for (int i = 0; i < 25; i++)
		skt_close(fds[i]);
	if (atomic_fetch_add(&b->done, 1) + 1 == 8)
		skt_loop_stop(b->server_loop);
	return NULL;
}

LOOP_TEST(echo_200_clients_blocking_threads)
{
	struct server sv;
	server_start(&sv, be);
	struct bclients b = {sv.addr, 0, sv.loop, 0, 0};
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, blocking_clients, &b);
	cr_assert_eq(skt_loop_run(sv.loop, SKT_RUN_DEFAULT), 1);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&b.failed), 0);
	cr_assert_eq(atomic_load(&sv.accepted), 200);
	server_free(&sv);
}

/* ---- Backpressure ---- */

struct pressure {
	skt_loop *l;
	skt_stream *s;
	int above, below;
	size_t written, max_queued;
	bool paused;
	uint8_t chunk[16384];
};

static void pump(struct pressure *p)
{
	while (!p->paused && p->written < (8u << 20)) {
		int r = skt_stream_write(p->s, p->chunk, sizeof(p->chunk));
		cr_assert_geq(r, 0, "write: %s", skt_strerror(r));
		p->written += sizeof(p->chunk);
		size_t q = skt_stream_queued(p->s);
		if (q > p->max_queued)
			p->max_queued = q;
		if (r == 1)
			p->paused = true; /* above high water: stop */
	}
	if (p->written >= (8u << 20))
		skt_stream_free(p->s);
}

static void on_water(skt_stream *s, bool above)
{
	struct pressure *p = skt_stream_udata(s);
	if (above) {
		p->above++;
		return;
	}
	p->below++;
	p->paused = false;
	pump(p);
}

struct slow_reader {
	int fd;
	size_t total;
	atomic_bool go;
};

static void *slow_read(void *arg)
{
	struct slow_reader *r = arg;
	/* A reader that stops until the writer has filled the socket and
	 * its queue: told, not timed, so a slow host cannot let it drain the
	 * socket before the queue ever reaches the high-water mark. */
	while (!atomic_load(&r->go))
		usleep(1000);
	static uint8_t buf[65536];
	for (;;) {
		ssize_t n = skt_recv(r->fd, buf, sizeof(buf), 5000);
		if (n <= 0)
			break;
		r->total += (size_t)n;
	}
	return NULL;
}

LOOP_TEST(write_queue_backpressure_bounds_memory)
{
	skt_loop *l = looptest_new(be);
	struct pressure p = {0};
	p.l = l;
	int peer = looptest_stream_pair(l, &p.s);
	skt_stream_set_udata(p.s, &p);
	cr_assert_eq(skt_stream_set_water(p.s, 32768, 131072, on_water), 0);
	cr_assert_eq(skt_stream_set_water(p.s, 10, 5, on_water), SKT_EINVAL);
	struct slow_reader r = {peer, 0, false};
	pthread_t th;
	pthread_create(&th, NULL, slow_read, &r);
	pump(&p);
	atomic_store(&r.go, true);
	cr_assert(p.paused);
	looptest_run(l);
	pthread_join(th, NULL);
	cr_assert_geq(p.above, 1);
	cr_assert_geq(p.below, 1);
	cr_assert_eq(r.total, 8u << 20);
	cr_assert_leq(p.max_queued, 131072 + sizeof(p.chunk),
		      "queue grew to %zu", p.max_queued);
	skt_loop_free(l);
	skt_close(peer);
}
