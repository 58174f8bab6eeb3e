/* cmd_bench.c - `sockit bench TARGET`: a load generator for echo, connect
 * and HTTP servers, over TLS too (--tls, https://). This file parses
 * options into bench_opts and builds the HTTP request; the TLS options'
 * checks, the context and the handshake before the run are bench_tls.c,
 * the engine src/tools/bench/, the report bench_report.c. */
#include "cmds.h"
#include "json.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define BODY_MAX   (1 << 20)
#define METHOD_MAX 32

static int parse_mode(const char *text, int *mode)
{
	static const char *const names[] = {"echo", "connect", "http"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(text, names[i]) == 0) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

/* "Name: value" with a token name and no line breaks. */
static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');
	if (colon == NULL || colon == h)
		return false;
	for (const char *p = h; p < colon; p++)
		if (*p <= ' ' || *p >= 127 || strchr("\"(),/;<=>?@[\\]{}", *p))
			return false;
	return strpbrk(h, "\r\n") == NULL;
}

/* A method is a token (RFC 9110 section 9.1). */
static bool method_ok(const char *m)
{
	size_t n = strspn(m, "!#$%&'*+-.^_`|~0123456789"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz");
	return n > 0 && n <= METHOD_MAX && m[n] == '\0';
}

static bool path_ok(const char *p)
{
	if (p[0] != '/' && strcmp(p, "*") != 0)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 127)
			return false;
	return true;
}

static int count(const char *opt, const char *arg, uint64_t lo, uint64_t hi,
		 uint64_t *out)
{
	return cli_opt_count("bench", opt, arg, lo, hi, out);
}

/* Durations: a bare number is seconds for the run's length, milliseconds
 * for per-request waits, as the options were first documented. */
static int duration(const char *opt, const char *arg, int unit_ms,
		    int64_t min_ms, int64_t *ms)
{
	int v;
	int rc = cli_opt_duration("bench", opt, arg, unit_ms, min_ms, 86400000,
				  &v);
	*ms = rc == CLI_OK ? v : *ms;
	return rc;
}

static int parse_text(int ch, const char *arg, struct bench_cli *b)
{
	switch (ch) {
	case 'm':
		if (parse_mode(arg, &b->o.mode) < 0)
			return cli_usage_error("bench",
					       "--mode '%s': want echo, "
					       "connect or http",
					       arg);
		b->mode_set = true;
		return CLI_OK;
	case 'N':
		if (strcmp(arg, "now") != 0 && strcmp(arg, "poll") != 0)
			return cli_usage_error("bench",
					       "--next '%s': want now or "
					       "poll",
					       arg);
		b->next = strcmp(arg, "poll") == 0;
		return CLI_OK;
	case 'X':
		if (!method_ok(arg))
			return cli_usage_error("bench",
					       "--method '%s': want a "
					       "token such as GET or POST",
					       arg);
		b->method = arg;
		return CLI_OK;
	case 'B':
		b->body_file = arg;
		return CLI_OK;
	case 'C':
		if (strpbrk(arg, "\r\n") != NULL || arg[0] == '\0')
			return cli_usage_error("bench",
					       "--content-type '%s': "
					       "want a media type",
					       arg);
		b->content_type = arg;
		return CLI_OK;
	case 'P':
		if (!path_ok(arg))
			return cli_usage_error("bench",
					       "--path '%s': want /... "
					       "without spaces",
					       arg);
		b->path = arg;
		return CLI_OK;
	default: /* 'H' */
		if (!header_ok(arg))
			return cli_usage_error("bench",
					       "--header '%s': want "
					       "'Name: value'",
					       arg);
		if (b->nheaders == BENCH_HEADERS_MAX)
			return cli_usage_error("bench", "more than %d headers",
					       BENCH_HEADERS_MAX);
		b->headers[b->nheaders++] = arg;
		return CLI_OK;
	}
}

static int parse_value(int ch, const char *arg, struct bench_cli *b)
{
	bench_opts *o = &b->o;
	uint64_t v = 0;
	int rc;
	switch (ch) {
	case 'c':
		rc = count("--connections", arg, 1, 1000000, &v);
		o->conns = (unsigned)v;
		return rc;
	case 't':
		rc = count("--threads", arg, 0, CLI_WORKERS_MAX, &v);
		o->threads = (unsigned)v;
		return rc;
	case 'n':
		return count("--requests", arg, 1, 1000000000000ull,
			     &o->requests);
	case 's':
		rc = cli_opt_size("bench", "--size", arg, 0, 1u << 30, &v);
		o->size = (size_t)v;
		b->size_set = true;
		return rc;
	case 'p':
		rc = count("--pipeline", arg, 1, 4096, &v);
		o->pipeline = (unsigned)v;
		return rc;
	case 'r':
		rc = count("--rate", arg, 1, 100000000, &v);
		o->rate = (double)v;
		return rc;
	case 'T':
		return duration("--timeout", arg, 1, 1, &o->timeout_ms);
	case 'R':
		return duration("--ramp", arg, 1, 0, &o->ramp_ms);
	case 'S':
		rc = count("--sources", arg, 1, 254, &v);
		o->sources = (unsigned)v;
		return rc;
	case 'E':
		rc = count("--status", arg, 100, 599, &v);
		o->status = (int)v;
		return rc;
	case 'd':
		b->duration_set = true;
		return duration("--duration", arg, 1000, 1, &o->duration_ms);
	case 'w':
		return duration("--warmup", arg, 1000, 0, &o->warmup_ms);
	default:
		return parse_text(ch, arg, b);
	}
}

static int parse_options(cli_args *a, struct bench_cli *b)
{
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(a)) >= 0) {
		switch (ch) {
		case '4':
			b->v4 = true;
			break;
		case '6':
			b->v6 = true;
			break;
		case 'u':
			b->o.udp = true;
			break;
		case 'K':
			b->keepalive = false;
			break;
		case 'j':
			b->json = true;
			break;
		case 'q':
			b->quiet = true;
			break;
		default:
			rc = cli_tls_option(&b->tls, "bench", ch, a->arg);
			if (rc < 0)
				rc = parse_value(ch, a->arg, b);
			break;
		}
	}
	return rc != CLI_OK ? CLI_USAGE : cli_args_status(ch);
}

static bool is_url(const char *arg)
{
	return strncmp(arg, "http://", 7) == 0 ||
	       strncmp(arg, "https://", 8) == 0;
}

/* http[s]://HOST[:PORT][/PATH] into an endpoint and a path; https turns
 * TLS on. */
static int parse_url(const char *url, skt_endpoint *ep, struct bench_cli *b)
{
	bool https = strncmp(url, "https://", 8) == 0;
	if (!https && b->tls.on)
		return cli_usage_error("bench",
				       "--tls with '%s': an https:// "
				       "URL says TLS",
				       url);
	const char *rest = url + (https ? 8 : 7);
	size_t hostport = strcspn(rest, "/");
	char text[SKT_HOST_MAX + 16];
	if (hostport == 0 || hostport >= sizeof(text))
		return cli_usage_error("bench", "'%s': no host", url);
	memcpy(text, rest, hostport);
	text[hostport] = '\0';
	bool has_port = text[hostport - 1] != ']' && strrchr(text, ':') != NULL;
	int rc = has_port ? skt_endpoint_parse(ep, text, 0)
			  : skt_endpoint_set(ep, text, https ? "443" : "80", 0);
	if (rc < 0)
		return cli_usage_error("bench", "'%s': %s", url,
				       skt_strerror(rc));
	uint16_t port;
	if (skt_port_parse(ep->service, 0) < 0 &&
	    (rc = cli_opt_port("bench", "port", ep->service, SOCK_STREAM, 0,
			       &port)) != CLI_OK)
		return rc;
	memcpy(b->host_header, text, hostport + 1);
	if (b->path == NULL && rest[hostport] != '\0') {
		if (!path_ok(rest + hostport))
			return cli_usage_error("bench", "'%s': bad path", url);
		b->path = rest + hostport;
	}
	b->o.mode = BENCH_HTTP;
	b->tls.on = b->tls.on || https;
	return CLI_OK;
}

static bool has_header(const struct bench_cli *b, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < b->nheaders; i++)
		if (strncasecmp(b->headers[i], name, n) == 0 &&
		    b->headers[i][n] == ':')
			return true;
	return false;
}

/* Append to the request head; false once it would pass BENCH_REQUEST_MAX. */
static bool put(char *r, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r + *len, BENCH_REQUEST_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= BENCH_REQUEST_MAX - *len)
		return false;
	*len += (size_t)n;
	return true;
}

/* --body: the whole file, at most BODY_MAX bytes ("-": standard input). */
static int read_body(struct bench_cli *b)
{
	bool std_in = strcmp(b->body_file, "-") == 0;
	FILE *f = std_in ? stdin : fopen(b->body_file, "rb");
	if (f == NULL)
		return cli_fail("bench", b->body_file, -errno);
	b->body = malloc(BODY_MAX + 1);
	size_t n = b->body != NULL ? fread(b->body, 1, BODY_MAX + 1, f) : 0;
	int err = b->body == NULL ? SKT_ENOMEM : ferror(f) ? SKT_EIO : 0;
	if (!std_in)
		fclose(f);
	if (err != 0)
		return cli_fail("bench", b->body_file, err);
	if (n > BODY_MAX)
		return cli_usage_error("bench", "--body '%s': over %d bytes",
				       b->body_file, BODY_MAX);
	b->body_len = n;
	return CLI_OK;
}

/* The request every HTTP connection sends, built once: the head, then
 * the body when there is one (Content-Length always set with a body, and
 * 0 for a POST, PUT or PATCH without one, as servers may insist, RFC 9110
 * section 8.6). */
static int build_request(struct bench_cli *b)
{
	const char *m = b->method != NULL ? b->method : "GET";
	size_t len = 0;
	char *r = b->request;
	bool ok = put(r, &len, "%s %s HTTP/1.1\r\n", m,
		      b->path != NULL ? b->path : "/");
	if (ok && !has_header(b, "Host"))
		ok = put(r, &len, "Host: %s\r\n", b->host_header);
	if (ok && !has_header(b, "User-Agent"))
		ok = put(r, &len, "User-Agent: sockit-bench/%s\r\n",
			 skt_version());
	for (size_t i = 0; ok && i < b->nheaders; i++)
		ok = put(r, &len, "%s\r\n", b->headers[i]);
	if (ok && b->content_type != NULL)
		ok = put(r, &len, "Content-Type: %s\r\n", b->content_type);
	if (ok && (b->body_file != NULL || strcmp(m, "POST") == 0 ||
		   strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0))
		ok = put(r, &len, "Content-Length: %zu\r\n", b->body_len);
	if (ok && !b->keepalive)
		ok = put(r, &len, "Connection: close\r\n");
	if (ok)
		ok = put(r, &len, "\r\n");
	if (!ok)
		return cli_usage_error("bench",
				       "the request head is over %d "
				       "bytes",
				       BENCH_REQUEST_MAX);
	b->o.request = r;
	b->o.request_len = len;
	b->o.no_body = strcmp(m, "HEAD") == 0;
	if (b->body_len == 0)
		return CLI_OK;
	b->whole = malloc(len + b->body_len);
	if (b->whole == NULL)
		return cli_fail("bench", "memory", SKT_ENOMEM);
	memcpy(b->whole, r, len);
	memcpy(b->whole + len, b->body, b->body_len);
	b->o.request = b->whole;
	b->o.request_len = len + b->body_len;
	return CLI_OK;
}

/* Every conflict, and the defaults that depend on more than one option,
 * in one place. */
static int validate(struct bench_cli *b)
{
	bench_opts *o = &b->o;
	bool http = o->mode == BENCH_HTTP;
	if (cli_family("bench", b->v4, b->v6, &b->family) != CLI_OK)
		return CLI_USAGE;
	if (o->udp && o->mode != BENCH_ECHO)
		return cli_usage_error("bench", "--udp is for --mode echo");
	if (!http && (b->path != NULL || b->nheaders > 0 || o->status != 0 ||
		      b->method != NULL || b->body_file != NULL ||
		      b->content_type != NULL))
		return cli_usage_error("bench",
				       "--path, --header, "
				       "--status, --method, "
				       "--body and --content-type are for "
				       "--mode http");
	if (!b->keepalive && (o->mode == BENCH_CONNECT || o->udp))
		return cli_usage_error("bench", "--no-keepalive is for --mode "
						"http and echo over a stream");
	if (bench_cli_tls_check(b) != CLI_OK)
		return CLI_USAGE;
	if (b->content_type != NULL && b->body_file == NULL)
		return cli_usage_error("bench", "--content-type needs --body");
	if (b->body_file != NULL && has_header(b, "Content-Length"))
		return cli_usage_error("bench", "--body sets Content-Length: "
						"no --header for it");
	if (o->mode == BENCH_CONNECT && o->pipeline > 1)
		return cli_usage_error("bench", "--pipeline is not for "
						"--mode connect");
	if (!b->keepalive && o->pipeline > 1)
		return cli_usage_error("bench", "--pipeline needs keep-alive");
	o->reconnect = !b->keepalive && o->mode == BENCH_ECHO;
	if (!b->size_set)
		o->size = o->mode == BENCH_ECHO ? 64 : 0;
	/* HTTP figures get compared with wrk's: pace like wrk by default. */
	o->next_on_poll = b->next < 0 ? http : b->next == 1;
	if (o->mode == BENCH_ECHO &&
	    (o->size == 0 || (o->udp && (o->size < 8 || o->size > 65507))))
		return cli_usage_error("bench",
				       "--size %zu: echo wants 1 or "
				       "more bytes (UDP: 8 to 65507)",
				       o->size);
	if (http && b->size_set)
		return cli_usage_error("bench",
				       "--size is not for --mode http");
	if (!b->duration_set && o->requests == 0)
		o->duration_ms = 10000;
	o->threads = cli_workers(o->threads);
	/* With --body the request waits for the file, which run() reads:
	 * a parse touches no file. */
	return http && b->body_file == NULL ? build_request(b) : CLI_OK;
}

int cmd_bench_parse(int argc, char **argv, struct bench_cli *b)
{
	static const struct option longopts[] = {
		{"mode", required_argument, NULL, 'm'},
		{"connections", required_argument, NULL, 'c'},
		{"threads", required_argument, NULL, 't'},
		{"duration", required_argument, NULL, 'd'},
		{"requests", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 'T'},
		{"ramp", required_argument, NULL, 'R'},
		{"size", required_argument, NULL, 's'},
		{"pipeline", required_argument, NULL, 'p'},
		{"udp", no_argument, NULL, 'u'},
		{"rate", required_argument, NULL, 'r'},
		{"sources", required_argument, NULL, 'S'},
		{"next", required_argument, NULL, 'N'},
		{"path", required_argument, NULL, 'P'},
		{"header", required_argument, NULL, 'H'},
		{"no-keepalive", no_argument, NULL, 'K'},
		{"status", required_argument, NULL, 'E'},
		{"method", required_argument, NULL, 'X'},
		{"body", required_argument, NULL, 'B'},
		{"content-type", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		CLI_TLS_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	*b = (struct bench_cli){
		.o = {.conns = 10,
		      .pipeline = 1,
		      .timeout_ms = 5000,
		      .ramp_ms = 100,
		      .sources = 64},
		.keepalive = true,
		.next = -1,
	};
	cli_args a;
	cli_args_init(&a, "bench", argc, argv, "46um:c:t:d:n:s:p:r:H:X:q",
		      longopts);
	int rc = parse_options(&a, b);
	if (rc != CLI_OK)
		return rc;
	int nargs = argc - a.next;
	char **args = argv + a.next;
	skt_endpoint *ep = &b->ep;
	if (nargs == 1 && is_url(args[0])) {
		int mode = b->o.mode;
		rc = parse_url(args[0], ep, b);
		if (rc == CLI_OK && b->mode_set && mode != BENCH_HTTP)
			return cli_usage_error("bench",
					       "an http:// or https:// "
					       "target is for --mode "
					       "http");
	} else {
		rc = cli_parse_target("bench", nargs, args, 0,
				      b->o.udp ? SOCK_DGRAM : SOCK_STREAM, ep);
		if (rc == CLI_OK && ep->kind == SKT_EP_UNIX_DGRAM)
			return cli_usage_error("bench",
					       "'%s': unix-dgram: is "
					       "not a bench target",
					       args[0]);
		if (rc == CLI_OK && ep->kind == SKT_EP_INET)
			snprintf(b->host_header, sizeof(b->host_header),
				 strchr(ep->host, ':') ? "[%s]:%s" : "%s:%s",
				 ep->host, ep->service);
		else if (rc == CLI_OK)
			snprintf(b->host_header, sizeof(b->host_header),
				 "localhost");
	}
	return rc != CLI_OK ? rc : validate(b);
}

/* The name's addresses other than the one used, and why (the attempt's
 * error; 0 when never tried). */
static void note_others(struct bench_cli *b, const skt_addrlist *l,
			const skt_connect_report *rep)
{
	for (size_t i = 0; i < l->n; i++) {
		if (skt_addr_equal(&l->addrs[i], &b->o.target) ||
		    b->t.nothers == BENCH_OTHERS_MAX)
			continue;
		int err = 0;
		for (size_t k = 0; k < rep->n; k++)
			if (skt_addr_equal(&rep->attempts[k].addr,
					   &l->addrs[i]) &&
			    rep->attempts[k].err != SKT_ECANCELED)
				err = rep->attempts[k].err;
		skt_addr_format(&l->addrs[i], b->t.others[b->t.nothers],
				sizeof(b->t.others[0]));
		b->t.other_err[b->t.nothers++] = err;
	}
}

/* A name with several addresses: connect once, as `sockit connect` does
 * (Happy Eyeballs), and run against the address that answered, so that
 * localhost on a host whose server listens on 127.0.0.1 only is not
 * measured on its refusing ::1. When none answers, the first address is
 * used, and the run counts its failures. */
static void pick(struct bench_cli *b, const skt_addrlist *l)
{
	skt_connect_report rep = {0};
	b->o.target = l->addrs[0];
	if (l->n > 1 && !b->o.udp) {
		skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
		co.timeout_ms = (int)b->o.timeout_ms;
		co.report = &rep;
		int fd = skt_connect_any(l->addrs, l->n, &co);
		if (fd >= 0) {
			close(fd);
			if (rep.winner >= 0)
				b->o.target = rep.attempts[rep.winner].addr;
		}
	}
	note_others(b, l, &rep);
}

static int resolve(struct bench_cli *b, const skt_endpoint *ep)
{
	if (ep->kind == SKT_EP_UNIX) {
		b->o.target = ep->unix_addr;
	} else {
		skt_addrlist l = {0};
		int rc = skt_resolve(&l, ep->host, ep->service, b->family,
				     b->o.udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (rc < 0)
			return rc;
		skt_addr lit;
		if (skt_addr_parse(&lit, ep->host, SKT_PARSE_NO_PORT) < 0)
			b->t.host = ep->host; /* a name, not a literal */
		pick(b, &l);
		skt_addrlist_fini(&l);
	}
	skt_addr_format(&b->o.target, b->t.text, sizeof(b->t.text));
	return 0;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP end the run early with its report, as wrk
 * and ab do; a second one kills (SA_RESETHAND), should the end hang. */
static void catch_stops(bench_opts *o)
{
	struct sigaction sa = {.sa_handler = on_stop, .sa_flags = SA_RESETHAND};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o->stop = &stop_signal;
}

/* Refuse a run that would run out of file descriptors (each connection
 * failing with EMFILE, for nothing), after raising the soft limit to the
 * hard one as scan and serve do. */
static int check_fds(const bench_opts *o)
{
	cli_raise_nofile();
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return CLI_OK;
	uint64_t need = bench_fds_needed(o);
	if (need <= rl.rlim_cur)
		return CLI_OK;
	fprintf(stderr,
		"sockit: bench: -c %u needs about %llu file descriptors, over "
		"this process's limit of %llu (ulimit -n; raise the hard "
		"limit, or lower -c)\n",
		o->conns, (unsigned long long)need,
		(unsigned long long)rl.rlim_cur);
	return CLI_FAIL;
}

/* What comes after the parse and before the run: --body's file and the
 * request with it, the TLS context (a bad --ca fails before any
 * packet), the target's addresses, the first handshake, the fd limit. */
static int prepare(struct bench_cli *b)
{
	if (b->body_file != NULL) {
		int rc = read_body(b);
		if (rc == CLI_OK)
			rc = build_request(b);
		if (rc != CLI_OK)
			return rc;
	}
	if (b->tls.on && bench_cli_tls_context(b) != CLI_OK)
		return CLI_FAIL;
	int err = resolve(b, &b->ep);
	if (err < 0)
		return cli_fail("bench", b->ep.host, err);
	if (b->tls.on && bench_cli_tls_probe(b) != CLI_OK)
		return CLI_FAIL;
	return check_fds(&b->o);
}

static int run(int argc, char **argv)
{
	struct bench_cli *b = calloc(1, sizeof(*b));
	bench_result *r = calloc(1, sizeof(*r));
	int rc = b == NULL || r == NULL
			 ? cli_fail("bench", "memory", SKT_ENOMEM)
			 : cmd_bench_parse(argc, argv, b);
	if (rc == CLI_OK && b->json)
		cli_json_errors(stdout);
	if (rc == CLI_OK)
		rc = prepare(b);
	if (rc == CLI_OK) {
		bench_progress_state ps = {.cmd_quiet = b->quiet};
		if (bench_progress_wanted(&ps)) {
			b->o.progress = bench_progress_draw;
			b->o.progress_arg = &ps;
		}
		catch_stops(&b->o);
		int err = bench_run(&b->o, r);
		bench_progress_clear(&ps);
		if (err < 0) {
			rc = cli_fail("bench", b->t.text, err);
		} else {
			bench_report(stdout, &b->o, &b->t, r, b->json);
			/* Interrupted: as a shell reports a death by signal. */
			rc = r->interrupted ? 128 + stop_signal
					    : bench_verdict(r);
		}
	}
	if (b != NULL) {
		skt_tls_ctx_free(b->o.tls);
		free(b->body);
		free(b->whole);
	}
	free(b);
	free(r);
	return rc;
}

const cli_cmd cli_cmd_bench = {
	.name = "bench",
	.summary =
		"load-test an echo, TCP or HTTP server, TLS too (like wrk or "
		"ab)",
	.usage =
		"usage: sockit bench [OPTIONS] HOST:PORT | HOST PORT | "
		"unix:PATH\n"
		"       sockit bench [OPTIONS] http[s]://HOST[:PORT][/PATH]\n"
		"\n"
		"Measure a server with real requests, each one checked: "
		"echoes are\n"
		"compared byte for byte, HTTP responses by status and body "
		"length.\n"
		"\n"
		"  -m, --mode MODE       echo (default), connect, or http "
		"(the default\n"
		"                        for an http:// target)\n"
		"  -c, --connections N   connections (default 10)\n"
		"  -t, --threads N       threads (default or 0: one per CPU "
		"it may run on)\n"
		"  -d, --duration SECS   measure this long (default 10, "
		"unless -n)\n"
		"  -n, --requests N      stop after exactly N requests\n"
		"      --warmup SECS     run this long before measuring "
		"(default 0)\n"
		"      --timeout MS      per request and per connect (default "
		"5000)\n"
		"      --ramp MS         open the connections spread over MS "
		"(default 100)\n"
		"  -s, --size BYTES      echo: message size (default 64; 4k = "
		"4096);\n"
		"                        connect: bytes echoed once connected "
		"(default 0)\n"
		"  -p, --pipeline N      requests in flight per connection "
		"(default 1)\n"
		"  -u, --udp             echo over UDP: a datagram per "
		"request\n"
		"  -r, --rate N          open model: N requests/s in all, "
		"latency from\n"
		"                        when each was due (default: closed "
		"model)\n"
		"      --next now|poll   closed model: a connection's next "
		"request goes\n"
		"                        out once the loop's reads are done "
		"(now), or at\n"
		"                        its next writable event, as wrk does "
		"(poll);\n"
		"                        default: poll for http, now "
		"otherwise\n"
		"      --sources N       towards 127.x, in every mode: rotate "
		"over\n"
		"                        127.0.0.1..N as source addresses "
		"(default 64;\n"
		"                        1: off)\n"
		"      --path PATH       http: the path (default /, or the "
		"URL's)\n"
		"  -H, --header 'N: V'   http: one more request header "
		"(repeatable)\n"
		"      --no-keepalive    http, echo: a new connection (and TLS "
		"handshake)\n"
		"                        per request\n"
		"      --status N        http: the status expected (default: "
		"any 2xx)\n"
		"  -X, --method METHOD   http: the method (default GET; HEAD "
		"expects\n"
		"                        no bodies)\n"
		"      --body FILE       http: send FILE (- for stdin, up to "
		"1 MiB) as\n"
		"                        each request's body, with its "
		"Content-Length\n"
		"      --content-type T  http: the body's Content-Type\n"
		"      --tls             speak TLS (echo, connect, http; "
		"implied "
		"by https://);\n"
		"                        the server's certificate is verified "
		"and must\n"
		"                        name HOST\n"
		"      --ca FILE|DIR     trust these CAs instead of the system "
		"store\n"
		"      --pin sha256:HEX  trust the server whose key or "
		"certificate has this\n"
		"                        SHA-256 (repeatable)\n"
		"      --insecure        no verification at all (said on "
		"stderr)\n"
		"      --sni NAME, --no-sni  the name sent in SNI, or none\n"
		"      --alpn LIST       ALPN protocols, \"http/1.1\"\n"
		"      --cert FILE, --key FILE  client certificate (PEM), its "
		"key\n"
		"      --tls-min 1.3     refuse TLS 1.2\n"
		"      --no-resume       full handshakes only (no session "
		"tickets); by\n"
		"                        default each connection resumes the "
		"session of\n"
		"                        the one before it\n"
		"      --json            one JSON object on stdout "
		"(docs/json.md)\n"
		"  -q, --quiet           no progress line on a terminal\n"
		"  -4, -6                resolve HOST to IPv4 / IPv6 only\n"
		"\n"
		"Durations take a unit: 500ms, 2s, 1m, 1h; a bare number is "
		"seconds for\n"
		"--duration and --warmup, milliseconds for --timeout and "
		"--ramp.\n"
		"\n"
		"Output: requests/s, MB/s, latency percentiles (p50 p90 p99 "
		"p99.9 max,\n"
		"within 0.8%), errors by kind, and this process's own CPU "
		"time, so\n"
		"that a saturated generator shows. Ctrl-C (SIGINT, SIGTERM, "
		"SIGHUP) ends\n"
		"the run early with the report so far, marked interrupted.\n"
		"\n"
		"Over TLS, one handshake before the run (a server the options "
		"do not\n"
		"trust fails there: exit 1, the reason on stderr); in the run, "
		"handshakes\n"
		"are counted, resumed or full, and timed apart from the "
		"requests.\n"
		"\n"
		"Exit status: 0 when every request succeeded, 1 when any "
		"failed or none\n"
		"completed, 2 on usage errors, 128 + the signal's number when "
		"interrupted\n"
		"(130 for Ctrl-C).\n",
	.run = run,
};
