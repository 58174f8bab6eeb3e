/* cmd_service.c - `sockit service NAME|PORT [-u]`: the services database
 * (/etc/services) both ways, like `getent services`. */
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <string.h>

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
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	bool udp = false, json = false;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "u", longopts, NULL)) != -1) {
		if (ch != 'u' && ch != 'j')
			return cli_usage_error("service", "unknown option '%s'",
					       argv[optind - 1]);
		udp |= ch == 'u';
		json |= ch == 'j';
	}
	if (json)
		cli_json_errors(stdout);
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
	print(name, port, proto, json);
	return CLI_OK;
}

const cli_cmd cli_cmd_service = {
	.name = "service",
	.summary = "service name <-> port",
	.usage =
		"usage: sockit service [-u] [--json] NAME|PORT\n"
		"  `http` -> `http 80/tcp`; `53 -u` -> `domain 53/udp`.\n"
		"  -u         UDP instead of TCP\n"
		"  --json     one JSON object (docs/json.md)\n",
	.run = run,
};
