/* cli_proxy.h - --proxy URL for `sockit connect` and `sockit http`: the
 * URL checked as an option, and the proxy's answer said the same way by
 * every command (src/tools/proxy/ does the talking). */
#ifndef SOCKIT_CLI_PROXY_H
#define SOCKIT_CLI_PROXY_H

#include "tools/proxy/proxy.h"

/* Parse --proxy's text into u: a usage error naming what is wrong, also
 * for a proxy host that is neither numeric nor "localhost" (the proxy's
 * own address is never looked up in the DNS). Returns CLI_OK or
 * CLI_USAGE. */
int cli_proxy_parse(const char *cmd, const char *text, proxy_url *u);
/* -v: "sockit: CMD: proxy socks5 127.0.0.1:1080: example.test:80:
 * succeeded (SOCKS5 reply 0), bound 127.0.0.1:4242". */
void cli_proxy_print(const char *cmd, const proxy_url *u, const proxy_client *p,
		     const char *target);
/* A failed proxy_open: "sockit: CMD: proxy 127.0.0.1:1080: connection
 * refused" when the proxy was not reached, else "sockit: CMD: proxy
 * 127.0.0.1:1080: TARGET: DETAIL". Returns CLI_FAIL. */
int cli_proxy_fail(const char *cmd, const proxy_url *u, const proxy_client *p,
		   const char *target, int err);

#endif
