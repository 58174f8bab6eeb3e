/* walk.c - what sockit send sends: each operand and, for a directory,
 * its tree in pre-order (a directory before what it holds, names sorted),
 * stat'ed but not read. Inside a tree nothing is followed: a symlink is
 * sent as a link, and one whose target would leave the tree is left out
 * with a warning, as are sockets, FIFOs and devices. An operand itself is
 * followed: the user named it. */
#include "tools/xfer/walk.h"
#include "tools/xfer/xfer_int.h"

#include "sockit/sockit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add(xf_walk *w, const char *src, const char *rel,
	       const struct stat *st, char *link)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		xf_item *v = skt_realloc(w->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	xf_item *it = &w->v[w->n];
	it->src = xf_strdup(src);
	it->rel = xf_strdup(rel);
	it->link = link;
	it->st = *st;
	if (it->src == NULL || it->rel == NULL) {
		skt_free(it->src);
		skt_free(it->rel);
		return -ENOMEM;
	}
	w->n++;
	if (S_ISREG(st->st_mode))
		w->bytes += (uint64_t)st->st_size;
	return 0;
}

static int fail(xf_walk *w, const char *what, int err)
{
	snprintf(w->err, sizeof(w->err), "%s: %s", what, skt_strerror(-err));
	return -err;
}

static int walk_dir(xf_walk *w, const char *src, const char *rel);

/* One entry inside a tree (lstat: nothing followed). */
static int walk_one(xf_walk *w, const char *src, const char *rel,
		    const struct stat *st)
{
	if (!xf_path_ok(rel, strlen(rel))) {
		snprintf(w->err, sizeof(w->err),
			 "%s: a name the protocol cannot carry", src);
		return -EINVAL;
	}
	if (S_ISDIR(st->st_mode)) {
		int rc = add(w, src, rel, st, NULL);
		return rc < 0 ? rc : walk_dir(w, src, rel);
	}
	if (S_ISREG(st->st_mode))
		return add(w, src, rel, st, NULL);
	if (S_ISLNK(st->st_mode)) {
		char *t = skt_malloc(XF_PATH_MAX + 1);
		if (t == NULL)
			return -ENOMEM;
		ssize_t n = readlink(src, t, XF_PATH_MAX + 1);
		if (n < 0 || n > XF_PATH_MAX) {
			skt_free(t);
			return fail(w, src, n < 0 ? errno : ENAMETOOLONG);
		}
		t[n] = '\0';
		if (!xf_link_ok(rel, strlen(rel), t, (size_t)n)) {
			fprintf(stderr,
				"sockit: send: %s: skipped: the link points "
				"out of the tree (%s)\n",
				src, t);
			skt_free(t);
			w->skipped++;
			return 0;
		}
		int rc = add(w, src, rel, st, t);
		if (rc < 0)
			skt_free(t);
		return rc;
	}
	fprintf(stderr,
		"sockit: send: %s: skipped: not a file, directory "
		"or link\n",
		src);
	w->skipped++;
	return 0;
}

static int walk_dir(xf_walk *w, const char *src, const char *rel)
{
	struct dirent **names;
	int n = scandir(src, &names, NULL, alphasort);
	if (n < 0)
		return fail(w, src, errno);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		if (rc == 0 && strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
			size_t sl = strlen(src), rl = strlen(rel),
			       dl = strlen(d);
			char *s = skt_malloc(sl + dl + 2),
			     *r = skt_malloc(rl + dl + 2);
			struct stat st;
			if (s == NULL || r == NULL) {
				rc = -ENOMEM;
			} else {
				snprintf(s, sl + dl + 2, "%s/%s", src, d);
				snprintf(r, rl + dl + 2, "%s/%s", rel, d);
				if (lstat(s, &st) < 0)
					rc = fail(w, s, errno);
				else
					rc = walk_one(w, s, r, &st);
			}
			skt_free(s);
			skt_free(r);
		}
		free(names[i]); /* scandir's: libc's malloc */
	}
	free(names);
	return rc;
}

/* The name an operand is sent under: its last component ("a/b/" is b;
 * "." and ".." are the directory's own name). */
static int top_name(xf_walk *w, const char *path, char *out, size_t cap)
{
	char *real = NULL;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *end = path + n, *start = end;
	while (start > path && start[-1] != '/')
		start--;
	size_t len = (size_t)(end - start);
	if ((len == 1 && start[0] == '.') ||
	    (len == 2 && start[0] == '.' && start[1] == '.')) {
		real = realpath(path, NULL);
		if (real == NULL)
			return fail(w, path, errno);
		start = strrchr(real, '/') + 1;
		len = strlen(start);
	}
	if (len == 0 || len >= cap) {
		free(real); /* realpath's */
		snprintf(w->err, sizeof(w->err), "%s: nothing to name it by",
			 path);
		return -EINVAL;
	}
	memcpy(out, start, len);
	out[len] = '\0';
	free(real); /* realpath's */
	return 0;
}

int xf_walk_add(xf_walk *w, const char *path)
{
	char name[XF_NAME_MAX + 1];
	int rc = top_name(w, path, name, sizeof(name));
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].rel, name) == 0) {
			snprintf(w->err, sizeof(w->err),
				 "%s: a second operand named %s", path, name);
			return -EEXIST;
		}
	struct stat st;
	if (stat(path, &st) < 0)
		return fail(w, path, errno);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(w->err, sizeof(w->err), "%s: not a file or directory",
			 path);
		return -EINVAL;
	}
	return walk_one(w, path, name, &st);
}

void xf_walk_free(xf_walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		skt_free(w->v[i].src);
		skt_free(w->v[i].rel);
		skt_free(w->v[i].link);
	}
	skt_free(w->v);
	*w = (xf_walk){0};
}
