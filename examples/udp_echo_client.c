/* udp_echo_client - the networking book's sockets chapter, the UDP client:
 * send one datagram to the upper-casing UDP server and print its answer.
 *
 *     s.sendto(b"Hello, UDP!", ("127.0.0.1", 9001))
 *     data, addr = s.recvfrom(1024)
 *     print(f"Received from {addr}: {data.decode()}")
 *
 * What sockit takes away:
 *   - UDP loses datagrams, and then recvfrom() waits forever. Every call
 *     here has a timeout (--timeout MS, default 5 s).
 *   - An unconnected socket accepts a datagram from anyone who guesses its
 *     port, and never hears the ICMP "port unreachable" a closed port
 *     answers with. skt_connect(SOCK_DGRAM) connects the socket: the kernel
 *     delivers only the server's datagrams, and a closed port shows up as
 *     "connection refused" at once instead of as a timeout.
 *   - recvfrom(1024) silently truncates; skt_recvfrom() tells us.
 *
 * usage: udp_echo_client [--timeout MS] [HOST PORT [MESSAGE]]
 *        (127.0.0.1 9001 "Hello, UDP!")
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG      "udp_echo_client"
#define DGRAM_MAX 65536

struct options {
	const char *host;
	const char *port;
	const char *msg;
	int timeout_ms;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	const char *pos[3];
	int npos = 0;

	o->host = "127.0.0.1";
	o->port = "9001";
	o->msg = "Hello, UDP!";
	o->timeout_ms = 5000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;
			long ms = strtol(argv[++i], &end, 10);
			if (*end != '\0' || ms < 1 || ms > 3600000)
				return -1;
			o->timeout_ms = (int)ms;
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return -1;
		}
	}
	if (npos == 1)
		return -1;
	if (npos >= 2) {
		o->host = pos[0];
		o->port = pos[1];
	}
	if (npos == 3)
		o->msg = pos[2];
	return 0;
}

/* Send the message, wait for one answer, print it. */
static int exchange(int fd, const struct options *o)
{
	ssize_t n = skt_sendto(fd, o->msg, strlen(o->msg), NULL, o->timeout_ms);
	if (n < 0)
		return fail("send", (int)n);

	char *buf = malloc(DGRAM_MAX);
	if (buf == NULL)
		return fail("malloc", SKT_ENOMEM);
	skt_addr from;
	bool truncated = false;
	n = skt_recvfrom(fd, buf, DGRAM_MAX, &from, o->timeout_ms, &truncated);
	if (n >= 0) {
		char text[SKT_ADDRSTRLEN];
		skt_addr_format(&from, text, sizeof text);
		printf("Received from %s: ", text);
		fwrite(buf, 1, (size_t)n, stdout);
		fputs(truncated ? " (truncated)\n" : "\n", stdout);
	}
	free(buf);
	return n < 0 ? fail("recv", (int)n) : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: " PROG
				" [--timeout MS] [HOST PORT [MESSAGE]]\n");
		return 2;
	}

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.socktype = SOCK_DGRAM;
	opts.timeout_ms = o.timeout_ms;
	int fd = skt_connect(o.host, o.port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", o.host,
			o.port, skt_strerror(fd));
		return 1;
	}
	int rc = exchange(fd, &o);
	skt_close(fd);
	return rc;
}
