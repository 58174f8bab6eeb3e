/* cmd_serve.c - `sockit serve SERVICE`: run one of the built-in services
 * (src/tools/serve/) on loopback or where --listen says. Options into a
 * struct, conflicts checked in one place, then skt_server_run; this file
 * only adds the log: one line per event on stderr, as text or JSON Lines.
 */
#include "cli_tls.h"
#include "cmds.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNS         10000
#define DEFAULT_MAX_PER_IP        256
#define DEFAULT_MAX_QUEUE         ((size_t)256 << 10)
#define DEFAULT_HEADER_TIMEOUT_MS 10000
#define DEFAULT_UDP_RATE          1000 /* replies/s per source; burst twice that */

enum {
	OPT_LISTEN = 256,
	OPT_TCP,
	OPT_UDP,
	OPT_WORKERS,
	OPT_MAX_CONNS,
	OPT_MAX_PER_IP,
	OPT_IDLE,
	OPT_ALLOW,
	OPT_DENY,
	OPT_STATS,
	OPT_JSON,
	OPT_FILE,
	OPT_MAX_QUEUE,
	OPT_SH_EXEC,
	OPT_HEADER_TIMEOUT,
	OPT_UDP_RATE,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_DOTFILES,
	OPT_FOLLOW_SYMLINKS,
	OPT_NO_ACCESS_LOG,
	OPT_UNIX_MODE,
	OPT_PROXY_USER
};

/* ---- Options ---- */

static int count_opt(const char *opt, const char *text, size_t max, size_t *out)
{
	uint64_t v;
	int rc = cli_opt_count("serve", opt, text, 0, max, &v);
	*out = (size_t)v;
	return rc;
}

/* HOST:PORT, [V6]:PORT, PORT or :PORT; a service name as PORT is looked
 * up now, so the server knows its number. Or unix:PATH, unix:@name. */
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
	if (ep.kind == SKT_EP_UNIX) {
		skt_server_addr *a = &s->addrs[s->naddrs++];
		a->unix_addr = ep.unix_addr;
		return CLI_OK;
	}
	if (ep.kind != SKT_EP_INET)
		return cli_usage_error("serve",
				       "--listen '%s': serve listens on IP "
				       "addresses and unix: stream sockets",
				       text);
	uint16_t port;
	rc = cli_opt_port("serve", "--listen port", ep.service, SOCK_STREAM,
			  SKT_PARSE_PORT_ZERO, &port);
	if (rc != CLI_OK)
		return rc;
	skt_server_addr *a = &s->addrs[s->naddrs++];
	snprintf(a->host, sizeof(a->host), "%s", ep.host);
	snprintf(a->port, sizeof(a->port), "%u", (unsigned)port);
	return CLI_OK;
}

/* --unix-mode: octal permission bits, as chmod takes them (660, 0600). */
static int parse_mode(struct serve_opts *o, const char *text)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 8);
	if (text[0] < '0' || text[0] > '7' || *end != '\0' || errno != 0 ||
	    v > 0777 || v == 0)
		return cli_usage_error("serve",
				       "--unix-mode '%s': expected octal "
				       "permissions from 1 to 777 (660, 0600)",
				       text);
	o->unix_mode = (unsigned)v;
	o->unix_mode_given = true;
	return CLI_OK;
}

static bool is_unix(const skt_server_addr *a)
{
	return skt_addr_family(&a->unix_addr) == AF_UNIX;
}

/* unix: listeners: the stream form only; --unix-mode for their files. */
static int validate_unix(struct serve_opts *o)
{
	skt_server_opts *s = &o->svc;
	size_t files = 0, socks = 0;
	for (size_t i = 0; i < s->naddrs; i++) {
		if (!is_unix(&s->addrs[i]))
			continue;
		char t[SKT_ADDRSTRLEN];
		skt_addr_format(&s->addrs[i].unix_addr, t, sizeof(t));
		socks++;
		files += strncmp(t, "unix:@", 6) != 0;
		s->addrs[i].unix_mode = o->unix_mode;
	}
	if (socks > 0 && s->udp)
		return cli_usage_error("serve", "--listen unix: is for the "
						"stream form: not with --udp");
	if (o->unix_mode_given && files == 0)
		return cli_usage_error("serve", "--unix-mode needs a --listen "
						"unix:PATH (an abstract "
						"@name has no file)");
	if (o->unix_mode_given && files < socks)
		return cli_usage_error("serve", "--unix-mode: an abstract "
						"unix:@name has no file to "
						"set it on");
	return CLI_OK;
}

/* exec's program: CMD [ARGS] after SERVICE ("--" keeps its options from
 * being read as serve's), or --sh-exec LINE. argv ends with NULL. */
static int exec_command(struct serve_opts *o, int n, char **args)
{
	if (o->sh_exec != NULL && n > 0)
		return cli_usage_error("serve", "exec: --sh-exec and CMD "
						"conflict: give one");
	if (o->sh_exec != NULL) {
		o->sh_argv[0] = "/bin/sh";
		o->sh_argv[1] = "-c";
		o->sh_argv[2] = (char *)o->sh_exec;
		o->sh_argv[3] = NULL;
		o->cmd.argv = o->sh_argv;
	} else if (n > 0) {
		o->cmd.argv = args;
	} else {
		return cli_usage_error("serve", "exec: expected -- CMD [ARGS] "
						"or --sh-exec 'CMD LINE'");
	}
	o->svc.service_arg = &o->cmd;
	return CLI_OK;
}

static int seconds_opt(const char *opt, const char *text, int *ms)
{
	return cli_opt_duration("serve", opt, text, 1000, 0, 86400000, ms);
}

/* --proxy-user USER:PASS: RFC 1929's 1..255 bytes each (the password
 * may hold a colon; the user name cannot). */
static int proxy_user(struct serve_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t ul = colon != NULL ? (size_t)(colon - arg) : 0;
	if (colon == NULL || ul == 0 || ul > PROXY_CRED_MAX ||
	    strlen(colon + 1) > PROXY_CRED_MAX)
		return cli_usage_error("serve",
				       "--proxy-user: expected USER:PASS, "
				       "each 1 to 255 bytes (USER without "
				       "a colon)");
	memcpy(o->socks5_cred, arg, strlen(arg) + 1); /* fits: checked */
	o->socks5_cred[ul] = '\0';
	o->socks5.user = o->socks5_cred;
	o->socks5.pass = o->socks5_cred + ul + 1;
	return CLI_OK;
}

static int option(struct serve_opts *o, int ch, const char *arg)
{
	skt_server_opts *s = &o->svc;
	size_t n;
	uint64_t v;
	int rc = cli_tls_option(&o->tls, "serve", ch, arg);
	if (rc != -1)
		return rc;
	rc = CLI_OK;
	switch (ch) {
	case OPT_LISTEN:
		return parse_listen(o, arg);
	case OPT_UNIX_MODE:
		return parse_mode(o, arg);
	case OPT_TCP:
		o->tcp = true;
		break;
	case OPT_UDP:
	case 'u':
		o->udp = true;
		break;
	case OPT_WORKERS: /* 0: one per CPU, as when not given */
		rc = count_opt("--workers", arg, CLI_WORKERS_MAX, &n);
		s->workers = (unsigned)n;
		o->workers_given = n > 0;
		return rc;
	case OPT_MAX_CONNS:
		return count_opt("--max-conns", arg, 10000000, &s->max_conns);
	case OPT_MAX_PER_IP:
		return count_opt("--max-per-ip", arg, 10000000, &s->max_per_ip);
	case OPT_MAX_QUEUE:
		o->queue_given = true;
		rc = cli_opt_size("serve", "--max-queue", arg, 1024,
				  (size_t)1 << 30, &v);
		s->max_queue = (size_t)v;
		return rc;
	case OPT_IDLE:
		o->idle_given = true;
		return seconds_opt("--idle-timeout", arg, &s->idle_ms);
	case OPT_STATS:
		return seconds_opt("--stats", arg, &s->stats_ms);
	case OPT_UDP_RATE:
		rc = count_opt("--udp-rate", arg, 1000000, &n);
		s->udp_rate = (unsigned)n;
		return rc;
	case OPT_HEADER_TIMEOUT:
		return seconds_opt("--header-timeout", arg,
				   &s->header_timeout_ms);
	case OPT_ALLOW:
		return cli_cidr_add("serve", &o->allow, arg);
	case OPT_DENY:
		return cli_cidr_add("serve", &o->deny, arg);
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_FILE:
		o->file = arg;
		break;
	case OPT_SH_EXEC:
		o->sh_exec = arg;
		break;
	case OPT_DOTFILES:
		o->dotfiles = true;
		break;
	case OPT_FOLLOW_SYMLINKS:
		o->follow_symlinks = true;
		break;
	case OPT_NO_ACCESS_LOG:
		o->no_access_log = true;
		break;
	case OPT_PROXY_USER:
		rc = proxy_user(o, arg);
		break;
	case OPT_HANDSHAKE_TIMEOUT:
		o->handshake_given = true;
		rc = cli_opt_duration("serve", "--handshake-timeout", arg, 1000,
				      1, 86400000, &s->handshake_timeout_ms);
		break;
	default:
		s->verbose = true;
		break; /* 'v' */
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
	if (o->sh_exec != NULL && svc != &svc_exec)
		return cli_usage_error("serve", "--sh-exec is for exec");
	if (o->socks5.user != NULL && svc != &svc_socks5)
		return cli_usage_error("serve", "--proxy-user is for socks5");
	if (svc == &svc_socks5)
		s->service_arg = &o->socks5;
	if ((o->dotfiles || o->follow_symlinks || o->no_access_log) &&
	    svc != &svc_http)
		return cli_usage_error("serve", "--%s is for http",
				       o->dotfiles        ? "dotfiles"
				       : o->no_access_log ? "no-access-log"
							  : "follow-symlinks");
	int rc = cli_tls_check(&o->tls, "serve", SKT_TLS_SERVER);
	if (rc == CLI_OK)
		rc = validate_unix(o);
	if (rc != CLI_OK)
		return rc;
	if (o->handshake_given && !o->tls.on)
		return cli_usage_error("serve", "--handshake-timeout needs "
						"--tls");
	if (o->tls.on && s->udp)
		return cli_usage_error("serve", "--tls is for TCP: there is "
						"no DTLS");
	if (o->tls.on && svc == &svc_exec)
		return cli_usage_error("serve", "exec: --tls cannot wrap the "
						"socket the program owns");
	/* The program owns the connection: serve sees none of its traffic,
	 * so an idle timer would only kill busy programs. */
	if (o->idle_given && svc == &svc_exec)
		return cli_usage_error("serve", "--idle-timeout does not apply "
						"to exec: the program owns its "
						"connection");
	if ((svc->flags & SKT_SERVICE_ONE_LOOP) && o->workers_given &&
	    s->workers > 1)
		return cli_usage_error("serve",
				       "%s runs on one loop: "
				       "--workers must be 1",
				       svc->name);
	if (s->naddrs == 0) {
		s->naddrs = 1;
		snprintf(s->addrs[0].port, sizeof(s->addrs[0].port), "%u",
			 (unsigned)svc->port);
	}
	if (!o->idle_given)
		s->idle_ms = svc->idle_s * 1000;
	s->workers =
		svc->flags & SKT_SERVICE_ONE_LOOP ? 1 : cli_workers(s->workers);
	return CLI_OK;
}

/* No SERVICE, or several: say which ones there are, from the table. */
static int no_service(int given)
{
	char list[256];
	size_t n = 0;
	for (size_t i = 0; svc_all[i] != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i > 0 ? ", " : "", svc_all[i]->name);
	return cli_usage_error("serve",
			       "expected one SERVICE, not %d (one "
			       "of %s)",
			       given, list);
}

int cmd_serve_parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"unix-mode", required_argument, NULL, OPT_UNIX_MODE},
		{"tcp", no_argument, NULL, OPT_TCP},
		{"udp", no_argument, NULL, OPT_UDP},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
		{"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
		{"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
		{"udp-rate", required_argument, NULL, OPT_UDP_RATE},
		{"allow", required_argument, NULL, OPT_ALLOW},
		{"deny", required_argument, NULL, OPT_DENY},
		{"stats", required_argument, NULL, OPT_STATS},
		{"json", no_argument, NULL, OPT_JSON},
		{"file", required_argument, NULL, OPT_FILE},
		{"sh-exec", required_argument, NULL, OPT_SH_EXEC},
		{"handshake-timeout", required_argument, NULL,
		 OPT_HANDSHAKE_TIMEOUT},
		{"dotfiles", no_argument, NULL, OPT_DOTFILES},
		{"follow-symlinks", no_argument, NULL, OPT_FOLLOW_SYMLINKS},
		{"no-access-log", no_argument, NULL, OPT_NO_ACCESS_LOG},
		{"proxy-user", required_argument, NULL, OPT_PROXY_USER},
		CLI_TLS_LONGOPTS,
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct serve_opts){
		.svc = {.max_conns = DEFAULT_MAX_CONNS,
			.max_per_ip = DEFAULT_MAX_PER_IP,
			.max_queue = DEFAULT_MAX_QUEUE,
			.header_timeout_ms = DEFAULT_HEADER_TIMEOUT_MS,
			.udp_rate = DEFAULT_UDP_RATE}};
	cli_args a;
	cli_args_init(&a, "serve", argc, argv, "uv", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0)
		rc = option(o, ch, a.arg);
	if (rc != CLI_OK)
		return CLI_USAGE;
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	if (argc - a.next < 1)
		return no_service(0);
	o->name = argv[a.next];
	o->svc.svc = svc_find(o->name);
	if (o->svc.svc == NULL)
		return cli_usage_error("serve", "unknown service '%s'",
				       o->name);
	if (o->svc.svc == &svc_exec) {
		rc = exec_command(o, argc - a.next - 1, argv + a.next + 1);
		if (rc != CLI_OK)
			return rc;
	} else if (o->svc.svc == &svc_http && argc - a.next <= 2) {
		o->dir = argc - a.next == 2 ? argv[a.next + 1] : ".";
	} else if (argc - a.next != 1) {
		return cli_usage_error("serve",
				       "expected one SERVICE, got "
				       "'%s' after it",
				       argv[a.next + 1]);
	}
	return validate(o);
}

/* ---- The log: one write per line, from any worker thread ---- */

static void addr_text(const skt_addr *a, char *buf, size_t cap)
{
	if (a == NULL || skt_addr_format(a, buf, cap) < 0)
		snprintf(buf, cap, "-");
}

static const char *close_reason(const skt_server_event *ev)
{
	switch (ev->conn->end) {
	case SKT_SERVER_END_CUTOFF:
		return "cutoff";
	case SKT_SERVER_END_TOOBIG:
		return "too-big";
	case SKT_SERVER_END_DEADLINE:
		return "deadline";
	case SKT_SERVER_END_HEAD_TIMEOUT:
		return "header-timeout";
	case SKT_SERVER_END_SHED:
		return "shed";
	default:
		break;
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
		fprintf(f,
			" cut off: output cap of %zu bytes reached by a "
			"slow reader",
			c->limit);
	else if (strcmp(r, "too-big") == 0)
		fprintf(f, " cut off: a line or request over %zu bytes",
			c->limit);
	else if (strcmp(r, "deadline") == 0)
		fputs(" reset: still open at the shutdown deadline", f);
	else if (strcmp(r, "header-timeout") == 0)
		fprintf(f,
			" header timeout: request head not complete in "
			"%g s, closed",
			c->limit / 1000.0);
	else if (strcmp(r, "shed") == 0)
		fprintf(f,
			" shed: waiting for a request head while "
			"--max-conns %zu was full, closed",
			c->limit);
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

static void text_stats(FILE *f, const skt_server_stats *st, bool tls)
{
	fprintf(f,
		"%llu open, %llu accepted, %llu refused, %llu timed out, "
		"%llu cut off, %llu shed, %llu errors, ",
		u(st->open), u(st->accepted), u(st->refused), u(st->timeouts),
		u(st->cutoffs), u(st->shed), u(st->errors));
	if (tls)
		fprintf(f, "%llu TLS handshakes, %llu failed, ",
			u(st->handshakes), u(st->handshakes_failed));
	fprintf(f,
		"%llu bytes in, %llu out, %llu datagrams in, %llu out, "
		"%llu dropped (over --udp-rate or 8192 bytes)",
		u(st->bytes_in), u(st->bytes_out), u(st->dgrams_in),
		u(st->dgrams_out), u(st->dgrams_dropped));
}

static void text_refused(FILE *f, const skt_server_event *ev)
{
	if (ev->refusal == SKT_SERVER_REFUSE_DENIED)
		fputs("by --allow/--deny", f);
	else if (ev->refusal == SKT_SERVER_REFUSE_STOPPING)
		fputs("the server is stopping", f);
	else
		fprintf(f, "--%s %zu reached", cli_refusal(ev->refusal),
			ev->limit);
}

static void text_error(FILE *f, const skt_server_event *ev, const char *addr)
{
	if (strcmp(ev->what, "handshake") == 0 && ev->addr != NULL) {
		/* "TLS handshake failed" says nothing more than the reason */
		fprintf(f, "%s: %s TLS handshake: %s", ev->service, addr,
			ev->reason[0] != '\0' && ev->err != SKT_ETIMEDOUT
				? ev->reason
				: skt_strerror(ev->err));
		if (ev->err == SKT_ETIMEDOUT)
			fputs(" (--handshake-timeout)", f);
	} else {
		fprintf(f, "%s: %s: %s", ev->service, ev->what,
			skt_strerror(ev->err));
	}
	if (strcmp(ev->what, "accept") == 0)
		fprintf(f, " (accepting paused %d ms)", SKT_ACCEPT_PAUSE_MS);
	if (ev->quiet > 0)
		fprintf(f, " (%u more since the last report)", ev->quiet);
}

/* 1234567 as "1,234,567". */
static const char *grouped(uint64_t v, char buf[32])
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	int out = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = tmp[i];
	}
	buf[out] = '\0';
	return buf;
}

/* "refused 1,234 more connections in the last 1 s: --max-per-ip 256
 * reached", and the same for closes and datagrams. */
static void text_repeated(FILE *f, const skt_server_event *ev, int idle_ms)
{
	char n[32];
	grouped(ev->count, n);
	double s = ev->ms / 1000.0;
	if (ev->of == SKT_SERVER_EV_REFUSED) {
		fprintf(f, "refused %s more connections in the last %g s: ", n,
			s);
		text_refused(f, ev);
		return;
	}
	if (ev->of == SKT_SERVER_EV_DATAGRAM &&
	    ev->dropped == SKT_SERVER_DROP_TOOBIG) {
		fprintf(f,
			"%s more datagrams over %zu bytes dropped in the "
			"last %g s",
			n, ev->limit, s);
		return;
	}
	if (ev->of == SKT_SERVER_EV_DATAGRAM) {
		fprintf(f,
			"%s more datagrams not answered in the last %g s: "
			"over --udp-rate %zu/s",
			n, s, ev->limit);
		return;
	}
	fprintf(f, "%s more connections ended in the last %g s: ", n, s);
	switch (ev->end) {
	case SKT_SERVER_END_CUTOFF:
		fprintf(f, "cut off at the output cap of %zu bytes", ev->limit);
		break;
	case SKT_SERVER_END_TOOBIG:
		fprintf(f, "cut off: a line or request over %zu bytes",
			ev->limit);
		break;
	case SKT_SERVER_END_DEADLINE:
		fputs("reset at the shutdown deadline", f);
		break;
	case SKT_SERVER_END_HEAD_TIMEOUT:
		fprintf(f, "header timeout: request head not complete in %g s",
			ev->limit / 1000.0);
		break;
	case SKT_SERVER_END_SHED:
		fprintf(f,
			"shed: waiting for a request head while --max-conns "
			"%zu was full",
			ev->limit);
		break;
	default:
		fprintf(f, "idle timeout: no traffic for %g s",
			idle_ms / 1000.0);
	}
}

/* -v: what the handshake agreed, after "connected". */
static void text_tls(FILE *f, const skt_server_conn *c)
{
	skt_tls_info i;
	skt_tls *t = skt_server_conn_tls(c);
	if (t == NULL || skt_tls_get_info(t, &i) != 0)
		return;
	fprintf(f, " (%s %s%s%s%s%s%s%s%s)", i.version_name, i.cipher,
		i.resumed ? ", resumed" : "",
		i.alpn[0] != '\0' ? ", alpn " : "", i.alpn,
		i.sni[0] != '\0' ? ", sni " : "", i.sni,
		i.peer_cert ? ", client " : "", i.peer_cert ? i.subject : "");
}

static void text_event(FILE *f, const skt_server_event *ev,
		       const struct serve_opts *o)
{
	char a[SKT_ADDRSTRLEN];
	addr_text(ev->addr, a, sizeof(a));
	const char *tr = ev->transport == SOCK_DGRAM ? "udp" : "tcp";
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		if (skt_addr_family(ev->addr) == AF_UNIX)
			fprintf(f, "%s listening on %s", ev->service, a);
		else
			fprintf(f, "%s listening on %s/%s", ev->service, a, tr);
		return;
	case SKT_SERVER_EV_OPEN:
		fprintf(f, "%s: #%llu %s connected", ev->service,
			(unsigned long long)ev->conn->id, a);
		text_tls(f, ev->conn);
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
		if (ev->dropped == SKT_SERVER_DROP_TOOBIG) {
			fprintf(f, "%s: %s datagram over %zu bytes dropped",
				ev->service, a, ev->limit);
			return;
		}
		fprintf(f, "%s: %s datagram: %ld bytes in, ", ev->service, a,
			ev->in);
		if (ev->dropped == SKT_SERVER_DROP_RATE)
			fprintf(f, "no answer: over --udp-rate %zu/s",
				ev->limit);
		else if (ev->out < 0)
			fputs("no answer", f);
		else
			fprintf(f, "%ld out", ev->out);
		return;
	case SKT_SERVER_EV_ERROR:
		text_error(f, ev, a);
		return;
	case SKT_SERVER_EV_STATS:
		fprintf(f, "%s: stats: ", ev->service);
		text_stats(f, ev->stats, o->tls.on);
		return;
	case SKT_SERVER_EV_STOPPING:
		fprintf(f,
			"%s: %s: stopping; %llu connection%s open get%s up "
			"to %d s to finish",
			ev->service, cli_signame(ev->signum),
			(unsigned long long)ev->stats->open,
			ev->stats->open == 1 ? "" : "s",
			ev->stats->open == 1 ? "s" : "",
			SKT_SERVER_DRAIN_MS / 1000);
		return;
	case SKT_SERVER_EV_REPEATED:
		fprintf(f, "%s: ", ev->service);
		text_repeated(f, ev, o->svc.idle_ms);
		return;
	case SKT_SERVER_EV_STOPPED:
		fprintf(f, "%s: stopped after %.1f s: ", ev->service,
			ev->ms / 1000.0);
		text_stats(f, ev->stats, o->tls.on);
		fprintf(f, ", %llu reset at the shutdown deadline",
			(unsigned long long)ev->deadline_cuts);
		return;
	}
}

static void json_stats(cli_json *j, const skt_server_event *ev)
{
	const skt_server_stats *st = ev->stats;
	cli_json_uint(j, "open", st->open);
	cli_json_uint(j, "accepted", st->accepted);
	cli_json_uint(j, "refused", st->refused);
	cli_json_uint(j, "timeouts", st->timeouts);
	cli_json_uint(j, "cutoffs", st->cutoffs);
	cli_json_uint(j, "shed", st->shed);
	cli_json_uint(j, "errors", st->errors);
	cli_json_uint(j, "handshakes", st->handshakes);
	cli_json_uint(j, "handshakes_failed", st->handshakes_failed);
	cli_json_uint(j, "bytes_in", st->bytes_in);
	cli_json_uint(j, "bytes_out", st->bytes_out);
	cli_json_uint(j, "datagrams_in", st->dgrams_in);
	cli_json_uint(j, "datagrams_out", st->dgrams_out);
	cli_json_uint(j, "datagrams_dropped", st->dgrams_dropped);
	cli_json_us(j, "uptime_s", (int64_t)ev->ms * 1000);
}

static void json_close(cli_json *j, const skt_server_event *ev)
{
	const skt_server_conn *c = ev->conn;
	const char *r = close_reason(ev);
	cli_json_uint(j, "id", c->id);
	if (c->who[0] != '\0')
		cli_json_text(j, "nick", c->who);
	cli_json_text(j, "reason", r);
	cli_json_error(j, "error", strcmp(r, "error") == 0 ? ev->err : 0, NULL);
	if (c->end == SKT_SERVER_END_CUTOFF || c->end == SKT_SERVER_END_TOOBIG)
		cli_json_uint(j, "limit_bytes", c->limit);
	cli_json_uint(j, "bytes_in", c->in);
	cli_json_uint(j, "bytes_out", c->out);
	cli_json_us(j, "duration_s", (int64_t)ev->ms * 1000);
}

/* "tls": the handshake's facts (cli_tls_json_info), null when plain. */
static void json_tls(cli_json *j, const skt_server_conn *c)
{
	skt_tls_info i;
	skt_tls *t = skt_server_conn_tls(c);
	if (t == NULL || skt_tls_get_info(t, &i) != 0) {
		cli_json_null(j, "tls");
		return;
	}
	cli_json_object(j, "tls");
	cli_json_text(j, "sni", i.sni);
	cli_tls_json_info(j, &i);
	cli_json_close(j);
}

static const char *const ev_names[] = {
	"listening", "open",  "close",    "refused", "datagram",
	"error",     "stats", "stopping", "stopped", "repeated",
};

/* The reason word of a REPEATED event, as its single events give it. */
static const char *repeated_reason(const skt_server_event *ev)
{
	if (ev->of == SKT_SERVER_EV_REFUSED)
		return cli_refusal(ev->refusal);
	if (ev->of == SKT_SERVER_EV_DATAGRAM)
		return ev->dropped == SKT_SERVER_DROP_RATE ? "udp-rate"
							   : "too-big";
	skt_server_conn c = {.end = ev->end};
	skt_server_event close = {.conn = &c, .err = ev->err};
	return close_reason(&close);
}

/* The keys of docs/json.md's serve section, in its order. */
static void json_event(FILE *f, const skt_server_event *ev)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cli_json j;
	cli_json_begin(&j, f, ev_names[ev->kind]);
	cli_json_num(&j, "time",
		     (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000,
		     3);
	cli_json_text(&j, "server", ev->service);
	if (ev->addr != NULL)
		cli_json_addr(
			&j, ev->kind == SKT_SERVER_EV_LISTENING ? NULL : "peer",
			ev->addr);
	if (ev->kind == SKT_SERVER_EV_LISTENING ||
	    ev->kind == SKT_SERVER_EV_DATAGRAM)
		cli_json_text(&j, "transport",
			      skt_addr_family(ev->addr) == AF_UNIX ? "unix"
			      : ev->transport == SOCK_DGRAM        ? "udp"
								   : "tcp");
	if (ev->kind == SKT_SERVER_EV_OPEN) {
		cli_json_uint(&j, "id", ev->conn->id);
		json_tls(&j, ev->conn);
	} else if (ev->kind == SKT_SERVER_EV_CLOSE) {
		json_close(&j, ev);
	} else if (ev->kind == SKT_SERVER_EV_REFUSED) {
		cli_json_text(&j, "reason", cli_refusal(ev->refusal));
		cli_json_uint(&j, "limit", ev->limit);
	} else if (ev->kind == SKT_SERVER_EV_DATAGRAM) {
		cli_json_int(&j, "bytes_in", ev->in);
		if (ev->out < 0)
			cli_json_null(&j, "bytes_out");
		else
			cli_json_int(&j, "bytes_out", ev->out);
		if (ev->dropped != 0)
			cli_json_text(&j, "dropped",
				      ev->dropped == SKT_SERVER_DROP_RATE
					      ? "udp-rate"
					      : "too-big");
	} else if (ev->kind == SKT_SERVER_EV_ERROR) {
		cli_json_text(&j, "what", ev->what);
		cli_json_error_why(&j, "error", ev->err, NULL,
				   ev->reason != NULL && ev->reason[0] != '\0'
					   ? ev->reason
					   : NULL);
		cli_json_uint(&j, "suppressed", ev->quiet);
	} else if (ev->kind == SKT_SERVER_EV_REPEATED) {
		cli_json_text(&j, "of", ev_names[ev->of]);
		cli_json_text(&j, "reason", repeated_reason(ev));
		cli_json_uint(&j, "limit", ev->limit);
		cli_json_uint(&j, "count", ev->count);
		cli_json_us(&j, "window_s", (int64_t)ev->ms * 1000);
	}
	if (ev->kind == SKT_SERVER_EV_STOPPING)
		cli_json_text(&j, "signal", cli_signame(ev->signum));
	if (ev->stats != NULL)
		json_stats(&j, ev);
	if (ev->kind == SKT_SERVER_EV_STOPPED)
		cli_json_uint(&j, "deadline_resets", ev->deadline_cuts);
	cli_json_end(&j);
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
	if (n == 0 || buf[n - 1] != '\n') /* a JSON line has its own */
		buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w; /* nowhere left to report a failing stderr */
}

/* ---- Running ---- */

/* --allow/--deny match IP addresses: a Unix client has none, and the
 * socket file's mode (--unix-mode) is what admits it. */
static bool admit(const skt_addr *peer, void *arg)
{
	const struct serve_opts *o = arg;
	if (skt_addr_family(peer) == AF_UNIX)
		return true;
	return cli_cidrs_admit(&o->allow, &o->deny, peer);
}

/* A --file failure with a message of its own, in the log's form. */
static int quotes_fail(const struct serve_opts *o, const char *what, int err,
		       const char *why)
{
	if (!o->json) {
		fprintf(stderr, "sockit: serve: %s: %s\n", what, why);
		return CLI_FAIL;
	}
	cli_json j;
	cli_json_begin(&j, stderr, "error");
	cli_json_text(&j, "command", "serve");
	cli_json_object(&j, "error");
	cli_json_text(&j, "code", skt_errname(err));
	cli_json_text(&j, "message", why);
	cli_json_text(&j, "what", what);
	cli_json_end(&j);
	return CLI_FAIL;
}

static int load_quotes(struct serve_opts *o)
{
	svc_quotes_fault f = {0};
	int rc = quotes_load(&o->quotes, o->file, &f);
	char what[4096 + 32];
	snprintf(what, sizeof(what), "%s: line %zu", o->file, f.line);
	if (rc == SKT_EINVAL && f.kind != NULL) {
		char why[64];
		snprintf(why, sizeof(why), "not a regular file (%s)", f.kind);
		return quotes_fail(o, o->file, rc, why);
	}
	if (rc == SKT_EMALFORMED)
		return quotes_fail(o, what, rc,
				   "not printable ASCII text (RFC 865)");
	if (rc == SKT_ETOOBIG && f.line > 0)
		return quotes_fail(o, what, rc,
				   "a quote over 512 characters "
				   "(RFC 865)");
	if (rc == SKT_ETOOBIG)
		return quotes_fail(o, o->file, rc, "larger than 1 MiB");
	if (rc == SKT_EINVAL)
		return quotes_fail(o, o->file, rc, "no quote in it");
	if (rc < 0)
		return cli_fail("serve", o->file, rc);
	o->svc.service_arg = &o->quotes;
	return CLI_OK;
}

/* ---- http: DIR, MIME types and the access log ---- */

/* The target as logged: bytes that could break a CLF field or a JSON
 * string (controls, space, quote, backslash, non-ASCII: the codec lets
 * obs-text through) percent-encoded, as a URI would have them. */
static void log_target(char *out, size_t cap, const char *t, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/* One line per request on stdout, in one write(2) (workers log at
 * once): Common Log Format, or a JSON object (docs/json.md). */
static void http_log(const svc_http_log *l, void *arg)
{
	const struct serve_opts *o = arg;
	char method[64], target[2048], host[SKT_ADDRSTRLEN];
	log_target(method, sizeof(method), l->method, l->method_len);
	log_target(target, sizeof(target), l->target, l->target_len);
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	if (o->json) {
		cli_json j;
		cli_json_begin(&j, f, "request");
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		cli_json_num(&j, "time", (double)ts.tv_sec + ts.tv_nsec / 1e9,
			     3);
		cli_json_text(&j, "server", "http");
		cli_json_addr(&j, "peer", l->peer);
		cli_json_text(&j, "method", method);
		cli_json_text(&j, "path", target);
		cli_json_text(&j, "version",
			      l->minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
		cli_json_int(&j, "status", l->status);
		if (l->bytes < 0)
			cli_json_null(&j, "bytes");
		else
			cli_json_int(&j, "bytes", l->bytes);
		cli_json_us(&j, "duration_s", l->us);
		cli_json_end(&j);
	} else {
		/* host ident authuser [date] "request" status bytes */
		skt_addr_format_host(l->peer, host, sizeof(host));
		time_t now = time(NULL);
		struct tm tm;
		char date[40];
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S +0000", &tm);
		if (l->bytes > 0)
			fprintf(f, "%s - - [%s] \"%s %s HTTP/1.%d\" %d %lld\n",
				host, date, method, target, l->minor, l->status,
				(long long)l->bytes);
		else
			fprintf(f, "%s - - [%s] \"%s %s HTTP/1.%d\" %d -\n",
				host, date, method, target, l->minor,
				l->status);
	}
	long n = ftell(f);
	fclose(f);
	if (n <= 0)
		return;
	ssize_t w = write(STDOUT_FILENO, buf, (size_t)n);
	(void)w; /* a closed stdout is no reason to stop serving */
}

static int http_setup(struct serve_opts *o)
{
	svc_http_opts *h = &o->http;
	*h = (svc_http_opts){.dotfiles = o->dotfiles,
			     .follow_symlinks = o->follow_symlinks,
			     .log = o->no_access_log ? NULL : http_log,
			     .log_arg = o};
	h->root = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->root < 0)
		return cli_fail("serve", o->dir, -errno);
	int rc = mime_load(&h->mime, "/etc/mime.types");
	if (rc < 0) {
		close(h->root);
		return cli_fail("serve", "/etc/mime.types", rc);
	}
	o->svc.service_arg = h;
	return CLI_OK;
}

/* The server's identity: --cert, or one made now for loopback and every
 * --listen host that names one address (not "*"). */
static int tls_context(const struct serve_opts *o, skt_tls_ctx **out)
{
	const char *names[3 + SKT_SERVER_ADDR_MAX] = {"localhost", "127.0.0.1",
						      "::1"};
	size_t n = 3;
	for (size_t i = 0; i < o->svc.naddrs; i++) {
		const char *h = o->svc.addrs[i].host;
		if (h[0] != '\0' && strcmp(h, "*") != 0)
			names[n++] = h;
	}
	return cli_tls_ctx(&o->tls, "serve", SKT_TLS_SERVER, names, n, out);
}

/* "sockit: serve: unix:/run/x.sock: address already in use" (a live
 * server there), or a file that is not a socket, which is left alone. */
static int unix_fail(const skt_server_addr *a, int err)
{
	char what[SKT_ADDRSTRLEN];
	skt_addr_format(&a->unix_addr, what, sizeof(what));
	if (err == SKT_ENOTSOCK)
		return cli_fail_why("serve", what, err,
				    "exists and is not a socket (left alone)");
	return cli_fail("serve", what, err);
}

static int run(int argc, char **argv)
{
	static struct serve_opts o; /* large: the CIDR lists */
	int rc = cmd_serve_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stderr); /* the log's stream: all of it JSON */
	if (o.file != NULL && (rc = load_quotes(&o)) != CLI_OK)
		return rc;
	if (o.svc.svc == &svc_exec && !spawn_found(&o.cmd))
		return cli_usage_error("serve",
				       "exec: '%s': no such program "
				       "(or not executable)",
				       o.cmd.argv[0]);
	if (o.allow.n > 0 || o.deny.n > 0) {
		o.svc.admit = admit;
		o.svc.admit_arg = &o;
	}
	o.svc.log = log_event;
	o.svc.log_arg = &o;
	o.svc.signals = true;
	skt_tls_ctx *tls = NULL;
	if (o.tls.on && (rc = tls_context(&o, &tls)) != CLI_OK) {
		quotes_free(&o.quotes);
		return rc;
	}
	o.svc.tls = tls;
	if (o.svc.svc == &svc_http && (rc = http_setup(&o)) != CLI_OK) {
		skt_tls_ctx_free(tls);
		return rc;
	}
	cli_raise_nofile();
	int err = skt_server_run(&o.svc);
	skt_tls_ctx_free(tls);
	quotes_free(&o.quotes);
	if (o.svc.svc == &svc_http) {
		mime_free(&o.http.mime);
		close(o.http.root);
	}
	if (err == 0)
		return CLI_OK;
	if (o.svc.failed_addr >= o.svc.naddrs)
		return cli_fail("serve", o.name, err);
	const skt_server_addr *a = &o.svc.addrs[o.svc.failed_addr];
	if (is_unix(a))
		return unix_fail(a, err);
	char what[SKT_HOST_MAX + 32];
	const char *host = a->host[0] != '\0'                ? a->host
			   : o.svc.failed_family == AF_INET6 ? "::1"
							     : "127.0.0.1";
	bool v6 = strchr(host, ':') != NULL;
	snprintf(what, sizeof(what), "%s%s%s:%s/%s", v6 ? "[" : "", host,
		 v6 ? "]" : "", a->port,
		 o.svc.failed_transport == SOCK_DGRAM ? "udp" : "tcp");
	return cli_fail("serve", what, err);
}

/* ---- Help: the table of services comes from the services themselves ---- */

static const char usage_head[] =
	"usage: sockit serve [options] SERVICE\n"
	"       sockit serve [options] exec -- CMD [ARGS...]\n"
	"       sockit serve [options] --sh-exec 'CMD LINE' exec\n"
	"       sockit serve [options] http [DIR]\n"
	"  Serve SERVICE on 127.0.0.1 and ::1 at its port below until SIGINT,\n"
	"  SIGTERM or SIGHUP (then connections get 2 s to finish). Logs go to\n"
	"  stderr.\n";

static const char usage_opts[] =
	"  --listen ADDR      HOST:PORT, [V6]:PORT, *:PORT or PORT (loopback;\n"
	"                     repeatable); port 0 picks a free one, printed\n"
	"                     on stderr; unix:PATH or unix:@NAME (abstract):\n"
	"                     a Unix socket (a stale file there is replaced)\n"
	"  --unix-mode MODE   the unix:PATH file's permissions (octal: 660)\n"
	"  --tcp, -u, --udp   transports (default TCP; give both for both)\n"
	"  --workers N        loops, one thread each (0 to 1024; default 0:\n"
	"                     one per CPU)\n"
	"  --max-conns N      connections open at once (default 10000, 0: "
	"any)\n"
	"  --max-per-ip N     per client address (default 256, 0: any)\n"
	"  --idle-timeout S   close a connection idle S seconds (0: never;\n"
	"                     units too: 500ms, 90s, 5m, 1h)\n"
	"  --header-timeout S hello, http: close a request head not complete "
	"in S\n"
	"                     seconds, whatever trickles in (default 10)\n"
	"  --allow CIDR       admit only these clients (repeatable)\n"
	"  --deny CIDR        refuse these clients (repeatable)\n"
	"  --max-queue BYTES  chat: cut off a member this far behind\n"
	"                     (default 256k; k, M, G are 1024, 1024^2, "
	"1024^3)\n"
	"  --file PATH        qotd: quotes split by \"%\" lines, or one a "
	"line\n"
	"  --udp-rate N       UDP answers per second to one client address\n"
	"                     (bursts of 2N; default 1000, 0: any)\n"
	"  --sh-exec LINE     exec: run LINE with /bin/sh -c (else no shell)\n"
	"  --dotfiles         http: serve and list names starting with \".\"\n"
	"  --follow-symlinks  http: also symlinks that lead out of DIR\n"
	"  --no-access-log    http: no line per request\n"
	"  --proxy-user U:P   socks5: ask for this user and password (RFC "
	"1929)\n"
	"  http serves DIR's files (GET, HEAD, Range, 304s, listings); one\n"
	"  line per request on stdout (Common Log Format, or --json)\n"
	"  exec runs CMD per connection on its stdin/stdout (inetd nowait), "
	"with\n"
	"  REMOTE_ADDR, REMOTE_PORT, PROTO=TCP, TCPREMOTEIP, TCPREMOTEPORT,\n"
	"  TCPLOCALIP, TCPLOCALPORT; each running CMD counts in --max-conns\n"
	"  and --max-per-ip; on stop CMD gets SIGTERM, then SIGKILL after 2 s\n"
	"  --tls              speak TLS (TCP services but exec); with no "
	"--cert\n"
	"                     an ephemeral self-signed identity, its pin on\n"
	"                     stderr\n"
	"  --cert FILE, --key FILE  certificate chain (PEM), its key (else\n"
	"                     in the first FILE)\n"
	"  --verify-client CA require client certificates signed by CA\n"
	"  --alpn LIST        protocols to agree on (\"http/1.1\")\n"
	"  --tls-min 1.2|1.3  lowest version (default 1.2)\n"
	"  --no-resume        no session tickets\n"
	"  --handshake-timeout S  a TLS handshake's deadline (default 10)\n"
	"  --stats S          print counters every S seconds (also SIGUSR1)\n"
	"  --json             log as JSON Lines (docs/json.md)\n"
	"  -v, --verbose      log every connection and datagram\n";

#define HELP_WIDTH  79
#define HELP_INDENT 30 /* where the "what" column starts */

/* text from column col on, wrapped at HELP_WIDTH under HELP_INDENT. */
static void help_wrap(FILE *out, const char *text, int col)
{
	while (*text != '\0') {
		size_t room = (size_t)(HELP_WIDTH - col), n = strlen(text);
		if (n > room) {
			n = room;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(text, " ");
		}
		fprintf(out, "%.*s\n", (int)n, text);
		text += n;
		text += strspn(text, " ");
		if (*text != '\0')
			col = fprintf(out, "%*s", HELP_INDENT, "");
	}
}

static void help(FILE *out)
{
	fputs(usage_head, out);
	fprintf(out, "  %-8s %5s %5s  %-7s  %s\n", "SERVICE", "port", "idle",
		"over", "what");
	for (size_t i = 0; svc_all[i] != NULL; i++) {
		const skt_service *v = svc_all[i];
		int col =
			fprintf(out, "  %-8s %5u %4ds  %-7s  ", v->name,
				(unsigned)v->port, v->idle_s,
				v->flags & SKT_SERVICE_UDP ? "tcp,udp" : "tcp");
		help_wrap(out, v->what, col);
	}
	fputs(usage_opts, out);
}

const cli_cmd cli_cmd_serve = {
	.name = "serve",
	.summary = "run a small service: echo, chargen, chat, hello (HTTP)...",
	.usage = usage_head,
	.help = help,
	.run = run,
};
