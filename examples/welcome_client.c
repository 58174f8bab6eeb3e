/* welcome_client - tutorial "The socket Module for Low-Level Networking",
 * Example 5: connect to the welcome server and print what it says.
 *
 *     client_socket.connect(("127.0.0.1", 9999))
 *     message = client_socket.recv(1024)
 *     print(message.decode())
 *
 * What sockit takes away:
 *   - One recv(1024) returns whatever has arrived so far, which may be
 *     part of the message (or, past 1024 bytes, certainly is); we read
 *     until the server closes, which is how this server ends its message.
 *   - connect() and recv() block forever on a silent peer; every sockit
 *     call here has a timeout.
 *   - The host may be a name, v4 or v6 literal: skt_connect() resolves it
 *     and tries each address (Happy Eyeballs) instead of AF_INET only.
 *
 * usage: welcome_client [HOST PORT]   (127.0.0.1 9999)
 */
#include <sockit/sockit.h>

#include <stdio.h>

#define PROG       "welcome_client"
#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* Copy the stream to stdout until the server closes it. */
static int print_until_eof(int fd)
{
	char buf[1024];
	ssize_t n;

	while ((n = skt_recv(fd, buf, sizeof buf, TIMEOUT_MS)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0)
		return fail("recv", (int)n);
	putchar('\n'); /* print() ends the line; the server did not */
	return 0;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	const char *port = "9999";

	if (argc == 3) {
		host = argv[1];
		port = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: " PROG " [HOST PORT]\n");
		return 2;
	}

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = TIMEOUT_MS;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		return 1;
	}
	int rc = print_until_eof(fd);
	skt_close(fd);
	return rc;
}
