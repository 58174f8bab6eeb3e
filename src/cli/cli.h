/* cli.h - what the sockit subcommands share: the command table, one form
 * of diagnostics, exit codes, and one parser each for options, numbers,
 * durations, sizes, ports, targets and worker counts. The CLI holds no
 * socket logic: every command parses options into a struct, validates
 * them in one place, then calls libsockit (src/cli/cmds.h). */
#ifndef SOCKIT_CLI_H
#define SOCKIT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sockit/sockit.h"

/* Exit statuses; CLI_HELP is none: a parse that met -h or --help returns
 * it, and main() prints the command's usage and exits CLI_OK. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_HELP = 3 };

typedef struct cli_cmd {
	const char *name;
	const char *summary; /* one line for `sockit --help` */
	const char *usage;   /* full text for `sockit help CMD` */
	/* When set, prints the full text instead of usage (text made from
	 * a table, such as serve's services). */
	void (*help)(FILE *out);
	int (*run)(int argc, char **argv);
} cli_cmd;

/* "sockit: CMD: what: why" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *what, int err);
/* The same with why in words instead of skt_strerror(err)'s (NULL: that). */
int cli_fail_why(const char *cmd, const char *what, int err, const char *why);
/* "sockit: CMD: message" plus a hint to --help on stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fflush(f), remembering why stdout failed: glibc drops what a failed
 * flush could not write, so a later flush succeeds and only ferror()
 * remains. Use it, not fflush, wherever a command flushes stdout. */
int cli_flush(FILE *f);
/* Flush and close stdout once, at exit: stdio writes only when its buffer
 * fills or at the flush, so a full disk or a pipe whose reader left shows
 * here, not at printf. On a failure (now, in an earlier write, or in an
 * earlier cli_flush) prints
 * "sockit: CMD: stdout: why" (cmd NULL: "sockit: stdout: why") and
 * returns CLI_FAIL in place of CLI_OK; otherwise returns rc. */
int cli_finish_stdout(const char *cmd, int rc);
/* Print the command's usage text to out. */
void cli_print_usage(const cli_cmd *c, FILE *out);
const cli_cmd *cli_find(const char *name);

/* ---- Options: one getopt loop, one way to name a bad option ---- */

enum { CLI_ARGS_END = -1, CLI_ARGS_BAD = -2, CLI_ARGS_HELP = -3 };

typedef struct cli_args {
	const char *cmd;
	int argc;
	char **argv;                   /* argv[0] is the command's name */
	const struct option *longopts; /* may be NULL */
	char shortopts[64];
	char *arg; /* the value of the option returned */
	int next;  /* at CLI_ARGS_END: the first operand */
} cli_args;

/* Start parsing argv (GNU getopt_long rules: options and operands mixed,
 * "--" ends options). Resets getopt's state, so a process may parse more
 * than one argv (the fuzzers do). shortopts as for getopt, without the
 * leading ':'. */
void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv,
		   const char *shortopts, const struct option *longopts);
/* The next option: its short character or long value (a->arg holds its
 * value), CLI_ARGS_END when options end (operands are argv[a->next] to
 * argv[argc - 1]), CLI_ARGS_HELP for -h or --help (every command takes
 * them; as an option's value, "-h" is only a value), or CLI_ARGS_BAD
 * after one usage line that names the option as the user wrote it: '-x'
 * inside a cluster ("-4x" names -x), '--name' without its "=value", a
 * missing value, a value given to an option that takes none. */
int cli_args_next(cli_args *a);
/* What a parse returns for the value that ended its option loop:
 * CLI_OK, CLI_USAGE or CLI_HELP. */
int cli_args_status(int ch);

/* ---- Values: each prints one usage line naming opt and returns
 * CLI_USAGE, or stores the value and returns CLI_OK ---- */

/* Decimal digits only: no sign, no spaces, no overflow. Returns 0 or -1. */
int cli_parse_u64(const char *text, uint64_t *out);
/* A duration: a number with an optional fraction and a unit, "500ms",
 * "2s", "1.5m", "1h"; a bare number is in unit_ms (1 for milliseconds,
 * 1000 for seconds). It must come to whole milliseconds ("1.5ms" does
 * not). Returns 0, or -1 (*ms untouched). */
int cli_parse_duration(const char *text, int unit_ms, int64_t *ms);
/* A size in bytes: digits with an optional binary unit, "512", "64k",
 * "64K", "1M", "1G" (k = 1024). Returns 0 or -1. */
int cli_parse_size(const char *text, uint64_t *bytes);

int cli_opt_count(const char *cmd, const char *opt, const char *text,
		  uint64_t min, uint64_t max, uint64_t *out);
int cli_opt_duration(const char *cmd, const char *opt, const char *text,
		     int unit_ms, int64_t min_ms, int64_t max_ms, int *ms);
int cli_opt_size(const char *cmd, const char *opt, const char *text,
		 uint64_t min, uint64_t max, uint64_t *out);

/* How many loops (serve --workers) or threads (bench --threads) to run:
 * asked when above 0, else one per CPU this process may run on (its
 * affinity mask, as taskset or a container sets it), capped at
 * CLI_WORKERS_MAX. */
#define CLI_WORKERS_MAX 1024
unsigned cli_workers(unsigned asked);

/* Decode C escapes in s, in place: \n \r \t \\ \0 and \xHH (one or two
 * hex digits). Returns the decoded length (it may hold NUL bytes), or -1
 * with *bad at the offset of the bad escape. */
long cli_unescape(char *s, size_t *bad);

/* AF_INET for -4, AF_INET6 for -6, AF_UNSPEC for neither; both is a
 * usage error ("-4 and -6 conflict"). */
int cli_family(const char *cmd, bool v4, bool v6, int *family);

/* ---- Addresses ---- */

/* A port for socktype (SOCK_STREAM, SOCK_DGRAM): a number, 1-65535 (0
 * too with SKT_PARSE_PORT_ZERO), or a name in the services database.
 * what names the argument in the message ("port", "--source-port"). */
int cli_opt_port(const char *cmd, const char *what, const char *text,
		 int socktype, int flags, uint16_t *port);
/* The usage line every command gives for a service name the services
 * database does not know; returns CLI_USAGE. */
int cli_unknown_service(const char *cmd, const char *name, int socktype);

/* Parse a target given as one argument (HOST:PORT, [v6]:PORT, unix:PATH)
 * or two (HOST PORT) into ep, with skt_endpoint flags. A service name is
 * looked up for socktype (0: not looked up). On bad input prints one
 * usage line naming the bad part and returns CLI_USAGE: every command
 * that takes a target takes these forms, with these messages. */
int cli_parse_target(const char *cmd, int nargs, char **args, int flags,
		     int socktype, skt_endpoint *ep);
/* A host alone (a name, an IPv4 or IPv6 literal, [v6]), checked for
 * syntax as cli_parse_target checks it; ep->service is left empty. */
int cli_parse_host(const char *cmd, const char *text, skt_endpoint *ep);

/* Allow and deny lists of address ranges (--allow / --deny CIDR). */
#define CLI_CIDR_MAX 64
typedef struct cli_cidrs {
	skt_cidr v[CLI_CIDR_MAX];
	size_t n;
} cli_cidrs;
/* Add one range; on bad input a one-line usage error and CLI_USAGE. */
int cli_cidr_add(const char *cmd, cli_cidrs *list, const char *text);
/* A peer is admitted unless a deny range holds it, and, when there are
 * allow ranges, only if one of them holds it. */
bool cli_cidrs_admit(const cli_cidrs *allow, const cli_cidrs *deny,
		     const skt_addr *peer);

/* Raise the soft limit of open fds to the hard one: scan, serve and bench
 * want many sockets at once, and the hard limit is the administrator's
 * to set (nginx's worker_rlimit_nofile, Go's default since 1.19). */
void cli_raise_nofile(void);

/* -v of connect and check: every address Happy Eyeballs tried, when, and
 * how it ended, one "sockit: CMD: tried ..." line each on stderr. */
void cli_print_attempts(const char *cmd, const skt_connect_report *rep);

/* Write s as a JSON string literal (quotes and escapes included). */
void cli_json_str(FILE *out, const char *s);

/* One entry per subcommand, defined at the end of its cmd_<name>.c and
 * listed in main.c's table. */
extern const cli_cmd cli_cmd_resolve;
extern const cli_cmd cli_cmd_service;
extern const cli_cmd cli_cmd_hostname;
extern const cli_cmd cli_cmd_connect;
extern const cli_cmd cli_cmd_listen;
extern const cli_cmd cli_cmd_check;
extern const cli_cmd cli_cmd_scan;
extern const cli_cmd cli_cmd_serve;
extern const cli_cmd cli_cmd_relay;
extern const cli_cmd cli_cmd_bench;
extern const cli_cmd cli_cmd_http;
extern const cli_cmd cli_cmd_send;
extern const cli_cmd cli_cmd_recv;

/* Names for the server's logs (serve, relay): a stop's signal ("SIGTERM"),
 * and a refusal's reason as its option is spelt ("max-per-ip"). */
const char *cli_signame(int sig);
const char *cli_refusal(int why);

#endif
