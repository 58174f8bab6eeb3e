/* torture.c - the runner: torture [--max N] [--unit|--all|NAME...].
 *
 * For each scenario (see torture.h): a clean run that must succeed and
 * counts the fallible calls, then the alloc, sys and eintr passes, one
 * forked child per failure point K. A child fails the point if the
 * scenario crashes, hangs (20 s), leaks an fd or a library allocation,
 * returns something that is not a sockit error code, returns an error
 * where EINTR should have been absorbed, or finds a wrong result. Unit
 * scenarios get every point; integration ones the first --max of each
 * pass (TORTURE_MAX in the Makefile).
 *
 * Prints one line per scenario with the points covered, then
 * "torture: P passed, F failed" for tests/run.sh; exits 1 on a failure.
 */
#include "torture.h"
#include "sktest.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_TIMEOUT_S 20
/* An alloc pass ends at the first K that no longer fails the run; this
 * bounds it should a scenario absorb allocation failures forever. */
#define ALLOC_POINTS_MAX 100000

/* What a child reports back through shared memory. */
typedef struct verdict {
	int rc; /* the scenario's return */
	int fds_before, fds_after;
	long live_allocs;
	torture_counts counts;
	char wrong[256]; /* a failed EXPECT */
} verdict;

static verdict *shared;

void torture_wrong(const char *file, int line, const char *what)
{
	snprintf(shared->wrong, sizeof(shared->wrong), "%s:%d: %s", file, line,
		 what);
}

typedef enum pass { PASS_CLEAN, PASS_ALLOC, PASS_SYS, PASS_EINTR } pass;
static const char *const pass_name[] = {"clean", "alloc", "sys", "eintr"};

/* In the child: run s once with failure point k of pass p. */
static void child(const torture_scenario *s, pass p, long k)
{
	alarm(CHILD_TIMEOUT_S);
	sktest_setup(); /* counting allocator, SIGPIPE fatal as in tests */
	memset(shared, 0, sizeof(*shared));
	shared->fds_before = sktest_count_fds();
	sktest_fail_alloc_at(p == PASS_ALLOC ? k : 0);
	torture_arm(p == PASS_SYS     ? TORTURE_SYS
		    : p == PASS_EINTR ? TORTURE_EINTR
				      : TORTURE_COUNT,
		    k);
	shared->rc = s->run();
	shared->counts = torture_disarm();
	sktest_fail_alloc_at(0);
	shared->fds_after = sktest_count_fds();
	shared->live_allocs = sktest_live_allocs();
	_exit(0);
}

/* Why the run of point k failed, or NULL when it passed. */
static const char *judge(pass p, int status, const verdict *v, char *why,
			 size_t cap)
{
	if (WIFSIGNALED(status)) {
		snprintf(why, cap, "killed by signal %d (%s)", WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM
				 ? "hang"
				 : strsignal(WTERMSIG(status)));
		return why;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, cap, "exited %d", WEXITSTATUS(status));
		return why;
	}
	if (v->wrong[0] != '\0')
		snprintf(why, cap, "wrong result: %s", v->wrong);
	else if (v->fds_after != v->fds_before)
		snprintf(why, cap, "fd leak: %d open, %d before", v->fds_after,
			 v->fds_before);
	else if (v->live_allocs != 0)
		snprintf(why, cap, "%ld allocations leaked", v->live_allocs);
	else if (v->rc > 0 ||
		 (v->rc < 0 && strcmp(skt_errname(v->rc), "UNKNOWN") == 0))
		snprintf(why, cap, "returned %d, not a sockit code", v->rc);
	else if ((p == PASS_CLEAN || p == PASS_EINTR) && v->rc != 0)
		snprintf(why, cap, "failed with %s (%s)", skt_errname(v->rc),
			 skt_strerror(v->rc));
	else
		return NULL;
	return why;
}

/* Run point k in a child; print and count a failure. Returns true when
 * it passed; *v gets the child's verdict. */
static bool run_point(const torture_scenario *s, pass p, long k, verdict *v)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("torture: fork");
		exit(2);
	}
	if (pid == 0)
		child(s, p, k);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*v = *shared;
	char buf[400];
	const char *why = judge(p, status, v, buf, sizeof(buf));
	if (why == NULL)
		return true;
	printf("torture %s: %s point %ld%s%s: %s\n", s->name, pass_name[p], k,
	       v->counts.injected ? " at " : "",
	       v->counts.injected ? v->counts.what : "", why);
	return false;
}

typedef struct tally {
	long alloc, sys, eintr; /* points run */
	long failed;
	bool capped;
} tally;

/* The alloc pass: K = 1, 2, ... until the run succeeds (the scenario
 * makes fewer than K allocations) or max is reached. */
static void alloc_pass(const torture_scenario *s, long max, tally *t)
{
	for (long k = 1; k <= ALLOC_POINTS_MAX; k++) {
		if (k > max) {
			t->capped = true;
			return;
		}
		verdict v;
		if (!run_point(s, PASS_ALLOC, k, &v))
			t->failed++;
		else if (v.rc == 0)
			return;
		t->alloc++;
	}
}

static void call_pass(const torture_scenario *s, pass p, long n, long max,
		      tally *t)
{
	for (long k = 1; k <= n; k++) {
		if (k > max) {
			t->capped = true;
			return;
		}
		verdict v;
		if (!run_point(s, p, k, &v))
			t->failed++;
		if (p == PASS_SYS)
			t->sys++;
		else
			t->eintr++;
	}
}

static bool run_scenario(const torture_scenario *s, long max)
{
	verdict v;
	if (!run_point(s, PASS_CLEAN, 0, &v))
		return false;
	long cap = s->kind == TORTURE_UNIT ? ALLOC_POINTS_MAX : max;
	tally t = {0};
	alloc_pass(s, cap, &t);
	call_pass(s, PASS_SYS, v.counts.sys, cap, &t);
	call_pass(s, PASS_EINTR, v.counts.eintr, cap, &t);
	printf("torture %s: %ld alloc + %ld sys + %ld eintr failure points "
	       "(of %ld syscalls)%s: %s\n",
	       s->name, t.alloc, t.sys, t.eintr, v.counts.sys,
	       t.capped ? ", capped" : "", t.failed == 0 ? "ok" : "FAILED");
	return t.failed == 0;
}

static const torture_scenario *const *all_lists(void)
{
	static const torture_scenario *const lists[] = {
		torture_unit, torture_net, torture_loop, NULL};
	return lists;
}

static bool selected(const torture_scenario *s, int argc, char **argv,
		     int first)
{
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "all") == 0 ||
		    strcmp(argv[i], s->name) == 0)
			return true;
		if (strcmp(argv[i], "unit") == 0 && s->kind == TORTURE_UNIT)
			return true;
		if (strcmp(argv[i], "integration") == 0 &&
		    s->kind == TORTURE_INTEGRATION)
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	long max = 50;
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "--max") == 0) {
		max = atol(argv[2]);
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: torture [--max N] all|unit|integration|"
				"SCENARIO...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("torture: mmap");
		return 2;
	}
	int passed = 0, failed = 0;
	for (const torture_scenario *const *l = all_lists(); *l != NULL; l++)
		for (const torture_scenario *s = *l; s->name != NULL; s++)
			if (selected(s, argc, argv, first))
				run_scenario(s, max) ? passed++ : failed++;
	printf("torture: %d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
