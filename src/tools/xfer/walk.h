/* walk.h - the list of what sockit send sends (walk.c). */
#ifndef SOCKIT_TOOLS_XFER_WALK_H
#define SOCKIT_TOOLS_XFER_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "tools/xfer/wire.h"

typedef struct xf_item {
	char *src;  /* the path to open here */
	char *rel;  /* the path sent: relative, normalised */
	char *link; /* a symlink's target, else NULL */
	struct stat st;
} xf_item;

typedef struct xf_walk {
	xf_item *v;
	size_t n, cap;
	uint64_t bytes;   /* the regular files' sizes */
	uint64_t skipped; /* entries left out, each with a warning */
	char err[512];
} xf_walk;

/* Add an operand and, for a directory, its tree. 0, or a negative errno
 * with w->err saying what. */
int xf_walk_add(xf_walk *w, const char *path);
void xf_walk_free(xf_walk *w);

#endif
