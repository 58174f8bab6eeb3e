/* epoll_echo.c - the hand-written reference echo server of bench/echo:
 * plain C, edge-triggered epoll, no library.
 *
 *   epoll_echo PORT
 *
 * What a careful programmer writes by hand: each connection registered
 * once with EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, reads until a short
 * read or EAGAIN into one static 64 KiB buffer, writes the bytes straight
 * back, and keeps only what the kernel did not take in a per-connection
 * buffer, sent when EPOLLOUT says there is room. TCP_NODELAY, like every
 * server in the comparison.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	int fd;
	char *pend; /* bytes the kernel did not take yet */
	size_t plen, pcap;
};

static char buf[65536];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void drop(struct conn *c)
{
	close(c->fd);
	free(c->pend);
	free(c);
}

static int keep(struct conn *c, const char *p, size_t n)
{
	if (c->plen + n > c->pcap) {
		size_t cap = c->pcap ? c->pcap * 2 : 65536;
		while (cap < c->plen + n)
			cap *= 2;
		char *q = realloc(c->pend, cap);
		if (q == NULL)
			return -1;
		c->pend = q;
		c->pcap = cap;
	}
	memcpy(c->pend + c->plen, p, n);
	c->plen += n;
	return 0;
}

/* Returns -1 when the connection must go. */
static int flush(struct conn *c)
{
	size_t off = 0;
	while (off < c->plen) {
		ssize_t n =
			send(c->fd, c->pend + off, c->plen - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		off += (size_t)n;
	}
	memmove(c->pend, c->pend + off, c->plen - off);
	c->plen -= off;
	return 0;
}

static int echo(struct conn *c, const char *p, size_t n)
{
	if (c->plen == 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
	return n > 0 ? keep(c, p, n) : 0;
}

static int on_readable(struct conn *c, int rdhup)
{
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		if (echo(c, buf, (size_t)n) < 0)
			return -1;
		if ((size_t)n < sizeof(buf) && !rdhup)
			return 0; /* drained: the next arrival is a new edge */
	}
}

static void on_accept(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		c->fd = fd;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT |
						   EPOLLRDHUP | EPOLLET,
					 .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: epoll_echo PORT\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int lfd =
		socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)atoi(argv[1])),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 4096) < 0) {
		perror("epoll_echo: listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	static struct epoll_event evs[1024];
	while (!stop) {
		int n = epoll_wait(ep, evs, 1024, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			uint32_t e = evs[i].events;
			if (c == NULL) {
				on_accept(ep, lfd);
				continue;
			}
			int bad = 0;
			if ((e & EPOLLOUT) && c->plen > 0)
				bad = flush(c);
			if (!bad &&
			    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				bad = on_readable(c, e & EPOLLRDHUP);
			if (bad)
				drop(c);
		}
	}
	close(ep);
	close(lfd);
	return 0;
}
