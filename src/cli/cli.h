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

/* The command table (main.c). */
extern const cli_cmd cli_cmds[];

/* "sockit: CMD: what: why" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *what, int err);
/* "sockit: CMD: message" plus a hint to --help on stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the command's usage text to out. */
void cli_print_usage(const cli_cmd *c, FILE *out);
const cli_cmd *cli_find(const char *name);

/* Write s as a JSON string literal (quotes and escapes included). */
void cli_json_str(FILE *out, const char *s);

int cmd_resolve(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_hostname(int argc, char **argv);

#endif
