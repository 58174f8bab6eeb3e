/* bridge.c - the options and reports `sockit connect` and `sockit listen`
 * share (see bridge.h). Policy only: the relay itself is libsockit's. */
#include "bridge.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The longest wait any option takes: a day. */
#define DAY_MS 86400000

void bridge_init(struct bridge *b, const char *cmd, skt_tls_role role)
{
	*b = (struct bridge){
		.cmd = cmd,
		.role = role,
		.timeout_ms = SKT_TIMEOUT_NONE,
		.eof = SKT_RELAY_EOF_SHUTDOWN,
		.udp_wait_ms = -1,
	};
}

static int parse_eof(struct bridge *b, const char *arg)
{
	b->eof_given = true;
	if (strcmp(arg, "half") == 0) {
		b->eof = SKT_RELAY_EOF_SHUTDOWN;
		return CLI_OK;
	}
	if (strcmp(arg, "close") == 0) {
		b->eof = SKT_RELAY_EOF_CLOSE;
		return CLI_OK;
	}
	int64_t ms;
	if (strncmp(arg, "wait:", 5) == 0 &&
	    cli_parse_duration(arg + 5, 1000, &ms) == 0 && ms <= DAY_MS) {
		b->eof = SKT_RELAY_EOF_WAIT;
		b->eof_wait_ms = (int)ms;
		return CLI_OK;
	}
	return cli_usage_error(b->cmd,
			       "--eof '%s': expected half, close or "
			       "wait:SECS",
			       arg);
}

/* --exec 'CMD ARGS': words split at blanks into b's own buffer, as ncat
 * does; quotes mean nothing (--sh-exec is for a shell's syntax). */
static int parse_exec(struct bridge *b, const char *arg, bool sh)
{
	if (b->exec_text != NULL)
		return cli_usage_error(b->cmd, "one --exec or --sh-exec");
	b->exec_text = arg;
	b->sh = sh;
	b->exec.argv = b->exec_argv;
	if (arg[0] == '\0')
		return cli_usage_error(b->cmd, "%s: no command",
				       sh ? "--sh-exec" : "--exec");
	if (sh) {
		b->exec_argv[0] = "/bin/sh";
		b->exec_argv[1] = "-c";
		b->exec_argv[2] = (char *)arg;
		b->exec_argv[3] = NULL;
		return CLI_OK;
	}
	if (strlen(arg) > BRIDGE_EXEC_MAX)
		return cli_usage_error(b->cmd,
				       "--exec: over %d bytes (see "
				       "--sh-exec)",
				       BRIDGE_EXEC_MAX);
	strcpy(b->exec_buf, arg);
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(b->exec_buf, " \t", &save); p != NULL;
	     p = strtok_r(NULL, " \t", &save)) {
		if (n == BRIDGE_EXEC_ARGS)
			return cli_usage_error(b->cmd, "--exec: over %d words",
					       BRIDGE_EXEC_ARGS);
		b->exec_argv[n++] = p;
	}
	b->exec_argv[n] = NULL;
	if (n == 0)
		return cli_usage_error(b->cmd, "--exec: no command");
	return CLI_OK;
}

/* --send TEXT with C escapes, decoded in place: argv is the process's to
 * change, and the text only shrinks. */
static int parse_send(struct bridge *b, char *arg)
{
	size_t bad;
	long n = cli_unescape(arg, &bad);
	if (n < 0)
		return cli_usage_error(b->cmd,
				       "--send: bad escape '%.4s' (known: "
				       "\\n \\r \\t \\\\ \\0 \\xHH)",
				       arg + bad);
	b->send = arg;
	b->send_len = (size_t)n;
	return CLI_OK;
}

int bridge_option(struct bridge *b, int ch, char *arg)
{
	switch (ch) {
	case '4':
		b->v4 = true;
		return CLI_OK;
	case '6':
		b->v6 = true;
		return CLI_OK;
	case 'u':
		b->udp = true;
		return CLI_OK;
	case 'v':
		b->verbose = true;
		return CLI_OK;
	case 'w':
		return cli_opt_duration(b->cmd, "-w", arg, 1000, 1, DAY_MS,
					&b->timeout_ms);
	case BRIDGE_OPT_EOF:
		return parse_eof(b, arg);
	case BRIDGE_OPT_UDP_WAIT:
		return cli_opt_duration(b->cmd, "--udp-wait", arg, 1000, 0,
					DAY_MS, &b->udp_wait_ms);
	case BRIDGE_OPT_SEND:
		return parse_send(b, arg);
	case BRIDGE_OPT_CRLF:
		b->crlf = true;
		return CLI_OK;
	case BRIDGE_OPT_EXEC:
		return parse_exec(b, arg, false);
	case BRIDGE_OPT_SH_EXEC:
		return parse_exec(b, arg, true);
	default:
		return cli_tls_option(&b->tls, b->cmd, ch, arg);
	}
}

/* The program owns the connection: nothing is relayed, so the options
 * that shape the relay mean nothing with it. */
static int exec_check(const struct bridge *b)
{
	if (b->exec_text == NULL)
		return CLI_OK;
	const char *opt = b->sh ? "--sh-exec" : "--exec";
	const char *other = b->udp                ? "-u"
			    : b->send != NULL     ? "--send"
			    : b->crlf             ? "--crlf"
			    : b->eof_given        ? "--eof"
			    : b->udp_wait_ms >= 0 ? "--udp-wait"
						  : NULL;
	if (other != NULL)
		return cli_usage_error(b->cmd, "%s and %s conflict", opt,
				       other);
	return CLI_OK;
}

/* TLS is a stream's: a datagram has no order for records to keep (DTLS
 * would be another protocol). */
static int tls_check(const struct bridge *b, bool unix_target)
{
	int rc = cli_tls_check(&b->tls, b->cmd, b->role);
	if (rc != CLI_OK || !b->tls.on)
		return rc;
	if (b->udp)
		return cli_usage_error(b->cmd, "--tls needs a stream socket, "
					       "not datagrams (-u, "
					       "unix-dgram:)");
	if (b->role == SKT_TLS_CLIENT && unix_target && b->tls.sni == NULL &&
	    b->tls.npins == 0 && !b->tls.insecure)
		return cli_usage_error(b->cmd,
				       "--tls to a Unix socket: no host name "
				       "to verify (give --sni NAME, --pin or "
				       "--insecure)");
	return CLI_OK;
}

int bridge_check(const struct bridge *b, bool unix_target)
{
	int family;
	if (cli_family(b->cmd, b->v4, b->v6, &family) != CLI_OK)
		return CLI_USAGE;
	if (unix_target && b->udp)
		return cli_usage_error(b->cmd, "-u and a Unix socket conflict");
	if (unix_target && (b->v4 || b->v6))
		return cli_usage_error(b->cmd, "-%c and a Unix socket conflict",
				       b->v4 ? '4' : '6');
	if (b->udp_wait_ms >= 0 && !b->udp)
		return cli_usage_error(b->cmd, "--udp-wait needs -u");
	if (b->udp_wait_ms >= 0 && b->eof_given)
		return cli_usage_error(b->cmd, "--udp-wait and --eof conflict");
	/* A datagram peer never closes: "half-close, then wait for the
	 * peer" would wait forever; say so rather than hang. */
	if (b->udp && b->eof_given && b->eof == SKT_RELAY_EOF_SHUTDOWN)
		return cli_usage_error(b->cmd, "--eof=half needs a stream, not "
					       "-u (see --udp-wait)");
	int rc = tls_check(b, unix_target);
	return rc != CLI_OK ? rc : exec_check(b);
}

int64_t bridge_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bridge_tls_deadline(const struct bridge *b, int64_t start_ms)
{
	int64_t total =
		b->timeout_ms >= 0 ? b->timeout_ms : BRIDGE_TLS_HANDSHAKE_MS;
	int64_t left = total - (bridge_now_ms() - start_ms);
	return left < 1 ? 1 : (int)left;
}

int bridge_family(const struct bridge *b)
{
	return b->v4 ? AF_INET : b->v6 ? AF_INET6 : AF_UNSPEC;
}

void bridge_relay_opts(const struct bridge *b, int udp_wait_ms,
		       skt_relay_opts *ro)
{
	*ro = (skt_relay_opts)SKT_RELAY_OPTS_INIT;
	ro->idle_ms = b->timeout_ms;
	ro->crlf = b->crlf;
	ro->eof = (skt_relay_eof)b->eof;
	ro->eof_wait_ms = b->eof_wait_ms;
	if (b->udp && !b->eof_given) {
		int w = b->udp_wait_ms >= 0 ? b->udp_wait_ms : udp_wait_ms;
		ro->eof = w >= 0 ? SKT_RELAY_EOF_WAIT : SKT_RELAY_EOF_SHUTDOWN;
		ro->eof_wait_ms = w >= 0 ? w : 0;
	}
	if (b->send != NULL) {
		ro->data = b->send;
		ro->data_len = b->send_len;
	}
}

static void report_counts(const struct bridge *b, const skt_relay_stats *st)
{
	fprintf(stderr, "sockit: %s: sent %llu bytes, received %llu bytes",
		b->cmd, (unsigned long long)st->sent,
		(unsigned long long)st->received);
	if (b->udp)
		fprintf(stderr, " (%llu and %llu datagrams)",
			(unsigned long long)st->dgrams_sent,
			(unsigned long long)st->dgrams_received);
	fputc('\n', stderr);
}

/* A failure on the socket's side under TLS, in words. */
static const char *tls_failure(const skt_tls *t, int rc)
{
	if (rc == SKT_ETRUNCATED)
		return "the peer closed without close_notify: what arrived "
		       "may be truncated";
	const char *why = skt_tls_reason(t);
	return why[0] != '\0' ? why : NULL;
}

int bridge_run(const struct bridge *b, const skt_relay_opts *ro, int in_fd,
	       int sock, skt_tls *t, const char *peer, skt_relay_stats *st)
{
	skt_relay_opts o = *ro;
	/* Nobody types into a closed connection: at a terminal, the peer's
	 * close ends the session (as telnet does); from a pipe or file,
	 * input goes on to the peer until it ends, as TCP's half-close
	 * allows, so nothing is lost. */
	o.peer_eof_ends = in_fd >= 0 && ro->data == NULL && isatty(in_fd);
	int in = ro->data != NULL ? -1 : in_fd;
	int rc = t != NULL ? skt_tls_relay_run(in, STDOUT_FILENO, t, &o, st)
			   : skt_relay_run(in, STDOUT_FILENO, sock, &o, st);
	/* The peer learns that this was the end, not a cut (a try: a peer
	 * that is not reading does not hold the exit). */
	if (t != NULL && rc == 0)
		skt_tls_shutdown(t, 0);
	if (b->verbose)
		report_counts(b, st);
	if (rc == 0)
		return CLI_OK;
	char what[SKT_ADDRSTRLEN + 32];
	if (t != NULL && st->where == SKT_RELAY_SOCKET)
		return cli_fail_why(b->cmd, peer, rc, tls_failure(t, rc));
	switch (st->where) {
	case SKT_RELAY_INPUT:
		snprintf(what, sizeof(what), "stdin");
		break;
	case SKT_RELAY_OUTPUT:
		snprintf(what, sizeof(what), "stdout");
		break;
	case SKT_RELAY_SOCKET:
		snprintf(what, sizeof(what), "%s", peer);
		break;
	default:
		if (rc == SKT_ETIMEDOUT)
			snprintf(what, sizeof(what), "%s: idle for %g s", peer,
				 b->timeout_ms / 1000.0);
		else
			snprintf(what, sizeof(what), "relay");
	}
	return cli_fail(b->cmd, what, rc);
}

int bridge_exec_check(const struct bridge *b)
{
	if (b->exec.argv == NULL || spawn_found(&b->exec))
		return CLI_OK;
	return cli_usage_error(b->cmd,
			       "%s: '%s': no such program (or not "
			       "executable)",
			       b->sh ? "--sh-exec" : "--exec", b->exec.argv[0]);
}

int bridge_exec(const struct bridge *b, int sock)
{
	skt_addr local, peer;
	bool have_local = skt_sock_local(sock, &local) == 0;
	bool have_peer = skt_sock_peer(sock, &peer) == 0;
	pid_t pid;
	int r = spawn_start(&b->exec, sock, have_local ? &local : NULL,
			    have_peer ? &peer : NULL, &pid);
	skt_close(sock);
	if (r < 0)
		return cli_fail(b->cmd, b->exec.argv[0], r);
	int st = spawn_wait(pid);
	if (st < 0)
		return cli_fail(b->cmd, b->exec.argv[0], st);
	if (b->verbose || st != 0)
		fprintf(stderr, "sockit: %s: %s exited with status %d\n",
			b->cmd, b->sh ? b->exec_text : b->exec.argv[0], st);
	return st == 0 ? CLI_OK : CLI_FAIL;
}

int bridge_exec_tls(const struct bridge *b, int sock, skt_tls *t,
		    const char *peer)
{
	int sp[2];
	int r = skt_socketpair(SOCK_STREAM, sp);
	if (r < 0)
		return cli_fail(b->cmd, "socketpair", r);
	skt_addr local, remote;
	bool have_local = skt_sock_local(sock, &local) == 0;
	bool have_peer = skt_sock_peer(sock, &remote) == 0;
	pid_t pid;
	r = spawn_start(&b->exec, sp[1], have_local ? &local : NULL,
			have_peer ? &remote : NULL, &pid);
	skt_close(sp[1]);
	if (r < 0) {
		skt_close(sp[0]);
		return cli_fail(b->cmd, b->exec.argv[0], r);
	}
	/* The program's output ending is the session's end (as its exit
	 * closes a plain connection); the peer's end reaches it as the end of
	 * its input. */
	skt_relay_opts ro = SKT_RELAY_OPTS_INIT;
	ro.eof = SKT_RELAY_EOF_CLOSE;
	ro.idle_ms = b->timeout_ms;
	ro.shut_out = true;
	skt_relay_stats st;
	int rc = skt_tls_relay_run(sp[0], sp[0], t, &ro, &st);
	if (rc == 0)
		skt_tls_shutdown(t, 0);
	skt_close(sp[0]); /* the program reads its end, if still reading */
	int status = spawn_wait(pid);
	if (b->verbose)
		report_counts(b, &st);
	if (rc < 0 && st.where == SKT_RELAY_SOCKET)
		cli_fail_why(b->cmd, peer, rc, tls_failure(t, rc));
	else if (rc < 0)
		cli_fail(b->cmd, b->exec.argv[0], rc);
	if (status < 0)
		return cli_fail(b->cmd, b->exec.argv[0], status);
	if (b->verbose || status != 0)
		fprintf(stderr, "sockit: %s: %s exited with status %d\n",
			b->cmd, b->sh ? b->exec_text : b->exec.argv[0], status);
	return rc == 0 && status == 0 ? CLI_OK : CLI_FAIL;
}

void bridge_target_text(const skt_endpoint *ep, char *buf, size_t cap)
{
	if (ep->kind == SKT_EP_UNIX || ep->kind == SKT_EP_UNIX_DGRAM)
		skt_addr_format(&ep->unix_addr, buf, cap);
	else if (strchr(ep->host, ':') != NULL)
		snprintf(buf, cap, "[%s]:%s", ep->host, ep->service);
	else
		snprintf(buf, cap, "%s:%s",
			 ep->host[0] ? ep->host : "localhost", ep->service);
}
