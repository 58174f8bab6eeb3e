/* socket_create - tutorial "The socket Module for Low-Level Networking",
 * Example 1: create a TCP socket object and print it.
 *
 *     my_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
 *     print(my_socket)
 *
 * What sockit takes away: in C a socket is a bare int, and socket(2) gives
 * one that leaks into every child after exec and blocks forever by
 * default. skt_socket() makes it close-on-exec and non-blocking (sockit's
 * calls supply the waiting, bounded by their timeouts), and
 * skt_sock_describe() prints it the way Python's repr does, without
 * hand-written getsockname()/inet_ntop() code.
 *
 * usage: socket_create [inet|inet6] [stream|dgram]
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <string.h>

#define PROG "socket_create"

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [inet|inet6] [stream|dgram]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int family = AF_INET;
	int type = SOCK_STREAM;

	if (argc > 3)
		return usage();
	if (argc > 1) {
		if (strcmp(argv[1], "inet6") == 0)
			family = AF_INET6;
		else if (strcmp(argv[1], "inet") != 0)
			return usage();
	}
	if (argc > 2) {
		if (strcmp(argv[2], "dgram") == 0)
			type = SOCK_DGRAM;
		else if (strcmp(argv[2], "stream") != 0)
			return usage();
	}

	int fd = skt_socket(family, type, 0);
	if (fd < 0)
		return fail("socket", fd);

	/* 256 + 2 * SKT_ADDRSTRLEN always fits (sock.h), so no ETOOBIG. */
	char text[256 + 2 * SKT_ADDRSTRLEN];
	int n = skt_sock_describe(fd, text, sizeof text);
	skt_close(fd);
	if (n < 0)
		return fail("describe", n);
	printf("%s\n", text);
	return 0;
}
