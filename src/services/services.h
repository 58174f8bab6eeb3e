/* services.h - the built-in services of `sockit serve` (echo, discard,
 * chargen, qotd, daytime, time, upper, chat, hello) and the server that
 * runs one of them on event loops. Internal to libsockit (skt__ names, not
 * installed): the sockit command is its only user.
 *
 * Two halves. A service knows one protocol: what to do with a new
 * connection or a datagram (echo.c: echo, upper, discard, chargen;
 * tell.c: qotd, daytime, time; chat.c: chat; http.c: hello). The server
 * (server.c, worker.c, peers.c) knows everything else: listening sockets
 * on N loops (SO_REUSEPORT), admission (allow and deny lists,
 * --max-conns, --max-per-ip), idle timeouts, counters, the graceful stop
 * on SIGINT/SIGTERM. Nothing here prints: what happens is handed to the
 * caller's log callback as a skt__svc_event.
 *
 * Threads. Each worker runs its own loop in its own thread; a connection
 * lives and dies on the loop that accepted it, so services need no locks
 * for their per-connection and per-worker state. The log callback runs on
 * any worker's thread (or the caller's) and must be thread-safe.
 */
#ifndef SOCKIT_SERVICES_H
#define SOCKIT_SERVICES_H

#include "internal.h"
#include "sockit/stream.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct skt__svc skt__svc;
typedef struct skt__svc_conn skt__svc_conn;
typedef struct skt__svc_worker skt__svc_worker;
typedef struct skt__svc_opts skt__svc_opts;

/* ---- What a service is ---- */

#define SKT__SVC_TCP 0x1      /* has a stream form */
#define SKT__SVC_UDP 0x2      /* has a datagram form */
#define SKT__SVC_ONE_LOOP 0x4 /* every connection on one loop (a broker) */

/* The largest datagram served whole; longer ones are dropped (counted as
 * errors). Larger than any answer a service gives, and than a quote. */
#define SKT__SVC_DGRAM_MAX 8192

struct skt__svc {
	const char *name;
	const char *what;  /* one line for --help: "RFC 862 echo" */
	uint16_t port;     /* default port: unprivileged, documented */
	unsigned flags;
	int idle_s;        /* default idle timeout in seconds */
	size_t conn_size;  /* per-connection state (skt__svc_state) */
	/* Per-worker state, made before the threads start (may be NULL). */
	int (*worker_new)(skt__svc_worker *w, void **state);
	void (*worker_free)(void *state);
	/* An admitted connection: start reading or writing. Returns 0, or an
	 * error and the connection is reset. */
	int (*open)(skt__svc_conn *c);
	/* The server is stopping: end c gracefully (NULL: skt_stream_close,
	 * which stops reading and sends what is queued). */
	void (*stop)(skt__svc_conn *c);
	/* c's stream closed; its memory goes after this (may be NULL). */
	void (*closed)(skt__svc_conn *c);
	/* One datagram of len bytes: the answer goes to out (cap bytes, at
	 * least SKT__SVC_DGRAM_MAX); returns its length, or -1 for none. */
	long (*datagram)(skt__svc_worker *w, const uint8_t *in, size_t len,
			 uint8_t *out, size_t cap);
};

extern const skt__svc skt__svc_echo, skt__svc_discard, skt__svc_chargen,
	skt__svc_qotd, skt__svc_daytime, skt__svc_time, skt__svc_upper,
	skt__svc_chat, skt__svc_hello;

/* The service called name, or NULL. */
const skt__svc *skt__svc_find(const char *name);
/* The services in the order `sockit serve --help` lists them; NULL ends. */
extern const skt__svc *const skt__svc_all[];

/* ---- A connection, as services see it ---- */

/* Why the server ended a connection (for the close event). */
enum {
	SKT__SVC_END_NONE = 0, /* the peer, an error or the protocol did */
	SKT__SVC_END_CUTOFF,   /* a slow reader's queue reached its cap */
	SKT__SVC_END_DEADLINE, /* still open at the shutdown deadline */
	SKT__SVC_END_TOOBIG    /* a line or request head over its limit */
};

struct skt__svc_conn {
	skt__svc_conn *prev, *next; /* the worker's open connections */
	skt__svc_worker *w;
	skt_stream *s;
	skt_addr peer;
	uint64_t id;          /* 1, 2, ... across all workers */
	uint64_t in, out;     /* bytes */
	int64_t since;        /* skt_loop_now() when accepted */
	int end;              /* SKT__SVC_END_* */
	size_t limit;         /* what the cut-off or too-big limit was */
	char who[40];         /* a name for the logs (chat nick), or "" */
	bool per_ip;          /* counted in the --max-per-ip table */
};

/* The service's conn_size bytes of c (zeroed at accept; 8-byte aligned). */
static inline void *skt__svc_state(skt__svc_conn *c)
{
	return c + 1;
}

/* Send bytes on c's stream, counting them. Returns as skt_stream_write(v):
 * 0, 1 (queue above the high-water mark: stop producing until a flush
 * mark says the queue was sent; echo.c says why not the water callback),
 * or an error (the stream is closing). */
int skt__svc_write(skt__svc_conn *c, const void *buf, size_t len);
int skt__svc_writev(skt__svc_conn *c, const struct iovec *iov, int cnt);
/* Send msg, then end c gracefully: half-close once it is sent, read and
 * throw away what the client sends until its end of stream, then close.
 * Closing at once would send a reset if the client had sent anything not
 * yet read (a telnet user's Enter), and the reset can destroy the answer
 * before the client reads it (RFC 1122 4.2.2.13; Apache's "lingering
 * close"). A client that never closes meets the idle timeout. Returns 0
 * or an error (the stream is closing). */
int skt__svc_tell(skt__svc_conn *c, const void *msg, size_t len);
/* Count len bytes received on c. */
void skt__svc_got(skt__svc_conn *c, size_t len);
/* Reset c because a limit was hit (SKT__SVC_END_CUTOFF / _TOOBIG): the
 * queue is dropped, the close event names the limit. */
void skt__svc_cut(skt__svc_conn *c, int end, size_t limit);
/* The worker's per-service state (worker_new's) and the options. */
void *skt__svc_wstate(const skt__svc_worker *w);
const skt__svc_opts *skt__svc_options(const skt__svc_worker *w);
skt_loop *skt__svc_loop(const skt__svc_worker *w);
/* True once the server has begun to stop (no new work should start). */
bool skt__svc_stopping(const skt__svc_worker *w);

/* ---- Counters ---- */

typedef struct skt__svc_stats {
	uint64_t open;     /* connections open now */
	uint64_t accepted; /* connections admitted */
	uint64_t refused;  /* by --max-conns, --max-per-ip, --allow/--deny */
	uint64_t timeouts; /* closed by the idle timeout */
	uint64_t cutoffs;  /* cut off at the output cap or a size limit */
	uint64_t errors;   /* closed by an I/O error; accept and UDP errors */
	uint64_t bytes_in, bytes_out;
	uint64_t dgrams_in, dgrams_out;
} skt__svc_stats;

/* ---- What happens, for the log ---- */

typedef enum skt__svc_ev {
	SKT__SVC_EV_LISTENING, /* addr, transport */
	SKT__SVC_EV_OPEN,      /* verbose: conn */
	SKT__SVC_EV_CLOSE,     /* conn, err; verbose unless a limit ended it */
	SKT__SVC_EV_REFUSED,   /* addr, refusal, limit */
	SKT__SVC_EV_DATAGRAM,  /* verbose: addr, in/out bytes (out -1: none) */
	SKT__SVC_EV_ERROR,     /* what, err (an accept or UDP error) */
	SKT__SVC_EV_STATS,     /* stats (--stats, SIGUSR1) */
	SKT__SVC_EV_STOPPING,  /* signum, stats */
	SKT__SVC_EV_STOPPED    /* stats, ms, deadline_cuts */
} skt__svc_ev;

enum {
	SKT__SVC_REFUSE_DENIED = 1, /* --allow / --deny (verbose only) */
	SKT__SVC_REFUSE_MAX_CONNS,
	SKT__SVC_REFUSE_MAX_PER_IP,
	SKT__SVC_REFUSE_STOPPING    /* accepted while stopping (verbose) */
};

typedef struct skt__svc_event {
	skt__svc_ev kind;
	const char *service;
	const skt_addr *addr;       /* listening address or peer */
	int transport;              /* SOCK_STREAM or SOCK_DGRAM */
	const skt__svc_conn *conn;  /* OPEN, CLOSE */
	int err;                    /* CLOSE: 0 or why; ERROR: the code */
	int refusal;                /* REFUSED: SKT__SVC_REFUSE_* */
	size_t limit;               /* REFUSED: the limit's value */
	const char *what;           /* ERROR: "accept", "udp" */
	unsigned quiet;             /* ERROR: like errors not reported since */
	long in, out;               /* DATAGRAM */
	int64_t ms;                 /* CLOSE: age; STOPPED: uptime; timeout */
	int signum;                 /* STOPPING */
	uint64_t deadline_cuts;     /* STOPPED */
	const skt__svc_stats *stats;
} skt__svc_event;

typedef void (*skt__svc_log_fn)(const skt__svc_event *ev, void *arg);

/* ---- Running a server ---- */

#define SKT__SVC_ADDR_MAX 16
/* How long a stopping server lets connections finish their writes. */
#define SKT__SVC_DRAIN_MS 2000

typedef struct skt__svc_addr {
	char host[SKT_HOST_MAX + 1]; /* "" for loopback, "*" for every one */
	char port[8];                /* "0": any free port */
} skt__svc_addr;

typedef struct skt__quotes {
	char **v;  /* each ends in CRLF, at most 512 characters (RFC 865) */
	size_t n;
} skt__quotes;

struct skt__svc_opts {
	const skt__svc *svc;
	skt__svc_addr addrs[SKT__SVC_ADDR_MAX];
	size_t naddrs;
	bool tcp, udp;
	unsigned workers;          /* >= 1 (1 for a ONE_LOOP service) */
	size_t max_conns;          /* 0: no limit */
	size_t max_per_ip;         /* 0: no limit */
	int idle_ms;               /* 0: none */
	int stats_ms;              /* 0: no periodic stats */
	size_t max_queue;          /* chat: a member's output cap in bytes */
	bool verbose;
	const skt__quotes *quotes; /* qotd: NULL for the built-in ones */
	/* Admission by address (--allow/--deny); NULL admits everyone. Called
	 * on worker threads concurrently: must be thread-safe. */
	bool (*admit)(const skt_addr *peer, void *arg);
	void *admit_arg;
	skt__svc_log_fn log;       /* required */
	void *log_arg;
	/* Out: when run fails to listen, the address (index) and transport
	 * that failed. */
	size_t failed_addr;
	int failed_transport;
};

/* Listen where o says, report LISTENING for each socket, then serve until
 * SIGINT or SIGTERM: stop accepting, let connections finish their writes
 * for SKT__SVC_DRAIN_MS (a second signal cuts that short), report
 * STOPPED, return 0. SIGUSR1 reports STATS. Returns an error, with
 * nothing left running, when a socket, loop or thread cannot be made
 * (o->failed_* then say which listening socket, when one failed). */
int skt__svc_run(skt__svc_opts *o);

/* ---- The per-address connection counts (peers.c) ---- */

typedef struct skt__svc_peers skt__svc_peers;

int skt__svc_peers_new(skt__svc_peers **out);
void skt__svc_peers_free(skt__svc_peers *p);
/* Count one more connection from a's host. Returns 1 when counted, 0 when
 * the host already has max, SKT_ENOMEM. Thread-safe. */
int skt__svc_peers_take(skt__svc_peers *p, const skt_addr *a, size_t max);
/* Count one connection from a's host less. Thread-safe. */
void skt__svc_peers_put(skt__svc_peers *p, const skt_addr *a);

/* ---- qotd's quotes (tell.c) ---- */

/* Read quotes from path: separated by lines holding only "%" (the
 * fortune(6) format), or else one per non-empty line. Returns 0, -errno,
 * SKT_ENOMEM, SKT_EINVAL (no quote in the file) or SKT_ETOOBIG (a quote
 * over 512 characters; *bad_line says where it starts). */
int skt__quotes_load(skt__quotes *q, const char *path, size_t *bad_line);
void skt__quotes_free(skt__quotes *q);

#endif
