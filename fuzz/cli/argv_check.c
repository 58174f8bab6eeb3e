/* argv_check.c - `sockit check`'s parse() (see argv.h). */
#include "../../src/cli/cmd_check.c"
#include "argv.h"

int fuzz_parse_check(int argc, char **argv)
{
	struct check_opts o;
	int rc = parse(argc, argv, &o);
	if (rc == CLI_OK)
		free(o.ports); /* run() frees it after the scan */
	return rc;
}
