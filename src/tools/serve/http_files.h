/* http_files.h - what `sockit serve http` knows about files, apart from
 * the connection: a request target to a path under DIR, opening it
 * without leaving DIR, validators (Last-Modified, ETag), conditional
 * requests and Range (RFC 9110 8.8, 13, 14), MIME types, the listing of
 * a directory. http.c turns these into responses.
 */
#ifndef SOCKIT_TOOLS_HTTP_FILES_H
#define SOCKIT_TOOLS_HTTP_FILES_H

#include "tools/serve/services.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* The longest request target taken (nginx's line limit is 8 KiB; a path
 * under DIR is at most PATH_MAX anyway). Longer: 414. */
#define HTTP_TARGET_MAX 4096

/* A request target made a path relative to DIR. */
typedef struct http_path {
	char rel[HTTP_TARGET_MAX + 2]; /* decoded, no leading '/', "." for
					  DIR itself; NUL-terminated */
	bool slash;                    /* the target's path ended in '/' */
	const char *query;             /* after '?', in the target; or NULL */
	size_t query_len;
	const char *raw; /* the target's path part as sent (for a redirect) */
	size_t raw_len;
} http_path;

/* Decode target (origin form "/a%20b?q", or absolute form
 * "http://host/a"): percent-decoding, "." segments and empty ones ("//")
 * dropped. Returns 0, or the status to answer: 400 (not a path, a bad
 * or NUL escape, a ".." segment), 404 (a dotfile, unless dotfiles), 414
 * (over HTTP_TARGET_MAX). */
int http_path_parse(http_path *p, const char *target, size_t len,
		    bool dotfiles);

/* Open rel under o->root for reading, never leaving DIR: openat2 with
 * RESOLVE_BENEATH (symlinks that stay inside are followed, those that
 * leave are refused; --follow-symlinks follows them all), or, on a
 * kernel without openat2, one component at a time with O_NOFOLLOW (every
 * symlink refused unless --follow-symlinks). *fd and *st on success.
 * Returns 0, or the status: 403 (a symlink out of DIR, not a regular
 * file or directory, permission), 404, 500. */
int http_open(const svc_http_opts *o, const char *rel, int *fd,
	      struct stat *st);

/* The same for any dir fd and open flags, as open(2) returns (-1 and
 * errno). */
int http_openat(const svc_http_opts *o, int dir, const char *rel, int flags);

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7), 30 bytes with NUL. */
void http_date(time_t t, char out[32]);
/* An HTTP-date in any of its three forms; -1 when it is none. */
time_t http_date_parse(const char *s, size_t n);
/* A strong ETag from the file's identity: "inode-size-mtime" in hex,
 * quotes included. */
void http_etag(const struct stat *st, char out[64]);

/* The request's validators, as sent (NULL when absent). */
typedef struct http_conds {
	const char *inm, *ims, *range, *if_range;
	size_t inm_len, ims_len, range_len, if_range_len;
} http_conds;

/* Whether If-None-Match (else If-Modified-Since) says the client's copy
 * is current: 304 (RFC 9110 13.2.2 order). */
bool http_not_modified(const http_conds *c, const struct stat *st,
		       const char *etag);

/* The range to send of a file of size bytes: 200 (whole: no Range, one
 * we ignore - several ranges, a syntax we do not take, an If-Range that
 * does not match), 206 with [*first, *first + *len), or 416. */
int http_range(const http_conds *c, const struct stat *st, const char *etag,
	       uint64_t *first, uint64_t *len);

/* The MIME type of name (by its extension), for Content-Type. */
const char *mime_type(const svc_mime *m, const char *name);

/* A growing buffer of HTML. */
typedef struct http_buf {
	char *p;
	size_t len, cap;
	bool oom;
} http_buf;
void http_buf_put(http_buf *b, const char *s, size_t n);
void http_buf_printf(http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s escaped for HTML text and attributes (&<>"'). */
void http_buf_html(http_buf *b, const char *s, size_t n);
/* s percent-encoded for a URI path segment (all but unreserved). */
void http_buf_uri(http_buf *b, const char *s, size_t n);

/* The listing of directory fd (rel its path under DIR, "." for DIR) as
 * an HTML page into b, sorted by query's "sort=" (name, size, time;
 * "order=desc" reverses). Returns 0 or the status (500; 403 when it
 * cannot be read). */
int http_listing(const svc_http_opts *o, int fd, const char *rel,
		 const char *query, size_t qlen, http_buf *b);

#endif
