/* addr.c - socket addresses and endpoints: parse, format, compare.
 *
 * Pure code: nothing here resolves a name or keeps an fd. The only calls
 * that reach the kernel are if_nametoindex/if_indextoname, for the zone of
 * a link-local IPv6 address.
 */
#include "sockit/addr.h"
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest IP literal we accept as text: a v6 address, '%', a zone. */
#define IP_TEXT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE)
/* RFC 1035 section 2.3.4: a label is at most 63 bytes. */
#define LABEL_MAX 63
/* sun_path starts here; a Unix address no longer than this is unnamed. */
#define SUN_OFF offsetof(struct sockaddr_un, sun_path)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_digit(*s))
			return false;
	return true;
}

int skt_port_parse(const char *text, int flags)
{
	if (text == NULL || !all_digits(text))
		return SKT_EBADPORT;
	long v = 0;
	for (const char *p = text; *p != '\0'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 65535) /* stop before a long digit run can overflow */
			return SKT_EBADPORT;
	}
	if (v == 0 && !(flags & SKT_PARSE_PORT_ZERO))
		return SKT_EBADPORT;
	return (int)v;
}

/* A zone is an interface name or an index ("fe80::1%eth0", "fe80::1%2"). */
static int parse_zone(const char *zone, uint32_t *scope)
{
	if (*zone == '\0' || strlen(zone) >= IF_NAMESIZE)
		return SKT_EBADHOST;
	if (all_digits(zone)) {
		unsigned long v = strtoul(zone, NULL, 10);
		if (v == 0 || v > UINT32_MAX)
			return SKT_EBADHOST;
		*scope = (uint32_t)v;
		return 0;
	}
	unsigned idx = if_nametoindex(zone);
	if (idx == 0)
		return SKT_EBADHOST;
	*scope = idx;
	return 0;
}

int skt_addr_from_ip(skt_addr *a, const char *ip, uint16_t port)
{
	char tmp[IP_TEXT_MAX + 1];
	if (ip == NULL || strnlen(ip, sizeof(tmp)) == sizeof(tmp))
		return SKT_EBADHOST;
	strcpy(tmp, ip);
	skt_addr r;
	memset(&r, 0, sizeof(r));
	if (inet_pton(AF_INET, tmp, &r.u.in4.sin_addr) == 1) {
		r.u.in4.sin_family = AF_INET;
		r.u.in4.sin_port = htons(port);
		r.len = sizeof(r.u.in4);
		*a = r;
		return 0;
	}
	char *pct = strchr(tmp, '%');
	if (pct != NULL) {
		*pct = '\0';
		int rc = parse_zone(pct + 1, &r.u.in6.sin6_scope_id);
		if (rc < 0)
			return rc;
	}
	if (inet_pton(AF_INET6, tmp, &r.u.in6.sin6_addr) != 1)
		return SKT_EBADHOST;
	r.u.in6.sin6_family = AF_INET6;
	r.u.in6.sin6_port = htons(port);
	r.len = sizeof(r.u.in6);
	*a = r;
	return 0;
}

int skt_addr_unix(skt_addr *a, const char *path)
{
	if (path == NULL || path[0] == '\0')
		return SKT_EBADADDR;
	bool abstract = path[0] == '@';
	const char *name = abstract ? path + 1 : path;
	/* strnlen: never walk further than one byte past what could fit. */
	size_t n = strnlen(name, SKT_UNIX_PATH_MAX + 1);
	if (abstract && n == 0)
		return SKT_EBADADDR;
	if (n > SKT_UNIX_PATH_MAX)
		return SKT_ENAMETOOLONG;
	memset(a, 0, sizeof(*a));
	a->u.un.sun_family = AF_UNIX;
	/* An abstract name is sun_path[0] = 0 then the name's bytes, with no
	 * terminator: its length is part of the address (unix(7)). A path
	 * keeps its NUL inside len, as getsockname() reports it. */
	memcpy(a->u.un.sun_path + (abstract ? 1 : 0), name, n);
	a->len = (socklen_t)(SUN_OFF + 1 + n);
	return 0;
}

/* "host:port" cut into pieces that point into the caller's text. The port,
 * when present, always runs to the end of the text, so it is a C string. */
struct hostport {
	const char *host;
	size_t hlen;
	bool bracketed;
	const char *port; /* NULL when the text has none */
};

static int split_bracketed(const char *text, struct hostport *hp)
{
	const char *close = strchr(text, ']');
	if (close == NULL)
		return SKT_EBADADDR;
	hp->host = text + 1;
	hp->hlen = (size_t)(close - hp->host);
	hp->bracketed = true;
	if (close[1] == ':')
		hp->port = close + 2;
	else if (close[1] != '\0')
		return SKT_EBADADDR;
	return 0;
}

/* The forms are in addr.h's header comment. A word alone ("8080", "web")
 * is a port when the caller allows no host, unless it also allows no port
 * and the word is not all digits. */
static int split_hostport(const char *text, int flags, struct hostport *hp)
{
	memset(hp, 0, sizeof(*hp));
	if (text[0] == '\0')
		return SKT_EBADADDR;
	if (text[0] == '[')
		return split_bracketed(text, hp);
	hp->host = text;
	const char *colon = strchr(text, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two colons: an unbracketed IPv6 literal, which cannot carry a
		 * port without ambiguity ("::1:80"). */
		if (!(flags & SKT_PARSE_NO_PORT))
			return SKT_EBADADDR;
		colon = NULL; /* the whole text is the host */
	}
	if (colon != NULL) {
		hp->hlen = (size_t)(colon - text);
		hp->port = colon + 1;
	} else if ((flags & SKT_PARSE_NO_HOST) &&
		   (!(flags & SKT_PARSE_NO_PORT) || all_digits(text))) {
		hp->port = text;
	} else {
		hp->hlen = strlen(text);
	}
	return 0;
}

/* Checks shared by addresses and endpoints once the text is split. */
static int check_presence(const struct hostport *hp, int flags)
{
	if (hp->hlen == 0 && (hp->bracketed || !(flags & SKT_PARSE_NO_HOST)))
		return SKT_EBADHOST;
	if (hp->port == NULL && !(flags & SKT_PARSE_NO_PORT))
		return SKT_EBADPORT;
	return 0;
}

/* Fill a from split text: the host first, so that "name:80abc" blames
 * the name, then the port. */
static int addr_from_hostport(skt_addr *a, const struct hostport *hp, int flags)
{
	char host[IP_TEXT_MAX + 1];
	if (hp->hlen > IP_TEXT_MAX)
		return SKT_EBADHOST;
	memcpy(host, hp->host, hp->hlen);
	host[hp->hlen] = '\0';
	if (hp->bracketed && strchr(host, ':') == NULL)
		return SKT_EBADHOST; /* "[1.2.3.4]": brackets are for v6 */
	/* A port alone means loopback, as skt_listen with no host: nothing
	 * faces the network unless the text says so. */
	int rc = skt_addr_from_ip(a, hp->hlen == 0 ? "127.0.0.1" : host, 0);
	if (rc < 0 || hp->port == NULL)
		return rc;
	int port = skt_port_parse(hp->port, flags);
	if (port < 0)
		return port;
	skt_addr_set_port(a, (uint16_t)port);
	return 0;
}

int skt_addr_parse(skt_addr *a, const char *text, int flags)
{
	if (text == NULL)
		return SKT_EBADADDR;
	if (strncmp(text, "unix:", 5) == 0)
		return skt_addr_unix(a, text + 5);
	struct hostport hp;
	skt_addr tmp;
	int rc = split_hostport(text, flags, &hp);
	if (rc == 0)
		rc = check_presence(&hp, flags);
	if (rc == 0)
		rc = addr_from_hostport(&tmp, &hp, flags);
	if (rc == 0)
		*a = tmp; /* a is left alone on error */
	return rc;
}

int skt_addr_from_sockaddr(skt_addr *a, const struct sockaddr *sa,
			   socklen_t len)
{
	if (sa == NULL || len < sizeof(sa_family_t) || len > sizeof(a->u.ss))
		return SKT_EINVAL;
	socklen_t want;
	switch (sa->sa_family) {
	case AF_INET:
		want = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		want = sizeof(struct sockaddr_in6);
		break;
	case AF_UNIX:
		if (len > sizeof(struct sockaddr_un))
			return SKT_EINVAL;
		want = len; /* the length is part of an abstract name */
		break;
	default:
		return SKT_EAFNOSUPPORT;
	}
	if (len < want)
		return SKT_EINVAL;
	memset(a, 0, sizeof(*a));
	memcpy(&a->u, sa, want);
	a->len = want;
	return 0;
}

/* ---- Formatting ---- */

/* Copy n bytes of text and a NUL into the caller's buffer, or refuse. */
static int put_out(const char *s, size_t n, char *buf, size_t cap)
{
	if (buf == NULL || n >= cap)
		return SKT_ETOOBIG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
}

/* Unix names are bytes, not text: escape what a terminal or a log line
 * should not receive raw. out must hold 4 * n bytes. */
static size_t put_escaped(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	return o;
}

/* The name inside a Unix address: *n bytes at *name, abstract or not.
 * The length field is the caller's to set, so it is clamped to sun_path. */
static void unix_name(const skt_addr *a, const char **name, size_t *n,
		      bool *abstract)
{
	size_t len = a->len > sizeof(a->u.un) ? sizeof(a->u.un) : a->len;
	size_t sz = len > SUN_OFF ? len - SUN_OFF : 0;
	const char *p = a->u.un.sun_path;
	*abstract = sz > 0 && p[0] == '\0';
	*name = *abstract ? p + 1 : p;
	*n = *abstract ? sz - 1 : strnlen(p, sz);
}

static int format_unix(const skt_addr *a, char *buf, size_t cap)
{
	char tmp[SKT_ADDRSTRLEN];
	const char *name;
	size_t n;
	bool abstract;
	unix_name(a, &name, &n, &abstract);
	memcpy(tmp, "unix:@", 6);
	size_t o = abstract ? 6 : 5;
	o += put_escaped(tmp + o, name, n);
	return put_out(tmp, o, buf, cap);
}

/* The host of an IP address, with "%zone" for a scoped IPv6 address: the
 * interface's name while it exists, else its index. out holds
 * IP_TEXT_MAX + 1 bytes. */
static int ip_host(const skt_addr *a, char *out)
{
	int fam = skt_addr_family(a);
	if (fam == AF_INET && a->len >= sizeof(a->u.in4)) {
		inet_ntop(AF_INET, &a->u.in4.sin_addr, out, IP_TEXT_MAX + 1);
		return (int)strlen(out);
	}
	if (fam != AF_INET6 || a->len < sizeof(a->u.in6))
		return SKT_EAFNOSUPPORT;
	inet_ntop(AF_INET6, &a->u.in6.sin6_addr, out, INET6_ADDRSTRLEN);
	size_t n = strlen(out);
	uint32_t scope = a->u.in6.sin6_scope_id;
	if (scope == 0)
		return (int)n;
	char zone[IF_NAMESIZE + 10];
	if (if_indextoname(scope, zone) == NULL)
		snprintf(zone, sizeof(zone), "%u", (unsigned)scope);
	n += (size_t)snprintf(out + n, IP_TEXT_MAX + 1 - n, "%%%s", zone);
	return (int)n;
}

int skt_addr_format(const skt_addr *a, char *buf, size_t cap)
{
	int fam = skt_addr_family(a);
	if (fam == AF_UNSPEC)
		return put_out("-", 1, buf, cap);
	if (fam == AF_UNIX)
		return format_unix(a, buf, cap);
	char host[IP_TEXT_MAX + 1];
	int rc = ip_host(a, host);
	if (rc < 0)
		return rc;
	char tmp[SKT_ADDRSTRLEN];
	int n = snprintf(tmp, sizeof(tmp),
			 fam == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
			 (unsigned)skt_addr_port(a));
	return put_out(tmp, (size_t)n, buf, cap);
}

int skt_addr_format_host(const skt_addr *a, char *buf, size_t cap)
{
	char host[IP_TEXT_MAX + 1];
	int rc = a == NULL ? SKT_EAFNOSUPPORT : ip_host(a, host);
	if (rc < 0)
		return rc;
	return put_out(host, (size_t)rc, buf, cap);
}

/* ---- Accessors ---- */

int skt_addr_family(const skt_addr *a)
{
	if (a == NULL || a->len < sizeof(sa_family_t))
		return AF_UNSPEC;
	return a->u.sa.sa_family;
}

uint16_t skt_addr_port(const skt_addr *a)
{
	switch (skt_addr_family(a)) {
	case AF_INET:
		return ntohs(a->u.in4.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	}
	return 0;
}

void skt_addr_set_port(skt_addr *a, uint16_t port)
{
	switch (skt_addr_family(a)) {
	case AF_INET:
		a->u.in4.sin_port = htons(port);
		break;
	case AF_INET6:
		a->u.in6.sin6_port = htons(port);
		break;
	}
}

static bool unix_equal(const skt_addr *a, const skt_addr *b)
{
	const char *na, *nb;
	size_t la, lb;
	bool aa, ab;
	unix_name(a, &na, &la, &aa);
	unix_name(b, &nb, &lb, &ab);
	/* A path compares up to its NUL, whether or not len counted it. */
	return aa == ab && la == lb && memcmp(na, nb, la) == 0;
}

bool skt_addr_equal(const skt_addr *a, const skt_addr *b)
{
	int fam = skt_addr_family(a);
	if (fam != skt_addr_family(b))
		return false;
	switch (fam) {
	case AF_UNSPEC:
		return true;
	case AF_INET:
		return a->u.in4.sin_port == b->u.in4.sin_port &&
		       a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
	case AF_INET6:
		/* sin6_flowinfo is per-packet, not part of who the peer is. */
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	case AF_UNIX:
		return unix_equal(a, b);
	}
	return a->len == b->len && a->len <= sizeof(a->u) &&
	       memcmp(&a->u, &b->u, a->len) == 0;
}

bool skt_addr_unmap(skt_addr *a)
{
	if (skt_addr_family(a) != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr))
		return false;
	skt_addr v4 = {.len = sizeof(struct sockaddr_in)};
	v4.u.in4.sin_family = AF_INET;
	v4.u.in4.sin_port = a->u.in6.sin6_port;
	memcpy(&v4.u.in4.sin_addr, &a->u.in6.sin6_addr.s6_addr[12], 4);
	*a = v4;
	return true;
}

/* ---- Endpoints ---- */

static bool is_label_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* A host name's shape (RFC 1123 with '_', which real zones contain): dot
 * separated labels of 1..63 bytes, an optional final dot, no label starting
 * with '-' (so no name can pass for a command-line option). "*" is the
 * wildcard skt_listen knows. */
static bool valid_hostname(const char *h, size_t n)
{
	if (n == 0 || n > SKT_HOST_MAX)
		return false;
	if (n == 1 && h[0] == '*')
		return true;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!is_label_char(h[i]) || (label == 0 && h[i] == '-'))
			return false;
		if (++label > LABEL_MAX)
			return false;
	}
	return true;
}

/* An IPv6 literal with an optional zone, checked for shape only: whether
 * the interface exists is for resolution to say. */
static bool valid_ip6(const char *h, size_t n)
{
	char tmp[IP_TEXT_MAX + 1];
	if (n > IP_TEXT_MAX)
		return false;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	char *pct = strchr(tmp, '%');
	if (pct != NULL) {
		*pct = '\0';
		size_t zn = strlen(pct + 1);
		if (zn == 0 || zn >= IF_NAMESIZE)
			return false;
		for (const char *z = pct + 1; *z != '\0'; z++)
			if (!is_label_char(*z) && *z != '.')
				return false;
	}
	struct in6_addr v6;
	return inet_pton(AF_INET6, tmp, &v6) == 1;
}

/* Service names as in services(5) ("http", "sql-net", "kerberos-adm"),
 * numbers as skt_port_parse, stored in canonical decimal. */
static int check_service(char *out, const char *s, int flags)
{
	if (is_digit(s[0])) {
		int port = skt_port_parse(s, flags);
		if (port < 0)
			return port;
		snprintf(out, SKT_SERVICE_MAX + 1, "%d", port);
		return 0;
	}
	size_t n = strnlen(s, SKT_SERVICE_MAX + 1);
	if (!is_alpha(s[0]) || n > SKT_SERVICE_MAX)
		return SKT_EBADPORT;
	for (size_t i = 0; i < n; i++)
		if (!is_label_char(s[i]) && s[i] != '+' && s[i] != '.')
			return SKT_EBADPORT;
	memcpy(out, s, n + 1);
	return 0;
}

static int ep_fill(skt_endpoint *ep, const struct hostport *hp, int flags)
{
	int rc = check_presence(hp, flags);
	if (rc < 0)
		return rc;
	skt_endpoint r;
	memset(&r, 0, sizeof(r));
	r.kind = SKT_EP_INET;
	if (hp->hlen > 0) {
		bool v6 = hp->bracketed || memchr(hp->host, ':', hp->hlen);
		if (v6 ? !valid_ip6(hp->host, hp->hlen)
		       : !valid_hostname(hp->host, hp->hlen))
			return SKT_EBADHOST;
		memcpy(r.host, hp->host, hp->hlen);
	}
	if (hp->port != NULL &&
	    (rc = check_service(r.service, hp->port, flags)) < 0)
		return rc;
	*ep = r;
	return 0;
}

static int ep_unix(skt_endpoint *ep, const char *path, int kind)
{
	skt_addr a;
	int rc = skt_addr_unix(&a, path);
	if (rc < 0)
		return rc;
	memset(ep, 0, sizeof(*ep));
	ep->kind = kind;
	ep->unix_addr = a;
	return 0;
}

/* "unix:PATH" or "unix-dgram:PATH": the endpoint kind and where the path
 * starts, or 0 for neither. */
static int unix_prefix(const char *text, size_t *skip)
{
	if (strncmp(text, "unix:", 5) == 0) {
		*skip = 5;
		return SKT_EP_UNIX;
	}
	if (strncmp(text, "unix-dgram:", 11) == 0) {
		*skip = 11;
		return SKT_EP_UNIX_DGRAM;
	}
	return 0;
}

int skt_endpoint_parse(skt_endpoint *ep, const char *text, int flags)
{
	if (text == NULL)
		return SKT_EBADADDR;
	size_t skip;
	int kind = unix_prefix(text, &skip);
	if (kind != 0)
		return ep_unix(ep, text + skip, kind);
	struct hostport hp;
	int rc = split_hostport(text, flags, &hp);
	if (rc < 0)
		return rc;
	return ep_fill(ep, &hp, flags);
}

int skt_endpoint_set(skt_endpoint *ep, const char *host, const char *service,
		     int flags)
{
	bool no_service = service == NULL || service[0] == '\0';
	size_t skip;
	int kind = host != NULL ? unix_prefix(host, &skip) : 0;
	if (kind != 0)
		return no_service ? ep_unix(ep, host + skip, kind)
				  : SKT_EBADADDR;
	struct hostport hp;
	memset(&hp, 0, sizeof(hp));
	if (host != NULL && host[0] == '[') {
		int rc = split_bracketed(host, &hp);
		if (rc == 0 && hp.port != NULL)
			rc = SKT_EBADADDR; /* "[::1]:80" is not a host */
		if (rc < 0)
			return rc;
	} else if (host != NULL) {
		hp.host = host;
		/* One byte past the limit is enough to reject it. */
		hp.hlen = strnlen(host, SKT_HOST_MAX + 1);
	}
	hp.port = no_service ? NULL : service;
	return ep_fill(ep, &hp, flags);
}
