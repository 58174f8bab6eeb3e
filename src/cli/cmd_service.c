/* cmd_service.c - `sockit service NAME|PORT [-u]`: the services database
 * (/etc/services) both ways, like `getent services`. */
#include "cmds.h"

#include <string.h>

int cmd_service_parse(int argc, char **argv, struct service_opts *o)
{
	static const struct option longopts[] = {
		{"udp", no_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct service_opts){0};
	cli_args a;
	cli_args_init(&a, "service", argc, argv, "u", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0)
		o->udp = true; /* 'u' */
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next != 1)
		return cli_usage_error("service", "expected one NAME or PORT");
	o->query = argv[a.next];
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct service_opts o;
	int rc = cmd_service_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	const char *q = o.query;
	int type = o.udp ? SOCK_DGRAM : SOCK_STREAM;
	const char *proto = o.udp ? "udp" : "tcp";

	int port;
	if (q[0] >= '0' && q[0] <= '9') {
		port = skt_port_parse(q, 0);
		if (port < 0)
			return cli_usage_error("service", "invalid port '%s'", q);
	} else {
		port = skt_service_port(q, type);
		if (port < 0) {
			fprintf(stderr, "sockit: service: %s: unknown service (not "
				"a name in /etc/services for %s)\n", q, proto);
			return CLI_FAIL;
		}
	}
	char name[SKT_SERVICE_MAX + 1];
	rc = skt_service_name((uint16_t)port, type, name, sizeof name);
	if (rc < 0) {
		fprintf(stderr, "sockit: service: %s: no name in /etc/services "
			"for port %d/%s\n", q, port, proto);
		return CLI_FAIL;
	}
	printf("%s %d/%s\n", name, port, proto);
	return CLI_OK;
}

const cli_cmd cli_cmd_service = {
	.name = "service",
	.summary = "service name <-> port",
	.usage =
		"usage: sockit service [-u] NAME|PORT\n"
		"  `http` -> `http 80/tcp`; `53 -u` -> `domain 53/udp`.\n"
		"  -u, --udp  UDP instead of TCP\n",
	.run = run,
};
