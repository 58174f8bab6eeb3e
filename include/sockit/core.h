/* sockit/core.h - library-wide settings: version, timeouts, allocator hook. */
#ifndef SOCKIT_CORE_H
#define SOCKIT_CORE_H

#include "sockit/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKT_VERSION_MAJOR  0
#define SKT_VERSION_MINOR  1
#define SKT_VERSION_PATCH  0
#define SKT_VERSION_STRING "0.1.0"

/* The version the library was built as, e.g. "0.1.0". */
SKT_EXTERN const char *skt_version(void);

/* Timeouts, as in Python's socket.settimeout(): every blocking call takes an
 * int timeout_ms that is one of
 *   SKT_TIMEOUT_NONE (-1)  block until done,
 *   0                      never block: SKT_EAGAIN when not ready,
 *   > 0                    bound the whole call (a deadline is taken at
 *                          entry, so a send-all of many chunks or a
 *                          read-exact of many segments also ends in time),
 *                          SKT_ETIMEDOUT when it passes.
 * Every socket that sockit creates is non-blocking and close-on-exec; the
 * blocking behaviour is provided by poll() inside each call. */
#define SKT_TIMEOUT_NONE (-1)

/* Replace the allocator used for every heap allocation the library makes.
 * All three must be given (or all NULL to restore the C library's). Not
 * thread-safe: call it before any other sockit function. Memory allocated
 * with one allocator must not be freed after switching to another. */
typedef void *(*skt_malloc_fn)(size_t);
typedef void *(*skt_realloc_fn)(void *, size_t);
typedef void (*skt_free_fn)(void *);
SKT_EXTERN int skt_set_allocator(skt_malloc_fn m, skt_realloc_fn r,
				 skt_free_fn f);

/* Allocate through the hook above, as the library itself does, so that a
 * program built on libsockit (the sockit command's tools, a test that
 * counts or fails allocations) shares one accounting. skt_malloc(0)
 * returns a unique pointer; skt_calloc checks n * size for overflow and
 * zeroes; skt_realloc behaves like realloc(3). NULL when out of memory. */
SKT_EXTERN void *skt_malloc(size_t n);
SKT_EXTERN void *skt_calloc(size_t n, size_t size);
SKT_EXTERN void *skt_realloc(void *p, size_t n);

/* Free memory that a sockit function returned to the caller (a received
 * frame, for example) or that skt_malloc gave. skt_free(NULL) does
 * nothing. */
SKT_EXTERN void skt_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
