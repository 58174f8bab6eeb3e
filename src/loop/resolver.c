/* resolver.c - name lookups off the loop's thread: a pool of at most
 * SKT__RESOLVER_THREADS threads that run getaddrinfo (skt_resolve), so a
 * slow or hung resolver stalls no loop (libuv/libuv#28).
 *
 * A lookup is one name (host, service, family) queued or running; callers
 * waiting for the same name in flight join its list of waiters instead of
 * asking again. When getaddrinfo returns, each waiter gets its own copy of
 * the addresses, posted to its loop (skt_loop_post). getaddrinfo cannot be
 * interrupted, so a caller that gives up (its deadline, a cancel) only
 * leaves the list: a lookup nobody waits for is dropped if it has not
 * started, and its result thrown away if it has.
 *
 * Threads start when a lookup is queued and none is idle, up to the
 * maximum, and end after IDLE_S seconds with nothing to do, so a process
 * that resolved once keeps no thread for long.
 *
 * Fork: the pool is not carried into a child. A child forked while the
 * pool had lookups or threads must not use it (the threads do not exist
 * there and the lock may be held); exec is fine. docs/api.md says so.
 */
#include "loop/resolver.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define IDLE_S 5

struct skt__lookup {
	struct skt__lookup *next; /* every lookup, oldest first */
	char host[SKT_HOST_MAX + 1];
	char service[32];
	int family;
	bool running;
	skt__lookup_wait *waiters;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct skt__lookup *head, *tail;
	size_t nlookups, nqueued;
	unsigned threads, idle;
	uint64_t runs;
	size_t live; /* lookups allocated, until freed */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void unlink_lookup(struct skt__lookup *lk)
{
	struct skt__lookup **pp = &pool.head, *prev = NULL;
	while (*pp != NULL && *pp != lk) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = lk->next;
	if (pool.tail == lk)
		pool.tail = prev;
	pool.nlookups--;
}

static struct skt__lookup *next_queued(void)
{
	for (struct skt__lookup *lk = pool.head; lk != NULL; lk = lk->next)
		if (!lk->running)
			return lk;
	return NULL;
}

/* Hand one result to every waiter (the pool's lock held). */
static void deliver(struct skt__lookup *lk, int err, const skt_addrlist *l)
{
	skt__lookup_wait *w = lk->waiters;
	lk->waiters = NULL;
	while (w != NULL) {
		skt__lookup_wait *next = w->next;
		w->next = NULL;
		w->lk = NULL;
		w->err = err;
		w->addrs = NULL;
		w->n = 0;
		if (err >= 0) {
			w->addrs = skt_malloc(l->n * sizeof(*w->addrs));
			if (w->addrs != NULL) {
				memcpy(w->addrs, l->addrs,
				       l->n * sizeof(*w->addrs));
				w->n = l->n;
			} else {
				w->err = SKT_ENOMEM;
			}
		}
		w->state = SKT__WAIT_POSTED;
		if (skt_loop_post(w->loop, w->done, w->arg) < 0) {
			/* Its deadline ends it; nothing else will. */
			skt_free(w->addrs);
			w->addrs = NULL;
			w->state = SKT__WAIT_ORPHAN;
		}
		w = next;
	}
}

static void *pool_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		struct skt__lookup *lk = next_queued();
		if (lk == NULL) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += IDLE_S;
			pool.idle++;
			int r = pthread_cond_timedwait(&pool.cv, &pool.mu, &ts);
			pool.idle--;
			if (r != 0 && next_queued() == NULL)
				break;
			continue;
		}
		lk->running = true;
		pool.nqueued--;
		pool.runs++;
		pthread_mutex_unlock(&pool.mu);
		skt_addrlist l = {0};
		int err =
			skt_resolve(&l, lk->host,
				    lk->service[0] != '\0' ? lk->service : NULL,
				    lk->family, SOCK_STREAM, 0);
		pthread_mutex_lock(&pool.mu);
		unlink_lookup(lk);
		deliver(lk, err, &l);
		skt_addrlist_fini(&l);
		skt_free(lk);
		pool.live--;
	}
	pool.threads--;
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

/* One more thread when every one is busy (the lock held). Signals are
 * blocked in it: a process's handlers run on its own threads. */
static int grow(void)
{
	if (pool.idle >= pool.nqueued || pool.threads >= SKT__RESOLVER_THREADS)
		return 0;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int r = pthread_create(&t, &at, pool_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (r != 0)
		return pool.threads > 0 ? 0 : SKT_EAGAIN;
	pool.threads++;
	return 0;
}

static struct skt__lookup *find(const char *host, const char *service,
				int family)
{
	for (struct skt__lookup *lk = pool.head; lk != NULL; lk = lk->next)
		if (lk->family == family && strcmp(lk->host, host) == 0 &&
		    strcmp(lk->service, service) == 0)
			return lk;
	return NULL;
}

int skt__lookup_start(skt__lookup_wait *w, const char *host,
		      const char *service, int family)
{
	if (service == NULL)
		service = "";
	if (strlen(host) > SKT_HOST_MAX || strlen(service) >= 32)
		return SKT_EINVAL;
	pthread_mutex_lock(&pool.mu);
	int r = 0;
	struct skt__lookup *lk = find(host, service, family);
	if (lk == NULL && pool.nlookups >= SKT__RESOLVER_LOOKUPS)
		r = SKT_EAGAIN;
	if (r == 0 && lk == NULL) {
		lk = skt_calloc(1, sizeof(*lk));
		if (lk == NULL) {
			r = SKT_ENOMEM;
		} else {
			pool.live++;
			snprintf(lk->host, sizeof(lk->host), "%s", host);
			snprintf(lk->service, sizeof(lk->service), "%s",
				 service);
			lk->family = family;
			if (pool.tail != NULL)
				pool.tail->next = lk;
			else
				pool.head = lk;
			pool.tail = lk;
			pool.nlookups++;
			pool.nqueued++;
			r = grow();
			if (r < 0) {
				unlink_lookup(lk);
				pool.nqueued--;
				skt_free(lk);
				pool.live--;
			} else {
				pthread_cond_signal(&pool.cv);
			}
		}
	}
	if (r == 0) {
		w->lk = lk;
		w->state = SKT__WAIT_QUEUED;
		w->next = lk->waiters;
		lk->waiters = w;
	}
	pthread_mutex_unlock(&pool.mu);
	return r;
}

bool skt__lookup_cancel(skt__lookup_wait *w)
{
	pthread_mutex_lock(&pool.mu);
	bool free_now = w->state != SKT__WAIT_POSTED;
	struct skt__lookup *lk = w->lk;
	if (w->state == SKT__WAIT_QUEUED && lk != NULL) {
		skt__lookup_wait **pp = &lk->waiters;
		while (*pp != NULL && *pp != w)
			pp = &(*pp)->next;
		if (*pp == w)
			*pp = w->next;
		w->lk = NULL;
		w->state = SKT__WAIT_IDLE;
		/* Nobody else waits and no thread has it: abandoned. */
		if (lk->waiters == NULL && !lk->running) {
			unlink_lookup(lk);
			pool.nqueued--;
			skt_free(lk);
			pool.live--;
		}
	}
	pthread_mutex_unlock(&pool.mu);
	return free_now;
}

uint64_t skt__resolver_runs(void)
{
	pthread_mutex_lock(&pool.mu);
	uint64_t n = pool.runs;
	pthread_mutex_unlock(&pool.mu);
	return n;
}

size_t skt__resolver_inflight(void)
{
	pthread_mutex_lock(&pool.mu);
	size_t n = pool.live;
	pthread_mutex_unlock(&pool.mu);
	return n;
}
