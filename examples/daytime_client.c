/* daytime_client - tutorial "Python Socket", time_client.py: connect to a
 * daytime server (RFC 867, port 13) and print the time it sends.
 *
 *     s.connect((host, port))
 *     s.sendall(b'')
 *     print(str(s.recv(4096), 'utf-8'))
 *
 * What sockit takes away:
 *   - sendall(b'') sends nothing at all (a zero-length write on a stream is
 *     a no-op); RFC 867 asks nothing of the client, so we send nothing.
 *   - One recv() is not the whole answer: RFC 867 says the server sends
 *     the time and then closes, so we read until end of stream.
 *   - Time servers come and go; a dead one makes connect() or recv() hang.
 *     Every call here has a timeout.
 *
 * usage: daytime_client HOST [PORT]   (port 13)
 */
#include <sockit/sockit.h>

#include <stdio.h>

#define PROG       "daytime_client"
#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: " PROG " HOST [PORT]\n");
		return 2;
	}
	const char *host = argv[1];
	const char *port = argc > 2 ? argv[2] : "13";

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = TIMEOUT_MS;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		return 1;
	}

	char buf[4096];
	ssize_t n;
	while ((n = skt_recv(fd, buf, sizeof buf, TIMEOUT_MS)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	skt_close(fd);
	return n < 0 ? fail("recv", (int)n) : 0;
}
