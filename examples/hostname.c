/* hostname - tutorial "The socket Module for Low-Level Networking",
 * Example 2: print the local machine's name.
 *
 *     host_name = socket.gethostname()
 *     print(host_name)
 *
 * What sockit takes away: gethostname(2) may truncate a long name without
 * a terminating NUL (POSIX leaves it unspecified); skt_hostname() always
 * terminates and reports a name that does not fit as an error. --fqdn
 * gives Python's socket.getfqdn(), which in C means a getaddrinfo() call
 * with AI_CANONNAME and a fallback you would otherwise write yourself.
 *
 * usage: hostname [--fqdn]
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <string.h>

#define PROG "hostname"

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, skt_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	bool fqdn = false;

	if (argc == 2 && strcmp(argv[1], "--fqdn") == 0) {
		fqdn = true;
	} else if (argc != 1) {
		fprintf(stderr, "usage: " PROG " [--fqdn]\n");
		return 2;
	}

	/* A DNS name is at most 253 bytes (SKT_HOST_MAX), plus the NUL. */
	char name[SKT_HOST_MAX + 1];
	int n = fqdn ? skt_fqdn(name, sizeof name)
		     : skt_hostname(name, sizeof name);
	if (n < 0)
		return fail(fqdn ? "fqdn" : "gethostname", n);
	printf("%s\n", name);
	return 0;
}
