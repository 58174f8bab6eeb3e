/* url.c - the http:// and https:// URLs of `sockit http` (RFC 3986), and
 * the Location of a redirect resolved against the URL that answered
 * (RFC 3986 5.2, RFC 9110 10.2.2). Pure code: no fd, no allocation.
 *
 * Deliberately small: a URL is scheme "://" authority [path] [?query]
 * [#fragment]; the fragment is dropped (it never goes on the wire), a
 * user:password@ is refused rather than sent in the clear by surprise, and
 * a space or control byte anywhere is an error, not something to repair.
 */
#include "tools/http/httpc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool bad_byte(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

static int fail(const char **why, const char *text)
{
	*why = text;
	return SKT_EINVAL;
}

/* authority = host [":" port], host a name, an IPv4 literal or [IPv6]. */
static int authority(httpc_url *u, const char *a, size_t n, const char **why)
{
	if (n == 0)
		return fail(why, "no host");
	if (memchr(a, '@', n) != NULL)
		return fail(why, "credentials in the URL (give -H "
				 "'Authorization: ...' instead)");
	if (n >= sizeof(u->authority))
		return fail(why, "the host is too long");
	memcpy(u->authority, a, n);
	u->authority[n] = '\0';
	const char *hend, *colon = NULL;
	const char *h = a;
	if (a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (close == NULL)
			return fail(why, "an unterminated '['");
		h = a + 1;
		hend = close;
		if (close + 1 < a + n) {
			if (close[1] != ':')
				return fail(why, "bad host");
			colon = close + 1;
		}
	} else {
		colon = memchr(a, ':', n);
		hend = colon != NULL ? colon : a + n;
	}
	size_t hl = (size_t)(hend - h);
	if (hl == 0 || hl > SKT_HOST_MAX)
		return fail(why, "no host");
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	u->port = u->https ? 443 : 80;
	u->port_given = false;
	if (colon != NULL) {
		const char *p = colon + 1;
		size_t pl = (size_t)(a + n - p);
		unsigned v = 0;
		if (pl == 0 || pl > 5)
			return fail(why, "bad port");
		for (size_t i = 0; i < pl; i++) {
			if (p[i] < '0' || p[i] > '9')
				return fail(why, "bad port");
			v = v * 10 + (unsigned)(p[i] - '0');
		}
		if (v == 0 || v > 65535)
			return fail(why, "bad port");
		u->port = (uint16_t)v;
		u->port_given = true;
	}
	return 0;
}

/* path [?query], without the fragment, into u->target. */
static int set_target(httpc_url *u, const char *p, size_t n, const char **why)
{
	const char *hash = memchr(p, '#', n);
	if (hash != NULL)
		n = (size_t)(hash - p);
	bool slash = n == 0 || p[0] != '/';
	if (n + slash + 1 > sizeof(u->target))
		return fail(why, "too long");
	size_t o = 0;
	if (slash)
		u->target[o++] = '/';
	memcpy(u->target + o, p, n);
	u->target[o + n] = '\0';
	return 0;
}

int httpc_url_parse(httpc_url *u, const char *text, const char **why)
{
	size_t len = strlen(text);
	if (len >= HTTPC_URL_MAX)
		return fail(why, "too long");
	for (size_t i = 0; i < len; i++)
		if (bad_byte((unsigned char)text[i]))
			return fail(why, "a space or control byte");
	memset(u, 0, sizeof(*u));
	const char *rest;
	if (strncasecmp(text, "http://", 7) == 0) {
		rest = text + 7;
	} else if (strncasecmp(text, "https://", 8) == 0) {
		u->https = true;
		rest = text + 8;
	} else {
		return fail(why, "not http:// or https://");
	}
	size_t an = strcspn(rest, "/?#");
	int rc = authority(u, rest, an, why);
	if (rc != 0)
		return rc;
	return set_target(u, rest + an, strlen(rest + an), why);
}

/* RFC 3986 5.2.4, in place on a path that starts with '/': "." and ".."
 * segments go, ".." taking the segment before it. The query is kept. */
static void remove_dots(char *t)
{
	char *q = strchr(t, '?');
	size_t plen = q != NULL ? (size_t)(q - t) : strlen(t);
	char out[HTTPC_URL_MAX];
	size_t o = 0, i = 0;
	while (i < plen) {
		/* t[i] is '/': the segment runs to the next '/'. */
		size_t j = i + 1;
		while (j < plen && t[j] != '/')
			j++;
		size_t sl = j - i - 1;
		const char *s = t + i + 1;
		bool last = j == plen;
		if (sl == 1 && s[0] == '.') {
			if (last)
				out[o++] = '/';
		} else if (sl == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			if (last)
				out[o++] = '/';
		} else {
			memcpy(out + o, t + i, j - i);
			o += j - i;
		}
		i = j;
	}
	if (o == 0)
		out[o++] = '/';
	size_t ql = q != NULL ? strlen(q) : 0;
	memcpy(out + o, q != NULL ? q : "", ql);
	out[o + ql] = '\0';
	memcpy(t, out, o + ql + 1);
}

int httpc_url_resolve(httpc_url *out, const httpc_url *base, const char *loc,
		      size_t loc_len, const char **why)
{
	char text[HTTPC_URL_MAX];
	if (loc_len == 0)
		return fail(why, "an empty Location");
	if (loc_len >= sizeof(text))
		return fail(why, "too long");
	memcpy(text, loc, loc_len);
	text[loc_len] = '\0';
	for (size_t i = 0; i < loc_len; i++)
		if (bad_byte((unsigned char)text[i]))
			return fail(why, "a space or control byte");
	size_t scheme = strcspn(text, ":/?#");
	if (text[scheme] == ':')
		return httpc_url_parse(out, text, why);
	*out = *base;
	int rc;
	if (text[0] == '/' && text[1] == '/') {
		const char *a = text + 2;
		size_t an = strcspn(a, "/?#");
		if ((rc = authority(out, a, an, why)) != 0)
			return rc;
		rc = set_target(out, a + an, strlen(a + an), why);
	} else if (text[0] == '/') {
		rc = set_target(out, text, loc_len, why);
	} else if (text[0] == '?') {
		char t2[HTTPC_URL_MAX];
		size_t pl = strcspn(base->target, "?");
		if (pl + loc_len >= sizeof(t2))
			return fail(why, "too long");
		memcpy(t2, base->target, pl);
		memcpy(t2 + pl, text, loc_len + 1);
		rc = set_target(out, t2, pl + loc_len, why);
	} else if (text[0] == '#') {
		return 0;
	} else {
		/* Relative: the base's directory, then loc. */
		size_t pl = strcspn(base->target, "?");
		while (pl > 0 && base->target[pl - 1] != '/')
			pl--;
		if (pl + loc_len + 1 > sizeof(out->target))
			return fail(why, "too long");
		memcpy(out->target, base->target, pl);
		memcpy(out->target + pl, text, loc_len + 1);
		char *hash = strchr(out->target, '#');
		if (hash != NULL)
			*hash = '\0';
		rc = 0;
	}
	if (rc == 0)
		remove_dots(out->target);
	return rc;
}

int httpc_url_format(const httpc_url *u, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s://%s%s", u->https ? "https" : "http",
			 u->authority, u->target);
	return n < 0 || (size_t)n >= cap ? SKT_ETOOBIG : n;
}
