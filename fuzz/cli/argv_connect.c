/* argv_connect.c - `sockit connect`'s parse() (see argv.h). */
#include "../../src/cli/cmd_connect.c"
#include "argv.h"

int fuzz_parse_connect(int argc, char **argv)
{
	struct connect_opts o;
	return parse(argc, argv, &o);
}
