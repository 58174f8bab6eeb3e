/* wrap.c - the system calls of the library, counted and failed on demand.
 *
 * The torture binary is linked with -Wl,--wrap=NAME for each NAME below
 * (the Makefile's TORTURE_WRAP), so every call to NAME from the library
 * (and from the scenarios) lands in __wrap_NAME, which passes it to
 * __real_NAME, the C library's, unless it is the one to fail. Calls made
 * inside the C library itself (getaddrinfo's own sockets) are not seen.
 *
 * Each call has a hard errno, the one a real system gives under pressure
 * (out of fds, out of memory, a peer that reset), and is interruptible or
 * not. Counting is per class, so that failure point K of the sys pass is
 * the Kth call that can fail hard and K of the eintr pass the Kth call
 * that can be interrupted.
 */
#include "torture.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

static atomic_int mode = TORTURE_OFF;
static long fail_at;
static atomic_long n_sys, n_eintr;
static atomic_bool injected;
static const char *failed_call;

void torture_arm(torture_mode m, long k)
{
	atomic_store(&n_sys, 0);
	atomic_store(&n_eintr, 0);
	atomic_store(&injected, false);
	failed_call = NULL;
	fail_at = k;
	atomic_store(&mode, m);
}

torture_counts torture_peek(void)
{
	return (torture_counts){atomic_load(&mode), atomic_load(&n_sys),
				atomic_load(&n_eintr), atomic_load(&injected),
				failed_call};
}

torture_counts torture_disarm(void)
{
	torture_counts c = torture_peek();
	atomic_store(&mode, TORTURE_OFF);
	return c;
}

/* Count one call of name; returns the errno it must fail with now, or 0
 * to let it through. hard is its hard errno (0: it has none); intr says
 * whether it can be interrupted. */
static int should_fail(const char *name, int hard, bool intr)
{
	int m = atomic_load(&mode);
	if (m == TORTURE_OFF)
		return 0;
	long ks = hard != 0 ? atomic_fetch_add(&n_sys, 1) + 1 : 0;
	long ke = intr ? atomic_fetch_add(&n_eintr, 1) + 1 : 0;
	int e = 0;
	if (m == TORTURE_SYS && ks == fail_at)
		e = hard;
	else if (m == TORTURE_EINTR && ke == fail_at)
		e = EINTR;
	if (e != 0) {
		atomic_store(&injected, true);
		failed_call = name;
	}
	return e;
}

/* The usual shape: fail with -1 and errno, or call the real one. */
#define WRAP(ret, name, hard, intr, params, args)                              \
	ret __real_##name params;                                              \
	ret __wrap_##name params;                                              \
	ret __wrap_##name params                                               \
	{                                                                      \
		int e_ = should_fail(#name, hard, intr);                       \
		if (e_ != 0) {                                                 \
			errno = e_;                                            \
			return (ret)-1;                                        \
		}                                                              \
		return __real_##name args;                                     \
	}

WRAP(int, socket, EMFILE, false, (int d, int t, int p), (d, t, p))
WRAP(int, socketpair, EMFILE, false, (int d, int t, int p, int sv[2]),
     (d, t, p, sv))
WRAP(int, accept, EMFILE, true, (int fd, struct sockaddr *a, socklen_t *l),
     (fd, a, l))
WRAP(int, accept4, EMFILE, true,
     (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f))
/* A non-blocking connect fails at once for a local reason: no route. An
 * interrupted connect is not one that never happened: the kernel goes on
 * with the handshake (connect(2): EINTR, "the connection is established
 * asynchronously"), so the real call is made and its result replaced. */
int __real_connect(int fd, const struct sockaddr *a, socklen_t l);
int __wrap_connect(int fd, const struct sockaddr *a, socklen_t l);
int __wrap_connect(int fd, const struct sockaddr *a, socklen_t l)
{
	int e = should_fail("connect", ENETUNREACH, true);
	if (e == ENETUNREACH) {
		errno = e;
		return -1;
	}
	int rc = __real_connect(fd, a, l);
	if (e == EINTR && (rc == 0 || errno == EINPROGRESS)) {
		errno = EINTR;
		return -1;
	}
	return rc;
}
WRAP(int, bind, EADDRINUSE, false,
     (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
WRAP(int, listen, EADDRINUSE, false, (int fd, int n), (fd, n))
WRAP(int, setsockopt, ENOMEM, false,
     (int fd, int lv, int nm, const void *v, socklen_t l), (fd, lv, nm, v, l))
WRAP(int, getsockopt, ENOBUFS, false,
     (int fd, int lv, int nm, void *v, socklen_t *l), (fd, lv, nm, v, l))
WRAP(int, getsockname, ENOBUFS, false,
     (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
WRAP(int, getpeername, ENOBUFS, false,
     (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
WRAP(int, poll, ENOMEM, true, (struct pollfd * p, nfds_t n, int ms), (p, n, ms))
WRAP(int, epoll_create1, EMFILE, false, (int f), (f))
WRAP(int, epoll_ctl, ENOMEM, false,
     (int ep, int op, int fd, struct epoll_event *ev), (ep, op, fd, ev))
/* epoll_wait has no plausible hard failure; it is only interrupted. */
WRAP(int, epoll_wait, 0, true, (int ep, struct epoll_event *ev, int n, int ms),
     (ep, ev, n, ms))
WRAP(int, eventfd, EMFILE, false, (unsigned v, int f), (v, f))
WRAP(int, signalfd, EMFILE, false, (int fd, const sigset_t *m, int f),
     (fd, m, f))
WRAP(int, timerfd_create, EMFILE, false, (int c, int f), (c, f))
WRAP(int, pipe, EMFILE, false, (int fds[2]), (fds))
WRAP(int, pipe2, EMFILE, false, (int fds[2], int f), (fds, f))
/* A peer that reset is what a send or receive meets in real life. */
WRAP(ssize_t, send, ECONNRESET, true, (int fd, const void *b, size_t n, int f),
     (fd, b, n, f))
WRAP(ssize_t, sendto, ECONNRESET, true,
     (int fd, const void *b, size_t n, int f, const struct sockaddr *a,
      socklen_t l),
     (fd, b, n, f, a, l))
WRAP(ssize_t, sendmsg, ECONNRESET, true,
     (int fd, const struct msghdr *m, int f), (fd, m, f))
WRAP(int, sendmmsg, ENOBUFS, true,
     (int fd, struct mmsghdr *m, unsigned n, int f), (fd, m, n, f))
WRAP(ssize_t, recv, ECONNRESET, true, (int fd, void *b, size_t n, int f),
     (fd, b, n, f))
WRAP(ssize_t, recvfrom, ECONNRESET, true,
     (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l),
     (fd, b, n, f, a, l))
WRAP(ssize_t, recvmsg, ECONNRESET, true, (int fd, struct msghdr *m, int f),
     (fd, m, f))
WRAP(int, recvmmsg, ENOMEM, true,
     (int fd, struct mmsghdr *m, unsigned n, int f, struct timespec *t),
     (fd, m, n, f, t))
WRAP(int, shutdown, ENOTCONN, false, (int fd, int how), (fd, how))
WRAP(ssize_t, splice, ENOMEM, true,
     (int in, loff_t *oi, int out, loff_t *oo, size_t n, unsigned f),
     (in, oi, out, oo, n, f))

/* The resolver reports its own codes, not errno. */
int __real_getaddrinfo(const char *h, const char *s, const struct addrinfo *hi,
		       struct addrinfo **res);
int __wrap_getaddrinfo(const char *h, const char *s, const struct addrinfo *hi,
		       struct addrinfo **res);
int __wrap_getaddrinfo(const char *h, const char *s, const struct addrinfo *hi,
		       struct addrinfo **res)
{
	if (should_fail("getaddrinfo", EAI_MEMORY, false) != 0)
		return EAI_MEMORY;
	return __real_getaddrinfo(h, s, hi, res);
}

int __real_getnameinfo(const struct sockaddr *a, socklen_t l, char *h,
		       socklen_t hl, char *s, socklen_t sl, int f);
int __wrap_getnameinfo(const struct sockaddr *a, socklen_t l, char *h,
		       socklen_t hl, char *s, socklen_t sl, int f);
int __wrap_getnameinfo(const struct sockaddr *a, socklen_t l, char *h,
		       socklen_t hl, char *s, socklen_t sl, int f)
{
	if (should_fail("getnameinfo", EAI_MEMORY, false) != 0)
		return EAI_MEMORY;
	return __real_getnameinfo(a, l, h, hl, s, sl, f);
}

/* pthread_create returns its error instead of setting errno. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg)
{
	if (should_fail("pthread_create", EAGAIN, false) != 0)
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}
