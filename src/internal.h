/* internal.h - helpers shared by the library's modules; not installed.
 * Names here are skt__ (double underscore): visible across files, not API. */
#ifndef SOCKIT_INTERNAL_H
#define SOCKIT_INTERNAL_H

#include "sockit/core.h"
#include "sockit/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic clock in milliseconds. */
int64_t skt__now_ms(void);

/* A deadline is an absolute skt__now_ms() value, or -1 for "never".
 * skt__deadline(timeout_ms) turns a per-call timeout (-1 block, 0 poll,
 * > 0 milliseconds) into one (0 means "do not block", never "expired");
 * skt__remaining() gives the poll() timeout left
 * (0 once expired, -1 for never). */
int64_t skt__deadline(int timeout_ms);
int skt__remaining(int64_t deadline);

/* Wait until fd is ready for events (POLLIN/POLLOUT) or the deadline passes.
 * Returns 0 when ready (or an error/hangup is pending on fd, which the next
 * syscall will report), SKT_ETIMEDOUT when the deadline passed, SKT_EAGAIN
 * when the deadline is 0 (non-blocking call), or -errno. EINTR is retried
 * with the remaining time. */
int skt__wait(int fd, short events, int64_t deadline);

/* One send (sendto when to is not NULL) or one recv (extra flags such as
 * MSG_PEEK), with MSG_NOSIGNAL/MSG_DONTWAIT, waiting for readiness against
 * the caller's deadline rather than a fresh timeout per segment. Return the
 * count (recv: 0 at end of stream) or an error. EINTR is retried. */
struct skt_addr; /* sockit/addr.h; this header serves core and err too */
ssize_t skt__send_by(int fd, const void *buf, size_t len,
		     const struct skt_addr *to, int64_t deadline);
ssize_t skt__recv_by(int fd, void *buf, size_t cap, int flags,
		     int64_t deadline);

/* Copy src into dst of size cap with a terminating NUL; returns SKT_ETOOBIG
 * (dst untouched apart from nothing) when it does not fit. */
int skt__strlcpy(char *dst, const char *src, size_t cap);

#define SKT__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Happy Eyeballs' parts for the loop (src/sock/connect.c), so that the
 * loop races addresses exactly as skt_connect does. */
typedef struct skt_addr skt_addr;
/* in's n addresses in RFC 8305 section 4 order, those family (AF_UNSPEC:
 * any) and source (NULL: any) rule out left out; returns how many are in
 * out (room for n). */
size_t skt__connect_order(const skt_addr *in, size_t n, int family,
			  const skt_addr *source, skt_addr *out);
/* A non-blocking TCP socket bound to source (NULL: none) with its
 * connect to a started: the fd (connected or in progress) or an error. */
int skt__connect_start(const skt_addr *a, const skt_addr *source);
/* The default Connection Attempt Delay (RFC 8305 section 5). */
#define SKT__ATTEMPT_DELAY_MS 250

#endif
