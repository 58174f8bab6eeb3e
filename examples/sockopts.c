/* sockopts - the networking book's sockets chapter, "socket options": set
 * each option the chapter lists and print what the kernel reports back.
 *
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
 *     s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
 *     s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
 *     (and SO_LINGER, in the chapter's table)
 *
 * What sockit takes away:
 *   - Each option has its own level (SOL_SOCKET, IPPROTO_TCP, IPPROTO_IPV6)
 *     and SO_LINGER its own struct; skt_sock_set_opt() takes a name and an
 *     int (linger: seconds, -1 off), and picks level and layout itself.
 *   - Reading back is where surprises show: Linux reports twice the buffer
 *     size asked for (the kernel counts its bookkeeping, socket(7)), and
 *     caps it at net.core.wmem_max / rmem_max. Printing what the kernel
 *     kept, not what we asked, is the point of this example.
 *
 * usage: sockopts [inet|inet6]
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <string.h>

#define PROG "sockopts"

static const struct {
	const char *name; /* as the tutorial spells it */
	skt_opt opt;
	int value;
} options[] = {
	{"SO_REUSEADDR", SKT_OPT_REUSEADDR, 1},
	{"SO_REUSEPORT", SKT_OPT_REUSEPORT, 1},
	{"SO_KEEPALIVE", SKT_OPT_KEEPALIVE, 1},
	{"TCP_NODELAY", SKT_OPT_NODELAY, 1},
	{"SO_SNDBUF", SKT_OPT_SNDBUF, 65536},
	{"SO_RCVBUF", SKT_OPT_RCVBUF, 65536},
	/* close() waits up to 5 s for unsent data, then gives up. */
	{"SO_LINGER", SKT_OPT_LINGER, 5},
};

static int set_and_show(int fd, size_t i)
{
	int value = -1;
	int err = skt_sock_set_opt(fd, options[i].opt, options[i].value);
	if (err == 0)
		err = skt_sock_opt(fd, options[i].opt, &value);
	if (err < 0) {
		fprintf(stderr, PROG ": %s: %s\n", options[i].name,
			skt_strerror(err));
		return 1;
	}
	printf("%-12s (%s) set %d, reads back %d\n", options[i].name,
	       skt_opt_name(options[i].opt), options[i].value, value);
	return 0;
}

int main(int argc, char **argv)
{
	int family = AF_INET;

	if (argc == 2 && strcmp(argv[1], "inet6") == 0) {
		family = AF_INET6;
	} else if (argc > 2 || (argc == 2 && strcmp(argv[1], "inet") != 0)) {
		fprintf(stderr, "usage: " PROG " [inet|inet6]\n");
		return 2;
	}

	int fd = skt_socket(family, SOCK_STREAM, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", skt_strerror(fd));
		return 1;
	}
	int rc = 0;
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		rc |= set_and_show(fd, i);
	skt_close(fd);
	return rc;
}
