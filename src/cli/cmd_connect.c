/* cmd_connect.c - `sockit connect HOST PORT`: bridge stdin/stdout with a
 * TCP, UDP or Unix stream connection, like `nc HOST PORT`, or with --tls
 * a TLS session over it. Options into a struct, conflicts checked in one
 * place, then skt_connect (Happy Eyeballs, with its report for -v), the
 * handshake within what -w leaves (skt_tls_handshake), and skt_relay_run
 * or skt_tls_relay_run. */
#include "cmds.h"

#include "cli_proxy.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

enum { OPT_SOURCE_PORT = BRIDGE_OPT_OWN, OPT_PROXY };
/* open_connection's answer when the failure was already said. */
#define PROXY_FAILED_FD INT_MIN

static int parse_source(struct connect_opts *o)
{
	uint16_t port = 0;
	int rc;
	if (o->source_port != NULL &&
	    (rc = cli_opt_port("connect", "--source-port", o->source_port,
			       o->b.udp ? SOCK_DGRAM : SOCK_STREAM, 0,
			       &port)) != CLI_OK)
		return rc;
	if (o->source != NULL) {
		rc = skt_addr_from_ip(&o->src, o->source, port);
		if (rc < 0)
			return cli_usage_error("connect",
					       "-s '%s': expected a "
					       "numeric address",
					       o->source);
		int fam = skt_addr_family(&o->src);
		int want = bridge_family(&o->b);
		if (want != AF_UNSPEC && fam != want)
			return cli_usage_error("connect",
					       "-%c and -s %s conflict",
					       o->b.v4 ? '4' : '6', o->source);
	} else if (o->source_port != NULL) {
		/* The port alone, kept here; open_connection picks the
		 * family's wildcard address once it knows the family. */
		skt_addr_from_ip(&o->src, "0.0.0.0", port);
	}
	return CLI_OK;
}

/* --proxy: a TCP target, its port as a number for the proxy (a service
 * name is looked up here, in /etc/services). */
static int check_proxy(struct connect_opts *o)
{
	int rc = cli_proxy_parse("connect", o->proxy_text, &o->proxy);
	if (rc != CLI_OK)
		return rc;
	if (o->ep.kind != SKT_EP_INET || o->b.udp)
		return cli_usage_error("connect",
				       "--proxy and %s conflict: a proxy "
				       "carries TCP only",
				       o->b.udp ? "-u" : "a Unix socket");
	int port = skt_service_port(o->ep.service, SOCK_STREAM);
	if (port <= 0)
		return cli_usage_error("connect", "'%s': no such TCP service",
				       o->ep.service);
	o->port = (uint16_t)port;
	return CLI_OK;
}

/* Every conflict, in one place. A unix-dgram: target is a datagram
 * relay, as -u is (not a stream: no half-close). */
static int validate(struct connect_opts *o)
{
	bool dgram = o->ep.kind == SKT_EP_UNIX_DGRAM;
	bool unix_target = o->ep.kind == SKT_EP_UNIX || dgram;
	if (dgram && (o->b.v4 || o->b.v6))
		return cli_usage_error("connect",
				       "-%c and a Unix socket "
				       "conflict",
				       o->b.v4 ? '4' : '6');
	if (dgram && o->b.udp)
		return cli_usage_error("connect", "-u and unix-dgram: say the "
						  "same: give one");
	o->b.udp = o->b.udp || dgram;
	int rc = bridge_check(&o->b, o->ep.kind == SKT_EP_UNIX);
	if (rc != CLI_OK)
		return rc;
	if (unix_target && (o->source != NULL || o->source_port != NULL))
		return cli_usage_error(
			"connect", "%s and a Unix socket conflict",
			o->source != NULL ? "-s" : "--source-port");
	if (o->proxy_text != NULL && (rc = check_proxy(o)) != CLI_OK)
		return rc;
	return parse_source(o);
}

int cmd_connect_parse(int argc, char **argv, struct connect_opts *o)
{
	static const struct option longopts[] = {
		BRIDGE_LONGOPTS,
		{"source-port", required_argument, NULL, OPT_SOURCE_PORT},
		{"proxy", required_argument, NULL, OPT_PROXY},
		{NULL, 0, NULL, 0},
	};
	*o = (struct connect_opts){0};
	bridge_init(&o->b, "connect", SKT_TLS_CLIENT);
	cli_args a;
	cli_args_init(&a, "connect", argc, argv,
		      BRIDGE_SHORTOPTS "s:", longopts);
	int ch;
	while ((ch = cli_args_next(&a)) >= 0) {
		int rc = bridge_option(&o->b, ch, a.arg);
		if (rc == -1 && ch == 's')
			o->source = a.arg;
		else if (rc == -1 && ch == OPT_PROXY)
			o->proxy_text = a.arg;
		else if (rc == -1) /* OPT_SOURCE_PORT: nothing else is left */
			o->source_port = a.arg;
		else if (rc != CLI_OK)
			return rc;
	}
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	int rc = cli_parse_target("connect", argc - a.next, argv + a.next, 0,
				  o->b.udp ? SOCK_DGRAM : SOCK_STREAM, &o->ep);
	if (rc != CLI_OK)
		return rc;
	bridge_target_text(&o->ep, o->target, sizeof(o->target));
	return validate(o);
}

static void print_connected(int fd, bool udp)
{
	skt_addr me, peer;
	char a[SKT_ADDRSTRLEN] = "?", b[SKT_ADDRSTRLEN] = "?";
	if (skt_sock_peer(fd, &peer) == 0)
		skt_addr_format(&peer, a, sizeof(a));
	if (skt_sock_local(fd, &me) == 0)
		skt_addr_format(&me, b, sizeof(b));
	fprintf(stderr, "sockit: connect: connected to %s from %s%s\n", a, b,
		udp ? " (udp)" : "");
}

/* --source-port alone names no family; take the one of the address the
 * system prefers for the name (RFC 6724's first), and bind its wildcard.
 * Returns the family or a resolver error. */
static int source_family(const struct connect_opts *o, int type)
{
	int fam = bridge_family(&o->b);
	if (fam != AF_UNSPEC)
		return fam;
	skt_addrlist l = {0};
	int rc = skt_resolve(&l, o->ep.host[0] ? o->ep.host : NULL,
			     o->ep.service, AF_UNSPEC, type, 0);
	if (rc < 0)
		return rc;
	fam = skt_addr_family(&l.addrs[0]);
	skt_addrlist_fini(&l);
	return fam;
}

/* Through --proxy: the connect and the handshake both within -w. Says
 * what the proxy answered with -v, and why it failed in any case
 * (CLI_FAIL then, for run's cli_fail to skip). */
static int open_proxied(struct connect_opts *o, const skt_connect_opts *co)
{
	static proxy_client p; /* 18 KiB: not on the stack */
	/* Without -w, the connect and the proxy's answer together get the
	 * TLS handshake's default bound: a proxy that accepts and then says
	 * nothing must not hold the command forever. */
	int64_t deadline = bridge_now_ms() +
			   (o->b.timeout_ms >= 0 ? o->b.timeout_ms
						 : BRIDGE_TLS_HANDSHAKE_MS);
	int fd = proxy_open(&p, &o->proxy, o->ep.host, o->port, co, deadline);
	if (o->b.verbose && p.reached)
		cli_print_attempts("connect", co->report);
	if (fd >= 0 && o->b.verbose)
		cli_proxy_print("connect", &o->proxy, &p, o->target);
	if (fd < 0) {
		cli_proxy_fail("connect", &o->proxy, &p, o->target, fd);
		return PROXY_FAILED_FD;
	}
	return fd;
}

static int open_connection(struct connect_opts *o, skt_connect_report *rep)
{
	skt_connect_opts co = SKT_CONNECT_OPTS_INIT;
	co.family = bridge_family(&o->b);
	co.socktype = o->b.udp ? SOCK_DGRAM : SOCK_STREAM;
	co.timeout_ms = o->b.timeout_ms;
	co.report = rep;
	if (o->source == NULL && o->source_port != NULL) {
		int fam = source_family(o, co.socktype);
		if (fam < 0)
			return fam;
		skt_addr_from_ip(&o->src, fam == AF_INET6 ? "::" : "0.0.0.0",
				 skt_addr_port(&o->src));
	}
	if (o->source != NULL || o->source_port != NULL)
		co.source = &o->src;
	if (o->proxy_text != NULL)
		return open_proxied(o, &co);
	return skt_endpoint_connect(&o->ep, &co);
}

/* The name the server's certificate must hold: the host connected to,
 * or for a Unix socket --sni's name (NULL with a pin or --insecure). */
static const char *tls_host(const struct connect_opts *o)
{
	if (o->ep.kind == SKT_EP_INET)
		return o->ep.host[0] != '\0' ? o->ep.host : "localhost";
	return o->b.tls.sni;
}

/* The handshake on fd within what is left of -w, then the relay or the
 * program through TLS. fd stays the caller's. */
static int run_tls(struct connect_opts *o, skt_tls_ctx *ctx, int fd,
		   int64_t start)
{
	skt_tls *t;
	int rc = cli_tls_handshake(&o->b.tls, ctx, "connect", o->target, fd,
				   tls_host(o),
				   bridge_tls_deadline(&o->b, start), &t);
	if (rc != CLI_OK)
		return rc;
	if (o->b.verbose) {
		skt_tls_info info;
		if (skt_tls_get_info(t, &info) == 0)
			cli_tls_print_info("connect", &info);
	}
	if (o->b.exec.argv != NULL) {
		rc = bridge_exec_tls(&o->b, fd, t, o->target);
	} else {
		skt_relay_opts ro;
		bridge_relay_opts(&o->b, BRIDGE_UDP_WAIT_MS, &ro);
		skt_relay_stats st;
		rc = bridge_run(&o->b, &ro, 0, fd, t, o->target, &st);
	}
	skt_tls_free(t);
	return rc;
}

static int run(int argc, char **argv)
{
	struct connect_opts o;
	int rc = cmd_connect_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if ((rc = bridge_exec_check(&o.b)) != CLI_OK)
		return rc;
	/* Trust and identity first: a bad --ca fails before any packet. */
	skt_tls_ctx *ctx = NULL;
	if (o.b.tls.on && cli_tls_ctx(&o.b.tls, "connect", SKT_TLS_CLIENT, NULL,
				      0, &ctx) != CLI_OK)
		return CLI_FAIL;
	int64_t start = bridge_now_ms();
	skt_connect_report rep = {0};
	int fd = open_connection(&o, &rep);
	if (o.b.verbose && o.proxy_text == NULL)
		cli_print_attempts("connect", &rep);
	if (fd < 0) {
		skt_tls_ctx_free(ctx);
		return fd == PROXY_FAILED_FD
			       ? CLI_FAIL
			       : cli_fail("connect", o.target, fd);
	}
	if (o.b.verbose)
		print_connected(fd, o.b.udp);
	if (ctx != NULL) {
		rc = run_tls(&o, ctx, fd, start);
		skt_tls_ctx_free(ctx);
	} else if (o.b.exec.argv != NULL) {
		return bridge_exec(&o.b, fd);
	} else {
		skt_relay_opts ro;
		bridge_relay_opts(&o.b, BRIDGE_UDP_WAIT_MS, &ro);
		skt_relay_stats st;
		rc = bridge_run(&o.b, &ro, 0, fd, NULL, o.target, &st);
	}
	skt_close(fd);
	return rc;
}

const cli_cmd cli_cmd_connect = {
	.name = "connect",
	.summary = "bridge stdin/stdout with a TCP, UDP or Unix connection",
	.usage =
		"usage: sockit connect [options] HOST PORT | HOST:PORT | "
		"[V6]:PORT | unix:PATH\n"
		"                      | unix-dgram:PATH\n"
		"  Connect (Happy Eyeballs over every address of HOST) and "
		"copy\n"
		"  stdin to the connection and the connection to stdout, like "
		"nc.\n"
		"  -4, -6             only IPv4 / only IPv6\n"
		"  -u, --udp          UDP: each read of stdin is one datagram\n"
		"  -w SECS            connect timeout, and idle timeout after\n"
		"  -s ADDR            connect from this local address\n"
		"  --source-port N    connect from this local port\n"
		"  --proxy URL        through a proxy (nc -X, ncat --proxy): "
		"socks5://,\n"
		"                     socks5h:// (both: the proxy resolves "
		"HOST),\n"
		"                     socks4a://, http:// (CONNECT); "
		"[user:pass@]ADDR:PORT\n"
		"  -v, --verbose      every address tried, the winner, byte "
		"counts\n"
		"  --eof=MODE         at the end of stdin: half (default: shut "
		"down\n"
		"                     sending, exit when the peer closes), "
		"close,\n"
		"                     or wait:SECS (half, then at most SECS)\n"
		"  --udp-wait SECS    -u: wait for replies after stdin ends "
		"(1)\n"
		"  --send TEXT        send TEXT instead of reading stdin; C "
		"escapes:\n"
		"                     \\n \\r \\t \\\\ \\0 \\xHH\n"
		"  --crlf             send LF as CRLF\n"
		"  --exec 'CMD ARGS'  run CMD with the connection as its stdin "
		"and\n"
		"                     stdout (words split at blanks, no "
		"shell)\n"
		"  --sh-exec LINE     the same with /bin/sh -c LINE\n"
		"  --tls              speak TLS; the server's certificate is "
		"verified\n"
		"                     (system trust store) and must name "
		"HOST\n"
		"  --ca FILE|DIR      trust these CAs instead of the system "
		"store\n"
		"  --pin sha256:HEX   trust the server whose key or "
		"certificate has\n"
		"                     this SHA-256, whatever signed it "
		"(repeatable)\n"
		"  --insecure         no verification at all (said on "
		"stderr)\n"
		"  --sni NAME, --no-sni  the name sent in SNI, or none\n"
		"  --alpn LIST        ALPN protocols, \"h2,http/1.1\"\n"
		"  --cert FILE, --key FILE  client certificate (PEM), its key\n"
		"  --tls-min 1.3      refuse TLS 1.2\n"
		"  --no-resume        no session tickets\n",
	.run = run,
};
