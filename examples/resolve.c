/* resolve - tutorial "The socket Module for Low-Level Networking",
 * Example 3 (and get_ip.py of "Python Socket"): resolve a domain name.
 *
 *     ip_address = socket.gethostbyname(domain)
 *     print(ip_address)
 *
 * What sockit takes away: gethostbyname() knows only IPv4 and returns only
 * the first address, so a dual-stack host looks half-reachable and a
 * v6-only one looks broken. skt_resolve() returns every address of every
 * family in the order the system prefers (duplicates removed) and frees
 * with one call; its errors carry the resolver's own message instead of
 * h_errno.
 *
 * usage: resolve [-4|-6] [--numeric] [NAME]    (NAME defaults to localhost)
 *   --numeric  accept only an address literal: never asks DNS.
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <string.h>

#define PROG "resolve"

struct options {
	const char *name;
	int family;
	int flags;
};

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [-4|-6] [--numeric] [NAME]\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	o->name = "localhost";
	o->family = AF_UNSPEC;
	o->flags = 0;
	bool have_name = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-4") == 0) {
			o->family = AF_INET;
		} else if (strcmp(argv[i], "-6") == 0) {
			o->family = AF_INET6;
		} else if (strcmp(argv[i], "--numeric") == 0) {
			o->flags |= SKT_RESOLVE_NUMERIC;
		} else if (!have_name && argv[i][0] != '-') {
			o->name = argv[i];
			have_name = true;
		} else {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) < 0)
		return usage();

	/* No service: we want hosts, not ports. SOCK_STREAM keeps one entry
	 * per address instead of one per socket type. */
	skt_addrlist list = {0};
	int n = skt_resolve(&list, o.name, NULL, o.family, SOCK_STREAM,
			    o.flags);
	if (n < 0) {
		fprintf(stderr, PROG ": resolve %s: %s\n", o.name,
			skt_strerror(n));
		return 1;
	}
	for (size_t i = 0; i < list.n; i++) {
		char host[SKT_ADDRSTRLEN];
		skt_addr_format_host(&list.addrs[i], host, sizeof host);
		printf("%s\n", host);
	}
	skt_addrlist_fini(&list);
	return 0;
}
