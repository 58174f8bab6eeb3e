/* torture.h - fail the Kth allocation or system call of a scenario, for
 * every K, and check that each run ends cleanly (curl's torture tests).
 *
 * A scenario is a function that uses the library the way a program does
 * and returns 0, or the first error it met (a negative sockit code),
 * having released everything: it must not crash, leak an fd or leak a
 * library allocation whatever fails. The runner (torture.c) first runs it
 * clean, counting its fallible calls, then once per failure point K, each
 * in a forked child:
 *   alloc  allocation K and every later one fail (sktest_fail_alloc_at);
 *   sys    system call K fails once with a plausible errno (EMFILE for
 *          socket, ECONNRESET for recv, EAI_MEMORY for getaddrinfo...);
 *   eintr  system call K fails once with EINTR, which the library must
 *          absorb: the scenario must then succeed.
 * The system calls are caught without touching the library: the torture
 * binary is linked with -Wl,--wrap=socket,... and wrap.c's __wrap_socket
 * calls __real_socket unless its number has come (see the Makefile's
 * TORTURE_WRAP for the list).
 *
 * Running: `make check` runs every scenario (integration ones capped at
 * 50 points per pass), `make torture` the same with TORTURE_MAX (1000)
 * points; by hand: build/tests/torture/torture [--max N] all | unit |
 * integration | NAME... Each scenario prints its points covered.
 *
 * Adding a scenario: a `static int name(void)` in scen_unit.c (pure code,
 * socketpairs: deterministic, every point), scen_net.c (real sockets on
 * loopback) or scen_loop.c (the event loop), built with TRY / EXPECT and
 * one `out:` label that releases everything, and a line in that file's
 * table. A new fallible system call the library starts using gets a WRAP
 * line in wrap.c and its name in TORTURE_WRAP.
 */
#ifndef SOCKIT_TORTURE_H
#define SOCKIT_TORTURE_H

#include <stdbool.h>

#include "sockit/sockit.h"

typedef enum torture_kind {
	TORTURE_UNIT,        /* every failure point, in `make check` */
	TORTURE_INTEGRATION, /* the first --max points, in `make torture` */
} torture_kind;

typedef struct torture_scenario {
	const char *name;
	torture_kind kind;
	int (*run)(void);
} torture_scenario;

/* The scenarios of each file, NULL-name terminated. */
extern const torture_scenario torture_unit[];
extern const torture_scenario torture_net[];
extern const torture_scenario torture_loop[];

/* ---- wrap.c: which call fails ---- */

typedef enum torture_mode {
	TORTURE_OFF,   /* calls pass through, uncounted */
	TORTURE_COUNT, /* calls pass through, counted */
	TORTURE_SYS,   /* counted; call number fail_at fails hard */
	TORTURE_EINTR, /* counted; interruptible call number fail_at: EINTR */
} torture_mode;

typedef struct torture_counts {
	torture_mode mode;
	long sys;         /* calls that can fail hard */
	long eintr;       /* calls that can be interrupted */
	bool injected;    /* the failure was delivered */
	const char *what; /* the call that failed, when injected */
} torture_counts;

/* Start counting in mode (fail_at is 1-based; ignored when counting). */
void torture_arm(torture_mode mode, long fail_at);
/* Stop counting and return what happened since torture_arm. */
torture_counts torture_disarm(void);
/* What happened so far, still counting: for a scenario whose result may
 * rightly differ once a call failed (a scanner reports what a probe met). */
torture_counts torture_peek(void);

/* ---- Helpers for scenarios ---- */

/* Return the first error: `TRY(x)` evaluates x and, when negative,
 * stores it in rc and jumps to the scenario's `out` label. */
#define TRY(expr)                                                              \
	do {                                                                   \
		long r_ = (long)(expr);                                        \
		if (r_ < 0) {                                                  \
			rc = (int)r_;                                          \
			goto out;                                              \
		}                                                              \
	} while (0)

/* expr must give the error want (SKT_EOF at the end of a stream, say):
 * another error is the run's error, a success a wrong result. */
#define TRY_EXPECT_ERR(expr, want)                                             \
	do {                                                                   \
		long w_ = (long)(expr);                                        \
		if (w_ != (want))                                              \
			TRY(w_);                                               \
		EXPECT(w_ == (want));                                          \
	} while (0)

/* A result that is not an error but is wrong: the scenario is broken,
 * not the run, so the runner reports it as a failure. */
#define TORTURE_WRONG (-100000)
#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond)) {                                                 \
			torture_wrong(__FILE__, __LINE__, #cond);              \
			rc = TORTURE_WRONG;                                    \
			goto out;                                              \
		}                                                              \
	} while (0)
void torture_wrong(const char *file, int line, const char *what);

#endif
