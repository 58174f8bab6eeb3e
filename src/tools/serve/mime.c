/* mime.c - serve http's MIME types: a built-in table of the types a file
 * server meets most (nginx's mime.types, in short), and /etc/mime.types
 * (mime.types(5): "type ext ext ...", "#" comments) on top of it when the
 * system has one. Looked up by binary search on the lowercased
 * extension; text types get "; charset=utf-8", as Caddy and Go's
 * net/http send them, so a browser shows UTF-8 names and text right.
 */
#include "tools/serve/http_files.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *ext, *type;
} builtin[] = {
	{"7z", "application/x-7z-compressed"},
	{"avif", "image/avif"},
	{"bin", "application/octet-stream"},
	{"bz2", "application/x-bzip2"},
	{"c", "text/x-c"},
	{"css", "text/css"},
	{"csv", "text/csv"},
	{"deb", "application/vnd.debian.binary-package"},
	{"gif", "image/gif"},
	{"gz", "application/gzip"},
	{"h", "text/x-c"},
	{"htm", "text/html"},
	{"html", "text/html"},
	{"ico", "image/vnd.microsoft.icon"},
	{"iso", "application/x-iso9660-image"},
	{"jpeg", "image/jpeg"},
	{"jpg", "image/jpeg"},
	{"js", "text/javascript"},
	{"json", "application/json"},
	{"md", "text/markdown"},
	{"mjs", "text/javascript"},
	{"mp3", "audio/mpeg"},
	{"mp4", "video/mp4"},
	{"ogg", "audio/ogg"},
	{"pdf", "application/pdf"},
	{"png", "image/png"},
	{"svg", "image/svg+xml"},
	{"tar", "application/x-tar"},
	{"txt", "text/plain"},
	{"wasm", "application/wasm"},
	{"wav", "audio/wav"},
	{"webm", "video/webm"},
	{"webp", "image/webp"},
	{"woff", "font/woff"},
	{"woff2", "font/woff2"},
	{"xml", "application/xml"},
	{"xz", "application/x-xz"},
	{"zip", "application/zip"},
	{"zst", "application/zstd"},
};

#define DEFAULT_TYPE "application/octet-stream"

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const svc_mime_ent *)a)->ext,
		      ((const svc_mime_ent *)b)->ext);
}

static char *dup_str(const char *s, size_t n, bool text)
{
	const char *cs = "; charset=utf-8";
	size_t extra = text ? strlen(cs) : 0;
	char *d = skt_malloc(n + extra + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	memcpy(d + n, cs, extra);
	d[n + extra] = '\0';
	return d;
}

static int add(svc_mime *m, size_t *cap, const char *ext, size_t elen,
	       const char *type, size_t tlen)
{
	if (m->n == *cap) {
		size_t nc = *cap == 0 ? 256 : *cap * 2;
		svc_mime_ent *v = skt_realloc(m->v, nc * sizeof(*v));
		if (v == NULL)
			return SKT_ENOMEM;
		m->v = v;
		*cap = nc;
	}
	bool text = tlen > 5 && memcmp(type, "text/", 5) == 0;
	char *e = dup_str(ext, elen, false), *t = dup_str(type, tlen, text);
	if (e == NULL || t == NULL) {
		skt_free(e);
		skt_free(t);
		return SKT_ENOMEM;
	}
	for (char *q = e; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	m->v[m->n++] = (svc_mime_ent){e, t};
	return 0;
}

/* One "type ext ext ..." line. */
static int line(svc_mime *m, size_t *cap, const char *s)
{
	const char *sp = " \t\r\n";
	s += strspn(s, sp);
	if (*s == '#' || *s == '\0')
		return 0;
	size_t tlen = strcspn(s, sp);
	const char *type = s;
	if (memchr(type, '/', tlen) == NULL)
		return 0;
	s += tlen;
	for (;;) {
		s += strspn(s, sp);
		size_t elen = strcspn(s, sp);
		if (elen == 0)
			return 0;
		if (elen < 32) {
			int rc = add(m, cap, s, elen, type, tlen);
			if (rc < 0)
				return rc;
		}
		s += elen;
	}
}

void mime_free(svc_mime *m)
{
	for (size_t i = 0; i < m->n; i++) {
		skt_free(m->v[i].ext);
		skt_free(m->v[i].type);
	}
	skt_free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Sorted; of equal extensions the last added (the system's) stays. */
static void dedup(svc_mime *m)
{
	size_t o = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (i + 1 < m->n && strcmp(m->v[i].ext, m->v[i + 1].ext) == 0) {
			skt_free(m->v[i].ext);
			skt_free(m->v[i].type);
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
}

int mime_load(svc_mime *m, const char *path)
{
	size_t cap = 0;
	m->v = NULL;
	m->n = 0;
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(builtin) && rc == 0; i++)
		rc = add(m, &cap, builtin[i].ext, strlen(builtin[i].ext),
			 builtin[i].type, strlen(builtin[i].type));
	FILE *f = rc == 0 && path != NULL ? fopen(path, "re") : NULL;
	if (rc == 0 && path != NULL && f == NULL && errno != ENOENT)
		rc = -errno;
	char buf[1024];
	while (f != NULL && rc == 0 && fgets(buf, sizeof(buf), f) != NULL)
		rc = line(m, &cap, buf);
	if (f != NULL)
		fclose(f);
	if (rc < 0) {
		mime_free(m);
		return rc;
	}
	/* Stable, so that the later of two equal extensions stays last. */
	for (size_t i = 1; i < m->n; i++) {
		svc_mime_ent e = m->v[i];
		size_t j = i;
		while (j > 0 && cmp_ent(&m->v[j - 1], &e) > 0) {
			m->v[j] = m->v[j - 1];
			j--;
		}
		m->v[j] = e;
	}
	dedup(m);
	return 0;
}

const char *mime_type(const svc_mime *m, const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');
	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0' ||
	    strlen(dot + 1) >= 32)
		return DEFAULT_TYPE;
	char ext[32];
	size_t i = 0;
	for (const char *p = dot + 1; *p != '\0'; p++)
		ext[i++] = (char)tolower((unsigned char)*p);
	ext[i] = '\0';
	svc_mime_ent key = {ext, NULL};
	const svc_mime_ent *e =
		m->n > 0 ? bsearch(&key, m->v, m->n, sizeof(*m->v), cmp_ent)
			 : NULL;
	return e != NULL ? e->type : DEFAULT_TYPE;
}
