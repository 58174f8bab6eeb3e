/* qotd_client - tutorial "Python Socket", qotd_client.py: ask a Quote of
 * the Day server (RFC 865, UDP port 17) for a quote.
 *
 *     s.sendto(b'', ("djxmmx.net", 17))
 *     data, address = s.recvfrom(1024)
 *     print(data.decode())
 *
 * What sockit takes away:
 *   - Either datagram may be lost, and then recvfrom() waits forever. We
 *     wait --timeout MS (default 5 s) and report "timed out".
 *   - An unconnected socket takes a datagram from any sender. Connecting
 *     it (skt_connect with SOCK_DGRAM) makes the kernel deliver only the
 *     server's reply, and turns the ICMP answer of a closed port into
 *     "connection refused" instead of a silent wait.
 *   - RFC 865 caps a quote at 512 characters, but nothing stops a server
 *     sending more; skt_recvfrom() says when the kernel cut a datagram.
 *
 * usage: qotd_client [--timeout MS] HOST [PORT]   (port 17)
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "qotd_client"

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--timeout MS] HOST [PORT]\n");
	return 2;
}

/* Send the empty datagram RFC 865 asks for; print the one that answers. */
static int ask(int fd, int timeout_ms)
{
	ssize_t n = skt_sendto(fd, "", 0, NULL, timeout_ms);
	if (n < 0)
		return fail("send", (int)n);

	char buf[4096];
	bool truncated = false;
	n = skt_recvfrom(fd, buf, sizeof buf, NULL, timeout_ms, &truncated);
	if (n < 0)
		return fail("recv", (int)n);
	fwrite(buf, 1, (size_t)n, stdout);
	if (n == 0 || buf[n - 1] != '\n')
		putchar('\n'); /* like print(), end the line */
	if (truncated)
		fprintf(stderr, PROG ": quote truncated at %zu bytes\n",
			sizeof buf);
	return 0;
}

int main(int argc, char **argv)
{
	int timeout_ms = 5000;
	int first = 1;

	if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
		char *end;
		long ms = strtol(argv[2], &end, 10);
		if (*end != '\0' || ms < 1 || ms > 3600000)
			return usage();
		timeout_ms = (int)ms;
		first = 3;
	}
	if (argc - first < 1 || argc - first > 2)
		return usage();
	const char *host = argv[first];
	const char *port = argc - first == 2 ? argv[first + 1] : "17";

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.socktype = SOCK_DGRAM;
	opts.timeout_ms = timeout_ms;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		return 1;
	}
	int rc = ask(fd, timeout_ms);
	skt_close(fd);
	return rc;
}
