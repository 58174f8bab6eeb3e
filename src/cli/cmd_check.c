/* cmd_check.c - `sockit check HOST PORT...`: the tutorials' connect_ex
 * port check, for a few ports, with the reason for each answer. Each port
 * is tried on every address of HOST as connect tries them (Happy Eyeballs,
 * skt_connect_any): a server on 127.0.0.1 only is open for "localhost"
 * even where ::1 comes first. Ports go one after another; a port scan is
 * scan's job. */
#include "cmds.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tutorials' socket.settimeout(2) before connect_ex. */
#define CHECK_TIMEOUT_DEFAULT_MS 2000

static int parse_opts(cli_args *a, struct check_opts *o)
{
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(a)) >= 0) {
		switch (ch) {
		case '4':
			o->v4 = true;
			break;
		case '6':
			o->v6 = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'w':
			o->w_given = true;
			rc = cli_opt_duration("check", "-w", a->arg, 1000, 1,
					      86400000, &o->timeout_ms);
			break;
		default: /* 't' */
			o->timeout_given = true;
			rc = cli_opt_duration("check", "--timeout", a->arg, 1,
					      1, 86400000, &o->timeout_ms);
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
	bool joined = nargs == 1 || skt_endpoint_parse(&o->ep, args[0], 0) == 0;
	int rc = joined ? cli_parse_target("check", 1, args, 0, SOCK_STREAM,
					   &o->ep)
			: cli_parse_host("check", args[0], &o->ep);
	if (rc != CLI_OK)
		return rc;
	if (o->ep.kind != SKT_EP_INET)
		return cli_usage_error("check",
				       "'%s': check takes IP hosts, "
				       "not Unix sockets",
				       args[0]);
	o->host = o->ep.host;
	o->nports = nargs - !joined;
	o->ports = calloc((size_t)o->nports, sizeof(*o->ports));
	if (o->ports == NULL)
		return cli_fail("check", "ports", SKT_ENOMEM);
	for (int i = 0; i < o->nports; i++) {
		const char *text =
			i == 0 && joined ? o->ep.service : args[i + !joined];
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
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct check_opts){.timeout_ms = CHECK_TIMEOUT_DEFAULT_MS};
	cli_args a;
	cli_args_init(&a, "check", argc, argv, "46vw:", longopts);
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
	a->r = (skt_scan_result){.port = port,
				 .socktype = SOCK_STREAM,
				 .tries = 1,
				 .rtt_us = clock_us() - t0};
	a->addr = addrs[0];
	if (fd >= 0) {
		if (a->rep.winner >= 0)
			a->addr = a->rep.attempts[a->rep.winner].addr;
		a->r.self_connect = self_connect(fd);
		a->r.state =
			a->r.self_connect ? SKT_PORT_CLOSED : SKT_PORT_OPEN;
		skt_close_abort(fd); /* a reset: no TIME_WAIT left behind */
		return;
	}
	const skt_addr *f = failed_addr(&a->rep, fd);
	if (f != NULL)
		a->addr = *f;
	a->r.err = fd;
	/* As the scanner: a refusal is closed, silence or an unreachable
	 * (ICMP, no route) filtered. */
	a->r.state =
		fd == SKT_ECONNREFUSED ? SKT_PORT_CLOSED : SKT_PORT_FILTERED;
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
	int rc = cmd_check_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	rc = check(&o);
	cmd_check_free(&o);
	return rc;
}

const cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "is a TCP port open? closed or filtered, and why",
	.usage = "usage: sockit check [-4|-6] [-v] [-w SECS | --timeout MS] "
		 "[--json]\n"
		 "                    HOST PORT [PORT...] | HOST:PORT "
		 "[PORT...]\n"
		 "  Try a TCP connect to each PORT (a number or a service "
		 "name) on\n"
		 "  every address of HOST, as connect does (Happy Eyeballs), "
		 "and\n"
		 "  print it as open (with the address that answered), closed\n"
		 "  (refused) or filtered (no answer in time), with the "
		 "reason.\n"
		 "  Exit 0 only when every port is open, else 1.\n"
		 "  -4, -6        only IPv4 / only IPv6 addresses of HOST\n"
		 "  -v, --verbose every address tried, and how it ended, on "
		 "stderr\n"
		 "  -w SECS       wait at most SECS for each port (default 2)\n"
		 "  --timeout MS  the same in milliseconds (both take units "
		 "too:\n"
		 "                500ms, 2s, 1m)\n"
		 "  --json        one JSON object per port (docs/json.md)\n",
	.run = run,
};
