/* bridge.h - what `sockit connect` and `sockit listen` share: the options
 * of the end-of-input table (--eof, --udp-wait), -w, --send, --crlf, -v,
 * -4/-6/-u, and turning a relay's result into one line of report. Both
 * commands bridge stdin/stdout with a socket through skt_relay_run. */
#ifndef SOCKIT_CLI_BRIDGE_H
#define SOCKIT_CLI_BRIDGE_H

#include "cli.h"
#include "cli_tls.h"
#include "sockit/relay.h"
#include "tools/exec/spawn.h"

/* Values getopt_long returns for the shared long options; each command
 * numbers its own from BRIDGE_OPT_OWN. */
enum {
	BRIDGE_OPT_EOF = 0x100,
	BRIDGE_OPT_UDP_WAIT,
	BRIDGE_OPT_SEND,
	BRIDGE_OPT_CRLF,
	BRIDGE_OPT_EXEC,
	BRIDGE_OPT_SH_EXEC,
	BRIDGE_OPT_OWN = 0x180,
};

#define BRIDGE_LONGOPTS                                                        \
	{"eof", required_argument, NULL, BRIDGE_OPT_EOF},                      \
		{"udp-wait", required_argument, NULL, BRIDGE_OPT_UDP_WAIT},    \
		{"send", required_argument, NULL, BRIDGE_OPT_SEND},            \
		{"crlf", no_argument, NULL, BRIDGE_OPT_CRLF},                  \
		{"exec", required_argument, NULL, BRIDGE_OPT_EXEC},            \
		{"sh-exec", required_argument, NULL, BRIDGE_OPT_SH_EXEC},      \
		{"verbose", no_argument, NULL, 'v'},                           \
		{"udp", no_argument, NULL, 'u'}, CLI_TLS_LONGOPTS

/* The shared short options (for cli_args_init). */
#define BRIDGE_SHORTOPTS "46uvw:"

/* What connect waits for replies after stdin ends, for UDP, by default:
 * a loopback or LAN reply takes well under a second. */
#define BRIDGE_UDP_WAIT_MS 1000

/* The TLS handshake's deadline when -w gives none: a peer that says
 * nothing (a plain-text server, a client that never speaks) must not hold
 * the command forever. */
#define BRIDGE_TLS_HANDSHAKE_MS 10000

/* --exec's command line: its length and its words, at most. */
#define BRIDGE_EXEC_MAX  1023
#define BRIDGE_EXEC_ARGS 63

struct bridge {
	const char *cmd;
	skt_tls_role role;  /* connect is a TLS client, listen a server */
	struct cli_tls tls; /* --tls and its options */
	bool v4, v6, udp, verbose, crlf;
	int timeout_ms;  /* -w: connect and idle timeout; -1 none */
	int eof;         /* skt_relay_eof, from --eof */
	int eof_wait_ms; /* --eof=wait:SECS */
	bool eof_given;
	int udp_wait_ms;  /* --udp-wait; -1 when not given */
	const char *send; /* --send TEXT, escapes decoded */
	size_t send_len;  /* it may hold NUL bytes (\0) */
	/* --exec 'CMD ARGS' (split at blanks, no shell) or --sh-exec LINE
	 * (/bin/sh -c LINE): exec.argv is NULL when neither is given. */
	const char *exec_text;
	bool sh;
	spawn_cmd exec;
	char *exec_argv[BRIDGE_EXEC_ARGS + 1];
	char exec_buf[BRIDGE_EXEC_MAX + 1];
};

void bridge_init(struct bridge *b, const char *cmd, skt_tls_role role);

/* Take one option cli_args_next returned (its value in arg). Returns
 * CLI_OK when it was a shared one (the TLS ones included), CLI_USAGE
 * after a one-line message for a bad value, or -1 when ch is the
 * command's own. */
int bridge_option(struct bridge *b, int ch, char *arg);

/* Conflicts among the shared options, and with a Unix socket target;
 * TLS's own (cli_tls_check), TLS with datagrams (-u, unix-dgram: b->udp
 * is set for both), and a client's TLS to a Unix socket, which has no
 * host name to verify (--sni NAME names one; --pin and --insecure need
 * none). Returns CLI_OK or CLI_USAGE after a one-line message. */
int bridge_check(const struct bridge *b, bool unix_target);

/* -w, or BRIDGE_TLS_HANDSHAKE_MS without it, less the ms already spent
 * since start_ms (a CLOCK_MONOTONIC reading of bridge_now_ms); at least
 * 1. */
int bridge_tls_deadline(const struct bridge *b, int64_t start_ms);
int64_t bridge_now_ms(void);

/* AF_INET, AF_INET6 or AF_UNSPEC, from -4/-6. */
int bridge_family(const struct bridge *b);

/* The relay options the shared options ask for. udp_wait_ms is what a
 * datagram relay does after stdin ends when neither --eof nor --udp-wait
 * says: wait that long for replies, or keep receiving when -1. */
void bridge_relay_opts(const struct bridge *b, int udp_wait_ms,
		       skt_relay_opts *ro);

/* Relay stdin (in_fd: 0, or -1 once it has ended) and stdout with sock,
 * or through t when t is not NULL (sock is then t's), then report: a
 * failure as one line naming its side ("stdout", "stdin", or peer for
 * the socket; under TLS the TLS reason, and "truncated" for a peer that
 * closed without close_notify), and with -v the byte counts. A TLS relay
 * that ended well sends close_notify if it has not yet (--eof=close, a
 * terminal's session ended by the peer). Returns the exit status. */
int bridge_run(const struct bridge *b, const skt_relay_opts *ro, int in_fd,
	       int sock, skt_tls *t, const char *peer, skt_relay_stats *st);

/* --exec / --sh-exec: a usage error (CLI_USAGE) when the program is not
 * there, checked before any socket is opened; CLI_OK otherwise. */
int bridge_exec_check(const struct bridge *b);

/* Run the --exec program with sock as its stdin and stdout (sock is
 * closed here, so the program holds the only copy), and wait for it.
 * Returns CLI_OK when it exits 0, else CLI_FAIL after one line with its
 * status. */
int bridge_exec(const struct bridge *b, int sock);
/* The same over TLS: the program gets one end of a socketpair, and the
 * other is relayed with t (skt_tls_relay_run): the program's end of
 * output ends the session (close_notify), the peer's end reaches the
 * program as its end of input. sock (t's) stays the caller's, as t does.
 * peer names the socket in a failure's line. */
int bridge_exec_tls(const struct bridge *b, int sock, skt_tls *t,
		    const char *peer);

/* A target as text, for messages: host:port, [v6]:port or unix:/path. */
void bridge_target_text(const skt_endpoint *ep, char *buf, size_t cap);

#endif
