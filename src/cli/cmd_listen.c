/* cmd_listen.c - `sockit listen [HOST] PORT`: accept a connection (or, with
 * -k, one after another) and bridge it with stdin/stdout, like `nc -l`.
 * Options into a struct, conflicts checked in one place, then
 * skt_endpoint_listen, skt_accept and skt_relay_run. */
#include "cmds.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { OPT_UNIX = BRIDGE_OPT_OWN, OPT_ALLOW, OPT_DENY };

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

/* Every conflict, in one place. -k with -u is accepted: a UDP listener
 * already hears every sender, so -k changes nothing there. */
static int validate(const struct listen_opts *o)
{
	bool unix_target = o->ep.kind == SKT_EP_UNIX;
	int rc = bridge_check(&o->b, unix_target);
	if (rc != CLI_OK)
		return rc;
	if (unix_target && (o->allow.n > 0 || o->deny.n > 0))
		return cli_usage_error("listen", "--allow/--deny and a Unix "
				       "socket conflict");
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
		{NULL, 0, NULL, 0},
	};
	*o = (struct listen_opts){0};
	bridge_init(&o->b, "listen");
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
		else if (ch == OPT_UNIX)
			o->unix_path = a.arg;
		else
			rc = cli_cidr_add("listen", ch == OPT_ALLOW ? &o->allow
								  : &o->deny,
					  a.arg);
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
	if (ep->kind != SKT_EP_UNIX || path[0] == '\0')
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
	bool ok = o->ep.kind == SKT_EP_UNIX ||
		  cli_cidrs_admit(&o->allow, &o->deny, peer);
	if (o->b.verbose && ok)
		fprintf(stderr, "sockit: listen: %s from %s\n", kind, text);
	else if (o->b.verbose)
		fprintf(stderr, "sockit: listen: %s: refused by --allow/--deny\n",
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
	return bridge_run(&o->b, &ro, STDIN_FILENO, fd, o->target, &st);
}

/* Accept, check the peer, relay; with -k again, with stdin carried over
 * (once it has ended, later connections get its end at once). */
static int serve_stream(struct listen_opts *o, int lfd)
{
	skt_relay_opts ro;
	bridge_relay_opts(&o->b, -1, &ro);
	int in_fd = STDIN_FILENO;
	for (;;) {
		skt_addr peer;
		int fd = skt_accept(lfd, &peer, SKT_TIMEOUT_NONE);
		if (fd < 0)
			return cli_fail("listen", "accept", fd);
		if (!admitted(o, &peer, "connection")) {
			skt_close_abort(fd); /* a reset: no mistaking it for data */
			continue;
		}
		char who[SKT_ADDRSTRLEN];
		skt_addr_format(&peer, who, sizeof(who));
		if (!o->keep) {
			/* nc closes the listener too: later clients are refused
			 * rather than left waiting in the backlog. */
			skt_close(lfd);
			lfd = -1;
			unlink_unix_file();
		}
		skt_relay_stats st;
		int rc = bridge_run(&o->b, &ro, in_fd, fd, who, &st);
		skt_close(fd);
		if (!o->keep)
			return rc;
		if (st.input_eof)
			in_fd = -1;
		/* With stdin or stdout gone, the next client cannot be served
		 * either; a socket error ends only its connection. */
		if (rc != CLI_OK && st.where != SKT_RELAY_SOCKET &&
		    st.where != SKT_RELAY_NOWHERE)
			return rc;
	}
}

static void print_listening(const struct listen_opts *o, int fd)
{
	skt_addr me;
	char text[SKT_ADDRSTRLEN];
	if (!o->any_port && !o->b.verbose)
		return;
	if (skt_sock_local(fd, &me) < 0 ||
	    skt_addr_format(&me, text, sizeof(text)) < 0)
		return;
	/* Scripts wait for this line to learn the port: flush it now. */
	fprintf(stderr, "sockit: listen: listening on %s\n", text);
	fflush(stderr);
}

static int run(int argc, char **argv)
{
	struct listen_opts o;
	int rc = cmd_listen_parse(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	skt_listen_opts lo = {
		.family = bridge_family(&o.b),
		.socktype = o.b.udp ? SOCK_DGRAM : SOCK_STREAM,
	};
	int fd = skt_endpoint_listen(&o.ep, &lo);
	if (fd < 0)
		return cli_fail("listen", o.target, fd);
	own_unix_file(&o.ep);
	print_listening(&o, fd);
	rc = o.b.udp ? serve_udp(&o, fd) : serve_stream(&o, fd);
	if (o.b.udp || o.keep)
		skt_close(fd);
	unlink_unix_file();
	return rc;
}

const cli_cmd cli_cmd_listen = {
	.name = "listen",
	.summary = "accept a connection and bridge it with stdin/stdout",
	.usage =
		"usage: sockit listen [options] [HOST] PORT | HOST:PORT | --unix PATH\n"
		"  Listen (on loopback unless HOST is given; \"*\" is every address),\n"
		"  accept one connection and copy stdin to it and it to stdout,\n"
		"  like nc -l. PORT 0 picks a free port and prints it on stderr.\n"
		"  -k, --keep-open    serve connections one after another\n"
		"  -4, -6             only IPv4 / only IPv6\n"
		"  -u, --udp          UDP: replies go to the last sender\n"
		"  --unix PATH        listen on a Unix stream socket\n"
		"  --allow CIDR       admit only these peers (repeatable)\n"
		"  --deny CIDR        refuse these peers (repeatable)\n"
		"  -w SECS            idle timeout of each connection\n"
		"  -v, --verbose      each connection, refusals, byte counts\n"
		"  --eof=MODE         at the end of stdin: half (default), close,\n"
		"                     or wait:SECS, as for connect\n"
		"  --udp-wait SECS    -u: exit SECS after stdin ends\n"
		"  --send TEXT        send TEXT to each client instead of stdin\n"
		"                     (C escapes: \\n \\r \\t \\\\ \\0 \\xHH)\n"
		"  --crlf             send LF as CRLF\n",
	.run = run,
};
