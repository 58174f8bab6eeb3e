/* udp_echo_server - the networking book's sockets chapter,
 * code/udp_echo_server.py: answer every datagram with its upper-case copy.
 *
 *     s.bind(("0.0.0.0", 9001))
 *     print("UDP server listening on port 9001...")
 *     while True:
 *         data, addr = s.recvfrom(1024)
 *         print(f"From {addr}: {data.decode()}")
 *         s.sendto(data.upper(), addr)
 *
 * What sockit takes away:
 *   - recvfrom(1024) silently cuts a longer datagram to 1024 bytes (the
 *     kernel drops the rest). We receive into a buffer that holds any UDP
 *     payload, and skt_recvfrom() reports truncation instead of hiding it.
 *   - data.decode() raises on bytes that are not UTF-8 and kills the
 *     server; we print raw bytes.
 *   - The default bind is 127.0.0.1, not 0.0.0.0 (skt_udp_bind(NULL)).
 *
 * usage: udp_echo_server [HOST] [PORT] [--count N]   (loopback, port 9001)
 *   --count N  exit after answering N datagrams.
 */
#include <sockit/sockit.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG            "udp_echo_server"
#define SEND_TIMEOUT_MS 1000
/* 65535 - 8 (UDP header) - 20 (IPv4 header) is the largest IPv4 payload;
 * IPv6 allows 65527 without jumbograms. 64 KiB holds either. */
#define DGRAM_MAX 65536

struct options {
	const char *host; /* NULL: 127.0.0.1 */
	const char *port;
	long count; /* datagrams to answer, 0: forever */
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
	o->port = "9001";
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

/* Receive one datagram, print it, send its upper-case copy back. */
static int answer_one(int fd, char *buf, size_t cap)
{
	skt_addr from;
	bool truncated = false;
	ssize_t n =
		skt_recvfrom(fd, buf, cap, &from, SKT_TIMEOUT_NONE, &truncated);
	if (n < 0)
		return fail("recvfrom", (int)n);

	char text[SKT_ADDRSTRLEN];
	skt_addr_format(&from, text, sizeof text);
	printf("From %s: ", text);
	fwrite(buf, 1, (size_t)n, stdout);
	fputs(truncated ? " (truncated)\n" : "\n", stdout);
	fflush(stdout);

	for (ssize_t i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	/* UDP: a failed reply is lost like any datagram; say so, go on. */
	ssize_t sent = skt_sendto(fd, buf, (size_t)n, &from, SEND_TIMEOUT_MS);
	if (sent < 0)
		fail(text, (int)sent);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: " PROG " [HOST] [PORT] [--count N]\n");
		return 2;
	}

	int fd = skt_udp_bind(o.host, o.port, NULL);
	if (fd < 0)
		return fail("bind", fd);

	skt_addr local;
	int rc = skt_sock_local(fd, &local);
	if (rc < 0) {
		skt_close(fd);
		return fail("getsockname", rc);
	}
	printf("UDP server listening on port %u...\n", skt_addr_port(&local));
	fflush(stdout); /* a pipe is fully buffered: the reader waits on this */

	char *buf = malloc(DGRAM_MAX); /* too big to sit on the stack */
	if (buf == NULL) {
		skt_close(fd);
		return fail("malloc", SKT_ENOMEM);
	}
	for (long n = 0; rc == 0 && (o.count == 0 || n < o.count); n++)
		rc = answer_one(fd, buf, DGRAM_MAX);
	free(buf);
	skt_close(fd);
	return rc;
}
