/* relay.h - `sockit relay`'s socket-to-socket forwarder: a service of the
 * library's server (sockit/server.h) that pairs each admitted connection
 * with a new connection to a target and moves the bytes both ways. Part
 * of the command's tools, not of libsockit; the stdin/stdout bridge of
 * src/relay/ is another thing.
 *
 * relay.c: the service and the life of one relayed connection (connect,
 * relay, end); pump.c: the leaf that moves one direction's bytes with
 * splice(2) and never calls back up.
 */
#ifndef SOCKIT_TOOLS_RELAY_H
#define SOCKIT_TOOLS_RELAY_H

#include "sockit/sockit.h"
#include "tools/relay/toxic.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_TARGETS_MAX  64
#define RELAY_TARGET_ADDRS 8 /* addresses tried per target, in order */

/* One TARGET as given, and the addresses it resolved to. */
typedef struct relay_target {
	char name[SKT_ADDRSTRLEN];
	skt_addr addr[RELAY_TARGET_ADDRS];
	size_t naddr;
} relay_target;

/* How a relayed connection ended. */
enum {
	RELAY_END_CLOSED = 0,   /* both directions finished (FIN each way) */
	RELAY_END_RESET_CLIENT, /* the client reset or failed: target reset */
	RELAY_END_RESET_TARGET, /* the target reset or failed: client reset */
	RELAY_END_NO_TARGET,    /* every target refused or timed out: the
				   client is reset */
	RELAY_END_IDLE,         /* idle_ms without a byte: both reset */
	RELAY_END_MAX_TIME,     /* open max_ms: both reset */
	RELAY_END_STOPPED,      /* the server ended it (the stop's
				   deadline): both reset */
	RELAY_END_TOXIC_RESET,  /* down, fail_first, reset_peer: reset */
	RELAY_END_TOXIC_CLOSE,  /* limit_data, timeout: both closed (FIN) */
	RELAY_END_ERROR,        /* out of fds or memory: both reset */
};

/* One connection ended, for the log: valid during the call only. */
typedef struct relay_log {
	const skt_server_conn *c; /* id, peer */
	const char *target;       /* the target's name, NULL when none */
	int end;                  /* RELAY_END_* */
	const char *toxic;        /* the toxic behind a TOXIC_ end, or NULL */
	int err;                  /* the error behind it, or 0 */
	uint64_t up, down;        /* bytes delivered client->target, back */
	int64_t ms;               /* how long it was open */
} relay_log;

/* The relay's settings, the server's service_arg (borrowed by the server
 * until it is freed). */
typedef struct relay_opts {
	const relay_target *targets;
	size_t ntargets; /* 1..RELAY_TARGETS_MAX */
	int connect_ms;  /* each connect attempt's deadline (> 0) */
	int idle_ms;     /* 0: none */
	int max_ms;      /* 0: none */
	/* Runs on a worker thread (several at once) when a connection
	 * ends; may be NULL. */
	void (*log)(const relay_log *l, void *arg);
	void *log_arg;
	atomic_uint next; /* round robin: the next target to try */
	/* Faults, applied in this order; each toxic applies to a
	 * connection with its toxicity, drawn from seed and the
	 * connection's id (so a seed gives the same draws on any number
	 * of workers). */
	relay_toxic toxics[TOXICS_MAX];
	size_t ntoxics;
	uint64_t seed;
	atomic_ulong seen[TOXICS_MAX]; /* fail_first: connections so far */
} relay_opts;

extern const skt_service svc_relay;

/* "closed", "client-reset", ... (docs/json.md's words). */
const char *relay_end_name(int end);

#endif
