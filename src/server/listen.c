/* listen.c - the server's listening sockets. Each address of the options
 * is one host, or, with no host, the loopback pair 127.0.0.1 and ::1
 * (redis's `bind 127.0.0.1 -::1`: "localhost" resolves to both on most
 * systems, and a client trying ::1 first must not meet a refusal); ::1 is
 * left out silently where the host has no IPv6. Every socket of one
 * address, TCP and UDP, both families, gets one port: with port 0 the
 * first bind picks it and the others take it, or, when it is taken for
 * one of them, all start again. Then each worker gets its own socket of
 * each (SO_REUSEPORT), and LISTENING is reported for each bound address
 * and transport.
 */
#include "server/server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* Tries to find a port free for every socket of an address (port 0). */
#define PAIR_TRIES 16

/* One address of the options, resolved into what is bound. */
struct plan {
	const char *host[2];
	int family[2];
	int nh; /* hosts: 1, or 2 for the loopback pair */
	int types[2];
	int nt;            /* transports */
	int fd[2][2];      /* [host][transport]: the first worker's */
	skt_addr local[2]; /* each host's bound address */
};

static int fail_at(skt_server *srv, size_t i, int type, int family, int err)
{
	srv->o->failed_addr = i;
	srv->o->failed_transport = type;
	srv->o->failed_family = family;
	return err;
}

static void close_plan(struct plan *p)
{
	for (int h = 0; h < 2; h++)
		for (int t = 0; t < 2; t++) {
			if (p->fd[h][t] >= 0)
				skt_close(p->fd[h][t]);
			p->fd[h][t] = -1;
		}
}

/* No IPv6 on this host (not compiled in, disabled, no ::1): the optional
 * half of the loopback pair is left out. */
static bool unavailable(int err)
{
	return err == SKT_EADDRNOTAVAIL || err == SKT_EAFNOSUPPORT;
}

/* SO_REUSEPORT lets a second server of the same user bind a port that is
 * in use and silently share it. Binding first without it turns that into
 * the EADDRINUSE a user expects; a free port is then let go and bound
 * again with it. */
static int bind_one(const struct plan *p, int h, int t, const char *port,
		    bool share)
{
	skt_listen_opts lo = {.socktype = p->types[t],
			      .family = p->family[h],
			      .v6only = p->family[h] == AF_INET6};
	bool first = h == 0 && t == 0;
	skt_addr exact;
	if (!first && t > 0) {
		exact = p->local[h]; /* UDP beside TCP: the same address */
	} else if (!first) {         /* ::1 beside 127.0.0.1: the same port */
		int r = skt_addr_parse(&exact, "[::1]:1", 0);
		if (r < 0)
			return r;
		skt_addr_set_port(&exact, skt_addr_port(&p->local[0]));
	}
	if (share && !(first && strcmp(port, "0") == 0)) {
		int fd = first ? skt_listen(p->host[h], port, &lo)
			       : skt_listen_addr(&exact, &lo);
		if (fd < 0)
			return fd;
		skt_close(fd);
	}
	lo.reuseport = share;
	return first ? skt_listen(p->host[h], port, &lo)
		     : skt_listen_addr(&exact, &lo);
}

/* One try at every first socket of address i. Returns 0, 1 (try again:
 * a picked port was taken), or an error. */
static int bind_try(skt_server *srv, size_t i, struct plan *p, bool last)
{
	const skt_server_addr *a = &srv->o->addrs[i];
	bool share = srv->nw > 1;
	for (int h = 0; h < p->nh; h++) {
		for (int t = 0; t < p->nt; t++) {
			int fd = bind_one(p, h, t, a->port, share);
			if (fd >= 0 && t == 0) {
				int r = skt_sock_local(fd, &p->local[h]);
				if (r < 0) {
					skt_close(fd);
					fd = r;
				}
			}
			if (fd >= 0) {
				p->fd[h][t] = fd;
				continue;
			}
			if (h == 1 && unavailable(fd)) {
				if (p->fd[1][0] >= 0)
					skt_close(p->fd[1][0]);
				p->fd[1][0] = -1;
				p->nh = 1;
				return 0;
			}
			close_plan(p);
			if (fd == SKT_EADDRINUSE && strcmp(a->port, "0") == 0 &&
			    !(h == 0 && t == 0) && !last)
				return 1;
			return fail_at(srv, i, p->types[t], p->family[h], fd);
		}
	}
	return 0;
}

static void report(skt_server *srv, const struct plan *p)
{
	for (int h = 0; h < p->nh; h++)
		for (int t = 0; t < p->nt; t++) {
			skt_server_event ev = {.kind = SKT_SERVER_EV_LISTENING,
					       .addr = &p->local[h],
					       .transport = p->types[t]};
			skt__server_emit(srv, &ev);
		}
}

/* Hand the sockets to the workers: the first worker gets the plan's,
 * the others their own on the same addresses. */
static int hand_out(skt_server *srv, size_t i, struct plan *p)
{
	for (unsigned k = 0; k < srv->nw; k++)
		for (int h = 0; h < p->nh; h++)
			for (int t = 0; t < p->nt; t++) {
				int type = p->types[t];
				skt_listen_opts lo = {.socktype = type,
						      .reuseport = true,
						      .v6only = h == 1};
				int fd = p->fd[h][t];
				p->fd[h][t] = -1; /* the worker's now */
				if (k > 0)
					fd = skt_listen_addr(&p->local[h], &lo);
				int r = fd < 0 ? fd
					       : skt__worker_serve(
							 &srv->w[k], i * 2 + h,
							 fd,
							 type == SOCK_DGRAM);
				if (r < 0) {
					close_plan(p);
					return fail_at(srv, i, type,
						       p->family[h], r);
				}
			}
	return 0;
}

/* A Unix address: one listening socket, a duplicate of it for each
 * further worker (they all accept on it; the kernel wakes one). */
static int bind_unix(skt_server *srv, size_t i)
{
	const skt_server_addr *a = &srv->o->addrs[i];
	if (srv->o->udp)
		return fail_at(srv, i, SOCK_DGRAM, AF_UNIX, SKT_EINVAL);
	skt_listen_opts lo = {.socktype = SOCK_STREAM};
	int fd0 = skt_listen_addr(&a->unix_addr, &lo);
	if (fd0 < 0)
		return fail_at(srv, i, SOCK_STREAM, AF_UNIX, fd0);
	/* The last worker takes fd0 itself; skt__worker_serve closes what
	 * it fails to take. */
	for (unsigned k = 0; k < srv->nw; k++) {
		bool last = k + 1 == srv->nw;
		int fd = last ? fd0 : fcntl(fd0, F_DUPFD_CLOEXEC, 0);
		int r = fd < 0 ? -errno
			       : skt__worker_serve(&srv->w[k], i * 2, fd,
						   false);
		if (r < 0) {
			if (!last)
				skt_close(fd0);
			return fail_at(srv, i, SOCK_STREAM, AF_UNIX, r);
		}
	}
	skt_server_event ev = {.kind = SKT_SERVER_EV_LISTENING,
			       .addr = &a->unix_addr,
			       .transport = SOCK_STREAM};
	skt__server_emit(srv, &ev);
	return 0;
}

int skt__server_bind(skt_server *srv, size_t i)
{
	const skt_server_opts *o = srv->o;
	const skt_server_addr *a = &o->addrs[i];
	if (a->unix_addr.len > 0)
		return bind_unix(srv, i);
	struct plan p = {.nh = 1, .host = {a->host}};
	memset(p.fd, -1, sizeof(p.fd));
	if (a->host[0] == '\0') {
		p = (struct plan){.nh = 2,
				  .host = {"127.0.0.1", "::1"},
				  .family = {AF_INET, AF_INET6}};
		memset(p.fd, -1, sizeof(p.fd));
	}
	if (o->tcp)
		p.types[p.nt++] = SOCK_STREAM;
	if (o->udp)
		p.types[p.nt++] = SOCK_DGRAM;
	int nh = p.nh, r;
	for (int tries = 0;; tries++) {
		p.nh = nh;
		r = bind_try(srv, i, &p, tries == PAIR_TRIES);
		if (r != 1)
			break;
	}
	if (r == 0)
		r = hand_out(srv, i, &p);
	if (r == 0)
		report(srv, &p);
	return r;
}
