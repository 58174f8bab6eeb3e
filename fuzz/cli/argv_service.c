/* argv_service.c - `sockit service` whole (see argv.h). */
#include "../../src/cli/cmd_service.c"
#include "argv.h"

int fuzz_run_service(int argc, char **argv)
{
	return run(argc, argv);
}
