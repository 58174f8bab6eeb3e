/* argv.c - argv from fuzz input (see argv.h). */
#include "argv.h"

#include <string.h>

void fuzz_argv_make(fuzz_argv *a, fuzz_in *in, const char *name)
{
	a->n = fuzz_strings(in, a->args, FUZZ_ARGV_MAX);
	a->argv[0] = (char *)name;
	memcpy(a->argv + 1, a->args, a->n * sizeof(*a->args));
	a->argv[a->n + 1] = NULL;
	a->argc = (int)a->n + 1;
}

void fuzz_argv_free(fuzz_argv *a)
{
	fuzz_strings_free(a->args, a->n);
	a->n = 0;
}
