/* looptest.h - what the event-loop tests share: each scenario runs once
 * per backend, a loop per test, a connected stream pair. Define LOOP_SUITE
 * (the Criterion suite name) before including this file. */
#ifndef LOOPTEST_H
#define LOOPTEST_H

#include "sktest.h"

#include "sockit/loop.h"
#include "sockit/stream.h"

/* LOOP_TEST(name) { ... uses `be` ... } declares name_epoll and name_poll. */
#define LOOP_TEST(name)                                                        \
	static void name##_body(skt_backend be);                               \
	SKT_TEST(LOOP_SUITE, name##_epoll)                                     \
	{                                                                      \
		name##_body(SKT_BACKEND_EPOLL);                                \
	}                                                                      \
	SKT_TEST(LOOP_SUITE, name##_poll)                                      \
	{                                                                      \
		name##_body(SKT_BACKEND_POLL);                                 \
	}                                                                      \
	static void name##_body(skt_backend be)

/* A new loop on backend be; fails the test if it cannot be made. */
skt_loop *looptest_new(skt_backend be);
/* A connected TCP pair on loopback: *st is a stream on l, the return the
 * peer's (blocking-API) fd. */
int looptest_stream_pair(skt_loop *l, skt_stream **st);
/* Run l until nothing is left to do; fails the test on an error. */
void looptest_run(skt_loop *l);

#endif
