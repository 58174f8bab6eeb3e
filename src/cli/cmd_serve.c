/* cmd_serve.c - `sockit serve SERVICE`: run one of the built-in services
 * (src/tools/serve/) on loopback or where --listen says. Options into a
 * struct, conflicts checked in one place, then skt_server_run; this file
 * only adds the log: one line per event on stderr, as text or JSON Lines.
 */
#include "cli.h"
#include "tools/serve/services.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNS 10000
#define DEFAULT_MAX_PER_IP 256
#define DEFAULT_MAX_QUEUE ((size_t)256 << 10)

enum {
	OPT_LISTEN = 256, OPT_TCP, OPT_UDP, OPT_WORKERS, OPT_MAX_CONNS,
	OPT_MAX_PER_IP, OPT_IDLE, OPT_ALLOW, OPT_DENY, OPT_STATS, OPT_JSON,
	OPT_FILE, OPT_MAX_QUEUE
};

struct serve_opts {
	skt_server_opts svc;
	const char *name;
	const char *file;      /* --file */
	bool tcp, udp;         /* as given */
	bool workers_given, queue_given, idle_given;
	bool json;
	cli_cidrs allow, deny;
	svc_quotes quotes;
};

/* ---- Options ---- */

/* A count "0".."max": digits only, no sign, no overflow. */
static int parse_count(const char *opt, const char *text, size_t max,
		       size_t *out)
{
	size_t n = strspn(text, "0123456789");
	if (n == 0 || n > 10 || text[n] != '\0' ||
	    strtoull(text, NULL, 10) > max)
		return cli_usage_error("serve", "%s '%s': expected a number "
				       "from 0 to %zu", opt, text, max);
	*out = (size_t)strtoull(text, NULL, 10);
	return CLI_OK;
}

/* HOST:PORT, [V6]:PORT, PORT or :PORT; a service name as PORT is looked
 * up now, so the server knows its number. */
static int parse_listen(struct serve_opts *o, const char *text)
{
	skt_server_opts *s = &o->svc;
	if (s->naddrs == SKT_SERVER_ADDR_MAX)
		return cli_usage_error("serve", "more than %d --listen",
				       SKT_SERVER_ADDR_MAX);
	skt_endpoint ep;
	int rc = skt_endpoint_parse(&ep, text,
				    SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST);
	if (rc < 0)
		return cli_usage_error("serve", "--listen '%s': %s", text,
				       skt_strerror(rc));
	if (ep.kind != SKT_EP_INET)
		return cli_usage_error("serve", "--listen '%s': serve listens "
				       "on IP addresses only", text);
	int port = skt_port_parse(ep.service, SKT_PARSE_PORT_ZERO);
	if (port < 0)
		port = skt_service_port(ep.service, SOCK_STREAM);
	if (port < 0)
		return cli_usage_error("serve", "--listen '%s': %s", text,
				       skt_strerror(port));
	skt_server_addr *a = &s->addrs[s->naddrs++];
	snprintf(a->host, sizeof(a->host), "%s", ep.host);
	snprintf(a->port, sizeof(a->port), "%u", (unsigned)(uint16_t)port);
	return CLI_OK;
}

static int parse_seconds_opt(const char *opt, const char *text, int *ms)
{
	if (cli_parse_seconds(text, ms) < 0)
		return cli_usage_error("serve", "%s '%s': expected seconds "
				       "(0 to 86400)", opt, text);
	return CLI_OK;
}

static int option(struct serve_opts *o, int ch, const char *arg)
{
	skt_server_opts *s = &o->svc;
	size_t n;
	int rc = CLI_OK;
	switch (ch) {
	case OPT_LISTEN: return parse_listen(o, arg);
	case OPT_TCP: o->tcp = true; break;
	case OPT_UDP: case 'u': o->udp = true; break;
	case OPT_WORKERS:
		rc = parse_count("--workers", arg, 1024, &n);
		if (rc == CLI_OK && n == 0)
			rc = cli_usage_error("serve", "--workers: at least 1");
		s->workers = (unsigned)n;
		o->workers_given = true;
		return rc;
	case OPT_MAX_CONNS:
		return parse_count("--max-conns", arg, 10000000, &s->max_conns);
	case OPT_MAX_PER_IP:
		return parse_count("--max-per-ip", arg, 10000000,
				   &s->max_per_ip);
	case OPT_MAX_QUEUE:
		o->queue_given = true;
		rc = parse_count("--max-queue", arg, (size_t)1 << 30,
				 &s->max_queue);
		if (rc == CLI_OK && s->max_queue < 1024)
			rc = cli_usage_error("serve", "--max-queue %s: at "
					     "least 1024 bytes", arg);
		return rc;
	case OPT_IDLE:
		o->idle_given = true;
		return parse_seconds_opt("--idle-timeout", arg, &s->idle_ms);
	case OPT_STATS: return parse_seconds_opt("--stats", arg, &s->stats_ms);
	case OPT_ALLOW: return cli_cidr_add("serve", &o->allow, arg);
	case OPT_DENY: return cli_cidr_add("serve", &o->deny, arg);
	case OPT_JSON: o->json = true; break;
	case OPT_FILE: o->file = arg; break;
	case 'v': s->verbose = true; break;
	default: return -1;
	}
	return rc;
}

/* Every conflict, in one place. */
static int validate(struct serve_opts *o)
{
	skt_server_opts *s = &o->svc;
	const skt_service *svc = s->svc;
	s->tcp = o->tcp || !o->udp;
	s->udp = o->udp;
	if (s->udp && !(svc->flags & SKT_SERVICE_UDP))
		return cli_usage_error("serve", "%s has no UDP form",
				       svc->name);
	if (o->file != NULL && svc != &svc_qotd)
		return cli_usage_error("serve", "--file is for qotd");
	if (o->queue_given && svc != &svc_chat)
		return cli_usage_error("serve", "--max-queue is for chat");
	if ((svc->flags & SKT_SERVICE_ONE_LOOP) && o->workers_given &&
	    s->workers != 1)
		return cli_usage_error("serve", "%s runs on one loop: "
				       "--workers must be 1", svc->name);
	if (s->naddrs == 0) {
		s->naddrs = 1;
		snprintf(s->addrs[0].port, sizeof(s->addrs[0].port), "%u",
			 (unsigned)svc->port);
	}
	if (!o->idle_given)
		s->idle_ms = svc->idle_s * 1000;
	return CLI_OK;
}

static int parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"tcp", no_argument, NULL, OPT_TCP},
		{"udp", no_argument, NULL, OPT_UDP},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
		{"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
		{"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"allow", required_argument, NULL, OPT_ALLOW},
		{"deny", required_argument, NULL, OPT_DENY},
		{"stats", required_argument, NULL, OPT_STATS},
		{"json", no_argument, NULL, OPT_JSON},
		{"file", required_argument, NULL, OPT_FILE},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct serve_opts){.svc = {.max_conns = DEFAULT_MAX_CONNS,
					 .max_per_ip = DEFAULT_MAX_PER_IP,
					 .max_queue = DEFAULT_MAX_QUEUE}};
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":uv", longopts, NULL)) != -1) {
		if (ch == ':')
			return cli_usage_error("serve", "'%s' needs a value",
					       argv[optind - 1]);
		int rc = option(o, ch, optarg);
		if (rc == -1)
			return cli_usage_error("serve", "unknown option '%s'",
					       argv[optind - 1]);
		if (rc != CLI_OK)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("serve", "expected one SERVICE (see "
				       "'sockit help serve' for the list)");
	o->name = argv[optind];
	o->svc.svc = svc_find(o->name);
	if (o->svc.svc == NULL)
		return cli_usage_error("serve", "unknown service '%s'",
				       o->name);
	return validate(o);
}

/* ---- The log: one write per line, from any worker thread ---- */

static const char *signame(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

static void addr_text(const skt_addr *a, char *buf, size_t cap)
{
	if (a == NULL || skt_addr_format(a, buf, cap) < 0)
		snprintf(buf, cap, "-");
}

static const char *close_reason(const skt_server_event *ev)
{
	switch (ev->conn->end) {
	case SKT_SERVER_END_CUTOFF: return "cutoff";
	case SKT_SERVER_END_TOOBIG: return "too-big";
	case SKT_SERVER_END_DEADLINE: return "deadline";
	default: break;
	}
	if (ev->err == SKT_ETIMEDOUT)
		return "idle-timeout";
	return ev->err < 0 ? "error" : "closed";
}

static void text_close(FILE *f, const skt_server_event *ev, int idle_ms)
{
	const skt_server_conn *c = ev->conn;
	const char *r = close_reason(ev);
	if (c->who[0] != '\0')
		fprintf(f, " (%s)", c->who);
	if (strcmp(r, "cutoff") == 0)
		fprintf(f, " cut off: output cap of %zu bytes reached by a "
			"slow reader", c->limit);
	else if (strcmp(r, "too-big") == 0)
		fprintf(f, " cut off: a line or request over %zu bytes",
			c->limit);
	else if (strcmp(r, "deadline") == 0)
		fputs(" reset: still open at the shutdown deadline", f);
	else if (strcmp(r, "idle-timeout") == 0)
		fprintf(f, " idle timeout: no traffic for %g s, closed",
			idle_ms / 1000.0);
	else if (ev->err < 0)
		fprintf(f, " closed: %s", skt_strerror(ev->err));
	else
		fputs(" closed", f);
	fprintf(f, " (%llu bytes in, %llu out, %.3f s)",
		(unsigned long long)c->in, (unsigned long long)c->out,
		ev->ms / 1000.0);
}

/* For printf's %llu, whatever uint64_t is on this platform. */
static unsigned long long u(uint64_t v)
{
	return v;
}

static void text_stats(FILE *f, const skt_server_stats *st)
{
	fprintf(f, "%llu open, %llu accepted, %llu refused, %llu timed out, "
		"%llu cut off, %llu errors, ", u(st->open), u(st->accepted),
		u(st->refused), u(st->timeouts), u(st->cutoffs), u(st->errors));
	fprintf(f, "%llu bytes in, %llu out, %llu datagrams in, %llu out",
		u(st->bytes_in), u(st->bytes_out), u(st->dgrams_in),
		u(st->dgrams_out));
}

static const char *refusal(int why)
{
	switch (why) {
	case SKT_SERVER_REFUSE_DENIED: return "denied";
	case SKT_SERVER_REFUSE_MAX_CONNS: return "max-conns";
	case SKT_SERVER_REFUSE_MAX_PER_IP: return "max-per-ip";
	default: return "stopping";
	}
}

static void text_refused(FILE *f, const skt_server_event *ev)
{
	if (ev->refusal == SKT_SERVER_REFUSE_DENIED)
		fputs("by --allow/--deny", f);
	else if (ev->refusal == SKT_SERVER_REFUSE_STOPPING)
		fputs("the server is stopping", f);
	else
		fprintf(f, "--%s %zu reached", refusal(ev->refusal), ev->limit);
}

static void text_error(FILE *f, const skt_server_event *ev)
{
	fprintf(f, "%s: %s: %s", ev->service, ev->what, skt_strerror(ev->err));
	if (strcmp(ev->what, "accept") == 0)
		fprintf(f, " (accepting paused %d ms)", SKT_ACCEPT_PAUSE_MS);
	if (ev->quiet > 0)
		fprintf(f, " (%u more since the last report)", ev->quiet);
}

static void text_event(FILE *f, const skt_server_event *ev,
		       const struct serve_opts *o)
{
	char a[SKT_ADDRSTRLEN];
	addr_text(ev->addr, a, sizeof(a));
	const char *tr = ev->transport == SOCK_DGRAM ? "udp" : "tcp";
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		fprintf(f, "%s listening on %s/%s", ev->service, a, tr);
		return;
	case SKT_SERVER_EV_OPEN:
		fprintf(f, "%s: #%llu %s connected", ev->service,
			(unsigned long long)ev->conn->id, a);
		return;
	case SKT_SERVER_EV_CLOSE:
		fprintf(f, "%s: #%llu %s", ev->service,
			(unsigned long long)ev->conn->id, a);
		text_close(f, ev, o->svc.idle_ms);
		return;
	case SKT_SERVER_EV_REFUSED:
		fprintf(f, "%s: %s refused: ", ev->service, a);
		text_refused(f, ev);
		return;
	case SKT_SERVER_EV_DATAGRAM:
		fprintf(f, "%s: %s datagram: %ld bytes in, ", ev->service, a,
			ev->in);
		if (ev->out < 0)
			fputs("no answer", f);
		else
			fprintf(f, "%ld out", ev->out);
		return;
	case SKT_SERVER_EV_ERROR:
		text_error(f, ev);
		return;
	case SKT_SERVER_EV_STATS:
		fprintf(f, "%s: stats: ", ev->service);
		text_stats(f, ev->stats);
		return;
	case SKT_SERVER_EV_STOPPING:
		fprintf(f, "%s: %s: stopping; %llu connections open get up to "
			"%d s to finish", ev->service, signame(ev->signum),
			(unsigned long long)ev->stats->open,
			SKT_SERVER_DRAIN_MS / 1000);
		return;
	case SKT_SERVER_EV_STOPPED:
		fprintf(f, "%s: stopped after %.1f s: ", ev->service,
			ev->ms / 1000.0);
		text_stats(f, ev->stats);
		fprintf(f, ", %llu reset at the shutdown deadline",
			(unsigned long long)ev->deadline_cuts);
		return;
	}
}

static void json_u(FILE *f, const char *key, unsigned long long v)
{
	fprintf(f, ",\"%s\":%llu", key, v);
}

static void json_stats(FILE *f, const skt_server_event *ev)
{
	const skt_server_stats *st = ev->stats;
	json_u(f, "open", st->open);
	json_u(f, "accepted", st->accepted);
	json_u(f, "refused", st->refused);
	json_u(f, "timeouts", st->timeouts);
	json_u(f, "cutoffs", st->cutoffs);
	json_u(f, "errors", st->errors);
	json_u(f, "bytes_in", st->bytes_in);
	json_u(f, "bytes_out", st->bytes_out);
	json_u(f, "datagrams_in", st->dgrams_in);
	json_u(f, "datagrams_out", st->dgrams_out);
	json_u(f, "uptime_ms", (unsigned long long)ev->ms);
}

static void json_close(FILE *f, const skt_server_event *ev)
{
	const skt_server_conn *c = ev->conn;
	const char *r = close_reason(ev);
	json_u(f, "id", c->id);
	if (c->who[0] != '\0') {
		fputs(",\"nick\":", f);
		cli_json_str(f, c->who);
	}
	fprintf(f, ",\"reason\":\"%s\"", r);
	if (strcmp(r, "error") == 0)
		fprintf(f, ",\"error\":\"%s\"", skt_errname(ev->err));
	if (c->end == SKT_SERVER_END_CUTOFF || c->end == SKT_SERVER_END_TOOBIG)
		json_u(f, "limit", c->limit);
	json_u(f, "bytes_in", c->in);
	json_u(f, "bytes_out", c->out);
	json_u(f, "ms", (unsigned long long)ev->ms);
}

static const char *const ev_names[] = {
	"listening", "open", "close", "refused", "datagram", "error",
	"stats", "stopping", "stopped",
};

static void json_event(FILE *f, const skt_server_event *ev)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char a[SKT_ADDRSTRLEN];
	addr_text(ev->addr, a, sizeof(a));
	fprintf(f, "{\"ts\":%lld.%03ld,\"event\":\"%s\",\"service\":\"%s\"",
		(long long)ts.tv_sec, ts.tv_nsec / 1000000, ev_names[ev->kind],
		ev->service);
	if (ev->addr != NULL) {
		fputs(ev->kind == SKT_SERVER_EV_LISTENING ? ",\"address\":"
							: ",\"peer\":", f);
		cli_json_str(f, a);
	}
	if (ev->kind == SKT_SERVER_EV_LISTENING ||
	    ev->kind == SKT_SERVER_EV_DATAGRAM)
		fprintf(f, ",\"transport\":\"%s\"",
			ev->transport == SOCK_DGRAM ? "udp" : "tcp");
	if (ev->kind == SKT_SERVER_EV_OPEN)
		json_u(f, "id", ev->conn->id);
	else if (ev->kind == SKT_SERVER_EV_CLOSE)
		json_close(f, ev);
	else if (ev->kind == SKT_SERVER_EV_REFUSED)
		fprintf(f, ",\"reason\":\"%s\",\"limit\":%zu",
			refusal(ev->refusal), ev->limit);
	else if (ev->kind == SKT_SERVER_EV_DATAGRAM)
		fprintf(f, ",\"bytes_in\":%ld,\"bytes_out\":%ld", ev->in,
			ev->out);
	else if (ev->kind == SKT_SERVER_EV_ERROR)
		fprintf(f, ",\"what\":\"%s\",\"error\":\"%s\","
			"\"suppressed\":%u",
			ev->what, skt_errname(ev->err), ev->quiet);
	if (ev->kind == SKT_SERVER_EV_STOPPING)
		fprintf(f, ",\"signal\":\"%s\"", signame(ev->signum));
	if (ev->stats != NULL)
		json_stats(f, ev);
	if (ev->kind == SKT_SERVER_EV_STOPPED)
		json_u(f, "deadline_resets", ev->deadline_cuts);
	fputc('}', f);
}

/* Formatted into a buffer and written with one write(2): lines from
 * several workers never interleave, and a line reaches a pipe at once. */
static void log_event(const skt_server_event *ev, void *arg)
{
	const struct serve_opts *o = arg;
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (o->json) {
		json_event(f, ev);
	} else {
		fputs("sockit: serve: ", f);
		text_event(f, ev, o);
	}
	long n = ftell(f);
	fclose(f);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (long)sizeof(buf) - 2;
	buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w; /* nowhere left to report a failing stderr */
}

/* ---- Running ---- */

static bool admit(const skt_addr *peer, void *arg)
{
	const struct serve_opts *o = arg;
	return cli_cidrs_admit(&o->allow, &o->deny, peer);
}

static int load_quotes(struct serve_opts *o)
{
	svc_quotes_fault f;
	int rc = quotes_load(&o->quotes, o->file, &f);
	if (rc == SKT_EINVAL && f.kind != NULL) {
		fprintf(stderr, "sockit: serve: %s: not a regular file (%s)\n",
			o->file, f.kind);
		return CLI_FAIL;
	}
	if (rc == SKT_EMALFORMED) {
		fprintf(stderr, "sockit: serve: %s: line %zu: not printable "
			"ASCII text (RFC 865)\n", o->file, f.line);
		return CLI_FAIL;
	}
	if (rc == SKT_ETOOBIG && f.line > 0) {
		fprintf(stderr, "sockit: serve: %s: line %zu: a quote over 512 "
			"characters (RFC 865)\n", o->file, f.line);
		return CLI_FAIL;
	}
	if (rc == SKT_ETOOBIG) {
		fprintf(stderr, "sockit: serve: %s: larger than 1 MiB\n",
			o->file);
		return CLI_FAIL;
	}
	if (rc == SKT_EINVAL) {
		fprintf(stderr, "sockit: serve: %s: no quote in it\n", o->file);
		return CLI_FAIL;
	}
	if (rc < 0)
		return cli_fail("serve", o->file, rc);
	o->svc.service_arg = &o->quotes;
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	static struct serve_opts o; /* large: the CIDR lists */
	int rc = parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.file != NULL && (rc = load_quotes(&o)) != CLI_OK)
		return rc;
	if (o.allow.n > 0 || o.deny.n > 0) {
		o.svc.admit = admit;
		o.svc.admit_arg = &o;
	}
	o.svc.log = log_event;
	o.svc.log_arg = &o;
	cli_raise_nofile();
	int err = skt_server_run(&o.svc);
	quotes_free(&o.quotes);
	if (err == 0)
		return CLI_OK;
	if (o.svc.failed_addr >= o.svc.naddrs)
		return cli_fail("serve", o.name, err);
	const skt_server_addr *a = &o.svc.addrs[o.svc.failed_addr];
	char what[SKT_HOST_MAX + 32];
	bool v6 = strchr(a->host, ':') != NULL;
	snprintf(what, sizeof(what), "%s%s%s:%s/%s", v6 ? "[" : "",
		 a->host[0] != '\0' ? a->host : "127.0.0.1", v6 ? "]" : "",
		 a->port, o.svc.failed_transport == SOCK_DGRAM ? "udp" : "tcp");
	return cli_fail("serve", what, err);
}

const cli_cmd cli_cmd_serve = {
	.name = "serve",
	.summary = "run a small service: echo, chargen, chat, hello (HTTP)...",
	.usage =
		"usage: sockit serve [options] SERVICE\n"
		"  Serve SERVICE on 127.0.0.1 at its port below until SIGINT or\n"
		"  SIGTERM (then connections get 2 s to finish). Logs go to stderr.\n"
		"  SERVICE  port  idle  what\n"
		"  echo     7007  300   RFC 862, TCP and UDP\n"
		"  discard  9009  300   RFC 863, TCP and UDP\n"
		"  chargen  1919  300   RFC 864, TCP and UDP; at the reader's pace\n"
		"  qotd     1717  300   RFC 865, TCP and UDP; --file PATH for quotes\n"
		"  daytime  1313  300   RFC 867, TCP and UDP\n"
		"  time     3737  300   RFC 868, TCP and UDP\n"
		"  upper    8001  300   upper-casing echo, TCP and UDP\n"
		"  chat     6667  3600  chat room like ncat --chat: /nick NAME\n"
		"  hello    8080  60    HTTP/1.1 \"Hello, world!\", keep-alive\n"
		"  --listen ADDR      HOST:PORT, [V6]:PORT, *:PORT or PORT (repeatable);\n"
		"                     port 0 picks a free one, printed on stderr\n"
		"  --tcp, -u, --udp   transports (default TCP; give both for both)\n"
		"  --workers N        loops, one thread each (default: one per CPU)\n"
		"  --max-conns N      connections open at once (default 10000, 0: any)\n"
		"  --max-per-ip N     per client address (default 256, 0: any)\n"
		"  --idle-timeout S   close a connection idle S seconds (0: never)\n"
		"  --allow CIDR       admit only these clients (repeatable)\n"
		"  --deny CIDR        refuse these clients (repeatable)\n"
		"  --max-queue BYTES  chat: cut off a member this far behind\n"
		"                     (default 262144)\n"
		"  --file PATH        qotd: quotes split by \"%\" lines, or one a line\n"
		"  --stats S          print counters every S seconds (also SIGUSR1)\n"
		"  --json             log as JSON Lines\n"
		"  -v, --verbose      log every connection and datagram\n",
	.run = run,
};
