/* url.c - proxy URLs (SCHEME://[USER[:PASS]@]HOST[:PORT]) and the base64
 * of HTTP Basic credentials. Pure. */
#include "tools/proxy/proxy.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int kind;
} schemes[] = {
	{"socks5", PROXY_SOCKS5},
	{"socks5h", PROXY_SOCKS5},
	{"socks4a", PROXY_SOCKS4A},
	{"http", PROXY_HTTP},
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out (PROXY_CRED_MAX + 1 bytes). Returns
 * 0, or SKT_EINVAL with *why. A decoded NUL is refused: the credential
 * is a C string from here on. */
static int decode(const char *s, size_t len, char *out, const char **why)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				*why = "a bad % escape";
				return SKT_EINVAL;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (n == PROXY_CRED_MAX) {
			*why = "a user name or password over 255 bytes";
			return SKT_EINVAL;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int parse_scheme(proxy_url *u, const char *text, const char **rest,
			const char **why)
{
	const char *sep = strstr(text, "://");
	for (size_t i = 0;
	     sep != NULL && i < sizeof(schemes) / sizeof(*schemes); i++) {
		size_t n = strlen(schemes[i].name);
		if ((size_t)(sep - text) == n &&
		    strncasecmp(text, schemes[i].name, n) == 0) {
			u->kind = schemes[i].kind;
			u->scheme = schemes[i].name;
			*rest = sep + 3;
			return 0;
		}
	}
	*why = "not socks5://, socks5h://, socks4a:// or http://";
	return SKT_EINVAL;
}

static int parse_userinfo(proxy_url *u, const char *s, size_t len,
			  const char **why)
{
	const char *colon = memchr(s, ':', len);
	size_t ulen = colon != NULL ? (size_t)(colon - s) : len;
	int rc = decode(s, ulen, u->user, why);
	if (rc == 0 && colon != NULL)
		rc = decode(colon + 1, len - ulen - 1, u->pass, why);
	if (rc == 0 && u->user[0] == '\0') {
		*why = "an empty user name";
		rc = SKT_EINVAL;
	}
	u->auth = rc == 0;
	return rc;
}

static int parse_port(proxy_url *u, const char *s, size_t len, const char **why)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		goto bad;
	u->port = (uint16_t)v;
	return 0;
bad:
	*why = "bad port";
	return SKT_EINVAL;
}

/* HOST[:PORT] or [V6][:PORT], with an optional "/" after. */
static int parse_hostport(proxy_url *u, const char *s, size_t len,
			  const char **why)
{
	if (len > 0 && s[len - 1] == '/')
		len--;
	if (memchr(s, '/', len) != NULL) {
		*why = "a path after the address";
		return SKT_EINVAL;
	}
	const char *host = s, *port = NULL;
	size_t hlen;
	if (len > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', len);
		if (end == NULL) {
			*why = "an unterminated [";
			return SKT_EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		size_t after = len - (size_t)(end + 1 - s);
		if (after > 0 && end[1] != ':') {
			*why = "bytes after ]";
			return SKT_EINVAL;
		}
		if (after > 0)
			port = end + 2;
	} else {
		const char *colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL)
			port = colon + 1;
	}
	if (hlen == 0) {
		*why = "no host";
		return SKT_EINVAL;
	}
	if (hlen > SKT_HOST_MAX) {
		*why = "a host name over 253 bytes";
		return SKT_EINVAL;
	}
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	u->port = PROXY_DEFAULT_PORT;
	if (port != NULL)
		return parse_port(u, port, (size_t)(s + len - port), why);
	return 0;
}

int proxy_url_parse(proxy_url *u, const char *text, const char **why)
{
	memset(u, 0, sizeof(*u));
	for (const char *c = text; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			*why = "a space or control byte";
			return SKT_EINVAL;
		}
	const char *rest;
	int rc = parse_scheme(u, text, &rest, why);
	if (rc < 0)
		return rc;
	size_t len = strlen(rest);
	const char *at = NULL;
	for (const char *c = rest; *c != '\0' && *c != '/'; c++)
		if (*c == '@')
			at = c; /* the last one: a password may hold '@' */
	if (at != NULL) {
		rc = parse_userinfo(u, rest, (size_t)(at - rest), why);
		if (rc < 0)
			return rc;
		len -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	return parse_hostport(u, rest, len, why);
}

int proxy_base64(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	if (cap == 0 || len > (cap - 1) / 4 * 3)
		return SKT_ETOOBIG;
	size_t n = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = abc[(v >> 18) & 63];
		out[n++] = abc[(v >> 12) & 63];
		out[n++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[n] = '\0';
	return (int)n;
}
