/* cli_proxy.c - --proxy URL's parsing and messages (cli_proxy.h). */
#include "cli_proxy.h"

#include "cli.h"

#include <stdio.h>
#include <strings.h>

int cli_proxy_parse(const char *cmd, const char *text, proxy_url *u)
{
	const char *why = NULL;
	if (proxy_url_parse(u, text, &why) < 0)
		return cli_usage_error(cmd, "--proxy '%s': %s", text, why);
	skt_addr a;
	if (strcasecmp(u->host, "localhost") != 0 &&
	    skt_addr_from_ip(&a, u->host, 0) < 0)
		return cli_usage_error(cmd,
				       "--proxy '%s': the proxy's address must "
				       "be numeric or localhost",
				       text);
	return CLI_OK;
}

void cli_proxy_print(const char *cmd, const proxy_url *u, const proxy_client *p,
		     const char *target)
{
	char where[SKT_HOST_MAX + 16];
	proxy_url_where(u, where, sizeof(where));
	fprintf(stderr, "sockit: %s: proxy %s %s: %s: %s%s%s\n", cmd, u->scheme,
		where, target, p->detail, p->bound[0] ? ", bound " : "",
		p->bound);
}

int cli_proxy_fail(const char *cmd, const proxy_url *u, const proxy_client *p,
		   const char *target, int err)
{
	char what[SKT_HOST_MAX + SKT_ADDRSTRLEN + 32];
	char where[SKT_HOST_MAX + 16];
	proxy_url_where(u, where, sizeof(where));
	if (p->detail[0] == '\0') { /* the proxy not reached */
		snprintf(what, sizeof(what), "proxy %s", where);
		return cli_fail(cmd, what, err);
	}
	snprintf(what, sizeof(what), "proxy %s: %s", where, target);
	/* A timeout or an I/O error keeps the system's words, after ours. */
	if (err == SKT_ETIMEDOUT || (err > -4000 && err < 0 &&
				     err != SKT_EPROTO && err != SKT_EINVAL)) {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", p->detail,
			 skt_strerror(err));
		return cli_fail_why(cmd, what, err, why);
	}
	return cli_fail_why(cmd, what, err, p->detail);
}
