/* cmd_listen.c - `sockit listen [HOST] PORT`: accept a connection (or, with
 * -k, one after another) and bridge it with stdin/stdout, like `nc -l`, or
 * hand it to a program (--exec); with -k --broker, relay every client to
 * all the others on the library's server (tools/serve/broker.c); with
 * --tls, each connection's handshake first, then the same through TLS.
 * Options into a struct, conflicts checked in one place, then
 * skt_listen_loopback or skt_endpoint_listen, skt_accept_any, and
 * skt_relay_run or skt_tls_relay_run. */
#include "cmds.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { OPT_UNIX = BRIDGE_OPT_OWN, OPT_ALLOW, OPT_DENY, OPT_BROKER, OPT_UNLINK };

/* The broker's cap on what one client may have queued, as serve chat's
 * default --max-queue. */
#define BROKER_MAX_QUEUE ((size_t)256 << 10)

/* --unix PATH and the unix:PATH target mean the same. */
static int parse_where(struct listen_opts *o, int nargs, char **args)
{
	if (o->unix_path != NULL) {
		if (nargs != 0)
			return cli_usage_error("listen", "--unix and HOST/PORT "
							 "conflict");
		o->ep.kind = SKT_EP_UNIX;
		int rc = skt_addr_unix(&o->ep.unix_addr, o->unix_path);
		if (rc < 0)
			return cli_usage_error("listen", "--unix '%s': %s",
					       o->unix_path, skt_strerror(rc));
		return CLI_OK;
	}
	if (nargs == 0)
		return cli_usage_error("listen", "expected [HOST] PORT or "
						 "--unix PATH");
	int rc = cli_parse_target("listen", nargs, args,
				  SKT_PARSE_PORT_ZERO | SKT_PARSE_NO_HOST,
				  o->b.udp ? SOCK_DGRAM : SOCK_STREAM, &o->ep);
	if (rc != CLI_OK)
		return rc;
	o->any_port = o->ep.kind == SKT_EP_INET &&
		      skt_port_parse(o->ep.service, SKT_PARSE_PORT_ZERO) == 0;
	return CLI_OK;
}

/* --broker: the clients talk to each other; stdin, stdout and the relay's
 * options play no part. */
static int broker_check(const struct listen_opts *o)
{
	const struct bridge *b = &o->b;
	const char *other = b->udp                 ? "-u"
			    : b->exec_text != NULL ? "--exec"
			    : b->send != NULL      ? "--send"
			    : b->crlf              ? "--crlf"
			    : b->eof_given         ? "--eof"
			    : b->tls.on            ? "--tls"
						   : NULL;
	/* The broker runs on the library's server, whose streams are plain
	 * here: TLS there is serve's (sockit serve chat --tls). */
	if (other != NULL)
		return cli_usage_error("listen", "--broker and %s conflict",
				       other);
	if (o->ep.kind != SKT_EP_INET)
		return cli_usage_error("listen", "--broker listens on IP "
						 "addresses only");
	return CLI_OK;
}

/* Every conflict, in one place. -k with -u is accepted: a UDP listener
 * already hears every sender, so -k changes nothing there. A unix-dgram:
 * socket is a datagram listener, as -u is. */
static int validate(struct listen_opts *o)
{
	bool dgram = o->ep.kind == SKT_EP_UNIX_DGRAM;
	bool unix_target = o->ep.kind == SKT_EP_UNIX || dgram;
	if (dgram && (o->b.v4 || o->b.v6))
		return cli_usage_error("listen",
				       "-%c and a Unix socket "
				       "conflict",
				       o->b.v4 ? '4' : '6');
	if (dgram && o->b.udp)
		return cli_usage_error("listen", "-u and unix-dgram: say the "
						 "same: give one");
	o->b.udp = o->b.udp || dgram;
	int rc = bridge_check(&o->b, o->ep.kind == SKT_EP_UNIX);
	if (rc != CLI_OK)
		return rc;
	if (unix_target && (o->allow.n > 0 || o->deny.n > 0))
		return cli_usage_error("listen", "--allow/--deny and a Unix "
						 "socket conflict");
	if (o->unlink && !unix_target)
		return cli_usage_error("listen", "--unlink is for a Unix "
						 "socket file");
	if (o->broker) {
		o->keep = true;
		return broker_check(o);
	}
	return CLI_OK;
}

int cmd_listen_parse(int argc, char **argv, struct listen_opts *o)
{
	static const struct option longopts[] = {
		BRIDGE_LONGOPTS,
		{"unix", required_argument, NULL, OPT_UNIX},
		{"allow", required_argument, NULL, OPT_ALLOW},
		{"deny", required_argument, NULL, OPT_DENY},
		{"keep-open", no_argument, NULL, 'k'},
		{"broker", no_argument, NULL, OPT_BROKER},
		{"unlink", no_argument, NULL, OPT_UNLINK},
		{NULL, 0, NULL, 0},
	};
	*o = (struct listen_opts){0};
	bridge_init(&o->b, "listen", SKT_TLS_SERVER);
	cli_args a;
	cli_args_init(&a, "listen", argc, argv, BRIDGE_SHORTOPTS "k", longopts);
	int ch = 0, rc = CLI_OK;
	while (rc == CLI_OK && (ch = cli_args_next(&a)) >= 0) {
		rc = bridge_option(&o->b, ch, a.arg);
		if (rc != -1)
			continue;
		rc = CLI_OK;
		if (ch == 'k')
			o->keep = true;
		else if (ch == OPT_BROKER)
			o->broker = true;
		else if (ch == OPT_UNLINK)
			o->unlink = true;
		else if (ch == OPT_UNIX)
			o->unix_path = a.arg;
		else
			rc = cli_cidr_add(
				"listen",
				ch == OPT_ALLOW ? &o->allow : &o->deny, a.arg);
	}
	if (rc != CLI_OK)
		return CLI_USAGE;
	if (ch != CLI_ARGS_END)
		return cli_args_status(ch);
	rc = parse_where(o, argc - a.next, argv + a.next);
	if (rc != CLI_OK)
		return rc;
	bridge_target_text(&o->ep, o->target, sizeof(o->target));
	return validate(o);
}

/* ---- A Unix socket file is removed when sockit is done with it ---- */

static char unix_file[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void unlink_unix_file(void)
{
	if (unix_file[0] != '\0')
		unlink(unix_file);
	unix_file[0] = '\0';
}

/* unlink() is async-signal-safe; then die of the signal as before. */
static void on_signal(int sig)
{
	if (unix_file[0] != '\0')
		unlink(unix_file);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Remember the file the listener created (not an abstract name), so that
 * Ctrl-C does not leave it behind to fail the next run. */
static void own_unix_file(const skt_endpoint *ep)
{
	const char *path = ep->unix_addr.u.un.sun_path;
	if ((ep->kind != SKT_EP_UNIX && ep->kind != SKT_EP_UNIX_DGRAM) ||
	    path[0] == '\0')
		return;
	snprintf(unix_file, sizeof(unix_file), "%s", path);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

/* ---- Serving ---- */

static bool admitted(const struct listen_opts *o, const skt_addr *peer,
		     const char *kind)
{
	char text[SKT_ADDRSTRLEN];
	skt_addr_format(peer, text, sizeof(text));
	bool ok = o->ep.kind != SKT_EP_INET ||
		  cli_cidrs_admit(&o->allow, &o->deny, peer);
	if (o->b.verbose && ok)
		fprintf(stderr, "sockit: listen: %s from %s\n", kind, text);
	else if (o->b.verbose)
		fprintf(stderr,
			"sockit: listen: %s: refused by --allow/--deny\n",
			text);
	return ok;
}

static bool dgram_peer(const skt_addr *peer, void *arg)
{
	return admitted(arg, peer, "datagrams");
}

static int serve_udp(struct listen_opts *o, int fd)
{
	skt_relay_opts ro;
	/* No --udp-wait: keep receiving after stdin ends, a UDP sink. */
	bridge_relay_opts(&o->b, -1, &ro);
	ro.reply_to_last = true;
	ro.on_peer = dgram_peer;
	ro.peer_arg = o;
	skt_relay_stats st;
	return bridge_run(&o->b, &ro, STDIN_FILENO, fd, NULL, o->target, &st);
}

static void close_all(int *lfds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		skt_close(lfds[i]);
		lfds[i] = -1;
	}
}

/* One accepted connection, over TLS when ctx is set: the handshake
 * (within -w, or BRIDGE_TLS_HANDSHAKE_MS: a client that never speaks does
 * not hold the listener), then the program or the relay. Returns the
 * exit status; st (zeroed first) says how the relay ended. */
static int serve_one(struct listen_opts *o, skt_tls_ctx *ctx, int fd,
		     const char *who, int in_fd, skt_relay_stats *st)
{
	skt_relay_opts ro;
	bridge_relay_opts(&o->b, -1, &ro);
	*st = (skt_relay_stats){0};
	if (ctx == NULL) {
		if (o->b.exec.argv != NULL)
			return bridge_exec(&o->b, fd); /* fd is its now */
		int rc = bridge_run(&o->b, &ro, in_fd, fd, NULL, who, st);
		skt_close(fd);
		return rc;
	}
	skt_tls *t;
	int rc = cli_tls_handshake(&o->b.tls, ctx, "listen", who, fd, NULL,
				   bridge_tls_deadline(&o->b, bridge_now_ms()),
				   &t);
	if (rc == CLI_OK && o->b.verbose) {
		skt_tls_info info;
		if (skt_tls_get_info(t, &info) == 0)
			cli_tls_print_info("listen", &info);
	}
	if (rc == CLI_OK && o->b.exec.argv != NULL)
		rc = bridge_exec_tls(&o->b, fd, t, who);
	else if (rc == CLI_OK)
		rc = bridge_run(&o->b, &ro, in_fd, fd, t, who, st);
	else
		st->where = SKT_RELAY_SOCKET; /* the handshake: this client's */
	skt_tls_free(t);
	skt_close(fd);
	return rc;
}

/* Accept on any of the n sockets, check the peer, relay (or run the
 * program); with -k again, with stdin carried over (once it has ended,
 * later connections get its end at once). */
static int serve_stream(struct listen_opts *o, skt_tls_ctx *ctx, int *lfds,
			size_t n)
{
	int in_fd = STDIN_FILENO;
	for (;;) {
		skt_addr peer;
		int fd = skt_accept_any(lfds, n, &peer, SKT_TIMEOUT_NONE, NULL);
		if (fd < 0)
			return cli_fail("listen", "accept", fd);
		if (!admitted(o, &peer, "connection")) {
			skt_close_abort(
				fd); /* a reset: no mistaking it for data */
			continue;
		}
		char who[SKT_ADDRSTRLEN];
		skt_addr_format(&peer, who, sizeof(who));
		if (!o->keep) {
			/* nc closes the listener too: later clients are refused
			 * rather than left waiting in the backlog. */
			close_all(lfds, n);
			unlink_unix_file();
		}
		skt_relay_stats st;
		int rc = serve_one(o, ctx, fd, who, in_fd, &st);
		if (!o->keep)
			return rc;
		/* A program's failure ends only its connection. */
		if (o->b.exec.argv != NULL)
			continue;
		if (st.input_eof)
			in_fd = -1;
		/* With stdin or stdout gone, the next client cannot be served
		 * either; a socket error ends only its connection. */
		if (rc != CLI_OK && st.where != SKT_RELAY_SOCKET &&
		    st.where != SKT_RELAY_NOWHERE)
			return rc;
	}
}

static void print_listening(const struct listen_opts *o, int fd, bool first)
{
	skt_addr me;
	char text[SKT_ADDRSTRLEN];
	if (!o->b.verbose && !(o->any_port && first))
		return;
	if (skt_sock_local(fd, &me) < 0 ||
	    skt_addr_format(&me, text, sizeof(text)) < 0)
		return;
	/* Scripts wait for this line to learn the port: flush it now. */
	fprintf(stderr, "sockit: listen: listening on %s\n", text);
	fflush(stderr);
}

/* ---- --broker: on the library's server ---- */

static void broker_log(const skt_server_event *ev, void *arg)
{
	const struct listen_opts *o = arg;
	char a[SKT_ADDRSTRLEN] = "-";
	if (ev->addr != NULL)
		skt_addr_format(ev->addr, a, sizeof(a));
	const skt_server_conn *c = ev->conn;
	switch (ev->kind) {
	case SKT_SERVER_EV_LISTENING:
		fprintf(stderr, "sockit: listen: listening on %s\n", a);
		break;
	case SKT_SERVER_EV_OPEN:
		fprintf(stderr, "sockit: listen: #%llu %s connected\n",
			(unsigned long long)c->id, a);
		break;
	case SKT_SERVER_EV_CLOSE:
		if (c->end == SKT_SERVER_END_CUTOFF)
			fprintf(stderr,
				"sockit: listen: #%llu %s cut off: output "
				"cap of %zu bytes reached by a slow reader\n",
				(unsigned long long)c->id, a, c->limit);
		else if (o->b.verbose || ev->err == SKT_ETIMEDOUT)
			fprintf(stderr,
				"sockit: listen: #%llu %s %s (%llu bytes "
				"in, %llu out)\n",
				(unsigned long long)c->id, a,
				ev->err == SKT_ETIMEDOUT ? "idle timeout"
				: ev->err < 0            ? skt_strerror(ev->err)
							 : "closed",
				(unsigned long long)c->in,
				(unsigned long long)c->out);
		break;
	case SKT_SERVER_EV_REFUSED:
		fprintf(stderr,
			"sockit: listen: %s: refused by --allow/--deny\n", a);
		break;
	case SKT_SERVER_EV_ERROR:
		fprintf(stderr, "sockit: listen: %s: %s\n", ev->what,
			skt_strerror(ev->err));
		break;
	default:
		break;
	}
	fflush(stderr);
}

static bool broker_admit(const skt_addr *peer, void *arg)
{
	const struct listen_opts *o = arg;
	return cli_cidrs_admit(&o->allow, &o->deny, peer);
}

static int run_broker(struct listen_opts *o)
{
	static skt_server_opts so; /* large: SKT_SERVER_ADDR_MAX addresses */
	uint16_t port;
	int rc = cli_opt_port("listen", "port", o->ep.service, SOCK_STREAM,
			      SKT_PARSE_PORT_ZERO, &port);
	if (rc != CLI_OK)
		return rc;
	so = (skt_server_opts){
		.svc = &svc_broker,
		.naddrs = 1,
		.tcp = true,
		.workers = 1,
		.idle_ms = o->b.timeout_ms > 0 ? o->b.timeout_ms : 0,
		.max_queue = BROKER_MAX_QUEUE,
		.verbose = o->b.verbose,
		.admit = broker_admit,
		.admit_arg = o,
		.log = broker_log,
		.log_arg = o,
		.signals = true, /* SIGINT, SIGTERM, SIGHUP: a graceful stop */
	};
	const char *host = o->ep.host;
	if (host[0] == '\0' && o->b.v6)
		host = "::1";
	else if (host[0] == '\0' && o->b.v4)
		host = "127.0.0.1"; /* no host: both loopbacks, unless -4 */
	else if (strcmp(host, "*") == 0 && o->b.v4)
		host = "0.0.0.0";
	snprintf(so.addrs[0].host, sizeof(so.addrs[0].host), "%s", host);
	snprintf(so.addrs[0].port, sizeof(so.addrs[0].port), "%u",
		 (unsigned)port);
	cli_raise_nofile();
	int err = skt_server_run(&so);
	return err == 0 ? CLI_OK : cli_fail("listen", o->target, err);
}

/* ---- Binding ---- */

/* --unlink: only a file nobody serves goes. */
static int unlink_stale(const struct listen_opts *o)
{
	int type = o->b.udp ? SOCK_DGRAM : SOCK_STREAM;
	int r = skt_unix_unlink_stale(&o->ep.unix_addr, type);
	if (r == SKT_EADDRINUSE) {
		fprintf(stderr,
			"sockit: listen: %s: a live socket listens "
			"there (not removed)\n",
			o->target);
		return CLI_FAIL;
	}
	if (r == SKT_ENOTSOCK) {
		fprintf(stderr,
			"sockit: listen: %s: not a socket (not "
			"removed)\n",
			o->target);
		return CLI_FAIL;
	}
	return r < 0 ? cli_fail("listen", o->target, r) : CLI_OK;
}

/* Where a server with no host given listens: 127.0.0.1 and ::1 for a
 * stream (the relay of -u has one socket: 127.0.0.1 alone). Returns how
 * many fds, or an error. */
static int bind_all(const struct listen_opts *o, int fds[2])
{
	skt_listen_opts lo = {
		.family = bridge_family(&o->b),
		.socktype = o->b.udp ? SOCK_DGRAM : SOCK_STREAM,
	};
	if (o->ep.kind == SKT_EP_INET && o->ep.host[0] == '\0' && !o->b.udp)
		return skt_listen_loopback(o->ep.service, &lo, fds);
	fds[0] = skt_endpoint_listen(&o->ep, &lo);
	fds[1] = -1;
	return fds[0] < 0 ? fds[0] : 1;
}

static int bind_failed(const struct listen_opts *o, int err)
{
	if (err == SKT_EADDRINUSE && o->ep.kind != SKT_EP_INET && !o->unlink) {
		fprintf(stderr,
			"sockit: listen: %s: %s (a stale socket file? "
			"--unlink replaces one nobody listens on)\n",
			o->target, skt_strerror(err));
		return CLI_FAIL;
	}
	return cli_fail("listen", o->target, err);
}

/* The context before the socket: a bad --cert fails before anything
 * listens, and the ephemeral identity's pin (on stderr) comes before the
 * "listening" line a script waits for. */
static int make_ctx(const struct listen_opts *o, skt_tls_ctx **ctx)
{
	*ctx = NULL;
	if (!o->b.tls.on)
		return CLI_OK;
	const char *names[4];
	size_t n = cli_tls_listen_names(
		o->ep.kind == SKT_EP_INET ? o->ep.host : "", names);
	return cli_tls_ctx(&o->b.tls, "listen", SKT_TLS_SERVER, names, n, ctx);
}

static int run(int argc, char **argv)
{
	struct listen_opts o;
	int rc = cmd_listen_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if ((rc = bridge_exec_check(&o.b)) != CLI_OK)
		return rc;
	if (o.broker)
		return run_broker(&o);
	skt_tls_ctx *ctx;
	if (make_ctx(&o, &ctx) != CLI_OK)
		return CLI_FAIL;
	if (o.unlink && (rc = unlink_stale(&o)) != CLI_OK) {
		skt_tls_ctx_free(ctx);
		return rc;
	}
	int fds[2];
	int n = bind_all(&o, fds);
	if (n < 0) {
		skt_tls_ctx_free(ctx);
		return bind_failed(&o, n);
	}
	own_unix_file(&o.ep);
	for (int i = 0; i < n; i++)
		print_listening(&o, fds[i], i == 0);
	rc = o.b.udp ? serve_udp(&o, fds[0])
		     : serve_stream(&o, ctx, fds, (size_t)n);
	close_all(fds, (size_t)n); /* closed already without -k: -1 */
	unlink_unix_file();
	skt_tls_ctx_free(ctx);
	return rc;
}

const cli_cmd cli_cmd_listen = {
	.name = "listen",
	.summary = "accept a connection and bridge it with stdin/stdout",
	.usage =
		"usage: sockit listen [options] [HOST] PORT | HOST:PORT | "
		"--unix PATH\n"
		"                     | unix:PATH | unix-dgram:PATH\n"
		"  Listen (on loopback, 127.0.0.1 and ::1, unless HOST is "
		"given;\n"
		"  \"*\" is every address), accept one connection and copy "
		"stdin\n"
		"  to it and it to stdout, like nc -l. PORT 0 picks a free "
		"port\n"
		"  and prints it on stderr.\n"
		"  -k, --keep-open    serve connections one after another\n"
		"  --broker           with -k: clients at once, each one's "
		"bytes to\n"
		"                     all the others (stdin/stdout unused); a "
		"client\n"
		"                     256 KiB behind is cut off\n"
		"  -4, -6             only IPv4 / only IPv6\n"
		"  -u, --udp          UDP: replies go to the last sender\n"
		"  --unix PATH        listen on a Unix stream socket\n"
		"  --unlink           replace a stale socket file (never a "
		"live one)\n"
		"  --allow CIDR       admit only these peers (repeatable)\n"
		"  --deny CIDR        refuse these peers (repeatable)\n"
		"  -w SECS            idle timeout of each connection\n"
		"  -v, --verbose      each connection, refusals, byte counts\n"
		"  --eof=MODE         at the end of stdin: half (default), "
		"close,\n"
		"                     or wait:SECS, as for connect\n"
		"  --udp-wait SECS    -u: exit SECS after stdin ends\n"
		"  --send TEXT        send TEXT to each client instead of "
		"stdin\n"
		"                     (C escapes: \\n \\r \\t \\\\ \\0 \\xHH)\n"
		"  --crlf             send LF as CRLF\n"
		"  --exec 'CMD ARGS'  run CMD with the connection as its stdin "
		"and\n"
		"                     stdout (no shell; with -k, one after "
		"another)\n"
		"  --sh-exec LINE     the same with /bin/sh -c LINE\n"
		"  --tls              speak TLS (not with -u or --broker); "
		"without\n"
		"                     --cert, an ephemeral self-signed "
		"identity whose\n"
		"                     pin is printed on stderr for clients' "
		"--pin\n"
		"  --cert FILE, --key FILE  certificate (PEM, chain after it), "
		"its key\n"
		"  --verify-client CA require client certificates signed by "
		"CA\n"
		"  --alpn LIST        ALPN protocols; a client sharing none is "
		"refused\n"
		"  --tls-min 1.3      refuse TLS 1.2\n"
		"  --no-resume        no session tickets\n"
		"                     (-w bounds each handshake too; 10 s "
		"without it)\n",
	.run = run,
};
