/* hash.c - XXH3-128 (libxxhash, canonical big-endian bytes, so both ends
 * agree whatever their byte order) and SHA-256 (OpenSSL EVP: it picks the
 * SHA extensions or AVX2 code the CPU has). */
#include "tools/xfer/hash.h"

#include <openssl/evp.h>
#include <string.h>
#include <xxhash.h>

int xf_hash(int alg, const void *p, size_t n, uint8_t out[XF_HASH_MAX])
{
	switch (alg) {
	case XF_ALG_NONE:
		return 0;
	case XF_ALG_XXH3: {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
		memcpy(out, c.digest, sizeof(c.digest));
		return 0;
	}
	case XF_ALG_SHA256: {
		unsigned len = 0;
		return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
				       len == 32
			       ? 0
			       : -1;
	}
	}
	return -1;
}

int xf_chain(int alg, uint8_t c[XF_HASH_MAX], const uint8_t h[XF_HASH_MAX])
{
	int hl = xf_alg_hash_len(alg);
	if (hl <= 0)
		return hl;
	uint8_t both[2 * XF_HASH_MAX];
	memcpy(both, c, (size_t)hl);
	memcpy(both + hl, h, (size_t)hl);
	return xf_hash(alg, both, 2 * (size_t)hl, c);
}

void xf_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
