/* cmd_relay.c - `sockit relay LISTEN TARGET...`: a port forwarder on the
 * server (src/tools/relay/). Options into a struct, conflicts checked in
 * one place, the targets resolved, then skt_server_run; this file only
 * adds the log: one line per event on stderr, as text or JSON Lines.
 */
#include "cmds.h"
#include "json.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNS    10000
#define DEFAULT_MAX_PER_IP   256
#define DEFAULT_CONNECT_MS   5000
#define DEFAULT_UDP_IDLE_MS  60000
#define DEFAULT_MAX_SESSIONS 1024

enum {
	OPT_WORKERS = 256,
	OPT_MAX_CONNS,
	OPT_MAX_PER_IP,
	OPT_IDLE,
	OPT_MAX_TIME,
	OPT_CONNECT_TIMEOUT,
	OPT_ALLOW,
	OPT_DENY,
	OPT_STATS,
	OPT_JSON,
	OPT_TOXIC,
	OPT_SEED,
	OPT_MAX_SESSIONS
};

/* ---- Options ---- */

static int count_opt(const char *opt, const char *text, size_t max, size_t *out)
{
	uint64_t v;
	int rc = cli_opt_count("relay", opt, text, 0, max, &v);
	*out = (size_t)v;
	return rc;
}

static int seconds_opt(const char *opt, const char *text, int min, int *ms)
{
	return cli_opt_duration("relay", opt, text, 1000, min, 86400000, ms);
}

static int toxic_opt(struct relay_cli_opts *o, const char *arg)
{
	if (o->relay.ntoxics == TOXICS_MAX)
		return cli_usage_error("relay", "more than %d --toxic",
				       TOXICS_MAX);
	char why[160];
	relay_toxic *t = &o->relay.toxics[o->relay.ntoxics];
	if (toxic_parse(t, arg, why, sizeof(why)) < 0)
		return cli_usage_error("relay", "--toxic: %s", why);
	o->relay.ntoxics++;
	return CLI_OK;
}

static int option(struct relay_cli_opts *o, int ch, const char *arg)
{
	skt_server_opts *s = &o->svc;
	size_t n;
	int rc;
	static const char *const tcp_only[] = {
		[OPT_WORKERS - OPT_WORKERS] = "--workers",
		[OPT_MAX_CONNS - OPT_WORKERS] = "--max-conns",
		[OPT_MAX_PER_IP - OPT_WORKERS] = "--max-per-ip",
		[OPT_MAX_TIME - OPT_WORKERS] = "--max-time",
		[OPT_CONNECT_TIMEOUT - OPT_WORKERS] = "--connect-timeout",
		[OPT_STATS - OPT_WORKERS] = "--stats",
	};
	if (ch >= OPT_WORKERS && ch <= OPT_STATS &&
	    tcp_only[ch - OPT_WORKERS] != NULL)
		o->tcp_only = tcp_only[ch - OPT_WORKERS];
	switch (ch) {
	case OPT_WORKERS: /* 0: one per CPU */
		rc = count_opt("--workers", arg, CLI_WORKERS_MAX, &n);
		s->workers = (unsigned)n;
		return rc;
	case OPT_MAX_CONNS:
		return count_opt("--max-conns", arg, 10000000, &s->max_conns);
	case OPT_MAX_PER_IP:
		o->per_ip_given = true;
		return count_opt("--max-per-ip", arg, 10000000, &s->max_per_ip);
	case OPT_IDLE:
		o->idle_given = true;
		return seconds_opt("--idle-timeout", arg, 0, &o->relay.idle_ms);
	case OPT_MAX_SESSIONS:
		rc = count_opt("--max-sessions", arg, 1000000, &n);
		if (rc == CLI_OK && n == 0)
			return cli_usage_error("relay", "--max-sessions: 1 or "
							"more");
		o->uopts.max_sessions = n;
		return rc;
	case OPT_MAX_TIME:
		return seconds_opt("--max-time", arg, 0, &o->relay.max_ms);
	case OPT_CONNECT_TIMEOUT:
		return seconds_opt("--connect-timeout", arg, 1,
				   &o->relay.connect_ms);
	case OPT_STATS:
		return seconds_opt("--stats", arg, 0, &s->stats_ms);
	case OPT_ALLOW:
		return cli_cidr_add("relay", &o->allow, arg);
	case OPT_DENY:
		return cli_cidr_add("relay", &o->deny, arg);
	case OPT_JSON:
		o->json = true;
		return CLI_OK;
	case OPT_TOXIC:
		return toxic_opt(o, arg);
	case OPT_SEED:
		o->seed_given = true;
		return cli_opt_count("relay", "--seed", arg, 0, UINT64_MAX,
				     &o->relay.seed);
	default: /* 'v' */
		s->verbose = true;
		return CLI_OK;
	}
}

/* udp:HOST:PORT, udp:[V6]:PORT or udp:PORT: the text after "udp:" in
 * *rest, true; else false. */
static bool udp_form(const char *text, const char **rest)
{
	if (strncmp(text, "udp:", 4) != 0)
		return false;
	*rest = text + 4;
	return true;
}

static int parse_udp(struct relay_cli_opts *o, const char *what,
		     const char *text, const char *rest, skt_endpoint *ep)
{
	bool listen = strcmp(what, "LISTEN") == 0;
	int rc = skt_endpoint_parse(
		ep, rest, listen ? SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST : 0);
	if (rc == 0 && ep->kind != SKT_EP_INET)
		rc = SKT_EINVAL;
	if (rc < 0)
		return cli_usage_error("relay", "%s '%s': %s", what, text,
				       skt_strerror(rc));
	uint16_t port;
	rc = cli_opt_port("relay", listen ? "LISTEN port" : "TARGET port",
			  ep->service, SOCK_DGRAM,
			  listen ? SKT_PARSE_PORT_ZERO : 0, &port);
	if (rc != CLI_OK || !listen)
		return rc;
	snprintf(o->uhost, sizeof(o->uhost), "%s", ep->host);
	snprintf(o->uport, sizeof(o->uport), "%u", (unsigned)port);
	return CLI_OK;
}

/* HOST:PORT, [V6]:PORT, PORT (loopback), unix:PATH or unix:@name. */
static int parse_listen(struct relay_cli_opts *o, const char *text)
{
	skt_endpoint ep;
	const char *rest;
	if (udp_form(text, &rest)) {
		o->udp = true;
		return parse_udp(o, "LISTEN", text, rest, &ep);
	}
	int rc = skt_endpoint_parse(&ep, text,
				    SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST);
	if (rc < 0)
		return cli_usage_error("relay", "LISTEN '%s': %s", text,
				       skt_strerror(rc));
	skt_server_addr *a = &o->svc.addrs[0];
	o->svc.naddrs = 1;
	if (ep.kind == SKT_EP_UNIX) {
		a->unix_addr = ep.unix_addr;
		o->unix_listen = true;
		return CLI_OK;
	}
	if (ep.kind != SKT_EP_INET)
		return cli_usage_error("relay",
				       "LISTEN '%s': a stream address "
				       "(HOST:PORT or unix:PATH)",
				       text);
	uint16_t port;
	rc = cli_opt_port("relay", "LISTEN port", ep.service, SOCK_STREAM,
			  SKT_PARSE_PORT_ZERO, &port);
	if (rc != CLI_OK)
		return rc;
	snprintf(a->host, sizeof(a->host), "%s", ep.host);
	snprintf(a->port, sizeof(a->port), "%u", (unsigned)port);
	return CLI_OK;
}

static int parse_target(struct relay_cli_opts *o, const char *text)
{
	size_t i = o->relay.ntargets;
	if (i == RELAY_TARGETS_MAX)
		return cli_usage_error("relay", "more than %d TARGETs",
				       RELAY_TARGETS_MAX);
	skt_endpoint *ep = &o->target_ep[i];
	const char *rest;
	bool udp = udp_form(text, &rest);
	if (udp != o->udp)
		return cli_usage_error("relay",
				       "TARGET '%s': LISTEN and TARGET are "
				       "both udp: or neither",
				       text);
	if (udp && i > 0)
		return cli_usage_error("relay", "a udp: relay has one TARGET");
	if (udp) {
		int rc = parse_udp(o, "TARGET", text, rest, ep);
		if (rc == CLI_OK) {
			snprintf(o->targets[i].name, sizeof(o->targets[i].name),
				 "%s", text);
			o->relay.ntargets++;
		}
		return rc;
	}
	int rc = skt_endpoint_parse(ep, text, 0);
	if (rc < 0)
		return cli_usage_error("relay", "TARGET '%s': %s", text,
				       skt_strerror(rc));
	if (ep->kind != SKT_EP_INET && ep->kind != SKT_EP_UNIX)
		return cli_usage_error("relay",
				       "TARGET '%s': a stream address "
				       "(HOST:PORT or unix:PATH)",
				       text);
	if (ep->kind == SKT_EP_INET) {
		uint16_t port;
		rc = cli_opt_port("relay", "TARGET port", ep->service,
				  SOCK_STREAM, 0, &port);
		if (rc != CLI_OK)
			return rc;
	}
	snprintf(o->targets[i].name, sizeof(o->targets[i].name), "%s", text);
	o->relay.ntargets++;
	return CLI_OK;
}

/* Every conflict, in one place. */
static int validate(struct relay_cli_opts *o)
{
	for (size_t i = 0; i < o->relay.ntoxics; i++) {
		int k = o->relay.toxics[i].kind;
		if (toxic_is_udp(k) != o->udp)
			return cli_usage_error(
				"relay", "--toxic %s: %s", toxic_name(k),
				o->udp ? "a TCP toxic, on a udp: relay"
				       : "a UDP toxic, on a TCP relay");
	}
	if (o->udp && o->tcp_only != NULL)
		return cli_usage_error("relay", "%s: not for a udp: relay",
				       o->tcp_only);
	if (!o->udp && o->uopts.max_sessions > 0)
		return cli_usage_error("relay", "--max-sessions: only for a "
						"udp: relay");
	if (o->udp) {
		if (o->uopts.max_sessions == 0)
			o->uopts.max_sessions = DEFAULT_MAX_SESSIONS;
		o->uopts.idle_ms =
			o->idle_given ? o->relay.idle_ms : DEFAULT_UDP_IDLE_MS;
		return CLI_OK;
	}
	if (o->unix_listen && (o->allow.n > 0 || o->deny.n > 0))
		return cli_usage_error("relay", "--allow/--deny: a Unix "
						"LISTEN has no client "
						"addresses");
	if (o->unix_listen && o->per_ip_given && o->svc.max_per_ip > 0)
		return cli_usage_error("relay", "--max-per-ip: a Unix LISTEN "
						"has no client addresses");
	if (o->unix_listen)
		o->svc.max_per_ip = 0; /* every client would count as one */
	o->svc.workers = cli_workers(o->svc.workers);
	return CLI_OK;
}

int cmd_relay_parse(int argc, char **argv, struct relay_cli_opts *o)
{
	static const struct option longopts[] = {
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
		{"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"max-time", required_argument, NULL, OPT_MAX_TIME},
		{"connect-timeout", required_argument, NULL,
		 OPT_CONNECT_TIMEOUT},
		{"allow", required_argument, NULL, OPT_ALLOW},
		{"deny", required_argument, NULL, OPT_DENY},
		{"stats", required_argument, NULL, OPT_STATS},
		{"json", no_argument, NULL, OPT_JSON},
		{"toxic", required_argument, NULL, OPT_TOXIC},
		{"seed", required_argument, NULL, OPT_SEED},
		{"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->svc = (skt_server_opts){.svc = &svc_relay,
				   .tcp = true,
				   .max_conns = DEFAULT_MAX_CONNS,
				   .max_per_ip = DEFAULT_MAX_PER_IP};
	o->relay.connect_ms = DEFAULT_CONNECT_MS;
	o->relay.targets = o->targets;
	cli_args a;
	cli_args_init(&a, "relay", argc, argv, "v", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0)
		rc = option(o, ch, a.arg);
	if (rc != CLI_OK)
		return CLI_USAGE;
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next < 2)
		return cli_usage_error("relay", "expected LISTEN and at least "
						"one TARGET");
	rc = parse_listen(o, argv[a.next]);
	for (int i = a.next + 1; rc == CLI_OK && i < argc; i++)
		rc = parse_target(o, argv[i]);
	return rc == CLI_OK ? validate(o) : rc;
}

/* The targets' addresses, resolved once at start (a name's addresses
 * are tried in the resolver's order, up to RELAY_TARGET_ADDRS). */
static int resolve_targets(struct relay_cli_opts *o)
{
	for (size_t i = 0; i < o->relay.ntargets; i++) {
		relay_target *t = &o->targets[i];
		const skt_endpoint *ep = &o->target_ep[i];
		if (ep->kind == SKT_EP_UNIX) {
			t->addr[0] = ep->unix_addr;
			t->naddr = 1;
			continue;
		}
		skt_addrlist l = {0};
		int rc = skt_resolve(&l, ep->host, ep->service, AF_UNSPEC,
				     SOCK_STREAM, 0);
		if (rc < 0)
			return cli_fail("relay", t->name, rc);
		for (size_t k = 0; k < l.n && t->naddr < RELAY_TARGET_ADDRS;
		     k++)
			t->addr[t->naddr++] = l.addrs[k];
		skt_addrlist_fini(&l);
	}
	return CLI_OK;
}

/* ---- The log: one write per line, from any worker thread ---- */

static unsigned long long u(uint64_t v)
{
	return v;
}

static void emit(FILE *f, char *buf, size_t cap)
{
	long n = ftell(f);
	fclose(f);
	if (n < 0)
		return;
	if ((size_t)n > cap - 2)
		n = (long)cap - 2;
	if (n == 0 || buf[n - 1] != '\n')
		buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w; /* nowhere left to report a failing stderr */
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000;
}

static void text_end(FILE *f, const relay_log *l)
{
	switch (l->end) {
	case RELAY_END_CLOSED:
		fputs("closed", f);
		break;
	case RELAY_END_RESET_CLIENT:
		fprintf(f, "client failed (%s): target reset",
			skt_strerror(l->err));
		break;
	case RELAY_END_RESET_TARGET:
		fprintf(f, "target failed (%s): client reset",
			skt_strerror(l->err));
		break;
	case RELAY_END_NO_TARGET:
		fprintf(f, "no target reachable (last: %s): client reset",
			skt_strerror(l->err));
		break;
	case RELAY_END_IDLE:
		fputs("idle timeout: both reset", f);
		break;
	case RELAY_END_MAX_TIME:
		fputs("--max-time reached: both reset", f);
		break;
	case RELAY_END_TOXIC_RESET:
		fprintf(f, "reset by toxic %s", l->toxic);
		break;
	case RELAY_END_TOXIC_CLOSE:
		fprintf(f, "closed by toxic %s", l->toxic);
		break;
	case RELAY_END_ERROR:
		fprintf(f, "failed (%s): both reset", skt_strerror(l->err));
		break;
	default:
		fputs("still open at the stop's deadline: both reset", f);
	}
}

/* A connection's end: every one with -v, else the failures (no target
 * reachable, out of fds or memory): what the user must hear about. */
static void relay_event(const relay_log *l, void *arg)
{
	const struct relay_cli_opts *o = arg;
	if (!o->svc.verbose && l->end != RELAY_END_NO_TARGET &&
	    l->end != RELAY_END_ERROR)
		return;
	char buf[2048], peer[SKT_ADDRSTRLEN];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (o->json) {
		cli_json j;
		cli_json_begin(&j, f, "close");
		cli_json_num(&j, "time", now_s(), 3);
		cli_json_text(&j, "server", "relay");
		cli_json_addr(&j, "peer", &l->c->peer);
		cli_json_uint(&j, "id", l->c->id);
		if (l->target != NULL)
			cli_json_text(&j, "target", l->target);
		else
			cli_json_null(&j, "target");
		cli_json_text(&j, "reason", relay_end_name(l->end));
		if (l->toxic != NULL)
			cli_json_text(&j, "toxic", l->toxic);
		else
			cli_json_null(&j, "toxic");
		cli_json_error(&j, "error", l->err, NULL);
		cli_json_uint(&j, "bytes_up", l->up);
		cli_json_uint(&j, "bytes_down", l->down);
		cli_json_us(&j, "duration_s", l->ms * 1000);
		cli_json_end(&j);
	} else {
		if (skt_addr_format(&l->c->peer, peer, sizeof(peer)) < 0)
			snprintf(peer, sizeof(peer), "-");
		fprintf(f, "sockit: relay: #%llu %s -> %s ", u(l->c->id), peer,
			l->target != NULL ? l->target : "-");
		text_end(f, l);
		fprintf(f, " (%llu bytes up, %llu down, %.3f s)", u(l->up),
			u(l->down), l->ms / 1000.0);
	}
	emit(f, buf, sizeof(buf));
}

static void text_stats(FILE *f, const skt_server_stats *st)
{
	fprintf(f,
		"%llu open, %llu accepted, %llu refused, %llu errors, "
		"%llu bytes up, %llu down",
		u(st->open), u(st->accepted), u(st->refused), u(st->errors),
		u(st->bytes_in), u(st->bytes_out));
}

static void text_event(FILE *f, const skt_server_event *ev,
		       const struct relay_cli_opts *o)
{
	char a[SKT_ADDRSTRLEN];
	if (ev->addr == NULL || skt_addr_format(ev->addr, a, sizeof(a)) < 0)
		snprintf(a, sizeof(a), "-");
	fputs("sockit: relay: ", f);
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		fprintf(f, "listening on %s, to ", a);
		for (size_t i = 0; i < o->relay.ntargets; i++)
			fprintf(f, "%s%s", i > 0 ? ", " : "",
				o->targets[i].name);
		return;
	case SKT_SERVER_EV_REFUSED:
		fprintf(f, "%s refused: %s", a, cli_refusal(ev->refusal));
		if (ev->refusal == SKT_SERVER_REFUSE_MAX_CONNS ||
		    ev->refusal == SKT_SERVER_REFUSE_MAX_PER_IP)
			fprintf(f, " %zu reached", ev->limit);
		return;
	case SKT_SERVER_EV_REPEATED:
		fprintf(f, "%llu more %s in the last %g s (%s)", u(ev->count),
			ev->of == SKT_SERVER_EV_REFUSED ? "refusals" : "closes",
			ev->ms / 1000.0,
			ev->of == SKT_SERVER_EV_REFUSED
				? cli_refusal(ev->refusal)
				: "limit");
		return;
	case SKT_SERVER_EV_ERROR:
		fprintf(f, "%s: %s", ev->what, skt_strerror(ev->err));
		return;
	case SKT_SERVER_EV_STATS:
		fputs("stats: ", f);
		text_stats(f, ev->stats);
		return;
	case SKT_SERVER_EV_STOPPING:
		fprintf(f,
			"%s: stopping; %llu open get up to %d s to finish, "
			"then are reset",
			cli_signame(ev->signum), u(ev->stats->open),
			SKT_SERVER_DRAIN_MS / 1000);
		return;
	case SKT_SERVER_EV_STOPPED:
		fprintf(f, "stopped after %.1f s: ", ev->ms / 1000.0);
		text_stats(f, ev->stats);
		fprintf(f, ", %llu reset at the deadline",
			u(ev->deadline_cuts));
		return;
	default:
		return;
	}
}

static const char *const ev_names[] = {
	"listening", "open",  "close",    "refused", "datagram",
	"error",     "stats", "stopping", "stopped", "repeated",
};

static void json_stats(cli_json *j, const skt_server_event *ev)
{
	const skt_server_stats *st = ev->stats;
	cli_json_uint(j, "open", st->open);
	cli_json_uint(j, "accepted", st->accepted);
	cli_json_uint(j, "refused", st->refused);
	cli_json_uint(j, "errors", st->errors);
	cli_json_uint(j, "bytes_up", st->bytes_in);
	cli_json_uint(j, "bytes_down", st->bytes_out);
	cli_json_us(j, "uptime_s", (int64_t)ev->ms * 1000);
}

static void json_event(FILE *f, const skt_server_event *ev)
{
	cli_json j;
	cli_json_begin(&j, f, ev_names[ev->kind]);
	cli_json_num(&j, "time", now_s(), 3);
	cli_json_text(&j, "server", "relay");
	if (ev->addr != NULL)
		cli_json_addr(
			&j, ev->kind == SKT_SERVER_EV_LISTENING ? NULL : "peer",
			ev->addr);
	if (ev->kind == SKT_SERVER_EV_REFUSED) {
		cli_json_text(&j, "reason", cli_refusal(ev->refusal));
		cli_json_uint(&j, "limit", ev->limit);
	} else if (ev->kind == SKT_SERVER_EV_ERROR) {
		cli_json_text(&j, "what", ev->what);
		cli_json_error(&j, "error", ev->err, NULL);
	} else if (ev->kind == SKT_SERVER_EV_REPEATED) {
		cli_json_text(&j, "of", ev_names[ev->of]);
		cli_json_text(&j, "reason",
			      ev->of == SKT_SERVER_EV_REFUSED
				      ? cli_refusal(ev->refusal)
				      : "limit");
		cli_json_uint(&j, "count", ev->count);
	} else if (ev->kind == SKT_SERVER_EV_STOPPING) {
		cli_json_text(&j, "signal", cli_signame(ev->signum));
	}
	if (ev->stats != NULL)
		json_stats(&j, ev);
	if (ev->kind == SKT_SERVER_EV_STOPPED)
		cli_json_uint(&j, "deadline_resets", ev->deadline_cuts);
	cli_json_end(&j);
}

/* The server's events but its OPEN and CLOSE: the relay logs each
 * connection once, at its end, with both directions (relay_event). */
static void server_event(const skt_server_event *ev, void *arg)
{
	const struct relay_cli_opts *o = arg;
	if (ev->kind == SKT_SERVER_EV_OPEN || ev->kind == SKT_SERVER_EV_CLOSE ||
	    ev->kind == SKT_SERVER_EV_DATAGRAM ||
	    (ev->kind == SKT_SERVER_EV_REPEATED &&
	     ev->of != SKT_SERVER_EV_REFUSED))
		return;
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (o->json)
		json_event(f, ev);
	else
		text_event(f, ev, o);
	emit(f, buf, sizeof(buf));
}

/* ---- The UDP relay's log ---- */

static const char *udp_end(int reason)
{
	return reason == UDP_END_IDLE      ? "idle"
	       : reason == UDP_END_STOPPED ? "stopped"
					   : "error";
}

static void udp_text(FILE *f, const relay_udp_event *ev,
		     const struct relay_cli_opts *o)
{
	char a[SKT_ADDRSTRLEN];
	if (ev->addr == NULL || skt_addr_format(ev->addr, a, sizeof(a)) < 0)
		snprintf(a, sizeof(a), "-");
	fputs("sockit: relay: ", f);
	switch (ev->kind) {
	case UDP_EV_LISTENING:
		fprintf(f, "listening on udp:%s, to %s", a, o->targets[0].name);
		return;
	case UDP_EV_OPEN:
		fprintf(f, "#%llu %s: session open", u(ev->id), a);
		return;
	case UDP_EV_CLOSE:
		fprintf(f,
			"#%llu %s: session closed (%s): %llu datagrams up "
			"(%llu bytes), %llu down (%llu bytes), %llu dropped, "
			"%.3f s",
			u(ev->id), a, udp_end(ev->reason), u(ev->dgrams_up),
			u(ev->bytes_up), u(ev->dgrams_down), u(ev->bytes_down),
			u(ev->dropped), ev->ms / 1000.0);
		return;
	case UDP_EV_FULL:
		fprintf(f,
			"%llu datagrams from new clients dropped: "
			"--max-sessions %llu reached",
			u(ev->count), u(ev->sessions));
		return;
	case UDP_EV_ERROR:
		fprintf(f, "%s: %s", ev->what, skt_strerror(ev->err));
		return;
	case UDP_EV_STOPPING:
		fprintf(f, "%s: stopping", cli_signame(ev->signum));
		return;
	default:
		fprintf(f,
			"stopped after %.1f s: %llu sessions, %llu datagrams "
			"dropped with the table full",
			ev->ms / 1000.0, u(ev->sessions), u(ev->count));
	}
}

static void udp_json(FILE *f, const relay_udp_event *ev)
{
	static const char *const names[] = {"listening", "open",  "close",
					    "refused",   "error", "stopping",
					    "stopped"};
	cli_json j;
	cli_json_begin(&j, f, names[ev->kind]);
	cli_json_num(&j, "time", now_s(), 3);
	cli_json_text(&j, "server", "relay");
	cli_json_text(&j, "transport", "udp");
	if (ev->addr != NULL)
		cli_json_addr(&j, ev->kind == UDP_EV_LISTENING ? NULL : "peer",
			      ev->addr);
	switch (ev->kind) {
	case UDP_EV_OPEN:
		cli_json_uint(&j, "id", ev->id);
		break;
	case UDP_EV_CLOSE:
		cli_json_uint(&j, "id", ev->id);
		cli_json_text(&j, "reason", udp_end(ev->reason));
		cli_json_uint(&j, "dgrams_up", ev->dgrams_up);
		cli_json_uint(&j, "dgrams_down", ev->dgrams_down);
		cli_json_uint(&j, "bytes_up", ev->bytes_up);
		cli_json_uint(&j, "bytes_down", ev->bytes_down);
		cli_json_uint(&j, "dropped", ev->dropped);
		cli_json_us(&j, "duration_s", ev->ms * 1000);
		break;
	case UDP_EV_FULL:
		cli_json_text(&j, "reason", "max-sessions");
		cli_json_uint(&j, "limit", ev->sessions);
		cli_json_uint(&j, "count", ev->count);
		break;
	case UDP_EV_ERROR:
		cli_json_text(&j, "what", ev->what);
		cli_json_error(&j, "error", ev->err, NULL);
		break;
	case UDP_EV_STOPPING:
		cli_json_text(&j, "signal", cli_signame(ev->signum));
		break;
	case UDP_EV_STOPPED:
		cli_json_uint(&j, "sessions", ev->sessions);
		cli_json_uint(&j, "refused", ev->count);
		cli_json_us(&j, "uptime_s", ev->ms * 1000);
		break;
	default:
		break;
	}
	cli_json_end(&j);
}

/* Sessions with -v; the rest (listening, errors, stop) always. */
static void udp_event(const relay_udp_event *ev, void *arg)
{
	const struct relay_cli_opts *o = arg;
	if (!o->svc.verbose &&
	    (ev->kind == UDP_EV_OPEN || ev->kind == UDP_EV_CLOSE))
		return;
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (o->json)
		udp_json(f, ev);
	else
		udp_text(f, ev, o);
	emit(f, buf, sizeof(buf));
}

/* ---- Running ---- */

static bool admit(const skt_addr *peer, void *arg)
{
	const struct relay_cli_opts *o = arg;
	return cli_cidrs_admit(&o->allow, &o->deny, peer);
}

static bool admit(const skt_addr *peer, void *arg);

static int run_udp(struct relay_cli_opts *o)
{
	relay_udp_opts *u = &o->uopts;
	const skt_endpoint *ep = &o->target_ep[0];
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, ep->host, ep->service, AF_UNSPEC, SOCK_DGRAM,
			     0);
	if (rc < 0)
		return cli_fail("relay", o->targets[0].name, rc);
	u->target = l.addrs[0];
	skt_addrlist_fini(&l);
	u->host = o->uhost[0] != '\0' ? o->uhost : NULL;
	u->port = o->uport;
	u->log = udp_event;
	u->log_arg = o;
	u->verbose = o->svc.verbose;
	u->toxics = o->relay.toxics;
	u->ntoxics = o->relay.ntoxics;
	u->seed = o->relay.seed;
	if (o->allow.n > 0 || o->deny.n > 0) {
		u->admit = admit;
		u->admit_arg = o;
	}
	cli_raise_nofile();
	int err = relay_udp_run(u);
	if (err == 0)
		return CLI_OK;
	char what[SKT_ADDRSTRLEN + 16];
	const char *host = u->host != NULL                ? u->host
			   : u->failed_family == AF_INET6 ? "::1"
							  : "127.0.0.1";
	bool v6 = strchr(host, ':') != NULL;
	snprintf(what, sizeof(what), "udp:%s%s%s:%s", v6 ? "[" : "", host,
		 v6 ? "]" : "", u->port);
	return cli_fail("relay", what, err);
}

static int run(int argc, char **argv)
{
	static struct relay_cli_opts o; /* large: targets, CIDR lists */
	int rc = cmd_relay_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stderr); /* the log's stream: all of it JSON */
	if (!o.seed_given) {             /* draws differ from run to run */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		o.relay.seed = (uint64_t)ts.tv_sec * 1000000007u ^
			       (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
	}
	if (o.udp)
		return run_udp(&o);
	if ((rc = resolve_targets(&o)) != CLI_OK)
		return rc;
	if (o.allow.n > 0 || o.deny.n > 0) {
		o.svc.admit = admit;
		o.svc.admit_arg = &o;
	}
	o.relay.log = relay_event;
	o.relay.log_arg = &o;
	o.svc.service_arg = &o.relay;
	o.svc.log = server_event;
	o.svc.log_arg = &o;
	o.svc.signals = true;
	const skt_server_addr *a = &o.svc.addrs[0];
	cli_raise_nofile();
	int err = skt_server_run(&o.svc);
	/* A stale socket file was replaced, and the one bound here removed,
	 * by the server (skt_server_addr.unix_addr). */
	if (err == 0)
		return CLI_OK;
	char what[SKT_ADDRSTRLEN + 16];
	if (o.unix_listen) {
		skt_addr_format(&a->unix_addr, what, sizeof(what));
	} else {
		const char *host = a->host[0] != '\0' ? a->host
				   : o.svc.failed_family == AF_INET6
					   ? "::1"
					   : "127.0.0.1";
		bool v6 = strchr(host, ':') != NULL;
		snprintf(what, sizeof(what), "%s%s%s:%s", v6 ? "[" : "", host,
			 v6 ? "]" : "", a->port);
	}
	return cli_fail("relay", what, err);
}

static const char usage_head[] =
	"usage: sockit relay [options] LISTEN TARGET [TARGET...]\n"
	"  Accept on LISTEN (HOST:PORT, [V6]:PORT, PORT for loopback,\n"
	"  unix:PATH, unix:@NAME) and forward each connection to a TARGET\n"
	"  (the same forms; several: round robin, skipping one that refuses\n"
	"  or times out). Until SIGINT, SIGTERM or SIGHUP; then connections\n"
	"  get 2 s to finish and are reset. Logs go to stderr.\n"
	"  udp:HOST:PORT for both LISTEN and one TARGET: a UDP relay, a\n"
	"  session (own socket to the target) per client address.\n";

static const char usage_opts[] =
	"  --workers N        loops, one thread each (default: one per CPU)\n"
	"  --connect-timeout S  each connect to a target (default 5)\n"
	"  --idle-timeout S   reset both sides after S seconds without a byte\n"
	"                     either way (default 0: never)\n"
	"  --max-time S       reset both sides S seconds after the accept\n"
	"                     (default 0: never)\n"
	"  --max-conns N      connections open at once (default 10000, 0: "
	"any)\n"
	"  --max-per-ip N     per client address (default 256, 0: any)\n"
	"  --allow CIDR       admit only these clients (repeatable)\n"
	"  --deny CIDR        refuse these clients (repeatable)\n"
	"  --stats S          print counters every S seconds (also SIGUSR1)\n"
	"  --json             log as JSON Lines (docs/json.md)\n"
	"  -v, --verbose      a line per connection: bytes each way, time\n"
	"  --toxic SPEC       a fault (repeatable): NAME[:KEY=VALUE,...] with\n"
	"                     dir=up|down|both, toxicity=P (0..1); "
	"latency:ms=,\n"
	"                     jitter=; bandwidth:rate= (KB/s); slicer:bytes=,\n"
	"                     ms=; slow_close:ms=; timeout:ms=; limit_data:\n"
	"                     bytes=; reset_peer:ms=; down; fail_first:n=\n"
	"  --seed N           toxicity draws and jitter from N (reproducible)\n"
	"  --max-sessions N   udp: sessions at once (default 1024); a new\n"
	"                     client's datagram past that is dropped\n"
	"  UDP toxics, per datagram: loss:p=,burst=; duplicate:n=; reorder:\n"
	"                     n= or ms=; delay:ms=,jitter=; truncate:bytes=\n"
	"  --idle-timeout on udp: close a session after S s without a\n"
	"                     datagram (default 60)\n"
	"  A half-close passes through (the other way goes on); a reset on\n"
	"  one side resets the other; no target reachable resets the "
	"client.\n";

static void help(FILE *out)
{
	fputs(usage_head, out);
	fputs(usage_opts, out);
}

const cli_cmd cli_cmd_relay = {
	.name = "relay",
	.summary = "forward connections to targets (a port forwarder)",
	.usage = usage_head,
	.help = help,
	.run = run,
};
