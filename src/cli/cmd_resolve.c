/* cmd_resolve.c - `sockit resolve NAME|ADDRESS`: forward and reverse
 * lookup, like `getent ahosts` and `getent hosts ADDRESS`. */
#include "cmds.h"

#include <string.h>

/* Every conflict, in one place. */
static int validate(struct resolve_opts *o)
{
	return cli_family("resolve", o->v4, o->v6, &o->family);
}

int cmd_resolve_parse(int argc, char **argv, struct resolve_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct resolve_opts){.family = AF_UNSPEC};
	cli_args a;
	cli_args_init(&a, "resolve", argc, argv, "46", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		switch (ch) {
		case '4': o->v4 = true; break;
		case '6': o->v6 = true; break;
		default: o->json = true; break; /* 'j' */
		}
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next != 1)
		return cli_usage_error("resolve", "expected one NAME or ADDRESS");
	o->query = argv[a.next];
	return validate(o);
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
		fputs("{\"address\":", stdout);
		cli_json_str(stdout, o->query);
		fputs(",\"name\":", stdout);
		cli_json_str(stdout, name);
		fputs("}\n", stdout);
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
			fputs("{\"name\":", stdout);
			cli_json_str(stdout, o->query);
			fputs(",\"address\":", stdout);
			cli_json_str(stdout, host);
			printf(",\"family\":\"%s\",\"canonical\":", family_name(fam));
			cli_json_str(stdout, canon);
			fputs("}\n", stdout);
		} else {
			printf("%s %s %s\n", host, family_name(fam), canon);
		}
	}
	skt_addrlist_free(&l);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct resolve_opts o;
	int rc = cmd_resolve_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
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
		"  --json     one JSON object per line\n",
	.run = run,
};
