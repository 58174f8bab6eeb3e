/* echo_client - tutorial "Python Socket", echo_client.py: send a message
 * to the echo server and print what comes back.
 *
 *     s.connect((host, port))
 *     s.sendall(b'hello there')
 *     print(str(s.recv(4096), 'utf-8'))
 *
 * What sockit takes away:
 *   - One recv(4096) is not "the echo": TCP is a byte stream, and the reply
 *     may arrive in pieces (a message over one segment always does), so
 *     the tutorial prints half a message. We know how many bytes we sent,
 *     so skt_read_exact() reads exactly that many, and says so if the
 *     server hangs up early (SKT_EPARTIAL) instead of returning short.
 *   - Every call has a timeout: a server that never answers ends the
 *     program instead of hanging it.
 *
 * usage: echo_client [HOST PORT [MESSAGE...]]   (localhost 8001 "hello there")
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG       "echo_client"
#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* The words of argv joined with spaces, like echo(1); caller frees. */
static char *join(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *msg = malloc(len);
	if (msg == NULL)
		return NULL;
	msg[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(msg, " ");
		strcat(msg, argv[i]);
	}
	return msg;
}

/* Send msg, then read back exactly as many bytes and print them. */
static int round_trip(int fd, const char *msg, size_t len)
{
	int err = skt_send_all(fd, msg, len, TIMEOUT_MS, NULL);
	if (err < 0)
		return fail("send", err);

	char *reply = malloc(len + 1); /* + 1: never malloc(0) */
	if (reply == NULL)
		return fail("malloc", SKT_ENOMEM);
	size_t got = 0;
	ssize_t n = skt_read_exact(fd, reply, len, TIMEOUT_MS, &got);
	if (n >= 0) {
		fwrite(reply, 1, len, stdout);
		putchar('\n');
	}
	free(reply);
	return n < 0 ? fail("recv", (int)n) : 0;
}

int main(int argc, char **argv)
{
	const char *host = "localhost";
	const char *port = "8001";
	const char *msg = "hello there";
	char *joined = NULL;

	if (argc == 2) {
		fprintf(stderr, "usage: " PROG " [HOST PORT [MESSAGE...]]\n");
		return 2;
	}
	if (argc >= 3) {
		host = argv[1];
		port = argv[2];
	}
	if (argc > 3) {
		joined = join(argc - 3, argv + 3);
		if (joined == NULL)
			return fail("malloc", SKT_ENOMEM);
		msg = joined;
	}

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = TIMEOUT_MS;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		free(joined);
		return 1;
	}
	int rc = round_trip(fd, msg, strlen(msg));
	skt_close(fd);
	free(joined);
	return rc;
}
