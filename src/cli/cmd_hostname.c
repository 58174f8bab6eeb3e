/* cmd_hostname.c - `sockit hostname [--fqdn]`. */
#include "cli.h"
#include "json.h"

#include <string.h>

static int run(int argc, char **argv)
{
	bool fqdn = false, json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fqdn") == 0 || strcmp(argv[i], "-f") == 0)
			fqdn = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return cli_usage_error("hostname", "unexpected '%s'",
					       argv[i]);
	}
	if (json)
		cli_json_errors(stdout);
	char name[SKT_HOST_MAX + 1];
	int rc = fqdn ? skt_fqdn(name, sizeof name)
		      : skt_hostname(name, sizeof name);
	if (rc < 0)
		return cli_fail("hostname", fqdn ? "fqdn" : "hostname", rc);
	if (!json) {
		printf("%s\n", name);
		return CLI_OK;
	}
	cli_json j;
	cli_json_begin(&j, stdout, "hostname");
	cli_json_text(&j, "name", name);
	cli_json_bool(&j, "fqdn", fqdn);
	cli_json_end(&j);
	return CLI_OK;
}

const cli_cmd cli_cmd_hostname = {
	.name = "hostname",
	.summary = "print this host's name",
	.usage =
		"usage: sockit hostname [--fqdn] [--json]\n"
		"  --fqdn     the fully qualified name (may ask the resolver)\n"
		"  --json     one JSON object (docs/json.md)\n",
	.run = run,
};
