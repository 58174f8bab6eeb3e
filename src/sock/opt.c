/* opt.c - inspecting sockets (pending error, addresses, a Python-style
 * description) and socket options through one table. */
#include "internal.h"
#include "sockit/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int skt_sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -errno;
	return -err;
}

/* getsockname or getpeername into a. */
static int sock_name(int fd, skt_addr *a, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		      : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return -errno;
	if (len == 0) { /* an unnamed Unix peer may report nothing at all */
		memset(a, 0, sizeof(*a));
		return 0;
	}
	return skt_addr_from_sockaddr(a, (struct sockaddr *)&ss, len);
}

int skt_sock_local(int fd, skt_addr *a)
{
	return sock_name(fd, a, false);
}

int skt_sock_peer(int fd, skt_addr *a)
{
	return sock_name(fd, a, true);
}

/* ---- Describing a socket ---- */

static int int_sockopt(int fd, int level, int name, int *value)
{
	socklen_t len = sizeof(*value);
	if (getsockopt(fd, level, name, value, &len) != 0)
		return -errno;
	return 0;
}

static const char *family_name(int family)
{
	switch (family) {
	case AF_INET:
		return "AF_INET";
	case AF_INET6:
		return "AF_INET6";
	case AF_UNIX:
		return "AF_UNIX";
	}
	return NULL;
}

static const char *type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "SOCK_STREAM";
	case SOCK_DGRAM:
		return "SOCK_DGRAM";
	case SOCK_SEQPACKET:
		return "SOCK_SEQPACKET";
	case SOCK_RAW:
		return "SOCK_RAW";
	}
	return NULL;
}

/* A known constant's name, else the number in num (as Python does for
 * values its enums do not know). */
static const char *name_or_number(const char *name, int value, char *num,
				  size_t cap)
{
	if (name != NULL)
		return name;
	snprintf(num, cap, "%d", value);
	return num;
}

/* ", key=<address>" into buf when fd has that address; "" otherwise
 * (Python leaves laddr/raddr out when the call fails). */
static void addr_field(int fd, bool peer, char *buf, size_t cap)
{
	skt_addr a;
	buf[0] = '\0';
	if (sock_name(fd, &a, peer) != 0)
		return;
	char text[SKT_ADDRSTRLEN];
	if (skt_addr_format(&a, text, sizeof(text)) < 0)
		return;
	snprintf(buf, cap, ", %s=%s", peer ? "raddr" : "laddr", text);
}

int skt_sock_describe(int fd, char *buf, size_t cap)
{
	int family, type, proto, rc;
	if ((rc = int_sockopt(fd, SOL_SOCKET, SO_DOMAIN, &family)) < 0 ||
	    (rc = int_sockopt(fd, SOL_SOCKET, SO_TYPE, &type)) < 0 ||
	    (rc = int_sockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto)) < 0)
		return rc;
	char fnum[16], tnum[16];
	char laddr[SKT_ADDRSTRLEN + 16], raddr[SKT_ADDRSTRLEN + 16];
	addr_field(fd, false, laddr, sizeof(laddr));
	addr_field(fd, true, raddr, sizeof(raddr));
	int n = snprintf(
		buf, cap, "<socket fd=%d, family=%s, type=%s, proto=%d%s%s>",
		fd,
		name_or_number(family_name(family), family, fnum, sizeof(fnum)),
		name_or_number(type_name(type), type, tnum, sizeof(tnum)),
		proto, laddr, raddr);
	if (n < 0)
		return SKT_EINVAL;
	if ((size_t)n >= cap)
		return SKT_ETOOBIG;
	return n;
}

/* ---- Options ---- */

/* How a value travels between the API's int and the kernel's. */
enum opt_kind {
	OPT_INT,    /* as is */
	OPT_BOOL,   /* 0/1 both ways */
	OPT_LINGER, /* -1 <-> l_onoff 0; n <-> l_onoff 1, l_linger n */
	OPT_TTL     /* IP_TTL or IPV6_UNICAST_HOPS by the socket's family */
};

typedef struct opt_row {
	int level;
	int optname;
	const char *name;
	enum opt_kind kind;
} opt_row;

/* The one table behind setopt, getopt and skt_opt_name. */
static const opt_row opt_table[SKT_OPT_COUNT_] = {
	[SKT_OPT_NODELAY] = {IPPROTO_TCP, TCP_NODELAY, "nodelay", OPT_BOOL},
	[SKT_OPT_KEEPALIVE] = {SOL_SOCKET, SO_KEEPALIVE, "keepalive", OPT_BOOL},
	[SKT_OPT_KEEPIDLE] = {IPPROTO_TCP, TCP_KEEPIDLE, "keepidle", OPT_INT},
	[SKT_OPT_KEEPINTVL] = {IPPROTO_TCP, TCP_KEEPINTVL, "keepintvl",
			       OPT_INT},
	[SKT_OPT_KEEPCNT] = {IPPROTO_TCP, TCP_KEEPCNT, "keepcnt", OPT_INT},
	[SKT_OPT_REUSEADDR] = {SOL_SOCKET, SO_REUSEADDR, "reuseaddr", OPT_BOOL},
	[SKT_OPT_REUSEPORT] = {SOL_SOCKET, SO_REUSEPORT, "reuseport", OPT_BOOL},
	[SKT_OPT_SNDBUF] = {SOL_SOCKET, SO_SNDBUF, "sndbuf", OPT_INT},
	[SKT_OPT_RCVBUF] = {SOL_SOCKET, SO_RCVBUF, "rcvbuf", OPT_INT},
	[SKT_OPT_LINGER] = {SOL_SOCKET, SO_LINGER, "linger", OPT_LINGER},
	[SKT_OPT_V6ONLY] = {IPPROTO_IPV6, IPV6_V6ONLY, "v6only", OPT_BOOL},
	[SKT_OPT_BROADCAST] = {SOL_SOCKET, SO_BROADCAST, "broadcast", OPT_BOOL},
	[SKT_OPT_TTL] = {IPPROTO_IP, IP_TTL, "ttl", OPT_TTL},
};

/* The row for opt with level/optname settled for fd, or an error. */
static int opt_lookup(int fd, skt_opt opt, opt_row *row)
{
	if ((unsigned)opt >= SKT_OPT_COUNT_)
		return SKT_EINVAL;
	*row = opt_table[opt];
	if (row->kind != OPT_TTL)
		return 0;
	int family;
	int rc = int_sockopt(fd, SOL_SOCKET, SO_DOMAIN, &family);
	if (rc < 0)
		return rc;
	if (family == AF_INET6) {
		row->level = IPPROTO_IPV6;
		row->optname = IPV6_UNICAST_HOPS;
	} else if (family != AF_INET) {
		return SKT_ENOPROTOOPT;
	}
	return 0;
}

/* Unix sockets answer EOPNOTSUPP for any option outside SOL_SOCKET; to the
 * caller that is the same "does not apply to this socket". */
static int opt_errno(void)
{
	return errno == EOPNOTSUPP ? SKT_ENOPROTOOPT : -errno;
}

int skt_sock_set_opt(int fd, skt_opt opt, int value)
{
	opt_row row;
	int rc = opt_lookup(fd, opt, &row);
	if (rc < 0)
		return rc;
	int v = value;
	const void *p = &v;
	socklen_t len = sizeof(v);
	struct linger l;
	if (row.kind == OPT_BOOL) {
		v = value != 0;
	} else if (row.kind == OPT_LINGER) {
		if (value < -1)
			return SKT_EINVAL;
		l.l_onoff = value >= 0;
		l.l_linger = value >= 0 ? value : 0;
		p = &l;
		len = sizeof(l);
	}
	if (setsockopt(fd, row.level, row.optname, p, len) != 0)
		return opt_errno();
	return 0;
}

int skt_sock_opt(int fd, skt_opt opt, int *value)
{
	opt_row row;
	int rc = opt_lookup(fd, opt, &row);
	if (rc < 0)
		return rc;
	if (value == NULL)
		return SKT_EINVAL;
	int v = 0;
	struct linger l = {0};
	void *p = row.kind == OPT_LINGER ? (void *)&l : (void *)&v;
	socklen_t len = row.kind == OPT_LINGER ? sizeof(l) : sizeof(v);
	if (getsockopt(fd, row.level, row.optname, p, &len) != 0)
		return opt_errno();
	if (row.kind == OPT_LINGER)
		v = l.l_onoff ? l.l_linger : -1;
	else if (row.kind == OPT_BOOL)
		v = v != 0;
	*value = v;
	return 0;
}

const char *skt_opt_name(skt_opt opt)
{
	if ((unsigned)opt >= SKT_OPT_COUNT_)
		return NULL;
	return opt_table[opt].name;
}

int skt_sock_keepalive(int fd, int idle_s, int interval_s, int count)
{
	if (idle_s < 0 || interval_s < 0 || count < 0)
		return SKT_EINVAL;
	int rc = skt_sock_set_opt(fd, SKT_OPT_KEEPALIVE, 1);
	if (rc == 0 && idle_s > 0)
		rc = skt_sock_set_opt(fd, SKT_OPT_KEEPIDLE, idle_s);
	if (rc == 0 && interval_s > 0)
		rc = skt_sock_set_opt(fd, SKT_OPT_KEEPINTVL, interval_s);
	if (rc == 0 && count > 0)
		rc = skt_sock_set_opt(fd, SKT_OPT_KEEPCNT, count);
	return rc;
}
