/* http_files.c - serve http's paths, opening, validators, conditional
 * requests and ranges (http_files.h).
 *
 * DIR is never left, by two walls: the target is decoded and any ".."
 * segment refused before a path exists (so "%2e%2e", "..%2f" and the
 * like are refused the same way), and the path is opened under DIR's fd
 * by the kernel's own rules (openat2 RESOLVE_BENEATH: no "..", no
 * absolute symlink, no symlink whose target leaves), not by comparing
 * strings - a symlink made after the check cannot move the open outside.
 */
#include "tools/serve/http_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- The target ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append segment seg[0..n) (decoded) to p->rel. */
static int segment(http_path *p, size_t *o, const char *seg, size_t n,
		   bool dotfiles)
{
	if (n == 0 || (n == 1 && seg[0] == '.'))
		return 0; /* "//" and "/./" */
	if (n == 2 && seg[0] == '.' && seg[1] == '.')
		return 400;
	if (seg[0] == '.' && !dotfiles)
		return 404; /* hidden: as if not there */
	if (*o + n + 2 > sizeof(p->rel))
		return 414;
	if (*o > 0)
		p->rel[(*o)++] = '/';
	memcpy(p->rel + *o, seg, n);
	*o += n;
	return 0;
}

int http_path_parse(http_path *p, const char *t, size_t len, bool dotfiles)
{
	memset(p, 0, sizeof(*p));
	if (len > HTTP_TARGET_MAX)
		return 414;
	/* Absolute form (RFC 9112 3.2.2): the path after the authority. */
	if (len > 7 && (memcmp(t, "http://", 7) == 0 ||
			(len > 8 && memcmp(t, "https://", 8) == 0))) {
		size_t i = t[4] == 's' ? 8 : 7;
		while (i < len && t[i] != '/' && t[i] != '?')
			i++;
		if (i == len || t[i] != '/')
			return 400;
		t += i;
		len -= i;
	}
	if (len == 0 || t[0] != '/')
		return 400;
	const char *q = memchr(t, '?', len);
	size_t plen = q != NULL ? (size_t)(q - t) : len;
	if (memchr(t, '#', len) != NULL)
		return 400; /* a fragment is never sent */
	if (q != NULL) {
		p->query = q + 1;
		p->query_len = len - plen - 1;
	}
	p->raw = t;
	p->raw_len = plen;
	p->slash = t[plen - 1] == '/';
	/* Decode into seg, one segment at a time: a "/" from "%2f" splits
	 * as a real one would (as nginx does), so "..%2f" is a ".."
	 * segment too. */
	char seg[HTTP_TARGET_MAX + 1];
	size_t sn = 0, o = 0;
	for (size_t i = 1; i <= plen; i++) {
		char c = i < plen ? t[i] : '/';
		/* The codec lets only visible bytes through; what calls this
		 * without it gets the same rule. */
		if ((unsigned char)c <= 0x20 || c == 0x7f)
			return 400;
		if (c == '%') {
			int hi = i + 2 < plen ? hexval(t[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(t[i + 2]) : -1;
			if (lo < 0)
				return 400;
			c = (char)(hi * 16 + lo);
			if (c == '\0')
				return 400;
			i += 2;
			if (c != '/') {
				seg[sn++] = c;
				continue;
			}
		}
		if (c != '/') {
			seg[sn++] = c;
			continue;
		}
		int rc = segment(p, &o, seg, sn, dotfiles);
		if (rc != 0)
			return rc;
		sn = 0;
	}
	if (o == 0)
		p->rel[o++] = '.';
	p->rel[o] = '\0';
	return 0;
}

/* ---- Opening ---- */

static int open_status(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case EXDEV:  /* RESOLVE_BENEATH: it would leave DIR */
	case ELOOP:  /* a symlink where none may be */
	case EACCES: /* permission */
	case EPERM:
	case ENXIO: /* a socket, a FIFO without a writer */
		return 403;
	default:
		return 500;
	}
}

/* Without openat2: component by component under the root, each with
 * O_NOFOLLOW unless every symlink may be followed. */
static int walk(const svc_http_opts *o, int root, const char *rel, int flags)
{
	int nofollow = o->follow_symlinks ? 0 : O_NOFOLLOW;
	int dir = dup(root);
	if (dir < 0)
		return -1;
	for (;;) {
		const char *sl = strchr(rel, '/');
		char part[256];
		size_t n = sl != NULL ? (size_t)(sl - rel) : strlen(rel);
		if (n >= sizeof(part)) {
			close(dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, rel, n);
		part[n] = '\0';
		int fd = openat(dir, part,
				(sl != NULL ? O_RDONLY | O_DIRECTORY : flags) |
					nofollow | O_CLOEXEC);
		int e = errno;
		close(dir);
		if (fd < 0 || sl == NULL) {
			errno = e;
			return fd;
		}
		dir = fd;
		rel = sl + 1;
	}
}

int http_openat(const svc_http_opts *o, int dir, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (o->follow_symlinks ? 0 : RESOLVE_BENEATH)};
	static int no_openat2; /* ENOSYS once: racy but idempotent */
	if (!no_openat2) {
		int f = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));
		if (f >= 0 || errno != ENOSYS)
			return f;
		no_openat2 = 1;
	}
	if (strcmp(rel, ".") == 0)
		return dup(dir);
	return walk(o, dir, rel, flags);
}

int http_open(const svc_http_opts *o, const char *rel, int *fd, struct stat *st)
{
	/* O_NONBLOCK: a FIFO must not stall the worker (it is refused
	 * below anyway). */
	int f = http_openat(o, o->root, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (f < 0)
		return open_status(errno);
	if (fstat(f, st) < 0) {
		close(f);
		return 500;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		close(f);
		return 403;
	}
	*fd = f;
	return 0;
}

/* ---- Dates and validators ---- */

static const char wdays[][4] = {"Sun", "Mon", "Tue", "Wed",
				"Thu", "Fri", "Sat"};
static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void http_date(time_t t, char out[32])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	/* Unsigned and reduced, so the compiler can see it fits in 32. */
	snprintf(out, 32, "%.3s, %02u %.3s %04u %02u:%02u:%02u GMT",
		 wdays[(unsigned)tm.tm_wday % 7u], (unsigned)tm.tm_mday % 100u,
		 months[(unsigned)tm.tm_mon % 12u],
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u);
}

time_t http_date_parse(const char *s, size_t n)
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* IMF-fixdate, RFC 850, asctime (RFC 9110 5.6.7). */
	static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT",
					    "%A, %d-%b-%y %H:%M:%S GMT",
					    "%a %b %e %H:%M:%S %Y"};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(buf, forms[i], &tm);
		if (end != NULL && *end == '\0')
			return timegm(&tm);
	}
	return -1;
}

void http_etag(const struct stat *st, char out[64])
{
	snprintf(out, 64, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
			 (unsigned long long)st->st_mtim.tv_nsec);
}

static bool list_has_etag(const char *v, size_t n, const char *etag)
{
	size_t el = strlen(etag);
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i < n && v[i] == '*')
			return true;
		if (i + 2 <= n && v[i] == 'W' && v[i + 1] == '/')
			i += 2; /* weak comparison (RFC 9110 13.1.2) */
		size_t s = i;
		if (i < n && v[i] == '"') {
			i++;
			while (i < n && v[i] != '"')
				i++;
			i++;
		}
		if (i > n)
			return false;
		if (i - s == el && memcmp(v + s, etag, el) == 0)
			return true;
		while (i < n && v[i] != ',')
			i++;
	}
	return false;
}

bool http_not_modified(const http_conds *c, const struct stat *st,
		       const char *etag)
{
	if (c->inm != NULL)
		return list_has_etag(c->inm, c->inm_len, etag);
	if (c->ims != NULL) {
		time_t t = http_date_parse(c->ims, c->ims_len);
		return t >= 0 && st->st_mtim.tv_sec <= t;
	}
	return false;
}

/* If-Range (RFC 9110 13.1.5): a strong ETag equal to ours, or a date
 * equal to Last-Modified; anything else sends the whole file. */
static bool if_range_ok(const http_conds *c, const struct stat *st,
			const char *etag)
{
	if (c->if_range == NULL)
		return true;
	const char *v = c->if_range;
	size_t n = c->if_range_len;
	if (n > 0 && (v[0] == '"' || v[0] == 'W'))
		return n == strlen(etag) && memcmp(v, etag, n) == 0;
	time_t t = http_date_parse(v, n);
	return t >= 0 && t == st->st_mtim.tv_sec;
}

/* Digits v[*i..) to *out; false when none or too many. */
static bool number(const char *v, size_t n, size_t *i, uint64_t *out)
{
	size_t s = *i;
	uint64_t x = 0;
	while (*i < n && v[*i] >= '0' && v[*i] <= '9') {
		if (*i - s >= 18)
			return false;
		x = x * 10 + (uint64_t)(v[(*i)++] - '0');
	}
	*out = x;
	return *i > s;
}

int http_range(const http_conds *c, const struct stat *st, const char *etag,
	       uint64_t *first, uint64_t *len)
{
	uint64_t size = (uint64_t)st->st_size;
	const char *v = c->range;
	size_t n = c->range_len;
	if (v == NULL || n < 7 || memcmp(v, "bytes=", 6) != 0 ||
	    memchr(v, ',', n) != NULL || !if_range_ok(c, st, etag))
		return 200;
	size_t i = 6;
	uint64_t a = 0, b = 0;
	bool has_a = number(v, n, &i, &a);
	if (i >= n || v[i] != '-')
		return 200;
	i++;
	bool has_b = number(v, n, &i, &b);
	if (i != n || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 200; /* not a range we take: ignored (14.2) */
	if (!has_a) {       /* the last b bytes */
		if (b == 0 || size == 0)
			return 416;
		*first = b >= size ? 0 : size - b;
		*len = size - *first;
		return 206;
	}
	if (a >= size)
		return 416;
	if (!has_b || b >= size)
		b = size - 1;
	*first = a;
	*len = b - a + 1;
	return 206;
}

/* ---- HTML buffers ---- */

void http_buf_put(http_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		while (cap - b->len < n)
			cap *= 2;
		char *p = skt_realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void http_buf_printf(http_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		http_buf_put(b, tmp,
			     (size_t)n < sizeof(tmp) ? (size_t)n
						     : sizeof(tmp) - 1);
}

void http_buf_html(http_buf *b, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		}
		if (e == NULL)
			continue;
		http_buf_put(b, s + from, i - from);
		http_buf_put(b, e, strlen(e));
		from = i + 1;
	}
	http_buf_put(b, s + from, n - from);
}

void http_buf_uri(http_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			     c == '_' || c == '~';
		if (plain) {
			http_buf_put(b, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			http_buf_put(b, e, 3);
		}
	}
}
