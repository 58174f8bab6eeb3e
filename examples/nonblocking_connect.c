/* nonblocking_connect - the networking book's sockets chapter, the
 * non-blocking client: start a connect without waiting, wait for the socket
 * to become writable, send a GET, wait for it to become readable, print.
 *
 *     s.setblocking(False)
 *     try:
 *         s.connect(("example.com", 80))
 *     except BlockingIOError:
 *         pass  # Connection in progress
 *     _, writable, _ = select.select([], [s], [], 5.0)
 *     if writable:
 *         s.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
 *     readable, _, _ = select.select([s], [], [], 5.0)
 *     if readable:
 *         print(s.recv(4096).decode())
 *
 * What sockit takes away:
 *   - "Writable" does not mean "connected": a refused or unreachable
 *     connect also makes the socket writable. The tutorial then sends on a
 *     dead socket. The verdict is in SO_ERROR, which skt_sock_error() reads
 *     as a sockit code.
 *   - connect() on a host *name* resolves it first, blocking, which defeats
 *     the non-blocking socket. We resolve first, as its own step, and hand
 *     skt_connect_one() an address with timeout 0 ("start and return").
 *   - sendall() on a non-blocking socket raises BlockingIOError when the
 *     send buffer fills; skt_send_all() waits for room, bounded by its
 *     timeout.
 *   - select() fails past fd 1024 (FD_SETSIZE); we poll() like the rest
 *     of sockit. And we read until the server closes (Connection: close)
 *     rather than printing whatever one recv() returned.
 *
 * usage: nonblocking_connect HOST [PORT] [PATH]   (port 80, path /)
 */
#include <sockit/sockit.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG    "nonblocking_connect"
#define WAIT_MS 5000 /* the tutorial's select(..., 5.0) */

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* poll() one fd for events; 0 when ready, SKT_ETIMEDOUT, or -errno. */
static int wait_for(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? SKT_ETIMEDOUT : 0;
}

/* Start the connect, wait for it to finish, and ask how it went. */
static int connect_nonblocking(const skt_addr *a)
{
	int fd = skt_connect_one(a, SOCK_STREAM, 0);
	if (fd < 0)
		return fd; /* failed at once (e.g. no route) */
	int err = wait_for(fd, POLLOUT, WAIT_MS);
	if (err == 0)
		err = skt_sock_error(fd); /* writable: connected, or failed? */
	if (err < 0) {
		skt_close(fd);
		return err;
	}
	return fd;
}

/* Read whatever is ready, each time poll() says there is some, until EOF. */
static int print_response(int fd)
{
	char buf[4096];

	for (;;) {
		int err = wait_for(fd, POLLIN, WAIT_MS);
		if (err < 0)
			return fail("wait for reply", err);
		ssize_t n = skt_recv(fd, buf, sizeof buf, 0);
		if (n == 0)
			return 0;
		if (n == SKT_EAGAIN) /* a spurious wakeup: poll again */
			continue;
		if (n < 0)
			return fail("recv", (int)n);
		fwrite(buf, 1, (size_t)n, stdout);
	}
}

/* The request, with Host as RFC 9110 section 7.2 wants it: a v6 literal in
 * brackets, the port only when it is not the default. Caller frees. */
static char *build_request(const char *host, const char *port, const char *path)
{
	static const char fmt[] = "GET %s HTTP/1.1\r\n"
				  "Host: %s%s%s%s\r\n"
				  "Connection: close\r\n\r\n";
	bool v6 = strchr(host, ':') != NULL;
	char portpart[8] = "";
	int portnum = skt_service_port(port, SOCK_STREAM);

	if (portnum != 80)
		snprintf(portpart, sizeof portpart, ":%d", portnum);
	int len = snprintf(NULL, 0, fmt, path, v6 ? "[" : "", host,
			   v6 ? "]" : "", portpart);
	char *req = malloc((size_t)len + 1);
	if (req != NULL)
		snprintf(req, (size_t)len + 1, fmt, path, v6 ? "[" : "", host,
			 v6 ? "]" : "", portpart);
	return req;
}

static int get(int fd, const char *req)
{
	int err = skt_send_all(fd, req, strlen(req), WAIT_MS, NULL);
	if (err < 0)
		return fail("send", err);
	return print_response(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: " PROG " HOST [PORT] [PATH]\n");
		return 2;
	}
	const char *host = argv[1];
	const char *port = argc > 2 ? argv[2] : "80";
	const char *path = argc > 3 ? argv[3] : "/";

	skt_addrlist list = {0};
	int err = skt_resolve(&list, host, port, AF_UNSPEC, SOCK_STREAM, 0);
	if (err < 0) {
		fprintf(stderr, PROG ": resolve %s: %s\n", host,
			skt_strerror(err));
		return 1;
	}
	/* The first address only, as the tutorial's connect() would. */
	int fd = connect_nonblocking(&list.addrs[0]);
	char where[SKT_ADDRSTRLEN];
	skt_addr_format(&list.addrs[0], where, sizeof where);
	skt_addrlist_fini(&list);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s: %s\n", where,
			skt_strerror(fd));
		return 1;
	}
	char *req = build_request(host, port, path);
	int rc = req != NULL ? get(fd, req) : fail("malloc", SKT_ENOMEM);
	free(req);
	skt_close(fd);
	return rc;
}
