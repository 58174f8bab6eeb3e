/* cmd_check.c - `sockit check HOST PORT...`: the tutorials' connect_ex
 * port check, for a few ports, with the reason for each answer. Each port
 * is tried on every address of HOST as connect tries them (Happy Eyeballs,
 * skt_connect_any): a server on 127.0.0.1 only is open for "localhost"
 * even where ::1 comes first. Ports go one after another; a port scan is
 * scan's job. With --tls each open port gets a handshake, whose
 * certificate and verification are shown (a refused certificate too,
 * from a second, unverified look), and --warn-days flags one that expires
 * soon. */
#include "cmds.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tutorials' socket.settimeout(2) before connect_ex. */
#define CHECK_TIMEOUT_DEFAULT_MS 2000

enum { OPT_WARN_DAYS = 0x180 };

/* --warn-days: a hundred years is more than any certificate's life. */
#define WARN_DAYS_MAX 36500

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
		case 't':
			o->timeout_given = true;
			rc = cli_opt_duration("check", "--timeout", a->arg, 1,
					      1, 86400000, &o->timeout_ms);
			break;
		case OPT_WARN_DAYS: {
			uint64_t d;
			rc = cli_opt_count("check", "--warn-days", a->arg, 0,
					   WARN_DAYS_MAX, &d);
			o->warn_days = (int)d;
			break;
		}
		default: /* the TLS options: nothing else is left */
			rc = cli_tls_option(&o->tls, "check", ch, a->arg);
		}
	}
	return rc != CLI_OK ? CLI_USAGE : cli_args_status(ch);
}

/* Every conflict, in one place. */
static int validate(struct check_opts *o)
{
	if (o->w_given && o->timeout_given)
		return cli_usage_error("check", "-w and --timeout conflict");
	if (o->warn_days >= 0 && !o->tls.on)
		return cli_usage_error("check", "--warn-days needs --tls");
	int rc = cli_tls_check(&o->tls, "check", SKT_TLS_CLIENT);
	if (rc != CLI_OK)
		return rc;
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
		{"warn-days", required_argument, NULL, OPT_WARN_DAYS},
		CLI_TLS_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	*o = (struct check_opts){.timeout_ms = CHECK_TIMEOUT_DEFAULT_MS,
				 .warn_days = -1};
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

/* --tls: what the handshake on an open port got. When the certificate
 * failed verification, a second, unverified handshake still shows it
 * (its dates, its names): what was refused, and why. */
struct tls_answer {
	bool tried; /* the port was open and a handshake ran */
	int rc;     /* 0, or why the handshake (or the verification) failed */
	char why[320];
	bool have_info; /* info holds what a handshake showed */
	skt_tls_info info;
	bool expiring; /* --warn-days: expires within them */
};

/* What one port got: the answering address (else the one whose failure
 * the connect returned, as connect's own error says), and every attempt. */
struct answer {
	skt_scan_result r;
	skt_addr addr;
	skt_connect_report rep;
	struct tls_answer tls;
};

/* The contexts of --tls: the one the options make, and (made when first
 * needed) one that verifies nothing, for the second look. */
struct tls_ctxs {
	skt_tls_ctx *verify;
	skt_tls_ctx *look;
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
 * first to answer wins. addrs get the port. Returns the connected fd of
 * an open port (the caller's to close), else -1. */
static int check_port(const struct check_opts *o, skt_addr *addrs, size_t n,
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
		if (a->r.state == SKT_PORT_OPEN)
			return fd;
		skt_close_abort(fd); /* a reset: no TIME_WAIT left behind */
		return -1;
	}
	const skt_addr *f = failed_addr(&a->rep, fd);
	if (f != NULL)
		a->addr = *f;
	a->r.err = fd;
	/* As the scanner: a refusal is closed, silence or an unreachable
	 * (ICMP, no route) filtered. */
	a->r.state =
		fd == SKT_ECONNREFUSED ? SKT_PORT_CLOSED : SKT_PORT_FILTERED;
	return -1;
}

/* ---- --tls ---- */

static bool verify_error(int rc)
{
	return rc == SKT_ETLSUNTRUSTED || rc == SKT_ETLSNAME ||
	       rc == SKT_ETLSEXPIRED || rc == SKT_ETLSNOTYET ||
	       rc == SKT_ETLSPIN;
}

/* One handshake on fd (closed here) with ctx, host checked as given. */
static int handshake(const struct check_opts *o, skt_tls_ctx *ctx, int fd,
		     const char *host, struct tls_answer *ta)
{
	skt_tls *t;
	int rc = skt_tls_new(&t, ctx, fd, host, cli_tls_sni(&o->tls));
	if (rc == 0 && (rc = skt_tls_handshake(t, o->timeout_ms)) == 0) {
		ta->have_info = skt_tls_get_info(t, &ta->info) == 0;
		skt_tls_shutdown(t, 0); /* a clean end, not a cut */
	}
	if (rc < 0 && ta->why[0] == '\0')
		cli_tls_why(t, rc, ta->why, sizeof(ta->why));
	skt_tls_free(t);
	skt_close(fd);
	return rc;
}

/* The second look at a certificate that failed verification: the same
 * address again, nothing verified, only what it shows kept. */
static void second_look(const struct check_opts *o, struct tls_ctxs *c,
			const skt_addr *addr, struct tls_answer *ta)
{
	if (c->look == NULL) {
		skt_tls_opts lo = {.role = SKT_TLS_CLIENT, .insecure = true};
		lo.min_version = o->tls.min_version;
		lo.alpn = o->tls.alpn;
		lo.cert_file = o->tls.cert;
		lo.key_file = o->tls.key != NULL ? o->tls.key : o->tls.cert;
		lo.no_tickets = true;
		if (skt_tls_ctx_new(&c->look, &lo) < 0)
			return;
	}
	int fd = skt_connect_one(addr, SOCK_STREAM, o->timeout_ms);
	if (fd >= 0)
		handshake(o, c->look, fd, o->host, ta);
	if (ta->have_info) /* the look verified nothing */
		ta->info.verified = ta->info.pinned = false;
}

static void tls_probe(const struct check_opts *o, struct tls_ctxs *c, int fd,
		      struct answer *a)
{
	struct tls_answer *ta = &a->tls;
	ta->tried = true;
	ta->rc = handshake(o, c->verify, fd, o->host, ta);
	if (verify_error(ta->rc))
		second_look(o, c, &a->addr, ta);
	if (o->warn_days >= 0 && ta->have_info && ta->info.peer_cert)
		ta->expiring = ta->info.not_after - (int64_t)time(NULL) <
			       (int64_t)o->warn_days * 86400;
}

static bool tls_ok(const struct check_opts *o, const struct answer *a)
{
	return !o->tls.on ||
	       (a->tls.tried && a->tls.rc == 0 && !a->tls.expiring);
}

/* ---- Output ---- */

static void json_tls(const struct check_opts *o, cli_json *j,
		     const struct answer *a)
{
	if (!a->tls.tried) {
		cli_json_null(j, "tls");
		return;
	}
	const struct tls_answer *ta = &a->tls;
	cli_json_object(j, "tls");
	cli_json_error_why(j, "error", ta->rc, NULL,
			   ta->rc < 0 ? ta->why : NULL);
	if (ta->have_info)
		cli_tls_json_info(j, &ta->info);
	if (o->warn_days >= 0) {
		cli_json_int(j, "warn_days", o->warn_days);
		cli_json_bool(j, "expiring", ta->expiring);
	}
	cli_json_close(j);
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
	if (o->tls.on)
		json_tls(o, &j, a);
	cli_json_end(&j);
}

/* The certificate's lines of the table, under its port's. */
static void print_cert(const struct check_opts *o, const struct tls_answer *ta)
{
	const skt_tls_info *i = &ta->info;
	printf("  tls       %s %s\n", i->version_name, i->cipher);
	if (i->alpn[0] != '\0')
		printf("  alpn      %s\n", i->alpn);
	if (!i->peer_cert)
		return;
	char when[32];
	time_t at = (time_t)i->not_after;
	struct tm tm;
	if (gmtime_r(&at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)i->not_after);
	long days = cli_tls_days_left(i);
	printf("  subject   %s\n", i->subject);
	printf("  issuer    %s\n", i->issuer);
	if (i->san[0] != '\0')
		printf("  san       %s\n", i->san);
	long n = days < 0 ? -days : days;
	const char *unit = n == 1 ? "day" : "days";
	if (days < 0)
		printf("  expires   %s (expired %ld %s ago)\n", when, n, unit);
	else
		printf("  expires   %s (in %ld %s)\n", when, n, unit);
	if (ta->expiring && days < 0)
		printf("  warning   expired (--warn-days %d)\n", o->warn_days);
	else if (ta->expiring)
		printf("  warning   expires within %d days (--warn-days)\n",
		       o->warn_days);
}

static void print_tls(const struct check_opts *o, const struct answer *a)
{
	const struct tls_answer *ta = &a->tls;
	if (ta->have_info)
		print_cert(o, ta);
	if (ta->rc < 0 && verify_error(ta->rc))
		printf("  verified  no: %s\n", ta->why);
	else if (ta->rc < 0)
		printf("  tls       failed: %s\n", ta->why);
	else
		printf("  verified  %s\n", ta->info.pinned ? "yes (pinned)"
					   : ta->info.verified
						   ? "yes"
						   : "no (--insecure)");
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
	if (a->tls.tried)
		print_tls(o, a);
}

/* Resolve once, then each port in the order given. */
static int check(const struct check_opts *o, struct tls_ctxs *c)
{
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->host, NULL, o->family, SOCK_STREAM, 0);
	if (rc < 0)
		return cli_fail("check", o->host, rc);
	bool all_ok = true;
	for (int i = 0; i < o->nports; i++) {
		struct answer a = {0};
		int fd = check_port(o, l.addrs, l.n, o->ports[i], &a);
		if (fd >= 0 && o->tls.on)
			tls_probe(o, c, fd, &a);
		else if (fd >= 0)
			skt_close_abort(fd); /* a reset: no TIME_WAIT */
		print_one(o, &a);
		all_ok &= a.r.state == SKT_PORT_OPEN && tls_ok(o, &a);
	}
	skt_addrlist_fini(&l);
	return all_ok ? CLI_OK : CLI_FAIL;
}

static int run(int argc, char **argv)
{
	struct check_opts o;
	int rc = cmd_check_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	struct tls_ctxs c = {0};
	if (o.tls.on && cli_tls_ctx(&o.tls, "check", SKT_TLS_CLIENT, NULL, 0,
				    &c.verify) != CLI_OK) {
		cmd_check_free(&o);
		return CLI_FAIL;
	}
	rc = check(&o, &c);
	skt_tls_ctx_free(c.verify);
	skt_tls_ctx_free(c.look);
	cmd_check_free(&o);
	return rc;
}

const cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "is a TCP port open? closed or filtered, and why",
	.usage = "usage: sockit check [-4|-6] [-v] [-w SECS | --timeout MS] "
		 "[--json]\n"
		 "                    [--tls [TLS options] [--warn-days N]]\n"
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
		 "  --json        one JSON object per port (docs/json.md)\n"
		 "  --tls         then a TLS handshake on each open port: "
		 "protocol,\n"
		 "                cipher, subject, issuer, expiry, "
		 "verification;\n"
		 "                exit 1 unless verified\n"
		 "  --warn-days N with --tls: exit 1 when a certificate "
		 "expires\n"
		 "                within N days\n"
		 "  --ca, --pin, --insecure, --sni, --no-sni, --alpn, --cert, "
		 "--key,\n"
		 "  --tls-min, --no-resume   as for connect\n",
	.run = run,
};
