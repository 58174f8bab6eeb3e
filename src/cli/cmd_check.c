/* cmd_check.c - `sockit check HOST PORT...`: the tutorials' connect_ex
 * port check, for a few ports, with the reason for each answer. Each port
 * is tried on every address of HOST as connect tries them (Happy Eyeballs,
 * skt_connect_any): a server on 127.0.0.1 only is open for "localhost"
 * even where ::1 comes first. Ports go one after another; a port scan is
 * scan's job. */
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tutorials' socket.settimeout(2) before connect_ex. */
#define CHECK_TIMEOUT_DEFAULT_MS 2000

struct check_opts {
	int family;
	bool json;
	bool verbose;      /* -v: every address tried, on stderr */
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
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	bool v4 = false, v6 = false, w = false, t = false;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":46vw:", longopts, NULL)) != -1) {
		switch (ch) {
		case '4': v4 = true; break;
		case '6': v6 = true; break;
		case 'j': o->json = true; break;
		case 'v': o->verbose = true; break;
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

/* What one port got: the answering address (else the one whose failure
 * the connect returned, as connect's own error says), and every attempt. */
struct answer {
	skt_scan_result r;
	skt_addr addr;
	skt_connect_report rep;
};

static int64_t clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A connect to one's own ephemeral port can meet itself (TCP simultaneous
 * open): no listener, so not open, as the scanner says too. */
static bool self_connect(int fd)
{
	skt_addr me, peer;
	return skt_sock_local(fd, &me) == 0 && skt_sock_peer(fd, &peer) == 0 &&
	       skt_addr_equal(&me, &peer);
}

/* The attempt that ended last with the error connect returned. */
static const skt_addr *failed_addr(const skt_connect_report *rep, int err)
{
	const skt_attempt *last = NULL;
	for (size_t i = 0; i < rep->n; i++)
		if (rep->attempts[i].err == err &&
		    (last == NULL || rep->attempts[i].end_ms >= last->end_ms))
			last = &rep->attempts[i];
	return last != NULL ? &last->addr : NULL;
}

/* Happy Eyeballs over every address of the name, as connect does: the
 * first to answer wins. addrs get the port. */
static void check_port(const struct check_opts *o, skt_addr *addrs, size_t n,
		       uint16_t port, struct answer *a)
{
	for (size_t i = 0; i < n; i++)
		skt_addr_set_port(&addrs[i], port);
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.timeout_ms = o->timeout_ms;
	co.report = &a->rep;
	int64_t t0 = clock_us();
	int fd = skt_connect_any(addrs, n, &co);
	a->r = (skt_scan_result){.port = port, .socktype = SOCK_STREAM,
				 .tries = 1, .rtt_us = clock_us() - t0};
	a->addr = addrs[0];
	if (fd >= 0) {
		if (a->rep.winner >= 0)
			a->addr = a->rep.attempts[a->rep.winner].addr;
		a->r.self_connect = self_connect(fd);
		a->r.state = a->r.self_connect ? SKT_PORT_CLOSED : SKT_PORT_OPEN;
		skt_close_abort(fd); /* a reset: no TIME_WAIT left behind */
		return;
	}
	const skt_addr *f = failed_addr(&a->rep, fd);
	if (f != NULL)
		a->addr = *f;
	a->r.err = fd;
	/* As the scanner: a refusal is closed, silence or an unreachable
	 * (ICMP, no route) filtered. */
	a->r.state = fd == SKT_ECONNREFUSED ? SKT_PORT_CLOSED : SKT_PORT_FILTERED;
}

static void print_json(const struct check_opts *o, const struct answer *a)
{
	char service[SKT_SERVICE_MAX + 1];
	bool named = skt_service_name(a->r.port, SOCK_STREAM, service,
				      sizeof(service)) >= 0;
	cli_json j;
	cli_json_begin(&j, stdout, "port");
	cli_json_text(&j, "host", o->host);
	cli_json_addr(&j, NULL, &a->addr);
	cli_json_text(&j, "transport", "tcp");
	cli_json_text(&j, "service", named ? service : NULL);
	cli_json_text(&j, "state", skt_port_state_name(a->r.state));
	cli_json_text(&j, "reason", skt_scan_reason(&a->r));
	cli_json_error(&j, "error", a->r.err, NULL);
	cli_json_us(&j, "rtt_s", a->r.rtt_us);
	cli_json_array(&j, "attempts");
	for (size_t i = 0; i < a->rep.n; i++) {
		const skt_attempt *at = &a->rep.attempts[i];
		cli_json_object(&j, NULL);
		cli_json_addr(&j, NULL, &at->addr);
		cli_json_error(&j, "error", at->err, NULL);
		cli_json_us(&j, "start_s", at->start_ms * 1000);
		cli_json_us(&j, "end_s", at->end_ms * 1000);
		cli_json_close(&j);
	}
	cli_json_close(&j);
	cli_json_end(&j);
}

static void print_one(const struct check_opts *o, const struct answer *a)
{
	if (o->verbose)
		cli_print_attempts("check", &a->rep);
	if (o->json) {
		print_json(o, a);
		return;
	}
	char where[SKT_ADDRSTRLEN];
	skt_addr_format(&a->addr, where, sizeof(where));
	const char *state = skt_port_state_name(a->r.state);
	if (a->r.state == SKT_PORT_OPEN)
		printf("%s %s (%s in %.1f ms)\n", where, state,
		       skt_scan_reason(&a->r), (double)a->r.rtt_us / 1000);
	else
		printf("%s %s (%s)\n", where, state, skt_scan_reason(&a->r));
}

/* Resolve once, then each port in the order given. */
static int check(const struct check_opts *o)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->host, NULL, o->family, SOCK_STREAM, 0);
	if (rc < 0)
		return cli_fail("check", o->host, rc);
	bool all_open = true;
	for (int i = 0; i < o->nports; i++) {
		struct answer a;
		check_port(o, l.addrs, l.n, o->ports[i], &a);
		print_one(o, &a);
		all_open &= a.r.state == SKT_PORT_OPEN;
	}
	skt_addrlist_fini(&l);
	return all_open ? CLI_OK : CLI_FAIL;
}

static int run(int argc, char **argv)
{
	struct check_opts o;
	int rc = parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	rc = check(&o);
	free(o.ports);
	return rc;
}

const cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "is a TCP port open? closed or filtered, and why",
	.usage =
		"usage: sockit check [-4|-6] [-v] [-w SECS | --timeout MS] [--json]\n"
		"                    HOST PORT [PORT...]\n"
		"  Try a TCP connect to each PORT (a number or a service name) on\n"
		"  every address of HOST, as connect does (Happy Eyeballs), and\n"
		"  print it as open (with the address that answered), closed\n"
		"  (refused) or filtered (no answer in time), with the reason.\n"
		"  Exit 0 only when every port is open, else 1.\n"
		"  -4, -6        only IPv4 / only IPv6 addresses of HOST\n"
		"  -v, --verbose every address tried, and how it ended, on stderr\n"
		"  -w SECS       wait at most SECS for each port (default 2)\n"
		"  --timeout MS  the same in milliseconds\n"
		"  --json        one JSON object per port (docs/json.md)\n",
	.run = run,
};
