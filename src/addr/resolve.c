/* resolve.c - names to addresses and back, services, the local host name.
 *
 * Everything here goes through the C library's resolver (getaddrinfo and
 * friends, so /etc/hosts, nsswitch.conf and resolv.conf apply) and may
 * block for as long as it does.
 */
#include "internal.h"
#include "sockit/addr.h"

#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* glibc's services entries are small; a few aliases fit in 1 KiB. The
 * scratch buffer doubles on ERANGE up to this, then gives up. */
#define SERV_BUF_MAX 65536

static int ai_flags(int flags)
{
	/* No AI_ADDRCONFIG: it drops ::1 and 127.0.0.1 on a host whose only
	 * interface is loopback (a container, a fresh network namespace),
	 * exactly where loopback is all there is to reach. */
	int f = 0;
	if (flags & SKT_RESOLVE_PASSIVE)
		f |= AI_PASSIVE;
	if (flags & SKT_RESOLVE_NUMERIC)
		f |= AI_NUMERICHOST;
	if (flags & SKT_RESOLVE_CANON)
		f |= AI_CANONNAME;
	return f;
}

/* Copy getaddrinfo's answer into l, dropping duplicates (a hosts file
 * that lists an address twice, or one address per protocol) and families
 * sockit cannot connect to. */
static int collect(skt_addrlist *l, const struct addrinfo *res)
{
	size_t cap = 0;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		cap++;
	l->addrs = skt_calloc(cap, sizeof(skt_addr));
	if (l->addrs == NULL)
		return SKT_ENOMEM;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		skt_addr a;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (skt_addr_from_sockaddr(&a, ai->ai_addr, ai->ai_addrlen) < 0)
			continue;
		bool dup = false;
		for (size_t i = 0; i < l->n && !dup; i++)
			dup = skt_addr_equal(&l->addrs[i], &a);
		if (!dup)
			l->addrs[l->n++] = a;
	}
	return l->n > 0 ? 0 : SKT_EAI_NONAME;
}

static int copy_canon(skt_addrlist *l, const char *name)
{
	if (name == NULL)
		return 0;
	size_t n = strlen(name);
	l->canonname = skt_malloc(n + 1);
	if (l->canonname == NULL)
		return SKT_ENOMEM;
	memcpy(l->canonname, name, n + 1);
	return 0;
}

int skt_resolve(skt_addrlist *out, const char *host, const char *service,
		int family, int socktype, int flags)
{
	if (out == NULL)
		return SKT_EINVAL;
	memset(out, 0, sizeof(*out));
	/* An endpoint stores an absent part as "", getaddrinfo wants NULL. */
	if (host != NULL && host[0] == '\0')
		host = NULL;
	if (service != NULL && service[0] == '\0')
		service = NULL;
	if (host == NULL && service == NULL)
		return SKT_EINVAL;
	/* getaddrinfo takes "99999" and wraps it to 34463: check digits here
	 * (0 stays valid: a listener's "any port"). */
	if (service != NULL && service[0] >= '0' && service[0] <= '9' &&
	    skt_port_parse(service, SKT_PARSE_PORT_ZERO) < 0)
		return SKT_EBADPORT;
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = socktype == 0 ? SOCK_STREAM : socktype,
		.ai_flags = ai_flags(flags),
	};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		return skt_eai_to_err(rc); /* reads errno for EAI_SYSTEM */
	rc = collect(out, res);
	if (rc == 0 && (flags & SKT_RESOLVE_CANON))
		rc = copy_canon(out, res->ai_canonname);
	freeaddrinfo(res);
	if (rc < 0) {
		skt_addrlist_fini(out);
		return rc;
	}
	return out->n > INT_MAX ? INT_MAX : (int)out->n;
}

void skt_addrlist_fini(skt_addrlist *l)
{
	if (l == NULL)
		return;
	skt_free(l->addrs);
	skt_free(l->canonname);
	memset(l, 0, sizeof(*l));
}

int skt_resolve_reverse(const skt_addr *a, char *host, size_t cap, int flags)
{
	int fam = skt_addr_family(a);
	if (fam != AF_INET && fam != AF_INET6)
		return SKT_EAFNOSUPPORT;
	/* NI_NAMEREQD: without it getnameinfo answers "127.0.0.1" for an
	 * address with no name, and the caller could not tell. */
	int ni = (flags & SKT_RESOLVE_NUMERIC) ? NI_NUMERICHOST : NI_NAMEREQD;
	char name[NI_MAXHOST];
	int rc = getnameinfo(&a->u.sa, a->len, name, sizeof(name), NULL, 0, ni);
	if (rc != 0)
		return skt_eai_to_err(rc);
	rc = skt__strlcpy(host, name, cap);
	return rc < 0 ? rc : (int)strlen(name);
}

int skt_hostname(char *buf, size_t cap)
{
	char name[HOST_NAME_MAX + 1];
	if (gethostname(name, sizeof(name)) < 0)
		return -errno;
	name[HOST_NAME_MAX] = '\0'; /* POSIX leaves truncation unterminated */
	int rc = skt__strlcpy(buf, name, cap);
	return rc < 0 ? rc : (int)strlen(name);
}

int skt_fqdn(char *buf, size_t cap)
{
	char name[HOST_NAME_MAX + 1];
	int rc = skt_hostname(name, sizeof(name));
	if (rc < 0)
		return rc;
	struct addrinfo hints = {.ai_flags = AI_CANONNAME};
	struct addrinfo *res = NULL;
	const char *best = name;
	/* Any resolver failure just means it knows no better than the host
	 * name (Python's getfqdn behaves the same way). */
	if (getaddrinfo(name, NULL, &hints, &res) == 0 &&
	    res->ai_canonname != NULL && res->ai_canonname[0] != '\0')
		best = res->ai_canonname;
	rc = skt__strlcpy(buf, best, cap);
	if (rc == 0)
		rc = (int)strlen(best);
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

static const char *proto_name(int socktype)
{
	if (socktype == 0 || socktype == SOCK_STREAM)
		return "tcp";
	if (socktype == SOCK_DGRAM)
		return "udp";
	return NULL;
}

/* getservbyname_r or getservbyport_r (name NULL) into name_out/port_out,
 * retrying with a larger scratch buffer while the entry does not fit.
 * Returns 0, SKT_EAI_SERVICE, SKT_ETOOBIG or SKT_ENOMEM. */
static int serv_lookup(const char *name, uint16_t port, const char *proto,
		       char *name_out, size_t cap, uint16_t *port_out)
{
	char stack[1024];
	char *buf = stack;
	size_t sz = sizeof(stack);
	int rc;
	struct servent se, *found = NULL;
	for (;;) {
		rc = name != NULL ? getservbyname_r(name, proto, &se, buf, sz,
						    &found)
				  : getservbyport_r(htons(port), proto, &se,
						    buf, sz, &found);
		if (rc != ERANGE || sz >= SERV_BUF_MAX)
			break;
		if (buf != stack)
			skt_free(buf);
		sz *= 2;
		if ((buf = skt_malloc(sz)) == NULL)
			return SKT_ENOMEM;
	}
	if (rc != 0 || found == NULL)
		rc = SKT_EAI_SERVICE;
	else if (port_out != NULL)
		*port_out = ntohs((uint16_t)found->s_port);
	else
		rc = skt__strlcpy(name_out, found->s_name, cap);
	if (buf != stack)
		skt_free(buf);
	return rc;
}

int skt_service_port(const char *name, int socktype)
{
	const char *proto = proto_name(socktype);
	if (name == NULL || name[0] == '\0' || proto == NULL)
		return SKT_EAI_SERVICE;
	if (name[0] >= '0' && name[0] <= '9') {
		int port = skt_port_parse(name, SKT_PARSE_PORT_ZERO);
		return port < 0 ? SKT_EAI_SERVICE : port;
	}
	uint16_t port;
	int rc = serv_lookup(name, 0, proto, NULL, 0, &port);
	return rc < 0 ? rc : port;
}

int skt_service_name(uint16_t port, int socktype, char *buf, size_t cap)
{
	const char *proto = proto_name(socktype);
	if (proto == NULL)
		return SKT_EAI_SERVICE;
	int rc = serv_lookup(NULL, port, proto, buf, cap, NULL);
	return rc < 0 ? rc : (int)strlen(buf);
}

int skt_service_ports(uint16_t *out, size_t n, int socktype)
{
	const char *proto = proto_name(socktype);
	if (proto == NULL || (out == NULL && n > 0))
		return SKT_EINVAL;
	/* Seen ports, so an entry listed twice (aliases, tcp and udp lines
	 * that share a port) counts once. */
	uint64_t seen[65536 / 64] = {0};
	char buf[1024];
	struct servent se, *e;
	size_t k = 0;
	setservent(0);
	while (k < n && getservent_r(&se, buf, sizeof(buf), &e) == 0 &&
	       e != NULL) {
		uint16_t port = ntohs((uint16_t)e->s_port);
		if (port == 0 || strcmp(e->s_proto, proto) != 0 ||
		    (seen[port >> 6] >> (port & 63) & 1))
			continue;
		seen[port >> 6] |= (uint64_t)1 << (port & 63);
		out[k++] = port;
	}
	endservent();
	return (int)k;
}
