/* echo_load.c - the load generator of bench/echo: N connections on one
 * edge-triggered epoll loop, each keeping DEPTH messages of SIZE bytes in
 * flight (1: ping-pong), every echoed byte checked.
 *
 *   echo_load -p PORT [-c CONNS] [-s SIZE] [-d DEPTH] [-t SECONDS]
 *             [-w WARMUP_S] [-P SERVER_PID]
 *
 * Prints one line of key=value: msgs (completed in the measured window),
 * rate (messages/s), p50_us and p99_us (send to full echo), srv_cpu_s and
 * cpu_us_per_msg (server utime+stime over the window, from
 * /proc/PID/stat, when -P is given), load_cpu (this process's CPU share:
 * near 1.0 means the generator, not the server, was the limit), errors.
 *
 * Each connection's byte stream is a slice of one pseudo-random pattern
 * (offset per connection), so sending is one send() of a contiguous slice
 * for however many messages are due, and checking is one memcmp per read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PLEN 65521   /* prime: messages never line up with the pattern */
#define RBUF 65520   /* <= PLEN: one contiguous slice of the pattern */
#define HIST 1000000 /* 1 us buckets up to 1 s; the last one is "more" */

struct conn {
	int fd;
	uint32_t phase;
	uint64_t want, sent, got, done;
	int64_t *ts; /* send time of outstanding messages, ring of depth */
};

static uint8_t pattern[2 * PLEN];
static uint8_t rbuf[RBUF];
static uint32_t hist[HIST];
static size_t size = 64;
static unsigned depth = 1;
static uint64_t counted, errors;
static bool sending = true, counting;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "echo_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const uint8_t *at(const struct conn *c, uint64_t off)
{
	return pattern + (off + c->phase) % PLEN;
}

/* Send what is due, as far as the kernel takes it; EPOLLOUT (edge)
 * resumes the rest. */
static void push(struct conn *c)
{
	while (c->sent < c->want) {
		uint64_t n = c->want - c->sent;
		if (n > PLEN)
			n = PLEN;
		ssize_t w = send(c->fd, at(c, c->sent), n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			die("send");
		}
		c->sent += (uint64_t)w;
	}
}

static void issue(struct conn *c, uint64_t k, int64_t now)
{
	uint64_t first = c->want / size;
	for (uint64_t j = 0; j < k; j++)
		c->ts[(first + j) % depth] = now;
	c->want += k * size;
	push(c);
}

static void complete(struct conn *c, int64_t now)
{
	uint64_t full = c->got / size;
	uint64_t k = full - c->done;
	for (; c->done < full; c->done++) {
		if (!counting)
			continue;
		int64_t us = (now - c->ts[c->done % depth]) / 1000;
		hist[us < HIST - 1 ? us : HIST - 1]++;
		counted++;
	}
	if (sending && k > 0)
		issue(c, k, now);
}

static void on_readable(struct conn *c, int64_t now)
{
	for (;;) {
		ssize_t n = recv(c->fd, rbuf, RBUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			errno = n == 0 ? ECONNRESET : errno;
			die("recv (server closed?)");
		}
		if (memcmp(rbuf, at(c, c->got), (size_t)n) != 0 ||
		    c->got + (uint64_t)n > c->sent)
			errors++;
		c->got += (uint64_t)n;
		if (n < RBUF)
			break;
	}
	complete(c, now);
}

static double proc_cpu(int pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	char *p = strrchr(line, ')'); /* the name may hold spaces */
	unsigned long ut = 0, st = 0;
	if (p != NULL)
		sscanf(p + 2,
		       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		       &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double percentile(double q)
{
	uint64_t want = (uint64_t)((double)counted * q), seen = 0;
	for (int i = 0; i < HIST; i++) {
		seen += hist[i];
		if (seen > want)
			return i;
	}
	return HIST;
}

static struct conn *open_all(int port, int n, int ep)
{
	struct conn *cs = calloc((size_t)n, sizeof(*cs));
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int i = 0; i < n; i++) {
		struct conn *c = &cs[i];
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 ||
		    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			die("connect");
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		c->phase = (uint32_t)((uint64_t)i * 977 % PLEN);
		c->ts = calloc(depth, sizeof(*c->ts));
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT |
						   EPOLLRDHUP | EPOLLET,
					 .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	return cs;
}

struct opts {
	int port, conns, pid;
	double secs, warm;
};

static void parse(int argc, char **argv, struct opts *o)
{
	int opt;
	while ((opt = getopt(argc, argv, "p:c:s:d:t:w:P:")) != -1) {
		switch (opt) {
		case 'p':
			o->port = atoi(optarg);
			break;
		case 'c':
			o->conns = atoi(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 'd':
			depth = (unsigned)atoi(optarg);
			break;
		case 't':
			o->secs = atof(optarg);
			break;
		case 'w':
			o->warm = atof(optarg);
			break;
		case 'P':
			o->pid = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: echo_load -p PORT [-c N] [-s SIZE] "
				"[-d DEPTH] [-t S] [-w S] [-P PID]\n");
			exit(2);
		}
	}
	if (o->port <= 0 || o->conns <= 0 || size == 0 || size > PLEN ||
	    depth == 0) {
		fprintf(stderr, "echo_load: bad arguments\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {0, 1, 0, 3, 0.5};
	parse(argc, argv, &o);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < PLEN; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		pattern[i] = pattern[i + PLEN] = (uint8_t)x;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn *cs = open_all(o.port, o.conns, ep);
	static struct epoll_event evs[1024];
	int64_t t0 = now_ns();
	int64_t t_measure = t0 + (int64_t)(o.warm * 1e9);
	int64_t t_end = t_measure + (int64_t)(o.secs * 1e9);
	for (int i = 0; i < o.conns; i++)
		issue(&cs[i], depth, t0);
	double cpu0 = 0, self0 = 0;
	for (;;) {
		int n = epoll_wait(ep, evs, 1024, 100);
		int64_t now = now_ns();
		if (!counting && now >= t_measure) {
			counting = true;
			cpu0 = o.pid ? proc_cpu(o.pid) : 0;
			self0 = self_cpu();
			t_measure = now;
		}
		if (now >= t_end)
			break;
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (evs[i].events & EPOLLOUT)
				push(c);
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR))
				on_readable(c, now);
		}
	}
	double window = (double)(now_ns() - t_measure) / 1e9;
	double srv = o.pid ? proc_cpu(o.pid) - cpu0 : 0;
	double self = self_cpu() - self0;
	sending = false;
	printf("msgs=%llu rate=%.0f p50_us=%.0f p99_us=%.0f srv_cpu_s=%.2f "
	       "cpu_us_per_msg=%.3f load_cpu=%.2f errors=%llu\n",
	       (unsigned long long)counted, (double)counted / window,
	       percentile(0.50), percentile(0.99), srv,
	       counted ? srv * 1e6 / (double)counted : 0, self / window,
	       (unsigned long long)errors);
	for (int i = 0; i < o.conns; i++)
		close(cs[i].fd);
	return errors ? 1 : 0;
}
