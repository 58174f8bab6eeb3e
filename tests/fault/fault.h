/* fault.h - what the fault tests share: a network namespace of their own,
 * packet filters in it, a line-echo server on the event loop in a thread,
 * a data pattern, and one line of figures per test.
 *
 * Each Criterion test runs in its own process, so a namespace made with
 * unshare(CLONE_NEWNET) lives and dies with the test, and iptables rules
 * put in it touch nothing else. Tests that need one (packet filters) skip
 * with a message when not root; the others run in a namespace when they
 * can and on the host's loopback otherwise (port 0, 127.0.0.1 only).
 *
 * Header-only (static functions): every .c file of tests/fault is its
 * own test binary.
 */
#ifndef SOCKIT_FAULT_H
#define SOCKIT_FAULT_H

#include "sktest.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* SKT_TEST with a longer timeout, for tests that move megabytes through
 * a lossy link or open thousands of connections. */
#define FAULT_TEST(suite, name, secs)                                          \
	Test(suite, name, .init = sktest_setup, .fini = sktest_teardown,       \
	     .timeout = secs)

/* Enter a fresh network namespace with lo up. need: skip the test when
 * that is impossible (not root); otherwise return false and let it run on
 * the host's loopback. */
static inline bool fault_netns(bool need)
{
	if (!sktest_can_netns()) {
		if (need)
			cr_skip_test("needs root for a network namespace "
				     "and iptables");
		return false;
	}
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
	return true;
}

/* Run a shell command built like printf; it must succeed. */
__attribute__((format(printf, 1, 2))) static inline void
fault_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* Packets counted by INPUT rule number n (iptables -L -v -x). */
static inline long fault_rule_packets(int n)
{
	FILE *f = popen("iptables -L INPUT -v -x -n --line-numbers", "r");
	cr_assert_not_null(f);
	char line[512];
	long pkts = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		int num;
		long p;
		if (sscanf(line, "%d %ld", &num, &p) == 2 && num == n)
			pkts = p;
	}
	pclose(f);
	cr_assert_geq(pkts, 0, "no INPUT rule %d", n);
	return pkts;
}

/* Byte i of every test transfer: a pattern that a shifted, dropped or
 * duplicated segment cannot reproduce (251 is prime, so it does not line
 * up with any power-of-two segment size). */
static inline uint8_t fault_byte(size_t i)
{
	return (uint8_t)(i % 251 ^ i >> 16);
}

static inline void fault_fill(uint8_t *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = fault_byte(off + i);
}

/* Index of the first byte that is not the pattern, or n. */
static inline size_t fault_check(const uint8_t *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != fault_byte(off + i))
			return i;
	return n;
}

/* One line of figures, kept by tests/run.sh ("fault: ..."). */
__attribute__((format(printf, 1, 2))) static inline void
fault_report(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "fault: %s\n", buf);
}

/* Raise the soft fd limit to at least n (up to the hard limit, which
 * root may raise too). Returns the limit now in force. */
static inline long fault_nofile(long n)
{
	struct rlimit r;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	if ((long)r.rlim_cur >= n)
		return (long)r.rlim_cur;
	if ((long)r.rlim_max < n && geteuid() == 0)
		r.rlim_max = (rlim_t)n;
	r.rlim_cur = (long)r.rlim_max < n ? r.rlim_max : (rlim_t)n;
	setrlimit(RLIMIT_NOFILE, &r);
	getrlimit(RLIMIT_NOFILE, &r);
	return (long)r.rlim_cur;
}

#endif
