/* argv_resolve.c - `sockit resolve`'s parse() (see argv.h). */
#include "../../src/cli/cmd_resolve.c"
#include "argv.h"

int fuzz_parse_resolve(int argc, char **argv)
{
	struct resolve_opts o;
	return parse(argc, argv, &o);
}
