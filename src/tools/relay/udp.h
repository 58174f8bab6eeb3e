/* udp.h - `sockit relay udp:LISTEN udp:TARGET`: a UDP forwarder on one
 * loop. Each client address gets a session: its own connected socket to
 * the target (so the target's replies come back on it, demultiplexed by
 * the kernel), whose replies go back to that client from the listening
 * socket. A session ends after idle_ms without a datagram either way; the
 * table holds at most max_sessions, and a datagram from a new client when
 * it is full is dropped and counted. Per-datagram toxics (toxic.h's UDP
 * ones) apply on the way through.
 *
 * Part of the command's tools, not of libsockit.
 */
#ifndef SOCKIT_TOOLS_RELAY_UDP_H
#define SOCKIT_TOOLS_RELAY_UDP_H

#include "sockit/sockit.h"
#include "tools/relay/toxic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDP_HELD_MAX 4096 /* datagrams held by delay/reorder at once */

/* What the log hears about. */
enum {
	UDP_EV_LISTENING, /* addr: the bound address */
	UDP_EV_OPEN,      /* a session: addr, id */
	UDP_EV_CLOSE,     /* a session ended: reason, the counts */
	UDP_EV_FULL,      /* count datagrams dropped, table full (at most
			     one event a second) */
	UDP_EV_ERROR,     /* what, err: survived */
	UDP_EV_STOPPING,  /* signum */
	UDP_EV_STOPPED,   /* ms: uptime; sessions, dropped: totals */
};

/* Why a session ended. */
enum { UDP_END_IDLE, UDP_END_STOPPED, UDP_END_ERROR };

typedef struct relay_udp_event {
	int kind;             /* UDP_EV_* */
	const skt_addr *addr; /* the client (the bound address: LISTENING) */
	uint64_t id;          /* the session's, from 1 */
	int reason;           /* UDP_END_* */
	int err;              /* ERROR, or a session's error */
	const char *what;     /* ERROR: "recv", "send", "socket" */
	int signum;           /* STOPPING */
	/* CLOSE: datagrams and bytes delivered each way (up: client to
	 * target), the datagrams toxics dropped; FULL: count. */
	uint64_t dgrams_up, dgrams_down, bytes_up, bytes_down, dropped;
	uint64_t count;
	uint64_t sessions; /* STOPPED: sessions opened in all */
	int64_t ms;        /* CLOSE: how long it was open; STOPPED: uptime */
} relay_udp_event;

typedef struct relay_udp_opts {
	const char *host, *port; /* LISTEN; host NULL: loopback */
	skt_addr target;         /* resolved */
	int idle_ms;             /* 0: never */
	size_t max_sessions;     /* > 0 */
	/* May be NULL: admit every client. */
	bool (*admit)(const skt_addr *peer, void *arg);
	void *admit_arg;
	void (*log)(const relay_udp_event *ev, void *arg);
	void *log_arg;
	bool verbose; /* FULL events: only with it */
	const relay_toxic *toxics;
	size_t ntoxics;
	uint64_t seed;
	int failed_family; /* out: the family of a failed bind */
} relay_udp_opts;

/* Bind, relay until SIGINT, SIGTERM or SIGHUP, close every session (each
 * logged), return 0; or the error that stopped the start (bind, memory). */
int relay_udp_run(relay_udp_opts *o);

#endif
