/* sockit/scan.h - port sets and a parallel port scanner.
 *
 * A port set is a bitmap of the 65536 port numbers (port 0 is never in
 * it), filled by hand or parsed from the text users type: "22,80,8000-8100"
 * or "all". The parser is pure code: no fd, no allocation, no locale.
 *
 * The scanner probes one address on every port of a set, many ports at
 * once, over non-blocking sockets watched by one epoll set:
 *   TCP  connect(); a handshake is "open", a reset "closed", silence until
 *        the probe's timeout "filtered" (as is an ICMP unreachable). A
 *        connect that lands on the scanner itself (TCP simultaneous open:
 *        the kernel picked the destination port as the source port, which
 *        happens when scanning the ephemeral range of one's own address) is
 *        not a listener and is reported "closed".
 *   UDP  a connected socket sends an empty datagram; a reply is "open", an
 *        ICMP port unreachable (ECONNREFUSED) "closed", silence after every
 *        try "open|filtered": UDP cannot tell a silent service from a
 *        firewall that drops, and the scanner does not pretend it can.
 * Concurrency is capped by the caller and by the process's fd limit
 * (RLIMIT_NOFILE, less a margin); when socket() still fails with EMFILE or
 * ENFILE, the cap shrinks and the port is tried again: a local shortage is
 * never reported as a port state. A token bucket on the monotonic clock
 * bounds the rate of probes when asked to.
 */
#ifndef SOCKIT_SCAN_H
#define SOCKIT_SCAN_H

#include "sockit/addr.h"
#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Port sets ---- */

#define SKT_PORTSET_WORDS (65536 / 64)

typedef struct skt_portset {
	uint64_t bits[SKT_PORTSET_WORDS]; /* bit p of the map is port p */
} skt_portset;

/* Where and why skt_portset_parse rejected its input. */
typedef struct skt_portset_error {
	size_t off;      /* offset of the offending item in the text */
	size_t len;      /* its length (0 for an empty item) */
	const char *why; /* static, lower-case: "port out of range", ... */
} skt_portset_error;

/* Empty the set. */
SKT_EXTERN void skt_portset_clear(skt_portset *s);

/* Add one port, or the ports lo..hi inclusive. Port 0 is ignored; a range
 * with lo > hi adds nothing. */
SKT_EXTERN void skt_portset_add(skt_portset *s, uint16_t port);
SKT_EXTERN void skt_portset_add_range(skt_portset *s, uint16_t lo, uint16_t hi);

/* True when port is in the set. */
SKT_EXTERN bool skt_portset_has(const skt_portset *s, uint16_t port);

/* Number of ports in the set (0..65535). */
SKT_EXTERN size_t skt_portset_count(const skt_portset *s);

/* The smallest port in the set that is >= from, or 0 when there is none
 * (from 0 or 1 gives the first). Loop with
 *   for (p = skt_portset_next(s, 1); p != 0; p = skt_portset_next(s, p + 1))
 * (from may be 65536). */
SKT_EXTERN uint16_t skt_portset_next(const skt_portset *s, unsigned from);

/* Parse len bytes of text (no NUL needed; the parser never reads past
 * len) into s, which is emptied first. The text is a comma-separated list
 * of items, each a port "80", a range "8000-8100" (both ends included), a
 * range open at one end as nmap reads them ("22-" is 22-65535, "-1024" is
 * 1-1024, "-" alone 1-65535) or "all" (1-65535), with optional blanks
 * (space, tab) around items and around the dash. Items may overlap; the
 * set is their union. Port numbers are decimal, 1..65535; digits are
 * checked against the limit before any arithmetic, so
 * "99999999999999999999" is out of range, not a wrap-around.
 * Returns the number of ports in the set (> 0), or
 *   SKT_EBADPORT    a number outside 1..65535 ("0", "65536", "0-");
 *   SKT_EMALFORMED  an empty item (",80", "80,,81", "", "80,"), a range
 *                   whose end is below its start ("80-20"), anything that
 *                   is not a number, a range or "all";
 * then s is empty and *err (when not NULL) says which item and why. */
SKT_EXTERN int skt_portset_parse(skt_portset *s, const char *text, size_t len,
				 skt_portset_error *err);

/* A service name's port (1..65535), or a negative code when it has none.
 * The name is NUL-terminated, at most SKT_SERVICE_MAX bytes. */
typedef int (*skt_portset_lookup)(const char *name, void *arg);

/* skt_portset_parse, where an item may also be a service name ("http",
 * "ssh": a letter, then letters, digits and "-_.+"; not part of a range),
 * given to lookup(name, arg) for its port: the parser itself stays pure,
 * and the caller picks the table and the transport (the sockit command
 * passes skt_service_port, i.e. /etc/services). lookup NULL is
 * skt_portset_parse. Returns as skt_portset_parse, and SKT_EAI_SERVICE
 * for a name lookup has no port for (why: "unknown service name"). */
SKT_EXTERN int skt_portset_parse_names(skt_portset *s, const char *text,
				       size_t len, skt_portset_lookup lookup,
				       void *arg, skt_portset_error *err);

/* ---- Scanning ---- */

typedef enum skt_port_state {
	SKT_PORT_OPEN,     /* TCP handshake completed; UDP reply came */
	SKT_PORT_CLOSED,   /* reset / ICMP port unreachable / self-connect */
	SKT_PORT_FILTERED, /* no answer in time, or ICMP unreachable */
	SKT_PORT_OPEN_FILTERED, /* UDP: no reply and no refusal */
	SKT_PORT_STATE_COUNT_
} skt_port_state;

/* The outcome of one port. */
typedef struct skt_scan_result {
	uint16_t port;
	int socktype; /* SOCK_STREAM or SOCK_DGRAM, as scanned */
	skt_port_state state;
	int err;           /* 0 for a handshake or a reply; otherwise what the
			      probe got: SKT_ECONNREFUSED, SKT_ETIMEDOUT,
			      SKT_EHOSTUNREACH, ... */
	bool self_connect; /* the connect reached the scanner's own socket
			      (state is then closed, err 0) */
	int tries;         /* probes sent (UDP may send more than one) */
	int64_t rtt_us;    /* from the last probe sent to its answer, or to
			      the moment it was declared silent */
} skt_scan_result;

/* What a scan did, filled at its end when asked for (skt_scan_opts.stats). */
typedef struct skt_scan_stats {
	size_t ports;                        /* results delivered */
	size_t count[SKT_PORT_STATE_COUNT_]; /* results by state */
	size_t self_connects; /* connects that landed on the scanner itself */
	size_t retries;       /* probes started again after a local shortage
				 (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS) */
	int parallel_start;   /* the cap the scan began with */
	int parallel_end;     /* the cap at the end: lower after a shortage */
	int64_t elapsed_ms;
} skt_scan_stats;

typedef struct skt_scan_opts {
	int socktype;   /* SOCK_STREAM (also 0) or SOCK_DGRAM */
	int timeout_ms; /* per probe; 0 means SKT_SCAN_TIMEOUT_DEFAULT */
	int parallel;   /* most probes in flight; 0 means as many as the fd
			   limit allows (see skt_scan) */
	int rate;       /* most probes started per second, in bursts of
			   at most rate/50 (20 ms worth, at least 1);
			   0 unlimited */
	int udp_tries;  /* datagrams per UDP port, at most 100; 0 means 2 */
	skt_scan_stats *stats; /* filled when not NULL */
} skt_scan_opts;

/* Connect scans answer within one round trip, or never: a second is a
 * round trip around the world with room to spare, and Linux resends an
 * unanswered SYN after one second (RFC 6298 initial RTO). */
#define SKT_SCAN_TIMEOUT_DEFAULT 1000
/* Never more probes in flight than this, whatever the fd limit: one per
 * port of the biggest set. */
#define SKT_SCAN_PARALLEL_MAX 65535

#define SKT_SCAN_OPTS_INIT                                                     \
	{                                                                      \
		SOCK_STREAM, 0, 0, 0, 0, NULL                                  \
	}

/* Called once per port, from inside skt_scan, in the order results arrive
 * (not port order). r is valid only during the call. The callback must not
 * call skt_scan from inside. */
typedef void (*skt_scan_cb)(const skt_scan_result *r, void *arg);

/* Probe every port of ports on target (an IPv4 or IPv6 address; its port
 * is ignored) and call cb with each result before returning. opts may be
 * NULL for the defaults.
 *
 * Concurrency: at most opts->parallel probes in flight, and never more
 * than the soft RLIMIT_NOFILE less a margin (one eighth of it, at least 16)
 * for the caller's own fds. If socket() or connect() still runs short
 * (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS), the cap drops to what was in
 * flight, less a margin, and the port is probed again later; the
 * shortage is never a result. The library does not raise RLIMIT_NOFILE:
 * that is the program's choice (the sockit command raises its soft limit
 * to the hard limit before a scan).
 *
 * Timing: a probe is filtered (UDP: sent again, then open|filtered) once
 * timeout_ms has passed with no answer. Answers already queued are always
 * read before any probe is declared silent, so a slow callback or a busy
 * machine delays results but never turns an answer into a timeout.
 *
 * Every socket the scan opens is closed before it returns; an open TCP
 * port is closed with a reset (SO_LINGER 0), leaving no TIME_WAIT behind.
 *
 * Returns the number of ports scanned (the set's count). Errors:
 *   SKT_EINVAL        NULL target or ports, a target that is not IPv4 or
 *                     IPv6, an empty set, a negative option, socktype
 *                     other than stream or datagram;
 *   SKT_ENOMEM, or an epoll error: before any probe, cb never ran;
 *   an error of the first socket() (SKT_EAFNOSUPPORT where IPv6 is off,
 *                     SKT_EMFILE with no fd to spare): cb never ran;
 *   SKT_EMFILE, SKT_ENFILE, ...: the shortage above with nothing left in
 *                     flight to wait for, so the scan cannot go on. cb has
 *                     then run for the ports already scanned (stats says
 *                     how many): the exception to "a call that fails never
 *                     calls back", because results already delivered are
 *                     true and a scanner should not hide them. */
SKT_EXTERN int skt_scan(const skt_addr *target, const skt_portset *ports,
			const skt_scan_opts *opts, skt_scan_cb cb, void *arg);

/* skt_scan collecting every result into one array, sorted by port. On
 * success *out (free it with skt_free) holds the returned number of
 * results. On error *out is NULL, nothing is allocated, and no partial
 * results are kept. */
SKT_EXTERN int skt_scan_collect(const skt_addr *target,
				const skt_portset *ports,
				const skt_scan_opts *opts,
				skt_scan_result **out);

/* "open", "closed", "filtered", "open|filtered" (as nmap writes them);
 * "unknown" for anything else. Never NULL. */
SKT_EXTERN const char *skt_port_state_name(skt_port_state state);

/* Why a result has its state, in a few words: "connected" (TCP open),
 * "reply" (UDP open), "self-connect", "refused", "timed out", "no reply"
 * (UDP open|filtered), or the error's message for anything else
 * ("host is unreachable"). Static; never NULL. */
SKT_EXTERN const char *skt_scan_reason(const skt_scan_result *r);

#ifdef __cplusplus
}
#endif
#endif
