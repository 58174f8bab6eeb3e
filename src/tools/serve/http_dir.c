/* http_dir.c - serve http's directory listing: one HTML page, names
 * escaped (HTML for the text, percent-encoding for the links, so names
 * with spaces, "%", "&", quotes or UTF-8 survive both), sizes, dates,
 * sorted by name (directories first), size or time, either way, with
 * the column heads as the sort links (?sort=name|size|time, &order=desc),
 * the way Apache's mod_autoindex does. A small stylesheet inline: no
 * second request for a page to look right.
 */
#include "tools/serve/http_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BY_NAME, BY_SIZE, BY_TIME };

typedef struct ent {
	char *name;
	bool dir;
	off_t size;
	time_t mtime;
} ent;

static _Thread_local int sort_by, sort_desc;

static int cmp(const void *pa, const void *pb)
{
	const ent *a = pa, *b = pb;
	int r = 0;
	if (a->dir != b->dir)
		return a->dir ? -1 : 1; /* directories first, either order */
	if (sort_by == BY_SIZE)
		r = a->size < b->size ? -1 : a->size > b->size;
	else if (sort_by == BY_TIME)
		r = a->mtime < b->mtime ? -1 : a->mtime > b->mtime;
	if (r == 0)
		r = strcmp(a->name, b->name);
	return sort_desc ? -r : r;
}

/* The value of key in query (a=b&c=d), or NULL. */
static const char *param(const char *q, size_t n, const char *key, size_t *vlen)
{
	size_t kl = strlen(key), i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && q[e] != '&')
			e++;
		if (e - i > kl && memcmp(q + i, key, kl) == 0 &&
		    q[i + kl] == '=') {
			*vlen = e - i - kl - 1;
			return q + i + kl + 1;
		}
		i = e + 1;
	}
	return NULL;
}

static bool is(const char *v, size_t n, const char *lit)
{
	return v != NULL && n == strlen(lit) && memcmp(v, lit, n) == 0;
}

static void human(char *out, size_t cap, off_t size)
{
	static const char units[] = "KMGTP";
	if (size < 1024) {
		snprintf(out, cap, "%lld", (long long)size);
		return;
	}
	double v = (double)size;
	int u = -1;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, "%.1f%c", v, units[u]);
}

static const char style[] =
	"<style>body{font-family:system-ui,sans-serif;margin:2em;"
	"color:#222}h1{font-size:1.3em;word-break:break-all}"
	"table{border-collapse:collapse;min-width:60%}"
	"th,td{padding:.25em 1em;text-align:left}"
	"th{border-bottom:1px solid #ccc}td.s,th.s{text-align:right}"
	"tr:nth-child(even){background:#f5f5f5}a{text-decoration:none}"
	"a:hover{text-decoration:underline}"
	"footer{margin-top:1em;color:#888;font-size:.8em}</style>\n";

static void head_link(http_buf *b, const char *label, const char *key, int by,
		      const char *cls)
{
	/* The current column's link turns the order round. */
	bool desc = sort_by == by && !sort_desc;
	http_buf_printf(b, "<th%s><a href=\"?sort=%s%s\">%s%s</a></th>", cls,
			key, desc ? "&amp;order=desc" : "", label,
			sort_by != by ? ""
			: sort_desc   ? " &#9660;"
				      : " &#9650;");
}

static void row(http_buf *b, const ent *e)
{
	char size[32], date[32];
	struct tm tm;
	gmtime_r(&e->mtime, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
	if (e->dir)
		snprintf(size, sizeof(size), "-");
	else
		human(size, sizeof(size), e->size);
	size_t n = strlen(e->name);
	http_buf_put(b, "<tr><td><a href=\"", 17);
	http_buf_uri(b, e->name, n);
	if (e->dir)
		http_buf_put(b, "/", 1);
	http_buf_put(b, "\">", 2);
	http_buf_html(b, e->name, n);
	if (e->dir)
		http_buf_put(b, "/", 1);
	http_buf_printf(b,
			"</a></td><td class=\"s\" title=\"%lld\">%s</td>"
			"<td>%s</td></tr>\n",
			(long long)e->size, size, date);
}

static void page(http_buf *b, const char *rel, const ent *v, size_t n)
{
	const char *shown = strcmp(rel, ".") == 0 ? "" : rel;
	http_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
			   "<meta charset=\"utf-8\"><meta name=\"viewport\" "
			   "content=\"width=device-width\">\n<title>"
			   "Index of /");
	http_buf_html(b, shown, strlen(shown));
	http_buf_put(b, "</title>\n", 9);
	http_buf_put(b, style, sizeof(style) - 1);
	http_buf_put(b, "</head><body>\n<h1>Index of /", 28);
	http_buf_html(b, shown, strlen(shown));
	http_buf_put(b, "</h1>\n<table>\n<thead><tr>", 25);
	head_link(b, "Name", "name", BY_NAME, "");
	head_link(b, "Size", "size", BY_SIZE, " class=\"s\"");
	head_link(b, "Modified (UTC)", "time", BY_TIME, "");
	http_buf_put(b, "</tr></thead>\n<tbody>\n", 22);
	if (shown[0] != '\0')
		http_buf_printf(b, "<tr><td><a href=\"../\">../</a></td>"
				   "<td class=\"s\">-</td><td></td></tr>\n");
	for (size_t i = 0; i < n; i++)
		row(b, &v[i]);
	http_buf_printf(b,
			"</tbody></table>\n<footer>%zu entr%s, served by "
			"sockit</footer>\n</body></html>\n",
			n, n == 1 ? "y" : "ies");
}

static void free_ents(ent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		skt_free(v[i].name);
	skt_free(v);
}

int http_listing(const svc_http_opts *o, int fd, const char *rel,
		 const char *query, size_t qlen, http_buf *b)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return 403;
	}
	ent *v = NULL;
	size_t n = 0, cap = 0;
	bool oom = false;
	struct dirent *de;
	while (!oom && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    (name[0] == '.' && !o->dotfiles))
			continue;
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* A symlink is shown as what it leads to, and only when it
		 * could be served: one out of DIR would tell the size and
		 * date of what lies outside. */
		if (S_ISLNK(st.st_mode)) {
			int lf = http_openat(o, dfd, name, O_PATH);
			bool ok = lf >= 0 && fstat(lf, &st) == 0;
			if (lf >= 0)
				close(lf);
			if (!ok)
				continue;
		}
		if (n == cap) {
			size_t nc = cap == 0 ? 64 : cap * 2;
			ent *nv = skt_realloc(v, nc * sizeof(*nv));
			if (nv == NULL) {
				oom = true;
				break;
			}
			v = nv;
			cap = nc;
		}
		size_t len = strlen(name);
		char *copy = skt_malloc(len + 1);
		if (copy == NULL) {
			oom = true;
			break;
		}
		memcpy(copy, name, len + 1);
		v[n++] = (ent){copy, S_ISDIR(st.st_mode), st.st_size,
			       st.st_mtim.tv_sec};
	}
	closedir(d);
	if (oom) {
		free_ents(v, n);
		return 500;
	}
	size_t sl = 0, ol = 0;
	const char *s = param(query != NULL ? query : "", qlen, "sort", &sl);
	const char *ord = param(query != NULL ? query : "", qlen, "order", &ol);
	/* qsort has no argument: one worker thread builds one page at a
	 * time, but workers run at once, so the key goes in thread-local
	 * storage. */
	sort_by = is(s, sl, "size")   ? BY_SIZE
		  : is(s, sl, "time") ? BY_TIME
				      : BY_NAME;
	sort_desc = is(ord, ol, "desc");
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp);
	page(b, rel, v, n);
	free_ents(v, n);
	return b->oom ? 500 : 0;
}
