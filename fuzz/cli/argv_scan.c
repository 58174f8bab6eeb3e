/* argv_scan.c - `sockit scan`'s parse() (see argv.h). */
#include "../../src/cli/cmd_scan.c"
#include "argv.h"

int fuzz_parse_scan(int argc, char **argv)
{
	struct scan_opts o;
	return parse(argc, argv, &o);
}
