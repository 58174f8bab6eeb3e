/* cmd_scan.c - `sockit scan HOST PORTS`: many ports at once, like
 * `nmap -sT` / `nmap -sU`, exact on loopback (no self-connect counted as
 * open). The scanner itself is skt_scan (src/scan/scan.c); this file
 * parses options, raises the fd limit, and prints. */
#include "cli.h"
#include "json.h"

#include <getopt.h>
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

struct scan_opts {
	int family;
	bool json;
	bool open_only;
	skt_scan_opts so;
	const char *host;
	const char *ports_text;
	skt_portset ports;
	skt_addrlist addrs;   /* HOST's; the first is scanned */
};

/* What the scan callback fills, by port, for printing in port order. */
struct scan_out {
	skt_scan_result *by_port; /* indexed by port number */
	size_t done, open;
	size_t total;
	bool progress;
	int64_t next_draw_ms;
	char target[SKT_ADDRSTRLEN];
};

/* Decimal min..max, optionally followed by suffix ("/s"). */
static int parse_int(const char *text, const char *suffix, long min, long max,
		     int *out)
{
	size_t n = strspn(text, "0123456789");
	if (n == 0 || n > 9)
		return -1;
	const char *rest = text + n;
	if (*rest != '\0' && (suffix == NULL || strcmp(rest, suffix) != 0))
		return -1;
	long v = strtol(text, NULL, 10);
	if (v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_value(int ch, const char *arg, struct scan_opts *o)
{
	switch (ch) {
	case 't':
		if (parse_int(arg, NULL, 1, 3600000, &o->so.timeout_ms) < 0)
			return cli_usage_error("scan", "--timeout '%s': want 1 to "
					       "3600000 milliseconds", arg);
		return CLI_OK;
	case 'p':
		if (parse_int(arg, NULL, 1, SKT_SCAN_PARALLEL_MAX,
			      &o->so.parallel) < 0)
			return cli_usage_error("scan", "--parallel '%s': want 1 to "
					       "%d", arg, SKT_SCAN_PARALLEL_MAX);
		return CLI_OK;
	default:
		if (parse_int(arg, "/s", 1, 100000000, &o->so.rate) < 0)
			return cli_usage_error("scan", "--rate '%s': want N or N/s, "
					       "N from 1 to 100000000", arg);
		return CLI_OK;
	}
}

static int parse(int argc, char **argv, struct scan_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"open", no_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"parallel", required_argument, NULL, 'p'},
		{"rate", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct scan_opts){.so = SKT_SCAN_OPTS_INIT};
	bool v4 = false, v6 = false;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":46u", longopts, NULL)) != -1) {
		int rc = CLI_OK;
		switch (ch) {
		case '4': v4 = true; break;
		case '6': v6 = true; break;
		case 'u': o->so.socktype = SOCK_DGRAM; break;
		case 'j': o->json = true; break;
		case 'o': o->open_only = true; break;
		case 't': case 'p': case 'r':
			rc = parse_value(ch, optarg, o);
			break;
		case ':':
			return cli_usage_error("scan", "'%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("scan", "unknown option '%s'",
					       argv[optind - 1]);
		}
		if (rc != CLI_OK)
			return rc;
	}
	if (v4 && v6)
		return cli_usage_error("scan", "-4 and -6 conflict");
	o->family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
	if (argc - optind != 2)
		return cli_usage_error("scan", "expected HOST PORTS");
	o->host = argv[optind];
	o->ports_text = argv[optind + 1];
	skt_portset_error pe;
	int rc = skt_portset_parse(&o->ports, o->ports_text,
				   strlen(o->ports_text), &pe);
	/* Name the bad item; an empty one has nothing to show but where. */
	if (rc < 0 && pe.len == 0)
		return cli_usage_error("scan", "ports '%s': %s at offset %zu",
				       o->ports_text, pe.why, pe.off);
	if (rc < 0)
		return cli_usage_error("scan", "ports '%.*s': %s", (int)pe.len,
				       o->ports_text + pe.off, pe.why);
	return CLI_OK;
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
	if (skt_service_name(r->port, o->so.socktype == SOCK_DGRAM ?
			     SOCK_DGRAM : SOCK_STREAM, service,
			     sizeof(service)) < 0)
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
		SKT_PORT_OPEN, SKT_PORT_CLOSED, SKT_PORT_FILTERED,
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
	int rc = parse(argc, argv, &o);
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
	.usage =
		"usage: sockit scan [-4|-6] [-u] [--timeout MS] [--parallel N]\n"
		"                   [--rate N/s] [--open] [--json] HOST PORTS\n"
		"  Probe every port in PORTS on HOST's first address, many at once,\n"
		"  and print each open port (and the others, when few) with its\n"
		"  service name and the reason for its state. HOST's other\n"
		"  addresses are listed as not scanned (-4 or -6 picks a family).\n"
		"  PORTS        ports and ranges, e.g. 22,80,8000-8100, or all\n"
		"  -4, -6       only IPv4 / only IPv6 addresses of HOST\n"
		"  -u           UDP: open on a reply, closed on an ICMP refusal,\n"
		"               open|filtered when neither comes\n"
		"  --timeout MS each probe's wait (default 1000)\n"
		"  --parallel N most probes at once (default: what the fd limit\n"
		"               allows; the soft limit is raised to the hard one)\n"
		"  --rate N/s   most probes started per second\n"
		"  --open       only open ports\n"
		"  --json       one JSON object per port, then a summary object\n"
		"               (docs/json.md)\n",
	.run = run,
};
