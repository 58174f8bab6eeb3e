/* echo_server - tutorial "Python Socket", echo_server.py: send every byte
 * a client sends straight back, until the client closes.
 *
 *     s.bind((host, port))
 *     print(f'socket binded to {port}')
 *     s.listen()
 *     con, addr = s.accept()
 *     with con:
 *         while True:
 *             data = con.recv(1024)
 *             if not data:
 *                 break
 *             con.sendall(data)
 *
 * The loop is already right (recv until b'', sendall); what sockit takes
 * away is the C around it:
 *   - recv(2)/send(2) fail with EINTR when a signal arrives; handled inside.
 *   - A client that resets the connection raises SIGPIPE on the next send
 *     and kills a C server; sockit returns SKT_EPIPE/SKT_ECONNRESET, so we
 *     report it and serve the next client.
 *   - The tutorial serves one client and exits; here the server accepts
 *     clients one after another (--count N stops after N).
 *   - 'localhost' may resolve to ::1 or 127.0.0.1; skt_listen(NULL, ...)
 *     binds 127.0.0.1 without asking the resolver, and port 0 picks a free
 *     port, printed in the tutorial's own words.
 *
 * usage: echo_server [HOST] [PORT] [--count N]   (loopback, port 8001)
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "echo_server"

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
	o->port = "8001";
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

/* The tutorial's loop: echo until the client closes its side. */
static int echo(int fd)
{
	char buf[1024];

	for (;;) {
		ssize_t n = skt_recv(fd, buf, sizeof buf, SKT_TIMEOUT_NONE);
		if (n <= 0)
			return (int)n; /* 0: end of stream, the normal exit */
		int err = skt_send_all(fd, buf, (size_t)n, SKT_TIMEOUT_NONE,
				       NULL);
		if (err < 0)
			return err;
	}
}

static int serve(int lfd, long count)
{
	for (long served = 0; count == 0 || served < count; served++) {
		int fd = skt_accept(lfd, NULL, SKT_TIMEOUT_NONE);
		if (fd < 0)
			return fail("accept", fd);
		int err = echo(fd);
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

	int lfd = skt_listen(o.host, o.port, NULL);
	if (lfd < 0)
		return fail("listen", lfd);

	skt_addr local;
	int err = skt_sock_local(lfd, &local);
	if (err < 0) {
		skt_close(lfd);
		return fail("getsockname", err);
	}
	printf("socket binded to %u\n", skt_addr_port(&local));
	fflush(stdout); /* a pipe is fully buffered: the reader waits on this */

	int rc = serve(lfd, o.count);
	skt_close(lfd);
	return rc;
}
