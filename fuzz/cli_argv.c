/* cli_argv.c - fuzz the real option parsing of the sockit subcommands
 * with fuzzer-made argv, parse only: nothing reaches the network (see
 * fuzz/cli/argv.h for how each command's static parse() is reached).
 *
 * Input: one byte choosing the command, then its arguments separated by
 * NUL bytes (at most 16).
 *
 * Properties: a parse ends in CLI_OK, CLI_USAGE or (for an allocation
 * failure) CLI_FAIL; it never crashes, reads past an argument or leaks,
 * whatever getopt was left with by the input before.
 */
#include "fuzz.h"

#include "cli/argv.h"
#include "../src/cli/cli.h"

#include <getopt.h>
#include <string.h>

typedef struct cmd {
	const char *name;
	int (*parse)(int argc, char **argv);
} cmd;

static const cmd cmds[] = {
	{"resolve", fuzz_parse_resolve},
	{"check", fuzz_parse_check},
	{"scan", fuzz_parse_scan},
	{"connect", fuzz_parse_connect},
	{"listen", fuzz_parse_listen},
	{"service", fuzz_run_service},
};

#define ARGS_MAX 16

/* Forget what the previous input left in getopt's hidden state (the rest
 * of a "-vx" cluster, the permutation bounds), as a fresh process would.
 * optind = 0 asks glibc for that, but only on the next getopt call, and
 * `sockit service` sets optind = 1 before its own: so make that call
 * here, on an argv with nothing in it. (Found by the fuzzer: a bare
 * `service` after some other input crashed inside getopt, a harness
 * artefact, since the command parses once per process.) */
static void getopt_reset(void)
{
	static char name[] = "sockit";
	char *none[] = {name, NULL};
	optind = 0;
	while (getopt(1, none, ":") != -1)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_track_allocs();
	fuzz_quiet();
	fuzz_in in = {data, size};
	const cmd *c = &cmds[fuzz_u8(&in) % (sizeof(cmds) / sizeof(cmds[0]))];
	char *args[ARGS_MAX];
	size_t n = fuzz_strings(&in, args, ARGS_MAX);
	/* argv as main() passes it on: the command's name, its arguments,
	 * NULL. getopt permutes argv, so it gets a copy of the pointers. */
	char *argv[ARGS_MAX + 2];
	argv[0] = (char *)c->name;
	memcpy(argv + 1, args, n * sizeof(*args));
	argv[n + 1] = NULL;
	getopt_reset();
	int rc = c->parse((int)n + 1, argv);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_FAIL);
	fuzz_strings_free(args, n);
	FUZZ_CHECK(fuzz_live_allocs() == 0);
	return 0;
}
