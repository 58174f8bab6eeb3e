/* sock.c - creating sockets, listening, binding and accepting.
 *
 * Every fd made here is close-on-exec and non-blocking from birth
 * (SOCK_CLOEXEC | SOCK_NONBLOCK), so no fork/exec in another thread can leak
 * it and no call here ever blocks outside a poll() bounded by a deadline.
 */
#include "sockit/sock.h"
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int skt_socket(int family, int type, int protocol)
{
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
	return fd < 0 ? -errno : fd;
}

int skt_socketpair(int type, int fds[2])
{
	int flags = SOCK_CLOEXEC | SOCK_NONBLOCK;
	if (socketpair(AF_UNIX, type | flags, 0, fds) < 0)
		return -errno;
	return 0;
}

static int set_int(int fd, int level, int name, int value)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return -errno;
	return 0;
}

static bool is_ip(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Only connection-oriented types listen(); a datagram socket is just bound. */
static bool type_listens(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

/* The options a listener needs before bind(): they change what bind()
 * accepts, so they cannot be set afterwards. */
static int listen_sockopts(int fd, int family, const skt_listen_opts *o)
{
	int r = 0;
	if (!is_ip(family))
		return 0;
	/* A restarted server must rebind while old connections sit in
	 * TIME_WAIT; servers always set it (redis anetSetReuseAddr). */
	r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (r == 0 && o->reuseport)
		r = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	/* Set IPV6_V6ONLY both ways: the default comes from the
	 * net.ipv6.bindv6only sysctl, and "*" must mean dual-stack on every
	 * host, not only where the sysctl is 0. */
	if (r == 0 && family == AF_INET6)
		r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, o->v6only ? 1 : 0);
	return r;
}

/* The file's mode is set after bind and before listen: until listen a
 * connect is refused, so no client gets in under the umask's looser bits.
 * A file this call made and could not chmod is removed again. */
static int unix_chmod(const skt_addr *a, unsigned mode)
{
	const char *path = a->u.un.sun_path;
	size_t max = a->len - offsetof(struct sockaddr_un, sun_path);
	if (max == 0 || path[0] == '\0')
		return SKT_EINVAL; /* an abstract name has no file */
	char p[sizeof(a->u.un.sun_path) + 1];
	size_t n = strnlen(path, max);
	memcpy(p, path, n);
	p[n] = '\0';
	if (chmod(p, (mode_t)(mode & 07777)) == 0)
		return 0;
	int r = -errno;
	unlink(p);
	return r;
}

static int listen_on(const skt_addr *a, const skt_listen_opts *o)
{
	int family = a->u.sa.sa_family;
	int type = o->socktype != 0 ? o->socktype : SOCK_STREAM;
	int fd = skt_socket(family, type, 0);
	if (fd < 0)
		return fd;
	int r = listen_sockopts(fd, family, o);
	/* bind() on an existing Unix socket path fails with EADDRINUSE; the
	 * file is never unlinked here, since it may belong to a live server. */
	if (r == 0 && bind(fd, &a->u.sa, a->len) < 0)
		r = -errno;
	else if (r == 0 && family == AF_UNIX && o->unix_mode != 0)
		r = unix_chmod(a, o->unix_mode);
	if (r == 0 && type_listens(type) &&
	    listen(fd, o->backlog > 0 ? o->backlog : SOMAXCONN) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int skt_listen_addr(const skt_addr *a, const skt_listen_opts *opts)
{
	skt_listen_opts zero = {0};
	if (a == NULL || a->len == 0)
		return SKT_EINVAL;
	return listen_on(a, opts != NULL ? opts : &zero);
}

/* Resolve one host (numeric when numeric is set) and bind the first
 * address that works. Returns the fd or the last address's error. */
static int listen_resolved(const char *host, const char *service, int family,
			   bool numeric, const skt_listen_opts *o)
{
	skt_addrlist l = {0};
	int type = o->socktype != 0 ? o->socktype : SOCK_STREAM;
	int flags = SKT_RESOLVE_PASSIVE | (numeric ? SKT_RESOLVE_NUMERIC : 0);
	int r = skt_resolve(&l, host, service, family, type, flags);
	if (r < 0)
		return r;
	r = SKT_ENOADDR;
	for (size_t i = 0; i < l.n; i++) {
		r = listen_on(&l.addrs[i], o);
		if (r >= 0)
			break;
	}
	skt_addrlist_fini(&l);
	return r;
}

/* Errors that say "this host has no IPv6": the kernel was built or booted
 * without it (EAFNOSUPPORT), or it has no usable IPv6 address. */
static bool no_ipv6(int err)
{
	return err == SKT_EAFNOSUPPORT || err == SKT_EPROTONOSUPPORT ||
	       err == SKT_EADDRNOTAVAIL;
}

int skt_listen(const char *host, const char *service,
	       const skt_listen_opts *opts)
{
	skt_listen_opts o = {0};
	if (opts != NULL)
		o = *opts;
	if (service == NULL || service[0] == '\0')
		service = "0";
	if (host == NULL) {
		host = o.family == AF_INET6 ? "::1" : "127.0.0.1";
		return listen_resolved(host, service, AF_UNSPEC, true, &o);
	}
	if (strcmp(host, "*") == 0 || strcmp(host, "::") == 0) {
		if (o.family == AF_INET)
			return listen_resolved("0.0.0.0", service, AF_INET,
					       true, &o);
		int fd = listen_resolved("::", service, AF_INET6, true, &o);
		if (fd >= 0 || o.family == AF_INET6 || !no_ipv6(fd))
			return fd;
		return listen_resolved("0.0.0.0", service, AF_INET, true, &o);
	}
	return listen_resolved(host, service, o.family, false, &o);
}

int skt_udp_bind(const char *host, const char *service,
		 const skt_listen_opts *opts)
{
	skt_listen_opts o = {0};
	if (opts != NULL)
		o = *opts;
	o.socktype = SOCK_DGRAM;
	return skt_listen(host, service, &o);
}

int skt_accept(int lfd, skt_addr *peer, int timeout_ms)
{
	int64_t deadline = skt__deadline(timeout_ms);
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			if (peer != NULL) {
				memset(peer, 0, sizeof(*peer));
				if (len > sizeof(peer->u))
					len = sizeof(peer->u);
				memcpy(&peer->u, &ss, len);
				peer->len = len;
			}
			return fd;
		}
		/* ECONNABORTED: a client reset the connection while it sat
		 * in the accept queue; it is gone, the listener is fine, so
		 * look for the next one (POSIX leaves it to the caller). */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int r = skt__wait(lfd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

/* Bind host NULL (127.0.0.1) and then ::1 on the port the first got. */
static int loopback_pair(const char *service, skt_listen_opts *o, int fds[2])
{
	o->family = AF_INET;
	int v4 = skt_listen(NULL, service, o);
	if (v4 < 0)
		return v4;
	skt_addr me;
	char port[8];
	int r = skt_sock_local(v4, &me);
	if (r < 0) {
		close(v4);
		return r;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)skt_addr_port(&me));
	o->family = AF_INET6;
	int v6 = skt_listen(NULL, port, o);
	if (v6 >= 0 || no_ipv6(v6)) {
		fds[0] = v4;
		fds[1] = v6;
		return v6 >= 0 ? 2 : 1;
	}
	close(v4);
	return v6;
}

/* Ephemeral ports the IPv4 bind picks may be taken on ::1 by someone else;
 * a few fresh picks find one free on both. */
#define LOOPBACK_TRIES 8

int skt_listen_loopback(const char *service, const skt_listen_opts *opts,
			int fds[2])
{
	skt_listen_opts o = {0};
	if (opts != NULL)
		o = *opts;
	fds[0] = fds[1] = -1;
	if (o.family == AF_INET || o.family == AF_INET6) {
		fds[0] = skt_listen(NULL, service, &o);
		return fds[0] < 0 ? fds[0] : 1;
	}
	bool any = service == NULL || service[0] == '\0' ||
		   strcmp(service, "0") == 0;
	int r = SKT_EADDRINUSE;
	for (int i = 0; i < LOOPBACK_TRIES; i++) {
		r = loopback_pair(any ? "0" : service, &o, fds);
		if (r >= 0 || r != SKT_EADDRINUSE || !any)
			break;
	}
	if (r < 0)
		fds[0] = fds[1] = -1;
	else if (r == 1)
		fds[1] = -1;
	return r;
}

int skt_accept_any(const int *lfds, size_t n, skt_addr *peer, int timeout_ms,
		   size_t *which)
{
	if (n == 0 || n > SKT_ACCEPT_ANY_MAX)
		return SKT_EINVAL;
	int64_t deadline = skt__deadline(timeout_ms);
	for (;;) {
		struct pollfd p[SKT_ACCEPT_ANY_MAX];
		for (size_t i = 0; i < n; i++) {
			int fd = skt_accept(lfds[i], peer, 0);
			if (fd != SKT_EAGAIN) {
				if (which != NULL)
					*which = i;
				return fd;
			}
			p[i] = (struct pollfd){.fd = lfds[i], .events = POLLIN};
		}
		int left = skt__remaining(deadline);
		if (left == 0)
			return timeout_ms == 0 ? SKT_EAGAIN : SKT_ETIMEDOUT;
		if (poll(p, n, left) < 0 && errno != EINTR)
			return -errno;
	}
}

int skt_endpoint_connect(const skt_endpoint *ep, const skt_connect_opts *o)
{
	if (ep == NULL)
		return SKT_EINVAL;
	if (ep->kind == SKT_EP_UNIX_DGRAM)
		return skt_unix_dgram_connect(&ep->unix_addr);
	if (ep->kind == SKT_EP_UNIX) {
		/* The endpoint names its family: a family filter meant for
		 * host names must not turn a Unix path into "no address". */
		skt_connect_opts uo = SKT_CONNECT_OPTS_INIT;
		if (o != NULL)
			uo = *o;
		uo.family = AF_UNSPEC;
		return skt_connect_any(&ep->unix_addr, 1, &uo);
	}
	if (ep->kind != SKT_EP_INET)
		return SKT_EINVAL;
	return skt_connect(ep->host[0] != '\0' ? ep->host : NULL,
			   ep->service[0] != '\0' ? ep->service : NULL, o);
}

int skt_endpoint_listen(const skt_endpoint *ep, const skt_listen_opts *o)
{
	if (ep == NULL)
		return SKT_EINVAL;
	if (ep->kind == SKT_EP_UNIX)
		return skt_listen_addr(&ep->unix_addr, o);
	if (ep->kind == SKT_EP_UNIX_DGRAM) {
		skt_listen_opts d = {0};
		if (o != NULL)
			d = *o;
		d.socktype = SOCK_DGRAM;
		return skt_listen_addr(&ep->unix_addr, &d);
	}
	if (ep->kind != SKT_EP_INET)
		return SKT_EINVAL;
	return skt_listen(ep->host[0] != '\0' ? ep->host : NULL,
			  ep->service[0] != '\0' ? ep->service : NULL, o);
}
