/* dial.c - a proxy_client's handshake over a connected socket, blocking
 * within one deadline: send what the codec has, read no more than it
 * needs (so the tunnel's first bytes stay in the socket for whoever
 * reads next: the relay, the TLS handshake), feed, until DONE. */
#include "tools/proxy/proxy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of deadline_ms: -1 none, SKT_ETIMEDOUT once past. */
static int left_ms(int64_t deadline_ms)
{
	if (deadline_ms < 0)
		return -1;
	int64_t left = deadline_ms - now_ms();
	if (left <= 0)
		return SKT_ETIMEDOUT;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int proxy_dial(proxy_client *p, int fd, int64_t deadline_ms)
{
	uint8_t buf[512];
	size_t got = 0;
	while (p->state != PROXY_DONE) {
		int ms = left_ms(deadline_ms);
		if (ms == SKT_ETIMEDOUT)
			return proxy_fail(p, ms, "no answer in time");
		if (p->state == PROXY_SEND) {
			int rc = skt_send_all(fd, p->out, p->out_len, ms, NULL);
			if (rc < 0)
				return proxy_fail(p, rc, "sending the request");
			proxy_client_sent(p);
			got = 0;
			continue;
		}
		size_t need = proxy_client_need(p);
		ssize_t n = skt_recv(
			fd, buf, need < sizeof(buf) ? need : sizeof(buf), ms);
		if (n == 0 && got == 0)
			return proxy_fail(p, SKT_EPARTIAL,
					  "the proxy closed without answering");
		if (n == 0)
			return proxy_fail(p, SKT_EPARTIAL,
					  "the proxy closed after %zu bytes of "
					  "its answer",
					  got);
		if (n == SKT_ETIMEDOUT)
			return proxy_fail(p, (int)n, "no answer in time");
		if (n < 0)
			return proxy_fail(p, (int)n, "reading the answer");
		got += (size_t)n;
		ssize_t used = proxy_client_feed(p, buf, (size_t)n);
		if (used < 0)
			return (int)used;
		/* need bounded the read: the codec took it all. */
	}
	return 0;
}

void proxy_url_where(const proxy_url *u, char *buf, size_t cap)
{
	bool v6 = strchr(u->host, ':') != NULL;
	snprintf(buf, cap, "%s%s%s:%u", v6 ? "[" : "", u->host, v6 ? "]" : "",
		 (unsigned)u->port);
}

int proxy_open(proxy_client *p, const proxy_url *u, const char *host,
	       uint16_t port, const skt_connect_opts *co, int64_t deadline_ms)
{
	int rc = proxy_client_init(p, u, host, port);
	if (rc < 0)
		return rc;
	skt_connect_opts o = *co;
	o.socktype = SOCK_STREAM;
	o.timeout_ms = left_ms(deadline_ms);
	if (o.timeout_ms == SKT_ETIMEDOUT)
		return SKT_ETIMEDOUT;
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", (unsigned)u->port);
	int fd = skt_connect(u->host, svc, &o);
	if (fd < 0)
		return fd;
	p->reached = true;
	rc = proxy_dial(p, fd, deadline_ms);
	if (rc < 0) {
		skt_close(fd);
		return rc;
	}
	return fd;
}
