/* internal.h - helpers shared by the library's modules; not installed.
 * Names here are skt__ (double underscore): visible across files, not API. */
#ifndef SOCKIT_INTERNAL_H
#define SOCKIT_INTERNAL_H

#include "sockit/sockit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
ssize_t skt__send_by(int fd, const void *buf, size_t len, const skt_addr *to,
		     int64_t deadline);
ssize_t skt__recv_by(int fd, void *buf, size_t cap, int flags,
		     int64_t deadline);

/* Copy src into dst of size cap with a terminating NUL; returns SKT_ETOOBIG
 * (dst untouched apart from nothing) when it does not fit. */
int skt__strlcpy(char *dst, const char *src, size_t cap);

#define SKT__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
