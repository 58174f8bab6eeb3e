/* sockit/server.h - a TCP and UDP server on event loops, with the limits
 * real servers need: asyncio's start_server, plus admission control.
 *
 * Two halves. A service (skt_service) knows one protocol: what to do with
 * a new connection or a datagram. The server knows everything else:
 * listening sockets on N loops (SO_REUSEPORT), admission (an allow/deny
 * callback, max connections, max per client address), idle timeouts,
 * counters, the graceful stop on SIGINT/SIGTERM. Nothing here prints:
 * what happens is handed to the caller's log callback as an
 * skt_server_event. The sockit command's services (echo, chat, hello...)
 * are services of this kind.
 *
 * Threads. Each worker runs its own loop in its own thread; a connection
 * lives and dies on the loop that accepted it, so services need no locks
 * for their per-connection and per-worker state. The log callback runs on
 * any worker's thread (or the caller's) and must be thread-safe.
 */
#ifndef SOCKIT_SERVER_H
#define SOCKIT_SERVER_H

#include "sockit/addr.h"
#include "sockit/stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_service skt_service;
typedef struct skt_server_conn skt_server_conn;
typedef struct skt_server_worker skt_server_worker;
typedef struct skt_server_opts skt_server_opts;

/* ---- What a service is ---- */

#define SKT_SERVICE_TCP 0x1      /* has a stream form */
#define SKT_SERVICE_UDP 0x2      /* has a datagram form */
#define SKT_SERVICE_ONE_LOOP 0x4 /* every connection on one loop (a broker) */

/* The largest datagram served whole; longer ones are dropped (counted as
 * errors). Larger than any answer a service gives, and than a quote. */
#define SKT_SERVER_DGRAM_MAX 8192

struct skt_service {
	const char *name;
	const char *what;  /* one line for --help: "RFC 862 echo" */
	uint16_t port;     /* default port: unprivileged, documented */
	unsigned flags;
	int idle_s;        /* default idle timeout in seconds */
	size_t conn_size;  /* per-connection state (skt_server_conn_state) */
	/* Per-worker state, made before the threads start (may be NULL). */
	int (*worker_new)(skt_server_worker *w, void **state);
	void (*worker_free)(void *state);
	/* An admitted connection: start reading or writing. Returns 0, or an
	 * error: the connection is reset and the error reported (an ERROR
	 * event, what "open"). */
	int (*open)(skt_server_conn *c);
	/* The server is stopping: end c gracefully (NULL: skt_stream_close,
	 * which stops reading and sends what is queued). */
	void (*stop)(skt_server_conn *c);
	/* c's stream closed; its memory goes after this (may be NULL). */
	void (*closed)(skt_server_conn *c);
	/* One datagram of len bytes: the answer goes to out (cap bytes, at
	 * least SKT_SERVER_DGRAM_MAX); returns its length, or -1 for none. */
	long (*datagram)(skt_server_worker *w, const uint8_t *in, size_t len,
			 uint8_t *out, size_t cap);
};

/* ---- A connection, as services see it ---- */

/* Why the server ended a connection (for the close event). */
enum {
	SKT_SERVER_END_NONE = 0, /* the peer, an error or the protocol did */
	SKT_SERVER_END_CUTOFF,   /* a slow reader's queue reached its cap */
	SKT_SERVER_END_DEADLINE, /* still open at the shutdown deadline */
	SKT_SERVER_END_TOOBIG    /* a line or request head over its limit */
};

struct skt_server_conn {
	skt_server_conn *prev, *next; /* the worker's open connections */
	skt_server_worker *w;
	skt_stream *s;
	skt_addr peer;
	uint64_t id;          /* 1, 2, ... across all workers */
	uint64_t in, out;     /* bytes */
	int64_t since;        /* skt_loop_now() when accepted */
	int end;              /* SKT_SERVER_END_* */
	size_t limit;         /* what the cut-off or too-big limit was */
	char who[40];         /* a name for the logs (chat nick), or "" */
	bool per_ip;          /* counted in the --max-per-ip table */
};

/* The service's conn_size bytes of c (zeroed at accept; 8-byte aligned). */
static inline void *skt_server_conn_state(skt_server_conn *c)
{
	return c + 1;
}

/* Send bytes on c's stream, counting them. Returns as skt_stream_write(v):
 * 0, 1 (queue above the high-water mark: stop producing until a flush
 * mark says the queue was sent; echo.c says why not the water callback),
 * or an error (the stream is closing). */
int skt_server_conn_write(skt_server_conn *c, const void *buf, size_t len);
int skt_server_conn_writev(skt_server_conn *c, const struct iovec *iov, int cnt);
/* Send msg, then end c gracefully: half-close once it is sent, read and
 * throw away what the client sends until its end of stream, then close.
 * Closing at once would send a reset if the client had sent anything not
 * yet read (a telnet user's Enter), and the reset can destroy the answer
 * before the client reads it (RFC 1122 4.2.2.13; Apache's "lingering
 * close"). A client that never closes meets the idle timeout. Returns 0
 * or an error (the stream is closing). */
int skt_server_conn_tell(skt_server_conn *c, const void *msg, size_t len);
/* Count len bytes received on c. */
void skt_server_conn_got(skt_server_conn *c, size_t len);
/* Reset c because a limit was hit (SKT_SERVER_END_CUTOFF / _TOOBIG): the
 * queue is dropped, the close event names the limit. */
void skt_server_conn_cut(skt_server_conn *c, int end, size_t limit);
/* The worker's per-service state (worker_new's) and the options. */
void *skt_server_worker_state(const skt_server_worker *w);
const skt_server_opts *skt_server_worker_opts(const skt_server_worker *w);
skt_loop *skt_server_worker_loop(const skt_server_worker *w);
/* True once the server has begun to stop (no new work should start). */
bool skt_server_worker_stopping(const skt_server_worker *w);

/* ---- Counters ---- */

typedef struct skt_server_stats {
	uint64_t open;     /* connections open now */
	uint64_t accepted; /* connections admitted */
	uint64_t refused;  /* by --max-conns, --max-per-ip, --allow/--deny */
	uint64_t timeouts; /* closed by the idle timeout */
	uint64_t cutoffs;  /* cut off at the output cap or a size limit */
	uint64_t errors;   /* closed by an I/O error; accept and UDP errors */
	uint64_t bytes_in, bytes_out;
	uint64_t dgrams_in, dgrams_out;
} skt_server_stats;

/* ---- What happens, for the log ---- */

typedef enum skt_server_ev {
	SKT_SERVER_EV_LISTENING, /* addr, transport */
	SKT_SERVER_EV_OPEN,      /* verbose: conn */
	SKT_SERVER_EV_CLOSE,     /* conn, err; verbose unless a limit ended it */
	SKT_SERVER_EV_REFUSED,   /* addr, refusal, limit */
	SKT_SERVER_EV_DATAGRAM,  /* verbose: addr, in/out bytes (out -1: none) */
	SKT_SERVER_EV_ERROR,     /* what, err (an accept or UDP error) */
	SKT_SERVER_EV_STATS,     /* stats (--stats, SIGUSR1) */
	SKT_SERVER_EV_STOPPING,  /* signum, stats */
	SKT_SERVER_EV_STOPPED    /* stats, ms, deadline_cuts */
} skt_server_ev;

enum {
	SKT_SERVER_REFUSE_DENIED = 1, /* --allow / --deny (verbose only) */
	SKT_SERVER_REFUSE_MAX_CONNS,
	SKT_SERVER_REFUSE_MAX_PER_IP,
	SKT_SERVER_REFUSE_STOPPING    /* accepted while stopping (verbose) */
};

typedef struct skt_server_event {
	skt_server_ev kind;
	const char *service;
	const skt_addr *addr;       /* listening address or peer */
	int transport;              /* SOCK_STREAM or SOCK_DGRAM */
	const skt_server_conn *conn;  /* OPEN, CLOSE */
	int err;                    /* CLOSE: 0 or why; ERROR: the code */
	int refusal;                /* REFUSED: SKT_SERVER_REFUSE_* */
	size_t limit;               /* REFUSED: the limit's value */
	const char *what;           /* ERROR: "accept", "udp", "open" */
	unsigned quiet;             /* ERROR: like errors not reported since */
	long in, out;               /* DATAGRAM */
	int64_t ms;                 /* CLOSE: age; STOPPED: uptime; timeout */
	int signum;                 /* STOPPING */
	uint64_t deadline_cuts;     /* STOPPED */
	const skt_server_stats *stats;
} skt_server_event;

typedef void (*skt_server_log_fn)(const skt_server_event *ev, void *arg);

/* ---- Running a server ---- */

#define SKT_SERVER_ADDR_MAX 16
/* How long a stopping server lets connections finish their writes. */
#define SKT_SERVER_DRAIN_MS 2000

typedef struct skt_server_addr {
	char host[SKT_HOST_MAX + 1]; /* "" for loopback, "*" for every one */
	char port[8];                /* "0": any free port */
} skt_server_addr;

struct skt_server_opts {
	const skt_service *svc;
	skt_server_addr addrs[SKT_SERVER_ADDR_MAX];
	size_t naddrs;
	bool tcp, udp;
	unsigned workers;          /* >= 1 (1 for a ONE_LOOP service) */
	size_t max_conns;          /* 0: no limit */
	size_t max_per_ip;         /* 0: no limit */
	int idle_ms;               /* 0: none */
	int stats_ms;              /* 0: no periodic stats */
	size_t max_queue;          /* chat: a member's output cap in bytes */
	bool verbose;
	/* The service's own settings (qotd: its quotes), read by the
	 * service through skt_server_worker_opts(); may be NULL. */
	const void *service_arg;
	/* Admission by address (--allow/--deny); NULL admits everyone. Called
	 * on worker threads concurrently: must be thread-safe. */
	bool (*admit)(const skt_addr *peer, void *arg);
	void *admit_arg;
	skt_server_log_fn log;       /* required */
	void *log_arg;
	/* Out: when run fails to listen, the address (index) and transport
	 * that failed. */
	size_t failed_addr;
	int failed_transport;
};

/* Listen where o says, report LISTENING for each socket, then serve until
 * SIGINT or SIGTERM: stop accepting, let connections finish their writes
 * for SKT_SERVER_DRAIN_MS (a second signal cuts that short), report
 * STOPPED, return 0. SIGUSR1 reports STATS. Returns an error, with
 * nothing left running, when a socket, loop or thread cannot be made
 * (o->failed_* then say which listening socket, when one failed). */
int skt_server_run(skt_server_opts *o);

#ifdef __cplusplus
}
#endif
#endif
