/* cmd_scan.c - `sockit scan HOST PORTS`: many ports at once, like
 * `nmap -sT` / `nmap -sU`, exact on loopback (no self-connect counted as
 * open). The scanner itself is skt_scan (src/scan/scan.c); this file
 * parses options, raises the fd limit, and prints. */
#include "cmds.h"

#include <errno.h>
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
	default: { /* 'r': N or N/s */
		char text[24];
		size_t n = strcspn(arg, "/");
		bool per_s = arg[n] == '\0' || strcmp(arg + n, "/s") == 0;
		snprintf(text, sizeof(text), "%.*s", (int)n, arg);
		if (!per_s || n >= sizeof(text) || cli_parse_u64(text, &v) < 0 ||
		    v < 1 || v > 100000000)
			return cli_usage_error("scan", "--rate '%s': want N or N/s, "
					       "N from 1 to 100000000", arg);
		o->so.rate = (int)v;
		return CLI_OK;
	}
	}
}

/* HOST PORTS, or HOST:PORTS ("127.0.0.1:22,80", "[::1]:1-1024"). */
static int parse_target(int nargs, char **args, struct scan_opts *o,
			char *buf, size_t cap)
{
	if (nargs == 1 && (args[0][0] == '[' || strchr(args[0], ':') ==
						    strrchr(args[0], ':'))) {
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
		return cli_usage_error("scan", "expected HOST PORTS or "
				       "HOST:PORTS");
	int rc = cli_parse_host("scan", o->host, &o->ep);
	if (rc != CLI_OK)
		return rc;
	o->host = o->ep.host;
	return CLI_OK;
}

static int parse_ports(struct scan_opts *o)
{
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
		{"udp", no_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct scan_opts){.so = SKT_SCAN_OPTS_INIT};
	cli_args a;
	cli_args_init(&a, "scan", argc, argv, "46u", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0) {
		switch (ch) {
		case '4': o->v4 = true; break;
		case '6': o->v6 = true; break;
		case 'u': o->so.socktype = SOCK_DGRAM; break;
		case 'j': o->json = true; break;
		case 'o': o->open_only = true; break;
		default: rc = parse_value(ch, a.arg, o); break;
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

/* The first address of host, in the system's order. */
static int target_of(const struct scan_opts *o, int socktype, skt_addr *a)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->host, NULL, o->family, socktype, 0);
	if (rc < 0)
		return rc;
	*a = l.addrs[0];
	skt_addrlist_free(&l);
	return 0;
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
	printf("{\"type\":\"port\",\"port\":%u,\"proto\":\"%s\",\"state\":\"%s\","
	       "\"service\":", r->port, proto(&o->so),
	       skt_port_state_name(r->state));
	if (service[0] != '\0')
		cli_json_str(stdout, service);
	else
		fputs("null", stdout);
	fputs(",\"reason\":", stdout);
	cli_json_str(stdout, skt_scan_reason(r));
	printf(",\"error\":%s%s%s,\"tries\":%d,\"rtt_ms\":%.3f}\n",
	       r->err ? "\"" : "", r->err ? skt_errname(r->err) : "null",
	       r->err ? "\"" : "", r->tries, (double)r->rtt_us / 1000);
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

static void print_summary(const struct scan_opts *o, const struct scan_out *out,
			  const skt_scan_stats *st)
{
	static const skt_port_state order[] = {
		SKT_PORT_OPEN, SKT_PORT_CLOSED, SKT_PORT_FILTERED,
		SKT_PORT_OPEN_FILTERED,
	};
	if (o->json) {
		printf("{\"type\":\"summary\",\"host\":");
		cli_json_str(stdout, o->host);
		printf(",\"address\":\"%s\",\"proto\":\"%s\",\"ports\":%zu",
		       out->target, proto(&o->so), st->ports);
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			printf(",\"%s\":%zu", skt_port_state_name(order[i]),
			       st->count[order[i]]);
		printf(",\"self_connects\":%zu,\"retries\":%zu,"
		       "\"parallel\":%d,\"parallel_end\":%d,\"elapsed_ms\":%lld}\n",
		       st->self_connects, st->retries, st->parallel_start,
		       st->parallel_end, (long long)st->elapsed_ms);
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
	if (fflush(stdout) != 0)
		return cli_fail("scan", "stdout", -errno);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	struct scan_opts o;
	int rc = cmd_scan_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	skt_addr target;
	int socktype = o.so.socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	rc = target_of(&o, socktype, &target);
	if (rc < 0)
		return cli_fail("scan", o.host, rc);
	return scan(&o, &target);
}

const cli_cmd cli_cmd_scan = {
	.name = "scan",
	.summary = "probe many ports at once: open, closed, filtered",
	.usage =
		"usage: sockit scan [-4|-6] [-u] [--timeout MS] [--parallel N]\n"
		"                   [--rate N/s] [--open] [--json]\n"
		"                   HOST PORTS | HOST:PORTS | [V6]:PORTS\n"
		"  Probe every port in PORTS on HOST's first address, many at once,\n"
		"  and print each open port (and the others, when few) with its\n"
		"  service name and the reason for its state.\n"
		"  PORTS        ports and ranges, e.g. 22,80,8000-8100, or all\n"
		"  -4, -6       only IPv4 / only IPv6 addresses of HOST\n"
		"  -u, --udp    UDP: open on a reply, closed on an ICMP refusal,\n"
		"               open|filtered when neither comes\n"
		"  --timeout MS each probe's wait (default 1000; or 500ms, 2s)\n"
		"  --parallel N most probes at once (default: what the fd limit\n"
		"               allows; the soft limit is raised to the hard one)\n"
		"  --rate N/s   most probes started per second\n"
		"  --open       only open ports\n"
		"  --json       one JSON object per port, then a summary object\n",
	.run = run,
};
