/* server_int.h - the server's own parts, shared by server.c (setup, the
 * control loop, signals, stats, the stop) and worker.c (accepting,
 * admitting, the life of a connection, datagrams, draining). Not for the
 * services: they see services.h only. */
#ifndef SOCKIT_SERVER_INT_H
#define SOCKIT_SERVER_INT_H

#include "services/services.h"

#include <pthread.h>

/* A counter one worker writes and the control thread reads: relaxed
 * atomics, so an increment is a plain load, add and store (no locked
 * instruction on the hot path) and a reader never sees a torn value. */
typedef _Atomic uint64_t skt__counter;

static inline void skt__bump(skt__counter *c, uint64_t n)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t skt__read(skt__counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct skt__wstats {
	skt__counter accepted, refused, timeouts, cutoffs, errors;
	skt__counter bytes_in, bytes_out, dgrams_in, dgrams_out;
	skt__counter deadline_cuts;
};

typedef struct skt__svc_server skt__svc_server;

struct skt__svc_worker {
	skt__svc_server *srv;
	const skt__svc *svc;
	skt_loop *loop;
	pthread_t thread;
	bool started;
	skt_listener *ls[SKT__SVC_ADDR_MAX];
	skt_udp *udp[SKT__SVC_ADDR_MAX];
	skt__svc_conn conns; /* sentinel of the open connections */
	size_t nconns;
	bool stopping;
	bool finished;
	skt_timer *deadline;
	void *state;          /* the service's */
	uint8_t *dgram_out;   /* SKT__SVC_DGRAM_MAX bytes for answers */
	int64_t err_logged;   /* when an accept error was last reported */
	unsigned err_quiet;   /* errors since, not reported */
	/* Padded: the control thread reads the counters while this worker
	 * writes them, and no neighbour's writes should share their cache
	 * line. (Not _Alignas: the array of workers comes from malloc.) */
	uint8_t pad_[64];
	struct skt__wstats st;
	uint8_t pad2_[64];
};

struct skt__svc_server {
	skt__svc_opts *o;
	skt_loop *ctl;             /* the caller's thread: signals, stats */
	skt__svc_worker *w;
	unsigned nw;
	skt__svc_peers *peers;     /* NULL without --max-per-ip */
	atomic_size_t open;        /* TCP connections, every worker */
	atomic_uint_fast64_t next_id;
	atomic_bool stopping;
	unsigned done;             /* workers that finished their drain */
	int signals;               /* stop signals received */
	int64_t started;
	skt_signal *sigs[3];
	skt_timer *stats_t;
	skt_timer *kill_t;         /* last resort if a drain never ends */
};

/* worker.c */
/* The loop, the service's worker state and the answer buffer. Returns 0
 * or an error, with what was made left for skt__svc_worker_fini. */
int skt__svc_worker_init(skt__svc_worker *w);
/* Serve on fd (a listening TCP or a bound UDP socket) as address i. w
 * owns fd from now on, even when this fails. Returns 0 or an error. */
int skt__svc_worker_serve(skt__svc_worker *w, size_t i, int fd, bool udp);
/* Free the loop (aborting what is open) and the worker's state. */
void skt__svc_worker_fini(skt__svc_worker *w);
/* Posted to a worker's loop: stop accepting and let connections finish
 * for SKT__SVC_DRAIN_MS; then, or once none is left, tell the control
 * loop (skt__svc_worker_done) and stop. */
void skt__svc_worker_drain(void *worker);
/* Posted: reset every connection still open (the second signal). */
void skt__svc_worker_force(void *worker);
/* Add w's counters to *sum (any thread). */
void skt__svc_worker_sum(skt__svc_worker *w, skt__svc_stats *sum);

/* server.c: posted to the control loop by a worker that has drained. */
void skt__svc_worker_done(void *worker);
/* Report ev through the caller's log callback (any thread). */
void skt__svc_emit(const skt__svc_server *srv, skt__svc_event *ev);

#endif
