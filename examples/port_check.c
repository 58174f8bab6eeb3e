/* port_check - tutorial "The socket Module for Low-Level Networking",
 * "Practical Example: Checking if a Port is Open":
 *
 *     sock.settimeout(2)
 *     result = sock.connect_ex(('8.8.8.8', 53))   # 0 means open
 *
 * What sockit takes away:
 *   - connect_ex() returns a bare errno number; skt_strerror() says why the
 *     port is closed (refused, timed out, unreachable).
 *   - connect_ex() still raises for a name that does not resolve; here the
 *     host is resolved once, up front, and a resolver failure is reported
 *     as such rather than as a closed port.
 *   - A socket cannot be reused after a failed connect, so a loop over
 *     ports in Python needs a new socket each time; skt_connect_any()
 *     makes one per attempt, tries every address of the host (v6 and v4,
 *     Happy Eyeballs), and bounds the whole attempt by the timeout.
 *
 * usage: port_check [--timeout MS] HOST PORT...   (timeout 2000 ms)
 * Prints "PORT open" or "PORT closed (reason)" per port; exits 0 only when
 * every port is open.
 */
#include <sockit/sockit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "port_check"

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--timeout MS] HOST PORT...\n");
	return 2;
}

/* Connect to every address of the host on port; 0 when one answered. */
static int check_port(const skt_addrlist *host, uint16_t port, int timeout_ms)
{
	/* A copy: the resolved list stays as it was for the next port. */
	skt_addr *addrs = malloc(host->n * sizeof *addrs);
	if (addrs == NULL)
		return SKT_ENOMEM;
	for (size_t i = 0; i < host->n; i++) {
		addrs[i] = host->addrs[i];
		skt_addr_set_port(&addrs[i], port);
	}
	skt_connect_opts opts = SKT_CONNECT_OPTS_INIT;
	opts.timeout_ms = timeout_ms;
	int fd = skt_connect_any(addrs, host->n, &opts);
	free(addrs);
	if (fd < 0)
		return fd;
	skt_close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int timeout_ms = 2000; /* the tutorial's settimeout(2) */
	int first = 1;

	if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
		char *end;
		long ms = strtol(argv[2], &end, 10);
		if (*end != '\0' || ms < 1 || ms > 3600000)
			return usage();
		timeout_ms = (int)ms;
		first = 3;
	}
	if (argc - first < 2)
		return usage();
	/* Check every port's syntax before touching the network. */
	for (int i = first + 1; i < argc; i++)
		if (skt_service_port(argv[i], SOCK_STREAM) <= 0)
			return usage();

	const char *host = argv[first];
	skt_addrlist list = {0};
	int err = skt_resolve(&list, host, NULL, AF_UNSPEC, SOCK_STREAM, 0);
	if (err < 0) {
		fprintf(stderr, PROG ": resolve %s: %s\n", host,
			skt_strerror(err));
		return 1;
	}

	int closed = 0;
	for (int i = first + 1; i < argc; i++) {
		int port = skt_service_port(argv[i], SOCK_STREAM);
		err = check_port(&list, (uint16_t)port, timeout_ms);
		if (err == 0) {
			printf("%s open\n", argv[i]);
		} else {
			printf("%s closed (%s)\n", argv[i], skt_strerror(err));
			closed++;
		}
		fflush(stdout);
	}
	skt_addrlist_fini(&list);
	return closed == 0 ? 0 : 1;
}
