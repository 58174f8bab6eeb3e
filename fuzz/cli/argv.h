/* argv.h - what the argv harnesses share (cli_argv, serve_argv,
 * bench_argv): an argv made from the input as main() passes it on to a
 * subcommand, for its parse-only entry point (src/cli/cmds.h).
 *
 * Input: up to FUZZ_ARGV_MAX arguments separated by NUL bytes. Each is an
 * exact-size heap copy, so a read past its end is caught; the pointer
 * array is a copy too, since getopt permutes it.
 */
#ifndef SOCKIT_FUZZ_CLI_ARGV_H
#define SOCKIT_FUZZ_CLI_ARGV_H

#include "fuzz.h"

#define FUZZ_ARGV_MAX 16

typedef struct fuzz_argv {
	char *args[FUZZ_ARGV_MAX];
	size_t n;
	int argc;
	char *argv[FUZZ_ARGV_MAX + 2]; /* the name, the arguments, NULL */
} fuzz_argv;

/* Take the rest of the input as the arguments of command name. */
void fuzz_argv_make(fuzz_argv *a, fuzz_in *in, const char *name);
void fuzz_argv_free(fuzz_argv *a);

/* Whether a parse returned one of its documented values. */
#define FUZZ_PARSE_RC_OK(rc)                                                   \
	((rc) == CLI_OK || (rc) == CLI_USAGE || (rc) == CLI_FAIL ||            \
	 (rc) == CLI_HELP)

#endif
