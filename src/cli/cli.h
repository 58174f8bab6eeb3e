/* cli.h - what the sockit subcommands share: the command table, one form
 * of diagnostics, exit codes. The CLI holds no socket logic: every command
 * parses options into a struct, validates them in one place, then calls
 * libsockit. */
#ifndef SOCKIT_CLI_H
#define SOCKIT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sockit/sockit.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_cmd {
	const char *name;
	const char *summary;  /* one line for `sockit --help` */
	const char *usage;    /* full text for `sockit help CMD` */
	int (*run)(int argc, char **argv);
} cli_cmd;


/* "sockit: CMD: what: why" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *what, int err);
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

/* Parse a target given as one argument (HOST:PORT, [v6]:PORT, unix:PATH)
 * or two (HOST PORT) into ep, with skt_endpoint flags. On bad input prints
 * a one-line usage error naming the bad part and returns CLI_USAGE. */
int cli_parse_target(const char *cmd, int nargs, char **args, int flags,
		     skt_endpoint *ep);

/* Parse seconds ("2", "0.5", at most 86400) into milliseconds. Returns 0,
 * or -1 for anything else ("abc", "-1", "1e3", ""). */
int cli_parse_seconds(const char *text, int *ms);

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
extern const cli_cmd cli_cmd_bench;

#endif
