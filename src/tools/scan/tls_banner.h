/* tls_banner.h - the TLS part of `sockit scan --banner`: a ClientHello to
 * an open port and, when a handshake comes back, the subject of the
 * certificate the server shows. Part of the command's tools, not of
 * libsockit: the scanner (src/scan/) sits below tls in the layers, so the
 * command does this after the scanner has found the port open. */
#ifndef SOCKIT_TOOLS_TLS_BANNER_H
#define SOCKIT_TOOLS_TLS_BANNER_H

#include "sockit/sockit.h"

#include <stddef.h>

/* A client context that verifies nothing (a scan asks who a server says
 * it is, it does not trust it), no tickets. Returns 0 or an error of
 * skt_tls_ctx_new. Free with skt_tls_ctx_free. */
int tls_banner_ctx(skt_tls_ctx **out);

/* Connect to a, send a ClientHello (no SNI: a scan has an address, not a
 * name), and within timeout_ms in all put the certificate's subject (RFC
 * 2253, one line; "" when the server sent none) into subject (cap
 * bytes). Returns 0, or an error (SKT_ETIMEDOUT, SKT_ETLS: the port does
 * not speak TLS, SKT_ECONNREFUSED, ...). Nothing is left open. */
int tls_banner(skt_tls_ctx *ctx, const skt_addr *a, int timeout_ms,
	       char *subject, size_t cap);

#endif
