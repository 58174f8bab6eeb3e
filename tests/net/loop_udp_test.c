/* loop_udp_test.c - datagram endpoints on both backends: an echo that
 * receives in recvmmsg batches and answers with one sendmmsg, a threaded
 * client checking every datagram, truncation, and errors reported to the
 * callback. */
#define LOOP_SUITE loop_udp
#include "looptest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct echo {
	int batches, biggest, total, errors, truncated;
};

static void echo_cb(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	struct echo *e = skt_udp_udata(u);
	if (status < 0) {
		e->errors++;
		return;
	}
	e->batches++;
	if ((int)n > e->biggest)
		e->biggest = (int)n;
	for (size_t i = 0; i < n; i++) {
		e->total++;
		e->truncated += d[i].truncated;
		cr_assert_eq(skt_udp_send(u, d[i].data, d[i].len, &d[i].from),
			     0);
	}
}

static skt_udp *echo_endpoint(skt_loop *l, struct echo *e, skt_addr *a,
			      size_t max)
{
	int fd = skt_udp_bind(NULL, "0", NULL);
	cr_assert_geq(fd, 0);
	skt_sock_local(fd, a);
	skt_udp *u;
	cr_assert_eq(skt_udp_new(l, &u, fd, max), 0);
	skt_udp_set_udata(u, e);
	cr_assert_eq(skt_udp_fd(u), fd);
	cr_assert_eq(skt_udp_recv_start(u, echo_cb), 0);
	return u;
}

static int client_for(const skt_addr *a)
{
	int c = skt_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(c, 0);
	skt_sock_set_opt(c, SKT_OPT_RCVBUF, 1 << 20);
	cr_assert_eq(connect(c, &a->u.sa, a->len), 0);
	return c;
}

LOOP_TEST(echo_in_batches)
{
	skt_loop *l = looptest_new(be);
	struct echo e = {0};
	skt_addr a;
	skt_udp *u = echo_endpoint(l, &e, &a, 0);
	int c = client_for(&a);
	/* 64 datagrams wait before the loop looks: one wake-up takes them
	 * in two recvmmsg batches of SKT_UDP_BATCH. */
	char msg[64];
	for (int i = 0; i < 64; i++) {
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);
		cr_assert_eq(skt_send(c, msg, (size_t)n, 1000), n);
	}
	for (int i = 0; i < 4 && e.total < 64; i++)
		skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(e.total, 64);
	cr_assert_eq(e.biggest, SKT_UDP_BATCH);
	cr_assert_leq(e.batches, 3);
	bool seen[64] = {false};
	for (int i = 0; i < 64; i++) {
		char buf[64];
		ssize_t n = skt_recv(c, buf, sizeof(buf) - 1, 1000);
		cr_assert_gt(n, 0, "echo %d: %s", i, skt_strerror((int)n));
		buf[n] = '\0';
		int k = atoi(buf + 9);
		cr_assert(k >= 0 && k < 64 && !seen[k], "bad echo %s", buf);
		seen[k] = true;
	}
	skt_close(c);
	skt_udp_free(u);
	skt_loop_free(l);
}

struct flood {
	skt_addr a;
	skt_loop *l;
	int got, bad;
};

/* UDP may drop (a busy host's loopback backlog overflows), so a missing
 * echo is counted, not fatal; nothing here asserts off the main thread. */
static void *udp_client(void *arg)
{
	struct flood *f = arg;
	int c = client_for(&f->a);
	uint8_t msg[1200], back[1300];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 16; i++) {
			memset(msg, round * 16 + i, sizeof(msg));
			size_t n = 100 + (size_t)(i * 61 % 1100);
			if (skt_send(c, msg, n, 1000) != (ssize_t)n)
				f->bad++;
		}
		for (int i = 0; i < 16; i++) {
			ssize_t n = skt_recv(c, back, sizeof(back), 1000);
			if (n == SKT_ETIMEDOUT)
				break;
			bool same = n >= 100;
			for (ssize_t k = 1; same && k < n; k++)
				same = back[k] == back[0];
			f->got += same;
			f->bad += !same;
		}
	}
	skt_close(c);
	skt_loop_stop(f->l);
	return NULL;
}

LOOP_TEST(echo_to_a_threaded_client)
{
	skt_loop *l = looptest_new(be);
	struct echo e = {0};
	struct flood f;
	memset(&f, 0, sizeof(f));
	f.l = l;
	skt_udp *u = echo_endpoint(l, &e, &f.a, 0);
	pthread_t th;
	pthread_create(&th, NULL, udp_client, &f);
	cr_assert_eq(skt_loop_run(l, SKT_RUN_DEFAULT), 1);
	pthread_join(th, NULL);
	cr_assert_eq(f.bad, 0);
	cr_assert_geq(f.got, 300, "only %d of 320 echoes came back", f.got);
	cr_assert_geq(e.total, f.got);
	cr_assert_eq(e.errors, 0);
	skt_udp_free(u);
	skt_loop_free(l);
}

LOOP_TEST(long_datagram_is_marked_truncated)
{
	skt_loop *l = looptest_new(be);
	struct echo e = {0};
	skt_addr a;
	skt_udp *u = echo_endpoint(l, &e, &a, 16);
	int c = client_for(&a);
	char big[100];
	memset(big, 'z', sizeof(big));
	cr_assert_eq(skt_send(c, big, sizeof(big), 1000), 100);
	for (int i = 0; i < 4 && e.total < 1; i++)
		skt_loop_run(l, SKT_RUN_NOWAIT);
	cr_assert_eq(e.truncated, 1);
	char back[128];
	cr_assert_eq(skt_recv(c, back, sizeof(back), 1000), 16);
	skt_close(c);
	skt_udp_free(u);
	skt_loop_free(l);
}

static void err_cb(skt_udp *u, int status, const skt_dgram *d, size_t n)
{
	int *st = skt_udp_udata(u);
	(void)d;
	(void)n;
	if (status < 0)
		*st = status;
}

LOOP_TEST(refused_port_reported_to_the_callback)
{
	skt_loop *l = looptest_new(be);
	int closed = skt_udp_bind(NULL, "0", NULL);
	skt_addr a;
	skt_sock_local(closed, &a);
	skt_close(closed); /* nothing listens there */
	int fd = skt_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(connect(fd, &a.u.sa, a.len), 0);
	skt_udp *u;
	cr_assert_eq(skt_udp_new(l, &u, fd, 0), 0);
	int st = 0;
	skt_udp_set_udata(u, &st);
	cr_assert_eq(skt_udp_recv_start(u, err_cb), 0);
	cr_assert_eq(skt_udp_send(u, "x", 1, NULL), 0);
	for (int i = 0; i < 50 && st == 0; i++) {
		skt_loop_run(l, SKT_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert_eq(st, SKT_ECONNREFUSED, "%s", skt_errname(st));
	cr_assert_eq(skt_udp_send(u, "x", 70000, NULL), SKT_EMSGSIZE);
	skt_udp_free(u);
	skt_loop_free(l);
}

SKT_TEST(loop_udp, bad_arguments)
{
	skt_loop *l = looptest_new(SKT_BACKEND_DEFAULT);
	skt_udp *u;
	cr_assert_eq(skt_udp_new(l, &u, -1, 0), SKT_EBADF);
	cr_assert_eq(skt_udp_new(l, &u, 0, 1 << 20), SKT_EINVAL);
	int fd = skt_udp_bind(NULL, "0", NULL);
	cr_assert_eq(skt_udp_new(l, &u, fd, 0), 0);
	cr_assert_eq(skt_udp_recv_start(u, NULL), SKT_EINVAL);
	cr_assert_eq(skt_udp_recv_stop(u), 0);
	skt_udp_free(NULL);
	skt_loop_free(l); /* frees u and closes fd */
}
