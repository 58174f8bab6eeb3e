/* http_get - tutorial "Python Socket", get_request.py: send a raw HTTP GET
 * request with "Connection: close" and print everything until the server
 * closes.
 *
 *     s.sendall(b"GET / HTTP/1.1\r\nHost: webcode.me\r\n"
 *               b"Accept: text/html\r\nConnection: close\r\n\r\n")
 *     while True:
 *         data = s.recv(1024)
 *         if not data:
 *             break
 *         print(data.decode())
 *
 * What sockit takes away:
 *   - print(data.decode()) per chunk adds a newline wherever a recv()
 *     happened to end, and raises UnicodeDecodeError when a chunk ends
 *     inside a multi-byte character. We copy the bytes as they come.
 *   - The loop (recv until 0 bytes) is right, but blocks forever on a
 *     server that stops sending without closing; skt_recv() has a timeout.
 *   - EINTR and partial sends are handled inside skt_send_all().
 *
 * usage: http_get HOST [PORT] [PATH]   (port 80, path /)
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG       "http_get"
#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

/* The request, with Host as RFC 9110 section 7.2 wants it: a v6 literal in
 * brackets, the port only when it is not the default. Caller frees. */
static char *build_request(const char *method, const char *host,
			   const char *port, const char *path)
{
	static const char fmt[] = "%s %s HTTP/1.1\r\n"
				  "Host: %s%s%s%s\r\n"
				  "Accept: text/html\r\n"
				  "Connection: close\r\n\r\n";
	bool v6 = strchr(host, ':') != NULL;
	char portpart[8] = "";
	int portnum = skt_service_port(port, SOCK_STREAM);

	if (portnum != 80)
		snprintf(portpart, sizeof portpart, ":%d", portnum);
	int len = snprintf(NULL, 0, fmt, method, path, v6 ? "[" : "", host,
			   v6 ? "]" : "", portpart);
	char *req = malloc((size_t)len + 1);
	if (req != NULL)
		snprintf(req, (size_t)len + 1, fmt, method, path, v6 ? "[" : "",
			 host, v6 ? "]" : "", portpart);
	return req;
}

/* Send the request, then copy the response to stdout until EOF. */
static int get(int fd, const char *req)
{
	int err = skt_send_all(fd, req, strlen(req), TIMEOUT_MS, NULL);
	if (err < 0)
		return fail("send", err);

	char buf[4096];
	ssize_t n;
	while ((n = skt_recv(fd, buf, sizeof buf, TIMEOUT_MS)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	return n < 0 ? fail("recv", (int)n) : 0;
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
	if (skt_service_port(port, SOCK_STREAM) <= 0) {
		fprintf(stderr, PROG ": %s: %s\n", port,
			skt_strerror(SKT_EBADPORT));
		return 2;
	}

	char *req = build_request("GET", host, port, path);
	if (req == NULL)
		return fail("malloc", SKT_ENOMEM);

	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = TIMEOUT_MS;
	int fd = skt_connect(host, port, &opts);
	if (fd < 0) {
		fprintf(stderr, PROG ": connect to %s port %s: %s\n", host,
			port, skt_strerror(fd));
		free(req);
		return 1;
	}
	int rc = get(fd, req);
	skt_close(fd);
	free(req);
	return rc;
}
