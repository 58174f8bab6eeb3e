/* sktest.h - what every sockit Criterion test shares.
 *
 * SKT_TEST(suite, name) declares a Criterion test (own process, timeout)
 * whose setup records the open fds and routes the library's allocator
 * through a counter, and whose teardown fails the test if an fd or an
 * allocation of the library leaked.
 */
#ifndef SKTEST_H
#define SKTEST_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockit/sockit.h"

void sktest_setup(void);
void sktest_teardown(void);

#define SKT_TEST(suite, name, ...)                                             \
	Test(suite, name, .init = sktest_setup, .fini = sktest_teardown,       \
	     .timeout = 30, ##__VA_ARGS__)

/* Assert that expr returned the sockit code want; both are named. */
#define skt_assert_err(expr, want)                                             \
	do {                                                                   \
		int e_ = (int)(expr);                                          \
		cr_assert_eq(e_, (want), "%s: got %s (%d), want %s", #expr,    \
			     skt_errname(e_), e_, skt_errname(want));          \
	} while (0)

/* cr_assert(cond, fmt, ...) for loops that check thousands of times:
 * only a failure reaches Criterion, whose --full-stats otherwise records
 * every passing assertion (seconds per test under load). */
#define SKT_CHECK(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond))                                                   \
			cr_assert_fail(__VA_ARGS__);                           \
	} while (0)

/* Assert that fd is a descriptor, not an error code. */
#define skt_assert_fd(fd)                                                      \
	cr_assert_geq((fd), 0, "%s: %s (%d)", #fd, skt_errname(fd), (fd))

/* Monotonic clock in milliseconds. */
int64_t sktest_now_ms(void);

/* Copy s so that its NUL is the last byte before a PROT_NONE page: a
 * parser that reads one byte too far crashes the test. */
const char *sktest_guarded(const char *s);
/* Copy n bytes of s so that the last of them is the last byte before a
 * PROT_NONE page (no NUL after it: for parsers that take a length); any
 * n, over a page too. */
const char *sktest_guarded_n(const void *s, size_t n);

/* A string of n copies of c in a static buffer (two alternate, so two
 * results can be used in one expression). */
const char *sktest_repeat(char c, size_t n);
/* a formatted with skt_addr_format, in a static buffer; fails the test if
 * formatting fails. */
const char *sktest_addr_text(const skt_addr *a);

/* Open fds of this process right now. */
int sktest_count_fds(void);
/* Library allocations still live. */
long sktest_live_allocs(void);
/* Make the library's allocation number n (counted from now, 1-based) and
 * every later one fail; 0 turns failing off. */
void sktest_fail_alloc_at(long n);

/* A TCP listener on 127.0.0.1:0 (or [::1]:0 when v6); returns the fd and
 * stores the port. Aborts the test on failure. */
int sktest_listen_tcp(bool v6, uint16_t *port);

/* Run a python3 program (source text) as a child with extra argv, stdin
 * from /dev/null unless in_fd >= 0, stdout captured into a pipe whose read
 * end is stored in *out_fd (when out_fd is not NULL). Returns the pid. */
pid_t sktest_python(const char *source, const char *const argv[], int *out_fd);
/* Wait for pid; returns its exit status (128+sig when killed). */
int sktest_wait(pid_t pid);
/* Read everything from fd into buf (NUL-terminated) and close fd; returns
 * the byte count. */
size_t sktest_slurp(int fd, char *buf, size_t cap);

/* True when the tests run as root and can make network namespaces. */
bool sktest_can_netns(void);

#endif
