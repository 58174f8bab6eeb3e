/* argv.h - parse-only entries into the sockit subcommands, for the
 * cli_argv harness.
 *
 * The command has no parse-only hook: each cmd_<name>.c keeps its option
 * parser static and its run() goes on to the network. So each file here
 * is one translation unit that #includes one cmd_<name>.c unchanged and
 * exposes its static parse(), without touching src/cli. The price is that
 * these files know each command's parse() signature and options struct;
 * if a command changes them, its file here changes with it (a one-line
 * fix the compiler points at). A cli_cmd.parse hook in src/cli would
 * remove that coupling.
 *
 * Each returns what parse() returned (CLI_OK or CLI_USAGE, or CLI_FAIL),
 * and frees whatever a successful parse() left for run() to free.
 */
#ifndef SOCKIT_FUZZ_CLI_ARGV_H
#define SOCKIT_FUZZ_CLI_ARGV_H

int fuzz_parse_resolve(int argc, char **argv);
int fuzz_parse_check(int argc, char **argv);
int fuzz_parse_scan(int argc, char **argv);
int fuzz_parse_connect(int argc, char **argv);
int fuzz_parse_listen(int argc, char **argv);
/* `sockit service` has no separate parser; its whole run() is a services
 * database lookup (/etc/services, no network), so it runs whole. */
int fuzz_run_service(int argc, char **argv);

#endif
