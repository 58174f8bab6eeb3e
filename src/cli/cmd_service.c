/* cmd_service.c - `sockit service NAME|PORT [-u]`: the services database
 * (/etc/services) both ways, like `getent services`. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static int run(int argc, char **argv)
{
	bool udp = false;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt(argc, argv, "u")) != -1) {
		if (ch != 'u')
			return cli_usage_error("service", "unknown option '%s'",
					       argv[optind - 1]);
		udp = true;
	}
	if (argc - optind != 1)
		return cli_usage_error("service", "expected one NAME or PORT");
	const char *q = argv[optind];
	int type = udp ? SOCK_DGRAM : SOCK_STREAM;
	const char *proto = udp ? "udp" : "tcp";

	int port;
	if (q[0] >= '0' && q[0] <= '9') {
		port = skt_port_parse(q, 0);
		if (port < 0)
			return cli_usage_error("service", "invalid port '%s'", q);
	} else {
		port = skt_service_port(q, type);
		if (port < 0)
			return cli_fail("service", q, port);
	}
	char name[SKT_SERVICE_MAX + 1];
	int rc = skt_service_name((uint16_t)port, type, name, sizeof name);
	if (rc < 0)
		return cli_fail("service", q, rc);
	printf("%s %d/%s\n", name, port, proto);
	return CLI_OK;
}

const cli_cmd cli_cmd_service = {
	.name = "service",
	.summary = "service name <-> port",
	.usage =
		"usage: sockit service [-u] NAME|PORT\n"
		"  `http` -> `http 80/tcp`; `53 -u` -> `domain 53/udp`.\n"
		"  -u         UDP instead of TCP\n",
	.run = run,
};
