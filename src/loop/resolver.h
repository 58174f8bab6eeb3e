/* resolver.h - the loop's name lookups on a small pool of threads
 * (resolver.c), for skt_stream_connect_host (connect_host.c). Not API. */
#ifndef SOCKIT_LOOP_RESOLVER_H
#define SOCKIT_LOOP_RESOLVER_H

#include "internal.h"
#include "sockit/addr.h"
#include "sockit/loop.h"

/* Threads that run getaddrinfo at most: a resolver that hangs holds at
 * most these, and lookups beyond them wait in the queue. */
#define SKT__RESOLVER_THREADS 4
/* Distinct lookups queued or running at once: past it a new name is
 * SKT_EAGAIN, so lookups for a hung resolver cannot pile up without
 * bound (nodejs/node#8436). Waiters for one name do not count. */
#define SKT__RESOLVER_LOOKUPS 256

enum {
	SKT__WAIT_IDLE = 0,
	SKT__WAIT_QUEUED, /* on a lookup's list of waiters */
	SKT__WAIT_POSTED, /* its result posted to its loop: done will run */
	SKT__WAIT_ORPHAN  /* the post failed: no result will come */
};

struct skt__lookup;

/* One caller waiting for a name, embedded in its request. Fields are the
 * pool's while state is QUEUED (under the pool's lock), the caller's
 * after done ran. */
typedef struct skt__lookup_wait {
	struct skt__lookup_wait *next;
	struct skt__lookup *lk;
	skt_loop *loop;
	skt_cb done; /* posted to loop with arg, once the lookup ends */
	void *arg;
	int state;
	/* The result, the caller's once done runs: err (< 0), or n
	 * addresses in addrs (skt_free them). */
	int err;
	skt_addr *addrs;
	size_t n;
} skt__lookup_wait;

/* Look host/service of family up for w (w->loop, done, arg set): joins a
 * lookup of the same name in flight, else queues one. Returns 0 (done
 * will be posted to w->loop, unless cancelled), SKT_EAGAIN (too many
 * lookups in flight, or no thread could start), SKT_ENOMEM, SKT_EINVAL
 * (a name too long). The loop's thread. */
int skt__lookup_start(skt__lookup_wait *w, const char *host,
		      const char *service, int family);

/* Stop waiting: w leaves its lookup (a lookup nobody waits for and that
 * has not started is dropped; one running ends and its result is thrown
 * away). Returns true when w is free to go, false when its result was
 * already posted: done still runs and must free it. The loop's thread. */
bool skt__lookup_cancel(skt__lookup_wait *w);

/* For tests: getaddrinfo calls made so far, and lookups queued or
 * not yet freed (abandoned ones included). Any thread. */
uint64_t skt__resolver_runs(void);
size_t skt__resolver_inflight(void);

#endif
