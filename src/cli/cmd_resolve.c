/* cmd_resolve.c - `sockit resolve NAME|ADDRESS...`: forward and reverse
 * lookup, like `getent ahosts` and `getent hosts ADDRESS`, of each name in
 * turn; one that fails is reported and the others still printed. */
#include "cmds.h"
#include "json.h"

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
		case '4':
			o->v4 = true;
			break;
		case '6':
			o->v6 = true;
			break;
		default:
			o->json = true;
			break; /* 'j' */
		}
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next < 1)
		return cli_usage_error("resolve", "expected NAME or ADDRESS");
	o->queries = argv + a.next;
	o->nqueries = argc - a.next;
	o->query = o->queries[0];
	return validate(o);
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static int reverse(const struct resolve_opts *o, const char *query,
		   const skt_addr *a)
{
	char name[SKT_HOST_MAX + 1];
	int rc = skt_resolve_reverse(a, name, sizeof name, 0);
	if (rc < 0)
		return cli_fail("resolve", query, rc);
	if (o->json) {
		cli_json j;
		cli_json_begin(&j, stdout, "name");
		cli_json_text(&j, "address", query);
		cli_json_text(&j, "family", family_name(skt_addr_family(a)));
		cli_json_text(&j, "name", name);
		cli_json_end(&j);
	} else {
		printf("%s %s\n", query, name);
	}
	return CLI_OK;
}

static int forward(const struct resolve_opts *o, const char *query)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, query, NULL, o->family, SOCK_STREAM,
			     SKT_RESOLVE_CANON);
	if (rc < 0)
		return cli_fail("resolve", query, rc);
	const char *canon = l.canonname != NULL ? l.canonname : query;
	for (size_t i = 0; i < l.n; i++) {
		char host[SKT_ADDRSTRLEN];
		skt_addr_format_host(&l.addrs[i], host, sizeof host);
		int fam = skt_addr_family(&l.addrs[i]);
		if (o->json) {
			cli_json j;
			cli_json_begin(&j, stdout, "address");
			cli_json_text(&j, "name", query);
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
	int rc = cmd_resolve_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	rc = CLI_OK;
	for (int i = 0; i < o.nqueries; i++) {
		const char *q = o.queries[i];
		skt_addr a;
		/* A literal address asks for its name; anything else for
		 * addresses. */
		int r = skt_addr_from_ip(&a, q, 0) == 0 ? reverse(&o, q, &a)
							: forward(&o, q);
		if (r != CLI_OK)
			rc = r;
		/* Each name's lines leave before the next lookup blocks. */
		cli_flush(stdout);
	}
	return rc;
}

const cli_cmd cli_cmd_resolve = {
	.name = "resolve",
	.summary = "look up a name's addresses, or an address's name",
	.usage = "usage: sockit resolve [-4|-6] [--json] NAME|ADDRESS...\n"
		 "  Print every address of NAME in the order the system would "
		 "try\n"
		 "  them, with family and canonical name; for an ADDRESS, its "
		 "name.\n"
		 "  Several are looked up in turn; exit 1 if any failed.\n"
		 "  -4, -6     only IPv4 / only IPv6 addresses\n"
		 "  --json     one JSON object per line (docs/json.md)\n",
	.run = run,
};
