/* part.c - NAME.part and NAME.part.sxf under the receiver's DIR. A chunk
 * is written before its record is appended, so every record describes
 * bytes in the .part whenever either side is killed. */
#include "tools/xfer/part.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIDE_HEAD 64

int xf_fs_parent(int root, const char *path, const char **name)
{
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (slash == NULL)
			break;
		char comp[XF_NAME_MAX + 1];
		size_t len = (size_t)(slash - p);
		memcpy(comp, p, len); /* xf_path_ok: len <= XF_NAME_MAX */
		comp[len] = '\0';
		int d = openat(fd, comp,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0 && errno == ENOENT && mkdirat(fd, comp, 0755) == 0)
			d = openat(fd, comp,
				   O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					   O_CLOEXEC);
		int err = errno;
		close(fd);
		if (d < 0)
			return -err;
		fd = d;
		p = slash + 1;
	}
	*name = p;
	return fd;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void side_head(uint8_t h[SIDE_HEAD], const xf_entry *e)
{
	memset(h, 0, SIDE_HEAD);
	memcpy(h, "SKXP", 4);
	h[4] = 1;
	h[5] = e->alg;
	put64(h + 8, (uint64_t)e->chunk << 32 | e->mtime_ns);
	put64(h + 16, (uint64_t)e->mtime_s);
	put64(h + 24, e->size);
	memcpy(h + 32, e->first, e->first_len);
}

/* Resume from the sidecar: true when it describes e and the .part is
 * there; p->k and p->c then say where it stopped. */
static bool try_resume(xf_part *p, const xf_entry *e)
{
	/* O_APPEND: records go after the last one whatever the offset. */
	p->sfd = openat(p->dir, p->side,
			O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (p->sfd < 0)
		return false;
	uint8_t want[SIDE_HEAD], have[SIDE_HEAD];
	side_head(want, e);
	struct stat st;
	if (pread(p->sfd, have, SIDE_HEAD, 0) != SIDE_HEAD ||
	    memcmp(want, have, SIDE_HEAD) != 0 || fstat(p->sfd, &st) < 0)
		return false;
	size_t rec = p->hl > 0 ? (size_t)p->hl : 1;
	uint64_t k = ((uint64_t)st.st_size - SIDE_HEAD) / rec;
	uint64_t n = xf_chunks(e->size, e->chunk);
	if (k > n)
		k = n;
	p->fd = openat(p->dir, p->part, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (k > 0 && p->hl > 0 &&
	    pread(p->sfd, p->c, (size_t)p->hl,
		  (off_t)(SIDE_HEAD + (k - 1) * rec)) != p->hl)
		return false;
	/* A partial record, and bytes past the verified ones, go: what
	 * follows is written afresh, holes for zeros included. */
	if (ftruncate(p->sfd, (off_t)(SIDE_HEAD + k * rec)) < 0 ||
	    ftruncate(p->fd, (off_t)(k * e->chunk < e->size ? k * e->chunk
							    : e->size)) < 0)
		return false;
	p->k = k;
	return true;
}

static void drop(xf_part *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->sfd >= 0)
		close(p->sfd);
	p->fd = p->sfd = -1;
	p->k = 0;
	memset(p->c, 0, sizeof(p->c));
}

int xf_part_open(xf_part *p, int dir, const char *name, const xf_entry *e,
		 bool resume)
{
	*p = (xf_part){.dir = dir,
		       .name = name,
		       .fd = -1,
		       .sfd = -1,
		       .hl = xf_alg_hash_len(e->alg)};
	if (snprintf(p->part, sizeof(p->part), "%s.part", name) >=
		    (int)sizeof(p->part) ||
	    snprintf(p->side, sizeof(p->side), "%s.part.sxf", name) >=
		    (int)sizeof(p->side))
		return -ENAMETOOLONG;
	bool one = xf_chunks(e->size, e->chunk) <= 1;
	if (resume && !one && try_resume(p, e))
		return 0;
	drop(p);
	p->fd = openat(dir, p->part,
		       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	if (p->fd < 0)
		return -errno;
	/* A file of one chunk or none is never resumed (docs/transfer.md):
	 * no sidecar. */
	if (one)
		return 0;
	p->sfd = openat(dir, p->side,
			O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_NOFOLLOW |
				O_CLOEXEC,
			0600);
	uint8_t h[SIDE_HEAD];
	side_head(h, e);
	if (p->sfd < 0 || write(p->sfd, h, SIDE_HEAD) != SIDE_HEAD)
		return errno ? -errno : -EIO;
	return 0;
}

static bool zeros(const uint8_t *p, size_t n)
{
	/* A word at a time would be faster; memcmp against itself shifted
	 * by one compares at memory speed with the C library's code. */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int xf_part_chunk(xf_part *p, uint64_t i, uint32_t chunk, const uint8_t *buf,
		  uint32_t len, const uint8_t c[XF_HASH_MAX])
{
	if (!zeros(buf, len)) {
		off_t off = (off_t)(i * chunk);
		uint32_t done = 0;
		while (done < len) {
			ssize_t w = pwrite(p->fd, buf + done, len - done,
					   off + done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -ENOSPC;
			done += (uint32_t)w;
		}
	}
	memcpy(p->c, c, (size_t)p->hl);
	p->k = i + 1;
	if (p->sfd < 0)
		return 0; /* a file of one chunk keeps no records */
	uint8_t one = 1;
	const void *rec = p->hl > 0 ? (const void *)c : &one;
	size_t rl = p->hl > 0 ? (size_t)p->hl : 1;
	ssize_t w = write(p->sfd, rec, rl);
	if (w != (ssize_t)rl)
		return w < 0 ? -errno : -ENOSPC;
	return 0;
}

int xf_part_finish(xf_part *p, const xf_entry *e, bool overwrite)
{
	/* setuid and setgid bits do not travel: a file from the network
	 * should not run as its sender's owner. */
	struct timespec ts[2] = {
		{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
		{.tv_sec = e->mtime_s, .tv_nsec = e->mtime_ns},
	};
	if (ftruncate(p->fd, (off_t)e->size) < 0 ||
	    fchmod(p->fd, e->mode & 01777) < 0 || futimens(p->fd, ts) < 0)
		return -errno;
	if (renameat2(p->dir, p->part, p->dir, p->name,
		      overwrite ? 0 : RENAME_NOREPLACE) < 0)
		return -errno;
	if (p->sfd >= 0)
		unlinkat(p->dir, p->side, 0);
	return 0;
}

void xf_part_close(xf_part *p)
{
	drop(p);
}
