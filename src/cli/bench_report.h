/* bench_report.h - what `sockit bench` prints: the live progress line on a
 * terminal, the report (text or JSON) and the exit status it implies. */
#ifndef SOCKIT_CLI_BENCH_REPORT_H
#define SOCKIT_CLI_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "tools/bench/bench.h"

typedef struct bench_progress_state {
	bool cmd_quiet; /* -q */
	bool drawn;     /* a line is on the terminal */
	uint64_t last_requests;
	double last_s;
} bench_progress_state;

/* Whether to draw progress: stderr is a terminal and -q was not given. */
bool bench_progress_wanted(const bench_progress_state *ps);
/* The engine's progress callback (arg: a bench_progress_state). */
void bench_progress_draw(const bench_progress *p, void *arg);
/* Erase the progress line, if one was drawn. */
void bench_progress_clear(bench_progress_state *ps);

#define BENCH_OTHERS_MAX 8

/* What the target was: the address used and, for a name, the name and
 * its other addresses with why each was not used. */
typedef struct bench_target {
	char text[SKT_ADDRSTRLEN]; /* the address used */
	const char *host;          /* the name given; NULL for an address */
	size_t nothers;
	char others[BENCH_OTHERS_MAX][64];
	int other_err[BENCH_OTHERS_MAX]; /* its connect's error; 0: not
					    tried (another answered first) */
	bool tls;                        /* the run was over TLS */
	bool resumption;                 /* sessions resumed (no --no-resume) */
	bool tls_probed; /* tls_info holds the first handshake's outcome */
	skt_tls_info tls_info;
} bench_target;

/* The report of a finished run, as text or as one JSON object. */
void bench_report(FILE *out, const bench_opts *o, const bench_target *t,
		  const bench_result *r, bool json);

/* CLI_OK when requests completed and none failed, else CLI_FAIL. */
int bench_verdict(const bench_result *r);

#endif
