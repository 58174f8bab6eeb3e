/* tls_banner.c - a certificate's subject from an open port (see
 * tls_banner.h). */
#include "tls_banner.h"

#include <stdio.h>
#include <time.h>

int tls_banner_ctx(skt_tls_ctx **out)
{
	skt_tls_opts o = {
		.role = SKT_TLS_CLIENT,
		.insecure = true,
		.no_tickets = true,
	};
	return skt_tls_ctx_new(out, &o);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tls_banner(skt_tls_ctx *ctx, const skt_addr *a, int timeout_ms,
	       char *subject, size_t cap)
{
	int64_t t0 = now_ms();
	subject[0] = '\0';
	int fd = skt_connect_one(a, SOCK_STREAM, timeout_ms);
	if (fd < 0)
		return fd;
	skt_tls *t = NULL;
	int rc = skt_tls_new(&t, ctx, fd, NULL, "");
	int left = timeout_ms - (int)(now_ms() - t0);
	if (rc == 0)
		rc = skt_tls_handshake(t, left > 1 ? left : 1);
	skt_tls_info info;
	if (rc == 0 && (rc = skt_tls_get_info(t, &info)) == 0)
		snprintf(subject, cap, "%s",
			 info.peer_cert ? info.subject : "");
	skt_tls_free(t);
	/* A reset, as the scanner closes: no TIME_WAIT left per port. */
	skt_close_abort(fd);
	return rc;
}
