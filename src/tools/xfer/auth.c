/* auth.c - the keys and MACs of --secret (auth.h), with OpenSSL's HMAC.
 *
 *   K  = HMAC-SHA256(secret, "sockit-xfer-v1 key" || Ns || Nr)
 *   Ps = HMAC-SHA256(K, "sockit-xfer-v1 sender proof")
 *   Pr = HMAC-SHA256(K, "sockit-xfer-v1 receiver proof")
 *   Ks = HMAC-SHA256(K, "sockit-xfer-v1 sender mac"), Kr likewise
 * and a MAC checkpoint is HMAC-SHA256(Ks or Kr, every byte that end sent
 * after the proofs, up to the checkpoint's frame). */
#include "tools/xfer/auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#define LABEL "sockit-xfer-v1 "

static int hmac(const uint8_t *key, size_t klen, const void *a, size_t alen,
		const void *b, size_t blen, uint8_t out[XF_AUTH_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(
				  OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			  OSSL_PARAM_construct_end()};
	size_t n = 0;
	int ok = c != NULL && EVP_MAC_init(c, key, klen, p) == 1 &&
		 EVP_MAC_update(c, a, alen) == 1 &&
		 (blen == 0 || EVP_MAC_update(c, b, blen) == 1) &&
		 EVP_MAC_final(c, out, &n, XF_AUTH_LEN) == 1 &&
		 n == XF_AUTH_LEN;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

static EVP_MAC_CTX *mac_start(const uint8_t k[XF_AUTH_LEN], const char *what)
{
	uint8_t key[XF_AUTH_LEN];
	if (hmac(k, XF_AUTH_LEN, what, strlen(what), NULL, 0, key) < 0)
		return NULL;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context holds its own reference */
	OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(
				  OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			  OSSL_PARAM_construct_end()};
	if (c != NULL && EVP_MAC_init(c, key, sizeof(key), p) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return c;
}

int xf_auth_init(xf_auth *a, const uint8_t *secret, size_t n,
		 const uint8_t ns[XF_AUTH_LEN], const uint8_t nr[XF_AUTH_LEN],
		 bool sender)
{
	*a = (xf_auth){0};
	uint8_t in[sizeof(LABEL "key") - 1 + 2 * XF_AUTH_LEN];
	size_t l = sizeof(LABEL "key") - 1;
	memcpy(in, LABEL "key", l);
	memcpy(in + l, ns, XF_AUTH_LEN);
	memcpy(in + l + XF_AUTH_LEN, nr, XF_AUTH_LEN);
	if (hmac(secret, n, in, sizeof(in), NULL, 0, a->k) < 0)
		return -1;
	EVP_MAC_CTX *s = mac_start(a->k, LABEL "sender mac");
	EVP_MAC_CTX *r = mac_start(a->k, LABEL "receiver mac");
	a->tx = sender ? s : r;
	a->rx = sender ? r : s;
	if (s == NULL || r == NULL) {
		xf_auth_free(a);
		return -1;
	}
	return 0;
}

void xf_auth_free(xf_auth *a)
{
	EVP_MAC_CTX_free(a->tx);
	EVP_MAC_CTX_free(a->rx);
	OPENSSL_cleanse(a, sizeof(*a));
}

void xf_auth_proof(const xf_auth *a, bool sender, uint8_t out[XF_AUTH_LEN])
{
	const char *what =
		sender ? LABEL "sender proof" : LABEL "receiver proof";
	if (hmac(a->k, XF_AUTH_LEN, what, strlen(what), NULL, 0, out) < 0)
		memset(out, 0, XF_AUTH_LEN); /* matches no real proof */
}

int xf_auth_mark(EVP_MAC_CTX *c, uint8_t out[XF_AUTH_LEN])
{
	EVP_MAC_CTX *d = EVP_MAC_CTX_dup(c);
	size_t n = 0;
	int ok = d != NULL && EVP_MAC_final(d, out, &n, XF_AUTH_LEN) == 1 &&
		 n == XF_AUTH_LEN;
	EVP_MAC_CTX_free(d);
	return ok ? 0 : -1;
}

bool xf_auth_equal(const uint8_t *a, const uint8_t *b)
{
	return CRYPTO_memcmp(a, b, XF_AUTH_LEN) == 0;
}

int xf_auth_nonce(uint8_t out[XF_AUTH_LEN])
{
	return RAND_bytes(out, XF_AUTH_LEN) == 1 ? 0 : -1;
}
