/* part.h - the receiver's side of the disk (docs/transfer.md, "On the
 * receiver's disk"): paths opened under DIR without following a link,
 * NAME.part with its sidecar of verified chunks, and the rename that ends
 * a file. */
#ifndef SOCKIT_TOOLS_XFER_PART_H
#define SOCKIT_TOOLS_XFER_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/xfer/wire.h"

/* The directory that holds the last component of path (NUL-terminated,
 * checked by xf_path_ok), under root: every component opened with
 * O_NOFOLLOW, a missing one created. Returns a new fd (the caller closes
 * it) with *name at the last component, or -errno (-ELOOP or -ENOTDIR
 * when a component is a link or a file). */
int xf_fs_parent(int root, const char *path, const char **name);

typedef struct xf_part {
	int dir;          /* the parent directory */
	const char *name; /* in the entry's path */
	char part[XF_NAME_MAX + 8], side[XF_NAME_MAX + 12];
	int fd, sfd;            /* NAME.part, NAME.part.sxf */
	int hl;                 /* the hash length; records are max(hl, 1) */
	uint64_t k;             /* chunks verified */
	uint8_t c[XF_HASH_MAX]; /* the chain after them */
} xf_part;

/* Open NAME.part for e in dir (borrowed: it must outlive p), resuming
 * from its sidecar when that describes the same file and resume is true.
 * Returns 0 or -errno. */
int xf_part_open(xf_part *p, int dir, const char *name, const xf_entry *e,
		 bool resume);
/* Chunk i (len bytes, verified; its chain value c) at its offset: one
 * pwrite, skipped for a chunk of zeros (the file stays sparse), then its
 * record. 0 or -errno (-ENOSPC: disk full; the .part is kept). */
int xf_part_chunk(xf_part *p, uint64_t i, uint32_t chunk, const uint8_t *buf,
		  uint32_t len, const uint8_t c[XF_HASH_MAX]);
/* The file is whole: size, mode, mtime, then the rename to NAME
 * (refused when NAME exists, unless overwrite) and the sidecar's end.
 * 0 or -errno (-EEXIST). */
int xf_part_finish(xf_part *p, const xf_entry *e, bool overwrite);
void xf_part_close(xf_part *p);

#endif
