/* http_head - tutorial "Python Socket", head_request.py: send a raw HTTP
 * HEAD request and print the response header.
 *
 *     s.connect(("webcode.me" , 80))
 *     s.sendall(b"HEAD / HTTP/1.1\r\nHost: webcode.me\r\n"
 *               b"Accept: text/html\r\n\r\n")
 *     print(str(s.recv(1024), 'utf-8'))
 *
 * What sockit takes away:
 *   - One recv(1024) is not "the header": it may stop in the middle of a
 *     line, and a header over 1024 bytes is always cut. The header ends at
 *     the first empty line (RFC 9112 section 2.1), so we read until
 *     "\r\n\r\n" with skt_conn_read_until(), which buffers what it reads
 *     (one recv per buffer-full, not per byte) and caps the size (64 KiB)
 *     so a server cannot make us buffer without end.
 *   - The tutorial's request keeps the connection open (HTTP/1.1 default);
 *     we add "Connection: close" so the server does not wait on us either.
 *   - Every call has a timeout.
 *
 * usage: http_head HOST [PORT] [PATH]   (port 80, path /)
 */
#include <sockit/sockit.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG       "http_head"
#define TIMEOUT_MS 10000
#define HEADER_MAX ((size_t)64 << 10)

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

/* Print the response up to and including the empty line. */
static int print_header(skt_conn *c)
{
	const uint8_t *hdr;
	ssize_t n = skt_conn_read_until(c, "\r\n\r\n", 4, HEADER_MAX, &hdr);
	if (n < 0)
		return fail("read header", (int)n);
	fwrite(hdr, 1, (size_t)n, stdout);
	return 0;
}

static int head(skt_conn *c, const char *req)
{
	int err = skt_conn_write_all(c, req, strlen(req));
	if (err < 0)
		return fail("send", err);
	return print_header(c);
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

	char *req = build_request("HEAD", host, port, path);
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
	skt_conn *c;
	int err = skt_conn_new(&c, fd, 0);
	if (err < 0) {
		skt_close(fd);
		free(req);
		return fail("conn", err);
	}
	skt_conn_set_timeout(c, TIMEOUT_MS);
	int rc = head(c, req);
	skt_conn_free(c);
	free(req);
	return rc;
}
