/* cmd_check.c - `sockit check HOST PORT...`: the tutorials' connect_ex
 * port check, for a few ports, with the reason for each answer. The
 * probing is the scanner's (skt_scan_collect): one code path for one port
 * or sixty-five thousand, self-connect detection included. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The tutorials' socket.settimeout(2) before connect_ex. */
#define CHECK_TIMEOUT_DEFAULT_MS 2000

struct check_opts {
	int family;
	bool json;
	int timeout_ms;
	const char *host;
	int nports;
	uint16_t *ports;   /* as given, duplicates and order kept */
};

/* A port number, or a TCP service name ("http"). */
static int port_arg(const char *text, uint16_t *port)
{
	bool digits = strspn(text, "0123456789") == strlen(text);
	int p = digits ? skt_port_parse(text, 0) :
			 skt_service_port(text, SOCK_STREAM);
	if (p <= 0 && digits)
		return cli_usage_error("check", "port '%s': %s (1-65535)", text,
				       skt_strerror(SKT_EBADPORT));
	if (p <= 0)
		return cli_usage_error("check", "port '%s': not a number or a "
				       "known TCP service", text);
	*port = (uint16_t)p;
	return CLI_OK;
}

static int timeout_ms_arg(const char *text, int *ms)
{
	size_t n = strspn(text, "0123456789");
	long v = n > 0 && n <= 9 && text[n] == '\0' ? strtol(text, NULL, 10) : 0;
	if (v < 1 || v > 86400000)
		return cli_usage_error("check", "--timeout '%s': want 1 to "
				       "86400000 milliseconds", text);
	*ms = (int)v;
	return CLI_OK;
}

static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	bool v4 = false, v6 = false, w = false, t = false;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":46w:", longopts, NULL)) != -1) {
		switch (ch) {
		case '4': v4 = true; break;
		case '6': v6 = true; break;
		case 'j': o->json = true; break;
		case 'w':
			w = true;
			if (cli_parse_seconds(optarg, &o->timeout_ms) < 0 ||
			    o->timeout_ms == 0)
				return cli_usage_error("check", "-w '%s': want "
						       "seconds, 0.001 to 86400",
						       optarg);
			break;
		case 't':
			t = true;
			if (timeout_ms_arg(optarg, &o->timeout_ms) != CLI_OK)
				return CLI_USAGE;
			break;
		case ':':
			return cli_usage_error("check", "'%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("check", "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (v4 && v6)
		return cli_usage_error("check", "-4 and -6 conflict");
	if (w && t)
		return cli_usage_error("check", "-w and --timeout conflict");
	o->family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
	return CLI_OK;
}

static int parse(int argc, char **argv, struct check_opts *o)
{
	*o = (struct check_opts){.timeout_ms = CHECK_TIMEOUT_DEFAULT_MS};
	int rc = parse_opts(argc, argv, o);
	if (rc != CLI_OK)
		return rc;
	if (argc - optind < 2)
		return cli_usage_error("check", "expected HOST PORT [PORT...]");
	o->host = argv[optind++];
	o->nports = argc - optind;
	o->ports = calloc((size_t)o->nports, sizeof(*o->ports));
	if (o->ports == NULL)
		return cli_fail("check", "ports", SKT_ENOMEM);
	for (int i = 0; i < o->nports; i++) {
		rc = port_arg(argv[optind + i], &o->ports[i]);
		if (rc != CLI_OK) {
			free(o->ports);
			return rc;
		}
	}
	return CLI_OK;
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
	skt_addrlist_fini(&l);

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
	int rc = parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	rc = check(&o);
	free(o.ports);
	return rc;
}

const cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "is a TCP port open? closed or filtered, and why",
	.usage =
		"usage: sockit check [-4|-6] [-w SECS | --timeout MS] [--json]\n"
		"                    HOST PORT [PORT...]\n"
		"  Try a TCP connect to each PORT (a number or a service name) of\n"
		"  HOST's first address, as Python's connect_ex does, and print it\n"
		"  as open, closed (refused) or filtered (no answer in time), with\n"
		"  the reason. Exit 0 only when every port is open, else 1.\n"
		"  -4, -6        only IPv4 / only IPv6 addresses of HOST\n"
		"  -w SECS       wait at most SECS for each port (default 2)\n"
		"  --timeout MS  the same in milliseconds\n"
		"  --json        one JSON object per port\n",
	.run = run,
};
