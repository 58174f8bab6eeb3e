/* sockit/scan.h - port sets and a parallel port scanner.
 *
 * A port set is a bitmap of the 65536 port numbers (port 0 is never in
 * it), filled by hand or parsed from the text users type: "22,80,8000-8100"
 * or "all". The parser is pure code: no fd, no allocation, no locale.
 *
 * Target sets, the scan space (targets x ports), its full-cycle order and
 * its shards are pure code too (below). The scanner probes a space's
 * shard in that order (skt_scan_run), or one address on every port of a
 * set (skt_scan), many probes at once, over non-blocking sockets watched
 * by one epoll set:
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

#include <signal.h>
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

/* ---- Target sets ---- */

/* A target set is the addresses a scan covers: what users type ("HOST",
 * "10.0.0.0/24", "10.0.0.1-50", "10.0.0-3.1-254", "2001:db8::/120"), less
 * exclusions, kept as a sorted list of disjoint address intervals. Memory
 * grows with the pieces of the spec, never with the number of addresses:
 * a /8 is one interval. IPv4 and IPv6 share one 128-bit space (IPv4 as
 * ::ffff:a.b.c.d), so one exclusion list and one order serve both, and
 * ::ffff:10.0.0.1 is 10.0.0.1. Names are not resolved here: the parser
 * says SKT_EBADHOST and the caller resolves the name and adds its
 * addresses (the sockit command does; the library stays pure). */
typedef struct skt_targets skt_targets;

/* Where and why a target item was rejected (as skt_portset_error). */
typedef struct skt_target_error {
	size_t off;      /* offset of the offending part of the item */
	size_t len;      /* its length */
	const char *why; /* static, lower-case */
} skt_target_error;

/* Targets a set holds unless its creator says otherwise: a /16 of IPv4. */
#define SKT_TARGETS_MAX_DEFAULT 65536
/* The largest bound a set takes: 2^40 addresses (an IPv6 /88). */
#define SKT_TARGETS_MAX_LIMIT ((uint64_t)1 << 40)
/* Intervals a set (targets or exclusions) may hold: 2^20 (16 MiB). An
 * octet range such as "1-254.1-254.1-254.1" is 254^3 intervals. */
#define SKT_TARGETS_PIECES_MAX ((size_t)1 << 20)

/* A new, empty set that refuses to hold more than max addresses (0 means
 * SKT_TARGETS_MAX_DEFAULT; at most SKT_TARGETS_MAX_LIMIT). NULL when out
 * of memory or max is over the limit. Free with skt_targets_free. */
SKT_EXTERN skt_targets *skt_targets_new(uint64_t max);
SKT_EXTERN void skt_targets_free(skt_targets *t);

/* Add the addresses of one item of len bytes (no NUL needed; never read
 * past len):
 *   an address        10.0.0.1, 2001:db8::1
 *   a prefix          10.0.0.0/24 (host bits ignored), 2001:db8::/120
 *   a range           10.0.0.1-10.0.0.50, 2001:db8::1-2001:db8::ff
 *   octet ranges      10.0.0.1-50, 10.0.0-3.1-254, 10.0.1,3,5.*: each
 *                     octet a comma-separated list of N, N-M or * (nmap's
 *                     form; the last octet's runs make the intervals)
 * Items may overlap: the set is their union. Returns 0, or
 *   SKT_EBADHOST    not an address form (a name: resolve it and add each
 *                   address with skt_targets_add_addr), or an address with
 *                   a zone ("fe80::1%eth0", which the resolver reads);
 *   SKT_EMALFORMED  a bad number or octet, a reversed range ("10.0.0.9-1"),
 *                   a /0 (every address: never a scan), a prefix out of
 *                   range, an empty item;
 *   SKT_ETOOBIG     the item alone holds more than the set's max (an IPv6
 *                   /32), or the set would hold more than
 *                   SKT_TARGETS_PIECES_MAX intervals;
 *   SKT_ENOMEM;     SKT_EINVAL after skt_targets_finish;
 * then the set is as before and *err (when not NULL) says where and why. */
SKT_EXTERN int skt_targets_add(skt_targets *t, const char *text, size_t len,
			       skt_target_error *err);

/* Remove the addresses of an item (same forms as skt_targets_add, a /0
 * and any size included) from the set; exclusions apply at
 * skt_targets_finish, whatever the order of the calls. Returns as
 * skt_targets_add, without the max. */
SKT_EXTERN int skt_targets_exclude(skt_targets *t, const char *text, size_t len,
				   skt_target_error *err);

/* Add or exclude one address (IPv4 or IPv6; its port and IPv6 scope are
 * ignored). Returns 0, SKT_EINVAL for another family or a finished set,
 * SKT_ETOOBIG, SKT_ENOMEM. */
SKT_EXTERN int skt_targets_add_addr(skt_targets *t, const skt_addr *a);
SKT_EXTERN int skt_targets_exclude_addr(skt_targets *t, const skt_addr *a);

/* Merge what was added, remove the exclusions, and freeze the set: after
 * this, only the read calls below. Returns 0, or SKT_ETOOBIG when the
 * union holds more than max addresses, SKT_ENOMEM, SKT_EINVAL when already
 * finished. A set may end up empty (everything excluded): count 0. */
SKT_EXTERN int skt_targets_finish(skt_targets *t);

/* Addresses in the finished set (0 before skt_targets_finish). */
SKT_EXTERN uint64_t skt_targets_count(const skt_targets *t);

/* The i-th address of the finished set, in address order (the 128-bit
 * form's: IPv6 below ::ffff:0:0, then IPv4, then the rest of IPv6), port
 * 0, in O(log intervals). Returns 0, or SKT_EINVAL for i >= count. */
SKT_EXTERN int skt_targets_get(const skt_targets *t, uint64_t i, skt_addr *a);

/* ---- The scan space: targets x ports, its order and its shards ---- */

/* Every (target, port) pair, numbered 0..size-1 target by target:
 * index = target * nports + (the port's rank in the set). A copy of the
 * port set and a rank table make any index an address in O(log) time and
 * no allocation. The targets must stay alive and finished while the
 * space is used. */
typedef struct skt_scan_space {
	const skt_targets *targets;
	uint64_t ntargets;
	uint32_t nports;
	uint64_t size; /* ntargets * nports */
	skt_portset ports;
	uint32_t rank[SKT_PORTSET_WORDS]; /* ports in the words before */
} skt_scan_space;

/* At most 2^62 pairs, so that every order below stays in 64 bits. */
#define SKT_SCAN_SPACE_MAX ((uint64_t)1 << 62)

/* Returns 0, or SKT_EINVAL for a set not finished, SKT_ETOOBIG past
 * SKT_SCAN_SPACE_MAX. An empty set or port set gives an empty space. */
SKT_EXTERN int skt_scan_space_init(skt_scan_space *sp, const skt_targets *t,
				   const skt_portset *ports);

/* The address (with its port) of index i < size. Returns 0 or SKT_EINVAL
 * for an index out of the space. */
SKT_EXTERN int skt_scan_space_get(const skt_scan_space *sp, uint64_t i,
				  skt_addr *a);

/* The order a scan walks its space in: a full cycle of a multiplicative
 * group (zmap's construction) or, unrandomized, index order.
 *
 * Randomized: p is the smallest prime above size and g a primitive root
 * modulo p picked from the seed. Because Z_p^* is cyclic of order p-1 and
 * g generates it, e -> g^e mod p maps the exponents 0..p-2 one-to-one onto
 * 1..p-1 (g^a = g^b implies a = b mod p-1). Element e of the cycle is
 * (start * g^e mod p) - 1, start = g^e0 for a seeded e0: the cycle visits
 * each of 0..p-2 exactly once, and the scan skips values >= size, so
 * every index of the space comes exactly once. p - size is at most 1550
 * (the widest gap between primes below 2^64), so little is skipped. */
typedef struct skt_scan_order {
	uint64_t size;  /* elements of the space */
	uint64_t cycle; /* exponents of the cycle: p - 1, or size */
	uint64_t prime; /* p (randomized) */
	uint64_t gen;   /* g */
	uint64_t start; /* g^e0 mod p */
	uint64_t seed;
	bool random;
} skt_scan_order;

/* Build the order of a space of size elements from seed; random false is
 * index order. Pure arithmetic (a prime search and a factorization of
 * p-1, well under a millisecond). Returns 0, or SKT_EINVAL for a size
 * over SKT_SCAN_SPACE_MAX. */
SKT_EXTERN int skt_scan_order_init(skt_scan_order *o, uint64_t size,
				   uint64_t seed, bool random);

/* Shard i of n of an order, and a position inside it. Shard i takes the
 * exponents [floor(i*cycle/n), floor((i+1)*cycle/n)) of the cycle: the
 * slices of 0..n-1 are contiguous, disjoint and cover the cycle for any
 * n, so n scanners with the same order cover the space exactly once
 * (whatever n, even one that does not divide the size; a shard may be
 * empty when n exceeds the cycle). pos counts exponents done, skipped
 * ones included, so it is exact for --resume and never passes len. */
typedef struct skt_scan_iter {
	skt_scan_order o;
	uint64_t first; /* the shard's first exponent */
	uint64_t len;   /* its exponents */
	uint64_t pos;   /* exponents done: 0..len */
	uint64_t x;     /* randomized: the element at first + pos */
} skt_scan_iter;

/* Most shards: more than any fleet of scanners. */
#define SKT_SCAN_SHARDS_MAX 1000000

/* Start shard (0-based, < shards) of o at position resume (0 for the
 * beginning; at most the shard's len). Returns 0, or SKT_EINVAL for a
 * shard out of range, shards 0 or over SKT_SCAN_SHARDS_MAX, a resume
 * past the end. */
SKT_EXTERN int skt_scan_iter_init(skt_scan_iter *it, const skt_scan_order *o,
				  uint32_t shard, uint32_t shards,
				  uint64_t resume);

/* The next index of the shard into *index; false at its end. */
SKT_EXTERN bool skt_scan_iter_next(skt_scan_iter *it, uint64_t *index);

/* A fingerprint of everything that decides which probes a shard sends:
 * the targets and exclusions (as merged intervals, so "10.0.0.0/24" and
 * "10.0.0.0-10.0.0.255" agree), the ports, the order (seed, randomized)
 * and the shard count, and socktype. Shards of one scan have the same
 * fingerprint; a shard of another scan almost surely not (64-bit FNV-1a
 * over those, mixed). */
SKT_EXTERN uint64_t skt_scan_fingerprint(const skt_scan_space *sp,
					 const skt_scan_order *o,
					 uint32_t shards, int socktype);

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
	int tries;         /* probes sent: UDP datagrams, TCP connects (more
			      than one after a timeout with retries) */
	int64_t rtt_us;    /* from the last probe sent to its answer, or to
			      the moment it was declared silent */
	skt_addr addr;     /* the address probed, port included */
	uint64_t index;    /* its index in the space (skt_scan: the port) */
	const uint8_t *banner; /* with banner_ms: the first bytes an open
				  TCP port sent (NULL when none came),
				  valid during the callback only */
	size_t banner_len;
	bool banner_probed; /* the banner answers the HTTP probe */
} skt_scan_result;

/* What a scan did, filled at its end when asked for (skt_scan_opts.stats). */
typedef struct skt_scan_stats {
	size_t ports;                        /* results delivered */
	size_t count[SKT_PORT_STATE_COUNT_]; /* results by state */
	size_t self_connects;   /* connects that landed on the scanner itself */
	size_t retries;         /* probes started again after a local shortage
				   (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS) */
	size_t resent;          /* TCP probes sent again after a timeout */
	size_t resent_answered; /* of those, answered on a later try: the
				   probes a scan without retries misses */
	size_t backoffs;        /* times the pace fell (see skt_scan_run) */
	int parallel_start;     /* the cap the scan began with */
	int parallel_end;       /* the cap at the end: lower after a shortage */
	int rate_end;           /* probes per second at the end (0 unlimited):
				   below the rate asked after a back-off */
	bool stopped;           /* *stop ended it early (skt_scan_run) */
	int64_t elapsed_ms;
} skt_scan_stats;

/* Where a scan is, given to skt_scan_opts.progress now and then. */
typedef struct skt_scan_progress {
	uint64_t done;     /* results delivered */
	uint64_t resume;   /* every index before this position is done:
			      skt_scan_iter_init(..., resume) goes on from
			      here after a crash (some results may come
			      twice, none is lost) */
	uint64_t pos, len; /* the iterator: exponents taken, in all */
	int inflight;
	int rate; /* probes per second now, 0 unlimited */
	size_t resent;
	int64_t elapsed_ms;
} skt_scan_progress;

typedef void (*skt_scan_progress_cb)(const skt_scan_progress *p, void *arg);

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
	int retries;     /* TCP: connects started again after a timeout, at
			    most 10; 0 none (skt_scan_run; skt_scan too) */
	bool fixed_pace; /* no adaptive back-off (see skt_scan_run) */
	int banner_ms;   /* TCP: after a handshake, wait this long for what
			    the port says first; silent half-way through,
			    send an HTTP HEAD (with http_probe) and wait the
			    other half. 0: no banners */
	bool http_probe;
	skt_scan_progress_cb progress; /* called about every progress_ms */
	void *progress_arg;
	int progress_ms;                   /* 0 means 1000 */
	const volatile sig_atomic_t *stop; /* skt_scan_run: when *stop turns
					      nonzero, start nothing new,
					      let what is out end, return */
} skt_scan_opts;

/* Bytes of a banner kept: a greeting line, an HTTP status line and some
 * fields. */
#define SKT_SCAN_BANNER_MAX 512

/* Connect scans answer within one round trip, or never: a second is a
 * round trip around the world with room to spare, and Linux resends an
 * unanswered SYN after one second (RFC 6298 initial RTO). */
#define SKT_SCAN_TIMEOUT_DEFAULT 1000
/* Never more probes in flight than this, whatever the fd limit: one per
 * port of the biggest set. */
#define SKT_SCAN_PARALLEL_MAX 65535

#define SKT_SCAN_OPTS_INIT                                                     \
	{                                                                      \
		.socktype = SOCK_STREAM                                        \
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

/* Probe every index of a shard of a space: it (from skt_scan_iter_init)
 * says which and in what order; the scan moves it on, and on return
 * it->pos is where a later skt_scan_iter_init(..., it->pos) goes on
 * (exactly, after a stop: every index before it has its result and none
 * after it was probed). Probes go out at opts->rate from opts->parallel
 * slots as skt_scan's do, to many hosts at once, and cb gets each result
 * (addr and index say which) in the order they come.
 *
 * Retries and back-off: a TCP probe that times out is started again
 * (opts->retries times, ahead of new probes) before it is called
 * filtered; and unless opts->fixed_pace, the pace adapts: when the share
 * of first tries that time out rises above what the space showed before
 * (a full conntrack table on the way), or probes sent again come back
 * answered (so the first try was lost, not filtered: a rate limiter),
 * the rate halves, or falls to what got through, and grows back by an
 * eighth while it stays calm (see src/scan/pace.c). Together they keep
 * the open set from depending on the rate asked for; stats says how many
 * probes were sent again, how many of them were answered, and how often
 * the pace fell. UDP keeps its pace: its silence says nothing of loss.
 *
 * Banners (opts->banner_ms): an open port's connection is kept, and what
 * the port sends first (up to SKT_SCAN_BANNER_MAX bytes, a line, or
 * until it closes) is the result's banner; a port silent for half the
 * time gets an HTTP HEAD with opts->http_probe, and what answers within
 * the other half (to the end of the header) is the banner.
 *
 * Progress: opts->progress is called about every progress_ms from inside
 * the scan, with a position to resume from. opts->stop: once *stop is
 * nonzero, nothing new starts, what is out ends, and the call returns 0
 * with stats->stopped set.
 *
 * Returns 0, or the errors of skt_scan (SKT_EINVAL also for an iterator
 * of another space's size). cb may run before an error return, as for
 * skt_scan. */
SKT_EXTERN int skt_scan_run(const skt_scan_space *sp, skt_scan_iter *it,
			    const skt_scan_opts *opts, skt_scan_cb cb,
			    void *arg);

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
