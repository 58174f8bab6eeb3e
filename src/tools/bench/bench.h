/* bench.h - the load generator behind `sockit bench`: what to measure in,
 * what comes out. One of the command's tools (src/tools/), not libsockit.
 *
 * Three kinds of request, one engine (engine.c):
 *   echo     send SIZE bytes, wait for the same SIZE bytes back (TCP or
 *            UDP); every echoed byte is compared with what was sent.
 *   connect  open a connection (optionally one echo exchange), close it.
 *   http     one HTTP/1.1 request, one response whose status and body
 *            length are checked.
 * Over TLS (tls set: echo, connect and http on stream sockets) each
 * connection runs a handshake in the same loop before its first request,
 * driven on the non-blocking fd (skt_tls_handshake with timeout 0, then
 * the event skt_tls_want names); requests then go through skt_tls_read
 * and skt_tls_write. Handshakes are counted and timed apart from the
 * requests (bench_counts.handshakes, bench_result.handshake).
 *
 * Closed model (rate 0): each connection keeps `pipeline` requests in
 * flight, a new one as soon as one completes. Open model (rate > 0):
 * requests are due on a fixed schedule whether or not the server keeps
 * up, and a request's latency runs from the time it was due, not from
 * when a free connection finally sent it; queueing behind a slow server
 * shows up in the latency instead of lowering the offered load (the
 * coordinated-omission trap of wrk, wg/wrk#326).
 *
 * The measured window opens once the warm-up is over and every connection
 * has been opened (or has failed its first connect; connect mode has no
 * such setup: its requests are the connects). A request counts when it
 * was issued inside the window and completed before its end. */
#ifndef SOCKIT_BENCH_H
#define SOCKIT_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/addr.h"
#include "sockit/tls.h"
#include "tools/bench/hist.h"

enum bench_mode {
	BENCH_ECHO,
	BENCH_CONNECT,
	BENCH_HTTP,
};

/* Why a request failed; one counter each. */
#define BENCH_ERRORS(X)                                                        \
	X(REFUSED, "refused", "connection refused")                            \
	X(RESET, "reset", "connection reset or closed by the server")          \
	X(TIMEOUT, "timeout", "no complete answer within --timeout")           \
	X(SHORT, "short", "the server closed before a whole answer")           \
	X(MISMATCH, "mismatch", "echoed bytes differ from those sent")         \
	X(BAD_STATUS, "bad_status", "HTTP status other than expected")         \
	X(BAD_RESPONSE, "bad_response", "malformed HTTP response")             \
	X(LOST, "lost", "UDP datagram with no echo within --timeout")          \
	X(TLS, "tls",                                                          \
	  "TLS handshake failed (certificate, pin, version, cipher, alert)")   \
	X(EMFILE, "emfile",                                                    \
	  "out of file descriptors (EMFILE, ENFILE): raise ulimit -n")         \
	X(OTHER, "other", "any other socket error")

enum bench_err {
#define BENCH_ERR_ENUM(id, name, text) BENCH_E_##id,
	BENCH_ERRORS(BENCH_ERR_ENUM)
#undef BENCH_ERR_ENUM
		BENCH_E_COUNT
};

/* HTTP statuses are counted by value, 100 to 599. */
#define BENCH_STATUS_MIN 100
#define BENCH_STATUS_END 600

/* Counters of a run (or of one thread of it). */
typedef struct bench_counts {
	uint64_t requests; /* completed and correct */
	uint64_t errors[BENCH_E_COUNT];
	uint64_t bytes_out; /* sent in the window: echo bytes, HTTP requests */
	uint64_t bytes_in;  /* of the answers to counted requests: echo
			       bytes, whole HTTP responses (head and body) */
	uint64_t
		statuses[BENCH_STATUS_END]; /* http: responses by status, of
					       counted requests (good or not) */
	uint64_t early_resets; /* errors of kind reset on connections the
				  server closed before any answer */
	uint64_t retried;      /* http: counted requests sent again on a new
				  connection, having been pipelined behind a
				  response that closed theirs */
	uint64_t connects;     /* connections established: in the window, and
				  each connection's first (connect mode: in the
				  window only) */
	/* TLS: the handshake of each connection that carried a counted
	 * request, counted once, when its first counted request ends (so
	 * that with reconnect every request brings its own); of them, how
	 * many resumed a session. */
	uint64_t handshakes;
	uint64_t resumed;
} bench_counts;

/* Progress, handed to the callback about once a second. */
typedef struct bench_progress {
	double elapsed_s;  /* since the measured window began; < 0 in warm-up */
	bool setup;        /* warm-up over, connections still opening */
	unsigned settled;  /* connections whose first connect has ended */
	uint64_t requests; /* so far in the window */
	uint64_t errors;
} bench_progress;

typedef struct bench_opts {
	int mode; /* enum bench_mode */
	skt_addr target;
	bool udp;          /* echo over UDP */
	unsigned conns;    /* >= 1 */
	unsigned threads;  /* >= 1; more than conns is cut to conns */
	unsigned pipeline; /* requests in flight per connection, >= 1 */
	size_t size;       /* echo payload (>= 8 for UDP); connect: 0 = none */
	double rate;       /* requests/s over all threads; 0: closed model */
	int64_t duration_ms; /* 0: until `requests` */
	uint64_t requests;   /* 0: until duration_ms */
	int64_t warmup_ms;
	int64_t timeout_ms;  /* per request, and per connect; > 0 */
	int64_t ramp_ms;     /* connections open spread over this long */
	const char *request; /* http: the whole request, sent as is */
	size_t request_len;
	int status;        /* http: the expected status; 0: any 2xx */
	bool no_body;      /* http: the method is HEAD, whose responses have
			      no body whatever they announce (RFC 9110
			      section 9.3.2) */
	bool next_on_poll; /* closed model: a connection sends its next
			      request at its next writable event, as wrk
			      does, not once the iteration's reads are
			      done (see worker.c) */
	unsigned sources;  /* towards 127.x (TCP and UDP, every mode): rotate
			      over this many 127.0.0.x source addresses;
			      0 or 1: off */
	bool reconnect;    /* echo: a new connection for every request (http
			      asks the server to close with the request's
			      Connection: close); pipeline 1 */
	/* TLS, when tls is not NULL (a client context, the caller's, used
	 * by every thread): each connection's handshake checks tls_host
	 * (NULL: no name, for a pin or insecure) and sends SNI as
	 * skt_tls_new does with tls_sni. Each connection resumes the session
	 * of the one before it in its slot (the first: the one the context
	 * keeps for the host), unless the context has no tickets. */
	skt_tls_ctx *tls;
	const char *tls_host;
	const char *tls_sni;
	void (*progress)(const bench_progress *p, void *arg);
	void *progress_arg;
	/* When not NULL and set non-zero (by a signal handler), the run ends
	 * within a tick (100 ms) as if its time were up, the window closing
	 * there; r->interrupted says so. */
	const volatile sig_atomic_t *stop;
} bench_opts;

typedef struct bench_result {
	bench_counts c;
	double elapsed_s;    /* of the measured window */
	double setup_s;      /* from the start until every connection's first
				connect had ended: before the window */
	unsigned conns_used; /* connections that were up at some time */
	double user_s;       /* this process's CPU time in the window */
	double sys_s;
	unsigned threads; /* as run */
	bool interrupted; /* ended by *o->stop */
	hist latency;     /* ns, of counted requests; connect mode: connect
			     (and the TLS handshake) */
	hist handshake;   /* ns, TLS: of the handshakes counted, each from
			     its TCP connection's completion to its end */
} bench_result;

/* Run the benchmark described by o (checked: SKT_EINVAL for values out of
 * range) and fill *r. Blocks for the run; progress, when set, is called
 * on the calling thread. Connection-level failures during the run are
 * counted in r, not returned. Returns 0, SKT_EINVAL, SKT_ENOMEM, or -errno
 * when a thread or loop cannot be made. */
int bench_run(const bench_opts *o, bench_result *r);

/* File descriptors a run of o needs at most: one per connection, the
 * threads' loops and timers, and a margin for stdio and the resolver. */
uint64_t bench_fds_needed(const bench_opts *o);

/* "refused", "reset", ...: the JSON key of an error kind. */
const char *bench_err_name(int kind);
/* One line saying what the kind means. */
const char *bench_err_text(int kind);
/* Sum of every error kind. */
uint64_t bench_errors(const bench_counts *c);

#endif
