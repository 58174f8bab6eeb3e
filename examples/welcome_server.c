/* welcome_server - tutorial "The socket Module for Low-Level Networking",
 * Example 4: a TCP server that accepts one connection, greets it, exits.
 *
 *     server_socket.bind(("127.0.0.1", 9999))
 *     server_socket.listen(1)
 *     print("Server listening on port 9999...")
 *     client_socket, client_address = server_socket.accept()
 *     print(f"Connection from {client_address}")
 *     client_socket.send(b"Hello from the server!")
 *
 * What sockit takes away:
 *   - send() may send only part of the greeting; skt_send_all() loops.
 *   - Restarting the server within a minute fails with "Address already in
 *     use" (the old connection sits in TIME_WAIT); skt_listen() always sets
 *     SO_REUSEADDR.
 *   - A hard-wired port collides with whatever else uses it; port 0 picks a
 *     free one, which skt_sock_local() reads back for the banner.
 *   - A client that has already gone raises SIGPIPE in C and kills the
 *     server; sockit sends with MSG_NOSIGNAL and returns SKT_EPIPE.
 *
 * usage: welcome_server [HOST] [PORT]   (loopback, port 9999; 0: any free)
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <string.h>

#define PROG            "welcome_server"
#define SEND_TIMEOUT_MS 10000 /* a client that never reads cannot pin us */

static const char greeting[] = "Hello from the server!";

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* Accept one client, say where it came from, greet it, hang up. */
static int greet_one(int lfd)
{
	skt_addr peer;
	int fd = skt_accept(lfd, &peer, SKT_TIMEOUT_NONE);
	if (fd < 0)
		return fail("accept", fd);

	char text[SKT_ADDRSTRLEN];
	skt_addr_format(&peer, text, sizeof text);
	printf("Connection from %s\n", text);
	fflush(stdout);

	int err = skt_send_all(fd, greeting, strlen(greeting), SEND_TIMEOUT_MS,
			       NULL);
	skt_close(fd);
	return err < 0 ? fail("send", err) : 0;
}

int main(int argc, char **argv)
{
	const char *host = NULL; /* NULL: 127.0.0.1, never the network */
	const char *port = "9999";

	if (argc == 2) {
		port = argv[1];
	} else if (argc == 3) {
		host = argv[1];
		port = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: " PROG " [HOST] [PORT]\n");
		return 2;
	}

	/* listen(1) as in the tutorial: one client is all we serve. */
	skt_listen_opts opts = {.backlog = 1};
	int lfd = skt_listen(host, port, &opts);
	if (lfd < 0)
		return fail("listen", lfd);

	skt_addr local;
	int err = skt_sock_local(lfd, &local);
	if (err < 0) {
		skt_close(lfd);
		return fail("getsockname", err);
	}
	printf("Server listening on port %u...\n", skt_addr_port(&local));
	fflush(stdout); /* a pipe is fully buffered: the reader waits on this */

	int rc = greet_one(lfd);
	skt_close(lfd);
	return rc;
}
