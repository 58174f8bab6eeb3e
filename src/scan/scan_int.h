/* scan_int.h - what the files of src/scan/ share; not installed. */
#ifndef SOCKIT_SCAN_INT_H
#define SOCKIT_SCAN_INT_H

#include "sockit/scan.h"

/* Feed the merged targets and exclusions of a finished set to feed(h,
 * bytes, n), for skt_scan_fingerprint. */
void skt__targets_hash(const skt_targets *t,
		       void (*feed)(void *h, const void *p, size_t n), void *h);

/* True once skt_targets_finish succeeded. */
bool skt__targets_finished(const skt_targets *t);

/* Move it to position pos (<= it->len) of its shard. */
void skt__scan_iter_seek(skt_scan_iter *it, uint64_t pos);

/* ---- The scanner (scan.c) ---- */

/* skt_scan_run's engine; fixed (skt_scan's target, its scope kept)
 * replaces each address but its port when not NULL. */
int skt__scan_space(const skt_scan_space *sp, skt_scan_iter *it,
		    const skt_addr *fixed, const skt_scan_opts *o,
		    skt_scan_cb cb, void *arg);
bool skt__scan_opts_ok(const skt_scan_opts *o);

/* ---- Pacing (pace.c) ---- */

/* Cohorts remembered at once (see pace.c); a probe outlives its cohort's
 * slot only if it stays out for this many timeouts. */
#define SKT__PACE_RING 16
/* A cohort's timeout fraction this much (per mille) above the lowest
 * seen backs off. */
#define SKT__PACE_RISE_PERMILLE 100

typedef struct skt__cohort {
	uint32_t id;
	bool used;
	uint32_t sent, ended;     /* sends in it, and how many have ended */
	uint32_t answered;        /* ended with an answer */
	uint32_t first, timeouts; /* first tries ended, and timed out */
	uint32_t recovered;       /* resent probes of it that were answered */
} skt__cohort;

typedef struct skt__pace {
	/* token bucket: one probe costs 1e6 micro-tokens */
	int64_t rate; /* per second now; 0 unlimited */
	int64_t burst, tokens, last_us;
	/* the cap on probes in flight */
	int cap, cap_max;
	/* adaptive back-off */
	int64_t user_rate;
	bool adaptive;
	int64_t cohort_us, t0_us;
	int64_t base; /* lowest timeout fraction judged, per mille */
	uint32_t judge_from;
	size_t backoffs;
	skt__cohort ring[SKT__PACE_RING];
} skt__pace;

void skt__pace_init(skt__pace *p, int rate, int cap, bool adaptive,
		    int64_t timeout_us, int64_t now);
/* True when a probe may start now; takes its token. untake gives back
 * the token of a probe that could not start. */
bool skt__pace_take(skt__pace *p, int64_t now);
void skt__pace_untake(skt__pace *p);
/* Milliseconds until the next token, rounded up (epoll_wait's unit). */
int skt__pace_wait_ms(const skt__pace *p);
/* A probe went out now: returns its cohort, for skt__pace_ended. */
uint32_t skt__pace_sent(skt__pace *p, int64_t now);
/* A TCP probe of cohort id ended: answered, or timed out; resent when
 * this was not its first try. */
void skt__pace_ended(skt__pace *p, uint32_t id, bool timed_out, bool resent,
		     int64_t now);
/* The process ran short of fds (or ports) with inflight probes out. */
void skt__pace_shortage(skt__pace *p, int inflight);

#endif
