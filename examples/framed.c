/* framed - the networking book's sockets chapter, "message framing":
 * length-prefixed messages over TCP, each a 4-byte big-endian length and
 * then the payload.
 *
 *     def send_message(sock, msg: bytes) -> None:
 *         length = struct.pack("!I", len(msg))
 *         sock.sendall(length + msg)
 *
 *     def recv_message(sock) -> bytes:
 *         raw_len = recv_exactly(sock, 4)
 *         msg_len = struct.unpack("!I", raw_len)[0]
 *         return recv_exactly(sock, msg_len)
 *
 * "framed server" echoes every frame back; "framed client" sends each
 * MSG as one frame and prints the frame that answers it.
 *
 * What sockit takes away:
 *   - recv_message() believes the peer's length: four bytes of 0xff make it
 *     collect 4 GiB. sockit checks the length against a maximum (here
 *     1 MiB) before any allocation (SKT_ETOOBIG), and memory grows only
 *     with bytes that actually arrive.
 *   - recv_exactly() raises the same ConnectionError for a peer that closed
 *     between messages (a normal end) and one that closed mid-message (a
 *     truncated frame); sockit returns SKT_EOF and SKT_EPARTIAL.
 *   - "length + msg" copies the whole message to prepend four bytes;
 *     skt_frame_send() sends header and payload in one writev().
 *   - recv_exactly() makes one recv() per piece; skt_conn (the server)
 *     reads through a buffer, so a stream of small frames costs one recv()
 *     per buffer-full.
 *
 * usage: framed server [HOST] [PORT] [--count N]   (loopback, port 9000)
 *        framed client HOST PORT MSG...
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG       "framed"
#define FRAME_MAX  ((size_t)1 << 20) /* this protocol's largest message */
#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " server [HOST] [PORT] [--count N]\n"
			"       " PROG " client HOST PORT MSG...\n");
	return 2;
}

/* ---- Server: echo frames through a buffered connection ---- */

/* Echo frames until the client closes between two of them. */
static int echo_frames(skt_conn *c)
{
	for (;;) {
		const uint8_t *msg;
		ssize_t n = skt_conn_read_frame(c, FRAME_MAX, &msg);
		if (n == SKT_EOF)
			return 0;
		if (n < 0) /* SKT_EPARTIAL, SKT_ETOOBIG, ... */
			return (int)n;
		/* msg points into c's buffer: send it before the next read. */
		int err = skt_conn_write_frame(c, msg, (size_t)n, FRAME_MAX);
		if (err < 0)
			return err;
	}
}

static int serve_client(int fd, const char *who)
{
	skt_conn *c;
	int err = skt_conn_new(&c, fd, 0);
	if (err < 0) {
		skt_close(fd);
		return fail(who, err);
	}
	/* A client idle this long mid-conversation is gone. */
	skt_conn_set_timeout(c, TIMEOUT_MS);
	err = echo_frames(c);
	skt_conn_free(c);
	if (err < 0) /* this client's trouble, not the server's */
		fail(who, err);
	return 0;
}

static int serve(int lfd, long count)
{
	for (long served = 0; count == 0 || served < count; served++) {
		skt_addr peer;
		int fd = skt_accept(lfd, &peer, SKT_TIMEOUT_NONE);
		if (fd < 0)
			return fail("accept", fd);
		char who[SKT_ADDRSTRLEN];
		skt_addr_format(&peer, who, sizeof who);
		printf("Connection from %s\n", who);
		fflush(stdout);
		serve_client(fd, who);
	}
	return 0;
}

/* [HOST] [PORT] [--count N], in any order. */
static int server_main(int argc, char **argv)
{
	const char *pos[2] = {NULL, "9000"};
	int npos = 0;
	long count = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			char *end;
			count = strtol(argv[++i], &end, 10);
			if (*end != '\0' || count < 1)
				return usage();
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			return usage();
		}
	}
	const char *host = npos == 2 ? pos[0] : NULL; /* NULL: 127.0.0.1 */
	const char *port = npos == 2 ? pos[1] : npos == 1 ? pos[0] : "9000";

	int lfd = skt_listen(host, port, NULL);
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

	int rc = serve(lfd, count);
	skt_close(lfd);
	return rc;
}

/* ---- Client: one frame out, one frame back, per message ---- */

static int send_and_print(int fd, const char *msg)
{
	int err = skt_frame_send(fd, msg, strlen(msg), FRAME_MAX, TIMEOUT_MS);
	if (err < 0)
		return fail("send", err);

	uint8_t *reply;
	size_t len;
	err = skt_frame_recv(fd, &reply, &len, FRAME_MAX, TIMEOUT_MS);
	if (err < 0)
		return fail("recv", err);
	fwrite(reply, 1, len, stdout);
	putchar('\n');
	skt_free(reply); /* the library allocated it */
	return 0;
}

static int client_main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *host = argv[0];
	const char *port = argv[1];

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = TIMEOUT_MS;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		return 1;
	}
	int rc = 0;
	for (int i = 2; i < argc && rc == 0; i++)
		rc = send_and_print(fd, argv[i]);
	skt_close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server_main(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client_main(argc - 2, argv + 2);
	return usage();
}
