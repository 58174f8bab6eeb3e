/* cmd_hostname.c - `sockit hostname [--fqdn]`. */
#include "cli.h"

#include <string.h>

static int run(int argc, char **argv)
{
	bool fqdn = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fqdn") == 0 || strcmp(argv[i], "-f") == 0)
			fqdn = true;
		else
			return cli_usage_error("hostname", "unexpected '%s'",
					       argv[i]);
	}
	char name[SKT_HOST_MAX + 1];
	int rc = fqdn ? skt_fqdn(name, sizeof name)
		      : skt_hostname(name, sizeof name);
	if (rc < 0)
		return cli_fail("hostname", fqdn ? "fqdn" : "hostname", rc);
	printf("%s\n", name);
	return CLI_OK;
}

const cli_cmd cli_cmd_hostname = {
	.name = "hostname",
	.summary = "print this host's name",
	.usage =
		"usage: sockit hostname [--fqdn]\n"
		"  --fqdn     the fully qualified name (may ask the resolver)\n",
	.run = run,
};
