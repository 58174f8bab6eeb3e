/* looptest.c - helpers for the event-loop tests (looptest.h). */
#include "looptest.h"

skt_loop *looptest_new(skt_backend be)
{
	skt_loop_opts o = {.backend = be};
	skt_loop *l;
	int r = skt_loop_new(&l, &o);
	cr_assert_eq(r, 0, "loop_new: %s", skt_strerror(r));
	return l;
}

int looptest_stream_pair(skt_loop *l, skt_stream **st)
{
	uint16_t port;
	int lfd = sktest_listen_tcp(false, &port);
	skt_addr a;
	cr_assert_eq(skt_sock_local(lfd, &a), 0);
	int peer = skt_connect_one(&a, SOCK_STREAM, 2000);
	cr_assert_geq(peer, 0, "connect: %s", skt_strerror(peer));
	int fd = skt_accept(lfd, NULL, 2000);
	cr_assert_geq(fd, 0);
	skt_close(lfd);
	int r = skt_stream_new(l, st, fd);
	cr_assert_eq(r, 0, "stream_new: %s", skt_strerror(r));
	return peer;
}

void looptest_run(skt_loop *l)
{
	int r = skt_loop_run(l, SKT_RUN_DEFAULT);
	cr_assert_geq(r, 0, "run: %s", skt_strerror(r));
}
