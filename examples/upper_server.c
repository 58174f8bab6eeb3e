/* upper_server - the networking book's sockets chapter,
 * code/tcp_echo_server.py: accept clients one after another and answer each
 * with its data upper-cased.
 *
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
 *     s.bind(("0.0.0.0", 9000))
 *     s.listen(5)
 *     print("Server listening on port 9000...")
 *     while True:
 *         conn, addr = s.accept()
 *         with conn:
 *             print(f"Connection from {addr}")
 *             data = conn.recv(1024)
 *             if data:
 *                 conn.sendall(data.upper())
 *
 * What sockit takes away:
 *   - The tutorial treats one recv(1024) as "the message": a client whose
 *     text arrives in two segments, or is longer than 1024 bytes, gets
 *     only the first part answered. We upper-case the stream chunk by chunk
 *     until the client closes, so nothing is dropped (a chunk boundary
 *     cannot split a character: bytes.upper() and toupper() in the C
 *     locale both change only ASCII a-z).
 *   - SO_REUSEADDR is set by skt_listen() itself, and the default bind is
 *     127.0.0.1, not 0.0.0.0: a demo never faces the network by accident.
 *   - A client that disappears mid-reply costs an error line, not the
 *     server (no SIGPIPE, no unhandled exception).
 *
 * usage: upper_server [HOST] [PORT] [--count N]   (loopback, port 9000)
 */
#include <sockit/sockit.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "upper_server"

struct options {
	const char *host; /* NULL: 127.0.0.1 */
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

	o->host = NULL;
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

/* data.upper(), chunk by chunk, until the client closes its side. */
static int upper(int fd)
{
	char buf[1024];

	for (;;) {
		ssize_t n = skt_recv(fd, buf, sizeof buf, SKT_TIMEOUT_NONE);
		if (n <= 0)
			return (int)n; /* 0: end of stream, the normal exit */
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		int err = skt_send_all(fd, buf, (size_t)n, SKT_TIMEOUT_NONE,
				       NULL);
		if (err < 0)
			return err;
	}
}

static int serve(int lfd, long count)
{
	for (long served = 0; count == 0 || served < count; served++) {
		skt_addr peer;
		int fd = skt_accept(lfd, &peer, SKT_TIMEOUT_NONE);
		if (fd < 0)
			return fail("accept", fd);

		char text[SKT_ADDRSTRLEN];
		skt_addr_format(&peer, text, sizeof text);
		printf("Connection from %s\n", text);
		fflush(stdout);

		int err = upper(fd);
		skt_close(fd);
		if (err < 0) /* this client's trouble, not the server's */
			fail(text, err);
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

	skt_listen_opts opts = {.backlog = 5}; /* listen(5) */
	int lfd = skt_listen(o.host, o.port, &opts);
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

	int rc = serve(lfd, o.count);
	skt_close(lfd);
	return rc;
}
