/* cmd_hostname.c - `sockit hostname [--fqdn] [--json]`. */
#include "cmds.h"
#include "json.h"

#include <string.h>

int cmd_hostname_parse(int argc, char **argv, struct hostname_opts *o)
{
	static const struct option longopts[] = {
		{"fqdn", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct hostname_opts){0};
	cli_args a;
	cli_args_init(&a, "hostname", argc, argv, "f", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		if (ch == 'f')
			o->fqdn = true;
		else
			o->json = true; /* 'j' */
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (a.next < argc)
		return cli_usage_error("hostname", "unexpected '%s'",
				       argv[a.next]);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct hostname_opts o;
	int rc = cmd_hostname_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	char name[SKT_HOST_MAX + 1];
	rc = o.fqdn ? skt_fqdn(name, sizeof name)
		    : skt_hostname(name, sizeof name);
	if (rc < 0)
		return cli_fail("hostname", o.fqdn ? "fqdn" : "hostname", rc);
	if (!o.json) {
		printf("%s\n", name);
		return CLI_OK;
	}
	cli_json j;
	cli_json_begin(&j, stdout, "hostname");
	cli_json_text(&j, "name", name);
	cli_json_bool(&j, "fqdn", o.fqdn);
	cli_json_end(&j);
	return CLI_OK;
}

const cli_cmd cli_cmd_hostname = {
	.name = "hostname",
	.summary = "print this host's name",
	.usage =
		"usage: sockit hostname [-f|--fqdn] [--json]\n"
		"  -f, --fqdn the fully qualified name (may ask the resolver)\n"
		"  --json     one JSON object (docs/json.md)\n",
	.run = run,
};
