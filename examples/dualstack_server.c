/* dualstack_server - the networking book's sockets chapter, the dual-stack
 * server: one IPv6 socket that accepts IPv4 clients too.
 *
 *     s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
 *     s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
 *     s.bind(("::", 9000))
 *     s.listen(5)
 *     print("Dual-stack server on port 9000")
 *
 * What sockit takes away:
 *   - IPV6_V6ONLY's default is a system setting (net.ipv6.bindv6only on
 *     Linux, on by default elsewhere), so the tutorial must clear it;
 *     skt_listen("::" or "*") does, and falls back to 0.0.0.0 on a host
 *     without IPv6 instead of failing.
 *   - An IPv4 client reaches the IPv6 socket as an IPv4-mapped address,
 *     ::ffff:127.0.0.1, which is neither what the client used nor what an
 *     allow-list of IPv4 addresses would match. skt_addr_unmap() turns it
 *     back into 127.0.0.1, and we say that it did.
 *
 * Each client gets one line naming the address it came from, then the
 * server reads until the client closes (so closing never discards unread
 * input, which would send the client a reset instead of our reply).
 *
 * usage: dualstack_server [HOST] [PORT] [--count N]   (host ::, port 9000)
 *   The default host is the wildcard, not loopback: dual-stack is what this
 *   example is about, and only the wildcard accepts both families.
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG              "dualstack_server"
#define CLIENT_TIMEOUT_MS 10000 /* one slow client cannot pin the server */

struct options {
	const char *host;
	const char *port;
	long count; /* clients to serve, 0: forever */
};

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* [HOST] [PORT] [--count N], in any order. */
static int parse_args(int argc, char **argv, struct options *o)
{
	const char *pos[2];
	int npos = 0;

	o->host = "::";
	o->port = "9000";
	o->count = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			char *end;
			o->count = strtol(argv[++i], &end, 10);
			if (*end != '\0' || o->count < 1)
				return -1;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			return -1;
		}
	}
	if (npos == 1)
		o->port = pos[0];
	if (npos == 2) {
		o->host = pos[0];
		o->port = pos[1];
	}
	return 0;
}

/* Log the client in its own family, greet it, wait for it to hang up. */
static int greet(int fd, skt_addr *peer)
{
	char seen[SKT_ADDRSTRLEN], text[SKT_ADDRSTRLEN];
	skt_addr_format(peer, seen, sizeof seen);
	bool mapped = skt_addr_unmap(peer);
	skt_addr_format(peer, text, sizeof text);

	if (mapped)
		printf("Connection from %s (IPv4, seen as %s)\n", text, seen);
	else
		printf("Connection from %s (%s)\n", text,
		       skt_addr_family(peer) == AF_INET6 ? "IPv6" : "IPv4");
	fflush(stdout);

	char line[SKT_ADDRSTRLEN + 64];
	int len = snprintf(line, sizeof line, "Hello, %s client %s\n",
			   skt_addr_family(peer) == AF_INET6 ? "IPv6" : "IPv4",
			   text);
	int err = skt_send_all(fd, line, (size_t)len, CLIENT_TIMEOUT_MS, NULL);
	if (err < 0)
		return err;

	char buf[1024];
	ssize_t n;
	while ((n = skt_recv(fd, buf, sizeof buf, CLIENT_TIMEOUT_MS)) > 0)
		; /* whatever the client says, it is only waiting to close */
	return (int)n;
}

static int serve(int lfd, long count)
{
	for (long served = 0; count == 0 || served < count; served++) {
		skt_addr peer;
		int fd = skt_accept(lfd, &peer, SKT_TIMEOUT_NONE);
		if (fd < 0)
			return fail("accept", fd);
		int err = greet(fd, &peer);
		skt_close(fd);
		if (err < 0) /* this client's trouble, not the server's */
			fail("client", err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: " PROG " [HOST] [PORT] [--count N]\n");
		return 2;
	}

	skt_listen_opts opts = {.backlog = 5};
	int lfd = skt_listen(o.host, o.port, &opts);
	if (lfd < 0)
		return fail("listen", lfd);

	skt_addr local;
	int err = skt_sock_local(lfd, &local);
	if (err < 0) {
		skt_close(lfd);
		return fail("getsockname", err);
	}
	printf("Dual-stack server on port %u\n", skt_addr_port(&local));
	fflush(stdout); /* a pipe is fully buffered: the reader waits on this */

	int rc = serve(lfd, o.count);
	skt_close(lfd);
	return rc;
}
