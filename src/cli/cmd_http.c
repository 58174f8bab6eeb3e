/* cmd_http.c - `sockit http [METHOD] URL...`: HTTP/1.x requests, the curl
 * -I / curl -i of the tutorials. Options into a struct, conflicts checked
 * in one place; then, URL by URL, a connection from the client engine
 * (src/tools/http/: resolve, Happy Eyeballs, TLS, the library's codec)
 * kept alive for the next URL on the same host, each response streamed to
 * stdout or -o's file (http_out.c), redirects followed with -L.
 *
 * A response that lies about its length (a short body, a bad chunk, a
 * malformed head) is an error, exit 1, with what arrived already written
 * and the message saying how much that was; never a silent truncation. */
#include "cli_proxy.h"
#include "http_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS 86400000
/* As curl's default since 8.3; browsers stop at 20. */
#define HTTP_MAX_REDIRS_DEFAULT 50

enum {
	OPT_SOURCE_PORT = 0x180,
	OPT_MAX_REDIRS,
	OPT_ALLOW_DOWNGRADE,
	OPT_HTTP10,
	OPT_JSON,
	OPT_RAW,
	OPT_NO_PROGRESS,
	OPT_UNIX_SOCKET,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_TIME,
	OPT_DATA_FILE,
	OPT_PROXY,
};

static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= '0' && *s <= '9') &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* "Name: value": a token, a colon, and no CR, LF or NUL. */
static int header_option(struct http_opts *o, const char *h)
{
	const char *colon = strchr(h, ':');
	char name[256];
	size_t nl = colon != NULL ? (size_t)(colon - h) : 0;
	if (nl == 0 || nl >= sizeof(name))
		return cli_usage_error("http", "-H '%s': want 'Name: value'",
				       h);
	memcpy(name, h, nl);
	name[nl] = '\0';
	if (!is_token(name) || strpbrk(h, "\r\n") != NULL)
		return cli_usage_error("http",
				       "-H '%s': a name is a token, and a "
				       "value holds no CR or LF",
				       h);
	if (o->nheaders == HTTP_HEADERS_MAX)
		return cli_usage_error("http", "-H: at most %d",
				       HTTP_HEADERS_MAX);
	o->headers[o->nheaders++] = h;
	return CLI_OK;
}

static int unix_option(struct http_opts *o, const char *arg)
{
	const char *path = strncmp(arg, "unix:", 5) == 0 ? arg + 5 : arg;
	if (*path == '\0' || skt_addr_unix(&o->unix_addr, path) < 0)
		return cli_usage_error("http",
				       "--unix-socket '%s': not a "
				       "socket path that fits",
				       arg);
	o->unix_socket = arg;
	return CLI_OK;
}

static int option(struct http_opts *o, int ch, char *arg)
{
	uint64_t n;
	switch (ch) {
	case '4':
		o->v4 = true;
		return CLI_OK;
	case '6':
		o->v6 = true;
		return CLI_OK;
	case 'v':
		o->verbose = true;
		return CLI_OK;
	case 'w':
		return cli_opt_duration("http", "-w", arg, 1000, 1, DAY_MS,
					&o->timeout_ms);
	case OPT_CONNECT_TIMEOUT:
		return cli_opt_duration("http", "--connect-timeout", arg, 1000,
					1, DAY_MS, &o->connect_ms);
	case OPT_MAX_TIME:
		return cli_opt_duration("http", "--max-time", arg, 1000, 1,
					DAY_MS, &o->max_time_ms);
	case 's':
		o->source = arg;
		return CLI_OK;
	case OPT_SOURCE_PORT:
		o->source_port = arg;
		return CLI_OK;
	case 'I':
		o->head = true;
		return CLI_OK;
	case 'i':
		o->include = true;
		return CLI_OK;
	case 'X':
		if (!is_token(arg))
			return cli_usage_error("http",
					       "-X '%s': a method is "
					       "a token",
					       arg);
		o->method = arg;
		return CLI_OK;
	case 'H':
		return header_option(o, arg);
	case 'd':
		o->data = arg;
		return CLI_OK;
	case OPT_DATA_FILE:
		o->data_file = arg;
		return CLI_OK;
	case 'o':
		o->output = arg;
		return CLI_OK;
	case 'L':
		o->follow = true;
		return CLI_OK;
	case OPT_MAX_REDIRS:
		if (cli_opt_count("http", "--max-redirs", arg, 0, 1000, &n) !=
		    CLI_OK)
			return CLI_USAGE;
		o->max_redirs = (unsigned)n;
		return CLI_OK;
	case OPT_ALLOW_DOWNGRADE:
		o->allow_downgrade = true;
		return CLI_OK;
	case OPT_HTTP10:
		o->http10 = true;
		return CLI_OK;
	case OPT_JSON:
		o->json = true;
		return CLI_OK;
	case OPT_RAW:
		o->raw = true;
		return CLI_OK;
	case 'f':
		o->fail = true;
		return CLI_OK;
	case OPT_NO_PROGRESS:
		o->no_progress = true;
		return CLI_OK;
	case OPT_UNIX_SOCKET:
		return unix_option(o, arg);
	case OPT_PROXY:
		o->proxy_text = arg;
		return cli_proxy_parse("http", arg, &o->proxy);
	case CLI_TLS_OPT_TLS:
		return cli_usage_error("http", "--tls: an https:// URL says "
					       "TLS");
	default:
		return cli_tls_option(&o->tls, "http", ch, arg);
	}
}

static int parse_source(struct http_opts *o)
{
	uint16_t port = 0;
	int rc;
	if (o->source_port != NULL &&
	    (rc = cli_opt_port("http", "--source-port", o->source_port,
			       SOCK_STREAM, 0, &port)) != CLI_OK)
		return rc;
	if (o->source != NULL) {
		if (skt_addr_from_ip(&o->src, o->source, port) < 0)
			return cli_usage_error("http",
					       "-s '%s': expected a numeric "
					       "address",
					       o->source);
		int fam = skt_addr_family(&o->src);
		if (o->family != AF_UNSPEC && fam != o->family)
			return cli_usage_error("http", "-%c and -s %s conflict",
					       o->v4 ? '4' : '6', o->source);
		o->family = fam;
	} else if (o->source_port != NULL) {
		skt_addr_from_ip(&o->src,
				 o->family == AF_INET6 ? "::" : "0.0.0.0",
				 port);
	}
	o->src_set = o->source != NULL || o->source_port != NULL;
	return CLI_OK;
}

static int conflicts(const struct http_opts *o)
{
	const char *c = NULL;
	if (o->head && o->method != NULL)
		c = "-I and -X (or a METHOD)";
	else if (o->head && (o->data != NULL || o->data_file != NULL))
		c = "-I and -d";
	else if (o->data != NULL && o->data_file != NULL)
		c = "-d and --data-file";
	else if (o->json && (o->include || o->raw))
		c = o->raw ? "--json and --raw" : "--json and -i";
	else if (o->unix_socket != NULL && (o->v4 || o->v6))
		c = o->v4 ? "--unix-socket and -4" : "--unix-socket and -6";
	else if (o->unix_socket != NULL && o->src_set)
		c = "--unix-socket and -s/--source-port";
	else if (o->unix_socket != NULL && o->proxy_text != NULL)
		c = "--unix-socket and --proxy";
	if (c != NULL)
		return cli_usage_error("http", "%s conflict", c);
	return CLI_OK;
}

/* The operands: an optional METHOD, then URLs. */
static int operands(struct http_opts *o, int n, char **args)
{
	if (n > 0 && strstr(args[0], "://") == NULL && is_token(args[0])) {
		if (o->method != NULL)
			return cli_usage_error("http", "-X and a METHOD "
						       "operand: give one");
		o->method = args[0];
		args++;
		n--;
	}
	if (n == 0)
		return cli_usage_error("http", "no URL");
	for (int i = 0; i < n; i++) {
		static httpc_url u; /* 8 KiB: not on the stack of a parse */
		const char *why;
		if (httpc_url_parse(&u, args[i], &why) < 0)
			return cli_usage_error("http", "'%s': %s", args[i],
					       why);
		o->any_https = o->any_https || u.https;
	}
	o->urls = args;
	o->nurls = n;
	return CLI_OK;
}

static int validate(struct http_opts *o)
{
	int rc = cli_family("http", o->v4, o->v6, &o->family);
	if (rc == CLI_OK)
		rc = parse_source(o);
	if (rc == CLI_OK)
		rc = conflicts(o);
	if (rc != CLI_OK)
		return rc;
	/* The TLS options are for https:// URLs (a redirect may lead to
	 * one, so -L takes them too). */
	if (o->tls.first != NULL && !o->any_https && !o->follow)
		return cli_usage_error("http", "%s needs an https:// URL",
				       o->tls.first);
	o->tls.on = true;
	return cli_tls_check(&o->tls, "http", SKT_TLS_CLIENT);
}

int cmd_http_parse(int argc, char **argv, struct http_opts *o)
{
	static const struct option longopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"head", no_argument, NULL, 'I'},
		{"include", no_argument, NULL, 'i'},
		{"request", required_argument, NULL, 'X'},
		{"header", required_argument, NULL, 'H'},
		{"data", required_argument, NULL, 'd'},
		{"data-file", required_argument, NULL, OPT_DATA_FILE},
		{"output", required_argument, NULL, 'o'},
		{"location", no_argument, NULL, 'L'},
		{"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
		{"allow-downgrade", no_argument, NULL, OPT_ALLOW_DOWNGRADE},
		{"http1.0", no_argument, NULL, OPT_HTTP10},
		{"json", no_argument, NULL, OPT_JSON},
		{"raw", no_argument, NULL, OPT_RAW},
		{"fail", no_argument, NULL, 'f'},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"unix-socket", required_argument, NULL, OPT_UNIX_SOCKET},
		{"proxy", required_argument, NULL, OPT_PROXY},
		{"connect-timeout", required_argument, NULL,
		 OPT_CONNECT_TIMEOUT},
		{"max-time", required_argument, NULL, OPT_MAX_TIME},
		{"source-port", required_argument, NULL, OPT_SOURCE_PORT},
		CLI_TLS_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	*o = (struct http_opts){0};
	o->timeout_ms = o->connect_ms = o->max_time_ms = -1;
	o->max_redirs = HTTP_MAX_REDIRS_DEFAULT;
	cli_args a;
	cli_args_init(&a, "http", argc, argv, "46vw:s:IiX:H:d:o:Lf", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		int rc = option(o, ch, a.arg);
		if (rc != CLI_OK)
			return rc == -1 ? CLI_USAGE : rc;
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	int rc = operands(o, argc - a.next, argv + a.next);
	return rc != CLI_OK ? rc : validate(o);
}

/* ---- Transfers ---- */

static void say(const char *what, const char *why)
{
	fprintf(stderr, "sockit: http: %s: %s\n", what, why);
}

static void verbose_connected(struct http_run *r, const httpc_url *u)
{
	char peer[SKT_ADDRSTRLEN] = "?", me[SKT_ADDRSTRLEN] = "?";
	skt_addr a;
	skt_addr_format(&r->c.peer, peer, sizeof(peer));
	if (skt_sock_local(r->c.fd, &a) == 0)
		skt_addr_format(&a, me, sizeof(me));
	fprintf(stderr, "sockit: http: connected to %s from %s (%s)\n", peer,
		me, u->authority);
}

/* A TLS context on first need: an https:// URL, or a redirect to one. */
static int need_tls(struct http_run *r)
{
	if (r->ctx != NULL)
		return CLI_OK;
	if (cli_tls_ctx(&r->o->tls, "http", SKT_TLS_CLIENT, NULL, 0, &r->ctx) !=
	    CLI_OK)
		return CLI_FAIL;
	r->dial.tls = r->ctx;
	return CLI_OK;
}

/* A failed --proxy: "proxy 127.0.0.1:1080: HTTP 403 Forbidden", or the
 * connect's error when the proxy was not reached. */
static const char *proxy_why(const struct http_run *r, int rc, char *buf,
			     size_t cap)
{
	char where[SKT_HOST_MAX + 16];
	const proxy_client *p = r->dial.pc;
	proxy_url_where(&r->o->proxy, where, sizeof(where));
	if (p->detail[0] == '\0')
		snprintf(buf, cap, "proxy %s: %s", where, skt_strerror(rc));
	else if (rc == SKT_ETIMEDOUT ||
		 (rc > -4000 && rc != SKT_EPROTO && rc != SKT_EINVAL))
		snprintf(buf, cap, "proxy %s: %s: %s", where, p->detail,
			 skt_strerror(rc));
	else
		snprintf(buf, cap, "proxy %s: %s", where, p->detail);
	return buf;
}

static int open_conn(struct http_run *r, struct http_req *rq, char *what,
		     size_t cap)
{
	const char *stage = "connect";
	if (rq->url.https && need_tls(r) != CLI_OK)
		return SKT_ETLS;
	r->rep = (skt_connect_report){0};
	r->tls_have = false;
	int rc = httpc_connect(&r->c, &rq->url, rq->start_us, &rq->t, &stage);
	if (r->o->verbose && r->o->unix_socket == NULL &&
	    strcmp(stage, "resolve") != 0)
		cli_print_attempts("http", &r->rep);
	if (r->o->unix_socket != NULL)
		snprintf(what, cap, "%s", r->o->unix_socket);
	else
		snprintf(what, cap, "%s", rq->url.authority);
	if (rc < 0) {
		char buf[512];
		const char *why =
			strcmp(stage, "tls") == 0
				? cli_tls_why(r->c.tls, rc, buf, sizeof(buf))
			: strcmp(stage, "proxy") == 0
				? proxy_why(r, rc, buf, sizeof(buf))
				: skt_strerror(rc);
		say(what, why);
		if (r->o->json)
			http_json(r, rq, rc, what, why);
		httpc_conn_close(&r->c);
		return rc;
	}
	if (r->o->verbose)
		verbose_connected(r, &rq->url);
	if (r->o->verbose && r->o->proxy_text != NULL)
		cli_proxy_print("http", &r->o->proxy, r->dial.pc,
				rq->url.authority);
	if (r->c.tls != NULL && skt_tls_get_info(r->c.tls, &r->tls_info) == 0) {
		r->tls_have = true;
		if (r->o->verbose)
			cli_tls_print_info("http", &r->tls_info);
	}
	return 0;
}

/* Why an exchange failed, in words a user acts on. */
static const char *exchange_why(const struct http_run *r, int rc, char *buf,
				size_t cap)
{
	const httpc_resp *rp = &r->rp;
	bool in_body = rp->head != NULL && rp->r.status >= 200;
	if (r->out_err != 0)
		snprintf(buf, cap, "%s: %s", r->out_name,
			 skt_strerror(r->out_err));
	else if (rc == SKT_EPARTIAL && in_body &&
		 rp->framing == HTTPC_BODY_LENGTH)
		snprintf(buf, cap,
			 "the body ended after %llu of its %llu bytes "
			 "(Content-Length): the connection closed early",
			 (unsigned long long)rp->body_bytes,
			 (unsigned long long)rp->expected);
	else if (rc == SKT_EPARTIAL && in_body)
		snprintf(buf, cap,
			 "the chunked body ended before its last chunk, "
			 "after %llu bytes",
			 (unsigned long long)rp->body_bytes);
	else if (rc == SKT_EPARTIAL)
		snprintf(buf, cap, "the response head was cut short");
	else if (rc == SKT_EOF)
		snprintf(buf, cap,
			 "the server closed the connection "
			 "without a response");
	else if (rc == SKT_ETRUNCATED)
		snprintf(buf, cap,
			 "the body ended without TLS close_notify after %llu "
			 "bytes: it may be truncated",
			 (unsigned long long)rp->body_bytes);
	else if (rp->why != SKT_HTTP_OK)
		snprintf(buf, cap, "%s: %s",
			 in_body ? "bad chunked body" : "malformed response",
			 skt_http_rule_str(rp->why));
	else if (rc == SKT_ETIMEDOUT && r->o->max_time_ms >= 0)
		snprintf(buf, cap, "timed out (-w or --max-time)");
	else
		snprintf(buf, cap, "%s", skt_strerror(rc));
	return buf;
}

static int send_request(struct http_run *r, const struct http_req *rq)
{
	const char *body = rq->body ? r->o->data : NULL;
	size_t body_len = body != NULL ? (size_t)r->body_len : 0;
	int body_fd = rq->body && r->body_fd >= 0 ? r->body_fd : -1;
	if (body_fd >= 0 && lseek(body_fd, 0, SEEK_SET) < 0)
		return -errno;
	r->sent = r->req_len + (rq->body ? r->body_len : 0);
	return httpc_send(&r->c, r->req, r->req_len, body, body_len, body_fd);
}

/* One request and its response, on a kept connection when there is one
 * to the same host: a kept connection that the server closed meanwhile
 * (the send fails, or it ends before a byte of the response) is replaced
 * once by a new one, as curl does. Returns 0 or the error, reported. */
static int one_request(struct http_run *r, struct http_req *rq)
{
	char what[SKT_HOST_MAX + 128];
	int rc;
	httpc_sink sink;
	http_sink(r, &sink);
	for (int attempt = 0;; attempt++) {
		rq->start_us = httpc_now_us();
		rq->t = (httpc_times){0};
		rq->reused = httpc_conn_reusable(&r->c, &rq->url);
		if (!rq->reused &&
		    (rc = open_conn(r, rq, what, sizeof(what))) < 0)
			return rc;
		if (rq->reused && r->o->verbose)
			fprintf(stderr,
				"sockit: http: reusing the connection to "
				"%s\n",
				what);
		if (http_build(r, rq) != CLI_OK)
			return SKT_ETOOBIG;
		if (r->o->verbose)
			http_print_request(r);
		rc = send_request(r, rq);
		rq->t.sent_us = httpc_now_us() - rq->start_us;
		if (rc == 0)
			rc = httpc_exchange(&r->c, rq->to_head, &sink, &r->rp,
					    rq->start_us, &rq->t);
		http_progress_end(r);
		bool stale = rc == SKT_EOF || rc == SKT_EPIPE ||
			     rc == SKT_ECONNRESET;
		if (rc < 0 && stale && rq->reused && attempt == 0 &&
		    r->rp.head_bytes == 0) {
			httpc_conn_close(&r->c);
			continue;
		}
		break;
	}
	if (rc < 0) {
		char buf[512];
		const char *why = exchange_why(r, rc, buf, sizeof(buf));
		say(what, why);
		if (r->o->json)
			http_json(r, rq, rc, what, why);
		httpc_conn_close(&r->c);
	}
	return rc;
}

static bool same_origin_host(const httpc_url *a, const httpc_url *b)
{
	return a->port == b->port && a->https == b->https &&
	       strcasecmp(a->host, b->host) == 0;
}

/* The next request after a redirect rq got: its URL from Location, the
 * method RFC 9110 15.4 and curl give it (303: GET; 301 and 302: GET after
 * a POST; 307 and 308: the same method and body). Returns CLI_OK, or
 * CLI_FAIL after one line. */
static int redirect(struct http_run *r, struct http_req *rq)
{
	const skt_http_field *loc = httpc_field(&r->rp, "Location");
	char url[HTTPC_URL_MAX + 16];
	httpc_url_format(&rq->url, url, sizeof(url));
	if (r->redirects >= (int)r->o->max_redirs) {
		char buf[96];
		snprintf(buf, sizeof(buf),
			 "more than %u redirects "
			 "(--max-redirs)",
			 r->o->max_redirs);
		say(url, buf);
		if (r->o->json)
			http_json(r, rq, SKT_ETOOBIG, url, buf);
		return CLI_FAIL;
	}
	static httpc_url next;
	const char *why;
	if (httpc_url_resolve(&next, &rq->url, loc->value, loc->value_len,
			      &why) < 0) {
		char buf[128];
		snprintf(buf, sizeof(buf), "a bad Location: %s", why);
		say(url, buf);
		if (r->o->json)
			http_json(r, rq, SKT_EMALFORMED, url, buf);
		return CLI_FAIL;
	}
	char to[HTTPC_URL_MAX + 16];
	httpc_url_format(&next, to, sizeof(to));
	if (rq->url.https && !next.https) {
		if (!r->o->allow_downgrade) {
			char buf[HTTPC_URL_MAX + 96];
			snprintf(buf, sizeof(buf),
				 "refused a redirect from https to %s "
				 "(--allow-downgrade follows it)",
				 to);
			say(url, buf);
			if (r->o->json)
				http_json(r, rq, SKT_EPROTO, url, buf);
			return CLI_FAIL;
		}
		fprintf(stderr,
			"sockit: http: warning: following a redirect from "
			"https to http: %s\n",
			to);
	}
	int s = r->rp.r.status;
	bool get = s == 303 ||
		   ((s == 301 || s == 302) && strcmp(rq->method, "POST") == 0);
	if (get && !rq->to_head) {
		rq->method = "GET";
		rq->body = false;
	}
	rq->cross_host = rq->cross_host || !same_origin_host(&rq->url, &next);
	rq->url = next;
	r->redirects++;
	if (r->o->verbose)
		fprintf(stderr, "sockit: http: following %d to %s\n", s, to);
	return CLI_OK;
}

static const char *method_of(const struct http_opts *o)
{
	if (o->method != NULL)
		return o->method;
	if (o->head)
		return "HEAD";
	return o->data != NULL || o->data_file != NULL ? "POST" : "GET";
}

static int transfer(struct http_run *r, const char *text)
{
	static struct http_req rq;
	const char *why;
	httpc_url_parse(&rq.url, text, &why); /* checked by the parse */
	rq.method = method_of(r->o);
	rq.to_head = strcmp(rq.method, "HEAD") == 0;
	rq.body = r->o->data != NULL || r->o->data_file != NULL;
	rq.cross_host = false;
	r->redirects = 0;
	r->redirect_us = 0;
	int64_t t0 = httpc_now_us();
	httpc_set_deadline(&r->c,
			   r->o->max_time_ms < 0
				   ? 0
				   : t0 + (int64_t)r->o->max_time_ms * 1000);
	for (;;) {
		if (one_request(r, &rq) < 0)
			return CLI_FAIL;
		int s = r->rp.r.status;
		bool redir = s == 301 || s == 302 || s == 303 || s == 307 ||
			     s == 308;
		if (!r->o->follow || !redir ||
		    httpc_field(&r->rp, "Location") == NULL)
			break;
		if (redirect(r, &rq) != CLI_OK)
			return CLI_FAIL;
		r->redirect_us = httpc_now_us() - t0;
	}
	if (r->o->json)
		http_json(r, &rq, 0, NULL, NULL);
	if (r->o->fail && r->rp.r.status >= 400) {
		char url[HTTPC_URL_MAX + 16], buf[64];
		httpc_url_format(&rq.url, url, sizeof(url));
		snprintf(buf, sizeof(buf), "the server answered %d",
			 r->rp.r.status);
		say(url, buf);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* -o FILE (or stdout), --data-file FILE, and the dial, before any
 * packet. */
static int setup(struct http_run *r, const struct http_opts *o)
{
	r->o = o;
	r->out_fd = 1;
	r->out_name = "stdout";
	r->body_fd = -1;
	if (o->output != NULL && strcmp(o->output, "-") != 0) {
		r->out_fd =
			open(o->output,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (r->out_fd < 0)
			return cli_fail("http", o->output, -errno);
		r->out_name = o->output;
		r->progress = !o->no_progress && isatty(2);
	}
	if (o->data != NULL)
		r->body_len = strlen(o->data);
	if (o->data_file != NULL) {
		struct stat st;
		r->body_fd = open(o->data_file, O_RDONLY | O_CLOEXEC);
		if (r->body_fd < 0)
			return cli_fail("http", o->data_file, -errno);
		if (fstat(r->body_fd, &st) < 0 || !S_ISREG(st.st_mode))
			return cli_fail_why("http", o->data_file, SKT_EINVAL,
					    "not a regular file (its length "
					    "goes in Content-Length)");
		r->body_len = (uint64_t)st.st_size;
	}
	if (o->any_https && need_tls(r) != CLI_OK)
		return CLI_FAIL;
	httpc_dial *d = &r->dial;
	d->unix_addr = o->unix_socket != NULL ? &o->unix_addr : NULL;
	d->family = o->family;
	d->source = o->src_set ? &o->src : NULL;
	d->tls = r->ctx;
	d->sni = cli_tls_sni(&o->tls);
	d->report = &r->rep;
	d->connect_ms = o->connect_ms >= 0 ? o->connect_ms : o->timeout_ms;
	d->idle_ms = o->timeout_ms;
	if (o->proxy_text != NULL) {
		static proxy_client pc; /* 18 KiB: not on the stack */
		d->proxy = &o->proxy;
		d->pc = &pc;
	}
	httpc_conn_init(&r->c, d);
	return CLI_OK;
}

static void teardown(struct http_run *r)
{
	httpc_conn_free(&r->c);
	skt_tls_ctx_free(r->ctx);
	if (r->out_fd > 2)
		close(r->out_fd);
	if (r->body_fd >= 0)
		close(r->body_fd);
}

static int run(int argc, char **argv)
{
	struct http_opts o;
	int rc = cmd_http_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		cli_json_errors(stdout);
	struct http_run *r = skt_calloc(1, sizeof(*r));
	if (r == NULL)
		return cli_fail("http", "memory", SKT_ENOMEM);
	rc = setup(r, &o);
	cli_json_errors(NULL); /* a transfer's failure is its object */
	for (int i = 0; rc == CLI_OK && i < o.nurls; i++)
		if (transfer(r, o.urls[i]) != CLI_OK)
			rc = CLI_FAIL;
	if (rc == CLI_OK && r->out_fd > 2 && close(r->out_fd) < 0)
		rc = cli_fail("http", o.output, -errno);
	else if (r->out_fd > 2)
		close(r->out_fd);
	r->out_fd = -1;
	teardown(r);
	skt_free(r);
	return rc;
}

const cli_cmd cli_cmd_http = {
	.name = "http",
	.summary = "HTTP/1.1 requests, like curl: GET, HEAD, -i, -o",
	.usage =
		"usage: sockit http [options] [METHOD] URL...\n"
		"  Send each URL a request (http:// or https://) and print "
		"the body;\n"
		"  URLs on one host share one keep-alive connection.\n"
		"  -I, --head         HEAD: print the status line and "
		"headers\n"
		"  -i, --include      print the headers before the body\n"
		"  --raw              print every byte as received (heads, "
		"chunk\n"
		"                     framing), the response still checked\n"
		"  -o, --output FILE  write the body to FILE (a progress bar "
		"on a\n"
		"                     terminal: bytes, rate, time left)\n"
		"  --no-progress      no progress bar\n"
		"  -X, --request M    the method (or give METHOD before the "
		"URL)\n"
		"  -H, --header 'N: V'  add a header, or replace a default "
		"one;\n"
		"                     'N:' removes it (repeatable)\n"
		"  -d, --data DATA    send DATA as the body (POST unless -X)\n"
		"  --data-file FILE   send FILE as the body\n"
		"  -L, --location     follow redirects (301 302 303 307 "
		"308)\n"
		"  --max-redirs N     at most N of them (50)\n"
		"  --allow-downgrade  follow a redirect from https to http "
		"(with a\n"
		"                     warning; refused without this)\n"
		"  -f, --fail         a status of 400 or more is a failure "
		"(exit 1,\n"
		"                     no body)\n"
		"  --http1.0          speak HTTP/1.0\n"
		"  --json             one object per URL on stdout: status, "
		"headers,\n"
		"                     sizes, phase times; the body goes to -o "
		"or is\n"
		"                     dropped\n"
		"  --proxy URL        through a proxy: socks5://, socks5h://, "
		"socks4a://,\n"
		"                     http:// (CONNECT, for http:// URLs too); "
		"[user:pass@]ADDR:PORT\n"
		"  --unix-socket PATH connect to this Unix socket (PATH or "
		"unix:PATH);\n"
		"                     the URL gives the Host and the path\n"
		"  -4, -6             only IPv4 / only IPv6\n"
		"  -s ADDR            connect from this local address\n"
		"  --source-port N    connect from this local port\n"
		"  -w SECS            connect timeout, and idle timeout after\n"
		"  --connect-timeout SECS  the connect and TLS handshake "
		"only\n"
		"  --max-time SECS    each URL's whole transfer\n"
		"  -v, --verbose      addresses tried, the TLS handshake, "
		"the\n"
		"                     request and response heads on stderr\n"
		"  --ca FILE|DIR      trust these CAs instead of the system "
		"store\n"
		"  --pin sha256:HEX   trust the server whose key or "
		"certificate has\n"
		"                     this SHA-256 (repeatable)\n"
		"  --insecure         no verification at all (said on "
		"stderr)\n"
		"  --sni NAME, --no-sni  the name sent in SNI, or none\n"
		"  --alpn LIST        ALPN protocols offered\n"
		"  --cert FILE, --key FILE  client certificate (PEM), its key\n"
		"  --tls-min 1.3      refuse TLS 1.2\n"
		"  --no-resume        no session tickets\n"
		"  A short body, a bad chunk or a malformed head is an error "
		"(exit 1).\n",
	.run = run,
};
