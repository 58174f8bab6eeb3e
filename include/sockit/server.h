/* sockit/server.h - a TCP and UDP server on event loops, with the limits
 * real servers need: asyncio's start_server, plus admission control.
 *
 * Two halves. A service (skt_service) knows one protocol: what to do with
 * a new connection or a datagram. The server knows everything else:
 * listening sockets on N loops (SO_REUSEPORT), admission (an allow/deny
 * callback, max connections, max per client address), idle timeouts,
 * counters, the graceful stop. Nothing here prints: what happens is handed
 * to the caller's log callback as an skt_server_event. The sockit
 * command's services (echo, chat, hello...) are services of this kind.
 *
 * Life of a server:
 *   skt_server_new     binds every listening socket and reports LISTENING
 *                      for each (the ports are known when it returns); no
 *                      thread runs yet;
 *   skt_server_serve   starts one thread per worker and serves on them
 *                      until a stop: skt_server_stop from any thread (or
 *                      a signal handler), or SIGINT/SIGTERM/SIGHUP when
 *                      o->signals is set; then drains and returns;
 *   skt_server_free    frees what is left.
 * skt_server_run is the three in one call, for a program's main.
 *
 * Threads. Each worker runs its own loop in its own thread; a connection
 * lives and dies on the loop that accepted it, so services need no locks
 * for their per-connection and per-worker state. Every service callback
 * (open, stop, closed, datagram) runs on the thread of the worker that
 * owns the connection or socket, never inside the call that caused it
 * (loop.h's rule); worker_new and worker_free run on the thread calling
 * skt_server_new / skt_server_free. The log callback runs on any worker's
 * thread or on the caller's, concurrently, and must be thread-safe.
 *
 * TLS. With opts.tls, every TCP connection is TLS (stream.h's
 * skt_stream_start_tls, server side): an admitted connection runs the
 * handshake first, within opts.handshake_timeout_ms, and the service
 * meets it only after the handshake succeeded - open() runs then, the
 * idle timeout and a head deadline start then, and what the service
 * reads and writes is plaintext. A failed handshake never reaches the
 * service: it is counted (stats.handshakes_failed) and reported as an
 * ERROR event with what "handshake", the error and the TLS reason. A
 * graceful end (skt_stream_close, skt_server_conn_tell, the stop) sends
 * close_notify; a reset (a limit, the shutdown deadline) does not.
 */
#ifndef SOCKIT_SERVER_H
#define SOCKIT_SERVER_H

#include "sockit/addr.h"
#include "sockit/export.h"
#include "sockit/stream.h"
#include "sockit/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skt_server skt_server;
typedef struct skt_service skt_service;
typedef struct skt_server_conn skt_server_conn;
typedef struct skt_server_worker skt_server_worker;
typedef struct skt_server_opts skt_server_opts;

/* ---- What a service is ---- */

#define SKT_SERVICE_TCP      0x1 /* has a stream form */
#define SKT_SERVICE_UDP      0x2 /* has a datagram form */
#define SKT_SERVICE_ONE_LOOP 0x4 /* every connection on one loop (a broker) */

/* The largest datagram served: a longer one is dropped unanswered
 * (DATAGRAM's dropped says SKT_SERVER_DROP_TOOBIG; counted in
 * dgrams_dropped, not as an error). Larger than any question the
 * services answer and than any answer they give (a quote is at most
 * 512), and small enough for a batch of SKT_UDP_BATCH buffers per
 * socket; echo of larger datagrams is not what UDP services are for. */
#define SKT_SERVER_DGRAM_MAX 8192

/* A protocol. The server only reads it; one may serve several servers at
 * once. Callbacks that may be NULL say so. */
struct skt_service {
	const char *name; /* for the logs: "echo" */
	const char *what; /* one line for a front end's help */
	uint16_t port;    /* default port, for a front end */
	unsigned flags;   /* SKT_SERVICE_* */
	int idle_s;       /* default idle timeout in seconds, for a front
			     end (the server applies opts.idle_ms only) */
	size_t conn_size; /* per-connection state (skt_server_conn_state) */
	/* Per-worker state, made on the caller's thread in skt_server_new
	 * before any thread starts (may be NULL). Returns 0 and sets *state,
	 * or an error: skt_server_new then fails with it. */
	int (*worker_new)(skt_server_worker *w, void **state);
	/* Frees worker_new's state, after every connection of the worker
	 * has closed (may be NULL). */
	void (*worker_free)(void *state);
	/* An admitted connection: start reading or writing. Returns 0, or an
	 * error: the connection is reset and the error reported (an ERROR
	 * event, what "open"). */
	int (*open)(skt_server_conn *c);
	/* The server is stopping: end c gracefully (NULL: skt_stream_close,
	 * which stops reading and sends what is queued). Connections still
	 * open SKT_SERVER_DRAIN_MS later are reset. */
	void (*stop)(skt_server_conn *c);
	/* c's stream closed; c's memory goes when this returns (may be
	 * NULL). Runs once per opened connection, also for those still open
	 * at skt_server_free. */
	void (*closed)(skt_server_conn *c);
	/* One datagram of len bytes (required with SKT_SERVICE_UDP): the
	 * answer goes to out (cap bytes, at least SKT_SERVER_DGRAM_MAX);
	 * returns its length, or -1 for none. in and out are valid during
	 * the call only. */
	long (*datagram)(skt_server_worker *w, const uint8_t *in, size_t len,
			 uint8_t *out, size_t cap);
};

/* ---- A connection, as services see it ---- */

/* Why the server ended a connection (for the close event). */
enum {
	SKT_SERVER_END_NONE = 0, /* the peer, an error or the protocol did */
	SKT_SERVER_END_CUTOFF,   /* a slow reader's queue reached its cap */
	SKT_SERVER_END_DEADLINE, /* still open at the shutdown deadline */
	SKT_SERVER_END_TOOBIG,   /* a line or request head over its limit */
	SKT_SERVER_END_HEAD_TIMEOUT, /* a request head not complete in time */
	SKT_SERVER_END_SHED          /* waiting for a head when max_conns was
					full: reset to admit a new client */
};

/* Made by the server when it admits a connection, freed after the
 * service's closed(). Fields marked (r) are the server's: services read
 * them and never write them. */
struct skt_server_conn {
	skt_server_conn *prev, *next; /* (r) the worker's open connections */
	skt_server_worker *w;         /* (r) the worker that owns c */
	skt_stream *s;                /* (r) c's stream: the service reads and
					 writes it (writes through
					 skt_server_conn_write, so they count) */
	skt_addr peer;                /* (r) the client's address (a Unix
					 client's: skt_server_addr says) */
	uint64_t id;                  /* (r) 1, 2, ... across all workers */
	uint64_t in, out; /* (r) bytes, as counted by _got and _write */
	int64_t since;    /* (r) skt_loop_now() when accepted */
	/* SKT_SERVER_END_* and the limit hit, for the close event: set by
	 * skt_server_conn_cut, or by the service before it ends c
	 * gracefully because of a limit (hello's 431 answer). */
	int end;
	size_t limit;
	char who[40]; /* a name for the logs (chat's nick), or "" */
	bool per_ip;  /* (r) counted in the max_per_ip table */
	/* The server's own (skt_server_conn_set_head, the handshake): not
	 * for services. */
	bool opened_; /* open() ran: closed() will */
	bool in_head_;
	int64_t head_since_;
	skt_server_conn *hprev_, *hnext_;
};

/* The service's conn_size bytes of c (zeroed at accept; 8-byte aligned;
 * valid until closed() returns). */
static inline void *skt_server_conn_state(skt_server_conn *c)
{
	return c + 1;
}

/* The calls below are made from c's worker thread (inside a callback of
 * c's stream or of the service). */

/* Send bytes on c's stream, counting them. Returns as skt_stream_write(v):
 * 0, 1 (queue above the high-water mark: stop producing until a flush
 * mark says the queue was sent; echo.c says why not the water callback),
 * or an error (the stream is closing). When opts.max_queue is set and the
 * unsent bytes now pass it, c is cut off (SKT_SERVER_END_CUTOFF: reset,
 * its queue dropped) and the call returns 1. */
SKT_EXTERN int skt_server_conn_write(skt_server_conn *c, const void *buf,
				     size_t len);
SKT_EXTERN int skt_server_conn_writev(skt_server_conn *c,
				      const struct iovec *iov, int cnt);
/* Send a response head and len bytes of file fd from off, counting them:
 * skt_stream_sendfile (its chunk the default), whose contract applies
 * (fd borrowed until a flush mark set after the call runs; writes
 * SKT_EBUSY meanwhile). The file is not in the queue, so max_queue does
 * not count it. Returns 0 or as skt_stream_sendfile. */
SKT_EXTERN int skt_server_conn_sendfile(skt_server_conn *c, const void *head,
					size_t hlen, int fd, int64_t off,
					uint64_t len);
/* Send msg, then end c gracefully: half-close once it is sent, read and
 * throw away what the client sends until its end of stream, then close.
 * Closing at once would send a reset if the client had sent anything not
 * yet read (a telnet user's Enter), and the reset can destroy the answer
 * before the client reads it (RFC 1122 4.2.2.13; Apache's "lingering
 * close"). A client that never closes meets the idle timeout. Returns 0
 * or an error (the stream is closing). */
SKT_EXTERN int skt_server_conn_tell(skt_server_conn *c, const void *msg,
				    size_t len);
/* Say whether c waits for (or is reading) a request head - true - or the
 * head is complete and the service is serving it - false, which is how a
 * connection starts. A protocol with request heads (HTTP) calls it with
 * true when a head may begin (at open, and after each answer on a
 * persistent connection) and with false once the head is whole. While
 * true: (1) the head deadline runs: opts.header_timeout_ms after the
 * call, c is closed (SKT_SERVER_END_HEAD_TIMEOUT, counted as a timeout;
 * a FIN, so that answers the client has not read yet survive; a reset
 * when output is still queued)
 * however many bytes trickle in meanwhile (nginx's
 * client_header_timeout; each byte restarts only the idle timer); (2)
 * when max_conns is full, the worker that accepts a new client closes its
 * oldest such connection with no answer still queued (among its 16
 * oldest; SKT_SERVER_END_SHED) to admit the new one, before it would
 * refuse it. A service that never calls it is never shed
 * and has no head deadline. Calling it with true again restarts the
 * deadline. */
SKT_EXTERN void skt_server_conn_set_head(skt_server_conn *c, bool waiting);
/* Count len bytes received on c (in c->in and the server's counters). */
SKT_EXTERN void skt_server_conn_got(skt_server_conn *c, size_t len);
/* Count len bytes sent on c by a path other than skt_server_conn_write
 * (a relay's splice(2) on the fd), in c->out and the server's counters. */
SKT_EXTERN void skt_server_conn_sent(skt_server_conn *c, size_t len);
/* The TLS session of c (for skt_tls_get_info: the protocol, ALPN, the
 * name the client asked for, a client certificate), or NULL on a server
 * without opts.tls. Valid until closed() returns. */
SKT_EXTERN skt_tls *skt_server_conn_tls(const skt_server_conn *c);
/* Reset c because a limit was hit (SKT_SERVER_END_CUTOFF / _TOOBIG): the
 * queue is dropped, the close event names the limit. closed() runs later,
 * never inside this call. */
SKT_EXTERN void skt_server_conn_cut(skt_server_conn *c, int end, size_t limit);

/* The worker's per-service state (worker_new's), the server's options (a
 * copy made by skt_server_new: read-only) and the worker's loop (for
 * timers of the service's own). Any thread; valid until the server is
 * freed. */
SKT_EXTERN void *skt_server_worker_state(const skt_server_worker *w);
SKT_EXTERN const skt_server_opts *
skt_server_worker_opts(const skt_server_worker *w);
SKT_EXTERN skt_loop *skt_server_worker_loop(const skt_server_worker *w);
/* True once the worker has begun to stop (no new work should start).
 * w's thread only. */
SKT_EXTERN bool skt_server_worker_stopping(const skt_server_worker *w);

/* ---- Counters ---- */

typedef struct skt_server_stats {
	uint64_t open;     /* connections open now (TLS: handshaking too) */
	uint64_t accepted; /* connections admitted (TLS: before the
			      handshake) */
	uint64_t refused;  /* by max_conns, max_per_ip, admit */
	uint64_t timeouts; /* closed by the idle timeout or the head deadline */
	uint64_t shed;     /* reset while waiting for a head, to admit one */
	uint64_t cutoffs;  /* cut off at the output cap or a size limit */
	uint64_t errors;   /* closed by an I/O error; accept and UDP errors
			      (UDP: receive errors, sends that failed) */
	uint64_t handshakes;        /* TLS handshakes done (opts.tls) */
	uint64_t handshakes_failed; /* TLS handshakes that failed or timed
				       out: never opened, not in errors or
				       timeouts */
	uint64_t bytes_in, bytes_out;
	uint64_t dgrams_in, dgrams_out;
	uint64_t dgrams_dropped; /* not served by rule: over udp_rate, or
				    over SKT_SERVER_DGRAM_MAX */
} skt_server_stats;

/* ---- What happens, for the log ---- */

typedef enum skt_server_ev {
	SKT_SERVER_EV_LISTENING, /* addr, transport */
	SKT_SERVER_EV_OPEN,      /* verbose: conn */
	SKT_SERVER_EV_CLOSE,    /* conn, err; verbose unless a limit ended it */
	SKT_SERVER_EV_REFUSED,  /* addr, refusal, limit (DENIED, STOPPING:
				   verbose only) */
	SKT_SERVER_EV_DATAGRAM, /* addr, in/out bytes (out -1: none), dropped;
				   verbose, or when a rule dropped it */
	SKT_SERVER_EV_ERROR,    /* what, err (an accept or UDP error; with
				   what "handshake", addr and reason: a TLS
				   handshake that failed); at most one a
				   second per worker (handshakes counted
				   apart; every handshake when verbose),
				   quiet counting the others */
	SKT_SERVER_EV_STATS,    /* stats (opts.stats_ms, SIGUSR1) */
	SKT_SERVER_EV_STOPPING, /* signum (0: skt_server_stop), stats */
	SKT_SERVER_EV_STOPPED,  /* stats, ms, deadline_cuts */
	/* Events of one reason past the first in a second, when not
	 * verbose: of (REFUSED, CLOSE or DATAGRAM), the reason (refusal;
	 * end and err; dropped), limit, count; ms the window (1000). */
	SKT_SERVER_EV_REPEATED
} skt_server_ev;

enum {
	SKT_SERVER_REFUSE_DENIED = 1, /* opts.admit said no (verbose only) */
	SKT_SERVER_REFUSE_MAX_CONNS,
	SKT_SERVER_REFUSE_MAX_PER_IP,
	SKT_SERVER_REFUSE_STOPPING /* accepted while stopping (verbose) */
};

/* Why a datagram got no answer, when a rule said so. */
enum {
	SKT_SERVER_DROP_NONE = 0,
	SKT_SERVER_DROP_RATE,  /* its source is over udp_rate (limit) */
	SKT_SERVER_DROP_TOOBIG /* over SKT_SERVER_DGRAM_MAX (limit) */
};

/* One event. It and everything it points to are valid during the log
 * callback only. Without opts.verbose, events that a limit causes
 * (REFUSED, CLOSE, DATAGRAM) are reported one a second per reason: the
 * first as it happens, the others as one REPEATED event with their count
 * at the end of the second, so a flood of refusals costs a line a second,
 * not a line each. */
typedef struct skt_server_event {
	skt_server_ev kind;
	const char *service;         /* the service's name */
	const skt_addr *addr;        /* listening address or peer */
	int transport;               /* SOCK_STREAM or SOCK_DGRAM */
	const skt_server_conn *conn; /* OPEN, CLOSE */
	int err;                     /* CLOSE: 0 or why (SKT_ETIMEDOUT: the
					idle timeout); ERROR: the code */
	int refusal;                 /* REFUSED: SKT_SERVER_REFUSE_* */
	size_t limit;                /* REFUSED, DATAGRAM, REPEATED: the
					limit's value (the conn's for CLOSE) */
	const char *what;            /* ERROR: "accept", "udp", "open",
					"handshake" */
	const char *reason;          /* ERROR (handshake): the TLS reason
					("certificate verify failed: ...",
					"wrong version number"), "" when the
					code says it all (SKT_ETIMEDOUT) */
	unsigned quiet;              /* ERROR: like errors not reported since */
	long in, out;                /* DATAGRAM */
	int dropped;                 /* DATAGRAM: SKT_SERVER_DROP_* */
	int64_t ms;                  /* CLOSE: age; STATS, STOPPING, STOPPED:
					uptime; REPEATED: the window */
	int signum;                  /* STOPPING */
	uint64_t deadline_cuts;      /* STOPPED */
	const skt_server_stats *stats;
	skt_server_ev of; /* REPEATED: the kind repeated */
	int end;          /* REPEATED of CLOSE: SKT_SERVER_END_* */
	uint64_t count;   /* REPEATED: how many in the window */
} skt_server_event;

typedef void (*skt_server_log_fn)(const skt_server_event *ev, void *arg);

/* ---- Running a server ---- */

#define SKT_SERVER_ADDR_MAX 16
/* How long a stopping server lets connections finish their writes. */
#define SKT_SERVER_DRAIN_MS 2000
/* The TLS handshake's deadline when opts.handshake_timeout_ms is 0: long
 * enough for a slow client across the world, short enough that stalled
 * handshakes do not pile up (nginx allows 60 s, which a flood of silent
 * clients turns into a full server). */
#define SKT_SERVER_HANDSHAKE_MS 10000

/* Where to listen. host "" is loopback: 127.0.0.1 and ::1 on one port
 * (::1 left out silently where the host has no IPv6); "*" every address
 * (one dual-stack socket); anything else as skt_listen takes it.
 *
 * Or a Unix stream socket: unix_addr of family AF_UNIX (skt_addr_unix,
 * skt_addr_parse "unix:PATH" / "unix:@name"; host and port unused), TCP
 * only (with opts.udp skt_server_new fails with SKT_EINVAL). A socket
 * file left at PATH by a server that died is removed first, only when a
 * connect to it is refused (skt_unix_unlink_stale): a live listener
 * there fails with SKT_EADDRINUSE, a file that is not a socket with
 * SKT_ENOTSOCK, and neither is touched. unix_mode (0: as the umask
 * leaves it) is the file's permissions, set before any client can
 * connect; SKT_EINVAL with an abstract name. skt_server_free removes the
 * file if it is still the one the server made. Every worker accepts on
 * the one socket (SO_REUSEPORT does not apply to Unix sockets). For
 * Unix clients: the peer of a connection is its own address when it
 * bound one, else the listening socket's; admit sees that address
 * (family AF_UNIX); max_per_ip does not count them (they have no host
 * to count by), max_conns does. */
typedef struct skt_server_addr {
	char host[SKT_HOST_MAX + 1];
	char port[8];       /* "0": one free port, for every socket
			       of the address (TCP, UDP, both
			       families) */
	skt_addr unix_addr; /* AF_UNIX: a Unix socket instead */
	unsigned unix_mode; /* its file's permission bits (0600...) */
} skt_server_addr;

/* What to serve, where, with which limits. Zeroed fields mean "none" or
 * the default named; skt_server_new copies the struct (what its pointers
 * point to is borrowed until skt_server_free). */
struct skt_server_opts {
	const skt_service *svc; /* required */
	skt_server_addr addrs[SKT_SERVER_ADDR_MAX];
	size_t naddrs;     /* 1..SKT_SERVER_ADDR_MAX */
	bool tcp, udp;     /* at least one */
	unsigned workers;  /* 0: one per CPU; 1 for a ONE_LOOP
			      service; at most 1024 */
	size_t max_conns;  /* 0: no limit */
	size_t max_per_ip; /* 0: no limit */
	int idle_ms;       /* 0: none */
	/* The request-head deadline (skt_server_conn_set_head). 0: none. */
	int header_timeout_ms;
	int stats_ms; /* 0: no periodic STATS event */
	/* Answers to one source address (the host, any port, all workers
	 * together): at most udp_rate a second after a burst of udp_burst
	 * (0: twice udp_rate); the others are not sent (counted in
	 * dgrams_dropped). A forged source cannot make the server flood it
	 * past that. udp_rate 0: no limit. */
	unsigned udp_rate, udp_burst;
	/* The per-connection output cap in bytes: a connection whose unsent
	 * output passes it is cut off (skt_server_conn_write). 0: none. */
	size_t max_queue;
	/* TLS on every TCP connection (a server context, borrowed until
	 * skt_server_free; its SNI certificates and client_auth apply);
	 * NULL: plain. TCP only: with udp set, or a client context,
	 * skt_server_new fails with SKT_EINVAL. */
	skt_tls_ctx *tls;
	/* The handshake's deadline from the accept; 0:
	 * SKT_SERVER_HANDSHAKE_MS; negative is SKT_EINVAL. */
	int handshake_timeout_ms;
	bool verbose; /* report OPEN, every CLOSE, DATAGRAM */
	/* Take SIGINT, SIGTERM and SIGHUP (stop) and SIGUSR1 (STATS) while
	 * serving, as a program's main wants; a library leaves it false
	 * and calls skt_server_stop. */
	bool signals;
	/* The service's own settings (qotd: its quotes), read by the
	 * service through skt_server_worker_opts(); may be NULL. */
	const void *service_arg;
	/* Admission by address; NULL admits everyone. Called on worker
	 * threads concurrently: must be thread-safe. */
	bool (*admit)(const skt_addr *peer, void *arg);
	void *admit_arg;
	skt_server_log_fn log; /* required */
	void *log_arg;
	/* Out: when skt_server_new fails to listen, the address (index; else
	 * SIZE_MAX), transport and family (AF_INET6 for the ::1 of a
	 * loopback address; 0 when none is known) that failed. */
	size_t failed_addr;
	int failed_transport;
	int failed_family;
};

/* Make a server for o: the loops, the service's worker states and every
 * listening socket (bound and listening when this returns; LISTENING is
 * reported for each, on this thread, before it returns). Nothing is
 * served until skt_server_serve. Returns 0 and sets *out, or SKT_EINVAL
 * (o incomplete), SKT_ENOMEM, or the error of a socket or loop that could
 * not be made (o->failed_* then say which listening socket), with nothing
 * left open. */
SKT_EXTERN int skt_server_new(skt_server **out, skt_server_opts *o);

/* Serve until stopped, on this thread's control loop and one thread per
 * worker. A stop (skt_server_stop, or with o->signals the first SIGINT,
 * SIGTERM or SIGHUP) reports STOPPING, closes the listening sockets, asks
 * each connection to finish (the service's stop) and lets their writes go
 * out for SKT_SERVER_DRAIN_MS; then, or once none is left, the threads
 * end, STOPPED is reported and this returns 0. A second stop resets what
 * is open at once. Returns an error only when a thread cannot start
 * (nothing is then left running). Call once per server. */
SKT_EXTERN int skt_server_serve(skt_server *srv);

/* Ask srv to stop, as described at skt_server_serve; the call returns at
 * once. Any thread, and async-signal-safe (one write to an eventfd). A
 * stop before skt_server_serve makes it return as soon as it has
 * started. */
SKT_EXTERN void skt_server_stop(skt_server *srv);

/* Free srv (after skt_server_serve returned, or instead of it): closes
 * what is still open (closed() runs for each connection, on this thread)
 * and frees the service's worker states. skt_server_free(NULL) does
 * nothing. */
SKT_EXTERN void skt_server_free(skt_server *srv);

/* skt_server_new, skt_server_serve, skt_server_free. Without o->signals
 * nothing can stop it: a program's main sets them. Returns as
 * skt_server_new, else 0. */
SKT_EXTERN int skt_server_run(skt_server_opts *o);

#ifdef __cplusplus
}
#endif
#endif
