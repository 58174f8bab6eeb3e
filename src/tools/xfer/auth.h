/* auth.h - sockit send/recv --secret (docs/transfer.md, "Pre-shared
 * secret"): both ends prove they hold the secret (HMAC-SHA256 over fresh
 * nonces), then every byte each end sends is MACed, and the MAC of
 * everything so far is checked at each checkpoint. It authenticates; it
 * does not encrypt. */
#ifndef SOCKIT_TOOLS_XFER_AUTH_H
#define SOCKIT_TOOLS_XFER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tools/xfer/xfer.h"

typedef struct xf_auth {
	uint8_t k[XF_AUTH_LEN]; /* the session key */
	EVP_MAC_CTX *tx, *rx;   /* what we sent, what we read */
} xf_auth;

/* Derive the session key from secret and the two nonces, and start the
 * two transcript MACs (sender: tx is the sender's direction). 0 or -1. */
int xf_auth_init(xf_auth *a, const uint8_t *secret, size_t n,
		 const uint8_t ns[XF_AUTH_LEN], const uint8_t nr[XF_AUTH_LEN],
		 bool sender);
void xf_auth_free(xf_auth *a);
/* The proof of the sender's (or the receiver's) end. */
void xf_auth_proof(const xf_auth *a, bool sender, uint8_t out[XF_AUTH_LEN]);
/* The MAC of everything through c so far (c goes on). 0 or -1. */
int xf_auth_mark(EVP_MAC_CTX *c, uint8_t out[XF_AUTH_LEN]);
/* Compare in constant time: true when equal. */
bool xf_auth_equal(const uint8_t *a, const uint8_t *b);
/* Fresh random bytes. 0 or -1. */
int xf_auth_nonce(uint8_t out[XF_AUTH_LEN]);

#endif
