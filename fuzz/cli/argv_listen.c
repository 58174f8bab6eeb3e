/* argv_listen.c - `sockit listen`'s parse() (see argv.h). */
#include "../../src/cli/cmd_listen.c"
#include "argv.h"

int fuzz_parse_listen(int argc, char **argv)
{
	struct listen_opts o;
	return parse(argc, argv, &o);
}
