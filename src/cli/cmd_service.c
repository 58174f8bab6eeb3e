/* cmd_service.c - `sockit service NAME|PORT [-u]`: the services database
 * (/etc/services) both ways, like `getent services`. */
#include "cmds.h"
#include "json.h"

#include <string.h>

int cmd_service_parse(int argc, char **argv, struct service_opts *o)
{
	static const struct option longopts[] = {
		{"udp", no_argument, NULL, 'u'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct service_opts){0};
	cli_args a;
	cli_args_init(&a, "service", argc, argv, "u", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		if (ch == 'u')
			o->udp = true;
		else
			o->json = true; /* 'j' */
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next != 1)
		return cli_usage_error("service", "expected one NAME or PORT");
	o->query = argv[a.next];
	return CLI_OK;
}

static void print(const char *name, int port, const char *proto, bool json)
{
	if (!json) {
		printf("%s %d/%s\n", name, port, proto);
		return;
	}
	cli_json j;
	cli_json_begin(&j, stdout, "service");
	cli_json_text(&j, "service", name);
	cli_json_int(&j, "port", port);
	cli_json_text(&j, "transport", proto);
	cli_json_end(&j);
}

static int run(int argc, char **argv)
{
	struct service_opts o;
	int rc = cmd_service_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	const char *q = o.query;
	int type = o.udp ? SOCK_DGRAM : SOCK_STREAM;
	const char *proto = o.udp ? "udp" : "tcp";

	int port;
	if (q[0] >= '0' && q[0] <= '9') {
		port = skt_port_parse(q, 0);
		if (port < 0)
			return cli_usage_error("service", "invalid port '%s'",
					       q);
	} else {
		port = skt_service_port(q, type);
		if (port < 0) {
			char why[96];
			snprintf(why, sizeof why,
				 "unknown service (not a name "
				 "in /etc/services for %s)",
				 proto);
			return cli_fail_why("service", q, port, why);
		}
	}
	char name[SKT_SERVICE_MAX + 1];
	rc = skt_service_name((uint16_t)port, type, name, sizeof name);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof why,
			 "no name in /etc/services for port "
			 "%d/%s",
			 port, proto);
		return cli_fail_why("service", q, rc, why);
	}
	print(name, port, proto, o.json);
	return CLI_OK;
}

const cli_cmd cli_cmd_service = {
	.name = "service",
	.summary = "service name <-> port",
	.usage = "usage: sockit service [-u] [--json] NAME|PORT\n"
		 "  `http` -> `http 80/tcp`; `53 -u` -> `domain 53/udp`.\n"
		 "  -u, --udp  UDP instead of TCP\n"
		 "  --json     one JSON object (docs/json.md)\n",
	.run = run,
};
