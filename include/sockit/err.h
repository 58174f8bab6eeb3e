/* sockit/err.h - one error model for the whole library.
 *
 * Every function that can fail returns an int or ssize_t: >= 0 is success
 * (or a count), < 0 is an error code from this file. Operating system errors
 * are -errno (SKT_ECONNREFUSED == -ECONNREFUSED); resolver errors live in
 * their own range and carry the resolver's own message; sockit's own
 * conditions (EOF before the expected bytes, frame too large, malformed
 * input, bad address syntax, TLS failures) have a third range. One table below
 * generates the enum, skt_strerror() and skt_errname(), so they never drift
 * apart.
 */
#ifndef SOCKIT_ERR_H
#define SOCKIT_ERR_H

#include "sockit/export.h"

#include <errno.h>
#include <netdb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Operating system errors a socket program meets, by name. */
#define SKT_OS_ERRNO_MAP(XX)                                                   \
	XX(EPERM, "operation not permitted")                                   \
	XX(ENOENT, "no such file or directory")                                \
	XX(EINTR, "interrupted system call")                                   \
	XX(EIO, "i/o error")                                                   \
	XX(EBADF, "bad file descriptor")                                       \
	XX(EAGAIN, "resource temporarily unavailable")                         \
	XX(ENOMEM, "not enough memory")                                        \
	XX(EACCES, "permission denied")                                        \
	XX(EFAULT, "bad address in system call argument")                      \
	XX(EBUSY, "resource busy or locked")                                   \
	XX(EEXIST, "file already exists")                                      \
	XX(ENOTDIR, "not a directory")                                         \
	XX(EINVAL, "invalid argument")                                         \
	XX(ENFILE, "file table overflow")                                      \
	XX(EMFILE, "too many open files")                                      \
	XX(ENOSPC, "no space left on device")                                  \
	XX(EPIPE, "broken pipe")                                               \
	XX(ENAMETOOLONG, "name too long")                                      \
	XX(ENOSYS, "function not implemented")                                 \
	XX(EPROTO, "protocol error")                                           \
	XX(ENOTSOCK, "socket operation on non-socket")                         \
	XX(EDESTADDRREQ, "destination address required")                       \
	XX(EMSGSIZE, "message too long")                                       \
	XX(EPROTOTYPE, "protocol wrong type for socket")                       \
	XX(ENOPROTOOPT, "protocol not available")                              \
	XX(EPROTONOSUPPORT, "protocol not supported")                          \
	XX(EOPNOTSUPP, "operation not supported on socket")                    \
	XX(EAFNOSUPPORT, "address family not supported")                       \
	XX(EADDRINUSE, "address already in use")                               \
	XX(EADDRNOTAVAIL, "address not available")                             \
	XX(ENETDOWN, "network is down")                                        \
	XX(ENETUNREACH, "network is unreachable")                              \
	XX(ECONNABORTED, "connection aborted")                                 \
	XX(ECONNRESET, "connection reset by peer")                             \
	XX(ENOBUFS, "no buffer space available")                               \
	XX(EISCONN, "socket is already connected")                             \
	XX(ENOTCONN, "socket is not connected")                                \
	XX(ESHUTDOWN, "cannot send after transport endpoint shutdown")         \
	XX(ETIMEDOUT, "timed out")                                             \
	XX(ECONNREFUSED, "connection refused")                                 \
	XX(EHOSTDOWN, "host is down")                                          \
	XX(EHOSTUNREACH, "host is unreachable")                                \
	XX(EALREADY, "connection already in progress")                         \
	XX(EINPROGRESS, "operation in progress")                               \
	XX(ECANCELED, "operation canceled")

/* Resolver (getaddrinfo/getnameinfo) errors. Their messages come from the
 * resolver itself (gai_strerror), so the table holds names only. The codes
 * are SKT_EAI_BASE minus a small index, never colliding with -errno. */
#define SKT_EAI_BASE (-3000)
#define SKT_EAI_ERRNO_MAP(XX)                                                  \
	XX(EAI_ADDRFAMILY, 1)                                                  \
	XX(EAI_AGAIN, 2)                                                       \
	XX(EAI_BADFLAGS, 3)                                                    \
	XX(EAI_FAIL, 4)                                                        \
	XX(EAI_FAMILY, 5)                                                      \
	XX(EAI_MEMORY, 6)                                                      \
	XX(EAI_NODATA, 7)                                                      \
	XX(EAI_NONAME, 8)                                                      \
	XX(EAI_SERVICE, 9)                                                     \
	XX(EAI_SOCKTYPE, 10)                                                   \
	XX(EAI_OVERFLOW, 11)

/* sockit's own conditions. */
#define SKT_OWN_ERRNO_MAP(XX)                                                  \
	XX(EOF, -4095, "end of file")                                          \
	XX(EPARTIAL, -4094,                                                    \
	   "connection closed before all expected bytes arrived")              \
	XX(ETOOBIG, -4093, "message exceeds the configured maximum")           \
	XX(EMALFORMED, -4092, "malformed input")                               \
	XX(EBADPORT, -4091, "invalid port")                                    \
	XX(EBADHOST, -4090, "invalid host")                                    \
	XX(EBADADDR, -4089, "invalid address syntax")                          \
	XX(ENOADDR, -4088, "no address to try")                                \
	XX(EUNSUPPORTED, -4087, "protocol feature not supported")              \
	XX(ETLS, -4110, "tls handshake failed")                                \
	XX(ETLSUNTRUSTED, -4111, "certificate not trusted")                    \
	XX(ETLSNAME, -4112, "certificate does not match the name")             \
	XX(ETLSEXPIRED, -4113, "certificate expired")                          \
	XX(ETLSNOTYET, -4114, "certificate not yet valid")                     \
	XX(ETLSPIN, -4115, "certificate matches no pin")                       \
	XX(ETLSVERSION, -4116, "no tls version both sides accept")             \
	XX(ETLSNOSHARED, -4117, "no cipher or application protocol in common") \
	XX(ETLSNOCERT, -4118, "peer sent no certificate")                      \
	XX(ETRUNCATED, -4119, "peer closed without close_notify (truncated)")  \
	XX(EPROXY, -4130, "the proxy refused the connection")                  \
	XX(EPROXYAUTH, -4131, "proxy authentication failed")

/* The table's expansions end in commas that clang-format cannot see. */
/* clang-format off */
typedef enum skt_errno {
#define XX(name, msg) SKT_##name = -name,
	SKT_OS_ERRNO_MAP(XX)
#undef XX
#define XX(name, idx) SKT_##name = SKT_EAI_BASE - idx,
	SKT_EAI_ERRNO_MAP(XX)
#undef XX
#define XX(name, code, msg) SKT_##name = code,
	SKT_OWN_ERRNO_MAP(XX)
#undef XX
	SKT_ERRNO_MAX_ = -4096
} skt_errno;
/* clang-format on */

/* A static, human-readable, lower-case message for err. For resolver codes it
 * is the resolver's own message. For an unknown negative code, the C library's
 * description or "unknown error". Never NULL; thread-safe. */
SKT_EXTERN const char *skt_strerror(int err);

/* The symbolic name of err, e.g. "ECONNREFUSED", "EAI_NONAME", "EOF".
 * "UNKNOWN" for a code outside every table. Never NULL; thread-safe. */
SKT_EXTERN const char *skt_errname(int err);

/* Translate a getaddrinfo()/getnameinfo() return value into a sockit code.
 * EAI_SYSTEM becomes -errno (read at the time of the call). 0 stays 0. */
SKT_EXTERN int skt_eai_to_err(int eai);

#ifdef __cplusplus
}
#endif
#endif
