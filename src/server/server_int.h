/* server_int.h - the server's own parts, shared by server.c (setup, the
 * control loop, signals, stats, the stop) and worker.c (accepting,
 * admitting, the life of a connection, datagrams, draining). Not for the
 * services: they see sockit/server.h only. */
#ifndef SOCKIT_SERVER_INT_H
#define SOCKIT_SERVER_INT_H

#include "internal.h"
#include "sockit/server.h"

#include <stdatomic.h>

#include <pthread.h>

/* ---- The per-address connection counts (peers.c) ---- */

typedef struct skt__peers skt__peers;

/* The host part of a, as a fixed-size key: two clients on one host give
 * the same key whatever their ports; ::ffff:a.b.c.d is a.b.c.d. */
void skt__addr_key(const skt_addr *a, uint8_t key[17]);

int skt__peers_new(skt__peers **out);
void skt__peers_free(skt__peers *p);
/* Count one more connection from a's host. Returns 1 when counted, 0 when
 * the host already has max, SKT_ENOMEM. Thread-safe. */
int skt__peers_take(skt__peers *p, const skt_addr *a, size_t max);
/* Count one connection from a's host less. Thread-safe. */
void skt__peers_put(skt__peers *p, const skt_addr *a);

/* ---- UDP replies per source address (udprate.c) ---- */

typedef struct skt__udprate skt__udprate;

/* rate replies a second after a burst of burst (>= 1). Returns 0 or
 * SKT_ENOMEM. */
int skt__udprate_new(skt__udprate **out, unsigned rate, unsigned burst);
void skt__udprate_free(skt__udprate *t);
/* Take a token for a reply to from at now (monotonic ms): true when the
 * reply may go. Thread-safe. */
bool skt__udprate_take(skt__udprate *t, const skt_addr *from, int64_t now);

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
	skt__counter accepted, refused, timeouts, cutoffs, errors, shed;
	skt__counter bytes_in, bytes_out, dgrams_in, dgrams_out, dgrams_dropped;
	skt__counter deadline_cuts;
	skt__counter handshakes, handshakes_failed;
};

/* Repeated events, one slot per reason (skt__server_quiet). */
enum {
	SKT__Q_MAX_CONNS,
	SKT__Q_MAX_PER_IP,
	SKT__Q_CUTOFF,
	SKT__Q_TOOBIG,
	SKT__Q_DEADLINE,
	SKT__Q_HEAD,
	SKT__Q_SHED,
	SKT__Q_IDLE,
	SKT__Q_RATE,
	SKT__Q_DGRAM_TOOBIG,
	SKT__Q_N
};

struct skt__quiet {
	_Atomic int64_t since;  /* the window's start; 0: none */
	atomic_uint_fast64_t n; /* counted, not reported, since */
	_Atomic size_t limit;
};

/* Listening sockets per worker: two per address (the loopback pair). */
#define SKT__SLOTS (2 * SKT_SERVER_ADDR_MAX)

struct skt_server_worker {
	skt_server *srv;
	const skt_service *svc;
	skt_loop *loop;
	pthread_t thread;
	bool started;
	skt_listener *ls[SKT__SLOTS];
	skt_udp *udp[SKT__SLOTS];
	skt_server_conn conns; /* sentinel of the open connections */
	size_t nconns;
	bool stopping;
	bool finished;
	skt_timer *deadline;
	/* Connections waiting for a request head, oldest first (through
	 * hprev_/hnext_), and the timer of the oldest one's deadline. */
	skt_server_conn heads;
	skt_timer *head_t;
	void *state;        /* the service's */
	uint8_t *dgram_out; /* SKT_SERVER_DGRAM_MAX bytes for answers */
	int64_t err_logged; /* when an accept error was last reported */
	unsigned err_quiet; /* errors since, not reported */
	int64_t hs_logged;  /* the same for failed TLS handshakes */
	unsigned hs_quiet;
	/* Padded: the control thread reads the counters while this worker
	 * writes them, and no neighbour's writes should share their cache
	 * line. (Not _Alignas: the array of workers comes from malloc.) */
	uint8_t pad_[64];
	struct skt__wstats st;
	uint8_t pad2_[64];
};

struct skt_server {
	skt_server_opts opts; /* the caller's, copied */
	skt_server_opts *o;   /* &opts */
	skt_loop *ctl;        /* the caller's thread: signals, stats */
	skt_server_worker *w;
	unsigned nw;
	skt__peers *peers;     /* NULL without --max-per-ip */
	skt__udprate *udprate; /* NULL without UDP or a rate */
	atomic_size_t open;    /* TCP connections, every worker */
	atomic_uint_fast64_t next_id;
	atomic_bool stopping;
	unsigned done; /* workers that finished their drain */
	int stops;     /* stop signals and calls received */
	int64_t started;
	int stopfd; /* eventfd: skt_server_stop writes it */
	skt_io *stop_io;
	skt_signal *sigs[4];
	skt_timer *stats_t;
	skt_timer *kill_t; /* last resort if a drain never ends */
	struct skt__quiet quiet[SKT__Q_N];
	skt_timer *quiet_t; /* reports what was counted, each second */
	/* The Unix socket files this server made (device and inode, 0:
	 * none), removed at skt_server_free if still theirs. */
	struct {
		uint64_t dev, ino;
	} unix_file[SKT_SERVER_ADDR_MAX];
};

/* worker.c */
/* The loop, the service's worker state and the answer buffer. Returns 0
 * or an error, with what was made left for skt__worker_fini. */
int skt__worker_init(skt_server_worker *w);
/* Serve on fd (a listening TCP or a bound UDP socket) in slot i (of
 * SKT__SLOTS). w owns fd from now on, even when this fails. Returns 0 or
 * an error. */
int skt__worker_serve(skt_server_worker *w, size_t i, int fd, bool udp);
/* Free the loop (aborting what is open) and the worker's state. */
void skt__worker_fini(skt_server_worker *w);
/* Posted to a worker's loop: stop accepting and let connections finish
 * for SKT_SERVER_DRAIN_MS; then, or once none is left, tell the control
 * loop (skt__worker_done) and stop. */
void skt__worker_drain(void *worker);
/* Posted: reset every connection still open (the second signal). */
void skt__worker_force(void *worker);
/* Add w's counters to *sum (any thread). */
void skt__worker_sum(skt_server_worker *w, skt_server_stats *sum);

/* listen.c: bind address i of the options for every worker, report
 * LISTENING. Returns 0 or an error (o->failed_* set), the sockets made so
 * far left to the workers. */
int skt__server_bind(skt_server *srv, size_t i);
/* Remove the Unix socket files skt__server_bind made, where the file at
 * the path is still the one bound (not one a later server made). */
void skt__server_unlink(skt_server *srv);

/* heads.c: the connections waiting for a request head. */
int skt__heads_init(skt_server_worker *w);
void skt__heads_fini(skt_server_worker *w);
/* c ends: off the list. */
void skt__heads_forget(skt_server_conn *c);
/* The connection to shed for a newcomer: the oldest waiting one with no
 * answer still queued, or NULL. */
skt_server_conn *skt__heads_victim(skt_server_worker *w);
/* Reset c to make room (max_conns full, limit its value), counting it. */
void skt__heads_shed(skt_server_conn *c, size_t limit);

/* server.c: posted to the control loop by a worker that has drained. */
void skt__worker_done(void *worker);
/* Whether the event of reason q (SKT__Q_*) at now is to be reported:
 * true for the first in a second, else it is counted for the REPEATED
 * event at the end of the second. Always true when verbose. Any thread. */
bool skt__server_quiet(skt_server *srv, int q, int64_t now, size_t limit);
/* Report ev through the caller's log callback (any thread). */
void skt__server_emit(const skt_server *srv, skt_server_event *ev);

#endif
