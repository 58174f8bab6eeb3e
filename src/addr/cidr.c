/* cidr.c - address ranges for allow and deny lists. Pure code: no fd, no
 * resolver; every length is checked before it is used. */
#include "internal.h"
#include "sockit/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff};

/* Clear the bits below the prefix, so that matching is a plain compare. */
static void clear_host_bits(skt_cidr *c)
{
	size_t nbytes = c->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		if (bit0 >= c->prefix)
			c->addr[i] = 0;
		else if (c->prefix - bit0 < 8)
			c->addr[i] &=
				(uint8_t)(0xff << (8 - (c->prefix - bit0)));
	}
}

static int parse_prefix(const char *p, unsigned max, unsigned *out)
{
	/* At most three digits: no overflow before the range check. */
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 3 || p[n] != '\0')
		return SKT_EBADADDR;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	if (v > max)
		return SKT_EBADADDR;
	*out = v;
	return 0;
}

int skt_cidr_parse(skt_cidr *c, const char *text)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (hlen == 0 || hlen >= sizeof host)
		return SKT_EBADHOST;
	memcpy(host, text, hlen);
	host[hlen] = '\0';

	skt_cidr r = {0};
	if (inet_pton(AF_INET, host, r.addr) == 1) {
		r.family = AF_INET;
		r.prefix = 32;
	} else if (inet_pton(AF_INET6, host, r.addr) == 1) {
		r.family = AF_INET6;
		r.prefix = 128;
	} else {
		return SKT_EBADHOST;
	}
	if (slash != NULL) {
		int rc = parse_prefix(slash + 1, r.prefix, &r.prefix);
		if (rc < 0)
			return rc;
	}
	/* ::ffff:a.b.c.d/96+ is an IPv4 range written the IPv6 way. */
	if (r.family == AF_INET6 && r.prefix >= 96 &&
	    memcmp(r.addr, v4mapped_prefix, 12) == 0) {
		memmove(r.addr, r.addr + 12, 4);
		memset(r.addr + 4, 0, 12);
		r.family = AF_INET;
		r.prefix -= 96;
	}
	clear_host_bits(&r);
	*c = r;
	return 0;
}

bool skt_cidr_match(const skt_cidr *c, const skt_addr *a)
{
	skt_addr u = *a;
	skt_addr_unmap(&u);
	const uint8_t *bytes;
	int family = skt_addr_family(&u);
	if (family != c->family)
		return false;
	if (family == AF_INET)
		bytes = (const uint8_t *)&u.u.in4.sin_addr;
	else if (family == AF_INET6)
		bytes = u.u.in6.sin6_addr.s6_addr;
	else
		return false;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(bytes, c->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (bytes[full] & mask) == c->addr[full];
}

int skt_cidr_format(const skt_cidr *c, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	if (inet_ntop(c->family, c->addr, host, sizeof host) == NULL)
		return SKT_EAFNOSUPPORT;
	int n = snprintf(buf, cap, "%s/%u", host, c->prefix);
	if (n < 0 || (size_t)n >= cap)
		return SKT_ETOOBIG;
	return n;
}
