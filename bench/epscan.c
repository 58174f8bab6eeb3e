/* epscan.c - the smallest honest epoll connect scanner, as the yardstick
 * for `sockit scan` in bench/scan.sh. No library, no options beyond the
 * arguments, no adaptation to the fd limit, no rate limit: socket(),
 * connect(), one epoll set, SO_ERROR, close(). It does check for
 * self-connects (two syscalls per open port), so that its open set can be
 * compared with the others'.
 *
 *   cc -O2 -o epscan bench/epscan.c
 *   epscan IP LO HI PARALLEL TIMEOUT_MS     prints open ports, one a line
 *   epscan IP LO HI PARALLEL TIMEOUT_MS N   the same on N addresses from
 *                                           IP on: "ADDR PORT" a line
 * (bench/scan_net.sh takes the second form for the kernel's connect rate
 * over a /24).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct slot {
	int fd;
	int port;
	int64_t start_ms;
	uint32_t host; /* in host order */
};

static uint8_t open_ports[65536];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connect that reached its own socket (source port == destination
 * port on one's own address) is not a listener. */
static int self_connected(int fd)
{
	struct sockaddr_in me, peer;
	socklen_t a = sizeof(me), b = sizeof(peer);
	if (getsockname(fd, (struct sockaddr *)&me, &a) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &b) < 0)
		return 1;
	return me.sin_port == peer.sin_port &&
	       me.sin_addr.s_addr == peer.sin_addr.s_addr;
}

/* An open port's connection is reset, as sockit and nmap do, so that
 * no TIME_WAIT piles up across runs; a refused or pending one is just
 * closed. */
static void done(struct slot *s, int connected)
{
	struct linger l = {1, 0};
	if (connected)
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(s->fd);
	s->fd = -1;
}

/* The scanner's whole state. */
static struct slot *slots;
static int *free_list;
static int nfree, inflight, par, timeout, ep;
static struct sockaddr_in sa = {.sin_family = AF_INET};
static int many;     /* N given: print "ADDR PORT" as found */
static uint32_t cur; /* the address of the next probe */

/* One probe: socket, connect, watch. A connect that fails at once (not
 * EINPROGRESS) is a refusal: the port is done. */
static void start(int port)
{
	int i = free_list[--nfree];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(cur);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		free_list[nfree++] = i;
		return;
	}
	slots[i] = (struct slot){fd, port, now_ms(), cur};
	struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	inflight++;
}

static void answer(int i)
{
	struct slot *s = &slots[i];
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == 0 && !self_connected(s->fd)) {
		open_ports[s->port] = 1;
		if (many) {
			struct in_addr a = {htonl(s->host)};
			printf("%s %d\n", inet_ntoa(a), s->port);
		}
	}
	done(s, err == 0);
	free_list[nfree++] = i;
	inflight--;
}

/* Timeouts: a sweep every 50 ms is enough for whole seconds. */
static void sweep(int64_t now)
{
	for (int i = 0; i < par; i++) {
		if (slots[i].fd >= 0 && now - slots[i].start_ms >= timeout) {
			done(&slots[i], 0);
			free_list[nfree++] = i;
			inflight--;
		}
	}
}

int main(int argc, char **argv)
{
	if ((argc != 6 && argc != 7) ||
	    inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr,
			"usage: epscan IP LO HI PARALLEL TIMEOUT_MS [N]\n");
		return 2;
	}
	int lo = atoi(argv[2]), hi = atoi(argv[3]), next = lo;
	int hosts = argc == 7 ? atoi(argv[6]) : 1, done_hosts = 0;
	many = argc == 7;
	cur = ntohl(sa.sin_addr.s_addr);
	par = atoi(argv[4]);
	timeout = atoi(argv[5]);
	slots = calloc((size_t)par, sizeof(*slots));
	free_list = calloc((size_t)par, sizeof(int));
	for (int i = 0; i < par; i++) {
		slots[i].fd = -1;
		free_list[nfree++] = par - 1 - i;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev[1024];
	int64_t last_sweep = now_ms();
	while (done_hosts < hosts || inflight > 0) {
		while (done_hosts < hosts && nfree > 0) {
			start(next++);
			if (next > hi) {
				next = lo;
				done_hosts++;
				cur++;
			}
		}
		int n = epoll_wait(ep, ev, 1024, 50);
		for (int k = 0; k < n; k++)
			answer((int)ev[k].data.u32);
		int64_t now = now_ms();
		if (now - last_sweep >= 50) {
			last_sweep = now;
			sweep(now);
		}
	}
	for (int p = lo; p <= hi && !many; p++)
		if (open_ports[p])
			printf("%d\n", p);
	return 0;
}
