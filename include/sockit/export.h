/* sockit/export.h - SKT_EXTERN, the mark of a public function.
 *
 * libsockit is built with -fvisibility=hidden, so that the skt__ names its
 * files share stay inside the shared library; SKT_EXTERN gives back default
 * visibility to each function that a public header declares (libuv's
 * UV_EXTERN). Every public header includes this one. A program that links
 * the static archive sees no difference. */
#ifndef SOCKIT_EXPORT_H
#define SOCKIT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define SKT_EXTERN __attribute__((visibility("default")))
#else
#define SKT_EXTERN
#endif

#endif
