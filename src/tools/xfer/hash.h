/* hash.h - the hashes of sockit send/recv (docs/transfer.md): a chunk's
 * hash in one call, and the chain that makes roots and resumes cheap. */
#ifndef SOCKIT_TOOLS_XFER_HASH_H
#define SOCKIT_TOOLS_XFER_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "tools/xfer/wire.h"

/* out = H(p[0..n)) for alg (XF_ALG_*), xf_alg_hash_len(alg) bytes; none
 * writes nothing. Returns 0, or -1 when OpenSSL fails. */
int xf_hash(int alg, const void *p, size_t n, uint8_t out[XF_HASH_MAX]);
/* c = H(c || h): the next link of a chain (c and h of the alg's length).
 * Returns 0 or -1. */
int xf_chain(int alg, uint8_t c[XF_HASH_MAX], const uint8_t h[XF_HASH_MAX]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void xf_hex(const uint8_t *p, size_t n, char *out);

#endif
