/* bench_int.h - the engine's insides, shared by engine.c (threads, the
 * measured window), worker.c (one loop's connections), tls.c (the
 * handshake and TLS reads and writes) and the request kinds (echo.c,
 * udp.c, http.c). */
#ifndef SOCKIT_BENCH_INT_H
#define SOCKIT_BENCH_INT_H

#include <stdatomic.h>
#include <sys/resource.h>

#include "sockit/http.h"
#include "sockit/sockit.h"
#include "tools/bench/bench.h"

/* What every thread shares; written by the controlling thread, read by
 * the workers with relaxed loads (a late look costs one request, no
 * more). */
typedef struct bench_shared {
	const bench_opts *o;
	atomic_bool measuring; /* the warm-up is over */
	atomic_bool stopping;  /* the duration is over: stop at once */
	atomic_uint_fast64_t
		tickets;      /* requests issued in the window, for -n */
	atomic_uint finished; /* workers whose loop has returned */
	int64_t t0_ns;        /* when the workers started */
	/* The setup: every connection (but in connect mode) has had its first
	 * connect end, up or failed, before the window starts, so that the
	 * window measures all of them and no connect storm hides in it. */
	atomic_uint settled; /* connections whose first connect ended */
	atomic_uint used;    /* connections that have been up */
	atomic_int_fast64_t setup_ns; /* when the last one settled */
	/* The window, opened by whoever sees the setup and the warm-up over
	 * first (the controller's tick or the worker that settled the last
	 * connection): start_ns 0 until then. */
	atomic_int_fast64_t start_ns;
	atomic_int_fast64_t end_ns; /* INT64_MAX until known (-n: until the
				       last request) */
	struct rusage ru0; /* CPU at the window's start, by its opener */
	/* The outgoing byte stream: at offset k of a connection's stream
	 * (k + phase) % period; out has period + span bytes so that any slice
	 * of up to span bytes from any offset is contiguous. Echo: a
	 * pseudo-random pattern. HTTP: the request, repeated. */
	uint8_t *out;
	size_t period, span;
} bench_shared;

typedef struct bench_worker bench_worker;
typedef struct bench_conn bench_conn;

/* A request in flight: when it was issued (open model: when it was due),
 * whether it counts, and for UDP its sequence number. */
typedef struct bench_slot {
	int64_t t_ns;    /* latency origin */
	int64_t sent_ns; /* for --timeout */
	uint64_t seq;
	bool counted;
	bool used;
} bench_slot;

/* A connection's states: DOWN (no socket; waiting for its retry timer or
 * for work), CONNECTING (connect in progress), HANDSHAKE (TLS: the
 * handshake in progress), UP (requests may flow), DONE (no more requests
 * for it: -n reached). */
enum { CONN_DOWN, CONN_CONNECTING, CONN_HANDSHAKE, CONN_UP, CONN_DONE };

struct bench_conn {
	bench_worker *w;
	int fd;
	skt_io *io;
	skt_timer *retry;
	uint8_t state;
	bool want_out; /* waiting for writability */
	bool listed;   /* on the worker's list of connections with room */
	bool pending;  /* on the worker's list to refill this iteration */
	bool refill_on_write;   /* next_on_poll: refill at the next writable */
	bool refill_after_read; /* refill once the read being handled ends */
	bool settled;           /* its first connect has ended */
	bool was_up;            /* it has been up once */
	unsigned failures; /* consecutive failed connects: the retry backoff */
	unsigned inflight;
	unsigned resend; /* slots 0.. to send again once connected */
	uint64_t issued; /* requests issued on this connection */
	uint64_t completed;
	bench_slot *slots;        /* ring of pipeline slots */
	int64_t connect_ns;       /* when the connect began */
	uint32_t phase;           /* offset into the outgoing pattern */
	uint64_t want, sent, got; /* stream bytes: due, sent, received */
	uint64_t answer_bytes;    /* of the answer being read: counted in
				     bytes_in when its request counts */
	int answer_status;        /* http: its status, counted likewise */
	/* http: the response being read */
	char *buf;
	size_t len, cap;
	int rstate; /* HTTP_HEAD, HTTP_BODY, HTTP_CHUNKED, HTTP_UNTIL_CLOSE */
	uint64_t body_left;
	bool close_after; /* the response in front ends the connection */
	bool status_good; /* the response in front has the expected status */
	bool draining;    /* no new requests: the server is closing it */
	skt_http_chunked chunked;
	/* TLS */
	skt_tls *tls;
	skt_tls_session *resume; /* from the slot's last connection */
	bool session_kept;       /* this connection's is in resume */
	int64_t hs_start_ns;     /* the TCP connection's completion */
	int64_t hs_ns;           /* how long the handshake took */
	bool hs_owed;            /* done, not yet counted (bench_counts) */
	bool hs_resumed;
	bool read_wants_out; /* a TLS read waits for writability */
	bool write_wants_in; /* a TLS write waits for readability */
	bool truncated;      /* the server closed without close_notify */
};

/* One kind of request. flush, reset and connected may be NULL (nothing
 * to do). */
typedef struct bench_proto {
	/* Issue one request on an UP connection: the slot is filled. Returns
	 * 0, or an error kind (the connection is then failed). */
	int (*issue)(bench_conn *c, bench_slot *s);
	/* After issue() calls of one round: send what is due. Returns 0 or an
	 * error kind. */
	int (*flush)(bench_conn *c);
	/* The socket is readable: read and complete requests with
	 * bench_complete. Returns 0 or an error kind; negative when the
	 * connection was already closed (by a completion that ended it). */
	int (*readable)(bench_conn *c, int64_t now);
	/* Forget the per-connection protocol state (socket closing). */
	void (*reset)(bench_conn *c);
	/* Connect mode: the connection is up; 0 to keep it for requests. */
	int (*connected)(bench_conn *c, int64_t now);
} bench_proto;

extern const bench_proto bench_echo_proto;
extern const bench_proto bench_udp_proto;
extern const bench_proto bench_http_proto;
extern const bench_proto bench_connect_proto;

struct bench_worker {
	bench_shared *sh;
	const bench_opts *o;
	const bench_proto *proto;
	skt_loop *loop;
	unsigned index;
	bench_conn *conns;
	unsigned nconns;
	unsigned live;     /* connections not DONE */
	bench_conn **room; /* connections UP with inflight < pipeline */
	unsigned nroom;
	bench_conn **pending; /* closed model: to refill when the iteration's
				 reads are done */
	unsigned npending;
	bool settle_queued; /* on_settle is deferred */
	bool in_read;       /* a connection's readable() is running */
	int64_t now;        /* the clock at the last recv */
	skt_timer *sweep;   /* timeouts */
	int pace_fd;        /* open model: timerfd of the next due request */
	skt_io *pace_io;
	double interval_ns; /* open model: between this thread's requests */
	uint64_t paced;     /* open model: requests due so far */
	bool no_tickets;    /* -n reached: issue nothing more */
	uint8_t *rbuf;      /* a read buffer for echo */
	size_t rbuf_cap;
	uint64_t next_seq;    /* UDP sequence numbers */
	uint32_t source_next; /* the next 127.0.0.x source (of all threads'
				 connections, this thread's come next) */
	int64_t end_ns;       /* when this thread's last request ended */
	bench_counts c;       /* counted in the window */
	hist latency;
	hist handshake;                    /* TLS handshakes counted */
	atomic_uint_fast64_t pub_requests; /* for progress */
	atomic_uint_fast64_t pub_errors;
	int err; /* a setup failure, for the controller */
};

/* Monotonic nanoseconds. */
int64_t bench_now(void);

/* Run one worker's loop until its share is done or the run stops. */
void *bench_worker_main(void *arg);

/* Request s of c is answered: count and record it, then issue more as
 * the model allows (connect mode: close, and the next request is the next
 * connection). bench_lost ends request s as an error of kind err
 * without failing the connection (UDP loss, an HTTP status). Either may
 * close c. */
void bench_complete(bench_conn *c, bench_slot *s, int64_t now);
void bench_lost(bench_conn *c, bench_slot *s, int err);
/* Connect mode: the connection of slot s is up; record its latency. */
void bench_connected(bench_conn *c, bench_slot *s, int64_t now);
/* The connection is up (TCP connected, and TLS's handshake done): its
 * requests may flow. */
void bench_up(bench_conn *c, int64_t now);

/* The connection failed with an error kind: count one error for every
 * request in flight (at least one), close it, and connect again later. */
void bench_fail(bench_conn *c, int err);
/* The server ended a connection between requests (HTTP close): close and
 * reconnect without counting an error. Requests still in flight (pipelined
 * behind the response that closed it) are sent again on the new
 * connection, as a browser does, and counted as retried. */
void bench_recycle(bench_conn *c);

/* Open the measured window if the setup and the warm-up are over (any
 * thread; the first caller wins). */
void bench_try_start(bench_shared *sh, int64_t now);

/* Map -errno from a socket call to an error kind. */
int bench_errkind(int err);

/* Bytes of the outgoing stream at offset off, as many as fit from there
 * (at most span). */
static inline const uint8_t *bench_out_at(const bench_shared *sh, uint64_t off,
					  uint32_t phase)
{
	return sh->out + (off + phase) % sh->period;
}

/* One recv on c into buf: the count (> 0; w->now is then the clock
 * after it), 0 at the server's end of stream, SKT_EAGAIN when nothing is
 * waiting, or another negative code when the connection failed (counted
 * and closed already). */
ssize_t bench_recv(bench_conn *c, void *buf, size_t cap);

/* Send stream bytes up to c->want; arms writability when the kernel is
 * full. Returns 0 or an error kind. */
int bench_push(bench_conn *c);
/* Whether a read of n bytes into cap left nothing to read at once: a
 * short read of a plain socket drained it; TLS may hold decrypted bytes
 * (a read returns one record at most). */
bool bench_drained(const bench_conn *c, size_t n, size_t cap);
/* Watch what c waits for: readability always; writability while bytes
 * wait for room (but a TLS write that waits to read), a TLS read waits
 * to write, or the next request waits for the next writable event. */
void bench_watch(bench_conn *c);

/* tls.c. The TCP connection of c is up: start its handshake (state
 * HANDSHAKE). */
void bench_tls_begin(bench_conn *c, int64_t now);
/* An event on a connection in HANDSHAKE: go on with it; once done, the
 * connection is up (bench_up). */
void bench_tls_step(bench_conn *c, int64_t now);
/* Through TLS, as bench_recv and a send(2) without waiting: the count,
 * 0 at the server's end (c->truncated when it sent no close_notify),
 * SKT_EAGAIN (what it waits for noted in c), or a negative code (for
 * recv: counted, and c closed already). */
ssize_t bench_tls_recv(bench_conn *c, void *buf, size_t cap);
ssize_t bench_tls_send(bench_conn *c, const void *buf, size_t len);
/* End c's session: close_notify first when clean (a connection ended
 * between requests), then free it. */
void bench_tls_end(bench_conn *c, bool clean);
/* A request of c counted: count the handshake that c made, once. */
void bench_tls_count(bench_conn *c);
/* The error kind of an skt_tls_* failure. */
int bench_tls_errkind(int err);

/* Towards 127.0.0.0/8, with sources > 1: bind fd to the worker's next
 * 127.0.0.x. Returns 0 or -errno. */
int bench_bind_source(bench_worker *w, int fd);

/* The server closed c with requests in flight: keep them (moved to the
 * front of the ring, counted as retried) for the next connection, which
 * sends them first with bench_resend (0 or an error kind). */
void bench_keep_inflight(bench_conn *c);
int bench_resend(bench_conn *c, int64_t now);

/* The checkers of what a server sends back, pure so that they can be
 * fuzzed (fuzz/bench_check.c): the server controls every byte. */

/* Echo: n bytes that arrived after got bytes of a stream of which sent
 * were sent (phase: the connection's slice, n at most sh->span). Returns
 * 0 when they are the next n bytes sent, or BENCH_E_MISMATCH (more than
 * was sent, or other bytes). */
int bench_echo_check(const bench_shared *sh, uint32_t phase, uint64_t got,
		     uint64_t sent, const uint8_t *data, size_t n);

/* UDP: an answer buf of n bytes (n may exceed cap, the bytes kept, when
 * the datagram was truncated), to requests of size bytes (8 to
 * sh->span + 8). Returns 1 when it is too short to carry a sequence
 * number (not ours: ignored), else sets *seq and returns 0 when it is the
 * request seq whole, or BENCH_E_MISMATCH. */
int bench_udp_check(const bench_shared *sh, uint32_t phase, size_t size,
		    const uint8_t *buf, size_t n, size_t cap, uint64_t *seq);

/* In the measured window (bytes and counts only count then). */
static inline bool bench_measuring(const bench_worker *w)
{
	return atomic_load_explicit(&w->sh->measuring, memory_order_relaxed);
}

/* Whether the clock reading t is inside the window: a request counts
 * when its latency origin and its issue are, and its completion too, so
 * that no latency is longer than the window and nothing that ended after
 * it (a loop busy past the end) is in the figures. */
static inline bool bench_in_window(const bench_worker *w, int64_t t)
{
	int64_t start =
		atomic_load_explicit(&w->sh->start_ns, memory_order_relaxed);
	return start != 0 && t >= start &&
	       t < atomic_load_explicit(&w->sh->end_ns, memory_order_relaxed);
}

#endif
