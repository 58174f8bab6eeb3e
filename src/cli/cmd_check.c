/* cmd_check.c - `sockit check HOST PORT...`: the tutorials' connect_ex
 * port check, for a few ports, with the reason for each answer. The
 * probing is the scanner's (skt_scan_collect): one code path for one port
 * or sixty-five thousand, self-connect detection included. */
#include "cmds.h"

#include <stdlib.h>
#include <string.h>

/* The tutorials' socket.settimeout(2) before connect_ex. */
#define CHECK_TIMEOUT_DEFAULT_MS 2000

static int parse_opts(cli_args *a, struct check_opts *o)
{
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(a)) >= 0) {
		switch (ch) {
		case '4': o->v4 = true; break;
		case '6': o->v6 = true; break;
		case 'j': o->json = true; break;
		case 'w':
			o->w_given = true;
			rc = cli_opt_duration("check", "-w", a->arg, 1000, 1,
					      86400000, &o->timeout_ms);
			break;
		default: /* 't' */
			o->timeout_given = true;
			rc = cli_opt_duration("check", "--timeout", a->arg, 1, 1,
					      86400000, &o->timeout_ms);
		}
	}
	return rc != CLI_OK ? CLI_USAGE : cli_args_status(ch);
}

/* Every conflict, in one place. */
static int validate(struct check_opts *o)
{
	if (o->w_given && o->timeout_given)
		return cli_usage_error("check", "-w and --timeout conflict");
	return cli_family("check", o->v4, o->v6, &o->family);
}

/* HOST PORT [PORT...], or HOST:PORT [PORT...]: one target parser for
 * every command (cli_parse_target), then the ports after it. */
static int parse_target(int nargs, char **args, struct check_opts *o)
{
	if (nargs == 0)
		return cli_usage_error("check", "expected HOST PORT [PORT...]");
	bool joined = nargs == 1 ||
		      skt_endpoint_parse(&o->ep, args[0], 0) == 0;
	int rc = joined ? cli_parse_target("check", 1, args, 0, SOCK_STREAM,
					   &o->ep)
			: cli_parse_host("check", args[0], &o->ep);
	if (rc != CLI_OK)
		return rc;
	if (o->ep.kind != SKT_EP_INET)
		return cli_usage_error("check", "'%s': check takes IP hosts, "
				       "not Unix sockets", args[0]);
	o->host = o->ep.host;
	o->nports = nargs - !joined;
	o->ports = calloc((size_t)o->nports, sizeof(*o->ports));
	if (o->ports == NULL)
		return cli_fail("check", "ports", SKT_ENOMEM);
	for (int i = 0; i < o->nports; i++) {
		const char *text = i == 0 && joined ? o->ep.service : args[i + !joined];
		rc = cli_opt_port("check", "port", text, SOCK_STREAM, 0,
				  &o->ports[i]);
		if (rc != CLI_OK) {
			cmd_check_free(o);
			return rc;
		}
	}
	return CLI_OK;
}

int cmd_check_parse(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct check_opts){.timeout_ms = CHECK_TIMEOUT_DEFAULT_MS};
	cli_args a;
	cli_args_init(&a, "check", argc, argv, "46w:", longopts);
	int rc = parse_opts(&a, o);
	if (rc == CLI_OK)
		rc = validate(o);
	if (rc != CLI_OK)
		return rc;
	return parse_target(argc - a.next, argv + a.next, o);
}

void cmd_check_free(struct check_opts *o)
{
	free(o->ports);
	o->ports = NULL;
}

static void print_one(const struct check_opts *o, const skt_addr *target,
		      const skt_scan_result *r)
{
	skt_addr a = *target;
	skt_addr_set_port(&a, r->port);
	char where[SKT_ADDRSTRLEN];
	skt_addr_format(&a, where, sizeof(where));
	const char *state = skt_port_state_name(r->state);
	if (!o->json) {
		if (r->state == SKT_PORT_OPEN)
			printf("%s %s (%s in %.1f ms)\n", where, state,
			       skt_scan_reason(r), (double)r->rtt_us / 1000);
		else
			printf("%s %s (%s)\n", where, state, skt_scan_reason(r));
		return;
	}
	char host[SKT_ADDRSTRLEN];
	skt_addr_format_host(target, host, sizeof(host));
	fputs("{\"host\":", stdout);
	cli_json_str(stdout, o->host);
	printf(",\"address\":\"%s\",\"port\":%u,\"proto\":\"tcp\","
	       "\"state\":\"%s\",\"reason\":", host, r->port, state);
	cli_json_str(stdout, skt_scan_reason(r));
	printf(",\"error\":%s%s%s,\"rtt_ms\":%.3f}\n", r->err ? "\"" : "",
	       r->err ? skt_errname(r->err) : "null", r->err ? "\"" : "",
	       (double)r->rtt_us / 1000);
}

/* Resolve, scan the distinct ports, print in the order given. */
static int check(const struct check_opts *o)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->host, NULL, o->family, SOCK_STREAM, 0);
	if (rc < 0)
		return cli_fail("check", o->host, rc);
	skt_addr target = l.addrs[0];
	skt_addrlist_free(&l);

	skt_portset set;
	skt_portset_clear(&set);
	for (int i = 0; i < o->nports; i++)
		skt_portset_add(&set, o->ports[i]);
	skt_scan_opts so = SKT_SCAN_OPTS_INIT;
	so.timeout_ms = o->timeout_ms;
	skt_scan_result *res;
	int n = skt_scan_collect(&target, &set, &so, &res);
	if (n < 0)
		return cli_fail("check", o->host, n);
	bool all_open = true;
	for (int i = 0; i < o->nports; i++) {
		for (int k = 0; k < n; k++) {
			if (res[k].port != o->ports[i])
				continue;
			print_one(o, &target, &res[k]);
			all_open &= res[k].state == SKT_PORT_OPEN;
		}
	}
	skt_free(res);
	return all_open ? CLI_OK : CLI_FAIL;
}

static int run(int argc, char **argv)
{
	struct check_opts o;
	int rc = cmd_check_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	rc = check(&o);
	cmd_check_free(&o);
	return rc;
}

const cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "is a TCP port open? closed or filtered, and why",
	.usage =
		"usage: sockit check [-4|-6] [-w SECS | --timeout MS] [--json]\n"
		"                    HOST PORT [PORT...] | HOST:PORT [PORT...]\n"
		"  Try a TCP connect to each PORT (a number or a service name) of\n"
		"  HOST's first address, as Python's connect_ex does, and print it\n"
		"  as open, closed (refused) or filtered (no answer in time), with\n"
		"  the reason. Exit 0 only when every port is open, else 1.\n"
		"  -4, -6        only IPv4 / only IPv6 addresses of HOST\n"
		"  -w SECS       wait at most SECS for each port (default 2)\n"
		"  --timeout MS  the same in milliseconds (both take units too:\n"
		"                500ms, 2s, 1m)\n"
		"  --json        one JSON object per port\n",
	.run = run,
};
