/* cmd_resolve.c - `sockit resolve NAME|ADDRESS`: forward and reverse
 * lookup, like `getent ahosts` and `getent hosts ADDRESS`. */
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <string.h>

struct resolve_opts {
	int family;
	bool json;
	const char *query;
};

static int parse(int argc, char **argv, struct resolve_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct resolve_opts){.family = AF_UNSPEC};
	bool v4 = false, v6 = false;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "46", longopts, NULL)) != -1) {
		switch (ch) {
		case '4': v4 = true; break;
		case '6': v6 = true; break;
		case 'j': o->json = true; break;
		default:
			return cli_usage_error("resolve", "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (v4 && v6)
		return cli_usage_error("resolve", "-4 and -6 conflict");
	o->family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
	if (argc - optind != 1)
		return cli_usage_error("resolve", "expected one NAME or ADDRESS");
	o->query = argv[optind];
	return CLI_OK;
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static int reverse(const struct resolve_opts *o, const skt_addr *a)
{
	char name[SKT_HOST_MAX + 1];
	int rc = skt_resolve_reverse(a, name, sizeof name, 0);
	if (rc < 0)
		return cli_fail("resolve", o->query, rc);
	if (o->json) {
		cli_json j;
		cli_json_begin(&j, stdout, "name");
		cli_json_text(&j, "address", o->query);
		cli_json_text(&j, "family", family_name(skt_addr_family(a)));
		cli_json_text(&j, "name", name);
		cli_json_end(&j);
	} else {
		printf("%s %s\n", o->query, name);
	}
	return CLI_OK;
}

static int forward(const struct resolve_opts *o)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->query, NULL, o->family, SOCK_STREAM,
			     SKT_RESOLVE_CANON);
	if (rc < 0)
		return cli_fail("resolve", o->query, rc);
	const char *canon = l.canonname != NULL ? l.canonname : o->query;
	for (size_t i = 0; i < l.n; i++) {
		char host[SKT_ADDRSTRLEN];
		skt_addr_format_host(&l.addrs[i], host, sizeof host);
		int fam = skt_addr_family(&l.addrs[i]);
		if (o->json) {
			cli_json j;
			cli_json_begin(&j, stdout, "address");
			cli_json_text(&j, "name", o->query);
			cli_json_text(&j, "address", host);
			cli_json_text(&j, "family", family_name(fam));
			cli_json_text(&j, "canonical", canon);
			cli_json_end(&j);
		} else {
			printf("%s %s %s\n", host, family_name(fam), canon);
		}
	}
	skt_addrlist_fini(&l);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct resolve_opts o;
	int rc = parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	skt_addr a;
	/* A literal address asks for its name; anything else for addresses. */
	if (skt_addr_from_ip(&a, o.query, 0) == 0)
		return reverse(&o, &a);
	return forward(&o);
}

const cli_cmd cli_cmd_resolve = {
	.name = "resolve",
	.summary = "look up a name's addresses, or an address's name",
	.usage =
		"usage: sockit resolve [-4|-6] [--json] NAME|ADDRESS\n"
		"  Print every address of NAME in the order the system would try\n"
		"  them, with family and canonical name; for an ADDRESS, its name.\n"
		"  -4, -6     only IPv4 / only IPv6 addresses\n"
		"  --json     one JSON object per line (docs/json.md)\n",
	.run = run,
};
