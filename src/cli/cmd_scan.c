/* cmd_scan.c - `sockit scan HOST PORTS`: many ports at once, like
 * `nmap -sT` / `nmap -sU`, exact on loopback (no self-connect counted as
 * open). The scanner itself is skt_scan (src/scan/scan.c); this file
 * parses options, raises the fd limit, and prints. */
#include "cmds.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* A state with more ports than this is counted, not listed (as nmap's
 * "Not shown: 65532 closed ports"). */
#define LIST_MAX 20
/* Progress redraws per second on a terminal. */
#define PROGRESS_HZ 10

/* What the scan callback fills, by port, for printing in port order. */
struct scan_out {
	skt_scan_result *by_port; /* indexed by port number */
	size_t done, open;
	size_t total;
	bool progress;
	int64_t next_draw_ms;
	char target[SKT_ADDRSTRLEN];
};

static int parse_value(int ch, const char *arg, struct scan_opts *o)
{
	uint64_t v;
	int rc;
	switch (ch) {
	case 't':
		return cli_opt_duration("scan", "--timeout", arg, 1, 1, 3600000,
					&o->so.timeout_ms);
	case 'p':
		rc = cli_opt_count("scan", "--parallel", arg, 1,
				   SKT_SCAN_PARALLEL_MAX, &v);
		o->so.parallel = (int)v;
		return rc;
	case 'T':
		rc = cli_opt_count("scan", "--top-ports", arg, 1, 65535, &v);
		o->top_ports = (unsigned)v;
		return rc;
	default: { /* 'r': N or N/s */
		char text[24];
		size_t n = strcspn(arg, "/");
		bool per_s = arg[n] == '\0' || strcmp(arg + n, "/s") == 0;
		snprintf(text, sizeof(text), "%.*s", (int)n, arg);
		if (!per_s || n >= sizeof(text) ||
		    cli_parse_u64(text, &v) < 0 || v < 1 || v > 100000000)
			return cli_usage_error("scan",
					       "--rate '%s': want N or N/s, "
					       "N from 1 to 100000000",
					       arg);
		o->so.rate = (int)v;
		return CLI_OK;
	}
	}
}

/* HOST PORTS, or HOST:PORTS ("127.0.0.1:22,80", "[::1]:1-1024"), or HOST
 * alone with --top-ports. */
static int parse_target(int nargs, char **args, struct scan_opts *o, char *buf,
			size_t cap)
{
	if (o->top_ports > 0 && nargs == 1) {
		o->host = args[0];
	} else if (o->top_ports > 0) {
		return cli_usage_error("scan", "--top-ports N and PORTS "
					       "conflict: give one");
	} else if (nargs == 1 &&
		   (args[0][0] == '[' ||
		    strchr(args[0], ':') == strrchr(args[0], ':'))) {
		const char *colon = args[0][0] == '[' ? strstr(args[0], "]:")
						      : strchr(args[0], ':');
		if (colon != NULL && args[0][0] == '[')
			colon++;
		if (colon != NULL && (size_t)(colon - args[0]) < cap) {
			snprintf(buf, cap, "%.*s", (int)(colon - args[0]),
				 args[0]);
			o->host = buf;
			o->ports_text = colon + 1;
		}
	} else if (nargs == 2) {
		o->host = args[0];
		o->ports_text = args[1];
	}
	if (o->host == NULL)
		return cli_usage_error("scan",
				       "expected HOST PORTS, "
				       "HOST:PORTS or HOST --top-ports N");
	int rc = cli_parse_host("scan", o->host, &o->ep);
	if (rc != CLI_OK)
		return rc;
	o->host = o->ep.host;
	return CLI_OK;
}

/* A service name in PORTS, for the transport scanned (/etc/services). */
static int port_of_name(const char *name, void *arg)
{
	const struct scan_opts *o = arg;
	int rc = skt_service_port(
		name, o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM);
	return rc == 0 ? SKT_EAI_SERVICE : rc;
}

/* --top-ports N: no frequency table is built in (nmap's comes under the
 * Nmap Public Source License); the first N ports the services database
 * names for the transport stand in, in its order (port order on Debian
 * and most systems). A database with fewer gives fewer. */
static int top_ports(struct scan_opts *o)
{
	static uint16_t ports[65535];
	int type = o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int n = skt_service_ports(ports, o->top_ports, type);
	if (n <= 0)
		return cli_usage_error("scan",
				       "--top-ports: the services "
				       "database names no %s port",
				       type == SOCK_DGRAM ? "udp" : "tcp");
	skt_portset_clear(&o->ports);
	for (int i = 0; i < n; i++)
		skt_portset_add(&o->ports, ports[i]);
	return CLI_OK;
}

static int parse_ports(struct scan_opts *o)
{
	if (o->top_ports > 0)
		return top_ports(o);
	skt_portset_error pe;
	int rc = skt_portset_parse_names(&o->ports, o->ports_text,
					 strlen(o->ports_text), port_of_name, o,
					 &pe);
	/* Name the bad item; an empty one has nothing to show but where. */
	if (rc < 0 && pe.len == 0)
		return cli_usage_error("scan", "ports '%s': %s at offset %zu",
				       o->ports_text, pe.why, pe.off);
	if (rc < 0)
		return cli_usage_error("scan", "ports '%.*s': %s", (int)pe.len,
				       o->ports_text + pe.off, pe.why);
	return CLI_OK;
}

/* Every conflict, in one place. */
static int validate(struct scan_opts *o)
{
	return cli_family("scan", o->v4, o->v6, &o->family);
}

int cmd_scan_parse(int argc, char **argv, struct scan_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"open", no_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"parallel", required_argument, NULL, 'p'},
		{"rate", required_argument, NULL, 'r'},
		{"top-ports", required_argument, NULL, 'T'},
		{"udp", no_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct scan_opts){.so = SKT_SCAN_OPTS_INIT};
	cli_args a;
	cli_args_init(&a, "scan", argc, argv, "46u", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0) {
		switch (ch) {
		case '4':
			o->v4 = true;
			break;
		case '6':
			o->v6 = true;
			break;
		case 'u':
			o->so.socktype = SOCK_DGRAM;
			break;
		case 'j':
			o->json = true;
			break;
		case 'o':
			o->open_only = true;
			break;
		default:
			rc = parse_value(ch, a.arg, o);
			break;
		}
	}
	if (rc != CLI_OK)
		return CLI_USAGE;
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if ((rc = validate(o)) != CLI_OK)
		return rc;
	char host[SKT_HOST_MAX + 3]; /* HOST of HOST:PORTS, until ep holds it */
	rc = parse_target(argc - a.next, argv + a.next, o, host, sizeof(host));
	return rc != CLI_OK ? rc : parse_ports(o);
}

/* Every address of host, in the system's order: the first is scanned,
 * and the others are named, as nmap names them, so that a closed port on
 * ::1 is not taken for the whole of "localhost". */
static int resolve_host(struct scan_opts *o, int socktype)
{
	return skt_resolve(&o->addrs, o->host, NULL, o->family, socktype, 0);
}

static void print_others(const struct scan_opts *o)
{
	if (o->json || o->addrs.n < 2)
		return;
	printf("# other addresses for %s (not scanned):", o->host);
	for (size_t i = 1; i < o->addrs.n; i++) {
		char host[SKT_ADDRSTRLEN];
		skt_addr_format_host(&o->addrs.addrs[i], host, sizeof(host));
		printf("%s %s", i > 1 ? "," : "", host);
	}
	printf("\n");
}

static int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw_progress(struct scan_out *out, bool last)
{
	if (last) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r\033[Kscanning %s: %zu/%zu ports, %zu open",
		out->target, out->done, out->total, out->open);
	fflush(stderr);
}

static void on_result(const skt_scan_result *r, void *arg)
{
	struct scan_out *out = arg;
	out->by_port[r->port] = *r;
	out->done++;
	out->open += r->state == SKT_PORT_OPEN;
	if (out->progress) {
		int64_t now = clock_ms();
		if (now >= out->next_draw_ms) {
			out->next_draw_ms = now + 1000 / PROGRESS_HZ;
			draw_progress(out, false);
		}
	}
}

static const char *proto(const skt_scan_opts *so)
{
	return so->socktype == SOCK_DGRAM ? "udp" : "tcp";
}

static void print_json(const struct scan_opts *o, const skt_scan_result *r,
		       const char *service)
{
	cli_json j;
	cli_json_begin(&j, stdout, "port");
	cli_json_text(&j, "host", o->host);
	skt_addr a = o->addrs.addrs[0];
	skt_addr_set_port(&a, r->port);
	cli_json_addr(&j, NULL, &a);
	cli_json_text(&j, "transport", proto(&o->so));
	cli_json_text(&j, "service", service[0] != '\0' ? service : NULL);
	cli_json_text(&j, "state", skt_port_state_name(r->state));
	cli_json_text(&j, "reason", skt_scan_reason(r));
	cli_json_error(&j, "error", r->err, NULL);
	cli_json_int(&j, "tries", r->tries);
	cli_json_us(&j, "rtt_s", r->rtt_us);
	cli_json_end(&j);
}

static void print_port(const struct scan_opts *o, const skt_scan_result *r)
{
	char service[SKT_SERVICE_MAX + 1] = "";
	if (skt_service_name(r->port,
			     o->so.socktype == SOCK_DGRAM ? SOCK_DGRAM
							  : SOCK_STREAM,
			     service, sizeof(service)) < 0)
		service[0] = '\0';
	if (o->json) {
		print_json(o, r, service);
		return;
	}
	char port[16];
	snprintf(port, sizeof(port), "%u/%s", r->port, proto(&o->so));
	printf("%-11s %-13s %-15s %s\n", port, skt_port_state_name(r->state),
	       service[0] ? service : "-", skt_scan_reason(r));
}

/* Ports in port order: every one in JSON; in text, open ones always and
 * the others when their state is rare enough to be worth a line. */
static void print_ports(const struct scan_opts *o, const struct scan_out *out,
			const skt_scan_stats *st)
{
	for (uint16_t p = skt_portset_next(&o->ports, 1); p != 0;
	     p = skt_portset_next(&o->ports, (unsigned)p + 1)) {
		const skt_scan_result *r = &out->by_port[p];
		if (r->port != p)
			continue; /* not scanned: the scan ended early */
		bool show = r->state == SKT_PORT_OPEN ||
			    (!o->open_only &&
			     (o->json || st->count[r->state] <= LIST_MAX));
		if (show)
			print_port(o, r);
	}
}

/* The counts by state, keyed by name ("open|filtered" as open_filtered:
 * a key should not need quoting in jq). */
static void print_summary_json(const struct scan_opts *o,
			       const skt_scan_stats *st)
{
	cli_json j;
	cli_json_begin(&j, stdout, "summary");
	cli_json_text(&j, "host", o->host);
	char host[SKT_ADDRSTRLEN];
	skt_addr_format_host(&o->addrs.addrs[0], host, sizeof(host));
	cli_json_text(&j, "address", host);
	cli_json_array(&j, "other_addresses");
	for (size_t i = 1; i < o->addrs.n; i++) {
		skt_addr_format_host(&o->addrs.addrs[i], host, sizeof(host));
		cli_json_text(&j, NULL, host);
	}
	cli_json_close(&j);
	cli_json_text(&j, "transport", proto(&o->so));
	cli_json_uint(&j, "ports", st->ports);
	cli_json_uint(&j, "open", st->count[SKT_PORT_OPEN]);
	cli_json_uint(&j, "closed", st->count[SKT_PORT_CLOSED]);
	cli_json_uint(&j, "filtered", st->count[SKT_PORT_FILTERED]);
	cli_json_uint(&j, "open_filtered", st->count[SKT_PORT_OPEN_FILTERED]);
	cli_json_uint(&j, "self_connects", st->self_connects);
	cli_json_uint(&j, "retries", st->retries);
	cli_json_int(&j, "parallel", st->parallel_start);
	cli_json_int(&j, "parallel_end", st->parallel_end);
	cli_json_us(&j, "elapsed_s", st->elapsed_ms * 1000);
	cli_json_end(&j);
}

static void print_summary(const struct scan_opts *o, const struct scan_out *out,
			  const skt_scan_stats *st)
{
	static const skt_port_state order[] = {
		SKT_PORT_OPEN,
		SKT_PORT_CLOSED,
		SKT_PORT_FILTERED,
		SKT_PORT_OPEN_FILTERED,
	};
	if (o->json) {
		print_summary_json(o, st);
		return;
	}
	for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++) {
		size_t n = st->count[order[i]];
		if (n > LIST_MAX || (o->open_only && n > 0))
			printf("# not shown: %zu %s\n", n,
			       skt_port_state_name(order[i]));
	}
	printf("# %s (%s): %zu %s ports in %.2f s:", o->host, out->target,
	       st->ports, proto(&o->so), (double)st->elapsed_ms / 1000);
	const char *sep = " ";
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (st->count[order[i]] == 0 && order[i] != SKT_PORT_OPEN)
			continue;
		printf("%s%zu %s", sep, st->count[order[i]],
		       skt_port_state_name(order[i]));
		sep = ", ";
	}
	printf("\n");
	if (st->self_connects > 0)
		printf("# %zu self-connect%s counted as closed\n",
		       st->self_connects, st->self_connects == 1 ? "" : "s");
}

static int scan(struct scan_opts *o, const skt_addr *target)
{
	struct scan_out out = {.total = skt_portset_count(&o->ports)};
	/* One slot per port number: results print in port order, and a
	 * set of every port is only 65536 small entries. */
	out.by_port = calloc(65536, sizeof(*out.by_port));
	if (out.by_port == NULL)
		return cli_fail("scan", o->host, SKT_ENOMEM);
	skt_addr_format_host(target, out.target, sizeof(out.target));
	out.progress = isatty(STDERR_FILENO);
	skt_scan_stats st;
	o->so.stats = &st;
	cli_raise_nofile();
	int rc = skt_scan(target, &o->ports, &o->so, on_result, &out);
	if (out.progress)
		draw_progress(&out, true);
	if (rc >= 0 || st.ports > 0) {
		print_ports(o, &out, &st);
		print_summary(o, &out, &st);
	}
	free(out.by_port);
	if (rc < 0)
		return cli_fail("scan", out.target, rc);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct scan_opts o;
	int rc = cmd_scan_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	int socktype = o.so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	rc = resolve_host(&o, socktype);
	if (rc < 0)
		return cli_fail("scan", o.host, rc);
	print_others(&o);
	rc = scan(&o, &o.addrs.addrs[0]);
	skt_addrlist_fini(&o.addrs);
	return rc;
}

const cli_cmd cli_cmd_scan = {
	.name = "scan",
	.summary = "probe many ports at once: open, closed, filtered",
	.usage = "usage: sockit scan [-4|-6] [-u] [--timeout MS] [--parallel "
		 "N]\n"
		 "                   [--rate N/s] [--open] [--json]\n"
		 "                   HOST PORTS | HOST:PORTS | [V6]:PORTS\n"
		 "                   | HOST --top-ports N\n"
		 "  Probe every port in PORTS on HOST's first address, many at "
		 "once,\n"
		 "  and print each open port (and the others, when few) with "
		 "its\n"
		 "  service name and the reason for its state. HOST's other\n"
		 "  addresses are listed as not scanned (-4 or -6 picks a "
		 "family).\n"
		 "  PORTS        ports, ranges and service names, e.g.\n"
		 "               22,80,8000-8100, http,ssh, 1024- (to 65535),\n"
		 "               -- -1024 (from 1), or all\n"
		 "  --top-ports N  the first N ports /etc/services names for "
		 "the\n"
		 "               transport (its order), instead of PORTS\n"
		 "  -4, -6       only IPv4 / only IPv6 addresses of HOST\n"
		 "  -u, --udp    UDP: open on a reply, closed on an ICMP "
		 "refusal,\n"
		 "               open|filtered when neither comes\n"
		 "  --timeout MS each probe's wait (default 1000; or 500ms, "
		 "2s)\n"
		 "  --parallel N most probes at once (default: what the fd "
		 "limit\n"
		 "               allows; the soft limit is raised to the hard "
		 "one)\n"
		 "  --rate N/s   most probes started per second\n"
		 "  --open       only open ports\n"
		 "  --json       one JSON object per port, then a summary "
		 "object\n"
		 "               (docs/json.md)\n",
	.run = run,
};
